"""Issue [4/5] scenarios: SLA warnings, breaches and verdicts on the embedded runtime.

Ports reference §12.2 SLAMonitoring / SLABranchCompleteness / SLAHourlyDeadline, the deadline cases of
``pkg/sla/deadline_test.go`` and ``sla_monitor_test.go`` (daily, hourly, time zones, relative), and the
watchdog's SLADateBoundaries, as whole days on a virtual clock. Deliberate differences (module docstring
of :mod:`interlock.lifecycle.sla_monitor`): FAILED_FINAL runs still alert, one verdict per period, no
SLA_BREACH verdict after a breach alert, acknowledged alerts are kept with ``acknowledged=true``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.scenarios.harness import DAY, at, iso, jobs, periods, pipeline, sensor, types, world

READY = {"status": "ready"}


def _ready(hour: int = 9, minute: int = 0, **landed: Any) -> list[dict[str, Any]]:
    """The count rule's sensor, then the trigger sensor a minute later."""
    return [
        sensor(at(hour, minute), "orders-count", count=12),
        sensor(at(hour, minute + 1), "orders-landed", **READY, **landed),
    ]


def _cron(cron: str = "0 6 * * *", tz: str = "UTC", **sla: Any) -> dict[str, Any]:
    """A cron pipeline (no trigger sensor) with an SLA."""
    return pipeline(schedule={"cron": cron, "timezone": tz, "trigger": None}, sla=sla)


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _sla_times(events: list[Any], pid: str = "orders") -> list[tuple[str, str | None, datetime]]:
    return [
        (e.type.value, e.date, e.timestamp)
        for e in events
        if e.pipeline_id == pid and e.type.value.startswith(("SLA_", "RELATIVE_SLA_"))
    ]


# ------------------------------------------------------------------------------ daily HH:MM


def test_daily_deadline_met_publishes_one_verdict() -> None:
    # e2e PrimarySFNPaths/HappyPath: VALIDATION_PASSED, JOB_TRIGGERED, (COMPLETED), SLA_MET
    cfg = pipeline(sla={"deadline": "23:59", "expectedDuration": "30m"})
    events = world([cfg], _ready(), end=DAY + timedelta(days=2))
    assert types(events) == ["VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_COMPLETED", "SLA_MET"]
    assert events[-1].timestamp == at(9, 11)
    assert events[-1].date == "2026-03-04"


def test_stream_daily_deadline_is_the_next_day() -> None:
    # watchdog ScheduleSLAAlerts_SensorDaily_DeadlineNextDay: a sensor-started daily period's data is
    # delivered the following day, so 08:00 for 2026-03-04 is 2026-03-05T08:00Z
    cfg = pipeline(sla={"deadline": "08:00", "expectedDuration": "30m"})
    events = world([cfg], [jobs(at(8), outcome="fail"), *_ready()], end=DAY + timedelta(days=2))
    assert types(events) == [
        "VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_FAILED", "SLA_WARNING", "SLA_BREACH",
    ]  # fmt: skip
    assert _sla_times(events) == [
        ("SLA_WARNING", "2026-03-04", _utc(2026, 3, 5, 7, 30)),
        ("SLA_BREACH", "2026-03-04", _utc(2026, 3, 5, 8)),
    ]


def test_cron_daily_deadline_warning_and_breach_while_running() -> None:
    # e2e SLAWarningFired / SLABreachFired: the run is RUNNING when both alerts fire
    cfg = _cron(deadline="07:00", expectedDuration="30m")
    cfg["job"] = {"type": "command", "config": {"command": "true"}, "jobPollWindowSeconds": 7200}
    events = world(
        [cfg], [jobs(at(1), duration="70m"), sensor(at(1), "orders-count", count=12)], end=at(9)
    )
    assert types(events) == [
        "VALIDATION_PASSED", "JOB_TRIGGERED", "SLA_WARNING", "SLA_BREACH", "JOB_COMPLETED",
    ]  # fmt: skip
    warning, breach = events[2], events[3]
    assert (warning.timestamp, breach.timestamp) == (at(6, 30), at(7))
    assert warning.detail["status"] == "RUNNING"
    assert warning.detail["breachAt"] == "2026-03-04T07:00:00Z"
    assert breach.detail["deadline"] == "07:00"
    assert "running" in breach.detail["actionHint"]
    assert events[-1].timestamp == at(7, 10)  # no SLA_BREACH verdict after the breach alert


