"""The watchdog replays stream records the stream-router gave up on (interlock.aws.stream_replay).

Lambda's on-failure destination is not emulated: each test sends the message Lambda would send (a
``DDBStreamBatchInfo`` naming the real moto stream, shard and sequence numbers) to the stream DLQ the
harness created, as if the stream-router had failed the batch, then runs the watchdog handler.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3  # type: ignore[import-untyped]
import pytest
from moto import mock_aws

from interlock.aws import stream_replay
from interlock.aws.runtime import AwsRuntime, Settings
from interlock.cli import main as cli
from interlock.events import INFRASTRUCTURE, EventType
from interlock.ports import VirtualClock
from interlock.service.controller import WATCH_SWEEP
from tests.aws.conftest import REGION, set_aws_env
from tests.aws.harness import ENV, STORE_URL, AwsWorld, FakeContext, check_grants

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

CONFIG = """
pipeline: {id: PID}
schedule:
  trigger: {key: ready, check: exists}
validation: {rules: [{key: ready, check: exists}]}
job: {type: command, config: {command: "true"}}
"""


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[AwsWorld]:
    set_aws_env(monkeypatch)
    with mock_aws():  # executions are started, not executed: each StartExecution is counted
        built = AwsWorld(monkeypatch)
        folder = tmp_path / "pipelines"
        folder.mkdir()
        for pid in ("orders", "refunds"):
            (folder / f"{pid}.yaml").write_text(CONFIG.replace("PID", pid))
        assert cli(["config", "push", str(folder), "--store", STORE_URL]) == 0
        built.route(built.stream_records("control"))  # the CONFIG records, delivered
        yield built
        check_grants(built)


def write_sensor(pid: str, *, stamped: bool = True) -> None:
    """A producer's trigger sensor, written with boto3 as docs/producers.md shows (``stamped``: with
    its ``updatedAt``, which producers may leave out)."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    item = {
        "PK": {"S": f"PIPELINE#{pid}"},
        "SK": {"S": "SENSOR#ready"},
        "data": {"M": {"status": {"S": "ready"}}},
    }
    if stamped:
        item["updatedAt"] = {"S": now}
    boto3.client("dynamodb", region_name=REGION).put_item(
        TableName=f"{ENV}-interlock-control", Item=item
    )


