"""The store's lookup structures: a subscriber's records, or a session's, in well under a millisecond per batch.

A stored data file (``store/data/<kind>/<batch>-<run>.parquet``) is sorted by
the kind's lookup key (``msisdn`` for the subscriber kinds, the user ID for
sessions, the outlet for shifts), and Parquet is the right format for scans
and for any other reader. It is the wrong one for a point lookup: decoding one
row group of sixteen columns costs about a millisecond whatever its size, and
DuckDB spends several more ruling out the row groups that cannot hold the key.
So each data file of an indexed kind gets, written by the same ingest and named
by the same manifest entry (never built by a read)::

    store/index/<kind>/<batch>-<run>.arrow         the same rows in the same order, Arrow IPC,
                                                   uncompressed record batches of 256 rows
    store/index/<kind>/<batch>-<run>.dir.npz       each record batch's smallest and largest key
    store/index/<kind>/<batch>-<run>.<key>.h.npy   for a second key: DuckDB's hash of it, sorted,
    store/index/<kind>/<batch>-<run>.<key>.p.npy   and the row each hash is in (memory-mapped)

A lookup by the file's own key bisects the directory, reads one record batch
(one ``pread``, no decoding: tens of µs) and keeps the rows with the key. A lookup by
a second key (``agent_id``, ``session_id``, ``source_ip``, ``device_id`` for
provisioning; ``session_id``, ``device_id``, ``source_ip`` for sessions; the
user ID for shifts) bisects the hash array and reads the record batches of the
rows found, then keeps those whose key is equal (a hash may collide). None of
this is a source of truth: the Parquet file is, and a batch without an index (a
home from an earlier version, before ``jejak store migrate``), or whose index was
made from another version of its file (``.dir.npz`` records the file's size and
mtime), is read from it.

Example::

    >>> rel = "data/provisioning/000001-0000.parquet"                       # doctest: +SKIP
    >>> by_key(Path("./jejak-data/store"), "provisioning", [rel], ["6281100000001"]).num_rows  # doctest: +SKIP
    3
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from jejak.schema import KINDS
from jejak.sqlq import literal

#: bump when the index files change (an index of another version is ignored, then rebuilt)
VERSION = 1
#: rows per Arrow record batch: one batch is what a lookup reads (uncompressed: one pread,
#: no decoding; LZ4 measured 6x slower to read for a third less disk)
BATCH_ROWS = 256
#: kinds with an index, and the second keys each can be looked up by
SECOND_KEYS: dict[str, tuple[str, ...]] = {
    "subscribers": (),
    "provisioning": ("agent_id", "session_id", "source_ip", "device_id"),
    "consents": (),
    "charges": (),
    "notifications": (),
    "line_actions": (),
    "complaints": (),
    "locations": (),
    "sessions": ("session_id", "device_id", "source_ip"),
    "shifts": ("agent_id",),
}
#: how many open index files a process keeps (their footers and directories)
OPEN_FILES = 1024


def primary_key(kind: str) -> str:
    """The key a kind's files are sorted by (and its index answers directly)."""
    return KINDS[kind].sort[0]


def hash_stamp(con: duckdb.DuckDBPyConnection) -> str:
    """What this DuckDB's ``hash`` makes of a fixed text: the second keys' arrays are only
    valid for a DuckDB that hashes the same (a new DuckDB may hash otherwise)."""
    return str(con.execute("SELECT hash('jejak-index')").fetchall()[0][0])


_LOCK = threading.Lock()
_HASHER: list[duckdb.DuckDBPyConnection] = []


def _hasher() -> duckdb.DuckDBPyConnection:
    """A cursor of this process's own DuckDB connection, for hashing lookup values."""
    with _LOCK:
        if not _HASHER:
            _HASHER.append(duckdb.connect(config={"threads": 1}))
        return _HASHER[0].cursor()


@functools.cache
def usable_stamp() -> dict[str, Any]:
    """The stamp (:func:`stamp`) an index must carry for this process to use it."""
    cur = _hasher()
    try:
        return stamp(cur)
    finally:
        cur.close()


#: hashes already computed (a report asks for the same user IDs and terminals again and again)
_HASHES: OrderedDict[str, int] = OrderedDict()
HASHES_KEPT = 100_000


