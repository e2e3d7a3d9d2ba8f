"""The orchestrator: the state machine's Task resource, mapping each ``mode`` to a run step.

In AWS the orchestrator Lambda is the Task resource of ``deploy/statemachine.asl.json``; locally the
embedded runtime (:mod:`interlock.local.runtime`) calls it from the ASL runner. Either way one
:meth:`Orchestrator.handle` call reads what the step needs, asks the pure step, and hands back the
decision **without writing** (plan/act, STYLE rule 2)::

    mode               reads                                          step (interlock.lifecycle.run)
    -----------------  ---------------------------------------------  ------------------------------
    evaluate           store.control.get_config + .sensors            evaluate_step
    trigger            config; triggers(job.type).start(...)          trigger_step
    check-job          config; triggers(job.type).status(...);        check_job_step
                       on a failure, the retries used (retry_outlook)
    trigger-exhausted  (the payload's ``cause``)                      trigger_exhausted_step

The plan/act choice: :meth:`Orchestrator.handle` returns ``(output, decision)``. The caller applies
``decision`` with an :class:`~interlock.service.executor.Executor` **before** returning ``output`` to the state
machine, and, when :func:`wants_trigger_retry` says so, raises the Task error
:data:`~interlock.lifecycle.run.TRIGGER_RETRY_ERROR` instead of returning (the state machine's Retry
then waits the backoff). The decision of a retry still carries its ``infra-trigger-failure`` job-log
row, which is why retrying is the caller's move and not an exception raised here.

Starting a job and polling it are the only side effects here (they are the trigger runner's job and
the step's input). A trigger runner's ``run_id`` is the attempt's execution name, so the job's
``${RUN_ID}`` is the same on every retry of one attempt.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Protocol

from interlock.exceptions import InterlockError, ScheduleError
from interlock.lifecycle.actions import Decision, RunRef
from interlock.lifecycle.reruns import retry_outlook
from interlock.lifecycle.router import execution_name
from interlock.lifecycle.run import (
    JOB_POLL_INTERVAL,
    RunState,
    check_job_step,
    evaluate_step,
    remap_for_period,
    trigger_exhausted_step,
    trigger_step,
)
from interlock.schedule import Period
from interlock.store import keys
from interlock.triggers.base import RunHandle, TriggerError

if TYPE_CHECKING:
    from collections.abc import Callable

    from interlock.config.models import Calendar, PipelineConfig
    from interlock.lifecycle.reruns import RetryOutlook
    from interlock.ports import Clock
    from interlock.store.control import ControlStore
    from interlock.triggers.base import JobStatus, TriggerRunner

__all__ = [
    "MODES",
    "ConfigSource",
    "Orchestrator",
    "OrchestratorError",
    "wants_trigger_retry",
]

MODES: Final = ("evaluate", "trigger", "check-job", "trigger-exhausted")
"""The ``mode`` values the state machine's Task states send."""


class OrchestratorError(InterlockError):
    """A payload the orchestrator cannot act on (unknown mode, missing field, no config).

    Raised out of :meth:`Orchestrator.handle`; in the state machine it is a ``States.TaskFailed``, which
    the Task's Retry/Catch turn into an infrastructure failure.
    """


class ConfigSource(Protocol):
    """What the orchestrator reads from a store: its control table (a ``Store`` satisfies it)."""

    @property
    def control(self) -> ControlStore:
        """The control table's domain object (configs and sensors)."""
        ...


def wants_trigger_retry(payload: Mapping[str, Any], decision: Decision) -> bool:
    """Whether the caller must raise ``Interlock.TriggerRetry`` after applying ``decision``.

    Args:
        payload: the Task payload :meth:`Orchestrator.handle` was given.
        decision: the decision it returned.

    Returns:
        ``True`` for a ``trigger`` decision that stays TRIGGERING (a transient failure with retries left).
    """
    return payload.get("mode") == "trigger" and decision.next == RunState.TRIGGERING


