"""A small, pure Amazon States Language (ASL) interpreter for the embedded runtime.

In AWS a Step Functions Standard workflow drives each run (``deploy/statemachine.asl.json``); locally the
same JSON definition runs here. The interpreter does no I/O, starts no thread and never sleeps: it is an
explicit step machine whose whole state is an :class:`Execution` snapshot (a JSON-serialisable dataclass),
so a runtime can persist it between steps and resume it after a crash::

    start(machine, input, now=t0) ──► Execution(RUNNING)
        │
        ▼
    step(machine, execution, now=t, invoke=...)   runs states until one of:
        ├─ a Wait state (or a Retry backoff) is not yet due → RUNNING, ``wait_until`` set;
        │     the caller calls ``step`` again once ``now >= wait_until``
        ├─ Succeed / End: true                              → SUCCEEDED, ``output`` set
        └─ Fail, an unhandled error, or the global timeout   → FAILED, ``error`` / ``cause`` set

Time is an input (``now`` is a timezone-aware datetime); Task states call the injected
``invoke(resource, payload)``; ``States.UUID`` calls an injected uuid source.

Supported subset (anything else is refused by :meth:`StateMachine.from_json`):

* Top level: ``StartAt``, ``States``, ``Comment``, ``Version``, ``TimeoutSeconds`` (fails the execution
  with ``States.Timeout``; checked at every step, and waits are cut short at the deadline).
* States: ``Task``, ``Pass``, ``Choice``, ``Wait``, ``Succeed``, ``Fail``. ``Parallel`` and ``Map`` are
  not supported. Every state accepts ``Comment``.
* Task: ``Resource``, ``InputPath``, ``Parameters``, ``ResultSelector``, ``ResultPath``, ``OutputPath``,
  ``Retry`` (``ErrorEquals``, ``IntervalSeconds`` = 1, ``MaxAttempts`` = 3, ``BackoffRate`` = 2.0,
  ``MaxDelaySeconds``), ``Catch`` (``ErrorEquals``, ``Next``, ``ResultPath`` = ``$``).
  ``TimeoutSeconds``/``HeartbeatSeconds`` are accepted but not enforced: ``invoke`` is synchronous.
  ``invoke`` raising :class:`TaskFailed` fails the task with that error name; any other exception
  fails it with ``States.TaskFailed`` (the exception text becomes the cause), as an unhandled
  exception in a Lambda does.
* Pass: ``Result``, ``Parameters``, ``InputPath``, ``ResultPath``, ``OutputPath``.
* Choice: ``Choices``, ``Default``, ``InputPath``, ``OutputPath``; rules use ``And``/``Or``/``Not`` and
  ``String*``, ``Numeric*``, ``Timestamp*`` (``Equals``, ``LessThan``, ``GreaterThan``,
  ``LessThanEquals``, ``GreaterThanEquals``, each also with a ``Path`` suffix), ``BooleanEquals(Path)``,
  ``StringMatches`` (``*`` wildcard, ``\\*`` literal), ``IsPresent``, ``IsNull``, ``IsString``,
  ``IsNumeric``, ``IsBoolean``, ``IsTimestamp``. No match and no ``Default`` fails with
  ``States.NoChoiceMatched``. Comparing values of the wrong type is false, as in AWS.
* Wait: exactly one of ``Seconds``, ``SecondsPath``, ``Timestamp``, ``TimestampPath``.
* Fail: ``Error``/``ErrorPath``, ``Cause``/``CausePath``.
* Paths: ``$``, ``$.a.b``, ``$.a[0]``, ``$['a b']``; the context object via ``$$`` with
  ``Execution.Id/Name/Input/StartTime``, ``State.Name/EnteredTime/RetryCount`` and
  ``StateMachine.Id/Name``. ``InputPath``/``OutputPath`` ``null`` give ``{}``; ``ResultPath`` ``null``
  discards the result; ``ResultPath: "$.a.b"`` merges into the state input, creating objects.
* ``Parameters``/``ResultSelector``: keys ending in ``.$`` take a path or an intrinsic function:
  ``States.Format``, ``States.StringToJson``, ``States.JsonToString``, ``States.Array``,
  ``States.ArrayLength``, ``States.ArrayGetItem``, ``States.MathAdd``, ``States.UUID``, ``States.Hash``.

Error semantics: a path that does not resolve (``InputPath``, a ``.$`` parameter, a Choice
``Variable``, ``SecondsPath`` …) is a ``States.Runtime`` error. As in AWS it cannot be retried or caught
(``States.ALL`` does not match it) and fails the execution. This is why DESIGN §3 has the orchestrator
return *every* field the next state reads: a missing field must never be possible. Errors raised by
intrinsic functions are ``States.IntrinsicFailure``.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import math
import re
import uuid as uuid_module
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from interlock.clock import SteppingClock
from interlock.exceptions import InterlockError

__all__ = [
    "AslDefinitionError",
    "Execution",
    "ExecutionStatus",
    "Invoke",
    "StateMachine",
    "SteppingClock",
    "TaskFailed",
    "run_to_completion",
    "start",
    "step",
]

Invoke = Callable[[str, Any], Any]
"""The Task callback: ``invoke(resource, payload) -> result``."""

UuidSource = Callable[[], str]


class AslDefinitionError(InterlockError):
    """A state machine definition the local runner refuses; lists every problem found.

    Attributes:
        problems: one human-readable line per problem, each starting with where it is.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in state machine definition"
        super().__init__(head + "".join(f"\n  {p}" for p in self.problems))


class TaskFailed(Exception):  # named after the ASL error it carries
    """Raised by an ``invoke`` callback to fail a Task with a named ASL error.

    Args:
        error: the error name Retry/Catch match on, e.g. ``"States.TaskFailed"`` or ``"JobNotFound"``.
        cause: a human-readable explanation, stored as the failure cause.
    """

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause


class ExecutionStatus(StrEnum):
    """Where an execution is: still going, or finished one way or the other."""

    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


# ----------------------------------------------------------------------------- time helpers

_TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _copy_json(value: Any) -> Any:
    """A deep copy of a JSON value (dicts, lists, scalars): what the state machine's data is.

    ``copy.deepcopy`` spends most of its time on memo bookkeeping JSON does not need; each step
    copies its data, so this is on every state transition. Anything else is deep-copied as before.
    """
    kind = type(value)
    if kind is dict:
        return {k: _copy_json(v) for k, v in value.items()}
    if kind is list:
        return [_copy_json(v) for v in value]
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    return copy.deepcopy(value)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_ts(value: Any) -> datetime | None:
    if not isinstance(value, str) or not _TIMESTAMP_RE.match(value):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")


