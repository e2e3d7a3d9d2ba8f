"""SQL statements, error classes and the item documents of the SQLite driver (:mod:`interlock.store.sqlite`).

The statements run against the schema :mod:`interlock.store.sqlite` creates; the JSON helpers store an item
as DynamoDB would hold it (exact numbers, 400 KB limit), and the condition helpers check a write's
condition against the stored item.
"""

from __future__ import annotations

import json
import json.encoder
import sqlite3
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from interlock.store.checks import invalid, normalized
from interlock.store.codec import values_equal
from interlock.store.table import (
    Absent,
    AllOf,
    Equals,
    Exists,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from interlock.store.table import Condition, Item


_MAX_ITEM_BYTES: Final = 400 * 1024  # DynamoDB's item size limit
_MAX_PK_BYTES: Final = 2048
_MAX_SK_BYTES: Final = 1024

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


def _check_condition(condition: Condition) -> None:
    """Refuse operands DynamoDB could not hold, before any transaction starts."""
    if isinstance(condition, AllOf):
        for part in condition.conditions:
            _check_condition(part)
    elif isinstance(condition, Equals):
        normalized(condition.value, f"the value of {condition}")
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
        raise invalid(f"add {attr!r}: the stored value {current!r} is not a number")
    if isinstance(current, int) and isinstance(amount, int):
        total: int | Decimal = current + amount
    else:
        # Exact (DynamoDB's magnitudes span 256 digits), so normalize() sees the true sum and refuses
        # one DynamoDB would refuse (1e60 + 1e-60 needs 121 significant digits).
        with localcontext() as ctx:
            ctx.prec = 300
            total = Decimal(current) + Decimal(amount)
    return normalized(total, f"add {attr!r}: the result {total}")  # type: ignore[no-any-return]


class _Prepared(NamedTuple):
    """An item ready to write: its key, its doc and its ``items`` row."""

    pk: str
    sk: str
    doc: str
    row: tuple[Any, ...]
