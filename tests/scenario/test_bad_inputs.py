"""Hostile and broken scenario files, through the real CLI in a subprocess.

Every file in ``tests/bad_inputs/`` (except ``base_valid.yaml``, the valid base the others
extend) is a broken scenario listed in :data:`CASES` with the message it must produce and
where (``file:line:col`` when a position exists). Each is validated by
``python -m simulator validate FILE`` under a 1.5 GB address-space limit and must exit 2
with that located message, without a traceback, quickly and in bounded memory. A few more
cases (a 50 MB file, a directory, a NUL byte, 10,001 countries) are generated into
``tmp_path`` rather than committed.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

import simulator
import simulator.scenario.load  # the loader is imported before it is timed
from simulator.errors import ScenarioError

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path("tests") / "bad_inputs"  # relative to ROOT: messages name files like this
BASE_VALID = CORPUS / "base_valid.yaml"
MEMORY_LIMIT = 1536 * 2**20  # RLIMIT_AS of every CLI subprocess
MAX_RSS_MB = 600  # peak resident memory allowed for refusing a file (importing costs ~150)
MAX_SECONDS = 30  # per subprocess, generous for a loaded 2-core CI box (typical: 2-4 s)


@dataclass(frozen=True)
class Case:
    """A broken file and what ``relsim validate`` must say about it.

    Attributes:
        message: Substring of the problem line.
        where: ``name:line:col`` (or just ``name`` for a whole-file problem) of the file in
            the corpus the problem is located in; the line must start with it.
    """

    message: str
    where: str


CASES: dict[str, Case] = {
    "syntax_error.yaml": Case(
        "YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence "
        "at line 4, column 12)",
        "syntax_error.yaml:5:1",
    ),
    "tabs.yaml": Case(
        "YAML does not allow tab characters for indentation; use spaces", "tabs.yaml:6:1"
    ),
    "duplicate_key.yaml": Case(
        "authority.reviewers: duplicate key 'reviewers' (first defined at line 3)",
        "duplicate_key.yaml:5:3",
    ),
    "unknown_key.yaml": Case(
        "authority.reviewrs: unknown key 'reviewrs'; did you mean 'reviewers'?",
        "unknown_key.yaml:3:3",
    ),
    "wrong_type.yaml": Case(
        "authority.reviewers: Input should be a valid integer, unable to parse string as an "
        "integer (got 'many')",
        "wrong_type.yaml:3:14",
    ),
    "null_required.yaml": Case(
        "start: Input should be a valid date (got null)", "null_required.yaml:2:8"
    ),
    "negative_duration.yaml": Case(
        "lanes[0].transit_days.value: Input should be greater than or equal to 0 (got -20)",
        "negative_duration.yaml:3:88",
    ),
    "zero_duration.yaml": Case(
        "authority.review_work_wd.mean: Input should be greater than 0 (got 0)",
        "zero_duration.yaml:3:45",
    ),
    "probability_above_one.yaml": Case(
        "authority.approval.probability: Input should be less than or equal to 1 (got 1.5)",
        "probability_above_one.yaml:4:18",
    ),
    "probability_negative.yaml": Case(
        "authority.intake.return_probability: Input should be greater than or equal to 0 "
        "(got -0.1)",
        "probability_negative.yaml:4:25",
    ),
    "date_outside_horizon.yaml": Case(
        "policy.timeline[0].date: date outside the horizon 2025-01-01 .. 2025-03-01 "
        "(got 2026-02-01)",
        "date_outside_horizon.yaml:4:14",
    ),
    "end_before_start.yaml": Case(
        "end: end is before start (2025-03-31) (got 2025-01-01)", "end_before_start.yaml:3:6"
    ),
    "unknown_reference.yaml": Case(
        "authority.general_licences[0].exporter: unknown exporter; did you mean 'cn1'? "
        "(known: cn1, vn1) (got 'cn2')",
        "unknown_reference.yaml:4:18",
    ),
    "extends_cycle_a.yaml": Case(
        f"extends: extends cycle: {CORPUS}/extends_cycle_a.yaml -> "
        f"{CORPUS}/extends_cycle_b.yaml -> {CORPUS}/extends_cycle_a.yaml",
        "extends_cycle_b.yaml:2:10",  # the `extends:` that closes the cycle
    ),
    "extends_cycle_b.yaml": Case("extends: extends cycle: ", "extends_cycle_a.yaml:2:10"),
    "extends_missing.yaml": Case(
        f"extends: extends: file not found: {CORPUS}/no_such_base.yaml",
        "extends_missing.yaml:1:10",
    ),
    "supply_cycle.yaml": Case(
        "manufacturers[0].suppliers: supply cycle: m1 -> m2 -> m1", "supply_cycle.yaml:11:16"
    ),
    "empty.yaml": Case("the file is empty: expected a mapping (key: value lines)", "empty.yaml"),
    "not_utf8.yaml": Case(
        "file is not valid UTF-8 text (byte 0xfc at offset 7)", "not_utf8.yaml:1:8"
    ),
    "python_tag.yaml": Case(
        "name: tag !!python/object/apply:os.system is not allowed (only plain YAML",
        "python_tag.yaml:1:7",
    ),
    "alias_bomb.yaml": Case(
        "document is too large: more than 200,000 YAML nodes once aliases (*name) are "
        "expanded; the limit is 200,000 nodes",
        "alias_bomb.yaml:7:4",
    ),
    "recursive_alias.yaml": Case(
        "recursive alias: this node contains itself", "recursive_alias.yaml:1:7"
    ),
    "alias_depth_chain.yaml": Case(  # each list 90 deep, each holding an alias to the last
        "YAML is nested more than 100 levels deep (the limit)", "alias_depth_chain.yaml:1:5"
    ),
    "deep_nesting.yaml": Case(
        "YAML is nested more than 100 levels deep (the limit)", "deep_nesting.yaml:3:113"
    ),
    "multiple_documents.yaml": Case(
        "expected a single document in the stream, but found another document",
        "multiple_documents.yaml:2:1",
    ),
    "top_level_list.yaml": Case(
        "the top level must be a mapping (key: value lines), not a list",
        "top_level_list.yaml:1:1",
    ),
    "absurd_reviewers.yaml": Case(
        "authority.reviewers: Input should be less than or equal to 100000 (got 1000000000000)",
        "absurd_reviewers.yaml:3:14",
    ),
    "absurd_horizon.yaml": Case(
        "end: horizon of 2912808 days exceeds the limit of 36600 days (got 9999-12-31)",
        "absurd_horizon.yaml:3:6",
    ),
    "absurd_rate.yaml": Case(
        "authority.background[0].rate_per_wd: exceeds the limit of 100000 applications per "
        "working day (Limits.MAX_RATE_PER_WD)",
        "absurd_rate.yaml:4:55",
    ),
    "absurd_reps.yaml": Case(
        "reps: Input should be less than or equal to 1000000 (got 1000000000000)",
        "absurd_reps.yaml:2:7",
    ),
    "absurd_duration.yaml": Case(
        "authority.statutory_limit_wd: exceeds the limit of 36,600 working days for any "
        "duration (Limits.MAX_DURATION_DAYS",
        "absurd_duration.yaml:3:23",
    ),
    "numeric_extremes.yaml": Case(
        "authority.review_work_wd.sd: sd / mean (coefficient of variation) is 2.5e-301; a "
        "gamma needs it between 1e-06 and 1000 (got 1e-300)",
        "numeric_extremes.yaml:4:46",
    ),
    "non_finite.yaml": Case(
        "manufacturers[0].units_per_day: must be a finite number (not .inf or .nan) (got .inf)",
        "non_finite.yaml:6:20",
    ),
}


# ------------------------------------------------------------------------------ running


@dataclass
class Result:
    """A finished CLI subprocess."""

    rc: int
    out: str
    err: str
    seconds: float
    maxrss_mb: float

    @property
    def text(self) -> str:
        return self.out + self.err


def _limit_memory() -> None:  # runs in the child between fork and exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def relsim(*args: str, timeout: float = 60, env: dict[str, str] | None = None) -> Result:
    """Run ``python -m simulator ARGS`` in ROOT under the memory limit.

    The command runs as the grandchild of a small Python process that reaps it with
    ``os.wait4`` and reports its peak RSS: on Linux a child's ``ru_maxrss`` includes the
    RSS of the process it was forked from (the high-water mark survives ``exec``), so
    forking relsim straight from pytest (hundreds of MB late in the suite) would charge
    pytest's memory to it.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", _PEAK, *args],
            cwd=ROOT,
            stdout=out,
            stderr=err,
            env={**os.environ, "MPLBACKEND": "Agg", **(env or {})},
            preexec_fn=_limit_memory,
            start_new_session=True,
        )
        timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
        text, _, peak = text.rpartition("\n__MAXRSS_KB__ ")
        return Result(
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            text,
            seconds,
            int(peak) / 1024 if peak.strip().isdigit() else usage.ru_maxrss / 1024,
        )


