"""Same record redelivered vs the producer wrote again (issue 11 point 7): the write's id decides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from interlock.config.models import PipelineConfig
from interlock.events import EventType
from interlock.lifecycle import PublishEvent
from interlock.lifecycle.postrun import decide_late_data
from interlock.lifecycle.router import SensorWrite, route
from interlock.records import JobEntry, JobEvent, RunRow, RunStatus
from interlock.store.codec import marshal_item

FINISHED = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
KEYS = {"PK": "PIPELINE#orders", "SK": "SENSOR#orders-landed"}


def modify(
    old: dict[str, Any] | None, new: dict[str, Any], event: str = "MODIFY"
) -> dict[str, Any]:
    ddb: dict[str, Any] = {
        "Keys": marshal_item(KEYS),
        "SequenceNumber": "7",
        "NewImage": marshal_item({**KEYS, **new}),
    }
    if old is not None:
        ddb["OldImage"] = marshal_item({**KEYS, **old})
    return {"eventName": event, "dynamodb": ddb}


def test_a_record_that_changed_nothing_is_marked_unchanged() -> None:
    same = route(modify({"status": "ready"}, {"status": "ready"}))
    assert isinstance(same, SensorWrite) and same.unchanged is True
    changed = route(modify({"status": "ready"}, {"status": "ready", "rows": 2}))
    assert isinstance(changed, SensorWrite) and changed.unchanged is False
    restamped = route(
        modify(
            {"data": {"status": "ready"}, "updatedAt": "2026-03-04T09:00:00Z"},
            {"data": {"status": "ready"}, "updatedAt": "2026-03-04T10:00:00Z"},
        )
    )
    assert isinstance(restamped, SensorWrite) and restamped.unchanged is False  # a new write
    inserted = route(modify(None, {"status": "ready"}, event="INSERT"))
    assert isinstance(inserted, SensorWrite) and inserted.unchanged is False
    unreadable_old = modify({"status": "ready"}, {"status": "ready"})
    unreadable_old["dynamodb"]["OldImage"] = {"x": {"XS": ["?"]}}
    odd = route(unreadable_old)
    assert isinstance(odd, SensorWrite) and odd.unchanged is False


def config() -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "pipeline": {"id": "orders"},
            "schedule": {"trigger": {"key": "orders-landed"}},
            "job": {"type": "command", "config": {"command": "true"}},
        }
    )


def late(written_at: datetime | None, unchanged: bool = False) -> list[EventType]:
    decision = decide_late_data(
        config(),
        sensor_key="orders-landed",
        schedule_id="stream",
        period="2026-03-04",
        run_row=RunRow(
            "orders", "stream", "2026-03-04", RunStatus.COMPLETED, 1, finished_at=FINISHED
        ),
        latest_job=JobEntry(JobEvent.SUCCESS, FINISHED),
        now=FINISHED + timedelta(hours=1),
        written_at=written_at,
        unchanged=unchanged,
    )
    return [a.type for a in decision.actions if isinstance(a, PublishEvent)]


@pytest.mark.parametrize(
    ("written_at", "unchanged", "expected"),
    [
        (FINISHED - timedelta(minutes=31), False, []),  # the write the run saw, redelivered
        (FINISHED, False, []),
        (None, True, []),  # a record that changed nothing (a no-op rewrite or its redelivery)
        (FINISHED + timedelta(hours=1), True, []),  # same write id, same content: nothing new
        (FINISHED + timedelta(hours=1), False, [EventType.LATE_DATA_ARRIVAL]),  # wrote again
        (None, False, [EventType.LATE_DATA_ARRIVAL]),  # changed content, no write id
    ],
)
def test_late_data_needs_a_new_write(
    written_at: datetime | None, unchanged: bool, expected: list[EventType]
) -> None:
    assert late(written_at, unchanged) == expected


def test_without_updated_at_the_write_is_known_by_when_dynamodb_wrote_it() -> None:
    # the second after the record's ApproximateCreationDateTime (epoch seconds, rounded down)
    rec = modify(None, {"status": "ready"}, event="INSERT")
    rec["dynamodb"]["ApproximateCreationDateTime"] = FINISHED.timestamp() - 60.4
    got = route(rec)
    assert isinstance(got, SensorWrite)
    assert got.updated_at == FINISHED - timedelta(seconds=60)
    # the producer's own updatedAt wins
    stamped = modify(None, {"status": "ready", "updatedAt": "2026-03-04T08:00:00Z"}, event="INSERT")
    stamped["dynamodb"]["ApproximateCreationDateTime"] = FINISHED.timestamp()
    got = route(stamped)
    assert isinstance(got, SensorWrite) and got.updated_at == datetime(2026, 3, 4, 8, tzinfo=UTC)
    # neither: unknown
    got = route(modify(None, {"status": "ready"}, event="INSERT"))
    assert isinstance(got, SensorWrite) and got.updated_at is None


def test_a_write_in_the_second_the_run_finished_still_counts_as_late_data() -> None:
    rec = modify(None, {"status": "ready"}, event="INSERT")
    rec["dynamodb"]["ApproximateCreationDateTime"] = FINISHED.timestamp() + 0.2
    got = route(rec)
    assert isinstance(got, SensorWrite) and got.updated_at is not None
    assert got.updated_at > FINISHED  # rounded up: never before the finish it may follow
    # AWS rounds the creation time down to the second: 09:30:00 may be 09:30:00.9, after the finish
    rec["dynamodb"]["ApproximateCreationDateTime"] = int(FINISHED.timestamp())
    got = route(rec)
    assert isinstance(got, SensorWrite) and got.updated_at == FINISHED + timedelta(seconds=1)


def test_the_record_that_started_the_run_replayed_in_its_finish_second_is_not_late_data() -> None:
    """Found by `make tf-apply-moto`: a trigger write with no updatedAt at 09:30:00.2 started a run that
    finished at 09:30:00.8; the watchdog replayed the stream batch holding that write, dated 09:30:01 (the
    second after its ApproximateCreationDateTime), and a rerun started. The run's startRecord names it."""
    started = datetime(2026, 3, 4, 9, 30, 0, 800_000, tzinfo=UTC)
    rec = modify(None, {"status": "ready"}, event="INSERT")
    rec["dynamodb"]["ApproximateCreationDateTime"] = int(started.timestamp())
    write = route(rec)
    assert isinstance(write, SensorWrite) and write.updated_at is not None
    assert write.updated_at > started  # by time alone it would look written after the finish

    def decide(run_started_by: str | None) -> list[EventType]:
        decision = decide_late_data(
            config(),
            sensor_key="orders-landed",
            schedule_id="stream",
            period="2026-03-04",
            run_row=RunRow(
                "orders",
                "stream",
                "2026-03-04",
                RunStatus.COMPLETED,
                1,
                finished_at=started,
                start_record=run_started_by,
            ),  # fmt: skip
            latest_job=JobEntry(JobEvent.SUCCESS, started),
            now=started + timedelta(seconds=3),
            written_at=write.updated_at,
            record=write.sequence,
        )
        return [a.type for a in decision.actions if isinstance(a, PublishEvent)]

    assert decide(write.sequence) == []  # the record that started the run, delivered again
    assert decide("6") == [EventType.LATE_DATA_ARRIVAL]  # another record: late data still caught
    assert decide(None) == [EventType.LATE_DATA_ARRIVAL]  # cron/watchdog runs: by time, as before
