"""The pipeline board (DESIGN §6): one row per pipeline, problem pipelines first, refreshed periodically."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Input, Static

from interlock.api import budget_text
from tui.formatting import hhmm, shorten_left
from tui.messages import BoardLoaded
from tui.screens.interlock_screen import PipelineActionsScreen
from tui.widgets.pipeline_table import SORTS, PipelineTable, matches

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from interlock.api import Board, PipelineStatus


class BoardScreen(PipelineActionsScreen):
    """Every pipeline at a glance; ``enter`` opens one, ``/`` filters, ``s`` changes the order."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", tooltip="Filter rows by words (id, state, owner…)"),
        Binding(
            "s", "sort", "Sort", show=False, tooltip="Cycle the order: problems, name, state, SLA"
        ),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("R", "reload", "Refresh", show=False, tooltip="Read the store again now"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.board: Board | None = None
        self.filter_text = ""
        self.sort = "problems"
        self._stale = False

    def compose(self) -> ComposeResult:
        with Horizontal(classes="head"):
            yield Static("Interlock · loading…", id="board-title", classes="head-left")
            yield Static("", id="board-clock", classes="head-right")
        yield Input(
            placeholder="filter: words that must all appear (esc to close)", id="board-filter"
        )
        yield Static("", id="read-error", classes="error-line", markup=False)
        yield PipelineTable(id="board")
        yield Static("", id="board-selection", classes="status-line")
        yield Footer(compact=True)  # at 80 columns every shown key fits

    def on_mount(self) -> None:
        self.query_one("#board-filter", Input).display = False
        self.query_one("#read-error").display = False
        self.query_one(PipelineTable).focus()
        self.reload()
        if self.iapp.refresh_seconds:
            self.set_interval(self.iapp.refresh_seconds, self.reload)

    def reload(self) -> None:
        """Read the board again; while another screen covers this one, only once it is back.

        Textual keeps a covered screen's timers running: under the events screen the board read all
        1,000 pipelines of the soak every 10 s for nobody, beside the tail.
        """
        if self.board is not None and self.app.screen is not self:
            self._stale = True
            return
        self._load()

    def on_screen_resume(self) -> None:
        if self._stale:
            self._stale = False
            self._load()

    def action_reload(self) -> None:
        self.reload()

    @work(thread=True, exclusive=True, exit_on_error=False, group="read the board")
    def _load(self) -> None:
        self.post_message(BoardLoaded(self.api.board()))

    @on(BoardLoaded)
    def _loaded(self, message: BoardLoaded) -> None:
        self.board = message.board
        self.read_ok()
        self.iapp.pipeline_ids = sorted(s.pipeline_id for s in message.board)
        self._refresh_view()

    def rows(self) -> list[PipelineStatus]:
        """The rows shown: filtered, in the chosen order."""
        if self.board is None:
            return []
        shown = [s for s in self.board if matches(s, self.filter_text)]
        return sorted(shown, key=SORTS[self.sort])

    def _refresh_view(self) -> None:
        table = self.query_one(PipelineTable)
        rows = self.rows()
        table.show(rows)
        board: list[PipelineStatus] = list(self.board or [])
        problems = sum(1 for s in board if s.problem)
        parts = ["Interlock", f"{len(board)} pipelines"]
        noun = "problem" if problems == 1 else "problems"
        parts.append(f"[b red]{problems} {noun}[/]" if problems else "no problems")
        if self.filter_text:
            parts.append(f"filter '{escape(self.filter_text)}': {len(rows)} shown")
        if self.sort != "problems":
            parts.append(f"by {self.sort}")
        if self.iapp.read_only:
            parts.append("[b]read-only[/]")
        self._set_title(parts)
        self.query_one("#board-clock", Static).update(f"{hhmm(self.iapp.clock.now())} UTC")
        self._show_selection()

    def _set_title(self, parts: list[str]) -> None:
        # The store goes last, shortened from the left to the room left: on a narrow terminal the
        # path is what gets cut (to its tail, the file name), never the problem count.
        head = " · ".join(parts)
        room = self.app.size.width - len(Text.from_markup(head).plain) - 20  # clock, padding, " · "
        if room >= 12:  # less would be an ellipsis of an ellipsis: the store waits for the room
            head = f"{head} · {escape(_shorten(self.iapp.store_label, room))}"
        self.query_one("#board-title", Static).update(head)

    def read_failed(self, error: BaseException) -> None:
        super().read_failed(error)
        if self.board is None:
            self._set_title(["Interlock", "[b red]store not read[/]"])

    def current_status(self) -> PipelineStatus | None:
        pid = self.query_one(PipelineTable).selected_id
        if pid is None or self.board is None:
            return None
        return next((s for s in self.board if s.pipeline_id == pid), None)

    def _show_selection(self) -> None:
        s = self.current_status()
        line = self.query_one("#board-selection", Static)
        if s is None:
            line.update("no pipeline matches" if self.board is not None else "")
            return
        parts = [f"[b]{s.pipeline_id}[/]", s.period or "no period"]
        if s.budget is not None:
            parts.append(f"reruns left {budget_text(s.budget)}")
        if s.ack is not None:
            until = f" until {hhmm(s.ack.until)}" if s.ack.until else ""
            parts.append(f"acked by {s.ack.by}{until}: {s.ack.reason}")
        if s.note:
            parts.append(s.note)
        line.update(" · ".join(parts))

    @on(DataTable.RowHighlighted, "#board")
    def _highlighted(self) -> None:
        self._show_selection()

    @on(DataTable.RowSelected, "#board")
    def _selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.iapp.open_pipeline(event.row_key.value)

    def action_filter(self) -> None:
        box = self.query_one("#board-filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#board-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self._refresh_view()

    @on(Input.Submitted, "#board-filter")
    def _filter_done(self) -> None:
        self._close_filter()

    def _close_filter(self) -> None:
        box = self.query_one("#board-filter", Input)
        box.display = bool(self.filter_text)
        self.query_one(PipelineTable).focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#board-filter", Input)
        if box.has_focus and self.filter_text:
            self._close_filter()
            return
        box.value = ""
        self.filter_text = ""
        box.display = False
        self.query_one(PipelineTable).focus()
        self._refresh_view()

    def action_sort(self) -> None:
        names = list(SORTS)
        self.sort = names[(names.index(self.sort) + 1) % len(names)]
        self._refresh_view()


def _shorten(label: str, width: int) -> str:
    """A path keeps its end (the file), a URL its start (``dynamodb://<environment>``)."""
    if label.startswith("/") or len(label) <= width:
        return shorten_left(label, width)
    return label[: width - 1] + "…"
