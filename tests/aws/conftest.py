"""moto for the AWS tests: fake credentials, one region, and the stream-mode fix for boto3 ≥ 1.44."""

from __future__ import annotations

import types
from typing import TYPE_CHECKING, Any

import pytest
from moto import mock_aws

if TYPE_CHECKING:
    from collections.abc import Iterator

REGION = "us-east-1"
ACCOUNT = "123456789012"
MOTO_CONFIG: Any = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}


def set_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }.items():
        monkeypatch.setenv(var, value)


def instant_moto_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's Step Functions sleep through every Wait state and Retry interval in real time: make
    them take no time (the execution history still records each Wait and retry; what a test checks
    is the states visited and the decisions, not the wall time spent).

    The state machines the tests run make their decisions on virtual clocks or on the wall clock
    with sensors already in place, so no loop waits on real time passing.
    """
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

    def no_wait(self: Any, env: Any, wait_seconds: int) -> None:
        """A Wait state of any length ends at once."""

    monkeypatch.setattr(wait_function.WaitFunction, "_wait_interval", no_wait)
    monkeypatch.setattr(retrier_decl, "time", types.SimpleNamespace(sleep=lambda _s: None))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Plain moto (no ASL execution)."""
    set_aws_env(monkeypatch)
    with mock_aws():
        yield


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The unused-grant figure: granted actions no handler called in this process's moto runs.

    Printed, not asserted (the runs do not reach every path); under xdist each worker's figure stays
    in the worker: run ``pytest -n 0 tests/aws`` to see it.
    """
    from tests.aws.harness import RECORDED
    from tests.deploy.iam_recorder import granted, unused_grants

    if not RECORDED:
        return
    code = {fn: set(g["code"]) for fn, g in granted().items()}
    unused = unused_grants(RECORDED, code)
    total = sum(len(g) for g in code.values())
    idle = sum(len(u) for u in unused.values())
    terminalreporter.write_sep("-", "IAM grants against the calls the Lambdas made under moto")
    terminalreporter.write_line(
        f"{total - idle} of {total} granted actions used; missing grants: none (each test checks)"
    )
    for fn, actions in unused.items():
        if actions:
            terminalreporter.write_line(f"  {fn} never called: {', '.join(actions)}")
