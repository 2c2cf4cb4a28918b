"""Random draws for the world: named streams handed out one value at a time.

Every source of randomness draws from its own generator (:mod:`simulator.world.rng`),
in blocks, and hands out plain Python floats, which keeps per-event overhead in the
event loop small. :class:`AppDraws` gives each licence application its random
attributes when it is created, one generator per attribute, so the same application
gets the same draws in every policy variant (common random numbers).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.world.rng import Streams

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.authority import Authority, BackgroundStream
    from simulator.scenario.distributions import Distribution
    from simulator.scenario.manufacturers import Manufacturer

__all__ = ["BLOCK", "AppDraws", "Sampler", "Uniforms", "background_names", "demand_noise"]

BLOCK = 512
"""Values drawn at a time from a generator."""


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


class Uniforms:
    """Uniform(0, 1) draws in blocks from one generator."""

    __slots__ = ("_buf", "_i", "_rng")

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._buf: list[float] = []
        self._i = 0

    def __call__(self) -> float:
        """Return the next draw."""
        if self._i >= len(self._buf):
            self._buf = self._rng.random(BLOCK).tolist()
            self._i = 0
        self._i += 1
        return self._buf[self._i - 1]


class AppDraws:
    """Random attributes of the applications of one source (a background stream or a
    manufacturer), one generator per attribute, so the same application gets the same
    draws in any policy variant (common random numbers).

    Args:
        streams: The replication's streams.
        source: Source name, e.g. ``bg/US/ndfeb/civil/background`` or ``mfr/us_automaker``.
        cfg: Authority settings (the distributions).
        book: The compiled policy: its largest information-request and parking
            probabilities (those draws are made only when they can matter).
    """

    def __init__(self, streams: Streams, source: str, cfg: Authority, book: Any) -> None:
        def g(attr: str) -> np.random.Generator:
            return streams.get("app", source, attr)

        self.work = Sampler(cfg.review_work_wd, g("work"))
        self.screening = Sampler(cfg.intake.screening_wd, g("screening"))
        self.resubmit = Sampler(cfg.intake.resubmit_days, g("resubmit"))
        self.response = Sampler(cfg.information_requests.response_days, g("response"))
        self.partial = Sampler(cfg.approval.partial_fraction, g("partial_fraction"))
        self.u_return = Uniforms(g("u_return"))
        self.u_info = Uniforms(g("u_info"))
        self.info_at = Uniforms(g("info_at"))
        self.u_approve = Uniforms(g("u_approve"))
        self.u_partial = Uniforms(g("u_partial"))
        self.n_ret = cfg.intake.max_returns
        self.n_info = cfg.information_requests.max_per_application
        self.any_returns = cfg.intake.return_probability > 0 and self.n_ret > 0
        self.any_info = book.max_info_p > 0 and self.n_info > 0
        self.any_park = book.max_park_p > 0
        self.u_park = Uniforms(g("u_park"))
        self.park_days = [Sampler(d, g(f"park_days/{k}")) for k, d in enumerate(book.park_dists)]
        self.extend = (
            Sampler(cfg.deadline_extension_wd, g("extension"))
            if cfg.deadline_rule == "extend"
            else None
        )
        self.any_partial = cfg.approval.partial_probability > 0
        sw = cfg.intake.screening_wd
        self.screening_used = not (sw.kind == "constant" and sw.value == 0)

    def fill(self, d: Any) -> Any:
        """Give application ``d`` (a :class:`~simulator.world.licensing.Application`) the
        source's next draws and return it. Attributes whose probability is zero everywhere
        are not drawn (each attribute has its own generator, so skipping one never shifts
        another)."""
        d.work_wd = self.work()
        if self.screening_used:
            d.screening_wd = self.screening()
        if self.any_returns:
            n = self.n_ret
            d.u_return = [self.u_return() for _ in range(n)]
            d.resubmit_days = [self.resubmit() for _ in range(n)]
        if self.any_info:
            n = self.n_info
            d.u_info = [self.u_info() for _ in range(n)]
            d.info_at = [self.info_at() for _ in range(n)]
            d.info_response_days = [self.response() for _ in range(n)]
        d.u_approve = self.u_approve()
        if self.any_park:
            d.u_park = self.u_park()
            d.park_days = [s() for s in self.park_days]
        if self.extend is not None:
            d.extension_wd = self.extend()
        if self.any_partial:
            d.u_partial = self.u_partial()
            d.partial_fraction = self.partial()
        return d


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
