"""Behaviour of the TUI, driven by Textual's pilot over a seeded store and a frozen clock."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from textual.widgets import Static

from interlock.events import Event, EventType
from interlock.records import DRY_RUN_OVERRIDE
from interlock.store.factory import open_store
from tests.tui.conftest import ACTOR, FlakyBackend, settle
from tests.tui.seed import NOW
from tui.messages import BoardLoaded
from tui.screens.ack_modal import AckModal
from tui.screens.board_screen import BoardScreen
from tui.screens.confirm_rerun_modal import ConfirmRerunModal
from tui.screens.dry_run_modal import DryRunModal
from tui.screens.error_modal import ErrorModal
from tui.screens.events_screen import EventsScreen
from tui.screens.help_screen import HelpScreen
from tui.screens.pipeline_detail_screen import PipelineDetailScreen
from tui.screens.text_modal import TextModal
from tui.widgets.event_table import EventTable
from tui.widgets.pipeline_table import PipelineTable
from tui.widgets.vim_table import VimTable

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from textual.message import Message

    from interlock.api import Interlock
    from interlock.ports import VirtualClock
    from tui.app import InterlockApp

SIZE = (80, 24)


def _board(app: InterlockApp) -> BoardScreen:
    screen = app.screen
    assert isinstance(screen, BoardScreen), screen
    return screen


def _ids(app: InterlockApp) -> list[str]:
    table = app.screen.query_one(PipelineTable)
    return [str(key.value) for key in table.rows]


async def test_board_lists_problem_pipelines_first(
    app_factory: Callable[..., InterlockApp],
) -> None:
    seen: list[Message] = []
    app = app_factory()
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await settle(pilot)
        assert _ids(app)[0] == "bronze-cdr-hourly"
        assert set(_ids(app)) >= {"gold-revenue", "silver-orders", "dryrun-weather"}
        assert any(isinstance(m, BoardLoaded) for m in seen)
        assert app.pipeline_ids == sorted(_ids(app))


async def test_vim_keys_filter_and_sort(app_factory: Callable[..., InterlockApp]) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(PipelineTable)
        await pilot.press("j")
        assert table.selected_id == _ids(app)[1]
        await pilot.press("G")
        assert table.selected_id == _ids(app)[-1]
        await pilot.press("g")
        assert table.selected_id == _ids(app)[0]
        await pilot.press("slash", *"gold", "enter")
        assert _ids(app) == ["gold-revenue"]
        await pilot.press("escape")
        assert len(_ids(app)) == 7
        await pilot.press("s")  # by name
        assert _ids(app) == sorted(_ids(app))


async def test_enter_opens_detail_with_rules_runs_and_acks(
    app_factory: Callable[..., InterlockApp],
) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PipelineDetailScreen)
        assert screen.pipeline_id == "gold-revenue"
        rules = screen.query_one("#rules-table", VimTable)
        assert rules.row_count == 3
        marks = [str(rules.get_row_at(i)[0]) for i in range(3)]
        assert marks == ["✓", "✓", "✗"]
        assert screen.query_one("#runs-table", VimTable).row_count == 2
        await pilot.press("2")
        assert screen.query_one("#runs-table", VimTable).has_focus
        await pilot.press("escape")
        assert isinstance(app.screen, BoardScreen)


async def test_rerun_writes_the_request_and_an_audited_event(
    app_factory: Callable[..., InterlockApp], api: Interlock
) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j", "r")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ConfirmRerunModal)
        assert modal.budget.remaining("manual") == 1
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
    request = api.store.control.get_rerun_request("gold-revenue", "cron", "2026-03-02")
    assert request is not None
    assert (request.by, request.reason) == (ACTOR, "manual")
    events = api.store.events.of_type(EventType.RERUN_REQUESTED)
    assert [(e.pipeline_id, e.actor, e.date) for e in events] == [
        ("gold-revenue", ACTOR, "2026-03-02")
    ]


async def test_the_controllers_rejection_is_shown_in_full(
    app_factory: Callable[..., InterlockApp], api: Interlock
) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j", "r")
        await settle(pilot)
        await pilot.press("enter")  # gold-revenue 2026-03-02: requested
        await settle(pilot)
        assert ("gold-revenue", "2026-03-02") in app.awaited
        # GIVEN the controller (another process) rejects it
        why = "rerun rejected for gold-revenue: 2026-03-02 never ran, so there is nothing to rerun"
        api.store.events.append(
            Event.create(
                EventType.RERUN_REJECTED,
                "gold-revenue",
                now=NOW,
                schedule_id="cron",
                date="2026-03-02",
                message=why,
            )
        )
        # WHEN the app looks (its timer; called here), THEN the whole reason, as an error, once
        app.look_for_verdicts()
        await settle(pilot)
        shown = [n for n in app._notifications if n.title.startswith("RERUN_REJECTED")]
        assert [(n.message, n.severity) for n in shown] == [(why, "error")]
        assert app.awaited == {}


async def test_rerun_dialog_says_what_will_happen(app_factory: Callable[..., InterlockApp]) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j", "r")  # gold-revenue: its period never ran
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ConfirmRerunModal)
        warning = str(modal.query_one("#rerun-warning", Static).render())
        assert "will be rejected" in warning and "never ran" in warning
        await pilot.press("escape", "k", "r")  # bronze-cdr-hourly: failed, budget left
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ConfirmRerunModal)
        started = str(modal.query_one("#rerun-warning", Static).render())
        assert started == "will start: (reason: manual) as attempt 2"


async def test_cancelled_rerun_writes_nothing(
    app_factory: Callable[..., InterlockApp], api: Interlock
) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j", "r")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
    assert api.store.control.get_rerun_request("gold-revenue", "cron", "2026-03-02") is None


async def test_ack_with_reason_and_expiry(
    app_factory: Callable[..., InterlockApp], api: Interlock
) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j", "a")
        assert isinstance(app.screen, AckModal)
        await pilot.press(*"known late upstream", "enter")  # reason, then the expiry field
        await pilot.press("backspace", "backspace", *"90m", "enter")
        await settle(pilot)
    ack = api.store.control.get_ack("gold-revenue", "cron", "2026-03-02", now=NOW)
    assert ack is not None
    assert (ack.by, ack.reason, ack.until) == (
        ACTOR,
        "known late upstream",
        NOW + timedelta(minutes=90),
    )
    [event] = api.store.events.of_type(EventType.SLA_ACKNOWLEDGED, since=NOW)
    assert event.actor == ACTOR


async def test_ack_needs_a_reason(app_factory: Callable[..., InterlockApp], api: Interlock) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j", "a", "tab", "enter")
        await settle(pilot)
        assert isinstance(app.screen, AckModal)  # still asking
    assert api.store.control.get_ack("gold-revenue", "cron", "2026-03-02", now=NOW) is None


async def test_dry_run_switch(app_factory: Callable[..., InterlockApp], api: Interlock) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j", "d")
        modal = app.screen
        assert isinstance(modal, DryRunModal)
        assert modal.on is True
        await pilot.press(*"shadow during migration", "enter")
        await settle(pilot)
        status = next(s for s in _board(app).board or [] if s.pipeline_id == "gold-revenue")
        assert status.state == "dry-run"
    override = api.store.control.get_override("gold-revenue", DRY_RUN_OVERRIDE)
    assert override is not None
    assert (override.value, override.by) == (True, ACTOR)
    [event] = api.store.events.of_type(EventType.DRY_RUN_SWITCHED)
    assert event.actor == ACTOR


async def test_read_only_hides_and_refuses_writes(
    app_factory: Callable[..., InterlockApp], api: Interlock
) -> None:
    app = app_factory(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown = {b.binding.action for b in app.active_bindings.values() if b.binding.show}
        assert not shown & {"rerun", "ack", "dry_run"}
        await pilot.press("j", "r", "a", "d")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        notices = [n.message for n in app._notifications]
        assert any("read-only" in m and "rerun" in m for m in notices)
    assert api.store.control.get_rerun_request("gold-revenue", "cron", "2026-03-02") is None
    assert api.store.events.of_type(EventType.RERUN_REQUESTED) == []


async def test_copy_rerun_command(app_factory: Callable[..., InterlockApp], db_url: str) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        assert app.clipboard == (
            "interlock rerun bronze-cdr-hourly --period 2026-03-02T07 --reason manual "
            f"--store {db_url}"
        )


async def test_help_lists_the_keys_of_the_screen(app_factory: Callable[..., InterlockApp]) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        described = {text for _, text in help_screen.keys}
        assert any(t.startswith("Rerun") for t in described)
        assert any(t.startswith("Filter") for t in described)
        assert any(t.startswith("Down") for t in described)  # j
        titles = [title for title, _ in help_screen.sections]
        assert titles[0] == "Board" and "Everywhere" in titles and "Table" in titles
        assert help_screen.syntax is not None and "words that must all appear" in help_screen.syntax
        await pilot.press("escape")
        assert isinstance(app.screen, BoardScreen)


async def test_command_palette_opens_a_pipeline(app_factory: Callable[..., InterlockApp]) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause(0.1)
        await pilot.press(*"open gold")
        await pilot.pause(0.3)  # the palette searches asynchronously
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PipelineDetailScreen)
        assert app.screen.pipeline_id == "gold-revenue"


async def test_tail_picks_up_an_event_written_by_another_process(
    app_factory: Callable[..., InterlockApp], db_url: str, clock: VirtualClock
) -> None:
    app = app_factory(tail_seconds=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, EventsScreen)
        table = screen.query_one(EventTable)
        before = len(table.events)
        # GIVEN another writer on the same SQLite file
        with open_store(db_url, now=lambda: clock.now().timestamp()) as other:
            other.events.append(
                Event.create(
                    EventType.JOB_FAILED,
                    "gold-revenue",
                    now=NOW + timedelta(seconds=1),
                    schedule_id="cron",
                    date="2026-03-02",
                    message="glue job failed: OOM",
                )
            )
        # WHEN the tail's timer polls (no key pressed; up to 10 s, for a loaded 2-core CI machine)
        for _ in range(500):
            if len(table.events) > before:
                break
            await pilot.pause(0.02)
        # THEN the row is there, once, and the cursor follows it
        assert len(table.events) == before + 1
        assert table.selected is not None
        assert table.selected.message == "glue job failed: OOM"
        for _ in range(5):
            await pilot.pause(0.06)
        assert len(table.events) == before + 1


async def test_tail_filter_and_highlight(app_factory: Callable[..., InterlockApp]) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        table = app.screen.query_one(EventTable)
        total = table.row_count
        await pilot.press("slash", *"sev:critical", "enter")
        assert 0 < table.row_count < total
        assert all(e.severity.value == "critical" for e in table.shown)
        await pilot.press("x", "h", *"p:bronze", "enter")
        assert table.row_count == total
        assert table.highlight.text == "p:bronze"
        await pilot.press("k", "y")
        assert app.clipboard.startswith("{")
        assert '"detail-type"' in app.clipboard


async def test_store_outage_is_an_error_line_with_retry_not_a_popup(
    flaky: tuple[Interlock, FlakyBackend], clock: VirtualClock
) -> None:
    from tui.app import make_app

    api, backend = flaky
    backend.broken = True
    app = make_app(api, clock=clock, refresh_seconds=None, tail_seconds=None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # one error state on the board, no dialog (a refresh timer would pop one up every 10 s)
        assert isinstance(app.screen, BoardScreen)
        line = app.screen.query_one("#read-error", Static)
        assert line.display
        assert "unreachable" in str(line.render()) and "R retries" in str(line.render())
        assert not app.ever_read
        await pilot.press("R")  # still down: still one line
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen) and line.display
        # the outage ends; R reads again and the line goes
        backend.broken = False
        await pilot.press("R")
        await settle(pilot)
        assert not line.display
        assert app.ever_read
        assert len(_ids(app)) == 7


def test_the_app_exits_3_when_the_store_was_never_read(
    flaky: tuple[Interlock, FlakyBackend], clock: VirtualClock
) -> None:
    from tui.app import make_app

    api, backend = flaky
    backend.broken = True
    app = make_app(api, clock=clock, refresh_seconds=None, tail_seconds=None)

    async def quit_after_a_look() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("q")

    import asyncio

    asyncio.run(quit_after_a_look())
    assert not app.ever_read
    assert "unreachable" in str(app.last_read_error)


async def test_detail_refreshes_itself_when_the_pipeline_has_news(
    app_factory: Callable[..., InterlockApp], db_url: str, clock: VirtualClock
) -> None:
    app = app_factory(tail_seconds=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PipelineDetailScreen)
        assert "refreshed 08:41:00 UTC" in str(
            screen.query_one("#detail-refreshed", Static).render()
        )
        rules = screen.query_one("#rules-table", VimTable)
        assert [str(rules.get_row_at(i)[0]) for i in range(3)] == ["✓", "✓", "✗"]
        # GIVEN a producer writes the stale sensor from another process, a minute later
        clock.advance(timedelta(minutes=1))
        with open_store(db_url, now=lambda: clock.now().timestamp()) as other:
            other.control.put_sensor(
                "gold-revenue", "freshness", {"updatedAt": "2026-03-02T08:41:30Z"}, now=clock.now()
            )
        # WHEN the detail's timer looks (no key pressed), THEN the rule passes and the mark moves on
        for _ in range(500):
            if str(rules.get_row_at(2)[0]) == "✓":
                break
            await pilot.pause(0.02)
        assert [str(rules.get_row_at(i)[0]) for i in range(3)] == ["✓", "✓", "✓"]
        assert "refreshed 08:42:00 UTC" in str(
            screen.query_one("#detail-refreshed", Static).render()
        )


async def test_v_shows_a_row_in_full(app_factory: Callable[..., InterlockApp]) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j", "enter")
        await settle(pilot)
        await pilot.press("3", "v")
        modal = app.screen
        assert isinstance(modal, TextModal)
        assert "MESSAGE: " in modal.text and "TYPE: " in modal.text
        await pilot.press("escape")
        assert isinstance(app.screen, PipelineDetailScreen)
        await pilot.press("enter")  # enter on a row does the same
        assert isinstance(app.screen, TextModal)
        await pilot.press("escape")
        assert isinstance(app.screen, PipelineDetailScreen)


async def test_enter_on_an_event_opens_its_pipeline_and_n_jumps_between_matches(
    app_factory: Callable[..., InterlockApp],
) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        table = app.screen.query_one(EventTable)
        await pilot.press("h", *"p:bronze", "enter", "g", "n")
        assert table.selected is not None and table.selected.pipeline_id == "bronze-cdr-hourly"
        first = table.cursor_row
        await pilot.press("n")
        assert table.cursor_row != first and table.selected.pipeline_id == "bronze-cdr-hourly"
        await pilot.press("N")
        assert table.cursor_row == first
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PipelineDetailScreen)
        assert app.screen.pipeline_id == "bronze-cdr-hourly"


async def test_an_empty_tail_says_which_window_it_shows(
    tmp_path: Path, clock: VirtualClock
) -> None:
    from interlock.api import Interlock
    from tui.app import make_app

    with Interlock(open_store(f"sqlite:///{tmp_path}/empty.db"), clock=clock) as api:
        app = make_app(api, clock=clock, refresh_seconds=None, tail_seconds=None)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("e")
            await settle(pilot)
            empty = app.screen.query_one("#tail-empty", Static)
            assert empty.display
            assert "no events since 03-01 08:41 UTC (the last 24h)" in str(empty.render())


async def test_refused_write_shows_an_error(
    flaky: tuple[Interlock, FlakyBackend], clock: VirtualClock
) -> None:
    from tui.app import make_app

    api, backend = flaky
    app = make_app(api, clock=clock, refresh_seconds=None, tail_seconds=None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j", "r")
        await settle(pilot)
        backend.broken = True
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ErrorModal)
        assert app.is_running


async def test_detail_says_why_a_period_is_not_judged(
    app_factory: Callable[..., InterlockApp], api: Interlock
) -> None:
    from interlock.config.models import PipelineConfig

    # GIVEN a daily pipeline (cron 06:00, SLA 08:00) first pushed at 08:41, after today's deadline
    late = PipelineConfig.model_validate(
        {
            "pipeline": {"id": "late-joiner"},
            "schedule": {"cron": "0 6 * * *"},
            "sla": {"deadline": "08:00"},
            "job": {"type": "command", "config": {"command": "true"}},
        }
    )
    api.store.control.put_config(late, now=NOW)
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_pipeline("late-joiner")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PipelineDetailScreen)
        summary = str(screen.query_one("#detail-summary", Static).render())
        # THEN the detail says it is not watched, and why, as `interlock explain` does
        assert "not watched" in summary
        assert "fell before Interlock watched the pipeline" in summary


def loads(seen: list[Message]) -> int:
    """How many boards were loaded (the hook sees a message once per node it bubbles through)."""
    return len({id(m) for m in seen if isinstance(m, BoardLoaded)})


async def test_a_covered_board_reads_the_store_only_once_it_is_back(
    app_factory: Callable[..., InterlockApp],
) -> None:
    # Textual keeps a covered screen's timers running: the board must not read every pipeline every
    # refresh while the events screen (or any other) is on top of it.
    seen: list[Message] = []
    app = app_factory()
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await settle(pilot)
        board = _board(app)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, EventsScreen)
        loaded = loads(seen)
        board.reload()  # what its refresh timer does
        board.reload()
        await settle(pilot)
        assert loads(seen) == loaded
        await pilot.press("escape")
        await settle(pilot)
        assert _board(app) is board
        assert loads(seen) == loaded + 1


async def test_a_full_event_table_is_cut_back_with_room_to_spare(
    app_factory: Callable[..., InterlockApp],
) -> None:
    from tui.widgets.event_table import MAX_ROWS, TRIM_TO

    app = app_factory(tail_seconds=None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        table = app.screen.query_one(EventTable)
        table.events.clear()
        table.rebuild()

        def events(n: int, start: int) -> list[Event]:
            return [
                Event.create(
                    EventType.JOB_COMPLETED,
                    f"p-{i}",
                    now=NOW + timedelta(milliseconds=i),
                    message=f"done {i}",
                )
                for i in range(start, start + n)
            ]

        table.add_events(events(MAX_ROWS, 0))
        assert table.row_count == MAX_ROWS
        table.add_events(events(1, MAX_ROWS))  # one too many: cut back to TRIM_TO, newest kept
        assert table.row_count == len(table.events) == TRIM_TO
        assert table.events[-1].message == f"done {MAX_ROWS}"
        rebuilds = 0
        real = table.rebuild

        def counted() -> None:
            nonlocal rebuilds
            rebuilds += 1
            real()

        table.rebuild = counted  # type: ignore[method-assign]
        table.add_events(events(MAX_ROWS - TRIM_TO, MAX_ROWS + 1))  # fills up again: no relayout
        assert rebuilds == 0
        assert table.row_count == MAX_ROWS
        assert (
            table.selected is not None
            and table.selected.message == f"done {2 * MAX_ROWS - TRIM_TO}"
        )
