"""Shared helpers for the deploy tests: where things are, and an offline terraform (or a skip reason)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "deploy" / "terraform"
EXAMPLE = ROOT / "examples" / "terraform"
ASL = ROOT / "deploy" / "statemachine.asl.json"
MIRROR_CANDIDATES = (Path("/opt/tf-plugins"), ROOT / ".cache" / "terraform" / "mirror")
PROVIDER = "registry.terraform.io/hashicorp/aws"


def load_script(name: str) -> ModuleType:
    """Import deploy/<name>.py (the deploy scripts are not a package)."""
    spec = importlib.util.spec_from_file_location(f"deploy_{name}", ROOT / "deploy" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def find_mirror() -> Path | None:
    """A filesystem mirror holding hashicorp/aws, or None ($INTERLOCK_TF_MIRROR overrides)."""
    env = os.environ.get("INTERLOCK_TF_MIRROR")
    for cand in [Path(env)] if env else list(MIRROR_CANDIDATES):
        if (cand / PROVIDER).is_dir():
            return cand
    return None


def terraform_env(tmp: Path) -> dict[str, str]:
    """Environment for an offline terraform: a CLI config pointing at the mirror, no registry access.

    Skips the calling test (with the reason printed by -ra) when terraform or the mirror is absent.
    """
    exe = shutil.which("terraform")
    if exe is None:
        pytest.skip("terraform is not installed: the module's fmt/validate/test checks cannot run")
    mirror = find_mirror()
    if mirror is None:
        pytest.skip(
            "no offline hashicorp/aws provider mirror (looked in "
            + ", ".join(str(c) for c in MIRROR_CANDIDATES)
            + "; set INTERLOCK_TF_MIRROR)"
        )
    cache = ROOT / ".cache" / "terraform" / "plugins"
    cache.mkdir(parents=True, exist_ok=True)
    rc = tmp / "terraformrc"
    rc.write_text(
        f'plugin_cache_dir = "{cache}"\n'
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = ["{PROVIDER}"]\n  }}\n'
        f'  direct {{\n    exclude = ["{PROVIDER}"]\n  }}\n'
        "}\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
    env.update(
        TF_CLI_CONFIG_FILE=str(rc),
        TF_IN_AUTOMATION="1",
        CHECKPOINT_DISABLE="1",
        TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE="1",
    )
    return env


def terraform(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["terraform", *args, "-no-color"] if args[0] != "fmt" else ["terraform", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def copy_tree(tmp: Path) -> Path:
    """Copy what the module and the example read into ``tmp`` (tests never write .terraform/ in the checkout)."""
    root = tmp / "repo"
    shutil.copytree(
        MODULE, root / "deploy" / "terraform", ignore=shutil.ignore_patterns(".terraform*")
    )
    shutil.copy(ASL, root / "deploy" / "statemachine.asl.json")
    for sub in ("terraform", "pipelines", "calendars"):
        shutil.copytree(
            ROOT / "examples" / sub,
            root / "examples" / sub,
            ignore=shutil.ignore_patterns(".terraform*"),
        )
    return root
