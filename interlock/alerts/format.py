"""What Slack shows: a run's root message (its state, folded from its events) and one reply per alert.

Pure: no network, no clock. :class:`RunView` folds a run's events into what the root message shows;
:func:`root_message` and :func:`reply_message` render text (readable as plain text: it is Slack's
notification and fallback text) plus Block Kit blocks::

    events of one run ──fold──▶ RunView(run state, SLA state, last update) ──▶ root_message()  (chat.update)
    one alerting event ─────────────────────────────────────────────────────▶ reply_message() (thread reply)

A reply reads (the original's layout, reference §9.1, keeping the message the original dropped)::

    🚨 *JOB_FAILED* | gold-revenue | 2026-03-02
    The job failed: exit code 2.
    Status: FAILED · Source: orchestrator
    → rerun with `interlock rerun gold-revenue --period 2026-03-02 --reason …`
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from interlock.events import ON_CALL, EventType, Severity
from interlock.store import keys

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from interlock.events import Event

__all__ = [
    "SECTION_LIMIT",
    "SEVERITY_EMOJI",
    "Message",
    "RunView",
    "Tone",
    "action_hint",
    "escape",
    "reply_message",
    "root_message",
    "standalone_message",
]

SECTION_LIMIT: Final = 3000
"""Slack refuses a section block whose text is longer than this."""

SEVERITY_EMOJI: Final[Mapping[Severity, str]] = {
    Severity.INFO: "ℹ️",
    Severity.WARNING: "⚠️",
    Severity.CRITICAL: "🚨",
}


class Tone(StrEnum):
    """How a state looks on the root message."""

    OK = "ok"
    ACTIVE = "active"
    INFO = "info"
    WARN = "warn"
    BAD = "bad"


_TONE_EMOJI: Final[Mapping[Tone, str]] = {
    Tone.OK: "✅",
    Tone.ACTIVE: "⏳",
    Tone.INFO: "ℹ️",
    Tone.WARN: "⚠️",
    Tone.BAD: "🚨",
}
_TONE_RANK: Final[Mapping[Tone, int]] = {
    Tone.OK: 0,
    Tone.INFO: 1,
    Tone.ACTIVE: 2,
    Tone.WARN: 3,
    Tone.BAD: 4,
}

_T = EventType
# The run's state after each event that changes it; events not listed leave the state as it was.
RUN_STATES: Final[Mapping[EventType, tuple[str, Tone]]] = {
    _T.VALIDATION_PASSED: ("triggering", Tone.ACTIVE),
    _T.JOB_TRIGGERED: ("running", Tone.ACTIVE),
    _T.TRIGGER_RECOVERED: ("running (recovered by the watchdog)", Tone.ACTIVE),
    _T.RERUN_REQUESTED: ("rerun requested", Tone.ACTIVE),
    _T.RERUN_ACCEPTED: ("rerunning", Tone.ACTIVE),
    _T.JOB_COMPLETED: ("completed", Tone.OK),
    _T.JOB_FAILED: ("failed", Tone.BAD),
    _T.RETRY_EXHAUSTED: ("failed: retries exhausted", Tone.BAD),
    _T.JOB_POLL_EXHAUSTED: ("failed: poll window over", Tone.BAD),
    _T.SFN_TIMEOUT: ("failed: execution lost", Tone.BAD),
    _T.INFRA_FAILURE: ("rerun blocked: infrastructure failure", Tone.BAD),
    _T.VALIDATION_EXHAUSTED: ("not run: evaluation window closed", Tone.BAD),
    _T.SENSOR_DEADLINE_EXPIRED: ("not started: trigger deadline passed", Tone.WARN),
    _T.SCHEDULE_MISSED: ("missed: no run for the period", Tone.BAD),
    _T.IRREGULAR_SCHEDULE_MISSED: ("missed: no run on an inclusion date", Tone.WARN),
    _T.PIPELINE_EXCLUDED: ("excluded by calendar", Tone.INFO),
    _T.POST_RUN_PASSED: ("completed, post-run checks passed", Tone.OK),
    _T.POST_RUN_FAILED: ("completed, post-run check failed", Tone.WARN),
    _T.POST_RUN_DRIFT: ("completed, data drifted: rerun requested", Tone.WARN),
    _T.POST_RUN_SENSOR_MISSING: ("completed, post-run sensor missing", Tone.WARN),
    _T.LATE_DATA_ARRIVAL: ("completed, late data: rerun requested", Tone.WARN),
    _T.DRY_RUN_WOULD_TRIGGER: ("dry run: would trigger", Tone.INFO),
    _T.DRY_RUN_COMPLETED: ("dry run: evaluated", Tone.INFO),
    _T.DRY_RUN_WOULD_RETRY: ("dry run: would retry", Tone.INFO),
    _T.DRY_RUN_RETRY_EXHAUSTED: ("dry run: would not retry", Tone.INFO),
}
# The run's SLA after each SLA event.
SLA_STATES: Final[Mapping[EventType, tuple[str, Tone]]] = {
    _T.SLA_WARNING: ("warning", Tone.WARN),
    _T.RELATIVE_SLA_WARNING: ("warning (relative SLA)", Tone.WARN),
    _T.SLA_BREACH: ("breached", Tone.BAD),
    _T.RELATIVE_SLA_BREACH: ("breached (relative SLA)", Tone.BAD),
    _T.SLA_MET: ("met", Tone.OK),
    _T.SLA_ACKNOWLEDGED: ("acknowledged", Tone.WARN),
}


@dataclass(frozen=True, slots=True)
class Message:
    """One Slack message: ``text`` (plain-text readable; notifications and fallback) and ``blocks``."""

    text: str
    blocks: list[dict[str, Any]]


def escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` as Slack's mrkdwn requires (else ``<…>`` becomes a link or mention)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _message(text: str, context: str | None = None) -> Message:
    section = text if len(text) <= SECTION_LIMIT else text[: SECTION_LIMIT - 1] + "…"
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": section}}
    ]
    if context:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    full = f"{text}\n{context}" if context else text
    return Message(text=full, blocks=blocks)


@dataclass(frozen=True, slots=True)
class RunView:
    """What the root message of a run shows, folded from the run's events (:meth:`apply`).

    Attributes:
        pipeline_id: the pipeline.
        schedule_id: the run's schedule.
        date: the run's period.
        run_event: the latest event that set the run's state (``None``: none seen yet).
        sla_event: the latest SLA event (``None``: none yet).
        sla_note: who acknowledged the SLA and until when, once acknowledged.
        last_event: the latest event of the run.
        last_at: when it happened.
        retrying: the run's state is a JOB_FAILED after which an automatic retry follows.
    """

    pipeline_id: str
    schedule_id: str
    date: str
    run_event: EventType | None
    sla_event: EventType | None
    sla_note: str | None
    last_event: EventType
    last_at: datetime
    retrying: bool = False

    @classmethod
    def of(cls, events: Iterable[Event]) -> RunView:
        """Fold a run's events, oldest first, into a view.

        Raises:
            ValueError: no events, or an event that is not tied to a run.
        """
        view: RunView | None = None
        for event in events:
            view = view.apply(event) if view is not None else cls._first(event)
        if view is None:
            raise ValueError("a run view needs at least one event")
        return view

    @classmethod
    def _first(cls, event: Event) -> RunView:
        if not event.schedule_id or not event.date:
            raise ValueError(f"{event!r} is not tied to a run (no schedule or period)")
        empty = cls(
            event.pipeline_id,
            event.schedule_id,
            event.date,
            None,
            None,
            None,
            event.type,
            event.timestamp,
        )
        return empty.apply(event)

    def apply(self, event: Event) -> RunView:
        """The view after ``event`` (an event of this run)."""
        view = replace(self, last_event=event.type, last_at=event.timestamp)
        if event.type in RUN_STATES:
            retrying = event.type is _T.JOB_FAILED and event.detail.get("willRetry") is True
            view = replace(view, run_event=event.type, retrying=retrying)
            if event.type in (_T.RERUN_ACCEPTED, _T.JOB_TRIGGERED) and self.sla_event is _T.SLA_MET:
                view = replace(view, sla_event=None, sla_note=None)
        if event.type is _T.SLA_ACKNOWLEDGED:
            view = replace(view, sla_event=event.type, sla_note=_ack_note(event))
        elif event.type in SLA_STATES and not (
            event.detail.get("acknowledged") is True and self.sla_event is _T.SLA_ACKNOWLEDGED
        ):
            # a re-fired alert that was acked keeps showing the ack rather than "breached" again
            view = replace(view, sla_event=event.type, sla_note=None)
        return view

    @property
    def state(self) -> str:
        """The run's state in words (``"running"``, ``"failed"`` …); ``"—"`` before any is known."""
        if self.run_event is None:
            return "—"
        return "failed, retrying" if self.retrying else RUN_STATES[self.run_event][0]

    @property
    def sla(self) -> str | None:
        """The SLA in words, or ``None`` when no SLA event has been seen."""
        if self.sla_event is None:
            return None
        label = SLA_STATES[self.sla_event][0]
        return f"{label} {self.sla_note}" if self.sla_note else label

    @property
    def tone(self) -> Tone:
        """The worst of the run's and the SLA's tones; a finished run's past SLA warning stays a warning."""
        run = RUN_STATES[self.run_event][1] if self.run_event is not None else Tone.INFO
        if self.retrying:
            run = Tone.WARN  # not a page yet: the retry may well succeed
        sla = SLA_STATES[self.sla_event][1] if self.sla_event is not None else Tone.OK
        if sla is Tone.BAD and run is Tone.OK:
            sla = (
                Tone.WARN
            )  # the breach is history once the run completed: worth a look, not a page
        return max(run, sla, key=_TONE_RANK.__getitem__)

    def to_item(self) -> dict[str, Any]:
        """Attributes to keep on the run's thread row (so a restart renders the same root)."""
        return {
            "runEvent": self.run_event.value if self.run_event is not None else None,
            "slaEvent": self.sla_event.value if self.sla_event is not None else None,
            "slaNote": self.sla_note,
            "lastEvent": self.last_event.value,
            "lastAt": keys.format_time(self.last_at),
            "retrying": self.retrying,
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any], event: Event) -> RunView | None:
        """The view kept on a thread row (``None`` if the row has none), for ``event``'s run."""
        last, at = item.get("lastEvent"), item.get("lastAt")
        if (
            not isinstance(last, str)
            or not isinstance(at, str)
            or not event.schedule_id
            or not event.date
        ):
            return None
        run, sla, note = item.get("runEvent"), item.get("slaEvent"), item.get("slaNote")
        try:
            return cls(
                event.pipeline_id,
                event.schedule_id,
                event.date,
                EventType(run) if isinstance(run, str) else None,
                EventType(sla) if isinstance(sla, str) else None,
                note if isinstance(note, str) else None,
                EventType(last),
                keys.parse_time(at),
                item.get("retrying") is True,
            )
        except ValueError:
            return None  # a row written by another version: rebuild the view from events


