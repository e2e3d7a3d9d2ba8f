"""Readiness rules: evaluate a pipeline's validation rules against sensor records at one instant.

Pure: the standard library plus :mod:`interlock.config`, :mod:`interlock.durations` and
:mod:`interlock.sensor_values` (exact numbers and timestamps); no I/O, no clock
(``now`` is an argument), and no UI library (:meth:`Evaluation.__rich__` returns a markup *string*).

Flow::

    stored item ──sensor_fields()──▶ {field: value}  (one per sensor key)  ─┐
    Validation (ALL|ANY, rules) ───────────────────────────────────────────┼─▶ evaluate(…, now) ─▶ Evaluation
    now (aware; one instant for every rule) ───────────────────────────────┘     passed + one RuleResult
                                                                                  per rule (passed, actual,
                                                                                  reason, age)

The contract (what a rule means)
--------------------------------
Combining rules
    ``ALL`` passes when every rule passes; with no rules it passes (vacuously: the trigger alone decides).
    ``ANY`` passes when at least one rule passes; with no rules it cannot pass (the config loader refuses
    that combination). Every rule is evaluated and reported either way, in order. ``now`` must be
    timezone-aware (a naive ``now`` raises :class:`ValueError`) and is the same instant for every rule.

Sensors and fields
    ``sensors`` maps a sensor key to its fields (use :func:`sensor_fields` on a stored item so "data-map"
    and flat items read alike). A key that is absent or maps to ``None`` is a *missing sensor*: every check
    on it fails with ``sensor <key> missing``. ``field`` is looked up literally (a dot is part of the name,
    not a path). A field that is absent fails with ``<key>.<field> missing`` (listing the fields present
    when there are few); a field whose value is ``None`` (JSON null) fails with ``<key>.<field> is null``.

``exists``
    Without a field: passes iff the sensor exists. With a field: passes iff the sensor exists and the field is
    present and not null; the reason says which of the two is missing.

``equals``
    * Two strings compare exactly (case-sensitive). In particular two *numeric* strings are compared as
      text (``"1.10"`` does not equal ``"1.1"``): version numbers and zero-padded ids are strings.
    * When at least one side is a number (int, float, :class:`~decimal.Decimal`), both sides are compared
      numerically and exactly: the string ``"1000000"`` equals ``1000000``, ``42`` equals ``42.0`` and
      ``Decimal("42")``, ``"1e3"`` equals ``1000``, and large integers never lose digits
      (``10**20 + 1`` does not equal ``10**20``). A float stands for the decimal it prints as
      (``0.1`` equals ``Decimal("0.1")`` and ``"0.1"``). A non-numeric string never equals a number.
    * NaN and infinity (floats, Decimals or strings such as ``"nan"`` compared with a number) never equal
      anything.
    * Booleans equal booleans, and the strings ``"true"``/``"false"`` in any case. A boolean never equals a
      number (``1`` is not ``true``); the reason says so.
    * Lists, maps and other values never equal a scalar.

``gt``, ``gte``, ``lt``, ``lte``
    Both sides must be finite numbers: int, float, Decimal or a numeric string (``"15432"``, ``"1.5e3"``;
    no spaces, no underscores). Booleans, NaN and infinity are not. The comparison is exact, as for
    ``equals``. Reasons read ``row-count.count = 15432 ≥ 1000`` or
    ``row-count.count = 12 < 1000 (needs ≥ 1000)``.

``age_lt``, ``age_gt``
    The field is a timestamp: an RFC 3339 string (``Z`` or a ``±HH:MM`` offset, optional fractional
    seconds, ``T`` or a space between date and time), or epoch seconds / epoch milliseconds (int, float,
    Decimal or a numeric string; a magnitude of at least ``1e11`` means milliseconds). A timestamp without
    an offset is refused (``… has no time zone offset``): a safety controller does not guess a zone.
    ``age = now - timestamp``. ``age_lt`` passes iff ``age < threshold`` and ``age_gt`` iff
    ``age > threshold`` (both strict). A timestamp in the future has a negative age: within the
    validation's ``maxClockSkew`` (default 5m; producer clocks drift) ``age_lt`` passes and ``age_gt``
    fails, and the reason says "in the future". Further ahead than the skew, both fail with a reason that
    says so (``… is 3y in the future, beyond the allowed clock skew of 5m``): a forged or mis-clocked
    freshness sensor never passes.

Rules that bypassed config validation (``Rule.model_construct``) with an unusable value or an unknown check
fail closed with a reason; evaluation itself never raises for any sensor value.

Speed
-----
Each :class:`~interlock.config.models.Validation` is compiled once into one closure per rule and the result
is cached (bounded, keyed by ``id()`` but holding the object so the id cannot be reused while cached). The
hot path has fast paths for ``int``/``float``/``str`` values; ``bench/rules.py`` measures it.
"""

