"""Verify the log against its signed checkpoint, and the report every check writes to.

:func:`verify_log` checks the checkpoint's signature (C2SP signed-note, with the
verifier key), every tile's length, every full tile's root against the hash one
level up (C2SP tlog-tiles v1.0.0), the root of the tree against the checkpoint
(RFC 6962 MTH), and every entry bundle against the leaf hashes
(SHA-256(0x00 || entry)). What the entries mean, and the store against the log,
is :mod:`jejak.audit.verify`'s.

Example::

    >>> report, cp = verify_log(Log("./jejak-data"))  # doctest: +SKIP
    >>> report.ok, report.leaves                      # doctest: +SKIP
    (True, 645)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from hashlib import sha256
from typing import Any

from jejak.errors import JejakError, VerificationError
from jejak.ledger import merkle as M
from jejak.ledger.checkpoint import Checkpoint, open_checkpoint
from jejak.ledger.log import Log
from jejak.ledger.note import Verifier
from jejak.ledger.tiles import (
    TILE_WIDTH,
    TileReader,
    entries_path,
    read_bundle,
    read_tile,
    tile_path,
    widths,
)

HS = M.HASH_SIZE


@dataclass
class Problem:
    """One thing that does not verify. ``what``: checkpoint, tile, bundle, edited, deleted, unlogged, file."""

    what: str
    where: str
    message: str
    leaf: int | None = None
    kind: str | None = None
    key: str | None = None

    def __str__(self) -> str:
        return f"{self.what}: {self.where}: {self.message}"


@dataclass
class Report:
    size: int = 0
    leaves: int = 0
    records: int = 0
    erased: int = 0
    problems: list[Problem] = field(default_factory=list)
    #: entries of sources that name them (e.g. case actions: ``{leaf, case_id, seq, action}``)
    named: list[dict[str, Any]] = field(default_factory=list)
    #: what verify checked the log against (the latest witnessed checkpoint it found), in words
    against: str | None = None
    #: level-0 tiles found wrong: index -> the leaf hashes of its entry bundle when those fit the
    #: tree (the tile alone was replaced), else None; the store is checked through these
    bad_tiles: dict[int, bytes | None] = field(default_factory=dict, repr=False)
    #: store batches committed after the log's last append: an append is pending, not missing
    pending: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("bad_tiles")
        return {**d, "ok": self.ok}


def verify_log(
    log: Log, verifier: Verifier | None = None, report: Report | None = None
) -> tuple[Report, Checkpoint | None]:
    """Check every tile and bundle against the signed checkpoint; problems go to the report."""
    report = report or Report()
    try:
        cp, _ = open_checkpoint(
            log.checkpoint_path.read_bytes(),
            verifier or log.verifier,
            origin=log.origin,
            where=str(log.checkpoint_path),
        )
    except FileNotFoundError:
        first_append = log.pending() is not None  # the log's first append, under way or cut off
        if log.dir.exists() and any((log.dir / "tile").glob("*")) and not first_append:
            report.problems.append(Problem("checkpoint", str(log.checkpoint_path), "missing"))
        _missing_log(log, verifier or log.verifier, report)
        return report, None
    except JejakError as exc:
        report.problems.append(Problem("checkpoint", str(log.checkpoint_path), exc.message))
        return report, None
    report.size = cp.size
    if cp.size == 0:
        if cp.root != M.EMPTY_ROOT:
            report.problems.append(
                Problem("checkpoint", str(log.checkpoint_path), "size 0 with a non-empty root")
            )
        return report, cp
    # top level down: each full tile's root must be the hash one level up; level 0 is checked
    # tile by tile against its entry bundle too, so memory stays at one level's hashes above 0
    expected: dict[int, bytes] = {}
    for level, full, width in reversed(list(widths(cp.size))):
        below: dict[int, bytes] = {}
        for idx in range(full + (1 if width else 0)):
            w = TILE_WIDTH if idx < full else width
            rel = tile_path(level, idx, w % TILE_WIDTH)
            try:
                data = read_tile(log.dir, level, idx, w)
            except VerificationError as exc:
                report.problems.append(Problem("tile", exc.where or rel, exc.message))
                continue
            full_and_known = w == TILE_WIDTH and idx in expected
            if full_and_known and M.root_of(_split(data)) != expected[idx]:
                if level == 0 and _bundle_fits(log, idx, expected[idx], report):
                    report.problems.append(
                        Problem(
                            "tile",
                            str(log.dir / rel),
                            f"replaced: its hashes match neither the tile above nor its entry "
                            f"bundle (leaves {idx * TILE_WIDTH:,} to {idx * TILE_WIDTH + 255:,}; "
                            "the records were checked against the bundle)",
                        )
                    )
                    continue
                report.problems.append(
                    Problem("tile", str(log.dir / rel), "its hashes do not match the tile above")
                )
                if level == 0:
                    report.bad_tiles[idx] = None
            if level:
                for j in range(w):
                    below[idx * TILE_WIDTH + j] = data[j * HS : (j + 1) * HS]
            else:
                _check_bundle(log, idx, w, data, report)
        expected = below
    try:
        reader = TileReader(log.dir, cp.size)  # fresh reads: no cache may hide an edited tile
        root = reader.range_hash(0, cp.size)
    except VerificationError:
        root = None  # a bad tile, already reported
    if root is not None and root != cp.root:
        report.problems.append(
            Problem(
                "checkpoint",
                str(log.checkpoint_path),
                "the tiles' root is not the checkpoint's root",
            )
        )
    report.leaves = cp.size
    check_history(log, cp, verifier or log.verifier, report)
    return report, cp


def check_history(log: Log, cp: Checkpoint, key: Verifier, report: Report) -> None:
    """The log must extend the last checkpoint its key signed (``keys/ledger.state``) and the
    latest witnessed checkpoint that can be found; ``report.against`` says which one was used.

    This is what catches a log rebuilt under the same key, or a checkpoint put back.
    """
    from jejak.ledger.state import load_state, opened, state_path, witnessed_checkpoints

    where = str(state_path(log.home))
    try:
        state = load_state(log.home)
        signed = opened(state.signed, key, log.origin, where)
        current = log.checkpoint_path.read_text(encoding="utf-8")
    except JejakError as exc:
        report.problems.append(Problem("history", where, exc.message))
        return
    reader = TileReader(log.dir, cp.size)
    if signed is not None:
        why = _extends(reader, cp, signed)
        if why is not None and not _grew_past(log, cp, signed):
            report.problems.append(
                Problem(
                    "rollback" if signed.size > cp.size else "fork",
                    str(log.checkpoint_path),
                    f"the log {why} of the checkpoint its key last signed ({where})",
                )
            )
    found = witnessed_checkpoints(log.home, key, log.origin, current)
    if not found:
        report.against = (
            "no witnessed checkpoint found; checked against the last checkpoint the key signed"
            if signed is not None
            else "no witnessed checkpoint found, and no record of what the key signed"
        )
        return
    best = max(found, key=lambda w: w.checkpoint.size)
    report.against = "checked against " + best.describe()
    for w in sorted(found, key=lambda w: -w.checkpoint.size):
        why = _extends(reader, cp, w.checkpoint)
        if why is not None and not _grew_past(log, cp, w.checkpoint):
            report.problems.append(
                Problem(
                    "rollback" if w.checkpoint.size > cp.size else "fork",
                    str(log.checkpoint_path),
                    f"the log {why} of {w.describe()}",
                )
            )
            return


def _grew_past(log: Log, cp: Checkpoint, newer: Checkpoint) -> bool:
    """Whether the log was appended to while it was being verified: ``newer`` (signed or
    cosigned after ``cp`` was read) is larger than ``cp``, and the checkpoint now on disk
    extends both. That is an append racing the verification, not a rollback."""
    if newer.size <= cp.size:
        return False
    try:
        now = log.checkpoint()
        reader = TileReader(log.dir, now.size)
    except JejakError:
        return False
    if now.size < newer.size:
        return False
    return _extends(reader, now, cp) is None and _extends(reader, now, newer) is None


def _extends(reader: TileReader, cp: Checkpoint, old: Checkpoint) -> str | None:
    from jejak.ledger.state import extends

    try:
        return extends(reader, cp, old)
    except VerificationError as exc:  # a damaged tile, already reported
        return f"cannot be checked against size {old.size:,} ({exc.message})"


def _missing_log(log: Log, key: Verifier, report: Report) -> None:
    """No checkpoint at all: a problem when the key signed, or witnesses cosigned, a tree."""
    from jejak.ledger.state import opened, state_path, witnessed_checkpoints

    try:
        signed = opened(load_state_note(log), key, log.origin, str(state_path(log.home)))
        found = witnessed_checkpoints(log.home, key, log.origin, None)
    except JejakError as exc:
        report.problems.append(Problem("history", str(state_path(log.home)), exc.message))
        return
    sizes = [c.size for c in [signed, *(w.checkpoint for w in found)] if c is not None]
    if sizes and max(sizes) > 0:
        report.problems.append(
            Problem(
                "rollback",
                str(log.checkpoint_path),
                f"missing, but the log's key signed size {max(sizes):,} before: the log was deleted",
            )
        )


def load_state_note(log: Log) -> str | None:
    from jejak.ledger.state import load_state

    return load_state(log.home).signed


def _split(data: bytes) -> list[bytes]:
    return [data[i : i + HS] for i in range(0, len(data), HS)]


def _bundle_fits(log: Log, idx: int, want: bytes, report: Report) -> bool:
    """Whether full bundle ``idx`` hashes to the tree's hash ``want`` (so only its tile is wrong);
    its leaf hashes are kept in ``report.bad_tiles`` for the store check."""
    try:
        entries = read_bundle(log.dir, idx, TILE_WIDTH)
    except VerificationError:
        return False
    hashed = b"".join([sha256(M.LEAF_PREFIX + e).digest() for e in entries])
    if M.root_of(_split(hashed)) != want:
        return False
    report.bad_tiles[idx] = hashed
    return True


def _check_bundle(log: Log, idx: int, width: int, tile: bytes, report: Report) -> None:
    rel = entries_path(idx, width % TILE_WIDTH)
    try:
        entries = read_bundle(log.dir, idx, width)
    except VerificationError as exc:
        report.problems.append(Problem("bundle", exc.where or rel, exc.message))
        return
    prefix = M.LEAF_PREFIX
    hashed = b"".join([sha256(prefix + e).digest() for e in entries])
    if hashed != tile:
        bad = next(
            j for j in range(width) if hashed[j * HS : (j + 1) * HS] != tile[j * HS : (j + 1) * HS]
        )
        report.problems.append(
            Problem(
                "bundle",
                str(log.dir / rel),
                "an entry does not hash to its leaf",
                leaf=idx * TILE_WIDTH + bad,
            )
        )


__all__ = ["Problem", "Report", "verify_log"]
