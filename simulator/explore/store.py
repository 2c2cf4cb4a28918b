"""A sweep's output directory, and the work in progress that lets it resume.

While a sweep runs, every finished point is written at once, whole or not at all, to
``OUT.partial/points/p<index>.json`` (its KPI summary); ``OUT.partial/manifest.json``
holds the sweep's *fingerprint* (the resolved scenario's hash, the design and every
point's coordinates, replications, seed, relsim's and the numeric packages' versions).
Running the same sweep again after an interruption reads the finished points and runs
only the others; a sweep whose fingerprint differs is refused (``force`` discards the
old work instead). When every point is in, ``OUT`` is written atomically
(:func:`simulator.report.atomic.atomic_dir`) and ``OUT.partial`` removed: ``OUT`` is
complete whenever it exists, and an interrupted sweep never leaves anything that looks
complete.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from simulator.errors import Problem, ScenarioError
from simulator.limits import Limits
from simulator.report.atomic import (
    COMMITTED,
    MANIFEST,
    TOOL,
    OutputRefused,
    atomic_file,
    check_dir_target,
    write_json,
)
from simulator.scenario.reading import UnreadableFile, read_limited

__all__ = ["PARTIAL_SUFFIX", "PointStore"]

PARTIAL_SUFFIX = ".partial"
"""Suffix of the directory holding a sweep's work in progress (``OUT.partial``)."""
PARTIAL_COMMAND = "sweep (unfinished)"
"""``command`` of the manifest of a sweep's work in progress: only a directory whose
manifest says so (and ``"tool": "relsim"``) is ever read back or removed."""


class PointStore:
    """Finished points of one sweep, kept on disk so that the sweep can resume.

    Args:
        out: The sweep's output directory (``OUT``).
        fingerprint: What must match for finished points to be reused.
        points: Number of points of the design (bounds what is read back).
        force: Replace an existing ``OUT``, and discard work in progress whose
            fingerprint differs.

    Raises:
        OutputRefused: ``OUT`` exists (without ``force``) or is not a relsim output, or
            ``OUT.partial`` is something else than a sweep's work in progress.
        ScenarioError: The work in progress belongs to another sweep (without ``force``).
    """

    def __init__(self, out: Path, fingerprint: dict[str, Any], points: int, force: bool) -> None:
        self.out = Path(out)
        self.partial = self.out.with_name(self.out.name + PARTIAL_SUFFIX)
        self.fingerprint = fingerprint
        self.points = points
        check_dir_target(self.out, force)
        manifest = self.partial / MANIFEST
        if self.partial.is_symlink() or self.partial.exists():
            old = _read_json(manifest)
            if self.partial.is_symlink() or not self.partial.is_dir() or not _ours(old):
                raise OutputRefused(
                    f"{self.partial} is there and is not an unfinished relsim sweep; relsim "
                    "keeps a sweep's unfinished points there, so move it away (nothing was "
                    "changed)"
                )
            assert old is not None
            if old.get("fingerprint") != fingerprint:
                if not force:
                    changed = _changed(old.get("fingerprint"), fingerprint)
                    raise ScenarioError(
                        Problem(
                            "an interrupted sweep with a different "
                            f"{changed} is there; it cannot resume this one. Run it again as it "
                            "was, or add --force to discard its points",
                            "",
                            str(manifest),
                        )
                    )
                shutil.rmtree(self.partial)
        if not self.partial.exists():
            (self.partial / "points").mkdir(parents=True)
            with atomic_file(manifest) as tmp:
                write_json(
                    tmp,
                    {
                        "tool": TOOL,
                        "command": PARTIAL_COMMAND,
                        "fingerprint": fingerprint,
                        "points": points,
                    },
                )
            if COMMITTED and COMMITTED[-1] == manifest:
                COMMITTED.pop()

    def finished(self) -> dict[int, dict[str, Any]]:
        """Points already finished: index -> record (a file that does not read back whole
        is ignored and its point runs again). Only the design's own file names are looked
        at, so the work is bounded by the number of points."""
        done: dict[int, dict[str, Any]] = {}
        folder = self.partial / "points"
        for i in range(self.points):
            path = folder / f"p{i:06d}.json"
            if not path.is_file():
                continue
            rec = _read_json(path)
            if rec is not None and rec.get("point") == i:
                done[i] = rec
        return done

    def save(self, i: int, record: dict[str, Any]) -> None:
        """Store point ``i``'s record, whole or not at all (work in progress, not an
        output: it is not listed among the outputs a late Ctrl-C names)."""
        path = self.partial / "points" / f"p{i:06d}.json"
        with atomic_file(path) as tmp:
            write_json(tmp, record)
        if COMMITTED and COMMITTED[-1] == path:
            COMMITTED.pop()

    def discard(self) -> None:
        """Remove the work in progress (after ``OUT`` has been written)."""
        shutil.rmtree(self.partial, ignore_errors=True)


def _read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from a regular file of at most :attr:`Limits.MAX_MANIFEST_BYTES`
    (None when it is anything else)."""
    try:
        data = json.loads(read_limited(path, Limits.MAX_MANIFEST_BYTES, "JSON file"))
    except (UnreadableFile, OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _ours(manifest: dict[str, Any] | None) -> bool:
    """Whether a manifest is that of an unfinished relsim sweep."""
    return (
        manifest is not None
        and manifest.get("tool") == TOOL
        and manifest.get("command") == PARTIAL_COMMAND
    )


def _changed(old: Any, new: dict[str, Any]) -> str:
    """Which parts of two fingerprints differ, in words."""
    if not isinstance(old, dict):
        return "or unreadable manifest"
    names = {
        "scenario_hash": "scenario",
        "design": "design",
        "reps": "number of replications",
        "seed": "seed",
        "versions": "relsim or package version",
    }
    diff = [names.get(k, k) for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
    return ", ".join(diff) or "manifest"
