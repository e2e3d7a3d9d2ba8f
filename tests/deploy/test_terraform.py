"""terraform fmt -check, init -backend=false + validate, and terraform test (mock_provider), offline.

Each test copies the module into a temporary directory, so parallel workers never share a .terraform/.
Skipped, with the reason, where terraform or the hashicorp/aws provider mirror is absent.
"""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING

import pytest

from tests.deploy._tf import EXAMPLE, MODULE, copy_tree, terraform, terraform_env

if TYPE_CHECKING:
    from pathlib import Path


def test_fmt_check(tmp_path: Path) -> None:
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not installed")
    for where in (MODULE, EXAMPLE):
        res = terraform(["fmt", "-check", "-recursive", "-diff"], where, dict(os.environ))
        assert res.returncode == 0, (
            f"terraform fmt -check failed in {where}:\n{res.stdout}{res.stderr}"
        )


def test_module_validate_and_test(tmp_path: Path) -> None:
    env = terraform_env(tmp_path)
    root = copy_tree(tmp_path)
    module = root / "deploy" / "terraform"
    for args in (["init", "-backend=false", "-input=false"], ["validate"], ["test"]):
        res = terraform(args, module, env)
        assert res.returncode == 0, f"terraform {' '.join(args)}:\n{res.stdout}\n{res.stderr}"
    assert "0 failed" in res.stdout and " passed" in res.stdout


def test_example_validates(tmp_path: Path) -> None:
    env = terraform_env(tmp_path)
    root = copy_tree(tmp_path)
    example = root / "examples" / "terraform"
    for args in (["init", "-backend=false", "-input=false"], ["validate"]):
        res = terraform(args, example, env)
        assert res.returncode == 0, f"terraform {' '.join(args)}:\n{res.stdout}\n{res.stderr}"
