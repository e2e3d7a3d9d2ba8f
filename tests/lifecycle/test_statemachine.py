"""Tests for ``deploy/statemachine.asl.json`` run by the local ASL runner with the pure run steps.

The fake orchestrator below is what the Lambda handler will be: it maps ``mode`` to a
``interlock.lifecycle.run`` function and returns the decision's output (raising the retry error when the
trigger step decides to retry). Time is virtual, so waits and retry backoffs are checked to the second.
"""

from __future__ import annotations

import json
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from interlock.config.models import PipelineConfig
from interlock.events import EventType
from interlock.lifecycle import (
    TRIGGER_RETRY_ERROR,
    Decision,
    PublishEvent,
    RunRef,
    RunState,
    check_job_step,
    evaluate_step,
    trigger_exhausted_step,
    trigger_step,
)
from interlock.lifecycle.run import (
    DEFAULT_MAX_TRIGGER_ATTEMPTS,
    TRIGGER_BACKOFF_RATE,
    TRIGGER_RETRY_INTERVAL,
)
from interlock.local.asl import (
    Execution,
    ExecutionStatus,
    StateMachine,
    TaskFailed,
    run_to_completion,
)
from interlock.local.definition import render_definition
from interlock.store import keys
from interlock.triggers.base import FailureClass, JobStatus, RunHandle, TriggerError

ASL = Path(__file__).resolve().parents[2] / "deploy" / "statemachine.asl.json"
T0 = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
RESOURCE = "${OrchestratorFunctionArn}"
INPUT = {"pipelineId": "orders", "scheduleId": "stream", "period": "2026-03-04", "attempt": 1}
READY: dict[str, Any] = {"orders": {"count": 12}}
NOT_READY: dict[str, Any] = {"orders": {"count": 3}}
TRANSIENT = TriggerError("connection refused", failure=FailureClass.TRANSIENT)


def config(window: str = "1h", interval: str = "5m", poll_window: int = 3600) -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "pipeline": {"id": "orders"},
            "schedule": {
                "trigger": {"key": "orders"},
                "evaluation": {"window": window, "interval": interval},
            },
            "validation": {
                "rules": [{"key": "orders", "check": "gte", "field": "count", "value": 10}]
            },
            "job": {
                "type": "command",
                "config": {"command": "true"},
                "jobPollWindowSeconds": poll_window,
            },
        }
    )


class VirtualClock:
    def __init__(self) -> None:
        self.t = T0

    def now(self) -> datetime:
        return self.t

    def advance_to(self, t: datetime) -> None:
        assert t >= self.t
        self.t = t


class Orchestrator:
    """A scripted orchestrator: each mode pops its next scripted input and calls the pure step."""

    def __init__(
        self,
        clock: VirtualClock,
        cfg: PipelineConfig,
        *,
        sensors: list[dict[str, Any]] | None = None,
        starts: list[RunHandle | TriggerError | Exception] | None = None,
        statuses: list[JobStatus] | None = None,
        default_sensors: dict[str, Any] | None = None,
        default_start: RunHandle | TriggerError | None = None,
    ) -> None:
        self.clock = clock
        self.cfg = cfg
        self.sensors = deque(sensors or [])
        self.starts = deque(starts or [])
        self.statuses = deque(statuses or [])
        self.default_sensors = default_sensors
        self.default_start = default_start
        self.calls: list[tuple[str, datetime, dict[str, Any]]] = []
        self.decisions: list[Decision] = []

    def __call__(self, resource: str, payload: Any) -> Any:
        assert resource == RESOURCE
        mode = payload["mode"]
        now = self.clock.now()
        self.calls.append((mode, now, payload))
        run = RunRef(
            payload["pipelineId"], payload["scheduleId"], payload["period"], payload["attempt"]
        )
        if mode == "evaluate":
            sensors = self.sensors.popleft() if self.sensors else self.default_sensors
            assert sensors is not None
            started = datetime.fromisoformat(payload["startedAt"])
            d = evaluate_step(self.cfg, sensors, run=run, started_at=started, now=now)
        elif mode == "trigger":
            outcome = self.starts.popleft() if self.starts else self.default_start
            assert outcome is not None
            if not isinstance(outcome, RunHandle | TriggerError):
                raise outcome  # the Lambda itself crashes
            d = trigger_step(
                outcome, run=run, job_type="command", retries=payload["retries"], now=now
            )
            if d.next == RunState.TRIGGERING:
                self.decisions.append(d)
                raise TaskFailed(TRIGGER_RETRY_ERROR, d.reason)
        elif mode == "check-job":
            d = check_job_step(
                self.statuses.popleft(),
                run=run,
                handle=RunHandle(payload["runId"], payload["metadata"]),
                poll_started_at=keys.parse_time(payload["pollStartedAt"]),
                now=now,
                poll_window=timedelta(seconds=self.cfg.job.jobPollWindowSeconds),
            )
        elif mode == "trigger-exhausted":
            d = trigger_exhausted_step(run=run, cause=payload["cause"], now=now)
        else:  # pragma: no cover - the definition names only the modes above
            raise AssertionError(mode)
        self.decisions.append(d)
        return dict(d.output)

    def events(self) -> list[EventType]:
        return [a.type for d in self.decisions for a in d.actions if isinstance(a, PublishEvent)]

    def times(self, mode: str) -> list[timedelta]:
        return [at - T0 for m, at, _ in self.calls if m == mode]


