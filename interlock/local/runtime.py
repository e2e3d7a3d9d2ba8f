"""The embedded runtime: the AWS wiring of DESIGN §5, in one process over one store.

One :meth:`EmbeddedRuntime.tick` does what DynamoDB Streams, Lambda and Step Functions do in AWS::

    tick()
     ├─ 1. feed tailer: control + joblog change feeds, after the positions kept in the store
     │       (control row RUNTIME / FEED#<table>); each record goes to the controller
     │       (:meth:`Services.on_record`: sensor, job-log, rerun-request and config records)
     │       the position is written only after its records were handled: a crash re-handles them, and
     │       the executor's conditional writes (AcquireRun) make that harmless
     ├─ 2. timers: every due timer (cron, SLA, watchdog) goes to :meth:`Services.on_timer`
     ├─ 3. executions: every RUNNING snapshot due now (control GSI1 EXECUTIONS#RUNNING, sort key the
     │       wake-up instant: a Query, never a Scan) is stepped by the ASL runner; each Task is
     │       :meth:`Services.run_task` (the orchestrator decides, the executor applies) before the
     │       output goes back to the state machine; the snapshot is saved after the step (conditional
     │       on its version)
     └─ 4. TickReport: what was read, decided, started, stepped and finished; the next wake-up

The services are wired by :func:`interlock.service.wiring.build_services`, the same function the AWS
Lambdas call; this runtime adds only the local adapters (:mod:`interlock.local.adapters`) and the loop.

A crash *inside* a step re-runs that step's Tasks from the last saved snapshot:
:class:`~interlock.service.starts.DurableStarts` gives a replayed Trigger the first start's job handle (no
second job), and the lifecycle's events are claimed once per attempt (no second JOB_TRIGGERED). A ``command``
job started before a process restart is adopted by the new runner (see
:class:`~interlock.triggers.command.CommandRunner`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from interlock.clock import SettableClock
from interlock.local import asl
from interlock.local.adapters import (
    EXECUTION_PK,
    TIMER_PK,
    DueTimer,
    LocalExecutions,
    LocalTimers,
    load_state_machine,
)
from interlock.service.controller import cron_timer_name
from interlock.service.starts import JOB_START_PK
from interlock.service.wiring import TaskRetry, build_services
from interlock.store import codec

if TYPE_CHECKING:
    from collections.abc import Callable

    from interlock.config.models import Calendar
    from interlock.events import Event
    from interlock.local.adapters import _Snapshot
    from interlock.ports import Clock
    from interlock.service.controller import Handled
    from interlock.service.executor import ApplyResult
    from interlock.service.wiring import Services
    from interlock.store.factory import Store
    from interlock.triggers.base import TriggerRunner

__all__ = [
    "FEED_TABLES",
    "RUNTIME_PK",
    "WATCHDOG_INTERVAL",
    "WATCHDOG_TIMER",
    "EmbeddedRuntime",
    "SettableClock",
    "TickReport",
]

log = logging.getLogger(__name__)

RUNTIME_PK: Final = "RUNTIME"
"""Control partition of the runtime's feed positions (sort key ``FEED#<table>``)."""
_OWN_ROWS: Final = frozenset({RUNTIME_PK, EXECUTION_PK, TIMER_PK, JOB_START_PK})
"""The runtime's own partitions: their feed records are only counted, so read without images."""
MAX_ROUNDS: Final = 20
"""How many feed/timer/step rounds one tick may run at one instant before it yields."""
FEED_TABLES: Final = ("control", "joblog")
"""The tables whose change feeds the runtime tails, in this order."""
_FEED_SK: Final = "FEED#"


# ------------------------------------------------------------------------------------- runtime


WATCHDOG_TIMER: Final = "watchdog"
"""The name of the runtime's periodic watchdog timer."""
WATCHDOG_INTERVAL: Final = timedelta(minutes=5)
"""How often the watchdog runs (the original's default schedule)."""


