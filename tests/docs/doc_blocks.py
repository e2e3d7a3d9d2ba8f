"""The code blocks of the user documentation, and how the doc tests run them.

Every ``sh``/``python`` block in ``README.md`` and ``docs/*.md`` carries a marker on the line just above
its fence (an HTML comment, invisible when the page is rendered):

* ``<!-- run -->``: the doc tests run it (``tests/docs/test_doc_commands.py``);
* ``<!-- run: aws -->``: a Python block run against a moto DynamoDB that holds the ``prod`` tables
  and the example pipelines' CONFIG rows (what ``terraform apply`` leaves you with);
* ``<!-- no-run: <reason> -->``: not run, and the reason says why (interactive, needs AWS, …).

Two more markers, on other blocks: ``<!-- output -->`` above a ``text`` block right after a ``run`` shell
block says that block prints exactly this (stdout; the doc test compares), and
``<!-- file: PATH -->`` above a block says it is the checked-in file PATH, verbatim (test_patterns.py).

How a page is run: its ``run`` blocks in page order, in one scratch directory that sees the checkout's
files (symlinks) but has its own ``.interlock/`` store, so the commands of a page form one session as a
reader would type them. ``sh`` blocks run in bash, one command (a line, with ``\\`` continuations) at a
time; each must exit 0, or the code its trailing comment names (``interlock explain x  # … (exit 1)``).
``python`` blocks run in-process, each in a fresh namespace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SHELL_LANGS = frozenset({"sh", "bash", "shell", "console", "zsh"})
PYTHON_LANGS = frozenset({"python", "py", "pycon", "ipython"})
MARKED_LANGS = SHELL_LANGS | PYTHON_LANGS

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)")
_MARKER = re.compile(r"^\s*<!--\s*(?P<kind>run|no-run)\s*(?::\s*(?P<arg>.*?))?\s*-->\s*$")
_EXIT = re.compile(r"\(exit (\d+)\)")
_OUTPUT = re.compile(r"^\s*<!--\s*output\s*-->\s*$")
_FILE = re.compile(r"^\s*<!--\s*file:\s*(?P<path>\S+)\s*-->\s*$")

HOW_TO_MARK = (
    "put '<!-- run -->' on the line above the fence (the doc tests run it: "
    "tests/docs/test_doc_commands.py) or '<!-- no-run: <why it cannot run in a test> -->'"
)


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown page."""

    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    marker: str | None  # "run", "no-run" or None
    marker_arg: str  # "aws" for run; the reason for no-run
    above: str = ""  # the last non-blank line above the fence
    output: str | None = None  # what a run shell block prints (the <!-- output --> block after it)

    @property
    def file(self) -> str | None:
        """The checked-in file this block shows (``<!-- file: PATH -->``), if any."""
        m = _FILE.match(self.above)
        return m.group("path") if m else None

    @property
    def where(self) -> str:
        page = self.page.relative_to(REPO) if self.page.is_relative_to(REPO) else self.page.name
        return f"{page}:{self.line}"


def pages() -> list[Path]:
    """The user documentation: README.md and every docs/*.md (pages other helpers add included)."""
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def blocks(page: Path) -> list[Block]:
    """Every fenced code block of ``page``, with the marker on the last non-blank line above it."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        fence, indent = m.group("fence"), len(m.group("indent"))
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            line = lines[j]
            body.append(
                line[indent:] if line[:indent].isspace() else line.lstrip() if indent else line
            )
            j += 1
        above = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        mk = _MARKER.match(above)
        found.append(
            Block(
                page=page,
                line=i + 1,
                lang=m.group("lang").lower(),
                text="\n".join(body) + "\n",
                marker=mk.group("kind") if mk else None,
                marker_arg=(mk.group("arg") or "").strip() if mk else "",
                above=above,
            )
        )
        i = j + 1
    for k, b in enumerate(found[1:], start=1):
        if _OUTPUT.match(b.above) and found[k - 1].lang in SHELL_LANGS:
            found[k - 1] = replace(found[k - 1], output=b.text)
    return found


def marker_problems(page: Path) -> list[str]:
    """What is wrong with the markers of one page (empty: every sh/python block is marked)."""
    problems = []
    for b in blocks(page):
        if b.lang not in MARKED_LANGS:
            continue
        if b.marker is None:
            problems.append(f"{b.where}: a {b.lang} block without a marker: {HOW_TO_MARK}")
        elif b.marker == "no-run" and not b.marker_arg:
            problems.append(f"{b.where}: 'no-run' needs a reason: <!-- no-run: <reason> -->")
        elif b.marker == "run" and b.marker_arg not in ("", "aws"):
            problems.append(f"{b.where}: unknown run option {b.marker_arg!r} (only 'aws')")
        elif b.marker == "run" and b.lang in ("console", "pycon"):
            problems.append(
                f"{b.where}: a {b.lang} block mixes commands and their output, so it cannot run: "
                "write the commands in a sh/python block and the output in a <!-- output --> text block"
            )
        elif b.marker == "run" and b.marker_arg == "aws" and b.lang not in PYTHON_LANGS:
            problems.append(f"{b.where}: 'run: aws' is for python blocks (moto runs in-process)")
    return problems


def shell_commands(text: str) -> list[tuple[int, str, int]]:
    """The commands of a shell block: (line offset, command, expected exit code).

    A command is one line, or several joined by trailing backslashes; blank and comment lines are
    skipped. The expected exit code is the ``(exit N)`` in the command's comment, else 0.
    """
    commands: list[tuple[int, str, int]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        start, parts = i, [lines[i]]
        while parts[-1].rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            parts.append(lines[i])
        i += 1
        command = "\n".join(parts)
        if not command.strip() or command.lstrip().startswith("#"):
            continue
        m = _EXIT.search(parts[-1].partition("#")[2])
        commands.append((start, command, int(m.group(1)) if m else 0))
    return commands


def shell_script(block: Block) -> str:
    """Bash that runs ``block`` command by command and stops at the first unexpected exit code."""
    out = ["set -u"]
    for offset, command, expected in shell_commands(block.text):
        where = f"{block.where.rsplit(':', 1)[0]}:{block.line + 1 + offset}"
        first = command.splitlines()[0].replace("'", "")
        out.append(command)
        out.append(
            f'__rc=$?; if [ "$__rc" -ne {expected} ]; then '
            f"echo '{where}: exit '$__rc', expected {expected}: {first}' >&2; exit 97; fi"
        )
    return "\n".join(out) + "\n"