@pytest.fixture(scope="module")
def machine() -> StateMachine:
    return StateMachine.from_json(render_definition(ASL.read_text()))


def run(machine: StateMachine, orch: Orchestrator) -> Execution:
    return run_to_completion(
        machine, INPUT, invoke=orch, clock=orch.clock, name="orders-stream-2026-03-04-a1"
    )


def visited(ex: Execution) -> list[str]:
    return [h["state"] for h in ex.history if h["event"] == "StateEntered"]


def entered(ex: Execution) -> list[tuple[str, datetime]]:
    return [
        (h["state"], datetime.fromisoformat(h["at"]))
        for h in ex.history
        if h["event"] == "StateEntered"
    ]


# ------------------------------------------------------------------------------------- definition


def _targets(state: dict[str, Any]) -> list[str]:
    out = [state["Next"]] if "Next" in state else []
    out += [c["Next"] for c in state.get("Choices", [])]
    out += [state["Default"]] if "Default" in state else []
    out += [c["Next"] for c in state.get("Catch", [])]
    return out


def test_every_state_is_reachable(machine: StateMachine) -> None:
    seen, todo = set(), [machine.start_at]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += _targets(machine.states[name])
    assert seen == set(machine.states)
    for phase in ("Evaluate", "WaitForReadiness", "Trigger", "WaitForJob", "CheckJob", "Complete"):
        assert phase in machine.states


def test_trigger_retry_matches_the_run_module(machine: StateMachine) -> None:
    retrier = machine.states["Trigger"]["Retry"][0]
    assert retrier["ErrorEquals"] == [TRIGGER_RETRY_ERROR]
    assert retrier["IntervalSeconds"] == TRIGGER_RETRY_INTERVAL.total_seconds()
    assert retrier["BackoffRate"] == TRIGGER_BACKOFF_RATE
    assert retrier["MaxAttempts"] == DEFAULT_MAX_TRIGGER_ATTEMPTS
    assert "${" not in json.dumps(retrier)  # no placeholder: the default runs as is


def test_tasks_use_parameters_with_a_mode(machine: StateMachine) -> None:
    tasks = {n: s for n, s in machine.states.items() if s["Type"] == "Task"}
    assert {s["Parameters"]["mode"] for s in tasks.values()} == {
        "evaluate",
        "trigger",
        "trigger-exhausted",
        "check-job",
    }
    assert all(s["Resource"] == RESOURCE for s in tasks.values())


# ------------------------------------------------------------------------------------- happy path


def test_full_run_on_a_virtual_clock(machine: StateMachine) -> None:
    clock = VirtualClock()
    orch = Orchestrator(
        clock,
        config(),
        sensors=[NOT_READY, NOT_READY, READY],
        starts=[TRANSIENT, RunHandle("r-1", {"pid": 7})],
        statuses=[JobStatus("running"), JobStatus("running"), JobStatus("succeeded")],
    )
    ex = run(machine, orch)
    assert ex.status is ExecutionStatus.SUCCEEDED, ex
    assert visited(ex) == [
        "Evaluate", "AfterEvaluate", "WaitForReadiness",
        "Evaluate", "AfterEvaluate", "WaitForReadiness",
        "Evaluate", "AfterEvaluate",
        "Trigger", "AfterTrigger",
        "WaitForJob", "CheckJob", "AfterCheckJob",
        "WaitForJob", "CheckJob", "AfterCheckJob",
        "WaitForJob", "CheckJob", "AfterCheckJob",
        "Complete",
    ]  # fmt: skip
    m = timedelta(minutes=1)
    s = timedelta(seconds=1)
    assert orch.times("evaluate") == [0 * m, 5 * m, 10 * m]
    assert orch.times("trigger") == [10 * m, 10 * m + 30 * s]  # one 30 s retry backoff
    assert orch.times("check-job") == [11 * m + 30 * s, 12 * m + 30 * s, 13 * m + 30 * s]
    retries = [h for h in ex.history if h["event"] == "RetryScheduled"]
    assert [(h["state"], h["error"], h["until"]) for h in retries] == [
        ("Trigger", TRIGGER_RETRY_ERROR, "2026-03-04T09:10:30Z")
    ]
    assert orch.events().count(EventType.JOB_TRIGGERED) == 1
    assert orch.events() == [
        EventType.VALIDATION_PASSED,
        EventType.JOB_TRIGGERED,
    ]
    last_check = orch.calls[-1][2]
    assert (last_check["runId"], last_check["metadata"]) == ("r-1", {"pid": 7})
    assert ex.output["job"]["state"] == "COMPLETED"


