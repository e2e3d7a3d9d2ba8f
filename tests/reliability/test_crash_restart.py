"""`kill -9` of `interlock run` at each point of a run's life, then a restart: the job runs once.

Real processes on a real SQLite store: the runtime is ``python -m interlock.cli run`` in a subprocess,
killed with SIGKILL (from outside while the job runs; from inside at the exact instants through the
``INTERLOCK_CRASH_AT`` crash points: the run row written but its execution not yet started, the job
started but not yet recorded, the job ended but its outcome not yet saved), then started again. The job
is controlled by a marker file the test creates (no long sleeps); the test waits by reading the
runtime's event lines (blocking reads with a deadline).

Asserted for ``command`` (adopted through its job dir) and for ``http`` (its start carries the run id
as ``Idempotency-Key``, which the local server honours): one job execution, never two at once, no
JOB_FAILED, exactly one JOB_COMPLETED.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest

from interlock.cli import main
from interlock.store import open_store

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

DEADLINE = 60.0  # seconds a phase may take before the test fails (a hang, not a timing assertion)

JOB = """\
import os, sys
log, busy, marker = sys.argv[1:4]
try:
    os.close(os.open(busy, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
except FileExistsError:
    open(log, "a").write("CONCURRENT\\n")
open(log, "a").write("start\\n")
while not os.path.exists(marker):
    os.system("sleep 0.02")
open(log, "a").write("end\\n")
os.unlink(busy)
"""

COMMAND_PIPELINE = """\
pipeline: {{id: crashy}}
schedule:
  trigger: {{key: ready, check: exists}}
  evaluation: {{window: 5m, interval: 1s}}
job:
  type: command
  pollInterval: 1s
  config: {{command: {command}}}
"""

HTTP_PIPELINE = """\
pipeline: {{id: crashy}}
schedule:
  trigger: {{key: ready, check: exists}}
  evaluation: {{window: 5m, interval: 1s}}
job:
  type: http
  pollInterval: 1s
  config: {{url: "http://127.0.0.1:{port}/jobs"}}
"""


class Runtime:
    """One `interlock run` process; its event lines are read with a deadline."""

    def __init__(
        self,
        pipelines: Path,
        url: str,
        crash_at: str | None = None,
        env_extra: dict[str, str] | None = None,
    ) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1", **(env_extra or {}))
        env.pop("INTERLOCK_CRASH_AT", None)
        if crash_at:
            env["INTERLOCK_CRASH_AT"] = crash_at
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "interlock.cli", "run", "--pipelines", str(pipelines),
             "--store", url, "--poll", "0.05", "--allow-private"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
        )  # fmt: skip
        assert self.proc.stdout is not None
        self.stdout = self.proc.stdout
        self.lines: list[str] = []
        self._buffer = b""

    def wait_for(self, text: str) -> None:
        """Read event lines until one contains ``text`` (fail after DEADLINE seconds)."""
        end = time.monotonic() + DEADLINE
        selector = selectors.DefaultSelector()
        selector.register(self.stdout, selectors.EVENT_READ)
        try:
            while not any(text in line for line in self.lines):
                left = end - time.monotonic()
                if left <= 0 or not selector.select(timeout=left):
                    raise AssertionError(f"no {text!r} within {DEADLINE}s; saw {self.lines}")
                chunk = os.read(self.stdout.fileno(), 65536)
                if not chunk:
                    raise AssertionError(f"the runtime exited before {text!r}; saw {self.lines}")
                self._buffer += chunk
                *done, self._buffer = self._buffer.split(b"\n")
                self.lines += [line.decode() for line in done]
        finally:
            selector.close()

    def exited(self) -> int:
        return self.proc.wait(timeout=DEADLINE)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=DEADLINE)
        self.stdout.close()


class JobServer:
    """A loopback endpoint that runs a job once per Idempotency-Key (as real job APIs do)."""

    def __init__(self) -> None:
        self.posts: list[str] = []
        self.executions: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                key = self.headers.get("Idempotency-Key") or f"anonymous-{len(owner.posts)}"
                owner.posts.append(key)
                if key not in owner.executions:
                    owner.executions.append(key)
                body = json.dumps({"id": f"job-{owner.executions.index(key)}"}).encode()
                self.send_response(202)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server() -> Iterator[JobServer]:
    s = JobServer()
    yield s
    s.close()


def events(url: str, type_: str) -> list[Any]:
    with open_store(url) as store:
        return [e for e in store.events.for_pipeline("crashy") if e.type == type_]


def command_pipelines(tmp_path: Path, command: list[str]) -> Path:
    """A pipelines directory holding ``crashy``, whose command job runs ``command``."""
    d = tmp_path / "pipelines"
    d.mkdir()
    (d / "crashy.yaml").write_text(COMMAND_PIPELINE.format(command=json.dumps(command)))
    return d


def _command_world(tmp_path: Path) -> tuple[Path, Path, Path]:
    job = tmp_path / "job.py"
    job.write_text(JOB)
    log, busy, marker = tmp_path / "ran.log", tmp_path / "busy", tmp_path / "go"
    command = [sys.executable, str(job), str(log), str(busy), str(marker)]
    return command_pipelines(tmp_path, command), log, marker


def _assert_once(url: str) -> None:
    assert events(url, "JOB_FAILED") == []
    assert events(url, "JOB_OUTCOME_UNKNOWN") == []
    assert len(events(url, "JOB_TRIGGERED")) == 1
    assert len(events(url, "JOB_COMPLETED")) == 1


@pytest.mark.parametrize("crash", ["execution-starting", "job-started", "job-running", "job-ended"])
def test_command_job_runs_once_across_a_kill_9(tmp_path: Path, crash: str) -> None:
    pipelines, log, marker = _command_world(tmp_path)
    url = f"sqlite:///{tmp_path}/run.db"
    if crash == "job-ended":
        marker.touch()  # the job ends at once; the runtime dies when it sees the outcome
    first = Runtime(pipelines, url, crash_at=None if crash == "job-running" else crash)
    try:
        assert (
            main(["sensor", "put", "crashy", "ready", "ok=true", "--store", url, "--create"]) == 0
        )
        if crash == "job-running":
            first.wait_for("JOB_TRIGGERED")
            first.kill()
        else:
            assert first.exited() == -signal.SIGKILL
    finally:
        first.kill()
    assert events(url, "JOB_COMPLETED") == []
    second = Runtime(pipelines, url)
    try:
        marker.touch()
        second.wait_for("JOB_COMPLETED")
    finally:
        second.kill()
    assert log.read_text().splitlines() == ["start", "end"]  # once, never concurrently
    _assert_once(url)


@pytest.mark.parametrize("crash", ["job-started", "job-running", "job-ended"])
def test_http_job_starts_once_across_a_kill_9(
    tmp_path: Path, server: JobServer, crash: str
) -> None:
    d = tmp_path / "pipelines"
    d.mkdir()
    (d / "crashy.yaml").write_text(HTTP_PIPELINE.format(port=server.port))
    url = f"sqlite:///{tmp_path}/run.db"
    first = Runtime(d, url, crash_at=None if crash == "job-running" else crash)
    try:
        assert (
            main(["sensor", "put", "crashy", "ready", "ok=true", "--store", url, "--create"]) == 0
        )
        if crash == "job-running":
            first.wait_for("JOB_TRIGGERED")
            first.kill()
        else:
            assert first.exited() == -signal.SIGKILL
    finally:
        first.kill()
    second = Runtime(d, url)
    try:
        second.wait_for("JOB_COMPLETED")
    finally:
        second.kill()
    assert len(server.executions) == 1, server.posts
    _assert_once(url)
