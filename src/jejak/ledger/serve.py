"""Two small HTTP servers (stdlib ``ThreadingHTTPServer``): a witness, and a log's tiles.

* :func:`witness_server` answers C2SP tlog-witness: ``POST <prefix>/add-checkpoint``
  (:meth:`jejak.ledger.witness.Witness.handle_add_checkpoint`: 200 with
  cosignature lines, 400, 403, 404, 409 with ``text/x.tlog.size``, 422) and
  ``GET <prefix>/<sha256(origin) hex>/checkpoint`` (the monitoring retrieval).
* :func:`tiles_server` serves ``<home>/ledger`` at C2SP tlog-tiles paths:
  ``/checkpoint``, ``/tile/<L>/<N>[.p/<W>]``, ``/tile/entries/<N>[.p/<W>]``, and
  nothing else (no ``appends.jsonl``, no listing).

Both run until stopped; HTTP/1.1 keep-alive as tlog-witness recommends.

Example::

    >>> srv = witness_server(open_witness(Path("/srv/w1")), "127.0.0.1", 0)  # doctest: +SKIP
    >>> srv.serve_forever()                                                   # doctest: +SKIP
"""

from __future__ import annotations

import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from jejak.ledger.witness import Response, Witness

MAX_BODY = 1 << 16
_TILE = re.compile(
    r"/(checkpoint|tile/(entries|[0-9]{1,2})/(x[0-9]{3}/)*[0-9]{3}(\.p/[0-9]{1,3})?)"
)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "jejak"

    def _send(self, r: Response) -> None:
        self.send_response(r.status)
        self.send_header("Content-Type", r.content_type)
        self.send_header("Content-Length", str(len(r.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(r.body)

    def _text(self, status: int, message: str) -> None:
        self._send(Response(status, "text/plain; charset=utf-8", (message + "\n").encode()))

    def log_message(self, format: str, *args: object) -> None:
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)


class _WitnessHandler(_Handler):
    server: _WitnessServer

    def do_POST(self) -> None:
        prefix = self.server.prefix
        if self.path != prefix + "/add-checkpoint":
            self._text(404, "no such endpoint")
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._text(411, "needs a Content-Length")
            return
        if not 0 <= length <= MAX_BODY:
            self._text(413, "request body too large")
            return
        self._send(self.server.witness.handle_add_checkpoint(self.rfile.read(length)))

    def do_GET(self) -> None:
        prefix = self.server.prefix
        m = re.fullmatch(re.escape(prefix) + r"/([0-9a-f]{64})/checkpoint", self.path)
        if m is None:
            self._text(404, "no such endpoint")
            return
        self._send(self.server.witness.handle_checkpoint(m.group(1)))


class _WitnessServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, witness: Witness, address: tuple[str, int], prefix: str) -> None:
        self.witness = witness
        self.prefix = prefix.rstrip("/")
        self.verbose = False
        super().__init__(address, _WitnessHandler)


def witness_server(
    witness: Witness, host: str = "127.0.0.1", port: int = 0, prefix: str = ""
) -> ThreadingHTTPServer:
    """A tlog-witness HTTP server (not started: call ``serve_forever``); port 0 picks a free one."""
    return _WitnessServer(witness, (host, port), prefix)


class _TilesHandler(_Handler):
    server: _TilesServer

    def do_GET(self) -> None:
        if _TILE.fullmatch(self.path) is None:
            self._text(404, "not a tlog-tiles path")
            return
        path = self.server.root / self.path[1:]
        try:
            data = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            self._text(404, "not found")
            return
        kind = (
            "text/plain; charset=utf-8"
            if self.path == "/checkpoint"
            else "application/octet-stream"
        )
        self._send(Response(200, kind, data))

    do_HEAD = do_GET


class _TilesServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, address: tuple[str, int]) -> None:
        self.root = Path(root)
        self.verbose = False
        super().__init__(address, _TilesHandler)


def tiles_server(ledger_dir: Path, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Serve a log folder at tlog-tiles paths (read-only; not started)."""
    return _TilesServer(Path(ledger_dir), (host, port))


def url_of(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}"
