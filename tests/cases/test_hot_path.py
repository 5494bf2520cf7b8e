"""The case action's hot path: statements run on the driver's cursor (``db.Prepared``) give what
SQLAlchemy's own execution gives, and what goes into the log is on the database's disk first."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, insert, select, update
from sqlalchemy.exc import IntegrityError

from jejak.cases import Cases, db
from jejak.cases.db import Prepared
from jejak.cases.models import Case, TimelineEntry

OPENED = "2026-01-05T09:00:00+07:00"


def _case(cases: Cases, key: str = "P1") -> str:
    case, _ = cases.create(
        {
            "complaint_id": f"TCK-{key}",
            "msisdn": "6281100000077",
            "opened_at": OPENED,
            "disputed_amount": 100000,
            "disputed_charge_ids": ["CH1", "CH2"],
        }
    )
    return str(case["case_id"])


def test_a_prepared_read_gives_what_sqlalchemy_gives(empty_cases: Cases) -> None:
    cid = _case(empty_cases)
    empty_cases.act(cid, "rina", "acknowledge")
    with empty_cases.db.read() as s:
        expected = dict(
            s.connection().execute(select(Case.__table__).where(Case.case_id == cid)).one()._mapping
        )
    with empty_cases.db.write() as s:
        got = Prepared(select(Case.__table__).where(Case.case_id == cid)).one(s, {})
    assert got == expected
    # times come back as UTC instants, JSON as Python values, on both databases
    assert got is not None
    assert got["acknowledged_at"].tzinfo == UTC
    assert got["opened_at"] == datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
    assert got["disputed_charge_ids"] == ["CH1", "CH2"]
    with empty_cases.db.write() as s:
        assert Prepared(select(Case.__table__).where(Case.case_id == "nope")).one(s, {}) is None


def test_a_prepared_insert_and_update_write_what_a_read_gives_back(empty_cases: Cases) -> None:
    cid = _case(empty_cases)
    at = datetime(2026, 1, 6, 2, 30, tzinfo=UTC)
    entry = Prepared(insert(TimelineEntry).returning(TimelineEntry.id))
    row: dict[str, Any] = {
        "case_id": cid,
        "seq": 99,
        "at": at,
        "action": "note",
        "actor": "rina",
        "actor_role": "cs",
        "public": False,
        "text": "ditelepon",
        "payload": {"n": 1, "a": ["x"]},
    }
    bump = Prepared(
        update(Case.__table__).where(Case.__table__.c.case_id == cid, Case.__table__.c.version == 1)
    )
    with empty_cases.db.write() as s:
        eid = entry.insert(s, row)
        assert bump.run(s, {"version": 2, "summary": "dibaca"}, ("version", "summary")) == 1
        assert bump.run(s, {"version": 3}, ("version",)) == 0  # no longer version 1
    with empty_cases.db.read() as s:
        e = s.get(TimelineEntry, eid)
        c = s.get(Case, cid)
    assert e is not None and c is not None
    assert (e.at, e.payload, e.public, e.text) == (at, {"n": 1, "a": ["x"]}, False, "ditelepon")
    assert (c.version, c.summary) == (2, "dibaca")
    # the driver's error comes out as SQLAlchemy's: (case_id, seq) is unique
    with pytest.raises(IntegrityError), empty_cases.db.write() as s:
        entry.insert(s, row)


def test_each_transaction_runs_on_its_own_connection(empty_cases: Cases) -> None:
    """The driver cursor a session keeps is its transaction's: a later transaction (maybe on
    another pooled connection) never reuses it."""
    cid = _case(empty_cases)
    read = Prepared(select(Case.__table__.c.version).where(Case.__table__.c.case_id == cid))
    for k in range(3):
        empty_cases.act(cid, "rina", "comment", {"text": f"k{k}"}, view=False)
        with empty_cases.db.write() as s:
            got = read.one(s, {})
            assert got == {"version": 2 + k}
            assert db._CURSOR in s.info


def test_what_goes_into_the_log_is_on_the_database_disk_first(
    empty_cases: Cases, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commits do not wait for the disk; a drain makes them durable before the log takes them."""
    cid = _case(empty_cases)
    empty_cases.auto_drain = False
    empty_cases.act(cid, "rina", "comment", {"text": "a"}, view=False)
    empty_cases.act(cid, "tono", "note", {"text": "b"}, view=False)
    order: list[str] = []
    database = empty_cases.db
    real_durable = database.make_durable
    monkeypatch.setattr(
        database, "make_durable", lambda *s: (order.append("durable"), real_durable(*s))[1]
    )
    log = empty_cases.log
    real_writer = log.writer

    def writer() -> Any:
        w = real_writer()

        class Spy:
            def __enter__(self) -> Any:
                inner = w.__enter__()
                real_append = inner.append

                def append(entries: Any, meta: Any) -> Any:
                    order.append(f"append {len(entries)}")
                    return real_append(entries, meta)

                inner.append = append
                return inner

            def __exit__(self, *exc: Any) -> Any:
                return w.__exit__(*exc)

        return Spy()

    monkeypatch.setattr(log, "writer", writer)
    assert empty_cases.drain() >= 2
    assert order[0] == "durable" and order[1].startswith("append")
    assert all(e["ledger_index"] is not None for e in empty_cases.timeline(cid, customer=False))


