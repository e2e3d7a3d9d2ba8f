"""The DynamoDB driver: the :class:`~interlock.store.table.Table` protocol over boto3.

It talks to AWS or to any endpoint that speaks the DynamoDB API (moto, Amazon DynamoDB Local,
LocalStack). boto3 is an optional extra (``pip install 'interlock[aws]'``): importing this module does not
import it; the first store operation does, and builds its clients then (or uses the injected ones).

Items are marshalled with :mod:`interlock.store.codec`, the same code the SQLite driver uses, so both
drivers read numbers back identically (``int`` when integral, else ``Decimal``).

Expiry (TTL)
    DynamoDB deletes an expired item whenever it gets round to it (up to days later; moto never does).
    Until then the item is still stored, so this driver hides it itself, by the table clock ``now``:

    * conditions treat it as absent (the named fragments below);
    * get/query/count skip it, and get/query *purge* it: a conditional DeleteItem that only succeeds
      while the item is still expired, so the stream shows the REMOVE that DynamoDB's TTL would emit;
    * a write that finds it (the guard :data:`ITEM_UNEXPIRED` fails and returns the old item) purges it
      and retries, so an update never merges into, and a put never "modifies", an expired item.

    An item's life as the conditions see it (``t`` = the table clock, ``ttl`` = its number, if any)::

        no item ──put/update──▶ live ──────────── t reaches ttl ─────────▶ expired ──purge/TTL──▶ no item
                                 │ ITEM_LIVE holds                          │ ITEM_ABSENT holds
                                 │ (no ttl, a non-number ttl, or t < ttl)   │ (still stored, ttl <= t)
                                 │ get/query return it                      │ get/query skip and purge it;
                                 │                                          │ a write purges, then retries
        ─────────────────────────┴──────────────────────────────────────────┴──────────────────────▶ t

    As in DynamoDB, only a Number ``ttl`` expires (``attribute_type(#ttl, :number)``).

Change feed
    :meth:`DynamoDBTable.changes` reads the table's stream with ``dynamodbstreams`` (DescribeTable →
    stream ARN, DescribeStream → shards, GetShardIterator, GetRecords). Its position is a JSON-able
    ``{shard id: last sequence number read}``; records come oldest first in the shape a Lambda receives.

Tables
    :func:`create_tables` creates the four tables of :mod:`interlock.store.specs` for an environment, as
    :func:`table_definition` describes them. The Terraform module must declare the same (keys, indexes,
    attribute types, billing, streams, TTL).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from interlock.store.codec import (
    marshal,
    marshal_item,
    normalize,
    normalize_item,
    sort_key,
    unmarshal_item,
)
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
    from collections.abc import Callable, Sequence

    from interlock.store.table import Condition, Item

__all__ = [
    "DynamoDBStore",
    "DynamoDBTable",
    "ValidationError",
    "create_tables",
    "table_definition",
]

logger = logging.getLogger(__name__)

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

TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
"""The ``userIdentity`` of a stream record for a deletion by DynamoDB's TTL (and by our purge)."""

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
    config = config_cls(retries={"mode": "standard"})
    with _client_lock:
        core_session = botocore.session.Session()
        if _shared_loader is None:
            _shared_loader = core_session.get_component("data_loader")
        else:
            core_session.register_component("data_loader", _shared_loader)
        try:
            return boto3.session.Session(botocore_session=core_session).client(
                service, region_name=region, endpoint_url=endpoint_url, config=config
            )
        except core_error as exc:  # NoRegionError and friends
            raise StoreUnavailableError(f"cannot build a {service} client: {exc}") from exc


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


def _invalid(message: str, exc: BaseException | None = None) -> ValidationError:
    return ValidationError(f"{message}: {exc}" if exc is not None else message)


def _normalized(value: Any, what: str) -> Any:
    try:
        return normalize(value)
    except ValueError as exc:
        raise _invalid(f"{what} cannot be stored", exc) from exc


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
        self._values[placeholder] = marshal(_normalized(value, f"the value {value!r}"))
        return placeholder

    def type_of(self, value: Any) -> str:
        """A placeholder for the DynamoDB type name of ``value`` (``S``, ``N``, ``BOOL``, ``M`` …)."""
        placeholder = f":v{len(self._values)}"
        (kind,) = marshal(_normalized(value, f"the value {value!r}"))
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


