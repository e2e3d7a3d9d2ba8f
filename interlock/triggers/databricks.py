"""The ``databricks`` trigger: run a Databricks job now (Jobs API 2.1), then poll the run.

::

    start:  POST <workspace>/api/2.1/jobs/run-now
                 {"job_id": N, "idempotency_token": from the run id, "notebook_params": arguments}
            -> handle {databricks_workspace_url, databricks_run_id, pipeline, period}
    status: GET <workspace>/api/2.1/jobs/runs/get?run_id=R   (the same auth as the start)
            life_cycle_state PENDING, QUEUED, RUNNING, TERMINATING, BLOCKED, WAITING_FOR_RETRY -> running
            TERMINATED + result_state SUCCESS                      -> succeeded
            TERMINATED + TIMEDOUT                                  -> failed (timeout)
            TERMINATED + FAILED (or another result), INTERNAL_ERROR -> failed (class from state_message)
            TERMINATED + CANCELED / MAXIMUM_CONCURRENT_RUNS_REACHED -> failed (transient)
            SKIPPED                                                -> failed (permanent; transient when
                                                                      skipped for concurrency)

The original called ``runs/submit`` with the job id as a *run name* (starting nothing useful) and polled
without auth; here the job itself runs, a replayed start is answered by Databricks with the first run
(the idempotency token), and every poll is authenticated. Calls go through the SSRF guard
(:mod:`interlock.triggers.rest`).

Permissions: a token (or service principal) with *Can Manage Run* on the job.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from interlock.config.models import DatabricksJobConfig
from interlock.triggers.base import FailureClass, JobStatus, RunHandle, TriggerError
from interlock.triggers.http import scrub
from interlock.triggers.polling import classify_job_message, parse_config, poll_error_status
from interlock.triggers.rest import RestJobRunner

if TYPE_CHECKING:
    from interlock.schedule import Period

__all__ = ["DatabricksRunner", "idempotency_token"]

_RUNNING = frozenset(
    {"PENDING", "QUEUED", "RUNNING", "TERMINATING", "BLOCKED", "WAITING_FOR_RETRY"}
)
_TOKEN_LIMIT = 64


def idempotency_token(run_id: str) -> str:
    """The run-now idempotency token of a run: the run id, or its hash when over 64 characters."""
    if 0 < len(run_id) <= _TOKEN_LIMIT:
        return run_id
    return hashlib.sha256(run_id.encode()).hexdigest()[:_TOKEN_LIMIT]


class DatabricksRunner(RestJobRunner):
    """Runs ``databricks`` jobs (see the module docstring; options as :class:`RestJobRunner`)."""

    def start(self, job_config: Any, *, pipeline_id: str, period: Period, run_id: str) -> RunHandle:
        """Run the job now.

        Args:
            job_config: a :class:`~interlock.config.models.DatabricksJobConfig` (or its mapping).
            pipeline_id: the pipeline (``${PIPELINE}``).
            period: the run's period (``${DATE}``, ...).
            run_id: the run's id (``${RUN_ID}``; the idempotency token).

        Returns:
            A handle whose metadata holds the workspace URL and the Databricks run id.

        Raises:
            TriggerError: permanent for 4xx (bad token, no permission, no such job), an SSRF refusal,
                a job id that is not a number; transient for 429, 5xx, timeouts, network errors.
        """
        config = parse_config(DatabricksJobConfig, job_config, "databricks")
        context = self.context(pipeline_id=pipeline_id, period=period, run_id=run_id)
        workspace = context.expand(config.workspaceUrl).rstrip("/")
        job_id = context.expand(str(config.jobId)).strip()
        if not job_id.isdigit():
            raise TriggerError(
                f"databricks jobId {job_id!r} is not a numeric job id",
                failure=FailureClass.PERMANENT,
            )
        body: dict[str, Any] = {
            "job_id": int(job_id),
            "idempotency_token": idempotency_token(run_id),
        }
        if config.arguments:
            body["notebook_params"] = context.expand_json(config.arguments)
        _, answer = self.call_json(
            "POST",
            f"{workspace}/api/2.1/jobs/run-now",
            context=context,
            auth=config.auth,
            headers=config.headers,
            body=body,
            timeout=config.timeout,
        )
        run = answer.get("run_id") if isinstance(answer, dict) else None
        if isinstance(run, bool) or not isinstance(run, int):
            raise TriggerError(
                f"databricks run-now of job {job_id} answered without a numeric run_id: {scrub(repr(answer))[:200]}",
                failure=FailureClass.TRANSIENT,
            )
        return RunHandle(
            run_id,
            {
                "databricks_workspace_url": workspace,
                "databricks_job_id": int(job_id),
                "databricks_run_id": str(run),
                **self.run_metadata(context),
            },
        )

    def status(self, job_config: Any, handle: RunHandle) -> JobStatus:
        """Poll the run with the start's auth (see the module docstring for the mapping).

        Args:
            job_config: the job's config (its auth, headers and timeout are used).
            handle: the handle :meth:`start` returned.

        Returns:
            The run's state; a failed run's message holds its state message and run page URL.
        """
        workspace = str(handle.metadata.get("databricks_workspace_url", ""))
        run = str(handle.metadata.get("databricks_run_id", ""))
        what = f"databricks run {run}"
        try:
            config = parse_config(DatabricksJobConfig, job_config, "databricks")
            if not workspace or not run.isdigit():
                raise TriggerError(
                    "the handle names no workspace and run", failure=FailureClass.PERMANENT
                )
            _, answer = self.call_json(
                "GET",
                f"{workspace}/api/2.1/jobs/runs/get?run_id={run}",
                context=self.handle_context(handle),
                auth=config.auth,
                headers=config.headers,
                timeout=config.timeout,
            )
        except TriggerError as exc:
            return poll_error_status(exc, what)
        return _run_status(what, answer if isinstance(answer, dict) else {})


def _run_status(what: str, answer: dict[str, Any]) -> JobStatus:
    state = answer.get("state") or {}
    life = str(state.get("life_cycle_state", ""))
    result = str(state.get("result_state", ""))
    message = str(state.get("state_message", "")).strip()
    page = answer.get("run_page_url")
    detail = f"{life}{'/' + result if result else ''}"
    text = f"{what} {detail}: {message or 'no state message'}" + (f" ({page})" if page else "")
    if life in _RUNNING:
        return JobStatus("running", None, f"{what} {detail}")
    if life == "TERMINATED" and result == "SUCCESS":
        return JobStatus("succeeded", None, f"{what} {detail}")
    if result == "TIMEDOUT":
        return JobStatus("failed", FailureClass.TIMEOUT, text)
    concurrency = result == "MAXIMUM_CONCURRENT_RUNS_REACHED" or "concurrent" in message.lower()
    if result == "CANCELED" or concurrency:
        return JobStatus("failed", FailureClass.TRANSIENT, text)
    if life == "SKIPPED":
        return JobStatus("failed", FailureClass.PERMANENT, text)
    if life in ("TERMINATED", "INTERNAL_ERROR"):
        return JobStatus("failed", classify_job_message(message), text)
    return JobStatus("running", None, f"{what} {detail or 'state unknown'}")
