"""A monitor: follow a log served at C2SP tlog-tiles paths and catch a fork or a roll-back.

Specification: https://c2sp.org/tlog-tiles (``<prefix>/checkpoint``,
``<prefix>/tile/<L>/<N>[.p/<W>]``), checkpoints per C2SP tlog-checkpoint and
signed-note, cosignatures per tlog-cosignature, the quorum per tlog-policy.

Each :func:`check` fetches the checkpoint, verifies the log's signature and
(with a policy) that the witnesses' cosignatures meet the quorum, then
compares it with the last checkpoint this monitor saw (kept in its state
folder, one file per origin): a smaller size is a **roll-back**, the same size
with another root or a larger tree that does not extend the old one (an RFC
9162 consistency proof built from the served tiles) is a **fork**. Either is
reported in one line naming both checkpoints, and the last good one is kept.

Example::

    >>> check("http://127.0.0.1:8080", key, Path("/var/lib/monitor")).line()  # doctest: +SKIP
    'ok: jejak.example/operator grew 120 -> 130'
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

import httpx

from jejak.errors import VerificationError
from jejak.fsio import write_atomic
from jejak.ledger import merkle as M
from jejak.ledger.checkpoint import Checkpoint, open_checkpoint
from jejak.ledger.note import Verifier
from jejak.ledger.policy import Policy
from jejak.ledger.tiles import TILE_WIDTH, TileReader, tile_path


def show(cp: Checkpoint) -> str:
    """A checkpoint in one line: origin, size, root."""
    return f"{cp.origin} size {cp.size} root {base64.b64encode(cp.root).decode()}"


@dataclass
class Seen:
    """One check's outcome: ``status`` ok, first, fork, rollback or invalid."""

    status: str
    new: Checkpoint | None
    old: Checkpoint | None
    message: str

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "first")

    def line(self) -> str:
        if self.status in ("fork", "rollback"):
            assert self.new is not None and self.old is not None
            return (
                f"{self.status.upper()}: {self.message}: seen [{show(self.old)}], "
                f"now served [{show(self.new)}]"
            )
        return f"{self.status if self.ok else 'INVALID'}: {self.message}"


class HttpTiles(TileReader):
    """A :class:`TileReader` that fetches tiles over HTTP from a tlog-tiles prefix."""

    def __init__(self, client: httpx.Client, url: str, size: int) -> None:
        super().__init__(Path("."), size)
        self.client = client
        self.url = url.rstrip("/")

    def tile(self, level: int, index: int) -> bytes:
        key = (level, index)
        data = self.cache.get(key)
        if data is not None:
            return data
        width = self.width(level, index)
        if width <= 0:
            raise VerificationError(f"tile {level}/{index}", f"beyond a tree of size {self.size}")
        paths = [tile_path(level, index, width % TILE_WIDTH)]
        if width < TILE_WIDTH:
            paths.append(tile_path(level, index))  # tlog-tiles: a full tile may serve a partial
        for rel in paths:
            r = self.client.get(f"{self.url}/{rel}")
            if r.status_code == 404:
                continue
            if r.status_code != 200:
                raise VerificationError(f"{self.url}/{rel}", f"HTTP {r.status_code}")
            want = width * M.HASH_SIZE
            if len(r.content) < want:
                raise VerificationError(f"{self.url}/{rel}", f"is {len(r.content)} bytes")
            self.cache[key] = r.content[:want]
            return r.content[:want]
        raise VerificationError(f"{self.url}/{paths[0]}", "tile not served")


def _state_file(state: Path, origin: str) -> Path:
    return Path(state) / hashlib.sha256(origin.encode()).hexdigest()


def check(
    url: str,
    key: Verifier,
    state: Path,
    *,
    policy: Policy | None = None,
    client: httpx.Client | None = None,
) -> Seen:
    """Fetch the log's checkpoint once and compare it with the last one seen (see the module)."""
    own = client is None
    client = client or httpx.Client(timeout=10.0)
    try:
        return _check(client, url.rstrip("/"), key, Path(state), policy)
    finally:
        if own:
            client.close()


def _check(
    client: httpx.Client, url: str, key: Verifier, state: Path, policy: Policy | None
) -> Seen:
    r = client.get(url + "/checkpoint")
    if r.status_code != 200:
        return Seen("invalid", None, None, f"{url}/checkpoint: HTTP {r.status_code}")
    note = r.text
    witnesses = [w.key for w in policy.witnesses] if policy else []
    try:
        new, opened = open_checkpoint(
            note, key, witnesses=witnesses, where=f"{url}/checkpoint", origin=key.name
        )
    except VerificationError as exc:
        return Seen("invalid", None, None, str(exc))
    if policy is not None:
        cosigned = policy.cosigners([v for v, _, t in opened.verified if t > 0])
        if not policy.satisfied(cosigned):
            return Seen(
                "invalid",
                new,
                None,
                f"{show(new)}: cosigned by {', '.join(sorted(cosigned)) or 'no witness'}, "
                "short of the policy's quorum",
            )
    path = _state_file(state, new.origin)
    old = None
    if path.exists():
        old, _ = open_checkpoint(path.read_text(encoding="utf-8"), key, where=str(path))
    if old is None:
        status, message = "first", f"{show(new)}"
    elif new.size < old.size:
        return Seen("rollback", new, old, f"{new.origin} went back from size {old.size}")
    elif new.size == old.size:
        if new.root != old.root:
            return Seen("fork", new, old, f"{new.origin} has two roots at size {new.size}")
        status, message = "ok", f"{new.origin} unchanged at size {new.size}"
    else:
        try:
            reader = HttpTiles(client, url, new.size)
            proof = M.consistency_proof(old.size, new.size, reader.range_hash)
            M.verify_consistency(old.size, new.size, proof, old.root, new.root)
        except VerificationError as exc:
            return Seen(
                "fork",
                new,
                old,
                f"{new.origin} at size {new.size} does not extend size {old.size} ({exc.message})",
            )
        status, message = "ok", f"{new.origin} grew {old.size} -> {new.size}"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, note.encode())
    return Seen(status, new, old, message)
