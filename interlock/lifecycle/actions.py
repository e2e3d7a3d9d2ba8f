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

Mappings inside actions hold JSON-able values; treat them as read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from interlock.events import EventType
    from interlock.store.control import RunStatus
    from interlock.store.joblog import JobEvent

__all__ = [
    "AcquireRun",
    "Action",
    "AppendJobLog",
    "Decision",
    "PublishEvent",
    "RunRef",
    "SetRunStatus",
    "StartExecution",
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
    """

    pipeline_id: str
    schedule_id: str
    period: str
    at: datetime


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
    """

    type: EventType
    pipeline_id: str
    schedule_id: str | None
    period: str | None
    message: str
    at: datetime
    detail: Mapping[str, Any] = field(default_factory=_empty)


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


Action = (
    AcquireRun | StartExecution | PublishEvent | AppendJobLog | SetRunStatus | WriteRerunRequest
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
