"""The command trigger: real subprocesses, polled until they end (no sleeps in the tests)."""

from __future__ import annotations

import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from interlock.config.models import CommandJobConfig
from interlock.schedule import Period
from interlock.triggers import (
    CommandRunner,
    FailureClass,
    JobStatus,
    RunHandle,
    TriggerContext,
    TriggerError,
    expand,
    runner_for,
)
from interlock.triggers.command import _job_dir_name, _lock_held

if TYPE_CHECKING:
    from collections.abc import Iterator

PY = sys.executable
HOURLY = Period(date(2026, 3, 28), 7)
DAILY = Period(date(2026, 3, 28))
ENV = {"PATH": os.environ.get("PATH", ""), "INTERLOCK_TOKEN": "s3cret", "AWS_SECRET": "nope"}


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[CommandRunner]:
    with CommandRunner(env=ENV, output_dir=tmp_path) as r:
        yield r


def config(*argv: str, **extra: object) -> CommandJobConfig:
    return CommandJobConfig.model_validate({"command": argv, **extra})


def wait(runner: CommandRunner, cfg: CommandJobConfig, handle: RunHandle) -> JobStatus:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status = runner.status(cfg, handle)
        if status.state != "running":
            return status
    raise AssertionError("the command did not finish within 20s")


def run(runner: CommandRunner, cfg: CommandJobConfig, period: Period = HOURLY) -> JobStatus:
    handle = runner.start(cfg, pipeline_id="orders", period=period, run_id="run-1")
    return wait(runner, cfg, handle)


def test_success_reports_exit_zero_and_output(runner: CommandRunner, tmp_path: Path) -> None:
    cfg = config(PY, "-c", "print('hello from the job')")
    handle = runner.start(cfg, pipeline_id="orders", period=HOURLY, run_id="run-1")
    assert handle.run_id == "run-1"
    assert isinstance(handle.metadata["pid"], int)
    status = wait(runner, cfg, handle)
    assert status.state == "succeeded"
    assert status.failure is None
    assert "exit code 0" in status.message
    assert "hello from the job" in status.message
    output = Path(handle.metadata["output"])
    assert output.read_text() == "hello from the job\n"
    assert output.parent == tmp_path


@pytest.mark.parametrize(
    ("code", "failure"),
    [
        (1, FailureClass.TRANSIENT),
        (3, FailureClass.TRANSIENT),
        (2, FailureClass.PERMANENT),
        (126, FailureClass.PERMANENT),
        (127, FailureClass.PERMANENT),
    ],
)
def test_non_zero_exit_classes(runner: CommandRunner, code: int, failure: FailureClass) -> None:
    status = run(runner, config(PY, "-c", f"import sys; print('boom'); sys.exit({code})"))
    assert status.state == "failed"
    assert status.failure is failure
    assert f"exit code {code}" in status.message
    assert "boom" in status.message


def test_output_tail_is_at_most_4kb(runner: CommandRunner) -> None:
    status = run(runner, config(PY, "-c", "print('x' * 10000 + 'END')"))
    assert status.state == "succeeded"
    assert status.message.endswith("END")
    assert status.message.count("x") <= 4096


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")  # a zombie is dead, just unreaped


def test_timeout_kills_the_process_group(runner: CommandRunner) -> None:
    # GIVEN a job that starts a grandchild, and both sleep far past a 0.3s timeout
    script = (
        f"import subprocess, time; p = subprocess.Popen([{PY!r}, '-c', 'import time; time.sleep(30)']); "
        "print(p.pid, flush=True); time.sleep(30)"
    )
    cfg = config(PY, "-c", script, timeout=0.3)
    # WHEN it is polled until it ends
    handle = runner.start(cfg, pipeline_id="orders", period=HOURLY, run_id="run-1")
    started = time.monotonic()
    status = wait(runner, cfg, handle)
    # THEN it was killed as a timeout, well before it would have ended
    assert status.state == "failed"
    assert status.failure is FailureClass.TIMEOUT
    assert "0.3s timeout" in status.message
    assert time.monotonic() - started < 10
    assert runner.status(cfg, handle) == status  # polling again gives the same answer
    # AND the grandchild went with it (the whole process group was killed)
    output = Path(handle.metadata["output"]).read_text().split()
    if output and Path("/proc").is_dir():
        grandchild, deadline = int(output[0]), time.monotonic() + 5
        while _alive(grandchild) and time.monotonic() < deadline:
            pass  # SIGKILL is delivered asynchronously: poll the real process, bounded
        assert not _alive(grandchild)


