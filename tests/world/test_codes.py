"""The codes and the table of policy effects are declared once and agree with the scenario
model and with what the engines resolve."""

from __future__ import annotations

import dataclasses

from simulator.scenario.policy import Effects
from simulator.world.codes import EFFECT_COLUMNS, EFFECTS_TABLE, Ev, G, effect_column
from simulator.world.effects import EFFECTS, FACTORS, Resolved


def test_every_scenario_effect_is_declared_once_in_order():
    assert [e.name for e in EFFECTS_TABLE] == list(Effects.model_fields)


def test_resolved_effects_are_the_per_application_ones():
    per_app = [e.name for e in EFFECTS_TABLE if e.scope == "application"]
    assert [f.name for f in dataclasses.fields(Resolved)] == per_app
    assert set(FACTORS) | set(EFFECTS) == set(per_app)


def test_effect_columns_are_unique_and_indexed():
    assert len(set(EFFECT_COLUMNS)) == len(EFFECT_COLUMNS)
    for i, c in enumerate(EFFECT_COLUMNS):
        assert effect_column(c) == i


def test_every_effect_has_a_direction_and_a_label():
    for e in EFFECTS_TABLE:
        assert e.tighter in (-1, 0, 1) and e.label and e.combine in ("multiply", "most_specific")


def test_log_kind_names_match_their_codes():
    for cls in (Ev, G):
        codes = {v for k, v in vars(cls).items() if k.isupper() and k != "NAMES"}
        assert codes == set(range(len(cls.NAMES)))
