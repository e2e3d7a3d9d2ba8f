"""JOB_FAILED says whether an automatic retry follows, and its Slack hint says the same.

The orchestrator publishes JOB_FAILED before the stream router decides the retry
(:func:`~interlock.lifecycle.reruns.decide_job_log`); :func:`~interlock.lifecycle.reruns.retry_outlook`
answers that question ahead of time, so the two must agree.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from interlock.alerts.format import action_hint
from interlock.config.models import PipelineConfig
from interlock.events import Event, EventType
from interlock.lifecycle import PublishEvent, RunRef, check_job_step
from interlock.lifecycle.reruns import RetryOutlook, decide_job_log, retry_outlook
from interlock.lifecycle.router import JobLogWrite
from interlock.records import RunRow, RunStatus
from interlock.triggers.base import FailureClass, JobStatus, RunHandle

T0 = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)  # a Wednesday
WEEKDAY, SATURDAY = "2026-03-04", "2026-03-07"


def _config(max_retries: int, max_code_retries: int) -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "pipeline": {"id": "orders"},
            "schedule": {"trigger": {"key": "orders"}, "exclude": {"weekends": True}},
            "validation": {"trigger": "ALL", "rules": [{"key": "orders", "check": "exists"}]},
            "job": {
                "type": "command",
                "config": {"command": "true"},
                "maxRetries": max_retries,
                "maxCodeRetries": max_code_retries,
            },
        }
    )


@pytest.mark.parametrize("period", [WEEKDAY, SATURDAY])
@pytest.mark.parametrize("category", ["transient", "permanent", None])
@pytest.mark.parametrize(("max_retries", "max_code_retries"), [(0, 0), (2, 0), (0, 1), (3, 2)])
@pytest.mark.parametrize("used", [0, 1, 2, 3])
def test_the_outlook_agrees_with_the_retry_decision(
    period: str, category: str | None, max_retries: int, max_code_retries: int, used: int
) -> None:
    config = _config(max_retries, max_code_retries)
    item: dict[str, Any] = {"event": "fail", "attempt": used + 1}
    if category is not None:
        item["category"] = category
    write = JobLogWrite("orders", "stream", period, "fail", "1", item)
    row = RunRow("orders", "stream", period, RunStatus.FAILED_FINAL, attempt=used + 1)

    decision = decide_job_log(config, write, run_row=row, retries_used=used, calendars={}, now=T0)
    outlook = retry_outlook(
        config, category=category, retries_used=used, period=period, calendars={}
    )

    assert outlook.follows is (decision.next == "retry")
    if outlook.follows:
        assert decision.reason.startswith(f"retry {outlook.retry} of {outlook.budget} ")


RUN = RunRef("orders", "stream", WEEKDAY, attempt=2)
HANDLE = RunHandle("orders-stream-2026-03-04-a2", {})


def _job_failed(retry: RetryOutlook | None) -> PublishEvent:
    decision = check_job_step(
        JobStatus("failed", FailureClass.TRANSIENT, "exit 1"),
        run=RUN,
        handle=HANDLE,
        poll_started_at=T0,
        now=T0,
        poll_window=timedelta(hours=1),
        retry=retry,
    )
    [event] = [a for a in decision.actions if isinstance(a, PublishEvent)]
    assert event.type is EventType.JOB_FAILED
    return event


def _hint(event: PublishEvent) -> str | None:
    return action_hint(
        Event.create(
            event.type,
            event.pipeline_id,
            now=event.at,
            schedule_id=event.schedule_id,
            date=event.period,
            detail=event.detail,
        )
    )


def test_a_job_failed_that_will_be_retried_says_so_in_slack() -> None:
    event = _job_failed(RetryOutlook(True, 1, 2))

    assert event.detail["willRetry"] is True
    assert (event.detail["retry"], event.detail["maxRetries"], event.detail["nextAttempt"]) == (
        1,
        2,
        3,
    )
    hint = _hint(event)
    assert hint is not None
    assert hint.startswith("an automatic retry follows (retry 1 of 2, attempt 3)")
    assert "interlock rerun" not in hint


def test_a_job_failed_with_no_retry_left_keeps_the_rerun_hint() -> None:
    for retry in (RetryOutlook(False, 0, 2), None):  # None: the caller could not tell
        event = _job_failed(retry)
        assert event.detail.get("willRetry") in (False, None)
        assert "retry" not in event.detail
        assert _hint(event) == (
            "rerun with `interlock rerun orders --period 2026-03-04 --reason …`"
        )