def test_at_most_three_transitions_per_evaluation_interval(machine: StateMachine) -> None:
    clock = VirtualClock()
    orch = Orchestrator(clock, config(window="30m", interval="5m"), default_sensors=NOT_READY)
    ex = run(machine, orch)
    evaluations = [at for state, at in entered(ex) if state == "Evaluate"]
    assert len(evaluations) == 7  # 0, 5, … 30 min: the window end is evaluated too
    states = entered(ex)
    for start, end in zip(evaluations, evaluations[1:], strict=False):
        assert sum(1 for _, at in states if start <= at < end) <= 3
    assert visited(ex)[-1] == "ValidationExhausted"
    assert ex.status is ExecutionStatus.SUCCEEDED
    assert orch.events() == [EventType.VALIDATION_EXHAUSTED]


# ------------------------------------------------------------------------------------- other ends


def test_trigger_retries_exhaust_after_the_backoffs(machine: StateMachine) -> None:
    clock = VirtualClock()
    orch = Orchestrator(clock, config(), default_sensors=READY, default_start=TRANSIENT)
    ex = run(machine, orch)
    assert visited(ex)[-2:] == ["AfterTrigger", "TriggerExhausted"]
    times = orch.times("trigger")
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    assert gaps == [30, 60, 120, 240]
    assert [c[2]["retries"] for c in orch.calls if c[0] == "trigger"] == [0, 1, 2, 3, 4]
    assert orch.events() == [EventType.VALIDATION_PASSED, EventType.RETRY_EXHAUSTED]


def test_permanent_trigger_failure_is_not_retried(machine: StateMachine) -> None:
    clock = VirtualClock()
    permanent = TriggerError("400 bad request", failure=FailureClass.PERMANENT)
    orch = Orchestrator(clock, config(), default_sensors=READY, starts=[permanent])
    ex = run(machine, orch)
    assert visited(ex)[-1] == "TriggerExhausted"
    assert len(orch.times("trigger")) == 1


def test_crashing_trigger_is_caught(machine: StateMachine) -> None:
    clock = VirtualClock()
    orch = Orchestrator(clock, config(), default_sensors=READY, starts=[RuntimeError("boom")])
    ex = run(machine, orch)
    assert visited(ex)[-3:] == ["Trigger", "TriggerFailed", "TriggerExhausted"]
    assert ex.status is ExecutionStatus.SUCCEEDED
    exhausted = orch.decisions[-1]
    assert "boom" in exhausted.output["error"]


def test_job_failure_and_poll_exhaustion(machine: StateMachine) -> None:
    clock = VirtualClock()
    failing = JobStatus("failed", FailureClass.TRANSIENT, "exit 1")
    orch = Orchestrator(
        clock, config(), default_sensors=READY, default_start=RunHandle("r"), statuses=[failing]
    )
    assert visited(run(machine, orch))[-1] == "JobFailed"
    assert EventType.JOB_FAILED in orch.events()

    clock = VirtualClock()
    orch = Orchestrator(
        clock,
        config(poll_window=120),
        default_sensors=READY,
        default_start=RunHandle("r"),
        statuses=[JobStatus("running")] * 2,
    )
    ex = run(machine, orch)
    assert visited(ex)[-1] == "PollExhausted"
    assert orch.times("check-job") == [timedelta(seconds=60), timedelta(seconds=120)]
    assert orch.events()[-1] is EventType.JOB_POLL_EXHAUSTED


def test_orchestrator_failure_is_an_infra_failure(machine: StateMachine) -> None:
    def broken(resource: str, payload: Any) -> Any:
        raise RuntimeError("config table unavailable")

    ex = run_to_completion(machine, INPUT, invoke=broken, clock=VirtualClock())
    assert ex.status is ExecutionStatus.FAILED
    assert ex.error == "Interlock.InfraFailure"

    def unknown(resource: str, payload: Any) -> Any:
        return {"state": "SOMETHING", "waitSeconds": 0}

    ex = run_to_completion(machine, INPUT, invoke=unknown, clock=VirtualClock())
    assert visited(ex)[-1] == "InfraFailure"
