"""``interlock explain``: why a pipeline is (not) ready, rule by rule.

Two sources of sensor values: the store (default: the sensors producers wrote, with their ages) or a
file (``--sensors FILE``, for trying rules before any producer exists). The config comes from
``--pipelines`` when given, else from the store.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interlock.cli._common import (
    EXIT_BAD_INPUT,
    EXIT_NOT_READY,
    EXIT_OK,
    UsageError,
    err,
    escape,
    jsonable,
    open_store_for,
    out,
    parse_at,
    print_problem,
)
from interlock.exceptions import ConfigError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping
    from datetime import datetime

    from interlock.config.models import Calendar, PipelineConfig
    from interlock.problems import PeriodSla
    from interlock.records import SensorRecord
    from interlock.rules import Evaluation
    from interlock.store.factory import Store


def _read_sensor_file(path: Path) -> dict[str, dict[str, Any]]:
    """Sensors from JSON or YAML: ``{key: {field: value}}`` (stored items are normalised)."""
    import yaml

    from interlock.rules import sensor_fields

    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise UsageError(f"cannot read sensors from {path}: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise UsageError(f"{path}: expected a mapping of sensor key to a mapping of fields")
    return {str(k): sensor_fields(v) for k, v in data.items()}


def _config_from_files(
    args: argparse.Namespace,
) -> tuple[PipelineConfig | None, dict[str, Calendar], list[str]]:
    from interlock.config.loader import load_project

    project = load_project(args.pipelines, calendars=args.calendars)
    return project.pipelines.get(args.pipeline), project.calendars, sorted(project.pipelines)


def _unknown(pipeline: str, known: list[str]) -> int:
    from interlock.config.loader import did_you_mean

    err().print(
        f"[red]unknown pipeline {escape(pipeline)!r}[/]{escape(did_you_mean(pipeline, known))}; "
        f"known: {', '.join(known) or 'none'}"
    )
    return EXIT_BAD_INPUT


def _from_store(
    args: argparse.Namespace, config: PipelineConfig | None, now: datetime
) -> (
    tuple[PipelineConfig | None, dict[str, SensorRecord], tuple[PeriodSla | None, tuple[str, ...]]]
    | int
):
    """The config (unless it came from files), the sensors and the current period's SLA state from the
    store; an exit code if unknown."""
    from interlock.store.factory import StoreNotFoundError

    try:
        store = open_store_for(args)
    except StoreNotFoundError as exc:
        if not args.pipelines:
            raise
        # The config came from files: a missing store only means no sensor was written yet.
        err().print(f"[yellow]note:[/] {escape(str(exc.path))} does not exist: no sensors")
        return config, {}, (None, ())
    with store:
        if not args.pipelines:
            config = store.control.get_config(args.pipeline)
            if config is None:
                return _unknown(args.pipeline, sorted(store.control.all_configs().configs))
        records = store.control.sensors(args.pipeline)
        return config, records, _judge(store, config, records, now)


def cmd_explain(args: argparse.Namespace) -> int:
    """Evaluate a pipeline's rules against sensors and show why it is (not) ready."""
    from interlock.rules import evaluate

    now = parse_at(args.at)
    ages: dict[str, datetime | None] = {}
    calendars: dict[str, Calendar] = {}
    config: PipelineConfig | None = None
    sla: PeriodSla | None = None
    open_periods: tuple[str, ...] = ()
    if args.pipelines:
        try:
            config, calendars, known = _config_from_files(args)
        except ConfigError as exc:
            for p in exc.problems:
                print_problem(err(), p)
            return EXIT_BAD_INPUT
        if config is None:
            return _unknown(args.pipeline, known)
    if args.sensors:
        if not args.pipelines:
            raise UsageError("--sensors FILE needs --pipelines PATH (the config to evaluate)")
        sensors = _read_sensor_file(Path(args.sensors))
    else:
        found = _from_store(args, config, now)
        if isinstance(found, int):
            return found
        config, records, (sla, open_periods) = found
        sensors = {k: r.fields for k, r in records.items()}
        ages = {k: r.updated_at for k, r in records.items()}
    if config is None:  # pragma: no cover - every branch above returns or sets it
        return _unknown(args.pipeline, [])
    from interlock.explain import render_explain, runtime_view

    sensors, refused, blocked = runtime_view(config, sensors, now)
    evaluation = evaluate(config.validation, sensors, now)
    if args.json:
        doc = _explain_json(config, evaluation, now, ages)
        doc["ready"] = evaluation.passed and not blocked
        doc["sla"] = _sla_json(sla)
        doc["openPeriods"] = list(open_periods)
        doc["invalidTriggerSensors"] = refused
        print(json.dumps(doc, indent=2))
    else:
        out().print(
            render_explain(
                config,
                evaluation,
                now,
                calendars=calendars,
                sensors=sensors,
                updated=ages,
                refused=refused,
                blocked=blocked,
                sla=sla,
                open_periods=open_periods,
            )
        )
    return EXIT_OK if evaluation.passed and not blocked else EXIT_NOT_READY


def _judge(
    store: Store, config: PipelineConfig | None, records: Mapping[str, SensorRecord], now: datetime
) -> tuple[PeriodSla | None, tuple[str, ...]]:
    """The current period's SLA state from the store's runs and acks, and the periods the board shows
    as still open (what the board says)."""
    from interlock.api import Interlock
    from interlock.clock import VirtualClock
    from interlock.exceptions import InterlockError

    if config is None:
        return None, ()
    il = Interlock(store, clock=VirtualClock(now))
    open_periods = il.status_for(config).open_periods
    try:
        return il.judge(config, sensors=records), open_periods
    except InterlockError:  # no period: render_explain reports why
        return None, open_periods


def _sla_json(sla: PeriodSla | None) -> dict[str, Any] | None:
    if sla is None:
        return None
    return {
        "period": sla.period,
        "state": sla.state,
        "acknowledged": sla.acknowledged,
        "warningAt": jsonable(sla.warning_at),
        "breachAt": jsonable(sla.breach_at),
        "reason": sla.reason,
    }


def _explain_json(
    config: PipelineConfig, evaluation: Evaluation, now: datetime, ages: dict[str, datetime | None]
) -> dict[str, Any]:
    return {
        "pipeline": config.id,
        "ready": evaluation.passed,
        "mode": evaluation.mode,
        "evaluatedAt": jsonable(now),
        "rules": [
            {
                "key": r.rule.key,
                "check": r.rule.check.value,
                "field": r.rule.field,
                "value": r.rule.value,
                "passed": r.passed,
                "actual": jsonable(r.actual),
                "reason": r.reason,
                "sensorUpdatedAt": jsonable(ages.get(r.rule.key)),
            }
            for r in evaluation.results
        ],
    }
