"""deploy/build_lambdas.py: reproducible zips, the arm64 check, what gets packaged."""

from __future__ import annotations

import os
import zipfile
from typing import TYPE_CHECKING

from tests.deploy._tf import ROOT, load_script

if TYPE_CHECKING:
    from pathlib import Path

build = load_script("build_lambdas")


def _tree(root: Path, order: list[str], mtime: int) -> None:
    for name in order:
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"content of {name}\n")
        os.utime(p, (mtime, mtime))


def test_zip_is_byte_identical_whatever_mtimes_and_creation_order(tmp_path: Path) -> None:
    files = ["pkg/__init__.py", "pkg/a.py", "pkg/sub/b.py", "lib.so", "z.txt"]
    _tree(tmp_path / "one", files, 1_600_000_000)
    _tree(tmp_path / "two", list(reversed(files)), 1_700_000_000)
    sha1 = build.write_zip(tmp_path / "one", tmp_path / "one.zip")
    sha2 = build.write_zip(tmp_path / "two", tmp_path / "two.zip")
    assert sha1 == sha2
    with zipfile.ZipFile(tmp_path / "one.zip") as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == sorted(files)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in infos}
    assert modes["lib.so"] == 0o755 and modes["pkg/a.py"] == 0o644


def test_zip_changes_when_content_changes(tmp_path: Path) -> None:
    _tree(tmp_path / "t", ["a.py"], 1)
    before = build.write_zip(tmp_path / "t", tmp_path / "a.zip")
    (tmp_path / "t" / "a.py").write_text("changed\n")
    assert build.write_zip(tmp_path / "t", tmp_path / "b.zip") != before


def _elf(machine: int) -> bytes:
    return (
        b"\x7fELF"
        + bytes([2, 1, 1])
        + bytes(9)
        + (2).to_bytes(2, "little")
        + machine.to_bytes(2, "little")
    )


def test_foreign_shared_objects_are_found(tmp_path: Path) -> None:
    (tmp_path / "ok.cpython-312-aarch64-linux-gnu.so").write_bytes(_elf(183) + bytes(40))
    (tmp_path / "bad.cpython-312-x86_64-linux-gnu.so").write_bytes(_elf(62) + bytes(40))
    (tmp_path / "libz.so.1").write_bytes(b"not an elf")
    assert build.elf_machine(_elf(183)) == 183
    bad = build.foreign_binaries(tmp_path)
    assert bad == [
        "bad.cpython-312-x86_64-linux-gnu.so (e_machine=62)",
        "libz.so.1 (e_machine=None)",
    ]


def test_requirements_are_the_core_and_the_lambda_extra() -> None:
    reqs = build.lambda_requirements()
    names = {
        r.split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip().lower() for r in reqs
    }
    assert {"pydantic", "pyyaml", "croniter", "aws-lambda-powertools", "boto3"} <= names
    assert "textual" not in names and "slack-sdk" not in names


def test_constraints_pin_every_requirement() -> None:
    pinned = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (ROOT / "deploy" / "lambda-constraints.txt").read_text().splitlines()
        if "==" in line
    }
    for r in build.lambda_requirements():
        name = r.split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip().lower()
        assert name.replace("_", "-") in pinned, name


def test_handler_names_come_from_lambdas_dir() -> None:
    names = build.handler_names()
    assert all((ROOT / "lambdas" / f"{n}.py").is_file() for n in names)
    assert "__init__" not in names
