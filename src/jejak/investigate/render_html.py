"""The report as one self-contained HTML page, in English or Indonesian.

One file, nothing fetched: the CSS is inline, and the two pictures are SVG drawn
here, on the server, from the report:

- the **timeline** of the case: every record about the subscriber on one axis,
  a lane per record kind, the disputed actions, charges, complaint and bar
  marked; below it the **evening of each disputed action**: the outlet's hours,
  the shifts rostered there, the session on the terminal before, the session
  the action was made in, and the action itself;
- the **graph** of the people, user IDs, sessions, terminals, addresses and
  subscribers involved, with an edge for each record that links two of them.

The page (``templates/report.html``, Jinja2 with autoescaping) has no script
and no external URL; every text comes from :mod:`jejak.investigate.i18n`.

Example::

    >>> html = render_html(report, lang="id")              # doctest: +SKIP
    >>> "Penyalahgunaan user ID" in html                   # doctest: +SKIP
    True
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from jejak import fsio
from jejak.investigate.audience import customer_evidence, own_ids, plain_summary, plain_verdict
from jejak.investigate.i18n import (
    alert_explanation,
    check_lang,
    chronology_summary,
    idr,
    label,
    local,
    one_zone,
    value,
    zone_name,
)
from jejak.investigate.report import Action, Report

LANES = (
    "provisioning",
    "consents",
    "charges",
    "notifications",
    "line_actions",
    "complaints",
    "locations",
)
COLOURS = {
    "provisioning": "#1f5fa8",
    "consents": "#2e8b57",
    "charges": "#b8860b",
    "notifications": "#6a5acd",
    "line_actions": "#8b0000",
    "complaints": "#d2691e",
    "locations": "#708090",
}
ALERT = "#c0392b"

_env: Environment | None = None


def _environment() -> Environment:
    global _env
    if _env is None:
        _env = Environment(
            loader=PackageLoader("jejak.investigate", "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
    return _env


def _x(t: datetime, t0: datetime, t1: datetime, x0: float, x1: float) -> float:
    span = (t1 - t0).total_seconds() or 1.0
    return x0 + (x1 - x0) * (t - t0).total_seconds() / span


#: the marks' labels on the timeline: font size, and a width per character that no record id
#: of the export's alphabet (capitals, digits, ``-``, ``@``, ``:``) exceeds in a sans-serif face
MARK_FONT = 10.0
MARK_CHAR = 0.66
#: one row of labels (the label's box is 12 high) and the padding of a box
MARK_ROW = 13.0
MARK_PAD = 3.0
#: provisioning actions that end a package: labelled on the timeline (charges after them are wrong)
ENDING = ("deactivate", "expire")


def anchor(record_id: str) -> str:
    """The HTML id of a record's row (a citation links to ``#`` it).

    >>> anchor("6281100000001@2016-07-18T02:10:00+00:00")
    'r-6281100000001_2016-07-18T02_10_00_00_00'
    """
    return "r-" + re.sub(r"[^A-Za-z0-9_-]", "_", record_id)


def text_width(text: str, size: float = MARK_FONT) -> float:
    """An upper bound of the width of ``text`` at ``size`` px (for laying out labels)."""
    return len(text) * size * MARK_CHAR


def lay_out(items: list[tuple[float, float]], gap: float = 4.0) -> list[int]:
    """Rows for labels given as (centre x, width) so that no two in one row overlap: each goes
    into the first row where it clears the labels already there (greedy, left to right)."""
    order = sorted(range(len(items)), key=lambda i: items[i][0] - items[i][1] / 2)
    ends: list[float] = []  # the right edge of each row so far
    rows = [0] * len(items)
    for i in order:
        x, w = items[i]
        left = x - w / 2
        for r, end in enumerate(ends):
            if left >= end + gap:
                rows[i], ends[r] = r, x + w / 2
                break
        else:
            rows[i] = len(ends)
            ends.append(x + w / 2)
    return rows


#: the timeline drawn for a phone: as many units wide as the screen has pixels, so that its
#: words are read at their size (the page shows it instead of the wide one below 600 px)
PHONE_WIDTH = 390.0


def timeline_svg(
    report: Report, lang: str, *, links: bool = False, width: float = 1000.0
) -> Markup:
    """The whole case on one axis, a lane per record kind, with a legend.

    The records the verdict and the remedy rest on are red and labelled with their id, and so is
    each activation's end (a deactivation or expiry: charges after it are wrong). Labels of one
    lane that would overlap are put in rows above one another (the lane grows to hold them); each
    label sits on a white box (``rect.markbox``). With ``links`` every dot links to its record's
    row of the page (``#r-...``, :func:`anchor`). ``width``: the drawing's width in units
    (:data:`PHONE_WIDTH` for a phone: a narrower axis, labels in more rows, fewer ticks).
    """
    chron = report.chronology
    if not chron:
        return Markup("")
    customer = report.audience.customer
    marked = {a.event_id for a in report.actions}
    marked |= set(report.remedy.charge_ids)
    if report.complaint_id:
        marked.add(report.complaint_id)
    if report.remedy.bar_id:
        marked.add(report.remedy.bar_id)
    ended = {
        c.record_id for c in chron if c.kind == "provisioning" and c.params.get("action") in ENDING
    }
    t0 = chron[0].at - timedelta(days=3)
    # a report made long after the last record marks its moment only when it is near
    show_as_of = report.as_of <= chron[-1].at + timedelta(days=90)
    t1 = (max(chron[-1].at, report.as_of) if show_as_of else chron[-1].at) + timedelta(days=3)
    narrow = width < 700
    # the lane names are right-aligned before the axis: as wide as the longest needs, at most 130
    names = max(text_width(label("kind." + k, lang), 11) for k in LANES)
    left, top, base = (min(130.0, names + 16) if narrow else 130.0), 24.0, 13.0
    right = width - (20.0 if narrow else 40.0)

    # the labels, lane by lane, and the rows they need
    labels: dict[str, list[tuple[Any, str, float, float]]] = {k: [] for k in LANES}
    for c in chron:
        if c.record_id not in marked and c.record_id not in ended:
            continue
        text = c.record_id
        if c.record_id in ended:
            text += f" · {label('legend.ended', lang)}"
        w = text_width(text) + 2 * MARK_PAD
        x = min(max(_x(c.at, t0, t1, left, right), left + w / 2), width - 2 - w / 2)
        labels[c.kind].append((c, text, x, w))
    rows = {k: lay_out([(x, w) for _, _, x, w in v]) for k, v in labels.items()}
    lane_y: dict[str, float] = {}
    y = top
    for kind in LANES:
        n = max(rows[kind], default=-1) + 1
        above = base if n == 0 else 9 + n * MARK_ROW
        lane_y[kind] = y + above
        y += above + base
    axis_y = y + 4
    legend_y = axis_y + 42
    height = legend_y + LEGEND_ROW * (_legend_rows(lang, show_as_of, width) - 1) + 10
    parts = [
        f'<svg viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-label="{escape(label("timeline", lang))}" '
        f'class="chart timeline {"narrow" if narrow else "wide"}">'
    ]
    for kind in LANES:
        ly = lane_y[kind]
        parts.append(
            f'<text x="{left - 8}" y="{ly + 4:.1f}" text-anchor="end" class="lane">{escape(label("kind." + kind, lang))}</text>'
            f'<line x1="{left}" y1="{ly:.1f}" x2="{right}" y2="{ly:.1f}" class="grid"/>'
        )
    # month ticks
    parts.append(f'<line x1="{left}" y1="{axis_y}" x2="{right}" y2="{axis_y}" class="axis"/>')
    m = datetime(t0.year, t0.month, 1, tzinfo=t0.tzinfo)
    step = max(1, math.ceil(((t1 - t0).days / 30) / ((right - left) / 64)))
    while m <= t1:
        if m >= t0:
            x = _x(m, t0, t1, left, right)
            parts.append(
                f'<line x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" y2="{axis_y + 5}" class="axis"/>'
                f'<text x="{x:.1f}" y="{axis_y + 18}" text-anchor="middle" class="tick">{m:%Y-%m}</text>'
            )
        month = m.month - 1 + step
        m = m.replace(year=m.year + month // 12, month=month % 12 + 1)
    if show_as_of:
        x = _x(report.as_of, t0, t1, left, right)
        text = label("as_of", lang)
        half = text_width(text, 11) * 0.55  # the estimate with room for a wider font
        tx = min(max(x, left + half), width - 6 - half)
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{axis_y}" class="asof" '
            f'stroke="#1f5fa8" stroke-dasharray="4 3"/>'
            f'<text x="{tx:.1f}" y="{top - 10}" text-anchor="middle" class="tick">{escape(text)}</text>'
        )
    for c in chron:
        x = _x(c.at, t0, t1, left, right)
        cy = lane_y[c.kind]
        hot = c.record_id in marked
        title = (
            f"{local(c.at, report.timezone)} {c.record_id}: "
            f"{chronology_summary(c.kind, lang, customer=customer, **c.params)}"
        )
        if c.record_id in ended and not hot:
            dot = (
                f'<circle cx="{x:.1f}" cy="{cy:.1f}" r="5" fill="#fff" stroke="#1d2330" '
                f'stroke-width="2" class="ended"><title>{escape(title)}</title></circle>'
            )
        else:
            dot = (
                f'<circle cx="{x:.1f}" cy="{cy:.1f}" r="{6 if hot else 3.5}" '
                f'fill="{ALERT if hot else COLOURS[c.kind]}" fill-opacity="{0.95 if hot else 0.6}">'
                f"<title>{escape(title)}</title></circle>"
            )
        if links:
            dot = f'<a href="#{anchor(c.record_id)}">{dot}</a>'
        parts.append(dot)
    for kind, placed in labels.items():
        for (_, text, x, w), row in zip(placed, rows[kind], strict=True):
            baseline = lane_y[kind] - 9 - row * MARK_ROW
            parts.append(
                f'<rect x="{x - w / 2:.1f}" y="{baseline - 9:.1f}" width="{w:.1f}" height="12" '
                f'rx="2" fill="#fff" fill-opacity="0.9" class="markbox"/>'
                f'<text x="{x:.1f}" y="{baseline:.1f}" text-anchor="middle" class="mark" '
                f'font-size="{MARK_FONT:.0f}">{escape(text)}</text>'
            )
    parts.append(_legend(legend_y, lang, show_as_of, width))
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend_items(lang: str, as_of: bool) -> list[tuple[str, str]]:
    """The timeline's key: how each mark is drawn (``{x}``, ``{y}``, ``{top}``, ``{bottom}``
    to fill in) and what it means."""
    items = [
        (f'<circle cx="{{x}}" cy="{{y}}" r="6" fill="{ALERT}"/>', label("legend.cited", lang)),
        (
            f'<circle cx="{{x}}" cy="{{y}}" r="3.5" fill="{COLOURS["provisioning"]}" fill-opacity="0.6"/>',
            label("legend.record", lang),
        ),
        (
            '<circle cx="{x}" cy="{y}" r="5" fill="#fff" stroke="#1d2330" stroke-width="2"/>',
            label("legend.ended", lang),
        ),
    ]
    if as_of:
        items.append(
            (
                '<line x1="{x}" y1="{top}" x2="{x}" y2="{bottom}" stroke="#1f5fa8" stroke-dasharray="4 3"/>',
                label("as_of", lang),
            )
        )
    return items


def _legend_columns(lang: str, as_of: bool, width: float) -> tuple[int, float]:
    """Two columns when they fit in ``width``, else one; and the first column's width."""
    items = _legend_items(lang, as_of)
    first = max(text_width(text, 11) for _, text in items[::2])
    second = max(text_width(text, 11) for _, text in items[1::2])
    two = 16 + 12 + first + 48 + 12 + second <= width - 4
    return (2 if two else 1), first


