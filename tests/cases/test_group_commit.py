"""The log's group commit of case actions, and access records that commit to their reason."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from jejak.cases import Cases
from jejak.cases.models import AccessLog, LedgerOutbox, TimelineEntry
from tests.cases.conftest import verify_home


def _crm_case(cases: Cases, n: int) -> dict:
    case, _ = cases.create(
        {
            "complaint_id": f"TCK-GC-{n:04d}",
            "msisdn": f"62811000009{n:02d}",
            "opened_at": "2026-01-05T09:00:00+07:00",
            "disputed_amount": 10000,
        }
    )
    return case


def test_concurrent_actions_share_log_appends_and_each_returns_logged(
    empty_cases: Cases,
) -> None:
    """Eight people acting at once: every action is in the log when its call returns, and the
    log took them in fewer appends than actions (one thread appended for those waiting)."""
    cases = empty_cases
    ids = [_crm_case(cases, n)["case_id"] for n in range(8)]
    appends_before = len(cases.log.appends())
    errors: list[BaseException] = []
    unlogged: list[tuple[str, int]] = []
    per_thread = 15

    def work(cid: str, who: str) -> None:
        try:
            version = None
            for i in range(per_thread):
                out = cases.act(cid, who, "comment", {"text": f"step {i}"}, version, view=False)
                version = out["version"]
                with cases.db.read() as s:  # the action's entry is in the log already
                    last = s.execute(
                        select(TimelineEntry.seq, TimelineEntry.ledger_index)
                        .where(TimelineEntry.case_id == cid)
                        .order_by(TimelineEntry.seq.desc())
                        .limit(1)
                    ).one()
                if last.ledger_index is None:
                    unlogged.append((cid, last.seq))
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=(cid, ("rina", "tono")[k % 2]))
        for k, cid in enumerate(ids)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert not unlogged, unlogged
    appends = len(cases.log.appends()) - appends_before
    actions = len(ids) * per_thread
    assert 0 < appends < actions, (appends, actions)
    with cases.db.read() as s:
        waiting = s.scalars(select(LedgerOutbox.id).where(LedgerOutbox.ledger_index.is_(None)))
        assert list(waiting) == []
    assert verify_home(cases.home).ok


def test_nothing_pending_means_the_log_is_not_touched(empty_cases: Cases) -> None:
    cases = empty_cases
    _crm_case(cases, 1)
    checkpoint = cases.log.checkpoint_path.read_bytes()
    mtime = cases.log.checkpoint_path.stat().st_mtime_ns
    assert cases.drain() == 0
    assert cases.log.checkpoint_path.read_bytes() == checkpoint
    assert cases.log.checkpoint_path.stat().st_mtime_ns == mtime


def test_an_access_reason_is_in_the_log_and_an_edited_reason_is_named(
    empty_cases: Cases,
) -> None:
    cases = empty_cases
    case = _crm_case(cases, 2)
    cases.record_access(
        "budi", "investigator", case["msisdn"], "chronology", reason="complaint TCK-GC-0002"
    )
    assert verify_home(cases.home).ok
    with cases.db.write() as s:
        s.execute(update(AccessLog).values(reason="routine check"))
    report = verify_home(cases.home)
    assert not report.ok
    assert any(
        p.what == "edited" and "access chronology by budi" in p.message for p in report.problems
    ), [str(p) for p in report.problems]


def test_access_rows_logged_without_a_reason_still_verify(
    empty_cases: Cases, tmp_path: Path
) -> None:
    """A home whose access records an earlier release logged (outbox source ``access``, the
    entry without the reason) still verifies."""
    from jejak.cases import audit

    cases = empty_cases
    case = _crm_case(cases, 3)
    with cases.db.write() as s:
        row = AccessLog(
            at=datetime.now(UTC),
            user_name="budi",
            role="investigator",
            msisdn=case["msisdn"],
            case_id=case["case_id"],
            what="case",
            via="cli",
            reason="older release",
        )
        s.add(row)
        s.flush()
        audit.enqueue(s, audit.ACCESS_V1, row.id, row.at)
    cases.drain()
    assert verify_home(cases.home).ok
    with cases.db.write() as s:  # the old form never committed to the reason: editing it is unseen
        s.execute(update(AccessLog).values(reason="changed"))
    assert verify_home(cases.home).ok
    with cases.db.write() as s:  # but it did commit to who looked
        s.execute(update(AccessLog).values(user_name="tono"))
    assert not verify_home(cases.home).ok


@pytest.mark.parametrize("through", [[], None])
def test_drain_through_nothing_returns_at_once(empty_cases: Cases, through: list | None) -> None:
    from jejak.cases import audit

    assert audit.drain(empty_cases.db, empty_cases.log, through=through) == 0


def test_sync_leaves_complaints_the_crm_closed_unless_asked(
    empty_cases: Cases, tmp_path: Path
) -> None:
    """A complaint closed in the CRM gets no case (no hold, no deadlines, no provisional
    credit) from ``case sync``; it is listed, and ``include_closed`` opens it."""
    cases = empty_cases
    header = (
        "complaint_id,msisdn,opened_at,channel,category,summary,disputed_charge_ids,"
        "disputed_amount,status,closed_at,resolution\n"
    )
    rows = [
        "TCK-OPEN,6281100000061,2017-02-06T10:12:00+07:00,call_center,billing,x,CH1,50000,,,",
        "TCK-SHUT,6281100000062,2017-02-07T10:12:00+07:00,call_center,billing,y,CH2,70000,"
        "closed,2017-03-01T10:00:00+07:00,rejected",
    ]
    path = tmp_path / "complaints.csv"
    path.write_text(header + "\n".join(rows) + "\n")
    assert cases.store.ingest([path]).exit_code == 0
    result = cases.sync(at="2017-02-08T09:00:00+07:00")
    assert result.opened == ["CASE-TCK-OPEN"]
    assert result.closed_in_crm == ["TCK-SHUT"]
    assert cases.can_bar("6281100000062", 70000, at="2017-02-08T10:00:00+07:00")["allowed"]
    again = cases.sync(at="2017-02-08T09:05:00+07:00", include_closed=True)
    assert again.opened == ["CASE-TCK-SHUT"] and again.closed_in_crm == []
    assert not cases.can_bar("6281100000062", 70000, at="2017-02-08T10:00:00+07:00")["allowed"]


def _unlogged(cases: Cases) -> list[int]:
    with cases.db.read() as s:
        return list(s.scalars(select(LedgerOutbox.id).where(LedgerOutbox.ledger_index.is_(None))))


def test_reads_leave_their_access_records_to_the_drain_thread(empty_cases: Cases) -> None:
    """``record_access(wait=False)`` commits the record and returns; the process's drain thread
    puts the records of many such reads into the log in fewer appends than reads, and closing
    leaves nothing pending."""
    import time

    cases = empty_cases
    case = _crm_case(cases, 1)
    appends_before = len(cases.log.appends())
    errors: list[BaseException] = []

    def read(who: str) -> None:
        try:
            for _ in range(10):
                cases.record_access(
                    who, "cs", case["msisdn"], "case", case_id=case["case_id"], wait=False
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read, args=(f"reader{k}",)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with cases.db.read() as s:  # every record is in the database when its call returns
        assert s.scalar(select(func.count()).select_from(AccessLog)) >= 60
    for _ in range(200):  # the thread appends them shortly
        if not _unlogged(cases):
            break
        time.sleep(0.05)
    assert _unlogged(cases) == []
    appends = len(cases.log.appends()) - appends_before
    assert 0 < appends < 60, appends
    cases.record_access("late", "cs", case["msisdn"], "case", wait=False)
    cases.close()  # stops the thread and appends what it had not yet
    assert _unlogged(cases) == []  # (the engine reconnects to look)
    assert verify_home(cases.home).ok


def test_rows_a_drain_took_are_known_per_database_and_forgotten_once_asked(
    tmp_path: Path,
) -> None:
    """A waiting thread returns without reading the database only when this process's drain
    appended its rows *of the same database*: outbox ids are per database (and per PostgreSQL
    schema), so the same id of another must still be looked up."""
    from jejak.cases import audit
    from jejak.cases.db import Database

    a = Database(f"sqlite:///{tmp_path / 'a.db'}")
    b = Database(f"sqlite:///{tmp_path / 'b.db'}")
    pg = "postgresql+psycopg://postgres@127.0.0.1/test"  # not connected: only its address
    s1, s2 = Database(pg, schema="s1"), Database(pg, schema="s2")
    audit._took(a, [1, 2])
    audit._took(s1, [7])
    assert not audit._taken(b, [1]) and not audit._taken(s2, [7])
    assert not audit._taken(a, [1, 3])  # 3 was not taken
    assert audit._taken(a, [1, 2]) and audit._taken(s1, [7])
    assert not audit._taken(a, [1])  # asked once: forgotten, the database answers from now on
