"""The generated pages of docs/ are what their generators give today (``make docs`` rewrites them)."""

from __future__ import annotations

import importlib.util
import sys
from typing import TYPE_CHECKING

from interlock.events import CATALOGUE, EventType
from tests.docs.doc_blocks import REPO

if TYPE_CHECKING:
    from types import ModuleType


def load_script(name: str) -> ModuleType:
    """A module of scripts/ (not a package), loaded by path."""
    path = REPO / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_docs_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and typing look their module up
    spec.loader.exec_module(module)
    return module


def test_generated_pages_are_up_to_date() -> None:
    gen = load_script("gen_docs")
    stale = [str(p.relative_to(REPO)) for p in gen.stale_pages()]
    assert not stale, f"out of date: {stale}; run `make docs` (python scripts/gen_docs.py)"


def test_console_captures_are_up_to_date() -> None:
    """The demo day at 10:40 in the console, screen by screen (~10 s: it plays the morning)."""
    capture = load_script("capture_console")
    fresh = capture.captures()
    assert set(fresh) == {*capture.SCREENS, "slack-thread"}
    stale = [
        name
        for name, text in fresh.items()
        if (REPO / "docs" / "console" / f"{name}.txt").read_text(encoding="utf-8") != text
    ]
    assert not stale, (
        f"docs/console/{stale}.txt differ from the console today: run `make docs` "
        "(python scripts/capture_console.py, then scripts/gen_docs.py)"
    )
    assert "ml-training" in fresh["board"] and "RULE" in fresh["pipeline-rules"]
    assert "*JOB_FAILED* | gold-revenue | 2026-03-02" in fresh["slack-thread"]


def test_oncall_page_has_a_section_for_every_alert() -> None:
    text = (REPO / "docs" / "oncall.md").read_text(encoding="utf-8")
    for event_type in EventType:
        heading = f"\n### {event_type}\n" in text
        assert heading is CATALOGUE[event_type].alerts, event_type
        assert f"`{event_type}`" in text or heading, event_type


def test_deployers_tables_are_the_modules_variables_and_outputs() -> None:
    gen = load_script("gen_docs")
    tables = gen.terraform_tables()
    variables = (REPO / "deploy" / "terraform" / "variables.tf").read_text(encoding="utf-8")
    for name in ("environment", "sfn_timeout_seconds", "deletion_protection"):
        assert f'variable "{name}"' in variables and f"| `{name}`" in tables["variables"]
    assert "| `environment` | `string` | **required** |" in tables["variables"]
    assert "| `sfn_timeout_seconds` | `number` | `14400` |" in tables["variables"]
    assert "| `deletion_protection` *(new)* | `bool` | `true` |" in tables["variables"]
    assert "| `store_url` *(new)* |" in tables["outputs"]
    page = (
        "a\n<!-- generated: outputs (scripts/gen_docs.py) -->\nstale\n<!-- end generated -->\nb\n"
    )
    assert gen.fill_regions(page, tables) == page.replace("stale\n", tables["outputs"])
