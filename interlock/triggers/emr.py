"""The ``emr`` trigger: add a step to a running EMR cluster, then poll it.

::

    start:  AddJobFlowSteps(clusterId, one step: Name = stepName, ActionOnFailure = CONTINUE,
                            HadoopJarStep = Jar + Args)   -> handle {emr_cluster_id, emr_step_id}
    status: DescribeStep    PENDING, CANCEL_PENDING, RUNNING  -> running
                            COMPLETED                         -> succeeded
                            FAILED                            -> failed (class from its FailureDetails)
                            CANCELLED, INTERRUPTED            -> failed (transient)

**The step.** ``command`` ending in ``.jar`` is the step's jar; anything else is split into words (shell
rules, no shell) and run through ``command-runner.jar`` (``spark-submit s3://bucket/job.py``). Each of
``arguments`` is appended: a key starting with ``-`` as two words (``--date``, ``2026-03-04``), any
other as one ``key=value`` word (the original's form). ``${VARS}`` are expanded in every word after
splitting, so a value never becomes two words.

A failed step's class comes from its ``FailureDetails`` (reason and message): permanent when they name
access denied, a missing file or an invalid argument, otherwise transient.

IAM: ``elasticmapreduce:AddJobFlowSteps``, ``elasticmapreduce:DescribeStep``.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from interlock.config.models import EmrJobConfig
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

__all__ = ["COMMAND_RUNNER_JAR", "EmrRunner", "step_definition"]

COMMAND_RUNNER_JAR = "command-runner.jar"
"""The jar EMR runs a command line with (``spark-submit ...``)."""

_RUNNING = frozenset({"PENDING", "CANCEL_PENDING", "RUNNING"})


def step_definition(config: EmrJobConfig, context: TriggerContext) -> dict[str, Any]:
    """The ``AddJobFlowSteps`` step for a job (see the module docstring).

    Args:
        config: the job's config.
        context: the run's template variables.

    Returns:
        One step.

    Raises:
        TriggerError: (permanent) the command cannot be split, or a variable is unknown.
    """
    command = config.command.strip()
    if command.lower().endswith(".jar"):
        jar, args = context.expand(command), []
    else:
        try:
            words = shlex.split(command)
        except ValueError as exc:
            raise TriggerError(
                f"cannot split EMR command {command!r}: {exc}", failure=FailureClass.PERMANENT
            ) from exc
        jar, args = COMMAND_RUNNER_JAR, [context.expand(w) for w in words]
    for key, value in config.arguments.items():
        if key.startswith("-"):
            args += [context.expand(key), context.expand(value)]
        else:
            args.append(f"{context.expand(key)}={context.expand(value)}")
    return {
        "Name": context.expand(config.stepName),
        "ActionOnFailure": "CONTINUE",
        "HadoopJarStep": {"Jar": jar, "Args": args},
    }


class EmrRunner(AwsRunner):
    """Runs ``emr`` jobs (see the module docstring; options as :class:`AwsRunner`)."""

    service = "emr"

    def start(self, job_config: Any, *, pipeline_id: str, period: Period, run_id: str) -> RunHandle:
        """Add the step to the cluster.

        Args:
            job_config: an :class:`~interlock.config.models.EmrJobConfig` (or its mapping).
            pipeline_id: the pipeline (``${PIPELINE}``).
            period: the run's period (``${DATE}``, ...).
            run_id: the run's id (``${RUN_ID}``).

        Returns:
            A handle whose metadata holds ``emr_cluster_id`` and ``emr_step_id``.

        Raises:
            TriggerError: permanent for an unknown or terminated cluster, access denied, a bad
                command; transient for throttling or a 5xx.
        """
        config = parse_config(EmrJobConfig, job_config, "emr")
        context = TriggerContext.build(
            pipeline_id=pipeline_id, period=period, run_id=run_id, environ=self._env
        )
        cluster = context.expand(config.clusterId)
        step = step_definition(config, context)
        response = self.call(
            f"emr AddJobFlowSteps {cluster}",
            "add_job_flow_steps",
            {"JobFlowId": cluster, "Steps": [step]},
        )
        step_ids = response.get("StepIds") or []
        if not step_ids:
            raise TriggerError(
                f"emr AddJobFlowSteps {cluster} returned no step id", failure=FailureClass.TRANSIENT
            )
        return RunHandle(run_id, {"emr_cluster_id": cluster, "emr_step_id": str(step_ids[0])})

    def status(self, job_config: Any, handle: RunHandle) -> JobStatus:
        """Poll the step (see the module docstring for the mapping).

        Args:
            job_config: the job's config (unused: the handle names the step).
            handle: the handle :meth:`start` returned.

        Returns:
            The step's state; a failed step's message holds its reason, message and log file.
        """
        cluster = str(handle.metadata.get("emr_cluster_id", ""))
        step_id = str(handle.metadata.get("emr_step_id", ""))
        what = f"emr cluster {cluster} step {step_id}"
        if not cluster or not step_id:
            return JobStatus("failed", FailureClass.PERMANENT, f"{what}: the handle names no step")
        try:
            response = self.call(
                f"emr DescribeStep {cluster} {step_id}",
                "describe_step",
                {"ClusterId": cluster, "StepId": step_id},
            )
        except TriggerError as exc:
            return poll_error_status(exc, what)
        status = response.get("Step", {}).get("Status", {})
        state = str(status.get("State", ""))
        if state in _RUNNING:
            return JobStatus("running", None, f"{what} {state}")
        if state == "COMPLETED":
            return JobStatus("succeeded", None, f"{what} COMPLETED")
        details = status.get("FailureDetails") or {}
        reason = status.get("StateChangeReason", {}).get("Message") or ""
        parts = [str(details.get(k)) for k in ("Reason", "Message") if details.get(k)]
        if details.get("LogFile"):
            parts.append(f"log: {details['LogFile']}")
        error = "; ".join(parts) or str(reason) or "no failure details"
        failure = classify_job_message(error) if state == "FAILED" else FailureClass.TRANSIENT
        return JobStatus("failed", failure, f"{what} {state}: {error}")
