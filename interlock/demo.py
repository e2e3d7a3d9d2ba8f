"""The demo world: the example pipelines through one generated day.

::

    demo_timeline(day)  ──▶  JSON-lines-shaped entries (sensors, job behaviour, operator actions)
         │                    the same format as ``interlock simulate --timeline``
         ├─ run_headless(): interlock.local.simulate on a virtual clock → a readable timeline
         └─ LiveDemo:       the embedded runtime on an accelerated clock, writing a real store that
                            ``interlock-tui`` watches (``make demo`` in a terminal)

The day shows, in UTC: ``silver-cdr-day`` run just after midnight, then post-run drift and a drift
rerun, and later a second drift whose rerun is rejected (budget spent); ``bronze-cdr-hourly`` hourly
runs, one hour whose data stays incomplete (validation exhausted); ``gold-revenue`` evaluating at its
08:00 cron, failing once and succeeding on its automatic retry; ``silver-orders`` whose HTTP trigger
keeps failing (trigger retries exhausted) until an operator reruns it; ``finance-close`` (07:00
New York) waiting for late FX rates: SLA warning, an operator's acknowledgement, SLA breach; ``ml-training`` past
its relative SLA; ``dryrun-weather`` in dry run, with would-trigger, SLA projections, late data and drift.

This module is the day's one source. ``examples/timelines/demo-day.jsonl`` is its timeline for
:data:`EXAMPLE_DAY`, generated, never edited by hand (a test checks the two agree)::

    interlock demo --day 2026-03-02 --write-timeline examples/timelines/demo-day.jsonl
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from interlock.clock import AcceleratedClock
from interlock.store import keys

if TYPE_CHECKING:
    from collections.abc import Iterator

    from interlock.config.loader import Project
    from interlock.local.simulate import Entry, SimulationResult
    from interlock.store.factory import Store

__all__ = [
    "EXAMPLE_DAY",
    "AcceleratedClock",
    "LiveDemo",
    "demo_day",
    "demo_timeline",
    "run_headless",
    "timeline_lines",
]

EXAMPLE_DAY: Final = date(2026, 3, 2)
"""The day of the checked-in timeline ``examples/timelines/demo-day.jsonl``."""

DEFAULT_SPEED: Final = 120.0
"""Live demo: virtual seconds per wall second (a day in 12 minutes)."""


def demo_day(today: date | None = None) -> date:
    """The day the demo plays: the given day, or today (UTC)."""
    return today or datetime.now(UTC).date()


def _at(day: date, hour: int, minute: int = 0) -> str:
    instant = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
        hours=hour, minutes=minute
    )
    return keys.format_time(instant)


def demo_timeline(day: date) -> list[dict[str, Any]]:
    """The demo day's timeline entries (see the module docstring), in time order."""
    d = day.isoformat()
    prev = (day - timedelta(days=1)).isoformat()
    out: list[dict[str, Any]] = []

    def sensor(h: int, m: int, pid: str, key: str, **data: Any) -> None:
        out.append({"at": _at(day, h, m), "sensor": {"pipeline": pid, "key": key, "data": data}})

    def jobs(h: int, m: int, pid: str, duration: str, outcome: str = "success") -> None:
        out.append(
            {
                "at": _at(day, h, m),
                "jobs": {"pipeline": pid, "duration": duration, "outcome": outcome},
            }
        )

    # job behaviour first (same-instant entries keep this order)
    jobs(0, 0, "silver-cdr-day", "20m")
    jobs(0, 0, "bronze-cdr-hourly", "3m")
    jobs(0, 0, "gold-revenue", "10m", "fail")
    jobs(0, 0, "silver-orders", "5m", "trigger-error")
    jobs(0, 0, "finance-close", "55m")
    jobs(0, 0, "ml-training", "50m")
    jobs(0, 0, "dryrun-weather", "5m")

    # silver-cdr-day: yesterday's CDRs, then drift twice
    sensor(0, 10, "silver-cdr-day", "cdr-quality", date=prev, null_ratio=0.004)
    sensor(
        0,
        20,
        "silver-cdr-day",
        "daily-status",
        date=prev,
        all_hours_complete=True,
        record_count=98000,
    )
    sensor(
        5,
        30,
        "silver-cdr-day",
        "daily-status",
        date=prev,
        all_hours_complete=True,
        record_count=99100,
    )
    sensor(
        10,
        0,
        "silver-cdr-day",
        "daily-status",
        date=prev,
        all_hours_complete=True,
        record_count=100400,
    )

    # bronze-cdr-hourly: every hour's data at H:05 (Europe/London, GMT in March); hour 03 stays
    # incomplete. An hour with no sensor at all would warn and breach ("not started", expected-sla)
    for hour in range(24):
        pct = 0.5 if hour == 3 else 0.96
        sensor(
            hour,
            5,
            "bronze-cdr-hourly",
            "hourly-status",
            date=d,
            hour=f"{hour:02d}",
            complete=True,
            pct_of_expected=pct,
        )

    # gold-revenue: ready before its 08:00 cron; the first job fails, the retry succeeds
    sensor(7, 40, "gold-revenue", "upstream-complete", status="ready")
    sensor(7, 40, "gold-revenue", "row-count", count=15432)
    sensor(7, 45, "gold-revenue", "freshness", updatedAt=_at(day, 7, 45))
    jobs(7, 55, "gold-revenue", "25m")

    # silver-orders: the HTTP trigger keeps failing; an operator reruns it once it is fixed
    sensor(6, 0, "silver-orders", "orders-landed", count=4200)
    jobs(7, 0, "silver-orders", "5m")
    out.append(
        {
            "at": _at(day, 7, 5),
            "rerun": {"pipeline": "silver-orders", "date": d, "reason": "manual", "by": "bob"},
        }
    )

    # finance-close: 07:00 New York; data ready early, the job runs long
    sensor(10, 30, "finance-close", "ledger-extract", rows=5000, extractedAt=_at(day, 10, 30))
    sensor(13, 8, "finance-close", "fx-rates", published=True)  # late: the 13:10 evaluation passes

    # ml-training: relative SLA of 45 minutes from the first data-prep, the job takes 50
    sensor(9, 0, "ml-training", "feature-store", compacting_since=_at(day, 8, 0))
    sensor(9, 5, "ml-training", "data-prep", complete=True, updated_at=_at(day, 9, 5))

    # dryrun-weather: hourly, observe only
    for hour in range(12):
        if hour == 5:
            sensor(
                hour,
                10,
                "dryrun-weather",
                "weather-audit",
                date=d,
                hour=f"{hour:02d}",
                total_readings=14,
            )
        sensor(
            hour,
            20,
            "dryrun-weather",
            "weather-ready",
            date=d,
            hour=f"{hour:02d}",
            complete=True,
            total_readings=14,
        )
    sensor(
        2,
        50,
        "dryrun-weather",
        "weather-ready",
        date=d,
        hour="02",
        complete=True,
        total_readings=15,
    )
    sensor(5, 50, "dryrun-weather", "weather-audit", date=d, hour="05", total_readings=16)
    out.sort(key=lambda e: e["at"])  # stable: same-instant entries keep their order
    return out


