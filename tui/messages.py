"""Messages that carry worker results back to the screens (attributes down, messages up).

Workers run store I/O in threads and post one of these; the screen that started the worker handles it on
the UI thread. Failures are not messages: they surface through ``Worker.StateChanged`` (see
:class:`tui.screens.interlock_screen.InterlockScreen`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from interlock.api import Board, EventList, Explanation, PipelineStatus, RunList, SensorList
    from interlock.lifecycle.operator import RerunBudget
    from interlock.service.operator import OperatorResult, RerunOutlook


@dataclass
class BoardLoaded(Message):
    """The board was read."""

    board: Board


@dataclass
class DetailLoaded(Message):
    """One pipeline's detail was read."""

    status: PipelineStatus
    explanation: Explanation
    runs: RunList
    events: EventList
    sensors: SensorList


@dataclass
class EventsArrived(Message):
    """Events for the tail: the initial page (``initial``) or the ones that arrived since the last poll."""

    events: EventList
    initial: bool = False


@dataclass
class BudgetLoaded(Message):
    """The rerun budget of a run and what a request would meet, read before the rerun modal opens."""

    status: PipelineStatus
    budget: RerunBudget
    outlook: RerunOutlook | None = None


@dataclass
class ActionDone(Message):
    """An operator action was applied (or was a no-op)."""

    result: OperatorResult
