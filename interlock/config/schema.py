"""JSON Schemas generated from the config models, for editors (VS Code YAML) and other tools.

The committed copies live in ``schema/`` at the repository root; a test fails when they drift from the
models. Regenerate them with ``interlock schema --write schema/``.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel
from pydantic._internal._docs_extraction import extract_docstrings_from_cls

from interlock.config import jobs, models, values
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


@cache
def _document_fields() -> None:
    """Give every config model's fields their docstrings as descriptions, once per process.

    The models do not ask pydantic for ``use_attribute_docstrings`` (it re-parses each class's source at
    import, which every config reader would pay); the schema is the only place the descriptions are read,
    so they are attached here with pydantic's own extractor and the models rebuilt, bases first, so
    that nested models carry them into the schema too.
    """
    homes = (values, jobs, models)  # dependency order: a model follows every model it refers to
    names = {home.__name__ for home in homes}
    classes = [
        obj
        for home in homes
        for obj in vars(home).values()
        if isinstance(obj, type) and issubclass(obj, BaseModel) and obj.__module__ == home.__name__
    ]
    docs: dict[type, dict[str, str]] = {}
    for cls in classes:
        merged: dict[str, str] = {}
        # bases first, so that a field redeclared in a subclass keeps the subclass's docstring
        for base in reversed(cls.__mro__):
            if base in docs or base.__module__ in names:
                merged.update(docs.get(base) or extract_docstrings_from_cls(base, use_inspect=True))
        docs[cls] = merged
        for name, field in cls.model_fields.items():
            if field.description is None and name in merged:
                field.description = merged[name]
    # definition order: a model is rebuilt after every model it refers to
    for cls in classes:
        cls.model_rebuild(force=True)


def pipeline_schema() -> dict[str, Any]:
    """The JSON Schema of a pipeline file."""
    _document_fields()
    return _finish(
        PipelineConfig.model_json_schema(mode="validation"),
        "Interlock pipeline",
        SCHEMA_FILES["pipeline"],
    )


def calendar_schema() -> dict[str, Any]:
    """The JSON Schema of a named calendar file."""
    _document_fields()
    return _finish(
        Calendar.model_json_schema(mode="validation"),
        "Interlock calendar",
        SCHEMA_FILES["calendar"],
    )


def schema_text(kind: Literal["pipeline", "calendar"] = "pipeline") -> str:
    """The schema as stable, pretty JSON text ending in a newline."""
    schema = pipeline_schema() if kind == "pipeline" else calendar_schema()
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
