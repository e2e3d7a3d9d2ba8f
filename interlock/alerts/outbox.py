"""A durable outbox: alerts that could not be delivered yet wait here, in order, until they can.

Rows live in the events table, in partitions of their own (no event query ever reads them)::

    PK OUTBOX#<channel kind>   SK SEQ               next (N)     the sequence, bumped with an atomic ADD
    PK OUTBOX#<channel kind>   SK MSG#<seq:012d>    runKey       <pipeline>#<schedule>#<period> (ordering key)
                                                    eventType    for people reading the table
                                                    event        JSON {"type", "detail": envelope}
                                                    queuedAt     RFC 3339
                                                    attempts     deliveries tried (N)
                                                    lastError    why the last one failed
                                                    maybePosted  a failed try may have posted it (look
                                                                 it up before posting again)
                                                    inFlight     a delivery began and has not ended: a
                                                                 process that dies mid-post leaves it, and
                                                                 the next flush looks the post up first

Every Slack delivery goes through a row here: :meth:`Outbox.add` (``in_flight``) before the first request
to Slack, :meth:`Outbox.remove` after the last answer. A ``kill -9`` anywhere in between leaves the row,
so the alert is neither lost (the next flush delivers it) nor posted twice (it is looked up first).

Sort keys come from one atomic counter rather than the clock, so entries keep the order they were
queued in across restarts, processes and a clock that jumps back (a virtual clock may). Rows carry no
``ttl``: an alert stays until it is delivered. The event is kept as a JSON string, not a map, so it
comes back exactly as queued (a map would turn fractional numbers into ``Decimal``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from interlock.store import keys
from interlock.store.table import ConflictError, begins_with, exists, query_all

if TYPE_CHECKING:
    from datetime import datetime

    from interlock.envelope import Event
    from interlock.store.table import Table

__all__ = ["Outbox", "OutboxEntry", "run_key"]

log = logging.getLogger(__name__)

_SEQ_SK: Final = "SEQ"
_MSG: Final = "MSG#"
_SEQ_DIGITS: Final = 12


def run_key(event: Event) -> str:
    """The ordering key of an event: its run, or its pipeline for events not tied to a run."""
    return f"{event.pipeline_id}#{event.schedule_id or ''}#{event.date or ''}"


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One queued event.

    Attributes:
        sk: the row's sort key.
        run_key: see :func:`run_key`.
        event: the event.
        attempts: how many deliveries failed so far.
        last_error: why the last one failed.
        maybe_posted: a failed try may have reached Slack (no answer, a reset, a 5xx), or a delivery
            was under way when its process died: its message must be looked up before it is posted
            again.
    """

    sk: str
    run_key: str
    event: Event
    attempts: int
    last_error: str | None
    maybe_posted: bool = False


class Outbox:
    """Queued events of one channel kind, oldest first.

    Args:
        table: the events table.
        kind: names the partition (``OUTBOX#<kind>``), one per kind of channel (``SLACK``).
    """

    def __init__(self, table: Table, kind: str = "SLACK") -> None:
        self.table = table
        self.pk = f"OUTBOX#{kind}"

    def __repr__(self) -> str:
        return f"<Outbox {self.pk}>"

    def add(
        self,
        event: Event,
        *,
        now: datetime,
        error: str | None = None,
        maybe_posted: bool = False,
        in_flight: bool = False,
    ) -> OutboxEntry:
        """Queue ``event`` behind everything already queued.

        Args:
            event: the event.
            now: when it was queued.
            error: why it is queued (the failed delivery), if it is.
            maybe_posted: the failed delivery may have posted it.
            in_flight: the caller delivers it right away (then :meth:`remove` or :meth:`failed`); read
                back before either, it counts as maybe posted.

        Returns:
            The entry.

        Raises:
            StoreError: the row could not be written (the caller must not then report the alert as safe).
        """
        seq = int(self.table.update(self.pk, _SEQ_SK, add={"next": 1})["next"])
        sk = f"{_MSG}{seq:0{_SEQ_DIGITS}d}"
        key = run_key(event)
        payload = json.dumps({"type": event.type.value, "detail": event.to_detail()}, default=str)
        item = {
            "PK": self.pk,
            "SK": sk,
            "runKey": key,
            "eventType": event.type.value,
            "event": payload,
            "queuedAt": keys.format_time(now),
            "attempts": 1 if error is not None else 0,
        }
        if error is not None:
            item["lastError"] = error
        if maybe_posted:
            item["maybePosted"] = True
        if in_flight:
            item["inFlight"] = True
        self.table.put(item)
        return OutboxEntry(sk, key, event, int(item["attempts"]), error, maybe_posted)

    def pending(self) -> list[OutboxEntry]:
        """Every readable queued entry, oldest first (unreadable rows are logged and left in place)."""
        from interlock.envelope import Event  # pydantic: loaded when there is something to read

        out: list[OutboxEntry] = []
        for item in query_all(self.table, self.pk, begins_with(_MSG)):
            try:
                raw = json.loads(str(item["event"]))
                event = Event.from_detail(raw["detail"], raw["type"])
            except (KeyError, TypeError, ValueError) as exc:  # pydantic's ValidationError too
                log.error(
                    "outbox row %s/%s is unreadable, left in place: %s", self.pk, item["SK"], exc
                )
                continue
            error = item.get("lastError")
            out.append(
                OutboxEntry(
                    sk=str(item["SK"]),
                    run_key=str(item.get("runKey", run_key(event))),
                    event=event,
                    attempts=int(item.get("attempts", 0)),
                    last_error=error if isinstance(error, str) else None,
                    maybe_posted=item.get("maybePosted") is True or item.get("inFlight") is True,
                )
            )
        return out

    def holds(self, key: str) -> bool:
        """Whether an entry of this run (see :func:`run_key`) is queued: later ones must queue behind it."""
        return any(
            item.get("runKey") == key for item in query_all(self.table, self.pk, begins_with(_MSG))
        )

    def begin(self, entry: OutboxEntry) -> bool:
        """Mark ``entry`` in flight before delivering it (see :meth:`add`'s ``in_flight``).

        Returns:
            ``False`` if it is gone (delivered by another process): do not deliver it.
        """
        try:
            self.table.update(self.pk, entry.sk, set={"inFlight": True}, condition=exists())
        except ConflictError:
            log.info("outbox entry %s/%s is gone; not delivering it", self.pk, entry.sk)
            return False
        return True

    def failed(self, entry: OutboxEntry, error: str, *, maybe_posted: bool = False) -> None:
        """Record another failed delivery of ``entry`` (nothing, if it is gone: delivered by another
        process), which is no longer in flight. ``maybe_posted`` marks it for a lookup before its next
        post; the mark is kept."""
        changes: dict[str, Any] = {"lastError": error}
        if maybe_posted:
            changes["maybePosted"] = True
        try:
            self.table.update(
                self.pk,
                entry.sk,
                set=changes,
                remove=("inFlight",),
                add={"attempts": 1},
                condition=exists(),
            )
        except ConflictError:
            log.info("outbox entry %s/%s is gone; not recording its failure", self.pk, entry.sk)

    def remove(self, entry: OutboxEntry) -> None:
        """Drop a delivered entry."""
        self.table.delete(self.pk, entry.sk)

    def __len__(self) -> int:
        return self.table.count(self.pk, begins_with(_MSG))
