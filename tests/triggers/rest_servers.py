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
    pad: int = 0  # bytes of padding added to every 2xx answer (a large multi-task run)

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
                if api.pad and 200 <= status < 300 and isinstance(reply, dict):
                    reply = {**reply, "padding": "x" * api.pad}
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
    """Stable REST API (v1 and v2): trigger, list by logical date, get and clear a DAG run, and list
    its task instances. ``dags`` maps a DAG to its state script; ``failed_tasks`` to the task ids a
    failed run reports as failed (one DAG run per logical date, as Airflow 2)."""

    authorization: str = "Basic YWlyZmxvdzpwYXNz"  # airflow:pass
    dags: dict[str, list[str]] = field(default_factory=dict)
    failed_tasks: dict[str, list[str]] = field(default_factory=dict)
    runs: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    dates: dict[tuple[str, str], str] = field(default_factory=dict)
    states: dict[tuple[str, str], str] = field(default_factory=dict)
    triggered: list[tuple[str, Any]] = field(default_factory=list)
    cleared: list[tuple[str, str]] = field(default_factory=list)

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
            self.states[(dag, run_id)] = "queued"
            self.dates[(dag, date)] = run_id
            self.triggered.append((dag, body))
            return 200, {"dag_run_id": run_id, "state": "queued", "logical_date": date}
        if method == "GET" and len(parts) == 5:
            return 200, self._list(parts[1], dag, query)
        key = (dag, parts[5]) if len(parts) >= 6 else (dag, "")
        if key not in self.runs:
            return 404, {"title": "DAGRun not found"}
        if method == "GET" and len(parts) == 6:
            script = self.runs[key]
            state = script.pop(0) if len(script) > 1 else script[0]
            self.states[key] = state
            return 200, {"dag_run_id": parts[5], "state": state}
        if method == "POST" and parts[6:] == ["clear"] and body == {"dry_run": False}:
            self.cleared.append(key)
            self.runs[key] = list(self.dags[dag])
            self.states[key] = "queued"
            return 200, {"dag_run_id": parts[5], "state": "queued"}
        if method == "GET" and parts[6:] == ["taskInstances"]:
            failed = set(self.failed_tasks.get(dag, []))
            tasks = [*sorted(failed), "extract", "notify"]
            return 200, {
                "task_instances": [
                    {"task_id": t, "state": "failed" if t in failed else "success"} for t in tasks
                ],
                "total_entries": len(tasks),
            }
        return 405, {"title": "Method Not Allowed"}

    def _list(self, api: str, dag: str, query: dict[str, list[str]]) -> dict[str, Any]:
        # Airflow 2 (v1) filters on execution_date, Airflow 3 (v2) on logical_date.
        field_ = "execution_date" if api == "v1" else "logical_date"
        low, high = query.get(f"{field_}_gte", [""])[0], query.get(f"{field_}_lte", [""])[0]
        found = [
            {"dag_run_id": run, "state": self.states[(dag, run)], "logical_date": date}
            for (d, date), run in self.dates.items()
            if d == dag and low <= date <= high
        ]
        return {"dag_runs": found, "total_entries": len(found)}