# ----------------------------------------------------------------------------- errors inside a run


class _StateError(Exception):
    """An ASL error raised while running a state (caught by Retry/Catch or failing the execution)."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


def _runtime(cause: str) -> _StateError:
    return _StateError("States.Runtime", cause)


# ----------------------------------------------------------------------------- JSONPath subset

_SEGMENT_RE = re.compile(r"\.([^.\[\]\s]+)|\[(\d+)\]|\['([^']*)'\]")


@dataclass(frozen=True, slots=True)
class _Path:
    text: str
    context: bool
    segments: tuple[str | int, ...]


@functools.lru_cache(maxsize=1024)
def _parse_path(text: str) -> _Path:
    if text.startswith("$$"):
        context, rest = True, text[2:]
    elif text.startswith("$"):
        context, rest = False, text[1:]
    else:
        raise ValueError(f"path {text!r} must start with '$'")
    segments: list[str | int] = []
    pos = 0
    while pos < len(rest):
        m = _SEGMENT_RE.match(rest, pos)
        if m is None:
            raise ValueError(
                f"path {text!r}: cannot read {rest[pos:]!r} (supported: .name, [n], ['name'])"
            )
        name, index, quoted = m.groups()
        segments.append(int(index) if index is not None else (name if name is not None else quoted))
        pos = m.end()
    return _Path(text, context, tuple(segments))


_MISSING = object()


def _lookup(data: Any, segments: tuple[str | int, ...]) -> Any:
    cur = data
    for seg in segments:
        if isinstance(seg, int):
            if not isinstance(cur, list) or seg >= len(cur):
                return _MISSING
            cur = cur[seg]
        else:
            if not isinstance(cur, dict) or seg not in cur:
                return _MISSING
            cur = cur[seg]
    return cur


def _set_path(data: Any, path: _Path, value: Any) -> Any:
    """``data`` with ``value`` written at ``path``; ``data`` itself is never changed.

    Copy-on-write: only the containers along the path are copied (shallowly); everything else is
    shared. Values in a running execution are never mutated in place, so sharing is safe.
    """
    if not path.segments:
        return value
    if not isinstance(data, dict):
        raise _runtime(
            f"ResultPath {path.text!r} needs an object as state input, got {type(data).__name__}"
        )
    root: Any = dict(data)
    cur: Any = root
    for i, seg in enumerate(path.segments):
        last = i == len(path.segments) - 1
        if isinstance(seg, int):
            if not isinstance(cur, list) or seg >= len(cur):
                raise _runtime(f"ResultPath {path.text!r}: index {seg} does not exist")
            if last:
                cur[seg] = value
            else:
                cur[seg] = _shallow(cur[seg])
            cur = cur[seg]
            continue
        if not isinstance(cur, dict):
            raise _runtime(f"ResultPath {path.text!r}: {seg!r} is under a non-object")
        if last:
            cur[seg] = value
        else:
            cur[seg] = _shallow(cur.get(seg, {}))
            cur = cur[seg]
    return root


def _shallow(value: Any) -> Any:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    return value


# ----------------------------------------------------------------------------- intrinsic functions


@dataclass(frozen=True, slots=True)
class _Lit:
    value: Any
    raw: str | None = None  # escaped source of a string literal (States.Format reads its braces)


@dataclass(frozen=True, slots=True)
class _Call:
    name: str
    args: tuple[_Lit | _Path | _Call, ...]


_Expr = _Lit | _Path | _Call
_NAME_RE = re.compile(r"States\.[A-Za-z0-9]+")
_NUMBER_RE = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
_WORDS = {"true": True, "false": False, "null": None}


class _IntrinsicParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def parse(self) -> _Call:
        expr = self._call()
        self._skip()
        if self.pos != len(self.text):
            raise ValueError(f"unexpected {self.text[self.pos :]!r} after the call")
        return expr

    def _skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def _call(self) -> _Call:
        m = _NAME_RE.match(self.text, self.pos)
        if m is None or m.group() not in _INTRINSICS:
            raise ValueError(f"unknown intrinsic function at {self.text[self.pos :]!r}")
        self.pos = m.end()
        self._expect("(")
        args: list[_Expr] = []
        self._skip()
        if self._peek() != ")":
            args.append(self._expr())
            self._skip()
            while self._peek() == ",":
                self.pos += 1
                args.append(self._expr())
                self._skip()
        self._expect(")")
        return _Call(m.group(), tuple(args))

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _expect(self, char: str) -> None:
        self._skip()
        if self._peek() != char:
            raise ValueError(f"expected {char!r} at {self.text[self.pos :]!r}")
        self.pos += 1

    def _expr(self) -> _Expr:
        self._skip()
        char = self._peek()
        if char == "'":
            return self._string()
        if char == "$":
            start = self.pos
            while self.pos < len(self.text) and self.text[self.pos] not in ",) \t":
                self.pos += 1
            return _parse_path(self.text[start : self.pos])
        if self.text.startswith("States.", self.pos):
            return self._call()
        for word, value in _WORDS.items():
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return _Lit(value)
        m = _NUMBER_RE.match(self.text, self.pos)
        if m is None:
            raise ValueError(f"cannot read an argument at {self.text[self.pos :]!r}")
        self.pos = m.end()
        return _Lit(json.loads(m.group()))

    def _string(self) -> _Lit:
        self.pos += 1
        start = self.pos
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if char == "'":
                raw = self.text[start : self.pos]
                self.pos += 1
                return _Lit("".join(out), raw)
            out.append(char)
            self.pos += 1
        raise ValueError("unterminated string literal")


def _intrinsic_failure(cause: str) -> _StateError:
    return _StateError("States.IntrinsicFailure", cause)


def _fn_format(args: list[Any], raw: list[str | None], _: UuidSource) -> Any:
    template = raw[0] if raw and raw[0] is not None else None
    if template is None:
        raise _intrinsic_failure("States.Format needs a string literal template as first argument")
    values = iter(args[1:])
    out: list[str] = []
    i = 0
    while i < len(template):
        if template[i] == "\\" and i + 1 < len(template):
            out.append(template[i + 1])
            i += 2
        elif template.startswith("{}", i):
            value = next(values, _MISSING)
            if value is _MISSING:
                raise _intrinsic_failure("States.Format has more {} than arguments")
            out.append(
                value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
            )
            i += 2
        else:
            out.append(template[i])
            i += 1
    if next(values, _MISSING) is not _MISSING:
        raise _intrinsic_failure("States.Format has more arguments than {}")
    return "".join(out)


def _fn_string_to_json(args: list[Any], _raw: list[str | None], _: UuidSource) -> Any:
    if len(args) != 1 or not isinstance(args[0], str):
        raise _intrinsic_failure("States.StringToJson takes one string")
    try:
        return json.loads(args[0])
    except json.JSONDecodeError as exc:
        raise _intrinsic_failure(f"States.StringToJson: {exc}") from exc


def _fn_json_to_string(args: list[Any], _raw: list[str | None], _: UuidSource) -> Any:
    if len(args) != 1:
        raise _intrinsic_failure("States.JsonToString takes one argument")
    return json.dumps(args[0], separators=(",", ":"))


def _fn_array(args: list[Any], _raw: list[str | None], _: UuidSource) -> Any:
    return list(args)


def _fn_array_length(args: list[Any], _raw: list[str | None], _: UuidSource) -> Any:
    if len(args) != 1 or not isinstance(args[0], list):
        raise _intrinsic_failure("States.ArrayLength takes one array")
    return len(args[0])


def _fn_array_get_item(args: list[Any], _raw: list[str | None], _: UuidSource) -> Any:
    if len(args) != 2 or not isinstance(args[0], list) or not _is_int(args[1]):
        raise _intrinsic_failure("States.ArrayGetItem takes an array and an integer index")
    if not 0 <= args[1] < len(args[0]):
        raise _intrinsic_failure(f"States.ArrayGetItem: index {args[1]} out of range")
    return args[0][args[1]]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _fn_math_add(args: list[Any], _raw: list[str | None], _: UuidSource) -> Any:
    if len(args) != 2 or not all(_is_int(a) for a in args):
        raise _intrinsic_failure("States.MathAdd takes two integers")
    return args[0] + args[1]


def _fn_uuid(args: list[Any], _raw: list[str | None], uuid_source: UuidSource) -> Any:
    if args:
        raise _intrinsic_failure("States.UUID takes no arguments")
    return uuid_source()


_HASHES = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}


def _fn_hash(args: list[Any], _raw: list[str | None], _: UuidSource) -> Any:
    if len(args) != 2 or not isinstance(args[0], str) or args[1] not in _HASHES:
        raise _intrinsic_failure(f"States.Hash takes a string and one of {', '.join(_HASHES)}")
    return hashlib.new(_HASHES[args[1]], args[0].encode()).hexdigest()


_INTRINSICS: dict[str, Callable[[list[Any], list[str | None], UuidSource], Any]] = {
    "States.Format": _fn_format,
    "States.StringToJson": _fn_string_to_json,
    "States.JsonToString": _fn_json_to_string,
    "States.Array": _fn_array,
    "States.ArrayLength": _fn_array_length,
    "States.ArrayGetItem": _fn_array_get_item,
    "States.MathAdd": _fn_math_add,
    "States.UUID": _fn_uuid,
    "States.Hash": _fn_hash,
}


# ----------------------------------------------------------------------------- definition

_COMMON = {"Type", "Comment"}
_IO = {"InputPath", "OutputPath"}
_FLOW = {"Next", "End"}
_FIELDS: dict[str, set[str]] = {
    "Task": _COMMON
    | _IO
    | _FLOW
    | {"Resource", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch"}
    | {"TimeoutSeconds", "HeartbeatSeconds"},
    "Pass": _COMMON | _IO | _FLOW | {"Result", "ResultPath", "Parameters"},
    "Choice": _COMMON | _IO | {"Choices", "Default"},
    "Wait": _COMMON | _IO | _FLOW | {"Seconds", "SecondsPath", "Timestamp", "TimestampPath"},
    "Succeed": _COMMON | _IO,
    "Fail": _COMMON | {"Error", "ErrorPath", "Cause", "CausePath"},
}
_TOP_FIELDS = {"StartAt", "States", "Comment", "Version", "TimeoutSeconds"}
_RETRY_FIELDS = {
    "ErrorEquals",
    "IntervalSeconds",
    "MaxAttempts",
    "BackoffRate",
    "MaxDelaySeconds",
    "Comment",
}
_CATCH_FIELDS = {"ErrorEquals", "Next", "ResultPath", "Comment"}

_CMP_KINDS = ("String", "Numeric", "Timestamp")
_CMP_OPS = ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
_TYPE_TESTS = ("IsPresent", "IsNull", "IsString", "IsNumeric", "IsBoolean", "IsTimestamp")
_COMPARATORS = {f"{k}{o}" for k in _CMP_KINDS for o in _CMP_OPS} | {
    "BooleanEquals",
    "StringMatches",
}
_OPERATORS = (
    _COMPARATORS | {f"{c}Path" for c in _COMPARATORS if c != "StringMatches"} | set(_TYPE_TESTS)
)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _operand_ok(op: str, value: Any) -> bool:
    if op.endswith("Path"):
        return isinstance(value, str)
    if op.startswith("Is") or op == "BooleanEquals":
        return isinstance(value, bool)
    if op.startswith("Numeric"):
        return _is_number(value)
    if op.startswith("Timestamp"):
        return _parse_ts(value) is not None
    return isinstance(value, str)


class _Validator:
    """Collects every problem in a definition (never stops at the first)."""

    def __init__(self, definition: Any) -> None:
        self.d = definition
        self.problems: list[str] = []
        self.names: set[str] = set()

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def run(self) -> list[str]:
        if not isinstance(self.d, dict):
            return ["(definition): must be a JSON object"]
        for key in sorted(set(self.d) - _TOP_FIELDS):
            self.add("(definition)", f"unknown field {key!r}")
        states = self.d.get("States")
        if not isinstance(states, dict) or not states:
            self.add("States", "must be a non-empty object")
            return self.problems
        self.names = set(states)
        start_at = self.d.get("StartAt")
        if start_at not in self.names:
            self.add("StartAt", f"names no state: {start_at!r}")
        self._check_timeout("(definition)", self.d.get("TimeoutSeconds", 1))
        for name, state in states.items():
            self._state(name, state)
        if not self.problems:
            self._graph(states, str(start_at))
        return self.problems

    def _check_timeout(self, where: str, value: Any) -> None:
        if not _is_int(value) or value <= 0:
            self.add(where, f"TimeoutSeconds must be a positive integer, got {value!r}")

    def _target(self, where: str, value: Any) -> None:
        if value not in self.names:
            self.add(where, f"names no state: {value!r}")

    def _path(self, where: str, value: Any, *, nullable: bool = True, context: bool = True) -> None:
        if value is None and nullable:
            return
        if not isinstance(value, str):
            self.add(where, f"must be a path string, got {value!r}")
            return
        try:
            parsed = _parse_path(value)
        except ValueError as exc:
            self.add(where, str(exc))
            return
        if parsed.context and not context:
            self.add(where, "cannot write into the context object ($$)")

    def _state(self, name: str, state: Any) -> None:
        where = f"States.{name}"
        if not isinstance(state, dict):
            self.add(where, "must be an object")
            return
        kind = state.get("Type")
        if kind not in _FIELDS:
            self.add(where, f"unsupported Type {kind!r} (supported: {', '.join(_FIELDS)})")
            return
        for key in sorted(set(state) - _FIELDS[kind]):
            self.add(where, f"unknown field {key!r} for a {kind} state")
        for key in ("InputPath", "OutputPath"):
            if key in state:
                self._path(f"{where}.{key}", state[key])
        if "ResultPath" in state:
            self._path(f"{where}.ResultPath", state["ResultPath"], context=False)
        for key in ("Parameters", "ResultSelector"):
            if key in state:
                self._template(f"{where}.{key}", state[key])
        if _FLOW & _FIELDS[kind]:
            self._flow(where, state)
        getattr(self, f"_state_{kind.lower()}")(where, state)

    def _flow(self, where: str, state: dict[str, Any]) -> None:
        has_next, end = "Next" in state, state.get("End")
        if has_next == (end is True):
            self.add(where, "needs exactly one of Next or End: true")
        if "End" in state and end is not True:
            self.add(f"{where}.End", "must be true when present")
        if has_next:
            self._target(f"{where}.Next", state["Next"])

    def _template(self, where: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key.endswith(".$"):
                    self._dynamic(f"{where}.{key}", item)
                else:
                    self._template(f"{where}.{key}", item)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self._template(f"{where}[{i}]", item)

    def _dynamic(self, where: str, value: Any) -> None:
        if isinstance(value, str) and value.startswith("States."):
            try:
                _IntrinsicParser(value).parse()
            except ValueError as exc:
                self.add(where, f"bad intrinsic function: {exc}")
        else:
            self._path(where, value, nullable=False)

    def _state_task(self, where: str, state: dict[str, Any]) -> None:
        if not isinstance(state.get("Resource"), str):
            self.add(where, "a Task needs a Resource string")
        for key in ("TimeoutSeconds", "HeartbeatSeconds"):
            if key in state:
                self._check_timeout(f"{where}.{key}", state[key])
        self._retriers(where, state.get("Retry", []))
        self._catchers(where, state.get("Catch", []))

    def _error_equals(self, where: str, value: Any) -> None:
        if not isinstance(value, list) or not value or not all(isinstance(e, str) for e in value):
            self.add(f"{where}.ErrorEquals", "must be a non-empty list of error names")
        elif "States.ALL" in value and len(value) > 1:
            self.add(f"{where}.ErrorEquals", "States.ALL must appear alone")

    def _retriers(self, where: str, retry: Any) -> None:
        if not isinstance(retry, list):
            self.add(f"{where}.Retry", "must be a list")
            return
        for i, r in enumerate(retry):
            w = f"{where}.Retry[{i}]"
            if not isinstance(r, dict):
                self.add(w, "must be an object")
                continue
            for key in sorted(set(r) - _RETRY_FIELDS):
                self.add(w, f"unknown field {key!r}")
            self._error_equals(w, r.get("ErrorEquals"))
            for key, minimum in (
                ("IntervalSeconds", 1),
                ("MaxAttempts", 0),
                ("MaxDelaySeconds", 1),
            ):
                if key in r and (not _is_int(r[key]) or r[key] < minimum):
                    self.add(f"{w}.{key}", f"must be an integer >= {minimum}")
            rate = r.get("BackoffRate", 2.0)
            if not _is_number(rate) or rate < 1:
                self.add(f"{w}.BackoffRate", "must be a number >= 1.0")

    def _catchers(self, where: str, catch: Any) -> None:
        if not isinstance(catch, list):
            self.add(f"{where}.Catch", "must be a list")
            return
        for i, c in enumerate(catch):
            w = f"{where}.Catch[{i}]"
            if not isinstance(c, dict):
                self.add(w, "must be an object")
                continue
            for key in sorted(set(c) - _CATCH_FIELDS):
                self.add(w, f"unknown field {key!r}")
            self._error_equals(w, c.get("ErrorEquals"))
            self._target(f"{w}.Next", c.get("Next"))
            if "ResultPath" in c:
                self._path(f"{w}.ResultPath", c["ResultPath"], context=False)

    def _state_pass(self, where: str, state: dict[str, Any]) -> None:
        pass

    def _state_succeed(self, where: str, state: dict[str, Any]) -> None:
        pass

    def _state_fail(self, where: str, state: dict[str, Any]) -> None:
        for key in ("Error", "Cause"):
            if key in state and f"{key}Path" in state:
                self.add(where, f"has both {key} and {key}Path")
            if key in state and not isinstance(state[key], str):
                self.add(f"{where}.{key}", "must be a string")
            if f"{key}Path" in state:
                self._path(f"{where}.{key}Path", state[f"{key}Path"], nullable=False)

    def _state_wait(self, where: str, state: dict[str, Any]) -> None:
        given = [k for k in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath") if k in state]
        if len(given) != 1:
            self.add(
                where,
                f"a Wait needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath (has {given or 'none'})",
            )
        if "Seconds" in state and (not _is_int(state["Seconds"]) or state["Seconds"] < 0):
            self.add(f"{where}.Seconds", "must be a non-negative integer")
        if "Timestamp" in state and _parse_ts(state["Timestamp"]) is None:
            self.add(f"{where}.Timestamp", f"not an RFC 3339 timestamp: {state['Timestamp']!r}")
        for key in ("SecondsPath", "TimestampPath"):
            if key in state:
                self._path(f"{where}.{key}", state[key], nullable=False)

    def _state_choice(self, where: str, state: dict[str, Any]) -> None:
        choices = state.get("Choices")
        if not isinstance(choices, list) or not choices:
            self.add(f"{where}.Choices", "must be a non-empty list")
            choices = []
        for i, rule in enumerate(choices):
            self._rule(f"{where}.Choices[{i}]", rule, top=True)
        if "Default" in state:
            self._target(f"{where}.Default", state["Default"])

    def _rule(self, where: str, rule: Any, *, top: bool) -> None:
        if not isinstance(rule, dict):
            self.add(where, "must be an object")
            return
        if top:
            self._target(f"{where}.Next", rule.get("Next"))
        elif "Next" in rule:
            self.add(where, "a nested rule cannot have Next")
        ops = [k for k in rule if k not in {"Next", "Comment", "Variable"}]
        if len(ops) != 1:
            self.add(where, f"needs exactly one operator, has {ops or 'none'}")
            return
        op = ops[0]
        if op in {"And", "Or"}:
            self._combinator(f"{where}.{op}", rule[op])
        elif op == "Not":
            self._rule(f"{where}.Not", rule["Not"], top=False)
        elif op not in _OPERATORS:
            self.add(where, f"unknown operator {op!r}")
        else:
            self._comparison(where, rule, op)

    def _combinator(self, where: str, rules: Any) -> None:
        if not isinstance(rules, list) or not rules:
            self.add(where, "must be a non-empty list of rules")
            return
        for i, sub in enumerate(rules):
            self._rule(f"{where}[{i}]", sub, top=False)

    def _comparison(self, where: str, rule: dict[str, Any], op: str) -> None:
        if "Variable" not in rule:
            self.add(where, f"{op} needs a Variable")
        else:
            self._path(f"{where}.Variable", rule["Variable"], nullable=False)
        if not _operand_ok(op, rule[op]):
            self.add(f"{where}.{op}", f"operand of the wrong type: {rule[op]!r}")
        elif op.endswith("Path"):
            self._path(f"{where}.{op}", rule[op], nullable=False)

    def _graph(self, states: dict[str, Any], start_at: str) -> None:
        seen: set[str] = set()
        todo = [start_at]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            todo.extend(_successors(states[name]))
        for name in states:
            if name not in seen:
                self.add(f"States.{name}", "is not reachable from StartAt")
        if not any(_is_terminal(states[n]) for n in seen):
            self.add("States", "no reachable terminal state (Succeed, Fail or End: true)")


def _successors(state: dict[str, Any]) -> list[str]:
    out = [state["Next"]] if "Next" in state else []
    out += [c["Next"] for c in state.get("Catch", [])]
    out += [c["Next"] for c in state.get("Choices", [])]
    if "Default" in state:
        out.append(state["Default"])
    return out


def _is_terminal(state: dict[str, Any]) -> bool:
    return state["Type"] in {"Succeed", "Fail"} or state.get("End") is True


@dataclass(frozen=True)
class StateMachine:
    """A validated ASL definition, ready to run.

    Build one with :meth:`from_json`; the constructor does not validate.

    Attributes:
        definition: the parsed definition (a JSON object).
        name: a name for the context object (``$$.StateMachine.Name``).
    """

    definition: dict[str, Any]
    name: str = "local"

    @classmethod
    def from_json(
        cls, source: str | bytes | Mapping[str, Any], *, name: str = "local"
    ) -> StateMachine:
        """Parse and validate a definition.

        Args:
            source: the definition as JSON text or an already-parsed mapping.
            name: the state machine's name, visible as ``$$.StateMachine.Name``.

        Returns:
            The validated machine.

        Raises:
            AslDefinitionError: listing every problem (bad JSON, unknown state types or fields,
                missing or unknown targets, unreachable states, no terminal state, bad Wait/Task/Retry/
                Catch/Choice shapes, malformed paths or intrinsic functions).
        """
        if isinstance(source, str | bytes):
            try:
                definition: Any = json.loads(source)
            except json.JSONDecodeError as exc:
                raise AslDefinitionError([f"(definition): not valid JSON: {exc}"]) from exc
        else:
            definition = copy.deepcopy(source)
        problems = _Validator(definition).run()
        if problems:
            raise AslDefinitionError(problems)
        return cls(definition, name)

    @property
    def start_at(self) -> str:
        """The name of the first state."""
        return str(self.definition["StartAt"])

    @property
    def states(self) -> dict[str, dict[str, Any]]:
        """The states by name."""
        states: dict[str, dict[str, Any]] = self.definition["States"]
        return states

    @property
    def timeout_seconds(self) -> int | None:
        """The global ``TimeoutSeconds``, if set."""
        value = self.definition.get("TimeoutSeconds")
        return int(value) if value is not None else None


# ----------------------------------------------------------------------------- execution snapshot


@dataclass
class Execution:
    """A JSON-serialisable snapshot of one execution, persisted between :func:`step` calls.

    Attributes:
        name: the execution name (``$$.Execution.Name`` and ``$$.Execution.Id``).
        input: the execution input.
        start_time: RFC 3339 start instant.
        status: RUNNING, SUCCEEDED or FAILED.
        state: the current state (the last one once finished).
        state_entered_time: RFC 3339 instant the current state was entered.
        data: the current state's raw input.
        wait_until: RFC 3339 instant to call :func:`step` again at, while waiting (Wait or Retry backoff).
        retry_counts: per state, attempts used by each of its retriers (reset when the state is entered).
        history: events (``ExecutionStarted``, ``StateEntered``, ``RetryScheduled``, ``WaitStarted``,
            ``ExecutionSucceeded``, ``ExecutionFailed``, ``TaskFailed``, ``Caught``), each with ``at``
            and ``state``.
        output: the execution output, once SUCCEEDED.
        error: the error name, once FAILED.
        cause: the failure cause, once FAILED.
    """

    name: str
    input: Any
    start_time: str
    state: str
    state_entered_time: str
    data: Any
    status: ExecutionStatus = ExecutionStatus.RUNNING
    wait_until: str | None = None
    retry_counts: dict[str, list[int]] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    output: Any = None
    error: str | None = None
    cause: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The snapshot as plain JSON values.

        Nested values (input, data, output) are shared with the snapshot, not copied: serialise or
        copy the result before changing it. (``dataclasses.asdict`` deep-copied every history entry on
        every save, which dominated long simulations.)
        """
        return {
            "name": self.name,
            "input": self.input,
            "start_time": self.start_time,
            "state": self.state,
            "state_entered_time": self.state_entered_time,
            "data": self.data,
            "status": self.status.value,
            "wait_until": self.wait_until,
            "retry_counts": {k: list(v) for k, v in self.retry_counts.items()},
            "history": [dict(event) for event in self.history],
            "output": self.output,
            "error": self.error,
            "cause": self.cause,
        }

    def copy(self) -> Execution:
        """An independent copy (history entries are never changed once written, so they are shared)."""
        return replace(
            self,
            input=_copy_json(self.input),
            data=_copy_json(self.data),
            retry_counts={k: list(v) for k, v in self.retry_counts.items()},
            history=list(self.history),
            output=_copy_json(self.output),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Execution:
        """Rebuild a snapshot from :meth:`to_dict` output (e.g. after ``json.loads``).

        Args:
            data: the mapping produced by :meth:`to_dict`.

        Returns:
            An equal :class:`Execution`.
        """
        values = dict(data)
        values["status"] = ExecutionStatus(values["status"])
        return cls(**values)

    @property
    def wait_until_datetime(self) -> datetime | None:
        """``wait_until`` as an aware datetime (``None`` when not waiting)."""
        return datetime.fromisoformat(self.wait_until) if self.wait_until else None

    @property
    def wait_until_epoch(self) -> float | None:
        """``wait_until`` as epoch seconds (``None`` when not waiting)."""
        t = self.wait_until_datetime
        return t.timestamp() if t is not None else None

    def __repr__(self) -> str:
        extra = f" until {self.wait_until}" if self.wait_until else ""
        if self.status is ExecutionStatus.FAILED:
            extra = f" {self.error}: {self.cause}"
        return f"<Execution {self.name} {self.status.value} at {self.state}{extra}>"


# ----------------------------------------------------------------------------- running


@dataclass(frozen=True, slots=True)
class _Next:
    """A state finished: go to ``target`` (``None`` = end the execution successfully)."""

    target: str | None
    output: Any


@dataclass(frozen=True, slots=True)
class _Wait:
    until: datetime


@dataclass(frozen=True, slots=True)
class _Failed:
    error: str
    cause: str


_Outcome = _Next | _Wait | _Failed


def _matches(error_equals: list[str], error: str) -> bool:
    # States.ALL never matches States.Runtime (AWS: it is not retriable and cannot be caught).
    return error in error_equals or ("States.ALL" in error_equals and error != "States.Runtime")


class _Run:
    """One :func:`step` call: runs states at a fixed ``now`` until a wait or the end."""

    def __init__(
        self,
        machine: StateMachine,
        ex: Execution,
        now: datetime,
        invoke: Invoke,
        uuid_source: UuidSource,
    ) -> None:
        self.machine = machine
        self.ex = ex
        self.now = now
        self.invoke = invoke
        self.uuid_source = uuid_source
        timeout = machine.timeout_seconds
        start = datetime.fromisoformat(ex.start_time)
        self.deadline = start + timedelta(seconds=timeout) if timeout is not None else None

    # -- bookkeeping

    def log(self, event: str, **detail: Any) -> None:
        self.ex.history.append(
            {"at": _iso(self.now), "event": event, "state": self.ex.state, **detail}
        )

    def enter(self, name: str, data: Any) -> None:
        self.ex.state = name
        self.ex.data = data
        self.ex.state_entered_time = _iso(self.now)
        self.ex.retry_counts[name] = [0] * len(self.machine.states[name].get("Retry", []))
        self.log("StateEntered")

    def finish_ok(self, output: Any) -> None:
        self.ex.status = ExecutionStatus.SUCCEEDED
        self.ex.output = output
        self.log("ExecutionSucceeded")

    def finish_failed(self, error: str, cause: str) -> None:
        self.ex.status = ExecutionStatus.FAILED
        self.ex.error = error
        self.ex.cause = cause
        self.ex.wait_until = None
        self.log("ExecutionFailed", error=error, cause=cause)

    def schedule(self, until: datetime, event: str, **detail: Any) -> None:
        if self.deadline is not None and until > self.deadline:
            until = self.deadline  # wake at the deadline so the timeout fires on time
        self.ex.wait_until = _iso(until)
        self.log(event, until=self.ex.wait_until, **detail)

    # -- the loop

    def run(self, max_transitions: int) -> None:
        for _ in range(max_transitions):
            if self.ex.status is not ExecutionStatus.RUNNING:
                return
            if self.deadline is not None and self.now >= self.deadline:
                timeout = self.machine.timeout_seconds
                self.finish_failed("States.Timeout", f"execution exceeded TimeoutSeconds={timeout}")
                return
            resumed = False
            if self.ex.wait_until is not None:
                if self.now < datetime.fromisoformat(self.ex.wait_until):
                    return
                self.ex.wait_until = None
                resumed = True
            if not self.advance(resumed):
                return
        self.finish_failed(
            "States.Runtime", f"more than {max_transitions} transitions in one step without waiting"
        )

    def advance(self, resumed: bool) -> bool:
        """Run the current state once; ``False`` when the step must stop (waiting)."""
        state = self.machine.states[self.ex.state]
        try:
            outcome = self.dispatch(state, resumed)
        except _StateError as err:
            outcome = self.on_error(state, err)
        if isinstance(outcome, _Wait):
            return False
        if isinstance(outcome, _Failed):
            self.finish_failed(outcome.error, outcome.cause)
        elif outcome.target is None:
            self.finish_ok(outcome.output)
        else:
            self.enter(outcome.target, outcome.output)
        return True

    def dispatch(self, state: dict[str, Any], resumed: bool) -> _Outcome:
        kind = state["Type"]
        if kind == "Task":
            return self.task(state)
        if kind == "Wait":
            return self.wait(state, resumed)
        if kind == "Choice":
            return self.choice(state)
        if kind == "Pass":
            return self.pass_(state)
        if kind == "Succeed":
            return _Next(None, self.output_path(state, self.input_path(state, self.ex.data)))
        return self.fail(state)

    # -- paths

    def context(self) -> dict[str, Any]:
        return {
            "Execution": {
                "Id": self.ex.name,
                "Name": self.ex.name,
                "Input": self.ex.input,
                "StartTime": self.ex.start_time,
            },
            "State": {
                "Name": self.ex.state,
                "EnteredTime": self.ex.state_entered_time,
                "RetryCount": sum(self.ex.retry_counts.get(self.ex.state, [])),
            },
            "StateMachine": {"Id": self.machine.name, "Name": self.machine.name},
        }

    def resolve(self, text: str, data: Any) -> Any:
        path = _parse_path(text)
        value = _lookup(self.context() if path.context else data, path.segments)
        if value is _MISSING:
            raise _runtime(
                f"path {text!r} did not resolve in {'the context object' if path.context else 'the state input'}"
            )
        return value  # shared, not copied: values are never mutated in place (see _set_path)

    def input_path(self, state: dict[str, Any], data: Any) -> Any:
        path = state.get("InputPath", "$")
        return {} if path is None else self.resolve(path, data)

    def output_path(self, state: dict[str, Any], data: Any) -> Any:
        path = state.get("OutputPath", "$")
        return {} if path is None else self.resolve(path, data)

    def result_path(self, path: str | None, raw_input: Any, result: Any) -> Any:
        if path is None:
            return raw_input
        return _set_path(raw_input, _parse_path(path), result)

    def template(self, value: Any, data: Any) -> Any:
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, item in value.items():
                if key.endswith(".$"):
                    out[key[:-2]] = self.dynamic(item, data)
                else:
                    out[key] = self.template(item, data)
            return out
        if isinstance(value, list):
            return [self.template(item, data) for item in value]
        return value

    def dynamic(self, text: str, data: Any) -> Any:
        if text.startswith("States."):
            return self.call(_IntrinsicParser(text).parse(), data)
        return self.resolve(text, data)

    def call(self, call: _Call, data: Any) -> Any:
        args: list[Any] = []
        raw: list[str | None] = []
        for arg in call.args:
            if isinstance(arg, _Lit):
                args.append(arg.value)
                raw.append(arg.raw)
            elif isinstance(arg, _Path):
                args.append(self.resolve(arg.text, data))
                raw.append(None)
            else:
                args.append(self.call(arg, data))
                raw.append(None)
        return _INTRINSICS[call.name](args, raw, self.uuid_source)

    # -- states

    def task(self, state: dict[str, Any]) -> _Outcome:
        raw = self.ex.data
        payload = self.input_path(state, raw)
        if "Parameters" in state:
            payload = self.template(state["Parameters"], payload)
        result = self.call_invoke(state["Resource"], payload)
        if "ResultSelector" in state:
            result = self.template(state["ResultSelector"], result)
        merged = self.result_path(state.get("ResultPath", "$"), raw, result)
        return _Next(state.get("Next"), self.output_path(state, merged))

    def call_invoke(self, resource: str, payload: Any) -> Any:
        try:
            result = self.invoke(resource, _copy_json(payload))
        except TaskFailed as exc:
            raise _StateError(exc.error, exc.cause) from exc
        except (
            Exception
        ) as exc:  # a task crash is its failure, as in Lambda; the text is kept as the cause
            raise _StateError("States.TaskFailed", f"{type(exc).__name__}: {exc}") from exc
        try:
            # Round-trip so the snapshot stays JSON and the task cannot alias our data.
            return json.loads(json.dumps(result))
        except (TypeError, ValueError) as exc:
            raise _runtime(f"task result is not JSON: {exc}") from exc

    def on_error(self, state: dict[str, Any], err: _StateError) -> _Outcome:
        if state["Type"] != "Task" or err.error == "States.Runtime":
            return _Failed(err.error, err.cause)
        self.log("TaskFailed", error=err.error, cause=err.cause)
        for i, retrier in enumerate(state.get("Retry", [])):
            if not _matches(retrier["ErrorEquals"], err.error):
                continue
            counts = self.ex.retry_counts.setdefault(self.ex.state, [0] * len(state["Retry"]))
            attempt = counts[i]
            if attempt < retrier.get("MaxAttempts", 3):
                delay = (
                    retrier.get("IntervalSeconds", 1) * retrier.get("BackoffRate", 2.0) ** attempt
                )
                if "MaxDelaySeconds" in retrier:
                    delay = min(delay, retrier["MaxDelaySeconds"])
                counts[i] = attempt + 1
                until = self.now + timedelta(seconds=delay)
                self.schedule(until, "RetryScheduled", error=err.error, attempt=attempt + 1)
                return _Wait(until)
            break  # the first matching retrier is exhausted: fall through to the catchers
        for catcher in state.get("Catch", []):
            if _matches(catcher["ErrorEquals"], err.error):
                info = {"Error": err.error, "Cause": err.cause}
                try:
                    output = self.result_path(catcher.get("ResultPath", "$"), self.ex.data, info)
                except _StateError as inner:
                    return _Failed(inner.error, inner.cause)
                self.log("Caught", error=err.error, next=catcher["Next"])
                return _Next(catcher["Next"], output)
        return _Failed(err.error, err.cause)

    def pass_(self, state: dict[str, Any]) -> _Outcome:
        raw = self.ex.data
        effective = self.input_path(state, raw)
        if "Parameters" in state:
            effective = self.template(state["Parameters"], effective)
        result = _copy_json(state["Result"]) if "Result" in state else effective
        merged = self.result_path(state.get("ResultPath", "$"), raw, result)
        return _Next(state.get("Next"), self.output_path(state, merged))

    def wait(self, state: dict[str, Any], resumed: bool) -> _Outcome:
        effective = self.input_path(state, self.ex.data)
        if not resumed:
            until = self.wait_target(state, effective)
            if until > self.now:
                self.schedule(until, "WaitStarted")
                return _Wait(until)
        return _Next(state.get("Next"), self.output_path(state, effective))

    def wait_target(self, state: dict[str, Any], effective: Any) -> datetime:
        entered = datetime.fromisoformat(self.ex.state_entered_time)
        if "Seconds" in state:
            return entered + timedelta(seconds=state["Seconds"])
        if "SecondsPath" in state:
            seconds = self.resolve(state["SecondsPath"], effective)
            if not _is_int(seconds) or seconds < 0:
                raise _runtime(
                    f"SecondsPath {state['SecondsPath']!r} gave {seconds!r}, not a non-negative integer"
                )
            return entered + timedelta(seconds=seconds)
        text = (
            state["Timestamp"]
            if "Timestamp" in state
            else self.resolve(state["TimestampPath"], effective)
        )
        ts = _parse_ts(text)
        if ts is None:
            raise _runtime(
                f"TimestampPath {state['TimestampPath']!r} gave {text!r}, not an RFC 3339 timestamp"
            )
        return ts

    def fail(self, state: dict[str, Any]) -> _Outcome:
        data = self.ex.data
        error = (
            self.resolve(state["ErrorPath"], data)
            if "ErrorPath" in state
            else state.get("Error", "")
        )
        cause = (
            self.resolve(state["CausePath"], data)
            if "CausePath" in state
            else state.get("Cause", "")
        )
        return _Failed(str(error), str(cause))

    def choice(self, state: dict[str, Any]) -> _Outcome:
        effective = self.input_path(state, self.ex.data)
        for rule in state["Choices"]:
            if self.rule(rule, effective):
                return _Next(rule["Next"], self.output_path(state, effective))
        if "Default" in state:
            return _Next(state["Default"], self.output_path(state, effective))
        return _Failed(
            "States.NoChoiceMatched",
            f"no choice rule matched in state {self.ex.state!r} and there is no Default",
        )

    def rule(self, rule: dict[str, Any], data: Any) -> bool:
        if "And" in rule:
            return all(self.rule(r, data) for r in rule["And"])
        if "Or" in rule:
            return any(self.rule(r, data) for r in rule["Or"])
        if "Not" in rule:
            return not self.rule(rule["Not"], data)
        op = next(k for k in rule if k in _OPERATORS)
        if op == "IsPresent":
            path = _parse_path(rule["Variable"])
            found = _lookup(self.context() if path.context else data, path.segments) is not _MISSING
            return found is rule[op]
        value = self.resolve(rule["Variable"], data)
        if op in _TYPE_TESTS:
            return _type_test(op, value) is rule[op]
        operand = rule[op]
        if op.endswith("Path"):
            op, operand = op[:-4], self.resolve(operand, data)
        return _compare(op, value, operand)


def _type_test(op: str, value: Any) -> bool:
    tests: dict[str, Callable[[Any], bool]] = {
        "IsNull": lambda v: v is None,
        "IsString": lambda v: isinstance(v, str),
        "IsNumeric": _is_number,
        "IsBoolean": lambda v: isinstance(v, bool),
        "IsTimestamp": lambda v: _parse_ts(v) is not None,
    }
    return tests[op](value)


def _string_matches(value: str, pattern: str) -> bool:
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        parts.append(".*" if pattern[i] == "*" else re.escape(pattern[i]))
        i += 1
    return re.fullmatch("".join(parts), value, flags=re.DOTALL) is not None


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": lambda a, b: bool(a == b),
    "LessThan": lambda a, b: bool(a < b),
    "GreaterThan": lambda a, b: bool(a > b),
    "LessThanEquals": lambda a, b: bool(a <= b),
    "GreaterThanEquals": lambda a, b: bool(a >= b),
}


