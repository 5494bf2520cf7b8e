"""simulate(): the export ingests clean, the truth is well formed, runs are deterministic and atomic."""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from jejak.cli import app
from jejak.errors import UsageError
from jejak.schema import KINDS
from jejak.simulate import HARD_NEGATIVES, PLANTED, SCENARIOS, simulate
from jejak.simulate import activity as activity_module
from jejak.simulate import writer as writer_module
from jejak.store import Store

from .conftest import Simulated, files_of

HYPOTHESES = {
    "external_compromise",
    "credential_misuse",
    "owner_misuse",
    "customer_consented",
    "billing_error",
}
RECORD_KINDS = {
    "provisioning",
    "sessions",
    "charges",
    "line_actions",
    "consents",
    "shifts",
    "complaints",
}


def _assert_clean(ingest: Any) -> None:
    assert ingest.quarantined == 0, ingest.to_dict()
    assert ingest.conflicting == 0, ingest.to_dict()
    assert not ingest.unreadable, ingest.to_dict()
    assert not ingest.dangling, [d.__dict__ for d in ingest.dangling]


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31),
    subscribers=st.integers(100, 400),
    days=st.integers(7, 12),
    scenarios=st.sampled_from([None, [], ["seed-2016", "busy_outlet", "shared_credentials"]]),
)
def test_any_seed_ingests_with_nothing_quarantined(
    seed: int, subscribers: int, days: int, scenarios: list[str] | None
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        result = simulate(
            Path(tmp) / "export", subscribers=subscribers, days=days, seed=seed, scenarios=scenarios
        )
        ingest = Store(Path(tmp) / "home").ingest([Path(tmp) / "export"])
        _assert_clean(ingest)
        assert ingest.loaded == result.records


def test_every_kind_is_written_and_counted(small_operator: Simulated) -> None:
    _assert_clean(small_operator.ingest)
    counts = small_operator.result.counts
    assert set(counts) == set(KINDS)
    assert all(counts[k] > 0 for k in KINDS), counts
    for kind in KINDS:
        assert (small_operator.result.out / f"{kind}.parquet").exists()
        assert small_operator.store.sql(f"SELECT count(*) AS n FROM {kind}")[0]["n"] == counts[kind]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_text_formats_ingest_the_same_records(fmt: str, tmp_path: Path) -> None:
    base = simulate(
        tmp_path / "parquet",
        subscribers=150,
        days=7,
        seed=5,
        scenarios=["seed-2016", "bar_over_dispute"],
    )
    text = simulate(
        tmp_path / fmt,
        subscribers=150,
        days=7,
        seed=5,
        scenarios=["seed-2016", "bar_over_dispute"],
        format=fmt,
    )
    assert text.counts == base.counts
    assert text.cases == base.cases
    a, b = Store(tmp_path / "home-a"), Store(tmp_path / "home-b")
    _assert_clean(a.ingest([tmp_path / "parquet"]))
    _assert_clean(b.ingest([tmp_path / fmt]))
    for kind in ("provisioning", "shifts", "charges", "complaints"):
        key = KINDS[kind].key[0]
        q = f'SELECT * EXCLUDE (_src, _line) FROM {kind} ORDER BY "{key}"'
        assert a.sql(q) == b.sql(q), kind


def test_truth_lines_follow_the_contract(small_operator: Simulated) -> None:
    lines = [
        json.loads(x) for x in (small_operator.result.out / "truth.jsonl").read_text().splitlines()
    ]
    assert lines == small_operator.result.cases
    assert {c["kind"] for c in lines} == set(SCENARIOS)
    assert len({c["case_id"] for c in lines}) == len(lines)
    for c in lines:
        assert set(c) == {
            "case_id",
            "kind",
            "hard_negative",
            "msisdns",
            "agent_id",
            "record_ids",
            "verdict",
            "complaint_id",
            "description",
        }
        assert set(c["record_ids"]) == RECORD_KINDS, c["case_id"]
        assert c["verdict"]["hypothesis"] in HYPOTHESES
        assert c["hard_negative"] == (c["kind"] in HARD_NEGATIVES)
        if c["hard_negative"]:
            assert c["verdict"] == {"hypothesis": "customer_consented", "operator_liable": False}
        else:
            assert c["kind"] in PLANTED and c["verdict"]["operator_liable"] is True
        assert c["msisdns"] and c["description"].endswith(".") and "\n" not in c["description"]


def test_every_record_the_truth_names_is_in_the_export(small_operator: Simulated) -> None:
    for c in small_operator.result.cases:
        for kind, ids in c["record_ids"].items():
            found = {r[KINDS[kind].key[0]] for r in small_operator.rows(kind, ids)}
            assert found == set(ids), (c["case_id"], kind, set(ids) - found)
        subs = small_operator.rows("subscribers", c["msisdns"])
        assert len(subs) == len(set(c["msisdns"])), c["case_id"]
        if c["complaint_id"]:
            (complaint,) = small_operator.rows("complaints", [c["complaint_id"]])
            assert complaint["msisdn"] in c["msisdns"]


def test_scenarios_scale_with_the_operator(mid_operator: Simulated) -> None:
    _assert_clean(mid_operator.ingest)
    per_kind: dict[str, int] = {}
    for c in mid_operator.result.cases:
        per_kind[c["kind"]] = per_kind.get(c["kind"], 0) + 1
    assert per_kind.pop("seed-2016") == 1
    assert set(per_kind.values()) == {2}, per_kind


def test_the_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    simulate(tmp_path / "a", subscribers=200, days=7, seed=42)
    simulate(tmp_path / "b", subscribers=200, days=7, seed=42)
    simulate(tmp_path / "c", subscribers=200, days=7, seed=43)
    a, b, c = files_of(tmp_path / "a"), files_of(tmp_path / "b"), files_of(tmp_path / "c")
    assert a.keys() == b.keys() and all(a[k] == b[k] for k in a), [k for k in a if a[k] != b.get(k)]
    assert a["provisioning.parquet"] != c["provisioning.parquet"]
    assert a["truth.jsonl"] != c["truth.jsonl"]


def test_a_clean_operator_has_no_truth(tmp_path: Path) -> None:
    result = simulate(tmp_path / "clean", subscribers=200, days=7, scenarios=[])
    assert result.cases == []
    assert (tmp_path / "clean" / "truth.jsonl").read_text() == ""
    assert result.counts["provisioning"] > 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"subscribers": 5}, "subscribers must be"),
        ({"subscribers": 2.5}, "subscribers must be"),
        ({"days": 0}, "days must be"),
        ({"days": 400}, "days must be"),
        ({"seed": -1}, "seed must be"),
        ({"format": "xlsx"}, "format must be one of"),
        ({"scenarios": ["nope"]}, "unknown scenario 'nope'"),
        ({"scenarios": "seed-2016"}, "must be a list"),
        ({"start": "2016-07-01"}, "start must be a date"),
    ],
)
def test_bad_arguments_are_usage_errors(
    kwargs: dict[str, Any], message: str, tmp_path: Path
) -> None:
    with pytest.raises(UsageError, match=message) as err:
        simulate(tmp_path / "out", **kwargs)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "out").exists()


