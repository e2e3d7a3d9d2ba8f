"""IAM proven against the code, both ways (issue 15): in one moto world each handler is driven down
the paths that use its grants, every AWS call recorded (tests/deploy/iam_recorder.py); then, per
function, the calls must be granted (a missing grant fails) and the code grants no call used must be
exactly :data:`EXPECTED_UNUSED` (an unused grant fails, and so does a listed one the run now uses).

One test, one process: it works under xdist (the per-process figure of tests/aws/conftest.py does not).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from moto import mock_aws

from interlock.alerts.fake_slack import FakeSlack
from interlock.aws.runtime import AwsRuntime, Settings, lock_ttl_for
from interlock.cli import main as cli
from interlock.events import EventType
from interlock.lifecycle.router import execution_name
from interlock.ports import VirtualClock
from interlock.schedule import cron_period
from interlock.store import keys
from tests.aws.conftest import MOTO_CONFIG, set_aws_env
from tests.aws.harness import STORE_URL, AwsWorld, FakeContext, check_grants
from tests.aws.test_end_to_end import JobServer, pipeline_yaml, produce
from tests.aws.test_stream_replay_moto import dead_letter, failed_batch, queued
from tests.deploy.iam_recorder import granted, unused_grants

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

_DELETE = (
    "deletes only after a failure: a claim given back when a later action fails"
    " (Executor._release_guards), a run released when its execution does not start, an expired item"
    " in the way (DynamoDbTable._purge); nothing fails or expires in this run"
)
EXPECTED_UNUSED: dict[str, dict[str, str]] = {
    "stream_router": {
        "dynamodb:DeleteItem": _DELETE,
        "dynamodb:UpdateItem": "ControlStore.reset_run/set_run_status: a failed job's retry"
        " (reruns.decide_job_log → ResetRun) or a rerun request; every job here succeeds",
    },
    "orchestrator": {"dynamodb:DeleteItem": _DELETE},
    "sla_monitor": {"dynamodb:DeleteItem": _DELETE},
    "watchdog": {
        "scheduler:UpdateSchedule": "SchedulerTimers.schedule updates only when CreateSchedule"
        " conflicts with a set timer of another time or input; the watchdog's timers here are new",
        "states:StopExecution": "StepFunctionsExecutions.stop stops only a RUNNING execution; moto"
        " executes the state machine, so the stale run's execution has ended (test_watchdog_moto"
        " drives the stop)",
    },
    "event_sink": {},
    "alert_dispatcher": {"dynamodb:DeleteItem": _DELETE},
}
"""Per function: a code grant the run cannot use, and why (each reason names the code path)."""

CRON = """
pipeline:
  id: nightly
schedule:
  cron: "0 * * * *"
  trigger: {key: nightly-ready, check: exists}
sla:
  deadline: ":50"
  maxDuration: 2h
job:
  type: http
  config: {url: "URL", method: POST}