def test_breach_then_success_gives_no_second_breach() -> None:
    # e2e SLABreachThenJobSucceeds: the original published a verdict SLA_BREACH after the alert; we do not
    cfg = _cron(deadline="06:30")
    events = world(
        [cfg], [jobs(at(1), duration="45m"), sensor(at(1), "orders-count", count=12)], end=at(8)
    )
    assert types(events) == ["VALIDATION_PASSED", "JOB_TRIGGERED", "SLA_BREACH", "JOB_COMPLETED"]
    assert types(events).count("SLA_BREACH") == 1


def test_completion_after_warning_before_breach_is_met() -> None:
    # e2e SLABranchCompleteness/SLACancelPastWarningBeforeBreach ⇒ SLA_MET
    cfg = _cron(deadline="07:00", expectedDuration="1h")
    events = world([cfg], [jobs(at(1), duration="40m"), sensor(at(1), "orders-count", count=12)])
    assert types(events) == [
        "VALIDATION_PASSED", "JOB_TRIGGERED", "SLA_WARNING", "JOB_COMPLETED", "SLA_MET",
    ]  # fmt: skip
    assert events[2].timestamp == at(6) and events[-1].timestamp == at(6, 40)


def test_completion_before_warning_cancels_both_alerts() -> None:
    cfg = _cron(deadline="10:00", expectedDuration="30m")
    events = world([cfg], [sensor(at(1), "orders-count", count=12)])
    assert types(events) == ["VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_COMPLETED", "SLA_MET"]


def test_no_warning_without_expected_duration() -> None:
    cfg = _cron(deadline="07:00")
    events = world([cfg], [sensor(at(1), "orders-count", count=2)])
    assert types(events) == ["VALIDATION_EXHAUSTED", "SLA_BREACH"]
    assert events[-1].timestamp == at(7)


def test_failed_final_run_still_alerts() -> None:
    # the original suppressed fire-alert for FAILED_FINAL; ours says a rerun is needed
    cfg = _cron(deadline="10:00", expectedDuration="30m")
    events = world([cfg], [jobs(at(1), outcome="fail"), sensor(at(1), "orders-count", count=12)])
    assert types(events) == [
        "VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_FAILED", "SLA_WARNING", "SLA_BREACH",
    ]  # fmt: skip
    assert events[3].detail["status"] == "FAILED_FINAL"
    assert "rerun" in events[4].detail["actionHint"]


def test_rerun_completing_after_breach_is_not_judged_again() -> None:
    cfg = _cron(deadline="07:00", expectedDuration="30m")
    events = world(
        [cfg],
        [
            jobs(at(1), outcome="fail"),
            sensor(at(1), "orders-count", count=12),
            jobs(at(7, 30), outcome="success"),
            {"at": iso(at(8)), "rerun": {"pipeline": "orders", "date": "2026-03-04"}},
        ],
    )
    assert types(events) == [
        "VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_FAILED", "SLA_WARNING", "SLA_BREACH",
        "RERUN_REQUESTED", "RERUN_ACCEPTED", "VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_COMPLETED",
    ]  # fmt: skip


def test_one_verdict_per_period_across_a_drift_rerun() -> None:
    post = {"rules": [{"key": "orders-audit", "check": "exists"}], "driftField": "n"}
    cfg = pipeline(sla={"deadline": "23:00"}, postRun=post)
    events = world(
        [cfg],
        [
            sensor(at(8), "orders-audit", n=1),
            *_ready(),
            sensor(at(10), "orders-audit", n=2),
        ],
        end=at(12),
    )
    assert types(events) == [
        "VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_COMPLETED", "POST_RUN_BASELINE_CAPTURED",
        "SLA_MET",  # the verdict comes after the baseline
        "POST_RUN_DRIFT", "RERUN_ACCEPTED", "VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_COMPLETED",
        "POST_RUN_BASELINE_CAPTURED",  # the rerun's completion: no second verdict
    ]  # fmt: skip


