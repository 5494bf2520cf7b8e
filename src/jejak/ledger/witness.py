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
import hashlib
from pathlib import Path

from jejak.errors import LedgerError, VerificationError
from jejak.fsio import write_atomic
from jejak.ledger import merkle as M
from jejak.ledger import note as N
from jejak.ledger.checkpoint import Checkpoint, open_checkpoint


class ConflictError(VerificationError):
    """The old size given is not the size the witness holds (tlog-witness: 409 Conflict)."""

    http_status = 409


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
    head, sep, checkpoint = body.partition("\n\n")
    lines = head.split("\n")
    if not sep or not lines[0].startswith("old ") or not lines[0][4:].isdigit():
        raise VerificationError("add-checkpoint", "malformed request body")
    proof = []
    for line in lines[1:]:
        try:
            h = base64.b64decode(line, validate=True)
        except ValueError:
            raise VerificationError("add-checkpoint", "a proof line is not base64") from None
        if len(h) != M.HASH_SIZE:
            raise VerificationError("add-checkpoint", "a proof hash is not 32 bytes")
        proof.append(h)
    return int(lines[0][4:]), proof, checkpoint


class Witness:
    """One witness key and the checkpoints it has cosigned."""

    def __init__(self, signer: N.Signer, state: Path) -> None:
        self.signer = signer.as_cosigner()
        self.state = Path(state)

    def verifier(self) -> N.Verifier:
        return self.signer.verifier()

    def _path(self, origin: str) -> Path:
        return self.state / hashlib.sha256(origin.encode()).hexdigest()

    def latest(self, origin: str, log_key: N.Verifier) -> Checkpoint | None:
        path = self._path(origin)
        if not path.exists():
            return None
        cp, _ = open_checkpoint(path.read_text(), log_key, origin=origin, where=str(path))
        return cp

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
        """Verify and cosign; return the cosignature line(s). Raises ConflictError or VerificationError."""
        cp, _ = open_checkpoint(note, log_key, origin=origin, where="checkpoint to cosign")
        held = self.latest(cp.origin, log_key)
        held_size = held.size if held else 0
        if old_size != held_size:
            raise ConflictError("witness", f"holds size {held_size}, the request says {old_size}")
        if cp.size < held_size:
            raise VerificationError("witness", f"size {cp.size} is older than the held {held_size}")
        if held is not None and cp.size == held.size:
            if cp.root != held.root or proof:
                raise VerificationError("witness", "same size, other root: the log forked")
        else:
            verify_witness_consistency(
                old_size, cp.size, proof, held.root if held else M.EMPTY_ROOT, cp.root
            )
        text = N.parse(note)[0]
        signed = N.sign(text, [self.signer], timestamp=timestamp)
        line = signed[len(text) + 1 :]
        self.state.mkdir(parents=True, exist_ok=True)
        write_atomic(self._path(cp.origin), note.encode())
        return line


def cosign_log(log: object, witness: Witness, *, publish: bool = True) -> str:
    """Have ``witness`` cosign ``log``'s current checkpoint (proof from what it holds); the cosigned note.

    With ``publish``, the log's ``checkpoint`` file is replaced by the cosigned
    note (when no append happened meanwhile), so mirrors serve the cosignature.
    """
    from jejak.ledger.log import Log

    if not isinstance(log, Log):
        raise LedgerError("witness", "needs a Log")
    note = log.signed_checkpoint()
    key = log.verifier
    held = witness.latest(log.origin, key)
    old = held.size if held else 0
    cp = log.checkpoint()
    proof = log.consistency_proof(old, cp.size) if 0 < old < cp.size else []
    line = witness.add_checkpoint(note, key, old_size=old, proof=proof, origin=log.origin)
    cosigned = note + line
    if publish:
        with log.writer():
            if log.checkpoint_path.read_text(encoding="utf-8") == note:
                write_atomic(log.checkpoint_path, cosigned.encode())
    return cosigned
