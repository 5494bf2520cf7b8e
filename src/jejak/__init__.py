"""jejak: trace every package activation to the person behind it.

The library is the product; the CLI (``jejak.cli``) and the web app are thin
layers over it::

    >>> import jejak
    >>> store = jejak.Store("./jejak-data")          # doctest: +SKIP
    >>> store.ingest(["shared/scenarios/seed-2016"])  # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

from jejak.errors import JejakError

__all__ = ["JejakError", "Store", "__version__"]


def __getattr__(name: str) -> object:
    # Store pulls in DuckDB and pyarrow; import it lazily so `import jejak` stays cheap.
    if name == "Store":
        from jejak.store import Store

        return Store
    raise AttributeError(name)
