"""The embedded runtime: the AWS wiring of DESIGN §5, in one process over one store.

One :meth:`EmbeddedRuntime.tick` does what DynamoDB Streams, Lambda and Step Functions do in AWS::

    tick()
     ├─ 1. feed tailer: control + joblog change feeds, after the positions kept in the store
     │       (control row RUNTIME / FEED#<table>)
     │       record ──route()──▶ SensorWrite ──decide_sensor()──▶ Executor.apply (AcquireRun, StartExecution)
     │                           other kinds: counted (job-log, rerun decisions are a later issue)
     │       the position is written only after its records were handled: a crash re-handles them, and
     │       the executor's conditional writes (AcquireRun) make that harmless
     ├─ 2. executions: every RUNNING snapshot due now (control GSI1 EXECUTIONS#RUNNING, sort key the
     │       wake-up instant: a Query, never a Scan) is stepped by the ASL runner; each Task calls the
     │       Orchestrator, whose decision the Executor applies before the output goes back to the state
     │       machine; the snapshot is saved after the step (conditional on its version)
     └─ 3. TickReport: what was read, decided, started, stepped and finished; the next wake-up

Executions (:class:`LocalExecutions`, the ``Executions`` port) are control rows ``EXECUTION`` / <name>
holding the :class:`~interlock.local.asl.Execution` snapshot as JSON; a RUNNING one carries
``GSI1PK = EXECUTIONS#RUNNING`` and ``GSI1SK`` = its wake-up instant (fixed-width UTC text, so it sorts);
finished ones drop both (a sparse index). Starting a name again is idempotent, as in Step Functions.

A crash *inside* a step re-runs that step's Tasks from the last saved snapshot: :class:`DurableStarts`
gives a replayed Trigger the first start's job handle (no second job), and the lifecycle's events are
claimed once per attempt (no second JOB_TRIGGERED). A ``command`` job started before a process restart is
adopted by the new runner (see :class:`~interlock.triggers.command.CommandRunner`).

:class:`StoreBus` is the ``EventBus``: each event goes to ``store.events`` and then to an optional notifier
(:func:`print_event` prints one line to the console).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

from interlock.controller import Controller, Handled, cron_timer_name
from interlock.executor import Executor
from interlock.lifecycle.orchestrator import Orchestrator, OrchestratorError, wants_trigger_retry
from interlock.lifecycle.run import TRIGGER_RETRY_ERROR
from interlock.local import asl
from interlock.local.crashpoint import crash_point
from interlock.ports import ExecutionConflictError
from interlock.store import codec, keys
from interlock.store.table import ConflictError, absent, equals, query_all, sk_lte
from interlock.triggers.base import RunHandle

if TYPE_CHECKING:
    from collections.abc import Callable

    from interlock.config.models import Calendar
    from interlock.events import Event
    from interlock.executor import ApplyResult
    from interlock.ports import Clock
    from interlock.schedule import Period
    from interlock.store.factory import Store
    from interlock.store.table import Item
    from interlock.triggers.base import JobStatus, TriggerRunner

__all__ = [
    "DEFAULT_DEFINITION",
    "JOB_START_PK",
    "DurableStarts",
    "EXECUTIONS_RUNNING",
    "EXECUTION_PK",
    "FEED_TABLES",
    "RUNTIME_PK",
    "EmbeddedRuntime",
    "LocalExecutions",
    "SettableClock",
    "StoreBus",
    "TIMERS_PENDING",
    "TIMER_PK",
    "LocalTimers",
    "TickReport",
    "load_state_machine",
    "print_event",
]

log = logging.getLogger(__name__)

RUNTIME_PK: Final = "RUNTIME"
"""Control partition of the runtime's feed positions (sort key ``FEED#<table>``)."""
EXECUTION_PK: Final = "EXECUTION"
"""Control partition of local execution snapshots (sort key: the execution name)."""
EXECUTIONS_RUNNING: Final = "EXECUTIONS#RUNNING"
"""Control GSI1 partition of RUNNING executions (sort key: the wake-up instant)."""
TIMER_PK: Final = "TIMER"
"""Control partition of pending local timers (sort key: the timer's name)."""
TIMERS_PENDING: Final = "TIMERS#PENDING"
"""Control GSI1 partition of pending timers (sort key: the due instant)."""
JOB_START_PK: Final = "JOBSTART"
"""Control partition remembering each started job's handle (sort key: the run id)."""
JOB_START_TTL: Final = timedelta(days=7)
MAX_ROUNDS: Final = 20
"""How many feed/timer/step rounds one tick may run at one instant before it yields."""
FEED_TABLES: Final = ("control", "joblog")
"""The tables whose change feeds the runtime tails, in this order."""
DEFAULT_DEFINITION: Final = Path(__file__).resolve().parents[2] / "deploy" / "statemachine.asl.json"
"""The state machine definition AWS runs (in a source checkout)."""
EXECUTION_ID_PREFIX: Final = "local:execution:"
_FEED_SK: Final = "FEED#"
_DUE_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%fZ"
_GSI1PK, _GSI1SK = "GSI1PK", "GSI1SK"


