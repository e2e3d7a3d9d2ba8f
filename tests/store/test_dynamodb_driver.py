"""The DynamoDB driver's own behaviour, beyond the contract suite: table shapes, error translation,
lazy boto3, client construction, stream positions and how expired items are purged (moto, in-process).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from interlock.store.dynamodb import (
    DynamoDBStore,
    ValidationError,
    create_tables,
    table_definition,
)
from interlock.store.specs import CONTROL, EVENTS, JOBLOG, RERUN, TABLE_SPECS, physical_name
from interlock.store.table import (
    ConflictError,
    StoreError,
    StoreUnavailableError,
    absent,
    begins_with,
    equals,
    exists,
)
from tests.contract.conftest import FakeClock
from tests.contract.dynamodb_harness import REGION, moto_aws

if TYPE_CHECKING:
    from collections.abc import Iterator

ENV = "unit"


@pytest.fixture
def aws() -> Iterator[None]:
    with moto_aws():
        yield


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(aws: None, clock: FakeClock) -> Iterator[DynamoDBStore]:
    create_tables(ENV, region=REGION)
    s = DynamoDBStore(ENV, region=REGION, now=clock)
    yield s
    s.close()


def _raw_get(store: DynamoDBStore, table: str, pk: str, sk: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = store.client.get_item(
        TableName=physical_name(ENV, table), Key={"PK": {"S": pk}, "SK": {"S": sk}}
    ).get("Item")
    return item


# ------------------------------------------------------------------------------- create_tables


def _describe(client: Any, name: str) -> dict[str, Any]:
    table: dict[str, Any] = client.describe_table(TableName=physical_name(ENV, name))["Table"]
    return table


def test_create_tables_declares_keys_billing_indexes_streams_and_ttl(aws: None) -> None:
    # GIVEN / WHEN
    created = create_tables(ENV, region=REGION)
    # THEN
    assert created == [physical_name(ENV, n) for n in ("control", "joblog", "rerun", "events")]
    client = DynamoDBStore(ENV, region=REGION).client
    for spec in TABLE_SPECS.values():
        table = _describe(client, spec.name)
        assert table["TableStatus"] == "ACTIVE"
        assert table["KeySchema"] == [
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ]
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        ttl = client.describe_time_to_live(TableName=table["TableName"])["TimeToLiveDescription"]
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}
        stream = table.get("StreamSpecification", {"StreamEnabled": False})
        if spec.stream:
            assert stream == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
            assert table["LatestStreamArn"]
        else:
            assert not stream["StreamEnabled"]
    assert [s.name for s in TABLE_SPECS.values() if s.stream] == ["control", "joblog"]


def test_create_tables_declares_each_index_with_its_attribute_types(aws: None) -> None:
    create_tables(ENV, region=REGION)
    client = DynamoDBStore(ENV, region=REGION).client
    expected_types = {
        "control": {"PK": "S", "SK": "S", "GSI1PK": "S", "GSI1SK": "S"},
        "joblog": {"PK": "S", "SK": "S"},
        "rerun": {"PK": "S", "SK": "S"},
        "events": {"PK": "S", "SK": "S", "eventType": "S", "GSI2PK": "S", "timestamp": "N"},
    }
    for spec in (CONTROL, JOBLOG, RERUN, EVENTS):
        table = _describe(client, spec.name)
        types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
        assert types == expected_types[spec.name]
        indexes = {ix["IndexName"]: ix for ix in table.get("GlobalSecondaryIndexes", [])}
        assert set(indexes) == {ix.name for ix in spec.indexes}
        for ix in spec.indexes:
            assert indexes[ix.name]["KeySchema"] == [
                {"AttributeName": ix.pk, "KeyType": "HASH"},
                {"AttributeName": ix.sk, "KeyType": "RANGE"},
            ]
            assert indexes[ix.name]["Projection"] == {"ProjectionType": "ALL"}
            assert types[ix.sk] == ix.sk_type


def test_create_tables_is_idempotent_and_finishes_a_half_done_run(aws: None) -> None:
    # GIVEN the tables, one of them without TTL (as if an earlier run stopped half-way)
    create_tables(ENV, region=REGION, ttl=False)
    client = DynamoDBStore(ENV, region=REGION).client
    client.put_item(
        TableName=physical_name(ENV, "rerun"), Item={"PK": {"S": "P"}, "SK": {"S": "S"}}
    )
    # WHEN it runs again, twice
    again = create_tables(ENV, region=REGION)
    third = create_tables(ENV, region=REGION)
    # THEN nothing is recreated, the data stays, and TTL is on
    assert again == third == []
    assert client.get_item(
        TableName=physical_name(ENV, "rerun"), Key={"PK": {"S": "P"}, "SK": {"S": "S"}}
    )["Item"]
    for spec in TABLE_SPECS.values():
        name = physical_name(ENV, spec.name)
        ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert ttl["TimeToLiveStatus"] == "ENABLED"


def test_table_definition_is_the_terraform_contract() -> None:
    definition = table_definition("prod", EVENTS)
    assert definition["TableName"] == "prod-interlock-events"
    assert definition["BillingMode"] == "PAY_PER_REQUEST"
    assert "StreamSpecification" not in definition
    # timestamp serves both indexes: declared once, as a number
    names = [a["AttributeName"] for a in definition["AttributeDefinitions"]]
    assert sorted(names) == ["GSI2PK", "PK", "SK", "eventType", "timestamp"]
    assert table_definition("prod", JOBLOG)["StreamSpecification"]["StreamViewType"] == (
        "NEW_AND_OLD_IMAGES"
    )


# --------------------------------------------------------------------------- error translation


def test_a_missing_table_is_unavailable_and_named(aws: None) -> None:
    store = DynamoDBStore("nowhere", region=REGION)
    with pytest.raises(StoreUnavailableError, match="nowhere-interlock-control") as info:
        store.table("control").get("PIPELINE#a", "CONFIG")
    assert "create_tables" in str(info.value)
    from botocore.exceptions import ClientError  # type: ignore[import-untyped]

    assert isinstance(info.value.__cause__, ClientError)


def test_a_failed_condition_is_a_conflict_naming_key_and_condition(store: DynamoDBStore) -> None:
    table = store.table("control")
    table.put({"PK": "PIPELINE#a", "SK": "TRIGGER#cron#2026-03-02", "status": "RUNNING"})
    condition = equals("status", "COMPLETED")
    with pytest.raises(ConflictError) as info:
        table.update("PIPELINE#a", "TRIGGER#cron#2026-03-02", set={"x": 1}, condition=condition)
    assert (info.value.pk, info.value.sk, info.value.condition) == (
        "PIPELINE#a",
        "TRIGGER#cron#2026-03-02",
        condition,
    )
    with pytest.raises(ConflictError):
        table.put({"PK": "PIPELINE#a", "SK": "TRIGGER#cron#2026-03-02"}, condition=absent())


def test_a_request_dynamodb_refuses_is_a_validation_error(store: DynamoDBStore) -> None:
    # Items are at most 400 KB: DynamoDB answers ValidationException.
    with pytest.raises(ValidationError, match="ValidationException") as info:
        store.table("control").put({"PK": "P", "SK": "S", "blob": "x" * 500_000})
    assert isinstance(info.value, StoreError) and isinstance(info.value, ValueError)
    assert not isinstance(info.value, StoreUnavailableError)


def test_what_moto_would_accept_is_refused_as_dynamodb_refuses_it(store: DynamoDBStore) -> None:
    events = store.table("events")
    with pytest.raises(ValidationError, match="index GSI1 and must be a number"):
        events.put({"PK": "P", "SK": "S", "eventType": "X", "timestamp": "noon"})
    with pytest.raises(ValidationError, match="number"):
        events.query("X", begins_with("1"), index="GSI1")
    with pytest.raises(ValidationError, match="named twice"):
        events.update("P", "S", set={"a": 1}, remove=["a"])
    with pytest.raises(ValidationError, match="not a cursor"):
        events.query("X", index="GSI1", cursor={"PK": "P", "SK": "S"})


def test_throttling_after_retries_is_unavailable(aws: None) -> None:
    from botocore.stub import Stubber  # type: ignore[import-untyped]

    client = DynamoDBStore(ENV, region=REGION).client
    store = DynamoDBStore(ENV, client=client)
    with Stubber(client) as stub:
        stub.add_client_error("get_item", "ProvisionedThroughputExceededException", "slow down")
        with pytest.raises(StoreUnavailableError, match="slow down"):
            store.table("control").get("PIPELINE#a", "CONFIG")
        stub.assert_no_pending_responses()


def test_no_region_is_unavailable(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(StoreUnavailableError, match="cannot build a dynamodb client"):
        _ = DynamoDBStore(ENV).client


def test_unknown_table_name(store: DynamoDBStore) -> None:
    with pytest.raises(StoreError, match="unknown table 'sensors'"):
        store.table("sensors")


def test_bad_keys_are_refused_before_any_request(store: DynamoDBStore) -> None:
    table = store.table("control")
    with pytest.raises(ValueError, match="SK"):
        table.get("PIPELINE#a", "")
    with pytest.raises(ValueError, match="key attribute"):
        table.update("PIPELINE#a", "CONFIG", set={"SK": "other"})
    with pytest.raises(ValueError, match="limit"):
        table.query("PIPELINE#a", limit=0)


# ----------------------------------------------------------------------------- lazy boto3


def _python(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_boto3_is_imported_only_when_a_store_is_used() -> None:
    code = (
        "import sys\n"
        "import interlock.store.dynamodb as d\n"
        "print('boto3' in sys.modules, 'botocore' in sys.modules)\n"
        "s = d.DynamoDBStore('x', region='us-east-1'); t = s.table('control')\n"
        "print('boto3' in sys.modules)\n"
        "s.client\n"
        "print('boto3' in sys.modules)\n"
    )
    assert _python(code).split() == ["False", "False", "False", "True"]


def test_missing_boto3_names_the_extra() -> None:
    code = (
        "import sys\n"
        "sys.modules['boto3'] = None\n"
        "import interlock.store.dynamodb as d\n"
        "try:\n"
        "    d.DynamoDBStore('x', region='us-east-1').table('control').get('a', 'b')\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    assert "pip install 'interlock[aws]'" in _python(code)


# ------------------------------------------------------------------------------------ clients


def test_clients_use_the_endpoint_region_and_standard_retries(aws: None) -> None:
    store = DynamoDBStore(ENV, region="eu-west-1", endpoint_url="http://127.0.0.1:8000")
    for client in (store.client, store.streams_client):
        assert client.meta.endpoint_url == "http://127.0.0.1:8000"
        assert client.meta.region_name == "eu-west-1"
        assert client.meta.config.retries["mode"] == "standard"
    assert store.client.meta.service_model.service_name == "dynamodb"
    assert store.streams_client.meta.service_model.service_name == "dynamodbstreams"
    assert "endpoint_url='http://127.0.0.1:8000'" in repr(store)


def test_injected_clients_are_used_and_left_open(store: DynamoDBStore, clock: FakeClock) -> None:
    injected = DynamoDBStore(
        ENV, client=store.client, streams_client=store.streams_client, now=clock
    )
    injected.table("control").put({"PK": "P", "SK": "S"})
    assert store.table("control").get("P", "S") == {"PK": "P", "SK": "S"}
    injected.close()
    assert injected.client is store.client  # not rebuilt: it was never ours to close


# ------------------------------------------------------------------------------------- stream


def test_stream_position_round_trips_through_json(store: DynamoDBStore) -> None:
    table = store.table("joblog")
    for i in range(5):
        table.put({"PK": "PIPELINE#a", "SK": f"JOB#cron#2026-03-02#{i}", "event": "success"})
    first = table.changes(limit=2)
    position = json.loads(json.dumps(first.position))
    rest = table.changes(position, limit=100)
    keys = [r["dynamodb"]["Keys"]["SK"]["S"] for r in first.records + rest.records]
    assert keys == [f"JOB#cron#2026-03-02#{i}" for i in range(5)]
    assert table.changes(json.loads(json.dumps(rest.position))).records == []


def test_stream_records_have_the_lambda_shape(store: DynamoDBStore) -> None:
    table = store.table("control")
    table.put({"PK": "PIPELINE#a", "SK": "SENSOR#s", "data": {"count": 3}})
    (record,) = table.changes().records
    assert record["eventName"] == "INSERT"
    assert record["eventSource"] == "aws:dynamodb"
    assert record["awsRegion"] == REGION
    assert record["eventSourceARN"].startswith("arn:aws:dynamodb:")
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    assert record["dynamodb"]["NewImage"]["data"] == {"M": {"count": {"N": "3"}}}
    json.dumps(record)  # JSON-able, as a Lambda event is


def test_a_table_without_a_stream_has_no_change_feed(store: DynamoDBStore) -> None:
    with pytest.raises(StoreError, match="no stream"):
        store.table("rerun").changes()
    with pytest.raises(StoreError, match="position"):
        store.table("control").changes(after="42")


def test_a_control_table_created_without_a_stream_is_refused(aws: None) -> None:
    definition = table_definition(ENV, CONTROL)
    del definition["StreamSpecification"]
    store = DynamoDBStore(ENV, region=REGION)
    store.client.create_table(**definition)
    with pytest.raises(StoreError, match="no stream enabled"):
        store.table("control").changes()


# ---------------------------------------------------------------------------------- expiry


def test_reading_an_expired_item_purges_it_with_a_remove(
    store: DynamoDBStore, clock: FakeClock
) -> None:
    table = store.table("control")
    table.put({"PK": "PIPELINE#a", "SK": "ACK#cron#2026-03-02", "ttl": int(clock()) + 60})
    clock.advance(60)
    assert _raw_get(store, "control", "PIPELINE#a", "ACK#cron#2026-03-02") is not None
    assert table.get("PIPELINE#a", "ACK#cron#2026-03-02") is None
    assert _raw_get(store, "control", "PIPELINE#a", "ACK#cron#2026-03-02") is None
    insert, remove = table.changes().records
    assert (insert["eventName"], remove["eventName"]) == ("INSERT", "REMOVE")
    # marked as DynamoDB marks its TTL deletions; a delete by a caller is not
    assert remove["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    table.put({"PK": "PIPELINE#a", "SK": "OVERRIDE#dry-run", "ttl": int(clock()) + 60})
    table.delete("PIPELINE#a", "OVERRIDE#dry-run")
    assert "userIdentity" not in table.changes().records[-1]


def test_equals_never_matches_another_type(store: DynamoDBStore) -> None:
    # DynamoDB: True is not 1 and "1" is not 1 (moto alone would find True = 1).
    table = store.table("control")
    table.put({"PK": "P", "SK": "S", "flag": True, "n": 1})
    for condition in (equals("flag", 1), equals("n", "1"), equals("n", True)):
        with pytest.raises(ConflictError):
            table.update("P", "S", set={"x": 1}, condition=condition)
    assert table.update("P", "S", set={"x": 1}, condition=equals("n", 1.0))["x"] == 1


def test_writes_never_merge_into_an_expired_item(store: DynamoDBStore, clock: FakeClock) -> None:
    table = store.table("control")
    table.put({"PK": "P", "SK": "count", "n": 5, "old": True, "ttl": int(clock()) + 1})
    clock.advance(1)
    # GIVEN an expired item still stored: exists() fails, absent() holds, ADD starts from 0
    with pytest.raises(ConflictError):
        table.update("P", "count", add={"n": 1}, condition=exists())
    assert table.update("P", "count", add={"n": 1}, condition=absent()) == {
        "PK": "P",
        "SK": "count",
        "n": 1,
    }
    names = [r["eventName"] for r in table.changes().records]
    assert names == ["INSERT", "REMOVE", "INSERT"]


def test_a_non_number_ttl_never_expires(store: DynamoDBStore, clock: FakeClock) -> None:
    table = store.table("control")
    table.put({"PK": "P", "SK": "S", "ttl": "soon"})
    clock.advance(10**9)
    assert table.get("P", "S") == {"PK": "P", "SK": "S", "ttl": "soon"}
    table.put({"PK": "P", "SK": "S", "v": 1}, condition=exists())


def test_pages_stay_full_across_expired_items(store: DynamoDBStore, clock: FakeClock) -> None:
    table = store.table("control")
    for i in range(9):
        expiring = {"ttl": int(clock())} if i % 3 else {}
        table.put({"PK": "P", "SK": f"S#{i}", **expiring})
    # live: S#0, S#3, S#6
    first = table.query("P", limit=2)
    assert [i["SK"] for i in first.items] == ["S#0", "S#3"]
    second = table.query("P", limit=2, cursor=json.loads(json.dumps(first.cursor)))
    assert [i["SK"] for i in second.items] == ["S#6"]
    assert second.cursor is None
    assert table.count("P") == 3
    exact = table.query("P", limit=3)
    assert len(exact.items) == 3 and exact.cursor is None


# ----------------------------------------------------------------- make test's DynamoDB Local wrapper


def test_the_wrapper_runs_the_command_without_dynamodb_local_and_says_why() -> None:
    script = str(Path(__file__).resolve().parents[2] / "scripts" / "with_dynamodb_local.py")
    probe = "import os, sys; print(os.environ.get('DYNAMODB_LOCAL_UNAVAILABLE')); sys.exit(3)"
    done = subprocess.run(
        [sys.executable, script, sys.executable, "-c", probe],
        env={"PATH": ""},  # no java, no unshare
        capture_output=True,
        text=True,
    )
    assert done.returncode == 3  # the command's own status
    assert done.stdout.strip() == "java not found"
    assert done.stderr.splitlines() == [
        "with_dynamodb_local: DynamoDB Local not started (java not found); "
        "running the command without it"
    ]
