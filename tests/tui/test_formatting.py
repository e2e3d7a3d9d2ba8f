"""Cell formatting helpers of the console."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tui.formatting import show_value


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
