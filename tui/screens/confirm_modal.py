"""The confirm/cancel dialog every operator modal is: :class:`ConfirmModal`.

A subclass composes its fields inside a ``dialog`` and ends it with :meth:`ConfirmModal.buttons`; it
implements :meth:`ConfirmModal.confirm` (read the fields, ``dismiss`` with the result or ``notify`` what
is missing) and may override :meth:`ConfirmModal.submitted`. The base handles the rest the same way for all of them: the confirm button and Enter in an
input confirm, the cancel button and Escape dismiss with ``None``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, TypeVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.widgets import Button, Input

if TYPE_CHECKING:
    from textual.widgets.button import ButtonVariant

ResultT = TypeVar("ResultT")

__all__ = ["ConfirmModal"]


class ConfirmModal(ModalScreen[ResultT | None]):
    """A modal that returns a result on confirm and ``None`` on cancel."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def buttons(self, label: str, variant: ButtonVariant = "warning") -> Horizontal:
        """The dialog's button row: ``label`` (id ``confirm``) and ``Cancel`` (id ``cancel``)."""
        return Horizontal(
            Button(label, id="confirm", variant=variant, compact=True),
            Button("Cancel", id="cancel", compact=True),
            classes="buttons",
        )

    def confirm(self) -> None:
        """Read the fields and ``dismiss`` with the result, or ``notify`` what is wrong."""
        raise NotImplementedError

    def reason(self, input_id: str, action: str) -> str | None:
        """The stripped text of input ``#input_id``; ``None`` (after telling why) when it is empty.

        Args:
            input_id: the reason input's id.
            action: what needs the reason, for the message (``"a rerun"`` → "a rerun needs a reason").
        """
        field = self.query_one(f"#{input_id}", Input)
        text = field.value.strip()
        if not text:
            self.notify(f"{action} needs a reason", severity="error")
            field.focus()
            return None
        return text

    def submitted(self, event: Input.Submitted) -> None:
        """Enter in an input: confirm (a subclass with several inputs may move the focus instead)."""
        self.confirm()

    # Textual calls a handler of every class in the MRO: subclasses override the hooks, not these.
    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.submitted(event)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "confirm":
            self.confirm()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
