"""Start-up cost: the interpreter, ``interlock --help``, ``interlock explain`` on SQLite, the controller import.

Run with ``.venv/bin/python bench/startup.py [--runs N]`` (``make bench``). Prints numbers; asserts
nothing. Every figure is a fresh interpreter, timed from outside (fork + exec + run) except the controller
import, which the child times itself after ``import boto3`` (the Lambda runtime provides boto3). Each
command runs once first so its bytecode is cached, and ``PYTHONDONTWRITEBYTECODE`` is dropped from the
children's environment (the issue's figures are "bytecode cached"). The median of N runs is printed with
the min and max, and the child's median CPU time (user+system: a busy machine inflates wall time far more
than CPU time, so the pair shows how noisy the run was); the anchor ``python -c pass`` is measured in the same run, interleaved, so a busy machine
shifts both.

Targets (issue 16): ``--help`` ≤ 150 ms over ``python -c pass``; ``explain`` ≤ 400 ms; the controller
≤ 150 ms beyond boto3.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = "import sys; from interlock.cli import main; sys.exit(main())"
CONTROLLER = """
import json, time
t = time.perf_counter(); import boto3; b = time.perf_counter() - t
t = time.perf_counter(); p = time.process_time(); import interlock.service.controller
c = time.perf_counter() - t; cpu = time.process_time() - p
print(json.dumps({"boto3_ms": b * 1000, "controller_ms": c * 1000, "controller_cpu_ms": cpu * 1000}))
"""


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("INTERLOCK_STORE", None)
    return env


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _wall(argv: list[str], env: dict[str, str], cpu: list[float] | None = None) -> float:
    """Milliseconds from spawning ``argv`` to its exit (its output discarded; any exit code).

    ``cpu`` receives the child's user+system CPU milliseconds: less sensitive to a busy machine than
    wall time (waiting for a core is not counted), so the two together say how noisy a run was.
    """
    cpu_before = _cpu()
    began = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = (time.perf_counter() - began) * 1000
    if cpu is not None:
        cpu.append((_cpu() - cpu_before) * 1000)
    return wall


def _seed(directory: Path, env: dict[str, str]) -> str:
    """A SQLite store with the example pipelines pushed and gold-revenue's sensors written."""
    url = f"sqlite:///{directory / 'interlock.db'}"
    steps = [
        ["config", "push", str(ROOT / "examples" / "pipelines")],
        ["sensor", "put", "gold-revenue", "upstream-complete", "status=ready"],
        ["sensor", "put", "gold-revenue", "row-count", "count=15432"],
        ["sensor", "put", "gold-revenue", "freshness", "updatedAt=now"],
    ]
    for step in steps:
        subprocess.run(
            [sys.executable, "-c", CLI, *step, "--store", url],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return url


def _summary(samples: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
    }


def measure(runs: int) -> dict[str, dict[str, float]]:
    """Time every command ``runs`` times (after one warm-up each); medians, minima and maxima in ms."""
    env = _env()
    with tempfile.TemporaryDirectory() as tmp:
        url = _seed(Path(tmp), env)
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "interlock --help": [sys.executable, "-c", CLI, "--help"],
            "interlock explain": [
                sys.executable,
                "-c",
                CLI,
                "explain",
                "gold-revenue",
                "--store",
                url,
            ],
        }
        for argv in commands.values():  # warm-up: writes the bytecode cache
            _wall(argv, env)
        subprocess.run([sys.executable, "-c", CONTROLLER], env=env, check=True, capture_output=True)
        samples: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        controller: list[float] = []
        controller_cpu: list[float] = []
        boto3: list[float] = []
        for _ in range(runs):  # interleaved, so load changes hit every figure alike
            for name, argv in commands.items():
                samples[name].append(_wall(argv, env, cpu[name]))
            out = subprocess.run(
                [sys.executable, "-c", CONTROLLER],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            probe = json.loads(out.splitlines()[-1])
            controller.append(probe["controller_ms"])
            controller_cpu.append(probe["controller_cpu_ms"])
            boto3.append(probe["boto3_ms"])
    result = {name: _summary(values) for name, values in samples.items()}
    for name, values in cpu.items():
        result[name]["cpu"] = statistics.median(values)
    result["controller beyond boto3"] = _summary(controller)
    result["controller beyond boto3"]["cpu"] = statistics.median(controller_cpu)
    result["boto3"] = _summary(boto3)
    anchor = result["python -c pass"]["median"]
    result["help over python"] = {
        k: v - anchor for k, v in result["interlock --help"].items() if k == "median"
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    result = measure(args.runs)
    print(
        f"start-up, python {sys.version.split()[0]}, bytecode cached, median of {args.runs} "
        f"(min-max), load {os.getloadavg()[0]:.1f}"
    )
    for name in (
        "python -c pass",
        "interlock --help",
        "interlock explain",
        "boto3",
        "controller beyond boto3",
    ):
        r = result[name]
        label = "import boto3" if name == "boto3" else name
        cpu_text = f"   cpu {r['cpu']:.0f} ms" if "cpu" in r else ""
        print(f"  {label:<26} {r['median']:7.0f} ms   ({r['min']:.0f}-{r['max']:.0f}){cpu_text}")
    print(
        f"  --help over python -c pass {result['help over python']['median']:7.0f} ms"
        "   (targets: --help <= 150 ms over python; explain <= 400 ms; controller <= 150 ms)"
    )


if __name__ == "__main__":
    main()
