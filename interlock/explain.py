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
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from rich.console import RenderableType

    from interlock.config.models import Calendar, PipelineConfig
    from interlock.problems import PeriodSla
    from interlock.rules import Evaluation, RuleResult

__all__ = ["invalid_trigger_sensors", "render_explain", "runtime_view"]


def _local(at: datetime, tz: str) -> str:
    local = at.astimezone(ZoneInfo(tz))
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or tz)


def invalid_trigger_sensors(
    config: PipelineConfig, sensors: Mapping[str, Mapping[str, Any]], now: datetime
) -> tuple[dict[str, str], bool]:
    """Trigger sensors the runtime would refuse (it publishes SENSOR_INVALID for them), as it decides.

    A sensor counts when its key starts with ``schedule.trigger.key`` (not a bookkeeping row) and it
    passes the trigger check; it is refused when its ``date``/``hour`` give no period.

    Returns:
        ``(key → why it is refused, blocked)``: ``blocked`` when trigger sensors exist and every one is
        refused, so the runtime would start nothing from them.
    """
    from interlock.exceptions import ScheduleError
    from interlock.rules import evaluate_rule
    from interlock.schedule import period_from_sensor
    from interlock.store import keys

    trigger = config.schedule.trigger
    if trigger is None:
        return {}, False
    rule = trigger.as_rule()
    refused: dict[str, str] = {}
    usable = 0
    for key in sorted(sensors):
        fields = sensors[key]
        if not key.startswith(trigger.key) or keys.parse_bookkeeping_key(key) is not None:
            continue
        if not evaluate_rule(rule, {rule.key: fields}, now).passed:
            continue
        try:
            period_from_sensor(fields, now, config.schedule.timezone)
        except ScheduleError as exc:
            refused[key] = str(exc)
        else:
            usable += 1
    return refused, bool(refused) and not usable


def runtime_view(
    config: PipelineConfig, sensors: Mapping[str, Mapping[str, Any]], now: datetime
) -> tuple[dict[str, Any], dict[str, str], bool]:
    """The sensors as the runtime reads them now, for every face that explains readiness.

    Per-period rows (``row-count#2026-03-03T07``) are also read under their base key for the current
    period (:func:`~interlock.lifecycle.run.remap_for_period`), and trigger sensors the runtime refuses are
    found (:func:`invalid_trigger_sensors`).

    Returns:
        ``(sensors, refused, blocked)``: the sensors to evaluate, refused trigger sensors with why, and
        whether every trigger sensor is refused (not ready, whatever the rules say).
    """
    from interlock.lifecycle.run import remap_for_period

    view: dict[str, Any] = dict(sensors)
    try:
        view = dict(remap_for_period(sensors, current_period(config, now, sensors=sensors)))
    except InterlockError:  # an unusable trigger date: reported through ``refused``
        pass
    refused, blocked = invalid_trigger_sensors(config, sensors, now)
    return view, refused, blocked


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


_SLA_COLOURS = {
    "none": "dim",
    "unwatched": "dim",
    "ok": "green",
    "met": "green",
    "warning": "yellow",
    "breached": "red",
    "missed": "red",
}


def _sla_line(
    config: PipelineConfig, period: Period, now: datetime, state: PeriodSla | None = None
) -> str | None:
    """The SLA line: its window in the SLA's zone and the period's state (:func:`period_sla`)."""
    from interlock.problems import period_sla

    if config.sla is None:
        return None
    if state is None:  # no store to read runs and acks from: judged on the clock alone
        state = period_sla(config, period, now)
    if state.breach_at is None:
        if config.sla.deadline is None and config.sla.maxDuration is not None:
            return (
                f"SLA  relative: done within {format_duration(config.sla.maxDuration)} "
                "of the first trigger-sensor arrival"
            )
        return f"SLA  [red]{escape(state.reason)}[/]"
    tz = config.sla_timezone
    parts = []
    if state.warning_at is not None:
        parts.append(f"warning {_local(state.warning_at, tz)}")
    parts.append(f"breach {_local(state.breach_at, tz)}")
    colour = _SLA_COLOURS[state.state]
    acked = " (acknowledged)" if state.acknowledged else ""
    return (
        f"SLA  {' · '.join(parts)}  [{colour}]{state.state}{acked}[/]"
        f"\n    [dim]{escape(state.reason)}[/]"
    )


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
    refused: Mapping[str, str] | None = None,
    blocked: bool = False,
    sla: PeriodSla | None = None,
    open_periods: Sequence[str] = (),
) -> RenderableType:
    """A rich renderable explaining a pipeline's readiness at ``now``.

    Args:
        config: the pipeline.
        evaluation: its rules evaluated at ``now``.
        now: the instant of the evaluation.
        calendars: named calendars, for today's run-day check.
        sensors: the sensor fields evaluated (the trigger sensor gives the period).
        updated: when each sensor was written, for the AGE column.
        refused: trigger sensors the runtime refuses, with why (:func:`invalid_trigger_sensors`).
        blocked: every trigger sensor is refused, so the pipeline is not ready whatever the rules say.
        sla: the period's SLA state as the store tells it (:meth:`interlock.api.Interlock.period_sla`);
            ``None``: judged on the clock alone, as if the period had no run.
        open_periods: the periods the board shows as still open (``PipelineStatus.open_periods``).
    """
    cals = calendars or {}
    ready = evaluation.passed and not blocked
    verdict = "[green]READY[/]" if ready else "[red]NOT READY[/]"
    n, total = evaluation.passed_count, len(evaluation.results)
    head = (
        f"[bold]{escape(config.id)}[/] · {verdict} · {n}/{total} rules pass "
        f"({evaluation.mode}) · at {_local(now, 'UTC')}"
    )
    parts: list[RenderableType] = [head]
    if config.pipeline.description:
        parts.append(f"[dim]{escape(config.pipeline.description)}[/]")
    parts.extend(f"  {line}" for line in _schedule_lines(config, now, cals))
    for key, why in (refused or {}).items():
        parts.append(
            f"  [red]trigger sensor {escape(repr(key))} not used (SENSOR_INVALID): {escape(why)}[/]"
        )
    try:
        period = Period.parse(current_period(config, now, sensors=sensors))
    except InterlockError as exc:
        parts.append(f"  [red]period: {escape(str(exc))}[/]")
        period = None
    if period is not None:
        parts.append(f"  period {period.id} ({config.schedule_id})")
        line = _sla_line(
            config, period, now, sla if sla is not None and sla.period == period.id else None
        )
        if line:
            parts.append(f"  {line}")
    older = [p for p in open_periods if period is None or p != period.id]
    if older:
        parts.append(
            f"  [red]still open: {escape(', '.join(older))}[/] (failed or late, not acknowledged: "
            "the board shows it until a rerun succeeds or someone acknowledges it)"
        )
    parts.append("")
    if evaluation.results:
        parts.append(_rules_table(evaluation, now, updated or {}))
    else:
        parts.append("no readiness rules: the trigger alone decides")
    return Group(*parts)
