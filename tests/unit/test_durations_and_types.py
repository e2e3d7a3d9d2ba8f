"""Duration strings and the strict field types used by the config models."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interlock.config.types import normalize_cron, parse_clock_time, parse_deadline
from interlock.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1.5h", timedelta(minutes=90)),
        ("500ms", timedelta(milliseconds=500)),
        ("1d2h", timedelta(days=1, hours=2)),
        (" 5m ", timedelta(minutes=5)),
        ("0", timedelta(0)),
        ("1h0m30s", timedelta(hours=1, seconds=30)),
    ],
)
def test_parse_duration_accepts_go_style(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("10", "has no unit: write 10s, 10m or 10h"),
        ("2 hours", "is not a duration"),
        ("", "empty duration"),
        ("1h1h", "repeats the unit"),
        ("h", "is not a duration"),
        ("-5m", "is not a duration"),
        ("5x", "is not a duration"),
    ],
)
def test_parse_duration_refuses_with_a_hint(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_duration(text)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=45), "45s"),
        (timedelta(minutes=36), "36m"),
        (timedelta(hours=2, minutes=31, seconds=9), "2h31m"),
        (timedelta(days=1, hours=2), "1d2h"),
        (timedelta(0), "0s"),
        (timedelta(minutes=-5), "-5m"),
        (timedelta(minutes=1, seconds=5), "1m5s"),
    ],
)
def test_format_duration_is_compact(delta: timedelta, text: str) -> None:
    assert format_duration(delta) == text


@given(st.integers(min_value=0, max_value=10**7))
def test_format_then_parse_round_trips_to_the_displayed_precision(seconds: int) -> None:
    delta = timedelta(seconds=seconds)
    back = parse_duration(format_duration(delta))
    # Past an hour the seconds are dropped on purpose; below, the round trip is exact.
    assert abs(back - delta) < (timedelta(minutes=1) if seconds >= 3600 else timedelta(seconds=1))


def test_clock_time_and_deadlines() -> None:
    assert parse_clock_time("09:30") == (9, 30)
    assert parse_deadline("10:00") == (10, 0)
    assert parse_deadline(":15") == (None, 15)
    for bad in ("24:00", "9.30", "10:60", ""):
        with pytest.raises(ValueError, match="HH:MM"):
            parse_deadline(bad)
    with pytest.raises(ValueError, match="00-59"):
        parse_deadline(":75")


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("0 8 * * *", "0 8 * * *"),
        ("*/15 * * * MON-FRI", "*/15 * * * MON-FRI"),
        ("@daily", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
        ("0 6 * * ? *", "0 6 * * *"),
        ("cron(0 6 ? * 2-6 *)", "0 6 * * 1-5"),
        ("30 9 ? * 1,7 *", "30 9 * * 0,6"),
        ("0 12 ? * MON *", "0 12 * * MON"),
    ],
)
def test_cron_is_kept_or_translated_deliberately(expr: str, expected: str) -> None:
    text, note = normalize_cron(expr)
    assert text == expected
    # A translation from AWS syntax carries a note (shown as a warning); shortcuts need none.
    assert (note is None) == (text == expr or expr.startswith("@"))


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("0 8 * *", "has 4 fields"),
        ("0 6 * * ? 2027", "pins the year"),
        ("0 6 L * ? *", "AWS-only syntax"),
        ("0 6 ? * 6#3 *", "AWS-only syntax"),
        ("0 6 * * ?", "'?' is AWS syntax"),
        ("61 8 * * *", "not a valid expression"),
        ("@sometimes", "unknown shortcut"),
        ("0 6 ? * 8 *", "out of range 1-7"),
        ("cron(0 6 * *)", "needs 6 fields"),
        ("0 0 30 2 *", "never fires"),
    ],
)
def test_cron_refusals_say_what_to_write(expr: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        normalize_cron(expr)
