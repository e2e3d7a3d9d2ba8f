"""What both store drivers (SQLite, DynamoDB) check the same way: keys, storable values, index key types.

One module so the two drivers refuse the same writes with the same messages (the table contract tests
run against both).
"""

from __future__ import annotations

from typing import Any, Final

from interlock.store.codec import normalize
from interlock.store.table import ValidationError

__all__ = ["TTL_IDENTITY", "check_key", "index_type_error", "invalid", "normalized"]

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
