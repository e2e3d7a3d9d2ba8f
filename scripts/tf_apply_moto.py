#!/usr/bin/env python3
"""``make tf-apply-moto``: ``terraform apply`` of examples/terraform into a moto server, offline.

Opt-in (not in ``make test``: it takes minutes on a small machine). What it proves: the module and the
example root module apply, resource by resource, against an AWS API (moto's), with the real provider
(the offline mirror of hashicorp/aws); then, with ``--run-pipeline``, that the stack Terraform created
is the one the handlers need: one pipeline runs through the applied tables, bus, queues, state machine
and Scheduler group, with each handler given the environment Terraform set on its Lambda function.

1. moto_server (``moto[server]``) starts on a free loopback port, in its own process, with two calls
   moto lacks added (Step Functions ``ValidateStateMachineDefinition`` and ``ListStateMachineVersions``,
   which the provider calls), and Step Functions executing its definitions. The server logs every
   request the AWS SDK retries, and answers a retried Lambda CreateFunction with the function its
   first attempt created (a lost answer otherwise failed the apply with 409 "Function already exist").
2. The example is applied from a scratch copy (``.cache/tf-apply-moto/root``): its ``main.tf`` with the
   module source and paths rewritten for that folder, plus a ``moto_override.tf`` pointing every AWS endpoint at
   the server. The Lambda code is ``deploy/dist`` when built (``make lambdas``), else the module's test
   fixtures (moto stores the zips without running them). The pipeline configs are examples/pipelines
   (``deploy/validate_configs.py`` first, as a deployer does).
3. ``--run-pipeline``: the handlers run in this process, each with its function's environment as
   ``lambda get-function-configuration`` returns it, behind a loopback endpoint to which the server
   forwards every Lambda invocation: the stream event source mappings Terraform created deliver a
   producer's sensor writes to the stream-router (asynchronously, as in AWS), the state machine runs in
   moto with its Tasks in the orchestrator handler, the Glue job (created here, as a deployer's) runs in
   moto, and the run must end COMPLETED with one SUCCEEDED execution. Then the watchdog replays a
   stream batch the stream-router gave up on (the on-failure message for the range of those sensor
   writes, sent to the queue its STREAM_DLQ_CONTROL_URL names): the message is deleted, every record
   of the range handled, and no second execution starts. moto's stream shard is patched to keep its
   records after delivering them (a DynamoDB stream keeps them 24 h; moto forgot them).

Prints timings and counts; exits non-zero on any failure, 0 with a printed reason when terraform, the
provider mirror or moto_server is missing.

Usage: ``python scripts/tf_apply_moto.py [--run-pipeline] [--keep]``; ``--serve PORT`` is the server
process itself.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".cache" / "tf-apply-moto"
PROVIDER = "registry.terraform.io/hashicorp/aws"
MIRRORS = (Path("/opt/tf-plugins"), ROOT / ".cache" / "terraform" / "mirror")
REGION = "eu-west-1"
ENVIRONMENT = "moto"
# every endpoint the module and the provider touch (sts: the provider's caller identity)
SERVICES = (
    "cloudwatch",
    "logs",
    "dynamodb",
    "events",
    "iam",
    "kms",
    "lambda",
    "scheduler",
    "secretsmanager",
    "sfn",
    "sns",
    "sqs",
    "sts",
)


# ------------------------------------------------------------------------------------- the server

# markers of the server log's own lines (printed on a failed apply)
SDK_RETRY = "sdk-retry:"
CREATE_FUNCTION = "create-function:"


def serve(port: int) -> None:
    """Run moto_server on 127.0.0.1:``port`` with the two Step Functions calls the provider needs."""
    from moto.core.config import default_user_config
    from moto.server import ThreadedMotoServer
    from moto.stepfunctions.responses import StepFunctionResponse

    default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
    default_user_config.setdefault("lambda", {})["use_docker"] = False

    def validate_state_machine_definition(self: Any) -> str:
        definition = self._get_param("definition")
        try:
            json.loads(definition)
        except (TypeError, ValueError):
            diagnostic = {"severity": "ERROR", "code": "INVALID_JSON", "message": "not JSON"}
            return json.dumps({"result": "FAIL", "diagnostics": [diagnostic]})
        return json.dumps({"result": "OK", "diagnostics": [], "truncated": False})

    def list_state_machine_versions(self: Any) -> str:
        return json.dumps({"stateMachineVersions": []})

    StepFunctionResponse.validate_state_machine_definition = validate_state_machine_definition  # type: ignore[attr-defined]
    StepFunctionResponse.list_state_machine_versions = list_state_machine_versions  # type: ignore[attr-defined]
    _log_sdk_retries()
    _answer_retried_create_function()
    forward = os.environ.get("INTERLOCK_MOTO_INVOKE_URL")
    if forward:
        _forward_invocations(forward)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


def _log_sdk_retries() -> None:
    """Every request the AWS SDK sends again (``amz-sdk-request: attempt=N``, N > 1) is written to the
    server log with its invocation id: a retry is otherwise invisible here (the provider logs it only
    under TF_LOG=DEBUG), and a retried create is how a resource comes to "already exist"."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.__call__

    def call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        # "attempt=2; max=25" (the Go SDK), "ttl=…; attempt=2; max=3" (botocore)
        attempt = environ.get("HTTP_AMZ_SDK_REQUEST", "")
        number = re.search(r"attempt=(\d+)", attempt)
        if number and number.group(1) != "1":
            what = environ.get("HTTP_X_AMZ_TARGET") or environ.get("PATH_INFO", "")
            print(
                f"{SDK_RETRY} {environ.get('REQUEST_METHOD')} {what} ({attempt}, invocation"
                f" {environ.get('HTTP_AMZ_SDK_INVOCATION_ID')})",
                flush=True,
            )
        return original(self, environ, start_response)

    DomainDispatcherApplication.__call__ = call  # type: ignore[method-assign]


