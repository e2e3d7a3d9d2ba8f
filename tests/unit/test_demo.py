"""The demo day has one source (``interlock.demo``); the checked-in timeline is generated from it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from interlock.cli import main
from interlock.demo import EXAMPLE_DAY, timeline_lines
from interlock.local.simulate import parse_timeline

if TYPE_CHECKING:
    import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKED_IN = ROOT / "examples" / "timelines" / "demo-day.jsonl"


def test_checked_in_demo_timeline_is_the_generated_one() -> None:
    generated = "\n".join(timeline_lines(EXAMPLE_DAY)) + "\n"
    assert CHECKED_IN.read_text(encoding="utf-8") == generated, (
        "examples/timelines/demo-day.jsonl differs from interlock.demo: regenerate it with "
        "interlock demo --day 2026-03-02 --write-timeline examples/timelines/demo-day.jsonl"
    )
    assert len(parse_timeline(generated.splitlines(), source="demo")) == len(generated.splitlines())


def test_write_timeline_writes_the_same_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "day.jsonl"
    day = EXAMPLE_DAY.isoformat()
    assert main(["demo", "--day", day, "--write-timeline", str(out)]) == 0
    assert out.read_bytes() == CHECKED_IN.read_bytes()
    assert "wrote" in capsys.readouterr().err


def test_hours_plays_part_of_the_day(capsys: pytest.CaptureFixture[str]) -> None:
    # WHEN the headless demo plays the first 12 hours of the example day
    code = main(["demo", "--headless", "--day", EXAMPLE_DAY.isoformat(), "--hours", "12"])
    # THEN it plays them (the day's later timeline lines used to be refused as out of range)
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "12 h simulated" in out.out + out.err
