"""A realistic synthetic operator with fraud of known kinds planted in it, and the truth about it.

:func:`simulate` writes a complete operator export (all thirteen record kinds
of ``shared/spec/operator-export.md``) for ``subscribers`` lines over ``days``
days, plus ``truth.jsonl``: one JSON object per planted case (its scenario
kind, the record ids that make it up, the subscribers it hurt, the verdict an
investigator should reach). The same seed gives byte-identical files.

The package, one module per concept:

- :mod:`~jejak.simulate.calendar`: Indonesian working days and public holidays, day rhythms;
- :mod:`~jejak.simulate.world`: regions, outlets, staff, rosters and sessions, subscribers, catalogue;
- :mod:`~jejak.simulate.activity`: the legitimate background, vectorised and streamed;
- :mod:`~jejak.simulate.scenarios`: the planted cases and their hard negatives;
- :mod:`~jejak.simulate.seed`: the seed case of 2016, embedded as scenario ``seed-2016``;
- :mod:`~jejak.simulate.writer`: Parquet / CSV / JSON Lines output;
- :mod:`~jejak.simulate.cli`: ``jejak simulate``.

Example::

    >>> from jejak.simulate import simulate
    >>> result = simulate("/tmp/op", subscribers=300, days=14, seed=7)   # doctest: +SKIP
    >>> result.counts["provisioning"] > 0, result.cases[0]["kind"]      # doctest: +SKIP
    (True, 'seed-2016')
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from jejak.errors import UsageError
from jejak.fsio import fsync_dir, fsync_tree
from jejak.simulate.activity import Background, packages_rows
from jejak.simulate.calendar import Calendar
from jejak.simulate.scenarios import HARD_NEGATIVES, PLANTED, SCENARIOS, plant
from jejak.simulate.world import MAX_SUBSCRIBERS, build_world
from jejak.simulate.writer import FORMATS, ExportWriter

#: the first simulated day when none is given: the month of the seed case
DEFAULT_START = date(2016, 7, 1)
MIN_SUBSCRIBERS = 100
MIN_DAYS = 7
MAX_DAYS = 366

Progress = Callable[[str, int, int], None]


@dataclass
class SimulationResult:
    """What :func:`simulate` wrote."""

    out: Path
    counts: dict[str, int]
    cases: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def records(self) -> int:
        return sum(self.counts.values())


def _check(
    subscribers: int, days: int, seed: int, scenarios: Sequence[str] | None, fmt: str
) -> list[str]:
    if (
        isinstance(subscribers, bool)
        or not isinstance(subscribers, int)
        or not MIN_SUBSCRIBERS <= subscribers <= MAX_SUBSCRIBERS
    ):
        raise UsageError(
            f"subscribers must be a whole number from {MIN_SUBSCRIBERS} to {MAX_SUBSCRIBERS:,}, not {subscribers!r}"
        )
    if isinstance(days, bool) or not isinstance(days, int) or not MIN_DAYS <= days <= MAX_DAYS:
        raise UsageError(f"days must be a whole number from {MIN_DAYS} to {MAX_DAYS}, not {days!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UsageError(f"seed must be a whole number of at least 0, not {seed!r}")
    if fmt not in FORMATS:
        raise UsageError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if scenarios is None:
        return list(SCENARIOS)
    if isinstance(scenarios, str):
        raise UsageError(
            f"scenarios must be a list of scenario kinds, not the string {scenarios!r}"
        )
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        raise UsageError(f"unknown scenario {unknown[0]!r} (known: {', '.join(SCENARIOS)})")
    return [s for s in SCENARIOS if s in set(scenarios)]


def _prepare(out: Path) -> Path:
    """A fresh temporary folder beside ``out``; refuses to replace a folder that is not a simulation."""
    if out.exists():
        if not out.is_dir():
            raise UsageError(str(out), "exists and is not a folder")
        if any(out.iterdir()) and not (out / "truth.jsonl").exists():
            raise UsageError(
                str(out), "exists, is not empty and holds no earlier simulation (truth.jsonl)"
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.simulating-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    return tmp


def _publish(tmp: Path, out: Path) -> None:
    """Move the finished export into place: a reader sees the old folder or the new one, whole."""
    fsync_tree(tmp)
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.replaced-{os.getpid()}"
        os.replace(out, old)
    os.replace(tmp, out)
    fsync_dir(out.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def simulate(
    out: str | Path,
    *,
    subscribers: int = 2000,
    days: int = 30,
    seed: int = 1,
    scenarios: Sequence[str] | None = None,
    format: str = "parquet",
    start: date | None = None,
    progress: Progress | None = None,
) -> SimulationResult:
    """Write a simulated operator export with planted cases to ``out``, and ``out/truth.jsonl``.

    ``scenarios=None`` plants every scenario kind (:data:`SCENARIOS`), ``[]``
    none (a clean operator). ``start`` is the first simulated day (default
    2016-07-01, the month of the seed case). Raises :class:`UsageError` for
    bad arguments. The export appears at ``out`` only when complete.
    """
    began = time.perf_counter()
    kinds = _check(subscribers, days, seed, scenarios, format)
    if start is None:
        start = DEFAULT_START
    if not isinstance(start, date):
        raise UsageError(f"start must be a date, not {start!r}")
    out = Path(out)
    cal = Calendar(start, days)
    root = np.random.SeedSequence([seed, 20160718])
    world_seq, bg_seq, plant_seq = root.spawn(3)
    world = build_world(np.random.default_rng(world_seq), subscribers, cal)
    tmp = _prepare(out)
    writer = ExportWriter(tmp, format)
    try:
        planted = plant(world, np.random.default_rng(plant_seq), kinds)
        writer.write_rows(
            "outlets", [o.row() for o in world.outlets] + planted.rows.pop("outlets", [])
        )
        writer.write_rows(
            "agents", [a.row() for a in world.agents] + planted.rows.pop("agents", [])
        )
        writer.write_rows("packages", packages_rows() + planted.rows.pop("packages", []))
        writer.write_rows("shifts", [s.row() for s in world.shifts if s.recorded])
        writer.write_rows("sessions", [s.session_row() for s in world.shifts])
        if progress:
            progress("world", 1, 1)
        Background(world, bg_seq, writer).run(progress)
        for kind, rows in planted.rows.items():
            writer.write_rows(kind, rows)
        counts = writer.close()
        cases = [c.truth() for c in planted.cases]
        with open(tmp / "truth.jsonl", "w", encoding="utf-8") as fh:
            for c in cases:
                fh.write(json.dumps(c, ensure_ascii=False, sort_keys=False) + "\n")
        _publish(tmp, out)
    except BaseException:
        writer.abort()  # the writing thread must stop before its folder goes
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return SimulationResult(out, counts, cases, time.perf_counter() - began)


__all__ = [
    "DEFAULT_START",
    "HARD_NEGATIVES",
    "PLANTED",
    "SCENARIOS",
    "SimulationResult",
    "simulate",
]
