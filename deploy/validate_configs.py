"""Validate pipeline configs for the Terraform loader and write the stamp it requires.

Runs the loader ``interlock validate`` runs (:func:`interlock.config.loader.load_project`) over a pipelines
directory (and its calendars), then writes ``<pipelines>/interlock-validated.json``::

    {"valid": true|false,
     "errors":    [{file, line, key, message}, ...],            # what interlock validate reports
     "files":     {"<path relative to pipelines dir>": "<sha256>"},   # every file read
     "pipelines": {"<pipeline.id>": {"file", "config", "created_at", "updated_at",
                                     "execution_seconds"}},
     "calendars": {"<name>": {"calendar"}}}

``config`` is the exact text ``interlock config push`` stores (written through the store's own
``put_config`` into a scratch SQLite store, so the two cannot differ). ``created_at`` is kept from the
previous stamp; ``updated_at`` changes only when the config text does, so an unchanged directory gives an
unchanged stamp and a no-op plan. ``execution_seconds`` is the pipeline's longest run without trigger
retries (:func:`interlock.config.budget.execution_seconds`). The module (deploy/terraform/config_loader.tf)
refuses the plan when the stamp is missing, invalid, or its hashes do not match the files, and when a
pipeline's ``execution_seconds`` plus the backoffs of ``trigger_max_attempts`` exceed
``sfn_timeout_seconds``. ``--sfn-timeout-seconds`` (and ``--trigger-max-attempts``) refuse the same here,
with the file and line, as ``interlock validate --sfn-timeout-seconds`` does.

Usage: ``python deploy/validate_configs.py PIPELINES_DIR [--calendars DIR] [--out FILE]
[--sfn-timeout-seconds N] [--trigger-max-attempts N]``; exit 0 valid, 2 refused (the stamp then records
the problems, so the plan shows them), 1 operational error.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STAMP_NAME = "interlock-validated.json"
YAML_SUFFIXES = (".yaml", ".yml")


def _rel(path: Path, base: Path) -> str:
    return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_stamp(
    pipelines: Path,
    calendars: Path | None,
    previous: dict[str, Any],
    now: datetime,
    *,
    sfn_timeout_seconds: int | None = None,
    trigger_max_attempts: int | None = None,
) -> dict[str, Any]:
    """The stamp for ``pipelines`` (see the module docstring)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from interlock.config.budget import DEFAULT_TRIGGER_MAX_ATTEMPTS, execution_seconds
    from interlock.config.loader import discover_calendars_dir, load_project
    from interlock.exceptions import ConfigError
    from interlock.store.factory import open_store
    from interlock.store.keys import CONFIG_SK, format_time, pipeline_pk

    cal_dir = calendars if calendars is not None else discover_calendars_dir([pipelines])
    read = sorted(p for p in pipelines.iterdir() if p.suffix in YAML_SUFFIXES and p.is_file())
    if cal_dir is not None and cal_dir.is_dir():
        read += sorted(p for p in cal_dir.iterdir() if p.suffix in YAML_SUFFIXES and p.is_file())
    stamp: dict[str, Any] = {
        "_generated": "by deploy/validate_configs.py (interlock validate); do not edit",
        "valid": False,
        "errors": [],
        "files": {_rel(p, pipelines): _sha(p) for p in read},
        "pipelines": {},
        "calendars": {},
    }
    try:
        project = load_project(
            [pipelines],
            calendars=calendars,
            sfn_timeout_seconds=sfn_timeout_seconds,
            trigger_max_attempts=(
                DEFAULT_TRIGGER_MAX_ATTEMPTS
                if trigger_max_attempts is None
                else trigger_max_attempts
            ),
        )
    except ConfigError as exc:
        stamp["errors"] = [
            {
                "file": _rel(Path(p.file), pipelines) if p.file is not None else "",
                "line": p.line,
                "key": p.key,
                "message": p.message,
            }
            for p in exc.problems
        ]
        return stamp
    stamp["valid"] = True
    old = previous.get("pipelines", {}) if isinstance(previous, dict) else {}
    with tempfile.TemporaryDirectory() as tmp, open_store(f"sqlite:///{tmp}/scratch.db") as store:
        for pid in sorted(project.pipelines):
            store.control.put_config(project.pipelines[pid], now=now)
            item = store.tables["control"].get(pipeline_pk(pid), CONFIG_SK)
            assert item is not None
            text = item["config"]
            prev = old.get(pid, {})
            created = prev.get("created_at") or format_time(now)
            updated = prev.get("updated_at") if prev.get("config") == text else None
            stamp["pipelines"][pid] = {
                "file": _rel(project.files[pid], pipelines),
                "config": text,
                "created_at": created,
                "updated_at": updated or format_time(now),
                "execution_seconds": execution_seconds(project.pipelines[pid]),
            }
    for name in sorted(project.calendars):
        dumped = project.calendars[name].model_dump(mode="json")
        stamp["calendars"][name] = {
            "calendar": json.dumps(dumped, sort_keys=True, separators=(",", ":"))
        }
    return stamp


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("pipelines", type=Path, help="the module's pipelines_path")
    parser.add_argument(
        "--calendars", type=Path, help="the module's calendars_path (default: found)"
    )
    parser.add_argument("--out", type=Path, help=f"stamp file (default: PIPELINES/{STAMP_NAME})")
    parser.add_argument(
        "--sfn-timeout-seconds",
        type=int,
        metavar="N",
        help="the module's sfn_timeout_seconds: refuse a pipeline whose longest run does not fit "
        "(the plan refuses it anyway, from the stamp)",
    )
    parser.add_argument(
        "--trigger-max-attempts",
        type=int,
        metavar="N",
        help="the module's trigger_max_attempts (4)",
    )
    args = parser.parse_args(argv)
    if not args.pipelines.is_dir():
        print(f"validate_configs: {args.pipelines} is not a directory", file=sys.stderr)
        return 1
    out: Path = args.out or args.pipelines / STAMP_NAME
    try:
        previous = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    except ValueError:
        previous = {}
    stamp = build_stamp(
        args.pipelines,
        args.calendars,
        previous,
        datetime.now(UTC),
        sfn_timeout_seconds=args.sfn_timeout_seconds,
        trigger_max_attempts=args.trigger_max_attempts,
    )
    out.write_text(json.dumps(stamp, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if not stamp["valid"]:
        for e in stamp["errors"]:
            print(f"{e['file']}:{e['line']} {e['key']}: {e['message']}", file=sys.stderr)
        print(f"✗ refused; wrote {out} (terraform plan will refuse too)", file=sys.stderr)
        return 2
    print(
        f"✓ {len(stamp['pipelines'])} pipeline(s), {len(stamp['calendars'])} calendar(s); wrote {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