def load_state_machine(path: Path = DEFAULT_DEFINITION) -> asl.StateMachine:
    """Read and validate the state machine definition.

    Args:
        path: the ASL JSON file (default: ``deploy/statemachine.asl.json`` of the checkout).

    Returns:
        The validated machine.

    Raises:
        OSError: the file cannot be read.
        AslDefinitionError: the definition is invalid.
    """
    return asl.StateMachine.from_json(path.read_text(encoding="utf-8"), name="interlock")


def _due_key(at: datetime) -> str:
    """Fixed-width UTC text (microseconds always present), so that index order is time order."""
    return at.astimezone(UTC).strftime(_DUE_FORMAT)


def _from_due_key(text: str) -> datetime:
    return datetime.strptime(text, _DUE_FORMAT).replace(tzinfo=UTC)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


# ----------------------------------------------------------------------------------------- bus


def print_event(event: Event) -> None:
    """A console notifier: one line per event (time, type, pipeline, run, message)."""
    run = f" {event.schedule_id}/{event.date}" if event.schedule_id and event.date else ""
    stamp = keys.format_time(event.timestamp)
    print(f"{stamp} {event.type.value} {event.pipeline_id}{run}: {event.message}")  # noqa: T201


class StoreBus:
    """The embedded ``EventBus``: appends every event to ``store.events``, then notifies.

    Args:
        store: the store whose events table receives every event.
        notifier: called with each stored event (e.g. :func:`print_event`); ``None`` for none.
    """

    def __init__(self, store: Store, notifier: Callable[[Event], None] | None = None) -> None:
        self.store = store
        self.notifier = notifier

    def __repr__(self) -> str:
        return f"<StoreBus {self.store!r}>"

    def publish(self, event: Event) -> None:
        """Store ``event``, then hand it to the notifier (a notifier failure is logged, not raised).

        Raises:
            StoreError: the event could not be stored.
        """
        self.store.events.append(event)
        if self.notifier is None:
            return
        try:
            self.notifier(event)
        except Exception:  # the event is stored; a broken console or Slack must not stop the run
            log.exception("notifier failed for %s %s", event.type, event.pipeline_id)


# ---------------------------------------------------------------------------------- executions


@dataclass(frozen=True, slots=True)
class _Snapshot:
    execution: asl.Execution
    version: int


