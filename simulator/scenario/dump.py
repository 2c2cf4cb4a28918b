"""Writing scenario data back as YAML (``scenario.resolved.yaml``)."""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Mapping
from datetime import date
from pathlib import PurePath
from typing import Any

import yaml
from pydantic import BaseModel

__all__ = ["plain", "to_yaml"]

_STR = "tag:yaml.org,2002:str"
_EXP_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)[eE][-+]?[0-9]+$")


# --------------------------------------------------------------------------------------------
# Dumping


def plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return plain(value.model_dump(mode="python", by_alias=True))
    if isinstance(value, Mapping):
        return {str(k) if not isinstance(k, str) else k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, PurePath):
        return str(value)
    if value is None or isinstance(value, str | bool | int | float | date):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return plain(value.item())
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy arrays
        return plain(value.tolist())
    raise TypeError(f"cannot write {type(value).__name__} to YAML: {value!r}")


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Safe dumper (libyaml when available: several times faster) that quotes strings this
    module would read back as something else: plain ``1e3`` is a float here, not YAML 1.1's
    string."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if _EXP_FLOAT.match(value):
        return dumper.represent_scalar(_STR, value, style="'")
    return dumper.represent_str(value)


_Dumper.add_representer(str, _represent_str)


def to_yaml(data: Any) -> str:
    """Dump plain data (or a pydantic model) to block-style YAML, keeping key order.

    Dates are written as ISO ``YYYY-MM-DD``; tuples/sets become lists, enums their values.
    Used for ``scenario.resolved.yaml``; the output loads back to the same data.

    Args:
        data: Plain data as produced by :func:`load_located`, or a pydantic model.

    Returns:
        YAML text.

    Raises:
        TypeError: ``data`` contains a value with no YAML form.
    """
    return yaml.dump(
        plain(data),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
    )
