"""The AWS trigger runners (glue, emr, emr-serverless, step-function, lambda) against moto.

Each type: start -> poll -> success, a failure with its class, and a permanent error. Where moto lacks
a call or an answer, botocore's Stubber stands in and the test says why.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber  # type: ignore[import-untyped]

from interlock.config.models import (
    EmrJobConfig,
    EmrServerlessJobConfig,
    GlueJobConfig,
    LambdaJobConfig,
    StepFunctionJobConfig,
)
from interlock.triggers import FailureClass, RunHandle, TriggerError, runner_for
from interlock.triggers.aws import AwsRunner, classify_aws_error, describe_aws_error
from interlock.triggers.emr import EmrRunner
from interlock.triggers.emr_serverless import EmrServerlessRunner, client_token
from interlock.triggers.glue import GlueRunner
from interlock.triggers.lambda_ import LambdaRunner
from interlock.triggers.step_function import StepFunctionRunner, execution_arn, execution_name
from tests.triggers import moto_world as mw

pytestmark = pytest.mark.usefixtures("aws")


def stubbed(service: str) -> tuple[Any, Stubber]:
    client = mw.client(service)
    stub = Stubber(client)
    stub.activate()
    return client, stub


# -------------------------------------------------------------------------------------------- glue


def test_glue_start_passes_arguments_and_period_then_succeeds() -> None:
    # GIVEN a Glue job in moto (moto's runs succeed at once)
    name = mw.glue_job()
    runner = GlueRunner()
    config = GlueJobConfig(jobName=name, arguments={"--table": "${PIPELINE}_${DATE}"})

    # WHEN an hourly run starts
    handle = runner.start(config, pipeline_id="orders", period=mw.HOUR, run_id="r-1")

    # THEN the run got the expanded arguments plus --par_day/--par_hour, and polls as succeeded
    assert handle.metadata["glue_job_name"] == name
    job_run = mw.client("glue").get_job_run(JobName=name, RunId=handle.metadata["glue_job_run_id"])
    assert job_run["JobRun"]["Arguments"] == {
        "--table": "orders_2026-03-04",
        "--par_day": "20260304",
        "--par_hour": "07",
    }
    status = runner.status(config, handle)
    assert status.state == "succeeded" and name in status.message
    json.dumps(handle.metadata)  # JSON-able: the durable start stores it


def test_glue_unknown_job_is_a_permanent_start_error() -> None:
    with pytest.raises(TriggerError, match="EntityNotFoundException") as info:
        GlueRunner().start(
            GlueJobConfig(jobName="missing"), pipeline_id="p", period=mw.DAY, run_id="r"
        )
    assert info.value.failure is FailureClass.PERMANENT


def test_glue_poll_of_a_run_that_does_not_exist_fails_permanently() -> None:
    name = mw.glue_job()
    handle = RunHandle("r", {"glue_job_name": name, "glue_job_run_id": "jr_gone"})
    status = GlueRunner().status(GlueJobConfig(jobName=name), handle)
    assert status.state == "failed" and status.failure is FailureClass.PERMANENT
    assert "not found" in status.message


def test_glue_generic_failure_reads_the_root_cause_from_the_error_log() -> None:
    # Stubber for GetJobRun: moto's runs succeed at once and carry no ErrorMessage. The error log
    # stream is real moto CloudWatch Logs.
    logs = mw.client("logs")
    logs.create_log_group(logGroupName="/aws-glue/jobs/error")
    logs.create_log_stream(logGroupName="/aws-glue/jobs/error", logStreamName="jr_1")
    import time

    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName="/aws-glue/jobs/error",
        logStreamName="jr_1",
        logEvents=[
            {"timestamp": now, "message": "INFO starting"},
            {"timestamp": now + 1, "message": "py4j.Py4JJavaError: ExecutorLostFailure (lost)"},
            {"timestamp": now + 2, "message": "INFO shutting down"},
        ],
    )
    glue, stub = stubbed("glue")
    running = {"JobRun": {"Id": "jr_1", "JobRunState": "RUNNING"}}
    failed = {
        "JobRun": {
            "Id": "jr_1",
            "JobRunState": "FAILED",
            "ErrorMessage": "An error occurred while calling o97.pyWriteDynamicFrame",
            "LogGroupName": "/aws-glue/jobs",
        }
    }
    stub.add_response("get_job_run", running, {"JobName": "etl", "RunId": "jr_1"})
    stub.add_response("get_job_run", failed, {"JobName": "etl", "RunId": "jr_1"})
    clients = {"glue": glue, "logs": logs}
    runner = GlueRunner(client_factory=clients.__getitem__)
    handle = RunHandle("r", {"glue_job_name": "etl", "glue_job_run_id": "jr_1"})

    assert runner.status(None, handle).state == "running"
    status = runner.status(None, handle)

    assert status.state == "failed" and status.failure is FailureClass.TRANSIENT
    assert "root cause: py4j.Py4JJavaError: ExecutorLostFailure" in status.message
    stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("state", "error", "failure"),
    [
        ("TIMEOUT", "", FailureClass.TIMEOUT),
        ("FAILED", "AccessDeniedException: s3://raw/orders", FailureClass.PERMANENT),
        ("ERROR", "Internal service error", FailureClass.TRANSIENT),
    ],
)
def test_glue_failed_states_are_classified(state: str, error: str, failure: FailureClass) -> None:
    # Stubber: moto cannot put a Glue run in these states.
    glue, stub = stubbed("glue")
    run: dict[str, Any] = {"Id": "jr_1", "JobRunState": state}
    if error:
        run["ErrorMessage"] = error
    stub.add_response("get_job_run", {"JobRun": run})
    runner = GlueRunner(client_factory=lambda _s: glue)
    status = runner.status(None, RunHandle("r", {"glue_job_name": "e", "glue_job_run_id": "jr_1"}))
    assert status.state == "failed" and status.failure is failure
    assert state in status.message


def test_glue_throttled_poll_keeps_polling_and_throttled_start_is_transient() -> None:
    # Stubber: moto never throttles.
    glue, stub = stubbed("glue")
    stub.add_client_error("get_job_run", "ThrottlingException", "Rate exceeded", 400)
    stub.add_client_error("start_job_run", "ConcurrentRunsExceededException", "too many", 400)
    runner = GlueRunner(client_factory=lambda _s: glue)
    handle = RunHandle("r", {"glue_job_name": "e", "glue_job_run_id": "jr_1"})
    status = runner.status(None, handle)
    assert status.state == "running" and "polling again" in status.message
    with pytest.raises(TriggerError) as info:
        runner.start(GlueJobConfig(jobName="e"), pipeline_id="p", period=mw.DAY, run_id="r")
    assert info.value.failure is FailureClass.TRANSIENT


def test_a_handle_without_its_ids_fails_permanently() -> None:
    for runner in (GlueRunner(), EmrRunner(), EmrServerlessRunner(), StepFunctionRunner()):
        status = runner.status(None, RunHandle("r", {}))
        assert status.state == "failed" and status.failure is FailureClass.PERMANENT


# --------------------------------------------------------------------------------------------- emr


def test_emr_step_runs_until_moto_moves_it_then_succeeds() -> None:
    cluster = mw.emr_cluster()
    runner = EmrRunner()
    config = EmrJobConfig(
        clusterId=cluster,
        stepName="orders-${DATE}",
        command="spark-submit s3://code/orders.py",
        arguments={"--date": "${DATE}", "mode": "full"},
    )
    handle = runner.start(config, pipeline_id="orders", period=mw.DAY, run_id="r-1")

    step = mw.client("emr").describe_step(ClusterId=cluster, StepId=handle.metadata["emr_step_id"])
    assert step["Step"]["Name"] == "orders-2026-03-04"
    assert step["Step"]["Config"]["Jar"] == "command-runner.jar"
    assert step["Step"]["Config"]["Args"] == [
        "spark-submit", "s3://code/orders.py", "--date", "2026-03-04", "mode=full",
    ]  # fmt: skip
    assert step["Step"]["ActionOnFailure"] == "CONTINUE"
    assert runner.status(config, handle).state == "running"

    mw.set_emr_step_state(cluster, handle.metadata["emr_step_id"], "COMPLETED")
    assert runner.status(config, handle).state == "succeeded"


def test_emr_jar_command_and_failed_step() -> None:
    cluster = mw.emr_cluster()
    runner = EmrRunner()
    config = EmrJobConfig(clusterId=cluster, stepName="s", command="s3://code/etl.jar")
    handle = runner.start(config, pipeline_id="p", period=mw.DAY, run_id="r")
    step = mw.client("emr").describe_step(ClusterId=cluster, StepId=handle.metadata["emr_step_id"])
    assert step["Step"]["Config"]["Jar"] == "s3://code/etl.jar"

    mw.set_emr_step_state(cluster, handle.metadata["emr_step_id"], "FAILED", "exit code 1")
    status = runner.status(config, handle)
    assert status.state == "failed" and status.failure is FailureClass.TRANSIENT
    assert "exit code 1" in status.message

    mw.set_emr_step_state(cluster, handle.metadata["emr_step_id"], "CANCELLED")
    assert runner.status(config, handle).failure is FailureClass.TRANSIENT


def test_emr_failure_details_name_a_permanent_cause() -> None:
    # Stubber: moto keeps no FailureDetails on a step.
    emr, stub = stubbed("emr")
    stub.add_response(
        "describe_step",
        {
            "Step": {
                "Id": "s-1",
                "Status": {
                    "State": "FAILED",
                    "FailureDetails": {
                        "Reason": "Access denied",
                        "Message": "s3://code/etl.jar: 403",
                        "LogFile": "s3://logs/s-1/",
                    },
                },
            }
        },
    )
    runner = EmrRunner(client_factory=lambda _s: emr)
    status = runner.status(None, RunHandle("r", {"emr_cluster_id": "j-1", "emr_step_id": "s-1"}))
    assert status.failure is FailureClass.PERMANENT
    assert "log: s3://logs/s-1/" in status.message


def test_emr_unknown_cluster_is_permanent() -> None:
    # Stubber: moto answers AddJobFlowSteps on an unknown cluster with an internal KeyError (a 500);
    # EMR answers ValidationException.
    emr, stub = stubbed("emr")
    stub.add_client_error(
        "add_job_flow_steps", "ValidationException", "Cluster id 'j-NOPE' is not valid.", 400
    )
    runner = EmrRunner(client_factory=lambda _s: emr)
    config = EmrJobConfig(clusterId="j-NOPE", stepName="s", command="spark-submit x.py")
    with pytest.raises(TriggerError, match="j-NOPE") as info:
        runner.start(config, pipeline_id="p", period=mw.DAY, run_id="r")
    assert info.value.failure is FailureClass.PERMANENT


def test_emr_unclosed_quote_is_permanent() -> None:
    config = EmrJobConfig(clusterId="j-1", stepName="s", command="spark-submit 'x.py")
    with pytest.raises(TriggerError, match="cannot split") as info:
        EmrRunner().start(config, pipeline_id="p", period=mw.DAY, run_id="r")
    assert info.value.failure is FailureClass.PERMANENT


# ------------------------------------------------------------------------------------ emr-serverless


def serverless_config(app: str) -> EmrServerlessJobConfig:
    return EmrServerlessJobConfig(
        applicationId=app,
        jobName="orders-${DATE}",
        executionRoleArn=mw.ROLE,
        jobDriver={
            "sparkSubmit": {"entryPoint": "s3://code/x.py", "entryPointArguments": ["${DATE}"]}
        },
    )


def test_emr_serverless_start_then_success_and_failure() -> None:
    app = mw.emr_serverless_app()
    runner = EmrServerlessRunner()
    config = serverless_config(app)
    handle = runner.start(config, pipeline_id="orders", period=mw.DAY, run_id="r-1")

    run_id = handle.metadata["emr_sl_job_run_id"]
    job_run = mw.client("emr-serverless").get_job_run(applicationId=app, jobRunId=run_id)
    assert job_run["jobRun"]["name"] == "orders-2026-03-04"
    assert job_run["jobRun"]["jobDriver"]["sparkSubmit"]["entryPointArguments"] == ["2026-03-04"]
    assert runner.status(config, handle).state == "succeeded"  # moto: SUCCESS at once

    mw.set_emr_serverless_state(app, run_id, "RUNNING")
    assert runner.status(config, handle).state == "running"
    mw.set_emr_serverless_state(app, run_id, "FAILED", "Job failed, ExitCode: 1. OutOfMemory")
    status = runner.status(config, handle)
    assert status.state == "failed" and status.failure is FailureClass.TRANSIENT
    assert "OutOfMemory" in status.message
    mw.set_emr_serverless_state(app, run_id, "FAILED", "AccessDeniedException on s3://code")
    assert runner.status(config, handle).failure is FailureClass.PERMANENT


def test_emr_serverless_unknown_application_is_permanent() -> None:
    with pytest.raises(TriggerError, match="ResourceNotFoundException") as info:
        EmrServerlessRunner().start(
            serverless_config("00fakeapp"), pipeline_id="p", period=mw.DAY, run_id="r"
        )
    assert info.value.failure is FailureClass.PERMANENT


def test_an_invalid_config_mapping_is_permanent_and_a_valid_one_runs() -> None:
    with pytest.raises(TriggerError, match="invalid emr-serverless job config") as info:
        EmrServerlessRunner().start(
            {"applicationId": "a", "jobName": "j"}, pipeline_id="p", period=mw.DAY, run_id="r"
        )
    assert info.value.failure is FailureClass.PERMANENT
    name = mw.glue_job()
    handle = GlueRunner().start({"jobName": name}, pipeline_id="p", period=mw.DAY, run_id="r")
    assert handle.metadata["glue_job_name"] == name


def test_step_function_replay_after_the_execution_ended_reuses_it() -> None:
    machine = mw.passing_machine()
    runner = StepFunctionRunner()
    config = StepFunctionJobConfig(stateMachineArn=machine)
    first = runner.start(config, pipeline_id="p", period=mw.DAY, run_id="p-a1")
    assert mw.wait_done(runner, config, first).state == "succeeded"
    again = runner.start(config, pipeline_id="p", period=mw.DAY, run_id="p-a1")
    assert again.metadata == {**first.metadata, "reused": True}


def test_throttled_polls_keep_polling() -> None:
    # Stubber: moto never throttles.
    for runner_cls, service, method, handle in (
        (EmrRunner, "emr", "describe_step", {"emr_cluster_id": "j-1", "emr_step_id": "s-1"}),
        (
            StepFunctionRunner,
            "stepfunctions",
            "describe_execution",
            {"sfn_execution_arn": "arn:aws:states:us-east-1:123456789012:execution:m:r"},
        ),
        (
            EmrServerlessRunner,
            "emr-serverless",
            "get_job_run",
            {"emr_sl_application_id": "a", "emr_sl_job_run_id": "r"},
        ),
    ):
        client, stub = stubbed(service)
        stub.add_client_error(method, "ThrottlingException", "slow down", 400)
        runner = runner_cls(client_factory={service: client}.__getitem__)
        status = runner.status(None, RunHandle("r", handle))
        assert status.state == "running" and "polling again" in status.message


def test_glue_root_cause_is_best_effort() -> None:
    # Stubber for GetJobRun (moto has no failed runs); the logs are moto's: first no log group at all,
    # then a log with no exception line. Either way the run's own message stands.
    glue, stub = stubbed("glue")
    failed = {
        "JobRun": {
            "Id": "jr_2",
            "JobRunState": "FAILED",
            "ErrorMessage": "Command failed with exit code 1",
        }
    }
    stub.add_response("get_job_run", failed)
    stub.add_response("get_job_run", failed)
    logs = mw.client("logs")
    runner = GlueRunner(client_factory={"glue": glue, "logs": logs}.__getitem__)
    handle = RunHandle("r", {"glue_job_name": "e", "glue_job_run_id": "jr_2"})
    assert runner.status(None, handle).message.endswith("FAILED: Command failed with exit code 1")
    logs.create_log_group(logGroupName="/aws-glue/jobs/error")
    logs.create_log_stream(logGroupName="/aws-glue/jobs/error", logStreamName="jr_2")
    import time

    logs.put_log_events(
        logGroupName="/aws-glue/jobs/error",
        logStreamName="jr_2",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "INFO nothing to see"}],
    )
    status = runner.status(None, handle)
    assert status.message.endswith("FAILED: Command failed with exit code 1")
    assert status.failure is FailureClass.TRANSIENT


def test_client_token_is_the_run_id_or_its_hash() -> None:
    assert client_token("orders-stream-2026-03-04-a1") == "orders-stream-2026-03-04-a1"
    long = "x" * 100
    assert len(client_token(long)) == 64 and client_token(long) != client_token(long + "y")


# ------------------------------------------------------------------------------------ step-function


def test_step_function_start_names_the_execution_after_the_run_and_succeeds() -> None:
    machine = mw.passing_machine()
    runner = StepFunctionRunner()
    config = StepFunctionJobConfig(stateMachineArn=machine, arguments={"date": "${DATE}"})
    handle = runner.start(config, pipeline_id="orders", period=mw.DAY, run_id="orders-a1")

    arn = handle.metadata["sfn_execution_arn"]
    assert arn == execution_arn(machine, "orders-a1")
    described = mw.client("stepfunctions").describe_execution(executionArn=arn)
    assert json.loads(described["input"]) == {"date": "2026-03-04"}
    assert mw.wait_done(runner, config, handle).state == "succeeded"


def test_step_function_replayed_start_reuses_the_first_execution() -> None:
    machine = mw.passing_machine()
    runner = StepFunctionRunner()
    config = StepFunctionJobConfig(stateMachineArn=machine)
    first = runner.start(config, pipeline_id="p", period=mw.DAY, run_id="p-a1")
    second = runner.start(config, pipeline_id="p", period=mw.DAY, run_id="p-a1")
    assert second.metadata["sfn_execution_arn"] == first.metadata["sfn_execution_arn"]
    executions = mw.client("stepfunctions").list_executions(stateMachineArn=machine)
    assert len(executions["executions"]) == 1


def test_step_function_failed_execution_is_classified_from_error_and_cause() -> None:
    runner = StepFunctionRunner()
    denied = mw.failing_machine("denied", "AccessDenied", "no access to s3://raw")
    flaky = mw.failing_machine("flaky", "States.TaskFailed", "executor lost")
    for machine, failure in ((denied, FailureClass.PERMANENT), (flaky, FailureClass.TRANSIENT)):
        config = StepFunctionJobConfig(stateMachineArn=machine)
        handle = runner.start(config, pipeline_id="p", period=mw.DAY, run_id="p-a1")
        status = mw.wait_done(runner, config, handle)
        assert status.state == "failed" and status.failure is failure
        assert "FAILED" in status.message


def test_step_function_unknown_machine_is_permanent() -> None:
    config = StepFunctionJobConfig(
        stateMachineArn=f"arn:aws:states:{mw.REGION}:{mw.ACCOUNT}:stateMachine:nope"
    )
    with pytest.raises(TriggerError, match="StateMachineDoesNotExist") as info:
        StepFunctionRunner().start(config, pipeline_id="p", period=mw.DAY, run_id="r")
    assert info.value.failure is FailureClass.PERMANENT


def test_step_function_timed_out_and_aborted() -> None:
    # Stubber: moto's executions cannot time out on demand.
    sfn, stub = stubbed("stepfunctions")
    arn = f"arn:aws:states:{mw.REGION}:{mw.ACCOUNT}:execution:m:r"
    base = {"executionArn": arn, "stateMachineArn": "arn:aws:states:x", "startDate": 0}
    stub.add_response("describe_execution", {**base, "status": "TIMED_OUT"})
    stub.add_response("describe_execution", {**base, "status": "ABORTED"})
    runner = StepFunctionRunner(client_factory=lambda _s: sfn)
    handle = RunHandle("r", {"sfn_execution_arn": arn})
    assert runner.status(None, handle).failure is FailureClass.TIMEOUT
    assert runner.status(None, handle).failure is FailureClass.TRANSIENT


def test_execution_name_is_safe_and_bounded() -> None:
    assert execution_name("orders-stream-2026-03-04-a1") == "orders-stream-2026-03-04-a1"
    odd = execution_name("orders/stream:2026")
    assert len(odd) <= 80 and "/" not in odd and ":" not in odd
    long = execution_name("p" * 200)
    assert len(long) == 80 and long != execution_name("p" * 199)


# ------------------------------------------------------------------------------------------ lambda


def test_lambda_sync_invoke_sends_the_payload_and_succeeds() -> None:
    name = mw.lambda_function()
    runner = LambdaRunner()
    config = LambdaJobConfig(functionName=name, payload={"date": "${DATE}"})
    handle = runner.start(config, pipeline_id="orders", period=mw.DAY, run_id="r")
    assert handle.metadata["lambda_status"] == "succeeded"
    assert runner.status(config, handle).state == "succeeded"


def test_lambda_async_invoke_is_handed_over() -> None:
    name = mw.lambda_function()
    runner = LambdaRunner()
    config = LambdaJobConfig(functionName=name, invocationType="Event")
    handle = runner.start(config, pipeline_id="p", period=mw.HOUR, run_id="r")
    assert handle.metadata["lambda_status_code"] == 202
    status = runner.status(config, handle)
    assert status.state == "succeeded" and "async" in status.message


@pytest.mark.parametrize(
    ("body", "failure", "text"),
    [
        (
            b'{"errorType": "KeyError", "errorMessage": "par_day"}',
            FailureClass.TRANSIENT,
            "KeyError: par_day",
        ),
        (
            b'{"errorMessage": "2026 Task timed out after 3.00 seconds"}',
            FailureClass.TIMEOUT,
            "timed out",
        ),
        (
            b'{"errorType": "AccessDenied", "errorMessage": "s3"}',
            FailureClass.PERMANENT,
            "AccessDenied",
        ),
        (b"not json", FailureClass.TRANSIENT, "not json"),
    ],
)
def test_lambda_function_error_is_a_job_failure(
    monkeypatch: pytest.MonkeyPatch, body: bytes, failure: FailureClass, text: str
) -> None:
    # moto without Docker echoes the payload; the function error header is set by patching its
    # invoke (TOOLING.md).
    from moto.awslambda_simple.models import LambdaSimpleBackend

    def invoke(
        self: Any,
        function_name: str,
        qualifier: Any,
        payload: Any,
        headers: Any,
        response_headers: Any,
    ) -> bytes:
        response_headers["x-amz-function-error"] = "Unhandled"
        return body

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
    name = mw.lambda_function()
    runner = LambdaRunner()
    config = LambdaJobConfig(functionName=name, payload='{"d": "${DATE}"}')
    handle = runner.start(config, pipeline_id="p", period=mw.DAY, run_id="r")
    status = runner.status(config, handle)
    assert status.state == "failed" and status.failure is failure
    assert text in status.message


def test_lambda_unknown_function_is_permanent() -> None:
    # Stubber: moto's Docker-less Lambda answers any function name; Lambda answers 404.
    lam, stub = stubbed("lambda")
    stub.add_client_error("invoke", "ResourceNotFoundException", "Function not found: nope", 404)
    with pytest.raises(TriggerError, match="ResourceNotFoundException") as info:
        LambdaRunner(client_factory=lambda _s: lam).start(
            LambdaJobConfig(functionName="nope"), pipeline_id="p", period=mw.DAY, run_id="r"
        )
    assert info.value.failure is FailureClass.PERMANENT


def test_lambda_throttled_invoke_is_transient() -> None:
    # Stubber: moto never throttles.
    lam, stub = stubbed("lambda")
    stub.add_client_error("invoke", "TooManyRequestsException", "Rate exceeded", 429)
    runner = LambdaRunner(client_factory=lambda _s: lam)
    with pytest.raises(TriggerError) as info:
        runner.start(LambdaJobConfig(functionName="f"), pipeline_id="p", period=mw.DAY, run_id="r")
    assert info.value.failure is FailureClass.TRANSIENT


# ------------------------------------------------------------------------------------------ common


def test_runner_for_builds_every_aws_runner_lazily_with_options() -> None:
    for job_type, cls in (
        ("glue", GlueRunner),
        ("emr", EmrRunner),
        ("emr-serverless", EmrServerlessRunner),
        ("step-function", StepFunctionRunner),
        ("lambda", LambdaRunner),
    ):
        runner = runner_for(job_type, region="eu-west-1")
        assert isinstance(runner, cls)
        assert runner.client().meta.region_name == "eu-west-1"


def test_endpoint_url_and_session_are_honoured() -> None:
    import boto3  # type: ignore[import-untyped]

    session = boto3.session.Session(region_name="eu-central-1")
    runner = GlueRunner(session=session, endpoint_url="http://127.0.0.1:4566")
    client = runner.client()
    assert client.meta.endpoint_url == "http://127.0.0.1:4566"
    assert client.meta.region_name == "eu-central-1"
    assert runner.client() is client  # built once
    assert "eu-central-1" not in repr(GlueRunner()) and "GlueRunner" in repr(runner)


def test_a_client_that_cannot_be_built_is_permanent(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = AwsRunner(endpoint_url="not a url")
    with pytest.raises(TriggerError, match="cannot build the glue client") as info:
        runner.client("glue")
    assert info.value.failure is FailureClass.PERMANENT


def test_classify_aws_error() -> None:
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError  # type: ignore[import-untyped]

    def client_error(code: str, status: int) -> ClientError:
        return ClientError(
            {
                "Error": {"Code": code, "Message": "m"},
                "ResponseMetadata": {"HTTPStatusCode": status},
            },
            "Op",
        )

    assert classify_aws_error(client_error("ThrottlingException", 400)) is FailureClass.TRANSIENT
    assert classify_aws_error(client_error("Whatever", 503)) is FailureClass.TRANSIENT
    assert classify_aws_error(client_error("Whatever", 429)) is FailureClass.TRANSIENT
    assert classify_aws_error(client_error("AccessDeniedException", 403)) is FailureClass.PERMANENT
    assert classify_aws_error(EndpointConnectionError(endpoint_url="x")) is FailureClass.TRANSIENT
    assert classify_aws_error(NoCredentialsError()) is FailureClass.PERMANENT
    assert describe_aws_error(client_error("X", 400)) == "X: m"
    assert describe_aws_error(NoCredentialsError()).startswith("NoCredentialsError")
