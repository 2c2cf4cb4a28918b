"""A run directory read back (``relsim report``) as untrusted input.

Only regular files inside the directory are read (no symbolic link, device or pipe,
nothing outside it: :func:`simulator.scenario.reading.read_inside`), each within a size
limit of :class:`~simulator.limits.Limits`, and each is checked against its schema
before anything of it is used: the manifest's ``tool``, ``command``, ``seed`` and
``reps``; ``summary.json``'s KPI statistics (finite numbers, ISO dates, whole counts);
the scenario notes; the tables' declared columns and types
(:mod:`simulator.replication.columns`); figures are PNG (by signature) or SVG (by their
first tag); ``scenario.resolved.yaml`` is validated as a scenario. A file that fails is
refused with :class:`~simulator.errors.InputRefused` naming the file and the field (or
line and column) and what is allowed, never quoting it: nothing from a file reaches the
page or the terminal unless it passed.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.errors import InputRefused
from simulator.limits import Limits
from simulator.report.atomic import TOOL
from simulator.report.rundir import unguard

__all__ = [
    "RunDirContents",
    "kpis_problem",
    "read_run_dir",
    "read_table_csv",
    "report_from_run_dir",
]


@dataclass
class RunDirContents:
    """What ``relsim report`` renders, read from a run directory and checked
    (:func:`read_run_dir`).

    Attributes:
        manifest: The manifest's fields the page shows (``reps``, ``seed``, ``version``,
            ``created_utc``, ``command``, ``python``, ``scenario_hash``,
            ``scenario_files``), checked.
        summary: ``summary.json``, checked.
        scenario: The scenario as run (``scenario.resolved.yaml``, validated).
        notes: ``scenario.notes.json`` (``{}`` when absent), checked.
        kpi_table: ``kpi_table.csv`` in its declared shape, or None when absent.
        regimes: ``regimes.csv`` (or ``rep0/regimes.csv``), or None when absent.
        figures: ``{stem, title, mime, data}`` per figure found (PNG and SVG embedded,
            PDF linked).
    """

    manifest: dict[str, Any]
    summary: dict[str, Any]
    scenario: Any
    notes: dict[str, Any]
    kpi_table: pd.DataFrame | None
    regimes: pd.DataFrame | None
    figures: list[dict[str, Any]]


def report_from_run_dir(run_dir: Path) -> str:
    """Rebuild ``report.html`` from a run directory's files (``relsim report``), read
    back and checked (:func:`read_run_dir`), rendered by
    :func:`simulator.report.html.render_report`."""
    from simulator.report.html import render_report, scenario_dict
    from simulator.report.plot_style import regime_directions

    rd = read_run_dir(Path(run_dir))
    return render_report(
        {
            "scenario": scenario_dict(rd.scenario),
            "notes": rd.notes,
            "manifest": rd.manifest,
            "summary": rd.summary,
            "kpi_table": rd.kpi_table,
            "figures": rd.figures,
            "regimes": rd.regimes,
            "directions": (
                regime_directions(rd.scenario, rd.regimes) if rd.regimes is not None else []
            ),
            "policy_timeline": None,
        }
    )


def read_run_dir(run_dir: Path) -> RunDirContents:
    """Read a run directory back for ``relsim report``, as untrusted input (see the
    module docstring).

    Raises:
        InputRefused: A file is missing, a link, not a regular file, too large, or fails
            its schema (naming the file and field).
        ScenarioError: ``scenario.resolved.yaml`` is not a valid scenario.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputRefused(f"{run_dir}: not a directory (a run directory written by relsim run)")
    man = _check_manifest(_json(run_dir, "manifest.json", Limits.MAX_MANIFEST_BYTES), run_dir)
    summary = _check_summary(_json(run_dir, "summary.json", Limits.MAX_RUN_FILE_BYTES), run_dir)
    sc = _resolved_scenario(run_dir)
    notes: dict[str, Any] = {}
    if _present(run_dir, "scenario.notes.json"):
        from simulator.report.html import NOTES_FILE

        notes = _check_notes(_json(run_dir, NOTES_FILE, Limits.MAX_RUN_FILE_BYTES), run_dir)
    kt = None
    if _present(run_dir, "kpi_table.csv"):
        kt = read_table_csv(run_dir, "kpi_table.csv", "kpi_table")
    regimes = None
    for rel in ("regimes.csv", "rep0/regimes.csv"):
        if _present(run_dir, rel):
            regimes = read_table_csv(run_dir, rel, "regimes")
            break
    return RunDirContents(man, summary, sc, notes, kt, regimes, _figures(run_dir, sc))


