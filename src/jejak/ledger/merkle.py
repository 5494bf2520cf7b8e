"""Merkle tree hashing, inclusion and consistency proofs, and their verification.

Specifications:

* RFC 6962 §2.1 (Merkle Hash Trees): MTH, PATH and SUBPROOF, with
  ``LEAF_PREFIX`` 0x00 and ``NODE_PREFIX`` 0x01 to separate leaves from nodes.
* RFC 9162 §2.1.3.2 (verifying an inclusion proof) and §2.1.4.2 (verifying a
  consistency proof), ported step by step below.

A proof is a list of 32-byte SHA-256 hashes, leaf to root. Proof *generation*
needs only a way to get the hash of a range of leaves (``range_hash``), so the
same code serves an in-memory :class:`Tree` and the tiles on disk
(:class:`jejak.ledger.tiles.TileReader`).

Consistency from size 0 (transparency-dev/merkle semantics): an error here, in
:func:`verify_consistency`, because an empty tree proves nothing; the witness
path (:mod:`jejak.ledger.witness`) follows C2SP tlog-witness and accepts an
empty proof from size 0 instead. See ``docs/ledger.md``.

Example::

    >>> t = Tree([leaf_hash(b"a"), leaf_hash(b"b"), leaf_hash(b"c")])
    >>> proof = inclusion_proof(2, 3, t.range_hash)
    >>> verify_inclusion(leaf_hash(b"c"), 2, 3, proof, t.root())
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from hashlib import sha256

from jejak.errors import VerificationError

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
HASH_SIZE = 32
EMPTY_ROOT = sha256(b"").digest()

RangeHash = Callable[[int, int], bytes]


def leaf_hash(entry: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || entry)."""
    return sha256(LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 || left || right)."""
    return sha256(NODE_PREFIX + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """The largest power of two strictly less than ``n`` (``n`` > 1): RFC 6962's k."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(hashes: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes (or of equal-level node hashes).

    Pairs each level left to right and carries an unpaired last node up
    unchanged, which gives the same tree as RFC 6962's recursive split.
    """
    if not hashes:
        return EMPTY_ROOT
    level = list(hashes)
    prefix = NODE_PREFIX
    while len(level) > 1:
        odd = level[-1] if len(level) % 2 else None
        buf = b"".join(level[: len(level) - (odd is not None)])
        nxt = [sha256(prefix + buf[i : i + 64]).digest() for i in range(0, len(buf), 64)]
        if odd is not None:
            nxt.append(odd)
        level = nxt
    return level[0]


def split_range(lo: int, hi: int, complete: Callable[[int, int], bytes]) -> bytes:
    """MTH of leaves [lo, hi) given ``complete(level, index)`` for aligned complete subtrees."""
    n = hi - lo
    if n <= 0:
        raise VerificationError(f"range [{lo}, {hi})", "an empty range has no subtree hash")
    if n & (n - 1) == 0 and lo % n == 0:
        return complete(n.bit_length() - 1, lo // n)
    k = largest_power_of_two_below(n)
    return node_hash(split_range(lo, lo + k, complete), split_range(lo + k, hi, complete))


# ------------------------------------------------------------------ generation


def inclusion_proof(index: int, size: int, range_hash: RangeHash) -> list[bytes]:
    """RFC 6962 §2.1.1 PATH(index, D[0:size]), leaf to root."""
    if not 0 <= index < size:
        raise VerificationError(f"leaf {index}", f"not in a tree of size {size}")
    out: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = largest_power_of_two_below(hi - lo)
        if index < lo + k:
            out.append(range_hash(lo + k, hi))
            hi = lo + k
        else:
            out.append(range_hash(lo, lo + k))
            lo += k
    out.reverse()
    return out


def consistency_proof(size1: int, size2: int, range_hash: RangeHash) -> list[bytes]:
    """RFC 6962 §2.1.2 PROOF(size1, D[0:size2]); empty when size1 is 0 or equals size2."""
    if not 0 <= size1 <= size2:
        raise VerificationError(f"sizes {size1} -> {size2}", "the old size exceeds the new one")
    if size1 == 0 or size1 == size2:
        return []
    out: list[bytes] = []
    lo, hi, whole = 0, size2, True
    while True:
        m = size1 - lo
        if m == hi - lo:
            if not whole:
                out.append(range_hash(lo, hi))
            break
        k = largest_power_of_two_below(hi - lo)
        if m <= k:
            out.append(range_hash(lo + k, hi))
            hi = lo + k
        else:
            out.append(range_hash(lo, lo + k))
            lo += k
            whole = False
    out.reverse()
    return out


# ---------------------------------------------------------------- verification


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise VerificationError(what, f"is {len(value)} bytes, not {HASH_SIZE}")


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root an inclusion proof leads to (RFC 9162 §2.1.3.2 steps 1-5, without the compare)."""
    _check_hash(leaf, "leaf hash")
    for i, p in enumerate(proof):
        _check_hash(p, f"inclusion proof hash {i}")
    if index >= size or index < 0:
        raise VerificationError(f"leaf {index}", f"not in a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise VerificationError(f"inclusion proof of leaf {index}", "has too many hashes")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError(f"inclusion proof of leaf {index}", "has too few hashes")
    return r


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf`` is leaf ``index`` of the tree of ``size`` with ``root``; raise VerificationError."""
    _check_hash(root, "root hash")
    if root_from_inclusion(leaf, index, size, proof) != root:
        raise VerificationError(
            f"leaf {index} of tree size {size}", "inclusion proof does not lead to the root"
        )


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """RFC 9162 §2.1.4.2, with transparency-dev/merkle semantics; raise VerificationError.

    ``size1`` = 0 is an error (an empty tree has no proof), ``size1`` = ``size2``
    needs an empty proof and equal roots (compared as given, as transparency-dev does).
    """
    for i, p in enumerate(proof):
        _check_hash(p, f"consistency proof hash {i}")
    where = f"consistency {size1} -> {size2}"
    if size1 > size2:
        raise VerificationError(where, "the old size exceeds the new one")
    if size1 == 0:
        raise VerificationError(where, "a consistency proof from an empty tree is not defined")
    if size1 == size2:
        if proof:
            raise VerificationError(where, "equal sizes need an empty proof")
        if root1 != root2:
            raise VerificationError(where, "equal sizes but different roots")
        return
    _check_hash(root1, "old root hash")
    _check_hash(root2, "new root hash")
    if not proof:
        raise VerificationError(where, "the proof is empty")
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError(where, "the proof has too many hashes")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError(where, "the proof has too few hashes")
    if fr != root1:
        raise VerificationError(where, "the proof does not lead to the old root")
    if sr != root2:
        raise VerificationError(where, "the proof does not lead to the new root")


class Tree:
    """An in-memory Merkle tree over leaf hashes (for tests, receipts and small logs).

    Example::

        >>> Tree([leaf_hash(b"")]).root().hex()[:8]
        '6e340b9c'
    """

    def __init__(self, leaves: Sequence[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [list(leaves)]
        self._build()

    def _build(self) -> None:
        del self.levels[1:]
        level = self.levels[0]
        while len(level) > 1:
            level = [
                sha256(NODE_PREFIX + level[i] + level[i + 1]).digest()
                for i in range(0, len(level) - 1, 2)
            ]
            self.levels.append(level)

    def append(self, leaf: bytes) -> None:
        self.levels[0].append(leaf)
        self._build()

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def complete(self, level: int, index: int) -> bytes:
        return self.levels[level][index]

    def range_hash(self, lo: int, hi: int) -> bytes:
        return split_range(lo, hi, self.complete)

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        return EMPTY_ROOT if size == 0 else self.range_hash(0, size)