# ------------------------------------------------------------------------------ hourly :MM


def _of(events: list[Any], period: str) -> list[Any]:
    return [e for e in events if e.date == period]


def _not_started(events: list[Any], *, skip: int) -> list[tuple[str, str | None]]:
    """The SLA alerts of the hours but ``skip`` (of the scenario day), all armed ahead: "not started"."""
    alerts = [
        e for e in events if e.type.value.startswith("SLA_") and e.date != f"2026-03-04T{skip:02d}"
    ]
    assert all(e.detail["status"] == "not started" for e in alerts)
    return [(e.type.value, e.date) for e in alerts]


def _alerted(hours: range) -> list[tuple[str, str | None]]:
    return [(t, f"2026-03-04T{h:02d}") for h in hours for t in ("SLA_WARNING", "SLA_BREACH")]


def test_hourly_deadline_is_due_in_the_next_hour_and_met() -> None:
    # hour 10's data lands at 10:05: met; every other hour of the day so far had no data at all, so
    # each gets its warning and breach (armed ahead by the watchdog, "not started")
    cfg = pipeline(sla={"deadline": ":30", "expectedDuration": "10m"})
    events = world(
        [cfg],
        [
            sensor(at(9), "orders-count", count=12),
            sensor(at(10, 5), "orders-landed", **READY, date="2026-03-04", hour="10"),
        ],
        end=at(14),
    )
    ten = _of(events, "2026-03-04T10")
    assert types(ten) == ["VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_COMPLETED", "SLA_MET"]
    assert periods(events, "SLA_MET") == ["2026-03-04T10"]
    # hours 00-12 but 10 (hour 13's data is due until 14:30, after the scenario's end)
    expected = sorted(_alerted(range(10)) + _alerted(range(11, 13)), key=lambda a: a[1] or "")
    assert _not_started(events, skip=10) == expected


def test_hourly_deadline_warning_and_breach() -> None:
    # deadline_test: D=…T10, ":30", 15m ⇒ warning 11:15, breach 11:30
    cfg = pipeline(sla={"deadline": ":30", "expectedDuration": "15m"})
    events = world(
        [cfg],
        [
            jobs(at(8), outcome="fail"),
            sensor(at(9), "orders-count", count=12),
            sensor(at(10, 5), "orders-landed", **READY, date="2026-03-04", hour="10"),
        ],
        end=at(14),
    )
    assert types(_of(events, "2026-03-04T10")) == [
        "VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_FAILED", "SLA_WARNING", "SLA_BREACH",
    ]  # fmt: skip
    assert _sla_times(_of(events, "2026-03-04T10")) == [
        ("SLA_WARNING", "2026-03-04T10", at(11, 15)),
        ("SLA_BREACH", "2026-03-04T10", at(11, 30)),
    ]
    breach = _of(events, "2026-03-04T10")[-1]
    assert breach.detail["deadline"] == ":30"
    assert breach.detail["status"] != "not started"
    # the hours without data: their own alerts, "not started"
    expected = sorted(_alerted(range(10)) + _alerted(range(11, 13)), key=lambda a: a[1] or "")
    assert _not_started(events, skip=10) == expected


def test_hourly_deadline_of_hour_23_rolls_into_the_next_day() -> None:
    # deadline_test: D=…T23 ":30" 10m ⇒ next day 00:20 / 00:30
    cfg = pipeline(sla={"deadline": ":30", "expectedDuration": "10m"})
    events = world(
        [cfg],
        [
            jobs(at(8), outcome="fail"),
            sensor(at(9), "orders-count", count=12),
            sensor(at(23, 2), "orders-landed", **READY, date="2026-03-04", hour="23"),
        ],
        end=DAY + timedelta(days=1, hours=2),
    )
    assert _sla_times(_of(events, "2026-03-04T23")) == [
        ("SLA_WARNING", "2026-03-04T23", _utc(2026, 3, 5, 0, 20)),
        ("SLA_BREACH", "2026-03-04T23", _utc(2026, 3, 5, 0, 30)),
    ]
    # the hours without data (00-22, and the 5th's 00 due at 01:30) alert on their own
    late = [e for e in events if e.type.value.startswith("SLA_") and e.date != "2026-03-04T23"]
    assert len(late) == 2 * 24 and all(e.detail["status"] == "not started" for e in late)


