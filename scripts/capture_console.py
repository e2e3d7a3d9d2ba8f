"""Text captures of the console (``interlock-tui``) for docs/oncall.md: ``docs/console/*.txt``.

The example pipelines play the demo day (:mod:`interlock.demo`) on the embedded runtime and a virtual
clock until 10:40 UTC (runs done, a failure retried, an SLA warned and breached, drift, a dry run), then
the console opens on that store at 100×30, frozen at that instant, and each screen an on-call engineer
uses is written out as plain text. Deterministic: the same code gives the same files.

    python scripts/capture_console.py            # rewrite docs/console/*.txt
    python scripts/capture_console.py --check    # exit 1 if a capture differs from what is committed
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "console"
SIZE = (100, 30)
AT_HOUR, AT_MINUTE = 10, 40

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.pilot import Pilot

    from interlock.clock import VirtualClock
    from interlock.store.factory import Store


def _play_demo_day(store: Store, clock: VirtualClock, until: datetime) -> None:
    """The demo day's sensor writes, job behaviours and operator actions, up to ``until``."""
    from interlock.config.loader import load_project
    from interlock.demo import EXAMPLE_DAY, timeline_lines
    from interlock.local.runtime import EmbeddedRuntime
    from interlock.local.simulate import JobBehaviour, SimulatedRunner, apply_entry, parse_timeline
    from interlock.service.operator import Operator

    project = load_project(
        [REPO / "examples" / "pipelines"], calendars=REPO / "examples" / "calendars"
    )
    runner = SimulatedRunner(clock, JobBehaviour())
    for config in project.pipelines.values():
        store.control.put_config(config, now=clock.now())
    runtime = EmbeddedRuntime.build(
        store, clock=clock, triggers=lambda _type: runner, calendars=project.calendars
    )
    for entry in parse_timeline(timeline_lines(EXAMPLE_DAY), source="demo"):
        if entry.at > until:
            break
        runtime.run_until(entry.at)
        actor = entry.body.get("by")
        operator = Operator(
            store,
            bus=runtime.executor.bus,
            clock=clock,
            actor=actor if isinstance(actor, str) else "demo",
        )
        apply_entry(entry, store=store, runner=runner, operator=operator, clock=clock)
    runtime.run_until(until)


def _text(app: Any) -> str:
    """The screen as plain text, as a terminal of the app's size shows it."""
    from rich.console import Console

    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system=None,
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    lines = console.export_text(styles=False).splitlines()
    return "\n".join(line.rstrip() for line in lines).rstrip() + "\n"


async def _settle(pilot: Pilot[Any]) -> None:
    for index in range(20):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if index >= 2 and all(w.is_finished for w in pilot.app.workers):
            break


# name → (keys pressed from the board, what the page says the capture shows)
SCREENS: dict[str, tuple[tuple[str, ...], str]] = {
    "board": ((), "the board: every pipeline, problems first"),
    "pipeline-rules": (("enter",), "a pipeline's rules against its sensors (tab 1)"),
    "pipeline-runs": (("enter", "2"), "its runs (tab 2)"),
    "events": (("e",), "the live event tail"),
}


# The header names the store's absolute path, which for this scratch store is a random temporary
# directory: the captures show this fixed one instead, so that they are the same on every machine.
SHOWN_STORE = "/srv/interlock/interlock.db"


async def _capture_all(make: Callable[[], Any]) -> dict[str, str]:
    captures: dict[str, str] = {}
    for name, (keys, _) in SCREENS.items():
        app = make()
        app.store_label = SHOWN_STORE
        async with app.run_test(size=SIZE) as pilot:
            await _settle(pilot)
            for key in keys:
                await pilot.press(key)
                await _settle(pilot)
            captures[name] = _text(app)
    return captures


def captures() -> dict[str, str]:
    """Every capture: file stem → text (the console's screens, and one run's Slack thread)."""
    from interlock.api import Interlock
    from interlock.clock import VirtualClock
    from interlock.demo import EXAMPLE_DAY
    from interlock.store.factory import open_store
    from tui.app import make_app

    day = EXAMPLE_DAY
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    at = start.replace(hour=AT_HOUR, minute=AT_MINUTE)
    clock = VirtualClock(start)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'interlock.db'}"
        with open_store(url, now=lambda: clock.now().timestamp()) as store:
            _play_demo_day(store, clock, at)
            thread = slack_thread(store, THREAD_PIPELINE, day.isoformat())
        store = open_store(url, now=lambda: clock.now().timestamp())
        with Interlock(store, clock=clock, actor="oncall") as api:
            screens = asyncio.run(
                _capture_all(
                    lambda: make_app(api, clock=clock, refresh_seconds=None, tail_seconds=None)
                )
            )
    return {**screens, "slack-thread": thread}


THREAD_PIPELINE = "gold-revenue"


def slack_thread(store: Store, pipeline: str, period: str) -> str:
    """The Slack thread of one run as text: the root message as it stands, then one reply per alert.

    Rendered by the alert dispatcher's own formatter (:mod:`interlock.alerts.format`) from the run's
    events in the store, so it is what Slack shows (emoji and Slack's *bold* markup included).
    """
    from interlock.alerts.format import RunView, reply_message, root_message

    events = [e for e in reversed(store.events.for_pipeline(pipeline)) if e.date == period]
    lines = [root_message(RunView.of(events)).text, ""]
    for event in events:
        if event.alerts:
            reply = reply_message(event).text.splitlines()
            lines += ["  ↳ " + reply[0], *("    " + line for line in reply[1:]), ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    fresh = captures()
    if args.check:
        stale = [
            name
            for name, text in fresh.items()
            if not (OUT / f"{name}.txt").exists()
            or (OUT / f"{name}.txt").read_text(encoding="utf-8") != text
        ]
        for name in stale:
            sys.stderr.write(f"docs/console/{name}.txt is out of date\n")
        return 1 if stale else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in fresh.items():
        (OUT / f"{name}.txt").write_text(text, encoding="utf-8")
    sys.stderr.write(f"wrote {len(fresh)} captures to docs/console/\n")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
