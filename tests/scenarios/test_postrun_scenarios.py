"""Issue [4/5] scenarios: post-run baseline, drift (threshold 0 and > 0, in flight), rules, late data.

Ports reference §12.2 PostRunMonitoring/* (PostRunPasses, DriftDetected, DriftDetected_CustomField,
_DefaultField), PostRunInflight/*, DriftRetrigger/*, PostRunBeforeBaseline, RerunReplay/LateDataArrival,
and §12.6 PostRunSensor_* / LateDataArrival_* / PostRunDrift_CalendarExclusion.
"""

from __future__ import annotations

from typing import Any

from tests.scenarios.harness import at, jobs, pipeline, sensor, types, world

READY = {"status": "ready"}
RUN = ["VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_COMPLETED"]


def _ready(hour: int = 9) -> list[dict[str, Any]]:
    return [
        sensor(at(hour), "orders-count", count=12),
        sensor(at(hour, 1), "orders-landed", **READY),
    ]


def _cfg(threshold: float = 0, field: str | None = None, **overrides: Any) -> dict[str, Any]:
    post: dict[str, Any] = {
        "rules": [{"key": "orders-audit", "check": "gte", "field": "sensor_count", "value": 100}],
        "driftThreshold": threshold,
    }
    if field is not None:
        post["driftField"] = field
    return pipeline(postRun=post, **overrides)


def _audit(hour: int, minute: int, n: int, **more: Any) -> dict[str, Any]:
    return sensor(at(hour, minute), "orders-audit", sensor_count=n, **more)


def test_post_run_rules_pass() -> None:
    # PostRunMonitoring/PostRunPasses
    events = world([_cfg()], [_audit(8, 0, 100), *_ready(), _audit(10, 0, 100)], end=at(11))
    assert types(events) == [*RUN, "POST_RUN_BASELINE_CAPTURED", "POST_RUN_PASSED"]


def test_post_run_rules_fail_without_drift_over_threshold() -> None:
    events = world(
        [_cfg(threshold=50)], [_audit(8, 0, 120), *_ready(), _audit(10, 0, 90)], end=at(11)
    )
    assert types(events) == [*RUN, "POST_RUN_BASELINE_CAPTURED", "POST_RUN_FAILED"]
    assert "orders-audit.sensor_count = 90" in events[-1].message


def test_drift_with_threshold_zero_reruns_once() -> None:
    # PostRunMonitoring/DriftDetected + DriftRetrigger/DriftRetriggerSuccess
    events = world([_cfg()], [_audit(8, 0, 100), *_ready(), _audit(10, 0, 101)], end=at(11))
    assert types(events) == [
        *RUN, "POST_RUN_BASELINE_CAPTURED",
        "POST_RUN_DRIFT", "RERUN_ACCEPTED", *RUN, "POST_RUN_BASELINE_CAPTURED",
    ]  # fmt: skip
    drift = events[4]
    assert drift.detail == {
        "previousCount": 100,
        "currentCount": 101,
        "delta": 1,
        "driftField": "sensor_count",
        "driftThreshold": 0.0,
        "sensorKey": "orders-audit",
        "source": "post-run-stream",
    }
    assert events[5].detail["reason"] == "data-drift"


def test_change_within_the_threshold_is_not_drift() -> None:
    # strict ">": a delta equal to the threshold is no drift; the rules are evaluated instead
    events = world(
        [_cfg(threshold=10)], [_audit(8, 0, 100), *_ready(), _audit(10, 0, 110)], end=at(11)
    )
    assert types(events) == [*RUN, "POST_RUN_BASELINE_CAPTURED", "POST_RUN_PASSED"]


def test_change_over_the_threshold_is_drift() -> None:
    events = world(
        [_cfg(threshold=10)], [_audit(8, 0, 100), *_ready(), _audit(10, 0, 89)], end=at(10, 5)
    )
    assert types(events)[4:6] == ["POST_RUN_DRIFT", "RERUN_ACCEPTED"]
    assert events[4].detail["delta"] == -11


def test_drift_on_a_custom_field() -> None:
    # PostRunMonitoring/DriftDetected_CustomField
    cfg = _cfg(field="rows")
    events = world(
        [cfg],
        [_audit(8, 0, 100, rows=5), *_ready(), _audit(10, 0, 100, rows=6)],
        end=at(10, 5),
    )
    assert types(events)[4:6] == ["POST_RUN_DRIFT", "RERUN_ACCEPTED"]
    assert events[4].detail["driftField"] == "rows"


