"""What both store drivers (SQLite, DynamoDB) check the same way: keys, storable values, index key types.

One module so the two drivers refuse the same writes with the same messages (the table contract tests
run against both).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from interlock.store.codec import normalize
from interlock.store.table import ValidationError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "TTL_IDENTITY",
    "check_key",
    "check_update",
    "index_type_error",
    "invalid",
    "is_number",
    "normalized",
]

TTL_IDENTITY: Final = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
"""The ``userIdentity`` of a stream record for a deletion by DynamoDB's TTL (and by a driver's purge)."""


def invalid(message: str, exc: BaseException | None = None) -> ValidationError:
    """A :class:`~interlock.store.table.ValidationError` saying ``message`` (and ``exc``, if any)."""
    return ValidationError(f"{message}: {exc}" if exc is not None else message)


def normalized(value: Any, what: str) -> Any:
    """``value`` as the codec stores it.

    Raises:
        ValidationError: it cannot be stored (``what`` names it in the message).
    """
    try:
        return normalize(value)
    except ValueError as exc:
        raise invalid(f"{what} cannot be stored", exc) from exc


def check_key(pk: Any, sk: Any) -> None:
    """Refuse a key whose parts are not non-empty strings.

    Raises:
        ValidationError: ``pk`` or ``sk`` is not a non-empty string.
    """
    for name, value in (("PK", pk), ("SK", sk)):
        if type(value) is not str or not value:
            raise invalid(f"{name} must be a non-empty string, got {value!r}")


def index_type_error(table: str, index: str, attr: str, value: Any, kind: str) -> ValidationError:
    """The error for an index key attribute of the wrong type (``kind``: ``S`` or ``N``)."""
    wanted = "a non-empty string" if kind == "S" else "a number"
    return invalid(
        f"{table}: {attr!r} is a key of index {index} and must be {wanted}, got {value!r} "
        "(DynamoDB refuses the write: type mismatch for index key)"
    )


def is_number(value: Any) -> bool:
    """``value`` is a number a store keeps as DynamoDB's ``N`` (``bool`` is not)."""
    return not isinstance(value, bool) and isinstance(value, int | float | Decimal)


def check_update(
    set_: Mapping[str, Any],
    remove: Sequence[str],
    add: Mapping[str, Any],
    key_attrs: tuple[str, str] = ("PK", "SK"),
) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    """The arguments of an ``update``, checked as DynamoDB checks them, and normalized.

    Returns:
        ``(set, remove, add)``: the values to set and the amounts to add as the codec stores them,
        and the attribute names to remove as a list.

    Raises:
        TypeError: ``remove`` is one string (a common slip for a one-name list).
        ValidationError: a key attribute is named, an attribute is named twice, an ``add`` amount is
            not a number, or a value cannot be stored.
    """
    if isinstance(remove, str):
        raise TypeError("remove takes a sequence of attribute names, not one string")
    sets = {a: normalized(v, f"set {a!r}") for a, v in set_.items()}
    removes = list(remove)
    adds: dict[str, Any] = {}
    for attr, amount in add.items():
        if not is_number(amount):
            raise invalid(f"add {attr!r}: {amount!r} is not a number")
        adds[attr] = normalized(amount, f"add {attr!r}")
    named = [*sets, *removes, *adds]
    for attr in named:
        if attr in key_attrs:
            raise invalid(f"cannot update the key attribute {attr!r}")
    if len({*named}) != len(named):
        raise invalid(f"an attribute is named twice in set/remove/add: {named}")
    return sets, removes, adds
