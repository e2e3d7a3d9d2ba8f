"""The stream router's pure half: classify a stream record, then decide what a trigger-sensor write does.

Every record of the control and job-log streams (DynamoDB Streams in AWS, the SQLite ``changes`` feed
locally, both in the Lambda shape) goes through :func:`route` first::

    eventName  SK                         RouterInput
    ---------  -------------------------  -----------------------------------------------------------
    REMOVE     (anything)                 Ignored        deletes start nothing (reference §13 item 24)
    INSERT/    SENSOR#<key>               SensorWrite    → decide_sensor (trigger path, this module)
    MODIFY     JOB#<schedule>#<period>#…  JobLogWrite    → reruns.decide_job_log
               RERUN_REQUEST#<s>#<p>      RerunRequested → reruns.decide_rerun
               CONFIG                     ConfigChanged  → invalidate the config cache
               TRIGGER#, DRY_RUN#, …      Ignored
    (bad)      missing PK/SK, bad key,    Malformed      the handler reports it as a batch item failure
               unreadable image                          by its SequenceNumber (not EventID: §13 item 24)

:func:`decide_sensor` is the trigger-sensor path (reference §4.2, with our fixes)::

    no schedule.trigger / key not prefixed by trigger.key / bookkeeping row ──▶ ignored
    trigger check (one rule on the written sensor's fields) fails ──────────────▶ ignored
    period_from_sensor(date, hour) unreadable ───────────────▶ SENSOR_INVALID event (never "today", never silent)
    dryRun ─────────────────────────────────────────────────────────────────────▶ next="dry-run", no actions
    period's day excluded (pipeline time zone) ──▶ Claim + PublishEvent(PIPELINE_EXCLUDED): once per period
    otherwise ──▶ AcquireRun + PutBookkeeping(first-sensor-arrival, once) +
                  StartExecution(name=<pid>-<schedule>-<period>-a1), next="start"

:func:`decide_cron` is the same decision for a cron fire time (the fire's period; no arrival row).

Differences from the original, on purpose: calendar exclusion is asked about the **run's period** (its
local day in ``schedule.timezone``), not the wall clock (§13 item 7), so a late sensor for Friday is not
suppressed on Saturday; an include list is honoured the same way; a dry-run pipeline returns before any
live event (the exclusion verdict travels in ``output["excluded"]`` for the DRY_RUN_* issue); a bad
date never becomes "today" (§13 item 6); bookkeeping rows never match a trigger prefix (§13 item 5).

The router publishes nothing when it starts a run: JOB_TRIGGERED comes once per run from the trigger
step (DESIGN §4; the original published it twice, §13 item 9).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from interlock.events import EventType
from interlock.exceptions import ScheduleError
from interlock.lifecycle.actions import (
    AcquireRun,
    Claim,
    Decision,
    PublishEvent,
    PutBookkeeping,
    StartExecution,
)
from interlock.names import safe_name
from interlock.records import SensorRecord
from interlock.rules import evaluate_rule
from interlock.schedule import cron_period, exclusion_reason, is_inclusion_day, period_from_sensor
from interlock.store import codec, keys

if TYPE_CHECKING:
    from interlock.config.models import Calendar, PipelineConfig
    from interlock.lifecycle.actions import Action
    from interlock.schedule import Period

__all__ = [
    "MAX_EXECUTION_NAME",
    "invalid_sensor",
    "ConfigChanged",
    "Ignored",
    "JobLogWrite",
    "Malformed",
    "RerunRequested",
    "RouterInput",
    "SensorWrite",
    "decide_cron",
    "decide_sensor",
    "execution_name",
    "route",
]

MAX_EXECUTION_NAME: Final = 80
"""Step Functions' limit on execution names."""
# keys.py spells every prefix; derive the job-log one from it rather than spelling "JOB#" here.
_JOB_PREFIX: Final = keys.job_prefix("s", "p").partition("#")[0] + "#"
_DEFAULT_RERUN_REASON: Final = "manual"


# ----------------------------------------------------------------------------- classification


