"""Publishing a checkpoint: have the policy's witnesses cosign it (C2SP tlog-witness, client side).

A checkpoint counts as **published** when the witnesses that cosigned it meet
the quorum of the log's policy (``<home>/keys/ledger.policy``, C2SP
tlog-policy). :func:`publish` sends each witness that has a URL an
``add-checkpoint`` request: the size it holds (remembered in
``keys/ledger.state``; on 409 Conflict the size the witness answers), the
consistency proof from it, and the signed checkpoint. Each returned
cosignature is checked with the witness's 0x04 key before it is kept. With
the quorum met, the cosigned note replaces ``ledger/checkpoint`` (when no
append happened meanwhile) and becomes the state's ``witnessed`` checkpoint,
which the writer will never sign past inconsistently.

The writer calls :func:`publish_if_policy` after every append, outside its lock.

Example::

    >>> result = publish(Log("./jejak-data"))       # doctest: +SKIP
    >>> result.published, sorted(result.cosigners)  # doctest: +SKIP
    (True, ['w1', 'w2'])
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

from jejak.errors import LedgerError, VerificationError
from jejak.fsio import write_atomic
from jejak.ledger import note as N
from jejak.ledger.checkpoint import Checkpoint, open_checkpoint
from jejak.ledger.policy import Policy, PolicyWitness, load_policy
from jejak.ledger.state import LogState, load_state, save_state
from jejak.ledger.witness import SIZE_TYPE, Witness, format_add_checkpoint

if TYPE_CHECKING:
    from jejak.ledger.log import Log

log_ = logging.getLogger("jejak.ledger")
TIMEOUT = 10.0


@dataclass
class Published:
    """What publishing one checkpoint gave."""

    checkpoint: Checkpoint
    note: str
    published: bool
    cosigners: set[str] = field(default_factory=set)
    refused: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        head = (
            f"size {self.checkpoint.size:,} "
            f"{'published' if self.published else 'NOT published'}: "
            f"cosigned by {', '.join(sorted(self.cosigners)) or 'no witness'}"
        )
        return head + "".join(f"; {n} refused: {why}" for n, why in sorted(self.refused.items()))


def add_checkpoint(
    client: httpx.Client, url: str, old: int, proof: list[bytes], note: str
) -> tuple[int, str]:
    """One ``POST <url>/add-checkpoint``: (status, body). 409's body is the witness's size."""
    r = client.post(
        url.rstrip("/") + "/add-checkpoint",
        content=format_add_checkpoint(old, proof, note).encode(),
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    if r.status_code == 409 and not r.headers.get("content-type", "").startswith(SIZE_TYPE):
        return 502, f"409 without {SIZE_TYPE}"
    return r.status_code, r.text


def _cosign_one(
    client: httpx.Client, log: Log, w: PolicyWitness, text: str, note: str, cp: Checkpoint, old: int
) -> tuple[str | None, int, str]:
    """(cosignature lines or None, the size the witness holds after, why not)."""
    assert w.url is not None
    for _ in range(2):  # a 409 tells the size the witness holds: one more try from it
        proof = log.consistency_proof(old, cp.size) if 0 < old < cp.size else []
        try:
            status, body = add_checkpoint(client, w.url, old, proof, note)
        except httpx.HTTPError as exc:
            return None, old, f"unreachable ({exc.__class__.__name__}: {exc})"
        if status == 409 and body.strip().isdigit():
            old = int(body.strip())
            continue
        if status != 200:
            return None, old, f"{status} {body.strip()[:200]}"
        try:
            opened = N.open_note(text + "\n" + body, [w.key], f"cosignature of {w.name}")
        except VerificationError as exc:
            return None, old, f"bad cosignature: {exc.message}"
        good = [s for v, s, t in opened.verified if v == w.key and t > 0]
        if not good:
            return None, old, "no cosignature by its key"
        return good[0].line(), cp.size, ""
    return None, old, f"holds size {old:,}, and answered 409 again"


def publish(log: Log, policy: Policy | None = None, *, timeout: float = TIMEOUT) -> Published:
    """Submit the log's current checkpoint to the policy's witnesses; see the module docstring."""
    policy = policy or load_policy(log.home)
    if policy is None:
        raise LedgerError(str(log.home / "keys"), "the log has no policy (keys/ledger.policy)")
    key = log.verifier
    current = log.signed_checkpoint()
    cp, opened = open_checkpoint(current, key, origin=log.origin, where=str(log.checkpoint_path))
    text = opened.text
    note = text + "\n" + "".join(s.line() for v, s, _ in opened.verified if v == key)
    state = load_state(log.home)
    result = Published(cp, note, False)
    lines: list[str] = []
    asked = [w for w in policy.witnesses if w.url]
    client = _client(timeout)
    # the witnesses are asked at once: publishing waits for the slowest, not for their sum
    with ThreadPoolExecutor(max(1, len(asked))) as pool:
        answers = list(
            pool.map(
                lambda w: _cosign_one(
                    client, log, w, text, note, cp, state.witness_sizes.get(w.name, 0)
                ),
                asked,
            )
        )
    for w, (line, held, why) in zip(asked, answers, strict=True):
        state.witness_sizes[w.name] = held
        if line is None:
            result.refused[w.name] = why
        else:
            lines.append(line)
            result.cosigners.add(w.name)
    result.published = policy.satisfied(result.cosigners)
    with log._lock():
        state = _merge(load_state(log.home), state)
        if result.published:
            result.note = note + "".join(lines)
            if N.parse(log.checkpoint_path.read_bytes())[0] == text:
                write_atomic(log.checkpoint_path, result.note.encode())
            state.witnessed = result.note
        save_state(log.home, state)
    return result


def _merge(now: LogState, ours: LogState) -> LogState:
    """The state as written meanwhile, with the witness sizes learnt here."""
    now.witness_sizes.update(ours.witness_sizes)
    return now


_clients: dict[float, httpx.Client] = {}


def _client(timeout: float) -> httpx.Client:
    """One keep-alive client per process (tlog-witness: clients SHOULD keep connections alive)."""
    c = _clients.get(timeout)
    if c is None or c.is_closed:
        c = _clients[timeout] = httpx.Client(timeout=timeout)
    return c


def publish_if_policy(log: Log) -> Published | None:
    """Publish after an append when the policy names witnesses; a warning when not published."""
    policy = load_policy(log.home)
    if policy is None or not any(w.url for w in policy.witnesses):
        return None
    result = publish(log, policy)
    if not result.published:
        log_.warning("ledger: %s", result.summary())
    return result


def cosign_log(log: Log, witness: Witness, *, publish: bool = True) -> str:
    """Have ``witness`` cosign ``log``'s current checkpoint (proof from what it holds); the cosigned note.

    With ``publish``, the log's ``checkpoint`` file is replaced by the cosigned
    note (when no append happened meanwhile), so mirrors serve the cosignature.
    """
    note = log.signed_checkpoint()
    key = log.verifier
    held = witness.latest(log.origin, key)
    old = held.size if held else 0
    cp = log.checkpoint()
    proof = log.consistency_proof(old, cp.size) if 0 < old < cp.size else []
    line = witness.add_checkpoint(note, key, old_size=old, proof=proof, origin=log.origin)
    cosigned = note + line
    if publish:
        policy = load_policy(log.home)
        with log.writer():
            if log.checkpoint_path.read_text(encoding="utf-8") == note:
                write_atomic(log.checkpoint_path, cosigned.encode())
            if policy is None or policy.satisfied(policy.cosigners([witness.verifier()])):
                state = load_state(log.home)
                state.witnessed = cosigned
                save_state(log.home, state)
    return cosigned
