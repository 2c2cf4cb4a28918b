"""Compiling with numba: where the compiled code is cached, how the cache is trusted, and
the decorator of the functions both engines call (:mod:`simulator.world.arith`) and of
the kernel's own.

**Where.** The compiled code is cached on disk in ``$RELSIM_CACHE_DIR/numba/<digest>``
(else ``$XDG_CACHE_HOME/relsim/numba/<digest>``, else ``~/.cache/relsim/numba/<digest>``;
the digest is of the package's sources, so an edited callee is never run from a stale
cache; a ``NUMBA_CACHE_DIR`` the user set wins), shared by every process on the
machine. numba reads its cache directory when it is first imported, so this module sets
it before importing numba (and corrects numba's configuration if numba was imported
first).

**Trust.** numba's cache is pickled data, and unpickling runs code: whoever can write
the cache directory can run code as every user of it. So every relsim function compiled
with ``cache=True`` (the kernel's dispatchers and :func:`shared`; numba's
``Dispatcher.enable_caching`` is hooked for functions of the ``simulator`` package, so the
kernel's own ``njit(cache=True)`` gets the same cache) uses :class:`GuardedCache`:

* before anything is loaded or saved, the cache directory is checked
  (:func:`check_cache_dir`, as ssh and pip check theirs): it must be owned by this user
  (or root) and not writable by group or others, and so must every folder above it
  (a world-writable folder above it must be sticky, as ``/tmp`` is; a group that is the
  user's own private group, as some systems give each user, does not count). Otherwise
  :class:`UntrustedCache` refuses it, naming ``RELSIM_CACHE_DIR``; relsim creates its
  folders ``0700`` and its files ``0600``;
* each file is read only if it is a regular file (not a link: a link to ``/dev/zero``),
  owned by this user (or root), not writable by group or others, within
  :attr:`~simulator.limits.Limits.MAX_CACHE_FILE_BYTES`;
* any failure to load an entry — a truncated, emptied or garbage file, a planted index,
  a file of another owner — means a cache miss: the function is compiled again (and
  the entry rewritten), and relsim says so once per process (a
  :class:`CacheRecompiled` warning), never an internal error.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import stat
import sys
import tempfile
import uuid
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from simulator.errors import InputRefused, clean
from simulator.limits import Limits

__all__ = [
    "CacheRecompiled",
    "GuardedCache",
    "UntrustedCache",
    "cache_dir",
    "check_cache_dir",
    "shared",
    "source_digest",
]

CACHE_ENV = "RELSIM_CACHE_DIR"
"""The variable naming relsim's cache folder (the compiled code is in its ``numba``)."""


def source_digest() -> str:
    """A digest of the package's Python sources, 16 hex digits. numba checks only the
    file that defines a function before it loads that function's cached code, while the
    compiled loop's cached code holds the code of every function it calls, in other
    files: a changed callee would be run stale. Keying the cache directory by the
    sources' content makes any change a fresh directory (each relsim version, and each
    edit, compiles once)."""
    import hashlib

    pkg = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    h = hashlib.sha256()
    for root, dirs, files in os.walk(pkg):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")))
        for f in sorted(files):
            if not f.endswith(".py"):
                continue
            path = os.path.join(root, f)
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
            except OSError:  # pragma: no cover
                continue
            h.update(os.path.relpath(path, pkg).encode() + b"\0" + data + b"\0")
    return h.hexdigest()[:16]


def cache_dir() -> str:
    """The directory numba caches relsim's compiled code in: one per content of the
    compiled sources (:func:`source_digest`)."""
    base = os.environ.get(CACHE_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "relsim",
    )
    return os.path.join(base, "numba", source_digest())


# numba reads its cache directory when it is first imported (a NUMBA_CACHE_DIR the user
# set wins); worker processes inherit the variable or compute the same directory
_USER_NUMBA_DIR = "NUMBA_CACHE_DIR" in os.environ
os.environ.setdefault("NUMBA_CACHE_DIR", cache_dir())
if "numba" in sys.modules:  # imported before this module: its configuration is read
    from numba.core import config as _config

    if not _config.CACHE_DIR:
        _config.CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]

