"""``interlock events catalogue`` and ``interlock events tail``."""

from __future__ import annotations

import json
import sys
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from interlock.cli._common import (
    EXIT_OK,
    UsageError,
    err,
    escape,
    jsonable,
    open_store_for,
    out,
    parse_since,
)
from interlock.clock import wall_clock

if TYPE_CHECKING:
    import argparse
    from datetime import datetime

    from rich.console import Console

    from interlock.events import Event
    from interlock.store.factory import Store

_COLOURS = {"critical": "red", "warning": "yellow", "info": "blue"}

# Re-read a little before the last poll: an event stamped just before `now` by a slow writer must not be
# missed; the seen-set drops the duplicates.
_OVERLAP = timedelta(seconds=30)


def cmd_events_catalogue(args: argparse.Namespace) -> int:
    """Every event type, its severity and whether it alerts."""
    from interlock.events import CATALOGUE, catalogue_markdown

    if args.markdown:
        sys.stdout.write(catalogue_markdown())
        return EXIT_OK
    if args.json:
        rows = [
            {
                "type": t.value,
                "severity": spec.severity.value,
                "alerts": spec.alerts,
                "emittedBy": spec.emitted_by,
                "summary": spec.summary,
                "detailFields": list(spec.detail_fields),
            }
            for t, spec in CATALOGUE.items()
        ]
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table

    table = Table("TYPE", "SEVERITY", "ALERTS", "WHEN", box=None, pad_edge=False)
    for t, spec in CATALOGUE.items():
        sev = spec.severity.value
        table.add_row(
            t.value,
            f"[{_COLOURS.get(sev, 'white')}]{sev}[/]",
            "yes" if spec.alerts else "",
            escape(spec.summary),
        )
    Console(file=sys.stdout, highlight=False).print(table)
    return EXIT_OK


def _event_json(event: Event) -> str:
    return json.dumps({"detail-type": event.type.value, **jsonable(event.to_detail())})


def _print_event(console: Console, event: Event) -> None:
    sev = event.severity.value
    when = event.timestamp.strftime("%Y-%m-%d %H:%M:%S")
    period = f" {event.date}" if event.date else ""
    console.print(
        f"{when}  [{_COLOURS.get(sev, 'white')}]{event.type.value:<24}[/] "
        f"[bold]{escape(event.pipeline_id)}[/]{escape(period)}  {escape(event.message)}"
    )


def cmd_events_tail(args: argparse.Namespace) -> int:
    """Events since a time, oldest first; with --follow, keep printing new ones."""
    from interlock.events import EventType

    types = None
    if args.type:
        try:
            types = [EventType(t.upper()) for t in args.type]
        except ValueError as exc:
            raise UsageError(f"{exc}; see `interlock events catalogue`") from None
    now = wall_clock()
    since = parse_since(args.since, now)
    console = out()
    seen: set[tuple[str, str]] = set()

    def emit(events: list[Event]) -> None:
        for e in events:
            key = (e.pipeline_id, f"{e.timestamp.isoformat()}#{e.type.value}#{e.message}")
            if key in seen:
                continue
            seen.add(key)
            if args.json:
                print(_event_json(e), flush=True)
            else:
                _print_event(console, e)

    with open_store_for(args) as store:
        if args.pipeline is not None:
            _check_pipeline(store, args.pipeline)
        first = store.events.since(since, until=now, types=types, pipeline=args.pipeline)
        emit(first)
        if not first and not args.json:
            err().print(_empty_window(args, since, now))
        polls = 0
        while args.follow and (args.max_polls is None or polls < args.max_polls):
            # Polling the time index is a Query per hour bucket: cheap on SQLite and on DynamoDB.
            time.sleep(args.interval)
            polls += 1
            later = wall_clock()
            window_start = max(since, now - _OVERLAP)
            emit(store.events.since(window_start, until=later, types=types, pipeline=args.pipeline))
            now = later
            seen_trim(seen)
    return EXIT_OK


def _check_pipeline(store: Store, pipeline: str) -> None:
    """Refuse a pipeline the store has never heard of (no config, no event): a typo, not a quiet tail."""
    from interlock.config.loader import did_you_mean

    if store.control.get_config(pipeline) is not None:
        return
    if store.events.for_pipeline(pipeline, limit=1):  # a removed pipeline's events still tail
        return
    known = sorted(store.control.all_configs().configs)
    raise UsageError(
        f"unknown pipeline {pipeline!r}{did_you_mean(pipeline, known)}; "
        f"known: {', '.join(known[:20]) or 'none (interlock config push adds configs)'}"
    )


def _empty_window(args: argparse.Namespace, since: datetime, now: datetime) -> str:
    """What an empty answer covered, so "nothing" is not mistaken for "not working"."""
    fmt = "%Y-%m-%d %H:%M:%S"
    what = "no events"
    if args.type:
        what += f" of type {', '.join(t.upper() for t in args.type)}"
    if args.pipeline:
        what += f" for {escape(args.pipeline)}"
    window = (
        f"between {since.strftime(fmt)} and {now.strftime(fmt)} UTC (--since {escape(args.since)})"
    )
    more = "; waiting for new ones" if args.follow else "; --since 24h looks further back"
    return f"[dim]{what} {window}{more}[/]"


def seen_trim(seen: set[tuple[str, str]], limit: int = 100_000) -> None:
    """Keep the de-duplication set bounded on a long --follow."""
    if len(seen) > limit:
        seen.clear()
