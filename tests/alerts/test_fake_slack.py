"""FakeSlack answers slack-sdk as Slack does: methods, ids, threads, errors and 429s."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from interlock.alerts.fake_slack import FakeSlack
from interlock.alerts.outbox import Outbox

if TYPE_CHECKING:
    from interlock.store.factory import Store


def test_post_update_delete_and_threads(fake: FakeSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=fake.url)
    root = client.chat_postMessage(channel="#alerts", text="root")
    reply = client.chat_postMessage(channel=root["channel"], text="reply", thread_ts=root["ts"])
    assert float(reply["ts"]) > float(root["ts"])
    client.chat_update(channel=root["channel"], ts=root["ts"], text="root v2")
    assert fake.messages[root["ts"]].versions == ["root", "root v2"]
    assert [m.text for m in fake.replies(root["ts"])] == ["reply"]
    with pytest.raises(SlackApiError) as err:  # chat.update wants the channel id, as Slack does
        client.chat_update(channel="#alerts", ts=root["ts"], text="x")
    assert err.value.response["error"] == "channel_not_found"
    client.chat_delete(channel=root["channel"], ts=root["ts"])
    assert fake.roots() == []
    assert repr(fake).startswith("<FakeSlack")


def test_scripted_failures_and_auth(fake: FakeSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])
    fake.fail_next(1, error="channel_not_found")
    fake.fail_next(1, status=429)
    fake.fail_next(1, status=500)
    for status, error in ((200, "channel_not_found"), (429, "ratelimited"), (500, "fatal_error")):
        with pytest.raises(SlackApiError) as err:
            client.chat_postMessage(channel="#alerts", text="x")
        assert (err.value.response.status_code, err.value.response["error"]) == (status, error)
    assert fake.calls[1].status == 429
    assert client.auth_test()["ok"] is True
    with pytest.raises(SlackApiError, match="invalid_auth"):
        WebClient(token="nope", base_url=fake.url).auth_test()
    with pytest.raises(SlackApiError, match="thread_not_found"):
        client.chat_postMessage(channel="#alerts", text="x", thread_ts="1.0")


def test_fake_needs_starting() -> None:
    with pytest.raises(RuntimeError, match="start"):
        _ = FakeSlack().url


def test_an_unreadable_outbox_row_is_left_in_place(store: Store) -> None:
    table = store.tables["events"]
    table.put({"PK": "OUTBOX#SLACK", "SK": "MSG#000000000001", "event": "{not json"})
    outbox = Outbox(table)
    assert outbox.pending() == []
    assert len(outbox) == 1


def test_reads_return_metadata_only_when_asked_and_take_channel_ids(fake: FakeSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])
    meta = {"event_type": "interlock_alert", "event_payload": {"event_id": "abc"}}
    root = client.chat_postMessage(channel="#alerts", text="root", metadata=meta)
    reply = client.chat_postMessage(
        channel=root["channel"], text="reply", thread_ts=root["ts"], metadata=meta
    )
    cid = root["channel"]
    # conversations.history: top-level messages only; metadata only with include_all_metadata
    plain = client.conversations_history(channel=cid)
    assert [m["ts"] for m in plain["messages"]] == [root["ts"]]
    assert "metadata" not in plain["messages"][0]
    assert plain["messages"][0]["reply_count"] == 1
    full = client.conversations_history(channel=cid, include_all_metadata=True)
    assert full["messages"][0]["metadata"] == meta
    # names are refused by the reads, as by Slack
    with pytest.raises(SlackApiError, match="channel_not_found"):
        client.conversations_history(channel="#alerts")
    # conversations.replies: the parent, then the replies
    thread = client.conversations_replies(channel=cid, ts=root["ts"], include_all_metadata=True)
    assert [m["ts"] for m in thread["messages"]] == [root["ts"], reply["ts"]]
    assert thread["messages"][1]["metadata"] == meta
    with pytest.raises(SlackApiError, match="thread_not_found"):
        client.conversations_replies(channel=cid, ts="1.000001")
    # conversations.list names the channel
    listed = client.conversations_list()
    assert [(c["id"], c["name"]) for c in listed["channels"]] == [(cid, "alerts")]


def test_history_is_newest_first_bounded_by_oldest_and_paginated() -> None:
    now = [1000.0]
    with FakeSlack(clock=lambda: now[0]) as fake:
        client = WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])
        posted = []
        for i in range(5):
            posted.append(client.chat_postMessage(channel="#a", text=str(i))["ts"])
            now[0] += 10
        assert posted[:2] == ["1000.000000", "1010.000000"]
        cid = fake.channel_id("#a")
        # oldest is exclusive unless inclusive is set
        after = client.conversations_history(channel=cid, oldest="1020.000000")
        assert [m["text"] for m in after["messages"]] == ["4", "3"]
        inclusive = client.conversations_history(channel=cid, oldest="1020", inclusive=True)
        assert [m["text"] for m in inclusive["messages"]] == ["4", "3", "2"]
        first = client.conversations_history(channel=cid, limit=2)
        assert [m["text"] for m in first["messages"]] == ["4", "3"] and first["has_more"]
        cursor = first["response_metadata"]["next_cursor"]
        second = client.conversations_history(channel=cid, limit=2, cursor=cursor)
        assert [m["text"] for m in second["messages"]] == ["2", "1"]
        # a clock that stands still still gives increasing ts values
        a = client.chat_postMessage(channel="#a", text="x")["ts"]
        b = client.chat_postMessage(channel="#a", text="y")["ts"]
        assert float(b) > float(a)


def test_dropped_requests_do_nothing_and_failures_can_target_a_method(fake: FakeSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])
    fake.drop_requests(1, method="chat.postMessage")
    with pytest.raises(ConnectionError):  # RemoteDisconnected: the answer never came
        client.chat_postMessage(channel="#alerts", text="x")
    assert fake.roots() == [] and fake.calls[-1].error == "dropped"
    fake.fail_next(1, error="not_in_channel", method="chat.postMessage")
    assert client.auth_test()["ok"] is True  # another method is answered as usual
    with pytest.raises(SlackApiError, match="not_in_channel"):
        client.chat_postMessage(channel="#alerts", text="x")
    with pytest.raises(SlackApiError, match="invalid_metadata_format"):
        client.chat_postMessage(channel="#alerts", text="x", metadata={"event_type": "x"})
