"""The core stays light: pure modules pull in no I/O or UI library, and the public API is explicit."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import types

import pytest

import interlock

PURE = [
    "interlock.config",
    "interlock.rules",
    "interlock.sensor_values",
    "interlock.schedule",
    "interlock.sla",
    "interlock.problems",
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
    "interlock.lifecycle.watch_due",
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


# ------------------------------------------------------------------------------------- start-up cost
# pydantic (~50 ms), PyYAML (~20 ms), croniter (~25 ms with dateutil) and rich (~30 ms) are what made a
# Lambda handler's import cost ~150 ms beyond boto3. A module that only reads validated rows, decides or
# publishes loads them on first use, never at import; these tests pin each such guarantee.

HEAVY = ["pydantic", "pydantic_core", "yaml", "croniter", "dateutil", "rich", "textual"]

LIGHT = [
    "interlock.config",
    "interlock.config.kinds",
    "interlock.config.text",
    "interlock.events",
    "interlock.lifecycle",
    "interlock.lifecycle.watch_due",
    "interlock.lifecycle.watchdog",
    "interlock.records",
    "interlock.rules",
    "interlock.schedule",
    "interlock.sensor_values",
    "interlock.service.controller",
    "interlock.service.executor",
    "interlock.service.wiring",
    "interlock.sla",
    "interlock.store.control",
    "interlock.store.events",
]

HANDLER_ENV = {
    "ENVIRONMENT": "hygiene",
    "EVENT_BUS_NAME": "hygiene-interlock-events",
    "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:hygiene-interlock-pipeline",
    "SLA_MONITOR_ARN": "arn:aws:lambda:us-east-1:123456789012:function:hygiene-interlock-sla-monitor",
    "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/hygiene-interlock-scheduler-sla",
    "SCHEDULER_GROUP_NAME": "hygiene-interlock-sla",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


def _heavy_loaded_by(code: str, env: dict[str, str] | None = None) -> list[str]:
    """Run ``code`` in a fresh interpreter; the top-level packages of :data:`HEAVY` it loaded."""
    probe = (
        "import sys\n"
        + code
        + f"\nprint(','.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    run_env = {**os.environ, **(env or {})}
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=run_env
    )
    return [m for m in out.stdout.splitlines()[-1].split(",") if m]


@pytest.mark.parametrize("module", LIGHT)
def test_reading_and_deciding_modules_import_no_pydantic_yaml_croniter_or_rich(module: str) -> None:
    assert _heavy_loaded_by(f"import {module}") == []


@pytest.mark.parametrize(
    "handler",
    [
        "stream_router",
        "orchestrator",
        "sla_monitor",
        "watchdog",
        "event_sink",
        "alert_dispatcher",
    ],
)
def test_lambda_handler_cold_import_loads_no_pydantic_yaml_croniter_or_rich(handler: str) -> None:
    """A cold start builds the runtime (module level) without the config models or the YAML loader."""
    assert _heavy_loaded_by(f"import lambdas.{handler}", HANDLER_ENV) == []


def test_cli_help_loads_no_pydantic_yaml_croniter_rich_or_boto3() -> None:
    code = (
        "import contextlib, io\n"
        "from interlock.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])\n"
        "assert 'boto3' not in sys.modules, 'boto3'\n"
    )
    assert _heavy_loaded_by(code) == []  # argparse prints the help: not even rich


def test_lazy_event_and_config_names_resolve_to_the_models() -> None:
    """The lazy faces hand out the real classes, and load pydantic only when asked for one."""
    code = (
        "import sys, interlock.events, interlock.config\n"
        "assert 'pydantic' not in sys.modules\n"
        "import interlock.envelope, interlock.config.models\n"
        "assert interlock.events.Event is interlock.envelope.Event\n"
        "assert interlock.config.PipelineConfig is interlock.config.models.PipelineConfig\n"
        "assert interlock.config.models.CheckName is interlock.config.kinds.CheckName\n"
        "assert interlock.config.models.JobType is interlock.config.kinds.JobType\n"
        "from interlock.config.types import normalize_cron\n"
        "assert normalize_cron is interlock.config.text.normalize_cron\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


def test_validating_a_store_row_loads_no_yaml() -> None:
    """A CONFIG row is JSON: the loader validates it without PyYAML (only reading a file needs it)."""
    code = (
        "from interlock.config.loader import validate_config_data\n"
        "validate_config_data({'pipeline': {'id': 'p'}, 'schedule': {'cron': '0 8 * * *'},"
        " 'job': {'type': 'command', 'config': {'command': 'true'}}})\n"
        "assert 'pydantic' in sys.modules\n"
    )
    loaded = _heavy_loaded_by(code)
    assert "pydantic" in loaded  # the probe did validate
    assert "yaml" not in loaded


@pytest.mark.parametrize("module", ["interlock.events", "interlock.config"])
def test_lazy_faces_refuse_unknown_names(module: str) -> None:
    face = importlib.import_module(module)
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = face.no_such_name