class LocalExecutions:
    """The ``Executions`` port over control rows (see the module docstring).

    Args:
        store: the store (its control table holds the snapshots).
        machine: the state machine every execution runs.
        clock: the start instant of new executions.
    """

    def __init__(self, store: Store, machine: asl.StateMachine, clock: Clock) -> None:
        self.table = store.tables["control"]
        self.machine = machine
        self.clock = clock

    def __repr__(self) -> str:
        return f"<LocalExecutions {self.table!r}>"

    def start(self, name: str, input: Mapping[str, Any]) -> str:  # noqa: A002 - the port's word
        """Create the execution ``name`` (RUNNING, due now) unless it exists.

        Args:
            name: the execution name.
            input: the execution input (JSON-able).

        Returns:
            The execution id (``local:execution:<name>``), also when the name already existed.

        Raises:
            ExecutionConflictError: ``name`` exists with a different input.
        """
        payload = json.loads(_canonical(dict(input)))
        execution_id = EXECUTION_ID_PREFIX + name
        item = self.table.get(EXECUTION_PK, name)
        if item is None:
            execution = asl.start(self.machine, payload, now=self.clock.now(), name=name)
            try:
                self.table.put(self._item(execution, 1, payload), condition=absent())
            except ConflictError:
                item = self.table.get(EXECUTION_PK, name)
                if item is None:
                    raise
            else:
                return execution_id
        if item.get("input") != _canonical(payload):
            raise ExecutionConflictError(name, execution_id)
        return execution_id

    def get(self, name: str) -> asl.Execution | None:
        """The execution's latest saved snapshot, or ``None``."""
        item = self.table.get(EXECUTION_PK, name)
        return None if item is None else self._read(item).execution

    def due(self, now: datetime) -> list[_Snapshot]:
        """RUNNING executions whose wake-up is at or before ``now``, earliest first (one Query)."""
        items = query_all(self.table, EXECUTIONS_RUNNING, sk_lte(_due_key(now)), index=keys.INDEX)
        return [self._read(item) for item in items]

    def next_wake(self) -> datetime | None:
        """The earliest wake-up of any RUNNING execution, or ``None`` when none runs."""
        page = self.table.query(EXECUTIONS_RUNNING, index=keys.INDEX, limit=1)
        if not page.items:
            return None
        return _from_due_key(str(page.items[0][_GSI1SK]))

    def save(self, snapshot: _Snapshot, execution: asl.Execution) -> bool:
        """Replace ``snapshot`` by ``execution``, unless someone saved it meanwhile.

        Returns:
            Whether it was saved (``False``: another runtime stepped it first).
        """
        item = self._item(execution, snapshot.version + 1, execution.input)
        try:
            self.table.put(item, condition=equals("version", snapshot.version))
        except ConflictError:
            log.warning("execution %s was saved by someone else; this step is dropped", execution)
            return False
        return True

    @staticmethod
    def _item(execution: asl.Execution, version: int, payload: Any) -> Item:
        item: Item = {
            "PK": EXECUTION_PK,
            "SK": execution.name,
            "status": execution.status.value,
            "state": execution.state,
            "input": _canonical(payload),
            "snapshot": _canonical(execution.to_dict()),
            "version": version,
        }
        if execution.status is asl.ExecutionStatus.RUNNING:
            wake = execution.wait_until_datetime or datetime.fromisoformat(execution.start_time)
            item[_GSI1PK] = EXECUTIONS_RUNNING
            item[_GSI1SK] = _due_key(wake)
        return item

    @staticmethod
    def _read(item: Mapping[str, Any]) -> _Snapshot:
        execution = asl.Execution.from_dict(json.loads(str(item["snapshot"])))
        return _Snapshot(execution, int(item["version"]))


# -------------------------------------------------------------------------------------- timers


@dataclass(frozen=True, slots=True)
class DueTimer:
    """A pending timer whose time came.

    Attributes:
        name: the timer's name.
        at: when it was due.
        payload: what its handler receives.
        due_key: the stored due key (the fired row is removed only if still this one).
    """

    name: str
    at: datetime
    payload: dict[str, Any]
    due_key: str


class LocalTimers:
    """The ``Timers`` port over control rows ``TIMER`` / <name> (EventBridge Scheduler's stand-in).

    A pending timer carries ``GSI1PK = TIMERS#PENDING`` and ``GSI1SK`` = its due instant, so "what is
    due" is one Query. Scheduling a name again replaces its timer; firing removes it only if nobody
    rescheduled it meanwhile.

    Args:
        store: the store (its control table holds the timers).
    """

    def __init__(self, store: Store) -> None:
        self.table = store.tables["control"]

    def __repr__(self) -> str:
        return f"<LocalTimers {self.table!r}>"

    def schedule(self, name: str, at: datetime, payload: Mapping[str, Any]) -> None:
        """Create or replace the timer ``name``."""
        due = _due_key(at)
        self.table.put(
            {
                "PK": TIMER_PK,
                "SK": name,
                "due": due,
                "payload": _canonical(dict(payload)),
                _GSI1PK: TIMERS_PENDING,
                _GSI1SK: due,
            }
        )

    def cancel(self, name: str) -> None:
        """Drop the timer ``name`` (nothing if there is none)."""
        self.table.delete(TIMER_PK, name)

    def get(self, name: str) -> DueTimer | None:
        """The pending timer ``name``, or ``None``."""
        item = self.table.get(TIMER_PK, name)
        return None if item is None else self._read(item)

    def due(self, now: datetime) -> list[DueTimer]:
        """Timers due at or before ``now``, earliest first (one Query)."""
        items = query_all(self.table, TIMERS_PENDING, sk_lte(_due_key(now)), index=keys.INDEX)
        return [self._read(item) for item in items]

    def next_due(self) -> datetime | None:
        """The earliest pending timer's instant, or ``None``."""
        page = self.table.query(TIMERS_PENDING, index=keys.INDEX, limit=1)
        if not page.items:
            return None
        return _from_due_key(str(page.items[0][_GSI1SK]))

    def done(self, timer: DueTimer) -> None:
        """Remove a fired timer, unless it was rescheduled while it fired."""
        try:
            self.table.delete(TIMER_PK, timer.name, condition=equals("due", timer.due_key))
        except ConflictError:
            pass

    @staticmethod
    def _read(item: Mapping[str, Any]) -> DueTimer:
        due = str(item["due"])
        payload = json.loads(str(item.get("payload") or "{}"))
        return DueTimer(str(item["SK"]), _from_due_key(due), payload, due)


