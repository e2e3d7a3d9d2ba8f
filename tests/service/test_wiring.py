"""``interlock.service.wiring.build_services``: one wiring for the embedded runtime and the AWS Lambdas.

The same function builds both runtimes below; only the adapters differ. The stand-in "AWS" runtime is
the DynamoDB driver on moto with recording ports from :mod:`interlock.ports`: the stream-router's part
is the control table's change feed handed to ``Services.on_record``, Step Functions' part is the ASL
interpreter running each recorded execution with ``Services.run_task`` as its Task resource.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from interlock.config.models import PipelineConfig
from interlock.events import EventType
from interlock.local import asl
from interlock.local.adapters import LocalExecutions, LocalTimers, load_state_machine
from interlock.local.runtime import EmbeddedRuntime
from interlock.local.simulate import JobBehaviour, SimulatedRunner
from interlock.ports import RecordingBus, RecordingExecutions, RecordingTimers, VirtualClock
from interlock.service.bus import StoreBus
from interlock.service.orchestrator import OrchestratorError
from interlock.service.starts import DurableStarts
from interlock.service.wiring import Services, TaskRetry, build_services
from interlock.store import open_store
from interlock.store.dynamodb import DynamoDBStore, create_tables
from interlock.store.factory import Store
from tests.contract.dynamodb_harness import moto_aws
from tests.scenarios.harness import pipeline

if TYPE_CHECKING:
    from pathlib import Path

    from interlock.events import Event

START = datetime(2026, 3, 4, 9, tzinfo=UTC)
READY = {"status": "ready"}
EXPECTED = [EventType.VALIDATION_PASSED, EventType.JOB_TRIGGERED, EventType.JOB_COMPLETED]


class _SteppingClock(VirtualClock):
    """A virtual clock the ASL interpreter's ``run_to_completion`` can jump."""

    def advance_to(self, t: datetime) -> None:
        self.set(t)


def _write_world(store: Store, clock: VirtualClock) -> None:
    store.control.put_config(PipelineConfig.model_validate(pipeline()), now=clock.now())
    store.control.put_sensor("orders", "orders-count", {"count": 12}, now=clock.now())
    store.control.put_sensor("orders", "orders-landed", READY, now=clock.now())


def _types(events: list[Event]) -> list[EventType]:
    return [e.type for e in events if e.pipeline_id == "orders"]


def test_embedded_runtime_wired_by_build_services_runs_to_job_completed(tmp_path: Path) -> None:
    clock = _SteppingClock(START)
    runner = SimulatedRunner(clock, JobBehaviour())
    seen: list[Event] = []
    with open_store(f"sqlite:///{tmp_path / 's.db'}", now=lambda: clock.now().timestamp()) as store:
        services = build_services(
            store,
            clock=clock,
            executions=LocalExecutions(store, load_state_machine(), clock),
            timers=LocalTimers(store),
            triggers=lambda _type: runner,
            notifier=seen.append,
        )
        assert isinstance(services.bus, StoreBus)
        assert isinstance(services.orchestrator.triggers, DurableStarts)
        runtime = EmbeddedRuntime(services, watchdog_interval=None)
        _write_world(store, clock)
        runtime.run_until(START + timedelta(hours=1))
        assert _types(seen) == EXPECTED
        assert sorted(e.type for e in store.events.for_pipeline("orders")) == sorted(EXPECTED)


def _run_like_aws(services: Services, store: Store, executions: RecordingExecutions) -> None:
    """Stream router on the control feed, then each started execution under the ASL interpreter."""
    clock = services.clock
    assert isinstance(clock, _SteppingClock)
    positions: dict[str, Any] = {}

    def stream_router() -> None:  # DynamoDB Streams → the stream-router Lambda, both tables
        for table in ("control", "joblog"):
            batch = store.tables[table].changes(positions.get(table), limit=100)
            for record in batch.records:
                services.on_record(record, clock.now())
            positions[table] = batch.position

    def task(_resource: str, payload: Any) -> Any:
        try:
            output, _applied = services.run_task(payload)
        except TaskRetry as retry:
            raise asl.TaskFailed(retry.error, retry.cause) from None
        return output

    machine = load_state_machine()
    stream_router()
    for name, payload in list(executions.starts):
        done = asl.run_to_completion(machine, payload, invoke=task, clock=clock, name=name)
        assert done.status is asl.ExecutionStatus.SUCCEEDED
    stream_router()


