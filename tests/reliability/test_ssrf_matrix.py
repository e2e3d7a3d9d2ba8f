"""The SSRF matrix: every way a trigger target can spell an internal address, for http, airflow and
databricks, at validate time and at run time.

Validate time: a URL whose host is an internal address — written plainly, as IPv6, IPv4-mapped or 6to4,
or in the ``inet_aton`` shorthands resolvers accept (``127.1``, ``0x7f000001``, ``2130706433``,
``0177.0.0.1``) — is an error (metadata, link-local, multicast, unspecified, reserved) or a warning
(loopback, private: allowed with ``--allow-private``). Run time: whatever the host resolves to is checked
before connecting, by each of the three runners; nothing is sent to a refused address; the transport
receives exactly the addresses that were checked (a DNS answer that changes between check and connect
cannot be used: the runner resolves once and never lets the transport resolve); a redirect to the
metadata service is not followed.
"""

from __future__ import annotations

import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest

from interlock.config.loader import load_project
from interlock.config.models import (
    AirflowJobConfig,
    DatabricksJobConfig,
    HttpJobConfig,
)
from interlock.exceptions import ConfigError
from interlock.schedule import Period
from interlock.ssrf import host_refusal, refusal_reason, shorthand_ipv4
from interlock.triggers import FailureClass, TriggerError
from interlock.triggers.airflow import AirflowRunner
from interlock.triggers.databricks import DatabricksRunner
from interlock.triggers.http import HttpRequest, HttpResponse, HttpRunner

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from pathlib import Path

PERIOD = Period(date(2026, 3, 6), 16)
PUBLIC = "93.184.215.14"

# host as written in a URL → (refused at validate time as) "error" | "warning"
INTERNAL_HOSTS: dict[str, str] = {
    # loopback
    "127.0.0.1": "warning",
    "127.1": "warning",
    "127.0.1": "warning",
    "0x7f000001": "warning",
    "0x7F.0.0.1": "warning",
    "2130706433": "warning",
    "0177.0.0.1": "warning",
    "017700000001": "warning",
    "127.255.255.254": "warning",
    "localhost": "warning",
    "LOCALHOST.": "warning",
    "api.localhost": "warning",
    "::1": "warning",
    "0:0:0:0:0:0:0:1": "warning",
    "::ffff:127.0.0.1": "warning",
    "::ffff:7f00:1": "warning",
    "2002:7f00:1::": "warning",
    # private and shared
    "10.0.0.1": "warning",
    "10.1.257": "warning",
    "167772161": "warning",
    "012.0.0.1": "warning",
    "172.16.0.1": "warning",
    "0xac.0x10.0.1": "warning",
    "192.168.1.10": "warning",
    "3232235786": "warning",
    "100.64.0.1": "warning",
    "fd00::1": "warning",
    "fc00::1": "warning",
    "::ffff:10.0.0.1": "warning",
    # the metadata service and the rest of link-local: never a job, even with --allow-private
    "169.254.169.254": "error",
    "169.254.43518": "error",
    "0xa9fea9fe": "error",
    "2852039166": "error",
    "0251.0376.0251.0376": "error",
    "::ffff:169.254.169.254": "error",
    "::ffff:a9fe:a9fe": "error",
    "fe80::1": "error",
    "fd00:ec2::254": "warning",  # the IPv6 metadata endpoint is ULA: refused at run time
    # multicast, unspecified, reserved
    "224.0.0.1": "error",
    "ff02::1": "error",
    "0.0.0.0": "error",
    "0": "error",
    "::": "error",
    "240.0.0.1": "error",
    "255.255.255.255": "error",
}

PUBLIC_HOSTS = ["example.com", "93.184.215.14", "8.8.8.8", "2606:4700::1111", "1.1.1.1.nip.io"]


def url_of(host: str) -> str:
    return f"http://[{host}]/hook" if ":" in host else f"http://{host}/hook"


