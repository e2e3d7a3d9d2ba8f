"""The ``Interlock`` facade: one object for notebooks, the TUI and scripts over one store.

Everything here is read through the store layer's queries (configs through their index, everything else
by pipeline partition or an events index: never a Scan) and turned into small frozen results with readable
reprs, HTML tables for Jupyter and ``.to_pandas()``::

    Interlock.local(".interlock/interlock.db")  ─┐
    Interlock.aws("prod", region="eu-west-1")    ─┼─▶ Interlock(store, clock=…, actor=…)
    Interlock(open_store(url))                   ─┘        │
                                                           ├─ reads:  pipelines() board() status() explain()
                                                           │          sensors() events() tail() runs()
                                                           └─ writes: put_sensor(), and rerun() ack() dry_run()
                                                                      through interlock.service.operator.Operator
                                                                      (which audits each as an event)

The result types live in :mod:`interlock.views` and are re-exported here.

A pipeline's *state* on the board is derived, in this order: dry run (override, else the config) →
the run row of the current period (running / succeeded / failed) → a calendar exclusion of today →
evaluating (a cron fire within the evaluation window, or a trigger sensor that satisfies the trigger) →
waiting. ``board()`` puts problem pipelines first (failed, stale, SLA breached or warning, invalid config).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, cast

from interlock.clock import SystemClock
from interlock.exceptions import InterlockError
from interlock.judging import LOOKBACK, _Judging
from interlock.lifecycle.operator import RerunBudget, rerun_budget
from interlock.views import (
    STATES,
    Board,
    EventList,
    Explanation,
    PipelineList,
    PipelineStatus,
    PipelineSummary,
    RuleRow,
    RunList,
    RunSummary,
    SensorList,
    SensorView,
    SlaClock,
    _invalid_status,
    _outcome,
    _starts,
    budget_text,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
    from pathlib import Path

    from interlock.config.models import Calendar, PipelineConfig
    from interlock.events import Event, EventType
    from interlock.ports import Clock, EventBus
    from interlock.problems import PeriodSla
    from interlock.records import Ack, SensorRecord
    from interlock.service.operator import Operator, OperatorResult, RerunOutlook
    from interlock.store.factory import Store

__all__ = [
    "Board",
    "EventList",
    "Explanation",
    "Interlock",
    "PipelineList",
    "PipelineNotFoundError",
    "PipelineStatus",
    "PipelineSummary",
    "RuleRow",
    "RunList",
    "RunSummary",
    "STATES",
    "SensorList",
    "SensorView",
    "SlaClock",
    "LOOKBACK",
    "SystemClock",
    "budget_text",
]

_LAST_RUNS: Final = 30  # run history shown per pipeline: a month of dailies
_DEFAULT_EVENTS_BACK: Final = timedelta(days=1)
_TAIL_SKEW: Final = timedelta(minutes=5)
_ONE_HOUR: Final = timedelta(hours=1)  # accept events stamped a little ahead of our clock
_ONE_DAY: Final = timedelta(days=1)
_ONE_SECOND: Final = timedelta(seconds=1)


class PipelineNotFoundError(InterlockError, LookupError):
    """No config is stored for the pipeline asked for.

    Attributes:
        pipeline_id: the id asked for.
        known: the ids that are stored.
    """

    def __init__(self, pipeline_id: str, known: Iterable[str]) -> None:
        from interlock.config.loader import did_you_mean

        self.pipeline_id = pipeline_id
        self.known = sorted(known)
        super().__init__(
            f"unknown pipeline {pipeline_id!r}{did_you_mean(pipeline_id, self.known)}; "
            f"known: {', '.join(self.known[:20]) or 'none'}"
        )


# ----------------------------------------------------------------------------------------- facade


class Interlock(_Judging):
    """Interlock over one store: read pipelines' state, explain readiness, act as an operator.

    Args:
        store: an open store (:func:`interlock.store.open_store`).
        clock: where "now" comes from (a :class:`~interlock.ports.VirtualClock` in tests); the wall
            clock if ``None``.
        actor: who writes (acks, reruns, dry-run switches); ``interlock.service.operator.current_actor(store)`` if
            ``None``.
        calendars: named calendars, for "is today a run day" (the store keeps no calendars).
        bus: where operator actions publish their audit events: an ``EventBus``, or a function
            building one on first use; ``None``: :func:`~interlock.service.bus.operator_bus` of
            ``store``, built on first use (a DynamoDB store: its deployment's EventBridge bus; any
            other: a :class:`~interlock.service.bus.StoreBus`, the events table being the sink).

    Example:
        >>> il = Interlock.local(".interlock/demo.db")  # doctest: +SKIP
        >>> il.board()  # doctest: +SKIP
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock | None = None,
        actor: str | None = None,
        calendars: Mapping[str, Calendar] | None = None,
        bus: EventBus | Callable[[], EventBus] | None = None,
    ) -> None:
        self.store = store
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._actor = actor
        self.calendars: dict[str, Calendar] = dict(calendars or {})
        self._bus = bus
        self._operator: Operator | None = None

    # ------------------------------------------------------------------------------ constructors

    @classmethod
    def local(
        cls,
        path_or_url: str | Path = ".interlock/interlock.db",
        *,
        clock: Clock | None = None,
        actor: str | None = None,
    ) -> Interlock:
        """Interlock over a SQLite file (or any store URL).

        Args:
            path_or_url: a file path (created with its directory on first use) or a store URL.
            clock: see :class:`Interlock`.
            actor: see :class:`Interlock`.
        """
        from interlock.store.factory import open_store

        text = str(path_or_url)
        url = text if "://" in text else f"sqlite:///{text}"
        # The driver's TTL decisions follow the same clock, so a virtual day sees its own rows.
        now = (lambda: clock.now().timestamp()) if clock is not None else None
        return cls(open_store(url, now=now), clock=clock, actor=actor)

    @classmethod
    def aws(
        cls,
        environment: str,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        clock: Clock | None = None,
        actor: str | None = None,
        bus: EventBus | None = None,
    ) -> Interlock:
        """Interlock over the DynamoDB tables ``{environment}-interlock-*``.

        Operator actions publish through ``bus``, as the Lambdas do, never straight into the events
        table: the deployment's event sink stores them and its alert dispatcher sees them.

        Args:
            environment: the deployment's environment name.
            region: the AWS region (default: boto3's).
            endpoint_url: another endpoint (moto server, DynamoDB Local).
            clock: see :class:`Interlock`.
            actor: see :class:`Interlock`.
            bus: the ``EventBus``; ``None``: the deployment's EventBridge bus
                ``{environment}-interlock-events`` (``interlock.aws.bus.EventBridgeBus``, built on the
                first operator action).

        Raises:
            ImportError: boto3 is missing (``pip install 'interlock[aws]'``).
        """
        try:
            from interlock.store.dynamodb import DynamoDBStore
            from interlock.store.factory import Store
        except ImportError as exc:  # pragma: no cover - the dev environment has boto3
            raise ImportError(
                f"Interlock.aws needs boto3: pip install 'interlock[aws]' ({exc})"
            ) from exc
        url = f"dynamodb://{environment}"
        if region:
            url += f"?region={region}"
        now = (lambda: clock.now().timestamp()) if clock is not None else None
        backend = DynamoDBStore(environment, region=region, endpoint_url=endpoint_url, now=now)
        return cls(Store(backend, url=url), clock=clock, actor=actor, bus=bus)

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def __enter__(self) -> Interlock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Interlock {self.store.url}>"

    @property
    def actor(self) -> str:
        """Who the writes are attributed to."""
        if self._actor is None:
            from interlock.service.operator import current_actor

            self._actor = current_actor(self.store)
        return self._actor

    def now(self) -> datetime:
        """The facade's clock's instant."""
        return self.clock.now()

    # ------------------------------------------------------------------------------------- reads

    def _config(self, pid: str) -> PipelineConfig:
        config = self.store.control.get_config(pid)
        if config is None:
            raise PipelineNotFoundError(pid, self.store.control.all_configs().configs)
        return config

    def pipelines(self) -> PipelineList:
        """Every stored pipeline, sorted by id (one index query)."""
        found = self.store.control.all_configs()
        return PipelineList(
            (
                PipelineSummary(
                    pipeline_id=c.id,
                    owner=c.pipeline.owner,
                    description=c.pipeline.description,
                    starts=_starts(c),
                    job=c.job.type.value,
                    dry_run=c.dryRun,
                    rules=len(c.validation.rules),
                )
                for _, c in sorted(found.configs.items())
            ),
            invalid=found.invalid,
        )

    def status(self, pid: str) -> PipelineStatus:
        """One pipeline's status now (its worst open period, as on the board).

        Raises:
            PipelineNotFoundError: no config is stored for ``pid``.
        """
        config = self._config(pid)
        created = self.store.control.config_created(pid)
        return self._statuses([(config, created)], self.now())[0]

    def status_for(self, config: PipelineConfig) -> PipelineStatus:
        """:meth:`status` for a given config (``interlock explain --pipelines`` judges the file's)."""
        created = self.store.control.config_created(config.id)
        return self._statuses([(config, created)], self.now())[0]

    def board(self, *, pipelines: Collection[str] | None = None) -> Board:
        """Every pipeline's status (or those named), problem pipelines first, then by id.

        Each row shows the pipeline's worst open period of the last :data:`LOOKBACK` (a failed,
        breached, stale or warning period nobody acknowledged), else its current period. Stored
        configs that cannot be used appear as ``invalid`` rows. The reads are bulk reads: one index
        query for the configs and a fixed handful of multi-partition reads, however many pipelines.
        """
        now = self.now()
        found = self.store.control.all_configs()
        rows = self._statuses(
            [
                (config, found.created.get(pid))
                for pid, config in found.configs.items()
                if pipelines is None or pid in pipelines
            ],
            now,
        )
        for pid, why in found.invalid.items():
            if pipelines is None or pid in pipelines:
                rows.append(_invalid_status(pid, why, now))
        rows.sort(key=lambda s: (s.rank, s.pipeline_id))
        return Board(rows)

    def period_sla(self, pid: str, period: str | None = None) -> PeriodSla:
        """Where a period (default: the current one) stands against its SLA now, as every face says it.

        Raises:
            PipelineNotFoundError: no config is stored for ``pid``.
            InterlockError: ``period`` is not a period id, or the current period cannot be computed.
        """
        found = self.judge(self._config(pid), period)
        if found is None:
            raise InterlockError(f"{pid}: the current period cannot be computed now")
        return found

    def judge(
        self,
        config: PipelineConfig,
        period: str | None = None,
        *,
        sensors: Mapping[str, SensorRecord] | None = None,
    ) -> PeriodSla | None:
        """:meth:`period_sla` for a given config (``interlock explain --pipelines`` judges the file's).

        Args:
            config: the pipeline's config.
            period: the period id; ``None``: the current one.
            sensors: the pipeline's sensors, if already read.

        Returns:
            The period's SLA state; ``None`` when the current period cannot be computed.

        Raises:
            InterlockError: ``period`` is not a period id.
        """
        from interlock.schedule import Period

        now = self.now()
        pid, control = config.id, self.store.control
        if sensors is None:
            sensors = control.sensors(pid)
        found = self._period(config, sensors, now) if period is None else Period.parse(period)
        if found is None:
            return None
        schedule = config.schedule_id
        return self._judge(
            config,
            found,
            now,
            sensors=sensors,
            run=control.get_run(pid, schedule, found.id),
            ack=control.get_ack(pid, schedule, found.id, now=now),
            created=control.config_created(pid),
        )

    def _statuses(
        self, items: Sequence[tuple[PipelineConfig, datetime | None]], now: datetime
    ) -> list[PipelineStatus]:
        """The statuses of many pipelines (config, first stored) from bulk reads (see :meth:`board`)."""
        if not items:
            return []
        schedules = {config.id: config.schedule_id for config, _ in items}
        # a day's margin: period ids are local dates, and zones are up to a day apart
        since = (now - LOOKBACK - _ONE_DAY).date().isoformat()
        reads = self.store.control.board_reads(schedules, since_period=since, now=now)
        latest = self.store.events.latest_of(schedules)
        views = [self._view(config, created, now, reads) for config, created in items]
        shown = {v.config.id: (v.config.schedule_id, v.period) for v in views if v.period}
        attempts = self.store.reruns.attempts_of(shown) if shown else {}
        return [
            v.status(
                now,
                last_event=latest.get(v.config.id),
                budget=rerun_budget(v.config, (e.reason for e in attempts.get(v.config.id, ()))),
            )
            for v in views
        ]

    def explain(self, pid: str) -> Explanation:
        """Why the pipeline is (not) ready now: each rule with the sensor value, its age and the reason.

        Raises:
            PipelineNotFoundError: no config is stored for ``pid``.
        """
        from interlock.explain import runtime_view
        from interlock.rules import describe, evaluate

        config = self._config(pid)
        now = self.now()
        sensors = self.store.control.sensors(pid)
        # as the runtime reads them: per-period rows remapped, refused trigger sensors not ready
        fields, _refused, blocked = runtime_view(
            config, {k: r.fields for k, r in sensors.items()}, now
        )
        evaluation = evaluate(config.validation, fields, now)
        rows = []
        for r in evaluation.results:
            written = sensors.get(r.rule.key)
            age = r.age
            if age is None and written is not None and written.updated_at is not None:
                age = now - written.updated_at
            rows.append(
                RuleRow(
                    rule=describe(r.rule),
                    sensor=r.rule.key,
                    value=r.actual,
                    age=age,
                    passed=r.passed,
                    reason=r.reason,
                )
            )
        period = self._period(config, sensors, now)
        state = self.judge(config, period.id, sensors=sensors) if period is not None else None
        window = None
        if period is not None and config.sla is not None:
            from interlock.sla import sla_window

            try:
                window = sla_window(
                    config, period, arrived_at=self._arrival(config, period, sensors)
                )
            except InterlockError:
                window = None  # sla_state.reason says why
        return Explanation(
            pipeline_id=pid,
            period=period.id if period is not None else None,
            ready=evaluation.passed and not blocked,
            mode=evaluation.mode,
            rules=tuple(rows),
            at=now,
            sla=window,
            config=config,
            evaluation=evaluation,
            sensors=sensors,
            sla_state=state,
            open_periods=self.status_for(config).open_periods,
        )

    def sensors(self, pid: str) -> SensorList:
        """A pipeline's sensors (bookkeeping rows included), sorted by key, with their ages."""
        now = self.now()
        records = self.store.control.sensors(pid)
        return SensorList(
            SensorView(
                key=r.key,
                fields=dict(r.fields),
                updated_at=r.updated_at,
                age=now - r.updated_at if r.updated_at is not None else None,
            )
            for _, r in sorted(records.items())
        )

    def events(
        self,
        pid: str | None = None,
        *,
        since: datetime | timedelta | str | None = None,
        types: Collection[EventType | str] | None = None,
        limit: int = 200,
    ) -> EventList:
        """Stored events, newest first.

        Args:
            pid: one pipeline's events (its partition), or every pipeline's (the hour index).
            since: from this instant on, or this long ago (``timedelta`` or ``"6h"``); default for all
                pipelines: the last 24 hours (at most 31 days).
            types: keep only these types.
            limit: at most this many (the newest).
        """
        from interlock.durations import parse_duration
        from interlock.events import EventType

        if isinstance(since, str):
            since = parse_duration(since)
        if isinstance(since, timedelta):
            since = self.now() - since
        wanted = {EventType(t) for t in types} if types is not None else None
        store = self.store.events
        if pid is not None:
            if wanted is None:
                return EventList(store.for_pipeline(pid, since=since, limit=limit))
            found = [e for e in store.for_pipeline(pid, since=since) if e.type in wanted]
            return EventList(found[:limit])
        if limit <= 0:
            return EventList()
        now = self.now()
        start = since if since is not None else now - _DEFAULT_EVENTS_BACK
        # Newest first without reading the whole range: walk the hour index backwards and stop once
        # `limit` events are in hand (each step is one hour partition's Query).
        end = max(now, start) + _TAIL_SKEW
        out: list[Event] = []
        hour_end = end
        while hour_end > start and len(out) < limit:
            hour_start = max(start, hour_end.replace(minute=0, second=0, microsecond=0))
            if hour_start == hour_end:
                hour_start = max(start, hour_end - _ONE_HOUR)
            chunk = store.since(hour_start, until=hour_end, types=wanted)
            out.extend(reversed(chunk))
            hour_end = hour_start
        return EventList(out[:limit])

    def tail(
        self, since: datetime, *, until: datetime | None = None, limit: int | None = None
    ) -> EventList:
        """Every event from ``since`` (inclusive) on, oldest first: what a live tail polls.

        Args:
            since: the start.
            until: the end (exclusive); default: now plus a few minutes (producers' clocks drift).
            limit: stop after this many.
        """
        end = until if until is not None else self.now() + _TAIL_SKEW
        return EventList(self.store.events.since(since, until=max(end, since), limit=limit))

    def runs(self, pid: str, *, limit: int = _LAST_RUNS) -> RunList:
        """A pipeline's runs (newest period first) with their job log, durations, outcomes and reruns."""
        out = []
        for run in self.store.control.runs(pid)[:limit]:
            jobs = self.store.joblog.history(pid, run.schedule, run.period)
            reruns = self.store.reruns.attempts(pid, run.schedule, run.period)
            started, finished = run.started_at, run.finished_at
            duration = finished - started if started is not None and finished is not None else None
            out.append(
                RunSummary(
                    period=run.period,
                    schedule=run.schedule,
                    status=run.status.value,
                    attempt=run.attempt,
                    started_at=started,
                    finished_at=finished,
                    duration=duration,
                    outcome=_outcome(run, jobs),
                    jobs=tuple(jobs),
                    reruns=tuple(reruns),
                )
            )
        return RunList(out)

    def acks(self, pid: str, *, period: str | None = None) -> list[Ack]:
        """The SLA acknowledgement in force for a period (default: the current one), as a list."""
        config = self._config(pid)
        now = self.now()
        if period is None:
            found = self._period(config, self.store.control.sensors(pid), now)
            if found is None:
                return []
            period = found.id
        ack = self.store.control.get_ack(pid, config.schedule_id, period, now=now)
        return [ack] if ack is not None else []

    # ------------------------------------------------------------------------------------ writes

    def put_sensor(
        self, pid: str, key: str, fields: Mapping[str, Any] | None = None, /, **named: Any
    ) -> dict[str, Any]:
        """Write a sensor as a producer would (``updatedAt`` is the clock's now).

        Fields come as a mapping (``put_sensor(p, "row-count", {"count": 15432})``, for names that are
        not Python identifiers), as keywords (``put_sensor(p, "row-count", count=15432)``), or both.

        Returns:
            The fields as stored.

        Raises:
            ValueError: no fields at all (a sensor written with nothing would erase what it held), or a
                field given both ways.
        """
        merged: dict[str, Any] = dict(fields or {})
        twice = sorted(set(merged) & set(named))
        if twice:
            raise ValueError(
                f"field(s) {', '.join(map(repr, twice))} given both in the mapping and by name"
            )
        merged.update(named)
        if not merged:
            raise ValueError(
                f"sensor {key!r} of {pid!r}: no fields to write (e.g. put_sensor(p, key, {{'status': 'ready'}}))"
            )
        return self.store.control.put_sensor(pid, key, merged, now=self.now())

    def operator(self) -> Operator:
        """The :class:`~interlock.service.operator.Operator` the write actions go through (built once)."""
        if self._operator is None:
            from interlock.service.operator import Operator

            self._operator = Operator(self.store, bus=self.bus, clock=self.clock, actor=self.actor)
        return self._operator

    @property
    def bus(self) -> EventBus:
        """The ``EventBus`` operator actions publish through (see :class:`Interlock`)."""
        given = self._bus
        bus: EventBus
        if given is None:
            from interlock.service.bus import operator_bus

            bus = operator_bus(self.store)
        elif callable(given) and not hasattr(given, "publish"):
            bus = given()
        else:
            bus = cast("EventBus", given)
        self._bus = bus
        return bus

    def budget(self, pid: str, period: str | None = None) -> RerunBudget:
        """The run's rerun budget as the Operator counts it (``remaining(reason)``).

        Raises:
            OperatorError: no such pipeline or a malformed period.
        """
        return self.operator().budget(pid, period)

    def rerun_outlook(
        self, pid: str, period: str | None = None, reason: str = "manual"
    ) -> RerunOutlook:
        """What a rerun request made now would meet (accepted, rejected and why, excluded, dry run),
        decided as the controller would, without writing anything.

        Raises:
            OperatorError: no such pipeline, an empty reason or a malformed period.
        """
        return self.operator().rerun_outlook(pid, period, reason=reason, calendars=self.calendars)

    def rerun(self, pid: str, period: str | None = None, reason: str = "manual") -> OperatorResult:
        """Ask for a rerun of a period (default: the current one); audited as RERUN_REQUESTED.

        Raises:
            OperatorError: refused (unknown pipeline, budget spent, …).
        """
        return self.operator().rerun(pid, period=period, reason=reason)

    def ack(
        self,
        pid: str,
        period: str | None = None,
        *,
        reason: str,
        until: datetime | timedelta | str | None = None,
    ) -> OperatorResult:
        """Acknowledge a run's SLA alerts until ``until`` (``None``: the rest of the run).

        ``until`` is an instant, a duration from now, or text as the CLI's ``--until`` takes it
        (``"1h"``, ``"2026-03-02T12:00:00Z"``).

        Raises:
            OperatorError: refused.
            ValueError: ``until`` text that is neither a duration nor an instant with an offset.
        """
        if isinstance(until, str):
            from interlock.durations import parse_until

            until = parse_until(until, self.now())
        return self.operator().ack(pid, period=period, reason=reason, until=until)

    def dry_run(self, pid: str, on: bool, *, reason: str) -> OperatorResult:
        """Switch a pipeline into (``on=True``) or out of dry run; audited as DRY_RUN_SWITCHED.

        Raises:
            OperatorError: refused.
        """
        return self.operator().dry_run(pid, on, reason=reason)
