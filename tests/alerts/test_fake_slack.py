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
