"""The event catalogue: every event Interlock publishes, what it means, and who is told.

This module is the single source of truth for events (DESIGN §4). It holds:

* :class:`EventType`: every detail-type Interlock emits;
* :data:`CATALOGUE`: one :class:`EventSpec` per type (severity, Slack routing, emitter, detail fields);
* :class:`Event`: the one event model, with the EventBridge detail envelope
  (:meth:`Event.to_detail` / :meth:`Event.from_detail`); it lives in :mod:`interlock.envelope` and is
  importable from here, loaded on first use;
* :data:`ON_CALL`: one :class:`OnCall` per type: what it means for whoever is on call, and what to do;
* :func:`catalogue_markdown`: the generated ``docs/events.md`` (a test fails when the file drifts);
* :func:`oncall_markdown`: the generated ``docs/oncall.md`` (the same).

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

import re
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
    "ON_CALL",
    "SOURCE",
    "Event",
    "EventSpec",
    "EventType",
    "OnCall",
    "Severity",
    "catalogue_markdown",
    "oncall_markdown",
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
    EventSpec(_T.JOB_FAILED, _C, True, "Polling the job found that it failed.", "orchestrator", ("runId", "category", "willRetry", "retry", "maxRetries", "nextAttempt")),
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


@dataclass(frozen=True, slots=True)
class OnCall:
    """What one event type means for whoever is on call, and what to do about it.

    Attributes:
        meaning: what happened, in the words of the person who gets the alert.
        action: what to do; ``PIPELINE`` and ``PERIOD`` stand for the event's pipeline and period.
        hint: the one line a Slack alert of this type ends with (``{p}``: pipeline, ``{d}``: period),
            unless the event carries its own ``actionHint``; ``None``: no hint.
        retry_hint: the line instead of ``hint`` when the event says an automatic retry follows
            (``willRetry``; ``{k}``: the retry, ``{n}``: the retry budget, ``{a}``: its attempt).
    """

    meaning: str
    action: str
    hint: str | None = None
    retry_hint: str | None = None


# The short hints Slack replies carry (alerts.format.action_hint) when the event has no actionHint of its
# own; {p} and {d} are the event's pipeline and period.
_ACK_HINT = "ack with `interlock ack {p} --period {d} --reason …`"
_RERUN_HINT = "rerun with `interlock rerun {p} --period {d} --reason …`"
_RETRY_HINT = "an automatic retry follows (retry {k} of {n}, attempt {a}): nothing to do unless RETRY_EXHAUSTED comes"
_NOTHING = "Nothing: it is recorded for the run's history."
_DRY = "Nothing is started in dry run. Compare with what you expected; switch it live with `interlock dry-run off PIPELINE --reason …` when the projections look right."
_RERUN = "`interlock rerun PIPELINE --period PERIOD --reason …` (or `r` in the console)"
_ACK = "`interlock ack PIPELINE --period PERIOD --reason … --until 2h` (or `a` in the console)"
_EXPLAIN = "`interlock explain PIPELINE` (or the pipeline's Rules tab in the console)"

# Every type, in the catalogue's order; alerts/format.py ends Slack replies with the hint.
_ON_CALL: dict[EventType, OnCall] = {
    _T.CONFIG_INVALID: OnCall("A pipeline's YAML (or its CONFIG row) does not validate, so that pipeline is not watched at all until it is fixed; the others carry on.", "Read the `problems` in the alert (file:line and what to write instead), fix the file, check it with `interlock validate`, and deploy it again.", "fix the file and check it with `interlock validate`"),
    _T.VALIDATION_PASSED: OnCall("The rules passed; the job is being triggered.", _NOTHING),
    _T.VALIDATION_EXHAUSTED: OnCall("The evaluation window closed before the rules passed: the job did **not** run for this period, and will not on its own.", f"See which rule failed and why with {_EXPLAIN}; fix the upstream (a missing or stale sensor is the usual cause), then {_RERUN}.", "see why with `interlock explain {p}`, then " + _RERUN_HINT),
    _T.PIPELINE_EXCLUDED: OnCall("The period's day is excluded by the pipeline's calendar (weekend, a listed date, a named calendar), so a trigger, retry or rerun was suppressed.", "Usually nothing. If the day should run, change `schedule.exclude` or the calendar and deploy; a rerun of an excluded day is refused too."),
    _T.SENSOR_DEADLINE_EXPIRED: OnCall("The trigger deadline passed without the trigger sensor: this period will not start on its own.", f"Ask the producer why the sensor is missing (`interlock sensor ls PIPELINE` shows what arrived); once the data is there, {_RERUN}.", "check the producer, then " + _RERUN_HINT),
    _T.TRIGGER_RECOVERED: OnCall("The watchdog found a trigger sensor whose stream record was missed and started the run itself.", "Nothing for the run. If it repeats, check the stream-router's errors and the stream's iterator age alarm."),
    _T.SENSOR_INVALID: OnCall("A producer wrote a trigger sensor Interlock cannot use (an impossible `date` or `hour`, an unreadable item); no run started from it.", "Tell the producer: the alert names the sensor, the field, the value and why ([producers guide](producers.md#periods-date-hour-and-per-period-keys)). A corrected write starts the run."),
    _T.JOB_TRIGGERED: OnCall("The job was started (once per run; reruns and recoveries included).", _NOTHING),
    _T.RETRY_EXHAUSTED: OnCall("The job failed and its automatic retries (`job.maxRetries`, or `maxCodeRetries` for permanent failures) are used up, or the trigger itself kept failing. The period has no good output.", f"Find the cause in the job's own logs (the run's events carry the error and its category); fix it, then {_RERUN}.", _RERUN_HINT),
    _T.JOB_COMPLETED: OnCall("The job succeeded.", _NOTHING),
    _T.JOB_FAILED: OnCall("The job failed. With a retry budget left (`job.maxRetries`, or `maxCodeRetries` for permanent failures) and the day not excluded, a retry follows by itself and the alert says so (retry K of N); with none, this is the only alert.", f"If the alert says a retry follows: nothing yet — RETRY_EXHAUSTED comes if the retries fail too. Otherwise look at the job's logs, fix the cause and {_RERUN}.", _RERUN_HINT, _RETRY_HINT),
    _T.JOB_POLL_EXHAUSTED: OnCall("The job did not finish within `jobPollWindowSeconds`; Interlock stopped waiting for it.", f"Check the job itself (still running? hung?). Stop it if it is stuck, then {_RERUN}; raise `jobPollWindowSeconds` if it is simply slow.", "check the job, then " + _RERUN_HINT),
    _T.JOB_OUTCOME_UNKNOWN: OnCall("The job is not running and left no exit status (it was killed together with Interlock): whether it succeeded cannot be known, so the run is held — neither failed nor retried.", f"Check the job's output yourself. If it is incomplete, {_RERUN}; if it is good, nothing (the run ends with JOB_POLL_EXHAUSTED)."),
    _T.INFRA_FAILURE: OnCall("A rerun could not start because the run's lock could not be reset (a store error).", f"Check the store (DynamoDB errors, throttling alarms), then {_RERUN} again.", "check the store, then " + _RERUN_HINT),
    _T.SLA_WARNING: OnCall("The SLA warning time passed (deadline − `expectedDuration`) and the run has not finished: the deadline is at risk.", f"Find out why with {_EXPLAIN} (waiting for data? a slow job?). If it is known and handled, {_ACK}: later SLA alerts of the run are recorded but not sent again.", _ACK_HINT),
    _T.SLA_BREACH: OnCall("The deadline passed and the run has not finished (or it finished late).", f"Tell the data's consumers; find the cause with {_EXPLAIN} and the run's events; {_ACK} once it is handled.", _ACK_HINT),
    _T.SLA_MET: OnCall("The run finished before its deadline.", _NOTHING),
    _T.RELATIVE_SLA_WARNING: OnCall("A relative SLA (first trigger sensor + `maxDuration`) is close to breaching and the run has not finished.", f"As for SLA_WARNING: {_EXPLAIN}, then {_ACK} if handled.", _ACK_HINT),
    _T.RELATIVE_SLA_BREACH: OnCall("More than `maxDuration` passed since the first trigger sensor arrived and the run has not finished.", f"As for SLA_BREACH: find the cause, tell the consumers, {_ACK}.", _ACK_HINT),
    _T.SLA_ACKNOWLEDGED: OnCall("Someone acknowledged the run's SLA alerts (who, why and until when are in the event and the Slack thread).", "Nothing, unless you disagree with the reason: talk to the person who acknowledged."),
    _T.POST_RUN_BASELINE_CAPTURED: OnCall("The sensors the post-run rules read were stored as the run's baseline.", _NOTHING),
    _T.BASELINE_CAPTURE_FAILED: OnCall("The post-run baseline could not be stored after a successful run: drift will not be detected for this run.", "Check the store's errors; the next successful run captures a baseline again."),
    _T.POST_RUN_PASSED: OnCall("A post-run sensor arrived after the run, without drift, and every post-run rule passed.", _NOTHING),
    _T.POST_RUN_FAILED: OnCall("A post-run sensor arrived after the run and a post-run rule failed: the output may be wrong although the job succeeded.", f"See which rule with {_EXPLAIN}; check the output; {_RERUN} if it needs redoing.", "see which rule with `interlock explain {p}`"),
    _T.POST_RUN_DRIFT: OnCall("A post-run sensor (e.g. a row count) moved beyond `driftThreshold` after the run: the input changed under a finished run. A drift rerun is requested automatically (within `maxDriftReruns`).", "Watch for RERUN_ACCEPTED (the rerun runs by itself) or RERUN_REJECTED (budget spent: decide whether to rerun by hand). Ask the producer why the data moved."),
    _T.POST_RUN_DRIFT_INFLIGHT: OnCall("The data drifted while the run was still going; no rerun is requested for it.", "Check the run's output when it finishes; rerun by hand if the drift matters."),
    _T.POST_RUN_SENSOR_MISSING: OnCall("No post-run sensor arrived within `sensorTimeout` of a successful run, so the output was never checked.", "Ask the producer of the post-run sensors (named in the alert) why they did not write."),
    _T.LATE_DATA_ARRIVAL: OnCall("A trigger sensor was written again after the run succeeded (a later `updatedAt` or changed content): a late-data rerun is requested (within `maxDriftReruns`).", "Watch for RERUN_ACCEPTED or RERUN_REJECTED. A producer that re-writes sensors without new data causes this: see the [producers guide](producers.md#timestamps)."),
    _T.RERUN_REQUESTED: OnCall("Someone asked for a rerun (the actor and reason are in the event).", "Nothing: RERUN_ACCEPTED or RERUN_REJECTED follows."),
    _T.RERUN_ACCEPTED: OnCall("A rerun passed the calendar, budget and circuit-breaker checks; the next attempt is starting.", "Nothing: the run's thread carries on."),
    _T.RERUN_REJECTED: OnCall("A rerun was refused: its budget (`maxDriftReruns` for drift and late data, `maxManualReruns` for the rest) is spent, or no sensor changed since the last success (the circuit breaker: a rerun would read the same data).", "If the data really is new, write the sensor again (that opens the circuit breaker); if the budget is spent and a rerun is still needed, raise the budget in the YAML or run the job by hand."),
    _T.SCHEDULE_MISSED: OnCall("A cron pipeline's fire time passed and no run exists for the period.", f"Check the runtime (is the sla-monitor firing? the scheduler group? the watchdog's own alarm?); then {_RERUN}.", "see why with `interlock explain {p}`, then " + _RERUN_HINT),
    _T.IRREGULAR_SCHEDULE_MISSED: OnCall("A date listed in `schedule.include.dates` passed without a run.", f"Check why the trigger did not arrive (`interlock sensor ls PIPELINE`); then {_RERUN}."),
    _T.SFN_TIMEOUT: OnCall("A run stayed RUNNING past its lock (`sfn_timeout_seconds` + 30 min): its execution is presumed lost, it was stopped and the run failed.", f"Look at the Step Functions execution history (or the embedded runtime's log); then {_RERUN}.", "check the job, then " + _RERUN_HINT),
    _T.WATCHDOG_DEGRADED: OnCall("One or more watchdog checks failed: missed schedules and stale runs may go unreported until it recovers. Also sent when stream records the stream-router gave up on were past the stream's 24 h retention and could not be replayed (the message names the stream, shard and sequence range); that pass swept every pipeline, so a lost trigger is recovered by the sweep.", "Check the watchdog Lambda's logs and errors alarm (the store or the scheduler is the usual cause). Until it is fixed, watch the board yourself. For lost stream records: check the board for the pipelines the range touched (a lost job-log or rerun row is not recovered by the sweep: rerun by hand if a run looks stuck)."),
    _T.INFRA_ALARM: OnCall("A CloudWatch alarm on Interlock's own infrastructure changed state (Lambda errors, DLQ depth, stream iterator age, state-machine failures …).", "Open the alarm in CloudWatch; its name says which function or queue. **Stream DLQs** (`sr-control-dlq`, `sr-joblog-dlq`): a message names a batch of stream records the stream-router gave up on (the records are not in it). Do not redrive it: the watchdog reads the records from the stream and replays them within one pass (5 minutes), then deletes the message; their depth alarms fire only for a message still there after 15 minutes. A message still there after 5 replays is a record the controller cannot process: search the watchdog's log for `stream DLQ` (it names the record's sequence number and the error: a malformed row, a missing grant, the store); fix the cause, then send the message's body to the same queue again (a new message starts at try 1) and delete the old one. Records older than 24 h are gone from the stream (WATCHDOG_DEGRADED says so). **Alert DLQ**: an alert Slack never got; fix the cause (token, channel) and redrive it to the alert queue."),
    _T.DRY_RUN_SWITCHED: OnCall("Someone switched a pipeline into or out of dry run (the actor and reason are in the event). In dry run nothing is ever started.", "Check that it was intended: a pipeline left in dry run by mistake silently stops running its job."),
    _T.DRY_RUN_WOULD_TRIGGER: OnCall("In dry run: the rules passed, a live pipeline would have triggered now.", _DRY),
    _T.DRY_RUN_LATE_DATA: OnCall("In dry run: a trigger sensor arrived after the period would already have triggered (a live pipeline would rerun).", _DRY),
    _T.DRY_RUN_SLA_PROJECTION: OnCall("In dry run: the would-be run's finish, projected from `expectedDuration`, against the SLA.", _DRY),
    _T.DRY_RUN_COMPLETED: OnCall("In dry run: the would-be run's evaluation is done, with its projected SLA status.", _DRY),
    _T.DRY_RUN_DRIFT: OnCall("In dry run: a post-run sensor drifted after a would-be run (a live pipeline would rerun).", _DRY),
    _T.DRY_RUN_WOULD_RERUN: OnCall("In dry run: a rerun request would have been accepted.", _DRY),
    _T.DRY_RUN_RERUN_REJECTED: OnCall("In dry run: a rerun request would have been rejected (calendar, budget or circuit breaker).", _DRY),
    _T.DRY_RUN_WOULD_RETRY: OnCall("In dry run: a job failure would have been retried.", _DRY),
    _T.DRY_RUN_RETRY_EXHAUSTED: OnCall("In dry run: a job failure would not have been retried (budget spent or day excluded).", _DRY),
}  # fmt: skip

ON_CALL: Mapping[EventType, OnCall] = MappingProxyType(_ON_CALL)
"""One :class:`OnCall` per :class:`EventType` (a test checks none is missing). Read-only."""


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


# The console's screens, in the order an on-call engineer meets them: capture name → (title, text).
_CONSOLE: tuple[tuple[str, str, str], ...] = (
    ("board", "The board", "Every pipeline's current period, state, rules passing, SLA, last event and reruns left (`d` drift, `m` manual), problems first. `/` filters, `s` sorts, `enter` opens a pipeline; the line at the bottom is the selected row."),
    ("pipeline-rules", "A pipeline: its rules", "Why it has (not) run: each rule with the sensor's value, its age and the reason it passes or fails — the same answer as `interlock explain`. On top: the SLA times, the reruns left and any acknowledgement."),
    ("pipeline-runs", "A pipeline: its runs", "Tab `2`: each period's run, how long it took, its outcome and its reruns; `3` its events, `4` its sensors as stored."),
    ("events", "The event tail", "`e` from anywhere: every event, live, newest at the bottom. `/` filters (hides the rest), `h` highlights (keeps context), with `type:`, `sev:`, `p:` and free text; `G` follows the newest again; `y` copies an event as JSON and `c` the CLI command that acts on its run."),
    ("help", "Help", "`?` lists the keys of the screen you are on; `:` or `ctrl+p` opens the command palette."),
)  # fmt: skip


def oncall_markdown(captures: Mapping[str, str] | None = None) -> str:
    """Render the on-call guide committed at ``docs/oncall.md`` from :data:`ON_CALL` and the catalogue.

    Args:
        captures: the console's screens as text (``docs/console/<name>.txt``, made by
            ``scripts/capture_console.py``), shown under each screen's description; ``None``: none.

    Returns:
        The document, ending with a single newline.
    """
    captures = captures or {}
    lines = [
        "# On call: the console, and what each alert means",
        "",
        "This file is generated by `make docs` (`scripts/gen_docs.py`) from `interlock/events.py` (the",
        "event catalogue and its `ON_CALL` guide) and the console captures in `docs/console/`; it must",
        "not be edited by hand: a test fails when it is out of date.",
        "",
        "Alerts reach Slack as **one thread per run**: the root message shows the run's state and SLA",
        "and is updated in place; each alert is a reply, with what to do next. Every event, alerting or",
        "not, is also in the event log (`interlock events tail`, the console's event tail).",
        "",
        "## The console",
        "",
        "```",
        "interlock-tui --store 'dynamodb://prod?region=eu-west-1'   # or sqlite:///path/interlock.db",
        "interlock-tui --store 'dynamodb://prod?region=eu-west-1' --read-only",
        "```",
        "",
        "It runs over SSH at 80×24 with no mouse. The captures below are the demo day at 10:40 UTC",
        "(`interlock-tui --demo` plays it live).",
        "",
    ]
    for name, title, text in _CONSOLE:
        lines += [f"### {title}", "", text, ""]
        if name in captures:
            # the screen's empty rows are left out: the page shows what is on it
            shown = re.sub(r"\n(\s*\n)+", "\n\n", captures[name].rstrip("\n"))
            lines += ["```text", shown, "```", ""]
    if "slack-thread" in captures:
        lines += [
            "### Following in Slack",
            "",
            "Each run has one thread. Its root message says where the run is (running, failed and",
            "retrying, succeeded, …) and its SLA, and is edited in place as the run moves; every alert",
            "is a reply that ends with what to do; an acknowledgement shows who acknowledged, why and",
            "until when, and later SLA alerts of that run are recorded without being sent again.",
            "Alerts not tied to a run (CONFIG_INVALID, INFRA_ALARM, WATCHDOG_DEGRADED) are messages",
            "of their own. An alert Slack could not take, or one being posted when `interlock run` was",
            "killed, waits in the store and is posted by the next runtime, after a lookup so that it",
            "shows once. `gold-revenue` on the demo day — its job failed once and was retried:",
            "",
            "```text",
            captures["slack-thread"].rstrip("\n"),
            "```",
            "",
        ]
    lines += [
        "### Acting",
        "",
        "Every action asks for a reason and is recorded as an event with your user name (`--read-only`",
        "hides and refuses them). The CLI does the same from a shell:",
        "",
        "| in the console | from a shell | what it does |",
        "|---|---|---|",
        "| Rules tab | `interlock explain PIPELINE` | each rule against the current sensors, with reasons |",
        "| `e` | `interlock events tail --pipeline PIPELINE --since 6h` | the events (`--follow` keeps watching) |",
        "| `r` | `interlock rerun PIPELINE --period PERIOD --reason …` | asks for a rerun; the runtime accepts or rejects it against the budget |",
        "| `a` | `interlock ack PIPELINE --period PERIOD --reason … --until 2h` | acknowledges the run's SLA: later SLA alerts are recorded, not re-sent |",
        "| `d` | `interlock dry-run on\\|off PIPELINE --reason …` | observe only (nothing is started) / live again |",
        "",
        "## Alerts: what each means and what to do",
        "",
        "In the order a run meets them. `PIPELINE` and `PERIOD` stand for the alert's own; in Slack",
        "they are filled in.",
        "",
    ]
    quiet: list[EventType] = []
    for event_type in EventType:
        spec, guide = CATALOGUE[event_type], ON_CALL[event_type]
        if not spec.alerts:
            quiet.append(event_type)
            continue
        lines += [
            f"### {event_type}",
            "",
            f"*{spec.severity}* · from the {spec.emitted_by}",
            "",
            f"**What it means.** {guide.meaning}",
            "",
            f"**What to do.** {guide.action}",
            "",
        ]
        if guide.hint is not None:
            slack = guide.hint.format(p="PIPELINE", d="PERIOD")
            own = "actionHint" in spec.detail_fields
            lead = "Its Slack reply ends with the event's `actionHint`, or else: " if own else ""
            if guide.retry_hint is not None:
                retrying = guide.retry_hint.format(k="K", n="N", a="A")
                lines += [
                    f"When an automatic retry follows, its Slack reply ends with: {retrying}.",
                    "",
                ]
                lead = "Otherwise it ends with: "
            lines += [f"{lead or 'Its Slack reply ends with: '}{slack}.", ""]
    lines += [
        "## Recorded, never sent to Slack",
        "",
        "| Event | What it means |",
        "|---|---|",
    ]
    lines += [f"| `{t}` | {_cell(ON_CALL[t].meaning)} |" for t in quiet]
    lines += ["", "Every field of every event: [events.md](events.md)."]
    return "\n".join(lines) + "\n"


def __getattr__(name: str) -> Any:
    """Load :class:`Event` from :mod:`interlock.envelope` on first use (it pulls in pydantic)."""
    if name == "Event":
        from interlock.envelope import Event

        return Event
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
