"""``interlock.lifecycle.trigger.decide_trigger_write``: one decision for start / late data / post-run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from interlock.config.models import PipelineConfig
from interlock.events import EventType
from interlock.lifecycle import PublishEvent, SensorWrite, StartExecution
from interlock.lifecycle.actions import WriteRerunRequest
from interlock.lifecycle.trigger import TriggerFacts, decide_trigger_write
from interlock.records import JobEntry, JobEvent, RunRow, RunStatus

NOW = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
DONE = NOW - timedelta(hours=1)
PERIOD = "2026-03-04"


def config(post_run: bool = False) -> PipelineConfig:
    raw: dict[str, Any] = {
        "pipeline": {"id": "orders"},
        "schedule": {
            "trigger": {"key": "orders", "check": "equals", "field": "status", "value": "ready"}
        },
        "job": {"type": "command", "config": {"command": "true"}, "maxDriftReruns": 2},
    }
    if post_run:
        raw["postRun"] = {
            "driftField": "count",
            "driftThreshold": 5,
            "rules": [{"key": "orders", "check": "exists", "field": "count"}],
        }
    return PipelineConfig.model_validate(raw)


def write(count: int = 100) -> SensorWrite:
    fields = {"status": "ready", "date": PERIOD, "count": count}
    return SensorWrite("orders", "orders-landed", fields, "100", updated_at=NOW)


def completed() -> RunRow:
    return RunRow("orders", "stream", PERIOD, RunStatus.COMPLETED, 1, DONE, DONE, DONE)


SUCCESS = JobEntry(JobEvent.SUCCESS.value, DONE)


def decide(cfg: PipelineConfig, facts: TriggerFacts, count: int = 100) -> Any:
    choice = decide_trigger_write(cfg, write(count), facts, now=NOW, calendars={})
    return choice.path, choice.decision


def test_no_run_yet_starts() -> None:
    path, decision = decide(config(), TriggerFacts(dry_run=False))
    assert path == "start" and decision.next == "start"
    assert any(isinstance(a, StartExecution) for a in decision.actions)


def test_dry_run_observes_whatever_the_run_row() -> None:
    path, decision = decide(config(), TriggerFacts(dry_run=True, run_row=completed()))
    assert path == "dry-run" and decision.actions == ()


def test_a_completed_run_gets_late_data() -> None:
    facts = TriggerFacts(dry_run=False, run_row=completed(), latest_job=SUCCESS)
    path, decision = decide(config(), facts)
    assert path == "late-data"
    events = [a.type for a in decision.actions if isinstance(a, PublishEvent)]
    assert events == [EventType.LATE_DATA_ARRIVAL]


def test_a_running_run_gets_nothing_with_a_reason() -> None:
    running = RunRow("orders", "stream", PERIOD, RunStatus.RUNNING, 1, DONE)
    path, decision = decide(config(), TriggerFacts(dry_run=False, run_row=running))
    assert (path, decision.actions) == ("late-data", ())
    assert "not completed" in decision.reason


def test_only_the_record_that_started_the_running_run_resumes_it() -> None:
    # the row keeps the SequenceNumber of the record that acquired it ("100" is write()'s)
    mine = RunRow("orders", "stream", PERIOD, RunStatus.RUNNING, 1, DONE, start_record="100")
    path, decision = decide(config(), TriggerFacts(dry_run=False, run_row=mine))
    assert (path, decision.next, decision.actions) == ("resume", "resume", ())
    assert "delivered again" in decision.reason
    # a later write (another record), or a row no record started (cron, a reset, the original's)
    for row in (
        RunRow("orders", "stream", PERIOD, RunStatus.RUNNING, 1, DONE, start_record="99"),
        RunRow("orders", "stream", PERIOD, RunStatus.RUNNING, 2, DONE),
    ):
        path, decision = decide(config(), TriggerFacts(dry_run=False, run_row=row))
        assert (path, decision.actions) == ("late-data", ())
    # once the run is over, its own record delivered again is a replay: nothing (not a resume)
    done = RunRow("orders", "stream", PERIOD, RunStatus.COMPLETED, 1, DONE, start_record="100")
    assert decide(config(), TriggerFacts(dry_run=False, run_row=done))[0] == "late-data"


def test_a_post_run_key_with_a_baseline_goes_the_post_run_way() -> None:
    baseline = {"orders": {"count": 100, "status": "ready"}}
    facts = TriggerFacts(
        dry_run=False, run_row=completed(), latest_job=SUCCESS, baseline=baseline, sensors={}
    )
    path, small = decide(config(post_run=True), facts, count=102)
    assert path == "post-run"
    assert not any(isinstance(a, WriteRerunRequest) for a in small.actions)
    path, drift = decide(config(post_run=True), facts, count=130)
    assert (path, drift.next) == ("post-run", "drift")
    assert any(isinstance(a, WriteRerunRequest) for a in drift.actions)
    # Without a baseline the same key is late data.
    no_baseline = TriggerFacts(dry_run=False, run_row=completed(), latest_job=SUCCESS)
    assert decide(config(post_run=True), no_baseline)[0] == "late-data"


def test_an_unusable_write_is_other_with_a_reason() -> None:
    bad = SensorWrite("orders", "orders-landed", {"status": "ready", "hour": "7"}, "1")
    choice = decide_trigger_write(config(), bad, TriggerFacts(dry_run=False), now=NOW, calendars={})
    assert choice.path == "other"
    assert "no 'date'" in choice.decision.output["invalid"]
    events = [a.type for a in choice.decision.actions if isinstance(a, PublishEvent)]
    assert events == [EventType.SENSOR_INVALID]


# ------------------------------------------------------------------------ resume (crash window)


def test_resume_restarts_the_running_attempt_by_its_own_name() -> None:
    from interlock.lifecycle.reruns import decide_resume

    row = RunRow("orders", "stream", PERIOD, RunStatus.RUNNING, 3, DONE, DONE, None, NOW)
    decision = decide_resume(config(), row, now=NOW - timedelta(minutes=1))
    assert decision.next == "resume"
    (start,) = decision.actions
    assert isinstance(start, StartExecution)
    assert start.name == "orders-stream-2026-03-04-a3"
    assert start.input == {
        "pipelineId": "orders",
        "scheduleId": "stream",
        "period": PERIOD,
        "attempt": 3,
    }


def test_resume_leaves_finished_stale_and_attemptless_runs_alone() -> None:
    from interlock.lifecycle.reruns import decide_resume

    stale = RunRow("orders", "stream", PERIOD, RunStatus.RUNNING, 1, DONE, DONE, None, NOW)
    legacy = RunRow("orders", "stream", PERIOD, RunStatus.RUNNING, 0, DONE)
    for row in (None, completed(), stale, legacy):
        assert decide_resume(config(), row, now=NOW).actions == ()


def test_resume_announces_a_rerun_whose_announcement_is_missing() -> None:
    from interlock.lifecycle.actions import AppendJobLog, Claim, RecordRerun
    from interlock.lifecycle.reruns import Unannounced, decide_resume

    row = RunRow("orders", "stream", PERIOD, RunStatus.RUNNING, 2, DONE, DONE, None, NOW)
    announced = decide_resume(config(), row, now=DONE, unannounced=Unannounced("manual", 1))
    claim, event, start = announced.actions
    assert isinstance(start, StartExecution) and start.name.endswith("-a2")
    assert isinstance(claim, Claim) and claim.name == "RERUN_ACCEPTED-a2"
    assert isinstance(event, PublishEvent) and event.type is EventType.RERUN_ACCEPTED
    assert event.detail["rerunCount"] == 1 and event.detail["attempt"] == 2
    # a reset whose rerun-log row was lost gets its bookkeeping written first
    unrecorded = Unannounced("manual", 1, unrecorded=True)
    kinds = [
        type(a) for a in decide_resume(config(), row, now=DONE, unannounced=unrecorded).actions
    ]
    assert kinds == [RecordRerun, AppendJobLog, Claim, PublishEvent, StartExecution]
    # a retry is never announced
    retry = Unannounced("job-fail-retry", 1)
    assert len(decide_resume(config(), row, now=DONE, unannounced=retry).actions) == 1
