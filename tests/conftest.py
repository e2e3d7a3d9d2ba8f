"""Test isolation: no test sees a developer's AWS credentials, Interlock settings or terminal width."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("AWS_", "INTERLOCK_")):
            monkeypatch.delenv(name)
    # Rich sizes its output from COLUMNS when not on a terminal: pin it so tables wrap the same way
    # on every machine.
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.delenv("NO_COLOR", raising=False)
