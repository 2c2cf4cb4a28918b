"""Batch releases (a rule's ``release``): when a political signal brings a release into
force, the files waiting on the authority are decided within its window at its approval
level — files that waited come back in a batch, files decided before or submitted after
are not touched. Both engines agree (the differential tests also generate releases)."""

from __future__ import annotations

import numpy as np
import pytest
from builders import START, authority_only, build, day

import simulator as sim

D_PARK, D_REL, WINDOW = 10, 60, 10


def _scenario(share: float, approval: float) -> sim.Scenario:
    data = authority_only(
        days=120,
        reviewers=60,
        work={"kind": "constant", "value": 2},
        streams=[
            {"destination": "XX", "rate_per_wd": 3.0},
            {"destination": "YY", "rate_per_wd": 3.0},
        ],
        approval={"probability": 1.0},
    )
    data["policy"] = {
        "regimes": [{"name": "sit", "rules": [{"park": {"probability": 1.0}}]}],  # files sit
        "timeline": [{"date": day(START, D_PARK), "regime": "sit"}],
        "overlays": [
            {
                "from": day(START, D_REL),
                "until": day(START, D_REL + WINDOW - 1),
                "where": {"destination": "XX"},
                "release": {
                    "share": share,
                    "within_days": WINDOW,
                    "approval_probability": approval,
                },
            }
        ],
    }
    return build(data)


@pytest.mark.parametrize("engine", ["kernel", "simpy"])
def test_release_decides_the_waiting_backlog_within_its_window(engine: str):
    lic = sim.run(_scenario(1.0, 0.25), seed=3, engine=engine).licences
    xx = (lic["destination"] == "XX").to_numpy()
    sub, dec = lic["submitted_days"].to_numpy(), lic["decided_days"].to_numpy()
    # waiting on the authority at the signal: submitted before it, not decided before it
    # (parked after review, or still in review)
    waiting = (sub < D_REL) & ~(dec < D_REL)
    rel = lic["released"].to_numpy()
    assert (rel == (xx & waiting)).all(), "exactly the waiting XX files are released"
    assert ((dec[rel] >= D_REL) & (dec[rel] < D_REL + WINDOW)).all()
    assert rel.sum() > 100
    # at the release's approval level (0.25), not the authority's (1.0)
    share = (lic["outcome"].to_numpy()[rel] == "approved").mean()
    assert 0.15 < share < 0.35, share
    # other files keep waiting: YY files and XX files submitted after the signal
    assert np.isnan(dec[~xx & (sub >= D_PARK)]).all()
    assert np.isnan(dec[xx & (sub > D_REL + 1)]).all()


def test_share_of_files_released_is_the_release_share():
    lic = sim.run(_scenario(0.4, 1.0), seed=5).licences
    xx = (lic["destination"] == "XX").to_numpy()
    sub, dec = lic["submitted_days"].to_numpy(), lic["decided_days"].to_numpy()
    waiting = xx & (sub < D_REL) & ~(dec < D_REL)
    n, k = int(waiting.sum()), int(lic["released"].to_numpy()[waiting].sum())
    se = np.sqrt(0.4 * 0.6 / n)
    assert abs(k / n - 0.4) < 4 * se, (k, n)


def test_explain_shows_the_release():
    text = str(sim.explain(_scenario(0.9, 0.95), day(START, D_REL + 1), destination="XX"))
    assert "batch release" in text and "90%" in text, text


@pytest.mark.parametrize("engine", ["kernel", "simpy"])
def test_a_narrower_rule_with_share_0_keeps_its_files_out_of_a_release(engine: str):
    data = _scenario(1.0, 1.0).model_dump(mode="json", exclude_none=True, by_alias=True)
    overlay = data["policy"]["overlays"][0]
    overlay["where"] = {}  # the release now matches every file ...
    data["policy"]["overlays"].append(  # ... but a narrower rule excludes YY's
        {
            "from": overlay["from"],
            "until": overlay["until"],
            "where": {"destination": "YY"},
            "release": {"share": 0},
        }
    )
    lic = sim.run(sim.scenario_from_dict(data), seed=3, engine=engine).licences
    rel = lic["released"].to_numpy()
    yy = (lic["destination"] == "YY").to_numpy()
    assert rel[~yy].sum() > 100 and not rel[yy].any()