from numba import njit, types  # noqa: E402
from numba.core import config  # noqa: E402
from numba.core.caching import (  # noqa: E402
    CompileResultCacheImpl,
    FunctionCache,
    IndexDataCacheFile,
    UserProvidedCacheLocator,
)
from numba.core.dispatcher import Dispatcher  # noqa: E402


# ------------------------------------------------------------------------------ trust
class UntrustedCache(InputRefused):
    """The compiled-code cache directory may be written by someone else (another owner,
    group or world write permission): refused, the CLI exits 2 naming
    ``RELSIM_CACHE_DIR``."""


class CacheRecompiled(UserWarning):
    """An entry of the compiled-code cache could not be loaded; it was compiled again."""


class _Unreadable(Exception):
    """A cache file that is not loaded: its path and why."""

    def __init__(self, path: str, why: str) -> None:
        super().__init__(f"{os.path.basename(path)} {why}")
        self.path = path


_CHECKED: dict[str, str | None] = {}
"""Cache directory -> why it is refused (None: trusted), checked once per process."""
_NOTED: list[str] = []


def _euid() -> int | None:
    return os.geteuid() if hasattr(os, "geteuid") else None


def _owner_ok(st: os.stat_result) -> bool:
    return st.st_uid in (_euid(), 0)


def _private_group(gid: int) -> bool:
    """Whether group ``gid`` is this user's own (a "user private group": named as the
    user, no other member), so that its write permission lets no one else in."""
    try:
        import grp
        import pwd

        user = pwd.getpwuid(os.geteuid()).pw_name
        group = grp.getgrgid(gid)
    except (ImportError, KeyError, OSError):
        return False
    return group.gr_name == user and set(group.gr_mem) <= {user}


def _others_can_write(st: os.stat_result) -> bool:
    """Write permission for others, or for a group other than this user's own."""
    return bool(st.st_mode & 0o002 or (st.st_mode & 0o020 and not _private_group(st.st_gid)))


def _variable() -> str:
    """The variable to change, as the messages name it."""
    if _USER_NUMBA_DIR and cache_dir() != config.CACHE_DIR:
        return f"{CACHE_ENV} (and NUMBA_CACHE_DIR, which is set and wins)"
    return CACHE_ENV


def _why_untrusted(path: str) -> str | None:
    """Why ``path`` (an existing directory) and the folders above it are not safe to
    load pickled code from, or None."""
    real = os.path.realpath(path)
    try:
        st = os.stat(real)
    except OSError as e:
        return f"cannot be checked ({e.strerror})"
    if not stat.S_ISDIR(st.st_mode):
        return "is not a directory"
    if not _owner_ok(st):
        return f"is owned by another user (uid {st.st_uid})"
    if _others_can_write(st):
        return f"is writable by group or others (mode {stat.S_IMODE(st.st_mode):04o})"
    parent = os.path.dirname(real)
    while True:
        try:
            pst = os.stat(parent)
        except OSError as e:
            return f"has a folder above it that cannot be checked: {parent} ({e.strerror})"
        if not _owner_ok(pst):
            return f"is inside {parent}, owned by another user (uid {pst.st_uid})"
        if _others_can_write(pst) and not pst.st_mode & stat.S_ISVTX:
            return (
                f"is inside {parent}, writable by group or others and not sticky "
                f"(mode {stat.S_IMODE(pst.st_mode):04o}): it could be replaced"
            )
        up = os.path.dirname(parent)
        if up == parent:
            return None
        parent = up


def _make_private(path: str) -> None:
    """Create ``path`` and the folders missing above it, ``0700`` each."""
    missing: list[str] = []
    p = os.path.abspath(path)
    while not os.path.lexists(p):
        missing.append(p)
        up = os.path.dirname(p)
        if up == p:
            break
        p = up
    for d in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(d, 0o700)


