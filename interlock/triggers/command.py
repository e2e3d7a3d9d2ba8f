"""The ``command`` trigger: run a local program (embedded runtime only).

``start`` launches the program and returns at once; ``status`` polls it::

    start:  split the command (a string with shlex.split, no shell), expand ${VARS} in every argument,
            env value and cwd, then Popen it in a new session with stdout+stderr going to a temp file
    status: still running, within the timeout  -> running
            still running, past the timeout     -> kill the process group -> failed (timeout)
            exit 0                              -> succeeded
            exit 2, 126 or 127                  -> failed (permanent)
            any other exit, or killed by signal -> failed (transient)

Exit-code classes: 2 is the conventional "usage error" (bad arguments: retrying the same arguments
cannot help); 126 and 127 are what a shell or ``env`` wrapper returns for "not executable" and "command
not found". Everything else (1, a crash, a signal) may be a passing problem, so it is transient and
auto-retry may run the job again. A program that cannot be started at all (not found, not executable,
missing cwd) raises :class:`~interlock.triggers.base.TriggerError` (permanent) from ``start``.

Variables are expanded *after* splitting, so a value with spaces or quotes stays one argument and can
never inject another one.

**Adoptable across restarts.** The program runs detached, under a small wrapper (``python -I -S -c``)
that leads its own session (so a timeout kills the whole group), holds an exclusive ``flock`` on
``<job dir>/lock`` for as long as the program or any child that inherited it lives, and writes the exit
status durably to ``<job dir>/exit.json`` (write, fsync, rename) when it ends. The job dir is
``<state_dir>/<run id hash>``, created with ``mkdir`` as the start's claim, and its path, the wrapper's
pid and start time, and the wall-clock deadline are in the handle's metadata (JSON, kept by the runtime's
``JOBSTART`` row). A runner that did not start the job (Interlock was killed and restarted) *adopts* it::

    exit.json present          -> its exit code decides (as below)
    lock held                  -> running (past its deadline: the group is killed, failed (timeout))
    neither                    -> running with ``unknown=True``: the outcome cannot be known; the run is
                                  held (JOB_OUTCOME_UNKNOWN, then poll exhaustion), never retried, and
                                  never reported as failed

and a replayed ``start`` for a run id whose job dir exists returns that job's handle instead of starting a
second program (this closes the crash window between the program's start and the runtime's record of it).
Give ``state_dir`` a durable place (``interlock run`` uses ``<store dir>/jobs``); without it each runner
uses a fresh temporary directory. :meth:`CommandRunner.close` kills programs still running only when
there is no ``state_dir`` (with one, a stopped runtime leaves them for the next one to adopt).

The environment of the program is minimal: ``PATH``, ``HOME``, locale, ``TZ``, ``TMPDIR`` and the user
name from the inherited environment, then the job's ``env`` on top. Interlock's own settings and
credentials (``AWS_*``, ``INTERLOCK_*``) are not passed on unless the job's ``env`` names them
(``FOO: ${INTERLOCK_FOO}``).

The output file holds the whole output (it is not truncated while the program runs) and is left in
place for the operator; its path is in the handle's metadata (``output``) and the last 4 KB of it are
in the status message.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interlock.config.models import CommandJobConfig
from interlock.triggers.base import (
    FailureClass,
    JobStatus,
    RunHandle,
    TriggerContext,
    TriggerError,
)
from interlock.triggers.polling import parse_config

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from interlock.schedule import Period

__all__ = ["OUTPUT_TAIL_BYTES", "PERMANENT_EXIT_CODES", "CommandRunner"]

OUTPUT_TAIL_BYTES = 4096
"""How much of the end of a command's output goes into its status message."""

PERMANENT_EXIT_CODES = frozenset({2, 126, 127})
"""Exit codes that mean retrying cannot help: usage error, not executable, command not found."""

_INHERITED = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "SYSTEMROOT",  # Windows cannot start most programs without it
)


# The wrapper: argv = job dir, status fd, cwd ("" for none), program argv... It reports a start failure
# (an OSError) on the status fd as JSON, or "ok"; then waits and writes exit.json durably.
_WRAPPER = r"""
import fcntl, json, os, subprocess, sys, time
job, fd, cwd, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3] or None, sys.argv[4:]
lock = os.open(os.path.join(job, "lock"), os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(lock, fcntl.LOCK_EX)
try:
    child = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, pass_fds=(lock,))
except OSError as exc:
    os.write(fd, json.dumps([exc.errno, exc.strerror, exc.filename]).encode())
    sys.exit(127)
os.write(fd, b"ok")
os.close(fd)
code = child.wait()
tmp = os.path.join(job, "exit.json.tmp")
with open(tmp, "w") as f:
    json.dump({"code": code, "ended": time.time()}, f)
    f.flush()
    os.fsync(f.fileno())
os.replace(tmp, os.path.join(job, "exit.json"))
dfd = os.open(job, os.O_RDONLY)
os.fsync(dfd)
"""
_EXIT_FILE = "exit.json"
_LOCK_FILE = "lock"


