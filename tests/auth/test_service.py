"""Tokens with scopes, revocation, passwords with a second factor, and the access record."""

from __future__ import annotations

import time
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select

from jejak.auth import service as auth
from jejak.cases.db import Database
from jejak.cases.models import ApiToken, LedgerOutbox
from jejak.cases.users import add_user, disable_user
from jejak.errors import AuthError, UsageError


@pytest.fixture
def staff_db(tmp_path: Path) -> Database:
    """A case database with a cs (Citra), a supervisor (Sari) and a billing system account."""
    db = Database.open(tmp_path, f"sqlite:///{tmp_path / 'cases.db'}")
    add_user(db, "citra", "cs")
    add_user(db, "sari", "supervisor")
    add_user(db, "billing", "auditor")
    return db


def test_a_scoped_token_authenticates_with_its_scopes_only(staff_db: Database) -> None:
    token_id, token = auth.issue_token(staff_db, "billing", ["can-bar"])
    who = auth.authenticate(staff_db, token)
    assert (who.name, who.role, who.scopes, who.token_id) == (
        "billing",
        "auditor",
        frozenset({"can-bar"}),
        token_id,
    )
    assert who.may("can-bar") and not who.may("cases:write")
    with staff_db.read() as s:
        stored = s.scalars(select(ApiToken.token_hash)).all()
    assert token not in " ".join(stored)


def test_a_token_without_scopes_has_its_roles_defaults(staff_db: Database) -> None:
    _, token = auth.issue_token(staff_db, "citra")
    assert auth.authenticate(staff_db, token).scopes == auth.ROLE_SCOPES["cs"]
    # and one made by `jejak users add --token` works the same way
    _, clear = add_user(staff_db, "dewi", "investigator", token=True)
    assert clear is not None
    assert auth.authenticate(staff_db, clear).role == "investigator"


@pytest.mark.parametrize("bad", ["", "jjk_not-a-token", "Bearer x"])
def test_unknown_tokens_are_refused(staff_db: Database, bad: str) -> None:
    with pytest.raises(AuthError):
        auth.authenticate(staff_db, bad)


def test_revoked_tokens_and_disabled_accounts_are_refused(staff_db: Database) -> None:
    tid, token = auth.issue_token(staff_db, "citra", ["cases:read"])
    _, other = auth.issue_token(staff_db, "sari", ["cases:read"])
    info = auth.revoke_token(staff_db, tid)
    assert info.revoked_at is not None and info.user == "citra"
    with pytest.raises(AuthError, match="revoked"):
        auth.authenticate(staff_db, token)
    disable_user(staff_db, "sari")
    with pytest.raises(AuthError):
        auth.authenticate(staff_db, other)
    listed = auth.tokens(staff_db)
    assert [(t.user, t.revoked_at is not None) for t in listed] == [("citra", True), ("sari", True)]


def test_unknown_scopes_are_a_usage_error(staff_db: Database) -> None:
    with pytest.raises(UsageError, match="cases:delete"):
        auth.issue_token(staff_db, "citra", ["cases:delete"])


def test_sign_in_needs_the_password_and_the_second_factor(staff_db: Database) -> None:
    auth.set_password(staff_db, "sari", "kata sandi yang panjang")
    assert auth.sign_in(staff_db, "sari", "kata sandi yang panjang", None).role == "supervisor"
    secret = auth.enroll_totp(staff_db, "sari")
    with pytest.raises(AuthError, match="second-factor"):
        auth.sign_in(staff_db, "sari", "kata sandi yang panjang", None)
    code = pyotp.TOTP(secret).at(time.time())
    assert auth.sign_in(staff_db, "sari", "kata sandi yang panjang", code).name == "sari"
    with pytest.raises(AuthError, match="wrong name or password"):
        auth.sign_in(staff_db, "sari", "salah", code)
    with pytest.raises(AuthError, match="wrong name or password"):
        auth.sign_in(staff_db, "nobody", "kata sandi yang panjang", code)
    with pytest.raises(UsageError):
        auth.set_password(staff_db, "sari", "pendek")


def test_every_access_is_recorded_with_its_reason_and_queued_for_the_log(
    staff_db: Database,
) -> None:
    who = auth.Principal("sari", "supervisor", frozenset({"cases:read"}))
    aid = auth.record_access(
        staff_db, who, "6281100000001", "complaint CP0001", what="case", via="api", case_id="C-1"
    )
    [row] = auth.accesses(staff_db, "6281100000001")
    assert (row.id, row.user_name, row.role, row.reason, row.via) == (
        aid,
        "sari",
        "supervisor",
        "complaint CP0001",
        "api",
    )
    with staff_db.read() as s:
        queued = s.execute(select(LedgerOutbox.source, LedgerOutbox.ref)).all()
    assert [tuple(q) for q in queued] == [("access2", aid)]  # the entry commits to the reason
    with pytest.raises(UsageError):
        auth.record_access(staff_db, who, "6281100000001", "  ", what="case", via="api")


def test_repeated_failures_lock_the_account_out_for_everyone(staff_db: Database) -> None:
    from datetime import UTC, datetime, timedelta

    auth.set_password(staff_db, "citra", "kata sandi yang panjang")
    t0 = datetime(2017, 2, 6, 9, 0, tzinfo=UTC)
    for i in range(auth.LOCKOUT_FAILURES):
        with pytest.raises(AuthError, match="wrong name or password"):
            auth.sign_in(staff_db, "citra", f"tebakan {i}", None, at=t0 + timedelta(seconds=i))
    # locked: even the right password is refused, by any process reading this database
    with pytest.raises(AuthError, match="locked until"):
        auth.sign_in(
            staff_db, "citra", "kata sandi yang panjang", None, at=t0 + timedelta(minutes=1)
        )
    # another account is not affected
    auth.set_password(staff_db, "sari", "kata sandi yang panjang")
    assert auth.sign_in(staff_db, "sari", "kata sandi yang panjang", None, at=t0).name == "sari"
    # once the window has passed since the last failure, the right password works again
    later = t0 + auth.LOCKOUT_WINDOW + timedelta(seconds=auth.LOCKOUT_FAILURES)
    assert auth.sign_in(staff_db, "citra", "kata sandi yang panjang", None, at=later).role == "cs"