def check_cache_dir(path: str | None = None) -> None:
    """Refuse the compiled-code cache directory unless only this user (or root) can
    write it and every folder above it (see the module docstring); create it (``0700``)
    when missing. Checked once per process and directory.

    Args:
        path: The directory (default: numba's, from :func:`cache_dir` or
            ``NUMBA_CACHE_DIR``).

    Raises:
        UntrustedCache: Why, naming ``RELSIM_CACHE_DIR``.
    """
    path = path or config.CACHE_DIR or cache_dir()
    if _euid() is None:  # no POSIX owners (Windows): nothing to compare
        return
    if path not in _CHECKED:
        with contextlib.suppress(OSError):  # reported by the check below
            _make_private(path)
        _CHECKED[path] = _why_untrusted(path)
    why = _CHECKED[path]
    if why is not None:
        raise UntrustedCache(
            f"the compiled-code cache {clean(path)} {clean(why)}; relsim's cache holds "
            "pickled code, which anyone who can write there could make run as you, so it "
            f"is not used. Make it yours alone (chmod 700, owned by you) or set "
            f"{_variable()} to a directory only you can write (nothing was run)"
        )


def _note_once(message: str) -> None:
    """Say once per process that the cache was not used (a :class:`CacheRecompiled`)."""
    if _NOTED:
        return
    _NOTED.append(message)
    warnings.warn(message, CacheRecompiled, stacklevel=3)


