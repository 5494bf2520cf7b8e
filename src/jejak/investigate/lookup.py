"""The investigation's pivots: records found by a user ID, a session, an address or a terminal.

The blast radius and the attribution ask the store the other way round from its
sort order — every action under this user ID, in this session, from this
address, on this terminal; the session with this id; the sessions on this
terminal; this person's shifts. The store answers each through the lookup index
that every ingest builds with its batch (:mod:`jejak.index`: the second keys),
so a report reads a few record batches per stored batch and nothing is built
on a read. A home made by an earlier version, whose batches have no index yet,
is answered from its Parquet files (slower) until ``jejak store migrate``.

``LOOKUPS`` says which keys of which kinds a report pivots on. Provisioning
answers only actions under a user ID (``agent_id`` not null).

Example::

    >>> idx = LookupIndex(store)                                        # doctest: +SKIP
    >>> [r["msisdn"] for r in idx.rows("provisioning", "session_id", ["SE000100"])][:2]  # doctest: +SKIP
    ['6281100000001', '6281100000052']
"""

from __future__ import annotations

from typing import Any

from jejak import index as X
from jejak.store import Store

#: kind -> (keys a report pivots on, the rows kept)
LOOKUPS: dict[str, tuple[tuple[str, ...], str]] = {
    "provisioning": (("agent_id", "session_id", "source_ip", "device_id"), "under a user ID"),
    "sessions": (("session_id", "device_id"), "all"),
    "shifts": (("agent_id",), "all"),
}


class LookupIndex:
    """The pivots of one store (:meth:`rows`, :meth:`rows_any`), answered by its lookup index."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def rows(self, kind: str, key: str, values: list[str]) -> list[dict[str, Any]]:
        """Records of ``kind`` whose ``key`` is one of ``values``, as dicts, in time order."""
        if key not in LOOKUPS[kind][0]:
            raise KeyError(f"{kind}.{key} is not a lookup")
        rows = self.store.lookup(kind, values, key)
        if kind == "provisioning":
            rows = [r for r in rows if r["agent_id"] is not None]
        return rows

    def rows_any(self, kind: str, wanted: dict[str, list[str]]) -> list[dict[str, Any]]:
        """Records of ``kind`` whose key is one of its values, for several keys (a record found
        by two keys comes twice). Each row has the kind's fields plus ``_key`` (the key that
        found it) and ``_value``."""
        out: list[dict[str, Any]] = []
        X.hashes([v for values in wanted.values() for v in values])  # one DuckDB call, then cached
        for key, values in wanted.items():
            for r in self.rows(kind, key, values):
                out.append({**r, "_key": key, "_value": r[key]})
        return out

    def ensure(self) -> int:
        """Index every batch that has no lookup index yet (a home of an earlier version); how
        many data files were indexed. Every ingest indexes its own batch."""
        return self.store.build_indexes()

    def clear(self) -> None:
        """Kept for callers of earlier versions: the index is the store's, rebuilt with the files
        an erasure rewrites (:meth:`jejak.store.Store.recount`)."""

    def status(self) -> dict[str, list[str]]:
        """Which batches have a lookup index, per kind and key (for diagnostics)."""
        done: dict[str, list[str]] = {}
        for kind, (keys, _) in LOOKUPS.items():
            for key in keys:
                indexed, _plain = self.store.indexed_files(kind, key)
                batches = {
                    b["id"]
                    for b in self.store.manifest()["batches"]
                    for rel in b["files"].get(kind, ())
                    if rel in indexed
                }
                done[f"{kind}.{key}"] = sorted(batches)
        return done
