"""The control table: configs, sensors, run rows, rerun requests, dry-run markers, overrides and acks.

Every method is one or two :class:`~interlock.store.table.Table` calls; keys come from
:mod:`interlock.store.keys`. Writes that start something are conditional, so a duplicate delivery or a
race cannot start a run twice.

The run row (``TRIGGER#<schedule>#<period>``)
---------------------------------------------
One row per run identity: it is the lock that lets exactly one writer start the run, and the run's
state afterwards::

    acquire_run (absent → put)          reset_run (exists → update, attempt+1)
          │                                   │
          ▼                                   ▼
       RUNNING ──────────── set_run_status ──────────▶ COMPLETED | FAILED_FINAL
       lockExpiresAt = t0 + lock_ttl                    no ttl, no index keys: kept forever,
       ttl           = lockExpiresAt + stale_grace     so an expired lock can never let the
       GSI1 = RUNNING / <pid>#<schedule>#<period>       watchdog start the period again
          │
          ├─ now > lockExpiresAt: *stale* (RunRow.is_stale): the watchdog reports SFN_TIMEOUT and sets
          │  FAILED_FINAL; running_runs() still lists the row, because the table hides items past ``ttl``
          └─ now ≥ ttl (watchdog down for stale_grace): the row is gone and acquire_run succeeds again,
             which is what the original's TTL deletion did

``set_run_status`` is conditional on the row existing (the original's was an upsert, so a late
CompleteTrigger could resurrect a released row, reference §13 item 14); pass ``attempt=`` to refuse a
status from an execution that a rerun has already superseded. ``running_runs`` reads the sparse
``RUNNING`` index partition, never a Scan.

Configs are indexed the same way (GSI1 ``CONFIGS`` / ``<pid>``), and one undecodable or invalid CONFIG
row is reported in :attr:`ConfigSet.invalid` while the others load (the original failed them all).

The watch row (``WATCH``)
-------------------------
The watchdog's due index: one row per pipeline, in GSI1 partition ``WATCH`` sorted by ``<dueAt>#<pid>``,
so a pass reads the pipelines due by ``now`` with one range Query (:meth:`due_watches`) and an idle
pipeline costs nothing. Two kinds of writer, one rule (a mark is never lost)::

    mark: watch(pid, at)              unconditional put, dueAt = at (≤ now): "read me next pass".
                                      put_config and the executor (a run completed, a first sensor
                                      arrived, an override changed) mark *before* they write the row
                                      that moved the due time, so a crash in between costs a wasted
                                      read, never a missed check.
    pass: advance_watch(pid, due, seen)
                                      dueAt = the next due the pass computed, only if dueAt is still
                                      the ``seen`` value it read; a mark written meanwhile wins and
                                      the pipeline is read again on the next pass.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

from interlock.exceptions import ConfigError, Problem
from interlock.records import (
    Ack,
    ConfigSet,
    DryRunMarker,
    Override,
    RerunRequest,
    RunRow,
    RunStatus,
    SensorRecord,
    parse_instant,
    time_attr,
)
from interlock.store import keys
from interlock.store.board import BoardReads, BoardRows, _ack, _override
from interlock.store.codec import normalize
from interlock.store.table import (
    ConflictError,
    StoreError,
    absent,
    begins_with,
    between,
    equals,
    exists,
    query_all,
    sk_eq,
    sk_gt,
)
from interlock.store.watch import WatchRows

if TYPE_CHECKING:
    from interlock.config.models import PipelineConfig
    from interlock.store.table import Condition, Item, Table

__all__ = [
    "DRY_RUN_MARKER_TTL",
    "BoardReads",
    "ControlStore",
    "InvalidConfigError",
]

DRY_RUN_MARKER_TTL: Final = timedelta(days=7)
"""How long a dry-run marker lives (the original's 7 days)."""
_ACK_RETENTION: Final = timedelta(days=30)  # an expired ack stays readable for audit, then goes

_GSI1PK, _GSI1SK = "GSI1PK", "GSI1SK"


class InvalidConfigError(StoreError):
    """A stored CONFIG row cannot be used: it is not JSON, or it fails validation.

    Attributes:
        pipeline_id: the pipeline whose row it is.
        problems: what is wrong, as the loader reports it.
    """

    def __init__(self, pipeline_id: str, problems: list[Problem]) -> None:
        self.pipeline_id = pipeline_id
        self.problems = problems
        super().__init__(f"stored config of {pipeline_id!r} is invalid: {self.reason}")

    @property
    def reason(self) -> str:
        """Every problem on one line: ``key: message; key: message``."""
        return "; ".join(f"{p.key}: {p.message}" for p in self.problems) or "invalid"


# ------------------------------------------------------------------------------------------- store


class ControlStore(WatchRows, BoardRows):
    """Domain operations on the control table.

    Args:
        table: the control table (spec :data:`interlock.store.specs.CONTROL`, with GSI1).
        stale_grace: how long a RUNNING row outlives its lock expiry before the table drops it, so the
            watchdog can see stale runs (see the module docstring). ``timedelta(0)`` gives the original's
            behaviour (the row vanishes when the lock expires).
    """

    def __init__(self, table: Table, *, stale_grace: timedelta = timedelta(days=1)) -> None:
        if stale_grace < timedelta(0):
            raise ValueError("stale_grace must not be negative")
        self.table = table
        self.stale_grace = stale_grace

    def __repr__(self) -> str:
        return f"<ControlStore {self.table.spec.name}>"

    # ------------------------------------------------------------------------------------ configs

    def put_config(self, config: PipelineConfig, *, now: datetime) -> None:
        """Store (or replace) a pipeline's config as a JSON string, indexed for :meth:`all_configs`.

        Args:
            config: the validated config; its ``pipeline.id`` is the key.
            now: the write time (``updatedAt``; also ``createdAt`` the first time).

        Pushing an unchanged config writes nothing (no change-feed record), except a watch row the
        pipeline lacks (a store written before watch rows existed: one push indexes every pipeline
        at once instead of waiting for the watchdog's sweep); ``createdAt`` survives changes, so the
        watchdog knows since when a pipeline has been watched.
        """
        pid = config.id
        dumped = config.model_dump(mode="json", exclude_unset=False)
        text = json.dumps(dumped, sort_keys=True, separators=(",", ":"))
        existing = self.table.get(keys.pipeline_pk(pid), keys.CONFIG_SK)
        if existing is not None and existing.get("config") == text:
            if self.get_watch(pid) is None:
                self.watch(pid, now)
            return
        created = existing.get("createdAt") if existing is not None else None
        self.watch(pid, now)  # a new or changed config: the watchdog reads it on its next pass
        self.table.put(
            {
                "PK": keys.pipeline_pk(pid),
                "SK": keys.CONFIG_SK,
                "config": text,
                "updatedAt": keys.format_time(now),
                "createdAt": created if isinstance(created, str) else keys.format_time(now),
                _GSI1PK: keys.CONFIG_INDEX_PK,
                _GSI1SK: pid,
            }
        )

    def get_config(self, pid: str) -> PipelineConfig | None:
        """The validated config of one pipeline, or ``None`` if none is stored.

        Raises:
            InvalidConfigError: the stored row is not JSON, fails validation, or names another pipeline.
        """
        item = self.table.get(keys.pipeline_pk(pid), keys.CONFIG_SK)
        return None if item is None else _decode_config(pid, item)

    def all_configs(self) -> ConfigSet:
        """Every stored config, from one index query (never a Scan).

        A row that cannot be decoded or validated is skipped and reported in ``invalid``; it never keeps
        the others from loading.
        """
        out = ConfigSet()
        for item in query_all(self.table, keys.CONFIG_INDEX_PK, index=keys.INDEX):
            _collect_config(out, _indexed_pid(item), item)
        return out

    def get_config_created(self, pid: str) -> tuple[PipelineConfig | None, datetime | None]:
        """:meth:`get_config` and :meth:`config_created` from one read.

        Raises:
            InvalidConfigError: the stored row is not JSON, fails validation, or names another pipeline.
        """
        item = self.table.get(keys.pipeline_pk(pid), keys.CONFIG_SK)
        if item is None:
            return None, None
        return _decode_config(pid, item), time_attr(item, "createdAt")

    def configs_of(self, pids: Iterable[str]) -> ConfigSet:
        """The configs of ``pids`` in one bulk read (:meth:`~interlock.store.table.Table.query_partitions`).

        A pipeline without a CONFIG row is in neither ``configs`` nor ``invalid``.
        """
        out = ConfigSet()
        pks = {keys.pipeline_pk(pid): pid for pid in pids}
        if not pks:
            return out
        rows = self.table.query_partitions(dict.fromkeys(pks, sk_eq(keys.CONFIG_SK)))
        for pk, items in rows.items():
            for item in items:
                _collect_config(out, pks[pk], item)
        return out

    def config_created(self, pid: str) -> datetime | None:
        """When the pipeline's config was first stored (``None``: no config, or a row without it)."""
        item = self.table.get(keys.pipeline_pk(pid), keys.CONFIG_SK)
        return None if item is None else time_attr(item, "createdAt")

    def delete_config(self, pid: str) -> bool:
        """Remove a pipeline's config; returns whether there was one."""
        return self.table.delete(keys.pipeline_pk(pid), keys.CONFIG_SK) is not None

    def configs_page(self, after: str | None, limit: int) -> tuple[ConfigSet, str | None]:
        """Up to ``limit`` configs in pipeline-id order after ``after``, from the config index.

        Returns:
            The configs, and the last pipeline id read (``None``: the index has no more).
        """
        page = self.table.query(
            keys.CONFIG_INDEX_PK,
            None if after is None else sk_gt(after),
            index=keys.INDEX,
            limit=limit,
        )
        out = ConfigSet()
        last: str | None = None
        for item in page.items:
            last = _indexed_pid(item)
            _collect_config(out, last, item)
        return out, (last if page.cursor is not None else None)

    # ------------------------------------------------------------------------------------ sensors

    def put_sensor(
        self,
        pid: str,
        key: str,
        fields: Mapping[str, Any],
        *,
        now: datetime,
        ttl: datetime | None = None,
        condition: Condition | None = None,
    ) -> dict[str, Any]:
        """Write a sensor in the ``data``-map form producers use, replacing any previous value.

        Args:
            pid: the pipeline.
            key: the sensor key (no ``#``), or a :func:`keys.bookkeeping_key`.
            fields: the sensor's fields.
            now: the write time, stored as top-level ``updatedAt`` (metadata, not a field).
            ttl: when the sensor expires, if it should.
            condition: a write condition (e.g. ``absent()`` for a once-only bookkeeping row).

        Returns:
            The fields as stored (numbers as the store keeps them).

        Raises:
            ValueError: a bad key, or a value the store cannot hold.
            ConflictError: ``condition`` did not hold.
        """
        data = normalize(dict(fields))
        item: Item = {
            "PK": keys.pipeline_pk(pid),
            "SK": keys.sensor_sk(key),
            "data": data,
            "updatedAt": keys.format_time(now),
        }
        if ttl is not None:
            item["ttl"] = keys.epoch_seconds(ttl)
        self.table.put(item, condition=condition)
        return dict(data)

    def get_sensor(self, pid: str, key: str) -> SensorRecord | None:
        """One sensor, or ``None`` if absent (or expired)."""
        item = self.table.get(keys.pipeline_pk(pid), keys.sensor_sk(key))
        return None if item is None else SensorRecord.from_item(item)

    def sensors(self, pid: str) -> dict[str, SensorRecord]:
        """Every sensor of a pipeline by key, bookkeeping rows included (the lifecycle decides)."""
        out: dict[str, SensorRecord] = {}
        for item in query_all(self.table, keys.pipeline_pk(pid), begins_with(keys.SENSOR_PREFIX)):
            record = SensorRecord.from_item(item)
            out[record.key] = record
        return out

    def delete_sensor(self, pid: str, key: str) -> bool:
        """Remove a sensor (e.g. a post-run baseline on an accepted rerun); returns whether it existed."""
        return self.table.delete(keys.pipeline_pk(pid), keys.sensor_sk(key)) is not None

    # --------------------------------------------------------------------------------------- runs

    def _lock_attrs(
        self, pid: str, schedule: str, period: str, now: datetime, lock_ttl: timedelta
    ) -> Item:
        if lock_ttl <= timedelta(0):
            raise ValueError(f"lock_ttl must be positive, got {lock_ttl}")
        lock_expires = now + lock_ttl
        return {
            "status": RunStatus.RUNNING.value,
            "startedAt": keys.format_time(now),
            "updatedAt": keys.format_time(now),
            "lockExpiresAt": keys.epoch_seconds(lock_expires),
            "ttl": keys.epoch_seconds(lock_expires + self.stale_grace),
            _GSI1PK: keys.RUNNING_INDEX_PK,
            _GSI1SK: keys.running_index_sk(pid, schedule, period),
        }

    def acquire_run(
        self,
        pid: str,
        schedule: str,
        period: str,
        *,
        now: datetime,
        lock_ttl: timedelta,
        record: str | None = None,
    ) -> bool:
        """Start a run: create its RUNNING row iff there is none.

        Args:
            pid: the pipeline.
            schedule: ``cron`` or ``stream``.
            period: the run's period.
            now: the start time.
            lock_ttl: how long the run may stay RUNNING before it counts as stale.
            record: the SequenceNumber of the stream record starting the run, kept as
                ``startRecord`` (see :attr:`~interlock.records.RunRow.start_record`).

        Returns:
            ``True`` if this call started the run; ``False`` if a row already exists (running or done).
        """
        item: Item = {
            "PK": keys.pipeline_pk(pid),
            "SK": keys.trigger_sk(schedule, period),
            "attempt": 1,
            **self._lock_attrs(pid, schedule, period, now, lock_ttl),
        }
        if record:
            item["startRecord"] = record
        try:
            self.table.put(item, condition=absent())
        except ConflictError:
            return False
        return True

    def reset_run(
        self, pid: str, schedule: str, period: str, *, now: datetime, lock_ttl: timedelta
    ) -> bool:
        """Restart an existing run (rerun or retry): back to RUNNING, fresh lock, ``attempt + 1``.

        Returns:
            ``True`` if reset; ``False`` if there is no row (a rerun cannot start a period that never ran).
        """
        try:
            self.table.update(
                keys.pipeline_pk(pid),
                keys.trigger_sk(schedule, period),
                set={**self._lock_attrs(pid, schedule, period, now, lock_ttl)},
                remove=("finishedAt", "startRecord"),  # a new attempt: no record started it
                add={"attempt": 1},
                condition=exists(),
            )
        except ConflictError:
            return False
        return True

    def set_run_status(
        self,
        pid: str,
        schedule: str,
        period: str,
        status: RunStatus | str,
        *,
        now: datetime,
        attempt: int | None = None,
    ) -> None:
        """Finish a run: set COMPLETED or FAILED_FINAL on its existing row.

        Terminal rows lose ``ttl``, their lock expiry and their index keys: they are kept forever and
        leave :meth:`running_runs`.

        Args:
            pid: the pipeline.
            schedule: the run's schedule.
            period: the run's period.
            status: COMPLETED or FAILED_FINAL (use :meth:`acquire_run`/:meth:`reset_run` to run again).
            now: the time of the change.
            attempt: if given, only change the row while it is still this attempt, so an execution a
                rerun has superseded cannot overwrite the rerun's state.

        Raises:
            ConflictError: there is no such row (this is not an upsert), or it is another attempt.
            ValueError: ``status`` is RUNNING or unknown.
        """
        run_status = RunStatus(status)
        if not run_status.terminal:
            raise ValueError("set_run_status sets a terminal status; use acquire_run or reset_run")
        condition: Condition = exists() if attempt is None else equals("attempt", attempt)
        self.table.update(
            keys.pipeline_pk(pid),
            keys.trigger_sk(schedule, period),
            set={
                "status": run_status.value,
                "updatedAt": keys.format_time(now),
                "finishedAt": keys.format_time(now),
            },
            remove=("ttl", "lockExpiresAt", _GSI1PK, _GSI1SK),
            condition=condition,
        )

    def create_run_if_absent(
        self, pid: str, schedule: str, period: str, status: RunStatus | str, *, now: datetime
    ) -> bool:
        """Record a terminal state for a period that never started (the watchdog's trigger deadline).

        Returns:
            ``True`` if created; ``False`` if a row already exists.

        Raises:
            ValueError: ``status`` is RUNNING or unknown (RUNNING rows need a lock: :meth:`acquire_run`).
        """
        run_status = RunStatus(status)
        if not run_status.terminal:
            raise ValueError("create_run_if_absent records a terminal status; use acquire_run")
        item: Item = {
            "PK": keys.pipeline_pk(pid),
            "SK": keys.trigger_sk(schedule, period),
            "status": run_status.value,
            "attempt": 0,
            "updatedAt": keys.format_time(now),
            "finishedAt": keys.format_time(now),
        }
        try:
            self.table.put(item, condition=absent())
        except ConflictError:
            return False
        return True

    def release_run(self, pid: str, schedule: str, period: str) -> bool:
        """Delete a run row (a start that failed, so the period can start again); returns whether it existed."""
        return (
            self.table.delete(keys.pipeline_pk(pid), keys.trigger_sk(schedule, period)) is not None
        )

    def get_run(self, pid: str, schedule: str, period: str) -> RunRow | None:
        """One run's row, or ``None``."""
        item = self.table.get(keys.pipeline_pk(pid), keys.trigger_sk(schedule, period))
        return None if item is None else RunRow.from_item(item)

    def has_run(self, pid: str, schedule: str, period_prefix: str) -> bool:
        """Whether any run row exists whose period starts with ``period_prefix``.

        A day (``2026-03-02``) also matches that day's hourly runs, as the watchdog's missed-schedule
        check wants.
        """
        page = self.table.query(
            keys.pipeline_pk(pid),
            begins_with(keys.trigger_prefix(schedule, period_prefix)),
            limit=1,
        )
        return bool(page.items)

    def running_runs(self) -> list[RunRow]:
        """Every RUNNING run of every pipeline (stale ones included), from the index: never a Scan."""
        rows = (
            RunRow.from_item(item)
            for item in query_all(self.table, keys.RUNNING_INDEX_PK, index=keys.INDEX)
        )
        return [row for row in rows if row.status is RunStatus.RUNNING]

    def runs(
        self, pid: str, schedule: str | None = None, *, since_period: str | None = None
    ) -> list[RunRow]:
        """A pipeline's run history, newest period first (both schedules unless one is named).

        Args:
            pid: the pipeline.
            schedule: one schedule's runs only.
            since_period: with ``schedule``, only periods at or after this one (``2026-03-02`` also
                keeps that day's hourly periods): a key-range Query, so the watchdog does not read a
                pipeline's whole history every pass.
        """
        prefix = keys.trigger_prefix(schedule) if schedule is not None else keys.TRIGGER_PREFIX
        condition = begins_with(prefix)
        if schedule is not None and since_period is not None:
            # "~" sorts after every period character: the range's end is past any period id
            condition = between(keys.trigger_prefix(schedule, since_period), prefix + "~")
        rows = [
            RunRow.from_item(item)
            for item in query_all(self.table, keys.pipeline_pk(pid), condition)
        ]
        rows.sort(key=lambda r: (r.period, r.schedule), reverse=True)
        return rows

    # ----------------------------------------------------------------------------- rerun requests

    def request_rerun(
        self, pid: str, schedule: str, period: str, *, reason: str, by: str, now: datetime
    ) -> None:
        """Ask for a rerun; the router decides (calendar, budget, circuit breaker) when the write streams.

        A new request replaces the previous one for the period, and each write is a new request.
        """
        if not reason:
            raise ValueError("a rerun request needs a reason (e.g. manual)")
        self.table.put(
            {
                "PK": keys.pipeline_pk(pid),
                "SK": keys.rerun_request_sk(schedule, period),
                "reason": reason,
                "by": by,
                "requestedAt": keys.format_time(now),
            }
        )

    def get_rerun_request(self, pid: str, schedule: str, period: str) -> RerunRequest | None:
        """The last rerun request for a period, or ``None``."""
        item = self.table.get(keys.pipeline_pk(pid), keys.rerun_request_sk(schedule, period))
        return None if item is None else RerunRequest.from_item(item)

    # ------------------------------------------------------------------------------------- claims

    def claim(self, pid: str, name: str, schedule: str, period: str, *, now: datetime) -> bool:
        """Claim ``name`` for a run's period, once (the "at most once per period" guarantee).

        Returns:
            ``True`` for the first claim; ``False`` if it was claimed before.
        """
        try:
            self.table.put(
                {
                    "PK": keys.pipeline_pk(pid),
                    "SK": keys.claim_sk(name, schedule, period),
                    "at": keys.format_time(now),
                },
                condition=absent(),
            )
        except ConflictError:
            return False
        return True

    def release_claim(self, pid: str, name: str, schedule: str, period: str) -> bool:
        """Give a claim back (what it guarded did not happen, so a retry may claim it again).

        Returns:
            Whether the claim existed.
        """
        return (
            self.table.delete(keys.pipeline_pk(pid), keys.claim_sk(name, schedule, period))
            is not None
        )

    def claimed_at(self, pid: str, name: str, schedule: str, period: str) -> datetime | None:
        """When ``name`` was claimed for the period (``None``: not claimed, or no readable time)."""
        item = self.table.get(keys.pipeline_pk(pid), keys.claim_sk(name, schedule, period))
        value = None if item is None else item.get("at")
        try:
            return keys.parse_time(value) if isinstance(value, str) else None
        except ValueError:
            return None

    def has_claim(self, pid: str, name: str, schedule: str, period: str) -> bool:
        """Whether ``name`` was claimed for the period."""
        return (
            self.table.get(keys.pipeline_pk(pid), keys.claim_sk(name, schedule, period)) is not None
        )

    # ---------------------------------------------------------------------------- dry-run markers

    def mark_dry_run(self, pid: str, schedule: str, period: str, *, now: datetime) -> bool:
        """Note that a dry-run period would have triggered now (kept 7 days).

        Returns:
            ``True`` the first time for the period; ``False`` if a marker exists (late data).
        """
        try:
            self.table.put(
                {
                    "PK": keys.pipeline_pk(pid),
                    "SK": keys.dry_run_sk(schedule, period),
                    "data": {"triggeredAt": keys.format_time(now)},
                    "ttl": keys.epoch_seconds(now + DRY_RUN_MARKER_TTL),
                },
                condition=absent(),
            )
        except ConflictError:
            return False
        return True

    def get_dry_run(self, pid: str, schedule: str, period: str) -> DryRunMarker | None:
        """The period's dry-run marker, or ``None``."""
        item = self.table.get(keys.pipeline_pk(pid), keys.dry_run_sk(schedule, period))
        if item is None:
            return None
        data = item.get("data")
        at = data.get("triggeredAt") if isinstance(data, Mapping) else None
        return DryRunMarker(triggered_at=parse_instant(at) if at is not None else None)

    # ---------------------------------------------------------------------------------- overrides

    def set_override(
        self, pid: str, name: str, value: Any, *, by: str, reason: str, now: datetime
    ) -> None:
        """Set an operator override (e.g. ``dry-run`` → ``True``), recording who, when and why."""
        self.table.put(
            {
                "PK": keys.pipeline_pk(pid),
                "SK": keys.override_sk(name),
                "name": name,
                "value": value,
                "by": by,
                "reason": reason,
                "at": keys.format_time(now),
            }
        )

    def clear_override(self, pid: str, name: str) -> bool:
        """Remove an override; returns whether it was set."""
        return self.table.delete(keys.pipeline_pk(pid), keys.override_sk(name)) is not None

    def get_override(self, pid: str, name: str) -> Override | None:
        """One override, or ``None``."""
        item = self.table.get(keys.pipeline_pk(pid), keys.override_sk(name))
        return None if item is None else _override(item)

    def overrides(self, pid: str) -> dict[str, Override]:
        """Every override of a pipeline, by name."""
        out: dict[str, Override] = {}
        for item in query_all(self.table, keys.pipeline_pk(pid), begins_with(keys.OVERRIDE_PREFIX)):
            override = _override(item)
            out[override.name] = override
        return out

    # --------------------------------------------------------------------------------------- acks

    def ack_sla(
        self,
        pid: str,
        schedule: str,
        period: str,
        *,
        by: str,
        reason: str,
        until: datetime | None,
        now: datetime,
    ) -> None:
        """Acknowledge a run's SLA alerts until ``until`` (``None``: for the rest of the run).

        Raises:
            ValueError: ``until`` is not after ``now``.
        """
        if until is not None and until <= now:
            raise ValueError(f"an acknowledgement must last: until {until} is not after now {now}")
        item: Item = {
            "PK": keys.pipeline_pk(pid),
            "SK": keys.ack_sk(schedule, period),
            "by": by,
            "reason": reason,
            "at": keys.format_time(now),
        }
        if until is not None:
            item["until"] = keys.format_time(until)
            item["ttl"] = keys.epoch_seconds(until + _ACK_RETENTION)
        self.table.put(item)

    def get_ack(self, pid: str, schedule: str, period: str, *, now: datetime) -> Ack | None:
        """The run's acknowledgement if it still holds at ``now``, else ``None``."""
        item = self.table.get(keys.pipeline_pk(pid), keys.ack_sk(schedule, period))
        if item is None:
            return None
        ack = _ack(pid, schedule, period, item, now)
        return ack if ack.active(now) else None


# --------------------------------------------------------------------------------------- helpers


def _indexed_pid(item: Mapping[str, Any]) -> str:
    """The pipeline id of a CONFIG row read through the config index."""
    pid = item.get(_GSI1SK)
    return pid if isinstance(pid, str) else str(item.get("PK", "?"))


def _collect_config(out: ConfigSet, pid: str, item: Mapping[str, Any]) -> None:
    """Add one CONFIG row to ``out``: its config and first-stored time, or why it cannot be used."""
    try:
        out.configs[pid] = _decode_config(pid, item)
    except InvalidConfigError as exc:
        out.invalid[pid] = exc.reason
        return
    created = time_attr(item, "createdAt")
    if created is not None:
        out.created[pid] = created


def _decode_config(pid: str, item: Mapping[str, Any]) -> PipelineConfig:
    raw = item.get("config")
    if isinstance(raw, str):
        return _decode_text(pid, raw)
    return _decode_data(pid, raw)


@lru_cache(maxsize=4096)
def _decode_text(pid: str, raw: str) -> PipelineConfig:
    """Validated configs are immutable, so one stored text is validated once per process (the
    TUI's board and the watchdog read every config every few seconds)."""
    return _decode_data(pid, raw)


def _decode_data(pid: str, raw: Any) -> PipelineConfig:
    if isinstance(raw, str):
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise InvalidConfigError(
                pid, [Problem(None, None, ("config",), f"not valid JSON: {exc}")]
            ) from None
    elif isinstance(raw, Mapping):  # tolerated: a map written by hand or another tool
        data = dict(raw)
    else:
        raise InvalidConfigError(
            pid,
            [
                Problem(
                    None, None, ("config",), f"expected a JSON string, found {type(raw).__name__}"
                )
            ],
        )
    # Imported here: the loader brings pydantic and PyYAML (~60 ms), paid by the first config read rather
    # than by every process that imports the store (the event sink never reads a config).
    from interlock.config.loader import validate_config_data

    try:
        config = validate_config_data(data)
    except ConfigError as exc:
        raise InvalidConfigError(pid, list(exc.problems)) from None
    if config.id != pid:
        raise InvalidConfigError(
            pid,
            [
                Problem(
                    None,
                    None,
                    ("pipeline", "id"),
                    f"the row of pipeline {pid!r} holds pipeline.id {config.id!r}",
                )
            ],
        )
    return config
