"""The run state table (DESIGN §3), as pure step functions the orchestrator's modes call.

::

    EVALUATING --rules pass--> TRIGGERING --started--> RUNNING --succeeded--> COMPLETED
       |  not yet: wait interval        | infra error: retry w/ backoff   |--failed--> FAILED (→ auto-retry per budget)
       `- window exhausted -->          |  30/60/120/240 s                `- poll window over --> POLL_EXHAUSTED
          VALIDATION_EXHAUSTED          `- retries exhausted / permanent --> TRIGGER_EXHAUSTED

    mode               function                  decides                           actions
    -----------------  ------------------------  --------------------------------  -------------------------------
    evaluate           evaluate_step             TRIGGERING | EVALUATING |         VALIDATION_PASSED, or
                                                 VALIDATION_EXHAUSTED              joblog validation-exhausted +
                                                                                   VALIDATION_EXHAUSTED + FAILED_FINAL
    trigger            trigger_step              RUNNING | TRIGGERING (retry) |    JOB_TRIGGERED (once per run), or
                                                 TRIGGER_EXHAUSTED                 joblog infra-trigger-failure, or
                                                                                   joblog infra-trigger-exhausted +
                                                                                   RETRY_EXHAUSTED + FAILED_FINAL
    trigger-exhausted  trigger_exhausted_step    TRIGGER_EXHAUSTED (Catch path)    as above
    check-job          check_job_step            RUNNING | COMPLETED | FAILED |    joblog success + COMPLETED, or
                                                 POLL_EXHAUSTED                    joblog fail + JOB_FAILED + FAILED_FINAL,
                                                                                   or joblog job-poll-exhausted +
                                                                                   JOB_POLL_EXHAUSTED + FAILED_FINAL

Windows are inclusive: the last evaluation (or poll) happens exactly at ``start + window``, and only a
failing evaluation (a still-running job) at or after that instant exhausts. Waits are whole seconds
(ASL ``SecondsPath``), never past the window's end.

Fixes of the original's quirks (reference §13): every output carries every field the state machine reads
(item 11); JOB_TRIGGERED only here (item 9), and VALIDATION_PASSED and JOB_TRIGGERED behind a Claim per
attempt, so a step replayed after a crash publishes them once; exhaustion sets FAILED_FINAL instead of leaving the row
RUNNING or deleting it (items 12, 15); a permanent trigger failure is not retried (item 10); poll
exhaustion writes ``job-poll-exhausted`` and no synthetic ``timeout`` (item 16); the job's outcome comes
from the runner's status, not from the latest job-log row, so a retry never sees the previous attempt's
``fail`` (item 13); terminal statuses are conditional on the attempt (item 14). JOB_COMPLETED is
published by the router when the ``success`` row lands, as in the original.
"""

from __future__ import annotations

import math
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from interlock.events import EventType
from interlock.lifecycle.actions import (
    AppendJobLog,
    Claim,
    Decision,
    PublishEvent,
    SetRunStatus,
)
from interlock.records import JobEvent, RunStatus
from interlock.rules import describe, evaluate
from interlock.store import keys
from interlock.triggers.base import FailureClass, TriggerError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from interlock.config.models import PipelineConfig
    from interlock.lifecycle.actions import Action, RunRef
    from interlock.lifecycle.reruns import RetryOutlook
    from interlock.triggers.base import JobStatus, RunHandle

__all__ = [
    "DEFAULT_MAX_TRIGGER_ATTEMPTS",
    "JOB_POLL_INTERVAL",
    "JOB_POLL_MAX_INTERVAL",
    "TRIGGER_BACKOFF_RATE",
    "TRIGGER_RETRY_ERROR",
    "TRIGGER_RETRY_INTERVAL",
    "RunState",
    "check_job_step",
    "evaluate_step",
    "once_per_attempt",
    "remap_for_period",
    "trigger_backoff",
    "trigger_exhausted_step",
    "trigger_step",
]

