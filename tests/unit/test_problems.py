"""``interlock.problems.period_sla``: one period's SLA state, computed from the schedule and the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from interlock.config.models import PipelineConfig
from interlock.problems import SLA_STATES, period_sla
from interlock.schedule import Period

DAY = datetime(2026, 3, 2, tzinfo=UTC)
PERIOD = Period.parse("2026-03-02")


def _config(sla: dict[str, str] | None, **schedule: object) -> PipelineConfig:
    doc: dict[str, object] = {
        "pipeline": {"id": "p"},
        "schedule": schedule or {"cron": "0 6 * * *"},
        "job": {"type": "command", "config": {"command": "true"}},
    }
    if sla is not None:
        doc["sla"] = sla
    return PipelineConfig.model_validate(doc)


ABSOLUTE = _config({"deadline": "08:00", "expectedDuration": "30m"})


@pytest.mark.parametrize(
    ("hour", "minute", "state", "text"),
    [
        (7, 0, "ok", "warn in 30m"),
        (7, 45, "warning", "breach in 15m"),
        (8, 0, "breached", "BREACHED 08:00"),
    ],
)
def test_undelivered_period_by_the_clock(hour: int, minute: int, state: str, text: str) -> None:
    now = DAY.replace(hour=hour, minute=minute)
    judged = period_sla(ABSOLUTE, PERIOD, now)
    assert (judged.state, judged.text(now)) == (state, text)
    assert judged.breach_at == DAY.replace(hour=8)
    assert judged.warning_at == DAY.replace(hour=7, minute=30)
    assert judged.needs_action is (state != "ok")


def test_delivery_gives_a_verdict_whatever_the_clock() -> None:
    now = DAY.replace(hour=12)
    met = period_sla(ABSOLUTE, PERIOD, now, delivered_at=DAY.replace(hour=7, minute=59))
    missed = period_sla(ABSOLUTE, PERIOD, now, delivered_at=DAY.replace(hour=8))
    assert (met.state, met.text(now), met.alarming) == ("met", "met", False)
    assert (missed.state, missed.text(now), missed.failing) == ("missed", "missed 08:00", True)
    assert "after the deadline 08:00 UTC" in missed.reason


def test_an_ack_keeps_the_state_but_not_the_alarm() -> None:
    now = DAY.replace(hour=9)
    judged = period_sla(ABSOLUTE, PERIOD, now, acknowledged=True)
    assert (judged.state, judged.alarming, judged.needs_action) == ("breached", True, False)
    assert "acknowledged" in repr(judged)


def test_a_deadline_before_interlock_watched_is_unwatched_not_breached() -> None:
    now = DAY.replace(hour=9)
    judged = period_sla(ABSOLUTE, PERIOD, now, watched_since=DAY.replace(hour=8, minute=30))
    assert (judged.state, judged.text(now), judged.needs_action) == (
        "unwatched",
        "not watched",
        False,
    )
    assert "config first stored 2026-03-02 08:30 UTC" in judged.reason
    # watched in time: judged
    assert period_sla(ABSOLUTE, PERIOD, now, watched_since=DAY).state == "breached"


def test_nothing_to_judge_says_why() -> None:
    now = DAY.replace(hour=9)
    none = period_sla(_config(None), PERIOD, now)
    assert (none.state, none.text(now), none.reason) == ("none", "—", "no SLA configured")
    relative = _config({"maxDuration": "2h"}, trigger={"key": "upstream", "check": "exists"})
    waiting = period_sla(relative, PERIOD, now)
    assert waiting.state == "none" and "first trigger sensor" in waiting.reason
    started = period_sla(relative, PERIOD, now, arrived_at=DAY.replace(hour=8))
    assert (started.state, started.breach_at) == ("ok", DAY.replace(hour=10))
    assert (
        "maxDuration breach 10:00 UTC"
        in period_sla(relative, PERIOD, DAY.replace(hour=11), arrived_at=DAY.replace(hour=8)).reason
    )
    hourly = period_sla(_config({"deadline": ":30"}, cron="0 * * * *"), PERIOD, now)
    assert hourly.state == "none" and hourly.reason.startswith("SLA not computable:")


def test_states_are_listed() -> None:
    assert SLA_STATES[0] == "none" and "unwatched" in SLA_STATES and len(set(SLA_STATES)) == 7
    assert (
        period_sla(ABSOLUTE, PERIOD, DAY, delivered_at=DAY).text(DAY + timedelta(hours=1)) == "met"
    )
