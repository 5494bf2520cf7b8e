"""Every `jejak ledger` command through the CLI runner, exit code asserted with the output shown."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from typer.testing import CliRunner

from jejak.cli import app
from jejak.ledger import merkle as M
from jejak.ledger.log import Log
from jejak.store import Store


def _run(runner: CliRunner, *args: str, code: int = 0) -> str:
    result = runner.invoke(app, ["ledger", *args])
    assert result.exit_code == code, result.output
    return result.output


def test_status_checkpoint_prove_and_verify(
    seed_store: Store, runner: CliRunner, tmp_path: Path
) -> None:
    home = str(seed_store.home)
    log = Log(seed_store.home)
    status = json.loads(_run(runner, "status", "--home", home, "--json"))
    assert status["size"] == log.size and status["verifier_key"] == str(log.verifier)
    assert _run(runner, "checkpoint", "--home", home) == log.signed_checkpoint()

    proof = json.loads(
        _run(runner, "prove", "--record", "provisioning:EV0000170", "--home", home, "--json")
    )
    M.verify_inclusion(
        base64.b64decode(proof["leaf_hash"]),
        proof["index"],
        proof["size"],
        [base64.b64decode(h) for h in proof["proof"]],
        log.checkpoint().root,
    )
    cons = json.loads(_run(runner, "prove", "--old", "100", "--home", home, "--json"))
    M.verify_consistency(
        100,
        log.size,
        [base64.b64decode(h) for h in cons["proof"]],
        log.root(100),
        log.checkpoint().root,
    )
    assert "ok:" in _run(runner, "verify", "--home", home)

    receipt = tmp_path / "receipt.txt"
    receipt.write_text(_run(runner, "prove", "5", "--receipt", "--home", home))
    vkey = seed_store.home / "keys" / "ledger.vkey"
    assert "leaf 5 of" in _run(runner, "check-receipt", str(receipt), "--vkey", str(vkey))
    receipt.write_text(receipt.read_text().replace("index 5", "index 6"))
    assert "error" in _run(runner, "check-receipt", str(receipt), "--vkey", str(vkey), code=1)

    _run(runner, "prove", "--record", "provisioning:NOPE", "--home", home, code=1)
    _run(runner, "prove", "--home", home, code=2)


def test_witness_cosigns_the_log(seed_store: Store, runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "witness"
    out = _run(
        runner,
        "witness",
        "cosign",
        "--dir",
        str(folder),
        "--name",
        "witness.example",
        "--home",
        str(seed_store.home),
    )
    assert out.count("\u2014 ") == 2 and "\u2014 witness.example " in out
    assert (folder / "witness.key").stat().st_mode & 0o777 == 0o600
    # the witness's own verifier key file is a cosignature (0x04) key and checks its cosignature
    from jejak.ledger.checkpoint import open_checkpoint
    from jejak.ledger.log import Log
    from jejak.ledger.note import COSIGNATURE_V1, Verifier

    wkey = Verifier.parse((folder / "witness.vkey").read_text())
    assert wkey.alg == COSIGNATURE_V1
    log = Log(seed_store.home)
    _, opened = open_checkpoint(log.signed_checkpoint(), log.verifier, witnesses=[wkey])
    assert [v for v, _, t in opened.verified if t > 0] == [wkey]