def _finance_ack(day: date, out: list[dict[str, Any]]) -> None:
    """finance-close's SLA: acknowledged by on-call after the warning (13:15 UTC in winter)."""
    out.append(
        {
            "at": _at(day, 13, 20),
            "ack": {
                "pipeline": "finance-close",
                "date": day.isoformat(),
                "by": "alice",
                "reason": "ledger vendor is late; finance informed",
            },
        }
    )
    out.sort(key=lambda e: e["at"])


def timeline_lines(day: date) -> list[str]:
    """The demo timeline as JSON lines (what ``interlock demo --write-timeline`` writes, one a line)."""
    entries = demo_timeline(day)
    _finance_ack(day, entries)
    return [json.dumps(e, separators=(", ", ": ")) for e in entries]


def _entries(day: date) -> list[Entry]:
    from interlock.local.simulate import parse_timeline

    return parse_timeline(timeline_lines(day), source="demo")


def run_headless(project: Project, day: date, *, hours: int = 24) -> SimulationResult:
    """Simulate the demo day on a virtual clock (seconds of wall time).

    Args:
        project: the example pipelines and calendars.
        day: the day to play.
        hours: how much of the day to play.
    """
    from interlock.local.simulate import simulate

    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    end = start + timedelta(hours=hours)
    # --hours plays part of the day: the day's later events are simply not played
    entries = [entry for entry in _entries(day) if entry.at <= end]
    return simulate(project, entries, start=start, end=end)


@dataclass
class LiveDemo:
    """The demo world running live on an accelerated clock, in a background thread.

    Args:
        store: where the world lives (the TUI opens the same store).
        project: the example pipelines.
        clock: the accelerated clock.
        day: the day played.
    """

    store: Store
    project: Project
    clock: AcceleratedClock
    day: date

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Push the configs and start the world's thread."""
        self._thread = threading.Thread(target=self._run, name="interlock-demo", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the world's thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        from interlock.local.runtime import EmbeddedRuntime
        from interlock.local.simulate import JobBehaviour, SimulatedRunner, apply_entry
        from interlock.service.operator import Operator

        runner = SimulatedRunner(self.clock, JobBehaviour())
        for config in self.project.pipelines.values():
            self.store.control.put_config(config, now=self.clock.now())
        runtime = EmbeddedRuntime.build(
            self.store,
            clock=self.clock,
            triggers=lambda _type: runner,
            calendars=self.project.calendars,
        )
        pending: Iterator[Entry] = iter(_entries(self.day))
        upcoming = next(pending, None)
        while upcoming is not None and upcoming.at < self.clock.now() - timedelta(hours=1):
            upcoming = next(pending, None)  # the past of a day joined late is skipped
        while not self._stop.is_set():
            now = self.clock.now()
            while upcoming is not None and upcoming.at <= now:
                actor = upcoming.body.get("by")
                operator = Operator(
                    self.store,
                    bus=runtime.executor.bus,
                    clock=self.clock,
                    actor=actor if isinstance(actor, str) else "demo",
                )
                apply_entry(
                    upcoming, store=self.store, runner=runner, operator=operator, clock=self.clock
                )
                upcoming = next(pending, None)
            runtime.tick()
            self._stop.wait(0.25)
