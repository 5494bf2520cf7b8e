"""The regulator's figures in the workbench: the quarterly complaint QoS report
(:mod:`jejak.cases.report.qos`, the same numbers as ``jejak report qos``), every figure linked
to the cases it counts, with its JSON twin and a CSV download.

- ``/reports/qos?quarter=2017Q1`` the page (default: the newest quarter with cases);
- ``/reports/qos.json?quarter=…`` the figures as :func:`jejak.cases.report.qos.qos` gives them;
- ``/reports/qos.csv?quarter=…`` one row per figure: figure, value, standard, cases.

Supervisors and auditors may open them (``qos`` in :data:`jejak.cases.permissions.VIEWS`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from jejak.cases.models import User
from jejak.cases.report.qos import INSIDER, qos, quarter_of, quarters, to_csv
from jejak.cases.service import Cases
from jejak.web import render
from jejak.web.guard import staff

router = APIRouter(include_in_schema=False)


def _figures(request: Request) -> tuple[dict[str, Any], list[str]]:
    cases: Cases = request.app.state.cases
    known = quarters(cases)
    asked = (request.query_params.get("quarter") or "").strip().upper()
    quarter = asked or (known[0] if known else quarter_of(datetime.now(UTC), cases.policy.timezone))
    return qos(cases, quarter), known


def number(value: float | None, lang: str, *, percent: bool = False) -> str:
    """``95.0 %`` in English, ``95,0 %`` in Indonesian; ``–`` for no value.

    >>> number(0.95, "id", percent=True), number(3.25, "en")
    ('95,0 %', '3.2')
    """
    if value is None:
        return "–"
    text = f"{value * 100:.1f} %" if percent else f"{value:.1f}"
    return text.replace(".", ",") if lang == "id" else text


def _outlet_names(cases: Cases, ids: list[str]) -> dict[str, str]:
    if not ids or not cases.store.files("outlets"):
        return {}
    marks = ", ".join("?" for _ in ids)
    rows = cases.store.sql(f"SELECT outlet_id, name FROM outlets WHERE outlet_id IN ({marks})", ids)
    return {r["outlet_id"]: r["name"] for r in rows if r["name"]}


@router.get("/reports/qos")
@router.get("/reports/qos.json")
def qos_page(request: Request, user: Annotated[User, Depends(staff("qos"))]) -> Response:
    figures, known = _figures(request)
    if render.wants_json(request):
        return render.to_json(figures)
    cases: Cases = request.app.state.cases
    outlets = figures["insider_incidents"]["by_outlet"]
    lang = request.state.lang
    settled, billing = figures["settled_within_deadline"], figures["billing_complaints_share"]
    days = figures["time_to_decision_days"]
    data = {
        "figures": figures,
        "last_day": (datetime.fromisoformat(figures["to"]) - timedelta(days=1)).date(),
        "shown": {
            "settled": number(settled["share"], lang, percent=True),
            "settled_standard": number(settled["standard"], lang, percent=True),
            "billing": number(billing["share"], lang, percent=True),
            "billing_standard": number(billing["standard"], lang, percent=True),
            "median": number(days["median"], lang),
            "p95": number(days["p95"], lang),
        },
        "quarters": known if figures["quarter"] in known else [figures["quarter"], *known],
        "insider_kinds": list(INSIDER),
        "outlet_names": _outlet_names(cases, [o for o in outlets if o != "?"]),
    }
    return render.html(request, "qos.html", data)


@router.get("/reports/qos.csv")
def qos_csv(request: Request, user: Annotated[User, Depends(staff("qos"))]) -> Response:
    figures, _ = _figures(request)
    name = f"qos-{figures['quarter']}.csv"
    return Response(
        to_csv(figures),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )
