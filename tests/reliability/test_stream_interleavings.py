"""Any interleaving of duplicated, reordered and replayed stream records, and crashes mid-decision, gives
one run per (pipeline, schedule, period) and one execution per attempt — on SQLite and on DynamoDB.

A hypothesis state machine drives the real :class:`~interlock.service.controller.Controller` and
:class:`~interlock.service.executor.Executor` over a real store. Producers write trigger sensors, the
"executions" finish attempts (the orchestrator's job-log row and run status) and operators request
reruns; every change-feed record those writes (and the controller's own writes) produce goes into a
pool, and the machine delivers records from the pool **in any order, any number of times**. A delivery
may crash: the decision is applied only up to a random action and the process "dies" (the rest is never
applied, exactly what ``kill -9`` between two writes does), so the record is delivered again later.

Invariants after every step:

- an execution is started only for a run row's attempt (``<pid>-stream-<period>-a<N>``, N ≤ the row's
  attempt), and each attempt's execution is started at most once (the fake refuses a second creation);
- a run's attempts never outrun their causes: resets ≤ failures of distinct attempts + distinct rerun
  requests;

and at the end, once every record was delivered again without crashes: every period whose trigger was
written has a run, and every RUNNING run's current attempt has an execution (nothing is stuck).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from interlock.config.loader import validate_config_data
from interlock.lifecycle.actions import Decision
from interlock.records import JobEvent, RunStatus
from interlock.service.controller import Controller
from interlock.service.executor import Executor
from interlock.store import open_store
from tests.aws.conftest import set_aws_env

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from interlock.events import Event
    from interlock.service.executor import ApplyResult
    from interlock.store.factory import Store

T0 = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)
PIPELINES = ("orders", "refunds")
PERIODS = ("2026-03-04", "2026-03-05")


def _config(pid: str) -> Any:
    return validate_config_data(
        {
            "pipeline": {"id": pid},
            "schedule": {"trigger": {"key": "ready", "check": "exists"}},
            "job": {
                "type": "command",
                "config": {"command": ["true"]},
                "maxRetries": 2,
                "maxManualReruns": 2,
            },
        }
    )


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def now(self) -> datetime:
        return self.at


class Bus:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def publish(self, event: Event) -> None:
        self.events.append(event)


class Executions:
    """Step Functions' contract: idempotent by name (same input), and it counts real creations."""

    def __init__(self) -> None:
        self.created: dict[str, dict[str, Any]] = {}
        self.creations: list[str] = []

    def start(self, name: str, input: Mapping[str, Any]) -> str:  # noqa: A002 - the port's word
        if name in self.created:
            assert self.created[name] == dict(input), f"{name} restarted with another input"
        else:
            self.created[name] = dict(input)
            self.creations.append(name)
        return f"exec:{name}"


class Crash(Exception):
    """The process died between two writes (never caught by the code under test)."""


class CrashingExecutor(Executor):
    """Applies only the first ``crash_after`` actions of the next decision, then dies."""

    crash_after: int | None = None

    def apply(self, decision: Decision) -> ApplyResult:
        cut, self.crash_after = self.crash_after, None
        if cut is None or cut >= len(decision.actions):
            return super().apply(decision)
        super().apply(Decision(decision.actions[:cut], decision.next, decision.output))
        raise Crash(f"died after {cut} of {len(decision.actions)} actions")


