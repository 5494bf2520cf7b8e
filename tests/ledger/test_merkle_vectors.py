"""Every merkle vector: transparency-dev/merkle probes, the RFC 6962 8-leaf tree, all its proofs."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from jejak.errors import VerificationError
from jejak.ledger import merkle as M
from jejak.ledger.witness import verify_witness_consistency

from .conftest import VECTORS, load

PROBES = VECTORS / "merkle" / "transparency-dev-merkle"
#: probes where C2SP tlog-witness (empty proof from size 0 accepted) differs from transparency-dev
WITNESS_SPECIAL = (
    "sizes-are-equal-zero-and-proof-is-empty",
    "size1-is-zero-",
    "consistency-check-on-empty-tree-",
)


def _probes(kind: str) -> list[Path]:
    return sorted((PROBES / kind).rglob("*.json")) if PROBES.exists() else []


def _b(value: str | None) -> bytes:
    return base64.b64decode(value) if value else b""


def _id(p: Path) -> str:
    return str(p.relative_to(PROBES))


def test_the_probe_sets_are_all_there(vectors: Path) -> None:
    assert len(_probes("inclusion")) == 98
    assert len(_probes("consistency")) == 98


@pytest.mark.parametrize("path", _probes("inclusion"), ids=_id)
def test_inclusion_probe(path: Path) -> None:
    p = json.loads(path.read_text())
    proof = [_b(h) for h in p["proof"] or []]
    args = (_b(p["leafHash"]), p["leafIdx"], p["treeSize"], proof, _b(p["root"]))
    if p["wantErr"]:
        with pytest.raises(VerificationError):
            M.verify_inclusion(*args)
    else:
        M.verify_inclusion(*args)


@pytest.mark.parametrize("path", _probes("consistency"), ids=_id)
def test_consistency_probe(path: Path) -> None:
    p = json.loads(path.read_text())
    proof = [_b(h) for h in p["proof"] or []]
    args = (p["size1"], p["size2"], proof, _b(p["root1"]), _b(p["root2"]))
    if p["wantErr"]:
        with pytest.raises(VerificationError):
            M.verify_consistency(*args)
    else:
        M.verify_consistency(*args)


@pytest.mark.parametrize(
    "path",
    [p for p in _probes("consistency") if any(s in p.name for s in WITNESS_SPECIAL)],
    ids=_id,
)
def test_witness_semantics_accept_an_empty_proof_from_size_zero(path: Path) -> None:
    p = json.loads(path.read_text())
    assert p["size1"] == 0 and p["wantErr"], (
        "transparency-dev rejects every consistency proof from 0"
    )
    proof = [_b(h) for h in p["proof"] or []]
    args = (p["size1"], p["size2"], proof, _b(p["root1"]), _b(p["root2"]))
    if proof:
        with pytest.raises(VerificationError):
            verify_witness_consistency(*args)
    else:
        verify_witness_consistency(*args)


def test_the_witness_special_cases_are_the_ones_the_readme_names(vectors: Path) -> None:
    special = [p.name for p in _probes("consistency") if any(s in p.name for s in WITNESS_SPECIAL)]
    assert len(special) == 4, special


def test_reference_tree_hasher_and_roots(vectors: Path) -> None:
    ref = load("merkle/rfc6962-reference-tree.json")
    for v in ref["hasher_vectors"]:
        if v["kind"] == "empty_root":
            got = M.EMPTY_ROOT
        elif v["kind"] == "leaf":
            data = bytes.fromhex(v["leaf_hex"]) if "leaf_hex" in v else v["leaf_ascii"].encode()
            got = M.leaf_hash(data)
        else:
            got = M.node_hash(v["left_ascii"].encode(), v["right_ascii"].encode())
        assert got.hex() == v["want_hex"], v["desc"]
    leaves = [M.leaf_hash(bytes.fromhex(x)) for x in ref["leaf_inputs_hex"]]
    tree = M.Tree(leaves)
    for level, hashes in enumerate(ref["node_hashes_hex_by_level"]):
        assert [h.hex() for h in tree.levels[level]] == hashes
    for size, root in enumerate(ref["root_hashes_hex_by_tree_size"]):
        assert tree.root(size).hex() == root
        assert M.root_of(leaves[:size]).hex() == root


def test_every_proof_of_the_8_leaf_tree_is_generated_and_verifies(vectors: Path) -> None:
    ref = load("merkle/rfc6962-reference-tree.json")
    tree = M.Tree([M.leaf_hash(bytes.fromhex(x)) for x in ref["leaf_inputs_hex"]])
    d = load("merkle/derived-8leaf-all-proofs.json")
    assert len(d["inclusion"]) == 36 and len(d["consistency"]) == 36
    for c in d["inclusion"]:
        proof = M.inclusion_proof(c["leaf_index"], c["tree_size"], tree.range_hash)
        assert [h.hex() for h in proof] == c["proof"]
        M.verify_inclusion(
            bytes.fromhex(c["leaf_hash"]),
            c["leaf_index"],
            c["tree_size"],
            proof,
            bytes.fromhex(c["root"]),
        )
    for c in d["consistency"]:
        s1, s2 = c.get("size1", c.get("first")), c.get("size2", c.get("second"))
        proof = M.consistency_proof(s1, s2, tree.range_hash)
        assert [h.hex() for h in proof] == c["proof"], (s1, s2)
        r1, r2 = bytes.fromhex(c["root1"]), bytes.fromhex(c["root2"])
        if s1 == 0:
            with pytest.raises(VerificationError):
                M.verify_consistency(s1, s2, proof, r1, r2)
            verify_witness_consistency(s1, s2, proof, r1, r2)
        else:
            M.verify_consistency(s1, s2, proof, r1, r2)


@pytest.mark.parametrize(
    "bad",
    [
        lambda leaf, proof, root: (leaf[:31], proof, root),
        lambda leaf, proof, root: (leaf, [*proof, bytes(32)], root),
        lambda leaf, proof, root: (leaf, proof[:-1], root),
        lambda leaf, proof, root: (leaf, [proof[0][:31], *proof[1:]], root),
        lambda leaf, proof, root: (leaf, proof, root + b"\x00"),
    ],
    ids=["short-leaf", "extra-hash", "missing-hash", "short-proof-hash", "long-root"],
)
def test_malformed_inclusion_inputs_fail(bad) -> None:  # type: ignore[no-untyped-def]
    tree = M.Tree([M.leaf_hash(bytes([i])) for i in range(11)])
    proof = M.inclusion_proof(4, 11, tree.range_hash)
    leaf, proof, root = bad(tree.levels[0][4], proof, tree.root())
    with pytest.raises(VerificationError):
        M.verify_inclusion(leaf, 4, 11, proof, root)