# ---------------------------------------------------------------------------------- job starts


class DurableStarts:
    """Trigger runners whose starts are remembered in the store (``JOBSTART`` / <run id> rows).

    A step is saved after its Tasks ran; a crash in between replays the Trigger Task from the last
    snapshot. The run id is the attempt's execution name, so the replayed start finds the first start's
    handle and returns it instead of starting a second job. A crash between the job's start and this
    row's write is covered by the runners: a ``command`` start claims a job dir per run id and a replay
    adopts it; an ``http`` start sends the run id as ``Idempotency-Key`` for the endpoint to dedupe. A start that failed
    writes nothing, so an infrastructure retry starts again.

    Args:
        store: the store (its control table keeps the rows, for :data:`JOB_START_TTL`).
        triggers: the real trigger runner of a job type.
        clock: stamps the rows' expiry.
    """

    def __init__(
        self, store: Store, triggers: Callable[[str], TriggerRunner], clock: Clock
    ) -> None:
        self.table = store.tables["control"]
        self.triggers = triggers
        self.clock = clock

    def __repr__(self) -> str:
        return f"<DurableStarts {self.table!r}>"

    def __call__(self, job_type: str) -> TriggerRunner:
        """The runner of ``job_type``, with remembered starts."""
        return _DurableRunner(self, self.triggers(job_type))


class _DurableRunner:
    def __init__(self, starts: DurableStarts, inner: TriggerRunner) -> None:
        self.starts = starts
        self.inner = inner

    def start(self, job_config: Any, *, pipeline_id: str, period: Period, run_id: str) -> RunHandle:
        table = self.starts.table
        item = table.get(JOB_START_PK, run_id)
        if item is not None:
            log.warning("job %s was already started: reusing its handle (a replayed step)", run_id)
            return RunHandle(run_id, json.loads(str(item.get("metadata") or "{}")))
        handle = self.inner.start(job_config, pipeline_id=pipeline_id, period=period, run_id=run_id)
        crash_point("job-started")  # reliability tests: started, not yet recorded
        table.put(
            {
                "PK": JOB_START_PK,
                "SK": run_id,
                "pipelineId": pipeline_id,
                "metadata": _canonical(handle.metadata),
                "ttl": keys.epoch_seconds(self.starts.clock.now() + JOB_START_TTL),
            }
        )
        return handle

    def status(self, job_config: Any, handle: RunHandle) -> JobStatus:
        status = self.inner.status(job_config, handle)
        if status.state != "running":
            crash_point("job-ended")  # reliability tests: ended, outcome not yet saved
        return status


# ------------------------------------------------------------------------------------- runtime