def test_env_and_cwd_are_honoured(runner: CommandRunner, tmp_path: Path) -> None:
    script = (
        "import os; print(os.getcwd()); print(os.environ['GREETING']); "
        "print(sorted(k for k in os.environ if k.startswith(('INTERLOCK_', 'AWS_'))))"
    )
    cfg = config(
        PY,
        "-c",
        script,
        env={"GREETING": "hi ${PIPELINE}", "TOKEN": "${INTERLOCK_TOKEN}"},
        cwd=str(tmp_path),
    )
    handle = runner.start(cfg, pipeline_id="orders", period=HOURLY, run_id="run-1")
    assert wait(runner, cfg, handle).state == "succeeded"
    lines = Path(handle.metadata["output"]).read_text().splitlines()
    assert Path(lines[0]).resolve() == tmp_path.resolve()
    assert lines[1] == "hi orders"
    assert lines[2] == "[]"  # Interlock's own settings and credentials are not inherited


def test_arguments_are_templated_without_splitting(runner: CommandRunner) -> None:
    cfg = CommandJobConfig(
        command=f"{PY} -c 'import sys; print(sys.argv[1:])' ${{PIPELINE}} ${{PERIOD}} ${{DATE}} "
        "h=${HOUR} ${RUN_ID} $INTERLOCK_TOKEN '${INTERLOCK_TOKEN} two' 100$$"
    )
    handle = runner.start(cfg, pipeline_id="orders", period=HOURLY, run_id="run 1")
    assert wait(runner, cfg, handle).state == "succeeded"
    printed = Path(handle.metadata["output"]).read_text().strip()
    assert printed == str(
        ["orders", "2026-03-28T07", "2026-03-28", "h=07", "run 1", "s3cret", "s3cret two", "100$"]
    )


def test_daily_period_has_an_empty_hour() -> None:
    ctx = TriggerContext.build(pipeline_id="p", period=DAILY, run_id="r", environ={})
    assert ctx.expand("${PERIOD}|${DATE}|${HOUR}|") == "2026-03-28|2026-03-28||"


@pytest.mark.parametrize(
    "template", ["${DATTE}", "$${X}${TOKEN}", "${INTERLOCK_MISSING}", "${oops"]
)
def test_unknown_variable_is_refused(template: str) -> None:
    with pytest.raises(TriggerError) as info:
        expand(template, {"DATE": "2026-03-28", "X": "x"})
    assert info.value.failure is FailureClass.PERMANENT


def test_unknown_variable_in_a_command_starts_nothing(runner: CommandRunner) -> None:
    cfg = config(PY, "-c", "print(1)", "${DATTE}")
    with pytest.raises(TriggerError, match=r"\$\{DATTE\}") as info:
        runner.start(cfg, pipeline_id="orders", period=HOURLY, run_id="run-1")
    assert info.value.failure is FailureClass.PERMANENT
    assert repr(runner) == "CommandRunner(running=0)"


def test_literal_dollars_are_left_alone() -> None:
    assert expand("$HOME costs $5 and $$", {}) == "$HOME costs $5 and $"


def test_command_not_found_is_permanent(runner: CommandRunner) -> None:
    with pytest.raises(TriggerError, match="command not found") as info:
        runner.start(
            config("no-such-program-interlock"), pipeline_id="p", period=HOURLY, run_id="r"
        )
    assert info.value.failure is FailureClass.PERMANENT


def test_not_executable_is_permanent(runner: CommandRunner, tmp_path: Path) -> None:
    script = tmp_path / "job.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    with pytest.raises(TriggerError, match="not executable") as info:
        runner.start(config(str(script)), pipeline_id="p", period=HOURLY, run_id="r")
    assert info.value.failure is FailureClass.PERMANENT


def test_missing_cwd_is_permanent(runner: CommandRunner, tmp_path: Path) -> None:
    cfg = config(PY, "-c", "print(1)", cwd=str(tmp_path / "nowhere"))
    with pytest.raises(TriggerError, match="working directory") as info:
        runner.start(cfg, pipeline_id="p", period=HOURLY, run_id="r")
    assert info.value.failure is FailureClass.PERMANENT


