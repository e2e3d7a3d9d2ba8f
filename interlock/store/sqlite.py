"""The embedded store: the :class:`~interlock.store.table.Table` protocol over one SQLite file.

One file holds the four tables of :mod:`interlock.store.specs` and a ``changes`` feed that stands in for
DynamoDB Streams: the embedded runtime tails it and hands the router records in the shape a Lambda
receives, so the router cannot tell this store from DynamoDB. Several processes may use one file at once
(the CLI writes while the runtime and the TUI read).

Schema (version 1)
------------------
::

    meta      key TEXT PK │ value TEXT          application = "interlock-store", schema_version,
                                                 store_id (names eventIDs), index_layout (JSON)
    items     tbl, pk, sk  PK (WITHOUT ROWID)   tbl = logical table (control, joblog, rerun, events)
              doc   TEXT    the normalized item as canonical JSON (sorted keys; numbers exact)
              ttl   REAL    the item's numeric ``ttl``, else NULL (never expires)
              i1pk, i1sk    the table's 1st index: partition key, sort key (NULL: not in the index)
              i2pk, i2sk    the table's 2nd index
        items_i1  (tbl, i1pk, i1sk, pk, sk) WHERE i1pk IS NOT NULL     ─┐ sparse GSIs: an item lacking
        items_i2  (tbl, i2pk, i2sk, pk, sk) WHERE i2pk IS NOT NULL     ─┘ either key is not in them
        items_ttl (tbl, ttl)                WHERE ttl IS NOT NULL       the lazy TTL purge
    changes   seq INTEGER PK (the rowid)        SequenceNumber: slot * 10**15 + n, so each table's
                                                feed is one contiguous rowid range (control: slot 1,
                                                joblog 2, rerun 3, events 4) read without an index
              at (clock), event (INSERT|MODIFY|REMOVE), pk, sk,
              old, new (doc JSON or NULL), ttl_purge (1: a TTL deletion)

The file header carries ``PRAGMA application_id`` = ``0x494E544C`` ("INTL") as well. Opening a file
checks it *before changing anything*: a non-SQLite or corrupt file, a SQLite file of another application
(tables, no marker) or a store written by a newer schema raises :class:`StoreUnavailableError` naming
the file. Older stores are brought up to date by :data:`MIGRATIONS` (one step per version, in one
transaction).

Values and order
----------------
Items are stored as :func:`~interlock.store.codec.normalize` makes them, so they read back exactly as
DynamoDB returns them (``int``, or ``Decimal`` parsed from its exact text). Sort keys compare as DynamoDB
compares them: strings by UTF-8 bytes (SQLite's BINARY collation on UTF-8 text); numeric index sort keys
through an order-preserving text encoding (:func:`number_key`) that is exact for every number DynamoDB
accepts (38 significant digits, magnitudes 1e-130 to 1e126): no rounding, ``9 < 10``,
``10**37 < 10**37 + 1``. The ``ttl`` column is a double: expiry is compared to the clock at double
precision (well under a microsecond for today's epoch seconds).

A write transaction
-------------------
Every write and its feed record commit together, or neither does::

    BEGIN IMMEDIATE                            take the write lock now (waits up to busy_timeout), so
    │                                          the read below cannot go stale before we write
    ├─ SELECT doc, ttl  (the old item)         needed for the condition, the feed's OldImage, TTL
    │   └─ expired? DELETE it + REMOVE record  the lazy TTL purge, as DynamoDB's TTL would (ttl_purge=1)
    ├─ check the condition on the old item     fails → ConflictError, ROLLBACK: nothing written
    ├─ new doc == old doc? stop                a write that changes nothing writes no record (DynamoDB)
    ├─ INSERT OR REPLACE / DELETE items
    ├─ INSERT INTO changes                     only for tables with a stream (control, joblog),
    │                                          and not for the embedded runtime's own rows
    │                                          (TableSpec.unstreamed: executions, timers, …)
    ├─ every 1000 writes or 60 s of clock:     purge ≤ 100 expired items (REMOVE records), trim
    │                                          feed records older than the retention (24 h)
    COMMIT

:meth:`SQLiteTable.put_many` runs the middle part once per item inside one such transaction.

Writers are serialized by the lock, so sequence numbers commit in order: a tailer that has read up to
``n`` never later finds a record below ``n``. A table's next number is one above its newest record, and
trimming always keeps the newest record of each table, so a number is never handed out twice. (Neither
AUTOINCREMENT nor an index on the feed: each adds a page to every commit; together ~25% slower writes.)

PRAGMAs
-------
``journal_mode=WAL``
    Readers never block the writer and the writer never blocks readers: the runtime keeps reading while
    the CLI writes. Persistent in the file.
``synchronous=NORMAL``
    In WAL mode a commit appends to the WAL without fsync; the file is fsynced at checkpoints. A
    committed transaction survives a crash of the process (``kill -9``): it is in the OS's page cache.
    An OS crash or power loss may lose the last transactions (it never corrupts the file). ``FULL``
    would fsync every commit: ~15x fewer writes per second on the machine this was measured on.
``busy_timeout`` (``busy_timeout=`` seconds, default 5)
    Another process holding the write lock makes a writer wait for it instead of failing at once.
``wal_autocheckpoint=10000`` (pages: a WAL of up to ~40 MB)
    A checkpoint fsyncs twice, and the writer that crosses the threshold pays for it. Ten times the
    default spreads that over ~4,000 puts instead of ~400 (and rewrites hot pages once, not ten
    times): +50% single-item puts per second when the disk is busy. Measured against a checkpointing
    thread, which did worse on two cores.
``journal_size_limit`` (64 MB)
    Truncates the WAL after a checkpoint, so one burst of writes does not leave a huge file behind.

Time
----
The only clock is the ``now`` callable (epoch seconds, default :func:`time.time`): TTL, the feed's
``ApproximateCreationDateTime`` and its retention all use it, so tests drive them with a fake clock.

Threads
-------
A :class:`SQLiteStore` holds one connection guarded by a lock: one store may be shared by threads.
Processes each open their own store on the same file.

Modules
-------
This module holds the file (schema, migrations, connection, transactions, maintenance: :class:`SQLiteStore`);
:mod:`interlock.store.sqlite_table` one logical table (:class:`SQLiteTable`); :mod:`interlock.store.sqlite_sql`
the SQL statements, error classes and item documents both use.
"""

