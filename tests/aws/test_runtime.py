"""The AWS runtime's calls over a SQLite store and a recording bus (no moto: the wiring, not AWS)."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from interlock.alerts.fake_slack import FakeSlack
from interlock.aws.bus import fit_detail
from interlock.aws.runtime import AwsRuntime, MalformedRecordError, Settings, TriggerRetry
from interlock.aws.secrets import _parse
from interlock.config.loader import load_project
from interlock.events import Event, EventType
from interlock.ports import RecordingBus, VirtualClock
from interlock.store.factory import open_store
from interlock.triggers import runner_for
from tests.aws.harness import FakeContext, cold_start

if TYPE_CHECKING:
    from collections.abc import Iterator

    from interlock.store.factory import Store

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
ENV = {"ENVIRONMENT": "dev", "EVENT_BUS_NAME": "b"}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # nothing listens there now: connection refused, a transient failure


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    clock = VirtualClock(NOW)
    with open_store(f"sqlite:///{tmp_path}/s.db", now=lambda: clock.now().timestamp()) as opened:
        folder = tmp_path / "pipelines"
        folder.mkdir()
        (folder / "orders.yaml").write_text(
            f"""
pipeline: {{id: orders}}
schedule: {{trigger: {{key: ready, check: exists}}}}
validation: {{rules: [{{key: ready, check: exists}}]}}
job: {{type: http, config: {{url: "http://127.0.0.1:{_closed_port()}/x"}}}}
"""
        )
        for config in load_project([folder]).pipelines.values():
            opened.control.put_config(config, now=NOW)
        yield opened


def test_a_transient_trigger_failure_raises_the_retry_error_after_its_job_log_row(
    store: Store,
) -> None:
    bus = RecordingBus()
    runtime = AwsRuntime(
        Settings.from_env("orchestrator", ENV),
        clock=VirtualClock(NOW),
        store=store,
        bus=bus,
        triggers=lambda t: runner_for(t, allow_private=True),
    )
    payload = {
        "mode": "trigger", "pipelineId": "orders", "scheduleId": "stream",
        "period": "2026-03-04", "attempt": 1, "retries": 0,
    }  # fmt: skip
    with pytest.raises(TriggerRetry) as raised:
        runtime.on_task(payload)
    assert type(raised.value).__name__ == "Interlock.TriggerRetry"
    latest = store.joblog.latest("orders", "stream", "2026-03-04")
    assert latest is not None and latest.event == "infra-trigger-failure"
    assert bus.events == []


def test_records_and_events_the_runtime_refuses(store: Store) -> None:
    runtime = AwsRuntime(
        Settings.from_env("stream_router", {**ENV, "STATE_MACHINE_ARN": "arn:aws:states:x:1:stateMachine:m",
                          "SLA_MONITOR_ARN": "a", "SCHEDULER_ROLE_ARN": "r", "SCHEDULER_GROUP_NAME": "g"}),
        clock=VirtualClock(NOW), store=store, bus=RecordingBus(),
    )  # fmt: skip
    assert "dev" in repr(runtime)
    assert runtime.on_stream_record({"eventName": "INSERT", "dynamodb": {}}) is None  # no keys
    bad = {"eventName": "MODIFY", "dynamodb": {"Keys": {"PK": {"S": "PIPELINE#orders"},
           "SK": {"S": "SENSOR#ready"}}, "SequenceNumber": "1"}}  # fmt: skip
    with pytest.raises(MalformedRecordError, match="NewImage"):
        runtime.on_stream_record(bad)
    with pytest.raises(ValueError, match="without a detail"):
        runtime.sink({"id": "1", "detail-type": "JOB_FAILED"})


def test_slack_needs_a_token_and_the_alert_a_detail(store: Store) -> None:
    no_token = AwsRuntime(
        Settings({"SLACK_CHANNEL_ID": "#a", **ENV}), store=store, clock=VirtualClock(NOW)
    )
    assert no_token.notifier is None
    assert no_token.flush_outbox() == 0
    assert no_token.dispatch({"detail-type": "JOB_FAILED", "detail": {}}) is False
    slack = AwsRuntime(
        Settings({"SLACK_CHANNEL_ID": "#a", "SLACK_BOT_TOKEN": "xoxb-1", **ENV}),
        store=store,
        clock=VirtualClock(NOW),
    )
    with pytest.raises(ValueError, match="without a detail"):
        slack.dispatch({"detail-type": "JOB_FAILED"})


def test_named_calendars_are_read_from_the_bundled_path() -> None:
    runtime = AwsRuntime(Settings({"CALENDARS_PATH": str(ROOT / "examples" / "calendars")}))
    assert "us-federal" in runtime.calendars
    assert AwsRuntime(Settings({})).calendars == {}
    given = AwsRuntime(Settings({}), calendars={})
    assert given.calendars == {}


def test_a_big_message_is_trimmed_too_and_a_secret_may_be_a_bare_token() -> None:
    envelope: dict[str, Any] = {"pipelineId": "p", "message": "m" * 5000, "detail": {"a": 1}}
    text = fit_detail(envelope, 1000)
    assert len(text.encode()) <= 1000
    assert json.loads(text)["detail"]["trimmed"] == ["message"]
    assert _parse("{not json") == "{not json"
    assert _parse("  xoxb-2 ") == "xoxb-2"


def test_warm_containers_read_configs_again_after_the_ttl(store: Store) -> None:
    clock = VirtualClock(NOW)
    runtime = AwsRuntime(
        Settings({**ENV, "CONFIG_CACHE_SECONDS": "30"}),
        clock=clock,
        store=store,
        bus=RecordingBus(),
    )
    runtime.refresh_configs()
    before = runtime.controller.config("orders")
    assert before is not None
    meta = before.pipeline.model_copy(update={"description": "changed elsewhere"})
    changed = before.model_copy(update={"pipeline": meta})
    store.control.put_config(changed, now=NOW)  # another container's stream saw this CONFIG write
    clock.advance(timedelta(seconds=29))
    runtime.refresh_configs()
    assert runtime.controller.config("orders") == before  # still cached
    clock.advance(timedelta(seconds=1))
    runtime.refresh_configs()
    assert runtime.controller.config("orders") == changed  # read again after the TTL


def _sqs(message_id: str, event: Event, received: int | None = None) -> dict[str, Any]:
    body = {"id": message_id, "detail-type": event.type.value, "detail": event.to_detail()}
    attributes = {} if received is None else {"ApproximateReceiveCount": str(received)}
    return {"messageId": message_id, "receiptHandle": "r", "body": json.dumps(body),
            "attributes": attributes, "messageAttributes": {}, "md5OfBody": "",
            "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:1:alerts",
            "awsRegion": "us-east-1"}  # fmt: skip


def test_a_failed_slack_post_is_left_to_sqs_and_delivered_on_its_retry(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeSlack() as slack:
        env = {**ENV, "SLACK_CHANNEL_ID": "#alerts", "SLACK_BOT_TOKEN": "xoxb-1",
               "SLACK_BASE_URL": slack.url}  # fmt: skip
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        module = cold_start("alert_dispatcher")
        handler = module.build(AwsRuntime(Settings(env), store=store, clock=VirtualClock(NOW)))
        failed = Event.create(EventType.JOB_FAILED, "orders", now=NOW, schedule_id="stream",
                              date="2026-03-04", message="job failed: exit 1")  # fmt: skip
        other = Event.create(EventType.JOB_FAILED, "billing", now=NOW, schedule_id="stream",
                             date="2026-03-04", message="job failed: exit 2")  # fmt: skip
        slack.fail_next(1, error="channel_not_found")  # the first post is refused
        out = handler({"Records": [_sqs("m1", failed), _sqs("m2", other)]}, FakeContext())
        assert out == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
        assert len(slack.roots()) == 1  # billing's thread
        assert len(store.events.table.query("OUTBOX#SLACK").items) == 0  # not swallowed here
        # SQS delivers m1 again: its thread is posted now
        assert handler({"Records": [_sqs("m1", failed)]}, FakeContext()) == {
            "batchItemFailures": []
        }
        assert len(slack.roots()) == 2
        assert all(len(slack.replies(root.ts)) == 1 for root in slack.roots())


def test_a_redelivered_alert_that_slack_already_posted_is_not_posted_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeSlack() as slack:
        env = {**ENV, "SLACK_CHANNEL_ID": "#alerts", "SLACK_BOT_TOKEN": "xoxb-1",
               "SLACK_BASE_URL": slack.url}  # fmt: skip
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        module = cold_start("alert_dispatcher")
        handler = module.build(AwsRuntime(Settings(env), store=store, clock=VirtualClock(NOW)))
        failed = Event.create(EventType.JOB_FAILED, "orders", now=NOW, schedule_id="stream",
                              date="2026-03-04", message="job failed: exit 1")  # fmt: skip
        # GIVEN Slack posting the reply but its answer being lost, and the lookup failing (outage)
        slack.drop_replies(1, method="chat.postMessage")  # the root's answer is lost
        slack.fail_next(9, status=503, method="conversations.list")  # ... and cannot be looked up
        other = Event.create(EventType.JOB_FAILED, "billing", now=NOW, schedule_id="stream",
                             date="2026-03-04", message="job failed: exit 2")  # fmt: skip
        batch = [_sqs("m1", failed, received=1), _sqs("m2", other, received=1)]
        out = handler({"Records": batch}, FakeContext())
        assert out == {"batchItemFailures": [{"itemIdentifier": "m1"}]}  # left to SQS
        assert ["orders" in r.text for r in slack.roots()] == [True, False]  # Slack did post it
        # WHEN SQS delivers it again (the second receive), Slack answering again
        slack._failures.clear()  # noqa: SLF001 - the outage is over
        out = handler({"Records": [_sqs("m1", failed, received=2)]}, FakeContext())
        # THEN the root was found, not posted again; the alert is in its thread once
        assert out == {"batchItemFailures": []}
        roots = slack.roots()
        assert ["orders" in r.text for r in roots] == [True, False]
        assert [r.text.split("*")[1] for r in slack.replies(roots[0].ts)] == ["JOB_FAILED"]
