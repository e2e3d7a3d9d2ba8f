"""The watchdog's due index over real drivers (SQLite, and DynamoDB under moto).

* An idle pipeline costs no store call: a pass over 100 idle pipelines and one over 10,000 make the same
  calls (counted at the Table seam: one per GetItem / Query page / write; on DynamoDB also the API
  requests boto3 sends).
* A due pipeline is read and its alert sent; a pass that dies before moving the watch rows leaves them
  due (the next pass reads the pipelines again, the claims keep alerts single); a mark written while a
  pass runs is not overwritten by the pass.
* A change nothing marked (a stream record lost before the router saw it) is found by the sweep.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from interlock.config.models import PipelineConfig
from interlock.events import EventType
from interlock.lifecycle.watch_due import next_due
from interlock.lifecycle.watchdog import PipelineInputs
from interlock.local.runtime import EmbeddedRuntime
from interlock.ports import VirtualClock
from interlock.records import RunStatus
from interlock.store import Store, keys
from interlock.store.control import ControlStore
from interlock.store.specs import CONTROL

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from interlock.events import Event
    from interlock.store.table import Condition, Table

SWEPT = datetime(2026, 3, 4, 9, 20, tzinfo=UTC)
"""When the seeded world's last sweep ran (every watch row holds the due time it computed)."""
_JOB = {"type": "command", "config": {"command": "true"}}
_TRIGGER = {"key": "landed", "check": "exists"}


def config(i: int) -> PipelineConfig:
    """Pipeline ``i`` of an idle mix: hourly cron, daily cron in New York with a schedule time, stream
    with a trigger deadline, stream with a relative SLA and post-run rules."""
    doc: dict[str, Any] = {
        "pipeline": {"id": f"p{i:05d}"},
        "job": _JOB,
        "validation": {"rules": [_TRIGGER]},
    }
    kind = i % 4
    if kind == 0:
        doc["schedule"] = {"cron": "0 * * * *"}
    elif kind == 1:
        doc["schedule"] = {"cron": "0 6 * * *", "timezone": "America/New_York", "time": "07:00"}
    elif kind == 2:
        doc["schedule"] = {"trigger": {**_TRIGGER, "deadline": "23:00"}}
    else:
        doc["schedule"] = {"trigger": _TRIGGER}
        doc["sla"] = {"maxDuration": "2h"}
        doc["postRun"] = {"rules": [{"key": "audit", "check": "exists"}], "sensorTimeout": "1h"}
    return PipelineConfig.model_validate(doc)


# ---------------------------------------------------------------------------------------- stores


class Clock:
    """The drivers' clock (epoch seconds) over a virtual clock the runtime reads."""

    def __init__(self, start: datetime) -> None:
        self.virtual = VirtualClock(start)

    def __call__(self) -> float:
        return self.virtual.now().timestamp()


class _Counted:
    """A Table that counts the calls made through it (reads and writes, one per page)."""

    CALLS = ("get", "put", "update", "delete", "query", "count")

    def __init__(self, table: Table, counts: Counter[str]) -> None:
        self._table = table
        self._counts = counts

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._table, name)
        if name not in self.CALLS:
            return attr
        counts = self._counts

        def counted(*args: Any, **kwargs: Any) -> Any:
            counts[name] += 1
            return attr(*args, **kwargs)

        return counted


class _Backend:
    def __init__(self, backend: Any, counts: Counter[str]) -> None:
        self.backend = backend
        self.counts = counts

    def table(self, name: str) -> Any:
        return _Counted(self.backend.table(name), self.counts)

    def close(self) -> None:
        self.backend.close()


