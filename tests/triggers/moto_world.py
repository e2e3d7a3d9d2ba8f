"""Builders of AWS resources in moto for the trigger and scenario tests."""

from __future__ import annotations

import json
import time
from datetime import date
from typing import TYPE_CHECKING, Any

from interlock.schedule import Period

if TYPE_CHECKING:
    import pytest

    from interlock.triggers.base import JobStatus, RunHandle, TriggerRunner

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/interlock-job"
MOTO_CONFIG: Any = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}
DAY = Period(date(2026, 3, 4))
HOUR = Period(date(2026, 3, 4), 7)


def fake_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and a region, so no test can reach a real account."""
    for var, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }.items():
        monkeypatch.setenv(var, value)


def client(service: str) -> Any:
    import boto3  # type: ignore[import-untyped]

    return boto3.client(service, region_name=REGION)


def glue_job(name: str = "orders-etl") -> str:
    client("glue").create_job(
        Name=name, Role=ROLE, Command={"Name": "glueetl", "ScriptLocation": "s3://code/etl.py"}
    )
    return name


def emr_cluster() -> str:
    response = client("emr").run_job_flow(
        Name="etl",
        Instances={
            "InstanceCount": 1,
            "KeepJobFlowAliveWhenNoSteps": True,
            "MasterInstanceType": "m5.xlarge",
        },
        JobFlowRole="EMR_EC2_DefaultRole",
        ServiceRole="EMR_DefaultRole",
        ReleaseLabel="emr-6.15.0",
    )
    return str(response["JobFlowId"])


def set_emr_step_state(cluster: str, step_id: str, state: str, reason: str = "") -> None:
    """Move a moto EMR step (moto leaves a step RUNNING until a test changes it).

    moto keeps no FailureDetails: ``reason`` goes to the step's StateChangeReason message.
    """
    from moto.emr.models import emr_backends

    backend = emr_backends[ACCOUNT][REGION]
    for step in backend.clusters[cluster].steps:
        if step.id == step_id:
            step.state = state
            step.last_state_change_reason = reason or None  # type: ignore[attr-defined]
            return
    raise AssertionError(f"no step {step_id}")


def emr_serverless_app() -> str:
    response = client("emr-serverless").create_application(
        name="spark", releaseLabel="emr-7.0.0", type="SPARK"
    )
    return str(response["applicationId"])


def set_emr_serverless_state(application: str, run: str, state: str, details: str = "") -> None:
    """Move a moto EMR Serverless run (moto reports SUCCESS at once)."""
    from moto.emrserverless.models import emrserverless_backends

    backend = emrserverless_backends[ACCOUNT][REGION]
    job_run = backend.get_job_run(application, run)
    job_run.state = state
    job_run.state_details = details


def state_machine(name: str, states: dict[str, Any], start: str) -> str:
    response = client("stepfunctions").create_state_machine(
        name=name, roleArn=ROLE, definition=json.dumps({"StartAt": start, "States": states})
    )
    return str(response["stateMachineArn"])


def passing_machine(name: str = "load-orders") -> str:
    return state_machine(name, {"Load": {"Type": "Pass", "End": True}}, "Load")


def failing_machine(name: str, error: str, cause: str) -> str:
    return state_machine(name, {"Boom": {"Type": "Fail", "Error": error, "Cause": cause}}, "Boom")


def lambda_function(name: str = "load-orders") -> str:
    role = client("iam").create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")
    client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": b"not run: moto without Docker echoes the payload"},
    )
    return name


def wait_done(runner: TriggerRunner, config: Any, handle: RunHandle) -> JobStatus:
    """Poll until the job leaves ``running`` (moto runs Step Functions executions in a thread)."""
    deadline = time.monotonic() + 30
    status = runner.status(config, handle)
    while status.state == "running" and time.monotonic() < deadline:
        time.sleep(0.02)
        status = runner.status(config, handle)
    return status
