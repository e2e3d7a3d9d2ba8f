"""The ``EventBus`` port on EventBridge ``PutEvents``.

::

    publish(event) / publish_all(events)
      entries: Source "interlock", DetailType <type>, Detail = Event.to_detail() (≤ 256 KB: trimmed)
      PutEvents, ≤ 10 entries per call
        FailedEntryCount > 0 ─▶ the failed entries only, again (backoff), up to ``attempts`` times
        still failing ───────▶ EventBusError (the Lambda fails; its retry publishes again)

An entry over EventBridge's 256 KB limit is never dropped: its largest ``detail`` fields (then the
message) are replaced by a short note saying how much was cut, until it fits, and the detail records
which fields were trimmed (``trimmed``). The event-sink then stores what EventBridge carried.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any, Final

from interlock.aws._clients import AwsError, LazyClient, error_code
from interlock.events import SOURCE

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from interlock.events import Event

__all__ = ["MAX_ENTRIES", "MAX_ENTRY_BYTES", "EventBridgeBus", "EventBusError", "fit_detail"]

log = logging.getLogger(__name__)

MAX_ENTRIES: Final = 10
"""PutEvents takes at most 10 entries per call."""
MAX_ENTRY_BYTES: Final = 256 * 1024
"""EventBridge's limit on one entry (source, detail-type and detail counted)."""


class EventBusError(AwsError):
    """Events could not be published after every retry."""


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str, ensure_ascii=False)


def fit_detail(detail: dict[str, Any], budget: int) -> str:
    """The detail as JSON of at most ``budget`` bytes, trimming its largest fields first.

    Args:
        detail: the envelope (``Event.to_detail()``), whose ``detail`` map holds type-specific fields.
        budget: the bytes the detail may take.

    Returns:
        The JSON text (the envelope unchanged when it fits).
    """
    text = _dumps(detail)
    if _size(text) <= budget:
        return text
    envelope = dict(detail)
    inner = dict(envelope.get("detail") or {})
    trimmed: list[str] = []
    while _size(text) > budget:
        sized = sorted(((_size(_dumps(v)), k) for k, v in inner.items()), reverse=True)
        if sized and sized[0][0] > 64:
            size, key = sized[0]
            inner[key] = f"[trimmed: {size} bytes]"
            trimmed.append(key)
        elif _size(str(envelope.get("message", ""))) > 64:
            message = str(envelope["message"])
            keep = max(0, len(message) - (_size(text) - budget) - 64)
            envelope["message"] = message[:keep] + " [trimmed]"
            trimmed.append("message")
        else:  # nothing big is left to cut: no real event gets here
            raise EventBusError(f"event detail cannot be cut to {budget} bytes")
        envelope["detail"] = {**inner, "trimmed": sorted(set(trimmed))}
        text = _dumps(envelope)
    log.warning("event detail trimmed to fit EventBridge: %s", ", ".join(sorted(set(trimmed))))
    return text


class EventBridgeBus:
    """Publishes events to one EventBridge bus.

    Args:
        bus_name: the bus (``EVENT_BUS_NAME``).
        client: a boto3 ``events`` client; built lazily when omitted.
        region: region of the client built here.
        endpoint_url: endpoint of the client built here.
        attempts: PutEvents calls per batch before failed entries are given up on (raised).
        backoff: seconds before the first retry (doubled each time).
        sleep: how to wait between retries (injectable for tests).
    """

    def __init__(
        self,
        bus_name: str,
        *,
        client: Any = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        attempts: int = 4,
        backoff: float = 0.1,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.bus_name = bus_name
        self.region = region
        self.endpoint_url = endpoint_url
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.sleep = sleep
        self._client = client

    def __repr__(self) -> str:
        return f"<EventBridgeBus {self.bus_name}>"

    client = LazyClient("events")

    def entry(self, event: Event) -> dict[str, Any]:
        """The PutEvents entry of ``event`` (detail trimmed to fit)."""
        detail_type = event.type.value
        budget = MAX_ENTRY_BYTES - _size(SOURCE) - _size(detail_type) - 1024
        return {
            "Source": SOURCE,
            "DetailType": detail_type,
            "Detail": fit_detail(event.to_detail(), budget),
            "EventBusName": self.bus_name,
            "Time": event.timestamp,
        }

    def publish(self, event: Event) -> None:
        """Publish one event.

        Raises:
            EventBusError: EventBridge did not take it after every retry.
        """
        self.publish_all([event])

    def publish_all(self, events: Iterable[Event]) -> None:
        """Publish events in order, at most :data:`MAX_ENTRIES` per call.

        Raises:
            EventBusError: some entries were refused after every retry (the others were published).
        """
        entries = [self.entry(e) for e in events]
        for start in range(0, len(entries), MAX_ENTRIES):
            self._put(entries[start : start + MAX_ENTRIES])

    def _put(self, entries: list[dict[str, Any]]) -> None:
        pending = entries
        delay = self.backoff
        errors: list[str] = []
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(delay)
                delay *= 2
            try:
                response = self.client.put_events(Entries=pending)
            except Exception as exc:
                if not error_code(exc):
                    raise
                errors = [f"PutEvents: {exc}"]
                continue
            if not response.get("FailedEntryCount"):
                return
            results = response.get("Entries", [])
            failed = [e for e, r in zip(pending, results, strict=False) if r.get("ErrorCode")]
            errors = [
                f"{r.get('ErrorCode')}: {r.get('ErrorMessage', '')}"
                for r in results
                if r.get("ErrorCode")
            ]
            pending = failed or pending
        raise EventBusError(
            f"{len(pending)} event(s) not published to {self.bus_name} after {self.attempts} "
            f"attempts: {'; '.join(errors)}"
        )
