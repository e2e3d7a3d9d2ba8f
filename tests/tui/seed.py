"""A small world for the API and TUI tests: the example pipelines at 08:41 UTC on Monday 2026-03-02.

::

    pipeline           period         state       why
    bronze-cdr-hourly  2026-03-02T07  failed      job failed 08:12 (PERMANENT), SLA breached 08:15, acked
    gold-revenue       2026-03-02     evaluating  2/3 rules (freshness is 2h31m old), SLA warns 09:30
    silver-cdr-day     2026-03-02     waiting     no daily-status yet
    ml-training        2026-03-02     waiting     no data-prep sensor
    dryrun-weather     2026-03-02T08  dry-run     would have triggered 08:05
    silver-orders      2026-03-02     succeeded   job completed 08:12
    finance-close      2026-02-27     succeeded   Friday's close, met its SLA
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from interlock.config.loader import load_project
from interlock.events import Event, EventType
from interlock.records import JobEvent, RunStatus

if TYPE_CHECKING:
    from interlock.store.factory import Store

NOW = datetime(2026, 3, 2, 8, 41, tzinfo=UTC)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def at(hh: int, mm: int, day: int = 2) -> datetime:
    """An instant on 2026-03-``day`` (UTC)."""
    return datetime(2026, 3, day, hh, mm, tzinfo=UTC) if day >= 1 else NOW


def _run(
    store: Store,
    pid: str,
    schedule: str,
    period: str,
    start: datetime,
    end: datetime | None,
    status: RunStatus,
    *,
    error: str | None = None,
    category: str | None = None,
) -> None:
    c = store.control
    c.acquire_run(
        pid,
        schedule,
        period,
        now=start,
        lock_ttl=timedelta(days=30) if end is not None else timedelta(hours=4),
    )
    if end is None:
        return
    event = JobEvent.SUCCESS if status is RunStatus.COMPLETED else JobEvent.FAIL
    store.joblog.append(pid, schedule, period, event, now=end, error=error, category=category)
    c.set_run_status(pid, schedule, period, status, now=end)


def _event(
    store: Store, type_: EventType, pid: str, when: datetime, period: str | None, **kw: str
) -> None:
    schedule = kw.pop("schedule", "stream") if period else None
    store.events.append(
        Event.create(type_, pid, now=when, schedule_id=schedule, date=period, **kw)  # type: ignore[arg-type]
    )


# The seven example pipelines this world describes (the snapshots show them); later examples (one
# per job type) are not part of it.
SEEDED = (
    "bronze-cdr-hourly",
    "dryrun-weather",
    "finance-close",
    "gold-revenue",
    "ml-training",
    "silver-cdr-day",
    "silver-orders",
)


def seed_world(store: Store) -> None:
    """Write the world described in the module docstring into ``store``."""
    project = load_project(EXAMPLES / "pipelines", calendars=EXAMPLES / "calendars")
    c = store.control
    for pid in SEEDED:
        c.put_config(project.pipelines[pid], now=at(6, 0))

    # gold-revenue: evaluating, one stale sensor; a history of runs.
    c.put_sensor("gold-revenue", "upstream-complete", {"status": "ready"}, now=at(8, 5))
    c.put_sensor("gold-revenue", "row-count", {"count": 15432}, now=at(7, 50))
    c.put_sensor("gold-revenue", "freshness", {"updatedAt": "2026-03-02T06:10:00Z"}, now=at(6, 10))
    _run(
        store, "gold-revenue", "cron", "2026-03-01", at(8, 5, 1), at(8, 36, 1), RunStatus.COMPLETED
    )
    _run(
        store,
        "gold-revenue",
        "cron",
        "2026-02-28",
        at(8, 5, 1) - timedelta(days=1),
        at(8, 34, 1) - timedelta(days=1),
        RunStatus.COMPLETED,
    )
    store.reruns.record("gold-revenue", "cron", "2026-03-01", reason="data-drift", now=at(9, 0, 1))

    # bronze-cdr-hourly: the 07 hour failed and breached its SLA; someone acknowledged it.
    c.put_sensor(
        "bronze-cdr-hourly",
        "hourly-status",
        {"complete": True, "pct_of_expected": 0.95, "date": "2026-03-02", "hour": "07"},
        now=at(8, 2),
    )
    _run(
        store,
        "bronze-cdr-hourly",
        "stream",
        "2026-03-02T07",
        at(8, 3),
        at(8, 12),
        RunStatus.FAILED_FINAL,
        error="audit lambda: table not found",
        category="PERMANENT",
    )
    c.ack_sla(
        "bronze-cdr-hourly",
        "stream",
        "2026-03-02T07",
        by="alice",
        reason="upstream outage INC-42",
        until=at(10, 0),
        now=at(8, 20),
    )

    # silver-orders: done for today.
    c.put_sensor(
        "silver-orders", "orders-landed", {"date": "2026-03-02", "count": 1200}, now=at(7, 58)
    )
    _run(store, "silver-orders", "stream", "2026-03-02", at(8, 0), at(8, 12), RunStatus.COMPLETED)

    # dryrun-weather: observing only.
    c.put_sensor(
        "dryrun-weather",
        "weather-ready",
        {"complete": True, "total_readings": 14, "date": "2026-03-02", "hour": "08"},
        now=at(8, 5),
    )
    c.mark_dry_run("dryrun-weather", "stream", "2026-03-02T08", now=at(8, 5))

    # finance-close: Friday's close ran and met its SLA (09:00 New York = 14:00 UTC).
    _run(
        store,
        "finance-close",
        "cron",
        "2026-02-27",
        at(12, 0, 1) - timedelta(days=2),
        at(12, 40, 1) - timedelta(days=2),
        RunStatus.COMPLETED,
    )

    for type_, pid, when, period, extra in (
        (
            EventType.JOB_COMPLETED,
            "finance-close",
            at(12, 40, 1) - timedelta(days=2),
            "2026-02-27",
            {"schedule": "cron"},
        ),
        (EventType.JOB_COMPLETED, "gold-revenue", at(8, 36, 1), "2026-03-01", {"schedule": "cron"}),
        (EventType.SLA_MET, "gold-revenue", at(8, 36, 1), "2026-03-01", {"schedule": "cron"}),
        (EventType.JOB_TRIGGERED, "bronze-cdr-hourly", at(8, 3), "2026-03-02T07", {}),
        (EventType.JOB_TRIGGERED, "silver-orders", at(8, 0), "2026-03-02", {}),
        (EventType.DRY_RUN_WOULD_TRIGGER, "dryrun-weather", at(8, 5), "2026-03-02T08", {}),
        (EventType.JOB_COMPLETED, "silver-orders", at(8, 12), "2026-03-02", {}),
        (
            EventType.JOB_FAILED,
            "bronze-cdr-hourly",
            at(8, 12, 2) + timedelta(seconds=1),
            "2026-03-02T07",
            {"message": "audit lambda: table not found"},
        ),
        (EventType.SLA_BREACH, "bronze-cdr-hourly", at(8, 15), "2026-03-02T07", {}),
        (
            EventType.SLA_ACKNOWLEDGED,
            "bronze-cdr-hourly",
            at(8, 20),
            "2026-03-02T07",
            {"actor": "alice"},
        ),
        (EventType.SCHEDULE_MISSED, "ml-training", at(8, 30), None, {}),
    ):
        _event(store, type_, pid, when, period, **extra)
