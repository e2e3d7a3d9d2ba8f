"""The store layer: one ``Table`` protocol, an embedded SQLite driver and a DynamoDB driver.

Everything that reads or writes Interlock's state (Lambdas, embedded runtime, CLI, TUI, notebooks) goes
through this package. Drivers import their I/O libraries (sqlite3, boto3) only in their own modules.
"""

from __future__ import annotations

from interlock.store.factory import Store, open_store
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