def test_commits_do_not_wait_for_the_disk_and_make_durable_does(
    empty_cases: Cases, backend: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = _case(empty_cases)
    if backend is not None:  # PostgreSQL: asynchronous commits; a flush waited for on demand
        with empty_cases.db.write() as s:
            conn = s.connection()
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "off"
            # the URL's own options are kept beside it
            assert conn.exec_driver_sql("SHOW search_path").scalar() == backend.split("%3D")[1]
        empty_cases.db.make_durable()
        # in the drain's own transaction: its commit waits for the disk (it has a commit record)
        with empty_cases.db.read() as s:
            empty_cases.db.make_durable(s)
            conn = s.connection()
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
            sql = "SELECT pg_current_xact_id_if_assigned()"
            assert conn.exec_driver_sql(sql).scalar() is not None
        with empty_cases.db.read() as s:  # for that transaction only
            assert s.connection().exec_driver_sql("SHOW synchronous_commit").scalar() == "off"
        return
    # SQLite (WAL, synchronous=NORMAL): make_durable fsyncs the write-ahead log
    synced: list[str] = []
    real = db.os.fsync
    monkeypatch.setattr(
        db.os, "fsync", lambda fd: (synced.append(os.readlink(f"/proc/self/fd/{fd}")), real(fd))[1]
    )
    wal = str(db.sqlite_path(empty_cases.home)) + "-wal"
    empty_cases.auto_drain = False
    empty_cases.act(cid, "rina", "comment", {"text": "a"}, view=False)
    assert wal not in synced  # the commit did not wait for the disk
    empty_cases.db.make_durable()
    assert synced.count(wal) == 1


def test_sqlite_writers_take_turns_on_the_writer_lock(tmp_path: Path) -> None:
    """A writer waits while another process holds the writer lock beside the database, and
    goes on as soon as it is released (not after SQLite's busy-wait sleeps)."""
    path = db.sqlite_path(tmp_path)
    path.parent.mkdir(parents=True)
    database = db.Database.open(tmp_path, f"sqlite:///{path}")  # whatever JEJAK_DATABASE_URL says
    other = os.open(str(db.sqlite_path(tmp_path)) + ".writer", os.O_RDWR | os.O_CREAT)
    fcntl.flock(other, fcntl.LOCK_EX)  # another open file: as another process
    done = threading.Event()

    def write() -> None:
        with database.write() as s:
            s.connection().exec_driver_sql("CREATE TABLE t (x INTEGER)")
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert not done.wait(0.3)
    finally:
        fcntl.flock(other, fcntl.LOCK_UN)
        os.close(other)
    assert done.wait(5)
    writer.join()
    database.dispose()


@pytest.mark.parametrize("lanes", [1, 4])
def test_actions_taken_at_once_share_transactions_and_an_error_undoes_its_own_alone(
    empty_cases: Cases, lanes: int
) -> None:
    """Many people acting at once: their actions commit together (fewer commits than actions);
    one refused action leaves no trace, and every other one is there, in the log too."""
    ids = [_case(empty_cases, f"T{k}") for k in range(12)]
    empty_cases.auto_drain = False  # only the actions' own commits are counted
    empty_cases.db._lanes = lanes  # transactions at once in the process (SQLite's is 1)
    commits: list[int] = []
    event.listen(empty_cases.db.engine, "commit", lambda conn: commits.append(1))
    errors: list[BaseException] = []
    start = threading.Barrier(len(ids))

    def person(k: int, cid: str) -> None:
        start.wait()
        for i in range(10):
            try:
                if k == 0 and i == 5:  # cs may not approve: refused, in the middle of a batch
                    empty_cases.act(cid, "rina", "decide", {"hypothesis": "x"}, view=False)
                else:
                    empty_cases.act(
                        cid, ("rina", "tono")[i % 2], "comment", {"text": f"{i}"}, view=False
                    )
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=person, args=(k, c)) for k, c in enumerate(ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 1 and type(errors[0]).__name__ in ("ForbiddenError", "StateConflictError")
    # shared transactions: each action alone would commit 119 times (one lane: about 20)
    assert len(commits) <= (60 if lanes == 1 else 118)
    empty_cases.drain()
    for k, cid in enumerate(ids):
        timeline = empty_cases.timeline(cid, customer=False)
        comments = [e for e in timeline if e["action"] == "comment"]
        assert len(comments) == (9 if k == 0 else 10)
        assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))
        assert all(e["ledger_index"] is not None for e in timeline)
    assert empty_cases.get(ids[0])["version"] == 1 + 9


