"""``jejak ledger ...``: thin commands over :mod:`jejak.ledger`.

Mounted on ``jejak`` by :mod:`jejak.cli`. Each command opens the home
(:class:`jejak.Home`), calls one library function and prints. Exit status 1 when something does not verify.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from jejak.errors import NotFoundError, UsageError, VerificationError
from jejak.home import Home
from jejak.options import (
    DEFAULT_HOME,
    Debug,
    HomeDir,
    OutFile,
    commands,
    format_choices,
    format_option,
    handles_errors,
    output_format,
    write_text,
)
from jejak.terminal import safe

app = commands("Prove: the tamper-evident transparency log of every ingested record.")
out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)

#: ``status``, ``prove`` and ``verify`` print their answer as text (``table``) or JSON, the
#: output convention of every command (:mod:`jejak.options`)
FORMATS = format_choices("table", "json")
Format = format_option(FORMATS)
#: ``--json``: the earlier spelling of ``--format json``, kept working but hidden
AsJson = Annotated[bool, typer.Option("--json", hidden=True)]


def _chosen(fmt: Any, out_file: Path | None, as_json: bool) -> str:
    return "json" if as_json else output_format(fmt, out_file, FORMATS)


def _say(lines: list[str], fmt: str, info: dict[str, Any], out_file: Path | None) -> None:
    """``info`` as JSON, or ``lines`` as text: on standard output, or written to ``out_file``."""
    if fmt == "json":
        write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n", out_file)
    elif out_file is not None:
        write_text("".join(line + "\n" for line in lines), out_file)
    else:
        for line in lines:
            out.print(safe(line))


def _b64(h: bytes) -> str:
    return base64.b64encode(h).decode()


@app.command()
@handles_errors
def status(
    home: HomeDir = DEFAULT_HOME,
    fmt: Format = None,  # type: ignore[valid-type]
    out_file: OutFile = None,
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """The log's origin, size, root hash and verifier key."""
    from jejak.audit.erasure import erased_leaves
    from jejak.ledger.checkpoint import Checkpoint
    from jejak.ledger.note import parse
    from jejak.ledger.state import load_state

    chosen = _chosen(fmt, out_file, as_json)
    log = Home(home).log
    cp = log.checkpoint()
    witnessed = load_state(log.home).witnessed
    info = {
        "origin": log.origin,
        "size": cp.size,
        "root": _b64(cp.root),
        "verifier_key": str(log.verifier),
        "appends": len(log.appends()),
        "erased_leaves": len(erased_leaves(log)),
        # the latest checkpoint witnesses cosigned to the policy's quorum (keys/ledger.state)
        "witnessed_size": Checkpoint.parse(parse(witnessed)[0]).size if witnessed else None,
        "path": str(log.dir),
    }
    _say([f"{k.replace('_', ' ')}: {v}" for k, v in info.items()], chosen, info, out_file)


@app.command()
@handles_errors
def checkpoint(home: HomeDir = DEFAULT_HOME, debug: Debug = False) -> None:
    """Print the signed checkpoint (C2SP tlog-checkpoint, signed note)."""
    typer.echo(Home(home).log.signed_checkpoint(), nl=False)


