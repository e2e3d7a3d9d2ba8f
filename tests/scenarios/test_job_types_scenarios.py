"""One pipeline per job type through the embedded runtime, with the real trigger runners.

AWS types run against moto; databricks and airflow against loopback servers speaking their REST APIs
(auth checked on every call). Each type reaches JOB_COMPLETED, and JOB_FAILED with the failure class an
on-call engineer needs; a permanent start error is not retried. Time is virtual (the runtime's clock);
the Step Functions runner's polls wait in real time for moto's execution thread.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from botocore.stub import Stubber  # type: ignore[import-untyped]

from interlock.config.models import PipelineConfig
from interlock.events import EventType
from interlock.local.runtime import EmbeddedRuntime
from interlock.ports import VirtualClock
from interlock.store import open_store
from interlock.triggers.airflow import AirflowRunner
from interlock.triggers.databricks import DatabricksRunner
from interlock.triggers.emr import EmrRunner
from interlock.triggers.emr_serverless import EmrServerlessRunner
from interlock.triggers.glue import GlueRunner
from interlock.triggers.lambda_ import LambdaRunner
from interlock.triggers.step_function import StepFunctionRunner
from tests.triggers import moto_world as mw
from tests.triggers.rest_servers import TOKEN, FakeAirflow, FakeDatabricks, dbx_state

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from interlock.events import Event
    from interlock.schedule import Period
    from interlock.triggers.base import JobStatus, RunHandle, TriggerRunner

T0 = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
ENV = {"INTERLOCK_DBX_TOKEN": TOKEN, "INTERLOCK_AIRFLOW_PASSWORD": "pass"}


class Waiting:
    """A runner whose status waits (real time, bounded) while the job is running: moto runs Step
    Functions executions in a thread, which a fast virtual clock would otherwise outrun."""

    def __init__(self, inner: TriggerRunner) -> None:
        self.inner = inner

    def start(self, job_config: Any, *, pipeline_id: str, period: Period, run_id: str) -> RunHandle:
        return self.inner.start(job_config, pipeline_id=pipeline_id, period=period, run_id=run_id)

    def status(self, job_config: Any, handle: RunHandle) -> JobStatus:
        return mw.wait_done(self.inner, job_config, handle)


def config(job: dict[str, Any]) -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "pipeline": {"id": "orders"},
            "schedule": {
                "trigger": {
                    "key": "landed",
                    "check": "equals",
                    "field": "status",
                    "value": "ready",
                },
                "evaluation": {"window": "1h", "interval": "5m"},
            },
            "validation": {
                "rules": [{"key": "landed", "check": "equals", "field": "status", "value": "ready"}]
            },
            # no automatic retries: each scenario follows one attempt
            "job": {"maxRetries": 0, "maxCodeRetries": 0, **job},
        }
    )


def run_pipeline(
    tmp_path: Path,
    job: dict[str, Any],
    runner: TriggerRunner,
    *,
    after_trigger: Callable[[], None] | None = None,
) -> list[Event]:
    """The pipeline's events: sensor ready at T0, a first tick (evaluate + trigger), the hook, then
    three virtual hours."""
    events: list[Event] = []
    clock = VirtualClock(T0)
    with open_store(f"sqlite:///{tmp_path}/s.db", now=lambda: clock.now().timestamp()) as store:
        rt = EmbeddedRuntime.build(
            store,
            clock=clock,
            triggers=lambda _type: runner,
            notifier=events.append,
            watchdog_interval=None,
        )
        store.control.put_config(config(job), now=T0)
        store.control.put_sensor(
            "orders", "landed", {"status": "ready", "date": "2026-03-04"}, now=T0
        )
        rt.tick()
        if after_trigger is not None:
            after_trigger()
        rt.run_until(T0 + timedelta(hours=3))
    return events


def outcome(events: list[Event]) -> tuple[str, str | None]:
    """The run's last job event and its failure class."""
    ends = [
        e
        for e in events
        if e.type in (EventType.JOB_COMPLETED, EventType.JOB_FAILED, EventType.RETRY_EXHAUSTED)
    ]
    assert ends, [e.type.value for e in events]
    last = ends[-1]
    category = last.detail.get("category")
    if last.type is EventType.RETRY_EXHAUSTED:
        category = "permanent" if "permanent failure" in str(last.detail.get("cause")) else category
    return last.type.value, category


def triggered(events: list[Event]) -> int:
    return sum(e.type is EventType.JOB_TRIGGERED for e in events)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from moto import mock_aws

    mw.fake_aws_env(monkeypatch)
    with mock_aws(config=mw.MOTO_CONFIG):
        yield


