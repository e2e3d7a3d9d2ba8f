"""The board's table: one row per pipeline, problem pipelines first (or sorted by a column)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Final

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets.data_table import CellDoesNotExist

from tui.formatting import budget_short, last_event_text, short_period, sla_text, state_text
from tui.widgets.vim_table import Column, VimTable

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from interlock.api import PipelineStatus

_COLUMNS: Final = (
    Column("PIPELINE", "pipeline", min=14, max=28, shrink=2),
    Column("PERIOD", "period", min=8, shrink=5),
    Column("STATE", "state", min=10, shrink=4),
    Column("RULES", "rules", min=5, shrink=6),
    Column("SLA", "sla", min=16, max=24, shrink=3),  # the verdict is never cut at 80 columns
    Column(
        "LAST", "last", min=5, max=30, shrink=1, words=True
    ),  # "08:12 JOB_FAILED": the type goes first
    Column("RERUNS", "budget", min=6, shrink=6),
)
SORTS: Final[dict[str, Callable[[PipelineStatus], tuple[object, ...]]]] = {
    "problems": lambda s: (s.rank, s.pipeline_id),
    "pipeline": lambda s: (s.pipeline_id,),
    "state": lambda s: (s.state, s.pipeline_id),
    "sla": lambda s: (s.sla.breach_at is None, s.sla.breach_at or s.at, s.pipeline_id),
}
"""Board orders, cycled with ``s``: problems first (default), by name, by state, by SLA breach time."""


def matches(status: PipelineStatus, text: str) -> bool:
    """Whether every word of ``text`` occurs in the row (id, period, state, owner, SLA, last event)."""
    hay = " ".join(
        [
            status.pipeline_id,
            status.period or "",
            status.state,
            status.owner or "",
            status.sla.text,
            status.last_event.type.value if status.last_event else "",
            "problem" if status.problem else "",
        ]
    ).lower()
    return all(word in hay for word in text.lower().split())


class PipelineTable(VimTable):
    """Pipelines as rows, keyed by pipeline id (the cursor stays on its pipeline across refreshes)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Detail", tooltip="Open the pipeline's detail"),
    ]

    def on_mount(self) -> None:
        self.fill(_COLUMNS, [])

    def show(self, rows: Sequence[PipelineStatus]) -> None:
        """Replace the rows, keeping the cursor on the same pipeline when it is still shown."""
        current = self.selected_id
        with self.app.batch_update():  # one repaint for the whole refill
            self.fill(_COLUMNS, [(s.pipeline_id, _cells(s)) for s in rows])
        if current is not None and current in self.rows:
            self.move_cursor(row=self.get_row_index(current))

    @property
    def selected_id(self) -> str | None:
        """The pipeline under the cursor."""
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except CellDoesNotExist:  # the table is being refilled
            return None
        return key.value


def _cells(s: PipelineStatus) -> list[str | Text]:
    return [
        Text(s.pipeline_id, style="bold" if s.problem else ""),
        short_period(s.period),
        state_text(s),
        s.rules_text,
        sla_text(s.sla, acked=s.ack is not None),
        last_event_text(s.last_event),
        budget_short(s.budget),
    ]