def _legend_rows(lang: str, as_of: bool, width: float) -> int:
    cols, _ = _legend_columns(lang, as_of, width)
    return math.ceil(len(_legend_items(lang, as_of)) / cols)


def _legend(y: float, lang: str, as_of: bool, width: float) -> str:
    """The timeline's key below the axis, from the chart's left edge (so that a phone shows it
    whole): in two columns where they fit, else in one."""
    cols, first = _legend_columns(lang, as_of, width)
    out = []
    for i, (mark, text) in enumerate(_legend_items(lang, as_of)):
        x = 16.0 + (i % cols) * (first + 48)
        yy = y + (i // cols) * LEGEND_ROW
        out.append(
            mark.replace("{x}", f"{x:.1f}")
            .replace("{y}", f"{yy - 4:.1f}")
            .replace("{top}", f"{yy - 11:.1f}")
            .replace("{bottom}", f"{yy + 3:.1f}")
        )
        out.append(
            f'<text x="{x + 12:.1f}" y="{yy:.1f}" class="legend tick" font-size="11">{escape(text)}</text>'
        )
    return "".join(out)


#: the legend's line height
LEGEND_ROW = 18.0


def evening_svg(action: Action, report: Report, lang: str) -> Markup:
    """The hours around one action: outlet hours, shifts, the terminal's sessions, the action."""
    e = action.event
    tz = (action.outlet or {}).get("timezone") or report.timezone
    zone = ZoneInfo(tz)
    at: datetime = e["at"]
    spans: list[tuple[str, datetime, datetime, str, str]] = []  # label, start, end, class, title
    owner = action.person or e.get("agent_id") or "?"
    for sh in action.owner_shifts:
        spans.append(
            (
                f"{owner} ({value(sh.get('duty'), lang)})",
                sh["starts_at"],
                sh["ends_at"],
                "owner",
                sh["shift_id"],
            )
        )
    os_ = action.owner_session
    if os_:
        spans.append(
            (
                f"{label('session', lang)} {os_['session_id']} ({os_['agent_id']})",
                os_["started_at"],
                os_.get("ended_at") or os_["started_at"],
                "owner",
                os_.get("device_id") or "",
            )
        )
    for d in action.on_duty:
        name = f"{d.get('person') or d['agent_id']} ({value(d.get('duty'), lang)})"
        spans.append((name, d["starts_at"], d["ends_at"], "shift", f"{d['shift_id']}"))
    tb = action.terminal_before
    if tb:
        end = tb.get("ended_at") or tb["started_at"]
        spans.append(
            (
                f"{label('session', lang)} {tb['session_id']} ({tb['agent_id']})",
                tb["started_at"],
                end,
                "other",
                tb["device_id"] or "",
            )
        )
    s = action.session
    if s:
        end = s.get("ended_at") or at
        spans.append(
            (
                f"{label('session', lang)} {s['session_id']} ({s['agent_id']})",
                s["started_at"],
                end,
                "this",
                s.get("device_id") or "",
            )
        )
    times = [at] + [a for _, a, _, _, _ in spans] + [b for _, _, b, _, _ in spans]
    t0 = min(times) - timedelta(minutes=30)
    t1 = max(times) + timedelta(minutes=30)
    # whole hours
    t0 = t0.astimezone(zone).replace(minute=0, second=0, microsecond=0)
    t1 = t1.astimezone(zone).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    left, right, top, row = 230.0, 960.0, 30.0, 24.0
    rows = len(spans) + 2
    height = top + row * rows + 40
    out = [
        f'<svg viewBox="0 0 1000 {height:.0f}" role="img" class="chart" '
        f'aria-label="{escape(action.event_id)}">'
    ]
    outlet = action.outlet or {}
    if outlet.get("opens") and outlet.get("closes"):
        day = at.astimezone(zone).date()
        o = datetime.combine(day, datetime.strptime(outlet["opens"], "%H:%M").time(), zone)
        c = datetime.combine(day, datetime.strptime(outlet["closes"], "%H:%M").time(), zone)
        a, b = max(o, t0), min(c, t1)
        if a < b:
            x0, x1 = _x(a, t0, t1, left, right), _x(b, t0, t1, left, right)
            out.append(
                f'<rect x="{x0:.1f}" y="{top - 10}" width="{x1 - x0:.1f}" height="{row * rows:.0f}" class="open">'
                f"<title>{escape(label('outlet_open', lang))} {outlet['opens']}-{outlet['closes']}</title></rect>"
            )
    out.append(
        f'<text x="{left - 8}" y="{top + 4}" text-anchor="end" class="lane">{escape(outlet.get("name") or e.get("outlet_id") or "")}</text>'
    )
    for i, (name, a, b, cls, title) in enumerate(spans):
        y = top + row * (i + 1)
        x0, x1 = _x(max(a, t0), t0, t1, left, right), _x(min(b, t1), t0, t1, left, right)
        out.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" class="lane">{escape(name)}</text>'
            f'<rect x="{x0:.1f}" y="{y - 7:.1f}" width="{max(2.0, x1 - x0):.1f}" height="14" rx="3" class="{cls}">'
            f"<title>{escape(title)} {escape(local(a, tz))} – {escape(local(b, tz))}</title></rect>"
        )
    y = top + row * (len(spans) + 1)
    x = _x(at, t0, t1, left, right)
    out.append(
        f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" class="lane">{escape(action.event_id)}</text>'
        f'<line x1="{x:.1f}" y1="{top - 10}" x2="{x:.1f}" y2="{y + 8:.1f}" class="act"/>'
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{ALERT}"><title>{escape(local(at, tz))}</title></circle>'
    )
    axis_y = top + row * rows
    out.append(f'<line x1="{left}" y1="{axis_y}" x2="{right}" y2="{axis_y}" class="axis"/>')
    h = t0
    while h <= t1:
        xx = _x(h, t0, t1, left, right)
        out.append(
            f'<text x="{xx:.1f}" y="{axis_y + 16}" text-anchor="middle" class="tick">{h.astimezone(zone):%H:%M}</text>'
        )
        h += timedelta(hours=1 if (t1 - t0) <= timedelta(hours=14) else 2)
    out.append("</svg>")
    return Markup("".join(out))


