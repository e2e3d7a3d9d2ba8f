"""Issue [4/5] scenarios: the watchdog (every 5 minutes) on the embedded runtime.

Ports reference §12.7 (StaleTrigger_PublishesSFNTimeout, MissedSchedule_PublishesAlert /
_SkipsPreDeployment / _CalendarExcluded_NoAlert, Reconcile_TriggersRecovery / _SkipsAlreadyTriggered,
ScheduleSLAAlerts_SensorDeadlineExpired_*, PostRunSensorMissing / _Present, InclusionSchedule_*) and
§12.2 Watchdog/*. Unlike the original, each alert is sent at most once per pipeline, schedule and period.

:func:`live` is the store-level harness (``world()`` hides the store): configs can be pushed before
the runtime exists (a process that was down), and records can be written behind the router's back.
"""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interlock.config.models import PipelineConfig
from interlock.local.runtime import EmbeddedRuntime
from interlock.local.simulate import JobBehaviour, SimulatedRunner
from interlock.ports import VirtualClock
from interlock.records import RunStatus
from interlock.store import open_store
from tests.scenarios.harness import DAY, at, iso, jobs, periods, pipeline, sensor, types, world

if TYPE_CHECKING:
    from collections.abc import Iterator

    from interlock.events import Event
    from interlock.store.factory import Store

READY = {"status": "ready"}


class Live:
    """A store, a virtual clock and a runtime started when the scenario says so."""

    def __init__(self, store: Store, clock: VirtualClock) -> None:
        self.store = store
        self.clock = clock
        self.events: list[Event] = []
        self.runner = SimulatedRunner(clock, JobBehaviour())
        self._rt: EmbeddedRuntime | None = None

    def config(self, raw: dict[str, Any], when: datetime | None = None) -> None:
        cfg = PipelineConfig.model_validate(raw)
        self.store.control.put_config(cfg, now=when or self.clock.now())

    def sensor(self, pid: str, key: str, **data: Any) -> None:
        self.store.control.put_sensor(pid, key, data, now=self.clock.now())

    @property
    def rt(self) -> EmbeddedRuntime:
        if self._rt is None:
            self._rt = EmbeddedRuntime.build(
                self.store,
                clock=self.clock,
                triggers=lambda _t: self.runner,
                notifier=self.events.append,
            )
        return self._rt

    def run_until(self, when: datetime) -> None:
        self.rt.run_until(when)

    def lose_feed(self) -> None:
        """The router never sees what was written so far (a lost stream batch)."""
        position = self.rt.feed_position("control")
        while True:
            batch = self.store.tables["control"].changes(position, limit=1000)
            if not batch.records:
                break
            position = batch.position
        self.rt.reset_feed("control", position)

    def types(self, pid: str = "orders") -> list[str]:
        return types(self.events, pid)


@contextmanager
def live(start: datetime) -> Iterator[Live]:
    """A fresh SQLite store on a virtual clock at ``start`` (no runtime yet)."""
    clock = VirtualClock(start)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'live.db'}"
        with open_store(url, now=lambda: clock.now().timestamp()) as store:
            yield Live(store, clock)


def _cron(cron: str = "0 6 * * *", **schedule: Any) -> dict[str, Any]:
    return pipeline(schedule={"cron": cron, "trigger": None, **schedule})


# --------------------------------------------------------------------------- SCHEDULE_MISSED


def test_daily_cron_fire_missed_while_down_is_reported_once() -> None:
    # MissedSchedule_PublishesAlert / _DetailFields; the original repeated it every run
    with live(at(5)) as w:
        w.config(_cron())
        w.clock.set(at(6, 30))  # the process was down at 06:00
        w.run_until(at(23))
        assert w.types() == ["SCHEDULE_MISSED"]
        missed = w.events[0]
        assert (missed.timestamp, missed.schedule_id, missed.date) == (
            at(6, 35),
            "cron",
            "2026-03-04",
        )
        assert missed.detail["cron"] == "0 6 * * *"
        assert missed.detail["expectedTime"] == "2026-03-04T06:00:00Z"
        assert w.store.control.get_run("orders", "cron", "2026-03-04") is None


def test_missed_fire_is_not_reported_within_the_grace() -> None:
    with live(at(5)) as w:
        w.config(_cron())
        w.clock.set(at(6, 10))
        w.run_until(at(7))
        assert w.types() == ["SCHEDULE_MISSED"]
        assert w.events[0].timestamp == at(6, 20)  # 06:15 is exactly the 15-minute grace: not yet