def test_aws_stand_in_wired_by_build_services_runs_to_job_completed() -> None:
    clock = _SteppingClock(START)
    runner = SimulatedRunner(clock, JobBehaviour())
    executions, timers, bus = RecordingExecutions(), RecordingTimers(), RecordingBus()
    with moto_aws():
        create_tables("wiring", region="us-east-1")
        backend = DynamoDBStore("wiring", region="us-east-1", now=lambda: clock.now().timestamp())
        store = Store(backend, url="dynamodb://wiring")
        try:
            services = build_services(
                store,
                clock=clock,
                executions=executions,
                timers=timers,
                triggers=lambda _type: runner,
                bus=bus,
            )
            assert services.bus is bus
            _write_world(store, clock)
            _run_like_aws(services, store, executions)
        finally:
            store.close()
    assert executions.names() and len(executions.starts) == 1
    assert _types(bus.events) == EXPECTED
    assert runner.started  # the job was started through the wired trigger runner


def test_build_services_opens_a_store_url_and_uses_the_notifiers_flush(tmp_path: Path) -> None:
    class _Notifier:
        def __init__(self) -> None:
            self.flushed = 0

        def __call__(self, event: Event) -> None:
            pass

        def flush(self) -> int:
            self.flushed += 1
            return 0

    clock = VirtualClock(START)
    notifier = _Notifier()
    services = build_services(
        f"sqlite:///{tmp_path / 'u.db'}",
        clock=clock,
        executions=RecordingExecutions(),
        timers=None,
        triggers=lambda _type: SimulatedRunner(clock, JobBehaviour()),
        notifier=notifier,
        durable_starts=False,
    )
    try:
        assert services.flush is not None
        services.flush()
        assert notifier.flushed == 1
        assert not isinstance(services.orchestrator.triggers, DurableStarts)
        assert "Services" in repr(services)
        with pytest.raises(OrchestratorError, match="must be an object"):
            services.run_task(["not", "an", "object"])
    finally:
        services.store.close()


def test_operator_actions_of_services_publish_through_its_bus(tmp_path: Path) -> None:
    clock = VirtualClock(START)
    bus = RecordingBus()
    with open_store(f"sqlite:///{tmp_path / 'o.db'}") as store:
        store.control.put_config(PipelineConfig.model_validate(pipeline()), now=clock.now())
        services = build_services(
            store,
            clock=clock,
            executions=RecordingExecutions(),
            timers=RecordingTimers(),
            triggers=lambda _type: SimulatedRunner(clock, JobBehaviour()),
            bus=bus,
        )
        services.operator(actor="ana").dry_run("orders", True, reason="testing")
        assert [e.type for e in bus.events] == [EventType.DRY_RUN_SWITCHED]
        assert bus.events[0].actor == "ana"
        assert store.events.for_pipeline("orders") == []


def test_interlock_aws_operator_actions_publish_through_the_bus_not_the_events_table() -> None:
    from interlock.api import Interlock

    clock = VirtualClock(START)
    bus = RecordingBus()
    with moto_aws():
        create_tables("facade", region="us-east-1")
        with Interlock.aws("facade", region="us-east-1", clock=clock, actor="ana", bus=bus) as il:
            il.store.control.put_config(PipelineConfig.model_validate(pipeline()), now=clock.now())
            il.dry_run("orders", True, reason="maintenance")
            il.rerun("orders", reason="manual")
            assert il.bus is bus
            assert [e.type for e in bus.events] == [
                EventType.DRY_RUN_SWITCHED,
                EventType.RERUN_REQUESTED,
            ]
            assert {e.actor for e in bus.events} == {"ana"}
            assert il.store.events.for_pipeline("orders") == []


def test_interlock_aws_default_bus_is_the_deployments_eventbridge_bus() -> None:
    from interlock.api import Interlock

    with moto_aws():
        create_tables("facade", region="us-east-1")
        with Interlock.aws("facade", region="us-east-1") as il:
            try:
                bus = il.bus
            except ModuleNotFoundError:  # interlock.aws.bus is not in this checkout yet
                pytest.skip("interlock.aws.bus is not present")
            assert getattr(bus, "bus_name", None) == "facade-interlock-events"


def test_interlock_local_bus_defaults_to_the_store_bus(tmp_path: Path) -> None:
    from interlock.api import Interlock

    with Interlock.local(tmp_path / "l.db") as il:
        assert isinstance(il.bus, StoreBus)
        assert il.bus is il.bus
