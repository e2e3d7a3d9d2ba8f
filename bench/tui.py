"""TUI responsiveness: time to first paint of a 1,000-pipeline board, and whether the live tail keeps up.

Run with ``.venv/bin/python bench/tui.py [--pipelines N] [--events N] [--rate R] [--seconds S]``. Prints
numbers; asserts nothing (DESIGN §8: benchmarks are never timed tests).

1. Seeds a temporary SQLite store: N pipelines (copies of examples/pipelines/gold-revenue.yaml, each with
   its three sensors) and M events spread over the 48 hours before a fixed instant (bulk ``put_many``).
2. First paint: builds the app with ``make_app`` and runs it headless (``run_test``); the time from
   starting the app until the board's table holds every pipeline. ``Interlock.board()`` alone is timed too.
3. Tail: opens the events screen (polling every ``--poll`` seconds), starts a writer thread that appends R
   events/s through a second store opened on the same file for S seconds, and samples the table; the lag
   of an event is the time from its write until the table shows it.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from interlock.api import Interlock  # noqa: E402 - after the path setup, as in bench/store.py
from interlock.config.loader import load_project  # noqa: E402
from interlock.events import Event, EventType  # noqa: E402
from interlock.ports import VirtualClock  # noqa: E402
from interlock.store import keys  # noqa: E402
from interlock.store.factory import open_store  # noqa: E402
from tui.app import make_app  # noqa: E402
from tui.screens.events_screen import EventsScreen  # noqa: E402
from tui.widgets.event_table import EventTable  # noqa: E402
from tui.widgets.pipeline_table import PipelineTable  # noqa: E402

if TYPE_CHECKING:
    from interlock.store.factory import Store

NOW = datetime(2026, 3, 2, 8, 41, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]
_TYPES = (EventType.JOB_TRIGGERED, EventType.JOB_COMPLETED, EventType.SLA_MET, EventType.JOB_FAILED)


def _event_item(i: int, pid: str, at: datetime, type_: EventType) -> dict[str, Any]:
    """An events-table row as ``EventStore.append`` writes it (built here so ``put_many`` can bulk-load)."""
    ms = keys.epoch_ms(at)
    return {
        "PK": keys.pipeline_pk(pid),
        "SK": keys.event_sk(ms, type_.value, f"{i:08x}"),
        "eventType": type_.value,
        "pipelineId": pid,
        "message": f"{type_.value} for {pid} (bench #{i})",
        "timestamp": ms,
        "detail": {},
        "GSI2PK": keys.events_hour_pk(at),
        "ttl": keys.epoch_seconds(at + timedelta(days=90)),
    }


def seed(store: Store, pipelines: int, events: int) -> list[str]:
    """Write ``pipelines`` configs with sensors and ``events`` events; returns the pipeline ids."""
    base = load_project(ROOT / "examples" / "pipelines").pipelines["gold-revenue"]
    ids = [f"bench-{i:04d}" for i in range(pipelines)]
    for pid in ids:
        config = base.model_copy(update={"pipeline": base.pipeline.model_copy(update={"id": pid})})
        store.control.put_config(config, now=NOW)
        store.control.put_sensor(pid, "upstream-complete", {"status": "ready"}, now=NOW)
        store.control.put_sensor(pid, "row-count", {"count": 15432}, now=NOW)
    span_ms = int(timedelta(hours=48).total_seconds() * 1000)
    table = store.tables["events"]
    batch: list[dict[str, Any]] = []
    for i in range(events):
        at = NOW - timedelta(milliseconds=span_ms * (events - i) // max(events, 1))
        batch.append(_event_item(i, ids[i % len(ids)], at, _TYPES[i % len(_TYPES)]))
        if len(batch) == 5000:
            table.put_many(batch)  # type: ignore[attr-defined]
            batch.clear()
    if batch:
        table.put_many(batch)  # type: ignore[attr-defined]
    return ids


async def first_paint(api: Interlock, pipelines: int) -> float:
    """Seconds from starting the app until the board shows every pipeline."""
    app = make_app(api, refresh_seconds=None, tail_seconds=None)
    start = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        while True:
            tables = app.screen.query(PipelineTable)
            if tables and tables.first().row_count >= pipelines:
                return time.perf_counter() - start
            await pilot.pause(0.005)


def _writer(url: str, rate: float, seconds: float, ids: list[str], written: list[float]) -> None:
    with open_store(url, now=lambda: NOW.timestamp()) as store:
        t0 = time.perf_counter()
        n = 0
        while (elapsed := time.perf_counter() - t0) < seconds:
            due = int(elapsed * rate)
            while n < due:
                at = NOW + timedelta(milliseconds=n)
                store.events.append(
                    Event.create(
                        EventType.JOB_COMPLETED, ids[n % len(ids)], now=at, message=f"live #{n}"
                    )
                )
                written.append(time.perf_counter())
                n += 1
            time.sleep(0.002)


async def tail(
    api: Interlock, url: str, ids: list[str], rate: float, seconds: float, poll: float
) -> dict[str, float]:
    """Write ``rate`` events/s for ``seconds`` from another thread and measure how late the tail shows them."""
    app = make_app(api, refresh_seconds=None, tail_seconds=poll)
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(EventsScreen())
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, EventsScreen)
        table = screen.query_one(EventTable)
        while not table.events:  # the first page is loaded
            await pilot.pause(0.01)
        base = len(table.events)
        written: list[float] = []
        shown_at: list[float] = []
        thread = threading.Thread(target=_writer, args=(url, rate, seconds, ids, written))
        thread.start()
        deadline = time.perf_counter() + seconds + 10
        while time.perf_counter() < deadline:
            await pilot.pause(0.02)
            now = time.perf_counter()
            while len(shown_at) < len(table.events) - base:
                shown_at.append(now)
            if not thread.is_alive() and len(shown_at) >= len(written):
                break
        thread.join()
    lags = [s - w for w, s in zip(written, shown_at, strict=False)]
    return {
        "written": float(len(written)),
        "shown": float(len(shown_at)),
        "rate_written": len(written) / seconds,
        "lag_median": statistics.median(lags) if lags else float("nan"),
        "lag_p95": sorted(lags)[int(len(lags) * 0.95) - 1] if lags else float("nan"),
        "lag_max": max(lags) if lags else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pipelines", type=int, default=1000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument(
        "--rate", type=float, default=200.0, help="events/s written during the tail test"
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--poll", type=float, default=0.5, help="the tail's polling interval (s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        clock = VirtualClock(NOW)
        store = open_store(url, now=lambda: clock.now().timestamp())
        t0 = time.perf_counter()
        ids = seed(store, args.pipelines, args.events)
        print(
            f"seeded {args.pipelines} pipelines, {args.events} events in {time.perf_counter() - t0:.1f}s"
        )
        with Interlock(store, clock=clock, actor="bench") as api:
            t0 = time.perf_counter()
            board = api.board()
            print(f"Interlock.board() ({len(board)} rows): {time.perf_counter() - t0:.2f}s")
            t0 = time.perf_counter()
            api.events(limit=200)
            print(
                f"Interlock.events(limit=200) across pipelines: {(time.perf_counter() - t0) * 1000:.0f}ms"
            )
            paint = asyncio.run(first_paint(api, args.pipelines))
            print(f"board first paint (run_test, {args.pipelines} rows): {paint:.2f}s")
            result = asyncio.run(tail(api, url, ids, args.rate, args.seconds, args.poll))
        print(
            f"tail at {result['rate_written']:.0f} events/s for {args.seconds:.0f}s (poll {args.poll}s): "
            f"{result['shown']:.0f}/{result['written']:.0f} shown; lag median {result['lag_median']:.2f}s, "
            f"p95 {result['lag_p95']:.2f}s, max {result['lag_max']:.2f}s"
        )


if __name__ == "__main__":
    main()