def _answer_retried_create_function() -> None:
    """Lambda CreateFunction, answered once per SDK invocation.

    The provider sends CreateFunction again, with the same ``amz-sdk-invocation-id``, when the
    first attempt got no usable answer (a 5xx or a broken connection; the SDK has no time-out of its
    own). If moto had created the function by then, the retry got 409 "Function already exist" and
    the provider (which retries ResourceConflictException for five minutes) failed the apply: the
    failure seen once in 7 runs. AWS would do the same, but it is no property of the module under
    test; so a retry of an invocation that already reached this method is answered with the function it
    created, and logged. A CreateFunction of a new invocation for an existing function still gets 409.
    Each call is logged with its attempt, invocation id and time taken."""
    import threading

    from moto.awslambda.exceptions import FunctionAlreadyExists
    from moto.awslambda.responses import LambdaResponse

    original = LambdaResponse.create_function
    seen: set[str] = set()  # invocation ids whose CreateFunction reached moto
    lock = threading.Lock()

    def create_function(self: Any) -> Any:
        name = str(self.json_body.get("FunctionName", "")).rsplit(":", 1)[-1]
        invocation = self.headers.get("amz-sdk-invocation-id") or ""
        attempt = self.headers.get("amz-sdk-request") or "attempt=?"
        start = time.perf_counter()
        with lock:
            retried = bool(invocation) and invocation in seen
            seen.add(invocation)
            try:
                answer = original(self)
                outcome = str(answer[0])
            except FunctionAlreadyExists:
                if not retried:
                    outcome = "409 (a new invocation: left as moto answers it)"
                    raise
                config = self.backend.get_function(name, None).get_configuration(on_create=True)
                answer = 201, {"status": 201}, json.dumps(config)
                outcome = (
                    "201 (a retry of an invocation that created it: answered with that function)"
                )
            except Exception as exc:
                outcome = f"error {type(exc).__name__}: {exc}"
                raise
            finally:
                ms = (time.perf_counter() - start) * 1000
                print(
                    f"{CREATE_FUNCTION} {name} ({attempt}, invocation {invocation}):"
                    f" {outcome} in {ms:.0f} ms",
                    flush=True,
                )
        return answer

    LambdaResponse.create_function = create_function  # type: ignore[method-assign]


