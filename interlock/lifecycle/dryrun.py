"""Dry-run (shadow) mode: observe the real sensors, publish DRY_RUN_* events, change nothing (§4.7).

A pipeline is in dry run when its YAML says ``dryRun: true`` or an operator's ``dry-run`` override says
so (the override wins). Nothing here acquires a run, starts an execution, triggers a job, writes a
rerun request or a rerun row: the only writes are the ``DRY_RUN#`` marker (once per period) and the
post-run baseline the marker's period would have captured::

    input                        decide_*                  events
    ---------------------------  ------------------------  -------------------------------------------------
    trigger sensor, no marker    decide_dry_run_trigger    rules pass: MarkDryRun → DRY_RUN_WOULD_TRIGGER →
                                                           DRY_RUN_SLA_PROJECTION (with expectedDuration) →
                                                           DRY_RUN_COMPLETED; rules fail: nothing
    trigger sensor, marker       decide_dry_run_trigger    DRY_RUN_LATE_DATA (lateBy)
    excluded day                 decide_dry_run_trigger    nothing (a live pipeline would be excluded too)
    post-run sensor              decide_dry_run_postrun    drift against the marker's baseline: DRY_RUN_DRIFT
    rerun request                decide_dry_run_rerun      DRY_RUN_WOULD_RERUN or DRY_RUN_RERUN_REJECTED
    job failure row              decide_dry_run_failure    DRY_RUN_WOULD_RETRY or DRY_RUN_RETRY_EXHAUSTED

Switching dry run **off** mid-day: the periods already marked stay marked (no live run was started for
them, so a later trigger sensor for such a period starts the live run then); periods not yet seen run
live from the next trigger. Switching it **on** while a live run is in flight: that run finishes live
(its execution is already started); everything after is observed only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from interlock.events import EventType
from interlock.exceptions import InterlockError
from interlock.lifecycle.actions import Decision, MarkDryRun, PublishEvent
from interlock.lifecycle.postrun import capture_baseline, detect_drift, postrun_rule_key
from interlock.lifecycle.reruns import budget_for
from interlock.lifecycle.sla_monitor import sla_projection
from interlock.rules import evaluate
from interlock.schedule import Period
from interlock.store import keys

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime, timedelta

    from interlock.config.models import PipelineConfig
    from interlock.lifecycle.actions import Action
    from interlock.lifecycle.reruns import RerunFacts
    from interlock.lifecycle.router import RerunRequested
    from interlock.records import DryRunMarker

__all__ = [
    "decide_dry_run_failure",
    "decide_dry_run_postrun",
    "decide_dry_run_rerun",
    "decide_dry_run_trigger",
]


def _event(
    config: PipelineConfig,
    schedule: str,
    period: str,
    type_: EventType,
    message: str,
    now: datetime,
    **detail: Any,
) -> PublishEvent:
    return PublishEvent(type_, config.id, schedule, period, message, now, detail)


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    sign = "-" if seconds < 0 else ""
    return f"{sign}{hours}h{minutes:02d}m{secs:02d}s"


def _projection(config: PipelineConfig, period: str, now: datetime) -> dict[str, Any]:
    try:
        parsed = Period.parse(period)
    except InterlockError:
        return {}
    return sla_projection(config, parsed, triggered_at=now, arrived_at=now)


def decide_dry_run_trigger(
    config: PipelineConfig,
    *,
    schedule_id: str,
    period: str,
    marker: DryRunMarker | None,
    sensors: Mapping[str, Mapping[str, Any] | None],
    excluded: str | None,
    now: datetime,
) -> Decision:
    """A trigger sensor (or a cron fire) of a dry-run pipeline (see the module docstring).

    Args:
        config: the pipeline.
        schedule_id: the period's schedule.
        period: the period.
        marker: the period's ``DRY_RUN#`` marker, if any.
        sensors: the pipeline's sensors, remapped for ``period``.
        excluded: why the period's day is excluded, if it is.
        now: the instant.
    """
    if excluded is not None:
        return Decision(reason=f"dry run: {period} is excluded ({excluded})")
    if marker is not None:
        if marker.triggered_at is None:
            return Decision(reason="dry-run marker without triggeredAt")
        late = now - marker.triggered_at
        message = (
            f"dry run: trigger data arrived {_duration(late)} after {config.id} would have run"
        )
        event = _event(
            config,
            schedule_id,
            period,
            EventType.DRY_RUN_LATE_DATA,
            message,
            now,
            triggeredAt=keys.format_time(marker.triggered_at),
            lateBy=_duration(late),
        )
        return Decision((event,), "dry-run-late", {"pipelineId": config.id}, message)
    evaluation = evaluate(config.validation, sensors, now)
    if not evaluation.passed:
        return Decision(reason=f"dry run: rules not met ({evaluation.passed_count} passing)")
    stamp = keys.format_time(now)
    actions: list[Action] = [MarkDryRun(config.id, schedule_id, period, now)]
    actions += capture_baseline(
        config, sensors, schedule_id=schedule_id, period=period, now=now, publish=False
    )
    actions.append(
        _event(
            config,
            schedule_id,
            period,
            EventType.DRY_RUN_WOULD_TRIGGER,
            f"dry run: {config.id} would trigger its {config.job.type} job now",
            now,
            triggeredAt=stamp,
            rulesEvaluated=len(evaluation.results),
        )
    )
    projection = _projection(config, period, now)
    if projection:
        status = projection.get("status", "n/a")
        actions.append(
            _event(
                config,
                schedule_id,
                period,
                EventType.DRY_RUN_SLA_PROJECTION,
                f"dry run: projected completion {projection['estimatedCompletion']} ({status})",
                now,
                **projection,
            )
        )
    completed: dict[str, Any] = {
        "triggeredAt": stamp,
        "slaStatus": projection.get("status", "n/a"),
    }
    for name in ("estimatedCompletion", "deadline"):
        if name in projection:
            completed[name] = projection[name]
    actions.append(
        _event(
            config,
            schedule_id,
            period,
            EventType.DRY_RUN_COMPLETED,
            f"dry run: evaluation of {config.id} {period} finished (SLA {completed['slaStatus']})",
            now,
            **completed,
        )
    )
    return Decision(tuple(actions), "dry-run-trigger", {"pipelineId": config.id}, "would trigger")


def decide_dry_run_postrun(
    config: PipelineConfig,
    *,
    sensor_key: str,
    fields: Mapping[str, Any],
    schedule_id: str,
    period: str,
    marker: DryRunMarker | None,
    baseline: Mapping[str, Any] | None,
    now: datetime,
) -> Decision:
    """A post-run sensor of a dry-run pipeline: drift against the would-be run's baseline."""
    rule_key = postrun_rule_key(config, sensor_key)
    post = config.postRun
    if marker is None or post is None or rule_key is None:
        return Decision(reason="dry run: no would-be run or not a post-run sensor")
    previous = (baseline or {}).get(rule_key)
    if not isinstance(previous, dict):
        return Decision(reason="dry run: no baseline to compare")
    drift = detect_drift(previous, fields, field=post.driftField, threshold=post.driftThreshold)
    if drift is None:
        return Decision(reason="dry run: no drift")
    message = (
        f"dry run: {drift['driftField']} drifted {drift['previousCount']} → "
        f"{drift['currentCount']} after the would-be run of {config.id}"
    )
    event = _event(
        config,
        schedule_id,
        period,
        EventType.DRY_RUN_DRIFT,
        message,
        now,
        **drift,
        sensorKey=sensor_key,
    )
    return Decision((event,), "dry-run-drift", {"pipelineId": config.id}, message)


