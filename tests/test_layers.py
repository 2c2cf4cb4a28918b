"""Stages import downward only (``tools/check_layers.py``, also run by ``.ci/run``), no
private name crosses a stage, one default engine, and ``docs/architecture.md`` states
the import chain the checker measures."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "check_layers.py"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_layers", TOOL)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["check_layers"] = mod  # dataclasses resolve their module by name
    spec.loader.exec_module(mod)
    return mod


def test_no_upward_import_between_stages() -> None:
    r = subprocess.run(
        [sys.executable, str(TOOL)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert "upward imports: 0\n" in r.stdout, r.stdout
    assert "private names across stages: 0\n" in r.stdout, r.stdout
    assert r.returncode == 0, r.stdout + r.stderr


def test_architecture_states_the_measured_import_chain() -> None:
    """docs/architecture.md names the longest chain's length; a change of the package
    that lengthens or shortens it updates the document too."""
    chain = _tool().check().chain
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    m = re.search(r"the longest chain of imports is (\d+) layers", doc)
    assert m, "docs/architecture.md: the sentence with the longest import chain is gone"
    assert int(m.group(1)) == len(chain) - 1, (
        f"docs/architecture.md says {m.group(1)} layers, tools/check_layers.py measures "
        f"{len(chain) - 1}: " + " -> ".join(chain)
    )


def test_no_engine_name_spelled_outside_the_engines_module() -> None:
    """``DEFAULT_ENGINE`` (replication/engines.py) is the one default; the compiled
    engine's name is written only there and in kernel/."""
    found = []
    for p in sorted((ROOT / "simulator").rglob("*.py")):
        rel = p.relative_to(ROOT).as_posix()
        if rel == "simulator/replication/engines.py" or rel.startswith("simulator/kernel/"):
            continue
        text = p.read_text(encoding="utf-8")
        found += [f"{rel}: {m.group(0)}" for m in re.finditer(r"[\"']kernel[\"']", text)]
    assert not found, found


# --------------------------------------------------------------------- the checker itself
def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in {"simulator/__init__.py": "", **files}.items():
        f = root / name
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text, encoding="utf-8")
    return root


def test_checker_finds_every_kind_of_upward_import(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "simulator/errors.py": "",
            "simulator/world/__init__.py": "",
            "simulator/world/new_module.py": (  # a module the checker has never heard of
                "def f():\n    from simulator.ensemble import runner\n"
            ),
            "simulator/ensemble/__init__.py": "",
            "simulator/ensemble/runner.py": (
                "from typing import TYPE_CHECKING\n"
                "import simulator.world.new_module\n"  # downward: fine
                "if TYPE_CHECKING:\n    from simulator.report.html import page\n"  # never runs
                "def g():\n    import simulator.report.html\n"
                "def h():\n    from simulator import __version__\n"  # the face
                "def k():\n    from simulator.errors import _hidden\n"  # private, ground
            ),
            "simulator/report/__init__.py": "",
            "simulator/report/html.py": "from simulator.ensemble.runner import g\n",
        },
    )
    f = _tool().check(root)
    assert f.upward == [
        "simulator/ensemble/runner.py:6 (ensemble) -> simulator.report.html (report)",
        "simulator/ensemble/runner.py:8 (ensemble) -> simulator (face)",
        "simulator/world/new_module.py:2 (world) -> simulator.ensemble.runner (ensemble)",
    ]
    assert f.private == [
        "simulator/ensemble/runner.py:10 (ensemble) -> simulator.errors._hidden (ground)"
    ]
    assert f.unknown == []


def test_checker_refuses_a_module_of_no_stage_and_long_modules_on_request(
    tmp_path: Path,
) -> None:
    root = _package(
        tmp_path,
        {"simulator/helpers.py": "x = 1\n" * 20, "simulator/gadgets/__init__.py": ""},
    )
    tool = _tool()
    f = tool.check(root, max_lines=10)
    assert f.unknown == ["simulator/gadgets/__init__.py", "simulator/helpers.py"]
    assert f.lines == [(20, "simulator/helpers.py")]
    args = ["--root", str(root)]
    assert tool.main(args) == 1  # unknown stages fail
    root2 = _package(tmp_path / "b", {"simulator/world/big.py": "x = 1\n" * 20})
    assert tool.main(["--root", str(root2)]) == 0  # long modules are listed, not failed
    assert tool.main(["--root", str(root2), "--max-lines", "10"]) == 1
    assert tool.main(["--root", str(root2), "--max-lines", "20"]) == 0


@pytest.mark.parametrize(
    ("module", "stage"),
    [
        ("simulator", "face"),
        ("simulator.__main__", "face"),
        ("simulator.version", "ground"),
        ("simulator.stats", "ground"),
        ("simulator.kernel.events.heap", "kernel"),  # any depth: the first component
        ("simulator.cli.app", "cli"),
        ("simulator.gadgets", "?"),
    ],
)
def test_stage_is_the_first_path_component(module: str, stage: str) -> None:
    assert _tool().stage(module) == stage
