"""The Notifier port: who hears about an event, and the two notifiers that need no network.

Every published event is stored first; a notifier is then told about it (DESIGN §4, §5)::

    executor ──▶ bus ──▶ event store (every event)
                   └──▶ notifier.notify(event)
                          ├─ SlackNotifier    (interlock.alerts.slack: one thread per run, durable outbox)
                          ├─ ConsoleNotifier  (one line per alert on a stream: the embedded default)
                          └─ RecordingNotifier (keeps events: tests, notebooks, the demo)
    runtime tick ──▶ notifier.flush()   re-delivers anything held back (Slack's outbox); 0 for the others

What alerts
    An event alerts when its catalogue entry says so (:func:`is_alert`, ``EventSpec.alerts``). An event
    whose ``detail`` carries ``"acknowledged": true`` (an SLA alert re-fired after an operator's ack) is
    stored like any other, but the Slack and console notifiers do not send it as a new alert: the ack
    stops re-notification (:func:`is_acknowledged`). Slack still refreshes the run's root message with it.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Protocol, TextIO, runtime_checkable

from interlock.events import CATALOGUE, Severity
from interlock.exceptions import InterlockError
from interlock.store import keys

if TYPE_CHECKING:
    from interlock.events import Event, EventType

__all__ = [
    "AlertConfigError",
    "ConsoleNotifier",
    "Notifier",
    "RecordingNotifier",
    "format_line",
    "is_acknowledged",
    "is_alert",
    "should_alert",
]

_MARKERS: dict[Severity, str] = {
    Severity.INFO: "INFO",
    Severity.WARNING: "WARN",
    Severity.CRITICAL: "CRIT",
}


class AlertConfigError(InterlockError, ValueError):
    """The alerting settings cannot be used (e.g. a Slack token without a channel)."""


@runtime_checkable
class Notifier(Protocol):
    """Tells people about events. Called after the event is stored, once per event, in order."""

    def notify(self, event: Event) -> None:
        """Hand over one stored event; the notifier decides whether it alerts.

        Implementations must not lose an alert they accepted: one that cannot be delivered now is held
        back (durably, for Slack) and re-delivered by :meth:`flush`.

        Args:
            event: the event, as stored.
        """
        ...

    def flush(self) -> int:
        """Re-deliver whatever was held back, in order (the runtime calls this every tick).

        Returns:
            How many held-back events were delivered (0 for notifiers that never hold any back).
        """
        ...


def is_alert(event: Event) -> bool:
    """Whether the event's type is routed to alerts (``CATALOGUE[event.type].alerts``)."""
    return CATALOGUE[event.type].alerts


def is_acknowledged(event: Event) -> bool:
    """Whether the event carries ``detail["acknowledged"] is True`` (an acked SLA: stored, not re-sent)."""
    return event.detail.get("acknowledged") is True


def should_alert(event: Event) -> bool:
    """Whether a notifier sends the event as a new alert: it alerts and is not acknowledged."""
    return is_alert(event) and not is_acknowledged(event)


class RecordingNotifier:
    """A notifier that keeps every event it is handed, in order (the port's fake, STYLE rule 3).

    Attributes:
        events: every event handed to :meth:`notify`, alerting or not, oldest first.
    """

    def __init__(self) -> None:
        self.events: list[Event] = []

    def notify(self, event: Event) -> None:
        """Record ``event``."""
        self.events.append(event)

    __call__ = notify

    def flush(self) -> int:
        """Nothing is ever held back: always 0."""
        return 0

    @property
    def alerts(self) -> list[Event]:
        """The recorded events that would be sent as alerts (:func:`should_alert`)."""
        return [event for event in self.events if should_alert(event)]

    def types(self) -> list[EventType]:
        """The types of the recorded events, in order."""
        return [event.type for event in self.events]

    def clear(self) -> None:
        """Forget every recorded event."""
        self.events.clear()

    def __repr__(self) -> str:
        return f"<RecordingNotifier {len(self.events)} events, {len(self.alerts)} alerts>"


def format_line(event: Event) -> str:
    """One readable line: severity marker, time, type, pipeline, run, message.

    Example:
        ``CRIT 2026-03-02T10:00:00Z SLA_BREACH gold-revenue cron/2026-03-02: SLA breached``
    """
    run = f" {event.schedule_id}/{event.date}" if event.schedule_id and event.date else ""
    if not run and event.date:
        run = f" {event.date}"
    # the SLA monitor's message already says it; say it once
    acked = (
        " (acknowledged)"
        if is_acknowledged(event) and not event.message.endswith("(acknowledged)")
        else ""
    )
    stamp = keys.format_time(event.timestamp)
    return (
        f"{_MARKERS[event.severity]} {stamp} {event.type.value} "
        f"{event.pipeline_id}{run}: {event.message}{acked}"
    )


class ConsoleNotifier:
    """Writes one line per alerting event to a stream (the embedded runtime's notifier without Slack).

    Args:
        stream: where lines go; ``None`` means ``sys.stderr`` at the time of each write (diagnostics go
            to stderr, STYLE; pass ``sys.stdout`` for a foreground ``interlock run``).
        all_events: print every event, not only alerts (acknowledged ones then carry "(acknowledged)").
    """

    def __init__(self, stream: TextIO | None = None, *, all_events: bool = False) -> None:
        self.stream = stream
        self.all_events = all_events

    def notify(self, event: Event) -> None:
        """Print ``event`` if it alerts and is not acknowledged (or always, with ``all_events``)."""
        if not (self.all_events or should_alert(event)):
            return
        stream = self.stream if self.stream is not None else sys.stderr
        stream.write(format_line(event) + "\n")
        stream.flush()

    __call__ = notify

    def flush(self) -> int:
        """Nothing is ever held back: always 0."""
        return 0

    def __repr__(self) -> str:
        return f"<ConsoleNotifier {'all events' if self.all_events else 'alerts'}>"