@app.command()
@handles_errors
def prove(
    index: Annotated[int | None, typer.Argument(help="Leaf index to prove.")] = None,
    record: Annotated[
        str | None,
        typer.Option("--record", help="KIND:KEY of a stored record, instead of an index."),
    ] = None,
    old: Annotated[
        int | None,
        typer.Option("--old", help="Prove consistency from this older tree size instead."),
    ] = None,
    size: Annotated[
        int | None, typer.Option("--size", help="Tree size (default: the checkpoint's).")
    ] = None,
    receipt: Annotated[
        bool, typer.Option("--receipt", help="Print a C2SP tlog-proof receipt for the leaf.")
    ] = False,
    home: HomeDir = DEFAULT_HOME,
    fmt: Format = None,  # type: ignore[valid-type]
    out_file: OutFile = None,
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """An inclusion proof for a leaf (or record), or a consistency proof between two sizes."""
    from jejak.ledger.receipt import make_receipt

    where = Home(home)
    log = where.log
    if old is not None:
        if index is not None or record:
            raise UsageError("prove", "give a leaf or --old, not both")
        proof = log.consistency_proof(old, size)
        new = size if size is not None else log.size
        info: dict[str, Any] = {"old": old, "size": new, "proof": [_b64(h) for h in proof]}
    else:
        if record:
            kind, sep, key = record.partition(":")
            if not sep:
                raise UsageError("--record", "expected KIND:KEY")
            index = where.leaf_of(kind, key)
        if index is None:
            raise UsageError("prove", "give a leaf index, --record KIND:KEY or --old SIZE")
        if receipt:
            if fmt is not None or as_json:
                raise UsageError(
                    "--receipt", "a receipt is a C2SP tlog-proof text: leave out --format"
                )
            write_text(make_receipt(log, index, size).format(), out_file)
            return
        proof = log.inclusion_proof(index, size)
        info = {
            "index": index,
            "size": size if size is not None else log.size,
            "leaf_hash": _b64(log.leaf_hash(index, size)),
            "proof": [_b64(h) for h in proof],
        }
    chosen = _chosen(fmt, out_file, as_json)
    lines = []
    for k, v in info.items():
        if k == "proof":
            lines += ["proof:", *(f"  {h}" for h in v)]
        else:
            lines.append(f"{k.replace('_', ' ')}: {v}")
    _say(lines, chosen, info, out_file)


@app.command()
@handles_errors
def verify(
    home: HomeDir = DEFAULT_HOME,
    vkey: Annotated[
        Path | None,
        typer.Option("--vkey", help="Verifier key file (default: <home>/keys/ledger.vkey)."),
    ] = None,
    against: Annotated[
        Path | None,
        typer.Option(
            "--against", help="An older signed checkpoint the log must be consistent with."
        ),
    ] = None,
    log_only: Annotated[
        bool,
        typer.Option("--log-only", help="Check the tiles against the checkpoint, not the store."),
    ] = False,
    fmt: Format = None,  # type: ignore[valid-type]
    out_file: OutFile = None,
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """Check the tiles against the signed checkpoint and re-hash every stored record; exit 1 on any failure."""
    from jejak.ledger.note import Verifier
    from jejak.ledger.verify import Problem, verify_log

    chosen = _chosen(fmt, out_file, as_json)
    where = Home(home)
    key = Verifier.parse(vkey.read_text()) if vkey else None
    if log_only:
        report, _ = verify_log(where.log, key)
    else:
        report = where.verify(key)
    if against is not None:
        try:
            check_against(where.log, against.read_text(), key)
        except VerificationError as exc:
            report.problems.append(Problem("consistency", str(against), exc.message))
    if chosen == "json":
        _say([], chosen, report.to_dict(), out_file)
    else:
        lines: list[str] = []
        for p in report.problems:
            err.print(
                safe(
                    f"FAIL {p}"
                    + (
                        f" (leaf {p.leaf})"
                        if p.leaf is not None and "leaf" not in p.message
                        else ""
                    )
                )
            )
        if report.pending:
            lines.append(
                f"append pending: batch(es) {', '.join(report.pending)} are committed in the store "
                "but not yet in the log (an ingest is in its ledger phase, or was stopped; the next "
                "write to this home appends them) — not checked yet, not tampering"
            )
        for n in report.named:
            what = (
                f"{n['case_id']} #{n['seq']} {n['action']}"
                if "seq" in n
                else f"access to {n.get('access')} by {n.get('user')}"
            )
            lines.append(f"leaf {n['leaf']}: {what}")
        if report.against:
            lines.append(f"history: {report.against}")
        lines.append(
            f"{'ok' if report.ok else 'FAILED'}: {report.size:,} leaves, {report.records:,} stored records "
            f"re-hashed, {report.erased:,} erased, {len(report.problems)} problem(s)"
        )
        _say(lines, chosen, {}, out_file)
    if not report.ok:
        raise typer.Exit(1)


def check_against(log: Any, old_note: str, key: Any = None) -> None:
    """The log's current checkpoint must extend ``old_note`` (RFC 9162 consistency proof)."""
    from jejak.ledger import merkle as M
    from jejak.ledger.checkpoint import open_checkpoint

    key = key or log.verifier
    old, _ = open_checkpoint(old_note, key, origin=log.origin, where="older checkpoint")
    new = log.checkpoint(key)
    if old.size > new.size:
        raise VerificationError(
            "older checkpoint", f"size {old.size} is beyond the log's {new.size}"
        )
    if old.size == 0:
        return
    try:
        proof = log.consistency_proof(old.size, new.size)
    except VerificationError as exc:
        raise VerificationError(
            "older checkpoint", f"no consistency proof from size {old.size}: {exc}"
        ) from None
    M.verify_consistency(old.size, new.size, proof, old.root, new.root)


witness_app = commands(
    "A C2SP tlog-witness: cosign a log's checkpoints, only ever consistent ones."
)
app.add_typer(witness_app, name="witness")


@witness_app.command("serve")
@handles_errors
def witness_serve(
    folder: Annotated[
        Path, typer.Option("--dir", help="The witness's own folder: key, trusted logs, state.")
    ],
    name: Annotated[
        str | None, typer.Option("--name", help="The witness's name, when making a new key.")
    ] = None,
    log_key: Annotated[
        list[Path] | None,
        typer.Option("--log", help="A log's verifier key file to trust (kept in <dir>/logs)."),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0: any free one).")] = 7380,
    prefix: Annotated[str, typer.Option("--prefix", help="URL path prefix.")] = "",
    debug: Debug = False,
) -> None:
    """Run a witness over HTTP: POST <prefix>/add-checkpoint, GET <prefix>/<origin hash>/checkpoint."""
    from jejak.ledger.note import Verifier
    from jejak.ledger.serve import url_of, witness_server
    from jejak.ledger.witness import open_witness, trust_log

    for f in log_key or []:
        trust_log(folder, Verifier.parse(f.read_text()))
    w = open_witness(folder, name)
    if not w.logs:
        raise UsageError(
            "--log", f"the witness trusts no log yet: give --log or fill {folder / 'logs'}"
        )
    srv = witness_server(w, host, port, prefix)
    out.print(f"witness {w.verifier()} listening on {url_of(srv)}{prefix}", soft_wrap=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


@witness_app.command("cosign")
@handles_errors
def witness_cosign(
    folder: Annotated[
        Path, typer.Option("--dir", help="The witness's own folder: key, trusted logs, state.")
    ],
    name: Annotated[
        str | None, typer.Option("--name", help="The witness's name, when making a new key.")
    ] = None,
    home: HomeDir = DEFAULT_HOME,
    debug: Debug = False,
) -> None:
    """Cosign this home's checkpoint directly (no HTTP), after checking it extends the last one."""
    from jejak.ledger.publish import cosign_log
    from jejak.ledger.witness import open_witness, trust_log

    log = Home(home).log
    trust_log(folder, log.verifier)
    w = open_witness(folder, name)
    typer.echo(cosign_log(log, w), nl=False)
    err.print(f"cosigned with {w.verifier()}")


@app.command()
@handles_errors
def publish(home: HomeDir = DEFAULT_HOME, debug: Debug = False) -> None:
    """Submit the checkpoint to the witnesses of keys/ledger.policy; exit 1 short of the quorum."""
    from jejak.ledger.publish import publish as publish_log

    result = publish_log(Home(home).log)
    (out if result.published else err).print(result.summary())
    if not result.published:
        raise typer.Exit(1)


@app.command("serve-tiles")
@handles_errors
def serve_tiles(
    home: HomeDir = DEFAULT_HOME,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0: any free one).")] = 7381,
    debug: Debug = False,
) -> None:
    """Serve the log read-only at C2SP tlog-tiles paths (checkpoint, tile/...), for monitors."""
    from jejak.ledger.serve import tiles_server, url_of

    srv = tiles_server(Path(home) / "ledger", host, port)
    out.print(f"log tiles of {home} served on {url_of(srv)}")
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


@app.command()
@handles_errors
def monitor(
    url: Annotated[str, typer.Argument(help="The log's tlog-tiles URL prefix.")],
    vkey: Annotated[Path, typer.Option("--vkey", help="The log's verifier key file.")],
    state: Annotated[
        Path, typer.Option("--state", help="Folder where the monitor keeps what it saw.")
    ] = Path("./jejak-monitor"),
    policy: Annotated[
        Path | None,
        typer.Option("--policy", help="A C2SP tlog-policy file: the cosignatures required."),
    ] = None,
    every: Annotated[
        float, typer.Option("--every", help="Check again every so many seconds (0: once).")
    ] = 0.0,
    debug: Debug = False,
) -> None:
    """Follow a log over HTTP: check each checkpoint's signatures and that it extends the last seen."""
    import time

    from jejak.ledger.monitor import check
    from jejak.ledger.note import Verifier
    from jejak.ledger.policy import Policy

    key = Verifier.parse(vkey.read_text())
    pol = Policy.parse(policy.read_text(), str(policy)) if policy else None
    while True:
        seen = check(url, key, state, policy=pol)
        (out if seen.ok else err).print(seen.line())
        if not seen.ok:
            raise typer.Exit(1)
        if every <= 0:
            return
        time.sleep(every)


@app.command()
@handles_errors
def erase(
    by: Annotated[str, typer.Option("--by", help="Who erases (named in the signed log entry).")],
    basis: Annotated[
        str, typer.Option("--basis", help="The legal basis (named in the signed log entry).")
    ],
    msisdn: Annotated[str | None, typer.Option("--msisdn", help="The subscriber to erase.")] = None,
    migrate: Annotated[
        bool,
        typer.Option(
            "--migrate",
            help="Turn the unsigned ledger/erasures.json of earlier versions into a signed entry.",
        ),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: the records are deleted for good.")
    ] = False,
    home: HomeDir = DEFAULT_HOME,
    debug: Debug = False,
) -> None:
    """Erase a subscriber (a legal duty): a signed log entry first, then the records and secret."""
    if (msisdn is None) == (not migrate):
        raise UsageError("erase", "give --msisdn N, or --migrate")
    if not yes:
        raise UsageError("--yes", "erasing is for good and signed in the log: add --yes")
    if migrate:
        leaves = Home(home).migrate_erasures(by=by, basis=basis)
        out.print(f"{len(leaves)} leaf(s) of ledger/erasures.json are now a signed erasure entry")
        return
    assert msisdn is not None
    done = Home(home).erase(msisdn, by=by, basis=basis)
    out.print(
        f"erased {done.records} record(s) of the subscriber and their secret, "
        f"{done.lines} line(s) rewritten without the number; the erasure is leaf "
        f"{done.entries[0] if done.entries else '-'} of the log, and {len(done.leaves)} leaf(s) "
        "now commit to nothing anyone can link to them"
    )


@app.command("check-receipt")
@handles_errors
def check_receipt(
    receipt: Annotated[Path, typer.Argument(help="A C2SP tlog-proof file.")],
    vkey: Annotated[Path, typer.Option("--vkey", help="The log's verifier key file.")],
    home: Annotated[
        Path | None,
        typer.Option(
            "--home", help="The operator's home, to name the record by its id and time too."
        ),
    ] = None,
    debug: Debug = False,
) -> None:
    """Check a customer's receipt with nothing but the log's verifier key; say what it proves."""
    from jejak.ledger.note import Verifier
    from jejak.ledger.receipt import verify_receipt

    r, cp = verify_receipt(receipt.read_text(), Verifier.parse(vkey.read_text()))
    what = "an entry"
    if r.extra is not None and b" " in r.extra:
        kind = r.extra.split(b" ", 1)[0].decode("ascii", "replace")
        what = f"a {kind} record" if kind != "store" else "an entry"
    if home is not None:
        from jejak.audit.records import record_of_leaf

        found = record_of_leaf(Home(home).store, Home(home).log, r.index)
        if found is not None:
            what = f"{found['kind']} record {found['key']}" + (
                f" of {found['at']}" if found["at"] else ""
            )
    out.print(
        f"ok: the receipt proves {safe(what)}: leaf {r.index} of {safe(cp.origin)}, "
        f"in the signed checkpoint of size {cp.size} (root {base64.b64encode(cp.root).decode()})",
        highlight=False,
        soft_wrap=True,
    )


__all__ = ["NotFoundError", "app"]