def decide_dry_run_rerun(
    config: PipelineConfig,
    req: RerunRequested,
    facts: RerunFacts,
    *,
    excluded: str | None,
    now: datetime,
) -> Decision:
    """A rerun request for a dry-run pipeline: would it be accepted?"""
    budget, label = budget_for(config, req.reason)
    base = {"reason": req.reason, "rerunCount": facts.used, "budget": budget}
    why: str | None = None
    breaker = "passed" if facts.latest_job is not None else "skipped (no job history)"
    if excluded is not None:
        why = "excluded by calendar"
    elif facts.used >= budget:
        why = f"{label} rerun limit exceeded"
    elif (
        facts.latest_job is not None
        and facts.latest_job.event == "success"
        and not facts.sensors_changed
    ):
        why, breaker = "circuit breaker", "rejected"
    if why is not None:
        message = f"dry run: a rerun of {config.id} would be rejected ({why})"
        event = _event(
            config,
            req.schedule,
            req.period,
            EventType.DRY_RUN_RERUN_REJECTED,
            message,
            now,
            **{**base, "reason": why, "circuitBreaker": breaker},
        )
        return Decision((event,), "dry-run-rerun-rejected", {"pipelineId": config.id}, message)
    message = f"dry run: a {req.reason} rerun of {config.id} would be accepted"
    event = _event(
        config,
        req.schedule,
        req.period,
        EventType.DRY_RUN_WOULD_RERUN,
        message,
        now,
        **base,
        circuitBreaker=breaker,
    )
    return Decision((event,), "dry-run-would-rerun", {"pipelineId": config.id}, message)


def decide_dry_run_failure(
    config: PipelineConfig,
    *,
    schedule_id: str,
    period: str,
    retries_used: int,
    permanent: bool,
    excluded: str | None,
    now: datetime,
) -> Decision:
    """A job failure row for a dry-run pipeline (an external writer's): would it be retried?"""
    budget = config.job.maxCodeRetries if permanent else config.job.maxRetries
    detail: dict[str, Any] = {"retries": retries_used, "maxRetries": budget}
    if excluded is not None or retries_used >= budget:
        reason = "excluded by calendar" if excluded is not None else "retry budget spent"
        message = f"dry run: a failure of {config.id} would not be retried ({reason})"
        event = _event(
            config,
            schedule_id,
            period,
            EventType.DRY_RUN_RETRY_EXHAUSTED,
            message,
            now,
            **detail,
            reason=reason,
        )
        return Decision((event,), "dry-run-retry-exhausted", {"pipelineId": config.id}, message)
    message = f"dry run: a failure of {config.id} would be retried ({retries_used + 1}/{budget})"
    event = _event(
        config, schedule_id, period, EventType.DRY_RUN_WOULD_RETRY, message, now, **detail
    )
    return Decision((event,), "dry-run-would-retry", {"pipelineId": config.id}, message)
