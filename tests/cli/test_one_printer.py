"""One way to print (issue 25): every command prints through cli/console's say, tell,
say_json and say_table, which show control characters from files and options as
escapes; no other module of simulator/cli prints."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from simulator.cli import console

CLI = Path(__file__).resolve().parents[2] / "simulator" / "cli"
PRINTING = re.compile(r"\bprint\(|\.print\(|sys\.std(out|err)\.write|typer\.echo|\.show\(")


def test_no_command_prints_on_its_own() -> None:
    found = []
    for f in sorted(CLI.glob("*.py")):
        if f.name == "console.py":
            continue
        for n, line in enumerate(f.read_text("utf-8").splitlines(), 1):
            if PRINTING.search(line) and "e.show()" not in line:  # click's usage errors
                found.append(f"{f.name}:{n}: {line.strip()}")
    assert not found, "print through cli.console (say, tell, say_json, say_table):\n" + "\n".join(
        found
    )


HOSTILE = "a\x1b[31mred\x1b[0m \u202egnp.exe\r\x07 [bold]markup[/bold] :smile:"


def test_say_and_tell_escape_control_characters(capsys: pytest.CaptureFixture[str]) -> None:
    console.say(HOSTILE)
    console.tell(HOSTILE)
    out, err = capsys.readouterr()
    for text in (out, err):
        assert "\x1b" not in text and "\u202e" not in text and "\r" not in text
        assert "\\x1b[31mred" in text and "\\u202egnp.exe" in text
        assert "[bold]markup[/bold]" in text and ":smile:" in text  # never markup or emoji


def test_say_json_is_valid_json_with_escapes(capsys: pytest.CaptureFixture[str]) -> None:
    console.say_json({"name": HOSTILE, "n": 1})
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    assert json.loads(out) == {"name": HOSTILE, "n": 1}


def test_table_cells_are_never_markup(capsys: pytest.CaptureFixture[str]) -> None:
    from rich.table import Table

    t = Table(title=console.cell(HOSTILE))
    t.add_column("x")
    t.add_row(console.cell(HOSTILE))
    console.say_table(t)
    out = capsys.readouterr().out
    assert "\x1b[31m" not in out.replace("\x1b[1m", "") and "[bold]markup" in out
