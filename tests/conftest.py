"""Test isolation: no test sees a developer's AWS credentials, Interlock settings or terminal width."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("AWS_", "INTERLOCK_")):
            monkeypatch.delenv(name)
    # A command run without --store opens this, never ./.interlock in the checkout.
    monkeypatch.setenv("INTERLOCK_STORE", f"sqlite:///{tmp_path}/isolated-default.db")
    # Rich sizes its output from COLUMNS when not on a terminal: pin it so tables wrap the same way
    # on every machine.
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.delenv("NO_COLOR", raising=False)
