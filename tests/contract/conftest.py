"""One contract suite, every driver: the same tests run against each ``Table`` implementation.

Drivers (the ``driver`` parameter):

* ``sqlite``          — :class:`interlock.store.sqlite.SQLiteStore` on a file in ``tmp_path``;
* ``moto``            — :class:`interlock.store.dynamodb.DynamoDBStore` on moto's in-process DynamoDB;
* ``dynamodb-local``  — the same driver on Amazon DynamoDB Local, when ``DYNAMODB_LOCAL_ENDPOINT`` names a
  running instance (``make test`` starts one); otherwise those tests are skipped with the reason shown.

Every driver gets the same :class:`FakeClock`, so TTL behaviour is tested without sleeping.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest

from interlock.store.specs import TABLE_SPECS

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from interlock.store.table import Table

DRIVERS = ["sqlite", "moto", "dynamodb-local"]


class FakeClock:
    """A settable clock returning epoch seconds (the drivers' ``now`` callable)."""

    def __init__(self, start: float = 1_772_000_000.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _sqlite_store(tmp_path: Path, clock: FakeClock) -> Iterator[Any]:
    from interlock.store.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "contract.db", now=clock)
    try:
        yield store
    finally:
        store.close()


def _moto_store(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[Any]:
    from tests.contract.dynamodb_harness import moto_store

    yield from moto_store(request, clock)


def _local_store(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[Any]:
    endpoint = os.environ.get("DYNAMODB_LOCAL_ENDPOINT")
    if not endpoint:
        why = os.environ.get("DYNAMODB_LOCAL_UNAVAILABLE") or "DYNAMODB_LOCAL_ENDPOINT unset"
        pytest.skip(f"DynamoDB Local is not running ({why}): `make test` starts it")
    from tests.contract.dynamodb_harness import local_store

    yield from local_store(request, clock, endpoint)


@pytest.fixture(params=DRIVERS)
def driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(
    driver: str, request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> Iterator[Any]:
    """A store (one per test, empty) of the parametrised driver, on the shared fake clock."""
    if driver == "sqlite":
        yield from _sqlite_store(tmp_path, clock)
    elif driver == "moto":
        yield from _moto_store(request, clock)
    else:
        yield from _local_store(request, clock)


@pytest.fixture
def make_table(store: Any) -> Callable[[str], Table]:
    """``make_table("control")`` → that table of the store under test."""

    def make(name: str) -> Table:
        assert name in TABLE_SPECS, name
        table: Table = store.table(name)
        return table

    return make
