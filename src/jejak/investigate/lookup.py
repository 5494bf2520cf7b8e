"""Lookup files: the store's records re-sorted by the keys an investigation pivots on.

The store sorts each kind by the key its main question asks for (provisioning
by msisdn, sessions by user ID, shifts by outlet), so a report finds a
subscriber's records by reading a few row groups. The blast radius and the
attribution also ask the other way round — every action under this user ID,
in this session, from this address, on this terminal; the session with this
id; the sessions on this terminal; this person's shifts — and without help
each of those would scan a whole column of the store.

So for every committed batch this module keeps, under
``<home>/investigate/lookup/``, one Parquet file per (kind, key) holding that
batch's records of the kind sorted by the key, in small row groups: DuckDB's
min/max statistics then skip all but one or two row groups per file. The files
are derived data, built by an explicit write (:meth:`LookupIndex.ensure`,
``jejak.Home.refresh_lookups``; one sort per key and batch) and never a source
of truth: a report, which writes nothing, reads a batch whose lookup file is
missing from the store's own files (the same rows, only slower).

``LOOKUPS`` says which keys of which kinds are indexed and which columns are
kept. Provisioning keeps only actions under a user ID (``agent_id`` not null)
and the columns the blast radius needs (plus the key).

Example::

    >>> idx = LookupIndex(store)                                        # doctest: +SKIP
    >>> [r["msisdn"] for r in idx.rows("provisioning", "session_id", ["SE000100"])][:2]  # doctest: +SKIP
    ['6281100000052', '6281100000001']
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import duckdb

from jejak import fsio
from jejak.schema import KINDS
from jejak.sqlq import literal, read_parquet
from jejak.store import Store

#: bump when the layout of the lookup files changes (they are then rebuilt)
LOOKUP_VERSION = "2"
#: rows per row group: few row groups keep the footer small, and reading the footer is most
#: of a lookup's cost (measured: 0.8 ms at 122,880 against 7.6 ms at 16,384, 10 M rows)
ROW_GROUP = 122_880
PROV_COLUMNS = ("event_id", "at", "msisdn", "action", "consent_id")
#: kind -> (keys indexed, columns kept; empty = all of the kind's fields, filter)
LOOKUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "provisioning": (
        ("agent_id", "session_id", "source_ip", "device_id"),
        PROV_COLUMNS,
        "agent_id IS NOT NULL",
    ),
    "sessions": (("session_id", "device_id"), (), "true"),
    "shifts": (("agent_id",), (), "true"),
}


class LookupIndex:
    """The lookup files of one store, one batch at a time; :meth:`ensure` builds the missing."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.root = store.home / "investigate" / "lookup"

    def clear(self) -> None:
        """Delete every lookup file (they are rebuilt by :meth:`ensure`); for erasure."""
        shutil.rmtree(self.root, ignore_errors=True)

    def _relation(self, kind: str, key: str) -> str | None:
        """SQL for the records of ``kind`` as (kind, key)'s lookup files hold them: each batch from
        its lookup file, or, when that is missing, from the batch's own files (same columns, same
        rows); None when no batch holds the kind."""
        _, _, where = LOOKUPS[kind]
        cols = ", ".join(f'"{c}"' for c in self._keep(kind, key))
        parts = []
        for b in self.store.manifest()["batches"]:
            rels = b["files"].get(kind)
            if not rels:
                continue
            path = self._path(b["id"], kind, key)
            if path.exists():
                parts.append(f"SELECT {cols} FROM read_parquet({literal(path)})")
            else:
                files = read_parquet(self.store.root / r for r in rels)
                parts.append(f"SELECT {cols} FROM {files} WHERE {where}")
        return "(" + " UNION ALL ".join(parts) + ")" if parts else None

    @staticmethod
    def _keep(kind: str, key: str) -> list[str]:
        _, columns, _ = LOOKUPS[kind]
        keep = list(columns or KINDS[kind].names)
        if key not in keep:
            keep.append(key)
        return keep

    def _path(self, batch: str, kind: str, key: str) -> Path:
        return self.root / f"v{LOOKUP_VERSION}" / kind / key / f"{batch}.parquet"

    def ensure(self) -> int:
        """Build every missing lookup file now; returns how many were built."""
        built = 0
        for kind, (keys, _, _) in LOOKUPS.items():
            for key in keys:
                for b in self.store.manifest()["batches"]:
                    rels = b["files"].get(kind)
                    if rels and not self._path(b["id"], kind, key).exists():
                        self._build(b["id"], kind, key, [self.store.root / r for r in rels])
                        built += 1
        return built

    def _build(self, batch: str, kind: str, key: str, sources: list[Path]) -> None:
        _, _, where = LOOKUPS[kind]
        cols = ", ".join(f'"{c}"' for c in self._keep(kind, key))
        target = self._path(batch, kind, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        flist = read_parquet(sources)
        spill = self.root / f"tmp-{os.getpid()}"
        spill.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(
            config={
                "memory_limit": self.store.memory_limit,
                "threads": self.store.threads,
                "temp_directory": str(spill),
                "preserve_insertion_order": False,
            }
        )
        try:
            con.execute("SET TimeZone = 'UTC'")
            con.execute(
                f"COPY (SELECT {cols} FROM {flist} "
                f'WHERE {where} AND "{key}" IS NOT NULL ORDER BY "{key}") '
                f"TO {literal(tmp)} (FORMAT parquet, ROW_GROUP_SIZE {ROW_GROUP}, COMPRESSION zstd)"
            )
        finally:
            con.close()
            shutil.rmtree(spill, ignore_errors=True)
        fsio.replace(tmp, target)

    def rows(
        self,
        kind: str,
        key: str,
        values: list[str],
        where: str = "",
        params: list[Any] | None = None,
        order: str = "",
    ) -> list[dict[str, Any]]:
        """Records of ``kind`` whose ``key`` is one of ``values`` (and ``where``), as dicts."""
        if not values:
            return []
        relation = self._relation(kind, key)
        if relation is None:
            return []
        marks = ", ".join("?" for _ in values)
        q = (
            f"SELECT * FROM {relation} "
            f'WHERE "{key}" IN ({marks})'
            + (f" AND ({where})" if where else "")
            + (f" ORDER BY {order}" if order else "")
        )
        return self.store.sql(q, [*values, *(params or [])])

    def rows_any(
        self,
        kind: str,
        wanted: dict[str, list[str]],
        where: str = "",
        params: list[Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Records of ``kind`` whose key is one of its values, for several keys, in one statement
        (one pruned read per key, UNION ALL; a record found by two keys comes twice). Each row
        has the kind's kept columns plus ``_key`` (the key that found it) and ``_value``."""
        cols = ", ".join(f'"{c}"' for c in (LOOKUPS[kind][1] or KINDS[kind].names))
        parts, args = [], []
        for key, values in wanted.items():
            relation = self._relation(kind, key) if values else None
            if relation is None:
                continue
            marks = ", ".join("?" for _ in values)
            parts.append(
                f"SELECT '{key}' AS _key, \"{key}\" AS _value, {cols} "
                f"FROM {relation} "
                f'WHERE "{key}" IN ({marks})' + (f" AND ({where})" if where else "")
            )
            args.extend([*values, *(params or [])])
        if not parts:
            return []
        return self.store.sql(" UNION ALL ".join(parts), args)

    def status(self) -> dict[str, list[str]]:
        """Which batches have lookup files, per kind and key (for diagnostics)."""
        done: dict[str, list[str]] = {}
        for kind, (keys, _, _) in LOOKUPS.items():
            for key in keys:
                folder = self.root / f"v{LOOKUP_VERSION}" / kind / key
                done[f"{kind}.{key}"] = sorted(p.stem for p in folder.glob("*.parquet"))
        return done
