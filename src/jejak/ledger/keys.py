"""The log's signing key and its verifier key, under ``<home>/keys/``.

``keys/ledger.key`` holds the Ed25519 private key in Go's note format (mode
0600, made on first use); ``keys/ledger.vkey`` the verifier key that anyone
checking the log needs (``name+keyid+base64(0x01||public key)``). The key name
is the log's origin line (``JEJAK_LEDGER_ORIGIN``).

Example::

    >>> signer = log_signer(Path("/tmp/jejak-doc"), "example.com/log")  # doctest: +SKIP
    >>> log_verifier(Path("/tmp/jejak-doc"))                            # doctest: +SKIP
    Verifier(name='example.com/log', ...)
"""

from __future__ import annotations

from pathlib import Path

from jejak.errors import LedgerError
from jejak.fsio import write_atomic
from jejak.ledger.note import COSIGNATURE_V1, ED25519, Signer, Verifier

KEY_FILE = "ledger.key"
VKEY_FILE = "ledger.vkey"


def _write_private(path: Path, text: str) -> None:
    write_atomic(path, text.encode(), mode=0o600, mkdir=True)


def load_signer(path: Path, name: str | None = None, *, vkey_alg: int = ED25519) -> Signer:
    """The private key in ``path``; when missing and ``name`` is given, a new one (mode 0600).

    The verifier key beside it (``.vkey``) is written for the signature type the
    key makes: ``vkey_alg`` COSIGNATURE_V1 (0x04) for a witness, whose signatures
    are cosignatures (C2SP tlog-cosignature), so that its own key file checks them.
    """
    vpath = path.with_suffix(".vkey")
    if path.exists():
        signer = Signer.parse(path.read_text())
    elif name is None:
        raise LedgerError(str(path), "no such private key")
    else:
        signer = Signer.generate(name)
        _write_private(path, str(signer) + "\n")
    want = signer.as_cosigner().verifier() if vkey_alg == COSIGNATURE_V1 else signer.verifier()
    try:
        wrong = vpath.read_text().strip() != str(want)
    except FileNotFoundError:
        wrong = True
    if wrong:
        vpath.write_text(str(want) + "\n")
    return signer


def log_signer(home: Path, origin: str) -> Signer:
    """The log's signer, made on first use; LedgerError when it was made for another origin."""
    signer = load_signer(Path(home) / "keys" / KEY_FILE, origin)
    if signer.name != origin:
        raise LedgerError(
            str(Path(home) / "keys" / KEY_FILE),
            f"the key is for origin {signer.name!r}, not {origin!r}",
        )
    vpath = Path(home) / "keys" / VKEY_FILE
    if not vpath.exists():
        vpath.write_text(str(signer.verifier()) + "\n")
    return signer


def log_verifier(home: Path) -> Verifier:
    """The log's verifier key from ``keys/ledger.vkey``."""
    path = Path(home) / "keys" / VKEY_FILE
    try:
        return Verifier.parse(path.read_text())
    except FileNotFoundError:
        raise LedgerError(str(path), "no verifier key: the ledger has never been written") from None
