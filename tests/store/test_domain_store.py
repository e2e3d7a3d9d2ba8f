"""The domain store (control, job log, rerun log, events) over real drivers, on a fake clock.

Every test runs on the embedded SQLite driver, and again on the DynamoDB driver under moto when the
contract harness is importable, so a domain behaviour cannot differ between a laptop and AWS. Several tests
pin the original's bugs we fix (reference §13): ``set_run_status`` is not an upsert, same-millisecond
job-log rows both survive, one invalid CONFIG row does not hide the others, event rows keep their detail
and do not collide.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from interlock.config.loader import load_pipelines
from interlock.events import Event, EventType
from interlock.records import (
    TERMINAL_EVENTS,
    ConfigSet,
    JobEvent,
    RerunReason,
    RunRow,
    RunStatus,
    budget_bucket,
)
from interlock.store import Store, StoreError, keys, open_store
from interlock.store.control import ControlStore, InvalidConfigError
from interlock.store.events import EventStore
from interlock.store.joblog import JobLog
from interlock.store.reruns import RerunLog
from interlock.store.table import ConflictError, StoreUnavailableError, Table

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from interlock.config.models import PipelineConfig

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "pipelines"
T0 = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)
LOCK = timedelta(hours=4, minutes=30)


class Clock:
    """The drivers' clock (epoch seconds) and the domain's ``now`` (aware datetime), kept in step."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now.timestamp()

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _moto(request: pytest.FixtureRequest, clock: Clock) -> Iterator[Store]:
    # moto is a dev dependency: an import failure here is a broken install and must fail, not skip.
    from tests.contract.dynamodb_harness import moto_store

    backends = moto_store(request, clock)
    backend = next(backends)
    try:
        yield Store(backend, url="dynamodb://contract")
    finally:
        next(backends, None)  # the harness closes the store and stops moto


