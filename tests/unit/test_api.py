"""The ``Interlock`` facade over a SQLite store seeded in the test, on a frozen clock."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

import interlock
from interlock.api import (
    Board,
    EventList,
    Interlock,
    PipelineNotFoundError,
    SensorList,
    SystemClock,
)
from interlock.events import Event, EventType
from interlock.ports import VirtualClock
from interlock.records import DRY_RUN_OVERRIDE
from interlock.service.operator import OperatorError
from tests.tui.seed import NOW, seed_world

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

ACTOR = "analyst@notebook"


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(NOW)


@pytest.fixture
def il(tmp_path: Path, clock: VirtualClock) -> Iterator[Interlock]:
    with Interlock.local(tmp_path / "world.db", clock=clock, actor=ACTOR) as facade:
        seed_world(facade.store)
        yield facade


def _by_id(board: Board) -> dict[str, Any]:
    return {s.pipeline_id: s for s in board}


def test_interlock_is_exported_lazily() -> None:
    assert "Interlock" in interlock.__all__
    assert interlock.Interlock is Interlock


def test_local_accepts_a_path_or_a_url(tmp_path: Path) -> None:
    with Interlock.local(tmp_path / "a.db") as a:
        assert a.store.url == f"sqlite:///{tmp_path}/a.db"
        assert isinstance(a.clock, SystemClock)
    with Interlock.local(f"sqlite:///{tmp_path}/b.db") as b:
        assert repr(b) == f"<Interlock sqlite:///{tmp_path}/b.db>"


def test_board_states_and_order(il: Interlock) -> None:
    board = il.board()
    states = {s.pipeline_id: s.state for s in board}
    assert states == {
        "bronze-cdr-hourly": "failed",
        "gold-revenue": "evaluating",
        "ml-training": "waiting",
        "silver-cdr-day": "waiting",
        "dryrun-weather": "dry-run",
        "finance-close": "succeeded",
        "silver-orders": "succeeded",
    }
    assert board[0].pipeline_id == "bronze-cdr-hourly"
    assert [s.pipeline_id for s in board.problems] == ["bronze-cdr-hourly"]
    ranks = [s.rank for s in board]
    assert ranks == sorted(ranks)


def test_status_of_an_evaluating_pipeline(il: Interlock) -> None:
    s = il.status("gold-revenue")
    assert (s.period, s.schedule, s.state) == ("2026-03-02", "cron", "evaluating")
    assert (s.rules_passed, s.rules_total, s.rules_text) == (2, 3, "2/3")
    assert s.sla.status == "ok"
    assert s.sla.text == "warn in 49m"
    assert s.sla.warning_at == NOW.replace(hour=9, minute=30)
    assert s.last_event is not None
    assert s.last_event.type is EventType.SLA_MET
    assert s.budget is not None
    assert (s.budget.remaining("data-drift"), s.budget.remaining("manual")) == (1, 1)
    assert s.ack is None
    assert not s.problem
    assert "gold-revenue 2026-03-02 evaluating rules 2/3" in repr(s)


def test_failed_run_breaches_its_sla_and_shows_its_ack(il: Interlock) -> None:
    s = il.status("bronze-cdr-hourly")
    assert s.period == "2026-03-02T07"  # the trigger sensor's hour, not the clock's
    assert s.sla.status == "breached"
    assert s.sla.text == "BREACHED 08:15"
    assert s.ack is not None
    assert (s.ack.by, s.ack.reason) == ("alice", "upstream outage INC-42")
    assert s.problem  # failed, even though the SLA is acknowledged


def test_completed_run_met_its_sla(il: Interlock) -> None:
    s = il.status("finance-close")
    assert (s.period, s.state, s.sla.status, s.sla.text) == (
        "2026-02-27",
        "succeeded",
        "met",
        "met",
    )


def test_unknown_pipeline(il: Interlock) -> None:
    with pytest.raises(PipelineNotFoundError, match="gold-revenue"):
        il.status("gold-revenu")


def test_explain_gives_value_age_and_reason_per_rule(il: Interlock) -> None:
    e = il.explain("gold-revenue")
    assert not e.ready
    assert e.passed_count == 2
    fresh = e.rules[2]
    assert (fresh.rule, fresh.passed) == ("freshness.updatedAt age < 2h", False)
    assert fresh.age == timedelta(hours=2, minutes=31)
    assert "exceeds 2h" in fresh.reason
    assert e.rules[1].age == timedelta(minutes=51)  # how long ago the sensor was written
    assert "not ready: 2/3 rules pass" in repr(e)
    assert "<table" in e._repr_html_()
    assert e.__rich__() is not None


def test_sensors_runs_and_events(il: Interlock) -> None:
    sensors = il.sensors("gold-revenue")
    assert isinstance(sensors, SensorList)
    assert [s.key for s in sensors] == ["freshness", "row-count", "upstream-complete"]
    assert sensors[1].age == timedelta(minutes=51)

    runs = il.runs("gold-revenue")
    assert [(r.period, r.outcome, r.duration) for r in runs] == [
        ("2026-03-01", "succeeded", timedelta(minutes=31)),
        ("2026-02-28", "succeeded", timedelta(minutes=29)),
    ]
    assert [x.reason for x in runs[0].reruns] == ["data-drift"]
    failed = il.runs("bronze-cdr-hourly")[0]
    assert failed.outcome == "failed (PERMANENT)"

    recent = il.events(limit=3)
    assert isinstance(recent, EventList)
    assert [e.type for e in recent] == [
        EventType.SCHEDULE_MISSED,
        EventType.SLA_ACKNOWLEDGED,
        EventType.SLA_BREACH,
    ]
    mine = il.events("bronze-cdr-hourly", types=[EventType.JOB_FAILED])
    assert [e.message for e in mine] == ["audit lambda: table not found"]
    assert il.events(limit=0) == []


def test_tail_returns_events_since_oldest_first(il: Interlock) -> None:
    tail = il.tail(NOW.replace(hour=8, minute=15))
    assert [e.type for e in tail] == [
        EventType.SLA_BREACH,
        EventType.SLA_ACKNOWLEDGED,
        EventType.SCHEDULE_MISSED,
    ]


def test_put_sensor_moves_a_pipeline_forward(il: Interlock, clock: VirtualClock) -> None:
    il.put_sensor("gold-revenue", "freshness", updatedAt="2026-03-02T08:40:00Z")
    assert il.status("gold-revenue").rules_text == "3/3"
    assert il.explain("gold-revenue").ready


def test_put_sensor_takes_a_mapping_and_refuses_nothing(il: Interlock) -> None:
    stored = il.put_sensor("gold-revenue", "freshness", {"updatedAt": "2026-03-02T08:40:00Z"})
    assert stored["updatedAt"] == "2026-03-02T08:40:00Z"
    assert il.status("gold-revenue").rules_text == "3/3"
    il.put_sensor("gold-revenue", "row-count", {"count": 1}, source="vendor")
    assert il.store.control.sensors("gold-revenue")["row-count"].fields == {
        "count": 1,
        "source": "vendor",
    }
    with pytest.raises(ValueError, match="no fields to write"):
        il.put_sensor("gold-revenue", "row-count")
    with pytest.raises(ValueError, match="given both"):
        il.put_sensor("gold-revenue", "row-count", {"count": 1}, count=2)
    assert il.store.control.sensors("gold-revenue")["row-count"].fields["count"] == 1


def test_ack_takes_the_cli_durations(il: Interlock) -> None:
    il.ack("bronze-cdr-hourly", "2026-03-02T07", reason="known", until="1h")
    ack = il.store.control.get_ack("bronze-cdr-hourly", "stream", "2026-03-02T07", now=NOW)
    assert ack is not None
    assert ack.until == NOW + timedelta(hours=1)
    with pytest.raises(ValueError, match="no time zone offset"):
        il.ack("bronze-cdr-hourly", "2026-03-02T07", reason="x", until="2026-03-02T12:00:00")


def test_rerun_outlook_says_what_the_controller_will_decide(il: Interlock) -> None:
    # gold-revenue's period never ran: certainly rejected, and why
    never = il.rerun_outlook("gold-revenue")
    assert (never.period, never.verdict) == ("2026-03-02", "rejected")
    assert "never ran" in never.message and not never.will_start
    # bronze's failed hour with budget left: accepted as the next attempt
    failed = il.rerun_outlook("bronze-cdr-hourly", "2026-03-02T07")
    assert failed.verdict == "accepted" and failed.will_start
    assert failed.budget.remaining("manual") == 1
    # a dry-run pipeline: nothing starts whatever the budget says
    assert il.rerun_outlook("dryrun-weather").verdict == "dry-run"
    # nothing was written by asking
    assert (
        il.store.control.get_rerun_request("bronze-cdr-hourly", "stream", "2026-03-02T07") is None
    )


def test_writes_go_through_the_operator_and_are_audited(il: Interlock) -> None:
    result = il.rerun("gold-revenue")
    assert result.applied
    assert result.event is EventType.RERUN_REQUESTED
    request = il.store.control.get_rerun_request("gold-revenue", "cron", "2026-03-02")
    assert request is not None
    assert request.by == ACTOR

    il.ack("bronze-cdr-hourly", "2026-03-02T07", reason="known", until=timedelta(hours=1))
    ack = il.store.control.get_ack("bronze-cdr-hourly", "stream", "2026-03-02T07", now=NOW)
    assert ack is not None
    assert (ack.by, ack.until) == (ACTOR, NOW + timedelta(hours=1))

    il.dry_run("gold-revenue", True, reason="shadow")
    override = il.store.control.get_override("gold-revenue", DRY_RUN_OVERRIDE)
    assert override is not None
    assert override.value is True
    assert il.status("gold-revenue").state == "dry-run"
    actors = {e.actor for e in il.events(since=NOW - timedelta(seconds=1))}
    assert actors == {ACTOR}
    assert il.budget("gold-revenue").remaining("manual") == 1

    with pytest.raises(OperatorError):
        il.rerun("nope")


def test_invalid_config_shows_as_an_invalid_row(il: Interlock) -> None:
    il.store.tables["control"].put(
        {
            "PK": "PIPELINE#broken",
            "SK": "CONFIG",
            "config": "{",
            "GSI1PK": "CONFIGS",
            "GSI1SK": "broken",
        }
    )
    board = il.board()
    assert "broken" in il.pipelines().invalid
    row = _by_id(board)["broken"]
    assert row.state == "invalid"
    assert board[0].pipeline_id in {"broken", "bronze-cdr-hourly"}


def test_reprs_html_and_records(il: Interlock) -> None:
    board = il.board()
    text = repr(board)
    assert text.splitlines()[0] == "<Board: 7 pipelines>"
    assert "PIPELINE" in text.splitlines()[1]
    html = board._repr_html_()
    assert html.count("<tr>") == 8
    assert board.records()[0]["pipeline"] == "bronze-cdr-hourly"
    assert "gold-revenue" in repr(il.pipelines())
    assert "<table" in il.runs("gold-revenue")._repr_html_()
    assert repr(EventList()) == "<EventList: 0 events>"


def test_to_pandas_names_the_missing_dependency(
    il: Interlock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # what import sees when pandas is absent
    with pytest.raises(ImportError, match="pip install pandas"):
        il.board().to_pandas()
    with pytest.raises(ImportError, match="pip install pandas"):
        il.explain("gold-revenue").to_pandas()


def test_event_list_columns() -> None:
    e = Event.create(EventType.JOB_FAILED, "p", now=NOW, message="boom")
    rows = EventList([e]).records()
    assert rows == [
        {
            "time": NOW,
            "type": "JOB_FAILED",
            "severity": "critical",
            "pipeline": "p",
            "period": None,
            "actor": None,
            "message": "boom",
        }
    ]


def test_a_period_that_ended_before_the_pipeline_was_pushed_shows_no_breach(
    tmp_path: Path,
) -> None:
    from interlock.config.models import PipelineConfig

    # GIVEN a daily 08:00 cron pipeline with a 10:00 SLA, first pushed at 07:00: its latest period
    # is yesterday's, which ended before Interlock watched it
    clock = VirtualClock(NOW.replace(hour=7, minute=0))
    cfg = PipelineConfig.model_validate(
        {
            "pipeline": {"id": "late-joiner"},
            "schedule": {"cron": "0 8 * * *"},
            "sla": {"deadline": "10:00"},
            "job": {"type": "command", "config": {"command": "true"}},
        }
    )
    with Interlock.local(tmp_path / "w.db", clock=clock) as il:
        il.store.control.put_config(cfg, now=clock.now())
        status = il.status("late-joiner")
        # THEN no "BREACHED" clock for a day nobody was watching; the next day's clock does run
        assert status.period == "2026-03-01"
        assert (status.sla.status, status.sla.text) == ("unwatched", "not watched")
        assert "before Interlock watched the pipeline" in status.sla.reason
        assert not status.problem
        clock.set(NOW.replace(hour=9, minute=0))
        today = il.status("late-joiner")
        assert (today.period, today.sla.status) == ("2026-03-02", "ok")
        clock.set(NOW.replace(hour=10, minute=1))
        assert il.status("late-joiner").sla.status == "breached"


def test_events_since_accepts_a_duration(il: Interlock) -> None:
    everything = il.events(since=timedelta(days=30))
    recent = il.events(since="30m")
    assert 0 < len(recent) < len(everything)
    assert [e.timestamp for e in recent] == [
        e.timestamp for e in everything if e.timestamp >= NOW - timedelta(minutes=30)
    ]