def test_an_hour_whose_sensor_never_comes_warns_and_breaches_alone() -> None:
    # hours 04 and 06 get their data in time; hour 05's trigger sensor never arrives: the watchdog armed
    # hour 05's timers at 05:00, so its lateness is alerted at 06:20 / 06:30 ("not started"), and the
    # hours whose data came are met with no alert (hour 07's are due after the scenario's end)
    cfg = pipeline(sla={"deadline": ":30", "expectedDuration": "10m"})
    events = world(
        [cfg],
        [
            sensor(at(4), "orders-count", count=12),
            sensor(at(4, 40), "orders-landed", **READY, date="2026-03-04", hour="04"),
            sensor(at(6, 40), "orders-landed", **READY, date="2026-03-04", hour="06"),
        ],
        start=at(4),
        end=at(8),
    )
    assert _sla_times(events) == [
        ("SLA_MET", "2026-03-04T04", at(4, 50)),
        ("SLA_WARNING", "2026-03-04T05", at(6, 20)),
        ("SLA_BREACH", "2026-03-04T05", at(6, 30)),
        ("SLA_MET", "2026-03-04T06", at(6, 50)),
    ]
    assert [e.detail["status"] for e in _of(events, "2026-03-04T05")] == ["not started"] * 2
    assert all("has not started" in e.message for e in _of(events, "2026-03-04T05"))
    assert periods(events, "JOB_TRIGGERED") == ["2026-03-04T04", "2026-03-04T06"]


def test_hourly_cron_each_hour_gets_its_own_alerts() -> None:
    # SLAHourlyDeadline: cron "5 * * * *", SLA ":30"/15m — hour 13's breach is 14:30, warning 14:15
    cfg = _cron("5 * * * *", deadline=":30", expectedDuration="15m")
    events = world(
        [cfg], [sensor(at(12, 30), "orders-count", count=1)], start=at(12, 30), end=at(15)
    )
    sla = _sla_times(events)
    assert sla == [
        ("SLA_WARNING", "2026-03-04T13", at(14, 15)),
        ("SLA_BREACH", "2026-03-04T13", at(14, 30)),
    ]
    assert periods(events, "VALIDATION_EXHAUSTED") == ["2026-03-04T13", "2026-03-04T14"]


# ------------------------------------------------------------------------- time zones and DST


def test_new_york_deadline_moves_with_spring_forward() -> None:
    # 08:00 America/New_York: 13:00Z on 2026-03-07 (EST), 12:00Z on 2026-03-08 (EDT)
    cfg = _cron("0 5 * * *", "America/New_York", deadline="08:00", expectedDuration="30m")
    start = datetime(2026, 3, 7, tzinfo=UTC)
    events = world(
        [cfg], [sensor(start, "orders-count", count=1)], start=start, end=start + timedelta(days=2)
    )
    assert _sla_times(events) == [
        ("SLA_WARNING", "2026-03-07", _utc(2026, 3, 7, 12, 30)),
        ("SLA_BREACH", "2026-03-07", _utc(2026, 3, 7, 13)),
        ("SLA_WARNING", "2026-03-08", _utc(2026, 3, 8, 11, 30)),
        ("SLA_BREACH", "2026-03-08", _utc(2026, 3, 8, 12)),
    ]


