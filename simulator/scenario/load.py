"""Loading scenarios: YAML file (with ``extends:`` and overrides) -> validated Scenario."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from simulator.scenario.compose import apply_overrides, load_located
from simulator.scenario.located import Located
from simulator.scenario.model import Scenario
from simulator.scenario.translate import validate

__all__ = ["load_scenario", "load_scenario_located", "override_label", "scenario_from_dict"]


def load_scenario_located(
    path: str | Path, overrides: Mapping[str, Any] | None = None
) -> tuple[Scenario, Located]:
    """Load and validate a scenario file, also returning the located raw data.

    Args:
        path: Scenario YAML file.
        overrides: Dotted-path overrides, e.g. ``{"authority.reviewers": 30}``.

    Returns:
        The scenario and its located data (after ``extends:`` and overrides). With
        overrides (other than ``name``), the name gets them appended: ``case [authority.
        reviewers=30]``.

    Raises:
        ScenarioError: With every problem found, each at ``file:line:col``.
    """
    loc = load_located(path, overrides)
    if overrides and "name" not in overrides and isinstance(loc.data.get("name"), str):
        # a run with overrides is a different scenario: say so in its name (and so in
        # every figure title and table that names it)
        loc.data["name"] = f"{loc.data['name']} [{override_label(overrides)}]"
    return validate(loc, Scenario), loc


def override_label(overrides: Mapping[str, Any]) -> str:
    """Overrides as short text, ``key=value, …`` (values in YAML flow style)."""
    from simulator.scenario.diff import format_value

    return ", ".join(f"{k}={format_value(v, 40)}" for k, v in overrides.items())


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load and validate a scenario file.

    Args:
        path: Scenario YAML file.
        overrides: Dotted-path overrides applied after ``extends:``, validated like the
            file, e.g. ``{"authority.reviewers": 30, "manufacturers[us_automaker].
            initial_cover_days": 20}``.

    Returns:
        The frozen :class:`~simulator.scenario.model.Scenario`.

    Raises:
        ScenarioError: With every problem found, each at ``file:line:col``.
    """
    return load_scenario_located(path, overrides)[0]


def scenario_from_dict(
    data: Mapping[str, Any], overrides: Mapping[str, Any] | None = None, name: str = "<dict>"
) -> Scenario:
    """Validate a scenario given as plain data (e.g. built in a notebook or test).

    Args:
        data: Scenario mapping.
        overrides: Dotted-path overrides.
        name: Label used in error locations.

    Raises:
        ScenarioError: With every problem found.
    """
    loc = Located(data=dict(data), pos={}, keypos={}, files=[name])
    if overrides:
        loc = apply_overrides(loc, overrides, origin="override")
        if "name" not in overrides and isinstance(loc.data.get("name"), str):
            loc.data["name"] = f"{loc.data['name']} [{override_label(overrides)}]"
    return validate(loc, Scenario)
