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
    ├─ INSERT INTO changes                     only for tables with a stream (control, joblog)
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
from collections.abc import Mapping
from contextlib import contextmanager
from decimal import Decimal, localcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, Final, NamedTuple, ParamSpec, TypeVar, cast

from interlock.store.codec import marshal_item, normalize, normalize_item, values_equal
from interlock.store.specs import TABLE_SPECS, physical_name
from interlock.store.table import (
    TTL_ATTRIBUTE,
    Absent,
    AllOf,
    ChangeBatch,
    ConflictError,
    Equals,
    Exists,
    Page,
    SKCondition,
    StoreError,
    StoreUnavailableError,
    TableSpec,
    ValidationError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence
    from types import TracebackType

    from interlock.store.table import Condition, IndexSpec, Item

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
_MAX_ITEM_BYTES: Final = 400 * 1024  # DynamoDB's item size limit
_MAX_PK_BYTES: Final = 2048
_MAX_SK_BYTES: Final = 1024
_MAINTAIN_EVERY_WRITES: Final = 1000
_MAINTAIN_EVERY_SECONDS: Final = 60.0
_PURGE_BATCH: Final = 100
# Each write appends at most two records (a purge and itself), so trimming 4x the writes between two
# maintenance runs always outpaces the feed's growth.
_TRIM_BATCH: Final = 4 * _MAINTAIN_EVERY_WRITES + 4 * _PURGE_BATCH
_TTL_IDENTITY: Final = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


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

_GET = "SELECT doc FROM items WHERE tbl = ? AND pk = ? AND sk = ? AND (ttl IS NULL OR ttl > ?)"
_OLD = "SELECT doc, ttl FROM items WHERE tbl = ? AND pk = ? AND sk = ?"
_UPSERT = (
    "INSERT OR REPLACE INTO items (tbl, pk, sk, doc, ttl, i1pk, i1sk, i2pk, i2sk) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_DELETE = "DELETE FROM items WHERE tbl = ? AND pk = ? AND sk = ?"
# ?1, ?2: the table's feed range [base, end); the new record takes the number after its newest one.
_FEED = (
    "INSERT INTO changes (seq, at, event, pk, sk, old, new, ttl_purge) VALUES ("
    "coalesce((SELECT seq FROM changes WHERE seq >= ?1 AND seq < ?2 ORDER BY seq DESC LIMIT 1), ?1)"
    " + 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
)
_EXPIRED = "SELECT pk, sk, doc FROM items WHERE tbl = ? AND ttl <= ? ORDER BY ttl LIMIT ?"
_CHANGES = (
    "SELECT seq, at, event, pk, sk, old, new, ttl_purge FROM changes "
    "WHERE seq > ? AND seq < ? ORDER BY seq LIMIT ?"
)
_CHANGES_AT = "SELECT seq, at FROM changes WHERE seq > ? AND seq < ? ORDER BY seq LIMIT ?"
_FEED_SLOTS: Final = {"control": 1, "joblog": 2, "rerun": 3, "events": 4}  # part of schema v1
_FEED_SPAN: Final = 10**15  # numbers per table: 30,000 years of writes at a million a second


def _feed_range(table: str) -> tuple[int, int]:
    """``[base, end)``: the feed numbers of ``table`` (its records are ``base + 1, base + 2 …``)."""
    base = _FEED_SLOTS[table] * _FEED_SPAN
    return base, base + _FEED_SPAN


# Primary SQLite result codes (exc.sqlite_errorcode & 0xFF) meaning "this file cannot be used now".
_UNAVAILABLE_CODES: Final = frozenset(
    {
        sqlite3.SQLITE_PERM,
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
        sqlite3.SQLITE_NOTADB,
    }
)
_BROKEN_CODES: Final = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
_WAIT_CODES: Final = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


# ------------------------------------------------------------------------------- JSON and numbers


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON")


# The C encoder built once (JSONEncoder.encode builds one per call): sorted keys, compact, no NaN,
# no circular-reference markers (a normalized value is a fresh tree).
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_encode_chunks = (
    _c_make_encoder(
        None, _refuse, json.encoder.encode_basestring, None, ":", ",", True, False, False
    )
    if _c_make_encoder is not None
    else None
)
_json_encoder = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
)


def _dumps_fast(value: Any) -> str:
    if _encode_chunks is not None:
        return "".join(_encode_chunks(value, 0))
    return _json_encoder.encode(value)  # pragma: no cover - interpreters without the C accelerator


_loads = json.JSONDecoder(parse_float=Decimal).decode


def _dumps_exact(value: Any) -> str:
    """Canonical JSON with ``Decimal`` written from its exact text (json cannot: it rounds via float)."""
    if isinstance(value, Decimal):
        return str(value)  # normalized and non-integral: "0.1", "1.5E-7", both JSON numbers
    if isinstance(value, dict):
        parts = (_dumps_fast(k) + ":" + _dumps_exact(value[k]) for k in sorted(value))
        return "{" + ",".join(parts) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dumps_exact(v) for v in value) + "]"
    return _dumps_fast(value)


