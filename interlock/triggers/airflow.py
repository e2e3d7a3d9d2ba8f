"""The ``airflow`` trigger: trigger a DAG run through Airflow's stable REST API, then poll it.

::

    start:  POST <url>/api/<v1|v2>/dags/<dagId>/dagRuns
                 {"dag_run_id": the run id, "logical_date": the period's start (UTC), "conf": body}
            -> handle {airflow_url, airflow_api, airflow_dag_id, airflow_dag_run_id, pipeline, period}
    status: GET <url>/api/<v>/dags/<dagId>/dagRuns/<dag_run_id>   (the same auth as the start)
            queued, running, restarting, up_for_retry, ... -> running
            success                                        -> succeeded
            failed                                         -> failed (transient; the DAG's own retries
                                                              and task logs are in Airflow)

``apiVersion: v1`` is Airflow 2's stable API, ``v2`` Airflow 3's (Airflow 3 wants a JWT bearer token:
``auth.bearer``). The ``dag_run_id`` is Interlock's run id, so a replayed start gets 409 Conflict and
is given the existing run (the job is not started twice). A 409 for a run id that does not exist means
the DAG already has a run for that logical date (Airflow 2 allows one per date): permanent, clear it in
Airflow or rerun there.

Calls go through the SSRF guard and carry the job's auth on every call (:mod:`interlock.triggers.rest`).

Permissions: an Airflow user or token that may trigger and read DAG runs of the DAG (Airflow's
``User`` role, or ``can_create``/``can_read`` on *DAG Runs*).
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from interlock.config.models import AirflowJobConfig
from interlock.triggers.base import FailureClass, JobStatus, RunHandle, TriggerError
from interlock.triggers.http import scrub
from interlock.triggers.polling import parse_config, poll_error_status
from interlock.triggers.rest import RestJobRunner

if TYPE_CHECKING:
    from interlock.schedule import Period
    from interlock.triggers.base import TriggerContext

__all__ = ["AirflowRunner", "logical_date"]


def logical_date(period: Period) -> str:
    """The logical date of a period's DAG run: its start, UTC, RFC 3339 (``2026-03-04T07:00:00Z``)."""
    start = datetime.combine(period.day, time(period.hour or 0), tzinfo=UTC)
    return start.isoformat().replace("+00:00", "Z")


class AirflowRunner(RestJobRunner):
    """Runs ``airflow`` jobs (see the module docstring; options as :class:`RestJobRunner`)."""

    def start(self, job_config: Any, *, pipeline_id: str, period: Period, run_id: str) -> RunHandle:
        """Trigger the DAG run (or find the one this run already triggered).

        Args:
            job_config: an :class:`~interlock.config.models.AirflowJobConfig` (or its mapping).
            pipeline_id: the pipeline (``${PIPELINE}``).
            period: the run's period (the logical date; ``${DATE}``, ...).
            run_id: the run's id (the ``dag_run_id``).

        Returns:
            A handle naming the DAG run.

        Raises:
            TriggerError: permanent for 4xx (bad credentials, no permission, no such DAG, a run
                already there for the date), an SSRF refusal; transient for 429, 5xx, timeouts.
        """
        config = parse_config(AirflowJobConfig, job_config, "airflow")
        context = self.context(pipeline_id=pipeline_id, period=period, run_id=run_id)
        base = context.expand(config.url).rstrip("/")
        dag = context.expand(config.dagId)
        runs = f"{base}/api/{config.apiVersion}/dags/{quote(dag, safe='')}/dagRuns"
        body = {
            "dag_run_id": run_id,
            "logical_date": logical_date(period),
            "conf": context.expand_json(config.body or {}),
        }
        status, answer = self._call(config, context, "POST", runs, body)
        if status == 409:
            # Already triggered? A replay finds its own run; anything else is a date clash.
            try:
                self._call(config, context, "GET", f"{runs}/{quote(run_id, safe='')}")
            except TriggerError as exc:
                if exc.failure is FailureClass.TRANSIENT:
                    raise
                raise TriggerError(
                    f"airflow DAG {dag} already has a run for logical date {body['logical_date']} "
                    f"(409 Conflict, and no run {run_id!r}): clear or rerun it in Airflow",
                    failure=FailureClass.PERMANENT,
                ) from exc
        elif not isinstance(answer, dict) or "dag_run_id" not in answer:
            raise TriggerError(
                f"airflow DAG {dag} answered the trigger without a dag_run_id: {scrub(repr(answer))[:200]}",
                failure=FailureClass.TRANSIENT,
            )
        return RunHandle(
            run_id,
            {
                "airflow_url": base,
                "airflow_api": config.apiVersion,
                "airflow_dag_id": dag,
                "airflow_dag_run_id": run_id,
                **self.run_metadata(context),
            },
        )

    def _call(
        self,
        config: AirflowJobConfig,
        context: TriggerContext,
        method: str,
        url: str,
        body: Any = None,
    ) -> tuple[int, Any]:
        return self.call_json(
            method,
            url,
            context=context,
            auth=config.auth,
            headers=config.headers,
            body=body,
            timeout=config.timeout,
        )

    def status(self, job_config: Any, handle: RunHandle) -> JobStatus:
        """Poll the DAG run with the start's auth (see the module docstring for the mapping).

        Args:
            job_config: the job's config (its auth, headers and timeout are used).
            handle: the handle :meth:`start` returned.

        Returns:
            The DAG run's state.
        """
        base = str(handle.metadata.get("airflow_url", ""))
        api = str(handle.metadata.get("airflow_api", "v1"))
        dag = str(handle.metadata.get("airflow_dag_id", ""))
        run = str(handle.metadata.get("airflow_dag_run_id", ""))
        what = f"airflow DAG {dag} run {run}"
        try:
            config = parse_config(AirflowJobConfig, job_config, "airflow")
            if not base or not dag or not run:
                raise TriggerError("the handle names no DAG run", failure=FailureClass.PERMANENT)
            url = f"{base}/api/{api}/dags/{quote(dag, safe='')}/dagRuns/{quote(run, safe='')}"
            _, answer = self._call(config, self.handle_context(handle), "GET", url)
        except TriggerError as exc:
            return poll_error_status(exc, what)
        state = str(answer.get("state", "") if isinstance(answer, dict) else "")
        if state == "success":
            return JobStatus("succeeded", None, f"{what} success")
        if state == "failed":
            note = answer.get("note") if isinstance(answer, dict) else None
            extra = f": {note}" if note else ": see the failed task's log in Airflow"
            return JobStatus("failed", FailureClass.TRANSIENT, f"{what} failed{extra}")
        return JobStatus("running", None, f"{what} {state or 'state unknown'}")
