"""Loading scenarios: YAML file (with ``extends:`` and overrides) -> validated Scenario.

Files a scenario refers to (``extends:``, ``observed_exports:``) are read only from
the scenario's own folder or from folders allowed explicitly (``allow=``, the CLI's
``--allow-path``); see :mod:`simulator.scenario.compose`.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from simulator.limits import Limits
from simulator.scenario.compose import (
    apply_overrides,
    load_located,
    outside_roots,
    scenario_roots,
)
from simulator.scenario.located import Located
from simulator.scenario.model import Scenario
from simulator.scenario.translate import validate

__all__ = [
    "SCENARIO_FIELDS",
    "data_file",
    "load_scenario",
    "load_scenario_located",
    "override_label",
    "scenario_from_dict",
]

SCENARIO_FIELDS = frozenset(
    name for fname, info in Scenario.model_fields.items() for name in (fname, info.alias) if name
)
"""Top-level keys of a scenario file (a file with none of them is not a scenario)."""


def load_scenario_located(
    path: str | Path,
    overrides: Mapping[str, Any] | None = None,
    *,
    allow: Sequence[str | Path] = (),
) -> tuple[Scenario, Located]:
    """Load and validate a scenario file, also returning the located raw data.

    Args:
        path: Scenario YAML file.
        overrides: Dotted-path overrides, e.g. ``{"authority.reviewers": 30}``.
        allow: Folders besides the scenario's own that ``extends:`` and data files may
            be read from.

    Returns:
        The scenario and its located data (after ``extends:`` and overrides). With
        overrides (other than ``name``), the name gets them appended: ``case [authority.
        reviewers=30]``.

    Raises:
        ScenarioError: With every problem found, each at ``file:line:col``.
    """
    loc = load_located(path, overrides, allow=allow, fields=SCENARIO_FIELDS)
    if overrides and "name" not in overrides and isinstance(loc.data.get("name"), str):
        # a run with overrides is a different scenario: say so in its name (and so in
        # every figure title and table that names it)
        loc.data["name"] = f"{loc.data['name']} [{override_label(overrides)}]"
    sc = validate(loc, Scenario)
    data_file(sc, loc, allow=allow, path=path)
    return sc, loc


def override_label(overrides: Mapping[str, Any]) -> str:
    """Overrides as short text, ``key=value, …`` (values in YAML flow style)."""
    from simulator.scenario.diff import format_value

    return ", ".join(f"{k}={format_value(v, 40)}" for k, v in overrides.items())


def data_file(
    sc: Scenario,
    loc: Located,
    *,
    allow: Sequence[str | Path] = (),
    path: str | Path | None = None,
) -> Path | None:
    """The resolved ``observed_exports`` file of a loaded scenario, checked: inside the
    scenario's folder (or an allowed one), a regular file, at most
    :attr:`Limits.MAX_DATA_BYTES` bytes. Nothing is read from it here.

    The path is relative to the file that declares it: a variant that ``extends:`` a
    base in a folder below its own inherits the base's data file as the base names it
    (``data/x.csv`` beside the base), still only from inside the variant's folder.

    Args:
        sc: The validated scenario.
        loc: Its located data (``loc.files[-1]`` is the scenario file).
        allow: Further allowed folders.
        path: The scenario file as named (default ``loc.files[-1]``).

    Returns:
        The file, or None when the scenario names none.

    Raises:
        ScenarioError: A located problem naming the file (never its contents).
    """
    from simulator.errors import ScenarioError

    if not sc.observed_exports:
        return None
    top = str(path) if path is not None else (loc.files[-1] if loc.files else ".")
    declared = loc.pos.get(("observed_exports",))
    origin = declared[0] if declared and declared[0] in loc.files[:-1] else top
    target = os.path.join(os.path.dirname(origin), sc.observed_exports)
    where = ("observed_exports",)
    away = outside_roots(target, scenario_roots(top, allow))
    if away is not None:
        raise ScenarioError(loc.problem(where, away))
    try:
        st = os.stat(target)
    except FileNotFoundError:
        raise ScenarioError(loc.problem(where, f"file not found: {target}")) from None
    except OSError as exc:
        raise ScenarioError(loc.problem(where, f"cannot read {target}: {exc.strerror}")) from None
    if not stat.S_ISREG(st.st_mode):
        raise ScenarioError(
            loc.problem(where, f"{target} is not a regular file; relsim reads regular files only")
        )
    if st.st_size > Limits.MAX_DATA_BYTES:
        raise ScenarioError(
            loc.problem(
                where,
                f"{target} is {st.st_size:,} bytes; the limit is {Limits.MAX_DATA_BYTES:,} "
                "bytes (Limits.MAX_DATA_BYTES)",
            )
        )
    return Path(target)


def load_scenario(
    path: str | Path,
    overrides: Mapping[str, Any] | None = None,
    *,
    allow: Sequence[str | Path] = (),
) -> Scenario:
    """Load and validate a scenario file.

    Args:
        path: Scenario YAML file.
        overrides: Dotted-path overrides applied after ``extends:``, validated like the
            file, e.g. ``{"authority.reviewers": 30, "manufacturers[us_automaker].
            initial_cover_days": 20}``.
        allow: Folders besides the scenario's own that ``extends:`` and data files may
            be read from.

    Returns:
        The frozen :class:`~simulator.scenario.model.Scenario`.

    Raises:
        ScenarioError: With every problem found, each at ``file:line:col``.
    """
    return load_scenario_located(path, overrides, allow=allow)[0]


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
