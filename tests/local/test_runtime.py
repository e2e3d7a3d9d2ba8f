"""Tests for ``interlock.local.runtime`` (and the orchestrator it calls) over a real SQLite store.

Time is virtual; the job is a real ``command`` (``python -c pass``). Its status poll waits (in real
time) for the process to end, so a fast virtual clock never outruns a slow machine.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from interlock.config.models import PipelineConfig
from interlock.events import EventType
from interlock.local.adapters import EXECUTION_PK, LocalExecutions, load_state_machine
from interlock.local.asl import ExecutionStatus
from interlock.local.runtime import EmbeddedRuntime
from interlock.ports import ExecutionConflictError, VirtualClock
from interlock.records import RunStatus
from interlock.service.bus import StoreBus, print_event
from interlock.service.orchestrator import Orchestrator, OrchestratorError
from interlock.store import open_store
from interlock.triggers import (
    CommandRunner,
    FailureClass,
    JobStatus,
    RunHandle,
    TriggerError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from interlock.events import Event
    from interlock.schedule import Period
    from interlock.store import Store
    from interlock.triggers import TriggerRunner

T0 = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
PERIOD = "2026-03-04"
NAME = "orders-stream-2026-03-04-a1"
TRIGGER: dict[str, Any] = {"status": "ready", "date": PERIOD}


class WaitingRunner:
    """A CommandRunner whose status waits (real time) until the process has ended."""

    def __init__(self, inner: CommandRunner) -> None:
        self.inner = inner
        self.started: list[str] = []

    def start(self, job_config: Any, *, pipeline_id: str, period: Period, run_id: str) -> RunHandle:
        self.started.append(run_id)
        return self.inner.start(job_config, pipeline_id=pipeline_id, period=period, run_id=run_id)

    def status(self, job_config: Any, handle: RunHandle) -> JobStatus:
        deadline = time.monotonic() + 30
        status = self.inner.status(job_config, handle)
        while status.state == "running" and time.monotonic() < deadline:
            time.sleep(0.01)
            status = self.inner.status(job_config, handle)
        return status


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(T0)


@pytest.fixture
def store(tmp_path: Path, clock: VirtualClock) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path}/t.db", now=lambda: clock.now().timestamp()) as opened:
        yield opened


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[WaitingRunner]:
    with CommandRunner(output_dir=tmp_path) as inner:
        yield WaitingRunner(inner)


@pytest.fixture
def triggers(runner: WaitingRunner) -> Callable[[str], TriggerRunner]:
    def pick(job_type: str) -> TriggerRunner:
        assert job_type == "command"
        return runner

    return pick


def config() -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "pipeline": {"id": "orders"},
            "schedule": {
                "trigger": {
                    "key": "orders-landed",
                    "check": "equals",
                    "field": "status",
                    "value": "ready",
                },
                "evaluation": {"window": "1h", "interval": "5m"},
            },
            "validation": {
                "rules": [{"key": "orders-count", "check": "gte", "field": "count", "value": 10}]
            },
            "job": {"type": "command", "config": {"command": [sys.executable, "-c", "pass"]}},
        }
    )


def runtime(
    store: Store,
    clock: VirtualClock,
    triggers: Callable[[str], TriggerRunner],
    notifier: Callable[[Event], None] | None = None,
) -> EmbeddedRuntime:
    # no watchdog: these tests count ticks and wake-ups of the run alone
    return EmbeddedRuntime.build(
        store, clock=clock, triggers=triggers, notifier=notifier, watchdog_interval=None
    )


def setup_pipeline(store: Store, count: int) -> None:
    store.control.put_config(config(), now=T0)
    store.control.put_sensor("orders", "orders-count", {"count": count}, now=T0)
    store.control.put_sensor("orders", "orders-landed", TRIGGER, now=T0)


def triggered(store: Store) -> int:
    return len(store.events.of_type(EventType.JOB_TRIGGERED))


def execution_rows(store: Store) -> int:
    return len(store.tables["control"].query(EXECUTION_PK).items)


def visited(rt: EmbeddedRuntime) -> list[str]:
    ex = rt.executions.get(NAME)
    assert ex is not None
    return [h["state"] for h in ex.history if h["event"] == "StateEntered"]


def run_status(store: Store) -> RunStatus | None:
    row = store.control.get_run("orders", "stream", PERIOD)
    return None if row is None else row.status


# ------------------------------------------------------------------------------------ scenarios


def test_sensor_write_runs_the_pipeline_to_completion(
    store: Store, clock: VirtualClock, triggers: Callable[[str], TriggerRunner]
) -> None:
    # GIVEN a command pipeline whose rules pass, and a notifier
    seen: list[Event] = []
    rt = runtime(store, clock, triggers, notifier=seen.append)
    setup_pipeline(store, count=12)

    # WHEN the runtime ticks until an hour later
    reports = rt.run_until(T0 + timedelta(hours=1))

    # THEN one execution ran Evaluate → Trigger → poll → Complete, and the run row is COMPLETED
    assert reports[0].started == (f"local:execution:{NAME}",)
    assert reports[0].stepped == (NAME,)
    ex = rt.executions.get(NAME)
    assert ex is not None and ex.status is ExecutionStatus.SUCCEEDED
    assert ex.output["job"]["state"] == "COMPLETED"
    assert visited(rt) == [
        "Evaluate", "AfterEvaluate", "Trigger", "AfterTrigger",
        "WaitForJob", "CheckJob", "AfterCheckJob", "Complete",
    ]  # fmt: skip
    assert run_status(store) is RunStatus.COMPLETED
    assert [r.finished for r in reports if r.finished] == [(NAME,)]
    assert reports[-1].next_wake is None
    assert triggered(store) == 1
    types = [e.type for e in seen]
    assert types == [
        EventType.VALIDATION_PASSED,
        EventType.JOB_TRIGGERED,
        EventType.JOB_COMPLETED,  # the router's, when the success row lands: same tick
    ]
    latest = store.joblog.latest("orders", "stream", PERIOD)
    assert latest is not None and latest.event == "success"

    # AND idle ticks read nothing new and write no feed position (no record churn)
    position = rt.feed_position("control")
    idle = [rt.tick() for _ in range(3)]
    assert [(r.records, r.stepped) for r in idle] == [(0, ())] * 3
    assert rt.feed_position("control") == position


def test_replayed_feed_starts_no_second_execution(
    store: Store, clock: VirtualClock, triggers: Callable[[str], TriggerRunner]
) -> None:
    rt = runtime(store, clock, triggers)
    setup_pipeline(store, count=12)
    rt.tick()  # started, triggered, waiting for the first poll
    assert execution_rows(store) == 1

    # WHEN the whole feed is replayed mid-run, and again after the run completed
    rt.reset_feed("control")
    replay = rt.tick()
    rt.run_until(T0 + timedelta(hours=1))
    rt.reset_feed("control")
    replay_after = rt.tick()

    # THEN the AcquireRun conflicts each time: no second execution, no second trigger (mid-run the
    # replay re-issues attempt 1's start, which finds the running execution by its name)
    assert replay.records > 0
    assert set(replay.started) <= {"local:execution:orders-stream-2026-03-04-a1"}
    assert replay_after.started == ()
    assert execution_rows(store) == 1
    assert triggered(store) == 1
    assert run_status(store) is RunStatus.COMPLETED


def test_trigger_writes_while_the_run_is_running_start_nothing_more(
    store: Store,
    clock: VirtualClock,
    triggers: Callable[[str], TriggerRunner],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a run started by its trigger write, RUNNING (waiting for its job's first poll)
    rt = runtime(store, clock, triggers)
    starts: list[str] = []
    start = rt.executions.start

    def counted(name: str, input: Any) -> str:  # noqa: A002 - the port's word
        starts.append(name)
        return start(name, input)

    monkeypatch.setattr(rt.executions, "start", counted)
    setup_pipeline(store, count=12)
    rt.tick()
    assert starts == [NAME] and run_status(store) is RunStatus.RUNNING

    # WHEN the producer writes the trigger again, twice, while the run is RUNNING (the tick handles
    # records before it steps the execution, which then completes)
    for _ in range(2):
        clock.advance(timedelta(seconds=30))
        store.control.put_sensor("orders", "orders-landed", TRIGGER, now=clock.now())
    report = rt.tick()
    assert report.records >= 2 and report.started == ()
    rt.run_until(T0 + timedelta(hours=1))

    # THEN the one attempt was started once, and it completed
    assert starts == [NAME]
    assert run_status(store) is RunStatus.COMPLETED
    assert triggered(store) == 1


def test_a_new_runtime_finishes_a_run_started_by_another(
    store: Store,
    clock: VirtualClock,
    triggers: Callable[[str], TriggerRunner],
    runner: WaitingRunner,
) -> None:
    first = runtime(store, clock, triggers)
    setup_pipeline(store, count=12)
    first.tick()
    ex = first.executions.get(NAME)
    assert ex is not None and ex.status is ExecutionStatus.RUNNING and ex.state == "WaitForJob"

    # WHEN a new runtime on the same store (same process: the command runner knows the job) takes over
    second = runtime(store, clock, triggers)
    reports = second.run_until(T0 + timedelta(hours=1))

    # THEN it re-handles nothing of the feed, polls the job and completes the run
    assert all(r.started == () for r in reports)
    assert run_status(store) is RunStatus.COMPLETED
    assert runner.started == [NAME]
    assert triggered(store) == 1


def test_rules_passing_after_a_later_sensor_write(
    store: Store, clock: VirtualClock, triggers: Callable[[str], TriggerRunner]
) -> None:
    rt = runtime(store, clock, triggers)
    setup_pipeline(store, count=3)
    rt.run_until(T0 + timedelta(minutes=12))
    ex = rt.executions.get(NAME)
    assert ex is not None and ex.state == "WaitForReadiness"
    assert triggered(store) == 0

    # WHEN the count sensor is rewritten with a passing value
    store.control.put_sensor("orders", "orders-count", {"count": 12}, now=clock.now())
    reports = rt.run_until(T0 + timedelta(hours=1))

    # THEN the next evaluation (at 15 min) passes and the run completes; the write started nothing
    assert all(r.started == () for r in reports)
    assert visited(rt).count("Evaluate") == 4
    assert run_status(store) is RunStatus.COMPLETED
    assert triggered(store) == 1


def test_rules_never_passing_exhaust_the_window(
    store: Store, clock: VirtualClock, triggers: Callable[[str], TriggerRunner]
) -> None:
    rt = runtime(store, clock, triggers)
    setup_pipeline(store, count=3)
    rt.run_until(T0 + timedelta(hours=2))
    assert visited(rt)[-1] == "ValidationExhausted"
    assert run_status(store) is RunStatus.FAILED_FINAL
    assert [e.type for e in store.events.of_type(EventType.VALIDATION_EXHAUSTED)] == [
        EventType.VALIDATION_EXHAUSTED
    ]


# ------------------------------------------------------------------------------------ parts


def test_local_executions_start_is_idempotent_by_name(store: Store, clock: VirtualClock) -> None:
    executions = LocalExecutions(store, load_state_machine(), clock)
    first = executions.start("x", {"a": 1})
    assert executions.start("x", {"a": 1}) == first
    with pytest.raises(ExecutionConflictError):
        executions.start("x", {"a": 2})
    assert [s.execution.name for s in executions.due(clock.now())] == ["x"]
    assert executions.next_wake() == T0
    assert executions.due(T0 - timedelta(seconds=1)) == []


def test_store_bus_stores_then_notifies(
    store: Store, clock: VirtualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    from interlock.events import Event

    def broken(event: Event) -> None:
        raise RuntimeError("console gone")

    event = Event.create(EventType.JOB_TRIGGERED, "orders", now=T0, message="hi")
    StoreBus(store, print_event).publish(event)
    StoreBus(store, broken).publish(event)  # a failing notifier does not lose the event
    assert len(store.events.of_type(EventType.JOB_TRIGGERED)) == 2
    assert "JOB_TRIGGERED orders: hi" in capsys.readouterr().out


def test_orchestrator_refuses_unknown_modes_and_missing_configs(
    store: Store, clock: VirtualClock, triggers: Callable[[str], TriggerRunner]
) -> None:
    orch = Orchestrator(store, triggers=triggers, clock=clock)
    base = {"pipelineId": "orders", "scheduleId": "stream", "period": PERIOD, "attempt": 1}
    with pytest.raises(OrchestratorError, match="unknown mode"):
        orch.handle({**base, "mode": "dance"})
    with pytest.raises(OrchestratorError, match="no config"):
        orch.handle({**base, "mode": "evaluate", "startedAt": "2026-03-04T09:00:00Z"})
    output, decision = orch.handle({**base, "mode": "trigger-exhausted", "cause": "boom"})
    assert output["state"] == "TRIGGER_EXHAUSTED" and decision.actions


class FlakyRunner:
    """Fails its first start with a transient error, then starts; the job is done at once."""

    def __init__(self) -> None:
        self.starts = 0

    def start(self, job_config: Any, *, pipeline_id: str, period: Period, run_id: str) -> RunHandle:
        self.starts += 1
        if self.starts == 1:
            raise TriggerError("connection refused", failure=FailureClass.TRANSIENT)
        return RunHandle(run_id, {"n": self.starts})

    def status(self, job_config: Any, handle: RunHandle) -> JobStatus:
        return JobStatus("succeeded")


def test_transient_trigger_failure_is_retried_after_the_backoff(
    store: Store, clock: VirtualClock
) -> None:
    flaky = FlakyRunner()
    rt = EmbeddedRuntime.build(store, clock=clock, triggers=lambda _type: flaky)
    setup_pipeline(store, count=12)
    rt.run_until(T0 + timedelta(hours=1))
    ex = rt.executions.get(NAME)
    assert ex is not None
    retries = [h for h in ex.history if h["event"] == "RetryScheduled"]
    assert [(h["state"], h["until"]) for h in retries] == [("Trigger", "2026-03-04T09:00:30Z")]
    assert flaky.starts == 2
    assert [e.event for e in store.joblog.history("orders", "stream", PERIOD)] == [
        "infra-trigger-failure",
        "success",
    ]
    assert run_status(store) is RunStatus.COMPLETED
    assert triggered(store) == 1
