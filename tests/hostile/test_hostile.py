"""The hostile corpus (``cases.toml``), replayed: every case is a clear error (exit 1 or
2, the expected message, no traceback) or a sensible acceptance (exit 0), and none is an
internal error, a hang, a wrong result, lost data or a leak.

Each table case runs in a fresh world under ``tmp_path``::

    project/   a copy of tests/hostile/project/ (placeholders filled in), the cwd
    home/      credentials-like files outside the project (AWS, SSH, Docker, GCP,
               kubeconfig, compose, .env, .netrc), each holding a RELSIM-SECRET marker
    tmp/       scratch: outputs, named pipes, run directories made by setups

and is judged on:

* **leak**: a RELSIM-SECRET marker, or a raw control character (an escape sequence,
  a carriage return, a bidirectional override) in stdout or stderr;
* **internal error**: exit 70, a traceback or "internal error";
* **hang**: no exit within the case's timeout (60 s unless stated);
* **unbounded**: killed by a signal (the out-of-memory killer);
* **data lost**: a ``kept`` check (every file present before is still there, byte for
  byte), a device still a device, a symbolic link still a link;
* **wrong result**: a run directory whose KPIs are not finite or whose fill rates leave
  [0, 1], or the wrong seed;
* otherwise the exit code and message substrings decide: **clear error** or
  **sensible acceptance**, or a mismatch.

Most cases run in this process through :func:`simulator.cli.main` (the same code as the
console script, without the interpreter start-up); ``process = true`` cases, the
concurrency and the signal cases run real subprocesses. The last test prints the
counts (``pytest tests/hostile -q -s``).
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from simulator import cli

pytestmark = pytest.mark.slow  # every case runs relsim in a subprocess

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CASES: list[dict[str, Any]] = tomllib.loads((HERE / "cases.toml").read_text("utf-8"))["case"]
TABLE = [c for c in CASES if "special" not in c]
SPECIAL = {c["special"]: c for c in CASES if "special" in c}
SECRET = "RELSIM-SECRET"
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
GOOD = ("clear error", "sensible acceptance")
OUTCOMES: dict[str, str] = {}
"""Case id -> outcome, filled as the cases run; counted by the last test."""

CREDENTIALS = {
    ".aws/credentials": "[default]\naws_access_key_id = AKIA-RELSIM-SECRET-aws\n"
    "aws_secret_access_key = RELSIM-SECRET-aws-key\n",
    ".ssh/id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA"
    "RELSIM-SECRET-ssh\n-----END OPENSSH PRIVATE KEY-----\n",
    ".docker/config.json": '{"auths": {"https://index.docker.io/v1/": '
    '{"auth": "RELSIM-SECRET-docker"}}}\n',
    "gcp.json": '{"type": "service_account", "project_id": "p", "private_key_id": '
    '"RELSIM-SECRET-gcp-id", "private_key": "-----BEGIN PRIVATE KEY-----\\n'
    'RELSIM-SECRET-gcp\\n", "client_email": "ci@p.iam.gserviceaccount.com"}\n',
    ".kube/config": "apiVersion: v1\nclusters: [{name: c, cluster: {server: 'https://k'}}]\n"
    "contexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\nkind: Config\n"
    "preferences: {}\nusers: [{name: u, user: {token: RELSIM-SECRET-kube}}]\n",
    "compose.yaml": "name: RELSIM-SECRET-compose\nservices:\n  db:\n    environment:\n"
    "      POSTGRES_PASSWORD: RELSIM-SECRET-postgres\n",
    ".env": "GITHUB_TOKEN=ghp_RELSIM-SECRET-env\nAWS_SECRET=RELSIM-SECRET-env2\n",
    ".netrc": "machine github.com login ci password RELSIM-SECRET-netrc\n",
}
LINKS = {  # inside the project -> outside it
    "link-aws.yaml": ".aws/credentials",
    "top-aws.yaml": ".aws/credentials",
    "top-kube.yaml": ".kube/config",
    "top-gcp.yaml": "gcp.json",
    "top-docker.yaml": ".docker/config.json",
    "top-compose.yaml": "compose.yaml",
    "top-env.yaml": ".env",
    "top-pem.yaml": ".ssh/id_rsa",
    "top-netrc.yaml": ".netrc",
    "data/link.csv": ".aws/credentials",
}
QUICK = ["--reps", "2", "--workers", "1", "--no-figures", "--quiet"]


# ------------------------------------------------------------------------------ worlds
def devices(folder: Path) -> tuple[Path, Path]:
    """Character devices the cases write to: private nodes of /dev/null and /dev/full
    in ``folder`` when we may make them (as root — where a regression that replaced the
    device with a regular file would break the machine's real /dev/null), else the
    real ones (which a user without root cannot replace)."""
    folder.mkdir(exist_ok=True)
    made = []
    for name, minor in (("null", 3), ("full", 7)):
        node = folder / name
        try:
            os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, minor))
            made.append(node)
        except (OSError, AttributeError):
            made.append(Path("/dev") / name)
    return made[0], made[1]


@dataclass
class World:
    """The folders of one case."""

    project: Path
    home: Path
    tmp: Path
    null: Path = Path("/dev/null")
    full: Path = Path("/dev/full")

    def fill(self, text: str) -> str:
        return (
            text.replace("@PROJECT@", str(self.project))
            .replace("@HOME@", str(self.home))
            .replace("@TMP@", str(self.tmp))
            .replace("@NULL@", str(self.null))
            .replace("@FULL@", str(self.full))
        )


def make_world(base: Path) -> World:
    w = World(base / "project", base / "home", base / "tmp", *devices(base / "dev"))
    shutil.copytree(HERE / "project", w.project)
    for f in w.project.rglob("*.yaml"):
        f.write_text(w.fill(f.read_text("utf-8")), "utf-8")
    for rel, text in CREDENTIALS.items():
        (w.home / rel).parent.mkdir(parents=True, exist_ok=True)
        (w.home / rel).write_text(text)
    (w.home / "shared").mkdir()
    shutil.copy(w.project / "base.yaml", w.home / "shared" / "base.yaml")
    w.tmp.mkdir()
    return w


def _in_process(args: list[str], cwd: Path) -> int:
    """``relsim ARGS`` through :func:`simulator.cli.main`, its signal handlers restored."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return cli.main(list(args))
    finally:
        os.chdir(old)
        for s, h in saved.items():
            signal.signal(s, h)


@pytest.fixture(scope="module")
def valid_baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A baseline of project/base.yaml made once by ``relsim regress --update``."""
    w = make_world(tmp_path_factory.mktemp("baseline"))
    code = _in_process(
        ["regress", str(w.project / "base.yaml"), "--baselines", str(w.tmp / "b"), "--update"],
        w.project,
    )
    assert code == 0
    return w.tmp / "b" / "base.json"


@dataclass
class Made:
    """What setups copy from, made once per module: a baseline, a run directory, an
    interrupted sweep's unfinished points, a warm compiled-code cache (each made on first
    use)."""

    factory: pytest.TempPathFactory
    baseline: Path
    _made: dict[str, Path] = field(default_factory=dict)

    def get(self, what: str) -> Path:
        if what not in self._made:
            self._made[what] = MAKERS[what](self.factory.mktemp(what))
        return self._made[what]


def _make_run(base: Path) -> Path:
    """A run directory of project/base.yaml (figures, report, workbook)."""
    w = make_world(base)
    out = base / "run"
    args = ["run", str(w.project / "base.yaml"), "--reps", "2", "--workers", "1", "--quiet"]
    assert _in_process([*args, "--xlsx", "--out", str(out)], w.project) == 0
    return out


SWEEP = ["--param", "authority.reviewers=2:5:4", "--reps", "2", "--workers", "1"]
"""The sweep whose unfinished points the ``sweep-partial:`` setups craft (the cases run it
again: ``sweep @PROJECT@/base.yaml`` + these + ``--no-figures --quiet --out @TMP@/sw``)."""


def _make_partial(base: Path) -> Path:
    """``sw.partial`` of the sweep above, interrupted after two of its four points."""
    from simulator.explore.sweep import sweep

    w = make_world(base)

    def stop(done: int, total: int) -> None:
        if done >= 2:
            raise KeyboardInterrupt

    old = Path.cwd()
    os.chdir(w.project)
    try:
        sweep(
            w.project / "base.yaml",
            ["authority.reviewers=2:5:4"],
            reps=2,
            workers=1,
            out=base / "sw",
            progress=stop,
            figures=False,
        )
    except KeyboardInterrupt:
        pass
    finally:
        os.chdir(old)
    partial = base / "sw.partial"
    assert len(list((partial / "points").iterdir())) == 2
    return partial


def _env_without_numba_dir() -> dict[str, str]:
    """This process's environment for a relsim subprocess, without the NUMBA_CACHE_DIR
    that importing relsim here set (it would win over a case's RELSIM_CACHE_DIR)."""
    return {**{k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}, "MPLBACKEND": "Agg"}


def _make_cache(base: Path) -> Path:
    """A warm compiled-code cache of the functions the SimPy engine calls (a run with
    RELSIM_CACHE_DIR set, in a fresh interpreter)."""
    w = make_world(base)
    args = ["run", str(w.project / "base.yaml"), "--engine", "simpy", *QUICK, "--out"]
    r = subprocess.run(
        [sys.executable, "-m", "simulator", *args, str(base / "out")],
        cwd=w.project,
        capture_output=True,
        text=True,
        env={**_env_without_numba_dir(), "RELSIM_CACHE_DIR": str(base / "cache")},
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert list((base / "cache" / "numba").rglob("*.nbi")), "nothing was cached"
    return base / "cache"


MAKERS: dict[str, Callable[[Path], Path]] = {
    "run": _make_run,
    "partial": _make_partial,
    "cache": _make_cache,
}


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory, valid_baseline: Path) -> Made:
    return Made(tmp_path_factory, valid_baseline)


def _run_dir_variant(src: Path, d: Path, variant: str, w: World) -> None:
    """A copy of a run directory at ``d``, crafted as ``variant`` names."""
    shutil.copytree(src, d, symlinks=True)

    def edit(rel: str, fn: Callable[[Any], Any]) -> None:
        data = json.loads((d / rel).read_text())
        fn(data)
        (d / rel).write_text(json.dumps(data))

    def replace(rel: str, content: bytes) -> None:
        (d / rel).unlink()
        (d / rel).write_bytes(content)

    def link(rel: str, target: Path | str) -> None:
        (d / rel).unlink()
        (d / rel).symlink_to(target)

    def a_manufacturer(data: dict[str, Any]) -> dict[str, Any]:
        return next(k for k in data["kpis"].values() if "first_shortage_date" in k)

    kpi_csv = d / "kpi_table.csv"
    edits: dict[str, Callable[[], Any]] = {
        "manifest-reps-text": lambda: edit("manifest.json", lambda m: m.update(reps="many")),
        "manifest-reps-huge": lambda: edit("manifest.json", lambda m: m.update(reps=10**40)),
        "manifest-other-tool": lambda: edit("manifest.json", lambda m: m.update(tool="x")),
        "manifest-not-utf8": lambda: replace("manifest.json", b'{"tool": "relsim\xff\xfe"}'),
        "manifest-deep": lambda: replace("manifest.json", b"[" * 100_000 + b"]" * 100_000),
        "summary-no-kpis": lambda: edit("summary.json", lambda x: x.pop("kpis")),
        "summary-mean-text": lambda: edit(
            "summary.json", lambda x: a_manufacturer(x)["fill_rate"].update(mean="lots")
        ),
        "summary-nan": lambda: replace(
            "summary.json", b'{"kpis": {"m1": {"fill_rate": {"mean": NaN}}}}'
        ),
        "summary-date-garbage": lambda: edit(
            "summary.json",
            lambda x: a_manufacturer(x)["first_shortage_date"].update(mean="2025-13-45"),
        ),
        "summary-long-number": lambda: replace(
            "summary.json", b'{"kpis": {"m1": {"x": {"mean": ' + b"9" * 5000 + b"}}}}"
        ),
        "summary-devzero": lambda: link("summary.json", "/dev/zero"),
        "summary-huge": lambda: os.truncate(d / "summary.json", 60_000_000),  # sparse
        "notes-sections": lambda: edit("scenario.notes.json", lambda n: n.update(sections=7)),
        "kpi-table-no-dates": lambda: kpi_csv.write_text(
            "\n".join(
                ",".join(c for i, c in enumerate(line.split(",")) if i != 5)
                for line in kpi_csv.read_text().splitlines()
            )
        ),
        "kpi-table-text": lambda: kpi_csv.write_text(
            kpi_csv.read_text().replace(",1.0,", ",RELSIM-SECRET,", 1)
        ),
        "regimes-bad-date": lambda: (d / "regimes.csv").write_text(
            "start,end,regime,label\nnot-a-date,2025-01-02,neutral,neutral\n"
        ),
        "figure-link-secret": lambda: link("figures/p_shortage.png", w.home / ".aws/credentials"),
        "figure-not-png": lambda: replace(
            "figures/p_shortage.png", b"<html>RELSIM-SECRET-figure</html>"
        ),
        "figure-fifo": lambda: (
            (d / "figures/p_shortage.png").unlink(),
            os.mkfifo(d / "figures/p_shortage.png"),
        ),
        "figures-dir-link": lambda: (
            shutil.rmtree(d / "figures"),
            (d / "figures").symlink_to(w.home / ".ssh"),
        ),
        "report-link-out": lambda: link("report.html", w.home / ".netrc"),
        "resolved-link-secret": lambda: link("scenario.resolved.yaml", w.home / ".kube/config"),
        "resolved-invalid": lambda: replace(
            "scenario.resolved.yaml", b"name: x\nstart: 2025-01-01\n"
        ),
        "escape-name": lambda: None,
        "ok": lambda: None,
    }
    edits[variant]()


def _partial_variant(src: Path, d: Path, variant: str, w: World) -> None:
    """A copy of an interrupted sweep's unfinished points at ``d``, crafted."""
    shutil.copytree(src, d, symlinks=True)
    p0 = d / "points" / "p000000.json"

    def edit(fn: Callable[[dict[str, Any]], Any]) -> None:
        rec = json.loads(p0.read_text())
        fn(rec)
        p0.write_text(json.dumps(rec))

    def first_stat(rec: dict[str, Any]) -> dict[str, Any]:
        return next(iter(next(iter(rec["kpis"].values())).values()))

    edits: dict[str, Callable[[], Any]] = {
        "no-kpis": lambda: edit(lambda r: r.pop("kpis")),
        "text-mean": lambda: edit(lambda r: first_stat(r).update(mean="RELSIM-SECRET")),
        "nan": lambda: p0.write_text(p0.read_text().replace('"n":', '"x": NaN, "n":', 1)),
        "wrong-point": lambda: edit(lambda r: r.update(point=3)),
        "wrong-values": lambda: edit(lambda r: r["values"].update({"authority.reviewers": 99})),
        "elapsed-text": lambda: edit(lambda r: r.update(elapsed_s="slow")),
        "link-secret": lambda: (p0.unlink(), p0.symlink_to(w.home / "gcp.json")),
        "devzero": lambda: (p0.unlink(), p0.symlink_to("/dev/zero")),
        "huge": lambda: os.truncate(p0, 60_000_000),
        "deep": lambda: p0.write_bytes(b"[" * 100_000 + b"]" * 100_000),
        "manifest-link": lambda: (
            (d / "manifest.json").unlink(),
            (d / "manifest.json").symlink_to(w.home / ".docker/config.json"),
        ),
    }
    edits[variant]()


def _cache_variant(src: Path, d: Path, variant: str, w: World) -> None:
    """A copy of a warm compiled-code cache at ``d`` (the cases' RELSIM_CACHE_DIR),
    crafted."""
    import pickle

    shutil.copytree(src, d, symlinks=True)
    numba_dir = d / "numba"
    index = sorted(numba_dir.rglob("*.nbi"))
    data = sorted(numba_dir.rglob("*.nbc"))
    pwned = w.tmp / "pwned"

    class Plant:
        def __reduce__(self) -> tuple[Any, ...]:
            return (os.system, (f"touch {pwned}",))

    def plant() -> None:
        import numba

        for f in index:
            f.write_bytes(pickle.dumps(numba.__version__) + pickle.dumps(Plant()))
            try:  # planted by another user (as root); else writable by the group
                os.chown(f, 4321, 4321)
            except PermissionError:
                f.chmod(0o664)

    def foreign() -> None:
        try:
            os.chown(numba_dir, 4321, 4321)
        except PermissionError:  # not root: a directory others can write is refused too
            numba_dir.chmod(0o777)

    edits: dict[str, Callable[[], Any]] = {
        "truncated": lambda: [f.write_bytes(f.read_bytes()[:50]) for f in data],
        "garbage": lambda: [f.write_bytes(os.urandom(2000)) for f in index],
        "emptied": lambda: [f.write_bytes(b"") for f in index + data],
        "devzero": lambda: [(f.unlink(), f.symlink_to("/dev/zero")) for f in data],
        "planted": plant,
        "world-writable": lambda: numba_dir.chmod(0o777),
        "parent-writable": lambda: d.chmod(0o777),
        "foreign": foreign,
    }
    edits[variant]()


def _baseline_variant(valid: Path, target: Path, variant: str, w: World) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if variant == "devzero":
        target.symlink_to("/dev/zero")
        return
    if variant == "secret":
        target.symlink_to(w.home / "gcp.json")
        return
    text = valid.read_text()
    data = json.loads(text)
    stat_ = data["kpis"]["m1"]["fill_rate"]
    edits: dict[str, Callable[[], None]] = {
        "nan-mean": lambda: stat_.update(mean=math.nan),
        "inf-se": lambda: stat_.update(se=math.inf),
        "null-mean": lambda: stat_.update(mean=None),
        "no-se": lambda: stat_.pop("se"),
        "negative-n": lambda: stat_.update(n=-1),
        "reps-string": lambda: data.update(reps="many"),
        "reps-huge": lambda: data.update(reps=10**12),
        "seed-negative": lambda: data.update(seed=-1),
        "alpha": lambda: data["tolerance"].update(alpha=5),
    }
    if variant in edits:
        edits[variant]()
        target.write_text(json.dumps(data))  # NaN / Infinity as Python writes them
    elif variant == "huge-mean":
        target.write_text(json.dumps(data).replace('"mean": ', '"mean": 1e400, "x": ', 1))
    elif variant == "long-number":
        target.write_text(json.dumps(data).replace('"seed": ', '"seed": ' + "9" * 5000 + ", "))
    elif variant == "deep":
        target.write_text("[" * 100_000 + "]" * 100_000)
    else:
        raise AssertionError(f"unknown baseline variant {variant}")


def setup(name: str, w: World, made: Made) -> None:
    """Prepare what a case needs (the names in cases.toml's ``setup``)."""
    valid_baseline = made.baseline
    if name.startswith("rundir:"):
        variant = name[7:]
        d = w.tmp / ("r\x1b[2Jun" if variant == "escape-name" else "rd")
        _run_dir_variant(made.get("run"), d, variant, w)
    elif name.startswith("sweep-partial:"):
        _partial_variant(made.get("partial"), w.tmp / "sw.partial", name[14:], w)
    elif name.startswith("cache:"):
        _cache_variant(made.get("cache"), w.tmp / "cache", name[6:], w)
    elif name == "escape-scenario":
        shutil.copy(w.project / "base.yaml", w.project / "esc\x1b[31m.yaml")
    elif name == "links":
        for rel, target in LINKS.items():
            (w.project / rel).symlink_to(w.home / target)
    elif name == "fifos":
        for p in (w.tmp / "fifo", w.project / "pipe.yaml", w.project / "data" / "pipe.csv"):
            os.mkfifo(p)
    elif name == "chain":
        for k in range(1, 21):
            parent = "base.yaml" if k == 1 else f"chain-{k - 1:02d}.yaml"
            (w.project / f"chain-{k:02d}.yaml").write_text(f"extends: {parent}\nname: c{k}\n")
    elif name == "escape-name":
        (w.project / "esc\x1b[31m.yaml").write_text("name: [unclosed\n")
    elif name == "user-dir":
        mine = w.tmp / "mine"
        (mine / "sub").mkdir(parents=True)
        (mine / "a.txt").write_text("my notes")
        (mine / "sub" / "b.csv").write_text("1,2\n")
        (mine / ".hidden").write_text("x")
        (w.tmp / "file.txt").write_text("a file")
        (w.tmp / "other-tool").mkdir()
        (w.tmp / "other-tool" / "manifest.json").write_text('{"tool": "other"}')
        (w.tmp / "other-tool" / "data.bin").write_bytes(b"\x00\x01")
        (w.tmp / "garbage").mkdir()
        (w.tmp / "garbage" / "manifest.json").write_text("not json")
    elif name == "user-partial":  # a folder named like a sweep's unfinished points
        (w.tmp / "sw.partial" / "points").mkdir(parents=True)
        (w.tmp / "sw.partial" / "notes.txt").write_text("my notes")
        (w.tmp / "sw.partial" / "manifest.json").write_text('{"tool": "relsim", "command": "run"}')
    elif name == "run-dir":
        args = ["run", str(w.project / "base.yaml"), *QUICK, "--out", str(w.tmp / "real-run")]
        assert _in_process(args, w.project) == 0
        (w.tmp / "link-run").symlink_to(w.tmp / "real-run")
    elif name == "compare-dir":
        base = str(w.project / "base.yaml")
        args = ["compare", base, base, "--reps", "2", "--workers", "1", "--quiet"]
        assert _in_process([*args, "--out", str(w.tmp / "real-compare")], w.project) == 0
    elif name == "out-links":
        (w.tmp / "real-schema.json").write_text("old")
        (w.tmp / "schema-link.json").symlink_to(w.tmp / "real-schema.json")
        (w.tmp / "real-report.md").write_text("old")
        (w.tmp / "report-link.md").symlink_to(w.tmp / "real-report.md")
    elif name == "baseline":
        (w.tmp / "baselines").mkdir()
        shutil.copy(valid_baseline, w.tmp / "baselines" / "base.json")
    elif name.startswith("baseline:"):
        _baseline_variant(valid_baseline, w.tmp / "baselines" / "base.json", name[9:], w)
    else:
        raise AssertionError(f"unknown setup {name}")


def snapshot(*roots: Path) -> dict[str, Any]:
    """Every entry under ``roots``: file bytes, link targets, other kinds by name
    (named pipes are never opened)."""
    out: dict[str, Any] = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                p = Path(dirpath) / name
                if p.is_symlink():
                    out[str(p)] = ("link", os.readlink(p))
                elif p.is_file():
                    out[str(p)] = ("file", p.read_bytes())
                else:
                    out[str(p)] = ("dir" if p.is_dir() else "other", None)
    return out


# ------------------------------------------------------------------------------ running
@dataclass
class Result:
    """A finished (or timed-out) command."""

    code: int | None
    out: str
    err: str
    hang: bool = False


class _Hang(BaseException):
    """Raised by the alarm of an in-process case that did not finish in time."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Hang


def run_case(case: dict[str, Any], w: World, capsys: pytest.CaptureFixture[str]) -> Result:
    args = [w.fill(a) for a in case["args"]]
    env = {k: w.fill(v) for k, v in case.get("env", {}).items()}
    fsize = env.pop("RELSIM_TEST_FSIZE", None)
    timeout = case.get("timeout", 60)
    if case.get("process"):

        def limits() -> None:
            if fsize is not None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (int(fsize), int(fsize)))

        try:
            r = subprocess.run(
                [sys.executable, "-m", "simulator", *args],
                cwd=w.project,
                capture_output=True,
                timeout=timeout,
                env={**_env_without_numba_dir(), **env},
                preexec_fn=limits,
            )
        except subprocess.TimeoutExpired as e:
            return Result(None, _text(e.stdout), _text(e.stderr), hang=True)
        return Result(r.returncode, _text(r.stdout), _text(r.stderr))
    saved_env = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(timeout)
    try:
        code: int | None = _in_process(args, w.project)
        hang = False
    except _Hang:
        code, hang = None, True
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err, hang=hang)


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data


def _squash(text: str) -> str:
    """Text without whitespace: stdout is wrapped at 120 columns, and the paths of
    ``tmp_path`` are long."""
    return re.sub(r"\s+", "", text)


# ------------------------------------------------------------------------------ judging
def _summary_sane(run_dir: Path) -> list[str]:
    """Problems with a run directory's KPIs: non-finite values, fill rates out of [0, 1]."""
    problems = []
    if not (run_dir / "summary.json").is_file():
        return [f"{run_dir}/summary.json was not written"]
    summary = json.loads((run_dir / "summary.json").read_text())
    for entity, kpis in summary["kpis"].items():
        for kpi, stats in kpis.items():
            for key, value in stats.items():
                if isinstance(value, float) and not math.isfinite(value):
                    problems.append(f"{entity}.{kpi}.{key} = {value}")
            mean = stats.get("mean")
            if kpi in ("fill_rate", "approval_rate") and mean is not None and not 0 <= mean <= 1:
                problems.append(f"{entity}.{kpi} = {mean}")
    return problems


def check(spec: str, w: World, result: Result, before: dict[str, Any]) -> tuple[str, str] | None:
    """Run one named check; return (kind of failure, detail) or None."""
    kind, _, arg = spec.partition(":")
    arg = w.fill(arg)
    if kind == "kept":
        after = snapshot(w.project, w.tmp)
        lost = [p for p, v in before.items() if after.get(p) != v]
        return ("data lost", f"changed or gone: {lost[:5]}") if lost else None
    if kind == "absent":
        return ("wrong result", f"{arg} exists") if os.path.lexists(arg) else None
    if kind == "no-temporaries":
        left = [p.name for p in Path(arg).iterdir() if ".tmp-" in p.name or ".old-" in p.name]
        return ("data lost", f"left behind: {left}") if left else None
    if kind == "sane":
        bad = _summary_sane(Path(arg))
        return ("wrong result", "; ".join(bad)) if bad else None
    if kind == "seed":
        path, _, seed = arg.rpartition(":")
        got = json.loads((Path(path) / "manifest.json").read_text())["seed"]
        return None if got == int(seed) else ("wrong result", f"seed {got}, not {seed}")
    if kind == "manifest":
        from simulator.report.atomic import is_relsim_output

        return None if is_relsim_output(Path(arg)) else ("wrong result", f"{arg}: no manifest")
    if kind == "chardev":
        ok = stat.S_ISCHR(os.stat(arg).st_mode)
        return None if ok else ("data lost", f"{arg} is no longer a character device")
    if kind == "symlink":
        return None if Path(arg).is_symlink() else ("data lost", f"{arg} is no longer a link")
    if kind == "nonempty":
        p = Path(arg)
        ok = p.is_file() and p.stat().st_size > 0 and p.read_bytes() != b"old"
        return None if ok else ("wrong result", f"{arg} not written")
    if kind == "no-text":
        return ("wrong result", f"{arg!r} printed") if arg in result.out else None
    if kind == "home-kept":  # every credentials-like file outside the project, as written
        changed = [r for r, text in CREDENTIALS.items() if (w.home / r).read_text() != text]
        return ("data lost", f"changed: {changed}") if changed else None
    if kind == "no-secret-in":  # an output file holds no secret marker, not even base64
        p = Path(arg)
        data = p.read_bytes() if p.is_file() and not p.is_symlink() else b""
        chunks = [
            data,
            *(base64.b64decode(m) for m in re.findall(rb"base64,([A-Za-z0-9+/=]+)", data)),
        ]
        leaked = any(SECRET.encode() in c for c in chunks)
        return ("leak", f"{arg} holds a secret marker") if leaked else None
    if kind == "kept-but":  # every file kept, but ARG (checked by "unchanged")
        after = snapshot(w.project, w.tmp)
        lost = [p for p, v in before.items() if p != arg and after.get(p) != v]
        return ("data lost", f"changed or gone: {lost[:5]}") if lost else None
    if kind == "unchanged":  # ARG as it was: a page rendered from crafted files is wrong
        after = snapshot(w.project, w.tmp)
        changed = after.get(arg) != before.get(arg)
        return ("wrong result", f"{arg} was rewritten from crafted input") if changed else None
    if kind == "xlsx-text":  # no cell of the workbook is a formula
        import openpyxl

        wb = openpyxl.load_workbook(arg)
        bad = [
            f"{ws.title}!{c.coordinate}"
            for ws in wb.worksheets
            for row in ws.iter_rows()
            for c in row
            if c.data_type == "f"
            or (isinstance(c.value, str) and c.value[:1] in "=+-@\t\r" and not c.quotePrefix)
        ]
        return ("wrong result", f"formula cells: {bad[:5]}") if bad else None
    if kind == "csv-safe":  # no CSV cell a spreadsheet would run as a formula
        bad = []
        for f in Path(arg).rglob("*.csv"):
            for n, line in enumerate(f.read_text("utf-8").splitlines(), 1):
                cells = next(iter(__import__("csv").reader([line])), [])
                bad += [f"{f.name}:{n}" for c in cells if c[:1] in ("=", "@", "\t", "\r")]
                bad += [f"{f.name}:{n}" for c in cells if c[:1] in ("+", "-") and not _number(c)]
        return ("wrong result", f"formula-like cells: {bad[:5]}") if bad else None
    raise AssertionError(f"unknown check {spec}")


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def judge(case: dict[str, Any], w: World, r: Result, before: dict[str, Any]) -> tuple[str, str]:
    """The outcome of a case and why."""
    text = r.out + r.err
    if r.hang:
        return "hang", f"no exit within {case.get('timeout', 60)} s"
    if SECRET in text:
        return "leak", "a secret marker was printed"
    if UNSAFE.search(text):
        return "leak", f"raw control character {UNSAFE.search(text).group()!r} printed"
    if r.code == 70 or "Traceback" in text or "internal error" in text:
        return "internal error", r.err[-2000:]
    if r.code is not None and r.code < 0:  # killed: the out-of-memory killer, a limit
        return "unbounded", f"killed by signal {-r.code}"
    for spec in case.get("checks", []):
        failed = check(spec, w, r, before)
        if failed:
            return failed
    if r.code != case["expect"]:
        return "mismatch", f"exit {r.code}, expected {case['expect']}\n{r.err[-2000:]}"
    for stream, wanted in (("err", r.err), ("out", r.out)):
        for s in case.get(stream, []):
            if _squash(w.fill(s)) not in _squash(wanted):
                return "mismatch", f"{stream} lacks {w.fill(s)!r}:\n{wanted[-3000:]}"
    return ("sensible acceptance" if case["expect"] == 0 else "clear error"), ""


def _record(case_id: str, outcome: str) -> None:
    OUTCOMES[case_id] = outcome


# ------------------------------------------------------------------------------ the table
def test_table_is_well_formed() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    for c in TABLE:
        assert c["expect"] in (0, 1, 2), c["id"]
        assert c["expect"] == 0 or c.get("err"), f"{c['id']}: an error case names its message"
    files = {p.name for p in (HERE / "project").glob("*.yaml")}
    used = {Path(a).name for c in TABLE for a in c["args"] if a.endswith(".yaml")}
    assert files - used - {"base.yaml"} == set(), "corpus files no case uses"
    for name in SPECIAL:
        assert name in globals(), f"no test {name}"


@pytest.mark.parametrize("case", TABLE, ids=[c["id"] for c in TABLE])
def test_case(
    case: dict[str, Any],
    tmp_path: Path,
    made: Made,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MPLBACKEND", "Agg")
    w = make_world(tmp_path)
    for name in case.get("setup", []):
        setup(name, w, made)
    capsys.readouterr()  # what the setups printed
    before = snapshot(w.project, w.tmp)
    result = run_case(case, w, capsys)
    outcome, why = judge(case, w, result, before)
    _record(case["id"], outcome)
    assert outcome in GOOD, f"{case['id']}: {outcome}: {why}"


# ------------------------------------------------------------------------------ processes
def relsim(*args: str, cwd: Path = ROOT, **kw: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "simulator", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "MPLBACKEND": "Agg"},
        **kw,
    )


def _children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


def _wait_for_workers(proc: subprocess.Popen[str], n: int, timeout: float = 60) -> list[int]:
    deadline = time.monotonic() + timeout
    while len(_children(proc.pid)) < n:
        assert proc.poll() is None, f"relsim ended early: {proc.communicate()}"
        assert time.monotonic() < deadline, "the workers never started"
        time.sleep(0.05)
    time.sleep(0.5)  # past the pool's start-up
    return _children(proc.pid)


def _gone_within(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not [p for p in pids if _alive(p)]:
            return []
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    src = tmp_path / "scenario"
    src.mkdir()
    shutil.copy(ROOT / "tests" / "bad_inputs" / "base_valid.yaml", src / "base.yaml")
    return src / "base.yaml"


RUN_FILES = {"manifest.json", "scenario.resolved.yaml", "summary.json", "figures", "rep0"}

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="uses /proc and fork")


def test_two_runs_to_the_same_out(tmp_path: Path, scenario: Path) -> None:
    """Two ``relsim run`` at once into the same --out: exactly one result directory,
    whole, the other exits 2 saying so (it was kept, this run's results not written)."""
    out = tmp_path / "out"
    procs = [
        relsim(
            "run",
            str(scenario),
            "--reps",
            "100",
            "--workers",
            "1",
            "--quiet",
            "--seed",
            str(seed),
            "--out",
            str(out),
        )
        for seed in (1, 2)
    ]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    (winner,) = [i for i, (code, _, _) in enumerate(results) if code == 0]
    loser_err = results[1 - winner][2]
    assert str(out) in loser_err, loser_err
    assert "appeared while this run was computed" in loser_err or "already exists" in loser_err
    assert "Traceback" not in loser_err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tool"] == "relsim" and manifest["seed"] == winner + 1  # the winner's
    assert {p.name for p in out.iterdir()} >= RUN_FILES  # whole
    assert len(list((out / "figures").glob("*.png"))) > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "scenario"]  # no temporaries
    _record(SPECIAL["test_two_runs_to_the_same_out"]["id"], "clear error")