def test_hourly_cron_misses_are_one_per_hour_then_runs_resume() -> None:
    with live(at(4, 30)) as w:
        w.config(_cron("0 * * * *"))
        w.sensor("orders", "orders-count", count=12)
        w.clock.set(at(6, 30))
        w.run_until(at(8, 30))
        assert w.types() == [
            "SCHEDULE_MISSED", "SCHEDULE_MISSED",
            "VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_COMPLETED",
            "VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_COMPLETED",
        ]  # fmt: skip
        assert periods(w.events, "SCHEDULE_MISSED") == ["2026-03-04T05", "2026-03-04T06"]
        assert periods(w.events, "JOB_TRIGGERED") == ["2026-03-04T07", "2026-03-04T08"]


def test_fire_before_the_config_existed_is_not_missed() -> None:
    # MissedSchedule_SkipsPreDeployment: the config was pushed after the fire
    with live(at(6, 30)) as w:
        w.config(_cron())
        w.run_until(at(23))
        assert w.types() == []


def test_missed_fire_on_an_excluded_day_is_not_reported() -> None:
    saturday = DAY + timedelta(days=3)
    with live(saturday + timedelta(hours=5)) as w:
        w.config(_cron(exclude={"weekends": True}))
        w.clock.set(saturday + timedelta(hours=6, minutes=30))
        w.run_until(saturday + timedelta(hours=23))
        assert w.types() == []


def test_cron_that_fired_is_never_missed() -> None:
    events = world([_cron()], [sensor(at(1), "orders-count", count=1)])
    assert types(events) == ["VALIDATION_EXHAUSTED"]


# ------------------------------------------------------------------------------ SFN_TIMEOUT


def test_stale_run_times_out_once_and_fails_final() -> None:
    # StaleTrigger_PublishesSFNTimeout: a RUNNING row past its lock expiry (the starter died)
    with live(at(9)) as w:
        w.config(pipeline())
        w.run_until(at(9))
        w.store.control.acquire_run(
            "orders", "stream", "2026-03-04", now=at(9), lock_ttl=timedelta(hours=4, minutes=30)
        )
        w.lose_feed()
        w.run_until(at(23, 59))
        assert w.types() == ["SFN_TIMEOUT"]
        timeout = w.events[0]
        assert timeout.timestamp == at(13, 35)  # first pass after the 13:30 expiry
        assert timeout.detail["ttlExpired"] == "2026-03-04T13:30:00Z"
        assert timeout.detail["source"] == "watchdog"
        row = w.store.control.get_run("orders", "stream", "2026-03-04")
        assert row is not None and row.status is RunStatus.FAILED_FINAL


def test_fresh_running_run_is_not_stale() -> None:
    # FreshTrigger_NoAlert: a two-hour job is well inside its lock
    cfg = pipeline(
        job={"type": "command", "config": {"command": "true"}, "jobPollWindowSeconds": 10800}
    )
    events = world(
        [cfg],
        [jobs(at(8), duration="2h"), sensor(at(9), "orders-count", count=12),
         sensor(at(9, 1), "orders-landed", **READY)],
        end=at(14),
    )  # fmt: skip
    assert types(events) == ["VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_COMPLETED"]


# ------------------------------------------------------------------------- TRIGGER_RECOVERED


def test_missed_sensor_trigger_is_recovered() -> None:
    # Reconcile_TriggersRecovery / CrossHandlerEdgeCases/WatchdogSelfHealing
    with live(at(9)) as w:
        w.config(pipeline())
        w.run_until(at(9))
        w.sensor("orders", "orders-count", count=12)
        w.sensor("orders", "orders-landed", **READY)
        w.lose_feed()
        w.run_until(at(23))
        assert w.types() == [
            "TRIGGER_RECOVERED", "VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_COMPLETED",
        ]  # fmt: skip
        assert w.events[0].timestamp == at(9, 5)
        assert w.events[0].date == "2026-03-04"
        assert w.runner.started == ["orders-stream-2026-03-04-a1"]


def test_sensor_not_satisfying_the_trigger_is_not_recovered() -> None:
    # Reconcile_ConditionNotMet
    with live(at(9)) as w:
        w.config(pipeline())
        w.run_until(at(9))
        w.sensor("orders", "orders-landed", status="pending")
        w.lose_feed()
        w.run_until(at(12))
        assert w.types() == []


def test_triggered_period_is_never_recovered_again() -> None:
    # Reconcile_SkipsAlreadyTriggered / TerminalTriggerRetainsRecord
    events = world(
        [pipeline()],
        [sensor(at(9), "orders-count", count=12), sensor(at(9, 1), "orders-landed", **READY)],
    )
    assert types(events) == ["VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_COMPLETED"]


# ------------------------------------------------------------------- SENSOR_DEADLINE_EXPIRED


def _deadline(value: str) -> dict[str, Any]:
    trig = {"key": "orders-landed", "check": "equals", "field": "status", "value": "ready"}
    return pipeline(schedule={"trigger": {**trig, "deadline": value}})


