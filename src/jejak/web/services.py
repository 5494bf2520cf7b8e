"""What the web app holds for its lifetime: the case library of one home (its database engine,
its store, its log). Built once by :func:`jejak.web.app.create_app`, from a :class:`jejak.Home`
when there is one, else from a case library, settings or a home folder.

Example::

    >>> Services.from_source("./jejak-data").cases.home    # doctest: +SKIP
    PosixPath('jejak-data')
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jejak.cases import Cases
from jejak.cases.db import Database
from jejak.home import Home
from jejak.settings import Settings, settings


@dataclass
class Services:
    cases: Cases
    conf: Settings
    home_obj: Any = None  # the Home that owns the cases, when the app made it

    @property
    def db(self) -> Database:
        return self.cases.db

    @property
    def home(self) -> Path:
        return self.cases.home

    @classmethod
    def from_source(cls, source: Any = None) -> Services:
        if isinstance(source, Cases):
            return cls(source, settings())
        if isinstance(source, Home):
            return cls(source.cases, source.settings)
        home = Home(Path(source) if isinstance(source, os.PathLike) else source)
        return cls(home.cases, home.settings, home)
