"""Trigger runners: start the job a pipeline protects, then poll it.

``runner_for(job_type, **options)`` returns the runner for a job type: ``command``
(:class:`CommandRunner`, embedded runtime only), ``http`` (:class:`HttpRunner`), and, imported only when
asked for, ``glue``, ``emr``, ``emr-serverless``, ``step-function``, ``lambda`` (AWS; boto3 is imported
when a client is first needed), ``databricks`` and ``airflow``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from interlock.config.kinds import JobType
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


# job type -> (module, class): imported on first use, so importing this package stays light.
_LAZY: dict[str, tuple[str, str]] = {
    JobType.GLUE.value: ("interlock.triggers.glue", "GlueRunner"),
    JobType.EMR.value: ("interlock.triggers.emr", "EmrRunner"),
    JobType.EMR_SERVERLESS.value: ("interlock.triggers.emr_serverless", "EmrServerlessRunner"),
    JobType.STEP_FUNCTION.value: ("interlock.triggers.step_function", "StepFunctionRunner"),
    JobType.LAMBDA.value: ("interlock.triggers.lambda_", "LambdaRunner"),
    JobType.DATABRICKS.value: ("interlock.triggers.databricks", "DatabricksRunner"),
    JobType.AIRFLOW.value: ("interlock.triggers.airflow", "AirflowRunner"),
}


def runner_for(job_type: str, **options: Any) -> TriggerRunner:
    """The trigger runner for a job type.

    Args:
        job_type: a :class:`~interlock.config.models.JobType` or its name.
        **options: passed to the runner's constructor (``allow_private=True`` for http, databricks
            and airflow; ``region=``, ``endpoint_url=``, ``session=``, ``client_factory=`` for the
            AWS types; ``env=...`` for all).

    Returns:
        A new runner.

    Raises:
        TriggerError: (permanent) the job type is unknown.
    """
    name = str(job_type).strip().lower()
    if name == JobType.COMMAND:
        return _runner_class("CommandRunner")(**options)
    if name == JobType.HTTP:
        return _runner_class("HttpRunner")(**options)
    if name in _LAZY:
        module_name, class_name = _LAZY[name]
        runner: TriggerRunner = getattr(importlib.import_module(module_name), class_name)(**options)
        return runner
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