def _ack_note(event: Event) -> str:
    parts = [f"by {event.actor}"] if event.actor else []
    until = event.detail.get("until")
    if until:
        parts.append(f"until {until}")
    return " ".join(parts)


def root_message(view: RunView) -> Message:
    """The root message of a run's thread: pipeline, period, state, SLA and the last update."""
    head = (
        f"{_TONE_EMOJI[view.tone]} *{escape(view.pipeline_id)}* · {view.date} "
        f"({escape(view.schedule_id)}) — {escape(view.state)}"
    )
    lines = [head]
    if view.sla is not None:
        lines.append(f"SLA: {escape(view.sla)}")
    context = f"Last update: {view.last_event.value} at {keys.format_time(view.last_at)}"
    return _message("\n".join(lines), context)


def action_hint(event: Event) -> str | None:
    """What to do next: the event's ``actionHint``, else a default for its type (``None``: nothing).

    A JOB_FAILED whose detail says an automatic retry follows (``willRetry``) gets the catalogue's
    ``retry_hint`` (retry k of n) instead of the manual rerun hint.
    """
    hint = event.detail.get("actionHint")
    if isinstance(hint, str) and hint:
        return hint
    p, d = event.pipeline_id, event.date or "<period>"
    if event.type is _T.RERUN_REJECTED:
        used, budget = event.detail.get("rerunCount"), event.detail.get("budget")
        spent = f" ({used} of {budget} used)" if used is not None and budget is not None else ""
        return (
            f"the rerun budget is spent{spent} or no sensor changed since the last success; "
            f"see `interlock explain {p}`"
        )
    guide = ON_CALL[event.type]
    retry, budget, attempt = (event.detail.get(k) for k in ("retry", "maxRetries", "nextAttempt"))
    if (
        guide.retry_hint is not None
        and event.detail.get("willRetry") is True
        and all(isinstance(v, int) for v in (retry, budget, attempt))
    ):
        # the job failed but an automatic retry follows: "rerun with …" would ask for a second one
        return guide.retry_hint.format(k=retry, n=budget, a=attempt)
    return guide.hint.format(p=p, d=d) if guide.hint is not None else None


