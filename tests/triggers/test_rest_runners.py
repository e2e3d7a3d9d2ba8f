"""The databricks and airflow runners against loopback servers that speak their REST APIs.

The servers check the Authorization header on every call, answer 401/403/404/429/500 or hold a call
past the client's timeout when told to, and move a run's state one step per poll.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from interlock.config.models import AirflowJobConfig, DatabricksJobConfig
from interlock.triggers import FailureClass, RunHandle, TriggerError, runner_for
from interlock.triggers.airflow import AirflowRunner, logical_date
from interlock.triggers.databricks import DatabricksRunner, idempotency_token
from interlock.triggers.http import HttpRequest, HttpResponse
from tests.triggers import moto_world as mw
from tests.triggers.rest_servers import (
    HOLD,
    TOKEN,
    FakeAirflow,
    FakeApi,
    FakeDatabricks,
    dbx_state,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

ENV = {"INTERLOCK_DBX_TOKEN": TOKEN, "INTERLOCK_AIRFLOW_PASSWORD": "pass"}
SUCCESS = dbx_state("TERMINATED", "SUCCESS")


def serve(api: FakeApi) -> Iterator[int]:
    httpd, thread, port = api.serve()
    try:
        yield port
    finally:
        api.released.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def dbx() -> Iterator[tuple[FakeDatabricks, int]]:
    api = FakeDatabricks(
        jobs={
            42: [dbx_state("PENDING"), dbx_state("RUNNING"), SUCCESS],
            7: [
                dbx_state("RUNNING"),
                dbx_state("TERMINATED", "FAILED", "Notebook raised ValueError"),
            ],
        }
    )
    for port in serve(api):
        yield api, port


@pytest.fixture
def airflow() -> Iterator[tuple[FakeAirflow, int]]:
    api = FakeAirflow(
        dags={"orders": ["queued", "running", "success"], "broken": ["running", "failed"]}
    )
    for port in serve(api):
        yield api, port


def resolver(host: str, port: int) -> list[str]:
    # The test hosts resolve to the loopback servers (nothing leaves the machine).
    assert host.endswith(".test")
    return ["127.0.0.1"]


def dbx_runner(**options: Any) -> DatabricksRunner:
    options.setdefault("allow_private", True)
    return DatabricksRunner(env=ENV, resolver=resolver, **options)


def airflow_runner(**options: Any) -> AirflowRunner:
    options.setdefault("allow_private", True)
    return AirflowRunner(env=ENV, resolver=resolver, **options)


def dbx_config(port: int, job: int = 42, **extra: Any) -> DatabricksJobConfig:
    return DatabricksJobConfig.model_validate(
        {
            "workspaceUrl": f"http://dbx.test:{port}/",
            "jobId": job,
            "auth": {"bearer": "${INTERLOCK_DBX_TOKEN}"},
            "arguments": {"date": "${DATE}"},
            "timeout": 0.5,
            **extra,
        }
    )


def airflow_config(port: int, dag: str = "orders", **extra: Any) -> AirflowJobConfig:
    return AirflowJobConfig.model_validate(
        {
            "url": f"http://airflow.test:{port}",
            "dagId": dag,
            "auth": {"username": "airflow", "password": "${INTERLOCK_AIRFLOW_PASSWORD}"},
            "body": {"period": "${PERIOD}"},
            "timeout": 0.5,
            **extra,
        }
    )


def poll_all(runner: Any, config: Any, handle: RunHandle, times: int) -> list[str]:
    return [runner.status(config, handle).state for _ in range(times)]


# -------------------------------------------------------------------------------------- databricks


def test_databricks_runs_the_job_and_every_call_carries_auth(
    dbx: tuple[FakeDatabricks, int],
) -> None:
    api, port = dbx
    runner = dbx_runner()
    config = dbx_config(port)

    handle = runner.start(config, pipeline_id="orders", period=mw.DAY, run_id="orders-a1")

    assert api.started == [
        {"job_id": 42, "idempotency_token": "orders-a1", "notebook_params": {"date": "2026-03-04"}}
    ]
    # a new runner (Interlock restarted) polls from the stored handle alone
    stored = RunHandle(handle.run_id, json.loads(json.dumps(handle.metadata)))
    states = poll_all(dbx_runner(), config, stored, 3)
    assert states == ["running", "running", "succeeded"]
    assert api.unauthenticated == 0
    assert len(api.calls) == 4
    assert {c.authorization for c in api.calls} == {f"Bearer {TOKEN}"}


def test_databricks_replayed_start_gets_the_first_run(dbx: tuple[FakeDatabricks, int]) -> None:
    api, port = dbx
    runner = dbx_runner()
    first = runner.start(dbx_config(port), pipeline_id="p", period=mw.DAY, run_id="p-a1")
    second = runner.start(dbx_config(port), pipeline_id="p", period=mw.DAY, run_id="p-a1")
    assert first.metadata["databricks_run_id"] == second.metadata["databricks_run_id"]
    assert len(api.started) == 1


def test_databricks_failed_run_is_a_job_failure_with_its_message(
    dbx: tuple[FakeDatabricks, int],
) -> None:
    _, port = dbx
    runner = dbx_runner()
    config = dbx_config(port, job=7)
    handle = runner.start(config, pipeline_id="p", period=mw.DAY, run_id="r")
    assert runner.status(config, handle).state == "running"
    status = runner.status(config, handle)
    assert status.state == "failed" and status.failure is FailureClass.TRANSIENT
    assert "Notebook raised ValueError" in status.message and "https://dbx/run/" in status.message


@pytest.mark.parametrize(
    ("state", "state_name", "failure"),
    [
        (dbx_state("TERMINATED", "TIMEDOUT", "timed out"), "failed", FailureClass.TIMEOUT),
        (dbx_state("TERMINATED", "CANCELED", "by user"), "failed", FailureClass.TRANSIENT),
        (dbx_state("SKIPPED", "", "upstream skipped"), "failed", FailureClass.PERMANENT),
        (dbx_state("SKIPPED", "", "max concurrent runs reached"), "failed", FailureClass.TRANSIENT),
        (
            dbx_state("INTERNAL_ERROR", "FAILED", "Notebook not found: /x"),
            "failed",
            FailureClass.PERMANENT,
        ),
        (dbx_state("INTERNAL_ERROR", "", "cluster lost"), "failed", FailureClass.TRANSIENT),
        (
            dbx_state("TERMINATED", "MAXIMUM_CONCURRENT_RUNS_REACHED"),
            "failed",
            FailureClass.TRANSIENT,
        ),
        (dbx_state("SOMETHING_NEW"), "running", None),
    ],
)
def test_databricks_state_mapping(
    dbx: tuple[FakeDatabricks, int], state: dict[str, str], state_name: str, failure: Any
) -> None:
    api, port = dbx
    api.jobs[5] = [state]
    runner = dbx_runner()
    handle = runner.start(dbx_config(port, job=5), pipeline_id="p", period=mw.DAY, run_id="r")
    status = runner.status(dbx_config(port, job=5), handle)
    assert (status.state, status.failure) == (state_name, failure)


@pytest.mark.parametrize(
    ("scripted", "failure", "text"),
    [
        (401, FailureClass.PERMANENT, "401"),
        (403, FailureClass.PERMANENT, "403"),
        (404, FailureClass.PERMANENT, "404"),
        (429, FailureClass.TRANSIENT, "429"),
        (500, FailureClass.TRANSIENT, "500"),
        (HOLD, FailureClass.TRANSIENT, "timed out"),
    ],
)
def test_databricks_start_errors_are_classified(
    dbx: tuple[FakeDatabricks, int], scripted: Any, failure: FailureClass, text: str
) -> None:
    api, port = dbx
    api.fail_next = [scripted]
    with pytest.raises(TriggerError, match=text) as info:
        dbx_runner().start(dbx_config(port), pipeline_id="p", period=mw.DAY, run_id="r")
    assert info.value.failure is failure
    assert api.started == []


def test_databricks_wrong_token_and_unknown_job_are_permanent(
    dbx: tuple[FakeDatabricks, int],
) -> None:
    api, port = dbx
    runner = DatabricksRunner(
        env={"INTERLOCK_DBX_TOKEN": "stale"}, resolver=resolver, allow_private=True
    )
    with pytest.raises(TriggerError, match="401") as info:
        runner.start(dbx_config(port), pipeline_id="p", period=mw.DAY, run_id="r")
    assert info.value.failure is FailureClass.PERMANENT and api.unauthenticated == 1
    with pytest.raises(TriggerError, match="does not exist") as info:
        dbx_runner().start(dbx_config(port, job=999), pipeline_id="p", period=mw.DAY, run_id="r")
    assert info.value.failure is FailureClass.PERMANENT


@pytest.mark.parametrize(
    ("scripted", "state", "failure"),
    [
        (500, "running", None),
        (429, "running", None),
        (HOLD, "running", None),
        (401, "failed", FailureClass.PERMANENT),
        (403, "failed", FailureClass.PERMANENT),
        (404, "failed", FailureClass.PERMANENT),
    ],
)
def test_databricks_poll_errors_keep_polling_or_fail_permanently(
    dbx: tuple[FakeDatabricks, int], scripted: Any, state: str, failure: Any
) -> None:
    api, port = dbx
    runner = dbx_runner()
    config = dbx_config(port)
    handle = runner.start(config, pipeline_id="p", period=mw.DAY, run_id="r")
    api.fail_next = [scripted]
    status = runner.status(config, handle)
    assert (status.state, status.failure) == (state, failure)
    if state == "running":
        assert "polling again" in status.message
        # the run is still there: the next polls go on (PENDING -> RUNNING -> SUCCESS)
        assert poll_all(runner, config, handle, 3)[-1] == "succeeded"


def test_databricks_poll_of_an_unknown_run_is_permanent(dbx: tuple[FakeDatabricks, int]) -> None:
    _, port = dbx
    handle = RunHandle(
        "r",
        {
            "databricks_workspace_url": f"http://dbx.test:{port}",
            "databricks_run_id": "777",
            "pipeline": "p",
            "period": "2026-03-04",
        },
    )
    status = dbx_runner().status(dbx_config(port), handle)
    assert status.failure is FailureClass.PERMANENT and "does not exist" in status.message
    bad = dbx_runner().status(dbx_config(port), RunHandle("r", {}))
    assert bad.failure is FailureClass.PERMANENT


def test_databricks_ssrf_guard_refuses_loopback_without_allow_private(
    dbx: tuple[FakeDatabricks, int],
) -> None:
    api, port = dbx
    with pytest.raises(TriggerError, match="SSRF") as info:
        dbx_runner(allow_private=False).start(
            dbx_config(port), pipeline_id="p", period=mw.DAY, run_id="r"
        )
    assert info.value.failure is FailureClass.PERMANENT
    assert api.calls == []


def test_databricks_templated_job_id_must_be_numeric(dbx: tuple[FakeDatabricks, int]) -> None:
    _, port = dbx
    config = dbx_config(port, jobId="${INTERLOCK_JOB}")
    runner = DatabricksRunner(
        env={**ENV, "INTERLOCK_JOB": "abc"}, resolver=resolver, allow_private=True
    )
    with pytest.raises(TriggerError, match="not a numeric job id") as info:
        runner.start(config, pipeline_id="p", period=mw.DAY, run_id="r")
    assert info.value.failure is FailureClass.PERMANENT


def test_databricks_token_from_a_secret(dbx: tuple[FakeDatabricks, int]) -> None:
    api, port = dbx
    read: list[str] = []

    def secrets(secret_id: str) -> str:
        read.append(secret_id)
        return json.dumps({"token": TOKEN})

    runner = DatabricksRunner(resolver=resolver, allow_private=True, secrets=secrets)
    config = dbx_config(port, auth={"secret": "prod/databricks"})
    handle = runner.start(config, pipeline_id="p", period=mw.DAY, run_id="r")
    assert poll_all(runner, config, handle, 3)[-1] == "succeeded"
    assert read == ["prod/databricks"] * 4  # read at every call: a rotated secret is picked up
    assert api.unauthenticated == 0


def test_idempotency_token_is_bounded() -> None:
    assert idempotency_token("orders-a1") == "orders-a1"
    assert len(idempotency_token("x" * 100)) == 64


# ----------------------------------------------------------------------------------------- airflow


def test_airflow_triggers_a_dag_run_and_every_call_carries_basic_auth(
    airflow: tuple[FakeAirflow, int],
) -> None:
    api, port = airflow
    runner = airflow_runner()
    config = airflow_config(port)
    handle = runner.start(config, pipeline_id="orders", period=mw.HOUR, run_id="orders-a1")

    assert api.triggered == [
        (
            "orders",
            {
                "dag_run_id": "orders-a1",
                "logical_date": "2026-03-04T07:00:00Z",
                "conf": {"period": "2026-03-04T07"},
            },
        )
    ]
    stored = RunHandle(handle.run_id, json.loads(json.dumps(handle.metadata)))
    assert poll_all(airflow_runner(), config, stored, 3) == ["running", "running", "succeeded"]
    assert api.unauthenticated == 0
    assert {c.authorization for c in api.calls} == {api.authorization}
    assert {c.path.split("/")[2] for c in api.calls} == {"v1"}


def test_airflow_3_uses_api_v2_with_a_bearer_token(airflow: tuple[FakeAirflow, int]) -> None:
    api, port = airflow
    api.authorization = f"Bearer {TOKEN}"
    config = airflow_config(port, apiVersion="v2", auth={"bearer": "${INTERLOCK_DBX_TOKEN}"})
    runner = airflow_runner()
    handle = runner.start(config, pipeline_id="p", period=mw.DAY, run_id="p-a1")
    assert poll_all(runner, config, handle, 3)[-1] == "succeeded"
    assert {c.path.split("/")[2] for c in api.calls} == {"v2"}
    assert api.unauthenticated == 0


def test_airflow_replayed_start_reuses_the_run(airflow: tuple[FakeAirflow, int]) -> None:
    api, port = airflow
    runner = airflow_runner()
    first = runner.start(airflow_config(port), pipeline_id="p", period=mw.DAY, run_id="p-a1")
    again = runner.start(airflow_config(port), pipeline_id="p", period=mw.DAY, run_id="p-a1")
    assert again.metadata == first.metadata
    assert len(api.triggered) == 1 and api.cleared == []


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_airflow_rerun_of_a_date_follows_a_run_still_going(
    airflow: tuple[FakeAirflow, int], version: str
) -> None:
    # Airflow 2 keeps one DAG run per logical date: a rerun (a new run id) gets 409 Conflict.
    api, port = airflow
    api.authorization = f"Bearer {TOKEN}"
    config = airflow_config(port, apiVersion=version, auth={"bearer": "${INTERLOCK_DBX_TOKEN}"})
    runner = airflow_runner()
    runner.start(config, pipeline_id="p", period=mw.DAY, run_id="p-a1")
    rerun = runner.start(config, pipeline_id="p", period=mw.DAY, run_id="p-a2")
    assert rerun.run_id == "p-a2"
    assert rerun.metadata["airflow_dag_run_id"] == "p-a1"  # followed, not started twice
    assert len(api.triggered) == 1 and api.cleared == []
    assert poll_all(runner, config, rerun, 3) == ["running", "running", "succeeded"]


def test_airflow_rerun_of_a_finished_date_clears_that_run(
    airflow: tuple[FakeAirflow, int],
) -> None:
    api, port = airflow
    runner = airflow_runner()
    config = airflow_config(port)
    first = runner.start(config, pipeline_id="p", period=mw.DAY, run_id="p-a1")
    assert poll_all(runner, config, first, 3)[-1] == "succeeded"

    rerun = runner.start(config, pipeline_id="p", period=mw.DAY, run_id="p-a2")
    assert api.cleared == [("orders", "p-a1")]
    assert rerun.metadata["airflow_dag_run_id"] == "p-a1"
    # the cleared run runs its script again
    assert poll_all(runner, config, rerun, 3) == ["running", "running", "succeeded"]
    assert len(api.triggered) == 1
    assert {c.authorization for c in api.calls} == {api.authorization}


def test_airflow_409_without_a_run_to_take_over_is_permanent(
    airflow: tuple[FakeAirflow, int],
) -> None:
    api, port = airflow
    api.fail_next = [409]  # Conflict, yet neither the run id nor the date has a run
    with pytest.raises(TriggerError, match="no run for logical date") as info:
        airflow_runner().start(airflow_config(port), pipeline_id="p", period=mw.DAY, run_id="p-a2")
    assert info.value.failure is FailureClass.PERMANENT


def test_airflow_409_then_a_failing_lookup_is_transient(airflow: tuple[FakeAirflow, int]) -> None:
    api, port = airflow
    api.fail_next = [409, 503]
    with pytest.raises(TriggerError) as info:
        airflow_runner().start(airflow_config(port), pipeline_id="p", period=mw.DAY, run_id="p-a2")
    assert info.value.failure is FailureClass.TRANSIENT


def test_airflow_failed_dag_run_is_a_transient_job_failure_naming_the_failed_tasks(
    airflow: tuple[FakeAirflow, int],
) -> None:
    api, port = airflow
    api.failed_tasks["broken"] = ["load_orders", "check_counts"]
    runner = airflow_runner()
    config = airflow_config(port, dag="broken")
    handle = runner.start(config, pipeline_id="p", period=mw.DAY, run_id="r")
    assert runner.status(config, handle).state == "running"
    status = runner.status(config, handle)
    assert status.state == "failed" and status.failure is FailureClass.TRANSIENT
    assert "failed tasks check_counts, load_orders" in status.message
    assert "extract" not in status.message


def test_airflow_failed_run_whose_tasks_cannot_be_listed_still_fails(
    airflow: tuple[FakeAirflow, int],
) -> None:
    api, port = airflow
    runner = airflow_runner()
    config = airflow_config(port, dag="broken")
    handle = runner.start(config, pipeline_id="p", period=mw.DAY, run_id="r")
    runner.status(config, handle)
    api.calls.clear()
    # the run poll answers, the task listing fails: still a failed job, with the generic hint
    original = api.handle

    def no_task_list(method: str, path: str, query: Any, body: Any) -> tuple[int, Any]:
        if path.endswith("/taskInstances"):
            return 500, {"title": "boom"}
        return original(method, path, query, body)

    api.handle = no_task_list  # type: ignore[method-assign]
    status = runner.status(config, handle)
    assert status.state == "failed" and status.failure is FailureClass.TRANSIENT
    assert "see the failed task's log in Airflow" in status.message
    assert [c.path.rsplit("/", 1)[-1] for c in api.calls] == ["r", "taskInstances"]


def test_rest_answers_are_read_up_to_8_mib_and_no_further(
    airflow: tuple[FakeAirflow, int],
) -> None:
    api, port = airflow
    runner = airflow_runner()
    config = airflow_config(port)
    api.pad = 200 * 1024  # over the http runner's 64 KB: a large run's answer is still read whole
    handle = runner.start(config, pipeline_id="p", period=mw.DAY, run_id="r")
    assert runner.status(config, handle).state == "running"
    api.pad = 8 * 1024 * 1024  # over the bound: refused, transient (the poll keeps trying)
    status = runner.status(config, handle)
    assert status.state == "running" and "over 8 MiB" in status.message


@pytest.mark.parametrize(
    ("scripted", "failure"),
    [
        (401, FailureClass.PERMANENT),
        (403, FailureClass.PERMANENT),
        (404, FailureClass.PERMANENT),
        (429, FailureClass.TRANSIENT),
        (500, FailureClass.TRANSIENT),
        (HOLD, FailureClass.TRANSIENT),
    ],
)
def test_airflow_start_errors_are_classified(
    airflow: tuple[FakeAirflow, int], scripted: Any, failure: FailureClass
) -> None:
    api, port = airflow
    api.fail_next = [scripted]
    with pytest.raises(TriggerError) as info:
        airflow_runner().start(airflow_config(port), pipeline_id="p", period=mw.DAY, run_id="r")
    assert info.value.failure is failure
    assert api.triggered == []


def test_airflow_unknown_dag_and_wrong_password_are_permanent(
    airflow: tuple[FakeAirflow, int],
) -> None:
    api, port = airflow
    with pytest.raises(TriggerError, match="404") as info:
        airflow_runner().start(
            airflow_config(port, dag="nope"), pipeline_id="p", period=mw.DAY, run_id="r"
        )
    assert info.value.failure is FailureClass.PERMANENT
    runner = AirflowRunner(
        env={"INTERLOCK_AIRFLOW_PASSWORD": "old"}, resolver=resolver, allow_private=True
    )
    with pytest.raises(TriggerError, match="401") as info:
        runner.start(airflow_config(port), pipeline_id="p", period=mw.DAY, run_id="r")
    assert info.value.failure is FailureClass.PERMANENT and api.unauthenticated == 1


@pytest.mark.parametrize(
    ("scripted", "state", "failure"),
    [
        (500, "running", None),
        (HOLD, "running", None),
        (401, "failed", FailureClass.PERMANENT),
        (404, "failed", FailureClass.PERMANENT),
    ],
)
def test_airflow_poll_errors(
    airflow: tuple[FakeAirflow, int], scripted: Any, state: str, failure: Any
) -> None:
    api, port = airflow
    runner = airflow_runner()
    config = airflow_config(port)
    handle = runner.start(config, pipeline_id="p", period=mw.DAY, run_id="r")
    api.fail_next = [scripted]
    status = runner.status(config, handle)
    assert (status.state, status.failure) == (state, failure)


def test_airflow_handle_without_run_fails_permanently(airflow: tuple[FakeAirflow, int]) -> None:
    _, port = airflow
    status = airflow_runner().status(airflow_config(port), RunHandle("r", {}))
    assert status.failure is FailureClass.PERMANENT


def test_logical_date_is_the_period_start_in_utc() -> None:
    assert logical_date(mw.DAY) == "2026-03-04T00:00:00Z"
    assert logical_date(mw.HOUR) == "2026-03-04T07:00:00Z"


# ------------------------------------------------------------------------------ auth from AWS/env


def test_basic_auth_from_a_secrets_manager_secret(
    airflow: tuple[FakeAirflow, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Real moto Secrets Manager: the default secret reader builds a boto3 client.
    from moto import mock_aws

    api, port = airflow
    mw.fake_aws_env(monkeypatch)
    with mock_aws():
        mw.client("secretsmanager").create_secret(
            Name="airflow/api", SecretString=json.dumps({"username": "airflow", "password": "pass"})
        )
        runner = airflow_runner(region=mw.REGION)
        config = airflow_config(port, auth={"secret": "airflow/api"})
        handle = runner.start(config, pipeline_id="p", period=mw.DAY, run_id="r")
        assert poll_all(runner, config, handle, 3)[-1] == "succeeded"
        with pytest.raises(TriggerError, match="ResourceNotFoundException") as info:
            runner.start(
                airflow_config(port, auth={"secret": "missing"}),
                pipeline_id="p",
                period=mw.DAY,
                run_id="r2",
            )
        assert info.value.failure is FailureClass.PERMANENT
    assert api.unauthenticated == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain-token", "Bearer plain-token"),
        ('{"token": "t"}', "Bearer t"),
        ('{"username": "u", "password": "p"}', "Basic dTpw"),
    ],
)
def test_secret_shapes(airflow: tuple[FakeAirflow, int], value: str, expected: str) -> None:
    api, port = airflow
    api.authorization = expected
    runner = airflow_runner(secrets=lambda _id: value)
    runner.start(
        airflow_config(port, auth={"secret": "s"}), pipeline_id="p", period=mw.DAY, run_id="r"
    )
    assert api.unauthenticated == 0


@pytest.mark.parametrize("value", ["", '{"user": "x"}'])
def test_unusable_secrets_are_permanent(airflow: tuple[FakeAirflow, int], value: str) -> None:
    _, port = airflow
    runner = airflow_runner(secrets=lambda _id: value)
    with pytest.raises(TriggerError) as info:
        runner.start(
            airflow_config(port, auth={"secret": "s"}), pipeline_id="p", period=mw.DAY, run_id="r"
        )
    assert info.value.failure is FailureClass.PERMANENT


def test_headers_authorization_is_used_without_auth(airflow: tuple[FakeAirflow, int]) -> None:
    api, port = airflow
    api.authorization = f"Bearer {TOKEN}"
    config = airflow_config(
        port, auth=None, headers={"Authorization": "Bearer ${INTERLOCK_DBX_TOKEN}"}
    )
    runner = airflow_runner()
    handle = runner.start(config, pipeline_id="p", period=mw.DAY, run_id="r")
    assert poll_all(runner, config, handle, 3)[-1] == "succeeded"
    assert api.unauthenticated == 0


def test_runner_for_builds_the_rest_runners() -> None:
    assert isinstance(runner_for("databricks", allow_private=True), DatabricksRunner)
    assert isinstance(runner_for("airflow"), AirflowRunner)
    assert "allow_private=False" in repr(runner_for("airflow"))


class CannedTransport:
    """Answers every request with one canned response (no socket)."""

    def __init__(self, status: int, body: bytes) -> None:
        self.response = HttpResponse(status, body)

    def send(self, request: HttpRequest, *, addresses: Any, timeout: float) -> HttpResponse:
        return self.response


def test_a_body_that_is_not_json_is_transient() -> None:
    runner = DatabricksRunner(
        transport=CannedTransport(200, b"<html>maintenance</html>"),
        resolver=lambda _h, _p: ["93.184.215.14"],
        env=ENV,
    )
    config = dbx_config(443, workspaceUrl="https://dbx.example.com")
    with pytest.raises(TriggerError, match="not JSON") as info:
        runner.start(config, pipeline_id="p", period=mw.DAY, run_id="r")
    assert info.value.failure is FailureClass.TRANSIENT


def test_a_run_id_that_is_not_a_number_is_transient() -> None:
    runner = DatabricksRunner(
        transport=CannedTransport(200, b'{"run_id": "abc"}'),
        resolver=lambda _h, _p: ["93.184.215.14"],
        env=ENV,
    )
    config = dbx_config(443, workspaceUrl="https://dbx.example.com")
    with pytest.raises(TriggerError, match="without a numeric run_id") as info:
        runner.start(config, pipeline_id="p", period=mw.DAY, run_id="r")
    assert info.value.failure is FailureClass.TRANSIENT


def test_a_handle_without_a_readable_period_fails_permanently() -> None:
    runner = DatabricksRunner(transport=CannedTransport(200, b"{}"), env=ENV)
    handle = RunHandle(
        "r",
        {
            "databricks_workspace_url": "https://dbx.example.com",
            "databricks_run_id": "1",
            "period": "x",
        },
    )
    status = runner.status(dbx_config(443, workspaceUrl="https://dbx.example.com"), handle)
    assert status.failure is FailureClass.PERMANENT and "no readable period" in status.message


def test_airflow_trigger_answer_without_a_run_id_is_transient() -> None:
    runner = AirflowRunner(
        transport=CannedTransport(200, b'{"state": "queued"}'),
        resolver=lambda _h, _p: ["93.184.215.14"],
        env=ENV,
    )
    config = airflow_config(443, url="https://airflow.example.com")
    with pytest.raises(TriggerError, match="without a dag_run_id") as info:
        runner.start(config, pipeline_id="p", period=mw.DAY, run_id="r")
    assert info.value.failure is FailureClass.TRANSIENT
