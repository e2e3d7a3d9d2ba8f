"""Shared pieces of the CLI: exit codes, consoles, problem printing, time parsing, opening the store."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from interlock.clock import wall_clock

if TYPE_CHECKING:
    from rich.console import Console

    from interlock.exceptions import Problem
    from interlock.store.factory import Store

EXIT_OK, EXIT_NOT_READY, EXIT_BAD_INPUT, EXIT_OPERATIONAL = 0, 1, 2, 3


class UsageError(Exception):
    """Bad input the command found itself (exit 2), with a message for the user."""


class Parser(argparse.ArgumentParser):
    """argparse with the project's exit code for usage errors and a pointer to --help."""

    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n(try '{self.prog} --help')\n")


# rich is imported where output is printed, not at import: it costs ~25 ms, which `interlock --help`
# (argparse prints it) and every command's start would otherwise pay.


def escape(text: str) -> str:
    """``rich.markup.escape``: ``text`` with its rich markup made literal."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def out() -> Console:
    """Console for results (stdout)."""
    from rich.console import Console

    return Console(file=sys.stdout, highlight=False, soft_wrap=True)


def err() -> Console:
    """Console for diagnostics (stderr)."""
    from rich.console import Console

    return Console(file=sys.stderr, highlight=False, soft_wrap=True)


def problem_json(p: Problem) -> dict[str, Any]:
    """A problem as JSON for ``--json`` output."""
    return {
        "file": str(p.file) if p.file is not None else None,
        "line": p.line,
        "key": p.key,
        "path": list(p.path),
        "message": p.message,
        "severity": p.severity,
    }


def print_problem(console: Console, p: Problem) -> None:
    """One problem as ``file:line: error key: message``."""
    colour = "red" if p.severity == "error" else "yellow"
    console.print(
        f"[bold]{escape(p.location)}[/]: [{colour}]{p.severity}[/] "
        f"[cyan]{escape(p.key)}[/]: {escape(p.message)}"
    )


def parse_at(text: str | None) -> datetime:
    """``--at``: an RFC 3339 instant with an offset (default: now)."""
    if text is None:
        return wall_clock()
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--at {text!r} is not an RFC 3339 time such as 2026-03-02T08:41:00Z"
        ) from None
    if at.tzinfo is None:
        raise UsageError(f"--at {text!r} has no time zone offset: add Z or +HH:MM")
    return at.astimezone(UTC)


def parse_since(text: str, now: datetime) -> datetime:
    """``--since``: a duration back from now (``1h``, ``30m``) or an RFC 3339 instant."""
    from interlock.durations import parse_duration

    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        return parse_at(text)
    except UsageError:
        raise UsageError(
            f"--since {text!r} is neither a duration (1h, 30m) nor an RFC 3339 time"
        ) from None


def add_store_option(parser: argparse.ArgumentParser) -> None:
    """``--store URL`` (default ``$INTERLOCK_STORE``, then ``sqlite:///./.interlock/interlock.db``)."""
    parser.add_argument(
        "--store",
        metavar="URL",
        help="sqlite:///path.db or dynamodb://ENV?region=…&endpoint=… "
        "(default: $INTERLOCK_STORE, then sqlite:///./.interlock/interlock.db). "
        "sqlite:///rel/path.db is relative to the working directory, sqlite:////abs/path.db absolute",
    )
    parser.add_argument(
        "--create",
        action="store_true",
        help="create the SQLite store if its file does not exist (default: refuse, exit 2)",
    )


def open_store_for(args: argparse.Namespace, *, create: bool = False) -> Store:
    """Open the store named by ``--store`` (or the default).

    Args:
        args: the parsed arguments (``store``, ``create``).
        create: make a missing SQLite file even without ``--create`` (commands that write configs).

    Raises:
        StoreNotFoundError: the SQLite file does not exist and neither ``create`` nor ``--create``.
    """
    from interlock.store import open_store

    return open_store(
        getattr(args, "store", None), create=create or bool(getattr(args, "create", False))
    )


def jsonable(value: Any) -> Any:
    """A value made JSON-serialisable (Decimals become numbers, datetimes RFC 3339 strings)."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value