@dataclass
class _Running:
    process: subprocess.Popen[bytes]
    output: Path
    started: float
    deadline: float | None
    job_dir: Path
    timed_out: bool = False


def _job_dir_name(run_id: str) -> str:
    return hashlib.sha256(run_id.encode()).hexdigest()[:32]


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (``/proc``), to tell it from a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":  # a zombie has ended
        return None
    return int(fields[19])


def _read_exit(job_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((job_dir / _EXIT_FILE).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("code"), int) else None


def _lock_held(job_dir: Path) -> bool:
    """Whether the wrapper, the program or a child of it still holds the job's lock (is running)."""
    try:
        fd = os.open(job_dir / _LOCK_FILE, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases a lock this call took
    return False


def _tail(path: Path) -> str:
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - OUTPUT_TAIL_BYTES))
            data = f.read(OUTPUT_TAIL_BYTES)
    except OSError as exc:
        return f"(output unreadable: {exc})"
    text = data.decode("utf-8", errors="replace")
    # Keep newlines and tabs; drop other control characters so a message stays printable.
    text = "".join(c for c in text if c in "\n\t" or c.isprintable())
    return text.strip()


def _as_config(job_config: Any) -> CommandJobConfig:
    return parse_config(CommandJobConfig, job_config, "command")