def _text(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value:
        raise OrchestratorError(f"payload field {name!r} must be a non-empty string, got {value!r}")
    return value


def _run(payload: Mapping[str, Any]) -> RunRef:
    attempt = payload.get("attempt", 1)
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise OrchestratorError(
            f"payload field 'attempt' must be a positive integer, got {attempt!r}"
        )
    return RunRef(
        _text(payload, "pipelineId"),
        _text(payload, "scheduleId"),
        _text(payload, "period"),
        attempt,
    )


def _instant(payload: Mapping[str, Any], name: str) -> datetime:
    try:
        return keys.parse_time(_text(payload, name))
    except ValueError as exc:
        raise OrchestratorError(f"payload field {name!r}: {exc}") from exc


class Orchestrator:
    """Maps the state machine's ``mode`` payloads to the pure run steps (see the module docstring).

    Args:
        store: where configs and sensors are read (a ``Store``, or anything with ``.control``).
        triggers: the trigger runner of a job type (e.g. :func:`interlock.triggers.runner_for`, or a
            cache of runners so that a job started by one call can be polled by the next).
        clock: the instant of every decision.
        poll_backoff: when set, job polls without an explicit ``job.pollInterval`` back off up to this
            wait (each wait = the job's run time so far; :data:`~interlock.lifecycle.run.JOB_POLL_MAX_INTERVAL`
            in AWS, where each poll costs 3 state transitions); ``None``: a poll every 60 s.
        retries_used: the ``job-fail-retry`` reruns a run has used (a count of rerun rows); with it,
            a JOB_FAILED says whether an automatic retry follows (``None``: it does not say).
        calendars: named calendars (an excluded day is not retried).
    """

    def __init__(
        self,
        store: ConfigSource,
        *,
        triggers: Callable[[str], TriggerRunner],
        clock: Clock,
        poll_backoff: timedelta | None = None,
        retries_used: Callable[[RunRef], int] | None = None,
        calendars: Mapping[str, Calendar] | None = None,
    ) -> None:
        self.store = store
        self.triggers = triggers
        self.clock = clock
        self.poll_backoff = poll_backoff
        self.retries_used = retries_used
        self.calendars: Mapping[str, Calendar] = dict(calendars or {})

    def __repr__(self) -> str:
        return f"<Orchestrator {self.store!r}>"

    def handle(self, payload: Mapping[str, Any]) -> tuple[dict[str, Any], Decision]:
        """Decide one Task invocation; write nothing.

        Args:
            payload: the Task's ``Parameters`` (``mode``, ``pipelineId``, ``scheduleId``, ``period``,
                ``attempt`` and the mode's own fields).

        Returns:
            ``(output, decision)``: ``output`` holds every field the state machine reads next; the
            caller applies ``decision.actions`` first (see :func:`wants_trigger_retry`).

        Raises:
            OrchestratorError: an unknown mode, a missing or malformed field, or no config.
        """
        mode = payload.get("mode")
        run = _run(payload)
        now = self.clock.now()
        if mode == "trigger-exhausted":
            cause = payload.get("cause")
            decision = trigger_exhausted_step(
                run=run, cause=cause if isinstance(cause, str) else "", now=now
            )
        elif mode == "evaluate":
            decision = self._evaluate(payload, run, now)
        elif mode == "trigger":
            decision = self._trigger(payload, run, now)
        elif mode == "check-job":
            decision = self._check_job(payload, run, now)
        else:
            raise OrchestratorError(f"unknown mode {mode!r}: expected one of {', '.join(MODES)}")
        return dict(decision.output), decision

    # ----------------------------------------------------------------------------------- modes

    def _config(self, run: RunRef) -> PipelineConfig:
        config = self.store.control.get_config(run.pipeline_id)
        if config is None:
            raise OrchestratorError(f"pipeline {run.pipeline_id!r} has no config in the store")
        return config

    def _evaluate(self, payload: Mapping[str, Any], run: RunRef, now: datetime) -> Decision:
        config = self._config(run)
        sensors = remap_for_period(
            {k: r.fields for k, r in self.store.control.sensors(run.pipeline_id).items()},
            run.period,
        )
        started = _instant(payload, "startedAt")
        return evaluate_step(config, sensors, run=run, started_at=started, now=now)

    def _trigger(self, payload: Mapping[str, Any], run: RunRef, now: datetime) -> Decision:
        config = self._config(run)
        retries = payload.get("retries", 0)
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise OrchestratorError(f"payload field 'retries' must be a count, got {retries!r}")
        run_id = execution_name(run.pipeline_id, run.schedule_id, run.period, run.attempt)
        result: RunHandle | TriggerError
        try:
            period = Period.parse(run.period)
        except ScheduleError as exc:
            raise OrchestratorError(f"payload field 'period': {exc}") from exc
        try:
            runner = self.triggers(config.job.type)
            result = runner.start(
                config.job.config, pipeline_id=run.pipeline_id, period=period, run_id=run_id
            )
        except TriggerError as exc:
            result = exc
        return trigger_step(
            result,
            run=run,
            job_type=str(config.job.type),
            retries=retries,
            now=now,
            poll_interval=config.job.pollInterval or JOB_POLL_INTERVAL,
        )

    def _check_job(self, payload: Mapping[str, Any], run: RunRef, now: datetime) -> Decision:
        config = self._config(run)
        metadata = payload.get("metadata")
        if not isinstance(metadata, Mapping):
            raise OrchestratorError(f"payload field 'metadata' must be an object, got {metadata!r}")
        handle = RunHandle(_text(payload, "runId"), dict(metadata))
        status = self.triggers(config.job.type).status(config.job.config, handle)
        return check_job_step(
            status,
            run=run,
            handle=handle,
            poll_started_at=_instant(payload, "pollStartedAt"),
            now=now,
            poll_window=timedelta(seconds=config.job.jobPollWindowSeconds),
            poll_interval=config.job.pollInterval or JOB_POLL_INTERVAL,
            # an explicit pollInterval is kept; the default backs off when asked (AWS: fewer transitions)
            max_poll_interval=None if config.job.pollInterval else self.poll_backoff,
            retry=self._retry(config, run, status),
        )

    def _retry(self, config: PipelineConfig, run: RunRef, status: JobStatus) -> RetryOutlook | None:
        """Whether a failed job will be retried by itself (read only for a failure)."""
        if status.state != "failed" or self.retries_used is None:
            return None
        return retry_outlook(
            config,
            category=status.failure.value if status.failure is not None else None,
            retries_used=self.retries_used(run),
            period=run.period,
            calendars=self.calendars,
        )
