"""DynamoDB stores for the contract suite: moto in-process, and Amazon DynamoDB Local.

``conftest.py`` turns these generators into the ``moto`` and ``dynamodb-local`` drivers. Each yields a
:class:`~interlock.store.dynamodb.DynamoDBStore` on fresh tables and the suite's fake clock, and removes
what it made afterwards.

moto is made to behave as DynamoDB where the suite found it does not (each fix is a patch of a moto
class for the duration of one test, described where it is made): its stream writes a bare-key INSERT
before an UpdateItem's INSERT and a MODIFY for writes that change nothing, and its conditional writes
are not atomic between threads.

DynamoDB Local is started by ``scripts/with_dynamodb_local.py`` (``make test`` runs pytest through it);
its TTL sweeper runs on the wall clock, which is far from the suite's fake clock, so its tables are
created without TTL: the driver hides and purges expired items itself, by the fake clock, either way.
"""

from __future__ import annotations

import functools
import threading
import uuid
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest

from interlock.store.dynamodb import DynamoDBStore, create_tables
from interlock.store.specs import TABLE_SPECS, physical_name

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

REGION = "us-east-1"

# Fake credentials, and account-ID endpoints off: with boto3 >= 1.44 they make moto's DynamoDB Streams
# answer 404. DynamoDB Local keeps one database per access key and region; any key works.
AWS_ENV = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}


def _fake_aws_env(mp: pytest.MonkeyPatch) -> None:
    for name, value in AWS_ENV.items():
        mp.setenv(name, value)


def _stream_writes_what_dynamodb_writes(mp: pytest.MonkeyPatch) -> None:
    """Make moto's stream write the records DynamoDB writes (moto 5.2 writes two kinds too many).

    * An UpdateItem that creates an item stores a key-only item first, then updates it: moto writes an
      INSERT of the bare key before the real INSERT. Two INSERTs of one key in a row cannot happen in
      DynamoDB (the second would be a MODIFY), so the bare one is dropped.
    * A write that changes nothing writes no record in DynamoDB (and DynamoDB Local); moto writes a
      MODIFY with equal images.
    """
    from moto.dynamodb.models.table import StreamShard

    original = StreamShard.add

    def add(self: Any, old: Any, new: Any) -> None:
        if old is not None and new is not None:
            if old.to_json()["Attributes"] == new.to_json()["Attributes"]:
                return
        elif old is None and new is not None and self.items:
            last = self.items[-1].record
            keys = {self.table.hash_key_attr: new.hash_key.to_json()}
            if self.table.range_key_attr is not None:
                keys[self.table.range_key_attr] = new.range_key.to_json()
            if last["eventName"] == "INSERT" and last["dynamodb"]["Keys"] == keys:
                self.items.pop()
        original(self, old, new)

    mp.setattr(StreamShard, "add", add)


def _item_writes_are_atomic(mp: pytest.MonkeyPatch) -> None:
    """Make each of moto's writes atomic, as each item write is in DynamoDB.

    moto checks a write's condition and then writes, without a lock: two threads can both find a key
    absent and both "win" it. One lock around its writes serializes them (moto is a test double; its
    throughput is not the point).
    """
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()

    def locked(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def write(self: Any, *args: Any, **kwargs: Any) -> Any:
            with lock:
                return original(self, *args, **kwargs)

        return write

    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        mp.setattr(DynamoDBBackend, name, locked(getattr(DynamoDBBackend, name)))


@contextmanager
def moto_aws() -> Iterator[None]:
    """moto's in-process AWS, with fake credentials and the fixes above, for the block."""
    from moto import mock_aws

    with pytest.MonkeyPatch.context() as mp, mock_aws():
        _fake_aws_env(mp)
        _stream_writes_what_dynamodb_writes(mp)
        _item_writes_are_atomic(mp)
        yield


def moto_store(request: pytest.FixtureRequest, clock: Callable[[], float]) -> Iterator[Any]:
    """A store on moto's in-process DynamoDB, tables created, clock ``clock``."""
    with moto_aws():
        create_tables("contract", region=REGION)
        store = DynamoDBStore("contract", region=REGION, now=clock)
        try:
            yield store
        finally:
            store.close()


def local_store(
    request: pytest.FixtureRequest, clock: Callable[[], float], endpoint: str
) -> Iterator[Any]:
    """A store on DynamoDB Local at ``endpoint``, on tables of an environment unique to this test."""
    environment = f"t{uuid.uuid4().hex[:16]}"  # xdist workers share one DynamoDB Local
    with pytest.MonkeyPatch.context() as mp:
        _fake_aws_env(mp)
        store = DynamoDBStore(environment, region=REGION, endpoint_url=endpoint, now=clock)
        try:
            create_tables(environment, client=store.client, ttl=False)
            yield store
        finally:
            for spec in TABLE_SPECS.values():
                try:
                    store.client.delete_table(TableName=physical_name(environment, spec.name))
                except store.client.exceptions.ResourceNotFoundException:
                    pass  # creation failed half-way
            store.close()
