"""Soak: the embedded runtime under a steady stream of sensor writes while the console tails it.

Run with ``make soak`` (or ``.venv/bin/python bench/soak.py [--pipelines 1000 --rate 500
--seconds 60]``; ``make soak SOAK_ARGS="--seconds 180"``). Loopback only, bounded; prints figures and
exits non-zero if anything was lost.

Separate processes over one SQLite store, as a deployment would have them:

* **runtime** (the process whose RSS is measured): :class:`~interlock.local.runtime.EmbeddedRuntime`
  ticking on the system clock as ``interlock run`` does; its jobs succeed at their first poll (an
  in-process trigger runner, so the soak measures Interlock rather than 9,000 ``true`` processes). Its
  only bookkeeping is two preallocated shared arrays (the instant the router first had each write, and
  the instant a trigger write's decision was applied), so its RSS is the runtime's.
* **writer**: ``--rate`` sensor writes per second (paced on the wall clock; ``--rate 0``: as fast as
  it can, up to ``--writes`` or :data:`UNPACED_CAP`) spread over ``--pipelines`` pipelines. Nine writes
  in ten are a rule input (``rows``); every tenth is the pipeline's trigger (``ready``) for a new hourly
  period, which must start exactly one run. Each write carries its sequence number; the writer notes
  the instant it wrote it in a shared array (``CLOCK_MONOTONIC`` is one clock for every process).
* **console**: the real ``interlock-tui --read-only`` in a tmux pseudo-terminal (a private tmux
  server whose socket is in the soak's temporary folder, ``-S``) on its events screen, polling the
  store every second. At the end the soak checks it is still alive, captures its screen and looks for
  the last trigger round's period there, and samples its RSS. Without tmux (or with ``--no-tui``) this part is skipped and the output says so.
* **main**: starts the others, samples both RSS figures every second, then checks.

After the writer stops, the runtime drains (up to ``--drain`` seconds). Checked: every write was seen
by the router (each sequence number reached the controller at least once); every trigger write's
period has a run, and its run completed; no period has two executions; the console (when run) is alive
and shows the last period. Printed: writes/s achieved, write→router latency p50/p99/max (all writes),
write→decision p50/p99 for trigger writes (the run's AcquireRun), the runtime's RSS at the start, the
end, its peak and every 10 s, its growth over the second half of the writing (MB and KB per write) with
a verdict (flat: under ``--flat-mb``), how full its largest bounded cache is (parsed timestamps), the
CPU seconds the runtime and the console used, and the console's figures. The earlier one-process soak read every event since its start twice a second in
a thread (~1.6 KB of RSS per event held, 27,000 events in three minutes) and kept dicts per write: most
of its 46→164 MB. What the runtime itself grows by is in docs/performance.md, "Soak".
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from interlock.config.models import PipelineConfig  # noqa: E402 - after the path tweak
from interlock.local.adapters import EXECUTION_PK  # noqa: E402
from interlock.store import open_store  # noqa: E402
from interlock.store.table import query_all  # noqa: E402
from interlock.triggers.base import JobStatus, RunHandle  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from multiprocessing.sharedctypes import Synchronized

    from interlock.schedule import Period

TRIGGER_EVERY: Final = 10
UNPACED_CAP: Final = 200_000
"""Most writes of an unpaced run without ``--writes`` (the shared arrays are preallocated)."""
BASE: Final = datetime(2026, 1, 1, tzinfo=UTC)
_REPO: Final = Path(__file__).resolve().parents[1]


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


def _rss_mb(pid: int | str = "self") -> float | None:
    """VmRSS of a process in MB (``None``: it is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / 1e6
    return None


def _cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds a process has used so far (``None``: it is gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _period(k: int) -> Period:
    from interlock.schedule import Period

    at = BASE + timedelta(hours=k)
    return Period(at.date(), at.hour)


def trigger_of(seq: int, pipelines: int) -> tuple[str, str] | None:
    """The (pipeline, period) a write triggers, or ``None`` for a rule-input write."""
    round_ = seq // pipelines
    if round_ % TRIGGER_EVERY != TRIGGER_EVERY - 1:
        return None
    return f"soak-{seq % pipelines:04d}", _period(round_ // TRIGGER_EVERY).id


# ------------------------------------------------------------------------------ the processes


def _run_runtime(
    url: str, seen: Any, decided: Any, ready: Any, stop: Any, report: str
) -> None:  # pragma: no cover - runs in a child process
    """The runtime process: tick until told to stop; note when each write reached the router."""
    from interlock.clock import SystemClock
    from interlock.local.runtime import EmbeddedRuntime

    runner = _InstantJob()
    errors: list[str] = []
    ticks = 0
    with open_store(url) as store:
        runtime = EmbeddedRuntime.build(
            store, clock=SystemClock(), triggers=lambda _t: runner, watchdog_interval=None
        )
        controller = runtime.controller
        route = controller.on_record
        size = len(seen)

        def routed(record: Mapping[str, Any], now: datetime) -> Any:
            handled = route(record, now)
            image = record.get("dynamodb", {}).get("NewImage", {})
            seq = image.get("data", {}).get("M", {}).get("seq", {}).get("N")
            if seq is not None and 0 <= (n := int(seq)) < size:
                at = time.monotonic()
                if not seen[n]:
                    seen[n] = at
                if handled.decisions and not decided[n]:
                    decided[n] = at
            return handled

        controller.on_record = routed  # type: ignore[method-assign]
        runtime.tick()  # boot: the store is read once before the clock starts
        ready.set()
        while not stop.is_set():
            try:
                tick = runtime.tick()
            except Exception as exc:  # noqa: BLE001 - a soak reports, it does not die
                errors.append(f"tick: {exc!r}")
                continue
            ticks += 1
            if not (tick.records or tick.stepped):
                stop.wait(0.02)
    from interlock.store import keys

    cached = keys._parse_time.cache_info().currsize  # the largest cache the runtime fills (bounded)
    Path(report).write_text(
        json.dumps({"errors": errors, "ticks": ticks, "parse_time_cache": cached}), encoding="utf-8"
    )


def _run_writer(
    url: str,
    pipelines: int,
    rate: float,
    seconds: float,
    written: Any,
    count: Synchronized[int],
    go: Any,
) -> None:  # pragma: no cover - runs in a child process
    """The writer process: paced sensor writes, each instant noted in ``written``."""
    with open_store(url) as store:
        go.wait()
        started = time.monotonic()
        seq = 0
        while (elapsed := time.monotonic() - started) < seconds and seq < len(written):
            if rate > 0 and seq > elapsed * rate:
                time.sleep(min(0.01, seq / rate - elapsed))
                continue
            pid = f"soak-{seq % pipelines:04d}"
            stamp = datetime.now(UTC)
            trigger = trigger_of(seq, pipelines)
            written[seq] = time.monotonic()
            if trigger is not None:
                period = _period(seq // pipelines // TRIGGER_EVERY)
                fields = {"seq": seq, "date": period.day.isoformat(), "hour": f"{period.hour:02d}"}
                store.control.put_sensor(pid, "ready", fields, now=stamp)
            else:
                store.control.put_sensor(pid, "rows", {"seq": seq, "n": seq}, now=stamp)
            seq += 1
            count.value = seq


class Console:
    """``interlock-tui`` in a private tmux server's pseudo-terminal (loopback: a local socket)."""

    def __init__(self, url: str, folder: Path) -> None:
        self.socket = str(folder / "tmux.sock")  # goes with the folder: nothing left in /tmp/tmux-*
        self.url = url
        self.pid: int | None = None

    def _tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-S", self.socket, *args], capture_output=True, text=True, check=False
        )

    def start(self) -> None:
        """Open the console on the board, then its events screen; raise if it never paints."""
        script = Path(sys.executable).with_name("interlock-tui")
        program = [str(script)] if script.exists() else [sys.executable, "-m", "tui"]
        env = f"PYTHONPATH={shlex.quote(str(_REPO))} TERM=xterm-256color"
        command = f"exec env {env} {shlex.join([*program, '--store', self.url, '--read-only'])}"
        done = self._tmux("new-session", "-d", "-s", "soak", "-x", "160", "-y", "48", command)
        if done.returncode:
            raise RuntimeError(f"tmux new-session failed: {done.stderr.strip()}")
        self.pid = int(self._tmux("display", "-p", "-t", "soak", "#{pane_pid}").stdout)
        self._wait_for("soak-0", 60)  # the board's first paint lists the pipelines
        self._tmux("send-keys", "-t", "soak", "e")
        self._wait_for("Events", 30)

    def _wait_for(self, text: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if text in self.screen():
                return
            if not self.alive():
                break
            time.sleep(0.25)
        raise RuntimeError(f"the console never showed {text!r}: {self.screen()[-400:]!r}")

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "soak").stdout

    def alive(self) -> bool:
        return self.pid is not None and _rss_mb(self.pid) is not None

    def rss_mb(self) -> float | None:
        return None if self.pid is None else _rss_mb(self.pid)

    def stop(self) -> None:
        """Quit the console (``q``), then take the tmux server down."""
        if self.alive():
            self._tmux("send-keys", "-t", "soak", "q")
            deadline = time.monotonic() + 10
            while self.alive() and time.monotonic() < deadline:
                time.sleep(0.2)
        self._tmux("kill-server")


# ---------------------------------------------------------------------------------- the soak


def _capacity(rate: float, seconds: float, max_writes: int | None) -> int:
    if max_writes is not None:
        return max_writes
    if rate > 0:
        return math.ceil(rate * seconds) + 1
    return UNPACED_CAP


def _every(samples: Sequence[tuple[float, float]], seconds: float) -> list[float]:
    """One sample per ``seconds`` (the first at or after each multiple), rounded to whole MB."""
    out: list[float] = []
    for at, mb in samples:
        if at >= len(out) * seconds:
            out.append(round(mb))
    return out


def _rss_figures(
    samples: Sequence[tuple[float, float]], half_from: float, half_writes: int, flat_mb: float
) -> dict[str, Any]:
    if not samples:
        return {}
    half = [mb for at, mb in samples if at >= half_from]
    growth = max(half) - min(half) if half else float("nan")
    return {
        "start": round(samples[0][1], 1),
        "end": round(samples[-1][1], 1),
        "peak": round(max(mb for _, mb in samples), 1),
        "second_half_growth_mb": round(growth, 1),
        "second_half_writes": half_writes,
        "second_half_kb_per_write": round(growth * 1000 / half_writes, 3) if half_writes else None,
        "every_10_s": _every(samples, 10),
        "flat_below_mb": flat_mb,
        "flat": bool(half) and growth < flat_mb,
    }


def soak(  # noqa: C901 - one scenario, read top to bottom
    *,
    pipelines: int,
    rate: float,
    seconds: float,
    drain: float,
    workdir: Path,
    max_writes: int | None = None,
    tui: bool = True,
    flat_mb: float = 5.0,
) -> dict[str, Any]:
    """Run the soak; return its figures (see the module docstring)."""
    url = f"sqlite:///{workdir / 'soak.db'}"
    with open_store(url) as setup:
        for i in range(pipelines):
            setup.control.put_config(_config(i), now=datetime.now(UTC))
    ctx = multiprocessing.get_context("spawn")  # clean processes: the runtime's RSS is its own
    size = _capacity(rate, seconds, max_writes)
    written, seen, decided = (ctx.RawArray("d", size) for _ in range(3))  # 0.0: not yet
    count = ctx.Value("q", 0)
    ready, stop, go = ctx.Event(), ctx.Event(), ctx.Event()
    report = workdir / "runtime.json"
    runtime = ctx.Process(
        target=_run_runtime, args=(url, seen, decided, ready, stop, str(report)), name="runtime"
    )
    writer = ctx.Process(
        target=_run_writer, args=(url, pipelines, rate, seconds, written, count, go), name="writer"
    )
    console: Console | None = None
    skipped: str | None = None
    if not tui:
        skipped = "--no-tui"
    elif shutil.which("tmux") is None:
        skipped = "tmux not found"
    runtime.start()
    writer.start()
    try:
        if not ready.wait(120):
            raise RuntimeError("the runtime did not start in 120 s")
        if skipped is None:
            console = Console(url, workdir)
            console.start()
        rss: list[tuple[float, float]] = []
        tui_rss: list[tuple[float, float]] = []

        def sample(at: float) -> None:
            if (mb := _rss_mb(runtime.pid or 0)) is not None:
                rss.append((at, mb))
            if console is not None and (mb := console.rss_mb()) is not None:
                tui_rss.append((at, mb))

        began = time.monotonic()
        go.set()
        while writer.is_alive():
            sample(time.monotonic() - began)
            writer.join(1.0)
        write_seconds = time.monotonic() - began
        n = count.value
        triggers = {s: t for s in range(n) if (t := trigger_of(s, pipelines)) is not None}
        deadline = time.monotonic() + drain
        with open_store(url) as check:
            while time.monotonic() < deadline:
                sample(time.monotonic() - began)
                pending = any(not seen[s] for s in range(n))
                unfinished = any(
                    (row := check.control.get_run(pid, "stream", p)) is None
                    or row.status != "COMPLETED"
                    for pid, p in triggers.values()
                )
                if not pending and not unfinished:
                    break
                time.sleep(0.5)
            if console is not None:
                time.sleep(3)  # a few more polls of the console's tail
            runtime_cpu = _cpu_seconds(runtime.pid)
            console_cpu = _cpu_seconds(console.pid) if console is not None else None
            stop.set()
            runtime.join(30)
            runs = [check.control.get_run(pid, "stream", p) for pid, p in triggers.values()]
            executions = Counter(
                str(item["SK"]).rsplit("-a", 1)[0]
                for item in query_all(check.tables["control"], EXECUTION_PK)
            )
        tui_figures = _console_figures(console, skipped, triggers, tui_rss)
    finally:
        stop.set()
        go.set()
        for process in (writer, runtime):
            process.join(10)
            if process.is_alive():
                process.kill()
        if console is not None:
            console.stop()
    status = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    errors = list(status.get("errors", ["the runtime process wrote no report"]))
    if runtime.exitcode:
        errors.append(f"the runtime process exited with {runtime.exitcode}")
    route_ms = [(seen[s] - written[s]) * 1000 for s in range(n) if seen[s]]
    decide_ms = [(decided[s] - written[s]) * 1000 for s in triggers if decided[s]]
    half_from = write_seconds / 2
    half_writes = sum(1 for s in range(n) if written[s] - began >= half_from)
    return {
        "pipelines": pipelines,
        "writes": n,
        "write_seconds": round(write_seconds, 1),
        "writes_per_second": round(n / write_seconds, 1),
        "trigger_writes": len(triggers),
        "unseen_writes": sum(1 for s in range(n) if not seen[s]),
        "trigger_periods_without_run": sum(1 for row in runs if row is None),
        "runs_not_completed": sum(
            1 for row in runs if row is not None and row.status != "COMPLETED"
        ),
        "periods_with_two_executions": sum(1 for k in executions.values() if k > 1),
        "write_to_router_ms": {
            "p50": round(_pct(route_ms, 0.5), 1),
            "p99": round(_pct(route_ms, 0.99), 1),
            "max": round(max(route_ms, default=float("nan")), 1),
        },
        "trigger_write_to_decision_ms": {
            "p50": round(_pct(decide_ms, 0.5), 1),
            "p99": round(_pct(decide_ms, 0.99), 1),
        },
        "runtime_ticks": status.get("ticks"),
        "cpu_seconds": {
            "runtime": None if runtime_cpu is None else round(runtime_cpu, 1),
            "console": None if console_cpu is None else round(console_cpu, 1),
        },
        "runtime_parse_time_cache_entries": status.get("parse_time_cache"),
        "runtime_rss_mb": _rss_figures(rss, half_from, half_writes, flat_mb),
        "console": tui_figures,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "errors": errors[:5],
    }


def _console_figures(
    console: Console | None,
    skipped: str | None,
    triggers: Mapping[int, tuple[str, str]],
    samples: Sequence[tuple[float, float]],
) -> dict[str, Any]:
    if console is None:
        return {"skipped": skipped}
    screen = console.screen()
    last_period = max((p for _, p in triggers.values()), default=None)
    return {
        "alive": console.alive(),
        "on_events_screen": "Events" in screen,
        "last_period": last_period,
        "shows_last_period": last_period is not None and last_period in screen,
        "rss_mb": {
            "start": round(samples[0][1], 1) if samples else None,
            "end": round(samples[-1][1], 1) if samples else None,
            "peak": round(max(mb for _, mb in samples), 1) if samples else None,
            "every_10_s": _every(samples, 10),
        },
        "screen_lines_with_last_period": [
            " ".join(line.split())
            for line in screen.splitlines()
            if last_period and last_period[5:] in line
        ][:3],
    }


def lost(figures: Mapping[str, Any]) -> bool:
    """Whether the soak lost or doubled anything, or the console it ran died or went blind."""
    console = figures.get("console", {})
    blind = "skipped" not in console and not (
        console.get("alive") and console.get("shows_last_period")
    )
    return bool(
        figures["unseen_writes"]
        or figures["trigger_periods_without_run"]
        or figures["runs_not_completed"]
        or figures["periods_with_two_executions"]
        or figures["errors"]
        or blind
    )


def verdict(figures: Mapping[str, Any]) -> str:
    """One line on the runtime's RSS over the second half of the writing."""
    rss = figures["runtime_rss_mb"]
    if not rss:
        return "RSS: no samples"
    word = "flat" if rss["flat"] else "NOT flat"
    return (
        f"RSS verdict: {word} — runtime {rss['second_half_growth_mb']:+.1f} MB over the second "
        f"half ({rss['second_half_writes']} writes, {rss['second_half_kb_per_write']} KB/write; "
        f"flat means under {rss['flat_below_mb']} MB); start {rss['start']} MB, end {rss['end']} MB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pipelines", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=500.0, help="writes/s (0: unpaced)")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--drain", type=float, default=120.0, help="seconds allowed to catch up")
    parser.add_argument("--writes", type=int, default=None, help="stop after this many writes")
    parser.add_argument("--no-tui", action="store_true", help="do not run the console")
    parser.add_argument("--flat-mb", type=float, default=5.0, help="RSS growth that is still flat")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="interlock-soak-") as folder:
        figures = soak(
            pipelines=args.pipelines,
            rate=args.rate,
            seconds=args.seconds,
            drain=args.drain,
            workdir=Path(folder),
            max_writes=args.writes,
            tui=not args.no_tui,
            flat_mb=args.flat_mb,
        )
    print(json.dumps(figures, indent=2))
    print(verdict(figures))
    if "skipped" in figures["console"]:
        print(f"console: skipped ({figures['console']['skipped']}): nothing tailed the store")
    if lost(figures):
        print("soak: something was lost or doubled, or the console died", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
