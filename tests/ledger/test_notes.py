"""Signed notes, keys and cosignatures against every vector in shared/vectors/notes."""

from __future__ import annotations

import base64
import hashlib

import pytest

from jejak.errors import LedgerError, VerificationError
from jejak.ledger import merkle as M
from jejak.ledger import note as N
from jejak.ledger.checkpoint import Checkpoint, open_checkpoint

from .conftest import load


@pytest.fixture
def notes() -> dict:  # type: ignore[type-arg]
    return load("notes/signed-note-vectors.json")  # type: ignore[no-any-return]


def _vec(notes: dict, ident: str) -> dict:  # type: ignore[type-arg]
    return next(v for v in notes["ed25519_vectors"] if v["id"] == ident)


def test_deterministic_signing_vector(notes: dict) -> None:  # type: ignore[type-arg]
    v = _vec(notes, "go-peterneumann")
    signer = N.Signer.parse(v["skey"])
    assert str(signer) == v["skey"]
    assert str(signer.verifier()) == v["vkey"]
    assert signer.verifier().key_id.hex() == v["key_id_hex"]
    assert N.sign(v["text"], [signer]) == v["expected_signed_note"]
    opened = N.open_note(v["expected_signed_note"], [N.Verifier.parse(v["vkey"])])
    assert opened.text == v["text"]


def test_every_vector_key_pair_matches(notes: dict) -> None:  # type: ignore[type-arg]
    pairs = []
    for v in notes["ed25519_vectors"]:
        if "keys" in v:
            pairs += [(k["skey"], k["vkey"]) for k in v["keys"]]
        elif "skey" in v:
            pairs.append((v["skey"], v["vkey"]))
        else:
            N.Verifier.parse(v["vkey"])
    assert len(pairs) >= 7
    for skey, vkey in pairs:
        assert str(N.Signer.parse(skey).verifier()) == vkey
        assert str(N.Verifier.parse(vkey)) == vkey
    with pytest.raises(LedgerError):
        N.Signer.parse(_vec(notes, "formats-ed25519-signer-key")["vkey"])


def test_two_signatures_one_known(notes: dict) -> None:  # type: ignore[type-arg]
    peter, enoch = _vec(notes, "go-peterneumann"), _vec(notes, "go-enochroot")
    both = peter["expected_signed_note"] + enoch["signature_line"] + "\n"
    opened = N.open_note(both, [N.Verifier.parse(peter["vkey"])])
    assert len(opened.verified) == 1 and len(opened.unverified) == 1
    opened = N.open_note(both, [N.Verifier.parse(peter["vkey"]), N.Verifier.parse(enoch["vkey"])])
    assert len(opened.verified) == 2
    with pytest.raises(VerificationError):
        N.open_note(both, [])


def test_c2sp_example_note(notes: dict) -> None:  # type: ignore[type-arg]
    v = _vec(notes, "c2sp-example-foo")
    assert (
        N.open_note(v["signed_note"], [N.Verifier.parse(v["vkey"])]).text
        == "This is an example message.\n"
    )


def test_invalid_vkeys_and_every_mangling_are_rejected(notes: dict) -> None:  # type: ignore[type-arg]
    for case in notes["invalid_vkeys"]["cases"]:
        with pytest.raises(LedgerError):
            N.Verifier.parse(case["vkey"])
    valid = notes["invalid_vkeys"]["base_valid_vkey"]
    N.Verifier.parse(valid)
    for i in range(len(valid)):
        for mangled in (valid[:i], valid[i + 1 :]):
            with pytest.raises(LedgerError):
                N.Verifier.parse(mangled)
        bumped = valid[:i] + chr(ord(valid[i]) + 1) + valid[i + 1 :]
        with pytest.raises(LedgerError):
            N.Verifier.parse(bumped)


def _peter(notes: dict) -> tuple[str, N.Verifier]:  # type: ignore[type-arg]
    v = _vec(notes, "go-peterneumann")
    return v["expected_signed_note"], N.Verifier.parse(v["vkey"])


MALFORMED = {
    "text only": lambda n, t: t,
    "no signature line": lambda n, t: t + "\n",
    "signature line without its newline": lambda n, t: n[:-1],
    "leading control byte": lambda n, t: "\x01" + n,
    "name with a space": lambda n, t: n.replace("— PeterNeumann", "— Bad Name"),
    "extra line after signatures": lambda n, t: n + "Unexpected line.\n",
}


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_notes_are_rejected(notes: dict, name: str) -> None:  # type: ignore[type-arg]
    note, key = _peter(notes)
    text = _vec(notes, "go-peterneumann")["text"]
    with pytest.raises(VerificationError):
        N.open_note(MALFORMED[name](note, text), [key])


def test_invalid_utf8_and_bad_signature_are_rejected(notes: dict) -> None:  # type: ignore[type-arg]
    note, key = _peter(notes)
    with pytest.raises(VerificationError):
        N.open_note(b"\xff" + note.encode(), [key])
    line_start = note.index("— PeterNeumann")
    bad = note[: line_start + 60] + "ABCD" + note[line_start + 60 :]
    with pytest.raises(VerificationError, match="invalid signature for key PeterNeumann"):
        N.open_note(bad, [key])


