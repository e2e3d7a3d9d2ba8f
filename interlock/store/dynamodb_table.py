"""One DynamoDB table behind the :class:`~interlock.store.table.Table` protocol: :class:`DynamoDBTable`
(see :mod:`interlock.store.dynamodb` for expiry and the change feed).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from interlock.store.codec import (
    marshal,
    marshal_item,
    normalize_item,
    sort_key,
    unmarshal_item,
)
from interlock.store.specs import physical_name
from interlock.store.table import (
    TTL_ATTRIBUTE,
    ChangeBatch,
    ConflictError,
    Page,
    SKCondition,
    StoreError,
    TableSpec,
    query_all,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Sequence

    from interlock.store.table import Condition, Item

from interlock.store.checks import (
    TTL_IDENTITY,
    check_key,
    check_update,
    index_type_error,
    invalid,
    is_number,
    normalized,
)
from interlock.store.dynamodb_wire import (
    _NOOP_ATTRIBUTE,
    _PURGE_ROUNDS,
    _PURGES_REMEMBERED,
    ITEM_EXPIRED,
    ITEM_UNEXPIRED,
    PARTITION_IS,
    SORT_KEY_FRAGMENTS,
    _botocore_errors,
    _check_operand,
    _ConditionFailed,
    _conjunction,
    _conjuncts,
    _epoch_seconds,
    _error_code,
    _Expr,
    _image_key,
    _is_expired,
    _translate,
)

if TYPE_CHECKING:
    from interlock.store.dynamodb import DynamoDBStore
    from interlock.store.dynamodb_wire import Client

logger = logging.getLogger("interlock.store.dynamodb")  # one logger for the driver


BULK_READERS = 16
"""Queries :meth:`DynamoDBTable.query_partitions` runs at once."""


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
        check_key(pk, sk)
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
            raise invalid(f"{self.name}: the item cannot be stored", exc) from exc
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
        check_key(pk, sk)
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
        sets, _, adds = check_update(set_, remove, add, (self.pk_attr, self.sk_attr))
        self._check_index_keys(sets)
        for ix in self._spec.indexes:
            if ix.pk in adds or (ix.sk in adds and ix.sk_type == "S"):
                raise invalid(f"{self.name}: add cannot change the string index key of {ix.name}")
        return sets, adds

    def delete(self, pk: str, sk: str, *, condition: Condition | None = None) -> Item | None:
        """Delete an item; returns it as it was (``None`` if there was none).

        Raises:
            ConflictError: ``condition`` did not hold.
        """
        check_key(pk, sk)

        def build(expr: _Expr) -> dict[str, Any]:
            return {"ReturnValues": "ALL_OLD"}

        response = self._write("delete_item", pk, sk, condition, build)
        old = response.get("Attributes")
        return unmarshal_item(old) if old else None

    def _check_index_keys(self, attrs: Mapping[str, Any]) -> None:
        """Index key attributes must have the index's types (moto would store them regardless)."""
        for ix in self._spec.indexes:
            if ix.pk in attrs and (type(attrs[ix.pk]) is not str or not attrs[ix.pk]):
                raise index_type_error(self.name, ix.name, ix.pk, attrs[ix.pk], "S")
            if ix.sk in attrs:
                value = attrs[ix.sk]
                if ix.sk_type == "S" and (type(value) is not str or not value):
                    raise index_type_error(self.name, ix.name, ix.sk, value, "S")
                if ix.sk_type == "N" and not is_number(value):
                    raise index_type_error(self.name, ix.name, ix.sk, value, "N")

    def _key_attrs(self, index: str | None) -> tuple[str, str]:
        if index is None:
            return self.pk_attr, self.sk_attr
        ix = self._spec.index(index)
        return ix.pk, ix.sk

    def _query_request(
        self, pk: str, sk: SKCondition | None, index: str | None, now: float
    ) -> tuple[_Expr, dict[str, Any]]:
        if type(pk) is not str or not pk:
            raise invalid(f"the partition key must be a non-empty string, got {pk!r}")
        hash_attr, range_attr = self._key_attrs(index)
        expr = self._expr(now)
        key_condition = PARTITION_IS.format(name=expr.name(hash_attr), value=expr.value(pk))
        if sk is not None:
            if sk.op not in SORT_KEY_FRAGMENTS:
                raise invalid(f"unknown sort-key condition {sk.op!r}")
            key_type = "S" if index is None else self._spec.index(index).sk_type
            _check_operand(sk.value, key_type)
            if sk.op == "begins_with" and key_type != "S":
                raise invalid("begins_with needs a string sort key; this one is a number")
            if sk.op == "between":
                _check_operand(sk.high, key_type)
                if sort_key(normalized(sk.value, "low")) > sort_key(normalized(sk.high, "high")):
                    raise invalid(
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
            raise invalid(f"not a cursor: {cursor!r}")
        if sorted(cursor) != sorted(attrs) or not all(
            isinstance(v, Mapping) and len(v) == 1 and next(iter(v)) in ("S", "N")
            for v in cursor.values()
        ):
            raise invalid(f"not a cursor of this query: {dict(cursor)!r}")
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
            raise invalid(f"limit must be at least 1, got {limit!r}")
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

    def query_partitions(
        self,
        requests: Mapping[str, SKCondition | None],
        *,
        descending: bool = False,
        limit: int | None = None,
    ) -> dict[str, list[Item]]:
        """Items of many partitions (see :meth:`Table.query_partitions`).

        DynamoDB has no multi-partition Query (and BatchGetItem needs whole keys), so this runs one
        Query per partition, up to :data:`BULK_READERS` at a time on threads (boto3 clients are
        thread-safe): a 1,000-pipeline board waits for ~1,000/``BULK_READERS`` round trips, not 1,000.

        Raises:
            ValidationError: a bad argument.
            StoreUnavailableError: the table cannot be read.
        """
        if limit is not None and (type(limit) is not int or limit < 1):
            raise invalid(f"limit must be at least 1, got {limit!r}")
        pks = list(requests)

        def one(pk: str) -> list[Item]:
            sk = requests[pk]
            if limit is None:
                return list(query_all(self, pk, sk, descending=descending))
            return self.query(pk, sk, descending=descending, limit=limit).items

        if len(pks) <= 1:
            return {pk: one(pk) for pk in pks}
        from concurrent.futures import ThreadPoolExecutor

        _ = self._store.client  # built once here, not raced for by the readers
        with ThreadPoolExecutor(max_workers=min(BULK_READERS, len(pks))) as pool:
            return dict(zip(pks, pool.map(one, pks), strict=True))

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

    def changes(
        self, after: Any = None, *, limit: int = 100, images_except: Collection[str] = ()
    ) -> ChangeBatch:
        """Read the stream from after ``after`` (``None``: from the oldest record kept).

        Args:
            after: a position returned by an earlier call (``{shard id: sequence number}``).
            limit: at most this many records.
            images_except: partition keys whose records are returned with their keys only.

        Returns:
            Records oldest first, in the shape a Lambda receives, and the position after them.

        Raises:
            StoreError: the table has no stream, or ``after`` is not a position.
        """
        if not self._spec.stream:
            raise StoreError(f"table {self.name} has no stream (no change feed)")
        if type(limit) is not int or limit < 1:
            raise invalid(f"limit must be at least 1, got {limit!r}")
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
        keys_only = frozenset(images_except)
        records = [self._lambda_record(r, arn, keys_only) for _, _, r in taken]
        return ChangeBatch(records, new_position)

    def _lambda_record(
        self, record: dict[str, Any], arn: str, keys_only: frozenset[str] = frozenset()
    ) -> dict[str, Any]:
        out = dict(record)
        dynamodb = dict(record["dynamodb"])
        if keys_only and dynamodb.get("Keys", {}).get("PK", {}).get("S") in keys_only:
            dynamodb.pop("NewImage", None)
            dynamodb.pop("OldImage", None)
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
