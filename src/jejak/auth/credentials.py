"""Staff credentials: argon2id password hashes, TOTP second factors and API tokens.

- Passwords are hashed with argon2id (RFC 9106) through ``argon2-cffi``'s ``PasswordHasher``
  with its defaults (RFC 9106's second recommended option); a hash made with weaker parameters
  is replaced on the next successful sign-in (:func:`verify_password` returns the new hash).
- The second factor is TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps) with ``pyotp``;
  one step of clock drift either way is accepted.
- An API token is 32 random bytes (``secrets.token_urlsafe``) behind the prefix ``jjk_``. Only
  its SHA-256 is stored: a token has 256 bits of entropy, so a fast hash is enough (no
  dictionary to guess from), and the stored hash reveals nothing usable. Comparison is
  constant-time (``hmac.compare_digest``).

Example::

    >>> h = hash_password("correct horse battery staple")
    >>> verify_password(h, "correct horse battery staple")
    (True, None)
    >>> verify_password(h, "wrong")[0]
    False
    >>> token = new_token()
    >>> token.startswith(TOKEN_PREFIX) and token_matches(token, hash_token(token))
    True
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

TOKEN_PREFIX = "jjk_"
#: random bytes in a token (256 bits)
TOKEN_BYTES = 32
#: TOTP steps of drift accepted either way (RFC 6238 §5.2)
TOTP_WINDOW = 1
#: what an API token may be granted; a person's role further limits what a case action may do
SCOPES = ("cases:read", "cases:write", "can-bar", "complaints:push", "subscribers:read")

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash (PHC string) of ``password``."""
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> tuple[bool, str | None]:
    """Whether ``password`` matches ``stored``; when it does and the hash's parameters are out of
    date, the second value is a fresh hash to store instead."""
    if not stored:
        return False, None
    try:
        _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    return True, (_hasher.hash(password) if _hasher.check_needs_rehash(stored) else None)


def new_totp_secret() -> str:
    """A fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def totp_uri(secret: str, name: str, issuer: str = "jejak") -> str:
    """The ``otpauth://`` URI an authenticator app reads (as a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=issuer)


def verify_totp(secret: str | None, code: str, at: float | None = None) -> bool:
    """Whether ``code`` is the TOTP of ``secret`` now (or at ``at``), give or take one step."""
    if not secret or not code.strip().isdigit():
        return False
    return bool(pyotp.TOTP(secret).verify(code.strip(), for_time=at, valid_window=TOTP_WINDOW))


def new_token() -> str:
    """A fresh API token, shown once to its holder and never stored."""
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    """Constant-time check of a presented token against a stored hash."""
    return hmac.compare_digest(hash_token(token), stored_hash)
