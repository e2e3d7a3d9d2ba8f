"""Tests for ``interlock.lifecycle.router``: classifying stream records and the trigger-sensor path."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from interlock.config.models import Calendar, PipelineConfig
from interlock.events import EventType
from interlock.lifecycle import (
    AcquireRun,
    Claim,
    ConfigChanged,
    Ignored,
    JobLogWrite,
    Malformed,
    PublishEvent,
    PutBookkeeping,
    RerunRequested,
    SensorWrite,
    StartExecution,
    decide_sensor,
    execution_name,
    route,
)
from interlock.store.codec import marshal_item

NOW = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)  # a Wednesday


def record(
    event_name: str = "INSERT",
    *,
    pk: str | None = "PIPELINE#orders",
    sk: str | None = "SENSOR#orders-landed",
    image: dict[str, Any] | None = None,
    seq: str = "100",
) -> dict[str, Any]:
    keys: dict[str, Any] = {}
    if pk is not None:
        keys["PK"] = pk
    if sk is not None:
        keys["SK"] = sk
    ddb: dict[str, Any] = {"Keys": marshal_item(keys), "SequenceNumber": seq}
    if image is not None:
        ddb["NewImage"] = marshal_item({**keys, **image})
    return {"eventID": "e-1", "eventName": event_name, "dynamodb": ddb}


def config(**overrides: Any) -> PipelineConfig:
    raw: dict[str, Any] = {
        "pipeline": {"id": "orders"},
        "schedule": {
            "trigger": {"key": "orders", "check": "equals", "field": "status", "value": "ready"}
        },
        "job": {"type": "command", "config": {"command": "true"}},
    }
    for key, value in overrides.items():
        if key == "schedule":
            raw["schedule"] = {**raw["schedule"], **value}
        else:
            raw[key] = value
    return PipelineConfig.model_validate(raw)


def write(key: str = "orders-landed", **fields: Any) -> SensorWrite:
    return SensorWrite("orders", key, fields, "100")


# ------------------------------------------------------------------------------ route()


@pytest.mark.parametrize("event_name", ["INSERT", "MODIFY"])
def test_sensor_insert_and_modify(event_name: str) -> None:
    got = route(record(event_name, image={"data": {"status": "ready", "count": 12}}))
    assert got == SensorWrite("orders", "orders-landed", {"status": "ready", "count": 12}, "100")


def test_flat_sensor_reads_like_data_map() -> None:
    got = route(record(image={"status": "ready", "ttl": 5}))
    assert isinstance(got, SensorWrite)
    assert got.fields == {"status": "ready"}


def test_remove_is_ignored_for_every_kind() -> None:
    for sk in ("SENSOR#x", "RERUN_REQUEST#stream#2026-03-04", "CONFIG", "JOB#stream#2026-03-04#1"):
        got = route(record("REMOVE", sk=sk))
        assert isinstance(got, Ignored)
        assert got.sequence == "100"
    assert isinstance(route(record("REMOVE", pk=None, sk=None)), Ignored)


def test_job_log_record() -> None:
    got = route(
        record(sk="JOB#stream#2026-03-04#1772616600000", image={"event": "success", "runId": "r1"})
    )
    assert isinstance(got, JobLogWrite)
    assert (got.pipeline_id, got.schedule, got.period, got.event) == (
        "orders",
        "stream",
        "2026-03-04",
        "success",
    )
    assert got.item["runId"] == "r1"
    assert got.sequence == "100"


def test_job_log_without_event_is_ignored() -> None:
    got = route(record(sk="JOB#stream#2026-03-04#1772616600000", image={"runId": "r1"}))
    assert isinstance(got, Ignored)


def test_rerun_request_with_and_without_reason() -> None:
    sk = "RERUN_REQUEST#cron#2026-03-04T10"
    assert route(record("MODIFY", sk=sk, image={"reason": "late-data"})) == RerunRequested(
        "orders", "cron", "2026-03-04T10", "late-data", "100"
    )
    got = route(record(sk=sk, image={}))
    assert isinstance(got, RerunRequested)
    assert got.reason == "manual"


def test_config_changed() -> None:
    assert route(record(sk="CONFIG", image={"config": "{}"})) == ConfigChanged("orders", "100")


@pytest.mark.parametrize("sk", ["TRIGGER#stream#2026-03-04", "DRY_RUN#stream#2026-03-04"])
def test_other_rows_are_ignored(sk: str) -> None:
    assert isinstance(route(record(sk=sk, image={"status": "RUNNING"})), Ignored)


@pytest.mark.parametrize(
    ("pk", "sk"),
    [
        (None, "SENSOR#x"),
        ("PIPELINE#orders", None),
        ("ORDERS", "SENSOR#x"),
        ("PIPELINE#", "SENSOR#x"),
        ("PIPELINE#orders", "SENSOR#"),
        ("PIPELINE#orders", "JOB#stream#2026-03-04"),
        ("PIPELINE#orders", "JOB#stream#2026-03-04#notms"),
        ("PIPELINE#orders", "RERUN_REQUEST#stream"),
    ],
)
def test_malformed_keys(pk: str | None, sk: str | None) -> None:
    got = route(record(pk=pk, sk=sk, image={"event": "success"}, seq="777"))
    assert isinstance(got, Malformed)
    assert got.sequence == "777"


def test_malformed_shapes() -> None:
    assert isinstance(route({"eventName": "INSERT"}), Malformed)
    assert isinstance(route({"eventName": "UPSERT", "dynamodb": {}}), Malformed)
    bad_av = record()
    bad_av["dynamodb"]["NewImage"] = {"x": {"XS": ["a"]}}  # not a DynamoDB type
    assert isinstance(route(bad_av), Malformed)
    no_image = route(record(image=None))
    assert isinstance(no_image, Malformed)
    assert "NewImage" in no_image.reason


# ------------------------------------------------------------------------------ decide_sensor()


def test_trigger_sensor_starts_a_run() -> None:
    d = decide_sensor(config(), write(status="ready", date="2026-03-04"), now=NOW, calendars={})
    assert d.next == "start"
    acquire, arrival, start = d.actions
    assert acquire == AcquireRun("orders", "stream", "2026-03-04", NOW, record="100")
    assert arrival == PutBookkeeping(
        "orders",
        "first-sensor-arrival",
        "2026-03-04",
        {"arrivedAt": "2026-03-04T09:30:00Z"},
        NOW,
        once=True,
    )
    assert isinstance(start, StartExecution)
    assert start.name == "orders-stream-2026-03-04-a1"
    assert dict(start.input) == {
        "pipelineId": "orders",
        "scheduleId": "stream",
        "period": "2026-03-04",
        "attempt": 1,
    }
    assert not any(
        isinstance(a, PublishEvent) for a in d.actions
    )  # JOB_TRIGGERED: trigger step only


def test_prefix_match_and_non_matching_key() -> None:
    cfg = config()
    assert (
        decide_sensor(cfg, write("orders", status="ready"), now=NOW, calendars={}).next == "start"
    )
    miss = decide_sensor(cfg, write("shipments", status="ready"), now=NOW, calendars={})
    assert miss.next is None
    assert miss.actions == ()
    assert "prefix" in miss.reason


def test_bookkeeping_rows_never_trigger() -> None:
    cfg = config(schedule={"trigger": {"key": "first"}})
    d = decide_sensor(cfg, write("first-sensor-arrival#2026-03-04"), now=NOW, calendars={})
    assert d.next is None
    assert "bookkeeping" in d.reason


def test_failing_trigger_check() -> None:
    d = decide_sensor(config(), write(status="pending"), now=NOW, calendars={})
    assert (d.next, d.actions) == (None, ())
    assert "trigger check" in d.reason


def test_no_trigger_is_ignored() -> None:
    cfg = PipelineConfig.model_validate(
        {
            "pipeline": {"id": "orders"},
            "schedule": {"cron": "0 6 * * *"},
            "job": {"type": "command", "config": {"command": "true"}},
        }
    )
    assert decide_sensor(cfg, write(status="ready"), now=NOW, calendars={}).next is None


def test_hourly_period_from_date_and_hour_and_cron_schedule() -> None:
    cfg = config(schedule={"cron": "0 * * * *"})
    d = decide_sensor(cfg, write(status="ready", date="20260304", hour="07"), now=NOW, calendars={})
    assert d.next == "start"
    assert d.actions[0] == AcquireRun("orders", "cron", "2026-03-04T07", NOW, record="100")
    start = d.actions[2]
    assert isinstance(start, StartExecution)
    assert start.name == "orders-cron-2026-03-04T07-a1"


def test_dateless_sensor_uses_today_in_pipeline_zone() -> None:
    late = datetime(2026, 3, 4, 23, 30, tzinfo=UTC)
    cfg = config(schedule={"timezone": "Asia/Tokyo"})
    d = decide_sensor(cfg, write(status="ready"), now=late, calendars={})
    assert d.output["period"] == "2026-03-05"


@pytest.mark.parametrize(
    ("date", "why"),
    [
        ("2026-02-30", "not a real date"),
        ("2026-99-98", "not a real date"),
        (20260302, "must be a string"),  # numeric: a producer's int, never guessed
        ("yesterday", "write YYYY-MM-DD or YYYYMMDD"),
    ],
)
def test_bad_date_publishes_sensor_invalid_and_starts_nothing(date: Any, why: str) -> None:
    d = decide_sensor(config(), write(status="ready", date=date), now=NOW, calendars={})
    assert d.next is None
    (event,) = d.actions
    assert isinstance(event, PublishEvent)
    assert event.type is EventType.SENSOR_INVALID
    assert (event.schedule_id, event.period) == ("stream", None)
    assert event.detail["sensorKey"] == "orders-landed"
    assert (event.detail["field"], event.detail["value"]) == ("date", date)
    assert why in event.detail["reason"] and why in d.reason
    assert d.output["invalid"] == d.reason


def test_excluded_day_publishes_pipeline_excluded() -> None:
    cfg = config(schedule={"exclude": {"weekends": True}})
    d = decide_sensor(cfg, write(status="ready", date="2026-03-07"), now=NOW, calendars={})
    assert d.next is None
    claim, event = d.actions  # the claim makes it once per period, however many sensors arrive
    assert claim == Claim("orders", "PIPELINE_EXCLUDED", "stream", "2026-03-07", NOW)
    assert isinstance(event, PublishEvent)
    assert event.type is EventType.PIPELINE_EXCLUDED
    assert (event.schedule_id, event.period) == ("stream", "2026-03-07")
    assert "Saturday" in event.message


def test_excluded_by_calendar_and_include_list() -> None:
    cal = Calendar(name="ops", dates=("2026-03-04",))
    cfg = config(schedule={"calendar": "ops"})
    d = decide_sensor(
        cfg, write(status="ready", date="2026-03-04"), now=NOW, calendars={"ops": cal}
    )
    assert isinstance(d.actions[1], PublishEvent)
    cfg2 = config(schedule={"include": {"dates": ["2026-03-05"]}})
    d2 = decide_sensor(cfg2, write(status="ready", date="2026-03-04"), now=NOW, calendars={})
    assert isinstance(d2.actions[1], PublishEvent)
    assert "include" in d2.actions[1].message
    unknown = decide_sensor(cfg, write(status="ready", date="2026-03-04"), now=NOW, calendars={})
    assert unknown.next is None
    assert "unknown" in unknown.reason


def test_dry_run_starts_nothing() -> None:
    cfg = config(dryRun=True, schedule={"exclude": {"weekends": True}})
    d = decide_sensor(cfg, write(status="ready", date="2026-03-07"), now=NOW, calendars={})
    assert d.next == "dry-run"
    assert d.actions == ()
    assert d.output["excluded"] == "Saturday (weekends excluded)"


# ------------------------------------------------------------------------------ execution names


def test_execution_names_are_deterministic() -> None:
    a = execution_name("orders", "stream", "2026-03-04", 1)
    assert a == execution_name("orders", "stream", "2026-03-04", 1) == "orders-stream-2026-03-04-a1"
    assert execution_name("orders", "stream", "2026-03-04", 2).endswith("-a2")


def test_unsafe_characters_are_replaced_and_hashed() -> None:
    dotted = execution_name("orders.eu", "stream", "2026-03-04", 1)
    underscored = execution_name("orders_eu", "stream", "2026-03-04", 1)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", dotted)
    assert dotted != underscored  # the hash keeps sanitised ids apart
    assert dotted.endswith("-stream-2026-03-04-a1")


def test_very_long_pipeline_id_is_cut_with_hash() -> None:
    long_a = "p" * 200
    long_b = "p" * 199 + "q"
    a = execution_name(long_a, "stream", "2026-03-04T10", 3)
    b = execution_name(long_b, "stream", "2026-03-04T10", 3)
    assert len(a) == len(b) == 80
    assert a != b
    assert a.endswith("-stream-2026-03-04T10-a3")
    assert a == execution_name(long_a, "stream", "2026-03-04T10", 3)
    # the longest real id (64 characters) also fits
    real = execution_name("x" * 64, "stream", "2026-03-04T10", 10)
    assert len(real) <= 80
    assert real.endswith("-a10")
