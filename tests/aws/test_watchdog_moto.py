"""The watchdog Lambda under moto: stale run, missed cron, post-run sensor missing, each once per period.

The handler is built over an :class:`AwsRuntime` whose clock is virtual (``lambdas.watchdog.build``), so
hours pass without sleeping; everything else is moto (DynamoDB, Step Functions, Scheduler, EventBridge).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from moto import mock_aws

from interlock.aws.runtime import AwsRuntime, Settings, lock_ttl_for
from interlock.cli import main as cli
from interlock.lifecycle.router import execution_name
from interlock.ports import VirtualClock
from tests.aws.conftest import set_aws_env
from tests.aws.harness import STORE_URL, AwsWorld, FakeContext, check_grants

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

CONFIGS = {
    "stale": """
pipeline: {id: stale}
schedule:
  trigger: {key: ready, check: exists}
validation: {rules: [{key: ready, check: exists}]}
job: {type: command, config: {command: "true"}}
""",
    "nightly": """
pipeline: {id: nightly}
schedule:
  cron: "0 * * * *"
validation: {rules: [{key: ready, check: exists}]}
job: {type: command, config: {command: "true"}}
""",
    "audited": """
pipeline: {id: audited}
schedule:
  trigger: {key: ready, check: exists}
validation: {rules: [{key: ready, check: exists}]}
postRun:
  rules: [{key: orders-audit, check: exists}]
  sensorTimeout: 1h
job: {type: command, config: {command: "true"}}
""",
}


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[AwsWorld]:
    set_aws_env(monkeypatch)
    with mock_aws():  # executions are started but not executed: a stale run stays RUNNING
        built = AwsWorld(monkeypatch)
        folder = tmp_path / "pipelines"
        folder.mkdir()
        for pid, text in CONFIGS.items():
            (folder / f"{pid}.yaml").write_text(text)
        assert cli(["config", "push", str(folder), "--store", STORE_URL]) == 0
        yield built
        check_grants(built)


def test_each_watchdog_alert_once_per_period_and_the_stale_execution_stopped(
    world: AwsWorld,
) -> None:
    # GIVEN, at T0: a RUNNING run with its execution, a COMPLETED run whose post-run sensor never comes
    # (t0 sits at minute 20 of the hour, so both passes see the same hourly fires missed: a wall-clock
    # minute made the second pass cross an hour's deadline now and then)
    t0 = datetime.now(UTC).replace(minute=20, second=0, microsecond=0)
    clock = VirtualClock(t0)
    runtime = AwsRuntime(Settings.from_env("watchdog"), clock=clock)
    handler = world.watchdog(runtime)
    control = world.store.control
    day = t0.strftime("%Y-%m-%d")
    assert control.acquire_run("stale", "stream", day, now=t0, lock_ttl=lock_ttl_for(14400))
    arn = runtime.executions.start(execution_name("stale", "stream", day, 1), {"x": 1})
    assert control.acquire_run("audited", "stream", day, now=t0, lock_ttl=lock_ttl_for(14400))
    control.set_run_status("audited", "stream", day, "COMPLETED", now=t0)
    # WHEN the watchdog runs 5 hours later, and again 5 minutes after that
    clock.set(t0 + timedelta(hours=5))
    handler({}, FakeContext("watchdog"))
    world.sink()
    first = Counter((e.type.value, e.pipeline_id) for e in _all_events(world))
    clock.set(t0 + timedelta(hours=5, minutes=5))
    handler({}, FakeContext("watchdog"))
    world.sink()
    second = Counter((e.type.value, e.pipeline_id) for e in _all_events(world))
    # THEN each alert was published once, and the second pass added nothing
    assert first[("SFN_TIMEOUT", "stale")] == 1
    assert first[("POST_RUN_SENSOR_MISSING", "audited")] == 1
    assert first[("SCHEDULE_MISSED", "nightly")] >= 1
    assert second == first
    missed = [e for e in _all_events(world) if e.type.value == "SCHEDULE_MISSED"]
    assert len({e.date for e in missed}) == len(missed)  # once per period
    # the stale run is failed and its execution stopped
    assert control.get_run("stale", "stream", day).status == "FAILED_FINAL"  # type: ignore[union-attr]
    assert runtime.executions.describe(arn).status == "ABORTED"  # type: ignore[union-attr]


def test_the_watchdog_sets_a_lost_cron_timer_again(world: AwsWorld) -> None:
    t0 = datetime.now(UTC).replace(minute=20, second=0, microsecond=0)
    clock = VirtualClock(t0)
    handler = world.watchdog(AwsRuntime(Settings.from_env("watchdog"), clock=clock))
    assert world.schedules() == {}  # config push wrote the CONFIG row; no stream reached a Lambda
    handler({}, FakeContext("watchdog"))  # the first pass sweeps every pipeline
    assert list(world.schedules()) == ["cron-nightly"]
    world.scheduler.delete_schedule(Name="cron-nightly", GroupName="dev-interlock-sla")
    clock.set(t0 + timedelta(minutes=5))
    handler({}, FakeContext("watchdog"))  # nightly is not due: its timer is not even looked at
    assert world.schedules() == {}
    # the hourly cron's fire passed (+ grace): nightly is due, its missed fire reported, its timer set
    clock.set(t0 + timedelta(minutes=56))
    handler({}, FakeContext("watchdog"))
    assert list(world.schedules()) == ["cron-nightly"]
    payload = world.schedules()["cron-nightly"]["Target"]["Input"]
    assert '"fireAt":"' + (t0 + timedelta(minutes=100)).strftime("%Y-%m-%dT%H:00:00Z") in payload
    clock.set(t0 + timedelta(minutes=61))
    handler({}, FakeContext("watchdog"))  # set: left alone
    assert list(world.schedules()) == ["cron-nightly"]


def _all_events(world: AwsWorld) -> list:  # type: ignore[type-arg]
    return [e for pid in CONFIGS for e in world.store.events.for_pipeline(pid)]