TRIGGER_RETRY_ERROR: Final = "Interlock.TriggerRetry"
"""The Task error an orchestrator raises when :func:`trigger_step` decides to retry (ASL Retry matches it)."""
TRIGGER_RETRY_INTERVAL: Final = timedelta(seconds=30)
"""The first trigger retry's backoff (ASL ``IntervalSeconds``)."""
TRIGGER_BACKOFF_RATE: Final = 2
"""Each further retry waits this much longer (ASL ``BackoffRate``)."""
DEFAULT_MAX_TRIGGER_ATTEMPTS: Final = 4
"""Retries after the first start, as ASL ``MaxAttempts`` counts them: backoffs 30/60/120/240 s."""
JOB_POLL_INTERVAL: Final = timedelta(seconds=60)
"""How long to wait between job status polls."""
JOB_POLL_MAX_INTERVAL: Final = timedelta(minutes=5)
"""The longest wait between polls when they back off (no ``job.pollInterval`` set): each wait is the
time the job has run so far, between :data:`JOB_POLL_INTERVAL` and this. A 30-minute job is polled 9
times (27 state transitions) instead of 30 (90), and its end is seen at most 5 minutes late."""


class RunState(StrEnum):
    """Where a run is in its lifecycle (the state machine's Choice states read these values)."""

    EVALUATING = "EVALUATING"
    TRIGGERING = "TRIGGERING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    VALIDATION_EXHAUSTED = "VALIDATION_EXHAUSTED"
    TRIGGER_EXHAUSTED = "TRIGGER_EXHAUSTED"
    POLL_EXHAUSTED = "POLL_EXHAUSTED"

    @property
    def terminal(self) -> bool:
        """Whether the run (this attempt) is over."""
        return self not in (RunState.EVALUATING, RunState.TRIGGERING, RunState.RUNNING)


def _wait_seconds(now: datetime, end: datetime, interval: timedelta) -> int:
    """Whole seconds to wait: one interval, but never past ``end`` (at least 1 s)."""
    remaining = (end - now).total_seconds()
    return max(1, math.ceil(min(interval.total_seconds(), remaining)))


def _event(
    run: RunRef, type_: EventType, message: str, now: datetime, **detail: Any
) -> PublishEvent:
    return PublishEvent(
        type=type_,
        pipeline_id=run.pipeline_id,
        schedule_id=run.schedule_id,
        period=run.period,
        message=message,
        at=now,
        detail=detail,
    )


def once_per_attempt(type_: EventType, attempt: int) -> str:
    """The claim name that makes ``type_`` published once per run attempt (replays publish nothing)."""
    return f"{type_.value}-a{attempt}"


def _once(run: RunRef, type_: EventType, now: datetime) -> Claim:
    return Claim(
        run.pipeline_id, once_per_attempt(type_, run.attempt), run.schedule_id, run.period, now
    )


def _log(run: RunRef, event: JobEvent, now: datetime, **kw: Any) -> AppendJobLog:
    return AppendJobLog(run.pipeline_id, run.schedule_id, run.period, event, now, **kw)


def _retry_detail(run: RunRef, retry: RetryOutlook | None) -> dict[str, Any]:
    if retry is None:  # not known to the caller: the alert keeps the manual rerun hint
        return {}
    if not retry.follows:
        return {"willRetry": False}
    return {
        "willRetry": True,
        "retry": retry.retry,
        "maxRetries": retry.budget,
        "nextAttempt": run.attempt + 1,
    }


def _finish(run: RunRef, status: RunStatus, now: datetime) -> SetRunStatus:
    return SetRunStatus(run.pipeline_id, run.schedule_id, run.period, status, run.attempt, now)


# ----------------------------------------------------------------------------------- evaluate