@runtime_checkable
class SettableClock(Protocol):
    """A clock :meth:`EmbeddedRuntime.run_until` can move (``VirtualClock``)."""

    def now(self) -> datetime:
        """The current instant."""
        ...

    def set(self, at: datetime) -> None:
        """Move the clock to ``at``."""
        ...


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
        store: the store (control and joblog feeds, positions, execution snapshots, timers).
        clock: the runtime's now (a ``VirtualClock`` in tests and simulations).
        executor: applies every decision; its ``executions`` must be a :class:`LocalExecutions`; its
            ``timers`` a :class:`LocalTimers` (one is created when it has none).
        orchestrator: the state machine's Task resource.
        calendars: named calendars for exclusions.
        batch_size: feed records read per request.
        flush: called once per tick to re-deliver alerts a notifier could not send (e.g.
            ``SlackNotifier.flush``).
        watchdog_interval: how often the watchdog timer fires (``None``: no watchdog).

    Raises:
        TypeError: ``executor.executions`` is not a :class:`LocalExecutions`.
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock,
        executor: Executor,
        orchestrator: Orchestrator,
        calendars: Mapping[str, Calendar] | None = None,
        batch_size: int = 100,
        flush: Callable[[], int] | None = None,
        watchdog_interval: timedelta | None = WATCHDOG_INTERVAL,
    ) -> None:
        if not isinstance(executor.executions, LocalExecutions):
            raise TypeError(
                f"the embedded runtime steps LocalExecutions; the executor has {executor.executions!r}"
            )
        if executor.timers is None:
            executor.timers = LocalTimers(store)
        if not isinstance(executor.timers, LocalTimers):
            raise TypeError(f"the embedded runtime fires LocalTimers; got {executor.timers!r}")
        self.store = store
        self.clock = clock
        self.executor = executor
        self.executions: LocalExecutions = executor.executions
        self.timers: LocalTimers = executor.timers
        self.orchestrator = orchestrator
        self.calendars: Mapping[str, Calendar] = dict(calendars or {})
        self.controller = Controller(store, executor, calendars=self.calendars)
        self.batch_size = batch_size
        self.flush = flush
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
        """Wire a runtime: :class:`StoreBus`, :class:`LocalExecutions`, :class:`LocalTimers`, an
        Executor and an Orchestrator.

        Args:
            store: the store.
            clock: the clock every part reads.
            triggers: the trigger runner of a job type (keep runners alive between calls).
            machine: the state machine (default: :func:`load_state_machine`).
            notifier: the bus's notifier (e.g. :func:`print_event`, or an ``interlock.alerts``
                notifier, whose ``flush`` then runs every tick).
            calendars: named calendars.
            watchdog_interval: how often the watchdog runs (``None``: never).

        Returns:
            The runtime.
        """
        executions = LocalExecutions(store, machine or load_state_machine(), clock)
        executor = Executor(
            store, StoreBus(store, notifier), executions, clock, timers=LocalTimers(store)
        )
        orchestrator = Orchestrator(
            store, triggers=DurableStarts(store, triggers, clock), clock=clock
        )
        flush = getattr(notifier, "flush", None)
        return cls(
            store,
            clock=clock,
            executor=executor,
            orchestrator=orchestrator,
            calendars=calendars,
            flush=flush if callable(flush) else None,
            watchdog_interval=watchdog_interval,
        )

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
        for _ in range(MAX_ROUNDS):
            now = self.clock.now()  # a real (or accelerated) clock moves while a round works
            before = tally.activity()
            for table in FEED_TABLES:
                self._drain(table, now)
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

    def _drain(self, table: str, now: datetime) -> None:
        position = self.feed_position(table)
        dirty = False
        while True:
            batch = self.store.tables[table].changes(position, limit=self.batch_size)
            if not batch.records:
                break
            for record in batch.records:
                dirty = self._handle(record, now) or dirty
            position = batch.position
        # Only the runtime's own position rows were read: writing the position again would add one
        # more such record, forever. Re-reading those few next time is cheaper.
        if dirty:
            self.reset_feed(table, position)

    def _handle(self, record: Mapping[str, Any], now: datetime) -> bool:
        pk, _sk = _record_keys(record)
        if pk == RUNTIME_PK:
            return False
        tally = self._tally
        tally.records += 1
        if pk in (EXECUTION_PK, TIMER_PK, JOB_START_PK):
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
        """The ASL Task callback: orchestrator decides, executor applies, output returns."""
        if not isinstance(payload, Mapping):
            raise OrchestratorError(f"{resource}: the Task payload must be an object")
        output, decision = self.orchestrator.handle(payload)
        self._tally.decisions.append(self.executor.apply(decision))
        if wants_trigger_retry(payload, decision):
            raise asl.TaskFailed(TRIGGER_RETRY_ERROR, decision.reason)
        return output