class World:
    """A store whose Table calls (and, on DynamoDB, API requests) are counted."""

    def __init__(self, backend: Any, driver: str, clock: Clock) -> None:
        self.driver = driver
        self.backend = backend
        self.clock = clock
        self.calls: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.store = Store(_Backend(backend, self.calls), url=f"{driver}://watch-index")
        if driver == "moto":
            backend.client.meta.events.register(
                "before-call.dynamodb.*", lambda model, **_: self.requests.update([model.name])
            )
        self.events: list[Event] = []
        self.runtime = EmbeddedRuntime.build(
            self.store,
            clock=clock.virtual,
            triggers=lambda _t: None,  # type: ignore[arg-type, return-value]
            notifier=self.events.append,
            watchdog_interval=None,
        )

    def seed(self, items: list[Mapping[str, Any]]) -> None:
        """Write many control items fast (the seeding is not what is measured)."""
        if self.driver == "sqlite":
            self.backend.table("control").put_many(items)
            return
        name = self.backend.table("control").name
        rows = [{"PutRequest": {"Item": {k: {"S": v} for k, v in item.items()}}} for item in items]
        for start in range(0, len(rows), 25):
            self.backend.client.batch_write_item(RequestItems={name: rows[start : start + 25]})

    def watchdog(self, now: datetime) -> tuple[Any, int, int]:
        """One pass; returns what it did, the Table calls and the API requests it made."""
        self.calls.clear()
        self.requests.clear()
        self.clock.virtual.set(now)
        handled = self.runtime.controller.watchdog(now)
        return handled, sum(self.calls.values()), sum(self.requests.values())


@pytest.fixture(params=["sqlite", "moto"])
def make_world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    made: list[Iterator[Any]] = []

    def make() -> World:
        clock = Clock(SWEPT)
        if request.param == "sqlite":
            from interlock.store.sqlite import SQLiteStore

            backend: Any = SQLiteStore(tmp_path / f"w{len(made)}.db", now=clock)
            made.append(iter([]))
        else:
            from tests.contract.dynamodb_harness import moto_store

            gen = moto_store(request, clock)
            backend = next(gen)
            made.append(gen)
        return World(backend, request.param, clock)

    yield make
    for gen in made:
        next(gen, None)


class _Recorder:
    """A control Table that only records what ControlStore would put (items in the stored form)."""

    spec = CONTROL

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def get(self, pk: str, sk: str) -> None:
        return None

    def put(self, item: Mapping[str, Any], *, condition: Condition | None = None) -> None:
        self.items.append(dict(item))


def idle_items(n: int) -> list[dict[str, Any]]:
    """CONFIG rows pushed just before the sweep, and the watch rows that sweep left (as put_config and
    advance_watch write them)."""
    recorder = _Recorder()
    control = ControlStore(recorder)  # type: ignore[arg-type]
    idle: list[str] = []
    for i in range(n):
        cfg = config(i)
        control.put_config(cfg, now=SWEPT - timedelta(minutes=1))
        due = next_due(
            PipelineInputs(cfg, config_updated_at=SWEPT - timedelta(minutes=1)), now=SWEPT
        )
        if due is None:
            idle.append(cfg.id)  # nothing can fall due: the sweep drops the row
        else:
            control.advance_watch(cfg.id, due, seen=None)
    # put_config's own mark ("due now") is replaced (or dropped) by the sweep, as a real sweep does
    rows = {(item["PK"], item["SK"]): item for item in recorder.items}
    for pid in idle:
        del rows[keys.pipeline_pk(pid), keys.WATCH_SK]
    return list(rows.values())


class _DiesBeforeMoving(ControlStore):
    """The process is killed after the pass applied its decisions, before it moved a watch row."""

    def advance_watch(self, pid: str, due: datetime | None, *, seen: str | None) -> bool:
        raise RuntimeError("killed mid-pass")


class _MarkedMeanwhile(ControlStore):
    """Between the pass's read and its move, the executor marks the pipeline (a run completed)."""

    def __init__(self, table: Table, at: datetime) -> None:
        super().__init__(table)
        self.at = at

    def advance_watch(self, pid: str, due: datetime | None, *, seen: str | None) -> bool:
        self.watch(pid, self.at)
        return super().advance_watch(pid, due, seen=seen)


# ----------------------------------------------------------------------------------------- tests


def test_the_seeded_rows_are_what_a_sweep_writes(make_world: Any) -> None:
    world = make_world()
    for i in range(8):
        world.store.control.put_config(config(i), now=SWEPT - timedelta(minutes=1))
    handled, _, _ = world.watchdog(SWEPT)  # a new store: the first pass is a sweep
    assert handled.decisions == []
    assert len(handled.watched) == 8
    seeded = {
        item["PK"][len(keys.PIPELINE_PREFIX) :]: item["dueAt"]
        for item in idle_items(8)
        if item["SK"] == keys.WATCH_SK
    }
    assert world.store.control.all_watches() == seeded
    assert world.store.control.sweep_state() == (SWEPT + timedelta(hours=6), None)