def _dumps(value: Any) -> str:
    """A normalized value as canonical JSON: equal values give equal text (so no-op writes show)."""
    try:
        return _dumps_fast(value)
    except TypeError:  # a Decimal somewhere: the rare, slower path
        return _dumps_exact(value)


_NINES = str.maketrans("0123456789", "9876543210")


def number_key(value: int | Decimal) -> str:
    """An order-preserving text key for a normalized number (exact over DynamoDB's number range).

    ``number_key(a) < number_key(b)`` (as strings) exactly when ``a < b``: zero is ``"1"``; a positive
    number is ``"2"``, its decimal exponent + 130 in three digits, then its significant digits; a
    negative number is ``"0"``, the exponent's complement and the digits' nines' complement ended by
    ``"~"`` (so a longer magnitude sorts first).
    """
    if isinstance(value, int):
        if value == 0:
            return "1"
        negative = value < 0
        text = str(-value if negative else value)
        exponent = len(text) - 1
        digits = text.rstrip("0")
    else:
        if not value:
            return "1"
        sign, raw, _ = value.as_tuple()
        negative = sign == 1
        exponent = value.adjusted()
        digits = "".join(map(str, raw)).rstrip("0")
    biased = exponent + 130  # 0..255 for DynamoDB's magnitudes 1e-130 .. <1e126
    if not negative:
        return f"2{biased:03d}{digits}"
    return f"0{255 - biased:03d}{digits.translate(_NINES)}~"


def _value_size(value: Any) -> int:
    """DynamoDB's size of one attribute value, in bytes (its documented approximation)."""
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, int):
        return (len(str(abs(value)).strip("0")) + 1) // 2 + 1
    if isinstance(value, Decimal):
        return (len(value.as_tuple().digits) + 1) // 2 + 1
    if isinstance(value, dict):
        return 3 + sum(len(k.encode()) + _value_size(v) + 1 for k, v in value.items())
    return 3 + sum(_value_size(v) + 1 for v in value)


def _item_size(item: Mapping[str, Any]) -> int:
    """DynamoDB's size of an item: attribute names plus values."""
    return sum(len(k.encode()) + _value_size(v) for k, v in item.items())


def _prefix_end(prefix: str) -> str | None:
    """The least string above every string starting with ``prefix`` (``None``: there is none)."""
    chars = list(prefix)
    while chars:
        code = ord(chars[-1])
        if code < 0x10FFFF:
            code += 1
            if 0xD800 <= code <= 0xDFFF:  # surrogates cannot be stored: skip to the next character
                code = 0xE000
            chars[-1] = chr(code)
            return "".join(chars)
        chars.pop()
    return None


