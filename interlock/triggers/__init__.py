"""Trigger runners: start the job a pipeline protects, then poll it.

``runner_for(job_type, **options)`` returns the runner for a job type. Available now: ``command``
(:class:`CommandRunner`, embedded runtime only) and ``http`` (:class:`HttpRunner`). The other job types
of :class:`~interlock.config.models.JobType` (airflow, glue, emr, emr-serverless, step-function,
databricks, lambda) raise a permanent :class:`TriggerError` until their runners exist.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from interlock.config.models import JobType
from interlock.triggers.base import (
    FailureClass,
    JobStatus,
    RunHandle,
    TriggerContext,
    TriggerError,
    TriggerRunner,
    expand,
    template_variables,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from interlock.triggers.command import CommandRunner
    from interlock.triggers.http import HttpRunner

__all__ = [
    "CommandRunner",
    "FailureClass",
    "HttpRunner",
    "JobStatus",
    "RunHandle",
    "TriggerContext",
    "TriggerError",
    "TriggerRunner",
    "expand",
    "runner_for",
    "template_variables",
]


def runner_for(job_type: str, **options: Any) -> TriggerRunner:
    """The trigger runner for a job type.

    Args:
        job_type: ``command`` or ``http`` (a :class:`~interlock.config.models.JobType` works too).
        **options: passed to the runner's constructor (``allow_private=True`` for http,
            ``env=...`` for either).

    Returns:
        A new runner.

    Raises:
        TriggerError: (permanent) the job type has no runner yet, or is unknown.
    """
    name = str(job_type).strip().lower()
    if name == JobType.COMMAND:
        return _runner_class("CommandRunner")(**options)
    if name == JobType.HTTP:
        return _runner_class("HttpRunner")(**options)
    if name in {t.value for t in JobType}:
        raise TriggerError(f"job type {name} is not available yet", failure=FailureClass.PERMANENT)
    known = ", ".join(t.value for t in JobType)
    raise TriggerError(
        f"unknown job type {job_type!r}: expected one of {known}", failure=FailureClass.PERMANENT
    )


# The runners load on first use (PEP 562): importing interlock.triggers.base (as the pure lifecycle
# does) must not load subprocess or http.client.
_RUNNERS = {"CommandRunner": "interlock.triggers.command", "HttpRunner": "interlock.triggers.http"}


def _runner_class(name: str) -> Callable[..., TriggerRunner]:
    runner: Callable[..., TriggerRunner] = getattr(importlib.import_module(_RUNNERS[name]), name)
    return runner


def __getattr__(name: str) -> Any:
    if name in _RUNNERS:
        return _runner_class(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
