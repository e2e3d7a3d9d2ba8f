"""Tests for ``interlock.schedule``: periods, sensor dates, cron fires across DST, and calendar days."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter
from hypothesis import given, settings
from hypothesis import strategies as st

from interlock.config.models import Calendar, Schedule
from interlock.exceptions import ScheduleError
from interlock.schedule import (
    Period,
    cron_period,
    exclusion_reason,
    fires_between,
    is_inclusion_day,
    is_run_day,
    local_date,
    next_fire,
    period_from_sensor,
    previous_fire,
)

NY = "America/New_York"
LONDON = "Europe/London"
NYZ = ZoneInfo(NY)
LONZ = ZoneInfo(LONDON)

# 2026 transitions. US: 03-08 02:00 EST -> 03:00 EDT (07:00Z); 11-01 02:00 EDT -> 01:00 EST (06:00Z).
# EU: 03-29 01:00 GMT -> 02:00 BST (01:00Z); 10-25 02:00 BST -> 01:00 GMT (01:00Z).
US_SPRING, US_FALL = date(2026, 3, 8), date(2026, 11, 1)
EU_SPRING, EU_FALL = date(2026, 3, 29), date(2026, 10, 25)

# No example database: unit tests do no I/O. Cron work is slow-ish, so no per-example deadline.
PROPS = settings(database=None, deadline=None, max_examples=60)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


def local_day(day: date, tz: str) -> tuple[datetime, datetime]:
    """[local midnight of ``day``, local midnight of the next day) as aware datetimes."""
    zone = ZoneInfo(tz)
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return start, end


def fires_on(cron: str, tz: str, day: date) -> list[datetime]:
    return list(fires_between(cron, tz, *local_day(day, tz)))


def walls(fires: list[datetime], tz: str) -> list[str]:
    zone = ZoneInfo(tz)
    return [f.astimezone(zone).strftime("%H:%M%Z") for f in fires]


# ------------------------------------------------------------------------------------------ Period


def test_period_ids_and_flags() -> None:
    daily = Period(date(2026, 3, 28))
    hourly = Period(date(2026, 3, 28), 7)
    assert (daily.id, str(daily), daily.is_hourly) == ("2026-03-28", "2026-03-28", False)
    assert (hourly.id, str(hourly), hourly.is_hourly) == ("2026-03-28T07", "2026-03-28T07", True)
    assert repr(hourly) == "Period('2026-03-28T07')"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-28", Period(date(2026, 3, 28))),
        ("2026-03-28T00", Period(date(2026, 3, 28), 0)),
        ("2026-03-28T23", Period(date(2026, 3, 28), 23)),
        ("2024-02-29", Period(date(2024, 2, 29))),
    ],
)
def test_period_parse(text: str, expected: Period) -> None:
    assert Period.parse(text) == expected
    assert Period.parse(text).id == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "20260328",
        "2026-3-28",
        "2026-03-28T7",
        "2026-03-28T24",
        "2026-03-28T99",
        "2026-02-30",
        "2025-02-29",
        "2026-13-01",
        " 2026-03-28",
        "2026-03-28 ",
        "2026-03-28t07",
        "2026-03-28T07:00",
        "2026-03-28T",
        "2026-03-28 07",
        "٢٠٢٦-03-28",  # Arabic-Indic digits match \d but are not a period
        "today",
    ],
)
def test_period_parse_refuses(text: str) -> None:
    with pytest.raises(ScheduleError, match="is not a period"):
        Period.parse(text)


def test_period_parse_refuses_non_text() -> None:
    with pytest.raises(ScheduleError):
        Period.parse(20260328)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("day", "hour"),
    [
        (date(2026, 3, 28), 24),
        (date(2026, 3, 28), -1),
        (date(2026, 3, 28), True),
        (date(2026, 3, 28), "7"),
        (datetime(2026, 3, 28, 7), None),
        ("2026-03-28", None),
    ],
)
def test_period_refuses_bad_fields(day: Any, hour: Any) -> None:
    with pytest.raises(ScheduleError):
        Period(day, hour)


def test_period_is_frozen_and_hashable() -> None:
    p = Period(date(2026, 3, 28), 7)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.hour = 8  # type: ignore[misc]
    assert {p, Period.parse("2026-03-28T07")} == {p}
    assert Period(date(2026, 3, 28)) != Period(date(2026, 3, 28), 0)


def test_period_order_puts_the_daily_period_before_its_hours() -> None:
    ps = [Period.parse(t) for t in ("2026-03-29", "2026-03-28T23", "2026-03-28", "2026-03-28T00")]
    assert [p.id for p in sorted(ps)] == [
        "2026-03-28",
        "2026-03-28T00",
        "2026-03-28T23",
        "2026-03-29",
    ]
    a, b = Period.parse("2026-03-28"), Period.parse("2026-03-28T00")
    assert a < b and a <= b and b > a and b >= a and a <= a and a >= a
    assert not (b < a) and max(a, b) == b


def test_period_does_not_order_against_other_types() -> None:
    p = Period.parse("2026-03-28")
    for op in ("__lt__", "__le__", "__gt__", "__ge__"):
        assert getattr(p, op)("2026-03-28") is NotImplemented
    with pytest.raises(TypeError):
        _ = p < "2026-03-29"


periods = st.builds(
    Period, st.dates(min_value=date(1000, 1, 1)), st.none() | st.integers(min_value=0, max_value=23)
)


@settings(database=None)
@given(periods)
def test_period_id_round_trips(p: Period) -> None:
    assert Period.parse(p.id) == p


@settings(database=None)
@given(periods, periods)
def test_period_order_matches_id_order(p: Period, q: Period) -> None:
    assert (p < q) == (p.id < q.id)
    assert (p == q) == (p.id == q.id)


# ------------------------------------------------------------------------------ period_from_sensor

NOW = utc(2026, 3, 28, 12, 0)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"date": "2026-03-27"}, "2026-03-27"),
        ({"date": "20260327"}, "2026-03-27"),
        ({"date": "2026-03-27", "hour": "07"}, "2026-03-27T07"),
        ({"date": "20260327", "hour": "7"}, "2026-03-27T07"),
        ({"date": "2026-03-27", "hour": "00"}, "2026-03-27T00"),
        ({"date": "2026-03-27", "hour": "23"}, "2026-03-27T23"),
        ({"date": "2026-03-27", "hour": 0}, "2026-03-27T00"),
        ({"date": "2026-03-27", "hour": 23}, "2026-03-27T23"),
        ({"date": "2026-03-27", "hour": None}, "2026-03-27"),
        ({"date": "2024-02-29", "other": "ignored"}, "2024-02-29"),
    ],
)
def test_period_from_sensor_reads_date_and_hour(data: dict[str, Any], expected: str) -> None:
    assert period_from_sensor(data, NOW, "UTC").id == expected


def test_period_from_sensor_accepts_any_mapping() -> None:
    data = MappingProxyType({"date": "2026-03-27", "hour": "5"})
    assert period_from_sensor(data, NOW, NY) == Period(date(2026, 3, 27), 5)


@pytest.mark.parametrize(
    ("now", "tz", "expected"),
    [
        # 23:30 EDT on the 27th is already the 28th in UTC: the pipeline's zone decides.
        (utc(2026, 3, 28, 3, 30), NY, "2026-03-27"),
        (utc(2026, 3, 28, 3, 30), "UTC", "2026-03-28"),
        # 05:00 in Tokyo on the 29th is still the 28th in UTC.
        (utc(2026, 3, 28, 20, 0), "Asia/Tokyo", "2026-03-29"),
        # `now` in any zone: only the instant matters.
        (datetime(2026, 3, 28, 5, 0, tzinfo=timezone(timedelta(hours=9))), NY, "2026-03-27"),
    ],
)
def test_period_from_sensor_without_date_is_today_in_the_pipeline_zone(
    now: datetime, tz: str, expected: str
) -> None:
    assert period_from_sensor({}, now, tz).id == expected
    assert period_from_sensor({"date": None}, now, tz).id == expected


def test_period_from_sensor_refuses_an_hour_without_a_date() -> None:
    with pytest.raises(ScheduleError, match="no 'date'"):
        period_from_sensor({"hour": "07"}, NOW, "UTC")


@pytest.mark.parametrize(
    "value",
    [
        "2026-02-30",
        "20260230",
        "2026/03/27",
        "27-03-2026",
        "2026-3-27",
        "",
        " 2026-03-27",
        "2026-03-27T07",
        "yesterday",
        20260327,
        True,
        ["2026-03-27"],
    ],
)
def test_period_from_sensor_refuses_a_bad_date(value: Any) -> None:
    with pytest.raises(ScheduleError, match="'date'"):
        period_from_sensor({"date": value}, NOW, "UTC")


def test_period_from_sensor_hints_at_the_hour_field() -> None:
    with pytest.raises(ScheduleError, match="'hour' field"):
        period_from_sensor({"date": "2026-03-27T07"}, NOW, "UTC")


@pytest.mark.parametrize(
    "value", ["24", "-1", "007", "7a", "", " 7", "٧", 24, -1, True, 7.0, ["07"]]
)
def test_period_from_sensor_refuses_a_bad_hour(value: Any) -> None:
    with pytest.raises(ScheduleError, match="'hour'"):
        period_from_sensor({"date": "2026-03-27", "hour": value}, NOW, "UTC")


def test_period_from_sensor_needs_an_aware_now_and_a_real_zone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        period_from_sensor({"date": "2026-03-27"}, datetime(2026, 3, 28, 12), "UTC")
    with pytest.raises(ScheduleError, match="unknown time zone"):
        period_from_sensor({}, NOW, "Mars/Olympus")


# -------------------------------------------------------------------------------------- local_date


def test_local_date() -> None:
    assert local_date(utc(2026, 3, 28, 3, 30), NY) == date(2026, 3, 27)
    assert local_date(utc(2026, 3, 28, 3, 30), "UTC") == date(2026, 3, 28)
    assert local_date(utc(2026, 3, 28, 23, 30), LONDON) == date(2026, 3, 28)  # GMT
    assert local_date(utc(2026, 3, 29, 23, 30), LONDON) == date(2026, 3, 30)  # BST
    with pytest.raises(ValueError):
        local_date(datetime(2026, 3, 28), NY)
    with pytest.raises(ScheduleError):
        local_date(NOW, "")


# --------------------------------------------------------------------------------- cron, in UTC


def test_next_fire_is_strictly_after() -> None:
    assert next_fire("0 8 * * *", "UTC", utc(2026, 3, 28, 7, 59)) == utc(2026, 3, 28, 8)
    assert next_fire("0 8 * * *", "UTC", utc(2026, 3, 28, 8)) == utc(2026, 3, 29, 8)
    assert next_fire("0 8 * * *", "UTC", utc(2026, 3, 28, 7, 59, 59, 999999)) == utc(2026, 3, 28, 8)
    assert next_fire("*/15 * * * *", "UTC", utc(2026, 3, 28, 8, 7, 30)) == utc(2026, 3, 28, 8, 15)


def test_previous_fire_is_at_or_before() -> None:
    assert previous_fire("0 8 * * *", "UTC", utc(2026, 3, 28, 8)) == utc(2026, 3, 28, 8)
    assert previous_fire("0 8 * * *", "UTC", utc(2026, 3, 28, 8, 0, 0, 1)) == utc(2026, 3, 28, 8)
    assert previous_fire("0 8 * * *", "UTC", utc(2026, 3, 28, 7, 59, 59)) == utc(2026, 3, 27, 8)
    assert previous_fire("*/15 * * * *", "UTC", utc(2026, 3, 28, 8, 29, 59)) == utc(
        2026, 3, 28, 8, 15
    )


def test_fires_between_is_start_inclusive_end_exclusive() -> None:
    fires = list(fires_between("0 */6 * * *", "UTC", utc(2026, 3, 28, 6), utc(2026, 3, 29, 6)))
    assert fires == [
        utc(2026, 3, 28, 6),
        utc(2026, 3, 28, 12),
        utc(2026, 3, 28, 18),
        utc(2026, 3, 29),
    ]
    assert list(fires_between("0 8 * * *", "UTC", utc(2026, 3, 28, 9), utc(2026, 3, 28, 9))) == []
    assert list(fires_between("0 8 * * *", "UTC", utc(2026, 3, 29), utc(2026, 3, 28))) == []


def test_fire_times_are_utc_whatever_zone_the_input_is_in() -> None:
    after = datetime(2026, 3, 28, 16, 59, tzinfo=timezone(timedelta(hours=9)))  # 07:59Z
    fire = next_fire("0 8 * * *", "UTC", after)
    assert fire == utc(2026, 3, 28, 8) and fire.tzinfo is UTC
    assert previous_fire("0 8 * * *", "UTC", after).tzinfo is UTC
    assert all(
        f.tzinfo is UTC for f in fires_between("0 * * * *", NY, after, after + timedelta(hours=3))
    )


def test_cron_is_read_in_the_pipeline_zone() -> None:
    # 08:00 in New York is 13:00Z in winter (EST) and 12:00Z in summer (EDT).
    assert next_fire("0 8 * * *", NY, utc(2026, 1, 15)) == utc(2026, 1, 15, 13)
    assert next_fire("0 8 * * *", NY, utc(2026, 7, 15)) == utc(2026, 7, 15, 12)
    assert next_fire("0 8 * * *", "Asia/Kolkata", utc(2026, 7, 15)) == utc(2026, 7, 15, 2, 30)


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("cron(0 6 * * ? *)", utc(2026, 3, 29, 6)),  # AWS form, translated
        ("0 6 * * ? *", utc(2026, 3, 29, 6)),
        ("@daily", utc(2026, 3, 29)),
        ("@hourly", utc(2026, 3, 28, 13)),
        ("0 6 * * 1", utc(2026, 3, 30, 6)),  # 2026-03-30 is a Monday
        ("cron(0 6 ? * 2 *)", utc(2026, 3, 30, 6)),  # AWS Monday is 2
    ],
)
def test_cron_forms(cron: str, expected: datetime) -> None:
    assert next_fire(cron, "UTC", utc(2026, 3, 28, 12)) == expected


@pytest.mark.parametrize("cron", ["", "0 8 * *", "61 * * * *", "0 8 * * * 2027", "hello"])
def test_bad_cron_is_a_schedule_error(cron: str) -> None:
    with pytest.raises(ScheduleError):
        next_fire(cron, "UTC", NOW)
    with pytest.raises(ScheduleError):
        previous_fire(cron, "UTC", NOW)
    with pytest.raises(ScheduleError):
        fires_between(cron, "UTC", NOW, NOW + timedelta(days=1))  # eager: before the first next()
    with pytest.raises(ScheduleError):
        cron_period(cron, "UTC", NOW)


def test_a_cron_that_never_fires_is_a_schedule_error() -> None:
    with pytest.raises(ScheduleError, match="never fires"):
        next_fire("0 0 30 2 *", "UTC", NOW)
    with pytest.raises(ScheduleError, match="never fires"):
        previous_fire("0 0 30 2 *", "UTC", NOW)


def test_cron_functions_refuse_naive_times_and_unknown_zones() -> None:
    naive = datetime(2026, 3, 28, 12)
    with pytest.raises(ValueError):
        next_fire("0 8 * * *", "UTC", naive)
    with pytest.raises(ValueError):
        previous_fire("0 8 * * *", "UTC", naive)
    with pytest.raises(ValueError):
        fires_between("0 8 * * *", "UTC", naive, NOW)
    with pytest.raises(ValueError):
        fires_between("0 8 * * *", "UTC", NOW, naive)
    with pytest.raises(ScheduleError, match="unknown time zone"):
        next_fire("0 8 * * *", "EST5EDT/Nowhere", NOW)
    with pytest.raises(ScheduleError, match="unknown time zone"):
        fires_between("0 8 * * *", "../etc/passwd", NOW, NOW + timedelta(days=1))


# ----------------------------------------------------------------------------- cron across DST


@pytest.mark.parametrize(
    ("cron", "tz", "day", "expected_utc", "expected_local"),
    [
        # New York, spring forward (02:00-02:59 does not exist on 2026-03-08).
        ("30 1 * * *", NY, US_SPRING, [utc(2026, 3, 8, 6, 30)], ["01:30EST"]),
        ("0 2 * * *", NY, US_SPRING, [utc(2026, 3, 8, 7)], ["03:00EDT"]),
        ("30 2 * * *", NY, US_SPRING, [utc(2026, 3, 8, 7)], ["03:00EDT"]),
        # New York, fall back (01:00-01:59 happens twice on 2026-11-01): once, at the first.
        ("30 1 * * *", NY, US_FALL, [utc(2026, 11, 1, 5, 30)], ["01:30EDT"]),
        ("0 2 * * *", NY, US_FALL, [utc(2026, 11, 1, 7)], ["02:00EST"]),
        # London, spring forward (01:00-01:59 does not exist on 2026-03-29).
        ("30 1 * * *", LONDON, EU_SPRING, [utc(2026, 3, 29, 1)], ["02:00BST"]),
        ("0 2 * * *", LONDON, EU_SPRING, [utc(2026, 3, 29, 1)], ["02:00BST"]),
        # London, fall back (01:00-01:59 happens twice on 2026-10-25).
        ("30 1 * * *", LONDON, EU_FALL, [utc(2026, 10, 25, 0, 30)], ["01:30BST"]),
        ("0 2 * * *", LONDON, EU_FALL, [utc(2026, 10, 25, 2)], ["02:00GMT"]),
        # UTC has no transitions.
        ("30 1 * * *", "UTC", US_FALL, [utc(2026, 11, 1, 1, 30)], ["01:30UTC"]),
    ],
)
def test_daily_cron_fires_once_per_local_day_across_dst(
    cron: str, tz: str, day: date, expected_utc: list[datetime], expected_local: list[str]
) -> None:
    fires = fires_on(cron, tz, day)
    assert fires == expected_utc
    assert walls(fires, tz) == expected_local


def test_croniter_alone_fires_twice_in_the_repeated_hour() -> None:
    # The trap this module exists to avoid (TOOLING.md "Time"); if croniter changes, revisit the notes.
    it = croniter("30 1 * * *", datetime(2026, 11, 1, 0, 0, tzinfo=NYZ))
    first, second = it.get_next(datetime), it.get_next(datetime)
    assert (first.astimezone(UTC), second.astimezone(UTC)) == (
        utc(2026, 11, 1, 5, 30),
        utc(2026, 11, 1, 6, 30),
    )
    # ...and fires a skipped time at the end of the gap, which we keep.
    it = croniter("30 2 * * *", datetime(2026, 3, 8, 0, 0, tzinfo=NYZ))
    assert it.get_next(datetime).astimezone(UTC) == utc(2026, 3, 8, 7)


@pytest.mark.parametrize(
    ("tz", "day", "skipped_hour", "count"),
    [
        (NY, US_SPRING, 2, 23),
        (NY, US_FALL, None, 24),
        (LONDON, EU_SPRING, 1, 23),
        (LONDON, EU_FALL, None, 24),
        ("UTC", US_SPRING, None, 24),
    ],
)
def test_hourly_cron_fires_once_per_local_hour(
    tz: str, day: date, skipped_hour: int | None, count: int
) -> None:
    fires = fires_on("0 * * * *", tz, day)
    hours = [f.astimezone(ZoneInfo(tz)).hour for f in fires]
    assert len(fires) == count
    assert hours == [h for h in range(24) if h != skipped_hour]
    assert all(f.astimezone(ZoneInfo(tz)).minute == 0 for f in fires)


def test_hourly_cron_on_fall_back_day_waits_two_hours_after_the_repeated_hour() -> None:
    fires = fires_on("0 * * * *", NY, US_FALL)
    assert fires[1:3] == [utc(2026, 11, 1, 5), utc(2026, 11, 1, 7)]  # 01:00 EDT, then 02:00 EST
    fires = fires_on("0 * * * *", LONDON, EU_FALL)
    assert fires[1:3] == [utc(2026, 10, 25, 0), utc(2026, 10, 25, 2)]  # 01:00 BST, then 02:00 GMT


@pytest.mark.parametrize(
    ("tz", "day", "count", "around_gap"),
    [
        # 02:00 and 02:30 are skipped and collapse into the real 03:00 fire.
        (NY, US_SPRING, 46, ["01:00EST", "01:30EST", "03:00EDT", "03:30EDT"]),
        (NY, US_FALL, 48, ["01:00EDT", "01:30EDT", "02:00EST", "02:30EST"]),
        (LONDON, EU_SPRING, 46, ["00:00GMT", "00:30GMT", "02:00BST", "02:30BST"]),
        (LONDON, EU_FALL, 48, ["01:00BST", "01:30BST", "02:00GMT", "02:30GMT"]),
    ],
)
def test_half_hourly_cron_across_dst(tz: str, day: date, count: int, around_gap: list[str]) -> None:
    fires = fires_on("*/30 * * * *", tz, day)
    assert len(fires) == count
    local = walls(fires, tz)
    start = 2 if tz == NY else (0 if day == EU_SPRING else 2)
    assert local[start : start + 4] == around_gap
    assert len(set(local)) == len(local)


def test_next_fire_across_fall_back() -> None:
    # After the first 01:30 the next daily fire is the next day's, not the repeated 01:30 EST.
    assert next_fire("30 1 * * *", NY, utc(2026, 11, 1, 5, 30)) == utc(2026, 11, 2, 6, 30)
    # From the first 01:00 the next hourly fire is 02:00 EST, two real hours later.
    assert next_fire("0 * * * *", NY, utc(2026, 11, 1, 5)) == utc(2026, 11, 1, 7)
    # From inside the second pass through 01:xx (01:15 EST) the next minute fire is 02:00 EST.
    assert next_fire("* * * * *", NY, utc(2026, 11, 1, 6, 15)) == utc(2026, 11, 1, 7)
    assert next_fire("30 1 * * *", LONDON, utc(2026, 10, 25, 1, 15)) == utc(2026, 10, 26, 1, 30)


def test_next_fire_across_spring_forward() -> None:
    assert next_fire("30 2 * * *", NY, utc(2026, 3, 8, 6)) == utc(2026, 3, 8, 7)
    assert next_fire("*/30 * * * *", NY, utc(2026, 3, 8, 6, 30)) == utc(2026, 3, 8, 7)
    assert next_fire("*/30 * * * *", NY, utc(2026, 3, 8, 7)) == utc(2026, 3, 8, 7, 30)
    assert next_fire("30 1 * * *", LONDON, utc(2026, 3, 29, 0, 59)) == utc(2026, 3, 29, 1)
    assert next_fire("30 1 * * *", LONDON, utc(2026, 3, 29, 1)) == utc(2026, 3, 30, 0, 30)


def test_previous_fire_across_fall_back() -> None:
    # At 01:45 EST (second pass) the last 01:30 fire was the first one, at 01:30 EDT.
    assert previous_fire("30 1 * * *", NY, utc(2026, 11, 1, 6, 45)) == utc(2026, 11, 1, 5, 30)
    assert previous_fire("* * * * *", NY, utc(2026, 11, 1, 6, 15)) == utc(2026, 11, 1, 5, 59)
    assert previous_fire("0 * * * *", NY, utc(2026, 11, 1, 6, 59)) == utc(2026, 11, 1, 5)
    assert previous_fire("0 * * * *", NY, utc(2026, 11, 1, 7)) == utc(2026, 11, 1, 7)
    assert previous_fire("30 1 * * *", LONDON, utc(2026, 10, 25, 1, 45)) == utc(2026, 10, 25, 0, 30)


def test_previous_fire_across_spring_forward() -> None:
    assert previous_fire("30 2 * * *", NY, utc(2026, 3, 8, 7)) == utc(2026, 3, 8, 7)
    assert previous_fire("30 2 * * *", NY, utc(2026, 3, 8, 7, 10)) == utc(2026, 3, 8, 7)
    assert previous_fire("30 2 * * *", NY, utc(2026, 3, 8, 6, 59)) == utc(2026, 3, 7, 7, 30)
    assert previous_fire("*/30 * * * *", NY, utc(2026, 3, 8, 7, 29)) == utc(2026, 3, 8, 7)


def test_fires_between_starting_at_the_end_of_a_gap_includes_the_moved_fire() -> None:
    fires = fires_between("30 2 * * *", NY, utc(2026, 3, 8, 7), utc(2026, 3, 8, 8))
    assert list(fires) == [utc(2026, 3, 8, 7)]
    fires = fires_between("30 1 * * *", LONDON, utc(2026, 3, 29, 1), utc(2026, 3, 29, 2))
    assert list(fires) == [utc(2026, 3, 29, 1)]


def test_fires_between_starting_in_the_second_pass_skips_repeated_times() -> None:
    fires = fires_between("*/30 * * * *", NY, utc(2026, 11, 1, 6), utc(2026, 11, 1, 8))
    assert list(fires) == [utc(2026, 11, 1, 7), utc(2026, 11, 1, 7, 30)]


# Brute-force oracle: walk every UTC minute. A minute u fires when it is a first occurrence (fold 0) and
# some cron-matching wall time lies in (wall(u - 1 minute), wall(u)]: usually just wall(u), and after a
# spring-forward every wall time the jump skipped. Matching uses croniter's field expansion only (the
# oracle crons restrict minutes and hours), not its date arithmetic.
def oracle(cron: str, tz: str, start: datetime, end: datetime) -> list[datetime]:
    fields, _ = croniter.expand(cron)
    assert fields[2:] == [["*"], ["*"], ["*"]], "oracle crons may restrict only minute and hour"
    minutes = set(range(60)) if fields[0] == ["*"] else set(fields[0])
    hours = set(range(24)) if fields[1] == ["*"] else set(fields[1])
    zone = ZoneInfo(tz)
    out = []
    u = start.astimezone(UTC).replace(second=0, microsecond=0)
    if u < start:
        u += timedelta(minutes=1)
    while u < end:
        here = u.astimezone(zone)
        if here.fold == 0:
            w = here.replace(tzinfo=None)
            prev = (u - timedelta(minutes=1)).astimezone(zone).replace(tzinfo=None)
            while w > prev:
                if w.minute in minutes and w.hour in hours:
                    out.append(u)
                    break
                w -= timedelta(minutes=1)
        u += timedelta(minutes=1)
    return out


ORACLE_CRONS = [
    "30 1 * * *",
    "0 2 * * *",
    "30 2 * * *",
    "0 * * * *",
    "*/30 * * * *",
    "45 */2 * * *",
]


@pytest.mark.parametrize("cron", ORACLE_CRONS)
@pytest.mark.parametrize(
    ("tz", "day"),
    [
        (NY, US_SPRING),
        (NY, US_FALL),
        (LONDON, EU_SPRING),
        (LONDON, EU_FALL),
        ("Australia/Lord_Howe", date(2026, 4, 5)),  # half-hour DST: 02:00 -> 01:30
        ("Australia/Lord_Howe", date(2026, 10, 4)),  # 02:00 -> 02:30
        ("UTC", US_SPRING),
    ],
)
def test_fires_between_matches_the_brute_force_oracle(cron: str, tz: str, day: date) -> None:
    start, end = local_day(day, tz)
    start, end = start - timedelta(hours=3), end + timedelta(hours=3)
    assert list(fires_between(cron, tz, start, end)) == oracle(cron, tz, start, end)


# ----------------------------------------------------------------------------- cron properties

ZONES = ["UTC", NY, LONDON, "Australia/Lord_Howe", "Asia/Kolkata"]
PROPERTY_CRONS = [*ORACLE_CRONS, "15 6 * * 1-5", "0 0 1 * *", "5 1,13 * * *", "59 23 * * *"]
TRANSITIONS = [
    utc(2026, 3, 8, 7),
    utc(2026, 11, 1, 6),
    utc(2026, 3, 29, 1),
    utc(2026, 10, 25, 1),
    utc(2026, 4, 4, 15),  # Lord Howe, back
    utc(2026, 10, 3, 15, 30),  # Lord Howe, forward
]
# Instants within two days of a 2026 DST transition, to the second.
near_transitions = st.builds(
    lambda base, seconds: base + timedelta(seconds=seconds),
    st.sampled_from(TRANSITIONS),
    st.integers(min_value=-2 * 86400, max_value=2 * 86400),
)


@PROPS
@given(st.sampled_from(PROPERTY_CRONS), st.sampled_from(ZONES), near_transitions)
def test_next_and_previous_fire_bracket_every_instant(cron: str, tz: str, t: datetime) -> None:
    before, after = previous_fire(cron, tz, t), next_fire(cron, tz, t)
    assert before <= t < after
    assert previous_fire(cron, tz, before) == before
    assert previous_fire(cron, tz, after) == after
    assert next_fire(cron, tz, before) == after
    # Nothing fires strictly between them.
    assert list(fires_between(cron, tz, before + timedelta(microseconds=1), after)) == []


@PROPS
@given(
    st.sampled_from(PROPERTY_CRONS),
    st.sampled_from(ZONES),
    near_transitions,
    st.integers(min_value=0, max_value=36 * 3600),
)
def test_fires_between_is_increasing_and_one_per_wall_time(
    cron: str, tz: str, start: datetime, seconds: int
) -> None:
    end = start + timedelta(seconds=seconds)
    fires = list(fires_between(cron, tz, start, end))
    assert all(start <= f < end for f in fires)
    assert all(a < b for a, b in zip(fires, fires[1:], strict=False))
    local = [f.astimezone(ZoneInfo(tz)).replace(tzinfo=None) for f in fires]
    assert len(set(local)) == len(local)
    # Consecutive fires chain through next_fire.
    assert all(next_fire(cron, tz, a) == b for a, b in zip(fires, fires[1:], strict=False))
    if fires:
        assert previous_fire(cron, tz, fires[0] - timedelta(microseconds=1)) < start


@settings(database=None, deadline=None, max_examples=25)
@given(
    st.sampled_from(["*/30 * * * *", "30 1 * * *", "0 2 * * *", "45 */2 * * *"]),
    st.sampled_from(ZONES),
    near_transitions,
)
def test_fires_between_matches_the_oracle_near_transitions(
    cron: str, tz: str, start: datetime
) -> None:
    end = start + timedelta(hours=8)
    assert list(fires_between(cron, tz, start, end)) == oracle(cron, tz, start, end)


# ------------------------------------------------------------------------------------ cron_period


@pytest.mark.parametrize(
    ("cron", "tz", "fire_at", "expected"),
    [
        ("0 * * * *", LONDON, utc(2026, 3, 28, 10), "2026-03-28T10"),
        ("0 * * * *", LONDON, utc(2026, 3, 30, 10), "2026-03-30T11"),  # BST
        ("0 */2 * * *", "UTC", utc(2026, 3, 28, 10), "2026-03-28T10"),
        ("0 1,13 * * *", "UTC", utc(2026, 3, 28, 13), "2026-03-28T13"),
        ("30 9-17 * * *", "UTC", utc(2026, 3, 28, 9, 30), "2026-03-28T09"),
        ("@hourly", "UTC", utc(2026, 3, 28, 9), "2026-03-28T09"),
        ("*/15 * * * *", "UTC", utc(2026, 3, 28, 9, 45), "2026-03-28T09"),
        ("0 6 * * *", "UTC", utc(2026, 3, 28, 6), "2026-03-28"),
        ("0 06 * * *", "UTC", utc(2026, 3, 28, 6), "2026-03-28"),
        ("15 6 * * 1-5", NY, utc(2026, 3, 30, 10, 15), "2026-03-30"),
        ("*/15 9 * * *", "UTC", utc(2026, 3, 28, 9, 45), "2026-03-28"),
        ("@daily", "UTC", utc(2026, 3, 28), "2026-03-28"),
        ("cron(0 23 * * ? *)", NY, utc(2026, 3, 29, 3), "2026-03-28"),  # 23:00 EDT on the 28th
        # A fire moved to the end of the spring-forward gap belongs to that local date and hour.
        ("30 2 * * *", NY, utc(2026, 3, 8, 7), "2026-03-08"),
        ("30 * * * *", NY, utc(2026, 3, 8, 7), "2026-03-08T03"),
        # The first 01:00 of the fall-back day.
        ("0 * * * *", NY, utc(2026, 11, 1, 5), "2026-11-01T01"),
    ],
)
def test_cron_period(cron: str, tz: str, fire_at: datetime, expected: str) -> None:
    assert cron_period(cron, tz, fire_at).id == expected


def test_cron_period_needs_an_aware_fire_time() -> None:
    with pytest.raises(ValueError):
        cron_period("0 6 * * *", "UTC", datetime(2026, 3, 28, 6))


@PROPS
@given(st.sampled_from(PROPERTY_CRONS), st.sampled_from(ZONES), near_transitions)
def test_cron_period_is_on_the_fire_local_date(cron: str, tz: str, t: datetime) -> None:
    fire = next_fire(cron, tz, t)
    period = cron_period(cron, tz, fire)
    assert period.day == local_date(fire, tz)
    hour_field = cron.split()[1]
    assert period.is_hourly is (not hour_field.isdigit())
    if period.is_hourly:
        assert period.hour == fire.astimezone(ZoneInfo(tz)).hour


# -------------------------------------------------------------------------------------- calendars

US_FEDERAL = Calendar.model_validate(
    {
        "name": "us-federal",
        "description": "US federal holidays and weekends",
        "days": ["Sat", "sunday"],
        "dates": ["2026-01-01", "2026-07-03", "2026-11-26", "2026-12-25"],
    }
)
CALENDARS = {"us-federal": US_FEDERAL, "uk-bank": Calendar(name="uk-bank")}


def schedule(**fields: Any) -> Schedule:
    return Schedule.model_validate({"cron": "0 6 * * *", **fields})


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (date(2026, 12, 25), "2026-12-25 is in calendar us-federal"),
        (date(2026, 11, 26), "2026-11-26 is in calendar us-federal"),
        (date(2026, 3, 28), "Saturday is a day off in calendar us-federal"),
        (date(2026, 3, 29), "Sunday is a day off in calendar us-federal"),
        (date(2026, 3, 30), None),
        (date(2026, 12, 24), None),
    ],
)
@pytest.mark.parametrize(
    "sched",
    [schedule(exclude={"calendar": "us-federal"}), schedule(calendar="us-federal")],
    ids=["exclude.calendar", "calendar"],
)
def test_calendar_exclusion(sched: Schedule, day: date, reason: str | None) -> None:
    assert exclusion_reason(sched, day, CALENDARS) == reason
    assert is_run_day(sched, day, CALENDARS) is (reason is None)


def test_weekend_and_date_exclusions() -> None:
    sched = schedule(exclude={"weekends": True, "dates": ["2026-07-03", "2026-07-04"]})
    assert exclusion_reason(sched, date(2026, 3, 28), {}) == "Saturday (weekends excluded)"
    assert exclusion_reason(sched, date(2026, 3, 29), {}) == "Sunday (weekends excluded)"
    assert (
        exclusion_reason(sched, date(2026, 7, 3), {})
        == "2026-07-03 excluded by schedule.exclude.dates"
    )
    # 2026-07-04 is a Saturday: the weekend rule is reported first.
    assert exclusion_reason(sched, date(2026, 7, 4), {}) == "Saturday (weekends excluded)"
    assert exclusion_reason(sched, date(2026, 7, 6), {}) is None


def test_schedule_exclusions_come_before_the_calendar() -> None:
    sched = schedule(exclude={"weekends": True, "dates": ["2026-12-25"], "calendar": "us-federal"})
    assert exclusion_reason(sched, date(2026, 3, 28), CALENDARS) == "Saturday (weekends excluded)"
    assert exclusion_reason(sched, date(2026, 12, 25), CALENDARS) == (
        "2026-12-25 excluded by schedule.exclude.dates"
    )
    assert (
        exclusion_reason(sched, date(2026, 11, 26), CALENDARS)
        == "2026-11-26 is in calendar us-federal"
    )


def test_no_exclusions() -> None:
    assert exclusion_reason(schedule(), date(2026, 3, 28), {}) is None
    assert exclusion_reason(schedule(exclude={"weekends": False}), date(2026, 3, 28), {}) is None
    # The original's unused `holidays` key excludes nothing.
    assert exclusion_reason(schedule(exclude={"holidays": "us"}), date(2026, 12, 25), {}) is None
    assert exclusion_reason(schedule(calendar="uk-bank"), date(2026, 12, 25), CALENDARS) is None


def test_unknown_calendar_names_the_known_ones() -> None:
    sched = schedule(exclude={"weekends": True, "calendar": "us-fedral"})
    with pytest.raises(ScheduleError, match=r"'us-fedral'.*known: uk-bank, us-federal"):
        exclusion_reason(sched, date(2026, 3, 30), CALENDARS)
    # Raised on every day, even one another rule already excludes.
    with pytest.raises(ScheduleError):
        exclusion_reason(sched, date(2026, 3, 28), CALENDARS)
    with pytest.raises(ScheduleError, match="none are defined"):
        is_run_day(sched, date(2026, 3, 28), {})


def test_inclusion_days() -> None:
    irregular = Schedule.model_validate(
        {"trigger": {"key": "k"}, "include": {"dates": ["2026-03-31", "2026-06-30"]}}
    )
    assert is_inclusion_day(irregular, date(2026, 3, 31))
    assert not is_inclusion_day(irregular, date(2026, 4, 1))
    assert is_inclusion_day(schedule(), date(2026, 4, 1))  # no include list: every day
    assert is_run_day(irregular, date(2026, 3, 31), {})
    assert not is_run_day(irregular, date(2026, 4, 1), {})


def test_run_day_needs_inclusion_and_no_exclusion() -> None:
    sched = Schedule.model_validate(
        {
            "trigger": {"key": "k"},
            "include": {"dates": ["2026-03-28", "2026-03-30", "2026-12-25"]},
            "exclude": {"calendar": "us-federal"},
        }
    )
    assert not is_run_day(sched, date(2026, 3, 28), CALENDARS)  # included, but a Saturday
    assert is_run_day(sched, date(2026, 3, 30), CALENDARS)
    assert not is_run_day(sched, date(2026, 12, 25), CALENDARS)  # included, but a holiday
    assert not is_run_day(sched, date(2026, 3, 31), CALENDARS)  # not included
