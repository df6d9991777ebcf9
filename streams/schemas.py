"""JSON Schemas of the wire records, generated from :mod:`streams.records`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from streams.records import WIRE_RECORDS

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def generate() -> dict[str, dict[str, Any]]:
    """``{file name: schema}`` for every wire record."""
    out: dict[str, dict[str, Any]] = {}
    for name, model in WIRE_RECORDS.items():
        schema = model.model_json_schema(mode="serialization")
        schema = {"$schema": SCHEMA_DIALECT, "$id": f"{name}.schema.json", **schema}
        out[f"{name}.schema.json"] = schema
    return out


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(directory: Path) -> list[Path]:
    """Write every schema file into ``directory``; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for filename, schema in generate().items():
        path = directory / filename
        path.write_text(render(schema), encoding="utf-8")
        paths.append(path)
    return paths


def stale(directory: Path) -> list[str]:
    """Names of schema files in ``directory`` that differ from the models (or are missing)."""
    return [
        filename
        for filename, schema in generate().items()
        if not (directory / filename).is_file()
        or (directory / filename).read_text(encoding="utf-8") != render(schema)
    ]
