"""The transparency log served read-only at the C2SP tlog-tiles paths, under ``/log``.

Specification: https://c2sp.org/tlog-tiles@v1.0.0 ("HTTP interface"). Any tlog-tiles client
(``sumdb``-style verifiers, transparency-dev's ``client`` package, ``jejak ledger`` itself pointed
at a URL) reads and verifies the log from these paths; they need no account, as the log reveals
only commitments:

- ``GET /log/checkpoint`` — the signed checkpoint note, with its cosignatures (``text/plain``);
  not cached, as it changes with every append.
- ``GET /log/tile/<L>/<N>[.p/<W>]`` — a Merkle tile; ``GET /log/tile/entries/<N>[.p/<W>]`` — an
  entry bundle (``application/octet-stream``). A full tile never changes, so it is served
  ``immutable``; when a partial tile is asked for and only the full one is left (the log grew),
  the full tile is served, as the specification allows.

The paths are parsed by :func:`jejak.ledger.tiles.parse_tile_path` (three-digit groups, widths
1-255): nothing else of the home can be reached from here.

Example::

    >>> router.url_path_for("tlog_tile", path="0/000")
    '/log/tile/0/000'
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from jejak.errors import LedgerError, NotFoundError
from jejak.ledger.tiles import entries_path, parse_tile_path, tile_path

# the C2SP protocol, not part of the JSON API: kept out of the OpenAPI document
router = APIRouter(prefix="/log", include_in_schema=False)

IMMUTABLE = "public, max-age=31536000, immutable"


def ledger_dir(request: Request) -> Path:
    home: Path = request.app.state.home
    return home / "ledger"


@router.get("/checkpoint", response_class=PlainTextResponse, name="tlog_checkpoint")
def checkpoint(request: Request) -> Response:
    """The log's latest signed checkpoint (C2SP tlog-checkpoint), cosignatures included."""
    path = ledger_dir(request) / "checkpoint"
    try:
        body = path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(
            "/log/checkpoint", "the log is empty: nothing has been appended"
        ) from None
    return Response(
        body,
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"},
    )


@router.get("/tile/{path:path}", name="tlog_tile")
def tile(request: Request, path: str) -> Response:
    """A Merkle tile or an entry bundle (C2SP tlog-tiles)."""
    level, _, rest = path.partition("/")
    try:
        if level == "entries":
            _, index, width = parse_tile_path("0", rest)
            wanted, full = entries_path(index, width), entries_path(index)
        else:
            lv, index, width = parse_tile_path(level, rest)
            wanted, full = tile_path(lv, index, width), tile_path(lv, index)
    except LedgerError:
        raise NotFoundError("/log/tile/" + path[:80], "not a tlog-tiles path") from None
    root = ledger_dir(request)
    for rel in dict.fromkeys([wanted, full]):
        try:
            data = (root / rel).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            continue
        return Response(
            data,
            media_type="application/octet-stream",
            headers={
                "Cache-Control": IMMUTABLE if rel == full else "no-cache",
                "Access-Control-Allow-Origin": "*",
            },
        )
    raise NotFoundError("/log/" + wanted, "no such tile in this log")
