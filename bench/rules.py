"""Throughput of :func:`interlock.rules.evaluate` on one core.

Run ``.venv/bin/python bench/rules.py [seconds-per-repeat]``. It evaluates a realistic four-rule validation
(equals, gte, age_lt, exists) against sensors read back as DynamoDB returns them (numbers as Decimal) and as
a JSON producer writes them (ints, RFC 3339 strings), half passing and half failing, in a plain loop, and
prints rule evaluations per second: the median of five repeats with the min and max; then the same with
counts and timestamps that never repeat (the worst case for the per-rule memo of results). It asserts
nothing.

Time is the process's CPU time (``time.process_time``): the loop is single-threaded, so this is the rate on
one core, and a machine busy with other work slows the wall clock far more than it changes this figure
(on this 2-core machine shared by several sessions, wall-clock rates varied 2x between runs minutes apart).
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from interlock.config.models import Rule, Validation
from interlock.rules import evaluate, sensor_fields

REPEATS = 5
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

VALIDATION = Validation(
    trigger="ALL",
    rules=(
        Rule(key="upstream-complete", check="equals", field="status", value="ready"),
        Rule(key="row-count", check="gte", field="count", value=1000),
        Rule(key="freshness", check="age_lt", field="updatedAt", value="2h"),
        Rule(key="orders-landed", check="exists"),
    ),
)

# Stored items as the store hands them over: a data map with bookkeeping attributes, and flat items.
ITEMS: list[dict[str, dict[str, Any]]] = [
    {
        "upstream-complete": {
            "PK": "PIPELINE#p",
            "SK": "SENSOR#upstream-complete",
            "data": {"status": "ready"},
        },
        "row-count": {
            "PK": "PIPELINE#p",
            "SK": "SENSOR#row-count",
            "data": {"count": Decimal("15432")},
        },
        "freshness": {
            "PK": "PIPELINE#p",
            "SK": "SENSOR#freshness",
            "data": {"updatedAt": "2024-05-01T11:24:00Z"},
        },
        "orders-landed": {
            "PK": "PIPELINE#p",
            "SK": "SENSOR#orders-landed",
            "data": {"path": "s3://b/k"},
        },
    },
    {
        "upstream-complete": {"status": "pending"},
        "row-count": {"count": 12},
        "freshness": {"updatedAt": "2024-05-01T09:29:00.123+00:00"},
        "orders-landed": {"path": "s3://b/k"},
    },
    {
        "upstream-complete": {"status": "ready"},
        "row-count": {"count": 15432},
        "freshness": {"updatedAt": Decimal("1714563000")},
    },
    {
        "upstream-complete": {"status": "ready", "attempt": 2},
        "row-count": {"count": 999.5},
        "freshness": {"updatedAt": 1714561200000},
        "orders-landed": {"path": "s3://b/k"},
    },
]
SENSORS = [{key: sensor_fields(item) for key, item in items.items()} for items in ITEMS]

# The same shapes with a count and a timestamp that never repeat (the rules remember results per str/int
# value, which repeat in practice — status=ready, a count that has not moved — so this is the memo's worst
# case): half read back from DynamoDB (Decimal count, RFC 3339 text), half as a JSON producer writes them
# (int count, epoch seconds), like SENSORS.
FRESH_BASE = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
FRESH = [
    {
        "upstream-complete": {"status": "ready" if i % 4 else "pending"},
        "row-count": {"count": Decimal(500 + i) if i % 2 else 500 + i},
        "freshness": {
            "updatedAt": (FRESH_BASE + timedelta(seconds=i)).isoformat().replace("+00:00", "Z")
            if i % 2
            else int((FRESH_BASE + timedelta(seconds=i)).timestamp())
        },
        "orders-landed": {"path": "s3://b/k"},
    }
    for i in range(4096)
]


def run_for(seconds: float, sensor_sets: list[dict[str, Any]] = SENSORS) -> tuple[int, float]:
    """Evaluate the sensor sets round-robin for about ``seconds``; return (evaluations, elapsed)."""
    validation, now = VALIDATION, NOW
    batch = 2_000  # check the clock once per batch so timing stays out of the loop
    rounds = max(1, batch // len(sensor_sets))
    count = 0
    start = time.process_time()
    deadline = start + seconds
    while True:
        for _ in range(rounds):
            for sensors in sensor_sets:
                evaluate(validation, sensors, now)
        count += rounds * len(sensor_sets)
        elapsed = time.process_time() - start
        if elapsed >= deadline - start:
            return count, elapsed


def main() -> None:
    """Run the benchmark and print the figures."""
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    rules = len(VALIDATION.rules)
    run_for(0.2)  # warm-up: compile and cache the validation, fill CPU caches
    rates = []
    for _ in range(REPEATS):
        count, elapsed = run_for(seconds)
        rates.append(count / elapsed)
    median = statistics.median(rates)
    print(
        f"interlock.rules.evaluate: {rules} rules (equals, gte, age_lt, exists), {len(SENSORS)} sensor sets"
    )
    print(f"  {REPEATS} repeats of {seconds:g} s of CPU time, python {sys.version.split()[0]}")
    print(
        f"  rule evaluations/s: median {median * rules:,.0f}  "
        f"(min {min(rates) * rules:,.0f}, max {max(rates) * rules:,.0f})"
    )
    print(
        f"  evaluations/s:      median {median:,.0f}  "
        f"(min {min(rates):,.0f}, max {max(rates):,.0f})"
    )
    fresh = []
    for _ in range(REPEATS):
        count, elapsed = run_for(seconds, FRESH)
        fresh.append(count / elapsed)
    print(
        f"  rule evaluations/s, counts and timestamps never repeating: median "
        f"{statistics.median(fresh) * rules:,.0f}  (min {min(fresh) * rules:,.0f}, "
        f"max {max(fresh) * rules:,.0f})"
    )


if __name__ == "__main__":
    main()
