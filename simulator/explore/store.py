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

The work in progress is read back as untrusted input: only regular files inside
``OUT.partial`` (no links), within :attr:`~simulator.limits.Limits.MAX_RUN_FILE_BYTES`,
strict JSON; a point's record must be well formed (its index, finite ``elapsed_s``, a
``values`` mapping, KPI statistics as :func:`simulator.report.readback.kpis_problem`
checks them) or it is set aside (:attr:`PointStore.rejected`) and its point runs again.
"""

from __future__ import annotations

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
from simulator.scenario.reading import UnreadableFile, parse_json, read_inside

__all__ = ["PARTIAL_SUFFIX", "PointStore", "record_problem"]

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
        self.rejected: list[str] = []
        """Point records that did not read back well formed (``file: field: why``); their
        points run again."""
        check_dir_target(self.out, force)
        manifest = self.partial / MANIFEST
        if self.partial.is_symlink() or self.partial.exists():
            old = None if self.partial.is_symlink() else _read_json(self.partial, MANIFEST)
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
            with atomic_file(manifest, inside=True) as tmp:
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
            rel = f"points/p{i:06d}.json"
            path = self.partial / rel
            if not (path.is_symlink() or path.exists()):
                continue
            rec = _read_json(self.partial, rel, Limits.MAX_RUN_FILE_BYTES)
            why = "does not read back as a JSON object" if rec is None else record_problem(rec, i)
            if why is None:
                assert rec is not None
                done[i] = rec
            else:
                self.rejected.append(f"{folder / rel.split('/')[1]}: {why}")
        return done

    def save(self, i: int, record: dict[str, Any]) -> None:
        """Store point ``i``'s record, whole or not at all (work in progress, not an
        output: it is not listed among the outputs a late Ctrl-C names)."""
        path = self.partial / "points" / f"p{i:06d}.json"
        with atomic_file(path, inside=True) as tmp:  # a link there is replaced, not followed
            write_json(tmp, record)
        if COMMITTED and COMMITTED[-1] == path:
            COMMITTED.pop()

    def discard(self) -> None:
        """Remove the work in progress (after ``OUT`` has been written)."""
        shutil.rmtree(self.partial, ignore_errors=True)


def _read_json(
    root: Path, rel: str, limit: int = Limits.MAX_MANIFEST_BYTES
) -> dict[str, Any] | None:
    """A JSON object from a regular file inside ``root`` (no link) of at most ``limit``
    bytes, strict JSON (None when it is anything else)."""
    try:
        data = parse_json(read_inside(root, rel, limit, "JSON file", track=False))
    except (UnreadableFile, OSError):
        return None
    return data if isinstance(data, dict) else None


def record_problem(rec: dict[str, Any], i: int) -> str | None:
    """What is wrong with point ``i``'s record as read back (``field: what``), or None."""
    import math

    from simulator.errors import clean
    from simulator.report.readback import kpis_problem

    if rec.get("point") != i or isinstance(rec.get("point"), bool):
        return f"point: must be {i}"
    t = rec.get("elapsed_s", 0.0)
    if not (isinstance(t, int | float) and not isinstance(t, bool) and math.isfinite(t) and t >= 0):
        return "elapsed_s: must be a finite number of seconds"
    values = rec.get("values")
    if not isinstance(values, dict) or not all(
        isinstance(v, int | float | str) and not isinstance(v, bool) for v in values.values()
    ):
        return "values: must map parameter paths to numbers or dates"
    problem = kpis_problem(rec.get("kpis"))
    if problem is not None:
        return f"{clean(problem[0], 120)}: {problem[1]}"
    return None


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