def test_new_york_deadline_in_the_skipped_hour_moves_forward() -> None:
    # 02:30 does not exist on 2026-03-08 in New York: 03:30 EDT = 07:30Z
    cfg = _cron("0 1 * * *", "America/New_York", deadline="02:30", expectedDuration="30m")
    start = datetime(2026, 3, 8, tzinfo=UTC)
    events = world([cfg], [sensor(start, "orders-count", count=1)], start=start)
    assert types(events) == ["VALIDATION_EXHAUSTED", "SLA_WARNING", "SLA_BREACH"]
    assert events[0].timestamp == _utc(2026, 3, 8, 6, 30)  # 01:00 EST + the 30-minute window
    assert _sla_times(events)[1][2] == _utc(2026, 3, 8, 7, 30)
    assert _sla_times(events)[0][2] == _utc(2026, 3, 8, 7)


def test_new_york_deadline_in_the_repeated_hour_is_its_first_occurrence() -> None:
    # 01:30 on 2026-11-01 happens twice in New York: the first (EDT) is 05:30Z
    cfg = _cron("0 0 * * *", "America/New_York", deadline="01:30", expectedDuration="30m")
    start = datetime(2026, 11, 1, tzinfo=UTC)
    events = world([cfg], [sensor(start, "orders-count", count=1)], start=start)
    assert _sla_times(events) == [
        ("SLA_WARNING", "2026-11-01", _utc(2026, 11, 1, 5)),
        ("SLA_BREACH", "2026-11-01", _utc(2026, 11, 1, 5, 30)),
    ]


def test_new_york_deadline_after_fall_back() -> None:
    # 08:00 America/New_York: 12:00Z on 2026-10-31 (EDT), 13:00Z on 2026-11-01 (EST)
    cfg = _cron("0 5 * * *", "America/New_York", deadline="08:00")
    start = datetime(2026, 10, 31, tzinfo=UTC)
    events = world(
        [cfg], [sensor(start, "orders-count", count=1)], start=start, end=start + timedelta(days=2)
    )
    assert _sla_times(events) == [
        ("SLA_BREACH", "2026-10-31", _utc(2026, 10, 31, 12)),
        ("SLA_BREACH", "2026-11-01", _utc(2026, 11, 1, 13)),
    ]


def test_london_deadline_across_both_transitions() -> None:
    # 09:00 Europe/London: 09:00Z on 2026-03-28 (GMT), 08:00Z on 2026-03-29 (BST);
    # 08:00Z on 2026-10-24 (BST), 09:00Z on 2026-10-25 (GMT)
    cfg = _cron("0 6 * * *", "Europe/London", deadline="09:00")
    for day, first, second in (
        (datetime(2026, 3, 28, tzinfo=UTC), 9, 8),
        (datetime(2026, 10, 24, tzinfo=UTC), 8, 9),
    ):
        events = world(
            [cfg], [sensor(day, "orders-count", count=1)], start=day, end=day + timedelta(days=2)
        )
        assert _sla_times(events) == [
            ("SLA_BREACH", f"{day:%Y-%m-%d}", day + timedelta(hours=first)),
            (
                "SLA_BREACH",
                f"{day + timedelta(days=1):%Y-%m-%d}",
                day + timedelta(days=1, hours=second),
            ),
        ]


def test_kolkata_hourly_deadline_on_a_half_hour_offset() -> None:
    # cron at local :00 in Asia/Kolkata (UTC+5:30) fires at :30Z; period T15 local = 09:30Z,
    # so ":15" breaches at local 16:15 = 10:45Z, warning 10m earlier
    cfg = _cron("0 * * * *", "Asia/Kolkata", deadline=":15", expectedDuration="10m")
    events = world([cfg], [sensor(at(9), "orders-count", count=1)], start=at(9), end=at(10, 50))
    assert periods(events, "VALIDATION_EXHAUSTED") == ["2026-03-04T15"]
    assert events[0].timestamp == at(10)  # 09:30Z fire + 30-minute window
    assert _sla_times(events) == [
        ("SLA_WARNING", "2026-03-04T15", at(10, 35)),
        ("SLA_BREACH", "2026-03-04T15", at(10, 45)),
    ]


