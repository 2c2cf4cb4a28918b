"""The pydantic base model every scenario section derives from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """Frozen, strict-keyed base: unknown keys are errors, numbers must be finite (no
    ``.inf`` / ``.nan``); attribute docstrings become field descriptions (and so
    JSON-Schema hover text in editors)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
        populate_by_name=True,
        validate_default=False,
        allow_inf_nan=False,
    )
