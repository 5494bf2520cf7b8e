"""The log writer and reader: one writer, atomic batch appends, crash recovery.

Layout under ``<home>/ledger/`` (C2SP tlog-tiles v1.0.0, servable as static files)::

    checkpoint                 the signed checkpoint (C2SP tlog-checkpoint + signed-note): the commit point
    tile/<L>/<N>[.p/<W>]       hash tiles (full tiles never change)
    tile/entries/<N>[.p/<W>]   entry bundles
    appends.json               what each append holds (leaf range -> store batch, file, kind)
    erasures.json              an earlier version's unsigned erasure list: proves nothing
    pending                    present only during an append: the sizes it goes from and to
    .lock                      flock held by the one writer

**All or nothing.** An append writes ``pending``, then the new tiles and
bundles (full tiles are new files, partial tiles new ``.p/W`` names), fsyncs
them, writes ``appends.json``, and finally replaces ``checkpoint`` atomically
(write, fsync, rename, fsync the folder). Whatever lies beyond the
checkpoint's size is not part of the log: the next writer deletes it (guided by
``pending``) and overwrites it. A reader only ever reads tiles up to the
checkpoint's size.

Example::

    >>> log = Log("/tmp/jejak-doc")                   # doctest: +SKIP
    >>> log.append([b"first", b"second"])             # doctest: +SKIP
    (0, 2)
    >>> log.inclusion_proof(1)                        # doctest: +SKIP
    [b'...']
"""

from __future__ import annotations

import ctypes
import fcntl
import functools
import json
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from jejak.errors import LedgerError, VerificationError
from jejak.fsio import crash_point, fsync_dir, write_atomic
from jejak.ledger import merkle as M
from jejak.ledger.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from jejak.ledger.keys import log_signer, log_verifier
from jejak.ledger.note import Signer, Verifier
from jejak.ledger.state import check_extends, record_signed
from jejak.ledger.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    TileReader,
    encode_bundle,
    entries_path,
    hash_level0,
    read_bundle,
    read_tile,
    tile_path,
    widths,
)
from jejak.settings import settings

FORMAT = 1
HS = M.HASH_SIZE


