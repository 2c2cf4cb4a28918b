"""The ``relsim`` command line (stage 6: on top of everything, simulating nothing).

:mod:`.app` holds the typer app and the entry point :func:`main`; each command group is
a module of its own and registers itself on import.
"""

from simulator.cli import (  # noqa: F401 - register
    calibrate,
    compare,
    explain,
    fit,
    forecast,
    new,
    regress,
    run,
    sweep,
    validate,
)
from simulator.cli.app import app, main

__all__ = ["app", "main"]
