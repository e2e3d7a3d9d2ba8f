"""Tests for ``interlock.local.asl``: validation, every state type, paths, Choice, Wait/Retry on a
virtual clock, Catch, timeouts, snapshots and the DESIGN's run loop."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interlock.exceptions import InterlockError
from interlock.local import (
    AslDefinitionError,
    Execution,
    ExecutionStatus,
    StateMachine,
    TaskFailed,
    run_to_completion,
    start,
    step,
)

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class VirtualClock:
    """Time only moves when told to."""

    def __init__(self, now: datetime = T0) -> None:
        self.t = now
        self.jumps: list[datetime] = []

    def now(self) -> datetime:
        return self.t

    def advance_to(self, t: datetime) -> None:
        assert t >= self.t
        self.jumps.append(t)
        self.t = t


class Recorder:
    """A fake ``invoke``: returns canned results per resource, in order, and records the calls."""

    def __init__(self, **results: list[Any]) -> None:
        self.results = {k: list(v) for k, v in results.items()}
        self.calls: list[tuple[str, Any]] = []

    def __call__(self, resource: str, payload: Any) -> Any:
        self.calls.append((resource, payload))
        item = self.results[resource].pop(0)
        if isinstance(item, BaseException):
            raise item
        return item


def echo(resource: str, payload: Any) -> Any:
    return {"resource": resource, "payload": payload}


def machine(states: dict[str, Any], start_at: str | None = None, **top: Any) -> StateMachine:
    return StateMachine.from_json(
        {"StartAt": start_at or next(iter(states)), "States": states, **top}
    )


def run(m: StateMachine, data: Any, invoke: Any = echo, **kw: Any) -> Execution:
    return run_to_completion(m, data, invoke=invoke, clock=VirtualClock(), **kw)


def problems_of(definition: Any) -> list[str]:
    with pytest.raises(AslDefinitionError) as info:
        StateMachine.from_json(definition)
    return info.value.problems


# ----------------------------------------------------------------------------- validation

OK_END = {"Type": "Succeed"}


def test_valid_definition_from_text() -> None:
    m = StateMachine.from_json(json.dumps({"StartAt": "A", "States": {"A": OK_END}}))
    assert m.start_at == "A"
    assert m.timeout_seconds is None


def test_definition_error_is_an_interlock_error_listing_every_problem() -> None:
    with pytest.raises(InterlockError) as info:
        StateMachine.from_json({"StartAt": "X", "States": {"A": {"Type": "Bogus"}}, "Extra": 1})
    assert "3 problems" in str(info.value)


def test_not_json() -> None:
    assert "not valid JSON" in problems_of("{nope")[0]


def test_not_an_object() -> None:
    assert problems_of([1]) == ["(definition): must be a JSON object"]


def test_missing_states() -> None:
    assert problems_of({"StartAt": "A", "States": {}}) == ["States: must be a non-empty object"]


def test_start_at_must_exist() -> None:
    assert problems_of({"StartAt": "B", "States": {"A": OK_END}}) == [
        "StartAt: names no state: 'B'"
    ]


def test_next_must_exist() -> None:
    problems = problems_of({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nope"}}})
    assert problems == ["States.A.Next: names no state: 'Nope'"]


def test_default_and_choice_next_must_exist() -> None:
    choice = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.x", "IsNull": True, "Next": "Missing1"}],
        "Default": "Missing2",
    }
    problems = problems_of({"StartAt": "A", "States": {"A": choice}})
    assert problems == [
        "States.A.Choices[0].Next: names no state: 'Missing1'",
        "States.A.Default: names no state: 'Missing2'",
    ]


def test_catch_next_must_exist() -> None:
    task = {
        "Type": "Task",
        "Resource": "r",
        "End": True,
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Gone"}],
    }
    assert problems_of({"StartAt": "A", "States": {"A": task}}) == [
        "States.A.Catch[0].Next: names no state: 'Gone'"
    ]


def test_unreachable_state() -> None:
    problems = problems_of({"StartAt": "A", "States": {"A": OK_END, "B": OK_END}})
    assert problems == ["States.B: is not reachable from StartAt"]


def test_no_terminal_state() -> None:
    problems = problems_of(
        {
            "StartAt": "A",
            "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}},
        }
    )
    assert problems == ["States: no reachable terminal state (Succeed, Fail or End: true)"]


def test_unknown_state_type() -> None:
    problems = problems_of({"StartAt": "A", "States": {"A": {"Type": "Parallel"}}})
    assert "unsupported Type 'Parallel'" in problems[0]


def test_unknown_fields() -> None:
    problems = problems_of(
        {"StartAt": "A", "States": {"A": {"Type": "Succeed", "Next": "A", "Foo": 1}}, "Bar": 2}
    )
    assert problems == [
        "(definition): unknown field 'Bar'",
        "States.A: unknown field 'Foo' for a Succeed state",
        "States.A: unknown field 'Next' for a Succeed state",
    ]


def test_next_or_end_exactly_one() -> None:
    problems = problems_of(
        {
            "StartAt": "A",
            "States": {
                "A": {"Type": "Pass", "Next": "B", "End": True},
                "B": {"Type": "Pass"},
                "C": {"Type": "Pass", "End": False, "Next": "B"},
            },
        }
    )
    assert "States.A: needs exactly one of Next or End: true" in problems
    assert "States.B: needs exactly one of Next or End: true" in problems
    assert "States.C.End: must be true when present" in problems


@pytest.mark.parametrize(
    "fields",
    [{}, {"Seconds": 1, "Timestamp": "2026-01-01T00:00:00Z"}, {"SecondsPath": "$.a", "Seconds": 1}],
)
def test_wait_needs_exactly_one_duration(fields: dict[str, Any]) -> None:
    problems = problems_of(
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "End": True, **fields}}}
    )
    assert len(problems) == 1
    assert "a Wait needs exactly one of" in problems[0]


def test_wait_field_values() -> None:
    problems = problems_of(
        {
            "StartAt": "A",
            "States": {
                "A": {"Type": "Wait", "Seconds": -1, "Next": "B"},
                "B": {"Type": "Wait", "Timestamp": "tomorrow", "Next": "C"},
                "C": {"Type": "Wait", "SecondsPath": "nope", "End": True},
            },
        }
    )
    assert problems == [
        "States.A.Seconds: must be a non-negative integer",
        "States.B.Timestamp: not an RFC 3339 timestamp: 'tomorrow'",
        "States.C.SecondsPath: path 'nope' must start with '$'",
    ]


def test_task_needs_resource() -> None:
    problems = problems_of({"StartAt": "T", "States": {"T": {"Type": "Task", "End": True}}})
    assert problems == ["States.T: a Task needs a Resource string"]


def test_retry_shape() -> None:
    task = {
        "Type": "Task",
        "Resource": "r",
        "End": True,
        "TimeoutSeconds": 0,
        "Retry": [
            {"ErrorEquals": [], "MaxAttempts": -1, "BackoffRate": 0.5, "Jitter": "FULL"},
            {"ErrorEquals": ["States.ALL", "X"], "IntervalSeconds": 0},
            "nope",
        ],
    }
    problems = problems_of({"StartAt": "T", "States": {"T": task}})
    assert problems == [
        "States.T.TimeoutSeconds: TimeoutSeconds must be a positive integer, got 0",
        "States.T.Retry[0]: unknown field 'Jitter'",
        "States.T.Retry[0].ErrorEquals: must be a non-empty list of error names",
        "States.T.Retry[0].MaxAttempts: must be an integer >= 0",
        "States.T.Retry[0].BackoffRate: must be a number >= 1.0",
        "States.T.Retry[1].ErrorEquals: States.ALL must appear alone",
        "States.T.Retry[1].IntervalSeconds: must be an integer >= 1",
        "States.T.Retry[2]: must be an object",
    ]


def test_catch_shape() -> None:
    task = {
        "Type": "Task",
        "Resource": "r",
        "End": True,
        "Catch": [{"ErrorEquals": "States.ALL", "Next": "T", "ResultPath": "$$.x", "X": 1}, 3],
    }
    problems = problems_of({"StartAt": "T", "States": {"T": task}})
    assert problems == [
        "States.T.Catch[0]: unknown field 'X'",
        "States.T.Catch[0].ErrorEquals: must be a non-empty list of error names",
        "States.T.Catch[0].ResultPath: cannot write into the context object ($$)",
        "States.T.Catch[1]: must be an object",
    ]
    assert problems_of({"StartAt": "T", "States": {"T": {**task, "Catch": {}, "Retry": {}}}}) == [
        "States.T.Retry: must be a list",
        "States.T.Catch: must be a list",
    ]


def test_choice_rule_shapes() -> None:
    choice = {
        "Type": "Choice",
        "Choices": [
            {"Variable": "$.a", "Next": "E"},
            {"Variable": "$.a", "NumericEquals": "1", "Next": "E"},
            {"Variable": "$.a", "Frobnicate": 1, "Next": "E"},
            {"NumericEquals": 1, "Next": "E"},
            {"And": [], "Next": "E"},
            {"Not": {"Variable": "$.a", "IsNull": True, "Next": "E"}, "Next": "E"},
            {"Or": [{"Variable": "$.a", "StringEqualsPath": "bad"}], "Next": "E"},
            "x",
        ],
    }
    problems = problems_of({"StartAt": "C", "States": {"C": choice, "E": OK_END}})
    assert problems == [
        "States.C.Choices[0]: needs exactly one operator, has none",
        "States.C.Choices[1].NumericEquals: operand of the wrong type: '1'",
        "States.C.Choices[2]: unknown operator 'Frobnicate'",
        "States.C.Choices[3]: NumericEquals needs a Variable",
        "States.C.Choices[4].And: must be a non-empty list of rules",
        "States.C.Choices[5].Not: a nested rule cannot have Next",
        "States.C.Choices[6].Or[0].StringEqualsPath: path 'bad' must start with '$'",
        "States.C.Choices[7]: must be an object",
    ]
    assert problems_of({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": []}}}) == [
        "States.C.Choices: must be a non-empty list"
    ]


def test_paths_and_intrinsics_checked_at_load() -> None:
    problems = problems_of(
        {
            "StartAt": "P",
            "States": {
                "P": {
                    "Type": "Pass",
                    "InputPath": 3,
                    "OutputPath": "$.a[x]",
                    "Parameters": {"a.$": "States.Nope()", "b": [{"c.$": "States.Format('x'"}]},
                    "End": True,
                },
            },
        }
    )
    assert problems[0] == "States.P.InputPath: must be a path string, got 3"
    assert problems[1].startswith("States.P.OutputPath: path '$.a[x]': cannot read")
    assert problems[2].startswith("States.P.Parameters.a.$: bad intrinsic function: unknown")
    assert problems[3].startswith("States.P.Parameters.b[0].c.$: bad intrinsic function")


def test_fail_shape_and_state_not_object_and_timeout() -> None:
    problems = problems_of(
        {
            "StartAt": "F",
            "TimeoutSeconds": "10",
            "States": {
                "F": {"Type": "Fail", "Error": 1, "Cause": "c", "CausePath": "$.c"},
                "G": "x",
            },
        }
    )
    assert problems == [
        "(definition): TimeoutSeconds must be a positive integer, got '10'",
        "States.F.Error: must be a string",
        "States.F: has both Cause and CausePath",
        "States.G: must be an object",
    ]


# ----------------------------------------------------------------------------- state types


def test_pass_result_and_result_path_merge() -> None:
    m = machine({"P": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.a.b", "End": True}})
    ex = run(m, {"a": {"keep": True}, "z": 0})
    assert ex.status is ExecutionStatus.SUCCEEDED
    assert ex.output == {"a": {"keep": True, "b": {"x": 1}}, "z": 0}


def test_pass_without_result_passes_input() -> None:
    m = machine({"P": {"Type": "Pass", "End": True}})
    assert run(m, [1, 2]).output == [1, 2]


def test_succeed_applies_input_and_output_path() -> None:
    m = machine({"S": {"Type": "Succeed", "InputPath": "$.a", "OutputPath": "$.b"}})
    assert run(m, {"a": {"b": 7}}).output == 7


def test_fail_state() -> None:
    m = machine({"F": {"Type": "Fail", "Error": "Boom", "Cause": "because"}})
    ex = run(m, {})
    assert (ex.status, ex.error, ex.cause) == (ExecutionStatus.FAILED, "Boom", "because")
    assert "FAILED" in repr(ex)


def test_fail_state_paths() -> None:
    m = machine({"F": {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "$.c"}})
    ex = run(m, {"e": "E1", "c": "C1"})
    assert (ex.error, ex.cause) == ("E1", "C1")


def test_task_full_data_flow() -> None:
    # GIVEN every path field on a Task
    m = machine(
        {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "InputPath": "$.req",
                "Parameters": {
                    "FunctionName": "orchestrator",
                    "Payload.$": "$",
                    "Name.$": "$$.Execution.Name",
                    "Fixed": {"nested.$": "$.mode"},
                },
                "ResultSelector": {"status.$": "$.Payload.status", "code": 200},
                "ResultPath": "$.result",
                "OutputPath": "$.result",
                "End": True,
            }
        }
    )
    invoke = Recorder(**{"arn:aws:states:::lambda:invoke": [{"Payload": {"status": "ready"}}]})
    # WHEN
    ex = run(m, {"req": {"mode": "eval"}, "other": 1}, invoke, name="exec-1")
    # THEN the payload was built from InputPath + Parameters, and the output selected
    assert invoke.calls == [
        (
            "arn:aws:states:::lambda:invoke",
            {
                "FunctionName": "orchestrator",
                "Payload": {"mode": "eval"},
                "Name": "exec-1",
                "Fixed": {"nested": "eval"},
            },
        )
    ]
    assert ex.output == {"status": "ready", "code": 200}


def test_result_path_null_discards_result() -> None:
    m = machine({"T": {"Type": "Task", "Resource": "r", "ResultPath": None, "End": True}})
    assert run(m, {"a": 1}).output == {"a": 1}


def test_result_path_dollar_replaces_input() -> None:
    m = machine({"T": {"Type": "Task", "Resource": "r", "End": True}})
    assert run(m, {"a": 1}).output == {"resource": "r", "payload": {"a": 1}}


def test_input_and_output_path_null_give_empty_object() -> None:
    m = machine(
        {
            "T": {"Type": "Task", "Resource": "r", "InputPath": None, "Next": "P"},
            "P": {"Type": "Pass", "OutputPath": None, "End": True},
        }
    )
    invoke = Recorder(r=[{"x": 1}])
    assert run(m, {"a": 1}, invoke).output == {}
    assert invoke.calls == [("r", {})]


def test_result_path_into_list_index_and_errors() -> None:
    m = machine({"P": {"Type": "Pass", "Result": "x", "ResultPath": "$.a[1]", "End": True}})
    assert run(m, {"a": [0, 1]}).output == {"a": [0, "x"]}
    bad = run(m, {"a": [0]})
    assert (bad.error, bad.status) == ("States.Runtime", ExecutionStatus.FAILED)
    assert run(m, [1]).error == "States.Runtime"
    under_scalar = machine({"P": {"Type": "Pass", "Result": 1, "ResultPath": "$.a.b", "End": True}})
    assert run(under_scalar, {"a": 3}).error == "States.Runtime"


def test_bracket_and_index_paths() -> None:
    m = machine({"P": {"Type": "Pass", "InputPath": "$['a b'][1].c", "End": True}})
    assert run(m, {"a b": [{}, {"c": 5}]}).output == 5


def test_missing_path_is_an_uncatchable_runtime_error() -> None:
    m = machine(
        {
            "T": {
                "Type": "Task",
                "Resource": "r",
                "Parameters": {"x.$": "$.missing"},
                "Retry": [{"ErrorEquals": ["States.ALL"]}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}],
                "End": True,
            },
            "Handled": OK_END,
        }
    )
    invoke = Recorder(r=[])
    ex = run(m, {}, invoke)
    assert ex.status is ExecutionStatus.FAILED
    assert ex.error == "States.Runtime"
    assert "'$.missing' did not resolve" in (ex.cause or "")
    assert invoke.calls == []


def test_context_object() -> None:
    m = machine(
        {
            "P": {
                "Type": "Pass",
                "Parameters": {
                    "input.$": "$$.Execution.Input",
                    "start.$": "$$.Execution.StartTime",
                    "entered.$": "$$.State.EnteredTime",
                    "state.$": "$$.State.Name",
                    "retries.$": "$$.State.RetryCount",
                    "machine.$": "$$.StateMachine.Name",
                },
                "End": True,
            }
        }
    )
    ex = run(m, {"k": 1})
    assert ex.output == {
        "input": {"k": 1},
        "start": "2026-03-02T08:00:00Z",
        "entered": "2026-03-02T08:00:00Z",
        "state": "P",
        "retries": 0,
        "machine": "local",
    }


def test_non_json_task_result_is_a_runtime_error() -> None:
    m = machine({"T": {"Type": "Task", "Resource": "r", "End": True}})
    assert run(m, {}, Recorder(r=[{1, 2}])).error == "States.Runtime"


# ----------------------------------------------------------------------------- intrinsics


def intrinsic(expr: str, data: Any = None, **kw: Any) -> Execution:
    m = machine(
        {"P": {"Type": "Pass", "Parameters": {"v.$": expr}, "OutputPath": "$.v", "End": True}}
    )
    return run(m, data if data is not None else {}, **kw)


@pytest.mark.parametrize(
    ("expr", "data", "expected"),
    [
        (
            "States.Format('Hello {}, you are {}', $.name, $.age)",
            {"name": "Ann", "age": 3},
            "Hello Ann, you are 3",
        ),
        ("States.Format('lit \\{\\} {}', $.x)", {"x": [1]}, "lit {} [1]"),
        ("States.StringToJson($.s)", {"s": '{"a": [1, true]}'}, {"a": [1, True]}),
        ("States.JsonToString($.o)", {"o": {"a": 1}}, '{"a":1}'),
        (
            "States.Array(1, 'two', $.x, true, null, 2.5)",
            {"x": {"k": 1}},
            [1, "two", {"k": 1}, True, None, 2.5],
        ),
        ("States.ArrayLength($.a)", {"a": [1, 2, 3]}, 3),
        ("States.ArrayGetItem($.a, 1)", {"a": [1, 2, 3]}, 2),
        ("States.MathAdd($.n, -1)", {"n": 5}, 4),
        ("States.MathAdd(States.MathAdd(1, 2), $$.State.RetryCount)", {}, 3),
        ("States.Hash($.s, 'SHA-256')", {"s": "abc"}, hashlib.sha256(b"abc").hexdigest()),
        ("States.Format('it\\'s {}', States.JsonToString($.x))", {"x": False}, "it's false"),
    ],
)
def test_intrinsics(expr: str, data: Any, expected: Any) -> None:
    ex = intrinsic(expr, data)
    assert ex.status is ExecutionStatus.SUCCEEDED, ex.cause
    assert ex.output == expected


def test_uuid_is_injected() -> None:
    assert intrinsic("States.UUID()", uuid_source=lambda: "fixed-uuid").output == "fixed-uuid"
    assert len(intrinsic("States.UUID()").output) == 36


@pytest.mark.parametrize(
    ("expr", "data"),
    [
        ("States.Format('{} {}', $.a)", {"a": 1}),
        ("States.Format('{}', $.a, $.a)", {"a": 1}),
        ("States.Format($.t, $.a)", {"t": "{}", "a": 1}),
        ("States.StringToJson($.s)", {"s": "{not json"}),
        ("States.StringToJson(1)", {}),
        ("States.JsonToString(1, 2)", {}),
        ("States.ArrayLength('x')", {}),
        ("States.ArrayGetItem($.a, 5)", {"a": [1]}),
        ("States.ArrayGetItem($.a, 'x')", {"a": [1]}),
        ("States.MathAdd(1, 1.5)", {}),
        ("States.UUID(1)", {}),
        ("States.Hash('x', 'CRC32')", {}),
    ],
)
def test_intrinsic_failures(expr: str, data: Any) -> None:
    assert intrinsic(expr, data).error == "States.IntrinsicFailure"


@pytest.mark.parametrize(
    "expr",
    ["States.Format('x'", "States.Format('x') y", "States.Array(@)", "States.Array(1 2)", "Stat"],
)
def test_bad_intrinsic_syntax_refused_at_load(expr: str) -> None:
    problems = problems_of(
        {
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "Parameters": {"v.$": expr}, "End": True}},
        }
    )
    assert len(problems) == 1


# ----------------------------------------------------------------------------- Choice


def choose(rule: dict[str, Any], data: Any) -> str:
    m = machine(
        {
            "C": {"Type": "Choice", "Choices": [{**rule, "Next": "Yes"}], "Default": "No"},
            "Yes": {"Type": "Pass", "Result": "yes", "End": True},
            "No": {"Type": "Pass", "Result": "no", "End": True},
        }
    )
    ex = run(m, data)
    assert ex.status is ExecutionStatus.SUCCEEDED, ex.cause
    return str(ex.output)


D = {
    "s": "beta",
    "s2": "beta",
    "n": 5,
    "n2": 5.0,
    "f": 2.5,
    "b": True,
    "t": "2026-03-02T08:00:00Z",
    "t2": "2026-03-02T09:00:00+01:00",
    "nil": None,
}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"Variable": "$.s", "StringEquals": "beta"}, "yes"),
        ({"Variable": "$.s", "StringEquals": "alpha"}, "no"),
        ({"Variable": "$.s", "StringLessThan": "gamma"}, "yes"),
        ({"Variable": "$.s", "StringGreaterThan": "gamma"}, "no"),
        ({"Variable": "$.s", "StringLessThanEquals": "beta"}, "yes"),
        ({"Variable": "$.s", "StringGreaterThanEquals": "beta"}, "yes"),
        ({"Variable": "$.s", "StringEqualsPath": "$.s2"}, "yes"),
        ({"Variable": "$.n", "StringEquals": "5"}, "no"),
        ({"Variable": "$.s", "StringMatches": "b*a"}, "yes"),
        ({"Variable": "$.s", "StringMatches": "b\\*"}, "no"),
        ({"Variable": "$.n", "NumericEquals": 5}, "yes"),
        ({"Variable": "$.n", "NumericEqualsPath": "$.n2"}, "yes"),
        ({"Variable": "$.n", "NumericLessThan": 5}, "no"),
        ({"Variable": "$.f", "NumericLessThan": 5}, "yes"),
        ({"Variable": "$.n", "NumericGreaterThan": 4.5}, "yes"),
        ({"Variable": "$.n", "NumericLessThanEquals": 5}, "yes"),
        ({"Variable": "$.n", "NumericGreaterThanEqualsPath": "$.f"}, "yes"),
        ({"Variable": "$.b", "NumericEquals": 1}, "no"),
        ({"Variable": "$.s", "NumericEquals": 1}, "no"),
        ({"Variable": "$.b", "BooleanEquals": True}, "yes"),
        ({"Variable": "$.b", "BooleanEqualsPath": "$.b"}, "yes"),
        ({"Variable": "$.n", "BooleanEquals": True}, "no"),
        ({"Variable": "$.t", "TimestampEquals": "2026-03-02T08:00:00Z"}, "yes"),
        ({"Variable": "$.t", "TimestampEqualsPath": "$.t2"}, "yes"),
        ({"Variable": "$.t", "TimestampLessThan": "2026-03-02T08:00:01Z"}, "yes"),
        ({"Variable": "$.t", "TimestampGreaterThan": "2026-03-02T08:00:01Z"}, "no"),
        ({"Variable": "$.t", "TimestampLessThanEquals": "2026-03-02T08:00:00Z"}, "yes"),
        ({"Variable": "$.t", "TimestampGreaterThanEqualsPath": "$.t2"}, "yes"),
        ({"Variable": "$.s", "TimestampEquals": "2026-03-02T08:00:00Z"}, "no"),
        ({"Variable": "$.s", "IsPresent": True}, "yes"),
        ({"Variable": "$.missing", "IsPresent": True}, "no"),
        ({"Variable": "$.missing", "IsPresent": False}, "yes"),
        ({"Variable": "$$.Execution.Input.s", "IsPresent": True}, "yes"),
        ({"Variable": "$.nil", "IsNull": True}, "yes"),
        ({"Variable": "$.s", "IsNull": False}, "yes"),
        ({"Variable": "$.s", "IsString": True}, "yes"),
        ({"Variable": "$.n", "IsNumeric": True}, "yes"),
        ({"Variable": "$.b", "IsNumeric": True}, "no"),
        ({"Variable": "$.b", "IsBoolean": True}, "yes"),
        ({"Variable": "$.t", "IsTimestamp": True}, "yes"),
        ({"Variable": "$.s", "IsTimestamp": True}, "no"),
        (
            {
                "And": [
                    {"Variable": "$.n", "NumericGreaterThan": 1},
                    {"Variable": "$.s", "StringEquals": "beta"},
                ]
            },
            "yes",
        ),
        (
            {
                "And": [
                    {"Variable": "$.n", "NumericGreaterThan": 1},
                    {"Variable": "$.s", "StringEquals": "alpha"},
                ]
            },
            "no",
        ),
        (
            {
                "Or": [
                    {"Variable": "$.n", "NumericGreaterThan": 10},
                    {"Variable": "$.s", "StringEquals": "beta"},
                ]
            },
            "yes",
        ),
        ({"Or": [{"Variable": "$.n", "NumericGreaterThan": 10}]}, "no"),
        ({"Not": {"Variable": "$.s", "StringEquals": "alpha"}}, "yes"),
        ({"Not": {"Not": {"Variable": "$.s", "StringEquals": "alpha"}}}, "no"),
    ],
)
def test_choice_operators(rule: dict[str, Any], expected: str) -> None:
    assert choose(rule, D) == expected


def test_choice_first_match_wins_with_input_and_output_path() -> None:
    m = machine(
        {
            "C": {
                "Type": "Choice",
                "InputPath": "$.x",
                "OutputPath": "$.v",
                "Choices": [
                    {"Variable": "$.v", "NumericGreaterThan": 0, "Next": "A"},
                    {"Variable": "$.v", "NumericGreaterThan": 1, "Next": "B"},
                ],
            },
            "A": {"Type": "Succeed"},
            "B": {"Type": "Succeed"},
        }
    )
    ex = run(m, {"x": {"v": 2}})
    assert ex.output == 2
    assert [h["state"] for h in ex.history if h["event"] == "StateEntered"] == ["C", "A"]


def test_no_choice_matched() -> None:
    m = machine(
        {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsNull": True, "Next": "E"}]},
            "E": OK_END,
        }
    )
    ex = run(m, {"a": 1})
    assert ex.error == "States.NoChoiceMatched"


def test_choice_missing_variable_is_runtime_error() -> None:
    assert (
        run(
            machine(
                {
                    "C": {
                        "Type": "Choice",
                        "Choices": [{"Variable": "$.a", "StringEquals": "x", "Next": "E"}],
                        "Default": "E",
                    },
                    "E": OK_END,
                }
            ),
            {},
        ).error
        == "States.Runtime"
    )


# ----------------------------------------------------------------------------- Wait


def test_wait_seconds_on_virtual_clock() -> None:
    m = machine({"W": {"Type": "Wait", "Seconds": 300, "Next": "S"}, "S": OK_END})
    ex = start(m, {"a": 1}, now=T0)
    ex = step(m, ex, now=T0, invoke=echo)
    assert ex.status is ExecutionStatus.RUNNING
    assert ex.wait_until == "2026-03-02T08:05:00Z"
    assert ex.wait_until_datetime == T0 + timedelta(seconds=300)
    assert ex.wait_until_epoch == (T0 + timedelta(seconds=300)).timestamp()
    assert "until 2026-03-02T08:05:00Z" in repr(ex)
    # Too early: nothing changes.
    early = step(m, ex, now=T0 + timedelta(seconds=299), invoke=echo)
    assert early == ex
    done = step(m, ex, now=T0 + timedelta(seconds=300), invoke=echo)
    assert done.status is ExecutionStatus.SUCCEEDED
    assert done.output == {"a": 1}
    assert done.wait_until is None


def test_wait_via_run_to_completion_jumps_the_clock() -> None:
    m = machine({"W": {"Type": "Wait", "Seconds": 300, "End": True}})
    clock = VirtualClock()
    ex = run_to_completion(m, {}, invoke=echo, clock=clock)
    assert ex.status is ExecutionStatus.SUCCEEDED
    assert clock.jumps == [T0 + timedelta(seconds=300)]


def test_wait_seconds_path_timestamp_and_timestamp_path() -> None:
    m = machine(
        {
            "A": {"Type": "Wait", "SecondsPath": "$.secs", "Next": "B"},
            "B": {"Type": "Wait", "Timestamp": "2026-03-02T09:00:00Z", "Next": "C"},
            "C": {"Type": "Wait", "TimestampPath": "$.at", "Next": "D"},
            "D": {"Type": "Wait", "Seconds": 0, "Next": "E"},
            "E": {"Type": "Wait", "Timestamp": "2020-01-01T00:00:00Z", "End": True},
        }
    )
    clock = VirtualClock()
    ex = run_to_completion(
        m, {"secs": 60, "at": "2026-03-02T10:30:00+01:00"}, invoke=echo, clock=clock
    )
    assert ex.status is ExecutionStatus.SUCCEEDED
    assert clock.jumps == [
        T0 + timedelta(minutes=1),
        T0 + timedelta(hours=1),
        T0 + timedelta(hours=1, minutes=30),
    ]


@pytest.mark.parametrize(
    ("state", "data"),
    [
        ({"SecondsPath": "$.s"}, {"s": -1}),
        ({"SecondsPath": "$.s"}, {"s": "10"}),
        ({"TimestampPath": "$.s"}, {"s": "soon"}),
        ({"SecondsPath": "$.absent"}, {}),
    ],
)
def test_wait_bad_runtime_values(state: dict[str, Any], data: Any) -> None:
    m = machine({"W": {"Type": "Wait", "End": True, **state}})
    assert run(m, data).error == "States.Runtime"


def test_naive_now_refused() -> None:
    m = machine({"S": OK_END})
    with pytest.raises(ValueError, match="timezone-aware"):
        start(m, {}, now=datetime(2026, 1, 1))  # naive on purpose


# ----------------------------------------------------------------------------- Retry / Catch

TRIGGER_RETRY = {
    "ErrorEquals": ["States.TaskFailed"],
    "IntervalSeconds": 30,
    "BackoffRate": 2,
    "MaxAttempts": 4,
}


def test_retry_backoff_instants() -> None:
    # GIVEN the DESIGN's trigger retry (30/60/120/240 s) and a task failing 4 times then succeeding
    m = machine(
        {"Trigger": {"Type": "Task", "Resource": "trigger", "Retry": [TRIGGER_RETRY], "End": True}}
    )
    err = TaskFailed("States.TaskFailed", "infra")
    invoke = Recorder(trigger=[err, err, err, err, {"runId": "r1"}])
    ex = start(m, {}, now=T0)
    instants = []
    now = T0
    # WHEN stepping exactly at each wait_until
    for _ in range(4):
        ex = step(m, ex, now=now, invoke=invoke)
        assert ex.status is ExecutionStatus.RUNNING
        assert ex.wait_until_datetime is not None
        now = ex.wait_until_datetime
        instants.append(now)
    ex = step(m, ex, now=now, invoke=invoke)
    # THEN the waits were 30, 60, 120, 240 s after each failure
    assert [t - T0 for t in instants] == [timedelta(seconds=s) for s in (30, 90, 210, 450)]
    assert ex.status is ExecutionStatus.SUCCEEDED
    assert ex.output == {"runId": "r1"}
    assert ex.retry_counts["Trigger"] == [4]


def test_retry_exhausted_fails_with_task_error() -> None:
    m = machine({"T": {"Type": "Task", "Resource": "t", "Retry": [TRIGGER_RETRY], "End": True}})
    invoke = Recorder(t=[RuntimeError("down")] * 5)
    clock = VirtualClock()
    ex = run_to_completion(m, {}, invoke=invoke, clock=clock)
    assert ex.status is ExecutionStatus.FAILED
    assert ex.error == "States.TaskFailed"
    assert ex.cause == "RuntimeError: down"
    assert len(invoke.calls) == 5
    assert clock.t == T0 + timedelta(seconds=450)


def test_retry_defaults_max_delay_and_retry_count_in_context() -> None:
    m = machine(
        {
            "T": {
                "Type": "Task",
                "Resource": "t",
                "Parameters": {"n.$": "$$.State.RetryCount"},
                "Retry": [
                    {"ErrorEquals": ["Other"]},
                    {
                        "ErrorEquals": ["States.ALL"],
                        "IntervalSeconds": 10,
                        "BackoffRate": 3,
                        "MaxDelaySeconds": 50,
                    },
                ],
                "End": True,
            }
        }
    )
    e = TaskFailed("Custom")
    invoke = Recorder(t=[e, e, e, "ok"])
    clock = VirtualClock()
    ex = run_to_completion(m, {}, invoke=invoke, clock=clock)
    assert ex.output == "ok"
    assert [c[1]["n"] for c in invoke.calls] == [0, 1, 2, 3]
    assert [j - T0 for j in clock.jumps] == [timedelta(seconds=s) for s in (10, 40, 90)]


def test_first_matching_retrier_exhausted_goes_to_catch() -> None:
    m = machine(
        {
            "T": {
                "Type": "Task",
                "Resource": "t",
                "Retry": [
                    {"ErrorEquals": ["Boom"], "MaxAttempts": 0},
                    {"ErrorEquals": ["States.ALL"], "MaxAttempts": 5},
                ],
                "Catch": [{"ErrorEquals": ["Boom"], "Next": "Recover"}],
                "End": True,
            },
            "Recover": OK_END,
        }
    )
    invoke = Recorder(t=[TaskFailed("Boom", "c")])
    ex = run(m, {"in": 1}, invoke)
    assert ex.status is ExecutionStatus.SUCCEEDED
    assert ex.output == {"Error": "Boom", "Cause": "c"}
    assert len(invoke.calls) == 1


def test_catch_routing_with_result_path() -> None:
    m = machine(
        {
            "T": {
                "Type": "Task",
                "Resource": "t",
                "OutputPath": "$.never",
                "Catch": [
                    {"ErrorEquals": ["JobNotFound"], "Next": "NotFound"},
                    {"ErrorEquals": ["States.ALL"], "Next": "Other", "ResultPath": "$.error"},
                ],
                "End": True,
            },
            "NotFound": {"Type": "Fail", "Error": "NF"},
            "Other": {"Type": "Succeed"},
        }
    )
    ex = run(m, {"run": 7}, Recorder(t=[TaskFailed("States.Timeout", "slow")]))
    assert ex.status is ExecutionStatus.SUCCEEDED
    assert ex.output == {"run": 7, "error": {"Error": "States.Timeout", "Cause": "slow"}}
    caught = [h for h in ex.history if h["event"] == "Caught"]
    assert caught == [
        {
            "at": "2026-03-02T08:00:00Z",
            "event": "Caught",
            "state": "T",
            "error": "States.Timeout",
            "next": "Other",
        }
    ]
    ex2 = run(m, {"run": 7}, Recorder(t=[TaskFailed("JobNotFound")]))
    assert (ex2.status, ex2.error) == (ExecutionStatus.FAILED, "NF")


def test_catch_result_path_null_and_bad_result_path() -> None:
    m = machine(
        {
            "T": {
                "Type": "Task",
                "Resource": "t",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "S", "ResultPath": None}],
                "End": True,
            },
            "S": OK_END,
        }
    )
    assert run(m, {"k": 1}, Recorder(t=[ValueError()])).output == {"k": 1}
    m2 = machine(
        {
            "T": {
                "Type": "Task",
                "Resource": "t",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "S", "ResultPath": "$.e"}],
                "End": True,
            },
            "S": OK_END,
        }
    )
    assert run(m2, [1], Recorder(t=[ValueError()])).error == "States.Runtime"


def test_unmatched_error_fails_execution() -> None:
    m = machine(
        {
            "T": {
                "Type": "Task",
                "Resource": "t",
                "Retry": [{"ErrorEquals": ["Other"]}],
                "Catch": [{"ErrorEquals": ["Other"], "Next": "S"}],
                "End": True,
            },
            "S": OK_END,
        }
    )
    ex = run(m, {}, Recorder(t=[TaskFailed("Mine", "why")]))
    assert (ex.error, ex.cause) == ("Mine", "why")


# ----------------------------------------------------------------------------- timeout, guards


def test_global_timeout_cuts_wait_short() -> None:
    m = machine({"W": {"Type": "Wait", "Seconds": 3600, "End": True}}, TimeoutSeconds=600)
    ex = start(m, {}, now=T0)
    ex = step(m, ex, now=T0, invoke=echo)
    assert ex.wait_until == "2026-03-02T08:10:00Z"
    ex = step(m, ex, now=T0 + timedelta(seconds=600), invoke=echo)
    assert ex.status is ExecutionStatus.FAILED
    assert ex.error == "States.Timeout"
    assert ex.wait_until is None


def test_global_timeout_checked_at_each_step() -> None:
    m = machine({"S": OK_END}, TimeoutSeconds=5)
    ex = start(m, {}, now=T0)
    late = step(m, ex, now=T0 + timedelta(seconds=5), invoke=echo)
    assert late.error == "States.Timeout"
    assert step(m, late, now=T0 + timedelta(hours=1), invoke=echo) == late


def test_loop_without_wait_is_stopped() -> None:
    m = machine(
        {
            "P": {"Type": "Pass", "Next": "C"},
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.stop", "BooleanEquals": True, "Next": "S"}],
                "Default": "P",
            },
            "S": OK_END,
        }
    )
    ex = step(m, start(m, {"stop": False}, now=T0), now=T0, invoke=echo, max_transitions=50)
    assert ex.error == "States.Runtime"
    assert "more than 50 transitions" in (ex.cause or "")


def test_run_to_completion_gives_up() -> None:
    loop = StateMachine.from_json(
        {
            "StartAt": "W",
            "States": {
                "W": {"Type": "Wait", "Seconds": 1, "Next": "C"},
                "C": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.stop", "BooleanEquals": True, "Next": "S"}],
                    "Default": "W",
                },
                "S": OK_END,
            },
        }
    )
    with pytest.raises(RuntimeError, match="still running after 3 steps"):
        run_to_completion(loop, {"stop": False}, invoke=echo, clock=VirtualClock(), max_steps=3)


# ----------------------------------------------------------------------------- snapshots and the run loop

RUN_LOOP = {
    "Comment": "DESIGN §3: evaluate until ready, trigger, poll the job, complete",
    "StartAt": "Evaluate",
    "TimeoutSeconds": 86400,
    "States": {
        "Evaluate": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {
                "FunctionName": "orchestrator",
                "Payload": {"mode": "evaluate", "pipeline.$": "$.pipeline"},
            },
            "ResultSelector": {"status.$": "$.Payload.status", "interval.$": "$.Payload.interval"},
            "ResultPath": "$.evaluation",
            "Next": "IsReady",
        },
        "IsReady": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.evaluation.status", "StringEquals": "ready", "Next": "Trigger"},
                {
                    "Variable": "$.evaluation.status",
                    "StringEquals": "exhausted",
                    "Next": "ValidationExhausted",
                },
            ],
            "Default": "WaitForReadiness",
        },
        "WaitForReadiness": {
            "Type": "Wait",
            "SecondsPath": "$.evaluation.interval",
            "Next": "Evaluate",
        },
        "Trigger": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {
                "FunctionName": "orchestrator",
                "Payload": {"mode": "trigger", "pipeline.$": "$.pipeline"},
            },
            "ResultSelector": {"runId.$": "$.Payload.runId"},
            "ResultPath": "$.job",
            "Retry": [TRIGGER_RETRY],
            "Catch": [
                {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "TriggerExhausted"}
            ],
            "Next": "WaitForJob",
        },
        "WaitForJob": {"Type": "Wait", "Seconds": 600, "Next": "CheckJob"},
        "CheckJob": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {
                "FunctionName": "orchestrator",
                "Payload": {"mode": "check", "runId.$": "$.job.runId"},
            },
            "ResultSelector": {"state.$": "$.Payload.state"},
            "ResultPath": "$.check",
            "Next": "JobDone",
        },
        "JobDone": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.check.state", "StringEquals": "succeeded", "Next": "Complete"},
                {"Variable": "$.check.state", "StringEquals": "failed", "Next": "JobFailed"},
            ],
            "Default": "WaitForJob",
        },
        "Complete": {"Type": "Succeed"},
        "JobFailed": {"Type": "Fail", "Error": "JobFailed", "Cause": "the job reported failure"},
        "ValidationExhausted": {"Type": "Fail", "Error": "ValidationExhausted"},
        "TriggerExhausted": {"Type": "Fail", "Error": "TriggerExhausted"},
    },
}


def fake_orchestrator() -> Recorder:
    def payload(p: dict[str, Any]) -> dict[str, Any]:
        return {"Payload": p, "StatusCode": 200}

    return Recorder(
        **{
            "arn:aws:states:::lambda:invoke": [
                payload({"status": "not_ready", "interval": 300}),
                payload({"status": "not_ready", "interval": 300}),
                payload({"status": "ready", "interval": 300}),
                TaskFailed("States.TaskFailed", "throttled"),
                payload({"runId": "job-42"}),
                payload({"state": "running"}),
                payload({"state": "succeeded"}),
            ]
        }
    )


def test_design_run_loop() -> None:
    # GIVEN the phase loop and an orchestrator that is ready on the third evaluation
    m = StateMachine.from_json(json.dumps(RUN_LOOP))
    invoke = fake_orchestrator()
    clock = VirtualClock()
    # WHEN
    ex = run_to_completion(m, {"pipeline": "gold-revenue"}, invoke=invoke, clock=clock)
    # THEN
    assert ex.status is ExecutionStatus.SUCCEEDED, ex.cause
    entered = [h["state"] for h in ex.history if h["event"] == "StateEntered"]
    assert entered == [
        "Evaluate", "IsReady", "WaitForReadiness",
        "Evaluate", "IsReady", "WaitForReadiness",
        "Evaluate", "IsReady", "Trigger", "WaitForJob",
        "CheckJob", "JobDone", "WaitForJob",
        "CheckJob", "JobDone", "Complete",
    ]  # fmt: skip
    assert [j - T0 for j in clock.jumps] == [
        timedelta(seconds=s) for s in (300, 600, 630, 1230, 1830)
    ]
    assert ex.output == {
        "pipeline": "gold-revenue",
        "evaluation": {"status": "ready", "interval": 300},
        "job": {"runId": "job-42"},
        "check": {"state": "succeeded"},
    }
    assert invoke.calls[-1][1] == {
        "FunctionName": "orchestrator",
        "Payload": {"mode": "check", "runId": "job-42"},
    }


def test_snapshot_round_trip_mid_execution_gives_the_same_result() -> None:
    m = StateMachine.from_json(RUN_LOOP)
    # Without persisting.
    direct = run_to_completion(
        m, {"pipeline": "p"}, invoke=fake_orchestrator(), clock=VirtualClock()
    )
    # Persisting through JSON after every step.
    invoke = fake_orchestrator()
    ex = start(m, {"pipeline": "p"}, now=T0)
    now = T0
    while True:
        ex = step(m, ex, now=now, invoke=invoke)
        text = json.dumps(ex.to_dict())
        ex = Execution.from_dict(json.loads(text))
        if ex.status is not ExecutionStatus.RUNNING:
            break
        assert ex.wait_until_datetime is not None
        now = ex.wait_until_datetime
    assert ex == direct
    assert ex.to_dict()["status"] == "SUCCEEDED"


def test_step_does_not_modify_its_argument() -> None:
    m = machine({"P": {"Type": "Pass", "Result": 1, "End": True}})
    ex = start(m, {}, now=T0)
    before = ex.to_dict()
    step(m, ex, now=T0, invoke=echo)
    assert ex.to_dict() == before


# ----------------------------------------------------------------------------- property


@st.composite
def chains(draw: st.DrawFn) -> tuple[dict[str, Any], bool]:
    """A Pass/Choice chain S0 → S1 → … → Sn (End), with some targets replaced by unknown names."""
    n = draw(st.integers(min_value=1, max_value=6))
    states: dict[str, Any] = {}
    all_exist = True

    def target(i: int) -> str:
        nonlocal all_exist
        if draw(st.booleans()) and draw(st.booleans()):
            all_exist = False
            return f"Missing{i}"
        return f"S{i + 1}"

    for i in range(n):
        last = i == n - 1
        if last:
            states[f"S{i}"] = {"Type": "Pass", "End": True}
        elif draw(st.booleans()):
            states[f"S{i}"] = {"Type": "Pass", "Next": target(i)}
        else:
            states[f"S{i}"] = {
                "Type": "Choice",
                "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": f"S{i + 1}"}],
                "Default": target(i),
            }
    return {"StartAt": "S0", "States": states}, all_exist


@settings(max_examples=200, deadline=None)
@given(chains())
def test_validation_accepts_exactly_chains_whose_targets_exist(
    case: tuple[dict[str, Any], bool],
) -> None:
    definition, all_exist = case
    try:
        StateMachine.from_json(definition)
        accepted = True
    except AslDefinitionError:
        accepted = False
    assert accepted == all_exist


def test_edge_paths_timestamps_and_templates() -> None:
    assert choose({"Variable": "$.t", "IsTimestamp": True}, {"t": "2026-13-45T00:00:00Z"}) == "no"
    assert choose({"Variable": "$.a[5]", "IsPresent": True}, {"a": [1]}) == "no"
    m = machine({"P": {"Type": "Pass", "Parameters": {"l": [{"v.$": "$.a"}, 2]}, "End": True}})
    assert run(m, {"a": "x"}).output == {"l": [{"v": "x"}, 2]}
    assert (
        len(
            problems_of(
                {
                    "StartAt": "P",
                    "States": {
                        "P": {
                            "Type": "Pass",
                            "Parameters": {"v.$": "States.Format('x"},
                            "End": True,
                        }
                    },
                }
            )
        )
        == 1
    )
