"""A run directory read back by ``relsim report`` is untrusted input (issue 25): regular
files inside it only, within size limits, each checked against its schema; what fails is
refused (exit 2) naming the file and field, never quoting it, and nothing of it reaches
the page."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from simulator.cli import main

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "data" / "small.yaml"
SECRET = "RELSIM-SECRET-readback"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("made") / "run"
    args = ["run", str(SMALL), "--reps", "3", "--workers", "1", "--quiet", "--out", str(out)]
    assert main(args) == 0
    return out


@pytest.fixture
def run_dir(made: Path, tmp_path: Path) -> Path:
    d = tmp_path / "run"
    shutil.copytree(made, d, symlinks=True)
    (tmp_path / "secret.txt").write_text(f"token={SECRET}\n")
    return d


def _edit_json(rel: str, fn: Callable[[dict], None]) -> Callable[[Path], None]:
    def edit(d: Path) -> None:
        data = json.loads((d / rel).read_text())
        fn(data)
        (d / rel).write_text(json.dumps(data))

    return edit


def _replace(rel: str, content: bytes) -> Callable[[Path], None]:
    def edit(d: Path) -> None:
        (d / rel).unlink()
        (d / rel).write_bytes(content)

    return edit


def _link(rel: str, target: str) -> Callable[[Path], None]:
    def edit(d: Path) -> None:
        (d / rel).unlink()
        (d / rel).symlink_to(d.parent / target if not target.startswith("/") else target)

    return edit


def _first_kpi(data: dict) -> dict:
    """A manufacturer's KPIs (those have dates)."""
    return next(k for k in data["kpis"].values() if "first_shortage_date" in k)


CASES = {
    "manifest-reps-text": (
        _edit_json("manifest.json", lambda m: m.update(reps="many")),
        "manifest.json: reps: must be a whole number",
    ),
    "manifest-reps-huge": (
        _edit_json("manifest.json", lambda m: m.update(reps=10**30)),
        "reps: must be a whole number",
    ),
    "manifest-other-tool": (
        _edit_json("manifest.json", lambda m: m.update(tool="x")),
        "not a relsim run directory",
    ),
    "manifest-not-utf8": (
        _replace("manifest.json", b'{"tool": "relsim\xff"}'),
        "manifest.json: is not UTF-8 text",
    ),
    "manifest-deep": (
        _replace("manifest.json", b"[" * 100_000 + b"]" * 100_000),
        "manifest.json: holds a number too long or nesting too deep",
    ),
    "summary-no-kpis": (
        _edit_json("summary.json", lambda s: s.pop("kpis")),
        "summary.json: kpis: must map",
    ),
    "summary-mean-text": (
        _edit_json("summary.json", lambda s: _first_kpi(s)["fill_rate"].update(mean="x")),
        "fill_rate.mean: must be a finite number or null",
    ),
    "summary-nan": (
        _replace("summary.json", b'{"kpis": {"a": {"fill_rate": {"mean": NaN}}}}'),
        "summary.json: holds NaN (not a number)",
    ),
    "summary-date-garbage": (
        _edit_json(
            "summary.json", lambda s: _first_kpi(s)["first_shortage_date"].update(mean="2025-13-45")
        ),
        "first_shortage_date.mean: must be a date",
    ),
    "summary-huge-number": (
        _replace("summary.json", b'{"kpis": {"a": {"x": {"mean": ' + b"9" * 5000 + b"}}}}"),
        "holds a number too long",
    ),
    "summary-devzero": (_link("summary.json", "/dev/zero"), "summary.json is a symbolic link"),
    "notes-sections": (
        _edit_json("scenario.notes.json", lambda n: n.update(sections="x")),
        "sections: must be a list",
    ),
    "kpi-table-columns": (
        _replace("kpi_table.csv", b"a,b\n1,2\n"),
        "kpi_table.csv: has other columns than a relsim kpi_table table",
    ),
    "kpi-table-text-number": (
        lambda d: (d / "kpi_table.csv").write_text(
            (d / "kpi_table.csv").read_text().replace(",0.", ",zz0.", 1)
        ),
        "kpi_table.csv: line 2, column",
    ),
    "regimes-bad-date": (
        lambda d: (d / "regimes.csv").write_text(
            "start,end,regime,label\nnot-a-date,2025-01-01,r,l\n"
        ),
        "regimes.csv: line 2, column start: must be a date",
    ),
    "figure-link-out": (
        _link("figures/p_shortage.png", "secret.txt"),
        "figures/p_shortage.png is a symbolic link",
    ),
    "figure-not-png": (
        _replace("figures/p_shortage.png", f"<html>{SECRET}</html>".encode()),
        "figures/p_shortage.png: is not a PNG image",
    ),
    "figure-fifo": (
        lambda d: (
            (d / "figures/p_shortage.png").unlink(),
            os.mkfifo(d / "figures/p_shortage.png"),
        ),
        "is a named pipe",
    ),
    "resolved-link-out": (
        _link("scenario.resolved.yaml", "secret.txt"),
        "scenario.resolved.yaml is a symbolic link",
    ),
    "resolved-invalid": (
        _replace("scenario.resolved.yaml", b"name: x\nstart: 2025-01-01\n"),
        "scenario.resolved.yaml",
    ),
    "figures-dir-link": (
        lambda d: (shutil.rmtree(d / "figures"), (d / "figures").symlink_to(d.parent)),
        "figures: must be a directory",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_crafted_run_directory_is_refused_naming_file_and_field(
    name: str, run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit, message = CASES[name]
    edit(run_dir)
    before = (run_dir / "report.html").read_bytes()
    code = main(["report", str(run_dir)])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert message in err, err
    assert SECRET not in out + err and "Traceback" not in err
    assert (run_dir / "report.html").read_bytes() == before  # nothing written


def test_the_untouched_run_directory_renders(run_dir: Path) -> None:
    (run_dir / "report.html").unlink()
    assert main(["report", str(run_dir)]) == 0
    assert "data:image/png;base64," in (run_dir / "report.html").read_text()


def test_report_html_as_a_link_out_is_never_written_through(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = run_dir.parent / "secret.txt"
    before = outside.read_text()
    (run_dir / "report.html").unlink()
    (run_dir / "report.html").symlink_to(outside)
    assert main(["report", str(run_dir)]) == 2
    assert "is not a regular file" in capsys.readouterr().err
    assert outside.read_text() == before and (run_dir / "report.html").is_symlink()


def test_report_output_never_replaces_a_file_it_read(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (run_dir / "summary.json").read_bytes()
    assert main(["report", str(run_dir), "--output", str(run_dir / "summary.json")]) == 2
    assert "a file this command read" in capsys.readouterr().err
    assert (run_dir / "summary.json").read_bytes() == before
