"""Field types shared by the pipeline and calendar models: durations, clock times, dates, zones, crons.

Each type parses strictly and says what to write instead when it refuses a value. They are annotated
``pydantic`` types, so the committed JSON Schema describes them as the strings users actually write.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from interlock.config.text import normalize_cron, parse_clock_time, parse_deadline
from interlock.durations import format_duration, parse_duration

__all__ = [
    "ClockTime",
    "CronExpr",
    "Deadline",
    "Duration",
    "IsoDate",
    "TimeZoneName",
    "TimeoutDuration",
    "case_insensitive_enum",
    "normalize_cron",
    "parse_clock_time",
    "parse_deadline",
]

DURATION_PATTERN = r"^\s*(0|((\d+(\.\d+)?|\.\d+)(ms|s|m|h|d))+)\s*$"


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"expected a duration string such as 30m or 1h30m, got {value!r}")
    if isinstance(value, int | float):
        if value == 0:
            return timedelta(0)
        raise ValueError(f"duration {value!r} has no unit: write {value}s, {value}m or {value}h")
    return parse_duration(value)


Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": DURATION_PATTERN,
            "examples": ["90s", "30m", "2h", "1h30m"],
        }
    ),
]
"""A duration written as ``90s``, ``30m``, ``2h``, ``1h30m`` (units ms, s, m, h, d)."""


def _seconds_or_duration(value: Any) -> timedelta:
    # The original took trigger timeouts as a number of seconds; a duration string reads better.
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 0 < value <= 7 * 86400:
            raise ValueError(f"timeout must be between 0 and 7 days (in seconds), got {value!r}")
        return timedelta(seconds=value)
    return _duration(value)


TimeoutDuration = Annotated[
    timedelta,
    BeforeValidator(_seconds_or_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "oneOf": [
                {"type": "number", "exclusiveMinimum": 0, "description": "seconds"},
                {"type": "string", "pattern": DURATION_PATTERN},
            ],
            "examples": [30, "2m"],
        }
    ),
]
"""A timeout: a number of seconds (as the original wrote it) or a duration string."""


def _str_check(parser: Any, what: str) -> Any:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(f"expected {what} as a quoted string, got {value!r}")
        parser(value)
        return value.strip()

    return check


ClockTime = Annotated[
    str,
    BeforeValidator(_str_check(parse_clock_time, "a time of day (HH:MM)")),
    WithJsonSchema({"type": "string", "pattern": r"^\d{1,2}:\d{2}$", "examples": ["09:30"]}),
]
"""A 24-hour time of day, ``HH:MM``."""

Deadline = Annotated[
    str,
    BeforeValidator(_str_check(parse_deadline, "a deadline (HH:MM or :MM)")),
    WithJsonSchema(
        {"type": "string", "pattern": r"^(\d{1,2}:\d{2}|:\d{2})$", "examples": ["10:00", ":15"]}
    ),
]
"""``HH:MM`` (daily) or ``:MM`` (hourly) deadline."""

_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _iso_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a real date ({exc})") from None
    raise ValueError(f"expected a date written YYYY-MM-DD, got {value!r}")


IsoDate = Annotated[
    date,
    BeforeValidator(_iso_date),
    PlainSerializer(lambda d: d.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}),
]
"""A calendar date, ``YYYY-MM-DD``."""


def case_insensitive_enum(values: list[str]) -> dict[str, Any]:
    """JSON Schema for a string the loader reads case-insensitively: editors complete ``values``."""

    def ci(v: str) -> str:
        return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in v)

    return {
        "anyOf": [
            {"enum": values},
            {"type": "string", "pattern": "^(?:" + "|".join(ci(v) for v in values) + ")$"},
        ]
    }


def _zone(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected an IANA time zone name such as Europe/London, got {value!r}")
    name = value.strip()
    if re.fullmatch(r"[A-Za-z]{2,5}[0-9]?([A-Za-z]{3})?", name) and name not in {"UTC", "GMT"}:
        # ZoneInfo knows legacy names such as EST or CET, but they are fixed offsets or ambiguous
        # abbreviations: "EST" never observes daylight saving, so a New York pipeline would run an
        # hour off all summer. Refuse them and name the region zone to use.
        raise ValueError(
            f"time zone {name!r} is an abbreviation or legacy name: use a region name such as "
            "America/New_York, Europe/Berlin or UTC"
        )
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"unknown time zone {name[:60]!r}; use an IANA name such as UTC or Europe/Berlin"
            + _zone_hint(name)
        ) from None
    return name


def _zone_hint(name: str) -> str:
    import difflib
    from zoneinfo import available_timezones

    if len(name) > 60:
        return ""
    zones = sorted(available_timezones())
    close = difflib.get_close_matches(name, zones, n=1, cutoff=0.75)
    if not close:
        lower = {z.lower(): z for z in zones}
        close = [lower[name.lower()]] if name.lower() in lower else []
    return f"; did you mean {close[0]!r}?" if close else ""


TimeZoneName = Annotated[
    str,
    BeforeValidator(_zone),
    WithJsonSchema({"type": "string", "examples": ["UTC", "Europe/London", "America/New_York"]}),
]
"""An IANA time zone name (``UTC``, ``Europe/London``)."""


def _cron(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            f"expected a cron expression as a string such as '0 8 * * *', got {value!r}"
        )
    return normalize_cron(value)[0]


CronExpr = Annotated[
    str,
    BeforeValidator(_cron),
    WithJsonSchema({"type": "string", "examples": ["0 8 * * *", "*/15 * * * *"]}),
]
"""A 5-field cron expression (an AWS 6-field one is translated, see :func:`normalize_cron`)."""
