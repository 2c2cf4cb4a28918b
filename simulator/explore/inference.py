"""Posterior of the free parameters given the summaries observed so far, from a bank.

A forecast conditions on the summaries public on or before its as-of date: a **mask** of
the bank's summary vector. Both methods reuse one :class:`~simulator.explore.bank.Bank`
(prior draws and their simulated summaries) for every mask, observation and synthetic
data set, so a backtest over several origins and simulation-based calibration over
hundreds of data sets cost no new simulations:

``npe`` (default)
    Neural posterior estimation with the ``sbi`` package: a masked autoregressive flow
    ``q(z | x_mask)`` trained on the bank by maximum likelihood, ``z`` the parameters in
    the prior's unbounded space (:meth:`~simulator.explore.priors.Prior.to_unbounded`, so
    every draw maps back inside its range). Amortized: one training per mask, then any
    observation is a forward pass. Training and sampling run on one torch thread with a
    seed derived from ``seed``: identical results for the same seed, bank and machine.
    Needs the ``forecast`` extra (``pip install 'relsim[forecast]'``).
``abc``
    Rejection ABC on the bank as a reference table with local-linear regression
    adjustment (Beaumont, Zhang & Balding 2002): the ``accept`` share of simulations
    nearest the observation (summaries scaled by their median absolute deviation),
    Epanechnikov weights, then each accepted ``z`` moved along the weighted least-squares
    regression of ``z`` on the summaries to the observed value. numpy only, milliseconds
    per observation, bit-for-bit identical everywhere; the fast cross-check of ``npe``.

**Observation noise.** Observed figures are noisy (customs revisions, rounding): a
:class:`Noise` gives each summary a standard deviation (absolute, relative to the value,
or both); the bank's summaries are perturbed by it before training or rejection (seeded),
so the posterior is that of the observation model "simulated value + noise".

**Posterior predictive**: :func:`predictive` simulates forward at posterior draws through
the same ``simulate`` callback, with seeds apart from the bank's (:data:`PREDICTIVE_KEY`).
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from simulator.explore.bank import Bank, SimulateFn, run_simulations, simulation_seed
from simulator.explore.priors import Prior
from simulator.limits import Limits

__all__ = [
    "INFER_KEY",
    "METHODS",
    "PREDICTIVE_KEY",
    "AbcEstimator",
    "Estimator",
    "Noise",
    "NpeEstimator",
    "Posterior",
    "infer",
    "predictive",
    "train",
]

METHODS = ("npe", "abc")
"""Inference methods."""
INFER_KEY = zlib.crc32(b"relsim.explore.inference")
"""Second entropy word of an inference's seeds (noise on the bank, training, draws)."""
PREDICTIVE_KEY = zlib.crc32(b"relsim.explore.predictive")
"""Second entropy word of the posterior predictive's simulation seed."""
ABC_ACCEPT = 0.02
"""Default share of the bank accepted by ABC."""
ABC_MIN_ACCEPT = 200
"""ABC accepts at least this many simulations (fewer only if the bank is smaller)."""
NPE_MAX_EPOCHS = 1_000
"""Upper bound on NPE training epochs (training stops earlier when the validation loss
has not improved for ``stop_after_epochs``)."""


def _rng(seed: int, *purpose: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), INFER_KEY, *purpose]))


def _int_seed(seed: int, *purpose: int) -> int:
    ss = np.random.SeedSequence([int(seed), INFER_KEY, *purpose])
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


