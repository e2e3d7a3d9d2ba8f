"""Issue [4/5] scenarios: dry run (shadow mode) observes and changes nothing.

Ports reference §12.6 HandleSensorEvent_DryRun_* (WouldTrigger, LateData, SLAProjection_Met/_Breach,
ValidationNotReady, Completed_NoSLA/_WithSLA), DryRunPostRunSensor_*, Rerun_DryRun_* and
JobFailure_DryRun_*, plus the operator's switch (DRY_RUN_SWITCHED) on and off in the middle of a day.
"""

from __future__ import annotations

from typing import Any

from tests.scenarios.harness import at, iso, pipeline, sensor, types, world
from tests.scenarios.test_watchdog_scenarios import live

READY = {"status": "ready"}
RUN = ["VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_COMPLETED"]
WOULD = ["DRY_RUN_WOULD_TRIGGER", "DRY_RUN_COMPLETED"]


def _ready(hour: int = 9) -> list[dict[str, Any]]:
    return [
        sensor(at(hour), "orders-count", count=12),
        sensor(at(hour, 1), "orders-landed", **READY),
    ]


def _switch(hour: int, on: bool) -> dict[str, Any]:
    return {
        "at": iso(at(hour)),
        "dryRun": {"pipeline": "orders", "on": on, "reason": "test", "by": "carol"},
    }


def test_dry_run_would_trigger_and_never_triggers() -> None:
    # HandleSensorEvent_DryRun_WouldTrigger / _Completed_NoSLA
    events = world([pipeline(dryRun=True)], _ready(), end=at(12))
    assert types(events) == WOULD
    assert events[0].detail == {"triggeredAt": "2026-03-04T09:01:00Z", "rulesEvaluated": 1}
    assert events[1].detail["slaStatus"] == "n/a"


def test_dry_run_leaves_no_run_rows_and_starts_no_job() -> None:
    with live(at(8)) as w:
        w.config(pipeline(dryRun=True, sla={"deadline": "10:00", "expectedDuration": "30m"}))
        w.sensor("orders", "orders-count", count=12)
        w.sensor("orders", "orders-landed", **READY)
        w.run_until(at(9))
        w.sensor("orders", "orders-landed", **READY)
        w.run_until(at(23, 59))
        assert w.types() == [
            "DRY_RUN_WOULD_TRIGGER", "DRY_RUN_SLA_PROJECTION", "DRY_RUN_COMPLETED", "DRY_RUN_LATE_DATA",
        ]  # fmt: skip
        assert w.store.control.runs("orders") == []
        assert w.runner.started == []
        assert w.store.control.get_dry_run("orders", "stream", "2026-03-04") is not None


def test_dry_run_not_ready_is_silent() -> None:
    # HandleSensorEvent_DryRun_ValidationNotReady
    events = world(
        [pipeline(dryRun=True)],
        [sensor(at(9), "orders-count", count=1), sensor(at(9, 1), "orders-landed", **READY)],
        end=at(12),
    )
    assert types(events) == []


def test_dry_run_sla_projection_breach() -> None:
    # HandleSensorEvent_DryRun_SLAProjection_Breach: stream daily 08:00 is due 2026-03-05T08:00Z
    cfg = pipeline(dryRun=True, sla={"deadline": "08:00", "expectedDuration": "2h"})
    events = world(
        [cfg],
        [sensor(at(9), "orders-count", count=12),
         sensor(at(23, 1), "orders-landed", status="ready")],
        end=at(23, 30),
    )  # fmt: skip
    assert types(events) == ["DRY_RUN_WOULD_TRIGGER", "DRY_RUN_SLA_PROJECTION", "DRY_RUN_COMPLETED"]
    projection = events[1].detail
    assert projection["status"] == "met"
    assert projection["marginSeconds"] == 6 * 3600 + 59 * 60
    cfg = pipeline(dryRun=True, sla={"deadline": "01:00", "expectedDuration": "3h"},
                   schedule={"timezone": "UTC"})  # fmt: skip
    events = world(
        [cfg],
        [sensor(at(9), "orders-count", count=12),
         sensor(at(23, 1), "orders-landed", status="ready")],
        end=at(23, 30),
    )  # fmt: skip
    assert events[1].detail["status"] == "breach"
    assert events[2].detail["slaStatus"] == "breach"


def test_dry_run_rerun_and_drift_are_only_reported() -> None:
    # DryRunPostRunSensor_DriftDetected, Rerun_DryRun_SkipsExecution / _NoJobHistory
    post = {"rules": [{"key": "orders-audit", "check": "exists"}]}
    events = world(
        [pipeline(dryRun=True, postRun=post)],
        [
            sensor(at(8), "orders-audit", sensor_count=100),
            *_ready(),
            sensor(at(10), "orders-audit", sensor_count=140),
            {"at": iso(at(11)), "rerun": {"pipeline": "orders", "date": "2026-03-04"}},
        ],
        end=at(12),
    )
    assert types(events) == [*WOULD, "DRY_RUN_DRIFT", "RERUN_REQUESTED", "DRY_RUN_WOULD_RERUN"]
    assert events[2].detail["delta"] == 40
    assert events[-1].detail["circuitBreaker"] == "skipped (no job history)"


def test_dry_run_switched_on_mid_day_by_the_operator() -> None:
    # a live run in the morning, dry run from 10:00: the late trigger rewrite is only observed
    events = world(
        [pipeline()],
        [*_ready(), _switch(10, True), sensor(at(11), "orders-landed", **READY)],
        end=at(12),
    )
    assert types(events) == [*RUN, "DRY_RUN_SWITCHED", *WOULD]
    assert events[3].actor == "carol" and events[3].timestamp == at(10)
    assert "JOB_TRIGGERED" not in types(events[4:])


def test_dry_run_switched_off_mid_day_starts_the_live_run() -> None:
    events = world(
        [pipeline(dryRun=True)],
        [*_ready(), _switch(10, False), sensor(at(11), "orders-landed", **READY)],
        end=at(12),
    )
    assert types(events) == [*WOULD, "DRY_RUN_SWITCHED", *RUN]
    assert events[4].timestamp == at(11)


def test_dry_run_switched_on_while_a_run_is_in_flight_lets_it_finish() -> None:
    switch = {"at": iso(at(9, 5)), "dryRun": {"pipeline": "orders", "on": True, "by": "carol"}}
    events = world(
        [pipeline()],
        [*_ready(), switch, sensor(at(10), "orders-landed", **READY)],  # job runs 09:01-09:11
        end=at(11),
    )
    assert types(events) == [
        "VALIDATION_PASSED", "JOB_TRIGGERED", "DRY_RUN_SWITCHED", "JOB_COMPLETED", *WOULD,
    ]  # fmt: skip
    assert events[3].timestamp == at(9, 11)  # the live run finished live
    assert events[2].detail["dryRun"] is True