def test_two_forced_runs_to_the_same_out(tmp_path: Path, scenario: Path) -> None:
    """Two ``--force`` runs over the same run directory: both succeed, the result is
    one of them, whole, and nothing is left over."""
    out = tmp_path / "out"
    first = relsim("run", str(scenario), *QUICK, "--out", str(out))
    assert first.wait(timeout=120) == 0, first.communicate()
    procs = [
        relsim(
            "run",
            str(scenario),
            "--reps",
            "50",
            "--workers",
            "1",
            "--quiet",
            "--no-figures",
            "--seed",
            str(seed),
            "--out",
            str(out),
            "--force",
        )
        for seed in (11, 12)
    ]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0, 0], results
    assert json.loads((out / "manifest.json").read_text())["seed"] in (11, 12)
    assert json.loads((out / "manifest.json").read_text())["reps"] == 50
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "scenario"]
    _record(SPECIAL["test_two_forced_runs_to_the_same_out"]["id"], "sensible acceptance")


def test_force_on_a_non_run_directory_keeps_every_file(tmp_path: Path, scenario: Path) -> None:
    """``--force`` on a directory relsim did not write (here: the folder holding the
    scenario being run, with a subfolder, a hidden file and a link) keeps every file,
    for run, run --rep-index and compare, and exits 2 naming it."""
    project = scenario.parent
    (project / "notes").mkdir()
    (project / "notes" / "todo.md").write_text("- keep me\n")
    (project / ".git-like").write_bytes(b"\x00binary")
    (project / "link").symlink_to(scenario)
    before = snapshot(project)
    commands = [
        ("run", str(scenario), *QUICK, "--out", str(project), "--force"),
        ("run", str(scenario), "--rep-index", "0", "--out", str(project), "--force"),
        (
            "compare",
            str(scenario),
            str(scenario),
            "--reps",
            "2",
            "--workers",
            "1",
            "--quiet",
            "--out",
            str(project),
            "--force",
        ),
    ]
    for args in commands:
        p = relsim(*args)
        code = p.wait(timeout=120)
        _, err = p.communicate()
        assert code == 2, err
        assert f"{project} is not a relsim run directory" in err and "Traceback" not in err
        assert snapshot(project) == before  # every file kept, byte for byte
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario"]
    _record(SPECIAL["test_force_on_a_non_run_directory_keeps_every_file"]["id"], "clear error")


