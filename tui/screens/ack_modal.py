"""``a``: acknowledge a run's SLA alerts, with a reason and an expiry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from interlock.durations import parse_duration

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


class AckModal(ModalScreen[AckChoice | None]):
    """Returns an :class:`AckChoice`, or ``None`` if cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

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
            with Horizontal(classes="buttons"):
                yield Button("Acknowledge", id="confirm", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def _confirm(self) -> None:
        reason = self.query_one("#ack-reason", Input).value.strip()
        text = self.query_one("#ack-until", Input).value.strip()
        if not reason:
            self.notify("an acknowledgement needs a reason", severity="error")
            self.query_one("#ack-reason", Input).focus()
            return
        until: timedelta | None = None
        if text:
            try:
                until = parse_duration(text)
            except ValueError as exc:
                self.notify(f"expiry: {exc}", severity="error")
                return
        self.dismiss(AckChoice(reason, until))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "ack-reason":
            self.query_one("#ack-until", Input).focus()
        else:
            self._confirm()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "confirm":
            self._confirm()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
