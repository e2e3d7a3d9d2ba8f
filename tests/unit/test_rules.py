"""Tests for the readiness-rule engine (``interlock.rules``): semantics, reasons, display and properties."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from interlock.config.models import CheckName, Rule, Validation
from interlock.rules import (
    Evaluation,
    RuleResult,
    describe,
    evaluate,
    evaluate_rule,
    sensor_fields,
)

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
# 11:24 UTC, 36 minutes before NOW, in the forms producers write.
TS = datetime(2024, 5, 1, 11, 24, tzinfo=UTC)
TS_SECONDS = int(TS.timestamp())
TS_MILLIS = TS_SECONDS * 1000


def rule(check: str, value: Any = None, *, key: str = "s", field: str | None = "f") -> Rule:
    """A validated rule on sensor ``s`` (field ``f`` unless told)."""
    return Rule(key=key, check=check, field=field, value=value)


def run(r: Rule, actual: Any, now: datetime = NOW) -> RuleResult:
    """Evaluate ``r`` against sensor ``s`` whose field ``f`` holds ``actual``."""
    return evaluate_rule(r, {"s": {"f": actual}}, now)


def validation(trigger: str, *rules: Rule) -> Validation:
    return Validation(trigger=trigger, rules=rules)


ALL_CHECKS: list[tuple[str, Any]] = [
    ("exists", None),
    ("equals", "ready"),
    ("gt", 1),
    ("gte", 1),
    ("lt", 1),
    ("lte", 1),
    ("age_lt", "2h"),
    ("age_gt", "2h"),
]

# ------------------------------------------------------------------------------- combining rules


def test_zero_rules_all_passes_vacuously() -> None:
    result = evaluate(Validation(), {}, NOW)
    assert result.passed is True
    assert result.mode == "ALL"
    assert result.results == ()
    assert result.passed_count == 0
    assert repr(result) == "<Evaluation ALL ready: no rules>"


def test_zero_rules_any_cannot_pass() -> None:
    # The loader refuses this combination; the engine still gives the safe answer.
    any_empty = Validation.model_construct(trigger="ANY", rules=())
    result = evaluate(any_empty, {"s": {"f": 1}}, NOW)
    assert result.passed is False
    assert repr(result) == "<Evaluation ANY not ready: no rules>"


def test_any_passes_with_one_passing_rule() -> None:
    v = validation("ANY", rule("exists", key="a", field=None), rule("exists", key="b", field=None))
    result = evaluate(v, {"b": {}}, NOW)
    assert result.passed is True
    assert result.passed_count == 1
    assert [r.passed for r in result.results] == [False, True]
    assert result.failed == (result.results[0],)
    assert repr(result) == "<Evaluation ANY ready: 1/2 rules pass>"


def test_any_fails_when_no_rule_passes() -> None:
    v = validation("ANY", rule("exists", key="a", field=None), rule("exists", key="b", field=None))
    result = evaluate(v, {}, NOW)
    assert result.passed is False
    assert len(result.failed) == 2


def test_all_fails_when_one_rule_fails_and_reports_every_rule_in_order() -> None:
    v = validation(
        "ALL",
        rule("gte", 1000, key="row-count", field="count"),
        rule("equals", "ready", key="upstream", field="status"),
        rule("age_lt", "2h", key="freshness", field="updatedAt"),
    )
    sensors: dict[str, dict[str, Any]] = {
        "row-count": {"count": 15432},
        "upstream": {"status": "ready"},
        "freshness": {"updatedAt": "2024-05-01T09:29:00Z"},
    }
    result = evaluate(v, sensors, NOW)
    assert result.passed is False
    assert [r.rule for r in result.results] == list(v.rules)
    assert result.passed_count == 2
    assert result.evaluated_at == NOW
    assert repr(result) == (
        "<Evaluation ALL not ready: 2/3 rules pass (freshness.updatedAt age 2h31m exceeds 2h)>"
    )


def test_repr_counts_further_failures() -> None:
    v = validation("ALL", rule("exists", key="a", field=None), rule("exists", key="b", field=None))
    assert repr(evaluate(v, {}, NOW)) == (
        "<Evaluation ALL not ready: 0/2 rules pass (sensor a missing; 1 more failing)>"
    )
    one = validation("ALL", rule("exists", key="a", field=None))
    assert repr(evaluate(one, {"a": {}}, NOW)) == "<Evaluation ALL ready: 1/1 rule passes>"


def test_one_now_for_every_rule() -> None:
    v = validation("ALL", rule("age_lt", "1h", field="a"), rule("age_gt", "1h", field="b"))
    result = evaluate(v, {"s": {"a": TS_SECONDS, "b": TS_SECONDS}}, NOW)
    assert [r.age for r in result.results] == [timedelta(minutes=36)] * 2


@pytest.mark.parametrize("call", ["evaluate", "evaluate_rule"])
def test_naive_now_is_refused(call: str) -> None:
    naive = datetime(2024, 5, 1, 12, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        if call == "evaluate":
            evaluate(Validation(), {}, naive)
        else:
            evaluate_rule(rule("exists", field=None), {}, naive)


def test_results_are_frozen() -> None:
    result = run(rule("exists"), 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.passed = False  # type: ignore[misc]
    evaluation = evaluate(Validation(), {}, NOW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        evaluation.passed = False  # type: ignore[misc]


# ------------------------------------------------------------------------ missing sensors/fields


@pytest.mark.parametrize(("check", "value"), ALL_CHECKS)
@pytest.mark.parametrize("sensors", [{}, {"s": None}, {"other": {"f": 1}}])
def test_missing_sensor_fails_every_check(
    check: str, value: Any, sensors: dict[str, dict[str, Any] | None]
) -> None:
    result = evaluate_rule(rule(check, value), sensors, NOW)
    assert result.passed is False
    assert result.actual is None
    assert result.reason == "sensor s missing"


@pytest.mark.parametrize(("check", "value"), ALL_CHECKS)
def test_missing_field_fails_and_lists_present_fields(check: str, value: Any) -> None:
    result = evaluate_rule(rule(check, value), {"s": {"b": 1, "a": 2}}, NOW)
    assert result.passed is False
    assert result.actual is None
    assert result.reason == "s.f missing (present: a, b)"


@pytest.mark.parametrize(("check", "value"), ALL_CHECKS)
def test_null_field_fails(check: str, value: Any) -> None:
    result = run(rule(check, value), None)
    assert result.passed is False
    assert result.reason == "s.f is null"


def test_missing_field_hint_for_empty_and_large_sensors() -> None:
    r = rule("gte", 1)
    assert evaluate_rule(r, {"s": {}}, NOW).reason == "s.f missing (the sensor has no fields)"
    many = {f"x{i}": i for i in range(12)}
    assert evaluate_rule(r, {"s": many}, NOW).reason == "s.f missing (12 other fields present)"


def test_field_names_are_literal_not_paths() -> None:
    r = rule("equals", 1, field="a.b")
    assert evaluate_rule(r, {"s": {"a.b": 1}}, NOW).passed is True
    assert evaluate_rule(r, {"s": {"a": {"b": 1}}}, NOW).passed is False


# ------------------------------------------------------------------------------------------ exists


def test_exists_without_field_passes_iff_sensor_exists() -> None:
    r = rule("exists", field=None, key="orders-landed")
    present = evaluate_rule(r, {"orders-landed": {}}, NOW)
    assert (present.passed, present.reason, present.actual) == (
        True,
        "sensor orders-landed exists",
        None,
    )
    assert evaluate_rule(r, {}, NOW).reason == "sensor orders-landed missing"


def test_exists_with_empty_field_means_no_field() -> None:
    assert evaluate_rule(rule("exists", field=""), {"s": {}}, NOW).passed is True


def test_exists_with_field() -> None:
    r = rule("exists")
    present = run(r, 0)
    assert (present.passed, present.actual, present.reason) == (True, 0, "s.f present")
    assert run(r, False).passed is True  # falsy values are present
    assert run(r, None).reason == "s.f is null"
    absent = evaluate_rule(r, {"s": {"g": 1}}, NOW)
    assert (absent.passed, absent.reason) == (False, "s.f missing (present: g)")
    assert evaluate_rule(r, {}, NOW).reason == "sensor s missing"


# ------------------------------------------------------------------------------------------ equals

EQUALS_CASES: list[tuple[Any, Any, bool]] = [
    ("ready", "ready", True),
    ("Ready", "ready", False),  # case-sensitive
    ("ready ", "ready", False),
    ("1000000", 1000000, True),  # the original's %v bug: "1000000" vs 1e+06
    (1000000, "1000000", True),
    (42, 42.0, True),
    (42.0, 42, True),
    (Decimal("42"), 42, True),
    (Decimal("42.000"), "42", True),
    ("1e3", 1000, True),
    ("1E+3", 1000.0, True),
    (10**20, "100000000000000000000", True),
    (10**20 + 1, 10**20, False),
    ("100000000000000000001", 10**20, False),
    (float(10**20), 10**20, True),
    (0.1, "0.1", True),
    (Decimal("0.1"), 0.1, True),
    ("0.1", 0.1, True),
    (0.30000000000000004, 0.3, False),
    (-0.0, 0, True),
    ("007", 7, True),
    ("1.10", "1.1", False),  # two strings compare as text
    ("1_000", 1000, False),
    (" 42", 42, False),
    ("abc", 42, False),
    (42, "abc", False),
    (True, True, True),
    (False, False, True),
    (True, False, False),
    (True, "true", True),
    (True, "TRUE", True),
    ("False", False, True),
    ("false", True, False),
    (True, "yes", False),
    (True, 1, False),
    (1, True, False),
    (0, False, False),
    (Decimal("1"), True, False),
    ("1", True, False),
    (True, "1", False),
    (math.nan, "nan", False),
    ("nan", math.nan, False),
    (math.inf, math.inf, False),
    (Decimal("Infinity"), "inf", False),
    ("inf", 1, False),
    ([1], "1", False),
    ({"a": 1}, "a", False),
]


@pytest.mark.parametrize(("actual", "expected", "passes"), EQUALS_CASES)
def test_equals(actual: Any, expected: Any, passes: bool) -> None:
    result = run(rule("equals", expected), actual)
    assert result.passed is passes
    assert result.actual is actual


def test_equals_reasons() -> None:
    r = rule("equals", "ready", key="upstream-complete", field="status")
    ok = evaluate_rule(r, {"upstream-complete": {"status": "ready"}}, NOW)
    assert ok.reason == "upstream-complete.status = 'ready'"
    bad = evaluate_rule(r, {"upstream-complete": {"status": "pending"}}, NOW)
    assert bad.reason == "upstream-complete.status = 'pending', expected 'ready'"
    assert run(rule("equals", 1000), Decimal("1000")).reason == "s.f = 1000"


@pytest.mark.parametrize(
    ("actual", "expected", "note"),
    [
        (True, 1, "(a boolean never equals a number)"),
        (1, True, "(a boolean never equals a number)"),
        ("1", False, "(a boolean never equals a number)"),
        (math.nan, 1.0, "(NaN and infinity never equal anything)"),
        ("inf", 1, "(NaN and infinity never equal anything)"),
        ([1, 2], "a", "(a list never equals a scalar)"),
    ],
)
def test_equals_explains_surprising_mismatches(actual: Any, expected: Any, note: str) -> None:
    result = run(rule("equals", expected), actual)
    assert result.passed is False
    assert result.reason.endswith(note)


def test_equals_shows_booleans_and_null_like_json() -> None:
    assert run(rule("equals", "ready"), True).reason == "s.f = true, expected 'ready'"
    assert run(rule("equals", False), "no").reason == "s.f = 'no', expected false"


def test_equals_takes_str_subclasses_as_strings() -> None:
    class Status(StrEnum):
        READY = "ready"

    assert run(rule("equals", "ready"), Status.READY).passed is True
    assert run(rule("equals", "Ready"), Status.READY).passed is False
    assert run(rule("equals", 1), Status.READY).passed is False


def test_equals_with_huge_values_never_raises() -> None:
    huge = 10**5000
    assert run(rule("equals", 1), huge).reason == "s.f = <int too large to show>, expected 1"
    assert run(rule("equals", 1), "9" * 5000).passed is False
    assert run(rule("equals", "9" * 5000), 1).passed is False


# ------------------------------------------------------------------------------- gt/gte/lt/lte

NUMERIC_CASES: list[tuple[str, Any, Any, bool]] = [
    ("gte", 15432, 1000, True),
    ("gte", 1000, 1000, True),
    ("gte", 999, 1000, False),
    ("gt", 1000, 1000, False),
    ("gt", 1001, 1000, True),
    ("lt", 999, 1000, True),
    ("lt", 1000, 1000, False),
    ("lte", 1000, 1000, True),
    ("lte", 1001, 1000, False),
    ("gte", "15432", 1000, True),
    ("gte", "1e3", 1000, True),
    ("gte", "-5", 0, False),
    ("gte", Decimal("15432"), 1000, True),
    ("gte", Decimal("999.99"), 1000, False),
    ("gte", 999.5, 1000, False),
    ("gte", 1000.0, "1000", True),
    ("gt", 10**20 + 1, "100000000000000000000", True),
    ("gt", 10**20, "100000000000000000000", False),
    ("gt", "100000000000000000001", 10**20, True),
    ("gt", 2**53 + 1, 2**53, True),
    ("gte", float(2**53), 2**53 + 1, False),
    ("gt", 1e20, 10**20, False),
    ("gte", 1e20, 10**20, True),
    ("lte", Decimal("0.1"), 0.1, True),
    ("gt", Decimal("0.1"), 0.1, False),
    ("gte", 0.1, "0.1", True),
    ("gt", 0.30000000000000004, 0.3, True),
    ("lt", 0.3, "0.30000000000000001", True),  # a float is the decimal it prints as: 0.3
    ("lt", "0.3", "0.30000000000000001", True),
    ("gte", 0.30000000000000001, "0.3", True),  # the same float as 0.3
    ("lt", -5, 0, True),
    ("lt", -0.0, 0, False),
]


@pytest.mark.parametrize(("check", "actual", "threshold", "passes"), NUMERIC_CASES)
def test_numeric_checks(check: str, actual: Any, threshold: Any, passes: bool) -> None:
    result = run(rule(check, threshold), actual)
    assert result.passed is passes
    assert result.actual is actual


def test_numeric_reasons_read_clearly() -> None:
    r = rule("gte", 1000, key="row-count", field="count")
    ok = evaluate_rule(r, {"row-count": {"count": 15432}}, NOW)
    assert ok.reason == "row-count.count = 15432 ≥ 1000"
    low = evaluate_rule(r, {"row-count": {"count": 12}}, NOW)
    assert low.reason == "row-count.count = 12 < 1000 (needs ≥ 1000)"
    assert run(rule("gt", 1000), 1000).reason == "s.f = 1000 (needs > 1000)"
    assert run(rule("lte", 1000), "2000").reason == "s.f = '2000' > 1000 (needs ≤ 1000)"
    assert run(rule("lt", 0.5), Decimal("0.25")).reason == "s.f = 0.25 < 0.5"


@pytest.mark.parametrize(
    ("actual", "reason"),
    [
        ("abc", "s.f = 'abc' is not a number"),
        ("", "s.f = '' is not a number"),
        ("1_000", "s.f = '1_000' is not a number"),
        (" 42", "s.f = ' 42' is not a number"),
        (True, "s.f = true is not a number (booleans are not numbers)"),
        ([1], "s.f = [1] is not a number"),
        ({"n": 1}, "s.f = {'n': 1} is not a number"),
        (math.nan, "s.f = nan is not a finite number"),
        (-math.inf, "s.f = -inf is not a finite number"),
        ("Infinity", "s.f = 'Infinity' is not a finite number"),
        (Decimal("NaN"), "s.f = NaN is not a finite number"),
        ("1e999999999999999999999", "s.f = '1e999999999999999999999' is not a finite number"),
    ],
)
def test_numeric_checks_refuse_non_numbers(actual: Any, reason: str) -> None:
    result = run(rule("gte", 1), actual)
    assert result.passed is False
    assert result.reason == reason


def test_numeric_checks_with_huge_numbers_never_raise() -> None:
    assert run(rule("gt", 1), 10**5000).passed is True
    assert run(rule("lt", 1), "9" * 5000).passed is False
    # Rule's own validator cannot take an int beyond float's range (OverflowError), so build it directly.
    beyond_float = Rule.model_construct(key="s", check=CheckName.GT, field="f", value=10**400)
    assert run(beyond_float, 1.5).passed is False
    assert run(beyond_float, 10**400 + 1).passed is True


def test_long_values_are_shortened_in_reasons() -> None:
    result = run(rule("gte", 1), "x" * 500)
    assert result.passed is False
    assert len(result.reason) < 120
    assert result.actual == "x" * 500  # the value itself is kept whole


# ------------------------------------------------------------------------------------- age checks


@pytest.mark.parametrize(
    "stamp",
    [
        "2024-05-01T11:24:00Z",
        "2024-05-01T11:24:00.000Z",
        "2024-05-01T11:24:00.000000000Z",
        "2024-05-01T13:24:00+02:00",
        "2024-05-01T06:24:00-05:00",
        "2024-05-01T11:24:00+00:00",
        "2024-05-01T11:24:00-00:00",
        "2024-05-01T11:24:00+0000",
        "2024-05-01 11:24:00Z",
        "2024-05-01t11:24:00z",
        TS_SECONDS,
        float(TS_SECONDS),
        Decimal(TS_SECONDS),
        str(TS_SECONDS),
        TS_MILLIS,
        Decimal(TS_MILLIS),
        float(TS_MILLIS),
        str(TS_MILLIS),
    ],
)
def test_age_accepts_rfc3339_and_epoch_forms(stamp: Any) -> None:
    result = run(rule("age_lt", "2h"), stamp)
    assert result.passed is True
    assert result.age == timedelta(minutes=36)
    assert result.reason == "s.f age 36m < 2h"
    assert run(rule("age_gt", "30m"), stamp).passed is True


def test_age_keeps_fractional_seconds() -> None:
    assert run(rule("age_lt", "1s"), "2024-05-01T11:59:59.25Z").age == timedelta(seconds=0.75)
    assert run(rule("age_lt", "1s"), TS_SECONDS + 0.5).age == timedelta(minutes=36) - timedelta(
        seconds=0.5
    )
    assert run(rule("age_lt", "1h"), Decimal(TS_MILLIS) + Decimal("250")).age == timedelta(
        minutes=35, seconds=59.75
    )


def test_epoch_unit_switches_to_milliseconds_at_1e11() -> None:
    seconds = run(rule("age_gt", "1h"), 99_999_999_999)  # year 5138, in seconds: the future
    assert seconds.age is not None and seconds.age < timedelta(0)
    millis = run(rule("age_gt", "1h"), 100_000_000_000)  # 1973-03-03, in milliseconds
    assert millis.age == NOW - datetime(1973, 3, 3, 9, 46, 40, tzinfo=UTC)
    assert millis.passed is True
    negative = run(rule("age_gt", "1h"), -100_000_000_000)  # 1966, in milliseconds
    assert negative.age == NOW - datetime(1966, 10, 31, 14, 13, 20, tzinfo=UTC)


def test_age_is_measured_from_now_in_any_zone() -> None:
    now_in_india = NOW.astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert run(rule("age_lt", "1h"), "2024-05-01T11:24:00Z", now_in_india).age == timedelta(
        minutes=36
    )


@pytest.mark.parametrize("check", ["age_lt", "age_gt"])
@pytest.mark.parametrize(
    ("stamp", "problem"),
    [
        ("2024-05-01T11:24:00", "has no time zone offset"),
        ("2024-05-01 11:24:00.5", "has no time zone offset"),
        ("2024-05-01", "is not a timestamp"),
        ("yesterday", "is not a timestamp"),
        ("2024-05-01T11:24Z", "is not a timestamp"),
        ("", "is not a timestamp"),
        ("2024-13-01T00:00:00Z", "is not a valid timestamp"),
        ("2024-05-01T11:24:00+25:00", "is not a valid timestamp"),
        (True, "is not a timestamp"),
        ([TS_SECONDS], "is not a timestamp"),
        (math.nan, "is not a finite number"),
        (Decimal("Infinity"), "is not a finite number"),
        ("nan", "is not a finite number"),
        (10**20, "is out of the supported date range"),
        (9 * 10**15, "is out of the supported date range"),
        (-(10**17), "is out of the supported date range"),
        (Decimal("1e999999"), "is out of the supported date range"),
    ],
)
def test_age_refuses_what_is_not_an_instant(check: str, stamp: Any, problem: str) -> None:
    result = run(rule(check, "2h"), stamp)
    assert result.passed is False
    assert result.age is None
    assert problem in result.reason
    assert result.reason.startswith("s.f = ")


def test_age_refuses_a_huge_integer() -> None:
    result = run(rule("age_lt", "2h"), 10**5000)
    assert (result.passed, result.reason) == (
        False,
        "s.f = <int too large to show> is out of the supported date range",
    )


def test_age_reasons() -> None:
    r = rule("age_lt", "2h", key="freshness", field="updatedAt")
    old = evaluate_rule(r, {"freshness": {"updatedAt": "2024-05-01T09:29:00Z"}}, NOW)
    assert (old.passed, old.reason) == (False, "freshness.updatedAt age 2h31m exceeds 2h")
    assert old.age == timedelta(hours=2, minutes=31)
    assert run(rule("age_gt", "2h"), "2024-05-01T09:00:00Z").reason == "s.f age 3h > 2h"
    assert run(rule("age_gt", "2h"), TS_SECONDS).reason == "s.f age 36m is not over 2h"


def test_age_checks_are_strict_at_the_threshold() -> None:
    exactly = "2024-05-01T10:00:00Z"
    lt, gt = run(rule("age_lt", "2h"), exactly), run(rule("age_gt", "2h"), exactly)
    assert (lt.passed, gt.passed) == (False, False)
    assert lt.reason == "s.f age 2h is not under 2h"
    assert gt.reason == "s.f age 2h is not over 2h"


def test_age_near_threshold_shows_exact_seconds() -> None:
    result = run(rule("age_lt", "2h"), "2024-05-01T09:59:30Z")
    assert result.reason == "s.f age 2h (7230s) exceeds 2h"
    result = run(rule("age_lt", "2h"), "2024-05-01T10:00:00.5Z")
    assert result.passed is True
    assert result.reason == "s.f age 2h (7199.5s) < 2h"


def test_future_timestamps_have_negative_age() -> None:
    future = "2024-05-01T12:05:00Z"
    lt = run(rule("age_lt", "2h"), future)
    assert (lt.passed, lt.age, lt.reason) == (
        True,
        timedelta(minutes=-5),
        "s.f is 5m in the future",
    )
    gt = run(rule("age_gt", "2h"), future)
    assert (gt.passed, gt.reason) == (False, "s.f is 5m in the future (needs age > 2h)")
    sub_second = run(rule("age_lt", "2h"), "2024-05-01T12:00:00.5Z")
    assert sub_second.reason == "s.f is 0.5s in the future"


@pytest.mark.parametrize(
    "value",
    [
        "2030-01-01T00:00:00Z",  # a forged/mis-clocked ISO timestamp
        "2030-01-01T00:00:00+02:00",
        int(datetime(2100, 1, 1, tzinfo=UTC).timestamp() * 1000),  # epoch-ms in 2100
        Decimal(int(datetime(2100, 1, 1, tzinfo=UTC).timestamp() * 1000)),  # as DynamoDB returns it
        str(int(datetime(2100, 1, 1, tzinfo=UTC).timestamp())),  # epoch seconds as text
        "2024-05-01T12:05:01Z",  # one second past the default 5m skew
    ],
)
@pytest.mark.parametrize("check", ["age_lt", "age_gt"])
def test_timestamps_beyond_the_clock_skew_fail_both_age_checks(check: str, value: Any) -> None:
    result = run(rule(check, "2h"), value)
    assert result.passed is False
    assert "in the future, beyond the allowed clock skew of 5m" in result.reason
    assert result.age is not None and result.age < -timedelta(minutes=5)
    # The same through a validation (the path the runtime takes).
    evaluation = evaluate(validation("ALL", rule(check, "2h")), {"s": {"f": value}}, NOW)
    assert evaluation.passed is False
    assert evaluation.results[0].reason == result.reason


def test_clock_skew_is_configurable_per_validation() -> None:
    future = "2024-05-01T12:20:00Z"  # 20 minutes ahead
    default = Validation(rules=(rule("age_lt", "2h"),))
    wide = Validation(rules=(rule("age_lt", "2h"),), maxClockSkew="30m")
    zero = Validation(rules=(rule("age_lt", "2h"),), maxClockSkew="0s")
    assert evaluate(default, {"s": {"f": future}}, NOW).passed is False
    assert evaluate(wide, {"s": {"f": future}}, NOW).passed is True
    assert evaluate(wide, {"s": {"f": "2024-05-01T12:31:00Z"}}, NOW).results[0].reason == (
        "s.f is 31m in the future, beyond the allowed clock skew of 30m "
        "(a forged or mis-clocked timestamp never passes)"
    )
    # A zero skew refuses any future timestamp, even one millisecond ahead; the present passes.
    assert evaluate(zero, {"s": {"f": "2024-05-01T12:00:00.001Z"}}, NOW).passed is False
    assert evaluate(zero, {"s": {"f": "2024-05-01T12:00:00Z"}}, NOW).passed is True


@pytest.mark.parametrize("skew", ["-1m", "25h"])
def test_clock_skew_out_of_range_is_refused(skew: str) -> None:
    with pytest.raises(ValueError, match="maxClockSkew"):
        Validation(rules=(rule("age_lt", "2h"),), maxClockSkew=skew)


def test_age_threshold_text_keeps_precision() -> None:
    assert describe(rule("age_lt", "90m")) == "s.f age < 1h30m"
    # format_duration drops seconds past an hour; the rule's own text is used instead.
    assert describe(rule("age_lt", "1h0m30s")) == "s.f age < 1h0m30s"
    assert (
        run(rule("age_lt", "1h0m30s"), "2024-05-01T10:00:00Z").reason
        == "s.f age 2h exceeds 1h0m30s"
    )


# ------------------------------------------------------------------------------------ sensor_fields


def test_sensor_fields_unwraps_a_data_map_and_drops_bookkeeping() -> None:
    item = {
        "PK": "PIPELINE#p",
        "SK": "SENSOR#row-count",
        "ttl": Decimal("1714600000"),
        "data": {"count": Decimal("15432"), "source": "inner"},
        "source": "outer",
        "updatedAt": "2024-05-01T11:24:00Z",
    }
    before = dict(item)
    assert sensor_fields(item) == {
        "count": Decimal("15432"),
        "source": "inner",  # data wins
        "updatedAt": "2024-05-01T11:24:00Z",
    }
    assert item == before  # not mutated


def test_sensor_fields_reads_flat_items_alike() -> None:
    data_map = {"PK": "p", "SK": "s", "data": {"count": Decimal("15432")}}
    flat = {"PK": "p", "SK": "s", "ttl": 1, "count": Decimal("15432")}
    assert sensor_fields(data_map) == sensor_fields(flat) == {"count": Decimal("15432")}
    v = validation("ALL", rule("gte", 1000, key="rows", field="count"))
    for item in (data_map, flat):
        assert evaluate(v, {"rows": sensor_fields(item)}, NOW).passed is True


def test_sensor_fields_keeps_a_non_mapping_data_attribute() -> None:
    assert sensor_fields({"SK": "s", "data": "raw", "n": 1}) == {"data": "raw", "n": 1}
    assert sensor_fields({"data": MappingProxyType({"n": 1})}) == {"n": 1}
    assert sensor_fields({"data": {"ttl": 5, "PK": "x"}}) == {"ttl": 5, "PK": "x"}


def test_decimal_values_work_in_every_check() -> None:
    fields = sensor_fields({"data": {"n": Decimal("42"), "t": Decimal(TS_SECONDS)}})
    sensors = {"s": fields}
    assert evaluate_rule(rule("equals", 42, field="n"), sensors, NOW).passed is True
    assert evaluate_rule(rule("equals", "42", field="n"), sensors, NOW).passed is True
    assert evaluate_rule(rule("gt", 41.5, field="n"), sensors, NOW).passed is True
    assert evaluate_rule(rule("lte", "42", field="n"), sensors, NOW).passed is True
    assert evaluate_rule(rule("age_lt", "1h", field="t"), sensors, NOW).passed is True
    assert evaluate_rule(rule("exists", field="n"), sensors, NOW).passed is True


# ----------------------------------------------------------------------------------------- describe


@pytest.mark.parametrize(
    ("r", "text"),
    [
        (rule("gte", 1000, key="row-count", field="count"), "row-count.count ≥ 1000"),
        (rule("gt", 0.5), "s.f > 0.5"),
        (rule("lt", "10"), "s.f < 10"),
        (rule("lte", -1), "s.f ≤ -1"),
        (
            rule("equals", "ready", key="upstream-complete", field="status"),
            "upstream-complete.status = ready",
        ),
        (rule("equals", True), "s.f = true"),
        (rule("equals", ""), "s.f = ''"),
        (rule("age_lt", "2h", key="freshness", field="updatedAt"), "freshness.updatedAt age < 2h"),
        (rule("age_gt", "30m"), "s.f age > 30m"),
        (rule("exists", key="orders-landed", field=None), "orders-landed exists"),
        (rule("exists", key="orders-landed", field="path"), "orders-landed.path exists"),
    ],
)
def test_describe(r: Rule, text: str) -> None:
    assert describe(r) == text


# -------------------------------------------------------------------- rules that bypassed validation


def test_unvalidated_rules_fail_closed() -> None:
    bad_number = Rule.model_construct(key="s", check=CheckName.GTE, field="f", value="abc")
    result = run(bad_number, 5)
    assert (result.passed, result.reason) == (False, "rule value 'abc' is not a finite number")
    bad_duration = Rule.model_construct(key="s", check=CheckName.AGE_LT, field="f", value=5)
    result = run(bad_duration, TS_SECONDS)
    assert result.passed is False
    assert result.reason.startswith("rule value 5 is not a duration")
    assert describe(bad_duration) == "s.f age < 5"
    unknown = Rule.model_construct(key="s", check="sometimes", field="f", value=1)  # type: ignore[arg-type]
    assert run(unknown, 1).reason == "unknown check 'sometimes'"
    assert describe(unknown) == "s.f sometimes 1"
    no_field = Rule.model_construct(key="s", check=CheckName.EQUALS, field=None, value=1)
    assert run(no_field, 1).passed is False
    no_value = Rule.model_construct(key="s", check=CheckName.EQUALS, field="f", value=None)
    assert run(no_value, 1).reason == "s.f = 1, expected null"


# ------------------------------------------------------------------------------------------ caching


def test_compiled_validations_stay_correct_across_many_objects() -> None:
    # More validations than the cache holds, each dropped after use: ids get reused, results must not.
    for threshold in range(600):
        v = validation("ALL", rule("gte", threshold))
        assert evaluate(v, {"s": {"f": 300}}, NOW).passed is (300 >= threshold)
        r = rule("lt", threshold)
        assert evaluate_rule(r, {"s": {"f": 300}}, NOW).passed is (300 < threshold)


def test_a_10000_pipeline_pass_compiles_each_validation_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN 10,000 live validations (a board or a watchdog pass over 10,000 pipelines), evaluated once
    import interlock.rules as rules_module

    validations = [validation("ALL", rule("gte", n)) for n in range(10_000)]
    for v in validations:
        evaluate(v, {"s": {"f": 5}}, NOW)
    compiled: list[Rule] = []
    real = rules_module._compile

    def counting(r: Rule, *args: Any) -> Any:
        compiled.append(r)
        return real(r, *args)

    monkeypatch.setattr(rules_module, "_compile", counting)
    # WHEN the next pass evaluates them again
    for v in validations:
        evaluate(v, {"s": {"f": 5}}, NOW)
    # THEN nothing is compiled again (a 256-entry cache recompiled all of them, every pass: 40 % of
    # a 1,000-pipeline board's time)
    assert compiled == []


def test_repeated_evaluation_is_stable() -> None:
    v = validation("ALL", rule("equals", "ready"))
    first = evaluate(v, {"s": {"f": "ready"}}, NOW)
    second = evaluate(v, {"s": {"f": "pending"}}, NOW)
    assert (first.passed, second.passed) == (True, False)


# ------------------------------------------------------------------------------------------ display


def _mixed() -> Evaluation:
    v = validation(
        "ALL",
        rule("gte", 1000, key="row-count", field="count"),
        rule("equals", "ready", key="upstream", field="status"),
        rule("exists", key="orders-landed", field=None),
    )
    sensors: dict[str, dict[str, Any]] = {
        "row-count": {"count": 15432},
        "upstream": {"status": "[bold]<b>x</b>\\"},
    }
    return evaluate(v, sensors, NOW)


def test_rule_result_repr() -> None:
    result = _mixed().results[0]
    assert repr(result) == "<RuleResult ✓ row-count.count ≥ 1000: row-count.count = 15432 ≥ 1000>"


def test_rich_markup_has_one_line_per_rule() -> None:
    markup = _mixed().__rich__()
    lines = markup.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("[bold]ALL[/] [bold red]not ready[/]: 1/3 rules pass")
    assert lines[1] == (
        "[green]✓[/] row-count.count ≥ 1000  [dim]actual[/] 15432  row-count.count = 15432 ≥ 1000"
    )
    assert lines[2].startswith("[red]✗[/] upstream.status = ready")
    assert (
        lines[3] == "[red]✗[/] orders-landed exists  [dim]actual[/] —  sensor orders-landed missing"
    )
    ready = evaluate(validation("ALL", rule("exists", field=None)), {"s": {}}, NOW).__rich__()
    assert "[bold green]ready[/]" in ready


def test_rich_renders_sensor_text_literally() -> None:
    console = Console(record=True, width=300, color_system=None)
    console.print(_mixed())
    text = console.export_text()
    assert "upstream.status = '[bold]<b>x</b>\\\\', expected 'ready'" in text
    assert "✓ row-count.count ≥ 1000" in text
    assert "✗ orders-landed exists" in text


def test_rich_markup_keeps_backslashes_and_brackets_literal() -> None:
    tricky = "x\\[red]y\\"
    evaluation = evaluate(validation("ALL", rule("equals", tricky)), {"s": {"f": tricky}}, NOW)
    console = Console(record=True, width=300, color_system=None)
    console.print(evaluation)
    assert console.export_text().splitlines()[1] == (
        f"✓ s.f = {tricky}  actual {tricky!r}  s.f = {tricky!r}"
    )


def test_repr_html_is_an_escaped_table() -> None:
    page = _mixed()._repr_html_()
    assert page.startswith('<table class="interlock-evaluation">')
    assert page.count("<tr>") == 4  # header + one per rule
    assert "row-count.count ≥ 1000" in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page
    assert "<b>x" not in page
    assert '<span style="color:red">not ready</span>' in page
    assert page.count('<td style="color:red">✗</td>') == 2


# ----------------------------------------------------------------------------------- properties

finite_floats = st.floats(allow_nan=False, allow_infinity=False)
numbers = st.one_of(
    st.integers(),
    finite_floats,
    st.decimals(allow_nan=False, allow_infinity=False),
)
rule_numbers = st.one_of(st.integers(min_value=-(10**30), max_value=10**30), finite_floats)


def _as_text(n: Any) -> str:
    return str(n)


@given(actual=st.one_of(numbers, numbers.map(_as_text)), threshold=rule_numbers)
def test_gt_and_lte_are_complements(actual: Any, threshold: Any) -> None:
    gt = run(rule("gt", threshold), actual).passed
    lte = run(rule("lte", threshold), actual).passed
    gte = run(rule("gte", threshold), actual).passed
    lt = run(rule("lt", threshold), actual).passed
    assert gt is not lte
    assert gte is not lt


@given(actual=numbers, threshold=rule_numbers)
def test_numeric_checks_agree_for_a_number_and_its_text(actual: Any, threshold: Any) -> None:
    # Fast paths (native int/float) must give the exact (Decimal) path's answer.
    for check in ("gt", "gte", "lt", "lte", "equals"):
        r = rule(check, threshold)
        assert run(r, actual).passed is run(r, str(actual)).passed


@given(n=st.one_of(st.integers(), finite_floats))
def test_equals_is_symmetric_between_a_number_and_its_text(n: Any) -> None:
    assert run(rule("equals", n), str(n)).passed is True
    assert run(rule("equals", str(n)), n).passed is True
    assert run(rule("equals", n), n).passed is True


@given(
    stamp=st.one_of(
        st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
        st.integers(min_value=-(10**13), max_value=10**13),
        finite_floats,
        st.text(max_size=30),
    ),
    seconds=st.integers(min_value=0, max_value=10**6),
)
def test_age_lt_and_age_gt_never_both_pass(stamp: Any, seconds: int) -> None:
    lt = run(rule("age_lt", f"{seconds}s"), stamp)
    gt = run(rule("age_gt", f"{seconds}s"), stamp)
    assert not (lt.passed and gt.passed)
    if lt.age is not None:
        assert lt.age == gt.age
        within_skew = -lt.age <= timedelta(minutes=5)
        assert lt.passed is (lt.age < timedelta(seconds=seconds) and within_skew)


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.decimals(),
    st.text(max_size=20),
    st.sampled_from(
        ["1000", "1e3", "nan", "-inf", "true", "2024-05-01T11:24:00Z", "2024-05-01T11:24:00"]
    ),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
POOL = [
    rule("exists", key="a", field=None),
    rule("exists", key="a"),
    rule("equals", "ready", key="a"),
    rule("equals", 1000, key="b"),
    rule("equals", True, key="b"),
    rule("equals", 0.1, key="c"),
    rule("gt", 1000, key="a"),
    rule("gte", 0.5, key="b"),
    rule("lt", "1e3", key="c"),
    rule("lte", -1, key="a"),
    rule("age_lt", "2h", key="b"),
    rule("age_gt", "30m", key="c"),
]
sensor_sets = st.dictionaries(
    st.sampled_from(["a", "b", "c"]),
    st.none() | st.dictionaries(st.sampled_from(["f", "g"]), json_values, max_size=2),
)


@settings(max_examples=300)
@given(
    rules=st.lists(st.sampled_from(POOL), min_size=1, max_size=6),
    sensors=sensor_sets,
    trigger=st.sampled_from(["ALL", "ANY"]),
)
def test_evaluate_never_raises_and_combines_results(
    rules: list[Rule], sensors: dict[str, dict[str, Any] | None], trigger: str
) -> None:
    result = evaluate(validation(trigger, *rules), sensors, NOW)
    passes = [r.passed for r in result.results]
    assert len(passes) == len(rules)
    assert result.passed is (any(passes) if trigger == "ANY" else all(passes))
    assert result.passed_count == sum(passes)
    for r in result.results:
        assert isinstance(r.reason, str) and r.reason
        if not r.passed:
            assert r in result.failed
    assert repr(result) and result.__rich__() and result._repr_html_()


MEMO_POOL = [
    rule("equals", "ready"),
    rule("equals", 1000),
    rule("gte", 1000),
    rule("lt", "1e3"),
    rule("exists"),
    rule("exists", field=None),
]


@settings(max_examples=60)
@given(
    index=st.integers(0, len(MEMO_POOL) - 1),
    values=st.lists(
        st.integers(-3, 1003) | st.sampled_from(["ready", "1000", "1e3", "x", "", "999.5"]),
        min_size=1,
        max_size=150,
    ),
)
def test_a_remembered_result_equals_a_freshly_compiled_one(index: int, values: list[Any]) -> None:
    """Per-rule memo of str/int results (bounded): every answer is what a new compilation gives."""
    kept = MEMO_POOL[index]
    for value in values + values:  # the second pass answers from the memo (or after it was cleared)
        sensors = {"s": {"f": value}}
        fresh = Rule(key=kept.key, check=kept.check, field=kept.field, value=kept.value)
        assert evaluate_rule(kept, sensors, NOW) == evaluate_rule(fresh, sensors, NOW)


def test_floats_and_decimals_are_shown_as_written_even_after_an_equal_int() -> None:
    r = rule("equals", 1)
    assert run(r, 1).reason == "s.f = 1"
    assert run(r, 1.0).reason == "s.f = 1.0"
    assert run(r, Decimal("1.00")).reason == "s.f = 1.00"
    assert run(r, True).passed is False


def test_long_text_values_are_judged_every_time_not_remembered() -> None:
    r = rule("equals", "ready")
    long = "x" * 10_000
    first, second = run(r, long), run(r, long)
    assert first == second and not first.passed
    assert first is not second  # not kept: a long value is never held by the memo
    assert run(r, "ready") is run(r, "ready")  # a short one is
