"""Issue [4/5] scenarios: job-failure retries, rerun requests, budgets and the circuit breaker.

Ports reference §12.2 AutoRetries / FailureClassification / RerunReplay / RerunLimits /
RerunBudgetSeparation / ConcurrentDriftDedup / RerunAfterTriggerTTLExpiry, and §12.6 JobFail_* and
Rerun_* / RerunRequest_* (budgets per reason, circuit breaker, calendar exclusion).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from interlock.alerts.format import action_hint
from tests.scenarios.harness import DAY, at, iso, jobs, pipeline, sensor, types, world

READY = {"status": "ready"}
TODAY = "2026-03-04"


def _ready() -> list[dict[str, Any]]:
    return [sensor(at(9), "orders-count", count=12), sensor(at(9, 1), "orders-landed", **READY)]


def _job(**budgets: Any) -> dict[str, Any]:
    return {"type": "command", "config": {"command": "true"}, **budgets}


def _rerun(hour: int, minute: int = 0, reason: str = "manual", date: str = TODAY) -> dict[str, Any]:
    body = {"pipeline": "orders", "date": date, "reason": reason, "by": "bob"}
    return {"at": iso(at(hour, minute)), "rerun": body}


def _touch(hour: int, minute: int = 0, count: int = 13) -> dict[str, Any]:
    """New sensor data (what lets a rerun after a success through the circuit breaker)."""
    return sensor(at(hour, minute), "orders-count", count=count)


RUN = ["VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_COMPLETED"]
RERUN = ["RERUN_REQUESTED", "RERUN_ACCEPTED", *RUN]


def test_no_retry_budget_means_no_retry_exhausted_after_job_failed() -> None:
    # e2e AutoRetries/JobFailRetryExhausted with maxRetries 0: the original added RETRY_EXHAUSTED
    events = world([pipeline()], [jobs(at(8), outcome="fail"), *_ready()], end=at(12))
    assert types(events) == ["VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_FAILED"]


def test_permanent_failure_with_no_code_retries_is_not_retried() -> None:
    # FailureClassification/PermanentFailureNoRetry (maxRetries 3, maxCodeRetries 0): no retry; and,
    # as for maxRetries 0, no RETRY_EXHAUSTED after the JOB_FAILED (nothing was retried)
    cfg = pipeline(job=_job(maxRetries=3, maxCodeRetries=0))
    events = world([cfg], [jobs(at(8), outcome="fail-permanent"), *_ready()], end=at(12))
    assert types(events) == ["VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_FAILED"]
    assert events[-1].detail["category"] == "permanent"


def test_permanent_failure_with_one_code_retry_retries_once() -> None:
    # FailureClassification/PermanentFailureOneRetry
    cfg = pipeline(job=_job(maxRetries=0, maxCodeRetries=1))
    events = world([cfg], [jobs(at(8), outcome="fail-permanent"), *_ready()], end=at(12))
    assert types(events) == [
        "VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_FAILED",
        "VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_FAILED",
        "RETRY_EXHAUSTED",
    ]  # fmt: skip
    assert events[-1].detail["maxRetries"] == 1


def test_transient_failure_uses_max_retries_not_code_retries() -> None:
    # JobFail_TransientUsesMaxRetries
    cfg = pipeline(job=_job(maxRetries=1, maxCodeRetries=0))
    events = world([cfg], [jobs(at(8), outcome="fail"), *_ready()], end=at(12))
    assert types(events) == [
        "VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_FAILED",
        "VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_FAILED",
        "RETRY_EXHAUSTED",
    ]  # fmt: skip


def test_retries_do_not_consume_the_manual_budget() -> None:
    # JobFail_DriftRerunsIgnored, the other way round: job-fail-retry rows are their own bucket
    cfg = pipeline(job=_job(maxRetries=1))
    events = world(
        [cfg],
        [jobs(at(8), outcome="fail"), *_ready(), jobs(at(10), outcome="success"), _rerun(11)],
        end=at(12),
    )
    assert types(events) == [
        "VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_FAILED",
        "VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_FAILED",
        "RETRY_EXHAUSTED", *RERUN,
    ]  # fmt: skip
    accepted = events[8]
    assert accepted.detail["attempt"] == 3
    assert (accepted.detail["rerunCount"], accepted.detail["budget"]) == (1, 1)


def test_rerun_after_failure_skips_the_circuit_breaker() -> None:
    # RerunReplay/RerunAfterFailure: latest job failed, sensors unchanged ⇒ accepted
    events = world(
        [pipeline()],
        [jobs(at(8), outcome="fail"), *_ready(), jobs(at(9, 30), outcome="success"), _rerun(10)],
        end=at(12),
    )
    assert types(events) == ["VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_FAILED", *RERUN]
    assert events[3].actor == "bob"
    assert events[-2].detail["runId"] == "orders-stream-2026-03-04-a2"


def test_circuit_breaker_rejects_a_rerun_of_unchanged_data() -> None:
    # RerunReplay/RerunRejected, RerunRequest_SuccessDataUnchanged_Rejected
    events = world([pipeline()], [*_ready(), _rerun(10)], end=at(12))
    assert types(events) == [*RUN, "RERUN_REQUESTED", "RERUN_REJECTED"]
    assert "no sensor data has changed" in events[-1].message


def test_circuit_breaker_lets_a_rerun_of_changed_data_through() -> None:
    # RerunReplay/RerunAccepted, RerunRequest_SuccessDataChanged_Allowed
    events = world([pipeline()], [*_ready(), _touch(9, 30), _rerun(10)], end=at(12))
    assert types(events) == [*RUN, *RERUN]
    assert events[4].detail["attempt"] == 2


def test_manual_budget_exhausted_then_rejected() -> None:
    # Rerun_ManualLimitExceeded
    events = world(
        [pipeline()],
        [*_ready(), _touch(9, 30), _rerun(10), _touch(10, 30, 14), _rerun(11)],
        end=at(12),
    )
    assert types(events) == [*RUN, *RERUN, "RERUN_REQUESTED", "RERUN_REJECTED"]
    assert "manual rerun limit exceeded (1/1)" in events[-1].message


def test_each_manual_reason_has_its_own_budget() -> None:
    # §8.3: any reason other than drift/late data is its own maxManualReruns bucket
    events = world(
        [pipeline()],
        [*_ready(), _touch(9, 30), _rerun(10), _touch(10, 30, 14), _rerun(11, reason="backfill")],
        end=at(12),
    )
    assert types(events) == [*RUN, *RERUN, *RERUN]
    assert [e.detail["reason"] for e in events if e.type.value == "RERUN_ACCEPTED"] == [
        "manual",
        "backfill",
    ]


def test_drift_budget_exhausted_then_manual_still_works() -> None:
    # RerunBudgetSeparation/ExhaustDriftThenManualStillWorks (maxDrift 1, maxManual 2)
    cfg = pipeline(job=_job(maxDriftReruns=1, maxManualReruns=2))
    events = world(
        [cfg],
        [
            *_ready(),
            _touch(9, 20), _rerun(9, 30, "data-drift"),
            _touch(9, 50), _rerun(10, 0, "data-drift"),
            _rerun(10, 10, "manual"),
            _touch(10, 30), _rerun(10, 40, "manual"),
            _touch(11, 0), _rerun(11, 10, "manual"),
        ],
        end=at(12),
    )  # fmt: skip
    assert types(events) == [
        *RUN,
        *RERUN,                                  # drift #1
        "RERUN_REQUESTED", "RERUN_REJECTED",     # drift #2: drift budget 1/1
        *RERUN,                                  # manual #1
        *RERUN,                                  # manual #2
        "RERUN_REQUESTED", "RERUN_REJECTED",     # manual #3: manual budget 2/2
    ]  # fmt: skip
    assert "drift rerun limit exceeded (1/1)" in events[9].message
    assert "manual rerun limit exceeded (2/2)" in events[-1].message


def test_late_data_and_drift_share_one_budget() -> None:
    # RerunLimits/LateDataCountedAsDrift
    events = world(
        [pipeline()],
        [*_ready(), sensor(at(10), "orders-landed", **READY), _touch(10, 30), _rerun(11, 0, "data-drift")],
        end=at(12),
    )  # fmt: skip
    assert types(events) == [
        *RUN, "LATE_DATA_ARRIVAL", "RERUN_ACCEPTED", *RUN, "RERUN_REQUESTED", "RERUN_REJECTED",
    ]  # fmt: skip
    assert events[4].detail["reason"] == "late-data"
    assert "drift rerun limit exceeded" in events[-1].message


def test_rerun_of_a_period_that_never_ran_is_rejected() -> None:
    # RerunAfterTriggerTTLExpiry/TriggerDeleted: the original published INFRA_FAILURE
    events = world([pipeline()], [_rerun(10, date="2026-03-03")], end=at(11))
    assert types(events) == ["RERUN_REQUESTED", "RERUN_REJECTED"]
    assert "never ran" in events[-1].message


def test_rerun_of_an_excluded_day_is_blocked_by_the_calendar() -> None:
    # RerunRequest_WeekendExclusion
    cfg = pipeline(schedule={"exclude": {"weekends": True}})
    events = world([cfg], [_rerun(10, date="2026-03-07")], end=at(11))
    assert types(events) == ["RERUN_REQUESTED", "PIPELINE_EXCLUDED"]
    assert events[-1].date == "2026-03-07"


def test_a_replayed_rerun_request_is_one_rerun() -> None:
    cfg = pipeline(job=_job(maxManualReruns=3))
    events = world(
        [cfg], [jobs(at(8), outcome="fail"), *_ready(), _rerun(10), _rerun(10)], end=at(12)
    )
    # two requests at the same instant are two requests: the second finds the run RUNNING
    assert types(events).count("RERUN_ACCEPTED") == 1
    assert types(events)[:4] == [
        "VALIDATION_PASSED",
        "JOB_TRIGGERED",
        "JOB_FAILED",
        "RERUN_REQUESTED",
    ]


def test_rerun_next_day_of_yesterdays_period() -> None:
    events = world(
        [pipeline()],
        [jobs(at(8), outcome="fail"), *_ready(), jobs(at(12), outcome="success"),
         {"at": iso(DAY + timedelta(days=1, hours=8)),
          "rerun": {"pipeline": "orders", "date": TODAY, "reason": "manual"}}],
        end=DAY + timedelta(days=1, hours=9),
    )  # fmt: skip
    assert types(events) == ["VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_FAILED", *RERUN]
    assert {e.date for e in events} == {TODAY}


def test_job_failed_says_whether_an_automatic_retry_follows() -> None:
    # the JOB_FAILED alert said "rerun with …" even when a retry followed by itself
    cfg = pipeline(job=_job(maxRetries=1, maxCodeRetries=0))
    events = world([cfg], [jobs(at(8), outcome="fail"), *_ready()], end=at(12))
    first, second = [e for e in events if e.type.value == "JOB_FAILED"]
    assert (first.detail["willRetry"], first.detail["retry"], first.detail["maxRetries"]) == (
        True,
        1,
        1,
    )
    assert first.detail["nextAttempt"] == 2
    assert action_hint(first) == (
        "an automatic retry follows (retry 1 of 1, attempt 2): "
        "nothing to do unless RETRY_EXHAUSTED comes"
    )
    # the retry failed too and the budget is spent: now, and only now, a rerun is up to on-call
    assert second.detail["willRetry"] is False
    assert action_hint(second) == (
        f"rerun with `interlock rerun orders --period {TODAY} --reason …`"
    )
    assert types(events)[-1] == "RETRY_EXHAUSTED"
