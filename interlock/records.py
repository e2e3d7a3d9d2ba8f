"""Domain records: what the store holds, as plain values the pure lifecycle can read.

The run row and its status, sensor records, rerun requests, dry-run markers, overrides, acks and the
config set (control table); job-log events and entries (joblog table); rerun reasons, budget buckets and
rerun entries (rerun table). Each record knows how to read itself from a stored item (``from_item``);
the store's domain objects (:mod:`interlock.store.control`, :mod:`~interlock.store.joblog`,
:mod:`~interlock.store.reruns`) write and query them. No driver, no table, no I/O library here: only
the key patterns of :mod:`interlock.store.keys` (pure text functions).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from interlock.rules import sensor_fields
from interlock.store import keys

if TYPE_CHECKING:
    from interlock.config.models import PipelineConfig

__all__ = [
    "DRY_RUN_OVERRIDE",
    "OUTCOME_EVENTS",
    "TERMINAL_EVENTS",
    "Ack",
    "ConfigSet",
    "DryRunMarker",
    "JobEntry",
    "JobEvent",
    "Override",
    "RerunEntry",
    "RerunReason",
    "RerunRequest",
    "RunRow",
    "RunStatus",
    "SensorRecord",
    "budget_bucket",
    "parse_instant",
    "time_attr",
]

DRY_RUN_OVERRIDE: Final = "dry-run"
"""The override that switches a pipeline into (``True``) or out of (``False``) dry run."""

# -------------------------------------------------------------------------------------- configs


@dataclass(frozen=True, slots=True)
class ConfigSet:
    """Every stored config, valid or not.

    Attributes:
        configs: valid configs by pipeline id.
        invalid: pipeline id → why its row was skipped (publish CONFIG_INVALID for each).
        created: pipeline id → when its config was first stored (when the row says).
    """

    configs: dict[str, PipelineConfig] = field(default_factory=dict)
    invalid: dict[str, str] = field(default_factory=dict)
    created: dict[str, datetime] = field(default_factory=dict)

    def __repr__(self) -> str:
        bad = (
            f", {len(self.invalid)} invalid ({', '.join(sorted(self.invalid))})"
            if self.invalid
            else ""
        )
        return f"<ConfigSet {len(self.configs)} valid{bad}>"


# ----------------------------------------------------------------------------------------- sensors

_DIGITS = re.compile(r"-?\d+(?:\.\d+)?")
_MILLIS_FROM: Final = 1e11  # as in rules: epoch values this large are milliseconds


def parse_instant(value: Any) -> datetime | None:
    """An RFC 3339 string (with offset) or epoch seconds/milliseconds as an instant; else ``None``."""
    number: float | None = None
    if isinstance(value, str):
        try:
            return keys.parse_time(value)
        except ValueError:
            pass
        if _DIGITS.fullmatch(value):
            number = float(value)
    elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        number = float(value)
    if number is None:
        return None
    try:
        if abs(number) >= _MILLIS_FROM:
            return datetime.fromtimestamp(number / 1000, UTC)
        return datetime.fromtimestamp(number, UTC)
    except (OverflowError, OSError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class SensorRecord:
    """One sensor as stored.

    Attributes:
        key: the sensor key (without ``SENSOR#``).
        fields: its fields, read alike from a ``data`` map or flat attributes (:func:`rules.sensor_fields`).
        updated_at: when it was written: the item's top-level ``updatedAt`` if present, else the
            ``updatedAt``/``updated_at`` field when it is RFC 3339 or epoch; ``None`` if unknown.
    """

    key: str
    fields: dict[str, Any]
    updated_at: datetime | None = None

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> SensorRecord:
        """Read a stored ``SENSOR#`` item (or a stream image of one).

        Raises:
            ValueError: the item's SK is not a sensor key.
        """
        key = keys.parse_sensor_sk(item["SK"])
        data = item.get("data")
        meta = item.get("updatedAt") if isinstance(data, Mapping) else None
        if isinstance(data, Mapping):
            # Beside a data map, top-level updatedAt is write metadata, not one of the producer's fields.
            fields = sensor_fields({k: v for k, v in item.items() if k != "updatedAt"})
        else:
            fields = sensor_fields(item)
        updated = parse_instant(meta) if meta is not None else None
        if updated is None:
            for name in ("updatedAt", "updated_at"):
                if name in fields:
                    updated = parse_instant(fields[name])
                    break
        return cls(key=key, fields=fields, updated_at=updated)


# -------------------------------------------------------------------------------------------- runs


class RunStatus(StrEnum):
    """The states a run row records."""

    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED_FINAL = "FAILED_FINAL"

    @property
    def terminal(self) -> bool:
        """Whether the run is over (the row then lives forever)."""
        return self is not RunStatus.RUNNING


def time_attr(item: Mapping[str, Any], name: str) -> datetime | None:
    value = item.get(name)
    return keys.parse_time(value) if isinstance(value, str) else None


def _str_attr(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name)
    return value if isinstance(value, str) and value else None


def _epoch_attr(item: Mapping[str, Any], name: str) -> datetime | None:
    value = item.get(name)
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return datetime.fromtimestamp(int(value), UTC)
    return None


@dataclass(frozen=True, slots=True)
class RunRow:
    """One run's lock and state.

    Attributes:
        pipeline_id: the pipeline.
        schedule: ``cron`` or ``stream``.
        period: ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH``.
        status: RUNNING, COMPLETED or FAILED_FINAL.
        attempt: 1 for the first start, +1 for every reset (rerun or retry); 0 on rows without one.
        started_at: when the current attempt started (``None`` on rows written by the original).
        updated_at: the last status change.
        finished_at: when a terminal status was set.
        lock_expires_at: RUNNING only: past this the run is stale (its execution is presumed lost).
        start_record: the SequenceNumber of the stream record whose handling acquired the run (a
            trigger-sensor write; ``None`` for cron, watchdog and the original's rows, and after a
            reset): only that record, redelivered, re-issues the start (see
            :func:`~interlock.lifecycle.trigger.decide_trigger_write`).
    """

    pipeline_id: str
    schedule: str
    period: str
    status: RunStatus
    attempt: int = 0
    started_at: datetime | None = None
    updated_at: datetime | None = None
    finished_at: datetime | None = None
    lock_expires_at: datetime | None = None
    start_record: str | None = None

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> RunRow:
        """Read a stored ``TRIGGER#`` item.

        Raises:
            ValueError: malformed keys or an unknown status.
        """
        schedule, period = keys.parse_trigger_sk(item["SK"])
        status = item.get("status")
        try:
            run_status = RunStatus(str(status))
        except ValueError:
            raise ValueError(
                f"run row {item['PK']} / {item['SK']} has unknown status {status!r}"
            ) from None
        attempt = item.get("attempt")
        # Rows written by the original carry only ttl: there it is the lock's expiry.
        lock = _epoch_attr(item, "lockExpiresAt") or (
            _epoch_attr(item, "ttl") if run_status is RunStatus.RUNNING else None
        )
        return cls(
            pipeline_id=keys.pipeline_id(item["PK"]),
            schedule=schedule,
            period=period,
            status=run_status,
            attempt=attempt if isinstance(attempt, int) and not isinstance(attempt, bool) else 0,
            started_at=time_attr(item, "startedAt"),
            updated_at=time_attr(item, "updatedAt"),
            finished_at=time_attr(item, "finishedAt"),
            lock_expires_at=lock,
            start_record=_str_attr(item, "startRecord"),
        )

    @property
    def terminal(self) -> bool:
        """Whether the run is over."""
        return self.status.terminal

    def is_stale(self, now: datetime) -> bool:
        """RUNNING past its lock expiry: its execution is presumed lost (the watchdog's SFN_TIMEOUT)."""
        return (
            self.status is RunStatus.RUNNING
            and self.lock_expires_at is not None
            and now > self.lock_expires_at
        )

    def __repr__(self) -> str:
        return (
            f"<RunRow {self.pipeline_id} {self.schedule} {self.period} {self.status.value}"
            f" attempt {self.attempt}>"
        )


# ---------------------------------------------------------------------------------- small records


@dataclass(frozen=True, slots=True)
class RerunRequest:
    """An operator's (or the controller's) request to rerun a period.

    Attributes:
        pipeline_id: the pipeline.
        schedule: the run's schedule.
        period: the run's period.
        reason: ``manual``, ``late-data``, ``data-drift`` or any reason string (``manual`` if none).
        by: who asked (``None`` on rows written by other tools).
        requested_at: when (``None`` if the row does not say).
    """

    pipeline_id: str
    schedule: str
    period: str
    reason: str
    by: str | None = None
    requested_at: datetime | None = None

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> RerunRequest:
        """Read a stored ``RERUN_REQUEST#`` item (or a stream image of one).

        Raises:
            ValueError: malformed keys.
        """
        schedule, period = keys.parse_rerun_request_sk(item["SK"])
        reason = item.get("reason")
        by = item.get("by")
        requested = item.get("requestedAt")
        return cls(
            pipeline_id=keys.pipeline_id(item["PK"]),
            schedule=schedule,
            period=period,
            reason=reason if isinstance(reason, str) and reason else "manual",
            by=by if isinstance(by, str) else None,
            requested_at=parse_instant(requested) if requested is not None else None,
        )


@dataclass(frozen=True, slots=True)
class DryRunMarker:
    """A dry-run pipeline's note that the period would have triggered.

    Attributes:
        triggered_at: when the would-be trigger happened (``None`` if the row does not say).
    """

    triggered_at: datetime | None


@dataclass(frozen=True, slots=True)
class Override:
    """An operator's switch on a pipeline (e.g. ``dry-run``), with who, when and why.

    Attributes:
        name: the override, e.g. :data:`DRY_RUN_OVERRIDE`.
        value: its value (JSON-like; numbers read back as ``int`` or ``Decimal``).
        by: who set it.
        at: when.
        reason: why.
    """

    name: str
    value: Any
    by: str
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Ack:
    """An operator's acknowledgement of a run's SLA alerts.

    Attributes:
        pipeline_id: the pipeline.
        schedule: the run's schedule.
        period: the run's period.
        by: who acknowledged.
        reason: why.
        at: when.
        until: when the acknowledgement lapses (``None``: for the rest of the run).
    """

    pipeline_id: str
    schedule: str
    period: str
    by: str
    reason: str
    at: datetime
    until: datetime | None = None

    def active(self, now: datetime) -> bool:
        """Whether the acknowledgement still holds at ``now``."""
        return self.until is None or now < self.until


# -------------------------------------------------------------------------------------- job log


class JobEvent(StrEnum):
    """The events a job-log row records (the original's spellings; external writers use them too)."""

    SUCCESS = "success"
    FAIL = "fail"
    TIMEOUT = "timeout"
    INFRA_TRIGGER_FAILURE = "infra-trigger-failure"
    INFRA_TRIGGER_EXHAUSTED = "infra-trigger-exhausted"
    LATE_DATA_ARRIVAL = "late-data-arrival"
    RERUN_ACCEPTED = "rerun-accepted"
    RERUN_REJECTED = "rerun-rejected"
    VALIDATION_EXHAUSTED = "validation-exhausted"
    JOB_POLL_EXHAUSTED = "job-poll-exhausted"


TERMINAL_EVENTS: Final = frozenset(
    {
        JobEvent.SUCCESS,
        JobEvent.FAIL,
        JobEvent.TIMEOUT,
        JobEvent.INFRA_TRIGGER_EXHAUSTED,
        JobEvent.VALIDATION_EXHAUSTED,
        JobEvent.JOB_POLL_EXHAUSTED,
    }
)
"""Events after which a run is over, for SLA suppression and the watchdog (the original's IsJobTerminal)."""

OUTCOME_EVENTS: Final = frozenset({JobEvent.SUCCESS, JobEvent.FAIL, JobEvent.TIMEOUT})
"""The job's own outcomes: what polling a job (check-job) accepts as finished."""


@dataclass(frozen=True, slots=True)
class JobEntry:
    """One job-log row.

    Attributes:
        event: what happened (a :class:`JobEvent` value; external writers may write others).
        at: when (the row's millisecond).
        run_id: the job's run id, when the trigger reports one.
        error: a message (failure text, or a note such as a late-data explanation).
        category: failure category: ``TRANSIENT``, ``PERMANENT`` or ``TIMEOUT``.
        detail: anything else the writer recorded.
    """

    event: str
    at: datetime
    run_id: str | None = None
    error: str | None = None
    category: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def terminal(self) -> bool:
        """Whether this event ends the run (:data:`TERMINAL_EVENTS`)."""
        return self.event in TERMINAL_EVENTS

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> JobEntry:
        """Read a stored ``JOB#`` row (or a stream image of one).

        Raises:
            ValueError: the SK is not a job-log key.
        """
        _, _, ms = keys.parse_job_sk(item["SK"])
        detail = item.get("detail")
        return cls(
            event=str(item.get("event", "")),
            at=keys.from_epoch_ms(ms),
            run_id=_text(item.get("runId")),
            error=_text(item.get("error")),
            category=_text(item.get("category")),
            detail=dict(detail) if isinstance(detail, Mapping) else {},
        )

    def __repr__(self) -> str:
        extra = f" {self.category}" if self.category else ""
        return f"<JobEntry {self.event}{extra} at {keys.format_time(self.at)}>"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# -------------------------------------------------------------------------------------- reruns


class RerunReason(StrEnum):
    """The reasons the controller itself writes (requests may carry any other string)."""

    JOB_FAIL_RETRY = "job-fail-retry"
    DATA_DRIFT = "data-drift"
    LATE_DATA = "late-data"
    MANUAL = "manual"


_DRIFT_BUCKET: Final = (RerunReason.DATA_DRIFT.value, RerunReason.LATE_DATA.value)


def budget_bucket(reason: str) -> tuple[str, ...]:
    """The reasons whose rows count against ``reason``'s budget.

    Args:
        reason: a rerun reason.

    Returns:
        ``("data-drift", "late-data")`` for either of those (one shared budget),
        ``("job-fail-retry",)`` for job-failure retries, else ``(reason,)``.
    """
    if reason in _DRIFT_BUCKET:
        return _DRIFT_BUCKET
    return (reason,)


@dataclass(frozen=True, slots=True)
class RerunEntry:
    """One rerun or retry of a run.

    Attributes:
        attempt: its number (0-based, in the order they were recorded).
        reason: why it ran.
        triggered_at: when it was recorded (``None`` if the row does not say).
        source_job_event: for automatic retries, the job event that caused it (``fail``/``timeout``).
    """

    attempt: int
    reason: str
    triggered_at: datetime | None = None
    source_job_event: str | None = None

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> RerunEntry:
        """Read a stored ``RERUN#`` row (the original's unpadded attempts too).

        Raises:
            ValueError: the SK is not a rerun key.
        """
        _, _, attempt = keys.parse_rerun_sk(item["SK"])
        reason = item.get("reason")
        at = item.get("triggeredAt")
        source = item.get("sourceJobEvent")
        triggered: datetime | None = None
        if isinstance(at, str):
            try:
                triggered = keys.parse_time(at)
            except ValueError:
                triggered = None
        return cls(
            attempt=attempt,
            reason=reason if isinstance(reason, str) else "",
            triggered_at=triggered,
            source_job_event=source if isinstance(source, str) and source else None,
        )
