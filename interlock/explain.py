"""Render "why is this pipeline (not) ready?" for people: rules with reasons, schedule, period, SLA.

Used by ``interlock explain`` (and later by the TUI's detail view through the API). Not a pure module:
it builds rich renderables. The facts it shows come from the pure modules (rules, schedule, sla).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from interlock.durations import format_duration
from interlock.exceptions import InterlockError
from interlock.lifecycle.operator import current_period
from interlock.rules import describe
from interlock.schedule import Period

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from rich.console import RenderableType

    from interlock.config.models import Calendar, PipelineConfig
    from interlock.rules import Evaluation, RuleResult

__all__ = ["render_explain"]


def _local(at: datetime, tz: str) -> str:
    local = at.astimezone(ZoneInfo(tz))
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or tz)


def _schedule_lines(
    config: PipelineConfig, now: datetime, calendars: Mapping[str, Calendar]
) -> list[str]:
    from interlock.schedule import exclusion_reason, is_inclusion_day, local_date, next_fire

    s = config.schedule
    lines = []
    starts = []
    if s.cron:
        nxt = next_fire(s.cron, s.timezone, now)
        starts.append(
            f"cron [cyan]{escape(s.cron)}[/] ({s.timezone}), next {_local(nxt, s.timezone)}"
        )
    if s.trigger:
        starts.append(f"a write to sensor [cyan]{escape(describe(s.trigger.as_rule()))}[/]")
    lines.append("starts on " + " or ".join(starts))
    lines.append(
        f"evaluates every {format_duration(s.evaluation.interval)} for up to "
        f"{format_duration(s.evaluation.window)}"
    )
    today = local_date(now, s.timezone)
    reason = exclusion_reason(s, today, calendars)
    if reason:
        lines.append(f"[yellow]today ({today}) is not a run day: {escape(reason)}[/]")
    elif not is_inclusion_day(s, today):
        lines.append(f"[yellow]today ({today}) is not in schedule.include.dates[/]")
    else:
        lines.append(f"today ({today}) is a run day")
    if config.dryRun:
        lines.append("[magenta]dry-run: Interlock only reports what it would do[/]")
    return lines


def _sla_line(config: PipelineConfig, period: Period, now: datetime) -> str | None:
    from interlock.sla import sla_window, status_at

    if config.sla is None:
        return None
    if config.sla.deadline is None and config.sla.maxDuration is not None:
        return (
            f"SLA  relative: done within {format_duration(config.sla.maxDuration)} "
            "of the first trigger-sensor arrival"
        )
    try:
        window = sla_window(config, period)
    except InterlockError as exc:
        return f"SLA  [red]{escape(str(exc))}[/]"
    if window is None:  # pragma: no cover - a deadline always yields a window
        return None
    tz = config.sla_timezone
    parts = []
    if window.warning_at is not None:
        parts.append(f"warning {_local(window.warning_at, tz)}")
    parts.append(f"breach {_local(window.breach_at, tz)}")
    status = status_at(window, now)
    colour = {"ok": "green", "warning": "yellow", "breached": "red"}[status]
    return f"SLA  {' · '.join(parts)}  [{colour}]{status}[/]"


def _rules_table(
    evaluation: Evaluation, now: datetime, updated: Mapping[str, datetime | None]
) -> Table:
    table = Table(box=None, pad_edge=False, show_edge=False)
    table.add_column("", no_wrap=True)
    table.add_column("RULE", no_wrap=True)
    table.add_column("VALUE", overflow="ellipsis", max_width=24, no_wrap=True)
    table.add_column("AGE", no_wrap=True)
    table.add_column("WHY NOT", overflow="fold")
    for r in evaluation.results:
        value = "—" if r.actual is None else str(r.actual)
        # An age check shows the age it judged; otherwise how long ago the sensor was written.
        written = updated.get(r.rule.key)
        if r.age is not None:
            age = format_duration(r.age)
        elif written is not None:
            age = format_duration(now - written)
        else:
            age = ""
        mark = Text("✓", style="green") if r.passed else Text("✗", style="red")
        table.add_row(mark, describe(r.rule), value, age, "" if r.passed else _short_reason(r))
    return table


def _short_reason(result: RuleResult) -> str:
    """The reason without its leading ``key.field`` (the RULE column already says it)."""
    rule = result.rule
    label = f"{rule.key}.{rule.field}" if rule.field else rule.key
    reason = result.reason
    if reason.startswith(label + " "):
        return reason[len(label) + 1 :]
    return reason


def render_explain(
    config: PipelineConfig,
    evaluation: Evaluation,
    now: datetime,
    *,
    calendars: Mapping[str, Calendar] | None = None,
    sensors: Mapping[str, Mapping[str, Any]] | None = None,
    updated: Mapping[str, datetime | None] | None = None,
) -> RenderableType:
    """A rich renderable explaining a pipeline's readiness at ``now``.

    Args:
        config: the pipeline.
        evaluation: its rules evaluated at ``now``.
        now: the instant of the evaluation.
        calendars: named calendars, for today's run-day check.
        sensors: the sensor fields evaluated (the trigger sensor gives the period).
        updated: when each sensor was written, for the AGE column.
    """
    cals = calendars or {}
    verdict = "[green]READY[/]" if evaluation.passed else "[red]NOT READY[/]"
    n, total = evaluation.passed_count, len(evaluation.results)
    head = (
        f"[bold]{escape(config.id)}[/] · {verdict} · {n}/{total} rules pass "
        f"({evaluation.mode}) · at {_local(now, 'UTC')}"
    )
    parts: list[RenderableType] = [head]
    if config.pipeline.description:
        parts.append(f"[dim]{escape(config.pipeline.description)}[/]")
    parts.extend(f"  {line}" for line in _schedule_lines(config, now, cals))
    try:
        period = Period.parse(current_period(config, now, sensors=sensors))
    except InterlockError as exc:
        parts.append(f"  [red]period: {escape(str(exc))}[/]")
        period = None
    if period is not None:
        parts.append(f"  period {period.id} ({config.schedule_id})")
        sla = _sla_line(config, period, now)
        if sla:
            parts.append(f"  {sla}")
    parts.append("")
    if evaluation.results:
        parts.append(_rules_table(evaluation, now, updated or {}))
    else:
        parts.append("no readiness rules: the trigger alone decides")
    return Group(*parts)