def _forward_invocations(url: str) -> None:
    """Lambda Invoke (a state machine Task, an EventBridge target) → POST to ``url``, where the
    script runs the real handler; and Wait states / retry intervals without real sleeping."""
    import threading
    import types
    import urllib.request

    from moto.awslambda.models import LambdaFunction
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.dynamodb.models.table import StreamShard
    from moto.events.models import Rule
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function
    from moto.utilities.arns import parse_arn

    def post(function: str, body: Any, response_headers: Any) -> bytes:
        payload = body if isinstance(body, str | bytes) else json.dumps(body)
        request = urllib.request.Request(
            url,
            data=json.dumps(
                {"function": function, "payload": json.loads(payload or "{}")}
            ).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310 - loopback
            reply = json.loads(answer.read())
        if "error" in reply:
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(reply["error"]).encode()
        return json.dumps(reply["result"]).encode()

    def invoke(
        self: Any,
        function_name: str,
        qualifier: Any,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> bytes:
        return post(function_name, body, response_headers)

    def function_invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
        # What moto's event source mappings (DynamoDB streams, SQS) and rule targets call, inside
        # the write that caused it (holding moto's table): delivered asynchronously, as in AWS, or
        # the handler's own calls would wait on that write.
        threading.Thread(target=post, args=(self.function_arn, body, {}), daemon=True).start()
        return b"{}"

    def no_wait(self: Any, env: Any, wait_seconds: int) -> None:
        """Wait states end at once (the decisions are on the wall clock; nothing waits for time)."""

    original_send = Rule.send_to_targets

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        # moto raises NotImplementedError for a Lambda target: deliver those here (asynchronously,
        # the event as EventBridge passes it), the rest as moto does
        lambdas = [t for t in self.targets if parse_arn(t["Arn"]).service == "lambda"]
        if lambdas and self.event_pattern.matches_event(original_event):
            for target in lambdas:
                threading.Thread(
                    target=post,
                    args=(target["Arn"], json.dumps(original_event, default=str), {}),
                    daemon=True,
                ).start()
        others = [t for t in self.targets if t not in lambdas]
        if others:
            saved, self.targets = self.targets, others
            try:
                original_send(self, original_event, transform_input)
            finally:
                self.targets = saved

    def add(self: Any, old: Any, new: Any) -> None:
        # moto's stream shard forgets its records once an event source mapping delivered them (and
        # numbers the next ones from the start again); a DynamoDB stream keeps them 24 h, which the
        # watchdog's replay of a failed batch reads: keep them, deliver each new record once
        from moto.awslambda.utils import get_backend
        from moto.dynamodb.models.table import StreamRecord

        view = self.table.stream_specification["StreamViewType"]
        name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
        record = StreamRecord(
            self.table, view, name, old, new, len(self.items) + self.starting_sequence_number
        )
        self.items.append(record)
        for arn, esm in self.table.lambda_event_source_mappings.items():
            backend = get_backend(self.account_id, arn.split(":")[3])
            backend.send_dynamodb_items(arn, [record], esm.event_source_arn)

    StreamShard.add = add  # type: ignore[method-assign]
    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]
    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]
    LambdaFunction.invoke = function_invoke  # type: ignore[method-assign]
    wait_function.WaitFunction._wait_interval = no_wait  # type: ignore[method-assign]
    setattr(retrier_decl, "time", types.SimpleNamespace(sleep=lambda _s: None))  # noqa: B010


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(log: Path, forward: str | None = None) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    # MOTO_PORT: moto's Step Functions call Lambda back through this server
    env = {**os.environ, "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled", "MOTO_PORT": str(port)}
    if forward:
        env["INTERLOCK_MOTO_INVOKE_URL"] = forward
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise SystemExit(f"moto server did not start: {log.read_text()[-800:]}") from None
            time.sleep(0.1)


def server_notes() -> str:
    """What the server log says about SDK retries, CreateFunction calls and server errors."""
    log = WORK / "moto_server.log"
    if not log.exists():
        return ""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    keep = [
        line
        for line in lines
        if line.startswith((SDK_RETRY, CREATE_FUNCTION))
        or "Error on request" in line
        or '" 5' in line
    ]
    return f"\nmoto server ({log}):\n" + "\n".join(keep[-60:]) if keep else ""


