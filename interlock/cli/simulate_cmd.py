"""``interlock simulate``: replay a timeline against pipelines on a virtual clock and print the events.

The runtime is the real one (:mod:`interlock.local.runtime`) over a throw-away SQLite store; jobs are
simulated (:class:`~interlock.local.simulate.SimulatedRunner`), so nothing real runs. See
:mod:`interlock.local.simulate` for the timeline format.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interlock.cli._common import EXIT_BAD_INPUT, EXIT_OK, err, print_problem
from interlock.exceptions import ConfigError

if TYPE_CHECKING:
    import argparse

    from interlock.events import Event

_SEVERITY_MARK = {"info": " ", "warning": "!", "critical": "✗"}


def event_json(event: Event) -> dict[str, Any]:
    """The ``--json`` shape of one event."""
    from interlock.store import keys

    return {
        "at": keys.format_time(event.timestamp),
        "type": event.type.value,
        "pipelineId": event.pipeline_id,
        "scheduleId": event.schedule_id,
        "date": event.date,
        "message": event.message,
        "detail": event.detail,
        **({"actor": event.actor} if event.actor else {}),
    }


def event_line(event: Event) -> str:
    """One readable line: time, severity mark, type, pipeline and period, message."""
    from interlock.store import keys

    mark = _SEVERITY_MARK.get(event.severity.value, " ")
    period = f" {event.date}" if event.date else ""
    return (
        f"{keys.format_time(event.timestamp)} {mark} {event.type.value:<24} "
        f"{event.pipeline_id}{period}: {event.message}"
    )


def cmd_simulate(args: argparse.Namespace) -> int:
    """Run the simulation and print every event (exit 2 on a bad timeline or config)."""
    from interlock.config.loader import load_project
    from interlock.durations import parse_duration
    from interlock.local.simulate import JobBehaviour, TimelineError, parse_timeline, simulate
    from interlock.store import keys

    try:
        project = load_project(args.pipelines, calendars=args.calendars)
    except ConfigError as exc:
        for problem in exc.problems:
            print_problem(err(), problem)
        return EXIT_BAD_INPUT
    try:
        start = keys.parse_time(args.start)
        end = keys.parse_time(args.end)
        behaviour = JobBehaviour(parse_duration(args.job_duration), args.job_outcome)
        path = Path(args.timeline)
        with path.open(encoding="utf-8") as handle:
            entries = parse_timeline(handle, source=str(path))
        began = time.perf_counter()
        result = simulate(project, entries, start=start, end=end, job=behaviour)
    except (TimelineError, ValueError, OSError) as exc:
        err().print(f"[red]error:[/red] {exc}", highlight=False)
        return EXIT_BAD_INPUT
    elapsed = time.perf_counter() - began
    out = sys.stdout
    for event in result.events:
        out.write((json.dumps(event_json(event)) if args.json else event_line(event)) + "\n")
    out.flush()
    if not args.json:
        err().print(
            f"{len(result.events)} events, {result.jobs_started} simulated jobs, "
            f"{len(project.pipelines)} pipelines, {args.start} → {args.end} "
            f"in {elapsed:.2f} s ({result.ticks} ticks)",
            highlight=False,
        )
    return EXIT_OK
