"""Tests for ``interlock.sla``: absolute and relative windows, DST, the stream T+1 rule and verdicts."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interlock.config.models import SLA, PipelineConfig
from interlock.exceptions import SLAError
from interlock.schedule import Period
from interlock.sla import (
    SLAWindow,
    absolute_window,
    relative_window,
    sla_window,
    status_at,
    verdict,
)

NY = "America/New_York"
LONDON = "Europe/London"

PROPS = settings(database=None, deadline=None, max_examples=200)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


def sla(**fields: Any) -> SLA:
    return SLA.model_validate(fields)


def period(text: str) -> Period:
    return Period.parse(text)


def config(
    sla_fields: dict[str, Any] | None, *, cron: str | None = None, **schedule: Any
) -> PipelineConfig:
    sched: dict[str, Any] = {"trigger": {"key": "orders"}, **schedule}
    if cron:
        sched["cron"] = cron
    doc: dict[str, Any] = {
        "pipeline": {"id": "orders"},
        "schedule": sched,
        "job": {"type": "command", "config": {"command": "true"}},
    }
    if sla_fields is not None:
        doc["sla"] = sla_fields
    return PipelineConfig.model_validate(doc)


# ------------------------------------------------------------------------ the original's examples


def test_daily_deadline_reference_example() -> None:
    # D=2026-03-28, 08:00, 30m => breach 08:00Z, warning 07:30Z.
    w = absolute_window(
        sla(deadline="08:00", expectedDuration="30m"),
        period("2026-03-28"),
        tz="UTC",
        next_day=False,
    )
    assert (w.warning_at, w.breach_at, w.kind) == (
        utc(2026, 3, 28, 7, 30),
        utc(2026, 3, 28, 8),
        "absolute",
    )


def test_hourly_deadline_reference_example() -> None:
    # D=2026-03-28T10, :30, 15m => breach 11:30, warning 11:15 (data for hour H is due in H+1).
    w = absolute_window(
        sla(deadline=":30", expectedDuration="15m"),
        period("2026-03-28T10"),
        tz="UTC",
        next_day=False,
    )
    assert (w.warning_at, w.breach_at) == (utc(2026, 3, 28, 11, 15), utc(2026, 3, 28, 11, 30))


def test_hourly_deadline_for_the_last_hour_is_the_next_day() -> None:
    # D=...T23, :30, 10m => next day 00:30 / 00:20.
    w = absolute_window(
        sla(deadline=":30", expectedDuration="10m"),
        period("2026-03-28T23"),
        tz="UTC",
        next_day=False,
    )
    assert (w.warning_at, w.breach_at) == (utc(2026, 3, 29, 0, 20), utc(2026, 3, 29, 0, 30))


def test_deadline_in_new_york_reference_example() -> None:
    # NY 09:00 => 13:00Z (EDT); 14:00Z in winter (EST).
    s = sla(deadline="09:00")
    assert absolute_window(s, period("2026-03-28"), tz=NY, next_day=False).breach_at == utc(
        2026, 3, 28, 13
    )
    assert absolute_window(s, period("2026-01-15"), tz=NY, next_day=False).breach_at == utc(
        2026, 1, 15, 14
    )


# ---------------------------------------------------------------------------------- absolute rules


def test_next_day_moves_a_daily_deadline_one_local_day() -> None:
    s = sla(deadline="08:00", expectedDuration="30m")
    w = absolute_window(s, period("2026-03-28"), tz="UTC", next_day=True)
    assert (w.warning_at, w.breach_at) == (utc(2026, 3, 29, 7, 30), utc(2026, 3, 29, 8))
    # One *local* day: 09:00 EST on the 7th, 09:00 EDT on the 8th (23 real hours later).
    s = sla(deadline="09:00")
    assert absolute_window(s, period("2026-03-07"), tz=NY, next_day=False).breach_at == utc(
        2026, 3, 7, 14
    )
    assert absolute_window(s, period("2026-03-07"), tz=NY, next_day=True).breach_at == utc(
        2026, 3, 8, 13
    )


def test_daily_deadline_with_an_hourly_period_uses_the_date() -> None:
    s = sla(deadline="08:00")
    for hour in ("00", "07", "23"):
        w = absolute_window(s, period(f"2026-03-28T{hour}"), tz="UTC", next_day=False)
        assert w.breach_at == utc(2026, 3, 28, 8)


def test_hourly_deadline_ignores_next_day() -> None:
    s = sla(deadline=":15")
    w = absolute_window(s, period("2026-03-28T10"), tz="UTC", next_day=True)
    assert w.breach_at == utc(2026, 3, 28, 11, 15)


def test_hourly_deadline_needs_an_hourly_period() -> None:
    with pytest.raises(SLAError, match=r"hourly :MM deadline \(':30'\) needs an hourly period"):
        absolute_window(sla(deadline=":30"), period("2026-03-28"), tz="UTC", next_day=False)


def test_no_expected_duration_means_no_warning() -> None:
    w = absolute_window(sla(deadline="08:00"), period("2026-03-28"), tz="UTC", next_day=False)
    assert w.warning_at is None and w.breach_at == utc(2026, 3, 28, 8)
    assert status_at(w, utc(2026, 3, 28, 7, 59)) == "ok"


def test_absolute_window_needs_a_deadline_and_a_zone() -> None:
    with pytest.raises(SLAError, match="no deadline"):
        absolute_window(sla(maxDuration="2h"), period("2026-03-28"), tz="UTC", next_day=False)
    with pytest.raises(SLAError, match="unknown SLA time zone"):
        absolute_window(
            sla(deadline="08:00"), period("2026-03-28"), tz="Mars/Olympus", next_day=False
        )


def test_an_unreadable_deadline_is_an_sla_error() -> None:
    # Models validate deadlines; a constructed-but-unvalidated SLA must still fail clearly.
    bad = SLA.model_construct(deadline="8am", expectedDuration=None, maxDuration=None)
    with pytest.raises(SLAError, match="not a deadline"):
        absolute_window(bad, period("2026-03-28"), tz="UTC", next_day=False)


def test_deadlines_in_non_utc_zones() -> None:
    w = absolute_window(
        sla(deadline="06:00", expectedDuration="1h"),
        period("2026-07-01"),
        tz="Asia/Kolkata",
        next_day=False,
    )
    assert (w.warning_at, w.breach_at) == (utc(2026, 6, 30, 23, 30), utc(2026, 7, 1, 0, 30))
    w = absolute_window(
        sla(deadline=":45"), period("2026-07-01T00"), tz="Asia/Kolkata", next_day=False
    )
    assert w.breach_at == utc(2026, 6, 30, 20, 15)  # 01:45 IST


# --------------------------------------------------------------------------------- absolute, DST


@pytest.mark.parametrize(
    ("deadline", "tz", "day", "breach"),
    [
        # Spring forward: a deadline the clock skips moves forward by the gap.
        ("02:30", NY, "2026-03-08", utc(2026, 3, 8, 7, 30)),  # 03:30 EDT
        ("02:00", NY, "2026-03-08", utc(2026, 3, 8, 7)),  # 03:00 EDT
        ("01:59", NY, "2026-03-08", utc(2026, 3, 8, 6, 59)),  # 01:59 EST, just before the gap
        ("03:00", NY, "2026-03-08", utc(2026, 3, 8, 7)),  # 03:00 EDT, the first time after it
        ("01:30", LONDON, "2026-03-29", utc(2026, 3, 29, 1, 30)),  # 02:30 BST
        ("02:00", LONDON, "2026-03-29", utc(2026, 3, 29, 1)),  # 02:00 BST
        # Fall back: a deadline in the repeated hour is its first occurrence.
        ("01:30", NY, "2026-11-01", utc(2026, 11, 1, 5, 30)),  # 01:30 EDT, not 01:30 EST
        ("02:00", NY, "2026-11-01", utc(2026, 11, 1, 7)),  # 02:00 EST
        ("01:30", LONDON, "2026-10-25", utc(2026, 10, 25, 0, 30)),  # 01:30 BST, not GMT
        ("02:00", LONDON, "2026-10-25", utc(2026, 10, 25, 2)),  # 02:00 GMT
        # Days either side use their own offsets.
        ("09:00", LONDON, "2026-03-28", utc(2026, 3, 28, 9)),
        ("09:00", LONDON, "2026-03-29", utc(2026, 3, 29, 8)),
        ("09:00", LONDON, "2026-10-24", utc(2026, 10, 24, 8)),
        ("09:00", LONDON, "2026-10-25", utc(2026, 10, 25, 9)),
    ],
)
def test_daily_deadline_across_dst(deadline: str, tz: str, day: str, breach: datetime) -> None:
    w = absolute_window(sla(deadline=deadline), period(day), tz=tz, next_day=False)
    assert w.breach_at == breach


@pytest.mark.parametrize(
    ("deadline", "tz", "hour", "breach"),
    [
        # New York, 2026-03-08: hour 01 (EST) ends at the jump; its data is due 60 real minutes later.
        (":15", NY, "2026-03-08T01", utc(2026, 3, 8, 7, 15)),  # 03:15 EDT
        # Hour 02 does not exist; its start moves forward by the gap, to 03:00 EDT.
        (":15", NY, "2026-03-08T02", utc(2026, 3, 8, 8, 15)),
        (":15", NY, "2026-03-08T03", utc(2026, 3, 8, 8, 15)),
        # New York, 2026-11-01: hour 01 is the first (EDT) one.
        (":30", NY, "2026-11-01T00", utc(2026, 11, 1, 5, 30)),  # 01:30 EDT
        (":30", NY, "2026-11-01T01", utc(2026, 11, 1, 6, 30)),  # 01:30 EST
        (":30", NY, "2026-11-01T02", utc(2026, 11, 1, 8, 30)),  # 03:30 EST
        # London, 2026-03-29: hour 00 (GMT) is due at 02:30 BST.
        (":30", LONDON, "2026-03-29T00", utc(2026, 3, 29, 1, 30)),
        (":30", LONDON, "2026-03-29T02", utc(2026, 3, 29, 2, 30)),  # 03:30 BST
        # London, 2026-10-25: hour 01 is the first (BST) one.
        (":30", LONDON, "2026-10-25T01", utc(2026, 10, 25, 1, 30)),  # 01:30 GMT
        (":30", LONDON, "2026-10-25T02", utc(2026, 10, 25, 3, 30)),  # 03:30 GMT
    ],
)
def test_hourly_deadline_across_dst(deadline: str, tz: str, hour: str, breach: datetime) -> None:
    w = absolute_window(
        sla(deadline=deadline, expectedDuration="10m"), period(hour), tz=tz, next_day=False
    )
    assert w.breach_at == breach
    assert w.warning_at == breach - timedelta(minutes=10)


# ------------------------------------------------------------------------------------------ relative


def test_relative_window_warns_at_75_percent_without_expected_duration() -> None:
    w = relative_window(sla(maxDuration="2h"), utc(2026, 3, 28, 10))
    assert (w.warning_at, w.breach_at, w.kind) == (
        utc(2026, 3, 28, 11, 30),
        utc(2026, 3, 28, 12),
        "relative",
    )


def test_relative_window_warns_expected_duration_before_the_breach() -> None:
    w = relative_window(sla(maxDuration="2h", expectedDuration="20m"), utc(2026, 3, 28, 10))
    assert (w.warning_at, w.breach_at) == (utc(2026, 3, 28, 11, 40), utc(2026, 3, 28, 12))


def test_relative_window_counts_real_time_across_dst() -> None:
    # Arrival 00:30 EST on the spring-forward day; 3h later is 04:30 EDT (07:30Z).
    arrived = datetime(2026, 3, 8, 0, 30, tzinfo=ZoneInfo(NY))
    w = relative_window(sla(maxDuration="3h"), arrived)
    assert w.breach_at == utc(2026, 3, 8, 8, 30) and w.breach_at.tzinfo is UTC


def test_relative_window_needs_max_duration_and_an_aware_arrival() -> None:
    with pytest.raises(SLAError, match="no maxDuration"):
        relative_window(sla(deadline="08:00"), utc(2026, 3, 28, 10))
    with pytest.raises(ValueError, match="timezone-aware"):
        relative_window(sla(maxDuration="2h"), datetime(2026, 3, 28, 10))


# -------------------------------------------------------------------------------------- sla_window


def test_sla_window_none_without_an_sla() -> None:
    assert sla_window(config(None), period("2026-03-28")) is None


def test_stream_daily_deadline_is_the_next_day() -> None:
    c = config({"deadline": "08:00", "expectedDuration": "30m"})
    assert c.schedule_id == "stream"
    w = sla_window(c, period("2026-03-28"))
    assert w is not None and (w.warning_at, w.breach_at) == (
        utc(2026, 3, 29, 7, 30),
        utc(2026, 3, 29, 8),
    )


def test_stream_hourly_period_is_not_shifted() -> None:
    c = config({"deadline": "08:00"})
    w = sla_window(c, period("2026-03-28T10"))
    assert w is not None and w.breach_at == utc(2026, 3, 28, 8)
    c = config({"deadline": ":20"})
    w = sla_window(c, period("2026-03-28T10"))
    assert w is not None and w.breach_at == utc(2026, 3, 28, 11, 20)


def test_cron_daily_deadline_is_the_same_day() -> None:
    c = config({"deadline": "08:00", "expectedDuration": "30m"}, cron="0 6 * * *")
    assert c.schedule_id == "cron"
    w = sla_window(c, period("2026-03-28"))
    assert w is not None and w.breach_at == utc(2026, 3, 28, 8)


def test_sla_window_reads_the_sla_zone_then_the_schedule_zone() -> None:
    c = config({"deadline": "09:00"}, cron="0 6 * * *", timezone=LONDON)
    w = sla_window(c, period("2026-07-01"))
    assert w is not None and w.breach_at == utc(2026, 7, 1, 8)  # 09:00 BST
    c = config({"deadline": "09:00", "timezone": NY}, cron="0 6 * * *", timezone=LONDON)
    w = sla_window(c, period("2026-07-01"))
    assert w is not None and w.breach_at == utc(2026, 7, 1, 13)  # 09:00 EDT


def test_sla_window_is_relative_once_the_arrival_is_known() -> None:
    c = config({"deadline": "08:00", "maxDuration": "2h"})
    w = sla_window(c, period("2026-03-28"), arrived_at=utc(2026, 3, 28, 10))
    assert w is not None and (w.kind, w.breach_at) == ("relative", utc(2026, 3, 28, 12))
    w = sla_window(c, period("2026-03-28"))
    assert w is not None and (w.kind, w.breach_at) == ("absolute", utc(2026, 3, 29, 8))


def test_sla_window_relative_only_waits_for_the_arrival() -> None:
    c = config({"maxDuration": "2h"})
    assert sla_window(c, period("2026-03-28")) is None
    w = sla_window(c, period("2026-03-28"), arrived_at=utc(2026, 3, 28, 10))
    assert w is not None and w.kind == "relative"


def test_sla_window_ignores_the_arrival_without_max_duration() -> None:
    c = config({"deadline": "08:00"}, cron="0 6 * * *")
    w = sla_window(c, period("2026-03-28"), arrived_at=utc(2026, 3, 28, 10))
    assert w is not None and (w.kind, w.breach_at) == ("absolute", utc(2026, 3, 28, 8))


def test_sla_window_hourly_deadline_with_daily_period_is_an_error() -> None:
    with pytest.raises(SLAError, match="needs an hourly period"):
        sla_window(config({"deadline": ":15"}), period("2026-03-28"))


# --------------------------------------------------------------------------- verdicts and status


WINDOW = SLAWindow(
    warning_at=utc(2026, 3, 28, 7, 30), breach_at=utc(2026, 3, 28, 8), kind="absolute"
)


@pytest.mark.parametrize(
    ("completed", "expected"),
    [
        (utc(2026, 3, 28, 7), "SLA_MET"),
        (utc(2026, 3, 28, 7, 45), "SLA_MET"),  # after the warning is still met
        (utc(2026, 3, 28, 7, 59, 59, 999999), "SLA_MET"),
        (utc(2026, 3, 28, 8), "SLA_BREACH"),  # at the breach instant is a breach
        (utc(2026, 3, 28, 9), "SLA_BREACH"),
        (datetime(2026, 3, 28, 3, 59, tzinfo=ZoneInfo(NY)), "SLA_MET"),  # 07:59Z
    ],
)
def test_verdict(completed: datetime, expected: str) -> None:
    assert verdict(WINDOW, completed) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2026, 3, 28, 7, 29), "ok"),
        (utc(2026, 3, 28, 7, 30), "warning"),
        (utc(2026, 3, 28, 7, 59), "warning"),
        (utc(2026, 3, 28, 8), "breached"),
        (utc(2026, 3, 29), "breached"),
    ],
)
def test_status_at(now: datetime, expected: str) -> None:
    assert status_at(WINDOW, now) == expected


def test_verdict_and_status_need_aware_times() -> None:
    with pytest.raises(ValueError):
        verdict(WINDOW, datetime(2026, 3, 28, 8))
    with pytest.raises(ValueError):
        status_at(WINDOW, datetime(2026, 3, 28, 8))


# ---------------------------------------------------------------------------------------- SLAWindow


def test_window_repr_is_readable() -> None:
    assert repr(WINDOW) == (
        "<SLAWindow absolute warning=2026-03-28T07:30:00Z breach=2026-03-28T08:00:00Z>"
    )
    bare = SLAWindow(warning_at=None, breach_at=utc(2026, 3, 28, 8), kind="absolute")
    assert repr(bare) == "<SLAWindow absolute warning=none breach=2026-03-28T08:00:00Z>"


def test_window_normalises_to_utc_and_is_frozen() -> None:
    plus2 = timezone(timedelta(hours=2))
    w = SLAWindow(
        warning_at=datetime(2026, 3, 28, 9, 30, tzinfo=plus2),
        breach_at=datetime(2026, 3, 28, 10, tzinfo=plus2),
        kind="relative",
    )
    assert w.breach_at == utc(2026, 3, 28, 8) and w.breach_at.tzinfo is UTC
    assert w.warning_at is not None and w.warning_at.tzinfo is UTC
    with pytest.raises(dataclasses.FrozenInstanceError):
        w.kind = "absolute"  # type: ignore[misc]


@pytest.mark.parametrize(
    "fields",
    [
        {"warning_at": None, "breach_at": datetime(2026, 3, 28, 8), "kind": "absolute"},
        {
            "warning_at": datetime(2026, 3, 28, 7),
            "breach_at": utc(2026, 3, 28, 8),
            "kind": "absolute",
        },
        {"warning_at": utc(2026, 3, 28, 9), "breach_at": utc(2026, 3, 28, 8), "kind": "absolute"},
        {"warning_at": None, "breach_at": utc(2026, 3, 28, 8), "kind": "soft"},
    ],
)
def test_window_refuses_bad_fields(fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        SLAWindow(**fields)


# --------------------------------------------------------------------------------------- properties

durations = st.integers(min_value=1, max_value=24 * 3600).map(lambda s: timedelta(seconds=s))
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


@PROPS
@given(instants, durations, st.data())
def test_relative_window_properties(arrived: datetime, max_duration: timedelta, data: Any) -> None:
    expected = data.draw(
        st.none() | st.integers(min_value=0, max_value=int(max_duration.total_seconds()) - 1)
    )
    fields: dict[str, Any] = {"maxDuration": f"{int(max_duration.total_seconds())}s"}
    if expected is not None:
        fields["expectedDuration"] = f"{expected}s"
    w = relative_window(sla(**fields), arrived)
    assert w.breach_at - arrived == max_duration
    assert w.warning_at is not None and arrived <= w.warning_at <= w.breach_at
    now = data.draw(
        st.datetimes(
            min_value=datetime(2019, 1, 1), max_value=datetime(2031, 1, 1), timezones=st.just(UTC)
        )
    )
    assert (verdict(w, now) == "SLA_BREACH") is (status_at(w, now) == "breached")


ZONES = ["UTC", NY, LONDON, "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham"]


@PROPS
@given(
    st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    st.integers(min_value=0, max_value=23),
    st.integers(min_value=0, max_value=59),
    st.sampled_from(ZONES),
    st.booleans(),
)
def test_daily_deadline_is_that_wall_time_unless_skipped(
    day: date, hour: int, minute: int, tz: str, next_day: bool
) -> None:
    w = absolute_window(
        sla(deadline=f"{hour:02d}:{minute:02d}"), Period(day), tz=tz, next_day=next_day
    )
    zone = ZoneInfo(tz)
    local = w.breach_at.astimezone(zone)
    wall = datetime.combine(day + timedelta(days=int(next_day)), time(hour, minute))
    if local.replace(tzinfo=None) != wall:
        # Only a wall time skipped by a spring-forward may move, and only forward, by under a day.
        assert (
            datetime.combine(wall.date(), wall.time(), tzinfo=zone)
            .astimezone(UTC)
            .astimezone(zone)
            .replace(tzinfo=None)
            != wall
        )
        assert timedelta(0) < local.replace(tzinfo=None) - wall < timedelta(hours=24)
    else:
        assert local.fold == 0  # first occurrence


@PROPS
@given(
    st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    st.integers(min_value=0, max_value=22),
    st.integers(min_value=0, max_value=59),
    st.sampled_from(ZONES),
)
def test_hourly_deadlines_advance_with_the_hour(day: date, hour: int, minute: int, tz: str) -> None:
    s = sla(deadline=f":{minute:02d}")
    this = absolute_window(s, Period(day, hour), tz=tz, next_day=False)
    later = absolute_window(s, Period(day, hour + 1), tz=tz, next_day=False)
    assert this.breach_at <= later.breach_at
    # Hour H's data is due one real hour plus MM minutes after the (first) start of local hour H.
    start = datetime.combine(day, time(hour), tzinfo=ZoneInfo(tz)).astimezone(UTC)
    assert this.breach_at - start == timedelta(hours=1, minutes=minute)
