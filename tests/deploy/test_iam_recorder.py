"""The recorder behind "IAM proven against the code" (tests/deploy/iam_recorder.py).

What is proven here: the recorder sees calls made through any boto3 client (including the DynamoDB
store's own), names them as IAM actions, attributes them to the function being run, and the comparison
reports both a missing grant and an unused one. The end-to-end part (each handler's calls in the moto
runs against deploy/terraform/tests/iam_actions.json) is in tests/aws: harness.check_grants after every
test of test_end_to_end.py and test_watchdog_moto.py.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING

import boto3  # type: ignore[import-untyped]
from moto import mock_aws

from tests.deploy._tf import MODULE
from tests.deploy.iam_recorder import (
    CallRecorder,
    allowed,
    compare,
    missing_grants,
    unused_grants,
)

if TYPE_CHECKING:
    import pytest


def test_records_calls_as_iam_actions_per_function(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    with mock_aws(), CallRecorder() as rec:
        ddb = boto3.client("dynamodb")
        with rec.as_function("setup"):
            ddb.create_table(
                TableName="tbl",
                KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
            )
        with rec.as_function("event_sink"):
            ddb.put_item(TableName="tbl", Item={"PK": {"S": "a"}})
        with rec.as_function("stream_router"):
            boto3.client("dynamodbstreams").list_streams(TableName="tbl")
            boto3.client("stepfunctions").list_state_machines()
    assert rec.calls == {
        "setup": {"dynamodb:CreateTable"},
        "event_sink": {"dynamodb:PutItem"},
        "stream_router": {"dynamodb:ListStreams", "states:ListStateMachines"},
    }


def test_compare_reports_missing_and_unused_grants() -> None:
    problems = list(
        compare(
            {"event_sink": {"dynamodb:PutItem", "dynamodb:GetItem"}},
            {"event_sink": ["dynamodb:PutItem", "dynamodb:DeleteItem"]},
        )
    )
    assert problems == [
        "event_sink: calls dynamodb:GetItem, which its role does not allow",
        "event_sink: role allows dynamodb:DeleteItem, which no call in the run used",
    ]


def test_expected_actions_file_names_the_six_functions() -> None:
    actions = json.loads((MODULE / "tests" / "iam_actions.json").read_text(encoding="utf-8"))
    assert set(actions) - {"_comment"} == {
        "stream_router",
        "orchestrator",
        "sla_monitor",
        "watchdog",
        "event_sink",
        "alert_dispatcher",
    }


def _table(ddb: object) -> None:
    ddb.create_table(  # type: ignore[attr-defined]
        TableName="tbl",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def test_a_transaction_needs_its_items_actions_and_a_schedule_passes_its_role(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws(), CallRecorder() as rec:
        ddb = boto3.client("dynamodb")
        _table(ddb)
        scheduler = boto3.client("scheduler")
        with rec.as_function("watchdog"):
            ddb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": "tbl", "Item": {"PK": {"S": "a"}}}},
                    {
                        "ConditionCheck": {
                            "TableName": "tbl",
                            "Key": {"PK": {"S": "b"}},
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                ]
            )
            scheduler.create_schedule(
                Name="s",
                ScheduleExpression="at(2030-01-01T00:00:00)",
                FlexibleTimeWindow={"Mode": "OFF"},
                Target={"Arn": "arn:aws:lambda:eu-west-1:123456789012:function:f", "RoleArn": "r"},
            )
    assert rec.by_function() == {
        "watchdog": {
            "dynamodb:PutItem",
            "dynamodb:ConditionCheckItem",
            "scheduler:CreateSchedule",
            "iam:PassRole",
        }
    }


def test_the_function_being_run_is_per_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    # moto runs a state machine's Task on its own thread while the test thread reads the streams
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        rec = CallRecorder().patch(monkeypatch)
        ddb = boto3.client("dynamodb")
        _table(ddb)
        inside = threading.Event()
        done = threading.Event()

        def orchestrator() -> None:
            with rec.as_function("orchestrator"):
                inside.set()
                ddb.get_item(TableName="tbl", Key={"PK": {"S": "a"}})
                done.wait(5)

        thread = threading.Thread(target=orchestrator)
        thread.start()
        inside.wait(5)
        ddb.scan(TableName="tbl")  # the test thread, while the orchestrator is being run
        done.set()
        thread.join()
    assert rec.by_function() == {"orchestrator": {"dynamodb:GetItem"}}
    assert rec.calls["?"] == {"dynamodb:CreateTable", "dynamodb:Scan"}


def test_missing_grants_are_checked_against_the_module_grants() -> None:
    grants = allowed()
    assert missing_grants({"event_sink": {"dynamodb:PutItem"}}, grants) == []
    # an event source mapping's actions are the role's too (the Lambda service polls with it)
    assert missing_grants({"stream_router": {"dynamodb:GetRecords"}}, grants) == []
    assert missing_grants({"event_sink": {"events:PutEvents"}}, grants) == [
        "event_sink: calls events:PutEvents, which its role does not allow"
    ]
    assert unused_grants(
        {"event_sink": {"dynamodb:PutItem"}}, {"event_sink": ["dynamodb:PutItem"]}
    ) == {"event_sink": []}
