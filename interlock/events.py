"""The event catalogue: every event Interlock publishes, what it means, and who is told.

This module is the single source of truth for events (DESIGN §4). It holds:

* :class:`EventType`: every detail-type Interlock emits;
* :data:`CATALOGUE`: one :class:`EventSpec` per type (severity, Slack routing, emitter, detail fields);
* :class:`Event`: the one event model, with the EventBridge detail envelope
  (:meth:`Event.to_detail` / :meth:`Event.from_detail`); it lives in :mod:`interlock.envelope` and is
  importable from here, loaded on first use;
* :func:`catalogue_markdown`: the generated ``docs/events.md`` (a test fails when the file drifts).

Every event travels the same way::

    core decides ──▶ executor publishes ──▶ bus (source="interlock", detail-type=<EventType>)
                                              ├──▶ event-sink: stores the whole detail (every event)
                                              └──▶ alert rule (spec.alerts) ──▶ alert-dispatcher ──▶ Slack thread

Pure: imports only the standard library, and never reads the clock (``now`` is passed in). The event
model needs pydantic, which costs ~50 ms to import: the controller and every Lambda handler read
:class:`EventType` and :data:`CATALOGUE` from here without paying for it, and ``interlock.events.Event``
loads :mod:`interlock.envelope` the first time it is asked for (PEP 562 module ``__getattr__``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from interlock.envelope import Event

__all__ = [
    "CATALOGUE",
    "INFRASTRUCTURE",
    "SOURCE",
    "Event",
    "EventSpec",
    "EventType",
    "Severity",
    "catalogue_markdown",
]

SOURCE = "interlock"
"""The EventBridge ``source`` of every Interlock event (the original's, so existing rules keep matching)."""

INFRASTRUCTURE = "INFRASTRUCTURE"
"""Pipeline id for events about Interlock itself rather than one pipeline (INFRA_ALARM, WATCHDOG_DEGRADED).

The original sent WATCHDOG_DEGRADED with an empty pipeline id, which the sink stored under ``PIPELINE#``
(reference §13 item 28); we require a pipeline id and use this one for both infrastructure events.
"""


class EventType(StrEnum):
    """Every detail-type Interlock publishes, grouped by the part of the lifecycle that emits it.

    The names and spellings are the original's, so consumers' EventBridge rules keep matching.
    The original also declared ``DATA_DRIFT`` (it sits in its alert rule and severity lists) but never
    emitted it; drift is reported as POST_RUN_DRIFT / POST_RUN_DRIFT_INFLIGHT, so we leave it out.
    Run states such as TRIGGER_EXHAUSTED (DESIGN §3) are states, not events: exhausting trigger retries
    publishes RETRY_EXHAUSTED, as in the original.
    """

    # configuration
    CONFIG_INVALID = "CONFIG_INVALID"
    # start and readiness
    VALIDATION_PASSED = "VALIDATION_PASSED"
    VALIDATION_EXHAUSTED = "VALIDATION_EXHAUSTED"
    PIPELINE_EXCLUDED = "PIPELINE_EXCLUDED"
    SENSOR_DEADLINE_EXPIRED = "SENSOR_DEADLINE_EXPIRED"
    TRIGGER_RECOVERED = "TRIGGER_RECOVERED"
    SENSOR_INVALID = "SENSOR_INVALID"
    # trigger and job
    JOB_TRIGGERED = "JOB_TRIGGERED"
    RETRY_EXHAUSTED = "RETRY_EXHAUSTED"
    JOB_COMPLETED = "JOB_COMPLETED"
    JOB_FAILED = "JOB_FAILED"
    JOB_POLL_EXHAUSTED = "JOB_POLL_EXHAUSTED"
    JOB_OUTCOME_UNKNOWN = "JOB_OUTCOME_UNKNOWN"
    INFRA_FAILURE = "INFRA_FAILURE"
    # SLA
    SLA_WARNING = "SLA_WARNING"
    SLA_BREACH = "SLA_BREACH"
    SLA_MET = "SLA_MET"
    RELATIVE_SLA_WARNING = "RELATIVE_SLA_WARNING"
    RELATIVE_SLA_BREACH = "RELATIVE_SLA_BREACH"
    SLA_ACKNOWLEDGED = "SLA_ACKNOWLEDGED"
    # post-run
    POST_RUN_BASELINE_CAPTURED = "POST_RUN_BASELINE_CAPTURED"
    BASELINE_CAPTURE_FAILED = "BASELINE_CAPTURE_FAILED"
    POST_RUN_PASSED = "POST_RUN_PASSED"
    POST_RUN_FAILED = "POST_RUN_FAILED"
    POST_RUN_DRIFT = "POST_RUN_DRIFT"
    POST_RUN_DRIFT_INFLIGHT = "POST_RUN_DRIFT_INFLIGHT"
    POST_RUN_SENSOR_MISSING = "POST_RUN_SENSOR_MISSING"
    LATE_DATA_ARRIVAL = "LATE_DATA_ARRIVAL"
    # reruns
    RERUN_REQUESTED = "RERUN_REQUESTED"
    RERUN_ACCEPTED = "RERUN_ACCEPTED"
    RERUN_REJECTED = "RERUN_REJECTED"
    # watchdog and infrastructure
    SCHEDULE_MISSED = "SCHEDULE_MISSED"
    IRREGULAR_SCHEDULE_MISSED = "IRREGULAR_SCHEDULE_MISSED"
    SFN_TIMEOUT = "SFN_TIMEOUT"
    WATCHDOG_DEGRADED = "WATCHDOG_DEGRADED"
    INFRA_ALARM = "INFRA_ALARM"
    # dry run (shadow mode)
    DRY_RUN_SWITCHED = "DRY_RUN_SWITCHED"
    DRY_RUN_WOULD_TRIGGER = "DRY_RUN_WOULD_TRIGGER"
    DRY_RUN_LATE_DATA = "DRY_RUN_LATE_DATA"
    DRY_RUN_SLA_PROJECTION = "DRY_RUN_SLA_PROJECTION"
    DRY_RUN_COMPLETED = "DRY_RUN_COMPLETED"
    DRY_RUN_DRIFT = "DRY_RUN_DRIFT"
    DRY_RUN_WOULD_RERUN = "DRY_RUN_WOULD_RERUN"
    DRY_RUN_RERUN_REJECTED = "DRY_RUN_RERUN_REJECTED"
    DRY_RUN_WOULD_RETRY = "DRY_RUN_WOULD_RETRY"
    DRY_RUN_RETRY_EXHAUSTED = "DRY_RUN_RETRY_EXHAUSTED"


class Severity(StrEnum):
    """How urgent an event is; the Slack formatter picks its colour from this.

    The original's emoji map onto it: red circle → ``critical``, yellow → ``warning``,
    info and check mark → ``info``.
    """

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class EventSpec:
    """What one event type means.

    Attributes:
        type: the event type this entry describes.
        severity: how urgent it is.
        alerts: whether the alert rule routes it to Slack (all events reach the event sink).
        summary: one sentence saying when it fires.
        emitted_by: the component(s) that publish it.
        detail_fields: the keys that may appear in the event's ``detail`` map (empty: none).
    """

    type: EventType
    severity: Severity
    alerts: bool
    summary: str
    emitted_by: str
    detail_fields: tuple[str, ...] = ()


_I, _W, _C = Severity.INFO, Severity.WARNING, Severity.CRITICAL
_T = EventType

# Detail maps shared by several types (reference §4.6, §6.3, §4.7).
_SLA_ALERT = ("status", "source", "actionHint", "deadline", "warningAt", "breachAt", "acknowledged")
_DRIFT = ("previousCount", "currentCount", "delta", "driftThreshold", "driftField", "sensorKey")
_DRY_RERUN = ("reason", "circuitBreaker", "rerunCount", "budget")

# Severity and Slack routing follow the original (reference §9) except where a comment says otherwise.
_SPECS: tuple[EventSpec, ...] = (
    # ours: an invalid file must not silently switch a pipeline's safety controller off, so on-call hears of it.
    EventSpec(_T.CONFIG_INVALID, _C, True, "A pipeline configuration failed validation where it was read; that pipeline is skipped and the others carry on.", "config loader", ("file", "problems")),
    EventSpec(_T.VALIDATION_PASSED, _I, False, "Every readiness rule passed for the period, so the job is about to be triggered.", "orchestrator"),
    EventSpec(_T.VALIDATION_EXHAUSTED, _C, True, "The evaluation window closed before the readiness rules passed; the job was not triggered.", "orchestrator"),
    EventSpec(_T.PIPELINE_EXCLUDED, _I, True, "A calendar exclusion suppressed a trigger, rerun, job-failure retry or drift rerun.", "stream-router"),
    EventSpec(_T.SENSOR_DEADLINE_EXPIRED, _I, True, "The trigger deadline passed without a trigger sensor, so the period will not start on its own.", "watchdog", ("source", "triggerDeadline", "actionHint")),
    EventSpec(_T.TRIGGER_RECOVERED, _I, True, "The watchdog started a run for a trigger sensor whose stream event was missed.", "watchdog", ("source", "actionHint")),
    # ours: bad producer data is never dropped silently.
    EventSpec(_T.SENSOR_INVALID, _W, True, "A trigger sensor write matched a pipeline but could not be used (e.g. an invalid date or hour, an unreadable item); no run started from it.", "stream-router", ("sensorKey", "field", "value", "reason")),
    EventSpec(_T.JOB_TRIGGERED, _I, False, "The job was launched; published once per run, reruns and recoveries included.", "orchestrator"),
    EventSpec(_T.RETRY_EXHAUSTED, _C, True, "Trigger retries after infrastructure errors, or the job-failure retry budget, are used up.", "orchestrator, stream-router"),
    EventSpec(_T.JOB_COMPLETED, _I, True, "A success record for the run landed in the job log.", "stream-router"),
    EventSpec(_T.JOB_FAILED, _C, True, "Polling the job found that it failed.", "orchestrator"),
    EventSpec(_T.JOB_POLL_EXHAUSTED, _C, True, "The job-poll window elapsed without the job reaching a terminal state.", "orchestrator"),
    # ours: a job whose exit status was lost (Interlock killed with it) is held, never retried or failed.
    EventSpec(_T.JOB_OUTCOME_UNKNOWN, _C, True, "The job's outcome cannot be known (it is not running and left no exit status, e.g. killed together with Interlock); the run is held, not retried, until an operator decides.", "orchestrator", ("runId", "reason")),
    EventSpec(_T.INFRA_FAILURE, _C, True, "A rerun could not start because the run's lock could not be reset.", "stream-router"),
    EventSpec(_T.SLA_WARNING, _W, True, "The SLA warning time passed and the run has not finished.", "sla-monitor", _SLA_ALERT),
    EventSpec(_T.SLA_BREACH, _C, True, "The SLA breach time passed before the run finished, or the run finished after it.", "sla-monitor", _SLA_ALERT),
    EventSpec(_T.SLA_MET, _I, True, "The run finished before its SLA breach time.", "sla-monitor"),
    # never emitted by the original; ours mirrors SLA_WARNING, so it gets SLA_WARNING's severity.
    EventSpec(_T.RELATIVE_SLA_WARNING, _W, True, "The warning point of a relative SLA (first sensor arrival + maxDuration) passed and the run has not finished.", "sla-monitor", ("status", "source", "actionHint", "breachAt", "acknowledged")),
    # the original's "info" is a quirk (reference §13 item 28): a breach is a breach, whether its clock
    # starts at a fixed deadline or at the first sensor's arrival.
    EventSpec(_T.RELATIVE_SLA_BREACH, _C, True, "More than maxDuration passed since the first sensor arrived and the run has not finished.", "watchdog, sla-monitor", ("source", "maxDuration", "sensorArrivalAt", "breachAt", "actionHint", "acknowledged")),
    # ours: acknowledgements are shown in the run's Slack thread (DESIGN §4).
    EventSpec(_T.SLA_ACKNOWLEDGED, _I, True, "An operator acknowledged the SLA alerts of a run, with a reason and an expiry.", "operator", ("reason", "until")),
    # dry-run baselines no longer publish this live type (reference §13 item 29).
    EventSpec(_T.POST_RUN_BASELINE_CAPTURED, _I, False, "The post-run baseline was stored after a successful run.", "orchestrator"),
    EventSpec(_T.BASELINE_CAPTURE_FAILED, _I, True, "Storing the post-run baseline after a successful run failed; drift cannot be detected for that run.", "orchestrator"),
    EventSpec(_T.POST_RUN_PASSED, _I, False, "A post-run sensor arrived after completion, showed no drift, and every post-run rule passed.", "stream-router"),
    EventSpec(_T.POST_RUN_FAILED, _I, True, "A post-run sensor arrived after completion, showed no drift, and a post-run rule failed.", "stream-router"),
    # the original's "info" is a quirk (reference §13 item 28): the data behind a finished run changed and
    # a rerun follows, which someone should know about, but nothing has failed yet, so not critical.
    EventSpec(_T.POST_RUN_DRIFT, _W, True, "A post-run sensor moved beyond its drift threshold after the run completed; a drift rerun is requested.", "stream-router", (*_DRIFT, "source")),
    EventSpec(_T.POST_RUN_DRIFT_INFLIGHT, _I, True, "A post-run sensor moved beyond its drift threshold while the run was still running (no rerun).", "stream-router", (*_DRIFT, "source")),
    EventSpec(_T.POST_RUN_SENSOR_MISSING, _I, True, "No post-run sensor arrived within sensorTimeout of a successful run.", "watchdog", ("source", "sensorTimeout", "ruleKeys", "actionHint")),
    EventSpec(_T.LATE_DATA_ARRIVAL, _I, True, "A trigger sensor was updated after the run completed successfully; a late-data rerun is requested.", "stream-router"),
    # ours: the accepted or rejected verdict that follows is what alerts, so the request itself does not.
    EventSpec(_T.RERUN_REQUESTED, _I, False, "An operator asked for a rerun of a period.", "operator", ("reason",)),
    EventSpec(_T.RERUN_ACCEPTED, _I, True, "A rerun request passed the calendar, budget and circuit-breaker checks and the rerun is starting.", "stream-router"),
    EventSpec(_T.RERUN_REJECTED, _I, True, "A rerun request was refused because its budget is spent or no sensor changed since the last success.", "stream-router"),
    EventSpec(_T.SCHEDULE_MISSED, _C, True, "A cron pipeline's fire time passed and no run exists for the period.", "watchdog", ("source", "cron", "actionHint", "expectedTime")),
    # kept at the original's "info", although it is SCHEDULE_MISSED for calendar inclusion dates.
    EventSpec(_T.IRREGULAR_SCHEDULE_MISSED, _I, True, "A calendar inclusion date passed without a run.", "watchdog", ("source", "actionHint")),
    EventSpec(_T.SFN_TIMEOUT, _C, True, "A run stayed RUNNING past its lock TTL, so its execution is presumed lost and the run is failed.", "watchdog", ("source", "actionHint", "ttlExpired")),
    # the original did not route this to Slack (reference §13 item 28); we do: when a watchdog check
    # fails, missed schedules and stale runs go unreported, which is exactly what on-call must hear.
    EventSpec(_T.WATCHDOG_DEGRADED, _W, True, "One or more watchdog checks failed, so some missed schedules or stale runs may go unreported.", "watchdog"),
    # only the ALARM state reaches Slack (the alarm rule filters it); every state change reaches the sink.
    EventSpec(_T.INFRA_ALARM, _I, True, "A CloudWatch alarm on Interlock's own infrastructure changed state.", "CloudWatch alarm (EventBridge input transformer)"),
    # ours: a pipeline in dry run stops triggering jobs, so the switch is worth a warning in either direction.
    EventSpec(_T.DRY_RUN_SWITCHED, _W, True, "An operator switched a pipeline into or out of dry run.", "operator", ("dryRun", "reason")),
    EventSpec(_T.DRY_RUN_WOULD_TRIGGER, _I, True, "In dry run, the readiness rules passed for the first time in a period: a live pipeline would trigger now.", "stream-router", ("triggeredAt", "rulesEvaluated")),
    EventSpec(_T.DRY_RUN_LATE_DATA, _I, True, "In dry run, a trigger sensor arrived after the period would already have triggered.", "stream-router", ("triggeredAt", "lateBy")),
    EventSpec(_T.DRY_RUN_SLA_PROJECTION, _I, True, "In dry run, the would-be run's completion was projected from expectedDuration against the SLA.", "stream-router", ("triggeredAt", "estimatedCompletion", "expectedDuration", "status", "deadline", "marginSeconds")),
    EventSpec(_T.DRY_RUN_COMPLETED, _I, True, "In dry run, the evaluation of a would-be run finished, with its projected SLA status.", "stream-router", ("triggeredAt", "slaStatus", "estimatedCompletion", "deadline")),
    EventSpec(_T.DRY_RUN_DRIFT, _I, True, "In dry run, a post-run sensor moved beyond its drift threshold after a would-be run.", "stream-router", _DRIFT),
    EventSpec(_T.DRY_RUN_WOULD_RERUN, _I, True, "In dry run, a rerun request would have been accepted.", "stream-router", _DRY_RERUN),
    EventSpec(_T.DRY_RUN_RERUN_REJECTED, _I, True, "In dry run, a rerun request would have been rejected (calendar, budget or circuit breaker).", "stream-router", _DRY_RERUN),
    EventSpec(_T.DRY_RUN_WOULD_RETRY, _I, True, "In dry run, a job failure would have been retried automatically.", "stream-router", ("retries", "maxRetries")),
    EventSpec(_T.DRY_RUN_RETRY_EXHAUSTED, _I, True, "In dry run, a job failure would not be retried (budget spent or date excluded).", "stream-router", ("retries", "maxRetries", "reason")),
)  # fmt: skip


def _build_catalogue(specs: Iterable[EventSpec]) -> Mapping[EventType, EventSpec]:
    """Index specs by type, refusing duplicates (a dict would silently keep the last one)."""
    catalogue: dict[EventType, EventSpec] = {}
    for spec in specs:
        if spec.type in catalogue:
            raise ValueError(f"event type {spec.type} is catalogued twice")
        catalogue[spec.type] = spec
    return MappingProxyType(catalogue)


CATALOGUE: Mapping[EventType, EventSpec] = _build_catalogue(_SPECS)
"""One :class:`EventSpec` per :class:`EventType`, in the enum's (lifecycle) order. Read-only."""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def catalogue_markdown() -> str:
    """Render the catalogue as the Markdown document committed at ``docs/events.md``.

    Rows follow :class:`EventType`'s order (grouped by lifecycle area), so the output is stable.

    Returns:
        The document, ending with a single newline.
    """
    lines = [
        "# Interlock events",
        "",
        "This file is generated by `interlock events catalogue --markdown > docs/events.md` from",
        "`interlock/events.py` and must not be edited by hand; a test fails when it is out of date.",
        "",
        f'Every event is published with `source="{SOURCE}"` and `detail-type` set to its type. The detail',
        "envelope is `{pipelineId, scheduleId, date, message, timestamp, actor?, detail}`, where `date` is",
        "the run period (`YYYY-MM-DD` or `YYYY-MM-DDTHH`), `timestamp` is RFC 3339 UTC with milliseconds,",
        "and `detail` holds the type-specific fields listed below. The event sink stores every event;",
        'events marked "alerts" are also routed to Slack, one thread per run.',
        "",
        "| Type | Severity | Alerts | Emitted by | When | Detail fields |",
        "|---|---|---|---|---|---|",
    ]
    for event_type in EventType:
        spec = CATALOGUE[event_type]
        fields = ", ".join(f"`{name}`" for name in spec.detail_fields) or "—"
        lines.append(
            f"| `{spec.type}` | {spec.severity} | {'yes' if spec.alerts else 'no'} "
            f"| {_cell(spec.emitted_by)} | {_cell(spec.summary)} | {fields} |"
        )
    return "\n".join(lines) + "\n"


def __getattr__(name: str) -> Any:
    """Load :class:`Event` from :mod:`interlock.envelope` on first use (it pulls in pydantic)."""
    if name == "Event":
        from interlock.envelope import Event

        return Event
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
