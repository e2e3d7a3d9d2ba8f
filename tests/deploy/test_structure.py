"""Structure of the module, read with python-hcl2: what terraform test cannot see from inside.

* every ``${…}`` placeholder of deploy/statemachine.asl.json is supplied to templatefile;
* the alert rule's detail-types are the event catalogue's alerting types (regenerated and compared);
* the four tables declare the keys and indexes of interlock/store/specs.py;
* lambda_env.json names exactly the six functions, and the example's validation stamp is current.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

from interlock.events import CATALOGUE
from interlock.store.specs import TABLE_SPECS
from tests.deploy._tf import ASL, MODULE, ROOT, load_script

_OPTS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
SIX = {"stream_router", "orchestrator", "sla_monitor", "watchdog", "event_sink", "alert_dispatcher"}


def parse(name: str) -> dict[str, Any]:
    with (MODULE / name).open(encoding="utf-8") as fh:
        return dict(hcl2.load(fh, serialization_options=_OPTS))


def resources_of(name: str) -> dict[str, dict[str, Any]]:
    """{type: {name: body}} over every resource block of a file."""
    out: dict[str, dict[str, Any]] = {}
    for block in parse(name).get("resource", []):
        for rtype, named in block.items():
            out.setdefault(rtype, {}).update(named)
    return out


def locals_of(name: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for block in parse(name).get("locals", []):
        out.update(block)
    return out


def test_every_asl_placeholder_is_supplied() -> None:
    placeholders = set(re.findall(r"\$\{([^}]+)\}", ASL.read_text(encoding="utf-8")))
    supplied = set(locals_of("stepfunctions.tf")["asl_vars"])
    assert placeholders, "the ASL has no placeholder: the orchestrator ARN must be templated"
    missing = placeholders - supplied
    assert not missing, (
        f"templatefile does not supply {sorted(missing)} (deploy/terraform/stepfunctions.tf asl_vars)"
    )


def test_state_machine_is_templated_from_the_asl_file() -> None:
    resources = resources_of("stepfunctions.tf")
    assert (
        "templatefile(local.asl_path, local.asl_vars)"
        in resources["aws_sfn_state_machine"]["this"]["definition"]
    )
    assert locals_of("stepfunctions.tf")["asl_path"] == "${path.module}/../statemachine.asl.json"


def test_alert_types_match_the_catalogue() -> None:
    gen = load_script("gen_alert_types")
    committed = (MODULE / "alert_types.json").read_text(encoding="utf-8")
    assert committed == gen.render(), (
        "alert_types.json drifted from interlock/events.py: run `make alert-types`"
    )
    expected = [str(t) for t, spec in CATALOGUE.items() if spec.alerts]
    assert json.loads(committed)["alert_types"] == expected
    assert (
        "INFRA_ALARM" in expected and "JOB_TRIGGERED" not in expected
    )  # sanity of the filter itself


def test_alert_rule_uses_the_generated_types() -> None:
    rules = resources_of("eventbridge.tf")
    pattern = rules["aws_cloudwatch_event_rule"]["alerts"]["event_pattern"]
    assert "local.alert_types" in pattern and "interlock" in pattern
    assert (
        'jsondecode(file("${path.module}/alert_types.json")).alert_types'
        in locals_of("locals.tf")["alert_types"]
    )


def test_tables_match_the_store_specs() -> None:
    local = locals_of("dynamodb.tf")
    indexes = local["table_indexes"]
    streams = local["table_streams"]
    assert set(indexes) == set(TABLE_SPECS)
    for name, spec in TABLE_SPECS.items():
        declared = {
            g: (i["hash"], i["range"], i["range_type"]) for g, i in (indexes[name] or {}).items()
        }
        assert declared == {i.name: (i.pk, i.sk, i.sk_type) for i in spec.indexes}, name
        assert streams[name] is spec.stream, name


def test_env_contract_names_the_six_functions() -> None:
    contract = json.loads((MODULE / "lambda_env.json").read_text(encoding="utf-8"))
    assert set(contract) - {"_comment"} == SIX
    functions = locals_of("locals.tf")["functions"]
    assert set(functions) == SIX
    assert set(locals_of("locals.tf")["lambda_env"]) == SIX
    for name, entry in contract.items():
        if name != "_comment":
            assert {"ENVIRONMENT", "CONTROL_TABLE", "EVENTS_TABLE", "EVENT_BUS_NAME"} <= set(
                entry["required"]
            )


def test_handler_strings() -> None:
    resources = resources_of("lambda.tf")
    fn = resources["aws_lambda_function"]["this"]
    assert fn["handler"] == "lambdas.${each.key}.handler"
    assert fn["runtime"] == "python3.12" and fn["architectures"] == ["arm64"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_example_validation_stamp_is_current() -> None:
    pipelines = ROOT / "examples" / "pipelines"
    stamp = json.loads((pipelines / "interlock-validated.json").read_text(encoding="utf-8"))
    assert stamp["valid"] is True
    on_disk = {p.name for p in pipelines.glob("*.y*ml")}
    assert {Path(f).name for f in stamp["files"] if not f.startswith("..")} == on_disk
    stale = [f for f, sha in stamp["files"].items() if _sha(pipelines / f) != sha]
    assert not stale, f"run `python deploy/validate_configs.py examples/pipelines`: {stale} changed"
    # the rows are what `interlock config push` would write for the same files
    fresh = load_script("validate_configs").build_stamp(
        pipelines, None, stamp, __import__("datetime").datetime.now(__import__("datetime").UTC)
    )
    assert {k: v["config"] for k, v in fresh["pipelines"].items()} == {
        k: v["config"] for k, v in stamp["pipelines"].items()
    }
    assert fresh == stamp  # timestamps kept from the previous stamp: no-op plans


def test_validate_configs_refuses_and_records_problems(tmp_path: Path) -> None:
    src = ROOT / "tests" / "configs" / "broken" / "bad-types.yaml"
    (tmp_path / "bad-types.yaml").write_bytes(src.read_bytes())
    script = load_script("validate_configs")
    assert script.main([str(tmp_path)]) == 2
    stamp = json.loads((tmp_path / "interlock-validated.json").read_text(encoding="utf-8"))
    assert stamp["valid"] is False and stamp["pipelines"] == {}
    assert any(e["key"] == "schedule.timezone" for e in stamp["errors"])
    assert stamp["files"] == {"bad-types.yaml": _sha(src)}
