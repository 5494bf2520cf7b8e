"""Offline receipts: C2SP tlog-proof v1, an entry's inclusion proof with its signed checkpoint.

Specification: https://c2sp.org/tlog-proof. The text is::

    c2sp.org/tlog-proof@v1
    [extra <base64>]
    index <leaf index>
    <base64 hash>           one line per inclusion proof hash, leaf to root
    <blank line>
    <signed checkpoint note>

jejak puts the log entry itself (``kind || 0x20 || commitment``) in ``extra``,
so a customer holding the receipt and the log's verifier key can check, with
nothing else, that their record was committed: :func:`verify_receipt`.

Example::

    >>> r = Receipt(index=0, proof=[], checkpoint="checkpoint\\n")
    >>> Receipt.parse(r.format()) == r
    True
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from jejak.errors import LedgerError, VerificationError
from jejak.ledger import merkle as M
from jejak.ledger.checkpoint import Checkpoint, open_checkpoint
from jejak.ledger.note import Verifier

HEADER = "c2sp.org/tlog-proof@v1"
_INDEX_RE = re.compile(r"index (0|[1-9][0-9]{0,19})")


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise VerificationError("tlog-proof", f"{what} is not base64") from None


@dataclass(frozen=True)
class Receipt:
    index: int
    proof: list[bytes]
    checkpoint: str
    extra: bytes | None = None

    def format(self) -> str:
        lines = [HEADER]
        if self.extra is not None:
            lines.append("extra " + base64.b64encode(self.extra).decode())
        lines.append(f"index {self.index}")
        lines += [base64.b64encode(h).decode() for h in self.proof]
        return "\n".join(lines) + "\n\n" + self.checkpoint

    @classmethod
    def parse(cls, text: str) -> Receipt:
        """Parse a tlog-proof; VerificationError naming the bad line."""
        head, sep, checkpoint = text.partition("\n\n")
        if not sep:
            raise VerificationError("tlog-proof", "no blank line before the checkpoint")
        lines = head.split("\n")
        if lines[0] != HEADER:
            raise VerificationError("tlog-proof", f"the first line is not {HEADER!r}")
        i = 1
        extra = None
        if i < len(lines) and lines[i].startswith("extra "):
            extra = _b64(lines[i][6:], "the extra line")
            i += 1
        if i >= len(lines):
            raise VerificationError("tlog-proof", "no index line")
        m = _INDEX_RE.fullmatch(lines[i])
        if not m or int(m.group(1)) >= 1 << 64:
            raise VerificationError("tlog-proof", f"bad index line {lines[i][:40]!r}")
        proof = []
        for line in lines[i + 1 :]:
            h = _b64(line, "a proof hash")
            if len(h) != M.HASH_SIZE:
                raise VerificationError("tlog-proof", f"a proof hash is {len(h)} bytes, not 32")
            proof.append(h)
        return cls(int(m.group(1)), proof, checkpoint, extra)


def make_receipt(log: object, index: int, size: int | None = None) -> Receipt:
    """A receipt for leaf ``index`` of ``log`` (a :class:`jejak.ledger.log.Log`).

    At its current checkpoint, or at tree ``size`` when a signed checkpoint of
    that size is kept: the current one, or the last signed or witnessed one
    (``keys/ledger.state``); LedgerError naming the sizes available otherwise.
    """
    from jejak.ledger.log import Log
    from jejak.ledger.state import load_state

    assert isinstance(log, Log)
    notes = [log.signed_checkpoint()]
    if size is not None:
        state = load_state(log.home)
        notes += [n for n in (state.witnessed, state.signed) if n]
    kept: dict[int, tuple[str, Checkpoint]] = {}
    for note in notes:
        cp = Checkpoint.parse(note[: note.index("\n\n") + 1])
        kept.setdefault(cp.size, (note, cp))
    want = (
        size if size is not None else Checkpoint.parse(notes[0][: notes[0].index("\n\n") + 1]).size
    )
    if want not in kept:
        have = ", ".join(f"{s:,}" for s in sorted(kept))
        raise LedgerError(
            f"size {want:,}", f"no signed checkpoint of that size is kept (kept: {have})"
        )
    note, cp = kept[want]
    log.checkpoint()  # the current checkpoint's signature, checked
    open_checkpoint(note, log.verifier, origin=log.origin, where=f"checkpoint of size {want}")
    return Receipt(index, log.inclusion_proof(index, cp.size), note, log.entry(index, cp.size))


def verify_receipt(
    text: str, log_key: Verifier, *, origin: str | None = None, entry: bytes | None = None
) -> tuple[Receipt, Checkpoint]:
    """Check a receipt with nothing but the log's verifier key; VerificationError when it fails.

    ``entry`` defaults to the receipt's ``extra``; when both are given they must agree.
    """
    r = Receipt.parse(text)
    cp, _ = open_checkpoint(r.checkpoint, log_key, origin=origin, where="receipt checkpoint")
    if entry is None:
        if r.extra is None:
            raise VerificationError("tlog-proof", "no entry given and none in the extra line")
        entry = r.extra
    elif r.extra is not None and r.extra != entry:
        raise VerificationError("tlog-proof", "the entry is not the one the receipt is for")
    M.verify_inclusion(M.leaf_hash(entry), r.index, cp.size, r.proof, cp.root)
    return r, cp