@dataclass(frozen=True, slots=True)
class TickReport:
    """What one :meth:`EmbeddedRuntime.tick` did.

    Attributes:
        at: the tick's instant.
        records: feed records handled (the runtime's own position rows not counted).
        ignored: records that needed nothing.
        malformed: why each unreadable record was skipped.
        decisions: every decision applied (router, timers and orchestrator), in order, as the executor
            reported.
        started: ids of the executions that records and timers started.
        stepped: names of the executions stepped.
        finished: names of the executions that ended (succeeded or failed) in this tick.
        dropped: names of the executions whose step was not saved (another runtime saved first).
        fired: names of the timers that fired.
        next_wake: the earliest wake-up of a RUNNING execution or pending timer after the tick.
    """

    at: datetime
    records: int = 0
    ignored: int = 0
    malformed: tuple[str, ...] = ()
    decisions: tuple[ApplyResult, ...] = ()
    started: tuple[str, ...] = ()
    stepped: tuple[str, ...] = ()
    finished: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    fired: tuple[str, ...] = ()
    next_wake: datetime | None = None


@dataclass
class _Tally:
    records: int = 0
    ignored: int = 0
    malformed: list[str] = field(default_factory=list)
    decisions: list[ApplyResult] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    stepped: list[str] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    fired: list[str] = field(default_factory=list)

    def activity(self) -> int:
        return len(self.decisions) + len(self.stepped) + len(self.fired)


def _timer_order(timer: DueTimer) -> tuple[datetime, bool]:
    return timer.at, timer.payload.get("kind") != "cron"


def _record_keys(record: Mapping[str, Any]) -> tuple[str, str]:
    ddb = record.get("dynamodb")
    raw = ddb.get("Keys") if isinstance(ddb, Mapping) else None
    if not isinstance(raw, Mapping):
        return "", ""
    try:
        plain = codec.unmarshal_item(raw)
    except (ValueError, TypeError, AttributeError):
        return "", ""
    return str(plain.get("PK", "")), str(plain.get("SK", ""))


