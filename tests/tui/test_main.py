"""``interlock-tui`` refuses bad input before starting the app."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tui.__main__ import EXIT_BAD_INPUT, main
from tui.app import store_label

if TYPE_CHECKING:
    from pathlib import Path


def test_bad_store_url_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--store", "postgres://nope"]) == EXIT_BAD_INPUT
    assert "bad store URL" in capsys.readouterr().err


def test_unknown_theme_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--store", f"sqlite:///{tmp_path}/x.db", "--create", "--theme", "neon"]) == 2
    err = capsys.readouterr().err
    assert "unknown theme 'neon'" in err
    assert "light" in err


def test_a_missing_store_exits_2_without_creating_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--store", f"sqlite:///{tmp_path}/nope.db"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert f"{tmp_path}/nope.db does not exist" in err and "--create" in err
    assert not (tmp_path / "nope.db").exists()


@pytest.mark.parametrize(
    ("url", "label"),
    [
        ("sqlite:////tmp/a/world.db", "/tmp/a/world.db"),
        ("dynamodb://prod?region=eu-west-1", "dynamodb://prod?region=eu-west-1"),
    ],
)
def test_store_label(url: str, label: str) -> None:
    assert store_label(url) == label


def test_store_label_of_a_relative_url_is_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert store_label("sqlite:///.interlock/interlock.db") == f"{tmp_path}/.interlock/interlock.db"
