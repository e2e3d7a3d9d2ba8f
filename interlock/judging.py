"""How the notebook facade judges a pipeline's periods for the board: the candidate periods (the
current one, the previous cron period, those with a run row in the last week), each one's state and SLA
(:func:`~interlock.problems.period_sla`), and the worst open one the row shows.

:class:`_Judging` is mixed into :class:`~interlock.api.Interlock`; it reads the store only through the
bulk reads it is handed (and the dry-run marker of a dry-run pipeline).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from interlock.exceptions import InterlockError
from interlock.lifecycle.operator import RerunBudget, effective_dry_run
from interlock.records import DRY_RUN_OVERRIDE, RunStatus
from interlock.views import (
    PipelineStatus,
    SlaClock,
    State,
    status_rank,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from interlock.config.models import Calendar, PipelineConfig
    from interlock.events import Event
    from interlock.problems import PeriodSla
    from interlock.records import Ack, Override, RunRow, SensorRecord
    from interlock.rules import Evaluation
    from interlock.schedule import Period
    from interlock.store.control import BoardReads
    from interlock.store.factory import Store


__all__ = ["LOOKBACK"]

LOOKBACK: Final = timedelta(days=7)
"""How far back the board looks for open periods: a failed, stale, breached or warning period of the
last week stays on its pipeline's row until it is resolved (its run succeeds) or acknowledged."""
_ONE_SECOND: Final = timedelta(seconds=1)

_RUN_STATES: Final[dict[RunStatus, State]] = {
    RunStatus.RUNNING: "running",
    RunStatus.COMPLETED: "succeeded",
    RunStatus.FAILED_FINAL: "failed",
}


@dataclass(slots=True)
class _Judged:
    """One candidate period of a pipeline, judged (:meth:`Interlock._view`)."""

    rank: int
    period: Period
    state: State
    note: str
    sla: PeriodSla
    run: RunRow | None
    ack: Ack | None
    stale: bool


@dataclass(slots=True)
class _View:
    """A pipeline's board row before its last event and rerun budget are read (in bulk)."""

    config: PipelineConfig
    evaluation: Evaluation
    current: Period | None
    period: str | None = None
    state: State = "waiting"
    note: str = ""
    sla: SlaClock = field(default_factory=lambda: SlaClock("none"))
    run: RunRow | None = None
    ack: Ack | None = None
    stale: bool = False
    dry: bool = False
    open_periods: tuple[str, ...] = ()

    def status(
        self, now: datetime, *, last_event: Event | None, budget: RerunBudget
    ) -> PipelineStatus:
        return PipelineStatus(
            pipeline_id=self.config.id,
            period=self.period,
            schedule=self.config.schedule_id,
            state=self.state,
            rules_passed=self.evaluation.passed_count,
            rules_total=len(self.evaluation.results),
            sla=self.sla,
            last_event=last_event,
            budget=budget,
            ack=self.ack,
            dry_run=self.dry,
            run=self.run,
            stale=self.stale,
            at=now,
            note=self.note,
            owner=self.config.pipeline.owner,
            open_periods=self.open_periods,
        )


