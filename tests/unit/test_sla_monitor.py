"""Tests for ``interlock.lifecycle.sla_monitor``: timer names and plans, fired alerts, verdicts, projections."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from interlock.config.models import PipelineConfig
from interlock.events import EventType
from interlock.exceptions import SLAError
from interlock.lifecycle.actions import (
    CancelTimer,
    Claim,
    Decision,
    PublishEvent,
    RunRef,
    ScheduleTimer,
)
from interlock.lifecycle.sla_monitor import (
    MAX_TIMER_NAME,
    cancel_sla_timers,
    decide_sla_alert,
    decide_sla_verdict,
    plan_sla_timers,
    sla_projection,
    sla_timer_name,
)
from interlock.records import RunRow, RunStatus
from interlock.schedule import Period

NY = "America/New_York"
LONDON = "Europe/London"


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def config(
    sla: dict[str, Any] | None,
    *,
    cron: str | None = None,
    tz: str = "UTC",
    dry_run: bool = False,
    pid: str = "orders",
) -> PipelineConfig:
    schedule: dict[str, Any] = {"trigger": {"key": "orders"}, "timezone": tz}
    if cron:
        schedule["cron"] = cron
    doc: dict[str, Any] = {
        "pipeline": {"id": pid},
        "schedule": schedule,
        "job": {"type": "command", "config": {"command": "true"}},
        "dryRun": dry_run,
    }
    if sla is not None:
        doc["sla"] = sla
    return PipelineConfig.model_validate(doc)


DAILY = {"deadline": "08:00", "expectedDuration": "30m"}
CRON = config(DAILY, cron="0 6 * * *")
STREAM = config(DAILY)
RUN = RunRef("orders", "cron", "2026-03-28")


def timers(actions: tuple[Any, ...]) -> list[tuple[str, datetime]]:
    return [(a.name, a.at) for a in actions if isinstance(a, ScheduleTimer)]


def events(d: Decision) -> list[EventType]:
    return [a.type for a in d.actions if isinstance(a, PublishEvent)]


def the_event(d: Decision) -> PublishEvent:
    found = [a for a in d.actions if isinstance(a, PublishEvent)]
    assert len(found) == 1
    return found[0]


def row(
    status: RunStatus, *, finished: datetime | None = None, period: str = "2026-03-28"
) -> RunRow:
    return RunRow("orders", "cron", period, status, attempt=1, finished_at=finished)


# ------------------------------------------------------------------------------------------- names


def test_timer_name_is_readable_for_plain_ids() -> None:
    assert (
        sla_timer_name("orders", "stream", "2026-03-07T10", "warning")
        == "orders-stream-2026-03-07T10-sla-warning"
    )


@pytest.mark.parametrize("kind", ["warning", "breach", "relative-warning", "relative-breach"])
def test_timer_name_of_a_long_id_fits_64_and_keeps_the_suffix(kind: Any) -> None:
    name = sla_timer_name("p" * 64, "stream", "2026-03-07T10", kind)
    assert len(name) <= MAX_TIMER_NAME
    assert re.fullmatch(r"[A-Za-z0-9_-]+", name)
    assert name.endswith(f"-stream-2026-03-07T10-sla-{kind}")


def test_timer_names_of_ids_that_sanitise_alike_differ() -> None:
    a = sla_timer_name("gold.revenue", "cron", "2026-03-07", "breach")
    b = sla_timer_name("gold_revenue", "cron", "2026-03-07", "breach")
    assert a != b
    assert re.fullmatch(r"[A-Za-z0-9_-]+", a)
    assert b == "gold_revenue-cron-2026-03-07-sla-breach"


def test_timer_name_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown SLA timer kind"):
        sla_timer_name("orders", "cron", "2026-03-07", "late")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------- plans


def test_plan_daily_cron_deadline_schedules_warning_and_breach_with_payload() -> None:
    actions = plan_sla_timers(CRON, RUN, now=utc(2026, 3, 28, 6), arrived_at=None)
    assert actions == (
        ScheduleTimer(
            "orders-cron-2026-03-28-sla-warning",
            utc(2026, 3, 28, 7, 30),
            {
                "kind": "sla",
                "alert": "warning",
                "pipelineId": "orders",
                "scheduleId": "cron",
                "period": "2026-03-28",
                "at": "2026-03-28T07:30:00Z",
                "breachAt": "2026-03-28T08:00:00Z",
                "warningAt": "2026-03-28T07:30:00Z",
                "deadline": "08:00",
            },
        ),
        ScheduleTimer(
            "orders-cron-2026-03-28-sla-breach",
            utc(2026, 3, 28, 8),
            {
                "kind": "sla",
                "alert": "breach",
                "pipelineId": "orders",
                "scheduleId": "cron",
                "period": "2026-03-28",
                "at": "2026-03-28T08:00:00Z",
                "breachAt": "2026-03-28T08:00:00Z",
                "warningAt": "2026-03-28T07:30:00Z",
                "deadline": "08:00",
            },
        ),
    )


def test_plan_sensor_daily_pipeline_is_one_day_later() -> None:
    run = RunRef("orders", "stream", "2026-03-31")
    assert timers(plan_sla_timers(STREAM, run, now=utc(2026, 4, 1), arrived_at=None)) == [
        ("orders-stream-2026-03-31-sla-warning", utc(2026, 4, 1, 7, 30)),
        ("orders-stream-2026-03-31-sla-breach", utc(2026, 4, 1, 8)),
    ]


@pytest.mark.parametrize(
    ("period", "breach"),
    [
        ("2026-03-07", utc(2026, 3, 7, 14)),  # EST, the day before spring-forward
        ("2026-03-08", utc(2026, 3, 8, 13)),  # EDT from 02:00 that day
        ("2026-11-01", utc(2026, 11, 1, 14)),  # EST again after fall-back
    ],
)
def test_plan_daily_deadline_in_new_york_across_dst(period: str, breach: datetime) -> None:
    cfg = config({"deadline": "09:00", "expectedDuration": "1h"}, cron="0 6 * * *", tz=NY)
    got = timers(
        plan_sla_timers(cfg, RunRef("orders", "cron", period), now=breach, arrived_at=None)
    )
    assert [at for _, at in got] == [breach - timedelta(hours=1), breach]


def test_plan_hourly_deadline_is_next_hour_plus_minutes() -> None:
    cfg = config({"deadline": ":30", "expectedDuration": "15m"}, cron="0 * * * *")
    run = RunRef("orders", "cron", "2026-03-28T10")
    assert [
        at for _, at in timers(plan_sla_timers(cfg, run, now=utc(2026, 3, 28), arrived_at=None))
    ] == [
        utc(2026, 3, 28, 11, 15),
        utc(2026, 3, 28, 11, 30),
    ]


def test_plan_hourly_deadline_in_the_repeated_new_york_hour_uses_the_first_occurrence() -> None:
    cfg = config({"deadline": ":30", "expectedDuration": "10m"}, cron="0 * * * *", tz=NY)
    run = RunRef("orders", "cron", "2026-11-01T01")  # 01:00 EDT = 05:00Z, then 60 real minutes
    got = timers(plan_sla_timers(cfg, run, now=utc(2026, 11, 1), arrived_at=None))
    assert [at for _, at in got] == [utc(2026, 11, 1, 6, 20), utc(2026, 11, 1, 6, 30)]


def test_plan_hourly_deadline_on_london_spring_forward_day() -> None:
    cfg = config({"deadline": ":15"}, cron="0 * * * *", tz=LONDON)
    run = RunRef("orders", "cron", "2026-03-29T02")  # 02:00 BST = 01:00Z (01:xx GMT was skipped)
    got = timers(plan_sla_timers(cfg, run, now=utc(2026, 3, 29), arrived_at=None))
    assert got == [("orders-cron-2026-03-29T02-sla-breach", utc(2026, 3, 29, 2, 15))]


def test_plan_without_expected_duration_schedules_only_the_breach() -> None:
    cfg = config({"deadline": "08:00"}, cron="0 6 * * *")
    assert timers(plan_sla_timers(cfg, RUN, now=utc(2026, 3, 28), arrived_at=None)) == [
        ("orders-cron-2026-03-28-sla-breach", utc(2026, 3, 28, 8))
    ]


@pytest.mark.parametrize(
    "cfg", [config(None, cron="0 6 * * *"), config(DAILY, cron="0 6 * * *", dry_run=True)]
)
def test_plan_nothing_without_sla_or_in_dry_run(cfg: PipelineConfig) -> None:
    assert plan_sla_timers(cfg, RUN, now=utc(2026, 3, 28), arrived_at=None) == ()


def test_plan_relative_window_cancels_absolute_pair_and_schedules_relative_timers() -> None:
    cfg = config({"deadline": "18:00", "maxDuration": "2h"})
    run = RunRef("orders", "stream", "2026-03-28")
    actions = plan_sla_timers(cfg, run, now=utc(2026, 3, 28, 10), arrived_at=utc(2026, 3, 28, 10))
    assert actions[:2] == (
        CancelTimer("orders-stream-2026-03-28-sla-warning"),
        CancelTimer("orders-stream-2026-03-28-sla-breach"),
    )
    assert timers(actions) == [
        ("orders-stream-2026-03-28-sla-relative-warning", utc(2026, 3, 28, 11, 30)),
        ("orders-stream-2026-03-28-sla-relative-breach", utc(2026, 3, 28, 12)),
    ]
    breach = actions[3]
    assert isinstance(breach, ScheduleTimer)
    assert breach.payload == {
        "kind": "sla",
        "alert": "relative-breach",
        "pipelineId": "orders",
        "scheduleId": "stream",
        "period": "2026-03-28",
        "at": "2026-03-28T12:00:00Z",
        "breachAt": "2026-03-28T12:00:00Z",
        "warningAt": "2026-03-28T11:30:00Z",
        "sensorArrivalAt": "2026-03-28T10:00:00Z",
        "maxDuration": "2h",
    }


def test_plan_relative_only_sla_waits_for_the_arrival() -> None:
    cfg = config({"maxDuration": "2h"})
    assert (
        plan_sla_timers(
            cfg, RunRef("orders", "stream", "2026-03-28"), now=utc(2026, 3, 28), arrived_at=None
        )
        == ()
    )


def test_plan_schedules_timers_whose_time_has_passed() -> None:
    late = utc(2026, 3, 28, 9)  # after warning and breach: the runtime fires them at once
    assert len(timers(plan_sla_timers(CRON, RUN, now=late, arrived_at=None))) == 2


def test_plan_hourly_deadline_for_a_daily_period_raises() -> None:
    cfg = config({"deadline": ":30"})
    with pytest.raises(SLAError, match="hourly"):
        plan_sla_timers(
            cfg, RunRef("orders", "stream", "2026-03-28"), now=utc(2026, 3, 28), arrived_at=None
        )


def test_cancel_sla_timers_cancels_all_four() -> None:
    assert cancel_sla_timers(RUN) == (
        CancelTimer("orders-cron-2026-03-28-sla-warning"),
        CancelTimer("orders-cron-2026-03-28-sla-breach"),
        CancelTimer("orders-cron-2026-03-28-sla-relative-warning"),
        CancelTimer("orders-cron-2026-03-28-sla-relative-breach"),
    )


# ------------------------------------------------------------------------------------------ alerts


def payload(alert: str) -> dict[str, Any]:
    for action in plan_sla_timers(CRON, RUN, now=utc(2026, 3, 28), arrived_at=None):
        if isinstance(action, ScheduleTimer) and action.payload["alert"] == alert:
            return dict(action.payload)
    raise AssertionError(alert)


WARN_AT = utc(2026, 3, 28, 7, 30)
BREACH_AT = utc(2026, 3, 28, 8)


def test_warning_for_a_running_run_claims_then_publishes() -> None:
    d = decide_sla_alert(
        CRON, payload("warning"), run_row=row(RunStatus.RUNNING), acked=False, now=WARN_AT
    )
    assert d.actions == (
        Claim("orders", "SLA_WARNING", "cron", "2026-03-28", WARN_AT),
        PublishEvent(
            type=EventType.SLA_WARNING,
            pipeline_id="orders",
            schedule_id="cron",
            period="2026-03-28",
            message="SLA at risk: the run is still running; breach at 08:00 UTC",
            at=WARN_AT,
            detail={
                "status": "RUNNING",
                "source": "sla-monitor",
                "deadline": "08:00",
                "warningAt": "2026-03-28T07:30:00Z",
                "breachAt": "2026-03-28T08:00:00Z",
                "actionHint": "pipeline running — may complete before breach",
            },
        ),
    )
    assert d.next == "alert"


@pytest.mark.parametrize(
    ("started", "says", "hint"),
    [
        (False, "has not started its job", "job not started yet"),
        (True, "is still running", "pipeline still running past its SLA"),
        (None, "is still running", "pipeline still running past its SLA"),
    ],
)
def test_a_running_row_whose_job_never_started_is_not_called_running(
    started: bool | None, says: str, hint: str
) -> None:
    # a row is RUNNING from the start of evaluation: until its job is triggered it is not "running"
    d = decide_sla_alert(
        CRON,
        payload("breach"),
        run_row=row(RunStatus.RUNNING),
        acked=False,
        now=BREACH_AT,
        job_started=started,
    )
    event = the_event(d)
    assert event.message.startswith(f"SLA breached at 08:00 UTC: the run {says}")
    assert event.detail["actionHint"].startswith(hint)


@pytest.mark.parametrize(
    ("alert", "now", "hint"),
    [
        ("breach", BREACH_AT, "pipeline not started — investigate trigger"),
        ("warning", WARN_AT, "pipeline not started — check sensor data"),
    ],
)
def test_alert_for_a_run_that_never_started(alert: str, now: datetime, hint: str) -> None:
    d = decide_sla_alert(CRON, payload(alert), run_row=None, acked=False, now=now)
    event = the_event(d)
    assert event.detail["status"] == "not started"
    assert event.detail["actionHint"] == hint
    assert isinstance(d.actions[0], Claim)


@pytest.mark.parametrize(
    ("finished", "why"),
    [
        (utc(2026, 3, 28, 7), "completed before the alert time"),
        (WARN_AT, "completed before the alert time"),
        (utc(2026, 3, 28, 7, 45), "verdict already reported"),
        (None, "completed before the alert time"),
    ],
)
def test_completed_run_silences_its_alerts(finished: datetime | None, why: str) -> None:
    d = decide_sla_alert(
        CRON,
        payload("warning"),
        run_row=row(RunStatus.COMPLETED, finished=finished),
        acked=False,
        now=utc(2026, 3, 28, 7, 50),
    )
    assert d.actions == ()
    assert why in d.reason


def test_failed_run_still_breaches_with_a_rerun_hint() -> None:
    d = decide_sla_alert(
        CRON, payload("breach"), run_row=row(RunStatus.FAILED_FINAL), acked=False, now=BREACH_AT
    )
    assert events(d) == [EventType.SLA_BREACH]
    assert the_event(d).detail["status"] == "FAILED_FINAL"
    assert the_event(d).detail["actionHint"] == "run failed — request a rerun to deliver the data"


@pytest.mark.parametrize(
    ("now", "published"),
    [
        (BREACH_AT - timedelta(seconds=1), True),
        (BREACH_AT, False),
        (BREACH_AT + timedelta(hours=1), False),
    ],
)
def test_warning_fired_at_or_after_breach_is_suppressed(now: datetime, published: bool) -> None:
    d = decide_sla_alert(
        CRON, payload("warning"), run_row=row(RunStatus.RUNNING), acked=False, now=now
    )
    assert events(d) == ([EventType.SLA_WARNING] if published else [])


def test_acknowledged_breach_is_published_marked_acknowledged() -> None:
    d = decide_sla_alert(
        CRON, payload("breach"), run_row=row(RunStatus.RUNNING), acked=True, now=BREACH_AT
    )
    assert d.actions[0] == Claim("orders", "SLA_BREACH", "cron", "2026-03-28", BREACH_AT)
    event = the_event(d)
    assert event.type is EventType.SLA_BREACH
    assert event.detail["acknowledged"] is True
    assert event.message.endswith("(acknowledged)")
    assert d.output["acknowledged"] is True


def relative_payloads() -> dict[str, dict[str, Any]]:
    cfg = config({"maxDuration": "2h"})
    run = RunRef("orders", "stream", "2026-03-28")
    out: dict[str, dict[str, Any]] = {}
    for a in plan_sla_timers(cfg, run, now=utc(2026, 3, 28, 10), arrived_at=utc(2026, 3, 28, 10)):
        if isinstance(a, ScheduleTimer):
            out[a.payload["alert"]] = dict(a.payload)
    return out


def test_relative_breach_alert_carries_arrival_and_max_duration() -> None:
    cfg = config({"maxDuration": "2h"})
    now = utc(2026, 3, 28, 12)
    d = decide_sla_alert(
        cfg, relative_payloads()["relative-breach"], run_row=None, acked=False, now=now
    )
    assert d.actions[0] == Claim("orders", "RELATIVE_SLA_BREACH", "stream", "2026-03-28", now)
    assert the_event(d).type is EventType.RELATIVE_SLA_BREACH
    assert the_event(d).detail == {
        "source": "sla-monitor",
        "maxDuration": "2h",
        "sensorArrivalAt": "2026-03-28T10:00:00Z",
        "breachAt": "2026-03-28T12:00:00Z",
        "actionHint": "pipeline not started — investigate trigger",
    }


def test_relative_warning_alert() -> None:
    cfg = config({"maxDuration": "2h"})
    now = utc(2026, 3, 28, 11, 30)
    rr = RunRow("orders", "stream", "2026-03-28", RunStatus.RUNNING, attempt=1)
    d = decide_sla_alert(
        cfg, relative_payloads()["relative-warning"], run_row=rr, acked=False, now=now
    )
    assert events(d) == [EventType.RELATIVE_SLA_WARNING]
    assert the_event(d).detail == {
        "status": "RUNNING",
        "source": "sla-monitor",
        "breachAt": "2026-03-28T12:00:00Z",
        "actionHint": "pipeline running — may complete before breach",
    }


@pytest.mark.parametrize(
    "cfg", [config(DAILY, cron="0 6 * * *", dry_run=True), config(None, cron="0 6 * * *")]
)
def test_no_alert_in_dry_run_or_once_the_sla_is_removed(cfg: PipelineConfig) -> None:
    d = decide_sla_alert(cfg, payload("breach"), run_row=None, acked=False, now=BREACH_AT)
    assert d.actions == ()
    assert d.reason


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"kind": "postrun"}, "not an SLA timer"),
        ({"alert": "late"}, "unknown alert"),
        ({"pipelineId": "other"}, "given the config of"),
        ({"at": "yesterday"}, "not RFC 3339"),
    ],
)
def test_foreign_or_broken_payload_raises(change: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        decide_sla_alert(
            CRON, {**payload("breach"), **change}, run_row=None, acked=False, now=BREACH_AT
        )


# ----------------------------------------------------------------------------------------- verdict


@pytest.mark.parametrize(
    ("completed", "verdict"),
    [
        (utc(2026, 3, 28, 7, 59, 59), EventType.SLA_MET),
        (utc(2026, 3, 28, 7, 45), EventType.SLA_MET),  # after the warning: still met
        (utc(2026, 3, 28, 8), EventType.SLA_BREACH),  # at the breach instant
        (utc(2026, 3, 28, 9), EventType.SLA_BREACH),
    ],
)
def test_verdict_cancels_timers_then_publishes(completed: datetime, verdict: EventType) -> None:
    d = decide_sla_verdict(CRON, RUN, completed_at=completed, arrived_at=None)
    assert d.actions[:4] == cancel_sla_timers(RUN)
    assert events(d) == [verdict]
    assert d.next == verdict.value
    assert d.output["breachAt"] == "2026-03-28T08:00:00Z"


def test_breach_verdict_detail() -> None:
    d = decide_sla_verdict(CRON, RUN, completed_at=utc(2026, 3, 28, 9), arrived_at=None)
    assert the_event(d).detail == {
        "status": "COMPLETED",
        "source": "sla-monitor",
        "deadline": "08:00",
        "warningAt": "2026-03-28T07:30:00Z",
        "breachAt": "2026-03-28T08:00:00Z",
        "actionHint": "run completed 1h after the SLA breach time",
    }
    met = decide_sla_verdict(CRON, RUN, completed_at=utc(2026, 3, 28, 7), arrived_at=None)
    assert the_event(met).detail == {}


@pytest.mark.parametrize(
    ("period", "verdict"),
    [("2026-03-07", EventType.SLA_MET), ("2026-03-08", EventType.SLA_BREACH)],
)
def test_verdict_uses_the_configured_time_zone(period: str, verdict: EventType) -> None:
    # 09:00 New York is 14:00Z on 7 March (EST) and 13:00Z on 8 March (EDT); the run ends 13:30Z.
    cfg = config({"deadline": "09:00"}, cron="0 6 * * *", tz=NY)
    day = Period.parse(period).day
    completed = datetime(day.year, day.month, day.day, 13, 30, tzinfo=UTC)
    d = decide_sla_verdict(
        cfg, RunRef("orders", "cron", period), completed_at=completed, arrived_at=None
    )
    assert events(d) == [verdict]


def test_relative_verdict() -> None:
    cfg = config({"maxDuration": "2h"})
    run = RunRef("orders", "stream", "2026-03-28")
    d = decide_sla_verdict(
        cfg, run, completed_at=utc(2026, 3, 28, 12, 1), arrived_at=utc(2026, 3, 28, 10)
    )
    assert events(d) == [EventType.SLA_BREACH]
    assert "deadline" not in the_event(d).detail


def test_no_verdict_without_sla() -> None:
    d = decide_sla_verdict(
        config(None, cron="0 6 * * *"), RUN, completed_at=utc(2026, 3, 28, 9), arrived_at=None
    )
    assert d.actions == ()


@pytest.mark.parametrize(
    ("sla", "why"),
    [({"maxDuration": "2h"}, "arrival is unknown"), ({"deadline": ":30"}, "hourly")],
)
def test_verdict_without_a_window_only_cancels(sla: dict[str, Any], why: str) -> None:
    run = RunRef("orders", "stream", "2026-03-28")
    d = decide_sla_verdict(config(sla), run, completed_at=utc(2026, 3, 28, 9), arrived_at=None)
    assert d.actions == cancel_sla_timers(run)
    assert why in d.reason


# -------------------------------------------------------------------------------------- projection


def test_projection_met_with_margin() -> None:
    out = sla_projection(CRON, Period.parse("2026-03-28"), triggered_at=utc(2026, 3, 28, 7))
    assert out == {
        "triggeredAt": "2026-03-28T07:00:00Z",
        "estimatedCompletion": "2026-03-28T07:30:00Z",
        "expectedDuration": "30m",
        "status": "met",
        "deadline": "2026-03-28T08:00:00Z",
        "marginSeconds": 1800,
    }


def test_projection_breach_has_negative_margin() -> None:
    out = sla_projection(CRON, Period.parse("2026-03-28"), triggered_at=utc(2026, 3, 28, 7, 45))
    assert out["status"] == "breach"
    assert out["marginSeconds"] == -900


def test_projection_needs_expected_duration() -> None:
    assert (
        sla_projection(
            config({"deadline": "08:00"}), Period.parse("2026-03-28"), triggered_at=utc(2026, 3, 28)
        )
        == {}
    )
    assert (
        sla_projection(config(None), Period.parse("2026-03-28"), triggered_at=utc(2026, 3, 28))
        == {}
    )


def test_projection_of_relative_sla_without_arrival_is_not_applicable() -> None:
    cfg = config({"maxDuration": "2h", "expectedDuration": "1h"})
    out = sla_projection(cfg, Period.parse("2026-03-28"), triggered_at=utc(2026, 3, 28, 10))
    assert out["status"] == "n/a"
    assert "deadline" not in out
    with_arrival = sla_projection(
        cfg,
        Period.parse("2026-03-28"),
        triggered_at=utc(2026, 3, 28, 10),
        arrived_at=utc(2026, 3, 28, 9, 30),
    )
    assert (with_arrival["status"], with_arrival["marginSeconds"]) == ("met", 1800)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"at": 1774684800}, "must be an RFC 3339 string"),
        ({"at": "2026-03-28T08:00:00"}, "has no offset"),
        ({"period": None}, "lacks scheduleId/period"),
    ],
)
def test_payload_times_and_identity_are_checked(change: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        decide_sla_alert(
            CRON, {**payload("breach"), **change}, run_row=None, acked=False, now=BREACH_AT
        )


def test_breach_of_a_running_run_says_to_check_the_job() -> None:
    d = decide_sla_alert(
        CRON, payload("breach"), run_row=row(RunStatus.RUNNING), acked=False, now=BREACH_AT
    )
    assert (
        the_event(d).detail["actionHint"] == "pipeline still running past its SLA — check the job"
    )


def test_no_verdict_in_dry_run() -> None:
    cfg = config(DAILY, cron="0 6 * * *", dry_run=True)
    d = decide_sla_verdict(cfg, RUN, completed_at=utc(2026, 3, 28, 9), arrived_at=None)
    assert d.actions == ()
    assert "dry run" in d.reason


def test_projection_with_an_unusable_deadline_is_not_applicable() -> None:
    cfg = config({"deadline": ":30", "expectedDuration": "10m"})
    out = sla_projection(cfg, Period.parse("2026-03-28"), triggered_at=utc(2026, 3, 28, 10))
    assert out["status"] == "n/a"


def test_verdict_and_alert_messages_say_when() -> None:
    from interlock.lifecycle.sla_monitor import _alert_message

    breach = datetime(2026, 3, 2, 14, tzinfo=UTC)
    assert _alert_message("breach", None, breach, None) == (
        "SLA breached at 14:00 UTC: the run has not started"
    )
    assert _alert_message(
        "relative-warning", RunStatus.RUNNING, breach, "2026-03-02T13:15:00Z"
    ) == (
        "SLA at risk: the run is still running; breach at 14:00 UTC "
        "(clock started by the first sensor at 13:15 UTC)"
    )