def test_sydney_deadline_across_the_end_of_daylight_saving() -> None:
    # 09:00 Australia/Sydney: 22:00Z the day before on 2026-04-04 (AEDT, +11), 23:00Z on 04-05 (AEST)
    cfg = _cron("0 6 * * *", "Australia/Sydney", deadline="09:00")
    start = datetime(2026, 4, 3, 12, tzinfo=UTC)
    events = world(
        [cfg], [sensor(start, "orders-count", count=1)], start=start, end=start + timedelta(days=2)
    )
    assert _sla_times(events) == [
        ("SLA_BREACH", "2026-04-04", _utc(2026, 4, 3, 22)),
        ("SLA_BREACH", "2026-04-05", _utc(2026, 4, 4, 23)),
    ]


def test_sla_timezone_overrides_the_schedule_timezone() -> None:
    cfg = _cron("0 6 * * *", "UTC", deadline="09:00", timezone="Asia/Kolkata")
    events = world([cfg], [sensor(at(1), "orders-count", count=1)])
    # 09:00 IST = 03:30Z, before the 06:00Z cron fire: the SLA timers were set ahead of the fire,
    # so the breach is reported at 03:30 (the run has not started), and once only
    assert _sla_times(events) == [("SLA_BREACH", "2026-03-04", at(3, 30))]
    assert events[0].detail["status"] == "not started"


# ------------------------------------------------------------------------------- relative


def test_relative_sla_met() -> None:
    cfg = pipeline(sla={"maxDuration": "2h"})
    events = world([cfg], _ready())
    assert types(events) == ["VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_COMPLETED", "SLA_MET"]


def test_relative_sla_warns_at_75_percent_and_breaches() -> None:
    # sla_monitor_test: relative 2h ⇒ warning at 75 %; counted from the first trigger sensor
    cfg = pipeline(
        sla={"maxDuration": "1h"},
        job={"type": "command", "config": {"command": "true"}, "jobPollWindowSeconds": 7200},
    )
    events = world([cfg], [jobs(at(8), duration="90m"), *_ready()], end=at(12))
    assert types(events) == [
        "VALIDATION_PASSED", "JOB_TRIGGERED", "RELATIVE_SLA_WARNING", "RELATIVE_SLA_BREACH",
        "JOB_COMPLETED",
    ]  # fmt: skip
    assert _sla_times(events) == [
        ("RELATIVE_SLA_WARNING", "2026-03-04", at(9, 46)),
        ("RELATIVE_SLA_BREACH", "2026-03-04", at(10, 1)),
    ]
    breach = events[3]
    assert breach.detail["sensorArrivalAt"] == "2026-03-04T09:01:00Z"
    assert breach.detail["maxDuration"] == "1h"


def test_relative_sla_counts_from_the_first_sensor_not_from_readiness() -> None:
    cfg = pipeline(
        sla={"maxDuration": "2h", "expectedDuration": "30m"},
        schedule={"evaluation": {"window": "4h", "interval": "5m"}},
    )
    events = world(
        [cfg],
        [
            sensor(at(9, 1), "orders-landed", **READY),
            sensor(at(9, 30), "orders-landed", **READY),  # a second write does not move the arrival
            sensor(at(11, 50), "orders-count", count=12),
        ],
        end=at(16),
    )
    assert types(events) == [
        "RELATIVE_SLA_WARNING", "RELATIVE_SLA_BREACH", "VALIDATION_PASSED", "JOB_TRIGGERED",
        "JOB_COMPLETED",
    ]  # fmt: skip
    assert _sla_times(events) == [
        ("RELATIVE_SLA_WARNING", "2026-03-04", at(10, 31)),
        ("RELATIVE_SLA_BREACH", "2026-03-04", at(11, 1)),
    ]


# ------------------------------------------------------------------------------ acknowledged


