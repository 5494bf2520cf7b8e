"""Checkpoints: C2SP tlog-checkpoint v1.0.0, signed as C2SP signed notes.

Specification: https://c2sp.org/tlog-checkpoint@v1.0.0. The body is::

    <origin>\\n
    <tree size, decimal>\\n
    <root hash, base64>\\n
    [extension lines]

This parser is strict: the root must be 32 bytes, the size a canonical
decimal that fits in 64 bits, extension lines non-empty.

Example::

    >>> cp = Checkpoint("example.com/log", 0, EMPTY_ROOT)
    >>> Checkpoint.parse(cp.body()) == cp
    True
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from jejak.errors import VerificationError
from jejak.ledger import note as N
from jejak.ledger.merkle import EMPTY_ROOT, HASH_SIZE

MAX_SIZE = (1 << 64) - 1
_SIZE_RE = re.compile(r"0|[1-9][0-9]{0,19}")

__all__ = ["EMPTY_ROOT", "Checkpoint", "open_checkpoint", "sign_checkpoint"]


@dataclass(frozen=True)
class Checkpoint:
    """One tree head: origin, size, root hash (and optional extension lines)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        """The note text of this checkpoint."""
        lines = [
            self.origin,
            str(self.size),
            base64.b64encode(self.root).decode(),
            *self.extensions,
        ]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str, where: str = "checkpoint") -> Checkpoint:
        """Parse a checkpoint body; VerificationError naming what is wrong."""
        if not text.endswith("\n"):
            raise VerificationError(where, "the body must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise VerificationError(where, "needs origin, size and root lines")
        origin, size, root, *ext = lines
        if not origin:
            raise VerificationError(where, "empty origin line")
        if not _SIZE_RE.fullmatch(size) or int(size) > MAX_SIZE:
            raise VerificationError(where, f"bad tree size {size[:30]!r}")
        try:
            raw = base64.b64decode(root, validate=True)
        except (binascii.Error, ValueError):
            raise VerificationError(where, f"root hash {root[:60]!r} is not base64") from None
        if len(raw) != HASH_SIZE:
            raise VerificationError(where, f"root hash is {len(raw)} bytes, not {HASH_SIZE}")
        if any(not e for e in ext):
            raise VerificationError(where, "empty extension line")
        return cls(origin, int(size), raw, tuple(ext))


def sign_checkpoint(cp: Checkpoint, signer: N.Signer) -> str:
    """The checkpoint as a signed note."""
    return N.sign(cp.body(), [signer])


def open_checkpoint(
    note: str | bytes,
    log_key: N.Verifier,
    *,
    origin: str | None = None,
    witnesses: list[N.Verifier] = (),  # type: ignore[assignment]
    where: str = "checkpoint",
) -> tuple[Checkpoint, N.Note]:
    """Verify a signed checkpoint: it must carry a valid signature by ``log_key``.

    Witness cosignatures that verify are listed in the returned note; ones by
    unknown keys are kept unverified. The origin must equal ``origin`` when
    given, and the log key's name otherwise (C2SP convention).
    """
    opened = N.open_note(note, [log_key, *witnesses], where)
    if not any(v == log_key for v, _, _ in opened.verified):
        raise VerificationError(where, f"not signed by the log key {log_key.name}")
    cp = Checkpoint.parse(opened.text, where)
    want = origin if origin is not None else log_key.name
    if cp.origin != want:
        raise VerificationError(where, f"origin {cp.origin!r} is not {want!r}")
    return cp, opened