class Interleavings(RuleBasedStateMachine):
    """See the module docstring. ``open_store_`` builds a fresh store per example."""

    open_store_: Callable[[Callable[[], float]], Store]

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        # the drivers judge TTLs (run locks) by this clock, not the wall clock
        self.store = self.open_store_(lambda: self.clock.now().timestamp())
        self.executions = Executions()
        self.executor = CrashingExecutor(self.store, Bus(), self.executions, self.clock)
        self.controller = Controller(self.store, self.executor)
        for pid in PIPELINES:
            self.store.control.put_config(_config(pid), now=T0)
        self.positions: dict[str, Any] = {"control": None, "joblog": None}
        self.pool: list[Mapping[str, Any]] = []
        self.triggered: set[tuple[str, str]] = set()
        self.failures: dict[tuple[str, str], set[int]] = {}
        self.requests: dict[tuple[str, str], int] = {}
        self._collect()

    def teardown(self) -> None:
        self.store.close()

    # ------------------------------------------------------------------------------- helpers

    def _collect(self) -> None:
        for table, position in self.positions.items():
            while True:
                batch = self.store.tables[table].changes(position, limit=100)
                if not batch.records:
                    break
                self.pool.extend(batch.records)
                position = batch.position
            self.positions[table] = position

    def _tick(self) -> None:
        self.clock.at += timedelta(seconds=1)

    def _deliver(self, record: Mapping[str, Any]) -> None:
        try:
            self.controller.on_record(record, self.clock.now())
        except Crash:
            self.controller.forget()  # a new process: no cached configs
        self._collect()

    # --------------------------------------------------------------------------------- rules

    @rule(pid=st.sampled_from(PIPELINES), period=st.sampled_from(PERIODS), n=st.integers(0, 2))
    def producer_writes_trigger(self, pid: str, period: str, n: int) -> None:
        self._tick()
        self.store.control.put_sensor(pid, "ready", {"date": period, "n": n}, now=self.clock.now())
        self.triggered.add((pid, period))
        self._collect()

    @precondition(lambda self: bool(self.pool))
    @rule(data=st.data(), crash=st.none() | st.integers(0, 6))
    def deliver(self, data: st.DataObject, crash: int | None) -> None:
        index = data.draw(st.integers(0, len(self.pool) - 1), label="record")
        self._tick()
        self.executor.crash_after = crash
        self._deliver(self.pool[index])

    @precondition(lambda self: bool(self._running()))
    @rule(data=st.data(), ok=st.booleans())
    def execution_finishes(self, data: st.DataObject, ok: bool) -> None:
        pid, period, attempt = data.draw(st.sampled_from(self._running()), label="run")
        self._tick()
        now = self.clock.now()
        event = JobEvent.SUCCESS if ok else JobEvent.FAIL
        detail = {"attempt": attempt}
        self.store.joblog.append(
            pid, "stream", period, event, now=now, category="TRANSIENT", detail=detail
        )
        status = RunStatus.COMPLETED if ok else RunStatus.FAILED_FINAL
        self.store.control.set_run_status(pid, "stream", period, status, now=now, attempt=attempt)
        if not ok:
            self.failures.setdefault((pid, period), set()).add(attempt)
        self._collect()

    @rule(pid=st.sampled_from(PIPELINES), period=st.sampled_from(PERIODS))
    def operator_requests_rerun(self, pid: str, period: str) -> None:
        self._tick()
        self.store.control.request_rerun(
            pid, "stream", period, reason="manual", by="test", now=self.clock.now()
        )
        self.requests[(pid, period)] = self.requests.get((pid, period), 0) + 1
        self._collect()

    def _running(self) -> list[tuple[str, str, int]]:
        """RUNNING attempts whose execution was started (those an execution could finish)."""
        out = []
        for pid in PIPELINES:
            for period in PERIODS:
                row = self.store.control.get_run(pid, "stream", period)
                if row is not None and row.status is RunStatus.RUNNING:
                    if f"{pid}-stream-{period}-a{row.attempt}" in self.executions.created:
                        out.append((pid, period, row.attempt))
        return out

    # ---------------------------------------------------------------------------- invariants

    @invariant()
    def executions_only_for_attempts_that_exist(self) -> None:
        assert len(self.executions.creations) == len(set(self.executions.creations))
        for name, payload in self.executions.created.items():
            pid, period, attempt = payload["pipelineId"], payload["period"], payload["attempt"]
            row = self.store.control.get_run(pid, "stream", period)
            assert row is not None, f"{name} started without a run row"
            assert 1 <= attempt <= row.attempt, f"{name} beyond the row's attempt {row.attempt}"
            assert name == f"{pid}-stream-{period}-a{attempt}"

    @invariant()
    def attempts_never_outrun_their_causes(self) -> None:
        for pid in PIPELINES:
            for period in PERIODS:
                row = self.store.control.get_run(pid, "stream", period)
                if row is None:
                    continue
                causes = len(self.failures.get((pid, period), ())) + self.requests.get(
                    (pid, period), 0
                )
                late = sum(
                    1
                    for r in self.store.joblog.history(pid, "stream", period)
                    if r.event == JobEvent.LATE_DATA_ARRIVAL
                )
                assert row.attempt - 1 <= causes + late, (row, causes, late)

    # ------------------------------------------------------------------------------- the end

    def _every_request_answered(self) -> None:
        """Each distinct rerun request (operator or late data) was accepted or rejected, once."""
        answered = (JobEvent.RERUN_ACCEPTED, JobEvent.RERUN_REJECTED)
        for (pid, period), requests in _requests(self.pool).items():
            rows = [
                r for r in self.store.joblog.history(pid, "stream", period) if r.event in answered
            ]
            assert len(rows) == len(requests), (pid, period, sorted(requests), rows)

    def check_nothing_stuck(self) -> None:
        """Deliver every record again, in order, without crashes, until quiet; then check liveness."""
        for _ in range(5):
            before = len(self.pool)
            for record in list(self.pool):
                self._deliver(record)
            if len(self.pool) == before:
                break
        self._every_request_answered()
        for pid, period in self.triggered:
            row = self.store.control.get_run(pid, "stream", period)
            assert row is not None, f"{pid} {period}: trigger written, no run"
            if row.status is RunStatus.RUNNING:
                name = f"{pid}-stream-{period}-a{row.attempt}"
                assert name in self.executions.created, f"{name} is RUNNING but never started"


def _requests(pool: list[Mapping[str, Any]]) -> dict[tuple[str, str], set[str]]:
    """Distinct rerun requests (their ``requestedAt``) per (pipeline, period), from the feed."""
    out: dict[tuple[str, str], set[str]] = {}
    for record in pool:
        image = record.get("dynamodb", {}).get("NewImage") or {}
        sk = image.get("SK", {}).get("S", "")
        if sk.startswith("RERUN_REQUEST#"):
            pid = image["PK"]["S"].removeprefix("PIPELINE#")
            period = sk.rsplit("#", 1)[1]
            out.setdefault((pid, period), set()).add(image["requestedAt"]["S"])
    return out


def _run(open_store_: Callable[[Callable[[], float]], Store], examples: int) -> None:
    class Machine(Interleavings):
        def teardown(self) -> None:
            try:
                self.check_nothing_stuck()
            finally:
                super().teardown()

    Machine.open_store_ = staticmethod(open_store_)
    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=25,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


def test_interleavings_on_sqlite(tmp_path: Any) -> None:
    counter = iter(range(10_000))

    def fresh(now: Callable[[], float]) -> Store:
        return open_store(f"sqlite:///{tmp_path}/s{next(counter)}.db", now=now)

    _run(fresh, examples=int(os.environ.get("INTERLOCK_INTERLEAVINGS", "40")))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_interleavings_on_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import mock_aws

    from interlock.store.dynamodb import create_tables

    set_aws_env(monkeypatch)
    counter = iter(range(10_000))

    def fresh(now: Callable[[], float]) -> Store:
        environment = f"il{next(counter)}"
        create_tables(environment, region="us-east-1")
        return open_store(f"dynamodb://{environment}?region=us-east-1", now=now)

    with mock_aws():
        _run(fresh, examples=3)
