"""A whole run on AWS, under moto, through the six Lambda handlers (issue 12's "end to end")."""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import boto3  # type: ignore[import-untyped]
import pytest
from moto import mock_aws

from interlock.alerts.fake_slack import FakeSlack
from interlock.cli import main as cli
from interlock.events import EventType
from interlock.local.runtime import EmbeddedRuntime
from interlock.ports import VirtualClock
from interlock.store.factory import open_store
from interlock.triggers.http import HttpRunner
from tests.aws.conftest import MOTO_CONFIG, REGION, set_aws_env
from tests.aws.harness import ENV, STORE_URL, AwsWorld, FakeContext, check_grants

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

PID = "orders"
TODAY = datetime.now(UTC).strftime("%Y-%m-%d")


class JobServer:
    """A local HTTP endpoint standing in for the job a pipeline triggers; records each call."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                server.calls.append({"path": self.path, "body": self.rfile.read(length).decode()})
                self.send_response(202)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
                """Quiet."""

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/run"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def pipeline_yaml(url: str, pid: str = PID) -> str:
    return f"""
pipeline:
  id: {pid}
schedule:
  trigger: {{key: upstream-complete, check: equals, field: status, value: ready}}
  evaluation: {{window: 10m, interval: 1m}}
sla:
  deadline: "23:59"
  expectedDuration: 5m
validation:
  trigger: ALL
  rules:
    - {{key: upstream-complete, check: equals, field: status, value: ready}}
    - {{key: row-count, check: gte, field: count, value: 1000}}
job:
  type: http
  config: {{url: "{url}", method: POST}}