# -------------------------------------------------------------------------------------------- glue


@pytest.mark.usefixtures("aws")
def test_glue_completes(tmp_path: Path) -> None:
    name = mw.glue_job()
    events = run_pipeline(tmp_path, {"type": "glue", "config": {"jobName": name}}, GlueRunner())
    assert outcome(events) == ("JOB_COMPLETED", None)
    assert triggered(events) == 1


@pytest.mark.usefixtures("aws")
def test_glue_access_denied_fails_permanently(tmp_path: Path) -> None:
    # Stubber: moto's Glue runs succeed at once; a FAILED run with its error message is stubbed.
    glue = mw.client("glue")
    stub = Stubber(glue)
    stub.add_response("start_job_run", {"JobRunId": "jr_1"})
    failed = {
        "Id": "jr_1",
        "JobRunState": "FAILED",
        "ErrorMessage": "AccessDeniedException: s3://raw",
    }
    stub.add_response("get_job_run", {"JobRun": failed})
    stub.activate()
    runner = GlueRunner(client_factory=lambda _s: glue)
    events = run_pipeline(tmp_path, {"type": "glue", "config": {"jobName": "etl"}}, runner)
    assert outcome(events) == ("JOB_FAILED", "permanent")


# --------------------------------------------------------------------------------------------- emr


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(
    ("final", "expected"),
    [("COMPLETED", ("JOB_COMPLETED", None)), ("FAILED", ("JOB_FAILED", "transient"))],
)
def test_emr_step_polled_until_it_ends(
    tmp_path: Path, final: str, expected: tuple[str, str | None]
) -> None:
    cluster = mw.emr_cluster()
    job = {
        "type": "emr",
        "config": {"clusterId": cluster, "stepName": "s", "command": "spark-submit x.py"},
    }

    def finish() -> None:
        # moto keeps the step RUNNING: the first polls see it running, then it ends
        [step] = mw.client("emr").list_steps(ClusterId=cluster)["Steps"]
        assert step["Status"]["State"] == "RUNNING"
        mw.set_emr_step_state(cluster, step["Id"], final, "exit code 1")

    events = run_pipeline(tmp_path, job, EmrRunner(), after_trigger=finish)
    assert outcome(events) == expected


# ---------------------------------------------------------------------------------- emr-serverless


def serverless_job(app: str) -> dict[str, Any]:
    return {
        "type": "emr-serverless",
        "config": {
            "applicationId": app,
            "jobName": "features",
            "executionRoleArn": mw.ROLE,
            "jobDriver": {"sparkSubmit": {"entryPoint": "s3://code/x.py"}},
        },
    }


@pytest.mark.usefixtures("aws")
def test_emr_serverless_completes(tmp_path: Path) -> None:
    app = mw.emr_serverless_app()
    events = run_pipeline(tmp_path, serverless_job(app), EmrServerlessRunner())
    assert outcome(events) == ("JOB_COMPLETED", None)


@pytest.mark.usefixtures("aws")
def test_emr_serverless_access_denied_fails_permanently(tmp_path: Path) -> None:
    app = mw.emr_serverless_app()

    def deny() -> None:
        # moto reports SUCCESS at once: the run is moved to FAILED before the first poll
        [run] = mw.client("emr-serverless").list_job_runs(applicationId=app)["jobRuns"]
        mw.set_emr_serverless_state(
            app, run["id"], "FAILED", "AccessDeniedException: s3://code/x.py"
        )

    events = run_pipeline(tmp_path, serverless_job(app), EmrServerlessRunner(), after_trigger=deny)
    assert outcome(events) == ("JOB_FAILED", "permanent")


# ----------------------------------------------------------------------------------- step-function


@pytest.mark.usefixtures("aws")
def test_step_function_completes_and_fails_transiently(tmp_path: Path) -> None:
    ok = mw.passing_machine()
    job = {"type": "step-function", "config": {"stateMachineArn": ok}}
    (tmp_path / "ok").mkdir()
    events = run_pipeline(tmp_path / "ok", job, Waiting(StepFunctionRunner()))
    assert outcome(events) == ("JOB_COMPLETED", None)
    executions = mw.client("stepfunctions").list_executions(stateMachineArn=ok)["executions"]
    assert len(executions) == 1 and executions[0]["name"].startswith("orders-")

    flaky = mw.failing_machine("flaky", "States.TaskFailed", "executor lost")
    (tmp_path / "bad").mkdir()
    job = {"type": "step-function", "config": {"stateMachineArn": flaky}}
    events = run_pipeline(tmp_path / "bad", job, Waiting(StepFunctionRunner()))
    assert outcome(events) == ("JOB_FAILED", "transient")


