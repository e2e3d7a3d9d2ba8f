"""Column fitting: natural widths when they fit; otherwise the lowest ``shrink`` gives width back first."""

from __future__ import annotations

from rich.text import Text

from tui.widgets.vim_table import Column, cut, fit_widths

COLUMNS = (
    Column("ID", "id", min=6, shrink=2),
    Column("STATE", "state", min=5, shrink=9),
    Column("MESSAGE", "message", min=8, shrink=1),
)
ROWS = [["gold-revenue", "evaluating", "x" * 60], ["bronze", "failed", "short"]]


def test_natural_widths_when_they_fit() -> None:
    assert fit_widths(COLUMNS, ROWS, room=200) == [12, 10, 60]


def test_the_message_gives_way_first_then_the_id() -> None:
    assert fit_widths(COLUMNS, ROWS, room=40) == [12, 10, 18]
    assert fit_widths(COLUMNS, ROWS, room=28) == [10, 10, 8]
    # never below the minimums: the table then scrolls sideways
    assert fit_widths(COLUMNS, ROWS, room=5) == [6, 5, 8]


def test_max_caps_a_column_but_never_below_its_label() -> None:
    capped = (Column("PIPELINE", "p", max=4), Column("X", "x"))
    assert fit_widths(capped, [["a-very-long-name", "1"]], room=100) == [8, 1]


def test_cut_keeps_style_and_marks_the_cut() -> None:
    cell = cut(Text("JOB_FAILED for gold", style="red"), 10)
    assert cell.plain == "JOB_FAILE…"
    assert cell.style == "red"
    assert cut("short", 10).plain == "short"


def test_a_cut_on_a_word_boundary_has_no_mark() -> None:
    assert cut("08:12 JOB_FAILED", 5, words=True).plain == "08:12"
    assert cut("08:12 JOB_FAILED", 7, words=True).plain == "08:12"
    assert cut("08:12 JOB_FAILED", 9, words=True).plain == "08:12 JO…"
    assert cut("08:12 JOB_FAILED", 5).plain == "08:1…"  # a message keeps its mark


def test_the_header_keeps_a_paths_end_and_a_urls_start() -> None:
    from tui.screens.board_screen import _shorten

    assert _shorten("/work/checkout/.interlock/demo.db", 20) == "…/.interlock/demo.db"
    assert _shorten("dynamodb://prod?region=eu-west-1", 16) == "dynamodb://prod…"