class CommandRunner:
    """Runs ``command`` jobs as local subprocesses (see the module docstring).

    Use it as a context manager (or call :meth:`close`) so programs still running at the end are
    killed rather than left behind.
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        output_dir: str | os.PathLike[str] | None = None,
        state_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        """Create a runner.

        Args:
            env: the environment Interlock runs in: the source of the inherited variables and of
                ``${INTERLOCK_*}`` template variables (default: ``os.environ``, read at each start).
            clock: monotonic seconds, for timeouts.
            output_dir: where output files go (default: the system temp directory).
            state_dir: where job dirs (lock, exit status) go, durably, so a restarted Interlock adopts
                the jobs it started (default: a fresh temporary directory; jobs are then killed on
                :meth:`close`).
        """
        self._env = env
        self._clock = clock
        self._output_dir = None if output_dir is None else os.fspath(output_dir)
        self._adoptable = state_dir is not None
        self._state_dir = (
            Path(state_dir)
            if state_dir is not None
            else Path(tempfile.mkdtemp(prefix="interlock-jobs-"))
        )
        self._running: dict[str, _Running] = {}

    def __repr__(self) -> str:
        return f"CommandRunner(running={len(self._running)})"

    def __enter__(self) -> CommandRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Kill every program this runner started that is still running, and reap it.

        With a ``state_dir`` the programs are left running, for the next runner to adopt.
        """
        if self._adoptable:
            # Left running for the next runner to adopt; a daemon thread reaps each one that ends
            # while this process lives (no zombie, no "still running" warning).
            for running in self._running.values():
                if running.process.poll() is None:
                    threading.Thread(target=running.process.wait, daemon=True).start()
            return
        for running in self._running.values():
            if running.process.poll() is None:
                self._kill(running)

    # ---------------------------------------------------------------------------------- start

    def start(self, job_config: Any, *, pipeline_id: str, period: Period, run_id: str) -> RunHandle:
        """Launch the command and return without waiting for it.

        Args:
            job_config: a :class:`~interlock.config.models.CommandJobConfig` (or its mapping).
            pipeline_id: the pipeline (``${PIPELINE}``).
            period: the run's period (``${PERIOD}``, ``${DATE}``, ``${HOUR}``).
            run_id: the run's id (``${RUN_ID}``); one run id may be started once per runner.

        Returns:
            A handle whose metadata holds ``pid`` (the wrapper's, which leads the program's process
            group), ``pid_start`` (its start time), ``output`` (the output file), ``state`` (the job
            dir), ``deadline`` (wall-clock epoch seconds, or ``None``) and ``runner_pid``. If a job
            dir for ``run_id`` exists already (a replayed start after a crash), that job's handle.

        Raises:
            TriggerError: permanent for a bad command line, an unknown variable, a program that is not
                found or not executable, a missing cwd, or a run id already started; transient for
                other OS errors (out of processes, file descriptors).
        """
        config = _as_config(job_config)
        environ = os.environ if self._env is None else self._env
        context = TriggerContext.build(
            pipeline_id=pipeline_id, period=period, run_id=run_id, environ=environ
        )
        argv = self._argv(config, context)
        child_env = {name: environ[name] for name in _INHERITED if name in environ}
        child_env.update({k: context.expand(v) for k, v in config.env.items()})
        cwd = context.expand(config.cwd) if config.cwd is not None else None
        if run_id in self._running:
            raise TriggerError(
                f"run {run_id!r} was already started by this runner", failure=FailureClass.PERMANENT
            )

        job_dir = self._state_dir / _job_dir_name(run_id)
        try:
            self._state_dir.mkdir(parents=True, exist_ok=True)
            job_dir.mkdir()  # the claim: one program per run id, across processes
        except FileExistsError:
            return self._existing(job_dir, run_id)
        except OSError as exc:
            raise TriggerError(
                f"cannot create the job dir {job_dir}: {exc}", failure=FailureClass.TRANSIENT
            ) from exc
        fd, name = tempfile.mkstemp(
            prefix=f"interlock-{pipeline_id}-", suffix=".log", dir=self._output_dir
        )
        output = Path(name)
        try:
            process = self._launch(argv, cwd, child_env, fd, job_dir)
        except OSError as exc:
            output.unlink(missing_ok=True)
            _remove_dir(job_dir)
            raise self._start_error(exc, argv[0], cwd) from exc

        started = self._clock()
        deadline = None if config.timeout is None else started + config.timeout.total_seconds()
        self._running[run_id] = _Running(process, output, started, deadline, job_dir)
        now = time.time()
        metadata = {
            "pid": process.pid,
            "pid_start": _start_time(process.pid),
            "output": str(output),
            "state": str(job_dir),
            "started_at": now,
            "deadline": None if config.timeout is None else now + config.timeout.total_seconds(),
            "runner_pid": os.getpid(),
        }
        _write_json(job_dir / "handle.json", metadata)
        return RunHandle(run_id, metadata)

    @staticmethod
    def _launch(
        argv: list[str], cwd: str | None, env: dict[str, str], fd: int, job_dir: Path
    ) -> subprocess.Popen[bytes]:
        """Start the wrapper; raise the program's own start error (an OSError) if it could not start."""
        read, write = os.pipe()
        wrapper = [sys.executable, "-I", "-S", "-c", _WRAPPER, str(job_dir), str(write), cwd or ""]
        try:
            with os.fdopen(fd, "wb") as sink:
                process = subprocess.Popen(  # an argv list, never a shell
                    [*wrapper, *argv],
                    stdin=subprocess.DEVNULL,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    env=env,
                    pass_fds=(write,),
                    start_new_session=True,  # its own process group, so a timeout kills its children
                )
            os.close(write)
            write = -1
            with os.fdopen(read, "rb") as answer:
                read = -1
                reply = answer.read()
        finally:
            for end in (read, write):
                if end >= 0:
                    os.close(end)
        if reply == b"ok":
            return process
        process.wait()
        try:
            errno, strerror, filename = json.loads(reply)
        except (ValueError, TypeError):
            raise OSError(f"the job wrapper failed to start (exit {process.returncode})") from None
        raise OSError(errno, strerror, filename)

    def _existing(self, job_dir: Path, run_id: str) -> RunHandle:
        """The handle of the job a previous start of ``run_id`` launched (a replayed start)."""
        try:
            metadata = json.loads((job_dir / "handle.json").read_text())
        except (OSError, ValueError):
            # Claimed but its handle never written: the program may or may not have started.
            metadata = {"pid": None, "state": str(job_dir), "output": None}
        return RunHandle(run_id, metadata)

    @staticmethod
    def _argv(config: CommandJobConfig, context: TriggerContext) -> list[str]:
        if isinstance(config.command, str):
            try:
                words = shlex.split(config.command)
            except ValueError as exc:  # an unclosed quote
                raise TriggerError(
                    f"cannot split command {config.command!r}: {exc}",
                    failure=FailureClass.PERMANENT,
                ) from exc
        else:
            words = list(config.command)
        if not words:
            raise TriggerError("the command is empty", failure=FailureClass.PERMANENT)
        return [context.expand(word) for word in words]

    @staticmethod
    def _start_error(exc: OSError, program: str, cwd: str | None) -> TriggerError:
        if cwd is not None and isinstance(exc, FileNotFoundError | NotADirectoryError):
            if exc.filename == cwd or not Path(cwd).is_dir():
                return TriggerError(
                    f"cannot run {program!r}: working directory {cwd!r} does not exist",
                    failure=FailureClass.PERMANENT,
                )
        if isinstance(exc, FileNotFoundError):
            return TriggerError(
                f"command not found: {program!r} (not on PATH, or no such file)",
                failure=FailureClass.PERMANENT,
            )
        if isinstance(exc, PermissionError):
            return TriggerError(
                f"command {program!r} is not executable: {exc.strerror}",
                failure=FailureClass.PERMANENT,
            )
        return TriggerError(f"cannot start {program!r}: {exc}", failure=FailureClass.TRANSIENT)

    # --------------------------------------------------------------------------------- status

    def status(self, job_config: Any, handle: RunHandle) -> JobStatus:
        """Poll a command started by this runner; kill it if it ran past its timeout.

        Args:
            job_config: the config passed to :meth:`start` (the timeout recorded then is used).
            handle: the handle :meth:`start` returned.

        Returns:
            ``running``; ``succeeded``; or ``failed`` with the failure class (see the module
            docstring). The message gives the exit code, the run time and the output's last 4 KB.
        """
        running = self._running.get(handle.run_id)
        if running is None or running.process.pid != handle.metadata.get("pid"):
            return self._adopt(handle)
        code = running.process.poll()
        if code is None:
            if running.deadline is None or self._clock() < running.deadline:
                return JobStatus("running", None, f"pid {running.process.pid} running")
            self._kill(running)
            running.timed_out = True
            code = running.process.returncode
        elapsed = self._clock() - running.started
        output = _output_note(running.output)
        if running.timed_out:
            assert running.deadline is not None
            budget = running.deadline - running.started
            return JobStatus(
                "failed",
                FailureClass.TIMEOUT,
                f"killed after its {budget:g}s timeout{output}",
            )
        ended = _read_exit(running.job_dir)
        if ended is not None:  # the program's own code (the wrapper's is not the program's)
            code = int(ended["code"])
        return _classify(code, elapsed, output)

    def _adopt(self, handle: RunHandle) -> JobStatus:
        """Status of a job this runner did not start (see the module docstring)."""
        meta = handle.metadata
        state = meta.get("state")
        pid = meta.get("pid")
        where = f"command run {handle.run_id!r} (pid {pid})"
        output_path = meta.get("output")
        output = _output_note(Path(output_path)) if isinstance(output_path, str) else "; no output"
        if not isinstance(state, str):
            return JobStatus(
                "running",
                None,
                f"{where} outcome unknown: its handle has no job dir (started by an older Interlock?); "
                "it is held, not retried",
                unknown=True,
            )
        job_dir = Path(state)
        for _ in range(2):  # exit file, lock, exit file again (it may end in between)
            ended = _read_exit(job_dir)
            if ended is not None:
                started = meta.get("started_at")
                elapsed = (
                    float(ended.get("ended", 0)) - float(started)
                    if isinstance(started, int | float)
                    else 0.0
                )
                return _classify(int(ended["code"]), max(elapsed, 0.0), output)
            if _lock_held(job_dir):
                deadline = meta.get("deadline")
                if isinstance(deadline, int | float) and time.time() >= deadline:
                    if isinstance(pid, int) and _start_time(pid) == meta.get("pid_start"):
                        with contextlib.suppress(ProcessLookupError, PermissionError):
                            os.killpg(pid, signal.SIGKILL)
                    return JobStatus(
                        "failed", FailureClass.TIMEOUT, f"{where} killed after its timeout{output}"
                    )
                return JobStatus("running", None, f"{where} running (adopted after a restart)")
        return JobStatus(
            "running",
            None,
            f"{where} outcome unknown: it is not running and left no exit status (killed with its "
            f"wrapper?); it is held, not retried{output}",
            unknown=True,
        )

    @staticmethod
    def _kill(running: _Running) -> None:
        # The child leads its own session, so its pid is the process group id; killing the group
        # takes its children with it (a shell script's `sleep`, a Spark driver's workers).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(running.process.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            running.process.kill()
        running.process.wait()


def _classify(code: int, elapsed: float, output: str) -> JobStatus:
    if code == 0:
        return JobStatus("succeeded", None, f"exit code 0 after {elapsed:.1f}s{output}")
    if code < 0:
        what = f"killed by signal {-code}"
    else:
        what = f"exit code {code}"
    failure = FailureClass.PERMANENT if code in PERMANENT_EXIT_CODES else FailureClass.TRANSIENT
    return JobStatus("failed", failure, f"{what} after {elapsed:.1f}s{output}")


def _output_note(path: Path) -> str:
    tail = _tail(path)
    return f"; output (last {OUTPUT_TAIL_BYTES} bytes):\n{tail}" if tail else "; no output"


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w") as f:
        json.dump(data, f)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def _remove_dir(path: Path) -> None:
    for child in path.iterdir():
        child.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        path.rmdir()
