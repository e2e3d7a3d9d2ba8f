"""Parsers for the strings a pipeline file holds: clock times, deadlines and cron expressions.

Plain functions over ``str`` (no pydantic), shared by the field types in :mod:`interlock.config.types`
and by the runtime modules that read a validated config (:mod:`interlock.schedule`, :mod:`interlock.sla`),
which therefore do not import pydantic. croniter is imported only when a cron expression is checked.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

__all__ = ["normalize_cron", "parse_clock_time", "parse_deadline"]

_HHMM = re.compile(r"^([0-9]{1,2}):([0-9]{2})$")
_MM = re.compile(r"^:([0-9]{2})$")


def parse_clock_time(text: str) -> tuple[int, int]:
    """Parse ``HH:MM`` (24-hour) into ``(hour, minute)``.

    Raises:
        ValueError: not a 24-hour clock time.
    """
    m = _HHMM.match(text.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ValueError(f"{text!r} is not a time of day: write HH:MM in 24-hour form, e.g. 09:30")
    return int(m.group(1)), int(m.group(2))


def parse_deadline(text: str) -> tuple[int | None, int]:
    """Parse a deadline: ``HH:MM`` (daily) or ``:MM`` (hourly, minutes past the hour).

    Returns:
        ``(hour, minute)``; ``hour`` is ``None`` for an hourly ``:MM`` deadline.

    Raises:
        ValueError: neither form.
    """
    s = text.strip()
    m = _MM.match(s)
    if m:
        minute = int(m.group(1))
        if minute > 59:
            raise ValueError(f"{text!r}: minutes past the hour must be 00-59")
        return None, minute
    try:
        return parse_clock_time(s)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a deadline: write HH:MM for a daily deadline (e.g. 10:00) "
            "or :MM for minutes past each hour (e.g. :15)"
        ) from None


_SHORTCUTS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_AWS_DOW = {"1": "0", "2": "1", "3": "2", "4": "3", "5": "4", "6": "5", "7": "6"}


def _translate_aws_dow(field: str) -> str:
    """AWS numbers weekdays 1-7 from Sunday; standard cron numbers them 0-6 from Sunday."""

    def one(tok: str) -> str:
        if tok in _AWS_DOW:
            return _AWS_DOW[tok]
        if tok.isdigit():
            raise ValueError(f"AWS day-of-week {tok} is out of range 1-7")
        return tok

    out = []
    for part in field.split(","):
        step = ""
        if "/" in part:
            part, step = part.split("/", 1)
            step = "/" + step
        if "-" in part:
            a, b = part.split("-", 1)
            out.append(f"{one(a)}-{one(b)}{step}")
        else:
            out.append(one(part) + step)
    return ",".join(out)


@lru_cache(maxsize=1024)
def normalize_cron(expr: str) -> tuple[str, str | None]:
    """Check a cron expression and return it in standard 5-field form.

    Standard 5-field expressions (minute hour day-of-month month day-of-week) are kept as written.
    An AWS EventBridge expression, 6 fields with a year (``0 6 * * ? *``, optionally wrapped in
    ``cron(...)``), is translated deliberately: ``?`` becomes ``*``, weekdays 1-7 (Sunday first) become
    0-6, and the year must be ``*``. croniter would otherwise read the sixth field as *seconds*.

    Returns:
        ``(expression, note)``: the 5-field expression and, when it was translated, a note saying how.

    Raises:
        ValueError: the expression is not valid, or uses AWS features with no standard equivalent.
    """
    # Imported here: keeps `import interlock.config` light for the CLI.
    from croniter import CroniterBadDateError, croniter

    raw = expr.strip()
    text = raw
    wrapped = text.startswith("cron(") and text.endswith(")")
    if wrapped:
        text = text[5:-1].strip()
    fields = text.split()
    note = None
    if text.startswith("@") and not wrapped:
        if text not in _SHORTCUTS:
            raise ValueError(
                f"cron {raw!r}: unknown shortcut; use @hourly, @daily, @weekly or 5 fields"
            )
        # Expanded so every consumer sees five fields.
        return _SHORTCUTS[text], None
    if len(fields) == 6 or wrapped:
        text = _from_aws(fields, raw, text)
        note = f"AWS-style cron {raw!r} read as the standard 5-field {text!r}"
    elif len(fields) != 5:
        raise ValueError(
            f"cron {raw!r} has {len(fields)} fields; write 5 (minute hour day-of-month month "
            "day-of-week), e.g. '0 8 * * *' for 08:00 daily"
        )
    if "?" in text:
        raise ValueError(f"cron {raw!r}: '?' is AWS syntax; in 5-field cron write '*'")
    if not croniter.is_valid(text):
        raise ValueError(
            f"cron {raw!r} is not a valid expression, e.g. '0 8 * * *' for 08:00 daily"
        )
    try:
        croniter(text, datetime(2026, 1, 1)).get_next(datetime)
    except CroniterBadDateError:
        raise ValueError(f"cron {raw!r} never fires (e.g. February 30th)") from None
    return text, note


def _from_aws(fields: list[str], raw: str, text: str) -> str:
    """Translate the six fields of an AWS EventBridge cron into a standard 5-field one."""
    if len(fields) != 6:
        raise ValueError(
            f"cron({text}) needs 6 fields (AWS form: minutes hours dom month dow year)"
        )
    minute, hour, dom, month, dow, year = fields
    if year not in {"*", "?"}:
        raise ValueError(
            f"cron {raw!r} pins the year to {year!r}; Interlock schedules repeat every year: "
            "use schedule.include.dates for one-off days"
        )
    for f in (dom, dow):
        if any(c in f for c in "LW#"):
            raise ValueError(
                f"cron {raw!r} uses AWS-only syntax (L, W or #) that has no standard equivalent"
            )
    dom = "*" if dom == "?" else dom
    dow = "*" if dow == "?" else _translate_aws_dow(dow)
    return " ".join([minute, hour, dom, month, dow])