def test_unclosed_quote_is_permanent(runner: CommandRunner) -> None:
    with pytest.raises(TriggerError, match="cannot split") as info:
        runner.start(
            CommandJobConfig(command="echo 'oops"), pipeline_id="p", period=HOURLY, run_id="r"
        )
    assert info.value.failure is FailureClass.PERMANENT


def test_same_run_id_cannot_start_twice(runner: CommandRunner) -> None:
    cfg = config(PY, "-c", "print(1)")
    handle = runner.start(cfg, pipeline_id="p", period=HOURLY, run_id="r")
    with pytest.raises(TriggerError, match="already started"):
        runner.start(cfg, pipeline_id="p", period=HOURLY, run_id="r")
    assert wait(runner, cfg, handle).state == "succeeded"


def runner_dir(handle: RunHandle) -> Path:
    return Path(handle.metadata["output"]).parent


def waits_for(marker: Path, log: Path, code: int = 0) -> CommandJobConfig:
    """A job that appends one line to ``log``, waits for ``marker`` to exist, then exits ``code``."""
    script = (
        "import os, sys, time\n"
        f"open({str(log)!r}, 'a').write('ran\\n')\n"
        f"while not os.path.exists({str(marker)!r}): time.sleep(0.01)\n"
        f"sys.exit({code})\n"
    )
    return config(PY, "-c", script)


def test_another_runner_adopts_a_job_and_reads_its_exit_status(tmp_path: Path) -> None:
    marker, log = tmp_path / "go", tmp_path / "ran.log"
    cfg = waits_for(marker, log, code=3)
    first = CommandRunner(env=ENV, output_dir=tmp_path, state_dir=tmp_path / "jobs")
    handle = first.start(cfg, pipeline_id="p", period=HOURLY, run_id="r")
    first.close()  # with a state dir the job is left running for the next runner
    restarted = CommandRunner(env=ENV, output_dir=tmp_path, state_dir=tmp_path / "jobs")
    status = restarted.status(cfg, handle)
    assert (status.state, status.unknown) == ("running", False)
    assert "adopted" in status.message
    # A replayed start of the same run id (the crash came before the start was recorded) adopts too.
    again = restarted.start(cfg, pipeline_id="p", period=HOURLY, run_id="r")
    assert again.metadata["pid"] == handle.metadata["pid"]
    marker.touch()
    final = wait(restarted, cfg, handle)
    assert (final.state, final.failure) == ("failed", FailureClass.TRANSIENT)
    assert "exit code 3" in final.message
    assert log.read_text() == "ran\n"  # one execution
    first._running["r"].process.wait()


def test_the_starting_runner_reports_the_programs_own_exit_code(tmp_path: Path) -> None:
    marker, log = tmp_path / "go", tmp_path / "ran.log"
    marker.touch()
    with CommandRunner(env=ENV, output_dir=tmp_path) as r:
        cfg = waits_for(marker, log, code=2)
        status = wait(r, cfg, r.start(cfg, pipeline_id="p", period=HOURLY, run_id="r"))
    assert (status.state, status.failure) == ("failed", FailureClass.PERMANENT)
    assert "exit code 2" in status.message


def test_a_job_killed_with_its_wrapper_is_held_as_outcome_unknown(tmp_path: Path) -> None:
    cfg = waits_for(tmp_path / "never", tmp_path / "ran.log")
    first = CommandRunner(env=ENV, output_dir=tmp_path, state_dir=tmp_path / "jobs")
    handle = first.start(cfg, pipeline_id="p", period=HOURLY, run_id="r")
    os.killpg(handle.metadata["pid"], 9)  # the whole group dies: no exit status is written
    first._running["r"].process.wait()
    deadline = time.monotonic() + 20  # the orphaned job's exit (which drops the lock) may lag
    while _lock_held(Path(handle.metadata["state"])) and time.monotonic() < deadline:
        time.sleep(0.01)
    restarted = CommandRunner(env=ENV, output_dir=tmp_path, state_dir=tmp_path / "jobs")
    status = restarted.status(cfg, handle)
    assert (status.state, status.unknown) == ("running", True)
    assert "outcome unknown" in status.message
    assert "not retried" in status.message


