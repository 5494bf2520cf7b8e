"""The HTML report's page (issue 15): collapsible sections, tables that turn into cards, a
timeline whose labels never overlap and that has a legend and labels the deactivation, a graph
that collapses a crowd of subscribers, every cited record linked to its row, and nothing the
workbench's Content-Security-Policy would refuse (no script, no style attribute)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from itertools import combinations, product

import pytest

from jejak.investigate import Report
from jejak.investigate.i18n import LANGS, label
from jejak.investigate.render_html import (
    GRAPH_MAX_NODES,
    PHONE_WIDTH,
    anchor,
    graph_svg,
    lay_out,
    render_html,
    timeline_svg,
)
from jejak.investigate.report import ChronologyEntry

BOX = re.compile(
    r'<rect x="([\d.-]+)" y="([\d.-]+)" width="([\d.]+)" height="([\d.]+)"[^>]*class="markbox"'
    r"/><text[^>]*>([^<]+)</text>"
)
VIEWBOX = re.compile(r'viewBox="0 0 ([\d.]+) ([\d.]+)"')
AUDIENCES = ("staff", "customer")


def boxes(svg: str) -> list[tuple[float, float, float, float]]:
    """The label boxes of a timeline: (left, top, right, bottom)."""
    return list(labelled(svg).values())


def labelled(svg: str) -> dict[str, tuple[float, float, float, float]]:
    """The label boxes of a timeline by their text."""
    return {
        text: (float(x), float(y), float(x) + float(w), float(y) + float(h))
        for x, y, w, h, text in BOX.findall(svg)
    }


def overlapping(bs: list[tuple[float, float, float, float]]) -> list[tuple]:
    return [
        (a, b)
        for a, b in combinations(bs, 2)
        if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
    ]


def within(svg: str, bs: list[tuple[float, float, float, float]]) -> bool:
    w, h = (float(v) for v in VIEWBOX.search(svg).groups())  # type: ignore[union-attr]
    return all(b[0] >= 0 and b[2] <= w and b[1] >= 0 and b[3] <= h for b in bs)


@pytest.mark.parametrize("width", [1000.0, PHONE_WIDTH])
@pytest.mark.parametrize("lang", LANGS)
def test_the_seed_timelines_labels_do_not_overlap(
    dated_report: Report, lang: str, width: float
) -> None:
    svg = str(timeline_svg(dated_report, lang, width=width))
    bs = boxes(svg)
    # the disputed activation, both refunded charges, the complaint, the bar and the deactivation
    assert len(bs) == 6, bs
    assert not overlapping(bs) and within(svg, bs)
    # CH000009 and CH000010 were billed at the same moment: one above the other, not on each other
    nine, ten = labelled(svg)["CH000009"], labelled(svg)["CH000010"]
    assert nine[0] == ten[0] and abs(nine[1] - ten[1]) >= 12


def test_the_deactivation_is_labelled_and_the_legend_explains_the_marks(
    dated_report: Report,
) -> None:
    for lang, width in product(LANGS, (1000.0, PHONE_WIDTH)):
        svg = str(timeline_svg(dated_report, lang, width=width))
        assert f"EV0000175 · {label('legend.ended', lang)}" in svg
        for key in ("legend.cited", "legend.record", "legend.ended", "as_of"):
            assert f">{label(key, lang)}</text>" in svg, key


def test_a_crowded_timeline_stacks_its_labels(dated_report: Report) -> None:
    """Forty refunded charges within two days: every label gets its own place."""
    start = dated_report.chronology[0].at
    charges = [
        ChronologyEntry(
            at=start + timedelta(hours=i),
            kind="charges",
            record_id=f"CH9{i:05d}",
            params={"kind": "package", "amount": "IDR 1", "cycle": "x", "description": ""},
            summary="",
        )
        for i in range(40)
    ]
    crowded = replace(
        dated_report,
        chronology=sorted([*dated_report.chronology, *charges], key=lambda c: c.at),
        remedy=replace(dated_report.remedy, charge_ids=[c.record_id for c in charges]),
    )
    for width in (1000.0, PHONE_WIDTH):
        svg = str(timeline_svg(crowded, "en", width=width))
        bs = boxes(svg)
        assert len(bs) == 44
        assert not overlapping(bs) and within(svg, bs)
        # a lane grows to hold its rows: the lanes below are pushed down, not drawn over
        lanes = [
            float(y) for y in re.findall(r'class="lane">[^<]+</text><line[^>]*y1="([\d.]+)"', svg)
        ]
        assert len(lanes) == 7 and lanes == sorted(lanes)
        # every label sits above its lane's line and below the lane above it
        assert all(b[3] <= max(lanes) for b in bs)


def test_lay_out_puts_overlapping_labels_in_rows() -> None:
    assert lay_out([(100, 50), (100, 50), (200, 50), (130, 50)]) == [0, 1, 0, 2]
    assert lay_out([]) == []


@pytest.mark.parametrize("audience", AUDIENCES)
@pytest.mark.parametrize("lang", LANGS)
def test_every_link_has_its_target_and_every_row_an_anchor(
    dated_report: Report, audience: str, lang: str
) -> None:
    page = render_html(dated_report.for_audience(audience), lang)
    targets = re.findall(r'href="#([^"]+)"', page)
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert targets, "the page cites records"
    assert len(ids) == len(set(ids)), "ids are unique"
    assert set(targets) <= set(ids), set(targets) - set(ids)
    for c in dated_report.chronology:  # every record of the subscriber has its row
        assert f'id="{anchor(c.record_id)}"' in page
    # the verdict's and the remedy's records are links
    cited = dated_report.verdict.record_ids if audience == "staff" else ["EV0000170"]
    for rid in [*cited, *dated_report.remedy.charge_ids, "LA000001"]:
        assert f'href="#{anchor(rid)}"' in page, rid


@pytest.mark.parametrize("audience", AUDIENCES)
def test_sections_collapse_and_tables_become_cards(dated_report: Report, audience: str) -> None:
    page = render_html(dated_report.for_audience(audience), "en")
    assert page.count('<details class="section" open>') >= 5
    assert page.count("<summary><h2>") == page.count('<details class="section"')
    # every cell of a table of rows is named, for the card it becomes on a phone
    for table in re.findall(r'<table class="rows">(.*?)</table>', page, flags=re.S):
        for row in re.findall(r"<tr(?! class=\"head\")[^>]*>(.*?)</tr>", table, flags=re.S):
            cells = re.findall(r"<td([^>]*)>", row)
            assert all("data-label=" in c or "colspan" in c for c in cells), row[:200]
    # a chart scrolls in its own box: the page's body never does
    charts = page.count('<svg viewBox="0 0 1000')
    assert page.count('<div class="figure">') == charts
    assert "overflow-x: auto" in page and "min-width: 760px" in page
    # and the timeline is drawn a second time for a phone, shown instead below 600 px
    assert page.count('class="chart timeline narrow"') == 1
    assert f'<svg viewBox="0 0 {PHONE_WIDTH:.0f} ' in page


@pytest.mark.parametrize("audience", AUDIENCES)
def test_the_page_needs_nothing_a_strict_csp_refuses(dated_report: Report, audience: str) -> None:
    page = render_html(dated_report.for_audience(audience), "id")
    svgs = "".join(re.findall(r"<svg.*?</svg>", page, flags=re.S))
    assert "<script" not in page.lower()
    assert not re.search(r"\son[a-z]+=", page), "no event handler attribute"
    assert not re.search(r'\sstyle="', page), "no style attribute (the workbench embeds the charts)"
    assert svgs and "javascript:" not in page


def graph_with(report: Report, subscribers: int) -> Report:
    contacts = [
        {
            "msisdn": f"62811009{i:05d}",  # not the seed subscriber's own
            "event_ids": [f"EV9{i:06d}"],
            "via": ["by_agent"],
            "plan": "prepaid",
            "home_region": "Jatim",
            "status": "active",
        }
        for i in range(subscribers)
    ]
    return replace(report, blast_radius=replace(report.blast_radius, contacts=contacts))


@pytest.mark.parametrize("lang", LANGS)
def test_a_graph_of_56_subscribers_collapses(dated_report: Report, lang: str) -> None:
    svg = str(graph_svg(graph_with(dated_report, 56), lang))
    victims = re.findall(r'<g class="node victim">', svg)
    more = re.findall(r'<g class="node more">.*?<text[^>]*>([^<]+)</text>', svg)
    # the subscriber of the report, the first others, and one node for the rest
    assert 1 + len(victims) + len(more) <= GRAPH_MAX_NODES
    shown = len(victims)
    assert shown >= 3 and more == [label("more.subscriber", lang).format(n=56 - shown)], more
    # the others are named in the collapsed node's tooltip, and each of their edges drawn once
    assert "6281100900055" in svg.split('class="node more"')[1]
    assert svg.count('class="edge"') < 20


def test_a_small_graph_is_drawn_whole(dated_report: Report) -> None:
    svg = str(graph_svg(graph_with(dated_report, GRAPH_MAX_NODES - 1), "en"))
    assert svg.count('<g class="node victim">') == GRAPH_MAX_NODES - 1
    assert 'class="node more"' not in svg
