"""The HTTP trigger against a loopback server that records what it receives (no other network)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest

from interlock.config.models import HttpJobConfig
from interlock.schedule import Period
from interlock.triggers import FailureClass, HttpRunner, TriggerError, runner_for
from interlock.triggers.http import HttpRequest, HttpResponse, refusal_reason

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

HOURLY = Period(date(2026, 3, 6), 16)
DAILY = Period(date(2026, 3, 6))


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Server:
    def __init__(self) -> None:
        self.seen: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                server.seen.append(
                    Seen(
                        self.command,
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                    )
                )
                path = self.path.split("?")[0]
                status, reply = {
                    "/ok": (200, b"ok"),
                    "/created": (201, b""),
                    "/moved": (302, b""),
                    "/bad": (400, b"bad\x00 request:\x1b[31m" + b"x" * 2000),
                    "/boom": (503, b"try later"),
                }.get(path, (404, b"no such path"))
                if path == "/slow":
                    time.sleep(0.6)
                    status, reply = 200, b"late"
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", "http://169.254.169.254/")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                try:
                    self.wfile.write(reply)
                except OSError:  # the client gave up (timeout test)
                    pass

            do_GET = do_POST = do_PUT = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    s.thread.start()
    try:
        yield s
    finally:
        s.httpd.shutdown()
        s.httpd.server_close()
        s.thread.join()


@pytest.fixture
def runner() -> HttpRunner:
    return HttpRunner(allow_private=True, env={"INTERLOCK_TOKEN": "s3cret"})


def http(url: str, **extra: Any) -> HttpJobConfig:
    return HttpJobConfig.model_validate({"url": url, **extra})


class RecordingTransport:
    def __init__(self) -> None:
        self.sent: list[tuple[HttpRequest, Sequence[str]]] = []

    def send(
        self, request: HttpRequest, *, addresses: Sequence[str], timeout: float
    ) -> HttpResponse:
        self.sent.append((request, addresses))
        return HttpResponse(200, b"")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://10.0.0.1/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://[fe80::1]/x",
        "http://192.168.1.10/x",
        "http://localhost:9/x",
    ],
)
def test_default_refuses_internal_addresses_without_connecting(url: str) -> None:
    # The config model already refuses metadata and link-local URLs at validate time; the runtime
    # guard is tested on its own, as for a URL that a template fills in at run time.
    transport = RecordingTransport()
    runner = HttpRunner(transport=transport)
    config = HttpJobConfig.model_construct(
        url=url, method="POST", headers={}, body=None, timeout=None
    )
    with pytest.raises(TriggerError, match="allow_private=True") as info:
        runner.start(config, pipeline_id="p", period=HOURLY, run_id="r")
    assert info.value.failure is FailureClass.PERMANENT
    assert "SSRF" in str(info.value)
    assert transport.sent == []


def test_every_resolved_address_is_checked() -> None:
    transport = RecordingTransport()
    runner = HttpRunner(
        transport=transport, resolver=lambda host, port: ["93.184.215.14", "10.1.2.3"]
    )
    with pytest.raises(TriggerError, match="10.1.2.3"):
        runner.start(http("http://example.com/x"), pipeline_id="p", period=HOURLY, run_id="r")
    assert transport.sent == []


def test_connects_to_the_checked_address_with_the_original_host() -> None:
    transport = RecordingTransport()
    runner = HttpRunner(transport=transport, resolver=lambda host, port: ["93.184.215.14"])
    runner.start(http("https://example.com/hook?a=1"), pipeline_id="p", period=HOURLY, run_id="r")
    [(request, addresses)] = transport.sent
    assert addresses == ["93.184.215.14"]
    assert (request.host, request.port, request.tls, request.target) == (
        "example.com",
        443,
        True,
        "/hook?a=1",
    )


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("8.8.8.8", False),
        ("2606:4700:4700::1111", False),
        ("127.0.0.1", True),
        ("172.16.0.1", True),
        ("100.64.0.1", True),
        ("fd00::1", True),
        ("224.0.0.1", True),
        ("0.0.0.0", True),
        ("::", True),
        ("240.0.0.1", True),
        ("::ffff:169.254.169.254", True),
        ("2002:7f00:1::", True),
        ("fe80::1%eth0", True),
    ],
)
def test_refusal_reason(address: str, refused: bool) -> None:
    assert (refusal_reason(address) is not None) is refused


def test_2xx_is_triggered_and_succeeds_at_once(server: Server, runner: HttpRunner) -> None:
    cfg = http(server.url("/ok?token=abc"))
    handle = runner.start(cfg, pipeline_id="orders", period=HOURLY, run_id="run-1")
    assert handle.run_id == "run-1"
    assert handle.metadata == {"status": 200, "url": server.url("/ok")}  # no query string kept
    status = runner.status(cfg, handle)
    assert status.state == "succeeded"
    assert "HTTP 200" in status.message
    assert len(server.seen) == 1


@pytest.mark.parametrize("path", ["/created", "/moved"])
def test_other_2xx_and_3xx_count_as_triggered_and_redirects_are_not_followed(
    server: Server, runner: HttpRunner, path: str
) -> None:
    runner.start(http(server.url(path)), pipeline_id="p", period=HOURLY, run_id="r")
    assert [s.path for s in server.seen] == [path]


def test_4xx_is_permanent_with_a_clean_excerpt(server: Server, runner: HttpRunner) -> None:
    with pytest.raises(TriggerError) as info:
        runner.start(http(server.url("/bad")), pipeline_id="p", period=HOURLY, run_id="r")
    err = info.value
    assert err.failure is FailureClass.PERMANENT
    message = str(err)
    assert "returned status 400: bad request: [31mxxx" in message
    excerpt = message.split("returned status 400: ", 1)[1]
    assert len(excerpt) <= 512
    assert all(c.isprintable() for c in message)


def test_5xx_is_transient(server: Server, runner: HttpRunner) -> None:
    with pytest.raises(TriggerError, match="status 503: try later") as info:
        runner.start(http(server.url("/boom")), pipeline_id="p", period=HOURLY, run_id="r")
    assert info.value.failure is FailureClass.TRANSIENT
    assert len(server.seen) == 1  # one attempt: retries belong to the caller


def test_timeout_is_transient(server: Server, runner: HttpRunner) -> None:
    cfg = http(server.url("/slow"), timeout=0.2)
    with pytest.raises(TriggerError, match="timed out after 0.2s") as info:
        runner.start(cfg, pipeline_id="p", period=HOURLY, run_id="r")
    assert info.value.failure is FailureClass.TRANSIENT


def test_connection_refused_is_transient(runner: HttpRunner) -> None:
    server = Server()  # bound but never serving: take its port, then close it
    url = server.url("/ok")
    server.httpd.server_close()
    with pytest.raises(TriggerError, match="failed") as info:
        runner.start(http(url), pipeline_id="p", period=HOURLY, run_id="r")
    assert info.value.failure is FailureClass.TRANSIENT


def test_body_headers_and_url_are_templated(server: Server, runner: HttpRunner) -> None:
    cfg = http(
        server.url("/ok?pipeline=${PIPELINE}&period=${PERIOD}"),
        method="PUT",
        headers={"Authorization": "Bearer ${INTERLOCK_TOKEN}", "X-Run": "${RUN_ID}"},
        body={"date": "${DATE}", "hour": "${HOUR}", "nested": ["${PIPELINE}", 3], "n": 1},
    )
    runner.start(cfg, pipeline_id="orders", period=HOURLY, run_id="run-7")
    [seen] = server.seen
    assert seen.method == "PUT"
    assert seen.path == "/ok?pipeline=orders&period=2026-03-06T16"
    assert seen.headers["authorization"] == "Bearer s3cret"
    assert seen.headers["x-run"] == "run-7"
    assert seen.headers["idempotency-key"] == "run-7"  # a replayed start can be recognised
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["host"] == f"127.0.0.1:{server.port}"
    assert json.loads(seen.body) == {
        "date": "2026-03-06",
        "hour": "16",
        "nested": ["orders", 3],
        "n": 1,
    }


def test_string_body_is_sent_as_written_and_headers_override(
    server: Server, runner: HttpRunner
) -> None:
    cfg = http(
        server.url("/ok"),
        headers={"content-type": "text/plain"},
        body="run ${RUN_ID} costs $$5",
    )
    runner.start(cfg, pipeline_id="orders", period=HOURLY, run_id="r1")
    [seen] = server.seen
    assert seen.body == b"run r1 costs $5"
    assert seen.headers["content-type"] == "text/plain"
    assert seen.headers["idempotency-key"] == "r1"


def test_unknown_variable_sends_nothing(server: Server, runner: HttpRunner) -> None:
    cfg = http(server.url("/ok"), headers={"Authorization": "Bearer ${TOKEN}"})
    with pytest.raises(TriggerError, match=r"\$\{TOKEN\}") as info:
        runner.start(cfg, pipeline_id="orders", period=HOURLY, run_id="r1")
    assert info.value.failure is FailureClass.PERMANENT
    assert server.seen == []


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        (HOURLY, {"par_day": "20260306", "par_hour": "16"}),
        (DAILY, {"par_day": "20260306"}),
    ],
)
def test_default_body_carries_par_day_and_par_hour(
    server: Server, runner: HttpRunner, period: Period, expected: dict[str, str]
) -> None:
    runner.start(http(server.url("/ok")), pipeline_id="orders", period=period, run_id="r1")
    [seen] = server.seen
    assert seen.method == "POST"
    assert json.loads(seen.body) == expected


def test_runner_for_http_passes_options() -> None:
    runner = runner_for("http", allow_private=True)
    assert isinstance(runner, HttpRunner)
    assert repr(runner) == "HttpRunner(allow_private=True)"


@pytest.mark.parametrize(
    ("status", "failure"),
    [
        (400, FailureClass.PERMANENT),
        (401, FailureClass.PERMANENT),
        (404, FailureClass.PERMANENT),
        (408, FailureClass.TRANSIENT),
        (429, FailureClass.TRANSIENT),
        (502, FailureClass.TRANSIENT),
    ],
)
def test_status_errors_are_classified_and_redacted(status: int, failure: FailureClass) -> None:
    from interlock.triggers.http import build_request, status_error

    request = build_request("POST", "https://u:pw@x.example/hook?token=s3cret", {}, None)
    error = status_error(request, HttpResponse(status, b"nope"))
    assert error.failure is failure
    assert str(error) == f"POST https://x.example/hook returned status {status}: nope"