def test_a_folder_that_is_not_a_simulation_is_never_replaced(tmp_path: Path) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(UsageError, match="holds no earlier simulation"):
        simulate(out, subscribers=100, days=7, scenarios=[])
    assert (out / "notes.txt").read_text() == "keep me"


def test_an_earlier_simulation_is_replaced_whole(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    simulate(out, subscribers=100, days=7, seed=1, format="csv", scenarios=[])
    simulate(out, subscribers=100, days=7, seed=2, scenarios=["owner_no_consent"])
    assert not list(out.glob("*.csv"))
    assert (out / "provisioning.parquet").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["sim"]


def test_a_failed_run_leaves_nothing_that_looks_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(self: Any, progress: Any = None) -> None:
        raise RuntimeError("killed half way")

    monkeypatch.setattr(activity_module.Background, "run", boom)
    with pytest.raises(RuntimeError, match="killed half way"):
        simulate(tmp_path / "out", subscribers=100, days=7)
    assert list(tmp_path.iterdir()) == []


def test_a_failure_in_the_writing_thread_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = writer_module.ExportWriter._write

    def failing(self: Any, kind: str, table: Any) -> None:
        if kind == "locations":
            raise OSError("disk full")
        original(self, kind, table)

    monkeypatch.setattr(writer_module.ExportWriter, "_write", failing)
    with pytest.raises(OSError, match="disk full"):
        simulate(tmp_path / "out", subscribers=100, days=7)
    assert list(tmp_path.iterdir()) == []


def test_progress_is_reported(tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    simulate(
        tmp_path / "out",
        subscribers=100,
        days=7,
        scenarios=[],
        progress=lambda s, d, t: seen.append((s, d, t)),
    )
    assert ("background", 7, 7) in seen


def test_start_moves_the_window(tmp_path: Path) -> None:
    simulate(
        tmp_path / "out",
        subscribers=150,
        days=7,
        start=date(2024, 3, 4),
        scenarios=["owner_no_consent"],
    )
    store = Store(tmp_path / "home")
    _assert_clean(store.ingest([tmp_path / "out"]))
    (row,) = store.sql(
        'SELECT min("at") AS lo, max("at") AS hi FROM provisioning WHERE action = \'activate\''
    )
    assert row["lo"].date() >= date(2024, 3, 3) and row["hi"].date() <= date(2024, 3, 10)


def test_the_command_line(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "simulate",
            "--out",
            str(tmp_path / "o"),
            "--subscribers",
            "150",
            "--days",
            "7",
            "--scenarios",
            "seed-2016,busy_outlet",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "planted case" in res.output
    kinds = {
        json.loads(x)["kind"] for x in (tmp_path / "o" / "truth.jsonl").read_text().splitlines()
    }
    assert kinds == {"seed-2016", "busy_outlet"}
    res = runner.invoke(
        app, ["simulate", "--out", str(tmp_path / "p"), "--scenarios", "none", "--days", "3"]
    )
    assert res.exit_code == 2, res.output
    assert "days must be" in res.output
    res = runner.invoke(app, ["simulate", "--out", str(tmp_path / "p"), "--start", "July"])
    assert res.exit_code == 2, res.output
