"""The Terraform module's operator policies against what the CLI and the TUI's API really call.

``deploy/terraform/operators.tf`` defines two policies for people: ``read_only`` (the board, the tail,
explain) and ``operator`` (read_only plus reruns, acks and dry-run switches). A deployment under moto is
read and acted on through the real faces — every read the TUI makes through :class:`interlock.Interlock`
and the CLI's ``events tail`` and ``sensor ls``; then ``rerun``, ``ack`` and ``dry-run`` on and off —
with every botocore call recorded as its IAM action (:mod:`tests.deploy.iam_recorder`). Asserted: each recorded
read is granted by ``read_only``; each operator call by ``operator``; ``read_only`` grants no write at
all (checked on the policy's action lists, the same lists ``terraform test`` renders; not an IAM policy
simulation, which moto does not offer); every write grant ``operator`` adds is used. Read grants no face
used are printed, not asserted.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import hcl2
import pytest
from hcl2 import SerializationOptions

from tests.aws.conftest import set_aws_env
from tests.deploy._tf import MODULE
from tests.deploy.iam_recorder import CallRecorder

if TYPE_CHECKING:
    from collections.abc import Iterator

ENV = "ops"
URL = f"dynamodb://{ENV}?region=us-east-1"
NEEDS_NO_GRANT = {"sts:GetCallerIdentity"}  # IAM always allows it (the actor of operator actions)
WRITE_VERBS = ("Put", "Update", "Delete", "Write", "Start", "Stop", "Send", "Create", "Tag", "Pass")


def policy_actions() -> tuple[set[str], set[str]]:
    """(read_only actions, operator actions) from operators.tf and the shared statement in iam.tf."""
    opts = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
    with (MODULE / "operators.tf").open(encoding="utf-8") as fh:
        local = dict(hcl2.load(fh, serialization_options=opts))["locals"][0]
    with (MODULE / "iam.tf").open(encoding="utf-8") as fh:
        shared = dict(hcl2.load(fh, serialization_options=opts))["locals"][0]

    def actions(statements: list[Any]) -> set[str]:
        out: set[str] = set()
        for statement in statements:
            if isinstance(statement, str):  # a reference such as ${local.st_put_events}
                statement = shared[statement.strip("${}").removeprefix("local.")]
            out.update(statement["Action"])
        return out

    read = actions(local["operator_read_statements"])
    return read, read | actions(local["operator_write_statements"])


@pytest.fixture
def deployment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from moto import mock_aws

    set_aws_env(monkeypatch)
    monkeypatch.delenv("INTERLOCK_ACTOR", raising=False)
    with mock_aws():
        import boto3  # type: ignore[import-untyped]

        from interlock.cli import main
        from interlock.store.dynamodb import create_tables

        create_tables(ENV, region="us-east-1")
        boto3.client("events", region_name="us-east-1").create_event_bus(
            Name=f"{ENV}-interlock-events"
        )
        assert main(["config", "push", "examples/pipelines", "--store", URL]) == 0
        table = boto3.resource("dynamodb", region_name="us-east-1").Table(
            f"{ENV}-interlock-control"
        )
        table.put_item(Item={"PK": "PIPELINE#silver-orders", "SK": "SENSOR#orders-landed",
                             "data": {"status": "ready", "date": "2026-03-02"}})  # fmt: skip
        yield


def test_read_only_and_operator_policies_cover_the_faces_and_read_only_writes_nothing(
    deployment: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from interlock import Interlock
    from interlock.cli import main

    read_grants, operator_grants = policy_actions()
    recorder = CallRecorder().patch(monkeypatch)
    # GIVEN an on-call engineer at the TUI (its API calls) and the read-only CLI
    with recorder.as_function("read_only"):
        api = Interlock.aws(environment=ENV, region="us-east-1")
        pids = [p.pipeline_id for p in api.pipelines()]
        assert pids
        api.board()
        for pid in pids:
            api.status(pid)
            api.explain(pid)
            api.sensors(pid)
            api.events(pid)
            api.runs(pid)
            api.acks(pid)
            api.rerun_outlook(pid)
        api.events()
        list(api.tail(api.now() - timedelta(hours=1)))
        api.close()
        assert main(["events", "tail", "--store", URL, "--json"]) == 0
        assert main(["sensor", "ls", "silver-orders", "--store", URL]) == 0
    # AND an operator acting through the CLI
    with recorder.as_function("operator"):
        assert main(["rerun", "silver-orders", "--yes", "--store", URL]) == 0
        assert main(["ack", "gold-revenue", "--reason", "known", "--store", URL]) == 0
        assert main(["dry-run", "on", "gold-revenue", "--reason", "shadow", "--store", URL]) == 0
        assert main(["dry-run", "off", "gold-revenue", "--reason", "done", "--store", URL]) == 0
    capsys.readouterr()
    calls = recorder.by_function()
    reads, acts = calls["read_only"] - NEEDS_NO_GRANT, calls["operator"] - NEEDS_NO_GRANT
    # THEN every call is granted by the role's policy
    assert reads - read_grants == set(), "read-only faces call what read_only does not grant"
    assert acts - operator_grants == set(), "operator actions call what operator does not grant"
    # AND the read-only policy grants no write, and reading needed none
    writes = {a for a in read_grants if a.split(":", 1)[1].startswith(WRITE_VERBS)}
    assert writes == set()
    assert {a for a in reads if a.split(":", 1)[1].startswith(WRITE_VERBS)} == set()
    # AND every write the operator policy adds is used by an action (dry-run off: the DeleteItem of
    # the override; no UpdateItem, no ConditionCheckItem: nothing updates or makes a transaction)
    assert (operator_grants - read_grants) - acts == set(), "an operator write grant no action used"
    unused = {"read_only": sorted(read_grants - reads), "operator": sorted(operator_grants - acts)}
    print("operator policies, grants no face used:", json.dumps(unused))
