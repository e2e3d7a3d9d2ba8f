"""The ``interlock`` command.

Exit codes (the same for every subcommand)::

    0  ok / valid / ready
    1  a rule is not met (``explain``: the pipeline is not ready)
    2  bad input (invalid configuration, unknown pipeline, bad arguments)
    3  operational error (a file could not be written, a store could not be reached)

Results go to stdout; diagnostics about the command itself go to stderr. Each subcommand lives in a
module of this package; this one only builds the parser and maps errors to exit codes.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from interlock import __version__
from interlock.cli._common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    EXIT_OPERATIONAL,
    Parser,
    UsageError,
    add_store_option,
    err,
    escape,
)
from interlock.cli.config_cmds import cmd_config_push, cmd_schema, cmd_validate
from interlock.cli.demo_cmd import cmd_demo
from interlock.cli.events_cmds import cmd_events_catalogue, cmd_events_tail
from interlock.cli.explain_cmd import cmd_explain
from interlock.cli.operator_cmds import add_operator_commands
from interlock.cli.run_cmd import cmd_run
from interlock.cli.sensor_cmds import cmd_sensor_ls, cmd_sensor_put
from interlock.cli.simulate_cmd import cmd_simulate
from interlock.exceptions import InterlockError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["build_parser", "main"]


def _sfn_timeout(text: str) -> int:
    """``--sfn-timeout-seconds``: whole seconds, 60 to 31536000 (what the module accepts)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of seconds") from None
    if not 60 <= value <= 31536000:
        raise argparse.ArgumentTypeError(f"{value} is outside 60-31536000 (one year)")
    return value