def validate(tmp_path: Path, job_yaml: str) -> list[str]:
    """The loader's verdict on a pipeline with this job: problems as ``error: …``/``warning: …``."""
    path = tmp_path / "p.yaml"
    path.write_text(
        "pipeline: {id: p}\nschedule:\n  trigger: {key: landed, check: exists}\n"
        "validation:\n  rules:\n    - {key: landed, check: exists}\njob:\n" + job_yaml,
        encoding="utf-8",
    )
    try:
        project = load_project(path)
    except ConfigError as exc:
        return [f"error: {p.message}" for p in exc.problems]
    return [f"warning: {p.message}" for p in project.warnings]


# ------------------------------------------------------------------------------ validate time


@pytest.mark.parametrize(("host", "verdict"), sorted(INTERNAL_HOSTS.items()))
def test_validate_refuses_every_spelling_of_an_internal_host(
    tmp_path: Path, host: str, verdict: str
) -> None:
    # GIVEN an http job whose URL names an internal address (in any spelling)
    job = f"  type: http\n  config:\n    url: {url_of(host)}\n"
    # WHEN it is validated
    found = validate(tmp_path, job)
    # THEN it is refused outright (never a job) or flagged (allowed only with --allow-private)
    assert len(found) == 1, found
    assert found[0].startswith(f"{verdict}: "), found
    assert "SSRF guard" in found[0]


@pytest.mark.parametrize("kind", ["airflow", "databricks"])
@pytest.mark.parametrize("host", ["0xa9fea9fe", "169.254.43518", "::ffff:169.254.169.254"])
def test_validate_refuses_metadata_for_the_rest_runners_too(
    tmp_path: Path, kind: str, host: str
) -> None:
    if kind == "airflow":
        job = f"  type: airflow\n  config:\n    url: {url_of(host)}\n    dagId: d\n"
    else:
        job = f"  type: databricks\n  config:\n    workspaceUrl: {url_of(host)}\n    jobId: 1\n"
    found = validate(tmp_path, job)
    assert len(found) == 1 and found[0].startswith("error: "), found


@pytest.mark.parametrize("host", PUBLIC_HOSTS)
def test_validate_accepts_public_hosts(tmp_path: Path, host: str) -> None:
    assert validate(tmp_path, f"  type: http\n  config:\n    url: {url_of(host)}\n") == []


def test_shorthand_parser_agrees_with_inet_aton_on_the_spellings_that_matter() -> None:
    import socket

    for text in [*INTERNAL_HOSTS, "8.8.8.8", "1.2.3.4.5", "256.1", "08.1.1.1", "1e5", "0x", "a.b"]:
        try:
            expected: str | None = socket.inet_ntoa(socket.inet_aton(text))
        except OSError:
            expected = None
        parsed = shorthand_ipv4(text)
        assert (None if parsed is None else str(parsed)) == expected, text


# -------------------------------------------------------------------------------- run time


class Recording:
    """A transport that records what it would send (nothing leaves the process)."""

    def __init__(self) -> None:
        self.sent: list[tuple[HttpRequest, list[str]]] = []

    def send(
        self, request: HttpRequest, *, addresses: Sequence[str], timeout: float
    ) -> HttpResponse:
        self.sent.append((request, list(addresses)))
        return HttpResponse(200, b'{"run_id": 1, "dag_run_id": "r"}')


RUNNERS: dict[str, tuple[Callable[..., Any], Callable[[str], Any]]] = {
    "http": (
        HttpRunner,
        lambda url: HttpJobConfig.model_construct(
            url=url, method="POST", headers={}, body=None, timeout=None
        ),
    ),
    "airflow": (
        AirflowRunner,
        lambda url: AirflowJobConfig.model_construct(
            url=url, dagId="d", apiVersion="v1", auth=None, headers={}, body=None, timeout=None
        ),
    ),
    "databricks": (
        DatabricksRunner,
        lambda url: DatabricksJobConfig.model_construct(
            workspaceUrl=url, jobId=1, auth=None, headers={}, arguments={}, timeout=None
        ),
    ),
}