def _deadline(detail: Mapping[str, Any]) -> str | None:
    parts = []
    for key, label in (
        ("deadline", "Deadline"),
        ("warningAt", "warning at"),
        ("breachAt", "breach at"),
    ):
        value = detail.get(key)
        if value:
            parts.append(f"{label} {value}")
    return ", ".join(parts) if parts else None


def _facts(event: Event) -> str | None:
    detail = event.detail
    parts = []
    deadline = _deadline(detail)
    if deadline:
        parts.append(deadline)
    for key, label in (("status", "Status"), ("source", "Source"), ("cron", "Cron")):
        value = detail.get(key)
        if value:
            parts.append(f"{label}: {value}")
    if event.type is _T.RERUN_REJECTED and detail.get("budget") is not None:
        parts.append(f"Budget: {detail.get('rerunCount', '?')}/{detail['budget']}")
    return " · ".join(escape(str(p)) for p in parts) if parts else None


def reply_message(event: Event) -> Message:
    """The thread reply for one alerting event.

    Line 1 ``<emoji> *<TYPE>* | <pipeline> | <period>``; then the message, the deadline and other facts,
    the acknowledgement (SLA_ACKNOWLEDGED), and ``→ <action hint>``.
    """
    period = event.date or "—"
    lines = [
        f"{SEVERITY_EMOJI[event.severity]} *{event.type.value}* | "
        f"{escape(event.pipeline_id)} | {period}"
    ]
    if event.message:
        lines.append(escape(event.message))
    if event.type is _T.SLA_ACKNOWLEDGED:
        reason = event.detail.get("reason")
        ack = f"Acknowledged {_ack_note(event)}".rstrip()
        lines.append(escape(f"{ack}: {reason}" if reason else ack))
    facts = _facts(event)
    if facts:
        lines.append(facts)
    hint = action_hint(event)
    if hint and event.type is not _T.SLA_ACKNOWLEDGED:
        lines.append(f"→ {escape(hint)}")
    return _message("\n".join(lines))


def standalone_message(event: Event) -> Message:
    """A message for an event not tied to a run (INFRA_ALARM, CONFIG_INVALID …): the reply's layout."""
    return reply_message(event)