class Log:
    """The transparency log under ``<home>/ledger``."""

    def __init__(self, home: str | Path | None = None, *, origin: str | None = None) -> None:
        self.home = Path(home) if home is not None else settings().home
        self.dir = self.home / "ledger"
        self.origin = origin or settings().ledger_origin
        self._signer: Signer | None = None
        self._full_tiles: dict[tuple[int, int, int], list[bytes]] = {}
        self._checkpoint: tuple[bytes, Checkpoint] | None = None

    # ------------------------------------------------------------- keys

    @property
    def signer(self) -> Signer:
        if self._signer is None:
            self._signer = log_signer(self.home, self.origin)
        return self._signer

    @property
    def verifier(self) -> Verifier:
        """The verifier key (from ``keys/ledger.vkey``, else made with the private key)."""
        try:
            return log_verifier(self.home)
        except LedgerError:
            return self.signer.verifier()

    # ---------------------------------------------------------- reading

    @property
    def checkpoint_path(self) -> Path:
        return self.dir / "checkpoint"

    def signed_checkpoint(self) -> str:
        """The signed checkpoint note; an empty log gets a signed size-0 checkpoint."""
        try:
            return self.checkpoint_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            with self._lock():
                if not self.checkpoint_path.exists():
                    empty = Checkpoint(self.origin, 0, M.EMPTY_ROOT)
                    check_extends(
                        self.home, self.reader(0), empty, self.signer.verifier(), have_tiles=False
                    )
                    self.dir.mkdir(parents=True, exist_ok=True)
                    note = sign_checkpoint(empty, self.signer)
                    write_atomic(self.checkpoint_path, note.encode())
                    record_signed(self.home, note)
            return self.checkpoint_path.read_text(encoding="utf-8")

    def checkpoint(self, verifier: Verifier | None = None) -> Checkpoint:
        """The current checkpoint, its signature checked; size 0 when nothing was appended.

        The file is read on every call; only the signature check is skipped when
        its bytes are the ones this object verified last.
        """
        try:
            note = self.checkpoint_path.read_bytes()
        except FileNotFoundError:
            return Checkpoint(self.origin, 0, M.EMPTY_ROOT)
        if verifier is None and self._checkpoint and self._checkpoint[0] == note:
            return self._checkpoint[1]
        cp, _ = open_checkpoint(
            note, verifier or self.verifier, origin=self.origin, where=str(self.checkpoint_path)
        )
        if verifier is None:
            self._checkpoint = (note, cp)
        return cp

    @property
    def size(self) -> int:
        return self.checkpoint().size

    def reader(self, size: int | None = None) -> TileReader:
        """A tile reader for the tree of ``size`` (default: the checkpoint's), sharing this log's
        cache of hashed tiles (a tile of a given width never changes)."""
        return TileReader(self.dir, self.size if size is None else size, shared=self._full_tiles)

    def leaf_hash(self, index: int, size: int | None = None) -> bytes:
        r = self.reader(size)
        if not 0 <= index < r.size:
            raise LedgerError(f"leaf {index}", f"not in the log of size {r.size}")
        return r.leaf_hash(index)

    def entry(self, index: int, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        if not 0 <= index < size:
            raise LedgerError(f"leaf {index}", f"not in the log of size {size}")
        n = index // TILE_WIDTH
        width = min(TILE_WIDTH, size - n * TILE_WIDTH)
        return read_bundle(self.dir, n, width)[index % TILE_WIDTH]

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 6962 inclusion proof of leaf ``index`` in the tree of ``size`` (default: now)."""
        r = self.reader(size)
        return M.inclusion_proof(index, r.size, r.range_hash)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """RFC 6962 consistency proof from ``size1`` to ``size2`` (default: now)."""
        r = self.reader(size2)
        if size1 > r.size:
            raise LedgerError(f"size {size1}", f"beyond the log's size {r.size}")
        return M.consistency_proof(size1, r.size, r.range_hash)

    def root(self, size: int | None = None) -> bytes:
        r = self.reader(size)
        return M.EMPTY_ROOT if r.size == 0 else r.range_hash(0, r.size)

    def appends(self) -> list[dict[str, Any]]:
        """What each committed append holds (``first``, ``count`` and the caller's record)."""
        path = self.dir / "appends.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except ValueError as exc:
            raise LedgerError(str(path), f"cannot read: {exc}") from None
        size = self.size
        return [a for a in data["appends"] if a["first"] + a["count"] <= size]

    # ---------------------------------------------------------- writing

    @contextmanager
    def _lock(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fcntl.flock(fd, fcntl.LOCK_EX)  # wait: appends are short
            yield
        finally:
            os.close(fd)

    @contextmanager
    def writer(self) -> Iterator[Writer]:
        """Hold the one-writer lock, roll back a crashed append, and yield a :class:`Writer`.

        Before anything is signed the writer checks that the tree extends the last
        checkpoint this key signed and the last one witnessed (:mod:`jejak.ledger.state`).
        After an append, when the log's policy names witnesses, the new checkpoint is
        submitted to them (:func:`jejak.ledger.publish.publish`), outside the lock.
        """
        with self._lock():
            w = Writer(self)
            start = w.size
            yield w
            grew = w.size != start
        if grew:
            from jejak.ledger.publish import publish_if_policy

            publish_if_policy(self)

    def append(
        self, entries: Sequence[bytes], record: dict[str, Any] | None = None
    ) -> tuple[int, int]:
        """Append ``entries`` as one batch with one signed checkpoint; return (first index, count)."""
        with self.writer() as w:
            return w.append(entries, record)


#: appends of at least this many leaves hash half of them in a worker process (2 cores)
PARALLEL_FROM = 1 << 17
_pool: ProcessPoolExecutor | None = None


def _worker_pool() -> ProcessPoolExecutor | None:
    global _pool
    if _pool is None and (os.cpu_count() or 1) > 1:
        # forkserver: the worker starts clean, safe beside DuckDB's threads in this process
        _pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver"))
    return _pool


class Hashed(NamedTuple):
    """A chunk of entries with their leaf hashes already computed (concatenated), e.g. by DuckDB."""

    entries: Sequence[bytes]
    leaves: bytes


def _hash_level0(
    lead: bytes, entries: Sequence[bytes], leaves: bytes | None = None
) -> tuple[bytes, list[bytes]]:
    """Leaf hashes and full-tile roots, split with a worker process for big appends."""
    n = len(entries)
    lead_n = len(lead) // HS
    split = ((lead_n + n // 2) // TILE_WIDTH) * TILE_WIDTH - lead_n
    pool = _worker_pool() if n >= PARALLEL_FROM else None
    if pool is None or split <= 0:
        return hash_level0(lead, entries, leaves)
    global _pool
    if leaves is None:
        far = pool.submit(hash_level0, b"", list(entries[split:]))
        near_hashes, near_roots = hash_level0(lead, entries[:split])
    else:  # only the tiles' inner nodes are left to hash: send the worker hashes, not entries
        far = pool.submit(hash_level0, b"", (), leaves[split * HS :])
        near_hashes, near_roots = hash_level0(lead, (), leaves[: split * HS])
    try:
        far_hashes, far_roots = far.result()
    except BrokenProcessPool:  # the worker could not start or died: hash here, and stay serial
        _pool = None
        if leaves is None:
            far_hashes, far_roots = hash_level0(b"", entries[split:])
        else:
            far_hashes, far_roots = hash_level0(b"", (), leaves[split * HS :])
    return near_hashes + far_hashes, near_roots + far_roots


class _FileSink:
    """Writes an append's new files on worker threads, and makes them durable before the block ends.

    Creating thousands of small files is bound by the disk's latency, not the
    CPU, so several threads write at once while the caller goes on hashing. An
    append of many files (a big batch writes two per 256 leaves) is made durable
    with one ``syncfs(2)`` of the log's filesystem: on Linux it waits for the
    writeback to complete, the guarantee of an fsync on every file, at a fraction
    of the cost of thousands of fsyncs. Small appends fsync each file and folder.
    """

    WORKERS = 8
    SYNCFS_FROM = 64
    CHUNK = 32

    def __init__(self, root: Path) -> None:
        self.root = str(root)
        self.made: set[str] = set()
        self.futures: list[Future[list[int]]] = []
        self.pending: list[tuple[str, bytes]] = []
        self.pool = ThreadPoolExecutor(self.WORKERS)
        self.count = 0

    def __enter__(self) -> _FileSink:
        return self

    def write(self, rel: str, data: bytes) -> None:
        path = self.root + "/" + rel
        parent = path.rpartition("/")[0]
        if parent not in self.made:
            os.makedirs(parent, exist_ok=True)
            self.made.add(parent)
        self.pending.append((path, data))
        self.count += 1
        if len(self.pending) >= self.CHUNK:
            self._flush()

    def _flush(self) -> None:
        # once the append is big enough for one syncfs(2), files are closed as soon as they
        # are written: a batch of millions of leaves makes more files than a process may hold open
        close = _syncfs is not None and self.count >= self.SYNCFS_FROM
        self.futures.append(self.pool.submit(_write_files, self.pending, close))
        self.pending = []

    def __exit__(self, exc_type: object, *exc: object) -> None:
        try:
            if self.pending:
                self._flush()
            fds = [fd for f in self.futures for fd in f.result()]
            big = self.count >= self.SYNCFS_FROM and _syncfs is not None
            try:
                if exc_type is not None:
                    return
                if big and _syncfs is not None:
                    fd = os.open(self.root, os.O_RDONLY)
                    try:
                        _syncfs(fd)
                    finally:
                        os.close(fd)
                else:
                    list(self.pool.map(os.fsync, fds))
                    list(self.pool.map(fsync_dir, map(Path, self.made)))
            finally:
                for fd in fds:
                    os.close(fd)
        finally:
            self.pool.shutdown(wait=True)


def _write_files(files: list[tuple[str, bytes]], close: bool = False) -> list[int]:
    """Write new files; return their still open descriptors (closed by the caller after syncing),
    or none when ``close``: a syncfs(2) of the filesystem will make them durable."""
    fds: list[int] = []
    try:
        for path, data in files:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            fds.append(fd)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if close:
                os.close(fds.pop())
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    return fds


def _load_syncfs() -> Callable[[int], None] | None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.syncfs
    except (OSError, AttributeError):
        return None

    def syncfs(fd: int) -> None:
        if fn(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))

    return syncfs


_syncfs = _load_syncfs()


class Writer:
    """The log's state at its right edge, held by the one writer (see :meth:`Log.writer`)."""

    def __init__(self, log: Log) -> None:
        self.log = log
        self.dir = log.dir
        self._recover()
        cp = log.checkpoint()
        self.size = cp.size
        self.root = cp.root
        # edge[L]: the hashes of the partial tile at level L; bundle: the partial bundle's entries
        self.edge: list[list[bytes]] = []
        for level, full, width in widths(self.size):
            data = read_tile(self.dir, level, full, width) if width else b""
            self.edge.append([data[i : i + HS] for i in range(0, len(data), HS)])
        full, width = divmod(self.size, TILE_WIDTH)
        self.bundle = read_bundle(self.dir, full, width) if width else []
        if self._edge_root() != self.root:
            raise VerificationError(
                str(self.dir),
                f"the tiles at the right edge do not match the checkpoint (size {self.size})",
            )
        check_extends(
            log.home,
            log.reader(self.size),
            cp,
            log.signer.verifier(),
            have_tiles=log.checkpoint_path.exists(),
        )

    def _edge_root(self) -> bytes:
        """MTH of the whole tree from the partial tiles alone (every complete subtree of the
        size's binary decomposition lies in the partial tile of its level)."""
        acc: bytes | None = None
        for level in range(len(self.edge)):  # lowest level first = rightmost subtrees first
            hashes = self.edge[level]
            n = len(hashes)
            pos = n
            for bit in range(TILE_HEIGHT):
                if n >> bit & 1:
                    pos -= 1 << bit
                    h = M.root_of(hashes[pos : pos + (1 << bit)])
                    acc = h if acc is None else M.node_hash(h, acc)
        return M.EMPTY_ROOT if acc is None else acc

    def _recover(self) -> None:
        """Delete what a crashed append wrote beyond the committed checkpoint."""
        pending = self.dir / "pending"
        if not pending.exists():
            return
        try:
            frm, to = (int(x) for x in pending.read_text().split())
        except ValueError:
            frm, to = -1, -1
        committed = self.log.checkpoint().size
        if committed != to:
            if frm != committed:
                frm = committed  # a torn marker: roll back everything past the checkpoint
                to = max(to, committed + (1 << 40))
            self._delete_beyond(committed, to)
        (self.dir / "appends.json.tmp").unlink(missing_ok=True)
        (self.dir / "checkpoint.tmp").unlink(missing_ok=True)
        pending.unlink()
        fsync_dir(self.dir)

    def _delete_beyond(self, size: int, upto: int) -> None:
        """Delete the bundles and tiles (full or ``.p/W``) past a tree of ``size`` that an
        append towards ``upto`` may have written; committed partial tiles stay."""
        series: list[tuple[int, Callable[[int, int], str]]] = [(0, entries_path)]
        series += [(TILE_HEIGHT * lvl, functools.partial(tile_path, lvl)) for lvl in range(8)]
        for shift, path_of in series:
            have, top = size >> shift, upto >> shift
            if top == 0 and have == 0 and shift:
                break
            first = have // TILE_WIDTH
            for idx in range(first, min(top // TILE_WIDTH, first + (1 << 20)) + 1):
                keep = have - idx * TILE_WIDTH if idx == first else 0  # committed partial width
                full = self.dir / path_of(idx, 0)
                if full.exists():
                    full.unlink()
                pdir = full.with_name(full.name + ".p")
                if pdir.is_dir():
                    for p in pdir.iterdir():
                        if not p.name.isdigit() or int(p.name) > keep:
                            p.unlink()
                elif not full.parent.exists() and idx > first:
                    break

    def append(
        self, entries: Sequence[bytes], record: dict[str, Any] | None = None
    ) -> tuple[int, int]:
        """Append ``entries`` with one signed checkpoint; return (first index, count)."""
        return self.append_chunks([entries], len(entries), record)

    def append_chunks(
        self,
        chunks: Iterable[Sequence[bytes] | Hashed],
        count: int,
        record: dict[str, Any] | None = None,
    ) -> tuple[int, int]:
        """Append ``count`` entries that arrive in chunks, as one append with one checkpoint.

        Memory stays bounded by one chunk whatever the append's size: each chunk's
        tiles are written as it comes; the checkpoint, written last, is the commit point.
        """
        first = self.size
        if not count:
            return first, 0
        new_size = first + count
        write_atomic(self.dir / "pending", f"{first} {new_size}\n".encode())
        pos = first
        touched: set[int] = set()
        with _FileSink(self.dir) as sink:
            for chunk in chunks:
                entries, leaves = chunk if isinstance(chunk, Hashed) else (chunk, None)
                if leaves is not None and len(leaves) != HS * len(entries):
                    raise LedgerError(
                        str(self.dir), "a chunk's leaf hashes do not match its entries"
                    )
                if pos + len(entries) > new_size:
                    raise LedgerError(
                        str(self.dir), f"an append announced {count} entries and brought more"
                    )
                self._extend(entries, pos, sink, touched, leaves)
                pos += len(entries)
            if pos != new_size:
                raise LedgerError(
                    str(self.dir), f"an append announced {count} entries and brought {pos - first}"
                )
            # the partial tiles of the new size, at each level this append changed
            for level in sorted(touched):
                index, width = divmod(new_size >> (TILE_HEIGHT * level), TILE_WIDTH)
                if not width:
                    continue
                if level == 0:
                    sink.write(entries_path(index, width), encode_bundle(self.bundle))
                sink.write(tile_path(level, index, width), b"".join(self.edge[level]))
        crash_point("ledger-before-checkpoint")

        self.size = new_size
        self.root = self._edge_root()
        if record is not None or (self.dir / "appends.json").exists():
            self._write_appends(first, count, record)
        cp = Checkpoint(self.log.origin, self.size, self.root)
        note = sign_checkpoint(cp, self.log.signer)
        write_atomic(self.dir / "checkpoint", note.encode())
        (self.dir / "pending").unlink()
        record_signed(self.log.home, note)
        return first, count

    def _extend(
        self,
        entries: Sequence[bytes],
        first: int,
        sink: _FileSink,
        touched: set[int],
        leaves: bytes | None = None,
    ) -> None:
        """Write the full tiles and bundles that ``entries``, placed at ``first``, complete; keep
        the rest at the right edge and note in ``touched`` the levels whose edge changed."""
        if not entries:
            return
        # level 0: entry bundles and leaf tiles, tile by tile, the files fsynced in the background
        lead = b"".join(self.edge[0])
        hashes, up = _hash_level0(lead, entries, leaves)
        hbuf = lead + hashes
        ebuf = self.bundle + list(entries)
        start = first // TILE_WIDTH
        nfull = len(ebuf) // TILE_WIDTH
        tile = TILE_WIDTH * HS
        for i in range(nfull):
            sink.write(
                entries_path(start + i),
                encode_bundle(ebuf[i * TILE_WIDTH : (i + 1) * TILE_WIDTH]),
            )
            sink.write(tile_path(0, start + i), hbuf[i * tile : (i + 1) * tile])
        self.bundle = ebuf[nfull * TILE_WIDTH :]
        rest = hbuf[nfull * tile :]
        self.edge[0] = [rest[i : i + HS] for i in range(0, len(rest), HS)]
        touched.add(0)

        # higher levels: each full tile's root is the next level's new hash
        new, level = up, 1
        while new:
            if level == len(self.edge):
                self.edge.append([])
            start = (first >> (TILE_HEIGHT * level)) // TILE_WIDTH
            buf = self.edge[level] + new
            nfull = len(buf) // TILE_WIDTH
            up = []
            for i in range(nfull):
                chunk = buf[i * TILE_WIDTH : (i + 1) * TILE_WIDTH]
                sink.write(tile_path(level, start + i), b"".join(chunk))
                up.append(M.root_of(chunk))
            self.edge[level] = buf[nfull * TILE_WIDTH :]
            touched.add(level)
            new = up
            level += 1

    def _write_appends(self, first: int, count: int, record: dict[str, Any] | None) -> None:
        path = self.dir / "appends.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {"format": FORMAT, "appends": []}
        data["appends"] = [a for a in data["appends"] if a["first"] + a["count"] <= first]
        data["appends"].append(
            {
                "first": first,
                "count": count,
                "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                **(record or {}),
            }
        )
        write_atomic(path, json.dumps(data, indent=1, sort_keys=True).encode())
