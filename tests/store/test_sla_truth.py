"""Every face tells the same SLA truth (issue 13 item 1): the board, ``status()``, ``period_sla()``,
``explain()`` and ``interlock explain`` judge a period with one function over the store's runs and acks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from interlock.api import Interlock
from interlock.cli import main
from interlock.config.models import PipelineConfig
from interlock.ports import VirtualClock
from interlock.records import RunStatus

if TYPE_CHECKING:
    from pathlib import Path

DAY = datetime(2026, 3, 2, tzinfo=UTC)
CONFIG = PipelineConfig.model_validate(
    {
        "pipeline": {"id": "daily-report"},
        "schedule": {"cron": "0 6 * * *"},
        "sla": {"deadline": "08:00", "expectedDuration": "30m"},
        "job": {"type": "command", "config": {"command": "true"}},
    }
)


def _explain_json(url: str, at: datetime, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    capsys.readouterr()
    main(["explain", "daily-report", "--store", url, "--json", "--at", at.isoformat()])
    doc = json.loads(capsys.readouterr().out)
    sla = doc["sla"]
    assert isinstance(sla, dict)
    return sla


@pytest.mark.parametrize(
    ("pushed_at", "state", "problem", "text"),
    [
        # pushed before the deadline: the period's data never came, the deadline passed: breached
        (DAY.replace(hour=5), "breached", True, "BREACHED 08:00"),
        # pushed after it: Interlock never watched that deadline, and every face says so
        (DAY.replace(hour=9), "unwatched", False, "not watched"),
    ],
)
def test_a_deadline_that_passed_with_no_run_is_judged_alike_by_every_face(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    pushed_at: datetime,
    state: str,
    problem: bool,
    text: str,
) -> None:
    # GIVEN a daily pipeline (cron 06:00, SLA 08:00) pushed at `pushed_at`, and no run today
    url = f"sqlite:///{tmp_path}/w.db"
    now = DAY.replace(hour=9, minute=30)
    clock = VirtualClock(now)
    with Interlock.local(url, clock=clock) as il:
        il.store.control.put_config(CONFIG, now=pushed_at)
        # WHEN each face is asked at 09:30
        board_row = il.board()[0]
        status = il.status("daily-report")
        judged = il.period_sla("daily-report")
        explanation = il.explain("daily-report")
    cli = _explain_json(url, now, capsys)
    # THEN they all agree on the state, and say why
    assert judged.period == "2026-03-02"
    assert judged.state == state
    assert board_row.sla.status == status.sla.status == state
    assert board_row.sla.text == text
    assert board_row.problem is problem
    assert explanation.sla_state == judged
    assert (cli["state"], cli["period"], cli["reason"]) == (state, "2026-03-02", judged.reason)
    assert judged.reason and judged.reason in repr(explanation)
    main(["explain", "daily-report", "--store", url, "--at", now.isoformat()])
    assert state in capsys.readouterr().out


def test_a_failed_run_is_judged_on_the_data_and_an_ack_quietens_it(tmp_path: Path) -> None:
    # GIVEN the pipeline pushed the day before, and today's run failed at 07:10
    clock = VirtualClock(DAY.replace(hour=7, minute=40))
    with Interlock.local(tmp_path / "w.db", clock=clock, actor="oncall") as il:
        control = il.store.control
        control.put_config(CONFIG, now=DAY - timedelta(days=1))
        control.acquire_run(
            "daily-report",
            "cron",
            "2026-03-02",
            now=DAY.replace(hour=6),
            lock_ttl=timedelta(hours=2),
        )
        control.set_run_status(
            "daily-report",
            "cron",
            "2026-03-02",
            RunStatus.FAILED_FINAL,
            now=DAY.replace(hour=7, minute=10),
        )
        # THEN at 07:40 it is a warning (no data yet), at 08:01 breached, although the run "ended"
        assert il.period_sla("daily-report").state == "warning"
        clock.set(DAY.replace(hour=8, minute=1))
        judged = il.period_sla("daily-report")
        assert (judged.state, judged.acknowledged, judged.needs_action) == ("breached", False, True)
        assert "no successful run by the deadline 08:00 UTC" == judged.reason
        # WHEN on-call acknowledges it
        il.ack("daily-report", reason="upstream outage", until=timedelta(hours=4))
        judged = il.period_sla("daily-report")
        # THEN it is still breached, but acknowledged: it no longer needs action
        assert (judged.state, judged.acknowledged, judged.needs_action) == ("breached", True, False)
        assert il.status("daily-report").sla.acknowledged
        # WHEN a rerun succeeds at 09:00: missed (delivered after the deadline)
        control.reset_run(
            "daily-report",
            "cron",
            "2026-03-02",
            now=DAY.replace(hour=8, minute=30),
            lock_ttl=timedelta(hours=2),
        )
        control.set_run_status(
            "daily-report", "cron", "2026-03-02", RunStatus.COMPLETED, now=DAY.replace(hour=9)
        )
        clock.set(DAY.replace(hour=9, minute=5))
        assert il.period_sla("daily-report").state == "missed"
        assert il.period_sla("daily-report", "2026-03-01").state == "breached"


def test_the_board_looks_back_a_week_for_open_periods(tmp_path: Path) -> None:
    from interlock.api import LOOKBACK

    # GIVEN failed runs 6 and 8 days ago, and yesterday's and today's runs succeeded in time
    now = DAY.replace(hour=9)
    clock = VirtualClock(now)
    with Interlock.local(tmp_path / "w.db", clock=clock) as il:
        control = il.store.control
        control.put_config(CONFIG, now=DAY - timedelta(days=30))
        for days, status in (
            (8, RunStatus.FAILED_FINAL),
            (6, RunStatus.FAILED_FINAL),
            (1, RunStatus.COMPLETED),
            (0, RunStatus.COMPLETED),
        ):
            period = (DAY - timedelta(days=days)).date().isoformat()
            start = DAY - timedelta(days=days) + timedelta(hours=6)
            clock.set(start)  # the store's TTLs follow the clock
            control.acquire_run(
                "daily-report", "cron", period, now=start, lock_ttl=timedelta(hours=2)
            )
            control.set_run_status(
                "daily-report", "cron", period, status, now=start + timedelta(minutes=20)
            )
        # WHEN the board is read
        clock.set(now)
        row = il.status("daily-report")
        # THEN the failure within the week shows (the older one only in the run history)
        assert LOOKBACK == timedelta(days=7)
        assert (row.period, row.state, row.sla.status) == ("2026-02-24", "failed", "breached")
        assert row.open_periods == ("2026-02-24",)
        assert row.note == "newest period 2026-03-02: succeeded"
        assert [s.pipeline_id for s in il.board().problems] == ["daily-report"]
        assert il.runs("daily-report")[-1].period == "2026-02-22"
