"""``jejak case ...``, ``jejak can-bar`` and ``jejak users ...``: thin commands over
:mod:`jejak.cases`. Each opens the case database of ``--home``, calls one method and prints.

Exit status: 0 done; 1 not found; 2 usage or a refused action (one line on standard error);
``can-bar`` exits 3 when the bar is refused.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from jejak.errors import UsageError
from jejak.options import DEFAULT_HOME, Debug, HomeDir, commands, handles_errors

#: ``jejak can-bar`` (mounted at the top)
app = commands()
#: ``jejak case ...``
case_app = commands("Resolve: the cases of disputed charges, from complaint to end.")
#: ``jejak users ...``
users_app = commands("Staff accounts: names, roles and API tokens.")
out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)

Format = Annotated[str, typer.Option("--format", help="text or json.")]
At = Annotated[
    str | None,
    typer.Option("--at", help="The moment (ISO 8601 with offset); default now. For replays."),
]


def _cases(home: Path) -> Any:
    from jejak.home import Home

    return Home(home).cases


def _deliver(cases: Any) -> None:
    """Deliver the customer messages and billing rows the command queued, as the web server does
    after each request; what cannot go now stays queued (``jejak notify drain`` retries)."""
    from jejak.errors import JejakError
    from jejak.notify import service as notify

    try:
        done = notify.drain(cases.db, cases.home)
    except JejakError as exc:  # a delivery setting is wrong: the rows stay queued
        err.print(f"warning: messages stay queued: {exc}")
        return
    for reason in done.reasons:
        err.print(f"warning: {reason}")


def _json(doc: Any) -> None:
    typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))


def _fmt(fmt: str) -> str:
    if fmt not in ("text", "json"):
        raise UsageError("--format", f"{fmt!r}: text or json")
    return fmt


def _print_case(case: dict[str, Any]) -> None:
    out.print(f"{case['case_id']}  {case['state']}  (version {case['version']})")
    out.print(
        f"complaint {case['complaint_id']}  msisdn {case['msisdn']}  opened {case['opened_at']}"
    )
    out.print(f"acknowledge by {case['ack_due']}  decide by {case['decision_due']}")
    inv = case["investigation"]
    out.print(
        f"disputed {case['disputed_amount']:,} IDR {case['disputed_charge_ids']}  hold active: "
        f"{case['hold']['active']}  evidence: {inv['hypothesis']} (operator liable: "
        f"{inv['operator_liable']}, report {inv['report_sha256']})"
    )
    for a in case["adjustments"]:
        out.print(
            f"  {a['adjustment_id']}: {a['kind']} {a['amount']:,} IDR {a['state']} "
            f"(proposed by {a['proposed_by']}, approved by {', '.join(a['approved_by']) or '-'})"
        )
    if case["decision"]:
        d = case["decision"]
        out.print(
            f"decision: {d['hypothesis']}, operator liable {d['operator_liable']}, "
            f"departs from evidence {d['departs_from_evidence']}: {d['reason']}"
        )
    for e in case["timeline"]:
        text = e["text"] if e["text"] is not None else "(internal note)"
        out.print(
            f"  #{e['seq']} {e['at']} {e['action']} by {e['actor']} ({e['actor_role']}): {text}  [leaf {e['ledger_index']}]"
        )


@case_app.command("open")
@handles_errors
def open_(
    complaint: Annotated[str, typer.Option("--complaint", help="The ingested complaint's id.")],
    home: HomeDir = DEFAULT_HOME,
    fmt: Format = "text",
    at: At = None,
    debug: Debug = False,
) -> None:
    """Open the case of an ingested complaint (the same complaint always gives the same case)."""
    fmt = _fmt(fmt)
    cases = _cases(home)
    case, created = cases.open_case(complaint, at=at)
    _deliver(cases)
    if fmt == "json":
        _json(case)
    else:
        out.print("opened" if created else "exists")
        _print_case(case)


@case_app.command("show")
@handles_errors
def show(
    case_id: Annotated[str, typer.Argument(help="The case id.")],
    home: HomeDir = DEFAULT_HOME,
    fmt: Format = "text",
    customer: Annotated[
        bool, typer.Option("--customer", help="Only the customer's view of the timeline.")
    ] = False,
    as_: Annotated[
        str | None, typer.Option("--as", help="Who is looking (recorded in the access log).")
    ] = None,
    debug: Debug = False,
) -> None:
    """The case object (``--customer``: the timeline as the customer sees it)."""
    fmt = _fmt(fmt)
    cases = _cases(home)
    doc: Any = cases.timeline(case_id) if customer else cases.get(case_id)
    msisdn = cases.get(case_id)["msisdn"]
    if as_:
        from jejak.cases.users import get_user

        user = get_user(cases.db, as_)
        cases.record_access(user.name, user.role, msisdn, "case", case_id=case_id, via="cli")
    else:
        try:
            login = getpass.getuser()
        except (KeyError, OSError):  # no login name in this environment
            login = "unknown"
        cases.record_access(f"shell:{login}", "shell", msisdn, "case", case_id=case_id, via="cli")
    if fmt == "json":
        _json(doc)
    elif customer:
        for e in doc:
            text = e["text"] if e["text"] is not None else "(internal note)"
            out.print(f"#{e['seq']} {e['at']} {e['action']} ({e['actor_role']}): {text}")
    else:
        _print_case(doc)


@case_app.command("list")
@handles_errors
def list_(
    home: HomeDir = DEFAULT_HOME,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only cases past a deadline.")] = False,
    state: Annotated[str | None, typer.Option("--state", help="Only cases in this state.")] = None,
    fmt: Format = "text",
    at: At = None,
    debug: Debug = False,
) -> None:
    """Cases, oldest first (``--overdue``: those past their acknowledge or decide deadline)."""
    fmt = _fmt(fmt)
    rows = _cases(home).list(overdue=overdue, state=state, at=at)
    if fmt == "json":
        _json(rows)
        return
    if not rows:
        out.print("no cases")
        return
    table = Table()
    for c in ("case_id", "state", "msisdn", "opened_at", "decision_due", "overdue"):
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(
            r["case_id"],
            r["state"],
            r["msisdn"],
            r["opened_at"],
            r["decision_due"],
            ", ".join(r["overdue"]) or "-",
        )
    out.print(table)


@case_app.command("sync")
@handles_errors
def sync(
    home: HomeDir = DEFAULT_HOME,
    fmt: Format = "text",
    at: At = None,
    include_closed: Annotated[
        bool,
        typer.Option(
            "--include-closed",
            help="Open cases for complaints the CRM closed too (to examine a disputed closure).",
        ),
    ] = False,
    debug: Debug = False,
) -> None:
    """Open a case for each ingested complaint without one (not those the CRM closed, unless
    --include-closed); ingested bars over open cases become findings; deadlines passed
    undecided credit the disputed amount."""
    fmt = _fmt(fmt)
    cases = _cases(home)
    result = cases.sync(at=at, include_closed=include_closed).to_dict()
    _deliver(cases)
    if fmt == "json":
        _json(result)
    else:
        for k, v in result.items():
            out.print(f"{k.replace('_', ' ')}: {len(v)}" + (f" ({', '.join(v)})" if v else ""))


@case_app.command("act")
@handles_errors
def act(
    case_id: Annotated[str, typer.Argument(help="The case id.")],
    action: Annotated[str, typer.Argument(help="The action (see docs/cases.md).")],
    as_: Annotated[str, typer.Option("--as", help="The person acting (a user name).")],
    field: Annotated[
        list[str] | None,
        typer.Option("--field", "-f", help="NAME=VALUE (VALUE read as JSON when it parses)."),
    ] = None,
    version: Annotated[
        int | None, typer.Option("--version", help="The case version you read (409 if changed).")
    ] = None,
    home: HomeDir = DEFAULT_HOME,
    fmt: Format = "text",
    at: At = None,
    debug: Debug = False,
) -> None:
    """One action on a case by one person."""
    fmt = _fmt(fmt)
    fields: dict[str, Any] = {}
    for item in field or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError("--field", f"{item!r}: write NAME=VALUE")
        try:
            fields[name] = json.loads(value)
        except ValueError:
            fields[name] = value
    cases = _cases(home)
    case = cases.act(case_id, as_, action, fields, version, at=at)
    _deliver(cases)
    if fmt == "json":
        _json(case)
    else:
        _print_case(case)


@app.command("can-bar")
@handles_errors
def can_bar(
    msisdn: Annotated[str, typer.Option("--msisdn", help="The line.")],
    amount: Annotated[int, typer.Option("--amount", help="The arrears to bar for, in IDR.")],
    home: HomeDir = DEFAULT_HOME,
    fmt: Format = "text",
    at: At = None,
    debug: Debug = False,
) -> None:
    """May billing bar this line for this amount now? Exit 0 when allowed, 3 when refused."""
    fmt = _fmt(fmt)
    answer = _cases(home).can_bar(msisdn, amount, at)
    if fmt == "json":
        _json(answer)
    else:
        out.print(("allowed: " if answer["allowed"] else "refused: ") + answer["reason"])
    if not answer["allowed"]:
        raise typer.Exit(3)


@users_app.command("add")
@handles_errors
def users_add(
    name: Annotated[str, typer.Argument(help="The person's name (unique).")],
    role: Annotated[
        str, typer.Option("--role", help="cs, investigator, supervisor, auditor or admin.")
    ],
    token: Annotated[
        bool,
        typer.Option("--token", help="Also make an API token, printed alone on the last line."),
    ] = False,
    home: HomeDir = DEFAULT_HOME,
    debug: Debug = False,
) -> None:
    """Add a staff account."""
    from jejak.cases.users import add_user

    user, clear = add_user(_cases(home).db, name, role, token=token)
    out.print(f"added {user.name} ({user.role})")
    if clear:
        typer.echo(clear)


@users_app.command("list")
@handles_errors
def users_list(home: HomeDir = DEFAULT_HOME, fmt: Format = "text", debug: Debug = False) -> None:
    """Every staff account."""
    from jejak.cases.users import list_users

    fmt = _fmt(fmt)
    rows = [
        {
            "name": u.name,
            "role": u.role,
            "disabled": u.disabled,
            "created_at": u.created_at.isoformat(),
        }
        for u in list_users(_cases(home).db)
    ]
    if fmt == "json":
        _json(rows)
        return
    for r in rows:
        out.print(f"{r['name']}\t{r['role']}" + ("\tdisabled" if r["disabled"] else ""))


@users_app.command("disable")
@handles_errors
def users_disable(
    name: Annotated[str, typer.Argument(help="The person's name.")],
    home: HomeDir = DEFAULT_HOME,
    debug: Debug = False,
) -> None:
    """Disable an account and revoke its tokens (nothing is deleted)."""
    from jejak.cases.users import disable_user

    user = disable_user(_cases(home).db, name)
    out.print(f"disabled {user.name}")