@pytest.fixture(params=["sqlite", "moto"])
def store(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[Store]:
    if request.param == "moto":
        yield from _moto(request, clock)
        return
    from interlock.store.sqlite import SQLiteStore

    with Store(SQLiteStore(tmp_path / "t.db", now=clock), url="sqlite:///t.db") as s:
        yield s


@pytest.fixture
def control(store: Store) -> ControlStore:
    return store.control


@pytest.fixture
def examples() -> dict[str, PipelineConfig]:
    return load_pipelines(EXAMPLES)


# ============================================================================================ configs


def test_config_round_trip_and_row_shape(
    control: ControlStore, examples: dict[str, PipelineConfig]
) -> None:
    config = examples["gold-revenue"]
    control.put_config(config, now=T0)

    assert control.get_config("gold-revenue") == config
    row = control.table.get("PIPELINE#gold-revenue", "CONFIG")
    assert row is not None
    assert json.loads(row["config"])["pipeline"]["id"] == "gold-revenue"
    assert row["GSI1PK"] == "CONFIGS" and row["GSI1SK"] == "gold-revenue"
    assert row["updatedAt"] == "2026-03-02T10:00:00Z"
    assert control.get_config("nope") is None


def test_all_configs_skips_and_reports_invalid_rows(
    control: ControlStore, examples: dict[str, PipelineConfig]
) -> None:
    # GIVEN every example config and three broken rows written by hand
    for config in examples.values():
        control.put_config(config, now=T0)
    good = json.loads(control.table.get("PIPELINE#gold-revenue", "CONFIG")["config"])  # type: ignore[index]
    del good["job"]
    other = json.loads(control.table.get("PIPELINE#silver-orders", "CONFIG")["config"])  # type: ignore[index]
    broken = {
        "not-json": "{pipeline: ",
        "no-job": json.dumps({**good, "pipeline": {"id": "no-job"}}),
        "wrong-id": json.dumps(other),  # holds pipeline.id silver-orders
    }
    for pid, text in broken.items():
        control.table.put(
            {
                "PK": f"PIPELINE#{pid}",
                "SK": "CONFIG",
                "config": text,
                "GSI1PK": "CONFIGS",
                "GSI1SK": pid,
            }
        )

    # WHEN every config is read
    configs = control.all_configs()

    # THEN the valid ones load and each broken one is reported, not fatal
    assert isinstance(configs, ConfigSet)
    assert configs.configs == examples
    assert set(configs.invalid) == set(broken)
    assert "JSON" in configs.invalid["not-json"]
    assert "job" in configs.invalid["no-job"]
    assert "silver-orders" in configs.invalid["wrong-id"]
    assert "3 invalid" in repr(configs)
    with pytest.raises(InvalidConfigError) as err:
        control.get_config("no-job")
    assert err.value.pipeline_id == "no-job" and err.value.problems
    assert isinstance(err.value, StoreError)


def test_delete_config(control: ControlStore, examples: dict[str, PipelineConfig]) -> None:
    control.put_config(examples["silver-orders"], now=T0)
    assert control.delete_config("silver-orders") is True
    assert control.get_config("silver-orders") is None
    assert control.all_configs().configs == {}
    assert control.delete_config("silver-orders") is False


# ============================================================================================ sensors


def test_put_sensor_stores_a_data_map_and_reads_it_back(control: ControlStore) -> None:
    stored = control.put_sensor("p", "row-count", {"count": 15432, "ratio": 0.25}, now=T0)

    assert stored == {"count": 15432, "ratio": Decimal("0.25")}
    row = control.table.get("PIPELINE#p", "SENSOR#row-count")
    assert row is not None
    assert row["data"] == stored and row["updatedAt"] == "2026-03-02T10:00:00Z"
    record = control.get_sensor("p", "row-count")
    assert record is not None
    assert record.key == "row-count"
    assert record.fields == stored  # top-level updatedAt is metadata, not a field
    assert record.updated_at == T0


def test_flat_and_data_map_sensors_read_alike(control: ControlStore) -> None:
    # a producer writing flat attributes, and one writing a data map with an epoch updatedAt
    control.table.put(
        {"PK": "PIPELINE#p", "SK": "SENSOR#flat", "count": 5, "updatedAt": "2026-03-02T09:00:00Z"}
    )
    control.table.put(
        {"PK": "PIPELINE#p", "SK": "SENSOR#map", "data": {"count": 5, "updatedAt": 1_772_442_000}}
    )
    control.table.put({"PK": "PIPELINE#p", "SK": "SENSOR#bare", "data": {"count": 5}})

    flat, mapped, bare = (control.get_sensor("p", k) for k in ("flat", "map", "bare"))
    assert flat is not None and mapped is not None and bare is not None
    assert flat.fields == {"count": 5, "updatedAt": "2026-03-02T09:00:00Z"}
    assert flat.updated_at == T0 - timedelta(hours=1)
    assert mapped.fields["count"] == 5
    assert mapped.updated_at == T0 - timedelta(hours=1)
    assert bare.updated_at is None


def test_sensors_lists_every_sensor_of_one_pipeline(control: ControlStore) -> None:
    control.put_sensor("p", "a", {"x": 1}, now=T0)
    control.put_sensor(
        "p",
        keys.bookkeeping_key(keys.FIRST_SENSOR_ARRIVAL, "2026-03-02"),
        {"arrivedAt": "x"},
        now=T0,
    )
    control.put_sensor("q", "a", {"x": 2}, now=T0)
    control.acquire_run("p", "cron", "2026-03-02", now=T0, lock_ttl=LOCK)

    sensors = control.sensors("p")

    assert set(sensors) == {"a", "first-sensor-arrival#2026-03-02"}
    assert sensors["a"].fields == {"x": 1}


def test_sensor_ttl_and_bad_keys(control: ControlStore, clock: Clock) -> None:
    control.put_sensor("p", "short-lived", {"x": 1}, now=T0, ttl=T0 + timedelta(minutes=5))
    assert control.get_sensor("p", "short-lived") is not None
    clock.advance(timedelta(minutes=5))
    assert control.get_sensor("p", "short-lived") is None
    with pytest.raises(ValueError):
        control.put_sensor("p", "a#b", {}, now=T0)
    assert control.delete_sensor("p", "short-lived") is False


# =============================================================================================== runs


def test_acquire_is_exclusive(control: ControlStore) -> None:
    assert control.acquire_run("p", "cron", "2026-03-02", now=T0, lock_ttl=LOCK) is True
    assert control.acquire_run("p", "cron", "2026-03-02", now=T0, lock_ttl=LOCK) is False
    assert control.acquire_run("p", "cron", "2026-03-02T08", now=T0, lock_ttl=LOCK) is True

    run = control.get_run("p", "cron", "2026-03-02")
    assert run == RunRow(
        pipeline_id="p",
        schedule="cron",
        period="2026-03-02",
        status=RunStatus.RUNNING,
        attempt=1,
        started_at=T0,
        updated_at=T0,
        lock_expires_at=T0 + LOCK,
    )
    assert "RUNNING" in repr(run)


def test_set_run_status_on_a_missing_row_raises_and_creates_nothing(control: ControlStore) -> None:
    with pytest.raises(ConflictError):
        control.set_run_status("p", "cron", "2026-03-02", RunStatus.COMPLETED, now=T0)
    assert control.get_run("p", "cron", "2026-03-02") is None
    with pytest.raises(ValueError):
        control.set_run_status("p", "cron", "2026-03-02", "RUNNING", now=T0)


def test_terminal_status_drops_ttl_and_leaves_the_running_index(
    control: ControlStore, clock: Clock
) -> None:
    control.acquire_run("p", "cron", "2026-03-02", now=T0, lock_ttl=LOCK)
    done = clock.advance(timedelta(minutes=31))

    control.set_run_status("p", "cron", "2026-03-02", RunStatus.COMPLETED, now=done)

    row = control.table.get("PIPELINE#p", "TRIGGER#cron#2026-03-02")
    assert row is not None
    assert not {"ttl", "GSI1PK", "GSI1SK", "lockExpiresAt"} & set(row)
    run = control.get_run("p", "cron", "2026-03-02")
    assert run is not None and run.status is RunStatus.COMPLETED and run.terminal
    assert run.finished_at == done and run.lock_expires_at is None
    assert control.running_runs() == []
    # kept for ever: long after the lock would have expired, the period still cannot start again
    clock.advance(timedelta(days=30))
    assert control.acquire_run("p", "cron", "2026-03-02", now=clock.now, lock_ttl=LOCK) is False


def test_running_runs_come_from_the_index_and_hold_only_running_rows(
    control: ControlStore,
) -> None:
    for pid, period in (("a", "2026-03-02"), ("b", "2026-03-02T08"), ("c", "2026-03-01")):
        control.acquire_run(pid, "stream", period, now=T0, lock_ttl=LOCK)
    control.set_run_status("c", "stream", "2026-03-01", "FAILED_FINAL", now=T0)
    control.create_run_if_absent("d", "cron", "2026-03-02", RunStatus.FAILED_FINAL, now=T0)

    running = control.running_runs()

    assert sorted((r.pipeline_id, r.period) for r in running) == [
        ("a", "2026-03-02"),
        ("b", "2026-03-02T08"),
    ]
    assert all(r.status is RunStatus.RUNNING for r in running)


def test_stale_runs_stay_visible_until_the_grace_ends(control: ControlStore, clock: Clock) -> None:
    control.acquire_run("p", "cron", "2026-03-02", now=T0, lock_ttl=LOCK)
    (run,) = control.running_runs()
    assert not run.is_stale(T0 + LOCK)

    # past the lock: stale, still listed so the watchdog can report SFN_TIMEOUT and fail it
    clock.advance(LOCK + timedelta(minutes=1))
    (run,) = control.running_runs()
    assert run.is_stale(clock.now)
    assert control.acquire_run("p", "cron", "2026-03-02", now=clock.now, lock_ttl=LOCK) is False

    # past the grace too (the watchdog never came): the row is gone and the period may start again
    clock.advance(control.stale_grace)
    assert control.running_runs() == []
    assert control.acquire_run("p", "cron", "2026-03-02", now=clock.now, lock_ttl=LOCK) is True


def test_reset_run_needs_a_row_and_counts_attempts(control: ControlStore, clock: Clock) -> None:
    assert control.reset_run("p", "cron", "2026-03-02", now=T0, lock_ttl=LOCK) is False
    assert control.get_run("p", "cron", "2026-03-02") is None

    control.acquire_run("p", "cron", "2026-03-02", now=T0, lock_ttl=LOCK, record="0042")
    first = control.get_run("p", "cron", "2026-03-02")
    assert first is not None and first.start_record == "0042"  # the record that acquired it
    control.set_run_status("p", "cron", "2026-03-02", RunStatus.FAILED_FINAL, now=T0)
    later = clock.advance(timedelta(hours=1))
    assert control.reset_run("p", "cron", "2026-03-02", now=later, lock_ttl=LOCK) is True

    run = control.get_run("p", "cron", "2026-03-02")
    assert run is not None
    assert run.start_record is None  # a new attempt: its start is the reset's, not a record's
    assert (run.status, run.attempt, run.started_at) == (RunStatus.RUNNING, 2, later)
    assert run.finished_at is None and run.lock_expires_at == later + LOCK
    assert [r.pipeline_id for r in control.running_runs()] == ["p"]


def test_a_superseded_attempt_cannot_overwrite_the_rerun(control: ControlStore) -> None:
    # the original's race (§13 item 14): a retry resets the row before the failed execution finishes
    control.acquire_run("p", "cron", "2026-03-02", now=T0, lock_ttl=LOCK)
    control.reset_run("p", "cron", "2026-03-02", now=T0, lock_ttl=LOCK)

    with pytest.raises(ConflictError):
        control.set_run_status("p", "cron", "2026-03-02", "FAILED_FINAL", now=T0, attempt=1)
    run = control.get_run("p", "cron", "2026-03-02")
    assert run is not None and run.status is RunStatus.RUNNING

    control.set_run_status("p", "cron", "2026-03-02", "COMPLETED", now=T0, attempt=2)
    run = control.get_run("p", "cron", "2026-03-02")
    assert run is not None and run.status is RunStatus.COMPLETED


def test_release_history_and_prefix_lookup(control: ControlStore) -> None:
    for period in ("2026-03-01", "2026-03-02", "2026-02-28"):
        control.acquire_run("p", "cron", period, now=T0, lock_ttl=LOCK)
    control.acquire_run("p", "stream", "2026-03-02T07", now=T0, lock_ttl=LOCK)

    assert [r.period for r in control.runs("p")] == [
        "2026-03-02T07",
        "2026-03-02",
        "2026-03-01",
        "2026-02-28",
    ]
    assert [r.period for r in control.runs("p", "cron")] == [
        "2026-03-02",
        "2026-03-01",
        "2026-02-28",
    ]
    assert control.has_run("p", "stream", "2026-03-02") is True  # a day matches its hours
    assert control.has_run("p", "stream", "2026-03-01") is False

    assert control.release_run("p", "cron", "2026-03-02") is True
    assert control.get_run("p", "cron", "2026-03-02") is None
    assert control.release_run("p", "cron", "2026-03-02") is False
    assert control.acquire_run("p", "cron", "2026-03-02", now=T0, lock_ttl=LOCK) is True


def test_create_run_if_absent(control: ControlStore) -> None:
    assert control.create_run_if_absent("p", "stream", "2026-03-02", "FAILED_FINAL", now=T0)
    assert not control.create_run_if_absent("p", "stream", "2026-03-02", "FAILED_FINAL", now=T0)
    run = control.get_run("p", "stream", "2026-03-02")
    assert run is not None and run.status is RunStatus.FAILED_FINAL
    with pytest.raises(ValueError):
        control.create_run_if_absent("p", "stream", "2026-03-03", "RUNNING", now=T0)


# ================================================================== rerun requests, markers, overrides


def test_rerun_requests(control: ControlStore) -> None:
    assert control.get_rerun_request("p", "cron", "2026-03-02") is None
    control.request_rerun("p", "cron", "2026-03-02", reason="manual", by="alice", now=T0)
    later = T0 + timedelta(minutes=5)
    control.request_rerun("p", "cron", "2026-03-02", reason="late-data", by="interlock", now=later)

    request = control.get_rerun_request("p", "cron", "2026-03-02")
    assert request is not None
    assert (request.reason, request.by, request.requested_at) == ("late-data", "interlock", later)
    assert (request.pipeline_id, request.schedule, request.period) == ("p", "cron", "2026-03-02")


def test_dry_run_markers_are_written_once_and_expire_after_a_week(
    control: ControlStore, clock: Clock
) -> None:
    assert control.mark_dry_run("p", "stream", "2026-03-02", now=T0) is True
    assert control.mark_dry_run("p", "stream", "2026-03-02", now=T0) is False
    marker = control.get_dry_run("p", "stream", "2026-03-02")
    assert marker is not None and marker.triggered_at == T0

    week = clock.advance(timedelta(days=7))
    assert control.get_dry_run("p", "stream", "2026-03-02") is None
    assert control.mark_dry_run("p", "stream", "2026-03-02", now=week) is True


def test_overrides(control: ControlStore) -> None:
    control.set_override("p", "dry-run", True, by="alice", reason="upstream migration", now=T0)
    control.set_override("p", "note", {"n": 2}, by="bob", reason="x", now=T0)
    control.set_override("q", "dry-run", False, by="carol", reason="y", now=T0)

    overrides = control.overrides("p")
    assert set(overrides) == {"dry-run", "note"}
    dry = overrides["dry-run"]
    assert (dry.value, dry.by, dry.reason, dry.at) == (True, "alice", "upstream migration", T0)
    assert overrides["note"].value == {"n": 2}
    assert control.get_override("q", "dry-run") is not None

    assert control.clear_override("p", "dry-run") is True
    assert control.clear_override("p", "dry-run") is False
    assert set(control.overrides("p")) == {"note"}
    assert control.get_override("p", "dry-run") is None


def test_acks_lapse_at_until(control: ControlStore) -> None:
    until = T0 + timedelta(hours=2)
    control.ack_sla(
        "p", "cron", "2026-03-02", by="alice", reason="known delay", until=until, now=T0
    )
    control.ack_sla("p", "cron", "2026-03-01", by="bob", reason="whole run", until=None, now=T0)

    ack = control.get_ack("p", "cron", "2026-03-02", now=T0 + timedelta(hours=1))
    assert ack is not None
    assert (ack.by, ack.reason, ack.at, ack.until) == ("alice", "known delay", T0, until)
    assert control.get_ack("p", "cron", "2026-03-02", now=until) is None
    assert control.get_ack("p", "cron", "2026-03-01", now=T0 + timedelta(days=3)) is not None
    assert control.get_ack("p", "cron", "2026-03-03", now=T0) is None
    with pytest.raises(ValueError):
        control.ack_sla("p", "cron", "2026-03-02", by="a", reason="r", until=T0, now=T0)


# ============================================================================================ job log


def test_same_millisecond_appends_are_both_kept(store: Store) -> None:
    log = store.joblog
    first = log.append("p", "cron", "2026-03-02", JobEvent.FAIL, now=T0, category="TRANSIENT")
    second = log.append("p", "cron", "2026-03-02", JobEvent.SUCCESS, now=T0, run_id="r-2")

    assert first.at == T0 and second.at == T0 + timedelta(milliseconds=1)
    assert [e.event for e in log.history("p", "cron", "2026-03-02")] == ["fail", "success"]
    latest = log.latest("p", "cron", "2026-03-02")
    assert latest is not None and latest.event == "success" and latest.run_id == "r-2"


def test_job_entries_round_trip_and_stay_per_period(store: Store, clock: Clock) -> None:
    log: JobLog = store.joblog
    assert log.latest("p", "cron", "2026-03-02") is None
    entry = log.append(
        "p",
        "cron",
        "2026-03-02",
        "fail",
        now=T0,
        run_id="jr_1",
        error="exit 2",
        category="PERMANENT",
        detail={"attempt": 1},
    )
    log.append("p", "cron", "2026-03-02T08", JobEvent.SUCCESS, now=T0 + timedelta(seconds=1))

    (stored,) = log.history("p", "cron", "2026-03-02")  # the hourly row is another run
    assert stored == entry
    assert (stored.run_id, stored.error, stored.category, stored.detail) == (
        "jr_1",
        "exit 2",
        "PERMANENT",
        {"attempt": 1},
    )
    assert stored.terminal
    clock.advance(timedelta(days=30))
    assert log.history("p", "cron", "2026-03-02") == []


def test_terminal_events() -> None:
    assert {e.value for e in TERMINAL_EVENTS} == {
        "success",
        "fail",
        "timeout",
        "infra-trigger-exhausted",
        "validation-exhausted",
        "job-poll-exhausted",
    }
    assert "rerun-accepted" not in TERMINAL_EVENTS


# ========================================================================================= rerun log


def test_rerun_attempts_and_budgets(store: Store) -> None:
    reruns = store.reruns
    reasons = ["job-fail-retry", "data-drift", "late-data", "manual", "manual", "backfill"]
    attempts = [reruns.record("p", "cron", "2026-03-02", reason=r, now=T0) for r in reasons]
    reruns.record("p", "cron", "2026-03-03", reason="manual", now=T0)

    assert attempts == [0, 1, 2, 3, 4, 5]
    entries = reruns.attempts("p", "cron", "2026-03-02")
    assert [e.reason for e in entries] == reasons
    assert entries[0].triggered_at == T0
    assert reruns.count("p", "cron", "2026-03-02", budget_bucket("late-data")) == 2
    assert reruns.count("p", "cron", "2026-03-02", budget_bucket("data-drift")) == 2
    assert reruns.count("p", "cron", "2026-03-02", budget_bucket("manual")) == 2
    assert reruns.count("p", "cron", "2026-03-02", budget_bucket("backfill")) == 1
    assert reruns.count("p", "cron", "2026-03-02", budget_bucket(RerunReason.JOB_FAIL_RETRY)) == 1


def test_budget_buckets() -> None:
    assert budget_bucket("data-drift") == ("data-drift", "late-data")
    assert budget_bucket("late-data") == ("data-drift", "late-data")
    assert budget_bucket("job-fail-retry") == ("job-fail-retry",)
    assert budget_bucket("manual") == ("manual",)


class _RacingTable:
    """The rerun table, but another writer records an attempt just before our first write lands."""

    def __init__(self, table: Table) -> None:
        self._table = table
        self._raced = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def put(self, item: Any, **kwargs: Any) -> None:
        if not self._raced:
            self._raced = True
            RerunLog(self._table).record("p", "cron", "2026-03-02", reason="manual", now=T0)
        self._table.put(item, **kwargs)


def test_racing_writers_get_different_attempts(store: Store) -> None:
    racing = RerunLog(_RacingTable(store.tables["rerun"]))

    ours = racing.record(
        "p", "cron", "2026-03-02", reason="job-fail-retry", now=T0, source_job_event="fail"
    )

    entries = store.reruns.attempts("p", "cron", "2026-03-02")
    assert ours == 1
    assert [(e.attempt, e.reason) for e in entries] == [(0, "manual"), (1, "job-fail-retry")]
    assert entries[1].source_job_event == "fail"


# ============================================================================================= events


def _event(
    type_: EventType,
    pid: str,
    at: datetime,
    **kw: Any,
) -> Event:
    return Event.create(type_, pid, now=at, **kw)


def test_events_round_trip_with_full_detail(store: Store) -> None:
    event = _event(
        EventType.SLA_BREACH,
        "gold-revenue",
        T0 + timedelta(milliseconds=123),
        schedule_id="cron",
        date="2026-03-02",
        actor="watchdog",
        detail={
            "status": "BREACHED",
            "deadline": "10:00",
            "marginSeconds": -1.5,
            "ratio": 0.1,
            "count": 3,
            "nested": {"ok": True, "none": None, "list": [1, "two", 3.25]},
        },
    )
    plain = _event(EventType.JOB_COMPLETED, "gold-revenue", T0 + timedelta(seconds=1))

    sk = store.events.append(event)
    store.events.append(plain)

    assert sk.startswith("1772445600123#SLA_BREACH#")
    assert store.events.for_pipeline("gold-revenue", newest_first=False) == [event, plain]
    row = store.tables["events"].get("PIPELINE#gold-revenue", sk)
    assert row is not None
    assert row["GSI2PK"] == "EVENTS#2026-03-02T10" and row["timestamp"] == 1_772_445_600_123
    assert row["ttl"] == keys.epoch_seconds(event.timestamp + timedelta(days=90))


def test_same_millisecond_same_type_events_do_not_collide(store: Store) -> None:
    uids = iter(["aaaa", "aaaa", "bbbb"])
    events = EventStore(store.tables["events"], uid=lambda: next(uids))
    one = _event(EventType.JOB_FAILED, "p", T0, message="first")
    two = _event(EventType.JOB_FAILED, "p", T0, message="second")

    assert events.append(one) == "1772445600000#JOB_FAILED#aaaa"
    assert events.append(two) == "1772445600000#JOB_FAILED#bbbb"  # aaaa was taken: a new uid
    assert sorted(e.message for e in events.for_pipeline("p")) == ["first", "second"]

    stuck = EventStore(store.tables["events"], uid=lambda: "aaaa")
    with pytest.raises(StoreError):
        stuck.append(_event(EventType.JOB_FAILED, "p", T0))


def test_for_pipeline_order_since_limit_and_threads_excluded(store: Store) -> None:
    evs = [_event(EventType.JOB_TRIGGERED, "p", T0 + timedelta(minutes=i)) for i in range(5)]
    for e in evs:
        store.events.append(e)
    store.events.append(_event(EventType.JOB_TRIGGERED, "q", T0))
    assert store.events.put_thread("p", "cron", "2026-03-02", ts="1.2", channel="C1", now=T0)

    assert store.events.for_pipeline("p") == evs[::-1]
    assert store.events.for_pipeline("p", newest_first=False, limit=2) == evs[:2]
    assert store.events.for_pipeline("p", since=T0 + timedelta(minutes=3)) == evs[:2:-1]
    assert store.events.for_pipeline("p", limit=0) == []


def test_of_type_across_pipelines(store: Store) -> None:
    a = _event(EventType.SLA_WARNING, "a", T0)
    b = _event(EventType.SLA_WARNING, "b", T0 + timedelta(minutes=10))
    c = _event(EventType.SLA_WARNING, "c", T0 + timedelta(minutes=20))
    for e in (a, b, c, _event(EventType.SLA_MET, "a", T0)):
        store.events.append(e)

    assert store.events.of_type(EventType.SLA_WARNING) == [c, b, a]
    assert store.events.of_type("SLA_WARNING", newest_first=False, limit=2) == [a, b]
    window = store.events.of_type(
        EventType.SLA_WARNING, since=T0 + timedelta(minutes=10), until=T0 + timedelta(minutes=20)
    )
    assert window == [b]
    assert store.events.of_type(EventType.SLA_WARNING, until=T0 + timedelta(minutes=10)) == [a]


def test_since_walks_hour_buckets_across_pipelines(store: Store) -> None:
    # GIVEN events either side of 11:00 and 12:00, in three pipelines
    at = [T0 + timedelta(minutes=m) for m in (-1, 30, 59, 60, 61, 125)]
    evs = [
        _event(EventType.JOB_TRIGGERED, "a", at[0]),
        _event(EventType.JOB_FAILED, "b", at[1]),
        _event(EventType.JOB_TRIGGERED, "c", at[2]),
        _event(EventType.JOB_FAILED, "a", at[3]),
        _event(EventType.JOB_COMPLETED, "b", at[4]),
        _event(EventType.JOB_FAILED, "c", at[5]),
    ]
    for e in reversed(evs):
        store.events.append(e)

    # WHEN reading 10:00 (inclusive) to 12:05 (exclusive) THEN oldest first, across buckets
    end = T0 + timedelta(minutes=125)
    assert store.events.since(T0, until=end) == evs[1:5]
    assert store.events.since(T0, until=end + timedelta(milliseconds=1)) == evs[1:]
    assert store.events.since(T0, until=end, types={EventType.JOB_FAILED}) == [evs[1], evs[3]]
    assert store.events.since(T0 - timedelta(hours=1), until=end, pipeline="a") == [evs[0], evs[3]]
    assert store.events.since(T0, until=end, limit=2) == evs[1:3]
    assert store.events.since(T0, until=T0) == []


def test_since_refuses_unbounded_ranges(store: Store) -> None:
    with pytest.raises(ValueError, match="31 days"):
        store.events.since(T0, until=T0 + timedelta(days=31, seconds=1))
    with pytest.raises(ValueError):
        store.events.since(T0, until=T0 - timedelta(seconds=1))
    with pytest.raises(ValueError):
        store.events.since(datetime(2026, 3, 2), until=T0)  # noqa: DTZ001 - naive on purpose


def test_slack_threads(store: Store) -> None:
    assert store.events.get_thread("p", "cron", "2026-03-02") is None
    assert store.events.put_thread("p", "cron", "2026-03-02", ts="171.1", channel="C1", now=T0)
    assert not store.events.put_thread("p", "cron", "2026-03-02", ts="172.2", channel="C1", now=T0)
    assert store.events.put_thread("p", None, None, ts="9.9", channel="C2", now=T0)

    thread = store.events.get_thread("p", "cron", "2026-03-02")
    assert thread is not None and (thread.ts, thread.channel, thread.created_at) == (
        "171.1",
        "C1",
        T0,
    )
    infra = store.events.get_thread("p", None, None)
    assert infra is not None and infra.ts == "9.9"


# ============================================================================================ factory


def test_open_store_defaults_to_a_file_under_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INTERLOCK_STORE", raising=False)
    with open_store() as store:
        assert store.url == "sqlite:///./.interlock/interlock.db"
        assert (tmp_path / ".interlock").is_dir()
        assert set(store.tables) == {"control", "joblog", "rerun", "events"}
        assert repr(store) == "<Store sqlite:///./.interlock/interlock.db>"
    assert repr(store).endswith("closed>")
    store.close()  # idempotent


def test_open_store_reads_interlock_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "deep" / "er" / "x.db"
    monkeypatch.setenv("INTERLOCK_STORE", f"sqlite:///{target}")  # sqlite://// + absolute path
    with open_store() as store:
        store.control.put_sensor("p", "k", {"v": 1}, now=T0)
        assert store.url == f"sqlite:///{target}"
    assert target.parent.is_dir()

    # reopening the same file sees the data
    with open_store(f"sqlite:///{target}") as again:
        record = again.control.get_sensor("p", "k")
        assert record is not None and record.fields == {"v": 1}


def test_open_store_relative_path_and_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    clock = Clock()
    with open_store("sqlite:///data/x.db", now=clock) as store:
        store.control.put_sensor("p", "k", {}, now=T0, ttl=T0 + timedelta(seconds=10))
        assert store.control.get_sensor("p", "k") is not None
        clock.advance(timedelta(seconds=10))
        assert store.control.get_sensor("p", "k") is None
    assert (tmp_path / "data" / "x.db").exists()


def test_open_store_builds_a_dynamodb_store_lazily() -> None:
    from interlock.store.dynamodb import DynamoDBStore

    url = "dynamodb://prod?region=eu-west-1&endpoint=http%3A%2F%2Flocalhost%3A8000"
    with open_store(url) as store:
        backend = store.backend
        assert isinstance(backend, DynamoDBStore)
        assert (backend.environment, backend.region, backend.endpoint_url) == (
            "prod",
            "eu-west-1",
            "http://localhost:8000",
        )
    with open_store("dynamodb://dev") as store:
        assert isinstance(store.backend, DynamoDBStore) and store.backend.region is None


@pytest.mark.parametrize(
    "url",
    [
        "postgres://localhost/db",
        "sqlite://relative.db",
        "sqlite:///",
        "sqlite:///x.db?mode=ro",
        "dynamodb://",
        "dynamodb://bad#env",
        "dynamodb://dev?bogus=1",
        "dynamodb://dev?region",
        "dynamodb://dev?region=a&region=b",
        "",
    ],
)
def test_bad_store_urls_name_the_accepted_forms(url: str) -> None:
    with pytest.raises(StoreError, match="accepted store URLs") as err:
        open_store(url)
    assert not isinstance(err.value, StoreUnavailableError)


def test_open_store_reports_an_uncreatable_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(StoreUnavailableError):
        open_store(f"sqlite:///{tmp_path}/file/sub/x.db")


# =========================================================================================== helpers


def test_domain_objects_have_readable_reprs(store: Store) -> None:
    shown: list[Callable[[], str]] = [
        lambda: repr(store.control),
        lambda: repr(store.joblog),
        lambda: repr(store.reruns),
        lambda: repr(store.events),
    ]
    texts = [f() for f in shown]
    assert texts[0] == "<ControlStore control>"
    assert texts[1] == "<JobLog joblog>"
    assert texts[2] == "<RerunLog rerun>"
    assert texts[3] == "<EventStore events ttl 90d>"


# ============================================================== rows written by the original, bad input


def test_rows_in_the_original_formats_read_back(store: Store) -> None:
    control, events = store.control, store.tables["events"]
    # a RUNNING row as the original wrote it: status and ttl only (ttl was the lock's expiry)
    lock_end = keys.epoch_seconds(T0 + LOCK)
    control.table.put(
        {
            "PK": "PIPELINE#p",
            "SK": "TRIGGER#stream#2026-03-02",
            "status": "RUNNING",
            "ttl": lock_end,
        }
    )
    run = control.get_run("p", "stream", "2026-03-02")
    assert run is not None
    assert (run.attempt, run.started_at, run.lock_expires_at) == (0, None, T0 + LOCK)
    # a CONFIG written as a map rather than a JSON string is tolerated; any other type is not
    good = json.loads(json.dumps(load_pipelines(EXAMPLES)["silver-orders"].model_dump(mode="json")))
    control.table.put({"PK": "PIPELINE#silver-orders", "SK": "CONFIG", "config": good})
    config = control.get_config("silver-orders")
    assert config is not None and config.id == "silver-orders"
    control.table.put({"PK": "PIPELINE#n", "SK": "CONFIG", "config": 42})
    with pytest.raises(InvalidConfigError, match="expected a JSON string"):
        control.get_config("n")
    # the original's unpadded rerun attempts: numbered on after the highest, sorted as numbers
    for attempt in (0, 1, 9, 10):
        store.tables["rerun"].put(
            {"PK": "PIPELINE#p", "SK": f"RERUN#cron#2026-03-02#{attempt}", "reason": "manual"}
        )
    assert store.reruns.record("p", "cron", "2026-03-02", reason="manual", now=T0) == 11
    assert [e.attempt for e in store.reruns.attempts("p", "cron", "2026-03-02")] == [
        0,
        1,
        9,
        10,
        11,
    ]
    assert store.reruns.attempts("p", "cron", "2026-03-02")[0].triggered_at is None
    # an event row of the original's sink: no uid, no detail, empty schedule and date
    events.put(
        {
            "PK": "PIPELINE#p",
            "SK": "1772445600000#JOB_FAILED",
            "eventType": "JOB_FAILED",
            "pipelineId": "p",
            "scheduleId": "",
            "date": "",
            "message": "job failed for p",
            "timestamp": 1_772_445_600_000,
        }
    )
    (event,) = store.events.for_pipeline("p")
    assert (event.type, event.schedule_id, event.date, event.detail) == (
        EventType.JOB_FAILED,
        None,
        None,
        {},
    )
    assert event.timestamp == T0


def test_an_unreadable_event_row_is_skipped_with_a_warning(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    good = _event(EventType.JOB_COMPLETED, "p", T0 + timedelta(seconds=1))
    store.events.append(good)
    store.tables["events"].put(
        {"PK": "PIPELINE#p", "SK": "1772445600000#NO_SUCH_TYPE#u", "eventType": "NO_SUCH_TYPE"}
    )

    assert store.events.for_pipeline("p") == [good]
    assert "1772445600000#NO_SUCH_TYPE#u" in caplog.text


def test_sensor_update_times_in_every_accepted_form(control: ControlStore) -> None:
    forms = {
        "ms": 1_772_445_600_000,
        "text-seconds": "1772445600",
        "rfc-offset": "2026-03-02T11:00:00+01:00",
    }
    for key, value in forms.items():
        control.table.put(
            {"PK": "PIPELINE#p", "SK": f"SENSOR#{key}", "data": {"updated_at": value}}
        )
    control.table.put(
        {"PK": "PIPELINE#p", "SK": "SENSOR#naive", "data": {"updatedAt": "2026-03-02T10:00:00"}}
    )
    control.table.put({"PK": "PIPELINE#p", "SK": "SENSOR#huge", "data": {"updatedAt": 10**30}})

    sensors = control.sensors("p")
    assert {k: sensors[k].updated_at for k in forms} == dict.fromkeys(forms, T0)
    assert sensors["naive"].updated_at is None  # no offset: not guessed
    assert sensors["huge"].updated_at is None


def test_unknown_run_status_is_an_error(control: ControlStore) -> None:
    control.table.put({"PK": "PIPELINE#p", "SK": "TRIGGER#cron#2026-03-02", "status": "PAUSED"})
    with pytest.raises(ValueError, match="PAUSED"):
        control.get_run("p", "cron", "2026-03-02")


def test_bad_arguments_are_refused(store: Store) -> None:
    with pytest.raises(ValueError):
        ControlStore(store.tables["control"], stale_grace=timedelta(seconds=-1))
    with pytest.raises(ValueError):
        store.control.acquire_run("p", "cron", "2026-03-02", now=T0, lock_ttl=timedelta(0))
    with pytest.raises(ValueError):
        store.control.request_rerun("p", "cron", "2026-03-02", reason="", by="a", now=T0)
    with pytest.raises(ValueError):
        store.joblog.append("p", "cron", "2026-03-02", "", now=T0)
    with pytest.raises(ValueError):
        store.reruns.record("p", "cron", "2026-03-02", reason="", now=T0)
    with pytest.raises(TypeError):
        store.reruns.count("p", "cron", "2026-03-02", "manual")
    assert store.control.get_run("p", "cron", "2026-03-02") is None


class _AlwaysTaken:
    """A table on which every conditional put finds its key taken."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def put(self, item: Any, *, condition: Any = None) -> None:
        raise ConflictError(item["PK"], item["SK"], condition)


def test_appends_give_up_after_bounded_retries(store: Store) -> None:
    with pytest.raises(StoreError, match="no free millisecond"):
        JobLog(_AlwaysTaken(store.tables["joblog"])).append("p", "cron", "d", "fail", now=T0)
    with pytest.raises(StoreError, match="no free attempt"):
        RerunLog(_AlwaysTaken(store.tables["rerun"])).record("p", "cron", "d", reason="m", now=T0)


def test_job_entry_repr_and_of_type_since(store: Store) -> None:
    entry = store.joblog.append("p", "cron", "2026-03-02", "fail", now=T0, category="TIMEOUT")
    assert repr(entry) == "<JobEntry fail TIMEOUT at 2026-03-02T10:00:00Z>"
    old = _event(EventType.SLA_MET, "p", T0)
    new = _event(EventType.SLA_MET, "p", T0 + timedelta(hours=1))
    store.events.append(old)
    store.events.append(new)
    assert store.events.of_type(EventType.SLA_MET, since=T0 + timedelta(seconds=1)) == [new]


def test_runs_since_a_period_is_a_key_range(control: ControlStore) -> None:
    for period in ("2026-02-28", "2026-03-01", "2026-03-01T07", "2026-03-02", "2026-03-02T23"):
        control.acquire_run("orders", "stream", period, now=T0, lock_ttl=timedelta(hours=1))
    control.acquire_run("orders", "cron", "2026-03-02", now=T0, lock_ttl=timedelta(hours=1))
    recent = control.runs("orders", "stream", since_period="2026-03-01")
    assert [r.period for r in recent] == [
        "2026-03-02T23",
        "2026-03-02",
        "2026-03-01T07",
        "2026-03-01",
    ]
    assert [r.period for r in control.runs("orders", "stream")][-1] == "2026-02-28"
    assert {r.schedule for r in control.runs("orders", "cron", since_period="2026-03-01")} == {
        "cron"
    }


def test_controller_bookkeeping_rows_expire(store: Store) -> None:
    from interlock.lifecycle.actions import Decision, PutBookkeeping
    from interlock.ports import FixedClock, RecordingBus, RecordingExecutions
    from interlock.service.executor import BOOKKEEPING_TTL, Executor

    executor = Executor(store, RecordingBus(), RecordingExecutions(), FixedClock(T0))
    row = PutBookkeeping("orders", "first-sensor-arrival", "2026-03-02", {"arrivedAt": "x"}, T0)
    executor.apply(Decision((row,)))
    key = "first-sensor-arrival#2026-03-02"
    item = store.tables["control"].get("PIPELINE#orders", f"SENSOR#{key}")
    assert item is not None and item["ttl"] == int((T0 + BOOKKEEPING_TTL).timestamp())


# ========================================================================================= bulk reads


def test_board_reads_match_the_per_pipeline_reads(control: ControlStore) -> None:
    # GIVEN two pipelines (cron and stream) with sensors, overrides, runs across days and acks
    control.put_sensor("a", "landed", {"status": "ready"}, now=T0)
    control.put_sensor("a", "count", {"n": 3}, now=T0)
    control.set_override("a", "dry-run", True, by="me", reason="try", now=T0)
    for period in ("2026-02-20", "2026-02-28", "2026-03-01T23", "2026-03-02"):
        control.acquire_run("a", "cron", period, now=T0, lock_ttl=LOCK)
    control.set_run_status("a", "cron", "2026-02-28", RunStatus.FAILED_FINAL, now=T0)
    control.set_run_status("a", "cron", "2026-03-02", RunStatus.COMPLETED, now=T0)
    control.acquire_run("b", "stream", "2026-03-01", now=T0, lock_ttl=LOCK)
    control.acquire_run("b", "cron", "2026-03-01", now=T0, lock_ttl=LOCK)  # another schedule
    control.ack_sla("a", "cron", "2026-02-28", by="me", reason="known", until=None, now=T0)
    control.ack_sla("a", "cron", "2026-02-10", by="me", reason="old", until=None, now=T0)
    control.ack_sla(
        "b",
        "stream",
        "2026-03-01",
        by="me",
        reason="lapsed",
        until=T0 + timedelta(minutes=1),
        now=T0,
    )
    control.claim("a", "SLA_BREACH", "cron", "2026-03-02", now=T0)  # not read
    later = T0 + timedelta(minutes=5)

    # WHEN read in bulk (periods from 2026-02-25 on)
    reads = control.board_reads(
        {"a": "cron", "b": "stream", "c": "cron"}, since_period="2026-02-25", now=later
    )

    # THEN each pipeline has what its own reads would give, within the period range
    assert reads.sensors["a"] == control.sensors("a")
    assert reads.sensors["b"] == {} and reads.sensors["c"] == {}
    assert reads.overrides["a"] == control.overrides("a")
    # unfinished or failed rows as RunRows; COMPLETED ones read only when asked for
    assert [r.period for r in reads.unfinished["a"]] == ["2026-03-01T23", "2026-02-28"]
    assert reads.unfinished["a"][1] == control.get_run("a", "cron", "2026-02-28")
    assert list(reads.completed["a"]) == ["2026-03-02"]
    # every row (the watchdog's bulk read needs the COMPLETED ones: a period with one has run)
    assert reads.runs_of("a") == control.runs("a", "cron", since_period="2026-02-25")
    for period in ("2026-03-02", "2026-02-28"):
        assert reads.run("a", period) == control.get_run("a", "cron", period)
    assert reads.run("a", "2026-02-20") is None  # before the range read
    assert [(r.schedule, r.period) for r in reads.runs_of("b")] == [("stream", "2026-03-01")]
    assert list(reads.acks["a"]) == ["2026-02-28"]
    assert reads.acks["a"]["2026-02-28"] == control.get_ack("a", "cron", "2026-02-28", now=later)
    assert reads.acks["b"] == {}  # lapsed at `later`
    assert reads.runs_of("c") == [] and reads.overrides["c"] == {}


def test_latest_of_and_attempts_of_match_the_per_pipeline_reads(store: Store) -> None:
    evs = [_event(EventType.JOB_TRIGGERED, "p", T0 + timedelta(minutes=i)) for i in range(3)]
    for e in evs:
        store.events.append(e)
    store.events.append(_event(EventType.JOB_FAILED, "q", T0))
    assert store.events.put_thread("p", "cron", "2026-03-02", ts="1.2", channel="C1", now=T0)
    for reason in ("manual", "data-drift"):
        store.reruns.record("p", "cron", "2026-03-02", reason=reason, now=T0)
    store.reruns.record("p", "cron", "2026-03-01", reason="manual", now=T0)

    latest = store.events.latest_of(["p", "q", "nobody"])
    attempts = store.reruns.attempts_of(
        {"p": ("cron", "2026-03-02"), "q": ("stream", "2026-03-02")}
    )

    assert latest == {"p": evs[-1], "q": store.events.for_pipeline("q")[0], "nobody": None}
    assert attempts["p"] == store.reruns.attempts("p", "cron", "2026-03-02")
    assert [e.reason for e in attempts["p"]] == ["manual", "data-drift"]
    assert attempts["q"] == []


def test_the_watchdog_bulk_read_sees_completed_runs(
    store: Store, examples: dict[str, PipelineConfig]
) -> None:
    # a COMPLETED run must reach the watchdog, or it reports the period's schedule as missed
    from interlock.lifecycle.watchdog import scan
    from interlock.service.reads import gather

    config = examples["gold-revenue"]  # cron 08:00: without its run row, a missed schedule
    store.control.put_config(config, now=T0 - timedelta(days=2))
    period = "2026-03-02"
    store.control.acquire_run(config.id, config.schedule_id, period, now=T0, lock_ttl=LOCK)
    store.control.set_run_status(config.id, config.schedule_id, period, RunStatus.COMPLETED, now=T0)

    inputs = gather(store, now=T0 + timedelta(hours=10))

    (found,) = [p for p in inputs.pipelines if p.config.id == config.id]
    assert found.runs[period].status is RunStatus.COMPLETED
    alerts = scan(inputs, now=T0 + timedelta(hours=10), calendars={})
    assert not [d for d in alerts if "SCHEDULE_MISSED" in str(d.actions)]
