"""The SLA monitor's decisions, pure: plan a run's SLA timers, decide what a fired timer does, give the verdict.

The deadline math lives in :mod:`interlock.sla` (absolute ``HH:MM`` / ``:MM`` windows in the SLA's time
zone, the T+1 day of sensor-started daily pipelines, relative ``maxDuration`` windows from the first
sensor arrival); this module only turns those windows into actions::

    when                          function            actions
    ----------------------------  ------------------  ------------------------------------------------------
    a run starts (or ahead of     plan_sla_timers     ScheduleTimer "<run>-sla-warning" at warningAt (if the
    time, for a cron pipeline)                        SLA has expectedDuration) and "<run>-sla-breach" at
                                                      breachAt; relative windows use "relative-warning" /
                                                      "relative-breach" and cancel the absolute pair
    a timer fires                 decide_sla_alert    Claim(<EVENT_TYPE>) + PublishEvent(SLA_WARNING |
                                                      SLA_BREACH | RELATIVE_SLA_WARNING | RELATIVE_SLA_BREACH)
                                                      or nothing, with a reason (see below)
    the run completes             decide_sla_verdict  CancelTimer × 4 + PublishEvent(SLA_MET | SLA_BREACH)
    a run stops without success   cancel_sla_timers   CancelTimer × 4 (only if the caller wants silence)
    dry run                       sla_projection      the DRY_RUN_SLA_PROJECTION detail (no actions)

What a fired timer does (:func:`decide_sla_alert`)::

    payload not ours / other pipeline ───────────────────────▶ ValueError (the handler reports it)
    pipeline in dry run, or its SLA was removed ─────────────▶ nothing
    run row COMPLETED ───────────────────────────────────────▶ nothing (before the alert time: met it;
                                                                after: the verdict already told)
    a warning fired at or after its breach time ─────────────▶ nothing (the breach alert covers it)
    otherwise ──▶ Claim(<EVENT_TYPE>, schedule, period) ──▶ PublishEvent, detail {status, source, deadline,
                  warningAt, breachAt, actionHint, acknowledged?}

Decisions on purpose:

* **A timer whose time has already passed is still scheduled** (plan, then act: the planner never reads the
  clock's "now" against the alert to drop it); the runtime fires it at once, and :func:`decide_sla_alert`
  then decides as for any other timer. A warning that would fire after its breach is suppressed there.
* **Alerts are at most once per pipeline, schedule and period** (the Claim's name is the event type), so a
  rerun that re-plans the same timers, a duplicate timer delivery, and the watchdog's own
  RELATIVE_SLA_BREACH never alert twice.
* **A FAILED_FINAL run is not suppressed** (the original was): its data is still late, and the alert's
  ``actionHint`` says a rerun is needed. Only a COMPLETED run silences its timers.
* **An acknowledged run still publishes** (the event is stored and the Slack root message updated) with
  ``detail["acknowledged"] = True``, which notifiers skip (:func:`interlock.alerts.base.is_acknowledged`).
* **The verdict is binary and only for completed runs**: SLA_BREACH at or after the breach instant, else
  SLA_MET (WARNING is never a verdict). It is not claimed: each completed attempt gets its own verdict.

Timer payload (JSON-able; ``kind`` routes it to the SLA monitor)::

    {"kind": "sla", "alert": "warning" | "breach" | "relative-warning" | "relative-breach",
     "pipelineId": ..., "scheduleId": ..., "period": ..., "at": <RFC 3339 UTC, the alert time>,
     "breachAt": <RFC 3339 UTC>, "warningAt": <RFC 3339 UTC, if any>,
     "deadline": <sla.deadline, absolute only>,
     "sensorArrivalAt": <RFC 3339 UTC>, "maxDuration": <e.g. "2h">       (relative only)}

Timer names (:func:`sla_timer_name`) are ``<pid>-<schedule>-<period>-sla-<kind>``, at most 64 characters
from ``[A-Za-z0-9_-]`` (EventBridge Scheduler's limit); long or unsafe pipeline ids are cut and hashed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal, cast, get_args

from interlock.durations import format_duration
from interlock.events import CATALOGUE, EventType
from interlock.exceptions import SLAError
from interlock.lifecycle.actions import (
    CancelTimer,
    Claim,
    Decision,
    PublishEvent,
    RunRef,
    ScheduleTimer,
)
from interlock.names import safe_name
from interlock.records import RunStatus
from interlock.schedule import Period
from interlock.sla import sla_window, verdict

if TYPE_CHECKING:
    from collections.abc import Mapping

    from interlock.config.models import PipelineConfig
    from interlock.lifecycle.actions import Action
    from interlock.records import RunRow
    from interlock.sla import SLAWindow

__all__ = [
    "ALERT_EVENTS",
    "MAX_TIMER_NAME",
    "SOURCE",
    "TIMER_KIND",
    "AlertKind",
    "cancel_sla_timers",
    "decide_sla_alert",
    "decide_sla_verdict",
    "plan_sla_timers",
    "sla_projection",
    "sla_timer_name",
]

AlertKind = Literal["warning", "breach", "relative-warning", "relative-breach"]
"""Which SLA timer: the absolute pair or the relative pair."""

TIMER_KIND: Final = "sla"
"""The ``kind`` of every SLA timer payload (routes the timer to :func:`decide_sla_alert`)."""
MAX_TIMER_NAME: Final = 64
"""EventBridge Scheduler's limit on schedule names."""
SOURCE: Final = "sla-monitor"
"""The ``source`` detail field of the SLA monitor's events."""

