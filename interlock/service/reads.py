"""Read what the watchdog decides from: index queries and per-pipeline queries, never a Scan.

:func:`trigger_facts` is the read half of a trigger-sensor write (the pure half is
:func:`interlock.lifecycle.trigger.decide_trigger_write`): the dry-run state, then, for the write's
period, the run row and, only when a run exists, its latest job-log row, its post-run baseline and the
pipeline's sensors.

The read half of the watchdog (the pure half is :mod:`interlock.lifecycle.watchdog`)::

    read                                         control method                    query
    -------------------------------------------  --------------------------------  -------------------------
    every config (invalid rows reported)         all_configs()                     GSI1 CONFIGS
    per pipeline: the dry-run override           get_override(pid, "dry-run")      GetItem
    every RUNNING row (stale check)              running_runs()                    GSI1 RUNNING
    per live pipeline: its run rows              runs(pid, schedule)               PK, SK begins_with TRIGGER#
    per live pipeline: sensors + bookkeeping     sensors(pid)                      PK, SK begins_with SENSOR#
    per first-arrival period: the SLA ack        get_ack(pid, schedule, period)    GetItem

:func:`gather` reads every pipeline; a watchdog pass calls :func:`gather_watch`, which reads only the
pipelines due in the watch index (:mod:`interlock.store.control`, watch rows) and, every
``sweep_every``, sweeps them all through :func:`gather`.

Dry-run pipelines (``dryRun``, or the operator's override, which wins) are listed with ``dry_run=True``
and nothing else is read for them (the scan skips them). A failed read
(:class:`~interlock.store.table.StoreError`) is recorded in ``errors`` and the other pipelines are still
read: the scan turns ``errors`` into one WATCHDOG_DEGRADED, so a broken read is reported, never silent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from interlock.exceptions import ScheduleError
from interlock.lifecycle.operator import effective_dry_run
from interlock.lifecycle.run import remap_for_period
from interlock.lifecycle.trigger import TriggerFacts
from interlock.lifecycle.watchdog import DEFAULT_LOOKBACK, PipelineInputs, WatchdogInputs
from interlock.records import DRY_RUN_OVERRIDE, ConfigSet
from interlock.schedule import Period, period_from_sensor
from interlock.store import keys
from interlock.store.table import StoreError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from interlock.config.models import PipelineConfig
    from interlock.lifecycle.reruns import RerunFacts
    from interlock.lifecycle.router import SensorWrite
    from interlock.records import Override
    from interlock.store.control import BoardReads, ControlStore
    from interlock.store.factory import Store

__all__ = [
    "DUE_BATCH",
    "SWEEP_BATCH",
    "WatchPass",
    "dry_run_now",
    "dry_run_state",
    "gather",
    "gather_watch",
    "rerun_facts",
    "trigger_facts",
]

SWEEP_BATCH: Final = 500
"""How many configs one watchdog pass sweeps (a chunk of the config index; the rest next pass):
10,000 pipelines are 20 passes, 100 minutes at the default 5-minute cadence, well inside the
6-hour sweep period, and a chunk pass stays around a second on a busy 2-core machine."""

DUE_BATCH: Final = 1000
"""How many due pipelines one watchdog pass reads at most (the longest due first)."""

# Periods are local days; a day of margin covers every time zone's offset from the lookback's start.
_MARGIN = timedelta(days=1)


def _pipeline(
    control: ControlStore,
    config: PipelineConfig,
    *,
    now: datetime,
    oldest: str,
    created: datetime | None,
    live_since: datetime | None = None,
) -> PipelineInputs:
    pid, schedule = config.id, config.schedule_id
    # Only the periods the checks can ask about: a key-range Query from the oldest one.
    runs = {r.period: r for r in control.runs(pid, schedule, since_period=oldest)}
    sensors = control.sensors(pid)
    acked: set[str] = set()
    if config.sla is not None and config.sla.maxDuration is not None:
        for key in sensors:
            parsed = keys.parse_bookkeeping_key(key)
            if parsed is None or parsed[0] != keys.FIRST_SENSOR_ARRIVAL or parsed[1] < oldest:
                continue
            if control.get_ack(pid, schedule, parsed[1], now=now) is not None:
                acked.add(parsed[1])
    return PipelineInputs(
        config=config,
        runs=runs,
        sensors=sensors,
        acked=frozenset(acked),
        config_updated_at=created,
        dry_run=False,
        live_since=live_since,
    )


def dry_run_now(control: ControlStore, config: PipelineConfig) -> bool:
    """Whether ``config``'s pipeline is in dry run now: the one read-and-decide every service uses.

    Reads the operator's ``dry-run`` override (one GetItem) and asks
    :func:`~interlock.lifecycle.operator.effective_dry_run` (the override wins; an odd value counts as
    dry run).

    Raises:
        StoreError: the override could not be read.
    """
    return dry_run_state(control, config)[0]


def dry_run_state(control: ControlStore, config: PipelineConfig) -> tuple[bool, Override | None]:
    """:func:`dry_run_now`, with the override row it read (``None``: there is none).

    Raises:
        StoreError: the override could not be read.
    """
    override = control.get_override(config.id, DRY_RUN_OVERRIDE)
    return effective_dry_run(config, None if override is None else override.value), override


def gather(
    store: Store, *, now: datetime, lookback: timedelta = DEFAULT_LOOKBACK
) -> WatchdogInputs:
    """Read the watchdog's inputs through ``store.control`` (see the module docstring).

    Args:
        store: the store.
        now: the instant of the scan, timezone-aware (acks are checked at it).
        lookback: how far back the scan looks; run rows of older days are dropped.

    Returns:
        The inputs for :func:`interlock.lifecycle.watchdog.scan`.
    """
    return _gather_all(store, now=now, lookback=lookback)[0]


def _gather_all(
    store: Store, *, now: datetime, lookback: timedelta
) -> tuple[WatchdogInputs, set[str]]:
    """:func:`gather`, and the pipelines that could not be used (invalid config, failed read)."""
    control = store.control
    errors: list[str] = []
    unusable: set[str] = set()
    oldest = Period((now - lookback - _MARGIN).date()).id
    try:
        config_set = control.all_configs()
        configs = config_set.configs
        created = config_set.created
        errors += [f"config {pid}: {why}" for pid, why in sorted(config_set.invalid.items())]
        unusable.update(config_set.invalid)
    except StoreError as exc:
        errors.append(f"configs: {exc}")
        configs, created = {}, {}
    try:
        running = tuple(control.running_runs())
    except StoreError as exc:
        errors.append(f"running runs: {exc}")
        running = ()
    pipelines = _read_many(control, configs, created, now=now, oldest=oldest, errors=errors)
    unusable.update(set(configs) - {p.config.id for p in pipelines})
    inputs = WatchdogInputs(
        pipelines=tuple(pipelines), running=running, errors=tuple(errors), lookback=lookback
    )
    return inputs, unusable


def _read_many(
    control: ControlStore,
    configs: Mapping[str, PipelineConfig],
    created: Mapping[str, datetime],
    *,
    now: datetime,
    oldest: str,
    errors: list[str],
) -> list[PipelineInputs]:
    """Every pipeline's inputs from a few bulk reads (:meth:`ControlStore.board_reads`), whatever
    their number; if the bulk read fails, pipeline by pipeline, so one unreadable partition is
    reported (in ``errors``) while the others are still watched."""
    if not configs:
        return []
    try:
        bulk = control.board_reads(
            {pid: c.schedule_id for pid, c in configs.items()}, since_period=oldest, now=now
        )
    except (StoreError, ValueError):
        out: list[PipelineInputs] = []
        for pid, config in sorted(configs.items()):
            try:
                out.append(_read(control, config, now=now, oldest=oldest, created=created.get(pid)))
            except (StoreError, ValueError) as exc:  # ValueError: an unreadable row
                errors.append(f"read {pid}: {exc}")
        return out
    return [
        _inputs(config, bulk, created=created.get(pid), oldest=oldest)
        for pid, config in sorted(configs.items())
    ]


def _inputs(
    config: PipelineConfig, bulk: BoardReads, *, created: datetime | None, oldest: str
) -> PipelineInputs:
    pid = config.id
    override = bulk.overrides.get(pid, {}).get(DRY_RUN_OVERRIDE)
    if effective_dry_run(config, None if override is None else override.value):
        return PipelineInputs(config=config, dry_run=True)
    sensors = bulk.sensors.get(pid, {})
    acks = bulk.acks.get(pid, {})
    acked: set[str] = set()
    if config.sla is not None and config.sla.maxDuration is not None:
        for key in sensors:
            parsed = keys.parse_bookkeeping_key(key)
            if parsed is None or parsed[0] != keys.FIRST_SENSOR_ARRIVAL or parsed[1] < oldest:
                continue
            if parsed[1] in acks:
                acked.add(parsed[1])
    return PipelineInputs(
        config=config,
        runs={r.period: r for r in bulk.runs_of(pid)},
        sensors=sensors,
        acked=frozenset(acked),
        config_updated_at=created,
        dry_run=False,
        # switched out of dry run by an operator: see _read
        live_since=override.at if override is not None else None,
    )


def _read(
    control: ControlStore,
    config: PipelineConfig,
    *,
    now: datetime,
    oldest: str,
    created: datetime | None,
) -> PipelineInputs:
    dry_run, override = dry_run_state(control, config)
    if dry_run:
        return PipelineInputs(config=config, dry_run=True)
    # switched out of dry run by an operator: what was written before was observed in
    # dry run, not missed (trigger recovery must not start it; see PipelineInputs.live_since)
    live_since = override.at if override is not None else None
    return _pipeline(
        control, config, now=now, oldest=oldest, created=created, live_since=live_since
    )


@dataclass(frozen=True, slots=True)
class WatchPass:
    """What one watchdog pass read: the scan's inputs and the watch rows to move afterwards.

    Attributes:
        inputs: for :func:`interlock.lifecycle.watchdog.scan` (only the pipelines due, unless a sweep).
        seen: every pipeline read, with the ``dueAt`` its watch row had (``None``: no row); the pass
            moves each row on from this value (:meth:`ControlStore.advance_watch`).
        unusable: pipelines read whose config is invalid, or whose row could not be read: due again
            at the next hour (their error is in ``inputs.errors``).
        gone: pipelines with a watch row and no config: their row is dropped.
        sweep: whether this pass swept a chunk of the config index (the sweep row was due).
        sweep_resume: after a sweep chunk, the last pipeline id it read when the index has more
            (the next pass goes on from there); ``None`` when the sweep is complete.
    """

    inputs: WatchdogInputs
    seen: dict[str, str | None] = field(default_factory=dict)
    unusable: frozenset[str] = frozenset()
    gone: frozenset[str] = frozenset()
    sweep: bool = False
    sweep_resume: str | None = None


def gather_watch(
    store: Store,
    *,
    now: datetime,
    sweep_every: timedelta,
    sweep_batch: int = SWEEP_BATCH,
    due_batch: int = DUE_BATCH,
    lookback: timedelta = DEFAULT_LOOKBACK,
) -> WatchPass:
    """Read what one watchdog pass needs: only the pipelines due in the watch index.

    Every pass: the sweep row (GetItem), the due pipelines (one range Query on GSI1 ``WATCH``; at most
    ``due_batch``, the longest due first, the rest stay due for the next pass: a mass config push
    cannot make one pass outlast a Lambda's timeout and never move a row), the
    RUNNING rows (GSI1 ``RUNNING``); then what :func:`gather` reads, for the due pipelines only, in a
    few bulk reads. An idle pipeline costs nothing.

    When the sweep row is due (absent on a new store; then every ``sweep_every``), the pass also
    sweeps the next ``sweep_batch`` configs of the config index (from where the sweep row says the
    last pass stopped): a sweep reads every pipeline, a chunk a pass, so a pipeline whose change
    nothing marked (a stream record lost before the router saw it, a config row written behind the
    router's back) is seen within ``sweep_every`` plus the chunks, and no pass has to read all of
    10,000 pipelines within a Lambda's timeout.

    Raises:
        StoreError: the sweep row or the index could not be read (nothing else was read).
    """
    control = store.control
    sweep_at, after = control.sweep_state()
    sweeping = sweep_at is None or sweep_at <= now
    due = control.due_watches(now, limit=due_batch)
    errors: list[str] = []
    try:
        running = tuple(control.running_runs())
    except StoreError as exc:
        errors.append(f"running runs: {exc}")
        running = ()
    configs = ConfigSet()
    seen: dict[str, str | None] = dict(due)
    unusable: set[str] = set()
    resume: str | None = None
    swept = False
    if sweeping:
        try:
            configs, resume = control.configs_page(after, sweep_batch)
            page = set(configs.configs) | set(configs.invalid)
            rows = control.watches_of(page - set(due))
        except (StoreError, ValueError) as exc:  # the sweep stays due: tried again next pass
            errors.append(f"sweep: {exc}")
            configs, resume = ConfigSet(), after
        else:
            seen.update({pid: rows.get(pid) for pid in page if pid not in due})
            swept = True
    rest = [pid for pid in due if pid not in configs.configs and pid not in configs.invalid]
    try:
        more = control.configs_of(rest) if rest else ConfigSet()
    except (StoreError, ValueError) as exc:  # the rows stay due: read again next pass
        errors.append(f"configs: {exc}")
        unusable.update(rest)
        more = ConfigSet()
    configs.configs.update(more.configs)
    configs.invalid.update(more.invalid)
    configs.created.update(more.created)
    errors += [f"config {pid}: {why}" for pid, why in sorted(configs.invalid.items())]
    unusable.update(configs.invalid)
    gone = {pid for pid in rest if pid not in more.configs and pid not in unusable}
    oldest = Period((now - lookback - _MARGIN).date()).id
    pipelines = _read_many(
        control, configs.configs, configs.created, now=now, oldest=oldest, errors=errors
    )
    unusable.update(set(configs.configs) - {p.config.id for p in pipelines})
    inputs = WatchdogInputs(
        pipelines=tuple(pipelines), running=running, errors=tuple(errors), lookback=lookback
    )
    return WatchPass(
        inputs,
        seen=seen,
        unusable=frozenset(unusable),
        gone=frozenset(gone),
        sweep=swept,
        sweep_resume=resume,
    )


def trigger_facts(
    store: Store, config: PipelineConfig, write: SensorWrite, *, now: datetime
) -> TriggerFacts:
    """Read what :func:`~interlock.lifecycle.trigger.decide_trigger_write` decides from.

    A write whose period cannot be read gets the dry-run state only (the decision ignores it).

    Raises:
        StoreError: a read failed.
    """
    control = store.control
    dry_run = dry_run_now(control, config)
    if dry_run:
        return TriggerFacts(dry_run=True)
    try:
        period = period_from_sensor(write.fields, now, config.schedule.timezone).id
    except ScheduleError:
        return TriggerFacts(dry_run=False)
    schedule = config.schedule_id
    row = control.get_run(config.id, schedule, period)
    if row is None:
        return TriggerFacts(dry_run=False)
    baseline = control.get_sensor(config.id, keys.bookkeeping_key(keys.POSTRUN_BASELINE, period))
    sensors = {k: r.fields for k, r in control.sensors(config.id).items()}
    return TriggerFacts(
        dry_run=False,
        run_row=row,
        latest_job=store.joblog.latest(config.id, schedule, period),
        baseline=None if baseline is None else baseline.fields,
        sensors=remap_for_period(sensors, period),
    )


def rerun_facts(
    store: Store,
    config: PipelineConfig,
    schedule: str,
    period: str,
    reason: str,
    *,
    requested_at: datetime | None = None,
) -> RerunFacts:
    """What :func:`~interlock.lifecycle.reruns.decide_rerun` reads for one request (the controller
    decides from it; :meth:`~interlock.service.operator.Operator.rerun_outlook` previews with it).

    The run row, the rerun rows counted against ``reason``'s budget, the latest job-log row and, only
    when there is one, whether a sensor was written after it (the circuit breaker).
    """
    from interlock.lifecycle.reruns import RerunFacts
    from interlock.records import budget_bucket

    pid = config.id
    latest = store.joblog.latest(pid, schedule, period)
    changed = False
    if latest is not None:
        changed = any(
            record.updated_at is not None and record.updated_at > latest.at
            for key, record in store.control.sensors(pid).items()
            if keys.parse_bookkeeping_key(key) is None
        )
    return RerunFacts(
        run_row=store.control.get_run(pid, schedule, period),
        used=store.reruns.count(pid, schedule, period, budget_bucket(reason)),
        latest_job=latest,
        sensors_changed=changed,
        requested_at=requested_at,
    )