def graph_data(report: Report) -> tuple[list[dict[str, Any]], list[tuple[str, str, str]]]:
    """Nodes (id, kind, label, column) and edges (a, b, record) of the case."""
    nodes: dict[str, dict[str, Any]] = {}
    edges: list[tuple[str, str, str]] = []

    def node(nid: str, kind: str, text: str, col: int) -> str:
        nodes.setdefault(nid, {"id": nid, "kind": kind, "label": text, "col": col})
        return nid

    def edge(a: str, b: str, rec: str) -> None:
        if (a, b, rec) not in edges:
            edges.append((a, b, rec))

    me = node("sub:" + report.msisdn, "subscriber", report.msisdn, 4)
    for a in report.actions:
        e = a.event
        agent = e.get("agent_id")
        ses = a.session
        if agent:
            uid = node("uid:" + agent, "user_id", f"ID {agent}", 1)
            if a.person:
                edge(node("person:" + agent, "person", a.person, 0), uid, agent)
        sid = node("ses:" + ses["session_id"], "session", ses["session_id"], 2) if ses else None
        if agent and sid and ses:
            edge(uid, sid, ses["session_id"])
        dev = e.get("device_id")
        ip = e.get("source_ip")
        anchor = sid or (("uid:" + agent) if agent else None)
        if dev:
            d = node("dev:" + dev, "terminal", dev, 3)
            if anchor:
                edge(anchor, d, e["event_id"])
        if ip:
            i = node("ip:" + ip, "address", ip, 3)
            if anchor:
                edge(anchor, i, e["event_id"])
        if anchor:
            edge(anchor, me, e["event_id"])
        tb = a.terminal_before
        if tb:
            other = node("uid:" + tb["agent_id"], "user_id", f"ID {tb['agent_id']}", 1)
            s2 = node("ses:" + tb["session_id"], "session", tb["session_id"], 2)
            edge(other, s2, tb["session_id"])
            if tb.get("device_id"):
                edge(
                    s2,
                    node("dev:" + tb["device_id"], "terminal", tb["device_id"], 3),
                    tb["session_id"],
                )
        for s in a.suspects:
            suid = node("uid:" + s["agent_id"], "user_id", f"ID {s['agent_id']}", 1)
            edge(
                node("person:" + s["agent_id"], "suspect", s["person"], 0),
                suid,
                s.get("shift_id") or s["agent_id"],
            )
    b = report.blast_radius
    first = report.actions[0] if report.actions else None
    for c in b.contacts:
        n = node("sub:" + c["msisdn"], "victim", c["msisdn"], 4)
        rec = ", ".join(c["event_ids"][:2])
        if first is None:
            continue
        fe = first.event
        if "by_session" in c["via"] and first.session:
            edge("ses:" + first.session["session_id"], n, rec)
        elif "by_agent" in c["via"] and fe.get("agent_id"):
            edge("uid:" + fe["agent_id"], n, rec)
        elif "by_device" in c["via"] and fe.get("device_id"):
            edge("dev:" + fe["device_id"], n, rec)
        elif "by_source_ip" in c["via"] and fe.get("source_ip"):
            edge("ip:" + fe["source_ip"], n, rec)
    return list(nodes.values()), edges


