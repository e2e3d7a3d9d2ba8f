"""The ``glue`` trigger: start an AWS Glue job run, then poll it.

::

    start:  StartJobRun(JobName, Arguments = the job's arguments (${VARS} expanded)
                                             + --par_day YYYYMMDD [+ --par_hour HH])
            -> handle {glue_job_name, glue_job_run_id}
    status: GetJobRun   STARTING, RUNNING, STOPPING, WAITING  -> running
                        SUCCEEDED                             -> succeeded
                        TIMEOUT                               -> failed (timeout)
                        FAILED, ERROR, STOPPED                -> failed (see below)

**Root cause.** A failed run's ``ErrorMessage`` is often generic (``An error occurred while calling
o123.pyWriteDynamicFrame``, ``Command failed with exit code 1``). Then the run's error log stream
(``<log group>/error``, stream ``<run id>``; ``logs:FilterLogEvents``) is searched for the last line
naming an exception, and that line is the message. Reading the logs is best effort: if it fails the
run's own message stands.

**Failure class** of a failed run: ``permanent`` when the error names a cause that a retry cannot fix
(access denied, a missing entity, bucket or key, an invalid parameter); otherwise ``transient``, as the
original (capacity, a lost executor, a flaky source). Errors of the calls themselves are classified by
:func:`~interlock.triggers.aws.classify_aws_error`.

IAM: ``glue:StartJobRun``, ``glue:GetJobRun``, ``logs:FilterLogEvents`` (on the Glue log groups).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from interlock.config.models import GlueJobConfig
from interlock.triggers.aws import AwsRunner, period_arguments
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

__all__ = ["DEFAULT_LOG_GROUP", "GlueRunner"]

DEFAULT_LOG_GROUP = "/aws-glue/jobs"
"""Where Glue writes job logs when the run names no log group (errors go to ``<group>/error``)."""

_RUNNING = frozenset({"STARTING", "RUNNING", "STOPPING", "WAITING"})
_GENERIC = re.compile(
    r"^\s*$|An error occurred while calling|Command failed with exit code|see the logs|"
    r"check the logs|Job failed|Please refer to logs",
    re.IGNORECASE,
)
_EXCEPTION_LINE = re.compile(r"(\w+(Exception|Error)\b|Traceback|FATAL)")
_MESSAGE_LIMIT = 500


class GlueRunner(AwsRunner):
    """Runs ``glue`` jobs (see the module docstring; options as :class:`AwsRunner`)."""

    service = "glue"

    def start(self, job_config: Any, *, pipeline_id: str, period: Period, run_id: str) -> RunHandle:
        """Start a run of the Glue job.

        Args:
            job_config: a :class:`~interlock.config.models.GlueJobConfig` (or its mapping).
            pipeline_id: the pipeline (``${PIPELINE}``).
            period: the run's period (``--par_day``, ``--par_hour``).
            run_id: the run's id (``${RUN_ID}``).

        Returns:
            A handle whose metadata holds ``glue_job_name`` and ``glue_job_run_id``.

        Raises:
            TriggerError: permanent for a job that does not exist, access denied, an unknown
                variable; transient for throttling, too many concurrent runs, a 5xx.
        """
        config = parse_config(GlueJobConfig, job_config, "glue")
        context = TriggerContext.build(
            pipeline_id=pipeline_id, period=period, run_id=run_id, environ=self._env
        )
        name = context.expand(config.jobName)
        arguments = {context.expand(k): context.expand(v) for k, v in config.arguments.items()}
        arguments.update({f"--{k}": v for k, v in period_arguments(period).items()})
        response = self.call(
            f"glue StartJobRun {name}", "start_job_run", {"JobName": name, "Arguments": arguments}
        )
        return RunHandle(run_id, {"glue_job_name": name, "glue_job_run_id": response["JobRunId"]})

    def status(self, job_config: Any, handle: RunHandle) -> JobStatus:
        """Poll the run (see the module docstring for the mapping).

        Args:
            job_config: the job's config (unused: the handle names the run).
            handle: the handle :meth:`start` returned.

        Returns:
            The run's state; a failed run's message is its root cause when one can be found.
        """
        name = str(handle.metadata.get("glue_job_name", ""))
        run = str(handle.metadata.get("glue_job_run_id", ""))
        what = f"glue job {name} run {run}"
        if not name or not run:
            return JobStatus("failed", FailureClass.PERMANENT, f"{what}: the handle names no run")
        try:
            response = self.call(
                f"glue GetJobRun {name}", "get_job_run", {"JobName": name, "RunId": run}
            )
        except TriggerError as exc:
            return poll_error_status(exc, what)
        job_run = response.get("JobRun", {})
        state = str(job_run.get("JobRunState", ""))
        if state in _RUNNING:
            return JobStatus("running", None, f"{what} {state}")
        if state == "SUCCEEDED":
            return JobStatus("succeeded", None, f"{what} SUCCEEDED")
        error = str(job_run.get("ErrorMessage") or "")
        if state == "TIMEOUT":
            return JobStatus("failed", FailureClass.TIMEOUT, f"{what} TIMEOUT {error}".strip())
        if _GENERIC.search(error):
            cause = self._root_cause(job_run, run)
            if cause:
                error = f"{error} | root cause: {cause}" if error.strip() else cause
        error = error or "no error message"
        return JobStatus("failed", classify_job_message(error), f"{what} {state}: {error}")

    def _root_cause(self, job_run: dict[str, Any], run: str) -> str | None:
        group = f"{job_run.get('LogGroupName') or DEFAULT_LOG_GROUP}/error"
        try:
            response = self.call(
                f"logs FilterLogEvents {group}",
                "filter_log_events",
                {"logGroupName": group, "logStreamNames": [run], "limit": 100},
                service="logs",
            )
        except TriggerError:
            return None  # best effort: the run's own message stands
        lines = [str(e.get("message", "")).strip() for e in response.get("events", [])]
        for line in reversed(lines):
            if _EXCEPTION_LINE.search(line):
                return line[:_MESSAGE_LIMIT]
        return None
