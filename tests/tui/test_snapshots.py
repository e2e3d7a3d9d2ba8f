"""Snapshots of every screen and modal at 80×24, 120×40 and 200×50 (seeded store, frozen clock, no blink).

Update after an intended change with ``pytest tests/tui --snapshot-update`` and review the SVGs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.tui.conftest import FlakyBackend, settle
from tui.app import make_app

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from textual.pilot import Pilot

    from interlock.api import Interlock
    from interlock.ports import VirtualClock
    from tui.app import InterlockApp

SIZES = [
    pytest.param((80, 24), id="80x24"),
    pytest.param((120, 40), id="120x40"),
    pytest.param((200, 50), id="200x50"),
]


def _stable(app: InterlockApp) -> InterlockApp:
    """The header shows the store's absolute path: a fixed one, not pytest's numbered tmp_path."""
    app.store_label = "/srv/interlock/world.db"
    return app


def _keys(*keys: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


SCREENS = {
    "board": (),
    "board_filtered": ("slash", "g", "o", "l", "d"),
    "detail_rules": ("j", "enter"),
    "detail_runs": ("enter", "2"),
    "events": ("e",),
    "events_filtered": ("e", "slash", *"sev:critical", "enter", "h", *"p:bronze", "enter", "k"),
    "help": ("question_mark",),
    "events_help": ("e", "question_mark"),
    "detail_row_in_full": ("j", "enter", "3", "v"),
    "rerun_modal": ("j", "r"),
    "ack_modal": ("a",),
    "dry_run_modal": ("j", "d"),
    "palette": ("colon", *"rerun"),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", list(SCREENS))
def test_screen(
    snap_compare: Any,
    app_factory: Callable[..., InterlockApp],
    name: str,
    size: tuple[int, int],
) -> None:
    assert snap_compare(
        _stable(app_factory()), run_before=_keys(*SCREENS[name]), terminal_size=size
    )


@pytest.mark.parametrize("size", SIZES)
def test_store_outage(
    snap_compare: Any,
    flaky: tuple[Interlock, FlakyBackend],
    clock: VirtualClock,
    size: tuple[int, int],
) -> None:
    api, backend = flaky
    backend.broken = True
    app = _stable(make_app(api, clock=clock, refresh_seconds=None, tail_seconds=None))
    assert snap_compare(app, run_before=_keys(), terminal_size=size)


def test_read_only_board(snap_compare: Any, app_factory: Callable[..., InterlockApp]) -> None:
    assert snap_compare(
        _stable(app_factory(read_only=True)), run_before=_keys(), terminal_size=(80, 24)
    )


def test_light_theme_detail(snap_compare: Any, app_factory: Callable[..., InterlockApp]) -> None:
    app = _stable(app_factory(theme="light"))
    assert snap_compare(app, run_before=_keys("j", "enter"), terminal_size=(80, 24))
