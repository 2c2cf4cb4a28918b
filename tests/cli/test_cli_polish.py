"""CLI polish: --version, help text for every option with readable metavars and listed
choices, plurals, no wrapping when piped, relsim new."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer

from simulator import __version__
from simulator.cli import app, main

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "scenarios" / "cn-2025-april-controls.yaml"


def _commands() -> dict:
    group = typer.main.get_command(app)
    return dict(group.commands)  # type: ignore[attr-defined]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"relsim {__version__}"


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_option_has_help_and_a_readable_metavar(name: str) -> None:
    import click

    cmd = _commands()[name]
    ctx = click.Context(cmd, info_name=name)
    assert cmd.help and cmd.short_help, name
    assert not cmd.short_help.endswith("..."), f"{name}: short help cut: {cmd.short_help}"
    for p in cmd.params:
        if isinstance(p, click.Option):
            assert p.help, f"relsim {name} {p.opts[0]}: no help text"
            if not p.is_flag:
                mv = p.make_metavar(ctx)
                assert not any(
                    x in mv
                    for x in ("list[", "int range", "float range", "<str>", "<path>", "<int>")
                ), f"{name} {p.opts[0]}: {mv}"
        elif isinstance(p, click.Argument):
            assert p.metavar, f"relsim {name} {p.name}: no metavar"


def test_executor_and_format_list_their_choices() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "simulator", "run", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "<serial|processes|dask>" in r.stdout and "<png|svg|pdf>" in r.stdout
    # piped: lines up to 110 columns, a help sentence is not cut at 80
    assert max(len(line) for line in r.stdout.splitlines()) <= 110
    assert "--rep-index I" in r.stdout and "--set KEY=VALUE" in r.stdout


def test_validate_plurals_and_one_line_when_piped(tmp_path: Path) -> None:
    long_name = "x" * 150
    f = tmp_path / "one.yaml"
    f.write_text(
        (ROOT / "scenarios" / "examples" / "minimal.yaml")
        .read_text()
        .replace("name: minimal", f"name: {long_name}")
    )
    r = subprocess.run(
        [sys.executable, "-m", "simulator", "validate", str(f)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1 and long_name in lines[0]  # never wrapped mid-sentence
    assert "1 manufacturer," in lines[0] or "manufacturers" in lines[0]
    assert "1 manufacturers" not in lines[0]


def test_new_writes_a_commented_variant_that_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    base = tmp_path / "scenarios" / "cn-2025-april-controls.yaml"
    assert main(["new", "my-variant", "--from", str(base)]) == 0
    out = tmp_path / "scenarios" / "my-variant.yaml"
    text = out.read_text()
    assert "extends: cn-2025-april-controls.yaml" in text and "name: my-variant" in text
    assert "# QUESTION." in text and "# authority:" in text
    assert main(["validate", str(out)]) == 0
    from simulator.scenario.load import load_scenario

    assert load_scenario(out).name == "my-variant"
    assert main(["new", "my-variant", "--from", str(base)]) == 2  # exists: --force
    assert main(["new", "bad name!", "--from", str(base)]) == 2
    capsys.readouterr()


def test_new_variant_starts_from_an_overlay_and_stays_out_of_regress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 24: the template's policy example is an overlay, which keeps the base's
    standing rules; from the project folder the draft is written there, not into
    scenarios/, so `relsim regress` (scenarios/*.yaml) does not stop on it."""
    import re
    import shutil

    from simulator.regress.run import expand_paths
    from simulator.scenario.load import load_scenario

    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    monkeypatch.chdir(tmp_path)
    base = Path("scenarios") / "cn-2025-april-controls.yaml"
    assert main(["new", "draft", "--from", str(base)]) == 0
    out = tmp_path / "draft.yaml"
    text = out.read_text()
    assert "extends: scenarios/cn-2025-april-controls.yaml" in text
    assert "#   overlays:" in text and "#       until: " in text
    assert "#     - name: always" not in text  # no example that drops the standing rules
    assert not (tmp_path / "scenarios" / "draft.yaml").exists()
    assert out not in [p.resolve() for p in expand_paths(None)]
    # uncommented, the overlay validates strictly and changes only itself
    keys = "policy:|  overlays:|    - from|      until|      where|      review_time|      label"
    block = re.sub(rf"^# ({keys})", r"\1", text, flags=re.M)
    out.write_text(block)
    assert main(["validate", "--strict", str(out)]) == 0
    sc, b = load_scenario(out), load_scenario(base)
    assert len(sc.policy.overlays) == len(b.policy.overlays) + 1
    assert sc.policy.regimes == b.policy.regimes  # every inherited rule kept
    assert sc.observed_exports == b.observed_exports  # the base's data file, as it names it
    capsys.readouterr()