def _present(run_dir: Path, rel: str) -> bool:
    """Whether ``rel`` exists (as anything, a link too: reading it decides)."""
    return (run_dir / rel).is_symlink() or (run_dir / rel).exists()


def _read(run_dir: Path, rel: str, limit: int, what: str) -> bytes:
    from simulator.scenario.reading import UnreadableFile, read_inside

    if not _present(run_dir, rel):
        raise InputRefused(
            f"{run_dir}: not a relsim run directory (no {rel}); relsim report rebuilds the "
            "report of a directory written by relsim run"
        )
    try:
        return read_inside(run_dir, rel, limit, what)
    except UnreadableFile as e:
        raise InputRefused(f"{run_dir}: {e}") from None


def _json(run_dir: Path, rel: str, limit: int) -> Any:
    from simulator.scenario.reading import UnreadableFile, parse_json

    raw = _read(run_dir, rel, limit, "JSON file")
    try:
        return parse_json(raw)
    except UnreadableFile as e:
        raise InputRefused(f"{run_dir / rel}: {e}") from None


def _bad(run_dir: Path, rel: str, field: str, what: str) -> InputRefused:
    from simulator.errors import clean

    where = f"{run_dir / rel}: {clean(field, 120)}: " if field else f"{run_dir / rel}: "
    return InputRefused(where + what + "; this run directory cannot be rendered")


