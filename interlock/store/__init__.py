"""The store layer: one ``Table`` protocol, an embedded SQLite driver and a DynamoDB driver.

Everything that reads or writes Interlock's state (Lambdas, embedded runtime, CLI, TUI, notebooks) goes
through this package. Drivers import their I/O libraries (sqlite3, boto3) only in their own modules, and :class:`Store` /
:func:`open_store` (the factory, which knows the drivers) load on first use (PEP 562), so a pure module
importing :mod:`interlock.store.keys` loads no driver.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from interlock.store.table import (
    ConflictError,
    StoreError,
    StoreUnavailableError,
    Table,
    TableSpec,
    absent,
    all_of,
    begins_with,
    between,
    equals,
    exists,
    query_all,
)

__all__ = [
    "ConflictError",
    "Store",
    "StoreError",
    "StoreUnavailableError",
    "Table",
    "TableSpec",
    "absent",
    "all_of",
    "begins_with",
    "between",
    "equals",
    "exists",
    "open_store",
    "query_all",
]

if TYPE_CHECKING:
    from interlock.store.factory import Store, open_store

_LAZY = {"Store": "interlock.store.factory", "open_store": "interlock.store.factory"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