"""


@pytest.fixture
def job() -> Iterator[JobServer]:
    server = JobServer()
    yield server
    server.stop()


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsWorld]:
    set_aws_env(monkeypatch)
    with FakeSlack() as slack, mock_aws(config=MOTO_CONFIG):
        yield AwsWorld(
            monkeypatch,
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_CHANNEL_ID="#data-alerts",
            SLACK_BASE_URL=slack.url,
        )


def first_arrival(world: AwsWorld, cron_payload: dict[str, str]) -> None:
    """The fire's period already has its first trigger arrival and no run: a trigger write's start was
    released (its StartExecution failed) and the fire comes before the record's retry. The fire then
    starts the run under the relative SLA (maxDuration) and cancels the absolute pair its previous
    fire planned ahead (plan_sla_timers' CancelTimer: the sla-monitor's DeleteSchedule)."""
    fire = datetime.fromisoformat(cron_payload["fireAt"].replace("Z", "+00:00"))
    period = cron_period(cron_payload["cron"], "UTC", fire).id
    world.store.control.put_sensor(
        "nightly",
        keys.bookkeeping_key(keys.FIRST_SENSOR_ARRIVAL, period),
        {"arrivedAt": keys.format_time(fire - timedelta(minutes=5))},
        now=fire,
    )


def drive(world: AwsWorld, job: JobServer, tmp_path: Path) -> None:
    """Each handler down the paths that use its grants."""
    folder = tmp_path / "pipelines"
    folder.mkdir()
    (folder / "orders.yaml").write_text(pipeline_yaml(job.url))
    (folder / "late.yaml").write_text(
        pipeline_yaml(job.url, "late").replace('deadline: "23:59"', "maxDuration: 2h")
    )
    (folder / "nightly.yaml").write_text(CRON.replace("URL", job.url))
    assert cli(["config", "push", str(folder), "--store", STORE_URL]) == 0
    # stream-router: CONFIG rows (cron timer set), sensors (a run started, SLA timers set), job log
    world.pump()
    produce()
    world.pump()
    # a changed cron: its timer is read (GetSchedule) and replaced (UpdateSchedule)
    (folder / "nightly.yaml").write_text(CRON.replace("URL", job.url).replace("0 *", "30 *"))
    assert cli(["config", "push", str(folder), "--store", STORE_URL]) == 0
    world.pump()
    world.sink()
    world.alert()
    # sla-monitor: every timer the run set fires (SLA alerts, the cron fire: a run, the next timer)
    sla = world.handler("sla_monitor")
    for _name, schedule in sorted(world.schedules().items()):
        payload = json.loads(schedule["Target"]["Input"])
        if payload["kind"] == "cron":
            first_arrival(world, payload)
        sla(payload, FakeContext("sla-monitor"))
    # a kind the module never schedules for the sla-monitor (the embedded watchdog's) does nothing
    refused = sla({"kind": "watchdog"}, FakeContext("sla-monitor"))
    assert refused["decisions"] == 0 and "not an SLA alert or a cron fire" in refused["reason"]
    # a daily period's SLA timer with no run row of its own: has the day run at all (Query)?
    nightly = next(s for n, s in world.schedules().items() if "sla-breach" in n)
    payload = json.loads(nightly["Target"]["Input"])
    payload["pipelineId"], payload["scheduleId"] = "orders", "stream"
    payload["period"] = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%d")
    sla(payload, FakeContext("sla-monitor"))
    world.pump()
    world.sink()
    world.alert()
    # watchdog: a stale run stopped, a lost cron timer set again, a trigger no stream delivered
    now = datetime.now(UTC)
    clock = VirtualClock(now)
    runtime = AwsRuntime(Settings.from_env("watchdog"), clock=clock)
    watchdog = world.watchdog(runtime)
    control = world.store.control
    yesterday = (now - timedelta(days=1)).strftime("%Y-%m-%d")
    before = now - timedelta(hours=5)
    assert control.acquire_run(
        "orders", "stream", yesterday, now=before, lock_ttl=lock_ttl_for(14400)
    )
    runtime.executions.start(execution_name("orders", "stream", yesterday, 1), {"x": 1})
    world.scheduler.delete_schedule(Name="cron-nightly", GroupName="dev-interlock-sla")
    world.stream_records("control")  # the late sensors below reach no stream-router
    world.stream_records("joblog")
    produce("late")
    # a batch the stream-router gave up on (the stream's first record, handled long ago: replayed,
    # it changes nothing): the watchdog reads it from the stream DLQ and the stream (stream_replay)
    first = world.store.tables["control"].changes(None, limit=1).records
    dead_letter(world, failed_batch(first))
    clock.set(now + timedelta(minutes=20))
    watchdog({}, FakeContext("watchdog"))
    assert queued(world) == 0
    world.pump()
    world.sink()
    assert EventType.TRIGGER_RECOVERED in world.event_types("late")
    assert EventType.SFN_TIMEOUT in world.event_types("orders")
    world.alert()


def test_each_role_allows_exactly_the_calls_its_handler_makes(
    world: AwsWorld, job: JobServer, tmp_path: Path
) -> None:
    drive(world, job, tmp_path)
    recorded = world.recorder.by_function()
    check_grants(world)  # a missing grant fails (and the calls join the printed figure)
    code = {fn: set(g["code"]) for fn, g in granted().items()}
    unused = unused_grants(recorded, code)
    used = sum(len(code[fn]) - len(unused[fn]) for fn in code)
    print(f"IAM: {used} of {sum(len(c) for c in code.values())} code grants used")
    assert unused == {fn: sorted(EXPECTED_UNUSED.get(fn, {})) for fn in code}, (
        "a grant no call used (remove it from deploy/terraform, or drive its path here), or a listed"
        " one the run now uses (drop it from EXPECTED_UNUSED)"
    )
    assert set(EXPECTED_UNUSED) == set(code)  # no function left out, none made up
