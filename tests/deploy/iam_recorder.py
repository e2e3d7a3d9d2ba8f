"""Record the AWS calls code makes, as IAM actions, to prove each role's grants against the code.

The plan (DESIGN §7, issue 15 "IAM proven against the code"):

1. ``deploy/terraform/tests/iam_actions.json`` lists the IAM actions each function's role allows in the
   default configuration; ``terraform test`` asserts the module's jsonencode'd policies grant exactly
   those (so the file cannot drift from the module).
2. The moto end-to-end run of the Lambdas (not written yet: it needs lambdas/) wraps each handler
   invocation in :class:`CallRecorder`, giving ``{function: {"dynamodb:PutItem", ...}}``.
3. :func:`compare` of the two: an action the code calls that the role lacks is a missing grant (fails in
   AWS with AccessDenied); an action granted that no handler called in the run is an unused broad grant.

The recorder patches ``botocore.client.BaseClient._make_api_call``, so it sees every client, including
the ones the DynamoDB store builds from its own botocore session. IAM action prefixes are the service's
signing name (``dynamodbstreams`` calls sign as ``dynamodb``, Step Functions as ``states``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import botocore.client  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from types import TracebackType

# where the signing name is not the IAM prefix
_PREFIX = {"scheduler": "scheduler"}


def iam_action(client: Any, operation: str) -> str:
    """``"<iam prefix>:<Operation>"`` for a botocore client call."""
    model = client.meta.service_model
    prefix = model.signing_name or model.endpoint_prefix
    return f"{_PREFIX.get(prefix, prefix)}:{operation}"


@dataclass
class CallRecorder:
    """Context manager: every botocore call inside it is recorded under :attr:`current` (a function name)."""

    calls: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    current: str = "?"
    _original: Any = None

    def __enter__(self) -> CallRecorder:
        original = botocore.client.BaseClient._make_api_call
        recorder = self

        def recording(client: Any, operation_name: str, api_params: Any) -> Any:
            recorder.calls[recorder.current].add(iam_action(client, operation_name))
            return original(client, operation_name, api_params)

        self._original = original
        botocore.client.BaseClient._make_api_call = recording
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        botocore.client.BaseClient._make_api_call = self._original

    def as_function(self, name: str) -> _As:
        """``with recorder.as_function("event_sink"): handler(event, ctx)``."""
        return _As(self, name)


@dataclass
class _As:
    recorder: CallRecorder
    name: str
    _previous: str = "?"

    def __enter__(self) -> None:
        self._previous, self.recorder.current = self.recorder.current, self.name

    def __exit__(self, *exc: object) -> None:
        self.recorder.current = self._previous


def compare(
    recorded: Mapping[str, set[str]], allowed: Mapping[str, list[str] | set[str]]
) -> Iterator[str]:
    """Problems: calls a role does not allow (missing grant), grants no call used (unused grant)."""
    for fn in sorted(set(recorded) | set(allowed)):
        calls = set(recorded.get(fn, set()))
        grants = set(allowed.get(fn, []))
        for action in sorted(calls - grants):
            yield f"{fn}: calls {action}, which its role does not allow"
        for action in sorted(grants - calls):
            yield f"{fn}: role allows {action}, which no call in the run used"