def _invalid(message: str, exc: BaseException | None = None) -> ValidationError:
    return ValidationError(f"{message}: {exc}" if exc is not None else message)


def _normalized(value: Any, what: str) -> Any:
    try:
        return normalize(value)
    except ValueError as exc:
        raise _invalid(f"{what} cannot be stored", exc) from exc


def _check_condition(condition: Condition) -> None:
    """Refuse operands DynamoDB could not hold, before any transaction starts."""
    if isinstance(condition, AllOf):
        for part in condition.conditions:
            _check_condition(part)
    elif isinstance(condition, Equals):
        _normalized(condition.value, f"the value of {condition}")
    elif not isinstance(condition, Absent | Exists):
        raise TypeError(f"not a condition: {condition!r}")


def _holds(condition: Condition, old: Item | None) -> bool:
    """Whether ``condition`` holds for the (live) item ``old`` (``None``: absent)."""
    if isinstance(condition, Absent):
        return old is None
    if isinstance(condition, Exists):
        return old is not None and (condition.attr is None or condition.attr in old)
    if isinstance(condition, Equals):
        return (
            old is not None
            and condition.attr in old
            and values_equal(old[condition.attr], condition.value)
        )
    return all(_holds(part, old) for part in condition.conditions)


def _add(current: Any, amount: int | Decimal, attr: str) -> int | Decimal:
    if isinstance(current, bool) or not isinstance(current, int | Decimal):
        raise _invalid(f"add {attr!r}: the stored value {current!r} is not a number")
    if isinstance(current, int) and isinstance(amount, int):
        total: int | Decimal = current + amount
    else:
        # Exact (DynamoDB's magnitudes span 256 digits), so normalize() sees the true sum and refuses
        # one DynamoDB would refuse (1e60 + 1e-60 needs 121 significant digits).
        with localcontext() as ctx:
            ctx.prec = 300
            total = Decimal(current) + Decimal(amount)
    return _normalized(total, f"add {attr!r}: the result {total}")  # type: ignore[no-any-return]


class _Prepared(NamedTuple):
    """An item ready to write: its key, its doc and its ``items`` row."""

    pk: str
    sk: str
    doc: str
    row: tuple[Any, ...]


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
                    [(base, end, now, "REMOVE", pk, sk, doc, None, 1) for pk, sk, doc in rows],
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


# ------------------------------------------------------------------------------------- table


