"""The recorder behind "IAM proven against the code" (tests/deploy/iam_recorder.py).

What is proven here: the recorder sees calls made through any boto3 client (including the DynamoDB
store's own), names them as IAM actions, attributes them to the function being run, and the comparison
reports both a missing grant and an unused one. The end-to-end part (each handler's calls in the moto run
against deploy/terraform/tests/iam_actions.json) waits for lambdas/.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import boto3  # type: ignore[import-untyped]
from moto import mock_aws

from tests.deploy._tf import MODULE
from tests.deploy.iam_recorder import CallRecorder, compare

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
