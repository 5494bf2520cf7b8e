"""A policy read from a file: a pydantic model loaded from TOML or JSON, with one-line errors.

The case workflow's policy (:mod:`jejak.cases.policy`) and the remedy's
(:mod:`jejak.investigate.remedy`) are both written by an operator as a small file;
this is how either is read, so that a wrong value names the file and the field the same
way for both::

    >>> class Example(PolicyFile):
    ...     days: int = 15
    >>> Example.load(None).days
    15
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from jejak.errors import UsageError


class PolicyFile(BaseModel):
    """A frozen model whose unknown keys are errors, read with :meth:`load`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def load(cls, path: str | Path | None) -> Self:
        """The policy in a JSON or TOML file (the defaults when ``path`` is None)."""
        if path is None:
            return cls()
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
            data: Any = tomllib.loads(text) if p.suffix == ".toml" else json.loads(text)
        except FileNotFoundError:
            raise UsageError(str(p), "no such policy file") from None
        except (OSError, ValueError) as exc:
            raise UsageError(str(p), f"cannot read the policy: {exc}") from None
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"])
            raise UsageError(str(p), f"{where}: {first['msg']}") from None
