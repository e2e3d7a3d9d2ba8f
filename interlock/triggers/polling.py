"""Helpers the polling trigger runners share: config parsing, poll errors, job-failure classes."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from interlock.triggers.base import FailureClass, JobStatus, TriggerError

__all__ = ["PERMANENT_JOB_ERROR", "classify_job_message", "parse_config", "poll_error_status"]

_M = TypeVar("_M", bound=BaseModel)

PERMANENT_JOB_ERROR = re.compile(
    r"access ?denied|not authori[sz]ed|unauthori[sz]ed|forbidden|permission denied|"
    r"EntityNotFound|ResourceNotFound|NoSuchBucket|NoSuchKey|does not exist|not found|"
    r"InvalidInput|ValidationException|InvalidParameter|invalid (argument|parameter|input)",
    re.IGNORECASE,
)
"""A failed job whose error matches this cannot succeed by running again unchanged."""


def parse_config(model: type[_M], job_config: Any, job_type: str) -> _M:
    """A job's config as its model (a mapping is validated).

    Args:
        model: the config model.
        job_config: the model, or a mapping of it.
        job_type: the job type, for the message.

    Returns:
        The model.

    Raises:
        TriggerError: (permanent) the mapping is not a valid config.
    """
    if isinstance(job_config, model):
        return job_config
    try:
        return model.model_validate(job_config)
    except ValidationError as exc:
        raise TriggerError(
            f"invalid {job_type} job config: {exc}", failure=FailureClass.PERMANENT
        ) from exc


def classify_job_message(message: str) -> FailureClass:
    """The failure class of a job that ran and failed, from its error message.

    Args:
        message: the job's error.

    Returns:
        ``permanent`` when the error names access denied, a missing entity or an invalid parameter
        (see :data:`PERMANENT_JOB_ERROR`); otherwise ``transient`` (the job's retry budget decides).
    """
    return FailureClass.PERMANENT if PERMANENT_JOB_ERROR.search(message) else FailureClass.TRANSIENT


def poll_error_status(error: TriggerError, what: str) -> JobStatus:
    """The job status to report when a status poll itself failed.

    A transient poll failure (throttled, 5xx, timeout) says nothing about the job: it is reported as
    still ``running`` and the next poll tries again (the job's poll window bounds how long). A
    permanent one (the run is not found, access denied) means the job cannot be followed: ``failed``,
    permanent.

    Args:
        error: the poll's error.
        what: the job, as messages name it.

    Returns:
        The status.
    """
    if error.failure is FailureClass.TRANSIENT:
        return JobStatus("running", None, f"{what}: status poll failed, polling again: {error}")
    return JobStatus(
        "failed", FailureClass.PERMANENT, f"{what}: cannot read the job's status: {error}"
    )
