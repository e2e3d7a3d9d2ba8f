"""Faults in AWS, at the batch level: the real stream-router handler over moto.

A Step Functions StartExecution refused, an EventBridge PutEvents whose entries keep failing, and a
Lambda killed mid-batch: only the affected record's SequenceNumber is reported (Powertools partial
batch response), and its redelivery starts and publishes once. Faults are injected in moto's backends
(a third-party seam); the EventBridge adapter's retry pause is set to zero on the runtime built here.
"""

# The AWS world's fixtures are imported from the end-to-end tests and requested by name, which ruff
# reads as redefinitions of the imported names.
# ruff: noqa: F811

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import boto3  # type: ignore[import-untyped]
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from moto.core.exceptions import JsonRESTError
from moto.dynamodb.models import DynamoDBBackend
from moto.events.models import EventsBackend
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from interlock.aws.runtime import AwsRuntime
from interlock.events import EventType
from tests.aws.conftest import REGION
from tests.aws.harness import ENV, FakeContext
from tests.aws.test_end_to_end import (  # noqa: F401 - fixtures used by name
    PID,
    TODAY,
    job,
    produce,
    push,
    slack,
    world,
)

if TYPE_CHECKING:
    from pathlib import Path

    from tests.aws.harness import AwsWorld
    from tests.aws.test_end_to_end import JobServer


class Killed(BaseException):
    """The Lambda's process died (timeout, out of memory): nothing after this point runs."""


def router(world: AwsWorld) -> Any:
    """A stream-router whose EventBridge retries do not pause (the handler is the real one)."""
    runtime = AwsRuntime.from_env("stream_router")
    runtime.bus.sleep = lambda _seconds: None  # type: ignore[attr-defined]
    handler = world.recorder.wrap("stream_router", world.modules["stream_router"].build(runtime))
    return lambda records: handler({"Records": records}, FakeContext("stream-router"))


def fail_calls(
    monkeypatch: pytest.MonkeyPatch, backend: type, method: str, times: int, error: Any
) -> list[int]:
    """Make ``backend.method`` fail its next ``times`` calls (``error(args)`` is raised or returned)."""
    real = getattr(backend, method)
    left = [times]

    def flaky(self: Any, *args: Any, **kwargs: Any) -> Any:
        if left[0] > 0:
            left[0] -= 1
            out = error(self, real, *args, **kwargs)
            if out is not None:
                return out
        return real(self, *args, **kwargs)

    monkeypatch.setattr(backend, method, flaky)
    return left


def sequence_numbers(records: list[dict[str, Any]]) -> list[str]:
    return [r["dynamodb"]["SequenceNumber"] for r in records]


def executions(world: AwsWorld) -> list[str]:
    return sorted(e["name"] for e in world.executions())


def run_once(world: AwsWorld, job: JobServer, tmp_path: Path) -> None:
    push(tmp_path, job.url)
    world.route(world.stream_records("control"))
    produce()
    world.pump()
    assert executions(world) == [f"{PID}-stream-{TODAY}-a1"]


