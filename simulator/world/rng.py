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

import functools
import zlib
from collections.abc import Iterable

import numpy as np
from numpy.random.bit_generator import ISeedSequence

__all__ = ["Streams", "pcg64_seeds", "rep_seed_sequence"]

# numpy's SeedSequence (numpy/random/bit_generator.pyx), all arithmetic modulo 2**32
_POOL = 4
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
_M32 = 0xFFFFFFFF
_U32 = np.uint32


def rep_seed_sequence(seed: int, rep: int) -> np.random.SeedSequence:
    """Return the seed sequence of replication ``rep`` of ``seed``."""
    return np.random.SeedSequence(seed, spawn_key=(rep,))


@functools.lru_cache(maxsize=65536)
def _key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def _words(n: int) -> list[int]:
    """An integer as numpy's SeedSequence takes it: 32-bit words, least significant first."""
    if n < 0:
        raise ValueError("seeds and keys are non-negative")
    out = [n & _M32]
    n >>= 32
    while n:
        out.append(n & _M32)
        n >>= 32
    return out


def pcg64_seeds(seed: int, keys: list[tuple[int, ...]]) -> np.ndarray:
    """``SeedSequence(seed, spawn_key=key).generate_state(4, np.uint64)`` of every key at
    once: numpy's mixing (hash constants, pool of 4 words, mixing order) on arrays of
    keys of the same length. Seeding a :class:`numpy.random.PCG64` with these words gives
    the generator ``PCG64(SeedSequence(seed, spawn_key=key))`` gives (the same stream;
    ``tests/world/test_draws.py`` compares them) at a tenth of the cost.

    Args:
        seed: Root seed (non-negative).
        keys: Spawn keys (non-negative integers).

    Returns:
        ``(len(keys), 4)`` unsigned 64-bit words.
    """
    run = _words(int(seed))
    out = np.zeros((len(keys), _POOL), dtype=np.uint64)
    groups: dict[int, list[int]] = {}
    words = [[w for k in key for w in _words(int(k))] for key in keys]
    for i, w in enumerate(words):
        groups.setdefault(len(w) if keys[i] else -1, []).append(i)
    for n, idx in groups.items():
        if n < 0:  # no spawn key: the seed's words alone, unpadded
            out[idx] = _mix(run, np.zeros((len(idx), 0), dtype=_U32))
        else:
            tail = np.array([words[i] for i in idx], dtype=_U32).reshape(len(idx), n)
            out[idx] = _mix(run + [0] * max(0, _POOL - len(run)), tail)
    return out


def _mix(head: list[int], tail: np.ndarray) -> np.ndarray:
    """The PCG64 seed words of entropy ``head + row`` for each row of ``tail``
    (:func:`pcg64_seeds`)."""
    m = tail.shape[0]
    n = len(head) + tail.shape[1]
    hc = [_INIT_A]

    def col(i: int) -> np.ndarray:
        if i < len(head):
            return np.full(m, head[i], dtype=_U32)
        return tail[:, i - len(head)] if i < n else np.zeros(m, dtype=_U32)

    def hashmix(v: np.ndarray) -> np.ndarray:
        v = v ^ _U32(hc[0])
        hc[0] = (hc[0] * _MULT_A) & _M32
        v = v * _U32(hc[0])
        return v ^ (v >> _U32(16))

    def mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        r = _U32(_MIX_L) * x - _U32(_MIX_R) * y
        return r ^ (r >> _U32(16))

    pool = [hashmix(col(i)) for i in range(_POOL)]
    for src in range(_POOL):
        for dst in range(_POOL):
            if src != dst:
                pool[dst] = mix(pool[dst], hashmix(pool[src]))
    for src in range(_POOL, n):
        for dst in range(_POOL):
            pool[dst] = mix(pool[dst], hashmix(col(src)))
    out = np.empty((m, 2 * _POOL), dtype=_U32)
    hb = _INIT_B
    for j in range(2 * _POOL):
        v = pool[j % _POOL] ^ _U32(hb)
        hb = (hb * _MULT_B) & _M32
        v = v * _U32(hb)
        out[:, j] = v ^ (v >> _U32(16))
    return out.astype("<u4").view("<u8")


@functools.lru_cache(maxsize=65536)
def _path_words(path: tuple[str, ...]) -> tuple[int, ...]:
    """The spawn-key words of a source path's names (their CRC-32s)."""
    return tuple(_key(n) for n in path)


class _Seeded(ISeedSequence):
    """A seed sequence whose state is already known (from :func:`pcg64_seeds`)."""

    __slots__ = ("_state",)

    def __init__(self, state: np.ndarray) -> None:
        self._state = state

    def generate_state(self, n_words: int, dtype: type = np.uint32) -> np.ndarray:
        """The known state (PCG64 asks for 4 unsigned 64-bit words)."""
        if n_words != _POOL or np.dtype(dtype) != np.uint64:  # pragma: no cover - guard
            raise ValueError("only PCG64's seeding is known")
        return self._state


class Streams:
    """Named generators of one replication.

    Args:
        seed: Root seed (non-negative integer).
        rep: Replication index.
    """

    def __init__(self, seed: int, rep: int) -> None:
        self.seed = int(seed)
        self.rep = int(rep)
        self._ready: dict[tuple[str, ...], np.ndarray] = {}

    def prepare(self, paths: Iterable[tuple[str, ...]]) -> None:
        """Seed the generators of ``paths`` at once (:func:`pcg64_seeds`), so that
        :meth:`get` of any of them costs a few microseconds instead of ~35; the streams
        are the same. A path never asked for costs only its share of the batch."""
        groups: dict[int, list[tuple[str, ...]]] = {}
        for p in paths:
            if p not in self._ready:
                groups.setdefault(len(p), []).append(p)
        if not groups:
            return
        run = _words(self.seed)
        head = run + [0] * max(0, _POOL - len(run)) + _words(self.rep)
        for n, todo in groups.items():
            tail = np.array([_path_words(p) for p in todo], dtype=_U32).reshape(len(todo), n)
            self._ready.update(zip(todo, _mix(head, tail), strict=True))

    def get(self, *names: str) -> np.random.Generator:
        """Return the generator for a source path, e.g. ``get("background", "US/magnet")``.

        The same names give the same stream in any scenario with the same seed and rep.
        """
        state = self._ready.get(names)
        if state is not None:
            return np.random.Generator(np.random.PCG64(_Seeded(state)))
        key = (self.rep, *(_key(n) for n in names))
        return np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=key))
        )