def hashes(values: Sequence[str]) -> list[int]:
    """DuckDB's hash of each value, as the second keys' arrays hold them."""
    with _LOCK:
        missing = [v for v in dict.fromkeys(values) if v not in _HASHES]
    if missing:
        cur = _hasher()
        try:
            got = cur.execute("SELECT list_transform(?::VARCHAR[], lambda x: hash(x))", [missing])
            computed = [int(h) for h in got.fetchall()[0][0]]
        finally:
            cur.close()
        with _LOCK:
            _HASHES.update(zip(missing, computed, strict=True))
            while len(_HASHES) > HASHES_KEPT:
                _HASHES.popitem(last=False)
    with _LOCK:
        return [_HASHES[v] for v in values]


def stamp(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """What a manifest batch records of its index: the version and :func:`hash_stamp`."""
    return {"version": VERSION, "hash": hash_stamp(con)}


@functools.lru_cache(maxsize=65536)
def base_of(rel: str) -> str:
    """``data/<kind>/<name>.parquet`` -> ``index/<kind>/<name>`` (the index files' common stem)."""
    parts = Path(rel).with_suffix("").parts
    return str(Path("index", *parts[1:]))


def files_of(rel: str, kind: str) -> list[str]:
    """Every index file of one data file, relative to the store's root."""
    base = base_of(rel)
    out = [f"{base}.arrow", f"{base}.dir.npz"]
    for key in SECOND_KEYS.get(kind, ()):
        out += [f"{base}.{key}.h.npy", f"{base}.{key}.p.npy"]
    return out


# ------------------------------------------------------------------ building


def build(con: duckdb.DuckDBPyConnection, kind: str, data: Path, out_base: Path) -> None:
    """Write the index files of the data file ``data`` (of ``kind``) beside ``out_base``.

    pyarrow reads the file once, row group by row group, into the IPC copy and the key
    directory; DuckDB hashes each second key's column alone and sorts the (hash, row) pairs.
    """
    out_base.parent.mkdir(parents=True, exist_ok=True)
    key = primary_key(kind)
    pf = pq.ParquetFile(data)
    lows: list[pa.Array] = []
    highs: list[pa.Array] = []
    with ipc.new_file(str(out_base) + ".arrow", pf.schema_arrow) as writer:
        carry: pa.Table | None = None
        for i in range(pf.metadata.num_row_groups):
            table = pf.read_row_group(i)
            if carry is not None:
                table = pa.concat_tables([carry, table])
            cut = table.num_rows - table.num_rows % BATCH_ROWS
            if cut:
                _write_batches(writer, table.slice(0, cut).combine_chunks(), key, lows, highs)
            carry = table.slice(cut) if cut < table.num_rows else None
        if carry is not None and carry.num_rows:
            _write_batches(writer, carry.combine_chunks(), key, lows, highs)
    st = os.stat(data)
    np.savez(
        str(out_base) + ".dir.npz",
        low=_keys(lows),
        high=_keys(highs),
        data=np.array([st.st_size, st.st_mtime_ns], dtype=np.int64),
    )
    seconds = SECOND_KEYS.get(kind, ())
    if not seconds:
        return
    source = f"read_parquet({literal(data)}, file_row_number=true, hive_partitioning=false)"
    for k in seconds:
        # DuckDB hashes and sorts in parallel, one column read per key (at 2 M rows: 1.5 CPU-s
        # against 1.75 for one scan of all four and numpy's argsort on one core; same arrays)
        got = con.execute(
            f'SELECT hash("{k}") AS h, file_row_number AS p FROM {source} '
            f'WHERE "{k}" IS NOT NULL ORDER BY h, p'
        ).fetchnumpy()
        np.save(f"{out_base}.{k}.h.npy", np.asarray(got.pop("h"), dtype=np.uint64))
        np.save(f"{out_base}.{k}.p.npy", np.asarray(got.pop("p")).astype(np.uint32))
        del got


def _write_batches(
    writer: Any, table: pa.Table, key: str, lows: list[pa.Array], highs: list[pa.Array]
) -> None:
    """Write ``table`` in record batches of BATCH_ROWS, noting each one's key range."""
    if not table.num_rows:
        return
    col = table.column(key).combine_chunks()
    n = table.num_rows
    starts = np.arange(0, n, BATCH_ROWS)
    if col.null_count == 0 and _is_sorted(col):
        lows.append(col.take(pa.array(starts)))
        highs.append(col.take(pa.array(np.minimum(starts + BATCH_ROWS, n) - 1)))
    else:
        lo, hi = [], []
        for s in starts:
            mm = pc.min_max(col.slice(int(s), BATCH_ROWS))
            lo.append(mm["min"].as_py())
            hi.append(mm["max"].as_py())
        lows.append(pa.array(lo, col.type))
        highs.append(pa.array(hi, col.type))
    writer.write_table(table, max_chunksize=BATCH_ROWS)


def _is_sorted(col: pa.Array) -> bool:
    if len(col) < 2:
        return True
    return bool(pc.all(pc.less_equal(col.slice(0, len(col) - 1), col.slice(1))).as_py())


#: the key range of a record batch whose keys are all NULL (sorted last, as DuckDB sorts them)
_NULL_KEY = "\U0010ffff"


def _keys(parts: list[pa.Array]) -> np.ndarray:
    values = (
        pa.concat_arrays([p.cast(pa.string()) for p in parts])
        if parts
        else pa.array([], pa.string())
    )
    filled = pc.fill_null(values, _NULL_KEY)
    return np.array(filled.to_pylist(), dtype=str) if len(filled) else np.array([], dtype="<U1")


# ------------------------------------------------------------------ reading


class _Open:
    """One data file's index, opened: the IPC reader, the directory, the second keys' arrays."""

    def __init__(self, base: Path, seconds: Sequence[str]) -> None:
        # read with pread, not mapped: a report that reads much of a file (a user ID with
        # thousands of actions) must not keep the pages it touched in its resident memory
        self.reader = ipc.open_file(
            pa.OSFile(str(base) + ".arrow"), options=ipc.IpcReadOptions(use_threads=False)
        )
        with np.load(str(base) + ".dir.npz") as d:
            #: the data file this index was made from (size, mtime): another file is not it
            self.data = tuple(int(x) for x in d["data"]) if "data" in d else None
            self.low = d["low"]
            self.high = d["high"]
        # a file sorted by its key is bisected; any other (none is written so) is scanned
        self.sorted = bool(
            np.all(self.low[1:] >= self.low[:-1]) and np.all(self.high[1:] >= self.high[:-1])
        )
        self.seconds: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for key in seconds:
            h = np.load(f"{base}.{key}.h.npy", mmap_mode="r")
            p = np.load(f"{base}.{key}.p.npy", mmap_mode="r")
            self.seconds[key] = (h, p)

    def batches_for(self, value: str) -> Iterable[int]:
        """The record batches whose key range holds ``value``."""
        if not self.sorted:
            return (int(i) for i in np.nonzero((self.low <= value) & (self.high >= value))[0])
        first = int(np.searchsorted(self.high, value, side="left"))
        last = int(np.searchsorted(self.low, value, side="right"))
        return range(first, last)

    def rows_for(self, hashes: Iterable[int], key: str) -> np.ndarray:
        h, p = self.seconds[key]
        found = []
        for value in hashes:
            lo = int(np.searchsorted(h, np.uint64(value), side="left"))
            hi = int(np.searchsorted(h, np.uint64(value), side="right"))
            if hi > lo:
                found.append(np.asarray(p[lo:hi]))
        if not found:
            return np.empty(0, dtype=np.uint32)
        return np.unique(np.concatenate(found))


_OPEN: OrderedDict[tuple[str, int, int], _Open] = OrderedDict()


def _open(root: Path, kind: str, rel: str) -> _Open | None:
    """The index of the data file ``rel``, opened; None when it is missing, unreadable, or was
    made from another version of the file (one an erasure rewrote since, say)."""
    base = f"{root}/{base_of(rel)}"
    try:
        st = os.stat(base + ".arrow")
        ds = os.stat(f"{root}/{rel}")
    except FileNotFoundError:
        return None
    stamp = (base, st.st_mtime_ns, st.st_size)
    with _LOCK:
        got = _OPEN.get(stamp)
        if got is not None:
            _OPEN.move_to_end(stamp)
    if got is None:
        try:
            got = _Open(Path(base), SECOND_KEYS.get(kind, ()))
        except (OSError, ValueError, KeyError, pa.ArrowInvalid):
            return None
        with _LOCK:
            _OPEN[stamp] = got
            while len(_OPEN) > OPEN_FILES:
                _OPEN.popitem(last=False)
    if got.data is not None and got.data != (ds.st_size, ds.st_mtime_ns):
        return None
    return got


def current(root: Path, kind: str, rel: str) -> bool:
    """Whether the data file ``rel`` has a whole index made from it as it is now."""
    got = _open(root, kind, rel)
    if got is None:
        return False
    return all(os.path.exists(root / name) for name in files_of(rel, kind))


def forget(root: Path) -> None:
    """Drop the open index files under ``root`` (after they were rewritten or deleted)."""
    prefix = str(root)
    with _LOCK:
        for stamp in [s for s in _OPEN if s[0].startswith(prefix)]:
            del _OPEN[stamp]


def by_key(root: Path, kind: str, rels: Sequence[str], values: Sequence[str]) -> pa.Table | None:
    """The rows of ``kind`` whose own key is one of ``values``, from the indexed files ``rels``
    (relative to ``root``); None when one of them has no index (read the Parquet instead)."""
    key = primary_key(kind)
    parts: list[pa.Table] = []
    opened = [_open(root, kind, rel) for rel in rels]
    if any(o is None for o in opened):
        return None
    wanted = pa.array(sorted(set(values)), pa.string())
    for o in opened:
        assert o is not None
        seen: set[int] = set()
        for value in wanted.to_pylist():
            for i in o.batches_for(value):
                if i in seen:
                    continue
                seen.add(i)
                batch = o.reader.get_batch(i)
                mask = pc.is_in(batch.column(key), value_set=wanted)
                if pc.any(mask).as_py():
                    parts.append(pa.Table.from_batches([batch.filter(mask)]))
    return _concat(parts, opened)


def by_second(
    root: Path,
    kind: str,
    rels: Sequence[str],
    key: str,
    values: Sequence[str],
    hashes: Sequence[int],
) -> pa.Table | None:
    """The rows of ``kind`` whose second key ``key`` is one of ``values`` (``hashes``: DuckDB's
    hash of each); None when one of the files has no index for it."""
    parts: list[pa.Table] = []
    opened = [_open(root, kind, rel) for rel in rels]
    if any(o is None or key not in o.seconds for o in opened):
        return None
    wanted = pa.array(sorted(set(values)), pa.string())
    for o in opened:
        assert o is not None
        rows = o.rows_for(hashes, key)
        if not len(rows):
            continue
        # the record batches holding the rows, side by side (no copy), then one take and one
        # filter: a key with thousands of rows costs a few vectorised calls, not one per batch
        which = rows // BATCH_ROWS
        needed = np.unique(which)
        batches = [o.reader.get_batch(int(i)) for i in needed]
        starts = np.zeros(len(needed) + 1, dtype=np.int64)
        np.cumsum([b.num_rows for b in batches], out=starts[1:])
        slot = np.searchsorted(needed, which)
        local = starts[slot] + (rows - which * BATCH_ROWS)
        got = pa.Table.from_batches(batches).combine_chunks().take(pa.array(local, pa.int64()))
        got = got.filter(pc.is_in(got.column(key), value_set=wanted))
        if got.num_rows:
            parts.append(got)
    return _concat(parts, opened)


def _concat(parts: list[pa.Table], opened: Sequence[_Open | None]) -> pa.Table | None:
    if parts:
        return pa.concat_tables(parts, promote_options="permissive")
    for o in opened:
        if o is not None:
            return o.reader.schema.empty_table()
    return None


def size_of(root: Path, rels: Iterable[str], kind: str) -> int:
    """Bytes the index files of ``rels`` take on disk (for status and the benchmarks)."""
    total = 0
    for rel in rels:
        for name in files_of(rel, kind):
            with contextlib.suppress(FileNotFoundError):
                total += os.stat(root / name).st_size
    return total


__all__ = [
    "BATCH_ROWS",
    "SECOND_KEYS",
    "VERSION",
    "base_of",
    "build",
    "by_key",
    "by_second",
    "current",
    "files_of",
    "forget",
    "hash_stamp",
    "hashes",
    "primary_key",
    "size_of",
    "stamp",
    "usable_stamp",
]
