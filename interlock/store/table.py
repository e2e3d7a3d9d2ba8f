"""The ``Table`` protocol: DynamoDB item semantics that every store driver provides.

The Lambdas, the embedded runtime, the CLI, the TUI and notebooks all read and write through this one
seam. Production is DynamoDB (:mod:`interlock.store.dynamodb`); the embedded default is SQLite
(:mod:`interlock.store.sqlite`). Both pass one contract suite (``tests/contract/``), so a behaviour the
controller relies on cannot differ between a laptop and AWS.

Items
    Plain dicts with string keys. Every item has the key attributes ``PK`` and ``SK`` (strings). Values
    are JSON-like: ``str``, ``bool``, ``None``, numbers, ``list`` and ``dict`` (maps nest). Numbers are
    written as ``int``, ``float`` or :class:`~decimal.Decimal` and always read back exactly as DynamoDB
    keeps them: an ``int`` when integral, else a ``Decimal`` (a float is stored as the decimal it prints
    as: ``0.1`` reads back as ``Decimal("0.1")``). Sets and binary are not supported. See :mod:`.codec`.

Conditions
    Conditional writes take a :data:`Condition` built with :func:`absent`, :func:`exists`,
    :func:`equals` or :func:`all_of` — a few typed helpers, not an expression language. A failed
    condition raises :class:`ConflictError`.

TTL
    An item whose ``ttl`` attribute (epoch seconds) is at or before the table clock's now is *expired*:
    invisible to get/query/count and treated as absent by conditions (DynamoDB deletes expired items
    lazily, up to days later; the drivers hide them until then). Expired items are purged lazily; the
    purge appears in the change feed as a REMOVE carrying DynamoDB's TTL ``userIdentity``, as DynamoDB's TTL
    deletions do. Reads may purge too, so a read-only role still answers correctly but logs a warning.

Change feed
    Tables created with a stream (control and joblog) keep a feed of every write in the DynamoDB Streams
    record shape that a Lambda receives (``eventName`` INSERT/MODIFY/REMOVE, ``dynamodb.Keys``,
    ``NewImage``, ``OldImage``, ``SequenceNumber``; images in DynamoDB JSON). The router cannot tell a
    SQLite feed from a DynamoDB stream. A write that changes nothing (a put of an identical item) writes
    no record, as DynamoDB documents.

Queries
    By partition key (or many at once: :meth:`Table.query_partitions`), with an optional sort-key condition (:func:`sk_eq`, :func:`begins_with`,
    :func:`between`, :func:`sk_gt`, :func:`sk_gte`, :func:`sk_lt`, :func:`sk_lte`), ascending or
    descending, with ``limit`` and an opaque JSON-able ``cursor`` for the next page. A query may name a
    global secondary index declared in the table's :class:`TableSpec`; index sort keys may be numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from interlock.exceptions import InterlockError

if TYPE_CHECKING:
    from collections.abc import Collection, Iterator, Mapping, Sequence

__all__ = [
    "TTL_ATTRIBUTE",
    "AllOf",
    "Absent",
    "ChangeBatch",
    "Condition",
    "ConflictError",
    "Equals",
    "Exists",
    "IndexSpec",
    "Item",
    "Page",
    "SKCondition",
    "StoreError",
    "StoreUnavailableError",
    "Table",
    "TableSpec",
    "ValidationError",
    "absent",
    "all_of",
    "begins_with",
    "between",
    "equals",
    "exists",
    "query_all",
    "sk_eq",
    "sk_gt",
    "sk_gte",
    "sk_lt",
    "sk_lte",
]

Item = dict[str, Any]
"""An item: ``PK`` and ``SK`` strings plus JSON-like attributes."""

TTL_ATTRIBUTE = "ttl"
"""The attribute holding an item's expiry, in epoch seconds (as in the Terraform module)."""


# ----------------------------------------------------------------------------------------- errors


class StoreError(InterlockError):
    """A store operation failed (the base of every store error)."""


class StoreUnavailableError(StoreError):
    """The store cannot be reached or opened (network, permissions, a corrupt or foreign file)."""


class ValidationError(StoreError, ValueError):
    """DynamoDB refuses this request (its ValidationException), or would; nothing was written.

    Both a :class:`StoreError` and a :class:`ValueError`: an unstorable value, a wrongly typed index key,
    an update of ``PK``/``SK``, an item over 400 KB, a bad query argument. Every driver raises it for the
    same requests (the DynamoDB driver checks some itself, because moto lets them through).
    """


