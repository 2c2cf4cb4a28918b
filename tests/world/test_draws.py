"""The draw table: one function fills a replication's draws; draws are named by source, so
a source keeps its draws when others change (common random numbers); attributes that
cannot matter are not drawn."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import simulator as sim
from simulator.world.calendar import build_calendar
from simulator.world.draws import DRAWS, FLOAT_DRAWS, INT_DRAWS, fill_draws
from simulator.world.static import compile_scenario

ROOT = Path(__file__).resolve().parents[2]


def _draws(sc: sim.Scenario, seed: int = 4, rep: int = 2):
    st = compile_scenario(sc, build_calendar(sc))
    return st, fill_draws(st, seed, rep)


def test_same_seed_same_draws_and_every_name_laid_out():
    sc = sim.load_scenario(ROOT / "scenarios" / "examples" / "files-that-sit.yaml")
    _, a = _draws(sc)
    _, b = _draws(sc)
    np.testing.assert_array_equal(a.F, b.F)
    np.testing.assert_array_equal(a.I, b.I)
    assert sum(a.size[n] for n in FLOAT_DRAWS) == a.F.size
    assert sum(a.size[n] for n in INT_DRAWS) == a.I.size
    assert {d.name for d in DRAWS} == {*FLOAT_DRAWS, "noise"}
    _, c = _draws(sc, rep=3)
    assert not np.array_equal(a.f("work"), c.f("work"))


def test_a_background_stream_keeps_its_draws_when_a_manufacturer_is_removed():
    sc = sim.load_scenario(ROOT / "scenarios" / "examples" / "sweep-slowdown.yaml")
    assert sc.manufacturers and sc.authority.background
    alone = sim.scenario_from_dict(
        {**sc.model_dump(mode="json", by_alias=True), "manufacturers": [], "lanes": []}
    )
    _, a = _draws(sc)
    _, b = _draws(alone)
    np.testing.assert_array_equal(a.f("bg_t"), b.f("bg_t"))
    np.testing.assert_array_equal(a.f("bg_tonnes"), b.f("bg_tonnes"))
    n = a.size["bg_t"]  # background sources come first: the same rows of application draws
    assert n > 0 and a.size["work"] > b.size["work"] == n
    np.testing.assert_array_equal(a.f("work")[:n], b.f("work"))


def test_unused_attributes_take_their_defaults():
    sc = sim.load_scenario(ROOT / "scenarios" / "examples" / "minimal.yaml")
    st, d = _draws(sc)
    assert not st.any_park and not st.any_partial
    assert np.all(d.f("u_park") == 1.0) and np.all(d.f("u_partial") == 1.0)
    assert d.size["park_days"] == 0


def test_streams_seeded_together_are_numpys_seed_sequence_streams():
    """:func:`pcg64_seeds` (the batch seeding of :meth:`Streams.prepare`) is numpy's
    ``SeedSequence`` mixing: same seed words for any seed and spawn key, same values."""
    from simulator.world.rng import Streams, pcg64_seeds

    rng = np.random.default_rng(1)
    for seed in (0, 1, 3, 2**32 - 1, 2**32 + 5, 2**70 + 3):
        keys = [()]
        keys += [tuple(int(x) for x in rng.integers(0, 2**32, n)) for n in range(1, 9)]
        keys += [(0,), (2**40 + 7, 3), (0,) * 6]
        want = [
            np.random.SeedSequence(seed, spawn_key=k).generate_state(4, np.uint64) for k in keys
        ]
        np.testing.assert_array_equal(pcg64_seeds(seed, keys), np.array(want))
    for seed, rep in ((3, 7), (0, 0), (2**33, 2**35)):
        paths = [("app", "bg/US", "work"), ("goods", "bg", "US", "x", "u_hold"), ("demand", "m")]
        alone = [Streams(seed, rep).get(*p).random(600) for p in paths]
        batch = Streams(seed, rep)
        batch.prepare(paths)
        for p, a in zip(paths, alone, strict=True):
            np.testing.assert_array_equal(batch.get(*p).random(600), a)


def test_values_drawn_at_once_are_those_drawn_in_blocks():
    """``draw_blocks`` draws the :data:`SEQUENTIAL` kinds (and ``uniform_blocks`` its
    uniforms) at once: the same values as blocks of ``BLOCK`` drawn one after another."""
    from pydantic import TypeAdapter

    from simulator.scenario.distributions import Distribution
    from simulator.world.sampling import BLOCK, SEQUENTIAL, draw_blocks, uniform_blocks

    dists = {
        "exponential": {"kind": "exponential", "mean": 2.0},
        "uniform": {"kind": "uniform", "low": 1.0, "high": 3.0},
        "triangular": {"kind": "triangular", "low": 1.0, "mode": 2.0, "high": 5.0},
        "lognormal": {"kind": "lognormal", "mean": 4.0, "sd": 3.0},
        "gamma": {"kind": "gamma", "mean": 15.0, "sd": 7.0},
        "gamma<1": {"kind": "gamma", "mean": 1.0, "sd": 3.0},
    }
    assert {d["kind"] for d in dists.values()} == SEQUENTIAL
    for spec in dists.values():
        dist = TypeAdapter(Distribution).validate_python(spec)
        for n in (1, BLOCK - 1, BLOCK, BLOCK + 1, 5 * BLOCK + 7):
            g = np.random.default_rng(n)
            blocks = np.concatenate([dist.draw(g, BLOCK) for _ in range(-(-n // BLOCK))])[:n]
            np.testing.assert_array_equal(draw_blocks(dist, np.random.default_rng(n), n), blocks)
    for n in (1, BLOCK, 3 * BLOCK + 5):
        g = np.random.default_rng(n)
        blocks = np.concatenate([g.random(BLOCK) for _ in range(-(-n // BLOCK))])[:n]
        np.testing.assert_array_equal(uniform_blocks(np.random.default_rng(n), n), blocks)
