"""``interlock simulate``: what would Interlock have done? The real runtime, a virtual clock, fake jobs.

::

    timeline.jsonl ──parse_timeline()──▶ [Entry(at, kind, …)] sorted by time (file order within a time)
         │
    simulate(project, entries, start, end)
         ├─ a fresh SQLite store in a temporary directory; configs pushed at ``start``
         ├─ EmbeddedRuntime on a VirtualClock, SimulatedRunner for every job type (no real jobs)
         ├─ for each entry: runtime.run_until(entry.at); apply it (sensor write, job behaviour,
         │   rerun request, SLA ack, dry-run switch — the last three through the Operator, as a person would)
         ├─ runtime.run_until(end)
         └─ every published event, in time order

Timeline lines are JSON objects with ``at`` (RFC 3339 with an offset) and exactly one of::

    {"sensor": {"pipeline", "key", "data"}}          a producer writes a sensor (``date``/``hour`` in data
                                                     pick the period, as real sensors do)
    {"jobs":   {"pipeline", "duration", "outcome"}}  how that pipeline's jobs behave from then on
    {"rerun":  {"pipeline", "date", "reason"}}       an operator asks for a rerun
    {"ack":    {"pipeline", "date", "by", "reason", "until"?}}   an operator acknowledges the SLA
    {"dryRun": {"pipeline", "on", "reason"?}}        an operator switches dry run

Job outcomes: ``success``, ``fail`` (a transient job failure), ``fail-permanent``, and
``trigger-error`` (starting the job fails with a transient infrastructure error every time) or
``trigger-refused`` (a permanent one, e.g. HTTP 4xx).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from interlock.durations import parse_duration
from interlock.exceptions import InterlockError
from interlock.ports import VirtualClock
from interlock.store import keys
from interlock.triggers.base import FailureClass, JobStatus, RunHandle, TriggerError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from interlock.config.loader import Project
    from interlock.events import Event
    from interlock.ports import Clock
    from interlock.schedule import Period
    from interlock.service.operator import Operator
    from interlock.store.factory import Store

__all__ = [
    "OUTCOMES",
    "Entry",
    "JobBehaviour",
    "SimulatedRunner",
    "SimulationResult",
    "TimelineError",
    "apply_entry",
    "parse_timeline",
    "simulate",
]

Outcome = Literal["success", "fail", "fail-permanent", "trigger-error", "trigger-refused"]
OUTCOMES: Final[tuple[Outcome, ...]] = (
    "success",
    "fail",
    "fail-permanent",
    "trigger-error",
    "trigger-refused",
)
_KINDS: Final = ("sensor", "jobs", "rerun", "ack", "dryRun")


MAX_SIMULATED_SPAN: Final = timedelta(days=366)
"""The longest ``start``..``end`` a simulation accepts (a longer one would run on for hours)."""
MAX_NESTING: Final = 32
"""How deeply a timeline value may nest (DynamoDB's own limit for an item's maps and lists)."""


def _too_deep(value: Any, limit: int = MAX_NESTING) -> bool:
    """Whether ``value`` nests maps/lists more than ``limit`` levels (iteratively: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


class TimelineError(InterlockError):
    """A timeline file that cannot be simulated; the message names the line."""


@dataclass(frozen=True, slots=True)
class JobBehaviour:
    """How a simulated job behaves.

    Attributes:
        duration: how long it runs.
        outcome: how it ends (see :data:`OUTCOMES`).
    """

    duration: timedelta = timedelta(minutes=10)
    outcome: Outcome = "success"


@dataclass(frozen=True, slots=True)
class Entry:
    """One timeline line.

    Attributes:
        at: when it happens.
        kind: ``sensor``, ``jobs``, ``rerun``, ``ack`` or ``dryRun``.
        body: the kind's object.
        line: the line number in the file (for messages).
    """

    at: datetime
    kind: str
    body: Mapping[str, Any]
    line: int


def _text(body: Mapping[str, Any], name: str, where: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise TimelineError(f"{where}: {name!r} must be a non-empty string, got {value!r}")
    return value


def _behaviour(
    body: Mapping[str, Any], where: str, default: JobBehaviour
) -> tuple[str, JobBehaviour]:
    pipeline = _text(body, "pipeline", where)
    assert pipeline is not None
    duration = default.duration
    if "duration" in body:
        try:
            duration = parse_duration(body["duration"])
        except (ValueError, TypeError, InterlockError) as exc:
            raise TimelineError(f"{where}: duration: {exc}") from exc
    outcome = body.get("outcome", default.outcome)
    if outcome not in OUTCOMES:
        raise TimelineError(
            f"{where}: outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}"
        )
    return pipeline, JobBehaviour(duration, outcome)


def _check(kind: str, body: Mapping[str, Any], where: str) -> None:
    _text(body, "pipeline", where)
    if kind == "sensor":
        _text(body, "key", where)
        if not isinstance(body.get("data", {}), dict):
            raise TimelineError(f"{where}: 'data' must be an object")
    elif kind == "jobs":
        _behaviour(body, where, JobBehaviour())
    elif kind == "rerun":
        _text(body, "date", where)
    elif kind == "ack":
        _text(body, "date", where)
        _text(body, "reason", where)
    elif kind == "dryRun" and not isinstance(body.get("on"), bool):
        raise TimelineError(f"{where}: 'on' must be true or false")


def parse_timeline(lines: Iterable[str], *, source: str = "timeline") -> list[Entry]:
    """Read a JSON-lines timeline (blank lines and ``#`` comments are skipped).

    Returns:
        The entries sorted by time; entries at the same instant keep their file order.

    Raises:
        TimelineError: a line is not JSON, lacks ``at`` or has not exactly one known kind.
    """
    entries: list[Entry] = []
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        where = f"{source}:{number}"
        try:
            obj = json.loads(text)
        except ValueError as exc:
            raise TimelineError(f"{where}: not JSON: {exc}") from exc
        except RecursionError:
            raise TimelineError(
                f"{where}: nested too deeply (at most {MAX_NESTING} levels)"
            ) from None
        if _too_deep(obj, MAX_NESTING + 1):  # the line's own object is one level
            raise TimelineError(f"{where}: nested too deeply (at most {MAX_NESTING} levels)")
        if not isinstance(obj, dict):
            raise TimelineError(f"{where}: each line must be a JSON object")
        try:
            at = keys.parse_time(str(obj.get("at", "")))
        except ValueError as exc:
            raise TimelineError(f"{where}: 'at' must be RFC 3339 with an offset: {exc}") from exc
        kinds = [k for k in _KINDS if k in obj]
        unknown = sorted(set(obj) - {"at", *_KINDS})
        if len(kinds) != 1 or unknown:
            extra = f" (unknown: {', '.join(unknown)})" if unknown else ""
            raise TimelineError(f"{where}: expected exactly one of {', '.join(_KINDS)}{extra}")
        body = obj[kinds[0]]
        if not isinstance(body, dict):
            raise TimelineError(f"{where}: {kinds[0]!r} must be an object")
        _check(kinds[0], body, where)
        entries.append(Entry(at, kinds[0], body, number))
    entries.sort(key=lambda e: e.at)  # stable: same-instant entries keep file order
    return entries


class SimulatedRunner:
    """A trigger runner for every job type that runs nothing: jobs end by the virtual clock.

    Args:
        clock: the simulation's clock.
        default: the behaviour of pipelines the timeline says nothing about.

    Attributes:
        behaviours: pipeline id → its jobs' behaviour (set by ``jobs`` timeline entries).
        started: run ids started, in order.
    """

    def __init__(self, clock: Clock, default: JobBehaviour) -> None:
        self.clock = clock
        self.default = default
        self.behaviours: dict[str, JobBehaviour] = {}
        self.started: list[str] = []

    def __repr__(self) -> str:
        return f"<SimulatedRunner {len(self.started)} started>"

    def start(self, job_config: Any, *, pipeline_id: str, period: Period, run_id: str) -> RunHandle:
        """Start a pretend job; raises for the ``trigger-*`` outcomes."""
        del job_config, period
        behaviour = self.behaviours.get(pipeline_id, self.default)
        if behaviour.outcome == "trigger-error":
            raise TriggerError(
                "simulated: the job service is unavailable", failure=FailureClass.TRANSIENT
            )
        if behaviour.outcome == "trigger-refused":
            raise TriggerError(
                "simulated: the job service refused the request (HTTP 400)",
                failure=FailureClass.PERMANENT,
            )
        self.started.append(run_id)
        ends = self.clock.now() + behaviour.duration
        return RunHandle(run_id, {"endsAt": keys.format_time(ends), "outcome": behaviour.outcome})

    def status(self, job_config: Any, handle: RunHandle) -> JobStatus:
        """Running until ``endsAt``, then the outcome chosen at start."""
        del job_config
        ends = keys.parse_time(str(handle.metadata["endsAt"]))
        if self.clock.now() < ends:
            return JobStatus("running")
        outcome = handle.metadata.get("outcome")
        if outcome == "fail":
            return JobStatus("failed", FailureClass.TRANSIENT, "simulated job failure")
        if outcome == "fail-permanent":
            return JobStatus("failed", FailureClass.PERMANENT, "simulated job failure (code error)")
        return JobStatus("succeeded", message="simulated job succeeded")


@dataclass
class SimulationResult:
    """What a simulation published.

    Attributes:
        events: every event, in time order.
        ticks: runtime ticks taken.
        jobs_started: simulated jobs started.
    """

    events: list[Event] = field(default_factory=list)
    ticks: int = 0
    jobs_started: int = 0


def simulate(
    project: Project,
    entries: Iterable[Entry],
    *,
    start: datetime,
    end: datetime,
    job: JobBehaviour | None = None,
    workdir: Path | None = None,
    store_url: str | None = None,
) -> SimulationResult:
    """Replay ``entries`` against ``project`` on a virtual clock from ``start`` to ``end``.

    Args:
        project: the pipelines and calendars.
        entries: the timeline (entries outside ``[start, end]`` are refused).
        start: the simulation's first instant.
        end: its last instant.
        job: the default job behaviour.
        workdir: where the temporary store goes (default: a new temporary directory).
        store_url: simulate into this store instead, and keep it (to look at the board it leaves).

    Returns:
        The events published, in order.

    Raises:
        TimelineError: ``end`` is not after ``start``, or an entry lies outside the range or names
            an unknown pipeline.
    """
    from interlock.local.runtime import EmbeddedRuntime
    from interlock.service.operator import Operator
    from interlock.store.factory import open_store

    if end <= start:
        raise TimelineError(f"--end {end.isoformat()} must be after --start {start.isoformat()}")
    if end - start > MAX_SIMULATED_SPAN:
        raise TimelineError(
            f"--start {start.isoformat()} to --end {end.isoformat()} spans {(end - start).days} days: "
            f"a simulation covers at most {MAX_SIMULATED_SPAN.days} days (split it into several)"
        )
    ordered = list(entries)
    for entry in ordered:
        if not start <= entry.at <= end:
            raise TimelineError(
                f"line {entry.line}: {entry.at.isoformat()} is outside --start/--end"
            )
        pid = str(entry.body.get("pipeline"))
        if pid not in project.pipelines:
            known = ", ".join(sorted(project.pipelines)) or "none"
            raise TimelineError(f"line {entry.line}: unknown pipeline {pid!r} (known: {known})")
    clock = VirtualClock(start)
    runner = SimulatedRunner(clock, job or JobBehaviour())
    result = SimulationResult()
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        url = store_url or f"sqlite:///{Path(tmp) / 'simulation.db'}"
        with open_store(url, now=lambda: clock.now().timestamp()) as store:
            for config in project.pipelines.values():
                store.control.put_config(config, now=start)
            runtime = EmbeddedRuntime.build(
                store,
                clock=clock,
                triggers=lambda _type: runner,
                notifier=result.events.append,
                calendars=project.calendars,
            )
            bus = runtime.executor.bus
            for entry in ordered:
                result.ticks += len(runtime.run_until(entry.at))
                actor = entry.body.get("by")
                operator = Operator(
                    store,
                    bus=bus,
                    clock=clock,
                    actor=actor if isinstance(actor, str) else "simulation",
                )
                apply_entry(entry, store=store, runner=runner, operator=operator, clock=clock)
            result.ticks += len(runtime.run_until(end))
    result.jobs_started = len(runner.started)
    return result


def apply_entry(
    entry: Entry, *, store: Store, runner: SimulatedRunner, operator: Operator, clock: Clock
) -> None:
    """Apply one timeline entry at ``clock.now()`` (a sensor write, job behaviour, operator action)."""
    body = entry.body
    pid = str(body["pipeline"])
    now = clock.now()
    if entry.kind == "sensor":
        store.control.put_sensor(pid, str(body["key"]), dict(body.get("data") or {}), now=now)
    elif entry.kind == "jobs":
        _, behaviour = _behaviour(body, f"line {entry.line}", runner.default)
        runner.behaviours[pid] = behaviour
    elif entry.kind == "rerun":
        operator.rerun(pid, period=str(body["date"]), reason=str(body.get("reason") or "manual"))
    elif entry.kind == "ack":
        until = body.get("until")
        operator.ack(
            pid,
            period=str(body["date"]),
            reason=str(body["reason"]),
            until=keys.parse_time(until) if isinstance(until, str) else None,
        )
    elif entry.kind == "dryRun":
        operator.dry_run(pid, bool(body["on"]), reason=str(body.get("reason") or "simulation"))
