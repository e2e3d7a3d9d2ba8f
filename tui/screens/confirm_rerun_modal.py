"""``r``: ask for a rerun: shows the budget left and what the controller will decide, asks for a reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.containers import Vertical
from textual.widgets import Input, Static

from tui.formatting import budget_long
from tui.screens.confirm_modal import ConfirmModal

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from interlock.lifecycle.operator import RerunBudget
    from interlock.service.operator import RerunOutlook


class ConfirmRerunModal(ConfirmModal[str]):
    """Returns the reason to rerun with, or ``None`` if cancelled.

    Args:
        pipeline_id: the pipeline.
        period: the period to rerun.
        budget: its rerun budget (what the controller will count the request against).
    """

    def __init__(
        self,
        pipeline_id: str,
        period: str,
        budget: RerunBudget,
        outlook: RerunOutlook | None = None,
    ) -> None:
        super().__init__()
        self.pipeline_id = pipeline_id
        self.period = period
        self.budget = budget
        self.outlook = outlook

    def compose(self) -> ComposeResult:
        left = self.budget.remaining(self.budget.manual_reason)
        with Vertical(classes="dialog"):
            yield Static(f"Rerun {self.pipeline_id} · {self.period}?", classes="dialog-title")
            yield Static(f"reruns left: {budget_long(self.budget)}", id="rerun-budget")
            yield Static(self._outlook_text(left), id="rerun-warning")
            yield Static("Reason (manual, data-drift, late-data or your own word):")
            yield Input(value="manual", id="rerun-reason", compact=True)
            yield self.buttons("Rerun")

    def _outlook_text(self, left: int) -> Text:
        """What will happen, in the controller's words (red when it will certainly be refused)."""
        outlook = self.outlook
        if outlook is None:
            if left == 0:
                return Text("budget spent: the controller will reject this request", "bold red")
            return Text(f"{left} manual rerun(s) left for this period")
        words = outlook.message
        for prefix in (
            f"rerun accepted for {self.pipeline_id} ",
            f"rerun rejected for {self.pipeline_id}: ",
        ):
            words = words.removeprefix(prefix)
        if outlook.verdict == "accepted":
            return Text(f"will start: {words}", style="green")
        if outlook.verdict == "dry-run":
            return Text(f"dry run, nothing starts: {outlook.message}", style="magenta")
        return Text(f"will be rejected: {words}", style="bold red")

    def confirm(self) -> None:
        reason = self.reason("rerun-reason", "a rerun")
        if reason is not None:
            self.dismiss(reason)