#: a column of the graph shows at most this many nodes; beyond, the first ones and one node
#: standing for the rest ("and 51 other subscribers")
GRAPH_MAX_NODES = 6


def collapse(
    nodes: list[dict[str, Any]],
    edges: list[tuple[str, str, str]],
    lang: str,
    most: int = GRAPH_MAX_NODES,
) -> tuple[list[dict[str, Any]], list[tuple[str, str, str]]]:
    """The graph with every column of more than ``most`` nodes cut to its first ``most - 1`` and
    one node for the others (its edges are theirs, each drawn once)."""
    cols: dict[int, list[dict[str, Any]]] = {}
    for n in nodes:
        cols.setdefault(n["col"], []).append(n)
    into: dict[str, str] = {}
    kept: list[dict[str, Any]] = []
    for col, members in sorted(cols.items()):
        if len(members) <= most:
            kept += members
            continue
        rest = members[most - 1 :]
        victims = all(n["kind"] == "victim" for n in rest)
        more = {
            "id": f"more:{col}",
            "kind": "more",
            "label": label("more.subscriber" if victims else "more", lang).format(n=len(rest)),
            "col": col,
            "title": ", ".join(n["label"] for n in rest),
        }
        kept += [*members[: most - 1], more]
        into.update({n["id"]: more["id"] for n in rest})
    out: list[tuple[str, str, str]] = []
    seen: set[tuple[str, ...]] = set()
    for a, b, rec in edges:
        moved = a in into or b in into
        a, b = into.get(a, a), into.get(b, b)
        key = (a, b) if moved else (a, b, rec)
        if key not in seen:
            seen.add(key)
            out.append((a, b, rec))
    return kept, out


