"""``deploy/statemachine.asl.json`` under two interpreters: moto's Step Functions and ours.

moto (``execute_state_machine``) runs the definition for real, in a background thread; its Wait states
and retry intervals are made to take no time (:func:`tests.aws.conftest.instant_moto_waits`: moto would
sleep through them in real time). Its Lambda tasks call ``LambdaSimpleBackend.invoke``, which we
replace with the scripted fake orchestrator of ``tests/lifecycle/test_statemachine.py``. That
orchestrator decides on a virtual clock; :class:`ScaledOrchestrator` moves that clock by the wait the
decision asked for, so both interpreters see the same decisions without real sleeping. The same script then runs under ``interlock.local.asl`` and both
histories must visit the same states and end the same way.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3  # type: ignore[import-untyped]
import pytest
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend

from interlock.lifecycle.run import TRIGGER_RETRY_ERROR
from interlock.local.asl import ExecutionStatus, StateMachine, TaskFailed, run_to_completion
from interlock.local.definition import render_definition
from interlock.triggers.base import FailureClass, JobStatus, RunHandle, TriggerError
from tests.aws.conftest import instant_moto_waits
from tests.lifecycle.test_statemachine import (
    ASL,
    INPUT,
    NOT_READY,
    READY,
    RESOURCE,
    Orchestrator,
    VirtualClock,
    config,
    visited,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

REGION = "us-east-1"
MOTO_CONFIG: Any = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}
DEADLINE_SECONDS = 30.0


class ScaledOrchestrator:
    """Wraps a scripted :class:`Orchestrator` for moto: the virtual clock follows the waits asked for.

    Before each call the virtual clock moves on by the wait the previous decision asked for (what the
    local runner does with its clock), so the decisions match the local run's decisions exactly.
    """

    def __init__(self, orch: Orchestrator) -> None:
        self.orch = orch
        self.pending = 0
        self.started = False

    def __call__(self, payload: dict[str, Any]) -> dict[str, Any]:
        clock = self.orch.clock
        if not self.started:
            # Windows are measured from $$.Execution.StartTime, moto's real start: start there.
            self.started = True
            clock.t = datetime.fromisoformat(payload["startedAt"])
        clock.advance_to(clock.now() + timedelta(seconds=self.pending))
        out: dict[str, Any] = self.orch(RESOURCE, payload)
        wait = out.get("waitSeconds", 0)
        self.pending = wait
        return out


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


class MotoStepFunctions:
    """One state machine, built from the deploy definition, whose Lambda is a scripted orchestrator."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, definition_text: str) -> None:
        self.monkeypatch = monkeypatch
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        lam = boto3.client("lambda", region_name=REGION)
        iam = boto3.client("iam", region_name=REGION)
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role = iam.create_role(RoleName="interlock", AssumeRolePolicyDocument=json.dumps(trust))
        role_arn = role["Role"]["Arn"]
        fn = lam.create_function(
            FunctionName="interlock-orchestrator",
            Runtime="python3.11",
            Role=role_arn,
            Handler="handler.handler",
            Code={"ZipFile": _zip()},
        )
        definition = definition_text.replace(RESOURCE, fn["FunctionArn"])
        assert "${" not in definition
        self.arn = self.sfn.create_state_machine(
            name="interlock-run", definition=definition, roleArn=role_arn
        )["stateMachineArn"]
        self.calls = 0

    def run(self, orch: Orchestrator, name: str) -> tuple[dict[str, Any], list[str]]:
        """Run one execution to its end with ``orch`` behind the Lambda; its description and states."""
        scaled = ScaledOrchestrator(orch)

        def invoke(
            backend: LambdaSimpleBackend,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: Any,
        ) -> bytes:
            self.calls += 1
            try:
                return json.dumps(scaled(json.loads(body))).encode()
            except Exception as exc:  # a crash in the handler is a Lambda function error
                response_headers["x-amz-function-error"] = "Unhandled"
                # a raised TaskFailed names its ASL error, as a Lambda's errorType does
                kind = exc.error if isinstance(exc, TaskFailed) else type(exc).__name__
                error = {"errorType": kind, "errorMessage": str(exc)}
                return json.dumps(error).encode()

        self.monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
        arn = self.sfn.start_execution(
            stateMachineArn=self.arn, name=name, input=json.dumps(INPUT)
        )["executionArn"]
        deadline = time.monotonic() + DEADLINE_SECONDS
        while True:
            desc = self.sfn.describe_execution(executionArn=arn)
            if desc["status"] != "RUNNING":
                break
            assert time.monotonic() < deadline, f"{name} still RUNNING after {DEADLINE_SECONDS} s"
            time.sleep(0.05)
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
        while True:
            page = self.sfn.get_execution_history(**kwargs)
            events += page["events"]
            if "nextToken" not in page:
                break
            kwargs["nextToken"] = page["nextToken"]
        states = [
            e["stateEnteredEventDetails"]["name"]
            for e in events
            if e["type"].endswith("StateEntered")
        ]
        return dict(desc), states