# ------------------------------------------------------------------------------------------ lambda


@pytest.mark.usefixtures("aws")
def test_lambda_completes(tmp_path: Path) -> None:
    name = mw.lambda_function()
    events = run_pipeline(
        tmp_path, {"type": "lambda", "config": {"functionName": name}}, LambdaRunner()
    )
    assert outcome(events) == ("JOB_COMPLETED", None)


@pytest.mark.usefixtures("aws")
def test_lambda_function_error_fails_the_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # moto without Docker echoes the payload; the function error is set by patching its invoke.
    from moto.awslambda_simple.models import LambdaSimpleBackend

    def invoke(
        self: Any, name: Any, qualifier: Any, body: Any, headers: Any, response_headers: Any
    ) -> bytes:
        response_headers["x-amz-function-error"] = "Unhandled"
        return b'{"errorType": "KeyError", "errorMessage": "par_day"}'

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
    name = mw.lambda_function()
    events = run_pipeline(
        tmp_path, {"type": "lambda", "config": {"functionName": name}}, LambdaRunner()
    )
    assert outcome(events) == ("JOB_FAILED", "transient")
    [failed] = [e for e in events if e.type is EventType.JOB_FAILED]
    assert "KeyError: par_day" in failed.message


# ------------------------------------------------------------------------------- databricks/airflow


def resolver(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


@pytest.fixture
def dbx() -> Iterator[tuple[FakeDatabricks, int]]:
    api = FakeDatabricks(
        jobs={
            42: [dbx_state("PENDING"), dbx_state("RUNNING"), dbx_state("TERMINATED", "SUCCESS")],
            7: [dbx_state("RUNNING"), dbx_state("TERMINATED", "TIMEDOUT", "timed out after 1h")],
        }
    )
    httpd, thread, port = api.serve()
    yield api, port
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.mark.parametrize(
    ("job_id", "expected"), [(42, ("JOB_COMPLETED", None)), (7, ("JOB_FAILED", "timeout"))]
)
def test_databricks(
    tmp_path: Path, dbx: tuple[FakeDatabricks, int], job_id: int, expected: Any
) -> None:
    api, port = dbx
    job = {
        "type": "databricks",
        "config": {
            "workspaceUrl": f"http://dbx.test:{port}",
            "jobId": job_id,
            "auth": {"bearer": "${INTERLOCK_DBX_TOKEN}"},
        },
    }
    runner = DatabricksRunner(allow_private=True, env=ENV, resolver=resolver)
    events = run_pipeline(tmp_path, job, runner)
    assert outcome(events) == expected
    assert api.unauthenticated == 0 and len(api.calls) >= 3  # start + polls, each with auth


@pytest.fixture
def airflow() -> Iterator[tuple[FakeAirflow, int]]:
    api = FakeAirflow(
        dags={"orders": ["queued", "running", "success"], "broken": ["running", "failed"]}
    )
    httpd, thread, port = api.serve()
    yield api, port
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def airflow_job(port: int, dag: str) -> dict[str, Any]:
    return {
        "type": "airflow",
        "config": {
            "url": f"http://airflow.test:{port}",
            "dagId": dag,
            "auth": {"username": "airflow", "password": "${INTERLOCK_AIRFLOW_PASSWORD}"},
        },
    }


@pytest.mark.parametrize(
    ("dag", "expected"),
    [("orders", ("JOB_COMPLETED", None)), ("broken", ("JOB_FAILED", "transient"))],
)
def test_airflow(tmp_path: Path, airflow: tuple[FakeAirflow, int], dag: str, expected: Any) -> None:
    api, port = airflow
    runner = AirflowRunner(allow_private=True, env=ENV, resolver=resolver)
    events = run_pipeline(tmp_path, airflow_job(port, dag), runner)
    assert outcome(events) == expected
    assert api.unauthenticated == 0 and len(api.triggered) == 1


def test_airflow_bad_credentials_are_not_retried(
    tmp_path: Path, airflow: tuple[FakeAirflow, int]
) -> None:
    api, port = airflow
    runner = AirflowRunner(
        allow_private=True, env={"INTERLOCK_AIRFLOW_PASSWORD": "old"}, resolver=resolver
    )
    events = run_pipeline(tmp_path, airflow_job(port, "orders"), runner)
    assert outcome(events) == ("RETRY_EXHAUSTED", "permanent")
    assert len(api.calls) == 1 and api.unauthenticated == 1  # one 401, no infrastructure retries
    assert triggered(events) == 0
