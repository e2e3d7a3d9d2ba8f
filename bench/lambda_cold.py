"""Cold start of each Lambda handler: import time beyond ``import boto3``, and peak RSS.

Run with ``.venv/bin/python bench/lambda_cold.py [--runs N]`` (``make bench``). Prints numbers; asserts
nothing. Each measurement is a fresh interpreter (a new container): it imports boto3 first (the Lambda
runtime provides it), then times ``import lambdas.<handler>`` (module-level wiring included: settings
checked, runtime built; no AWS call is made at import) and reads ``ru_maxrss``. The best of N runs is
printed (a loaded machine adds noise; the minimum is the least disturbed), after one warm-up run that
writes the bytecode cache. Targets: ≤ 150 ms, ≤ 90 MB. The handlers import no pydantic or PyYAML; the
"deferred" column is what the first invocation that reads a config or an event then pays for them; "cpu"
is the handler import's CPU time (a busy machine inflates the wall time, far less this).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HANDLERS = (
    "stream_router",
    "orchestrator",
    "sla_monitor",
    "watchdog",
    "event_sink",
    "alert_dispatcher",
)
ENV = {
    "ENVIRONMENT": "bench",
    "EVENT_BUS_NAME": "bench-interlock-events",
    "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:bench-interlock-pipeline",
    "SLA_MONITOR_ARN": "arn:aws:lambda:us-east-1:123456789012:function:bench-interlock-sla-monitor",
    "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/bench-interlock-scheduler-sla",
    "SCHEDULER_GROUP_NAME": "bench-interlock-sla",
    "AWS_DEFAULT_REGION": "us-east-1",
}
PROBE = """
import json, resource, sys, time
t = time.perf_counter(); import boto3; b = time.perf_counter() - t
t = time.perf_counter(); c = time.process_time(); __import__("lambdas." + sys.argv[1])
h = time.perf_counter() - t; hc = time.process_time() - c
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t = time.perf_counter(); import interlock.config.loader, interlock.envelope; d = time.perf_counter() - t
print(json.dumps({"boto3_ms": b * 1000, "handler_ms": h * 1000, "rss_mb": rss, "deferred_ms": d * 1000,
                  "cpu_ms": hc * 1000}))
"""


def measure(handler: str) -> dict[str, float]:
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT)}
    # A deployed zip carries its bytecode (or the first container writes it): measure with it cached.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = subprocess.run(
        [sys.executable, "-c", PROBE, handler], env=env, capture_output=True, text=True, check=True
    ).stdout
    result: dict[str, float] = json.loads(out.splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"cold import per handler, best of {args.runs} (targets: <= 150 ms, <= 90 MB)")
    print(
        f"  {'handler':<18} {'beyond boto3':>13} {'(boto3)':>9} {'peak RSS':>9} {'deferred':>9}"
        f" {'cpu':>7}"
    )
    for handler in HANDLERS:
        measure(handler)  # warm-up: writes the bytecode cache
        runs = [measure(handler) for _ in range(args.runs)]
        best = min(runs, key=lambda r: r["handler_ms"])
        rss = max(r["rss_mb"] for r in runs)
        print(
            f"  {handler:<18} {best['handler_ms']:10.0f} ms {best['boto3_ms']:6.0f} ms"
            f" {rss:6.1f} MB {best['deferred_ms']:6.0f} ms {best['cpu_ms']:4.0f} ms"
        )
    print(
        "  deferred: importing the config loader and the event model after the handler, which the\n"
        "  first invocation that reads a CONFIG row or an event pays (pydantic, the models)"
    )


if __name__ == "__main__":
    main()
