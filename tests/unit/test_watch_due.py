"""``interlock.lifecycle.watch_due.next_due``: a pass only at due times misses nothing a pass every few
minutes would find, across DST changes (TOOLING.md's croniter traps: a skipped local time fires at the
end of the gap, a repeated one once).

The reference runs :func:`scan` every 7 minutes over a window; the index runs it at ``t0`` and then
only at each pipeline's :func:`next_due`. Every alert the reference finds, the index finds, no later.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from interlock.config.models import Calendar, PipelineConfig
from interlock.lifecycle.actions import Claim, PublishEvent
from interlock.lifecycle.watch_due import next_due
from interlock.lifecycle.watchdog import PipelineInputs, WatchdogInputs, scan
from interlock.records import RunRow, RunStatus, SensorRecord
from interlock.schedule import cron_period, fires_between
from interlock.store import keys

NY = "America/New_York"
LONDON = "Europe/London"
NO_CALENDARS: dict[str, Calendar] = {}
_JOB = {"type": "command", "config": {"command": "true"}}


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def cfg(pid: str, schedule: dict[str, Any], **extra: Any) -> PipelineConfig:
    doc: dict[str, Any] = {"pipeline": {"id": pid}, "schedule": schedule, "job": _JOB, **extra}
    return PipelineConfig.model_validate(doc)


def done(pid: str, schedule: str, period: str, finished: datetime | None = None) -> RunRow:
    return RunRow(pid, schedule, period, RunStatus.COMPLETED, attempt=1, finished_at=finished)


def sensor(key: str, written: datetime, **fields: Any) -> SensorRecord:
    item = {"PK": "PIPELINE#x", "SK": f"SENSOR#{key}", "data": fields}
    item["updatedAt"] = keys.format_time(written)
    return SensorRecord.from_item(item)


def _cron_runs(
    config: PipelineConfig, start: datetime, end: datetime, skip: int
) -> dict[str, RunRow]:
    """Runs for the cron's periods in [start, end), all but every ``skip``-th (those are missed)."""
    cron, tz = config.schedule.cron, config.schedule.timezone
    assert cron is not None
    runs: dict[str, RunRow] = {}
    for n, fire in enumerate(fires_between(cron, tz, start, end)):
        period = cron_period(cron, tz, fire).id
        if n % skip:
            runs[period] = done(config.id, "cron", period)
    return runs


def world(t0: datetime, end: datetime) -> list[PipelineInputs]:
    """Pipelines whose alerts fall due at many instants of the window, DST edges included."""
    pushed = t0 - timedelta(days=3)
    span = (t0 - timedelta(days=2), end)
    pipes: list[PipelineInputs] = []
    for pid, schedule in (
        ("hourly-utc", {"cron": "0 * * * *"}),
        ("hourly-ny", {"cron": "15 * * * *", "timezone": NY}),
        ("ny-0230", {"cron": "30 2 * * *", "timezone": NY}),  # skipped on spring-forward day
        ("ny-0130", {"cron": "30 1 * * *", "timezone": NY}),  # repeated on fall-back day
        ("london-0130", {"cron": "30 1 * * *", "timezone": LONDON}),
        ("london-time", {"cron": "0 6 * * *", "timezone": LONDON, "time": "09:00"}),
    ):
        config = cfg(pid, schedule)
        pipes.append(
            PipelineInputs(config, runs=_cron_runs(config, *span, skip=3), config_updated_at=pushed)
        )
    trigger = {"key": "landed", "check": "exists"}
    for pid, deadline, tz in (
        ("deadline-ny", "02:30", NY),
        ("deadline-hourly-ny", ":45", NY),
        ("deadline-london", "01:30", LONDON),
    ):
        config = cfg(pid, {"trigger": {**trigger, "deadline": deadline}, "timezone": tz})
        pipes.append(PipelineInputs(config, config_updated_at=pushed))
    included = cfg(
        "included",
        {"trigger": trigger, "timezone": NY, "time": "02:30",
         "include": {"dates": [(t0 + timedelta(days=d)).date().isoformat() for d in range(3)]}},
    )  # fmt: skip
    pipes.append(PipelineInputs(included, config_updated_at=pushed))
    relative = cfg(
        "relative",
        {"trigger": trigger, "timezone": NY},
        sla={"maxDuration": "20h"},
        postRun={"rules": [{"key": "audit", "check": "exists"}], "sensorTimeout": "6h"},
    )
    arrivals = {
        keys.bookkeeping_key(keys.FIRST_SENSOR_ARRIVAL, day): sensor(
            keys.bookkeeping_key(keys.FIRST_SENSOR_ARRIVAL, day),
            t0 - timedelta(hours=h),
            arrivedAt=keys.format_time(t0 - timedelta(hours=h)),
        )
        for day, h in (("2026-01-01", 1), ("2026-01-02", 7), ("2026-01-03", 13))
    }
    finished = {
        f"2025-12-{d:02d}": done("relative", "stream", f"2025-12-{d:02d}", t0 - timedelta(hours=h))
        for d, h in ((10, 1), (11, 3), (12, 5))
    }
    pipes.append(PipelineInputs(relative, runs=finished, sensors=arrivals))
    for pid, tz, deadline in (
        ("expected-ny", NY, "02:30"),
        ("expected-london", LONDON, "02:30"),
        ("expected-hourly-ny", NY, ":45"),
        ("expected-hourly-london", LONDON, ":15"),
    ):
        expected = cfg(pid, {"trigger": trigger, "timezone": tz}, sla={"deadline": deadline})
        pipes.append(PipelineInputs(expected, config_updated_at=pushed))
    recover = cfg("recover", {"trigger": trigger})
    pipes.append(
        PipelineInputs(
            recover,
            sensors={
                "landed": sensor("landed", t0 - timedelta(minutes=2), date="2026-01-05"),
                "landed-b": sensor("landed-b", t0 - timedelta(minutes=1), date="2026-01-06"),
            },
        )
    )
    return pipes


