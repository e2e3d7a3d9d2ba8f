"""Every command in the user documentation runs, as a reader would type it (see ``doc_blocks``).

One test per page: its ``<!-- run -->`` blocks in page order, in one scratch directory. A second test
holds every page to the marker rule, so a new page or block cannot slip in untested without a reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from tests.docs.doc_blocks import (
    PYTHON_LANGS,
    REPO,
    SHELL_LANGS,
    Block,
    blocks,
    marker_problems,
    pages,
    shell_commands,
    shell_script,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

AWS_REGION = "eu-west-1"
AWS_ENVIRONMENT = "prod"
# Entries of the checkout a page's scratch directory does not see: its own state, caches, VCS.
_PRIVATE = {".git", ".interlock", ".venv", ".venv-tools", ".cache", ".mypy_cache", ".ruff_cache"}


def _runnable(page: Path) -> list[Block]:
    return [b for b in blocks(page) if b.marker == "run"]


RUN_PAGES = [p for p in pages() if _runnable(p)]


def test_every_sh_and_python_block_is_marked() -> None:
    problems = [problem for page in pages() for problem in marker_problems(page)]
    assert not problems, "\n".join(problems)


def test_the_marker_rule_sees_unmarked_and_unreasoned_blocks(tmp_path: Path) -> None:
    page = tmp_path / "probe.md"
    page.write_text(
        "```sh\nls\n```\n\n<!-- no-run: -->\n```python\npass\n```\n\n"
        "<!-- no-run: interactive -->\n```sh\ntop\n```\n\n```yaml\na: 1\n```\n"
        "<!-- run -->\n```console\n$ ls\nREADME.md\n```\n",
        encoding="utf-8",
    )
    problems = marker_problems(page)
    assert len(problems) == 3
    assert "probe.md:1: a sh block without a marker" in problems[0]
    assert "'no-run' needs a reason" in problems[1]
    assert "a console block mixes commands and their output" in problems[2]


def test_shell_commands_take_their_expected_exit_from_the_comment() -> None:
    text = "a --x \\\n  --y   # ok\n# a comment\n\nexplain p  # NOT READY (exit 1)\n"
    assert shell_commands(text) == [
        (0, "a --x \\\n  --y   # ok", 0),
        (4, "explain p  # NOT READY (exit 1)", 1),
    ]


def _scratch(tmp_path: Path) -> Path:
    """A directory that sees the checkout's files (symlinks) but keeps its own state."""
    work = tmp_path / "work"
    work.mkdir()
    for entry in REPO.iterdir():
        if entry.name not in _PRIVATE and not entry.name.startswith(".coverage"):
            (work / entry.name).symlink_to(entry)
    return work


@contextmanager
def _aws_world() -> Iterator[None]:
    """moto's DynamoDB with the ``prod`` tables and the example pipelines pushed, as after a deploy."""
    from interlock.config.loader import load_project
    from interlock.store import open_store
    from interlock.store.dynamodb import create_tables
    from tests.contract.dynamodb_harness import moto_aws

    with moto_aws(), pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_DEFAULT_REGION", AWS_REGION)
        create_tables(AWS_ENVIRONMENT, region=AWS_REGION)
        project = load_project([REPO / "examples" / "pipelines"])
        with open_store(f"dynamodb://{AWS_ENVIRONMENT}?region={AWS_REGION}") as store:
            for config in project.pipelines.values():
                store.control.put_config(config, now=datetime.now(UTC))
        yield


def _run_shell(block: Block, work: Path, env: dict[str, str]) -> None:
    proc = subprocess.run(
        ["bash", "-c", shell_script(block)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, (
        f"{block.where}: a documented command failed\n{proc.stderr[-3000:]}\n--- stdout ---\n"
        f"{proc.stdout[-3000:]}"
    )
    if block.output is not None:
        assert proc.stdout == block.output, (
            f"{block.where}: the page shows other output than the command prints today\n"
            f"--- prints ---\n{proc.stdout}"
        )


def _run_python(block: Block) -> None:
    code = compile(block.text, block.where, "exec")
    exec(code, {"__name__": "__main__"})


@pytest.mark.parametrize("page", RUN_PAGES, ids=[str(p.relative_to(REPO)) for p in RUN_PAGES])
def test_documented_commands_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = _scratch(tmp_path)
    # The reader's default store (./.interlock/interlock.db), inside the scratch directory.
    monkeypatch.delenv("INTERLOCK_STORE", raising=False)
    monkeypatch.chdir(work)
    env = {
        **os.environ,
        "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(REPO),
    }
    runnable = _runnable(page)
    with ExitStack() as stack:
        if any(b.marker_arg == "aws" for b in runnable):
            stack.enter_context(_aws_world())
        for block in runnable:
            if block.lang in SHELL_LANGS:
                _run_shell(block, work, env)
            elif block.lang in PYTHON_LANGS:
                _run_python(block)