def test_a_refused_start_fails_only_its_record_and_the_retry_starts_once(
    world: AwsWorld, job: JobServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN Step Functions refuses the next StartExecution (not retried by botocore: a 400)
    push(tmp_path, job.url)
    world.route(world.stream_records("control"))
    route = router(world)

    def refuse(*_: Any, **__: Any) -> None:
        raise JsonRESTError("ExecutionLimitExceeded", "too many executions")

    fail_calls(monkeypatch, StepFunctionsParserBackend, "start_execution", 1, refuse)
    produce()
    records = world.stream_records("control")
    # WHEN the batch is routed
    out = route(records)
    # THEN only the trigger's record failed (the run row it took was released), nothing started
    (failed,) = out["batchItemFailures"]
    assert failed["itemIdentifier"] == sequence_numbers(records)[-1]
    assert executions(world) == []
    assert world.store.control.get_run(PID, "stream", TODAY) is None
    # AND its redelivery starts the run once, the job is called once
    retry = [r for r in records if r["dynamodb"]["SequenceNumber"] == failed["itemIdentifier"]]
    assert route(retry) == {"batchItemFailures": []}
    world.pump()
    assert executions(world) == [f"{PID}-stream-{TODAY}-a1"]
    assert len(job.calls) == 1


def test_a_lambda_killed_between_the_run_row_and_the_start_is_redelivered_and_starts_once(
    world: AwsWorld, job: JobServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    push(tmp_path, job.url)
    world.route(world.stream_records("control"))
    route = router(world)

    def die(
        self: Any, real: Any, table_name: str, item_attrs: dict[str, Any], *a: Any, **k: Any
    ) -> Any:
        # killed while writing the first-sensor-arrival row: after the run row, before the start
        if str(item_attrs.get("SK", {}).get("S", "")).startswith("SENSOR#first-sensor-arrival"):
            raise Killed
        return real(self, table_name, item_attrs, *a, **k)

    fail_calls(monkeypatch, DynamoDBBackend, "put_item", 10, die)
    produce()
    records = world.stream_records("control")
    try:
        route(records)
    except Killed:
        pass
    else:
        raise AssertionError("the Lambda was not killed")
    run = world.store.control.get_run(PID, "stream", TODAY)
    assert run is not None and run.status == "RUNNING"  # the row was taken, no execution
    assert executions(world) == []
    # the whole batch comes again (Lambda redelivers a failed invocation's batch)
    assert route(records) == {"batchItemFailures": []}
    assert route(records) == {"batchItemFailures": []}  # and once more, a duplicate delivery
    world.pump()
    assert executions(world) == [f"{PID}-stream-{TODAY}-a1"]
    assert len(job.calls) == 1


def _failed_entries(self: Any, real: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"} for _ in events]


def test_refused_put_events_fail_the_record_and_nothing_is_lost_or_doubled(
    world: AwsWorld, job: JobServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a completed run, and a producer re-writing the trigger (late data → a late-data rerun)
    run_once(world, job, tmp_path)
    route = router(world)
    world.sink()
    table = boto3.resource("dynamodb", region_name=REGION).Table(f"{ENV}-interlock-control")
    table.put_item(
        Item={
            "PK": f"PIPELINE#{PID}",
            "SK": "SENSOR#upstream-complete",
            "data": {"status": "ready", "rows": 2},
            "updatedAt": "2999-01-01T00:00:00Z",
        }
    )
    # WHEN EventBridge refuses every entry of the next 4 PutEvents calls (the adapter's attempts)
    fail_calls(monkeypatch, EventsBackend, "put_events", 4, _failed_entries)
    records = world.stream_records("control")
    # THEN the batch (its one record) fails as a whole: Lambda retries it
    with pytest.raises(BatchProcessingError):
        route(records)
    # nothing of the late-data decision stayed written: no rerun request, no job-log row (its
    # publish claim was taken and given back)
    written = [r["dynamodb"]["Keys"]["SK"]["S"] for r in world.stream_records("control")]
    assert not [sk for sk in written if sk.startswith("RERUN_REQUEST#")], written
    assert world.stream_records("joblog") == []
    # AND on redelivery (and the rerun request it writes, whose RERUN_ACCEPTED is refused in turn)
    assert route(records) == {"batchItemFailures": []}
    batch = world.stream_records("control")
    fail_calls(monkeypatch, EventsBackend, "put_events", 4, _failed_entries)
    failed = {f["itemIdentifier"] for f in route(batch)["batchItemFailures"]}
    (request,) = [r for r in batch if r["dynamodb"]["SequenceNumber"] in failed]
    assert request["dynamodb"]["Keys"]["SK"]["S"].startswith("RERUN_REQUEST#")
    assert route([request]) == {"batchItemFailures": []}
    world.pump()
    world.sink()
    # THEN one late-data arrival, one accepted rerun, one second attempt, one more job call
    types = Counter(world.event_types(PID))
    assert types[EventType.LATE_DATA_ARRIVAL] == 1
    assert types[EventType.RERUN_ACCEPTED] == 1
    assert executions(world) == [f"{PID}-stream-{TODAY}-a1", f"{PID}-stream-{TODAY}-a2"]
    assert len(job.calls) == 2
