"""Tiles and entry bundles on disk: C2SP tlog-tiles v1.0.0.

Specification: https://c2sp.org/tlog-tiles@v1.0.0. Tile height is 8 (``TILE_WIDTH``
256 hashes). A tile at level L, index N holds the tree's node hashes at level
8·L from index 256·N onward; level 0 tiles hold the leaf hashes. A *partial*
tile (fewer than 256 hashes) lives at ``<path>.p/<W>``; a full tile is written
once and never changed. Entry bundles ``tile/entries/N`` hold 256 log entries,
each as a 2-byte big-endian length then the bytes.

Index encoding: 3-digit groups, every group but the last prefixed with ``x``,
so 1234067 is ``x001/x234/067``.

Example::

    >>> tile_path(0, 1234067)
    'tile/0/x001/x234/067'
    >>> tile_path(1, 0, 1)
    'tile/1/000.p/1'
    >>> entries_path(255, 253)
    'tile/entries/255.p/253'
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from hashlib import sha256
from pathlib import Path

from jejak.errors import LedgerError, VerificationError
from jejak.ledger.merkle import HASH_SIZE, LEAF_PREFIX, NODE_PREFIX, split_range

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_LEVEL = 63
MAX_ENTRY = 0xFFFF

_GROUPS_RE = re.compile(r"^(?:x\d{3}/)*\d{3}$")


def encode_index(index: int) -> str:
    """N as 3-digit groups, ``x``-prefixed except the last (C2SP tlog-tiles)."""
    if index < 0:
        raise LedgerError(f"tile index {index}", "must not be negative")
    groups = []
    while True:
        groups.append(f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    groups.reverse()
    return "/".join(["x" + g for g in groups[:-1]] + [groups[-1]])


def _suffix(width: int) -> str:
    if not 0 <= width < TILE_WIDTH:
        raise LedgerError(f"width {width}", f"a partial tile holds 1 to {TILE_WIDTH - 1} hashes")
    return f".p/{width}" if width else ""


def tile_path(level: int, index: int, width: int = 0) -> str:
    """``tile/<L>/<N>[.p/<W>]``; ``width`` 0 (or 256) means a full tile."""
    if not 0 <= level <= MAX_LEVEL:
        raise LedgerError(f"tile level {level}", f"must be 0 to {MAX_LEVEL}")
    return f"tile/{level}/{encode_index(index)}{_suffix(width % TILE_WIDTH)}"


def entries_path(index: int, width: int = 0) -> str:
    """``tile/entries/<N>[.p/<W>]``."""
    return f"tile/entries/{encode_index(index)}{_suffix(width % TILE_WIDTH)}"


def entries_path_for(seq: int, size: int) -> str:
    """The entry bundle holding entry ``seq`` in a log of ``size`` entries."""
    n = seq // TILE_WIDTH
    width = min(TILE_WIDTH, size - n * TILE_WIDTH)
    return entries_path(n, width)


def parse_tile_path(level: str, index: str) -> tuple[int, int, int]:
    """Parse the level and index parts of a tile path into (level, index, width); width 0 = full."""
    if not re.fullmatch(r"\d{1,2}", level) or int(level) > MAX_LEVEL:
        raise LedgerError(f"tile level {level!r}", f"not a number 0 to {MAX_LEVEL}")
    width = 0
    if ".p/" in index:
        index, _, w = index.partition(".p/")
        if not re.fullmatch(r"[1-9]\d{0,2}", w) or int(w) >= TILE_WIDTH:
            raise LedgerError(f"tile width {w!r}", f"not a number 1 to {TILE_WIDTH - 1}")
        width = int(w)
    if not _GROUPS_RE.fullmatch(index) or index.count("/") > 5:
        raise LedgerError(f"tile index {index!r}", "not x-prefixed 3-digit groups")
    return int(level), int(index.replace("x", "").replace("/", "")), width


def widths(size: int) -> Iterator[tuple[int, int, int]]:
    """(level, number of full tiles, width of the partial tile) for each level of a tree of ``size``."""
    level = 0
    count = size
    while count > 0 or level == 0:
        yield level, count // TILE_WIDTH, count % TILE_WIDTH
        count >>= TILE_HEIGHT
        level += 1
        if count == 0:
            break


# ------------------------------------------------------------------ bundles


def encode_bundle(entries: Sequence[bytes]) -> bytes:
    """An entry bundle: each entry as a 2-byte big-endian length and its bytes."""
    if not entries:
        return b""
    sizes = set(map(len, entries))
    if len(sizes) == 1 and (first := sizes.pop()) <= MAX_ENTRY:
        prefix = _LENGTH[first]  # one length for all (jejak's entries): one join does it
        return prefix + prefix.join(entries)
    lengths = [len(e) for e in entries]
    if max(lengths) > MAX_ENTRY:
        raise LedgerError("entry", f"is {max(lengths)} bytes, at most {MAX_ENTRY} fit a bundle")
    parts: list[bytes] = [b""] * (2 * len(entries))
    parts[0::2] = [_LENGTH[n] for n in lengths]
    parts[1::2] = entries
    return b"".join(parts)


class _Lengths(dict[int, bytes]):
    def __missing__(self, n: int) -> bytes:
        self[n] = value = n.to_bytes(2, "big")
        return value


_LENGTH = _Lengths()


def decode_bundle(data: bytes, where: str = "entry bundle") -> list[bytes]:
    """The entries of an entry bundle; VerificationError when it is cut short."""
    out = []
    i, n = 0, len(data)
    while i < n:
        if i + 2 > n:
            raise VerificationError(where, f"truncated at byte {i}")
        size = int.from_bytes(data[i : i + 2], "big")
        if i + 2 + size > n:
            raise VerificationError(where, f"truncated entry at byte {i}")
        out.append(data[i + 2 : i + 2 + size])
        i += 2 + size
    return out


# ----------------------------------------------------------------- hashing


def hash_tiles(entries: Sequence[bytes], leaves: bytes | None = None) -> tuple[bytes, bytes]:
    """Leaf hashes and tile roots of whole tiles: ``(leaf hashes, roots)``, each concatenated.

    ``entries`` fill whole tiles (a multiple of 256); their leaf hashes, SHA-256(0x00 ||
    entry) (RFC 6962 §2.1), are computed unless the caller gives them in ``leaves``
    (then ``entries`` is not read and may be empty). A tile's root is the hash of its
    complete subtree of height 8: each level is hashed in one pass over the whole
    run of tiles, pairs never crossing a tile. Runs in worker processes for big
    appends (:mod:`jejak.ledger.log`), so it takes and returns plain bytes.

        >>> leaves, roots = hash_tiles([b"%d" % i for i in range(512)])
        >>> len(leaves), len(roots)
        (16384, 64)
    """
    prefix = LEAF_PREFIX
    node = NODE_PREFIX
    if leaves is None:
        leaves = b"".join([sha256(prefix + e).digest() for e in entries])
    if len(leaves) % (TILE_WIDTH * HASH_SIZE):
        raise LedgerError("tile hashing", "needs whole tiles of 256 leaf hashes")
    level = leaves
    for _ in range(TILE_HEIGHT):
        level = b"".join(
            [sha256(node + level[i : i + 64]).digest() for i in range(0, len(level), 64)]
        )
    return leaves, level


# ----------------------------------------------------------------- file IO


class TileReader:
    """Reads tiles of one tree size from a tlog-tiles folder, caching what it read.

    ``complete(level, index)`` gives any complete subtree hash from the one tile
    that holds it: the tile's inner levels are hashed once (255 hashes for a full
    tile) and kept, in ``shared`` too (keyed by level, index and width: a tile
    of a given width never changes), so a server answering many proofs hashes
    the upper tiles once.
    """

    def __init__(
        self,
        root: Path,
        size: int,
        overlay: dict[tuple[int, int], bytes] | None = None,
        shared: dict[tuple[int, int, int], list[bytes]] | None = None,
    ):
        self.root = Path(root)
        self.size = size
        self.cache: dict[tuple[int, int], bytes] = dict(overlay or {})
        self.levels: dict[tuple[int, int], list[bytes]] = {}
        self.shared = shared

    def width(self, level: int, index: int) -> int:
        return min(TILE_WIDTH, (self.size >> (TILE_HEIGHT * level)) - index * TILE_WIDTH)

    def tile(self, level: int, index: int) -> bytes:
        """The hashes of tile (level, index) for this tree size; VerificationError naming the path."""
        key = (level, index)
        data = self.cache.get(key)
        if data is not None:
            return data
        width = self.width(level, index)
        if width <= 0:
            raise VerificationError(f"tile {level}/{index}", f"beyond a tree of size {self.size}")
        data = read_tile(self.root, level, index, width)
        self.cache[key] = data
        return data

    def _inner(self, level: int, index: int) -> list[bytes]:
        key = (level, index)
        skey = (level, index, self.width(level, index))  # a tile of a given width never changes
        inner = self.levels.get(key)
        if inner is None and self.shared is not None:
            inner = self.shared.get(skey)
        if inner is None:
            data = self.tile(level, index)
            inner = [data]
            node = b"\x01"
            while len(data) >= 2 * HASH_SIZE:
                data = b"".join(
                    [sha256(node + data[i : i + 64]).digest() for i in range(0, len(data) - 63, 64)]
                )
                inner.append(data)
            self.levels[key] = inner
            if self.shared is not None:
                if len(self.shared) > 65_536:
                    self.shared.clear()
                self.shared[skey] = inner
        return inner

    def complete(self, level: int, index: int) -> bytes:
        tl, r = divmod(level, TILE_HEIGHT)
        start = index << r
        inner = self._inner(tl, start // TILE_WIDTH)
        off = ((start % TILE_WIDTH) >> r) * HASH_SIZE
        h = inner[r][off : off + HASH_SIZE]
        if len(h) != HASH_SIZE:
            raise VerificationError(
                f"tile {tl}/{start // TILE_WIDTH}", f"has no subtree {level}/{index}"
            )
        return h

    def range_hash(self, lo: int, hi: int) -> bytes:
        return split_range(lo, hi, self.complete)

    def leaf_hash(self, index: int) -> bytes:
        data = self.tile(0, index // TILE_WIDTH)
        off = (index % TILE_WIDTH) * HASH_SIZE
        return data[off : off + HASH_SIZE]


def _candidates(root: Path, full: str, width: int) -> Iterator[str]:
    """The files that may hold the first ``width`` items of the tile or bundle at ``full``: the
    exact ``.p/<width>`` (the one a writer made for that size), then the full one, then wider
    partial ones (tlog-tiles: a wider tile's prefix is the narrower tile)."""
    if width % TILE_WIDTH == 0:
        yield full
        return
    yield f"{full}.p/{width}"
    yield full
    pdir = root / (full + ".p")
    if pdir.is_dir():
        wider = sorted(int(p.name) for p in pdir.iterdir() if p.name.isdigit())
        yield from (f"{full}.p/{w}" for w in wider if w > width)


def read_tile(root: Path, level: int, index: int, width: int) -> bytes:
    """``width`` hashes of a tile: from the exact file, else the prefix of a wider one."""
    want = width * HASH_SIZE
    for rel in _candidates(root, tile_path(level, index), width):
        try:
            data = (root / rel).read_bytes()
        except FileNotFoundError:
            continue
        full = (int(rel.rsplit("/", 1)[1]) if ".p/" in rel else TILE_WIDTH) * HASH_SIZE
        if len(data) != full:
            raise VerificationError(str(root / rel), f"is {len(data)} bytes, not {full}")
        return data[:want]
    raise VerificationError(
        str(root / tile_path(level, index, width % TILE_WIDTH)), "tile is missing"
    )


def read_bundle(root: Path, index: int, width: int) -> list[bytes]:
    """The first ``width`` entries of entry bundle ``index``."""
    for rel in _candidates(root, entries_path(index), width):
        path = root / rel
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            continue
        entries = decode_bundle(data, str(path))
        if len(entries) < width:
            raise VerificationError(str(path), f"holds {len(entries)} entries, not {width}")
        return entries[:width]
    raise VerificationError(
        str(root / entries_path(index, width % TILE_WIDTH)), "entry bundle is missing"
    )
