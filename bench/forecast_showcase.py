"""The Must-show of issue 23, in one re-runnable command.

Runs, on the case study (or any scenario and targets file with a ``parameters:`` block):

1. the forecast as of ``--as-of`` (``sim.forecast``; wall time from an empty bank when
   ``--fresh``, else with the stored bank reused), and prints the posterior of each free
   parameter (median and 90 % interval) and the predictive bands of every monthly export
   figure after the as-of date against the observed value;
2. the backtest over ``--origins`` with ``--horizon`` (``sim.backtest`` on the same bank):
   per series, 50 %/90 % coverage and CRPS of relsim and of the naive baselines;
3. simulation-based calibration (``--sbc`` held-out data sets, 99 posterior draws
   each): rank histogram and chi-square statistic per parameter;
4. timings: CPU ms per step of a bank simulation (summary-only vs full path, from
   ``bench/forecast.py``) and simulations per second of the bank.

Everything is written to ``--out`` (``must-show.md`` and the forecast and backtest
directories) and the Markdown is printed; the fitted file at the posterior median goes
beside the scenario (``<stem>-forecast.yaml``, as ``relsim forecast`` writes it). Re-run
it after a recalibration of the case study: the bank's fingerprint holds the scenario and
the model's source, so a stale bank is refused; ``--fresh`` removes the showcase's own bank first.

Usage::

    python bench/forecast_showcase.py --fresh            # ~36 min on 2 shared cores (load 4-9)
    python bench/forecast_showcase.py --method abc --simulations 1000 --sbc 100  # quick look
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from forecast import bank_rate, step_times  # noqa: E402  (bench/forecast.py)

CASE = Path("scenarios") / "cn-2025-april-controls.yaml"
TARGETS = Path("scenarios") / "calibration" / "cn-2025-targets.yaml"
"""Relative to the repository's root, where the script runs (paths in headers stay short)."""


def md_table(df: pd.DataFrame, floatfmt: str = ".3g") -> str:
    """A data frame as a Markdown table (no tabulate dependency).

    Args:
        df: The table.
        floatfmt: Format of float cells.

    Returns:
        The Markdown text.
    """

    def cell(v: Any) -> str:
        if isinstance(v, float | np.floating):
            return "" if np.isnan(v) else format(float(v), floatfmt)
        if isinstance(v, pd.Timestamp):
            return v.strftime("%Y-%m")
        return str(v)

    head = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in r) + " |" for r in df.itertuples(index=False)]
    return "\n".join([head, rule, *rows])


def short(name: str) -> str:
    """A parameter path shortened for a table (``policy.regimes[x].rules.0.y`` → ``x.0.y``)."""
    return name.replace("policy.regimes[", "").replace("].rules.", ".")


def parameter_table(fc: Any) -> pd.DataFrame:
    """Posterior median and 90 % interval per free parameter, with the prior range."""
    p = fc.parameters()
    prior = zip(p.prior_low, p.prior_high, strict=True)
    return pd.DataFrame(
        {
            "parameter": [short(n) for n in p["parameter"]],
            "prior": [f"{lo:.4g} .. {hi:.4g}" for lo, hi in prior],
            "median": p["p50"],
            "5 %": p["p5"],
            "95 %": p["p95"],
        }
    )


def bands_table(fc: Any, as_of: dt.date) -> pd.DataFrame:
    """Predictive bands of every monthly export figure after the as-of date vs observed."""
    t = fc.tables()["forecast_targets"]
    t = t[(t.target_kind == "monthly_exports") & (t.month > pd.Timestamp(as_of))].copy()
    t["in 50 %"] = (t.observed >= t.p25) & (t.observed <= t.p75)
    t["in 90 %"] = (t.observed >= t.p5) & (t.observed <= t.p95)
    t = t.sort_values(["target", "month"])
    cols = ["target", "month", "observed", "p5", "p25", "p50", "p75", "p95", "in 50 %", "in 90 %"]
    return t[cols]


