"""Tests for ``interlock.service.executor`` (over a real SQLite store) and the fakes of ``interlock.ports``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest

from interlock.config.models import PipelineConfig
from interlock.events import EventType
from interlock.lifecycle import (
    AcquireRun,
    AppendJobLog,
    Decision,
    PublishEvent,
    PutBookkeeping,
    SensorWrite,
    SetRunStatus,
    StartExecution,
    WriteRerunRequest,
    decide_sensor,
)
from interlock.ports import (
    Clock,
    EventBus,
    ExecutionConflictError,
    Executions,
    FixedClock,
    RecordingBus,
    RecordingExecutions,
    VirtualClock,
)
from interlock.records import JobEvent, RunStatus
from interlock.service.executor import ApplyResult, Executor, OutcomeStatus
from interlock.store import open_store

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from interlock.store import Store

T0 = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
LOCK = timedelta(hours=4, minutes=30)
RUN = ("orders", "stream", "2026-03-04")


class StartFailedError(Exception):
    """What a Step Functions outage looks like to the executor in these tests."""


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(T0)


@pytest.fixture
def store(tmp_path: Path, clock: VirtualClock) -> Iterator[Store]:
    # The store's TTL decisions read the same virtual clock: on the wall clock, rows written "at T0"
    # would already have expired and a replay could acquire the run again.
    with open_store(f"sqlite:///{tmp_path}/t.db", now=lambda: clock.now().timestamp()) as opened:
        yield opened


@pytest.fixture
def bus() -> RecordingBus:
    return RecordingBus()


@pytest.fixture
def executions() -> RecordingExecutions:
    return RecordingExecutions()


@pytest.fixture
def executor(
    store: Store, bus: RecordingBus, executions: RecordingExecutions, clock: VirtualClock
) -> Executor:
    return Executor(store, bus, executions, clock)


def sensor_decision() -> Decision:
    config = PipelineConfig.model_validate(
        {
            "pipeline": {"id": "orders"},
            "schedule": {
                "trigger": {"key": "orders", "check": "equals", "field": "status", "value": "ready"}
            },
            "job": {"type": "command", "config": {"command": "true"}},
        }
    )
    write = SensorWrite("orders", "orders-landed", {"status": "ready", "date": "2026-03-04"}, "1")
    decision = decide_sensor(config, write, now=T0, calendars={})
    assert decision.next == "start"
    return decision


def event(type_: EventType, message: str = "", **detail: Any) -> PublishEvent:
    return PublishEvent(type_, RUN[0], RUN[1], RUN[2], message, T0, detail)


# ------------------------------------------------------------------------------ runs and starts


def test_replayed_sensor_decision_starts_one_execution_and_one_run(
    executor: Executor, store: Store, executions: RecordingExecutions
) -> None:
    # GIVEN the decision a trigger-sensor write produces
    decision = sensor_decision()

    # WHEN the same record is applied twice (a duplicate delivery or a replay)
    first = executor.apply(decision)
    second = executor.apply(decision)

    # THEN one run row and one execution; the replay never even asked to start one
    assert [o.status for o in first.outcomes] == [OutcomeStatus.APPLIED] * 3
    assert first.stopped is None
    assert first.execution_ids == ("local:execution:orders-stream-2026-03-04-a1",)
    assert executions.names() == ["orders-stream-2026-03-04-a1"]
    assert executions.calls == 1
    rows = store.control.runs("orders")
    assert [(r.period, r.status, r.attempt) for r in rows] == [("2026-03-04", RunStatus.RUNNING, 1)]

    assert second.stopped is not None and "already exists" in second.stopped
    assert [type(o.action) for o in second.conflicts] == [AcquireRun]
    assert [type(o.action) for o in second.skipped] == [PutBookkeeping, StartExecution]
    assert second.applied == ()
    assert second.execution_ids == ()


def test_acquire_lost_skips_every_remaining_action(
    executor: Executor, store: Store, bus: RecordingBus
) -> None:
    store.control.acquire_run(*RUN, now=T0, lock_ttl=LOCK)
    decision = Decision(
        actions=(
            AcquireRun(*RUN, T0),
            event(EventType.JOB_TRIGGERED),
            AppendJobLog(*RUN, JobEvent.SUCCESS, T0),
        )
    )

    result = executor.apply(decision)

    assert [o.status for o in result.outcomes] == [
        OutcomeStatus.CONFLICT,
        OutcomeStatus.SKIPPED,
        OutcomeStatus.SKIPPED,
    ]
    assert bus.events == []
    assert store.joblog.history(*RUN) == []


def test_start_failure_releases_the_run_row_and_reraises(
    executor: Executor, store: Store, executions: RecordingExecutions
) -> None:
    executions.error = StartFailedError("states:StartExecution throttled")

    with pytest.raises(StartFailedError, match="throttled"):
        executor.apply(sensor_decision())

    assert store.control.get_run(*RUN) is None
    assert executions.starts == []

    # the stream record is retried once Step Functions answers again, and now starts the run
    executions.error = None
    retried = executor.apply(sensor_decision())
    assert retried.stopped is None
    assert executions.names() == ["orders-stream-2026-03-04-a1"]
    row = store.control.get_run(*RUN)
    assert row is not None and row.status is RunStatus.RUNNING


def test_start_failure_keeps_a_run_row_this_decision_did_not_acquire(
    executor: Executor, store: Store, executions: RecordingExecutions
) -> None:
    store.control.acquire_run(*RUN, now=T0, lock_ttl=LOCK)
    executions.error = StartFailedError("down")
    start = StartExecution(*RUN, "orders-stream-2026-03-04-a1", {"attempt": 1})

    with pytest.raises(StartFailedError):
        executor.apply(Decision(actions=(start,)))

    assert store.control.get_run(*RUN) is not None


def test_a_repeated_start_with_the_same_name_returns_the_first_execution(
    executor: Executor, executions: RecordingExecutions
) -> None:
    # a record retried after its start reached Step Functions but its row was released
    start = StartExecution(*RUN, "orders-stream-2026-03-04-a1", {"attempt": 1})

    first = executor.apply(Decision(actions=(start,)))
    again = executor.apply(Decision(actions=(start,)))

    assert first.execution_ids == again.execution_ids
    assert len(executions.starts) == 1


def test_lock_ttl_of_the_executor_is_the_run_rows_lock(
    store: Store, bus: RecordingBus, executions: RecordingExecutions, clock: VirtualClock
) -> None:
    Executor(store, bus, executions, clock, lock_ttl=timedelta(hours=1)).apply(sensor_decision())

    row = store.control.get_run(*RUN)
    assert row is not None and row.lock_expires_at == T0 + timedelta(hours=1)


def test_lock_ttl_must_be_positive(
    store: Store, bus: RecordingBus, executions: RecordingExecutions, clock: VirtualClock
) -> None:
    with pytest.raises(ValueError, match="lock_ttl"):
        Executor(store, bus, executions, clock, lock_ttl=timedelta(0))


# ------------------------------------------------------------------------------------ events


def test_events_are_published_in_decision_order_with_the_clock_s_now(
    executor: Executor, store: Store, bus: RecordingBus, clock: VirtualClock
) -> None:
    later = clock.advance(timedelta(minutes=5))
    decision = Decision(
        actions=(
            event(EventType.JOB_FAILED, "job failed", runId="r-1"),
            AppendJobLog(*RUN, JobEvent.FAIL, T0),
            event(EventType.RETRY_EXHAUSTED),
        )
    )

    executor.apply(decision)

    assert bus.types() == [EventType.JOB_FAILED, EventType.RETRY_EXHAUSTED]
    failed, exhausted = bus.events
    assert failed.timestamp == later and exhausted.timestamp == later
    assert (failed.pipeline_id, failed.schedule_id, failed.date) == RUN
    assert failed.message == "job failed"
    assert dict(failed.detail) == {"runId": "r-1"}
    assert exhausted.message.startswith("RETRY_EXHAUSTED for orders")  # the catalogue's default
    # the executor publishes; the bus (not the executor) fans out to the events table
    assert store.events.for_pipeline("orders") == []


# ---------------------------------------------------------------------------- run status


def test_set_status_from_a_stale_attempt_is_reported_and_changes_nothing(
    executor: Executor, store: Store, bus: RecordingBus
) -> None:
    store.control.acquire_run(*RUN, now=T0, lock_ttl=LOCK)
    assert store.control.reset_run(*RUN, now=T0, lock_ttl=LOCK)  # a rerun: attempt 2
    stale = SetRunStatus(*RUN, RunStatus.FAILED_FINAL, 1, T0)
    decision = Decision(actions=(stale, event(EventType.JOB_FAILED)))

    result = executor.apply(decision)

    (conflict,) = result.conflicts
    assert conflict.action == stale
    assert "attempt 1" in conflict.reason and "attempt 2" in conflict.reason
    assert result.stopped is None
    assert bus.types() == [EventType.JOB_FAILED]  # later actions still apply
    row = store.control.get_run(*RUN)
    assert row is not None and (row.status, row.attempt) == (RunStatus.RUNNING, 2)


def test_set_status_of_the_current_attempt_finishes_the_run(
    executor: Executor, store: Store
) -> None:
    store.control.acquire_run(*RUN, now=T0, lock_ttl=LOCK)
    done = T0 + timedelta(minutes=20)

    result = executor.apply(Decision(actions=(SetRunStatus(*RUN, RunStatus.COMPLETED, 1, done),)))

    assert result.conflicts == ()
    row = store.control.get_run(*RUN)
    assert row is not None and row.status is RunStatus.COMPLETED and row.finished_at == done


def test_set_status_without_a_run_row_is_reported(executor: Executor) -> None:
    result = executor.apply(Decision(actions=(SetRunStatus(*RUN, RunStatus.COMPLETED, 1, T0),)))

    (conflict,) = result.conflicts
    assert "no run row" in conflict.reason


# ------------------------------------------------------------------------ job log and reruns


def test_job_log_row_is_appended(executor: Executor, store: Store) -> None:
    action = AppendJobLog(
        *RUN,
        JobEvent.FAIL,
        T0,
        run_id="r-7",
        error="exit 3",
        category="permanent",
        detail={"exitCode": 3},
    )

    result = executor.apply(Decision(actions=(action,)))

    assert result.applied == (action,)
    (entry,) = store.joblog.history(*RUN)
    assert (entry.event, entry.at, entry.run_id, entry.error, entry.category) == (
        "fail",
        T0,
        "r-7",
        "exit 3",
        "permanent",
    )
    assert entry.detail == {"exitCode": 3}


def test_rerun_request_is_written_as_the_executor_actor(
    store: Store, bus: RecordingBus, executions: RecordingExecutions, clock: VirtualClock
) -> None:
    executor = Executor(store, bus, executions, clock, actor="drift-monitor")

    executor.apply(Decision(actions=(WriteRerunRequest(*RUN, "data-drift", T0),)))

    request = store.control.get_rerun_request(*RUN)
    assert request is not None
    assert (request.reason, request.by, request.requested_at) == ("data-drift", "drift-monitor", T0)


def test_an_empty_decision_does_nothing(executor: Executor, bus: RecordingBus) -> None:
    result = executor.apply(Decision(reason="ignored"))

    assert result == ApplyResult()
    assert "nothing to do" in repr(result)
    assert bus.events == []


# ------------------------------------------------------------------------------------- ports


def test_fakes_satisfy_their_ports() -> None:
    assert isinstance(VirtualClock(T0), Clock)
    assert isinstance(RecordingBus(), EventBus)
    assert isinstance(RecordingExecutions(), Executions)
    assert FixedClock is VirtualClock


def test_virtual_clock_is_aware_utc_and_moves_only_when_told() -> None:
    clock = VirtualClock(datetime(2026, 3, 4, 10, 30, tzinfo=timezone(timedelta(hours=1))))
    assert clock.now() == T0 and clock.now().tzinfo is UTC
    assert clock.advance(timedelta(seconds=90)) == T0 + timedelta(seconds=90)
    clock.set(T0)
    assert clock.now() == T0
    with pytest.raises(ValueError, match="forward"):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError, match="naive"):
        clock.set(datetime(2026, 3, 4))  # noqa: DTZ001 - the naive instant is the point


def test_recording_executions_are_idempotent_by_name() -> None:
    executions = RecordingExecutions()
    first = executions.start("run-a1", {"attempt": 1})

    assert executions.start("run-a1", {"attempt": 1}) == first
    with pytest.raises(ExecutionConflictError) as caught:
        executions.start("run-a1", {"attempt": 2})
    assert caught.value.execution_id == first
    assert executions.starts == [("run-a1", {"attempt": 1})]
    assert executions.calls == 3


def test_a_once_publish_is_skipped_on_replay_and_the_rest_still_applies(
    executor: Executor, bus: RecordingBus, store: Store
) -> None:
    once = PublishEvent(
        EventType.LATE_DATA_ARRIVAL, RUN[0], RUN[1], RUN[2], "late", T0, once="LATE-1"
    )
    log = AppendJobLog(*RUN, JobEvent.LATE_DATA_ARRIVAL, T0)
    first = executor.apply(Decision((once, log)))
    again = executor.apply(Decision((once, log)))
    assert [e.type for e in bus.events] == [EventType.LATE_DATA_ARRIVAL]
    assert [o.status for o in first.outcomes] == [OutcomeStatus.APPLIED, OutcomeStatus.APPLIED]
    assert [o.status for o in again.outcomes] == [OutcomeStatus.CONFLICT, OutcomeStatus.APPLIED]
    assert again.stopped is None


def test_a_refused_once_publish_gives_its_claim_back(
    store: Store, executions: RecordingExecutions, clock: VirtualClock
) -> None:
    class Refusing(RecordingBus):
        refuse = True

        def publish(self, event: Any) -> None:
            if self.refuse:
                raise RuntimeError("PutEvents refused")
            super().publish(event)

    bus = Refusing()
    executor = Executor(store, bus, executions, clock)
    once = PublishEvent(EventType.LATE_DATA_ARRIVAL, RUN[0], RUN[1], RUN[2], "late", T0, once="L")
    with pytest.raises(RuntimeError):
        executor.apply(Decision((once,)))
    assert not store.control.has_claim(RUN[0], "L", RUN[1], RUN[2])
    bus.refuse = False
    executor.apply(Decision((once,)))
    assert len(bus.events) == 1
