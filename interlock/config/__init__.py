"""Pipeline configuration: models, loader and named calendars.

The models need pydantic (and the loader PyYAML), ~60 ms of imports that a Lambda handler or a command
which only reads already-validated rows should not pay. So this package face is lazy: its names load
:mod:`interlock.config.models` on first use (PEP 562), and ``import interlock.config.kinds`` /
``interlock.config.text`` (the plain enums and string parsers) imports neither.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from interlock.config.models import Calendar, PipelineConfig, Rule, Validation

__all__ = ["Calendar", "PipelineConfig", "Rule", "Validation"]


def __getattr__(name: str) -> Any:
    """Load a model from :mod:`interlock.config.models` the first time it is asked for."""
    if name in __all__:
        from interlock.config import models

        return getattr(models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
