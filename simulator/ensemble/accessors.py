"""The ``.plot`` accessors of ensemble results, filled from the figures stage above.

Figures are drawn by :mod:`simulator.report` (matplotlib), a stage above this one, so
``EnsembleResult.plot`` and ``Comparison.plot`` must not import it. Instead:

* the report stage registers the accessor class of each result type when it is
  imported (:func:`register_plots`, at the end of :mod:`simulator.report.plots`);
* the package face (``simulator/__init__.py``, which Python runs before any module of
  the package, whichever one is imported first) adds a loader that imports the report
  stage (:func:`add_loader`);
* :func:`plots` (behind ``.plot``) calls the loaders the first time an accessor is asked
  for that nobody has registered yet.

So ``ens.plot.shortage_curve()`` works after ``import simulator as sim`` alone, and
matplotlib is loaded only when a figure is asked for. This module imports nothing of
relsim's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["add_loader", "plots", "register_plots"]

_FACTORIES: dict[type, Callable[[Any], Any]] = {}
_LOADERS: list[Callable[[], None]] = []


def register_plots(kind: type, factory: Callable[[Any], Any]) -> None:
    """Make ``factory(result)`` the ``.plot`` accessor of results of type ``kind`` (and
    of its subclasses).

    Args:
        kind: A result class, e.g. :class:`~simulator.ensemble.results.EnsembleResult`.
        factory: Called with the result; returns the accessor (an object whose methods
            draw figures).
    """
    _FACTORIES[kind] = factory


def add_loader(load: Callable[[], None]) -> None:
    """Have ``load()`` run once, the first time an accessor is asked for that is not
    registered yet (it imports the modules that register accessors).

    Args:
        load: A function without arguments; added once however often it is given.
    """
    if load not in _LOADERS:
        _LOADERS.append(load)


def plots(result: Any) -> Any:
    """The ``.plot`` accessor of ``result``.

    Args:
        result: An ensemble result (any registered type).

    Returns:
        The accessor its type's factory makes.

    Raises:
        LookupError: No accessor is registered for its type, even after the loaders ran.
    """
    factory = _registered(type(result))
    if factory is None:
        for load in list(_LOADERS):
            load()
            _LOADERS.remove(load)  # done; a loader that raised is tried again next time
        factory = _registered(type(result))
    if factory is None:
        raise LookupError(
            f"no plots registered for {type(result).__name__}: import simulator.report.plots "
            "(relsim's figures) first"
        )
    return factory(result)


def _registered(kind: type) -> Callable[[Any], Any] | None:
    for k in kind.__mro__:
        if k in _FACTORIES:
            return _FACTORIES[k]
    return None
