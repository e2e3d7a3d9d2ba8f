"""``r``: ask for a rerun: shows the budget left, asks for a reason and a confirmation."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from tui.formatting import budget_long

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from interlock.lifecycle.operator import RerunBudget


class ConfirmRerunModal(ModalScreen[str | None]):
    """Returns the reason to rerun with, or ``None`` if cancelled.

    Args:
        pipeline_id: the pipeline.
        period: the period to rerun.
        budget: its rerun budget (what the controller will count the request against).
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, pipeline_id: str, period: str, budget: RerunBudget) -> None:
        super().__init__()
        self.pipeline_id = pipeline_id
        self.period = period
        self.budget = budget

    def compose(self) -> ComposeResult:
        left = self.budget.remaining(self.budget.manual_reason)
        warning = (
            "[b red]budget spent: the controller will reject this request[/]"
            if left == 0
            else f"{left} manual rerun(s) left for this period"
        )
        with Vertical(classes="dialog"):
            yield Static(f"Rerun {self.pipeline_id} · {self.period}?", classes="dialog-title")
            yield Static(f"reruns left: {budget_long(self.budget)}", id="rerun-budget")
            yield Static(warning, id="rerun-warning")
            yield Static("Reason (manual, data-drift, late-data or your own word):")
            yield Input(value="manual", id="rerun-reason", compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Rerun", id="confirm", variant="warning", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def _confirm(self) -> None:
        reason = self.query_one("#rerun-reason", Input).value.strip()
        if not reason:
            self.notify("a rerun needs a reason", severity="error")
            return
        self.dismiss(reason)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._confirm()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "confirm":
            self._confirm()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
