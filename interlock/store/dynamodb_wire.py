"""The DynamoDB driver's wire (:mod:`interlock.store.dynamodb`): lazy boto3 clients, error translation,
the named condition fragments and the expression builder.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from interlock.store.codec import (
    marshal,
)
from interlock.store.table import (
    Absent,
    AllOf,
    Equals,
    Exists,
    StoreError,
    StoreUnavailableError,
    ValidationError,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from interlock.store.table import Condition

from interlock.store.checks import invalid, is_number, normalized

# boto3 clients are typed ``Any``: the mypy-boto3 stubs are not a dependency of the project.
Client = Any

# ------------------------------------------------------------------------- condition fragments
# Named fragments (STYLE 15). ``#pk``, ``#ttl``, ``:now`` and ``:number`` are bound per request by
# _Expr, and only when the expression uses them (DynamoDB refuses unused placeholders). Fragments carry
# no outer parentheses: _conjunction adds one pair per operand, as DynamoDB refuses doubled ones.

ITEM_MISSING = "attribute_not_exists(#pk)"
"""No item is stored under the key."""

ITEM_EXPIRED = "attribute_type(#ttl, :number) AND #ttl <= :now"
"""The stored item has a Number ``ttl`` at or before now (DynamoDB ignores a ttl of another type)."""

ITEM_UNEXPIRED = f"NOT ({ITEM_EXPIRED})"
"""No expired item is stored (either nothing is, or a live item is): the guard of every write."""

ITEM_ABSENT = f"{ITEM_MISSING} OR ({ITEM_EXPIRED})"
"""``absent()``: nothing stored, or only an expired item."""

ITEM_LIVE = f"attribute_exists(#pk) AND {ITEM_UNEXPIRED}"
"""``exists()``: an unexpired item is stored."""

ATTR_PRESENT = "attribute_exists({name})"
"""``exists(attr)``, with ITEM_LIVE."""

ATTR_EQUALS = "{name} = {value} AND attribute_type({name}, {type})"
"""``equals(attr, value)``, with ITEM_LIVE (numbers compare numerically in DynamoDB). The type test is
DynamoDB's own rule (values of different types are never equal) made explicit: moto finds True = 1."""

PARTITION_IS = "{name} = {value}"
"""The partition part of a KeyConditionExpression."""

SORT_KEY_FRAGMENTS = {
    "eq": "{name} = {value}",
    "begins_with": "begins_with({name}, {value})",
    "between": "{name} BETWEEN {value} AND {high}",
    "gt": "{name} > {value}",
    "gte": "{name} >= {value}",
    "lt": "{name} < {value}",
    "lte": "{name} <= {value}",
}
"""The sort-key part of a KeyConditionExpression, one per :class:`SKCondition` op."""

# A write that meets an expired item purges it and tries again; more rounds than this means the key is
# being rewritten with already-expired items as fast as we purge them.
_PURGE_ROUNDS = 3

# How many purges a table object remembers to mark their REMOVE records (see DynamoDBTable._purge).
_PURGES_REMEMBERED = 1024


# The attribute an update with nothing to change removes (see DynamoDBTable.update); no item has it.
_NOOP_ATTRIBUTE = "__interlock_noop__"

# Error codes that mean "the store cannot be used right now" rather than "this request is wrong".
_UNAVAILABLE_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "MissingAuthenticationTokenException",
        "IncompleteSignatureException",
        "ExpiredTokenException",
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "LimitExceededException",
    }
)


# ------------------------------------------------------------------------------- lazy boto3


def _import_boto3() -> tuple[Any, Any]:
    """``(boto3, botocore.config.Config)``, imported on first use."""
    try:
        import boto3  # type: ignore[import-untyped]
        from botocore.config import Config  # type: ignore[import-untyped]
    except ImportError as exc:
        raise ImportError("the DynamoDB store needs boto3: pip install 'interlock[aws]'") from exc
    return boto3, Config


def _botocore_errors() -> tuple[type[Exception], type[Exception]]:
    """``(ClientError, BotoCoreError)``; only called once a client exists, so boto3 is importable."""
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    return ClientError, BotoCoreError