def test_at_most_100_signatures(notes: dict) -> None:  # type: ignore[type-arg]
    note, key = _peter(notes)
    line = note[note.index("— ") :]
    N.open_note(note + line * 99, [key])
    with pytest.raises(VerificationError):
        N.open_note(note + line * 100, [key])


def test_real_checkpoints_and_the_fork_that_must_not_verify(notes: dict) -> None:  # type: ignore[type-arg]
    cps = {c["id"]: c for c in notes["real_world_checkpoints"]}
    for c in cps.values():
        cp, _ = open_checkpoint(
            c["signed_note"],
            N.Verifier.parse(c["vkey"]),
            origin=c.get("origin", "go.sum database tree"),
        )
        assert cp.size == c.get("tree_size", cp.size)
    old = cps["sumdb-test-misbehavior-old"]
    new = cps["sumdb-test-misbehavior-new"]
    key = N.Verifier.parse(old["vkey"])
    cp5, _ = open_checkpoint(old["signed_note"], key, origin=old["origin"])
    cp6, _ = open_checkpoint(new["signed_note"], key, origin="go.sum database tree")
    proof = [base64.b64decode(h) for h in new["claimed_bad_consistency_proof_5_to_6"]]
    with pytest.raises(VerificationError):
        M.verify_consistency(cp5.size, cp6.size, proof, cp5.root, cp6.root)
    with pytest.raises(VerificationError):  # the origin is not the key name
        open_checkpoint(old["signed_note"], key)


def test_ed25519_edge_cases_follow_go(vectors) -> None:  # type: ignore[no-untyped-def]
    cases = load("notes/ed25519-edge-cases/ed25519vectors.json")
    accepted = 0
    for c in cases:
        want = not ({"non_canonical_R", "low_order_residue"} & set(c["flags"] or ()))
        got = N.ed25519_ok(bytes.fromhex(c["key"]), bytes.fromhex(c["sig"]), c["msg"].encode())
        assert got == want, c["number"]
        accepted += got
    assert len(cases) == 914 and accepted == 208


def test_cosignature_timestamps_and_keys(notes: dict) -> None:  # type: ignore[type-arg]
    cos = notes["cosignature_v1_vectors"]
    for t in cos["timestamp_extraction"]:
        raw = base64.b64decode(t["signature_b64"])
        sig = raw[4:]
        if t.get("want_error"):
            assert len(sig) != 72
        else:
            assert int.from_bytes(sig[:8], "big") == t["want_unix_time"]
    for k in cos["vkeys"]:
        v = N.Verifier.parse(k["vkey"])
        assert str(v) == k["vkey"]
        assert v.as_cosigner().alg == N.COSIGNATURE_V1


def test_sunlight_mirror_cosignature(vectors) -> None:  # type: ignore[no-untyped-def]
    desc = load("tiles/sunlight-skylight/vector.json")
    note = (vectors / "tiles/sunlight-skylight/mirror/checkpoint").read_text()
    key = N.Verifier.parse(desc["mirror_vkey"])
    opened = N.open_note(note, [key])
    ((_, _, when),) = opened.verified
    assert when == desc["cosignature_timestamp_unix"]
    cp = Checkpoint.parse(opened.text)
    assert cp.origin == desc["origin"] and cp.size == 300
    assert base64.b64encode(cp.root).decode() == desc["mirror_root_b64"]
    # the key rebuilt from its published seed signs the same cosignature, byte for byte
    seed = hashlib.sha256(b"skylight test mirror key").digest()
    signer = N.Signer("mirror.example.org", seed, N.COSIGNATURE_V1)
    assert str(signer.verifier()) == desc["mirror_vkey"]
    assert N.sign(opened.text, [signer], timestamp=when) == note
    # a 0x04 cosignature is no 0x01 note signature
    as_plain = N.Verifier("mirror.example.org", N.ED25519, key.public)
    with pytest.raises(VerificationError):
        N.open_note(note, [as_plain])
    # the witness file: only the witness's cosignature is known, the log's 0x05 line is ignored
    wnote = (vectors / "tiles/sunlight-skylight/witness/checkpoint").read_text()
    wkey = N.Verifier.parse(desc["witness_vkey"])
    opened = N.open_note(wnote, [wkey])
    assert len(opened.verified) == 1 and len(opened.unverified) == 1
    wseed = hashlib.sha256(b"skylight test witness key").digest()
    assert (
        str(N.Signer("witness.example.org", wseed, N.COSIGNATURE_V1).verifier())
        == desc["witness_vkey"]
    )


def test_a_witness_signature_is_added_and_verified() -> None:
    log = N.Signer.generate("example.com/log")
    wit = N.Signer.generate("witness.example").as_cosigner()
    cp = Checkpoint("example.com/log", 3, bytes(32))
    note = N.sign(cp.body(), [log])
    cosigned = N.add_signatures(note, [wit], timestamp=1679315147)
    _, opened = open_checkpoint(cosigned, log.verifier(), witnesses=[wit.verifier()])
    assert [t for _, _, t in opened.verified] == [0, 1679315147]
