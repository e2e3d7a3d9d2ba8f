"""Loopback HTTP servers that speak the Databricks Jobs API 2.1 and Airflow's stable REST API.

Each checks the ``Authorization`` header on **every** call (a call without the right one gets 401 and
is counted in ``unauthenticated``), moves a run's state one step per status poll (``script``), and can
be told to answer the next calls with an error status or to hold them past the client's timeout
(``fail_next``).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TOKEN = "dapi-test-token"
HOLD = "hold"  # fail_next entry: answer nothing until the client gave up


@dataclass
class Call:
    method: str
    path: str
    authorization: str | None
    body: Any


@dataclass
class FakeApi:
    """Shared machinery: auth check, scripted failures, call log."""

    authorization: str = f"Bearer {TOKEN}"
    calls: list[Call] = field(default_factory=list)
    unauthenticated: int = 0
    fail_next: list[int | str] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        raise NotImplementedError

    def serve(self) -> tuple[ThreadingHTTPServer, threading.Thread, int]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                auth = self.headers.get("Authorization")
                parts = urlsplit(self.path)
                api.calls.append(Call(self.command, parts.path, auth, body))
                if api.fail_next:
                    scripted = api.fail_next.pop(0)
                    if scripted == HOLD:
                        api.released.wait(10)
                        return
                    self._reply(int(scripted), {"message": f"scripted {scripted}"})
                    return
                if auth != api.authorization:
                    api.unauthenticated += 1
                    self._reply(401, {"error_code": "UNAUTHENTICATED", "message": "bad token"})
                    return
                status, reply = api.handle(
                    self.command, unquote(parts.path), parse_qs(parts.query), body
                )
                self._reply(status, reply)

            def _reply(self, status: int, reply: Any) -> None:
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except OSError:
                    pass

            do_GET = do_POST = _handle

            def log_message(self, *args: Any) -> None:
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        thread.start()
        return httpd, thread, int(httpd.server_address[1])


@dataclass
class FakeDatabricks(FakeApi):
    """Jobs API 2.1: ``run-now`` and ``runs/get``. ``jobs`` maps a job id to its run's state script."""

    jobs: dict[int, list[dict[str, str]]] = field(default_factory=dict)
    runs: dict[int, list[dict[str, str]]] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)
    started: list[dict[str, Any]] = field(default_factory=list)

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        if method == "POST" and path == "/api/2.1/jobs/run-now":
            job = body.get("job_id")
            if job not in self.jobs:
                return 400, {
                    "error_code": "INVALID_PARAMETER_VALUE",
                    "message": f"Job {job} does not exist.",
                }
            token = body.get("idempotency_token")
            if token in self.tokens:
                return 200, {"run_id": self.tokens[token]}
            run = 1000 + len(self.runs)
            self.runs[run] = list(self.jobs[job])
            self.started.append(body)
            if token:
                self.tokens[token] = run
            return 200, {"run_id": run, "number_in_job": run}
        if method == "GET" and path == "/api/2.1/jobs/runs/get":
            run = int(query.get("run_id", ["0"])[0])
            if run not in self.runs:
                return 404, {
                    "error_code": "RESOURCE_DOES_NOT_EXIST",
                    "message": f"Run {run} does not exist.",
                }
            script = self.runs[run]
            state = script.pop(0) if len(script) > 1 else script[0]
            return 200, {"run_id": run, "state": state, "run_page_url": f"https://dbx/run/{run}"}
        return 404, {"error_code": "ENDPOINT_NOT_FOUND"}


def dbx_state(life: str, result: str = "", message: str = "") -> dict[str, str]:
    state = {"life_cycle_state": life, "state_message": message}
    if result:
        state["result_state"] = result
    return state


@dataclass
class FakeAirflow(FakeApi):
    """Stable REST API (v1 and v2): trigger and get a DAG run. ``dags`` maps a DAG to its state script."""

    authorization: str = "Basic YWlyZmxvdzpwYXNz"  # airflow:pass
    dags: dict[str, list[str]] = field(default_factory=dict)
    runs: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    dates: dict[tuple[str, str], str] = field(default_factory=dict)
    triggered: list[tuple[str, Any]] = field(default_factory=list)

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if (
            len(parts) < 5
            or parts[0] != "api"
            or parts[1] not in ("v1", "v2")
            or parts[2] != "dags"
        ):
            return 404, {"title": "Not Found"}
        dag = parts[3]
        if dag not in self.dags:
            return 404, {"title": "DAG not found", "detail": f"DAG with dag_id: '{dag}' not found"}
        if method == "POST" and len(parts) == 5:
            run_id, date = body["dag_run_id"], body["logical_date"]
            if (dag, run_id) in self.runs or (dag, date) in self.dates:
                return 409, {"title": "Conflict", "detail": "DAGRun already exists"}
            self.runs[(dag, run_id)] = list(self.dags[dag])
            self.dates[(dag, date)] = run_id
            self.triggered.append((dag, body))
            return 200, {"dag_run_id": run_id, "state": "queued", "logical_date": date}
        if method == "GET" and len(parts) == 6:
            key = (dag, parts[5])
            if key not in self.runs:
                return 404, {"title": "DAGRun not found"}
            script = self.runs[key]
            state = script.pop(0) if len(script) > 1 else script[0]
            return 200, {"dag_run_id": parts[5], "state": state}
        return 405, {"title": "Method Not Allowed"}
