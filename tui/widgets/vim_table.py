"""A row-cursor DataTable that also moves with vim keys (j/k/g/G) and fits its columns to its width.

Column fitting (:meth:`VimTable.fill`): every column asks for its natural width (its widest cell or
label, up to ``max``); when they do not all fit, the columns give width back in ``shrink`` order, down to
their ``min``, and the cells cut with ``…``. The rows are kept, so a resize fits them again. At 80
columns the long texts (messages, reasons, last events) are cut first; ids and states keep their room.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.widgets import DataTable

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from textual import events


@dataclass(frozen=True, slots=True)
class Column:
    """One fitted column.

    Attributes:
        label: the header.
        key: the column key.
        min: the narrowest it may be cut to.
        max: the widest it grows to (``None``: its widest cell).
        shrink: the order in which columns give width back (lower first; equal ones share).
        words: a cut at a word's end drops the ``…`` (for cells whose first word stands alone).
    """

    label: str
    key: str
    min: int = 4
    max: int | None = None
    shrink: int = 9
    words: bool = False


Cell = str | Text
Row = tuple[str | None, "Sequence[Cell]"]


def fit_widths(columns: Sequence[Column], rows: Sequence[Sequence[Cell]], room: int) -> list[int]:
    """The width of each column so that all fit in ``room`` cells (content only, no padding).

    Natural widths first; while too wide, the lowest ``shrink`` group gives width back (evenly, one
    cell at a time) down to its columns' ``min``, then the next group.
    """
    widths = []
    for index, column in enumerate(columns):
        widest = max(
            (cell_len(c) if isinstance(c, str) else c.cell_len for c in _col(rows, index)),
            default=0,
        )
        natural = max(len(column.label), widest)
        widths.append(
            natural if column.max is None else min(natural, max(column.max, len(column.label)))
        )
    over = sum(widths) - room
    for level in sorted({c.shrink for c in columns}):
        group = [i for i, c in enumerate(columns) if c.shrink == level]
        while over > 0:
            cut = [i for i in group if widths[i] > columns[i].min]
            if not cut:
                break
            for i in cut:
                if over <= 0:
                    break
                widths[i] -= 1
                over -= 1
        if over <= 0:
            break
    return widths


def _col(rows: Sequence[Sequence[Cell]], index: int) -> list[Cell]:
    return [row[index] for row in rows if index < len(row)]


def cut(cell: Cell, width: int, *, words: bool = False) -> Text:
    """A cell as Text, cut to ``width`` with ``…`` (styles kept).

    With ``words``, a cut that would leave less than two letters of a word ends at the word before,
    with no mark: the board's ``08:12 JOB_FAILED`` in five to seven cells is ``08:12``.
    """
    if isinstance(cell, str):
        text = Text(cell)
    elif cell.cell_len <= width:
        return cell  # fits: shown as it is (Text cells are never changed after they are made)
    else:
        text = cell.copy()
    if text.cell_len <= width:
        return text
    if words:
        space = text.plain.rfind(" ", 0, width + 1)
        # too little of the next word would show ("08:12 J…"): end at the previous word instead
        if space > 0 and width - space < 3:
            text.truncate(space, overflow="crop")
            return text
    text.truncate(width, overflow="ellipsis")
    return text


class VimTable(DataTable[Any]):
    """A DataTable with a row cursor and vim keys beside the arrows, Home/End and PgUp/PgDn."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, tooltip="Next row"),
        Binding("k", "cursor_up", "Up", show=False, tooltip="Previous row"),
        Binding("g", "scroll_top", "First row", show=False),
        Binding("G", "scroll_bottom", "Last row", show=False),
    ]

    DEFAULT_CSS = """
    VimTable {
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False)
        self.fitted: list[Column] = []
        self.fitted_rows: list[Row] = []
        self.widths: list[int] = []

    def room(self) -> int:
        """Cells available for column content: the table's width less padding and a scrollbar."""
        width = self.size.width or self.app.size.width
        height = self.size.height or self.app.size.height
        # a vertical scrollbar takes its columns only when the rows overflow
        scrollbar = 2 if len(self.fitted_rows) >= height - 1 else 0
        return max(width - 2 * self.cell_padding * max(len(self.fitted), 1) - scrollbar, 10)

    def fill(self, columns: Sequence[Column], rows: Sequence[Row]) -> None:
        """Replace columns and rows, fitted to the table's width (the cursor stays on its row)."""
        self.fitted = list(columns)
        self.fitted_rows = list(rows)
        self.refit()

    def refit(self) -> None:
        """Lay the kept rows out again for the current width."""
        if not self.fitted:
            return
        cursor = self.cursor_row
        widths = fit_widths(self.fitted, [cells for _, cells in self.fitted_rows], self.room())
        self.widths = widths
        self.clear(columns=True)
        for column, width in zip(self.fitted, widths, strict=True):
            self.add_column(column.label, key=column.key, width=width)
        for key, cells in self.fitted_rows:
            self.add_row(*self.cut_row(cells, widths), key=key)
        if self.row_count:
            self.move_cursor(row=min(max(cursor, 0), self.row_count - 1), animate=False)

    def _update_dimensions(self, new_rows: Iterable[Any]) -> None:
        """Textual measures every cell of every new row to widen auto-width columns (7,000 measures,
        a fifth of a 1,000-row board's first paint). Our columns have fixed widths (``fit_widths``)
        and our rows one line and no label, so only the virtual size needs setting; anything else
        goes to Textual's own method."""
        keys = list(new_rows)
        rows = [self.rows.get(key) for key in keys]
        if any(c.auto_width for c in self.columns.values()) or any(
            r is not None and (r.auto_height or r.label is not None) for r in rows
        ):
            super()._update_dimensions(keys)
            return
        width = sum(c.get_render_width(self) for c in self.columns.values())
        header = self.header_height if self.show_header else 0
        self.virtual_size = Size(
            width + self._row_label_column_width, self._total_row_height + header
        )

    def cut_row(self, cells: Sequence[Cell], widths: Sequence[int]) -> list[Text]:
        """One row's cells cut to the column widths."""
        return [
            cut(c, w, words=col.words)
            for c, w, col in zip(cells, widths, self.fitted, strict=False)
        ]

    def on_resize(self, event: events.Resize) -> None:
        if self.fitted and self.widths != fit_widths(
            self.fitted, [cells for _, cells in self.fitted_rows], self.room()
        ):
            self.refit()
