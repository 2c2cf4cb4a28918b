"""The columns and tables of forecasts, backtests and simulation-based calibration
(``relsim forecast``, ``relsim backtest``), declared here and merged into
:data:`simulator.replication.columns.COLUMNS` and ``TABLES``."""

from __future__ import annotations

from simulator.replication.table_types import DT as _DT
from simulator.replication.table_types import VALUE, Table
from simulator.world.trace import Column

__all__ = ["FORECAST_COLUMNS", "forecast_tables"]

FORECAST_COLUMNS: list[Column] = [
    Column("parameter", "string", "path", "free parameter: its scenario path (targets file)"),
    Column("prior_low", "float64", "(parameter unit)", "lowest value the prior allows"),
    Column("prior_high", "float64", "(parameter unit)", "highest value the prior allows"),
    Column("target", "string", "id", "target id (targets file)"),
    Column("target_kind", "string", "label", "what the target measures (its `kind`)"),
    Column("observed", "float64", VALUE, "the observed value (null: none)"),
    Column("published", _DT, "date", "when the observed value became public"),
    Column("public", "bool", "flag", "public on or before the as-of date: conditioned on"),
    Column("p_stop", "float64", "share", "share of predictive draws whose line stopped by then"),
    Column("draw", "int64", "index", "posterior draw"),
    Column("theta", "float64", "(parameter unit)", "the parameter's value in this draw"),
    Column("origin_month", _DT, "date", "backtest origin: data public by the end of this month"),
    Column("series", "string", "label", "the scored series (`exports` or `exports <country>`)"),
    Column("horizon_months", "int64", "months", "months after the origin month"),
    Column("forecaster", "string", "label", "`relsim`, `persistence` (last value) or `seasonal`"),
    Column("members", "int64", "count", "ensemble members (draws) of the forecast"),
    Column("crps", "float64", VALUE, "continuous ranked probability score (fair; lower: better)"),
    Column("in50", "bool", "flag", "observed value inside the central 50% interval"),
    Column("in90", "bool", "flag", "observed value inside the central 90% interval"),
    Column("pit", "float64", "share", "probability integral transform: share of members below"),
    Column("coverage50", "float64", "share", "share of observed values inside the 50% interval"),
    Column("coverage90", "float64", "share", "share of observed values inside the 90% interval"),
    Column("crps_skill", "float64", "ratio", "1 − CRPS / the last-value baseline's CRPS"),
    Column("pit_low", "float64", "share", "bin's lower edge"),
    Column("pit_high", "float64", "share", "bin's upper edge"),
    Column("forecasts", "int64", "count", "forecasts in the bin"),
    Column("rank_low", "int64", "rank", "bin's lowest rank of the truth among posterior draws"),
    Column("rank_high", "int64", "rank", "bin's highest rank (inclusive)"),
    Column("datasets", "int64", "count", "synthetic data sets"),
    Column("expected", "float64", "count", "the count expected if the ranks are uniform"),
    Column("chi2", "float64", "statistic", "chi-square statistic of uniformity"),
    Column("p_value", "float64", "share", "its p-value"),
    Column("contraction", "float64", "share", "1 − posterior variance / prior variance"),
]
_SCORED = ("origin_month", "series", "horizon_months", "month", "forecaster", "observed", "members")
"""The cell a backtest scores: its origin, series, lead, month, forecaster and value."""


