"""Every clock of Interlock, in one module: the ``Clock`` port, the wall clock and the test clocks.

The core never reads the wall clock: it asks a :class:`Clock` (STYLE rule 14). Which clock a runtime
gets is chosen at its edge::

    clock               who uses it                                      moves
    ------------------  -----------------------------------------------  ------------------------------
    SystemClock         the CLI, the API facade (front-end edges)        with the wall clock
    wall_clock()        the CLI's one-shot "now" (same source)           with the wall clock
    VirtualClock        tests, simulations, the embedded runtime's       when told: set() / advance()
                        run_until
    FixedClock          tests (a VirtualClock nobody advances)           never
    AcceleratedClock    the live demo                                    speed × the monotonic clock

and the protocols a driver of time asks for: :class:`Clock` (read it), :class:`SettableClock`
(``EmbeddedRuntime.run_until`` sets it), :class:`SteppingClock` (the ASL interpreter jumps it).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "AcceleratedClock",
    "Clock",
    "FixedClock",
    "SettableClock",
    "SteppingClock",
    "SystemClock",
    "VirtualClock",
    "to_utc",
    "wall_clock",
]


# ------------------------------------------------------------------------------------ protocols


@runtime_checkable
class Clock(Protocol):
    """Where the current instant comes from."""

    def now(self) -> datetime:
        """The current instant, timezone-aware in UTC."""
        ...


@runtime_checkable
class SettableClock(Protocol):
    """A clock :meth:`~interlock.local.runtime.EmbeddedRuntime.run_until` can move (``VirtualClock``)."""

    def now(self) -> datetime:
        """The current instant."""
        ...

    def set(self, at: datetime) -> None:
        """Move the clock to ``at``."""
        ...


class SteppingClock(Protocol):
    """A clock :func:`interlock.local.asl.run_to_completion` can drive: read it, and jump it forward."""

    def now(self) -> datetime:
        """The current instant (timezone-aware)."""
        ...

    def advance_to(self, t: datetime) -> None:
        """Move the clock forward to ``t``."""
        ...


# ----------------------------------------------------------------------------------- wall clock


def wall_clock() -> datetime:
    """The current time in UTC. Only front-end edges call it; the core asks a :class:`Clock`."""
    return datetime.now(UTC)


class SystemClock:
    """The wall clock as a :class:`Clock`, for front-end edges (the CLI, the API facade)."""

    def now(self) -> datetime:
        """The current instant in UTC."""
        return wall_clock()

    def __repr__(self) -> str:
        return "<SystemClock>"


# --------------------------------------------------------------------------------- test clocks


def to_utc(at: datetime) -> datetime:
    """``at`` in UTC.

    Raises:
        ValueError: ``at`` is naive.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"a clock needs a timezone-aware instant, got naive {at.isoformat()}")
    return at.astimezone(UTC)


class VirtualClock:
    """A clock that moves only when told to: :meth:`set` or :meth:`advance`.

    Args:
        start: the initial instant (timezone-aware; kept in UTC).

    Raises:
        ValueError: ``start`` is naive.
    """

    def __init__(self, start: datetime) -> None:
        self._now = to_utc(start)

    def now(self) -> datetime:
        """The clock's current instant (UTC)."""
        return self._now

    def set(self, at: datetime) -> None:
        """Move the clock to ``at`` (backwards too: tests of replays and skew need it).

        Raises:
            ValueError: ``at`` is naive.
        """
        self._now = to_utc(at)

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta`` and return the new instant.

        Raises:
            ValueError: ``delta`` is negative (use :meth:`set` to go back on purpose).
        """
        if delta < timedelta(0):
            raise ValueError(f"advance() moves forward; got {delta}")
        self._now += delta
        return self._now

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._now.isoformat()}>"


FixedClock = VirtualClock
"""A clock nobody advances is a fixed clock: the same class, named for readers of tests."""


class AcceleratedClock:
    """A clock running ``speed`` times faster than the wall clock from ``start``.

    Args:
        start: the virtual instant at creation.
        speed: virtual seconds per wall second.
        monotonic: the wall-clock source (tests pass a fake).
    """

    def __init__(
        self, start: datetime, speed: float, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.start = start.astimezone(UTC)
        self.speed = speed
        self._monotonic = monotonic
        self._t0 = monotonic()

    def now(self) -> datetime:
        """The accelerated instant."""
        return self.start + timedelta(seconds=(self._monotonic() - self._t0) * self.speed)

    def __repr__(self) -> str:
        return f"<AcceleratedClock x{self.speed:g} at {self.now().isoformat()}>"
