"""JSON Schema of the scenario format, for editor completion and hover docs.

Editors with the YAML language server pick it up from the first line of a scenario:
``# yaml-language-server: $schema=../schemas/scenario.schema.json``.
"""

from __future__ import annotations

import json
from typing import Any

from simulator.scenario.compose import EXTENSION_PREFIX, REMOVE
from simulator.scenario.model import Scenario

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
        "key (this file wins), lists of items with an id (or, for regimes, a name) merge "
        "item by item ({id: X, $remove: true} deletes one), other lists are replaced.",
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
    }
    # A file that `extends:` another is completed by its base, so nothing is required
    # in it: such files are checked against a copy of every definition with its
    # `required` lists removed (editors would flag inherited fields otherwise).
    defs = schema.get("$defs", {})
    partial = {f"{name}Partial": _removable(_partial(d)) for name, d in defs.items()}
    top = {
        k: schema.pop(k) for k in ("properties", "required", "additionalProperties") if k in schema
    }
    # top-level `x-` keys are free: a place for YAML anchors (compose.EXTENSION_PREFIX)
    top["patternProperties"] = {f"^{EXTENSION_PREFIX}": {}}
    schema["$defs"] = {
        **defs,
        **partial,
        "ScenarioFull": {"type": "object", **top},
        "ScenarioPartial": _partial({"type": "object", **top}),
    }
    schema["if"] = {"required": ["extends"]}
    schema["then"] = {"$ref": "#/$defs/ScenarioPartial"}
    schema["else"] = {"$ref": "#/$defs/ScenarioFull"}
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _removable(node: Any) -> Any:
    """A named item (one with an ``id`` or a ``name``) of a file that extends another may
    be ``{id: X, $remove: true}``."""
    props = node.get("properties") if isinstance(node, dict) else None
    if isinstance(props, dict) and ("id" in props or "name" in props):
        props[REMOVE] = {
            "const": True,
            "description": "Delete the inherited item with this id (or name).",
        }
    return node


def _partial(node: Any) -> Any:
    """Copy of a schema node without ``required`` and with refs to partial defs."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "required":
                continue
            if k == "$ref" and isinstance(v, str) and v.startswith("#/$defs/"):
                out[k] = v + "Partial"
            else:
                out[k] = _partial(v)
        return out
    if isinstance(node, list):
        return [_partial(v) for v in node]
    return node
