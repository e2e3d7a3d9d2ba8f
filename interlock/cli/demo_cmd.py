"""``interlock demo``: the example pipelines through a generated day, printed as a timeline.

Headless on purpose (the core CLI never imports the TUI): ``interlock-tui --demo`` plays the same day
live on an accelerated clock and watches it. ``--write-timeline`` saves the day as a timeline file for
``interlock simulate``.
"""

from __future__ import annotations

import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from interlock.cli._common import EXIT_BAD_INPUT, EXIT_OK, err, print_problem
from interlock.exceptions import ConfigError

if TYPE_CHECKING:
    import argparse

EXAMPLES = Path("examples")


def cmd_demo(args: argparse.Namespace) -> int:
    """Play the demo day headless (or write its timeline)."""
    from interlock.cli.simulate_cmd import event_line
    from interlock.config.loader import load_project
    from interlock.demo import run_headless, timeline_lines

    try:
        day = date.fromisoformat(args.day) if args.day else date.today()
    except ValueError as exc:
        err().print(f"[red]error:[/red] --day: {exc}", highlight=False)
        return EXIT_BAD_INPUT
    if args.write_timeline:
        Path(args.write_timeline).write_text(
            "\n".join(timeline_lines(day)) + "\n", encoding="utf-8"
        )
        err().print(f"wrote {args.write_timeline}", highlight=False)
        return EXIT_OK
    try:
        project = load_project(args.pipelines, calendars=args.calendars)
    except ConfigError as exc:
        for problem in exc.problems:
            print_problem(err(), problem)
        return EXIT_BAD_INPUT
    out = sys.stdout
    out.write(
        f"Interlock demo: {len(project.pipelines)} example pipelines through {day.isoformat()} "
        "(UTC), simulated jobs, virtual clock\n"
        "  ! warning  ✗ critical\n\n"
    )
    began = time.perf_counter()
    result = run_headless(project, day, hours=args.hours)
    elapsed = time.perf_counter() - began
    for event in result.events:
        out.write(event_line(event) + "\n")
    counts: dict[str, int] = {}
    for event in result.events:
        counts[event.pipeline_id] = counts.get(event.pipeline_id, 0) + 1
    out.write(
        f"\n{len(result.events)} events from {len(counts)} pipelines, "
        f"{result.jobs_started} simulated jobs, {args.hours} h simulated in {elapsed:.1f} s\n"
        f"Replay it yourself: interlock demo --day {day} --write-timeline day.jsonl && "
        "interlock simulate --pipelines examples/pipelines --calendars examples/calendars "
        f"--timeline day.jsonl --start {day}T00:00:00Z --end {day + timedelta(days=1)}T00:00:00Z\n"
    )
    return EXIT_OK
