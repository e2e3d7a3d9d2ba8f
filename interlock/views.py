"""The result views of the :class:`~interlock.api.Interlock` facade: small frozen results and lists with
readable reprs, HTML tables for Jupyter and ``.to_pandas()`` (board rows, statuses, explanations,
sensors, events, runs), and the helpers that build them from store rows.

:mod:`interlock.api` re-exports every public name, so ``from interlock.api import Board`` keeps working.
"""

from __future__ import annotations

import html
import importlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, Literal, TypeVar

from interlock.durations import format_duration
from interlock.records import RerunReason, RunStatus
from interlock.store import keys

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from rich.console import RenderableType

    from interlock.config.models import PipelineConfig
    from interlock.events import Event
    from interlock.lifecycle.operator import RerunBudget
    from interlock.problems import PeriodSla
    from interlock.records import Ack, JobEntry, RerunEntry, RunRow, SensorRecord
    from interlock.rules import Evaluation
    from interlock.sla import SLAWindow


__all__ = [
    "STATES",
    "Board",
    "EventList",
    "Explanation",
    "PipelineList",
    "PipelineStatus",
    "PipelineSummary",
    "RuleRow",
    "RunList",
    "RunSummary",
    "SensorList",
    "SensorView",
    "SlaClock",
    "State",
    "budget_text",
    "status_rank",
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
    """Where a period stands against its SLA at one instant (a :class:`~interlock.problems.PeriodSla`
    with the board's text).

    Attributes:
        status: ``none`` (no SLA or not computable yet), ``unwatched`` (its deadline fell before Interlock
            watched the pipeline), ``ok``, ``warning``, ``breached`` (not delivered), ``met`` or
            ``missed`` (delivered).
        warning_at: when the warning falls (UTC), if any.
        breach_at: when the breach falls (UTC), if any.
        text: a short line for the board, e.g. ``warn in 49m``, ``BREACHED 08:30``, ``met``.
        reason: why, in words.
        acknowledged: an operator acknowledgement is in force for the period.
    """

    status: Literal["none", "unwatched", "ok", "warning", "breached", "met", "missed"]
    warning_at: datetime | None = None
    breach_at: datetime | None = None
    text: str = "—"
    reason: str = ""
    acknowledged: bool = False

    @property
    def alarming(self) -> bool:
        """Whether on-call should look (warning, breached or missed)."""
        return self.status in ("warning", "breached", "missed")

    @classmethod
    def of(cls, sla: PeriodSla, now: datetime) -> SlaClock:
        """The clock of a period's computed SLA state."""
        return cls(
            sla.state,
            sla.warning_at,
            sla.breach_at,
            sla.text(now),
            reason=sla.reason,
            acknowledged=sla.acknowledged,
        )


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
        note: why, when the state needs a word (an exclusion reason, an invalid config's problems,
            the newest period's state when an older open period is shown).
        owner: the owning team.
        open_periods: the periods of the last :data:`~interlock.api.LOOKBACK` that still need on-call
            (failed, stale, breached or warning, not acknowledged), newest first; ``period`` is the
            worst of them, or the current period when there is none.
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
    open_periods: tuple[str, ...] = ()

    @property
    def rank(self) -> int:
        """Board order: 0 needs action now, 1 soon, then active, quiet, done, excluded."""
        return status_rank(
            self.state, self.stale, self.sla.status, acknowledged=self.ack is not None
        )

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
        sla_state: the period's SLA state (:func:`interlock.problems.period_sla`), if it has a period.
        open_periods: the periods the board shows as still open (``PipelineStatus.open_periods``).
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
    sla_state: PeriodSla | None = None
    open_periods: tuple[str, ...] = ()

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
        if self.sla_state is not None and self.sla_state.state != "none":
            acked = " (acknowledged)" if self.sla_state.acknowledged else ""
            lines.append(f"  SLA {self.sla_state.state}{acked}: {self.sla_state.reason}")
        older = [p for p in self.open_periods if p != self.period]
        if older:
            lines.append(f"  still open: {', '.join(older)}")
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
            sla=self.sla_state,
            open_periods=self.open_periods,
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


# ------------------------------------------------------------------------------ facade helpers


def status_rank(state: str, stale: bool, sla: str, *, acknowledged: bool) -> int:
    """Board order of a period's status: 0 needs action now (failed, stale, invalid; SLA breached or
    missed unacknowledged), 1 soon (SLA warning unacknowledged), then active, quiet, done, excluded."""
    if state in ("failed", "invalid") or stale:
        return 0
    if sla in ("breached", "missed") and not acknowledged:
        return 0
    if sla == "warning" and not acknowledged:
        return 1
    return _STATE_RANKS.get(state, 3)


_STATE_RANKS: Final[dict[str, int]] = {
    "evaluating": 2,
    "running": 2,
    "waiting": 3,
    "dry-run": 4,
    "succeeded": 5,
    "excluded": 6,
}


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
