"""The generated pages of docs/: what ``make docs`` writes (a test fails when a committed page drifts).

docs/events.md    the event catalogue          interlock.events.catalogue_markdown()
docs/oncall.md    the on-call guide            interlock.events.oncall_markdown(), with the console
                                               captures of docs/console/*.txt (scripts/capture_console.py)

python scripts/gen_docs.py            # rewrite the pages
python scripts/gen_docs.py --check    # exit 1 if a committed page differs from what this generates
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"


def console_captures() -> dict[str, str]:
    """The committed console captures, by name (``docs/console/board.txt`` → ``board``)."""
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted((DOCS / "console").glob("*.txt"))}


def generated_pages() -> dict[Path, str]:
    """Every generated page: path → the text it must hold."""
    from interlock.events import catalogue_markdown, oncall_markdown

    return {
        DOCS / "events.md": catalogue_markdown(),
        DOCS / "oncall.md": oncall_markdown(console_captures()),
    }


def stale_pages() -> list[Path]:
    """The generated pages whose committed text differs from what the generators give."""
    return [
        path
        for path, text in generated_pages().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_pages()
        for path in stale:
            sys.stderr.write(f"{path.relative_to(REPO)} is out of date: run `make docs`\n")
        return 1 if stale else 0
    for path, text in generated_pages().items():
        path.write_text(text, encoding="utf-8")
        sys.stderr.write(f"wrote {path.relative_to(REPO)}\n")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
