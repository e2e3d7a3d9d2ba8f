"""Fixtures of the trigger tests: a moto AWS account (credentials and region pinned to fakes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.triggers.moto_world import MOTO_CONFIG, fake_aws_env

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A moto account for the test (Lambda without Docker, Step Functions executing its ASL)."""
    from moto import mock_aws

    fake_aws_env(monkeypatch)
    with mock_aws(config=MOTO_CONFIG):
        yield
