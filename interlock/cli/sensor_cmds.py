"""``interlock sensor put`` and ``interlock sensor ls``: what producers write, from a shell."""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from interlock.cli._common import (
    EXIT_OK,
    UsageError,
    err,
    escape,
    jsonable,
    open_store_for,
    out,
)
from interlock.clock import wall_clock
from interlock.durations import format_duration

if TYPE_CHECKING:
    import argparse
    from datetime import datetime

_INT = re.compile(r"^[-+]?[0-9]+$")


def parse_value(text: str, now: datetime) -> Any:
    """A typed sensor value from ``field=value``.

    ``now`` → the current time (RFC 3339, UTC); ``true``/``false`` → booleans; ``null`` → null;
    integers and decimals → exact numbers; ``"quoted"`` → the string inside (to write ``"42"`` as text);
    anything else → the string as written.
    """
    if text == "now":
        return now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    if _INT.match(text):
        return int(text)
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    return number if number.is_finite() and text.strip() == text else text


def parse_fields(pairs: list[str], now: datetime) -> dict[str, Any]:
    """``["count=15432", "status=ready"]`` → ``{"count": 15432, "status": "ready"}``."""
    fields: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise UsageError(
                f"{pair!r} is not field=value (e.g. count=15432, status=ready, updatedAt=now)"
            )
        if name in fields:
            raise UsageError(f"field {name!r} is given twice")
        fields[name] = parse_value(raw, now)
    return fields


def check_sensor_input(pipeline: str, key: str, fields: dict[str, Any]) -> None:
    """Refuse, before the store is opened, what the store would refuse: one clear line (exit 2).

    Raises:
        UsageError: an empty or ``#``-bearing pipeline id or key (a per-period key ``key#<period>`` is
            accepted), or a value the store cannot hold (a number beyond DynamoDB's 38 digits/1e126).
    """
    from interlock.store import codec, keys

    try:
        keys.pipeline_pk(pipeline)
        keys.sensor_sk(key)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    for name, value in fields.items():
        try:
            codec.normalize(value)
        except ValueError as exc:
            raise UsageError(f"field {name!r}: {exc}") from None


def cmd_sensor_put(args: argparse.Namespace) -> int:
    """Write one sensor record."""
    from interlock.exceptions import ScheduleError
    from interlock.schedule import Period

    now = wall_clock()
    if not args.fields:
        # A sensor row is replaced whole: writing it with no fields would erase what producers wrote.
        raise UsageError(
            f"sensor put {args.pipeline} {args.key}: no fields given; write at least one "
            "field=value (e.g. status=ready, count=15432, updatedAt=now)"
        )
    fields = parse_fields(args.fields, now)
    if args.hour is not None and args.date is None:
        raise UsageError("--hour needs --date (a period is a date and an hour)")
    if args.date is not None:
        # Checked with the same parser the controller uses, so a bad period never reaches the store.
        if args.hour is not None and not (args.hour.isascii() and args.hour.isdigit()):
            raise UsageError(f"--hour {args.hour!r} is invalid: write an hour 00-23")
        period_text = args.date if args.hour is None else f"{args.date}T{int(args.hour):02d}"
        try:
            Period.parse(period_text)
        except (ScheduleError, ValueError) as exc:
            raise UsageError(str(exc)) from None
        fields["date"] = args.date
        if args.hour is not None:
            fields["hour"] = f"{int(args.hour):02d}"
    check_sensor_input(args.pipeline, args.key, fields)
    with open_store_for(args) as store:
        if store.control.get_config(args.pipeline) is None:
            err().print(
                f"[yellow]note:[/] no config for pipeline {escape(args.pipeline)!r} in the store yet "
                "(written anyway; `interlock config push` adds configs)"
            )
        stored = store.control.put_sensor(args.pipeline, args.key, fields, now=now)
    if args.json:
        print(json.dumps({"pipeline": args.pipeline, "key": args.key, "fields": jsonable(stored)}))
    else:
        shown = ", ".join(
            f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in stored.items()
        )
        out().print(f"[green]✓[/] {escape(args.pipeline)} / {escape(args.key)}: {escape(shown)}")
    return EXIT_OK


def cmd_sensor_ls(args: argparse.Namespace) -> int:
    """List a pipeline's sensors with their fields and ages."""
    now = wall_clock()
    with open_store_for(args) as store:
        sensors = store.control.sensors(args.pipeline)
    if args.json:
        print(
            json.dumps(
                {
                    key: {"fields": jsonable(rec.fields), "updatedAt": jsonable(rec.updated_at)}
                    for key, rec in sorted(sensors.items())
                },
                indent=2,
            )
        )
        return EXIT_OK
    if not sensors:
        out().print(f"no sensors for pipeline {escape(args.pipeline)!r}")
        return EXIT_OK
    from rich.table import Table

    table = Table("SENSOR", "FIELDS", "AGE", box=None, pad_edge=False)
    for key, rec in sorted(sensors.items()):
        age = format_duration(now - rec.updated_at) if rec.updated_at else ""
        shown = ", ".join(f"{k}={v}" for k, v in rec.fields.items())
        table.add_row(escape(key), escape(shown), age)
    out().print(table)
    return EXIT_OK
