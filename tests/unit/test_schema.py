"""The committed JSON Schemas (``schema/*.json``): up to date with the models, valid, and agreeing with them.

Editors (the VS Code YAML extension) validate pipeline files against these copies, so a drift would show
users errors the loader does not make, or hide ones it does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs in the dev extra
import pytest

from interlock.config.models import Calendar
from interlock.config.schema import SCHEMA_FILES, schema_text
from interlock.config.yamlsource import read_yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = REPO_ROOT / "schema"
EXAMPLES = REPO_ROOT / "examples"
BROKEN = REPO_ROOT / "tests" / "configs" / "broken"
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


def _committed(kind: str) -> dict[str, Any]:
    data = json.loads((SCHEMA_DIR / SCHEMA_FILES[kind]).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _validator(kind: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        _committed(kind), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def _yaml_data(path: Path) -> Any:
    # Read as the loader reads it (YAML 1.2 scalars), so `deadline: 10:00` is the string "10:00".
    doc = read_yaml(path.read_text(encoding="utf-8"))
    assert not doc.problems, doc.problems
    return doc.data


@pytest.mark.parametrize("kind", sorted(SCHEMA_FILES))
def test_committed_schema_is_up_to_date(kind: str) -> None:
    committed = (SCHEMA_DIR / SCHEMA_FILES[kind]).read_text(encoding="utf-8")
    assert committed == schema_text(kind), (  # type: ignore[arg-type]
        f"schema/{SCHEMA_FILES[kind]} is out of date with the config models: run `make schema` "
        "and commit the result"
    )


@pytest.mark.parametrize("kind", sorted(SCHEMA_FILES))
def test_committed_schema_is_a_valid_draft_2020_12_schema(kind: str) -> None:
    schema = _committed(kind)
    assert schema["$schema"] == DRAFT_2020_12
    assert jsonschema.validators.validator_for(schema) is jsonschema.Draft202012Validator
    jsonschema.Draft202012Validator.check_schema(schema)  # raises SchemaError when invalid
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize(
    "file", sorted((EXAMPLES / "pipelines").glob("*.yaml")), ids=lambda p: p.name
)
def test_example_pipeline_matches_the_schema(file: Path) -> None:
    errors = [
        f"{e.json_path}: {e.message}" for e in _validator("pipeline").iter_errors(_yaml_data(file))
    ]
    assert errors == []


@pytest.mark.parametrize(
    "file", sorted((EXAMPLES / "calendars").glob("*.yaml")), ids=lambda p: p.name
)
def test_example_calendar_matches_the_schema(file: Path) -> None:
    errors = [e.message for e in _validator("calendar").iter_errors(_yaml_data(file))]
    assert errors == []


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("unknown-key-typo.yaml", "$.sla"),  # additionalProperties: false
        ("wrong-case-key.yaml", "$.job"),
        ("missing-job.yaml", "$"),
        ("unknown-job-type.yaml", "$.job"),
        ("max-retries-20.yaml", "$.job"),
        ("include-empty-dates.yaml", "$.schedule.include"),  # minItems inside an anyOf
    ],
)
def test_schema_refuses_what_the_loader_refuses(name: str, where: str) -> None:
    errors = list(_validator("pipeline").iter_errors(_yaml_data(BROKEN / name)))
    assert errors
    assert any(e.json_path == where for e in errors), [(e.json_path, e.message) for e in errors]


def test_calendar_schema_accepts_the_weekday_spellings_the_loader_accepts() -> None:
    data = {"name": "weekend", "days": ["sat", "Sunday"]}
    assert Calendar.model_validate(data).days == ("saturday", "sunday")
    assert [e.message for e in _validator("calendar").iter_errors(data)] == []