def total_bands(fc: Any, as_of: dt.date) -> pd.DataFrame:
    """Predictive bands of total monthly exports after the as-of date vs observed."""
    t = fc.tables()["forecast_exports_total"]
    t = t[t.month > pd.Timestamp(as_of)]
    return t[["month", "observed", "p5", "p25", "p50", "p75", "p95"]]


def sbc_tables(res: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SBC statistics per parameter, and the rank histogram as one row of counts each."""
    f = res.frame()
    stats = pd.DataFrame(
        {
            "parameter": [short(n) for n in f.parameter],
            "chi2": f.chi2,
            "p": f.p_value,
            "KS p": f.ks_p_value,
            "contraction": f.contraction,
            "cov50": f.coverage50,
            "cov90": f.coverage90,
        }
    )
    h = res.histogram()
    rows = []
    for name, g in h.groupby("parameter", sort=False):
        rows.append(
            {
                "parameter": short(str(name)),
                "expected per bin": f"{g.expected.iloc[0]:.1f}",
                "counts per rank bin (low → high)": " ".join(str(c) for c in g["count"]),
            }
        )
    return stats, pd.DataFrame(rows)


def main() -> None:
    """Run the forecast, the backtest with SBC and the timings; write ``must-show.md``."""
    import simulator as sim

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    rel = "(relative to the repository's root)"
    ap.add_argument("--scenario", type=Path, default=CASE, help=rel)
    ap.add_argument("--targets", type=Path, default=TARGETS, help=rel)
    ap.add_argument("--as-of", default="2025-07-31")
    ap.add_argument("--origins", default="2025-05:2025-11")
    ap.add_argument("--horizon", type=int, default=3)
    ap.add_argument("--simulations", type=int, default=4000)
    ap.add_argument("--draws", type=int, default=400, help="predictive draws of the forecast")
    ap.add_argument("--backtest-draws", type=int, default=200)
    ap.add_argument("--sbc", type=int, default=200)
    ap.add_argument("--method", default="npe", choices=("npe", "abc"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--reps", type=int, default=20, help="simulations timed per step")
    ap.add_argument("--out", type=Path, default=Path("runs") / "showcase", help=rel)
    ap.add_argument("--fresh", action="store_true", help="remove the showcase's bank first")
    ap.add_argument("--skip", nargs="*", default=(), choices=("forecast", "backtest", "timing"))
    a = ap.parse_args()
    os.chdir(ROOT)

    as_of = dt.date.fromisoformat(a.as_of)
    bank = a.out / f"{a.scenario.stem}-{a.targets.stem}.bank"
    if a.fresh and bank.exists():
        shutil.rmtree(bank)
    a.out.mkdir(parents=True, exist_ok=True)
    built = not (bank / "bank.npz").exists()
    md = [
        f"# Must-show of issue 23: {a.scenario.name}, {a.targets.name}",
        "",
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, relsim {sim.__version__}, "
        f"method {a.method}, {a.simulations} simulations in the bank, {a.workers} workers, "
        f"{os.cpu_count()} cores (load average at start {os.getloadavg()[0]:.1f}).",
        "",
    ]

    def emit(*lines: str) -> None:
        md.extend(lines)
        print(*lines, sep="\n", flush=True)

    emit(*md)
    md_path = a.out / "must-show.md"
    if "forecast" not in a.skip:
        t = time.perf_counter()
        fc = sim.forecast(
            a.scenario,
            a.targets,
            as_of,
            simulations=a.simulations,
            draws=a.draws,
            method=a.method,
            workers=a.workers,
            out=a.out / f"forecast-{as_of}",
            bank=bank,
            force=True,
            progress=False,
        )
        wall = time.perf_counter() - t
        tm = fc.timings
        emit(
            f"## Forecast as of {as_of}",
            "",
            f"Conditioned on {int(fc.mask.sum())} figures public by {as_of}. Wall time "
            f"{wall:.0f} s ({'bank built from empty' if built else 'stored bank reused'}): "
            + ", ".join(f"{k} {v:.0f} s" for k, v in tm.items()),
            "",
            "Posterior per free parameter (median, 90 % interval):",
            "",
            md_table(parameter_table(fc), ".4g"),
            "",
            f"Predictive bands of total monthly exports after {as_of} (t):",
            "",
            md_table(total_bands(fc, as_of), ".0f"),
            "",
            "Every monthly export target after the as-of date (t):",
            "",
            md_table(bands_table(fc, as_of), ".0f"),
            "",
        )
        if built and tm.get("bank"):
            emit(
                f"Bank: {a.simulations} simulations in {tm['bank']:.0f} s = "
                f"{a.simulations / tm['bank']:.1f} simulations/s on {a.workers} workers.",
                "",
            )
        md_path.write_text("\n".join(md) + "\n", encoding="utf-8")
    if "backtest" not in a.skip:
        bt = sim.backtest(
            a.scenario,
            a.targets,
            a.origins,
            horizon=a.horizon,
            simulations=a.simulations,
            draws=a.backtest_draws,
            method=a.method,
            sbc=a.sbc,
            workers=a.workers,
            out=a.out / "backtest",
            bank=bank,
            force=True,
            progress=False,
        )
        s = bt.summary[["series", "forecaster", "n", "coverage50", "coverage90", "crps"]]
        wide = s.pivot_table(index="series", columns="forecaster", values="crps", sort=False)
        rel = s[s.forecaster == "relsim"].set_index("series")
        table = pd.DataFrame(
            {
                "series": rel.index,
                "n": rel.n.to_numpy(),
                "cov50": rel.coverage50.to_numpy(),
                "cov90": rel.coverage90.to_numpy(),
                "CRPS relsim": rel.crps.to_numpy(),
                "CRPS last value": wide.reindex(rel.index).get("persistence"),
                "CRPS seasonal": wide.reindex(rel.index).get("seasonal"),
            }
        )
        emit(
            f"## Backtest, origins {a.origins}, horizon {a.horizon}",
            "",
            "Per series: coverage of relsim's central 50 % and 90 % intervals, mean fair CRPS "
            "(t) of relsim and of the naive baselines (last value; same month a year earlier "
            "× trend) on the same cells (a baseline's n can be smaller: no history a year "
            "back). Timings: " + ", ".join(f"{k} {v:.0f} s" for k, v in bt.timings.items()),
            "",
            md_table(table, ".3g"),
            "",
        )
        if bt.sbc is not None:
            stats, hist = sbc_tables(bt.sbc)
            emit(
                f"## Simulation-based calibration ({bt.sbc.k} held-out data sets, "
                f"{bt.sbc.draws} draws, figures public at {bt.origins[-1]})",
                "",
                "Checks: "
                + ", ".join(f"{k} {'pass' if v else 'FAIL'}" for k, v in bt.sbc.checks.items())
                + (f" ({'; '.join(bt.sbc.messages)})" if bt.sbc.messages else ""),
                "",
                md_table(stats, ".3g"),
                "",
                md_table(hist),
                "",
            )
        md_path.write_text("\n".join(md) + "\n", encoding="utf-8")
    if "timing" not in a.skip:
        med = step_times(a.reps, a.scenario, a.targets)
        wall, rate = bank_rate(200, a.workers, a.scenario, a.targets)
        emit(
            "## Timings",
            "",
            f"CPU ms per simulation (median of {a.reps}; load average {os.getloadavg()[0]:.1f}):",
            "",
            md_table(pd.DataFrame([{k: v for k, v in med.items()}]), ".1f"),
            "",
            f"Summary-only replication {med['summary_only']:.1f} ms vs full path "
            f"{med['full_path']:.1f} ms (the loop and the draws are common; summarise "
            f"{med['summarise']:.1f} ms vs decode {med['decode']:.1f} ms). An unstored bank "
            f"of 200: {rate:.1f} simulations/s on {a.workers} workers ({wall:.0f} s).",
            "",
        )
        md_path.write_text("\n".join(md) + "\n", encoding="utf-8")
    print(f"written {md_path}")


if __name__ == "__main__":
    main()