# ----------------------------------------------------------------------------- noise
@dataclass(frozen=True)
class Noise:
    """Observation noise per summary: standard deviation ``√(absolute² + (relative·|x|)²)``
    (unit of each summary), scalars or one value per summary of the bank.

    Attributes:
        absolute: Absolute standard deviation (unit of the summary).
        relative: Standard deviation as a share of the value (0.03: 3 %).
    """

    absolute: float | Sequence[float] | np.ndarray = 0.0
    relative: float | Sequence[float] | np.ndarray = 0.0

    def sd(self, x: np.ndarray) -> np.ndarray:
        """Standard deviation of the noise on values ``x`` (same shape)."""
        a = np.asarray(self.absolute, dtype=float)
        r = np.asarray(self.relative, dtype=float)
        if np.any(a < 0) or np.any(r < 0):
            raise ValueError("noise standard deviations must be ≥ 0")
        return np.sqrt(a**2 + (r * np.abs(x)) ** 2)

    def restrict(self, mask: np.ndarray) -> Noise:
        """The noise of the masked summaries."""

        def pick(v: Any) -> Any:
            v = np.asarray(v, dtype=float)
            return v if v.ndim == 0 else v[mask]

        return Noise(pick(self.absolute), pick(self.relative))

    def perturb(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """``x`` plus noise (one standard normal per value from ``rng``)."""
        return x + self.sd(x) * rng.standard_normal(x.shape)

    @property
    def zero(self) -> bool:
        """Whether there is no noise."""
        return not (np.any(np.asarray(self.absolute)) or np.any(np.asarray(self.relative)))


# ----------------------------------------------------------------------------- posterior
@dataclass
class Posterior:
    """Posterior draws of the parameters.

    Attributes:
        names: Parameter names (the prior's column order).
        theta: Draws, ``L × dim`` (parameter units).
        weights: Normalised weights of the draws (ABC), or None (equally weighted).
        method: ``npe`` or ``abc``.
        info: What the method reports (accepted, bandwidth, dropped rows, epochs, …).
    """

    names: list[str]
    theta: np.ndarray
    weights: np.ndarray | None
    method: str
    info: dict[str, Any] = field(default_factory=dict)

    def draws(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` equally weighted draws: the first ``n`` draws when unweighted (all, then
        resampled with replacement if ``n`` exceeds them), else resampled by weight."""
        if self.weights is None and n <= len(self.theta):
            return self.theta[:n]
        rng = _rng(seed, 7)
        idx = rng.choice(len(self.theta), size=n, replace=True, p=self.weights)
        return self.theta[idx]

    def _w(self) -> np.ndarray:
        if self.weights is None:
            return np.full(len(self.theta), 1 / len(self.theta))
        return self.weights

    def mean(self) -> np.ndarray:
        """Posterior mean per parameter."""
        return self._w() @ self.theta

    def sd(self) -> np.ndarray:
        """Posterior standard deviation per parameter."""
        w, m = self._w(), self.mean()
        return np.sqrt(w @ (self.theta - m) ** 2)

    def quantile(self, q: float | Sequence[float]) -> np.ndarray:
        """Weighted quantiles, ``len(q) × dim`` (``dim`` for a scalar ``q``)."""
        qs = np.atleast_1d(np.asarray(q, dtype=float))
        w = self._w()
        out = np.empty((len(qs), self.theta.shape[1]))
        for j in range(self.theta.shape[1]):
            order = np.argsort(self.theta[:, j], kind="stable")
            cw = np.cumsum(w[order]) - 0.5 * w[order]
            out[:, j] = np.interp(qs, cw, self.theta[order, j])
        return out[0] if np.ndim(q) == 0 else out

    def frame(self) -> pd.DataFrame:
        """One row per parameter: ``parameter``, ``mean``, ``sd``, ``q05``, ``median``,
        ``q95``."""
        q = self.quantile([0.05, 0.5, 0.95])
        return pd.DataFrame(
            {
                "parameter": self.names,
                "mean": self.mean(),
                "sd": self.sd(),
                "q05": q[0],
                "median": q[1],
                "q95": q[2],
            }
        )


class Estimator(Protocol):
    """A posterior for any observation of the masked summaries (after :func:`train`)."""

    method: str
    mask: np.ndarray

    def posterior(self, observed: np.ndarray, draws: int = 1000, seed: int = 0) -> Posterior:
        """The posterior given ``observed`` (the bank's ``m`` summaries, or only the masked
        ones); ``seed`` fixes its draws."""
        ...


# ----------------------------------------------------------------------------- helpers
def _mask(bank: Bank, mask: np.ndarray | Sequence[bool] | None) -> np.ndarray:
    if mask is None:
        return np.ones(bank.m, dtype=bool)
    out = np.asarray(mask, dtype=bool)
    if out.shape != (bank.m,):
        raise ValueError(f"mask has {out.size} entries, the bank {bank.m} summaries")
    if not out.any():
        raise ValueError("the mask selects no summary: nothing is observed")
    return out


def _observed(observed: np.ndarray, mask: np.ndarray) -> np.ndarray:
    x = np.asarray(observed, dtype=float).ravel()
    if x.size == mask.size:
        x = x[mask]
    elif x.size != int(mask.sum()):
        raise ValueError(
            f"{x.size} observed values; give the bank's {mask.size} summaries or the "
            f"{int(mask.sum())} masked ones"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError("an observed summary inside the mask is missing or not finite")
    return x


def _training_rows(bank: Bank, mask: np.ndarray, noise: Noise | None, seed: int) -> tuple:
    """Masked summaries (noisy), unbounded parameters and the count of rows dropped."""
    x = bank.x[:, mask]
    keep = np.all(np.isfinite(x), axis=1)
    x, z = x[keep], bank.prior.to_unbounded(bank.theta[keep])
    if noise is not None and not noise.zero:
        x = noise.restrict(mask).perturb(x, _rng(seed, 1))
    return x, z, int((~keep).sum())


# ----------------------------------------------------------------------------- ABC
class AbcEstimator:
    """Rejection ABC with local-linear regression adjustment on a bank (see module)."""

    method = "abc"

    def __init__(
        self,
        bank: Bank,
        mask: np.ndarray,
        noise: Noise | None,
        seed: int,
        accept: float = ABC_ACCEPT,
        min_accept: int = ABC_MIN_ACCEPT,
        adjust: bool = True,
    ) -> None:
        if not 0 < accept <= 1:
            raise ValueError(f"accept must be in (0, 1], got {accept}")
        self.prior: Prior = bank.prior
        self.mask = mask
        self.x, self.z, self.dropped = _training_rows(bank, mask, noise, seed)
        n = len(self.x)
        if n < 2:
            raise ValueError("fewer than 2 simulations have every masked summary defined")
        med = np.median(self.x, axis=0)
        scale = 1.4826 * np.median(np.abs(self.x - med), axis=0)
        sd = self.x.std(axis=0)
        scale = np.where(scale > 0, scale, sd)
        # a summary constant over the bank says nothing: left out of the distance
        self.scale = np.where(scale > 0, scale, np.inf)
        self.k = min(n, max(int(min_accept), math.ceil(accept * n)))
        self.adjust = adjust

    def posterior(self, observed: np.ndarray, draws: int = 1000, seed: int = 0) -> Posterior:
        """The ABC posterior (weighted accepted draws; ``draws`` and ``seed`` are unused:
        every accepted simulation is a draw)."""
        xo = _observed(observed, self.mask)
        u = (self.x - xo) / self.scale
        d = np.sqrt(np.sum(u * u, axis=1))
        order = np.argsort(d, kind="stable")
        idx = order[: self.k]
        h = d[order[self.k]] if self.k < len(d) else d[idx[-1]] * (1 + 1e-9)
        h = h if h > 0 else 1.0
        w = np.clip(1.0 - (d[idx] / h) ** 2, 0.0, None)
        if w.sum() <= 0:
            w = np.ones(self.k)
        w = w / w.sum()
        z = self.z[idx]
        if self.adjust:
            informative = np.isfinite(self.scale)
            a = u[idx][:, informative]
            design = np.column_stack([np.ones(self.k), a]) * np.sqrt(w)[:, None]
            beta, *_ = np.linalg.lstsq(design, z * np.sqrt(w)[:, None], rcond=None)
            z = z - a @ beta[1:]
        theta = self.prior.from_unbounded(z)
        info = {
            "accepted": self.k,
            "bandwidth": float(h),
            "dropped": self.dropped,
            "ess": float(1.0 / np.sum(w**2)),
        }
        return Posterior(self.prior.names, theta, w, "abc", info)


# ----------------------------------------------------------------------------- NPE
def _torch() -> Any:
    try:
        import torch
    except ImportError:  # pragma: no cover - the forecast extra
        raise ImportError(
            "method 'npe' needs torch and sbi; install them with pip install 'relsim[forecast]'"
            " (or use method='abc')"
        ) from None
    return torch


@contextlib.contextmanager
def _torch_quiet(torch: Any, seed: int) -> Any:
    """One torch thread, a fixed seed, no prints or warnings from sbi; restored after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    try:
        with (
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        torch.set_num_threads(threads)


class _NullTracker:
    """sbi's training tracker that keeps nothing (sbi's default writes ``sbi-logs/`` in
    the working directory)."""

    log_dir = None

    def log_metric(self, *args: Any, **kwargs: Any) -> None:
        """Nothing."""

    def log_metrics(self, *args: Any, **kwargs: Any) -> None:
        """Nothing."""

    def log_params(self, *args: Any, **kwargs: Any) -> None:
        """Nothing."""

    def add_figure(self, *args: Any, **kwargs: Any) -> None:
        """Nothing."""

    def flush(self) -> None:
        """Nothing."""


def _logistic_prior(torch: Any, dim: int) -> Any:
    """Independent standard logistic in ``dim`` dimensions: the prior in unbounded space."""
    from torch.distributions import Independent, TransformedDistribution, Uniform
    from torch.distributions.transforms import SigmoidTransform

    class _Logistic(TransformedDistribution):  # type: ignore[misc]
        @property
        def mean(self) -> Any:
            return torch.zeros(dim)

        @property
        def stddev(self) -> Any:
            return torch.full((dim,), math.pi / math.sqrt(3))

        @property
        def variance(self) -> Any:
            return self.stddev**2

    base = _Logistic(Uniform(torch.zeros(dim), torch.ones(dim)), [SigmoidTransform().inv])
    return Independent(base, 1)


class NpeEstimator:
    """Neural posterior estimation with ``sbi`` (see module).

    Args:
        bank: The bank (training rows).
        mask: Summaries conditioned on.
        noise: Observation noise added to the bank's summaries before training.
        seed: Seed of the noise, the network's initialisation and training order.
        density_estimator: sbi's flow (``maf``, ``nsf``, ``mdn``).
        training_batch_size: Simulations per gradient step.
        stop_after_epochs: Stop when the validation loss has not improved for this many
            epochs.
        max_num_epochs: At most this many epochs.
    """

    method = "npe"

    def __init__(
        self,
        bank: Bank,
        mask: np.ndarray,
        noise: Noise | None,
        seed: int,
        density_estimator: str = "maf",
        training_batch_size: int = 200,
        stop_after_epochs: int = 20,
        max_num_epochs: int = NPE_MAX_EPOCHS,
    ) -> None:
        torch = _torch()
        from sbi.inference import NPE

        self.prior: Prior = bank.prior
        self.mask = mask
        x, z, self.dropped = _training_rows(bank, mask, noise, seed)
        if len(x) < 10:
            raise ValueError("fewer than 10 simulations have every masked summary defined")
        self._torch = torch
        with _torch_quiet(torch, _int_seed(seed, 2)):
            zprior = _logistic_prior(torch, self.prior.dim)
            trainer = NPE(
                prior=zprior,
                density_estimator=density_estimator,
                tracker=_NullTracker(),
                show_progress_bars=False,
            )
            estimator = trainer.append_simulations(
                torch.as_tensor(z, dtype=torch.float32), torch.as_tensor(x, dtype=torch.float32)
            ).train(
                training_batch_size=training_batch_size,
                stop_after_epochs=stop_after_epochs,
                max_num_epochs=max_num_epochs,
                show_train_summary=False,
            )
            self._posterior = trainer.build_posterior(estimator, prior=zprior)
        summary = getattr(trainer, "_summary", {})
        self.epochs = int((summary.get("epochs_trained") or [0])[-1])
        best = summary.get("best_validation_loss") or [float("nan")]
        self.validation_loss = float(best[-1])

    def posterior(self, observed: np.ndarray, draws: int = 1000, seed: int = 0) -> Posterior:
        """``draws`` equally weighted posterior draws for ``observed``."""
        xo = _observed(observed, self.mask)
        torch = self._torch
        with _torch_quiet(torch, _int_seed(seed, 3)):
            z = self._posterior.sample(
                (int(draws),),
                x=torch.as_tensor(xo, dtype=torch.float32),
                show_progress_bars=False,
                reject_outside_prior=False,
            )
        theta = self.prior.from_unbounded(z.detach().numpy().astype(float))
        info = {
            "dropped": self.dropped,
            "epochs": self.epochs,
            "validation_loss": self.validation_loss,
        }
        return Posterior(self.prior.names, theta, None, "npe", info)


# ----------------------------------------------------------------------------- entry points
def train(
    bank: Bank,
    mask: np.ndarray | Sequence[bool] | None = None,
    *,
    method: str = "npe",
    noise: Noise | None = None,
    seed: int = 0,
    **options: Any,
) -> Estimator:
    """Prepare the posterior of the masked summaries from a bank (NPE: train the network).

    Args:
        bank: The simulation bank (prior draws and summaries).
        mask: Which summaries are observed (``bank.m`` booleans; None: all).
        method: ``npe`` or ``abc``.
        noise: Observation noise of the summaries (None: exact).
        seed: Seed of everything random in the inference.
        **options: Method options (:class:`NpeEstimator`, :class:`AbcEstimator`).

    Returns:
        An estimator; ``estimator.posterior(observed, draws, seed)`` for each observation.
    """
    m = _mask(bank, mask)
    if method == "npe":
        return NpeEstimator(bank, m, noise, seed, **options)
    if method == "abc":
        return AbcEstimator(bank, m, noise, seed, **options)
    raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")


def infer(
    bank: Bank,
    observed: np.ndarray,
    mask: np.ndarray | Sequence[bool] | None = None,
    *,
    method: str = "npe",
    noise: Noise | None = None,
    draws: int = 1000,
    seed: int = 0,
    **options: Any,
) -> Posterior:
    """The posterior of the parameters given the observed summaries inside ``mask``.

    Args:
        bank: The simulation bank.
        observed: The bank's ``m`` summaries as observed (entries outside the mask are
            ignored and may be NaN), or only the masked ones.
        mask: Which summaries are observed (None: all).
        method: ``npe`` or ``abc``.
        noise: Observation noise (None: exact).
        draws: Posterior draws (NPE; ABC returns its weighted accepted draws).
        seed: Seed of everything random.
        **options: Method options.

    Returns:
        The posterior.
    """
    return train(bank, mask, method=method, noise=noise, seed=seed, **options).posterior(
        observed, draws=draws, seed=seed
    )


def predictive(
    posterior: Posterior,
    simulate: SimulateFn,
    *,
    seed: int,
    draws: int = 1000,
    executor: Any = None,
    chunk: int = 64,
) -> tuple[np.ndarray, np.ndarray]:
    """The posterior predictive: one simulation at each of ``draws`` posterior draws.

    Simulation ``l`` is ``simulate(θ_l, l, simulation_seed(seed, PREDICTIVE_KEY))``: seeds
    apart from the bank's, the same serially or on any executor.

    Args:
        posterior: The posterior.
        simulate: The bank's simulation callback.
        seed: Seed of the predictive (draw selection and simulations).
        draws: Number of predictive draws, at most :attr:`Limits.MAX_BANK_SIMS`.
        executor: Where simulations run (None: this process).
        chunk: Simulations per task.

    Returns:
        ``(theta, x)``: the parameter draws (``draws × dim``) and their summaries
        (``draws × m``), in draw order.
    """
    if not 1 <= draws <= Limits.MAX_BANK_SIMS:
        raise ValueError(f"draws must be 1 to {Limits.MAX_BANK_SIMS:,} (Limits.MAX_BANK_SIMS)")
    theta = posterior.draws(draws, seed)
    sim_seed = simulation_seed(seed, PREDICTIVE_KEY)
    parts: dict[int, np.ndarray] = dict(
        run_simulations(simulate, theta, sim_seed, executor=executor, chunk=chunk)
    )
    x = np.concatenate([parts[a] for a in sorted(parts)])
    return theta, x
