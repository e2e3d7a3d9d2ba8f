"""Job-log outcomes, automatic retries and rerun requests, as pure decisions (reference §4.4, §8).

The stream router hands job-log rows and rerun-request rows here; the runtime gathers what each
decision reads (the run row, budget counts, the latest job-log row, sensor freshness) and applies the
returned :class:`~interlock.lifecycle.actions.Decision`::

    record                     decide_*               what it decides
    -------------------------  ---------------------  ---------------------------------------------------------
    JOB# success               decide_job_log         JOB_COMPLETED (+ the post-run baseline, SLA verdict: caller)
    JOB# fail / timeout        decide_job_log         retry: ResetRun(attempt) → RecordRerun(job-fail-retry) →
                                                      StartExecution(attempt + 1); or RETRY_EXHAUSTED;
                                                      or PIPELINE_EXCLUDED (the period's day is excluded)
    JOB# anything else         decide_job_log         nothing (the run's own bookkeeping)
    RERUN_REQUEST#             decide_rerun           Claim(the request) → calendar → budget → circuit breaker →
                                                      ResetRun → RecordRerun → job log → RERUN_ACCEPTED →
                                                      StartExecution(attempt + 1); or RERUN_REJECTED

Budgets (``job``): ``maxRetries`` for transient and timeout failures, ``maxCodeRetries`` for permanent
ones, both counted over ``job-fail-retry`` rerun rows; ``maxDriftReruns`` shared by ``data-drift`` and
``late-data``; ``maxManualReruns`` for every other reason, counted per reason.

Fixes of the original (reference §13): a failure row carries the attempt that wrote it, so a retry never
mistakes the previous attempt's failure for its own, and a replayed row cannot retry twice (ResetRun is
conditional on the attempt the decision saw); the budget class comes from the failure row itself, not
from whichever row happens to be latest; a request is claimed once by its ``requestedAt`` so a replayed
stream record is not a second rerun; a run still RUNNING is not reset under its own execution; a run
with no budget configured (``maxRetries: 0``) publishes no RETRY_EXHAUSTED after its JOB_FAILED (nothing
was retried, and on-call already has the failure).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from interlock.events import EventType
from interlock.exceptions import ScheduleError
from interlock.lifecycle.actions import (
    AppendJobLog,
    Claim,
    Decision,
    PublishEvent,
    RecordRerun,
    ResetRun,
    StartExecution,
)
from interlock.lifecycle.router import execution_name
from interlock.lifecycle.run import once_per_attempt
from interlock.records import JobEvent, RerunReason, RunStatus, budget_bucket
from interlock.schedule import Period, exclusion_reason, is_inclusion_day
from interlock.store import keys

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from interlock.config.models import Calendar, PipelineConfig
    from interlock.lifecycle.actions import Action
    from interlock.lifecycle.router import JobLogWrite, RerunRequested
    from interlock.records import JobEntry, RunRow

__all__ = [
    "RerunFacts",
    "RetryOutlook",
    "budget_for",
    "decide_job_log",
    "decide_rerun",
    "period_exclusion",
    "retry_outlook",
    "start_attempt",
    "started_by",
]

_PERMANENT: Final = "PERMANENT"
_FAILURES: Final = frozenset({JobEvent.FAIL.value, JobEvent.TIMEOUT.value})


def period_exclusion(
    config: PipelineConfig, period: str, calendars: Mapping[str, Calendar]
) -> str | None:
    """Why the period's local day is excluded by the pipeline's calendars, or ``None``.

    A period that cannot be read is not excluded (the caller's other checks refuse it).
    """
    try:
        day = Period.parse(period).day
        reason = exclusion_reason(config.schedule, day, calendars)
    except ScheduleError:
        return None
    if reason is None and not is_inclusion_day(config.schedule, day):
        reason = f"{day.isoformat()} is not in schedule.include.dates"
    return reason


@dataclass(frozen=True, slots=True)
class RetryOutlook:
    """Whether an automatic retry follows a job failure (what :func:`decide_job_log` will decide).

    Attributes:
        follows: a retry will be started by itself.
        retry: which retry it is (1 for the first); 0 when none follows.
        budget: the budget it draws on (``maxRetries``, or ``maxCodeRetries`` for a permanent failure).
    """

    follows: bool
    retry: int = 0
    budget: int = 0


def retry_outlook(
    config: PipelineConfig,
    *,
    category: str | None,
    retries_used: int,
    period: str,
    calendars: Mapping[str, Calendar],
) -> RetryOutlook:
    """Whether the failure of the run's current attempt will be retried automatically.

    The same budget and calendar rules as :func:`decide_job_log` (a test holds them together), read
    before the failure's job-log row is written, so that the JOB_FAILED alert can say what follows.

    Args:
        config: the pipeline's config.
        category: the failure's category (``PERMANENT`` draws on ``maxCodeRetries``).
        retries_used: ``job-fail-retry`` rerun rows already recorded for the run.
        period: the run's period (an excluded day is not retried).
        calendars: named calendars.
    """
    permanent = str(category or "").upper() == _PERMANENT
    budget = config.job.maxCodeRetries if permanent else config.job.maxRetries
    if budget == 0 or retries_used >= budget:
        return RetryOutlook(False, 0, budget)
    if period_exclusion(config, period, calendars) is not None:
        return RetryOutlook(False, 0, budget)
    return RetryOutlook(True, retries_used + 1, budget)


def budget_for(config: PipelineConfig, reason: str) -> tuple[int, str]:
    """The rerun budget a reason draws on, and its label: ``(budget, "drift" | "manual")``."""
    if budget_bucket(reason) == budget_bucket(RerunReason.DATA_DRIFT):
        return config.job.maxDriftReruns, "drift"
    return config.job.maxManualReruns, "manual"


def start_attempt(
    config: PipelineConfig, schedule_id: str, period: str, attempt: int
) -> StartExecution:
    """The StartExecution of attempt ``attempt`` of a run (its name is deterministic per attempt)."""
    name = execution_name(config.id, schedule_id, period, attempt)
    payload = {
        "pipelineId": config.id,
        "scheduleId": schedule_id,
        "period": period,
        "attempt": attempt,
    }
    return StartExecution(config.id, schedule_id, period, name, payload)


@dataclass(frozen=True, slots=True)
class Unannounced:
    """A rerun whose RERUN_ACCEPTED may not have been published (its per-attempt claim is missing).

    Attributes:
        reason: the latest rerun-log row's reason (a ``job-fail-retry`` is never announced), or the
            request's when its row is missing.
        rerun_count: rerun-log rows in that reason's budget, the latest (or missing) one included.
        unrecorded: the run was reset but its rerun-log and job-log rows were never written.
    """

    reason: str
    rerun_count: int
    unrecorded: bool = False


def started_by(row: RunRow | None, record: str | None) -> bool:
    """Whether ``row`` is a RUNNING run acquired by ``record`` (its ``startRecord``: a trigger write's
    SequenceNumber, a cron fire's ``cron@<fireAt>``), so ``record`` is the input that started the run,
    delivered again, and its first handling may have died between AcquireRun and StartExecution.

    Only then does a start stopped by the run's row re-issue the attempt (:func:`decide_resume`);
    any other trigger write or fire for a RUNNING period starts nothing (one StartExecution per
    attempt).
    """
    return (
        row is not None
        and row.status is RunStatus.RUNNING
        and bool(record)
        and row.start_record == record
    )


def decide_resume(
    config: PipelineConfig,
    run_row: RunRow | None,
    *,
    now: datetime,
    unannounced: Unannounced | None = None,
) -> Decision:
    """Start the current attempt of a RUNNING run again, in case its start was lost.

    A record that would start a run (trigger sensor, cron fire, retry, rerun) is redelivered when the
    process handling it died after the run row was written (AcquireRun, ResetRun) and before its
    StartExecution; the redelivery then loses the row's condition and starts nothing, and the run
    would sit RUNNING until its lock expired. So a start stopped by the run's row re-issues the start
    of the row's attempt: starts are idempotent by execution name (per attempt) and job starts by run
    id, so a running or finished execution is found, never started twice.

    A redelivered rerun request also announces the attempt when ``unannounced`` says its
    RERUN_ACCEPTED claim is missing (the first handling died, or the bus refused the event, after the
    run was reset).

    Args:
        config: the pipeline.
        run_row: the run's row now.
        now: the instant of the decision.
        unannounced: the rerun to announce, if its announcement is missing.

    Returns:
        ``next="resume"`` with the announcement (if any) then the StartExecution of the row's attempt;
        nothing for a run that is not RUNNING, has no attempt (the original's rows) or is stale (the
        watchdog's).
    """
    if run_row is None or run_row.status is not RunStatus.RUNNING or run_row.attempt < 1:
        return _nothing("no RUNNING attempt to resume")
    expires = run_row.lock_expires_at
    if expires is not None and expires <= now:
        return _nothing("the RUNNING attempt is stale: the watchdog reports it")
    attempt = run_row.attempt
    start = start_attempt(config, run_row.schedule, run_row.period, attempt)
    announce: tuple[Action, ...] = ()
    if (
        unannounced is not None
        and attempt > 1
        and budget_bucket(unannounced.reason) != budget_bucket(RerunReason.JOB_FAIL_RETRY)
    ):
        pid, schedule, period, reason = (
            config.id,
            run_row.schedule,
            run_row.period,
            unannounced.reason,
        )
        if unannounced.unrecorded:
            announce = (
                RecordRerun(pid, schedule, period, reason, now),
                AppendJobLog(pid, schedule, period, JobEvent.RERUN_ACCEPTED, now, error=reason),
            )
        announce += _announce_accepted(
            config,
            run_row.schedule,
            run_row.period,
            unannounced.reason,
            attempt,
            unannounced.rerun_count,
            now,
        )
    return Decision(
        (*announce, start),
        "resume",
        {"pipelineId": config.id, "attempt": attempt, "executionName": start.name},
        f"re-issue the start of attempt {attempt} (idempotent by name)",
    )


def _event(
    config_id: str,
    schedule: str,
    period: str,
    type_: EventType,
    message: str,
    now: datetime,
    **detail: Any,
) -> PublishEvent:
    return PublishEvent(type_, config_id, schedule, period, message, now, detail)


def _nothing(reason: str) -> Decision:
    return Decision(next=None, output={"reason": reason}, reason=reason)


def _row_attempt(item: Mapping[str, Any]) -> int | None:
    detail = item.get("detail")
    value = detail.get("attempt") if isinstance(detail, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


# ------------------------------------------------------------------------------------ job log


def decide_job_log(
    config: PipelineConfig | None,
    write: JobLogWrite,
    *,
    run_row: RunRow | None,
    retries_used: int,
    calendars: Mapping[str, Calendar],
    now: datetime,
) -> Decision:
    """Decide what a job-log row means (see the module docstring).

    Args:
        config: the pipeline's config (``None``: unknown pipeline; success still publishes).
        write: the routed job-log row.
        run_row: the run's row now.
        retries_used: ``job-fail-retry`` rerun rows already recorded for the run.
        calendars: named calendars.
        now: the instant of the decision.

    Returns:
        ``next="completed"`` with JOB_COMPLETED; ``next="retry"`` with the retry's actions;
        ``next="exhausted"``/``"excluded"``; or nothing.
    """
    pid, schedule, period = write.pipeline_id, write.schedule, write.period
    if write.event == JobEvent.SUCCESS:
        event = _event(pid, schedule, period, EventType.JOB_COMPLETED, "job completed", now)
        written_by = _row_attempt(write.item)
        claim: tuple[Action, ...] = ()
        if written_by is not None:  # ours: once per attempt, a replayed row announces nothing
            name = once_per_attempt(EventType.JOB_COMPLETED, written_by)
            claim = (Claim(pid, name, schedule, period, now),)
        return Decision(
            (*claim, event), "completed", {"pipelineId": pid}, f"{pid} {period} succeeded"
        )
    if write.event not in _FAILURES:
        return _nothing(f"job-log {write.event!r} rows need nothing from the router")
    if config is None:
        return _nothing(f"{pid} has no config: no retry")
    if run_row is None:
        return _nothing(f"{pid} {schedule} {period} has no run row: nothing to retry")
    written_by = _row_attempt(write.item)
    if written_by is not None and written_by != run_row.attempt:
        return _nothing(
            f"failure of attempt {written_by} is stale: the run is at attempt {run_row.attempt}"
        )
    if run_row.status is RunStatus.RUNNING and written_by is None:
        # an external writer's failure while our execution still runs: the execution decides
        return _nothing("the run is still RUNNING; its execution reports the outcome")
    category = str(write.item.get("category") or "").upper()
    permanent = category == _PERMANENT
    budget = config.job.maxCodeRetries if permanent else config.job.maxRetries
    kind = "maxCodeRetries" if permanent else "maxRetries"
    if budget == 0:
        return _nothing(f"{kind} is 0: failures are not retried")
    if retries_used >= budget:
        message = f"retry limit reached ({retries_used}/{budget}, {kind}) for {pid}"
        event = _event(
            pid,
            schedule,
            period,
            EventType.RETRY_EXHAUSTED,
            message,
            now,
            retries=retries_used,
            maxRetries=budget,
            category=category or None,
        )
        return Decision((event,), "exhausted", {"pipelineId": pid}, message)
    excluded = period_exclusion(config, period, calendars)
    if excluded is not None:
        message = f"job failure retry skipped for {pid}: {excluded}"
        event = _event(
            pid, schedule, period, EventType.PIPELINE_EXCLUDED, message, now, reason=excluded
        )
        return Decision((event,), "excluded", {"pipelineId": pid}, message)
    attempt = run_row.attempt + 1
    actions: tuple[Action, ...] = (
        ResetRun(pid, schedule, period, now, attempt=run_row.attempt),
        RecordRerun(
            pid,
            schedule,
            period,
            RerunReason.JOB_FAIL_RETRY.value,
            now,
            source_job_event=write.event,
        ),
        start_attempt(config, schedule, period, attempt),
    )
    reason = f"retry {retries_used + 1} of {budget} ({kind}) as attempt {attempt}"
    return Decision(actions, "retry", {"pipelineId": pid, "attempt": attempt}, reason)


# ------------------------------------------------------------------------------ rerun requests


@dataclass(frozen=True, slots=True)
class RerunFacts:
    """What :func:`decide_rerun` reads, gathered by the caller.

    Attributes:
        run_row: the run's row now (``None``: the period never ran).
        used: rerun rows already counted against the request's budget.
        latest_job: the run's latest job-log row, if any.
        sensors_changed: whether some sensor was written after ``latest_job`` (the circuit breaker).
        requested_at: the request's ``requestedAt`` (its identity; ``None`` for a request without one).
    """

    run_row: RunRow | None
    used: int
    latest_job: JobEntry | None
    sensors_changed: bool
    requested_at: datetime | None = None


def _reject(
    config: PipelineConfig, req: RerunRequested, now: datetime, why: str, claim: tuple[Action, ...]
) -> Decision:
    pid = config.id
    message = f"rerun rejected for {pid}: {why}"
    actions: tuple[Action, ...] = (
        *claim,
        AppendJobLog(pid, req.schedule, req.period, JobEvent.RERUN_REJECTED, now, error=why),
        _event(
            pid, req.schedule, req.period, EventType.RERUN_REJECTED, message, now, reason=req.reason
        ),
    )
    return Decision(actions, "rejected", {"pipelineId": pid, "why": why}, message)


def request_claim(requested_at: datetime) -> str:
    """The claim name of a rerun request: its ``requestedAt`` is its identity (handled once)."""
    return f"rerun-{keys.epoch_ms(requested_at)}"


def decide_rerun(
    config: PipelineConfig,
    req: RerunRequested,
    facts: RerunFacts,
    *,
    calendars: Mapping[str, Calendar],
    now: datetime,
) -> Decision:
    """Accept or reject a rerun request (see the module docstring).

    Args:
        config: the pipeline's config (live: dry-run requests go to :mod:`interlock.lifecycle.dryrun`).
        req: the routed request.
        facts: what the decision reads.
        calendars: named calendars.
        now: the instant of the decision.

    Returns:
        ``next="accepted"`` (the rerun starts as the next attempt), ``"rejected"`` or ``"excluded"``.
    """
    pid, schedule, period = config.id, req.schedule, req.period
    claim: tuple[Action, ...] = ()
    if facts.requested_at is not None:
        claim = (Claim(pid, request_claim(facts.requested_at), schedule, period, now),)
    excluded = period_exclusion(config, period, calendars)
    if excluded is not None:
        message = f"rerun blocked for {pid}: {excluded}"
        actions: tuple[Action, ...] = (
            *claim,
            AppendJobLog(pid, schedule, period, JobEvent.RERUN_REJECTED, now, error=excluded),
            _event(
                pid, schedule, period, EventType.PIPELINE_EXCLUDED, message, now, reason=excluded
            ),
        )
        return Decision(actions, "excluded", {"pipelineId": pid}, message)
    budget, label = budget_for(config, req.reason)
    if facts.used >= budget:
        return _reject(
            config, req, now, f"{label} rerun limit exceeded ({facts.used}/{budget})", claim
        )
    row = facts.run_row
    if row is None:
        return _reject(config, req, now, f"{period} never ran, so there is nothing to rerun", claim)
    if row.status is RunStatus.RUNNING:
        return _reject(
            config,
            req,
            now,
            f"attempt {row.attempt} is still running; ask again after it ends",
            claim,
        )
    latest = facts.latest_job
    if latest is not None and latest.event == JobEvent.SUCCESS and not facts.sensors_changed:
        return _reject(
            config, req, now, "previous run succeeded and no sensor data has changed", claim
        )
    attempt = row.attempt + 1
    # The start goes before the announcement, and the announcement is claimed per attempt: a record
    # redelivered after a crash or a refused publish finds its request claimed and the run RUNNING, and
    # decide_resume starts the attempt and announces it if the claim is missing (nothing lost, nothing
    # announced twice).
    actions = (
        *claim,
        ResetRun(pid, schedule, period, now, attempt=row.attempt),
        RecordRerun(pid, schedule, period, req.reason, now),
        AppendJobLog(pid, schedule, period, JobEvent.RERUN_ACCEPTED, now, error=req.reason),
        start_attempt(config, schedule, period, attempt),
        *_announce_accepted(config, schedule, period, req.reason, attempt, facts.used + 1, now),
    )
    message = f"rerun accepted for {pid} (reason: {req.reason}) as attempt {attempt}"
    return Decision(actions, "accepted", {"pipelineId": pid, "attempt": attempt}, message)


def _announce_accepted(
    config: PipelineConfig,
    schedule: str,
    period: str,
    reason: str,
    attempt: int,
    rerun_count: int,
    now: datetime,
) -> tuple[Action, ...]:
    """RERUN_ACCEPTED of ``attempt``, once (its claim is released if the publish fails)."""
    pid = config.id
    budget, _ = budget_for(config, reason)
    message = f"rerun accepted for {pid} (reason: {reason}) as attempt {attempt}"
    return (
        Claim(pid, once_per_attempt(EventType.RERUN_ACCEPTED, attempt), schedule, period, now),
        _event(
            pid,
            schedule,
            period,
            EventType.RERUN_ACCEPTED,
            message,
            now,
            reason=reason,
            attempt=attempt,
            rerunCount=rerun_count,
            budget=budget,
        ),
    )
