"""After a run: the post-run baseline, late data, drift and post-run rules (reference §4.3, §4.6).

::

    moment                               decide_*              what it decides
    -----------------------------------  --------------------  ------------------------------------------
    the job succeeded                    capture_baseline      PutBookkeeping(postrun-baseline#<period>)
                                                               + POST_RUN_BASELINE_CAPTURED
    trigger sensor written, run exists   decide_late_data      COMPLETED and the latest job row `success`:
                                                               job log late-data-arrival + LATE_DATA_ARRIVAL
                                                               + a `late-data` rerun request; else nothing
    post-run sensor written              decide_postrun        RUNNING: drift → POST_RUN_DRIFT_INFLIGHT;
                                                               COMPLETED: drift → POST_RUN_DRIFT + a
                                                               `data-drift` rerun request (or
                                                               PIPELINE_EXCLUDED); no drift → post-run rules
                                                               → POST_RUN_PASSED / POST_RUN_FAILED

Drift: the sensor's ``postRun.driftField`` against the baseline's, both numeric (numbers or numeric
strings); drift iff ``|current − previous| > driftThreshold`` (threshold 0: any change). The detail
carries the field-level diff (``previousCount``, ``currentCount``, ``delta``, ``driftField``,
``driftThreshold``, ``sensorKey``). A post-run sensor's period comes from its ``date``/``hour`` like a
trigger sensor's.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from interlock.events import EventType
from interlock.lifecycle.actions import (
    AppendJobLog,
    Decision,
    PublishEvent,
    PutBookkeeping,
    WriteRerunRequest,
)
from interlock.records import JobEvent, RerunReason, RunStatus
from interlock.rules import evaluate_rule
from interlock.store import keys

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from interlock.config.models import PipelineConfig
    from interlock.lifecycle.actions import Action
    from interlock.records import JobEntry, RunRow

__all__ = [
    "baseline_of",
    "capture_baseline",
    "decide_late_data",
    "decide_postrun",
    "detect_drift",
    "postrun_rule_key",
]


def postrun_rule_key(config: PipelineConfig, sensor_key: str) -> str | None:
    """The first post-run rule key that prefixes ``sensor_key`` (``None``: not a post-run sensor)."""
    post = config.postRun
    if post is None:
        return None
    for rule in post.rules:
        if sensor_key.startswith(rule.key):
            return rule.key
    return None


def baseline_of(
    config: PipelineConfig, sensors: Mapping[str, Mapping[str, Any] | None]
) -> dict[str, Any]:
    """The post-run baseline: each post-run rule key → its sensor's fields (sensors remapped)."""
    post = config.postRun
    if post is None:
        return {}
    return {
        rule.key: dict(sensors[rule.key] or {})
        for rule in post.rules
        if sensors.get(rule.key) is not None
    }


def capture_baseline(
    config: PipelineConfig,
    sensors: Mapping[str, Mapping[str, Any] | None],
    *,
    schedule_id: str,
    period: str,
    now: datetime,
    publish: bool = True,
) -> tuple[Action, ...]:
    """The actions storing the baseline at success (nothing without post-run rules or sensors).

    Args:
        config: the pipeline's config.
        sensors: the pipeline's sensors, remapped for ``period``.
        schedule_id: the run's schedule.
        period: the run's period.
        now: the instant.
        publish: publish POST_RUN_BASELINE_CAPTURED (dry-run baselines do not: §13 item 29).
    """
    baseline = baseline_of(config, sensors)
    if not baseline:
        return ()
    write = PutBookkeeping(config.id, keys.POSTRUN_BASELINE, period, baseline, now)
    if not publish:
        return (write,)
    event = PublishEvent(
        EventType.POST_RUN_BASELINE_CAPTURED,
        config.id,
        schedule_id,
        period,
        f"post-run baseline captured ({', '.join(sorted(baseline))})",
        now,
    )
    return (write, event)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


