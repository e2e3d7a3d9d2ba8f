"""The events table: every published event with its full detail, and the Slack thread of each run.

The event sink writes one row per event; the TUI tail, ``interlock events tail`` and notebooks read
them back as :class:`~interlock.events.Event` objects equal to the ones published::

    PK PIPELINE#<id>   SK <ms:13>#<type>#<uid>   eventType pipelineId scheduleId? date? message
                                                 timestamp (N, ms) actor? detail (M) GSI2PK ttl
    PK PIPELINE#<id>   SK THREAD#<schedule>#<period>   threadTs channelId createdAt ttl

Three ways in, none of them a Scan:

* :meth:`EventStore.for_pipeline`: the pipeline's partition (sort keys are time-ordered);
* :meth:`EventStore.of_type`: GSI1 (``eventType``, ``timestamp``);
* :meth:`EventStore.since`: GSI2, one partition per UTC hour (``EVENTS#YYYY-MM-DDTHH``), walked in order
  from ``t`` to ``until``, so a busy hour never hot-spots one partition for ever. Ranges are bounded to
  31 days (744 partitions).

The original dropped the ``detail`` map and let two same-type events of one millisecond overwrite each
other (reference §13 item 28); here the detail is stored whole and the uid in the key keeps both.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from interlock.events import EventType
from interlock.store import keys
from interlock.store.table import (
    ConflictError,
    StoreError,
    absent,
    between,
    query_all,
    sk_gte,
    sk_lt,
)

if TYPE_CHECKING:
    from interlock.envelope import Event
    from interlock.store.table import Item, SKCondition, Table

__all__ = ["MAX_SINCE_RANGE", "EventStore", "SlackThread"]

log = logging.getLogger(__name__)

MAX_SINCE_RANGE: Final = timedelta(days=31)
"""The longest range :meth:`EventStore.since` walks (one index query per hour)."""
_GSI_TYPE: Final = "GSI1"
_GSI_HOUR: Final = "GSI2"
_UID_ATTEMPTS: Final = 8
_PAGE: Final = 200


def _new_uid() -> str:
    return uuid.uuid4().hex[:8]


@dataclass(frozen=True, slots=True)
class SlackThread:
    """Where a run's Slack thread lives.

    Attributes:
        ts: the root message's ``ts`` (the thread id).
        channel: the channel id.
        created_at: when the thread was recorded.
    """

    ts: str
    channel: str
    created_at: datetime | None = None


def _plain(value: Any) -> Any:
    """Stored numbers back as JSON numbers: ``int`` when integral, else the ``float`` they were."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _optional(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _event(item: Mapping[str, Any]) -> Event:
    """An event row as an :class:`Event` (rows of the original's sink too: no detail, empty fields)."""
    from interlock.envelope import (
        Event,
    )  # pydantic, loaded by the first read rather than the import

    ms = item.get("timestamp")
    if not isinstance(ms, int | Decimal) or isinstance(ms, bool):
        ms = keys.parse_event_sk(item["SK"])[0]
    detail = item.get("detail")
    return Event(
        type=item["eventType"],
        pipeline_id=item.get("pipelineId") or keys.pipeline_id(item["PK"]),
        schedule_id=_optional(item.get("scheduleId")),
        date=_optional(item.get("date")),
        message=str(item.get("message") or ""),
        timestamp=keys.from_epoch_ms(int(ms)),
        actor=_optional(item.get("actor")),
        detail=_plain(detail) if isinstance(detail, Mapping) else {},
    )


