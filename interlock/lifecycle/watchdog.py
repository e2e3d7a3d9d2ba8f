"""The watchdog's decisions, pure: what went unnoticed, decided from plain data gathered by index queries.

The runtime calls :func:`interlock.service.reads.gather` (index and per-pipeline queries, never a Scan),
then :func:`scan`, then applies **each** returned decision on its own: a Claim that is lost (the alert was
already sent for that period) stops the rest of *its* decision only, never the other alerts::

    #  check               reads (WatchdogInputs)               emits (each decision, in order)
    -  ------------------  -----------------------------------  ------------------------------------------------
    1  stale-runs          running rows (control.running_runs)   Claim(SFN_TIMEOUT-a<attempt>) + SetRunStatus(
                           RUNNING past lockExpiresAt             FAILED_FINAL, attempt) + SFN_TIMEOUT
    2  trigger-recovery    trigger sensors (stream pipelines),   decide_sensor's AcquireRun + first-arrival row +
                           runs                                  StartExecution (as at the sensor's write) + SLA
                                                                 timers + TRIGGER_RECOVERED
    3  missed-schedules    cron fires in the lookback, runs      Claim(SCHEDULE_MISSED) + SCHEDULE_MISSED
    4  missed-inclusions   schedule.include.dates, runs          Claim(IRREGULAR_SCHEDULE_MISSED) + event
    5  trigger-deadlines   schedule.trigger.deadline, runs       AcquireRun + SetRunStatus(FAILED_FINAL) +
                                                                 Claim(SENSOR_DEADLINE_EXPIRED) + event
    5b expected-sla        sensor-started pipelines' absolute    Claim(SLA_TIMERS) + the SLA timers of the
                           SLA, runs                             period expected now (once, before any run)
    6  relative-sla        first-sensor-arrival#<period> rows,   Claim(RELATIVE_SLA_BREACH) + event
                           runs, acks                            (acknowledged: stored, not re-notified)
    7  post-run-sensors    COMPLETED runs, post-run sensors      Claim(POST_RUN_SENSOR_MISSING) + event
    8  degraded            errors from gather and from 1-7       Claim(WATCHDOG_DEGRADED, UTC hour) + event

Time bases and windows (the original's were UTC "today"/"previous hour", reference §13 item 20):

* Every period is read in the pipeline's time zone (``schedule.timezone``), exactly as the router and the
  cron tick name them, so a New York pipeline's 23:30 run is checked for its own day.
* Only what fell due within ``lookback`` (default 24 h; and, for cron fires, inclusion dates and trigger
  deadlines, after the config was pushed when that is known) is checked: a watchdog switched on today
  does not alert for last year.
* **Grace**: a cron fire (or an inclusion date's ``schedule.time``, or its end of day without one) is missed
  only when it passed **more than** :data:`MISSED_GRACE` (15 min) ago with no run row for its period, and
  not before ``schedule.time`` on the period's day. The cron tick acquires the row when it fires, so 15 min
  absorbs timer delivery delays without hiding a real miss for long.
* A run row "exists" for a period when its exact period has one, or (reference §7 #2) a daily period has
  any hourly row of that day, or an hourly period has its day's daily row.
* Run days honour ``exclude`` (weekends, dates, calendars) and ``include`` for the **period's** day.

Decisions on purpose (differences from the original):

* Every alert is at most once per pipeline, schedule and period (the Claim's name is the event type), so
  SCHEDULE_MISSED no longer repeats every run (§13 item 21). SFN_TIMEOUT claims per attempt
  (``SFN_TIMEOUT-a<n>``): a rerun's attempt can go stale too, and the claim must not skip the status change.
* Recovery (2) runs before trigger deadlines (5), and a deadline never closes a period recovery starts.
  Recovery re-runs :func:`~interlock.lifecycle.router.decide_sensor` *as at the sensor's write time*
  (``updatedAt``), so a dateless sensor is the day it was written (not every new day, §13 item 6), and
  only sensors older than :data:`RECOVERY_DELAY` (the router's turn) and younger than ``lookback`` count;
  a sensor without ``updatedAt`` is never recovered. The AcquireRun is the guard (lost ⇒ nothing).
  The router's decision already writes the first-arrival row (its ``arrivedAt`` is the sensor's write
  time); recovery adds the SLA timers (:func:`~interlock.lifecycle.sla_monitor.plan_sla_timers`).
* A trigger deadline closes the period with a FAILED_FINAL row (AcquireRun then SetRunStatus: lost ⇒ a run
  exists, nothing happens), so a rerun request can restart it. Stream pipelines only: a cron pipeline's
  missing run is SCHEDULE_MISSED. ``HH:MM`` closes the daily period of that local day; ``:MM`` closes
  hourly period H at H+1:MM (:func:`interlock.sla.absolute_window`'s DST rules).
* Relative SLA breaches are checked for hourly periods too (§13 item 22), and only a COMPLETED run
  silences them (as in :mod:`interlock.lifecycle.sla_monitor`).
* **Dry-run pipelines** (``dryRun`` or the operator's ``dry-run`` override): no check alerts for them (no
  live event, no start, no status change; a stale RUNNING row of theirs is left alone too).
* A check that raises for one pipeline (:class:`~interlock.exceptions.InterlockError` or ValueError: bad
  cron, unknown calendar, unusable deadline) is recorded and the other checks and pipelines go on; all
  such errors, and gather's, become one WATCHDOG_DEGRADED per UTC hour (pipeline ``INFRASTRUCTURE``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from interlock.durations import format_duration
from interlock.events import INFRASTRUCTURE, EventType
from interlock.exceptions import InterlockError, SLAError
from interlock.lifecycle.actions import (
    AcquireRun,
    Claim,
    Decision,
    PublishEvent,
    RunRef,
    SetRunStatus,
)
from interlock.lifecycle.router import SensorWrite, decide_sensor
from interlock.lifecycle.sla_monitor import plan_sla_timers
from interlock.records import RunStatus
from interlock.schedule import (
    Period,
    cron_period,
    exclusion_reason,
    fires_between,
    is_run_day,
    local_date,
)
from interlock.sla import absolute_window, relative_window, sla_window
from interlock.store import keys

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping
    from datetime import date

    from interlock.config.models import Calendar, PipelineConfig, Schedule
    from interlock.lifecycle.actions import Action
    from interlock.records import RunRow, SensorRecord

__all__ = [
    "DEFAULT_LOOKBACK",
    "MISSED_GRACE",
    "RECOVERY_DELAY",
    "SOURCE",
    "WATCHDOG_SCHEDULE",
    "PipelineInputs",
    "WatchdogInputs",
    "scan",
]

DEFAULT_LOOKBACK: Final = timedelta(hours=24)
"""How far back the watchdog looks for things that fell due (cron fires, deadlines, timeouts)."""
MISSED_GRACE: Final = timedelta(minutes=15)
"""How long after a cron fire (or an inclusion date's due time) a missing run is reported."""
RECOVERY_DELAY: Final = timedelta(minutes=5)
"""How old a trigger sensor must be before the watchdog recovers it (the stream router goes first)."""
SOURCE: Final = "watchdog"
"""The ``source`` detail field of the watchdog's events."""
WATCHDOG_SCHEDULE: Final = "watchdog"
"""The schedule part of WATCHDOG_DEGRADED's claim (its period is the UTC hour)."""

_ONE_HOUR: Final = timedelta(hours=1)
_ONE_DAY: Final = timedelta(days=1)


def _empty_runs() -> Mapping[str, RunRow]:
    return {}


def _empty_sensors() -> Mapping[str, SensorRecord]:
    return {}


@dataclass(frozen=True, slots=True)
class PipelineInputs:
    """What the watchdog knows about one pipeline.

    Attributes:
        config: the validated config.
        runs: run rows of the pipeline's schedule (``config.schedule_id``) by period, at least those
            whose day is within the lookback (and a day before it).
        sensors: the pipeline's sensors by key, bookkeeping rows (``first-sensor-arrival#<period>``)
            included (``control.sensors``).
        acked: periods whose SLA acknowledgement is active now (checked for first-arrival periods).
        config_updated_at: when the config was pushed, if known: no cron fire before it is "missed".
        dry_run: the operator's dry-run override, if set (``None``: ``config.dryRun`` decides).
        live_since: when an operator last switched the pipeline's dry run (it is live now): trigger
            sensors written before it were seen by the dry-run path, not missed by the router, so
            trigger recovery ignores them (a later trigger write starts the live run, as
            :mod:`interlock.lifecycle.dryrun` documents).
    """

    config: PipelineConfig
    runs: Mapping[str, RunRow] = field(default_factory=_empty_runs)
    sensors: Mapping[str, SensorRecord] = field(default_factory=_empty_sensors)
    acked: frozenset[str] = frozenset()
    config_updated_at: datetime | None = None
    dry_run: bool | None = None
    live_since: datetime | None = None

    @property
    def in_dry_run(self) -> bool:
        """Whether the pipeline is in dry run now (the override wins over the config)."""
        return self.config.dryRun if self.dry_run is None else self.dry_run


@dataclass(frozen=True, slots=True)
class WatchdogInputs:
    """Everything one watchdog scan decides from (plain data; see :mod:`interlock.service.reads`).

    Attributes:
        pipelines: one entry per valid config (dry-run ones included; the scan skips them).
        running: every RUNNING row (``control.running_runs``), for the stale-run check.
        errors: what could not be read (a failed query, an invalid stored config), for WATCHDOG_DEGRADED.
        lookback: how far back to look (the window gather read runs for).
    """

    pipelines: tuple[PipelineInputs, ...] = ()
    running: tuple[RunRow, ...] = ()
    errors: tuple[str, ...] = ()
    lookback: timedelta = DEFAULT_LOOKBACK


@dataclass(slots=True)
class _Ctx:
    """One pipeline's scan: the inputs, the clock, and what earlier checks decided."""

    p: PipelineInputs
    now: datetime
    lookback: timedelta
    grace: timedelta
    calendars: Mapping[str, Calendar]
    errors: list[str]
    recovered: set[str] = field(default_factory=set)

    @property
    def config(self) -> PipelineConfig:
        return self.p.config

    @property
    def since(self) -> datetime:
        return self.now - self.lookback

    @property
    def expected_since(self) -> datetime:
        """The start of the window for schedules: the lookback, or the config's push if later."""
        pushed = self.p.config_updated_at
        return self.since if pushed is None else max(self.since, pushed)


# ----------------------------------------------------------------------------------------- helpers


def _z(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _has_run(runs: Collection[str], period: Period) -> bool:
    """Whether ``period`` ran: its own run, its day's (hourly), or one of its hours' (daily)."""
    if period.id in runs:
        return True
    if period.is_hourly:
        return period.day.isoformat() in runs
    prefix = f"{period.id}T"
    return any(p.startswith(prefix) for p in runs)


def _local_due(clock: str, period: Period, tz: str) -> datetime:
    """The instant of a local ``HH:MM`` (daily) or ``:MM`` (hour H+1) for ``period``: the SLA's DST rules."""
    from interlock.config.models import SLA  # pydantic: loaded with the configs, not by the import

    return absolute_window(SLA(deadline=clock), period, tz=tz, next_day=False).breach_at


def _event(
    config: PipelineConfig,
    type_: EventType,
    period: str,
    message: str,
    now: datetime,
    detail: Mapping[str, Any],
) -> PublishEvent:
    return PublishEvent(
        type=type_,
        pipeline_id=config.id,
        schedule_id=config.schedule_id,
        period=period,
        message=message,
        at=now,
        detail={"source": SOURCE, **detail},
    )


def _alert(ctx: _Ctx, type_: EventType, period: str, message: str, **detail: Any) -> Decision:
    """Claim(<type>) then PublishEvent: at most once per pipeline, schedule and period."""
    config = ctx.config
    return Decision(
        actions=(
            Claim(config.id, type_.value, config.schedule_id, period, ctx.now),
            _event(config, type_, period, message, ctx.now, detail),
        ),
        next="alert",
        output={"pipelineId": config.id, "scheduleId": config.schedule_id, "period": period},
        reason=message,
    )


# ------------------------------------------------------------------------------------ 1 stale runs


def _stale_runs(running: Iterable[RunRow], dry: set[str], now: datetime) -> list[Decision]:
    out: list[Decision] = []
    for row in running:
        if not row.is_stale(now) or row.pipeline_id in dry:
            continue
        expired = row.lock_expires_at
        assert expired is not None  # is_stale needs it
        message = (
            f"pipeline {row.pipeline_id}: {row.schedule} {row.period} attempt {row.attempt} still "
            f"RUNNING past its lock expiry {_z(expired)}: failed"
        )
        out.append(
            Decision(
                actions=(
                    Claim(
                        row.pipeline_id,
                        f"{EventType.SFN_TIMEOUT.value}-a{row.attempt}",
                        row.schedule,
                        row.period,
                        now,
                    ),
                    SetRunStatus(
                        row.pipeline_id,
                        row.schedule,
                        row.period,
                        RunStatus.FAILED_FINAL,
                        row.attempt,
                        now,
                    ),
                    PublishEvent(
                        type=EventType.SFN_TIMEOUT,
                        pipeline_id=row.pipeline_id,
                        schedule_id=row.schedule,
                        period=row.period,
                        message=message,
                        at=now,
                        detail={
                            "source": SOURCE,
                            "actionHint": "step function exceeded TTL — check SFN execution history",
                            "ttlExpired": _z(expired),
                        },
                    ),
                ),
                next=RunStatus.FAILED_FINAL.value,
                output={
                    "pipelineId": row.pipeline_id,
                    "scheduleId": row.schedule,
                    "period": row.period,
                },
                reason=message,
            )
        )
    return out


# ------------------------------------------------------------------------------ 2 trigger recovery


def _recover_one(ctx: _Ctx, key: str, record: SensorRecord) -> Decision | None:
    config = ctx.config
    written = record.updated_at
    if written is None or written < ctx.since or written > ctx.now - RECOVERY_DELAY:
        return None
    if ctx.p.live_since is not None and written < ctx.p.live_since:
        # written while the pipeline was in dry run: observed (DRY_RUN_*), not a missed trigger
        return None
    write = SensorWrite(config.id, key, record.fields, "watchdog")
    # As the router would have decided when the record was written (age checks, a dateless sensor's day).
    started = decide_sensor(config, write, now=written, calendars=ctx.calendars, dry_run=False)
    if started.next != "start":
        return None
    period = str(started.output["period"])
    if period in ctx.p.runs or period in ctx.recovered:
        return None
    ctx.recovered.add(period)
    run = RunRef(config.id, config.schedule_id, period)
    actions: list[Action] = [  # no stream record starts it: nothing for a redelivery to resume
        replace(a, at=ctx.now, record=None) if isinstance(a, AcquireRun) else a
        for a in started.actions
    ]
    try:
        actions += plan_sla_timers(config, run, now=ctx.now, arrived_at=written)
    except SLAError as exc:  # the run must start even if its SLA cannot be computed
        ctx.errors.append(f"trigger-recovery {config.id} {period}: SLA timers not planned: {exc}")
    message = f"pipeline {config.id}: watchdog recovered missed trigger {key!r} for {period}"
    actions.append(
        _event(
            config,
            EventType.TRIGGER_RECOVERED,
            period,
            message,
            ctx.now,
            {"actionHint": "watchdog recovered missed sensor trigger"},
        )
    )
    return Decision(
        actions=tuple(actions), next="start", output=dict(started.output), reason=message
    )


def _trigger_recovery(ctx: _Ctx) -> list[Decision]:
    schedule = ctx.config.schedule
    trigger = schedule.trigger
    if trigger is None or schedule.cron:
        return []
    out: list[Decision] = []
    for key, record in sorted(ctx.p.sensors.items()):
        if keys.parse_bookkeeping_key(key) is not None or not key.startswith(trigger.key):
            continue
        decision = _recover_one(ctx, key, record)
        if decision is not None:
            out.append(decision)
    return out


# ------------------------------------------------------------------------------ 3 missed schedules


def _not_yet(ctx: _Ctx, period: Period) -> bool:
    """Whether ``schedule.time`` on the period's day is still ahead (then nothing is missed yet)."""
    clock = ctx.config.schedule.time
    return clock is not None and ctx.now < _local_due(
        clock, Period(period.day), ctx.config.schedule.timezone
    )


def _missed_schedules(ctx: _Ctx) -> list[Decision]:
    schedule = ctx.config.schedule
    cron, tz = schedule.cron, schedule.timezone
    if not cron:
        return []
    out: list[Decision] = []
    seen: set[str] = set()
    # end is exclusive: a fire exactly `grace` ago is not missed yet.
    for fire in fires_between(cron, tz, ctx.expected_since, ctx.now - ctx.grace):
        period = cron_period(cron, tz, fire)
        if period.id in seen:
            continue
        seen.add(period.id)
        if not is_run_day(schedule, period.day, ctx.calendars) or _not_yet(ctx, period):
            continue
        if _has_run(ctx.p.runs, period):
            continue
        local = fire.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M %Z")
        out.append(
            _alert(
                ctx,
                EventType.SCHEDULE_MISSED,
                period.id,
                f"pipeline {ctx.config.id}: cron {cron!r} fired at {local} and no run exists for "
                f"{period.id}",
                cron=cron,
                expectedTime=_z(fire),
                actionHint=f"cron {cron} expected to fire at {local} — no run found",
            )
        )
    return out


# ----------------------------------------------------------------------------- 4 missed inclusions


def _inclusion_due(schedule: Schedule, day: date) -> datetime:
    if schedule.time is not None:
        return _local_due(schedule.time, Period(day), schedule.timezone)
    return _local_due("00:00", Period(day + _ONE_DAY), schedule.timezone)


def _missed_inclusions(ctx: _Ctx) -> list[Decision]:
    schedule = ctx.config.schedule
    if schedule.include is None:
        return []
    first = local_date(ctx.since, schedule.timezone) - _ONE_DAY
    today = local_date(ctx.now, schedule.timezone)
    out: list[Decision] = []
    for day in sorted(set(schedule.include.dates)):
        if not first <= day <= today:
            continue
        if exclusion_reason(schedule, day, ctx.calendars) is not None:
            continue
        due = _inclusion_due(schedule, day)
        if ctx.now <= due + ctx.grace or due < ctx.expected_since:
            continue
        if _has_run(ctx.p.runs, Period(day)):
            continue
        out.append(
            _alert(
                ctx,
                EventType.IRREGULAR_SCHEDULE_MISSED,
                day.isoformat(),
                f"pipeline {ctx.config.id}: inclusion date {day.isoformat()} passed without a run",
                actionHint=f"expected a run on {day.isoformat()} (schedule.include) — check the "
                "trigger sensor",
            )
        )
    return out


# ------------------------------------------------------------------------------ 5 trigger deadlines


def _deadline_periods(ctx: _Ctx, hourly: bool) -> list[Period]:
    tz = ctx.config.schedule.timezone
    if not hourly:
        first = local_date(ctx.since, tz) - _ONE_DAY
        count = (local_date(ctx.now, tz) - first).days + 1
        return [Period(first + timedelta(days=i)) for i in range(count)]
    zone = ZoneInfo(tz)
    at = (ctx.since - 2 * _ONE_HOUR).replace(minute=0, second=0, microsecond=0)
    periods: dict[str, Period] = {}
    while at <= ctx.now:
        local = at.astimezone(zone)
        period = Period(local.date(), local.hour)
        periods.setdefault(period.id, period)
        at += _ONE_HOUR
    return list(periods.values())


def _trigger_deadlines(ctx: _Ctx) -> list[Decision]:
    config = ctx.config
    schedule = config.schedule
    trigger = schedule.trigger
    if trigger is None or trigger.deadline is None or schedule.cron:
        return []
    out: list[Decision] = []
    for period in _deadline_periods(ctx, trigger.deadline.startswith(":")):
        closes = _local_due(trigger.deadline, period, schedule.timezone)
        if not ctx.expected_since <= closes <= ctx.now:
            continue
        if not is_run_day(schedule, period.day, ctx.calendars):
            continue
        if _has_run(ctx.p.runs, period) or period.id in ctx.recovered:
            continue
        message = (
            f"pipeline {config.id}: trigger deadline {trigger.deadline} ({_z(closes)}) passed without a "
            f"run for {period.id}: window closed"
        )
        alert = _alert(
            ctx,
            EventType.SENSOR_DEADLINE_EXPIRED,
            period.id,
            message,
            triggerDeadline=_z(closes),
            actionHint="auto-trigger window closed — use RERUN_REQUEST to restart",
        )
        close = (
            AcquireRun(config.id, config.schedule_id, period.id, ctx.now),
            SetRunStatus(
                config.id, config.schedule_id, period.id, RunStatus.FAILED_FINAL, 1, ctx.now
            ),
        )
        out.append(replace(alert, actions=(*close, *alert.actions)))
    return out


# --------------------------------------------------------------------------- 5b expected-period SLA

SLA_TIMERS_CLAIM: Final = "SLA_TIMERS"
"""The claim that arms an expected period's SLA timers once (:func:`_expected_sla`)."""


def _expected_period(config: PipelineConfig, now: datetime) -> Period | None:
    """The period a sensor-started pipeline with an absolute SLA expects data for at ``now``: today's
    local date (a daily ``HH:MM`` deadline) or the current local hour (an hourly ``:MM`` one, in
    ``schedule.timezone``, the zone its sensors' hours are read in); ``None`` for a cron pipeline or
    one without a deadline."""
    schedule, sla = config.schedule, config.sla
    if sla is None or sla.deadline is None or schedule.cron or schedule.trigger is None:
        return None
    if not sla.deadline.startswith(":"):
        return Period(local_date(now, schedule.timezone))
    local = now.astimezone(ZoneInfo(schedule.timezone))
    return Period(local.date(), local.hour)


def _expected_sla(ctx: _Ctx) -> list[Decision]:
    """Arm the SLA timers of a sensor-started pipeline's expected period before its run starts.

    A cron pipeline's timers are set ahead of each fire by the controller; a sensor-started pipeline's
    only at its run's start, so a period whose trigger sensor never comes would warn and breach nothing
    (an SLA is about the data, not the run). The period expected now is today's local date (a daily
    ``HH:MM`` deadline; its breach is the next day's, T+1) or the current local hour (an hourly ``:MM``
    deadline; its breach is in the next hour): its timers are armed once (the Claim), unless it already
    has a run or was recovered by this pass (whose start armed them; an hourly run of the day counts
    for a daily period, and the controller stays silent for a daily period whose hours ran; a daily run
    counts for its hours) or its day is not a run day, and only when its breach falls after Interlock started watching. The run's
    start replaces them (same names); a completion before the alert time silences them.
    """
    config = ctx.config
    schedule = config.schedule
    period = _expected_period(config, ctx.now)
    if period is None:
        return []
    ran = _has_run(ctx.p.runs, period) or _has_run(ctx.recovered, period)
    if ran or not is_run_day(schedule, period.day, ctx.calendars):
        return []
    window = sla_window(config, period)
    if window is None or window.breach_at < ctx.expected_since:
        return []
    run = RunRef(config.id, config.schedule_id, period.id)
    timers = plan_sla_timers(config, run, now=ctx.now, arrived_at=None)
    if not timers:
        return []
    claim = Claim(config.id, SLA_TIMERS_CLAIM, config.schedule_id, period.id, ctx.now)
    return [
        Decision(
            actions=(claim, *timers),
            next="sla-timers",
            output={"pipelineId": config.id, "scheduleId": config.schedule_id, "period": period.id},
            reason=f"SLA timers of {config.id} {period.id}, armed whether or not its run starts",
        )
    ]


# ---------------------------------------------------------------------------------- 6 relative SLA


def _arrival(record: SensorRecord) -> datetime | None:
    for name in ("arrivedAt", "at"):
        value = record.fields.get(name)
        if isinstance(value, str):
            try:
                return keys.parse_time(value)
            except ValueError:
                continue
    return record.updated_at


def _relative_sla(ctx: _Ctx) -> list[Decision]:
    config = ctx.config
    sla = config.sla
    if sla is None or sla.maxDuration is None:
        return []
    out: list[Decision] = []
    for key, record in sorted(ctx.p.sensors.items()):
        parsed = keys.parse_bookkeeping_key(key)
        if parsed is None or parsed[0] != keys.FIRST_SENSOR_ARRIVAL:
            continue
        period = Period.parse(parsed[1]).id
        arrived = _arrival(record)
        if arrived is None:
            continue
        breach = relative_window(sla, arrived).breach_at
        if not ctx.since <= breach <= ctx.now:
            continue
        row = ctx.p.runs.get(period)
        if row is not None and row.status is RunStatus.COMPLETED:
            continue
        acked = period in ctx.p.acked
        detail: dict[str, Any] = {
            "maxDuration": format_duration(sla.maxDuration),
            "sensorArrivalAt": _z(arrived),
            "breachAt": _z(breach),
            "actionHint": (
                "acknowledged by an operator — stored, not re-notified"
                if acked
                else f"not finished {format_duration(sla.maxDuration)} after the first sensor "
                "arrived — check the run"
            ),
        }
        if acked:
            detail["acknowledged"] = True
        out.append(
            _alert(
                ctx,
                EventType.RELATIVE_SLA_BREACH,
                period,
                f"pipeline {config.id}: {period} not finished {format_duration(sla.maxDuration)} "
                f"after its first sensor arrived ({_z(arrived)})",
                **detail,
            )
        )
    return out


# ----------------------------------------------------------------------------- 7 post-run sensors


def _post_run_arrived(ctx: _Ctx, rule_keys: Iterable[str], after: datetime) -> bool:
    for key, record in ctx.p.sensors.items():
        if keys.parse_bookkeeping_key(key) is not None:
            continue
        if not any(key.startswith(k) for k in rule_keys):
            continue
        if record.updated_at is not None and record.updated_at > after:
            return True
    return False


def _post_run_sensors(ctx: _Ctx) -> list[Decision]:
    config = ctx.config
    post = config.postRun
    if post is None or not post.rules:
        return []
    rule_keys = tuple(sorted({r.key for r in post.rules}))
    out: list[Decision] = []
    for period, row in sorted(ctx.p.runs.items()):
        finished = row.finished_at
        if row.status is not RunStatus.COMPLETED or finished is None:
            continue
        due = finished + post.sensorTimeout
        if not ctx.since <= due <= ctx.now:
            continue
        if _post_run_arrived(ctx, rule_keys, finished):
            continue
        timeout = format_duration(post.sensorTimeout)
        out.append(
            _alert(
                ctx,
                EventType.POST_RUN_SENSOR_MISSING,
                period,
                f"pipeline {config.id}: no post-run sensor within {timeout} of {period}'s completion",
                sensorTimeout=timeout,
                ruleKeys=", ".join(rule_keys),
                actionHint=f"no post-run sensor ({', '.join(rule_keys)}) arrived within {timeout} "
                "of completion — check the downstream producer",
            )
        )
    return out


# ------------------------------------------------------------------------------------------- scan

_CHECKS: Final[tuple[tuple[str, Callable[[_Ctx], list[Decision]]], ...]] = (
    ("trigger-recovery", _trigger_recovery),
    ("missed-schedules", _missed_schedules),
    ("missed-inclusions", _missed_inclusions),
    ("trigger-deadlines", _trigger_deadlines),
    ("expected-sla", _expected_sla),
    ("relative-sla", _relative_sla),
    ("post-run-sensors", _post_run_sensors),
)


def _degraded(errors: list[str], now: datetime) -> Decision:
    hour = now.astimezone(UTC)
    period = Period(hour.date(), hour.hour).id
    message = f"watchdog checks failed: {'; '.join(errors)}"
    return Decision(
        actions=(
            Claim(
                INFRASTRUCTURE, EventType.WATCHDOG_DEGRADED.value, WATCHDOG_SCHEDULE, period, now
            ),
            PublishEvent(
                type=EventType.WATCHDOG_DEGRADED,
                pipeline_id=INFRASTRUCTURE,
                schedule_id=None,
                period=None,
                message=message,
                at=now,
            ),
        ),
        next="alert",
        output={"errors": list(errors)},
        reason=message,
    )


def scan(
    inputs: WatchdogInputs,
    *,
    now: datetime,
    calendars: Mapping[str, Calendar],
    grace: timedelta = MISSED_GRACE,
) -> list[Decision]:
    """Run every watchdog check (see the module docstring) over gathered inputs.

    Args:
        inputs: what :func:`interlock.service.reads.gather` read.
        now: the instant of the scan, timezone-aware.
        calendars: the known calendars by name.
        grace: how long after a cron fire or inclusion due time a missing run is reported.

    Returns:
        One decision per alert or start, in check order (stale runs first, WATCHDOG_DEGRADED last); apply
        each on its own, so a lost Claim skips only its own alert. Empty when all is well.

    Raises:
        ValueError: ``now`` is naive.
    """
    if now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now!r}")
    errors = list(inputs.errors)
    dry = {p.config.id for p in inputs.pipelines if p.in_dry_run}
    decisions = _stale_runs(inputs.running, dry, now)
    for pipeline in inputs.pipelines:
        if pipeline.in_dry_run:
            continue
        ctx = _Ctx(pipeline, now, inputs.lookback, grace, calendars, errors)
        for name, check in _CHECKS:
            try:
                decisions += check(ctx)
            except (InterlockError, ValueError) as exc:
                errors.append(f"{name} {pipeline.config.id}: {exc}")
    if errors:
        decisions.append(_degraded(errors, now))
    return decisions
