"""Duration strings as pipeline files write them: ``90s``, ``30m``, ``2h``, ``1h30m``, ``1.5h``, ``500ms``.

The original accepted Go duration syntax; we accept the same units (``ms``, ``s``, ``m``, ``h``) and add
``d`` for days, and refuse everything else with a message that shows the accepted forms. Pure: no I/O.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = ["format_duration", "parse_duration", "parse_until"]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?|\.[0-9]+)(ms|s|m|h|d)")
_EXAMPLES = "write a number and a unit, e.g. 90s, 30m, 2h, 1h30m (units: ms, s, m, h, d)"


def parse_duration(text: str) -> timedelta:
    """Parse a duration string.

    Args:
        text: e.g. ``"1h30m"``. Surrounding whitespace is ignored. A bare ``"0"`` means zero.

    Returns:
        The duration as a :class:`~datetime.timedelta` (never negative).

    Raises:
        ValueError: the text is not a duration; the message says which forms are accepted.
    """
    if not isinstance(text, str):  # pragma: no cover - callers type-check; defensive for YAML input
        raise ValueError(f"expected a duration string, got {type(text).__name__}: {_EXAMPLES}")
    s = text.strip()
    if s == "0":
        return timedelta(0)
    if not s:
        raise ValueError(f"empty duration: {_EXAMPLES}")
    pos = 0
    total = 0.0
    seen: list[str] = []
    for m in _PART.finditer(s):
        if m.start() != pos:
            break
        unit = m.group(2)
        if unit in seen:
            raise ValueError(f"duration {text!r} repeats the unit {unit!r}: {_EXAMPLES}")
        seen.append(unit)
        total += float(m.group(1)) * _UNITS[unit]
        pos = m.end()
    if pos != len(s) or not seen:
        if re.fullmatch(r"[0-9]+(\.[0-9]+)?", s):
            raise ValueError(f"duration {text!r} has no unit: write {s}s, {s}m or {s}h")
        raise ValueError(f"{text!r} is not a duration: {_EXAMPLES}")
    try:
        return timedelta(seconds=total)
    except OverflowError:
        raise ValueError(f"duration {text!r} is too large") from None


def format_duration(delta: timedelta) -> str:
    """Render a duration compactly and readably: ``2h31m``, ``45s``, ``1d2h``, ``-5m`` for negatives."""
    total = int(round(delta.total_seconds()))
    sign = "-" if total < 0 else ""
    total = abs(total)
    days, rem = divmod(total, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, seconds = divmod(rem, 60)
    parts = [f"{v}{u}" for v, u in ((days, "d"), (hours, "h"), (minutes, "m")) if v]
    if seconds or not parts:
        parts.append(f"{seconds}s")
    # Past an hour the seconds are noise for a human reading an age or a countdown.
    if days or hours:
        parts = [p for p in parts if not p.endswith("s")] or parts
    return sign + "".join(parts)


def parse_until(text: str, now: datetime, *, what: str = "until") -> datetime:
    """An expiry as the CLI and the notebook take it: a duration from ``now`` or an instant with an offset.

    Args:
        text: ``"2h"``, ``"1h30m"`` (from ``now``) or ``"2026-03-02T12:00:00Z"`` (ISO 8601 with offset).
        now: the instant a duration counts from (timezone-aware).
        what: the option's name for messages (``--until`` in the CLI).

    Returns:
        The instant, in UTC (whole seconds when computed from a duration).

    Raises:
        ValueError: neither form, a zero duration, or a time without an offset.
    """
    try:
        delta = parse_duration(text)
    except ValueError:
        delta = None
    if delta is not None:
        if delta <= timedelta(0):
            raise ValueError(f"{what} {text!r}: an acknowledgement must last longer than 0")
        return (now + delta).replace(microsecond=0)  # whole seconds read better in Slack and logs
    try:
        at = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{what} {text!r} is neither a duration (2h, 30m) nor an ISO-8601 time such as "
            "2026-03-02T12:00:00Z"
        ) from None
    if at.utcoffset() is None:
        raise ValueError(f"{what} {text!r} has no time zone offset: add Z or +HH:MM")
    return at.astimezone(UTC)
