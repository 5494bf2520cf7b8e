"""The auditor's view: checkpoints and cosignatures, the log's size over time, the last full
verification and its result (kept in ``<home>/ledger/verifications.jsonl``, appended)."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from jejak.cases.models import User
from jejak.ledger import Log
from jejak.web import render
from jejak.web.guard import staff

router = APIRouter(include_in_schema=False)
RUNS = "verifications.jsonl"


def _runs(home: Path) -> list[dict[str, Any]]:
    try:
        text = (home / "ledger" / RUNS).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [json.loads(x) for x in text.split("\n")[:-1] if x.strip()]


def _signatures(note: str) -> list[dict[str, str]]:
    out = []
    _, _, sigs = note.partition("\n\n")
    for line in sigs.splitlines():
        if line.startswith("— "):
            name, _, sig = line[2:].partition(" ")
            out.append({"name": name, "signature": sig})
    return out


@router.get("/audit")
@router.get("/audit.json")
def audit(request: Request, user: Annotated[User, Depends(staff("audit"))]) -> Response:
    home: Path = request.app.state.home
    log = Log(home)
    note = log.signed_checkpoint() if (home / "ledger" / "checkpoint").exists() else ""
    cp = log.checkpoint() if note else None
    sizes, total = [], 0
    for a in log.appends():
        total = a["first"] + a["count"]
        sizes.append({"at": a.get("at"), "size": total, "source": a.get("source") or "records"})
    runs = _runs(home)
    data = {
        "origin": cp.origin if cp else log.origin,
        "size": cp.size if cp else 0,
        "root": cp.root.hex() if cp else None,
        "checkpoint": note,
        "signatures": _signatures(note),
        "growth": sizes[-60:],
        "appends": len(sizes),
        "last_verification": runs[-1] if runs else None,
        "verifications": runs[-10:][::-1],
    }
    return render.respond(request, "audit.html", data)


@router.post("/audit/verify")
def verify(request: Request, user: Annotated[User, Depends(staff("verify"))]) -> Response:
    """Check every tile and entry against the signed checkpoint, and record the result."""
    from jejak.ledger.verify import verify_log

    home: Path = request.app.state.home
    t = time.perf_counter()
    report, _ = verify_log(Log(home))
    run = {
        "at": datetime.now(UTC).isoformat(),
        "by": user.name,
        "ok": report.ok,
        "size": report.size,
        "problems": [str(p) for p in report.problems][:50],
        "seconds": round(time.perf_counter() - t, 3),
    }
    path = home / "ledger" / RUNS
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (json.dumps(run, sort_keys=True) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    if render.wants_json(request):
        return render.to_json(run)
    return RedirectResponse("/audit", status_code=303)
