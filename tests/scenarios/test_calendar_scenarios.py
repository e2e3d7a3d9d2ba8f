"""Issue [4/5] scenarios: exclusions (weekends, dates, named calendars) and inclusion dates.

Ports reference §12.2 CalendarExclusionFullSkip/ExcludedDate_NoTriggerLock_NoSFN and §12.6
CalendarExcluded_NoSFN / SensorEvent_CalendarExclusion_PublishesEvent / IsExcluded_WeekendExclusion /
IsExcludedDate_*, §12.7 InclusionSchedule_*. PIPELINE_EXCLUDED is published once per period.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.scenarios.harness import DAY, at, periods, pipeline, sensor, types, world

READY = {"status": "ready"}
RUN = ["VALIDATION_PASSED", "JOB_TRIGGERED", "JOB_COMPLETED"]


def _cron(**schedule: Any) -> dict[str, Any]:
    return pipeline(schedule={"cron": "0 6 * * *", "trigger": None, **schedule})


def test_excluded_date_skips_the_run_entirely() -> None:
    # CalendarExclusionFullSkip: events exactly [PIPELINE_EXCLUDED], no run
    cfg = pipeline(schedule={"exclude": {"dates": ["2026-03-04"]}})
    events = world(
        [cfg],
        [sensor(at(9), "orders-count", count=12), sensor(at(9, 1), "orders-landed", **READY),
         sensor(at(10), "orders-landed", **READY)],
    )  # fmt: skip
    assert types(events) == ["PIPELINE_EXCLUDED"]
    assert events[0].date == "2026-03-04"


def test_weekend_exclusion_skips_saturday_and_sunday_only() -> None:
    # IsExcluded_WeekendExclusion: Friday and Monday run
    friday = DAY + timedelta(days=2)
    cfg = _cron(exclude={"weekends": True})
    events = world(
        [cfg],
        [sensor(friday, "orders-count", count=12)],
        start=friday,
        end=friday + timedelta(days=4),
    )
    assert types(events) == [*RUN, "PIPELINE_EXCLUDED", "PIPELINE_EXCLUDED", *RUN]
    assert periods(events, "JOB_TRIGGERED") == ["2026-03-06", "2026-03-09"]
    assert periods(events, "PIPELINE_EXCLUDED") == ["2026-03-07", "2026-03-08"]


def test_named_calendar_dates_and_days() -> None:
    calendar = {"name": "ops", "days": ["thursday"], "dates": ["2026-03-06"]}
    cfg = _cron(exclude={"calendar": "ops"})
    events = world(
        [cfg],
        [sensor(DAY, "orders-count", count=12)],
        end=DAY + timedelta(days=3),
        calendars=[calendar],
    )
    # Wednesday runs, Thursday (a calendar weekday) and Friday (a calendar date) are excluded
    assert periods(events, "JOB_TRIGGERED") == ["2026-03-04"]
    assert periods(events, "PIPELINE_EXCLUDED") == ["2026-03-05", "2026-03-06"]


def test_schedule_calendar_spelling_is_the_same_as_exclude_calendar() -> None:
    calendar = {"name": "ops", "dates": ["2026-03-04"]}
    cfg = pipeline(schedule={"calendar": "ops"})
    events = world(
        [cfg],
        [sensor(at(9), "orders-count", count=12), sensor(at(9, 1), "orders-landed", **READY)],
        calendars=[calendar],
    )
    assert types(events) == ["PIPELINE_EXCLUDED"]


def test_exclusion_follows_the_schedule_time_zone() -> None:
    # 2026-03-07 01:00Z is still Friday 2026-03-06 in New York: that run is not excluded
    cfg = _cron(cron="0 20 * * *", timezone="America/New_York", exclude={"weekends": True})
    friday = DAY + timedelta(days=2)
    events = world(
        [cfg],
        [sensor(friday, "orders-count", count=12)],
        start=friday,
        end=friday + timedelta(days=2, hours=2),
    )
    assert periods(events, "JOB_TRIGGERED") == ["2026-03-05", "2026-03-06"]
    fired = [e.timestamp for e in events if e.type.value == "JOB_TRIGGERED"]
    assert fired[1] == friday + timedelta(days=1, hours=1)  # Friday 20:00 EST, Saturday in UTC
    assert periods(events, "PIPELINE_EXCLUDED") == ["2026-03-07"]


def test_inclusion_dates_run_and_other_days_are_excluded() -> None:
    cfg = pipeline(schedule={"include": {"dates": ["2026-03-05"]}})
    tomorrow = DAY + timedelta(days=1)
    events = world(
        [cfg],
        [
            sensor(at(9), "orders-count", count=12),
            sensor(at(9, 1), "orders-landed", **READY),  # 03-04: not an included day
            sensor(tomorrow + timedelta(hours=9), "orders-landed", **READY),
        ],
        end=tomorrow + timedelta(hours=12),
    )
    assert types(events) == ["PIPELINE_EXCLUDED", *RUN]
    assert periods(events, "JOB_TRIGGERED") == ["2026-03-05"]
