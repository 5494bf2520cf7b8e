"""A witness: cosign a log's checkpoint only after checking it extends the last one seen.

Specifications: https://c2sp.org/tlog-witness (the ``add-checkpoint`` request
and its rules) and https://c2sp.org/tlog-cosignature (type 0x04 cosignatures,
``cosignature/v1``).

The witness keeps the latest checkpoint it cosigned for each origin (in
``<state>/<sha256(origin) hex>``). To cosign a new one it needs the old size it
holds and a consistency proof from it. Following tlog-witness, a witness that
has seen nothing (old size 0) accepts an **empty proof from size 0**; this is
the one place where jejak accepts it (the general
:func:`jejak.ledger.merkle.verify_consistency` rejects size 0, as
transparency-dev/merkle does).

Example::

    >>> w = Witness(Signer.generate("witness.example"), Path("/tmp/w"))   # doctest: +SKIP
    >>> w.add_checkpoint(note, log_key, old_size=0, proof=[])             # doctest: +SKIP
    '— witness.example ...'
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from jejak.errors import VerificationError
from jejak.fsio import write_atomic
from jejak.ledger import merkle as M
from jejak.ledger import note as N
from jejak.ledger.checkpoint import Checkpoint, open_checkpoint


class ConflictError(VerificationError):
    """The old size given is not the size the witness holds (tlog-witness: 409 Conflict)."""

    http_status = 409

    def __init__(self, where: str, message: str, held: int = 0) -> None:
        super().__init__(where, message)
        self.held = held


class WitnessError(VerificationError):
    """An add-checkpoint request the witness refuses, with the HTTP status tlog-witness names."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__("add-checkpoint", message)
        self.http_status = status


SIZE_TYPE = "text/x.tlog.size"
MAX_PROOF_LINES = 63
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")


def verify_witness_consistency(
    old_size: int, new_size: int, proof: list[bytes], old_root: bytes, new_root: bytes
) -> None:
    """tlog-witness consistency rule: from size 0 only an empty proof, else RFC 9162."""
    if old_size == 0:
        if proof:
            raise VerificationError(
                f"consistency 0 -> {new_size}", "a proof from size 0 must be empty"
            )
        return
    M.verify_consistency(old_size, new_size, proof, old_root, new_root)


def format_add_checkpoint(old_size: int, proof: list[bytes], checkpoint: str) -> str:
    """The body of a tlog-witness add-checkpoint request."""
    lines = [f"old {old_size}", *(base64.b64encode(p).decode() for p in proof)]
    return "\n".join(lines) + "\n\n" + checkpoint


def parse_add_checkpoint(body: str) -> tuple[int, list[bytes], str]:
    """Split a request body into old size, proof hashes and the signed checkpoint (400 when
    malformed: tlog-witness's grammar, at most 63 proof lines, canonical decimal)."""
    head, sep, checkpoint = body.partition("\n\n")
    lines = head.split("\n")
    if not sep or not lines[0].startswith("old ") or not _DECIMAL.fullmatch(lines[0][4:]):
        raise WitnessError(
            400, "malformed request body: needs 'old <size>', proof lines, a blank line"
        )
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise WitnessError(400, f"more than {MAX_PROOF_LINES} proof lines")
    proof = []
    for line in lines[1:]:
        try:
            h = base64.b64decode(line, validate=True)
        except ValueError:
            raise WitnessError(400, "a proof line is not base64") from None
        if len(h) != M.HASH_SIZE:
            raise WitnessError(400, "a proof hash is not 32 bytes")
        proof.append(h)
    return int(lines[0][4:]), proof, checkpoint


@dataclass(frozen=True)
class Response:
    """An HTTP answer of the witness: status, content type, body."""

    status: int
    content_type: str
    body: bytes


