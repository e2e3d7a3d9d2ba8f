"""Run every benchmark and print one table: each figure of issue 16 beside its target.

Run with ``make bench`` or ``.venv/bin/python bench/report.py [--only NAME ...] [--write FILE]``.

* Each ``bench/<name>.py`` runs in its own interpreter (a crash or a missing script is reported in the
  table as "not measured", never hidden); its own output is echoed as it finishes, so every number the
  table summarises is on the screen too.
* ``BENCH_QUICK=1`` (or ``--quick``) runs each bench on tiny sizes: a smoke test of the whole pipeline in
  seconds, whose figures mean nothing (the table says so).
* ``--write FILE`` puts the table between ``<!-- bench:begin -->`` and ``<!-- bench:end -->`` in FILE
  (``make bench`` writes ``docs/performance.md``), keeping the prose around it.

Anchors are measured in the same run where a target is relative to one: moto for the store, ``python -c
pass`` for start-up. A verdict compares the measured figure with the target; it asserts nothing (DESIGN §8:
benchmarks print numbers, they are never timed tests).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


@dataclass(frozen=True)
class Bench:
    """One script in ``bench/``: its arguments for a full run and for a quick (smoke) run."""

    name: str
    full: tuple[str, ...] = ()
    quick: tuple[str, ...] = ()


BENCHES: tuple[Bench, ...] = (
    Bench("watchdog", (), ("--pipelines", "40", "--rounds", "1")),
    Bench("lifecycle", (), ("--pipelines", "20")),
    Bench("store", (), ("--seconds", "0.2")),
    Bench("rules", (), ("0.1",)),
    Bench("startup", (), ("--runs", "1")),
    Bench("lambda_cold", (), ("--runs", "1")),
    Bench("tui", (), ("--pipelines", "20", "--events", "200", "--seconds", "1")),
    Bench("transitions", (), ()),
)


@dataclass(frozen=True)
class Verdict:
    """What one row found: the figure, its anchor (if any) and whether the target is met."""

    measured: str
    anchor: str = ""
    met: bool | None = None


Parser = Callable[[str], Verdict | None]


@dataclass(frozen=True)
class Row:
    """One row of the table: which bench measures it, the target, and how to read the bench's output."""

    figure: str
    bench: str
    target: str
    parse: Parser


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def _search(pattern: str, text: str) -> re.Match[str] | None:
    return re.search(pattern, text, re.MULTILINE)


def _watchdog(out: str) -> Verdict | None:
    m = _search(r"^watchdog: ([\d,]+) pipelines", out)
    idle = _search(r"idle pass[^\n]*?([\d.]+) ms[^\n]*?(\d[\d,]*) store calls", out)
    due = _search(r"due pass[^\n]*?([\d.]+) s\b", out)
    if m is None or idle is None:
        return None
    sweep = _search(r"sweep[^\n]*?([\d.]+) s\b", out)
    seconds = _num(idle.group(1)) / 1000
    text = f"{m.group(1)} pipelines: idle pass {idle.group(1)} ms ({idle.group(2)} store calls)"
    worst = seconds
    if due is not None:
        text += f"; due pass {_num(due.group(1)):.2f} s"
        worst = max(worst, _num(due.group(1)))
    if sweep is not None:
        text += f"; sweep (reads every pipeline, periodic) {_num(sweep.group(1)):.2f} s"
    catch_up = _search(r"catch-up[^\n]*?: (\d+) passes[^\n]*?max ([\d.]+) s", out)
    if catch_up is not None:
        text += f"; catch-up after a push, {catch_up.group(1)} passes, max {catch_up.group(2)} s"
        worst = max(worst, _num(catch_up.group(2)))
    return Verdict(text, met=worst <= 1.0)


def _simulate(out: str) -> Verdict | None:
    m = _search(
        r"of (\d+) hourly pipelines.*?, (\d+) events, in ([\d.]+) s CPU \(([\d.]+) s wall\)", out
    )
    d = _search(r"a day of (\d+) daily pipelines, (\d+) events, in ([\d.]+) s CPU", out)
    if m is None:
        return None
    per = _num(m.group(3)) / int(m.group(1))
    text = (
        f"{per:.2f} s CPU per hourly pipeline-day ({m.group(1)} hourly: {m.group(3)} s CPU,"
        f" {m.group(4)} s wall)"
    )
    if d is not None:
        text += f"; daily {_num(d.group(3)) / int(d.group(1)):.2f} s"
    return Verdict(text, met=per <= 0.2)