def test_a_sweep_goes_a_chunk_a_pass_and_resumes_where_it_stopped(make_world: Any) -> None:
    world = make_world()
    for i in range(8):
        world.store.control.put_config(config(i), now=SWEPT - timedelta(minutes=1))
    world.runtime.controller.watch_sweep_batch = 3
    control = world.store.control
    read: list[tuple[str, ...]] = []
    for minutes in (0, 5, 10, 15):
        handled, _, _ = world.watchdog(SWEPT + timedelta(minutes=minutes))
        read.append(handled.watched)
    # put_config marked all 8 due: the first pass reads them all (due), sweeping p0-p2 with them;
    # then the sweep goes on a chunk a pass, however few are due
    assert read[0] == tuple(f"p{i:05d}" for i in range(8))
    assert read[1] == ("p00003", "p00004", "p00005")
    assert read[2] == ("p00006", "p00007")
    assert control.sweep_state() == (SWEPT + timedelta(minutes=10, hours=6), None)
    assert read[3] == ()


def test_a_pass_reads_at_most_a_batch_of_due_pipelines_longest_due_first(
    make_world: Any,
) -> None:
    world = make_world()
    world.seed(idle_items(8))
    world.store.control.set_sweep_state(SWEPT + timedelta(hours=6))
    for i in (5, 1, 3, 0):  # marked due in this order (a config push, a completion …)
        world.store.control.watch(f"p{i:05d}", SWEPT + timedelta(seconds=i * 10 if i else 50))
    world.runtime.controller.watch_due_batch = 2
    at = SWEPT + timedelta(minutes=1)
    assert world.watchdog(at)[0].watched == ("p00001", "p00003")  # due at +10 s and +30 s
    assert world.watchdog(at)[0].watched == ("p00000", "p00005")  # +50 s: the rest stayed due
    assert world.watchdog(at)[0].watched == ()


def test_an_idle_pipeline_costs_no_store_call(make_world: Any) -> None:
    counts = []
    for n in (100, 10_000):
        world = make_world()
        world.seed(idle_items(n))
        world.store.control.set_sweep_state(SWEPT + timedelta(hours=6))
        handled, calls, requests = world.watchdog(SWEPT + timedelta(minutes=1))
        assert handled.decisions == [] and handled.watched == ()
        counts.append((calls, requests))
        # the sweep row, the due index, the RUNNING index: nothing per pipeline
        assert calls == 3, world.calls
        if world.driver == "moto":
            assert world.requests == Counter(GetItem=1, Query=2), world.requests
    assert counts[0] == counts[1]


def test_a_due_pipeline_is_read_and_alerted_then_idle_again(make_world: Any) -> None:
    world = make_world()
    world.seed(idle_items(8))
    world.store.control.set_sweep_state(SWEPT + timedelta(hours=6))
    # p4's 10:00 run ran and completed (a COMPLETED row is a run too); p0's never started
    ran = datetime(2026, 3, 4, 10, 1, tzinfo=UTC)
    control = world.store.control
    assert control.acquire_run(
        "p00004", "cron", "2026-03-04T10", now=ran, lock_ttl=timedelta(hours=1)
    )
    control.set_run_status("p00004", "cron", "2026-03-04T10", "COMPLETED", now=ran)
    # 10:15 + grace: the hourly crons (p0, p4) are due; only p0 missed its 10:00 fire
    handled, _, _ = world.watchdog(datetime(2026, 3, 4, 10, 16, tzinfo=UTC))
    assert handled.watched == ("p00000", "p00004")
    missed = [e for e in world.events if e.type is EventType.SCHEDULE_MISSED]
    assert [(e.pipeline_id, e.date) for e in missed] == [("p00000", "2026-03-04T10")]
    handled, calls, _ = world.watchdog(datetime(2026, 3, 4, 10, 21, tzinfo=UTC))
    assert handled.watched == () and calls == 3


