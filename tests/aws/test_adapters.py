"""The AWS adapters of the ports under moto: Step Functions, Scheduler, EventBridge, Secrets Manager."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from interlock.aws import secrets
from interlock.aws._clients import AwsError
from interlock.aws.bus import MAX_ENTRY_BYTES, EventBridgeBus, EventBusError
from interlock.aws.executions import StepFunctionsExecutions, safe_execution_name
from interlock.aws.timers import SchedulerTimers, safe_schedule_name, schedule_expression
from interlock.events import Event, EventType
from interlock.lifecycle.sla_monitor import sla_timer_name
from interlock.ports import ExecutionConflictError
from tests.aws.conftest import REGION

NOW = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)
PASS_MACHINE = json.dumps(
    {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
                                   "Done": {"Type": "Succeed"}}}
)  # fmt: skip


def _machine() -> str:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn: str = sfn.create_state_machine(
        name="run", definition=PASS_MACHINE, roleArn="arn:aws:iam::123456789012:role/sfn"
    )["stateMachineArn"]
    return arn


# ----------------------------------------------------------------------------------- executions


def test_a_start_is_idempotent_by_name_and_input(aws: None) -> None:
    executions = StepFunctionsExecutions(_machine(), region=REGION)
    first = executions.start("orders-stream-2026-03-04-a1", {"b": 1, "a": [1, 2]})
    again = executions.start("orders-stream-2026-03-04-a1", {"a": [1, 2], "b": 1})
    assert first == again == executions.execution_arn("orders-stream-2026-03-04-a1")
    sfn = boto3.client("stepfunctions", region_name=REGION)
    listed = sfn.list_executions(stateMachineArn=executions.state_machine_arn)["executions"]
    assert len(listed) == 1
    with pytest.raises(ExecutionConflictError):
        executions.start("orders-stream-2026-03-04-a1", {"a": [1, 2], "b": 2})


def test_a_finished_execution_started_again_with_the_same_input_is_the_first(aws: None) -> None:
    executions = StepFunctionsExecutions(_machine(), region=REGION)
    arn = executions.start("p-cron-2026-03-04-a1", {"x": 1})
    assert executions.stop(arn, cause="test") is True
    assert executions.describe(arn) is not None
    assert executions.describe(arn).status == "ABORTED"  # type: ignore[union-attr]
    assert executions.stop(arn, cause="again") is False  # closed already
    assert executions.start("p-cron-2026-03-04-a1", {"x": 1}) == arn
    with pytest.raises(ExecutionConflictError):
        executions.start("p-cron-2026-03-04-a1", {"x": 2})


def test_describe_and_stop_of_an_unknown_execution(aws: None) -> None:
    executions = StepFunctionsExecutions(_machine(), region=REGION)
    arn = executions.execution_arn("nobody")
    assert executions.describe(arn) is None
    assert executions.stop(arn, cause="x") is False


def test_long_or_unsafe_execution_names_are_hashed_within_80() -> None:
    long = "p" * 200 + "-stream-2026-03-04-a1"
    assert len(safe_execution_name(long)) == 80
    assert safe_execution_name(long) != safe_execution_name("q" + long[1:])
    assert safe_execution_name("a b") != "a b"
    assert safe_execution_name("ok-name_1") == "ok-name_1"
    with pytest.raises(ValueError, match="not a state machine ARN"):
        StepFunctionsExecutions("arn:aws:lambda:x")


# --------------------------------------------------------------------------------------- timers


def _timers() -> SchedulerTimers:
    boto3.client("scheduler", region_name=REGION).create_schedule_group(Name="dev-interlock-sla")
    return SchedulerTimers(
        "dev-interlock-sla",
        "arn:aws:lambda:us-east-1:123456789012:function:dev-interlock-sla-monitor",
        "arn:aws:iam::123456789012:role/dev-interlock-scheduler-sla",
        region=REGION,
    )


def test_a_timer_is_a_one_time_schedule_invoking_the_sla_monitor(aws: None) -> None:
    timers = _timers()
    at = datetime(2026, 3, 4, 9, 30, 0, 250_000, tzinfo=UTC)
    timers.schedule("orders-stream-2026-03-04-sla-warning", at, {"kind": "sla", "alert": "warning"})
    got = timers.get("orders-stream-2026-03-04-sla-warning")
    assert got is not None
    assert got["ScheduleExpression"] == "at(2026-03-04T09:30:01)"  # rounded up, never early
    assert got["ScheduleExpressionTimezone"] == "UTC"
    assert got["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert got["ActionAfterCompletion"] == "DELETE"
    assert got["Target"]["Arn"].endswith(":function:dev-interlock-sla-monitor")
    assert got["Target"]["RoleArn"].endswith(":role/dev-interlock-scheduler-sla")
    assert json.loads(got["Target"]["Input"]) == {"kind": "sla", "alert": "warning"}
    # a repeat (ConflictException) is "already set"; a new time replaces
    timers.schedule("orders-stream-2026-03-04-sla-warning", at, {"kind": "sla", "alert": "warning"})
    later = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    timers.schedule(
        "orders-stream-2026-03-04-sla-warning", later, {"kind": "sla", "alert": "warning"}
    )
    assert timers.get("orders-stream-2026-03-04-sla-warning")["ScheduleExpression"] == (  # type: ignore[index]
        "at(2026-03-04T10:00:00)"
    )
    assert timers.pending() == {"orders-stream-2026-03-04-sla-warning"}
    assert timers.pending("cron-") == set()
    timers.cancel("orders-stream-2026-03-04-sla-warning")
    timers.cancel("orders-stream-2026-03-04-sla-warning")  # absent: fine
    assert not timers.is_set("orders-stream-2026-03-04-sla-warning")


def test_a_200_character_pipeline_gets_schedule_names_of_at_most_64(aws: None) -> None:
    timers = _timers()
    pid = "x" * 200
    names = {sla_timer_name(pid, "stream", "2026-03-04T10", k) for k in ("warning", "breach")}
    for name in names:
        timers.schedule(name, NOW, {"kind": "sla"})
    listed = timers.pending()
    assert len(listed) == 2
    assert all(len(n) <= 64 for n in listed)
    long = "y" * 100
    assert len(safe_schedule_name(long)) == 64
    assert timers.is_set(long) is False


class _Refusing:
    """A client whose every call is refused with the error ``code``."""

    def __init__(self, code: str = "AccessDeniedException") -> None:
        self.code = code

    def __getattr__(self, name: str) -> Any:
        def call(**_kwargs: Any) -> Any:
            raise ClientError({"Error": {"Code": self.code, "Message": "no"}}, name)

        return call


def test_scheduler_errors_are_named() -> None:
    timers = SchedulerTimers("g", "arn:t", "arn:r", client=_Refusing())
    with pytest.raises(AwsError, match="CreateSchedule"):
        timers.schedule("a", NOW, {})
    with pytest.raises(AwsError, match="DeleteSchedule"):
        timers.cancel("a")
    with pytest.raises(AwsError, match="GetSchedule"):
        timers.is_set("a")
    with pytest.raises(AwsError, match="ListSchedules"):
        timers.pending()
    with pytest.raises(ValueError, match="timezone-aware"):
        schedule_expression(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test


# ------------------------------------------------------------------------------------------ bus


def _bus_to_queue() -> tuple[EventBridgeBus, Any, str]:
    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    events.create_event_bus(Name="dev-interlock-events")
    url = sqs.create_queue(QueueName="all")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="all",
        EventBusName="dev-interlock-events",
        EventPattern=json.dumps({"source": ["interlock"]}),
    )
    events.put_targets(
        Rule="all", EventBusName="dev-interlock-events", Targets=[{"Id": "q", "Arn": qarn}]
    )
    return EventBridgeBus("dev-interlock-events", region=REGION), sqs, url


def _drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return out
        out += [json.loads(m["Body"]) for m in got]
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)
            ],
        )


def _event(i: int, **detail: Any) -> Event:
    return Event.create(
        EventType.JOB_TRIGGERED, f"p{i}", now=NOW, schedule_id="stream", date="2026-03-04",
        detail=detail,
    )  # fmt: skip


def test_twenty_three_events_go_in_calls_of_ten(aws: None) -> None:
    bus, sqs, url = _bus_to_queue()
    bus.publish_all([_event(i) for i in range(23)])
    got = _drain(sqs, url)
    assert sorted(m["detail"]["pipelineId"] for m in got) == sorted(f"p{i}" for i in range(23))
    assert got[0]["detail-type"] == "JOB_TRIGGERED" and got[0]["source"] == "interlock"


def test_an_oversized_detail_is_trimmed_never_dropped(aws: None) -> None:
    bus, sqs, url = _bus_to_queue()
    big = _event(1, actionHint="y" * 300_000, source="watchdog")
    entry = bus.entry(big)
    assert len(entry["Detail"].encode()) < MAX_ENTRY_BYTES
    bus.publish(big)
    (got,) = _drain(sqs, url)
    detail = got["detail"]["detail"]
    assert detail["source"] == "watchdog"
    assert detail["actionHint"].startswith("[trimmed")
    assert detail["trimmed"] == ["actionHint"]


class _Flaky:
    """A PutEvents client refusing the first entry of each call, ``fails`` times."""

    def __init__(self, fails: int) -> None:
        self.fails = fails
        self.calls: list[list[dict[str, Any]]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        self.calls.append(Entries)
        if self.fails:
            self.fails -= 1
            results = [{"ErrorCode": "InternalFailure", "ErrorMessage": "x"}] + [
                {"EventId": "e"} for _ in Entries[1:]
            ]
            return {"FailedEntryCount": 1, "Entries": results}
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "e"} for _ in Entries]}


def test_failed_entries_are_retried_alone_then_raised() -> None:
    flaky = _Flaky(fails=1)
    bus = EventBridgeBus("b", client=flaky, sleep=lambda _s: None)
    bus.publish_all([_event(i) for i in range(3)])
    assert [len(c) for c in flaky.calls] == [3, 1]
    assert json.loads(flaky.calls[1][0]["Detail"])["pipelineId"] == "p0"
    stuck = EventBridgeBus("b", client=_Flaky(fails=99), sleep=lambda _s: None, attempts=3)
    with pytest.raises(EventBusError, match="1 event"):
        stuck.publish(_event(0))


# -------------------------------------------------------------------------------------- secrets


def test_the_slack_token_comes_from_the_secret_once(aws: None) -> None:
    secrets.clear_cache()
    sm = boto3.client("secretsmanager", region_name=REGION)
    arn = sm.create_secret(Name="slack", SecretString=json.dumps({"token": "xoxb-1"}))["ARN"]
    env = {"SLACK_SECRET_ARN": arn, "SLACK_BOT_TOKEN": "ignored"}
    assert secrets.slack_token(env, region=REGION) == "xoxb-1"
    sm.put_secret_value(SecretId=arn, SecretString="xoxb-2")
    assert secrets.slack_token(env, region=REGION) == "xoxb-1"  # cached per cold start
    secrets.clear_cache()
    assert secrets.slack_token(env, region=REGION) == "xoxb-2"  # a bare token
    assert secrets.slack_token({"SLACK_BOT_TOKEN": " xoxb-3 "}) == "xoxb-3"
    assert secrets.slack_token({}) is None
    with pytest.raises(AwsError, match="cannot read"):
        secrets.slack_token({"SLACK_SECRET_ARN": "missing"}, region=REGION)
    sm.put_secret_value(SecretId=arn, SecretString=json.dumps({"other": 1}))
    secrets.clear_cache()
    with pytest.raises(AwsError, match="without any of the fields"):
        secrets.slack_token(env, region=REGION)
    secrets.clear_cache()


def test_step_functions_errors_are_named() -> None:
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:run"
    refused = StepFunctionsExecutions(arn, client=_Refusing("AccessDeniedException"))
    with pytest.raises(AwsError, match="StartExecution"):
        refused.start("a", {})
    with pytest.raises(AwsError, match="DescribeExecution"):
        refused.describe(refused.execution_arn("a"))
    gone = StepFunctionsExecutions(arn, client=_Refusing("ExecutionDoesNotExist"))
    assert gone.describe(gone.execution_arn("a")) is None
    assert gone.stop(gone.execution_arn("a"), cause="x") is False


def test_put_events_outages_are_retried_then_raised() -> None:
    bus = EventBridgeBus(
        "b", client=_Refusing("ThrottlingException"), sleep=lambda _s: None, attempts=2
    )
    with pytest.raises(EventBusError, match="ThrottlingException"):
        bus.publish(_event(0))
