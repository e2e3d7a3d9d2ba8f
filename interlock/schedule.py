"""Schedules in a pipeline's time zone: run periods, cron fires and calendar days.

A run is identified by its **period**: a local date (``2026-03-28``, daily) or a local date and hour
(``2026-03-28T10``, hourly). This module turns the things that start runs into periods, and answers
"does the pipeline run on this day?". Pure: it reads no clock (``now`` is always passed in, as a
timezone-aware datetime), performs no I/O, and imports only the standard library, croniter and
``interlock.config``.

**Period of a sensor write** (:func:`period_from_sensor`)::

    {"date": "2026-03-28"}                 -> 2026-03-28
    {"date": "20260328", "hour": "07"}     -> 2026-03-28T07     (hour: "0".."23", "00".."23" or an int 0..23)
    {}                                     -> today in the pipeline's time zone
    {"hour": "07"}                         -> ScheduleError     (an hour of which day?)
    {"date": "2026-02-30"}                 -> ScheduleError     (never silently "today")

**Cron fires in a time zone** (:func:`next_fire`, :func:`previous_fire`, :func:`fires_between`). The cron
expression is read in local wall-clock time, and each matching wall-clock time fires **once**:

* A wall time repeated by a fall-back transition fires at its *first* occurrence only, so ``30 1 * * *``
  fires once on 2026-11-01 in America/New_York (01:30 EDT = 05:30Z) and ``0 * * * *`` fires 24 times
  that day, not 25 (croniter alone fires twice in the repeated hour).
* A wall time skipped by a spring-forward transition fires at the first valid instant after the gap, as
  croniter (and classic cron) does: ``30 2 * * *`` fires at 03:00 EDT on 2026-03-08. Several skipped
  times, or a skipped time and a real one (``*/30 * * * *`` at 02:00, 02:30 and 03:00), collapse into a
  single fire at that instant. (SLA deadlines differ: a deadline in a gap moves forward by the gap, so
  02:30 becomes 03:30; see :mod:`interlock.sla`.)

Fire times are returned as UTC-aware datetimes, strictly increasing.

**Period of a cron fire** (:func:`cron_period`): the local date of the fire; hourly (local date and hour
of the fire) when the cron's hour field is anything but a single number (``*``, ``*/2``, ``1,13``,
``9-17``), daily otherwise. ``0 * * * *`` firing at 2026-03-28 10:00 in Europe/London is ``2026-03-28T10``;
``15 6 * * 1-5`` is ``2026-03-30`` on Monday 30 March.

**Run days** (:func:`exclusion_reason`, :func:`is_inclusion_day`, :func:`is_run_day`): a day is a run day
when it is in ``schedule.include.dates`` (if there is an include list) and not excluded by
``schedule.exclude.weekends``, ``schedule.exclude.dates`` or the named calendar's days and dates. Callers
choose which day to ask about: the sensor path asks about today's local date (the wall clock), rerun and
retry paths about the run's period.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from interlock.config.text import normalize_cron
from interlock.exceptions import ScheduleError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from interlock.config.models import Calendar, Schedule

__all__ = [
    "Period",
    "cron_period",
    "exclusion_reason",
    "fires_between",
    "is_inclusion_day",
    "is_run_day",
    "local_date",
    "next_fire",
    "period_from_sensor",
    "previous_fire",
]

_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ONE_DAY = timedelta(days=1)
_ONE_MINUTE = timedelta(minutes=1)

# -------------------------------------------------------------------------------------- periods

_PERIOD = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T([0-9]{2}))?")


@dataclass(frozen=True, slots=True)
class Period:
    """The period a run covers: a local date (daily) or a local date and hour (hourly).

    Periods order by date, then hour, with a day's daily period before its hourly ones.

    Attributes:
        day: the local date.
        hour: the local hour (0-23) of an hourly period; ``None`` for a daily period.
    """

    day: date
    hour: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.day, date) or isinstance(self.day, datetime):
            raise ScheduleError(f"a period's day must be a date, got {self.day!r}")
        if self.hour is not None and (
            isinstance(self.hour, bool)
            or not isinstance(self.hour, int)
            or not 0 <= self.hour <= 23
        ):
            raise ScheduleError(f"a period's hour must be an integer 0-23, got {self.hour!r}")

    @classmethod
    def parse(cls, text: str) -> Period:
        """Read a period id: ``YYYY-MM-DD`` (daily) or ``YYYY-MM-DDTHH`` (hourly, ``HH`` 00-23).

        Args:
            text: the id, exactly as :attr:`id` writes it (no spaces, two-digit hour).

        Returns:
            The period.

        Raises:
            ScheduleError: ``text`` is not a period id or names a date or hour that does not exist.
        """
        m = _PERIOD.fullmatch(text) if isinstance(text, str) else None
        if m is None:
            raise ScheduleError(
                f"{text!r} is not a period: write YYYY-MM-DD (daily) or YYYY-MM-DDTHH (hourly, "
                "e.g. 2026-03-28T07)"
            )
        year, month, day, hour = m.groups()
        try:
            parsed = date(int(year), int(month), int(day))
        except ValueError:
            raise ScheduleError(f"{text!r} is not a period: no such date") from None
        if hour is not None and int(hour) > 23:
            raise ScheduleError(f"{text!r} is not a period: the hour must be 00-23")
        return cls(parsed, None if hour is None else int(hour))

    @property
    def id(self) -> str:
        """``YYYY-MM-DD`` for a daily period, ``YYYY-MM-DDTHH`` for an hourly one."""
        if self.hour is None:
            return self.day.isoformat()
        return f"{self.day.isoformat()}T{self.hour:02d}"

    @property
    def is_hourly(self) -> bool:
        """Whether the period is one hour (rather than one day)."""
        return self.hour is not None

    def _key(self) -> tuple[date, int]:
        return (self.day, -1 if self.hour is None else self.hour)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() < other._key()

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() <= other._key()

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() > other._key()

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() >= other._key()

    def __str__(self) -> str:
        return self.id

    def __repr__(self) -> str:
        return f"Period({self.id!r})"


# -------------------------------------------------------------------------------- time helpers


@lru_cache(maxsize=64)
def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ScheduleError(
            f"unknown time zone {tz!r}: use an IANA name such as UTC or Europe/London"
        ) from None


def _require_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


def _offset(at: datetime) -> timedelta:
    offset = at.utcoffset()
    assert offset is not None  # every datetime here carries a ZoneInfo or UTC
    return offset


def local_date(at: datetime, tz: str) -> date:
    """The date it is in time zone ``tz`` at the instant ``at``.

    Args:
        at: a timezone-aware instant.
        tz: an IANA time zone name.

    Returns:
        The local calendar date.

    Raises:
        ValueError: ``at`` is naive.
        ScheduleError: ``tz`` is not a known time zone.
    """
    _require_aware(at, "at")
    return at.astimezone(_zone(tz)).date()


# ------------------------------------------------------------------------------ sensor periods

_COMPACT_DATE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_HOUR_TEXT = re.compile(r"[0-9]{1,2}")


def _sensor_date(value: Any) -> date:
    if not isinstance(value, str):
        raise ScheduleError(
            f"sensor field 'date' must be a string YYYY-MM-DD or YYYYMMDD, got {value!r}"
        )
    m = _ISO_DATE.fullmatch(value) or _COMPACT_DATE.fullmatch(value)
    if m is None:
        hint = " (put the hour in the 'hour' field)" if "T" in value else ""
        raise ScheduleError(
            f"sensor field 'date' is {value!r}: write YYYY-MM-DD or YYYYMMDD, e.g. 2026-03-28{hint}"
        )
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise ScheduleError(f"sensor field 'date' is {value!r}, which is not a real date") from None


def _sensor_hour(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        hour = value
    elif isinstance(value, str) and _HOUR_TEXT.fullmatch(value):
        hour = int(value)
    else:
        raise ScheduleError(
            f"sensor field 'hour' is {value!r}: write the hour as a string '00'..'23' or an integer 0..23"
        )
    if not 0 <= hour <= 23:
        raise ScheduleError(f"sensor field 'hour' is {value!r}: the hour must be 0..23")
    return hour


def period_from_sensor(data: Mapping[str, Any], now: datetime, tz: str) -> Period:
    """The period a trigger-sensor write is about, read from its ``date`` and ``hour`` fields.

    Rules:

    * ``date`` is a string ``YYYY-MM-DD`` or ``YYYYMMDD``; ``hour`` (optional) is a string of one or two
      digits (``"7"``, ``"07"``) or an integer, 0..23. With an hour the period is hourly.
    * **No date** (the field is absent or null): the period is *today's date in the pipeline's time zone
      ``tz``* at ``now`` (daily). The original product used the UTC date, which is the wrong day for a
      non-UTC pipeline near midnight.
    * An hour without a date is refused: it is ambiguous (which day's hour?).
    * A date or hour that cannot be read is refused. We never fall back to today for a *bad* date, as
      the original did, because that silently starts a run for the wrong day.

    Args:
        data: the sensor's data fields.
        now: the current instant, timezone-aware (used only when there is no date).
        tz: the pipeline's IANA time zone (``schedule.timezone``).

    Returns:
        The daily or hourly period.

    Raises:
        ValueError: ``now`` is naive.
        ScheduleError: the date or hour is invalid, an hour comes without a date, or ``tz`` is unknown.
    """
    _require_aware(now, "now")
    zone = _zone(tz)
    raw_date = data.get("date")
    raw_hour = data.get("hour")
    if raw_date is None:
        if raw_hour is not None:
            raise ScheduleError(
                f"sensor has an 'hour' ({raw_hour!r}) but no 'date': add the date (YYYY-MM-DD) so the "
                "hour names one period"
            )
        return Period(now.astimezone(zone).date())
    day = _sensor_date(raw_date)
    return Period(day, None if raw_hour is None else _sensor_hour(raw_hour))


# ------------------------------------------------------------------------------------ cron fires


@lru_cache(maxsize=256)
def _cron_text(cron: str) -> str:
    """The 5-field expression (normalize_cron expands shortcuts and translates the AWS form)."""
    try:
        text, _note = normalize_cron(cron)
    except ValueError as exc:
        raise ScheduleError(str(exc)) from None
    return text


def _transition_after(before: datetime, after: datetime, zone: ZoneInfo) -> datetime:
    """The first instant in ``(before, after]`` (UTC) whose offset in ``zone`` is ``after``'s."""
    target = _offset(after.astimezone(zone))
    lo, hi = before, after
    while hi - lo > timedelta(seconds=1):
        mid = lo + timedelta(seconds=(hi - lo).total_seconds() // 2)
        if _offset(mid.astimezone(zone)) == target:
            hi = mid
        else:
            lo = mid
    return hi


def _fire_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant at which a cron fire at local wall time ``wall`` happens.

    The mapping is non-decreasing in ``wall``, which the searches below rely on.
    """
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    if _offset(second) <= _offset(first):
        # Exists once (equal offsets) or twice (fall-back: fold=0 is the first occurrence).
        return first.astimezone(UTC)
    # Skipped by spring-forward. fold=1 reads it with the later offset, fold=0 with the earlier one;
    # the jump lies between the two readings, and the fire happens at the jump.
    return _transition_after(second.astimezone(UTC), first.astimezone(UTC), zone)


def _walls(cron: str, start: datetime, *, backwards: bool = False) -> Iterator[datetime]:
    """Naive local wall times matching ``cron``, strictly after (or before) naive ``start``."""
    # Imported on first use: croniter (and dateutil under it) costs ~25 ms to import, which a Lambda
    # handler or a CLI command that never computes a fire time should not pay.
    from croniter import CroniterError, croniter

    it = croniter(_cron_text(cron), start)
    while True:
        try:
            wall: datetime = it.get_prev(datetime) if backwards else it.get_next(datetime)
        except CroniterError as exc:
            raise ScheduleError(f"cron {cron!r} never fires: {exc}") from None
        yield wall


def _naive_local(at: datetime, zone: ZoneInfo) -> datetime:
    return at.astimezone(zone).replace(tzinfo=None, fold=0)


def _backward_shift(at: datetime, zone: ZoneInfo) -> timedelta:
    """How far the wall clock went back during the day before ``at`` (0 when it did not).

    Assumes a zone changes its offset at most once within any 24 hours, as real-world zones do.
    """
    return max(
        timedelta(0), _offset((at - _ONE_DAY).astimezone(zone)) - _offset(at.astimezone(zone))
    )


def _forward_shift(at: datetime, zone: ZoneInfo) -> timedelta:
    """How far the wall clock jumped forward during the day before ``at`` (0 when it did not; see above)."""
    return max(
        timedelta(0), _offset(at.astimezone(zone)) - _offset((at - _ONE_DAY).astimezone(zone))
    )


def next_fire(cron: str, tz: str, after: datetime) -> datetime:
    """The first fire of ``cron`` (read in time zone ``tz``) strictly after ``after``.

    See the module docstring for the DST rules (one fire per local wall time; skipped times fire at
    the end of the gap).

    Args:
        cron: a 5-field cron expression (an AWS 6-field one or an ``@daily``-style shortcut is accepted).
        tz: the IANA time zone the expression is read in.
        after: a timezone-aware instant.

    Returns:
        The fire instant, in UTC.

    Raises:
        ValueError: ``after`` is naive.
        ScheduleError: the expression or zone is invalid, or the expression never fires.
    """
    _require_aware(after, "after")
    zone = _zone(tz)
    after_utc = after.astimezone(UTC)
    _cron_text(cron)
    day = after_utc.replace(hour=0, minute=0, second=0, microsecond=0)
    for begin in (day, day + _ONE_DAY):  # most crons fire within a day: from the cached pieces
        for fire in _day_fires(cron, tz, begin):
            if fire > after_utc:
                return fire
    # A wall time at or before `after`'s own maps to an instant at or before `after` (the mapping is
    # monotonic and `after`'s wall time maps to `after` or to its earlier first occurrence).
    for wall in _walls(cron, _naive_local(after_utc, zone)):
        instant = _fire_instant(wall, zone)
        if instant > after_utc:
            return instant
    raise AssertionError("unreachable: _walls is endless")  # pragma: no cover


def previous_fire(cron: str, tz: str, at: datetime) -> datetime:
    """The last fire of ``cron`` (read in time zone ``tz``) **at or before** ``at``.

    "At or before" makes ``previous_fire(c, tz, f) == f`` for every fire ``f``, so "the fire this instant
    belongs to" is a single call; ``next_fire(c, tz, previous_fire(c, tz, t)) > t`` for every ``t``.

    Args:
        cron: a 5-field cron expression (an AWS 6-field one or an ``@daily``-style shortcut is accepted).
        tz: the IANA time zone the expression is read in.
        at: a timezone-aware instant.

    Returns:
        The fire instant, in UTC.

    Raises:
        ValueError: ``at`` is naive.
        ScheduleError: the expression or zone is invalid, or the expression never fires.
    """
    _require_aware(at, "at")
    zone = _zone(tz)
    at_utc = at.astimezone(UTC)
    # In the second pass through a repeated hour, later wall times (up to the size of the shift) have
    # already fired, at their first occurrence.
    upper = _naive_local(at_utc, zone) + _backward_shift(at_utc, zone)
    upper = upper.replace(second=0, microsecond=0) + _ONE_MINUTE  # croniter's get_prev is strict
    for wall in _walls(cron, upper, backwards=True):
        instant = _fire_instant(wall, zone)
        if instant <= at_utc:
            return instant
    raise AssertionError("unreachable: _walls is endless")  # pragma: no cover


def fires_between(cron: str, tz: str, start: datetime, end: datetime) -> Iterator[datetime]:
    """Every fire of ``cron`` (read in time zone ``tz``) from ``start`` (inclusive) to ``end`` (exclusive).

    Args:
        cron: a 5-field cron expression (an AWS 6-field one or an ``@daily``-style shortcut is accepted).
        tz: the IANA time zone the expression is read in.
        start: a timezone-aware instant; a fire exactly at ``start`` is included.
        end: a timezone-aware instant; a fire exactly at ``end`` is not.

    Returns:
        An iterator of fire instants in UTC, strictly increasing (empty when ``end <= start``).

    Raises:
        ValueError: ``start`` or ``end`` is naive.
        ScheduleError: the expression or zone is invalid (raised by this call), or the expression never
            fires (raised while iterating).
    """
    _require_aware(start, "start")
    _require_aware(end, "end")
    _cron_text(cron)  # refuse a bad expression now, not on the first next()
    _zone(tz)
    return _fires_by_day(cron, tz, start.astimezone(UTC), end.astimezone(UTC))


def _fires_by_day(cron: str, tz: str, start: datetime, end: datetime) -> Iterator[datetime]:
    """:func:`_fires` from per-UTC-day pieces computed once per process (:func:`_day_fires`): the
    watchdog asks every pass for the same day of fires of the same few crons, and croniter costs
    ~0.4 ms a fire. Each piece is exactly the fires of its half-open day, so their union is exact."""
    day = start.date()
    while (begin := datetime(day.year, day.month, day.day, tzinfo=UTC)) < end:
        for fire in _day_fires(cron, tz, begin):
            if fire >= end:
                return
            if fire >= start:
                yield fire
        day += _ONE_DAY


@lru_cache(maxsize=8192)
def _day_fires(cron: str, tz: str, begin: datetime) -> tuple[datetime, ...]:
    return tuple(_fires(cron, _zone(tz), begin, begin + _ONE_DAY))


def _fires(cron: str, zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[datetime]:
    if end <= start:
        return
    # A time skipped by a spring-forward just before `start` fires at the end of the gap, which may be
    # `start` itself: begin one shift earlier in wall time so that fire is not missed.
    lower = _naive_local(start, zone) - _forward_shift(start, zone) - _ONE_MINUTE
    last: datetime | None = None
    for wall in _walls(cron, lower):  # pragma: no branch - _walls is endless
        instant = _fire_instant(wall, zone)
        if instant < start or instant == last:
            continue  # before the range, or a skipped time collapsed onto the previous fire
        if instant >= end:
            return
        last = instant
        yield instant


def _hour_is_single(cron: str) -> bool:
    return re.fullmatch(r"[0-9]+", _cron_text(cron).split()[1]) is not None


def cron_period(cron: str, tz: str, fire_at: datetime) -> Period:
    """The period a fire of ``cron`` at ``fire_at`` evaluates.

    The period's date is the local date of the fire in ``tz``. It is hourly (the fire's local hour) when
    the cron's hour field is not a single number (``*``, ``*/2``, ``1,13``, ``9-17``: the schedule runs
    several times a day, once per hourly period), and daily otherwise (``0 6 * * *``, ``*/15 9 * * 1-5``).
    ``fire_at`` is not checked against the expression.

    Args:
        cron: the pipeline's cron expression.
        tz: the IANA time zone the expression is read in.
        fire_at: the fire instant, timezone-aware.

    Returns:
        The daily or hourly period.

    Raises:
        ValueError: ``fire_at`` is naive.
        ScheduleError: the expression or zone is invalid.
    """
    _require_aware(fire_at, "fire_at")
    local = fire_at.astimezone(_zone(tz))
    if _hour_is_single(cron):
        return Period(local.date())
    return Period(local.date(), local.hour)


# -------------------------------------------------------------------------------------- calendars


def exclusion_reason(
    schedule: Schedule, day: date, calendars: Mapping[str, Calendar]
) -> str | None:
    """Why ``day`` is excluded from the schedule, or ``None`` when it is not.

    Checked in order: ``schedule.exclude.weekends``, ``schedule.exclude.dates``, then the named calendar
    (``schedule.exclude.calendar`` or ``schedule.calendar``): its dates, then its weekdays. The include
    list is not considered here (see :func:`is_inclusion_day`).

    Args:
        schedule: the pipeline's schedule.
        day: the local date to check.
        calendars: the known calendars by name.

    Returns:
        A reason for people, e.g. ``"Saturday (weekends excluded)"``, ``"2026-12-25 is in calendar
        us-federal"`` or ``"2026-07-03 excluded by schedule.exclude.dates"``; ``None`` if not excluded.

    Raises:
        ScheduleError: the schedule names a calendar that is not in ``calendars`` (raised for every day,
            so a misspelt name never goes unnoticed).
    """
    name = schedule.calendar_name
    calendar = None
    if name is not None:
        calendar = calendars.get(name)
        if calendar is None:
            known = ", ".join(sorted(calendars)) or "none are defined"
            raise ScheduleError(
                f"schedule names calendar {name!r}, which is unknown (known: {known})"
            )
    weekday = _DAY_NAMES[day.weekday()]
    exclude = schedule.exclude
    if exclude is not None:
        if exclude.weekends and day.weekday() >= 5:
            return f"{weekday} (weekends excluded)"
        if day in exclude.dates:
            return f"{day.isoformat()} excluded by schedule.exclude.dates"
    if calendar is not None:
        if day in calendar.dates:
            return f"{day.isoformat()} is in calendar {name}"
        if weekday.lower() in calendar.days:
            return f"{weekday} is a day off in calendar {name}"
    return None


def is_inclusion_day(schedule: Schedule, day: date) -> bool:
    """Whether ``day`` is one of the schedule's expected days.

    Args:
        schedule: the pipeline's schedule.
        day: the local date to check.

    Returns:
        ``True`` for every day when there is no ``schedule.include`` list; otherwise whether ``day`` is in
        ``schedule.include.dates``.
    """
    return schedule.include is None or day in schedule.include.dates


def is_run_day(schedule: Schedule, day: date, calendars: Mapping[str, Calendar]) -> bool:
    """Whether the pipeline runs on ``day``: an inclusion day that no exclusion removes.

    Args:
        schedule: the pipeline's schedule.
        day: the local date to check.
        calendars: the known calendars by name.

    Returns:
        ``True`` when the pipeline is expected to run that day.

    Raises:
        ScheduleError: the schedule names an unknown calendar.
    """
    excluded = exclusion_reason(schedule, day, calendars) is not None  # first, so a bad name raises
    return not excluded and is_inclusion_day(schedule, day)
