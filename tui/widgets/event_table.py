"""The live event tail: follows the newest event unless the user moved up; filter and highlight."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Final

from rich.text import Text
from textual.binding import Binding, BindingType

from tui.formatting import SEVERITY_STYLES, hhmmss, short_period
from tui.widgets.vim_table import Column, VimTable, fit_widths

if TYPE_CHECKING:
    from collections.abc import Iterable

    from interlock.events import Event

MAX_ROWS: Final = 5000  # beyond this the oldest rows go: a tail is about now
TRIM_TO: Final = MAX_ROWS - MAX_ROWS // 5
"""Rows kept when the table passes :data:`MAX_ROWS`. Cutting the oldest rows lays every row out again,
so a full table is cut back with room to spare: once per ~1,000 new events, not on every poll (under
the soak's 150 events/s the console re-laid 5,000 rows every second)."""
_COLUMNS: Final = (
    Column("TIME", "time", min=8, shrink=9),
    Column("TYPE", "type", min=14, max=26, shrink=2),
    Column("PIPELINE", "pipeline", min=12, max=24, shrink=3),
    Column("PERIOD", "period", min=8, shrink=4),
    Column("MESSAGE", "message", min=24, shrink=1),  # the whole event is in the box below
)
_PREFIXES: Final = {
    "type": "type",
    "t": "type",
    "sev": "severity",
    "severity": "severity",
    "s": "severity",
    "pipeline": "pipeline",
    "p": "pipeline",
}


@dataclass(frozen=True, slots=True)
class EventQuery:
    """A filter or highlight: ``type:JOB_FAILED sev:critical p:gold free words`` (every term must match).

    Attributes:
        text: the query as typed.
    """

    text: str = ""

    def __bool__(self) -> bool:
        return bool(self.text.strip())

    def matches(self, event: Event) -> bool:
        """Whether ``event`` satisfies every term."""
        hay = " ".join(
            [
                event.type.value,
                event.pipeline_id,
                event.date or "",
                event.actor or "",
                event.message,
            ]
        ).lower()
        for term in self.text.split():
            name, sep, value = term.partition(":")
            field = _PREFIXES.get(name.lower()) if sep else None
            value = value.lower() if field else term.lower()
            if field == "type" and value not in event.type.value.lower():
                return False
            if field == "severity" and event.severity.value != value:
                return False
            if field == "pipeline" and value not in event.pipeline_id.lower():
                return False
            if field is None and value not in hay:
                return False
        return True


class EventTable(VimTable):
    """Events, oldest at the top; new ones are appended and followed while the cursor is on the last row."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("G", "scroll_bottom", "Follow", tooltip="Jump to the newest event and follow"),
        Binding(
            "enter", "select_cursor", "Pipeline", show=False, tooltip="Open the event's pipeline"
        ),
    ]

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.events: list[Event] = []
        self.shown: list[Event] = []
        self.filter = EventQuery()
        self.highlight = EventQuery()

    def on_mount(self) -> None:
        self.fill(_COLUMNS, [])

    @property
    def following(self) -> bool:
        """Whether the cursor is on the newest row (new rows then move it along)."""
        return self.row_count == 0 or self.cursor_row >= self.row_count - 1

    def _row(self, event: Event) -> list[Text]:
        style = SEVERITY_STYLES.get(event.severity.value, "")
        if self.highlight and self.highlight.matches(event):
            style = f"{style} reverse".strip()
        message = event.message.replace("\n", " ")
        return [
            Text(hhmmss(event.timestamp), style=style),
            Text(event.type.value, style=style),
            Text(event.pipeline_id, style=style),
            Text(short_period(event.date) if event.date else "", style=style),
            Text(message, style=style),
        ]

    def add_events(self, events: Iterable[Event]) -> int:
        """Append events (oldest first); returns how many are shown (the filter may hide some)."""
        follow = self.following
        added: list[Event] = []
        for event in events:
            self.events.append(event)
            if self.filter and not self.filter.matches(event):
                continue
            added.append(event)
        if len(self.events) > MAX_ROWS:
            self.events = self.events[-TRIM_TO:]
            self.rebuild()
            return len(added)
        rows = [(None, self._row(e)) for e in added]
        self.shown.extend(added)
        self.fitted_rows.extend(rows)
        widths = fit_widths(self.fitted, [cells for _, cells in self.fitted_rows], self.room())
        if widths != self.widths:
            self.refit()  # a longer cell: lay every row out again
        else:
            for _, cells in rows:
                self.add_row(*self.cut_row(cells, widths))
        if follow and self.row_count:
            self.move_cursor(row=self.row_count - 1, animate=False)
        return len(added)

    def rebuild(self) -> None:
        """Redraw every row (after a filter or highlight change), keeping the cursor's event if shown."""
        current = self.selected
        follow = self.following
        self.shown = [e for e in self.events if not self.filter or self.filter.matches(e)]
        self.fill(_COLUMNS, [(None, self._row(e)) for e in self.shown])
        if not self.row_count:
            return
        if follow or current is None or current not in self.shown:
            self.move_cursor(row=self.row_count - 1, animate=False)
        else:
            self.move_cursor(row=self.shown.index(current), animate=False)

    @property
    def selected(self) -> Event | None:
        """The event under the cursor."""
        if not self.shown or not 0 <= self.cursor_row < len(self.shown):
            return None
        return self.shown[self.cursor_row]
