"""``?``: every key of the screen below, with what it does."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.markup import escape
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

if TYPE_CHECKING:
    from collections.abc import Sequence

    from textual.app import ComposeResult


class HelpScreen(ModalScreen[None]):
    """Keys grouped by where they work (this screen, its table, everywhere), then the filter syntax.

    Any of escape, ``?`` or ``q`` closes it.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(
        self,
        screen_name: str,
        sections: Sequence[tuple[str, Sequence[tuple[str, str]]]],
        *,
        syntax: str | None = None,
    ) -> None:
        super().__init__()
        self.screen_name = screen_name
        self.sections = [(title, list(rows)) for title, rows in sections]
        self.keys = [row for _, rows in self.sections for row in rows]
        self.syntax = syntax

    def compose(self) -> ComposeResult:
        width = max((len(k) for k, _ in self.keys), default=4)
        blocks = []
        for title, rows in self.sections:
            lines = "\n".join(f"[b]{escape(k.ljust(width))}[/]  {escape(d)}" for k, d in rows)
            blocks.append(f"[b u]{escape(title)}[/]\n{lines}")
        if self.syntax:
            blocks.append(f"[b u]Filter syntax[/]\n{escape(self.syntax)}")
        with Vertical(classes="dialog help-dialog"):
            yield Static(f"Keys · {self.screen_name}", classes="dialog-title")
            with VerticalScroll():
                yield Static("\n\n".join(blocks), id="help-keys")
            yield Static("escape closes · ctrl+p opens the command palette", classes="dim")

    def action_close(self) -> None:
        self.dismiss(None)