# Parsing botocore's service models is most of what building a client costs (~0.1 s); every session
# shares one loader, which caches them. Sessions themselves are not shared: each resolves credentials
# and region when its clients are built, and boto3 sessions are not thread-safe.
_client_lock = threading.Lock()
_shared_loader: Any = None


def _build_client(service: str, *, region: str | None, endpoint_url: str | None) -> Client:
    global _shared_loader
    boto3, config_cls = _import_boto3()
    import botocore.session  # type: ignore[import-untyped]

    _, core_error = _botocore_errors()
    # Standard retry mode: throttling and transient 5xx are retried with backoff by botocore itself.
    config = config_cls(retries={"mode": "standard", "total_max_attempts": RETRY_ATTEMPTS})
    with _client_lock:
        core_session = botocore.session.Session()
        if _shared_loader is None:
            _shared_loader = core_session.get_component("data_loader")
        else:
            core_session.register_component("data_loader", _shared_loader)
        try:
            client = boto3.session.Session(botocore_session=core_session).client(
                service, region_name=region, endpoint_url=endpoint_url, config=config
            )
        except core_error as exc:  # NoRegionError and friends
            raise StoreUnavailableError(f"cannot build a {service} client: {exc}") from exc
    client.meta.events.register("needs-retry", _log_retry)
    return client


RETRY_ATTEMPTS = 3
"""Calls per request in botocore's standard retry mode (the first and two retries)."""
retry_log = logging.getLogger("interlock.aws.retries")
"""Where throttled or failed AWS calls are reported (WARNING), so they never go unnoticed."""
_RETRIED_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
    }
)


def _log_retry(
    response: Any = None,
    attempts: int = 0,
    caught_exception: BaseException | None = None,
    operation: Any = None,
    **_: Any,
) -> None:
    """A ``needs-retry`` hook: log every throttled or failed attempt botocore is about to retry.

    botocore's own retry handler decides and sleeps; this one only reports (it returns ``None``, so
    the decision stays botocore's). Standard mode retries throttling, transient 5xx and connection
    errors; the last attempt's failure is raised to the caller, who logs or re-raises it.
    """
    what = getattr(operation, "name", "call")
    if caught_exception is not None:
        why = f"{type(caught_exception).__name__}: {caught_exception}"
    else:
        http, parsed = response if isinstance(response, tuple) else (None, {})
        status = getattr(http, "status_code", 200)
        code = str((parsed or {}).get("Error", {}).get("Code", ""))
        if status < 500 and code not in _RETRIED_CODES:
            return
        why = f"{code or 'HTTP'} {status}".strip()
    if attempts < RETRY_ATTEMPTS:
        retry_log.warning(
            "AWS %s attempt %d of %d failed (%s); retrying", what, attempts, RETRY_ATTEMPTS, why
        )
    else:
        retry_log.warning("AWS %s failed after %d attempts (%s)", what, attempts, why)


def _error_code(exc: BaseException | None) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _translate(exc: Exception, what: str) -> StoreError:
    """A botocore error as a store error (the caller raises it ``from exc``)."""
    client_error, _ = _botocore_errors()
    if isinstance(exc, client_error):
        code = _error_code(exc)
        if code == "ResourceNotFoundException":
            return StoreUnavailableError(
                f"{what}: not found ({exc}); create the tables with "
                "interlock.store.dynamodb.create_tables or the Terraform module"
            )
        if code in _UNAVAILABLE_CODES:
            return StoreUnavailableError(f"{what}: {exc}")
        if code == "ValidationException":
            return ValidationError(f"{what}: {exc}")
        return StoreError(f"{what}: {exc}")
    if type(exc).__name__ == "ParamValidationError":  # a request botocore refuses to send
        return ValidationError(f"{what}: {exc}")
    # Other BotoCoreErrors: the endpoint cannot be reached, no credentials, a timeout …
    return StoreUnavailableError(f"{what}: {exc}")


class _ConditionFailed(Exception):
    """ConditionalCheckFailedException, with the item as it was (when DynamoDB returned it)."""

    def __init__(self, old: dict[str, Any] | None) -> None:
        super().__init__("conditional check failed")
        self.old = old


# --------------------------------------------------------------------------------- expressions


