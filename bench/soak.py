"""Soak: the embedded runtime under a steady stream of sensor writes while a TUI-style tail reads.

Run with ``make soak`` (or ``.venv/bin/python bench/soak.py [--pipelines 1000 --rate 500
--seconds 60]``). Loopback only, bounded; prints figures and exits non-zero if anything was lost.

One process, four threads over one SQLite store (each thread its own connection, as separate processes
would have):

* **writer**: ``--rate`` sensor writes per second (paced on the wall clock; ``--rate 0``: as fast as it
  can) spread over ``--pipelines`` pipelines. Nine writes in ten are a rule input (``rows``); every
  tenth is the pipeline's trigger (``ready``) for a new hourly period, which must start exactly one run.
  Each write carries its sequence number and the instant it was written.
* **runtime**: :class:`~interlock.local.runtime.EmbeddedRuntime` ticking on the system clock as
  ``interlock run`` does; its jobs succeed at their first poll (an in-process trigger runner).
* **tail**: what the TUI's events screen does, :meth:`interlock.Interlock.tail` every 0.5 s.
* **main**: samples the process's RSS every second.

After the writer stops, the runtime drains (up to ``--drain`` seconds). Checked: every write was seen
by the router (each sequence number reached the controller at least once); every trigger write's
period has a run, and its run completed; no period has two executions. Printed: writes/s achieved,
write→router latency p50/p99/max (all writes), write→decision p50/p99 for trigger writes (the run's
AcquireRun), events the tail saw, RSS at the start, the end and its peak, and the growth over the
second half of the run (flat if small). The RSS includes the soak's own bookkeeping (a few dicts with
an entry per write, ~30,000 in the default run), so it overstates the runtime's growth a little.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from interlock.api import Interlock  # noqa: E402 - after the path tweak
from interlock.clock import SystemClock  # noqa: E402
from interlock.config.models import PipelineConfig  # noqa: E402
from interlock.local.adapters import EXECUTION_PK  # noqa: E402
from interlock.local.runtime import EmbeddedRuntime  # noqa: E402
from interlock.store import open_store  # noqa: E402
from interlock.store.table import query_all  # noqa: E402
from interlock.triggers.base import JobStatus, RunHandle  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Mapping

    from interlock.schedule import Period

TRIGGER_EVERY = 10


class _InstantJob:
    """Starts nothing; the job has succeeded by its first poll."""

    def start(self, job_config: Any, *, pipeline_id: str, period: Period, run_id: str) -> RunHandle:
        return RunHandle(run_id, {})

    def status(self, job_config: Any, handle: RunHandle) -> JobStatus:
        return JobStatus("succeeded")


def _config(i: int) -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "pipeline": {"id": f"soak-{i:04d}"},
            "schedule": {
                "trigger": {"key": "ready", "check": "exists"},
                "evaluation": {"window": "1h", "interval": "1s"},
            },
            "validation": {"rules": [{"key": "rows", "check": "gte", "field": "n", "value": 0}]},
            "job": {"type": "command", "config": {"command": "true"}, "pollInterval": "1s"},
        }
    )


def _rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text(encoding="ascii").split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _period(base: datetime, k: int) -> Period:
    from interlock.schedule import Period

    at = base + timedelta(hours=k)
    return Period(at.date(), at.hour)


def soak(  # noqa: C901 - one scenario, read top to bottom
    *,
    pipelines: int,
    rate: float,
    seconds: float,
    drain: float,
    workdir: Path,
    max_writes: int | None = None,
) -> dict[str, Any]:
    """Run the soak; return its figures (see the module docstring)."""
    url = f"sqlite:///{workdir / 'soak.db'}"
    base = datetime(2026, 1, 1, tzinfo=UTC)
    with open_store(url) as setup:
        for i in range(pipelines):
            setup.control.put_config(_config(i), now=datetime.now(UTC))
    runtime_store = open_store(url)
    runner = _InstantJob()
    runtime = EmbeddedRuntime.build(
        runtime_store, clock=SystemClock(), triggers=lambda _t: runner, watchdog_interval=None
    )
    seen: dict[int, float] = {}  # sequence → first instant the router had it
    decided: dict[int, float] = {}  # trigger sequence → instant its decision was applied
    controller = runtime.controller
    route = controller.on_record

    def routed(record: Mapping[str, Any], now: datetime) -> Any:
        handled = route(record, now)
        image = record.get("dynamodb", {}).get("NewImage", {})
        data = image.get("data", {}).get("M", {})
        seq = data.get("seq", {}).get("N")
        if seq is not None:
            at = time.monotonic()
            seen.setdefault(int(seq), at)
            if handled.decisions:
                decided.setdefault(int(seq), at)
        return handled

    controller.on_record = routed  # type: ignore[method-assign]

    stop_runtime = threading.Event()
    errors: list[str] = []

    def run_loop() -> None:
        while not stop_runtime.is_set():
            try:
                report = runtime.tick()
            except Exception as exc:  # noqa: BLE001 - a soak reports, it does not die
                errors.append(f"tick: {exc!r}")
                continue
            if not (report.records or report.stepped):
                stop_runtime.wait(0.02)

    written: dict[int, float] = {}
    triggers: dict[int, tuple[str, str]] = {}
    writer_done = threading.Event()

    def write_loop() -> None:
        with open_store(url) as store:
            started = time.monotonic()
            seq = 0
            while (elapsed := time.monotonic() - started) < seconds and (
                max_writes is None or seq < max_writes
            ):
                if rate > 0 and seq > elapsed * rate:
                    time.sleep(min(0.01, seq / rate - elapsed))
                    continue
                pid = f"soak-{seq % pipelines:04d}"
                round_ = seq // pipelines
                stamp = datetime.now(UTC)
                if round_ % TRIGGER_EVERY == TRIGGER_EVERY - 1:
                    period = _period(base, round_ // TRIGGER_EVERY)
                    fields = {
                        "seq": seq,
                        "date": period.day.isoformat(),
                        "hour": f"{period.hour:02d}",
                    }
                    written[seq] = time.monotonic()
                    store.control.put_sensor(pid, "ready", fields, now=stamp)
                    triggers[seq] = (pid, period.id)
                else:
                    written[seq] = time.monotonic()
                    store.control.put_sensor(pid, "rows", {"seq": seq, "n": seq}, now=stamp)
                seq += 1
        writer_done.set()

    tailed: dict[tuple[str, ...], str] = {}

    def tail_loop() -> None:
        with open_store(url) as store:
            api = Interlock(store)
            since = datetime.now(UTC) - timedelta(minutes=1)
            while True:
                stopped = stop_runtime.is_set()  # one last read after the runtime stopped
                for event in api.tail(since):
                    key = (
                        str(event.timestamp),
                        event.type.value,
                        event.pipeline_id,
                        str(event.date),
                    )
                    tailed[key] = event.type.value
                if stopped:
                    return
                stop_runtime.wait(0.5)

    rss: list[tuple[float, float]] = []
    threads = [threading.Thread(target=f, daemon=True) for f in (run_loop, write_loop, tail_loop)]
    began = time.monotonic()
    for t in threads:
        t.start()
    while not writer_done.is_set():
        rss.append((time.monotonic() - began, _rss_mb()))
        writer_done.wait(1.0)
    write_seconds = time.monotonic() - began
    deadline = time.monotonic() + drain
    with open_store(url) as check:
        while time.monotonic() < deadline:
            rss.append((time.monotonic() - began, _rss_mb()))
            pending = [s for s in written if s not in seen]
            unfinished = [
                (pid, p)
                for pid, p in triggers.values()
                if (row := check.control.get_run(pid, "stream", p)) is None
                or row.status != "COMPLETED"
            ]
            if not pending and not unfinished:
                break
            time.sleep(0.5)
        stop_runtime.set()
        for t in threads:
            t.join(timeout=10)
        unseen = [s for s in written if s not in seen]
        no_run = [
            (pid, p)
            for pid, p in triggers.values()
            if check.control.get_run(pid, "stream", p) is None
        ]
        not_done = [
            (pid, p)
            for pid, p in triggers.values()
            if (row := check.control.get_run(pid, "stream", p)) is not None
            and row.status != "COMPLETED"
        ]
        executions = Counter(
            str(item["SK"]).rsplit("-a", 1)[0]
            for item in query_all(check.tables["control"], EXECUTION_PK)
        )
    runtime_store.close()
    route_ms = [(seen[s] - written[s]) * 1000 for s in written if s in seen]
    decide_ms = [(decided[s] - written[s]) * 1000 for s in triggers if s in decided]
    half = [mb for at, mb in rss if at >= write_seconds / 2]
    return {
        "pipelines": pipelines,
        "writes": len(written),
        "write_seconds": round(write_seconds, 1),
        "writes_per_second": round(len(written) / write_seconds, 1),
        "trigger_writes": len(triggers),
        "unseen_writes": len(unseen),
        "trigger_periods_without_run": len(no_run),
        "runs_not_completed": len(not_done),
        "periods_with_two_executions": sum(1 for n in executions.values() if n > 1),
        "write_to_router_ms": {
            "p50": round(_pct(route_ms, 0.5), 1),
            "p99": round(_pct(route_ms, 0.99), 1),
            "max": round(max(route_ms, default=float("nan")), 1),
        },
        "trigger_write_to_decision_ms": {
            "p50": round(_pct(decide_ms, 0.5), 1),
            "p99": round(_pct(decide_ms, 0.99), 1),
        },
        "tail_saw_events": dict(Counter(tailed.values())),
        "rss_mb": {
            "start": round(rss[0][1], 1) if rss else None,
            "end": round(rss[-1][1], 1) if rss else None,
            "peak": round(max(mb for _, mb in rss), 1) if rss else None,
            "second_half_growth": round(max(half) - min(half), 1) if half else None,
        },
        "errors": errors[:5],
    }


def lost(figures: Mapping[str, Any]) -> bool:
    """Whether the soak lost or doubled anything."""
    return bool(
        figures["unseen_writes"]
        or figures["trigger_periods_without_run"]
        or figures["runs_not_completed"]
        or figures["periods_with_two_executions"]
        or figures["errors"]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pipelines", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=500.0, help="writes/s (0: unpaced)")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--drain", type=float, default=120.0, help="seconds allowed to catch up")
    parser.add_argument("--writes", type=int, default=None, help="stop after this many writes")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="interlock-soak-") as folder:
        figures = soak(
            pipelines=args.pipelines,
            rate=args.rate,
            seconds=args.seconds,
            drain=args.drain,
            workdir=Path(folder),
            max_writes=args.writes,
        )
    print(json.dumps(figures, indent=2))
    if lost(figures):
        print("soak: something was lost or doubled", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
