"""Issue 13 item 1 as whole days on the embedded runtime: the board never hides a problem.

A failed or breached period stays on its pipeline's row after the next period starts, until it is
resolved (its rerun succeeds) or acknowledged; and an SLA is about the data, not the run: a job that
outlives its poll window still gets SLA_WARNING and SLA_BREACH at their times.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from interlock.api import Interlock
from interlock.cli import main
from interlock.ports import VirtualClock
from tests.scenarios.harness import at, board_at, jobs, pipeline, sensor, types, world

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

PID = "orders"


def _hourly() -> dict[str, Any]:
    """An hourly cron pipeline whose hour H is due at H+1:45 (warning 15 minutes before)."""
    return pipeline(
        schedule={"cron": "0 * * * *", "trigger": None},
        sla={"deadline": ":45", "expectedDuration": "15m"},
    )


def _hour_03_fails(url: str, *extra: dict[str, Any]) -> list[Any]:
    # hour 03's job fails (permanently); from 03:30 on every job succeeds
    return world(
        [_hourly()],
        [
            sensor(at(2, 30), "orders-count", count=12),
            jobs(at(2, 30), outcome="fail-permanent"),
            jobs(at(3, 30), outcome="success"),
            *extra,
        ],
        start=at(2, 30),
        end=at(5, 20),
        store_url=url,
    )


def test_a_failed_and_breached_hour_stays_on_the_board_after_the_next_hour_succeeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/day.db"
    events = _hour_03_fails(url)
    failed = {e.date for e in events if e.type.value == "JOB_FAILED"}  # a code retry fails too
    assert failed == {"2026-03-04T03"}
    assert [e.date for e in events if e.type.value == "SLA_BREACH"] == ["2026-03-04T03"]

    # WHEN the board is read at 05:20 (hours 04 and 05 succeeded)
    row = board_at(url, at(5, 20))[PID]

    # THEN the row shows hour 03, failed and breached: still a problem
    assert (row.period, row.state, row.sla.status) == ("2026-03-04T03", "failed", "breached")
    assert row.sla.text == "BREACHED 04:45"
    assert row.problem and row.open_periods == ("2026-03-04T03",)
    assert row.note == "newest period 2026-03-04T05: succeeded"
    # and `interlock explain`, about the current hour, says the older one is still open
    capsys.readouterr()
    main(["explain", PID, "--store", url, "--at", "2026-03-04T05:20:00Z", "--json"])
    assert json.loads(capsys.readouterr().out)["openPeriods"] == ["2026-03-04T03"]
    main(["explain", PID, "--store", url, "--at", "2026-03-04T05:20:00Z"])
    assert "still open: 2026-03-04T03" in capsys.readouterr().out
    with Interlock.local(url, clock=VirtualClock(at(5, 20))) as il:
        assert "still open: 2026-03-04T03" in repr(il.explain(PID))

    # WHEN on-call acknowledges hour 03
    with Interlock.local(url, clock=VirtualClock(at(5, 21)), actor="oncall") as il:
        il.ack(PID, "2026-03-04T03", reason="upstream outage, backfilled by hand")
        row = il.status(PID)
        board = il.board()
    # THEN the row is back to the newest hour, and the board has no problem
    assert (row.period, row.state, row.sla.status) == ("2026-03-04T05", "succeeded", "met")
    assert not row.problem and row.open_periods == ()
    assert board.problems == []


def test_a_failed_hour_is_resolved_by_a_rerun_that_succeeds(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/day.db"
    rerun = {"at": "2026-03-04T05:00:00Z", "rerun": {"pipeline": PID, "date": "2026-03-04T03"}}
    events = _hour_03_fails(url, rerun)
    assert "RERUN_REQUESTED" in types(events)

    row = board_at(url, at(5, 20))[PID]

    # hour 03 delivered late (missed, not open any more): the row shows the newest hour
    assert row.open_periods == ()
    assert (row.period, row.state) == ("2026-03-04T05", "succeeded")
    with Interlock.local(url, clock=VirtualClock(at(5, 20))) as il:
        assert il.period_sla(PID, "2026-03-04T03").state == "missed"


def test_an_older_breach_with_no_run_at_all_stays_until_acknowledged(tmp_path: Path) -> None:
    # a daily cron pipeline (06:00, due 08:00) whose rules never pass: no run on the 4th
    url = f"sqlite:///{tmp_path}/day.db"
    cfg = pipeline(schedule={"cron": "0 6 * * *", "trigger": None}, sla={"deadline": "08:00"})
    cfg["schedule"]["evaluation"] = {"window": "30m", "interval": "5m"}
    events = world([cfg], [], start=at(0), end=at(30), store_url=url)
    assert [e.date for e in events if e.type.value == "SLA_BREACH"][:1] == ["2026-03-04"]

    # on the 5th at 06:10 the current period is the 5th; the 4th is still breached and unresolved
    row = board_at(url, at(30))[PID]
    assert (row.period, row.sla.status) == ("2026-03-04", "breached")
    assert row.problem and "2026-03-04" in row.open_periods


# --------------------------------------------------------------------------- poll window and SLA


def test_a_job_that_outlives_its_poll_window_still_warns_and_breaches(tmp_path: Path) -> None:
    # a 3-hour job, a 1-hour poll window, a 08:00 deadline (warning 07:30): the poll gives up at
    # 07:00, and the deadline is about the data, so both SLA alerts still come at their times
    url = f"sqlite:///{tmp_path}/day.db"
    cfg = pipeline(
        schedule={"cron": "0 6 * * *", "trigger": None},
        sla={"deadline": "08:00", "expectedDuration": "30m"},
    )
    cfg["job"] = {"type": "command", "config": {"command": "true"}, "jobPollWindowSeconds": 3600}
    events = world(
        [cfg],
        [sensor(at(5), "orders-count", count=12), jobs(at(5), duration="3h")],
        start=at(5),
        end=at(10),
        store_url=url,
    )
    sla = [(e.type.value, e.timestamp) for e in events if e.type.value.startswith("SLA_")]
    assert "JOB_POLL_EXHAUSTED" in types(events)
    exhausted = next(e for e in events if e.type.value == "JOB_POLL_EXHAUSTED")
    assert exhausted.timestamp < at(7, 30)
    assert sla == [("SLA_WARNING", at(7, 30)), ("SLA_BREACH", at(8))]
    row = board_at(url, at(9))[PID]
    assert (row.period, row.state, row.sla.status) == ("2026-03-04", "failed", "breached")
    assert row.problem


def test_a_sensor_run_that_outlives_its_poll_window_breaches_its_relative_sla() -> None:
    cfg = pipeline(sla={"maxDuration": "2h", "expectedDuration": "30m"})
    cfg["job"] = {"type": "command", "config": {"command": "true"}, "jobPollWindowSeconds": 3600}
    events = world(
        [cfg],
        [
            jobs(at(9), duration="3h"),
            sensor(at(9), "orders-count", count=12),
            sensor(at(9, 1), "orders-landed", status="ready"),
        ],
        end=at(13),
    )
    assert "JOB_POLL_EXHAUSTED" in types(events)
    sla = [(e.type.value, e.timestamp) for e in events if "SLA_" in e.type.value]
    assert sla == [("RELATIVE_SLA_WARNING", at(10, 31)), ("RELATIVE_SLA_BREACH", at(11, 1))]
