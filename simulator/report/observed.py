"""Observed data to set simulated results against (monthly exports from customs)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["load_observed_exports", "observed_frame"]


def load_observed_exports(path: str | Path) -> pd.DataFrame:
    """Read observed monthly exports (e.g. ``data/cn_magnet_exports.csv``).

    The CLI resolves ``Scenario.observed_exports`` against the scenario file's
    directory and calls this.

    Args:
        path: CSV with a ``month`` column (``YYYY-MM`` or any date in the month), a
            ``total_t`` column (tonnes per month) and optional per-destination columns
            ``<destination>_t`` (tonnes per month; blank = not reported). Other columns
            (e.g. ``quality``: ``reported``/``derived``, ``notes``) are kept.

    Returns:
        Frame sorted by month: ``month`` (``'YYYY-MM'`` str), ``total_t`` (float, t/month),
        per-destination ``*_t`` (float, NaN where missing), other columns unchanged;
        ``attrs["units"] = "t/month"`` and ``attrs["source"]``.

    Raises:
        ValueError: The file lacks ``month`` or ``total_t``, or a month is unreadable.
    """
    path = Path(path)
    df = pd.read_csv(path, dtype={"month": str}, comment=None)
    out = _normalise_observed(df, str(path))
    out.attrs["source"] = str(path)
    return out


def _normalise_observed(df: pd.DataFrame, where: str = "observed exports") -> pd.DataFrame:
    missing = [c for c in ("month", "total_t") if c not in df.columns]
    if missing:
        raise ValueError(
            f"{where}: missing column(s) {', '.join(missing)}; need month,total_t"
            f" (have {', '.join(map(str, df.columns))})"
        )
    df = df.copy()
    try:
        df["month"] = pd.PeriodIndex(
            pd.to_datetime(df["month"].astype(str), format="mixed"), freq="M"
        ).astype(str)
    except (ValueError, TypeError) as e:
        raise ValueError(f"{where}: unreadable month value ({e})") from None
    for c in df.columns:
        if c.endswith("_t"):
            df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df = df.sort_values("month", kind="stable").reset_index(drop=True)
    df.attrs["units"] = "t/month"
    return df


def observed_frame(observed: pd.DataFrame | str | Path | None) -> pd.DataFrame | None:
    if observed is None:
        return None
    if isinstance(observed, pd.DataFrame):
        return _normalise_observed(observed)
    return load_observed_exports(observed)
