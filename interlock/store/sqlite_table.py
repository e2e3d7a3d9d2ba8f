"""One logical table of the SQLite store: :class:`SQLiteTable` (see :mod:`interlock.store.sqlite`)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, cast

from interlock.store.checks import (
    TTL_IDENTITY,
    check_key,
    check_update,
    index_type_error,
    invalid,
    normalized,
)
from interlock.store.codec import marshal_item, normalize_item
from interlock.store.specs import physical_name
from interlock.store.sqlite_sql import (
    _CHANGES,
    _DELETE,
    _FEED,
    _GET,
    _MAX_ITEM_BYTES,
    _MAX_PK_BYTES,
    _MAX_SK_BYTES,
    _OLD,
    _UPSERT,
    _add,
    _check_condition,
    _dumps,
    _feed_range,
    _holds,
    _item_size,
    _loads,
    _prefix_end,
    _Prepared,
    number_key,
)
from interlock.store.table import (
    TTL_ATTRIBUTE,
    Absent,
    ChangeBatch,
    ConflictError,
    Page,
    SKCondition,
    StoreError,
    TableSpec,
)

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Collection, Iterable, Sequence

    from interlock.store.sqlite import SQLiteStore
    from interlock.store.table import Condition, IndexSpec, Item


_IN_CHUNK: Final = 500  # partition keys per ``pk IN (…)``: far below SQLite's parameter limit
logger = logging.getLogger("interlock.store.sqlite")  # one logger for the driver

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
        self._unstreamed = spec.unstreamed
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
            raise invalid(f"limit must be at least 1, got {limit!r}")
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

    def query_partitions(
        self,
        requests: Mapping[str, SKCondition | None],
        *,
        descending: bool = False,
        limit: int | None = None,
    ) -> dict[str, list[Item]]:
        """Items of many partitions in one bulk read (see :meth:`Table.query_partitions`).

        Partitions that share a sort-key condition are read by one ``pk IN (…)`` statement (in chunks
        under SQLite's parameter limit); with ``limit``, one indexed statement per partition, all under
        one hold of the connection.

        Raises:
            ValidationError: a bad argument.
        """
        if limit is not None and (isinstance(limit, bool) or limit < 1):
            raise invalid(f"limit must be at least 1, got {limit!r}")
        out: dict[str, list[Item]] = {}
        # partitions grouped by their condition's SQL and operands (hashable), read together
        groups: dict[tuple[str, tuple[Any, ...]], list[str]] = {}
        for pk, sk in requests.items():
            if type(pk) is not str or not pk:
                raise invalid(f"the partition key must be a non-empty string, got {pk!r}")
            out[pk] = []
            clause, values = ("", []) if sk is None else _sort_clause(sk, "sk", "S")
            groups.setdefault((clause, tuple(values)), []).append(pk)
        direction = "DESC" if descending else "ASC"
        with self._store._reading() as conn:
            now = self._store._now()
            for (where, operands), pks in groups.items():
                extra = f" AND {where}" if where else ""
                if limit is not None:
                    sql = (
                        f"SELECT doc FROM items WHERE tbl = ? AND pk = ?{extra} "
                        f"AND (ttl IS NULL OR ttl > ?) ORDER BY sk {direction} LIMIT ?"
                    )
                    for pk in pks:
                        rows = conn.execute(sql, (self._name, pk, *operands, now, limit))
                        out[pk] = [_loads(row[0]) for row in rows]
                    continue
                for start in range(0, len(pks), _IN_CHUNK):
                    chunk = pks[start : start + _IN_CHUNK]
                    marks = ",".join("?" * len(chunk))
                    sql = (
                        f"SELECT pk, doc FROM items WHERE tbl = ? AND pk IN ({marks}){extra} "
                        f"AND (ttl IS NULL OR ttl > ?) ORDER BY pk, sk {direction}"
                    )
                    for pk, doc in conn.execute(sql, (self._name, *chunk, *operands, now)):
                        out[pk].append(_loads(doc))
        return out

    def count(self, pk: str, sk: SKCondition | None = None, *, index: str | None = None) -> int:
        """How many (unexpired) items :meth:`query` would return across all pages."""
        where, params, _, _ = self._where(pk, sk, index)
        with self._store._reading() as conn:
            row = conn.execute(f"SELECT count(*) FROM items WHERE {where}", params).fetchone()
        return int(row[0])

    def changes(
        self, after: Any = None, *, limit: int = 100, images_except: Collection[str] = ()
    ) -> ChangeBatch:
        """Read the change feed from after ``after`` (``None``: from the oldest record kept).

        Args:
            after: a position from an earlier batch: the last ``SequenceNumber`` read (a string).
            limit: at most this many records.
            images_except: partition keys whose records carry their keys only (no images).

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
            raise invalid(f"limit must be at least 1, got {limit!r}")
        base, end = self._feed
        start = _position(after)
        if start and not base <= start < end:
            raise StoreError(f"{after!r} is a feed position of another table than {self._name!r}")
        with self._store._reading() as conn:
            rows = conn.execute(_CHANGES, (max(start, base), end, limit)).fetchall()
            # sequence numbers of a table are consecutive until trimming removes some: only a gap
            # before the first record read can mean records were lost (the newest is never trimmed)
            if start and rows and rows[0][0] != start + 1:
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
        keys_only = frozenset(images_except)
        records = [self._record(row, row[3] in keys_only) for row in rows]
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
        check_key(pk, sk)
        sets, removes, adds = check_update(set or {}, remove, add or {})
        if condition is not None:
            _check_condition(condition)
        return self._store._atomically(self._update, pk, sk, sets, removes, adds, condition)

    def delete(self, pk: str, sk: str, *, condition: Condition | None = None) -> Item | None:
        """Delete an item; returns it as it was (``None`` if there was none, or it had expired).

        Raises:
            ConflictError: ``condition`` did not hold.
        """
        check_key(pk, sk)
        if condition is not None:
            _check_condition(condition)
        return _parse(self._store._atomically(self._delete, pk, sk, condition))

    # ------------------------------------------------ inside a write transaction (conn, now, …)

    def _write(
        self, conn: sqlite3.Connection, now: float, prepared: _Prepared, condition: Condition | None
    ) -> None:
        """Put one prepared item."""
        self._store._writes += 1
        if condition is None and (not self._stream or prepared.pk in self._unstreamed):
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
        if self._stream and pk not in self._unstreamed:
            conn.execute(_FEED, (*self._feed, now, "REMOVE", pk, sk, old, None, 0))
        return old

    # --------------------------------------------------------------------------- internals

    def _prepare(self, item: Mapping[str, Any]) -> _Prepared:
        try:
            norm = normalize_item(item)
        except ValueError as exc:
            raise invalid(f"{self._name}: the item cannot be stored", exc) from exc
        return self._prepare_normalized(norm)

    def _prepare_normalized(self, item: Item) -> _Prepared:
        """Validate a normalized item as DynamoDB would and build its ``items`` row."""
        pk, sk = item["PK"], item["SK"]
        if len(pk) > _MAX_PK_BYTES // 4 and len(pk.encode()) > _MAX_PK_BYTES:
            raise invalid(f"{self._name}: PK is longer than {_MAX_PK_BYTES} bytes")
        if len(sk) > _MAX_SK_BYTES // 4 and len(sk.encode()) > _MAX_SK_BYTES:
            raise invalid(f"{self._name}: SK is longer than {_MAX_SK_BYTES} bytes")
        doc = _dumps(item)
        # Every byte of DynamoDB's size needs at least 1/4 character of JSON, so short docs pass unmeasured.
        if len(doc) > _MAX_ITEM_BYTES // 4 and _item_size(item) > _MAX_ITEM_BYTES:
            raise invalid(
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
                raise index_type_error(self._name, ix.name, ix.pk, ipk, "S")
            if isk is not _MISSING:
                if ix.sk_type == "S":
                    if type(isk) is not str or not isk:
                        raise index_type_error(self._name, ix.name, ix.sk, isk, "S")
                elif type(isk) is not int and type(isk) is not Decimal:
                    raise index_type_error(self._name, ix.name, ix.sk, isk, "N")
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
            if self._stream and pk not in self._unstreamed:
                conn.execute(_FEED, (*self._feed, now, "REMOVE", pk, sk, doc, None, 1))
            return None
        return doc  # type: ignore[no-any-return]

    def _store_row(
        self, conn: sqlite3.Connection, now: float, prepared: _Prepared, old: str | None
    ) -> None:
        conn.execute(_UPSERT, prepared.row)
        if self._stream and prepared.pk not in self._unstreamed:
            event = "INSERT" if old is None else "MODIFY"
            conn.execute(
                _FEED, (*self._feed, now, event, prepared.pk, prepared.sk, old, prepared.doc, 0)
            )

    def _where(
        self, pk: str, sk: SKCondition | None, index: str | None
    ) -> tuple[str, list[Any], str, IndexSpec | None]:
        """WHERE clause and parameters of a query: (sql, params, sort column, index spec)."""
        if type(pk) is not str or not pk:
            raise invalid(f"the partition key must be a non-empty string, got {pk!r}")
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
            raise invalid(f"not a cursor: {cursor!r}")
        values = [cursor.get(name) for name in names]
        if any(type(v) is not str for v in values):
            raise invalid(f"not a cursor of this query: {dict(cursor)!r}")
        op = "<" if descending else ">"
        if ix is None:
            return f"{where} AND sk {op} ?", [*params, values[1]]
        return f"{where} AND ({sort_col}, pk, sk) {op} (?, ?, ?)", [*params, values[2], *values[:2]]

    def _record(self, row: tuple[Any, ...], keys_only: bool = False) -> dict[str, Any]:
        """A feed row as the DynamoDB Streams record a Lambda receives."""
        seq, at, event, pk, sk, old, new, ttl_purge = row
        if keys_only:
            old = new = None
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
            record["userIdentity"] = dict(TTL_IDENTITY)  # as DynamoDB marks its TTL deletions
        return record


_MISSING: Final = object()
_NO_INDEX: Final = (None, None, None, None)


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
            raise invalid(f"this sort key is a string; the condition's operand is {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise invalid(f"this sort key is a number; the condition's operand is {value!r}")
    return number_key(normalized(value, "the sort-key operand"))


def _sort_clause(cond: SKCondition, column: str, sk_type: str) -> tuple[str, list[Any]]:
    """SQL for a sort-key condition on ``column`` (raw strings, or :func:`number_key` for N)."""
    if cond.op in _SQL_OPS:
        return f"{column} {_SQL_OPS[cond.op]} ?", [_sort_operand(cond.value, sk_type)]
    if cond.op == "between":
        low, high = _sort_operand(cond.value, sk_type), _sort_operand(cond.high, sk_type)
        if low > high:
            raise invalid(
                f"between({cond.value!r}, {cond.high!r}): the low bound is above the high"
            )
        return f"{column} BETWEEN ? AND ?", [low, high]
    if cond.op == "begins_with":
        if sk_type != "S":
            raise invalid("begins_with needs a string sort key; this one is a number")
        prefix = _sort_operand(cond.value, "S")
        end = _prefix_end(prefix)
        if end is None:
            return f"{column} >= ?", [prefix]
        return f"{column} >= ? AND {column} < ?", [prefix, end]
    raise invalid(f"unknown sort-key condition {cond.op!r}")
