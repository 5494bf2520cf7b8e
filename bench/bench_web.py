"""The workbench under load: concurrent staff sessions against a store of ≥ 1 M events.

Builds (once, under ``--work``) a store of ``--rows`` synthetic provisioning rows plus the seed
case (``bench_investigate.build``), opens the seed complaint's case, makes one account per session
(password + TOTP) and an API token, starts ``jejak``'s application as a separate uvicorn process on
loopback, signs every session in (not timed), and then, for ``--seconds``, has ``--sessions``
concurrent sessions each request one page or API call after another, pausing ``--think``
seconds on average between two (uniformly 0.5 to 1.5 times it). The default, 5 s, is a person
reading the page before the next click (docs/benchmarks.md says why); 0 is a closed loop with no
pause, which measures throughput rather than what a person waits. The sessions start spread
over the first pause, not all in the same instant:

- pages: the alert queue (filtered), the case list, the seed case's page (with its evidence
  charts), an outlet's roster, a user ID's page, the approvals queue;
- API: ``GET /api/v1/cases/{id}``, ``GET /api/v1/can-bar``.

Reports requests, errors, and p50/p95/p99 per kind; the issue asks zero errors, page p95 ≤ 200 ms
and API p95 ≤ 50 ms.

    python bench/bench_web.py                      # 1 M rows, 100 sessions, 60 s
    python bench/bench_web.py --quick              # 200 k rows, 20 sessions, 10 s
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyotp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_investigate  # noqa: E402
from bench_investigate import build, machine, percentile  # noqa: E402

if (
    not bench_investigate.SEED_DIR.exists()
):  # a worktree has no shared/ beside it: the packaged copy
    bench_investigate.SEED_DIR = HERE.parent / "src" / "jejak" / "simulate" / "seed_2016"

SEED_CASE = "CASE-TCK-2017-0206-0001"
PASSWORD = "bench-password-not-secret"
PAGES = [
    "/alerts?severity=critical",
    "/cases",
    f"/cases/{SEED_CASE}",
    "/entities/outlet/SRG",
    "/entities/user/16009051",
    "/approvals",
]
API = [f"/api/v1/cases/{SEED_CASE}", "/api/v1/can-bar?msisdn=6281100000001&amount=500000"]


def prepare(home: Path, sessions: int) -> tuple[dict[str, str], str]:
    """Accounts (name -> TOTP secret) and one API token, on the home's case database."""
    from jejak.auth.service import enroll_totp, issue_token, set_password
    from jejak.cases.service import Cases
    from jejak.cases.users import add_user
    from jejak.errors import UsageError

    cases = Cases.open(home)
    with contextlib.suppress(UsageError):
        cases.open_case("TCK-2017-0206-0001")
    totp = {}
    for i in range(sessions):
        name = f"bench{i:03d}"
        with contextlib.suppress(UsageError):
            add_user(cases.db, name, "supervisor")
        set_password(cases.db, name, PASSWORD)
        totp[name] = enroll_totp(cases.db, name)
    _, token = issue_token(cases.db, "bench000", ["cases:read", "can-bar"])
    cases.close()
    return totp, token


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(home: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "JEJAK_HOME": str(home)}
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "jejak.web.app:app_from_env",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, env=env)
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


async def sign_in(client: httpx.AsyncClient, name: str, secret: str) -> str:
    """The session cookie of ``name`` (sent by hand: the cookie is Secure, this is loopback http)."""
    r = await client.get("/signin")
    anon = r.cookies.get("__Host-jejak")
    csrf = r.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    r = await client.post(
        "/signin",
        data={"csrf": csrf, "name": name, "password": PASSWORD, "code": pyotp.TOTP(secret).now()},
        headers={"cookie": f"__Host-jejak={anon}"},
    )
    if r.status_code != 303:
        raise SystemExit(f"sign-in of {name} failed: {r.status_code} {r.text[:200]}")
    return str(r.cookies.get("__Host-jejak"))