def test_a_replayed_start_after_a_crash_before_the_handle_was_written_is_unknown(
    tmp_path: Path,
) -> None:
    r = CommandRunner(env=ENV, output_dir=tmp_path, state_dir=tmp_path / "jobs")
    claimed = tmp_path / "jobs" / _job_dir_name("r")
    claimed.mkdir(
        parents=True
    )  # claimed by a runtime that died before it launched (or recorded) the program
    handle = r.start(config(PY, "-c", "print(1)"), pipeline_id="p", period=HOURLY, run_id="r")
    assert handle.metadata["pid"] is None
    status = r.status(config(PY), handle)
    assert (status.state, status.unknown) == ("running", True)


def test_a_handle_without_a_job_dir_is_outcome_unknown(tmp_path: Path) -> None:
    old = RunHandle("r", {"pid": 12345, "output": str(tmp_path / "x.log"), "runner_pid": 1})
    status = CommandRunner(env=ENV).status(config(PY), old)
    assert (status.state, status.unknown, status.failure) == ("running", True, None)


def test_an_adopted_job_past_its_deadline_is_killed(tmp_path: Path) -> None:
    cfg = waits_for(tmp_path / "never", tmp_path / "ran.log")
    first = CommandRunner(env=ENV, output_dir=tmp_path, state_dir=tmp_path / "jobs")
    handle = first.start(cfg, pipeline_id="p", period=HOURLY, run_id="r")
    expired = RunHandle("r", {**handle.metadata, "deadline": time.time() - 1})
    restarted = CommandRunner(env=ENV, output_dir=tmp_path, state_dir=tmp_path / "jobs")
    status = restarted.status(cfg, expired)
    assert (status.state, status.failure) == ("failed", FailureClass.TIMEOUT)
    first._running["r"].process.wait()  # the group was killed
    assert first._running["r"].process.returncode == -9


def test_a_program_that_cannot_start_leaves_no_claim(tmp_path: Path) -> None:
    with CommandRunner(env=ENV, output_dir=tmp_path, state_dir=tmp_path / "jobs") as r:
        with pytest.raises(TriggerError, match="command not found"):
            r.start(config("no-such-program-xyz"), pipeline_id="p", period=HOURLY, run_id="r")
        assert list((tmp_path / "jobs").iterdir()) == []
        status = run(r, config(PY, "-c", "print(1)"))
    assert status.state == "succeeded"


def test_close_kills_what_is_still_running(tmp_path: Path) -> None:
    cfg = config(PY, "-c", "import time; time.sleep(30)")
    with CommandRunner(env=ENV, output_dir=tmp_path) as r:
        handle = r.start(cfg, pipeline_id="p", period=HOURLY, run_id="r")
        assert r.status(cfg, handle).state == "running"
    status = r.status(cfg, handle)
    assert status.state == "failed"
    assert "killed by signal" in status.message


def test_runner_for_knows_command_and_refuses_unknown_types() -> None:
    assert isinstance(runner_for("command"), CommandRunner)
    with pytest.raises(TriggerError, match="unknown job type") as info:
        runner_for("ftp")
    assert info.value.failure is FailureClass.PERMANENT


def test_run_keeps_command_job_state_next_to_the_store(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from interlock.cli.run_cmd import job_state_dir

    sqlite = SimpleNamespace(backend=SimpleNamespace(path=tmp_path / "i.db"), url="sqlite:///i.db")
    assert job_state_dir(sqlite) == tmp_path / "i.db.jobs"
    dynamo = SimpleNamespace(backend=object(), url="dynamodb://prod?region=eu-west-1")
    other = SimpleNamespace(backend=object(), url="dynamodb://dev?region=eu-west-1")
    assert job_state_dir(dynamo).parent == Path(".interlock")
    assert job_state_dir(dynamo) != job_state_dir(other)


def test_crash_point_does_nothing_unless_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from interlock.service.crashpoint import CRASH_ENV, crash_point

    monkeypatch.setenv(CRASH_ENV, "somewhere-else")
    crash_point("job-started")  # still alive
    monkeypatch.delenv(CRASH_ENV)
    crash_point("job-started")