def test_a_shared_transaction_that_cannot_commit_runs_each_action_alone(
    empty_cases: Cases, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four people at once; the transaction the last three share fails as it commits (as a
    full disk would make it): each of the three is run again alone, and all four are there."""
    ids = [_case(empty_cases, f"F{k}") for k in range(4)]
    empty_cases.auto_drain = False
    database = empty_cases.db
    database._lanes = 1  # one transaction at a time (PostgreSQL would run the three in lanes)
    real = database.write
    calls: list[int] = []

    def write() -> Any:
        calls.append(1)
        if len(calls) == 1:  # the first action's own turn: wait until the others queue
            deadline = time.monotonic() + 10
            while len(database._queue) < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
        if len(calls) == 2:  # the three others, together: the commit fails
            return _failing(real())
        return real()

    monkeypatch.setattr(database, "write", write)
    errors: list[BaseException] = []

    def person(cid: str) -> None:
        try:
            empty_cases.act(cid, "rina", "comment", {"text": "sekali"}, view=False)
        except BaseException as exc:
            errors.append(exc)

    first = threading.Thread(target=person, args=(ids[0],))
    first.start()
    time.sleep(0.2)
    others = [threading.Thread(target=person, args=(c,)) for c in ids[1:]]
    for t in others:
        t.start()
    for t in [first, *others]:
        t.join()
    assert errors == []
    assert len(calls) == 2 + 3  # the failed shared one, then each of the three alone
    for cid in ids:
        texts = [e["text"] for e in empty_cases.timeline(cid, customer=False)]
        assert texts.count("sekali") == 1
        assert empty_cases.get(cid)["version"] == 2


class _failing:
    """A write transaction whose commit fails (as a full disk would make it)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __enter__(self) -> Any:
        return self.inner.__enter__()

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> Any:
        if kind is None:
            self.inner.__exit__(RuntimeError, RuntimeError("disk full"), None)
            raise RuntimeError("disk full")
        return self.inner.__exit__(kind, exc, tb)


def _kill_pooled_connections(database: db.Database, pg_url: str) -> int:
    """Terminate the server side of every connection the case database's pool holds (as a
    server restart would); returns how many."""
    import psycopg

    pooled = [database.engine.connect() for _ in range(max(1, database.engine.pool.checkedin()))]
    pids = [c.exec_driver_sql("SELECT pg_backend_pid()").scalar() for c in pooled]
    for c in pooled:
        c.close()
    with psycopg.connect(pg_url, autocommit=True) as con:
        for pid in pids:
            con.execute("SELECT pg_terminate_backend(%s)", (pid,))
    return len(pids)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SQLite has none to lose
@pytest.mark.parametrize("idle", [False, True])
def test_an_action_whose_pooled_connection_died_runs_on_a_new_one(
    empty_cases: Cases,
    backend: str | None,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    idle: bool,
) -> None:
    """A server restart between two actions: the next action still succeeds, once. A pooled
    connection idle for longer than PING_AFTER_IDLE is pinged and replaced on checkout; one
    used a moment ago is not pinged, and its action, refused by the lost connection before it
    wrote anything, is run again on a new connection."""
    cid = _case(empty_cases)
    empty_cases.auto_drain = False
    empty_cases.act(cid, "rina", "comment", {"text": "before"}, view=False)
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0 if idle else 3600.0)
    assert _kill_pooled_connections(empty_cases.db, request.getfixturevalue("pg_url")) >= 1
    time.sleep(0.05)
    transactions: list[int] = []
    real = empty_cases.db.write
    monkeypatch.setattr(empty_cases.db, "write", lambda: (transactions.append(1), real())[1])
    after = empty_cases.act(cid, "tono", "comment", {"text": "after"}, view=False)
    assert after["version"] == 3
    # idle: replaced on checkout; just used: the first transaction met the lost connection
    assert len(transactions) == (1 if idle else 2)
    texts = [e["text"] for e in empty_cases.timeline(cid, customer=False)]
    assert texts.count("before") == 1 and texts.count("after") == 1
    assert empty_cases.drain() >= 2


