"""JSON Schema of the scenario format, for editor completion and hover docs.

Editors with the YAML language server pick it up from the first line of a scenario:
``# yaml-language-server: $schema=../schemas/scenario.schema.json``.
"""

from __future__ import annotations

import json

from simulator.schema import Scenario

__all__ = ["SCHEMA_PATH", "scenario_json_schema"]

SCHEMA_PATH = "schemas/scenario.schema.json"
"""Where the committed schema lives, relative to the repository root."""


def scenario_json_schema() -> str:
    """The schema as deterministic JSON text (trailing newline)."""
    schema = Scenario.model_json_schema(by_alias=True, mode="validation")
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://relsim.dev/schemas/scenario.schema.json",
        **schema,
    }
    schema["properties"]["extends"] = {
        "description": "Base scenario file(s), relative to this file; mappings merge key by "
        "key (this file wins), lists are replaced.",
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
    }
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