def evaluate_step(
    config: PipelineConfig,
    sensors: Mapping[str, Mapping[str, Any] | None],
    *,
    run: RunRef,
    started_at: datetime,
    now: datetime,
) -> Decision:
    """One evaluation of the pipeline's readiness rules (mode ``evaluate``).

    Args:
        config: the pipeline's config (``validation``, ``schedule.evaluation``).
        sensors: sensor key → fields, already remapped for the run's period.
        run: the run.
        started_at: when evaluation began (the execution's start); the window counts from here.
        now: the instant of evaluation (timezone-aware).

    Returns:
        ``next`` TRIGGERING (with VALIDATION_PASSED), EVALUATING (``waitSeconds`` until the next
        evaluation) or VALIDATION_EXHAUSTED (job-log row, event, FAILED_FINAL). ``output`` always has
        ``state``, ``waitSeconds``, ``results`` and ``elapsedSeconds``.
    """
    evaluation = evaluate(config.validation, sensors, now)
    results: list[dict[str, Any]] = [
        {"rule": describe(r.rule), "key": r.rule.key, "passed": r.passed, "reason": r.reason}
        for r in evaluation.results
    ]
    elapsed = now - started_at
    settings = config.schedule.evaluation
    end = started_at + settings.window

    def out(state: RunState, wait: int) -> dict[str, Any]:
        return {
            "state": state.value,
            "waitSeconds": wait,
            "results": results,
            "elapsedSeconds": int(elapsed.total_seconds()),
        }

    if evaluation.passed:
        event = _event(run, EventType.VALIDATION_PASSED, "all validation rules passed", now)
        return Decision(
            (_once(run, EventType.VALIDATION_PASSED, now), event),
            RunState.TRIGGERING,
            out(RunState.TRIGGERING, 0),
            "rules passed",
        )
    if now < end:
        wait = _wait_seconds(now, end, settings.interval)
        return Decision(
            (), RunState.EVALUATING, out(RunState.EVALUATING, wait), f"not ready; next in {wait}s"
        )
    failing = "; ".join(r["reason"] for r in results if not r["passed"])
    message = f"evaluation window exhausted for {run.pipeline_id} without passing: {failing}"
    actions: tuple[Action, ...] = (
        _log(
            run,
            JobEvent.VALIDATION_EXHAUSTED,
            now,
            error="evaluation window exhausted without passing",
        ),
        _event(run, EventType.VALIDATION_EXHAUSTED, message, now, results=results),
        _finish(run, RunStatus.FAILED_FINAL, now),
    )
    return Decision(
        actions, RunState.VALIDATION_EXHAUSTED, out(RunState.VALIDATION_EXHAUSTED, 0), message
    )


# ------------------------------------------------------------------------------------ trigger


def trigger_backoff(retry: int) -> timedelta:
    """The wait before trigger retry number ``retry`` (1-based): 30, 60, 120, 240 s …"""
    factor: int = TRIGGER_BACKOFF_RATE ** (retry - 1)
    return TRIGGER_RETRY_INTERVAL * factor


def _job_output(
    state: RunState,
    wait: int,
    *,
    run_id: str = "",
    metadata: Mapping[str, Any] | None = None,
    poll_started_at: str = "",
    error: str = "",
) -> dict[str, Any]:
    """Every field the job-phase states read (never absent, so no JSONPath can miss)."""
    return {
        "state": state.value,
        "waitSeconds": wait,
        "runId": run_id,
        "metadata": dict(metadata or {}),
        "pollStartedAt": poll_started_at,
        "error": error,
    }


def _trigger_exhausted(
    run: RunRef, cause: str, category: str | None, now: datetime, **detail: Any
) -> Decision:
    message = f"trigger retries exhausted for {run.pipeline_id}: {cause}"
    actions: tuple[Action, ...] = (
        _log(run, JobEvent.INFRA_TRIGGER_EXHAUSTED, now, error=cause, category=category),
        _event(run, EventType.RETRY_EXHAUSTED, message, now, cause=cause, **detail),
        _finish(run, RunStatus.FAILED_FINAL, now),
    )
    return Decision(
        actions,
        RunState.TRIGGER_EXHAUSTED,
        _job_output(RunState.TRIGGER_EXHAUSTED, 0, error=cause),
        message,
    )