def _whole(v: Any, low: int, high: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and low <= v <= high


def _text(v: Any, limit: int = 1000) -> bool:
    return isinstance(v, str) and len(v) <= limit


_MANIFEST_TEXT = ("version", "created_utc", "command", "python", "scenario_hash", "scenario")


def _check_manifest(man: Any, run_dir: Path) -> dict[str, Any]:
    rel = "manifest.json"
    if not isinstance(man, dict) or man.get("tool") != TOOL:
        raise InputRefused(
            f'{run_dir}: not a relsim run directory ({rel} does not say "tool": "{TOOL}")'
        )
    command = man.get("command", "run")
    if not _text(command, 200):
        raise _bad(run_dir, rel, "command", "must be a short text")
    if not command.startswith("run"):
        raise InputRefused(
            f"{run_dir}: a relsim {command.split()[0][:20]!r} directory, not a run directory; "
            "relsim report rebuilds the report of relsim run"
        )
    if not _whole(man.get("reps"), 1, Limits.MAX_REPS):
        raise _bad(run_dir, rel, "reps", f"must be a whole number 1 .. {Limits.MAX_REPS:,}")
    if not _whole(man.get("seed"), 0, Limits.MAX_SEED):
        raise _bad(run_dir, rel, "seed", f"must be a whole number 0 .. {Limits.MAX_SEED}")
    out: dict[str, Any] = {"tool": TOOL, "reps": man["reps"], "seed": man["seed"]}
    for key in _MANIFEST_TEXT:
        if key in man:
            if not _text(man[key], 200):
                raise _bad(run_dir, rel, key, "must be a text of at most 200 characters")
            out[key] = man[key]
    files = man.get("scenario_files", [])
    if not (
        isinstance(files, list)
        and len(files) <= 4 * Limits.MAX_EXTENDS_FILES
        and all(_text(f, 4096) for f in files)
    ):
        raise _bad(run_dir, rel, "scenario_files", "must be a list of file names")
    out["scenario_files"] = list(files)
    return out


_STATS = (
    "mean",
    "ci_low",
    "ci_high",
    "se",
    "median",
    "sd",
    "p5",
    "p95",
    *("share", "short_at_end"),
)
_SHARES = ("share", "short_at_end")
"""Statistics of a date KPI that are shares of replications (numbers in [0, 1])."""


def _check_summary(summary: Any, run_dir: Path) -> dict[str, Any]:
    rel = "summary.json"
    if not isinstance(summary, dict):
        raise _bad(run_dir, rel, "", "must be a JSON object")
    for key, low, high in (("reps", 1, Limits.MAX_REPS), ("seed", 0, Limits.MAX_SEED)):
        if key in summary and not _whole(summary[key], low, high):
            raise _bad(run_dir, rel, key, f"must be a whole number {low} .. {high:,}")
    problem = kpis_problem(summary.get("kpis"))
    if problem is not None:
        field, what = problem
        raise _bad(run_dir, rel, field, what)
    return {k: summary[k] for k in ("reps", "seed") if k in summary} | {"kpis": summary["kpis"]}


def kpis_problem(kpis: Any) -> tuple[str, str] | None:
    """What is wrong with KPI statistics read back (``summary.json``'s ``kpis``, a sweep
    point's record): ``(field, what is allowed)``, or None when they are well formed —
    ``{entity: {kpi: {statistic: value}}}`` with at most
    4 × :attr:`Limits.MAX_ENTITIES` entities, values finite numbers or null (ISO dates or
    null for ``*_date`` KPIs) and ``n`` a whole number."""
    if not isinstance(kpis, dict):
        return "kpis", "must map entity -> KPI -> statistics"
    if len(kpis) > 4 * Limits.MAX_ENTITIES:
        return "kpis", f"has {len(kpis):,} entities; at most {4 * Limits.MAX_ENTITIES:,}"
    for entity, ks in kpis.items():
        if not (_text(entity, 200) and isinstance(ks, dict) and len(ks) <= 1000):
            return f"kpis.{entity}", "must map KPI -> statistics"
        for kpi, stat in ks.items():
            field = f"kpis.{entity}.{kpi}"
            if not (_text(kpi, 100) and isinstance(stat, dict) and len(stat) <= 20):
                return field, "must be an object of statistics"
            dates = kpi.endswith("_date")
            for name, v in stat.items():
                if name == "n":
                    if not _whole(v, 0, Limits.MAX_REPS):
                        return f"{field}.n", "must be a whole number >= 0"
                elif name not in _STATS:
                    return f"{field}.{name}", f"unknown statistic (known: n, {', '.join(_STATS)})"
                elif v is None:
                    continue
                elif name in _SHARES:
                    if not (isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 1):
                        return f"{field}.{name}", "must be a share from 0 to 1 or null"
                elif dates:
                    if not (_text(v, 10) and _iso_date(v)):
                        return f"{field}.{name}", "must be a date YYYY-MM-DD or null"
                elif not (
                    isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                ):
                    return f"{field}.{name}", "must be a finite number or null"
    return None


def _iso_date(text: str) -> bool:
    try:
        d = dt.date.fromisoformat(text)
    except ValueError:
        return False
    return Limits.EARLIEST_DATE <= d <= Limits.LATEST_DATE


def _check_notes(notes: Any, run_dir: Path) -> dict[str, Any]:
    rel = "scenario.notes.json"
    text = Limits.MAX_TEXT_CHARS
    if not isinstance(notes, dict):
        raise _bad(run_dir, rel, "", "must be a JSON object")
    out: dict[str, Any] = {}
    if "question" in notes:
        if not (notes["question"] is None or _text(notes["question"], text)):
            raise _bad(run_dir, rel, "question", f"must be a text of at most {text:,} characters")
        out["question"] = notes["question"] or ""
    # each list or mapping: its type, at most so many items, what every item must be
    checks: tuple[tuple[str, type, int, Callable[[Any], bool], str], ...] = (
        (
            "extends",
            list,
            Limits.MAX_EXTENDS_FILES,
            lambda e: _text(e, 4096),
            "must be a list of file names",
        ),
        (
            "sections",
            list,
            1000,
            lambda x: (
                isinstance(x, list) and len(x) == 2 and _text(x[0], 200) and _text(x[1], text)
            ),
            "must be a list of [title, text] pairs",
        ),
        (
            "changes",
            list,
            1000,
            lambda c: (
                isinstance(c, dict)
                and set(c) == {"path", "base", "value"}
                and _text(c["path"], 1000)
            ),
            "must be a list of {path, base, value}",
        ),
        (
            "overrides",
            dict,
            1000,
            lambda k: _text(k, Limits.MAX_SET_PATH_CHARS),
            "must map --set paths to values",
        ),
    )
    for key, kind, limit, ok, what in checks:
        value = notes.get(key) or kind()
        if not (isinstance(value, kind) and len(value) <= limit and all(ok(x) for x in value)):
            raise _bad(run_dir, rel, key, what)
        out[key] = value
    return out


def read_table_csv(run_dir: Path, rel: str, table: str) -> pd.DataFrame:
    """A table of a run directory read back and checked against its declared columns
    (:mod:`simulator.replication.columns`): exactly those columns, at most
    :attr:`Limits.MAX_RUN_TABLE_ROWS` rows, numbers where numbers are declared (finite,
    or empty), dates as dates, whole numbers as whole numbers, texts of at most
    :attr:`Limits.MAX_TEXT_CHARS` characters.

    Raises:
        InputRefused: Naming the file, the line and the column at fault.
    """
    from simulator.errors import clean
    from simulator.replication.columns import COLUMNS, TABLES, conform

    raw = _read(run_dir, rel, Limits.MAX_RUN_FILE_BYTES, "CSV file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad(run_dir, rel, "", "is not UTF-8 text") from None
    try:
        df = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            nrows=Limits.MAX_RUN_TABLE_ROWS + 1,
        )
    except (ValueError, pd.errors.ParserError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else "unreadable"
        raise _bad(run_dir, rel, "", f"is not a CSV table ({clean(first, 120)})") from None
    if len(df) > Limits.MAX_RUN_TABLE_ROWS:
        raise _bad(
            run_dir,
            rel,
            "",
            f"has more than {Limits.MAX_RUN_TABLE_ROWS:,} rows (Limits.MAX_RUN_TABLE_ROWS)",
        )
    cols = list(TABLES[table].columns)
    if list(df.columns) != cols:
        missing = [c for c in cols if c not in df.columns]
        extra = [c for c in df.columns if c not in cols]
        what = "has other columns than a relsim " + table + " table"
        if missing:
            what += f" (missing {', '.join(missing[:5])})"
        elif extra:
            what += f" ({len(extra)} unexpected)"
        else:
            what += " (in another order)"
        raise _bad(run_dir, rel, "", what)
    out = pd.DataFrame(index=df.index)
    for c in cols:
        s = df[c]
        dtype = COLUMNS[c].dtype
        empty = s.eq("")
        if dtype == "float64":
            v = pd.to_numeric(s.where(~empty, "nan"), errors="coerce")
            bad = v.isna() & ~empty & ~s.str.lower().eq("nan")
            bad |= v.isin([math.inf, -math.inf])
            kind = "a finite number (or empty)"
        elif dtype in ("int64", "Int64"):
            ok = s.str.fullmatch(r"-?[0-9]{1,18}") | (empty & (dtype == "Int64"))
            bad = ~ok
            v = pd.to_numeric(s.where(~empty, None), errors="coerce")
            kind = "a whole number"
        elif dtype.startswith("datetime64"):
            v = pd.to_datetime(s.where(~empty, None), errors="coerce", format="ISO8601")
            bad = v.isna() & ~empty
            bad |= v.notna() & (
                (v.dt.year < Limits.EARLIEST_DATE.year) | (v.dt.year > Limits.LATEST_DATE.year)
            )
            kind = "a date YYYY-MM-DD (or empty)"
        else:
            v = unguard(s).where(~empty, None)
            bad = s.str.len() > Limits.MAX_TEXT_CHARS
            kind = f"a text of at most {Limits.MAX_TEXT_CHARS:,} characters"
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise _bad(run_dir, rel, f"line {row + 2}, column {c}", f"must be {kind}")
        out[c] = v
    return conform(out, table)


def _figures(run_dir: Path, sc: Any) -> list[dict[str, Any]]:
    """The figures of a run directory in page order (PNG and SVG embedded, PDF linked),
    each a regular file inside ``figures/`` within :attr:`Limits.MAX_FIGURE_BYTES`, a PNG
    by its signature, an SVG by its first tag."""
    from simulator.report.figures import FORMATS

    if not _present(run_dir, "figures"):
        return []
    if (run_dir / "figures").is_symlink() or not (run_dir / "figures").is_dir():
        raise _bad(
            run_dir, "figures", "", "must be a directory inside the run directory, not a link"
        )
    order = [
        "p_shortage",
        *[f"shortage_{m.id}" for m in sc.manufacturers],
        "licence_waits",
        "exports",
        "arrivals",
        "backlog",
        "policy_timeline",
    ]
    figs: list[dict[str, Any]] = []
    total = 0
    for stem in order:
        for fmt in FORMATS:
            rel = f"figures/{stem}.{fmt}"
            if not _present(run_dir, rel):
                continue
            if fmt == "pdf":
                _read(run_dir, rel, Limits.MAX_FIGURE_BYTES, "PDF file")  # a regular file inside
                figs.append({"stem": stem, "title": stem, "mime": "link", "data": rel})
                break
            data = _read(run_dir, rel, Limits.MAX_FIGURE_BYTES, f"{fmt.upper()} image")
            if fmt == "png" and not data.startswith(b"\x89PNG\r\n\x1a\n"):
                raise _bad(run_dir, rel, "", "is not a PNG image")
            if fmt == "svg" and not _looks_like_svg(data):
                raise _bad(run_dir, rel, "", "is not an SVG image")
            total += len(data)
            if total > Limits.MAX_REPORT_FIGURE_BYTES:
                raise _bad(
                    run_dir,
                    "figures",
                    "",
                    f"hold more than {Limits.MAX_REPORT_FIGURE_BYTES:,} bytes of figures "
                    "(Limits.MAX_REPORT_FIGURE_BYTES)",
                )
            mime = "image/png" if fmt == "png" else "image/svg+xml"
            figs.append({"stem": stem, "title": stem, "mime": mime, "data": data})
            break
    return figs


def _looks_like_svg(data: bytes) -> bool:
    head = data[:4096].lstrip()
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    while text.startswith(("<?xml", "<!--", "<!DOCTYPE")):
        end = text.find(">")
        if end < 0:
            return False
        text = text[end + 1 :].lstrip()
    return text.startswith("<svg")


def _resolved_scenario(run_dir: Path) -> Any:
    """The scenario as run, from ``scenario.resolved.yaml`` (a regular file inside the
    run directory, read within the scenario size limit and validated). The dump writes
    every field with its default; a manufacturer with ``parts`` then carries the
    one-part fields (``material: null``, a default ``replenishment`` …), which validation
    reads as given, so they are dropped first."""
    from simulator.scenario.manufacturers import ONE_PART
    from simulator.scenario.model import Scenario
    from simulator.scenario.reading import load_yaml
    from simulator.scenario.translate import validate

    rel = "scenario.resolved.yaml"
    raw = _read(run_dir, rel, Limits.MAX_SCENARIO_BYTES, "YAML file")
    loc = load_yaml(str(run_dir / rel), raw=raw)  # problems located at file:line:col
    for m in loc.data.get("manufacturers") or []:
        if isinstance(m, dict) and m.get("parts") is not None:
            for k in ONE_PART:  # written with their defaults; a parts line may not set them
                m.pop(k, None)
    return validate(loc, Scenario)
