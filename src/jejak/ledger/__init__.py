"""Prove: jejak's tamper-evident transparency log (issue 6).

One module per concept::

    merkle.py      RFC 6962/9162 hashing, inclusion and consistency proofs, verifiers
    tiles.py       C2SP tlog-tiles paths, tiles and entry bundles on disk
    note.py        C2SP signed notes, Ed25519 keys, verifier keys, cosignatures (0x04)
    checkpoint.py  C2SP tlog-checkpoint bodies, signed and opened
    keys.py        the log's key files under <home>/keys
    log.py         the one writer: atomic batch append, crash recovery; proofs from tiles
    records.py     stored records -> log entries (what ingest commits), leaf -> record
    verify.py      the log against its checkpoint, the store against the log
    erasure.py     erasing a subscriber without breaking a proof
    receipt.py     C2SP tlog-proof receipts for customers
    witness.py     C2SP tlog-witness cosigning
    cli.py         `jejak ledger ...`

Example::

    >>> from jejak.ledger import Log, verify              # doctest: +SKIP
    >>> Log("./jejak-data").checkpoint().size             # doctest: +SKIP
    645
"""

from __future__ import annotations

from jejak.ledger.checkpoint import Checkpoint
from jejak.ledger.log import Log
from jejak.ledger.verify import Report, verify, verify_log

__all__ = ["Checkpoint", "Log", "Report", "verify", "verify_log"]