def test_a_stale_version_at_the_write_leaves_nothing(
    empty_cases: Cases, backend: str | None
) -> None:
    """The case changed between the action's read and its write (another worker's commit):
    the write refuses (StaleDataError, 409 to the caller) and once its transaction is rolled
    back nothing of it remains; on PostgreSQL the case, the entry and the outbox row are one
    statement, which writes nothing at all."""
    from sqlalchemy import func
    from sqlalchemy.orm.exc import StaleDataError

    from jejak.cases import service
    from jejak.cases.models import LedgerOutbox
    from jejak.cases.service import Actor

    cid = _case(empty_cases)
    empty_cases.auto_drain = False

    def counts(s: Any) -> tuple[int, int]:
        return (
            s.scalar(select(func.count()).select_from(TimelineEntry)),
            s.scalar(select(func.count()).select_from(LedgerOutbox)),
        )

    def write(s: Any, text: str) -> None:
        case, read, _ = service._load_case(s, cid, "rina")
        case.version += 1
        who = Actor("rina", "cs")
        empty_cases._entry(s, case, datetime.now(UTC), "comment", who, True, text, {})
        service._save_case(s, case, read)

    with empty_cases.db.read() as s:
        before = counts(s)
    inside: list[tuple[int, int]] = []
    with pytest.raises(StaleDataError), empty_cases.db.write() as s:
        case, read, _ = service._load_case(s, cid, "rina")
        case.version += 1
        who = Actor("rina", "cs")
        empty_cases._entry(s, case, datetime.now(UTC), "comment", who, True, "x", {})
        # meanwhile someone else moved the case on
        s.execute(update(Case).where(Case.case_id == cid).values(version=Case.version + 1))
        try:
            service._save_case(s, case, read)
        finally:
            inside.append(counts(s))
    if backend is not None:
        assert inside == [before]
    with empty_cases.db.read() as s:
        assert counts(s) == before
    with empty_cases.db.write() as s:  # with the version the case has, it goes through
        write(s, "y")
    with empty_cases.db.read() as s:
        assert counts(s) == (before[0] + 1, before[1] + 1)
    assert empty_cases.drain() >= 1
    timeline = empty_cases.timeline(cid, customer=False)
    assert [e["text"] for e in timeline].count("y") == 1
    assert all(e["ledger_index"] is not None for e in timeline)


def test_a_call_that_fails_after_writing_undoes_its_writes_and_the_others_stay(
    empty_cases: Cases,
) -> None:
    """Three calls share a transaction; the second writes, then fails: without a savepoint the
    shared transaction is rolled back and each call runs again alone, so the second call's
    error reaches its caller, its write is gone, and the first and third are there."""
    from jejak.cases.models import User

    database = empty_cases.db
    runs: list[str] = []

    def adds(name: str, fail: bool = False) -> Any:
        def work(s: Any) -> str:
            runs.append(name)
            s.add(User(name=name, role="cs", created_at=datetime.now(UTC)))
            s.flush()
            if fail:
                raise ValueError(f"{name} refused after writing")
            return name

        return work

    def refused(s: Any) -> str:
        runs.append("refused")
        raise PermissionError("refused before writing")

    jobs = [
        db._Job(adds("ana")),
        db._Job(adds("bob", fail=True)),
        db._Job(refused),
        db._Job(adds("cici")),
    ]
    database._run_together(jobs)
    assert [j.value for j in (jobs[0], jobs[3])] == ["ana", "cici"]
    assert isinstance(jobs[1].error, ValueError) and isinstance(jobs[2].error, PermissionError)
    # the shared transaction ran up to bob's failure; then each call alone
    assert runs == ["ana", "bob", "ana", "bob", "refused", "cici"]
    with database.read() as s:
        names = set(s.scalars(select(User.name)))
    assert {"ana", "cici"} <= names and "bob" not in names


def test_a_call_refused_before_writing_leaves_the_shared_transaction_alone(
    empty_cases: Cases,
) -> None:
    """A refusal that came before any write (a permission, a state, a stale version) is that
    call's alone: the others commit in the same transaction, nothing runs twice."""
    from jejak.cases.models import User

    database = empty_cases.db
    runs: list[str] = []
    commits: list[int] = []
    event.listen(database.engine, "commit", lambda conn: commits.append(1))

    def adds(name: str) -> Any:
        def work(s: Any) -> str:
            runs.append(name)
            s.add(User(name=name, role="cs", created_at=datetime.now(UTC)))
            return name

        return work

    def refused(s: Any) -> str:
        runs.append("refused")
        s.execute(select(User.name))  # reads are not writes
        raise PermissionError("refused before writing")

    jobs = [db._Job(adds("ana")), db._Job(refused), db._Job(adds("cici"))]
    database._run_together(jobs)
    assert runs == ["ana", "refused", "cici"] and len(commits) == 1
    assert isinstance(jobs[1].error, PermissionError)
    with database.read() as s:
        assert {"ana", "cici"} <= set(s.scalars(select(User.name)))