class Witness:
    """One witness key and the checkpoints it has cosigned, one per origin.

    ``logs`` maps an origin to the log keys the witness trusts for it (the
    HTTP server answers 404 for any other origin). The check of the old size
    and the update of the state happen under one lock (a thread lock and an
    flock on the state folder), as tlog-witness requires.
    """

    def __init__(
        self, signer: N.Signer, state: Path, logs: dict[str, list[N.Verifier]] | None = None
    ) -> None:
        self.signer = signer.as_cosigner()
        self.state = Path(state)
        self.logs = logs or {}
        self._mutex = threading.Lock()

    def verifier(self) -> N.Verifier:
        return self.signer.verifier()

    def _path(self, origin: str) -> Path:
        return self.state / hashlib.sha256(origin.encode()).hexdigest()

    def stored(self, origin: str) -> str | None:
        """The latest cosigned checkpoint for ``origin`` as stored (log signature + cosignatures)."""
        try:
            return self._path(origin).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def latest(self, origin: str, log_key: N.Verifier) -> Checkpoint | None:
        path = self._path(origin)
        if not path.exists():
            return None
        cp, _ = open_checkpoint(path.read_text(), log_key, origin=origin, where=str(path))
        return cp

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.state.mkdir(parents=True, exist_ok=True)
        with self._mutex:
            fd = os.open(self.state / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)

    def add_checkpoint(
        self,
        note: str,
        log_key: N.Verifier,
        *,
        old_size: int,
        proof: list[bytes],
        origin: str | None = None,
        timestamp: int | None = None,
    ) -> str:
        """Verify and cosign; return the cosignature line(s).

        Raises ConflictError (409: ``held`` is the size the witness holds), or
        VerificationError/WitnessError for a checkpoint it must not cosign.
        """
        try:
            cp, _ = open_checkpoint(note, log_key, origin=origin, where="checkpoint to cosign")
        except VerificationError as exc:
            raise WitnessError(403, exc.message) from None
        if old_size > cp.size:
            raise WitnessError(400, f"old size {old_size} is beyond the checkpoint's {cp.size}")
        with self._locked():
            held = self.latest(cp.origin, log_key)
            held_size = held.size if held else 0
            if old_size != held_size:
                raise ConflictError(
                    "witness", f"holds size {held_size}, the request says {old_size}", held_size
                )
            if cp.size == 0 and cp.root != M.EMPTY_ROOT:
                raise WitnessError(422, "a checkpoint of size 0 must have the empty tree's root")
            if held is not None and cp.size == held.size:
                if cp.root != held.root or proof:
                    raise WitnessError(422, "same size, other root: the log forked")
            else:
                try:
                    verify_witness_consistency(
                        old_size, cp.size, proof, held.root if held else M.EMPTY_ROOT, cp.root
                    )
                except VerificationError as exc:
                    raise WitnessError(422, f"consistency proof: {exc.message}") from None
            text = N.parse(note)[0]
            t = int(time.time()) if timestamp is None else timestamp
            signed = N.sign(text, [self.signer], timestamp=max(t, 1))
            line = signed[len(text) + 1 :]
            known = N.open_note(note, [log_key]).verified
            kept = "".join(s.line() for _, s, _ in known)
            write_atomic(self._path(cp.origin), (text + "\n" + kept + line).encode())
        return line

    def handle_add_checkpoint(self, body: bytes, *, timestamp: int | None = None) -> Response:
        """The whole ``POST <prefix>/add-checkpoint`` exchange of tlog-witness, minus HTTP."""
        try:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                raise WitnessError(400, "the body is not UTF-8") from None
            old, proof, note = parse_add_checkpoint(text)
            try:
                origin = N.parse(note, "checkpoint")[0].split("\n", 1)[0]
            except VerificationError as exc:
                raise WitnessError(400, exc.message) from None
            keys = self.logs.get(origin)
            if not keys:
                raise WitnessError(404, f"unknown log origin {origin[:100]!r}")
            signers = [k for k in keys if _verifies(note, k)]
            if not signers:
                raise WitnessError(403, "no valid signature by a key trusted for this origin")
            line = self.add_checkpoint(
                note, signers[0], old_size=old, proof=proof, origin=origin, timestamp=timestamp
            )
        except ConflictError as exc:
            return Response(409, SIZE_TYPE, f"{exc.held}\n".encode())
        except WitnessError as exc:
            return Response(
                exc.http_status, "text/plain; charset=utf-8", (exc.message + "\n").encode()
            )
        return Response(200, "text/plain; charset=utf-8", line.encode())

    def handle_checkpoint(self, origin_hash: str) -> Response:
        """``GET <prefix>/<origin hash>/checkpoint``: the latest cosigned checkpoint, or 404."""
        text = None
        if re.fullmatch(r"[0-9a-f]{64}", origin_hash):
            path = self.state / origin_hash
            text = path.read_bytes() if path.exists() else None
        if text is None:
            return Response(404, "text/plain; charset=utf-8", b"no checkpoint for that origin\n")
        return Response(200, "text/plain; charset=utf-8", text)


KEY_FILE = "witness.key"
VKEY_FILE = "witness.vkey"
LOGS_FILE = "logs"


def open_witness(folder: Path, name: str | None = None) -> Witness:
    """The witness kept in ``folder`` (a third party's, nothing of a jejak home)::

    witness.key    its Ed25519 private key (Go note format, mode 0600), made when missing
    witness.vkey   its verifier key to publish: a cosignature/v1 (type 0x04) key
    logs           the log verifier keys it trusts, one per line
    state/         the latest checkpoint cosigned per origin (sha256 of the origin, hex)
    """
    from jejak.ledger.keys import load_signer

    folder = Path(folder)
    signer = load_signer(folder / KEY_FILE, name, vkey_alg=N.COSIGNATURE_V1)
    logs: dict[str, list[N.Verifier]] = {}
    try:
        lines = (folder / LOGS_FILE).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        lines = []
    for line in lines:
        if line.strip() and not line.lstrip().startswith("#"):
            key = N.Verifier.parse(line)
            logs.setdefault(key.name, []).append(key)
    return Witness(signer, folder / "state", logs)


def trust_log(folder: Path, key: N.Verifier) -> None:
    """Add a log's verifier key to the witness's ``logs`` file (once)."""
    path = Path(folder) / LOGS_FILE
    try:
        have = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        have = ""
    if str(key) not in have.split():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, (have + str(key) + "\n").encode())


def _verifies(note: str, key: N.Verifier) -> bool:
    """Whether ``key`` signed ``note``; a known key's bad signature is a malformed note (403)."""
    try:
        opened = N.open_note(note, [key])
    except VerificationError:
        return False
    return any(v == key for v, _, _ in opened.verified)
