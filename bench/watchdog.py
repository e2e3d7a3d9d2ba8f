"""Watchdog pass over many pipelines: the due-index pass vs the sweep that reads every pipeline.

Run with ``make bench`` (or ``.venv/bin/python bench/watchdog.py [--pipelines N] [--rounds R]``).
Prints numbers; asserts nothing.

What is measured, on a SQLite store in a temporary directory holding N pipeline configs (a mix: hourly
cron, daily cron in New York with ``schedule.time``, stream with a trigger deadline, stream with a
relative SLA and post-run rules), each with a completed run for the current period:

* **catch-up**: every config was just pushed (``put_config`` marks it due) on a new store (a sweep is
  due): passes a minute apart, each reading at most ``DUE_BATCH`` due pipelines and sweeping
  ``SWEEP_BATCH`` more, until nothing is due. Reading all N in one pass is what every pass cost
  before the due index.
* **idle pass**: ``Controller.watchdog`` a minute later, with nothing due: the pass Interlock runs every
  5 minutes. Wall time (median, min, max of R rounds) and the store calls it made.
* **due pass**: at the top of the next hour + grace every hourly-cron pipeline is due (and the
  post-run timeouts of the runs that completed at the start): the passes until all are read.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from interlock.config.models import PipelineConfig  # noqa: E402 - after the path tweak
from interlock.local.runtime import EmbeddedRuntime  # noqa: E402
from interlock.ports import VirtualClock  # noqa: E402
from interlock.service.reads import DUE_BATCH, SWEEP_BATCH  # noqa: E402
from interlock.store import keys, open_store  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Callable

NOW = datetime(2026, 3, 4, 9, 20, tzinfo=UTC)
_JOB = {"type": "command", "config": {"command": "true"}}


def config(i: int) -> PipelineConfig:
    """Pipeline ``i`` of the mix (four kinds, in turn)."""
    pid = f"p{i:05d}"
    kind = i % 4
    doc: dict[str, Any] = {"pipeline": {"id": pid}, "job": _JOB}
    rules = [{"key": "landed", "check": "exists"}]
    if kind == 0:
        doc["schedule"] = {"cron": "0 * * * *"}
    elif kind == 1:
        doc["schedule"] = {"cron": "0 6 * * *", "timezone": "America/New_York", "time": "07:00"}
    elif kind == 2:
        doc["schedule"] = {"trigger": {"key": "landed", "check": "exists", "deadline": "23:00"}}
    else:
        doc["schedule"] = {"trigger": {"key": "landed", "check": "exists"}}
        doc["sla"] = {"maxDuration": "2h"}
        doc["postRun"] = {"rules": [{"key": "audit", "check": "exists"}], "sensorTimeout": "1h"}
    doc["validation"] = {"rules": rules}
    return PipelineConfig.model_validate(doc)


class _Counting:
    """Counts the Table calls the watchdog makes (one per Query page / GetItem / write)."""

    def __init__(self, table: Any, counts: Counter[str]) -> None:
        self._table = table
        self._counts = counts

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._table, name)
        if name in ("get", "put", "update", "delete", "query", "count") and callable(attr):
            counts = self._counts

            def counted(*args: Any, **kwargs: Any) -> Any:
                counts[name] += 1
                return attr(*args, **kwargs)

            return counted
        return attr


def _done_runs(cfg: PipelineConfig, i: int) -> list[dict[str, Any]]:
    """COMPLETED run rows for every period of the last two days up to now: nothing is missed."""
    finished = keys.format_time(NOW - timedelta(minutes=20))
    if i % 4 == 0:
        hours = [NOW - timedelta(hours=h) for h in range(50)]
        periods = [f"{t:%Y-%m-%dT%H}" for t in hours]
    else:
        periods = ["2026-03-02", "2026-03-03", "2026-03-04"]
    return [
        {
            "PK": keys.pipeline_pk(cfg.id),
            "SK": keys.trigger_sk(cfg.schedule_id, period),
            "status": "COMPLETED",
            "attempt": 1,
            "updatedAt": finished,
            "finishedAt": finished,
        }
        for period in periods
    ]


def _timed(op: Callable[[], object]) -> float:
    began = time.perf_counter()
    op()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipelines", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    n = args.pipelines
    clock = VirtualClock(NOW - timedelta(hours=1))
    with (
        tempfile.TemporaryDirectory() as tmp,
        open_store(
            f"sqlite:///{Path(tmp) / 'watchdog.db'}", now=lambda: clock.now().timestamp()
        ) as store,
    ):
        began = time.perf_counter()
        runs: list[dict[str, Any]] = []
        for i in range(n):
            cfg = config(i)
            store.control.put_config(cfg, now=NOW - timedelta(days=2))
            runs += _done_runs(cfg, i)
        store.tables["control"].put_many(runs)  # type: ignore[attr-defined]
        seeded = time.perf_counter() - began
        counts: Counter[str] = Counter()
        control_table = store.tables["control"]
        store.control.table = _Counting(control_table, counts)
        runtime = EmbeddedRuntime.build(
            store,
            clock=clock,
            triggers=lambda _t: None,  # type: ignore[arg-type, return-value]
            watchdog_interval=None,
        )
        controller = runtime.controller
        clock.set(NOW)
        # every config was just pushed (put_config marks it due) and the store is new (a sweep is
        # due): the passes catch up, DUE_BATCH due and SWEEP_BATCH swept a pass
        at = NOW
        catch_up, catch_calls = _until_quiet(controller, store, counts, at)
        at += timedelta(minutes=len(catch_up))
        idle: list[float] = []
        idle_calls = 0
        for _ in range(args.rounds):
            counts.clear()
            at += timedelta(minutes=1)
            idle.append(_timed(lambda at=at: controller.watchdog(at)))  # type: ignore[misc]
            idle_calls = sum(counts.values())
        due_at = datetime(2026, 3, 4, 10, 16, tzinfo=UTC)
        due, due_calls = _until_quiet(controller, store, counts, due_at)
    print(f"watchdog: {n:,} pipelines on SQLite (seeded in {seeded:.1f} s)")
    print(
        f"  catch-up after pushing {n:,} configs: {len(catch_up)} passes "
        f"({DUE_BATCH:,} due + {SWEEP_BATCH:,} swept each), median {statistics.median(catch_up):.2f} s, "
        f"max {max(catch_up):.2f} s, up to {catch_calls:,} store calls"
    )
    print(
        f"  idle pass (nothing due)         {statistics.median(idle) * 1000:8.1f} ms  "
        f"(min {min(idle) * 1000:.1f}, max {max(idle) * 1000:.1f}, {args.rounds} rounds)"
        f"   {idle_calls} store calls   target ≤ 1 s"
    )
    print(
        f"  due pass (hourly crons and post-run timeouts due at once, {DUE_BATCH:,} a pass) "
        f"{max(due):.2f} s (max of {len(due)} passes, median {statistics.median(due):.2f} s), "
        f"up to {due_calls:,} store calls"
    )


def _until_quiet(
    controller: Any, store: Any, counts: Counter[str], start: datetime
) -> tuple[list[float], int]:
    """Passes a minute apart from ``start`` until one reads nothing and no sweep is under way."""
    times: list[float] = []
    calls = 0
    at = start
    while True:
        counts.clear()
        handled: list[Any] = []
        took = _timed(lambda at=at, out=handled: out.append(controller.watchdog(at)))  # type: ignore[misc]
        calls = max(calls, sum(counts.values()))
        if not handled[0].watched and store.control.sweep_state()[1] is None:
            return times or [took], calls
        times.append(took)
        at += timedelta(minutes=1)


if __name__ == "__main__":
    main()