class ConflictError(StoreError):
    """A conditional write's condition did not hold; nothing was written.

    Attributes:
        pk: partition key of the item.
        sk: sort key of the item.
        condition: the condition that failed.
    """

    def __init__(self, pk: str, sk: str, condition: Condition) -> None:
        self.pk, self.sk, self.condition = pk, sk, condition
        super().__init__(f"condition {condition} failed for {pk} / {sk}")


# ------------------------------------------------------------------------------------- conditions


@dataclass(frozen=True, slots=True)
class Absent:
    """The item does not exist (or has expired)."""

    def __str__(self) -> str:
        return "absent()"


@dataclass(frozen=True, slots=True)
class Exists:
    """The item exists (unexpired); with ``attr``, that attribute is also present."""

    attr: str | None = None

    def __str__(self) -> str:
        return f"exists({self.attr!r})" if self.attr else "exists()"


@dataclass(frozen=True, slots=True)
class Equals:
    """The item exists and ``attr`` equals ``value`` (numbers compare numerically)."""

    attr: str
    value: Any

    def __str__(self) -> str:
        return f"equals({self.attr!r}, {self.value!r})"


@dataclass(frozen=True, slots=True)
class AllOf:
    """Every one of ``conditions`` holds."""

    conditions: tuple[Absent | Exists | Equals, ...]

    def __str__(self) -> str:
        return "all_of(" + ", ".join(str(c) for c in self.conditions) + ")"


Condition = Absent | Exists | Equals | AllOf
"""A condition on the item a write targets."""


def absent() -> Absent:
    """Condition: no (unexpired) item has this key."""
    return Absent()


def exists(attr: str | None = None) -> Exists:
    """Condition: the item exists (and has ``attr``, if given)."""
    return Exists(attr)


def equals(attr: str, value: Any) -> Equals:
    """Condition: the item exists and ``attr == value``."""
    return Equals(attr, value)


def all_of(*conditions: Absent | Exists | Equals) -> AllOf:
    """Condition: every one of ``conditions`` holds."""
    return AllOf(tuple(conditions))


# ------------------------------------------------------------------------------ sort-key conditions


@dataclass(frozen=True, slots=True)
class SKCondition:
    """A condition on the sort key of a query (or on an index's sort key).

    Attributes:
        op: one of ``eq``, ``begins_with``, ``between``, ``gt``, ``gte``, ``lt``, ``lte``.
        value: the operand (``between``: the low bound).
        high: the high bound of ``between`` (inclusive).
    """

    op: Literal["eq", "begins_with", "between", "gt", "gte", "lt", "lte"]
    value: Any
    high: Any = None


def sk_eq(value: Any) -> SKCondition:
    """Sort key equals ``value``."""
    return SKCondition("eq", value)


def begins_with(prefix: str) -> SKCondition:
    """Sort key starts with ``prefix`` (strings only)."""
    return SKCondition("begins_with", prefix)


def between(low: Any, high: Any) -> SKCondition:
    """``low <= sort key <= high``."""
    return SKCondition("between", low, high)


def sk_gt(value: Any) -> SKCondition:
    """Sort key greater than ``value``."""
    return SKCondition("gt", value)


def sk_gte(value: Any) -> SKCondition:
    """Sort key at least ``value``."""
    return SKCondition("gte", value)


def sk_lt(value: Any) -> SKCondition:
    """Sort key less than ``value``."""
    return SKCondition("lt", value)


def sk_lte(value: Any) -> SKCondition:
    """Sort key at most ``value``."""
    return SKCondition("lte", value)


# --------------------------------------------------------------------------------- table shapes


@dataclass(frozen=True, slots=True)
class IndexSpec:
    """A global secondary index (projection ALL; sparse: items without its key attributes are absent).

    Attributes:
        name: index name, e.g. ``GSI1``.
        pk: attribute holding the index partition key (a string).
        sk: attribute holding the index sort key.
        sk_type: ``S`` (string) or ``N`` (number) — as DynamoDB declares it.
    """

    name: str
    pk: str
    sk: str
    sk_type: Literal["S", "N"] = "S"


