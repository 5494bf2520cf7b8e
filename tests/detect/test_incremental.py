"""Incremental detection stores exactly the alerts of a full run (issue 13).

The property: for a random operator whose records arrive in random batches (late records,
reference data after the activity that names it, anything), ingesting the batches one by one
and running ``detect(incremental=True)`` after each leaves the same stored alerts, field for
field, as one full run over everything. The operators are small and dense — a few outlets,
user IDs, terminals, numbers and packages over three days at quarter-hour steps — so that
windows meet at their edges and every rule has work.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from jejak import Home, cli
from jejak.detect import aggregates, detect, load_alerts, load_pack
from jejak.detect.incremental import load_baseline
from jejak.errors import UsageError
from jejak.schema import KINDS
from jejak.store import Store

BASE = datetime(2016, 7, 1, tzinfo=UTC)  # a Friday
STEPS = 3 * 96  # three days of quarter hours
OUTLETS = ("SRG", "SLO", "JKT")
AGENTS = ("1001", "1002", "1003", "1004", "1005")
DEVICES = ("PC-1", "PC-2", "PC-3")
IPS = ("10.0.1.5", "10.0.1.9", "10.0.2.7", "10.0.3.3", "203.0.113.9")
NUMBERS = ("6281100000001", "6281100000002", "6281100000003", "6281100000004")
PACKAGES = ("DATA12GB", "DATA3GB", "NELP50")
SESSIONS = tuple(f"SE{i}" for i in range(1, 9))
CONSENTS = tuple(f"CO{i}" for i in range(1, 11))
CHARGES = tuple(f"CH{i}" for i in range(1, 9))

#: how many random operators a run checks (more with JEJAK_PROPERTY_EXAMPLES)
EXAMPLES = int(os.environ.get("JEJAK_PROPERTY_EXAMPLES", "12"))


def maybe(strategy: st.SearchStrategy[Any], none: float = 0.1) -> st.SearchStrategy[Any]:
    """``strategy``, or an empty cell about ``none`` of the time."""
    if not none:
        return strategy
    return st.tuples(st.integers(0, 99), strategy).map(
        lambda t: None if t[0] < none * 100 else t[1]
    )


def instant(step: int) -> str:
    return (BASE + timedelta(minutes=15 * step)).isoformat()


#: moments the activity gathers around (so that windows meet), in quarter hours from BASE
ANCHORS = (4, 40, 100, 136, 196, 232)
times = st.one_of(
    st.builds(lambda a, d: max(0, min(STEPS, a + d)), st.sampled_from(ANCHORS), st.integers(-6, 6)),
    st.integers(0, STEPS),
)


def near(draw: st.DrawFn, step: int | None, lo: int, hi: int) -> int | None:
    """A time ``lo`` to ``hi`` quarter hours from ``step`` (None stays None)."""
    return None if step is None else max(0, min(STEPS, step + draw(st.integers(lo, hi))))


@st.composite
def operators(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    """A random small operator: every kind, with dangling references and empty cells; many
    records are drawn around the activations (their sessions, shifts, consents, charges, the
    handset's locations) so that every rule meets both its findings and their near misses."""
    w: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
    for i, o in enumerate(OUTLETS):
        opens = draw(st.sampled_from([None, "08:00", "10:00", "20:00"]))
        w["outlets"].append(
            {
                "outlet_id": o,
                "name": f"Outlet {o}",
                "kind": draw(st.sampled_from(["service_center", "dealer", "dealer", "online"])),
                "region": draw(maybe(st.sampled_from(["R1", "R2"]))),
                "city": draw(maybe(st.sampled_from(["Sragen", "Solo", "Jakarta"]))),
                "timezone": draw(st.sampled_from(["Asia/Jakarta", "Asia/Makassar", "UTC"])),
                "opens": opens,
                "closes": draw(st.sampled_from([None, "16:00", "02:00"])) if opens else None,
                "open_days": draw(st.sampled_from([None, "Mon-Sat", "Mon-Fri", "Sun"])),
                "networks": draw(
                    st.sampled_from([None, f"10.0.{i + 1}.0/24", f"10.0.{i + 1}.0/24;10.0.9.0/24"])
                ),
            }
        )
    for a in draw(st.lists(st.sampled_from(AGENTS), unique=True, min_size=2)):
        first = draw(maybe(st.integers(0, 3), 0.5))
        last = draw(maybe(st.integers(0, 3), 0.6))
        w["agents"].append(
            {
                "agent_id": a,
                "person": f"Person {a}",
                "role": "cs",
                "outlet_id": draw(st.sampled_from(OUTLETS)),
                "status": draw(st.sampled_from(["active", "active", "on_leave", "terminated"])),
                "valid_from": None
                if first is None
                else (BASE + timedelta(days=first)).date().isoformat(),
                "valid_to": None
                if last is None
                else (BASE + timedelta(days=last)).date().isoformat(),
            }
        )
    for p, price in zip(PACKAGES, (250000, 60000, 50000), strict=True):
        w["packages"].append(
            {
                "package_id": p,
                "name": p,
                "price": price,
                "period_days": 30,
                "data_mb": 0,
                "auto_renew": "true",
            }
        )
    events = w["provisioning"]
    for i in range(draw(st.integers(6, 24))):
        at = draw(maybe(times, 0.04))
        events.append(
            {
                "event_id": f"EV{i}",
                "at": at,
                "msisdn": draw(maybe(st.sampled_from(NUMBERS), 0.03)),
                "action": draw(
                    st.sampled_from(
                        [
                            "activate",
                            "activate",
                            "activate",
                            "renew",
                            "modify",
                            "deactivate",
                            "expire",
                        ]
                    )
                ),
                "package_id": draw(st.sampled_from([PACKAGES[0], PACKAGES[1], PACKAGES[1]])),
                "channel": "outlet",
                "agent_id": draw(maybe(st.sampled_from(AGENTS), 0.1)),
                "session_id": draw(maybe(st.sampled_from(SESSIONS), 0.2)),
                "outlet_id": draw(maybe(st.sampled_from(OUTLETS), 0.05)),
                "source_ip": draw(maybe(st.sampled_from(IPS), 0.05)),
                "device_id": draw(maybe(st.sampled_from(DEVICES), 0.1)),
                "consent_id": draw(maybe(st.sampled_from(CONSENTS), 0.3)),
                "price": draw(maybe(st.sampled_from([0, 50000, 50000, 250000]), 0.2)),
                "promo_ends": draw(
                    maybe(st.sampled_from(["2016-07-02", "2016-07-03", "2016-07-04"]), 0.6)
                ),
            }
        )
    if events and draw(st.booleans()):
        # the same user ID again, soon after, somewhere else (another outlet, terminal, session)
        e = dict(draw(st.sampled_from(events)))
        e.update(
            event_id=f"EVT{len(events)}",
            at=near(draw, e["at"], 1, 9),
            outlet_id=draw(st.sampled_from(OUTLETS)),
            device_id=draw(st.sampled_from(DEVICES)),
            source_ip=draw(st.sampled_from(IPS)),
            session_id=draw(st.sampled_from(SESSIONS)),
        )
        events.append(e)
    if draw(st.booleans()):
        # a burst: one user ID selling many dear packages at one outlet, without consent
        agent, outlet, at = (
            draw(st.sampled_from(AGENTS)),
            draw(st.sampled_from(OUTLETS)),
            draw(times),
        )
        for j in range(draw(st.integers(5, 8))):
            events.append(
                {
                    "event_id": f"EVB{j}",
                    "at": min(STEPS, at + j),
                    "msisdn": NUMBERS[j % len(NUMBERS)],
                    "action": "activate",
                    "package_id": "DATA12GB",
                    "channel": "dealer",
                    "agent_id": agent,
                    "session_id": None,
                    "outlet_id": outlet,
                    "source_ip": IPS[0],
                    "device_id": DEVICES[0],
                    "consent_id": None,
                    "price": 250000,
                    "promo_ends": None,
                }
            )
    sessions: dict[str, dict[str, Any]] = {}
    consents: dict[str, dict[str, Any]] = {}
    for e in events:
        sid = e["session_id"]
        if sid and sid not in sessions and draw(st.integers(0, 3)):
            start = near(draw, e["at"], -8, 0)
            sessions[sid] = {
                "session_id": sid,
                "agent_id": e["agent_id"]
                if draw(st.integers(0, 3))
                else draw(st.sampled_from(AGENTS)),
                "started_at": start,
                "ended_at": None if draw(st.integers(0, 5)) == 0 else near(draw, e["at"], -2, 12),
                "source_ip": draw(st.sampled_from(IPS)),
                "device_id": e["device_id"]
                if draw(st.integers(0, 2))
                else draw(st.sampled_from(DEVICES)),
                "auth": "password",
            }
        if e["agent_id"] and draw(st.integers(0, 2)) == 0:
            start = near(draw, e["at"], -40, 4)
            w["shifts"].append(
                {
                    "shift_id": f"SH{len(w['shifts'])}",
                    "agent_id": e["agent_id"],
                    "outlet_id": e["outlet_id"]
                    if draw(st.integers(0, 3))
                    else draw(st.sampled_from(OUTLETS)),
                    "starts_at": start,
                    "ends_at": None if start is None else start + draw(st.integers(8, 40)),
                    "duty": draw(st.sampled_from(["regular", "regular", "on_call"])),
                }
            )
        cid = e["consent_id"]
        if cid and cid not in consents and draw(st.integers(0, 3)):
            consents[cid] = {
                "consent_id": cid,
                "msisdn": e["msisdn"]
                if draw(st.integers(0, 4))
                else draw(st.sampled_from(NUMBERS)),
                "at": near(draw, e["at"], -100, 2),
                "method": "sms_otp",
                "verified": draw(st.sampled_from(["true", "true", "false"])),
                "evidence": f"otp://{cid}",
            }
        if e["msisdn"] and draw(st.integers(0, 2)) == 0:
            late = e["action"] in ("deactivate", "expire") and draw(st.booleans())
            w["charges"].append(
                {
                    "charge_id": f"CH{len(w['charges'])}",
                    "msisdn": e["msisdn"],
                    "cycle": "2016-07",
                    "at": near(draw, e["at"], 90 if late else 0, 250 if late else 200),
                    "package_id": e["package_id"],
                    "amount": draw(st.sampled_from([0, 50000, 60000, 250000, 500000])),
                    "kind": draw(st.sampled_from(["package", "package", "usage"])),
                    "description": "",
                }
            )
        if e["msisdn"] and e["at"] is not None and draw(st.integers(0, 2)) == 0:
            w["locations"].append(
                {
                    "msisdn": e["msisdn"],
                    "at": near(draw, e["at"], -9, 9),
                    "region": draw(maybe(st.sampled_from(["R1", "R2", "R3"]))),
                    "city": draw(maybe(st.sampled_from(["Sragen", "Solo", "Jakarta", "Bogor"]))),
                    "cell_id": "",
                }
            )
    for sid in draw(st.lists(st.sampled_from(SESSIONS), unique=True, max_size=4)):
        if sid in sessions:
            continue
        start = draw(maybe(times, 0.05))
        sessions[sid] = {
            "session_id": sid,
            "agent_id": draw(maybe(st.sampled_from(AGENTS), 0.05)),
            "started_at": start,
            "ended_at": None if start is None else near(draw, start, 1, 40),
            "source_ip": draw(st.sampled_from(IPS)),
            "device_id": draw(maybe(st.sampled_from(DEVICES), 0.05)),
            "auth": "password",
        }
    w["sessions"] = list(sessions.values())
    w["consents"] = list(consents.values())
    charge_ids = [c["charge_id"] for c in w["charges"]]
    for i in range(draw(st.integers(0, 3))):
        opened = draw(times)
        closed = draw(maybe(st.integers(opened, STEPS), 0.5))
        m = draw(st.sampled_from(NUMBERS))
        w["complaints"].append(
            {
                "complaint_id": f"TCK{i}",
                "msisdn": m,
                "opened_at": opened,
                "channel": "call_center",
                "category": "billing",
                "summary": "",
                "disputed_charge_ids": ";".join(
                    draw(st.lists(st.sampled_from(charge_ids), unique=True))
                )
                if charge_ids
                else None,
                "disputed_amount": draw(st.sampled_from([0, 100000, 500000])),
                "status": None if closed is None else "closed",
                "closed_at": closed,
                "resolution": None
                if closed is None
                else draw(st.sampled_from(["upheld", "rejected"])),
            }
        )
        for j in range(draw(st.integers(0, 2))):
            w["line_actions"].append(
                {
                    "action_id": f"LA{i}-{j}",
                    "msisdn": m if draw(st.integers(0, 3)) else draw(st.sampled_from(NUMBERS)),
                    "at": near(draw, opened, -20, 150),
                    "action": draw(st.sampled_from(["bar_all", "bar_outgoing", "unbar"])),
                    "reason": "non_payment",
                    "amount_due": draw(st.sampled_from([50000, 600000])),
                    "agent_id": "SYS",
                }
            )
    # every time as an instant; a handset is in one place at a time
    for kind, records in w.items():
        for r in records:
            for f in KINDS[kind].fields:
                if f.type == "timestamp" and isinstance(r.get(f.name), int):
                    r[f.name] = instant(r[f.name])
    w["locations"] = list({(r["msisdn"], r["at"]): r for r in w["locations"]}.values())
    return w


def write_batch(folder: Path, rows: dict[str, list[dict[str, Any]]]) -> None:
    folder.mkdir(parents=True)
    for kind, records in rows.items():
        if not records:
            continue
        names = [f.name for f in KINDS[kind].fields]
        with (folder / f"{kind}.csv").open("w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(names)
            for r in records:
                out.writerow(["" if r.get(n) is None else r[n] for n in names])


def by_id(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["alert_id"]: r for r in rows}


def differences(got: dict[str, dict[str, Any]], want: dict[str, dict[str, Any]]) -> str:
    """What an incremental run stored that a full run would not, and the other way round."""
    lines = [f"only incremental: {got[i]}" for i in sorted(set(got) - set(want))]
    lines += [f"only full: {want[i]}" for i in sorted(set(want) - set(got))]
    for i in sorted(set(got) & set(want)):
        diff = {
            k: (got[i].get(k), want[i].get(k)) for k in want[i] if got[i].get(k) != want[i].get(k)
        }
        if diff:
            lines.append(f"{i} {got[i]['rule']}: {diff}")
    return "\n".join(lines)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(world=operators(), data=st.data())
def test_incremental_runs_store_the_alerts_of_a_full_run(
    tmp_path_factory: pytest.TempPathFactory,
    world: dict[str, list[dict[str, Any]]],
    data: st.DataObject,
) -> None:
    n = data.draw(st.integers(2, 4), label="batches")
    batches: list[dict[str, list[dict[str, Any]]]] = [{k: [] for k in KINDS} for _ in range(n)]
    for kind, records in world.items():
        for r in records:
            # the catalogue comes first so that the first batch is never empty; the outlets
            # mostly too (a new outlet changes every explanation's time zone: a whole run)
            first = kind == "packages" or (kind == "outlets" and data.draw(st.integers(0, 4)) > 0)
            i = 0 if first else data.draw(st.integers(0, n - 1))
            batches[i][kind].append(r)
    root = tmp_path_factory.mktemp("incremental")
    store = Store(root / "home")
    note(json.dumps(batches, sort_keys=True))
    for i, batch in enumerate(batches):
        write_batch(root / f"batch{i}", batch)
        store.ingest([root / f"batch{i}"])
        result = detect(store, incremental=i > 0)
        assert (result.incremental is not None) == (i > 0)
        # after every batch (the first: a full run giving the whole-history rules' alerts
        # from the aggregates it builds), the alerts of the rules' SQL over everything
        full = by_id([a.to_dict() for a in detect(store, save=False).alerts])
        stored = by_id(load_alerts(store))
        assert stored == full, f"after batch {i}:\n" + differences(stored, full)


def test_a_first_run_is_full_and_leaves_a_baseline(seed_store: Store) -> None:
    first = detect(seed_store, incremental=True)
    assert first.incremental is None  # nothing to start from: a full run
    assert load_baseline(seed_store) is not None
    assert by_id(load_alerts(seed_store)) == by_id([a.to_dict() for a in first.alerts])


NEW_ACTIVATION = (
    "event_id,at,msisdn,action,package_id,channel,agent_id,session_id,outlet_id,source_ip,"
    "device_id,consent_id,price,promo_ends\n"
    "EV9000001,2016-07-19T21:30:00+07:00,6281100000001,activate,DATA3GB,outlet,16009045,"
    "SE000100,SRG,10.20.30.17,SRG-PC-07,,60000,\n"
)


def new_batch(tmp_path: Path) -> Path:
    folder = tmp_path / "2016-07-19"
    folder.mkdir()
    (folder / "provisioning.csv").write_text(NEW_ACTIVATION, encoding="utf-8")
    return folder


def test_a_new_batch_is_detected_incrementally(seed_store: Store, tmp_path: Path) -> None:
    detect(seed_store)
    seed_store.ingest([new_batch(tmp_path)])
    result = detect(seed_store, incremental=True)
    run = result.incremental
    assert run is not None and len(run.batches) == 1
    # the activation's user ID, number and outlet were touched: their rules were sliced
    assert {"JJK-001", "JJK-007"} <= set(run.sliced)
    assert {a.rule for a in result.alerts if "EV9000001" in a.record_ids} >= {"JJK-007"}
    assert by_id(load_alerts(seed_store)) == by_id(
        [a.to_dict() for a in detect(seed_store, save=False).alerts]
    )


def test_nothing_new_changes_nothing(seed_store: Store) -> None:
    detect(seed_store)
    before = load_alerts(seed_store)
    again = detect(seed_store, incremental=True)
    assert again.incremental is not None
    assert again.incremental.batches == [] and again.alerts == []
    assert again.incremental.kept == [r.id for r in load_pack().rules]
    assert load_alerts(seed_store) == before


@pytest.mark.parametrize("change", ["partial run", "erasure", "setting", "no baseline"])
def test_without_a_usable_baseline_the_run_is_full(
    change: str, seed_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    detect(seed_store)
    seed_store.ingest([new_batch(tmp_path)])
    if change == "partial run":
        detect(seed_store, rules=["JJK-007"])  # changes the stored alerts the baseline names
    elif change == "erasure":
        Home(seed_store.home).erase("6281200000129", by="dpo@example", basis="test")
    elif change == "setting":
        monkeypatch.setenv("JEJAK_SHIFT_TOLERANCE_MINUTES", "45")
    else:
        shutil.rmtree(seed_store.home / "alerts" / "baseline")
    store = Store(seed_store.home)
    result = detect(store, incremental=True)
    assert result.incremental is None
    assert load_baseline(store) is not None  # the full run leaves one
    assert by_id(load_alerts(store)) == by_id([a.to_dict() for a in result.alerts])


def test_incremental_is_a_stored_duckdb_run_of_the_whole_pack(seed_store: Store) -> None:
    for options in (
        {"engine": "postgres"},
        {"rules": ["JJK-007"]},
        {"save": False},
        {"anomalies": False},
    ):
        with pytest.raises(UsageError):
            detect(seed_store, incremental=True, **options)


def test_jejak_detect_incremental_after_an_ingest(
    runner: CliRunner, seed_store: Store, tmp_path: Path
) -> None:
    home = str(seed_store.home)
    result = runner.invoke(cli.app, ["detect", "--home", home, "--format", "json"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli.app, ["ingest", str(new_batch(tmp_path)), "--home", home])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli.app, ["detect", "--home", home, "--incremental"])
    assert result.exit_code == 0, result.output
    assert "new alerts" in result.output and "incremental over 1 new batch:" in result.output
    assert "JJK-007" in result.output
    result = runner.invoke(cli.app, ["detect", "--home", home, "--incremental"])
    assert result.exit_code == 0, result.output
    assert "no new alerts (incremental over 0 new batches" in result.output


def test_the_whole_history_rules_are_aggregates_of_their_current_text() -> None:
    """A changed JJK-004, -010, -015 or -016 runs as SQL over everything until its aggregate
    (jejak.detect.aggregates) is checked against the new text and its pin moved."""
    pack = load_pack()
    assert {r: pack.get(r).sha256 for r in aggregates.PINNED} == aggregates.PINNED
    assert aggregates.enabled(pack)


def _at(minutes: int) -> str:
    return (BASE + timedelta(minutes=minutes)).isoformat()


def _act(
    event: str,
    minutes: int,
    agent: str,
    outlet: str,
    package: str,
    *,
    msisdn: str = "6281100000001",
    session: str | None = None,
    consent: str | None = None,
) -> dict[str, Any]:
    return {
        "event_id": event,
        "at": _at(minutes),
        "msisdn": msisdn,
        "action": "activate",
        "package_id": package,
        "channel": "outlet",
        "agent_id": agent,
        "session_id": session,
        "outlet_id": outlet,
        "source_ip": "10.0.1.5",
        "device_id": "PC-1",
        "consent_id": consent,
        "price": None,
        "promo_ends": None,
    }


def _consent(cid: str, msisdn: str = "6281100000001") -> dict[str, Any]:
    return {
        "consent_id": cid,
        "msisdn": msisdn,
        "at": _at(0),
        "method": "sms_otp",
        "verified": "true",
        "evidence": f"otp://{cid}",
    }


def _session(sid: str, agent: str, start: int, end: int, device: str = "D1") -> dict[str, Any]:
    return {
        "session_id": sid,
        "agent_id": agent,
        "started_at": _at(start),
        "ended_at": _at(end),
        "source_ip": "10.0.1.5",
        "device_id": device,
        "auth": "password",
    }


def late_links() -> list[dict[str, list[dict[str, Any]]]]:
    """Three batches whose later records change what the whole-history rules found long ago:
    a session exported after its activations (JJK-004 finds it, with the activations that named
    it while nobody knew it: JJK-015's rows until then), consents arriving for old unconsented
    activations (JJK-010's counts and median move), a user ID's HR record after its activity
    (JJK-015), and two dear activations that flag a user ID for the first time with three older
    ones as evidence (JJK-016)."""
    one: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
    one["outlets"] = [
        {"outlet_id": o, "name": o, "kind": "dealer", "timezone": "UTC"} for o in ("O1", "O2")
    ]
    one["packages"] = [
        {"package_id": p, "name": p, "price": price, "period_days": 30}
        for p, price in (("DEAR", 250000), ("CHEAP1", 50000), ("CHEAP2", 60000))
    ]
    one["agents"] = [
        {"agent_id": a, "person": a, "role": "cs", "outlet_id": "O1", "status": "active"}
        for a in ("A1", "A2", "A3", "A5", "A6")
    ]
    acts = one["provisioning"]
    # A1: six activations naming consents not yet exported, in a session not yet exported
    acts += [
        _act(f"E1{i}", 60 + i, "A1", "O1", "CHEAP1", session="S9", consent=f"K{i}")
        for i in range(6)
    ]
    # peers with consented, cheap activations
    for a in ("A2", "A5", "A6"):
        for i in range(3):
            cid = f"C{a}{i}"
            acts.append(_act(f"E{a}{i}", 200 + i, a, "O2", "CHEAP2", consent=cid))
            one["consents"].append(_consent(cid))
    # A3: three dear (consented) and two cheap activations: not (yet) flagged by JJK-016
    for i, pkg in enumerate(("DEAR", "DEAR", "DEAR", "CHEAP1", "CHEAP2")):
        acts.append(_act(f"E3{i}", 300 + i, "A3", "O2", pkg, consent=f"C3{i}"))
        one["consents"].append(_consent(f"C3{i}"))
    # A4: no HR record yet
    acts.append(_act("E40", 400, "A4", "O2", "CHEAP1"))
    one["sessions"] = [_session("S0", "A2", 30, 50)]
    two: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
    two["sessions"] = [_session("S9", "A1", 55, 90)]  # right after A2's on D1
    two["consents"] = [_consent(f"K{i}") for i in range(3)]
    two["agents"] = [{"agent_id": "A4", "person": "A4", "role": "cs", "status": "active"}]
    three: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
    three["provisioning"] = [
        _act(f"E3{i}", 1000 + i, "A3", "O2", "DEAR", consent=f"C3{i}") for i in range(5, 7)
    ]
    three["consents"] = [_consent(f"C3{i}") for i in range(5, 7)]
    return [one, two, three]


def test_late_records_change_what_the_whole_history_rules_found(tmp_path: Path) -> None:
    store = Store(tmp_path / "home")
    found: list[dict[str, dict[str, Any]]] = []
    for i, batch in enumerate(late_links()):
        write_batch(tmp_path / f"batch{i}", batch)
        store.ingest([tmp_path / f"batch{i}"])
        result = detect(store, incremental=i > 0)
        if i:
            run = result.incremental
            assert run is not None and {"JJK-004", "JJK-015"} <= set(run.whole)
        stored = by_id(load_alerts(store))
        full = by_id([a.to_dict() for a in detect(store, save=False).alerts])
        assert stored == full, f"after batch {i}:\n" + differences(stored, full)
        found.append(stored)

    def ids(alerts: dict[str, dict[str, Any]], rule: str) -> list[list[str]]:
        return sorted(a["record_ids"] for a in alerts.values() if a["rule"] == rule)

    # the session arrived: JJK-004 with the activations that named it in the first batch
    assert ids(found[0], "JJK-004") == []
    assert ids(found[1], "JJK-004") == [sorted(["S0", "S9"] + [f"E1{i}" for i in range(6)])]
    # the dangling session, consents and user ID are gone once their records arrived
    assert {"E40", "E10"} <= {r for x in ids(found[0], "JJK-015") for r in x}
    assert {r for x in ids(found[1], "JJK-015") for r in x} == {"E13", "E14", "E15"}
    # JJK-010: six unconsented activations, then three
    assert [f"E1{i}" for i in range(6)] in ids(found[0], "JJK-010")
    assert [f"E1{i}" for i in range(3, 6)] not in ids(found[1], "JJK-010")
    # JJK-016: A3 flagged in the third batch, its evidence reaching back to the first
    assert ids(found[1], "JJK-016") == []
    assert sorted(["E30", "E31", "E32", "E35", "E36"]) in ids(found[2], "JJK-016")
