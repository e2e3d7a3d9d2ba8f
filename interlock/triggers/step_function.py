"""The ``step-function`` trigger: start a Step Functions execution, then poll it.

::

    start:  StartExecution(stateMachineArn, name = from the run id, input = JSON of arguments)
            -> handle {sfn_execution_arn}
    status: DescribeExecution   RUNNING, PENDING_REDRIVE -> running
                                SUCCEEDED               -> succeeded
                                TIMED_OUT               -> failed (timeout)
                                FAILED                  -> failed (class from its error and cause)
                                ABORTED                 -> failed (transient)

**One execution per run.** The execution's name derives from the run id (:func:`execution_name`), and
Step Functions keeps names unique per state machine (for 90 days). A replayed start (a crash between the
start and the record of it, in AWS or in the embedded runtime) gets ``ExecutionAlreadyExists`` or the
same execution back, and is given the first execution's handle: the job is never started twice.

``${VARS}`` are expanded in every string of ``arguments``.

IAM: ``states:StartExecution`` (on the state machine), ``states:DescribeExecution`` (on its
executions).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from interlock.config.models import StepFunctionJobConfig
from interlock.triggers.aws import AwsRunner
from interlock.triggers.base import (
    FailureClass,
    JobStatus,
    RunHandle,
    TriggerContext,
    TriggerError,
)
from interlock.triggers.polling import classify_job_message, parse_config, poll_error_status

if TYPE_CHECKING:
    from interlock.schedule import Period

__all__ = ["StepFunctionRunner", "execution_arn", "execution_name"]

_NAME_LIMIT = 80
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_RUNNING = frozenset({"RUNNING", "PENDING_REDRIVE"})


def execution_name(run_id: str) -> str:
    """The execution name of a run: the run id in the characters Step Functions allows (≤ 80).

    Characters other than letters, digits, ``-`` and ``_`` become ``_``; a longer id keeps its first 63
    characters and gains a hash of the whole id, so two long ids never share a name.

    Args:
        run_id: Interlock's id of the run.

    Returns:
        The name.
    """
    name = _UNSAFE.sub("_", run_id)
    if name and len(name) <= _NAME_LIMIT and name == run_id:
        return name
    digest = hashlib.sha256(run_id.encode()).hexdigest()[:16]
    return f"{name[: _NAME_LIMIT - 17]}-{digest}"


def execution_arn(state_machine_arn: str, name: str) -> str:
    """The ARN of a state machine's execution called ``name``.

    Args:
        state_machine_arn: ``arn:aws:states:<region>:<account>:stateMachine:<machine>``.
        name: the execution's name.

    Returns:
        ``arn:aws:states:<region>:<account>:execution:<machine>:<name>``.
    """
    return f"{state_machine_arn.replace(':stateMachine:', ':execution:', 1)}:{name}"


class StepFunctionRunner(AwsRunner):
    """Runs ``step-function`` jobs (see the module docstring; options as :class:`AwsRunner`)."""

    service = "stepfunctions"

    def start(self, job_config: Any, *, pipeline_id: str, period: Period, run_id: str) -> RunHandle:
        """Start the execution (or find the one this run already started).

        Args:
            job_config: a :class:`~interlock.config.models.StepFunctionJobConfig` (or its mapping).
            pipeline_id: the pipeline (``${PIPELINE}``).
            period: the run's period (``${DATE}``, ...).
            run_id: the run's id (``${RUN_ID}``; names the execution).

        Returns:
            A handle whose metadata holds ``sfn_execution_arn``.

        Raises:
            TriggerError: permanent for an unknown state machine, access denied, bad input;
                transient for throttling, the execution limit or a 5xx.
        """
        config = parse_config(StepFunctionJobConfig, job_config, "step-function")
        context = TriggerContext.build(
            pipeline_id=pipeline_id, period=period, run_id=run_id, environ=self._env
        )
        machine = context.expand(config.stateMachineArn)
        name = execution_name(run_id)
        payload = json.dumps(context.expand_json(config.arguments), sort_keys=True)
        what = f"states StartExecution {name}"
        try:
            response = self.call(
                what,
                "start_execution",
                {"stateMachineArn": machine, "name": name, "input": payload},
            )
        except TriggerError as exc:
            if "ExecutionAlreadyExists" not in str(exc):
                raise
            arn = execution_arn(machine, name)
            # The run started it before (a replay): follow that execution, do not start another.
            self.call(
                f"states DescribeExecution {name}", "describe_execution", {"executionArn": arn}
            )
            return RunHandle(run_id, {"sfn_execution_arn": arn, "reused": True})
        return RunHandle(run_id, {"sfn_execution_arn": str(response["executionArn"])})

    def status(self, job_config: Any, handle: RunHandle) -> JobStatus:
        """Poll the execution (see the module docstring for the mapping).

        Args:
            job_config: the job's config (unused: the handle names the execution).
            handle: the handle :meth:`start` returned.

        Returns:
            The execution's state; a failed one's message holds its error and cause.
        """
        arn = str(handle.metadata.get("sfn_execution_arn", ""))
        what = f"step-function execution {arn}"
        if not arn:
            return JobStatus(
                "failed", FailureClass.PERMANENT, f"{what}: the handle names no execution"
            )
        try:
            response = self.call(
                f"states DescribeExecution {arn}", "describe_execution", {"executionArn": arn}
            )
        except TriggerError as exc:
            return poll_error_status(exc, what)
        state = str(response.get("status", ""))
        if state in _RUNNING:
            return JobStatus("running", None, f"{what} {state}")
        if state == "SUCCEEDED":
            return JobStatus("succeeded", None, f"{what} SUCCEEDED")
        error = ": ".join(str(response[k]) for k in ("error", "cause") if response.get(k))
        error = error or "no error details"
        if state == "TIMED_OUT":
            return JobStatus("failed", FailureClass.TIMEOUT, f"{what} TIMED_OUT: {error}")
        failure = classify_job_message(error) if state == "FAILED" else FailureClass.TRANSIENT
        return JobStatus("failed", failure, f"{what} {state}: {error}")
