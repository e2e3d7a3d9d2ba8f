"""The live event tail: follows the events table through the time index; filter, highlight, copy.

Polling, not pushing: every ``tail_seconds`` a worker asks for the events since the newest one shown
(``Interlock.tail`` → ``EventStore.since``, one Query per hour partition of GSI2). Events stamped in the
same millisecond as the newest one shown are compared by content, so none is shown twice.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar, Final

from rich.text import Text
from textual import on, work
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Footer, Input, Static

from tui.formatting import event_json, hhmm, rerun_command
from tui.messages import EventsArrived
from tui.screens.interlock_screen import InterlockScreen
from tui.widgets.event_table import EventQuery, EventTable

if TYPE_CHECKING:
    from datetime import datetime

    from textual.app import ComposeResult

    from interlock.events import Event

_FIRST_PAGE: Final = 200
_EMPTY_LOOKBACK: Final = timedelta(hours=1)
_DEFAULT_WINDOW: Final = timedelta(hours=24)  # what Interlock.events looks back over by default


def _identity(event: Event) -> tuple[object, ...]:
    return (event.timestamp, event.type, event.pipeline_id, event.date, event.actor, event.message)


class EventsScreen(InterlockScreen):
    """Every pipeline's events as they arrive."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("slash", "query('filter')", "Filter", tooltip="Hide events that do not match"),
        Binding(
            "h", "query('highlight')", "Highlight", tooltip="Mark matching events, keep the rest"
        ),
        Binding("x", "clear", "Clear", show=False, tooltip="Clear the filter and the highlight"),
        Binding("y", "copy_json", "Copy", tooltip="Copy the selected event as JSON"),
        Binding(  # off the footer so the keys fit 80 columns; ? lists it
            "c",
            "copy_command",
            "Copy cmd",
            show=False,
            tooltip="Copy the rerun command for its run",
        ),
        Binding("enter", "open", "Pipeline", tooltip="Open the event's pipeline"),
        Binding("n", "next_match(1)", "Next match", show=False, tooltip="Next highlighted event"),
        Binding(
            "N",
            "next_match(-1)",
            "Previous match",
            show=False,
            tooltip="Previous highlighted event",
        ),
        Binding("R", "retry", "Refresh", show=False, tooltip="Read the store again now"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.newest: datetime | None = None
        self._at_newest: set[tuple[object, ...]] = set()
        self.query_mode = "filter"
        self.polls = 0

    def compose(self) -> ComposeResult:
        with Horizontal(classes="head"):
            yield Static("Events · loading…", id="tail-title", classes="head-left")
            yield Static("", id="tail-state", classes="head-right")
        yield Static("", id="read-error", classes="error-line", markup=False)
        yield Input(id="tail-query")
        yield Static("", id="tail-empty", classes="status-line", markup=False)
        yield EventTable(id="events")
        with VerticalScroll(id="event-detail-box"):
            yield Static("", id="event-detail", markup=False)
        yield Footer(compact=True)  # at 80 columns every shown key fits

    def on_mount(self) -> None:
        self.query_one("#tail-query", Input).display = False
        self.query_one("#read-error").display = False
        self.query_one("#tail-empty").display = False
        self.query_one(EventTable).focus()
        self.loaded = False
        self._load_first()

    def action_retry(self) -> None:
        if self.loaded:
            self.poll()
        else:
            self._load_first()

    @work(thread=True, exclusive=True, exit_on_error=False, group="read events")
    def _load_first(self) -> None:
        events = self.api.events(limit=_FIRST_PAGE)
        events.reverse()
        self.post_message(EventsArrived(events, initial=True))

    def poll(self) -> None:
        """Ask for the events that arrived since the newest one shown."""
        self._poll()

    @work(thread=True, exclusive=True, exit_on_error=False, group="follow events")
    def _poll(self) -> None:
        since = self.newest if self.newest is not None else self.iapp.clock.now() - _EMPTY_LOOKBACK
        self.post_message(EventsArrived(self.api.tail(since)))

    @on(EventsArrived)
    def _arrived(self, message: EventsArrived) -> None:
        self.read_ok()
        if message.initial and self.loaded:
            return
        self.loaded = self.loaded or message.initial
        fresh = [e for e in message.events if _identity(e) not in self._at_newest]
        if fresh:
            newest = max(e.timestamp for e in fresh)
            if self.newest is None or newest > self.newest:
                self.newest = newest
                self._at_newest = set()
            self._at_newest.update(_identity(e) for e in fresh if e.timestamp == self.newest)
            self.query_one(EventTable).add_events(fresh)
        if message.initial and self.iapp.tail_seconds:
            self.set_interval(self.iapp.tail_seconds, self.poll)
        self.polls += 0 if message.initial else 1
        self._render_head()
        self._show_detail()

    def _render_head(self) -> None:
        table = self.query_one(EventTable)
        # short words: at 80 columns the filter and highlight texts must still show
        received = len(table.events)
        count = f"{received}" if table.row_count == received else f"{table.row_count}/{received}"
        parts = [f"Events · {count}"]
        if table.filter:
            parts.append(f"filter '{table.filter.text}'")
        if table.highlight:
            parts.append(f"highlight '{table.highlight.text}'")
        self.query_one("#tail-title", Static).update(Text(" · ".join(parts)))
        empty = self.query_one("#tail-empty", Static)
        empty.display = table.row_count == 0
        if not table.events:
            since = self.iapp.clock.now() - _DEFAULT_WINDOW
            hours = int(_DEFAULT_WINDOW.total_seconds() // 3600)
            empty.update(
                f"no events since {since.strftime('%m-%d %H:%M')} UTC (the last {hours}h); "
                "new ones appear here as they arrive"
            )
        elif table.row_count == 0:
            empty.update(
                f"none of the {len(table.events)} events matches the filter '{table.filter.text}' · x clears"
            )
        state = "following" if table.following else "paused (G)"
        self.query_one("#tail-state", Static).update(f"{state} · {hhmm(self.iapp.clock.now())}")

    def _show_detail(self) -> None:
        event = self.query_one(EventTable).selected
        self.query_one("#event-detail", Static).update(event_json(event) if event else "")

    @on(DataTable.RowHighlighted, "#events")
    def _highlighted(self) -> None:
        self._show_detail()
        self._render_head()

    def action_back(self) -> None:
        box = self.query_one("#tail-query", Input)
        if box.display:
            box.display = False
            self.query_one(EventTable).focus()
            return
        self.app.pop_screen()

    def action_query(self, mode: str) -> None:
        self.query_mode = mode
        table = self.query_one(EventTable)
        box = self.query_one("#tail-query", Input)
        current = table.filter if mode == "filter" else table.highlight
        box.placeholder = f"{mode}: type:JOB_FAILED sev:critical p:gold words… (enter applies)"
        box.value = current.text
        box.display = True
        box.focus()

    @on(Input.Submitted, "#tail-query")
    def _query_done(self, event: Input.Submitted) -> None:
        table = self.query_one(EventTable)
        if self.query_mode == "filter":
            table.filter = EventQuery(event.value.strip())
        else:
            table.highlight = EventQuery(event.value.strip())
        table.rebuild()
        event.input.display = False
        table.focus()
        self._render_head()

    def action_clear(self) -> None:
        table = self.query_one(EventTable)
        table.filter = EventQuery()
        table.highlight = EventQuery()
        table.rebuild()
        self._render_head()

    def action_copy_json(self) -> None:
        event = self.query_one(EventTable).selected
        if event is None:
            return
        self.app.copy_to_clipboard(event_json(event))
        self.notify(f"{event.type.value} {event.pipeline_id}", title="copied event JSON")

    def action_copy_command(self) -> None:
        event = self.query_one(EventTable).selected
        if event is None:
            return
        command = rerun_command(event.pipeline_id, event.date, self.api.store.url)
        self.app.copy_to_clipboard(command)
        self.notify(command, title="copied")

    def action_next_match(self, step: int) -> None:
        table = self.query_one(EventTable)
        if not table.highlight:
            self.notify("nothing highlighted: h sets a highlight", severity="warning")
            return
        shown = table.shown
        for offset in range(1, len(shown) + 1):
            row = (table.cursor_row + step * offset) % len(shown)
            if table.highlight.matches(shown[row]):
                table.move_cursor(row=row, animate=False)
                return
        self.notify(f"no event matches '{table.highlight.text}'", severity="warning")

    @on(DataTable.RowSelected, "#events")
    def _selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        event = self.query_one(EventTable).selected
        if event is not None:
            self.iapp.open_pipeline(event.pipeline_id)
