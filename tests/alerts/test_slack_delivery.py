"""Retries, the durable outbox and flush(): an alert Slack cannot take now is delivered later, in order."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from slack_sdk import WebClient

from interlock.alerts.base import AlertConfigError
from interlock.alerts.outbox import Outbox
from interlock.alerts.slack import SlackNotifier, slack_retry_handlers
from interlock.events import EventType

if TYPE_CHECKING:
    from interlock.alerts.fake_slack import FakeSlack
    from interlock.ports import VirtualClock
    from interlock.store.factory import Store
    from tests.alerts.conftest import EmitEvent, Sleeps

T = EventType


def _types(fake: FakeSlack, thread_ts: str) -> list[str]:
    return [r.text.split("*")[1] for r in fake.replies(thread_ts)]


def test_rate_limit_then_success_is_retried_transparently(
    fake: FakeSlack, notifier: SlackNotifier, emit: EmitEvent, sleeps: Sleeps
) -> None:
    fake.fail_next(2, status=429)  # Retry-After: 0

    notifier.notify(emit(T.SLA_WARNING))

    assert [c.status for c in fake.calls] == [429, 429, 200, 200]
    assert sleeps.waits == [0.0, 0.0]  # slack-sdk's handler honoured Retry-After, no wall clock
    assert len(fake.replies(fake.roots()[0].ts)) == 1
    assert len(notifier.outbox) == 0


def test_server_errors_are_retried_by_slack_sdk(
    fake: FakeSlack, notifier: SlackNotifier, emit: EmitEvent
) -> None:
    fake.fail_next(2, status=500)

    notifier.notify(emit(T.JOB_FAILED))

    assert len(fake.posts()) == 2 and len(notifier.outbox) == 0


def test_a_long_retry_after_is_left_to_the_outbox(
    fake: FakeSlack, notifier: SlackNotifier, emit: EmitEvent, sleeps: Sleeps
) -> None:
    fake.fail_next(1, status=429, retry_after=120)

    notifier.notify(emit(T.SLA_WARNING))

    assert sleeps.waits == []  # the tick did not block for two minutes
    assert len(notifier.outbox) == 1


def test_persistent_failure_keeps_the_event_and_flush_delivers_in_order(
    fake: FakeSlack, notifier: SlackNotifier, emit: EmitEvent, clock: VirtualClock, store: Store
) -> None:
    # GIVEN a run whose thread exists
    notifier.notify(emit(T.SLA_WARNING))
    root = fake.roots()[0]
    # WHEN Slack fails every try (3 per request: slack-sdk retries twice) for the next event
    fake.fail_next(3, status=500)
    notifier.notify(emit(T.JOB_FAILED))
    # THEN the event is kept in the outbox, with why
    [entry] = Outbox(store.tables["events"]).pending()
    assert entry.event.type is T.JOB_FAILED
    assert entry.attempts == 1 and entry.last_error == "chat.update: fatal_error"
    # and a later event of the same run queues behind it rather than overtaking it; the notifier
    # tries the queue first (the backoff has passed: a minute went by), which still fails
    fake.fail_next(3, status=500)
    notifier.notify(emit(T.RERUN_ACCEPTED))
    assert _types(fake, root.ts) == ["SLA_WARNING"]
    assert [e.event.type for e in notifier.outbox.pending()] == [T.JOB_FAILED, T.RERUN_ACCEPTED]
    calls = len(fake.calls)
    assert notifier.flush() == 0  # still backing off after the outage: no Slack call is made
    assert len(fake.calls) == calls
    # WHEN the backoff has passed and the runtime's tick flushes
    clock.advance(timedelta(minutes=1))
    assert notifier.flush() == 2
    # THEN both are delivered in order, into the same thread, and the outbox is empty
    assert _types(fake, root.ts) == ["SLA_WARNING", "JOB_FAILED", "RERUN_ACCEPTED"]
    assert len(fake.roots()) == 1
    assert "rerunning" in root.text
    assert len(notifier.outbox) == 0
    assert notifier.flush() == 0


def test_a_failed_run_recovers_in_order_when_its_next_event_arrives(
    fake: FakeSlack, notifier: SlackNotifier, emit: EmitEvent
) -> None:
    fake.fail_next(1, error="channel_not_found")
    notifier.notify(emit(T.SLA_WARNING, date="2026-03-01"))  # refused: queued
    assert len(notifier.outbox) == 1
    notifier.notify(emit(T.SLA_WARNING, date="2026-03-02"))  # another run: delivered at once
    notifier.notify(emit(T.JOB_FAILED, date="2026-03-01"))  # queued behind, then both flushed

    roots = fake.roots()
    assert ["2026-03-01" in r.text for r in roots] == [False, True]
    assert _types(fake, roots[1].ts) == ["SLA_WARNING", "JOB_FAILED"]
    assert len(notifier.outbox) == 0


def test_flush_skips_a_blocked_run_but_delivers_others(
    fake: FakeSlack, notifier: SlackNotifier, emit: EmitEvent, store: Store
) -> None:
    outbox = notifier.outbox
    first = emit(T.SLA_WARNING, date="2026-03-01")
    second = emit(T.JOB_FAILED, date="2026-03-01")
    other = emit(T.SLA_WARNING, date="2026-03-02")
    for event in (first, second, other):
        outbox.add(event, now=event.timestamp)
    fake.fail_next(1, error="not_in_channel")  # the first try fails with an error about the request

    assert notifier.flush() == 1  # the other run; the blocked run's second event did not overtake

    assert [e.event for e in outbox.pending()] == [first, second]
    assert [e.attempts for e in outbox.pending()] == [1, 0]
    assert notifier.flush() == 2
    assert len(outbox) == 0


def test_slack_unreachable_queues_and_a_later_notifier_flushes(
    fake: FakeSlack, emit: EmitEvent, clock: VirtualClock, store: Store
) -> None:
    # GIVEN a client pointed at a port nobody listens on (Slack unreachable)
    fake_url = fake.url
    fake.stop()
    handlers = slack_retry_handlers(max_retries=0)
    dead = SlackNotifier(
        WebClient(token="xoxb-test", base_url=fake_url, retry_handlers=handlers),
        "#data-alerts",
        store.events,
        clock,
    )
    dead.notify(emit(T.SLA_BREACH))
    dead.notify(emit(T.JOB_FAILED))  # queued behind the first, which is tried again and fails
    assert len(dead.outbox) == 2
    assert "URLError" in (dead.outbox.pending()[0].last_error or "")
    # WHEN the process restarts with Slack reachable again
    fake.start()  # on a new port
    client = WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=handlers)
    restarted = SlackNotifier(client, "#data-alerts", store.events, clock)
    delivered = restarted.flush()
    # THEN nothing was lost
    assert delivered == 2
    assert _types(fake, fake.roots()[0].ts) == ["SLA_BREACH", "JOB_FAILED"]


def test_from_env_returns_none_without_a_token(store: Store, clock: VirtualClock) -> None:
    assert SlackNotifier.from_env(store, clock) is None
    assert SlackNotifier.from_env(store, clock, environ={"SLACK_CHANNEL": "#x"}) is None


def test_from_env_needs_a_channel_with_a_token(store: Store, clock: VirtualClock) -> None:
    with pytest.raises(AlertConfigError, match="SLACK_CHANNEL"):
        SlackNotifier.from_env(store, clock, environ={"SLACK_BOT_TOKEN": "xoxb-test"})


def test_from_env_talks_to_the_fake(
    fake: FakeSlack,
    store: Store,
    clock: VirtualClock,
    emit: EmitEvent,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_CHANNEL", "#data-alerts")
    monkeypatch.setenv("SLACK_BASE_URL", fake.url.rstrip("/"))

    notifier = SlackNotifier.from_env(store, clock)

    assert notifier is not None
    assert notifier.client.auth_test()["team"] == "interlock-test"
    notifier.notify(emit(T.JOB_FAILED))
    assert len(fake.posts()) == 2


def test_a_lost_answer_after_slack_posted_neither_loses_nor_doubles_the_alert(
    fake: FakeSlack, notifier: SlackNotifier, emit: EmitEvent
) -> None:
    # GIVEN a run's thread, and Slack posting the next reply but its answer never arriving (a
    # timeout, a reset connection)
    notifier.notify(emit(T.SLA_WARNING))
    root = fake.roots()[0].ts
    fake.drop_replies(1, method="chat.postMessage")
    # WHEN the next alert is sent (and whatever the outbox kept is flushed)
    notifier.notify(emit(T.JOB_FAILED))
    notifier.flush()
    # THEN it is in the thread once: the thread was read instead of posting again
    assert _types(fake, root) == ["SLA_WARNING", "JOB_FAILED"]
    assert [c.method for c in fake.calls[-2:]] == ["chat.postMessage", "conversations.replies"]
    assert len(notifier.outbox) == 0
