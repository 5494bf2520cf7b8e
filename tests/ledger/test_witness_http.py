"""`jejak ledger witness serve` speaks C2SP tlog-witness over real HTTP, byte for byte.

The request bodies are the spec's own example (tlog-witness.md, "Example request body") where
it can be used without the example log's private key, and otherwise built here line by line from
the spec's grammar (``old <size>\\n``, base64 proof lines, an empty line, the checkpoint); the
response bodies are compared as bytes with what the grammar and tlog-cosignature say.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from jejak.ledger import merkle as M
from jejak.ledger import note as N
from jejak.ledger.log import Log
from jejak.ledger.serve import url_of, witness_server
from jejak.ledger.witness import format_add_checkpoint, open_witness, trust_log

from .conftest import load

ORIGIN = "example.com/test-log"


@pytest.fixture
def served(tmp_path: Path, fresh_log: Log) -> Iterator[tuple[str, Path, Log]]:
    fresh_log.signed_checkpoint()
    folder = tmp_path / "w1"
    trust_log(folder, fresh_log.verifier)
    srv = witness_server(open_witness(folder, "witness.example/w1"), "127.0.0.1", 0)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield url_of(srv), folder, fresh_log
    srv.shutdown()
    srv.server_close()


def _post(url: str, body: bytes) -> httpx.Response:
    return httpx.post(url + "/add-checkpoint", content=body, timeout=10)


def _entries(n: int, start: int = 0) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(start, start + n)]


def test_the_spec_example_request_is_read_and_refused_for_what_it_is(
    served: tuple[str, Path, Log], tmp_path: Path
) -> None:
    url, _folder, _ = served
    body = load("checkpoints/checkpoint-vectors.json")["c2sp_examples"][
        "witness_add_checkpoint_request_body"
    ].encode()
    # the witness knows no log of origin example.com/behind-the-sofa: 404 Not Found
    r = _post(url, body)
    assert r.status_code == 404
    # a witness that trusts another key for that origin: the example's signatures are by
    # unknown keys, so no trusted signature is present: 403 Forbidden (never a parse error)
    other = N.Signer.generate("example.com/behind-the-sofa").verifier()
    w2 = tmp_path / "w2"
    trust_log(w2, other)
    srv = witness_server(open_witness(w2, "witness.example/w2"))
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        assert _post(url_of(srv), body).status_code == 403
    finally:
        srv.shutdown()
        srv.server_close()


def test_add_checkpoint_from_the_grammar_byte_for_byte(served: tuple[str, Path, Log]) -> None:
    url, folder, log = served
    wkey = N.Verifier.parse((folder / "witness.vkey").read_text())
    assert wkey.alg == N.COSIGNATURE_V1  # its own key file checks its cosignatures
    log.append(_entries(10))
    note = log.signed_checkpoint()
    body = b"old 0\n" + b"\n" + note.encode()  # no proof lines from size 0
    assert format_add_checkpoint(0, [], note).encode() == body
    r = _post(url, body)
    assert r.status_code == 200, r.text
    # the body: one signature line "— <name> <base64(key ID || timestamp || signature)>\n"
    raw = base64.b64decode(r.text.removeprefix("\u2014 witness.example/w1 ").rstrip("\n"))
    (t,) = struct.unpack(">Q", raw[4:12])
    assert t > 0
    text = note[: note.index("\n\n") + 1]
    seed = N.Signer.parse((folder / "witness.key").read_text())
    expected = N.sign(text, [seed.as_cosigner()], timestamp=t)[len(text) + 1 :]
    assert r.content == expected.encode()  # Ed25519 is deterministic: the very bytes
    assert raw[:4] == wkey.key_id
    assert N.open_note(note + r.text, [wkey]).verified[0][2] == t

    # grow to 30 with a consistency proof 10 -> 30, each proof line base64 of 32 bytes
    log.append(_entries(20, 10))
    note30 = log.signed_checkpoint()
    proof = log.consistency_proof(10)
    body = (
        b"old 10\n" + b"".join(base64.b64encode(h) + b"\n" for h in proof) + b"\n" + note30.encode()
    )
    assert format_add_checkpoint(10, proof, note30).encode() == body
    assert _post(url, body).status_code == 200

    # 409 Conflict: exactly the held size and a newline, as text/x.tlog.size
    r = _post(url, format_add_checkpoint(10, proof, note30).encode())
    assert r.status_code == 409
    assert r.content == b"30\n" and r.headers["content-type"] == "text/x.tlog.size"

    # the monitoring retrieval: the checkpoint with the log's signature and the cosignature
    h = hashlib.sha256(ORIGIN.encode()).hexdigest()
    got = httpx.get(f"{url}/{h}/checkpoint", timeout=10)
    assert got.status_code == 200
    opened = N.open_note(got.text, [log.verifier, wkey])
    assert len(opened.verified) == 2 and opened.text == note30[: note30.index("\n\n") + 1]
    assert httpx.get(f"{url}/{'0' * 64}/checkpoint", timeout=10).status_code == 404

    # the state survives a restart, written atomically (no temporary file left)
    assert open_witness(folder).latest(ORIGIN, log.verifier).size == 30  # type: ignore[union-attr]
    assert not list((folder / "state").glob("*.tmp"))


def test_every_refusal_has_the_status_the_spec_names(
    served: tuple[str, Path, Log], tmp_path: Path
) -> None:
    url, _, log = served
    log.append(_entries(10))
    n10 = log.signed_checkpoint()
    assert _post(url, f"old 0\n\n{n10}".encode()).status_code == 200
    log.append(_entries(6, 10))
    n16 = log.signed_checkpoint()
    proof = log.consistency_proof(10)

    # 400: old size beyond the checkpoint; not the grammar (leading zero, no blank line)
    assert _post(url, format_add_checkpoint(17, [], n16).encode()).status_code == 400
    assert _post(url, b"old 010\n\n" + n16.encode()).status_code == 400
    assert _post(url, b"old 10\n" + n16.encode()).status_code == 400
    too_many = format_add_checkpoint(10, [M.EMPTY_ROOT] * 64, n16).encode()
    assert _post(url, too_many).status_code == 400
    # 403: the log key's signature does not verify (one byte of the root changed)
    lines = n16.split("\n")
    lines[2] = base64.b64encode(bytes(32)).decode()
    assert (
        _post(url, format_add_checkpoint(10, proof, "\n".join(lines)).encode()).status_code == 403
    )
    # 404: a log this witness does not know
    stranger = Log(tmp_path / "other", origin="example.com/stranger")
    stranger.append(_entries(3))
    r = _post(url, format_add_checkpoint(0, [], stranger.signed_checkpoint()).encode())
    assert r.status_code == 404
    # 422: a proof that does not verify; a proof from size 0
    bad = [proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]
    assert _post(url, format_add_checkpoint(10, bad, n16).encode()).status_code == 422
    # 422: the same size with another root (a fork by the same key)
    fork = Log(tmp_path / "fork", origin=ORIGIN)
    (tmp_path / "fork" / "keys").mkdir(parents=True)
    for name in ("ledger.key", "ledger.vkey"):
        (tmp_path / "fork" / "keys" / name).write_bytes((log.home / "keys" / name).read_bytes())
    fork.append([*_entries(9), b"forged"])
    assert (
        _post(url, format_add_checkpoint(10, [], fork.signed_checkpoint()).encode()).status_code
        == 422
    )
    # nothing of that was cosigned: the honest 10 -> 16 still goes through
    assert _post(url, format_add_checkpoint(10, proof, n16).encode()).status_code == 200
    # 422 from a fresh witness: a proof from size 0 must be empty
    w3 = tmp_path / "w3"
    trust_log(w3, log.verifier)
    resp = open_witness(w3, "witness.example/w3").handle_add_checkpoint(
        format_add_checkpoint(0, proof, n16).encode()
    )
    assert resp.status == 422


def test_concurrent_submissions_never_roll_the_witness_back(
    served: tuple[str, Path, Log],
) -> None:
    """tlog-witness: checking the old size and storing the new checkpoint are one atomic step."""
    url, _folder, log = served
    log.append(_entries(4))
    n4 = log.signed_checkpoint()
    log.append(_entries(4, 4))
    n8 = log.signed_checkpoint()
    bodies = [format_add_checkpoint(0, [], n).encode() for n in (n4, n8)] * 8
    codes: list[int] = []

    def go(b: bytes) -> None:
        codes.append(_post(url, b).status_code)

    threads = [threading.Thread(target=go, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes.count(200) == 1 and codes.count(409) == len(bodies) - 1
