"""Property tests: every proof verifies; any flipped bit in a proof, root, leaf or tile fails."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jejak.errors import VerificationError
from jejak.ledger import merkle as M
from jejak.ledger.log import Log
from jejak.ledger.tiles import TileReader, tile_path
from jejak.ledger.verify import verify_log

MAX = 700
TREE = M.Tree([M.leaf_hash(i.to_bytes(4, "big")) for i in range(MAX)])


def _flip(data: bytes, bit: int) -> bytes:
    bit %= len(data) * 8
    b = bytearray(data)
    b[bit // 8] ^= 1 << (bit % 8)
    return bytes(b)


def _fails(fn, *args) -> bool:  # type: ignore[no-untyped-def]
    try:
        fn(*args)
    except VerificationError:
        return True
    return False


@st.composite
def leaf_in_tree(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(1, MAX))
    return draw(st.integers(0, size - 1)), size


@settings(max_examples=150, deadline=None)
@given(leaf_in_tree(), st.integers(0, 1 << 20), st.sampled_from(["proof", "root", "leaf"]))
def test_inclusion_proofs_verify_and_any_flipped_bit_fails(
    at: tuple[int, int], bit: int, part: str
) -> None:
    index, size = at
    proof = M.inclusion_proof(index, size, TREE.range_hash)
    leaf, root = TREE.levels[0][index], TREE.root(size)
    M.verify_inclusion(leaf, index, size, proof, root)
    if part == "proof":
        if not proof:
            return
        i = bit % len(proof)
        proof = [*proof[:i], _flip(proof[i], bit // len(proof)), *proof[i + 1 :]]
    elif part == "root":
        root = _flip(root, bit)
    else:
        leaf = _flip(leaf, bit)
    assert _fails(M.verify_inclusion, leaf, index, size, proof, root)


@st.composite
def two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    size2 = draw(st.integers(1, MAX))
    return draw(st.integers(1, size2)), size2


@settings(max_examples=150, deadline=None)
@given(two_sizes(), st.integers(0, 1 << 20), st.sampled_from(["proof", "root1", "root2"]))
def test_consistency_proofs_verify_and_any_flipped_bit_fails(
    sizes: tuple[int, int], bit: int, part: str
) -> None:
    size1, size2 = sizes
    proof = M.consistency_proof(size1, size2, TREE.range_hash)
    r1, r2 = TREE.root(size1), TREE.root(size2)
    M.verify_consistency(size1, size2, proof, r1, r2)
    if part == "proof":
        if not proof:
            return
        i = bit % len(proof)
        proof = [*proof[:i], _flip(proof[i], bit // len(proof)), *proof[i + 1 :]]
    elif part == "root1":
        r1 = _flip(r1, bit)
    else:
        r2 = _flip(r2, bit)
    assert _fails(M.verify_consistency, size1, size2, proof, r1, r2)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(1, 400), min_size=1, max_size=4), st.integers(0, 1 << 30))
def test_logs_built_in_any_batches_match_rfc6962_and_a_flipped_tile_bit_fails(
    batches: list[int], bit: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        log = Log(Path(tmp), origin="example.com/prop")
        n = 0
        for b in batches:
            log.append([i.to_bytes(4, "big") for i in range(n, n + b)])
            n += b
        tree = (
            M.Tree(TREE.levels[0][:n])
            if n <= MAX
            else M.Tree([M.leaf_hash(i.to_bytes(4, "big")) for i in range(n)])
        )
        assert log.checkpoint().root == tree.root()
        index = bit % n
        proof = log.inclusion_proof(index)
        assert proof == M.inclusion_proof(index, n, tree.range_hash)
        M.verify_inclusion(tree.levels[0][index], index, n, proof, tree.root())
        assert verify_log(log)[0].ok
        # flip one bit of the level-0 tile holding the leaf: the log no longer verifies
        full, width = divmod(n, 256)
        tidx = index // 256
        rel = tile_path(0, tidx, 0 if tidx < full else width)
        path = log.dir / rel
        path.write_bytes(_flip(path.read_bytes(), bit))
        report, _ = verify_log(log)
        assert not report.ok
        reader = TileReader(log.dir, n)
        bad = M.inclusion_proof(index, n, reader.range_hash)
        assert _fails(M.verify_inclusion, reader.leaf_hash(index), index, n, bad, tree.root())