@dataclass(frozen=True, slots=True)
class TableSpec:
    """What a table is: its logical name, indexes and whether it keeps a change feed.

    Attributes:
        name: logical name: ``control``, ``joblog``, ``rerun`` or ``events``.
        indexes: global secondary indexes.
        stream: whether writes appear in the change feed (DynamoDB Streams, NEW_AND_OLD_IMAGES).
        unstreamed: partition keys whose writes the SQLite driver leaves out of its feed: the
            embedded runtime's own bookkeeping (executions, timers, feed positions, job starts), which
            no reader of the feed uses. DynamoDB Streams cannot leave rows out; its readers skip them.
    """

    name: str
    indexes: tuple[IndexSpec, ...] = ()
    stream: bool = False
    unstreamed: frozenset[str] = frozenset()

    def index(self, name: str) -> IndexSpec:
        """The index called ``name``.

        Raises:
            StoreError: no such index on this table.
        """
        for ix in self.indexes:
            if ix.name == name:
                return ix
        raise StoreError(f"table {self.name!r} has no index {name!r}")


# ----------------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Page:
    """One page of query results.

    Attributes:
        items: the items, in sort-key order (descending if asked).
        cursor: pass as ``cursor=`` to get the next page; ``None`` when there are no more.
    """

    items: list[Item]
    cursor: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ChangeBatch:
    """Records read from a change feed.

    Attributes:
        records: stream records, oldest first, in the DynamoDB Streams shape.
        position: pass as ``after=`` to read the records that follow; JSON-able and durable (store it to
            resume after a restart).
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    position: Any = None


# ------------------------------------------------------------------------------------- protocol


@runtime_checkable
class Table(Protocol):
    """One table with DynamoDB item semantics. See the module docstring for the contract."""

    @property
    def spec(self) -> TableSpec:
        """The table's shape (logical name, indexes, stream)."""
        ...

    def get(self, pk: str, sk: str) -> Item | None:
        """The item with this key, or ``None`` if absent or expired (a strongly consistent read)."""
        ...

    def put(self, item: Mapping[str, Any], *, condition: Condition | None = None) -> None:
        """Create or replace an item.

        Raises:
            ConflictError: ``condition`` did not hold.
        """
        ...

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
        """
        ...

    def delete(self, pk: str, sk: str, *, condition: Condition | None = None) -> Item | None:
        """Delete an item; returns it as it was (``None`` if there was none).

        Raises:
            ConflictError: ``condition`` did not hold.
        """
        ...

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

        ``limit`` caps the page size; follow ``Page.cursor`` for more (or use :func:`query_all`).
        """
        ...

    def query_partitions(
        self,
        requests: Mapping[str, SKCondition | None],
        *,
        descending: bool = False,
        limit: int | None = None,
    ) -> dict[str, list[Item]]:
        """Items of many partitions of the table in one bulk read (the board reads every pipeline).

        For each partition key of ``requests``, what :func:`query_all` with its sort-key condition would
        return (at most ``limit`` items per partition, ``descending`` as in :meth:`query`). Every key
        of ``requests`` is in the result, with ``[]`` when nothing matches. SQLite answers from one read
        per distinct condition; DynamoDB has no multi-partition query, so its driver runs the queries
        concurrently.

        Raises:
            ValidationError: a bad argument (as :meth:`query`).
        """
        ...

    def count(self, pk: str, sk: SKCondition | None = None, *, index: str | None = None) -> int:
        """How many (unexpired) items :meth:`query` would return across all pages."""
        ...

    def changes(
        self, after: Any = None, *, limit: int = 100, images_except: Collection[str] = ()
    ) -> ChangeBatch:
        """Read the change feed from after ``after`` (``None``: from the oldest record kept).

        ``images_except``: partition keys whose records come with their keys only (no ``NewImage``
        or ``OldImage``), for a reader that only needs to know they changed (the embedded runtime's
        own execution and timer rows: decoding their snapshots was most of its feed reading).

        Raises:
            StoreError: the table has no stream.
        """
        ...


def query_all(
    table: Table,
    pk: str,
    sk: SKCondition | None = None,
    *,
    index: str | None = None,
    descending: bool = False,
    page_size: int | None = None,
) -> Iterator[Item]:
    """Every item of a query, following cursors page by page."""
    cursor: Mapping[str, Any] | None = None
    while True:
        page = table.query(
            pk, sk, index=index, descending=descending, limit=page_size, cursor=cursor
        )
        yield from page.items
        if page.cursor is None:
            return
        cursor = page.cursor
