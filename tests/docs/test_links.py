"""The user documentation points at things that exist.

* every relative link of README.md and docs/*.md names a file or directory of the checkout, and a
  ``#fragment`` into a Markdown page names one of its headings (GitHub's anchor rules);
* every ``make TARGET`` the pages mention is a target of the Makefile;
* every ``interlock COMMAND [SUBCOMMAND] --option`` they mention exists in the CLI's parser, and every
  ``interlock-tui --option`` in the console's;
* every path of the checkout named in a code span (`bench/rules.py`, `deploy/terraform/`) exists.
"""

from __future__ import annotations

import argparse
import re
from functools import cache
from typing import TYPE_CHECKING

import pytest

from tests.docs.doc_blocks import REPO, pages

if TYPE_CHECKING:
    from pathlib import Path

_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|!\[[^\]]*\]\(([^)\s]+)\)")
_CODE_SPAN = re.compile(r"`[^`\n]+`")
_FENCED = re.compile(r"^(`{3,}|~{3,}).*?^\1", re.S | re.M)
_MAKE = re.compile(r"(?<![\w/.-])make ([a-z][\w-]*)")
_CLI = re.compile(
    r"(?:^|(?<=[`(;|&]))\s*(?:\$ )?(interlock(?:-tui)?)((?: +[a-z][\w-]*)*)((?: +[^\s`|]+)*)"
)

IDS = [str(p.relative_to(REPO)) for p in pages()]


def _slug(heading: str) -> str:
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = _FENCED.sub("", page.read_text(encoding="utf-8"))
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6} +(.+?) *#*$", text, re.M)}


def _links(page: Path) -> list[str]:
    text = _FENCED.sub("", page.read_text(encoding="utf-8"))
    text = _CODE_SPAN.sub("", text)
    return [a or b for a, b in _LINK.findall(text)]


def _link_problem(page: Path, target: str) -> str | None:
    if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, …
        return None
    path_part, _, fragment = target.partition("#")
    dest = (page.parent / path_part).resolve() if path_part else page
    if not dest.exists():
        return f"{target}: {dest} does not exist"
    if not dest.is_relative_to(REPO):
        return f"{target}: points outside the checkout"
    if fragment and dest.suffix == ".md" and fragment not in _anchors(dest):
        return f"{target}: no heading #{fragment} in {dest.relative_to(REPO)}"
    return None


@pytest.mark.parametrize("page", pages(), ids=IDS)
def test_relative_links_resolve(page: Path) -> None:
    problems = [p for t in _links(page) if (p := _link_problem(page, t)) is not None]
    assert not problems, f"{page.relative_to(REPO)}: broken links\n" + "\n".join(problems)


def test_the_link_checker_sees_a_broken_link_and_a_missing_anchor(tmp_path: Path) -> None:
    page = REPO / "docs" / "x.md"  # resolved relative to docs/, never written
    assert _link_problem(page, "../README.md#the-console-interlock-tui") is None
    assert "does not exist" in (_link_problem(page, "nope.md") or "")
    assert "no heading #nope" in (_link_problem(page, "../README.md#nope") or "")
    assert _link_problem(page, "https://example.com/x") is None


@cache
def _make_targets() -> frozenset[str]:
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    return frozenset(re.findall(r"^([a-z][\w-]*)\s*:(?!=)", text, re.M))


def _mentions(page: Path) -> tuple[list[str], list[str]]:
    """(commands in code blocks and code spans, make targets) mentioned on ``page``."""
    text = page.read_text(encoding="utf-8")
    code = [m.group(0) for m in _FENCED.finditer(text)] + _CODE_SPAN.findall(text)
    snippets = [line for chunk in code for line in chunk.splitlines()]
    return snippets, [t for s in snippets for t in _MAKE.findall(s)]