class EmbeddedRuntime:
    """Tails the change feeds, fires timers, starts and steps local executions (module docstring).

    Args:
        services: the wired services (:func:`~interlock.service.wiring.build_services`); their
            executor's ``executions`` must be a :class:`~interlock.local.adapters.LocalExecutions` and
            its ``timers`` a :class:`~interlock.local.adapters.LocalTimers`.
        batch_size: feed records read per request.
        watchdog_interval: how often the watchdog timer fires (``None``: no watchdog).

    Raises:
        TypeError: the services' executor has other executions or timers.
    """

    def __init__(
        self,
        services: Services,
        *,
        batch_size: int = 100,
        watchdog_interval: timedelta | None = WATCHDOG_INTERVAL,
    ) -> None:
        executor = services.executor
        if not isinstance(executor.executions, LocalExecutions):
            raise TypeError(
                f"the embedded runtime steps LocalExecutions; the executor has {executor.executions!r}"
            )
        if not isinstance(executor.timers, LocalTimers):
            raise TypeError(f"the embedded runtime fires LocalTimers; got {executor.timers!r}")
        self.services = services
        self.store = services.store
        self.clock = services.clock
        self.executor = executor
        self.executions: LocalExecutions = executor.executions
        self.timers: LocalTimers = executor.timers
        self.orchestrator = services.orchestrator
        self.calendars: Mapping[str, Calendar] = services.calendars
        self.controller = services.controller
        self.batch_size = batch_size
        self.flush = services.flush
        self.watchdog_interval = watchdog_interval
        self._booted = False
        self._tally = _Tally()

    @classmethod
    def build(
        cls,
        store: Store,
        *,
        clock: Clock,
        triggers: Callable[[str], TriggerRunner],
        machine: asl.StateMachine | None = None,
        notifier: Callable[[Event], None] | None = None,
        calendars: Mapping[str, Calendar] | None = None,
        watchdog_interval: timedelta | None = WATCHDOG_INTERVAL,
    ) -> EmbeddedRuntime:
        """Wire a runtime through :func:`~interlock.service.wiring.build_services` with the local
        adapters: :class:`~interlock.local.adapters.LocalExecutions`,
        :class:`~interlock.local.adapters.LocalTimers` and the default
        :class:`~interlock.service.bus.StoreBus`.

        Args:
            store: the store.
            clock: the clock every part reads.
            triggers: the trigger runner of a job type (keep runners alive between calls).
            machine: the state machine (default: :func:`~interlock.local.adapters.load_state_machine`).
            notifier: the bus's notifier (e.g. :func:`~interlock.service.bus.print_event`, or an
                ``interlock.alerts`` notifier, whose ``flush`` then runs every tick).
            calendars: named calendars.
            watchdog_interval: how often the watchdog runs (``None``: never).

        Returns:
            The runtime.
        """
        services = build_services(
            store,
            clock=clock,
            executions=LocalExecutions(store, machine or load_state_machine(), clock),
            timers=LocalTimers(store),
            triggers=triggers,
            notifier=notifier,
            calendars=calendars,
        )
        return cls(services, watchdog_interval=watchdog_interval)

    def __repr__(self) -> str:
        return f"<EmbeddedRuntime {self.store!r}>"

    # ------------------------------------------------------------------------------------ tick

    def tick(self) -> TickReport:
        """Handle new feed records, fire due timers and step due executions, until all is quiet.

        Decisions made in one round write rows the next round reads (a job-log ``success`` row, a
        rerun request), so a tick repeats its rounds at the same instant (at most :data:`MAX_ROUNDS`).

        Returns:
            What was done.

        Raises:
            Exception: what a port raised while applying a decision; the feed position is then not
                advanced past that batch (and a timer not removed), so the next tick handles it again.
        """
        self._tally = tally = _Tally()
        now = began = self.clock.now()
        if not self._booted:
            self._boot(now)
        positions: dict[str, Any] = {}  # read once a tick: this runtime is what moves them
        for _ in range(MAX_ROUNDS):
            now = self.clock.now()  # a real (or accelerated) clock moves while a round works
            before = tally.activity()
            for table in FEED_TABLES:
                self._drain(table, now, positions)
            # at one instant a cron fire goes first: its run exists before that period's SLA timers
            # a run a cron fire started is stepped before the remaining timers of this instant
            for timer in sorted(self.timers.due(now), key=_timer_order):
                self._fire(timer, now)
                if timer.payload.get("kind") == "cron":
                    break
            for snapshot in self.executions.due(now):
                self._step(snapshot, now)
            if tally.activity() == before:
                break
        if self.flush is not None:
            try:
                self.flush()
            except Exception:  # a notifier outage must not stop the controller; the outbox keeps it
                log.exception("alert flush failed")
        return TickReport(
            at=began,
            records=tally.records,
            ignored=tally.ignored,
            malformed=tuple(tally.malformed),
            decisions=tuple(tally.decisions),
            started=tuple(tally.started),
            stepped=tuple(tally.stepped),
            finished=tuple(tally.finished),
            dropped=tuple(tally.dropped),
            fired=tuple(tally.fired),
            next_wake=self.next_wake(),
        )

    def next_wake(self) -> datetime | None:
        """The earliest pending execution wake-up or timer, or ``None``."""
        wakes = [w for w in (self.executions.next_wake(), self.timers.next_due()) if w is not None]
        return min(wakes) if wakes else None

    def _boot(self, now: datetime) -> None:
        """Once per process: a cron timer for every cron pipeline, and the watchdog timer."""
        self._booted = True
        configs = self.store.control.all_configs()
        for config in configs.configs.values():
            if (
                config.schedule.cron is not None
                and self.timers.get(cron_timer_name(config.id)) is None
            ):
                self.controller.ensure_cron_timer(config, now)
        if self.watchdog_interval is not None and self.timers.get(WATCHDOG_TIMER) is None:
            self.timers.schedule(WATCHDOG_TIMER, now + self.watchdog_interval, {"kind": "watchdog"})

    def run_until(self, deadline: datetime, *, max_ticks: int = 100_000) -> list[TickReport]:
        """Tick, jumping a virtual clock to each next wake-up, until the clock reaches ``deadline``.

        The last tick happens at ``deadline`` (or at once, if the clock is already past it).

        Args:
            deadline: when to stop (timezone-aware).
            max_ticks: guard against a runtime that never gets there.

        Returns:
            The reports, in order.

        Raises:
            TypeError: the clock cannot be set.
            RuntimeError: ``max_ticks`` ticks did not reach ``deadline``.
        """
        clock = self.clock
        if not isinstance(clock, SettableClock):
            raise TypeError(f"run_until needs a clock with set(), got {clock!r}")
        reports: list[TickReport] = []
        for _ in range(max_ticks):
            report = self.tick()
            reports.append(report)
            now = clock.now()
            if now >= deadline:
                return reports
            wake = report.next_wake
            target = deadline if wake is None or wake > deadline else wake
            if target > now:
                clock.set(target)
        raise RuntimeError(f"not at {deadline.isoformat()} after {max_ticks} ticks")

    def reset_feed(self, table: str, position: Any = None) -> None:
        """Set a feed's persisted position (``None``: replay the whole kept feed on the next tick)."""
        self.store.tables["control"].put(
            {"PK": RUNTIME_PK, "SK": _FEED_SK + table, "position": position}
        )

    def feed_position(self, table: str) -> Any:
        """The persisted position of ``table``'s feed (``None`` before the first record)."""
        item = self.store.tables["control"].get(RUNTIME_PK, _FEED_SK + table)
        return None if item is None else item.get("position")

    # ------------------------------------------------------------------------------------ feed

    def _drain(self, table: str, now: datetime, positions: dict[str, Any]) -> None:
        position = positions[table] if table in positions else self.feed_position(table)
        dirty = False
        while True:
            batch = self.store.tables[table].changes(
                position, limit=self.batch_size, images_except=_OWN_ROWS
            )
            if not batch.records:
                break
            for record in batch.records:
                dirty = self._handle(record, now) or dirty
            position = batch.position
        # Only the runtime's own rows were read (on a DynamoDB store; SQLite's feed leaves them out,
        # see EMBEDDED_PARTITIONS): writing the position again would add one more such record,
        # forever. Re-reading those few next time is cheaper.
        if dirty:
            self.reset_feed(table, position)
        positions[table] = position

    def _handle(self, record: Mapping[str, Any], now: datetime) -> bool:
        pk, _sk = _record_keys(record)
        if pk == RUNTIME_PK:
            return False
        tally = self._tally
        tally.records += 1
        if pk in _OWN_ROWS:
            tally.ignored += 1
            return True
        handled = self.controller.on_record(record, now)
        self._count(handled)
        return True

    def _count(self, handled: Handled) -> None:
        tally = self._tally
        if handled.kind == "malformed":
            log.warning("feed record not used: %s", handled.reason)
            tally.malformed.append(handled.reason)
        elif not handled.decisions and handled.kind != "timer":
            tally.ignored += 1
        for _, result in handled.decisions:
            tally.decisions.append(result)
            tally.started.extend(result.execution_ids)

    # ---------------------------------------------------------------------------------- timers

    def _fire(self, timer: DueTimer, now: datetime) -> None:
        self._tally.fired.append(timer.name)
        if timer.name == WATCHDOG_TIMER and self.watchdog_interval is not None:
            # the next run is scheduled first: a failing watchdog must not stop the watching
            self.timers.schedule(WATCHDOG_TIMER, now + self.watchdog_interval, timer.payload)
        handled = self.controller.on_timer(timer.payload, now)
        self._count(handled)
        self.timers.done(timer)  # a timer rescheduled meanwhile (cron, watchdog) is kept

    # ------------------------------------------------------------------------------ executions

    def _step(self, snapshot: _Snapshot, now: datetime) -> None:
        tally = self._tally
        execution = asl.step(
            self.executions.machine, snapshot.execution, now=now, invoke=self._invoke
        )
        tally.stepped.append(execution.name)
        if not self.executions.save(snapshot, execution):
            tally.dropped.append(execution.name)
        elif execution.status is not asl.ExecutionStatus.RUNNING:
            tally.finished.append(execution.name)

    def _invoke(self, resource: str, payload: Any) -> Any:
        """The ASL Task callback: :meth:`Services.run_task`; a retry becomes the Task's error."""
        try:
            output, applied = self.services.run_task(payload)
        except TaskRetry as retry:
            self._tally.decisions.append(retry.applied)
            raise asl.TaskFailed(retry.error, retry.cause) from None
        self._tally.decisions.append(applied)
        return output