RESOLVED_INTERNAL = [
    ["127.0.0.1"],
    ["10.0.0.5"],
    ["169.254.169.254"],
    ["::1"],
    ["fe80::1%eth0"],
    ["::ffff:169.254.169.254"],
    ["fd00:ec2::254"],
    [PUBLIC, "192.168.0.1"],  # one internal answer among public ones is enough to refuse
]


@pytest.mark.parametrize("kind", sorted(RUNNERS))
@pytest.mark.parametrize("answer", RESOLVED_INTERNAL, ids="+".join)
def test_runtime_refuses_a_host_that_resolves_inside(kind: str, answer: list[str]) -> None:
    # GIVEN a public-looking name that DNS answers with an internal address
    transport = Recording()
    factory, config = RUNNERS[kind]
    runner = factory(transport=transport, resolver=lambda _h, _p: list(answer))
    # WHEN the runner starts the job
    with pytest.raises(TriggerError) as caught:
        runner.start(
            config("https://jobs.example.com/"), pipeline_id="p", period=PERIOD, run_id="r"
        )
    # THEN it is refused, permanently, and nothing was sent
    assert caught.value.failure is FailureClass.PERMANENT
    assert "SSRF guard" in str(caught.value)
    assert transport.sent == []


@pytest.mark.parametrize("kind", sorted(RUNNERS))
def test_dns_answer_changing_between_check_and_connect_is_not_used(kind: str) -> None:
    # GIVEN a resolver that answers public first and the metadata address on every later call
    answers = iter([[PUBLIC]])
    calls: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers, ["169.254.169.254"])

    transport = Recording()
    factory, config = RUNNERS[kind]
    runner = factory(transport=transport, resolver=rebinding)
    # WHEN the job starts
    runner.start(config("https://jobs.example.com/"), pipeline_id="p", period=PERIOD, run_id="r")
    # THEN each request connects only to the address that was checked, resolved once per request
    assert transport.sent, "nothing sent"
    for _request, addresses in transport.sent:
        assert addresses == [PUBLIC]
    assert len(calls) == len(transport.sent)


def test_allow_private_lets_loopback_through_but_the_default_does_not() -> None:
    transport = Recording()
    cfg = RUNNERS["http"][1]("http://internal.example/")
    HttpRunner(transport=transport, allow_private=True, resolver=lambda _h, _p: ["10.0.0.5"]).start(
        cfg, pipeline_id="p", period=PERIOD, run_id="r"
    )
    assert [a for _r, a in transport.sent] == [["10.0.0.5"]]
    with pytest.raises(TriggerError):
        HttpRunner(transport=transport, resolver=lambda _h, _p: ["10.0.0.5"]).start(
            cfg, pipeline_id="p", period=PERIOD, run_id="r"
        )
    assert len(transport.sent) == 1


@pytest.mark.parametrize("address", ["169.254.169.254", "10.0.0.1", "::1", "8.8.8.8"])
def test_refusal_reason_and_host_refusal_agree_on_plain_addresses(address: str) -> None:
    assert refusal_reason(address) == host_refusal(address)


# ------------------------------------------------------------------------ redirects, for real


@pytest.fixture
def redirecting() -> Iterator[tuple[int, list[str]]]:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            seen.append(self.path)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        yield httpd.server_address[1], seen
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_a_redirect_to_the_metadata_service_is_not_followed(
    redirecting: tuple[int, list[str]],
) -> None:
    port, seen = redirecting
    runner = HttpRunner(allow_private=True)  # loopback is the test server; the redirect is the bait
    cfg = RUNNERS["http"][1](f"http://127.0.0.1:{port}/hook")
    handle = runner.start(cfg, pipeline_id="p", period=PERIOD, run_id="r")
    assert seen == ["/hook"]  # one request, to the configured target only
    assert handle.metadata["status"] == 302
