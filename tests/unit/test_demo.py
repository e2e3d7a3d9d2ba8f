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