def _index_type_error(table: str, index: str, attr: str, value: Any, kind: str) -> ValidationError:
    wanted = "a non-empty string" if kind == "S" else "a number"
    return _invalid(
        f"{table}: {attr!r} is a key of index {index} and must be {wanted}, got {value!r} "
        "(DynamoDB refuses the write: type mismatch for index key)"
    )


def _is_expired(item: Mapping[str, Any], ttl_attr: str, now: float) -> bool:
    ttl = item.get(ttl_attr)
    if isinstance(ttl, bool) or not isinstance(ttl, int | Decimal):
        return False  # DynamoDB's TTL only acts on Number attributes
    return bool(ttl <= Decimal(repr(now)))


def _check_key(pk: Any, sk: Any) -> None:
    for name, value in (("PK", pk), ("SK", sk)):
        if type(value) is not str or not value:
            raise _invalid(f"{name} must be a non-empty string, got {value!r}")


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float | Decimal)


def _check_operand(value: Any, key_type: str) -> None:
    """A sort-key operand must have the key's type (DynamoDB: ValidationException; moto: no match)."""
    if key_type == "S" and type(value) is not str:
        raise _invalid(f"this sort key is a string; the condition's operand is {value!r}")
    if key_type == "N" and not _is_number(value):
        raise _invalid(f"this sort key is a number; the condition's operand is {value!r}")


def _image_key(image: Mapping[str, Any]) -> str:
    return json.dumps(image, sort_keys=True, separators=(",", ":"))


def _epoch_seconds(value: Any) -> Any:
    """``ApproximateCreationDateTime`` as epoch seconds, as a Lambda receives it."""
    if isinstance(value, datetime):
        return int(value.timestamp())
    return value


# ------------------------------------------------------------------------------------- store


class DynamoDBStore:
    """The four Interlock tables of one environment in DynamoDB (or any DynamoDB endpoint).

    Args:
        environment: the environment name; tables are ``{environment}-interlock-{name}``.
        client: a boto3 ``dynamodb`` client to use; built lazily when omitted.
        streams_client: a boto3 ``dynamodbstreams`` client; built lazily when omitted.
        region: AWS region for the clients built here (default: boto3's configuration).
        endpoint_url: endpoint for the clients built here (moto server, DynamoDB Local, LocalStack).
        now: the table clock in epoch seconds, used for TTL (default: :func:`time.time`).
        table_names: physical names by logical name, overriding ``{environment}-interlock-{name}``
            (the Lambdas' explicit ``*_TABLE`` variables).
    """

    def __init__(
        self,
        environment: str,
        *,
        client: Client | None = None,
        streams_client: Client | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        now: Callable[[], float] | None = None,
        table_names: Mapping[str, str] | None = None,
    ) -> None:
        self.environment = environment
        self.table_names: dict[str, str] = dict(table_names or {})
        self.region = region
        self.endpoint_url = endpoint_url
        self.now: Callable[[], float] = now or time.time
        self._client = client
        self._streams_client = streams_client
        self._owned: list[Client] = []
        self._tables: dict[str, DynamoDBTable] = {}
        # TUI workers may touch a fresh store at once; build each client once.
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        where = f", endpoint_url={self.endpoint_url!r}" if self.endpoint_url else ""
        return f"DynamoDBStore({self.environment!r}{where})"

    @property
    def client(self) -> Client:
        """The ``dynamodb`` client (built on first use).

        Raises:
            ImportError: boto3 is not installed.
            StoreUnavailableError: no client can be built (e.g. no region configured).
        """
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = _build_client(
                        "dynamodb", region=self.region, endpoint_url=self.endpoint_url
                    )
                    self._owned.append(self._client)
        return self._client

    @property
    def streams_client(self) -> Client:
        """The ``dynamodbstreams`` client (built on first use, like :attr:`client`)."""
        if self._streams_client is None:
            with self._lock:
                if self._streams_client is None:
                    self._streams_client = _build_client(
                        "dynamodbstreams", region=self.region, endpoint_url=self.endpoint_url
                    )
                    self._owned.append(self._streams_client)
        return self._streams_client

    def table(self, name: str) -> DynamoDBTable:
        """The table with logical name ``name`` (``control``, ``joblog``, ``rerun`` or ``events``).

        Raises:
            StoreError: no such table in :data:`interlock.store.specs.TABLE_SPECS`.
        """
        if name not in TABLE_SPECS:
            raise StoreError(f"unknown table {name!r}: one of {', '.join(TABLE_SPECS)}")
        if name not in self._tables:
            self._tables[name] = DynamoDBTable(self, TABLE_SPECS[name])
        return self._tables[name]

    def close(self) -> None:
        """Close the clients this store built (injected clients are the caller's to close)."""
        with self._lock:
            for client in self._owned:
                client.close()
                if client is self._client:
                    self._client = None
                if client is self._streams_client:
                    self._streams_client = None
            self._owned.clear()