class SQLiteTable:
    """One logical table of a :class:`SQLiteStore` (get one with :meth:`SQLiteStore.table`).

    Implements :class:`~interlock.store.table.Table`; see the module docstrings here and there.
    """

    def __init__(self, store: SQLiteStore, spec: TableSpec) -> None:
        self._store = store
        self._spec = spec
        self._name = spec.name
        self._stream = spec.stream
        self._feed = _feed_range(spec.name)
        self._arn = (
            f"arn:aws:dynamodb:local:000000000000:table/{physical_name('local', spec.name)}"
            "/stream/sqlite"
        )

    def __repr__(self) -> str:
        return f"SQLiteTable({self._name!r}, {str(self._store.path)!r})"

    @property
    def spec(self) -> TableSpec:
        """The table's shape (logical name, indexes, stream)."""
        return self._spec

    # ------------------------------------------------------------------------------ reads

    def get(self, pk: str, sk: str) -> Item | None:
        """The item with this key, or ``None`` if absent or expired."""
        with self._store._reading() as conn:
            row = conn.execute(_GET, (self._name, pk, sk, self._store._now())).fetchone()
        return None if row is None else _loads(row[0])

    def query(
        self,
        pk: str,
        sk: SKCondition | None = None,
        *,
        index: str | None = None,
        descending: bool = False,
        limit: int | None = None,
        cursor: Mapping[str, Any] | None = None,
    ) -> Page:
        """Items of one partition (of the table or of ``index``), in sort-key order.

        A page holds ``limit`` items when that many remain; ``Page.cursor`` is ``None`` exactly when
        no item is left. Items of an index that share a sort key come in (PK, SK) order.

        Raises:
            ValidationError: a bad argument (wrongly typed operand, ``limit`` < 1, a foreign cursor).
            StoreError: no such index.
        """
        if limit is not None and (isinstance(limit, bool) or limit < 1):
            raise _invalid(f"limit must be at least 1, got {limit!r}")
        where, params, sort_col, ix = self._where(pk, sk, index)
        direction = "DESC" if descending else "ASC"
        if cursor is not None:
            where, params = self._after(where, params, cursor, ix, sort_col, descending)
        order = f"{sort_col} {direction}" + (
            "" if ix is None else f", pk {direction}, sk {direction}"
        )
        sql = f"SELECT doc, pk, sk, {sort_col} FROM items WHERE {where} ORDER BY {order} LIMIT ?"
        with self._store._reading() as conn:
            rows = conn.execute(sql, (*params, -1 if limit is None else limit + 1)).fetchall()
        next_cursor: dict[str, Any] | None = None
        if limit is not None and len(rows) > limit:
            rows = rows[:limit]
            _, last_pk, last_sk, last_key = rows[-1]
            next_cursor = {"PK": last_pk, "SK": last_sk}
            if ix is not None:
                next_cursor["IK"] = last_key
        return Page([_loads(row[0]) for row in rows], next_cursor)

    def count(self, pk: str, sk: SKCondition | None = None, *, index: str | None = None) -> int:
        """How many (unexpired) items :meth:`query` would return across all pages."""
        where, params, _, _ = self._where(pk, sk, index)
        with self._store._reading() as conn:
            row = conn.execute(f"SELECT count(*) FROM items WHERE {where}", params).fetchone()
        return int(row[0])

    def changes(self, after: Any = None, *, limit: int = 100) -> ChangeBatch:
        """Read the change feed from after ``after`` (``None``: from the oldest record kept).

        Args:
            after: a position from an earlier batch: the last ``SequenceNumber`` read (a string).
            limit: at most this many records.

        Returns:
            Records oldest first in the DynamoDB Streams shape a Lambda receives, and the position
            after them (``after`` itself when there is nothing new).

        Raises:
            StoreError: the table has no stream, or ``after`` is not a position.
            ValidationError: ``limit`` < 1.
        """
        if not self._stream:
            raise StoreError(f"table {self._name!r} has no stream (no change feed)")
        if isinstance(limit, bool) or limit < 1:
            raise _invalid(f"limit must be at least 1, got {limit!r}")
        base, end = self._feed
        start = _position(after)
        if start and not base <= start < end:
            raise StoreError(f"{after!r} is a feed position of another table than {self._name!r}")
        with self._store._reading() as conn:
            rows = conn.execute(_CHANGES, (max(start, base), end, limit)).fetchall()
            if start:
                trimmed = conn.execute(
                    "SELECT value FROM meta WHERE key = ?", (f"trimmed_through:{self._name}",)
                ).fetchone()
                if trimmed is not None and int(trimmed[0]) > start:
                    logger.warning(
                        "%s: the %s feed after %s was partly trimmed (retention %ss): records lost",
                        self._store.path,
                        self._name,
                        after,
                        self._store._retention,
                    )
        records = [self._record(row) for row in rows]
        position = records[-1]["dynamodb"]["SequenceNumber"] if records else after
        return ChangeBatch(records, position)

    # ----------------------------------------------------------------------------- writes

    def put(self, item: Mapping[str, Any], *, condition: Condition | None = None) -> None:
        """Create or replace an item.

        Raises:
            ConflictError: ``condition`` did not hold.
            ValidationError: the item cannot be stored (see :class:`ValidationError`).
        """
        if condition is not None:
            _check_condition(condition)
        self._store._atomically(self._write, self._prepare(item), condition)

    def put_many(self, items: Iterable[Mapping[str, Any]]) -> int:
        """Create or replace many items in ONE transaction (with their feed records): all or nothing.

        Not part of the :class:`~interlock.store.table.Table` protocol: for bulk loads and seeding.
        ``items`` is consumed inside the transaction (while the write lock is held).

        Returns:
            How many items were written.

        Raises:
            ValidationError: an item cannot be stored; nothing of the batch was written.
        """
        return self._store._atomically(self._put_many, items)

    def update(
        self,
        pk: str,
        sk: str,
        *,
        set: Mapping[str, Any] | None = None,  # noqa: A002 - DynamoDB's own word for it
        remove: Sequence[str] = (),
        add: Mapping[str, int | float] | None = None,
        condition: Condition | None = None,
    ) -> Item:
        """Update attributes of an item, creating it if absent (as UpdateItem does), atomically.

        Args:
            pk: partition key.
            sk: sort key.
            set: attributes to set (top level).
            remove: attributes to remove.
            add: numeric attributes to increment atomically (absent counts as 0).
            condition: a condition on the item before the update.

        Returns:
            The item after the update.

        Raises:
            ConflictError: ``condition`` did not hold.
            ValidationError: a key attribute is named, an attribute is named twice, an ``add`` is not
                a number (or meets a stored non-number), or the result cannot be stored.
        """
        _check_key(pk, sk)
        if isinstance(remove, str):
            raise TypeError("remove takes a sequence of attribute names, not one string")
        sets = {a: _normalized(v, f"set {a!r}") for a, v in (set or {}).items()}
        removes = list(remove)
        adds: dict[str, int | Decimal] = {}
        for attr, amount in (add or {}).items():
            if isinstance(amount, bool) or not isinstance(amount, int | float | Decimal):
                raise _invalid(f"add {attr!r}: {amount!r} is not a number")
            adds[attr] = _normalized(amount, f"add {attr!r}")
        named = [*sets, *removes, *adds]
        for attr in named:
            if attr in ("PK", "SK"):
                raise _invalid(f"cannot update the key attribute {attr!r}")
        if len({*named}) != len(named):
            raise _invalid(f"an attribute is named twice in set/remove/add: {named}")
        if condition is not None:
            _check_condition(condition)
        return self._store._atomically(self._update, pk, sk, sets, removes, adds, condition)

    def delete(self, pk: str, sk: str, *, condition: Condition | None = None) -> Item | None:
        """Delete an item; returns it as it was (``None`` if there was none, or it had expired).

        Raises:
            ConflictError: ``condition`` did not hold.
        """
        _check_key(pk, sk)
        if condition is not None:
            _check_condition(condition)
        return _parse(self._store._atomically(self._delete, pk, sk, condition))

    # ------------------------------------------------ inside a write transaction (conn, now, …)

    def _write(
        self, conn: sqlite3.Connection, now: float, prepared: _Prepared, condition: Condition | None
    ) -> None:
        """Put one prepared item."""
        self._store._writes += 1
        if condition is None and not self._stream:
            # Nothing to check and no record to write: an expired item in the way is simply replaced.
            conn.execute(_UPSERT, prepared.row)
            return
        old = self._live_doc(conn, now, prepared.pk, prepared.sk)
        if condition is not None:
            if type(condition) is Absent:  # the common guard needs no parsing
                holds = old is None
            else:
                holds = _holds(condition, _parse(old))
            if not holds:
                raise ConflictError(prepared.pk, prepared.sk, condition)
        if (
            prepared.doc != old
        ):  # equal text is an equal item (canonical JSON): no change, no record
            self._store_row(conn, now, prepared, old)

    def _put_many(
        self, conn: sqlite3.Connection, now: float, items: Iterable[Mapping[str, Any]]
    ) -> int:
        n = 0
        for item in items:
            self._write(conn, now, self._prepare(item), None)
            n += 1
        return n

    def _update(
        self,
        conn: sqlite3.Connection,
        now: float,
        pk: str,
        sk: str,
        sets: dict[str, Any],
        removes: list[str],
        adds: dict[str, int | Decimal],
        condition: Condition | None,
    ) -> Item:
        self._store._writes += 1
        old = self._live_doc(conn, now, pk, sk)
        if condition is not None and not _holds(condition, _parse(old)):
            raise ConflictError(pk, sk, condition)
        item: Item = _loads(old) if old is not None else {"PK": pk, "SK": sk}
        item.update(sets)
        for attr in removes:
            item.pop(attr, None)
        for attr, increment in adds.items():
            item[attr] = _add(item.get(attr, 0), increment, attr)
        prepared = self._prepare_normalized(item)
        if prepared.doc != old:  # an update that changes nothing writes no record (DynamoDB)
            self._store_row(conn, now, prepared, old)
        return item

    def _delete(
        self, conn: sqlite3.Connection, now: float, pk: str, sk: str, condition: Condition | None
    ) -> str | None:
        """Delete the item; returns its doc (``None``: there was no live item)."""
        self._store._writes += 1
        old = self._live_doc(conn, now, pk, sk)
        if condition is not None and not _holds(condition, _parse(old)):
            raise ConflictError(pk, sk, condition)
        if old is None:
            return None  # nothing to delete: no record, as DynamoDB
        conn.execute(_DELETE, (self._name, pk, sk))
        if self._stream:
            conn.execute(_FEED, (*self._feed, now, "REMOVE", pk, sk, old, None, 0))
        return old

    # --------------------------------------------------------------------------- internals

    def _prepare(self, item: Mapping[str, Any]) -> _Prepared:
        try:
            norm = normalize_item(item)
        except ValueError as exc:
            raise _invalid(f"{self._name}: the item cannot be stored", exc) from exc
        return self._prepare_normalized(norm)

    def _prepare_normalized(self, item: Item) -> _Prepared:
        """Validate a normalized item as DynamoDB would and build its ``items`` row."""
        pk, sk = item["PK"], item["SK"]
        if len(pk) > _MAX_PK_BYTES // 4 and len(pk.encode()) > _MAX_PK_BYTES:
            raise _invalid(f"{self._name}: PK is longer than {_MAX_PK_BYTES} bytes")
        if len(sk) > _MAX_SK_BYTES // 4 and len(sk.encode()) > _MAX_SK_BYTES:
            raise _invalid(f"{self._name}: SK is longer than {_MAX_SK_BYTES} bytes")
        doc = _dumps(item)
        # Every byte of DynamoDB's size needs at least 1/4 character of JSON, so short docs pass unmeasured.
        if len(doc) > _MAX_ITEM_BYTES // 4 and _item_size(item) > _MAX_ITEM_BYTES:
            raise _invalid(
                f"{self._name}: {pk} / {sk} is {_item_size(item)} bytes; DynamoDB items hold at most "
                f"400 KB ({_MAX_ITEM_BYTES} bytes)"
            )
        ttl = item.get(TTL_ATTRIBUTE)
        # DynamoDB's TTL only reads Number attributes; any other ttl never expires.
        ttl_col = float(ttl) if type(ttl) is int or type(ttl) is Decimal else None
        i1pk, i1sk, i2pk, i2sk = self._index_columns(item) if self._spec.indexes else _NO_INDEX
        return _Prepared(pk, sk, doc, (self._name, pk, sk, doc, ttl_col, i1pk, i1sk, i2pk, i2sk))

    def _index_columns(self, item: Item) -> tuple[str | None, str | None, str | None, str | None]:
        """The index columns of ``item``; refuses wrongly typed index keys, as DynamoDB does."""
        columns: list[str | None] = [None, None, None, None]
        for n, ix in enumerate(self._spec.indexes):
            ipk, isk = item.get(ix.pk, _MISSING), item.get(ix.sk, _MISSING)
            if ipk is not _MISSING and (type(ipk) is not str or not ipk):
                raise _index_type_error(self._name, ix, ix.pk, ipk, "S")
            if isk is not _MISSING:
                if ix.sk_type == "S":
                    if type(isk) is not str or not isk:
                        raise _index_type_error(self._name, ix, ix.sk, isk, "S")
                elif type(isk) is not int and type(isk) is not Decimal:
                    raise _index_type_error(self._name, ix, ix.sk, isk, "N")
            if ipk is not _MISSING and isk is not _MISSING:
                columns[2 * n] = cast("str", ipk)
                columns[2 * n + 1] = (
                    cast("str", isk)
                    if ix.sk_type == "S"
                    else number_key(cast("int | Decimal", isk))
                )
        return columns[0], columns[1], columns[2], columns[3]

    def _live_doc(self, conn: sqlite3.Connection, now: float, pk: str, sk: str) -> str | None:
        """The stored doc if the item is live; an expired one in the way is purged (REMOVE record)."""
        row = conn.execute(_OLD, (self._name, pk, sk)).fetchone()
        if row is None:
            return None
        doc, ttl = row
        if ttl is not None and ttl <= now:
            conn.execute(_DELETE, (self._name, pk, sk))
            if self._stream:
                conn.execute(_FEED, (*self._feed, now, "REMOVE", pk, sk, doc, None, 1))
            return None
        return doc  # type: ignore[no-any-return]

    def _store_row(
        self, conn: sqlite3.Connection, now: float, prepared: _Prepared, old: str | None
    ) -> None:
        conn.execute(_UPSERT, prepared.row)
        if self._stream:
            event = "INSERT" if old is None else "MODIFY"
            conn.execute(
                _FEED, (*self._feed, now, event, prepared.pk, prepared.sk, old, prepared.doc, 0)
            )

    def _where(
        self, pk: str, sk: SKCondition | None, index: str | None
    ) -> tuple[str, list[Any], str, IndexSpec | None]:
        """WHERE clause and parameters of a query: (sql, params, sort column, index spec)."""
        if type(pk) is not str or not pk:
            raise _invalid(f"the partition key must be a non-empty string, got {pk!r}")
        if index is None:
            ix, part_col, sort_col, sk_type = None, "pk", "sk", "S"
        else:
            ix = self._spec.index(index)
            n = self._spec.indexes.index(ix) + 1
            part_col, sort_col, sk_type = f"i{n}pk", f"i{n}sk", ix.sk_type
        where = f"tbl = ? AND {part_col} = ?"
        params: list[Any] = [self._name, pk]
        if sk is not None:
            clause, operands = _sort_clause(sk, sort_col, sk_type)
            where += f" AND {clause}"
            params += operands
        where += " AND (ttl IS NULL OR ttl > ?)"
        params.append(self._store._now())
        return where, params, sort_col, ix

    def _after(
        self,
        where: str,
        params: list[Any],
        cursor: Mapping[str, Any],
        ix: IndexSpec | None,
        sort_col: str,
        descending: bool,
    ) -> tuple[str, list[Any]]:
        """Restrict a query to the rows after ``cursor`` (a cursor from a page of the same query)."""
        names = ("PK", "SK") if ix is None else ("PK", "SK", "IK")
        if not isinstance(cursor, Mapping):
            raise _invalid(f"not a cursor: {cursor!r}")
        values = [cursor.get(name) for name in names]
        if any(type(v) is not str for v in values):
            raise _invalid(f"not a cursor of this query: {dict(cursor)!r}")
        op = "<" if descending else ">"
        if ix is None:
            return f"{where} AND sk {op} ?", [*params, values[1]]
        return f"{where} AND ({sort_col}, pk, sk) {op} (?, ?, ?)", [*params, values[2], *values[:2]]

    def _record(self, row: tuple[Any, ...]) -> dict[str, Any]:
        """A feed row as the DynamoDB Streams record a Lambda receives."""
        seq, at, event, pk, sk, old, new, ttl_purge = row
        keys = {"PK": pk, "SK": sk}
        body: dict[str, Any] = {
            "ApproximateCreationDateTime": int(at),
            "Keys": marshal_item(keys),
        }
        size = _item_size(keys)
        if new is not None:
            image = _loads(new)
            body["NewImage"] = marshal_item(image)
            size += _item_size(image)
        if old is not None:
            image = _loads(old)
            body["OldImage"] = marshal_item(image)
            size += _item_size(image)
        body["SequenceNumber"] = f"{seq:021d}"  # DynamoDB's are 21 to 40 digits
        body["SizeBytes"] = size
        body["StreamViewType"] = "NEW_AND_OLD_IMAGES"
        record: dict[str, Any] = {
            "eventID": uuid.uuid5(self._store._namespace, str(seq)).hex,
            "eventName": event,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "local",
            "dynamodb": body,
            "eventSourceARN": self._arn,
        }
        if ttl_purge:
            record["userIdentity"] = dict(_TTL_IDENTITY)  # as DynamoDB marks its TTL deletions
        return record


