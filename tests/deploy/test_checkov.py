"""checkov over the module: no failed check; every skip is an inline ``#checkov:skip=ID:reason`` comment.

checkov pins its own boto3 and ships a module named ``hcl2`` that shadows python-hcl2, so it lives in a
separate venv (``make tools`` → .venv-tools, created by ``make test``), never in .venv.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.deploy._tf import MODULE, ROOT

CHECKOV = ROOT / ".venv-tools" / "bin" / "checkov"


def test_every_skip_has_a_reason() -> None:
    skips = []
    for tf in MODULE.glob("*.tf"):
        skips += re.findall(r"#checkov:skip=([A-Z_0-9]+)(:?)(.*)", tf.read_text(encoding="utf-8"))
    assert skips, "expected the documented skips"
    for check, colon, reason in skips:
        assert colon == ":" and len(reason.strip()) > 20, f"{check}: a skip needs a reason"


def test_checkov_passes() -> None:
    if not CHECKOV.exists():
        pytest.skip(
            "checkov is not installed in .venv-tools (run `make tools`; needs the package registry)"
        )
    res = subprocess.run(
        [
            str(CHECKOV),
            "-d",
            str(MODULE),
            "--framework",
            "terraform",
            "--skip-download",
            "--output",
            "json",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        cwd=ROOT,
    )
    assert res.stdout.strip(), res.stderr
    report = json.loads(res.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']})"
        for r in reports
        for c in r.get("results", {}).get("failed_checks", [])
    ]
    assert not failed, "checkov failed:\n" + "\n".join(failed)
    assert res.returncode == 0
