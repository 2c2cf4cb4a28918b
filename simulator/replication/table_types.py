"""The building blocks of the table declarations (:mod:`simulator.replication.columns`):
the timestamp resolution, the unit marker of statistics columns and the table record."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DT", "TIME_UNIT", "VALUE", "Table"]

TIME_UNIT = "ms"
"""The one timestamp resolution of every table."""
VALUE = "(value unit)"
"""Unit marker of statistics columns: the unit is the table's ``value_unit``."""
DT = f"datetime64[{TIME_UNIT}]"
"""The dtype of every timestamp column."""


@dataclass(frozen=True)
class Table:
    """One table: where it is found, its columns in order, and the unit of its
    statistics columns (if it has any)."""

    name: str
    where: str
    doc: str
    columns: tuple[str, ...]
    value_unit: str = ""