from __future__ import annotations

import html
import math
import operator
import re
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Literal

from interlock.config.kinds import AGE_CHECKS, NUMERIC_CHECKS, CheckName
from interlock.durations import format_duration, parse_duration
from interlock.sensor_values import EXACT_FLOAT_INTS as _EXACT_FLOAT_INTS
from interlock.sensor_values import NONFINITE as _NONFINITE
from interlock.sensor_values import exact as _exact
from interlock.sensor_values import parse_timestamp as _timestamp
from interlock.sensor_values import values_equal as _equal

if TYPE_CHECKING:
    from collections.abc import Callable

    from interlock.config.models import Rule, Validation

    _Sensors = Mapping[str, Mapping[str, Any] | None]
    _Check = Callable[[_Sensors, datetime], "RuleResult"]

__all__ = [
    "Evaluation",
    "RuleResult",
    "describe",
    "evaluate",
    "evaluate_rule",
    "sensor_fields",
]

# ----------------------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True, repr=False)
class RuleResult:
    """The outcome of one rule.

    Attributes:
        rule: the rule evaluated.
        passed: whether it passed.
        actual: the field value found (``None`` when the sensor or field is missing, and for ``exists``
            without a field).
        reason: one line for an on-call engineer, e.g. ``row-count.count = 12 < 1000 (needs ≥ 1000)``.
        age: for age checks, ``now - timestamp`` (negative for a future timestamp); otherwise ``None``.
    """

    rule: Rule
    passed: bool
    actual: Any
    reason: str
    age: timedelta | None = None

    def __repr__(self) -> str:
        mark = "✓" if self.passed else "✗"
        return f"<RuleResult {mark} {describe(self.rule)}: {self.reason}>"


