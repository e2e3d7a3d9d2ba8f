"""One StartExecution per run attempt, through the real controller and executor on SQLite.

A run's row keeps what acquired it (``startRecord``: a trigger write's SequenceNumber, a cron fire's
``cron@<fireAt>``). A start stopped by a RUNNING row re-issues the attempt's StartExecution only when
the input is the one that acquired the row, delivered again (its first handling may have died between
AcquireRun and StartExecution); any other trigger write or fire for the period starts nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from interlock.config.loader import validate_config_data
from interlock.lifecycle.router import cron_fire_record
from interlock.local.adapters import LocalTimers
from interlock.ports import VirtualClock
from interlock.records import RunStatus
from interlock.service.controller import Controller
from interlock.service.executor import Executor
from interlock.store import keys, open_store

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from interlock.events import Event
    from interlock.store.factory import Store

T0 = datetime(2026, 3, 4, 6, 0, tzinfo=UTC)
PID, PERIOD = "orders", "2026-03-04"
A1 = f"{PID}-cron-{PERIOD}-a1"


class Starts:
    """Executions that record every start call (a second call for a name is what we count)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def start(self, name: str, input: Mapping[str, Any]) -> str:  # noqa: A002 - the port's word
        self.calls.append(name)
        return f"exec:{name}"


class Bus:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def publish(self, event: Event) -> None:
        self.events.append(event)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Store, Controller, Starts]]:
    clock = VirtualClock(T0)
    with open_store(f"sqlite:///{tmp_path}/s.db", now=lambda: clock.now().timestamp()) as store:
        starts = Starts()
        executor = Executor(store, Bus(), starts, clock, timers=LocalTimers(store))
        config = {
            "pipeline": {"id": PID},
            # a daily cron that fires twice in the period, and a trigger sensor as well
            "schedule": {"cron": "0,30 6 * * *", "trigger": {"key": "ready", "check": "exists"}},
            "job": {"type": "command", "config": {"command": ["true"]}},
        }
        store.control.put_config(validate_config_data(config), now=T0)
        yield store, Controller(store, executor), starts


def trigger_record(store: Store) -> dict[str, Any]:
    store.control.put_sensor(PID, "ready", {"date": PERIOD}, now=T0)
    records = store.tables["control"].changes(None, limit=100).records
    return next(r for r in reversed(records) if "SENSOR#ready" in str(r["dynamodb"]["Keys"]))


def fire(at: str) -> dict[str, Any]:
    return {"kind": "cron", "pipelineId": PID, "cron": "0,30 6 * * *", "fireAt": at}


def test_a_trigger_write_after_another_record_acquired_the_run_starts_nothing(
    world: tuple[Store, Controller, Starts], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, controller, starts = world
    record = trigger_record(store)
    # GIVEN another handler acquired the period's run between this write's read and its AcquireRun
    import interlock.service.controller as controller_module
    from interlock.lifecycle.trigger import TriggerFacts

    monkeypatch.setattr(
        controller_module, "trigger_facts", lambda *a, **k: TriggerFacts(dry_run=False)
    )
    assert store.control.acquire_run(
        PID, "cron", PERIOD, now=T0, lock_ttl=timedelta(hours=1), record="another"
    )
    # WHEN the write is handled, THEN its start stops at the row and nothing is started
    handled = controller.on_record(record, T0)
    assert starts.calls == []
    assert "already exists" in handled.reason


def test_only_the_acquiring_trigger_record_redelivered_restarts_its_attempt(
    world: tuple[Store, Controller, Starts],
) -> None:
    store, controller, starts = world
    record = trigger_record(store)
    # GIVEN the first handling acquired the run and died before StartExecution
    sequence = record["dynamodb"]["SequenceNumber"]
    store.control.acquire_run(
        PID, "cron", PERIOD, now=T0, lock_ttl=timedelta(hours=1), record=sequence
    )
    # WHEN the record is delivered again, THEN the attempt is started (once)
    controller.on_record(record, T0 + timedelta(minutes=1))
    assert starts.calls == [A1]
    # AND a later write of the trigger while the run is RUNNING starts nothing
    store.control.put_sensor(PID, "ready", {"date": PERIOD}, now=T0 + timedelta(minutes=2))
    later = store.tables["control"].changes(None, limit=100).records[-1]
    assert later["dynamodb"]["SequenceNumber"] != sequence
    controller.on_record(later, T0 + timedelta(minutes=2))
    assert starts.calls == [A1]


def test_a_cron_fire_starts_once_and_only_its_own_redelivery_restarts_it(
    world: tuple[Store, Controller, Starts],
) -> None:
    store, controller, starts = world
    first = fire("2026-03-04T06:00:00Z")
    # GIVEN the 06:00 fire started the period's run
    controller.on_timer(first, T0)
    assert starts.calls == [A1]
    row = store.control.get_run(PID, "cron", PERIOD)
    assert row is not None and row.start_record == cron_fire_record(T0)
    # WHEN the 06:30 fire of the same (daily) period comes while it runs, and a trigger write too
    controller.on_timer(fire("2026-03-04T06:30:00Z"), T0 + timedelta(minutes=30))
    controller.on_record(trigger_record(store), T0 + timedelta(minutes=31))
    # THEN nothing more is started
    assert starts.calls == [A1]
    # AND the 06:00 fire delivered again (its first handling may have died before the start) restarts
    # the attempt by its own name
    controller.on_timer(first, T0 + timedelta(minutes=32))
    assert starts.calls == [A1, A1]
    # AND once the run is over, nothing restarts it
    store.control.set_run_status(PID, "cron", PERIOD, RunStatus.COMPLETED, now=T0)
    controller.on_timer(first, T0 + timedelta(minutes=33))
    assert starts.calls == [A1, A1]
    assert row.start_record == f"cron@{keys.format_time(T0)}"
