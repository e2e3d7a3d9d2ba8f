"""The controller's handlers: read what a pure decision needs, decide, apply (DESIGN §3, §5).

The stream-router and SLA/watchdog Lambdas and the embedded runtime call the same
handlers, so a record or a timer means the same thing on a laptop and in AWS::

    Controller.on_record(record)             route() → SensorWrite / JobLogWrite / RerunRequested /
                                             ConfigChanged / Ignored / Malformed
      SensorWrite, trigger key               reads.trigger_facts → trigger.decide_trigger_write: start
                                             (SLA timers) │ late data │ post-run (the key is also a
                                             post-run key with a baseline) │ dry run →
                                             decide_dry_run_trigger
      start stopped by a RUNNING run row     decide_resume: the row's attempt is started again
      (retry, rerun: a redelivery after a    (idempotent by execution name, job starts by run
      crash; a trigger write or cron fire    id: found, never started twice); any other trigger
      only if the row's startRecord is its   write or cron fire while the run is RUNNING starts
      own: SequenceNumber, cron@<fireAt>)    nothing (one StartExecution per attempt)
      SensorWrite, post-run key              decide_postrun │ dry run → decide_dry_run_postrun
      JobLogWrite                            decide_job_log (+ baseline, SLA verdict on success)
                                             │ dry run → decide_dry_run_failure
      RerunRequested                         decide_rerun │ dry run → decide_dry_run_rerun
      ConfigChanged                          forget the cached config; (re)schedule its cron timer
    Controller.on_timer(payload)             kind "cron" → decide_cron; next fire scheduled
                                             kind "sla"  → sla_monitor.decide_sla_alert
                                             kind "watchdog" → watchdog.scan (one decision per alert)

Reads go through the store's domain objects (point reads and per-pipeline queries; configs through
their index). Every decision is applied by the :class:`~interlock.service.executor.Executor`, the only writer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from interlock.events import EventType
from interlock.exceptions import InterlockError, ScheduleError, SLAError
from interlock.lifecycle import dryrun, postrun, reruns, sla_monitor
from interlock.lifecycle.actions import (
    AcquireRun,
    Claim,
    Decision,
    PublishEvent,
    RunRef,
    ScheduleTimer,
    Watch,
)
from interlock.lifecycle.router import (
    ConfigChanged,
    JobLogWrite,
    Malformed,
    RerunRequested,
    SensorWrite,
    decide_cron,
    route,
)
from interlock.lifecycle.run import once_per_attempt, remap_for_period
from interlock.lifecycle.trigger import decide_trigger_write
from interlock.lifecycle.watch_due import next_due
from interlock.lifecycle.watchdog import scan
from interlock.names import safe_name
from interlock.records import JobEvent, RerunReason, RunStatus, budget_bucket
from interlock.schedule import cron_period, next_fire, period_from_sensor
from interlock.service.reads import (
    DUE_BATCH,
    SWEEP_BATCH,
    dry_run_now,
    gather_watch,
    rerun_facts,
    trigger_facts,
)
from interlock.store import keys
from interlock.store.control import InvalidConfigError
from interlock.store.table import StoreError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from interlock.config.models import Calendar, PipelineConfig
    from interlock.lifecycle.actions import Action
    from interlock.records import RunRow
    from interlock.service.executor import ApplyResult, Executor
    from interlock.service.reads import WatchPass
    from interlock.store.factory import Store

__all__ = [
    "CRON_TIMER_PREFIX",
    "WATCH_SWEEP",
    "Controller",
    "Handled",
    "cron_timer_name",
]

log = logging.getLogger(__name__)

WATCH_SWEEP: Final = timedelta(hours=6)
"""How often a watchdog pass reads every pipeline, not only those due in its index (the backstop
for a change nothing marked: a stream record lost before the router saw it)."""
CRON_TIMER_PREFIX: Final = "cron-"
_MAX_TIMER_NAME: Final = 64


def _acquired_by(decision: Decision) -> str | None:
    """The ``record`` of the decision's AcquireRun (who it would have recorded as the starter)."""
    return next((a.record for a in decision.actions if isinstance(a, AcquireRun)), None)


