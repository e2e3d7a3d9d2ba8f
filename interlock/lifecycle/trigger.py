"""A trigger-sensor write, decided once: start, late data or the post-run path (reference §4.2, §4.3).

:func:`decide_trigger_write` is the one pure decision for a write on the trigger path; the controller
gathers its :class:`TriggerFacts` first (:func:`interlock.service.reads.trigger_facts`) and applies what
it returns, as the watchdog does with :func:`~interlock.lifecycle.watchdog.scan`::

    decide_sensor says          run row of the period   path        decision
    ------------------------    ---------------------   ----------  ----------------------------------------
    "dry-run"                   (not read)              dry-run     decide_sensor's (observe only)
    ignored, excluded           (not read if no period) other       decide_sensor's (PIPELINE_EXCLUDED,
                                                                    nothing)
    "start"                     none                    start       decide_sensor's start
    "start"                     RUNNING, acquired by    resume      nothing here; the controller
                                this very record (its               re-issues the attempt's start
                                ``startRecord``): a                 (decide_resume): the first handling
                                redelivery                          may have died before StartExecution
    "start"                     exists, and the key is  post-run    decide_postrun: its drift threshold
                                a post-run key with a               decides whether the change deserves a
                                stored baseline                     rerun (the original always treated it
                                                                    as late data)
    "start"                     exists                  late-data   decide_late_data (nothing unless
                                                                    the run COMPLETED: a write while it
                                                                    is RUNNING starts nothing, so one
                                                                    attempt is one StartExecution)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from interlock.lifecycle import postrun
from interlock.lifecycle.actions import Decision
from interlock.lifecycle.reruns import period_exclusion, started_by
from interlock.lifecycle.router import decide_sensor

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from interlock.config.models import Calendar, PipelineConfig
    from interlock.lifecycle.router import SensorWrite
    from interlock.records import JobEntry, RunRow

__all__ = ["TriggerChoice", "TriggerFacts", "TriggerPath", "decide_trigger_write"]

TriggerPath = Literal["start", "resume", "dry-run", "late-data", "post-run", "other"]


@dataclass(frozen=True, slots=True)
class TriggerFacts:
    """What a trigger-sensor write's decision reads from the store, for the write's period.

    Attributes:
        dry_run: whether the pipeline is in dry run now (override, else ``dryRun``).
        run_row: the period's run row (``None``: no run yet; nothing below is then read).
        latest_job: the period's latest job-log row (for late data).
        baseline: the period's post-run baseline (rule key → fields), if one is stored.
        sensors: the pipeline's sensors remapped for the period (for the post-run rules).
    """

    dry_run: bool
    run_row: RunRow | None = None
    latest_job: JobEntry | None = None
    baseline: Mapping[str, Any] | None = None
    sensors: Mapping[str, Mapping[str, Any] | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TriggerChoice:
    """Which path a trigger-sensor write takes, and that path's decision.

    Attributes:
        path: ``start``, ``resume`` (the controller re-issues the running attempt's start),
            ``dry-run``, ``late-data``, ``post-run``, or ``other`` (ignored or excluded:
            :func:`~interlock.lifecycle.router.decide_sensor`'s decision as is).
        decision: the decision to apply (the caller applies a ``late-data`` or ``other`` decision only
            when it has actions, and a ``post-run`` one always).
    """

    path: TriggerPath
    decision: Decision


def decide_trigger_write(
    config: PipelineConfig,
    write: SensorWrite,
    facts: TriggerFacts,
    *,
    now: datetime,
    calendars: Mapping[str, Calendar],
) -> TriggerChoice:
    """Decide a write on the trigger path (see the module docstring).

    Args:
        config: the pipeline's validated config.
        write: the trigger-sensor write.
        facts: what the controller read for the write's period.
        now: the instant of the decision.
        calendars: the known calendars by name.

    Returns:
        The path and its decision: ``start`` (AcquireRun + StartExecution), ``resume`` (no actions:
        the write is the redelivered record that acquired the RUNNING run), ``late-data``
        (:func:`~interlock.lifecycle.postrun.decide_late_data`), ``post-run``
        (:func:`~interlock.lifecycle.postrun.decide_postrun`), ``dry-run`` (observe only), or
        ``other`` (PIPELINE_EXCLUDED, or nothing with a reason).
    """
    decision = decide_sensor(config, write, now=now, calendars=calendars, dry_run=facts.dry_run)
    if decision.next == "dry-run":
        return TriggerChoice("dry-run", decision)
    if decision.next != "start":
        return TriggerChoice("other", decision)
    row = facts.run_row
    if row is None:
        return TriggerChoice("start", decision)
    if started_by(row, write.sequence):
        reason = f"{write.key!r}: the record that started this RUNNING run, delivered again"
        return TriggerChoice(
            "resume", Decision(next="resume", output=decision.output, reason=reason)
        )
    schedule, period = str(decision.output["scheduleId"]), str(decision.output["period"])
    if facts.baseline is not None and postrun.postrun_rule_key(config, write.key) is not None:
        chosen = postrun.decide_postrun(
            config,
            sensor_key=write.key,
            fields=write.fields,
            schedule_id=schedule,
            period=period,
            run_row=row,
            baseline=facts.baseline,
            sensors=facts.sensors,
            excluded=period_exclusion(config, period, calendars),
            now=now,
        )
        return TriggerChoice("post-run", chosen)
    late = postrun.decide_late_data(
        config,
        sensor_key=write.key,
        schedule_id=schedule,
        period=period,
        run_row=row,
        latest_job=facts.latest_job,
        now=now,
        written_at=write.updated_at,
        unchanged=write.unchanged,
        record=write.sequence,
    )
    return TriggerChoice("late-data", late)