class _Judging:
    """The period-judging half of :class:`~interlock.api.Interlock` (see the module docstring)."""

    store: Store
    calendars: dict[str, Calendar]

    def _period(
        self, config: PipelineConfig, sensors: Mapping[str, SensorRecord], now: datetime
    ) -> Period | None:
        from interlock.lifecycle.operator import current_period
        from interlock.schedule import Period

        fields = {k: r.fields for k, r in sensors.items()}
        try:
            return Period.parse(current_period(config, now, sensors=fields))
        except InterlockError:
            return None

    def _arrival(
        self, config: PipelineConfig, period: Period, sensors: Mapping[str, SensorRecord]
    ) -> datetime | None:
        """When the period's first trigger sensor arrived, as the runtime recorded it (its bookkeeping
        row), else the trigger sensor's write time: a relative SLA's clock starts there."""
        from interlock.records import parse_instant
        from interlock.store import keys

        if config.sla is None or config.sla.maxDuration is None:
            return None
        row = sensors.get(keys.bookkeeping_key(keys.FIRST_SENSOR_ARRIVAL, period.id))
        value = None if row is None else row.fields.get("arrivedAt")
        if isinstance(value, str):
            try:
                return parse_instant(value)
            except ValueError:
                pass
        trigger = config.schedule.trigger
        record = sensors.get(trigger.key) if trigger is not None else None
        return record.updated_at if record is not None else None

    def _judge(
        self,
        config: PipelineConfig,
        period: Period,
        now: datetime,
        *,
        sensors: Mapping[str, SensorRecord],
        run: RunRow | None,
        ack: Ack | None,
        created: datetime | None,
    ) -> PeriodSla:
        """:func:`~interlock.problems.period_sla` over what the store holds for the period."""
        from interlock.problems import period_sla

        delivered = (
            run.finished_at if run is not None and run.status is RunStatus.COMPLETED else None
        )
        return period_sla(
            config,
            period,
            now,
            delivered_at=delivered,
            arrived_at=self._arrival(config, period, sensors),
            # a period that ran was judged by the runtime from its start, even past its deadline
            watched_since=created if run is None else None,
            acknowledged=ack is not None,
        )

    def _dry_clock(self, config: PipelineConfig, period: Period | None) -> SlaClock:
        """A dry-run pipeline has no live SLA: show the projection of its would-be run, if any."""
        from interlock.lifecycle.sla_monitor import sla_projection

        if period is None or config.sla is None:
            return SlaClock("none")
        marker = self.store.control.get_dry_run(config.id, config.schedule_id, period.id)
        if marker is None or marker.triggered_at is None:
            return SlaClock("none", text="dry run")
        projection = sla_projection(config, period, triggered_at=marker.triggered_at)
        verdict = projection.get("status", "n/a")
        text = {"met": "projected ok", "breach": "projected breach"}.get(verdict, "projected —")
        return SlaClock("ok", text=text)

    def _is_dry_run(self, config: PipelineConfig, overrides: Mapping[str, Override]) -> bool:
        override = overrides.get(DRY_RUN_OVERRIDE)
        return effective_dry_run(config, None if override is None else override.value)

    def _view(
        self,
        config: PipelineConfig,
        created: datetime | None,
        now: datetime,
        reads: BoardReads,
    ) -> _View:
        """Judge a pipeline's candidate periods (the current one, the previous cron period, and those
        with a run row in :data:`LOOKBACK`) and pick the one its row shows."""
        from interlock.rules import evaluate
        from interlock.schedule import Period

        pid = config.id
        sensors = reads.sensors.get(pid, {})
        fields = {k: r.fields for k, r in sensors.items()}
        evaluation = evaluate(config.validation, fields, now)
        current = self._period(config, sensors, now)
        view = _View(config, evaluation, current)
        if self._is_dry_run(config, reads.overrides.get(pid, {})):
            view.dry, view.state = True, "dry-run"
            view.sla = self._dry_clock(config, current)
            view.period = current.id if current is not None else None
            return view
        acks = reads.acks.get(pid, {})
        oldest = (now - LOOKBACK).date()
        candidates: list[Period] = [] if current is None else [current]
        previous = self._previous_period(config, current, sensors, now)
        if previous is not None:
            candidates.append(previous)
        seen = {p.id for p in candidates}
        # a COMPLETED older period is resolved (met, or missed and told): only the others can be open
        for row in reads.unfinished.get(pid, ()):
            try:
                period = Period.parse(row.period)
            except InterlockError:
                continue
            if period.day >= oldest and period.id not in seen:
                candidates.append(period)
                seen.add(period.id)
        judged: list[_Judged] = []
        for period in candidates:
            run, ack = reads.run(pid, period.id), acks.get(period.id)
            is_current = period is current
            if not is_current and run is None and self._excluded(config, period, now):
                continue  # an excluded day's period is not expected
            state, note = self._state(config, period, run, fields, now, current=is_current)
            sla = self._judge(
                config, period, now, sensors=sensors, run=run, ack=ack, created=created
            )
            stale = run.is_stale(now) if run is not None else False
            rank = status_rank(state, stale, sla.state, acknowledged=ack is not None)
            if not is_current and (ack is not None or sla.state == "missed"):
                # resolved: acknowledged, or delivered late (the verdict was told): it stops showing
                rank = max(rank, 2)
            judged.append(_Judged(rank, period, state, note, sla, run, ack, stale))
        open_ = [j for j in judged if j.rank <= 1]
        view.open_periods = tuple(sorted((j.period.id for j in open_), reverse=True))
        # the worst open period; among equals the newest (candidates run newest first after current)
        order = {p.id: i for i, p in enumerate(candidates)}
        pick = min(open_, key=lambda j: (j.rank, order[j.period.id]), default=None)
        if pick is None:
            pick = next((j for j in judged if j.period is current), None)
        if pick is None:  # no period: nothing judged (e.g. an unusable trigger date)
            view.state, view.note = self._state(config, None, None, fields, now)
            return view
        view.period, view.state, view.note = pick.period.id, pick.state, pick.note
        view.run, view.ack, view.stale = pick.run, pick.ack, pick.stale
        view.sla = SlaClock.of(pick.sla, now)
        newest = next((j for j in judged if j.period is current), None)
        if newest is not None and pick is not newest:
            more = len(open_) - 1
            view.note = "; ".join(
                part
                for part in (
                    pick.note,
                    f"newest period {newest.period.id}: {newest.state}",
                    f"{more} more open" if more > 0 else "",
                )
                if part
            )
        return view

    def _state(
        self,
        config: PipelineConfig,
        period: Period | None,
        run: RunRow | None,
        fields: Mapping[str, Any],
        now: datetime,
        *,
        current: bool = True,
    ) -> tuple[State, str]:
        """A period's board state, with a note. Without a run, the current period (or, with no period,
        today) can be excluded, evaluating or waiting; an older period just had no run."""
        if run is not None:
            return _RUN_STATES[run.status], ""
        if not current:
            return "waiting", "no run for this period"
        excluded = self._excluded(config, period, now)
        if excluded:
            return "excluded", excluded
        if self._started(config, fields, now):
            return "evaluating", ""
        return "waiting", ""

    def _previous_period(
        self,
        config: PipelineConfig,
        current: Period | None,
        sensors: Mapping[str, SensorRecord],
        now: datetime,
    ) -> Period | None:
        """A cron pipeline's period before ``current`` (its deadline may have passed with no run)."""
        from interlock.schedule import cron_period, previous_fire

        s = config.schedule
        if current is None or not s.cron:
            return None
        if s.trigger is not None and any(k.startswith(s.trigger.key) for k in sensors):
            return None  # the trigger sensor names the periods
        try:
            fire = previous_fire(s.cron, s.timezone, now)
            before = previous_fire(s.cron, s.timezone, fire - _ONE_SECOND)
            period = cron_period(s.cron, s.timezone, before)
        except InterlockError:
            return None
        return None if period == current else period

    def _excluded(self, config: PipelineConfig, period: Period | None, now: datetime) -> str:
        """Why the shown period's day (today's, without a period) is excluded, or ``""``."""
        from interlock.schedule import exclusion_reason, is_inclusion_day, local_date

        s = config.schedule
        today = period.day if period is not None else local_date(now, s.timezone)
        try:
            reason = exclusion_reason(s, today, self.calendars)
        except (
            InterlockError
        ):  # a calendar the facade was not given: it cannot tell, so it does not guess
            return ""
        if reason:
            return reason
        if not is_inclusion_day(s, today):
            return f"{today} is not in schedule.include.dates"
        return ""

    def _started(self, config: PipelineConfig, fields: Mapping[str, Any], now: datetime) -> bool:
        from interlock.rules import evaluate_rule
        from interlock.schedule import previous_fire

        s = config.schedule
        if s.trigger is not None and evaluate_rule(s.trigger.as_rule(), fields, now).passed:
            return True
        if s.cron:
            try:
                fired = previous_fire(s.cron, s.timezone, now)
            except InterlockError:
                return False
            return now - fired < s.evaluation.window
        return False