def forecast_tables(stat_columns: tuple[str, ...]) -> dict[str, Table]:
    """The forecast, backtest and SBC tables, by name (``stat_columns``: the statistics
    columns every predictive table carries)."""
    STAT_COLUMNS = stat_columns
    return {
        t.name: t
        for t in [
            Table(
                "forecast_parameters",
                "ForecastResult.parameters() · forecast/parameters.csv (relsim forecast)",
                "posterior of each free parameter given the figures public by the as-of date",
                ("parameter", "prior_low", "prior_high", "mean", "sd", *STAT_COLUMNS[1:]),
                value_unit="the parameter's",
            ),
            Table(
                "forecast_targets",
                "ForecastResult.tables()['forecast_targets'] · forecast/targets.csv",
                "posterior predictive of every target, beside its observed value and whether "
                "it was public by the as-of date (conditioned on) or came later (a check)",
                (
                    "target",
                    "target_kind",
                    "month",
                    "observed",
                    "published",
                    "public",
                    *STAT_COLUMNS,
                ),
                value_unit="the target's (tonnes, share or days)",
            ),
            Table(
                "forecast_exports",
                "ForecastResult.tables()['forecast_exports'] · forecast/exports.csv",
                "posterior predictive exports through Chinese customs per month and destination",
                ("month", "destination", "observed", "public", *STAT_COLUMNS),
                value_unit="t/month",
            ),
            Table(
                "forecast_exports_total",
                "ForecastResult.tables()['forecast_exports_total'] · forecast/exports_total.csv",
                "posterior predictive exports per month, all destinations",
                ("month", "observed", "public", *STAT_COLUMNS),
                value_unit="t/month",
            ),
            Table(
                "forecast_shortfall",
                "ForecastResult.tables()['forecast_shortfall'] · forecast/shortfall.csv",
                "posterior predictive material of the demand not made, per month and manufacturer",
                ("month", "manufacturer", *STAT_COLUMNS),
                value_unit="t/month",
            ),
            Table(
                "forecast_line_stop",
                "ForecastResult.tables()['forecast_line_stop'] · forecast/line_stop.csv",
                "per day and manufacturer: probability that the line has stopped (its first "
                "shortage day) on or before that day",
                ("date", "manufacturer", "p_stop"),
            ),
            Table(
                "forecast_waits",
                "ForecastResult.tables()['forecast_waits'] · forecast/waits.csv",
                "posterior predictive median wait, submission to decision, of the applications "
                "submitted each month (decided within the horizon)",
                ("month", *STAT_COLUMNS),
                value_unit="calendar days",
            ),
            Table(
                "forecast_posterior",
                "forecast/posterior.parquet",
                "the posterior draws the predictive simulated (one row per draw and parameter)",
                ("draw", "parameter", "theta"),
            ),
            Table(
                "backtest_scores",
                "BacktestResult.scores · backtest/scores.csv (relsim backtest)",
                "one row per origin, series, horizon and forecaster: the forecast's quantiles "
                "and its scores against the observed value",
                (*_SCORED, *STAT_COLUMNS, "crps", "in50", "in90", "pit"),
                value_unit="t/month",
            ),
            Table(
                "backtest_summary",
                "BacktestResult.summary · backtest/summary.csv (relsim backtest)",
                "per series and forecaster: forecasts scored, coverage of the 50% and 90% "
                "intervals, mean CRPS and skill against the last-value baseline",
                ("series", "forecaster", "n", "coverage50", "coverage90", "crps", "crps_skill"),
                value_unit="t/month",
            ),
            Table(
                "backtest_pit",
                "BacktestResult.pit · backtest/pit.csv (relsim backtest)",
                "PIT histogram per forecaster (uniform if calibrated)",
                ("forecaster", "pit_low", "pit_high", "forecasts", "share"),
            ),
            Table(
                "sbc_ranks",
                "backtest/sbc_ranks.csv (relsim backtest --sbc K)",
                "simulation-based calibration: rank histogram of each parameter's truth among "
                "its posterior draws over K synthetic data sets",
                ("parameter", "rank_low", "rank_high", "datasets", "expected"),
            ),
            Table(
                "sbc_summary",
                "backtest/sbc_summary.csv (relsim backtest --sbc K)",
                "simulation-based calibration per parameter: uniformity of the ranks, posterior "
                "contraction and coverage of the central intervals",
                ("parameter", "chi2", "p_value", "contraction", "coverage50", "coverage90"),
            ),
        ]
    }