@pytest.fixture
def moto_sfn(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoStepFunctions]:
    for var, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }.items():
        monkeypatch.setenv(var, value)
    instant_moto_waits(monkeypatch)
    with mock_aws(config=MOTO_CONFIG):
        yield MotoStepFunctions(monkeypatch, _FAST_RETRIES)


def _fast_retries(text: str) -> str:
    """The definition with the trigger retry's backoff cut to 1 s steps: the local runner's virtual
    clock counts retry intervals, the moto side's (:class:`ScaledOrchestrator`) only Wait states, so
    short intervals keep the two clocks together."""
    definition = json.loads(text)
    for retrier in definition["States"]["Trigger"]["Retry"]:
        if retrier["ErrorEquals"] == [TRIGGER_RETRY_ERROR]:
            retrier["IntervalSeconds"], retrier["BackoffRate"] = 1, 1.0
    return json.dumps(definition)


_FAST_RETRIES = _fast_retries(render_definition(ASL.read_text()))


def _local(script: Callable[[], Orchestrator]) -> tuple[ExecutionStatus, list[str], dict[str, Any]]:
    orch = script()
    machine = StateMachine.from_json(_FAST_RETRIES)
    ex = run_to_completion(machine, INPUT, invoke=orch, clock=orch.clock, name="local")
    return ex.status, visited(ex), ex.output


def _happy() -> Orchestrator:
    return Orchestrator(
        VirtualClock(),
        config(),
        sensors=[NOT_READY, READY],
        starts=[RunHandle("r-1", {"pid": 7})],
        statuses=[JobStatus("running"), JobStatus("succeeded")],
    )


def _job_fails() -> Orchestrator:
    return Orchestrator(
        VirtualClock(),
        config(),
        default_sensors=READY,
        default_start=RunHandle("r-2"),
        statuses=[JobStatus("failed", FailureClass.TRANSIENT, "exit 1")],
    )


def test_rules_fail_once_then_the_job_succeeds(moto_sfn: MotoStepFunctions) -> None:
    local_status, local_states, local_output = _local(_happy)
    desc, states = moto_sfn.run(_happy(), name="orders-stream-2026-03-04-a1")
    assert desc["status"] == "SUCCEEDED", desc
    assert local_status is ExecutionStatus.SUCCEEDED
    assert states == local_states
    assert states == [
        "Evaluate", "AfterEvaluate", "WaitForReadiness",
        "Evaluate", "AfterEvaluate",
        "Trigger", "AfterTrigger",
        "WaitForJob", "CheckJob", "AfterCheckJob",
        "WaitForJob", "CheckJob", "AfterCheckJob",
        "Complete",
    ]  # fmt: skip
    output = json.loads(desc["output"])
    assert output["job"]["state"] == local_output["job"]["state"] == "COMPLETED"
    assert output["job"]["runId"] == "r-1"
    assert moto_sfn.calls == 5  # evaluate x2, trigger, check-job x2: no task was retried


def test_a_failed_job_ends_in_job_failed(moto_sfn: MotoStepFunctions) -> None:
    local_status, local_states, local_output = _local(_job_fails)
    desc, states = moto_sfn.run(_job_fails(), name="orders-stream-2026-03-04-a2")
    assert desc["status"] == local_status.value == "SUCCEEDED", desc
    assert states[-1] == local_states[-1] == "JobFailed"
    assert states == local_states
    output = json.loads(desc["output"])
    assert output["job"]["state"] == local_output["job"]["state"] == "FAILED"


def _trigger_keeps_failing() -> Orchestrator:
    transient = TriggerError("503 service unavailable", failure=FailureClass.TRANSIENT)
    return Orchestrator(VirtualClock(), config(), default_sensors=READY, default_start=transient)


def test_trigger_infra_errors_retry_then_exhaust(moto_sfn: MotoStepFunctions) -> None:
    local_status, local_states, local_output = _local(_trigger_keeps_failing)
    orch = _trigger_keeps_failing()
    desc, states = moto_sfn.run(orch, name="orders-stream-2026-03-04-a3")
    assert desc["status"] == local_status.value == "SUCCEEDED", desc
    assert states == local_states
    assert states[-2:] == ["AfterTrigger", "TriggerExhausted"]
    # one Evaluate, then the first Trigger and its 4 retries (Interlock.TriggerRetry), all in moto
    assert [c[0] for c in orch.calls] == ["evaluate"] + ["trigger"] * 5
    assert [c[2]["retries"] for c in orch.calls if c[0] == "trigger"] == [0, 1, 2, 3, 4]
    output = json.loads(desc["output"])
    assert output["job"]["state"] == local_output["job"]["state"] == "TRIGGER_EXHAUSTED"


def test_a_crashing_trigger_is_caught_and_exhausted(moto_sfn: MotoStepFunctions) -> None:
    def script() -> Orchestrator:
        return Orchestrator(
            VirtualClock(), config(), default_sensors=READY, starts=[RuntimeError("boom")] * 4
        )

    local_status, local_states, _ = _local(script)
    desc, states = moto_sfn.run(script(), name="orders-stream-2026-03-04-a4")
    assert desc["status"] == local_status.value == "SUCCEEDED", desc
    assert states == local_states
    assert states[-3:] == ["Trigger", "TriggerFailed", "TriggerExhausted"]