def _compare(op: str, value: Any, operand: Any) -> bool:
    """A comparison; values of the wrong type never match (as in AWS)."""
    if op == "BooleanEquals":
        return isinstance(value, bool) and isinstance(operand, bool) and value is operand
    if op == "StringMatches":
        return isinstance(value, str) and _string_matches(value, operand)
    kind = next(k for k in _CMP_KINDS if op.startswith(k))
    relation = _ORDER[op[len(kind) :]]
    if kind == "String":
        return isinstance(value, str) and isinstance(operand, str) and relation(value, operand)
    if kind == "Numeric":
        ok = _is_number(value) and _is_number(operand) and not math.isnan(value)
        return ok and relation(value, operand)
    left, right = _parse_ts(value), _parse_ts(operand)
    return left is not None and right is not None and relation(left, right)


# ----------------------------------------------------------------------------- public API


def start(machine: StateMachine, input: Any, *, now: datetime, name: str = "local") -> Execution:  # noqa: A002 - ASL calls it input
    """Begin an execution: the snapshot sits at ``StartAt``, nothing has run yet.

    Args:
        machine: the validated state machine.
        input: the execution input (any JSON value; copied).
        now: the start instant (timezone-aware).
        name: the execution name (``$$.Execution.Name``).

    Returns:
        A RUNNING :class:`Execution`; pass it to :func:`step`.

    Raises:
        ValueError: ``now`` is naive.
    """
    _require_aware(now)
    data = json.loads(json.dumps(input))
    stamp = _iso(now)
    ex = Execution(
        name=name,
        input=_copy_json(data),
        start_time=stamp,
        state=machine.start_at,
        state_entered_time=stamp,
        data=data,
    )
    ex.retry_counts[machine.start_at] = [0] * len(machine.states[machine.start_at].get("Retry", []))
    ex.history.append({"at": stamp, "event": "ExecutionStarted", "state": None})
    ex.history.append({"at": stamp, "event": "StateEntered", "state": machine.start_at})
    return ex