async def session(
    client: httpx.AsyncClient,
    cookie: str,
    token: str,
    until: float,
    out: dict[str, list[float]],
    errors: list[str],
    seed: int,
    think: float = 0.0,
) -> None:
    rng = random.Random(seed)
    # people do not all click at the same instant: each session's first request comes at a
    # random moment of the first pause (a closed loop starts all at once)
    await asyncio.sleep(think * rng.uniform(0, 1))
    while time.perf_counter() < until:
        if rng.random() < 0.5:
            path, headers, kind = (
                rng.choice(PAGES),
                {"cookie": f"__Host-jejak={cookie}"},
                "page",
            )
        else:
            path, headers, kind = rng.choice(API), {"authorization": f"Bearer {token}"}, "api"
        t = time.perf_counter()
        try:
            r = await client.get(path, headers=headers)
            ok = r.status_code == 200
        except httpx.HTTPError as exc:
            ok, r = False, None
            errors.append(f"{path}: {exc}")
        dt = (time.perf_counter() - t) * 1000
        if not ok and r is not None:
            errors.append(f"{path}: {r.status_code}")
        out.setdefault(kind, []).append(dt)
        out.setdefault(path.split("?")[0], []).append(dt)
        if think:
            await asyncio.sleep(think * rng.uniform(0.5, 1.5))


async def run(
    base: str, accounts: dict[str, str], token: str, seconds: float, think: float
) -> tuple[dict[str, list[float]], list[str], float]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        cookies = [await sign_in(client, n, s) for n, s in accounts.items()]
    out: dict[str, list[float]] = {}
    errors: list[str] = []
    async with contextlib.AsyncExitStack() as stack:
        # each session's client (its own connection) is made before the clock starts: making
        # one costs the load generator tens of milliseconds (an SSL context), which would
        # otherwise stall the first requests of every other session
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(base_url=base, timeout=30))
            for _ in cookies
        ]
        t0 = time.perf_counter()
        until = t0 + seconds
        await asyncio.gather(
            *[
                session(client, c, token, until, out, errors, i, think)
                for i, (client, c) in enumerate(zip(clients, cookies, strict=True))
            ]
        )
        return out, errors, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=1_000_000, help="synthetic provisioning rows")
    ap.add_argument("--sessions", type=int, default=100, help="concurrent staff sessions")
    ap.add_argument("--seconds", type=float, default=60, help="how long the load runs")
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    ap.add_argument(
        "--think",
        type=float,
        default=5.0,
        help="mean seconds between two requests of a session (a person reading the page)",
    )
    ap.add_argument("--work", type=Path, default=HERE / "data")
    ap.add_argument("--quick", action="store_true", help="200 k rows, 20 sessions, 10 s")
    ap.add_argument("--out", type=Path, default=HERE / "out" / "web.json")
    a = ap.parse_args()
    if a.quick:
        a.rows, a.sessions, a.seconds = 200_000, 20, 10
    a.work.mkdir(parents=True, exist_ok=True)
    print(f"building a store of {a.rows:,} rows (once) ...", flush=True)
    home = build(a.work, a.rows)
    accounts, token = prepare(home, a.sessions)
    port = free_port()
    proc = serve(home, port, a.workers)
    try:
        out, errors, took = asyncio.run(
            run(f"http://127.0.0.1:{port}", accounts, token, a.seconds, a.think)
        )
    finally:
        proc.terminate()
        proc.wait(30)
    rows = []
    for kind, times in sorted(out.items(), key=lambda kv: (kv[0] not in ("page", "api"), kv[0])):
        rows.append(
            {
                "what": kind,
                "requests": len(times),
                "p50_ms": round(percentile(times, 0.50), 1),
                "p95_ms": round(percentile(times, 0.95), 1),
                "p99_ms": round(percentile(times, 0.99), 1),
            }
        )
    result = {
        "rows": a.rows,
        "sessions": a.sessions,
        "seconds": round(took, 1),
        "workers": a.workers,
        "think_s": a.think,
        "requests": sum(len(t) for k, t in out.items() if k in ("page", "api")),
        "errors": len(errors),
        "first_errors": errors[:5],
        "machine": machine(),
        "by_kind": rows,
    }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=1))
    print(
        f"\n{a.sessions} sessions, {took:.0f} s, {a.rows:,} rows, {a.workers} workers; "
        f"{result['requests']:,} requests, {len(errors)} errors ({machine()})\n"
    )
    print("| what | requests | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|---|")
    for r in rows:
        print(
            f"| `{r['what']}` | {r['requests']:,} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} |"
        )


if __name__ == "__main__":
    main()
