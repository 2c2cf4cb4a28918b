"""How values are drawn from a named stream: in blocks of :data:`BLOCK`, handed out in
order (:func:`draw_blocks`, :func:`uniform_blocks`, :class:`Sampler`), plus the stream
names of background streams and the demand noise. Which draws a replication makes is
declared in :mod:`simulator.world.draws`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from simulator.world.rng import Streams

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.authority import BackgroundStream
    from simulator.scenario.distributions import Distribution
    from simulator.scenario.manufacturers import Manufacturer

__all__ = [
    "BLOCK",
    "Sampler",
    "background_names",
    "demand_noise",
    "draw_blocks",
    "uniform_blocks",
]

BLOCK = 512
"""Values drawn at a time from a generator."""
Rng = np.random.Generator | Callable[[], np.random.Generator]
"""A generator, or a function making it (a generator costs ~20 µs to seed: made only
when something is drawn from it)."""


class Sampler:
    """Hands out draws of one distribution from one generator, a block at a time.

    Args:
        dist: The distribution.
        rng: The generator (one named stream; see :mod:`simulator.world.rng`).
    """

    __slots__ = ("_buf", "_const", "_dist", "_i", "_rng")

    def __init__(self, dist: Distribution, rng: np.random.Generator) -> None:
        self._dist = dist
        self._rng = rng
        self._const: float | None = dist.value if dist.kind == "constant" else None
        self._buf: list[float] = []
        self._i = 0

    def __call__(self) -> float:
        """Return the next draw."""
        if self._const is not None:
            return self._const
        i = self._i
        if i >= len(self._buf):
            self._buf = self._dist.draw(self._rng, BLOCK).tolist()
            i = 0
        self._i = i + 1
        return self._buf[i]


SEQUENTIAL = frozenset({"exponential", "uniform", "triangular", "lognormal", "gamma"})
"""Distribution kinds whose ``draw`` makes each value from the next values of the stream
(numpy's ``Generator`` fills an array value by value, with no state kept between calls
but the stream's): ``n`` values at once are the first ``n`` of blocks of :data:`BLOCK`
drawn one after the other, so they are drawn at once (``tests/world/test_draws.py``)."""


def draw_blocks(dist: Distribution, rng: Rng, n: int) -> np.ndarray:
    """The first ``n`` values a :class:`Sampler` of ``dist`` on ``rng`` hands out (drawn in
    the same blocks, or at once for the :data:`SEQUENTIAL` kinds: the same values;
    constants are not drawn). ``rng``: a generator, or a function making it (called only
    if something is drawn)."""
    if dist.kind == "constant":
        return np.full(n, float(dist.value))
    if n <= 0:
        return np.zeros(0)
    rng = _gen(rng)
    if dist.kind in SEQUENTIAL:
        return np.asarray(dist.draw(rng, n), dtype=np.float64)
    blocks = [dist.draw(rng, BLOCK) for _ in range(-(-n // BLOCK))]
    return np.asarray(np.concatenate(blocks)[:n], dtype=np.float64)


def uniform_blocks(rng: Rng, n: int) -> np.ndarray:
    """The first ``n`` uniforms on [0, 1) of ``rng`` (those of blocks of :data:`BLOCK`,
    drawn at once: the same values)."""
    if n <= 0:
        return np.zeros(0)
    return _gen(rng).random(n)


def _gen(rng: Rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else rng()


def background_names(streams: list[BackgroundStream]) -> list[tuple[str, ...]]:
    """Random-stream names of background streams: (destination, product, end use,
    applicant label), so a stream keeps its draws when others are added or removed
    (common random numbers). Streams sharing all four get ``#1``, ``#2``, ... appended
    in scenario order; otherwise they would draw identical arrival times and reviews."""
    seen: dict[tuple[str, ...], int] = {}
    out: list[tuple[str, ...]] = []
    for b in streams:
        base = (b.destination, b.product, b.end_use, b.exporter)
        k = seen.get(base, 0)
        seen[base] = k + 1
        out.append(base if k == 0 else (*base, f"#{k}"))
    return out


def demand_noise(manufacturers: Sequence[Manufacturer], streams: Streams, days: int) -> np.ndarray:
    """Each manufacturer's daily demand multiplier, ``(days, manufacturers)``: gamma with
    mean 1 and coefficient of variation ``demand_cv`` from the ``demand/<id>`` stream, 1
    where ``demand_cv`` is 0 (both engines draw it here, so they draw the same)."""
    noise = np.ones((days, len(manufacturers)))
    for i, m in enumerate(manufacturers):
        if m.demand_cv > 0:
            k = 1.0 / m.demand_cv**2
            noise[:, i] = streams.get("demand", m.id).gamma(k, 1.0 / k, days)
    return noise
