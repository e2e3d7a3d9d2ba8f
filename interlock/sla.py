"""SLA deadline math: when a run's warning and breach fall, and whether it met them.

Pure: no clock (``now`` and completion times are passed in, timezone-aware), no I/O. Every instant
returned is UTC. Two kinds of SLA exist (``sla:`` in a pipeline file):

**Absolute** (``deadline``), computed for a period in the SLA's time zone (``sla.timezone``, else
``schedule.timezone``, else UTC):

* Daily ``HH:MM``: breach at ``HH:MM`` local on the period's date. For an hourly period the hour is
  ignored (the date's deadline). Sensor-started (``stream``) pipelines with a daily period are one day
  later: their period is the business date *of the data*, which is delivered the following day (the
  original's "T+1 for sensor daily pipelines"). Cron pipelines' periods are the day the cron fired, so
  their deadline is that same day. Examples (deadline ``08:00``, expectedDuration ``30m``, UTC)::

      cron   period 2026-03-28  ->  warning 2026-03-28T07:30Z  breach 2026-03-28T08:00Z
      stream period 2026-03-28  ->  warning 2026-03-29T07:30Z  breach 2026-03-29T08:00Z

  ``09:00`` in America/New_York for 2026-03-28 (EDT) is 13:00Z; for 2026-01-15 (EST) it is 14:00Z.

* Hourly ``:MM``: the data for hour H is due in hour H+1, so the breach is the start of local hour H
  plus one hour plus MM minutes. The hour is added in absolute time, so it is always 60 real minutes,
  even across a DST transition. It needs an hourly period (``SLAError`` otherwise). Examples (UTC)::

      :30, 15m, period 2026-03-28T10  ->  warning 11:15Z, breach 11:30Z
      :30, 10m, period 2026-03-28T23  ->  warning 2026-03-29T00:20Z, breach 2026-03-29T00:30Z

* DST: a local deadline (or hour start) that a spring-forward skips is moved forward by the length of the
  gap (``02:30`` on 2026-03-08 in America/New_York is 03:30 EDT = 07:30Z); one in the repeated hour of a
  fall-back means its first occurrence (``01:30`` on 2026-11-01 is 01:30 EDT = 05:30Z).

* The warning is ``expectedDuration`` before the breach; without ``expectedDuration`` there is no warning,
  only the breach. Unlike the original, a deadline never rolls over to the next day because it has already
  passed: a period's deadline is a fixed instant, and a run that finishes after it breached.

**Relative** (``maxDuration``): breach ``maxDuration`` after the first trigger sensor arrived; warning
``expectedDuration`` before that, or at 75 % of ``maxDuration`` without one. Arrival 10:00Z, ``2h`` ⇒
warning 11:30Z, breach 12:00Z. When a pipeline has both, the relative SLA applies once the arrival is
known, and the absolute one before that.

**Verdict**: a run that completes at or after the breach instant is ``SLA_BREACH``, else ``SLA_MET``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from interlock.config.text import parse_deadline
from interlock.exceptions import SLAError

if TYPE_CHECKING:
    from interlock.config.models import SLA, PipelineConfig
    from interlock.schedule import Period

__all__ = [
    "SLAWindow",
    "absolute_window",
    "relative_window",
    "sla_window",
    "status_at",
    "verdict",
]

WindowKind = Literal["absolute", "relative"]
Verdict = Literal["SLA_MET", "SLA_BREACH"]
Status = Literal["ok", "warning", "breached"]

_ONE_HOUR = timedelta(hours=1)


def _require_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


def _z(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class SLAWindow:
    """When a run's SLA warns and breaches.

    Attributes:
        warning_at: when to warn (UTC); ``None`` when the SLA has no ``expectedDuration`` and is absolute.
        breach_at: when the SLA is breached (UTC).
        kind: ``"absolute"`` (a deadline) or ``"relative"`` (a maxDuration from arrival).
    """

    warning_at: datetime | None
    breach_at: datetime
    kind: WindowKind

    def __post_init__(self) -> None:
        _require_aware(self.breach_at, "breach_at")
        object.__setattr__(self, "breach_at", self.breach_at.astimezone(UTC))
        if self.warning_at is not None:
            _require_aware(self.warning_at, "warning_at")
            object.__setattr__(self, "warning_at", self.warning_at.astimezone(UTC))
            if self.warning_at > self.breach_at:
                raise ValueError(
                    f"warning_at {_z(self.warning_at)} is after breach_at {_z(self.breach_at)}"
                )
        if self.kind not in ("absolute", "relative"):
            raise ValueError(f"kind must be 'absolute' or 'relative', got {self.kind!r}")

    def __repr__(self) -> str:
        warning = "none" if self.warning_at is None else _z(self.warning_at)
        return f"<SLAWindow {self.kind} warning={warning} breach={_z(self.breach_at)}>"


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise SLAError(
            f"unknown SLA time zone {tz!r}: use an IANA name such as UTC or Europe/London"
        ) from None


def _local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    # fold=0: a wall time in the repeated hour is its first occurrence, and one in a spring-forward gap
    # is read with the pre-transition offset, which moves it forward by the gap (PEP 495).
    return datetime.combine(day, at, tzinfo=zone).replace(fold=0).astimezone(UTC)


def absolute_window(sla: SLA, period: Period, *, tz: str, next_day: bool) -> SLAWindow:
    """The warning and breach instants of ``sla.deadline`` for ``period``.

    Args:
        sla: the pipeline's SLA; it must have a ``deadline``.
        period: the run's period.
        tz: the IANA zone the deadline is read in (``PipelineConfig.sla_timezone``).
        next_day: move a daily ``HH:MM`` deadline one day later (pass ``True`` for sensor-started
            pipelines with a daily period, whose period is the data's business date). Ignored for an
            hourly ``:MM`` deadline.

    Returns:
        The absolute window; ``warning_at`` is ``None`` when ``sla.expectedDuration`` is not set.

    Raises:
        SLAError: there is no deadline, it cannot be read, ``tz`` is unknown, or an hourly ``:MM``
            deadline is asked for a daily period.
    """
    if sla.deadline is None:
        raise SLAError("the SLA has no deadline (HH:MM or :MM) to compute an absolute window from")
    try:
        hour, minute = parse_deadline(sla.deadline)
    except ValueError as exc:
        raise SLAError(str(exc)) from None
    zone = _zone(tz)
    if hour is None:
        if period.hour is None:
            raise SLAError(
                f"an hourly :MM deadline ({sla.deadline!r}) needs an hourly period (YYYY-MM-DDTHH), "
                f"got the daily period {period.id}: give the sensor an 'hour' field, use an hourly "
                "cron, or write a daily HH:MM deadline"
            )
        # Data for hour H is due in hour H+1; the hour is added in absolute time so a DST change
        # neither shortens nor lengthens it.
        start = _local_instant(period.day, time(period.hour), zone)
        breach = start + _ONE_HOUR + timedelta(minutes=minute)
    else:
        day = period.day + timedelta(days=1) if next_day else period.day
        breach = _local_instant(day, time(hour, minute), zone)
    expected = sla.expectedDuration
    warning = None if expected is None else breach - expected
    return SLAWindow(warning_at=warning, breach_at=breach, kind="absolute")


def relative_window(sla: SLA, arrived_at: datetime) -> SLAWindow:
    """The warning and breach instants of ``sla.maxDuration``, counted from the first sensor arrival.

    Args:
        sla: the pipeline's SLA; it must have a ``maxDuration``.
        arrived_at: when the first trigger sensor arrived, timezone-aware.

    Returns:
        The relative window: breach at ``arrived_at + maxDuration``; warning ``expectedDuration`` before
        the breach, or at 75 % of ``maxDuration`` when ``expectedDuration`` is not set.

    Raises:
        ValueError: ``arrived_at`` is naive.
        SLAError: the SLA has no ``maxDuration``.
    """
    _require_aware(arrived_at, "arrived_at")
    if sla.maxDuration is None:
        raise SLAError("the SLA has no maxDuration to compute a relative window from")
    breach = arrived_at.astimezone(UTC) + sla.maxDuration
    lead = sla.expectedDuration if sla.expectedDuration is not None else sla.maxDuration / 4
    return SLAWindow(warning_at=breach - lead, breach_at=breach, kind="relative")


def sla_window(
    config: PipelineConfig, period: Period, *, arrived_at: datetime | None = None
) -> SLAWindow | None:
    """The SLA window of a pipeline's run for ``period``.

    Relative when the SLA has a ``maxDuration`` and the first arrival ``arrived_at`` is known; else
    absolute when it has a ``deadline`` (one day later for a sensor-started pipeline's daily period, see
    the module docstring); else ``None`` (no SLA, or a relative SLA whose clock has not started).

    Args:
        config: the pipeline.
        period: the run's period.
        arrived_at: when the first trigger sensor for the period arrived, if known.

    Returns:
        The window, or ``None``.

    Raises:
        ValueError: ``arrived_at`` is naive.
        SLAError: the deadline cannot be computed for this period.
    """
    sla = config.sla
    if sla is None:
        return None
    if sla.maxDuration is not None and arrived_at is not None:
        return relative_window(sla, arrived_at)
    if sla.deadline is not None:
        next_day = config.schedule_id == "stream" and not period.is_hourly
        return absolute_window(sla, period, tz=config.sla_timezone, next_day=next_day)
    return None


def verdict(window: SLAWindow, completed_at: datetime) -> Verdict:
    """Whether a run that completed at ``completed_at`` met its SLA.

    Args:
        window: the run's SLA window.
        completed_at: when the run completed, timezone-aware.

    Returns:
        ``"SLA_BREACH"`` when ``completed_at`` is at or after the breach instant, else ``"SLA_MET"``
        (binary: finishing after the warning but before the breach is met).

    Raises:
        ValueError: ``completed_at`` is naive.
    """
    _require_aware(completed_at, "completed_at")
    return "SLA_BREACH" if completed_at >= window.breach_at else "SLA_MET"


def status_at(window: SLAWindow, now: datetime) -> Status:
    """The SLA status of an unfinished run at ``now``.

    Args:
        window: the run's SLA window.
        now: the current instant, timezone-aware.

    Returns:
        ``"breached"`` at or after the breach, ``"warning"`` at or after the warning, else ``"ok"``.

    Raises:
        ValueError: ``now`` is naive.
    """
    _require_aware(now, "now")
    if now >= window.breach_at:
        return "breached"
    if window.warning_at is not None and now >= window.warning_at:
        return "warning"
    return "ok"
