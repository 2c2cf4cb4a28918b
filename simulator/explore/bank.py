"""A simulation bank: parameters drawn from the prior and the summaries they simulate.

Likelihood-free inference learns from pairs ``(θ_i, x_i)``: ``θ_i`` drawn from the prior,
``x_i`` the summary vector (the statistics the targets need) of one simulation at
``θ_i``. One bank serves every forecast origin (each conditions on the entries public by
its date), the posterior predictive's calibration and simulation-based calibration, so
it is built once, stored, and reused.

Seeds. Draw ``i`` of the parameters comes from block ``i // DRAW_BLOCK`` of
``SeedSequence([seed, BANK_KEY], spawn_key=(block,))`` (a bank of ``n`` is the first
``n`` rows of a bigger bank of the same seed); simulation ``i`` is
``simulate(θ_i, i, simulation_seed(seed, BANK_KEY))`` and draws its own randomness from
``(seed, index)`` as a replication does (``SeedSequence(seed, spawn_key=(i,))``). So the
bank is the same whatever ran it: serially, on processes, on a Dask cluster, in one go or
resumed.

Running. Simulations run in chunks on any :class:`concurrent.futures.Executor` (``None``:
in this process), submitted through a bounded window; results are placed at their
indices. ``simulate`` must be picklable for other processes (a module-level function or
an object of a module-level class).

Storing. With ``directory``, every finished chunk is written at once, whole or not at
all (``chunks/c<start>.npz``), under a ``manifest.json`` holding the bank's fingerprint
(prior, seed, size, chunk size, the caller's simulator fingerprint). Building the same
bank again reads the finished chunks and runs only the others; a directory holding
another bank (any fingerprint difference) is refused with a message naming what
differs, and nothing in it is changed. When every chunk is in, the bank is written as
``bank.npz`` and the chunks removed.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import json
import math
import os
import tempfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simulator.explore.priors import Prior
from simulator.limits import Limits

__all__ = [
    "BANK_KEY",
    "DRAW_BLOCK",
    "Bank",
    "BankMismatch",
    "SimulateFn",
    "bank_theta",
    "build_bank",
    "load_bank",
    "run_simulations",
    "simulation_seed",
]

SimulateFn = Callable[[np.ndarray, int, int], np.ndarray]
"""``simulate(theta, index, seed) -> summaries``: one simulation at parameter vector
``theta`` (prior's column order), its randomness from ``(seed, index)``; returns a 1-D
float vector of the same length every time (NaN where a summary is undefined)."""

BANK_KEY = zlib.crc32(b"relsim.explore.bank")
"""Second entropy word of a bank's seeds (keeps them apart from replications and sweeps)."""
DRAW_BLOCK = 1024
"""Parameter draws per seed block (a smaller bank is a prefix of a bigger one)."""
DEFAULT_CHUNK = 128
"""Simulations per task (and per stored chunk) unless told otherwise."""
MANIFEST = "manifest.json"
BANK_FILE = "bank.npz"
TOOL = "relsim"
COMMAND = "simulation bank"
MAX_BANK_VALUES = 100 * Limits.MAX_BANK_SIMS
"""At most this many numbers in a bank (simulations × (parameters + summaries))."""


class BankMismatch(ValueError):
    """A bank directory holds another bank (or something else) and cannot be resumed."""


def simulation_seed(seed: int, key: int) -> int:
    """The seed handed to ``simulate`` for a purpose ``key`` (bank, predictive): a 64-bit
    integer from ``SeedSequence([seed, key])``."""
    return int(np.random.SeedSequence([int(seed), int(key)]).generate_state(1, np.uint64)[0])


def bank_theta(prior: Prior, n: int, seed: int) -> np.ndarray:
    """The first ``n`` parameter draws of a bank of seed ``seed``, ``n × dim``."""
    blocks = []
    for b in range(math.ceil(n / DRAW_BLOCK)):
        ss = np.random.SeedSequence([int(seed), BANK_KEY], spawn_key=(b,))
        blocks.append(prior.sample(np.random.default_rng(ss), DRAW_BLOCK))
    if not blocks:
        return np.empty((0, prior.dim))
    return np.concatenate(blocks)[:n]


# ----------------------------------------------------------------------------- running
def _simulate_chunk(simulate: SimulateFn, theta: np.ndarray, start: int, seed: int) -> np.ndarray:
    """Simulations ``start .. start + len(theta) − 1`` (runs in a worker)."""
    rows = []
    for k in range(len(theta)):
        x = np.asarray(simulate(theta[k].copy(), start + k, seed), dtype=float)
        if x.ndim != 1:
            raise ValueError(f"simulation {start + k}: summaries must be a 1-D vector")
        if rows and x.shape != rows[0].shape:
            raise ValueError(
                f"simulation {start + k}: {x.size} summaries, simulation {start} gave "
                f"{rows[0].size}"
            )
        rows.append(x)
    return np.stack(rows) if rows else np.empty((0, 0))


def _bank_chunk(payload: tuple[SimulateFn, np.ndarray, int], start: int, stop: int) -> np.ndarray:
    """Simulations ``start .. stop − 1`` of a bank (a ChunkExecutor's chunk function)."""
    simulate, theta, seed = payload
    return _simulate_chunk(simulate, theta[start:stop], start, seed)


def _window(executor: cf.Executor) -> int:
    workers = getattr(executor, "_max_workers", None) or os.cpu_count() or 1
    return max(4, 3 * int(workers))


def run_simulations(
    simulate: SimulateFn,
    theta: np.ndarray,
    seed: int,
    *,
    executor: Any = None,
    chunk: int = DEFAULT_CHUNK,
    skip: Sequence[int] = (),
) -> Iterator[tuple[int, np.ndarray]]:
    """Run ``simulate`` for every row of ``theta`` in chunks; yield ``(start, summaries)``
    per chunk as chunks finish (any order; place them by ``start``).

    Args:
        simulate: The simulation (picklable if ``executor`` runs other processes).
        theta: Parameter rows, ``n × dim``; row ``i`` is simulation ``i``.
        seed: Handed to ``simulate`` unchanged.
        executor: Where to run (``None``: in this process, in order).
        chunk: Simulations per task.
        skip: Chunk starts not to run (already done).

    Yields:
        ``(start, x)`` with ``x`` of shape ``k × m`` for simulations ``start .. start+k−1``.
    """
    n = len(theta)
    skipped = set(skip)
    starts = [a for a in range(0, n, chunk) if a not in skipped]
    if executor is None:
        for a in starts:
            yield a, _simulate_chunk(simulate, theta[a : a + chunk], a, seed)
        return
    if hasattr(executor, "run") and not isinstance(executor, cf.Executor):
        # a relsim ChunkExecutor (simulator.ensemble.executors): the simulator and the
        # parameter draws go to each worker once, chunks are (start, stop) pairs
        spans = [(a, min(a + chunk, n)) for a in starts]
        for i, x in executor.run(_bank_chunk, (simulate, theta, seed), spans):
            yield spans[i][0], x
        return
    window = _window(executor)
    pending: dict[cf.Future[np.ndarray], int] = {}
    nxt = 0
    try:
        while nxt < len(starts) or pending:
            while nxt < len(starts) and len(pending) < window:
                a = starts[nxt]
                fut = executor.submit(_simulate_chunk, simulate, theta[a : a + chunk], a, seed)
                pending[fut] = a
                nxt += 1
            done, _ = cf.wait(list(pending), return_when=cf.FIRST_COMPLETED)
            for fut in sorted(done, key=lambda f: pending[f]):
                a = pending.pop(fut)
                yield a, fut.result()
    finally:
        for fut in pending:
            fut.cancel()


# ----------------------------------------------------------------------------- the bank
@dataclass
class Bank:
    """Prior draws and their simulated summaries.

    Attributes:
        prior: The prior the parameters were drawn from.
        theta: Parameter draws, ``n × dim`` (prior's column order).
        x: Summaries, ``n × m`` (NaN where a simulation left one undefined).
        seed: The bank's seed.
        simulator: The caller's fingerprint of the simulation (what must match to reuse).
        summary_names: Names of the ``m`` summaries, if given.
    """

    prior: Prior
    theta: np.ndarray
    x: np.ndarray
    seed: int
    simulator: str = ""
    summary_names: list[str] | None = field(default=None)

    @property
    def n(self) -> int:
        """Number of simulations."""
        return int(self.theta.shape[0])

    @property
    def m(self) -> int:
        """Number of summaries per simulation."""
        return int(self.x.shape[1])

    def subset(self, rows: np.ndarray | slice) -> Bank:
        """The bank restricted to some rows (same prior, seed and fingerprint)."""
        names = self.summary_names
        return Bank(self.prior, self.theta[rows], self.x[rows], self.seed, self.simulator, names)

    def split(self, held_out: int) -> tuple[Bank, Bank]:
        """``(training, held_out)``: the last ``held_out`` rows apart (for simulation-based
        calibration of a method that trains on the rest)."""
        if not 0 < held_out < self.n:
            raise ValueError(f"cannot hold out {held_out} of {self.n} simulations")
        return self.subset(slice(0, self.n - held_out)), self.subset(slice(self.n - held_out, None))

    def mask(self, names: Sequence[str]) -> np.ndarray:
        """A boolean mask of the summaries named ``names``."""
        if self.summary_names is None:
            raise ValueError("this bank's summaries have no names")
        index = {s: i for i, s in enumerate(self.summary_names)}
        unknown = [s for s in names if s not in index]
        if unknown:
            raise KeyError(f"unknown summaries: {unknown}")
        out = np.zeros(self.m, dtype=bool)
        out[[index[s] for s in names]] = True
        return out


def _fingerprint(prior: Prior, n: int, seed: int, simulator: str, chunk: int) -> dict[str, Any]:
    return {
        "prior": prior.to_dict(),
        "seed": int(seed),
        "simulations": int(n),
        "simulator": simulator,
        "chunk": int(chunk),
    }


_WORDS = {
    "prior": "prior",
    "seed": "seed",
    "simulations": "number of simulations",
    "simulator": "simulator fingerprint",
    "chunk": "chunk size",
}


def _check_args(n: int, seed: int, chunk: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= Limits.MAX_BANK_SIMS:
        raise ValueError(
            f"a bank has 1 to {Limits.MAX_BANK_SIMS:,} simulations (Limits.MAX_BANK_SIMS), "
            f"got {n!r}"
        )
    if not 0 <= int(seed) <= Limits.MAX_SEED:
        raise ValueError(f"seed must be in [0, {Limits.MAX_SEED}] (Limits.MAX_SEED)")
    if not 1 <= chunk <= Limits.MAX_BANK_SIMS:
        raise ValueError(f"chunk must be a positive number of simulations, got {chunk}")


def build_bank(
    prior: Prior,
    simulate: SimulateFn,
    n: int,
    seed: int,
    *,
    executor: Any = None,
    directory: str | Path | None = None,
    fingerprint: str | None = None,
    summary_names: Sequence[str] | None = None,
    chunk: int = DEFAULT_CHUNK,
    progress: Callable[[int, int], None] | None = None,
) -> Bank:
    """Draw ``n`` parameter vectors from the prior and simulate each.

    Args:
        prior: The prior.
        simulate: ``simulate(theta, index, seed) -> summaries`` (see :data:`SimulateFn`).
        n: Number of simulations, at most :attr:`Limits.MAX_BANK_SIMS`.
        seed: The bank's seed.
        executor: Where simulations run (``None``: this process; a relsim
            :class:`~simulator.ensemble.executors.ChunkExecutor`, e.g. local processes or
            Dask; or any ``concurrent.futures.Executor``). Results do not depend on it.
        directory: Where to keep the bank and its work in progress (resumable); ``None``:
            in memory only.
        fingerprint: What identifies the simulation (e.g. the scenario's hash, the
            summaries' definition, relsim's version); a stored bank with another one is
            refused. Default: ``simulate``'s module and qualified name.
        summary_names: Names of the summaries (stored with the bank).
        chunk: Simulations per task and per stored chunk.
        progress: ``progress(done, total)`` after each chunk.

    Returns:
        The bank, rows in index order.

    Raises:
        BankMismatch: ``directory`` holds another bank or something that is not a bank.
        ValueError: Bad sizes, or simulations that disagree on the number of summaries.
    """
    _check_args(n, seed, chunk)
    if fingerprint is None:
        fn = getattr(simulate, "__func__", simulate)
        qualname = getattr(fn, "__qualname__", type(fn).__qualname__)
        fingerprint = f"{getattr(fn, '__module__', '')}.{qualname}"
    fp = _fingerprint(prior, n, seed, fingerprint, chunk)
    names = list(summary_names) if summary_names is not None else None
    theta = bank_theta(prior, n, seed)
    sim_seed = simulation_seed(seed, BANK_KEY)
    store = _Store(Path(directory), fp, theta) if directory is not None else None
    if store is not None:
        done = store.load_complete()
        if done is not None:
            return Bank(prior, theta, done, int(seed), fingerprint, store.names() or names)
    x: np.ndarray | None = None
    finished: dict[int, np.ndarray] = store.finished() if store is not None else {}
    count = 0

    def place(a: int, xa: np.ndarray) -> None:
        nonlocal x, count
        if xa.shape[0] != min(chunk, n - a):
            raise ValueError(f"chunk at {a}: {xa.shape[0]} rows")
        if x is None:
            m = xa.shape[1]
            if n * (prior.dim + m) > MAX_BANK_VALUES:
                raise ValueError(
                    f"{n:,} simulations of {m} summaries exceed {MAX_BANK_VALUES:,} values "
                    "(100 × Limits.MAX_BANK_SIMS)"
                )
            if names is not None and len(names) != m:
                raise ValueError(f"{len(names)} summary names for {m} summaries")
            x = np.full((n, m), np.nan)
        elif xa.shape[1] != x.shape[1]:
            raise ValueError(f"chunk at {a}: {xa.shape[1]} summaries, expected {x.shape[1]}")
        x[a : a + xa.shape[0]] = xa
        count += xa.shape[0]
        if progress is not None:
            progress(count, n)

    for a in sorted(finished):
        place(a, finished[a])
    for a, xa in run_simulations(
        simulate, theta, sim_seed, executor=executor, chunk=chunk, skip=list(finished)
    ):
        place(a, xa)
        if store is not None:
            store.save_chunk(a, xa)
    assert x is not None and count == n
    if store is not None:
        store.complete(x, names)
    return Bank(prior, theta, x, int(seed), fingerprint, names)


def load_bank(directory: str | Path, prior: Prior) -> Bank:
    """A finished bank from its directory (its prior must be ``prior``).

    Raises:
        BankMismatch: No finished bank there, or one with another prior.
    """
    directory = Path(directory)
    manifest = _read_manifest(directory / MANIFEST)
    if manifest is None or not manifest.get("complete"):
        raise BankMismatch(f"{directory} holds no finished simulation bank")
    fp = manifest["fingerprint"]
    if fp.get("prior") != prior.to_dict():
        raise BankMismatch(f"the bank in {directory} was drawn from another prior")
    theta = bank_theta(prior, int(fp["simulations"]), int(fp["seed"]))
    store = _Store(directory, fp, theta)
    x = store.load_complete()
    if x is None:
        raise BankMismatch(f"the bank in {directory} does not read back whole")
    return Bank(prior, theta, x, int(fp["seed"]), str(fp["simulator"]), store.names())


# ----------------------------------------------------------------------------- storage
def _read_manifest(path: Path) -> dict[str, Any] | None:
    try:
        if not path.is_file() or path.stat().st_size > Limits.MAX_MANIFEST_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("tool") != TOOL or data.get("command") != COMMAND:
        return None
    return data


def _write_atomic(path: Path, write: Callable[[Any], None], binary: bool) -> None:
    """Write a file whole or not at all (a temporary file in the same folder, renamed)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else "utf-8") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class _Store:
    """A bank's directory: manifest, finished chunks, the finished bank."""

    def __init__(self, directory: Path, fingerprint: dict[str, Any], theta: np.ndarray) -> None:
        self.dir = directory
        self.fp = fingerprint
        self.theta = theta
        self.chunks = directory / "chunks"
        manifest = directory / MANIFEST
        if directory.is_symlink() or (directory.exists() and not directory.is_dir()):
            raise BankMismatch(f"{directory} is not a directory; nothing was changed")
        if directory.exists() and any(directory.iterdir()):
            old = _read_manifest(manifest)
            if old is None:
                raise BankMismatch(
                    f"{directory} is not empty and holds no simulation bank; choose another "
                    "directory (nothing was changed)"
                )
            if old.get("fingerprint") != fingerprint:
                raise BankMismatch(
                    f"{directory} holds a simulation bank made with a different "
                    f"{_changed(old.get('fingerprint'), fingerprint)}; it cannot be resumed. "
                    "Build it again as it was, or use another directory (nothing was changed)"
                )
            self.manifest = old
        else:
            self.chunks.mkdir(parents=True, exist_ok=True)
            self.manifest = {
                "tool": TOOL,
                "command": COMMAND,
                "fingerprint": fingerprint,
                "complete": False,
            }
            self._write_manifest()

    def _write_manifest(self) -> None:
        text = json.dumps(self.manifest, indent=1, sort_keys=True, allow_nan=False)
        _write_atomic(self.dir / MANIFEST, lambda f: f.write(text), binary=False)

    def names(self) -> list[str] | None:
        names = self.manifest.get("summary_names")
        return list(names) if isinstance(names, list) else None

    def finished(self) -> dict[int, np.ndarray]:
        """Finished chunks: start -> summaries (a file that does not read back whole, or
        whose parameters differ from the bank's, is ignored and its chunk runs again).
        Only the bank's own chunk names are looked at."""
        out: dict[int, np.ndarray] = {}
        chunk, n = int(self.fp["chunk"]), len(self.theta)
        for a in range(0, n, chunk):
            path = self.chunks / f"c{a:09d}.npz"
            if not path.is_file():
                continue
            try:
                with np.load(path, allow_pickle=False) as z:
                    th, x, start = z["theta"], z["x"], int(z["start"])
            except (OSError, ValueError, KeyError, EOFError, zlib.error):
                continue
            k = min(chunk, n - a)
            if (
                start == a
                and x.ndim == 2
                and x.shape[0] == k
                and np.array_equal(th, self.theta[a : a + k])
            ):
                out[a] = x.astype(float, copy=False)
        return out

    def save_chunk(self, a: int, x: np.ndarray) -> None:
        path = self.chunks / f"c{a:09d}.npz"
        th = self.theta[a : a + len(x)]
        _write_atomic(path, lambda f: np.savez(f, theta=th, x=x, start=np.int64(a)), binary=True)

    def load_complete(self) -> np.ndarray | None:
        if not self.manifest.get("complete"):
            return None
        try:
            with np.load(self.dir / BANK_FILE, allow_pickle=False) as z:
                th, x = z["theta"], z["x"]
        except (OSError, ValueError, KeyError, EOFError, zlib.error):
            return None
        if not np.array_equal(th, self.theta) or x.ndim != 2 or x.shape[0] != len(th):
            return None
        return x.astype(float, copy=False)

    def complete(self, x: np.ndarray, names: list[str] | None) -> None:
        _write_atomic(
            self.dir / BANK_FILE, lambda f: np.savez(f, theta=self.theta, x=x), binary=True
        )
        self.manifest["complete"] = True
        self.manifest["summaries"] = int(x.shape[1])
        if names is not None:
            self.manifest["summary_names"] = names
        self._write_manifest()
        for path in self.chunks.glob("c*.npz"):
            with contextlib.suppress(OSError):
                path.unlink()
        with contextlib.suppress(OSError):
            self.chunks.rmdir()


def _changed(old: Any, new: dict[str, Any]) -> str:
    if not isinstance(old, dict):
        return "or unreadable manifest"
    diff = [_WORDS.get(k, k) for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
    return ", ".join(diff) or "manifest"
