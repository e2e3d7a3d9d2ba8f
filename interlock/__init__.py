"""Interlock: a safety controller for data pipelines.

Pipelines run when their inputs are *safe*, not merely when the clock says so::

    >>> from interlock import load_pipelines, evaluate
    >>> pipelines = load_pipelines("examples/pipelines")
    >>> evaluate(pipelines["gold-revenue"].validation, sensors, now)   # doctest: +SKIP
    <Evaluation ALL not ready: 2/3 rules pass (freshness.updatedAt age 2h31m exceeds 2h)>

Names resolve lazily, so ``import interlock`` stays cheap (a Lambda cold start imports only what it uses).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

__all__ = [
    "Calendar",
    "ConfigError",
    "Evaluation",
    "Event",
    "EventType",
    "Interlock",
    "InterlockError",
    "Period",
    "PipelineConfig",
    "RuleResult",
    "SLAWindow",
    "__version__",
    "evaluate",
    "load_calendars",
    "load_pipelines",
    "load_project",
    "open_store",
]

_LAZY = {
    "Calendar": "interlock.config.models",
    "PipelineConfig": "interlock.config.models",
    "ConfigError": "interlock.exceptions",
    "InterlockError": "interlock.exceptions",
    "Interlock": "interlock.api",
    "Evaluation": "interlock.rules",
    "RuleResult": "interlock.rules",
    "evaluate": "interlock.rules",
    "Event": "interlock.envelope",
    "EventType": "interlock.events",
    "Period": "interlock.schedule",
    "SLAWindow": "interlock.sla",
    "load_calendars": "interlock.config.loader",
    "load_pipelines": "interlock.config.loader",
    "load_project": "interlock.config.loader",
    "open_store": "interlock.store.factory",
}

if TYPE_CHECKING:
    from interlock.api import Interlock
    from interlock.config.loader import load_calendars, load_pipelines, load_project
    from interlock.config.models import Calendar, PipelineConfig
    from interlock.envelope import Event
    from interlock.events import EventType
    from interlock.exceptions import ConfigError, InterlockError
    from interlock.rules import Evaluation, RuleResult, evaluate
    from interlock.schedule import Period
    from interlock.sla import SLAWindow
    from interlock.store.factory import open_store


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'interlock' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
