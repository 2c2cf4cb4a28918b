"""The compiled-code cache (issue 25): a cache directory others can write is refused
naming RELSIM_CACHE_DIR (its pickles are code that would run as you); any entry that
cannot be loaded — truncated, garbage, emptied, a link to /dev/zero, a file of another
owner, a planted index in a writable place — is a miss: compiled again, said once, the
cache rewritten. Each case runs in a fresh interpreter (numba reads its cache directory
once) on a small function of the ``simulator`` package, not the kernel."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX owners")

PROBE = textwrap.dedent(
    """
    import importlib.util, sys, warnings
    warnings.simplefilter("always")
    from simulator.world import jit
    spec = importlib.util.spec_from_file_location("simulator._cache_probe", sys.argv[1])
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    try:
        jit.check_cache_dir()
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            value = mod.triple(14)
    except jit.UntrustedCache as e:
        print("REFUSED", e)
        raise SystemExit(2)
    print("VALUE", value)
    print("HITS", sum(mod.triple.stats.cache_hits.values()))
    for w in seen:
        print("WARN", w.category.__name__, w.message)
    """
)
SOURCE = "from simulator.world.jit import shared\n\n@shared\ndef triple(x):\n    return 3 * x\n"


def _run(tmp: Path) -> subprocess.CompletedProcess[str]:
    probe = tmp / "probe.py"
    if not probe.exists():
        probe.write_text(SOURCE)
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["RELSIM_CACHE_DIR"] = str(tmp / "cache")
    return subprocess.run(
        [sys.executable, "-c", PROBE, str(probe)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _files(tmp: Path, suffix: str) -> list[Path]:
    return sorted((tmp / "cache" / "numba").rglob(f"*{suffix}"))


@pytest.fixture
def warm(tmp_path: Path) -> Path:
    r = _run(tmp_path)
    assert r.returncode == 0 and "VALUE 42" in r.stdout and "HITS 0" in r.stdout, r.stderr
    return tmp_path


def test_the_cache_is_private_and_loads(warm: Path) -> None:
    numba_dir = warm / "cache" / "numba"
    for d in [numba_dir, *[p for p in numba_dir.rglob("*") if p.is_dir()]]:
        assert d.stat().st_mode & 0o077 == 0, oct(d.stat().st_mode)
    files = _files(warm, ".nbi") + _files(warm, ".nbc")
    assert files and all(f.stat().st_mode & 0o077 == 0 for f in files)
    r = _run(warm)
    assert "VALUE 42" in r.stdout and "HITS 1" in r.stdout and "WARN" not in r.stdout


def _truncate(f: Path) -> None:
    f.write_bytes(f.read_bytes()[:40])


def _devzero(f: Path) -> None:
    f.unlink()
    f.symlink_to("/dev/zero")


def _foreign(f: Path) -> None:
    os.chown(f, 4321, 4321)


def _group_writable(f: Path) -> None:
    os.chown(f, -1, 4321)  # a group of others (not this user's private group)
    f.chmod(0o664)


def _plant(f: Path) -> None:
    import pickle

    import numba

    class Evil:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (os.system, (f"touch {f.parent / 'pwned'}",))

    f.write_bytes(pickle.dumps(numba.__version__) + pickle.dumps(Evil()))
    os.chown(f, 4321, 4321)  # planted by another user


DAMAGE = {
    "truncated entry": (".nbc", _truncate, "is not a readable entry"),
    "garbage index": (".nbi", lambda f: f.write_bytes(os.urandom(3000)), "is not a readable index"),
    "emptied index": (".nbi", lambda f: f.write_bytes(b""), "is not a readable index"),
    "emptied entry": (".nbc", lambda f: f.write_bytes(b""), "is not a readable entry"),
    "entry linked to /dev/zero": (".nbc", _devzero, "is not a regular file"),
    "index of another owner": (".nbi", _foreign, "is owned by another user (uid 4321)"),
    "planted index": (".nbi", _plant, "is owned by another user"),
    "group-writable index": (
        ".nbi",
        lambda f: _group_writable(f),
        "is writable by group or others",
    ),
}


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_an_entry_that_cannot_be_loaded_is_compiled_again(damage: str, warm: Path) -> None:
    suffix, fn, why = DAMAGE[damage]
    for f in _files(warm, suffix):
        fn(f)
    r = _run(warm)
    assert r.returncode == 0 and "VALUE 42" in r.stdout, r.stderr
    assert "HITS 0" in r.stdout  # compiled again
    notes = [line for line in r.stdout.splitlines() if line.startswith("WARN")]
    assert len(notes) == 1 and "CacheRecompiled" in notes[0] and why in notes[0], notes
    assert "compiling again" in notes[0]
    assert not list(warm.rglob("pwned")), "the planted index ran"
    again = _run(warm)  # the entry was rewritten
    assert "HITS 1" in again.stdout and "WARN" not in again.stdout, again.stdout


def test_a_cache_others_can_write_is_refused_naming_the_variable(warm: Path) -> None:
    (warm / "cache" / "numba").chmod(0o777)
    r = _run(warm)
    assert r.returncode == 2 and "REFUSED" in r.stdout
    # the cache folder (numba/<digest of the sources>) sits in the folder made writable
    assert "writable by group or others" in r.stdout and "(mode 0777)" in r.stdout
    assert "RELSIM_CACHE_DIR" in r.stdout
    (warm / "cache" / "numba").chmod(0o700)
    (warm / "cache").chmod(0o777)  # the folder above: could be swapped
    r = _run(warm)
    assert r.returncode == 2 and "writable by group or others and not sticky" in r.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_a_cache_of_another_owner_is_refused(warm: Path) -> None:
    os.chown(warm / "cache" / "numba", 4321, 4321)
    r = _run(warm)
    assert r.returncode == 2 and "owned by another user (uid 4321)" in r.stdout
    assert "RELSIM_CACHE_DIR" in r.stdout
