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

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from interlock.store.specs import TABLE_SPECS, physical_name
from interlock.store.table import (
    TTL_ATTRIBUTE,
    StoreError,
    TableSpec,
    ValidationError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

from interlock.store.dynamodb_table import DynamoDBTable
from interlock.store.dynamodb_wire import (
    Client,
    _botocore_errors,
    _build_client,
    _error_code,
    _translate,
)

__all__ = [
    "DynamoDBStore",
    "DynamoDBTable",
    "ValidationError",
    "create_tables",
    "table_definition",
]

logger = logging.getLogger(__name__)

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

    def caller_identity(self) -> str | None:
        """The ARN of the AWS identity this store's credentials act as (STS ``GetCallerIdentity``).

        Operator actions on a DynamoDB store are attributed to it: in AWS the credentials, not the
        laptop's login name, say who acted.

        Returns:
            The ARN (e.g. ``arn:aws:sts::123456789012:assumed-role/OnCall/alice``), or ``None`` when STS
            cannot tell (no credentials, an endpoint without STS such as DynamoDB Local).
        """
        try:
            sts = _build_client("sts", region=self.region, endpoint_url=self.endpoint_url)
        except StoreError as exc:
            logger.warning("no AWS caller identity: %s", exc)
            return None
        try:
            arn = sts.get_caller_identity().get("Arn")
        except Exception as exc:  # noqa: BLE001 - any botocore failure means "cannot tell"; logged
            logger.warning("no AWS caller identity (STS GetCallerIdentity failed): %s", exc)
            return None
        finally:
            sts.close()
        return str(arn) if arn else None

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
