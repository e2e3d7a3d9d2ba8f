"""Tests for ``interlock.lifecycle.run``: every transition of the run state table and its boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from interlock.config.models import PipelineConfig
from interlock.events import EventType
from interlock.lifecycle import (
    AppendJobLog,
    Claim,
    Decision,
    PublishEvent,
    RunRef,
    RunState,
    SetRunStatus,
    check_job_step,
    evaluate_step,
    trigger_exhausted_step,
    trigger_step,
)
from interlock.lifecycle.run import trigger_backoff
from interlock.records import JobEvent, RunStatus
from interlock.triggers.base import FailureClass, JobStatus, RunHandle, TriggerError

T0 = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
RUN = RunRef("orders", "stream", "2026-03-04", attempt=2)
JOB_FIELDS = {"state", "waitSeconds", "runId", "metadata", "pollStartedAt", "error"}
EVAL_FIELDS = {"state", "waitSeconds", "results", "elapsedSeconds"}


def config(window: str = "1h", interval: str = "5m") -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "pipeline": {"id": "orders"},
            "schedule": {
                "trigger": {"key": "orders"},
                "evaluation": {"window": window, "interval": interval},
            },
            "validation": {
                "trigger": "ALL",
                "rules": [{"key": "orders", "check": "gte", "field": "count", "value": 10}],
            },
            "job": {"type": "command", "config": {"command": "true"}},
        }
    )


READY: dict[str, Any] = {"orders": {"count": 12}}
NOT_READY: dict[str, Any] = {"orders": {"count": 3}}


def events(d: Decision) -> list[EventType]:
    return [a.type for a in d.actions if isinstance(a, PublishEvent)]


def logs(d: Decision) -> list[AppendJobLog]:
    return [a for a in d.actions if isinstance(a, AppendJobLog)]


def statuses(d: Decision) -> list[SetRunStatus]:
    return [a for a in d.actions if isinstance(a, SetRunStatus)]


# ------------------------------------------------------------------------------------- evaluate


def test_rules_pass_moves_to_triggering() -> None:
    d = evaluate_step(config(), READY, run=RUN, started_at=T0, now=T0)
    assert d.next == RunState.TRIGGERING
    assert events(d) == [EventType.VALIDATION_PASSED]
    assert set(d.output) == EVAL_FIELDS
    assert d.output["state"] == "TRIGGERING"
    assert d.output["results"][0]["passed"] is True


def test_not_ready_waits_one_interval() -> None:
    d = evaluate_step(config(), NOT_READY, run=RUN, started_at=T0, now=T0 + timedelta(minutes=10))
    assert d.next == RunState.EVALUATING
    assert d.actions == ()
    assert set(d.output) == EVAL_FIELDS
    assert d.output["waitSeconds"] == 300
    assert d.output["elapsedSeconds"] == 600


def test_wait_is_cut_to_the_window_end() -> None:
    now = T0 + timedelta(minutes=58, seconds=20)
    d = evaluate_step(config(), NOT_READY, run=RUN, started_at=T0, now=now)
    assert d.output["waitSeconds"] == 100
    almost = T0 + timedelta(hours=1) - timedelta(milliseconds=300)
    assert (
        evaluate_step(config(), NOT_READY, run=RUN, started_at=T0, now=almost).output["waitSeconds"]
        == 1
    )


def test_exhaustion_exactly_at_the_window_end() -> None:
    end = T0 + timedelta(hours=1)
    before = evaluate_step(
        config(), NOT_READY, run=RUN, started_at=T0, now=end - timedelta(seconds=1)
    )
    assert before.next == RunState.EVALUATING
    d = evaluate_step(config(), NOT_READY, run=RUN, started_at=T0, now=end)
    assert d.next == RunState.VALIDATION_EXHAUSTED
    assert set(d.output) == EVAL_FIELDS
    assert d.output["waitSeconds"] == 0
    assert events(d) == [EventType.VALIDATION_EXHAUSTED]
    (log,) = logs(d)
    assert log.event is JobEvent.VALIDATION_EXHAUSTED
    assert (log.pipeline_id, log.schedule_id, log.period) == ("orders", "stream", "2026-03-04")
    assert statuses(d) == [
        SetRunStatus("orders", "stream", "2026-03-04", RunStatus.FAILED_FINAL, 2, end)
    ]


def test_rules_passing_at_the_window_end_still_pass() -> None:
    d = evaluate_step(config(), READY, run=RUN, started_at=T0, now=T0 + timedelta(hours=1))
    assert d.next == RunState.TRIGGERING


# -------------------------------------------------------------------------------------- trigger


def test_started_job_is_running_and_triggered_once() -> None:
    handle = RunHandle("r-1", {"pid": 42})
    d = trigger_step(handle, run=RUN, job_type="command", retries=0, now=T0)
    assert d.next == RunState.RUNNING
    assert events(d) == [EventType.JOB_TRIGGERED]
    assert set(d.output) == JOB_FIELDS
    assert d.output["runId"] == "r-1"
    assert d.output["metadata"] == {"pid": 42}
    assert d.output["pollStartedAt"] == "2026-03-04T09:00:00Z"
    assert d.output["waitSeconds"] == 60


@pytest.mark.parametrize(("retries", "wait"), [(0, 30), (1, 60), (2, 120), (3, 240)])
def test_transient_failure_retries_with_backoff(retries: int, wait: int) -> None:
    err = TriggerError("connection refused", failure=FailureClass.TRANSIENT)
    d = trigger_step(err, run=RUN, job_type="http", retries=retries, now=T0)
    assert d.next == RunState.TRIGGERING
    assert d.output["waitSeconds"] == wait
    assert trigger_backoff(retries + 1) == timedelta(seconds=wait)
    assert set(d.output) == JOB_FIELDS
    assert events(d) == []
    (log,) = logs(d)
    assert log.event is JobEvent.INFRA_TRIGGER_FAILURE
    assert log.category == "transient"


def test_last_transient_failure_exhausts() -> None:
    err = TriggerError("503", failure=FailureClass.TRANSIENT)
    d = trigger_step(err, run=RUN, job_type="http", retries=4, now=T0)
    assert d.next == RunState.TRIGGER_EXHAUSTED
    assert events(d) == [EventType.RETRY_EXHAUSTED]
    assert [x.event for x in logs(d)] == [JobEvent.INFRA_TRIGGER_EXHAUSTED]
    assert [s.status for s in statuses(d)] == [RunStatus.FAILED_FINAL]
    assert set(d.output) == JOB_FIELDS
    assert d.output["waitSeconds"] == 0
    custom = trigger_step(err, run=RUN, job_type="http", retries=1, now=T0, max_trigger_attempts=1)
    assert custom.next == RunState.TRIGGER_EXHAUSTED


def test_permanent_failure_is_not_retried() -> None:
    err = TriggerError("404 not found", failure=FailureClass.PERMANENT)
    d = trigger_step(err, run=RUN, job_type="http", retries=0, now=T0)
    assert d.next == RunState.TRIGGER_EXHAUSTED
    assert logs(d)[0].category == "permanent"
    assert "permanent" in d.output["error"]


def test_trigger_exhausted_catch_path() -> None:
    d = trigger_exhausted_step(run=RUN, cause="", now=T0)
    assert d.next == RunState.TRIGGER_EXHAUSTED
    assert events(d) == [EventType.RETRY_EXHAUSTED]
    assert set(d.output) == JOB_FIELDS


# ------------------------------------------------------------------------------------ check job

HANDLE = RunHandle("r-1", {"pid": 42})
WINDOW = timedelta(hours=1)


def test_succeeded_completes() -> None:
    d = check_job_step(
        JobStatus("succeeded"),
        run=RUN,
        handle=HANDLE,
        poll_started_at=T0,
        now=T0 + WINDOW / 2,
        poll_window=WINDOW,
    )
    assert d.next == RunState.COMPLETED
    assert [x.event for x in logs(d)] == [JobEvent.SUCCESS]
    assert logs(d)[0].run_id == "r-1"
    assert [s.status for s in statuses(d)] == [RunStatus.COMPLETED]
    assert events(d) == []  # JOB_COMPLETED comes from the router when the success row lands
    assert set(d.output) == JOB_FIELDS


def test_failed_records_category_and_job_failed() -> None:
    status = JobStatus("failed", FailureClass.PERMANENT, "exit 2")
    d = check_job_step(
        status, run=RUN, handle=HANDLE, poll_started_at=T0, now=T0, poll_window=WINDOW
    )
    assert d.next == RunState.FAILED
    (log,) = logs(d)
    assert (log.event, log.category, log.error) == (JobEvent.FAIL, "permanent", "exit 2")
    assert events(d) == [EventType.JOB_FAILED]
    assert [s.status for s in statuses(d)] == [RunStatus.FAILED_FINAL]
    assert set(d.output) == JOB_FIELDS
    bare = check_job_step(
        JobStatus("failed"), run=RUN, handle=HANDLE, poll_started_at=T0, now=T0, poll_window=WINDOW
    )
    assert bare.reason == "job failed"
    assert logs(bare)[0].category is None


def test_outcome_unknown_is_held_with_one_alert_never_failed() -> None:
    status = JobStatus("running", None, "outcome unknown: no exit status", unknown=True)
    d = check_job_step(
        status, run=RUN, handle=HANDLE, poll_started_at=T0, now=T0, poll_window=WINDOW
    )
    assert d.next == RunState.RUNNING  # held: polled again, never retried, never JOB_FAILED
    assert events(d) == [EventType.JOB_OUTCOME_UNKNOWN]
    claim, event = d.actions
    assert isinstance(claim, Claim) and claim.name == "JOB_OUTCOME_UNKNOWN-a2"  # once per attempt
    assert isinstance(event, PublishEvent)
    assert event.detail == {"runId": "r-1", "reason": "outcome unknown: no exit status"}
    assert logs(d) == [] and statuses(d) == []


def test_running_waits_and_echoes_the_handle() -> None:
    d = check_job_step(
        JobStatus("running"),
        run=RUN,
        handle=HANDLE,
        poll_started_at=T0,
        now=T0 + timedelta(minutes=1),
        poll_window=WINDOW,
    )
    assert d.next == RunState.RUNNING
    assert d.actions == ()
    assert d.output["waitSeconds"] == 60
    assert (d.output["runId"], d.output["metadata"], d.output["pollStartedAt"]) == (
        "r-1",
        {"pid": 42},
        "2026-03-04T09:00:00Z",
    )


def test_poll_exhaustion_exactly_at_the_window_end() -> None:
    running = JobStatus("running")
    before = check_job_step(
        running,
        run=RUN,
        handle=HANDLE,
        poll_started_at=T0,
        now=T0 + WINDOW - timedelta(seconds=30),
        poll_window=WINDOW,
    )
    assert before.next == RunState.RUNNING
    assert before.output["waitSeconds"] == 30
    d = check_job_step(
        running, run=RUN, handle=HANDLE, poll_started_at=T0, now=T0 + WINDOW, poll_window=WINDOW
    )
    assert d.next == RunState.POLL_EXHAUSTED
    assert [x.event for x in logs(d)] == [JobEvent.JOB_POLL_EXHAUSTED]
    assert events(d) == [EventType.JOB_POLL_EXHAUSTED]
    assert [s.status for s in statuses(d)] == [RunStatus.FAILED_FINAL]
    assert set(d.output) == JOB_FIELDS


def test_terminal_states() -> None:
    assert {s for s in RunState if s.terminal} == {
        RunState.COMPLETED,
        RunState.FAILED,
        RunState.VALIDATION_EXHAUSTED,
        RunState.TRIGGER_EXHAUSTED,
        RunState.POLL_EXHAUSTED,
    }
