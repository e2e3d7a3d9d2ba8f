"""The `interlock` command: exit codes, schema and catalogue output, usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interlock import __version__
from interlock.cli import main
from interlock.config.schema import schema_text
from interlock.events import catalogue_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "validate" in capsys.readouterr().err


def test_unknown_option_exits_2_with_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["validate", "--nope", "x"])
    assert exc.value.code == 2
    assert "--help" in capsys.readouterr().err


def test_schema_prints_the_pipeline_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    out = capsys.readouterr().out
    assert out == schema_text("pipeline")
    assert json.loads(out)["title"] == "Interlock pipeline"


def test_schema_write(tmp_path: Path) -> None:
    assert main(["schema", "--write", str(tmp_path / "s")]) == 0
    assert (tmp_path / "s" / "calendar.schema.json").read_text() == schema_text("calendar")


def test_schema_write_failure_is_operational(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["schema", "--write", str(blocker / "sub")]) == 3


def test_events_catalogue_markdown_is_the_committed_doc(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["events", "catalogue", "--markdown"]) == 0
    out = capsys.readouterr().out
    assert out == catalogue_markdown()
    assert out == (ROOT / "docs" / "events.md").read_text(encoding="utf-8"), (
        "docs/events.md is stale: run `make docs`"
    )


def test_events_catalogue_json_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["events", "catalogue", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_type = {r["type"]: r for r in rows}
    assert by_type["SLA_BREACH"]["alerts"] is True
    assert by_type["JOB_TRIGGERED"]["alerts"] is False
    assert main(["events", "catalogue"]) == 0
    assert "SLA_BREACH" in capsys.readouterr().out


def test_events_without_subcommand_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["events"]) == 2
    assert "catalogue" in capsys.readouterr().err


def test_validate_examples_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(ROOT / "examples" / "pipelines")]) == 0
    out = capsys.readouterr().out
    assert "✓ 11 pipelines valid" in out
    assert "gold-revenue" in out


def test_validate_missing_path_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "nope")]) == 2
    assert "no such file or directory" in capsys.readouterr().out
