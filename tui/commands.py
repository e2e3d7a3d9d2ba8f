"""The command palette (``ctrl+p`` or ``:``): every action of the TUI, and every pipeline by name."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from collections.abc import Callable

    from tui.app import InterlockApp


class InterlockCommands(Provider):
    """Board, events, help, theme, the write actions of the current screen, and "open <pipeline>"."""

    def _commands(self) -> list[tuple[str, Callable[[], Any], str]]:
        from tui.screens.interlock_screen import PipelineActionsScreen

        app = cast("InterlockApp", self.app)
        commands: list[tuple[str, Callable[[], Any], str]] = [
            ("Board", app.action_board, "every pipeline, problems first"),
            ("Events tail", app.action_events, "follow every event live"),
            ("Help: keys", app.action_help, "every key of the current screen"),
            ("Toggle light/dark theme", app.action_toggle_theme, "switch the colour theme"),
        ]
        screen = self.screen
        if isinstance(screen, PipelineActionsScreen):
            if not app.read_only:
                commands += [
                    (
                        "Rerun selected pipeline",
                        screen.action_rerun,
                        "ask for a rerun (shows the budget)",
                    ),
                    (
                        "Acknowledge SLA of selected pipeline",
                        screen.action_ack,
                        "with a reason and an expiry",
                    ),
                    (
                        "Dry-run switch of selected pipeline",
                        screen.action_dry_run,
                        "on or off, with a reason",
                    ),
                ]
            commands.append(
                (
                    "Copy rerun command",
                    screen.action_copy_command,
                    "the equivalent interlock CLI command",
                )
            )
        for pid in app.pipeline_ids:
            commands.append((f"Open {pid}", partial(app.open_pipeline, pid), "pipeline detail"))
        return commands

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