def _store(out: str) -> Verdict | None:
    sqlite = _search(r"^SQLite[^\n]*\n\s+put\s+([\d,]+)/s\s+\(min ([\d,]+), max ([\d,]+)\)", out)
    moto = _search(r"^DynamoDB driver on moto[^\n]*\n\s+put\s+([\d,]+)/s", out)
    if sqlite is None:
        return None
    puts = _num(sqlite.group(1))
    text = f"{puts:,.0f} puts/s (min {sqlite.group(2)}, max {sqlite.group(3)})"
    if moto is None:
        return Verdict(text, "moto: not measured", met=None)
    ratio = puts / _num(moto.group(1))
    return Verdict(
        text, f"moto {moto.group(1)}/s: {ratio:.0f}x", met=puts >= 20_000 and ratio >= 30
    )


def _rules(out: str) -> Verdict | None:
    m = _search(r"rule evaluations/s: median ([\d,]+)\s+\(min ([\d,]+), max ([\d,]+)\)", out)
    fresh = _search(r"never repeating: median ([\d,]+)", out)
    if m is None:
        return None
    text = f"{m.group(1)}/s (min {m.group(2)}, max {m.group(3)})"
    if fresh is not None:
        text += f"; values never repeating {fresh.group(1)}/s"
    return Verdict(text, met=_num(m.group(1)) >= 200_000)


def _latency(out: str) -> Verdict | None:
    m = _search(r"latency ms\s+p50 ([\d.]+)\s+p90 ([\d.]+)\s+p99 ([\d.]+)", out)
    n = _search(r"embedded runtime, ([\d,]+) pipelines", out)
    if m is None:
        return None
    size = f", {n.group(1)} pipelines" if n else ""
    return Verdict(
        f"p50 {m.group(1)} ms, p99 {m.group(3)} ms{size}",
        PEER_WAITS,
        met=_num(m.group(3)) <= 10,
    )


PEER_WAITS = (
    "waits by default, not measured: the original up to 300 s (a run not yet ready is "
    "re-evaluated every 5 min); Airflow sensors poke every 60 s; Dagster sensors run every 30 s"
)


def _growth(out: str) -> Verdict | None:
    points = [
        (int(n), _num(per))
        for n, per in re.findall(r"(\d+): [\d.]+ s = ([\d.]+) s per pipeline-day", out)
    ]
    if len(points) < 2:
        return None
    (small, first), (large, last) = points[0], points[-1]
    text = ", ".join(f"{n}: {per:.3f} s" for n, per in points) + " per pipeline-day"
    # linear: the per-pipeline-day cost at the largest count within 25 % of the smallest's
    return Verdict(
        text,
        f"{large / small:.0f}x the pipelines: {last / first:.2f}x per pipeline-day",
        met=last <= first * 1.25,
    )


def _controller(out: str) -> Verdict | None:
    m = _search(r"controller beyond boto3\s+(\d+) ms\s+\((\d+)-(\d+)\)(?:\s+cpu (\d+) ms)?", out)
    b = _search(r"import boto3\s+(\d+) ms", out)
    if m is None:
        return None
    cpu = f", CPU {m.group(4)} ms" if m.group(4) else ""
    return Verdict(
        f"{m.group(1)} ms ({m.group(2)}-{m.group(3)}{cpu})",
        f"import boto3 {b.group(1)} ms" if b else "",
        met=_num(m.group(1)) <= 150,
    )


def _handlers(out: str) -> Verdict | None:
    rows = re.findall(
        r"^\s+(\w+)\s+(\d+) ms\s+(\d+) ms\s+([\d.]+) MB(?:\s+(\d+) ms)?(?:\s+(\d+) ms)?",
        out,
        re.MULTILINE,
    )
    if not rows:
        return None
    worst = max(rows, key=lambda r: int(r[1]))
    lo = min(int(r[1]) for r in rows)
    rss = max(float(r[3]) for r in rows)
    text = f"{lo}-{worst[1]} ms (slowest {worst[0]}"
    cpu = [int(r[5]) for r in rows if r[5]]
    text += f", CPU ≤ {max(cpu)} ms); " if cpu else "); "
    text += f"peak RSS ≤ {rss:.0f} MB"
    deferred = [int(r[4]) for r in rows if r[4]]
    if deferred:
        text += f"; the first config/event read then adds {min(deferred)}-{max(deferred)} ms"
    return Verdict(text, f"import boto3 {worst[2]} ms", met=int(worst[1]) <= 150 and rss <= 90)