def _group(
    sub: argparse._SubParsersAction[Parser], name: str, help_text: str
) -> argparse._SubParsersAction[Parser]:
    parser = sub.add_parser(name, help=help_text)
    inner = parser.add_subparsers(dest=f"{name}_command", metavar="COMMAND", parser_class=Parser)
    parser.set_defaults(func=lambda _a: _missing_subcommand(parser))
    return inner


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    parser = Parser(
        prog="interlock",
        description="Interlock: run data pipelines when their inputs are safe, then keep watching.",
    )
    parser.add_argument("--version", action="version", version=f"interlock {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    p = sub.add_parser("validate", help="check pipeline files; print every problem with file:line")
    p.add_argument("paths", nargs="+", metavar="PATH", help="pipeline files or directories")
    p.add_argument(
        "--calendars", metavar="DIR", help="named calendars (default: calendars/ in or beside PATH)"
    )
    p.add_argument(
        "--sfn-timeout-seconds",
        type=_sfn_timeout,
        metavar="N",
        help="the state machine timeout of the deployment (Terraform's sfn_timeout_seconds, "
        "default 14400): refuse a pipeline whose longest run (evaluation window + trigger retries "
        "+ job poll window) does not fit",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("schema", help="print the JSON Schema of pipeline (or calendar) files")
    p.add_argument("kind", nargs="?", choices=["pipeline", "calendar"], default="pipeline")
    p.add_argument("--write", metavar="DIR", help="write both schemas into DIR instead")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser(
        "explain", help="why a pipeline is (not) ready: its rules against its sensors"
    )
    p.add_argument("pipeline", metavar="PIPELINE", help="pipeline id")
    p.add_argument(
        "--pipelines", metavar="PATH", help="read the config from files instead of the store"
    )
    p.add_argument("--calendars", metavar="DIR", help="named calendars (with --pipelines)")
    p.add_argument(
        "--sensors", metavar="FILE", help="sensor values from a JSON/YAML file instead of the store"
    )
    p.add_argument("--at", metavar="TIME", help="evaluate at this RFC 3339 instant (default: now)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_store_option(p)
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("run", help="the embedded runtime: watch sensors, evaluate, trigger, poll")
    p.add_argument("--pipelines", metavar="PATH", required=True, help="pipeline files or directory")
    p.add_argument("--calendars", metavar="DIR", help="named calendars")
    p.add_argument(
        "--poll", type=float, default=1.0, metavar="SECONDS", help="feed poll interval (default 1)"
    )
    p.add_argument("--once", action="store_true", help="one pass, then exit (for scripts and cron)")
    p.add_argument(
        "--allow-private",
        action="store_true",
        help="let http, databricks and airflow jobs call private/loopback addresses (off: SSRF guard)",
    )
    p.add_argument("--verbose", "-v", action="store_true", help="debug logs")
    add_store_option(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "simulate",
        help="what would Interlock have done? replay a timeline on a virtual clock (no real jobs)",
    )
    p.add_argument("--pipelines", metavar="PATH", required=True, help="pipeline files or directory")
    p.add_argument("--calendars", metavar="DIR", help="named calendars")
    p.add_argument(
        "--timeline",
        metavar="FILE.jsonl",
        required=True,
        help="JSON lines: at + one of sensor, jobs, rerun, ack, dryRun",
    )
    p.add_argument(
        "--start", metavar="ISO", required=True, help="first instant, e.g. 2026-03-02T00:00:00Z"
    )
    p.add_argument("--end", metavar="ISO", required=True, help="last instant")
    p.add_argument(
        "--job-duration",
        default="10m",
        metavar="DURATION",
        help="how long simulated jobs run (default 10m)",
    )
    p.add_argument(
        "--job-outcome",
        default="success",
        choices=["success", "fail", "fail-permanent", "trigger-error", "trigger-refused"],
        help="how simulated jobs end unless the timeline says otherwise (default success)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per event")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser(
        "demo", help="the example pipelines through a generated day, printed as a timeline"
    )
    p.add_argument("--headless", action="store_true", help="no TUI (the only mode of this command)")
    p.add_argument("--pipelines", default="examples/pipelines", metavar="PATH")
    p.add_argument("--calendars", default="examples/calendars", metavar="DIR")
    p.add_argument("--day", metavar="YYYY-MM-DD", help="the day to play (default: today)")
    p.add_argument("--hours", type=int, default=24, help="how much of the day (default 24)")
    p.add_argument(
        "--write-timeline", metavar="FILE", help="write the day's timeline (JSON lines) and exit"
    )
    p.set_defaults(func=cmd_demo)

    config = _group(sub, "config", "pipeline configs in the store")
    p = config.add_parser("push", help="validate pipeline files and write them to the store")
    p.add_argument("paths", nargs="+", metavar="PATH", help="pipeline files or directories")
    p.add_argument(
        "--calendars", metavar="DIR", help="named calendars (default: calendars/ in or beside PATH)"
    )
    p.add_argument(
        "--sfn-timeout-seconds",
        type=_sfn_timeout,
        metavar="N",
        help="the state machine timeout of the deployment pushed to (Terraform's sfn_timeout_seconds, "
        "default 14400): refuse a pipeline whose longest run (evaluation window + trigger retries "
        "+ job poll window) does not fit",
    )
    add_store_option(p)
    p.set_defaults(func=cmd_config_push)

    sensor = _group(sub, "sensor", "write and list sensor records")
    p = sensor.add_parser(
        "put", help="write a sensor: interlock sensor put PIPELINE KEY field=value…"
    )
    p.add_argument("pipeline", metavar="PIPELINE")
    p.add_argument("key", metavar="KEY", help="sensor key, e.g. upstream-complete")
    p.add_argument(
        "fields",
        nargs="*",
        metavar="FIELD=VALUE",
        help='typed values: 15432, 0.7, true/false, null, now (current time), "42" (a string)',
    )
    p.add_argument("--date", metavar="YYYY-MM-DD", help="the run period's date (adds a date field)")
    p.add_argument("--hour", metavar="HH", help="the run period's hour, 00-23 (adds an hour field)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_store_option(p)
    p.set_defaults(func=cmd_sensor_put)
    p = sensor.add_parser("ls", help="list a pipeline's sensors with their ages")
    p.add_argument("pipeline", metavar="PIPELINE")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_store_option(p)
    p.set_defaults(func=cmd_sensor_ls)

    events = _group(sub, "events", "the event catalogue and the event log")
    p = events.add_parser("catalogue", help="every event type, its severity and whether it alerts")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--markdown", action="store_true", help="Markdown (this is docs/events.md)")
    fmt.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_events_catalogue)
    p = events.add_parser("tail", help="recent events, oldest first; --follow for new ones")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing new events")
    p.add_argument("--pipeline", metavar="P", help="only this pipeline")
    p.add_argument("--type", metavar="T", nargs="+", help="only these event types")
    p.add_argument(
        "--since",
        metavar="WHEN",
        default="1h",
        help="a duration back (1h, 30m) or a time (default 1h)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--interval", type=float, default=1.0, help=argparse.SUPPRESS)
    p.add_argument("--max-polls", type=int, default=None, help=argparse.SUPPRESS)
    add_store_option(p)
    p.set_defaults(func=cmd_events_tail)

    add_operator_commands(sub)  # rerun, ack, dry-run on|off
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
    except UsageError as exc:
        err().print(f"[red]error:[/] {escape(str(exc))}")
        return EXIT_BAD_INPUT
    except (
        KeyboardInterrupt
    ):  # Ctrl-C on `events tail --follow`: the user's way to stop, not a failure
        return EXIT_OK
    except (
        BrokenPipeError
    ):  # `interlock schema | head`: the reader left; not an error worth a trace
        return EXIT_OK
    except InterlockError as exc:
        return _interlock_error(exc)
    return code


def _interlock_error(exc: InterlockError) -> int:
    from interlock.store.factory import StoreURLError
    from interlock.store.table import StoreError

    if isinstance(exc, StoreURLError):
        err().print(f"[red]error:[/] {escape(str(exc))}")
        return EXIT_BAD_INPUT
    if isinstance(exc, StoreError):
        err().print(f"[red]store error:[/] {escape(str(exc))}")
        return EXIT_OPERATIONAL
    err().print(f"[red]error:[/] {escape(str(exc))}")
    return EXIT_BAD_INPUT
