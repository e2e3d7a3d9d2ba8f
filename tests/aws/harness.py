"""An Interlock deployment inside moto, driven by the real Lambda handlers.

:class:`AwsWorld` creates what the Terraform module would (tables, bus, alert and sink queues behind
EventBridge rules, the SLA schedule group, the state machine over two Lambda functions), sets the
Lambdas' environment, cold-starts the six handler modules, and routes moto's Lambda invocations (the
state machine's Task states) to the orchestrator and sla-monitor handlers. moto delivers EventBridge
rules to SQS but not to Lambda, so :meth:`AwsWorld.pump` does the rest of the plumbing by hand: the
control and job-log streams (read through ``dynamodbstreams``) to the stream-router, the sink queue to
the event-sink, the alert queue to the alert-dispatcher. moto's Wait states and retry intervals take
no time (:func:`~tests.aws.conftest.instant_moto_waits`); the handlers run on the wall clock.

Every AWS call a handler makes is recorded under the handler's name (:mod:`tests.deploy.iam_recorder`,
from the cold start on); :func:`check_grants`, called by the world fixtures after each test, fails the
test for a call the function's role in the Terraform module does not grant, and keeps the calls for
the unused-grant figure printed at the end of the run (tests/aws/conftest.py).
"""

from __future__ import annotations

import importlib
import io
import json
import sys
import time
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from moto.awslambda_simple.models import LambdaSimpleBackend

from interlock.aws._clients import build_client
from interlock.events import CATALOGUE, EventType
from interlock.local.adapters import DEFAULT_DEFINITION
from interlock.local.definition import render_definition
from interlock.store.dynamodb import create_tables
from interlock.store.factory import open_store
from tests.aws.conftest import ACCOUNT, REGION, instant_moto_waits
from tests.deploy.iam_recorder import CallRecorder, allowed, missing_grants

if TYPE_CHECKING:
    from types import ModuleType

    import pytest

    from interlock.store.factory import Store

ENV = "dev"
STORE_URL = f"dynamodb://{ENV}?region={REGION}"
BUS = f"{ENV}-interlock-events"
GROUP = f"{ENV}-interlock-sla"
SLA_MONITOR_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{ENV}-interlock-sla-monitor"
SCHEDULER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/{ENV}-interlock-scheduler-sla"
HANDLERS = (
    "stream_router",
    "orchestrator",
    "sla_monitor",
    "watchdog",
    "event_sink",
    "alert_dispatcher",
)
STREAMS = ("control", "joblog")
DEADLINE_SECONDS = 20.0
RECORDED: dict[str, set[str]] = {}
"""The calls each function made, over every world of this process (for the unused-grant figure)."""


@dataclass
class FakeContext:
    """What Powertools reads from a Lambda context."""

    function_name: str = "interlock-test"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:interlock-test"
    aws_request_id: str = "req-1"


def _client(service: str) -> Any:
    """A client sharing the process's botocore loader (service models are parsed once, not per test)."""
    return build_client(service, region=REGION, endpoint_url=None)


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def lambda_env(state_machine_arn: str, **extra: str) -> dict[str, str]:
    """The Lambdas' environment (upstream-deploy §1.5 names, tables from ENVIRONMENT)."""
    return {
        "ENVIRONMENT": ENV,
        "EVENT_BUS_NAME": BUS,
        "STATE_MACHINE_ARN": state_machine_arn,
        "SLA_MONITOR_ARN": SLA_MONITOR_ARN,
        "SCHEDULER_ROLE_ARN": SCHEDULER_ROLE,
        "SCHEDULER_GROUP_NAME": GROUP,
        "SFN_TIMEOUT_SECONDS": "14400",
        "EVENTS_TTL_DAYS": "90",
        "DISABLE_SSRF_PROTECTION": "true",
        **extra,
    }


def cold_start(name: str) -> ModuleType:
    """Import ``lambdas.<name>`` afresh (a new container: module-level wiring runs again)."""
    module = f"lambdas.{name}"
    sys.modules.pop(module, None)
    return importlib.import_module(module)


