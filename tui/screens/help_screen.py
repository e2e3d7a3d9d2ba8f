"""``?``: every key of the screen below, with what it does."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

if TYPE_CHECKING:
    from collections.abc import Sequence

    from textual.app import ComposeResult


class HelpScreen(ModalScreen[None]):
    """A list of (keys, description) pairs; any of escape, ``?`` or ``q`` closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, screen_name: str, keys: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.screen_name = screen_name
        self.keys = list(keys)

    def compose(self) -> ComposeResult:
        width = max((len(k) for k, _ in self.keys), default=4)
        lines = "\n".join(f"[b]{k.ljust(width)}[/]  {d}" for k, d in self.keys)
        with Vertical(classes="dialog help-dialog"):
            yield Static(f"Keys · {self.screen_name}", classes="dialog-title")
            with VerticalScroll():
                yield Static(lines, id="help-keys")
            yield Static("escape closes · ctrl+p opens the command palette", classes="dim")

    def action_close(self) -> None:
        self.dismiss(None)
