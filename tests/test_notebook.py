"""The notebook API (issue 15): typed tables from alerts, records and reports, and the example
notebook of docs/python.md, executed as a reader would run it."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from jejak import Home

REPO = Path(__file__).resolve().parents[1]


def test_typed_tables_and_a_query_after_an_arrow_result(seed_store, seed_dir: Path) -> None:  # type: ignore[no-untyped-def]
    home = Home(seed_store.home)
    run = home.refresh_alerts()
    frame = run.to_pandas()
    assert "alert_id" in frame.columns and frame["alert_id"].str.startswith("AL-").all()
    assert str(frame["at"].dtype) == "datetime64[us, UTC]"
    stored = home.alerts_table()
    assert stored.schema.field("at").type == pa.timestamp("us", tz="UTC")
    assert stored.num_rows == len(run.alerts)
    first = home.query('SELECT "at", msisdn FROM provisioning ORDER BY "at"')
    second = home.query("SELECT count(*) AS n FROM charges")  # not blocked by the first
    assert first.num_rows > 0 and second.to_pylist() == [{"n": 10}]
    assert pa.types.is_timestamp(first.schema.field("at").type)
    assert home.records("agents").num_rows == 6
    chron = home.investigate("0811 0000 0001").to_arrow()
    assert chron.column_names == ["at", "kind", "record_id", "summary"]
    assert chron.schema.field("at").type == pa.timestamp("us", tz="UTC")


@pytest.mark.timeout(600)
def test_the_example_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("JEJAK_EXAMPLE_HOME", str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(REPO / "src"))
    nb = nbformat.read(REPO / "docs" / "examples" / "analyst.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "credential_misuse" in text and "500000" in text