@linux_only
def test_workers_die_with_their_parent(tmp_path: Path, scenario: Path) -> None:
    """SIGKILL to the parent of a 2-worker ensemble (as the out-of-memory killer
    sends): no worker is alive 10 s later."""
    proc = relsim(
        "run",
        str(scenario),
        "--reps",
        "5000",
        "--workers",
        "2",
        "--quiet",
        "--out",
        str(tmp_path / "out"),
        start_new_session=True,
    )
    workers = _wait_for_workers(proc, 2)
    assert len(workers) == 2 and all(_alive(p) for p in workers)
    os.kill(proc.pid, signal.SIGKILL)  # the parent only
    proc.wait(timeout=10)
    alive = _gone_within(workers, 10)
    if alive:
        for p in alive:
            os.kill(p, signal.SIGKILL)
    assert not alive, f"workers {alive} outlived their parent by 10 s"
    assert not (tmp_path / "out").exists()
    _record(SPECIAL["test_workers_die_with_their_parent"]["id"], "clear error")


@linux_only
def test_sighup_to_the_parent_only(tmp_path: Path, scenario: Path) -> None:
    """SIGHUP (the terminal closed) to the parent only: exit 130 at once, nothing
    written, no temporary left, no worker alive."""
    proc = relsim(
        "run",
        str(scenario),
        "--reps",
        "5000",
        "--workers",
        "2",
        "--quiet",
        "--out",
        str(tmp_path / "out"),
        start_new_session=True,
    )
    workers = _wait_for_workers(proc, 2)
    os.kill(proc.pid, signal.SIGHUP)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "relsim: interrupted; no results written" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario"]
    assert not _gone_within(workers, 10)
    _record(SPECIAL["test_sighup_to_the_parent_only"]["id"], "clear error")