def step(
    machine: StateMachine,
    execution: Execution,
    *,
    now: datetime,
    invoke: Invoke,
    uuid_source: UuidSource | None = None,
    max_transitions: int = 10_000,
) -> Execution:
    """Advance an execution as far as it can go at ``now``.

    Runs states until a Wait (or a Retry backoff) is not yet due, or the execution finishes. Calling
    it early (``now < wait_until``) or on a finished execution returns an unchanged copy.

    Args:
        machine: the state machine the execution belongs to.
        execution: the snapshot to advance (not modified).
        now: the current instant (timezone-aware).
        invoke: the Task callback ``invoke(resource, payload) -> result``.
        uuid_source: what ``States.UUID`` returns (default: random UUID4 strings).
        max_transitions: guard against loops without a Wait; exceeding it fails with ``States.Runtime``.

    Returns:
        The new snapshot.

    Raises:
        ValueError: ``now`` is naive.
    """
    _require_aware(now)
    ex = execution.copy()
    source = uuid_source or (lambda: str(uuid_module.uuid4()))
    _Run(machine, ex, now, invoke, source).run(max_transitions)
    return ex


def run_to_completion(
    machine: StateMachine,
    input: Any,  # noqa: A002 - ASL calls it input
    *,
    invoke: Invoke,
    clock: SteppingClock,
    uuid_source: UuidSource | None = None,
    name: str = "local",
    max_steps: int = 100_000,
) -> Execution:
    """Run an execution to its end, jumping a virtual clock to each ``wait_until`` (for tests, demos).

    Args:
        machine: the validated state machine.
        input: the execution input.
        invoke: the Task callback.
        clock: a clock with ``now()`` and ``advance_to(t)``.
        uuid_source: what ``States.UUID`` returns.
        name: the execution name.
        max_steps: guard against executions that never finish.

    Returns:
        The finished execution (SUCCEEDED or FAILED).

    Raises:
        RuntimeError: the execution was still running after ``max_steps`` steps.
    """
    ex = start(machine, input, now=clock.now(), name=name)
    for _ in range(max_steps):
        ex = step(machine, ex, now=clock.now(), invoke=invoke, uuid_source=uuid_source)
        until = ex.wait_until_datetime
        if ex.status is not ExecutionStatus.RUNNING or until is None:
            return ex
        if until > clock.now():
            clock.advance_to(until)
    raise RuntimeError(f"execution {name!r} still running after {max_steps} steps")
