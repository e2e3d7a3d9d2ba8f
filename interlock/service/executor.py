"""Apply a lifecycle :class:`~interlock.lifecycle.actions.Decision`: the only module that writes.

Pure decisions plan; this module acts (STYLE rule 2). Lambdas and the embedded runtime hand it each
decision; nothing else in ``interlock`` writes the store, starts executions or publishes events.
Actions are applied **in order**, each through one port::

    action             goes to                                          on a lost condition
    -----------------  -----------------------------------------------  -------------------------------------
    AcquireRun         store.control.acquire_run (absent → RUNNING)     CONFLICT; the rest of the decision
                                                                        is SKIPPED (a duplicate or replayed
                                                                        record never starts a second run)
    StartExecution     executions.start (idempotent by name)           — ; if it raises after this decision's
                                                                        AcquireRun, the run row is released
                                                                        and the error re-raised, so the
                                                                        stream record is retried
    PublishEvent       bus.publish(Event stamped with clock.now())      with ``once``: a claim first; if
                                                                        claimed before, CONFLICT for this
                                                                        action only (the rest applies)
                                                                        — (the bus fans out to the events
                                                                        table; the executor never writes it);
                                                                        (any action that raises right
                                                                        after Claims, with only publishes
                                                                        between, releases those Claims, so
                                                                        the retried record does it)
    AppendJobLog       store.joblog.append                              —
    SetRunStatus       store.control.set_run_status(attempt=…)          CONFLICT recorded (a superseded
                                                                        attempt); later actions still apply
    WriteRerunRequest  store.control.request_rerun                      —
    ResetRun           store.control.reset_run (exists → RUNNING, +1)   CONFLICT; the rest is SKIPPED
    RecordRerun        store.reruns.record                              —
    Claim              store.control.claim (absent)                     CONFLICT; the rest is SKIPPED
    MarkDryRun         store.control.mark_dry_run (absent)              CONFLICT; the rest is SKIPPED
    PutBookkeeping     store.control.put_sensor (once: absent)          CONFLICT recorded; later actions apply
    ScheduleTimer      timers.schedule                                  —  (no timers port: a TypeError)
    CancelTimer        timers.cancel                                    —
    WriteAck           store.control.ack_sla                            —
    SetOverride        store.control.set_override / clear_override      —
    Watch              store.control.watch (the watchdog's due index)  —

The watchdog reads only pipelines due in its index (:mod:`interlock.store.control`, watch rows). A
write that gives a check something new to wait for marks its pipeline due first (write-ahead: a crash
between the two costs a wasted read, never a missed check): a COMPLETED run (post-run sensor timeout),
a first sensor arrival (relative SLA), an override (dry run switched off).

Store rows carry the instant the decision planned (``action.at``); the published event carries the
executor clock's ``now()``. Errors other than the two conflicts above propagate unchanged: in a safety
controller an unapplied action must surface, so Lambda retries and the DLQ work (STYLE rule 13).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from interlock.lifecycle.actions import (
    AcquireRun,
    AppendJobLog,
    CancelTimer,
    Claim,
    MarkDryRun,
    PublishEvent,
    PutBookkeeping,
    RecordRerun,
    ResetRun,
    ScheduleTimer,
    SetOverride,
    SetRunStatus,
    StartExecution,
    Watch,
    WriteAck,
    WriteRerunRequest,
)
from interlock.records import RunStatus
from interlock.service.crashpoint import crash_point
from interlock.store import keys
from interlock.store.table import ConflictError, StoreError, absent

if TYPE_CHECKING:
    from interlock.lifecycle.actions import Action, Decision
    from interlock.ports import Clock, EventBus, Executions, Timers
    from interlock.store.factory import Store

__all__ = [
    "BOOKKEEPING_TTL",
    "DEFAULT_ACTOR",
    "DEFAULT_LOCK_TTL",
    "ActionOutcome",
    "ApplyResult",
    "Executor",
    "OutcomeStatus",
]

log = logging.getLogger(__name__)

DEFAULT_LOCK_TTL: Final = timedelta(hours=4, minutes=30)
"""How long a run may stay RUNNING before it is stale: the original's default (SFN timeout + 30 min)."""
BOOKKEEPING_TTL: Final = timedelta(days=35)
"""How long the controller's own per-period sensor rows (first arrival, post-run baseline) live."""
DEFAULT_ACTOR: Final = "interlock"
"""Who the executor writes rerun requests as (the request row's ``by``)."""