def graph_svg(report: Report, lang: str) -> Markup:
    """Columns: people, user IDs, sessions, terminals and addresses, subscribers; edges name
    records. A column of more than :data:`GRAPH_MAX_NODES` is collapsed (:func:`collapse`)."""
    nodes, edges = graph_data(report)
    if len(nodes) <= 1:
        return Markup("")
    nodes, edges = collapse(nodes, edges, lang)
    cols: dict[int, list[dict[str, Any]]] = {}
    for n in nodes:
        cols.setdefault(n["col"], []).append(n)
    xs = {0: 80, 1: 270, 2: 470, 3: 670, 4: 880}
    gap = 46
    tallest = max(len(v) for v in cols.values())
    height = 60 + gap * tallest
    pos: dict[str, tuple[float, float]] = {}
    for c, members in cols.items():
        offset = (height - gap * len(members)) / 2 + gap / 2
        for i, n in enumerate(members):
            pos[n["id"]] = (xs[c], offset + i * gap)
    heads = ["person", "user_id", "session", "terminal", "subscriber"]
    out = [
        f'<svg viewBox="0 0 1000 {height + 20:.0f}" role="img" class="chart" '
        f'aria-label="{escape(label("graph", lang))}">'
    ]
    for c, key in enumerate(heads):
        out.append(
            f'<text x="{xs[c]}" y="16" text-anchor="middle" class="head">{escape(label(key, lang))}</text>'
        )
    for a, b, rec in edges:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        out.append(
            f'<line x1="{x1}" y1="{y1:.1f}" x2="{x2}" y2="{y2:.1f}" class="edge"><title>{escape(rec)}</title></line>'
        )
    for n in nodes:
        x, y = pos[n["id"]]
        w = max(70, 7.2 * len(n["label"]) + 16)
        title = f"<title>{escape(n['title'])}</title>" if n.get("title") else ""
        out.append(
            f'<g class="node {n["kind"]}">{title}<rect x="{x - w / 2:.1f}" y="{y - 13:.1f}" width="{w:.1f}" height="26" rx="13"/>'
            f'<text x="{x}" y="{y + 4:.1f}" text-anchor="middle">{escape(n["label"])}</text></g>'
        )
    out.append("</svg>")
    return Markup("".join(out))


