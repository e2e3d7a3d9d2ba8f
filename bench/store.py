"""Store throughput: sensor writes/s and reads/s, SQLite vs the DynamoDB driver on moto, in one run.

Run with ``make bench`` (or ``.venv/bin/python bench/store.py [--seconds S]``). Prints numbers and the
SQLite/moto ratio; asserts nothing. Each figure is the median of several timed rounds; the spread is
printed so noisy runs are visible.

What is measured: single-item sensor puts (one transaction / one PutItem each, the way producers write),
``put_many`` bulk loads on SQLite, and strongly consistent gets of those sensors.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _sensor(i: int) -> dict[str, Any]:
    return {
        "PK": f"PIPELINE#bench-{i % 50}",
        "SK": f"SENSOR#sensor-{i}",
        "data": {"count": 15432 + i, "status": "ready", "updatedAt": "2026-03-02T08:05:00Z"},
    }


def _rate(
    op: Callable[[int], object], seconds: float, rounds: int = 5
) -> tuple[float, float, float]:
    """Median, min and max operations per second over ``rounds`` timed rounds."""
    rates = []
    i = 0
    for _ in range(rounds):
        n = 0
        start = time.perf_counter()
        deadline = start + seconds / rounds
        while True:
            op(i)
            i += 1
            n += 1
            if n % 64 == 0 and time.perf_counter() >= deadline:
                break
        rates.append(n / (time.perf_counter() - start))
    return statistics.median(rates), min(rates), max(rates)


def _line(label: str, figures: tuple[float, float, float]) -> str:
    med, lo, hi = figures
    return f"  {label:<34} {med:>10,.0f}/s   (min {lo:,.0f}, max {hi:,.0f})"


def bench_sqlite(seconds: float) -> dict[str, tuple[float, float, float]]:
    from interlock.store.sqlite import SQLiteStore

    with tempfile.TemporaryDirectory() as d:
        store = SQLiteStore(Path(d) / "bench.db")
        try:
            table = store.table("control")
            puts = _rate(lambda i: table.put(_sensor(i)), seconds)
            written = 2000
            gets = _rate(
                lambda i: table.get(
                    f"PIPELINE#bench-{i % written % 50}", f"SENSOR#sensor-{i % written}"
                ),
                seconds,
            )
            put_many = table.put_many
            # Distinct items every batch: a re-put of identical items is a no-op and would flatter it.
            bulk = _rate(
                lambda i: put_many([_sensor(10_000_000 + i * 500 + j) for j in range(500)]),
                seconds,
            )
        finally:
            store.close()
    return {"put": puts, "get": gets, "put_many (items)": tuple(x * 500 for x in bulk)}  # type: ignore[dict-item]


def bench_moto(seconds: float) -> dict[str, tuple[float, float, float]]:
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] = "disabled"
    from moto import mock_aws

    from interlock.store.dynamodb import DynamoDBStore, create_tables

    with mock_aws():
        create_tables("bench", region="eu-west-1")
        store = DynamoDBStore("bench", region="eu-west-1")
        table = store.table("control")
        puts = _rate(lambda i: table.put(_sensor(i)), seconds)
        gets = _rate(
            lambda i: table.get(f"PIPELINE#bench-{i % 200 % 50}", f"SENSOR#sensor-{i % 200}"),
            seconds,
        )
    return {"put": puts, "get": gets}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="time per measurement")
    args = parser.parse_args()
    print(
        f"store benchmark, python {sys.version.split()[0]}, {os.cpu_count()} cores, {args.seconds}s each"
    )
    sqlite = bench_sqlite(args.seconds)
    print("SQLite (WAL, synchronous=NORMAL, one transaction per put):")
    for label, fig in sqlite.items():
        print(_line(label, fig))
    moto = bench_moto(args.seconds)
    print("DynamoDB driver on moto (in-process):")
    for label, fig in moto.items():
        print(_line(label, fig))
    print("ratio SQLite / moto (medians):")
    for label in ("put", "get"):
        print(f"  {label:<34} {sqlite[label][0] / moto[label][0]:>10.1f}x")


if __name__ == "__main__":
    main()