from __future__ import annotations

import json
import json.encoder
import logging
import math
import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, Final, NamedTuple, ParamSpec, TypeVar

from interlock.store.specs import TABLE_SPECS
from interlock.store.sqlite_sql import (
    _BROKEN_CODES,
    _CHANGES_AT,
    _DELETE,
    _EXPIRED,
    _FEED,
    _UNAVAILABLE_CODES,
    _WAIT_CODES,
    _feed_range,
    _loads,
    number_key,
)
from interlock.store.sqlite_table import SQLiteTable
from interlock.store.table import (
    StoreError,
    StoreUnavailableError,
    ValidationError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from types import TracebackType


__all__ = [
    "APPLICATION_ID",
    "FEED_RETENTION",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "MaintenanceResult",
    "SQLiteStore",
    "SQLiteTable",
    "ValidationError",
    "number_key",
]

logger = logging.getLogger(__name__)

_P = ParamSpec("_P")
_T = TypeVar("_T")

APPLICATION_ID: Final = 0x494E544C
"""``PRAGMA application_id`` of an Interlock store ("INTL"), next to the ``meta`` marker."""

SCHEMA_VERSION: Final = 1
"""The schema version this code writes; files with a higher one are refused."""

FEED_RETENTION: Final = 24 * 3600.0
"""How long feed records are kept, in seconds of the store's clock (as DynamoDB Streams: 24 h)."""

_MARKER: Final = "interlock-store"
_MAX_INDEXES: Final = 2  # index columns in schema v1; a third index per table needs a migration
_MAINTAIN_EVERY_WRITES: Final = 1000
_MAINTAIN_EVERY_SECONDS: Final = 60.0
_PURGE_BATCH: Final = 100
# Each write appends at most two records (a purge and itself), so trimming 4x the writes between two
# maintenance runs always outpaces the feed's growth.
_TRIM_BATCH: Final = 4 * _MAINTAIN_EVERY_WRITES + 4 * _PURGE_BATCH


class MaintenanceResult(NamedTuple):
    """What :meth:`SQLiteStore.maintain` did.

    Attributes:
        purged: expired items deleted (each a REMOVE record on a table with a stream).
        trimmed: feed records older than the retention deleted.
    """

    purged: int
    trimmed: int


# ------------------------------------------------------------------------------------ schema

_SCHEMA_V1 = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE items (
    tbl  TEXT NOT NULL,
    pk   TEXT NOT NULL,
    sk   TEXT NOT NULL,
    doc  TEXT NOT NULL,
    ttl  REAL,
    i1pk TEXT,
    i1sk TEXT,
    i2pk TEXT,
    i2sk TEXT,
    PRIMARY KEY (tbl, pk, sk)
) WITHOUT ROWID;
CREATE INDEX items_i1 ON items (tbl, i1pk, i1sk, pk, sk) WHERE i1pk IS NOT NULL;
CREATE INDEX items_i2 ON items (tbl, i2pk, i2sk, pk, sk) WHERE i2pk IS NOT NULL;
CREATE INDEX items_ttl ON items (tbl, ttl) WHERE ttl IS NOT NULL;
CREATE TABLE changes (
    seq       INTEGER PRIMARY KEY,
    at        REAL NOT NULL,
    event     TEXT NOT NULL,
    pk        TEXT NOT NULL,
    sk        TEXT NOT NULL,
    old       TEXT,
    new       TEXT,
    ttl_purge INTEGER NOT NULL DEFAULT 0
);
"""


def _migrate_to_v1(conn: sqlite3.Connection) -> None:
    """Version 1: create everything (a new file)."""
    for statement in _SCHEMA_V1.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?)",
        [("application", _MARKER), ("store_id", uuid.uuid4().hex)],
    )


MIGRATIONS: Final[Mapping[int, Callable[[sqlite3.Connection], None]]] = {1: _migrate_to_v1}
"""Schema steps keyed by the version they produce; a file at version ``v`` runs ``v+1 …`` in order, in
the transaction that opens it. Add a step (and bump :data:`SCHEMA_VERSION`) to change the schema."""

# ------------------------------------------------------------------------------------- store


class SQLiteStore:
    """The four Interlock tables in one SQLite file (created, with its directory, on first use).

    Args:
        path: the database file.
        now: the clock in epoch seconds (TTL, feed times, feed retention); default :func:`time.time`.
        busy_timeout: seconds a write waits for another process's write lock before failing.
        feed_retention: seconds of the clock a feed record is kept (default 24 h, as DynamoDB Streams).

    Raises:
        StoreUnavailableError: the file cannot be created or opened, is not a SQLite database, is
            corrupt, belongs to another application, or was written by a newer Interlock.

    Example::

        with SQLiteStore(".interlock/interlock.db") as store:
            store.table("control").put({"PK": "PIPELINE#a", "SK": "SENSOR#b", "data": {"n": 1}})
    """

    def __init__(
        self,
        path: str | Path,
        *,
        now: Callable[[], float] | None = None,
        busy_timeout: float = 5.0,
        feed_retention: float = FEED_RETENTION,
    ) -> None:
        self._path = Path(path)
        self._now: Callable[[], float] = now if now is not None else time.time
        self._busy_timeout = busy_timeout
        self._retention = feed_retention
        self._lock = threading.RLock()
        self._tables: dict[str, SQLiteTable] = {}
        self._writes = 0
        self._next_maintenance = -math.inf
        self._store_id = ""
        self._namespace = uuid.NAMESPACE_OID
        self._conn: sqlite3.Connection | None = self._open()

    def __repr__(self) -> str:
        state = "closed" if self._conn is None else "open"
        return f"SQLiteStore({str(self._path)!r}, {state})"

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    def table(self, name: str) -> SQLiteTable:
        """The table called ``name`` (``control``, ``joblog``, ``rerun`` or ``events``).

        Raises:
            StoreError: no such table.
        """
        table = self._tables.get(name)
        if table is None:
            spec = TABLE_SPECS.get(name)
            if spec is None:
                raise StoreError(f"unknown table {name!r}: one of {', '.join(TABLE_SPECS)}")
            table = self._tables[name] = SQLiteTable(self, spec)
        return table

    def close(self) -> None:
        """Close the connection (idempotent); later operations raise :class:`StoreError`."""
        with self._lock:
            if self._conn is not None:
                conn, self._conn = self._conn, None
                conn.close()

    def maintain(
        self, *, purge_limit: int | None = None, trim_limit: int | None = None
    ) -> MaintenanceResult:
        """Purge expired items and trim old feed records now, in batches (writes do it lazily too).

        Args:
            purge_limit: at most this many items purged (default: all that have expired).
            trim_limit: at most this many feed records trimmed (default: all past the retention).

        Returns:
            How many items were purged and feed records trimmed.
        """
        purged = trimmed = 0
        while True:
            purge_batch = (
                _PURGE_BATCH if purge_limit is None else min(_PURGE_BATCH, purge_limit - purged)
            )
            trim_batch = (
                _TRIM_BATCH if trim_limit is None else min(_TRIM_BATCH, trim_limit - trimmed)
            )
            done = self._atomically(self._maintain, purge_batch, trim_batch)
            purged += done.purged
            trimmed += done.trimmed
            if (done.purged < purge_batch or purge_batch == 0) and (
                done.trimmed < trim_batch or trim_batch == 0
            ):
                return MaintenanceResult(purged, trimmed)

    def describe(self) -> dict[str, Any]:
        """The store's settings as SQLite reports them (for ``interlock doctor``-style output and tests)."""
        with self._reading() as conn:
            journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
            sync = conn.execute("PRAGMA synchronous").fetchone()[0]
            busy = conn.execute("PRAGMA busy_timeout").fetchone()[0]
            checkpoint = conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
            version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return {
            "path": str(self._path),
            "schema_version": int(version[0]),
            "journal_mode": journal,
            "synchronous": {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(sync, str(sync)),
            "busy_timeout_ms": busy,
            "wal_autocheckpoint": checkpoint,
            "feed_retention_seconds": self._retention,
            "store_id": self._store_id,
        }

    # ------------------------------------------------------------------------------- opening

    def _open(self) -> sqlite3.Connection:
        path = self._path
        header = b""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_file():
                with path.open("rb") as f:
                    header = f.read(16)
        except OSError as exc:
            raise StoreUnavailableError(f"{path}: cannot open the store: {exc}") from exc
        if header and header != b"SQLite format 3\x00":
            raise StoreUnavailableError(
                f"{path}: not a SQLite database (the file starts with {header[:16]!r}); "
                "point the store at a new file or an Interlock store"
            )
        try:
            conn = sqlite3.connect(
                path,
                timeout=self._busy_timeout,
                isolation_level=None,  # we issue BEGIN IMMEDIATE / COMMIT ourselves
                check_same_thread=False,  # guarded by self._lock instead
                cached_statements=256,
            )
        except sqlite3.Error as exc:
            raise StoreUnavailableError(f"{path}: cannot open the store: {exc}") from exc
        try:
            self._setup(conn)
        except sqlite3.Error as exc:
            conn.close()
            raise self._error(exc, "open the store") from exc
        except BaseException:
            conn.close()
            raise
        return conn

    def _setup(self, conn: sqlite3.Connection) -> None:
        # Look before touching anything: a foreign or newer file must be left exactly as it was.
        version, meta = self._inspect(conn)
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":
                raise StoreUnavailableError(
                    f"{self._path}: SQLite refused WAL mode (got {mode!r}); "
                    "the store needs a local file system"
                )
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA wal_autocheckpoint = 10000")
        conn.execute("PRAGMA journal_size_limit = 67108864")
        if version < SCHEMA_VERSION or meta.get("index_layout") != _index_layout():
            conn.execute("BEGIN IMMEDIATE")
            try:
                version, meta = self._inspect(conn)  # another process may have done it meanwhile
                for step in range(version + 1, SCHEMA_VERSION + 1):
                    MIGRATIONS[step](conn)
                conn.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
                self._sync_indexes(conn, meta.get("index_layout"))
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            version, meta = self._inspect(conn)
        self._store_id = meta["store_id"]
        self._namespace = uuid.UUID(self._store_id)

    def _inspect(self, conn: sqlite3.Connection) -> tuple[int, dict[str, str]]:
        """(schema version, meta) of the file; 0 for a new, empty file.

        Raises:
            StoreUnavailableError: a foreign or newer file.
        """
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = sorted(
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!'"
            )
        )
        if not tables and app_id in (0, APPLICATION_ID):
            return 0, {}
        meta: dict[str, str] = {}
        if app_id == APPLICATION_ID and "meta" in tables:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("application") != _MARKER:
            shown = ", ".join(tables[:6]) + (", …" if len(tables) > 6 else "")
            raise StoreUnavailableError(
                f"{self._path}: not an Interlock store: a SQLite database of another application "
                f"(application_id {app_id:#x}, tables: {shown or 'none'}) without the Interlock "
                "marker; it was left untouched. Point the store at a new file"
            )
        try:
            version = int(meta["schema_version"])
        except (KeyError, ValueError) as exc:
            raise StoreUnavailableError(
                f"{self._path}: damaged Interlock store: no valid schema_version in its meta table"
            ) from exc
        if version > SCHEMA_VERSION:
            raise StoreUnavailableError(
                f"{self._path}: written by a newer Interlock (store schema version {version}; this "
                f"version reads up to {SCHEMA_VERSION}); upgrade Interlock to open it"
            )
        return version, meta

    def _sync_indexes(self, conn: sqlite3.Connection, stored_layout: str | None) -> None:
        """Rebuild the index columns of tables whose index declarations changed since the file was
        written (sparse: items whose keys are missing or now wrongly typed are left out, with a log)."""
        layout = _index_layout()
        if stored_layout == layout:
            return
        old: dict[str, Any] = json.loads(stored_layout) if stored_layout else {}
        new: dict[str, Any] = json.loads(layout)
        for name, spec in TABLE_SPECS.items():
            if old.get(name) == new[name]:
                continue
            table = self.table(name)
            rows = conn.execute("SELECT pk, sk, doc FROM items WHERE tbl = ?", (name,)).fetchall()
            for pk, sk, doc in rows:
                try:
                    columns = table._index_columns(_loads(doc))
                except ValidationError as exc:
                    logger.warning(
                        "%s: %s / %s left out of the indexes: %s", self._path, pk, sk, exc
                    )
                    columns = (None, None, None, None)
                conn.execute(
                    "UPDATE items SET i1pk = ?, i1sk = ?, i2pk = ?, i2sk = ? "
                    "WHERE tbl = ? AND pk = ? AND sk = ?",
                    (*columns, name, pk, sk),
                )
            if rows:
                logger.info("%s: reindexed %d items of %s (%s)", self._path, len(rows), name, spec)
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('index_layout', ?)", (layout,)
        )

    # ---------------------------------------------------------------------------- plumbing

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"{self._path}: the store is closed")
        return self._conn

    def _error(self, exc: sqlite3.Error, doing: str) -> StoreError:
        """A sqlite3 error as a store error (the caller raises it ``from exc``)."""
        code = getattr(exc, "sqlite_errorcode", None)
        primary = code & 0xFF if isinstance(code, int) else None
        where = f"{self._path}: cannot {doing}"
        if primary in _WAIT_CODES:
            return StoreUnavailableError(
                f"{where}: the database stayed locked by another writer for {self._busy_timeout}s ({exc})"
            )
        if primary in _BROKEN_CODES:
            return StoreUnavailableError(
                f"{where}: the file is corrupt or not a SQLite database ({exc})"
            )
        if primary in _UNAVAILABLE_CODES:
            return StoreUnavailableError(f"{where}: {exc}")
        if isinstance(exc, sqlite3.ProgrammingError) and self._conn is None:
            return StoreError(f"{where}: the store is closed")
        return StoreError(f"{where}: {exc}")

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """The connection, for single-statement reads (each one sees a consistent snapshot)."""
        with self._lock:
            conn = self._connection()
            try:
                yield conn
            except sqlite3.Error as exc:
                raise self._error(exc, "read") from exc

    def _atomically(
        self,
        fn: Callable[Concatenate[sqlite3.Connection, float, _P], _T],
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> _T:
        """Run ``fn(conn, now, …)`` in one write transaction (see the module docstring).

        A plain call rather than a context manager: it is the hot path of every write.
        """
        with self._lock:
            conn = self._conn
            if conn is None:
                raise StoreError(f"{self._path}: the store is closed")
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._error(exc, "start a write") from exc
            try:
                now = self._now()
                result = fn(conn, now, *args, **kwargs)
                if self._writes >= _MAINTAIN_EVERY_WRITES or now >= self._next_maintenance:
                    self._maintain(conn, now, _PURGE_BATCH, _TRIM_BATCH)
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        logger.exception("%s: rollback failed", self._path)
                if isinstance(exc, sqlite3.Error):
                    raise self._error(exc, "write") from exc
                raise
            return result

    def _maintain(
        self, conn: sqlite3.Connection, now: float, purge_limit: int, trim_limit: int
    ) -> MaintenanceResult:
        """Within a write transaction: purge expired items and trim the feed, a batch of each."""
        self._writes = 0
        self._next_maintenance = now + _MAINTAIN_EVERY_SECONDS
        purged = 0
        for name, spec in TABLE_SPECS.items():
            if purged >= purge_limit:
                break
            rows = conn.execute(_EXPIRED, (name, now, purge_limit - purged)).fetchall()
            if not rows:
                continue
            conn.executemany(_DELETE, [(name, pk, sk) for pk, sk, _ in rows])
            if spec.stream:
                base, end = _feed_range(name)
                conn.executemany(
                    _FEED,
                    [
                        (base, end, now, "REMOVE", pk, sk, doc, None, 1)
                        for pk, sk, doc in rows
                        if pk not in spec.unstreamed
                    ],
                )
            purged += len(rows)
        return MaintenanceResult(purged, self._trim(conn, now - self._retention, trim_limit))

    def _trim(self, conn: sqlite3.Connection, cutoff: float, limit: int) -> int:
        """Delete up to ``limit`` feed records older than ``cutoff``, oldest first, keeping the newest
        record of each table (the next number counts from it)."""
        trimmed = 0
        for name, spec in TABLE_SPECS.items():
            if not spec.stream or trimmed >= limit:
                continue
            base, end = _feed_range(name)
            oldest = conn.execute(_CHANGES_AT, (base, end, 1)).fetchone()
            if oldest is None or oldest[1] >= cutoff:
                continue  # the usual case, answered from one row
            # One row more than we may delete: the last row read is never deleted, so the newest
            # record of the table survives.
            rows = conn.execute(_CHANGES_AT, (base, end, limit - trimmed + 1)).fetchall()
            last = None
            for seq, at in rows[:-1]:
                if at >= cutoff:
                    break
                last = seq
            if last is None:
                continue
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                (f"trimmed_through:{name}", str(last)),
            )
            deleted = conn.execute("DELETE FROM changes WHERE seq > ? AND seq <= ?", (base, last))
            trimmed += int(deleted.rowcount)
        return trimmed


def _index_layout() -> str:
    """The index declarations of every table, as stored in ``meta.index_layout``."""
    layout = {}
    for name, spec in TABLE_SPECS.items():
        if len(spec.indexes) > _MAX_INDEXES:
            raise StoreError(
                f"table {name!r} declares {len(spec.indexes)} indexes; schema version "
                f"{SCHEMA_VERSION} of the SQLite store holds {_MAX_INDEXES}: add a migration"
            )
        layout[name] = [[ix.name, ix.pk, ix.sk, ix.sk_type] for ix in spec.indexes]
    return json.dumps(layout, sort_keys=True)
