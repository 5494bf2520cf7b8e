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

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


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
        if log.dir.exists() and any((log.dir / "tile").glob("*")):
            report.problems.append(Problem("checkpoint", str(log.checkpoint_path), "missing"))
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
                report.problems.append(
                    Problem("tile", str(log.dir / rel), "its hashes do not match the tile above")
                )
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
    return report, cp


def _split(data: bytes) -> list[bytes]:
    return [data[i : i + HS] for i in range(0, len(data), HS)]


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
