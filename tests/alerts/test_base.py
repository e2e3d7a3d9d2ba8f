"""The Notifier port's network-free notifiers, the alert predicates and the notifier factory."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from interlock.alerts import ConsoleNotifier, Notifier, RecordingNotifier, make_notifier
from interlock.alerts.base import is_acknowledged, is_alert, should_alert
from interlock.events import Event, EventType

if TYPE_CHECKING:
    from interlock.alerts.fake_slack import FakeSlack
    from interlock.ports import VirtualClock
    from interlock.store.factory import Store

T = EventType
NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)


def _event(type_: EventType, **kwargs: object) -> Event:
    return Event.create(
        type_,
        "gold-revenue",
        schedule_id="cron",
        date="2026-03-02",
        now=NOW,
        **kwargs,  # type: ignore[arg-type]
    )


def test_alert_predicates_follow_the_catalogue_and_the_ack() -> None:
    breach = _event(T.SLA_BREACH)
    acked = _event(T.SLA_BREACH, detail={"acknowledged": True})
    assert is_alert(breach) and should_alert(breach) and not is_acknowledged(breach)
    assert is_alert(acked) and is_acknowledged(acked) and not should_alert(acked)
    assert not is_alert(_event(T.JOB_TRIGGERED))
    assert not is_acknowledged(_event(T.SLA_BREACH, detail={"acknowledged": "yes"}))


def test_recording_notifier_keeps_every_event_and_never_holds_any_back() -> None:
    recording = RecordingNotifier()
    events = [
        _event(T.JOB_TRIGGERED),
        _event(T.JOB_FAILED),
        _event(T.SLA_BREACH, detail={"acknowledged": True}),
    ]
    for event in events:
        recording(event)
    assert isinstance(recording, Notifier)
    assert recording.events == events
    assert recording.alerts == [events[1]]
    assert recording.types() == [T.JOB_TRIGGERED, T.JOB_FAILED, T.SLA_BREACH]
    assert recording.flush() == 0
    assert repr(recording) == "<RecordingNotifier 3 events, 1 alerts>"
    recording.clear()
    assert recording.events == []


def test_console_notifier_prints_one_line_per_alert() -> None:
    out = io.StringIO()
    console = ConsoleNotifier(out)
    console.notify(_event(T.JOB_TRIGGERED))
    console.notify(_event(T.SLA_WARNING, message="SLA warning: 30 minutes left."))
    console.notify(_event(T.JOB_FAILED, message="The job failed."))
    console.notify(_event(T.SLA_BREACH, detail={"acknowledged": True}))
    console.notify(
        Event.create(T.INFRA_ALARM, "INFRASTRUCTURE", now=NOW, message="alarm: ALARM — errors")
    )
    assert console.flush() == 0
    assert out.getvalue().splitlines() == [
        "WARN 2026-03-02T10:00:00Z SLA_WARNING gold-revenue cron/2026-03-02: SLA warning: 30 minutes left.",
        "CRIT 2026-03-02T10:00:00Z JOB_FAILED gold-revenue cron/2026-03-02: The job failed.",
        "INFO 2026-03-02T10:00:00Z INFRA_ALARM INFRASTRUCTURE: alarm: ALARM — errors",
    ]


def test_console_notifier_can_print_every_event() -> None:
    out = io.StringIO()
    console = ConsoleNotifier(out, all_events=True)
    console(_event(T.JOB_TRIGGERED, message="launched"))
    console(_event(T.SLA_BREACH, message="late", detail={"acknowledged": True}))
    lines = out.getvalue().splitlines()
    assert lines[0].endswith("JOB_TRIGGERED gold-revenue cron/2026-03-02: launched")
    assert lines[1].endswith("SLA_BREACH gold-revenue cron/2026-03-02: late (acknowledged)")
    # the SLA monitor's own message already says it: once is enough
    console(_event(T.SLA_BREACH, message="late (acknowledged)", detail={"acknowledged": True}))
    assert out.getvalue().splitlines()[2].endswith(": late (acknowledged)")
    assert "(acknowledged) (acknowledged)" not in out.getvalue()
    assert repr(console) == "<ConsoleNotifier all events>"


def test_make_notifier_is_the_console_without_a_token(store: Store, clock: VirtualClock) -> None:
    notifier = make_notifier(store, clock, environ={})
    assert isinstance(notifier, ConsoleNotifier)


def test_make_notifier_is_slack_with_a_token(
    store: Store, clock: VirtualClock, fake: FakeSlack
) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_CHANNEL": "#alerts", "SLACK_BASE_URL": fake.url}
    notifier = make_notifier(store, clock, environ=env)
    assert type(notifier).__name__ == "SlackNotifier"
    notifier.notify(_event(T.JOB_FAILED))
    assert len(fake.posts()) == 2
    assert notifier.flush() == 0


def test_importing_alerts_does_not_import_slack_sdk() -> None:
    code = (
        "import sys, interlock.alerts as a\n"
        "a.ConsoleNotifier, a.RecordingNotifier, a.make_notifier, a.RunView, a.Outbox\n"
        "print('slack_sdk' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