class AwsWorld:
    """The deployment (see the module docstring). Build it inside ``mock_aws``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
        self.recorder = CallRecorder().patch(monkeypatch)
        instant_moto_waits(monkeypatch)
        create_tables(ENV, client=_client("dynamodb"), ttl=False)
        self.sfn = _client("stepfunctions")
        self.sqs = _client("sqs")
        self.scheduler = _client("scheduler")
        self.scheduler.create_schedule_group(Name=GROUP)
        self.sink_queue = self._bus_and_queues()
        self.state_machine_arn = self._state_machine()
        # the stream-router's on-failure destinations, which the watchdog reads (stream_replay)
        self.stream_dlqs = {t: self._queue(f"{ENV}-interlock-sr-{t}-dlq")[0] for t in STREAMS}
        dlq_env = {f"STREAM_DLQ_{t.upper()}_URL": url for t, url in self.stream_dlqs.items()}
        for name, value in lambda_env(self.state_machine_arn, **dlq_env, **env).items():
            monkeypatch.setenv(name, value)
        self.modules = {}
        for name in HANDLERS:
            with self.recorder.as_function(name):
                self.modules[name] = cold_start(name)
        self.positions: dict[str, Any] = {"control": None, "joblog": None}
        self.store: Store = open_store(STORE_URL)
        self.invocations: list[tuple[str, dict[str, Any]]] = []
        monkeypatch.setattr(LambdaSimpleBackend, "invoke", self._invoke())

    def handler(self, name: str) -> Any:
        """The handler of ``lambdas.<name>``, its AWS calls recorded as ``name``'s."""
        return self.recorder.wrap(name, self.modules[name].handler)

    def watchdog(self, runtime: Any) -> Any:
        """The watchdog handler over ``runtime`` (a virtual clock), its calls recorded."""
        return self.recorder.wrap("watchdog", self.modules["watchdog"].build(runtime))

    # ------------------------------------------------------------------------------ plumbing

    def _queue(self, name: str) -> tuple[str, str]:
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        return url, arn

    def _bus_and_queues(self) -> str:
        events = _client("events")
        events.create_event_bus(Name=BUS)
        sink_url, sink_arn = self._queue("sink")
        self.alert_queue, alert_arn = self._queue("alerts")
        alerting = sorted(t.value for t, spec in CATALOGUE.items() if spec.alerts)
        for rule, pattern, arn in (
            ("all", {"source": ["interlock"]}, sink_arn),
            ("alerts", {"source": ["interlock"], "detail-type": alerting}, alert_arn),
        ):
            events.put_rule(Name=rule, EventBusName=BUS, EventPattern=json.dumps(pattern))
            events.put_targets(Rule=rule, EventBusName=BUS, Targets=[{"Id": rule, "Arn": arn}])
        return str(sink_url)

    def _state_machine(self) -> str:
        lam = _client("lambda")
        iam = _client("iam")
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
        arns = {}
        for name in ("orchestrator", "sla-monitor"):
            fn = lam.create_function(
                FunctionName=f"{ENV}-interlock-{name}",
                Runtime="python3.12",
                Role=role["Role"]["Arn"],
                Handler="handler.handler",
                Code={"ZipFile": _zip()},
            )
            arns[name] = fn["FunctionArn"]
        definition = render_definition(
            DEFAULT_DEFINITION.read_text(),
            {"OrchestratorFunctionArn": arns["orchestrator"], "TriggerMaxAttempts": "1"},
        )
        machine = json.loads(definition)
        arn: str = self.sfn.create_state_machine(
            name=f"{ENV}-interlock-pipeline",
            definition=json.dumps(machine),
            roleArn=role["Role"]["Arn"],
        )["stateMachineArn"]
        return arn

    def _invoke(self) -> Any:
        world = self

        def invoke(
            backend: LambdaSimpleBackend,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: Any,
        ) -> bytes:
            payload = json.loads(body)
            name = "sla_monitor" if "sla-monitor" in function_name else "orchestrator"
            world.invocations.append((name, payload))
            try:
                out = world.handler(name)(payload, FakeContext(function_name=name))
            except Exception as exc:  # a Lambda function error: the errorType is the class name
                response_headers["x-amz-function-error"] = "Unhandled"
                error = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
                return json.dumps(error).encode()
            return json.dumps(out).encode()

        return invoke

    # ------------------------------------------------------------------------------ the pump

    def stream_records(self, table: str) -> list[dict[str, Any]]:
        """New records of a table's stream (read with ``dynamodbstreams``), in the Lambda shape."""
        batch = self.store.tables[table].changes(self.positions[table], limit=1000)
        self.positions[table] = batch.position
        return list(batch.records)

    def route(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        """Invoke the stream-router with one batch."""
        out: dict[str, Any] = self.handler("stream_router")(
            {"Records": records}, FakeContext("stream-router")
        )
        return out

    def _receive(self, url: str) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []
        while True:
            page = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not page:
                return got
            got += page
            for message in page:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def sink(self) -> int:
        """Deliver the sink queue's events to the event-sink, one invocation each."""
        messages = self._receive(self.sink_queue)
        for message in messages:
            self.handler("event_sink")(json.loads(message["Body"]), FakeContext("event-sink"))
        return len(messages)

    def alert(self) -> dict[str, Any]:
        """Deliver the alert queue to the alert-dispatcher as one SQS batch."""
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:alerts",
                "awsRegion": REGION,
            }
            for m in self._receive(self.alert_queue)
        ]
        out: dict[str, Any] = self.handler("alert_dispatcher")(
            {"Records": records}, FakeContext("alert-dispatcher")
        )
        return out

    def pump(self) -> None:
        """Streams to the router until quiet, waiting for running executions in between."""
        deadline = time.monotonic() + DEADLINE_SECONDS
        while True:
            records = self.stream_records("control") + self.stream_records("joblog")
            if records:
                self.route(records)
                continue
            if not self.running():
                return
            assert time.monotonic() < deadline, "executions still RUNNING"
            time.sleep(0.05)

    def executions(self) -> list[dict[str, Any]]:
        return list(self.sfn.list_executions(stateMachineArn=self.state_machine_arn)["executions"])

    def running(self) -> bool:
        return any(e["status"] == "RUNNING" for e in self.executions())

    def schedules(self) -> dict[str, dict[str, Any]]:
        names = [s["Name"] for s in self.scheduler.list_schedules(GroupName=GROUP)["Schedules"]]
        return {n: self.scheduler.get_schedule(Name=n, GroupName=GROUP) for n in names}

    def event_types(self, pid: str) -> list[EventType]:
        return [e.type for e in self.store.events.for_pipeline(pid, newest_first=False)]


def check_grants(world: AwsWorld) -> None:
    """Fail on a call a role does not grant; keep the calls for the unused-grant figure."""
    recorded = world.recorder.by_function()
    for fn, actions in recorded.items():
        RECORDED.setdefault(fn, set()).update(actions)
    problems = missing_grants(recorded, allowed())
    assert not problems, "IAM grants missing in deploy/terraform (tests/iam_actions.json):\n" + (
        "\n".join(problems)
    )
