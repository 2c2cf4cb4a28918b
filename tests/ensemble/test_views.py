"""How headline dates read (:func:`simulator.ensemble.views.date_phrases`): the median
date, the 5–95 % range across replications and the share of replications, never a
date that most replications do not reach."""

from __future__ import annotations

import pytest

from simulator.ensemble.views import date_phrases, date_range_text, share_text


def test_a_first_shortage_reads_median_range_and_share() -> None:
    assert date_phrases("first", "2025-06-12", "2025-06-04", "2025-06-23", share=1.0) == (
        "2025-06-12",
        "2025-06-04 – 2025-06-23",
        "in 100%",
    )
    short = date_phrases("first", "2025-06-12", "2025-06-04", "2025-06-23", share=0.3, short=True)
    assert short == ("2025-06-12", "06-04 – 06-23", "in 30%")
    assert date_phrases("first", None, None, None, share=0.0)[0] == "never"


def test_a_recovery_most_replications_reach_leads_with_its_date() -> None:
    text, rng, says = date_phrases(
        "recovery",
        "2025-11-30",
        "2025-10-17",
        "2025-12-27",
        share=0.71,
        p_short=1.0,
        short_at_end=0.29,
    )
    assert (text, rng) == ("2025-11-30", "2025-10-17 – 2025-12-27")
    assert says == "in 71%; 29% still short at the end"


def test_a_recovery_few_replications_reach_is_not_by_the_end() -> None:
    """The issue's in_ev_maker: 9 of 100 recovered; the headline must not be a date."""
    text, rng, says = date_phrases(
        "recovery",
        "2025-12-23",
        "2025-12-20",
        "2025-12-26",
        share=0.09,
        p_short=1.0,
        short_at_end=0.91,
    )
    assert text == "not by the end" and rng == ""
    assert says == "91% still short at the end; 9% recovered, median 2025-12-23"
    short = date_phrases(
        "recovery",
        "2025-12-23",
        None,
        None,
        share=0.09,
        p_short=1.0,
        short_at_end=0.91,
        short=True,
    )
    assert short == ("not by end", "", "91% short at end; 9% by 2025-12-23")
    assert date_phrases("recovery", None, None, None, share=0.0, p_short=0.0)[0] == "—"
    none = date_phrases("recovery", None, None, None, share=0.0, p_short=1.0, short_at_end=1.0)
    assert none == ("not by the end", "", "100% still short at the end")


@pytest.mark.parametrize(
    ("x", "text"), [(0.0, "0%"), (0.001, "<1%"), (0.5, "50%"), (0.996, ">99%"), (1.0, "100%")]
)
def test_shares_never_round_to_a_claim(x: float, text: str) -> None:
    assert share_text(x) == text


def test_date_ranges() -> None:
    assert date_range_text("2025-12-20", "2026-01-10", short=True) == "2025-12-20 – 2026-01-10"
    assert date_range_text("2025-12-20", "2025-12-20") == "2025-12-20"
    assert date_range_text(None, "2025-12-20") == ""


def test_an_old_kpi_table_without_spread_shows_mean_dates_said_so() -> None:
    """`relsim report` of a run directory written before dates had their spread."""
    import pandas as pd

    from simulator.ensemble.views import kpi_table_html

    old = pd.DataFrame(
        [
            {
                "manufacturer": "m",
                "name": "m",
                "first_shortage_date": pd.Timestamp("2025-06-12"),
                "first_shortage_date_low": pd.Timestamp("2025-06-10"),
                "first_shortage_date_high": pd.Timestamp("2025-06-14"),
                "p_any_shortage": 1.0,
            }
        ]
    )
    page = kpi_table_html(old)
    assert "2025-06-12" in page and "mean date [95% CI]" in page and "never" not in page
