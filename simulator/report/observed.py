"""Observed data to set simulated results against (monthly exports from customs)."""

from __future__ import annotations

import io
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
        Frame sorted by month: ``month`` (the month's first day, ``datetime64[ms]`` like
        every relsim table), ``total_t`` (float, t/month),
        per-destination ``*_t`` (float, NaN where missing or not finite), other columns unchanged;
        ``attrs["units"] = "t/month"`` and ``attrs["source"]``.

    Raises:
        ValueError: The file is not a regular file of at most ``Limits.MAX_DATA_BYTES``,
            not a CSV table, lacks ``month`` or ``total_t``, or a month is unreadable.
            The message never quotes the file's contents (it may not be the data file
            it was meant to be).
    """
    from simulator.limits import Limits
    from simulator.scenario.reading import UnreadableFile, read_limited

    path = Path(path)
    try:
        raw = read_limited(path, Limits.MAX_DATA_BYTES, "CSV file")
    except UnreadableFile as e:
        raise ValueError(f"{path}: {e}") from None
    try:
        df = pd.read_csv(io.BytesIO(raw), dtype={"month": str}, comment=None)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError):
        # pandas quotes what it could not parse: never show a data file's contents
        raise ValueError(f"{path}: not a CSV table of month,total_t,... (unreadable)") from None
    out = _normalise_observed(df, str(path))
    out.attrs["source"] = str(path)
    return out


def _normalise_observed(df: pd.DataFrame, where: str = "observed exports") -> pd.DataFrame:
    missing = [c for c in ("month", "total_t") if c not in df.columns]
    if missing:
        raise ValueError(
            f"{where}: missing column(s) {', '.join(missing)}; need month,total_t"
            f" (the file has {len(df.columns)} column(s), not shown)"
        )
    df = df.copy()
    months = pd.to_datetime(df["month"].astype(str), format="mixed", errors="coerce")
    if months.isna().any():
        row = int(months.isna().to_numpy().argmax()) + 2  # 1-based, after the header
        raise ValueError(f"{where}: line {row}: month is not a date such as 2025-04")
    df["month"] = pd.PeriodIndex(months, freq="M").to_timestamp().astype("datetime64[ms]")
    for c in df.columns:
        if c.endswith("_t"):
            values = pd.to_numeric(df[c], errors="coerce").astype(float)
            df[c] = values.where(values.abs() < float("inf"))  # .inf/1e400: not reported
    df = df.sort_values("month", kind="stable").reset_index(drop=True)
    df.attrs["units"] = "t/month"
    return df


def observed_frame(observed: pd.DataFrame | str | Path | None) -> pd.DataFrame | None:
    if observed is None:
        return None
    if isinstance(observed, pd.DataFrame):
        return _normalise_observed(observed)
    return load_observed_exports(observed)
