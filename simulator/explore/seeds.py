"""Seeds of a sweep's design and of its analyses, derived from the sweep's one seed.

Replication ``i`` of seed ``s`` draws from ``SeedSequence(s, spawn_key=(i, …))``
(:mod:`simulator.world.rng`). A design (:mod:`simulator.explore.design`) and the
bootstrap of its sensitivity indices (:mod:`simulator.explore.sensitivity`) draw from
``SeedSequence([s, DESIGN_KEY])`` and its child :data:`ANALYSIS_KEY`: another entropy,
so they never share draws with a replication, and one seed fixes everything.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["ANALYSIS_KEY", "DESIGN_KEY", "analysis_seed", "design_seed", "int_seed"]

DESIGN_KEY = zlib.crc32(b"relsim.explore.design")
"""Second entropy word of the design's seed sequence (keeps it apart from replications)."""
ANALYSIS_KEY = 1
"""Spawn key of the sensitivity bootstrap's seed under the design's seed sequence."""


def design_seed(seed: int) -> np.random.SeedSequence:
    """The seed sequence of a sweep's design."""
    return np.random.SeedSequence([int(seed), DESIGN_KEY])


def int_seed(seed: int) -> int:
    """An integer seed for SALib's samplers, from the design's seed sequence."""
    return int(design_seed(seed).generate_state(1)[0])


def analysis_seed(seed: int) -> int:
    """An integer seed for SALib's bootstrap of the indices."""
    ss = np.random.SeedSequence(design_seed(seed).entropy, spawn_key=(ANALYSIS_KEY,))
    return int(ss.generate_state(1)[0])
