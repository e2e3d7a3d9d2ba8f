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

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from interlock.records import RerunEntry
from interlock.store import keys
from interlock.store.table import ConflictError, StoreError, absent, begins_with, query_all

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from interlock.store.table import Item, Table

__all__ = ["RERUN_LOG_TTL", "RerunLog"]

RERUN_LOG_TTL: Final = timedelta(days=30)
"""How long rerun rows are kept (the original's 30 days)."""
_MAX_RACE: Final = 100  # more concurrent writers for one run than this is a bug, not a race


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

    def attempts_of(self, runs: Mapping[str, tuple[str, str]]) -> dict[str, list[RerunEntry]]:
        """:meth:`attempts` of many runs (pipeline id → ``(schedule, period)``) in one bulk read."""
        found = self.table.query_partitions(
            {
                keys.pipeline_pk(pid): begins_with(keys.rerun_prefix(schedule, period))
                for pid, (schedule, period) in runs.items()
            }
        )
        out: dict[str, list[RerunEntry]] = {}
        for pk, items in found.items():
            entries = [RerunEntry.from_item(item) for item in items]
            entries.sort(key=lambda e: e.attempt)
            out[keys.pipeline_id(pk)] = entries
        return out

    def count(self, pid: str, schedule: str, period: str, reasons: Collection[str]) -> int:
        """How many reruns of a run had one of ``reasons`` (pass :func:`budget_bucket` of a reason)."""
        if isinstance(reasons, str):
            raise TypeError("reasons is a collection of reasons; wrap a single one: (reason,)")
        wanted = set(reasons)
        return sum(1 for entry in self.attempts(pid, schedule, period) if entry.reason in wanted)