def test_acknowledged_alerts_are_kept_with_acknowledged_detail() -> None:
    cfg = _cron(deadline="10:00", expectedDuration="30m")
    ack = {"pipeline": "orders", "date": "2026-03-04", "by": "alice", "reason": "upstream late"}
    events = world(
        [cfg],
        [
            jobs(at(1), outcome="fail"),
            sensor(at(1), "orders-count", count=12),
            {"at": iso(at(8)), "ack": ack},
        ],
    )
    assert types(events) == [
        "VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_FAILED", "SLA_ACKNOWLEDGED", "SLA_WARNING",
        "SLA_BREACH",
    ]  # fmt: skip
    acked = events[3]
    assert acked.actor == "alice" and acked.detail["reason"] == "upstream late"
    assert [e.detail.get("acknowledged") for e in events[4:]] == [True, True]


def test_ack_expires_before_the_breach() -> None:
    cfg = _cron(deadline="10:00", expectedDuration="30m")
    ack = {
        "pipeline": "orders",
        "date": "2026-03-04",
        "by": "alice",
        "reason": "looking",
        "until": iso(at(9, 45)),
    }
    events = world(
        [cfg],
        [
            jobs(at(1), outcome="fail"),
            sensor(at(1), "orders-count", count=12),
            {"at": iso(at(8)), "ack": ack},
        ],
    )
    assert types(events)[-3:] == ["SLA_ACKNOWLEDGED", "SLA_WARNING", "SLA_BREACH"]
    assert events[-2].detail.get("acknowledged") is True
    assert not events[-1].detail.get("acknowledged")


def test_ack_of_another_period_does_not_silence_today() -> None:
    cfg = _cron(deadline="10:00")
    ack = {"pipeline": "orders", "date": "2026-03-03", "by": "alice", "reason": "yesterday"}
    events = world([cfg], [sensor(at(1), "orders-count", count=1), {"at": iso(at(8)), "ack": ack}])
    assert types(events) == ["VALIDATION_EXHAUSTED", "SLA_ACKNOWLEDGED", "SLA_BREACH"]
    assert not events[-1].detail.get("acknowledged")


# ------------------------------------------------------------------------------- no alerts


def test_excluded_day_has_no_sla_alerts() -> None:
    cfg = _cron(deadline="08:00", expectedDuration="30m")
    cfg["schedule"]["exclude"] = {"weekends": True}
    saturday = DAY + timedelta(days=3)
    events = world([cfg], [], start=saturday)
    assert types(events) == ["PIPELINE_EXCLUDED"]


def test_dry_run_pipeline_has_no_live_sla_alerts() -> None:
    cfg = pipeline(dryRun=True, sla={"deadline": "08:00", "expectedDuration": "30m"})
    events = world([cfg], [jobs(at(8), outcome="fail"), *_ready()], end=DAY + timedelta(days=2))
    assert types(events) == ["DRY_RUN_WOULD_TRIGGER", "DRY_RUN_SLA_PROJECTION", "DRY_RUN_COMPLETED"]
    assert events[1].detail["status"] == "met"
    assert events[1].detail["deadline"] == "2026-03-05T08:00:00Z"


def test_each_sla_alert_once_per_period_over_two_days() -> None:
    cfg = _cron(deadline="08:00", expectedDuration="30m")
    start = DAY
    events = world([cfg], [sensor(at(1), "orders-count", count=1)], end=start + timedelta(days=2))
    assert periods(events, "SLA_WARNING") == ["2026-03-04", "2026-03-05"]
    assert periods(events, "SLA_BREACH") == ["2026-03-04", "2026-03-05"]


def test_ahead_of_time_sla_timers_skip_excluded_days() -> None:
    # Saturday 2026-03-07 is excluded: no SLA timers are set ahead for it, so no SLA alert at all
    cfg = pipeline(
        schedule={"cron": "0 6 * * *", "trigger": None, "exclude": {"weekends": True}},
        sla={"deadline": "07:00", "expectedDuration": "30m"},
    )
    saturday = at(0) + timedelta(days=3)
    events = world([cfg], [], start=saturday, end=saturday + timedelta(hours=12))
    assert types(events) == ["PIPELINE_EXCLUDED"]


