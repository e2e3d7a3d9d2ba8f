"""Reading sensor values as the rules compare them: exact numbers and timestamps.

Pure functions over the JSON-ish values producers write (int, float, Decimal as DynamoDB returns numbers,
str, bool). Split from :mod:`interlock.rules`, which compiles the checks; the contract these functions
implement (numeric equality, what counts as a number or a timestamp) is written down there.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

__all__ = [
    "EXACT_FLOAT_INTS",
    "NONFINITE",
    "exact",
    "from_epoch",
    "is_number",
    "number_text",
    "parse_timestamp",
    "values_equal",
]


_INTEGER_TEXT: Final = re.compile(r"[+-]?\d+")
_NUMBER_TEXT: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_NONFINITE_TEXT: Final = re.compile(r"[+-]?(?:s?nan|inf(?:inity)?)", re.IGNORECASE)
# Marks a non-finite number (NaN, ±inf, or too large for Decimal); compared by identity, never by value.
NONFINITE: Final = Decimal("NaN")
# Integers a float holds exactly (|n| < 2**53).
EXACT_FLOAT_INTS: Final = 2.0**53


def number_text(text: str) -> int | Decimal | None:
    """A numeric string as an exact number, ``NONFINITE`` for nan/inf, ``None`` if not numeric."""
    if _INTEGER_TEXT.fullmatch(text):
        try:
            return int(text)
        except ValueError:  # more digits than int() converts by default (sys.int_info)
            return Decimal(text)
    if _NUMBER_TEXT.fullmatch(text):
        try:
            return Decimal(text)
        except InvalidOperation:  # exponent beyond Decimal's range
            return NONFINITE
    if _NONFINITE_TEXT.fullmatch(text):
        return NONFINITE
    return None


def exact(value: Any) -> int | Decimal | None:
    """A value as an exact number, ``NONFINITE`` for nan/inf, ``None`` if it is not a number.

    A float stands for the decimal it prints as (its shortest round-trip form), so ``0.1`` is exactly
    ``Decimal("0.1")``; integral floats inside the exactly-representable range become ints (cheaper).
    Booleans are not numbers.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return NONFINITE
        if value.is_integer() and -EXACT_FLOAT_INTS < value < EXACT_FLOAT_INTS:
            return int(value)
        return Decimal(repr(float(value)))
    if isinstance(value, Decimal):
        return value if value.is_finite() else NONFINITE
    if isinstance(value, str):
        return number_text(value)
    return None


def is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _bool_against(a: Any, b: Any) -> tuple[bool, str]:
    """Equality when at least one side is a boolean: ``(equal, note)``."""
    if isinstance(a, bool) and isinstance(b, bool):
        return a is b, ""
    flag, other = (a, b) if isinstance(a, bool) else (b, a)
    if isinstance(other, str):
        word = other.lower()
        if word in ("true", "false"):
            return (word == "true") is flag, ""
        if number_text(other) is not None:
            return False, " (a boolean never equals a number)"
        return False, ""
    if is_number(other):
        return False, " (a boolean never equals a number)"
    return False, ""


def values_equal(
    actual: Any, expected: Any, expected_num: int | Decimal | None
) -> tuple[bool, str]:
    """Whether ``actual`` equals a rule's ``expected`` value, and a note explaining a surprising "no"."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return _bool_against(actual, expected)
    if isinstance(actual, str) and isinstance(expected, str):
        return actual == expected, ""
    if not isinstance(actual, str | int | float | Decimal):
        return False, f" (a {type(actual).__name__} never equals a scalar)"
    actual_num = exact(actual)
    if actual_num is NONFINITE or expected_num is NONFINITE:
        return False, " (NaN and infinity never equal anything)"
    if actual_num is None or expected_num is None:
        return False, ""
    return actual_num == expected_num, ""


_RFC3339: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?P<offset>[Zz]|[+-]\d{2}:?\d{2})?"
)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MILLIS_FROM: Final = 1e11
# Far beyond datetime's range in either unit; refusing earlier keeps huge numbers cheap.
_EPOCH_LIMIT: Final = 1e18
_NOT_A_TIMESTAMP: Final = (
    "is not a timestamp (RFC 3339 with an offset, or epoch seconds/milliseconds)"
)


def from_epoch(number: int | Decimal | float) -> datetime:
    """Epoch seconds, or milliseconds from 1e11 on, as an aware datetime (OverflowError if out of range)."""
    if not -_EPOCH_LIMIT < number < _EPOCH_LIMIT:
        raise OverflowError(number)
    if isinstance(number, Decimal):
        number = int(number) if number == number.to_integral_value() else float(number)
    if abs(number) >= _MILLIS_FROM:
        return _EPOCH + timedelta(milliseconds=number)
    return _EPOCH + timedelta(seconds=number)


def parse_timestamp(value: Any) -> datetime | str:
    """The instant ``value`` denotes, or why it denotes none (text following ``<label> = <value> ``)."""
    number: int | float | Decimal | None
    if isinstance(value, str):
        match = _RFC3339.fullmatch(value)
        if match is not None:
            if match.group("offset") is None:
                return "has no time zone offset"
            try:
                # fromisoformat wants upper-case T and Z; RFC 3339 allows lower case.
                return datetime.fromisoformat(value.upper())
            except ValueError:
                return "is not a valid timestamp"
        number = number_text(value)
    elif is_number(value):
        number = value
    else:
        number = None
    if number is None:
        return _NOT_A_TIMESTAMP
    if isinstance(number, Decimal) and not number.is_finite():  # also catches NONFINITE
        return "is not a finite number"
    if isinstance(number, float) and not math.isfinite(number):
        return "is not a finite number"
    try:
        return from_epoch(number)
    except OverflowError:
        return "is out of the supported date range"