def cron_timer_name(pipeline_id: str) -> str:
    """The name of a pipeline's cron timer (≤ 64 characters, Scheduler-safe)."""
    return safe_name(CRON_TIMER_PREFIX + pipeline_id, limit=_MAX_TIMER_NAME, key=pipeline_id)


@dataclass
class Handled:
    """What one handler call did.

    Attributes:
        kind: what the input was (``sensor``, ``job-log``, ``rerun``, ``config``, ``ignored``,
            ``malformed``, ``timer``).
        decisions: each decision applied, with the executor's result.
        reason: why nothing happened, when nothing did.
        watched: for a watchdog pass, the pipelines it read (those due, or every one on a sweep).
    """

    kind: str
    decisions: list[tuple[Decision, ApplyResult]] = field(default_factory=list)
    reason: str = ""
    watched: tuple[str, ...] = ()

    @property
    def execution_ids(self) -> tuple[str, ...]:
        """Executions started (or found) by the applied decisions."""
        return tuple(i for _, result in self.decisions for i in result.execution_ids)


class Controller:
    """Reads, decides and applies for change-feed records and timers (see the module docstring).

    Args:
        store: the store.
        executor: applies every decision (its ``timers`` receive SLA and cron timers).
        calendars: named calendars.
        watch_sweep: how often a watchdog pass reads every pipeline (see :data:`WATCH_SWEEP`).
        watch_sweep_batch: how many pipelines one pass sweeps (the rest on the next passes).
        watch_due_batch: how many due pipelines one pass reads at most (the rest stay due).
    """

    def __init__(
        self,
        store: Store,
        executor: Executor,
        *,
        calendars: Mapping[str, Calendar] | None = None,
        watch_sweep: timedelta = WATCH_SWEEP,
        watch_sweep_batch: int = SWEEP_BATCH,
        watch_due_batch: int = DUE_BATCH,
    ) -> None:
        if watch_sweep <= timedelta(0):
            raise ValueError(f"watch_sweep must be positive, got {watch_sweep}")
        self.store = store
        self.executor = executor
        self.watch_sweep = watch_sweep
        self.watch_sweep_batch = watch_sweep_batch
        self.watch_due_batch = watch_due_batch
        self.calendars: Mapping[str, Calendar] = dict(calendars or {})
        self._configs: dict[str, PipelineConfig | None] = {}

    def __repr__(self) -> str:
        return f"<Controller {self.store!r}>"

    # --------------------------------------------------------------------------------- configs

    def config(self, pid: str) -> PipelineConfig | None:
        """The pipeline's validated config (cached until its CONFIG row changes).

        Raises:
            InvalidConfigError: the stored config does not validate.
        """
        if pid not in self._configs:
            self._configs[pid] = self.store.control.get_config(pid)
        return self._configs[pid]

    def forget(self, pid: str | None = None) -> None:
        """Drop the cached config of ``pid`` (every pipeline's when ``None``)."""
        if pid is None:
            self._configs.clear()
        else:
            self._configs.pop(pid, None)

    def dry_run(self, config: PipelineConfig) -> bool:
        """Whether the pipeline is in dry run now (operator override, else the YAML's ``dryRun``)."""
        return dry_run_now(self.store.control, config)

    def _apply(self, handled: Handled, decision: Decision) -> ApplyResult:
        result = self.executor.apply(decision)
        handled.decisions.append((decision, result))
        return result

    def _sensors(self, pid: str, period: str) -> dict[str, Mapping[str, Any] | None]:
        raw = {k: r.fields for k, r in self.store.control.sensors(pid).items()}
        return remap_for_period(raw, period)

    # -------------------------------------------------------------------------------- records

    def on_record(self, record: Mapping[str, Any], now: datetime) -> Handled:
        """Handle one change-feed record (Lambda stream shape).

        Raises:
            Exception: what a port raised while applying; the caller retries the record.
        """
        routed = route(record)
        if isinstance(routed, SensorWrite | JobLogWrite | RerunRequested):
            return self._pipeline_record(routed, now)
        if isinstance(routed, ConfigChanged):
            self.forget(routed.pipeline_id)
            handled = Handled("config")
            # a config written behind put_config's back (put_config marks it itself): the watchdog
            # reads it on its next pass
            due = self.store.control.get_watch(routed.pipeline_id)
            if due is None or due > keys.watch_time(now):
                mark = Decision((Watch(routed.pipeline_id, now),), reason="config changed")
                self._apply(handled, mark)
            try:
                config = self.config(routed.pipeline_id)
            except InvalidConfigError as exc:
                handled.reason = str(exc)
                return handled
            if config is not None:
                self.ensure_cron_timer(config, now, handled=handled)
            return handled
        if isinstance(routed, Malformed):
            return Handled("malformed", reason=routed.reason)
        return Handled("ignored", reason=routed.reason)

    def _pipeline_record(
        self, routed: SensorWrite | JobLogWrite | RerunRequested, now: datetime
    ) -> Handled:
        if isinstance(routed, SensorWrite):
            return self._guard("sensor", routed.pipeline_id, lambda c: self._sensor(c, routed, now))
        if isinstance(routed, JobLogWrite):
            return self._job_log(routed, now)
        return self._guard("rerun", routed.pipeline_id, lambda c: self._rerun(c, routed, now))

    def _guard(self, kind: str, pid: str, body: Any) -> Handled:
        try:
            config = self.config(pid)
        except InvalidConfigError as exc:
            log.warning("%s of %s not used: %s", kind, pid, exc.reason)
            return Handled("malformed", reason=str(exc))
        if config is None:
            return Handled("ignored", reason=f"{pid} has no config")
        handled: Handled = body(config)
        return handled

    def _sensor(self, config: PipelineConfig, write: SensorWrite, now: datetime) -> Handled:
        handled = Handled("sensor")
        if keys.parse_bookkeeping_key(write.key) is not None:
            handled.reason = "controller bookkeeping row"
            return handled
        trigger = config.schedule.trigger
        if trigger is not None and write.key.startswith(trigger.key):
            return self._trigger_sensor(config, write, now, handled)
        if postrun.postrun_rule_key(config, write.key) is not None:
            return self._postrun_sensor(config, write, now, handled)
        handled.reason = f"sensor {write.key!r} is neither a trigger nor a post-run sensor"
        return handled

    def _trigger_sensor(
        self, config: PipelineConfig, write: SensorWrite, now: datetime, handled: Handled
    ) -> Handled:
        facts = trigger_facts(self.store, config, write, now=now)
        choice = decide_trigger_write(config, write, facts, now=now, calendars=self.calendars)
        decision, out = choice.decision, choice.decision.output
        if choice.path == "other" and out.get("invalid"):
            log.warning("%s", decision.reason)  # bad producer data is never dropped silently
        if choice.path == "dry-run":
            self._dry_trigger(config, out, now, handled)
        elif choice.path == "start":
            result = self._apply(handled, decision)
            run = RunRef(config.id, str(out["scheduleId"]), str(out["period"]))
            if result.stopped is None:
                self._after_start(config, run, now, handled)
            else:  # a concurrent handler acquired the run after our read: its start is its own
                handled.reason = result.stopped
        elif choice.path == "resume":
            # the record that acquired the run, delivered again: its first handling may have died
            # between AcquireRun and StartExecution (any other write while RUNNING starts nothing)
            self._resume(
                config, RunRef(config.id, str(out["scheduleId"]), str(out["period"])), now, handled
            )
            handled.reason = decision.reason
        elif choice.path == "post-run" or decision.actions:
            self._apply(handled, decision)
            if choice.path == "other":
                handled.reason = decision.reason
        else:
            handled.reason = decision.reason
        return handled

    def _dry_trigger(
        self, config: PipelineConfig, out: Mapping[str, Any], now: datetime, handled: Handled
    ) -> None:
        """A dry-run pipeline's would-be start (trigger sensor or cron fire): observe only."""
        period = str(out["period"])
        self._apply(
            handled,
            dryrun.decide_dry_run_trigger(
                config,
                schedule_id=str(out["scheduleId"]),
                period=period,
                marker=self.store.control.get_dry_run(config.id, config.schedule_id, period),
                sensors=self._sensors(config.id, period),
                excluded=out.get("excluded"),
                now=now,
            ),
        )

    def _resume(
        self,
        config: PipelineConfig,
        run: RunRef,
        now: datetime,
        handled: Handled,
        *,
        announce: bool = False,
    ) -> None:
        """A start stopped by the run's row: re-issue the row's attempt (see ``decide_resume``);
        with ``announce`` (a redelivered rerun request), also its RERUN_ACCEPTED if that is missing."""
        pid, schedule, period = run.pipeline_id, run.schedule_id, run.period
        row = self.store.control.get_run(pid, schedule, period)
        unannounced = None
        if announce and row is not None and row.status is RunStatus.RUNNING and row.attempt > 1:
            unannounced = self._unannounced(pid, schedule, period, row.attempt)
        decision = reruns.decide_resume(config, row, now=now, unannounced=unannounced)
        if not decision.actions:
            return
        *announcement, start = decision.actions
        if announcement:  # its failures fail the record: the retry announces again
            self._apply(handled, Decision(tuple(announcement), "resume", reason="announce"))
        try:
            self._apply(handled, Decision((start,), "resume", decision.output, decision.reason))
        except InterlockError as exc:
            # A resume is a fast path, not the record's own work: an attempt whose execution already
            # ended (Step Functions then answers ExecutionAlreadyExists, and describing it may not be
            # granted) or a start that fails now must not fail the record, or it would be retried
            # until the DLQ. The run stays RUNNING; the watchdog reports it once its lock expires.
            log.warning("could not resume %s %s %s: %s", pid, schedule, period, exc)

    def _unannounced(
        self, pid: str, schedule: str, period: str, attempt: int
    ) -> reruns.Unannounced | None:
        """The accepted rerun of ``attempt`` whose bookkeeping or announcement is missing, if any."""
        claim = once_per_attempt(EventType.RERUN_ACCEPTED, attempt)
        if self.store.control.has_claim(pid, claim, schedule, period):
            return None
        entries = self.store.reruns.attempts(pid, schedule, period)
        request = self.store.control.get_rerun_request(pid, schedule, period)
        if len(entries) < attempt - 1:  # the reset happened, its rerun-log row did not
            if request is None:
                return None
            bucket = budget_bucket(request.reason)
            count = sum(1 for e in entries if e.reason in bucket) + 1
            return reruns.Unannounced(request.reason, count, unrecorded=True)
        if not entries:
            return None
        bucket = budget_bucket(entries[-1].reason)
        count = sum(1 for e in entries if e.reason in bucket)
        return reruns.Unannounced(entries[-1].reason, count)

    def _after_start(
        self, config: PipelineConfig, run: RunRef, now: datetime, handled: Handled
    ) -> None:
        """Hook for what follows a run's start (the SLA timers)."""
        plan = self._sla_timers(config, run, now)
        if plan.actions:
            self._apply(handled, plan)

    def _arrival(self, pid: str, period: str) -> datetime | None:
        row = self.store.control.get_sensor(
            pid, keys.bookkeeping_key(keys.FIRST_SENSOR_ARRIVAL, period)
        )
        value = None if row is None else row.fields.get("arrivedAt")
        try:
            return keys.parse_time(value) if isinstance(value, str) else None
        except ValueError:
            return None

    def _sla_timers(self, config: PipelineConfig, run: RunRef, now: datetime) -> Decision:
        try:
            actions = sla_monitor.plan_sla_timers(
                config, run, now=now, arrived_at=self._arrival(config.id, run.period)
            )
        except SLAError as exc:  # the run goes on; only its SLA cannot be timed
            log.warning("no SLA timers for %s %s: %s", config.id, run.period, exc)
            return Decision(reason=str(exc))
        return Decision(actions, "sla-timers", reason="SLA timers")

    def _postrun_sensor(
        self, config: PipelineConfig, write: SensorWrite, now: datetime, handled: Handled
    ) -> Handled:
        try:
            period = period_from_sensor(write.fields, now, config.schedule.timezone).id
        except ScheduleError as exc:
            handled.reason = f"post-run sensor {write.key!r} not used: {exc}"
            return handled
        schedule = config.schedule_id
        baseline_row = self.store.control.get_sensor(
            config.id, keys.bookkeeping_key(keys.POSTRUN_BASELINE, period)
        )
        baseline = None if baseline_row is None else baseline_row.fields
        if self.dry_run(config):
            decision = dryrun.decide_dry_run_postrun(
                config,
                sensor_key=write.key,
                fields=write.fields,
                schedule_id=schedule,
                period=period,
                marker=self.store.control.get_dry_run(config.id, schedule, period),
                baseline=baseline,
                now=now,
            )
        else:
            decision = postrun.decide_postrun(
                config,
                sensor_key=write.key,
                fields=write.fields,
                schedule_id=schedule,
                period=period,
                run_row=self.store.control.get_run(config.id, schedule, period),
                baseline=baseline,
                sensors=self._sensors(config.id, period),
                excluded=reruns.period_exclusion(config, period, self.calendars),
                now=now,
            )
        self._apply(handled, decision)
        return handled

    def _job_log(self, write: JobLogWrite, now: datetime) -> Handled:
        handled = Handled("job-log")
        pid, schedule, period = write.pipeline_id, write.schedule, write.period
        try:
            config = self.config(pid)
        except InvalidConfigError as exc:
            config = None
            handled.reason = str(exc)
        failure = write.event in (JobEvent.FAIL, JobEvent.TIMEOUT)
        if config is not None and failure and self.dry_run(config):
            category = str(write.item.get("category") or "").upper()
            self._apply(
                handled,
                dryrun.decide_dry_run_failure(
                    config,
                    schedule_id=schedule,
                    period=period,
                    retries_used=self._retries_used(pid, schedule, period),
                    permanent=category == "PERMANENT",
                    excluded=reruns.period_exclusion(config, period, self.calendars),
                    now=now,
                ),
            )
            return handled
        decision = reruns.decide_job_log(
            config,
            write,
            run_row=self.store.control.get_run(pid, schedule, period) if failure else None,
            retries_used=self._retries_used(pid, schedule, period) if failure else 0,
            calendars=self.calendars,
            now=now,
        )
        result = self._apply(handled, decision)
        if decision.next == "completed" and config is not None and result.stopped is None:
            self._on_success(config, RunRef(pid, schedule, period), now, handled)
        elif failure and config is not None and (result.stopped or not decision.actions):
            # a redelivered failure whose retry already reset the run (stale now) or lost its
            # condition: the retry's attempt may never have been started
            self._resume(config, RunRef(pid, schedule, period), now, handled)
        return handled

    def _on_success(
        self, config: PipelineConfig, run: RunRef, now: datetime, handled: Handled
    ) -> None:
        actions = postrun.capture_baseline(
            config,
            self._sensors(config.id, run.period),
            schedule_id=run.schedule_id,
            period=run.period,
            now=now,
        )
        if actions:
            self._apply(handled, Decision(actions, "baseline", reason="post-run baseline"))
        verdict = self._sla_verdict(config, run, now)
        if verdict.actions:
            self._apply(handled, verdict)

    def _sla_verdict(self, config: PipelineConfig, run: RunRef, now: datetime) -> Decision:
        try:
            verdict = sla_monitor.decide_sla_verdict(
                config, run, completed_at=now, arrived_at=self._arrival(config.id, run.period)
            )
        except SLAError as exc:
            log.warning("no SLA verdict for %s %s: %s", config.id, run.period, exc)
            return Decision(reason=str(exc))
        # One verdict per period (a drift rerun's completion is not judged again), and no SLA_BREACH
        # verdict after a breach alert (absolute or relative) already said so.
        actions: list[Action] = []
        claimed = False
        for action in verdict.actions:
            if isinstance(action, PublishEvent):
                if not claimed:
                    actions.append(
                        Claim(run.pipeline_id, "SLA_VERDICT", run.schedule_id, run.period, now)
                    )
                    claimed = True
                if action.type is EventType.SLA_BREACH and self._breach_alerted(run):
                    continue
            actions.append(action)
        return Decision(tuple(actions), verdict.next, verdict.output, verdict.reason)

    def _breach_alerted(self, run: RunRef) -> bool:
        return any(
            self.store.control.has_claim(run.pipeline_id, kind.value, run.schedule_id, run.period)
            for kind in (EventType.SLA_BREACH, EventType.RELATIVE_SLA_BREACH)
        )

    def _retries_used(self, pid: str, schedule: str, period: str) -> int:
        return self.store.reruns.count(
            pid, schedule, period, budget_bucket(RerunReason.JOB_FAIL_RETRY)
        )

    def _rerun(
        self, config: PipelineConfig, req: RerunRequested, now: datetime, *, again: bool = False
    ) -> Handled:
        handled = Handled("rerun")
        pid, schedule, period = config.id, req.schedule, req.period
        requested_at = None
        if req.requested_at is not None:
            try:
                requested_at = keys.parse_time(req.requested_at)
            except ValueError:
                requested_at = None
        facts = rerun_facts(
            self.store, config, schedule, period, req.reason, requested_at=requested_at
        )
        if self.dry_run(config):
            decision = dryrun.decide_dry_run_rerun(
                config,
                req,
                facts,
                excluded=reruns.period_exclusion(config, period, self.calendars),
                now=now,
            )
        else:
            decision = reruns.decide_rerun(config, req, facts, calendars=self.calendars, now=now)
        result = self._apply(handled, decision)
        if result.stopped is not None and not self.dry_run(config):
            if not again and self._abandoned(pid, schedule, period, requested_at):
                # the first handling died right after claiming the request: nothing of it happened
                name = reruns.request_claim(requested_at) if requested_at else ""
                self.store.control.release_claim(pid, name, schedule, period)
                log.warning(
                    "rerun request of %s %s was claimed, never acted on: again", pid, period
                )
                return self._rerun(config, req, now, again=True)
            # a redelivered request whose first handling may have died before its StartExecution
            self._resume(config, RunRef(pid, schedule, period), now, handled, announce=True)
        return handled

    def _abandoned(
        self, pid: str, schedule: str, period: str, requested_at: datetime | None
    ) -> bool:
        """Whether a request's claim was taken by a handling that then did nothing (killed between
        the claim and the reset): no run reset at the claim's instant, no accepted/rejected row."""
        if requested_at is None:
            return False
        at = self.store.control.claimed_at(
            pid, reruns.request_claim(requested_at), schedule, period
        )
        if at is None:
            return False
        near = timedelta(seconds=1)
        row = self.store.control.get_run(pid, schedule, period)
        if row is not None and row.started_at is not None and abs(row.started_at - at) < near:
            return False  # this request reset the run; decide_resume completes the rest
        answered = (JobEvent.RERUN_ACCEPTED, JobEvent.RERUN_REJECTED)
        return not any(
            entry.event in answered and abs(entry.at - at) < near
            for entry in self.store.joblog.history(pid, schedule, period)
        )

    # --------------------------------------------------------------------------------- timers

    def ensure_cron_timer(
        self, config: PipelineConfig, now: datetime, *, handled: Handled | None = None
    ) -> None:
        """Schedule the pipeline's next cron fire (replacing a timer for an older cron)."""
        cron = config.schedule.cron
        if cron is None:
            return
        try:
            # a fire exactly at ``now`` is still to come (a runtime started at 08:00 runs the 08:00 fire)
            fire = next_fire(cron, config.schedule.timezone, now - timedelta(microseconds=1))
        except (ScheduleError, InterlockError) as exc:
            log.warning("no cron timer for %s: %s", config.id, exc)
            return
        timer = ScheduleTimer(
            cron_timer_name(config.id),
            fire,
            {
                "kind": "cron",
                "pipelineId": config.id,
                "cron": cron,
                "timezone": config.schedule.timezone,
                "fireAt": keys.format_time(fire),
            },
        )
        actions: list[Action] = [timer]
        actions += self._sla_ahead(config, fire, now)
        decision = Decision(
            tuple(actions), "cron-scheduled", reason=f"next fire {fire.isoformat()}"
        )
        result = self.executor.apply(decision)
        if handled is not None:
            handled.decisions.append((decision, result))

    def _sla_ahead(self, config: PipelineConfig, fire: datetime, now: datetime) -> list[Action]:
        """SLA timers of the next fire's period, set ahead of time (DESIGN §3): a scheduled run that
        never starts (Interlock down, the fire lost) still warns and breaches, as "not started".
        Not for an excluded day or a dry-run pipeline; the run's start replaces them (same names)."""
        if config.sla is None or config.schedule.cron is None or self.dry_run(config):
            return []
        try:
            period = cron_period(config.schedule.cron, config.schedule.timezone, fire).id
        except (ScheduleError, InterlockError):
            return []
        if reruns.period_exclusion(config, period, self.calendars) is not None:
            return []
        if self.store.control.get_run(config.id, config.schedule_id, period) is not None:
            return []  # the period already ran (or runs): its own timers stand
        plan = self._sla_timers(config, RunRef(config.id, config.schedule_id, period), now)
        return list(plan.actions)

    def on_timer(self, payload: Mapping[str, Any], now: datetime) -> Handled:
        """Handle a fired timer (see the module docstring).

        Raises:
            Exception: what a port raised while applying; the caller keeps the timer to retry it.
        """
        kind = payload.get("kind")
        if kind == "cron":
            return self._cron(payload, now)
        return self._other_timer(payload, now)

    def _other_timer(self, payload: Mapping[str, Any], now: datetime) -> Handled:
        kind = payload.get("kind")
        if kind == sla_monitor.TIMER_KIND:
            return self._sla_alert(payload, now)
        if kind == "watchdog":
            return self.watchdog(now)
        return Handled("timer", reason=f"unknown timer kind {kind!r}")

    def _sla_alert(self, payload: Mapping[str, Any], now: datetime) -> Handled:
        handled = Handled("timer")
        pid = str(payload.get("pipelineId", ""))
        schedule, period = str(payload.get("scheduleId", "")), str(payload.get("period", ""))
        try:
            config = self.config(pid)
        except InvalidConfigError as exc:
            handled.reason = str(exc)
            return handled
        if config is None:
            handled.reason = f"{pid} has no config"
            return handled
        try:
            row = self.store.control.get_run(pid, schedule, period)
            if (
                row is None
                and "T" not in period
                and self.store.control.has_run(pid, schedule, period)
            ):
                # a daily period armed ahead (watchdog expected-sla) whose data came as hourly runs:
                # those runs' own timers judge them
                handled.reason = (
                    f"{pid} {period} ran as hourly periods: their own SLA timers judge them"
                )
                return handled
            decision = sla_monitor.decide_sla_alert(
                config,
                payload,
                run_row=row,
                acked=self.store.control.get_ack(pid, schedule, period, now=now) is not None,
                now=now,
                job_started=self._job_started(row),
            )
        except (ValueError, InterlockError) as exc:
            handled.reason = f"SLA timer not used: {exc}"
            return handled
        if decision.actions:
            self._apply(handled, decision)
        else:
            handled.reason = decision.reason
        return handled

    def _job_started(self, row: RunRow | None) -> bool | None:
        """Whether a RUNNING row's attempt triggered its job (its JOB_TRIGGERED claim exists)."""
        if row is None or row.status is not RunStatus.RUNNING:
            return None
        claim = once_per_attempt(EventType.JOB_TRIGGERED, row.attempt)
        return self.store.control.has_claim(row.pipeline_id, claim, row.schedule, row.period)

    def watchdog(self, now: datetime) -> Handled:
        """One watchdog pass over the pipelines due in the watch index (every one on a sweep).

        Read (:func:`~interlock.service.reads.gather_watch`), scan, apply each decision on its own
        (a lost claim skips only itself), then move every watch row read to the pipeline's next due
        time (:func:`~interlock.lifecycle.watch_due.next_due`). The rows move *after* the decisions
        are applied: a pass that dies half-way leaves them due, and the next pass reads those
        pipelines again (the claims keep alerts single). A sweep's own row moves last.
        """
        handled = Handled("timer")
        plan = gather_watch(
            self.store,
            now=now,
            sweep_every=self.watch_sweep,
            sweep_batch=self.watch_sweep_batch,
            due_batch=self.watch_due_batch,
        )
        for decision in scan(plan.inputs, now=now, calendars=self.calendars):
            self._apply(handled, decision)  # a recovery's decision carries its own SLA timers
        handled.watched = tuple(sorted(plan.seen))
        self._advance_watches(plan, now)
        if plan.sweep:  # the chunk is done: the next one now, or the next sweep later
            if plan.sweep_resume is None:
                self.store.control.set_sweep_state(now + self.watch_sweep)
            else:
                self.store.control.set_sweep_state(now, plan.sweep_resume)
        return handled

    def _advance_watches(self, plan: WatchPass, now: datetime) -> None:
        control = self.store.control
        retry = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        moves: dict[str, datetime | None] = dict.fromkeys(plan.gone)
        moves.update(dict.fromkeys(plan.unusable, retry))  # reported again, once an hour
        for pipeline in plan.inputs.pipelines:
            try:
                moves[pipeline.config.id] = next_due(pipeline, now=now)
            except (InterlockError, ValueError):  # the scan reported it: look again in an hour
                moves[pipeline.config.id] = retry
        for pid, due in moves.items():
            seen = plan.seen.get(pid)
            if due is not None and seen is not None and keys.watch_time(due) == seen:
                continue  # already there (a sweep over idle pipelines writes nothing)
            try:
                control.advance_watch(pid, due, seen=seen)
            except StoreError as exc:  # left due: the next pass reads the pipeline again
                log.warning("watch row of %s not moved: %s", pid, exc)

    def _cron(self, payload: Mapping[str, Any], now: datetime) -> Handled:
        handled = Handled("timer")
        pid = str(payload.get("pipelineId", ""))
        try:
            config = self.config(pid)
            fire_at = keys.parse_time(str(payload.get("fireAt", "")))
        except (InvalidConfigError, ValueError) as exc:
            handled.reason = f"cron timer of {pid!r} not used: {exc}"
            return handled
        if config is None or config.schedule.cron is None:
            handled.reason = f"{pid} no longer has a cron schedule"
            return handled
        if config.schedule.cron != payload.get("cron"):
            self.ensure_cron_timer(config, now, handled=handled)
            handled.reason = "the cron changed; rescheduled"
            return handled
        late = now - fire_at
        if late <= config.schedule.evaluation.window:
            decision = decide_cron(
                config,
                fire_at,
                now=now,
                calendars=self.calendars,
                dry_run=self.dry_run(config),
            )
            self._cron_decision(config, decision, now, handled)
        else:
            handled.reason = f"fire at {fire_at.isoformat()} is {late} late: left to the watchdog"
        self.ensure_cron_timer(config, max(now, fire_at + timedelta(seconds=1)), handled=handled)
        return handled

    def _cron_decision(
        self, config: PipelineConfig, decision: Decision, now: datetime, handled: Handled
    ) -> None:
        out = decision.output
        if decision.next == "dry-run":
            self._dry_trigger(config, out, now, handled)
            return
        if not decision.actions:
            handled.reason = decision.reason
            return
        result = self._apply(handled, decision)
        if decision.next == "start":
            run = RunRef(config.id, str(out["scheduleId"]), str(out["period"]))
            if result.stopped is None:
                self._after_start(config, run, now, handled)
                return
            row = self.store.control.get_run(config.id, run.schedule_id, run.period)
            if reruns.started_by(row, _acquired_by(decision)):
                # this fire, delivered again: its first handling may have died before StartExecution
                self._resume(config, run, now, handled)
            else:  # started by a trigger write or another fire of the period: not this fire's start
                handled.reason = result.stopped