@dataclass(frozen=True, slots=True, repr=False)
class Evaluation:
    """The outcome of a validation: every rule's result and whether the pipeline is ready.

    Attributes:
        mode: ``"ALL"`` or ``"ANY"``.
        passed: whether the rules, combined by ``mode``, pass.
        results: one result per rule, in the validation's order.
        evaluated_at: the ``now`` every rule was evaluated at.
    """

    mode: Literal["ALL", "ANY"]
    passed: bool
    results: tuple[RuleResult, ...]
    evaluated_at: datetime

    @property
    def passed_count(self) -> int:
        """How many rules passed."""
        return sum(1 for r in self.results if r.passed)

    @property
    def failed(self) -> tuple[RuleResult, ...]:
        """The results of the rules that failed, in order."""
        return tuple(r for r in self.results if not r.passed)

    def _summary(self) -> str:
        n = len(self.results)
        if not n:
            return "no rules"
        return f"{self.passed_count}/{n} {'rule passes' if n == 1 else 'rules pass'}"

    def __repr__(self) -> str:
        status = "ready" if self.passed else "not ready"
        text = f"<Evaluation {self.mode} {status}: {self._summary()}"
        failed = self.failed
        if failed and not self.passed:
            more = f"; {len(failed) - 1} more failing" if len(failed) > 1 else ""
            text += f" ({failed[0].reason}{more})"
        return text + ">"

    def __rich__(self) -> str:
        """Rich console markup: a status line, then one line per rule (rich renders a markup string)."""
        status = "[bold green]ready[/]" if self.passed else "[bold red]not ready[/]"
        lines = [
            f"[bold]{self.mode}[/] {status}: {self._summary()} "
            f"[dim]at {_escape_markup(self.evaluated_at.isoformat())}[/]"
        ]
        for r in self.results:
            mark = "[green]✓[/]" if r.passed else "[red]✗[/]"
            lines.append(
                f"{mark} {_escape_markup(describe(r.rule))}  "
                f"[dim]actual[/] {_escape_markup(_show_actual(r))}  {_escape_markup(r.reason)}"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """A small HTML table for Jupyter."""
        status = (
            '<span style="color:green">ready</span>'
            if self.passed
            else '<span style="color:red">not ready</span>'
        )
        rows = []
        for r in self.results:
            mark = '<td style="color:green">✓</td>' if r.passed else '<td style="color:red">✗</td>'
            cells = (describe(r.rule), _show_actual(r), r.reason)
            rows.append(
                "<tr>" + mark + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"
            )
        return (
            '<table class="interlock-evaluation">'
            f"<caption>{html.escape(self.mode)} {status}: {html.escape(self._summary())}"
            f" at {html.escape(self.evaluated_at.isoformat())}</caption>"
            "<thead><tr><th></th><th>rule</th><th>actual</th><th>reason</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )


# -------------------------------------------------------------------------------------- public api


def evaluate(
    validation: Validation, sensors: Mapping[str, Mapping[str, Any] | None], now: datetime
) -> Evaluation:
    """Evaluate every rule of ``validation`` against ``sensors`` at ``now``.

    Args:
        validation: the rules and how they combine (ALL/ANY).
        sensors: sensor key → its fields (see :func:`sensor_fields`); an absent key or ``None`` is a
            missing sensor.
        now: the instant of evaluation, timezone-aware; the same for every rule.

    Returns:
        The :class:`Evaluation`: whether the pipeline is ready and one :class:`RuleResult` per rule.

    Raises:
        ValueError: ``now`` is naive.
    """
    if now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got naive {now.isoformat()}")
    any_mode, checks = _compiled_validation(validation)
    results = tuple([check(sensors, now) for check in checks])
    passed = any(map(_PASSED, results)) if any_mode else all(map(_PASSED, results))
    return Evaluation("ANY" if any_mode else "ALL", passed, results, now)


def evaluate_rule(
    rule: Rule, sensors: Mapping[str, Mapping[str, Any] | None], now: datetime
) -> RuleResult:
    """Evaluate one rule against ``sensors`` at ``now``.

    Args:
        rule: the rule.
        sensors: sensor key → its fields; an absent key or ``None`` is a missing sensor.
        now: the instant of evaluation, timezone-aware.

    Returns:
        The rule's :class:`RuleResult`.

    Raises:
        ValueError: ``now`` is naive.
    """
    if now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got naive {now.isoformat()}")
    return _compiled_rule(rule)(sensors, now)


_PASSED: Final = operator.attrgetter("passed")
DEFAULT_CLOCK_SKEW: Final = timedelta(minutes=5)
"""How far in the future a timestamp may be before age checks fail (``validation.maxClockSkew``)."""
_BOOKKEEPING: Final = frozenset({"PK", "SK", "ttl"})


def sensor_fields(item: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a stored sensor item, whether the producer wrote a ``data`` map or flat attributes.

    ``PK``, ``SK`` and ``ttl`` are dropped. If ``data`` is a mapping, its fields are returned, with the
    item's other flat attributes underneath (``data`` wins on a clash). Otherwise the flat attributes are
    returned (including a non-mapping attribute that happens to be called ``data``). Values are returned
    as stored: DynamoDB's :class:`~decimal.Decimal` numbers work everywhere numbers do.

    Args:
        item: the stored item.

    Returns:
        A new dict of the sensor's fields.
    """
    fields = {k: v for k, v in item.items() if k not in _BOOKKEEPING}
    data = fields.get("data")
    if isinstance(data, Mapping):
        del fields["data"]
        fields.update(data)
    return fields


_SYMBOLS: Final = {
    CheckName.GT: ">",
    CheckName.GTE: "≥",
    CheckName.LT: "<",
    CheckName.LTE: "≤",
    CheckName.AGE_LT: "<",
    CheckName.AGE_GT: ">",
}


def describe(rule: Rule) -> str:
    """The rule as one short line.

    Examples: ``row-count.count ≥ 1000``, ``upstream-complete.status = ready``,
    ``freshness.updatedAt age < 2h``, ``orders-landed exists``.

    Args:
        rule: the rule.

    Returns:
        The rule's text.
    """
    target = f"{rule.key}.{rule.field}" if rule.field else rule.key
    check = rule.check
    if check is CheckName.EXISTS:
        return f"{target} exists"
    if check is CheckName.EQUALS:
        return f"{target} = {_plain(rule.value)}"
    if check in AGE_CHECKS:
        return f"{target} age {_SYMBOLS[check]} {_threshold_text(rule)}"
    if check in NUMERIC_CHECKS:
        return f"{target} {_SYMBOLS[check]} {_plain(rule.value)}"
    return f"{target} {check} {_plain(rule.value)}"


# ---------------------------------------------------------------------------------------- compiling

_CACHE_SIZE: Final = 16_384
# Above the pipelines one pass evaluates (a board, a watchdog sweep of 10,000): evicting oldest first,
# a smaller cache loses every entry before the next pass needs it (256 made a 1,000-row board
# recompile all its rules every time, 40 % of its cost).
# id(obj) -> (obj, compiled). Holding obj keeps its id from being reused while the entry lives, so an
# identity check on lookup is enough; models are frozen, so a compiled form never goes stale.
_validations: dict[int, tuple[Validation, tuple[bool, tuple[_Check, ...]]]] = {}
_rules: dict[int, tuple[Rule, _Check]] = {}


def _remember(cache: dict[int, Any], obj: object, compiled: Any) -> None:
    if len(cache) >= _CACHE_SIZE:
        # Oldest first (dicts keep insertion order). pop() with a default because another thread may
        # have evicted the same entry; a lost race only costs a recompilation.
        cache.pop(next(iter(cache), 0), None)
    cache[id(obj)] = (obj, compiled)


def _compiled_validation(validation: Validation) -> tuple[bool, tuple[_Check, ...]]:
    entry = _validations.get(id(validation))
    if entry is not None and entry[0] is validation:
        return entry[1]
    skew = validation.maxClockSkew
    compiled = (
        validation.trigger == "ANY",
        tuple(
            _compiled_rule(r) if skew == DEFAULT_CLOCK_SKEW else _compile(r, skew)
            for r in validation.rules
        ),
    )
    _remember(_validations, validation, compiled)
    return compiled


def _compiled_rule(rule: Rule) -> _Check:
    entry = _rules.get(id(rule))
    if entry is not None and entry[0] is rule:
        return entry[1]
    check = _compile(rule)
    _remember(_rules, rule, check)
    return check


def _compile(rule: Rule, skew: timedelta = DEFAULT_CLOCK_SKEW) -> _Check:
    check = rule.check
    if check is CheckName.EXISTS:
        return _compile_exists(rule)
    if check is CheckName.EQUALS:
        return _compile_equals(rule)
    if check in NUMERIC_CHECKS:
        return _compile_numeric(rule)
    if check in AGE_CHECKS:
        return _compile_age(rule, skew)
    return _always_fail(rule, f"unknown check {check!r}")


# Sentinel for "field absent" (a present field may hold None).
_ABSENT: Final = object()


# Results are frozen, so a result that depends only on the rule (a missing sensor, a present one) is built
# once at compile time, and one that depends only on a str or int value is remembered per rule (_MEMO_SIZE
# values, forgotten all at once when full): sensor values repeat between evaluations (status=ready, a count
# that has not moved), and building a result and its reason is most of an evaluation's cost. Floats and
# Decimals are not remembered (equal values can print differently: 1.0 and 1, -0.0 and 0.0), nor ages
# (they depend on now).
_MEMO_SIZE: Final = 8
# 8, not more: up to 16,384 compiled rules each keep a memo, so the worst case (values that never repeat,
# 10,000 pipelines) is 16,384 × 8 results (~50 MB), where 64 allowed ~400 MB; the repeating values that
# make the memo worth having (a status, a count that has not moved) are a handful per rule.
# Longer strings are not remembered: 64 results holding a megabyte-long sensor value each, per rule of
# every cached validation, would be memory a controller should not hold for a speed-up.
_MEMO_MAX_TEXT: Final = 256


def _remembered(
    memo: dict[str | int, RuleResult], value: str | int, result: RuleResult
) -> RuleResult:
    if len(memo) >= _MEMO_SIZE:
        memo.clear()
    memo[value] = result
    return result


def _always_fail(rule: Rule, reason: str) -> _Check:
    result = RuleResult(rule, False, None, reason)

    def run(sensors: _Sensors, now: datetime) -> RuleResult:
        return result

    return run


def _field_problem(rule: Rule, label: str, data: Mapping[str, Any], value: Any) -> RuleResult:
    if value is None:
        return RuleResult(rule, False, None, f"{label} is null")
    names = sorted(str(k) for k in data)
    if not names:
        hint = "the sensor has no fields"
    elif len(names) <= 8:
        hint = "present: " + ", ".join(names)
    else:
        hint = f"{len(names)} other fields present"
    return RuleResult(rule, False, None, f"{label} missing ({hint})")


def _compile_exists(rule: Rule) -> _Check:
    key, field = rule.key, rule.field
    missing = RuleResult(rule, False, None, f"sensor {key} missing")
    if not field:
        exists = RuleResult(rule, True, None, f"sensor {key} exists")

        def run_sensor(sensors: _Sensors, now: datetime) -> RuleResult:
            return missing if sensors.get(key) is None else exists

        return run_sensor

    label = f"{key}.{field}"
    present = f"{label} present"

    def run_field(sensors: _Sensors, now: datetime) -> RuleResult:
        data = sensors.get(key)
        if data is None:
            return missing
        value = data.get(field, _ABSENT)
        if value is _ABSENT or value is None:
            return _field_problem(rule, label, data, value)
        return RuleResult(rule, True, value, present)

    return run_field


def _compile_equals(rule: Rule) -> _Check:
    key, field, expected = rule.key, rule.field or "", rule.value
    label = f"{key}.{field}"
    missing = RuleResult(rule, False, None, f"sensor {key} missing")
    memo: dict[str | int, RuleResult] = {}
    expected_num = None if isinstance(expected, bool) else _exact(expected)
    # Fast paths for the common shapes: str vs str rule value, int vs integral rule value.
    expected_str = expected if isinstance(expected, str) else None
    expected_int = expected_num if type(expected_num) is int else None
    shown_expected = _show(expected)

    def judge(value: Any, kind: type) -> RuleResult:
        if kind is str and expected_str is not None:
            ok, note = value == expected_str, ""
        elif kind is int and expected_int is not None:
            ok, note = value == expected_int, ""
        else:
            ok, note = _equal(value, expected, expected_num)
        if ok:
            return RuleResult(rule, True, value, f"{label} = {_show(value)}")
        return RuleResult(
            rule, False, value, f"{label} = {_show(value)}, expected {shown_expected}{note}"
        )

    def run(sensors: _Sensors, now: datetime) -> RuleResult:
        data = sensors.get(key)
        if data is None:
            return missing
        value = data.get(field, _ABSENT)
        if value is _ABSENT or value is None:
            return _field_problem(rule, label, data, value)
        kind = type(value)
        if kind is int or (kind is str and len(value) <= _MEMO_MAX_TEXT):
            return memo.get(value) or _remembered(memo, value, judge(value, kind))
        return judge(value, kind)

    return run


_OPERATORS: Final[dict[CheckName, Callable[[Any, Any], bool]]] = {
    CheckName.GT: operator.gt,
    CheckName.GTE: operator.ge,
    CheckName.LT: operator.lt,
    CheckName.LTE: operator.le,
}


def _relation(a: Any, b: Any) -> str:
    return "<" if a < b else ">" if a > b else "="


def _float_twin(threshold: int | Decimal) -> float | int | None:
    """What a float actual may be compared with natively, giving the exact comparison's answer.

    Against an int threshold below 2**53 every float is ordered exactly (such ints are floats exactly);
    against a threshold that prints as a float, float order is decimal order. Otherwise ``None``: the
    float goes through Decimal.
    """
    if isinstance(threshold, int) and abs(threshold) < _EXACT_FLOAT_INTS:
        return threshold
    try:
        as_float = float(threshold)
    except OverflowError:  # an int beyond float's range
        return None
    if math.isfinite(as_float) and Decimal(repr(as_float)) == threshold:
        return as_float
    return None


def _compile_numeric(rule: Rule) -> _Check:
    key, field, check = rule.key, rule.field or "", rule.check
    label = f"{key}.{field}"
    missing = RuleResult(rule, False, None, f"sensor {key} missing")
    memo: dict[str | int, RuleResult] = {}
    threshold = None if isinstance(rule.value, bool) else _exact(rule.value)
    if threshold is None or threshold is _NONFINITE:
        return _always_fail(rule, f"rule value {rule.value!r} is not a finite number")
    compare = _OPERATORS[check]
    symbol = _SYMBOLS[check]
    shown = _plain(rule.value)
    float_threshold = _float_twin(threshold)

    def judge(value: Any, kind: type) -> RuleResult:
        if kind is int:
            number: Any = value
            ok = compare(value, threshold)
        elif kind is float and float_threshold is not None and math.isfinite(value):
            number = value
            ok = compare(value, float_threshold)
        else:
            exact = _exact(value)
            if exact is None or exact is _NONFINITE:
                return RuleResult(rule, False, value, _not_a_number(label, value, exact))
            number = exact
            ok = compare(exact, threshold)
        if ok:
            return RuleResult(rule, True, value, f"{label} = {_show(value)} {symbol} {shown}")
        relation = _relation(number, threshold)
        head = f"{label} = {_show(value)}"
        if relation != "=":
            head += f" {relation} {shown}"
        return RuleResult(rule, False, value, f"{head} (needs {symbol} {shown})")

    def run(sensors: _Sensors, now: datetime) -> RuleResult:
        data = sensors.get(key)
        if data is None:
            return missing
        value = data.get(field, _ABSENT)
        if value is _ABSENT or value is None:
            return _field_problem(rule, label, data, value)
        kind = type(value)
        if kind is int or (kind is str and len(value) <= _MEMO_MAX_TEXT):
            return memo.get(value) or _remembered(memo, value, judge(value, kind))
        return judge(value, kind)

    return run


def _not_a_number(label: str, value: Any, exact: int | Decimal | None) -> str:
    if exact is _NONFINITE:
        return f"{label} = {_show(value)} is not a finite number"
    if isinstance(value, bool):
        return f"{label} = {_show(value)} is not a number (booleans are not numbers)"
    return f"{label} = {_show(value)} is not a number"


# --------------------------------------------------------------------------------------- timestamps


def _precise(delta: timedelta) -> str:
    return f"{delta.total_seconds():.3f}".rstrip("0").rstrip(".") + "s"


_NEAR: Final = timedelta(minutes=1)


def _age_text(age: timedelta, threshold: timedelta) -> str:
    """``age`` as a duration, with exact seconds near the threshold, where rounding could mislead.

    ``format_duration`` rounds to the second and drops seconds past an hour, so within a minute of the
    threshold "2h exceeds 2h" could be printed; the exact seconds make the comparison readable.
    """
    text = format_duration(age)
    if age != threshold and -_NEAR < age - threshold < _NEAR:
        return f"{text} ({_precise(age)})"
    return text


def _age_reason(
    label: str, lt: bool, age: timedelta, threshold: timedelta, text: str, skew: timedelta
) -> str:
    if age < timedelta(0):
        ahead = format_duration(-age)
        if ahead == "0s":
            ahead = _precise(-age)
        if -age > skew:
            return (
                f"{label} is {ahead} in the future, beyond the allowed clock skew of "
                f"{format_duration(skew)} (a forged or mis-clocked timestamp never passes)"
            )
        needs = "" if lt else f" (needs age > {text})"
        return f"{label} is {ahead} in the future{needs}"
    shown = _age_text(age, threshold)
    if lt:
        if age < threshold:
            return f"{label} age {shown} < {text}"
        verb = "exceeds" if age > threshold else "is not under"
        return f"{label} age {shown} {verb} {text}"
    if age > threshold:
        return f"{label} age {shown} > {text}"
    return f"{label} age {shown} is not over {text}"


def _compile_age(rule: Rule, skew: timedelta) -> _Check:
    key, field = rule.key, rule.field or ""
    label = f"{key}.{field}"
    missing = RuleResult(rule, False, None, f"sensor {key} missing")
    try:
        threshold = rule.threshold
    except (TypeError, ValueError) as exc:
        return _always_fail(rule, f"rule value {rule.value!r} is not a duration ({exc})")
    text = _threshold_text(rule)
    lt = rule.check is CheckName.AGE_LT

    def run(sensors: _Sensors, now: datetime) -> RuleResult:
        data = sensors.get(key)
        if data is None:
            return missing
        value = data.get(field, _ABSENT)
        if value is _ABSENT or value is None:
            return _field_problem(rule, label, data, value)
        ts = _timestamp(value)
        if isinstance(ts, str):
            return RuleResult(rule, False, value, f"{label} = {_show(value)} {ts}")
        age = now - ts
        ok = (age < threshold if lt else age > threshold) and -age <= skew
        return RuleResult(rule, ok, value, _age_reason(label, lt, age, threshold, text, skew), age)

    return run


# ------------------------------------------------------------------------------------------ display

_REPR: Final = reprlib.Repr()
_REPR.maxstring = 60
_REPR.maxother = 60
_SHOW_LIMIT: Final = 80


def _show(value: Any) -> str:
    """A sensor or rule value as a reason shows it: JSON-ish scalars, quoted strings, shortened."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    try:
        if isinstance(value, str):
            text = repr(value) if len(value) <= _REPR.maxstring else _REPR.repr(value)
        elif isinstance(value, int | float | Decimal):
            text = str(value)
        else:
            text = _REPR.repr(value)
    except ValueError:  # an int with more digits than str() converts (sys.int_info)
        return f"<{type(value).__name__} too large to show>"
    return text if len(text) <= _SHOW_LIMIT else text[: _SHOW_LIMIT - 1] + "…"


def _show_actual(result: RuleResult) -> str:
    return "—" if result.actual is None else _show(result.actual)


def _plain(value: Any) -> str:
    """A rule value as written in the YAML (no quotes unless empty)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value == "":
        return "''"
    return str(value)


def _threshold_text(rule: Rule) -> str:
    """An age threshold as ``format_duration`` writes it, unless that would lose precision."""
    try:
        threshold = rule.threshold
    except (TypeError, ValueError):
        return _plain(rule.value)
    text = format_duration(threshold)
    return text if parse_duration(text) == threshold else _plain(rule.value)


# Same approach as rich.markup.escape (rich may not be imported here): escape each "[" that could open a tag,
# doubling the backslashes in front of it. (rich.markup.escape also adds a backslash after a trailing one,
# for text glued to a following tag; every escaped piece here is followed by a space or a line end.)
_MARKUP_TAG: Final = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")


def _escape_markup(text: str) -> str:
    return _MARKUP_TAG.sub(lambda m: f"{m.group(1)}{m.group(1)}\\{m.group(2)}", text)
