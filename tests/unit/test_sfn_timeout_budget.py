"""A pipeline whose longest run does not fit the state machine timeout is refused at validate time.

interlock.config.budget computes the longest execution (evaluation window + trigger backoffs + job poll
window + step margin); ``interlock validate``/``config push --sfn-timeout-seconds`` and
deploy/validate_configs.py refuse with file:line, and the stamp records ``execution_seconds`` for the
module's precondition (tested by ``terraform test``: run "pipeline_run_longer_than_sfn_timeout").
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from interlock.aws.runtime import DEFAULT_SFN_TIMEOUT_SECONDS as RUNTIME_DEFAULT
from interlock.cli import main as cli
from interlock.config.budget import (
    DEFAULT_SFN_TIMEOUT_SECONDS,
    DEFAULT_TRIGGER_MAX_ATTEMPTS,
    TRIGGER_RETRY_BACKOFF_RATE,
    TRIGGER_RETRY_INTERVAL,
    execution_budget,
    execution_seconds,
    timeout_problem,
    trigger_backoff,
)
from interlock.config.loader import load_project, validate_config_data
from interlock.exceptions import ConfigError
from interlock.lifecycle.run import DEFAULT_MAX_TRIGGER_ATTEMPTS
from interlock.local.definition import DEFAULTS
from tests.deploy._tf import ASL, MODULE, load_script

if TYPE_CHECKING:
    from pathlib import Path

LONG_POLL = """pipeline: {id: long-poll}
schedule:
  trigger: {key: ready, check: exists}
  evaluation: {window: 30m, interval: 5m}
validation: {rules: [{key: ready, check: exists}]}
job:
  type: command
  config: {command: "true"}
  jobPollWindowSeconds: 14400
"""

LONG_WINDOW = """pipeline: {id: long-window}
schedule:
  trigger: {key: ready, check: exists}
  evaluation:
    window: 4h
    interval: 5m
validation: {rules: [{key: ready, check: exists}]}
job: {type: command, config: {command: "true"}}
"""


def _write(folder: Path, **files: str) -> Path:
    folder.mkdir(exist_ok=True)
    for pid, text in files.items():
        (folder / f"{pid}.yaml").write_text(text, encoding="utf-8")
    return folder


def test_the_constants_agree_with_the_state_machine_and_the_runtimes() -> None:
    asl = ASL.read_text(encoding="utf-8")
    trigger = asl[asl.index('"Trigger": {') :]
    retry = trigger[trigger.index('"Interlock.TriggerRetry"') :]
    assert int(re.search(r'"IntervalSeconds": (\d+)', retry)[1]) == (  # type: ignore[index]
        TRIGGER_RETRY_INTERVAL.total_seconds()
    )
    assert int(re.search(r'"BackoffRate": (\d+)', retry)[1]) == TRIGGER_RETRY_BACKOFF_RATE  # type: ignore[index]
    assert DEFAULT_TRIGGER_MAX_ATTEMPTS == DEFAULT_MAX_TRIGGER_ATTEMPTS
    assert str(DEFAULT_TRIGGER_MAX_ATTEMPTS) == DEFAULTS["TriggerMaxAttempts"]
    assert DEFAULT_SFN_TIMEOUT_SECONDS == RUNTIME_DEFAULT == int(DEFAULTS["SfnTimeoutSeconds"])
    variables = (MODULE / "variables.tf").read_text(encoding="utf-8")
    assert re.search(r'variable "sfn_timeout_seconds" \{[^}]*default\s*=\s*14400', variables)
    assert re.search(r'variable "trigger_max_attempts" \{[^}]*default\s*=\s*4\b', variables)


def test_the_longest_run_adds_the_windows_the_backoffs_and_a_margin() -> None:
    assert trigger_backoff(4) == timedelta(seconds=30 + 60 + 120 + 240)
    assert trigger_backoff(0) == timedelta(0)
    config = validate_config_data(json.loads(json.dumps(_yaml(LONG_POLL))))
    assert execution_seconds(config) == 30 * 60 + 14400 + 300
    assert execution_budget(config) == timedelta(seconds=30 * 60 + 14400 + 300 + 450)
    assert timeout_problem(config, 30 * 60 + 14400 + 300 + 450) is None
    problem = timeout_problem(config, 14400)
    assert problem is not None
    assert "4h42m30s" in problem and "at least 16950" in problem
    # the deployment's own retry count counts
    assert timeout_problem(config, 16800, trigger_max_attempts=2) is None


def _yaml(text: str) -> object:
    import yaml

    return yaml.safe_load(text)


def test_validate_blames_the_window_that_was_set_with_its_line(tmp_path: Path) -> None:
    folder = _write(tmp_path / "p", **{"long-poll": LONG_POLL, "long-window": LONG_WINDOW})
    load_project(folder)  # without a timeout: not checked
    with pytest.raises(ConfigError) as info:
        load_project(folder, sfn_timeout_seconds=14400)
    found = {(p.file.name, p.line, p.key) for p in info.value.problems if p.file is not None}
    assert found == {
        ("long-poll.yaml", 9, "job.jobPollWindowSeconds"),
        ("long-window.yaml", 5, "schedule.evaluation.window"),
    }
    load_project(folder, sfn_timeout_seconds=18750)


def test_cli_validate_and_config_push_refuse_what_does_not_fit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _write(tmp_path / "p", **{"long-poll": LONG_POLL})
    store = f"sqlite:///{tmp_path}/s.db"
    assert cli(["validate", str(folder)]) == 0
    assert cli(["validate", str(folder), "--sfn-timeout-seconds", "14400"]) == 2
    out = capsys.readouterr().out
    assert "long-poll.yaml:9" in out and "sfn_timeout_seconds 14400" in out
    assert (
        cli(["config", "push", str(folder), "--store", store, "--sfn-timeout-seconds", "14400"])
        == 2
    )
    assert "nothing pushed" in capsys.readouterr().out
    assert (
        cli(["config", "push", str(folder), "--store", store, "--sfn-timeout-seconds", "16950"])
        == 0
    )
    with pytest.raises(SystemExit) as info:
        cli(["validate", str(folder), "--sfn-timeout-seconds", "59"])
    assert info.value.code == 2


def test_validate_configs_refuses_and_records_each_pipelines_longest_run(tmp_path: Path) -> None:
    folder = _write(tmp_path / "p", **{"long-poll": LONG_POLL})
    script = load_script("validate_configs")
    assert script.main([str(folder)]) == 0
    stamp = json.loads((folder / "interlock-validated.json").read_text(encoding="utf-8"))
    assert stamp["pipelines"]["long-poll"]["execution_seconds"] == 16500
    assert script.main([str(folder), "--sfn-timeout-seconds", "14400"]) == 2
    stamp = json.loads((folder / "interlock-validated.json").read_text(encoding="utf-8"))
    assert stamp["valid"] is False
    assert [(e["file"], e["line"], e["key"]) for e in stamp["errors"]] == [
        ("long-poll.yaml", 9, "job.jobPollWindowSeconds")
    ]
    # the module's trigger_max_attempts: fewer retries, a shorter longest run
    assert (
        script.main([str(folder), "--sfn-timeout-seconds", "16600", "--trigger-max-attempts", "1"])
        == 0
    )