def failed_batch(
    records: list[dict[str, Any]], *, shard: str | None = None, arn: str | None = None
) -> str:
    """The on-failure destination message Lambda sends for a batch of ``records``."""
    arn = arn or records[0]["eventSourceARN"]
    if shard is None:
        streams = boto3.client("dynamodbstreams", region_name=REGION)
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
    return json.dumps(
        {
            "requestContext": {
                "requestId": "c9b8fa9f-5a7f-4ea5-9d0f-0a1b2c3d4e5f",
                "functionArn": f"arn:aws:lambda:{REGION}:123456789012:function:stream-router",
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": 4,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },  # fmt: skip
            "version": "1.0",
            "timestamp": "2026-12-05T13:00:00.000Z",
            "DDBStreamBatchInfo": {
                "shardId": shard,
                "startSequenceNumber": seqs[0],
                "endSequenceNumber": seqs[-1],
                "approximateArrivalOfFirstRecord": "2026-12-05T12:59:00Z",
                "approximateArrivalOfLastRecord": "2026-12-05T12:59:00Z",
                "batchSize": len(records),
                "streamArn": arn,
            },
        }
    )


def dead_letter(world: AwsWorld, body: str, table: str = "control") -> None:
    world.sqs.send_message(QueueUrl=world.stream_dlqs[table], MessageBody=body)


def queued(world: AwsWorld, table: str = "control") -> int:
    attrs = world.sqs.get_queue_attributes(
        QueueUrl=world.stream_dlqs[table],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(
        attrs["ApproximateNumberOfMessagesNotVisible"]
    )


def starts(world: AwsWorld, pid: str) -> int:
    return sum(1 for e in world.executions() if e["name"].startswith(f"{pid}-"))


def published(world: AwsWorld, pid: str) -> list[EventType]:
    world.sink()
    return world.event_types(pid)


def watchdog_pass(world: AwsWorld, runtime: AwsRuntime | None = None) -> dict[str, Any]:
    runtime = runtime or AwsRuntime(Settings.from_env("watchdog"))
    out: dict[str, Any] = world.watchdog(runtime)({}, FakeContext("watchdog"))
    return out


def test_a_batch_the_stream_router_gave_up_on_starts_its_run_once_in_the_next_pass(
    world: AwsWorld,
) -> None:
    # GIVEN a trigger sensor whose batch the stream-router failed (never delivered here)
    write_sensor("orders")
    records = world.stream_records("control")
    assert [r["eventName"] for r in records] == ["INSERT"]
    dead_letter(world, failed_batch(records))
    assert starts(world, "orders") == 0
    # WHEN one watchdog pass runs
    out = watchdog_pass(world)
    # THEN the record started the run, exactly once, and the message is gone
    assert out["dlq"] == {
        "replayed": 1, "records": 1, "failed": 0, "lost": 0, "leftForHumans": 0, "deferred": False
    }  # fmt: skip
    assert starts(world, "orders") == 1
    assert queued(world) == 0
    types = published(world, "orders")
    assert (
        EventType.TRIGGER_RECOVERED not in types
    )  # the record did it, not the watchdog's recovery
    # AND the same message delivered again (SQS is at-least-once) starts nothing more
    dead_letter(world, failed_batch(records))
    watchdog_pass(world)
    assert starts(world, "orders") == 1
    assert queued(world) == 0


def test_a_batch_the_stream_router_had_partly_handled_is_replayed_without_a_second_start(
    world: AwsWorld,
) -> None:
    # GIVEN one batch of two trigger sensors: the router handled the first (its run started), then
    # failed on the second, and Lambda gave up on the whole batch
    write_sensor("orders")
    write_sensor("refunds")
    records = world.stream_records("control")
    assert len(records) == 2
    world.route(records[:1])
    assert (starts(world, "orders"), starts(world, "refunds")) == (1, 0)
    dead_letter(world, failed_batch(records))
    # WHEN the watchdog replays the batch
    runtime = AwsRuntime(Settings.from_env("watchdog"))
    report = runtime.replay_stream_failures()
    # THEN both records are handled, the first again changing nothing
    assert report is not None and (report.replayed, report.records) == (1, 2)
    assert (starts(world, "orders"), starts(world, "refunds")) == (1, 1)
    assert queued(world) == 0


def test_a_range_that_can_no_longer_be_read_is_reported_deleted_and_the_pass_goes_on(
    world: AwsWorld, caplog: pytest.LogCaptureFixture
) -> None:
    t0 = datetime.now(UTC).replace(microsecond=0)
    clock = VirtualClock(t0)
    runtime = AwsRuntime(Settings.from_env("watchdog"), clock=clock)
    watchdog_pass(world, runtime)  # the first pass sweeps; the next sweep is due in 6 hours
    assert world.store.control.sweep_state()[0] == t0 + WATCH_SWEEP
    # GIVEN a message naming a stream that no longer exists (its table was re-created; past the
    # 24 h retention AWS answers TrimmedDataAccessException instead: test_stream_replay.py)
    write_sensor("orders")
    records = world.stream_records("control")
    gone = records[0]["eventSourceARN"].replace("interlock-control/", "interlock-control-old/")
    shard = "shardId-00000001700000000000-deadbeef"
    dead_letter(world, failed_batch(records, shard=shard, arn=gone))
    # WHEN a watchdog pass runs, 20 minutes later
    clock.set(t0 + timedelta(minutes=20))
    with caplog.at_level("ERROR", logger="interlock.aws.stream_replay"):
        out = watchdog_pass(world, runtime)
    # THEN the error names the range, the message is deleted, the loss is published
    assert any(
        gone in r.getMessage() and shard in r.getMessage() and "no longer be read" in r.getMessage()
        for r in caplog.records
    )
    assert queued(world) == 0
    assert EventType.WATCHDOG_DEGRADED in published(world, INFRASTRUCTURE)
    # AND the pass did its usual work, sweeping every pipeline now (not 6 hours after the first)
    assert "decisions" in out
    assert world.store.control.sweep_state()[0] == t0 + timedelta(minutes=20) + WATCH_SWEEP
    # the sweep's trigger recovery found the trigger the lost record carried
    assert starts(world, "orders") == 1
    assert EventType.TRIGGER_RECOVERED in published(world, "orders")


def test_a_record_that_fails_again_leaves_its_message_until_the_retries_run_out(
    world: AwsWorld, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(stream_replay, "VISIBILITY", 0)  # each replay sees the message at once
    write_sensor("orders")
    records = world.stream_records("control")
    dead_letter(world, failed_batch(records))
    # GIVEN a runtime whose StartExecution fails (no such state machine)
    environ = dict(Settings.from_env("watchdog").environ)
    environ["STATE_MACHINE_ARN"] = environ["STATE_MACHINE_ARN"] + "-missing"
    broken = AwsRuntime(Settings(environ))
    # WHEN it replays: the record fails, the message stays (five tries)
    for attempt in range(1, stream_replay.MAX_RECEIVES + 1):
        report = broken.replay_stream_failures()
        assert report is not None and (report.failed, report.replayed) == (1, 0), attempt
        assert queued(world) == 1
    # THEN after five it is left for humans: not tried again, an error says so
    with caplog.at_level("ERROR", logger="interlock.aws.stream_replay"):
        report = broken.replay_stream_failures()
    assert report is not None and (report.failed, report.given_up) == (0, 1)
    assert queued(world) == 1
    assert any("left in the queue for a human" in r.getMessage() for r in caplog.records)
    assert starts(world, "orders") == 0


def test_a_record_that_fails_once_is_replayed_by_a_later_pass(
    world: AwsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_replay, "VISIBILITY", 0)
    write_sensor("orders")
    dead_letter(world, failed_batch(world.stream_records("control")))
    environ = dict(Settings.from_env("watchdog").environ)
    environ["STATE_MACHINE_ARN"] = environ["STATE_MACHINE_ARN"] + "-missing"
    failed = AwsRuntime(Settings(environ)).replay_stream_failures()
    assert failed is not None and failed.failed == 1 and queued(world) == 1
    # the cause fixed: the next pass replays it
    watchdog_pass(world)
    assert starts(world, "orders") == 1
    assert queued(world) == 0


def test_an_empty_dlq_costs_one_call_per_queue(world: AwsWorld) -> None:
    runtime = AwsRuntime(Settings.from_env("watchdog"))
    runtime.store  # noqa: B018 - the store's own clients built before counting
    calls: list[str] = []
    sqs = runtime._client("sqs")
    sqs.meta.events.register("before-call.sqs.*", lambda model, **_: calls.append(model.name))
    report = runtime.replay_stream_failures()
    assert report is not None and report.replayed == 0
    assert calls == ["GetQueueAttributes", "GetQueueAttributes"]


def test_without_dlq_urls_the_watchdog_replays_nothing(world: AwsWorld) -> None:
    environ = dict(Settings.from_env("watchdog").environ)
    environ.pop("STREAM_DLQ_CONTROL_URL")
    environ.pop("STREAM_DLQ_JOBLOG_URL")
    assert AwsRuntime(Settings(environ)).replay_stream_failures() is None


def test_a_job_log_batch_is_replayed_from_its_own_queue_and_announced_once(
    world: AwsWorld,
) -> None:
    # GIVEN the job-log row of a run's success (attempt 1), whose batch the stream-router failed
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    world.store.joblog.append(
        "orders", "stream", day, "success", now=datetime.now(UTC), detail={"attempt": 1}
    )
    records = world.stream_records("joblog")
    assert len(records) == 1
    dead_letter(world, failed_batch(records), table="joblog")
    # WHEN the watchdog passes, and the same message comes again (at-least-once delivery)
    watchdog_pass(world)
    assert queued(world, "joblog") == 0
    dead_letter(world, failed_batch(records), table="joblog")
    watchdog_pass(world)
    # THEN the success was announced once
    assert queued(world, "joblog") == 0
    assert published(world, "orders").count(EventType.JOB_COMPLETED) == 1


@pytest.mark.parametrize(
    "job_seconds",
    [
        2,  # the job ran after the write's second: its time says it is a replay
        # the job finished within the write's own second (found by make tf-apply-moto): dated the
        # second after its ApproximateCreationDateTime, the write looks later than the finish; the
        # run's startRecord says it is the record that started the run
        0,
    ],
)
def test_a_trigger_without_updated_at_replayed_after_its_run_succeeded_is_not_late_data(
    world: AwsWorld, job_seconds: int
) -> None:
    # GIVEN a trigger sensor written without updatedAt, whose run the stream-router started and
    # which then succeeded; Lambda had given up on a later record of the same batch
    write_sensor("orders", stamped=False)
    records = world.stream_records("control")
    world.route(records)
    assert starts(world, "orders") == 1
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    finished = datetime.now(UTC) + timedelta(seconds=job_seconds)
    world.store.joblog.append(
        "orders", "stream", day, "success", now=finished, detail={"attempt": 1}
    )
    world.store.control.set_run_status("orders", "stream", day, "COMPLETED", now=finished)
    world.stream_records("control")
    world.stream_records("joblog")
    # WHEN the watchdog replays the batch, after the run's success
    dead_letter(world, failed_batch(records))
    watchdog_pass(
        world,
        AwsRuntime(
            Settings.from_env("watchdog"), clock=VirtualClock(finished + timedelta(minutes=5))
        ),
    )
    # THEN the write is known by when DynamoDB wrote it (ApproximateCreationDateTime), before the
    # run finished: a replay, not late data; no rerun, no second execution
    assert queued(world) == 0
    assert EventType.LATE_DATA_ARRIVAL not in published(world, "orders")
    assert world.store.reruns.attempts("orders", "stream", day) == []
    assert starts(world, "orders") == 1
