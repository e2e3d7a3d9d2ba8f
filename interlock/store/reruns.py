"""The rerun log: one row per rerun or automatic retry of a run, for budgets and history (rerun table).

Rows are ``RERUN#<schedule>#<period>#<attempt>`` (attempt 0, 1, 2 … zero-padded to four digits), kept
30 days. Budgets count rows by reason (reference §8.2–8.3, §13 item 17)::

    reason            budget (job config)   counted over
    ----------------  --------------------  ------------------------------
    job-fail-retry    maxRetries (or        job-fail-retry rows only
                      maxCodeRetries)
    data-drift        maxDriftReruns        data-drift + late-data rows (one shared budget)
    late-data         maxDriftReruns        data-drift + late-data rows
    anything else     maxManualReruns       rows of that exact reason

:func:`budget_bucket` gives the reasons that share a reason's budget; :meth:`RerunLog.count` counts them.
Two writers racing to record an attempt get different attempt numbers: each write is conditional on its
key being free and moves to the next number when it is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from interlock.store import keys
from interlock.store.table import ConflictError, StoreError, absent, begins_with, query_all

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from interlock.store.table import Item, Table

__all__ = ["RERUN_LOG_TTL", "RerunEntry", "RerunLog", "RerunReason", "budget_bucket"]

RERUN_LOG_TTL: Final = timedelta(days=30)
"""How long rerun rows are kept (the original's 30 days)."""
_MAX_RACE: Final = 100  # more concurrent writers for one run than this is a bug, not a race


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


class RerunLog:
    """Record and count reruns.

    Args:
        table: the rerun table.
    """

    def __init__(self, table: Table) -> None:
        self.table = table

    def __repr__(self) -> str:
        return f"<RerunLog {self.table.spec.name}>"

    def record(
        self,
        pid: str,
        schedule: str,
        period: str,
        *,
        reason: str,
        now: datetime,
        source_job_event: str | None = None,
    ) -> int:
        """Record a rerun or retry under the next free attempt number.

        Args:
            pid: the pipeline.
            schedule: the run's schedule.
            period: the run's period.
            reason: why (see :class:`RerunReason`; any non-empty string).
            now: when.
            source_job_event: for automatic retries, the job event that caused it.

        Returns:
            The attempt number (0 for the first rerun of the run).

        Raises:
            ValueError: an empty reason.
            StoreError: no free number was found (an implausible number of concurrent writers).
        """
        if not reason:
            raise ValueError("a rerun needs a reason")
        pk = keys.pipeline_pk(pid)
        taken = [entry.attempt for entry in self.attempts(pid, schedule, period)]
        # max + 1 rather than the count: never reuse a number, even if rows were removed.
        attempt = max(taken) + 1 if taken else 0
        item: Item = {
            "PK": pk,
            "reason": reason,
            "triggeredAt": keys.format_time(now),
            "ttl": keys.epoch_seconds(now + RERUN_LOG_TTL),
        }
        if source_job_event:
            item["sourceJobEvent"] = source_job_event
        for _ in range(_MAX_RACE):
            item["SK"] = keys.rerun_sk(schedule, period, attempt)
            try:
                self.table.put(item, condition=absent())
            except ConflictError:
                attempt += 1
                continue
            return attempt
        raise StoreError(f"rerun log {pk} {keys.rerun_prefix(schedule, period)}: no free attempt")

    def attempts(self, pid: str, schedule: str, period: str) -> list[RerunEntry]:
        """Every rerun of a run, in attempt order."""
        entries = [
            RerunEntry.from_item(item)
            for item in query_all(
                self.table, keys.pipeline_pk(pid), begins_with(keys.rerun_prefix(schedule, period))
            )
        ]
        entries.sort(key=lambda e: e.attempt)  # the original's unpadded numbers sort as text
        return entries

    def count(self, pid: str, schedule: str, period: str, reasons: Collection[str]) -> int:
        """How many reruns of a run had one of ``reasons`` (pass :func:`budget_bucket` of a reason)."""
        if isinstance(reasons, str):
            raise TypeError("reasons is a collection of reasons; wrap a single one: (reason,)")
        wanted = set(reasons)
        return sum(1 for entry in self.attempts(pid, schedule, period) if entry.reason in wanted)