# ------------------------------------------------------------------------------------- terraform


def find_mirror() -> Path | None:
    env = os.environ.get("INTERLOCK_TF_MIRROR")
    for cand in [Path(env)] if env else list(MIRRORS):
        if (cand / PROVIDER).is_dir():
            return cand
    return None


def terraform_env(mirror: Path, endpoint: str) -> dict[str, str]:
    rc = WORK / "terraformrc"
    cache = ROOT / ".cache" / "terraform" / "plugins"
    cache.mkdir(parents=True, exist_ok=True)
    rc.write_text(
        f'plugin_cache_dir = "{cache}"\n'
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = ["{PROVIDER}"]\n  }}\n'
        f'  direct {{\n    exclude = ["{PROVIDER}"]\n  }}\n'
        "}\n",
        encoding="utf-8",
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "TF_")) or k.startswith("TF_LOG")
    }
    env.update(
        TF_CLI_CONFIG_FILE=str(rc),
        TF_IN_AUTOMATION="1",
        CHECKPOINT_DISABLE="1",
        TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE="1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION=REGION,
    )
    return env


def write_root(endpoint: str) -> Path:
    """The example root module, made runnable from the scratch directory, aimed at the server."""
    root = WORK / "root"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    dist = ROOT / "deploy" / "dist"
    if not (dist / "orchestrator.zip").exists():
        dist = ROOT / "deploy" / "terraform" / "tests" / "fixtures" / "zips"
    text = (ROOT / "examples" / "terraform" / "main.tf").read_text(encoding="utf-8")
    for old, new in (
        # a local path (not absolute: terraform would copy the folder alone, without the ASL beside it)
        (
            '"../../deploy/terraform"',
            json.dumps(os.path.relpath(ROOT / "deploy" / "terraform", root)),
        ),
        ('"${path.root}/../../deploy/dist"', json.dumps(str(dist))),
        ('"${path.root}/../pipelines"', json.dumps(str(ROOT / "examples" / "pipelines"))),
        ('"${path.root}/../calendars"', json.dumps(str(ROOT / "examples" / "calendars"))),
    ):
        assert old in text, f"examples/terraform/main.tf no longer has {old}"
        text = text.replace(old, new)
    (root / "main.tf").write_text(text, encoding="utf-8")
    endpoints = "\n".join(f"    {s} = {json.dumps(endpoint)}" for s in SERVICES)
    (root / "moto_override.tf").write_text(
        f"""# written by scripts/tf_apply_moto.py: every AWS call goes to the moto server
provider "aws" {{
  region                      = "{REGION}"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  endpoints {{
{endpoints}
  }}
}}

variable "environment" {{
  type    = string
  default = "{ENVIRONMENT}"
}}

variable "region" {{
  type    = string
  default = "{REGION}"
}}
""",
        encoding="utf-8",
    )
    return root


