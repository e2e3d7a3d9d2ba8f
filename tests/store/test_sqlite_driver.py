"""What only the SQLite driver promises: its file, durability, processes, feed upkeep and bulk writes.

The behaviour every driver shares is in ``tests/contract``. These tests use real files in ``tmp_path``
and real subprocesses (a crash is a ``kill -9`` of a writer, not a simulation). Nothing sleeps: a test
that waits for another process polls a pipe with a timeout.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interlock.store.codec import normalize
from interlock.store.sqlite import (
    APPLICATION_ID,
    MIGRATIONS,
    SCHEMA_VERSION,
    SQLiteStore,
    ValidationError,
    number_key,
)
from interlock.store.table import (
    TTL_ATTRIBUTE,
    ConflictError,
    StoreError,
    StoreUnavailableError,
    Table,
    absent,
    begins_with,
    between,
    equals,
    sk_gt,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
PK = "PIPELINE#unit"
DAY = 86400.0


class Clock:
    """A settable clock in epoch seconds."""

    def __init__(self, t: float = 1_772_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path, clock):
    with SQLiteStore(tmp_path / "store.db", now=clock) as s:
        yield s


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _query_one(path: Path, sql: str, *params: Any) -> Any:
    conn = _raw(path)
    try:
        return conn.execute(sql, params).fetchone()
    finally:
        conn.close()


def _keys(records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(r["eventName"], r["dynamodb"]["Keys"]["SK"]["S"]) for r in records]


def _all_records(table: Any, after: Any = None) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    while True:
        batch = table.changes(after, limit=1000)
        if not batch.records:
            return records
        records += batch.records
        after = batch.position


# ---------------------------------------------------------------------------------- the file


def test_a_new_store_is_a_wal_file_with_the_interlock_marker(tmp_path):
    path = tmp_path / "deep" / "er" / "interlock.db"

    with SQLiteStore(path) as store:
        settings = store.describe()

    assert path.is_file()
    assert settings["journal_mode"] == "wal"
    assert settings["synchronous"] == "NORMAL"
    assert settings["busy_timeout_ms"] == 5000
    assert settings["wal_autocheckpoint"] == 10000
    assert settings["schema_version"] == SCHEMA_VERSION
    assert _query_one(path, "PRAGMA journal_mode") == ("wal",)  # persistent in the file
    assert _query_one(path, "PRAGMA application_id") == (APPLICATION_ID,)
    assert _query_one(path, "SELECT value FROM meta WHERE key = 'application'") == (
        "interlock-store",
    )


def test_busy_timeout_is_configurable(tmp_path):
    with SQLiteStore(tmp_path / "s.db", busy_timeout=0.25) as store:
        assert store.describe()["busy_timeout_ms"] == 250


def test_reopening_keeps_items_feed_and_event_ids(tmp_path, clock):
    path = tmp_path / "s.db"
    with SQLiteStore(path, now=clock) as store:
        store.table("control").put({"PK": PK, "SK": "SENSOR#a", "n": Decimal("0.1")})
        first = store.table("control").changes().records

    with SQLiteStore(path, now=clock) as store:
        table = store.table("control")
        assert table.get(PK, "SENSOR#a") == {"PK": PK, "SK": "SENSOR#a", "n": Decimal("0.1")}
        again = table.changes().records
        table.put({"PK": PK, "SK": "SENSOR#b"})
        later = table.changes(again[-1]["dynamodb"]["SequenceNumber"]).records

    assert again == first  # same records, same eventIDs
    assert _keys(later) == [("INSERT", "SENSOR#b")]
    assert int(later[0]["dynamodb"]["SequenceNumber"]) > int(first[0]["dynamodb"]["SequenceNumber"])


def test_items_are_stored_as_exact_json(store):
    big = Decimal("1234567890.1234567890123456789012345678")
    store.table("joblog").put({"PK": PK, "SK": "JOB#1", "f": 0.1, "i": 10**37, "d": big, "b": True})

    (doc,) = _query_one(store.path, "SELECT doc FROM items WHERE pk = ? AND sk = ?", PK, "JOB#1")

    assert '"f":0.1' in doc and f'"i":{10**37}' in doc and '"b":true' in doc
    assert f'"d":{big}' in doc  # a JSON number from the exact text, not a float, not a string
    assert json.loads(doc, parse_float=Decimal)["d"] == big


# ----------------------------------------------------------------------------- refused files


def _valid_store(path: Path) -> None:
    with SQLiteStore(path) as store:
        store.table("control").put({"PK": PK, "SK": "SENSOR#a", "x": "y" * 5000})


def _not_sqlite(path: Path) -> None:
    path.write_text("PK,SK\nPIPELINE#a,SENSOR#b\n")


def _garbage_after_header(path: Path) -> None:
    path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 16)


def _damaged_schema(path: Path) -> None:
    _valid_store(path)
    with path.open("r+b") as f:  # page 1 holds the schema: scribble over it past the header
        f.seek(100)
        f.write(b"\xde\xad\xbe\xef" * 900)


def _foreign(path: Path) -> None:
    conn = _raw(path)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO users (name) VALUES ('ada')")
    conn.close()


def _foreign_application_id(path: Path) -> None:
    conn = _raw(path)
    conn.execute("PRAGMA application_id = 1234")
    conn.close()


def _newer(path: Path) -> None:
    _valid_store(path)
    conn = _raw(path)
    conn.execute(
        "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),)
    )
    conn.close()


def _no_version(path: Path) -> None:
    _valid_store(path)
    conn = _raw(path)
    conn.execute("DELETE FROM meta WHERE key = 'schema_version'")
    conn.close()


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (_not_sqlite, "not a SQLite database"),
        (_garbage_after_header, "corrupt or not a SQLite database"),
        (_damaged_schema, "corrupt or not a SQLite database"),
        (_foreign, "not an Interlock store"),
        (_foreign_application_id, "not an Interlock store"),
        (_newer, "newer Interlock"),
        (_no_version, "no valid schema_version"),
    ],
    ids=["text", "garbage", "damaged", "foreign", "foreign-id", "newer", "no-version"],
)
def test_a_file_that_is_not_a_usable_store_is_refused_untouched(tmp_path, make, says):
    path = tmp_path / "some.db"
    make(path)
    before = path.read_bytes()

    with pytest.raises(StoreUnavailableError) as caught:
        SQLiteStore(path)

    message = str(caught.value)
    assert str(path) in message and says in message
    assert path.read_bytes() == before  # not converted to WAL, no table added, nothing written


def test_a_foreign_file_is_named_with_its_tables(tmp_path):
    path = tmp_path / "app.db"
    _foreign(path)

    with pytest.raises(StoreUnavailableError, match="users"):
        SQLiteStore(path)

    assert _query_one(path, "PRAGMA journal_mode") == ("delete",)
    assert _query_one(path, "SELECT name FROM users") == ("ada",)


def test_a_path_that_cannot_be_a_file_is_unavailable(tmp_path):
    (tmp_path / "dir.db").mkdir()

    with pytest.raises(StoreUnavailableError, match="dir.db"):
        SQLiteStore(tmp_path / "dir.db")


def test_migrations_are_one_step_per_version():
    assert sorted(MIGRATIONS) == list(range(1, SCHEMA_VERSION + 1))


def test_an_index_declared_after_the_items_were_written_is_rebuilt_on_open(tmp_path):
    path = tmp_path / "s.db"
    with SQLiteStore(path) as store:
        for i, ts in enumerate([30, 10, 20]):
            store.table("events").put(
                {"PK": PK, "SK": f"E{i}", "eventType": "JOB_FAILED", "timestamp": ts}
            )
    # A file from before GSI1 existed: no index columns, and a layout without it.
    conn = _raw(path)
    conn.execute("UPDATE items SET i1pk = NULL, i1sk = NULL")
    conn.execute("UPDATE meta SET value = '{}' WHERE key = 'index_layout'")
    conn.close()

    with SQLiteStore(path) as store:
        page = store.table("events").query("JOB_FAILED", index="GSI1")

    assert [i["timestamp"] for i in page.items] == [10, 20, 30]


# ----------------------------------------------------------------------------- processes


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line.strip())
    lines.put(None)


_CRASHING_WRITER = r"""
import sys
from interlock.store.sqlite import SQLiteStore

