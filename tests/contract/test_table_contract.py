"""The ``Table`` contract: every driver keeps DynamoDB's item semantics (see :mod:`interlock.store.table`).

Each test runs once per driver (the ``driver`` parameter of ``conftest.py``: SQLite, moto, DynamoDB
Local). The expectations are DynamoDB's own, including where an emulator differs (moto stores wrongly
typed index keys and writes stream records for writes that change nothing; the DynamoDB driver and its
harness make up for it).

Errors: a request DynamoDB would refuse (its ValidationException: an unstorable value or key, naming
``PK``/``SK`` in an update, a non-number ``add`` or one onto a string, a wrongly typed index key) raises
an error that is both a :class:`StoreError` and a :class:`ValueError` (each driver's ``ValidationError``).

Kept small: moto writes ~500 items/s, and the suite should take seconds per driver.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from interlock.store.codec import marshal_item, normalize_item
from interlock.store.table import (
    ConflictError,
    Page,
    StoreError,
    Table,
    absent,
    all_of,
    begins_with,
    between,
    equals,
    exists,
    query_all,
    sk_eq,
    sk_gt,
    sk_gte,
    sk_lt,
    sk_lte,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

PK = "PIPELINE#contract"


def _item(sk: str, pk: str = PK, **attrs: Any) -> dict[str, Any]:
    return {"PK": pk, "SK": sk, **attrs}


def _sks(page_or_items: Page | list[dict[str, Any]]) -> list[str]:
    items = page_or_items.items if isinstance(page_or_items, Page) else page_or_items
    return [item["SK"] for item in items]


@contextmanager
def _refused() -> Iterator[None]:
    """The request is refused as DynamoDB refuses it: a StoreError that is also a ValueError."""
    with pytest.raises(ValueError) as caught:
        yield
    assert isinstance(caught.value, StoreError), repr(caught.value)


def _feed_from(table: Table, after: Any) -> list[dict[str, Any]]:
    """Every feed record after ``after``."""
    records: list[dict[str, Any]] = []
    while True:
        batch = table.changes(after, limit=100)
        records += batch.records
        if not batch.records:
            return records
        after = batch.position


def _position(table: Table) -> Any:
    """The position after everything the feed holds now."""
    after = None
    while True:
        batch = table.changes(after, limit=100)
        if not batch.records:
            return batch.position if batch.position is not None else after
        after = batch.position


def _images(record: dict[str, Any]) -> tuple[Any, Any]:
    body = record["dynamodb"]
    return body.get("OldImage"), body.get("NewImage")


# ------------------------------------------------------------------------------------ values

EVERY_TYPE: dict[str, Any] = {
    "text": "ready",
    "empty": "",
    "unicode": "héllo wörld ✓ 日本 😀",
    "int": 42,
    "negative": -7,
    "zero": 0,
    "big": 10**37 + 1,  # 38 digits, the most DynamoDB keeps
    "big_negative": -(10**37) - 3,
    "decimal": Decimal("3.14159265358979323846264338327950288"),
    "smallest": Decimal("1E-130"),
    "fraction": Decimal("-0.000001"),
    "float": 0.1,
    "integral_float": 2.0,
    "true": True,
    "false": False,
    "none": None,
    "list": [1, "a", None, True, [], {}, [Decimal("2.5")]],
    "map": {"nested": {"deep": [{"x": 1.5}]}, "empty": {}, "clé": "v", "blank": ""},
}


def test_every_value_type_round_trips(make_table):
    table = make_table("control")
    table.put(_item("SENSOR#types", **EVERY_TYPE))

    got = table.get(PK, "SENSOR#types")

    assert got == normalize_item(_item("SENSOR#types", **EVERY_TYPE))
    assert got is not None
    assert got["empty"] == "" and got["map"]["blank"] == ""
    assert got["unicode"] == "héllo wörld ✓ 日本 😀"
    assert got["none"] is None and got["list"][2] is None
    assert got["true"] is True and got["false"] is False
    assert got["map"]["nested"]["deep"][0]["x"] == Decimal("1.5")


def test_numbers_read_back_as_int_or_exact_decimal(make_table):
    table = make_table("control")
    table.put(_item("SENSOR#numbers", **EVERY_TYPE))

    got = table.get(PK, "SENSOR#numbers")

    assert got is not None
    for name in ("int", "negative", "zero", "big", "big_negative", "integral_float"):
        assert type(got[name]) is int, name
    assert got["big"] == 10**37 + 1 and got["big_negative"] == -(10**37) - 3
    assert got["integral_float"] == 2
    assert type(got["float"]) is Decimal and got["float"] == Decimal("0.1")
    assert got["decimal"] == Decimal("3.14159265358979323846264338327950288")
    assert got["smallest"] == Decimal("1E-130") and got["fraction"] == Decimal("-0.000001")
    assert type(got["list"][0]) is int and type(got["list"][6][0]) is Decimal


# Loops rather than parametrize in the tests below: each case would cost a fresh set of tables.

UNSTORABLE = [10**38 + 1, Decimal("1E+126"), float("nan"), float("inf"), {1, 2}, b"bytes", {1: "x"}]


def test_a_value_dynamodb_cannot_store_is_refused(make_table):
    table = make_table("control")

    for value in UNSTORABLE:
        with _refused():
            table.put(_item("SENSOR#bad", value=value))
        with _refused():
            table.update(PK, "SENSOR#bad", set={"value": value})

    assert table.get(PK, "SENSOR#bad") is None


def test_an_item_needs_non_empty_string_keys(make_table):
    table = make_table("control")

    keys: list[dict[str, Any]] = [
        {"PK": PK},
        {"PK": PK, "SK": ""},
        {"PK": 1, "SK": "x"},
        {"SK": "x"},
    ]
    for key in keys:
        with _refused():
            table.put({**key, "x": 1})

    assert table.query(PK).items == []


# ------------------------------------------------------------------------------- put and get


def test_get_of_a_missing_item_is_none(make_table):
    assert make_table("control").get(PK, "SENSOR#nothing") is None


def test_put_replaces_the_whole_item(make_table):
    table = make_table("control")
    table.put(_item("SENSOR#r", a=1, b=2))

    table.put(_item("SENSOR#r", a=3))

    assert table.get(PK, "SENSOR#r") == _item("SENSOR#r", a=3)


def test_items_are_independent_copies(make_table):
    table = make_table("control")
    original = _item("SENSOR#copy", data={"n": 1})
    table.put(original)
    original["data"]["n"] = 2

    got = table.get(PK, "SENSOR#copy")
    assert got is not None and got["data"] == {"n": 1}
    got["data"]["n"] = 3
    assert table.get(PK, "SENSOR#copy") == _item("SENSOR#copy", data={"n": 1})


def test_conditional_put_absent_lets_exactly_one_writer_win(make_table):
    table = make_table("control")
    table.put(_item("TRIGGER#cron#2026-03-02", status="RUNNING", by="first"), condition=absent())

    with pytest.raises(ConflictError) as caught:
        table.put(_item("TRIGGER#cron#2026-03-02", by="second"), condition=absent())

    assert (caught.value.pk, caught.value.sk) == (PK, "TRIGGER#cron#2026-03-02")
    assert caught.value.condition == absent()
    assert isinstance(caught.value, StoreError)
    assert table.get(PK, "TRIGGER#cron#2026-03-02") == _item(
        "TRIGGER#cron#2026-03-02", status="RUNNING", by="first"
    )


def test_put_with_exists_needs_the_item_and_the_attribute(make_table):
    table = make_table("control")
    with pytest.raises(ConflictError):
        table.put(_item("RUN#x", v=1), condition=exists())
    assert table.get(PK, "RUN#x") is None

    table.put(_item("RUN#x", v=1))
    table.put(_item("RUN#x", v=2), condition=exists())
    table.put(_item("RUN#x", v=3), condition=exists("v"))
    with pytest.raises(ConflictError):
        table.put(_item("RUN#x", v=4), condition=exists("missing"))

    assert table.get(PK, "RUN#x") == _item("RUN#x", v=3)


def test_equals_compares_numbers_numerically_and_types_strictly(make_table):
    table = make_table("control")
    table.put(_item("RUN#eq", n=1000000, status="RUNNING", one=1, flag=True))

    table.put(
        _item("RUN#eq", n=1000000, status="RUNNING", one=1, flag=True, step=1),
        condition=equals("n", 1e6),
    )
    table.put(
        _item("RUN#eq", n=1000000, status="RUNNING", one=1, flag=True, step=2),
        condition=equals("n", Decimal("1000000.000")),
    )
    for condition in (
        equals("n", "1000000"),  # a string is not a number
        equals("one", True),  # a bool is not a number
        equals("flag", 1),
        equals("status", "running"),
        equals("missing", None),
    ):
        with pytest.raises(ConflictError):
            table.put(_item("RUN#eq", step=99), condition=condition)

    got = table.get(PK, "RUN#eq")
    assert got is not None and got["step"] == 2


def test_equals_on_an_absent_item_fails(make_table):
    table = make_table("control")
    with pytest.raises(ConflictError):
        table.put(_item("RUN#none", v=1), condition=equals("v", None))
    assert table.get(PK, "RUN#none") is None


def test_all_of_needs_every_condition(make_table):
    table = make_table("control")
    table.put(_item("RUN#all", status="RUNNING", attempt=1))

    table.put(
        _item("RUN#all", status="COMPLETED", attempt=1),
        condition=all_of(exists("status"), equals("status", "RUNNING"), equals("attempt", 1)),
    )
    with pytest.raises(ConflictError):
        table.put(
            _item("RUN#all", status="FAILED", attempt=2),
            condition=all_of(equals("status", "COMPLETED"), equals("attempt", 2)),
        )
    with pytest.raises(ConflictError):
        table.put(_item("RUN#all"), condition=all_of(absent(), exists()))

    assert table.get(PK, "RUN#all") == _item("RUN#all", status="COMPLETED", attempt=1)


# ------------------------------------------------------------------------------------ update


def test_update_sets_removes_and_adds_on_an_existing_item(make_table):
    table = make_table("control")
    table.put(_item("RUN#u", status="RUNNING", attempt=1, ttl=9_999_999_999, note="x"))

    new = table.update(
        PK,
        "RUN#u",
        set={"status": "COMPLETED", "data": {"rows": 5}},
        remove=["ttl"],
        add={"attempt": 2},
    )

    expected = _item("RUN#u", status="COMPLETED", attempt=3, note="x", data={"rows": 5})
    assert new == expected
    assert table.get(PK, "RUN#u") == expected


def test_update_add_counts_an_absent_attribute_as_zero(make_table):
    table = make_table("control")
    table.put(_item("RUN#add", status="RUNNING"))

    assert table.update(PK, "RUN#add", add={"reruns": 1})["reruns"] == 1
    assert table.update(PK, "RUN#add", add={"reruns": 1})["reruns"] == 2
    half = table.update(PK, "RUN#add", add={"reruns": 0.5})["reruns"]
    assert half == Decimal("2.5") and type(half) is Decimal
    assert table.update(PK, "RUN#add", add={"reruns": -2.5})["reruns"] == 0


def test_update_creates_an_absent_item(make_table):
    table = make_table("control")

    new = table.update(PK, "RUN#new", set={"status": "RUNNING"}, add={"attempt": 1})

    assert new == _item("RUN#new", status="RUNNING", attempt=1)
    assert table.get(PK, "RUN#new") == new


def test_update_with_a_failed_condition_changes_nothing(make_table):
    table = make_table("control")
    table.put(_item("RUN#c", status="RUNNING", attempt=1))

    with pytest.raises(ConflictError):
        table.update(PK, "RUN#c", set={"status": "FAILED"}, condition=equals("attempt", 2))
    with pytest.raises(ConflictError):
        table.update(PK, "RUN#c", add={"attempt": 1}, condition=absent())
    with pytest.raises(ConflictError):
        table.update(PK, "RUN#gone", set={"status": "FAILED"}, condition=exists())

    assert table.get(PK, "RUN#c") == _item("RUN#c", status="RUNNING", attempt=1)
    assert table.get(PK, "RUN#gone") is None


def test_update_with_a_holding_condition_applies(make_table):
    table = make_table("control")
    table.update(PK, "RUN#h", set={"status": "RUNNING"}, condition=absent())

    new = table.update(
        PK, "RUN#h", set={"status": "COMPLETED"}, condition=equals("status", "RUNNING")
    )

    assert new == _item("RUN#h", status="COMPLETED")


def test_update_cannot_change_the_key(make_table):
    table = make_table("control")
    table.put(_item("RUN#k", v=1))

    changes: list[dict[str, Any]] = [
        {"set": {"PK": "other"}},
        {"set": {"SK": "other"}},
        {"remove": ["SK"]},
        {"add": {"PK": 1}},
    ]
    for change in changes:
        with _refused():
            table.update(PK, "RUN#k", **change)

    assert table.get(PK, "RUN#k") == _item("RUN#k", v=1)


def test_update_add_needs_numbers(make_table):
    table = make_table("control")
    table.put(_item("RUN#n", label="x"))

    with _refused():
        table.update(PK, "RUN#n", add={"count": "1"})
    with _refused():
        table.update(PK, "RUN#n", add={"label": 1})  # the stored value is a string

    assert table.get(PK, "RUN#n") == _item("RUN#n", label="x")


# ------------------------------------------------------------------------------------ delete


def test_delete_returns_the_old_item_then_none(make_table):
    table = make_table("control")
    table.put(_item("RUN#d", status="RUNNING", n=1.5))

    assert table.delete(PK, "RUN#d") == _item("RUN#d", status="RUNNING", n=Decimal("1.5"))
    assert table.get(PK, "RUN#d") is None
    assert table.delete(PK, "RUN#d") is None


def test_conditional_delete(make_table):
    table = make_table("control")
    table.put(_item("RUN#cd", status="RUNNING"))

    with pytest.raises(ConflictError):
        table.delete(PK, "RUN#cd", condition=equals("status", "COMPLETED"))
    assert table.get(PK, "RUN#cd") is not None
    with pytest.raises(ConflictError):
        table.delete(PK, "RUN#missing", condition=exists())

    old = table.delete(PK, "RUN#cd", condition=equals("status", "RUNNING"))
    assert old == _item("RUN#cd", status="RUNNING")
    assert table.delete(PK, "RUN#missing", condition=absent()) is None


# ------------------------------------------------------------------------------------- query

QUERY_SKS = ["A#01", "A#02", "A#03", "A#04", "A#05", "B#01", "B#02", "B#03", "C"]


@pytest.fixture
def query_table(make_table):
    table = make_table("joblog")
    for sk in reversed(QUERY_SKS):
        table.put(_item(sk, n=QUERY_SKS.index(sk)))
    table.put(_item("A#01", pk="PIPELINE#other"))
    table.put(_item("B#01", pk="PIPELINE#contract-longer"))
    return table


SORT_KEY_CASES = [
    (None, QUERY_SKS),
    (sk_eq("B#02"), ["B#02"]),
    (sk_eq("B#"), []),
    (begins_with("A#"), QUERY_SKS[:5]),
    (begins_with("B#0"), ["B#01", "B#02", "B#03"]),
    (between("A#03", "B#01"), ["A#03", "A#04", "A#05", "B#01"]),
    (sk_gt("B#02"), ["B#03", "C"]),
    (sk_gte("B#02"), ["B#02", "B#03", "C"]),
    (sk_lt("A#03"), ["A#01", "A#02"]),
    (sk_lte("A#03"), ["A#01", "A#02", "A#03"]),
]


def test_query_by_sort_key_condition(query_table):
    for condition, expected in SORT_KEY_CASES:
        page = query_table.query(PK, condition)

        assert _sks(page) == expected, condition
        assert page.cursor is None, condition
        assert _sks(query_table.query(PK, condition, descending=True)) == expected[::-1], condition
        assert query_table.count(PK, condition) == len(expected), condition


def test_query_returns_whole_items_of_one_partition(query_table):
    items = query_table.query(PK, sk_eq("A#02")).items

    assert items == [_item("A#02", n=1)]
    assert query_table.query("PIPELINE#nothing").items == []
    assert query_table.count("PIPELINE#nothing") == 0


def test_query_partitions_answers_each_partition_as_its_own_query(query_table):
    # many partitions at once, each with its own condition, is what one query per partition returns
    requests = {
        PK: begins_with("B#"),
        "PIPELINE#other": None,
        "PIPELINE#contract-longer": sk_eq("A#01"),
        "PIPELINE#nothing": None,
    }
    found = query_table.query_partitions(requests)

    assert list(found) == list(requests)
    assert [i["SK"] for i in found[PK]] == ["B#01", "B#02", "B#03"]
    assert found[PK] == query_table.query(PK, begins_with("B#")).items
    assert [i["SK"] for i in found["PIPELINE#other"]] == ["A#01"]
    assert found["PIPELINE#contract-longer"] == []
    assert found["PIPELINE#nothing"] == []
    assert query_table.query_partitions({}) == {}


def test_query_partitions_shares_a_condition_and_limits_per_partition(query_table, clock):
    for pk in ("PIPELINE#other", "PIPELINE#contract-longer"):
        query_table.put(_item("A#09", pk=pk))
        query_table.put(_item("A#00", pk=pk, ttl=int(clock.t) - 1))  # expired: never returned
    same = dict.fromkeys((PK, "PIPELINE#other", "PIPELINE#contract-longer"), begins_with("A#"))

    both = query_table.query_partitions(same)
    newest = query_table.query_partitions(same, descending=True, limit=2)

    assert [i["SK"] for i in both[PK]] == QUERY_SKS[:5]
    assert [i["SK"] for i in both["PIPELINE#other"]] == ["A#01", "A#09"]
    assert [i["SK"] for i in both["PIPELINE#contract-longer"]] == ["A#09"]
    assert [i["SK"] for i in newest[PK]] == ["A#05", "A#04"]
    assert [i["SK"] for i in newest["PIPELINE#other"]] == ["A#09", "A#01"]
    assert [i["SK"] for i in newest["PIPELINE#contract-longer"]] == ["A#09"]
    with pytest.raises(ValueError, match="limit"):
        query_table.query_partitions(same, limit=0)
    with pytest.raises(ValueError, match="partition key"):
        query_table.query_partitions({"": None})


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
def test_query_pages_with_a_cursor(make_table, descending):
    table = make_table("rerun")
    sks = [f"RERUN#cron#2026-03-02#{i:03d}" for i in range(25)]
    for sk in sks:
        table.put(_item(sk))
    expected = sks[::-1] if descending else sks

    pages = []
    cursor = None
    while True:
        page = table.query(
            PK, begins_with("RERUN#"), descending=descending, limit=10, cursor=cursor
        )
        pages.append(page)
        json.dumps(page.cursor)  # cursors are JSON-able: callers keep them between requests
        if page.cursor is None:
            break
        cursor = page.cursor

    assert [len(p.items) for p in pages] == [10, 10, 5]
    assert [sk for p in pages for sk in _sks(p)] == expected
    assert list(_sks(list(query_all(table, PK, descending=descending, page_size=7)))) == expected


def test_a_page_that_ends_the_results_has_no_cursor(make_table):
    table = make_table("rerun")
    for i in range(3):
        table.put(_item(f"RERUN#{i}"))

    assert table.query(PK, limit=3).cursor is None
    assert table.query(PK, limit=5).cursor is None
    first = table.query(PK, limit=2)
    assert first.cursor is not None
    assert _sks(table.query(PK, limit=2, cursor=first.cursor)) == ["RERUN#2"]


def test_sort_keys_compare_by_utf8_bytes(make_table):
    table = make_table("control")
    # Case-insensitive or locale order would put "a" before "B" and "é" next to "e"; UTF-16 order (as
    # Java and JavaScript compare) would put "😀" (a surrogate pair) before "ﬁ" (U+FB01).
    keys = ["😀", "ﬁ", "é", "z", "a", "Z", "B", "e"]
    for sk in keys:
        table.put(_item(sk, pk="PIPELINE#order"))

    got = _sks(table.query("PIPELINE#order"))

    assert got == ["B", "Z", "a", "e", "z", "é", "ﬁ", "😀"]
    assert got == sorted(keys, key=lambda s: s.encode("utf-8"))
    assert _sks(table.query("PIPELINE#order", sk_gt("z"))) == ["é", "ﬁ", "😀"]
    assert _sks(table.query("PIPELINE#order", begins_with("é"))) == ["é"]


def test_begins_with_covers_every_continuation_of_the_prefix(make_table):
    table = make_table("control")
    keys = ["a", "b", "b\uffff", "b\U0001f600", "b\U0010ffff", "c", "\U0010ffff", "\U0010ffffa"]
    keys += ["\ud7ff", "\ud7ffz", "\ue000"]  # around the surrogates, which UTF-8 cannot hold
    for sk in keys:
        table.put(_item(sk, pk="PIPELINE#edge"))

    def starting(prefix: str) -> list[str]:
        return _sks(table.query("PIPELINE#edge", begins_with(prefix)))

    assert starting("b") == ["b", "b\uffff", "b\U0001f600", "b\U0010ffff"]
    assert starting("\U0010ffff") == ["\U0010ffff", "\U0010ffffa"]
    assert starting("\ud7ff") == ["\ud7ff", "\ud7ffz"]
    assert starting("\U0010fffe") == []


# --------------------------------------------------------------------------------- indexes


def _event(i: int, timestamp: Any, event_type: str = "JOB_FAILED", **extra: Any) -> dict[str, Any]:
    return {
        "PK": f"PIPELINE#p{i % 3}",
        "SK": f"{i:04d}#{event_type}#u{i}",
        "eventType": event_type,
        "timestamp": timestamp,
        **extra,
    }


def test_numeric_index_sort_keys_order_as_numbers(make_table):
    table = make_table("events")
    numbers: list[int | Decimal] = [
        10**37 + 1,
        -(10**37),
        Decimal("1.5E+125"),
        10,
        9,
        Decimal("9.5"),
        100,
        -1,
        Decimal("-0.5"),
        0,
        Decimal("1E-130"),
        10**37,
        1_772_000_000_123,
    ]
    for i, n in enumerate(numbers):
        table.put(_event(i, n))

    got = [item["timestamp"] for item in table.query("JOB_FAILED", index="GSI1").items]

    assert got == sorted(numbers)
    assert got[:3] == [-(10**37), -1, Decimal("-0.5")]
    assert got[-3:] == [10**37, 10**37 + 1, Decimal("1.5E+125")]


def test_numeric_index_conditions_and_sparseness(make_table):
    table = make_table("events")
    for i, ts in enumerate([2, 9, Decimal("9.5"), 10, 100, 1000]):
        table.put(_event(i, ts))
    table.put(_event(10, 10))  # same timestamp as another event, in another partition
    table.put(_event(11, 50, event_type="SLA_BREACH"))
    table.put({"PK": "PIPELINE#p0", "SK": "9999#JOB_FAILED#no-time", "eventType": "JOB_FAILED"})
    table.put({"PK": "PIPELINE#p0", "SK": "THREAD#cron#2026-03-02", "timestamp": 10})
    table.put({"PK": "PIPELINE#p0", "SK": "plain", "detail": {"timestamp": 10}})

    def stamps(**kw: Any) -> list[Any]:
        return [item["timestamp"] for item in table.query("JOB_FAILED", index="GSI1", **kw).items]

    assert stamps() == [2, 9, Decimal("9.5"), 10, 10, 100, 1000]
    assert stamps(sk=between(9, 100)) == [9, Decimal("9.5"), 10, 10, 100]
    assert stamps(sk=sk_gt(10)) == [100, 1000]
    assert stamps(sk=sk_gte(Decimal("9.50"))) == [Decimal("9.5"), 10, 10, 100, 1000]
    assert stamps(sk=sk_lt(9.5)) == [2, 9]
    assert stamps(sk=sk_lte(10), descending=True) == [10, 10, Decimal("9.5"), 9, 2]
    assert stamps(sk=sk_eq(10)) == [10, 10]
    assert table.count("JOB_FAILED", index="GSI1") == 7
    assert table.count("JOB_FAILED", sk_gt(9), index="GSI1") == 5
    assert [i["SK"] for i in table.query("SLA_BREACH", index="GSI1").items] == [
        "0011#SLA_BREACH#u11"
    ]


def test_index_pages_cover_ties_once(make_table):
    table = make_table("events")
    stamps = [5, 1, 3, 3, 3, 2, 4, 4, 1, 6, 3, 2]
    for i, ts in enumerate(stamps):
        table.put(_event(i, ts))
    everything = table.query("JOB_FAILED", index="GSI1").items

    for descending in (False, True):
        seen: list[dict[str, Any]] = []
        cursor = None
        pages = 0
        while True:
            page = table.query(
                "JOB_FAILED", index="GSI1", descending=descending, limit=5, cursor=cursor
            )
            json.dumps(page.cursor)
            seen += page.items
            pages += 1
            if page.cursor is None:
                break
            cursor = page.cursor
        assert pages == 3
        assert len({(i["PK"], i["SK"]) for i in seen}) == len(stamps)
        assert [i["timestamp"] for i in seen] == sorted(stamps, reverse=descending)
        if not descending:
            assert [(i["PK"], i["SK"]) for i in seen] == [(i["PK"], i["SK"]) for i in everything]


def test_second_events_index_finds_everything_since(make_table):
    table = make_table("events")
    table.put(_event(1, 1000, GSI2PK="EVENTS#2026-03-02T08"))
    table.put(_event(2, 2000, event_type="SLA_WARNING", GSI2PK="EVENTS#2026-03-02T08"))
    table.put(_event(3, 3000, GSI2PK="EVENTS#2026-03-02T09"))

    page = table.query("EVENTS#2026-03-02T08", sk_gte(1500), index="GSI2")

    assert [i["eventType"] for i in page.items] == ["SLA_WARNING"]


def test_string_index_of_the_control_table(make_table):
    table = make_table("control")
    for pid, day in [("b", 2), ("a", 3), ("b", 1), ("c", 1)]:
        table.put(
            _item(
                f"TRIGGER#cron#2026-03-0{day}",
                pk=f"PIPELINE#{pid}",
                status="RUNNING",
                GSI1PK="RUNNING",
                GSI1SK=f"{pid}#cron#2026-03-0{day}",
            )
        )
    table.put(_item("TRIGGER#x", pk="PIPELINE#d", GSI1PK="RUNNING"))  # no GSI1SK: not in the index
    table.put(_item("TRIGGER#y", pk="PIPELINE#d", GSI1SK="d#cron"))  # no GSI1PK either
    table.put(_item("CONFIG", pk="PIPELINE#a", GSI1PK="CONFIGS", GSI1SK="a"))

    def keys(**kw: Any) -> list[str]:
        return [i["GSI1SK"] for i in table.query("RUNNING", index="GSI1", **kw).items]

    assert keys() == [
        "a#cron#2026-03-03",
        "b#cron#2026-03-01",
        "b#cron#2026-03-02",
        "c#cron#2026-03-01",
    ]
    assert keys(sk=begins_with("b#")) == ["b#cron#2026-03-01", "b#cron#2026-03-02"]
    assert keys(descending=True, limit=2) == ["c#cron#2026-03-01", "b#cron#2026-03-02"]
    assert table.count("RUNNING", index="GSI1") == 4

    # Leaving the index: an update that removes the index key drops the item from it.
    table.update(
        "PIPELINE#b", "TRIGGER#cron#2026-03-01", set={"status": "COMPLETED"}, remove=["GSI1PK"]
    )
    assert keys() == ["a#cron#2026-03-03", "b#cron#2026-03-02", "c#cron#2026-03-01"]


def test_an_unknown_index_is_a_store_error(make_table):
    with pytest.raises(StoreError):
        make_table("joblog").query(PK, index="GSI1")
    with pytest.raises(StoreError):
        make_table("control").query(PK, index="GSI9")


def test_a_null_index_key_is_refused(make_table):
    table = make_table("events")

    with _refused():
        table.put(_event(1, None))

    assert table.get("PIPELINE#p1", "0001#JOB_FAILED#u1") is None


def test_a_wrongly_typed_index_key_is_refused(make_table):
    cases: list[tuple[str, dict[str, Any]]] = [
        ("events", {"eventType": "JOB_FAILED", "timestamp": "2026-03-02T08:00:00Z"}),
        ("events", {"eventType": "JOB_FAILED", "timestamp": True}),
        ("events", {"eventType": 7, "timestamp": 1}),
        ("events", {"GSI2PK": "EVENTS#2026-03-02T08", "timestamp": "soon"}),
        ("control", {"GSI1PK": "RUNNING", "GSI1SK": 5}),
        ("control", {"GSI1PK": "", "GSI1SK": "x"}),
        ("control", {"GSI1PK": ["RUNNING"]}),  # wrong even without the other key
    ]
    for table_name, attrs in cases:
        table = make_table(table_name)

        with _refused():
            table.put(_item("BAD#1", **attrs))

        assert table.get(PK, "BAD#1") is None, attrs
    with _refused():  # an update may not give an index key a wrong type either
        make_table("control").update(PK, "BAD#2", set={"GSI1SK": 5})
    assert make_table("control").get(PK, "BAD#2") is None


# --------------------------------------------------------------------------------------- TTL


def test_an_item_past_its_ttl_is_invisible_and_absent(make_table, clock):
    table = make_table("control")
    table.put(_item("TRIGGER#old", status="RUNNING", ttl=int(clock()) - 1))
    table.put(_item("TRIGGER#now", status="RUNNING", ttl=clock()))  # at now: expired already
    table.put(_item("TRIGGER#live", status="RUNNING", ttl=int(clock()) + 60))

    assert table.get(PK, "TRIGGER#old") is None
    assert table.get(PK, "TRIGGER#now") is None
    assert _sks(table.query(PK, begins_with("TRIGGER#"))) == ["TRIGGER#live"]
    assert table.count(PK, begins_with("TRIGGER#")) == 1

    table.put(_item("TRIGGER#old", status="RUNNING", by="new"), condition=absent())
    assert table.get(PK, "TRIGGER#old") == _item("TRIGGER#old", status="RUNNING", by="new")


def test_advancing_the_clock_expires_a_live_item(make_table, clock):
    table = make_table("control")
    table.put(_item("TRIGGER#t", status="RUNNING", ttl=int(clock()) + 60))
    table.put(_item("SENSOR#forever", v=1))
    table.put(_item("SENSOR#string-ttl", v=1, ttl="1970-01-01"))  # only a Number ttl expires

    clock.advance(59)
    assert table.get(PK, "TRIGGER#t") is not None
    clock.advance(1)
    assert table.get(PK, "TRIGGER#t") is None
    with pytest.raises(ConflictError):
        table.update(PK, "TRIGGER#t", set={"status": "COMPLETED"}, condition=exists())
    with pytest.raises(ConflictError):
        table.delete(PK, "TRIGGER#t", condition=exists())

    clock.advance(10 * 365 * 86400)
    assert table.get(PK, "SENSOR#forever") == _item("SENSOR#forever", v=1)
    assert table.get(PK, "SENSOR#string-ttl") is not None


def test_writes_treat_an_expired_item_as_gone(make_table, clock):
    table = make_table("control")
    table.put(_item("TRIGGER#w", status="RUNNING", attempt=3, ttl=int(clock()) + 10))
    clock.advance(20)

    new = table.update(PK, "TRIGGER#w", set={"status": "RUNNING"}, add={"attempt": 1})

    assert new == _item("TRIGGER#w", status="RUNNING", attempt=1)  # nothing merged from the old one
    table.put(_item("TRIGGER#gone", ttl=int(clock()) - 5))
    assert table.delete(PK, "TRIGGER#gone") is None


def test_a_ttl_purge_shows_in_the_feed_as_remove(make_table, clock):
    table = make_table("control")
    expired = _item("TRIGGER#p", status="RUNNING", ttl=int(clock()) + 30)
    table.put(expired)
    clock.advance(31)
    start = _position(table)

    # GIVEN the item expired WHEN it is read, then rewritten (each driver purges lazily: on the read,
    # on the write that meets it, or both)
    assert table.get(PK, "TRIGGER#p") is None
    table.put(_item("TRIGGER#p", status="RUNNING", by="next"), condition=absent())

    # THEN the feed shows the purge as a REMOVE of the expired item, then an INSERT of the new one
    records = [
        r for r in _feed_from(table, start) if r["dynamodb"]["Keys"]["SK"] == {"S": "TRIGGER#p"}
    ]
    assert [r["eventName"] for r in records] == ["REMOVE", "INSERT"]
    assert _images(records[0]) == (marshal_item(normalize_item(expired)), None)
    assert _images(records[1]) == (
        None,
        marshal_item(_item("TRIGGER#p", status="RUNNING", by="next")),
    )


# ------------------------------------------------------------------------------ change feed


def test_feed_records_insert_modify_remove_in_stream_shape(make_table):
    table = make_table("control")
    start = _position(table)
    first = _item("SENSOR#f", data={"count": 1, "ratio": 0.5})
    second = _item("SENSOR#f", data={"count": 2}, tag="x")

    table.put(first)
    table.put(second)
    table.delete(PK, "SENSOR#f")

    records = _feed_from(table, start)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    for record in records:
        assert record["eventSource"] == "aws:dynamodb"
        assert isinstance(record["eventID"], str) and record["eventID"]
        assert isinstance(record["awsRegion"], str)
        body = record["dynamodb"]
        assert body["Keys"] == {"PK": {"S": PK}, "SK": {"S": "SENSOR#f"}}
        assert body["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert body["SequenceNumber"].isdigit()
        assert isinstance(body["ApproximateCreationDateTime"], int | float)
        assert isinstance(body["SizeBytes"], int) and body["SizeBytes"] > 0
    assert _images(records[0]) == (None, marshal_item(first))
    assert _images(records[1]) == (marshal_item(first), marshal_item(second))
    assert _images(records[2]) == (marshal_item(second), None)
    assert records[0]["dynamodb"]["NewImage"]["data"] == {
        "M": {"count": {"N": "1"}, "ratio": {"N": "0.5"}}
    }
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequence == sorted(sequence) and len(set(sequence)) == 3
    assert len({r["eventID"] for r in records}) == 3


def test_feed_reads_only_records_after_a_position(make_table):
    table = make_table("joblog")
    start = _position(table)
    for i in range(5):
        table.put(_item(f"JOB#cron#2026-03-02#{i}", event="started"))

    first = table.changes(start, limit=2)
    assert len(first.records) == 2
    # the position survives JSON (a tailer stores it to resume after a restart)
    resumed = json.loads(json.dumps(first.position))
    rest = _feed_from(table, resumed)

    got = [r["dynamodb"]["Keys"]["SK"]["S"] for r in first.records + rest]
    assert got == [f"JOB#cron#2026-03-02#{i}" for i in range(5)]

    end = _position(table)
    assert table.changes(end).records == []
    table.put(_item("JOB#cron#2026-03-02#5", event="started"))
    assert [r["dynamodb"]["Keys"]["SK"]["S"] for r in table.changes(end).records] == [
        "JOB#cron#2026-03-02#5"
    ]


def test_feed_records_of_listed_partitions_come_without_images(make_table):
    # (not an EMBEDDED_PARTITIONS key: the SQLite driver writes no record at all for those)
    table = make_table("control")
    start = _position(table)
    table.put(_item("SENSOR#a", count=1))
    table.put(_item("snap-1", pk="SNAPSHOT", snapshot="{...}"))
    table.put(_item("snap-1", pk="SNAPSHOT", snapshot="{... more}"))
    records = table.changes(start, limit=10, images_except=("SNAPSHOT",)).records
    assert [r["dynamodb"]["Keys"]["PK"]["S"] for r in records] == ["PIPELINE#contract"] + [
        "SNAPSHOT"
    ] * 2
    assert records[0]["dynamodb"]["NewImage"]["count"] == {"N": "1"}
    for record in records[1:]:
        assert "NewImage" not in record["dynamodb"] and "OldImage" not in record["dynamodb"]
        assert record["dynamodb"]["Keys"]["SK"] == {"S": "snap-1"}
    assert [r["eventName"] for r in records] == ["INSERT", "INSERT", "MODIFY"]


def test_feed_of_update_and_what_writes_nothing(make_table):
    table = make_table("control")
    table.put(_item("RUN#f", status="RUNNING", attempt=1))
    start = _position(table)

    table.update(PK, "RUN#f", set={"status": "COMPLETED"}, add={"attempt": 1})
    with pytest.raises(ConflictError):
        table.put(_item("RUN#f"), condition=absent())
    with pytest.raises(ConflictError):
        table.update(PK, "RUN#f", set={"x": 1}, condition=equals("status", "RUNNING"))
    assert table.delete(PK, "RUN#never") is None
    with _refused():
        table.put(_item("RUN#bad", v=float("nan")))

    records = _feed_from(table, start)
    assert [r["eventName"] for r in records] == ["MODIFY"]
    assert _images(records[0]) == (
        marshal_item(_item("RUN#f", status="RUNNING", attempt=1)),
        marshal_item(_item("RUN#f", status="COMPLETED", attempt=2)),
    )


def test_a_write_that_changes_nothing_writes_no_record(make_table):
    # DynamoDB Streams: "If you perform a PutItem or UpdateItem operation that does not change any
    # data in an item, DynamoDB Streams does not write a stream record for that operation."
    table = make_table("control")
    table.put(_item("SENSOR#same", data={"n": 1, "x": 0.5}))
    start = _position(table)

    table.put(_item("SENSOR#same", data={"x": Decimal("0.50"), "n": 1.0}))
    table.update(PK, "SENSOR#same", set={"data": {"n": 1, "x": 0.5}})

    assert _feed_from(table, start) == []
    assert table.get(PK, "SENSOR#same") == _item("SENSOR#same", data={"n": 1, "x": Decimal("0.5")})


def test_each_stream_has_its_own_feed(make_table):
    control, joblog = make_table("control"), make_table("joblog")
    control_start, joblog_start = _position(control), _position(joblog)

    control.put(_item("SENSOR#c"))
    joblog.put(_item("JOB#j"))

    assert [r["dynamodb"]["Keys"]["SK"]["S"] for r in _feed_from(control, control_start)] == [
        "SENSOR#c"
    ]
    assert [r["dynamodb"]["Keys"]["SK"]["S"] for r in _feed_from(joblog, joblog_start)] == ["JOB#j"]


def test_a_table_without_a_stream_has_no_feed(make_table):
    for name in ("rerun", "events"):
        table = make_table(name)
        table.put(_item("RERUN#1"))

        with pytest.raises(StoreError):
            table.changes()


def test_the_feed_starts_empty(make_table):
    batch = make_table("joblog").changes()

    assert batch.records == []


# ------------------------------------------------------------------------------ concurrency


def _second_handle(store: Any, driver: str, clock: Any) -> Any:
    """Another handle on the same data: SQLite opens the file again (its own connection, as a second
    process would); the boto3 driver is thread-safe, so both threads share the store."""
    if driver == "sqlite":
        from interlock.store.sqlite import SQLiteStore

        return SQLiteStore(store.path, now=clock)
    return None


def test_racing_conditional_puts_let_exactly_one_writer_win_each_key(store, driver, clock):
    other = _second_handle(store, driver, clock)
    tables = [store.table("control"), (other or store).table("control")]
    keys = [f"TRIGGER#cron#2026-03-{i:02d}" for i in range(50)]
    barrier = threading.Barrier(2, timeout=30)
    wins: list[list[str]] = [[], []]
    conflicts: list[list[str]] = [[], []]
    errors: list[BaseException] = []

    def race(n: int) -> None:
        try:
            for sk in keys:
                barrier.wait()
                try:
                    tables[n].put(_item(sk, status="RUNNING", writer=n), condition=absent())
                    wins[n].append(sk)
                except ConflictError:
                    conflicts[n].append(sk)
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=race, args=(n,)) for n in (0, 1)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        if other is not None:
            other.close()

    assert not errors, errors
    assert sorted(wins[0] + wins[1]) == sorted(keys)  # every key won exactly once …
    assert sorted(conflicts[0] + conflicts[1]) == sorted(keys)  # … and lost exactly once
    table = store.table("control")
    for n in (0, 1):
        for sk in wins[n]:
            got = table.get(PK, sk)
            assert got is not None and got["writer"] == n
