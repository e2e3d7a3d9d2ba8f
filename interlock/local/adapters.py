"""The embedded adapters of the ``Executions`` and ``Timers`` ports, over control rows of the store.

Executions (:class:`LocalExecutions`, Step Functions' stand-in) are control rows ``EXECUTION`` / <name>
holding the :class:`~interlock.local.asl.Execution` snapshot as JSON; a RUNNING one carries
``GSI1PK = EXECUTIONS#RUNNING`` and ``GSI1SK`` = its wake-up instant (fixed-width UTC text, so it sorts);
finished ones drop both (a sparse index). Starting a name again is idempotent, as in Step Functions.

Timers (:class:`LocalTimers`, EventBridge Scheduler's stand-in) are control rows ``TIMER`` / <name>; a
pending one carries ``GSI1PK = TIMERS#PENDING`` and ``GSI1SK`` = its due instant.

The embedded runtime (:mod:`interlock.local.runtime`) steps the executions and fires the timers.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from interlock.local import asl
from interlock.local.definition import render_definition
from interlock.ports import ExecutionConflictError
from interlock.store import keys
from interlock.store.table import ConflictError, absent, equals, query_all, sk_lte

if TYPE_CHECKING:
    from collections.abc import Mapping

    from interlock.ports import Clock
    from interlock.store.factory import Store
    from interlock.store.table import Item

__all__ = [
    "DEFAULT_DEFINITION",
    "EXECUTIONS_RUNNING",
    "EXECUTION_PK",
    "TIMERS_PENDING",
    "TIMER_PK",
    "DueTimer",
    "LocalExecutions",
    "LocalTimers",
    "load_state_machine",
]

log = logging.getLogger(__name__)

EXECUTION_PK: Final = "EXECUTION"
"""Control partition of local execution snapshots (sort key: the execution name)."""
EXECUTIONS_RUNNING: Final = "EXECUTIONS#RUNNING"
"""Control GSI1 partition of RUNNING executions (sort key: the wake-up instant)."""
TIMER_PK: Final = "TIMER"
"""Control partition of pending local timers (sort key: the timer's name)."""
TIMERS_PENDING: Final = "TIMERS#PENDING"
"""Control GSI1 partition of pending timers (sort key: the due instant)."""
DEFAULT_DEFINITION: Final = Path(__file__).resolve().parents[2] / "deploy" / "statemachine.asl.json"
"""The state machine definition AWS runs (in a source checkout)."""
EXECUTION_ID_PREFIX: Final = "local:execution:"
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
    text = render_definition(path.read_text(encoding="utf-8"))  # template defaults filled
    return asl.StateMachine.from_json(text, name="interlock")


def _due_key(at: datetime) -> str:
    """Fixed-width UTC text (microseconds always present), so that index order is time order."""
    return at.astimezone(UTC).strftime(_DUE_FORMAT)


def _from_due_key(text: str) -> datetime:
    return datetime.strptime(text, _DUE_FORMAT).replace(tzinfo=UTC)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


# ---------------------------------------------------------------------------------- executions


@dataclass(frozen=True, slots=True)
class _Snapshot:
    execution: asl.Execution
    version: int
    input_text: str  # the execution's input as stored (canonical JSON): saved again unchanged


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
        # name → (snapshot text, execution) of the last snapshot read or saved here: the next read of
        # the same text skips parsing it (asl.step copies an execution before changing it)
        self._parsed: dict[str, tuple[str, asl.Execution]] = {}

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
        input_text = _canonical(dict(input))
        payload = json.loads(input_text)
        execution_id = EXECUTION_ID_PREFIX + name
        item = self.table.get(EXECUTION_PK, name)
        if item is None:
            execution = asl.start(self.machine, payload, now=self.clock.now(), name=name)
            try:
                self.table.put(self._item(execution, 1, input_text), condition=absent())
            except ConflictError:
                item = self.table.get(EXECUTION_PK, name)
                if item is None:
                    raise
            else:
                return execution_id
        if item.get("input") != input_text:
            raise ExecutionConflictError(name, execution_id)
        return execution_id

    def get(self, name: str) -> asl.Execution | None:
        """The execution's latest saved snapshot, or ``None``."""
        item = self.table.get(EXECUTION_PK, name)
        return None if item is None else self._read(item, shared=False).execution

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
        item = self._item(execution, snapshot.version + 1, snapshot.input_text)
        try:
            self.table.put(item, condition=equals("version", snapshot.version))
        except ConflictError:
            log.warning("execution %s was saved by someone else; this step is dropped", execution)
            return False
        if execution.status is asl.ExecutionStatus.RUNNING:
            self._parsed[execution.name] = (item["snapshot"], execution)
        else:
            self._parsed.pop(execution.name, None)
        return True

    @staticmethod
    def _item(execution: asl.Execution, version: int, input_text: str) -> Item:
        item: Item = {
            "PK": EXECUTION_PK,
            "SK": execution.name,
            "status": execution.status.value,
            "state": execution.state,
            "input": input_text,
            # saved at every step: no key sorting (nothing compares snapshots as text)
            "snapshot": json.dumps(execution.to_dict(), separators=(",", ":"), default=str),
            "version": version,
        }
        if execution.status is asl.ExecutionStatus.RUNNING:
            wake = execution.wait_until_datetime or datetime.fromisoformat(execution.start_time)
            item[_GSI1PK] = EXECUTIONS_RUNNING
            item[_GSI1SK] = _due_key(wake)
        return item

    def _read(self, item: Mapping[str, Any], *, shared: bool = True) -> _Snapshot:
        """The snapshot in ``item`` (``shared``: possibly the very object saved last, for asl.step)."""
        text = str(item["snapshot"])
        cached = self._parsed.get(item["SK"]) if shared else None
        if cached is not None and cached[0] == text:
            execution = cached[1]
        else:
            execution = asl.Execution.from_dict(json.loads(text))
        return _Snapshot(execution, int(item["version"]), str(item["input"]))


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
