"""Passwords, second factors and tokens: what is stored cannot be turned back into a credential."""

from __future__ import annotations

import time

import pyotp
from argon2 import PasswordHasher

from jejak.auth import credentials as c


def test_password_hash_is_argon2id_and_verifies() -> None:
    stored = c.hash_password("kata-sandi rahasia")
    assert stored.startswith("$argon2id$")
    assert "kata-sandi" not in stored
    assert c.verify_password(stored, "kata-sandi rahasia") == (True, None)
    assert c.verify_password(stored, "kata-sandi salah") == (False, None)
    assert c.verify_password(None, "anything") == (False, None)
    assert c.verify_password("not a hash", "anything") == (False, None)


def test_a_weak_hash_is_replaced_on_sign_in() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("pw")
    ok, fresh = c.verify_password(weak, "pw")
    assert ok and fresh is not None and fresh != weak
    assert c.verify_password(fresh, "pw") == (True, None)


def test_totp_accepts_this_step_and_one_step_of_drift_only() -> None:
    secret = c.new_totp_secret()
    now = time.time()
    totp = pyotp.TOTP(secret)
    assert c.verify_totp(secret, totp.at(now), at=now)
    assert c.verify_totp(secret, totp.at(now - 30), at=now)
    assert not c.verify_totp(secret, totp.at(now - 120), at=now)
    assert not c.verify_totp(secret, "abcdef", at=now)
    assert not c.verify_totp(None, totp.at(now), at=now)
    assert c.totp_uri(secret, "siti").startswith("otpauth://totp/jejak:siti?secret=")


def test_tokens_are_random_and_stored_only_as_hashes() -> None:
    a, b = c.new_token(), c.new_token()
    assert a != b and a.startswith("jjk_") and len(a) > 40
    stored = c.hash_token(a)
    assert len(stored) == 64 and a not in stored
    assert c.token_matches(a, stored)
    assert not c.token_matches(b, stored)