def _read(
    items: Iterable[Item], limit: int | None, keep: Callable[[Event], bool] | None = None
) -> list[Event]:
    out: list[Event] = []
    if limit is not None and limit <= 0:
        return out
    for item in items:
        try:
            event = _event(item)
        except (KeyError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
            # A display path: one corrupt row must not hide every other event; say which one it was.
            log.warning(
                "skipping unreadable event row %s / %s: %s", item.get("PK"), item.get("SK"), exc
            )
            continue
        if keep is not None and not keep(event):
            continue
        out.append(event)
        if limit is not None and len(out) >= limit:
            break
    return out


def _ms_range(since: datetime | None, until: datetime | None) -> SKCondition | None:
    """A numeric ``timestamp`` condition for ``since <= t < until``."""
    lo = keys.epoch_ms(since) if since is not None else None
    hi = keys.epoch_ms(until) if until is not None else None
    if lo is not None and hi is not None:
        return between(lo, max(hi - 1, lo))
    if lo is not None:
        return sk_gte(lo)
    if hi is not None:
        return sk_lt(hi)
    return None


_LATEST_READ: Final = 2


class EventStore:
    """Store and read events and Slack threads.

    Args:
        table: the events table (spec :data:`interlock.store.specs.EVENTS`, with GSI1 and GSI2).
        ttl_days: how long rows are kept (the original's ``EVENTS_TTL_DAYS``; 0 or less means 90).
        uid: makes the short unique part of each event key (injectable for tests).
    """

    def __init__(
        self, table: Table, *, ttl_days: int = 90, uid: Callable[[], str] | None = None
    ) -> None:
        self.table = table
        self.ttl = timedelta(days=ttl_days if ttl_days > 0 else 90)
        self._uid = uid or _new_uid

    def __repr__(self) -> str:
        return f"<EventStore {self.table.spec.name} ttl {self.ttl.days}d>"

    # ------------------------------------------------------------------------------------- events

    def append(self, event: Event, *, uid: str | None = None) -> str:
        """Store an event with its whole detail.

        Args:
            event: the event; its ``timestamp`` orders it and places it in an hour bucket.
            uid: the key's unique part, when the caller has one (the event-sink derives it from the
                EventBridge event id): a second append with the same uid stores nothing, so a
                redelivered event is stored once.

        Returns:
            The row's sort key.

        Raises:
            StoreError: no unused key was found (the uid source keeps repeating itself).
        """
        ts = event.timestamp
        ms = keys.epoch_ms(ts)
        item: Item = {
            "PK": keys.pipeline_pk(event.pipeline_id),
            "eventType": event.type.value,
            "pipelineId": event.pipeline_id,
            "message": event.message,
            "timestamp": ms,
            "detail": dict(event.detail),
            "GSI2PK": keys.events_hour_pk(ts),
            "ttl": keys.epoch_seconds(ts + self.ttl),
        }
        for name, value in (
            ("scheduleId", event.schedule_id),
            ("date", event.date),
            ("actor", event.actor),
        ):
            if value is not None:
                item[name] = value
        if uid is not None:
            item["SK"] = keys.event_sk(ms, event.type.value, uid)
            try:
                self.table.put(item, condition=absent())
            except ConflictError:
                log.info("event %s already stored (a redelivery)", item["SK"])
            return str(item["SK"])
        for _ in range(_UID_ATTEMPTS):
            item["SK"] = keys.event_sk(ms, event.type.value, self._uid())
            try:
                self.table.put(item, condition=absent())
            except ConflictError:
                continue
            return str(item["SK"])
        raise StoreError(f"no unused event key for {event!r} after {_UID_ATTEMPTS} uids")

    def for_pipeline(
        self,
        pid: str,
        *,
        since: datetime | None = None,
        limit: int | None = None,
        newest_first: bool = True,
    ) -> list[Event]:
        """A pipeline's events (from ``since`` on, if given), newest first unless asked otherwise."""
        low, high = keys.event_range(keys.epoch_ms(since) if since is not None else None)
        items = query_all(
            self.table,
            keys.pipeline_pk(pid),
            between(low, high),
            descending=newest_first,
            # a small limit reads a small page (the board asks each pipeline for its last event)
            page_size=min(_PAGE, limit) if limit is not None and limit > 0 else _PAGE,
        )
        return _read(items, limit)

    def latest_of(self, pids: Iterable[str]) -> dict[str, Event | None]:
        """Each pipeline's newest event (``None``: none), in one bulk read (the board's LAST EVENT)."""
        low, high = keys.event_range()
        # two per partition: one unreadable newest row does not blank the cell
        found = self.table.query_partitions(
            {keys.pipeline_pk(pid): between(low, high) for pid in pids},
            descending=True,
            limit=_LATEST_READ,
        )
        out: dict[str, Event | None] = {}
        for pk, items in found.items():
            events = _read(items, 1)
            out[keys.pipeline_id(pk)] = events[0] if events else None
        return out

    def of_type(
        self,
        type: EventType | str,  # noqa: A002 - the event type, as Event calls it
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        newest_first: bool = True,
    ) -> list[Event]:
        """Events of one type across pipelines, in ``[since, until)``, newest first unless asked otherwise."""
        items = query_all(
            self.table,
            EventType(type).value,
            _ms_range(since, until),
            index=_GSI_TYPE,
            descending=newest_first,
            page_size=_PAGE,
        )
        return _read(items, limit)

    def since(
        self,
        t: datetime,
        *,
        until: datetime,
        types: Collection[EventType | str] | None = None,
        pipeline: str | None = None,
        limit: int | None = None,
    ) -> list[Event]:
        """Every event in ``[t, until)`` across pipelines, oldest first (the tail view).

        Walks the hour partitions of GSI2 in order: one Query per hour, never a Scan.

        Args:
            t: the start (inclusive).
            until: the end (exclusive); at most :data:`MAX_SINCE_RANGE` after ``t``.
            types: keep only these types.
            pipeline: keep only this pipeline's events.
            limit: stop after this many.

        Raises:
            ValueError: naive times, ``until`` before ``t``, or a range over 31 days.
        """
        start_ms, end_ms = keys.epoch_ms(t), keys.epoch_ms(until)
        if end_ms < start_ms:
            raise ValueError(f"until ({until}) is before t ({t})")
        if until - t > MAX_SINCE_RANGE:
            raise ValueError(
                f"range {until - t} is longer than {MAX_SINCE_RANGE.days} days: narrow it or read "
                "one pipeline with for_pipeline"
            )
        wanted = {EventType(x) for x in types} if types is not None else None

        def keep(event: Event) -> bool:
            return (wanted is None or event.type in wanted) and (
                pipeline is None or event.pipeline_id == pipeline
            )

        return _read(self._hours(t, until, start_ms, end_ms), limit, keep)

    def _hours(self, t: datetime, until: datetime, start_ms: int, end_ms: int) -> Iterator[Item]:
        if end_ms <= start_ms:
            return
        hour = t.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        last = keys.from_epoch_ms(end_ms - 1)
        condition = between(start_ms, end_ms - 1)
        while hour <= last:
            yield from query_all(
                self.table, keys.events_hour_pk(hour), condition, index=_GSI_HOUR, page_size=_PAGE
            )
            hour += timedelta(hours=1)

    # ------------------------------------------------------------------------------------ threads

    def put_thread(
        self,
        pid: str,
        schedule: str | None,
        period: str | None,
        *,
        ts: str,
        channel: str,
        now: datetime,
    ) -> bool:
        """Remember a run's Slack thread, unless one is already recorded.

        Args:
            pid: the pipeline.
            schedule: the run's schedule (``None`` for events not tied to a run).
            period: the run's period (``None`` likewise).
            ts: the root message's ``ts``.
            channel: the channel id.
            now: when (``createdAt``; the row is kept ``ttl_days``).

        Returns:
            ``True`` if recorded; ``False`` if the run already has a thread (post replies there).
        """
        try:
            self.table.put(
                {
                    "PK": keys.pipeline_pk(pid),
                    "SK": keys.thread_sk(schedule, period),
                    "threadTs": ts,
                    "channelId": channel,
                    "createdAt": keys.format_time(now),
                    "ttl": keys.epoch_seconds(now + self.ttl),
                },
                condition=absent(),
            )
        except ConflictError:
            return False
        return True

    def get_thread(self, pid: str, schedule: str | None, period: str | None) -> SlackThread | None:
        """The run's Slack thread, or ``None``."""
        item = self.table.get(keys.pipeline_pk(pid), keys.thread_sk(schedule, period))
        if item is None:
            return None
        created = item.get("createdAt")
        return SlackThread(
            ts=str(item.get("threadTs", "")),
            channel=str(item.get("channelId", "")),
            created_at=keys.parse_time(created) if isinstance(created, str) else None,
        )
