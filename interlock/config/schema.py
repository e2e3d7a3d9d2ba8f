"""JSON Schemas generated from the config models, for editors (VS Code YAML) and other tools.

The committed copies live in ``schema/`` at the repository root; a test fails when they drift from the
models. Regenerate them with ``interlock schema --write schema/``.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from interlock.config.models import Calendar, PipelineConfig

__all__ = ["SCHEMA_FILES", "calendar_schema", "pipeline_schema", "schema_text"]

SCHEMA_FILES = {"pipeline": "pipeline.schema.json", "calendar": "calendar.schema.json"}


def _finish(schema: dict[str, Any], title: str, name: str) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://interlock.dev/schema/{name}",
        **schema,
        "title": title,
    }


def pipeline_schema() -> dict[str, Any]:
    """The JSON Schema of a pipeline file."""
    return _finish(
        PipelineConfig.model_json_schema(mode="validation"),
        "Interlock pipeline",
        SCHEMA_FILES["pipeline"],
    )


def calendar_schema() -> dict[str, Any]:
    """The JSON Schema of a named calendar file."""
    return _finish(
        Calendar.model_json_schema(mode="validation"),
        "Interlock calendar",
        SCHEMA_FILES["calendar"],
    )


def schema_text(kind: Literal["pipeline", "calendar"] = "pipeline") -> str:
    """The schema as stable, pretty JSON text ending in a newline."""
    schema = pipeline_schema() if kind == "pipeline" else calendar_schema()
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
