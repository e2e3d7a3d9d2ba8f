"""Issue [3/5] scenarios: whole lifecycles on the embedded runtime, a day on a virtual clock."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from interlock.config.models import PipelineConfig
from interlock.local.adapters import LocalExecutions
from interlock.local.runtime import EmbeddedRuntime
from interlock.local.simulate import JobBehaviour, SimulatedRunner
from interlock.ports import VirtualClock
from interlock.records import RunStatus
from interlock.store import open_store
from tests.scenarios.harness import DAY, at, jobs, periods, pipeline, sensor, types, world

if TYPE_CHECKING:
    from pathlib import Path

READY = {"status": "ready"}


def test_all_rules_pass_one_run() -> None:
    events = world(
        [pipeline()],
        [sensor(at(9), "orders-count", count=12), sensor(at(9, 1), "orders-landed", **READY)],
    )
    assert types(events) == ["VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_COMPLETED"]
    assert periods(events, "JOB_TRIGGERED") == ["2026-03-04"]
    assert events[1].timestamp == at(9, 1)
    assert events[2].timestamp == at(9, 11)  # the 10-minute simulated job, polled every 60 s


def test_rules_never_pass_exhaust_the_window_without_a_trigger() -> None:
    events = world(
        [pipeline()],
        [sensor(at(9), "orders-count", count=3), sensor(at(9, 1), "orders-landed", **READY)],
    )
    assert types(events) == ["VALIDATION_EXHAUSTED"]
    assert events[0].timestamp == at(9, 31)  # the 30-minute window, last evaluation included
    assert "orders-count" in events[0].message


def test_rules_pass_late_in_the_window() -> None:
    events = world(
        [pipeline()],
        [
            sensor(at(9), "orders-landed", **READY),
            sensor(at(9, 12), "orders-count", count=50),
        ],
    )
    assert types(events) == ["VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_COMPLETED"]
    assert events[0].timestamp == at(9, 15)  # the next 5-minute evaluation after the count arrived


def test_same_sensor_written_three_times_is_one_run() -> None:
    landed = [sensor(at(9, m), "orders-landed", **READY) for m in (1, 2, 3)]
    events = world([pipeline()], [sensor(at(9), "orders-count", count=12), *landed])
    assert types(events).count("JOB_TRIGGERED") == 1
    assert types(events) == ["VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_COMPLETED"]


def test_replayed_and_reordered_records_start_one_run(tmp_path: Path) -> None:
    clock = VirtualClock(at(9))
    runner = SimulatedRunner(clock, JobBehaviour())
    with open_store(f"sqlite:///{tmp_path / 's.db'}", now=lambda: clock.now().timestamp()) as store:
        store.control.put_config(PipelineConfig.model_validate(pipeline()), now=clock.now())
        rt = EmbeddedRuntime.build(store, clock=clock, triggers=lambda _t: runner)
        store.control.put_sensor("orders", "orders-count", {"count": 12}, now=clock.now())
        for _ in range(3):
            store.control.put_sensor("orders", "orders-landed", READY, now=clock.now())
        rt.tick()
        # the feed is replayed from the start (out of order relative to the run) mid-run and after it
        rt.reset_feed("control")
        rt.tick()
        rt.run_until(at(10))
        rt.reset_feed("control")
        rt.reset_feed("joblog")
        rt.run_until(at(11))
        assert len(store.events.of_type("JOB_TRIGGERED")) == 1
        # a replayed success row is claimed per attempt: announced once, no second verdict
        assert len(store.events.of_type("JOB_COMPLETED")) == 1
        assert runner.started == ["orders-stream-2026-03-04-a1"]
        row = store.control.get_run("orders", "stream", "2026-03-04")
        assert row is not None and (row.status, row.attempt) == (RunStatus.COMPLETED, 1)


def test_hourly_periods_are_separate_runs() -> None:
    events = world(
        [pipeline()],
        [
            sensor(at(9), "orders-count", count=12),
            sensor(at(9, 5), "orders-landed", status="ready", date="2026-03-04", hour="09"),
            sensor(at(10, 5), "orders-landed", status="ready", date="2026-03-04", hour="10"),
            sensor(at(10, 6), "orders-landed", status="ready", date="2026-03-04", hour="10"),
        ],
    )
    assert periods(events, "JOB_TRIGGERED") == ["2026-03-04T09", "2026-03-04T10"]
    assert periods(events, "JOB_COMPLETED") == ["2026-03-04T09", "2026-03-04T10"]


def test_cron_pipeline_evaluates_at_its_fire_time_in_its_time_zone() -> None:
    cron = pipeline(
        schedule={"cron": "30 7 * * *", "timezone": "America/New_York", "trigger": None}
    )
    events = world([cron], [sensor(at(6), "orders-count", count=12)])
    # 07:30 in New York on 2026-03-04 (EST, UTC-5) is 12:30 UTC
    assert types(events) == ["VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_COMPLETED"]
    assert events[0].timestamp == at(12, 30)
    assert events[0].schedule_id == "cron" and events[0].date == "2026-03-04"


def test_hourly_cron_on_an_excluded_day_is_excluded_once_per_period() -> None:
    cron = pipeline(schedule={"cron": "0 * * * *", "trigger": None, "exclude": {"weekends": True}})
    saturday = DAY + timedelta(days=3)
    events = world([cron], [], start=saturday, end=saturday + timedelta(hours=2, minutes=30))
    assert periods(events, "PIPELINE_EXCLUDED") == [
        "2026-03-07T00",
        "2026-03-07T01",
        "2026-03-07T02",
    ]


def test_excluded_sensor_writes_are_reported_once_per_period() -> None:
    cfg = pipeline(schedule={"exclude": {"weekends": True}})
    saturday = DAY + timedelta(days=3)
    writes = [sensor(saturday + timedelta(hours=h), "orders-landed", **READY) for h in (1, 2, 3)]
    events = world([cfg], writes, start=saturday)
    assert types(events) == ["PIPELINE_EXCLUDED"]
    assert "Saturday" in events[0].message


def test_cron_fires_every_day() -> None:
    cron = pipeline(schedule={"cron": "0 6 * * *", "trigger": None})
    events = world([cron], [sensor(at(1), "orders-count", count=12)], end=DAY + timedelta(days=3))
    assert periods(events, "JOB_TRIGGERED") == ["2026-03-04", "2026-03-05", "2026-03-06"]


def test_job_failure_is_reported_and_not_retried_without_budget() -> None:
    events = world(
        [pipeline()],
        [
            jobs(at(8), outcome="fail"),
            sensor(at(9), "orders-count", count=12),
            sensor(at(9, 1), "orders-landed", **READY),
        ],
    )
    assert types(events) == ["VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_FAILED"]


def test_job_failure_retries_within_budget_then_exhausts() -> None:
    cfg = pipeline(job={"type": "command", "config": {"command": "true"}, "maxRetries": 2})
    events = world(
        [cfg],
        [
            jobs(at(8), outcome="fail"),
            sensor(at(9), "orders-count", count=12),
            sensor(at(9, 1), "orders-landed", **READY),
        ],
    )
    assert types(events) == [
        "VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_FAILED",   # attempt 1
        "VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_FAILED",   # retry 1 (attempt 2)
        "VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_FAILED",   # retry 2 (attempt 3)
        "RETRY_EXHAUSTED",
    ]  # fmt: skip
    assert [e.detail.get("runId") for e in events if e.type.value == "JOB_TRIGGERED"] == [
        "orders-stream-2026-03-04-a1",
        "orders-stream-2026-03-04-a2",
        "orders-stream-2026-03-04-a3",
    ]


def test_a_retry_that_succeeds_ends_the_run() -> None:
    cfg = pipeline(job={"type": "command", "config": {"command": "true"}, "maxRetries": 2})
    events = world(
        [cfg],
        [
            jobs(at(8), outcome="fail"),
            sensor(at(9), "orders-count", count=12),
            sensor(at(9, 1), "orders-landed", **READY),
            jobs(at(9, 5), outcome="success"),  # the next attempt's job succeeds
        ],
    )
    assert types(events) == [
        "VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_FAILED",
        "VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_COMPLETED",
    ]  # fmt: skip


def test_permanent_failure_uses_the_code_retry_budget() -> None:
    cfg = pipeline(
        job={"type": "command", "config": {"command": "true"}, "maxRetries": 3, "maxCodeRetries": 1}
    )
    events = world(
        [cfg],
        [
            jobs(at(8), outcome="fail-permanent"),
            sensor(at(9), "orders-count", count=12),
            sensor(at(9, 1), "orders-landed", **READY),
        ],
    )
    assert types(events).count("JOB_TRIGGERED") == 2
    assert types(events)[-1] == "RETRY_EXHAUSTED"
    assert events[-1].detail["maxRetries"] == 1


def test_trigger_infra_errors_exhaust_retries_with_backoff() -> None:
    events = world(
        [pipeline()],
        [
            jobs(at(8), outcome="trigger-error"),
            sensor(at(9), "orders-count", count=12),
            sensor(at(9, 1), "orders-landed", **READY),
        ],
    )
    assert types(events) == ["VALIDATION_PASSED", "RETRY_EXHAUSTED"]
    # backoffs 30 + 60 + 120 + 240 s after the first attempt
    assert events[-1].timestamp - events[0].timestamp == timedelta(seconds=450)


def test_permanent_trigger_failure_is_not_retried() -> None:
    events = world(
        [pipeline()],
        [
            jobs(at(8), outcome="trigger-refused"),
            sensor(at(9), "orders-count", count=12),
            sensor(at(9, 1), "orders-landed", **READY),
        ],
    )
    assert types(events) == ["VALIDATION_PASSED", "RETRY_EXHAUSTED"]
    assert events[-1].timestamp == events[0].timestamp
    assert "permanent" in events[-1].message


def test_poll_window_exhausted() -> None:
    cfg = pipeline(
        job={"type": "command", "config": {"command": "true"}, "jobPollWindowSeconds": 600}
    )
    events = world(
        [cfg],
        [
            jobs(at(8), duration="2h"),
            sensor(at(9), "orders-count", count=12),
            sensor(at(9, 1), "orders-landed", **READY),
        ],
    )
    assert types(events) == ["VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_POLL_EXHAUSTED"]
    assert events[-1].timestamp == at(9, 11)


def test_runtime_killed_and_restarted_mid_run_completes_once(tmp_path: Path) -> None:
    clock = VirtualClock(at(9))
    url = f"sqlite:///{tmp_path / 's.db'}"
    with open_store(url, now=lambda: clock.now().timestamp()) as store:
        store.control.put_config(PipelineConfig.model_validate(pipeline()), now=clock.now())
        first_runner = SimulatedRunner(clock, JobBehaviour(duration=timedelta(minutes=20)))
        first = EmbeddedRuntime.build(store, clock=clock, triggers=lambda _t: first_runner)
        store.control.put_sensor("orders", "orders-count", {"count": 12}, now=clock.now())
        store.control.put_sensor("orders", "orders-landed", READY, now=clock.now())
        first.run_until(at(9, 7))  # triggered, polling; then the process "dies"
        assert first_runner.started == ["orders-stream-2026-03-04-a1"]
    with open_store(url, now=lambda: clock.now().timestamp()) as store:  # a new process
        second_runner = SimulatedRunner(clock, JobBehaviour())
        second = EmbeddedRuntime.build(store, clock=clock, triggers=lambda _t: second_runner)
        second.run_until(at(10))
        assert second_runner.started == []  # no second trigger
        assert [
            e.type.value
            for e in sorted(store.events.for_pipeline("orders"), key=lambda e: e.timestamp)
        ] == [
            "VALIDATION_PASSED",
            "JOB_TRIGGERED",
            "JOB_COMPLETED",
        ]
        completed = store.events.of_type("JOB_COMPLETED")
        assert [e.timestamp for e in completed] == [at(9, 20)]


def test_poll_interval_sets_the_wait_between_job_polls() -> None:
    cfg = pipeline(job={"type": "command", "config": {"command": "true"}, "pollInterval": "5m"})
    events = world(
        [cfg],
        [
            jobs(at(8), duration="7m"),
            sensor(at(9), "orders-count", count=12),
            sensor(at(9, 1), "orders-landed", **READY),
        ],
    )
    assert types(events) == ["VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_COMPLETED"]
    assert events[-1].timestamp == at(9, 11)  # polled at 09:06 (running) and 09:11 (done)


def test_crash_between_job_start_and_snapshot_save_starts_the_job_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = VirtualClock(at(9))
    url = f"sqlite:///{tmp_path / 's.db'}"
    runner = SimulatedRunner(clock, JobBehaviour())
    with open_store(url, now=lambda: clock.now().timestamp()) as store:
        store.control.put_config(PipelineConfig.model_validate(pipeline()), now=clock.now())
        first = EmbeddedRuntime.build(
            store, clock=clock, triggers=lambda _t: runner, watchdog_interval=None
        )
        store.control.put_sensor("orders", "orders-count", {"count": 12}, now=clock.now())
        store.control.put_sensor("orders", "orders-landed", READY, now=clock.now())

        # the process dies after the step's Tasks ran (job started, events out) but before its save
        def die(*_args: object) -> bool:
            raise KeyboardInterrupt

        monkeypatch.setattr(LocalExecutions, "save", die)
        with pytest.raises(KeyboardInterrupt):
            first.tick()
        monkeypatch.undo()
        assert runner.started == ["orders-stream-2026-03-04-a1"]

    with open_store(url, now=lambda: clock.now().timestamp()) as store:  # a new process
        second = EmbeddedRuntime.build(
            store, clock=clock, triggers=lambda _t: runner, watchdog_interval=None
        )
        second.run_until(at(10))  # replays Evaluate and Trigger from the saved start
        assert runner.started == ["orders-stream-2026-03-04-a1"]  # not started twice
        history = sorted(store.events.for_pipeline("orders"), key=lambda e: e.timestamp)
        assert [e.type.value for e in history] == [
            "VALIDATION_PASSED",
            "JOB_TRIGGERED",
            "JOB_COMPLETED",
        ]
