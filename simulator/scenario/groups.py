"""Country groups a rule's ``where: {destination: ...}`` may name.

``destination: EU27`` reads as every member state of the European Union among the
scenario's countries: the ISO codes of the 27 member states (``DE``, ``FR``, ``IT`` …)
and ``EU``, the id scenarios use for "the other EU member states" taken together (the
case study models Germany as ``DE`` and the rest of the Union as ``EU``). So
``destination: EU`` is one bucket of countries, and ``destination: EU27`` is the Union.

A group is expanded when the scenario is validated, so the resolved scenario (its
``scenario.resolved.yaml``, its hash, ``relsim diff``) lists the countries it stands
for: ``[DE, EU]`` in the case study. A scenario that declares a country with a group's
id keeps its own country.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["COUNTRY_GROUPS", "expand_groups", "group_members"]

EU27_ISO = (
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
)  # fmt: skip
"""ISO 3166-1 alpha-2 codes of the 27 EU member states (since 2020-02-01)."""

COUNTRY_GROUPS: dict[str, tuple[str, ...]] = {"EU27": (*EU27_ISO, "EU")}
"""Group name -> the country ids it covers (``EU``: the other member states together)."""


def group_members(group: str, countries: list[str]) -> list[str]:
    """The scenario's countries (in its order) that a group covers; empty when none."""
    members = set(COUNTRY_GROUPS.get(group, ()))
    return [c for c in countries if c in members]


def _where_paths(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every ``where`` mapping of a scenario's raw policy data (regimes' rules, overlays,
    pulses)."""
    pol = data.get("policy")
    if not isinstance(pol, dict):
        return []
    out: list[dict[str, Any]] = []
    for regime in pol.get("regimes") or []:
        if isinstance(regime, dict):
            for r in regime.get("rules") or []:
                if isinstance(r, dict) and isinstance(r.get("where"), dict):
                    out.append(r["where"])
    for key in ("overlays", "pulses"):
        for item in pol.get(key) or []:
            if isinstance(item, dict) and isinstance(item.get("where"), dict):
                out.append(item["where"])
    return out


def expand_groups(data: Any) -> Any:
    """Raw scenario data with country groups in ``where.destination`` replaced by the
    scenario's countries they cover (a copy when anything changes; the data as given
    otherwise, including when it is not a scenario mapping: validation reports that).
    A group that covers none of the scenario's countries is left as written, so the
    selector check names it."""
    if not isinstance(data, dict) or not isinstance(data.get("countries"), list):
        return data
    ids = [c.get("id") for c in data["countries"] if isinstance(c, dict)]
    ids = [i for i in ids if isinstance(i, str)]
    wanted = [g for g in COUNTRY_GROUPS if g not in ids and group_members(g, ids)]
    if not wanted:
        return data

    def uses_group(w: dict[str, Any]) -> bool:
        v = w.get("destination")
        vals = v if isinstance(v, list) else [v]
        return any(isinstance(x, str) and x in wanted for x in vals)

    if not any(uses_group(w) for w in _where_paths(data)):
        return data
    data = copy.deepcopy(data)
    for w in _where_paths(data):
        if not uses_group(w):
            continue
        v = w["destination"]
        out: list[Any] = []
        for x in v if isinstance(v, list) else [v]:
            for y in group_members(x, ids) if x in wanted else [x]:
                if y not in out:
                    out.append(y)
        w["destination"] = out
    return data
