"""The ``emr-serverless`` trigger: start an EMR Serverless job run, then poll it.

::

    start:  StartJobRun(applicationId, name = jobName, executionRoleArn, jobDriver,
                        configurationOverrides, clientToken = from the run id)
            -> handle {emr_sl_application_id, emr_sl_job_run_id}
    status: GetJobRun   SUBMITTED, PENDING, SCHEDULED, QUEUED, RUNNING, CANCELLING -> running
                        SUCCESS                                                    -> succeeded
                        FAILED     -> failed (class from its stateDetails)
                        CANCELLED  -> failed (transient)

``${VARS}`` are expanded in the name, the role and every string inside ``jobDriver`` and
``configurationOverrides``. The client token derives from the run id, so AWS itself answers a repeated
start of the same run with the first run (the embedded runtime's durable starts do the same).

IAM: ``emr-serverless:StartJobRun``, ``emr-serverless:GetJobRun``, and ``iam:PassRole`` on the
execution role.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from interlock.config.models import EmrServerlessJobConfig
from interlock.triggers.aws import AwsRunner
from interlock.triggers.base import (
    FailureClass,
    JobStatus,
    RunHandle,
    TriggerContext,
    TriggerError,
)
from interlock.triggers.polling import classify_job_message, parse_config, poll_error_status

if TYPE_CHECKING:
    from interlock.schedule import Period

__all__ = ["EmrServerlessRunner", "client_token"]

_RUNNING = frozenset({"SUBMITTED", "PENDING", "SCHEDULED", "QUEUED", "RUNNING", "CANCELLING"})
_TOKEN_LIMIT = 64


def client_token(run_id: str) -> str:
    """An idempotency token for a run: the run id, or (if longer than 64 characters) its hash.

    Args:
        run_id: Interlock's id of the run.

    Returns:
        1-64 characters.
    """
    if 0 < len(run_id) <= _TOKEN_LIMIT:
        return run_id
    return hashlib.sha256(run_id.encode()).hexdigest()[:_TOKEN_LIMIT]


class EmrServerlessRunner(AwsRunner):
    """Runs ``emr-serverless`` jobs (see the module docstring; options as :class:`AwsRunner`)."""

    service = "emr-serverless"

    def start(self, job_config: Any, *, pipeline_id: str, period: Period, run_id: str) -> RunHandle:
        """Start the job run.

        Args:
            job_config: an :class:`~interlock.config.models.EmrServerlessJobConfig` (or its mapping).
            pipeline_id: the pipeline (``${PIPELINE}``).
            period: the run's period (``${DATE}``, ...).
            run_id: the run's id (``${RUN_ID}``; also the client token).

        Returns:
            A handle whose metadata holds ``emr_sl_application_id`` and ``emr_sl_job_run_id``.

        Raises:
            TriggerError: permanent for an invalid config, an unknown application, access denied;
                transient for throttling, capacity or a 5xx.
        """
        config = parse_config(EmrServerlessJobConfig, job_config, "emr-serverless")
        context = TriggerContext.build(
            pipeline_id=pipeline_id, period=period, run_id=run_id, environ=self._env
        )
        application = context.expand(config.applicationId)
        params: dict[str, Any] = {
            "applicationId": application,
            "clientToken": client_token(run_id),
            "name": context.expand(config.jobName),
            "executionRoleArn": context.expand(config.executionRoleArn),
            "jobDriver": context.expand_json(config.jobDriver),
        }
        if config.configurationOverrides is not None:
            params["configurationOverrides"] = context.expand_json(config.configurationOverrides)
        response = self.call(f"emr-serverless StartJobRun {application}", "start_job_run", params)
        return RunHandle(
            run_id,
            {"emr_sl_application_id": application, "emr_sl_job_run_id": response["jobRunId"]},
        )

    def status(self, job_config: Any, handle: RunHandle) -> JobStatus:
        """Poll the job run (see the module docstring for the mapping).

        Args:
            job_config: the job's config (unused: the handle names the run).
            handle: the handle :meth:`start` returned.

        Returns:
            The run's state; a failed run's message holds its state details.
        """
        application = str(handle.metadata.get("emr_sl_application_id", ""))
        run = str(handle.metadata.get("emr_sl_job_run_id", ""))
        what = f"emr-serverless application {application} run {run}"
        if not application or not run:
            return JobStatus("failed", FailureClass.PERMANENT, f"{what}: the handle names no run")
        try:
            response = self.call(
                f"emr-serverless GetJobRun {application} {run}",
                "get_job_run",
                {"applicationId": application, "jobRunId": run},
            )
        except TriggerError as exc:
            return poll_error_status(exc, what)
        job_run = response.get("jobRun", {})
        state = str(job_run.get("state", ""))
        if state in _RUNNING:
            return JobStatus("running", None, f"{what} {state}")
        if state == "SUCCESS":
            return JobStatus("succeeded", None, f"{what} SUCCESS")
        error = str(job_run.get("stateDetails") or "no state details")
        failure = classify_job_message(error) if state == "FAILED" else FailureClass.TRANSIENT
        return JobStatus("failed", failure, f"{what} {state}: {error}")