table = SQLiteStore(sys.argv[1]).table("control")
for i in range(10_000_000):
    table.put({"PK": "PIPELINE#crash", "SK": f"SENSOR#{i:08d}", "data": {"i": i}})
    print(i, flush=True)  # only after the commit returned
"""


def _child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_kill_9_mid_batch_loses_no_committed_write(tmp_path):
    path = tmp_path / "crash.db"
    lines: queue.Queue[str | None] = queue.Queue()
    with subprocess.Popen(
        [sys.executable, "-c", _CRASHING_WRITER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env=_child_env(),
    ) as proc:
        assert proc.stdout is not None
        reader = threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True)
        reader.start()
        reported = -1
        try:
            while reported < 499:  # wait (bounded) until it reports 500 commits, then kill it
                line = lines.get(timeout=60)
                assert line is not None, "the writer exited on its own"
                reported = int(line)
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
        reader.join(timeout=60)
    while (line := lines.get(timeout=5)) is not None:
        reported = int(line)  # commits reported between our decision and the kill

    assert proc.returncode == -signal.SIGKILL
    assert _query_one(path, "PRAGMA integrity_check") == ("ok",)
    with SQLiteStore(path) as store:
        table = store.table("control")
        present = [int(i["SK"].split("#")[1]) for i in table.query("PIPELINE#crash").items]
        records = _all_records(table)
    # Every reported commit is there; at most the one in flight beyond them; no holes.
    assert present == list(range(len(present)))
    assert reported + 1 <= len(present) <= reported + 2
    # Each item committed with its feed record, and no record without its item.
    assert _keys(records) == [("INSERT", f"SENSOR#{i:08d}") for i in range(len(present))]


_RACING_WRITER = r"""
import sys
from interlock.store.sqlite import SQLiteStore

path, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with SQLiteStore(path, busy_timeout=30) as store:
    table = store.table("control")
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(n):
        table.put({"PK": "PIPELINE#race", "SK": f"ITEM#{name}#{i:04d}", "i": i})
        table.update("PIPELINE#race", "COUNTER", add={"n": 1})
    print("done", flush=True)
"""


def test_two_processes_writing_one_file_lose_nothing(tmp_path):
    path = tmp_path / "shared.db"
    SQLiteStore(path).close()  # created once; both writers then open an existing store
    n = 150
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _RACING_WRITER, str(path), name, str(n)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=_child_env(),
        )
        for name in ("a", "b")
    ]
    outputs = []
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outputs = [proc.communicate(timeout=120)[0] for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.communicate(timeout=60)

    assert [proc.returncode for proc in procs] == [0, 0]
    assert all(out.strip() == "done" for out in outputs)
    with SQLiteStore(path) as store:
        table = store.table("control")
        counter = table.get("PIPELINE#race", "COUNTER")
        items = table.count("PIPELINE#race", begins_with("ITEM#"))
        records = _all_records(table)
    assert counter is not None and counter["n"] == 2 * n  # no lost update across processes
    assert items == 2 * n
    names = [r["eventName"] for r in records]
    assert names.count("INSERT") == 2 * n + 1 and names.count("MODIFY") == 2 * n - 1
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequence == sorted(set(sequence))


def test_a_writer_that_cannot_get_the_lock_is_told_the_store_is_locked(tmp_path):
    path = tmp_path / "s.db"
    with SQLiteStore(path, busy_timeout=0.05) as store:
        holder = _raw(path)
        try:
            holder.execute("BEGIN IMMEDIATE")
            with pytest.raises(StoreUnavailableError, match="locked"):
                store.table("control").put({"PK": PK, "SK": "SENSOR#a"})
            assert store.table("control").get(PK, "SENSOR#a") is None  # readers are not blocked
            holder.execute("ROLLBACK")
        finally:
            holder.close()
        store.table("control").put({"PK": PK, "SK": "SENSOR#a"})
        assert store.table("control").get(PK, "SENSOR#a") is not None


def test_one_store_is_safe_to_share_between_threads(store):
    table = store.table("control")
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(100):
                table.update(PK, "COUNTER", add={"n": 1})
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert not errors
    assert table.get(PK, "COUNTER") == {"PK": PK, "SK": "COUNTER", "n": 400}


def test_a_closed_store_refuses_work(tmp_path):
    store = SQLiteStore(tmp_path / "s.db")
    table = store.table("control")
    store.close()
    store.close()  # idempotent

    with pytest.raises(StoreError, match="closed"):
        table.get(PK, "x")
    with pytest.raises(StoreError, match="closed"):
        table.put({"PK": PK, "SK": "x"})
    assert "closed" in repr(store)


def test_tables_implement_the_protocol(store):
    table: Table = store.table("control")  # checked by mypy too

    assert isinstance(table, Table)
    assert table.spec.name == "control" and "control" in repr(table)


def test_add_refuses_a_sum_dynamodb_could_not_store(store):
    table = store.table("control")
    table.put({"PK": PK, "SK": "N", "n": 10**60})

    with pytest.raises(ValidationError, match="38 significant digits"):
        table.update(PK, "N", add={"n": Decimal("1E-60")})

    assert table.get(PK, "N") == {"PK": PK, "SK": "N", "n": 10**60}


def test_unknown_table_names_are_refused(store):
    with pytest.raises(StoreError, match="unknown table"):
        store.table("users")
    assert store.table("control") is store.table("control")


# ------------------------------------------------------------------------------ the feed


def test_feed_records_carry_the_clock_sequence_and_arn(store, clock):
    table = store.table("control")
    table.put({"PK": PK, "SK": "SENSOR#a"})
    clock.advance(12.7)
    table.put({"PK": PK, "SK": "SENSOR#a", "v": 1})

    first, second = table.changes().records

    assert first["dynamodb"]["ApproximateCreationDateTime"] == int(clock.t - 12.7)
    assert second["dynamodb"]["ApproximateCreationDateTime"] == int(clock.t)
    assert len(first["dynamodb"]["SequenceNumber"]) == 21  # DynamoDB's are 21 to 40 digits
    assert first["awsRegion"] == "local" and first["eventVersion"] == "1.1"
    assert first["eventSourceARN"].endswith("table/local-interlock-control/stream/sqlite")
    assert "userIdentity" not in first
    assert len(first["eventID"]) == 32 and first["eventID"] != second["eventID"]


def test_the_embedded_runtimes_own_rows_write_no_feed_record(store, clock):
    # GIVEN the control table, whose EXECUTION/TIMER/RUNTIME/JOBSTART partitions only the embedded
    # runtime reads, and directly
    from interlock.local.adapters import EXECUTION_PK, TIMER_PK
    from interlock.local.runtime import _OWN_ROWS, RUNTIME_PK
    from interlock.service.starts import JOB_START_PK
    from interlock.store.specs import EMBEDDED_PARTITIONS

    assert {EXECUTION_PK, TIMER_PK, RUNTIME_PK, JOB_START_PK} == EMBEDDED_PARTITIONS == _OWN_ROWS
    table = store.table("control")
    # WHEN they are put, updated (with a condition), expire and are deleted around a pipeline row
    for pk in sorted(EMBEDDED_PARTITIONS):
        table.put({"PK": pk, "SK": "x", "version": 1})
        table.put({"PK": pk, "SK": "x", "version": 2}, condition=equals("version", 1))
        table.update(pk, "x", set={"v": 3})
        table.put({"PK": pk, "SK": "gone", TTL_ATTRIBUTE: int(clock.t) + 1})
        table.delete(pk, "x")
    table.put({"PK": PK, "SK": "SENSOR#a"})
    clock.advance(5)
    table.put({"PK": "TIMER", "SK": "gone"})  # replaces an expired row: no REMOVE record either
    store.maintain()
    # THEN the feed holds the pipeline row only, and the rows themselves were written
    records = table.changes().records
    assert [(r["eventName"], r["dynamodb"]["Keys"]["PK"]["S"]) for r in records] == [("INSERT", PK)]
    assert table.get("EXECUTION", "x") is None and table.get("TIMER", "gone") is not None


def test_feed_positions_belong_to_one_table(store):
    store.table("control").put({"PK": PK, "SK": "SENSOR#a"})
    position = store.table("control").changes().position

    with pytest.raises(StoreError, match="another table"):
        store.table("joblog").changes(position)
    with pytest.raises(StoreError):
        store.table("control").changes("not-a-position")
    with pytest.raises(ValidationError):
        store.table("control").changes(limit=0)
    assert store.table("control").changes(position).position == position


def test_the_feed_is_trimmed_after_its_retention(store, clock, caplog):
    table = store.table("control")
    for i in range(3):
        table.put({"PK": PK, "SK": f"OLD#{i}"})
    early = table.changes(limit=1).position

    clock.advance(DAY + 120)
    table.put({"PK": PK, "SK": "NEW#0"})  # past the maintenance interval: trims lazily
    table.put({"PK": PK, "SK": "NEW#1"})

    assert _keys(table.changes().records) == [("INSERT", "NEW#0"), ("INSERT", "NEW#1")]
    with caplog.at_level(logging.WARNING, logger="interlock.store.sqlite"):
        resumed = table.changes(early).records
    assert _keys(resumed) == [("INSERT", "NEW#0"), ("INSERT", "NEW#1")]
    assert "trimmed" in caplog.text
    (rows,) = _query_one(store.path, "SELECT count(*) FROM changes")
    assert rows == 2


def test_trimming_keeps_each_tables_newest_record_so_numbers_never_repeat(store, clock):
    table = store.table("joblog")
    table.put({"PK": PK, "SK": "JOB#1"})
    last = table.changes().records[-1]["dynamodb"]["SequenceNumber"]
    clock.advance(2 * DAY)

    assert store.maintain().trimmed == 0  # the newest record stays, however old
    table.put({"PK": PK, "SK": "JOB#2"})
    clock.advance(2 * DAY)
    assert store.maintain().trimmed == 1

    records = table.changes().records
    assert _keys(records) == [("INSERT", "JOB#2")]
    assert int(records[0]["dynamodb"]["SequenceNumber"]) > int(last)


def test_feed_retention_is_configurable(tmp_path, clock):
    with SQLiteStore(tmp_path / "s.db", now=clock, feed_retention=60) as store:
        table = store.table("control")
        table.put({"PK": PK, "SK": "A"})
        table.put({"PK": PK, "SK": "B"})
        clock.advance(61)
        table.put({"PK": PK, "SK": "C"})
        assert _keys(table.changes().records) == [("INSERT", "C")]


def test_expired_items_are_purged_in_batches_as_ttl_removes(store, clock):
    table = store.table("control")
    for i in range(3):
        table.put({"PK": PK, "SK": f"LOCK#{i}", "ttl": int(clock.t) + 10 + i})
    table.put({"PK": PK, "SK": "SENSOR#keep"})
    start = table.changes().position
    clock.advance(100)

    result = store.maintain()

    assert result.purged == 3
    records = table.changes(start).records
    assert _keys(records) == [("REMOVE", f"LOCK#{i}") for i in range(3)]
    for record in records:
        assert record["userIdentity"] == {
            "type": "Service",
            "principalId": "dynamodb.amazonaws.com",
        }
        assert "NewImage" not in record["dynamodb"] and "OldImage" in record["dynamodb"]
    assert _query_one(store.path, "SELECT count(*) FROM items") == (1,)
    assert store.maintain().purged == 0


def test_writes_purge_expired_items_lazily(store, clock):
    control, rerun = store.table("control"), store.table("rerun")
    control.put({"PK": PK, "SK": "LOCK#a", "ttl": int(clock.t) + 5})
    rerun.put({"PK": PK, "SK": "RERUN#a", "ttl": int(clock.t) + 5})
    clock.advance(3600)

    control.put({"PK": PK, "SK": "SENSOR#other"})  # past the maintenance interval

    assert _query_one(
        store.path, "SELECT count(*) FROM items WHERE sk IN ('LOCK#a', 'RERUN#a')"
    ) == (0,)
    assert ("REMOVE", "LOCK#a") in _keys(control.changes().records)


def test_a_write_that_changes_nothing_leaves_the_row_alone(store):
    table = store.table("control")
    table.put({"PK": PK, "SK": "S", "data": {"b": 1, "a": [0.5]}})
    start = table.changes().position

    table.put({"SK": "S", "PK": PK, "data": {"a": [Decimal("0.50")], "b": 1.0}})
    same = table.update(PK, "S", set={"data": {"a": [0.5], "b": 1}})
    table.update(PK, "S", remove=["missing"])

    assert same == {"PK": PK, "SK": "S", "data": {"a": [Decimal("0.5")], "b": 1}}
    assert table.changes(start).records == []
    assert table.changes(start).position == start


# --------------------------------------------------------------------------------- put_many


def test_put_many_writes_every_item_and_record_in_one_go(store):
    table = store.table("control")
    items = [{"PK": PK, "SK": f"SENSOR#{i:03d}", "i": i} for i in range(100)]
    items.append({"PK": PK, "SK": "SENSOR#000", "i": "again"})

    assert table.put_many(iter(items)) == 101

    assert table.count(PK, begins_with("SENSOR#")) == 100
    assert table.get(PK, "SENSOR#000") == {"PK": PK, "SK": "SENSOR#000", "i": "again"}
    records = table.changes(limit=1000).records
    assert _keys(records) == [("INSERT", f"SENSOR#{i:03d}") for i in range(100)] + [
        ("MODIFY", "SENSOR#000")
    ]


def test_put_many_writes_nothing_when_an_item_fails_mid_batch(store):
    table = store.table("events")
    store.table("control").put({"PK": PK, "SK": "before"})
    items: list[dict[str, Any]] = [
        {"PK": PK, "SK": f"E#{i:03d}", "eventType": "X", "timestamp": i} for i in range(100)
    ]
    items[50]["timestamp"] = "fifty"  # DynamoDB refuses a string for the numeric index key

    with pytest.raises(ValidationError, match="timestamp"):
        table.put_many(items)

    assert table.count(PK) == 0
    assert table.query("X", index="GSI1").items == []


def test_put_many_writes_nothing_when_its_source_fails(store):
    table = store.table("control")
    start = table.changes().position

    def source() -> Iterator[dict[str, Any]]:
        for i in range(10):
            yield {"PK": PK, "SK": f"SENSOR#{i}"}
        raise RuntimeError("the upstream file ended early")

    with pytest.raises(RuntimeError, match="ended early"):
        table.put_many(source())

    assert table.count(PK) == 0
    assert table.changes(start).records == []


# ------------------------------------------------------------------------------ validation


def test_items_over_400kb_and_oversized_keys_are_refused(store):
    table = store.table("rerun")
    table.put({"PK": PK, "SK": "fits", "blob": "x" * 300_000})

    with pytest.raises(ValidationError, match="400"):
        table.put({"PK": PK, "SK": "big", "blob": "x" * 410_000})
    with pytest.raises(ValidationError, match="SK"):
        table.put({"PK": PK, "SK": "é" * 600})
    with pytest.raises(ValidationError, match="PK"):
        table.put({"PK": "p" * 2049, "SK": "x"})
    assert table.get(PK, "fits") is not None and table.get(PK, "big") is None


@pytest.mark.parametrize(
    ("index", "pk", "kwargs"),
    [
        ("GSI1", "X", {"sk": begins_with("1")}),  # begins_with on a number
        ("GSI1", "X", {"sk": sk_gt("10")}),  # a string for a number
        ("GSI1", "X", {"sk": between(10, 5)}),  # bounds the wrong way round
        (None, PK, {"sk": sk_gt(10)}),  # a number for a string sort key
        (None, PK, {"limit": 0}),
        (None, "", {}),
        (None, PK, {"cursor": {"PK": PK}}),  # not a cursor of this query
        ("GSI1", "X", {"cursor": {"PK": PK, "SK": "x"}}),
    ],
    ids=[
        "begins-number",
        "string-for-N",
        "between-reversed",
        "N-for-S",
        "limit-0",
        "empty-pk",
        "bad-cursor",
        "base-cursor-on-index",
    ],
)
def test_query_arguments_dynamodb_refuses(store, index, pk, kwargs):
    with pytest.raises(ValidationError):
        store.table("events").query(pk, index=index, **kwargs)


def test_update_refuses_an_attribute_named_twice(store):
    table = store.table("control")

    with pytest.raises(ValidationError, match="twice"):
        table.update(PK, "S", set={"a": 1}, remove=["a"])
    with pytest.raises(TypeError):
        table.update(PK, "S", remove="a")
    assert table.get(PK, "S") is None


def test_conflicts_name_the_key_and_leave_the_feed_alone(store):
    table = store.table("control")
    table.put({"PK": PK, "SK": "LOCK"}, condition=absent())
    start = table.changes().position

    with pytest.raises(ConflictError, match="LOCK"):
        table.put({"PK": PK, "SK": "LOCK", "by": "other"}, condition=absent())

    assert table.changes(start).records == []


# -------------------------------------------------------------------------------- numbers


_dynamodb_numbers = st.builds(
    lambda sign, digits, exponent: normalize(Decimal((sign, tuple(digits), exponent))),
    st.integers(0, 1),
    st.lists(st.integers(0, 9), min_size=1, max_size=38),
    st.integers(-130, 87),
).filter(lambda n: n == 0 or -130 <= Decimal(n).adjusted() <= 125)


@given(_dynamodb_numbers, _dynamodb_numbers)
def test_number_keys_order_exactly_as_the_numbers(a, b):
    assert (number_key(a) < number_key(b)) == (a < b)
    assert (number_key(a) == number_key(b)) == (a == b)


def test_number_keys_at_the_edges():
    ordered = [
        -(10**37) - 1,
        -(10**37),
        -1,
        Decimal("-0.12"),
        Decimal("-0.1"),
        Decimal("-1E-130"),
        0,
        Decimal("1E-130"),
        Decimal("0.1"),
        Decimal("0.12"),
        9,
        10,
        10**37,
        10**37 + 1,
        int("9" * 38) * 10**87,
    ]
    keys = [number_key(normalize(n)) for n in ordered]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
