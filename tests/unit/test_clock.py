"""``interlock.clock``: the one module of clocks (and the old import paths that re-export them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from interlock import clock
from interlock.clock import (
    AcceleratedClock,
    Clock,
    SettableClock,
    SystemClock,
    VirtualClock,
    to_utc,
    wall_clock,
)

T0 = datetime(2026, 3, 4, 9, tzinfo=UTC)


def test_system_clock_and_wall_clock_read_the_same_aware_utc_time() -> None:
    before = datetime.now(UTC)
    first, second = wall_clock(), SystemClock().now()
    assert before <= first <= second <= datetime.now(UTC)
    assert second.tzinfo is UTC
    assert isinstance(SystemClock(), Clock) and not isinstance(SystemClock(), SettableClock)
    assert isinstance(VirtualClock(T0), SettableClock)


def test_to_utc_converts_and_refuses_naive() -> None:
    assert to_utc(datetime(2026, 3, 4, 11, tzinfo=timezone(timedelta(hours=2)))) == T0
    with pytest.raises(ValueError, match="naive"):
        to_utc(datetime(2026, 3, 4, 9))  # noqa: DTZ001 - the point of the test


def test_accelerated_clock_runs_speed_times_the_monotonic_source() -> None:
    ticks = iter([100.0, 130.0])
    fast = AcceleratedClock(T0, 60, monotonic=lambda: next(ticks))
    assert fast.now() == T0 + timedelta(minutes=30)
    with pytest.raises(ValueError, match="positive"):
        AcceleratedClock(T0, 0)


def test_old_import_paths_are_the_same_objects() -> None:
    from interlock import api, demo, ports
    from interlock.local import asl, runtime

    assert ports.VirtualClock is clock.VirtualClock and ports.FixedClock is clock.VirtualClock
    assert ports.Clock is clock.Clock and api.SystemClock is clock.SystemClock
    assert demo.AcceleratedClock is clock.AcceleratedClock
    assert runtime.SettableClock is clock.SettableClock and asl.SteppingClock is clock.SteppingClock
