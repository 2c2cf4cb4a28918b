"""The committed JSON Schema (what editors use) agrees with the loader."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from simulator.scenario.jsonschema import SCHEMA_PATH, scenario_json_schema
from simulator.scenario.reading import load_yaml

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted(
    p
    for p in (ROOT / "scenarios").rglob("*.yaml")
    if not {"baselines", "calibration"} & set(p.parts)
)


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_plain(v) for v in x]
    return x.isoformat() if isinstance(x, dt.date) else x


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((ROOT / SCHEMA_PATH).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_committed_schema_matches_the_model() -> None:
    assert (ROOT / SCHEMA_PATH).read_text(encoding="utf-8") == scenario_json_schema(), (
        "stale: run `relsim schema --write schemas/scenario.schema.json`"
    )


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_shipped_scenarios_pass_the_editor_schema(path: Path, validator: Any) -> None:
    errors = [e.message for e in validator.iter_errors(_plain(load_yaml(path).data))]
    assert not errors, errors


def test_editor_schema_flags_what_the_loader_refuses(validator: Any) -> None:
    msgs = [e.message for e in validator.iter_errors({"name": "x", "start": "2025-01-01"})]
    assert any("'end' is a required property" in m for m in msgs)
    child = {"extends": "base.yaml", "authority": {"revewers": 3}}
    msgs = [e.message for e in validator.iter_errors(child)]
    assert any("'revewers' was unexpected" in m for m in msgs)
    # a file that extends another may leave required fields to its base
    assert not list(validator.iter_errors({"extends": "base.yaml", "authority": {"reviewers": 3}}))


def test_editor_schema_knows_remove_only_in_files_that_extend(validator: Any) -> None:
    child = {"extends": "base.yaml", "manufacturers": [{"id": "m", "$remove": True}]}
    assert not list(validator.iter_errors(child))
    child["manufacturers"][0]["$remove"] = "yes"
    assert [e.message for e in validator.iter_errors(child)] == ["True was expected"]
    alone = {"name": "x", "policy": {"regimes": [{"name": "r", "$remove": True}]}}
    assert any("'$remove' was unexpected" in e.message for e in validator.iter_errors(alone))
