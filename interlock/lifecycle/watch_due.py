"""When a pipeline next needs the watchdog: :func:`next_due`, the due time of its watch row.

A watchdog pass reads only the pipelines whose watch row is due (DESIGN: the watchdog reads only what
is due). :func:`next_due` is the earliest time any check of :func:`~interlock.lifecycle.watchdog.scan`
could decide something for the pipeline: its next cron fire plus the grace, an inclusion date, a
trigger deadline, the expected period's SLA arming, a relative-SLA breach, a stale run or a post-run
timeout. Pure: computed from the pipeline's inputs and the time, no I/O.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

from interlock.lifecycle.watchdog import (
    _ONE_DAY,
    _ONE_HOUR,
    MISSED_GRACE,
    RECOVERY_DELAY,
    PipelineInputs,
    _arrival,
    _expected_period,
    _inclusion_due,
    _local_due,
)
from interlock.records import RunStatus
from interlock.schedule import (
    Period,
    local_date,
    next_fire,
)
from interlock.sla import relative_window
from interlock.store import keys

if TYPE_CHECKING:
    from interlock.config.models import PipelineConfig

__all__ = ["next_due"]


# ------------------------------------------------------------------------------- when next due


_TICK: Final = timedelta(microseconds=1)


def _cron_dues(config: PipelineConfig, now: datetime, grace: timedelta) -> list[datetime]:
    """Missed-schedules: a fire ``f`` is reported once ``now > f + grace`` (and not before
    ``schedule.time`` on its period's day)."""
    schedule = config.schedule
    cron, tz = schedule.cron, schedule.timezone
    if not cron:
        return []
    # the first fire whose report is still ahead: f + grace >= now
    fire = next_fire(cron, tz, now - grace - _TICK)
    out = [fire + grace + _TICK]
    if schedule.time is not None:
        # a fire already past its grace waits for schedule.time on its day: wake then too
        today = local_date(now, tz)
        out += [
            _local_due(schedule.time, Period(today + timedelta(days=d)), tz) for d in (-1, 0, 1)
        ]
    return out


def _inclusion_dues(config: PipelineConfig, now: datetime, grace: timedelta) -> list[datetime]:
    schedule = config.schedule
    if schedule.include is None:
        return []
    first = local_date(now, schedule.timezone) - 2 * _ONE_DAY
    return [
        _inclusion_due(schedule, day) + grace + _TICK
        for day in schedule.include.dates
        if day >= first
    ]


def _deadline_dues(config: PipelineConfig, now: datetime) -> list[datetime]:
    schedule = config.schedule
    trigger = schedule.trigger
    if trigger is None or trigger.deadline is None or schedule.cron:
        return []
    tz = schedule.timezone
    if trigger.deadline.startswith(":"):
        zone = ZoneInfo(tz)
        at = (now - 2 * _ONE_HOUR).replace(minute=0, second=0, microsecond=0)
        periods: dict[str, Period] = {}
        while at <= now + 3 * _ONE_HOUR:
            local = at.astimezone(zone)
            period = Period(local.date(), local.hour)
            periods.setdefault(period.id, period)
            at += _ONE_HOUR
        candidates = list(periods.values())
    else:
        today = local_date(now, tz)
        candidates = [Period(today + timedelta(days=d)) for d in (-1, 0, 1, 2)]
    return [_local_due(trigger.deadline, period, tz) for period in candidates]


def _expected_sla_dues(config: PipelineConfig, now: datetime) -> list[datetime]:
    """Expected-sla arms the timers of the period expected now: a new one starts at the next local
    midnight (daily) or local hour start (hourly: 60 real minutes after this hour's start, across a
    DST change too; in a half-hour zone at :30 UTC)."""
    period = _expected_period(config, now)
    if period is None:
        return []
    tz = config.schedule.timezone
    if not period.is_hourly:
        return [_local_due("00:00", Period(period.day + _ONE_DAY), tz)]
    start = now.astimezone(ZoneInfo(tz)).replace(minute=0, second=0, microsecond=0)
    return [start.astimezone(UTC) + _ONE_HOUR]


def _state_dues(p: PipelineInputs) -> list[datetime]:
    """Dues that follow from stored rows: a trigger sensor's recovery turn, a first arrival's
    relative-SLA breach, a completed run's post-run sensor timeout."""
    config = p.config
    schedule = config.schedule
    out: list[datetime] = []
    trigger = schedule.trigger
    sla = config.sla
    relative = sla is not None and sla.maxDuration is not None
    recovers = trigger is not None and not schedule.cron
    for key, record in p.sensors.items():
        parsed = keys.parse_bookkeeping_key(key)
        if parsed is None:
            if recovers and trigger is not None and key.startswith(trigger.key):
                if record.updated_at is not None:
                    out.append(record.updated_at + RECOVERY_DELAY)
            continue
        if relative and sla is not None and parsed[0] == keys.FIRST_SENSOR_ARRIVAL:
            arrived = _arrival(record)
            if arrived is not None:
                out.append(relative_window(sla, arrived).breach_at)
    post = config.postRun
    if post is not None and post.rules:
        for row in p.runs.values():
            if row.status is RunStatus.COMPLETED and row.finished_at is not None:
                out.append(row.finished_at + post.sensorTimeout)
    return out


def next_due(
    pipeline: PipelineInputs,
    *,
    now: datetime,
    grace: timedelta = MISSED_GRACE,
) -> datetime | None:
    """The first instant after ``now`` at which :func:`~interlock.lifecycle.watchdog.scan` could report something new for
    ``pipeline`` if its rows stay as they are: the key of its row in the watchdog's due index.

    Every check reports an item from the instant it falls due (a cron fire ``grace`` after it, a
    trigger deadline, a relative-SLA breach, a post-run sensor timeout, a trigger sensor's recovery
    turn, an inclusion date's due time, a new local day's or hour's expected-period SLA timers) until
    it leaves the lookback, so a pass at or after this
    instant sees everything this pass did not. The answer may be early (a day the calendar
    excludes, a run that exists): the pass then finds nothing and asks again. Rows written later
    move the due time through the writer (:class:`~interlock.service.executor.Executor` marks the
    pipeline due when a run completes, a first sensor arrives or an override changes).

    DST: cron fires come from :func:`interlock.schedule.next_fire` and local deadlines from the same
    :func:`interlock.sla.absolute_window` rules the checks use, so a skipped or repeated local hour
    moves the due time exactly as it moves the check.

    Args:
        pipeline: what the watchdog read for the pipeline.
        now: the instant of the pass, timezone-aware.
        grace: the scan's grace for missed cron fires and inclusion dates.

    Returns:
        The instant (after ``now``), or ``None`` when nothing can fall due until a row changes (a
        dry-run pipeline; a stream pipeline with no deadline and nothing pending).

    Raises:
        ValueError: ``now`` is naive.
        InterlockError: the config's cron or deadline cannot be evaluated.
    """
    if now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now!r}")
    if pipeline.in_dry_run:
        return None
    config = pipeline.config
    dues = [
        *_cron_dues(config, now, grace),
        *_inclusion_dues(config, now, grace),
        *_deadline_dues(config, now),
        *_expected_sla_dues(config, now),
        *_state_dues(pipeline),
    ]
    ahead = [due for due in dues if due > now]
    return min(ahead) if ahead else None