def _tui(out: str) -> Verdict | None:
    paint = _search(r"board first paint \(run_test, (\d+) rows\): ([\d.]+)s", out)
    board = _search(r"Interlock\.board\(\) \((\d+) rows\): ([\d.]+)s", out)
    if paint is None:
        return None
    text = f"{paint.group(2)} s first paint, {paint.group(1)} rows"
    if board is not None:
        text += f"; board() {board.group(2)} s"
    return Verdict(text, met=_num(paint.group(2)) <= 1.0)


def _help(out: str) -> Verdict | None:
    over = _search(r"--help over python -c pass\s+(-?\d+) ms", out)
    bare = _search(r"python -c pass\s+(\d+) ms[^\n]*?(?:cpu (\d+) ms)?$", out)
    full = _search(r"interlock --help\s+(\d+) ms\s+\((\d+)-(\d+)\)(?:\s+cpu (\d+) ms)?", out)
    if over is None or full is None:
        return None
    text = f"{full.group(1)} ms = {over.group(1)} ms over the interpreter"
    anchor = f"python -c pass {bare.group(1)} ms" if bare else ""
    if full.group(4) and bare and bare.group(2):
        text += f" (CPU {full.group(4)} ms, {int(full.group(4)) - int(bare.group(2))} ms over)"
    return Verdict(text, anchor, met=_num(over.group(1)) <= 150)


def _explain(out: str) -> Verdict | None:
    m = _search(r"interlock explain\s+(\d+) ms\s+\((\d+)-(\d+)\)(?:\s+cpu (\d+) ms)?", out)
    if m is None:
        return None
    cpu = f", CPU {m.group(4)} ms" if m.group(4) else ""
    return Verdict(f"{m.group(1)} ms ({m.group(2)}-{m.group(3)}{cpu})", met=_num(m.group(1)) <= 400)


def _transitions(out: str) -> Verdict | None:
    original = _search(r"original[^\n]*?(\d+) transitions", out)
    ours = _search(r"backing off[^\n]*?(\d+) transitions", out)
    if original is None or ours is None:
        return None
    cost_ours = _search(r"backing off to 5 min\s+\$\s*([\d,]+)/month", out)
    cost_theirs = _search(r"^\s+original\s+\$\s*([\d,]+)/month", out)
    text, anchor = (
        f"{ours.group(1)} transitions (AWS poll backoff)",
        f"original {original.group(1)}",
    )
    if cost_ours is not None and cost_theirs is not None:
        # USD 0.025 per 1,000 transitions (the bench's price): per run, and a month of 1,000 hourly
        text += f"; ${int(ours.group(1)) * 0.000025:.5f} a run, ${cost_ours.group(1)} a month"
        anchor += f"; ${cost_theirs.group(1)} a month (1,000 hourly pipelines)"
    return Verdict(text, anchor, met=int(ours.group(1)) < int(original.group(1)))


def _per_interval(out: str) -> Verdict | None:
    m = _search(r"transitions per evaluation interval: \[([\d, ]*)\]", out)
    if m is None:
        return None
    values = [int(v) for v in m.group(1).split(",") if v.strip()]
    if not values:
        return None
    return Verdict(f"{max(values)} per interval", "original 5", met=max(values) <= 3)


ROWS: tuple[Row, ...] = (
    Row("watchdog pass, 10,000 pipelines", "watchdog", "≤ 1 s", _watchdog),
    Row("`interlock simulate`, one day", "lifecycle", "≤ 0.2 s per pipeline-day", _simulate),
    Row("SQLite sensor writes/s", "store", "≥ 20,000/s and ≥ 30× moto", _store),
    Row("rule evaluations/s, one core", "rules", "≥ 200,000/s", _rules),
    Row("`interlock simulate`, a day vs pipeline count", "lifecycle", "linear (per pipeline-day flat)", _growth),
    Row("sensor write → JOB_TRIGGERED", "lifecycle", "p99 ≤ 10 ms", _latency),
    Row("`import interlock.service.controller` beyond boto3", "startup", "≤ 150 ms", _controller),
    Row("Lambda handler import beyond boto3", "lambda_cold", "≤ 150 ms, ≤ 90 MB", _handlers),
    Row("TUI first paint, 1,000 pipelines", "tui", "≤ 1 s", _tui),
    Row("`interlock --help`", "startup", "≤ 150 ms over `python -c pass`", _help),
    Row("`interlock explain` on SQLite", "startup", "≤ 400 ms", _explain),
    Row("Step Functions transitions, one typical run", "transitions", "fewer than the original", _transitions),
    Row("ASL transitions per evaluation interval", "lifecycle", "≤ 3", _per_interval),
)  # fmt: skip


