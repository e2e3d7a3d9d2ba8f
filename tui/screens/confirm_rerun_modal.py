"""``r``: ask for a rerun: shows the budget left, asks for a reason and a confirmation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.containers import Vertical
from textual.widgets import Input, Static

from tui.formatting import budget_long
from tui.screens.confirm_modal import ConfirmModal

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from interlock.lifecycle.operator import RerunBudget


class ConfirmRerunModal(ConfirmModal[str]):
    """Returns the reason to rerun with, or ``None`` if cancelled.

    Args:
        pipeline_id: the pipeline.
        period: the period to rerun.
        budget: its rerun budget (what the controller will count the request against).
    """

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
            yield self.buttons("Rerun")

    def confirm(self) -> None:
        reason = self.reason("rerun-reason", "a rerun")
        if reason is not None:
            self.dismiss(reason)
