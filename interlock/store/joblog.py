"""The job log: an append-only record of what happened to each run's job (the joblog table).

One row per event, ``JOB#<schedule>#<period>#<ms>``, kept 30 days. The table streams, and the router
reacts to ``success`` (JOB_COMPLETED) and ``fail``/``timeout`` (auto-retry); external systems may write
``success``/``fail``/``timeout`` rows themselves (callback style)::

    append(success) ──▶ JOB#cron#2026-03-02#1772445600000 ──stream──▶ router ──▶ JOB_COMPLETED
    append(fail)    ──▶ JOB#cron#2026-03-02#1772445600001 ──stream──▶ router ──▶ retry per budget

Two appends in the same millisecond are two rows: each append is conditional on its key being free and
moves to the next millisecond when it is not (the original overwrote the first, losing an event). The
latest row is therefore always the one appended last.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from interlock.records import JobEntry, JobEvent
from interlock.store import keys
from interlock.store.table import ConflictError, StoreError, absent, begins_with, query_all

if TYPE_CHECKING:
    from collections.abc import Mapping

    from interlock.store.table import Item, Table

__all__ = [
    "JOB_LOG_TTL",
    "JobLog",
]

JOB_LOG_TTL: Final = timedelta(days=30)
"""How long job-log rows are kept (the original's 30 days)."""
_MAX_COLLISIONS: Final = 1000  # a thousand writers in one millisecond of one run is a bug, not load


class JobLog:
    """Append and read job-log rows.

    Args:
        table: the joblog table.
    """

    def __init__(self, table: Table) -> None:
        self.table = table

    def __repr__(self) -> str:
        return f"<JobLog {self.table.spec.name}>"

    def append(
        self,
        pid: str,
        schedule: str,
        period: str,
        event: JobEvent | str,
        *,
        now: datetime,
        run_id: str | None = None,
        error: str | None = None,
        category: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> JobEntry:
        """Append one row; never overwrites another (same millisecond → the next free millisecond).

        Args:
            pid: the pipeline.
            schedule: the run's schedule.
            period: the run's period.
            event: what happened.
            now: when; the row's key carries it in milliseconds.
            run_id: the job's run id.
            error: a message.
            category: the failure category.
            detail: anything else.

        Returns:
            The entry as written (its ``at`` may be a millisecond or more after ``now``).

        Raises:
            StoreError: no free millisecond was found after many attempts.
        """
        if not event:
            raise ValueError("a job-log row needs an event")
        pk = keys.pipeline_pk(pid)
        ms = keys.epoch_ms(now)
        item: Item = {"PK": pk, "event": str(event), "ttl": keys.epoch_seconds(now + JOB_LOG_TTL)}
        for name, value in (("runId", run_id), ("error", error), ("category", category)):
            if value:
                item[name] = value
        if detail:
            item["detail"] = dict(detail)
        for _ in range(_MAX_COLLISIONS):
            item["SK"] = keys.job_sk(schedule, period, ms)
            try:
                self.table.put(item, condition=absent())
            except ConflictError:
                ms += 1
                continue
            return JobEntry.from_item(item)
        raise StoreError(
            f"job log {pk} {keys.job_prefix(schedule, period)}: no free millisecond after "
            f"{_MAX_COLLISIONS} attempts"
        )

    def latest(self, pid: str, schedule: str, period: str) -> JobEntry | None:
        """The most recent row of a run, or ``None``."""
        page = self.table.query(
            keys.pipeline_pk(pid),
            begins_with(keys.job_prefix(schedule, period)),
            descending=True,
            limit=1,
        )
        return JobEntry.from_item(page.items[0]) if page.items else None

    def history(self, pid: str, schedule: str, period: str) -> list[JobEntry]:
        """Every row of a run, oldest first."""
        return [
            JobEntry.from_item(item)
            for item in query_all(
                self.table, keys.pipeline_pk(pid), begins_with(keys.job_prefix(schedule, period))
            )
        ]