@linux_only
def test_sigterm_to_the_parent_of_a_comparison(tmp_path: Path, scenario: Path) -> None:
    """SIGTERM to the parent of a 2-worker ``relsim compare --out``: exit 130, nothing
    written, no worker alive."""
    proc = relsim(
        "compare",
        str(scenario),
        str(scenario),
        "--reps",
        "3000",
        "--workers",
        "2",
        "--quiet",
        "--out",
        str(tmp_path / "cmp"),
        start_new_session=True,
    )
    workers = _wait_for_workers(proc, 2)
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario"]
    assert not _gone_within(workers, 10)
    _record(SPECIAL["test_sigterm_to_the_parent_of_a_comparison"]["id"], "clear error")


# ------------------------------------------------------------------------------ dask
def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dask(*args: str) -> subprocess.Popen[bytes]:
    """A Dask scheduler or worker in its own session (killed as a group)."""
    return subprocess.Popen(
        [sys.executable, "-m", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _kill_group(p: subprocess.Popen[Any], sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(p.pid, sig)
    p.wait(timeout=30)


@pytest.fixture
def dask_cluster() -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """A scheduler and two single-threaded workers (each with its nanny), as
    ``docs/cluster.md`` starts them."""
    distributed = pytest.importorskip("distributed")
    addr = f"tcp://127.0.0.1:{_free_port()}"
    sched = _dask("distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port",
                  addr.rsplit(":", 1)[1], "--no-dashboard")  # fmt: skip
    workers = [
        _dask(
            "distributed.cli.dask_worker",
            addr,
            "--nworkers",
            "1",
            "--nthreads",
            "1",
            "--no-dashboard",
        )
        for _ in range(2)
    ]
    with distributed.Client(addr, timeout=30) as c:
        c.wait_for_workers(2, timeout=60)
    try:
        yield addr, [sched, *workers]
    finally:
        for p in [*workers, sched]:
            _kill_group(p)


def _when_both_workers_run_chunks(addr: str, proc: subprocess.Popen[str]) -> None:
    import distributed

    with distributed.Client(addr, timeout=30) as c:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            busy = c.processing()
            if len(busy) == 2 and all(any("_chunk" in str(k) for k in v) for v in busy.values()):
                return
            time.sleep(0.05)
    raise AssertionError("the workers never both ran chunks")


DASK_REPS = "2000"


def test_a_lost_dask_worker_costs_only_time(
    tmp_path: Path, scenario: Path, dask_cluster: tuple[str, list[subprocess.Popen[bytes]]]
) -> None:
    """One of two workers killed (with its nanny) mid-ensemble: the run finishes, exit 0,
    and its summary.json is byte-identical to a serial run's (the lost chunks rerun; the
    scenario, a task's result, is recomputed where lost)."""
    addr, (_, _, doomed) = dask_cluster
    args = ["--reps", DASK_REPS, "--no-figures", "--no-report", "--quiet"]
    serial = relsim("run", str(scenario), *args, "--workers", "1", "--out", str(tmp_path / "s"))
    assert serial.wait(timeout=300) == 0, serial.communicate()
    proc = relsim("run", str(scenario), *args, "--scheduler", addr, "--out", str(tmp_path / "d"))
    _when_both_workers_run_chunks(addr, proc)
    time.sleep(0.5)
    _kill_group(doomed)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    summary = (tmp_path / "d" / "summary.json").read_bytes()
    assert summary == (tmp_path / "s" / "summary.json").read_bytes()
    _record(SPECIAL["test_a_lost_dask_worker_costs_only_time"]["id"], "sensible acceptance")


def test_a_killed_scheduler_exits_1_without_a_traceback(
    tmp_path: Path, scenario: Path, dask_cluster: tuple[str, list[subprocess.Popen[bytes]]]
) -> None:
    """The scheduler killed mid-ensemble: exit 1 naming the replications that did not run,
    nothing written, and no Python traceback (distributed's own logging is silenced)."""
    addr, (sched, _, _) = dask_cluster
    args = ["--reps", "20000", "--no-figures", "--no-report", "--quiet"]
    proc = relsim("run", str(scenario), *args, "--scheduler", addr, "--out", str(tmp_path / "d"))
    _when_both_workers_run_chunks(addr, proc)
    _kill_group(sched)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert "relsim: the Dask cluster stopped answering" in err and "of 20000 did not run" in err
    assert "Traceback" not in err and not (tmp_path / "d").exists()
    _record(SPECIAL["test_a_killed_scheduler_exits_1_without_a_traceback"]["id"], "clear error")


# ------------------------------------------------------------------------------ counts
def _counts() -> Iterator[tuple[str, int]]:
    c = Counter(OUTCOMES.values())
    yield "cases", len(CASES)
    yield "run", len(OUTCOMES)
    for kind in (
        *GOOD,
        "internal error",
        "hang",
        "unbounded",
        "wrong result",
        "data lost",
        "leak",
        "mismatch",
    ):
        yield kind, c.get(kind, 0)


def test_counts() -> None:
    """Print the counts over the corpus (``-s`` shows them); every case that ran was a
    clear error or a sensible acceptance."""
    counts = dict(_counts())
    print("\nhostile corpus: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    by_class = Counter((c["class"], OUTCOMES.get(c["id"], "not run")) for c in CASES)
    for (cls, outcome), n in sorted(by_class.items()):
        print(f"  {cls:13} {outcome:20} {n}")
    bad = {k: v for k, v in OUTCOMES.items() if v not in GOOD}
    assert not bad, bad
