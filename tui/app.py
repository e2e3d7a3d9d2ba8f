"""The Textual app: bindings, screens, theme and the one error path. Screens hold the behaviour.

``make_app`` is the one factory: ``tui/__main__.py``, the tests and notebooks build the app through it::

    make_app(Interlock(store, clock=…), read_only=…, clock=…, theme=…)
      └─ InterlockApp ── BoardScreen (base) ──enter──▶ PipelineDetailScreen
                      └─ e ──▶ EventsScreen (live tail)        r/a/d ──▶ rerun/ack/dry-run modals
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar, Final

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType

from interlock.exceptions import InterlockError
from interlock.store.factory import store_location
from tui.commands import InterlockCommands
from tui.screens.board_screen import BoardScreen
from tui.screens.error_modal import ErrorModal
from tui.screens.events_screen import EventsScreen
from tui.screens.help_screen import HelpScreen
from tui.screens.pipeline_detail_screen import PipelineDetailScreen

if TYPE_CHECKING:
    from datetime import datetime

    from textual.timer import Timer

    from interlock.api import Interlock
    from interlock.events import Event
    from interlock.ports import Clock

log = logging.getLogger(__name__)

THEMES: Final = {"dark": "textual-dark", "light": "textual-light"}
"""Short names for the two themes the TUI is designed for (any Textual theme name works too)."""
DEFAULT_REFRESH: Final = 10.0
DEFAULT_TAIL: Final = 1.0
_VERDICT_PATIENCE: Final = timedelta(minutes=10)  # a runtime that is down gives no verdict


class InterlockApp(App[None]):
    """The on-call console.

    Args:
        api: the facade every screen reads and writes through.
        read_only: hide and refuse the write actions.
        clock: the clock shown in the headers (default: the API's).
        theme: a Textual theme name, or ``dark``/``light``.
        refresh_seconds: how often the board re-reads the store (``None``: never; tests).
        tail_seconds: how often the events tail polls (``None``: only when asked; tests).
    """

    CSS_PATH = "app.tcss"
    TITLE = "Interlock"
    COMMANDS = App.COMMANDS | {InterlockCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", tooltip="Every key of this screen"),
        Binding("e", "events", "Events", tooltip="Live event tail"),
        Binding("b", "board", "Board", show=False, tooltip="Back to the board"),
        Binding("ctrl+p", "command_palette", "Palette", show=False, priority=True),
        Binding("colon", "command_palette", "Palette", show=False, tooltip="Command palette"),
        Binding("ctrl+t", "toggle_theme", "Theme", show=False, tooltip="Light or dark theme"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        api: Interlock,
        *,
        read_only: bool = False,
        clock: Clock | None = None,
        theme: str | None = None,
        refresh_seconds: float | None = DEFAULT_REFRESH,
        tail_seconds: float | None = DEFAULT_TAIL,
    ) -> None:
        super().__init__()
        self.api = api
        self.read_only = read_only
        self.clock: Clock = clock if clock is not None else api.clock
        self.refresh_seconds = refresh_seconds
        self.tail_seconds = tail_seconds
        self.pipeline_ids: list[str] = []
        self.store_label = store_label(api.store.url)
        self.ever_read = False
        """Whether any screen read the store once (``interlock-tui`` exits 3 when it never could)."""
        self.last_read_error: BaseException | None = None
        self.awaited: dict[tuple[str, str], datetime] = {}
        """Rerun requests whose verdict the operator has not been shown yet, with when they were made."""
        self._verdict_timer: Timer | None = None
        if theme is not None:
            name = THEMES.get(theme, theme)
            if name not in self.available_themes:
                known = ", ".join(sorted({*THEMES, *self.available_themes}))
                raise ValueError(f"unknown theme {theme!r}; known: {known}")
            self.theme = name

    def on_mount(self) -> None:
        self.push_screen(BoardScreen())

    # ------------------------------------------------------------------------ rerun verdicts

    def watch_rerun(self, pipeline_id: str, period: str, since: datetime) -> None:
        """Tell the operator, wherever they are, what the controller decided about a rerun request.

        The request is only a row; the controller accepts or rejects it moments later (on the
        runtime's clock). Until its verdict event appears (or ``_VERDICT_PATIENCE`` passes) the app
        looks for it every tail interval and shows it in full: a rejection as an error.
        """
        self.awaited[(pipeline_id, period)] = since
        if self._verdict_timer is None and self.tail_seconds:
            self._verdict_timer = self.set_interval(self.tail_seconds, self.look_for_verdicts)

    def look_for_verdicts(self) -> None:
        """Look once for the verdicts of the awaited rerun requests (tests call it directly)."""
        if self.awaited:
            self._look_for_verdicts(dict(self.awaited))

    @work(thread=True, exclusive=True, exit_on_error=False, group="read rerun verdicts")
    def _look_for_verdicts(self, awaited: dict[tuple[str, str], datetime]) -> None:
        from interlock.events import EventType

        types = [
            EventType.RERUN_ACCEPTED,
            EventType.RERUN_REJECTED,
            EventType.PIPELINE_EXCLUDED,
            EventType.DRY_RUN_WOULD_RERUN,
            EventType.DRY_RUN_RERUN_REJECTED,
        ]
        now = self.clock.now()
        for (pid, period), since in awaited.items():
            found = [e for e in self.api.events(pid, since=since, types=types) if e.date == period]
            if found:
                self.call_from_thread(self._verdict, pid, period, found[-1])
            elif now - since > _VERDICT_PATIENCE:
                self.call_from_thread(self.awaited.pop, (pid, period), None)

    def _verdict(self, pid: str, period: str, event: Event) -> None:
        if self.awaited.pop((pid, period), None) is None:
            return
        bad = event.type.value.endswith("REJECTED") or event.type.value == "PIPELINE_EXCLUDED"
        self.notify(
            event.message,
            title=f"{event.type.value} · {pid} {period}",
            severity="error" if bad else "information",
            timeout=30 if bad else 8,
            markup=False,
        )

    # ------------------------------------------------------------------------------- navigation

    def open_pipeline(self, pipeline_id: str) -> None:
        """Show one pipeline's detail."""
        self.push_screen(PipelineDetailScreen(pipeline_id))

    def action_board(self) -> None:
        while len(self.screen_stack) > 2 and not isinstance(self.screen, BoardScreen):
            self.pop_screen()

    def action_events(self) -> None:
        if not isinstance(self.screen, EventsScreen):
            self.push_screen(EventsScreen())

    def action_help(self) -> None:
        sections: dict[str, dict[str, list[str]]] = {}
        for key, active in self.active_bindings.items():
            binding = active.binding
            text = binding.description or binding.tooltip
            if not text or not active.enabled:
                continue
            if binding.tooltip and binding.description and binding.tooltip != binding.description:
                text = f"{binding.description}: {binding.tooltip}"
            group = _help_group(active.node, self.screen)
            keys = sections.setdefault(group, {}).setdefault(text, [])
            keys.append(self.get_key_display(binding) or key)
        name = type(self.screen).__name__.removesuffix("Screen")
        order = [name, "Table", "Everywhere"]
        grouped = [
            (
                title,
                sorted(((", ".join(k), t) for t, k in sections[title].items()), key=lambda r: r[1]),
            )
            for title in sorted(sections, key=lambda t: order.index(t) if t in order else 1)
        ]
        self.push_screen(HelpScreen(name, grouped, syntax=QUERY_SYNTAX.get(name)))

    def action_toggle_theme(self) -> None:
        self.theme = THEMES["light"] if self.theme == THEMES["dark"] else THEMES["dark"]

    # ---------------------------------------------------------------------------- the error path

    def show_error(self, title: str, error: BaseException) -> None:
        """Show a failed worker's error in a modal; the app carries on (STYLE rule 20)."""
        if isinstance(error, InterlockError | ValueError):
            message = str(error)
        else:
            log.error("%s", title, exc_info=error)
            message = f"{type(error).__name__}: {error}"
        if isinstance(self.screen, ErrorModal):  # a timer that keeps failing must not stack dialogs
            return
        self.push_screen(ErrorModal(title, message))


QUERY_SYNTAX: Final = {
    "Board": "/ filter: words that must all appear in a row (id, period, state, owner, SLA, last "
    "event; 'problem' keeps the problem rows)",
    "Events": "/ filter and h highlight: terms that must all match · type:JOB_FAILED (t:) · "
    "sev:critical|warning|info (s:) · p:gold (pipeline:) · other words: anywhere in the event · "
    "n/N next/previous highlighted · x clears both",
}
"""The query syntax each screen's help ends with."""


def _help_group(node: object, screen: object) -> str:
    """Where a key comes from: the screen (its name), a table on it, or the app (everywhere)."""
    if node is screen:
        return type(screen).__name__.removesuffix("Screen")
    if isinstance(node, App):
        return "Everywhere"
    return "Table"


def store_label(url: str) -> str:
    """The store in headers, in full: the SQLite file's absolute path, or the DynamoDB URL."""
    return store_location(url)


def make_app(
    api: Interlock,
    *,
    read_only: bool = False,
    clock: Clock | None = None,
    theme: str | None = None,
    refresh_seconds: float | None = DEFAULT_REFRESH,
    tail_seconds: float | None = DEFAULT_TAIL,
) -> InterlockApp:
    """Build the app (the one factory; see the module docstring and :class:`InterlockApp`)."""
    return InterlockApp(
        api,
        read_only=read_only,
        clock=clock,
        theme=theme,
        refresh_seconds=refresh_seconds,
        tail_seconds=tail_seconds,
    )