_MISSING: Final = object()
_NO_INDEX: Final = (None, None, None, None)


def _index_type_error(
    table: str, ix: IndexSpec, attr: str, value: Any, kind: str
) -> ValidationError:
    wanted = "a non-empty string" if kind == "S" else "a number"
    return _invalid(
        f"{table}: {attr!r} is a key of index {ix.name} and must be {wanted}, got {value!r} "
        "(DynamoDB refuses the write: type mismatch for index key)"
    )


def _check_key(pk: Any, sk: Any) -> None:
    for name, value in (("PK", pk), ("SK", sk)):
        if type(value) is not str or not value:
            raise _invalid(f"{name} must be a non-empty string, got {value!r}")


def _parse(doc: str | None) -> Item | None:
    return None if doc is None else _loads(doc)


def _position(after: Any) -> int:
    """A feed position (the last SequenceNumber read) as an integer."""
    if after is None:
        return 0
    if type(after) is int and after >= 0:
        return after
    if isinstance(after, str) and after.isascii() and after.isdigit():
        return int(after)
    raise StoreError(f"not a change-feed position of the SQLite store: {after!r}")


_SQL_OPS: Final = {"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def _sort_operand(value: Any, sk_type: str) -> str:
    if sk_type == "S":
        if type(value) is not str:
            raise _invalid(f"this sort key is a string; the condition's operand is {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise _invalid(f"this sort key is a number; the condition's operand is {value!r}")
    return number_key(_normalized(value, "the sort-key operand"))


def _sort_clause(cond: SKCondition, column: str, sk_type: str) -> tuple[str, list[Any]]:
    """SQL for a sort-key condition on ``column`` (raw strings, or :func:`number_key` for N)."""
    if cond.op in _SQL_OPS:
        return f"{column} {_SQL_OPS[cond.op]} ?", [_sort_operand(cond.value, sk_type)]
    if cond.op == "between":
        low, high = _sort_operand(cond.value, sk_type), _sort_operand(cond.high, sk_type)
        if low > high:
            raise _invalid(
                f"between({cond.value!r}, {cond.high!r}): the low bound is above the high"
            )
        return f"{column} BETWEEN ? AND ?", [low, high]
    if cond.op == "begins_with":
        if sk_type != "S":
            raise _invalid("begins_with needs a string sort key; this one is a number")
        prefix = _sort_operand(cond.value, "S")
        end = _prefix_end(prefix)
        if end is None:
            return f"{column} >= ?", [prefix]
        return f"{column} >= ? AND {column} < ?", [prefix, end]
    raise _invalid(f"unknown sort-key condition {cond.op!r}")
