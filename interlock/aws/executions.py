"""The ``Executions`` port on Step Functions (Standard workflows).

::

    start(name, input)
      StartExecution(name, input = canonical JSON)
        ok ───────────────────────────────────────────▶ executionArn
        ExecutionAlreadyExists ─▶ DescribeExecution(arn of name)
                                    same input ──────▶ the first start's arn (idempotent, nothing started)
                                    other input ─────▶ ExecutionConflictError
    describe(arn) ─▶ ExecutionInfo(status, started, stopped)     (the watchdog's stale-run check)
    stop(arn, cause) ─▶ StopExecution; an execution already closed or gone is fine

Names are the lifecycle's deterministic names (``<pid>-<schedule>-<period>-a<attempt>``); a name over
80 characters or with characters Step Functions refuses is cut and hashed here too, so a caller can
never make StartExecution fail on the name. Inputs are sent as canonical JSON (sorted keys), so the
same input is the same text, which is what Step Functions compares.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from interlock.aws._clients import AwsError, LazyClient, error_code
from interlock.names import safe_name
from interlock.ports import ExecutionConflictError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

__all__ = ["MAX_NAME", "ExecutionInfo", "StepFunctionsExecutions", "safe_execution_name"]

MAX_NAME: Final = 80
"""Step Functions' limit on execution names."""


def safe_execution_name(name: str) -> str:
    """``name`` if Step Functions accepts it, else its safe head and a hash (≤ 80 characters).

    The callers' names already follow :func:`interlock.names.safe_name`; this keeps a hand-made name
    (a notebook, a test) from reaching the API unchecked.
    """
    return safe_name(name, limit=MAX_NAME)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: one text per value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True, slots=True)
class ExecutionInfo:
    """What DescribeExecution says about one execution.

    Attributes:
        arn: the execution ARN.
        status: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED (or PENDING_REDRIVE).
        started: when it started.
        stopped: when it ended (``None`` while it runs).
        input: its input, parsed.
    """

    arn: str
    status: str
    started: datetime | None
    stopped: datetime | None
    input: Any

    @property
    def running(self) -> bool:
        """Whether the execution still runs."""
        return self.status == "RUNNING"


class StepFunctionsExecutions:
    """Starts, describes and stops executions of one state machine.

    Args:
        state_machine_arn: the state machine (``STATE_MACHINE_ARN``).
        client: a boto3 ``stepfunctions`` client; built lazily when omitted.
        region: region of the client built here.
        endpoint_url: endpoint of the client built here (moto server, LocalStack).
    """

    def __init__(
        self,
        state_machine_arn: str,
        *,
        client: Any = None,
        region: str | None = None,
        endpoint_url: str | None = None,
    ) -> None:
        if ":stateMachine:" not in state_machine_arn:
            raise ValueError(f"not a state machine ARN: {state_machine_arn!r}")
        self.state_machine_arn = state_machine_arn
        self.region = region
        self.endpoint_url = endpoint_url
        self._client = client

    def __repr__(self) -> str:
        return f"<StepFunctionsExecutions {self.state_machine_arn}>"

    client = LazyClient("stepfunctions")

    def execution_arn(self, name: str) -> str:
        """The ARN an execution called ``name`` has (or would have)."""
        prefix = self.state_machine_arn.replace(":stateMachine:", ":execution:", 1)
        return f"{prefix}:{safe_execution_name(name)}"

    def start(self, name: str, input: Mapping[str, Any]) -> str:  # noqa: A002 - the port's word
        """Start the execution ``name`` unless it exists (see the module docstring).

        Returns:
            The execution ARN (the first start's, when the name existed with this input).

        Raises:
            ExecutionConflictError: the name exists with a different input.
            AwsError: Step Functions refused the start for another reason.
        """
        safe = safe_execution_name(name)
        text = canonical_json(dict(input))
        try:
            response = self.client.start_execution(
                stateMachineArn=self.state_machine_arn, name=safe, input=text
            )
        except Exception as exc:
            if error_code(exc) != "ExecutionAlreadyExists":
                if error_code(exc):
                    raise AwsError(f"StartExecution {safe}: {exc}") from exc
                raise
            arn = self.execution_arn(name)
            known = self.describe(arn)
            if known is None or canonical_json(known.input) != text:
                raise ExecutionConflictError(name, arn) from exc
            return arn
        return str(response["executionArn"])

    def describe(self, arn: str) -> ExecutionInfo | None:
        """The execution ``arn``, or ``None`` when Step Functions does not know it.

        Raises:
            AwsError: the call failed.
        """
        try:
            d = self.client.describe_execution(executionArn=arn)
        except Exception as exc:
            if error_code(exc) == "ExecutionDoesNotExist":
                return None
            if error_code(exc):
                raise AwsError(f"DescribeExecution {arn}: {exc}") from exc
            raise
        raw = d.get("input")
        return ExecutionInfo(
            arn=str(d["executionArn"]),
            status=str(d["status"]),
            started=d.get("startDate"),
            stopped=d.get("stopDate"),
            input=json.loads(raw) if isinstance(raw, str) and raw else None,
        )

    def stop(self, arn: str, *, cause: str, error: str = "Interlock.Stale") -> bool:
        """Stop a running execution.

        Returns:
            Whether it was running and is now stopped (``False``: closed already or unknown).

        Raises:
            AwsError: the call failed.
        """
        info = self.describe(arn)
        if info is None or not info.running:
            return False
        try:
            self.client.stop_execution(executionArn=arn, error=error, cause=cause[:32768])
        except Exception as exc:
            if error_code(exc) == "ExecutionDoesNotExist":
                return False
            if error_code(exc):
                raise AwsError(f"StopExecution {arn}: {exc}") from exc
            raise
        return True
