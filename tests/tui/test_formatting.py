"""Cell formatting helpers of the console."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from tui.formatting import rerun_command, show_value

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("0.96"), "0.96"),  # the store's exact numbers are numbers, not quoted strings
        (Decimal("15432"), "15432"),
        (Decimal("1E+3"), "1000"),
        (True, "true"),
        (None, "null"),
        ("ready", "ready"),
        ("x" * 40, "x" * 15 + "…"),
    ],
)
def test_show_value(value: object, shown: str) -> None:
    assert show_value(value) == shown


def test_rerun_command_names_the_store_absolutely(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert rerun_command("gold-revenue", "2026-03-02", "sqlite:///.interlock/demo.db") == (
        "interlock rerun gold-revenue --period 2026-03-02 --reason manual "
        f"--store sqlite:///{tmp_path}/.interlock/demo.db"
    )
    assert rerun_command("p", None, "dynamodb://prod?region=eu-west-1").endswith(
        "--reason manual --store 'dynamodb://prod?region=eu-west-1'"
    )
    assert rerun_command("p", None) == "interlock rerun p --reason manual"
