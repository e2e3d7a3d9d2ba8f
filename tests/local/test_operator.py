"""``interlock.service.operator.Operator`` over a real SQLite store: the rows it writes and the audited events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from interlock.config.loader import validate_config_data
from interlock.events import EventType
from interlock.ports import VirtualClock
from interlock.service.bus import StoreBus
from interlock.service.operator import (
    ACTOR_ENV,
    Operator,
    OperatorError,
    OperatorResult,
    RerunBudget,
    current_actor,
)
from interlock.store import open_store

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from interlock.events import Event
    from interlock.store import Store

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
ALICE = "alice@ops"
JOB: dict[str, Any] = {"type": "command", "config": {"command": ["true"]}, "maxDriftReruns": 2}


def pipeline(pid: str, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "pipeline": {"id": pid},
        "schedule": {"cron": "0 8 * * *", "trigger": {"key": "ready"}},
        "sla": {"deadline": "10:00"},
        "job": JOB,
    }
    data.update(extra)
    return data


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(T0)


@pytest.fixture
def store(tmp_path: Path, clock: VirtualClock) -> Iterator[Store]:
    # TTLs read the virtual clock, so rows written "at T0" are live whatever the wall clock says.
    with open_store(f"sqlite:///{tmp_path}/s.db", now=lambda: clock.now().timestamp()) as opened:
        for data in (
            pipeline("gold-revenue"),
            pipeline("gold-margin"),
            pipeline("no-sla", sla=None, schedule={"trigger": {"key": "ready"}}),
            pipeline("shadow", dryRun=True),
            pipeline("clock-only", schedule={"cron": "0 8 * * *"}),
        ):
            data = {k: v for k, v in data.items() if v is not None}
            opened.control.put_config(validate_config_data(data), now=T0)
        yield opened


@pytest.fixture
def operator(store: Store, clock: VirtualClock) -> Operator:
    return Operator(store, bus=StoreBus(store), clock=clock, actor=ALICE)


def events(store: Store, pid: str) -> list[Event]:
    return store.events.for_pipeline(pid, newest_first=False)


# ------------------------------------------------------------------------------------------ rerun


def test_rerun_writes_the_request_and_an_audited_event(operator: Operator, store: Store) -> None:
    result = operator.rerun("gold-revenue", period="2026-03-01", reason="manual")

    request = store.control.get_rerun_request("gold-revenue", "cron", "2026-03-01")
    assert request is not None
    assert (request.reason, request.by, request.requested_at) == ("manual", ALICE, T0)
    [event] = events(store, "gold-revenue")
    assert event.type is EventType.RERUN_REQUESTED
    assert (event.actor, event.schedule_id, event.date) == (ALICE, "cron", "2026-03-01")
    assert event.detail == {"reason": "manual"}
    assert result == OperatorResult(
        pipeline_id="gold-revenue",
        action="rerun",
        period="2026-03-01",
        message=result.message,
        applied=True,
        event=EventType.RERUN_REQUESTED,
        by=ALICE,
        budget=RerunBudget(0, 2, 0, 1),
    )
    assert "manual budget 1/1 left" in result.message
    assert repr(result).startswith("<OperatorResult rerun gold-revenue 2026-03-01 applied")


def test_rerun_defaults_to_the_latest_fire(operator: Operator, store: Store) -> None:
    result = operator.rerun("gold-revenue")
    assert result.period == "2026-03-02"  # the 08:00 fire before 09:30
    assert store.control.get_rerun_request("gold-revenue", "cron", "2026-03-02") is not None


def test_budget_counts_the_rerun_log(operator: Operator, store: Store) -> None:
    log = store.reruns
    log.record("gold-revenue", "cron", "2026-03-01", reason="data-drift", now=T0)
    log.record("gold-revenue", "cron", "2026-03-01", reason="late-data", now=T0)
    log.record("gold-revenue", "cron", "2026-03-01", reason="manual", now=T0)
    log.record("gold-revenue", "cron", "2026-03-01", reason="backfill", now=T0)
    log.record("gold-revenue", "cron", "2026-02-28", reason="manual", now=T0)

    assert operator.budget("gold-revenue", "2026-03-01") == RerunBudget(2, 2, 1, 1)
    assert operator.budget("gold-revenue", "2026-03-01", reason="backfill") == RerunBudget(
        2, 2, 1, 1, manual_reason="backfill"
    )
    assert operator.budget("gold-revenue", "2026-03-01", reason="other").remaining("other") == 1
    assert operator.budget("gold-revenue", "2026-03-01", reason="late-data").manual_reason == (
        "manual"
    )


def test_rerun_with_a_spent_budget_is_still_requested(operator: Operator, store: Store) -> None:
    store.reruns.record("gold-revenue", "cron", "2026-03-01", reason="manual", now=T0)
    result = operator.rerun("gold-revenue", period="2026-03-01")
    assert result.applied and result.budget is not None
    assert result.budget.remaining("manual") == 0
    assert "RERUN_REJECTED" in result.message
    assert store.control.get_rerun_request("gold-revenue", "cron", "2026-03-01") is not None


def test_unknown_pipeline_names_close_matches(operator: Operator, store: Store) -> None:
    with pytest.raises(OperatorError, match="no pipeline 'gold-revenu' .*did you mean 'gold-rev"):
        operator.rerun("gold-revenu")
    with pytest.raises(OperatorError, match="5 pipelines are stored, e.g. clock-only, gold-margin"):
        operator.is_dry_run("zzz")
    assert events(store, "gold-revenu") == []


def test_unknown_pipeline_in_an_empty_store(tmp_path: Path, clock: VirtualClock) -> None:
    with open_store(f"sqlite:///{tmp_path}/empty.db") as empty:
        op = Operator(empty, bus=StoreBus(empty), clock=clock, actor=ALICE)
        with pytest.raises(OperatorError, match="no pipeline configs are stored yet"):
            op.budget("x")


def test_bad_period_and_reason_write_nothing(operator: Operator, store: Store) -> None:
    with pytest.raises(OperatorError, match="periods are daily"):
        operator.rerun("gold-revenue", period="2026-03-01T08")
    with pytest.raises(OperatorError, match="needs a reason"):
        operator.rerun("gold-revenue", reason=" ")
    with pytest.raises(OperatorError, match="automatic retries"):
        operator.budget("gold-revenue", reason="job-fail-retry")
    assert store.control.get_rerun_request("gold-revenue", "cron", "2026-03-02") is None
    assert events(store, "gold-revenue") == []


# -------------------------------------------------------------------------------------------- ack


def test_ack_for_a_duration(operator: Operator, store: Store, clock: VirtualClock) -> None:
    result = operator.ack(
        "gold-revenue", period="2026-03-02", reason="vendor late", until=timedelta(hours=2)
    )

    ack = store.control.get_ack("gold-revenue", "cron", "2026-03-02", now=T0)
    assert ack is not None
    assert (ack.by, ack.reason, ack.until) == (ALICE, "vendor late", T0 + timedelta(hours=2))
    assert (
        store.control.get_ack("gold-revenue", "cron", "2026-03-02", now=T0 + timedelta(hours=2))
        is None
    )
    [event] = events(store, "gold-revenue")
    assert event.type is EventType.SLA_ACKNOWLEDGED and event.actor == ALICE
    assert event.detail == {"reason": "vendor late", "until": "2026-03-02T11:30:00Z"}
    assert result.applied and result.event is EventType.SLA_ACKNOWLEDGED


def test_ack_until_an_instant_or_for_the_run(operator: Operator, store: Store) -> None:
    operator.ack("gold-revenue", reason="r", until=T0 + timedelta(minutes=5))
    assert store.control.get_ack("gold-revenue", "cron", "2026-03-02", now=T0) is not None
    operator.ack("gold-margin", reason="known", until=None)
    ack = store.control.get_ack("gold-margin", "cron", "2026-03-02", now=T0 + timedelta(days=2))
    assert ack is not None and ack.until is None


def test_ack_refusals(operator: Operator, store: Store) -> None:
    with pytest.raises(OperatorError, match="no-sla has no SLA"):
        operator.ack("no-sla", reason="r")
    with pytest.raises(OperatorError, match="must last"):
        operator.ack("gold-revenue", reason="r", until=timedelta(0))
    with pytest.raises(OperatorError, match="needs a reason"):
        operator.ack("gold-revenue", reason="")
    assert events(store, "gold-revenue") == [] and events(store, "no-sla") == []


# ---------------------------------------------------------------------------------------- dry run


def test_dry_run_on_then_off(operator: Operator, store: Store, clock: VirtualClock) -> None:
    assert operator.is_dry_run("gold-revenue") is False

    on = operator.dry_run("gold-revenue", True, reason="shadowing the new job")
    override = store.control.get_override("gold-revenue", "dry-run")
    assert override is not None
    assert (override.value, override.by, override.reason) == (True, ALICE, "shadowing the new job")
    assert operator.is_dry_run("gold-revenue") is True
    assert on.applied and on.period is None and on.action == "dry-run on"

    clock.advance(timedelta(minutes=1))
    off = operator.dry_run("gold-revenue", False, reason="done")
    assert store.control.get_override("gold-revenue", "dry-run") is None  # config says live
    assert operator.is_dry_run("gold-revenue") is False
    assert off.applied

    switched = events(store, "gold-revenue")
    assert [(e.type, e.actor, e.detail) for e in switched] == [
        (EventType.DRY_RUN_SWITCHED, ALICE, {"dryRun": True, "reason": "shadowing the new job"}),
        (EventType.DRY_RUN_SWITCHED, ALICE, {"dryRun": False, "reason": "done"}),
    ]


def test_dry_run_off_a_pipeline_whose_config_says_dry_run(operator: Operator, store: Store) -> None:
    assert operator.is_dry_run("shadow") is True
    operator.dry_run("shadow", False, reason="go live")
    override = store.control.get_override("shadow", "dry-run")
    assert override is not None and override.value is False
    assert operator.is_dry_run("shadow") is False
    operator.dry_run("shadow", True, reason="back")
    assert store.control.get_override("shadow", "dry-run") is None
    assert operator.is_dry_run("shadow") is True


def test_dry_run_on_needs_a_trigger(operator: Operator, store: Store) -> None:
    with pytest.raises(OperatorError, match="clock-only has no schedule.trigger"):
        operator.dry_run("clock-only", True, reason="shadow")
    assert store.control.get_override("clock-only", "dry-run") is None
    assert not operator.dry_run("clock-only", False, reason="live already").applied


def test_dry_run_to_the_current_state_writes_nothing(operator: Operator, store: Store) -> None:
    result = operator.dry_run("shadow", True, reason="again")
    assert not result.applied and result.event is None
    assert result.message == "shadow is already in dry run"
    assert "no change" in repr(result)
    assert store.control.get_override("shadow", "dry-run") is None
    assert events(store, "shadow") == []


# ------------------------------------------------------------------------------------------ actor


def test_current_actor_prefers_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ACTOR_ENV, "  oncall-bot ")
    assert current_actor() == "oncall-bot"
    monkeypatch.delenv(ACTOR_ENV)
    user, at, host = current_actor().partition("@")
    assert user and at == "@" and host


def test_operator_defaults_to_the_current_actor(
    store: Store, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ACTOR_ENV, "bob")
    op = Operator(store, bus=StoreBus(store), clock=clock)
    assert op.actor == "bob" and "bob" in repr(op)
    op.rerun("gold-revenue")
    [event] = events(store, "gold-revenue")
    assert event.actor == "bob"
