"""Observed data to set simulated results against (monthly exports from customs)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["check_observed_exports", "load_observed_exports", "observed_frame"]

_MONTH = re.compile(r"\s*(\d{4})[-/](\d{1,2})(?:[-/](\d{1,2}))?(?:[T ][0-9:.]*)?\s*")


def _month(text: str) -> dt.date | None:
    """The first day of the month of ``YYYY-MM``, ``YYYY-MM-DD`` (``/`` also), or an ISO
    date-time; None when it is none of these."""
    m = _MONTH.fullmatch(text)
    if m is None:
        return None
    try:
        d = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))
    except ValueError:
        return None
    return d.replace(day=1)


def _read_checked(path: Path) -> tuple[bytes, list[dt.date]]:
    """The file's bytes and the month of every data row, checked without pandas (so
    ``relsim validate`` stays light and accepts exactly what ``run`` reads).

    Raises:
        ValueError: See :func:`load_observed_exports`.
    """
    from simulator.limits import Limits
    from simulator.scenario.reading import UnreadableFile, read_limited

    try:
        raw = read_limited(path, Limits.MAX_DATA_BYTES, "CSV file", track=True)
    except UnreadableFile as e:
        raise ValueError(f"{path}: {e}") from None
    unreadable = f"{path}: not a CSV table of month,total_t,... (unreadable)"
    try:
        text = raw.decode("utf-8-sig")
        rows = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
    except (UnicodeDecodeError, csv.Error):
        raise ValueError(unreadable) from None
    if not rows:
        raise ValueError(unreadable)
    header = rows[0]
    missing = [c for c in ("month", "total_t") if c not in header]
    if missing:
        raise ValueError(
            f"{path}: missing column(s) {', '.join(missing)}; need month,total_t"
            f" (the file has {len(header)} column(s), not shown)"
        )
    j = header.index("month")
    months: list[dt.date] = []
    for line, r in enumerate(rows[1:], start=2):
        if len(r) > len(header):
            raise ValueError(unreadable)
        m = _month(r[j]) if j < len(r) else None
        if m is None:
            raise ValueError(f"{path}: line {line}: month is not a date such as 2025-04")
        months.append(m)
    return raw, months


def check_observed_exports(path: str | Path) -> None:
    """Check an observed-exports file as :func:`load_observed_exports` reads it, without
    building a table (no pandas).

    Raises:
        ValueError: As :func:`load_observed_exports`.
    """
    _read_checked(Path(path))


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
    import pandas as pd

    path = Path(path)
    raw, months = _read_checked(path)
    try:
        df = pd.read_csv(io.BytesIO(raw), dtype={"month": str}, comment=None)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError):
        # pandas quotes what it could not parse: never show a data file's contents
        raise ValueError(f"{path}: not a CSV table of month,total_t,... (unreadable)") from None
    if len(df) != len(months):  # pragma: no cover - both skip blank lines
        raise ValueError(f"{path}: not a CSV table of month,total_t,... (unreadable)")
    df["month"] = [m.isoformat() for m in months]
    out = _normalise_observed(df, str(path))
    out.attrs["source"] = str(path)
    return out


def _normalise_observed(df: pd.DataFrame, where: str = "observed exports") -> pd.DataFrame:
    import pandas as pd

    missing = [c for c in ("month", "total_t") if c not in df.columns]
    if missing:
        raise ValueError(
            f"{where}: missing column(s) {', '.join(missing)}; need month,total_t"
            f" (the file has {len(df.columns)} column(s), not shown)"
        )

    df = df.copy()
    if pd.api.types.is_datetime64_any_dtype(df["month"]):
        parsed = [None if pd.isna(m) else m.date().replace(day=1) for m in df["month"]]
    else:
        parsed = [_month(str(m)) for m in df["month"]]
    if any(m is None for m in parsed):
        row = next(i for i, m in enumerate(parsed) if m is None) + 2  # after the header
        raise ValueError(f"{where}: line {row}: month is not a date such as 2025-04")
    df["month"] = pd.to_datetime(pd.Series(parsed, index=df.index)).astype("datetime64[ms]")
    for c in df.columns:
        if c.endswith("_t"):
            values = pd.to_numeric(df[c], errors="coerce").astype(float)
            df[c] = values.where(values.abs() < float("inf"))  # .inf/1e400: not reported
    df = df.sort_values("month", kind="stable").reset_index(drop=True)
    df.attrs["units"] = "t/month"
    return df


def observed_frame(observed: pd.DataFrame | str | Path | None) -> pd.DataFrame | None:
    """A frame of observed exports: a path is read, a frame normalised, None kept."""
    import pandas as pd

    if observed is None:
        return None
    if isinstance(observed, pd.DataFrame):
        return _normalise_observed(observed)
    return load_observed_exports(observed)
