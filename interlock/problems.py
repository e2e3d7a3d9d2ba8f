"""Where one period stands against its SLA, computed (never remembered): the one rule every face uses.

Pure: no clock, no store, no I/O. The board (``Interlock.board``/``status``), ``interlock explain``, the
``Explanation`` and the notebook (``Interlock.period_sla``) all call :func:`period_sla`, so they cannot
disagree, and none of them depends on whether a runtime fired the SLA timers.

An SLA is about the data, not the run: only a *successful* completion of the period delivers it. A run
that failed, exhausted its poll window, is still going or never started is judged like one that has not
finished::

    no SLA / relative SLA before the first arrival / deadline not computable ─▶ none   (reason says which)
    not delivered, and the breach fell before Interlock watched the pipeline ─▶ unwatched
    delivered at t ─────────────── t < breach ─▶ met        t ≥ breach ─▶ missed
    not delivered at now ────────── now < warning ─▶ ok   warning ≤ now < breach ─▶ warning   else breached

``acknowledged`` is carried alongside (an operator's ack in force): the state stays what it is (a breach
is still a breach), but an acknowledged period no longer needs on-call (:attr:`PeriodSla.needs_action`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from interlock.durations import format_duration
from interlock.exceptions import InterlockError
from interlock.sla import sla_window

if TYPE_CHECKING:
    from interlock.config.models import PipelineConfig
    from interlock.schedule import Period

__all__ = ["SLA_STATES", "PeriodSla", "SlaState", "period_sla"]

SlaState = Literal["none", "unwatched", "ok", "warning", "breached", "met", "missed"]
SLA_STATES: tuple[SlaState, ...] = (
    "none",
    "unwatched",
    "ok",
    "warning",
    "breached",
    "met",
    "missed",
)
"""Every SLA state, from "nothing to judge" to the verdicts."""


def _hhmm(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%H:%M")


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True, slots=True)
class PeriodSla:
    """One period's SLA state at one instant.

    Attributes:
        period: the period judged.
        state: see :data:`SLA_STATES` and the module docstring.
        warning_at: when the warning falls (UTC), if any.
        breach_at: when the breach falls (UTC), if any.
        acknowledged: an operator acknowledgement is in force for the period.
        reason: why, in words (``"no successful run by the deadline 08:00 UTC"``).
    """

    period: str
    state: SlaState
    warning_at: datetime | None = None
    breach_at: datetime | None = None
    acknowledged: bool = False
    reason: str = ""

    @property
    def alarming(self) -> bool:
        """Whether the data is late or at risk (warning, breached or missed), acknowledged or not."""
        return self.state in ("warning", "breached", "missed")

    @property
    def failing(self) -> bool:
        """Whether the deadline passed without the data (breached or missed)."""
        return self.state in ("breached", "missed")

    @property
    def needs_action(self) -> bool:
        """Whether on-call should look: alarming and not acknowledged."""
        return self.alarming and not self.acknowledged

    def text(self, now: datetime) -> str:
        """A short line for a board cell: ``warn in 49m``, ``BREACHED 08:30``, ``met``, ``not watched``."""
        b, w = self.breach_at, self.warning_at
        if self.state == "none" or b is None:
            return "not watched" if self.state == "unwatched" else "—"
        text = {
            "unwatched": "not watched",
            "met": "met",
            "missed": f"missed {_hhmm(b)}",
            "breached": f"BREACHED {_hhmm(b)}",
            "warning": f"breach in {format_duration(b - now)}",
        }.get(self.state)
        if text is None:  # ok
            text = (
                f"warn in {format_duration(w - now)}"
                if w is not None
                else f"breach in {format_duration(b - now)}"
            )
        return text

    def __repr__(self) -> str:
        ack = " acknowledged" if self.acknowledged else ""
        return f"<PeriodSla {self.period} {self.state}{ack}: {self.reason}>"


def period_sla(
    config: PipelineConfig,
    period: Period,
    now: datetime,
    *,
    delivered_at: datetime | None = None,
    arrived_at: datetime | None = None,
    watched_since: datetime | None = None,
    acknowledged: bool = False,
) -> PeriodSla:
    """The SLA state of one period of a pipeline at ``now`` (see the module docstring).

    Args:
        config: the pipeline.
        period: the period judged.
        now: the instant, timezone-aware.
        delivered_at: when a run of the period completed successfully (``None``: not delivered, whether
            its run failed, is going or never started).
        arrived_at: when the period's first trigger sensor arrived (starts a relative SLA's clock).
        watched_since: when the pipeline's config was first stored; a period whose breach fell before
            it, undelivered, is ``unwatched`` (Interlock cannot have alerted on it).
        acknowledged: whether an operator acknowledgement is in force for the period.

    Returns:
        The period's :class:`PeriodSla`.
    """
    pid = period.id
    sla = config.sla
    if sla is None:
        return PeriodSla(pid, "none", acknowledged=acknowledged, reason="no SLA configured")
    try:
        window = sla_window(config, period, arrived_at=arrived_at)
    except InterlockError as exc:
        return PeriodSla(
            pid, "none", acknowledged=acknowledged, reason=f"SLA not computable: {exc}"
        )
    if window is None:
        why = "relative SLA: its clock starts when the first trigger sensor arrives"
        return PeriodSla(pid, "none", acknowledged=acknowledged, reason=why)
    w, b = window.warning_at, window.breach_at

    def state(s: SlaState, reason: str) -> PeriodSla:
        return PeriodSla(pid, s, w, b, acknowledged, reason)

    deadline = (
        f"the {'deadline' if window.kind == 'absolute' else 'maxDuration breach'} {_hhmm(b)} UTC"
    )
    if delivered_at is not None:
        if delivered_at >= b:
            return state("missed", f"delivered at {_hhmm(delivered_at)} UTC, after {deadline}")
        return state("met", f"delivered at {_hhmm(delivered_at)} UTC, before {deadline}")
    if watched_since is not None and b <= watched_since:
        return state(
            "unwatched",
            f"not judged: its breach time {_stamp(b)} fell before Interlock watched the pipeline "
            f"(config first stored {_stamp(watched_since)})",
        )
    if now >= b:
        return state("breached", f"no successful run by {deadline}")
    if w is not None and now >= w:
        return state("warning", f"no successful run yet; breach at {_hhmm(b)} UTC")
    return state("ok", f"not due yet; breach at {_hhmm(b)} UTC")
