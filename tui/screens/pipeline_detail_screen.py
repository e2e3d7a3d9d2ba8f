"""One pipeline: why (not) ready (sensors against rules), runs, reruns and budgets, SLA, acks, events."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, ClassVar, Final

from rich.text import Text
from textual import on, work
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Static, TabbedContent, TabPane

from tui.formatting import (
    SEVERITY_STYLES,
    ago,
    budget_long,
    hhmm,
    hhmmss,
    short_reason,
    show_value,
    sla_text,
    state_text,
)
from tui.messages import DetailLoaded
from tui.screens.interlock_screen import PipelineActionsScreen
from tui.screens.text_modal import TextModal
from tui.widgets.vim_table import Cell, Column, Row, VimTable

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from interlock.api import Interlock, PipelineStatus

_TABS = ("rules", "runs", "events", "sensors")
_COLUMNS: Final = {
    "rules": (
        Column("", "mark", min=1, shrink=9),
        Column("RULE", "rule", min=20, max=40, shrink=3),
        Column("VALUE", "value", min=8, max=20, shrink=1),  # the full value is in v and explain
        Column("AGE", "age", min=5, shrink=9),
        Column("RESULT", "result", min=16, shrink=2),
    ),
    "runs": (
        Column("PERIOD", "period", min=10, shrink=5),
        Column("STATUS", "status", min=9, shrink=4),
        Column("STARTED", "started", min=11, shrink=6),
        Column("TOOK", "took", min=4, shrink=9),
        Column("OUTCOME", "outcome", min=10, max=40, shrink=2),
        Column("RERUNS", "reruns", min=6, shrink=1),
    ),
    "events": (
        Column("TIME", "time", min=11, shrink=9),
        Column("TYPE", "type", min=12, max=26, shrink=2),
        Column("ACTOR", "actor", min=5, max=20, shrink=3),
        Column("MESSAGE", "message", min=10, shrink=1),
    ),
    "sensors": (
        Column("KEY", "key", min=10, max=32, shrink=2),
        Column("AGE", "age", min=5, shrink=9),
        Column("FIELDS", "fields", min=10, shrink=1),
    ),
}


class PipelineDetailScreen(PipelineActionsScreen):
    """The detail of one pipeline, read in one worker and refreshed after every action.

    Args:
        pipeline_id: the pipeline to show.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("backspace", "back", "Back", show=False),
        Binding("1", "tab('rules')", "Rules", show=False, tooltip="Rules against sensors"),
        Binding("2", "tab('runs')", "Runs", show=False, tooltip="Run history and reruns"),
        Binding("3", "tab('events')", "Events", show=False, tooltip="The pipeline's events"),
        Binding("4", "tab('sensors')", "Sensors", show=False, tooltip="Every sensor as stored"),
        Binding("R", "reload", "Refresh", show=False, tooltip="Read the store again now"),
        Binding(
            "v", "view_row", "View row", tooltip="The selected row in full (enter does the same)"
        ),
    ]

    def __init__(self, pipeline_id: str) -> None:
        super().__init__()
        self.pipeline_id = pipeline_id
        self.status: PipelineStatus | None = None
        self.seen: tuple[object, ...] | None = None
        self.rows: dict[str, list[list[str]]] = {}

    def compose(self) -> ComposeResult:
        with Horizontal(classes="head"):
            yield Static(f"{self.pipeline_id} · loading…", id="detail-title", classes="head-left")
            yield Static("", id="detail-refreshed", classes="head-right")
        yield Static("", id="read-error", classes="error-line", markup=False)
        yield Static("", id="detail-summary")
        with TabbedContent(initial="rules", id="detail-tabs"):
            with TabPane("1 Rules", id="rules"):
                yield VimTable(id="rules-table")
            with TabPane("2 Runs", id="runs"):
                yield VimTable(id="runs-table")
            with TabPane("3 Events", id="events"):
                yield VimTable(id="events-table")
            with TabPane("4 Sensors", id="sensors"):
                yield VimTable(id="sensors-table")
        yield Footer(compact=True)  # at 80 columns every shown key fits

    def on_mount(self) -> None:
        for name, columns in _COLUMNS.items():
            self.query_one(f"#{name}-table", VimTable).fill(columns, [])
        self.query_one("#rules-table", VimTable).focus()
        self.query_one("#read-error").display = False
        self.reload()
        # Live like the board and the tail: a cheap look for new events or sensor writes of this
        # pipeline every tail interval (reads the whole detail only when one came), and a full read
        # every board interval for what moves with the clock alone (SLA clocks, ages).
        if self.iapp.tail_seconds:
            self.set_interval(self.iapp.tail_seconds, self._look)
        if self.iapp.refresh_seconds:
            self.set_interval(self.iapp.refresh_seconds, self.reload)

    def reload(self) -> None:
        self._load()

    def action_reload(self) -> None:
        self.reload()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self.query_one(f"#{tab}-table", VimTable).focus()

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        pane = event.pane.id
        if pane in _TABS:
            self.query_one(f"#{pane}-table", VimTable).focus()

    def current_status(self) -> PipelineStatus | None:
        return self.status

    @work(thread=True, exclusive=True, exit_on_error=False, group="read the pipeline")
    def _load(self) -> None:
        api, pid = self.api, self.pipeline_id
        status = api.status(pid)
        self.post_message(
            DetailLoaded(
                status=status,
                explanation=api.explain(pid),
                runs=api.runs(pid),
                events=api.events(pid, limit=100),
                sensors=api.sensors(pid),
            )
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="read the pipeline's news")
    def _look(self) -> None:
        mark = _news_mark(self.api, self.pipeline_id)
        if self.seen is not None and mark != self.seen:
            self.app.call_from_thread(self.reload)

    @on(DetailLoaded)
    def _loaded(self, message: DetailLoaded) -> None:
        self.read_ok()
        self.seen = _mark_of(message)
        self.query_one("#detail-refreshed", Static).update(
            f"refreshed {hhmmss(self.iapp.clock.now())} UTC"
        )
        s = self.status = message.status
        title = Text.assemble(
            (s.pipeline_id, "bold"),
            f" · {s.period or 'no period'} · ",
            state_text(s),
            f" · rules {s.rules_text}",
        )
        self.query_one("#detail-title", Static).update(title)
        self.query_one("#detail-summary", Static).update(self._summary(message))
        self._fill(message)

    def _summary(self, message: DetailLoaded) -> Text:
        s = message.status
        text = Text()
        # owner and start live here, not in the title: at 80 columns the title has room for the state
        if s.run is not None and s.run.started_at is not None:
            text.append(f"RUN  started {hhmm(s.run.started_at)}")
            text.append(f" · owner {s.owner}\n" if s.owner else "\n")
        elif s.owner:
            text.append(f"OWNER  {s.owner}\n")
        text.append("SLA  ")
        sla = s.sla
        if sla.status == "none":
            text.append("none", style="dim")
        else:
            if sla.warning_at is not None:
                text.append(f"warning {hhmm(sla.warning_at)} · ")
            if sla.breach_at is not None:
                text.append(f"breach {hhmm(sla.breach_at)} (UTC) · ")
            text.append_text(sla_text(sla, acked=s.ack is not None))
            if sla.status == "unwatched":  # say why it is not judged, as explain does
                text.append(f"\n     {sla.reason}", style="dim")
        text.append("\nRERUNS  ")
        text.append(budget_long(s.budget) if s.budget is not None else "—")
        used = [f"#{r.attempt} {r.reason}" for run in message.runs[:1] for r in run.reruns]
        if used and message.runs[0].period == s.period:
            text.append(f" (used: {', '.join(used)})", style="dim")
        text.append("\nACK  ")
        if s.ack is None:
            text.append("none", style="dim")
        else:
            until = f" until {hhmm(s.ack.until)}" if s.ack.until else " for the rest of the run"
            text.append(f"{s.ack.by}, {ago(s.at - s.ack.at)} ago{until}: {s.ack.reason}")
        if s.dry_run:
            text.append("\nDRY RUN: Interlock only reports what it would do", style="magenta")
        if s.note:
            text.append(f"\n{s.note}", style="yellow")
        return text

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_view_row()

    def action_view_row(self) -> None:
        tab = self.query_one(TabbedContent).active
        table = self.query_one(f"#{tab}-table", VimTable)
        rows = self.rows.get(tab, [])
        if not 0 <= table.cursor_row < len(rows):
            return
        labels = [str(c.label) for c in table.columns.values()]
        lines = [
            f"{label or '·'}: {value}"
            for label, value in zip(labels, rows[table.cursor_row], strict=False)
        ]
        self.app.push_screen(
            TextModal(f"{self.pipeline_id} · {tab} · row {table.cursor_row + 1}", "\n".join(lines))
        )

    def _fill(self, message: DetailLoaded) -> None:
        for name in _TABS:
            table = self.query_one(f"#{name}-table", VimTable)
            cursor = table.cursor_row
            self._fill_one(name, message)
            if table.row_count:  # a refresh keeps the cursor where the reader left it
                table.move_cursor(row=min(cursor, table.row_count - 1), animate=False)
        self.rows = {
            name: _plain_rows(self.query_one(f"#{name}-table", VimTable)) for name in _TABS
        }

    def _fill_one(self, name: str, message: DetailLoaded) -> None:
        getattr(self, f"_fill_{name}")(message)

    def _fill_rules(self, message: DetailLoaded) -> None:
        rows: list[Row] = []
        for r in message.explanation.rules:
            mark = Text("✓", style="green") if r.passed else Text("✗", style="bold red")
            value = "—" if r.value is None else show_value(r.value, width=200)
            why = short_reason(r.rule, r.sensor, r.reason)
            reason = Text(why, style="dim" if r.passed else "red")
            rows.append((None, [mark, r.rule, value, ago(r.age), reason]))
        if not message.explanation.rules:
            rows.append((None, ["", "no readiness rules: the trigger alone decides", "", "", ""]))
        self.query_one("#rules-table", VimTable).fill(_COLUMNS["rules"], rows)

    def _fill_runs(self, message: DetailLoaded) -> None:
        rows: list[Row] = []
        for run in message.runs:
            style = {"COMPLETED": "green", "FAILED_FINAL": "red"}.get(run.status, "cyan")
            reruns = ", ".join(f"#{r.attempt} {r.reason}" for r in run.reruns)
            started = run.started_at.strftime("%m-%d %H:%M") if run.started_at else "—"
            cells: list[Cell] = [
                run.period,
                Text(run.status, style=style),
                started,
                ago(run.duration),
                run.outcome,
                reruns,
            ]
            rows.append((None, cells))
        self.query_one("#runs-table", VimTable).fill(_COLUMNS["runs"], rows)

    def _fill_events(self, message: DetailLoaded) -> None:
        rows: list[Row] = []
        for e in message.events:
            style = SEVERITY_STYLES.get(e.severity.value, "")
            cells: list[Cell] = [
                e.timestamp.strftime("%m-%d %H:%M"),
                Text(e.type.value, style=style),
                e.actor or "",
                e.message.replace("\n", " "),
            ]
            rows.append((None, cells))
        self.query_one("#events-table", VimTable).fill(_COLUMNS["events"], rows)

    def _fill_sensors(self, message: DetailLoaded) -> None:
        rows: list[Row] = [
            (
                None,
                [
                    sensor.key,
                    ago(sensor.age),
                    json.dumps(sensor.fields, sort_keys=True, default=str),
                ],
            )
            for sensor in message.sensors
        ]
        self.query_one("#sensors-table", VimTable).fill(_COLUMNS["sensors"], rows)


def _news_mark(api: Interlock, pid: str) -> tuple[object, ...]:
    """What changes when the pipeline has news: its newest event and its newest sensor write."""
    newest = api.events(pid, limit=1)
    sensors = api.sensors(pid)
    written = max((v.updated_at for v in sensors if v.updated_at is not None), default=None)
    return (newest[0].timestamp if newest else None, len(sensors), written)


def _mark_of(message: DetailLoaded) -> tuple[object, ...]:
    newest = message.events[0].timestamp if message.events else None
    written = max((v.updated_at for v in message.sensors if v.updated_at is not None), default=None)
    return (newest, len(message.sensors), written)


def _plain_rows(table: VimTable) -> list[list[str]]:
    """The table's cells as plain text before fitting cut them, row by row (what ``v`` shows)."""
    return [
        [c.plain if isinstance(c, Text) else str(c) for c in cells]
        for _, cells in table.fitted_rows
    ]
