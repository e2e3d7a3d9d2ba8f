"""The ``interlock`` command.

Exit codes (the same for every subcommand)::

    0  ok / valid / ready
    1  a rule is not met (``explain``: the pipeline is not ready)
    2  bad input (invalid configuration, unknown pipeline, bad arguments)
    3  operational error (a file could not be written, a store could not be reached)

Results go to stdout; progress and diagnostics about the command itself go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from interlock import __version__
from interlock.exceptions import ConfigError, InterlockError, Problem

if TYPE_CHECKING:
    from collections.abc import Sequence

    from interlock.config.loader import Project

__all__ = ["main"]

EXIT_OK, EXIT_NOT_READY, EXIT_BAD_INPUT, EXIT_OPERATIONAL = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(
        self, message: str
    ) -> Any:  # argparse's own exits with 2 too; keep its text, add help hint
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n(try '{self.prog} --help')\n")


def _out() -> Console:
    return Console(file=sys.stdout, highlight=False, soft_wrap=True)


def _err() -> Console:
    return Console(file=sys.stderr, highlight=False, soft_wrap=True)


# -------------------------------------------------------------------------------------- validate


def _problem_json(p: Problem) -> dict[str, Any]:
    return {
        "file": str(p.file) if p.file is not None else None,
        "line": p.line,
        "key": p.key,
        "path": list(p.path),
        "message": p.message,
        "severity": p.severity,
    }


def _print_problem(console: Console, p: Problem) -> None:
    colour = "red" if p.severity == "error" else "yellow"
    console.print(
        f"[bold]{escape(p.location)}[/]: [{colour}]{p.severity}[/] "
        f"[cyan]{escape(p.key)}[/]: {escape(p.message)}"
    )


def cmd_validate(args: argparse.Namespace) -> int:
    from interlock.config.loader import load_project

    console = _out()
    try:
        project = load_project(args.paths, calendars=args.calendars)
    except ConfigError as exc:
        if args.json:
            print(
                json.dumps(
                    {"valid": False, "errors": [_problem_json(p) for p in exc.problems]}, indent=2
                )
            )
        else:
            for p in exc.problems:
                _print_problem(console, p)
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
                    "warnings": [_problem_json(p) for p in project.warnings],
                },
                indent=2,
            )
        )
        return EXIT_OK
    for p in project.warnings:
        _print_problem(console, p)
    n = len(project.pipelines)
    cals = f", {len(project.calendars)} calendar(s)" if project.calendars else ""
    console.print(
        f"[green]✓ {n} pipeline{'s' if n != 1 else ''} valid[/]{cals}: "
        + ", ".join(sorted(project.pipelines))
    )
    return EXIT_OK


# ---------------------------------------------------------------------------------------- schema


def cmd_schema(args: argparse.Namespace) -> int:
    from interlock.config.schema import SCHEMA_FILES, schema_text

    if args.write is not None:
        out_dir = Path(args.write)
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            for kind, name in SCHEMA_FILES.items():
                (out_dir / name).write_text(schema_text(kind), encoding="utf-8")  # type: ignore[arg-type]
        except OSError as exc:
            _err().print(
                f"[red]cannot write schemas to {escape(str(out_dir))}: {escape(str(exc))}[/]"
            )
            return EXIT_OPERATIONAL
        _err().print(f"wrote {', '.join(SCHEMA_FILES.values())} to {escape(str(out_dir))}")
        return EXIT_OK
    sys.stdout.write(schema_text(args.kind))
    return EXIT_OK


# ---------------------------------------------------------------------------------------- events


def cmd_events_catalogue(args: argparse.Namespace) -> int:
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
    table = Table("TYPE", "SEVERITY", "ALERTS", "WHEN", box=None, pad_edge=False)
    colours = {"critical": "red", "warning": "yellow", "info": "blue"}
    for t, spec in CATALOGUE.items():
        sev = spec.severity.value
        table.add_row(
            t.value,
            f"[{colours.get(sev, 'white')}]{sev}[/]",
            "yes" if spec.alerts else "",
            escape(spec.summary),
        )
    Console(file=sys.stdout, highlight=False).print(table)
    return EXIT_OK


# --------------------------------------------------------------------------------------- explain


def _load_for_explain(args: argparse.Namespace) -> Project:
    from interlock.config.loader import load_project

    return load_project(args.pipelines, calendars=args.calendars)


def _read_sensors(path: Path) -> dict[str, dict[str, Any]]:
    """Read sensors from JSON or YAML: ``{key: {field: value}}`` (stored items are normalised)."""
    import yaml

    from interlock.rules import sensor_fields

    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError("expected a mapping of sensor key to a mapping of fields")
    return {str(k): sensor_fields(v) for k, v in data.items()}


def _parse_at(text: str | None) -> datetime:
    if text is None:
        # The CLI is a front-end edge: the wall clock enters here and is passed inward as `now`.
        return datetime.now(UTC)
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if at.tzinfo is None:
        raise ValueError(f"--at {text!r} has no time zone offset: add Z or +HH:MM")
    return at.astimezone(UTC)


def cmd_explain(args: argparse.Namespace) -> int:
    from interlock.rules import evaluate

    err = _err()
    try:
        project = _load_for_explain(args)
    except ConfigError as exc:
        for p in exc.problems:
            _print_problem(err, p)
        return EXIT_BAD_INPUT
    config = project.pipelines.get(args.pipeline)
    if config is None:
        from interlock.config.loader import did_you_mean

        err.print(
            f"[red]unknown pipeline {escape(args.pipeline)!r}[/]"
            f"{escape(did_you_mean(args.pipeline, project.pipelines))}; known: "
            + ", ".join(sorted(project.pipelines))
        )
        return EXIT_BAD_INPUT
    try:
        now = _parse_at(args.at)
        sensors = _read_sensors(Path(args.sensors)) if args.sensors else {}
    except (OSError, ValueError) as exc:
        err.print(f"[red]{escape(str(exc))}[/]")
        return EXIT_BAD_INPUT
    evaluation = evaluate(config.validation, sensors, now)
    if args.json:
        print(
            json.dumps(
                {
                    "pipeline": config.id,
                    "ready": evaluation.passed,
                    "mode": evaluation.mode,
                    "evaluatedAt": now.isoformat().replace("+00:00", "Z"),
                    "rules": [
                        {
                            "key": r.rule.key,
                            "check": r.rule.check.value,
                            "field": r.rule.field,
                            "value": r.rule.value,
                            "passed": r.passed,
                            "actual": r.actual if _jsonable(r.actual) else str(r.actual),
                            "reason": r.reason,
                        }
                        for r in evaluation.results
                    ],
                },
                indent=2,
            )
        )
    else:
        from interlock.explain import render_explain

        _out().print(
            render_explain(config, evaluation, now, calendars=project.calendars, sensors=sensors)
        )
    return EXIT_OK if evaluation.passed else EXIT_NOT_READY


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


# ----------------------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    parser = _Parser(
        prog="interlock",
        description="Interlock: run data pipelines when their inputs are safe, then keep watching.",
    )
    parser.add_argument("--version", action="version", version=f"interlock {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("validate", help="check pipeline files; print every problem with file:line")
    p.add_argument("paths", nargs="+", metavar="PATH", help="pipeline files or directories")
    p.add_argument(
        "--calendars", metavar="DIR", help="named calendars (default: calendars/ in or beside PATH)"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("schema", help="print the JSON Schema of pipeline (or calendar) files")
    p.add_argument("kind", nargs="?", choices=["pipeline", "calendar"], default="pipeline")
    p.add_argument("--write", metavar="DIR", help="write both schemas into DIR instead")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser(
        "explain", help="why a pipeline is (not) ready: its rules against sensor values"
    )
    p.add_argument("pipeline", metavar="PIPELINE", help="pipeline id")
    p.add_argument(
        "--pipelines",
        metavar="PATH",
        default="pipelines",
        help="pipeline files (default: ./pipelines)",
    )
    p.add_argument("--calendars", metavar="DIR", help="named calendars")
    p.add_argument(
        "--sensors", metavar="FILE", help="sensor values, JSON or YAML: {key: {field: value}}"
    )
    p.add_argument("--at", metavar="TIME", help="evaluate at this RFC 3339 instant (default: now)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_explain)

    ev = sub.add_parser("events", help="the event catalogue")
    ev_sub = ev.add_subparsers(dest="events_command", metavar="COMMAND", parser_class=_Parser)
    p = ev_sub.add_parser("catalogue", help="every event type, its severity and whether it alerts")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--markdown", action="store_true", help="Markdown (this is docs/events.md)")
    fmt.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_events_catalogue)
    ev.set_defaults(func=lambda a: _missing_subcommand(ev))
    return parser


def _missing_subcommand(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_BAD_INPUT


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script exits with it)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    try:
        code: int = args.func(args)
    except InterlockError as exc:
        _err().print(f"[red]error:[/] {escape(str(exc))}")
        return EXIT_BAD_INPUT
    except (
        BrokenPipeError
    ):  # `interlock schema | head`: the reader left; not an error worth a trace
        return EXIT_OK
    return code
