"""Seed streams: one seed, one ``SeedSequence`` per replication, one generator per
source of randomness.

Replication ``i`` of seed ``s`` is ``SeedSequence(s, spawn_key=(i,))``. Inside it each
source (a background stream, a manufacturer, the regime chain) and each attribute of
that source (arrival gaps, review work, decisions, ...) draws from its own
:class:`numpy.random.Generator`, keyed by *name*, not by creation order. Two
scenarios that share a source therefore see the same draws for it (common random
numbers), whatever else differs, and results never depend on how replications are
spread over processes.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["Streams", "rep_seed_sequence"]


def rep_seed_sequence(seed: int, rep: int) -> np.random.SeedSequence:
    """Return the seed sequence of replication ``rep`` of ``seed``."""
    return np.random.SeedSequence(seed, spawn_key=(rep,))


def _key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """Named generators of one replication.

    Args:
        seed: Root seed (non-negative integer).
        rep: Replication index.
    """

    def __init__(self, seed: int, rep: int) -> None:
        self.seed = int(seed)
        self.rep = int(rep)

    def get(self, *names: str) -> np.random.Generator:
        """Return the generator for a source path, e.g. ``get("background", "US/magnet")``.

        The same names give the same stream in any scenario with the same seed and rep.
        """
        key = (self.rep, *(_key(n) for n in names))
        return np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=key))
        )
