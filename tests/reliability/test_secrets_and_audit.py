"""Secrets never leak; operator actions are audited with their actor.

A token is planted in a job's credentials (bearer header, basic auth, a query string, URL user info) and
sent to a loopback server that **echoes** everything it was sent in its error answer, as real APIs do
("invalid token abc…"). The token must not appear in the trigger's error, hence in no job-log row,
event, log line or Slack text built from it.
"""

from __future__ import annotations

import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest

from interlock.config.models import AirflowJobConfig, DatabricksJobConfig, HttpJobConfig
from interlock.schedule import Period
from interlock.triggers import TriggerError
from interlock.triggers.airflow import AirflowRunner
from interlock.triggers.databricks import DatabricksRunner
from interlock.triggers.http import HttpRunner, scrub
from tests.aws.conftest import set_aws_env

if TYPE_CHECKING:
    from collections.abc import Iterator

TOKEN = "plantedTOKEN-7f3a9c2e41"
PASSWORD = "planted-Pa55word"
PERIOD = Period(date(2026, 3, 6), 16)
ENV = {"INTERLOCK_TOKEN": TOKEN, "INTERLOCK_PASSWORD": PASSWORD}


class Echo:
    """Answers every request with ``status`` and a body echoing its request line, headers and body."""

    def __init__(self, status: int = 401) -> None:
        self.status = status
        echo = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                reply = json.dumps(
                    {
                        "error": "unauthorized",
                        "message": f"rejected {self.command} {self.path}",
                        "headers": dict(self.headers.items()),
                        "body": body.decode(errors="replace"),
                    }
                ).encode()
                self.send_response(echo.status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_POST = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}
        )


@pytest.fixture
def echo() -> Iterator[Echo]:
    server = Echo()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
        server.thread.join()


def assert_clean(text: str) -> None:
    assert TOKEN not in text, text
    assert PASSWORD not in text, text
    assert "plantedTOKEN" not in text and "Pa55word" not in text, text


@pytest.mark.parametrize("status", [401, 403, 500])
@pytest.mark.parametrize(
    "job",
    [
        {"headers": {"Authorization": "Bearer ${INTERLOCK_TOKEN}"}},
        {"headers": {"X-Api-Key": "${INTERLOCK_TOKEN}"}},
        {"headers": {"Cookie": "session=${INTERLOCK_TOKEN}"}},
        {"query": "?token=${INTERLOCK_TOKEN}"},
        {"userinfo": "svc:${INTERLOCK_PASSWORD}@"},
        {"body": {"apiKey": "${INTERLOCK_TOKEN}"}},
    ],
    ids=["bearer", "api-key", "cookie", "query", "userinfo", "body"],
)
def test_http_errors_never_carry_the_credentials(
    echo: Echo, status: int, job: dict[str, Any]
) -> None:
    # GIVEN an http job carrying a planted token, and a server echoing it back in an error
    echo.status = status
    url = f"http://{job.get('userinfo', '')}127.0.0.1:{echo.port}/hook{job.get('query', '')}"
    config = HttpJobConfig.model_validate(
        {"url": url, "headers": job.get("headers", {}), "body": job.get("body")}
    )
    runner = HttpRunner(allow_private=True, env=ENV)
    # WHEN the trigger fails
    with pytest.raises(TriggerError) as caught:
        runner.start(config, pipeline_id="p", period=PERIOD, run_id="r1")
    # THEN the error (what becomes the job-log row, JOB_FAILED and the Slack reply) names the status
    # and the answer, without the token
    message = str(caught.value)
    assert f"returned status {status}" in message
    assert "rejected" in message  # the excerpt is still there to help on-call
    assert_clean(message)


