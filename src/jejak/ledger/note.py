"""Signed notes and their Ed25519 keys: C2SP signed-note v1.0.0 and tlog-cosignature v1.

Specifications: https://c2sp.org/signed-note@v1.0.0,
https://c2sp.org/tlog-cosignature (signature type 0x04, ``cosignature/v1``).

A note is UTF-8 text ending in a newline, a blank line, then one or more
signature lines ``— <name> <base64(key ID || signature)>``. The key ID is the
first 4 bytes of SHA-256(name || 0x0A || type || public key).

* Type ``ED25519`` (0x01): Ed25519 over the note text.
* Type ``COSIGNATURE_V1`` (0x04): a witness cosignature; the signature bytes
  are key ID || 8-byte big-endian Unix time || Ed25519 signature over
  ``cosignature/v1\\ntime <T>\\n`` followed by the note text (a checkpoint).

Verifier keys are ``<name>+<hex key ID>+base64(type || public key)``; private
keys use Go's ``PRIVATE+KEY+<name>+<hex key ID>+base64(0x01 || seed)``.
Ed25519 verification is OpenSSL's (the ``cryptography`` package), which
accepts exactly the signatures Go's ``crypto/ed25519`` accepts (see the CCTV
edge-case vectors in the tests).

Example::

    >>> signer = Signer.generate("example.com/log")
    >>> text = sign("hello\\n", [signer])
    >>> open_note(text, [signer.verifier()]).text
    'hello\\n'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
import time
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from jejak.errors import LedgerError, VerificationError

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
SIG_PREFIX = "\u2014 "
MAX_SIGNATURES = 100
COSIGNATURE_HEADER = "cosignature/v1\ntime {t}\n"


def valid_name(name: str) -> bool:
    """A key name: non-empty, no ``+``, no whitespace (signed-note)."""
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def key_id(name: str, alg: int, public: bytes) -> bytes:
    """First 4 bytes of SHA-256(name || 0x0A || alg || public key)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public).digest()[:4]


def _b64decode(text: str, where: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise VerificationError(where, f"not base64: {exc}") from None


def ed25519_ok(public: bytes, signature: bytes, message: bytes) -> bool:
    """Ed25519 verification with Go's acceptance rule (OpenSSL's)."""
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class Verifier:
    """A public key that checks signature lines of one name and key ID."""

    name: str
    alg: int
    public: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.alg, self.public)

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        """Parse ``name+hexid+base64(alg||key)``; LedgerError when malformed or the ID does not match."""
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3 or not valid_name(parts[0]) or len(parts[1]) != 8:
            raise LedgerError("verifier key", f"{vkey!r} is not name+keyid+key")
        name, hexid, b64 = parts
        try:
            kid = bytes.fromhex(hexid)
        except ValueError:
            raise LedgerError("verifier key", f"{vkey!r} has a bad key ID") from None
        raw = _b64decode(b64, "verifier key")
        if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
            raise LedgerError("verifier key", f"{vkey!r} is no Ed25519 or cosignature/v1 key")
        v = cls(name, raw[0], raw[1:])
        if v.key_id != kid or hexid != hexid.lower():
            raise LedgerError("verifier key", f"{vkey!r}: the key ID does not match the key")
        return v

    def __str__(self) -> str:
        b64 = base64.b64encode(bytes([self.alg]) + self.public).decode()
        return f"{self.name}+{self.key_id.hex()}+{b64}"

    def as_cosigner(self) -> Verifier:
        """The same Ed25519 key as a cosignature/v1 (0x04) verifier."""
        return Verifier(self.name, COSIGNATURE_V1, self.public)

    def verify(self, text: str, sig: bytes) -> int | None:
        """True-ish when ``sig`` (without key ID) signs ``text``: the cosignature time, or 0 for 0x01."""
        if self.alg == ED25519:
            return 0 if len(sig) == 64 and ed25519_ok(self.public, sig, text.encode()) else None
        if len(sig) != 72:
            return None
        (t,) = struct.unpack(">Q", sig[:8])
        msg = COSIGNATURE_HEADER.format(t=t) + text
        return t if ed25519_ok(self.public, sig[8:], msg.encode()) else None


