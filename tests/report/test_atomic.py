"""Outputs appear whole or not at all: a failure while writing keeps the previous file
or run directory and leaves no temporary files behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.report.atomic import OutputExists, atomic_dir, atomic_file, write_text_atomic

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
