"""Build the Lambda artifacts: one dependency layer and one small zip per handler (``make lambdas``).

::

    deploy/dist/
      interlock-layer.zip     python/<interlock + the `lambda` extra's deps>, arm64 wheels, .pyc for 3.12
      stream_router.zip       lambdas/ (every handler module) + .pyc; one per handler in lambdas/*.py
      ...
      manifest.json           sha256 and size of each zip (Terraform reads nothing from it; humans do)

Why a layer (measured, see the README): the dependencies are ~95 % of the bytes and identical for all six
functions, so six self-contained zips would upload the same ~20 MB six times; with a layer, a code change
uploads six ~30 kB zips and the layer only changes when a dependency or ``interlock/`` changes.

Rules the build keeps:

* **arm64 only from the registry**: dependencies come from ``pip install --platform manylinux2014_aarch64
  --python-version 3.12 --implementation cp --only-binary=:all:`` (no sdist is ever built here), and every
  shared object in the layer is checked to be an ELF for aarch64 (``e_machine`` 183) before zipping.
* **pinned**: ``deploy/lambda-constraints.txt`` pins every distribution; ``--lock`` rewrites it from a fresh
  resolution.
* **reproducible**: entries sorted, fixed timestamps and permissions, no absolute paths; building twice
  gives byte-identical zips (same sha256).
* **bytecode**: every module is compiled by a Python 3.12 interpreter with ``unchecked-hash`` invalidation
  (a Lambda's code directory is read-only, so without ``.pyc`` each cold start compiles from source; an
  unchecked-hash ``.pyc`` is used whatever the file mtimes, and contains no timestamp).

Run with the project's interpreter: ``python deploy/build_lambdas.py`` (it finds python3.12 itself, or
take ``--python312 PATH``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "deploy" / "dist"
CONSTRAINTS = ROOT / "deploy" / "lambda-constraints.txt"
WHEEL_CACHE = ROOT / ".cache" / "lambda-wheels"
LAYER_NAME = "interlock-layer.zip"
PLATFORM = "manylinux2014_aarch64"
PY_VERSION = "3.12"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can store; never "now"
EM_AARCH64 = 183
# the handlers the Terraform module deploys (deploy/terraform/lambda_env.json)
EXPECTED_HANDLERS = frozenset(
    {"stream_router", "orchestrator", "sla_monitor", "watchdog", "event_sink", "alert_dispatcher"}
)
# Installed by pip for humans, useless in a Lambda and host-specific (shebangs): never shipped.
_DROP_DIRS = {"bin", "__pycache__"}


class BuildError(Exception):
    """The build cannot produce a correct artifact (message says why)."""


# ------------------------------------------------------------------------------ zip (reproducible)


def write_zip(src: Path, out: Path, *, prefix: str = "") -> str:
    """Zip ``src`` into ``out`` reproducibly and return the zip's sha256.

    Entries are sorted by path, every entry has the same timestamp (1980-01-01) and a fixed mode (0644 for
    files, 0755 for ``.so`` files), compression level is fixed, and no directory entries or extra fields
    are written, so the same tree always gives the same bytes whatever its mtimes or creation order.
    """
    files = sorted(p for p in src.rglob("*") if p.is_file())
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in files:
            rel = prefix + path.relative_to(src).as_posix()
            info = zipfile.ZipInfo(rel, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            mode = 0o755 if path.suffix == ".so" or ".so." in path.name else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.create_system = 3  # unix, whatever the build host
            zf.writestr(info, path.read_bytes(), compresslevel=9)
    tmp.replace(out)
    return sha256(out)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------------------ checks


def elf_machine(data: bytes) -> int | None:
    """The ``e_machine`` of an ELF image, or ``None`` if ``data`` is not an ELF header."""
    if len(data) < 20 or data[:4] != b"\x7fELF":
        return None
    order = "little" if data[5] == 1 else "big"
    return int.from_bytes(data[18:20], order)


def foreign_binaries(tree: Path) -> list[str]:
    """Shared objects in ``tree`` that are not aarch64 ELF (a host-built wheel would show up here)."""
    bad = []
    for path in sorted(tree.rglob("*")):
        if path.is_file() and (path.suffix == ".so" or ".so." in path.name):
            with path.open("rb") as fh:
                machine = elf_machine(fh.read(20))
            if machine != EM_AARCH64:
                bad.append(f"{path.relative_to(tree)} (e_machine={machine})")
    return bad


# ------------------------------------------------------------------------------ steps


def lambda_requirements() -> list[str]:
    """The core dependencies plus the ``lambda`` extra, from pyproject.toml (the one place they live)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["lambda"]]


def find_python312(explicit: str | None) -> str:
    """A Python 3.12 interpreter (compiles the .pyc the Lambda runtime will load)."""
    candidates = [explicit] if explicit else []
    candidates += [
        shutil.which("python3.12") or "",
        str(Path.home() / ".pyenv" / "versions" / "3.12.1" / "bin" / "python3.12"),
        *(str(p) for p in sorted(Path("/root/.pyenv/versions").glob("3.12*/bin/python3.12"))),
    ]
    for cand in candidates:
        if not cand:
            continue
        try:
            got = subprocess.run(
                [cand, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
        except OSError:
            continue
        if got == PY_VERSION:
            return cand
    raise BuildError(
        "no Python 3.12 interpreter found (needed to compile .pyc for the python3.12 runtime); "
        "install one or pass --python312 PATH"
    )


def pip_install_arm64(target: Path, requirements: list[str], constraints: Path | None) -> None:
    """Install arm64 wheels for CPython 3.12 into ``target`` (wheels only: nothing is compiled here)."""
    WHEEL_CACHE.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--target",
        str(target),
        "--platform",
        PLATFORM,
        "--python-version",
        PY_VERSION,
        "--implementation",
        "cp",
        "--only-binary=:all:",
        "--find-links",
        str(WHEEL_CACHE),
        *requirements,
    ]
    if constraints is not None:
        cmd += ["--constraint", str(constraints)]
    subprocess.run(cmd, check=True)
    # keep the wheels for the next build (offline rebuilds, same bytes)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--dest",
            str(WHEEL_CACHE),
            "--platform",
            PLATFORM,
            "--python-version",
            PY_VERSION,
            "--implementation",
            "cp",
            "--only-binary=:all:",
            "--find-links",
            str(WHEEL_CACHE),
            *requirements,
            *(["--constraint", str(constraints)] if constraints is not None else []),
        ],
        check=True,
    )


