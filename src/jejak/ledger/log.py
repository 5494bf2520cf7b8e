"""The log writer and reader: one writer, atomic batch appends, crash recovery.

Layout under ``<home>/ledger/`` (C2SP tlog-tiles v1.0.0, servable as static files)::

    checkpoint                 the signed checkpoint (C2SP tlog-checkpoint + signed-note): the commit point
    tile/<L>/<N>[.p/<W>]       hash tiles (full tiles never change)
    tile/entries/<N>[.p/<W>]   entry bundles
    appends.jsonl              what each append holds, one line per append (:mod:`jejak.ledger.journal`)
    erasures.json              an earlier version's unsigned erasure list: proves nothing
    .lock                      flock held by the one writer

Beside them, ``<home>/keys/ledger.state`` holds the last checkpoint the key signed
(:mod:`jejak.ledger.state`). Earlier versions also wrote ``appends.json`` (the same records
as one document, rewritten by every append) and a ``pending`` marker; the writer reads,
recovers and migrates both.

**All or nothing.** An append (:meth:`Writer.append_chunks`):

1. appends its line to ``appends.jsonl``: the record, and the marker of an append under way;
2. writes its new entry bundles and tiles (full tiles are new files, partial tiles new
   ``.p/W`` names; no committed file is ever opened for writing), hashes the tree, signs
   the new checkpoint and writes it to ``checkpoint.tmp``, and the key's new state to
   ``keys/ledger.state.tmp``;
3. makes all of that durable **at once**: one fsync per file and per folder that gained a
   name, all issued in parallel on threads (the file system commits them together), or,
   for an append of many files, one ``syncfs(2)`` of the log's file system;
4. renames ``checkpoint.tmp`` over ``checkpoint`` and fsyncs ``ledger/``: **the commit point**;
5. renames the state file into place.

Whatever lies beyond the checkpoint's size is not part of the log: readers read tiles, bundles
and journal lines only up to it, and the next writer cuts the journal's lines beyond it and
deletes the tiles they name (:meth:`Writer._recover`).

**Why each remaining fsync is needed** (a small append costs two rounds of waiting on the disk,
step 3 then step 4; earlier versions waited on about eight in a row):

* the tiles and bundles (step 3): the checkpoint about to be committed covers them; if
  they could be lost while it survives, the log would be unreadable;
* the folders that gained a tile's or bundle's name (step 3): a file's fsync does not make
  its name durable; a new ``.p`` folder needs its parent fsynced too;
* the journal line (step 3): a caller that sees the append committed trusts its record
  (the store does not append a batch the journal says the log holds); a committed append
  without its line would make the store append a batch twice;
* ``checkpoint.tmp`` (step 3): after the rename a power cut must not leave an empty or
  partial checkpoint, which would make the whole log unreadable;
* ``ledger/`` after the rename (step 4): the append is committed when ``append`` returns
  (the case database marks its outbox rows as logged), and the key's state (step 5) must
  never reach the disk before the checkpoint it records, or the next writer would see a
  log behind what its key signed and refuse to write (a fork);
* ``keys/ledger.state.tmp`` (step 3): the rename must not leave an empty state file;
* the journal, once, after a recovery cut lines off it (only then): the cut must be
  durable before a new line is written where the cut ones were, or a power cut could leave
  the new line spliced onto the end of a stale one.

What is **not** fsynced, and why that is safe: the journal line is written before the tiles
without its own fsync (it is only a marker for tidying: a line or tile beyond the checkpoint is
never read, and every file that a later append commits is written again by that append, so
stale tiles a power cut leaves unmarked are harmless); the rename of the state file
(step 5) is left to the file system's next commit: the state is a lower bound of what the key
signed, the writer accepts any log that extends it, so a state one append behind after a
power cut is still correct; the deletions of a recovery (they only remove what is not part of
the log).

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
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import (
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from hashlib import sha256
from pathlib import Path
from typing import Any, NamedTuple

from jejak.errors import LedgerError, VerificationError
from jejak.fsio import crash_point, fsync_dir, write_atomic
from jejak.ledger import merkle as M
from jejak.ledger.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from jejak.ledger.journal import Journal, line
from jejak.ledger.keys import log_signer, log_verifier
from jejak.ledger.note import Signer, Verifier
from jejak.ledger.state import check_extends, record_signed, signed_state, state_path
from jejak.ledger.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    TileReader,
    encode_bundle,
    entries_path,
    hash_tiles,
    read_bundle,
    read_tile,
    tile_path,
    widths,
)
from jejak.settings import settings

FORMAT = 1
HS = M.HASH_SIZE
TILE_BYTES = TILE_WIDTH * HS


class Log:
    """The transparency log under ``<home>/ledger``."""

    def __init__(self, home: str | Path | None = None, *, origin: str | None = None) -> None:
        cfg = settings()  # read once: a log may append thousands of times
        self.home = Path(home) if home is not None else cfg.home
        self.dir = self.home / "ledger"
        self.origin = origin or cfg.ledger_origin
        self._crash_at = cfg.crash_at
        self._journal = Journal(self.dir)
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
        """What each committed append holds (``first``, ``count``, ``at`` and the caller's record),
        oldest first. The dicts are shared with later calls: do not change them."""
        size = self.size  # first: every journal line within this size is final
        return self._journal.entries(size)

    def pending(self) -> tuple[int, int] | None:
        """``(first, end)`` of an append under way, or cut off by a crash and not yet rolled back
        by the next writer; None when there is none (``end`` is -1 when a torn line does not say)."""
        size = self.size
        try:
            frm, to = (int(x) for x in (self.dir / "pending").read_text().split())
            if to != size:
                return frm, to  # an earlier version's marker
        except FileNotFoundError:
            pass
        except ValueError:
            return size, -1
        return self._journal.pending(size)

    def _crash(self, name: str) -> None:
        if self._crash_at == name:
            crash_point(name)

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


class Hashed(NamedTuple):
    """A chunk of entries with their leaf hashes already computed (concatenated), e.g. by DuckDB."""

    entries: Sequence[bytes]
    leaves: bytes


# ------------------------------------------------------------ hashing in parallel

#: appends of at least this many leaves hash their whole tiles in worker processes too
PARALLEL_FROM = 1 << 15
#: a worker's job: a run of this many whole tiles at most (and at least MIN_RANGE)
MAX_RANGE = 256
MIN_RANGE = 4
_pool: ProcessPoolExecutor | None = None
_pool_workers = 0


def _worker_pool() -> ProcessPoolExecutor | None:
    """One worker process per core but one (the writer's own process hashes too); None on one core."""
    global _pool, _pool_workers
    if _pool is None and (os.cpu_count() or 1) > 1:
        _pool_workers = min(7, (os.cpu_count() or 2) - 1)
        # forkserver: the worker starts clean, safe beside DuckDB's threads in this process
        _pool = ProcessPoolExecutor(
            _pool_workers, mp_context=multiprocessing.get_context("forkserver")
        )
    return _pool


def _roots_job(entries: Sequence[bytes], leaves: bytes | None) -> tuple[bytes, bytes]:
    """A worker's job: :func:`hash_tiles`, sending back only what the writer lacks."""
    hashes, roots = hash_tiles(entries, leaves)
    return (b"" if leaves is not None else hashes), roots


def _tiles_in_parallel(
    entries: Sequence[bytes],
    leaves: bytes | None,
    bundles: Callable[[], None],
    tiles: Callable[[int, bytes, bytes], None],
) -> None:
    """Hash whole tiles (:func:`hash_tiles`) with worker processes, writing files as hashes come.

    The run is cut into ranges of tiles, all queued for the workers at once. The writer's
    own process first writes the entry bundles (``bundles``: they need no hash), then
    hands each range's hashes to ``tiles(first tile, leaf hashes, roots)`` in order.
    While a worker still hashes the range it waits for, it hashes a range that no worker
    has started, from the far end: each process does what it has time for, whatever else
    the machine is doing. Only hashes cross between processes and the writer alone
    writes files, so no worker can outlive a killed writer and write into the log behind
    the next one.
    """
    global _pool
    n = len(entries) if leaves is None else len(leaves) // HS
    count = n // TILE_WIDTH
    pool = _worker_pool()
    assert pool is not None
    per = max(MIN_RANGE, min(MAX_RANGE, -(-count // (8 * (_pool_workers + 1)))))
    ranges = [(lo, min(lo + per, count)) for lo in range(0, count, per)]

    def job(i: int) -> tuple[Sequence[bytes], bytes | None]:
        a, b = ranges[i][0] * TILE_WIDTH, ranges[i][1] * TILE_WIDTH
        return ((), leaves[a * HS : b * HS]) if leaves is not None else (entries[a:b], None)

    def give(i: int, result: tuple[bytes, bytes]) -> None:
        lo, hi = ranges[i]
        hashes = result[0] or leaves[lo * TILE_BYTES : hi * TILE_BYTES]  # type: ignore[index]
        tiles(lo, hashes, result[1])

    futures: list[Future[tuple[bytes, bytes]]] = []
    try:
        try:
            for i in range(len(ranges)):
                futures.append(pool.submit(_roots_job, *job(i)))
        except (BrokenProcessPool, RuntimeError):
            _pool = None  # the pool broke before: what was not queued is hashed here
        bundles()
        steal = len(ranges) - 1  # the next range to take from the far end
        stolen: set[int] = set()
        for i in range(len(ranges)):
            if i in stolen:
                continue
            while i < len(futures) and not futures[i].done():
                if steal > i and (steal >= len(futures) or futures[steal].cancel()):
                    give(steal, _roots_job(*job(steal)))
                    stolen.add(steal)
                    steal -= 1
                else:
                    steal = i  # a worker has every range up to the far one taken
                    wait([futures[i]])
            if i >= len(futures):
                give(i, _roots_job(*job(i)))
                continue
            try:
                result = futures[i].result()
            except BrokenProcessPool:  # a worker could not start or died: hash here
                _pool = None
                result = _roots_job(*job(i))
            give(i, result)
    except BaseException:
        for f in futures:
            f.cancel()  # leave no queued work behind a failed append
        raise


def _leaf_hashes(entries: Sequence[bytes]) -> bytes:
    prefix = M.LEAF_PREFIX
    return b"".join([sha256(prefix + e).digest() for e in entries])


def _split(hashes: bytes) -> list[bytes]:
    return [hashes[i : i + HS] for i in range(0, len(hashes), HS)]


# ------------------------------------------------------------ durable files

_threads: ThreadPoolExecutor | None = None
_threads_pid = 0


def _io_threads() -> ThreadPoolExecutor:
    """Threads to wait on many fsyncs at once (kept for the process; made anew after a fork)."""
    global _threads, _threads_pid
    if _threads is None or _threads_pid != os.getpid():
        _threads = ThreadPoolExecutor(16, thread_name_prefix="jejak-fsync")
        _threads_pid = os.getpid()
    return _threads


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


def _sync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _FileSink:
    """The files of one append, made durable together when the block ends.

    Files are written from the writer's thread as they come: they land in the page
    cache, and threads would only fight over the interpreter (measured: more CPU, no
    faster). What waits on the disk is making them durable, so that is done once for
    all of them at the end. A small append keeps its few files open, then fsyncs each
    of them, and each folder that gained a name, all at once on threads (the file
    system commits them together). An append of many files (a big batch writes two per
    256 leaves) closes each as soon as it is written (a batch of millions of leaves
    makes more files than a process may hold open) and calls ``syncfs(2)`` once: on
    Linux it waits for the writeback of the whole file system, the guarantee of an
    fsync on every file, at a fraction of the cost of thousands of fsyncs.
    """

    def __init__(self, root: Path, *, many: bool) -> None:
        self.root = str(root)
        self.many = many and _syncfs is not None
        self.known: set[str] = set()  # folders known to exist
        self.folders: set[str] = set()  # folders that gained a name
        self.fds: list[int] = []  # open files to fsync at the end (negative: the caller's)

    def __enter__(self) -> _FileSink:
        return self

    def write(self, rel: str, data: bytes) -> None:
        """Write the new file ``rel`` (under the log's folder)."""
        self.write_path(self.root + "/" + rel, data, keep=not self.many)

    def write_path(self, path: str, data: bytes, *, keep: bool = True, named: bool = True) -> None:
        """Write ``path``; ``keep`` it open to fsync it at the end (else syncfs(2) covers it);
        ``named``: its name must be durable too (not for a file renamed later)."""
        parent = path.rpartition("/")[0]
        if parent not in self.known:
            self._mkdirs(parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(fd, data)
        except BaseException:
            os.close(fd)
            raise
        if keep:
            self.fds.append(fd)
            if named:
                self.folders.add(parent)
        else:
            os.close(fd)

    def sync_also(self, fd: int) -> None:
        """fsync ``fd`` with the others (the caller closes it)."""
        self.fds.append(-1 - fd)

    def _mkdirs(self, folder: str) -> None:
        missing = []
        path = folder
        while not os.path.isdir(path):
            missing.append(path)
            path = path.rpartition("/")[0]
        for path in reversed(missing):
            with suppress(FileExistsError):
                os.mkdir(path)
            self.folders.add(path.rpartition("/")[0])
        self.known.add(folder)

    def __exit__(self, exc_type: object, *exc: object) -> None:
        fds = [fd if fd >= 0 else -1 - fd for fd in self.fds]
        try:
            if exc_type is not None:
                return
            pool = _io_threads()
            waits: list[Future[None]] = [pool.submit(os.fsync, fd) for fd in fds]
            if self.many and _syncfs is not None:
                fd = os.open(self.root, os.O_RDONLY)
                try:
                    _syncfs(fd)
                finally:
                    os.close(fd)
            else:
                waits += [pool.submit(_sync_path, d) for d in self.folders]
            for f in waits:
                f.result()
        finally:
            for fd in self.fds:
                if fd >= 0:
                    os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


# ------------------------------------------------------------ the writer


class Writer:
    """The log's state at its right edge, held by the one writer (see :meth:`Log.writer`)."""

    #: appends of at least this many leaves make their files durable with one syncfs(2)
    SYNCFS_FROM = 32 * TILE_WIDTH

    def __init__(self, log: Log) -> None:
        self.log = log
        self.dir = log.dir
        self._recover()
        cp = log.checkpoint()
        self.size = cp.size
        self.root = cp.root
        self._broken = False
        # edge[L]: the hashes of the partial tile at level L; bundle: the partial bundle's entries
        self.edge: list[list[bytes]] = []
        for level, full, width in widths(self.size):
            data = read_tile(self.dir, level, full, width) if width else b""
            self.edge.append(_split(data))
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
        """Roll back what a crashed append left beyond the committed checkpoint, and move an older
        home's ``appends.json`` into the journal."""
        committed = self.log.checkpoint().size
        legacy = self.dir / "pending"  # an earlier version's marker
        if legacy.exists():
            try:
                frm, to = (int(x) for x in legacy.read_text().split())
            except ValueError:
                frm, to = -1, -1
            if committed != to:
                if frm != committed:  # a torn marker: roll back everything past the checkpoint
                    to = max(to, committed + (1 << 40))
                self._delete_beyond(committed, to)
            legacy.unlink()
            fsync_dir(self.dir)
        cut = self.log._journal.recover(committed)
        if cut is not None:
            _, end = cut
            self._delete_beyond(committed, end if end > committed else committed + (1 << 40))
        (self.dir / "appends.json.tmp").unlink(missing_ok=True)
        (self.dir / "checkpoint.tmp").unlink(missing_ok=True)
        self.log._journal.migrate(committed)

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
        tiles are written as it comes; the checkpoint, written last, is the commit point
        (the steps and why each fsync is needed: the module docstring).
        """
        if self._broken:
            raise LedgerError(str(self.dir), "an append failed in this writer: open a new one")
        first = self.size
        if not count:
            return first, 0
        new_size = first + count
        text = line(first, count, record)
        self._broken = True  # until the commit: the edge in memory runs ahead of the checkpoint
        jfd, made = self.log._journal.open_for_append()
        try:
            _write_all(jfd, text)
            self.log._crash("ledger-after-journal")
            pos = first
            touched: set[int] = set()
            with _FileSink(self.dir, many=count >= self.SYNCFS_FROM) as sink:
                sink.sync_also(jfd)
                if made:
                    sink.folders.add(str(self.dir))
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
                        str(self.dir),
                        f"an append announced {count} entries and brought {pos - first}",
                    )
                # the partial tiles of the new size, at each level this append changed
                for level in sorted(touched):
                    index, width = divmod(new_size >> (TILE_HEIGHT * level), TILE_WIDTH)
                    if not width:
                        continue
                    if level == 0:
                        sink.write(entries_path(index, width), encode_bundle(self.bundle))
                    sink.write(tile_path(level, index, width), b"".join(self.edge[level]))
                root = self._edge_root()
                note = sign_checkpoint(Checkpoint(self.log.origin, new_size, root), self.log.signer)
                state = state_path(self.log.home)
                # both are renamed later (step 4 makes the checkpoint's rename durable): no folder fsync
                sink.write_path(str(self.dir / "checkpoint.tmp"), note.encode(), named=False)
                sink.write_path(
                    str(state.with_name(state.name + ".tmp")),
                    signed_state(self.log.home, note).to_json(),
                    named=False,
                )
        finally:
            os.close(jfd)
        self.log._crash("ledger-before-checkpoint")
        os.replace(self.dir / "checkpoint.tmp", self.log.checkpoint_path)
        fsync_dir(self.dir)
        self.size, self.root = new_size, root
        self._broken = False
        self.log._crash("ledger-after-checkpoint")
        os.replace(state.with_name(state.name + ".tmp"), state)
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
        n = len(entries)
        if not n:
            return
        touched.add(0)
        index = first // TILE_WIDTH  # the level-0 tile the edge belongs to
        roots: list[bytes] = []
        k = 0
        if self.edge[0]:  # first fill the partial tile
            k = min(n, TILE_WIDTH - len(self.edge[0]))
            head = entries[:k]
            self.edge[0] += _split(leaves[: k * HS] if leaves is not None else _leaf_hashes(head))
            self.bundle += head
            if len(self.edge[0]) < TILE_WIDTH:
                return
            tile = b"".join(self.edge[0])
            sink.write(entries_path(index), encode_bundle(self.bundle))
            sink.write(tile_path(0, index), tile)
            roots.append(hash_tiles((), tile)[1])
            self.edge[0], self.bundle = [], []
            index += 1
        # whole tiles: bundles (they need no hash), leaf hashes, roots, tiles
        m = (n - k) // TILE_WIDTH
        if m:
            lo, hi = k, k + m * TILE_WIDTH
            body = entries[lo:hi]
            hashed = leaves[lo * HS : hi * HS] if leaves is not None else None
            ups: dict[int, bytes] = {}

            def bundles() -> None:
                for i in range(m):
                    part = body[i * TILE_WIDTH : (i + 1) * TILE_WIDTH]
                    sink.write(entries_path(index + i), encode_bundle(part))

            def tiles(at: int, hashes: bytes, up: bytes) -> None:
                for i in range(len(up) // HS):
                    data = hashes[i * TILE_BYTES : (i + 1) * TILE_BYTES]
                    sink.write(tile_path(0, index + at + i), data)
                ups[at] = up

            if m * TILE_WIDTH >= PARALLEL_FROM and _worker_pool() is not None:
                _tiles_in_parallel(body, hashed, bundles, tiles)
            else:
                bundles()
                tiles(0, *hash_tiles(body, hashed))
            roots += _split(b"".join(ups[at] for at in sorted(ups)))
        rest = entries[k + m * TILE_WIDTH :]
        if rest:
            at = (k + m * TILE_WIDTH) * HS
            self.edge[0] = _split(leaves[at:] if leaves is not None else _leaf_hashes(rest))
            self.bundle = list(rest)

        # higher levels: each full tile's root is the next level's new hash
        new, level = roots, 1
        while new:
            if level == len(self.edge):
                self.edge.append([])
            start = (first >> (TILE_HEIGHT * level)) // TILE_WIDTH
            buf = self.edge[level] + new
            nfull = len(buf) // TILE_WIDTH
            up_roots = []
            for i in range(nfull):
                chunk = buf[i * TILE_WIDTH : (i + 1) * TILE_WIDTH]
                sink.write(tile_path(level, start + i), b"".join(chunk))
                up_roots.append(M.root_of(chunk))
            self.edge[level] = buf[nfull * TILE_WIDTH :]
            touched.add(level)
            new = up_roots
            level += 1
