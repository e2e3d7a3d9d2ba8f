"""AWS calls that are throttled or fail transiently are retried by botocore (standard mode) and every
failed attempt is reported on the ``interlock.aws.retries`` logger — never silently absorbed.

The DynamoDB driver talks to a loopback HTTP server speaking DynamoDB's JSON protocol, scripted to answer
throttling (400 ProvisionedThroughputExceededException, ThrottlingException), 500/503 or a dropped
connection before the real answer. botocore's backoff delay is set to zero (a third-party seam), so
nothing sleeps on the wall clock.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest

from interlock.store import open_store
from interlock.store.table import StoreError
from tests.aws.conftest import set_aws_env

if TYPE_CHECKING:
    from collections.abc import Iterator

DROP = "drop"  # script entry: close the connection without an answer
PREFIX = "com.amazonaws.dynamodb.v20120810#"


class FakeDynamo:
    """Answers GetItem/PutItem; ``script`` holds the failures to answer first, in order."""

    def __init__(self) -> None:
        self.script: list[int | str | tuple[int, str]] = []
        self.calls: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = str(self.headers.get("X-Amz-Target", "")).rpartition(".")[2]
                fake.calls.append(target)
                step = fake.script.pop(0) if fake.script else None
                if step == DROP:
                    self.close_connection = True
                    self.connection.close()
                    return
                if isinstance(step, tuple):
                    self._reply(step[0], {"__type": PREFIX + step[1], "message": "slow down"})
                elif isinstance(step, int):
                    self._reply(step, {"__type": PREFIX + "InternalServerError", "message": "x"})
                elif target == "GetItem":
                    self._reply(200, {"Item": {"PK": {"S": "a"}, "SK": {"S": "b"}}})
                else:
                    self._reply(200, {})

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}
        )


@pytest.fixture
def dynamo(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDynamo]:
    import botocore.retries.standard as standard  # type: ignore[import-untyped]

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
    set_aws_env(monkeypatch)
    fake = FakeDynamo()
    fake.thread.start()
    try:
        yield fake
    finally:
        fake.httpd.shutdown()
        fake.httpd.server_close()
        fake.thread.join()


def table(fake: FakeDynamo) -> Any:
    store = open_store(f"dynamodb://test?region=us-east-1&endpoint=http://127.0.0.1:{fake.port}")
    return store.tables["control"]


def retry_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "interlock.aws.retries" and r.levelno == logging.WARNING
    ]


@pytest.mark.parametrize(
    "failures",
    [
        [(400, "ProvisionedThroughputExceededException")],
        [(400, "ThrottlingException"), (400, "ThrottlingException")],
        [500, 503],
        [DROP],
        [(400, "ThrottlingException"), 500],
    ],
    ids=["throughput", "throttled-twice", "5xx", "dropped-connection", "mixed"],
)
def test_transient_failures_are_retried_and_logged(
    dynamo: FakeDynamo, caplog: pytest.LogCaptureFixture, failures: list[Any]
) -> None:
    # GIVEN DynamoDB answers with transient failures before the item
    dynamo.script = list(failures)
    caplog.set_level(logging.WARNING, logger="interlock.aws.retries")
    # WHEN the driver reads
    item = table(dynamo).get("a", "b")
    # THEN the read succeeds after one call per failure, and each failure was logged as a retry
    assert item is not None and item["PK"] == "a"
    assert dynamo.calls == ["GetItem"] * (len(failures) + 1)
    lines = retry_lines(caplog)
    assert len(lines) == len(failures), lines
    assert all("GetItem" in line and "retrying" in line for line in lines), lines


def test_persistent_throttling_surfaces_as_a_store_error_after_three_attempts(
    dynamo: FakeDynamo, caplog: pytest.LogCaptureFixture
) -> None:
    dynamo.script = [(400, "ProvisionedThroughputExceededException")] * 5
    caplog.set_level(logging.WARNING, logger="interlock.aws.retries")
    with pytest.raises(StoreError):
        table(dynamo).put({"PK": "a", "SK": "b", "v": 1})
    assert dynamo.calls == ["PutItem"] * 3
    lines = retry_lines(caplog)
    assert len(lines) == 3
    assert "failed after 3 attempts" in lines[-1]


def test_a_healthy_call_logs_nothing_and_a_conditional_failure_is_not_a_retry(
    dynamo: FakeDynamo, caplog: pytest.LogCaptureFixture
) -> None:
    from interlock.store.table import ConflictError, absent

    caplog.set_level(logging.DEBUG, logger="interlock.aws.retries")
    t = table(dynamo)
    assert t.get("a", "b") is not None
    dynamo.script = [(400, "ConditionalCheckFailedException")]
    with pytest.raises(ConflictError):
        t.put({"PK": "a", "SK": "b"}, condition=absent())
    assert dynamo.calls.count("PutItem") == 1  # a lost condition is an answer, not retried
    assert retry_lines(caplog) == []
