"""One wiring function: a runtime's read → decide → apply services from a store plus its adapters.

Every runtime (the embedded one, the AWS Lambdas, a notebook driving a simulation) builds the same
services here and differs only in the adapters it passes::

    build_services(store, clock=…, executions=…, timers=…, triggers=…, bus=…)
      ├── bus           the EventBus given, else StoreBus(store, notifier)    (embedded: events table)
      ├── executor      Executor(store, bus, executions, clock, timers=timers) (the only writer)
      ├── orchestrator  Orchestrator(store, triggers=DurableStarts(store, triggers, clock), clock)
      └── controller    Controller(store, executor, calendars)
    Services.run_task(payload)        the state machine's Task: orchestrator decides, executor applies
    Services.on_record / on_timer     the stream-router and timer handlers (the controller's)
    Services.operator(actor)          operator actions audited through the same bus

    adapter     embedded runtime                  AWS Lambdas             tests
    ----------  --------------------------------  ----------------------  ---------------------
    executions  local.adapters.LocalExecutions    Step Functions          RecordingExecutions
    timers      local.adapters.LocalTimers        EventBridge Scheduler   RecordingTimers
    bus         StoreBus (the default)            EventBridge PutEvents   RecordingBus
    triggers    a cache of triggers.runner_for    the same                local runners

Nothing here assumes a local process: no feed tailing, no ASL runner, no SQLite. A Lambda calls
:func:`build_services` once per container (module scope) and one handler per invocation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from interlock.exceptions import InterlockError
from interlock.lifecycle.run import TRIGGER_RETRY_ERROR
from interlock.records import RerunReason, budget_bucket
from interlock.service.bus import StoreBus
from interlock.service.controller import Controller
from interlock.service.executor import DEFAULT_LOCK_TTL, Executor
from interlock.service.orchestrator import Orchestrator, OrchestratorError, wants_trigger_retry
from interlock.service.starts import DurableStarts

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime, timedelta

    from interlock.config.models import Calendar
    from interlock.events import Event
    from interlock.lifecycle.actions import RunRef
    from interlock.ports import Clock, EventBus, Executions, Timers
    from interlock.service.controller import Handled
    from interlock.service.executor import ApplyResult
    from interlock.service.operator import Operator
    from interlock.store.factory import Store
    from interlock.triggers.base import TriggerRunner

__all__ = ["Services", "TaskRetry", "build_services"]


class TaskRetry(InterlockError):
    """A Trigger Task must fail with :data:`~interlock.lifecycle.run.TRIGGER_RETRY_ERROR` (its decision
    was applied first); the state machine's Retry then waits the backoff.

    The embedded runtime turns it into an ASL ``TaskFailed``; a Lambda raises an exception whose class
    name is :attr:`error`.

    Attributes:
        error: the Task error name the state machine's Retry matches.
        cause: why (the decision's reason).
        applied: what the executor applied before the retry.
    """

    def __init__(self, cause: str, applied: ApplyResult) -> None:
        super().__init__(cause)
        self.error = TRIGGER_RETRY_ERROR
        self.cause = cause
        self.applied = applied


@dataclass(eq=False)
class Services:
    """A runtime's wired services (built by :func:`build_services`).

    Attributes:
        store: the store every service reads and the executor writes.
        clock: the instant of every decision.
        bus: where every event (decisions' and operator actions') is published.
        executor: applies decisions (the only writer).
        orchestrator: the state machine's Task resource (decides, writes nothing).
        controller: the change-feed record and timer handlers.
        calendars: named calendars.
        flush: re-delivers alerts a notifier could not send (the notifier's ``flush``), or ``None``.
    """

    store: Store
    clock: Clock
    bus: EventBus
    executor: Executor
    orchestrator: Orchestrator
    controller: Controller
    calendars: Mapping[str, Calendar] = field(default_factory=dict)
    flush: Callable[[], int] | None = None

    def __repr__(self) -> str:
        return f"<Services {self.store!r} bus={self.bus!r}>"

    def run_task(self, payload: Any) -> tuple[dict[str, Any], ApplyResult]:
        """One state-machine Task: the orchestrator decides, the executor applies, the output returns.

        Args:
            payload: the Task's parameters (``mode``, ``pipelineId``, …).

        Returns:
            ``(output, applied)``: the Task's output and what the executor applied.

        Raises:
            OrchestratorError: the payload is not an object, or the orchestrator cannot act on it.
            TaskRetry: a transient trigger failure with retries left (after its decision was applied).
        """
        if not isinstance(payload, Mapping):
            raise OrchestratorError("the Task payload must be an object")
        output, decision = self.orchestrator.handle(payload)
        applied = self.executor.apply(decision)
        if wants_trigger_retry(payload, decision):
            raise TaskRetry(decision.reason, applied)
        return output, applied

    def on_record(self, record: Mapping[str, Any], now: datetime) -> Handled:
        """A change-feed record (DynamoDB Streams shape): see :meth:`Controller.on_record`."""
        return self.controller.on_record(record, now)

    def on_timer(self, payload: Mapping[str, Any], now: datetime) -> Handled:
        """A fired timer's payload: see :meth:`Controller.on_timer`."""
        return self.controller.on_timer(payload, now)

    def operator(self, actor: str | None = None) -> Operator:
        """Operator actions (rerun, ack, dry run) published through this bus.

        Args:
            actor: who acts (default: :func:`~interlock.service.operator.current_actor`).
        """
        from interlock.service.operator import Operator

        return Operator(self.store, bus=self.bus, clock=self.clock, actor=actor)


def build_services(
    store: Store | str,
    *,
    clock: Clock,
    executions: Executions,
    timers: Timers | None,
    triggers: Callable[[str], TriggerRunner],
    bus: EventBus | None = None,
    notifier: Callable[[Event], None] | None = None,
    calendars: Mapping[str, Calendar] | None = None,
    durable_starts: bool = True,
    lock_ttl: timedelta | None = None,
    poll_backoff: timedelta | None = None,
) -> Services:
    """Wire a runtime's services from a store and the adapters it is given.

    Args:
        store: an open store, or a store URL (``sqlite:///…``, ``dynamodb://<environment>?region=…``)
            opened with :func:`interlock.store.open_store`.
        clock: the clock every service reads.
        executions: the ``Executions`` port (local ASL runner, Step Functions, a recording fake).
        timers: the ``Timers`` port (local timer rows, EventBridge Scheduler, a recording fake);
            ``None`` only for a runtime that never decides a timer.
        triggers: the trigger runner of a job type (keep runners alive between calls, so a job one
            call started can be polled by the next).
        bus: the ``EventBus`` (EventBridge, a recording bus); ``None``: a :class:`StoreBus` over
            ``store`` that hands each stored event to ``notifier``.
        notifier: the default bus's notifier (ignored when ``bus`` is given); its ``flush``, if it has
            one, becomes :attr:`Services.flush`.
        calendars: named calendars for exclusions.
        durable_starts: wrap ``triggers`` in :class:`DurableStarts`, so a replayed Trigger Task reuses
            the first start's handle (both runtimes run Tasks at least once).
        lock_ttl: how long a run row stays locked (AWS: the state machine's timeout + a margin);
            ``None``: the executor's default.
        poll_backoff: the longest wait between job polls when polls back off (AWS); ``None``: the
            fixed ``job.pollInterval`` (embedded).

    Returns:
        The services.

    Raises:
        StoreError: ``store`` is not an accepted store URL.
    """
    if isinstance(store, str):
        from interlock.store.factory import open_store

        store = open_store(store)
    if bus is None:
        bus = StoreBus(store, notifier)
    executor = Executor(
        store, bus, executions, clock, timers=timers, lock_ttl=lock_ttl or DEFAULT_LOCK_TTL
    )
    runners = DurableStarts(store, triggers, clock) if durable_starts else triggers
    named = dict(calendars or {})

    def retries_used(run: RunRef) -> int:
        bucket = budget_bucket(RerunReason.JOB_FAIL_RETRY)
        return store.reruns.count(run.pipeline_id, run.schedule_id, run.period, bucket)

    orchestrator = Orchestrator(
        store,
        triggers=runners,
        clock=clock,
        poll_backoff=poll_backoff,
        retries_used=retries_used,
        calendars=named,
    )
    flush = getattr(notifier, "flush", None)
    return Services(
        store=store,
        clock=clock,
        bus=bus,
        executor=executor,
        orchestrator=orchestrator,
        controller=Controller(store, executor, calendars=named),
        calendars=named,
        flush=flush if callable(flush) else None,
    )
