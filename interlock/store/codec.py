"""Item values as DynamoDB keeps them, and the DynamoDB JSON (AttributeValue) form of stream records.

Shared by every driver so they agree exactly:

* :func:`normalize` turns a written item into its stored form: numbers become ``int`` (integral) or
  :class:`~decimal.Decimal` (a float becomes the decimal it prints as: ``0.1`` → ``Decimal("0.1")``),
  tuples become lists; anything DynamoDB could not store (sets, bytes, NaN, non-string map keys) raises
  :class:`ValueError`.
* :func:`marshal` / :func:`unmarshal` convert between plain values and ``{"S": …}``, ``{"N": "…"}``,
  ``{"M": {…}}`` … as boto3's low-level client and DynamoDB Streams records use them. Implemented here
  (not with boto3's TypeSerializer) so the embedded runtime needs no boto3.
* :func:`values_equal` and :func:`sort_key` give DynamoDB's comparison semantics.

Pure: no I/O.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from decimal import Context, Decimal
from typing import Any

__all__ = [
    "marshal",
    "marshal_item",
    "normalize",
    "normalize_item",
    "sort_key",
    "unmarshal",
    "unmarshal_item",
    "values_equal",
]


_BIG = 10**38

# Wide enough never to round a number DynamoDB accepts (the default context rounds at 28 digits).
_EXACT = Context(prec=200)


def _check_range(dec: Decimal, original: Any) -> None:
    # DynamoDB numbers: up to 38 significant digits, magnitude from 1e-130 to below 1e126.
    digits = len(_EXACT.normalize(dec).as_tuple().digits)
    if digits > 38 or not -130 <= dec.adjusted() <= 125:
        raise ValueError(
            f"{original!r} cannot be stored: DynamoDB numbers have at most 38 significant digits "
            "and a magnitude between 1e-130 and 1e126"
        )


def _number(value: int | float | Decimal) -> int | Decimal:
    if isinstance(value, bool):  # pragma: no cover - callers route bools first
        raise TypeError("bool is not a number")
    if isinstance(value, int):
        if not -_BIG < value < _BIG:  # below 1e38 an int always fits DynamoDB's 38 digits
            _check_range(Decimal(value), value)
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} cannot be stored: DynamoDB numbers are finite")
        dec = Decimal(repr(value))
    else:
        if not value.is_finite():
            raise ValueError(f"{value!r} cannot be stored: DynamoDB numbers are finite")
        dec = value
    if dec:
        _check_range(dec, value)
    if dec == dec.to_integral_value():
        return int(dec)
    return _EXACT.normalize(dec)


def normalize(value: Any) -> Any:
    """A value in the form the store keeps and returns (see the module docstring).

    Raises:
        ValueError: the value cannot be stored in DynamoDB.
    """
    kind = type(value)
    # Fast paths for the common shapes (this runs on every write): exact types first.
    if kind is str or kind is bool or value is None:
        return value
    if kind is int and -_BIG < value < _BIG:
        return value
    if kind is dict:
        out = {}
        for k, v in value.items():
            if type(k) is not str:
                raise ValueError(f"map keys must be strings, got {k!r}")
            out[k] = normalize(v)
        return out
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float | Decimal):
        return _number(value)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"map keys must be strings, got {k!r}")
            out[k] = normalize(v)
        return out
    if isinstance(value, list | tuple):
        return [normalize(v) for v in value]
    raise ValueError(
        f"{type(value).__name__} values cannot be stored (use str, number, bool, list, map)"
    )


def normalize_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item in stored form; checks that ``PK`` and ``SK`` are non-empty strings.

    Raises:
        ValueError: a missing or non-string key, or a value that cannot be stored.
    """
    for key in ("PK", "SK"):
        v = item.get(key)
        if not isinstance(v, str) or not v:
            raise ValueError(f"item needs a non-empty string {key}, got {v!r}")
    return normalize(item)  # type: ignore[no-any-return]


def _n_text(value: int | Decimal) -> str:
    if isinstance(value, int):
        return str(value)
    text = format(value, "f") if -30 < value.adjusted() < 30 else str(value)
    return text


def marshal(value: Any) -> dict[str, Any]:
    """A plain value as a DynamoDB AttributeValue (``{"S": "x"}``, ``{"N": "1.5"}`` …)."""
    value = normalize(value)
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int | Decimal):
        return {"N": _n_text(value)}
    if isinstance(value, dict):
        return {"M": {k: marshal(v) for k, v in value.items()}}
    return {"L": [marshal(v) for v in value]}


def marshal_item(item: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """An item as a map of AttributeValues."""
    return {k: marshal(v) for k, v in item.items()}


def unmarshal(av: Mapping[str, Any]) -> Any:
    """An AttributeValue as a plain value (numbers as ``int`` or ``Decimal``).

    Sets and binary, which Interlock never writes but a producer's ``put_item`` can, are read as plain
    values so that no producer item is unreadable: a string or number set as a sorted list, binary as
    the text ``base64:<data>`` (a binary set: a sorted list of those).

    Raises:
        ValueError: an AttributeValue type DynamoDB does not have.
    """
    ((kind, raw),) = av.items()
    if kind == "S":
        return raw
    if kind == "N":
        return _number(Decimal(raw))
    if kind == "BOOL":
        return bool(raw)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: unmarshal(v) for k, v in raw.items()}
    if kind == "L":
        return [unmarshal(v) for v in raw]
    # Types Interlock never writes but a producer can (boto3 put_item): read, never crash on them.
    if kind == "SS":
        return sorted(str(v) for v in raw)
    if kind == "NS":
        return sorted(_number(Decimal(v)) for v in raw)
    if kind == "B":
        return _binary_text(raw)
    if kind == "BS":
        return sorted(_binary_text(v) for v in raw)
    raise ValueError(f"unsupported AttributeValue type {kind!r}")


def _binary_text(raw: Any) -> str:
    """A binary attribute as ``base64:<text>`` (boto3 gives bytes; stream JSON gives base64 text)."""
    if isinstance(raw, bytes | bytearray):
        return "base64:" + base64.b64encode(bytes(raw)).decode("ascii")
    value = getattr(raw, "value", raw)  # boto3's Binary wrapper
    if isinstance(value, bytes | bytearray):
        return "base64:" + base64.b64encode(bytes(value)).decode("ascii")
    return "base64:" + str(value)


def unmarshal_item(image: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A map of AttributeValues (an item or a stream image) as a plain item."""
    return {k: unmarshal(v) for k, v in image.items()}


def values_equal(a: Any, b: Any) -> bool:
    """DynamoDB equality: numbers numerically, otherwise same type and value (``1`` ≠ ``True``)."""
    a, b = normalize(a), normalize(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def sort_key(value: Any) -> tuple[int, Any]:
    """A sort key giving DynamoDB's order: numbers numerically, strings by their UTF-8 bytes."""
    if isinstance(value, str):
        return (1, value.encode("utf-8"))
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return (0, Decimal(value) if not isinstance(value, Decimal) else value)
    raise ValueError(f"sort keys are strings or numbers, got {value!r}")
