"""Checkpoint bodies, tile paths, the Sunlight 300-entry tree and tlog-proof receipts against the vectors."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from jejak.errors import LedgerError, VerificationError
from jejak.ledger import merkle as M
from jejak.ledger.checkpoint import Checkpoint
from jejak.ledger.log import Log
from jejak.ledger.receipt import Receipt
from jejak.ledger.tiles import (
    TileReader,
    decode_bundle,
    encode_bundle,
    encode_index,
    entries_path,
    entries_path_for,
    parse_tile_path,
    tile_path,
    widths,
)

from .conftest import load


def _b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


# ------------------------------------------------------------- checkpoints


def test_checkpoint_marshal_and_unmarshal_vectors(vectors: Path) -> None:
    v = load("checkpoints/checkpoint-vectors.json")
    for c in v["marshal"]["cases"]:
        # upstream's "hashes" are not 32 bytes: the body text is still what we write
        body = Checkpoint(c["origin"], c["size"], c["hash_ascii"].encode()).body()
        assert body == c["want"]
        with pytest.raises(VerificationError):  # ... but a strict parser rejects them
            Checkpoint.parse(body)
    for c in v["unmarshal"]["cases"]:
        if c.get("want_error"):
            with pytest.raises(VerificationError):
                Checkpoint.parse(c["text"])
            continue
        # valid upstream, but the hashes are not 32 bytes: swap in a 32-byte root and parse
        root = base64.b64encode(bytes(32)).decode()
        text = c["text"].replace(_b64(c["want"]["hash_ascii"]), root)
        if "\n\n" in text:  # empty extension lines: C2SP says they MUST NOT be there
            with pytest.raises(VerificationError):
                Checkpoint.parse(text)
            continue
        cp = Checkpoint.parse(text)
        assert (cp.origin, cp.size) == (c["want"]["origin"], c["want"]["size"])
        assert "".join(e + "\n" for e in cp.extensions) == c["want_rest"]
        assert cp.body() == text


def test_gosumdb_tree_note(vectors: Path) -> None:
    g = load("checkpoints/checkpoint-vectors.json")["gosumdb_tree_note"]
    cp = Checkpoint(
        "go.sum database tree", g["size"], M.leaf_hash(g["record_for_hash_ascii"].encode())
    )
    assert cp.body() == g["want"]
    assert Checkpoint.parse(g["want"]) == cp
    for bad in g["bad"]:
        try:
            parsed = Checkpoint.parse(bad)
        except VerificationError:
            continue
        assert parsed.origin != "go.sum database tree"


def test_c2sp_cosigned_example_parses(vectors: Path) -> None:
    ex = load("checkpoints/checkpoint-vectors.json")["c2sp_examples"]
    from jejak.ledger import note as N

    text, sigs = N.parse(ex["cosigned_checkpoint"])
    assert [s.name for s in sigs] == ["example.com/behind-the-sofa", "witness.example.com/w1"]
    assert len(sigs[1].sig) == 72
    t = int.from_bytes(sigs[1].sig[:8], "big")
    assert N.COSIGNATURE_HEADER.format(t=t) + text == ex["cosignature_v1_signed_message_example"]
    from jejak.ledger.witness import format_add_checkpoint, parse_add_checkpoint

    old, proof, note = parse_add_checkpoint(ex["witness_add_checkpoint_request_body"])
    assert old == 20852014 and len(proof) == 4
    assert format_add_checkpoint(old, proof, note) == ex["witness_add_checkpoint_request_body"]


# ------------------------------------------------------------------- tiles


def test_tile_path_vectors(vectors: Path) -> None:
    v = load("tiles/tile-path-vectors.json")
    for c in v["tessera_tile_path"]["cases"]:
        assert tile_path(c["level"], c["index"], c["p"]) == c["want"]
    for c in v["tessera_entries_path"]["by_bundle"]:
        assert entries_path(c["N"], c["p"]) == c["want"]
    for c in v["tessera_entries_path"]["by_log_index"]:
        assert entries_path_for(c["seq"], c["log_size"]) == c["want"]
    for c in v["tessera_parse_level_index_partial"]["cases"]:
        if c.get("want_error"):
            with pytest.raises(LedgerError):
                parse_tile_path(c["level"], c["index"])
        else:
            w = c["want"]
            assert parse_tile_path(c["level"], c["index"]) == (w["level"], w["index"], w["p"])
    ex = v["c2sp_spec_examples"]
    assert encode_index(ex["index_encoding"]["index"]) == ex["index_encoding"]["want"]
    t = ex["tree_70000"]
    assert list(widths(t["tree_size"])) == [
        (0, t["level0_full_tiles"], t["level0_partial_width"]),
        (1, t["level1_full_tiles"], t["level1_partial_width"]),
        (2, 0, t["level2_partial_width"]),
    ]
    assert list(widths(256)) == [(0, 1, 0), (1, 0, 1)]


def test_bundles_round_trip_and_truncation_fails() -> None:
    entries = [b"", b"a", bytes(300)]
    data = encode_bundle(entries)
    assert data[:2] == b"\x00\x00" and data[2:5] == b"\x00\x01a"
    assert decode_bundle(data) == entries
    with pytest.raises(VerificationError):
        decode_bundle(data[:-1])
    with pytest.raises(LedgerError):
        encode_bundle([bytes(70000)])


def test_sunlight_300_entry_tree_and_our_tiles_are_byte_identical(
    vectors: Path, tmp_path: Path
) -> None:
    mirror = vectors / "tiles/sunlight-skylight/mirror"
    entries = [f"record {i}".encode() for i in range(300)]
    reader = TileReader(mirror, 300)
    assert [reader.leaf_hash(i) for i in range(300)] == [M.leaf_hash(e) for e in entries]
    root = reader.range_hash(0, 300)
    assert (
        base64.b64encode(root).decode()
        == load("tiles/sunlight-skylight/vector.json")["mirror_root_b64"]
    )
    assert root == M.root_of([M.leaf_hash(e) for e in entries])
    log = Log(tmp_path, origin="rome2026h1.example.org")
    log.append(entries[:100])
    log.append(entries[100:])
    for rel in ("tile/0/000", "tile/0/001.p/44", "tile/1/000.p/1"):
        assert (log.dir / rel).read_bytes() == (mirror / rel).read_bytes(), rel
    assert log.checkpoint().root == root
    assert decode_bundle((log.dir / "tile/entries/001.p/44").read_bytes()) == entries[256:]
    for i in (0, 255, 256, 299):
        M.verify_inclusion(M.leaf_hash(entries[i]), i, 300, log.inclusion_proof(i), root)


# ---------------------------------------------------------------- receipts


def _h(s: str) -> bytes:
    return hashlib.sha256(s.encode()).digest()


def test_tlog_proof_vectors(vectors: Path) -> None:
    v = load("tlog-proof/tlog-proof-vectors.json")
    for c in v["marshal"]:
        hashes = [_h(x) for x in c["hashes_sha256_of_ascii"]]
        extra = c["extra_ascii"].encode() if c["extra_ascii"] else None
        r = Receipt(c["index"], hashes, c["checkpoint"], extra)
        want = c.get("want") or c["want_template"]
        for x in c["hashes_sha256_of_ascii"]:
            want = want.replace("{b64(sha256('" + x + "'))}", base64.b64encode(_h(x)).decode())
        if extra:
            want = want.replace(
                "{b64('" + c["extra_ascii"] + "')}", base64.b64encode(extra).decode()
            )
        assert r.format() == want
        assert Receipt.parse(want) == r
    for c in v["unmarshal_errors"]:
        text = c.get("proof") or c["proof_template"].replace(
            "{b64(64 zero bytes)}", base64.b64encode(bytes(64)).decode()
        )
        with pytest.raises(VerificationError):
            Receipt.parse(text)
    ex = Receipt.parse(v["c2sp_example"]["text"])
    assert (
        ex.index == 73894
        and len(ex.proof) == 5
        and ex.checkpoint.startswith("example.com/fancylog\n")
    )
