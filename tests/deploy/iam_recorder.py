"""Record the AWS calls code makes, as IAM actions, to prove each role's grants against the code.

The plan (DESIGN §7, issue 15 "IAM proven against the code"):

1. ``deploy/terraform/tests/iam_actions.json`` lists the IAM actions each function's role allows in the
   default configuration; ``terraform test`` asserts the module's jsonencode'd policies grant exactly
   those (so the file cannot drift from the module).
2. The moto end-to-end and watchdog runs of the Lambdas (tests/aws, through ``AwsWorld``) wrap each
   handler invocation in :meth:`CallRecorder.as_function`, giving ``{function: {"dynamodb:PutItem",
   ...}}``; calls the test itself makes (setup, reading results) are recorded under ``"?"`` and ignored.
3. :func:`missing_grants`: an action the code calls that the role lacks fails the test (it would fail
   in AWS with AccessDenied). :func:`unused_grants`: actions granted that no call in the run used, a
   figure printed at the end of the run (``pytest -n 0 tests/aws``); ``tests/aws/test_iam_exact.py``
   asserts it, in one world that drives each handler down its grants' paths: what is granted and not
   used there must be exactly its short list of paths moto does not reach, each with its reason.

The recorder patches ``botocore.client.BaseClient._make_api_call``, so it sees every client, including
the ones the DynamoDB store builds from its own botocore session. IAM action prefixes are the service's
signing name (``dynamodbstreams`` calls sign as ``dynamodb``, Step Functions as ``states``). The function
being run is per thread: moto runs a state machine's Task (our orchestrator) on its own thread while the
test thread pumps the streams. IAM authorises ``TransactWriteItems`` by the action of each item (Put,
Update, Delete, ConditionCheck) and ``TransactGetItems`` by ``GetItem``; a Scheduler call that passes a
role implies ``iam:PassRole``.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import botocore.client  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    import pytest

ACTIONS_FILE = Path(__file__).parents[2] / "deploy" / "terraform" / "tests" / "iam_actions.json"
"""What each role grants (``terraform test`` asserts the module grants exactly this)."""

UNATTRIBUTED = "?"

# where the signing name is not the IAM prefix
_PREFIX = {"scheduler": "scheduler"}
_TRANSACT_ITEM = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
_PASSES_ROLE = {"CreateSchedule", "UpdateSchedule"}


def iam_action(client: Any, operation: str) -> str:
    """``"<iam prefix>:<Operation>"`` for a botocore client call."""
    model = client.meta.service_model
    prefix = model.signing_name or model.endpoint_prefix
    return f"{_PREFIX.get(prefix, prefix)}:{operation}"


def iam_actions(client: Any, operation: str, params: Any) -> set[str]:
    """The IAM actions a call needs (a transaction: its items' actions; see the module docstring)."""
    action = iam_action(client, operation)
    prefix = action.split(":", 1)[0]
    if operation in ("TransactWriteItems", "TransactGetItems") and isinstance(params, dict):
        return {
            f"{prefix}:{_TRANSACT_ITEM[kind]}"
            for item in params.get("TransactItems", [])
            for kind in item
            if kind in _TRANSACT_ITEM
        }
    if prefix == "scheduler" and operation in _PASSES_ROLE:
        return {action, "iam:PassRole"}
    return {action}


@dataclass
class CallRecorder:
    """Records every botocore call under the function being run on the calling thread."""

    calls: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    _local: threading.local = field(default_factory=threading.local)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _original: Any = None

    @property
    def current(self) -> str:
        """The function the calling thread runs (``"?"``: the test itself)."""
        return str(getattr(self._local, "name", UNATTRIBUTED))

    def _recording(self, original: Any) -> Callable[..., Any]:
        recorder = self

        def recording(client: Any, operation_name: str, api_params: Any) -> Any:
            actions = iam_actions(client, operation_name, api_params)
            with recorder._lock:
                recorder.calls[recorder.current].update(actions)
            return original(client, operation_name, api_params)

        return recording

    def __enter__(self) -> CallRecorder:
        self._original = botocore.client.BaseClient._make_api_call
        botocore.client.BaseClient._make_api_call = self._recording(self._original)
        return self

    def __exit__(self, *exc: object) -> None:
        botocore.client.BaseClient._make_api_call = self._original

    def patch(self, monkeypatch: pytest.MonkeyPatch) -> CallRecorder:
        """Record until the test ends (``monkeypatch`` undoes it)."""
        original = botocore.client.BaseClient._make_api_call
        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", self._recording(original))
        return self

    def as_function(self, name: str) -> _As:
        """``with recorder.as_function("event_sink"): handler(event, ctx)``."""
        return _As(self, name)

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` recorded as ``name`` on every call."""

        def recorded(*args: Any, **kwargs: Any) -> Any:
            with self.as_function(name):
                return fn(*args, **kwargs)

        return recorded

    def by_function(self) -> dict[str, set[str]]:
        """What each function called (the test's own calls left out)."""
        with self._lock:
            return {fn: set(a) for fn, a in self.calls.items() if fn != UNATTRIBUTED}


@dataclass
class _As:
    recorder: CallRecorder
    name: str
    _previous: str = UNATTRIBUTED

    def __enter__(self) -> None:
        self._previous = self.recorder.current
        self.recorder._local.name = self.name

    def __exit__(self, *exc: object) -> None:
        self.recorder._local.name = self._previous


def granted() -> dict[str, dict[str, list[str]]]:
    """``{function: {"code": [...], "event_source": [...]}}`` from :data:`ACTIONS_FILE`."""
    data = json.loads(ACTIONS_FILE.read_text(encoding="utf-8"))
    return {fn: grants for fn, grants in data.items() if not fn.startswith("_")}


def allowed(grants: Mapping[str, Mapping[str, list[str]]] | None = None) -> dict[str, set[str]]:
    """Every action each role allows (the code's and the event source mapping's)."""
    grants = granted() if grants is None else grants
    return {fn: {*g.get("code", []), *g.get("event_source", [])} for fn, g in grants.items()}


def missing_grants(
    recorded: Mapping[str, set[str]], allowed: Mapping[str, set[str] | list[str]]
) -> list[str]:
    """Calls a role does not allow (each would be AccessDenied in AWS)."""
    return [
        f"{fn}: calls {action}, which its role does not allow"
        for fn in sorted(recorded)
        for action in sorted(set(recorded[fn]) - set(allowed.get(fn, [])))
    ]


def unused_grants(
    recorded: Mapping[str, set[str]], code_grants: Mapping[str, set[str] | list[str]]
) -> dict[str, list[str]]:
    """Per function, the code grants no recorded call used."""
    return {
        fn: sorted(set(grants) - set(recorded.get(fn, set())))
        for fn, grants in sorted(code_grants.items())
    }


def compare(
    recorded: Mapping[str, set[str]], allowed: Mapping[str, list[str] | set[str]]
) -> Iterator[str]:
    """Problems: calls a role does not allow (missing grant), grants no call used (unused grant)."""
    yield from missing_grants(recorded, allowed)
    for fn, actions in unused_grants(recorded, allowed).items():
        for action in actions:
            yield f"{fn}: role allows {action}, which no call in the run used"