def installed_pins(site: Path) -> list[str]:
    """``name==version`` of every distribution in ``site`` (from its .dist-info), sorted."""
    pins = []
    for info in sorted(site.glob("*.dist-info")):
        meta = (info / "METADATA").read_text(encoding="utf-8", errors="replace")
        fields = dict(
            line.split(": ", 1)
            for line in meta.splitlines()
            if line.startswith(("Name: ", "Version: "))
        )
        pins.append(f"{fields['Name']}=={fields['Version']}")
    return sorted(pins, key=str.lower)


def prune(site: Path) -> None:
    """Drop what a Lambda never uses and what would make the zip host-specific."""
    for name in _DROP_DIRS:
        for path in list(site.rglob(name)):
            if path.is_dir():
                shutil.rmtree(path)
    for path in list(site.glob("*.dist-info/RECORD")) + list(site.glob("*.dist-info/INSTALLER")):
        path.unlink()  # RECORD lists files we pruned; INSTALLER names the tool


def compile_tree(python312: str, tree: Path, ddir: str) -> None:
    """Compile every module for 3.12, unchecked-hash, with the runtime path as the file name."""
    subprocess.run(
        [
            python312,
            "-m",
            "compileall",
            "-q",
            "-j",
            "1",  # sequential: output does not depend on scheduling
            "--invalidation-mode",
            "unchecked-hash",
            "-d",
            ddir,
            str(tree),
        ],
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "0", "SOURCE_DATE_EPOCH": "315532800"},
    )


def copy_package(src: Path, dest: Path) -> None:
    """Copy a source package (``.py`` and ``py.typed`` only: no caches, no editor files)."""
    for path in sorted(src.rglob("*")):
        if path.is_file() and (path.suffix == ".py" or path.name == "py.typed"):
            if "__pycache__" in path.parts:
                continue
            out = dest / path.relative_to(src.parent)
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, out)


def handler_names() -> list[str]:
    """Every handler module in lambdas/ (``lambdas/<name>.py`` → ``<name>``), sorted."""
    return sorted(
        p.stem
        for p in (ROOT / "lambdas").glob("*.py")
        if p.is_file() and not p.stem.startswith("_")
    )


# ------------------------------------------------------------------------------ main


def build(python312: str, *, lock: bool) -> dict[str, dict[str, object]]:
    """Build the layer and handler zips into deploy/dist; return {zip name: {sha256, bytes}}."""
    if DIST.exists():
        shutil.rmtree(DIST)
    DIST.mkdir(parents=True)
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="interlock-build-") as tmp_s:
        tmp = Path(tmp_s)
        site = tmp / "layer" / "python"
        pip_install_arm64(site, lambda_requirements(), None if lock else CONSTRAINTS)
        if lock:
            CONSTRAINTS.write_text(
                "# Pinned by `python deploy/build_lambdas.py --lock` (arm64 Lambda layer).\n"
                + "\n".join(installed_pins(site))
                + "\n",
                encoding="utf-8",
            )
        prune(site)
        bad = foreign_binaries(site)
        if bad:
            raise BuildError("not aarch64 shared objects in the layer: " + ", ".join(bad))
        copy_package(ROOT / "interlock", site)
        compile_tree(python312, site, "/opt/python")
        sha = write_zip(tmp / "layer", DIST / LAYER_NAME)
        results[LAYER_NAME] = {"sha256": sha, "bytes": (DIST / LAYER_NAME).stat().st_size}

        code = tmp / "code"
        copy_package(ROOT / "lambdas", code)
        compile_tree(python312, code, "/var/task")
        code_zip = tmp / "code.zip"
        code_sha = write_zip(code, code_zip)
        for name in handler_names():
            # one zip per function (what Terraform points each function at); today they hold the same
            # lambdas/ package, so their hashes are equal and a change to one handler redeploys all six
            shutil.copyfile(code_zip, DIST / f"{name}.zip")
            results[f"{name}.zip"] = {"sha256": code_sha, "bytes": code_zip.stat().st_size}
    (DIST / "manifest.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--python312", help="a Python 3.12 interpreter (default: found on the machine)"
    )
    parser.add_argument(
        "--lock",
        action="store_true",
        help="resolve afresh and rewrite deploy/lambda-constraints.txt",
    )
    args = parser.parse_args(argv)
    try:
        results = build(find_python312(args.python312), lock=args.lock)
    except (BuildError, subprocess.CalledProcessError) as exc:
        print(f"build_lambdas: {exc}", file=sys.stderr)
        return 1
    for name, info in sorted(results.items()):
        print(f"{name:28} {int(str(info['bytes'])) / 1024:10.1f} KiB  sha256 {info['sha256']}")
    missing = sorted(EXPECTED_HANDLERS - set(handler_names()))
    if missing:
        print(
            "warning: no lambdas/<name>.py for "
            + ", ".join(missing)
            + ": the Terraform module needs all six zips",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
