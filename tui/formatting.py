"""How the TUI writes states, times and durations (one place, so every screen agrees)."""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rich.text import Text

from interlock.durations import format_duration
from interlock.store.factory import store_location

if TYPE_CHECKING:
    from interlock.api import PipelineStatus, SlaClock
    from interlock.events import Event
    from interlock.lifecycle.operator import RerunBudget

STATE_STYLES: dict[str, str] = {
    "failed": "bold red",
    "invalid": "bold red",
    "evaluating": "yellow",
    "running": "cyan",
    "succeeded": "green",
    "dry-run": "magenta",
    "excluded": "dim",
    "waiting": "",
}
SLA_STYLES: dict[str, str] = {
    "breached": "bold red",
    "missed": "red",
    "warning": "yellow",
    "met": "green",
    "ok": "",
    "none": "dim",
    "unwatched": "dim",
}
SEVERITY_STYLES: dict[str, str] = {"critical": "red", "warning": "yellow", "info": ""}


def hhmm(at: datetime | None) -> str:
    """``08:41`` (UTC), or empty."""
    return "" if at is None else at.astimezone(UTC).strftime("%H:%M")


def hhmmss(at: datetime) -> str:
    """``08:41:07`` (UTC)."""
    return at.astimezone(UTC).strftime("%H:%M:%S")


def ago(delta: timedelta | None) -> str:
    """``36m`` or ``—``."""
    return "—" if delta is None else format_duration(delta)


def short_period(period: str | None) -> str:
    """``03-02`` / ``03-02T07`` (the year is noise on a board)."""
    if not period:
        return "—"
    return period[5:] if len(period) >= 10 else period


def state_text(status: PipelineStatus) -> Text:
    """The state word, coloured (``stale`` replaces ``running`` for a lost execution)."""
    word: str = "STALE" if status.stale else status.state
    if status.state == "failed":
        word = "FAILED"
    return Text(word, style=STATE_STYLES.get(status.state, ""))


def sla_text(sla: SlaClock, *, acked: bool = False) -> Text:
    """The SLA clock, coloured; an acknowledged alarm is dimmed and marked."""
    style = "dim" if acked and sla.alarming else SLA_STYLES.get(sla.status, "")
    return Text(sla.text + (" ✓" if acked and sla.alarming else ""), style=style)


def budget_short(budget: RerunBudget | None) -> str:
    """``d1 m1``: drift and manual reruns left."""
    if budget is None:
        return "—"
    return f"d{budget.remaining('data-drift')} m{budget.remaining(budget.manual_reason)}"


def budget_long(budget: RerunBudget) -> str:
    """``drift 1 of 1 · manual 0 of 1``: left of each budget."""
    manual = budget.manual_reason
    return (
        f"drift {budget.remaining('data-drift')} of {budget.drift_max} · "
        f"{manual} {budget.remaining(manual)} of {budget.manual_max}"
    )


def last_event_text(event: Event | None) -> str:
    """``08:12 JOB_FAILED``: the time first, so a narrow column cuts the type, never the time."""
    if event is None:
        return "—"
    return f"{hhmm(event.timestamp)} {event.type.value}"


def event_json(event: Event) -> str:
    """The event as the EventBridge envelope's detail, with its type (what ``y`` copies)."""
    body: dict[str, Any] = {"detail-type": event.type.value, "detail": event.to_detail()}
    return json.dumps(body, indent=2, sort_keys=True, default=str)


def show_value(value: Any, width: int = 16) -> str:
    """A sensor value as JSON writes it (``true``, ``null``, ``15432``), cut to ``width``."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, Decimal):  # the store's exact numbers: 0.96, not "0.96"
        text = format(value.normalize(), "f") if value == value.to_integral_value() else str(value)
    else:
        text = json.dumps(value, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def short_reason(rule: str, sensor: str, reason: str) -> str:
    """A rule's reason without the ``key.field`` the RULE column already shows."""
    label = rule.split(" ", 1)[0]
    for prefix in (label, sensor):
        if reason.startswith(prefix + " "):
            return reason[len(prefix) + 1 :]
    return reason


def rerun_command(pipeline_id: str, period: str | None, store_url: str | None = None) -> str:
    """The CLI command that asks for the same rerun, against the same store (pasteable anywhere).

    A relative ``sqlite:///`` URL is made absolute: the command may be pasted in another directory.
    """
    where = f" --period {period}" if period else ""
    store = ""
    if store_url is not None:
        if store_url.startswith("sqlite:///") and not store_url.startswith("sqlite:////"):
            store_url = "sqlite:///" + store_location(store_url)
        store = f" --store {shlex.quote(store_url)}"
    return f"interlock rerun {shlex.quote(pipeline_id)}{where} --reason manual{store}"


def shorten_left(text: str, width: int) -> str:
    """``…/.interlock/demo.db``: ``text`` cut from the left to ``width`` (the end of a path matters)."""
    if len(text) <= width:
        return text
    return "…" + text[len(text) - width + 1 :]