def test_a_cron_run_that_never_starts_still_warns_and_breaches() -> None:
    # the cron fires at 06:00 but its deadline (05:00, expected 30m) lies before the fire: both alerts
    # come from the SLA timers set ahead of time, while the run does not exist yet
    cfg = _cron(deadline="05:00", expectedDuration="30m")
    events = world([cfg], [sensor(at(1), "orders-count", count=12)], end=at(5, 30))
    assert _sla_times(events) == [
        ("SLA_WARNING", "2026-03-04", at(4, 30)),
        ("SLA_BREACH", "2026-03-04", at(5)),
    ]
    assert [e.detail["status"] for e in events] == ["not started", "not started"]


def test_a_run_still_evaluating_at_its_deadline_has_not_started_its_job() -> None:
    # the trigger arrives at 09:01 but the count rule never passes within the 30 m window: the run row
    # is RUNNING (evaluating) when the warning falls, yet no job exists: the alert must not say "running"
    cfg = pipeline(
        sla={"maxDuration": "20m", "expectedDuration": "10m"},
        schedule={"evaluation": {"window": "30m", "interval": "5m"}},
    )
    events = world(
        [cfg],
        [sensor(at(9), "orders-count", count=1), sensor(at(9, 1), "orders-landed", **READY)],
        end=at(10),
    )
    alerts = [e for e in events if e.type.value.startswith("RELATIVE_SLA_")]
    assert [e.type.value for e in alerts] == ["RELATIVE_SLA_WARNING", "RELATIVE_SLA_BREACH"]
    for e in alerts:
        assert "has not started its job" in e.message
        assert "still running" not in e.message
        assert e.detail["actionHint"].startswith("job not started yet")
    assert "JOB_TRIGGERED" not in types(events)


# ------------------------------------------------------------------- expected periods, never started


def test_a_sensor_daily_period_whose_trigger_never_comes_still_warns_and_breaches() -> None:
    # a sensor-started daily pipeline (due T+1 08:00): no trigger sensor for the 4th ever arrives; the
    # watchdog arms the 4th's SLA timers ahead, so the data's lateness is alerted as "not started"
    cfg = pipeline(sla={"deadline": "08:00", "expectedDuration": "30m"})
    events = world(
        [cfg], [sensor(at(9), "orders-count", count=12)], end=DAY + timedelta(days=1, hours=9)
    )
    assert _sla_times(events) == [
        ("SLA_WARNING", "2026-03-04", _utc(2026, 3, 5, 7, 30)),
        ("SLA_BREACH", "2026-03-04", _utc(2026, 3, 5, 8)),
    ]
    assert [e.detail["status"] for e in events] == ["not started", "not started"]
    assert all("has not started" in e.message for e in events)


def test_an_expected_period_that_runs_in_time_is_met_once() -> None:
    # the same pipeline whose data for the 4th lands on the 5th at 06:00: its run's timers replace the
    # ones armed ahead, and the completion before the warning silences them: one SLA_MET, no alert
    cfg = pipeline(sla={"deadline": "08:00", "expectedDuration": "30m"})
    landed = _utc(2026, 3, 5, 6)
    events = world(
        [cfg],
        [
            sensor(at(9), "orders-count", count=12),
            sensor(landed, "orders-landed", **READY, date="2026-03-04"),
        ],
        end=DAY + timedelta(days=1, hours=9),
    )
    assert _sla_times(events) == [("SLA_MET", "2026-03-04", landed + timedelta(minutes=10))]


def test_a_daily_period_armed_ahead_stays_silent_when_its_hours_ran() -> None:
    # hourly sensors (date + hour) with a daily deadline: the day's data came as hourly runs, judged by
    # their own timers; the daily period armed ahead must not report the day "not started"
    cfg = pipeline(sla={"deadline": "23:30", "expectedDuration": "30m"})
    events = world(
        [cfg],
        [
            sensor(at(9), "orders-count", count=12),
            sensor(at(10, 5), "orders-landed", **READY, date="2026-03-04", hour="10"),
        ],
        end=DAY + timedelta(days=2),
    )
    assert [(t, p) for t, p, _ in _sla_times(events)] == [("SLA_MET", "2026-03-04T10")]
