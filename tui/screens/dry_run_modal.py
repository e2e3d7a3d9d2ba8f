"""``d``: switch a pipeline into or out of dry run, with a reason and a confirmation."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

if TYPE_CHECKING:
    from textual.app import ComposeResult


class DryRunModal(ModalScreen[str | None]):
    """Returns the reason for the switch, or ``None`` if cancelled.

    Args:
        pipeline_id: the pipeline.
        on: the state asked for (``True``: into dry run).
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

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
            with Horizontal(classes="buttons"):
                yield Button("Switch", id="confirm", variant="warning", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def _confirm(self) -> None:
        reason = self.query_one("#dry-run-reason", Input).value.strip()
        if not reason:
            self.notify("a dry-run switch needs a reason", severity="error")
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
