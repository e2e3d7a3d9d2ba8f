"""The embedded runtime: runs the AWS state machine definition locally (see :mod:`interlock.local.asl`)."""

from __future__ import annotations

from interlock.local.asl import (
    AslDefinitionError,
    Execution,
    ExecutionStatus,
    Invoke,
    StateMachine,
    SteppingClock,
    TaskFailed,
    run_to_completion,
    start,
    step,
)

__all__ = [
    "AslDefinitionError",
    "Execution",
    "ExecutionStatus",
    "Invoke",
    "StateMachine",
    "SteppingClock",
    "TaskFailed",
    "run_to_completion",
    "start",
    "step",
]