ALERT_EVENTS: Final[Mapping[str, EventType]] = {
    "warning": EventType.SLA_WARNING,
    "breach": EventType.SLA_BREACH,
    "relative-warning": EventType.RELATIVE_SLA_WARNING,
    "relative-breach": EventType.RELATIVE_SLA_BREACH,
}
"""The event each timer kind publishes."""

_KINDS: Final[tuple[AlertKind, ...]] = get_args(AlertKind)
_ACKED_HINT: Final = "acknowledged by an operator — stored, not re-notified"


def _z(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_z(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(
            f"SLA timer payload field {name!r} must be an RFC 3339 string, got {value!r}"
        )
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"SLA timer payload field {name!r} is not RFC 3339: {value!r}") from None
    if parsed.utcoffset() is None:
        raise ValueError(f"SLA timer payload field {name!r} has no offset: {value!r}")
    return parsed.astimezone(UTC)


# ------------------------------------------------------------------------------------- timer names


def sla_timer_name(pipeline_id: str, schedule_id: str, period: str, kind: AlertKind) -> str:
    """The deterministic name of one SLA timer of one run.

    ``<pid>-<schedule>-<period>-sla-<kind>``, e.g. ``orders-stream-2026-03-07T10-sla-warning``. Characters
    outside ``[A-Za-z0-9_-]`` become ``_``. When anything was replaced (two ids could then collide) or the
    name is over 64 characters, the pipeline id part is cut and a hash of the unsanitised name is appended
    to it, so the schedule, period and kind always stay readable at the end.

    Args:
        pipeline_id: the pipeline.
        schedule_id: ``cron`` or ``stream``.
        period: the run's period id.
        kind: which timer.

    Returns:
        A name of at most 64 characters from ``[A-Za-z0-9_-]``.

    Raises:
        ValueError: ``kind`` is not an SLA timer kind.
    """
    if kind not in _KINDS:
        raise ValueError(f"unknown SLA timer kind {kind!r}; known: {', '.join(_KINDS)}")
    return safe_name(pipeline_id, f"-{schedule_id}-{period}-sla-{kind}", limit=MAX_TIMER_NAME)


def _names(run: RunRef) -> dict[AlertKind, str]:
    return {k: sla_timer_name(run.pipeline_id, run.schedule_id, run.period, k) for k in _KINDS}


# ---------------------------------------------------------------------------------------- planning


def _timer(
    config: PipelineConfig, run: RunRef, kind: AlertKind, at: datetime, window: SLAWindow
) -> ScheduleTimer:
    payload: dict[str, Any] = {
        "kind": TIMER_KIND,
        "alert": kind,
        "pipelineId": run.pipeline_id,
        "scheduleId": run.schedule_id,
        "period": run.period,
        "at": _z(at),
        "breachAt": _z(window.breach_at),
    }
    if window.warning_at is not None:
        payload["warningAt"] = _z(window.warning_at)
    sla = config.sla
    assert sla is not None  # callers plan only with a window, which needs an SLA
    if window.kind == "absolute" and sla.deadline is not None:
        payload["deadline"] = sla.deadline
    if window.kind == "relative" and sla.maxDuration is not None:
        payload["sensorArrivalAt"] = _z(window.breach_at - sla.maxDuration)
        payload["maxDuration"] = format_duration(sla.maxDuration)
    name = sla_timer_name(run.pipeline_id, run.schedule_id, run.period, kind)
    return ScheduleTimer(name=name, at=at, payload=payload)


def plan_sla_timers(
    config: PipelineConfig, run: RunRef, *, now: datetime, arrived_at: datetime | None
) -> tuple[Action, ...]:
    """The ScheduleTimer actions of a run's SLA window (see the module docstring).

    Relative (``sla.maxDuration`` and a known first arrival): ``relative-warning`` and ``relative-breach``
    timers, and CancelTimer for the absolute pair that may have been planned before the arrival was known.
    Absolute (``sla.deadline``): ``warning`` (only with ``expectedDuration``) and ``breach``. Timers whose
    time has passed are planned all the same: the runtime fires them at once.

    Args:
        config: the pipeline's validated config.
        run: the run (its period is parsed with :meth:`Period.parse`).
        now: the instant of the decision (kept for the signature's symmetry; nothing is dropped by it).
        arrived_at: when the first trigger sensor of the period arrived, if known.

    Returns:
        The actions, in order; empty when there is no SLA, the pipeline is in dry run, or the SLA is
        relative-only and the arrival is unknown.

    Raises:
        ScheduleError: the run's period is not a period id.
        SLAError: the deadline cannot be computed for this period (e.g. ``:MM`` for a daily period).
        ValueError: ``arrived_at`` is naive.
    """
    del now  # plan, then act: a past alert time is the runtime's to fire at once
    if config.dryRun or config.sla is None:
        return ()
    window = sla_window(config, Period.parse(run.period), arrived_at=arrived_at)
    if window is None:
        return ()
    actions: list[Action] = []
    if window.kind == "relative":
        names = _names(run)
        actions += [CancelTimer(names["warning"]), CancelTimer(names["breach"])]
        warning_kind: AlertKind = "relative-warning"
        breach_kind: AlertKind = "relative-breach"
    else:
        warning_kind, breach_kind = "warning", "breach"
    if window.warning_at is not None:
        actions.append(_timer(config, run, warning_kind, window.warning_at, window))
    actions.append(_timer(config, run, breach_kind, window.breach_at, window))
    return tuple(actions)


def cancel_sla_timers(run: RunRef) -> tuple[CancelTimer, ...]:
    """CancelTimer actions for all four SLA timers of a run (absent timers are nothing to do).

    Args:
        run: the run.

    Returns:
        Four CancelTimer actions: warning, breach, relative-warning, relative-breach.
    """
    return tuple(CancelTimer(name) for name in _names(run).values())


# --------------------------------------------------------------------------------------- alerting


def _nothing(reason: str, **output: Any) -> Decision:
    return Decision(next=None, output={"reason": reason, **output}, reason=reason)


def _action_hint(alert: AlertKind, status: RunStatus | None, job_started: bool | None) -> str:
    breach = alert.endswith("breach")
    if status is RunStatus.RUNNING and job_started is False:
        return "job not started yet: its readiness rules do not pass — check sensor data"
    if status is RunStatus.RUNNING:
        if breach:
            return "pipeline still running past its SLA — check the job"
        return "pipeline running — may complete before breach"
    if status is RunStatus.FAILED_FINAL:
        return "run failed — request a rerun to deliver the data"
    if breach:
        return "pipeline not started — investigate trigger"
    return "pipeline not started — check sensor data"


def _only_catalogued(type_: EventType, detail: Mapping[str, Any]) -> dict[str, Any]:
    allowed = {*CATALOGUE[type_].detail_fields, "acknowledged"}
    return {k: v for k, v in detail.items() if k in allowed and v is not None}


def _read_payload(config: PipelineConfig, payload: Mapping[str, Any]) -> tuple[AlertKind, RunRef]:
    if payload.get("kind") != TIMER_KIND:
        raise ValueError(f"not an SLA timer payload (kind {payload.get('kind')!r})")
    alert = payload.get("alert")
    if alert not in _KINDS:
        raise ValueError(f"SLA timer payload has unknown alert {alert!r}")
    pid, schedule, period = (payload.get(k) for k in ("pipelineId", "scheduleId", "period"))
    if pid != config.id:
        raise ValueError(f"SLA timer for pipeline {pid!r} was given the config of {config.id!r}")
    if not isinstance(schedule, str) or not schedule or not isinstance(period, str):
        raise ValueError(f"SLA timer payload lacks scheduleId/period: {dict(payload)!r}")
    Period.parse(period)
    return cast("AlertKind", alert), RunRef(pid, schedule, period)


def decide_sla_alert(
    config: PipelineConfig,
    payload: Mapping[str, Any],
    *,
    run_row: RunRow | None,
    acked: bool,
    now: datetime,
    job_started: bool | None = None,
) -> Decision:
    """Decide what a fired SLA timer does (see the module docstring's table).

    Args:
        config: the pipeline's validated config (as it is now).
        payload: the timer's payload (:func:`plan_sla_timers`).
        run_row: the run's row (``control.get_run``), or ``None`` if the period has not started.
        acked: whether an operator acknowledgement is active for the run (``control.get_ack`` at ``now``).
        now: when the timer is handled.
        job_started: for a RUNNING row, whether its attempt triggered the job (a row is RUNNING from the
            start of evaluation, before any job exists); ``None``: unknown.

    Returns:
        Claim + PublishEvent (``next="alert"``), or no actions with a reason.

    Raises:
        ValueError: the payload is not an SLA timer payload for this pipeline, or its times are unreadable.
        ScheduleError: the payload's period is not a period id.
    """
    alert, run = _read_payload(config, payload)
    alert_at = _parse_z(payload.get("at"), "at")
    breach_at = _parse_z(payload.get("breachAt", payload.get("at")), "breachAt")
    identity = {"pipelineId": run.pipeline_id, "scheduleId": run.schedule_id, "period": run.period}
    if config.dryRun:
        return _nothing(f"{config.id} is in dry run: no live SLA alerts", **identity)
    if config.sla is None:
        return _nothing(f"{config.id} no longer has an SLA", **identity)
    status = run_row.status if run_row is not None else None
    if run_row is not None and status is RunStatus.COMPLETED:
        finished = run_row.finished_at
        if finished is None or finished <= alert_at:
            why = "completed before the alert time"
        else:
            why = "completed after the alert time; the verdict already reported it"
        return _nothing(f"{config.id} {run.period} {why}", **identity)
    if not alert.endswith("breach") and now >= breach_at:
        return _nothing(
            f"{alert} for {config.id} {run.period} fired at or after the breach time: the breach alert "
            "covers it",
            **identity,
        )
    type_ = ALERT_EVENTS[alert]
    detail: dict[str, Any] = {
        "status": status.value if status is not None else "not started",
        "source": SOURCE,
        "deadline": payload.get("deadline"),
        "warningAt": payload.get("warningAt"),
        "breachAt": payload.get("breachAt"),
        "maxDuration": payload.get("maxDuration"),
        "sensorArrivalAt": payload.get("sensorArrivalAt"),
        "actionHint": _ACKED_HINT if acked else _action_hint(alert, status, job_started),
    }
    if acked:
        detail["acknowledged"] = True
    message = _alert_message(
        alert, status, breach_at, payload.get("sensorArrivalAt"), job_started=job_started
    )
    if acked:
        message += " (acknowledged)"
    return Decision(
        actions=(
            Claim(config.id, type_.value, run.schedule_id, run.period, now),
            PublishEvent(
                type=type_,
                pipeline_id=config.id,
                schedule_id=run.schedule_id,
                period=run.period,
                message=message,
                at=now,
                detail=_only_catalogued(type_, detail),
            ),
        ),
        next="alert",
        output={**identity, "alertType": type_.value, "acknowledged": acked},
        reason=message,
    )


def _hhmm(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%H:%M UTC")


def _alert_message(
    alert: AlertKind,
    status: RunStatus | None,
    breach_at: datetime,
    arrived: Any,
    *,
    job_started: bool | None = None,
) -> str:
    """One line for people: what is late, and when it breaches (or breached)."""
    state = {
        None: "has not started",
        RunStatus.RUNNING: "is still running",
        RunStatus.FAILED_FINAL: "failed",
    }.get(status, "has not finished")
    if status is RunStatus.RUNNING and job_started is False:
        # the row is RUNNING from the start of evaluation: no job runs yet
        state = "has not started its job (its readiness rules do not pass yet)"
    origin = ""
    if alert.startswith("relative") and isinstance(arrived, str):
        first = _hhmm(_parse_z(arrived, "sensorArrivalAt"))
        origin = f" (clock started by the first sensor at {first})"
    if alert.endswith("breach"):
        return f"SLA breached at {_hhmm(breach_at)}: the run {state}{origin}"
    return f"SLA at risk: the run {state}; breach at {_hhmm(breach_at)}{origin}"


# ---------------------------------------------------------------------------------------- verdict


def decide_sla_verdict(
    config: PipelineConfig,
    run: RunRef,
    *,
    completed_at: datetime,
    arrived_at: datetime | None,
) -> Decision:
    """The SLA verdict of a run that completed: cancel its timers and publish SLA_MET or SLA_BREACH.

    Args:
        config: the pipeline's validated config.
        run: the run that completed.
        completed_at: when it completed, timezone-aware.
        arrived_at: when its first trigger sensor arrived, if known (a relative SLA needs it).

    Returns:
        CancelTimer × 4 then PublishEvent (``next`` is the verdict); no actions when there is no SLA or
        the pipeline is in dry run; only the cancels when the window cannot be known (relative-only
        SLA without an arrival, or a deadline that does not fit the period: the reason says which).

    Raises:
        ScheduleError: the run's period is not a period id.
        ValueError: ``completed_at`` or ``arrived_at`` is naive.
    """
    identity = {"pipelineId": run.pipeline_id, "scheduleId": run.schedule_id, "period": run.period}
    if config.sla is None:
        return _nothing(f"{config.id} has no SLA", **identity)
    if config.dryRun:
        return _nothing(f"{config.id} is in dry run: no live SLA verdict", **identity)
    cancels = cancel_sla_timers(run)
    try:
        window = sla_window(config, Period.parse(run.period), arrived_at=arrived_at)
    except SLAError as exc:
        reason = f"no SLA verdict for {config.id} {run.period}: {exc}"
        return Decision(actions=cancels, output={**identity, "reason": reason}, reason=reason)
    if window is None:
        reason = f"no SLA verdict for {config.id} {run.period}: the first sensor arrival is unknown"
        return Decision(actions=cancels, output={**identity, "reason": reason}, reason=reason)
    outcome = verdict(window, completed_at)
    type_ = EventType(outcome)
    detail: dict[str, Any] = {}
    if type_ is EventType.SLA_BREACH:
        detail = {
            "status": RunStatus.COMPLETED.value,
            "source": SOURCE,
            "deadline": config.sla.deadline if window.kind == "absolute" else None,
            "warningAt": None if window.warning_at is None else _z(window.warning_at),
            "breachAt": _z(window.breach_at),
            "actionHint": f"run completed {format_duration(completed_at - window.breach_at)} "
            "after the SLA breach time",
        }
    delta = format_duration(abs(completed_at - window.breach_at))
    side = "after" if type_ is EventType.SLA_BREACH else "before"
    message = (
        f"finished at {_hhmm(completed_at)}, {delta} {side} the SLA breach time "
        f"{_hhmm(window.breach_at)}"
    )
    event = PublishEvent(
        type=type_,
        pipeline_id=config.id,
        schedule_id=run.schedule_id,
        period=run.period,
        message=message,
        at=completed_at,
        detail=_only_catalogued(type_, detail),
    )
    return Decision(
        actions=(*cancels, event),
        next=outcome,
        output={
            **identity,
            "alertType": outcome,
            "warningAt": None if window.warning_at is None else _z(window.warning_at),
            "breachAt": _z(window.breach_at),
        },
        reason=message,
    )


# ------------------------------------------------------------------------------------- projection


def sla_projection(
    config: PipelineConfig,
    period: Period,
    *,
    triggered_at: datetime,
    arrived_at: datetime | None = None,
) -> dict[str, Any]:
    """The DRY_RUN_SLA_PROJECTION detail of a would-be run triggered at ``triggered_at``.

    The run is projected to finish ``expectedDuration`` after it triggered; ``status`` is ``"breach"``
    when that is at or after the breach instant (the verdict's rule), else ``"met"``, and ``"n/a"`` when
    the window cannot be known (relative-only SLA without an arrival, or an unusable deadline).

    Args:
        config: the pipeline's validated config.
        period: the would-be run's period.
        triggered_at: when it would have triggered, timezone-aware.
        arrived_at: when its first trigger sensor arrived, for a relative SLA.

    Returns:
        ``{triggeredAt, estimatedCompletion, expectedDuration, status, deadline?, marginSeconds?}``
        (``deadline`` is the breach instant, RFC 3339 UTC; ``marginSeconds`` is breach minus estimated
        completion, negative when late); ``{}`` when there is no SLA or no ``expectedDuration`` (nothing
        to project: publish no projection).
    """
    sla = config.sla
    if sla is None or sla.expectedDuration is None:
        return {}
    estimated = triggered_at + sla.expectedDuration
    out: dict[str, Any] = {
        "triggeredAt": _z(triggered_at),
        "estimatedCompletion": _z(estimated),
        "expectedDuration": format_duration(sla.expectedDuration),
        "status": "n/a",
    }
    try:
        window = sla_window(config, period, arrived_at=arrived_at)
    except SLAError:
        window = None
    if window is None:
        return out
    out["status"] = "breach" if verdict(window, estimated) == "SLA_BREACH" else "met"
    out["deadline"] = _z(window.breach_at)
    out["marginSeconds"] = int((window.breach_at - estimated).total_seconds())
    return out
