"""Event buses built on the store: :class:`StoreBus` (the embedded ``EventBus``) and :func:`print_event`.

In AWS the bus is EventBridge (an adapter of :mod:`interlock.aws`) and the event-sink Lambda writes each
event to the events table; in the embedded runtime :class:`StoreBus` does both in one call: it appends
the event to ``store.events``, then hands it to an optional notifier (the console, Slack).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from interlock.store import keys

if TYPE_CHECKING:
    from collections.abc import Callable

    from interlock.events import Event
    from interlock.store.factory import Store

__all__ = ["StoreBus", "print_event"]

log = logging.getLogger(__name__)


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