def _alerts(p: PipelineInputs, now: datetime) -> set[tuple[str, str | None]]:
    """What a pass decides: events published, and claims (SLA timers armed ahead publish nothing)."""
    decisions = scan(WatchdogInputs(pipelines=(p,)), now=now, calendars=NO_CALENDARS)
    return {
        (a.type.value, a.period) if isinstance(a, PublishEvent) else (a.name, a.period)
        for d in decisions
        for a in d.actions
        if isinstance(a, PublishEvent | Claim)
    }


WINDOWS = {
    "us-spring-forward": utc(2026, 3, 7, 3, 1),
    "uk-spring-forward": utc(2026, 3, 28, 3, 1),
    "uk-fall-back": utc(2026, 10, 24, 3, 1),
    "us-fall-back": utc(2026, 10, 31, 3, 1),
}


@pytest.mark.parametrize("t0", WINDOWS.values(), ids=WINDOWS.keys())
def test_passes_at_due_times_find_every_alert_no_later(t0: datetime) -> None:
    end = t0 + timedelta(hours=54)
    for p in world(t0, end):
        reference: dict[tuple[str, str | None], datetime] = {}
        at = t0
        while at <= end:
            for alert in _alerts(p, at):
                reference.setdefault(alert, at)
            at += timedelta(minutes=7)
        found: dict[tuple[str, str | None], datetime] = {}
        at, wakes = t0, 0
        while at <= end:
            wakes += 1
            for alert in _alerts(p, at):
                found.setdefault(alert, at)
            due = next_due(p, now=at)
            if due is None:
                break
            assert due > at
            at = due
        late = {k: (found.get(k), v) for k, v in reference.items() if found.get(k, end) > v}
        assert not late, f"{p.config.id}: found late or never (index, reference): {late}"
        assert reference, f"{p.config.id}: the window has nothing due; the case proves nothing"
        # far fewer passes than the 7-minute reference (the hourly ones wake once an hour)
        assert wakes <= 3 * 54 + 2, (p.config.id, wakes)


def test_dry_run_pipeline_is_never_due() -> None:
    trigger = {"key": "landed", "check": "exists", "deadline": ":30"}
    config = cfg("dry", {"trigger": trigger}, dryRun=True)
    assert next_due(PipelineInputs(config), now=utc(2026, 3, 4, 9)) is None


def test_stream_pipeline_without_deadline_waits_for_a_row() -> None:
    config = cfg("quiet", {"trigger": {"key": "landed", "check": "exists"}})
    assert next_due(PipelineInputs(config), now=utc(2026, 3, 4, 9)) is None


def test_cron_due_is_the_grace_after_the_next_fire() -> None:
    config = cfg("hourly", {"cron": "0 * * * *"})
    due = next_due(PipelineInputs(config), now=utc(2026, 3, 4, 9, 20))
    assert due == utc(2026, 3, 4, 10, 15) + timedelta(microseconds=1)
    # exactly at a fire's grace the fire is not missed yet (the scan's end is exclusive): still due
    due = next_due(PipelineInputs(config), now=utc(2026, 3, 4, 9, 15))
    assert due == utc(2026, 3, 4, 9, 15) + timedelta(microseconds=1)


def test_naive_now_is_refused() -> None:
    config = cfg("hourly", {"cron": "0 * * * *"})
    with pytest.raises(ValueError, match="timezone-aware"):
        next_due(PipelineInputs(config), now=datetime(2026, 3, 4, 9))  # noqa: DTZ001 - the point
