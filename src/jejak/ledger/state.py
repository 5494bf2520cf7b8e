"""What the log's key has signed and what witnesses cosigned: ``<home>/keys/ledger.state``.

C2SP tlog-checkpoint: a log must never sign a checkpoint inconsistent with one
it signed before. The tiles alone cannot guarantee that (delete ``ledger/`` and
ingest again, and a different tree of the same size appears under the same
key), so the writer keeps, beside the key, the last checkpoint it signed and
the last one witnesses cosigned to the policy's quorum, and checks every tree
against both before signing (:func:`check_extends`). The file is JSON, written
atomically after each checkpoint::

    {"format": 1, "signed": "<signed note>", "witnessed": "<cosigned note>" | null,
     "witness_sizes": {"<policy name>": <size it holds>}}

A home made before this file existed gets it on its next append.

Example::

    >>> load_state(Path("/tmp/empty-home")).signed is None       # doctest: +SKIP
    True
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jejak.errors import ForkError, LedgerError, VerificationError
from jejak.ledger import merkle as M
from jejak.ledger.checkpoint import Checkpoint, open_checkpoint

if TYPE_CHECKING:
    from jejak.ledger.note import Verifier
    from jejak.ledger.tiles import TileReader

STATE_FILE = "ledger.state"
FORMAT = 1


@dataclass
class LogState:
    signed: str | None = None
    witnessed: str | None = None
    witness_sizes: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> bytes:
        data: dict[str, Any] = {
            "format": FORMAT,
            "signed": self.signed,
            "witnessed": self.witnessed,
            "witness_sizes": self.witness_sizes,
        }
        return json.dumps(data, indent=1, sort_keys=True).encode()


def state_path(home: Path) -> Path:
    return Path(home) / "keys" / STATE_FILE


def load_state(home: Path) -> LogState:
    path = state_path(home)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return LogState()
    except ValueError as exc:
        raise LedgerError(str(path), f"cannot read: {exc}") from None
    return LogState(data.get("signed"), data.get("witnessed"), dict(data.get("witness_sizes", {})))


def save_state(home: Path, state: LogState) -> None:
    from jejak.fsio import write_atomic

    path = state_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, state.to_json())


def opened(note: str | None, key: Verifier, origin: str, where: str) -> Checkpoint | None:
    """The checkpoint of a note from the state file, its log signature checked."""
    if not note:
        return None
    cp, _ = open_checkpoint(note, key, origin=origin, where=where)
    return cp


def extends(reader: TileReader, new: Checkpoint, old: Checkpoint) -> str | None:
    """Why the tree of ``new`` (read through ``reader``) does not extend ``old``; None when it does."""
    if old.size > new.size:
        return f"is at size {new.size:,}, behind size {old.size:,}"
    if old.size == new.size:
        return None if old.root == new.root else f"has another root at size {new.size:,}"
    if old.size == 0:
        return None
    try:
        proof = M.consistency_proof(old.size, new.size, reader.range_hash)
        M.verify_consistency(old.size, new.size, proof, old.root, new.root)
    except VerificationError as exc:
        return f"does not extend size {old.size:,} ({exc.message})"
    return None


def check_extends(
    home: Path, reader: TileReader, cp: Checkpoint, key: Verifier, *, have_tiles: bool = True
) -> None:
    """ForkError unless the tree ``cp`` extends the last checkpoint signed and the last witnessed.

    Called by the writer before it signs anything. ``have_tiles`` False means
    the log folder holds no checkpoint at all (a fresh start).
    """
    state = load_state(home)
    where = str(state_path(home))
    signed = opened(state.signed, key, cp.origin, where)
    witnessed = opened(state.witnessed, key, cp.origin, where)
    last = max((c for c in (signed, witnessed) if c), key=lambda c: c.size, default=None)
    if last is None:
        return
    seen = f"size {signed.size:,}" if signed else "nothing"
    if witnessed is not None:
        seen += f" (last witnessed at size {witnessed.size:,})"
    if not have_tiles and last.size > 0:
        raise ForkError(
            where,
            f"this key signed the log at {seen} but the log's tiles are gone: "
            "refusing to start a new tree under the same key",
        )
    for label, old in (("witnessed", witnessed), ("signed", signed)):
        if old is None:
            continue
        why = extends(reader, cp, old)
        if why is not None:
            raise ForkError(
                where,
                f"the log {why} of the checkpoint this key {label} "
                f"(it signed {seen}): refusing to sign a fork or a roll-back",
            )


def record_signed(home: Path, note: str) -> None:
    save_state(home, signed_state(home, note))


def signed_state(home: Path, note: str) -> LogState:
    """The state file's content once ``note`` is signed (the log's writer makes it durable with
    the append's tiles and moves it in place after the checkpoint)."""
    state = load_state(home)
    state.signed = note
    return state


@dataclass
class Witnessed:
    """A checkpoint cosigned to the policy's quorum, and where it was found."""

    note: str
    checkpoint: Checkpoint
    cosigners: list[str]
    source: str

    def describe(self) -> str:
        by = ", ".join(self.cosigners) or "its witnesses"
        return f"the checkpoint witnessed at size {self.checkpoint.size:,} by {by} ({self.source})"


def witnessed_checkpoints(
    home: Path, key: Verifier, origin: str, current: str | None, *, fetch: bool = True
) -> list[Witnessed]:
    """Every witnessed checkpoint that can be found: the key's state file, the current checkpoint
    when its cosignatures meet the policy's quorum, and (``fetch``) each policy witness's
    tlog-witness monitoring endpoint ``<url>/<sha256(origin) hex>/checkpoint``.

    Without a policy, one valid cosignature makes a checkpoint witnessed.
    """
    import hashlib

    from jejak.ledger.policy import load_policy

    policy = load_policy(home)
    wkeys = [w.key for w in policy.witnesses] if policy else []
    found: list[Witnessed] = []

    def consider(note: str | None, source: str) -> None:
        if not note:
            return
        try:
            cp, opened = open_checkpoint(note, key, origin=origin, witnesses=wkeys, where=source)
        except VerificationError:
            return
        cosigned = [v for v, _, t in opened.verified if t > 0]
        if policy is not None:
            names = policy.cosigners(cosigned)
            if not policy.satisfied(names) or policy.quorum == "none":
                return
            found.append(Witnessed(note, cp, sorted(names), source))
        elif source == str(state_path(home)):
            found.append(Witnessed(note, cp, [s.name for _, s, t in opened.verified if t], source))

    consider(load_state(home).witnessed, str(state_path(home)))
    consider(current, "the log's checkpoint")
    if fetch and policy is not None:
        import httpx

        h = hashlib.sha256(origin.encode()).hexdigest()
        for w in policy.witnesses:
            if not w.url:
                continue
            url = f"{w.url.rstrip('/')}/{h}/checkpoint"
            try:
                r = httpx.get(url, timeout=5.0)
            except httpx.HTTPError:
                continue
            if r.status_code == 200:
                consider(r.text, url)
    return found
