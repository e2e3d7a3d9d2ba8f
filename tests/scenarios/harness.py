"""Scenario harness: pipelines as dicts, a timeline as dicts, the real runtime on a virtual clock.

``world(...)`` runs :func:`interlock.local.simulate.simulate` (the same path as ``interlock simulate``)
and returns the events; helpers pick out event types per pipeline so a scenario asserts the exact
sequence.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from interlock.config.loader import Project
from interlock.config.models import Calendar, PipelineConfig
from interlock.local.simulate import JobBehaviour, parse_timeline, simulate

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from interlock.api import PipelineStatus
    from interlock.events import Event

DAY = datetime(2026, 3, 4, tzinfo=UTC)  # a Wednesday


def at(hour: int, minute: int = 0, *, day: datetime = DAY) -> datetime:
    """An instant on the scenario day (UTC)."""
    return day + timedelta(hours=hour, minutes=minute)


def iso(when: datetime) -> str:
    """RFC 3339 text of ``when``."""
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def pipeline(pid: str = "orders", **overrides: Any) -> dict[str, Any]:
    """A sensor-triggered pipeline: trigger ``orders-landed`` status=ready, one count rule."""
    base: dict[str, Any] = {
        "pipeline": {"id": pid},
        "schedule": {
            "trigger": {
                "key": "orders-landed",
                "check": "equals",
                "field": "status",
                "value": "ready",
            },
            "evaluation": {"window": "30m", "interval": "5m"},
        },
        "validation": {
            "trigger": "ALL",
            "rules": [{"key": "orders-count", "check": "gte", "field": "count", "value": 10}],
        },
        "job": {"type": "command", "config": {"command": "true"}},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


def sensor(when: datetime, key: str, pid: str = "orders", **data: Any) -> dict[str, Any]:
    """A sensor-write timeline entry."""
    return {"at": iso(when), "sensor": {"pipeline": pid, "key": key, "data": data}}


def jobs(when: datetime, pid: str = "orders", **behaviour: Any) -> dict[str, Any]:
    """A job-behaviour timeline entry."""
    return {"at": iso(when), "jobs": {"pipeline": pid, **behaviour}}


def world(
    configs: Iterable[Mapping[str, Any]],
    timeline: Iterable[Mapping[str, Any]],
    *,
    start: datetime = DAY,
    end: datetime | None = None,
    job: JobBehaviour | None = None,
    calendars: Iterable[Mapping[str, Any]] = (),
    store_url: str | None = None,
) -> list[Event]:
    """Run a scenario; every published event, in order (``store_url``: simulate into that store and
    keep it, to read the board the day leaves, see :func:`board_at`)."""
    project = Project()
    for raw in configs:
        config = PipelineConfig.model_validate(raw)
        project.pipelines[config.id] = config
    for raw in calendars:
        cal = Calendar.model_validate(raw)
        project.calendars[cal.name] = cal
    entries = parse_timeline(json.dumps(e) for e in timeline)
    result = simulate(
        project,
        entries,
        start=start,
        end=end or start + timedelta(days=1),
        job=job,
        store_url=store_url,
    )
    return result.events


def board_at(store_url: str, when: datetime) -> dict[str, PipelineStatus]:
    """The board of a kept scenario store at ``when``, by pipeline id."""
    from interlock.api import Interlock
    from interlock.ports import VirtualClock

    with Interlock.local(store_url, clock=VirtualClock(when)) as il:
        return {s.pipeline_id: s for s in il.board()}


def types(events: Iterable[Event], pid: str | None = None) -> list[str]:
    """The event types (of one pipeline), in order."""
    return [e.type.value for e in events if pid is None or e.pipeline_id == pid]


def periods(events: Iterable[Event], type_: str) -> list[str | None]:
    """The periods of events of one type, in order."""
    return [e.date for e in events if e.type.value == type_]