def test_a_pass_that_dies_before_moving_the_rows_leaves_them_due(make_world: Any) -> None:
    world = make_world()
    world.seed(idle_items(4))
    world.store.control.set_sweep_state(SWEPT + timedelta(hours=6))
    control = world.store.control
    world.store.control = _DiesBeforeMoving(control.table)
    due_at = datetime(2026, 3, 4, 10, 16, tzinfo=UTC)
    with pytest.raises(RuntimeError, match="killed"):
        world.watchdog(due_at)
    world.store.control = control
    assert [e.type for e in world.events] == [EventType.SCHEDULE_MISSED]
    handled, _, _ = world.watchdog(due_at + timedelta(minutes=5))
    assert handled.watched == ("p00000",)  # read again
    assert [e.type for e in world.events] == [EventType.SCHEDULE_MISSED]  # the claim held
    assert world.watchdog(due_at + timedelta(minutes=10))[0].watched == ()


def test_a_mark_written_during_a_pass_is_kept(make_world: Any) -> None:
    world = make_world()
    world.seed(idle_items(4))
    world.store.control.set_sweep_state(SWEPT + timedelta(hours=6))
    control = world.store.control
    now = datetime(2026, 3, 4, 10, 16, tzinfo=UTC)
    world.store.control = _MarkedMeanwhile(control.table, now)
    world.watchdog(now)
    world.store.control = control
    assert control.get_watch("p00000") == keys.watch_time(now)  # the mark won
    assert world.watchdog(now + timedelta(minutes=5))[0].watched == ("p00000",)


def test_the_executor_marks_a_completed_run_and_its_post_run_check_falls_due(
    make_world: Any,
) -> None:
    world = make_world()
    world.seed(idle_items(4))
    world.store.control.set_sweep_state(SWEPT + timedelta(hours=6))
    control = world.store.control
    # p3 (post-run sensorTimeout 1h) runs and completes through the executor at 09:30
    done_at = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
    assert control.acquire_run(
        "p00003", "stream", "2026-03-04", now=done_at, lock_ttl=timedelta(hours=1)
    )
    from interlock.lifecycle.actions import Decision, SetRunStatus

    world.runtime.controller.executor.apply(
        Decision((SetRunStatus("p00003", "stream", "2026-03-04", RunStatus.COMPLETED, 1, done_at),))
    )
    handled, _, _ = world.watchdog(done_at + timedelta(minutes=1))  # marked: read, nothing yet
    assert handled.watched == ("p00003",) and handled.decisions == []
    assert world.watchdog(done_at + timedelta(minutes=30))[0].watched == ()
    handled, _, _ = world.watchdog(done_at + timedelta(hours=1, minutes=1))
    assert "p00003" in handled.watched
    assert [e.type for e in world.events if e.pipeline_id == "p00003"] == [
        EventType.POST_RUN_SENSOR_MISSING
    ]


def test_a_trigger_nothing_marked_is_recovered_by_the_sweep(make_world: Any) -> None:
    world = make_world()
    world.seed(idle_items(4))
    world.store.control.set_sweep_state(SWEPT + timedelta(hours=6))
    # a trigger sensor written behind the router's back (a lost stream record)
    world.store.control.put_sensor("p00003", "landed", {"date": "2026-03-04"}, now=SWEPT)
    for minutes in (5, 60, 300):
        assert "p00003" not in world.watchdog(SWEPT + timedelta(minutes=minutes))[0].watched
    assert EventType.TRIGGER_RECOVERED not in [e.type for e in world.events]
    handled, _, _ = world.watchdog(SWEPT + timedelta(hours=6))  # the sweep reads every pipeline
    assert len(handled.watched) == 4
    assert EventType.TRIGGER_RECOVERED in [e.type for e in world.events]


def test_pushing_an_unchanged_config_gives_a_pipeline_without_a_watch_row_its_row(
    make_world: Any,
) -> None:
    """A store from before watch rows: one ``config push`` indexes every pipeline, no sweep needed."""
    world = make_world()
    control = world.store.control
    for i in range(3):
        control.put_config(config(i), now=SWEPT)
    control.advance_watch("p00001", None, seen=control.get_watch("p00001"))
    assert control.get_watch("p00001") is None
    later = SWEPT + timedelta(hours=1)
    for i in range(3):
        control.put_config(config(i), now=later)  # unchanged: no config write
    assert control.get_watch("p00001") == keys.watch_time(later)
    # the others keep their rows as they were: a push marks only what has no row
    assert control.get_watch("p00000") == keys.watch_time(SWEPT)