@pytest.mark.parametrize("page", pages(), ids=IDS)
def test_make_targets_exist(page: Path) -> None:
    _, targets = _mentions(page)
    missing = sorted(set(targets) - _make_targets())
    assert not missing, (
        f"{page.relative_to(REPO)} mentions make targets the Makefile lacks: {missing}"
    )


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {o for a in parser._actions for o in a.option_strings}


def _parsers() -> dict[str, argparse.ArgumentParser]:
    from interlock.cli import build_parser

    parsers = {"interlock": build_parser()}
    try:
        from tui.__main__ import _parser as tui_parser
    except (
        ImportError
    ):  # the console's parser is not importable on its own: its options go unchecked
        return parsers
    parsers["interlock-tui"] = tui_parser()
    return parsers


def _cli_problems(snippet: str, parsers: dict[str, argparse.ArgumentParser]) -> list[str]:
    problems = []
    for m in _CLI.finditer(snippet):
        parser = parsers.get(m.group(1))
        if parser is None:
            continue
        words, path = m.group(2).split(), [m.group(1)]
        for word in words:
            sub = _subparsers(parser)
            if not sub:
                break
            if word not in sub:
                problems.append(f"{' '.join(path)} has no command {word!r}: {snippet.strip()}")
                break
            parser, path = sub[word], [*path, word]
        flags = re.findall(r"(?<![\w-])(--[a-z][\w-]*)", m.group(3) + " " + m.group(2))
        for flag in flags:
            if flag not in _options(parser) and flag not in ("--help", "--version"):
                problems.append(f"{' '.join(path)} has no option {flag}: {snippet.strip()}")
    return problems


@pytest.mark.parametrize("page", pages(), ids=IDS)
def test_cli_commands_and_options_exist(page: Path) -> None:
    parsers = _parsers()
    snippets, _ = _mentions(page)
    problems = [p for s in snippets for p in _cli_problems(s, parsers)]
    assert not problems, f"{page.relative_to(REPO)}:\n" + "\n".join(problems)


def test_the_cli_check_sees_unknown_commands_and_options() -> None:
    parsers = _parsers()
    assert _cli_problems("interlock events tail --follow --since 1h", parsers) == []
    assert _cli_problems("interlock dry-run on gold-revenue --reason x", parsers) == []
    assert _cli_problems("interlock sensor put p k a=1 --date 2026-03-02", parsers) == []
    assert _cli_problems("interlock events tial", parsers)
    assert _cli_problems("interlock explain p --bogus", parsers)


# Paths the pages name that a command creates (make lambdas, make bench), so they may be absent.
_BUILT = {"deploy/dist", "deploy/dist/", "docs/performance.md"}


def _path_problems(page: Path) -> list[str]:
    top = {p.name for p in REPO.iterdir() if not p.name.startswith(".")}
    text = _FENCED.sub("", page.read_text(encoding="utf-8"))
    problems = []
    for span in _CODE_SPAN.findall(text):
        for token in span.strip("`").split():
            token = token.strip("(),;:'\"")
            if "/" not in token or "://" in token or any(c in token for c in "*<>{}…$?="):
                continue  # not a path of the checkout: a URL, a glob, a placeholder, an option
            if token.split("/")[0] not in top or token in _BUILT:
                continue
            if not (REPO / token.split("::")[0]).exists():
                problems.append(f"`{token}` does not exist")
    return problems


@pytest.mark.parametrize("page", pages(), ids=IDS)
def test_paths_named_in_code_spans_exist(page: Path) -> None:
    problems = _path_problems(page)
    assert not problems, f"{page.relative_to(REPO)}:\n" + "\n".join(problems)


def test_the_path_check_sees_a_missing_file(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text(
        "see `bench/nope.py`, `deploy/terraform/` and `tests/docs/test_links.py::x`, "
        "`pipelines/x.yaml`, `examples/*.yaml`\n",
        encoding="utf-8",
    )
    assert _path_problems(page) == ["`bench/nope.py` does not exist"]