def report_path(home: Path, report: Report, lang: str) -> Path:
    """Where a report's HTML page goes under a jejak home when no other path is given (the
    customer's page beside the staff's, ``<name>.customer.<lang>.html``).

    The name is made of data (the number and the complaint's ticket), so it is
    made safe first: only letters, digits, ``-``, ``_`` and ``.`` are kept, and
    the page always lands directly in ``<home>/reports/``, whatever the data holds.

    >>> from types import SimpleNamespace as NS
    >>> report_path(Path("h"), NS(msisdn="6281100000001", complaint_id="x/../../PWNED"), "en")
    PosixPath('h/reports/6281100000001-x_.._.._PWNED.en.html')
    """
    name = _file_part(report.msisdn) + (
        f"-{_file_part(report.complaint_id)}" if report.complaint_id else ""
    )
    if getattr(report, "audience", None) is not None and report.audience.customer:
        name += ".customer"
    return home / "reports" / f"{name}.{lang}.html"


def forget_reports(home: Path, msisdn: str) -> int:
    """Delete the HTML reports under ``<home>/reports/`` that name ``msisdn`` (for erasure)."""
    gone = 0
    for page in sorted((home / "reports").glob("*")):
        if page.is_file() and (msisdn in page.name or msisdn.encode() in page.read_bytes()):
            page.unlink()
            gone += 1
    return gone