def _read_trusted(path: str) -> bytes | None:
    """A cache file's bytes: None when it does not exist; :class:`_Unreadable` unless it
    is a regular file (not a link), owned by this user or root, not writable by group or
    others, within :attr:`Limits.MAX_CACHE_FILE_BYTES`."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise _Unreadable(path, f"cannot be read ({e.strerror})") from None
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
        raise _Unreadable(path, "is not a regular file (a link, a device?)")
    if _euid() is not None and not _owner_ok(st):
        raise _Unreadable(path, f"is owned by another user (uid {st.st_uid})")
    if _euid() is not None and _others_can_write(st):
        raise _Unreadable(path, "is writable by group or others")
    if st.st_size > Limits.MAX_CACHE_FILE_BYTES:
        raise _Unreadable(path, f"is {st.st_size:,} bytes (Limits.MAX_CACHE_FILE_BYTES)")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise _Unreadable(path, f"cannot be read ({e.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        fst = os.fstat(fh.fileno())
        if (fst.st_dev, fst.st_ino) != (st.st_dev, st.st_ino):
            raise _Unreadable(path, "changed while it was opened")
        data = fh.read(Limits.MAX_CACHE_FILE_BYTES + 1)
    if len(data) > Limits.MAX_CACHE_FILE_BYTES:
        raise _Unreadable(path, "grew beyond Limits.MAX_CACHE_FILE_BYTES")
    return data


def _unpickle(data: bytes, path: str, what: str) -> Any:
    try:
        return pickle.loads(data)
    except Exception as e:  # truncated, emptied, garbage: a miss, never a crash
        raise _Unreadable(path, f"is not a readable {what} ({type(e).__name__})") from None


# ------------------------------------------------------------------------------ the cache
class _TrustedCacheFile(IndexDataCacheFile):
    """numba's index and data files, read through :func:`_read_trusted` and written
    ``0600``; an index that cannot be read is replaced when an entry is saved."""

    def _load_index(self) -> dict[Any, str]:
        raw = _read_trusted(self._index_path)
        if raw is None:
            return {}
        bio = io.BytesIO(raw)
        path = self._index_path
        try:
            version = pickle.load(bio)
        except Exception as e:
            raise _Unreadable(path, f"is not a readable index ({type(e).__name__})") from None
        if version != self._version:
            return {}  # another numba's: not unpickled further (as numba does)
        loaded = _unpickle(bio.read(), path, "index")
        if not (isinstance(loaded, tuple) and len(loaded) == 2 and isinstance(loaded[1], dict)):
            raise _Unreadable(path, "is not a readable index (not numba's layout)")
        stamp, overloads = loaded
        return overloads if stamp == self._source_stamp else {}

    def _load_data(self, name: str) -> Any:
        path = self._data_path(name)
        raw = _read_trusted(path)
        if raw is None:
            raise FileNotFoundError(name)  # numba's load(): the index is stale, a miss
        return _unpickle(raw, path, "entry")

    def save(self, key: Any, data: Any) -> None:
        try:
            self._load_index()
        except _Unreadable:
            self._save_index({})  # replace an index that cannot be read
        super().save(key, data)

    @contextlib.contextmanager
    def _open_for_write(self, filepath: str) -> Iterator[Any]:
        tmp = f"{filepath}.tmp.{uuid.uuid4().hex[:16]}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(tmp, flags, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                yield f
            os.replace(tmp, filepath)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


class _Locator(UserProvidedCacheLocator):
    """numba's locator for a user-given cache directory, whose folders are made ``0700``
    and checked (:func:`check_cache_dir`) when first used, not when a function is
    decorated."""

    @classmethod
    def from_function(cls, py_func: Any, py_file: str) -> Any:
        if not config.CACHE_DIR or not os.path.exists(py_file):
            return None
        return cls(py_func, py_file)

    def ensure_cache_path(self) -> None:
        check_cache_dir()
        path = self.get_cache_path()
        _make_private(path)
        tempfile.TemporaryFile(dir=path).close()


class _Impl(CompileResultCacheImpl):
    _locator_classes = [_Locator]  # noqa: RUF012  (numba's attribute)


class GuardedCache(FunctionCache):
    """numba's function cache with relsim's trust rules (see the module docstring): the
    directory is checked before any load or save, files are read only when safe, and a
    load that fails is a miss (compiled again, said once)."""

    _impl_class = _Impl

    def __init__(self, py_func: Any) -> None:
        super().__init__(py_func)
        self._cache_file = _TrustedCacheFile(
            cache_path=self._cache_path,
            filename_base=self._impl.filename_base,
            source_stamp=self._impl.locator.get_source_stamp(),
        )

    def load_overload(self, sig: Any, target_context: Any) -> Any:
        check_cache_dir()  # UntrustedCache: nothing is unpickled from such a directory
        try:
            return super().load_overload(sig, target_context)
        except Exception as e:
            if isinstance(e, _Unreadable):
                where, why = os.path.dirname(e.path), str(e)
            else:  # unpickled, but not rebuilt: a foreign or damaged entry
                where = self._cache_path
                why = f"an entry cannot be loaded ({type(e).__name__})"
            _note_once(
                f"relsim: note: the compiled-code cache {clean(where)} was not used: "
                f"{clean(why, 160)}; compiling again (slower this once) and caching it afresh"
            )
            return None

    def save_overload(self, sig: Any, data: Any) -> None:
        check_cache_dir()
        try:
            super().save_overload(sig, data)
        except OSError as e:  # a read-only cache (one root prepared): compiled, not kept
            _note_once(
                f"relsim: cannot write the compiled-code cache {clean(self._cache_path)} "
                f"({clean(e.strerror or str(e), 120)}); the compiled code is not kept"
            )


def _is_relsim(fn: Any) -> bool:
    return str(getattr(fn, "__module__", "") or "").split(".")[0] == "simulator"


_stock_enable_caching = Dispatcher.enable_caching


def _enable_caching(self: Any) -> None:
    """``Dispatcher.enable_caching`` (numba calls it for ``cache=True``): relsim's
    functions get a :class:`GuardedCache`, any other package's numba's own."""
    if _is_relsim(self.py_func):
        self._cache = GuardedCache(self.py_func)
    else:
        _stock_enable_caching(self)


Dispatcher.enable_caching = _enable_caching


# ------------------------------------------------------------------------------ decorators
def unliteral_dispatch(disp: Any) -> Any:
    """Make ``disp`` compile one version per argument *types*: a constant argument does not
    make a version of its own, as numba's literal dispatch otherwise would (a third of the
    kernel's compile time)."""
    get_template = disp.get_call_template

    def get_call_template(args: Any, kws: Any) -> Any:
        return get_template(tuple(types.unliteral(a) for a in args), kws)

    disp.get_call_template = get_call_template
    return disp


def shared(fn: Callable[..., Any]) -> Any:
    """A function compiled once and called by both engines: from Python by the SimPy
    engine, from compiled code by the kernel (cached on disk in a :class:`GuardedCache`;
    one version per argument types)."""
    return unliteral_dispatch(njit(cache=True)(fn))