def test_second_drift_exhausts_the_drift_budget() -> None:
    # ConcurrentDriftDedup / RerunLimits/DriftRerunLimitExceeded
    events = world(
        [_cfg()],
        [_audit(8, 0, 100), *_ready(), _audit(10, 0, 120), _audit(10, 30, 140)],
        end=at(11),
    )
    assert types(events) == [
        *RUN, "POST_RUN_BASELINE_CAPTURED",
        "POST_RUN_DRIFT", "RERUN_ACCEPTED", *RUN, "POST_RUN_BASELINE_CAPTURED",
        "POST_RUN_DRIFT", "RERUN_REJECTED",
    ]  # fmt: skip
    assert events[-2].detail["previousCount"] == 120  # the rerun's baseline


def test_in_flight_drift_during_a_rerun_is_informational() -> None:
    # PostRunInflight/DriftWhileRunning_PublishesEvent_NoRerun: the first run's baseline stands
    # while its drift rerun runs; drift then is reported, not rerun
    events = world(
        [_cfg()],
        [
            _audit(8, 0, 100), *_ready(), jobs(at(9, 30), duration="40m"),
            _audit(10, 0, 120), _audit(10, 20, 150),
        ],
        end=at(10, 45),
    )  # fmt: skip
    assert types(events) == [
        *RUN, "POST_RUN_BASELINE_CAPTURED", "POST_RUN_DRIFT", "RERUN_ACCEPTED",
        "VALIDATION_PASSED", "JOB_TRIGGERED", "POST_RUN_DRIFT_INFLIGHT", "JOB_COMPLETED",
        "POST_RUN_BASELINE_CAPTURED",
    ]  # fmt: skip
    assert events[8].detail["currentCount"] == 150


def test_no_in_flight_drift_when_the_value_is_unchanged() -> None:
    # PostRunInflight/NoDriftWhileRunning_NoEvent: back at the baseline's value while running
    events = world(
        [_cfg()],
        [
            _audit(8, 0, 100), *_ready(), jobs(at(9, 30), duration="40m"),
            _audit(10, 0, 120), _audit(10, 20, 100),
        ],
        end=at(10, 45),
    )  # fmt: skip
    assert types(events) == [
        *RUN, "POST_RUN_BASELINE_CAPTURED", "POST_RUN_DRIFT", "RERUN_ACCEPTED",
        "VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_COMPLETED", "POST_RUN_BASELINE_CAPTURED",
    ]  # fmt: skip


def test_post_run_sensor_before_the_baseline_is_ignored() -> None:
    # PostRunBeforeBaseline/NoBaseline_GracefulSkip: a sensor while the first run is RUNNING
    events = world(
        [_cfg()],
        [jobs(at(8), duration="30m"), _audit(8, 0, 100), *_ready(), _audit(9, 10, 150)],
        end=at(9, 35),
    )
    assert types(events) == [*RUN, "POST_RUN_BASELINE_CAPTURED"]


def test_late_data_after_success_reruns_then_is_rejected() -> None:
    # RerunReplay/LateDataArrival, LateDataArrival_CompletedSuccess / _WritesRerunRequest
    events = world(
        [pipeline()],
        [*_ready(), sensor(at(10), "orders-landed", **READY), sensor(at(11), "orders-landed", **READY)],
        end=at(12),
    )  # fmt: skip
    assert types(events) == [
        *RUN, "LATE_DATA_ARRIVAL", "RERUN_ACCEPTED", *RUN, "LATE_DATA_ARRIVAL", "RERUN_REJECTED",
    ]  # fmt: skip
    assert events[3].detail["sensorKey"] == "orders-landed"


def test_trigger_rewrite_while_running_or_after_failure_is_silent() -> None:
    # LateDataArrival_StillRunning_Silent / _CompletedFailed_Silent
    events = world(
        [pipeline()],
        [
            jobs(at(8), outcome="fail"), *_ready(),
            sensor(at(9, 5), "orders-landed", **READY),   # RUNNING
            sensor(at(10), "orders-landed", **READY),     # FAILED_FINAL
        ],
        end=at(11),
    )  # fmt: skip
    assert types(events) == ["VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_FAILED"]


def test_drift_on_an_excluded_day_is_reported_without_a_rerun() -> None:
    # PostRunDrift_CalendarExclusion: the drift event always, then PIPELINE_EXCLUDED, no request
    cfg = _cfg(schedule={"exclude": {"dates": ["2026-03-03"]}})
    day = "2026-03-03"
    events = world(
        [cfg],
        [
            sensor(at(8), "orders-count", count=12, date=day),
            sensor(at(8), "orders-audit", sensor_count=100, date=day),
            # written on 2026-03-04 (not excluded) for the excluded business date: a run is refused
            sensor(at(9), "orders-landed", status="ready", date=day),
        ],
        end=at(10),
    )
    assert types(events) == ["PIPELINE_EXCLUDED"]
    assert events[0].date == day
