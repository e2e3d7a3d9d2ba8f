"""``interlock rerun``, ``interlock ack`` and ``interlock dry-run on|off``: operator actions from a shell.

Each command goes through :class:`interlock.service.operator.Operator`, so the row it writes and the audited event
(with ``actor``: ``--by``, else ``$INTERLOCK_ACTOR``, else ``user@host``) are the ones the TUI writes.
The events go to the store's events table (``interlock events tail`` shows them)::

    interlock rerun gold-revenue --period 2026-03-02 --reason manual --yes
    interlock ack gold-revenue --reason "upstream late, vendor ticket 4411" --until 2h
    interlock dry-run on gold-revenue --reason "shadowing the new job"

``rerun`` prints the remaining budget and asks for confirmation on a terminal; without one it needs
``--yes`` (exit 2 otherwise). Declining writes nothing and exits 1.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from interlock.cli._common import (
    EXIT_NOT_READY,
    EXIT_OK,
    UsageError,
    add_store_option,
    err,
    escape,
    open_store_for,
    out,
)
from interlock.clock import SystemClock, wall_clock

if TYPE_CHECKING:
    import argparse
    from datetime import datetime

    from interlock.cli._common import Parser
    from interlock.service.operator import Operator, OperatorResult
    from interlock.store.factory import Store

__all__ = [
    "add_operator_commands",
    "cmd_ack",
    "cmd_dry_run",
    "cmd_rerun",
    "parse_until",
]


def add_operator_commands(sub: argparse._SubParsersAction[Parser]) -> None:
    """Register ``rerun``, ``ack`` and ``dry-run`` on the top-level subparsers."""
    p = sub.add_parser("rerun", help="ask the controller to rerun a period (shows the budget left)")
    p.add_argument("pipeline", metavar="PIPELINE", help="pipeline id")
    p.add_argument("--period", metavar="P", help="YYYY-MM-DD or YYYY-MM-DDTHH (default: current)")
    p.add_argument(
        "--reason",
        default="manual",
        help="manual (default), data-drift, late-data, or your own word (its own manual budget)",
    )
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    _add_common(p)
    p.set_defaults(func=cmd_rerun)

    p = sub.add_parser("ack", help="acknowledge a run's SLA alerts, with a reason and an expiry")
    p.add_argument("pipeline", metavar="PIPELINE", help="pipeline id")
    p.add_argument("--period", metavar="P", help="YYYY-MM-DD or YYYY-MM-DDTHH (default: current)")
    p.add_argument("--reason", required=True, help="why (shown in the Slack thread and the events)")
    p.add_argument(
        "--until",
        metavar="WHEN",
        help="a duration from now (2h, 30m) or an ISO-8601 time with offset (default: rest of the run)",
    )
    _add_common(p)
    p.set_defaults(func=cmd_ack)

    p = sub.add_parser("dry-run", help="switch a pipeline into or out of dry run (observe only)")
    p.add_argument("state", choices=["on", "off"], help="on: observe only; off: live again")
    p.add_argument("pipeline", metavar="PIPELINE", help="pipeline id")
    p.add_argument("--reason", required=True, help="why (audited with the switch)")
    _add_common(p)
    p.set_defaults(func=cmd_dry_run)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--by",
        metavar="WHO",
        help="who acts (default: $INTERLOCK_ACTOR, then the AWS caller identity on a dynamodb:// store, "
        "then user@host)",
    )
    add_store_option(parser)


def _operator(args: argparse.Namespace, store: Store) -> Operator:
    from interlock.service.bus import operator_bus
    from interlock.service.operator import Operator, current_actor

    by = args.by.strip() if args.by else ""
    if args.by is not None and not by:
        raise UsageError("--by needs a name")
    return Operator(
        store, bus=operator_bus(store), clock=SystemClock(), actor=by or current_actor(store)
    )


def _done(result: OperatorResult) -> None:
    event = f" [dim]({result.event}, by {escape(result.by)})[/]" if result.event else ""
    out().print(f"[green]✓[/] {escape(result.message)}{event}")


# ------------------------------------------------------------------------------------------ rerun


def _confirm(question: str) -> bool:
    err().print(f"{escape(question)} \\[y/N] ", end="")
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def cmd_rerun(args: argparse.Namespace) -> int:
    """Request a rerun of one period, after showing its budget (and confirming on a terminal)."""
    with open_store_for(args) as store:
        operator = _operator(args, store)
        period = args.period or operator.current_period(args.pipeline)
        budget = operator.budget(args.pipeline, period, reason=args.reason)
        reason = args.reason.strip()
        schedule = operator.config(args.pipeline).schedule.schedule_id
        left = budget.remaining(reason)
        out().print(
            f"{escape(args.pipeline)} · {schedule} · {period} · reason {escape(reason)}\n"
            f"rerun budget: {escape(str(budget))}"
        )
        outlook = operator.rerun_outlook(args.pipeline, period, reason=reason)
        if outlook.verdict in ("rejected", "excluded"):
            err().print(
                f"[yellow]warning:[/] the controller will reject this request: "
                f"{escape(outlook.message)}"
            )
        elif left == 0:
            err().print(
                f"[yellow]warning:[/] the budget for {escape(reason)} reruns is spent: the controller "
                "will reject this request (RERUN_REJECTED)"
            )
        else:
            out().print(f"outlook: {escape(outlook.message)}")
        if not args.yes:
            if not sys.stdin.isatty():
                raise UsageError("no terminal to confirm on: pass --yes to request the rerun")
            if not _confirm(f"Request a rerun of {args.pipeline} {period}?"):
                err().print("not confirmed: nothing written")
                return EXIT_NOT_READY
        result = operator.rerun(args.pipeline, period=period, reason=reason)
    _done(result)
    return EXIT_OK


# -------------------------------------------------------------------------------------------- ack


def parse_until(text: str, now: datetime) -> datetime:
    """``--until``: :func:`interlock.durations.parse_until` with the CLI's exit code for bad input.

    Raises:
        UsageError: neither a duration nor an instant, a zero duration, or a time without an offset.
    """
    from interlock.durations import parse_until as parse

    try:
        return parse(text, now, what="--until")
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def cmd_ack(args: argparse.Namespace) -> int:
    """Acknowledge a run's SLA alerts."""
    until = parse_until(args.until, wall_clock()) if args.until is not None else None
    with open_store_for(args) as store:
        result = _operator(args, store).ack(
            args.pipeline, period=args.period, reason=args.reason, until=until
        )
    _done(result)
    return EXIT_OK


# ---------------------------------------------------------------------------------------- dry run


def cmd_dry_run(args: argparse.Namespace) -> int:
    """Switch a pipeline into or out of dry run."""
    on = args.state == "on"
    with open_store_for(args) as store:
        result = _operator(args, store).dry_run(args.pipeline, on, reason=args.reason)
    if not result.applied:
        out().print(f"{escape(result.message)}: nothing changed")
        return EXIT_OK
    _done(result)
    if on:
        out().print("  observe only: the controller reports what would happen and triggers no job")
    return EXIT_OK
