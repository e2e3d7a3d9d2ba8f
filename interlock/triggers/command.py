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

**Same process only.** The running program is tracked by the :class:`CommandRunner` that started it
(its ``Popen`` object, its deadline). ``status`` with a handle from another process (Interlock
restarted) or another runner reports a permanent failure: the exit status cannot be known and the
program may still be running, so it must not be retried blindly. This runner is meant for the embedded
runtime; in AWS (Lambda + Step Functions) command jobs are not available, as there is no long-lived
process to own the child.

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
import os
import shlex
import signal
import subprocess
import tempfile
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


@dataclass
class _Running:
    process: subprocess.Popen[bytes]
    output: Path
    started: float
    deadline: float | None
    timed_out: bool = False


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
    ) -> None:
        """Create a runner.

        Args:
            env: the environment Interlock runs in: the source of the inherited variables and of
                ``${INTERLOCK_*}`` template variables (default: ``os.environ``, read at each start).
            clock: monotonic seconds, for timeouts.
            output_dir: where output files go (default: the system temp directory).
        """
        self._env = env
        self._clock = clock
        self._output_dir = None if output_dir is None else os.fspath(output_dir)
        self._running: dict[str, _Running] = {}

    def __repr__(self) -> str:
        return f"CommandRunner(running={len(self._running)})"

    def __enter__(self) -> CommandRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Kill every program this runner started that is still running, and reap it."""
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
            A handle whose metadata holds ``pid``, ``output`` (the output file) and ``runner_pid``.

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

        fd, name = tempfile.mkstemp(
            prefix=f"interlock-{pipeline_id}-", suffix=".log", dir=self._output_dir
        )
        output = Path(name)
        try:
            with os.fdopen(fd, "wb") as sink:
                process = subprocess.Popen(  # an argv list, never a shell
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    env=child_env,
                    cwd=cwd,
                    start_new_session=True,  # its own process group, so a timeout kills its children
                )
        except OSError as exc:
            output.unlink(missing_ok=True)
            raise self._start_error(exc, argv[0], cwd) from exc

        started = self._clock()
        deadline = None if config.timeout is None else started + config.timeout.total_seconds()
        self._running[run_id] = _Running(process, output, started, deadline)
        return RunHandle(
            run_id,
            {"pid": process.pid, "output": str(output), "runner_pid": os.getpid()},
        )

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
            return JobStatus(
                "failed",
                FailureClass.PERMANENT,
                f"command run {handle.run_id!r} (pid {handle.metadata.get('pid')}) was not started by "
                "this Interlock process (did it restart?): its exit status cannot be known and it may "
                f"still be running; see its output in {handle.metadata.get('output')}",
            )
        code = running.process.poll()
        if code is None:
            if running.deadline is None or self._clock() < running.deadline:
                return JobStatus("running", None, f"pid {running.process.pid} running")
            self._kill(running)
            running.timed_out = True
            code = running.process.returncode
        elapsed = self._clock() - running.started
        tail = _tail(running.output)
        output = f"; output (last {OUTPUT_TAIL_BYTES} bytes):\n{tail}" if tail else "; no output"
        if running.timed_out:
            assert running.deadline is not None
            budget = running.deadline - running.started
            return JobStatus(
                "failed",
                FailureClass.TIMEOUT,
                f"killed after its {budget:g}s timeout{output}",
            )
        if code == 0:
            return JobStatus("succeeded", None, f"exit code 0 after {elapsed:.1f}s{output}")
        if code < 0:
            what = f"killed by signal {-code}"
        else:
            what = f"exit code {code}"
        failure = FailureClass.PERMANENT if code in PERMANENT_EXIT_CODES else FailureClass.TRANSIENT
        return JobStatus("failed", failure, f"{what} after {elapsed:.1f}s{output}")

    @staticmethod
    def _kill(running: _Running) -> None:
        # The child leads its own session, so its pid is the process group id; killing the group
        # takes its children with it (a shell script's `sleep`, a Spark driver's workers).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(running.process.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            running.process.kill()
        running.process.wait()
