"""The ports the executor and the runtimes talk through, and the in-package fakes that stand in for them.

DESIGN §5 lists each port with its adapters; this module holds the Protocols the core depends on and the
fakes that tests, notebooks and the demo share (STYLE rule 3)::

    port         Protocol method(s)                     AWS adapter            embedded          fake (here)
    -----------  -------------------------------------  ---------------------  ----------------  -------------------
    Clock        now() -> aware UTC datetime            system clock           system/virtual    VirtualClock
    EventBus     publish(event)                         EventBridge PutEvents  in-process fan-   RecordingBus
                                                                               out (sink+alerts)
    Executions   start(name, input) -> execution id     Step Functions         local ASL runner  RecordingExecutions

``Executions.start`` is idempotent by name, as Step Functions is for a Standard execution: starting a
name again with the same input returns the first start's id; with a different input it raises
:class:`ExecutionConflictError`. The executor relies on this so a retried stream record whose first
start did reach Step Functions never starts a second run.

Pure: no I/O imports, and no fake reads the wall clock (time is an input, STYLE rule 14). ``Clock``,
``VirtualClock`` and ``FixedClock`` live in :mod:`interlock.clock` with every other clock; they are
re-exported here, where most callers import them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from interlock.clock import Clock, FixedClock, VirtualClock, to_utc
from interlock.exceptions import InterlockError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from interlock.events import Event, EventType

__all__ = [
    "Clock",
    "EventBus",
    "ExecutionConflictError",
    "Executions",
    "FixedClock",
    "RecordingBus",
    "RecordingExecutions",
    "RecordingTimers",
    "Timers",
    "VirtualClock",
]


class ExecutionConflictError(InterlockError):
    """An execution name is already taken by an execution with a different input.

    Step Functions answers ``ExecutionAlreadyExists`` in this case; adapters translate that error into
    this one (STYLE rule 13).

    Attributes:
        name: the execution name.
        execution_id: the id of the execution that holds the name.
    """

    def __init__(self, name: str, execution_id: str) -> None:
        self.name = name
        self.execution_id = execution_id
        super().__init__(
            f"execution {name!r} already exists ({execution_id}) with a different input"
        )


# ------------------------------------------------------------------------------------ protocols


@runtime_checkable
class EventBus(Protocol):
    """Where events go (EventBridge in AWS; an in-process fan-out to the sink and alerts locally)."""

    def publish(self, event: Event) -> None:
        """Publish one event.

        Args:
            event: the event; its ``timestamp`` is when it happened.
        """
        ...


@runtime_checkable
class Executions(Protocol):
    """Starts a run's state machine execution."""

    def start(self, name: str, input: Mapping[str, Any]) -> str:  # noqa: A002 - Step Functions' word
        """Start an execution, idempotently by name.

        Args:
            name: the deterministic execution name (unique per run attempt).
            input: the execution input (JSON-able).

        Returns:
            The execution id (an ARN in AWS). Starting an existing name with the same input returns
            the same id and starts nothing.

        Raises:
            ExecutionConflictError: the name exists with a different input.
        """
        ...


@runtime_checkable
class Timers(Protocol):
    """One-time timers (EventBridge Scheduler in AWS; control rows in the embedded runtime)."""

    def schedule(self, name: str, at: datetime, payload: Mapping[str, Any]) -> None:
        """Create the timer ``name`` (or replace the pending one of that name).

        Args:
            name: unique name (≤ 64 characters; hash long ids).
            at: when it fires (timezone-aware).
            payload: what its handler receives (JSON-able; ``kind`` picks the handler).
        """
        ...

    def cancel(self, name: str) -> None:
        """Drop the pending timer ``name``; nothing happens if there is none."""
        ...


# ---------------------------------------------------------------------------------------- fakes


class RecordingBus:
    """An event bus that keeps every published event, in order.

    Attributes:
        events: the published events, oldest first.
    """

    def __init__(self) -> None:
        self.events: list[Event] = []

    def publish(self, event: Event) -> None:
        """Record ``event``."""
        self.events.append(event)

    def types(self) -> list[EventType]:
        """The types of the published events, in order."""
        return [event.type for event in self.events]

    def clear(self) -> None:
        """Forget every recorded event."""
        self.events.clear()

    def __repr__(self) -> str:
        return f"<RecordingBus {len(self.events)} events>"


class RecordingExecutions:
    """An :class:`Executions` port that records starts and is idempotent by name, like Step Functions.

    Args:
        prefix: the start of every execution id (ids are ``<prefix><name>``).

    Attributes:
        starts: every ``(name, input)`` that started a new execution, in order (idempotent repeats are
            not recorded again).
        calls: how many times :meth:`start` was called, repeats and failures included.
        error: while set, :meth:`start` raises it and starts nothing (simulates an outage).
    """

    def __init__(self, prefix: str = "local:execution:") -> None:
        self.prefix = prefix
        self.starts: list[tuple[str, dict[str, Any]]] = []
        self.calls = 0
        self.error: Exception | None = None
        self._by_name: dict[str, tuple[str, dict[str, Any]]] = {}

    def start(self, name: str, input: Mapping[str, Any]) -> str:  # noqa: A002 - the port's word
        """Start (or find) the execution called ``name``.

        Raises:
            ExecutionConflictError: ``name`` was started with a different input.
            Exception: :attr:`error`, while it is set.
        """
        self.calls += 1
        if self.error is not None:
            raise self.error
        payload = dict(input)
        known = self._by_name.get(name)
        if known is not None:
            execution_id, first = known
            if first != payload:
                raise ExecutionConflictError(name, execution_id)
            return execution_id
        execution_id = f"{self.prefix}{name}"
        self._by_name[name] = (execution_id, payload)
        self.starts.append((name, payload))
        return execution_id

    def names(self) -> list[str]:
        """The names of the started executions, in order."""
        return [name for name, _ in self.starts]

    def __repr__(self) -> str:
        return f"<RecordingExecutions {len(self.starts)} started, {self.calls} calls>"


class RecordingTimers:
    """A :class:`Timers` port that keeps pending timers in memory.

    Attributes:
        pending: name → ``(at, payload)`` of every timer not yet fired or cancelled.
        cancelled: names passed to :meth:`cancel`, in order.
    """

    def __init__(self) -> None:
        self.pending: dict[str, tuple[datetime, dict[str, Any]]] = {}
        self.cancelled: list[str] = []

    def schedule(self, name: str, at: datetime, payload: Mapping[str, Any]) -> None:
        """Keep the timer (replacing one of the same name)."""
        self.pending[name] = (to_utc(at), dict(payload))

    def cancel(self, name: str) -> None:
        """Forget the timer, if pending."""
        self.cancelled.append(name)
        self.pending.pop(name, None)

    def __repr__(self) -> str:
        return f"<RecordingTimers {len(self.pending)} pending>"