@dataclass(frozen=True)
class Signer:
    """An Ed25519 private key with its name; ``alg`` 0x04 makes it sign cosignatures."""

    name: str
    seed: bytes
    alg: int = ED25519

    @classmethod
    def generate(cls, name: str) -> Signer:
        if not valid_name(name):
            raise LedgerError(f"key name {name!r}", "must be non-empty with no '+' or spaces")
        return cls(name, os.urandom(32))

    @classmethod
    def parse(cls, skey: str) -> Signer:
        """Parse Go's ``PRIVATE+KEY+name+hexid+base64(0x01||seed)``."""
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or not valid_name(parts[2]):
            raise LedgerError("private key", "not PRIVATE+KEY+name+keyid+key")
        raw = _b64decode(parts[4], "private key")
        if len(raw) != 33 or raw[0] != ED25519:
            raise LedgerError("private key", "not an Ed25519 key")
        s = cls(parts[2], raw[1:])
        if s.verifier().key_id.hex() != parts[3]:
            raise LedgerError("private key", "the key ID does not match the key")
        return s

    def __str__(self) -> str:
        b64 = base64.b64encode(bytes([ED25519]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier().key_id.hex()}+{b64}"

    def __repr__(self) -> str:
        return f"Signer({self.name!r}, alg={self.alg})"

    @property
    def _key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    @property
    def public(self) -> bytes:
        return self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def verifier(self) -> Verifier:
        return Verifier(self.name, self.alg, self.public)

    def as_cosigner(self) -> Signer:
        return Signer(self.name, self.seed, COSIGNATURE_V1)

    def signature(self, text: str, timestamp: int | None = None) -> bytes:
        """The signature bytes (key ID first) for a note's text."""
        kid = key_id(self.name, self.alg, self.public)
        if self.alg == ED25519:
            return kid + self._key.sign(text.encode())
        t = int(time.time()) if timestamp is None else timestamp
        msg = COSIGNATURE_HEADER.format(t=t) + text
        return kid + struct.pack(">Q", t) + self._key.sign(msg.encode())


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    sig: bytes  # without the key ID

    def line(self) -> str:
        return f"{SIG_PREFIX}{self.name} {base64.b64encode(self.key_id + self.sig).decode()}\n"


@dataclass
class Note:
    """An opened note: its text, the signatures that verified, and those no verifier knew."""

    text: str
    verified: list[tuple[Verifier, Signature, int]] = field(default_factory=list)
    unverified: list[Signature] = field(default_factory=list)

    def signed_text(self) -> str:
        sigs = [s for _, s, _ in self.verified] + self.unverified
        return self.text + "\n" + "".join(s.line() for s in sigs)


def _check_text(text: str, where: str) -> None:
    if not text.endswith("\n"):
        raise VerificationError(where, "the note text must end with a newline")
    for c in text:
        if (ord(c) < 0x20 and c != "\n") or c == "\x7f":
            raise VerificationError(where, f"the note text holds control character {ord(c):#04x}")


def sign(text: str, signers: list[Signer], *, timestamp: int | None = None) -> str:
    """The signed note: ``text``, a blank line, one signature line per signer."""
    _check_text(text, "note")
    lines = []
    for s in signers:
        raw = s.signature(text, timestamp)
        lines.append(f"{SIG_PREFIX}{s.name} {base64.b64encode(raw).decode()}\n")
    return text + "\n" + "".join(lines)


def parse(note: str | bytes, where: str = "note") -> tuple[str, list[Signature]]:
    """Split a signed note into its text and signature lines (no verification)."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise VerificationError(where, "not UTF-8") from None
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise VerificationError(where, "no signature block")
    text, block = note[: split + 1], note[split + 2 :]
    _check_text(text, where)
    sigs = []
    for line in block.split("\n")[:-1]:
        if not line.startswith(SIG_PREFIX):
            raise VerificationError(where, f"malformed signature line {line[:40]!r}")
        name, sep, b64 = line[len(SIG_PREFIX) :].partition(" ")
        if not sep or not valid_name(name) or " " in b64:
            raise VerificationError(where, f"malformed signature line {line[:40]!r}")
        raw = _b64decode(b64, where)
        if len(raw) < 5:
            raise VerificationError(where, "a signature is too short")
        sigs.append(Signature(name, raw[:4], raw[4:]))
    if not sigs:
        raise VerificationError(where, "no signature lines")
    if len(sigs) > MAX_SIGNATURES:
        raise VerificationError(where, f"more than {MAX_SIGNATURES} signatures")
    return text, sigs


def open_note(note: str | bytes, verifiers: list[Verifier], where: str = "note") -> Note:
    """Parse and verify a signed note; VerificationError unless at least one known key signed it.

    A signature by a known key that does not verify rejects the whole note;
    signatures by unknown keys are kept as ``unverified``.
    """
    text, sigs = parse(note, where)
    out = Note(text)
    seen: set[tuple[str, bytes]] = set()
    for s in sigs:
        known = [v for v in verifiers if v.name == s.name and v.key_id == s.key_id]
        if not known:
            out.unverified.append(s)
            continue
        v = known[0]
        t = v.verify(text, s.sig)
        if t is None:
            raise VerificationError(where, f"invalid signature for key {v}")
        if (v.name, v.key_id) not in seen:
            seen.add((v.name, v.key_id))
            out.verified.append((v, s, t))
    if not out.verified:
        raise VerificationError(where, "no signature by a known key")
    return out


def add_signatures(note: str, signers: list[Signer], *, timestamp: int | None = None) -> str:
    """``note`` with more signature lines (a witness cosigning), text unchanged."""
    text, _ = parse(note)
    extra = sign(text, signers, timestamp=timestamp)[len(text) + 1 :]
    return note + extra