_RunKey = tuple[str, str, str]
_STOPPERS: Final = (AcquireRun, ResetRun, Claim, MarkDryRun)
"""Actions whose lost condition stops the rest of their decision."""


class OutcomeStatus(StrEnum):
    """What became of one action."""

    APPLIED = "applied"
    """Written, started or published."""
    CONFLICT = "conflict"
    """A conditional write lost (run already acquired, or a stale attempt); nothing was written."""
    SKIPPED = "skipped"
    """Not attempted: an earlier AcquireRun of the same decision lost."""


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    """One action and what became of it.

    Attributes:
        action: the action.
        status: applied, conflict or skipped.
        reason: why, for conflicts and skips (empty when applied).
        execution_id: for an applied StartExecution, the execution's id.
    """

    action: Action
    status: OutcomeStatus
    reason: str = ""
    execution_id: str | None = None

    def __repr__(self) -> str:
        why = f": {self.reason}" if self.reason else ""
        return f"<{type(self.action).__name__} {self.status}{why}>"


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What :meth:`Executor.apply` did with a decision, action by action, in order.

    Attributes:
        outcomes: one entry per action of the decision, in the decision's order.
        stopped: why the decision was cut short (an AcquireRun lost), or ``None`` if it ran to the end.
    """

    outcomes: tuple[ActionOutcome, ...] = ()
    stopped: str | None = None

    @property
    def applied(self) -> tuple[Action, ...]:
        """The actions that took effect."""
        return tuple(o.action for o in self.outcomes if o.status is OutcomeStatus.APPLIED)

    @property
    def conflicts(self) -> tuple[ActionOutcome, ...]:
        """The actions whose conditional write lost."""
        return tuple(o for o in self.outcomes if o.status is OutcomeStatus.CONFLICT)

    @property
    def skipped(self) -> tuple[ActionOutcome, ...]:
        """The actions not attempted because the decision stopped."""
        return tuple(o for o in self.outcomes if o.status is OutcomeStatus.SKIPPED)

    @property
    def execution_ids(self) -> tuple[str, ...]:
        """The ids of the executions started (or found, when a start was repeated)."""
        return tuple(o.execution_id for o in self.outcomes if o.execution_id is not None)

    def __repr__(self) -> str:
        counts = dict.fromkeys(OutcomeStatus, 0)
        for outcome in self.outcomes:
            counts[outcome.status] += 1
        parts = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
        stop = f"; stopped: {self.stopped}" if self.stopped else ""
        return f"<ApplyResult {parts or 'nothing to do'}{stop}>"


class Executor:
    """Applies decisions through the store and the ports (see the module docstring).

    Args:
        store: the store (control, joblog, reruns, events).
        bus: where events are published.
        executions: where run executions start.
        clock: stamps published events.
        lock_ttl: how long an acquired run may stay RUNNING before it counts as stale.
        actor: the ``by`` of rerun requests the executor writes.
        timers: where timers go (``None``: a decision with a timer action is a programming error).
    """

    def __init__(
        self,
        store: Store,
        bus: EventBus,
        executions: Executions,
        clock: Clock,
        *,
        lock_ttl: timedelta = DEFAULT_LOCK_TTL,
        actor: str = DEFAULT_ACTOR,
        timers: Timers | None = None,
    ) -> None:
        if lock_ttl <= timedelta(0):
            raise ValueError(f"lock_ttl must be positive, got {lock_ttl}")
        self.store = store
        self.bus = bus
        self.executions = executions
        self.clock = clock
        self.lock_ttl = lock_ttl
        self.actor = actor
        self.timers = timers

    def __repr__(self) -> str:
        return f"<Executor {self.store!r} lock_ttl={self.lock_ttl}>"

    def apply(self, decision: Decision) -> ApplyResult:
        """Apply a decision's actions in order.

        Args:
            decision: what a pure lifecycle function decided.

        Returns:
            What was applied, what lost a condition and what was skipped, in the decision's order.

        Raises:
            Exception: whatever a port raised (a store outage, a start failure …), after releasing a
                run row this decision acquired when the failure was its StartExecution.
        """
        outcomes: list[ActionOutcome] = []
        acquired: set[_RunKey] = set()
        # Claims applied since the last action that changed anything else: if the next action
        # raises, they guarded something that did not happen, and are given back for the retry.
        guards: list[Claim] = []
        actions = decision.actions
        for index, action in enumerate(actions):
            try:
                outcome = self._apply_one(action, acquired)
            except BaseException:
                self._release_guards(guards)
                raise
            if isinstance(action, Claim):
                guards.append(action)
            elif not isinstance(action, PublishEvent):
                guards = []
            outcomes.append(outcome)
            if isinstance(action, _STOPPERS) and outcome.status is OutcomeStatus.CONFLICT:
                stopped = outcome.reason
                outcomes.extend(
                    ActionOutcome(rest, OutcomeStatus.SKIPPED, f"not applied: {stopped}")
                    for rest in actions[index + 1 :]
                )
                log.info("decision stopped: %s (%s)", stopped, decision.reason)
                return ApplyResult(tuple(outcomes), stopped=stopped)
        return ApplyResult(tuple(outcomes))

    # ------------------------------------------------------------------------------ one action

    def _apply_one(self, action: Action, acquired: set[_RunKey]) -> ActionOutcome:
        if isinstance(action, AcquireRun):
            return self._acquire(action, acquired)
        if isinstance(action, StartExecution):
            return self._start(action, acquired)
        if isinstance(action, PublishEvent):
            return self._publish_once(action) if action.once else self._publish(action)
        if isinstance(action, AppendJobLog):
            self.store.joblog.append(
                action.pipeline_id,
                action.schedule_id,
                action.period,
                action.event,
                now=action.at,
                run_id=action.run_id,
                error=action.error,
                category=action.category,
                detail=action.detail,
            )
        elif isinstance(action, SetRunStatus):
            return self._set_status(action)
        elif isinstance(action, WriteRerunRequest):
            self.store.control.request_rerun(
                action.pipeline_id,
                action.schedule_id,
                action.period,
                reason=action.reason,
                by=action.by or self.actor,
                now=action.at,
            )
        else:
            return self._apply_more(action)
        return ActionOutcome(action, OutcomeStatus.APPLIED)

    def _apply_more(self, action: Action) -> ActionOutcome:  # noqa: C901 - one branch per action
        control = self.store.control
        if isinstance(action, ResetRun):
            return self._reset(action)
        if isinstance(action, Claim):
            if not control.claim(
                action.pipeline_id, action.name, action.schedule_id, action.period, now=action.at
            ):
                return ActionOutcome(
                    action, OutcomeStatus.CONFLICT, f"{action.name} already claimed for the period"
                )
        elif isinstance(action, MarkDryRun):
            if not control.mark_dry_run(
                action.pipeline_id, action.schedule_id, action.period, now=action.at
            ):
                return ActionOutcome(
                    action, OutcomeStatus.CONFLICT, "the dry-run period already triggered"
                )
        elif isinstance(action, PutBookkeeping):
            return self._bookkeeping(action)
        elif isinstance(action, RecordRerun):
            self.store.reruns.record(
                action.pipeline_id,
                action.schedule_id,
                action.period,
                reason=action.reason,
                now=action.at,
                source_job_event=action.source_job_event,
            )
        elif isinstance(action, ScheduleTimer):
            self._timers(action).schedule(action.name, action.at, action.payload)
        elif isinstance(action, CancelTimer):
            self._timers(action).cancel(action.name)
        elif isinstance(action, WriteAck):
            control.ack_sla(
                action.pipeline_id,
                action.schedule_id,
                action.period,
                by=action.by,
                reason=action.reason,
                until=action.until,
                now=action.at,
            )
        elif isinstance(action, Watch):
            control.watch(action.pipeline_id, action.at)
        elif isinstance(action, SetOverride):
            control.watch(action.pipeline_id, action.at)
            if action.value is None:
                control.clear_override(action.pipeline_id, action.name)
            else:
                control.set_override(
                    action.pipeline_id,
                    action.name,
                    action.value,
                    by=action.by,
                    reason=action.reason,
                    now=action.at,
                )
        else:  # the actions _apply_one handles never get here
            raise TypeError(f"unexpected action {action!r}")
        return ActionOutcome(action, OutcomeStatus.APPLIED)

    def _timers(self, action: Action) -> Timers:
        if self.timers is None:
            raise TypeError(f"{type(action).__name__} needs a timers port; this executor has none")
        return self.timers

    def _mark(self, pid: str, at: datetime, check: str) -> None:
        """Mark the pipeline due for the watchdog, when its config has the check the row feeds
        (``post-run``: post-run rules; ``relative-sla``: ``sla.maxDuration``). The config is read
        fresh (one GetItem, its validation cached): a mark is a write and a stream record, and most
        pipelines have neither check. A config that cannot be read is marked: the watchdog decides."""
        try:
            config = self.store.control.get_config(pid)
        except StoreError:
            config, needed = None, True
        else:
            needed = config is not None and (
                bool(config.postRun and config.postRun.rules)
                if check == "post-run"
                else bool(config.sla and config.sla.maxDuration)
            )
        if needed:
            self.store.control.watch(pid, at)

    def _reset(self, action: ResetRun) -> ActionOutcome:
        run = (action.pipeline_id, action.schedule_id, action.period)
        if action.attempt is not None:
            row = self.store.control.get_run(*run)
            if row is None or row.attempt != action.attempt:
                held = "no run row" if row is None else f"the row is attempt {row.attempt}"
                return ActionOutcome(
                    action, OutcomeStatus.CONFLICT, f"reset of attempt {action.attempt}: {held}"
                )
        if not self.store.control.reset_run(*run, now=action.at, lock_ttl=self.lock_ttl):
            return ActionOutcome(action, OutcomeStatus.CONFLICT, f"run {'/'.join(run)} has no row")
        return ActionOutcome(action, OutcomeStatus.APPLIED)

    def _bookkeeping(self, action: PutBookkeeping) -> ActionOutcome:
        key = keys.bookkeeping_key(action.name, action.period)
        # kept as long as anything can still ask about the period, then expired (a pipeline's sensor
        # partition would otherwise grow by a row or two every period, forever)
        ttl = action.at + BOOKKEEPING_TTL
        fields = dict(action.fields)
        if action.name == keys.FIRST_SENSOR_ARRIVAL:
            self._mark(action.pipeline_id, action.at, "relative-sla")
        if not action.once:
            self.store.control.put_sensor(action.pipeline_id, key, fields, now=action.at, ttl=ttl)
            return ActionOutcome(action, OutcomeStatus.APPLIED)
        try:
            self.store.control.put_sensor(
                action.pipeline_id, key, fields, now=action.at, ttl=ttl, condition=absent()
            )
        except ConflictError:
            return ActionOutcome(action, OutcomeStatus.CONFLICT, f"{key} was already written")
        return ActionOutcome(action, OutcomeStatus.APPLIED)

    def _acquire(self, action: AcquireRun, acquired: set[_RunKey]) -> ActionOutcome:
        run = (action.pipeline_id, action.schedule_id, action.period)
        acquired_now = self.store.control.acquire_run(
            *run, now=action.at, lock_ttl=self.lock_ttl, record=action.record
        )
        if not acquired_now:
            return ActionOutcome(
                action,
                OutcomeStatus.CONFLICT,
                f"run {'/'.join(run)} already exists (duplicate or replayed record)",
            )
        acquired.add(run)
        return ActionOutcome(action, OutcomeStatus.APPLIED)

    def _start(self, action: StartExecution, acquired: set[_RunKey]) -> ActionOutcome:
        run = (action.pipeline_id, action.schedule_id, action.period)
        started = False
        crash_point("execution-starting")  # reliability tests: run row written, no execution yet
        try:
            execution_id = self.executions.start(action.name, action.input)
            started = True
        finally:
            # Cleanup, not handling: the start's error keeps propagating so the record is retried, and
            # releasing the row we took lets that retry acquire the run again (as the original did).
            if not started and run in acquired:
                self._release(run, action.name)
        return ActionOutcome(action, OutcomeStatus.APPLIED, execution_id=execution_id)

    def _release(self, run: _RunKey, name: str) -> None:
        try:
            self.store.control.release_run(*run)
        except StoreError:
            # Never mask the start failure; the row's lock expires and the watchdog reports it.
            log.exception("could not release run %s after execution %s failed", run, name)
        else:
            log.warning("execution %s did not start; released run %s", name, "/".join(run))

    def _release_guards(self, guards: list[Claim]) -> None:
        """An action failed right after claims (only publishes between): give them back, so the
        retried record claims again and does it; otherwise a claim would say "done" (an event
        published, a request taken) about something that never happened. A publish that went out
        before the failure may then go out again: at least once, never lost."""
        for claim in guards:
            try:
                self.store.control.release_claim(
                    claim.pipeline_id, claim.name, claim.schedule_id, claim.period
                )
            except StoreError:
                log.exception("could not release claim %s after a failed publish", claim.name)
            else:
                log.warning("released claim %s for the retry (a later action failed)", claim.name)

    def _publish_once(self, action: PublishEvent) -> ActionOutcome:
        """A publish claimed by ``once``: skipped (not stopping the decision) if claimed before."""
        assert action.once is not None and action.schedule_id is not None and action.period
        claim = Claim(action.pipeline_id, action.once, action.schedule_id, action.period, action.at)
        if not self.store.control.claim(
            claim.pipeline_id, claim.name, claim.schedule_id, claim.period, now=claim.at
        ):
            return ActionOutcome(action, OutcomeStatus.CONFLICT, f"{action.once} already published")
        try:
            self._publish(action)
        except BaseException:
            self._release_guards([claim])
            raise
        return ActionOutcome(action, OutcomeStatus.APPLIED)

    def _publish(self, action: PublishEvent) -> ActionOutcome:
        # Imported on first publish: the event model needs pydantic, which a handler's import should
        # not pay for before it has anything to publish.
        from interlock.envelope import Event

        event = Event.create(
            action.type,
            action.pipeline_id,
            now=self.clock.now(),
            message=action.message or None,
            actor=action.actor,
            schedule_id=action.schedule_id,
            date=action.period,
            detail=action.detail,
        )
        self.bus.publish(event)
        return ActionOutcome(action, OutcomeStatus.APPLIED)

    def _set_status(self, action: SetRunStatus) -> ActionOutcome:
        if RunStatus(action.status) is RunStatus.COMPLETED:
            self._mark(action.pipeline_id, action.at, "post-run")
        try:
            self.store.control.set_run_status(
                action.pipeline_id,
                action.schedule_id,
                action.period,
                action.status,
                now=action.at,
                attempt=action.attempt,
            )
        except ConflictError:
            row = self.store.control.get_run(action.pipeline_id, action.schedule_id, action.period)
            held = "no run row" if row is None else f"the row is attempt {row.attempt}"
            reason = f"{action.status} for attempt {action.attempt} refused: {held}"
            log.info("%s %s %s: %s", action.pipeline_id, action.schedule_id, action.period, reason)
            return ActionOutcome(action, OutcomeStatus.CONFLICT, reason)
        return ActionOutcome(action, OutcomeStatus.APPLIED)