@pytest.mark.parametrize("kind", ["airflow", "databricks"])
@pytest.mark.parametrize(
    "auth",
    [{"bearer": "${INTERLOCK_TOKEN}"}, {"username": "svc", "password": "${INTERLOCK_PASSWORD}"}],
    ids=["bearer", "basic"],
)
def test_rest_runner_errors_never_carry_the_credentials(
    echo: Echo, kind: str, auth: dict[str, str]
) -> None:
    base = f"http://127.0.0.1:{echo.port}"
    if kind == "airflow":
        runner: Any = AirflowRunner(allow_private=True, env=ENV)
        config: Any = AirflowJobConfig.model_validate({"url": base, "dagId": "d", "auth": auth})
    else:
        runner = DatabricksRunner(allow_private=True, env=ENV)
        config = DatabricksJobConfig.model_validate(
            {"workspaceUrl": base, "jobId": 1, "auth": auth}
        )
    with pytest.raises(TriggerError) as caught:
        runner.start(config, pipeline_id="p", period=PERIOD, run_id="r1")
    assert "returned status 401" in str(caught.value)
    assert_clean(str(caught.value))


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: Bearer {TOKEN}",
        f'{{"access_token": "{TOKEN}"}}',
        f"api_key={TOKEN}&x=1",
        f"password: {PASSWORD}",
        f"token {TOKEN}",
    ],
)
def test_scrub_masks_credential_shapes_it_was_not_told_about(text: str) -> None:
    assert_clean(scrub(text))


# ------------------------------------------------------------------------------- operator audit

MOTO_ARN = "arn:aws:sts::123456789012:user/moto"  # moto's answer to STS GetCallerIdentity


