"""Outputs appear whole or not at all: a failure while writing keeps the previous file
or run directory and leaves no temporary files behind."""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from pathlib import Path

import pytest

from simulator.report.atomic import (
    OutputExists,
    OutputRefused,
    atomic_dir,
    atomic_file,
    is_relsim_output,
    write_text_atomic,
)

RUN = '{"tool": "relsim", "command": "run"}'  # the manifest of a run directory


def test_atomic_file_replaces_the_target_only_when_written(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "report.md"
    with atomic_file(target) as tmp:
        assert tmp.parent == target.parent and tmp != target
        tmp.write_text("first")
        assert not target.exists()  # nothing visible until the block ends
    assert target.read_text() == "first"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.md"]
    write_text_atomic(target, "second ✓")
    assert target.read_text(encoding="utf-8") == "second ✓"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.md"]


def test_atomic_file_failure_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    target.write_text("previous")
    with pytest.raises(RuntimeError, match="disk full"), atomic_file(target) as tmp:
        tmp.write_text("half of the new rep")
        raise RuntimeError("disk full")
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_atomic_dir_failure_keeps_the_previous_run(tmp_path: Path) -> None:
    target = tmp_path / "run"
    target.mkdir()
    (target / "manifest.json").write_text(RUN)
    (target / "summary.json").write_text("{}")
    with pytest.raises(ValueError), atomic_dir(target, force=True) as tmp:
        (tmp / "manifest.json").write_text("{")
        raise ValueError("a replication failed")
    assert sorted(p.name for p in target.iterdir()) == ["manifest.json", "summary.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    with pytest.raises(OutputExists, match="use --force"), atomic_dir(target):
        pass
    with atomic_dir(target, force=True) as tmp:
        (tmp / "manifest.json").write_text(RUN)
    assert [p.name for p in target.iterdir()] == ["manifest.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_a_directory_that_appears_meanwhile_is_kept(tmp_path: Path) -> None:
    """Another run put its directory in place while this one was being written: the
    commit never replaces it (without --force) and removes this run's temporary."""
    target = tmp_path / "run"
    appeared = pytest.raises(OutputExists, match="appeared while this run was computed")
    with appeared, atomic_dir(target) as tmp:
        (tmp / "manifest.json").write_text(RUN)
        target.mkdir()  # the other run's commit
        (target / "manifest.json").write_text('{"tool": "relsim", "seed": 2}')
    assert json.loads((target / "manifest.json").read_text())["seed"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    empty = tmp_path / "empty"
    with pytest.raises(OutputExists), atomic_dir(empty) as tmp:
        empty.mkdir()  # even an empty directory (plain rename() would replace it)
    assert empty.is_dir() and [p.name for p in tmp_path.iterdir()] == sorted(["run", "empty"])


@pytest.mark.parametrize("kind", ["file", "dir", "link", "other-tool"])
def test_force_replaces_only_relsim_outputs(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "out"
    if kind == "file":
        target.write_text("mine")
    elif kind == "link":
        (tmp_path / "real").mkdir()
        (tmp_path / "real" / "manifest.json").write_text(RUN)
        target.symlink_to(tmp_path / "real")
    else:
        target.mkdir()
        (target / "notes.md").write_text("mine")
        if kind == "other-tool":
            (target / "manifest.json").write_text('{"tool": "other"}')
    before = {p.name: p.is_symlink() for p in tmp_path.iterdir()}
    with pytest.raises(OutputRefused, match="nothing was changed"), atomic_dir(target, True):
        raise AssertionError("the body must not run")
    assert {p.name: p.is_symlink() for p in tmp_path.iterdir()} == before
    if kind == "link":
        assert is_relsim_output(tmp_path / "real")  # the directory it points to is kept too


def test_atomic_file_writes_through_links_and_devices(tmp_path: Path) -> None:
    real = tmp_path / "real.md"
    real.write_text("old")
    link = tmp_path / "link.md"
    link.symlink_to(real)
    write_text_atomic(link, "new")
    assert link.is_symlink() and real.read_text() == "new"  # the link is kept
    null = tmp_path / "null"
    try:  # a private /dev/null as root: a regression must not replace the real one
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except OSError:
        null = Path("/dev/null")  # not root: it cannot be replaced
    write_text_atomic(null, "into the void")
    assert stat.S_ISCHR(os.stat(null).st_mode)
    with pytest.raises(OutputRefused, match="is a directory"):
        write_text_atomic(tmp_path, "x")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(OutputRefused, match="No such device or address"):
        write_text_atomic(fifo, "nobody reads")  # fails at once instead of blocking
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    deadline = time.monotonic() + 10
    while True:  # the reader has the pipe open once a non-blocking writer can open it
        try:
            write_text_atomic(fifo, "through the pipe")
            break
        except OutputRefused:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    reader.join(10)
    assert got == [b"through the pipe"]
    left = sorted(p.name for p in tmp_path.iterdir() if p != null)
    assert left == ["fifo", "link.md", "real.md"]


def test_forced_commit_replaces_the_run_another_forced_run_put_in_place(tmp_path: Path) -> None:
    """Two --force runs over one run directory: whichever commits last wins, whole,
    and neither leaves the other's or the old directory behind."""
    target = tmp_path / "run"
    target.mkdir()
    (target / "manifest.json").write_text(RUN)
    with atomic_dir(target, force=True) as tmp:
        (tmp / "manifest.json").write_text('{"tool": "relsim", "seed": 1}')
        # meanwhile the other forced run moves the old run aside and commits its own
        target.rename(tmp_path / ".run.old-other")
        target.mkdir()
        (target / "manifest.json").write_text('{"tool": "relsim", "seed": 2}')
    assert json.loads((target / "manifest.json").read_text())["seed"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [".run.old-other", "run"]
    refused = pytest.raises(OutputRefused, match="is not a relsim run directory")
    with refused, atomic_dir(target, force=True):
        (target / "manifest.json").unlink()  # now someone else's directory
    assert [p.name for p in target.iterdir()] == []  # kept, as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == [".run.old-other", "run"]
