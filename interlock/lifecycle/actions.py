"""What a lifecycle decision asks the executor to do: frozen action records and the Decision.

Pure decisions (:mod:`interlock.lifecycle.router`, :mod:`interlock.lifecycle.run`) never write; they
return a :class:`Decision` whose ``actions`` the executor applies **in order** (STYLE rule 2)::

    Decision
    ├── actions: (AcquireRun, StartExecution)        applied in order; a failed conditional write stops
    │                                                 the rest (e.g. AcquireRun lost ⇒ no StartExecution)
    ├── next:    "start" | RunState value | None     where the lifecycle goes next (None: nothing to do)
    ├── output:  {...}                               what the caller returns (the state machine reads it)
    └── reason:  "why", for logs and tests          (always set when nothing happens)

    action            writes
    ----------------  ---------------------------------------------------------------------
    AcquireRun        control  TRIGGER#<schedule>#<period>  (conditional: absent; attempt 1)
    StartExecution    Step Functions / local runner execution named deterministically
    PublishEvent      the event bus (one event; JOB_TRIGGERED only from the trigger step)
    AppendJobLog      joblog   JOB#<schedule>#<period>#<ms>
    SetRunStatus      control  TRIGGER#… terminal status, conditional on the run's attempt
    WriteRerunRequest control  RERUN_REQUEST#<schedule>#<period>
    ResetRun          control  TRIGGER#… back to RUNNING, attempt + 1     (conditional: exists; lost ⇒ stop)
    RecordRerun       rerun    RERUN#<schedule>#<period>#<n>
    Claim             control  CLAIM#<name>#<schedule>#<period>          (conditional: absent; lost ⇒ stop):
                                                                           "at most once per period" alerts
    MarkDryRun        control  DRY_RUN#<schedule>#<period>               (conditional: absent; lost ⇒ stop)
    PutBookkeeping    control  SENSOR#<name>#<period>                    (once=True: conditional: absent)
    ScheduleTimer     timers   a one-time timer (EventBridge Scheduler in AWS, control rows locally)
    CancelTimer       timers   drop a pending timer (absent: nothing to do)
    WriteAck          control  ACK#<schedule>#<period>
    SetOverride       control  OVERRIDE#<name>   (value None: the override is removed)

Mappings inside actions hold JSON-able values; treat them as read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from interlock.events import EventType
    from interlock.records import JobEvent, RunStatus

__all__ = [
    "AcquireRun",
    "Action",
    "AppendJobLog",
    "CancelTimer",
    "Claim",
    "Decision",
    "MarkDryRun",
    "PublishEvent",
    "PutBookkeeping",
    "RecordRerun",
    "ResetRun",
    "RunRef",
    "ScheduleTimer",
    "SetOverride",
    "SetRunStatus",
    "StartExecution",
    "WriteAck",
    "WriteRerunRequest",
]


def _empty() -> Mapping[str, Any]:
    return {}


@dataclass(frozen=True, slots=True)
class RunRef:
    """One run's identity (DESIGN §2) and the attempt an execution is driving.

    Attributes:
        pipeline_id: the pipeline.
        schedule_id: ``cron`` or ``stream``.
        period: ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH``.
        attempt: 1 for the first start, +1 per rerun or retry.
    """

    pipeline_id: str
    schedule_id: str
    period: str
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class AcquireRun:
    """Create the run's RUNNING row iff there is none (the one-run-per-identity guarantee).

    Attributes:
        pipeline_id: the pipeline.
        schedule_id: ``cron`` or ``stream``.
        period: the run's period.
        at: the start instant.
        record: the SequenceNumber of the stream record that starts the run (a trigger-sensor
            write), kept on the row so that only that record, redelivered, re-issues the start.
    """

    pipeline_id: str
    schedule_id: str
    period: str
    at: datetime
    record: str | None = None


@dataclass(frozen=True, slots=True)
class StartExecution:
    """Start the run's state machine execution.

    Attributes:
        pipeline_id: the pipeline.
        schedule_id: ``cron`` or ``stream``.
        period: the run's period.
        name: the deterministic execution name (see :func:`~interlock.lifecycle.router.execution_name`).
        input: the execution input (every field the state machine reads).
    """

    pipeline_id: str
    schedule_id: str
    period: str
    name: str
    input: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class PublishEvent:
    """Publish one event.

    Attributes:
        type: the event type.
        pipeline_id: the pipeline.
        schedule_id: the run's schedule, if the event is about a run.
        period: the run's period, if the event is about a run.
        message: one line for people.
        at: when it happened.
        detail: type-specific fields.
        actor: who caused it (operator actions), else ``None``.
        once: a claim name for the run's period: the event is published only by the first decision
            that claims it (a replay skips this publish and goes on with the rest of its decision);
            the claim is given back if the publish fails.
    """

    type: EventType
    pipeline_id: str
    schedule_id: str | None
    period: str | None
    message: str
    at: datetime
    detail: Mapping[str, Any] = field(default_factory=_empty)
    actor: str | None = None
    once: str | None = None


@dataclass(frozen=True, slots=True)
class AppendJobLog:
    """Append one job-log row.

    Attributes:
        pipeline_id: the pipeline.
        schedule_id: the run's schedule.
        period: the run's period.
        event: what happened.
        at: when.
        run_id: the job's run id, when known.
        error: a message (failure text or note).
        category: failure category (``transient``, ``permanent``, ``timeout``), for failures.
        detail: anything else.
    """

    pipeline_id: str
    schedule_id: str
    period: str
    event: JobEvent
    at: datetime
    run_id: str | None = None
    error: str | None = None
    category: str | None = None
    detail: Mapping[str, Any] = field(default_factory=_empty)


@dataclass(frozen=True, slots=True)
class SetRunStatus:
    """Set a terminal status on the run's row, only while the row is still ``attempt``.

    The attempt condition fixes the original's race (reference §13 item 14): an execution that a
    rerun or retry has superseded cannot overwrite the newer attempt's state.

    Attributes:
        pipeline_id: the pipeline.
        schedule_id: the run's schedule.
        period: the run's period.
        status: COMPLETED or FAILED_FINAL.
        attempt: the attempt this execution drives.
        at: when.
    """

    pipeline_id: str
    schedule_id: str
    period: str
    status: RunStatus
    attempt: int
    at: datetime


@dataclass(frozen=True, slots=True)
class WriteRerunRequest:
    """Write the run's ``RERUN_REQUEST`` row (the router then decides on it).

    Attributes:
        pipeline_id: the pipeline.
        schedule_id: the run's schedule.
        period: the run's period.
        reason: why (``manual``, ``late-data``, ``data-drift`` …).
        at: when.
    """

    pipeline_id: str
    schedule_id: str
    period: str
    reason: str
    at: datetime
    by: str | None = None


@dataclass(frozen=True, slots=True)
class ResetRun:
    """Restart an existing run for a rerun or retry: RUNNING again, fresh lock, ``attempt + 1``.

    Lost (no run row) stops the rest of the decision: a rerun cannot start a period that never ran.

    Attributes:
        pipeline_id: the pipeline.
        schedule_id: the run's schedule.
        period: the run's period.
        at: when.
        attempt: the attempt the row must hold now (``None``: any); a stale decision then loses.
    """

    pipeline_id: str
    schedule_id: str
    period: str
    at: datetime
    attempt: int | None = None


@dataclass(frozen=True, slots=True)
class RecordRerun:
    """Append one rerun-log row (what a budget counts).

    Attributes:
        pipeline_id: the pipeline.
        schedule_id: the run's schedule.
        period: the run's period.
        reason: the budget reason (``manual``, ``data-drift``, ``late-data``, ``job-fail-retry`` …).
        at: when.
        source_job_event: for automatic retries, the job event that caused it.
    """

    pipeline_id: str
    schedule_id: str
    period: str
    reason: str
    at: datetime
    source_job_event: str | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """Claim ``name`` for a run's period, once: a lost claim stops the rest of the decision.

    The "at most once per pipeline, schedule and period" guarantee of watchdog alerts and
    PIPELINE_EXCLUDED: put the Claim before the PublishEvent it guards.

    Attributes:
        pipeline_id: the pipeline.
        name: what is claimed (an event type, usually).
        schedule_id: the run's schedule.
        period: the run's period.
        at: when.
    """

    pipeline_id: str
    name: str
    schedule_id: str
    period: str
    at: datetime


@dataclass(frozen=True, slots=True)
class MarkDryRun:
    """Note that a dry-run period would have triggered; lost (already marked) stops the rest.

    Attributes:
        pipeline_id: the pipeline.
        schedule_id: the period's schedule.
        period: the period.
        at: when it would have triggered.
    """

    pipeline_id: str
    schedule_id: str
    period: str
    at: datetime


@dataclass(frozen=True, slots=True)
class PutBookkeeping:
    """Write one of the controller's own sensor rows (``SENSOR#<name>#<period>``).

    Attributes:
        pipeline_id: the pipeline.
        name: one of :data:`interlock.store.keys.BOOKKEEPING_NAMES`.
        period: the run's period.
        fields: the row's fields.
        at: when.
        once: write only if absent (a lost write is a CONFLICT that does **not** stop the decision).
    """

    pipeline_id: str
    name: str
    period: str
    fields: Mapping[str, Any]
    at: datetime
    once: bool = False


@dataclass(frozen=True, slots=True)
class ScheduleTimer:
    """Create (or replace) the one-time timer ``name`` firing at ``at`` with ``payload``.

    Attributes:
        name: the timer's unique name (the same name replaces the pending timer).
        at: when it fires.
        payload: what the timer's handler receives (JSON-able; ``kind`` says which handler).
    """

    name: str
    at: datetime
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class CancelTimer:
    """Drop the pending timer ``name`` (nothing to do when there is none).

    Attributes:
        name: the timer's name.
    """

    name: str


@dataclass(frozen=True, slots=True)
class WriteAck:
    """Acknowledge a run's SLA alerts.

    Attributes:
        pipeline_id: the pipeline.
        schedule_id: the run's schedule.
        period: the run's period.
        by: who.
        reason: why.
        until: when the acknowledgement lapses (``None``: for the rest of the run).
        at: when.
    """

    pipeline_id: str
    schedule_id: str
    period: str
    by: str
    reason: str
    until: datetime | None
    at: datetime


@dataclass(frozen=True, slots=True)
class SetOverride:
    """Set (or, with ``value=None``, remove) an operator override such as ``dry-run``.

    Attributes:
        pipeline_id: the pipeline.
        name: the override (``dry-run``).
        value: its value, or ``None`` to remove it.
        by: who.
        reason: why.
        at: when.
    """

    pipeline_id: str
    name: str
    value: Any
    by: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Watch:
    """Mark a pipeline due in the watchdog's index: its next pass reads the pipeline.

    Attributes:
        pipeline_id: the pipeline.
        at: when it is due (the decision's ``now``: "read it on the next pass").
    """

    pipeline_id: str
    at: datetime


Action = (
    AcquireRun
    | StartExecution
    | PublishEvent
    | AppendJobLog
    | SetRunStatus
    | WriteRerunRequest
    | ResetRun
    | RecordRerun
    | Claim
    | MarkDryRun
    | PutBookkeeping
    | ScheduleTimer
    | CancelTimer
    | WriteAck
    | SetOverride
    | Watch
)
"""Every action a decision may return."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one pure lifecycle decision.

    Attributes:
        actions: what to apply, in order (empty: nothing to write).
        next: where the lifecycle goes next: a :class:`~interlock.lifecycle.run.RunState` value, a
            router verdict (``"start"``, ``"dry-run"``), or ``None`` when the input is ignored.
        output: what the caller returns (for the state machine: every field it reads).
        reason: why, in one line (always set when nothing happens).
    """

    actions: tuple[Action, ...] = ()
    next: str | None = None
    output: Mapping[str, Any] = field(default_factory=_empty)
    reason: str = ""