class _Expr:
    """The placeholders of one request: ``#a0…`` for names, ``:v0…`` for values, plus the fixed ones."""

    def __init__(self, *, pk_attr: str, ttl_attr: str, now: float) -> None:
        self._fixed_names = {"#pk": pk_attr, "#ttl": ttl_attr}
        self._fixed_values = {":now": marshal(now), ":number": {"S": "N"}}
        self._names: dict[str, str] = {}
        self._placeholder_of: dict[str, str] = {}
        self._values: dict[str, Any] = {}

    def name(self, attr: str) -> str:
        """The placeholder for attribute ``attr`` (always a placeholder: reserved words abound)."""
        if attr not in self._placeholder_of:
            placeholder = f"#a{len(self._names)}"
            self._names[placeholder] = attr
            self._placeholder_of[attr] = placeholder
        return self._placeholder_of[attr]

    def value(self, value: Any) -> str:
        """The placeholder for ``value`` (marshalled; ValidationError if it cannot be stored)."""
        placeholder = f":v{len(self._values)}"
        self._values[placeholder] = marshal(normalized(value, f"the value {value!r}"))
        return placeholder

    def type_of(self, value: Any) -> str:
        """A placeholder for the DynamoDB type name of ``value`` (``S``, ``N``, ``BOOL``, ``M`` …)."""
        placeholder = f":v{len(self._values)}"
        (kind,) = marshal(normalized(value, f"the value {value!r}"))
        self._values[placeholder] = {"S": kind}
        return placeholder

    def params(self, *expressions: str) -> dict[str, Any]:
        """ExpressionAttributeNames/Values for ``expressions``, fixed placeholders only where used."""
        text = " ".join(expressions)
        names = dict(self._names)
        values = dict(self._values)
        for placeholder, attr in self._fixed_names.items():
            if re.search(re.escape(placeholder) + r"\b", text):
                names[placeholder] = attr
        for placeholder, av in self._fixed_values.items():
            if re.search(re.escape(placeholder) + r"\b", text):
                values[placeholder] = av
        out: dict[str, Any] = {}
        if names:
            out["ExpressionAttributeNames"] = names
        if values:
            out["ExpressionAttributeValues"] = values
        return out


def _conjuncts(condition: Condition, expr: _Expr) -> list[str]:
    """``condition`` as fragments that must all hold (empty: always true)."""
    if isinstance(condition, Absent):
        return [ITEM_ABSENT]
    if isinstance(condition, Exists):
        if condition.attr is None:
            return [ITEM_LIVE]
        return [ITEM_LIVE, ATTR_PRESENT.format(name=expr.name(condition.attr))]
    if isinstance(condition, Equals):
        fragment = ATTR_EQUALS.format(
            name=expr.name(condition.attr),
            value=expr.value(condition.value),
            type=expr.type_of(condition.value),
        )
        return [ITEM_LIVE, fragment]
    if isinstance(condition, AllOf):
        return [part for c in condition.conditions for part in _conjuncts(c, expr)]
    raise TypeError(f"not a condition: {condition!r}")


def _conjunction(parts: Sequence[str]) -> str:
    return " AND ".join(f"({part})" for part in dict.fromkeys(parts))


def _is_expired(item: Mapping[str, Any], ttl_attr: str, now: float) -> bool:
    ttl = item.get(ttl_attr)
    if isinstance(ttl, bool) or not isinstance(ttl, int | Decimal):
        return False  # DynamoDB's TTL only acts on Number attributes
    return bool(ttl <= Decimal(repr(now)))


def _check_operand(value: Any, key_type: str) -> None:
    """A sort-key operand must have the key's type (DynamoDB: ValidationException; moto: no match)."""
    if key_type == "S" and type(value) is not str:
        raise invalid(f"this sort key is a string; the condition's operand is {value!r}")
    if key_type == "N" and not is_number(value):
        raise invalid(f"this sort key is a number; the condition's operand is {value!r}")


def _image_key(image: Mapping[str, Any]) -> str:
    return json.dumps(image, sort_keys=True, separators=(",", ":"))


def _epoch_seconds(value: Any) -> Any:
    """``ApproximateCreationDateTime`` as epoch seconds, as a Lambda receives it."""
    if isinstance(value, datetime):
        return int(value.timestamp())
    return value
