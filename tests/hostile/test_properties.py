"""Random exports with random damage: every row is accounted for and the log still verifies.

Hypothesis draws a few seed files, damages them (quotes, line ends, encodings, control
characters, duplicated and changed identifiers, truncation, odd file names) and ingests
them twice; after each ingest every file is either refused whole with a reason or
``rows in = loaded + duplicates + conflicts + quarantined``, and ``jejak ledger verify``
finds nothing wrong.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jejak import Home
from tests.conftest import SEED_DIR
from tests.hostile.conftest import assert_accounted

KINDS = ("agents", "outlets", "packages", "complaints", "provisioning", "subscribers")
NAMES = ("{k}.csv", "{k}-[x].csv", "{k}-*.csv", "{k}-a b.csv", "{k}-'q'.csv", "{k}_2016.csv")
ENDS = ("\n", "\r\n", "\r\r\n", "\r")
JUNK = ('"', '""', "\x00", "\x1f", "\x1b[2J", "\x7f", ",", "é", "[/]", "\u202e", ";")


@st.composite
def damaged_file(draw: st.DrawFn) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(KINDS))
    text = (SEED_DIR / f"{kind}.csv").read_bytes().decode()
    rows = [r.rstrip("\r") for r in text.split("\n") if r.strip()][:40]
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(("junk", "dup", "change", "cell", "drop")))
        if len(rows) < 3:  # keep the header and a row to damage
            break
        i = draw(st.integers(1, len(rows) - 1))
        if op == "junk":
            at = draw(st.integers(0, len(rows[i])))
            rows[i] = rows[i][:at] + draw(st.sampled_from(JUNK)) + rows[i][at:]
        elif op == "dup":
            rows.insert(draw(st.integers(1, len(rows))), rows[i])
        elif op == "change":  # same identifier, other content: a conflict
            cells = rows[i].split(",")
            cells[-1] = cells[-1] + "9"
            rows.append(",".join(cells))
        elif op == "cell":
            rows[i] += ","
        else:
            del rows[i]
    ends = draw(st.lists(st.sampled_from(ENDS), min_size=1, max_size=3))
    data = "".join(r + ends[n % len(ends)] for n, r in enumerate(rows)).encode()
    enc = draw(st.sampled_from(("utf-8", "truncated", "latin-1 byte", "bom")))
    if enc == "truncated":
        data = data[: draw(st.integers(len(rows[0]) + 1, max(len(rows[0]) + 1, len(data))))]
    elif enc == "latin-1 byte":
        at = draw(st.integers(len(rows[0]) + 2, max(len(rows[0]) + 2, len(data))))
        data = data[:at] + b"\xe9" + data[at:]
    elif enc == "bom":
        data = b"\xef\xbb\xbf" + data
    name = draw(st.sampled_from(NAMES)).format(k=kind)
    return name, data


@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(damaged_file(), min_size=1, max_size=4))
def test_any_damage_leaves_every_row_accounted_for_and_the_log_verifying(
    files: list[tuple[str, bytes]],
) -> None:
    root = Path(tempfile.mkdtemp(prefix="jejak-prop-"))
    try:
        export = root / "export"
        export.mkdir()
        for n, (name, data) in enumerate(files):
            (export / f"{n}").mkdir()
            (export / f"{n}" / name).write_bytes(data)
        store = Home(root / "home").store
        paths = sorted(export.glob("*"))  # one folder per file: a name that names no kind is listed
        for _ in range(2):  # the second time, everything sound is a duplicate
            result = store.ingest(paths)
            assert_accounted(result)
            for f in result.files:
                assert f.error or f.read >= 0
            report = Home(store.home).verify()
            assert report.ok and not report.pending, report.problems
    finally:
        shutil.rmtree(root, ignore_errors=True)
