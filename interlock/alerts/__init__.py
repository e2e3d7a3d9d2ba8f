"""Alerts: the Notifier port, its console and recording notifiers, and Slack threading (slack-sdk).

::

    base.py        Notifier protocol, is_alert / should_alert, RecordingNotifier, ConsoleNotifier
    format.py      what Slack shows: a run's root message (RunView) and one reply per alert (pure)
    outbox.py      durable queue of undelivered alerts (events table, OUTBOX#SLACK)
    slack.py       SlackNotifier: one thread per run, slack-sdk retries, outbox + flush (imports slack_sdk)
    fake_slack.py  FakeSlack: a local server speaking Slack's Web API, for tests and the demo
    factory.py     make_notifier(store, clock): Slack when SLACK_BOT_TOKEN is set, else the console

Names resolve lazily: importing ``interlock.alerts`` never imports slack_sdk.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "AlertConfigError",
    "ConsoleNotifier",
    "FakeSlack",
    "Notifier",
    "Outbox",
    "RecordingNotifier",
    "RunView",
    "SlackDeliveryError",
    "SlackNotifier",
    "is_acknowledged",
    "is_alert",
    "make_notifier",
    "should_alert",
    "slack_retry_handlers",
]

_LAZY = {
    "AlertConfigError": "interlock.alerts.base",
    "ConsoleNotifier": "interlock.alerts.base",
    "Notifier": "interlock.alerts.base",
    "RecordingNotifier": "interlock.alerts.base",
    "is_acknowledged": "interlock.alerts.base",
    "is_alert": "interlock.alerts.base",
    "should_alert": "interlock.alerts.base",
    "RunView": "interlock.alerts.format",
    "Outbox": "interlock.alerts.outbox",
    "FakeSlack": "interlock.alerts.fake_slack",
    "make_notifier": "interlock.alerts.factory",
    "SlackDeliveryError": "interlock.alerts.slack",
    "SlackNotifier": "interlock.alerts.slack",
    "slack_retry_handlers": "interlock.alerts.slack",
}

if TYPE_CHECKING:
    from interlock.alerts.base import (
        AlertConfigError,
        ConsoleNotifier,
        Notifier,
        RecordingNotifier,
        is_acknowledged,
        is_alert,
        should_alert,
    )
    from interlock.alerts.factory import make_notifier
    from interlock.alerts.fake_slack import FakeSlack
    from interlock.alerts.format import RunView
    from interlock.alerts.outbox import Outbox
    from interlock.alerts.slack import SlackDeliveryError, SlackNotifier, slack_retry_handlers


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'interlock.alerts' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
