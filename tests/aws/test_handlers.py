"""The Lambda modules: a clean cold start per handler, settings checked at cold start, Slack optional."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from interlock.aws.runtime import (
    NEEDS,
    AwsRuntime,
    MissingSettingError,
    Settings,
    TriggerRetry,
    lock_ttl_for,
)
from interlock.lifecycle.run import TRIGGER_RETRY_ERROR
from tests.aws.harness import HANDLERS, FakeContext, cold_start, lambda_env

ROOT = Path(__file__).resolve().parents[2]
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:dev-interlock-pipeline"
# What the ``lambda`` extra does not bring: importing any of these in a handler's cold start fails.
BLOCKED = ("textual", "slack_sdk", "rich", "moto", "pytest", "tui", "sqlite3")

_PROBE = textwrap.dedent(
    """
    import importlib.abc, json, sys
    BLOCKED = {blocked!r}

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{{name}} is not in the lambda extra")
            return None

    sys.meta_path.insert(0, Block())
    importlib = __import__("importlib")
    found = {{}}
    for name in sys.argv[1:]:
        module = importlib.import_module("lambdas." + name)
        found[name] = callable(module.handler)
    print(json.dumps(found))
    """
)


def test_each_handler_cold_starts_with_only_the_lambda_extra() -> None:
    # One fresh interpreter imports the six handlers in turn (six interpreters cost six imports of
    # boto3 and pydantic on a 2-core machine). The finder refuses a blocked package to every import,
    # so a handler cannot lean on one another handler pulled in.
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONPATH": str(ROOT),
        **lambda_env(MACHINE),
    }
    probe = _PROBE.format(blocked=BLOCKED)
    proc = subprocess.run(
        [sys.executable, "-c", probe, *HANDLERS],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1]) == dict.fromkeys(HANDLERS, True)


def test_the_probe_refuses_a_blocked_import() -> None:
    # the check can fail: a handler that imported rich would be refused
    probe = _PROBE.format(blocked=("json_missing_on_purpose", "rich"))
    code = probe.replace(
        '"lambdas." + name', '"rich.console" if name == "x" else "lambdas." + name'
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "x"],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0 and "not in the lambda extra" in proc.stderr


@pytest.mark.parametrize(
    ("handler", "unset", "named"),
    [
        ("stream_router", "STATE_MACHINE_ARN", "STATE_MACHINE_ARN"),
        ("stream_router", "ENVIRONMENT", "CONTROL_TABLE"),
        ("orchestrator", "EVENT_BUS_NAME", "EVENT_BUS_NAME"),
        ("sla_monitor", "SCHEDULER_ROLE_ARN", "SCHEDULER_ROLE_ARN"),
        ("watchdog", "SLA_MONITOR_ARN", "SLA_MONITOR_ARN"),
        ("event_sink", "ENVIRONMENT", "EVENTS_TABLE"),
    ],
)
def test_a_missing_variable_fails_the_cold_start_naming_it(
    monkeypatch: pytest.MonkeyPatch, handler: str, unset: str, named: str
) -> None:
    for var, value in lambda_env(MACHINE).items():
        monkeypatch.setenv(var, value)
    monkeypatch.delenv(unset)
    with pytest.raises(MissingSettingError, match=named):
        cold_start(handler)


def test_explicit_table_names_win_over_the_environment() -> None:
    settings = Settings.from_env(
        "event_sink", {"EVENTS_TABLE": "custom-events", "ENVIRONMENT": "dev"}
    )
    assert settings.table("events") == "custom-events"
    assert settings.table("control") == "dev-interlock-control"
    store = AwsRuntime(settings).store
    assert store.tables["events"].name == "custom-events"  # type: ignore[attr-defined]
    assert set(NEEDS) == set(HANDLERS)


def test_the_lock_ttl_agrees_with_the_execution_timeout() -> None:
    settings = Settings.from_env(
        "orchestrator", {**lambda_env(MACHINE), "SFN_TIMEOUT_SECONDS": "7200"}
    )
    assert settings.sfn_timeout_seconds == 7200
    runtime = AwsRuntime(settings)
    assert runtime.executor.lock_ttl == lock_ttl_for(7200)
    assert lock_ttl_for(7200).total_seconds() == 7200 + 1800
    with pytest.raises(MissingSettingError, match="SFN_TIMEOUT_SECONDS"):
        _ = Settings({"SFN_TIMEOUT_SECONDS": "soon"}).sfn_timeout_seconds


def test_the_trigger_retry_error_is_named_as_the_state_machine_matches_it() -> None:
    assert TriggerRetry.__name__ == TRIGGER_RETRY_ERROR
    definition = (ROOT / "deploy" / "statemachine.asl.json").read_text()
    assert f'"{TRIGGER_RETRY_ERROR}"' in definition


def test_without_a_slack_channel_alerts_are_off(monkeypatch: pytest.MonkeyPatch) -> None:
    for var, value in lambda_env(MACHINE).items():
        monkeypatch.setenv(var, value)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    module = cold_start("alert_dispatcher")  # no SLACK_CHANNEL_ID: the cold start still succeeds
    body = json.dumps({"detail-type": "JOB_FAILED", "detail": {"pipelineId": "p", "message": "x"}})
    event = {"Records": [{"messageId": "m1", "receiptHandle": "r", "body": body, "attributes": {},
             "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
             "eventSourceARN": "arn:aws:sqs:us-east-1:1:alerts", "awsRegion": "us-east-1"}]}  # fmt: skip
    assert module.handler(event, FakeContext()) == {"batchItemFailures": []}