def trigger_step(
    result: RunHandle | TriggerError,
    *,
    run: RunRef,
    job_type: str,
    retries: int,
    now: datetime,
    max_trigger_attempts: int = DEFAULT_MAX_TRIGGER_ATTEMPTS,
    poll_interval: timedelta = JOB_POLL_INTERVAL,
) -> Decision:
    """Decide on one trigger attempt (mode ``trigger``), given what starting the job gave.

    Args:
        result: the runner's handle (the job started) or the :class:`TriggerError` it raised.
        run: the run.
        job_type: the pipeline's ``job.type`` (for messages).
        retries: retries already made for this run's trigger (``$$.State.RetryCount``; 0 at first).
        now: the instant of the attempt.
        max_trigger_attempts: retries allowed after the first start (ASL ``MaxAttempts``).
        poll_interval: how long to wait before the first job status poll (``job.pollInterval``).

    Returns:
        RUNNING with JOB_TRIGGERED (the only place it is published); TRIGGERING for a transient
        failure with retries left (the orchestrator then raises :data:`TRIGGER_RETRY_ERROR` so the
        state machine's Retry waits :func:`trigger_backoff`); TRIGGER_EXHAUSTED for a permanent
        failure or the last transient one.
    """
    if not isinstance(result, TriggerError):
        event = _event(
            run,
            EventType.JOB_TRIGGERED,
            f"triggered {job_type} job",
            now,
            runId=result.run_id,
            jobType=job_type,
        )
        output = _job_output(
            RunState.RUNNING,
            max(1, int(poll_interval.total_seconds())),
            run_id=result.run_id,
            metadata=result.metadata,
            poll_started_at=keys.format_time(now),
        )
        return Decision(
            (_once(run, EventType.JOB_TRIGGERED, now), event),
            RunState.RUNNING,
            output,
            f"{job_type} job started",
        )
    cause = str(result)
    category = result.failure.value
    if result.failure is FailureClass.PERMANENT:
        return _trigger_exhausted(
            run, f"permanent failure: {cause}", category, now, retries=retries
        )
    if retries >= max_trigger_attempts:
        return _trigger_exhausted(run, cause, category, now, retries=retries)
    wait = int(trigger_backoff(retries + 1).total_seconds())
    log = _log(
        run,
        JobEvent.INFRA_TRIGGER_FAILURE,
        now,
        error=f"trigger execute: {cause}",
        category=category,
    )
    return Decision(
        (log,),
        RunState.TRIGGERING,
        _job_output(RunState.TRIGGERING, wait, error=cause),
        f"trigger failed ({category}); retry {retries + 1} of {max_trigger_attempts} in {wait}s",
    )


def trigger_exhausted_step(*, run: RunRef, cause: str, now: datetime) -> Decision:
    """The trigger phase failed outside :func:`trigger_step` (mode ``trigger-exhausted``, the Catch path).

    Args:
        run: the run.
        cause: the caught error's cause.
        now: the instant.

    Returns:
        TRIGGER_EXHAUSTED with its job-log row, RETRY_EXHAUSTED and FAILED_FINAL.
    """
    return _trigger_exhausted(run, cause or "trigger failed", None, now)


# ---------------------------------------------------------------------------------- check job


