"""Proof that a case's timeline is in the operator's transparency log, unchanged.

For each timeline entry the log holds, at the entry's ``ledger_index``, the keyed commitment
``"case" || 0x20 || SHA-256(store secret || 0x1F || canonical JSON of the entry)``
(:mod:`jejak.cases.audit`). :func:`bundle` recomputes that commitment **from the entry as the
database holds it now** and gives, for each, the RFC 6962 inclusion proof in the current signed
checkpoint (C2SP tlog-checkpoint, signed note). The browser (``web/static/customer-verify.js``)
then checks, with nothing but WebCrypto:

- the checkpoint's Ed25519 signature by the log's key (and any witness cosignatures it knows);
- for each entry: leaf hash ``SHA-256(0x00 || entry)`` → root through the proof = the signed root
  (an entry edited in the database gives another commitment, which fails here);
- that the entries run 1..N with none missing (``last_seq`` is the case's own count);
- consistency (RFC 6962 §2.1.2) from the checkpoint it saw on its previous visit (kept in
  ``localStorage``) to this one: a log rolled back, or a second log signed with the same key that
  forks from the first, fails here.

Each entry's receipt (:func:`receipt`) is a C2SP tlog-proof with the commitment in its ``extra``
line, which ``jejak ledger check-receipt`` and any tlog-proof verifier accept.

What the browser cannot check alone: that the commitment is of the text it shows (the key is the
operator's store secret); ``jejak ledger verify`` (an auditor) checks that, for every entry.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from jejak.audit.lines import line_entry
from jejak.cases.audit import canonical_entry
from jejak.cases.models import Case, TimelineEntry
from jejak.commitments import store_secret
from jejak.errors import LedgerError, NotFoundError
from jejak.ledger.checkpoint import Checkpoint
from jejak.ledger.receipt import Receipt

if TYPE_CHECKING:
    from jejak.cases.service import Cases

ENTRY_SOURCE = "case"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _entries(cases: Cases, case_id: str) -> tuple[int, list[TimelineEntry]]:
    with cases.db.read() as s:
        case = s.get(Case, case_id)
        if case is None:
            raise NotFoundError(case_id, "no such case")
        rows = list(
            s.scalars(
                select(TimelineEntry)
                .where(TimelineEntry.case_id == case_id)
                .order_by(TimelineEntry.seq)
            )
        )
        for r in rows:
            s.expunge(r)
        return case.last_seq, rows


def commitment(home: Path, e: TimelineEntry) -> bytes:
    """The log entry an unchanged timeline entry has."""
    return line_entry(ENTRY_SOURCE, store_secret(Path(home)), canonical_entry(e))


def _checkpoint(log: Any) -> tuple[str, Checkpoint]:
    note = log.signed_checkpoint()
    return note, Checkpoint.parse(note[: note.index("\n\n") + 1])


def bundle(
    cases: Cases, case_id: str, *, since: int | None = None, witnesses: list[str] | None = None
) -> dict[str, Any]:
    """What the browser needs to verify every entry of a case (see the module's docstring).
    ``since``: the tree size of the checkpoint the browser saw before, for a consistency proof."""
    last_seq, rows = _entries(cases, case_id)
    log = cases.log
    note, cp = _checkpoint(log)
    entries = []
    for e in rows:
        item: dict[str, Any] = {"seq": e.seq, "index": e.ledger_index, "entry": None, "proof": None}
        item["entry"] = _b64(commitment(cases.home, e))
        if e.ledger_index is not None and e.ledger_index < cp.size:
            item["proof"] = [_b64(h) for h in log.inclusion_proof(e.ledger_index, cp.size)]
        entries.append(item)
    consistency = None
    if since is not None and 0 < since <= cp.size:
        try:
            consistency = [_b64(h) for h in log.consistency_proof(since, cp.size)]
        except LedgerError:
            consistency = None
    return {
        "case_id": case_id,
        "last_seq": last_seq,
        "checkpoint": note,
        "origin": cp.origin,
        "size": cp.size,
        "log_key": str(log.verifier),
        "witness_keys": list(witnesses or []),
        "since": since,
        "consistency": consistency,
        "entries": entries,
    }


def receipt(cases: Cases, case_id: str, seq: int) -> str:
    """The C2SP tlog-proof of one entry of a case at the current checkpoint."""
    _, rows = _entries(cases, case_id)
    e = next((r for r in rows if r.seq == seq), None)
    if e is None or e.ledger_index is None:
        raise NotFoundError(f"{case_id}#{seq}", "no such logged entry")
    log = cases.log
    note, cp = _checkpoint(log)
    if e.ledger_index >= cp.size:
        raise NotFoundError(f"{case_id}#{seq}", "the log's checkpoint does not hold this entry")
    r = Receipt(
        e.ledger_index,
        log.inclusion_proof(e.ledger_index, cp.size),
        note,
        commitment(cases.home, e),
    )
    return r.format()
