"""Operator actions, planned: rerun requests, SLA acknowledgements and the dry-run switch.

Pure, like the rest of :mod:`interlock.lifecycle` (STYLE rule 2): config + what the caller read from the
store + ``now`` → a :class:`~interlock.lifecycle.actions.Decision`. :class:`interlock.service.operator.Operator`
reads the store, calls these functions and hands the decision to the executor; the CLI and the TUI go
through it::

    plan          actions (in order)                   refused (OperatorError)
    ------------  -----------------------------------  ---------------------------------------------
    plan_rerun    WriteRerunRequest(by)                empty reason, job-fail-retry, malformed or
                  + PublishEvent(RERUN_REQUESTED)      mis-shaped period
    plan_ack      WriteAck                             no SLA, empty reason, until ≤ now, malformed
                  + PublishEvent(SLA_ACKNOWLEDGED)     period
    plan_dry_run  SetOverride("dry-run")               empty reason; "on" without schedule.trigger
                  + PublishEvent(DRY_RUN_SWITCHED)     (already in that state: no actions, a reason)

A rerun whose budget is spent is still planned: the router rejects the request and publishes
RERUN_REJECTED, which is the audited path. The plan's ``output["budgetLeft"]`` lets a face warn first.

**Budgets** (:class:`RerunBudget`, the same buckets as :func:`interlock.records.budget_bucket`)::

    reason                 budget             counted over
    ---------------------  -----------------  ----------------------------------
    data-drift, late-data  maxDriftReruns     data-drift + late-data rows (shared)
    any other reason       maxManualReruns    rows of that exact reason
    job-fail-retry         (not an operator reason: the controller's automatic retries)

**Dry run.** The YAML's ``dryRun`` is the default; an operator override (control row ``OVERRIDE#dry-run``)
wins over it (:func:`effective_dry_run`). Switching writes the override only where it differs from the
config, and removes it where the config already says the same, so a switch back leaves no stale row::

    config dryRun   switch   SetOverride value        effective afterwards
    -------------   ------   ----------------------   --------------------
    false           on       True                     dry run
    false           off      None (override removed)  live
    true            off      False                    live
    true            on       None (override removed)  dry run

**Which period** (:func:`current_period`, when the operator names none): for a cron pipeline, the period of
the latest fire at or before ``now``; for a sensor pipeline, the current local date in
``schedule.timezone``, or the current local hour (``YYYY-MM-DDTHH``) when the pipeline is hourly. A
sensor pipeline's periods come from its sensors, so the config can only hint: it counts as hourly when
its SLA deadline is hourly (``:MM``); a caller that knows better (e.g. from the run history) passes
``hourly=``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from interlock.events import EventType
from interlock.exceptions import InterlockError, ScheduleError
from interlock.lifecycle.actions import (
    Decision,
    PublishEvent,
    SetOverride,
    WriteAck,
    WriteRerunRequest,
)
from interlock.records import DRY_RUN_OVERRIDE, RerunReason, budget_bucket
from interlock.schedule import Period, cron_period, previous_fire
from interlock.store import keys

if TYPE_CHECKING:
    from datetime import datetime

    from interlock.config.models import PipelineConfig

__all__ = [
    "OperatorError",
    "RerunBudget",
    "check_period",
    "check_reason",
    "check_rerun_reason",
    "current_period",
    "effective_dry_run",
    "plan_ack",
    "plan_dry_run",
    "plan_rerun",
]

_DRIFT_REASONS: Final = budget_bucket(RerunReason.DATA_DRIFT.value)


class OperatorError(InterlockError):
    """An operator action that cannot be taken as asked (unknown pipeline, bad period, no SLA …).

    The message says what is wrong and what to do instead; faces show it as is (CLI: exit 2).
    """


# -------------------------------------------------------------------------------------- budgets


@dataclass(frozen=True, slots=True)
class RerunBudget:
    """How many reruns a run has used and may use, per budget.

    Attributes:
        drift_used: reruns recorded for ``data-drift`` and ``late-data`` (one shared budget).
        drift_max: the job's ``maxDriftReruns``.
        manual_used: reruns recorded for ``manual_reason``.
        manual_max: the job's ``maxManualReruns`` (each non-drift reason has its own count of it).
        manual_reason: the reason ``manual_used`` counts (``manual`` unless the caller asked about another).
    """

    drift_used: int
    drift_max: int
    manual_used: int
    manual_max: int
    manual_reason: str = RerunReason.MANUAL.value

    def remaining(self, reason: str) -> int:
        """Reruns left for ``reason`` (never negative).

        Args:
            reason: ``data-drift``/``late-data`` (the shared drift budget) or :attr:`manual_reason`.

        Returns:
            How many more reruns the router would accept for that reason.

        Raises:
            ValueError: ``reason`` is another reason, whose rows this budget did not count.
        """
        if reason in _DRIFT_REASONS:
            return max(0, self.drift_max - self.drift_used)
        if reason == self.manual_reason:
            return max(0, self.manual_max - self.manual_used)
        raise ValueError(
            f"this budget counted {self.manual_reason!r} reruns, not {reason!r}: "
            f"count again for reason {reason!r}"
        )

    def maximum(self, reason: str) -> int:
        """The budget's size for ``reason`` (see :meth:`remaining` for the reasons accepted).

        Raises:
            ValueError: ``reason`` is another reason, whose rows this budget did not count.
        """
        if reason in _DRIFT_REASONS:
            return self.drift_max
        if reason == self.manual_reason:
            return self.manual_max
        raise ValueError(f"this budget counted {self.manual_reason!r} reruns, not {reason!r}")

    def __str__(self) -> str:
        drift = self.remaining(RerunReason.DATA_DRIFT.value)
        manual = self.remaining(self.manual_reason)
        return (
            f"drift {drift}/{self.drift_max} left · "
            f"{self.manual_reason} {manual}/{self.manual_max} left"
        )

    def __repr__(self) -> str:
        return f"<RerunBudget {self}>"


# -------------------------------------------------------------------------------------- periods


def _cron_is_hourly(config: PipelineConfig, now: datetime) -> bool:
    cron = config.schedule.cron
    assert cron is not None  # callers check
    return cron_period(cron, config.schedule.timezone, now).is_hourly


def current_period(config: PipelineConfig, now: datetime, *, hourly: bool | None = None) -> str:
    """The period an operator most likely means when naming none (see the module docstring).

    Args:
        config: the pipeline.
        now: the current instant (timezone-aware).
        hourly: for a sensor pipeline, whether its periods are hourly; ``None`` infers it from the
            config (an hourly ``:MM`` SLA deadline). Ignored for cron pipelines, whose cron decides.

    Returns:
        ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH``.

    Raises:
        ValueError: ``now`` is naive.
    """
    schedule = config.schedule
    if schedule.cron:
        fire = previous_fire(schedule.cron, schedule.timezone, now)
        return cron_period(schedule.cron, schedule.timezone, fire).id
    if hourly is None:
        deadline = config.sla.deadline if config.sla is not None else None
        hourly = deadline is not None and deadline.startswith(":")
    if now.utcoffset() is None:
        raise ValueError(f"now must be a timezone-aware datetime, got {now!r}")
    # The config model has already checked that the zone exists.
    local = now.astimezone(ZoneInfo(schedule.timezone))
    return Period(local.date(), local.hour if hourly else None).id


def check_period(config: PipelineConfig, period: str, now: datetime) -> str:
    """Check that ``period`` is a period id this pipeline can have.

    Args:
        config: the pipeline.
        period: ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH`` as the operator typed it.
        now: any instant (reads the cron's period shape).

    Returns:
        The period id.

    Raises:
        OperatorError: not a period, or a daily period for an hourly cron (or the other way round).
    """
    try:
        parsed = Period.parse(period)
    except ScheduleError as exc:
        raise OperatorError(str(exc)) from None
    if config.schedule.cron:
        hourly = _cron_is_hourly(config, now)
        if hourly != parsed.is_hourly:
            shape = "hourly (YYYY-MM-DDTHH)" if hourly else "daily (YYYY-MM-DD)"
            raise OperatorError(
                f"{config.id} runs on cron {config.schedule.cron!r}, so its periods are {shape}; "
                f"{period!r} is not one"
            )
    return parsed.id


def check_reason(reason: str, *, what: str = "a rerun") -> str:
    """An operator's reason, stripped; refused when empty.

    Args:
        reason: what the operator typed.
        what: the action, for the message.

    Returns:
        The reason without surrounding whitespace.

    Raises:
        OperatorError: the reason is empty (or blank).
    """
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise OperatorError(f"{what} needs a reason: say why, for the audit trail")
    return text


def check_rerun_reason(reason: str) -> str:
    """A rerun reason, stripped: refused when empty or ``job-fail-retry``.

    Args:
        reason: what the operator typed.

    Returns:
        The reason without surrounding whitespace.

    Raises:
        OperatorError: an empty reason, or the controller's own automatic-retry reason.
    """
    text = check_reason(reason)
    if text == RerunReason.JOB_FAIL_RETRY.value:
        raise OperatorError(
            f"{text!r} is the controller's own reason for automatic retries; "
            "ask for a manual rerun (reason manual) instead"
        )
    return text


def _check_by(by: str) -> str:
    text = by.strip() if isinstance(by, str) else ""
    if not text:
        raise OperatorError("an operator action needs an actor (who is asking)")
    return text


# -------------------------------------------------------------------------------------- reruns


def plan_rerun(
    config: PipelineConfig,
    *,
    period: str,
    reason: str,
    by: str,
    now: datetime,
    budget: RerunBudget,
) -> Decision:
    """Plan an operator's rerun request for one period.

    Args:
        config: the pipeline.
        period: the period to rerun.
        reason: why: ``manual``, ``data-drift``, ``late-data`` or any other word (its own manual budget).
        by: who asks.
        now: when.
        budget: the run's budget as counted for ``reason`` (see :class:`RerunBudget`).

    Returns:
        WriteRerunRequest + PublishEvent(RERUN_REQUESTED). ``output`` holds ``pipelineId``,
        ``scheduleId``, ``period``, ``reason``, ``budgetLeft`` (reruns left for the reason before this
        request; 0: the router will reject it) and ``budgetMax``.

    Raises:
        OperatorError: an empty reason, ``job-fail-retry``, or a malformed period.
    """
    text = check_rerun_reason(reason)
    actor = _check_by(by)
    period_id = check_period(config, period, now)
    left, most = budget.remaining(text), budget.maximum(text)
    schedule_id = config.schedule.schedule_id
    pid = config.id
    bucket = "drift" if text in _DRIFT_REASONS else text
    if left == 0:
        why = (
            f"the {bucket} rerun budget of {pid} {period_id} is spent (0/{most} left): "
            "the controller will reject the request (RERUN_REJECTED)"
        )
    else:
        why = f"rerun of {pid} {period_id} requested ({text}); {bucket} budget {left}/{most} left"
    return Decision(
        actions=(
            WriteRerunRequest(pid, schedule_id, period_id, text, now, by=actor),
            PublishEvent(
                EventType.RERUN_REQUESTED,
                pid,
                schedule_id,
                period_id,
                f"{actor} asked for a rerun of {pid} {period_id} ({text})",
                now,
                detail={"reason": text},
                actor=actor,
            ),
        ),
        output={
            "pipelineId": pid,
            "scheduleId": schedule_id,
            "period": period_id,
            "reason": text,
            "budgetLeft": left,
            "budgetMax": most,
        },
        reason=why,
    )


# ----------------------------------------------------------------------------------------- acks


def plan_ack(
    config: PipelineConfig,
    *,
    period: str,
    by: str,
    reason: str,
    until: datetime | None,
    now: datetime,
) -> Decision:
    """Plan an acknowledgement of a run's SLA alerts.

    Args:
        config: the pipeline.
        period: the run's period.
        by: who acknowledges.
        reason: why (shown in the Slack thread and the event log).
        until: when the acknowledgement lapses (``None``: for the rest of the run).
        now: when.

    Returns:
        WriteAck + PublishEvent(SLA_ACKNOWLEDGED, detail ``{reason, until}``). ``output`` holds
        ``pipelineId``, ``scheduleId``, ``period`` and ``until`` (RFC 3339 or ``None``).

    Raises:
        OperatorError: the pipeline has no SLA, an empty reason, a naive or past ``until``, or a
            malformed period.
    """
    pid = config.id
    if config.sla is None:
        raise OperatorError(
            f"{pid} has no SLA (its config has no sla: section), so there are no SLA alerts to "
            "acknowledge"
        )
    text = check_reason(reason, what="an SLA acknowledgement")
    actor = _check_by(by)
    until_text: str | None = None
    if until is not None:
        if until.utcoffset() is None:
            raise OperatorError(f"until {until.isoformat()} has no time zone: give an offset or Z")
        if until <= now:
            raise OperatorError(
                f"until {keys.format_time(until)} is not after now ({keys.format_time(now)}): "
                "an acknowledgement must last"
            )
        until_text = keys.format_time(until)
    period_id = check_period(config, period, now)
    schedule_id = config.schedule.schedule_id
    lasting = f"until {until_text}" if until_text else "for the rest of the run"
    return Decision(
        actions=(
            WriteAck(pid, schedule_id, period_id, actor, text, until, now),
            PublishEvent(
                EventType.SLA_ACKNOWLEDGED,
                pid,
                schedule_id,
                period_id,
                f"{actor} acknowledged the SLA of {pid} {period_id} {lasting}: {text}",
                now,
                detail={"reason": text, "until": until_text},
                actor=actor,
            ),
        ),
        output={
            "pipelineId": pid,
            "scheduleId": schedule_id,
            "period": period_id,
            "until": until_text,
        },
        reason=f"SLA of {pid} {period_id} acknowledged {lasting}",
    )


# -------------------------------------------------------------------------------------- dry run


def effective_dry_run(config: PipelineConfig, override_value: Any) -> bool:
    """Whether a pipeline is in dry run: the operator override if there is one, else ``config.dryRun``.

    Args:
        config: the pipeline.
        override_value: the ``dry-run`` override's value, or ``None`` when there is no override.

    Returns:
        ``override_value`` when it is a bool; ``config.dryRun`` when it is ``None``. Any other value (a
        row some other tool wrote) counts as dry run: when in doubt, observe rather than trigger.
    """
    if override_value is None:
        return config.dryRun
    if isinstance(override_value, bool):
        return override_value
    return True


def plan_dry_run(
    config: PipelineConfig, on: bool, *, by: str, reason: str, now: datetime, current: bool
) -> Decision:
    """Plan switching a pipeline into (``on``) or out of dry run.

    Args:
        config: the pipeline.
        on: the state wanted.
        by: who switches.
        reason: why.
        now: when.
        current: whether the pipeline is in dry run now (:func:`effective_dry_run`).

    Returns:
        SetOverride + PublishEvent(DRY_RUN_SWITCHED, detail ``{dryRun, reason}``); the override value
        follows the table in the module docstring. Already in the wanted state: no actions, and a
        ``reason`` saying so. ``output`` holds ``pipelineId``, ``dryRun`` and ``changed``.

    Raises:
        OperatorError: an empty reason, or dry run on for a pipeline without ``schedule.trigger``.
    """
    text = check_reason(reason, what="a dry-run switch")
    actor = _check_by(by)
    pid = config.id
    output = {"pipelineId": pid, "dryRun": on, "changed": on != current}
    if on == current:
        state = "already in dry run" if on else "already live (not in dry run)"
        return Decision(output=output, reason=f"{pid} is {state}")
    if on and config.schedule.trigger is None:
        # The config loader refuses dryRun: true here for the same reason.
        raise OperatorError(
            f"dry run observes trigger-sensor writes and {pid} has no schedule.trigger, so it would "
            "observe nothing: add schedule.trigger to its config first"
        )
    value = None if on == config.dryRun else on
    state = "into dry run" if on else "out of dry run"
    return Decision(
        actions=(
            SetOverride(pid, DRY_RUN_OVERRIDE, value, actor, text, now),
            PublishEvent(
                EventType.DRY_RUN_SWITCHED,
                pid,
                None,
                None,
                f"{actor} switched {pid} {state}: {text}",
                now,
                detail={"dryRun": on, "reason": text},
                actor=actor,
            ),
        ),
        output=output,
        reason=f"{pid} switched {state}",
    )
