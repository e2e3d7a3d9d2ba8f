"""``v``: one row in full, wrapped (a message or reason the table had to cut)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

if TYPE_CHECKING:
    from textual.app import ComposeResult


class TextModal(ModalScreen[None]):
    """A title and a text, wrapped and scrollable; escape, enter, ``v`` or ``q`` closes it.

    Args:
        title: what the text is (e.g. ``events · row 3``).
        text: shown as is (no markup).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("enter", "close", "Close", show=False),
        Binding("v", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog text-dialog"):
            yield Static(self.title_text, classes="dialog-title", markup=False)
            with VerticalScroll():
                yield Static(self.text, id="full-text", markup=False)
            yield Static("escape closes", classes="dim")

    def action_close(self) -> None:
        self.dismiss(None)
