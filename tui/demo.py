"""``interlock-tui --demo``: the console on a live demo world (what ``make demo`` opens in a terminal).

The example pipelines play a generated day (:mod:`interlock.demo`) on the embedded runtime in a
background thread, on an accelerated clock (120× by default: an hour every 30 s), writing a fresh SQLite
store; the console watches that store with the same clock, so ages, SLA clocks and the live tail move
as the day goes. Every action (rerun, ack, dry run) goes through the same store rows the runtime reads.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Final

DEMO_STORE: Final = Path(".interlock/demo.db")
EXAMPLES: Final = Path("examples")


def run_demo(
    *,
    speed: float,
    day: date | None = None,
    store_path: Path = DEMO_STORE,
    read_only: bool = False,
    theme: str | None = None,
) -> int:
    """Start the demo world and open the console on it; returns the exit code."""
    from interlock.api import Interlock
    from interlock.clock import AcceleratedClock
    from interlock.config.loader import load_project
    from interlock.demo import LiveDemo, demo_day
    from interlock.exceptions import ConfigError
    from interlock.store.factory import open_store
    from tui.app import make_app

    pipelines, calendars = EXAMPLES / "pipelines", EXAMPLES / "calendars"
    if not pipelines.is_dir():
        sys.stderr.write(
            f"interlock-tui --demo: {pipelines}/ not found: run it from the Interlock checkout\n"
        )
        return 2
    try:
        project = load_project(pipelines, calendars=calendars)
    except ConfigError as exc:
        sys.stderr.write(f"interlock-tui --demo: the example pipelines do not load: {exc}\n")
        return 2
    played = demo_day(day)
    clock = AcceleratedClock(datetime(played.year, played.month, played.day, tzinfo=UTC), speed)
    store_path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store_path}{suffix}").unlink(missing_ok=True)
    store = open_store(f"sqlite:///{store_path}", now=lambda: clock.now().timestamp())
    world = LiveDemo(store, project, clock, played)
    world.start()
    try:
        with Interlock(store, clock=clock, actor=None, calendars=project.calendars) as api:
            make_app(api, read_only=read_only, clock=clock, theme=theme).run()
    finally:
        world.stop()
    return 0