@dataclass(frozen=True, slots=True)
class SensorWrite:
    """A sensor was written (INSERT or MODIFY).

    Attributes:
        pipeline_id: the pipeline.
        key: the sensor key (without ``SENSOR#``).
        fields: the sensor's fields (``data`` map or flat attributes, read alike).
        sequence: the record's SequenceNumber.
        updated_at: when the producer wrote it (the row's ``updatedAt``), else when DynamoDB wrote it
            (the second after the record's ``ApproximateCreationDateTime``), if known: the
            write's id (a record replayed after the run finished is not late data).
        unchanged: the record's ``OldImage`` equals its ``NewImage`` (a write that changed nothing, or
            a redelivered no-op record): nothing new was written.
    """

    pipeline_id: str
    key: str
    fields: Mapping[str, Any]
    sequence: str
    updated_at: datetime | None = None
    unchanged: bool = False


@dataclass(frozen=True, slots=True)
class JobLogWrite:
    """A job-log row was appended.

    Attributes:
        pipeline_id: the pipeline.
        schedule: the run's schedule.
        period: the run's period.
        event: the row's ``event`` (a :class:`~interlock.records.JobEvent` value or an external one).
        sequence: the record's SequenceNumber.
        item: the whole new image, as plain values.
    """

    pipeline_id: str
    schedule: str
    period: str
    event: str
    sequence: str
    item: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RerunRequested:
    """A rerun request was written (INSERT or MODIFY; every write is a request).

    Attributes:
        pipeline_id: the pipeline.
        schedule: the run's schedule.
        period: the run's period.
        reason: the request's ``reason`` (``manual`` when absent or empty).
        sequence: the record's SequenceNumber.
        requested_at: the request's ``requestedAt`` text (its identity), if it has one.
        by: who asked, if the row says.
    """

    pipeline_id: str
    schedule: str
    period: str
    reason: str
    sequence: str
    requested_at: str | None = None
    by: str | None = None


@dataclass(frozen=True, slots=True)
class ConfigChanged:
    """A pipeline's CONFIG row was written.

    Attributes:
        pipeline_id: the pipeline.
        sequence: the record's SequenceNumber.
    """

    pipeline_id: str
    sequence: str


@dataclass(frozen=True, slots=True)
class Ignored:
    """A record the router has nothing to do for.

    Attributes:
        reason: why.
        sequence: the record's SequenceNumber.
    """

    reason: str
    sequence: str


@dataclass(frozen=True, slots=True)
class Malformed:
    """A record the router cannot read: the handler reports it as a batch item failure.

    Attributes:
        reason: what is wrong.
        sequence: the record's SequenceNumber (``""`` if even that is missing).
    """

    reason: str
    sequence: str


RouterInput = SensorWrite | JobLogWrite | RerunRequested | ConfigChanged | Ignored | Malformed
"""What :func:`route` makes of one stream record."""


def _sequence(ddb: Mapping[str, Any]) -> str:
    value = ddb.get("SequenceNumber")
    return value if isinstance(value, str) else ""