def test_daily_trigger_deadline_closes_the_day_once() -> None:
    # …_DailySensorDeadlineExpired_WritesFAILEDFINAL
    events = world([_deadline("10:00")], [], end=at(23, 59))
    assert types(events) == ["SENSOR_DEADLINE_EXPIRED"]
    assert events[0].timestamp == at(10) and events[0].date == "2026-03-04"
    assert events[0].detail["triggerDeadline"] == "2026-03-04T10:00:00Z"


def test_trigger_after_the_deadline_starts_nothing_but_a_rerun_can() -> None:
    events = world(
        [_deadline("10:00")],
        [
            sensor(at(10, 30), "orders-count", count=12),
            sensor(at(10, 31), "orders-landed", **READY),
            {"at": iso(at(11)), "rerun": {"pipeline": "orders", "date": "2026-03-04"}},
        ],
        end=at(12),
    )
    assert types(events) == [
        "SENSOR_DEADLINE_EXPIRED", "RERUN_REQUESTED", "RERUN_ACCEPTED", "VALIDATION_PASSED",
        "JOB_TRIGGERED", "JOB_COMPLETED",
    ]  # fmt: skip


def test_trigger_before_the_deadline_keeps_the_day_open() -> None:
    # …_SensorDeadlineExpired_SkipsIfTriggerExists
    events = world(
        [_deadline("10:00")],
        [sensor(at(9), "orders-count", count=12), sensor(at(9, 1), "orders-landed", **READY)],
    )
    assert types(events) == ["VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_COMPLETED"]


def test_new_york_trigger_deadline_is_local() -> None:
    # CloseSensorTriggerWindow_PrefersScheduleTimezone: 09:30 Eastern is 14:30Z on 2026-03-04 (EST)
    cfg = _deadline("09:30")
    cfg["schedule"]["timezone"] = "America/New_York"
    events = world([cfg], [], start=at(5), end=at(20))
    assert types(events) == ["SENSOR_DEADLINE_EXPIRED"]
    assert events[0].timestamp == at(14, 30)


# ---------------------------------------------------------------------- POST_RUN_SENSOR_MISSING


def _postrun(**post: Any) -> dict[str, Any]:
    rules = [{"key": "orders-audit", "check": "exists"}]
    return pipeline(postRun={"rules": rules, "sensorTimeout": "1h", **post})


def test_post_run_sensor_missing_once() -> None:
    # PostRunSensorMissing
    events = world(
        [_postrun()],
        [
            sensor(at(8), "orders-audit", sensor_count=1),
            sensor(at(9), "orders-count", count=12),
            sensor(at(9, 1), "orders-landed", **READY),
        ],
    )
    assert types(events) == [
        "VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_COMPLETED", "POST_RUN_BASELINE_CAPTURED",
        "POST_RUN_SENSOR_MISSING",
    ]  # fmt: skip
    missing = events[-1]
    assert missing.timestamp == at(10, 15)  # 09:11 + 1h, next 5-minute pass
    assert missing.detail["ruleKeys"] == "orders-audit"
    assert missing.detail["sensorTimeout"] == "1h"


def test_post_run_sensor_present_is_not_missing() -> None:
    # PostRunSensorPresent
    events = world(
        [_postrun()],
        [
            sensor(at(8), "orders-audit", sensor_count=1),
            sensor(at(9), "orders-count", count=12),
            sensor(at(9, 1), "orders-landed", **READY),
            sensor(at(9, 40), "orders-audit", sensor_count=1),
        ],
    )
    assert types(events) == [
        "VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_COMPLETED", "POST_RUN_BASELINE_CAPTURED",
        "POST_RUN_PASSED",
    ]  # fmt: skip


# ----------------------------------------------------------------- IRREGULAR_SCHEDULE_MISSED


def test_inclusion_date_without_a_run_is_reported_once() -> None:
    # InclusionSchedule_TriggerMissing_PublishesAlert / _DedupPreventsRepeat
    cfg = pipeline(schedule={"include": {"dates": ["2026-03-04"]}})
    events = world([cfg], [], end=DAY + timedelta(days=1, hours=6))
    assert types(events) == ["IRREGULAR_SCHEDULE_MISSED"]
    assert events[0].date == "2026-03-04"
    assert events[0].timestamp > at(23, 59)  # not before the included day is over


# -------------------------------------------------------------------------------- dry run


def test_watchdog_is_silent_for_dry_run_pipelines() -> None:
    # DryRun_SkipsAllSchedulingAndAlerts
    cfg = _deadline("10:00")
    cfg["dryRun"] = True
    cfg["postRun"] = {"rules": [{"key": "orders-audit", "check": "exists"}], "sensorTimeout": "1h"}
    events = world([cfg], [], end=at(23, 59))
    assert types(events) == []
