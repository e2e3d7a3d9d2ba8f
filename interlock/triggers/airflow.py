"""The ``airflow`` trigger: trigger a DAG run through Airflow's stable REST API, then poll it.

::

    start:  POST <url>/api/<v1|v2>/dags/<dagId>/dagRuns
                 {"dag_run_id": the run id, "logical_date": the period's start (UTC), "conf": body}
            -> handle {airflow_url, airflow_api, airflow_dag_id, airflow_dag_run_id, pipeline, period}
    status: GET <url>/api/<v>/dags/<dagId>/dagRuns/<dag_run_id>   (the same auth as the start)
            queued, running, restarting, up_for_retry, ... -> running
            success                                        -> succeeded
            failed                                         -> failed (transient), naming the failed
                                                              tasks (GET .../<dag_run_id>/taskInstances)

``apiVersion: v1`` is Airflow 2's stable API, ``v2`` Airflow 3's (Airflow 3 wants a JWT bearer token:
``auth.bearer``). The ``dag_run_id`` is Interlock's run id, so a replayed start gets 409 Conflict and
is given the existing run (the job is not started twice). A 409 for a run id that does not exist means
the DAG already has a run for that logical date (Airflow 2 allows one per date; a rerun of a period is a
new Interlock run id for the same date). That run is taken over rather than failing the rerun:

* still queued or running: followed as it is (the job is not started twice);
* finished (success or failed): cleared (``POST .../dagRuns/<id>/clear {"dry_run": false}``), which
  is how Airflow reruns a date, and followed;
* not to be found (another date format, deleted meanwhile): permanent, naming the date.

Calls go through the SSRF guard and carry the job's auth on every call (:mod:`interlock.triggers.rest`).

Permissions: an Airflow user or token that may trigger, read and clear DAG runs of the DAG and read
their task instances (Airflow's ``User`` role, or ``can_create``/``can_read``/``can_edit`` on *DAG Runs*
and ``can_read`` on *Task Instances*).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, urlencode

from interlock.config.models import AirflowJobConfig
from interlock.triggers.base import FailureClass, JobStatus, RunHandle, TriggerError
from interlock.triggers.http import scrub
from interlock.triggers.polling import parse_config, poll_error_status
from interlock.triggers.rest import RestJobRunner

if TYPE_CHECKING:
    from interlock.schedule import Period
    from interlock.triggers.base import TriggerContext

__all__ = ["AirflowRunner", "logical_date"]

log = logging.getLogger(__name__)

_FINISHED: Final = frozenset({"success", "failed"})
_TASKS_SHOWN: Final = 10


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
            TriggerError: permanent for 4xx (bad credentials, no permission, no such DAG, a 409
                with no run for the date to take over), an SSRF refusal; transient for 429, 5xx,
                timeouts.
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
        dag_run_id = run_id
        if status == 409:
            dag_run_id = self._existing_run(
                config, context, runs, run_id, body["logical_date"], dag
            )
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
                "airflow_dag_run_id": dag_run_id,
                **self.run_metadata(context),
            },
        )

    def _existing_run(
        self,
        config: AirflowJobConfig,
        context: TriggerContext,
        runs: str,
        run_id: str,
        date: str,
        dag: str,
    ) -> str:
        """The DAG run to follow after a 409 (see the module docstring): its ``dag_run_id``."""
        try:
            self._call(config, context, "GET", f"{runs}/{quote(run_id, safe='')}")
            return run_id  # a replayed start: our own run
        except TriggerError as exc:
            if exc.failure is FailureClass.TRANSIENT:
                raise
        field = "execution_date" if config.apiVersion == "v1" else "logical_date"
        window = urlencode({f"{field}_gte": date, f"{field}_lte": date})
        _, listing = self._call(config, context, "GET", f"{runs}?{window}")
        found = listing.get("dag_runs") if isinstance(listing, dict) else None
        other = found[0] if isinstance(found, list) and found and isinstance(found[0], dict) else {}
        other_id = other.get("dag_run_id")
        if not isinstance(other_id, str) or not other_id:
            raise TriggerError(
                f"airflow DAG {dag} refused run {run_id!r} (409 Conflict) and has no run for "
                f"logical date {date} to take over: clear or rerun it in Airflow",
                failure=FailureClass.PERMANENT,
            )
        state = str(other.get("state", ""))
        if state in _FINISHED:
            clear = f"{runs}/{quote(other_id, safe='')}/clear"
            self._call(config, context, "POST", clear, {"dry_run": False})
            log.warning(
                "airflow DAG %s already had run %s (%s) for %s: cleared it to rerun the date",
                dag,
                other_id,
                state,
                date,
            )
        else:
            log.warning(
                "airflow DAG %s already has run %s (%s) for %s: following it",
                dag,
                other_id,
                state or "state unknown",
                date,
            )
        return other_id

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
            tasks = self._failed_tasks(config, handle, url)
            named = f": failed tasks {', '.join(tasks)}" if tasks else ""
            extra = f" ({note})" if note else ""
            hint = (
                "; see their logs in Airflow" if tasks else ": see the failed task's log in Airflow"
            )
            return JobStatus("failed", FailureClass.TRANSIENT, f"{what} failed{named}{extra}{hint}")
        return JobStatus("running", None, f"{what} {state or 'state unknown'}")

    def _failed_tasks(self, config: AirflowJobConfig, handle: RunHandle, run_url: str) -> list[str]:
        """The ids of the run's failed tasks (best effort: none when Airflow does not say)."""
        try:
            _, answer = self._call(
                config, self.handle_context(handle), "GET", f"{run_url}/taskInstances"
            )
        except TriggerError as exc:
            log.warning("could not list the failed tasks of %s: %s", run_url, exc)
            return []
        instances = answer.get("task_instances") if isinstance(answer, dict) else None
        if not isinstance(instances, list):
            return []
        failed = {
            str(ti["task_id"])
            for ti in instances
            if isinstance(ti, dict) and ti.get("state") == "failed" and ti.get("task_id")
        }
        shown = sorted(failed)
        if len(shown) > _TASKS_SHOWN:
            return [*shown[:_TASKS_SHOWN], f"and {len(shown) - _TASKS_SHOWN} more"]
        return shown