_PEAK = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, "-m", "simulator", *sys.argv[1:]])
_, status, usage = os.wait4(pid, 0)
sys.stderr.write(f"\\n__MAXRSS_KB__ {usage.ru_maxrss}")
sys.exit(os.waitstatus_to_exitcode(status))
"""
"""Runs ``python -m simulator ARGS`` as a child and reports its own peak RSS, KiB."""


def assert_refused(r: Result, where: str, message: str) -> None:
    """Exit 2, the located message on stderr, no traceback, bounded time and memory."""
    assert r.rc == 2, f"exit {r.rc}\n{r.text}"
    assert "Traceback" not in r.text, r.text
    lines = [line for line in r.err.splitlines() if line.startswith(f"{where}: ")]
    assert any(message in line for line in lines), (
        f"no line starting with {where!r} containing {message!r}:\n{r.err}"
    )
    assert r.seconds < MAX_SECONDS, f"took {r.seconds:.1f} s"
    assert r.maxrss_mb < MAX_RSS_MB, f"peak RSS {r.maxrss_mb:.0f} MB"


@pytest.fixture(scope="module")
def validated() -> dict[str, Result]:
    """``relsim validate`` of every corpus case, run in parallel (each is mostly import)."""
    with ThreadPoolExecutor(max_workers=max(2, (os.cpu_count() or 2))) as pool:
        futures = {name: pool.submit(relsim, "validate", str(CORPUS / name)) for name in CASES}
        return {name: f.result() for name, f in futures.items()}


# ------------------------------------------------------------------------------ the corpus


def test_every_corpus_file_has_an_expectation() -> None:
    files = {p.name for p in (ROOT / CORPUS).glob("*.yaml")} - {BASE_VALID.name}
    assert files == set(CASES), "add the new file to CASES (or remove the stale entry)"


@pytest.mark.parametrize("name", sorted(CASES))
def test_validate_refuses_with_a_located_message(name: str, validated: dict[str, Result]) -> None:
    case = CASES[name]
    assert_refused(validated[name], str(CORPUS / case.where), case.message)
    assert validated[name].err.rstrip().endswith("1 of 1 file is invalid")


def test_validating_the_whole_corpus_at_once_reports_each_file() -> None:
    files = [str(CORPUS / name) for name in sorted(CASES)]
    r = relsim("validate", *files, str(BASE_VALID))
    assert r.rc == 2 and "Traceback" not in r.text
    assert f"{len(files)} of {len(files) + 1} files are invalid" in r.err
    assert r.out.startswith(f"ok  {BASE_VALID}  (base-valid: ")  # the base is valid
    for name in CASES:
        assert f"{CORPUS / CASES[name].where}: " in r.err, name


@pytest.mark.parametrize("name", ["alias_bomb.yaml", "supply_cycle.yaml"])
def test_run_refuses_bad_input_before_writing_anything(name: str, tmp_path: Path) -> None:
    out = tmp_path / "run"
    case = CASES[name]
    r = relsim("run", str(CORPUS / name), "--reps", "2", "--workers", "1", "--out", str(out))
    assert_refused(r, str(CORPUS / case.where), case.message)
    assert list(tmp_path.iterdir()) == []  # no run directory, no temporary sibling


def test_python_tags_are_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    bad = tmp_path / "tag.yaml"
    bad.write_text(f'name: !!python/object/apply:os.system ["touch {marker}"]\n')
    r = relsim("validate", str(bad))
    assert_refused(r, f"{bad}:1:7", "tag !!python/object/apply:os.system is not allowed")
    assert not marker.exists()


# ------------------------------------------------------------------------------ bounded cost


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _refusal_seconds(path: Path | str) -> float:
    def load() -> None:
        with pytest.raises(ScenarioError):
            simulator.load_scenario(path)

    load()  # warm up (lazy imports), then take the best of three
    return min(_timed(load) for _ in range(3))


def test_alias_bomb_is_refused_in_well_under_a_second() -> None:
    seconds = _refusal_seconds(ROOT / CORPUS / "alias_bomb.yaml")
    assert seconds < 1.0, f"alias bomb took {seconds:.3f} s"
    r = relsim("validate", str(CORPUS / "alias_bomb.yaml"))
    case = CASES["alias_bomb.yaml"]
    assert_refused(r, str(CORPUS / case.where), case.message)
    assert r.seconds < 15, f"subprocess took {r.seconds:.1f} s"


def test_50_mb_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    line = b"- {id: c, name: padding padding padding padding padding padding padding}\n"
    with big.open("wb") as fh:
        fh.write(b"name: big\ncountries:\n")
        fh.write(line * (50 * 2**20 // len(line) + 1))
    assert big.stat().st_size > 50 * 2**20
    seconds = _refusal_seconds(big)
    assert seconds < 0.1, f"50 MB file took {seconds:.3f} s"
    r = relsim("validate", str(big))
    assert_refused(r, str(big), "; the limit is 5,000,000 bytes")
    assert "file is 52,4" in r.err


def test_five_megabytes_of_tiny_nodes_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    """2.4 million numbers fit under the size limit; composing them once took ~40 s and
    ~900 MB. They are now refused while parsing, at the node limit."""
    flat = tmp_path / "flat.yaml"
    flat.write_text("name: flat\ndescription: [" + "1," * 2_400_000 + "1]\n")
    assert flat.stat().st_size < 5_000_000
    r = relsim("validate", str(flat))
    assert_refused(r, f"{flat}:2:400005", "document is too large: more than 200,000 YAML nodes")
    assert r.maxrss_mb < 300, f"peak RSS {r.maxrss_mb:.0f} MB"


def test_generated_cases(tmp_path: Path) -> None:
    """Small generated cases, validated together by one subprocess (each file's problems
    are located in that file)."""
    bigint = tmp_path / "bigint.yaml"
    bigint.write_text("name: x\nseed: " + "9" * 1_000_000 + "\n")
    flood = tmp_path / "keys.yaml"
    flood.write_text("name: flood\n" + "".join(f"key{i}: 1\n" for i in range(20_000)))
    nul = tmp_path / "nul.yaml"
    nul.write_bytes(b"name: a\x00b\nstart: 2025-01-01\n")
    many = tmp_path / "countries.yaml"
    rows = "".join(f"  - {{id: c{i}}}\n" for i in range(10_001))
    many.write_text(f"extends: {(ROOT / BASE_VALID).resolve()}\ncountries:\n{rows}")
    missing, directory = tmp_path / "nope.yaml", tmp_path / "a-directory"
    directory.mkdir()
    files = [bigint, flood, nul, many, missing, directory]
    r = relsim("validate", *map(str, files), "--allow-path", str(ROOT / CORPUS))
    assert r.rc == 2 and "Traceback" not in r.text, r.text
    assert f"{len(files)} of {len(files)} files are invalid" in r.err
    expected = [
        (f"{bigint}:2:7", "seed: cannot read '9999999999999999999999999999999999999...' as !!int"),
        (f"{flood}:1:1", "required field 'start' is missing"),
        (f"{flood}", "more problem(s) not shown (at most 100 are reported at once)"),
        (f"{nul}:1:8", "character #x0000 is not allowed in YAML"),
        # named items merge onto the base's 3 countries
        (
            f"{many}:3:3",
            "countries: at most 10000 entries allowed (Limits.MAX_ENTITIES) (got 10004)",
        ),
        (f"{missing}", "file not found"),
        (f"{directory}", "is a directory, not a YAML file"),
    ]
    for where, message in expected:
        assert any(
            line.startswith(f"{where}: ") and message in line for line in r.err.splitlines()
        ), (where, message, r.err[-3000:])
    assert len(r.err) < 50_000  # a 1 MB number and 20,000 unknown keys stay brief
    assert r.seconds < MAX_SECONDS and r.maxrss_mb < MAX_RSS_MB


def test_bad_set_option_is_located_at_the_option() -> None:
    r = relsim("validate", str(BASE_VALID), "--set", "authority.reviewers=1e12")
    assert_refused(
        r,
        "--set authority.reviewers=1000000000000.0",
        "authority.reviewers: Input should be less than or equal to 100000",
    )
