"""jejak: trace every package activation to the person behind it.

The library is the product; the CLI (``jejak.cli``) is a thin layer over it.
:class:`jejak.Home` is the composition root: one operator's store, log and
alerts, wired together (see :mod:`jejak.home`)::

    >>> import jejak
    >>> home = jejak.Home("./jejak-data")             # doctest: +SKIP
    >>> home.ingest(["shared/scenarios/seed-2016"])   # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

from jejak.errors import JejakError

__all__ = ["Home", "JejakError", "Store", "__version__"]


def __getattr__(name: str) -> object:
    # Home and Store pull in DuckDB and pyarrow; import them lazily so `import jejak` stays cheap.
    if name == "Home":
        from jejak.home import Home

        return Home
    if name == "Store":
        from jejak.store import Store

        return Store
    raise AttributeError(name)
