"""``interlock validate`` on deliberately broken files, on the examples and on real users' files.

Each file in ``tests/configs/broken/`` holds one realistic mistake (``bad-types.yaml`` holds several);
``tests/configs/broken.expected.yaml`` lists every problem the command must print for it: the line,
the key path and a fragment of the message. Calendar cases need a pipelines/ + calendars/ layout and
live in ``tests/configs/broken-calendars/<case>/`` with their own ``EXPECTED.yaml``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from interlock.cli import main
from interlock.config.loader import load_project
from interlock.exceptions import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]
BROKEN = REPO_ROOT / "tests" / "configs" / "broken"
BROKEN_CALENDARS = REPO_ROOT / "tests" / "configs" / "broken-calendars"
EXAMPLES = REPO_ROOT / "examples" / "pipelines"
# shared/ sits beside the checkout (on developer machines and in CI); elsewhere those tests skip.
REFERENCE = REPO_ROOT.parent / "shared" / "reference" / "configs"
MISREAD_BY_ORIGINAL = "ml-data-prep.yaml"  # must be refused, see the reference README

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def _expected(file: Path) -> dict[str, Any]:
    data = yaml.safe_load(file.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


# Kept outside broken/ so that `interlock validate tests/configs/broken` shows only the broken files.
EXPECTED = _expected(REPO_ROOT / "tests" / "configs" / "broken.expected.yaml")
CALENDAR_EXPECTED = _expected(BROKEN_CALENDARS / "EXPECTED.yaml")
BROKEN_FILES = sorted(BROKEN.glob("*.yaml"))


def _broken_params() -> list[Any]:
    params = []
    for f in BROKEN_FILES:
        reason = EXPECTED.get(f.name, {}).get("xfail")
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(f, id=f.name, marks=marks))
    return params


def _validate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["validate", *args])
    return code, capsys.readouterr().out


def _validate_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code, out = _validate(capsys, "--json", *args)
    data = json.loads(out)
    assert isinstance(data, dict)
    return code, data


def _printed_problem(out: str, file: Path, line: int, key: str, fragment: str) -> bool:
    """Whether ``out`` has the line ``FILE:LINE: error KEY: ...FRAGMENT...``."""
    head = f"{file}:{line}: error {key}: "
    return any(ln.startswith(head) and fragment in ln[len(head) :] for ln in out.splitlines())


# ------------------------------------------------------------------------ the fixture folder itself


def test_expected_yaml_lists_exactly_the_broken_files() -> None:
    assert sorted(EXPECTED) == [f.name for f in BROKEN_FILES]
    assert len(BROKEN_FILES) >= 24
    for name, case in EXPECTED.items():
        assert case["problems"], f"{name}: list at least one expected problem"
        lines = [p["line"] for p in case["problems"]]
        assert lines == sorted(lines), f"{name}: list problems in line order"


def test_pipeline_id_equals_file_stem_except_in_the_mismatch_case() -> None:
    for f in BROKEN_FILES:
        m = re.search(r"^pipeline:\n  id: (\S+)$", f.read_text(encoding="utf-8"), re.MULTILINE)
        if m is None:  # empty, a list, two documents...: no top-level pipeline.id to compare
            continue
        if f.stem == "stem-mismatch":
            assert m.group(1) != f.stem
        else:
            assert m.group(1) == f.stem, f.name


def test_bad_types_demo_file_shows_several_different_mistakes() -> None:
    problems = EXPECTED["bad-types.yaml"]["problems"]
    assert 4 <= len(problems) <= 6
    assert len({p["key"].split(".")[0] for p in problems}) >= 4  # spread over the file's sections


# ------------------------------------------------------------------------------ broken pipelines


@pytest.mark.parametrize("file", _broken_params())
def test_broken_file_is_refused_with_file_line_and_key(
    file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN
    code, out = _validate(capsys, str(file))
    # THEN
    expected = EXPECTED[file.name]["problems"]
    assert code == EXIT_BAD_INPUT, out
    for p in expected:
        assert _printed_problem(out, file, p["line"], p["key"], p["message"]), (
            f"expected `{file}:{p['line']}: error {p['key']}: …{p['message']}…` in:\n{out}"
        )
    n = len(expected)
    assert f"✗ {n} problem{'s' if n != 1 else ''} in 1 file" in out


@pytest.mark.parametrize("file", _broken_params())
def test_broken_file_json_lists_every_problem(
    file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN
    code, data = _validate_json(capsys, str(file))
    # THEN
    assert code == EXIT_BAD_INPUT
    assert data["valid"] is False
    errors = data["errors"]
    for e in errors:
        assert e["file"] == str(file)
        assert isinstance(e["line"], int) and e["line"] >= 1
        assert isinstance(e["key"], str) and e["key"]
        assert isinstance(e["message"], str) and e["message"]
        assert e["severity"] == "error"
    expected = EXPECTED[file.name]["problems"]
    assert [(e["line"], e["key"]) for e in errors] == [(p["line"], p["key"]) for p in expected]
    for e, p in zip(errors, expected, strict=True):
        assert p["message"] in e["message"]


def test_all_broken_files_at_once_list_every_problem(capsys: pytest.CaptureFixture[str]) -> None:
    """One run over the directory reports every file's problems (none hides another's)."""
    code, data = _validate_json(capsys, str(BROKEN))
    assert code == EXIT_BAD_INPUT
    got = {(Path(e["file"]).name, e["line"], e["key"]) for e in data["errors"]}
    for name, case in EXPECTED.items():
        if case.get("xfail"):
            continue
        for p in case["problems"]:
            assert (name, p["line"], p["key"]) in got


# ------------------------------------------------------------------------------ broken calendars


def _calendar_case(case: str) -> tuple[Path, list[dict[str, Any]]]:
    return BROKEN_CALENDARS / case, CALENDAR_EXPECTED[case]["problems"]


def test_calendar_cases_are_all_listed() -> None:
    cases = sorted(p.name for p in BROKEN_CALENDARS.iterdir() if p.is_dir())
    assert cases == sorted(CALENDAR_EXPECTED)
    for case in cases:
        assert (BROKEN_CALENDARS / case / "pipelines").is_dir()
        assert (BROKEN_CALENDARS / case / "calendars").is_dir()


@pytest.mark.parametrize("case", sorted(CALENDAR_EXPECTED))
def test_broken_calendar_case_is_refused(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    base, expected = _calendar_case(case)
    # calendars/ is discovered beside pipelines/
    code, out = _validate(capsys, str(base / "pipelines"))
    assert code == EXIT_BAD_INPUT, out
    for p in expected:
        assert _printed_problem(out, base / p["file"], p["line"], p["key"], p["message"]), out


@pytest.mark.parametrize("case", sorted(CALENDAR_EXPECTED))
def test_broken_calendar_case_reports_nothing_else(
    case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    base, expected = _calendar_case(case)
    code, data = _validate_json(capsys, str(base / "pipelines"))
    assert code == EXIT_BAD_INPUT
    got = [(Path(e["file"]), e["line"], e["key"]) for e in data["errors"]]
    assert got == [(base / p["file"], p["line"], p["key"]) for p in expected]


# -------------------------------------------------------------------------------------- examples


@pytest.mark.parametrize("file", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_example_pipeline_validates(file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _validate(capsys, str(file))
    assert code == EXIT_OK, out
    assert f"✓ 1 pipeline valid, 1 calendar(s): {file.stem}" in out
    assert "error" not in out


def test_example_directory_validates_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, data = _validate_json(capsys, str(EXAMPLES))
    assert code == EXIT_OK
    assert data["valid"] is True
    assert data["pipelines"] == {f.stem: str(f) for f in sorted(EXAMPLES.glob("*.yaml"))}
    assert data["calendars"] == ["us-federal"]
    assert data["warnings"] == []


# ----------------------------------------------------------------------- real users' configurations


@pytest.fixture
def reference() -> Path:
    if not REFERENCE.is_dir():
        pytest.skip(f"the shared reference configs ({REFERENCE}) are not on this machine")
    return REFERENCE


def test_every_reference_config_loads_except_the_misread_one(reference: Path) -> None:
    files = sorted(reference.rglob("*.yaml"))
    pipelines = [f for f in files if f.parent.name != "calendars" and f.name != MISREAD_BY_ORIGINAL]
    assert len(pipelines) >= 10
    failures = {}
    for f in pipelines:
        try:
            project = load_project(f)
        except ConfigError as exc:
            failures[str(f)] = str(exc)
            continue
        assert list(project.pipelines) == [f.stem]
        assert all(w.severity == "warning" for w in project.warnings)
    assert failures == {}


def test_reference_testdata_loads_with_its_calendar(reference: Path) -> None:
    project = load_project(reference / "original-testdata" / "pipelines")
    assert sorted(project.pipelines) == ["gold-revenue", "silver-orders"]
    assert sorted(project.calendars) == ["us-federal"]


def test_reference_cron_written_as_trigger_is_refused_pointing_to_schedule_cron(
    reference: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = reference / "aws-example" / MISREAD_BY_ORIGINAL
    with pytest.raises(ConfigError) as info:
        load_project(file)
    [problem] = info.value.problems
    assert problem.path == ("schedule", "trigger")
    assert problem.line == 7
    assert "schedule.cron: '0 * * * *'" in problem.message
    code, out = _validate(capsys, str(file))
    assert code == EXIT_BAD_INPUT
    assert f"{file}:7: error schedule.trigger: " in out
