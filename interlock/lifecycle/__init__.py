"""The run lifecycle, as pure decisions: stream routing, the run state table and its actions.

Plan, then act (STYLE rule 2)::

    stream record ──route()──▶ RouterInput ──decide_sensor()──▶ Decision(actions, next, output)
    orchestrator mode ──evaluate_step() / trigger_step() / check_job_step()──▶ Decision
                                                                              │
              interlock.service.executor.Executor applies ◀┘ the actions, in order

Nothing here reads a clock, a table or the network: every input is an argument. The reads that feed
each decision and the applying live in :mod:`interlock.service`.
"""

from __future__ import annotations

from interlock.lifecycle.actions import (
    AcquireRun,
    Action,
    AppendJobLog,
    CancelTimer,
    Claim,
    Decision,
    MarkDryRun,
    PublishEvent,
    PutBookkeeping,
    RecordRerun,
    ResetRun,
    RunRef,
    ScheduleTimer,
    SetOverride,
    SetRunStatus,
    StartExecution,
    Watch,
    WriteAck,
    WriteRerunRequest,
)
from interlock.lifecycle.router import (
    ConfigChanged,
    Ignored,
    JobLogWrite,
    Malformed,
    RerunRequested,
    RouterInput,
    SensorWrite,
    decide_sensor,
    execution_name,
    route,
)
from interlock.lifecycle.run import (
    TRIGGER_RETRY_ERROR,
    RunState,
    check_job_step,
    evaluate_step,
    trigger_exhausted_step,
    trigger_step,
)

__all__ = [
    "TRIGGER_RETRY_ERROR",
    "AcquireRun",
    "Action",
    "AppendJobLog",
    "CancelTimer",
    "Claim",
    "ConfigChanged",
    "Decision",
    "Ignored",
    "JobLogWrite",
    "Malformed",
    "MarkDryRun",
    "PublishEvent",
    "PutBookkeeping",
    "RecordRerun",
    "RerunRequested",
    "ResetRun",
    "RouterInput",
    "RunRef",
    "RunState",
    "ScheduleTimer",
    "SensorWrite",
    "SetOverride",
    "SetRunStatus",
    "StartExecution",
    "Watch",
    "WriteAck",
    "WriteRerunRequest",
    "check_job_step",
    "decide_sensor",
    "evaluate_step",
    "execution_name",
    "route",
    "trigger_exhausted_step",
    "trigger_step",
]
