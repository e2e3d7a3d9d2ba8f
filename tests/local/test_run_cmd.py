"""`interlock run`: starts on valid pipelines, refuses invalid ones, stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from interlock.cli import main
from interlock.store import open_store

if TYPE_CHECKING:
    from pathlib import Path

PIPELINE = """\
pipeline: {id: hello}
schedule:
  trigger: {key: ready, check: equals, field: ok, value: true}
  evaluation: {window: 5m, interval: 2s}
job:
  type: command
  config: {command: ["python3", "-c", "pass"]}
"""


@pytest.fixture
def pipelines(tmp_path: Path) -> Path:
    d = tmp_path / "pipelines"
    d.mkdir()
    (d / "hello.yaml").write_text(PIPELINE)
    return d


def test_once_pushes_configs_and_starts_a_run_for_a_waiting_sensor(
    pipelines: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/run.db"
    assert main(["sensor", "put", "hello", "ready", "ok=true", "--store", url, "--create"]) == 0
    assert main(["run", "--pipelines", str(pipelines), "--store", url, "--once"]) == 0
    with open_store(url) as store:
        assert store.control.get_config("hello") is not None
        runs = store.control.runs("hello")
        assert [r.period for r in runs] and runs[0].status.value == "RUNNING"


def test_invalid_pipelines_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("pipeline: {id: bad}\n")
    assert main(["run", "--pipelines", str(bad), "--store", f"sqlite:///{tmp_path}/x.db"]) == 2
    assert "bad.yaml" in capsys.readouterr().err


def test_sigterm_stops_cleanly_with_json_logs(pipelines: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/run.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "interlock.cli", "run", "--pipelines", str(pipelines),
         "--store", url, "--poll", "0.05"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        first = json.loads(proc.stderr.readline())  # blocks until the runtime says it runs
        assert first["msg"] == "running" and first["pipelines"] == ["hello"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        rest = [json.loads(line) for line in proc.stderr.read().splitlines()]
        assert [r["msg"] for r in rest] == ["stopping", "stopped"]
        assert rest[0]["signal"] == "SIGTERM"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stderr is not None:
            proc.stderr.close()
