"""Tests for ``interlock.lifecycle.watchdog`` (pure checks) and ``interlock.service.reads.gather`` (reads)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import pytest

from interlock.config.models import Calendar, PipelineConfig
from interlock.events import INFRASTRUCTURE, EventType
from interlock.lifecycle.actions import (
    AcquireRun,
    Claim,
    Decision,
    PublishEvent,
    PutBookkeeping,
    ScheduleTimer,
    SetRunStatus,
    StartExecution,
)
from interlock.lifecycle.watchdog import PipelineInputs, WatchdogInputs, scan
from interlock.records import ConfigSet, Override, RunRow, RunStatus, SensorRecord
from interlock.service.reads import gather
from interlock.store.control import BoardReads
from interlock.store.table import StoreError

NY = "America/New_York"
LONDON = "Europe/London"
NO_CALENDARS: dict[str, Calendar] = {}


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def pipeline(
    *,
    pid: str = "orders",
    cron: str | None = None,
    trigger: dict[str, Any] | None = None,
    tz: str = "UTC",
    sla: dict[str, Any] | None = None,
    post_run: dict[str, Any] | None = None,
    dry_run: bool = False,
    **schedule: Any,
) -> PipelineConfig:
    sched: dict[str, Any] = {"timezone": tz, **schedule}
    if cron:
        sched["cron"] = cron
    if trigger is not None:
        sched["trigger"] = trigger
    doc: dict[str, Any] = {
        "pipeline": {"id": pid},
        "schedule": sched,
        "job": {"type": "command", "config": {"command": "true"}},
        "dryRun": dry_run,
    }
    if sla is not None:
        doc["sla"] = sla
    if post_run is not None:
        doc["postRun"] = post_run
    return PipelineConfig.model_validate(doc)


def run(
    period: str,
    status: RunStatus = RunStatus.COMPLETED,
    *,
    pid: str = "orders",
    schedule: str = "cron",
    attempt: int = 1,
    finished: datetime | None = None,
    lock: datetime | None = None,
) -> RunRow:
    return RunRow(
        pid, schedule, period, status, attempt=attempt, finished_at=finished, lock_expires_at=lock
    )


def sensor(key: str, updated: datetime | None, **fields: Any) -> SensorRecord:
    return SensorRecord(key=key, fields=fields, updated_at=updated)


def inputs(
    config: PipelineConfig,
    *,
    runs: list[RunRow] = (),  # type: ignore[assignment]
    sensors: list[SensorRecord] = (),  # type: ignore[assignment]
    acked: frozenset[str] = frozenset(),
    lookback: timedelta = timedelta(hours=24),
    updated_at: datetime | None = None,
    running: tuple[RunRow, ...] = (),
    errors: tuple[str, ...] = (),
) -> WatchdogInputs:
    p = PipelineInputs(
        config=config,
        runs={r.period: r for r in runs},
        sensors={s.key: s for s in sensors},
        acked=acked,
        config_updated_at=updated_at,
    )
    return WatchdogInputs(pipelines=(p,), running=running, errors=errors, lookback=lookback)


def types(ds: list[Decision]) -> list[EventType]:
    return [a.type for d in ds for a in d.actions if isinstance(a, PublishEvent)]


def periods(ds: list[Decision]) -> list[str | None]:
    return [a.period for d in ds for a in d.actions if isinstance(a, PublishEvent)]


def event(d: Decision) -> PublishEvent:
    found = [a for a in d.actions if isinstance(a, PublishEvent)]
    assert len(found) == 1
    return found[0]


def assert_claimed_once(d: Decision) -> None:
    """Every alert decision claims its event type for its period right before publishing it."""
    ev = event(d)
    claims = [a for a in d.actions if isinstance(a, Claim)]
    assert len(claims) == 1
    assert claims[0].name == ev.type.value
    assert (claims[0].schedule_id, claims[0].period) == (ev.schedule_id, ev.period)
    assert d.actions.index(claims[0]) == d.actions.index(ev) - 1


# ------------------------------------------------------------------------------------ stale runs

NOW = utc(2026, 3, 4, 10)
CRON_DAILY = pipeline(cron="0 6 * * *")


def test_stale_run_is_failed_and_reported_once_per_attempt() -> None:
    stale = run("2026-03-04", RunStatus.RUNNING, attempt=2, lock=NOW - timedelta(minutes=1))
    ds = scan(inputs(CRON_DAILY, runs=[stale], running=(stale,)), now=NOW, calendars=NO_CALENDARS)
    assert len(ds) == 1
    assert ds[0].actions == (
        Claim("orders", "SFN_TIMEOUT-a2", "cron", "2026-03-04", NOW),
        SetRunStatus("orders", "cron", "2026-03-04", RunStatus.FAILED_FINAL, 2, NOW),
        PublishEvent(
            type=EventType.SFN_TIMEOUT,
            pipeline_id="orders",
            schedule_id="cron",
            period="2026-03-04",
            message=ds[0].reason,
            at=NOW,
            detail={
                "source": "watchdog",
                "actionHint": "step function exceeded TTL — check SFN execution history",
                "ttlExpired": "2026-03-04T09:59:00Z",
            },
        ),
    )


@pytest.mark.parametrize(
    "lock", [NOW + timedelta(minutes=5), NOW, None], ids=["fresh", "exactly-now", "no-lock"]
)
def test_running_row_not_past_its_lock_is_left_alone(lock: datetime | None) -> None:
    row = run("2026-03-04", RunStatus.RUNNING, lock=lock)
    ds = scan(inputs(CRON_DAILY, runs=[row], running=(row,)), now=NOW, calendars=NO_CALENDARS)
    assert ds == []


def test_stale_run_of_a_dry_run_pipeline_is_skipped() -> None:
    row = run("2026-03-04", RunStatus.RUNNING, lock=NOW - timedelta(hours=1))
    cfg = pipeline(cron="0 6 * * *", trigger={"key": "orders"}, dry_run=True)
    assert scan(inputs(cfg, running=(row,)), now=NOW, calendars=NO_CALENDARS) == []


def test_stale_run_of_a_pipeline_without_config_is_still_failed() -> None:
    row = run("2026-03-04", RunStatus.RUNNING, pid="gone", lock=NOW - timedelta(hours=1))
    ds = scan(WatchdogInputs(running=(row,)), now=NOW, calendars=NO_CALENDARS)
    assert types(ds) == [EventType.SFN_TIMEOUT]


# ------------------------------------------------------------------------------ missed schedules


def test_missed_cron_fire_is_reported_with_detail() -> None:
    now = utc(2026, 3, 4, 6, 16)
    ds = scan(inputs(CRON_DAILY, runs=[run("2026-03-03")]), now=now, calendars=NO_CALENDARS)
    assert len(ds) == 1
    assert_claimed_once(ds[0])
    ev = event(ds[0])
    assert (ev.type, ev.schedule_id, ev.period) == (EventType.SCHEDULE_MISSED, "cron", "2026-03-04")
    assert ev.detail == {
        "source": "watchdog",
        "cron": "0 6 * * *",
        "expectedTime": "2026-03-04T06:00:00Z",
        "actionHint": "cron 0 6 * * * expected to fire at 2026-03-04 06:00 UTC — no run found",
    }


@pytest.mark.parametrize(
    ("now", "missed"),
    [
        (utc(2026, 3, 4, 6, 14, 59), False),
        (utc(2026, 3, 4, 6, 15), False),  # exactly the grace: not yet
        (utc(2026, 3, 4, 6, 15, 1), True),
    ],
)
def test_missed_cron_grace_boundary(now: datetime, missed: bool) -> None:
    ds = scan(inputs(CRON_DAILY, runs=[run("2026-03-03")]), now=now, calendars=NO_CALENDARS)
    assert types(ds) == ([EventType.SCHEDULE_MISSED] if missed else [])


def test_custom_grace() -> None:
    now = utc(2026, 3, 4, 6, 16)
    ds = scan(
        inputs(CRON_DAILY, runs=[run("2026-03-03")]),
        now=now,
        calendars=NO_CALENDARS,
        grace=timedelta(minutes=30),
    )
    assert ds == []


@pytest.mark.parametrize(
    "rows",
    [["2026-03-04"], ["2026-03-04T06"], ["2026-03-04T23"]],
    ids=["daily-row", "hourly-row", "any-hourly-row-of-the-day"],
)
def test_daily_cron_with_a_run_row_for_the_day_is_not_missed(rows: list[str]) -> None:
    ds = scan(
        inputs(CRON_DAILY, runs=[run("2026-03-03"), *(run(p) for p in rows)]),
        now=utc(2026, 3, 4, 7),
        calendars=NO_CALENDARS,
    )
    assert ds == []


def test_hourly_cron_reports_each_missing_hour_once() -> None:
    cfg = pipeline(cron="0 * * * *")
    now = utc(2026, 3, 4, 9, 20)
    rows = [run(f"2026-03-0{d}T{h:02d}") for d in (3, 4) for h in range(24) if (d, h) != (4, 5)]
    ds = scan(inputs(cfg, runs=rows), now=now, calendars=NO_CALENDARS)
    assert periods(ds) == ["2026-03-04T05"]
    assert_claimed_once(ds[0])


def test_hourly_cron_with_a_daily_row_is_not_missed() -> None:
    cfg = pipeline(cron="0 * * * *")
    ds = scan(
        inputs(cfg, runs=[run("2026-03-04"), run("2026-03-03")]),
        now=utc(2026, 3, 4, 9, 20),
        calendars=NO_CALENDARS,
    )
    assert ds == []


def test_weekend_exclusion_suppresses_missed_schedule() -> None:
    cfg = pipeline(cron="0 6 * * *", exclude={"weekends": True})
    # Saturday 2026-03-07; Friday's run exists.
    ds = scan(
        inputs(cfg, runs=[run("2026-03-06")]), now=utc(2026, 3, 7, 12), calendars=NO_CALENDARS
    )
    assert ds == []


def test_calendar_exclusion_suppresses_missed_schedule() -> None:
    cfg = pipeline(cron="0 6 * * *", calendar="us")
    cals = {"us": Calendar(name="us", dates=(date(2026, 3, 4),))}
    ds = scan(inputs(cfg, runs=[run("2026-03-03")]), now=utc(2026, 3, 4, 12), calendars=cals)
    assert ds == []


@pytest.mark.parametrize(("hour", "missed"), [(8, False), (9, True)])
def test_schedule_time_gates_the_missed_alert(hour: int, missed: bool) -> None:
    cfg = pipeline(cron="0 6 * * *", time="09:00")
    ds = scan(
        inputs(cfg, runs=[run("2026-03-03")]),
        now=utc(2026, 3, 4, hour, 30),
        calendars=NO_CALENDARS,
    )
    assert types(ds) == ([EventType.SCHEDULE_MISSED] if missed else [])


def test_fires_outside_the_lookback_are_not_reported() -> None:
    # Nothing ran for days: only the fire within the last 24 h is reported.
    ds = scan(inputs(CRON_DAILY), now=utc(2026, 3, 4, 10), calendars=NO_CALENDARS)
    assert periods(ds) == ["2026-03-04"]


def test_two_missed_days_in_a_longer_lookback_are_two_claims() -> None:
    ds = scan(
        inputs(CRON_DAILY, lookback=timedelta(hours=48)),
        now=utc(2026, 3, 4, 10),
        calendars=NO_CALENDARS,
    )
    assert periods(ds) == ["2026-03-03", "2026-03-04"]
    for d in ds:
        assert_claimed_once(d)


def test_fires_before_the_config_was_pushed_are_not_reported() -> None:
    ds = scan(
        inputs(CRON_DAILY, updated_at=utc(2026, 3, 4, 7)),
        now=utc(2026, 3, 4, 10),
        calendars=NO_CALENDARS,
    )
    assert ds == []


def test_new_york_spring_forward_fire_in_the_gap() -> None:
    # 02:30 does not exist on 2026-03-08 in New York: the cron fires at 03:00 EDT = 07:00Z.
    cfg = pipeline(cron="30 2 * * *", tz=NY)
    early = scan(
        inputs(cfg, runs=[run("2026-03-07")]), now=utc(2026, 3, 8, 7, 10), calendars=NO_CALENDARS
    )
    assert early == []
    ds = scan(
        inputs(cfg, runs=[run("2026-03-07")]), now=utc(2026, 3, 8, 7, 16), calendars=NO_CALENDARS
    )
    assert periods(ds) == ["2026-03-08"]
    assert event(ds[0]).detail["expectedTime"] == "2026-03-08T07:00:00Z"
    assert "2026-03-08 03:00 EDT" in event(ds[0]).detail["actionHint"]


def test_new_york_fall_back_repeated_time_is_one_alert() -> None:
    # 01:30 happens twice on 2026-11-01 (05:30Z EDT, 06:30Z EST); the cron fires at the first only.
    cfg = pipeline(cron="30 1 * * *", tz=NY)
    ds = scan(
        inputs(cfg, runs=[run("2026-10-31")]), now=utc(2026, 11, 1, 7), calendars=NO_CALENDARS
    )
    assert periods(ds) == ["2026-11-01"]
    assert event(ds[0]).detail["expectedTime"] == "2026-11-01T05:30:00Z"


def test_hourly_cron_on_new_york_fall_back_day_has_one_alert_per_local_hour() -> None:
    cfg = pipeline(cron="0 * * * *", tz=NY)
    ds = scan(inputs(cfg), now=utc(2026, 11, 1, 12), calendars=NO_CALENDARS)
    # 24 UTC hours back from 12:00Z, minus the repeated 01:00 local, minus the fire 11:00Z? no: 11:00Z
    # (07:00 EST) is an hour old, so it counts; the window holds 23 distinct local hours.
    got = periods(ds)
    assert len(got) == 23
    assert len(set(got)) == 23
    assert got.count("2026-11-01T01") == 1


@pytest.mark.parametrize(("minute", "missed"), [(10, False), (20, True)])
def test_london_cron_after_the_clocks_go_forward(minute: int, missed: bool) -> None:
    # 06:00 BST on 2026-03-29 is 05:00Z.
    cfg = pipeline(cron="0 6 * * *", tz=LONDON)
    ds = scan(
        inputs(cfg, runs=[run("2026-03-28")]),
        now=utc(2026, 3, 29, 5, minute),
        calendars=NO_CALENDARS,
    )
    assert types(ds) == ([EventType.SCHEDULE_MISSED] if missed else [])
    if missed:
        assert event(ds[0]).detail["expectedTime"] == "2026-03-29T05:00:00Z"


def test_stream_pipeline_has_no_missed_schedule_check() -> None:
    cfg = pipeline(trigger={"key": "orders"})
    assert scan(inputs(cfg), now=NOW, calendars=NO_CALENDARS) == []


# ----------------------------------------------------------------------------- missed inclusions

INCLUDED = {"dates": ["2026-03-05", "2026-03-09"]}


def incl(**schedule: Any) -> PipelineConfig:
    return pipeline(trigger={"key": "orders"}, include=INCLUDED, **schedule)


def test_missed_inclusion_date_without_time_is_due_at_end_of_day() -> None:
    cfg = incl()
    assert scan(inputs(cfg), now=utc(2026, 3, 5, 23), calendars=NO_CALENDARS) == []
    ds = scan(inputs(cfg), now=utc(2026, 3, 6, 0, 30), calendars=NO_CALENDARS)
    assert len(ds) == 1
    assert_claimed_once(ds[0])
    ev = event(ds[0])
    assert (ev.type, ev.schedule_id, ev.period) == (
        EventType.IRREGULAR_SCHEDULE_MISSED,
        "stream",
        "2026-03-05",
    )
    assert set(ev.detail) == {"source", "actionHint"}


@pytest.mark.parametrize(("hour", "missed"), [(9, False), (10, True)])
def test_inclusion_date_with_schedule_time(hour: int, missed: bool) -> None:
    ds = scan(inputs(incl(time="10:00")), now=utc(2026, 3, 5, hour, 20), calendars=NO_CALENDARS)
    assert types(ds) == ([EventType.IRREGULAR_SCHEDULE_MISSED] if missed else [])


def test_inclusion_date_with_a_run_is_not_missed() -> None:
    ds = scan(
        inputs(incl(time="10:00"), runs=[run("2026-03-05", schedule="stream")]),
        now=utc(2026, 3, 5, 12),
        calendars=NO_CALENDARS,
    )
    assert ds == []


def test_future_inclusion_dates_are_not_missed() -> None:
    assert scan(inputs(incl()), now=utc(2026, 3, 2), calendars=NO_CALENDARS) == []


def test_excluded_inclusion_date_is_not_missed() -> None:
    cfg = incl(time="10:00", exclude={"dates": ["2026-03-05"]})
    assert scan(inputs(cfg), now=utc(2026, 3, 5, 12), calendars=NO_CALENDARS) == []


def test_inclusion_date_is_read_in_the_pipeline_time_zone() -> None:
    # 2026-04-01 00:30Z is 20:30 EDT on 31 March: that day's 18:00 has passed.
    cfg = pipeline(
        trigger={"key": "orders"}, include={"dates": ["2026-03-31"]}, time="18:00", tz=NY
    )
    ds = scan(inputs(cfg), now=utc(2026, 4, 1, 0, 30), calendars=NO_CALENDARS)
    assert periods(ds) == ["2026-03-31"]


# ----------------------------------------------------------------------------- trigger deadlines


def test_hourly_trigger_deadline_closes_the_period() -> None:
    cfg = pipeline(trigger={"key": "orders", "deadline": ":45"})
    now = utc(2026, 3, 9, 14, 50)
    ds = scan(inputs(cfg, lookback=timedelta(hours=1)), now=now, calendars=NO_CALENDARS)
    assert len(ds) == 1
    d = ds[0]
    assert d.actions[:3] == (
        AcquireRun("orders", "stream", "2026-03-09T13", now),
        SetRunStatus("orders", "stream", "2026-03-09T13", RunStatus.FAILED_FINAL, 1, now),
        Claim("orders", "SENSOR_DEADLINE_EXPIRED", "stream", "2026-03-09T13", now),
    )
    assert event(d).detail == {
        "source": "watchdog",
        "triggerDeadline": "2026-03-09T14:45:00Z",
        "actionHint": "auto-trigger window closed — use RERUN_REQUEST to restart",
    }


@pytest.mark.parametrize(("minute", "closed"), [(29, False), (30, True)])
def test_daily_trigger_deadline_in_new_york(minute: int, closed: bool) -> None:
    # 09:30 EDT on 2026-03-09 is 13:30Z.
    cfg = pipeline(trigger={"key": "orders", "deadline": "09:30"}, tz=NY)
    ds = scan(
        inputs(cfg, lookback=timedelta(hours=1)),
        now=utc(2026, 3, 9, 13, minute),
        calendars=NO_CALENDARS,
    )
    assert periods(ds) == (["2026-03-09"] if closed else [])


def test_trigger_deadline_with_a_run_does_nothing() -> None:
    cfg = pipeline(trigger={"key": "orders", "deadline": "09:30"})
    ds = scan(
        inputs(cfg, runs=[run("2026-03-09", schedule="stream")], lookback=timedelta(hours=1)),
        now=utc(2026, 3, 9, 10),
        calendars=NO_CALENDARS,
    )
    assert ds == []


def test_trigger_deadline_on_an_excluded_day_does_nothing() -> None:
    cfg = pipeline(trigger={"key": "orders", "deadline": "09:30"}, exclude={"weekends": True})
    ds = scan(
        inputs(cfg, lookback=timedelta(hours=1)), now=utc(2026, 3, 7, 10), calendars=NO_CALENDARS
    )
    assert ds == []


# ------------------------------------------------------------------------------ trigger recovery

STREAM = pipeline(trigger={"key": "orders", "check": "equals", "field": "status", "value": "ready"})


def test_missed_trigger_sensor_is_recovered() -> None:
    s = sensor("orders", NOW - timedelta(minutes=10), status="ready", date="2026-03-04")
    ds = scan(inputs(STREAM, sensors=[s]), now=NOW, calendars=NO_CALENDARS)
    assert len(ds) == 1
    d = ds[0]
    assert d.next == "start"
    assert d.actions == (
        AcquireRun("orders", "stream", "2026-03-04", NOW),
        PutBookkeeping(
            "orders",
            "first-sensor-arrival",
            "2026-03-04",
            {"arrivedAt": "2026-03-04T09:50:00Z"},
            NOW - timedelta(minutes=10),
            once=True,
        ),
        StartExecution(
            "orders",
            "stream",
            "2026-03-04",
            "orders-stream-2026-03-04-a1",
            {"pipelineId": "orders", "scheduleId": "stream", "period": "2026-03-04", "attempt": 1},
        ),
        PublishEvent(
            type=EventType.TRIGGER_RECOVERED,
            pipeline_id="orders",
            schedule_id="stream",
            period="2026-03-04",
            message=d.reason,
            at=NOW,
            detail={"source": "watchdog", "actionHint": "watchdog recovered missed sensor trigger"},
        ),
    )


@pytest.mark.parametrize(
    ("updated", "fields", "rows"),
    [
        (NOW - timedelta(minutes=10), {"status": "ready", "date": "2026-03-04"}, ["2026-03-04"]),
        (NOW - timedelta(minutes=4), {"status": "ready", "date": "2026-03-04"}, []),
        (NOW - timedelta(hours=25), {"status": "ready", "date": "2026-03-03"}, []),
        (None, {"status": "ready", "date": "2026-03-04"}, []),
        (NOW - timedelta(minutes=10), {"status": "pending", "date": "2026-03-04"}, []),
    ],
    ids=["run-exists", "too-fresh", "too-old", "no-updatedAt", "check-fails"],
)
def test_trigger_sensor_not_recovered(
    updated: datetime | None, fields: dict[str, Any], rows: list[str]
) -> None:
    s = sensor("orders", updated, **fields)
    ds = scan(
        inputs(STREAM, sensors=[s], runs=[run(p, schedule="stream") for p in rows]),
        now=NOW,
        calendars=NO_CALENDARS,
    )
    assert ds == []


def test_dateless_sensor_is_recovered_for_the_day_it_was_written() -> None:
    now = utc(2026, 3, 4, 0, 10)
    s = sensor("orders", utc(2026, 3, 3, 23, 50), status="ready")
    ds = scan(inputs(STREAM, sensors=[s]), now=now, calendars=NO_CALENDARS)
    assert periods(ds) == ["2026-03-03"]


def test_trigger_sensor_of_an_excluded_day_is_not_recovered() -> None:
    cfg = pipeline(trigger={"key": "orders"}, exclude={"weekends": True})
    s = sensor("orders", NOW - timedelta(minutes=10), date="2026-03-07")
    assert scan(inputs(cfg, sensors=[s]), now=NOW, calendars=NO_CALENDARS) == []


def test_cron_pipeline_sensors_are_not_recovered() -> None:
    cfg = pipeline(cron="0 6 * * *", trigger={"key": "orders"})
    s = sensor("orders", NOW - timedelta(minutes=10), date="2026-03-04")
    ds = scan(inputs(cfg, sensors=[s], runs=[run("2026-03-04")]), now=NOW, calendars=NO_CALENDARS)
    assert ds == []


def test_recovery_keeps_the_arrival_row_and_plans_relative_timers() -> None:
    cfg = pipeline(trigger={"key": "orders"}, sla={"maxDuration": "2h"})
    written = NOW - timedelta(minutes=10)
    ds = scan(
        inputs(cfg, sensors=[sensor("orders", written, date="2026-03-04")]),
        now=NOW,
        calendars=NO_CALENDARS,
    )
    (d,) = ds
    books = [a for a in d.actions if isinstance(a, PutBookkeeping)]
    assert books == [
        PutBookkeeping(
            "orders",
            "first-sensor-arrival",
            "2026-03-04",
            {"arrivedAt": "2026-03-04T09:50:00Z"},
            written,
            once=True,
        )
    ]
    assert [(a.payload["alert"], a.at) for a in d.actions if isinstance(a, ScheduleTimer)] == [
        ("relative-warning", utc(2026, 3, 4, 11, 20)),
        ("relative-breach", utc(2026, 3, 4, 11, 50)),
    ]
    assert types(ds) == [EventType.TRIGGER_RECOVERED]


def test_recovery_wins_over_the_trigger_deadline() -> None:
    cfg = pipeline(trigger={"key": "orders", "deadline": "09:30"})
    s = sensor("orders", utc(2026, 3, 4, 9), date="2026-03-04")
    ds = scan(inputs(cfg, sensors=[s]), now=NOW, calendars=NO_CALENDARS)
    assert types(ds) == [EventType.TRIGGER_RECOVERED]


def test_bookkeeping_rows_are_never_trigger_sensors() -> None:
    cfg = pipeline(trigger={"key": "first"})
    s = sensor("first-sensor-arrival#2026-03-04", NOW - timedelta(minutes=10))
    assert scan(inputs(cfg, sensors=[s]), now=NOW, calendars=NO_CALENDARS) == []


# ---------------------------------------------------------------------------------- relative SLA

REL = pipeline(trigger={"key": "orders"}, sla={"maxDuration": "2h"})
ARRIVAL = "first-sensor-arrival#2026-03-04"


def test_relative_sla_breach_is_reported() -> None:
    s = sensor(ARRIVAL, None, arrivedAt="2026-03-04T07:30:00Z")
    ds = scan(
        inputs(REL, sensors=[s], runs=[run("2026-03-04", RunStatus.RUNNING, schedule="stream")]),
        now=NOW,
        calendars=NO_CALENDARS,
    )
    assert len(ds) == 1
    assert_claimed_once(ds[0])
    ev = event(ds[0])
    assert (ev.type, ev.period) == (EventType.RELATIVE_SLA_BREACH, "2026-03-04")
    assert ev.detail == {
        "source": "watchdog",
        "maxDuration": "2h",
        "sensorArrivalAt": "2026-03-04T07:30:00Z",
        "breachAt": "2026-03-04T09:30:00Z",
        "actionHint": "not finished 2h after the first sensor arrived — check the run",
    }


@pytest.mark.parametrize(
    ("arrived", "rows"),
    [
        ("2026-03-04T08:30:00Z", []),  # breach 10:30: not yet
        ("2026-03-04T07:30:00Z", ["COMPLETED"]),
        ("2026-03-02T07:30:00Z", []),  # breached outside the lookback
    ],
    ids=["not-yet", "completed", "too-old"],
)
def test_relative_sla_not_reported(arrived: str, rows: list[str]) -> None:
    period = arrived[:10]
    s = sensor(f"first-sensor-arrival#{period}", None, arrivedAt=arrived)
    runs = [run(period, RunStatus(st), schedule="stream") for st in rows]
    assert scan(inputs(REL, sensors=[s], runs=runs), now=NOW, calendars=NO_CALENDARS) == []


def test_relative_sla_breach_of_an_acked_run_is_marked_acknowledged() -> None:
    s = sensor(ARRIVAL, None, arrivedAt="2026-03-04T07:30:00Z")
    ds = scan(
        inputs(REL, sensors=[s], acked=frozenset({"2026-03-04"})), now=NOW, calendars=NO_CALENDARS
    )
    assert event(ds[0]).detail["acknowledged"] is True


def test_relative_sla_breach_of_an_hourly_period_uses_the_row_time() -> None:
    s = sensor("first-sensor-arrival#2026-03-04T06", utc(2026, 3, 4, 7))
    ds = scan(inputs(REL, sensors=[s]), now=NOW, calendars=NO_CALENDARS)
    assert periods(ds) == ["2026-03-04T06"]
    assert event(ds[0]).detail["breachAt"] == "2026-03-04T09:00:00Z"


# ------------------------------------------------------------------------------- post-run sensors

POST = pipeline(
    cron="0 6 * * *",
    post_run={"rules": [{"key": "quality", "check": "exists"}], "sensorTimeout": "2h"},
)
DONE = utc(2026, 3, 4, 7)


def test_post_run_sensor_missing_is_reported() -> None:
    ds = scan(
        inputs(POST, runs=[run("2026-03-04", finished=DONE)]), now=NOW, calendars=NO_CALENDARS
    )
    assert len(ds) == 1
    assert_claimed_once(ds[0])
    ev = event(ds[0])
    assert (ev.type, ev.period) == (EventType.POST_RUN_SENSOR_MISSING, "2026-03-04")
    assert ev.detail == {
        "source": "watchdog",
        "sensorTimeout": "2h",
        "ruleKeys": "quality",
        "actionHint": "no post-run sensor (quality) arrived within 2h of completion — check the "
        "downstream producer",
    }


@pytest.mark.parametrize(
    ("updated", "now", "missing"),
    [
        (DONE + timedelta(minutes=5), NOW, False),  # arrived after completion
        (DONE - timedelta(minutes=5), NOW, True),  # only before completion
        (None, utc(2026, 3, 4, 8, 59), False),  # not due yet (due 09:00)
        (None, utc(2026, 3, 4, 9), True),  # due exactly now
    ],
)
def test_post_run_sensor_timing(updated: datetime | None, now: datetime, missing: bool) -> None:
    sensors = [] if updated is None else [sensor("quality", updated)]
    ds = scan(
        inputs(POST, runs=[run("2026-03-04", finished=DONE)], sensors=sensors),
        now=now,
        calendars=NO_CALENDARS,
    )
    assert types(ds) == ([EventType.POST_RUN_SENSOR_MISSING] if missing else [])


# ---------------------------------------------------------------------------- dry run and errors


def test_dry_run_pipeline_gets_no_alerts_or_starts() -> None:
    cfg = pipeline(
        cron="0 6 * * *",
        trigger={"key": "orders"},
        sla={"maxDuration": "2h"},
        dry_run=True,
    )
    s = [
        sensor("orders", NOW - timedelta(minutes=10), date="2026-03-04"),
        sensor(ARRIVAL, None, arrivedAt="2026-03-04T07:30:00Z"),
    ]
    assert scan(inputs(cfg, sensors=s), now=NOW, calendars=NO_CALENDARS) == []


@pytest.mark.parametrize(("yaml_dry", "override", "alerts"), [(False, True, 0), (True, False, 1)])
def test_the_dry_run_override_wins_over_the_config(
    yaml_dry: bool, override: bool, alerts: int
) -> None:
    cfg = pipeline(cron="0 6 * * *", trigger={"key": "orders"}, dry_run=yaml_dry)
    p = PipelineInputs(config=cfg, runs={"2026-03-03": run("2026-03-03")}, dry_run=override)
    ds = scan(WatchdogInputs(pipelines=(p,)), now=NOW, calendars=NO_CALENDARS)
    assert types(ds) == [EventType.SCHEDULE_MISSED] * alerts


def test_gather_errors_become_one_watchdog_degraded() -> None:
    ds = scan(
        inputs(CRON_DAILY, runs=[run("2026-03-04")], errors=("configs: throttled",)),
        now=utc(2026, 3, 4, 10, 42),
        calendars=NO_CALENDARS,
    )
    assert len(ds) == 1
    assert ds[0].actions[0] == Claim(
        INFRASTRUCTURE, "WATCHDOG_DEGRADED", "watchdog", "2026-03-04T10", utc(2026, 3, 4, 10, 42)
    )
    ev = event(ds[0])
    assert (ev.type, ev.pipeline_id, ev.schedule_id, ev.period) == (
        EventType.WATCHDOG_DEGRADED,
        INFRASTRUCTURE,
        None,
        None,
    )
    assert ev.message == "watchdog checks failed: configs: throttled"


def test_a_failing_check_does_not_stop_the_others() -> None:
    broken = pipeline(pid="broken", cron="0 6 * * *", calendar="nope")
    good = PipelineInputs(config=CRON_DAILY)
    bad = PipelineInputs(config=broken)
    ds = scan(
        WatchdogInputs(pipelines=(bad, good)), now=utc(2026, 3, 4, 10), calendars=NO_CALENDARS
    )
    assert types(ds) == [EventType.SCHEDULE_MISSED, EventType.WATCHDOG_DEGRADED]
    assert event(ds[0]).pipeline_id == "orders"
    assert "missed-schedules broken" in event(ds[1]).message
    assert "nope" in event(ds[1]).message


def test_all_well_is_no_decisions() -> None:
    ds = scan(
        inputs(CRON_DAILY, runs=[run("2026-03-04"), run("2026-03-03")]),
        now=NOW,
        calendars=NO_CALENDARS,
    )
    assert ds == []


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        scan(WatchdogInputs(), now=datetime(2026, 3, 4), calendars=NO_CALENDARS)


# ------------------------------------------------------------------------------------------ gather


class FakeControl:
    """The ControlStore methods gather uses, over plain data (no table, no I/O)."""

    def __init__(
        self,
        configs: ConfigSet,
        runs: dict[str, list[RunRow]],
        sensors: dict[str, dict[str, SensorRecord]],
        acks: set[tuple[str, str]] = set(),  # noqa: B006 - read only
        fail: set[str] = set(),  # noqa: B006 - read only
        overrides: dict[str, Any] | None = None,
    ) -> None:
        self.overrides = overrides or {}
        self.configs, self._runs, self._sensors, self.acks, self.fail = (
            configs,
            runs,
            sensors,
            acks,
            fail,
        )
        self.calls: list[str] = []

    def all_configs(self) -> ConfigSet:
        return self.configs

    def running_runs(self) -> list[RunRow]:
        if "running" in self.fail:
            raise StoreError("throttled")
        return [r for rows in self._runs.values() for r in rows if r.status is RunStatus.RUNNING]

    def runs(
        self, pid: str, schedule: str | None = None, *, since_period: str | None = None
    ) -> list[RunRow]:
        self.calls.append(f"runs {pid}")
        if pid in self.fail:
            raise StoreError(f"{pid} unavailable")
        return [
            r
            for r in self._runs.get(pid, [])
            if schedule in (None, r.schedule) and (since_period is None or r.period >= since_period)
        ]

    def sensors(self, pid: str) -> dict[str, SensorRecord]:
        self.calls.append(f"sensors {pid}")
        return self._sensors.get(pid, {})

    def get_override(self, pid: str, name: str) -> Override | None:
        self.calls.append(f"override {pid} {name}")
        if pid not in self.overrides:
            return None
        return Override(name, self.overrides[pid], "ops", NOW, "testing")

    def get_ack(self, pid: str, schedule: str, period: str, *, now: datetime) -> object | None:
        self.calls.append(f"ack {pid} {period}")
        return object() if (pid, period) in self.acks else None

    def board_reads(
        self, schedules: dict[str, str], *, since_period: str, now: datetime
    ) -> BoardReads:
        self.calls.append("bulk " + ",".join(sorted(schedules)))
        if any(pid in self.fail for pid in schedules):
            raise StoreError("a partition is unavailable")
        out = BoardReads()
        for pid, schedule in schedules.items():
            out.sensors[pid] = dict(self._sensors.get(pid, {}))
            out.overrides[pid] = {}
            if pid in self.overrides:
                override = Override("dry-run", self.overrides[pid], "ops", NOW, "testing")
                out.overrides[pid]["dry-run"] = override
            out.unfinished[pid] = [  # runs_of() reads every row from here
                r
                for r in self._runs.get(pid, [])
                if r.schedule == schedule and r.period >= since_period
            ]
            out.acks[pid] = {
                period: cast("Any", object()) for who, period in self.acks if who == pid
            }
        return out


class FakeStore:
    def __init__(self, control: FakeControl) -> None:
        self.control = control


def test_gather_reads_runs_sensors_and_acks_within_the_lookback() -> None:
    rel = pipeline(pid="rel", trigger={"key": "orders"}, sla={"maxDuration": "2h"})
    dry = pipeline(pid="dry", trigger={"key": "orders"}, dry_run=True)
    configs = ConfigSet(
        configs={"orders": CRON_DAILY, "rel": rel, "dry": dry}, invalid={"bad": "not JSON"}
    )
    old = run("2026-02-01")
    today = run("2026-03-04")
    running = run("2026-03-04", RunStatus.RUNNING, pid="rel", schedule="stream")
    control = FakeControl(
        configs,
        runs={"orders": [old, today], "rel": [running]},
        sensors={"rel": {ARRIVAL: sensor(ARRIVAL, None, arrivedAt="2026-03-04T07:30:00Z")}},
        acks={("rel", "2026-03-04")},
    )
    got = gather(cast("Any", FakeStore(control)), now=NOW)
    assert got.errors == ("config bad: not JSON",)
    assert got.running == (running,)
    by_id = {p.config.id: p for p in got.pipelines}
    assert sorted(by_id) == ["dry", "orders", "rel"]
    assert dict(by_id["orders"].runs) == {"2026-03-04": today}
    assert by_id["rel"].acked == frozenset({"2026-03-04"})
    assert control.calls == ["bulk dry,orders,rel"]  # one bulk read, however many pipelines
    assert types(scan(got, now=NOW, calendars=NO_CALENDARS)) == [
        EventType.RELATIVE_SLA_BREACH,
        EventType.WATCHDOG_DEGRADED,
    ]


def test_gather_honours_the_dry_run_override() -> None:
    control = FakeControl(
        ConfigSet(configs={"orders": CRON_DAILY}), runs={}, sensors={}, overrides={"orders": True}
    )
    got = gather(cast("Any", FakeStore(control)), now=NOW)
    assert [(p.config.id, p.in_dry_run) for p in got.pipelines] == [("orders", True)]
    assert control.calls == ["bulk orders"]
    assert scan(got, now=NOW, calendars=NO_CALENDARS) == []


def test_gather_records_failed_reads_and_goes_on() -> None:
    other = pipeline(pid="other", cron="0 6 * * *")
    control = FakeControl(
        ConfigSet(configs={"orders": CRON_DAILY, "other": other}),
        runs={"other": [run("2026-03-04", pid="other")]},
        sensors={},
        fail={"orders", "running"},
    )
    got = gather(cast("Any", FakeStore(control)), now=NOW)
    # the bulk read failed: pipeline by pipeline, so the broken one does not hide the other
    assert control.calls == ["bulk orders,other", "override orders dry-run", "runs orders",
                             "override other dry-run", "runs other", "sensors other"]  # fmt: skip
    assert got.errors == ("running runs: throttled", "read orders: orders unavailable")
    assert [p.config.id for p in got.pipelines] == ["other"]


# ---------------------------------------------------------------------------------- edge cases


def test_recovery_starts_even_when_its_sla_cannot_be_computed() -> None:
    # An hourly :MM deadline cannot apply to a daily period: the run starts, the error is reported.
    cfg = pipeline(trigger={"key": "orders"}, sla={"deadline": ":30"})
    s = sensor("orders", NOW - timedelta(minutes=10), date="2026-03-04")
    ds = scan(inputs(cfg, sensors=[s]), now=NOW, calendars=NO_CALENDARS)
    assert types(ds) == [EventType.TRIGGER_RECOVERED, EventType.WATCHDOG_DEGRADED]
    assert not any(isinstance(a, ScheduleTimer) for a in ds[0].actions)
    assert "SLA timers not planned" in event(ds[1]).message


def test_several_fires_in_one_daily_period_are_one_alert() -> None:
    cfg = pipeline(cron="*/30 6 * * *")
    ds = scan(inputs(cfg, runs=[run("2026-03-03")]), now=utc(2026, 3, 4, 8), calendars=NO_CALENDARS)
    assert periods(ds) == ["2026-03-04"]
    assert event(ds[0]).detail["expectedTime"] == "2026-03-04T06:00:00Z"


def test_unreadable_arrival_field_falls_back_to_the_row_time() -> None:
    s = sensor(ARRIVAL, utc(2026, 3, 4, 7), arrivedAt="yesterday")
    ds = scan(inputs(REL, sensors=[s]), now=NOW, calendars=NO_CALENDARS)
    assert event(ds[0]).detail["sensorArrivalAt"] == "2026-03-04T07:00:00Z"


def test_arrival_row_without_any_time_is_skipped() -> None:
    assert scan(inputs(REL, sensors=[sensor(ARRIVAL, None)]), now=NOW, calendars=NO_CALENDARS) == []


def test_post_run_ignores_other_sensors_and_unfinished_runs() -> None:
    sensors = [
        sensor("orders", DONE + timedelta(minutes=5)),  # not a post-run key
        sensor("postrun-baseline#2026-03-04", DONE + timedelta(minutes=5)),  # bookkeeping
        sensor("quality-eu", DONE + timedelta(minutes=5)),  # prefix match: arrived
    ]
    ds = scan(
        inputs(
            POST,
            runs=[run("2026-03-04", finished=DONE), run("2026-03-03", RunStatus.FAILED_FINAL)],
            sensors=sensors,
        ),
        now=NOW,
        calendars=NO_CALENDARS,
    )
    assert ds == []
    ds = scan(
        inputs(POST, runs=[run("2026-03-04", finished=DONE)], sensors=sensors[:2]),
        now=NOW,
        calendars=NO_CALENDARS,
    )
    assert types(ds) == [EventType.POST_RUN_SENSOR_MISSING]


class BrokenConfigs(FakeControl):
    def all_configs(self) -> ConfigSet:
        raise StoreError("index unavailable")


def test_gather_reports_an_unreadable_config_index() -> None:
    got = gather(cast("Any", FakeStore(BrokenConfigs(ConfigSet(), runs={}, sensors={}))), now=NOW)
    assert got.errors == ("configs: index unavailable",)
    assert got.pipelines == ()


def test_gather_checks_acks_only_for_recent_arrivals() -> None:
    old = "first-sensor-arrival#2026-01-01"
    control = FakeControl(
        ConfigSet(configs={"orders": REL}),
        runs={},
        sensors={"orders": {old: sensor(old, utc(2026, 1, 1)), ARRIVAL: sensor(ARRIVAL, NOW)}},
        acks={("orders", "2026-01-01"), ("orders", "2026-03-04")},
    )
    got = gather(cast("Any", FakeStore(control)), now=NOW)
    assert got.pipelines[0].acked == frozenset({"2026-03-04"})


def test_deadlines_and_inclusions_before_the_config_was_pushed_are_not_reported() -> None:
    hourly = pipeline(trigger={"key": "orders", "deadline": ":45"})
    pushed = utc(2026, 3, 9, 14, 46)
    ds = scan(
        inputs(hourly, updated_at=pushed), now=utc(2026, 3, 9, 14, 50), calendars=NO_CALENDARS
    )
    assert ds == []
    ds = scan(
        inputs(incl(), updated_at=utc(2026, 3, 6, 0, 1)),
        now=utc(2026, 3, 6, 0, 30),
        calendars=NO_CALENDARS,
    )
    assert ds == []


# ------------------------------------------------------------------------------- expected-period SLA


def test_a_sensor_daily_pipeline_gets_its_expected_periods_sla_timers_armed_once() -> None:
    from interlock.lifecycle.actions import ScheduleTimer
    from interlock.lifecycle.watchdog import SLA_TIMERS_CLAIM

    cfg = pipeline(trigger={"key": "orders"}, sla={"deadline": "08:00", "expectedDuration": "30m"})
    now = utc(2026, 3, 4, 10)
    ds = scan(inputs(cfg), now=now, calendars=NO_CALENDARS)
    assert len(ds) == 1 and types(ds) == []
    claim, *timers = ds[0].actions
    assert claim == Claim("orders", SLA_TIMERS_CLAIM, "stream", "2026-03-04", now)
    assert [(t.at, t.payload["alert"]) for t in timers if isinstance(t, ScheduleTimer)] == [
        (utc(2026, 3, 5, 7, 30), "warning"),
        (utc(2026, 3, 5, 8), "breach"),
    ]
    # not when the period has a run (its start armed them), a cron pipeline, or a breach that fell
    # before Interlock watched the pipeline
    assert (
        scan(
            inputs(cfg, runs=[run("2026-03-04T09", schedule="stream")]),
            now=now,
            calendars=NO_CALENDARS,
        )
        == []
    )
    cron = pipeline(cron="0 6 * * *", sla={"deadline": "08:00"})
    assert not any(
        SLA_TIMERS_CLAIM in str(d.actions)
        for d in scan(inputs(cron, runs=[run("2026-03-04")]), now=now, calendars=NO_CALENDARS)
    )
    late = inputs(cfg, updated_at=utc(2026, 3, 5, 9))
    armed = scan(late, now=utc(2026, 3, 5, 9, 30), calendars=NO_CALENDARS)[0].actions[0]
    assert isinstance(armed, Claim) and armed.period == "2026-03-05"


def test_a_sensor_hourly_pipeline_gets_the_current_hours_sla_timers_armed_once() -> None:
    from interlock.lifecycle.watchdog import SLA_TIMERS_CLAIM

    def armed(cfg: PipelineConfig, now: datetime, **kw: Any) -> list[tuple[str | None, list[Any]]]:
        ds = scan(inputs(cfg, **kw), now=now, calendars=NO_CALENDARS)
        out: list[tuple[str | None, list[Any]]] = []
        for d in ds:
            claims = [a for a in d.actions if isinstance(a, Claim) and a.name == SLA_TIMERS_CLAIM]
            timers = [(t.at, t.payload["alert"]) for t in d.actions if isinstance(t, ScheduleTimer)]
            out += [(c.period, timers) for c in claims]
        return out

    # the hour expected at 10:20 is 10 (data due in hour 11: warning 11:20, breach 11:30)
    cfg = pipeline(trigger={"key": "orders"}, sla={"deadline": ":30", "expectedDuration": "10m"})
    now = utc(2026, 3, 4, 10, 20)
    assert armed(cfg, now) == [
        (
            "2026-03-04T10",
            [(utc(2026, 3, 4, 11, 20), "warning"), (utc(2026, 3, 4, 11, 30), "breach")],
        )
    ]
    # in the pipeline's zone: 10:20Z is 05:20 in New York (EST), the hour 05 of the local date
    ny = pipeline(trigger={"key": "orders"}, tz="America/New_York", sla={"deadline": ":30"})
    assert armed(ny, now) == [("2026-03-04T05", [(utc(2026, 3, 4, 11, 30), "breach")])]
    # not when the hour (or its day, as a daily run) has a run, nor on an excluded day
    assert armed(cfg, now, runs=[run("2026-03-04T10", schedule="stream")]) == []
    assert armed(cfg, now, runs=[run("2026-03-04", schedule="stream")]) == []
    assert armed(cfg, now, runs=[run("2026-03-04T09", schedule="stream")]) != []
    weekend = pipeline(
        trigger={"key": "orders"}, sla={"deadline": ":30"}, exclude={"weekends": True}
    )
    assert armed(weekend, utc(2026, 3, 7, 10, 20)) == []
    assert armed(weekend, utc(2026, 3, 9, 10, 20))[0][0] == "2026-03-09T10"
    holidays = pipeline(trigger={"key": "orders"}, sla={"deadline": ":30"}, calendar="us")
    cals = {"us": Calendar(name="us", dates=(date(2026, 3, 4),))}
    assert scan(inputs(holidays), now=now, calendars=cals) == []