def _plain(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def detect_drift(
    previous: Mapping[str, Any], current: Mapping[str, Any], *, field: str, threshold: float
) -> dict[str, Any] | None:
    """The drift detail if ``field`` moved by more than ``threshold``, else ``None``.

    Both values must be present and numeric; anything else is "no drift" (nothing to compare).
    """
    before, after = _number(previous.get(field)), _number(current.get(field))
    if before is None or after is None:
        return None
    delta = after - before
    if abs(delta) <= Decimal(str(threshold)):
        return None
    return {
        "previousCount": _plain(before),
        "currentCount": _plain(after),
        "delta": _plain(delta),
        "driftField": field,
        "driftThreshold": threshold,
    }


def decide_late_data(
    config: PipelineConfig,
    *,
    sensor_key: str,
    schedule_id: str,
    period: str,
    run_row: RunRow | None,
    latest_job: JobEntry | None,
    now: datetime,
    written_at: datetime | None = None,
    unchanged: bool = False,
    record: str | None = None,
) -> Decision:
    """A trigger sensor was written for a period that already has a run (reference §4.3).

    Same record redelivered, or the producer wrote again? The record that acquired the run (``record``
    equal to the run's ``startRecord``), delivered again after the run finished, is a replay whatever
    its time says (a write with no ``updatedAt`` is dated by the second after DynamoDB's
    ``ApproximateCreationDateTime``, which can fall after a run that finished within that second).
    Otherwise the write's id is its ``updatedAt``:

    * ``written_at`` at or before the run's finish: a replay of a write the run already saw; nothing.
    * ``unchanged`` (the stream record's old and new images are equal: a write that changed nothing,
      or such a record redelivered): nothing new was written; nothing.
    * otherwise the producer wrote again after the success (a later ``updatedAt``, or changed content):
      late data, even when the fields are the same as before (a trigger sensor such as
      ``status=ready`` is re-written unchanged when its upstream is redone; the original does the same).

    Returns:
        Late data (job-log row, LATE_DATA_ARRIVAL, a ``late-data`` rerun request) only when the run
        COMPLETED and its latest job row is ``success``; otherwise nothing (the late-data row then
        silences further writes until the next success).
    """
    pid = config.id
    if run_row is None or run_row.status is not RunStatus.COMPLETED:
        return Decision(reason=f"{pid} {period}: a run exists and is not completed")
    if latest_job is None or latest_job.event != JobEvent.SUCCESS:
        return Decision(reason=f"{pid} {period}: latest job row is not a success")
    if record is not None and run_row.start_record == record:
        return Decision(reason=f"{sensor_key!r}: the record that started this run, delivered again")
    finished = run_row.finished_at
    if written_at is not None and finished is not None and written_at <= finished:
        return Decision(reason=f"{sensor_key!r} was written before the run finished (a replay)")
    if unchanged:
        return Decision(
            reason=f"{sensor_key!r}: the record changed nothing (a redelivery, not new data)"
        )
    note = "sensor updated after pipeline completed successfully"
    message = f"late data arrival for {pid}: {sensor_key} updated after job completion"
    # The job-log row is the marker that this write was handled, so it goes last: a failure before it
    # retries the record. The write's own instant identifies everything before it: the event is
    # published once per write (``once``), and writing the request again is the same request (claimed
    # once by the rerun decision), never a second rerun.
    written = written_at or now
    actions: tuple[Action, ...] = (
        PublishEvent(
            EventType.LATE_DATA_ARRIVAL,
            pid,
            schedule_id,
            period,
            message,
            now,
            {"sensorKey": sensor_key},
            once=f"{EventType.LATE_DATA_ARRIVAL.value}-{keys.epoch_ms(written)}",
        ),
        WriteRerunRequest(pid, schedule_id, period, RerunReason.LATE_DATA.value, written),
        AppendJobLog(pid, schedule_id, period, JobEvent.LATE_DATA_ARRIVAL, now, error=note),
    )
    return Decision(actions, "late-data", {"pipelineId": pid}, message)


def decide_postrun(
    config: PipelineConfig,
    *,
    sensor_key: str,
    fields: Mapping[str, Any],
    schedule_id: str,
    period: str,
    run_row: RunRow | None,
    baseline: Mapping[str, Any] | None,
    sensors: Mapping[str, Mapping[str, Any] | None],
    excluded: str | None,
    now: datetime,
) -> Decision:
    """A post-run sensor was written (see the module docstring).

    Args:
        config: the pipeline's config (with ``postRun``).
        sensor_key: the written sensor's key.
        fields: its fields.
        schedule_id: the period's schedule.
        period: the period (from the sensor's ``date``/``hour``).
        run_row: the run's row.
        baseline: the period's stored baseline (rule key → fields), if any.
        sensors: every sensor of the pipeline, remapped for ``period`` (for post-run rules).
        excluded: why the period's day is excluded, if it is (a drift rerun is then skipped).
        now: the instant.
    """
    pid = config.id
    post = config.postRun
    rule_key = postrun_rule_key(config, sensor_key)
    if post is None or rule_key is None:
        return Decision(reason=f"{sensor_key!r} is not a post-run sensor of {pid}")
    if run_row is None or run_row.status not in (RunStatus.RUNNING, RunStatus.COMPLETED):
        return Decision(reason=f"{pid} {period}: no running or completed run")
    drift = None
    previous = (baseline or {}).get(rule_key)
    if isinstance(previous, dict):
        drift = detect_drift(previous, fields, field=post.driftField, threshold=post.driftThreshold)
    if drift is not None:
        detail = {**drift, "sensorKey": sensor_key, "source": "post-run-stream"}
        change = f"{drift['driftField']} {drift['previousCount']} → {drift['currentCount']}"
        if run_row.status is RunStatus.RUNNING:
            message = f"post-run drift while {pid} is running: {change} (no rerun)"
            event = PublishEvent(
                EventType.POST_RUN_DRIFT_INFLIGHT, pid, schedule_id, period, message, now, detail
            )
            return Decision((event,), "drift-inflight", {"pipelineId": pid}, message)
        message = f"post-run drift for {pid}: {change}"
        actions: tuple[Action, ...] = (
            PublishEvent(EventType.POST_RUN_DRIFT, pid, schedule_id, period, message, now, detail),
        )
        if excluded is not None:
            skip = f"post-run drift rerun skipped for {pid}: {excluded}"
            actions += (
                PublishEvent(
                    EventType.PIPELINE_EXCLUDED,
                    pid,
                    schedule_id,
                    period,
                    skip,
                    now,
                    {"reason": excluded},
                ),
            )
        else:
            actions += (
                WriteRerunRequest(pid, schedule_id, period, RerunReason.DATA_DRIFT.value, now),
            )
        return Decision(actions, "drift", {"pipelineId": pid}, message)
    if run_row.status is not RunStatus.COMPLETED:
        return Decision(reason=f"{pid} {period}: no drift while running")
    results = [evaluate_rule(rule, sensors, now) for rule in post.rules]
    passed = all(r.passed for r in results)
    kind = EventType.POST_RUN_PASSED if passed else EventType.POST_RUN_FAILED
    failing = "; ".join(r.reason for r in results if not r.passed)
    message = (
        f"post-run rules passed for {pid}"
        if passed
        else f"post-run rules failed for {pid}: {failing}"
    )
    event = PublishEvent(kind, pid, schedule_id, period, message, now)
    return Decision((event,), kind.value, {"pipelineId": pid}, message)
