"""``interlock validate``, ``interlock schema`` and ``interlock config push``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from interlock.cli._common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    EXIT_OPERATIONAL,
    err,
    escape,
    open_store_for,
    out,
    print_problem,
    problem_json,
)
from interlock.clock import wall_clock
from interlock.exceptions import ConfigError

if TYPE_CHECKING:
    import argparse


def cmd_validate(args: argparse.Namespace) -> int:
    """Check pipeline files; every problem with file:line and key."""
    from interlock.config.loader import load_project

    console = out()
    try:
        project = load_project(
            args.paths, calendars=args.calendars, sfn_timeout_seconds=args.sfn_timeout_seconds
        )
    except ConfigError as exc:
        if args.json:
            print(
                json.dumps(
                    {"valid": False, "errors": [problem_json(p) for p in exc.problems]}, indent=2
                )
            )
        else:
            for p in exc.problems:
                print_problem(console, p)
            files = {p.file for p in exc.problems}
            n = len(exc.problems)
            console.print(
                f"[red]✗ {n} problem{'s' if n != 1 else ''} in {len(files)} "
                f"file{'s' if len(files) != 1 else ''}[/]"
            )
        return EXIT_BAD_INPUT
    if args.json:
        print(
            json.dumps(
                {
                    "valid": True,
                    "pipelines": {pid: str(f) for pid, f in sorted(project.files.items())},
                    "calendars": sorted(project.calendars),
                    "warnings": [problem_json(p) for p in project.warnings],
                },
                indent=2,
            )
        )
        return EXIT_OK
    for p in project.warnings:
        print_problem(console, p)
    n = len(project.pipelines)
    cals = f", {len(project.calendars)} calendar(s)" if project.calendars else ""
    console.print(
        f"[green]✓ {n} pipeline{'s' if n != 1 else ''} valid[/]{cals}: "
        + ", ".join(sorted(project.pipelines))
    )
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    """Print (or write) the JSON Schemas."""
    from interlock.config.schema import SCHEMA_FILES, schema_text

    if args.write is not None:
        out_dir = Path(args.write)
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            for kind, name in SCHEMA_FILES.items():
                (out_dir / name).write_text(schema_text(kind), encoding="utf-8")  # type: ignore[arg-type]
        except OSError as exc:
            err().print(
                f"[red]cannot write schemas to {escape(str(out_dir))}: {escape(str(exc))}[/]"
            )
            return EXIT_OPERATIONAL
        err().print(f"wrote {', '.join(SCHEMA_FILES.values())} to {escape(str(out_dir))}")
        return EXIT_OK
    sys.stdout.write(schema_text(args.kind))
    return EXIT_OK


def cmd_config_push(args: argparse.Namespace) -> int:
    """Validate pipeline files and write them as CONFIG rows (what the Terraform loader does)."""
    from interlock.config.loader import load_project

    console = out()
    try:
        project = load_project(
            args.paths, calendars=args.calendars, sfn_timeout_seconds=args.sfn_timeout_seconds
        )
    except ConfigError as exc:
        for p in exc.problems:
            print_problem(console, p)
        console.print("[red]✗ nothing pushed: fix the problems above first[/]")
        return EXIT_BAD_INPUT
    for p in project.warnings:
        print_problem(console, p)
    now = wall_clock()
    with open_store_for(args, create=True) as store:
        for pid in sorted(project.pipelines):
            store.control.put_config(project.pipelines[pid], now=now)
        n = len(project.pipelines)
        console.print(
            f"[green]✓ pushed {n} pipeline config{'s' if n != 1 else ''}[/] to {escape(store.url)}: "
            + ", ".join(sorted(project.pipelines))
        )
    return EXIT_OK