class DynamoDBTable:
    """One Interlock table in DynamoDB, with the semantics of :class:`~interlock.store.table.Table`.

    Obtain it with :meth:`DynamoDBStore.table`.

    Args:
        store: the store (clients, clock, environment).
        spec: the table's shape.
        pk_attr: partition-key attribute name.
        sk_attr: sort-key attribute name.
        ttl_attr: the attribute DynamoDB's TTL reads (epoch seconds).
    """

    def __init__(
        self,
        store: DynamoDBStore,
        spec: TableSpec,
        *,
        pk_attr: str = "PK",
        sk_attr: str = "SK",
        ttl_attr: str = TTL_ATTRIBUTE,
    ) -> None:
        self._store = store
        self._spec = spec
        self.name = store.table_names.get(spec.name) or physical_name(store.environment, spec.name)
        self.pk_attr, self.sk_attr, self.ttl_attr = pk_attr, sk_attr, ttl_attr
        self._stream_arn: str | None = None
        # The old images of the items this table object purged: their REMOVE records get the
        # userIdentity DynamoDB puts on TTL deletions (another process's purges cannot be told apart).
        self._purged: deque[str] = deque(maxlen=_PURGES_REMEMBERED)

    def __repr__(self) -> str:
        return f"DynamoDBTable({self.name!r})"

    @property
    def spec(self) -> TableSpec:
        """The table's shape (logical name, indexes, stream)."""
        return self._spec

    # ------------------------------------------------------------------------------ plumbing

    def _expr(self, now: float) -> _Expr:
        return _Expr(pk_attr=self.pk_attr, ttl_attr=self.ttl_attr, now=now)

    def _key(self, pk: str, sk: str) -> dict[str, Any]:
        _check_key(pk, sk)
        return {self.pk_attr: {"S": pk}, self.sk_attr: {"S": sk}}

    def _call(self, method: str, client: Client | None = None, **kwargs: Any) -> dict[str, Any]:
        """Call ``method`` on the client, translating botocore errors (see the module docstring).

        Raises:
            _ConditionFailed: the request's ConditionExpression did not hold.
            StoreUnavailableError: the table is missing, unreachable, throttled or forbidden.
            StoreError: any other failure.
        """
        client = self._store.client if client is None else client
        client_error, core_error = _botocore_errors()
        try:
            response: dict[str, Any] = getattr(client, method)(**kwargs)
        except client_error as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                old = getattr(exc, "response", {}).get("Item")
                raise _ConditionFailed(old) from exc
            raise _translate(exc, f"{method} on table {self.name}") from exc
        except core_error as exc:
            raise _translate(exc, f"{method} on table {self.name}") from exc
        return response

    def _purge(self, pk: str, sk: str, now: float) -> None:
        """Delete the item only while it is still expired (a REMOVE in the stream, as TTL makes)."""
        expr = self._expr(now)
        try:
            response = self._call(
                "delete_item",
                TableName=self.name,
                Key=self._key(pk, sk),
                ConditionExpression=ITEM_EXPIRED,
                ReturnValues="ALL_OLD",
                **expr.params(ITEM_EXPIRED),
            )
        except _ConditionFailed:
            return  # rewritten or purged meanwhile: nothing expired is left to delete
        if self._spec.stream and response.get("Attributes"):
            self._purged.append(_image_key(response["Attributes"]))

    def _purge_quietly(self, keys: Sequence[tuple[str, str]], now: float) -> None:
        # Reads purge as a courtesy; one that cannot (a read-only role, say) still answers correctly.
        for pk, sk in keys:
            try:
                self._purge(pk, sk, now)
            except StoreError as exc:
                logger.warning(
                    "could not purge expired item %s / %s in %s: %s", pk, sk, self.name, exc
                )

    def _write(
        self,
        method: str,
        pk: str,
        sk: str,
        condition: Condition | None,
        build: Callable[[_Expr], dict[str, Any]],
    ) -> dict[str, Any]:
        """A conditional write guarded by ITEM_UNEXPIRED: an expired item in the way is purged first.

        Raises:
            ConflictError: ``condition`` did not hold.
        """
        for _ in range(_PURGE_ROUNDS):
            now = self._store.now()
            expr = self._expr(now)
            request = build(expr)
            user = _conjuncts(condition, expr) if condition is not None else []
            guard = _conjunction([*user, ITEM_UNEXPIRED])
            if "Item" not in request:
                request["Key"] = self._key(pk, sk)
            request.update(
                TableName=self.name,
                ConditionExpression=guard,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **expr.params(guard, request.get("UpdateExpression", "")),
            )
            try:
                return self._call(method, **request)
            except _ConditionFailed as failed:
                old = failed.old
                if old is None:
                    # An endpoint that ignores ReturnValuesOnConditionCheckFailure: look.
                    old = self._call(
                        "get_item", TableName=self.name, Key=self._key(pk, sk), ConsistentRead=True
                    ).get("Item")
                if old is not None and _is_expired(unmarshal_item(old), self.ttl_attr, now):
                    self._purge(pk, sk, now)
                    continue
                if condition is None:  # the guard failed on an item that is no longer expired
                    continue
                raise ConflictError(pk, sk, condition) from failed
        raise StoreError(
            f"{method} on table {self.name}: {pk} / {sk} kept being replaced by expired items"
        )

    # --------------------------------------------------------------------------- the protocol

    def get(self, pk: str, sk: str) -> Item | None:
        """The item with this key, or ``None`` if absent or expired (a strongly consistent read)."""
        response = self._call(
            "get_item", TableName=self.name, Key=self._key(pk, sk), ConsistentRead=True
        )
        raw = response.get("Item")
        if raw is None:
            return None
        item = unmarshal_item(raw)
        now = self._store.now()
        if _is_expired(item, self.ttl_attr, now):
            self._purge_quietly([(pk, sk)], now)
            return None
        return item

    def put(self, item: Mapping[str, Any], *, condition: Condition | None = None) -> None:
        """Create or replace an item.

        Raises:
            ConflictError: ``condition`` did not hold.
            ValidationError: no string ``PK``/``SK``, a value DynamoDB cannot store, a wrongly typed
                index key, or an item over 400 KB.
        """
        try:
            stored = normalize_item(item)
        except ValueError as exc:
            raise _invalid(f"{self.name}: the item cannot be stored", exc) from exc
        self._check_index_keys(stored)
        pk, sk = stored[self.pk_attr], stored[self.sk_attr]
        av = marshal_item(stored)

        def build(expr: _Expr) -> dict[str, Any]:
            return {"Item": av}

        self._write("put_item", pk, sk, condition, build)

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
                a number (or meets a stored non-number), or a value cannot be stored.
        """
        _check_key(pk, sk)
        set_, add_ = self._update_args(set or {}, remove, add or {})

        def build(expr: _Expr) -> dict[str, Any]:
            clauses = []
            if set_:
                pairs = (f"{expr.name(a)} = {expr.value(v)}" for a, v in set_.items())
                clauses.append("SET " + ", ".join(pairs))
            if remove:
                clauses.append("REMOVE " + ", ".join(expr.name(a) for a in remove))
            if add_:
                pairs = (f"{expr.name(a)} {expr.value(v)}" for a, v in add_.items())
                clauses.append("ADD " + ", ".join(pairs))
            if not clauses:
                # Nothing to change: still create the item if absent, as UpdateItem does. An empty
                # UpdateExpression would do that, but moto crashes on it; removing an attribute that
                # no item has changes nothing on an existing item.
                clauses.append("REMOVE " + expr.name(_NOOP_ATTRIBUTE))
            return {"ReturnValues": "ALL_NEW", "UpdateExpression": " ".join(clauses)}

        response = self._write("update_item", pk, sk, condition, build)
        return unmarshal_item(response.get("Attributes") or self._key(pk, sk))

    def _update_args(
        self, set_: Mapping[str, Any], remove: Sequence[str], add: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """``set`` and ``add`` normalized, after the checks DynamoDB makes (some moto skips)."""
        if isinstance(remove, str):
            raise TypeError("remove takes a sequence of attribute names, not one string")
        sets = {a: _normalized(v, f"set {a!r}") for a, v in set_.items()}
        adds: dict[str, Any] = {}
        for attr, amount in add.items():
            if not _is_number(amount):
                raise _invalid(f"add {attr!r}: {amount!r} is not a number")
            adds[attr] = _normalized(amount, f"add {attr!r}")
        named = [*sets, *remove, *adds]
        for attr in named:
            if attr in (self.pk_attr, self.sk_attr):
                raise _invalid(f"cannot update the key attribute {attr!r}")
        if len({*named}) != len(named):
            raise _invalid(f"an attribute is named twice in set/remove/add: {named}")
        self._check_index_keys(sets)
        for ix in self._spec.indexes:
            if ix.pk in adds or (ix.sk in adds and ix.sk_type == "S"):
                raise _invalid(f"{self.name}: add cannot change the string index key of {ix.name}")
        return sets, adds

    def delete(self, pk: str, sk: str, *, condition: Condition | None = None) -> Item | None:
        """Delete an item; returns it as it was (``None`` if there was none).

        Raises:
            ConflictError: ``condition`` did not hold.
        """
        _check_key(pk, sk)

        def build(expr: _Expr) -> dict[str, Any]:
            return {"ReturnValues": "ALL_OLD"}

        response = self._write("delete_item", pk, sk, condition, build)
        old = response.get("Attributes")
        return unmarshal_item(old) if old else None

    def _check_index_keys(self, attrs: Mapping[str, Any]) -> None:
        """Index key attributes must have the index's types (moto would store them regardless)."""
        for ix in self._spec.indexes:
            if ix.pk in attrs and (type(attrs[ix.pk]) is not str or not attrs[ix.pk]):
                raise _index_type_error(self.name, ix.name, ix.pk, attrs[ix.pk], "S")
            if ix.sk in attrs:
                value = attrs[ix.sk]
                if ix.sk_type == "S" and (type(value) is not str or not value):
                    raise _index_type_error(self.name, ix.name, ix.sk, value, "S")
                if ix.sk_type == "N" and not _is_number(value):
                    raise _index_type_error(self.name, ix.name, ix.sk, value, "N")

    def _key_attrs(self, index: str | None) -> tuple[str, str]:
        if index is None:
            return self.pk_attr, self.sk_attr
        ix = self._spec.index(index)
        return ix.pk, ix.sk

    def _query_request(
        self, pk: str, sk: SKCondition | None, index: str | None, now: float
    ) -> tuple[_Expr, dict[str, Any]]:
        if type(pk) is not str or not pk:
            raise _invalid(f"the partition key must be a non-empty string, got {pk!r}")
        hash_attr, range_attr = self._key_attrs(index)
        expr = self._expr(now)
        key_condition = PARTITION_IS.format(name=expr.name(hash_attr), value=expr.value(pk))
        if sk is not None:
            if sk.op not in SORT_KEY_FRAGMENTS:
                raise _invalid(f"unknown sort-key condition {sk.op!r}")
            key_type = "S" if index is None else self._spec.index(index).sk_type
            _check_operand(sk.value, key_type)
            if sk.op == "begins_with" and key_type != "S":
                raise _invalid("begins_with needs a string sort key; this one is a number")
            if sk.op == "between":
                _check_operand(sk.high, key_type)
                if sort_key(_normalized(sk.value, "low")) > sort_key(_normalized(sk.high, "high")):
                    raise _invalid(
                        f"between({sk.value!r}, {sk.high!r}): the low bound is above the high"
                    )
            high = expr.value(sk.high) if sk.op == "between" else ""
            fragment = SORT_KEY_FRAGMENTS[sk.op].format(
                name=expr.name(range_attr), value=expr.value(sk.value), high=high
            )
            key_condition = f"{key_condition} AND {fragment}"
        request: dict[str, Any] = {"TableName": self.name, "KeyConditionExpression": key_condition}
        if index is None:
            request["ConsistentRead"] = True  # GSIs cannot be read consistently
        else:
            request["IndexName"] = index
        return expr, request

    def _cursor_attrs(self, index: str | None) -> list[str]:
        attrs = [self.pk_attr, self.sk_attr]
        if index is not None:
            attrs += [a for a in self._key_attrs(index) if a not in attrs]
        return attrs

    def _cursor(self, item: Item, index: str | None) -> dict[str, Any]:
        """The LastEvaluatedKey DynamoDB would give after ``item`` (DynamoDB JSON, so JSON-able)."""
        return {a: marshal(item[a]) for a in self._cursor_attrs(index)}

    def _check_cursor(self, cursor: Any, index: str | None) -> dict[str, Any]:
        attrs = self._cursor_attrs(index)
        if not isinstance(cursor, Mapping):
            raise _invalid(f"not a cursor: {cursor!r}")
        if sorted(cursor) != sorted(attrs) or not all(
            isinstance(v, Mapping) and len(v) == 1 and next(iter(v)) in ("S", "N")
            for v in cursor.values()
        ):
            raise _invalid(f"not a cursor of this query: {dict(cursor)!r}")
        return dict(cursor)

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

        Expired items are skipped (and purged), yet a page still holds ``limit`` items when that many
        remain: DynamoDB's ``Limit`` counts the items it reads, so this asks again until it has them.
        The cursor is an ExclusiveStartKey in DynamoDB JSON; it is ``None`` exactly when no item is left.
        """
        if limit is not None and (type(limit) is not int or limit < 1):
            raise _invalid(f"limit must be at least 1, got {limit!r}")
        now = self._store.now()
        expr, base = self._query_request(pk, sk, index, now)
        base.update(ScanIndexForward=not descending, **expr.params(base["KeyConditionExpression"]))
        items: list[Item] = []
        expired: list[tuple[str, str]] = []
        start = self._check_cursor(cursor, index) if cursor is not None else None
        next_cursor: dict[str, Any] | None = None
        while True:
            request = dict(base)
            if start:
                request["ExclusiveStartKey"] = start
            if limit is not None:
                # One more than we need: if it comes back live, there is a next page.
                request["Limit"] = limit - len(items) + 1
            response = self._call("query", **request)
            for raw in response.get("Items", []):
                item = unmarshal_item(raw)
                if _is_expired(item, self.ttl_attr, now):
                    expired.append((item[self.pk_attr], item[self.sk_attr]))
                elif limit is not None and len(items) == limit:
                    next_cursor = self._cursor(items[-1], index)
                    break
                else:
                    items.append(item)
            if next_cursor is not None:
                break
            start = response.get("LastEvaluatedKey")
            if not start:
                break
        self._purge_quietly(expired, now)
        return Page(items, next_cursor)

    def count(self, pk: str, sk: SKCondition | None = None, *, index: str | None = None) -> int:
        """How many (unexpired) items :meth:`query` would return across all pages.

        ``Select=COUNT`` cannot tell expired items apart, so this reads the keys and ``ttl`` only.
        """
        now = self._store.now()
        expr, request = self._query_request(pk, sk, index, now)
        projection = ", ".join(expr.name(a) for a in (self.pk_attr, self.sk_attr)) + ", #ttl"
        request.update(
            ProjectionExpression=projection,
            **expr.params(request["KeyConditionExpression"], projection),
        )
        total = 0
        while True:
            response = self._call("query", **request)
            items = (unmarshal_item(raw) for raw in response.get("Items", []))
            total += sum(1 for item in items if not _is_expired(item, self.ttl_attr, now))
            start = response.get("LastEvaluatedKey")
            if not start:
                return total
            request["ExclusiveStartKey"] = start

    # -------------------------------------------------------------------------------- stream

    def _stream(self) -> str:
        if self._stream_arn is None:
            table = self._call("describe_table", TableName=self.name)["Table"]
            arn = table.get("LatestStreamArn")
            enabled = table.get("StreamSpecification", {}).get("StreamEnabled", False)
            if not arn or not enabled:
                raise StoreError(f"table {self.name} has no stream enabled")
            self._stream_arn = str(arn)
        return self._stream_arn

    def _shards(self, arn: str) -> list[dict[str, Any]]:
        streams = self._store.streams_client
        shards: list[dict[str, Any]] = []
        request: dict[str, Any] = {"StreamArn": arn}
        while True:
            description = self._call("describe_stream", streams, **request)["StreamDescription"]
            shards.extend(description.get("Shards", []))
            last = description.get("LastEvaluatedShardId")
            if not last:
                return shards
            request["ExclusiveStartShardId"] = last

    def _read_shard(
        self, arn: str, shard_id: str, after: str | None, limit: int
    ) -> list[dict[str, Any]]:
        streams = self._store.streams_client
        request: dict[str, Any] = {"StreamArn": arn, "ShardId": shard_id}
        if after is None:
            request["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            request.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=after)
        try:
            iterator = self._call("get_shard_iterator", streams, **request).get("ShardIterator")
        except StoreError as exc:
            if _error_code(exc.__cause__) != "TrimmedDataAccessException":
                raise
            logger.warning("%s: records after %s were trimmed; reading from the oldest", arn, after)
            request = {"StreamArn": arn, "ShardId": shard_id, "ShardIteratorType": "TRIM_HORIZON"}
            iterator = self._call("get_shard_iterator", streams, **request).get("ShardIterator")
        records: list[dict[str, Any]] = []
        while iterator and len(records) < limit:
            # GetRecords returns at most 1,000 records a call.
            want = min(1000, limit - len(records))
            response = self._call("get_records", streams, ShardIterator=iterator, Limit=want)
            batch = response.get("Records", [])
            records.extend(batch)
            iterator = response.get("NextShardIterator")
            if not batch:
                break  # caught up with this shard
        return records

    def changes(self, after: Any = None, *, limit: int = 100) -> ChangeBatch:
        """Read the stream from after ``after`` (``None``: from the oldest record kept).

        Args:
            after: a position returned by an earlier call (``{shard id: sequence number}``).
            limit: at most this many records.

        Returns:
            Records oldest first, in the shape a Lambda receives, and the position after them.

        Raises:
            StoreError: the table has no stream, or ``after`` is not a position.
        """
        if not self._spec.stream:
            raise StoreError(f"table {self.name} has no stream (no change feed)")
        if type(limit) is not int or limit < 1:
            raise _invalid(f"limit must be at least 1, got {limit!r}")
        if after is not None and not (
            isinstance(after, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in after.items())
        ):
            raise StoreError(f"not a DynamoDB stream position: {after!r}")
        arn = self._stream()
        position: dict[str, str] = dict(after or {})
        shards = self._shards(arn)
        read: list[tuple[int, str, dict[str, Any]]] = []
        for shard in shards:
            shard_id = shard["ShardId"]
            end = shard.get("SequenceNumberRange", {}).get("EndingSequenceNumber")
            if end is not None and position.get(shard_id) == end:
                continue  # a closed shard we have read to its end
            for record in self._read_shard(arn, shard_id, position.get(shard_id), limit):
                read.append((int(record["dynamodb"]["SequenceNumber"]), shard_id, record))
        # Sequence numbers grow over time across a stream's shards (children after parents).
        read.sort(key=lambda entry: entry[0])
        taken = read[:limit]
        live = {shard["ShardId"] for shard in shards}
        new_position = {sid: seq for sid, seq in position.items() if sid in live}
        for _, shard_id, record in taken:
            new_position[shard_id] = record["dynamodb"]["SequenceNumber"]
        return ChangeBatch([self._lambda_record(r, arn) for _, _, r in taken], new_position)

    def _lambda_record(self, record: dict[str, Any], arn: str) -> dict[str, Any]:
        out = dict(record)
        dynamodb = dict(record["dynamodb"])
        if "ApproximateCreationDateTime" in dynamodb:
            dynamodb["ApproximateCreationDateTime"] = _epoch_seconds(
                dynamodb["ApproximateCreationDateTime"]
            )
        out["dynamodb"] = dynamodb
        out.setdefault("eventSource", "aws:dynamodb")
        out.setdefault("awsRegion", self._store.client.meta.region_name)
        out.setdefault("eventSourceARN", arn)
        if (
            out.get("eventName") == "REMOVE"
            and "userIdentity" not in out
            and "OldImage" in dynamodb
            and _image_key(dynamodb["OldImage"]) in self._purged
        ):
            out["userIdentity"] = dict(TTL_IDENTITY)
        return out


# ------------------------------------------------------------------------------------ tables


def table_definition(environment: str, spec: TableSpec) -> dict[str, Any]:
    """The CreateTable request for one table: what the Terraform module must declare too.

    * ``PK`` (hash) and ``SK`` (range), both strings; on-demand billing (PAY_PER_REQUEST);
    * each index of ``spec`` as a GSI with projection ALL, its partition key a string and its sort key
      of the index's ``sk_type``;
    * a stream with NEW_AND_OLD_IMAGES when ``spec.stream``.

    TTL (attribute ``ttl``) is a separate call (UpdateTimeToLive); :func:`create_tables` makes it.
    """
    types: dict[str, str] = {"PK": "S", "SK": "S"}
    indexes = []
    for ix in spec.indexes:
        types.setdefault(ix.pk, "S")
        types.setdefault(ix.sk, ix.sk_type)
        indexes.append(
            {
                "IndexName": ix.name,
                "KeySchema": [
                    {"AttributeName": ix.pk, "KeyType": "HASH"},
                    {"AttributeName": ix.sk, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        )
    request: dict[str, Any] = {
        "TableName": physical_name(environment, spec.name),
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind} for name, kind in types.items()
        ],
        "KeySchema": [
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if indexes:
        request["GlobalSecondaryIndexes"] = indexes
    if spec.stream:
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
    return request


def create_tables(
    environment: str,
    *,
    client: Client | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    ttl: bool = True,
    wait_seconds: float = 300.0,
) -> list[str]:
    """Create the four tables of ``environment`` (see :func:`table_definition`) and wait until ACTIVE.

    Idempotent: a table that exists already is left as it is (its shape is not checked or changed),
    except that TTL on ``ttl`` is turned on if it is off, so a run interrupted half-way can be repeated.
    Production tables come from the Terraform module, which must declare the same shapes; this is for
    tests, DynamoDB Local, LocalStack and quick experiments.

    Args:
        environment: the environment name (tables ``{environment}-interlock-{name}``).
        client: a boto3 ``dynamodb`` client; built from ``region``/``endpoint_url`` when omitted.
        region: AWS region for the client built here.
        endpoint_url: endpoint for the client built here.
        ttl: enable DynamoDB TTL on the ``ttl`` attribute. Off is for endpoints whose TTL runs on their
            own wall clock while tests use a fake one (the drivers hide expired items either way).
        wait_seconds: how long to wait for the tables to become ACTIVE.

    Returns:
        The physical names of the tables this call created (empty if all existed).

    Raises:
        StoreUnavailableError: the endpoint cannot be reached or the tables do not become ACTIVE.
        StoreError: DynamoDB refused a request.
    """
    if client is None:
        client = _build_client("dynamodb", region=region, endpoint_url=endpoint_url)
    client_error, core_error = _botocore_errors()
    names = [physical_name(environment, spec.name) for spec in TABLE_SPECS.values()]
    created: list[str] = []
    try:
        for spec, name in zip(TABLE_SPECS.values(), names, strict=True):
            try:
                client.create_table(**table_definition(environment, spec))
                created.append(name)
            except client_error as exc:
                if _error_code(exc) != "ResourceInUseException":  # exists already: leave it
                    raise
        # A short delay: local endpoints are ACTIVE at once, AWS within seconds.
        delay = 2
        waiter_config = {"Delay": delay, "MaxAttempts": max(1, int(wait_seconds / delay))}
        for name in names:
            client.get_waiter("table_exists").wait(TableName=name, WaiterConfig=waiter_config)
            if ttl:
                _ensure_ttl(client, name)
    except (client_error, core_error) as exc:
        raise _translate(exc, f"creating the {environment!r} tables") from exc
    return created


def _ensure_ttl(client: Client, name: str) -> None:
    description = client.describe_time_to_live(TableName=name).get("TimeToLiveDescription", {})
    if description.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        return
    client.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    )
