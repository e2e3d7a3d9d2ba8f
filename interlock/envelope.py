"""The event model: one published event and its EventBridge detail envelope.

:class:`Event` is a frozen pydantic model (``snake_case`` in Python, ``camelCase`` on the wire) with
:meth:`Event.to_detail` / :meth:`Event.from_detail`. It is kept apart from the catalogue in
:mod:`interlock.events` so that importing the catalogue (every decision module and Lambda handler does)
does not import pydantic; ``from interlock.events import Event`` still works and loads this module.

Pure: imports only the standard library, pydantic and the catalogue, and never reads the clock.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from interlock.events import CATALOGUE, EventSpec, EventType, Severity

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["Event"]

_PERIOD = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:T(\d{2}))?$")


def _format_timestamp(ts: datetime) -> str:
    """RFC 3339 in UTC with milliseconds and ``Z``, e.g. ``2026-03-02T10:00:00.000Z``."""
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Event(BaseModel):
    """One published event: what happened to which run, when, and who did it.

    Field names are snake_case in Python and camelCase on the wire (``pipelineId``); both are accepted.

    Example:
        >>> Event.create(EventType.SLA_BREACH, "gold-revenue", schedule_id="cron", date="2026-03-02",
        ...              now=datetime(2026, 3, 2, 10, tzinfo=UTC))
        <Event SLA_BREACH gold-revenue 2026-03-02 at 2026-03-02T10:00:00Z>
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, alias_generator=to_camel
    )

    type: EventType
    """The detail-type (the EventBridge ``detail-type``; not part of the detail envelope)."""
    pipeline_id: str = Field(min_length=1)
    """The pipeline the event is about; :data:`INFRASTRUCTURE` for events about Interlock itself."""
    schedule_id: str | None = None
    """The run's schedule (``cron`` or ``stream``), or ``None`` for events not tied to a run."""
    date: str | None = None
    """The run's period, ``YYYY-MM-DD`` (daily) or ``YYYY-MM-DDTHH`` (hourly), or ``None``."""
    message: str
    """A short English sentence for humans."""
    timestamp: datetime
    """When the event happened: timezone-aware, normalised to UTC at millisecond precision."""
    actor: str | None = None
    """Who caused it, for operator actions (SLA acks, dry-run switches, rerun requests); else ``None``."""
    detail: dict[str, Any] = Field(default_factory=dict)
    """Type-specific fields; :attr:`EventSpec.detail_fields` lists the keys each type may carry."""

    @field_validator("date")
    @classmethod
    def _check_period(cls, value: str | None) -> str | None:
        if value is None:
            return None
        m = _PERIOD.match(value)
        valid = m is not None
        if m is not None:
            try:
                datetime.strptime(m.group(1), "%Y-%m-%d")
            except ValueError:
                valid = False
            if m.group(2) is not None and int(m.group(2)) > 23:
                valid = False
        if not valid:
            raise ValueError(
                f"{value!r} is not a run period: write YYYY-MM-DD (daily) or YYYY-MM-DDTHH (hourly)"
            )
        return value

    @field_validator("timestamp")
    @classmethod
    def _check_timestamp(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"timestamp {value.isoformat()} has no time zone: pass an aware datetime "
                "(e.g. datetime(..., tzinfo=UTC)) or a string ending in Z or +00:00"
            )
        # Millisecond precision is what the envelope carries, so an event survives a round trip unchanged.
        utc = value.astimezone(UTC)
        return utc.replace(microsecond=utc.microsecond // 1000 * 1000)

    @property
    def spec(self) -> EventSpec:
        """This event type's catalogue entry."""
        return CATALOGUE[self.type]

    @property
    def severity(self) -> Severity:
        """The event type's severity, from the catalogue."""
        return self.spec.severity

    @property
    def alerts(self) -> bool:
        """Whether the event type is routed to Slack, from the catalogue."""
        return self.spec.alerts

    @classmethod
    def create(
        cls,
        type: EventType | str,  # noqa: A002 - mirrors the field name callers already know
        pipeline_id: str,
        *,
        now: datetime,
        message: str | None = None,
        schedule_id: str | None = None,
        date: str | None = None,
        actor: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> Event:
        """Build an event, deriving a default message from the catalogue.

        Args:
            type: the event type (an :class:`EventType` or its name).
            pipeline_id: the pipeline it is about.
            now: the time it happened; timezone-aware (the core never reads the clock itself).
            message: a human sentence; defaults to ``"<TYPE> for <pipeline>: <summary>"``.
            schedule_id: the run's schedule, if the event belongs to a run.
            date: the run's period, if the event belongs to a run.
            actor: who caused it, for operator actions.
            detail: type-specific fields (copied).

        Returns:
            The validated event.

        Raises:
            pydantic.ValidationError: an unknown type, a naive ``now``, a malformed period or an empty
                pipeline id.
        """
        if message is None and type in CATALOGUE:
            spec = CATALOGUE[EventType(type)]
            message = f"{spec.type} for {pipeline_id}: {spec.summary}"
        return cls(
            type=type,
            pipeline_id=pipeline_id,
            schedule_id=schedule_id,
            date=date,
            message=message if message is not None else "",
            timestamp=now,
            actor=actor,
            detail=dict(detail or {}),
        )

    def to_detail(self) -> dict[str, Any]:
        """The EventBridge ``detail`` envelope (the detail-type travels separately as :attr:`type`).

        Returns:
            ``{pipelineId, scheduleId, date, message, timestamp, actor?, detail}``; ``timestamp`` is
            RFC 3339 UTC with milliseconds and ``Z``; ``actor`` is present only when set.
        """
        envelope: dict[str, Any] = {
            "pipelineId": self.pipeline_id,
            "scheduleId": self.schedule_id,
            "date": self.date,
            "message": self.message,
            "timestamp": _format_timestamp(self.timestamp),
        }
        if self.actor is not None:
            envelope["actor"] = self.actor
        envelope["detail"] = dict(self.detail)
        return envelope

    @classmethod
    def from_detail(
        cls,
        d: Mapping[str, Any],
        type: EventType | str,  # noqa: A002 - mirrors the field name callers already know
        *,
        received_at: datetime | None = None,
    ) -> Event:
        """Rebuild an event from its detail envelope and detail-type (the inverse of :meth:`to_detail`).

        Args:
            d: the envelope, as :meth:`to_detail` produced it (camelCase keys).
            type: the EventBridge detail-type.
            received_at: used as the timestamp when the envelope has none, which is the case for
                INFRA_ALARM events built by the CloudWatch input transformer.

        Returns:
            The validated event.

        Raises:
            ValueError: the envelope carries its own ``type`` key (the detail-type travels separately).
            pydantic.ValidationError: an unknown type, an unknown key, or an invalid value.
        """
        if "type" in d:
            raise ValueError(
                "the detail envelope has no 'type' key; pass the detail-type separately"
            )
        data: dict[str, Any] = {**d, "type": type}
        if data.get("timestamp") is None and received_at is not None:
            data["timestamp"] = received_at
        if data.get("detail") is None:
            data.pop("detail", None)
        return cls.model_validate(data)

    def __repr__(self) -> str:
        parts = [self.type.value, self.pipeline_id]
        if self.date is not None:
            parts.append(self.date)
        at = self.timestamp.isoformat(timespec="seconds").replace("+00:00", "Z")
        return f"<Event {' '.join(parts)} at {at}>"
