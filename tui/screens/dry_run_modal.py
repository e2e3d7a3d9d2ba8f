"""``d``: switch a pipeline into or out of dry run, with a reason and a confirmation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.containers import Vertical
from textual.widgets import Input, Static

from tui.screens.confirm_modal import ConfirmModal

if TYPE_CHECKING:
    from textual.app import ComposeResult


class DryRunModal(ConfirmModal[str]):
    """Returns the reason for the switch, or ``None`` if cancelled.

    Args:
        pipeline_id: the pipeline.
        on: the state asked for (``True``: into dry run).
    """

    def __init__(self, pipeline_id: str, on: bool) -> None:
        super().__init__()
        self.pipeline_id = pipeline_id
        self.on = on

    def compose(self) -> ComposeResult:
        if self.on:
            title = f"Switch {self.pipeline_id} INTO dry run?"
            what = "Interlock will only report what it would do: no jobs, no reruns."
        else:
            title = f"Switch {self.pipeline_id} OUT of dry run?"
            what = "Interlock will trigger real jobs again."
        with Vertical(classes="dialog"):
            yield Static(title, classes="dialog-title")
            yield Static(what)
            yield Static("Reason (audited with the switch):")
            yield Input(placeholder="why", id="dry-run-reason", compact=True)
            yield self.buttons("Switch")

    def confirm(self) -> None:
        reason = self.reason("dry-run-reason", "a dry-run switch")
        if reason is not None:
            self.dismiss(reason)
