"""Durable job starts: a replayed Trigger Task gets the first start's job handle, not a second job.

Both runtimes run Tasks at least once: the embedded runtime saves an execution's snapshot after the
step's Tasks ran, and Step Functions may invoke a Task Lambda again. :class:`DurableStarts` wraps the
trigger runners so that each start is remembered in a control row ``JOBSTART`` / <run id>; the run id
is the attempt's execution name, so a replayed start finds the row and returns its handle.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from interlock.service.crashpoint import crash_point
from interlock.store import keys
from interlock.triggers.base import RunHandle

if TYPE_CHECKING:
    from collections.abc import Callable

    from interlock.ports import Clock
    from interlock.schedule import Period
    from interlock.store.factory import Store
    from interlock.triggers.base import JobStatus, TriggerRunner

__all__ = ["JOB_START_PK", "JOB_START_TTL", "DurableStarts"]

log = logging.getLogger(__name__)

JOB_START_PK: Final = "JOBSTART"
"""Control partition remembering each started job's handle (sort key: the run id)."""
JOB_START_TTL: Final = timedelta(days=7)
"""How long a start is remembered (longer than any attempt's retries)."""


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


class DurableStarts:
    """Trigger runners whose starts are remembered in the store (``JOBSTART`` / <run id> rows).

    A step is saved after its Tasks ran; a crash in between replays the Trigger Task from the last
    snapshot. The run id is the attempt's execution name, so the replayed start finds the first start's
    handle and returns it instead of starting a second job. A crash between the job's start and this
    row's write is covered by the runners: a ``command`` start claims a job dir per run id and a replay
    adopts it; an ``http`` start sends the run id as ``Idempotency-Key`` for the endpoint to dedupe;
    Step Functions, EMR Serverless and Databricks starts carry a run-derived name or token. A start that failed
    writes nothing, so an infrastructure retry starts again.

    Args:
        store: the store (its control table keeps the rows, for :data:`JOB_START_TTL`).
        triggers: the real trigger runner of a job type.
        clock: stamps the rows' expiry.
    """

    def __init__(
        self, store: Store, triggers: Callable[[str], TriggerRunner], clock: Clock
    ) -> None:
        self.table = store.tables["control"]
        self.triggers = triggers
        self.clock = clock

    def __repr__(self) -> str:
        return f"<DurableStarts {self.table!r}>"

    def __call__(self, job_type: str) -> TriggerRunner:
        """The runner of ``job_type``, with remembered starts."""
        return _DurableRunner(self, self.triggers(job_type))


class _DurableRunner:
    def __init__(self, starts: DurableStarts, inner: TriggerRunner) -> None:
        self.starts = starts
        self.inner = inner

    def start(self, job_config: Any, *, pipeline_id: str, period: Period, run_id: str) -> RunHandle:
        table = self.starts.table
        item = table.get(JOB_START_PK, run_id)
        if item is not None:
            log.warning("job %s was already started: reusing its handle (a replayed step)", run_id)
            return RunHandle(run_id, json.loads(str(item.get("metadata") or "{}")))
        handle = self.inner.start(job_config, pipeline_id=pipeline_id, period=period, run_id=run_id)
        crash_point("job-started")  # reliability tests: started, not yet recorded
        table.put(
            {
                "PK": JOB_START_PK,
                "SK": run_id,
                "pipelineId": pipeline_id,
                "metadata": _canonical(handle.metadata),
                "ttl": keys.epoch_seconds(self.starts.clock.now() + JOB_START_TTL),
            }
        )
        return handle

    def status(self, job_config: Any, handle: RunHandle) -> JobStatus:
        status = self.inner.status(job_config, handle)
        if status.state != "running":
            crash_point("job-ended")  # reliability tests: ended, outcome not yet saved
        return status