def check_job_step(
    status: JobStatus,
    *,
    run: RunRef,
    handle: RunHandle,
    poll_started_at: datetime,
    now: datetime,
    poll_window: timedelta,
    poll_interval: timedelta = JOB_POLL_INTERVAL,
    max_poll_interval: timedelta | None = None,
    retry: RetryOutlook | None = None,
) -> Decision:
    """Decide on one poll of the started job (mode ``check-job``).

    Args:
        status: what the runner reported.
        run: the run.
        handle: the started job (echoed in the output so the next poll has it).
        poll_started_at: when the job was triggered; the poll window counts from here.
        now: the instant of the poll.
        poll_window: ``job.jobPollWindowSeconds``.
        poll_interval: the wait between polls (``job.pollInterval``, default 60 s).
        max_poll_interval: when set, polls back off: each wait is the time since ``poll_started_at``,
            at least ``poll_interval`` and at most this (:data:`JOB_POLL_MAX_INTERVAL`).
        retry: whether a failure of this attempt will be retried automatically
            (:func:`~interlock.lifecycle.reruns.retry_outlook`); JOB_FAILED then says so
            (``willRetry``, and ``retry``/``maxRetries``/``nextAttempt`` when one follows), and its
            Slack reply says "an automatic retry follows" instead of "rerun with …".

    Returns:
        COMPLETED (``success`` row, COMPLETED status); FAILED (``fail`` row with category, JOB_FAILED,
        FAILED_FINAL); RUNNING (``waitSeconds`` to the next poll); or POLL_EXHAUSTED when the job is
        still running at or after ``poll_started_at + poll_window``.
    """
    echo: dict[str, Any] = {
        "run_id": handle.run_id,
        "metadata": handle.metadata,
        "poll_started_at": keys.format_time(poll_started_at),
    }
    if status.state == "succeeded":
        actions: tuple[Action, ...] = (
            _log(
                run,
                JobEvent.SUCCESS,
                now,
                run_id=handle.run_id,
                error=status.message or None,
                detail={"attempt": run.attempt},
            ),
            _finish(run, RunStatus.COMPLETED, now),
        )
        return Decision(
            actions, RunState.COMPLETED, _job_output(RunState.COMPLETED, 0, **echo), "job succeeded"
        )
    if status.state == "failed":
        category = status.failure.value if status.failure is not None else None
        message = f"job failed: {status.message}" if status.message else "job failed"
        actions = (
            _log(
                run,
                JobEvent.FAIL,
                now,
                run_id=handle.run_id,
                error=status.message,
                category=category,
                detail={"attempt": run.attempt},
            ),
            _event(
                run,
                EventType.JOB_FAILED,
                message,
                now,
                runId=handle.run_id,
                category=category,
                **_retry_detail(run, retry),
            ),
            _finish(run, RunStatus.FAILED_FINAL, now),
        )
        output = _job_output(RunState.FAILED, 0, error=status.message, **echo)
        return Decision(actions, RunState.FAILED, output, message)
    end = poll_started_at + poll_window
    if now < end:
        interval = poll_interval
        if max_poll_interval is not None:
            interval = min(max(poll_interval, now - poll_started_at), max_poll_interval)
        wait = _wait_seconds(now, end, interval)
        held: tuple[Action, ...] = ()
        if status.unknown:  # alert once per attempt; the run is held, never retried or failed
            held = (
                _once(run, EventType.JOB_OUTCOME_UNKNOWN, now),
                _event(
                    run,
                    EventType.JOB_OUTCOME_UNKNOWN,
                    f"job outcome unknown for {run.pipeline_id}: held, not retried",
                    now,
                    runId=handle.run_id,
                    reason=status.message,
                ),
            )
        return Decision(
            held,
            RunState.RUNNING,
            _job_output(RunState.RUNNING, wait, **echo),
            f"job running; next poll in {wait}s",
        )
    message = f"job poll window exhausted for {run.pipeline_id}"
    actions = (
        _log(
            run,
            JobEvent.JOB_POLL_EXHAUSTED,
            now,
            run_id=handle.run_id,
            error="job poll window exhausted",
        ),
        _event(
            run,
            EventType.JOB_POLL_EXHAUSTED,
            message,
            now,
            runId=handle.run_id,
            pollWindowSeconds=int(poll_window.total_seconds()),
        ),
        _finish(run, RunStatus.FAILED_FINAL, now),
    )
    return Decision(
        actions, RunState.POLL_EXHAUSTED, _job_output(RunState.POLL_EXHAUSTED, 0, **echo), message
    )


# ------------------------------------------------------------------------------ period sensors


def remap_for_period(
    sensors: Mapping[str, Mapping[str, Any] | None], period: str
) -> dict[str, Mapping[str, Any] | None]:
    """Expose per-period sensors under their base key (reference §4.6, "per-period remap").

    A sensor ``row-count#2026-03-03T07`` (or ``row-count#20260303T07``) is also visible as
    ``row-count`` when evaluating period ``2026-03-03T07``, replacing any base-key sensor: producers
    that write one row per period are read like producers that overwrite one row. Other periods' rows
    stay as they are (a rule naming the base key never sees them).

    Args:
        sensors: sensor key → fields.
        period: the run's period id.

    Returns:
        A new mapping with the period's rows also under their base keys.
    """
    suffixes = ("#" + period, "#" + period.replace("-", ""))
    out = dict(sensors)
    staged: dict[str, Mapping[str, Any] | None] = {}
    for key, fields in sensors.items():
        for suffix in suffixes:
            if key.endswith(suffix) and len(key) > len(suffix):
                staged[key[: -len(suffix)]] = fields
    out.update(staged)
    return out
