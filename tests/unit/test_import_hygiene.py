"""The core stays light: pure modules pull in no I/O or UI library, and the public API is explicit."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

import interlock

PURE = [
    "interlock.config",
    "interlock.rules",
    "interlock.schedule",
    "interlock.sla",
    "interlock.events",
    "interlock.lifecycle.router",
    "interlock.lifecycle.run",
    "interlock.local.asl",
]
FORBIDDEN = ["boto3", "botocore", "slack_sdk", "textual", "rich", "sqlite3", "tui", "lambdas"]


def test_pure_modules_import_no_io_or_ui_library() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in PURE)
        + f"bad = sorted(m for m in {FORBIDDEN!r} if m in sys.modules)\n"
        + "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"pure modules imported: {out.stdout.strip()}"


LIFECYCLE = [
    "interlock.lifecycle",
    "interlock.lifecycle.actions",
    "interlock.lifecycle.dryrun",
    "interlock.lifecycle.operator",
    "interlock.lifecycle.postrun",
    "interlock.lifecycle.reruns",
    "interlock.lifecycle.router",
    "interlock.lifecycle.run",
    "interlock.lifecycle.sla_monitor",
    "interlock.lifecycle.trigger",
    "interlock.lifecycle.watchdog",
    "interlock.records",
    "interlock.names",
]
NO_IO = [
    "subprocess",
    "http",
    "urllib",
    "socket",
    "sqlite3",
    "boto3",
    "botocore",
    "slack_sdk",
    "textual",
    "rich",
    "interlock.store.sqlite",
    "interlock.store.sqlite_table",
    "interlock.store.sqlite_sql",
    "interlock.store.dynamodb",
    "interlock.store.dynamodb_table",
    "interlock.store.dynamodb_wire",
    "interlock.store.factory",
    "interlock.triggers.command",
    "interlock.triggers.http",
]


DEPENDENCIES = [
    "pydantic.main",
    "yaml",
    "croniter",
    "zoneinfo",
    "importlib.metadata",
    "email.utils",
]
"""The libraries the pure core uses: what they load themselves is not held against an Interlock module
(pydantic loads ``urllib.parse``, and its plugin loader ``importlib.metadata`` → ``email.utils`` loads
``socket``; croniter loads ``subprocess`` through dateutil)."""


@pytest.mark.parametrize(
    "module", sorted({*PURE, "interlock.durations", "interlock.ports", *LIFECYCLE})
)
def test_each_pure_and_lifecycle_module_alone_loads_no_io_module(module: str) -> None:
    """Import one module in a fresh interpreter: no I/O library, store driver or job runner loads.

    import-linter resolves submodules and misses what eager package ``__init__`` files pull in; this
    test sees the interpreter's ``sys.modules`` (what the module adds beyond :data:`DEPENDENCIES`).
    """
    code = (
        "import sys\n"
        + "".join(f"import {d}\n" for d in DEPENDENCIES)
        + "before = set(sys.modules)\n"
        + f"import {module}\n"
        + "added = set(sys.modules) - before\n"
        + f"bad = sorted(m for m in added if m.split('.')[0] in {NO_IO!r} or m in {NO_IO!r})\n"
        + "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import {module} loaded: {out.stdout.strip()}"


def test_import_interlock_is_lazy() -> None:
    code = (
        "import sys, interlock; print(sorted(m for m in sys.modules if m.startswith('interlock')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['interlock']"


def test_all_is_sorted_complete_and_resolvable() -> None:
    names = list(interlock.__all__)
    assert names == sorted(names)
    for name in names:
        assert getattr(interlock, name) is not None, name
    public = {
        n
        for n in dir(interlock)
        if not n.startswith("_") and not isinstance(getattr(interlock, n), types.ModuleType)
    }
    assert public <= set(names) | {"annotations", "importlib", "TYPE_CHECKING", "Any"}


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        _ = interlock.nonexistent
    except AttributeError as exc:
        assert "nonexistent" in str(exc)
    else:  # pragma: no cover - the assertion documents the failure
        raise AssertionError("expected AttributeError")