def _file_part(value: str) -> str:
    """``value`` as part of a file name: no separator, no dot-dot, no control, at most 80
    characters."""
    kept = re.sub(r"[^0-9A-Za-z._-]", "_", value)[:80].strip(".")
    return kept or "_"


def write_html(report: Report, path: Path, lang: str) -> Path:
    """Write the report's HTML page to ``path`` (atomically: a half-written page is never left)."""
    fsio.write_atomic(path, render_html(report, lang).encode("utf-8"), mkdir=True)
    return path


def staff_records(report: Report) -> list[dict[str, Any]]:
    """The sessions and shifts the evidence cites (they are not the subscriber's records, so the
    chronology has no row for them): one row each, for the staff's page to link to."""
    people: dict[str, str] = {}
    for a in report.actions:
        if a.person and a.event.get("agent_id"):
            people[str(a.event["agent_id"])] = a.person
        for d in [*a.on_duty, *a.suspects]:
            if d.get("person"):
                people[str(d["agent_id"])] = d["person"]
    rows: dict[str, dict[str, Any]] = {}
    for a in report.actions:
        for s in (a.owner_session, a.terminal_before, a.session):
            if s and s.get("session_id") and s["session_id"] not in rows:
                rows[s["session_id"]] = {
                    "record_id": s["session_id"],
                    "kind": "sessions",
                    "agent_id": s.get("agent_id"),
                    "person": people.get(str(s.get("agent_id"))),
                    "starts": s.get("started_at"),
                    "ends": s.get("ended_at"),
                    "where": " · ".join(
                        str(x) for x in (s.get("device_id"), s.get("source_ip")) if x
                    ),
                }
        for sh in [*a.owner_shifts, *a.on_duty]:
            if sh.get("shift_id") and sh["shift_id"] not in rows:
                rows[sh["shift_id"]] = {
                    "record_id": sh["shift_id"],
                    "kind": "shifts",
                    "agent_id": sh.get("agent_id"),
                    "person": people.get(str(sh.get("agent_id"))),
                    "starts": sh.get("starts_at"),
                    "ends": sh.get("ends_at"),
                    "where": sh.get("outlet_id") or (a.outlet or {}).get("outlet_id") or "",
                    "duty": sh.get("duty"),
                }
    return sorted(rows.values(), key=lambda r: (r["kind"], r["record_id"]))


