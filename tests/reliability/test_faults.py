"""A store write, an event publish or an execution start fails at each step of a run's life: the record
is retried (as Lambda retries a failed stream item) and the outcome is the clean run's — nothing lost,
nothing doubled.

The story, driven through the real controller and executor on SQLite: a trigger write starts attempt 1;
it fails and is retried as attempt 2, which succeeds; an operator asks for a rerun (attempt 3, succeeds);
the producer writes the trigger again (late data → a late-data rerun, attempt 4). A clean run records
which executions were created and which events were published. Then, for every port and every call
``k`` that port saw in the clean run, the story is played again with call ``k`` raising; the failed
record is delivered again until it goes through. The executions created and the events published must
equal the clean run's, each exactly once.

The AWS half (moto, the real stream-router handler) checks the same at the batch level: a refused
StartExecution or PutEvents fails only that record's SequenceNumber, and its redelivery starts and
publishes once.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from interlock.config.loader import validate_config_data
from interlock.records import JobEvent, RunStatus
from interlock.service.controller import Controller
from interlock.service.executor import Executor
from interlock.store import open_store
from interlock.store.factory import Store
from interlock.store.table import StoreUnavailableError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from interlock.events import Event
    from interlock.store.table import Table

T0 = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)
PID, PERIOD = "orders", "2026-03-04"
PORTS = ("store", "bus", "executions")


class Injected(Exception):
    """The fault."""


class Faults:
    """Counts calls per port while armed; raises at call ``fail_at`` of port ``port``."""

    def __init__(self, port: str | None = None, fail_at: int = -1) -> None:
        self.port, self.fail_at = port, fail_at
        self.calls: Counter[str] = Counter()
        self.armed = False
        self.fired = False

    def hit(self, port: str) -> None:
        if not self.armed:
            return
        self.calls[port] += 1
        if port == self.port and self.calls[port] == self.fail_at:
            self.fired = True
            raise Injected(f"{port} call {self.fail_at} refused")


class FlakyTable:
    """A Table whose writes go through :class:`Faults` first."""

    def __init__(self, inner: Table, faults: Faults) -> None:
        self._inner, self._faults = inner, faults

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def put(self, *args: Any, **kwargs: Any) -> Any:
        self._faults.hit("store")
        return self._inner.put(*args, **kwargs)

    def update(self, *args: Any, **kwargs: Any) -> Any:
        self._faults.hit("store")
        return self._inner.update(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self._faults.hit("store")
        return self._inner.delete(*args, **kwargs)


class FlakyBackend:
    def __init__(self, inner: Any, faults: Faults) -> None:
        self._inner, self._faults = inner, faults

    def table(self, name: str) -> Any:
        return FlakyTable(self._inner.table(name), self._faults)

    def close(self) -> None:
        self._inner.close()


class Bus:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.events: list[Event] = []

    def publish(self, event: Event) -> None:
        self.faults.hit("bus")
        self.events.append(event)


class Executions:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.created: list[str] = []

    def start(self, name: str, input: Mapping[str, Any]) -> str:  # noqa: A002 - the port's word
        self.faults.hit("executions")
        if name not in self.created:
            self.created.append(name)
        return f"exec:{name}"


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def now(self) -> datetime:
        return self.at


def story(tmp_path: Path, faults: Faults) -> tuple[list[str], list[tuple[str, Any]], int]:
    """Play the story; return the executions created, the events (type, attempt) and retries."""
    clock = Clock()
    plain = open_store(f"sqlite:///{tmp_path}/s.db", now=lambda: clock.now().timestamp())
    store = Store(FlakyBackend(plain.backend, faults), url=plain.url)
    bus, executions = Bus(faults), Executions(faults)
    controller = Controller(store, Executor(store, bus, executions, clock))
    config = {
        "pipeline": {"id": PID},
        "schedule": {"trigger": {"key": "ready", "check": "exists"}},
        "job": {"type": "command", "config": {"command": ["true"]}, "maxRetries": 1},
    }
    store.control.put_config(validate_config_data(config), now=T0)
    positions: dict[str, Any] = {"control": None, "joblog": None}
    retries = 0

    def step() -> None:
        clock.at += timedelta(minutes=1)

    def deliver_new() -> None:
        """The stream-router: each new record, retried until it goes through (a Lambda retry)."""
        nonlocal retries
        while True:
            fresh = []
            for table in positions:
                batch = store.tables[table].changes(positions[table], limit=1000)
                fresh += batch.records
                positions[table] = batch.position
            if not fresh:
                return
            for record in fresh:
                for _ in range(5):
                    faults.armed = True
                    try:
                        controller.on_record(record, clock.now())
                        break
                    except (Injected, StoreUnavailableError):
                        retries += 1
                        controller.forget()
                    finally:
                        faults.armed = False
                else:
                    raise AssertionError("a record never went through")

    def finish(attempt: int, ok: bool) -> None:
        step()
        event = JobEvent.SUCCESS if ok else JobEvent.FAIL
        store.joblog.append(
            PID, "stream", PERIOD, event, now=clock.now(), detail={"attempt": attempt},
            category=None if ok else "TRANSIENT",
        )  # fmt: skip
        status = RunStatus.COMPLETED if ok else RunStatus.FAILED_FINAL
        store.control.set_run_status(
            PID, "stream", PERIOD, status, now=clock.now(), attempt=attempt
        )
        deliver_new()

    deliver_new()  # the config record
    step()
    store.control.put_sensor(PID, "ready", {"date": PERIOD}, now=clock.now())
    deliver_new()  # → attempt 1
    finish(1, ok=False)  # → retry, attempt 2
    finish(2, ok=True)
    step()  # new upstream data (not the trigger), so the circuit breaker lets a rerun through
    store.control.put_sensor(PID, "extra", {"rows": 2}, now=clock.now())
    deliver_new()
    step()
    store.control.request_rerun(PID, "stream", PERIOD, reason="manual", by="op", now=clock.now())
    deliver_new()  # → attempt 3
    finish(3, ok=True)
    step()
    store.control.put_sensor(PID, "ready", {"date": PERIOD, "again": 1}, now=clock.now())
    deliver_new()  # → late data → late-data rerun, attempt 4
    finish(4, ok=True)
    plain.close()
    events = [(e.type.value, e.detail.get("attempt")) for e in bus.events]
    return executions.created, events, retries


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], list[Any], Counter[str]]:
    faults = Faults()
    created, events, retries = story(tmp_path_factory.mktemp("clean"), faults)
    assert retries == 0
    return created, events, faults.calls


def test_the_clean_story(clean: tuple[list[str], list[Any], Counter[str]]) -> None:
    created, events, calls = clean
    assert created == [f"{PID}-stream-{PERIOD}-a{n}" for n in (1, 2, 3, 4)]
    assert sorted(t for t, _ in events) == [
        "JOB_COMPLETED",
        "JOB_COMPLETED",
        "JOB_COMPLETED",
        "LATE_DATA_ARRIVAL",
        "RERUN_ACCEPTED",
        "RERUN_ACCEPTED",
    ]
    assert all(calls[port] > 0 for port in PORTS), calls


def _cases() -> list[tuple[str, int]]:
    # The clean story's call counts, measured once (the fixture is not available at collection).
    import tempfile
    from pathlib import Path

    faults = Faults()
    with tempfile.TemporaryDirectory() as folder:
        story(Path(folder), faults)
    return [(port, k) for port in PORTS for k in range(1, faults.calls[port] + 1)]


@pytest.mark.parametrize(("port", "k"), _cases())
def test_a_fault_at_any_call_loses_nothing_and_doubles_nothing(
    tmp_path: Path, clean: tuple[list[str], list[Any], Counter[str]], port: str, k: int
) -> None:
    # GIVEN call k of one port fails once
    faults = Faults(port, k)
    # WHEN the story is played, the failed record retried
    created, events, retries = story(tmp_path, faults)
    # THEN the fault happened, and the executions and events are the clean run's, once each
    assert faults.fired and retries >= 1
    assert created == clean[0]
    assert Counter(events) == Counter(clean[1]), (port, k)


def test_an_unavailable_store_fails_the_record_and_the_retry_applies_it_once(
    tmp_path: Path, clean: tuple[list[str], list[Any], Counter[str]]
) -> None:
    # a StoreUnavailableError (what the drivers raise for throttling that outlived botocore's retries)
    # is not caught by the controller: the record fails as a whole and its redelivery completes it
    class Unavailable(Faults):
        def hit(self, port: str) -> None:
            try:
                super().hit(port)
            except Injected as exc:
                raise StoreUnavailableError(str(exc)) from exc

    created, events, retries = story(tmp_path, Unavailable("store", 3))
    assert retries == 1
    assert created == clean[0] and Counter(events) == Counter(clean[1])


def test_a_resume_that_cannot_start_does_not_fail_the_record(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a RUNNING run whose execution already ended, and Step Functions refusing to start the
    # name again (ExecutionAlreadyExists, then a DescribeExecution the role may not be granted)
    from interlock.exceptions import InterlockError

    class Closed(Executions):
        def start(self, name: str, input: Mapping[str, Any]) -> str:  # noqa: A002
            if self.created:
                raise InterlockError(f"StartExecution {name}: AccessDenied on DescribeExecution")
            return super().start(name, input)

    clock = Clock()
    with open_store(f"sqlite:///{tmp_path}/s.db", now=lambda: clock.now().timestamp()) as store:
        executions = Closed(Faults())
        controller = Controller(store, Executor(store, Bus(Faults()), executions, clock))
        config = {
            "pipeline": {"id": PID},
            "schedule": {"trigger": {"key": "ready", "check": "exists"}},
            "job": {"type": "command", "config": {"command": ["true"]}},
        }
        store.control.put_config(validate_config_data(config), now=T0)
        store.control.put_sensor(PID, "ready", {"date": PERIOD}, now=T0)
        (record,) = [
            r
            for r in store.tables["control"].changes(None, limit=100).records
            if "SENSOR#" in str(r["dynamodb"]["Keys"]["SK"]["S"])
        ]
        controller.on_record(record, T0)
        assert executions.created == [f"{PID}-stream-{PERIOD}-a1"]
        # WHEN the trigger record is delivered again while the row is still RUNNING
        handled = controller.on_record(record, T0 + timedelta(minutes=5))
    # THEN the record goes through (not retried to the DLQ), and the failure is logged
    assert handled.kind == "sensor"
    assert executions.created == [f"{PID}-stream-{PERIOD}-a1"]
    assert any("could not resume" in r.getMessage() for r in caplog.records)
