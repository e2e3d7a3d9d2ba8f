"""``interlock.names.safe_name``: the one naming rule of executions and timers."""

from __future__ import annotations

import re

import pytest

from interlock.names import HASH_CHARS, safe_name

SAFE = re.compile(r"^[A-Za-z0-9_-]+$")


def test_a_safe_short_name_is_kept() -> None:
    assert safe_name("orders", "-stream-2026-03-07-a1", limit=80) == "orders-stream-2026-03-07-a1"


def test_unsafe_characters_are_replaced_and_a_hash_keeps_ids_apart() -> None:
    a = safe_name("orders.eu", "-a1", limit=80)
    b = safe_name("orders/eu", "-a1", limit=80)
    assert SAFE.match(a) and SAFE.match(b)
    assert a != b
    assert a.startswith("orders_eu-") and a.endswith("-a1")


def test_a_long_head_is_cut_the_tail_stays_whole() -> None:
    name = safe_name("p" * 200, "-stream-2026-03-07T10-a12", limit=80)
    assert len(name) == 80
    assert name.endswith("-stream-2026-03-07T10-a12")
    assert name.count("-") >= 1 and len(name.split("-")[1]) == HASH_CHARS


def test_the_hash_key_can_be_given() -> None:
    assert safe_name("cron-" + "x" * 90, limit=64, key="a") != safe_name(
        "cron-" + "x" * 90, limit=64, key="b"
    )
    assert len(safe_name("cron-" + "x" * 90, limit=64, key="a")) == 64


def test_a_tail_longer_than_the_limit_is_cut_from_the_left() -> None:
    assert len(safe_name("p", "-" + "t" * 100, limit=20)) == 20


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        safe_name("p", limit=0)
