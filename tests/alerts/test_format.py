"""What Slack shows: the root's run view folded from events, replies, hints and escaping (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from interlock.alerts.format import (
    SECTION_LIMIT,
    RunView,
    Tone,
    action_hint,
    escape,
    reply_message,
    root_message,
)
from interlock.events import Event, EventType

T = EventType
NOW = datetime(2026, 3, 2, 8, tzinfo=UTC)


def _events(*types: EventType, **kwargs: Any) -> list[Event]:
    return [
        Event.create(
            t,
            "gold-revenue",
            schedule_id="cron",
            date="2026-03-02",
            now=NOW + timedelta(minutes=i),
            **kwargs,
        )
        for i, t in enumerate(types)
    ]


@pytest.mark.parametrize(
    ("types", "state", "sla", "tone"),
    [
        ((T.VALIDATION_PASSED, T.JOB_TRIGGERED), "running", None, Tone.ACTIVE),
        ((T.JOB_TRIGGERED, T.SLA_WARNING), "running", "warning", Tone.WARN),
        ((T.JOB_TRIGGERED, T.SLA_BREACH, T.JOB_FAILED), "failed", "breached", Tone.BAD),
        ((T.JOB_TRIGGERED, T.SLA_BREACH, T.JOB_COMPLETED), "completed", "breached", Tone.WARN),
        ((T.JOB_TRIGGERED, T.JOB_COMPLETED, T.SLA_MET), "completed", "met", Tone.OK),
        ((T.JOB_COMPLETED, T.SLA_MET, T.RERUN_ACCEPTED), "rerunning", None, Tone.ACTIVE),
        ((T.SLA_WARNING,), "—", "warning", Tone.WARN),
        ((T.JOB_TRIGGERED, T.RERUN_REJECTED), "running", None, Tone.ACTIVE),
    ],
)
def test_run_view_folds_events(
    types: tuple[EventType, ...], state: str, sla: str | None, tone: Tone
) -> None:
    view = RunView.of(_events(*types))
    assert (view.state, view.sla, view.tone) == (state, sla, tone)
    assert view.last_event is types[-1]


def test_a_failure_an_automatic_retry_follows_is_shown_as_retrying_until_the_next_state() -> None:
    # GIVEN a run whose job failed with an automatic retry to follow
    trig, failed, again, final = _events(
        T.JOB_TRIGGERED, T.JOB_FAILED, T.JOB_TRIGGERED, T.JOB_FAILED
    )
    failed = failed.model_copy(update={"detail": {"willRetry": True, "retry": 1, "maxRetries": 1}})
    # THEN the root says so, as a warning rather than a page, and keeps it across a restart
    view = RunView.of([trig, failed])
    assert (view.state, view.tone) == ("failed, retrying", Tone.WARN)
    assert "— failed, retrying" in root_message(view).text
    assert RunView.from_item(view.to_item(), failed) == view
    # and once the retry runs and fails for good, it is a failure again
    assert RunView.of([trig, failed, again]).state == "running"
    assert (
        RunView.of([trig, failed, again, final]).state,
        RunView.of([trig, failed, again, final]).tone,
    ) == ("failed", Tone.BAD)


def test_an_acked_refire_keeps_showing_the_ack() -> None:
    breach, ack, refire = _events(T.SLA_BREACH, T.SLA_ACKNOWLEDGED, T.SLA_BREACH)
    ack = ack.model_copy(update={"actor": "alice", "detail": {"until": "12:00"}})
    refire = refire.model_copy(update={"detail": {"acknowledged": True}})
    view = RunView.of([breach, ack, refire])
    assert view.sla == "acknowledged by alice until 12:00"


def test_run_view_round_trips_through_the_thread_row() -> None:
    events = _events(T.JOB_TRIGGERED, T.SLA_WARNING)
    view = RunView.of(events)
    assert RunView.from_item(view.to_item(), events[-1]) == view
    assert RunView.from_item({}, events[-1]) is None
    assert (
        RunView.from_item({"lastEvent": "NOPE", "lastAt": "2026-03-02T08:00:00Z"}, events[-1])
        is None
    )


def test_run_view_needs_a_run_event() -> None:
    with pytest.raises(ValueError, match="at least one"):
        RunView.of([])
    with pytest.raises(ValueError, match="not tied to a run"):
        RunView.of([Event.create(T.CONFIG_INVALID, "p", now=NOW)])


def test_root_message_is_readable_text_with_blocks() -> None:
    message = root_message(RunView.of(_events(T.JOB_TRIGGERED, T.SLA_BREACH)))
    assert message.text == (
        "🚨 *gold-revenue* · 2026-03-02 (cron) — running\n"
        "SLA: breached\n"
        "Last update: SLA_BREACH at 2026-03-02T08:01:00Z"
    )
    assert [b["type"] for b in message.blocks] == ["section", "context"]


@pytest.mark.parametrize(
    ("event_type", "detail", "hint"),
    [
        (T.SLA_BREACH, {}, "ack with `interlock ack gold-revenue --period 2026-03-02 --reason …`"),
        (
            T.JOB_FAILED,
            {},
            "rerun with `interlock rerun gold-revenue --period 2026-03-02 --reason …`",
        ),
        (T.SFN_TIMEOUT, {"actionHint": "check the execution"}, "check the execution"),
        (T.JOB_COMPLETED, {}, None),
    ],
)
def test_action_hints(event_type: EventType, detail: dict[str, Any], hint: str | None) -> None:
    [event] = _events(event_type, detail=detail)
    assert action_hint(event) == hint


def test_rerun_rejected_shows_the_budget() -> None:
    [event] = _events(T.RERUN_REJECTED, detail={"rerunCount": 2, "budget": 2})
    text = reply_message(event).text
    assert "Budget: 2/2" in text
    assert "the rerun budget is spent (2 of 2 used)" in text


def test_reply_escapes_and_truncates_the_block() -> None:
    [event] = _events(T.JOB_FAILED, message="<!channel> & " + "x" * 4000)
    message = reply_message(event)
    assert "&lt;!channel&gt; &amp; " in message.text
    section = message.blocks[0]["text"]["text"]
    assert len(section) == SECTION_LIMIT and section.endswith("…")
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c"


def test_warning_reply_shows_warning_and_breach_times() -> None:
    [event] = _events(
        T.SLA_WARNING,
        detail={"warningAt": "09:30", "breachAt": "10:00", "source": "sla-monitor"},
    )
    lines = reply_message(event).text.splitlines()
    assert lines[0] == "⚠️ *SLA_WARNING* | gold-revenue | 2026-03-02"
    assert "warning at 09:30, breach at 10:00 · Source: sla-monitor" in lines