def run_tf(args: list[str], cwd: Path, env: dict[str, str], log: Path) -> float:
    start = time.perf_counter()
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n$ terraform {' '.join(args)}\n")
        out.flush()
        proc = subprocess.run(
            ["terraform", *args],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if proc.returncode != 0:
        tail = log.read_text(encoding="utf-8")[-4000:]
        raise SystemExit(
            f"terraform {args[0]} failed (exit {proc.returncode}); log {log}:\n{tail}"
            f"{server_notes()}"
        )
    return time.perf_counter() - start


# ------------------------------------------------------------------------------------- one pipeline

PIPELINE = "gold-revenue"  # a glue job: moto runs Glue jobs (they succeed at once)
FUNCTIONS = (
    "stream_router",
    "orchestrator",
    "sla_monitor",
    "watchdog",
    "event_sink",
    "alert_dispatcher",
)


class Lambdas:
    """The six handlers in this process, each run with the environment Terraform gave its function.

    A loopback HTTP endpoint takes the invocations the server forwards (state machine Tasks, event
    source mappings, EventBridge targets); :meth:`call` runs one handler. Each handler cold-starts with
    ``os.environ`` set to exactly its function's environment; afterwards they run concurrently over the
    union of the environments (:attr:`conflicts`: keys whose values differ between functions).
    """

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.lock = threading.RLock()
        self.env: dict[str, dict[str, str]] = {}
        self.handlers: dict[str, Any] = {}
        self.calls: list[tuple[str, str]] = []
        self.last_call = time.monotonic()
        self.conflicts: set[str] = set()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                reply = outer.invoke(str(body["function"]), body["payload"])
                data = json.dumps(reply, default=str).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def load(self, endpoint: str) -> None:
        """Read each function's environment from Lambda and cold-start its handler under it."""
        import boto3  # type: ignore[import-untyped]

        lam = boto3.client("lambda", region_name=REGION, endpoint_url=endpoint)
        base = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        }
        for name in FUNCTIONS:
            function = f"{ENVIRONMENT}-interlock-{name.replace('_', '-')}"
            config = lam.get_function_configuration(FunctionName=function)
            assert config["Handler"] == f"lambdas.{name}.handler", config["Handler"]
            self.env[name] = {**base, **config.get("Environment", {}).get("Variables", {})}
            with self._environment(name):
                import importlib

                sys.modules.pop(f"lambdas.{name}", None)
                self.handlers[name] = importlib.import_module(f"lambdas.{name}").handler
        # Each handler cold-started under exactly its function's environment (its settings are read
        # there). Calls then run concurrently, so the process keeps the union of the environments.
        union: dict[str, str] = {}
        for env in self.env.values():
            for key, value in env.items():
                if union.get(key, value) != value:
                    self.conflicts.add(key)
                union[key] = value
        os.environ.update(union)

    def _environment(self, name: str) -> Any:
        import contextlib

        @contextlib.contextmanager
        def swapped() -> Any:
            with self.lock:
                saved = dict(os.environ)
                os.environ.clear()
                os.environ.update({k: v for k, v in saved.items() if not k.startswith("AWS_")})
                os.environ.update(self.env[name])
                try:
                    yield
                finally:
                    os.environ.clear()
                    os.environ.update(saved)

        return swapped()

    def call(self, name: str, event: Any) -> Any:
        from dataclasses import dataclass

        @dataclass
        class Context:
            function_name: str = f"{ENVIRONMENT}-interlock-{name.replace('_', '-')}"
            memory_limit_in_mb: int = 256
            invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:{name}"
            aws_request_id: str = "tf-apply-moto"

        # handlers run concurrently (a Task while a stream batch is handled): no environment swap
        self.calls.append((name, str(event.get("mode", "")) if isinstance(event, dict) else ""))
        try:
            return self.handlers[name](event, Context())
        finally:
            self.last_call = time.monotonic()

    def invoke(self, function: str, payload: Any) -> dict[str, Any]:
        """A forwarded invocation of ``function`` (a name or ARN)."""
        short = function.rsplit(":", 1)[-1].removeprefix(f"{ENVIRONMENT}-interlock-")
        name = short.replace("-", "_")
        if name not in self.handlers:
            return {"error": {"errorType": "ResourceNotFound", "errorMessage": function}}
        try:
            return {"result": self.call(name, payload)}
        except Exception as exc:  # a function error, as Lambda reports it
            return {"error": {"errorType": type(exc).__name__, "errorMessage": str(exc)}}