@pytest.fixture
def deployment(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    """A DynamoDB deployment under moto: the four tables, the events bus routed to an SQS queue."""
    from moto import mock_aws

    set_aws_env(monkeypatch)
    with mock_aws():
        import boto3  # type: ignore[import-untyped]

        from interlock.cli import main
        from interlock.store.dynamodb import create_tables

        create_tables("audit", region="us-east-1")
        events = boto3.client("events", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        events.create_event_bus(Name="audit-interlock-events")
        queue = sqs.create_queue(QueueName="audit")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
        events.put_rule(
            Name="all",
            EventBusName="audit-interlock-events",
            EventPattern=json.dumps({"source": ["interlock"]}),
        )
        events.put_targets(
            Rule="all",
            EventBusName="audit-interlock-events",
            Targets=[{"Id": "q", "Arn": arn["Attributes"]["QueueArn"]}],
        )
        url = "dynamodb://audit?region=us-east-1"
        assert main(["config", "push", "examples/pipelines", "--store", url]) == 0

        def published() -> list[dict[str, Any]]:
            got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
            return [json.loads(m["Body"]) for m in got.get("Messages", [])]

        yield url, published


def test_operator_actions_on_dynamodb_are_audited_with_the_aws_caller(
    deployment: tuple[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an on-call engineer with AWS credentials and no INTERLOCK_ACTOR, on a deployment
    from interlock.cli import main
    from interlock.store import open_store

    monkeypatch.delenv("INTERLOCK_ACTOR", raising=False)
    url, published = deployment
    # WHEN they rerun, acknowledge and switch dry run through the real CLI
    assert main(["rerun", "silver-orders", "--yes", "--reason", "manual", "--store", url]) == 0
    assert main(["ack", "gold-revenue", "--reason", "upstream late, known", "--store", url]) == 0
    assert main(["dry-run", "on", "gold-revenue", "--reason", "shadow test", "--store", url]) == 0
    out = capsys.readouterr().out
    # THEN every audit event names the AWS identity and carries the reason
    events = published()
    assert sorted(e["detail-type"] for e in events) == [
        "DRY_RUN_SWITCHED",
        "RERUN_REQUESTED",
        "SLA_ACKNOWLEDGED",
    ]
    assert {e["detail"]["actor"] for e in events} == {MOTO_ARN}
    assert f"by {MOTO_ARN}" in out
    text = json.dumps(events)
    assert "upstream late, known" in text and "shadow test" in text
    # AND the rows the controller reads name it too
    with open_store(url) as store:
        override = store.tables["control"].get("PIPELINE#gold-revenue", "OVERRIDE#dry-run")
        assert override is not None and override["by"] == MOTO_ARN
        assert override["reason"] == "shadow test"


def test_the_environment_still_names_the_actor_over_aws(
    deployment: tuple[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from interlock.cli import main

    url, published = deployment
    monkeypatch.setenv("INTERLOCK_ACTOR", "oncall-bot")
    assert main(["rerun", "silver-orders", "--yes", "--store", url]) == 0
    assert [e["detail"]["actor"] for e in published()] == ["oncall-bot"]


def test_the_os_user_is_the_actor_when_sts_cannot_tell(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import botocore.retries.standard as standard  # type: ignore[import-untyped]

    from interlock.service.operator import current_actor
    from interlock.store import open_store

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")

    # an endpoint with no STS behind it (DynamoDB Local, a closed port): fall back to user@host
    with open_store("dynamodb://x?region=us-east-1&endpoint=http://127.0.0.1:9") as store:
        actor = current_actor(store)
    assert "@" in actor and not actor.startswith("arn:")
    with open_store(f"sqlite:///{tmp_path}/s.db") as store:
        assert current_actor(store) == actor


# ------------------------------------------------------------------ a whole run, grepped for it


def test_a_failed_run_leaves_the_token_nowhere(
    echo: Echo, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN an http job carrying the planted token in its header and query string, an endpoint that
    # refuses it and echoes it back, the embedded runtime with Slack (a local fake) and every log
    import logging
    from datetime import UTC, datetime, timedelta

    from slack_sdk import WebClient

    from interlock.alerts.fake_slack import FakeSlack
    from interlock.alerts.slack import SlackNotifier
    from interlock.config.loader import validate_config_data
    from interlock.local.runtime import EmbeddedRuntime
    from interlock.ports import VirtualClock
    from interlock.store import open_store

    caplog.set_level(logging.DEBUG)
    start = datetime(2026, 3, 6, 8, 0, tzinfo=UTC)
    clock = VirtualClock(start)
    path = tmp_path / "run.db"
    config = validate_config_data(
        {
            "pipeline": {"id": "leaky"},
            "schedule": {"trigger": {"key": "ready", "check": "exists"}},
            "job": {
                "type": "http",
                "maxRetries": 1,
                "config": {
                    "url": f"http://127.0.0.1:{echo.port}/hook?token=${{INTERLOCK_TOKEN}}",
                    "headers": {"Authorization": "Bearer ${INTERLOCK_TOKEN}"},
                    "body": {"apiKey": "${INTERLOCK_TOKEN}", "day": "${DATE}"},
                },
            },
        }
    )
    runner = HttpRunner(allow_private=True, env=ENV)
    with (
        FakeSlack() as slack,
        open_store(f"sqlite:///{path}", now=lambda: clock.now().timestamp()) as store,
    ):
        notifier = SlackNotifier(
            WebClient(token="xoxb-test", base_url=slack.url), "#alerts", store.events, clock
        )
        store.control.put_config(config, now=clock.now())
        runtime = EmbeddedRuntime.build(
            store, clock=clock, triggers=lambda _t: runner, notifier=notifier.notify,
            watchdog_interval=None,
        )  # fmt: skip
        store.control.put_sensor("leaky", "ready", {"date": "2026-03-06"}, now=clock.now())
        # WHEN it runs: the start is refused (401, permanent), the failure is alerted
        runtime.run_until(start + timedelta(hours=1))
        failed = [
            e
            for e in store.events.for_pipeline("leaky")
            if e.type in ("JOB_FAILED", "RETRY_EXHAUSTED")
        ]
        slack_text = json.dumps([c.args for c in slack.calls])
    # THEN the run really failed with the echo's answer in view …
    assert failed, "the job did not fail"
    assert "returned status 401" in json.dumps([e.to_detail() for e in failed])
    assert "Authorization" in json.dumps([e.to_detail() for e in failed])  # the echo, masked
    assert "RETRY_EXHAUSTED" in slack_text or "JOB_FAILED" in slack_text
    # … and the token is in no event, job-log row or table (the whole SQLite file), no Slack call,
    # no log line
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("run.db"))
    assert TOKEN.encode() not in raw
    assert_clean(slack_text)
    assert_clean("\n".join(r.getMessage() for r in caplog.records))
    assert_clean(caplog.text)
