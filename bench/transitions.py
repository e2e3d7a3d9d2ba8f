"""Step Functions state transitions of one typical run: ready at the 2nd evaluation, a 30-minute job.

Run with ``.venv/bin/python bench/transitions.py`` (``make bench``). Prints numbers; asserts nothing.

``deploy/statemachine.asl.json`` is run by the local ASL runner on a virtual clock, its Task calling the
pure run steps (the orchestrator's decisions): the first evaluation is not ready, the second is; the job
runs 30 minutes. States entered are counted (Step Functions bills per transition, about one per state
entered). Compared:

* the original's 27-state machine, counted from its documented flow (reference upstream-deploy §2.2:
  5 states per not-ready evaluation, 5 per running poll at a fixed 60 s, plus the fixed ones);
* ours with a poll every 60 s (the embedded runtime's default, 3 states per poll);
* ours with polls backing off (the AWS orchestrator: each wait = the job's run time so far, 60 s to
  5 min), which is what Lambdas run;
* an estimate for a task-token wait (``.waitForTaskToken`` resumed by the job's completion), not built:
  it needs a completion signal from every job type (polled ones still poll), and neither moto nor the
  local runner executes it.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from interlock.config.models import PipelineConfig  # noqa: E402
from interlock.lifecycle.actions import RunRef  # noqa: E402
from interlock.lifecycle.run import (  # noqa: E402
    JOB_POLL_MAX_INTERVAL,
    check_job_step,
    evaluate_step,
    trigger_step,
)
from interlock.local.adapters import load_state_machine  # noqa: E402
from interlock.local.asl import run_to_completion  # noqa: E402
from interlock.store import keys  # noqa: E402
from interlock.triggers.base import JobStatus, RunHandle  # noqa: E402

T0 = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
JOB_MINUTES = 30
INPUT = {"pipelineId": "orders", "scheduleId": "stream", "period": "2026-03-04", "attempt": 1}
CONFIG = PipelineConfig.model_validate(
    {
        "pipeline": {"id": "orders"},
        "schedule": {
            "trigger": {"key": "orders"},
            "evaluation": {"window": "1h", "interval": "5m"},
        },
        "validation": {"rules": [{"key": "orders", "check": "gte", "field": "count", "value": 10}]},
        "job": {"type": "command", "config": {"command": "true"}, "jobPollWindowSeconds": 7200},
    }
)


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def now(self) -> datetime:
        return self.t

    def advance_to(self, t: datetime) -> None:
        self.t = t


def run(backoff: timedelta | None) -> tuple[int, int, datetime]:
    """States entered, job polls, and when the run saw the job's end."""
    clock = Clock()
    evaluations = [{"orders": {"count": 1}}, {"orders": {"count": 12}}]
    polls = 0
    job_started: list[datetime] = []

    def invoke(_resource: str, payload: Any) -> Any:
        nonlocal polls
        now = clock.now()
        ref = RunRef("orders", "stream", "2026-03-04", 1)
        if payload["mode"] == "evaluate":
            sensors = evaluations.pop(0) if evaluations else {"orders": {"count": 12}}
            started = datetime.fromisoformat(payload["startedAt"])
            return evaluate_step(CONFIG, sensors, run=ref, started_at=started, now=now).output
        if payload["mode"] == "trigger":
            job_started.append(now)
            handle = RunHandle("r-1", {"pid": 1})
            return trigger_step(handle, run=ref, job_type="command", retries=0, now=now).output
        polls += 1
        done = now - job_started[0] >= timedelta(minutes=JOB_MINUTES)
        return check_job_step(
            JobStatus("succeeded" if done else "running"),
            run=ref,
            handle=RunHandle(payload["runId"], payload["metadata"]),
            poll_started_at=keys.parse_time(payload["pollStartedAt"]),
            now=now,
            poll_window=timedelta(seconds=CONFIG.job.jobPollWindowSeconds),
            max_poll_interval=backoff,
        ).output

    ex = run_to_completion(load_state_machine(), INPUT, invoke=invoke, clock=clock, name="bench")
    entered = sum(1 for h in ex.history if h["event"] == "StateEntered")
    return entered, polls, clock.now()


def original() -> int:
    """The original's states for the same run (upstream-deploy §2.2, 60 s polls)."""
    not_ready = 5  # Evaluate, IsReady, WaitInterval, IncrementElapsed, CheckWindowExhausted
    ready = 2  # Evaluate, IsReady
    start = 1 + 3  # InitEvalLoop; Trigger, HasTriggerResult, InitJobPollLoop
    polls = JOB_MINUTES  # the job ends during the 30th minute: 29 running polls and the last
    running = 5 * (
        polls - 1
    )  # WaitForJob, CheckJob, IsJobDone, IncrementJobPollElapsed, CheckJobPollExhausted
    last = 3  # WaitForJob, CheckJob, IsJobDone
    end = 4  # CompleteTrigger, CheckCancelSLA, CancelSLASchedules, Done
    return not_ready + ready + start + running + last + end


PRICE_PER_TRANSITION = 0.025 / 1000
"""Step Functions Standard, US East (N. Virginia), USD per state transition (4,000/month free, ignored)."""
FLEET = 1000
"""Pipelines in the cost example, each running hourly (24 runs a day, 30 days a month)."""


def monthly_cost(transitions: int) -> float:
    """USD a month for :data:`FLEET` hourly pipelines whose every run takes ``transitions``."""
    return transitions * 24 * 30 * FLEET * PRICE_PER_TRANSITION


def main() -> None:
    print(f"typical run: ready at the 2nd evaluation, a {JOB_MINUTES}-minute job")
    theirs = original()
    print(f"  original (27 states, 60 s polls):            {theirs:4d} transitions")
    costs = [("original", theirs)]
    for label, backoff in (
        ("ours, 60 s polls (embedded default)", None),
        ("ours, polls backing off to 5 min (AWS)", JOB_POLL_MAX_INTERVAL),
    ):
        entered, polls, seen = run(backoff)
        costs.append((label.split(" (")[0], entered))
        late = seen - (T0 + timedelta(minutes=5, seconds=0) + timedelta(minutes=JOB_MINUTES))
        print(
            f"  {label:<44} {entered:4d} transitions, {polls:2d} polls, "
            f"end seen {int(late.total_seconds())} s after the job ended"
        )
    print("  task token (estimate, not built):             ~10 transitions, end seen at once")
    print(
        f"Step Functions cost, {FLEET:,} hourly pipelines, 30 days, "
        f"${PRICE_PER_TRANSITION * 1000:.3f} per 1,000 transitions (us-east-1 list price):"
    )
    for label, transitions in costs:
        print(f"  {label:<44} ${monthly_cost(transitions):8,.0f}/month")


if __name__ == "__main__":
    main()
