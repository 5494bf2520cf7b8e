"""``jejak auth ...``: API tokens with scopes, passwords and second factors for staff accounts
(the accounts themselves: ``jejak users``). Thin commands over :mod:`jejak.auth.service`."""

from __future__ import annotations

import getpass
import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from jejak.options import DEFAULT_HOME, Debug, HomeDir, commands, handles_errors

app = commands("API tokens with scopes, passwords and second factors of staff accounts.")
out = Console(soft_wrap=True, highlight=False)


def _db(home: Any) -> Any:
    from jejak.cases.db import Database

    return Database.open(home)


@app.command("token")
@handles_errors
def token(
    name: Annotated[
        str, typer.Argument(help="The account (a person, or a system such as billing).")
    ],
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope",
            help="What the token may do (repeat): cases:read, cases:write, can-bar, "
            "complaints:push, subscribers:read. Default: the role's scopes.",
        ),
    ] = None,
    home: HomeDir = DEFAULT_HOME,
    debug: Debug = False,
) -> None:
    """Issue an API token; the last line printed is the token, alone, shown this once."""
    from jejak.auth.service import issue_token

    token_id, clear = issue_token(_db(home), name, scope or [])
    out.print(f"token {token_id} for {name} ({', '.join(scope or []) or 'the role scopes'}):")
    typer.echo(clear)


@app.command("tokens")
@handles_errors
def tokens(
    name: Annotated[str | None, typer.Argument(help="Only this account's tokens.")] = None,
    home: HomeDir = DEFAULT_HOME,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
    debug: Debug = False,
) -> None:
    """Every API token (never the token itself): id, account, scopes, issued, revoked."""
    from jejak.auth.service import tokens as list_tokens

    rows = list_tokens(_db(home), name)
    if as_json:
        for t in rows:
            typer.echo(
                json.dumps(
                    {
                        "token_id": t.token_id,
                        "user": t.user,
                        "scopes": t.scopes,
                        "created_at": t.created_at.isoformat(),
                        "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
                    }
                )
            )
        return
    table = Table()
    for col in ("id", "account", "scopes", "issued", "revoked"):
        table.add_column(col)
    for t in rows:
        table.add_row(
            str(t.token_id),
            t.user,
            ", ".join(t.scopes) or "(role)",
            t.created_at.strftime("%Y-%m-%d %H:%M UTC"),
            t.revoked_at.strftime("%Y-%m-%d %H:%M UTC") if t.revoked_at else "",
        )
    out.print(table)


@app.command("revoke")
@handles_errors
def revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (jejak auth tokens).")],
    home: HomeDir = DEFAULT_HOME,
    debug: Debug = False,
) -> None:
    """Revoke an API token at once; it stays listed with the time it was revoked."""
    from jejak.auth.service import revoke_token

    info = revoke_token(_db(home), token_id)
    out.print(
        f"token {info.token_id} of {info.user} revoked at {info.revoked_at:%Y-%m-%d %H:%M UTC}"
    )


@app.command("password")
@handles_errors
def password(
    name: Annotated[str, typer.Argument(help="The account.")],
    home: HomeDir = DEFAULT_HOME,
    debug: Debug = False,
) -> None:
    """Set an account's password (asked twice, never echoed; stored as an argon2id hash)."""
    from jejak.auth.service import set_password
    from jejak.errors import UsageError

    first = getpass.getpass("new password: ")
    if getpass.getpass("again: ") != first:
        raise UsageError("password", "the two entries differ")
    set_password(_db(home), name, first)
    out.print(f"password of {name} set")


@app.command("totp")
@handles_errors
def totp(
    name: Annotated[str, typer.Argument(help="The account.")],
    home: HomeDir = DEFAULT_HOME,
    debug: Debug = False,
) -> None:
    """Give an account a new TOTP second factor; prints its otpauth:// URI once."""
    from jejak.auth.credentials import totp_uri
    from jejak.auth.service import enroll_totp

    secret = enroll_totp(_db(home), name)
    out.print(f"second factor of {name} replaced; add this to an authenticator app:")
    typer.echo(totp_uri(secret, name))