def run_pipeline(lambdas: Lambdas, endpoint: str) -> None:
    """A producer's sensor writes through the applied stack to a COMPLETED run (see the docstring)."""
    from datetime import UTC, datetime

    import boto3

    sys.path.insert(0, str(ROOT))
    from interlock.store.factory import open_store

    start = time.perf_counter()
    for var, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled"),
    ):
        os.environ[var] = value  # this process's own clients (the producer, the checks)
    lambdas.load(endpoint)
    glue = boto3.client("glue", region_name=REGION, endpoint_url=endpoint)
    glue.create_job(Name="gold-revenue-etl", Role="glue", Command={"Name": "glueetl"})
    store = open_store(f"dynamodb://{ENVIRONMENT}?region={REGION}&endpoint={endpoint}")
    control = boto3.resource("dynamodb", region_name=REGION, endpoint_url=endpoint).Table(
        f"{ENVIRONMENT}-interlock-control"
    )
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    pk = f"PIPELINE#{PIPELINE}"
    control.put_item(Item={"PK": pk, "SK": "SENSOR#row-count", "count": 15432})
    control.put_item(Item={"PK": pk, "SK": "SENSOR#freshness", "updatedAt": now})
    control.put_item(Item={"PK": pk, "SK": "SENSOR#upstream-complete", "status": "ready"})
    sfn = boto3.client("stepfunctions", region_name=REGION, endpoint_url=endpoint)
    machine = f"arn:aws:states:{REGION}:123456789012:stateMachine:{ENVIRONMENT}-interlock-pipeline"
    # moto's event source mappings deliver each stream record to the stream-router (asynchronously,
    # through the forwarder); wait until an execution ran and everything is quiet
    deadline = time.monotonic() + 120
    while True:
        running = sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"]
        started = sfn.list_executions(stateMachineArn=machine)["executions"]
        quiet = time.monotonic() - lambdas.last_call > 3
        if started and not running and quiet:
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"no finished execution after 120 s: {started}; calls {lambdas.calls}")
        time.sleep(0.2)
    executions = sfn.list_executions(stateMachineArn=machine)["executions"]
    statuses = [(e["name"], e["status"]) for e in executions]
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    # gold-revenue has a cron (08:00 UTC) and a trigger sensor: after 08:00 the write runs the cron period
    runs = [store.control.get_run(PIPELINE, schedule, day) for schedule in ("cron", "stream")]
    run = next((r for r in runs if r is not None), None)
    events = sorted({e.type.value for e in store.events.for_pipeline(PIPELINE)})
    print(
        f"pipeline {PIPELINE}: executions {statuses}; run {run.status if run else None}; "
        f"handler calls {len(lambdas.calls)} ({', '.join(sorted({n for n, _ in lambdas.calls}))}); "
        f"events stored by the event-sink: {events or 'none'}; {time.perf_counter() - start:.1f} s; "
        f"environment keys differing between functions: {sorted(lambdas.conflicts) or 'none'}"
    )
    if run is None or run.status != "COMPLETED" or [s for _, s in statuses] != ["SUCCEEDED"]:
        raise SystemExit("the pipeline did not complete through the applied stack")
    replay_dead_letters(lambdas, endpoint, machine)


def replay_dead_letters(lambdas: Lambdas, endpoint: str, machine: str) -> None:
    """The watchdog replays a stream batch the stream-router gave up on: the message Lambda's
    on-failure destination would send (moto sends none) for the range of the producer's sensor writes goes to
    the queue named by the watchdog's own STREAM_DLQ_CONTROL_URL; one pass reads the batch from the
    stream, hands it to the stream-router's path (the run exists: nothing starts twice) and deletes it."""
    import boto3

    start = time.perf_counter()
    url = lambdas.env["watchdog"]["STREAM_DLQ_CONTROL_URL"]
    sqs = boto3.client("sqs", region_name=REGION, endpoint_url=endpoint)
    ddb = boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint)
    streams = boto3.client("dynamodbstreams", region_name=REGION, endpoint_url=endpoint)
    arn = ddb.describe_table(TableName=f"{ENVIRONMENT}-interlock-control")["Table"][
        "LatestStreamArn"
    ]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    sensors = [r for r in records if r["dynamodb"]["Keys"]["SK"]["S"].startswith("SENSOR#")]
    if not sensors:
        keys_seen = [r["dynamodb"]["Keys"] for r in records][:20]
        raise SystemExit(
            f"no sensor record in the control stream ({len(records)} records): {keys_seen}"
        )
    seqs = [r["dynamodb"]["SequenceNumber"] for r in sensors]
    batch = [
        r for r in records if int(seqs[0]) <= int(r["dynamodb"]["SequenceNumber"]) <= int(seqs[-1])
    ]
    info = {"streamArn": arn, "shardId": shard, "startSequenceNumber": seqs[0],
            "endSequenceNumber": seqs[-1], "batchSize": len(batch)}  # fmt: skip
    body = {"requestContext": {"condition": "RetryAttemptsExhausted"}, "DDBStreamBatchInfo": info}
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    before = len(boto3.client("stepfunctions", region_name=REGION, endpoint_url=endpoint)
                 .list_executions(stateMachineArn=machine)["executions"])  # fmt: skip
    out = lambdas.call("watchdog", {})
    while time.monotonic() - lambdas.last_call < 3:  # what the pass wrote, streamed and handled
        time.sleep(0.2)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    left = int(attrs["ApproximateNumberOfMessages"]) + int(
        attrs["ApproximateNumberOfMessagesNotVisible"]
    )
    sfn = boto3.client("stepfunctions", region_name=REGION, endpoint_url=endpoint)
    executions = sfn.list_executions(stateMachineArn=machine)["executions"]
    after = len(executions)
    from interlock.store.factory import open_store

    store = open_store(f"dynamodb://{ENVIRONMENT}?region={REGION}&endpoint={endpoint}")
    late = [e for e in store.events.for_pipeline(PIPELINE) if e.type.value == "LATE_DATA_ARRIVAL"]
    print(
        f"stream DLQ replay: {len(batch)} records ({len(seqs)} sensor writes) from {seqs[0]} to"
        f" {seqs[-1]} of {shard};"
        f" watchdog answered {out}; messages left {left}; executions {before} -> {after}"
        f" ({', '.join(e['name'] for e in executions)}); late-data events {len(late)};"
        f" {time.perf_counter() - start:.1f} s"
    )
    if late or left or after != before or out.get("dlq", {}).get("records") != len(batch):
        raise SystemExit(
            "the watchdog did not replay the stream DLQ message through the applied stack"
        )


