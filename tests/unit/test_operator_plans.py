"""The pure operator plans: exact actions, refused inputs, budget arithmetic and the dry-run rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from interlock.config.loader import validate_config_data
from interlock.events import CATALOGUE, EventType
from interlock.exceptions import ScheduleError
from interlock.lifecycle.actions import PublishEvent, SetOverride, WriteAck, WriteRerunRequest
from interlock.lifecycle.operator import (
    OperatorError,
    RerunBudget,
    check_period,
    current_period,
    effective_dry_run,
    plan_ack,
    plan_dry_run,
    plan_rerun,
    rerun_budget,
)
from interlock.lifecycle.reruns import budget_for
from interlock.records import budget_bucket

if TYPE_CHECKING:
    from interlock.config.models import PipelineConfig

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
BY = "alice@ops"
JOB: dict[str, Any] = {"type": "command", "config": {"command": ["true"]}}


def config(**extra: Any) -> PipelineConfig:
    data: dict[str, Any] = {
        "pipeline": {"id": "orders"},
        "schedule": {"trigger": {"key": "ready"}},
        "job": JOB,
    }
    data.update(extra)
    return validate_config_data(data)


def cron(expr: str, tz: str = "UTC", **extra: Any) -> PipelineConfig:
    return config(schedule={"cron": expr, "timezone": tz}, **extra)


BUDGET = RerunBudget(drift_used=0, drift_max=2, manual_used=0, manual_max=1)

# ------------------------------------------------------------------------------------------ budget


def test_budget_shares_the_drift_bucket_and_counts_manual_apart() -> None:
    budget = RerunBudget(drift_used=1, drift_max=2, manual_used=1, manual_max=1)
    assert budget.remaining("data-drift") == 1
    assert budget.remaining("late-data") == 1
    assert budget.remaining("manual") == 0
    assert budget.maximum("late-data") == 2 and budget.maximum("manual") == 1
    assert repr(budget) == "<RerunBudget drift 1/2 left · manual 0/1 left>"


def test_budget_never_goes_negative_and_names_its_reason() -> None:
    budget = RerunBudget(3, 2, 5, 1, manual_reason="backfill")
    assert budget.remaining("data-drift") == 0
    assert budget.remaining("backfill") == 0
    assert str(budget) == "drift 0/2 left · backfill 0/1 left"


def test_budget_refuses_a_reason_it_did_not_count() -> None:
    with pytest.raises(ValueError, match="counted 'manual' reruns, not 'backfill'"):
        BUDGET.remaining("backfill")
    with pytest.raises(ValueError, match="not 'backfill'"):
        BUDGET.maximum("backfill")


def test_rerun_budget_counts_rows_with_the_routers_buckets() -> None:
    job = dict(JOB, maxDriftReruns=3, maxManualReruns=2)
    pipeline = config(job=job)
    rows = ["data-drift", "late-data", "manual", "job-fail-retry", "backfill", "manual"]
    budget = rerun_budget(pipeline, rows)
    assert (budget.drift_used, budget.drift_max) == (2, 3)
    assert (budget.manual_used, budget.manual_max, budget.manual_reason) == (2, 2, "manual")
    assert budget.remaining("late-data") == 1 and budget.remaining("manual") == 0
    backfill = rerun_budget(pipeline, rows, "backfill")
    assert (backfill.manual_used, backfill.manual_reason) == (1, "backfill")
    # A drift reason counts its manual side as "manual"; job-fail-retry rows count in neither.
    assert rerun_budget(pipeline, rows, "late-data").manual_reason == "manual"
    assert rerun_budget(pipeline, ["job-fail-retry"] * 4) == rerun_budget(pipeline, [])
    # The router's own count (decide_rerun's `used` and budget) agrees for every reason.
    for reason in ("data-drift", "late-data", "manual", "backfill"):
        used = sum(1 for r in rows if r in budget_bucket(reason))
        size, _ = budget_for(pipeline, reason)
        assert rerun_budget(pipeline, rows, reason).remaining(reason) == max(0, size - used)


# ------------------------------------------------------------------------------------------ period


def test_current_period_of_a_daily_cron_is_the_latest_fire() -> None:
    # 08:00 UTC fired today at 09:30; at 07:00 the latest fire was yesterday's.
    assert current_period(cron("0 8 * * *"), NOW) == "2026-03-02"
    assert current_period(cron("0 8 * * *"), NOW.replace(hour=7)) == "2026-03-01"


def test_current_period_of_an_hourly_cron_is_local() -> None:
    assert current_period(cron("5 * * * *", "Europe/Berlin"), NOW) == "2026-03-02T10"


def test_current_period_of_a_sensor_pipeline_is_the_local_date() -> None:
    late = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    assert current_period(config(), late) == "2026-03-02"
    tokyo = config(schedule={"trigger": {"key": "ready"}, "timezone": "Asia/Tokyo"})
    assert current_period(tokyo, late) == "2026-03-03"


def test_current_period_of_a_sensor_pipeline_is_hourly_with_an_hourly_sla() -> None:
    hourly = config(sla={"deadline": ":15"})
    assert current_period(hourly, NOW) == "2026-03-02T09"
    assert current_period(config(), NOW, hourly=True) == "2026-03-02T09"
    assert current_period(hourly, NOW, hourly=False) == "2026-03-02"


def test_current_period_follows_the_trigger_sensors_latest_write() -> None:
    hourly = config(sla={"deadline": ":45"})
    written = {"other": {"date": "2026-02-01"}, "ready#b": {"date": "2026-02-27", "hour": "7"}}
    assert current_period(hourly, NOW, sensors=written) == "2026-02-27T07"
    # No trigger row: the config's rule (here hourly from the SLA), as without sensors.
    assert current_period(hourly, NOW, sensors={"other": {}}) == "2026-03-02T09"
    assert current_period(cron("0 8 * * *"), NOW, sensors=written) == "2026-03-02"


def test_current_period_refuses_an_unusable_trigger_write() -> None:
    with pytest.raises(ScheduleError, match="no 'date'"):
        current_period(config(), NOW, sensors={"ready": {"hour": "7"}})


def test_current_period_needs_an_aware_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        current_period(config(), datetime(2026, 3, 2, 9))  # noqa: DTZ001 - the point of the test


def test_check_period_refuses_malformed_and_mis_shaped_periods() -> None:
    assert check_period(config(), "2026-03-02T07", NOW) == "2026-03-02T07"
    with pytest.raises(OperatorError, match="not a period"):
        check_period(config(), "2026-3-2", NOW)
    with pytest.raises(OperatorError, match="no such date"):
        check_period(config(), "2026-02-30", NOW)
    with pytest.raises(OperatorError, match=r"periods are daily \(YYYY-MM-DD\)"):
        check_period(cron("0 8 * * *"), "2026-03-02T08", NOW)
    with pytest.raises(OperatorError, match=r"periods are hourly"):
        check_period(cron("0 * * * *"), "2026-03-02", NOW)


# ------------------------------------------------------------------------------------------- rerun


def test_plan_rerun_writes_the_request_and_publishes_it() -> None:
    decision = plan_rerun(
        cron("0 8 * * *"), period="2026-03-01", reason=" manual ", by=BY, now=NOW, budget=BUDGET
    )
    assert decision.actions == (
        WriteRerunRequest("orders", "cron", "2026-03-01", "manual", NOW, by=BY),
        PublishEvent(
            EventType.RERUN_REQUESTED,
            "orders",
            "cron",
            "2026-03-01",
            "alice@ops asked for a rerun of orders 2026-03-01 (manual)",
            NOW,
            detail={"reason": "manual"},
            actor=BY,
        ),
    )
    assert dict(decision.output) == {
        "pipelineId": "orders",
        "scheduleId": "cron",
        "period": "2026-03-01",
        "reason": "manual",
        "budgetLeft": 1,
        "budgetMax": 1,
    }
    assert "manual budget 1/1 left" in decision.reason


def test_plan_rerun_detail_uses_only_catalogued_fields() -> None:
    decision = plan_rerun(
        config(), period="2026-03-02", reason="late-data", by=BY, now=NOW, budget=BUDGET
    )
    event = decision.actions[1]
    assert isinstance(event, PublishEvent)
    assert set(event.detail) <= set(CATALOGUE[event.type].detail_fields)
    assert decision.output["budgetLeft"] == 2  # the shared drift budget


def test_plan_rerun_with_a_spent_budget_still_requests_and_says_it_will_be_rejected() -> None:
    spent = RerunBudget(drift_used=2, drift_max=2, manual_used=0, manual_max=1)
    decision = plan_rerun(
        config(), period="2026-03-02", reason="data-drift", by=BY, now=NOW, budget=spent
    )
    assert [type(a) for a in decision.actions] == [WriteRerunRequest, PublishEvent]
    assert decision.output["budgetLeft"] == 0
    assert "drift rerun budget of orders 2026-03-02 is spent (0/2 left)" in decision.reason
    assert "RERUN_REJECTED" in decision.reason


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"reason": "  "}, "needs a reason"),
        ({"reason": "job-fail-retry"}, "automatic retries"),
        ({"period": "yesterday"}, "not a period"),
        ({"by": ""}, "needs an actor"),
    ],
)
def test_plan_rerun_refuses(kwargs: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {"period": "2026-03-02", "reason": "manual", "by": BY}
    args.update(kwargs)
    with pytest.raises(OperatorError, match=match):
        plan_rerun(config(), now=NOW, budget=BUDGET, **args)


# --------------------------------------------------------------------------------------------- ack


def test_plan_ack_writes_the_ack_and_publishes_it() -> None:
    until = NOW + timedelta(hours=2)
    decision = plan_ack(
        cron("0 8 * * *", sla={"deadline": "10:00"}),
        period="2026-03-02",
        by=BY,
        reason="vendor late",
        until=until,
        now=NOW,
    )
    assert decision.actions == (
        WriteAck("orders", "cron", "2026-03-02", BY, "vendor late", until, NOW),
        PublishEvent(
            EventType.SLA_ACKNOWLEDGED,
            "orders",
            "cron",
            "2026-03-02",
            "alice@ops acknowledged the SLA of orders 2026-03-02 until 2026-03-02T11:30:00Z: "
            "vendor late",
            NOW,
            detail={"reason": "vendor late", "until": "2026-03-02T11:30:00Z"},
            actor=BY,
        ),
    )
    assert decision.output["until"] == "2026-03-02T11:30:00Z"


def test_plan_ack_without_until_lasts_the_run() -> None:
    decision = plan_ack(
        config(sla={"deadline": "10:00"}),
        period="2026-03-02",
        by=BY,
        reason="known",
        until=None,
        now=NOW,
    )
    ack, event = decision.actions
    assert isinstance(ack, WriteAck) and ack.until is None
    assert isinstance(event, PublishEvent) and event.detail == {"reason": "known", "until": None}
    assert decision.reason.endswith("for the rest of the run")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"until": NOW}, "is not after now"),
        ({"until": NOW - timedelta(minutes=1)}, "must last"),
        ({"until": datetime(2026, 3, 3)}, "no time zone"),  # noqa: DTZ001 - the point of the test
        ({"reason": ""}, "acknowledgement needs a reason"),
        ({"period": "2026-13-01"}, "no such date"),
    ],
)
def test_plan_ack_refuses(kwargs: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {"period": "2026-03-02", "reason": "r", "until": None}
    args.update(kwargs)
    with pytest.raises(OperatorError, match=match):
        plan_ack(config(sla={"deadline": "10:00"}), by=BY, now=NOW, **args)


def test_plan_ack_refuses_a_pipeline_without_an_sla() -> None:
    with pytest.raises(OperatorError, match="orders has no SLA .*nothing|no SLA alerts"):
        plan_ack(config(), period="2026-03-02", by=BY, reason="r", until=None, now=NOW)


# ----------------------------------------------------------------------------------------- dry run


@pytest.mark.parametrize(
    ("yaml_dry_run", "on", "value"),
    [(False, True, True), (False, False, None), (True, False, False), (True, True, None)],
)
def test_plan_dry_run_writes_the_override_only_where_it_differs_from_the_config(
    yaml_dry_run: bool, on: bool, value: bool | None
) -> None:
    decision = plan_dry_run(
        config(dryRun=yaml_dry_run), on, by=BY, reason="shadow", now=NOW, current=not on
    )
    assert decision.actions == (
        SetOverride("orders", "dry-run", value, BY, "shadow", NOW),
        PublishEvent(
            EventType.DRY_RUN_SWITCHED,
            "orders",
            None,
            None,
            f"alice@ops switched orders {'into' if on else 'out of'} dry run: shadow",
            NOW,
            detail={"dryRun": on, "reason": "shadow"},
            actor=BY,
        ),
    )
    assert dict(decision.output) == {"pipelineId": "orders", "dryRun": on, "changed": True}
    # and the override, read back, gives the state asked for
    assert effective_dry_run(config(dryRun=yaml_dry_run), value) is on


@pytest.mark.parametrize(("on", "said"), [(True, "already in dry run"), (False, "already live")])
def test_plan_dry_run_to_the_current_state_does_nothing(on: bool, said: str) -> None:
    decision = plan_dry_run(config(), on, by=BY, reason="x", now=NOW, current=on)
    assert decision.actions == ()
    assert said in decision.reason
    assert decision.output["changed"] is False


def test_plan_dry_run_refuses_an_empty_reason() -> None:
    with pytest.raises(OperatorError, match="dry-run switch needs a reason"):
        plan_dry_run(config(), True, by=BY, reason="", now=NOW, current=False)


def test_plan_dry_run_on_refuses_a_pipeline_without_a_trigger() -> None:
    with pytest.raises(OperatorError, match="orders has no schedule.trigger"):
        plan_dry_run(cron("0 8 * * *"), True, by=BY, reason="x", now=NOW, current=False)


def test_effective_dry_run_override_wins_and_odd_values_fail_safe() -> None:
    assert effective_dry_run(config(), None) is False
    assert effective_dry_run(config(dryRun=True), None) is True
    assert effective_dry_run(config(dryRun=True), False) is False
    assert effective_dry_run(config(), True) is True
    assert effective_dry_run(config(), "no") is True  # not ours: observe rather than trigger