@dataclass
class Outcome:
    """What running one bench produced."""

    output: str
    seconds: float
    error: str = ""


def run_bench(bench: Bench, quick: bool) -> Outcome:
    """Run ``bench/<name>.py`` in a fresh interpreter; its stdout, or why there is none."""
    script = ROOT / "bench" / f"{bench.name}.py"
    if not script.exists():
        return Outcome("", 0.0, f"bench/{bench.name}.py does not exist")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    began = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(script), *(bench.quick if quick else bench.full)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    spent = time.perf_counter() - began
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return Outcome(
            proc.stdout, spent, f"bench/{bench.name}.py exited {proc.returncode}: {tail}"
        )
    return Outcome(proc.stdout, spent)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def table(outcomes: dict[str, Outcome], quick: bool) -> list[str]:
    """The Markdown table, one line per row of :data:`ROWS` (rows whose bench did not run say so)."""
    lines = [
        "| figure | measured | anchor (same run) | target | verdict |",
        "|---|---|---|---|---|",
    ]
    for row in ROWS:
        outcome = outcomes.get(row.bench)
        if outcome is None:
            verdict = Verdict("not run (--only)")
        elif outcome.error:
            verdict = Verdict(f"not measured: {outcome.error}")
        else:
            verdict = row.parse(outcome.output) or Verdict(
                f"not measured: bench/{row.bench}.py printed no such figure"
            )
        if verdict.met is None:
            mark = "—"
        elif quick:
            mark = "quick run: no verdict"
        else:
            mark = "met" if verdict.met else "**missed**"
        lines.append(
            f"| {_cell(row.figure)} | {_cell(verdict.measured)} | {_cell(verdict.anchor) or '—'} "
            f"| {_cell(row.target)} | {mark} |"
        )
    return lines


def machine_line(load_before: float, load_after: float, quick: bool) -> str:
    """Where and when: interpreter, cores, load average (1 min) before and after."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    kind = "QUICK run (tiny sizes: smoke test, figures meaningless)" if quick else "full run"
    return (
        f"{kind}, {when}: python {sys.version.split()[0]}, {os.cpu_count()} cores, "
        f"load average {load_before:.1f} before / {load_after:.1f} after"
    )


def write_into(path: Path, block: list[str]) -> None:
    """Replace the text between the bench markers in ``path`` (append the markers if absent)."""
    body = "\n".join([BEGIN, *block, END])
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + body + tail
    else:
        text = (text.rstrip("\n") + "\n\n" if text.strip() else "") + body + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        action="append",
        choices=[b.name for b in BENCHES],
        help="run only this bench (repeatable); the other rows say 'not run'",
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes (also BENCH_QUICK=1): a smoke test"
    )
    parser.add_argument("--write", type=Path, help="put the table into this Markdown file")
    args = parser.parse_args(argv)
    quick = args.quick or os.environ.get("BENCH_QUICK", "") not in ("", "0")
    chosen = [b for b in BENCHES if not args.only or b.name in args.only]
    load_before = os.getloadavg()[0]
    outcomes: dict[str, Outcome] = {}
    for bench in chosen:
        print(f"== bench/{bench.name}.py", flush=True)
        outcome = run_bench(bench, quick)
        outcomes[bench.name] = outcome
        print(outcome.output.rstrip("\n") or "(no output)")
        if outcome.error:
            print(f"!! {outcome.error}")
        print(f"   ({outcome.seconds:.1f} s)\n", flush=True)
    block = [machine_line(load_before, os.getloadavg()[0], quick), "", *table(outcomes, quick)]
    print("\n".join(block))
    if args.write is not None:
        write_into(args.write, block)
        print(f"\nwritten to {args.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