"""


@pytest.fixture
def job() -> Iterator[JobServer]:
    server = JobServer()
    yield server
    server.stop()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, slack: FakeSlack) -> Iterator[AwsWorld]:
    set_aws_env(monkeypatch)
    with mock_aws(config=MOTO_CONFIG):
        built = AwsWorld(
            monkeypatch,
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_CHANNEL_ID="#data-alerts",
            SLACK_BASE_URL=slack.url,
        )
        yield built
        check_grants(built)


def push(tmp_path: Path, url: str, pid: str = PID) -> None:
    folder = tmp_path / "pipelines"
    folder.mkdir(exist_ok=True)
    (folder / f"{pid}.yaml").write_text(pipeline_yaml(url, pid))
    assert cli(["config", "push", str(folder), "--store", STORE_URL]) == 0


def produce(pid: str = PID) -> None:
    """A producer writes sensors with plain boto3, as the quickstart shows: flat, then data map."""
    table = boto3.resource("dynamodb", region_name=REGION).Table(f"{ENV}-interlock-control")
    table.put_item(Item={"PK": f"PIPELINE#{pid}", "SK": "SENSOR#row-count", "count": 15432})
    table.put_item(
        Item={
            "PK": f"PIPELINE#{pid}",
            "SK": "SENSOR#upstream-complete",
            "data": {"status": "ready"},
            "updatedAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        }
    )


def test_a_sensor_write_runs_the_job_and_alerts_once_in_slack(
    world: AwsWorld,
    job: JobServer,
    slack: FakeSlack,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN a pushed config (its CONFIG record also streams: the router reads and skips it)
    push(tmp_path, job.url)
    world.route(world.stream_records("control"))
    # WHEN a producer writes the sensors and the streams reach the router
    produce()
    records = world.stream_records("control")
    assert [r["eventName"] for r in records] == ["INSERT", "INSERT"]
    assert world.route(records) == {"batchItemFailures": []}
    # THEN the run started one execution, and SLA timers are set in Scheduler while it runs
    (execution,) = world.executions()
    assert execution["name"] == f"{PID}-stream-{TODAY}-a1"
    schedules = world.schedules()
    assert sorted(schedules) == [
        f"{PID}-stream-{TODAY}-sla-breach",
        f"{PID}-stream-{TODAY}-sla-warning",
    ]
    assert all(s["Target"]["Arn"].endswith("sla-monitor") for s in schedules.values())
    warning = json.loads(schedules[f"{PID}-stream-{TODAY}-sla-warning"]["Target"]["Input"])
    world.pump()
    # the state machine ran in moto with its Tasks in our orchestrator; the HTTP job was called once
    (done,) = world.executions()
    assert done["status"] == "SUCCEEDED"
    output = json.loads(world.sfn.describe_execution(executionArn=done["executionArn"])["output"])
    assert output["job"]["state"] == "COMPLETED"
    assert [m for m, _ in world.invocations] == ["orchestrator"] * 3
    assert [p["mode"] for _, p in world.invocations] == ["evaluate", "trigger", "check-job"]
    assert len(job.calls) == 1
    # completion: the job-log success streamed to the router, which cancelled the SLA timers
    assert world.schedules() == {}
    run = world.store.control.get_run(PID, "stream", TODAY)
    assert run is not None and run.status == "COMPLETED"
    # a Scheduler fire that raced the completion is suppressed by the sla-monitor
    fired = world.handler("sla_monitor")(warning, FakeContext("sla-monitor"))
    assert fired["decisions"] == 0 and fired["reason"]
    # events: EventBridge → sink queue → event-sink, full detail kept
    assert world.sink() >= 4
    types = world.event_types(PID)
    assert EventType.SLA_WARNING not in types
    assert Counter(types) == Counter(
        [
            EventType.VALIDATION_PASSED,
            EventType.JOB_TRIGGERED,
            EventType.JOB_COMPLETED,
            EventType.SLA_MET,
        ]
    )
    # the CLI reads what the Lambdas wrote, from the production tables (events tail: a GSI2 Query)
    capsys.readouterr()
    assert cli(["events", "tail", "--store", STORE_URL, "--pipeline", PID, "--json"]) == 0
    tailed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert Counter(line["detail-type"] for line in tailed) == Counter(t.value for t in types)
    (triggered,) = world.store.events.of_type("JOB_TRIGGERED")
    assert triggered.detail["jobType"] == "http"
    assert triggered.detail["runId"] == f"{PID}-stream-{TODAY}-a1"
    # alerts: EventBridge → alert queue → alert-dispatcher → one Slack thread for the run
    assert world.alert() == {"batchItemFailures": []}
    assert len(slack.roots()) == 1
    root = slack.roots()[0]
    assert len(slack.replies(root.ts)) >= 1
    # and the same scenario on the embedded runtime publishes the same events
    assert Counter(types) == Counter(embedded_types(tmp_path, job.url))


def embedded_types(tmp_path: Path, url: str) -> list[EventType]:
    clock = VirtualClock(datetime.now(UTC).replace(microsecond=0))
    with open_store(
        f"sqlite:///{tmp_path}/embedded.db", now=lambda: clock.now().timestamp()
    ) as store:
        from interlock.config.loader import load_project

        folder = tmp_path / "pipelines"
        project = load_project([folder])
        for config in project.pipelines.values():
            store.control.put_config(config, now=clock.now())
        runtime = EmbeddedRuntime.build(
            store, clock=clock, triggers=lambda _t: HttpRunner(allow_private=True),
            watchdog_interval=None,
        )  # fmt: skip
        runtime.tick()
        store.control.put_sensor(PID, "row-count", {"count": 15432}, now=clock.now())
        store.control.put_sensor(PID, "upstream-complete", {"status": "ready"}, now=clock.now())
        runtime.run_until(clock.now() + timedelta(minutes=10))
        return [e.type for e in store.events.for_pipeline(PID, newest_first=False)]


def test_duplicated_and_shuffled_records_start_one_execution_and_one_job(
    world: AwsWorld, job: JobServer, tmp_path: Path
) -> None:
    push(tmp_path, job.url)
    world.route(world.stream_records("control"))
    produce()
    records = world.stream_records("control") * 3
    random.Random(7).shuffle(records)
    assert world.route(records) == {"batchItemFailures": []}
    world.route(world.stream_records("control"))  # and once more, a whole batch redelivered
    world.pump()
    assert len(world.executions()) == 1
    assert len(job.calls) == 1
    assert world.store.control.get_run(PID, "stream", TODAY).status == "COMPLETED"  # type: ignore[union-attr]


def test_a_poisoned_record_is_reported_by_its_sequence_number_alone(
    world: AwsWorld, job: JobServer, tmp_path: Path
) -> None:
    push(tmp_path, job.url)
    push(tmp_path, job.url, pid="billing")
    world.route(world.stream_records("control"))
    produce()
    produce("billing")
    records = world.stream_records("control")
    poisoned = json.loads(json.dumps(records[1]))
    del poisoned["dynamodb"]["NewImage"]  # a sensor record without its new image
    poisoned["dynamodb"]["SequenceNumber"] = "999999999999999999999"
    batch = [records[0], poisoned, *records[1:]]
    assert world.route(batch) == {
        "batchItemFailures": [{"itemIdentifier": "999999999999999999999"}]
    }
    world.pump()
    assert sorted(e["name"] for e in world.executions()) == [
        f"billing-stream-{TODAY}-a1",
        f"{PID}-stream-{TODAY}-a1",
    ]
    assert len(job.calls) == 2


def test_remove_records_and_controller_rows_are_skipped(
    world: AwsWorld, job: JobServer, tmp_path: Path
) -> None:
    push(tmp_path, job.url)
    table = boto3.resource("dynamodb", region_name=REGION).Table(f"{ENV}-interlock-control")
    table.put_item(Item={"PK": "RUNTIME", "SK": "FEED#control", "position": "x"})
    table.put_item(Item={"PK": f"PIPELINE#{PID}", "SK": "SENSOR#row-count", "count": 1})
    table.delete_item(Key={"PK": f"PIPELINE#{PID}", "SK": "SENSOR#row-count"})
    records = world.stream_records("control")
    assert [r["eventName"] for r in records][-3:] == ["INSERT", "INSERT", "REMOVE"]
    assert world.route(records) == {"batchItemFailures": []}
    assert world.executions() == []


def test_an_invalid_config_is_skipped_with_config_invalid(
    world: AwsWorld, job: JobServer, tmp_path: Path
) -> None:
    push(tmp_path, job.url)
    world.route(world.stream_records("control"))
    table = boto3.resource("dynamodb", region_name=REGION).Table(f"{ENV}-interlock-control")
    item = table.get_item(Key={"PK": f"PIPELINE#{PID}", "SK": "CONFIG"})["Item"]
    item["config"] = json.dumps({"pipeline": {"id": PID}, "schedule": {"nonsense": 1}})
    table.put_item(Item=item)
    assert world.route(world.stream_records("control")) == {"batchItemFailures": []}
    produce()
    assert world.route(world.stream_records("control")) == {"batchItemFailures": []}
    assert world.executions() == []
    world.sink()
    (invalid,) = world.store.events.of_type("CONFIG_INVALID")
    assert invalid.pipeline_id == PID
    assert "invalid" in invalid.message


def test_the_event_sink_stores_a_redelivery_once_and_infra_alarms(world: AwsWorld) -> None:
    sink = world.handler("event_sink")
    at = datetime.now(UTC).replace(microsecond=0)  # rows older than their TTL read as gone
    stamp = at.isoformat().replace("+00:00", "Z")
    event = {
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "JOB_FAILED",
        "source": "interlock",
        "time": stamp,
        "detail": {
            "pipelineId": PID, "scheduleId": "stream", "date": TODAY,
            "message": "job failed: exit 1", "timestamp": stamp,
            "detail": {"runId": "r1", "category": "TRANSIENT"},
        },
    }  # fmt: skip
    first = sink(event, FakeContext())
    assert sink(event, FakeContext()) == first  # EventBridge redelivered it
    (stored,) = world.store.events.for_pipeline(PID)
    assert stored.detail == {"runId": "r1", "category": "TRANSIENT"}
    alarm = {
        "id": "a1",
        "detail-type": "INFRA_ALARM",
        "source": "aws.cloudwatch",
        "time": stamp,
        "detail": {"pipelineId": "INFRASTRUCTURE", "message": "dev-interlock-dlq: ALARM — depth"},
    }
    sink(alarm, FakeContext())
    (infra,) = world.store.events.for_pipeline("INFRASTRUCTURE")
    assert infra.type is EventType.INFRA_ALARM
    assert infra.timestamp == at  # the envelope has no timestamp: the time EventBridge gave


def count_starts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every StartExecution call any client makes from now on (the handlers' included)."""
    import botocore.client  # type: ignore[import-untyped]

    names: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def counting(client: Any, operation: str, params: Any) -> Any:
        if operation == "StartExecution":
            names.append(str(params["name"]))
        return original(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    return names


def hold_tasks(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Hold the state machine's Task states until the returned event is set (the run stays RUNNING)."""
    from moto.awslambda_simple.models import LambdaSimpleBackend

    gate = threading.Event()
    original = LambdaSimpleBackend.invoke

    def held(*args: Any, **kwargs: Any) -> Any:
        assert gate.wait(20), "the test never released the held Task"
        return original(*args, **kwargs)

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", held)
    return gate


def rewrite_trigger(pid: str = PID) -> None:
    """The producer writes its trigger sensor again (same content, a later ``updatedAt``)."""
    table = boto3.resource("dynamodb", region_name=REGION).Table(f"{ENV}-interlock-control")
    table.put_item(
        Item={
            "PK": f"PIPELINE#{pid}",
            "SK": "SENSOR#upstream-complete",
            "data": {"status": "ready"},
            "updatedAt": (datetime.now(UTC) + timedelta(seconds=1))
            .isoformat()
            .replace("+00:00", "Z"),
        }
    )


def test_trigger_writes_while_the_run_is_running_start_nothing_more(
    world: AwsWorld, job: JobServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a run started by a trigger write, its execution held in its first Task (RUNNING)
    push(tmp_path, job.url)
    world.route(world.stream_records("control"))
    starts = count_starts(monkeypatch)
    gate = hold_tasks(monkeypatch)
    produce()
    assert world.route(world.stream_records("control")) == {"batchItemFailures": []}
    assert starts == [f"{PID}-stream-{TODAY}-a1"]
    # WHEN the producer writes the trigger twice more while the run is RUNNING
    rewrite_trigger()
    rewrite_trigger()
    records = world.stream_records("control")
    assert [r["eventName"] for r in records][-2:] == ["MODIFY", "MODIFY"]
    assert world.route(records) == {"batchItemFailures": []}
    # THEN nothing more was started: one StartExecution for the one attempt
    run = world.store.control.get_run(PID, "stream", TODAY)
    assert run is not None and run.status == "RUNNING"
    assert starts == [f"{PID}-stream-{TODAY}-a1"]
    gate.set()
    world.pump()
    assert starts == [f"{PID}-stream-{TODAY}-a1"]
    assert len(job.calls) == 1
    assert world.store.control.get_run(PID, "stream", TODAY).status == "COMPLETED"  # type: ignore[union-attr]
