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

A pipeline's *state* on the board is derived, in this order: dry run (override, else the config) →
the run row of the current period (running / succeeded / failed) → a calendar exclusion of today →
evaluating (a cron fire within the evaluation window, or a trigger sensor that satisfies the trigger) →
waiting. ``board()`` puts problem pipelines first (failed, stale, SLA breached or warning, invalid config).
"""

from __future__ import annotations

import html
import importlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, Literal, TypeVar, cast

from interlock.clock import SystemClock
from interlock.durations import format_duration
from interlock.exceptions import InterlockError
from interlock.lifecycle.operator import RerunBudget, effective_dry_run, rerun_budget
from interlock.records import DRY_RUN_OVERRIDE, RerunReason, RunStatus
from interlock.store import keys

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping
    from pathlib import Path

    from rich.console import RenderableType

    from interlock.config.models import Calendar, PipelineConfig
    from interlock.events import Event, EventType
    from interlock.ports import Clock, EventBus
    from interlock.records import Ack, JobEntry, Override, RerunEntry, RunRow, SensorRecord
    from interlock.rules import Evaluation
    from interlock.schedule import Period
    from interlock.service.operator import Operator, OperatorResult
    from interlock.sla import SLAWindow
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
    "SystemClock",
    "budget_text",
]

State = Literal[
    "waiting", "evaluating", "running", "succeeded", "failed", "excluded", "dry-run", "invalid"
]
STATES: Final[tuple[State, ...]] = (
    "waiting",
    "evaluating",
    "running",
    "succeeded",
    "failed",
    "excluded",
    "dry-run",
    "invalid",
)
"""Every board state, for filters and legends."""

_LAST_RUNS: Final = 30  # run history shown per pipeline: a month of dailies
_DEFAULT_EVENTS_BACK: Final = timedelta(days=1)
_TAIL_SKEW: Final = timedelta(minutes=5)
_ONE_HOUR: Final = timedelta(hours=1)  # accept events stamped a little ahead of our clock


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


# ----------------------------------------------------------------------------------------- tables


def _hhmm(at: datetime | None) -> str:
    return "" if at is None else at.astimezone(UTC).strftime("%H:%M")


def _stamp(at: datetime | None) -> str:
    return "" if at is None else keys.format_time(at)


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _stamp(value)
    if isinstance(value, timedelta):
        return format_duration(value)
    return str(value)


T = TypeVar("T")


class _ResultList(list[T], Generic[T]):
    """A list of results that prints as a table (text, HTML) and converts to a DataFrame."""

    _title: ClassVar[str] = "results"
    _columns: ClassVar[tuple[str, ...]] = ()

    def _cells(self, item: T) -> tuple[Any, ...]:
        raise NotImplementedError

    def _record(self, item: T) -> dict[str, Any]:
        return dict(zip(self._columns, self._cells(item), strict=True))

    def records(self) -> list[dict[str, Any]]:
        """The rows as plain dicts (column → value), for JSON or DataFrames."""
        return [self._record(item) for item in self]

    def to_pandas(self) -> Any:
        """The rows as a :class:`pandas.DataFrame`.

        Raises:
            ImportError: pandas is not installed (``pip install pandas``).
        """
        try:
            pd = importlib.import_module("pandas")
        except ImportError:
            raise ImportError(
                f"{type(self).__name__}.to_pandas() needs pandas, which is not installed: "
                "pip install pandas (or read .records() for plain dicts)"
            ) from None
        return pd.DataFrame(self.records(), columns=list(self._columns))

    def __repr__(self) -> str:
        rows = [tuple(_show(c) for c in self._cells(item)) for item in self]
        head = f"<{type(self).__name__}: {len(self)} {self._title}>"
        if not rows:
            return head
        widths = [
            min(40, max(len(col), *(len(r[i]) for r in rows)))
            for i, col in enumerate(self._columns)
        ]

        def line(cells: Iterable[str]) -> str:
            parts = [
                (c if len(c) <= w else c[: w - 1] + "…").ljust(w)
                for c, w in zip(cells, widths, strict=True)
            ]
            return "  ".join(parts).rstrip()

        return "\n".join([head, line(c.upper() for c in self._columns), *map(line, rows)])

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self._columns)
        body = "".join(
            "<tr>"
            + "".join(f"<td>{html.escape(_show(c))}</td>" for c in self._cells(item))
            + "</tr>"
            for item in self
        )
        caption = html.escape(f"{type(self).__name__}: {len(self)} {self._title}")
        return (
            f'<table class="interlock-{self._title}"><caption>{caption}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )


# ---------------------------------------------------------------------------------------- results


def budget_text(budget: RerunBudget) -> str:
    """Reruns left, e.g. ``drift 1 · manual 1``."""
    drift = budget.remaining(RerunReason.DATA_DRIFT.value)
    return f"drift {drift} · {budget.manual_reason} {budget.remaining(budget.manual_reason)}"


@dataclass(frozen=True, slots=True)
class PipelineSummary:
    """One stored pipeline config, in a line.

    Attributes:
        pipeline_id: the id.
        owner: the owning team.
        description: what it does.
        starts: what starts it (cron expression and/or trigger sensor).
        job: the job type.
        dry_run: whether the config says dry run (an operator override may say otherwise).
        rules: how many readiness rules it has.
    """

    pipeline_id: str
    owner: str | None
    description: str | None
    starts: str
    job: str
    dry_run: bool
    rules: int


class PipelineList(_ResultList[PipelineSummary]):
    """Every stored pipeline (``invalid``: the ids whose stored config cannot be used, with why)."""

    _title = "pipelines"
    _columns = ("pipeline", "owner", "starts", "job", "rules", "dry_run", "description")

    def __init__(
        self, items: Iterable[PipelineSummary] = (), invalid: Mapping[str, str] | None = None
    ):
        super().__init__(items)
        self.invalid: dict[str, str] = dict(invalid or {})

    def _cells(self, item: PipelineSummary) -> tuple[Any, ...]:
        return (
            item.pipeline_id,
            item.owner,
            item.starts,
            item.job,
            item.rules,
            item.dry_run,
            item.description,
        )


@dataclass(frozen=True, slots=True)
class SlaClock:
    """Where a run stands against its SLA at one instant.

    Attributes:
        status: ``none`` (no SLA or not computable yet), ``ok``, ``warning``, ``breached`` (unfinished
            runs), ``met`` or ``missed`` (finished runs).
        warning_at: when the warning falls (UTC), if any.
        breach_at: when the breach falls (UTC), if any.
        text: a short line for the board, e.g. ``warn in 49m``, ``BREACHED 08:30``, ``met``.
    """

    status: Literal["none", "ok", "warning", "breached", "met", "missed"]
    warning_at: datetime | None = None
    breach_at: datetime | None = None
    text: str = "—"

    @property
    def alarming(self) -> bool:
        """Whether on-call should look (warning, breached or missed)."""
        return self.status in ("warning", "breached", "missed")


@dataclass(frozen=True, slots=True)
class PipelineStatus:
    """One pipeline at one instant: the board's row, and the head of its detail view.

    Attributes:
        pipeline_id: the pipeline.
        period: the current period (``None`` when it cannot be computed, e.g. an invalid config).
        schedule: ``cron`` or ``stream``.
        state: see :data:`STATES`.
        rules_passed: readiness rules passing now.
        rules_total: readiness rules.
        sla: the SLA clock.
        last_event: the pipeline's newest event, if any.
        budget: the current run's rerun budgets (``None`` for an invalid config).
        ack: the SLA acknowledgement in force for the period, if any.
        dry_run: whether the pipeline is in dry run (override, else config).
        run: the current period's run row, if any.
        stale: a RUNNING row past its lock expiry (its execution is presumed lost).
        at: the instant this status describes.
        note: why, when the state needs a word (an exclusion reason, an invalid config's problems).
        owner: the owning team.
    """

    pipeline_id: str
    period: str | None
    schedule: str
    state: State
    rules_passed: int
    rules_total: int
    sla: SlaClock
    last_event: Event | None
    budget: RerunBudget | None
    ack: Ack | None
    dry_run: bool
    run: RunRow | None
    stale: bool
    at: datetime
    note: str = ""
    owner: str | None = None

    @property
    def rank(self) -> int:
        """Board order: 0 needs action now, 1 soon, then active, quiet, done, excluded."""
        if self.state in ("failed", "invalid") or self.stale:
            return 0
        if self.sla.status in ("breached", "missed") and self.ack is None:
            return 0
        if self.sla.status == "warning" and self.ack is None:
            return 1
        return {
            "evaluating": 2,
            "running": 2,
            "waiting": 3,
            "dry-run": 4,
            "succeeded": 5,
            "excluded": 6,
        }.get(self.state, 3)

    @property
    def problem(self) -> bool:
        """Whether on-call should look now (failed, stale, invalid, SLA breached/warning unacknowledged)."""
        return self.rank <= 1

    @property
    def rules_text(self) -> str:
        """``2/3`` (``—`` with no rules)."""
        return f"{self.rules_passed}/{self.rules_total}" if self.rules_total else "—"

    @property
    def last_event_text(self) -> str:
        """``JOB_FAILED 08:22`` or ``—``."""
        e = self.last_event
        return "—" if e is None else f"{e.type.value} {_hhmm(e.timestamp)}"

    def __repr__(self) -> str:
        ack = f" acked by {self.ack.by}" if self.ack else ""
        return (
            f"<PipelineStatus {self.pipeline_id} {self.period or '?'} {self.state} "
            f"rules {self.rules_text} SLA {self.sla.text}{ack}>"
        )

    def _repr_html_(self) -> str:
        return Board([self])._repr_html_()


class Board(_ResultList[PipelineStatus]):
    """Every pipeline's status, problem pipelines first."""

    _title = "pipelines"
    _columns = ("pipeline", "period", "state", "rules", "sla", "last_event", "reruns_left")

    def _cells(self, item: PipelineStatus) -> tuple[Any, ...]:
        return (
            item.pipeline_id,
            item.period,
            item.state,
            item.rules_text,
            item.sla.text,
            item.last_event_text,
            budget_text(item.budget) if item.budget else None,
        )

    @property
    def problems(self) -> list[PipelineStatus]:
        """The rows that need action now."""
        return [s for s in self if s.problem]


@dataclass(frozen=True, slots=True)
class RuleRow:
    """One readiness rule against the sensor it reads.

    Attributes:
        rule: the rule in a line (``row-count.count ≥ 1000``).
        sensor: the sensor key it reads.
        value: the field value found (``None`` when missing).
        age: for age rules the age judged; else how long ago the sensor was written (``None``: unknown).
        passed: whether it passes.
        reason: why (the rule engine's reason).
    """

    rule: str
    sensor: str
    value: Any
    age: timedelta | None
    passed: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a pipeline is (not) ready now: every rule with its value, age and reason.

    Attributes:
        pipeline_id: the pipeline.
        period: the current period (``None`` if it cannot be computed).
        ready: whether the rules pass (combined by ``mode``).
        mode: ``ALL`` or ``ANY``.
        rules: one row per rule, in the config's order.
        at: the instant of evaluation.
        sla: the SLA window of the period, if any.
        config: the pipeline's config.
        evaluation: the rule engine's result.
        sensors: the sensors read.
    """

    pipeline_id: str
    period: str | None
    ready: bool
    mode: str
    rules: tuple[RuleRow, ...]
    at: datetime
    sla: SLAWindow | None
    config: PipelineConfig = field(repr=False)
    evaluation: Evaluation = field(repr=False)
    sensors: Mapping[str, SensorRecord] = field(repr=False)

    @property
    def passed_count(self) -> int:
        """How many rules pass."""
        return sum(1 for r in self.rules if r.passed)

    def __repr__(self) -> str:
        verdict = "ready" if self.ready else "not ready"
        lines = [
            f"<Explanation {self.pipeline_id} {self.period or '?'} {verdict}: "
            f"{self.passed_count}/{len(self.rules)} rules pass ({self.mode})>"
        ]
        for r in self.rules:
            age = f" age {format_duration(r.age)}" if r.age is not None else ""
            lines.append(
                f"  {'✓' if r.passed else '✗'} {r.rule}  = {_show(r.value)}{age}  {r.reason}"
            )
        return "\n".join(lines)

    def __rich__(self) -> RenderableType:
        """The CLI's ``interlock explain`` rendering (same data path)."""
        from interlock.explain import render_explain

        return render_explain(
            self.config,
            self.evaluation,
            self.at,
            sensors={k: r.fields for k, r in self.sensors.items()},
            updated={k: r.updated_at for k, r in self.sensors.items()},
        )

    def _repr_html_(self) -> str:
        return self.evaluation._repr_html_()

    def records(self) -> list[dict[str, Any]]:
        """One dict per rule."""
        return [
            {
                "rule": r.rule,
                "sensor": r.sensor,
                "value": r.value,
                "age": r.age,
                "passed": r.passed,
                "reason": r.reason,
            }
            for r in self.rules
        ]

    def to_pandas(self) -> Any:
        """The rules as a DataFrame (needs pandas)."""
        return _RuleTable(self.rules).to_pandas()


class _RuleTable(_ResultList[RuleRow]):
    _title = "rules"
    _columns = ("rule", "sensor", "value", "age", "passed", "reason")

    def _cells(self, item: RuleRow) -> tuple[Any, ...]:
        return (item.rule, item.sensor, item.value, item.age, item.passed, item.reason)


@dataclass(frozen=True, slots=True)
class SensorView:
    """One sensor as stored, with its age.

    Attributes:
        key: the sensor key.
        fields: its fields.
        updated_at: when it was written, if known.
        age: how long ago, at the time of reading.
    """

    key: str
    fields: dict[str, Any]
    updated_at: datetime | None
    age: timedelta | None


class SensorList(_ResultList[SensorView]):
    """A pipeline's sensors, by key."""

    _title = "sensors"
    _columns = ("key", "fields", "updated_at", "age")

    def _cells(self, item: SensorView) -> tuple[Any, ...]:
        text = json.dumps(item.fields, sort_keys=True, default=str)
        return (item.key, text, item.updated_at, item.age)


class EventList(_ResultList["Event"]):
    """Events, in the order asked for."""

    _title = "events"
    _columns = ("time", "type", "severity", "pipeline", "period", "actor", "message")

    def _cells(self, item: Event) -> tuple[Any, ...]:
        return (
            item.timestamp,
            item.type.value,
            item.severity.value,
            item.pipeline_id,
            item.date,
            item.actor,
            item.message,
        )


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One run of a pipeline, with its job log and reruns.

    Attributes:
        period: the run's period.
        schedule: ``cron`` or ``stream``.
        status: RUNNING, COMPLETED or FAILED_FINAL.
        attempt: the attempt number of the run row.
        started_at: when the current attempt started.
        finished_at: when it finished.
        duration: ``finished_at - started_at`` (``None`` while running or unknown).
        outcome: a word: ``succeeded``, ``failed (TRANSIENT)``, ``running``…
        jobs: the job-log rows, oldest first.
        reruns: the rerun-log rows, in attempt order.
    """

    period: str
    schedule: str
    status: str
    attempt: int
    started_at: datetime | None
    finished_at: datetime | None
    duration: timedelta | None
    outcome: str
    jobs: tuple[JobEntry, ...] = ()
    reruns: tuple[RerunEntry, ...] = ()


class RunList(_ResultList[RunSummary]):
    """A pipeline's runs, newest period first."""

    _title = "runs"
    _columns = (
        "period",
        "schedule",
        "status",
        "attempt",
        "started",
        "duration",
        "outcome",
        "reruns",
    )

    def _cells(self, item: RunSummary) -> tuple[Any, ...]:
        reruns = ", ".join(f"#{r.attempt} {r.reason}" for r in item.reruns)
        return (
            item.period,
            item.schedule,
            item.status,
            item.attempt,
            item.started_at,
            item.duration,
            item.outcome,
            reruns,
        )


# ----------------------------------------------------------------------------------------- facade


def _sla_clock(window: SLAWindow | None, run: RunRow | None, now: datetime) -> SlaClock:
    from interlock.sla import status_at, verdict

    if window is None:
        return SlaClock("none")
    w, b = window.warning_at, window.breach_at
    # Only a completed run delivered: a failed one is judged like an unfinished one.
    if run is not None and run.status is RunStatus.COMPLETED and run.finished_at is not None:
        if verdict(window, run.finished_at) == "SLA_MET":
            return SlaClock("met", w, b, "met")
        return SlaClock("missed", w, b, f"missed {_hhmm(b)}")
    status = status_at(window, now)
    if status == "breached":
        return SlaClock("breached", w, b, f"BREACHED {_hhmm(b)}")
    if status == "warning":
        return SlaClock("warning", w, b, f"breach in {format_duration(b - now)}")
    if w is not None:
        return SlaClock("ok", w, b, f"warn in {format_duration(w - now)}")
    return SlaClock("ok", w, b, f"breach in {format_duration(b - now)}")


def _starts(config: PipelineConfig) -> str:
    s = config.schedule
    parts = []
    if s.cron:
        parts.append(f"cron {s.cron}")
    if s.trigger is not None:
        parts.append(f"sensor {s.trigger.key}")
    return " + ".join(parts)


def _outcome(run: RunRow, jobs: list[JobEntry]) -> str:
    if run.status is RunStatus.RUNNING:
        return "running"
    last = jobs[-1] if jobs else None
    if run.status is RunStatus.COMPLETED:
        return "succeeded"
    if last is None:
        return "failed"
    why = last.category or last.event
    return f"failed ({why})"


class Interlock:
    """Interlock over one store: read pipelines' state, explain readiness, act as an operator.

    Args:
        store: an open store (:func:`interlock.store.open_store`).
        clock: where "now" comes from (a :class:`~interlock.ports.VirtualClock` in tests); the wall
            clock if ``None``.
        actor: who writes (acks, reruns, dry-run switches); ``interlock.service.operator.current_actor()`` if
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

            self._actor = current_actor()
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
        """One pipeline's status now.

        Raises:
            PipelineNotFoundError: no config is stored for ``pid``.
        """
        return self._status(
            self._config(pid), self.now(), created=self.store.control.config_created(pid)
        )

    def board(self, *, pipelines: Collection[str] | None = None) -> Board:
        """Every pipeline's status (or those named), problem pipelines first, then by id.

        Stored configs that cannot be used appear as ``invalid`` rows.
        """
        now = self.now()
        found = self.store.control.all_configs()
        rows = [
            self._status(config, now, created=found.created.get(pid))
            for pid, config in found.configs.items()
            if pipelines is None or pid in pipelines
        ]
        for pid, why in found.invalid.items():
            if pipelines is None or pid in pipelines:
                rows.append(_invalid_status(pid, why, now))
        rows.sort(key=lambda s: (s.rank, s.pipeline_id))
        return Board(rows)

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

    def _window(
        self,
        config: PipelineConfig,
        period: Period | None,
        sensors: Mapping[str, SensorRecord],
        created: datetime | None = None,
    ) -> SLAWindow | None:
        """The period's SLA window (``None`` too for a period that ended before the config existed)."""
        from interlock.sla import sla_window

        if period is None or config.sla is None:
            return None
        arrived = None
        trigger = config.schedule.trigger
        if trigger is not None and config.sla.maxDuration is not None:
            record = sensors.get(trigger.key)
            arrived = record.updated_at if record is not None else None
        try:
            window = sla_window(config, period, arrived_at=arrived)
        except InterlockError:
            return None
        if window is not None and created is not None and window.breach_at <= created:
            return None  # Interlock was not watching this pipeline then: no clock to show
        return window

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

    def _budget(self, config: PipelineConfig, period: str | None) -> RerunBudget:
        # The Operator's count (lifecycle.operator.rerun_budget), over one rerun-log read.
        if period is None:
            return rerun_budget(config, ())
        entries = self.store.reruns.attempts(config.id, config.schedule_id, period)
        return rerun_budget(config, (e.reason for e in entries))

    def _status(
        self, config: PipelineConfig, now: datetime, *, created: datetime | None = None
    ) -> PipelineStatus:
        from interlock.rules import evaluate

        pid = config.id
        control = self.store.control
        sensors = control.sensors(pid)
        fields = {k: r.fields for k, r in sensors.items()}
        evaluation = evaluate(config.validation, fields, now)
        period = self._period(config, sensors, now)
        schedule = config.schedule_id
        run = control.get_run(pid, schedule, period.id) if period is not None else None
        ack = control.get_ack(pid, schedule, period.id, now=now) if period is not None else None
        dry = self._is_dry_run(config, control.overrides(pid))
        last = self.store.events.for_pipeline(pid, limit=1)
        note = ""
        state: State
        if dry:
            state = "dry-run"
        elif run is not None:
            state = {
                RunStatus.RUNNING: "running",
                RunStatus.COMPLETED: "succeeded",
                RunStatus.FAILED_FINAL: "failed",
            }[run.status]  # type: ignore[assignment]
        else:
            excluded = self._excluded(config, period, now)
            if excluded:
                state, note = "excluded", excluded
            else:
                state = "evaluating" if self._started(config, fields, now) else "waiting"
        return PipelineStatus(
            pipeline_id=pid,
            period=period.id if period is not None else None,
            schedule=schedule,
            state=state,
            rules_passed=evaluation.passed_count,
            rules_total=len(evaluation.results),
            sla=self._dry_clock(config, period)
            if dry
            # a period with no run that ended before the config existed has no SLA clock to show
            else _sla_clock(
                self._window(config, period, sensors, created if run is None else None), run, now
            ),
            last_event=last[0] if last else None,
            budget=self._budget(config, period.id if period is not None else None),
            ack=ack,
            dry_run=dry,
            run=run,
            stale=run.is_stale(now) if run is not None else False,
            at=now,
            note=note,
            owner=config.pipeline.owner,
        )

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
        return Explanation(
            pipeline_id=pid,
            period=period.id if period is not None else None,
            ready=evaluation.passed and not blocked,
            mode=evaluation.mode,
            rules=tuple(rows),
            at=now,
            sla=self._window(config, period, sensors),
            config=config,
            evaluation=evaluation,
            sensors=sensors,
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

    def put_sensor(self, pid: str, key: str, **fields: Any) -> dict[str, Any]:
        """Write a sensor as a producer would (``updatedAt`` is the clock's now).

        Returns:
            The fields as stored.
        """
        return self.store.control.put_sensor(pid, key, fields, now=self.now())

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
        until: datetime | timedelta | None = None,
    ) -> OperatorResult:
        """Acknowledge a run's SLA alerts until ``until`` (``None``: the rest of the run).

        ``until`` is an instant or a duration from now.

        Raises:
            OperatorError: refused.
        """
        return self.operator().ack(pid, period=period, reason=reason, until=until)

    def dry_run(self, pid: str, on: bool, *, reason: str) -> OperatorResult:
        """Switch a pipeline into (``on=True``) or out of dry run; audited as DRY_RUN_SWITCHED.

        Raises:
            OperatorError: refused.
        """
        return self.operator().dry_run(pid, on, reason=reason)


def _invalid_status(pid: str, why: str, now: datetime) -> PipelineStatus:
    return PipelineStatus(
        pipeline_id=pid,
        period=None,
        schedule="",
        state="invalid",
        rules_passed=0,
        rules_total=0,
        sla=SlaClock("none"),
        last_event=None,
        budget=None,
        ack=None,
        dry_run=False,
        run=None,
        stale=False,
        at=now,
        note=why,
    )
