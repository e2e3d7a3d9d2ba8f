"""How long one run's state machine execution may take, against the state machine's timeout.

One execution (deploy/statemachine.asl.json) evaluates the rules until they pass or the evaluation window
closes, triggers the job (a retryable failure backs off 30, 60, 120, ... s, ``TriggerMaxAttempts``
times), then polls it until it ends or the job poll window closes. The orchestrator never waits past a
window's end, so the longest execution is::

    schedule.evaluation.window + trigger backoffs + job.jobPollWindowSeconds + STEP_MARGIN

(``STEP_MARGIN``: the Lambda steps themselves and their Lambda-error retries). When that exceeds the
state machine's ``TimeoutSeconds`` (Terraform's ``sfn_timeout_seconds``, default 14400), Step Functions
cuts the execution off: the job may still be running, no JOB_POLL_EXHAUSTED is published, and the run
waits for the watchdog's SFN_TIMEOUT half an hour later. :func:`timeout_problem` says so at validate
time (``interlock validate --sfn-timeout-seconds``, ``interlock config push``, deploy/validate_configs.py
and the module's precondition, which reads :func:`execution_seconds` from the validation stamp).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from interlock.config.models import PipelineConfig

__all__ = [
    "DEFAULT_SFN_TIMEOUT_SECONDS",
    "DEFAULT_TRIGGER_MAX_ATTEMPTS",
    "STEP_MARGIN",
    "TRIGGER_RETRY_BACKOFF_RATE",
    "TRIGGER_RETRY_INTERVAL",
    "execution_budget",
    "execution_seconds",
    "timeout_problem",
    "trigger_backoff",
]

DEFAULT_SFN_TIMEOUT_SECONDS: Final = 14400
"""The state machine's ``TimeoutSeconds`` unless the deployment says otherwise (the module's default)."""
DEFAULT_TRIGGER_MAX_ATTEMPTS: Final = 4
"""``TriggerMaxAttempts`` of the ASL (the module's ``trigger_max_attempts`` default)."""
TRIGGER_RETRY_INTERVAL: Final = timedelta(seconds=30)
"""The Trigger state's first retry interval (``IntervalSeconds``)."""
TRIGGER_RETRY_BACKOFF_RATE: Final = 2
"""The Trigger state's ``BackoffRate``."""
STEP_MARGIN: Final = timedelta(minutes=5)
"""Allowance for the steps themselves (Lambda run time, Lambda-error retries of 2 + 4 + 8 s)."""


def trigger_backoff(max_attempts: int = DEFAULT_TRIGGER_MAX_ATTEMPTS) -> timedelta:
    """The Trigger state's waits when every retry is used: 30 + 60 + 120 + 240 s for 4."""
    seconds = TRIGGER_RETRY_INTERVAL.total_seconds()
    total = sum(seconds * TRIGGER_RETRY_BACKOFF_RATE**n for n in range(max(0, max_attempts)))
    return timedelta(seconds=total)


def execution_seconds(config: PipelineConfig) -> int:
    """The longest execution without the trigger backoffs, in seconds (evaluation + poll + margin).

    The validation stamp records it per pipeline; the Terraform module adds the backoffs of its own
    ``trigger_max_attempts`` and compares with ``sfn_timeout_seconds``.
    """
    window = config.schedule.evaluation.window + timedelta(seconds=config.job.jobPollWindowSeconds)
    return int((window + STEP_MARGIN).total_seconds())


def execution_budget(
    config: PipelineConfig, *, trigger_max_attempts: int = DEFAULT_TRIGGER_MAX_ATTEMPTS
) -> timedelta:
    """The longest one execution of ``config`` can run (see the module docstring)."""
    return timedelta(seconds=execution_seconds(config)) + trigger_backoff(trigger_max_attempts)


def _fmt(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return "".join(parts) or "0s"


def timeout_problem(
    config: PipelineConfig,
    sfn_timeout_seconds: int,
    *,
    trigger_max_attempts: int = DEFAULT_TRIGGER_MAX_ATTEMPTS,
) -> str | None:
    """Why ``config``'s longest execution does not fit ``sfn_timeout_seconds`` (``None``: it fits)."""
    budget = execution_budget(config, trigger_max_attempts=trigger_max_attempts)
    timeout = timedelta(seconds=sfn_timeout_seconds)
    if budget <= timeout:
        return None
    window = config.schedule.evaluation.window
    poll = timedelta(seconds=config.job.jobPollWindowSeconds)
    backoff = trigger_backoff(trigger_max_attempts)
    return (
        f"a run can take up to {_fmt(budget)} (evaluation.window {_fmt(window)} + trigger retries "
        f"{_fmt(backoff)} + jobPollWindowSeconds {_fmt(poll)} + {_fmt(STEP_MARGIN)} for the steps), "
        f"longer than the state machine timeout {_fmt(timeout)} (sfn_timeout_seconds "
        f"{sfn_timeout_seconds}): Step Functions would cut the run off while the job may still run. "
        f"Raise sfn_timeout_seconds to at least {int(budget.total_seconds())}, or shorten the windows"
    )
