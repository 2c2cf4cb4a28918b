"""One table schema: every table relsim hands out has the columns, dtypes and units
declared once in ``simulator/replication/columns.py``; ``docs/outputs.md`` is rendered
from it; ids are strings named after what they identify, missing is null, every
timestamp is ``[ms]``, totals are separate; and tables join on ``manufacturer``
without renaming anything."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import simulator as sim
from simulator.replication.columns import COLUMNS, TABLES, TIME_UNIT, outputs_markdown

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "data" / "small.yaml"
ID_COLUMNS = ("manufacturer", "part", "destination", "origin", "exporter", "product", "lane")


@pytest.fixture(scope="module")
def small() -> sim.Scenario:
    return sim.load_scenario(SMALL)


@pytest.fixture(scope="module")
def one(small: sim.Scenario) -> sim.RunResult:
    return sim.run(small, seed=3)


@pytest.fixture(scope="module")
def ens(small: sim.Scenario) -> sim.EnsembleResult:
    return sim.run_ensemble(small, reps=4, seed=3, workers=1)


def _frames(one: sim.RunResult, ens: sim.EnsembleResult, small: sim.Scenario) -> dict:
    cmp = sim.compare(small, small, reps=3, seed=1, workers=1)
    return {
        "licences": one.licences,
        "shipments": one.shipments,
        "events": one.events,
        "daily": one.daily,
        "authority_daily": one.authority_daily,
        "exports": one.exports,
        "arrivals": one.arrivals,
        "kpis": one.kpis,
        "totals": one.totals,
        "regimes": one.regimes,
        "overlays": one.overlays,
        "kpi_summary": ens.kpi_summary(),
        "kpi_table": ens.kpi_table(),
        "kpis_by_rep": ens.kpi_reps,
        "bands_shortfall": ens.bands("shortfall_t"),
        "bands_inventory": ens.bands("inventory_t"),
        "bands_backlog": ens.bands("backlog"),
        "p_shortage": ens.p_shortage(),
        "exports_monthly": ens.exports(),
        "exports_monthly_total": ens.exports_total(),
        "arrivals_monthly": ens.arrivals(),
        "arrivals_monthly_total": ens.arrivals_total(),
        "wait_histogram": ens.wait_histogram(),
        "differences": cmp.differences(),
        "date_differences": cmp.date_differences(),
        "shortfall_difference_daily": cmp.diff_daily,
    }


def test_docs_outputs_md_is_rendered_from_the_registry() -> None:
    doc = (ROOT / "docs" / "outputs.md").read_text(encoding="utf-8")
    assert doc == outputs_markdown(), "docs/outputs.md is stale: run python tools/gen_docs.py"


def test_every_table_has_its_declared_columns_dtypes_and_units(
    one: sim.RunResult, ens: sim.EnsembleResult, small: sim.Scenario
) -> None:
    frames = _frames(one, ens, small)
    # the forecast, backtest and SBC tables are checked by tests/explore/test_forecast.py
    # (building them needs a bank of simulations)
    from simulator.replication.forecast_tables import forecast_tables

    checked = set(TABLES) - set(forecast_tables(()))
    assert set(frames) == checked, "a table is declared but not checked (or the reverse)"
    for name, df in frames.items():
        spec = TABLES[name]
        assert list(df.columns) == list(spec.columns), name
        assert df.attrs["table"] == name
        for c in df.columns:
            assert str(df[c].dtype) == COLUMNS[c].dtype or (
                COLUMNS[c].dtype == "string" and isinstance(df[c].dtype, pd.StringDtype)
            ), f"{name}.{c}: {df[c].dtype} (declared {COLUMNS[c].dtype})"
            assert df.attrs["units"][c], f"{name}.{c} has no unit"
            if pd.api.types.is_datetime64_any_dtype(df[c]):
                assert str(df[c].dtype) == f"datetime64[{TIME_UNIT}]", f"{name}.{c}"
        assert "entity" not in df.columns and "aux" not in df.columns


def test_ids_are_strings_missing_is_null_and_no_sentinels(
    one: sim.RunResult, ens: sim.EnsembleResult, small: sim.Scenario
) -> None:
    for name, df in _frames(one, ens, small).items():
        for c in ID_COLUMNS:
            if c in df.columns:
                assert isinstance(df[c].dtype, pd.StringDtype), f"{name}.{c}"
                assert not (df[c] == "").any(), f"{name}.{c}: empty-string sentinel"
                assert "ALL" not in set(df[c].dropna()), f"{name}.{c}: fake total id"
        for c in ("application", "shipment"):
            if c in df.columns:
                assert str(df[c].dtype) == "Int64" and not (df[c] < 0).any(), f"{name}.{c}"
    ev = one.events
    goods = ev[ev["kind"].isin(["order", "departed", "arrived"])]
    assert goods["application"].isna().all()  # null, not -1
    assert ev.loc[ev["kind"] == "decide", "application"].notna().all()
    # background exports have no manufacturer; orders name theirs by id
    lic = one.licences
    assert lic.loc[lic["source"] == "background", "manufacturer"].isna().all()
    assert set(lic.loc[lic["source"] == "manufacturer", "manufacturer"]) <= {"us_plant", "de_plant"}


def test_dates_in_licence_goods_and_kpi_tables(one: sim.RunResult, ens: sim.EnsembleResult) -> None:
    start = pd.Timestamp(one.scenario.start)
    lic = one.licences.dropna(subset=["decided_at"])
    np.testing.assert_allclose(
        (lic["decided_at"] - start).dt.total_seconds() / 86400, lic["decided_days"], atol=1e-6
    )
    assert (lic["decided_at"] >= lic["submitted_at"]).all()
    sh = one.shipments
    arrived = sh.dropna(subset=["arrived_at", "departed_at"])
    assert len(arrived) and (arrived["arrived_at"] >= arrived["departed_at"]).all()
    assert (sh["ordered_at"].notna()).all()
    k = one.kpis.set_index("manufacturer")
    for m in ("us_plant", "de_plant"):
        first = k.loc[m, "days_to_first_shortage"]
        if np.isfinite(first):
            assert k.loc[m, "first_shortage_date"] == start + pd.Timedelta(days=first)
    kt = ens.kpi_table()
    assert kt["first_shortage_date"].notna().all()
    assert (kt["first_shortage_date_low"] <= kt["first_shortage_date"]).all()
    summary = ens.summary_dict()["kpis"]["us_plant"]
    assert (
        summary["first_shortage_date"]["mean"]
        == kt.loc[0, "first_shortage_date"].date().isoformat()
    )
    # the headline: median and 5–95 % range of the replications' own dates
    reps = ens.kpi_reps
    days = reps[
        (reps["manufacturer"] == "us_plant")
        & reps["part"].isna()
        & (reps["kpi"] == "days_to_first_shortage")
    ]["value"].to_numpy()
    days = days[np.isfinite(days)]
    q = np.quantile(days, [0.5, 0.05, 0.95])
    for col, v in zip(("median", "p5", "p95"), q, strict=True):
        assert kt.loc[0, f"first_shortage_date_{col}"] == start + pd.Timedelta(days=int(v // 1))
        assert (
            summary["first_shortage_date"][col]
            == (start + pd.Timedelta(days=int(v // 1))).date().isoformat()
        )
    assert summary["first_shortage_date"]["share"] == kt.loc[0, "p_any_shortage"]
    assert (kt["p_recovered"] + kt["p_short_at_end"] == kt["p_any_shortage"]).all()
    assert (kt["first_shortage_date_p5"] <= kt["first_shortage_date_median"]).all()
    assert (kt["first_shortage_date_median"] <= kt["first_shortage_date_p95"]).all()
    # monthly tables: month starts; totals in their own table
    ex = ens.exports()
    assert (ex["month"].dt.day == 1).all() and "ALL" not in set(ex["destination"])
    tot = ens.exports_total()
    np.testing.assert_allclose(
        ex.groupby("month")["mean"].sum().to_numpy(), tot["mean"].to_numpy(), rtol=1e-9
    )


def test_run_directory_files_have_one_timestamp_unit(
    tmp_path: Path, ens: sim.EnsembleResult, one: sim.RunResult
) -> None:
    from simulator.report.rundir import write_run_dir

    out = write_run_dir(
        tmp_path / "run", ens, files=[str(SMALL)], rep0=one, figures=False, report=False
    )
    units = set()
    for f in out.rglob("*.parquet"):
        for field in pq.read_schema(f):
            if str(field.type).startswith("timestamp"):
                units.add(field.type.unit)
            assert field.name != "entity", f
    assert units == {TIME_UNIT}


def test_bands_kpis_and_licences_join_on_manufacturer_without_renaming(
    tmp_path: Path, ens: sim.EnsembleResult, one: sim.RunResult
) -> None:
    """The analyst's query: per manufacturer, the peak p95 shortfall band, the mean fill
    rate and the number of licence applications it made — three tables read back from
    the run directory, joined on `manufacturer` as they are."""
    from simulator.report.rundir import write_run_dir

    out = write_run_dir(
        tmp_path / "run", ens, files=[str(SMALL)], rep0=one, figures=False, report=False
    )
    bands = pd.read_parquet(out / "bands_shortfall.parquet")
    kpis = pd.read_csv(out / "kpi_summary.csv")
    licences = pd.read_parquet(out / "rep0" / "licences.parquet")
    peak = bands.groupby("manufacturer", as_index=False)["p95"].max()
    fill = kpis[kpis["kpi"] == "fill_rate"][["manufacturer", "mean"]]
    apps = licences.groupby("manufacturer", as_index=False)["application"].count()
    joined = peak.merge(fill, on="manufacturer").merge(apps, on="manufacturer")
    assert sorted(joined["manufacturer"]) == ["de_plant", "us_plant"]
    assert (joined["p95"] > 0).all() and joined["mean"].between(0, 1).all()
    assert (joined["application"] > 0).all()
    # the headline table joins the same way, with dates
    kt = pd.read_csv(out / "kpi_table.csv", parse_dates=["first_shortage_date"])
    j2 = kt.merge(peak, on="manufacturer")
    assert len(j2) == 2 and j2["first_shortage_date"].notna().all()


def test_xlsx_has_a_sheet_per_table(
    tmp_path: Path, ens: sim.EnsembleResult, one: sim.RunResult
) -> None:
    from openpyxl import load_workbook

    from simulator.report.rundir import run_tables, write_run_dir

    out = write_run_dir(
        tmp_path / "run", ens, files=[str(SMALL)], rep0=one, figures=False, report=False, xlsx=True
    )
    wb = load_workbook(out / "tables.xlsx", read_only=True)
    expected = [n.replace("/", " ")[:31] for n in run_tables(ens, one)] + ["units"]
    assert wb.sheetnames == expected
    ws = wb["kpi_table"]
    header = [c.value for c in next(ws.iter_rows(max_row=1))]
    assert header == list(TABLES["kpi_table"].columns)


def test_xlsx_leaves_per_event_tables_to_their_files(
    tmp_path: Path, ens: sim.EnsembleResult, one: sim.RunResult
) -> None:
    """Issue 24: --xlsx took ~48 s and 8.6 MB for the case study, mostly rep0's events;
    a table over the cell cap gets a sheet naming its files instead."""
    from openpyxl import load_workbook

    from simulator.report.rundir import run_tables, write_xlsx

    tables = run_tables(ens, one)
    path = tmp_path / "t.xlsx"
    write_xlsx(tables, path, max_cells=2_000)
    wb = load_workbook(path, read_only=True)
    big = [n for n, df in tables.items() if len(df) * len(df.columns) > 2_000]
    assert "rep0/events" in big
    for name in big:
        rows = list(wb[name.replace("/", " ")[:31]].iter_rows(values_only=True))
        assert len(rows) == 2 and f"see {name}.parquet" in rows[1][0]
    small = next(n for n, df in tables.items() if 0 < len(df) * len(df.columns) <= 2_000)
    assert len(list(wb[small.replace("/", " ")[:31]].iter_rows())) == len(tables[small]) + 1
