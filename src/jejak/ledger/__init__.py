"""Prove: jejak's tamper-evident transparency log (issue 6), a pure C2SP tlog.

It appends opaque entries and proves things about them; it imports nothing of
jejak but the base (errors, settings, fsio). What an entry means — a stored
record, a line of a suppressions file — is :mod:`jejak.audit`'s. One module per
concept::

    merkle.py      RFC 6962/9162 hashing, inclusion and consistency proofs, verifiers
    tiles.py       C2SP tlog-tiles paths, tiles and entry bundles on disk
    note.py        C2SP signed notes, Ed25519 keys, verifier keys, cosignatures (0x04)
    checkpoint.py  C2SP tlog-checkpoint bodies, signed and opened
    keys.py        the log's key files under <home>/keys
    log.py         the one writer: atomic batch append, crash recovery; proofs from tiles
    verify.py      the log against its checkpoint (and the report every check writes to)
    receipt.py     C2SP tlog-proof receipts for customers
    witness.py     C2SP tlog-witness: the witness and its add-checkpoint rules
    policy.py      C2SP tlog-policy: which witnesses must cosign (keys/ledger.policy)
    state.py       what the key signed and what was witnessed; the check before signing
    publish.py     the log's tlog-witness client: publish a checkpoint to the quorum
    serve.py       HTTP servers: a witness, and a log's tiles
    monitor.py     follow a log over HTTP; report a fork or a roll-back
    cli.py         `jejak ledger ...` (an interface: it may use jejak.Home and jejak.audit)

Example::

    >>> from jejak.ledger import Log, verify_log          # doctest: +SKIP
    >>> Log("./jejak-data").checkpoint().size             # doctest: +SKIP
    645
"""

from __future__ import annotations

from jejak.ledger.checkpoint import Checkpoint
from jejak.ledger.log import Log
from jejak.ledger.verify import Problem, Report, verify_log

__all__ = ["Checkpoint", "Log", "Problem", "Report", "verify_log"]