def render_html(report: Report, lang: str = "en") -> str:
    """The whole page, in ``lang`` (``en`` or ``id``), every time in the report's one zone, for
    the report's audience (``report.for_audience("customer")``: the page to hand to the
    subscriber; see :mod:`~jejak.investigate.audience`)."""
    check_lang(lang)
    tpl = _environment().get_template("report.html")
    tz = report.timezone
    customer = report.audience.customer
    own = own_ids(report)
    kept = [] if customer else staff_records(report)
    rows = own | {r["record_id"] for r in kept}
    if not customer:
        rows |= {str(f["alert_id"]) for f in report.findings if f.get("alert_id")}

    def cite(ids: Any) -> Markup:
        """Record ids, each a link to its row where the page has one."""
        ids = [ids] if isinstance(ids, str) else list(ids or [])
        if customer:
            ids = [i for i in ids if i in own]
        said = [
            Markup('<a href="#{}">{}</a>').format(anchor(i), i) if i in rows else escape(i)
            for i in ids
        ]
        return Markup('<span class="ids">{}</span>').format(Markup(", ").join(said))

    def evidence(items: list[Any]) -> list[Any]:
        return customer_evidence(items) if customer else items

    page = tpl.render(
        r=report,
        lang=lang,
        customer=customer,
        names=report.audience.show_staff_names,
        L=lambda key: label(key, lang),
        V=lambda word: value(word, lang),
        zone=f"{zone_name(tz, report.as_of)} ({tz})",
        alert=lambda f: alert_explanation(f, lang),
        t=lambda at, zone=None: local(
            datetime.fromisoformat(at) if isinstance(at, str) else at, tz
        ),
        idr=lambda amount: idr(amount, lang),
        summary=lambda c: chronology_summary(c.kind, lang, customer=customer, **c.params),
        in_short=plain_summary(report, lang) if customer else [],
        verdict_said=plain_verdict(report, lang) if customer else report.verdict.reason(lang),
        timeline=timeline_svg(report, lang, links=True),
        timeline_phone=timeline_svg(report, lang, links=True, width=PHONE_WIDTH),
        evenings=[
            (a, Markup("") if customer else evening_svg(a, report, lang)) for a in report.actions
        ],
        graph=Markup("") if customer else graph_svg(report, lang),
        staff_records=kept,
        cite=cite,
        anchor=anchor,
        evidence=evidence,
        yn=lambda v: label("unknown", lang) if v is None else label("yes" if v else "no", lang),
    )
    return one_zone(page, tz)
