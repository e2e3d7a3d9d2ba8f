"""``a``: acknowledge a run's SLA alerts, with a reason and an expiry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.containers import Vertical
from textual.widgets import Input, Static

from interlock.durations import parse_duration
from tui.screens.confirm_modal import ConfirmModal

if TYPE_CHECKING:
    from datetime import timedelta

    from textual.app import ComposeResult


@dataclass(frozen=True, slots=True)
class AckChoice:
    """What the operator entered.

    Attributes:
        reason: why (required).
        until: how long the acknowledgement lasts (``None``: the rest of the run).
    """

    reason: str
    until: timedelta | None


class AckModal(ConfirmModal[AckChoice]):
    """Returns an :class:`AckChoice`, or ``None`` if cancelled."""

    def __init__(self, pipeline_id: str, period: str, sla: str) -> None:
        super().__init__()
        self.pipeline_id = pipeline_id
        self.period = period
        self.sla = sla

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(
                f"Acknowledge SLA · {self.pipeline_id} · {self.period}", classes="dialog-title"
            )
            yield Static(f"SLA now: {self.sla}")
            yield Static("Reason (shown in Slack and the events):")
            yield Input(placeholder="e.g. upstream outage INC-42", id="ack-reason", compact=True)
            yield Static("For how long (2h, 30m; empty: the rest of the run):")
            yield Input(value="2h", id="ack-until", compact=True)
            yield self.buttons("Acknowledge", "primary")

    def confirm(self) -> None:
        reason = self.reason("ack-reason", "an acknowledgement")
        if reason is None:
            return
        text = self.query_one("#ack-until", Input).value.strip()
        until: timedelta | None = None
        if text:
            try:
                until = parse_duration(text)
            except ValueError as exc:
                self.notify(f"expiry: {exc}", severity="error")
                return
        self.dismiss(AckChoice(reason, until))

    def submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "ack-reason":
            self.query_one("#ack-until", Input).focus()
        else:
            self.confirm()
