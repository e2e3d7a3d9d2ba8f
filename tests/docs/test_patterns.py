"""docs/patterns.md shows the pattern files as they are checked in, and every pattern has its day.

The page's commands (``interlock validate examples/patterns`` and one ``interlock simulate`` per pattern,
with their printed output) are run by test_doc_commands.py like every other page's.
"""

from __future__ import annotations

from tests.docs.doc_blocks import REPO, blocks

PAGE = REPO / "docs" / "patterns.md"
PATTERNS = REPO / "examples" / "patterns"
TIMELINES = REPO / "examples" / "timelines" / "patterns"


def test_every_pattern_file_is_shown_verbatim() -> None:
    shown = {b.file: b for b in blocks(PAGE) if b.file is not None}
    files = {f"examples/patterns/{p.name}" for p in PATTERNS.glob("*.yaml")}
    assert set(shown) == files
    for path, block in shown.items():
        assert block.text == (REPO / path).read_text(encoding="utf-8"), (
            f"{path} differs from the page"
        )


def test_every_pattern_is_simulated_on_the_page_with_its_output() -> None:
    simulated = [b for b in blocks(PAGE) if "interlock simulate" in b.text]
    for pattern in PATTERNS.glob("*.yaml"):
        timeline = TIMELINES / f"{pattern.stem}.jsonl"
        assert timeline.exists(), f"{pattern.name} has no day in {TIMELINES.relative_to(REPO)}"
        (block,) = [b for b in simulated if f"examples/patterns/{pattern.name}" in b.text]
        assert block.marker == "run" and block.output, f"{pattern.name}: run, with its output shown"
