"""bench/report.py: one table of every issue-16 figure beside its target (shape and parsing, never timings).

The benches themselves print numbers and assert nothing (DESIGN §8); what can break silently is the
report: a bench's output changes and its row quietly says nothing. These tests pin the table's shape, the
parsing of each bench's lines into a verdict, and the markers that keep docs/performance.md's prose.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bench import report

if TYPE_CHECKING:
    import pytest

CANNED = {
    "watchdog": (
        "watchdog: 10,000 pipelines on SQLite (seeded in 40.1 s)\n"
        "  sweep (reads every pipeline)        9.10 s   80,001 store calls\n"
        "  catch-up after pushing 10,000 configs: 20 passes (1,000 due + 500 swept each), median 0.24 s,"
        " max 0.53 s, up to 1,005 store calls\n"
        "  idle pass (nothing due)              3.2 ms  (min 3.0, max 4.1, 5 rounds)   2 store calls"
        "   target ≤ 1 s\n"
        "  due pass (hourly crons due)         0.61 s   4,200 store calls, 2,500 pipelines read, 40 decisions\n"
    ),
    "lifecycle": (
        "lifecycle: sensor write → JOB_TRIGGERED, embedded runtime, 1000 pipelines\n"
        "  latency ms   p50 4.73   p90 7.83   p99 12.93   max 15.00   mean 4.43\n"
        "  simulate: a day of 50 daily pipelines, 200 events, in 2.0 s CPU (2.1 s wall); of 50"
        " hourly pipelines (1,200 runs), 4800 events, in 5.0 s CPU (9.5 s wall)\n"
        "  simulate vs pipelines (hourly, one day, CPU): 10: 1.00 s = 0.100 s per pipeline-day;"
        "  25: 2.60 s = 0.104 s per pipeline-day;  50: 7.00 s = 0.140 s per pipeline-day\n"
        "  state transitions per evaluation interval: [3] over 12 intervals (target ≤ 3)\n"
    ),
    "store": (
        "SQLite (WAL, synchronous=NORMAL, one transaction per put):\n"
        "  put                                    24,375/s   (min 13,753, max 25,503)\n"
        "DynamoDB driver on moto (in-process):\n"
        "  put                                       272/s   (min 132, max 334)\n"
    ),
    "rules": (
        "  rule evaluations/s: median 250,000  (min 240,000, max 260,000)\n"
        "  rule evaluations/s, counts and timestamps never repeating: median 180,000  (min 1, max 2)\n"
    ),
    "startup": (
        "  python -c pass                  19 ms   (18-20)   cpu 15 ms\n"
        "  interlock --help                68 ms   (66-74)   cpu 60 ms\n"
        "  interlock explain              341 ms   (290-465)   cpu 250 ms\n"
        "  import boto3                   113 ms   (95-233)\n"
        "  controller beyond boto3         50 ms   (40-78)   cpu 45 ms\n"
        "  --help over python -c pass      49 ms   (targets: …)\n"
    ),
    "lambda_cold": (
        "  stream_router              63 ms    136 ms   41.8 MB     80 ms   60 ms\n"
        "  event_sink                 24 ms    100 ms   36.5 MB     70 ms   22 ms\n"
    ),
    "tui": "Interlock.board() (1000 rows): 0.80s\nboard first paint (run_test, 1000 rows): 1.40s\n",
    "transitions": (
        "  original (27 states, 60 s polls):             163 transitions\n"
        "  ours, polls backing off to 5 min (AWS)         35 transitions,  9 polls\n"
        "Step Functions cost, 1,000 hourly pipelines, 30 days, $0.025 per 1,000 transitions:\n"
        "  original                                     $   2,934/month\n"
        "  ours, polls backing off to 5 min             $     630/month\n"
    ),
}


def _rows(lines: list[str]) -> dict[str, list[str]]:
    """Table lines by figure → their cells (header and separator dropped)."""
    out = {}
    for line in lines[2:]:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        out[cells[0]] = cells
    return out


def test_every_row_reads_its_bench_and_gives_a_verdict() -> None:
    outcomes = {name: report.Outcome(text, 1.0) for name, text in CANNED.items()}
    lines = report.table(outcomes, quick=False)
    rows = _rows(lines)
    assert len(rows) == len(report.ROWS) and all(len(cells) == 5 for cells in rows.values())
    verdicts = {figure: cells[4] for figure, cells in rows.items()}
    assert verdicts == {
        "watchdog pass, 10,000 pipelines": "met",
        "`interlock simulate`, one day": "met",  # 5.0 s / 50 = 0.10 s per pipeline-day
        "`interlock simulate`, a day vs pipeline count": "**missed**",  # 0.140 > 1.25 × 0.100
        "SQLite sensor writes/s": "met",  # 24,375 ≥ 20,000 and 90× moto
        "rule evaluations/s, one core": "met",
        "sensor write → JOB_TRIGGERED": "**missed**",  # p99 12.93 > 10
        "`import interlock.service.controller` beyond boto3": "met",
        "Lambda handler import beyond boto3": "met",
        "TUI first paint, 1,000 pipelines": "**missed**",  # 1.40 s > 1 s
        "`interlock --help`": "met",
        "`interlock explain` on SQLite": "met",
        "Step Functions transitions, one typical run": "met",
        "ASL transitions per evaluation interval": "met",
    }
    assert rows["SQLite sensor writes/s"][2] == "moto 272/s: 90x"
    assert rows["watchdog pass, 10,000 pipelines"][1] == (
        "10,000 pipelines: idle pass 3.2 ms (2 store calls); due pass 0.61 s;"
        " sweep (reads every pipeline, periodic) 9.10 s; catch-up after a push, 20 passes, max 0.53 s"
    )
    assert rows["`interlock --help`"][2] == "python -c pass 19 ms"
    assert rows["`interlock --help`"][1] == (
        "68 ms = 49 ms over the interpreter (CPU 60 ms, 45 ms over)"
    )
    assert rows["`interlock explain` on SQLite"][1] == "341 ms (290-465, CPU 250 ms)"
    assert (
        rows["`import interlock.service.controller` beyond boto3"][1] == "50 ms (40-78, CPU 45 ms)"
    )
    assert rows["Lambda handler import beyond boto3"][1] == (
        "24-63 ms (slowest stream_router, CPU ≤ 60 ms); peak RSS ≤ 42 MB; the first config/event"
        " read then adds 70-80 ms"
    )
    assert rows["rule evaluations/s, one core"][1] == (
        "250,000/s (min 240,000, max 260,000); values never repeating 180,000/s"
    )
    assert rows["`interlock simulate`, one day"][1] == (
        "0.10 s CPU per hourly pipeline-day (50 hourly: 5.0 s CPU, 9.5 s wall); daily 0.04 s"
    )
    assert rows["`interlock simulate`, a day vs pipeline count"][1:3] == [
        "10: 0.100 s, 25: 0.104 s, 50: 0.140 s per pipeline-day",
        "5x the pipelines: 1.40x per pipeline-day",
    ]
    assert "Airflow sensors poke every 60 s" in rows["sensor write → JOB_TRIGGERED"][2]
    assert rows["Step Functions transitions, one typical run"][1:3] == [
        "35 transitions (AWS poll backoff); $0.00088 a run, $630 a month",
        "original 163; $2,934 a month (1,000 hourly pipelines)",
    ]


def test_a_bench_that_is_missing_crashed_or_changed_its_output_is_named_not_hidden() -> None:
    outcomes = {
        "watchdog": report.Outcome("", 0.0, "bench/watchdog.py does not exist"),
        "rules": report.Outcome("something else entirely\n", 1.0),
    }
    rows = _rows(report.table(outcomes, quick=False))
    assert rows["watchdog pass, 10,000 pipelines"][1] == (
        "not measured: bench/watchdog.py does not exist"
    )
    assert rows["rule evaluations/s, one core"][1] == (
        "not measured: bench/rules.py printed no such figure"
    )
    assert rows["`interlock --help`"][1] == "not run (--only)"
    assert report.run_bench(report.Bench("no_such_bench"), quick=True).error == (
        "bench/no_such_bench.py does not exist"
    )


def test_quick_mode_runs_benches_on_tiny_sizes_and_writes_the_table_between_markers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a performance page with prose around an old table
    page = tmp_path / "performance.md"
    page.write_text(
        f"# Performance\n\nprose before\n\n{report.BEGIN}\nold table\n{report.END}\n\nprose after\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("BENCH_QUICK", "1")
    # WHEN two cheap benches run in quick mode
    assert report.main(["--only", "rules", "--only", "transitions", "--write", str(page)]) == 0
    # THEN the page keeps its prose, and the table has every row: two measured, the rest "not run"
    text = page.read_text(encoding="utf-8")
    assert text.startswith("# Performance\n\nprose before\n\n")
    assert text.endswith(f"{report.END}\n\nprose after\n")
    assert "old table" not in text
    block = text.split(report.BEGIN)[1].split(report.END)[0].strip().splitlines()
    assert block[0].startswith("QUICK run (tiny sizes")
    rows = _rows(block[2:])
    assert len(rows) == len(report.ROWS)
    measured = {f for f, cells in rows.items() if cells[4] == "quick run: no verdict"}
    assert measured == {
        "rule evaluations/s, one core",
        "Step Functions transitions, one typical run",
    }
    assert all(cells[1] == "not run (--only)" for f, cells in rows.items() if f not in measured)
    assert "== bench/rules.py" in capsys.readouterr().out


def test_write_into_a_page_without_markers_appends_them(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("# Title\n", encoding="utf-8")
    report.write_into(page, ["a", "b"])
    report.write_into(page, ["c"])
    assert page.read_text(encoding="utf-8") == f"# Title\n\n{report.BEGIN}\nc\n{report.END}\n"


def test_every_bench_named_by_a_row_is_run_by_the_report() -> None:
    names = {b.name for b in report.BENCHES}
    assert {row.bench for row in report.ROWS} <= names
    assert all(Path(report.ROOT, "bench", f"{n}.py").exists() for n in names)
    assert sys.executable  # the report runs each bench with this interpreter
