"""No alert lost, none posted twice, when Slack's answer is lost (issue 17, faults).

Slack has no idempotency key: a post whose answer never came may or may not be in Slack. The notifier
looks such a post up by its message metadata before it sends it again (see interlock.alerts.slack).
FakeSlack plays both cases: ``drop_replies`` (Slack posted, the answer was lost) and ``drop_requests``
(the connection died before Slack did anything); the client cannot tell them apart.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from slack_sdk import WebClient

from interlock.alerts.slack import (
    ALERT_METADATA,
    ROOT_METADATA,
    NoBlindResend,
    SlackNotifier,
    event_key,
)
from interlock.events import EventType
from tests.alerts.conftest import CHANNEL

if TYPE_CHECKING:
    from interlock.alerts.fake_slack import FakeSlack
    from interlock.ports import VirtualClock
    from interlock.store.factory import Store
    from tests.alerts.conftest import EmitEvent, MakeNotifier, Sleeps

T = EventType
READS = {"conversations.history", "conversations.replies", "conversations.list"}


def _types(fake: FakeSlack, thread_ts: str) -> list[str]:
    return [r.text.split("*")[1] for r in fake.replies(thread_ts)]


def _methods(fake: FakeSlack, since: int = 0) -> list[str]:
    return [c.method for c in fake.calls[since:]]


def test_a_lost_answer_on_the_root_post_starts_one_thread(
    fake: FakeSlack, notifier: SlackNotifier, emit: EmitEvent, store: Store
) -> None:
    # GIVEN Slack posting a run's first alert (its root) but the answer never arriving
    fake.drop_replies(1, method="chat.postMessage")
    # WHEN the alert is sent
    event = emit(T.SLA_BREACH)
    notifier.notify(event)
    # THEN the root is there once, found by its metadata, and the thread row names it
    [root] = fake.roots()
    assert root.metadata is not None and root.metadata["event_type"] == ROOT_METADATA
    assert root.metadata["event_payload"]["event_id"] == event_key(event)
    thread = store.events.get_thread("gold-revenue", "cron", "2026-03-02")
    assert thread is not None and (thread.ts, thread.channel) == (root.ts, root.channel)
    # the channel was given by name: its id was listed, then its history read from the event's time
    assert _methods(fake) == [
        "chat.postMessage",  # root, answer lost
        "conversations.list",
        "conversations.history",
        "chat.postMessage",  # the reply
    ]
    history = fake.calls[2].args
    assert float(history["oldest"]) == (event.timestamp - notifier.lookup_skew).timestamp()
    assert _types(fake, root.ts) == ["SLA_BREACH"]
    assert len(notifier.outbox) == 0


def test_a_post_lost_before_slack_did_it_is_posted_exactly_once(
    fake: FakeSlack, notifier: SlackNotifier, emit: EmitEvent
) -> None:
    # GIVEN a run's thread, and the connection dying before Slack handles the next reply
    notifier.notify(emit(T.SLA_WARNING))
    root = fake.roots()[0].ts
    fake.drop_requests(1, method="chat.postMessage")
    before = len(fake.calls)
    # WHEN the next alert is sent
    notifier.notify(emit(T.JOB_FAILED))
    # THEN the lookup finds nothing, so it is posted again: once
    assert _types(fake, root) == ["SLA_WARNING", "JOB_FAILED"]
    assert _methods(fake, before) == [
        "chat.update",
        "chat.postMessage",  # dropped unhandled
        "conversations.replies",
        "chat.postMessage",
    ]
    assert len(notifier.outbox) == 0


def test_a_lost_root_request_is_posted_exactly_once(
    fake: FakeSlack, notifier: SlackNotifier, emit: EmitEvent
) -> None:
    fake.channel_id(CHANNEL)  # the channel exists (the fake makes channels when first named)
    fake.drop_requests(1, method="chat.postMessage")

    notifier.notify(emit(T.SLA_BREACH))

    [root] = fake.roots()
    assert _types(fake, root.ts) == ["SLA_BREACH"]
    # not re-sent blindly by slack-sdk: looked up (and not found) first
    assert _methods(fake)[:4] == [
        "chat.postMessage",
        "conversations.list",
        "conversations.history",
        "chat.postMessage",
    ]


@pytest.mark.parametrize("slack_posted", [True, False], ids=["posted", "not-posted"])
def test_a_lost_answer_then_an_outage_waits_marked_and_the_flush_looks_first(
    slack_posted: bool,
    fake: FakeSlack,
    notifier: SlackNotifier,
    make_notifier: MakeNotifier,
    emit: EmitEvent,
    clock: VirtualClock,
) -> None:
    # GIVEN a run's thread; the next reply's answer is lost (Slack did or did not post it) and Slack
    # then fails the lookup too (500 three times: slack-sdk retries a read twice)
    notifier.notify(emit(T.SLA_WARNING))
    root = fake.roots()[0].ts
    if slack_posted:
        fake.drop_replies(1, method="chat.postMessage")
    else:
        fake.drop_requests(1, method="chat.postMessage")
    fake.fail_next(3, status=500, method="conversations.replies")
    # WHEN the next alert is sent
    notifier.notify(emit(T.JOB_FAILED))
    # THEN it waits in the outbox, marked as maybe posted
    [entry] = notifier.outbox.pending()
    assert entry.event.type is T.JOB_FAILED and entry.maybe_posted
    assert entry.last_error == "conversations.replies: fatal_error"
    # WHEN a restarted notifier flushes it after the backoff
    clock.advance(timedelta(minutes=1))
    restarted = make_notifier()
    before = len(fake.calls)
    assert restarted.flush() == 1
    # THEN it looked the reply up before posting, and the thread holds it exactly once
    calls = _methods(fake, before)
    assert calls[:2] == ["chat.update", "conversations.replies"]
    assert calls.count("chat.postMessage") == (0 if slack_posted else 1)
    assert _types(fake, root) == ["SLA_WARNING", "JOB_FAILED"]
    assert len(restarted.outbox) == 0


def test_an_unmarked_outbox_entry_is_posted_without_a_lookup(
    fake: FakeSlack, notifier: SlackNotifier, emit: EmitEvent
) -> None:
    # an alert refused for a reason that cannot have posted it is not looked up when flushed
    notifier.notify(emit(T.SLA_WARNING))
    fake.fail_next(1, error="not_in_channel", method="chat.postMessage")
    notifier.notify(emit(T.JOB_FAILED))
    [entry] = notifier.outbox.pending()
    assert not entry.maybe_posted
    before = len(fake.calls)

    assert notifier.flush() == 1

    assert _methods(fake, before) == ["chat.update", "chat.postMessage"]


def test_a_server_error_on_a_post_is_looked_up_before_it_is_sent_again(
    fake: FakeSlack, notifier: SlackNotifier, emit: EmitEvent
) -> None:
    notifier.notify(emit(T.SLA_WARNING))
    root = fake.roots()[0].ts
    before = len(fake.calls)
    fake.fail_next(1, status=500, method="chat.postMessage")  # Slack may have posted it

    notifier.notify(emit(T.JOB_FAILED))

    assert _methods(fake, before) == [
        "chat.update",
        "chat.postMessage",  # 500: not re-sent by slack-sdk
        "conversations.replies",
        "chat.postMessage",
    ]
    assert _types(fake, root) == ["SLA_WARNING", "JOB_FAILED"]


def test_rate_limit_on_a_post_honours_retry_after_without_lookups(
    fake: FakeSlack, notifier: SlackNotifier, emit: EmitEvent, sleeps: Sleeps
) -> None:
    notifier.notify(emit(T.SLA_WARNING))
    root = fake.roots()[0].ts
    before = len(fake.calls)
    # GIVEN Slack rate-limiting the reply twice: 429 with Retry-After: 3 (nothing was posted)
    fake.fail_next(2, status=429, retry_after=3, method="chat.postMessage")

    notifier.notify(emit(T.JOB_FAILED))

    # THEN slack-sdk waited Retry-After (on the injected sleep, never the wall clock) and re-sent
    assert sleeps.waits == [3.0, 3.0]
    assert [(c.method, c.status) for c in fake.calls[before:]] == [
        ("chat.update", 200),
        ("chat.postMessage", 429),
        ("chat.postMessage", 429),
        ("chat.postMessage", 200),
    ]
    assert not READS & set(_methods(fake))  # a 429 is not ambiguous: no lookup
    assert _types(fake, root) == ["SLA_WARNING", "JOB_FAILED"]


def test_a_client_with_slack_sdks_default_handlers_is_guarded(
    fake: FakeSlack, store: Store, clock: VirtualClock, emit: EmitEvent
) -> None:
    # GIVEN a client built elsewhere with slack-sdk's defaults (it retries a reset connection)
    client = WebClient(token="xoxb-test", base_url=fake.url)
    notifier = SlackNotifier(client, CHANNEL, store.events, clock)
    SlackNotifier(client, CHANNEL, store.events, clock)  # a second notifier wraps nothing again
    [handler] = client.retry_handlers
    assert isinstance(handler, NoBlindResend)
    assert type(handler.inner).__name__ == "ConnectionErrorRetryHandler"
    notifier.notify(emit(T.SLA_WARNING))
    root = fake.roots()[0].ts
    fake.drop_replies(1, method="chat.postMessage")

    notifier.notify(emit(T.JOB_FAILED))

    assert _types(fake, root) == ["SLA_WARNING", "JOB_FAILED"]


def test_a_standalone_alert_with_a_lost_answer_is_posted_once(
    fake: FakeSlack, notifier: SlackNotifier, emit: EmitEvent
) -> None:
    notifier.notify(emit(T.CONFIG_INVALID, date=None, detail={"file": "a.yaml"}))
    fake.drop_replies(1, method="chat.postMessage")

    event = emit(T.CONFIG_INVALID, date=None, detail={"file": "b.yaml"})
    notifier.notify(event)

    roots = fake.roots()
    assert len(roots) == 2
    assert roots[1].metadata == {
        "event_type": ALERT_METADATA,
        "event_payload": {
            "event_id": event_key(event),
            "event": "CONFIG_INVALID",
            "pipeline": "gold-revenue",
            "period": "",
        },
    }
    # the channel id was learnt from the first post: no conversations.list
    assert "conversations.list" not in _methods(fake)


def test_without_the_history_scope_the_alert_is_posted_again_not_lost(
    fake: FakeSlack, notifier: SlackNotifier, emit: EmitEvent, caplog: pytest.LogCaptureFixture
) -> None:
    notifier.notify(emit(T.SLA_WARNING))
    root = fake.roots()[0].ts
    fake.drop_replies(1, method="chat.postMessage")
    # the lookup is refused, as for a bot without channels:history
    fake.fail_next(1, error="missing_scope", method="conversations.replies")
    caplog.set_level(logging.WARNING, logger="interlock.alerts.slack")

    notifier.notify(emit(T.JOB_FAILED))

    assert [c.error for c in fake.calls if c.method == "conversations.replies"] == ["missing_scope"]
    assert _types(fake, root) == ["SLA_WARNING", "JOB_FAILED", "JOB_FAILED"]  # at least once
    assert "channels:history" in caplog.text


def test_a_channel_given_by_id_is_read_without_listing_channels(
    fake: FakeSlack, store: Store, clock: VirtualClock, client: WebClient, emit: EmitEvent
) -> None:
    # the AWS runtime's SLACK_CHANNEL_ID is an id: no conversations.list (nor channels:read) needed
    channel = fake.channel_id(CHANNEL)
    notifier = SlackNotifier(client, channel, store.events, clock)
    fake.drop_replies(1, method="chat.postMessage")

    notifier.notify(emit(T.SLA_BREACH))

    assert _methods(fake) == ["chat.postMessage", "conversations.history", "chat.postMessage"]
    assert fake.calls[1].args["channel"] == channel
    [root] = fake.roots()
    assert _types(fake, root.ts) == ["SLA_BREACH"]
