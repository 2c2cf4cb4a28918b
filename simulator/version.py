"""relsim's version: the one place it is written (ground: imports nothing).

``pyproject.toml`` reads it from here (``[tool.setuptools.dynamic]``); the package face
re-exports it as ``simulator.__version__``; modules inside the package import it from
here, never from the face above them.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
"""The release, as ``relsim --version``, manifests and baselines print it."""