# ------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument(
        "--run-pipeline",
        action="store_true",
        help="then run one pipeline through the applied stack",
    )
    parser.add_argument(
        "--keep", action="store_true", help="leave the server running (Ctrl-C to stop)"
    )
    parser.add_argument(
        "--target",
        action="append",
        default=[],
        help="terraform apply -target (repeatable; debugging)",
    )
    args = parser.parse_args(argv)
    if args.serve is not None:
        serve(args.serve)
        return 0
    if shutil.which("terraform") is None:
        print("tf-apply-moto: skipped: terraform is not installed")
        return 0
    mirror = find_mirror()
    if mirror is None:
        print(
            "tf-apply-moto: skipped: no offline hashicorp/aws provider mirror (INTERLOCK_TF_MIRROR)"
        )
        return 0
    try:
        import flask  # noqa: F401
        import moto.server  # noqa: F401
    except ImportError as exc:
        print(f"tf-apply-moto: skipped: moto[server] is not installed ({exc})")
        return 0
    WORK.mkdir(parents=True, exist_ok=True)
    log = WORK / "terraform.log"
    log.write_text("", encoding="utf-8")
    validated = subprocess.run(
        [
            sys.executable,
            str(ROOT / "deploy" / "validate_configs.py"),
            str(ROOT / "examples" / "pipelines"),
        ],
        check=False,
    )
    if validated.returncode != 0:
        return validated.returncode
    lambdas = Lambdas() if args.run_pipeline else None
    server, endpoint = start_server(
        WORK / "moto_server.log", lambdas.url if lambdas is not None else None
    )
    print(f"moto server: {endpoint} (log {WORK / 'moto_server.log'})")
    try:
        root = write_root(endpoint)
        env = terraform_env(mirror, endpoint)
        t_init = run_tf(["init", "-input=false", "-no-color"], root, env, log)
        t_apply = run_tf(
            [
                "apply",
                "-input=false",
                "-auto-approve",
                "-no-color",
                "-parallelism=4",
                *(f"-target={t}" for t in args.target),
            ],
            root,
            env,
            log,
        )
        state = subprocess.run(
            ["terraform", "state", "list"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        print(
            f"terraform init {t_init:.1f} s, apply {t_apply:.1f} s: {len(state)} resources "
            f"(log {log})"
        )
        outputs = json.loads(
            subprocess.run(
                ["terraform", "output", "-json"],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        print(f"store_url = {outputs['store_url']['value']}")
        if lambdas is not None:
            run_pipeline(lambdas, endpoint)
        if args.keep:
            print(f"the server keeps running at {endpoint}; Ctrl-C to stop")
            server.wait()
    finally:
        if lambdas is not None:
            lambdas.close()
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
