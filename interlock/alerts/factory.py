"""Pick the notifier a runtime uses: Slack when a bot token is set, else the console (DESIGN §5).

::

    make_notifier(store, clock)
      SLACK_BOT_TOKEN set ──▶ SlackNotifier.from_env(...)   (imports slack_sdk only now)
      otherwise ───────────▶ ConsoleNotifier(stream)
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from interlock.alerts.base import ConsoleNotifier

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import TextIO

    from interlock.alerts.base import Notifier
    from interlock.ports import Clock
    from interlock.store.factory import Store

__all__ = ["make_notifier"]


def make_notifier(
    store: Store,
    clock: Clock,
    *,
    stream: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> Notifier:
    """Slack if ``SLACK_BOT_TOKEN`` is set (``SLACK_CHANNEL``, optional ``SLACK_BASE_URL``), else console.

    Args:
        store: the store (Slack keeps threads and its outbox in the events table).
        clock: the clock.
        stream: the console notifier's stream (default: stderr).
        environ: the environment to read (default: ``os.environ``).

    Returns:
        The notifier; call ``notify(event)`` for each stored event and ``flush()`` every tick.

    Raises:
        AlertConfigError: a token is set but no channel.
        ImportError: a token is set but slack-sdk is missing (install ``interlock[slack]``).
    """
    env = os.environ if environ is None else environ
    if env.get("SLACK_BOT_TOKEN", "").strip():
        from interlock.alerts.slack import SlackNotifier  # slack_sdk only when Slack is wanted

        slack = SlackNotifier.from_env(store, clock, environ=env)
        if slack is not None:
            return slack
    return ConsoleNotifier(stream)