def _image(ddb: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    raw = ddb.get(name)
    if not isinstance(raw, Mapping):
        return None
    return codec.unmarshal_item(raw)


def _key_pair(ddb: Mapping[str, Any]) -> tuple[str, str] | None:
    raw = ddb.get("Keys")
    if not isinstance(raw, Mapping):
        return None
    plain = codec.unmarshal_item(raw)
    pk, sk = plain.get("PK"), plain.get("SK")
    if not isinstance(pk, str) or not isinstance(sk, str) or not pk or not sk:
        return None
    return pk, sk


def route(record: Mapping[str, Any]) -> RouterInput:
    """Classify one stream record (Lambda shape: ``eventName``, ``dynamodb.Keys``/``NewImage``).

    Args:
        record: the record, with AttributeValue-encoded ``Keys`` and ``NewImage``.

    Returns:
        What the record is about (see the module docstring); never raises for bad input.
    """
    raw_ddb = record.get("dynamodb")
    ddb: Mapping[str, Any] = raw_ddb if isinstance(raw_ddb, Mapping) else {}
    sequence = _sequence(ddb)
    event_name = record.get("eventName")
    if event_name == "REMOVE":
        return Ignored("REMOVE records are ignored: a delete starts nothing", sequence)
    if event_name not in ("INSERT", "MODIFY"):
        return Malformed(f"unknown eventName {event_name!r}", sequence)
    try:
        pair = _key_pair(ddb)
        image = _image(ddb, "NewImage")
    except (ValueError, TypeError, AttributeError) as exc:
        return Malformed(f"unreadable AttributeValue: {exc}", sequence)
    if pair is None:
        return Malformed("record missing PK or SK", sequence)
    pk, sk = pair
    try:
        pid = keys.pipeline_id(pk)
        routed = _classify(pid, sk, image, sequence)
    except ValueError as exc:
        return Malformed(str(exc), sequence)
    if isinstance(routed, SensorWrite) and routed.updated_at is None:
        written = _created_at(ddb)
        if written is not None:
            routed = replace(routed, updated_at=written)
    if isinstance(routed, SensorWrite) and event_name == "MODIFY" and _unchanged(ddb, image):
        return replace(routed, unchanged=True)
    return routed


def _created_at(ddb: Mapping[str, Any]) -> datetime | None:
    """The latest instant DynamoDB can have written the row: ``ApproximateCreationDateTime`` is epoch
    seconds rounded **down** (AWS, and the embedded feed), so the second after it. A write known to be
    before a run's finish is one the run saw; one in the finish's own second still counts as after it
    (late data is never missed for the rounding)."""
    value = ddb.get("ApproximateCreationDateTime")
    if isinstance(value, datetime):
        value = value.timestamp()
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(math.floor(value) + 1, tz=UTC)


def _unchanged(ddb: Mapping[str, Any], image: dict[str, Any] | None) -> bool:
    try:
        old = _image(ddb, "OldImage")
    except (ValueError, TypeError, AttributeError):
        return False
    return old is not None and old == image


def _classify(pid: str, sk: str, image: dict[str, Any] | None, sequence: str) -> RouterInput:
    """Classify by sort key; raises ValueError for a malformed key."""
    if sk == keys.CONFIG_SK:
        return ConfigChanged(pid, sequence)
    if sk.startswith(keys.SENSOR_PREFIX):
        key = keys.parse_sensor_sk(sk)
        if image is None:
            raise ValueError(
                f"{sk!r}: sensor record without NewImage (the stream must carry new images)"
            )
        sensor = SensorRecord.from_item({**image, "SK": sk})
        return SensorWrite(pid, key, sensor.fields, sequence, sensor.updated_at)
    if sk.startswith(_JOB_PREFIX):
        schedule, period, _ms = keys.parse_job_sk(sk)
        event = (image or {}).get("event")
        if not isinstance(event, str) or not event:
            return Ignored(f"{sk!r}: job-log row without an event", sequence)
        return JobLogWrite(pid, schedule, period, event, sequence, image or {})
    if sk.startswith(keys.RERUN_REQUEST_PREFIX):
        schedule, period = keys.parse_rerun_request_sk(sk)
        row = image or {}
        reason = row.get("reason")
        if not isinstance(reason, str) or not reason:
            reason = _DEFAULT_RERUN_REASON
        requested, by = row.get("requestedAt"), row.get("by")
        return RerunRequested(
            pid,
            schedule,
            period,
            reason,
            sequence,
            requested if isinstance(requested, str) and requested else None,
            by if isinstance(by, str) and by else None,
        )
    return Ignored(f"{sk.partition('#')[0]} rows start nothing", sequence)


# ----------------------------------------------------------------------------- execution names


def execution_name(pipeline_id: str, schedule_id: str, period: str, attempt: int) -> str:
    """The deterministic execution name of one attempt of one run.

    ``<pid>-<schedule>-<period>-a<attempt>``, e.g. ``orders-stream-2026-03-07T10-a1``. Characters
    outside ``[A-Za-z0-9_-]`` become ``_``. When anything was replaced (two ids could then collide) or
    the name is over 80 characters, the pipeline id part is cut and a hash of the unsanitised name is
    appended to it, so the schedule, period and attempt always stay readable at the end.

    Args:
        pipeline_id: the pipeline.
        schedule_id: ``cron`` or ``stream``.
        period: the run's period id.
        attempt: the attempt (1 for the first start).

    Returns:
        A name of at most 80 characters from ``[A-Za-z0-9_-]``.
    """
    return safe_name(pipeline_id, f"-{schedule_id}-{period}-a{attempt}", limit=MAX_EXECUTION_NAME)


# ----------------------------------------------------------------------------- sensor path


def _ignore(reason: str, **output: Any) -> Decision:
    return Decision(next=None, output={"reason": reason, **output}, reason=reason)


def _excluded(
    config: PipelineConfig, period: Period, calendars: Mapping[str, Calendar]
) -> str | None:
    reason = exclusion_reason(config.schedule, period.day, calendars)
    if reason is None and not is_inclusion_day(config.schedule, period.day):
        reason = f"{period.day.isoformat()} is not in schedule.include.dates"
    return reason


def decide_sensor(
    config: PipelineConfig,
    write: SensorWrite,
    *,
    now: datetime,
    calendars: Mapping[str, Calendar],
    dry_run: bool | None = None,
) -> Decision:
    """Decide what a sensor write does on the trigger path (see the module docstring).

    Args:
        config: the pipeline's validated config.
        write: the sensor write (:func:`route`).
        now: the instant of the decision (timezone-aware; used for age checks and a dateless sensor).
        calendars: the known calendars by name.
        dry_run: whether the pipeline is in dry run (an operator override); ``None``: ``config.dryRun``.

    Returns:
        A :class:`Decision`: ``next="start"`` with AcquireRun + StartExecution; ``next="dry-run"``
        with no actions; a PIPELINE_EXCLUDED event; or nothing (``next=None``) with a reason.
    """
    trigger = config.schedule.trigger
    if trigger is None:
        return _ignore(f"{config.id} has no schedule.trigger")
    if keys.parse_bookkeeping_key(write.key) is not None:
        return _ignore(f"{write.key!r} is a controller bookkeeping row, not a trigger sensor")
    if not write.key.startswith(trigger.key):
        return _ignore(f"sensor {write.key!r} does not match trigger key prefix {trigger.key!r}")
    rule = trigger.as_rule()
    check = evaluate_rule(rule, {rule.key: write.fields}, now)
    if not check.passed:
        return _ignore(f"trigger check not met: {check.reason}")
    try:
        period = period_from_sensor(write.fields, now, config.schedule.timezone)
        excluded = _excluded(config, period, calendars)
    except ScheduleError as exc:
        return invalid_sensor(config, write, str(exc), now)
    return _start_or_not(
        config,
        period,
        excluded,
        now=now,
        dry_run=config.dryRun if dry_run is None else dry_run,
        source=f"trigger sensor {write.key!r}",
        detail={"sensorKey": write.key},
        arrival=True,
        record=write.sequence,
    )


def invalid_sensor(
    config: PipelineConfig, write: SensorWrite, reason: str, now: datetime
) -> Decision:
    """A trigger sensor that matched but cannot be used: SENSOR_INVALID (never dropped silently).

    Args:
        config: the pipeline.
        write: the sensor write.
        reason: why it cannot be used (e.g. the date is invalid).
        now: the instant of the decision.

    Returns:
        A decision publishing SENSOR_INVALID, with ``output["invalid"]`` set and ``next=None``.
    """
    bad = [f for f in ("date", "hour") if f in write.fields and f in reason]
    field = bad[0] if bad else None
    value = write.fields.get(field) if field else None
    message = f"trigger sensor {write.key!r} of {config.id} not used: {reason}"
    event = PublishEvent(
        type=EventType.SENSOR_INVALID,
        pipeline_id=config.id,
        schedule_id=config.schedule_id,
        period=None,
        message=message,
        at=now,
        detail={
            "sensorKey": write.key,
            "field": field,
            "value": value if isinstance(value, str | int | float | bool | None) else str(value),
            "reason": reason,
        },
    )
    return Decision(
        actions=(event,),
        next=None,
        output={"pipelineId": config.id, "invalid": message},
        reason=message,
    )


def _start_or_not(
    config: PipelineConfig,
    period: Period,
    excluded: str | None,
    *,
    now: datetime,
    dry_run: bool,
    source: str,
    detail: Mapping[str, Any],
    arrival: bool,
    record: str | None = None,
) -> Decision:
    schedule_id = config.schedule_id
    identity = {"pipelineId": config.id, "scheduleId": schedule_id, "period": period.id}
    if dry_run:
        return Decision(
            next="dry-run",
            output={**identity, "excluded": excluded},
            reason=f"{config.id} is in dry-run: observe only",
        )
    if excluded is not None:
        message = f"{source} suppressed for {config.id}: {excluded}"
        event = PublishEvent(
            type=EventType.PIPELINE_EXCLUDED,
            pipeline_id=config.id,
            schedule_id=schedule_id,
            period=period.id,
            message=message,
            at=now,
            detail={"reason": excluded, **detail},
        )
        claim = Claim(config.id, EventType.PIPELINE_EXCLUDED.value, schedule_id, period.id, now)
        return Decision(actions=(claim, event), next=None, output=identity, reason=message)
    name = execution_name(config.id, schedule_id, period.id, 1)
    first: tuple[Action, ...] = ()
    if arrival:
        first = (
            PutBookkeeping(
                config.id,
                keys.FIRST_SENSOR_ARRIVAL,
                period.id,
                {"arrivedAt": keys.format_time(now)},
                now,
                once=True,
            ),
        )
    return Decision(
        actions=(
            AcquireRun(config.id, schedule_id, period.id, now, record=record or None),
            *first,
            StartExecution(config.id, schedule_id, period.id, name, {**identity, "attempt": 1}),
        ),
        next="start",
        output={**identity, "executionName": name},
        reason=f"{source} starts {config.id} {schedule_id} {period.id}",
    )


def cron_fire_record(fire_at: datetime) -> str:
    """A cron fire's identity on the run row it acquires (``startRecord``): ``cron@<fireAt>``, the
    same for every delivery of the fire (the timer's payload carries ``fireAt``)."""
    return f"cron@{keys.format_time(fire_at)}"


def decide_cron(
    config: PipelineConfig,
    fire_at: datetime,
    *,
    now: datetime,
    calendars: Mapping[str, Calendar],
    dry_run: bool | None = None,
) -> Decision:
    """A cron pipeline's fire time came: start evaluating the fire's period (DESIGN §3).

    Args:
        config: the pipeline (with ``schedule.cron``).
        fire_at: the fire instant (the period is the fire's, even when the tick comes late).
        now: the instant of the decision.
        calendars: the known calendars by name.
        dry_run: whether the pipeline is in dry run; ``None``: ``config.dryRun``.

    Returns:
        Like :func:`decide_sensor`: ``next="start"``, ``"dry-run"``, PIPELINE_EXCLUDED, or nothing.
    """
    cron = config.schedule.cron
    if cron is None:
        return _ignore(f"{config.id} has no schedule.cron")
    try:
        period = cron_period(cron, config.schedule.timezone, fire_at)
        excluded = _excluded(config, period, calendars)
    except ScheduleError as exc:
        return _ignore(f"cron fire of {config.id} not used: {exc}")
    return _start_or_not(
        config,
        period,
        excluded,
        now=now,
        dry_run=config.dryRun if dry_run is None else dry_run,
        source=f"cron {cron!r}",
        detail={"cron": cron, "fireAt": keys.format_time(fire_at)},
        arrival=False,
        record=cron_fire_record(fire_at),
    )
