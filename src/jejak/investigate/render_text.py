"""The report for a terminal (rich): verdict first, then the actions, hypotheses, remedy, blast
radius, alerts and chronology, every statement with its record ids.

For the customer (``report.for_audience("customer")``) it opens with the plain-language summary
and leaves out what :mod:`~jejak.investigate.audience` keeps from a customer: other subscribers,
alerts, addresses, terminals, sessions, shifts and staff names the policy does not show.

Example::

    >>> print(render_text(report))                        # doctest: +SKIP
    ╭─ Evidence report — 6281100000001 — complaint TCK-2017-0206-0001 ─╮
    ...
"""

from __future__ import annotations

import io

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from jejak.investigate.audience import customer_evidence, own_ids, plain_summary, plain_verdict
from jejak.investigate.i18n import (
    alert_explanation,
    chronology_summary,
    idr,
    label,
    local,
    one_zone,
    value,
    zone_name,
)
from jejak.investigate.report import Evidence, Report
from jejak.terminal import clean, safe


def _yn(value: bool | None, lang: str) -> str:
    if value is None:
        return label("unknown", lang)
    return label("yes", lang) if value else label("no", lang)


def _ids(ids: list[str]) -> str:
    return "[" + ", ".join(ids) + "]"


def _evidence_line(e: Evidence, lang: str, tz: str, ids: list[str] | None = None) -> Text:
    t = Text("• ")
    t.append(clean(one_zone(e.text(lang), tz)))
    t.append(" " + clean(_ids(e.record_ids if ids is None else ids)), style="dim")
    return t


def _session_text(a: object, tz: str) -> str:
    s = getattr(a, "session", None)
    if not s:
        return ""
    end = one_zone(local(s["ended_at"], tz), tz)[-5:] if s.get("ended_at") else "?"
    start = one_zone(local(s["started_at"], tz), tz)
    return f"{s['session_id']} ({s['agent_id']}, {start}–{end}, {s.get('auth') or '?'})"


def render(report: Report, console: Console, lang: str = "en") -> None:
    """Print the report on ``console``, for the report's audience."""
    if report.audience.customer:
        render_customer(report, console, lang)
        return
    L = lambda key: label(key, lang)  # noqa: E731
    tz = report.timezone
    when = lambda at: one_zone(local(at, tz), tz)  # noqa: E731 - one zone, said once (header)
    v = report.verdict
    head = f"{L('title')} — {report.msisdn}"
    if report.complaint_id:
        head += f" — {L('complaint')} {report.complaint_id}"
    liable = L("liable") if v.operator_liable else L("not_liable")
    style = "bold red" if v.operator_liable else "bold green"
    verdict = Text()
    verdict.append(f"{L('verdict')}: ", style="bold")
    verdict.append(L("hyp." + v.hypothesis), style=style)
    verdict.append(f" ({v.hypothesis}) — {liable}\n", style=style)
    verdict.append(clean(one_zone(v.reason(lang), tz)))
    verdict.append("\n" + clean(_ids(v.record_ids)), style="dim")
    verdict.append(
        f"\n{L('as_of')} {when(report.as_of)} · {L('times_in')} {zone_name(tz, report.as_of)} ({tz})",
        style="dim",
    )
    console.print(Panel(verdict, title=safe(head), title_align="left", box=box.ROUNDED))

    r = report.remedy
    rem = Table(box=box.SIMPLE, show_header=False, title=L("remedy"), title_justify="left")
    rem.add_column(style="bold")
    rem.add_column()
    rem.add_row(
        L("refund"), safe(f"{idr(r.refund, lang)} {_ids(r.charge_ids) if r.charge_ids else ''}")
    )
    rem.add_row(L("unbar"), safe(_yn(r.unbar, lang) + (f" ({r.bar_id})" if r.bar_id else "")))
    rem.add_row(L("compensation"), safe(idr(r.compensation, lang)))
    console.print(rem)
    console.print(Text(clean(one_zone(r.reason(lang), tz))))

    for a in report.actions:
        e = a.event
        t = Table(box=box.SIMPLE, show_header=False, padding=(0, 1))
        t.add_column(style="bold", no_wrap=True)
        t.add_column(overflow="fold")
        rows = [
            ("at", when(e["at"])),
            (
                "package",
                f"{value(e.get('action'), lang)} {e.get('package_id') or ''} ({value(e.get('channel'), lang)})",
            ),
            ("user_id", f"{e.get('agent_id') or ''} — {a.person or L('unknown')}"),
            (
                "outlet",
                f"{(a.outlet or {}).get('name') or e.get('outlet_id') or ''} ({e.get('outlet_id') or ''})",
            ),
            (
                "address",
                f"{e.get('source_ip') or ''} — {L('inside_network')}: {_yn(a.inside_outlet_network, lang)}",
            ),
            ("terminal", e.get("device_id") or ""),
            ("session", _session_text(a, tz) or L("none")),
            ("outlet_open", _yn(a.outlet_open, lang)),
            ("owner_on_shift", _yn(a.owner_on_shift, lang)),
            (
                "on_duty",
                ", ".join(
                    f"{d.get('person')} ({d['agent_id']}, {value(d.get('duty'), lang)} {d['shift_id']})"
                    for d in a.on_duty
                )
                or L("none"),
            ),
            ("consent", (a.consent or {}).get("consent_id") or L("none")),
            ("conclusion", f"{L('hyp.' + a.conclusion)} ({a.conclusion})"),
        ]
        for key, cell in rows:
            t.add_row(L(key), safe(cell))
        console.print(
            Panel(
                t, title=f"{L('actions')}: {safe(a.event_id)}", title_align="left", box=box.SQUARE
            )
        )

    for h in report.hypotheses:
        mark = L("supported") if h.supported else L("not_supported")
        body = [Text(f"{L('for')}:", style="green")]
        body += [_evidence_line(e, lang, tz) for e in h.evidence_for] or [Text("  —")]
        body += [Text(f"{L('against')}:", style="red")]
        body += [_evidence_line(e, lang, tz) for e in h.evidence_against] or [Text("  —")]
        console.print(
            Panel(
                Group(*body),
                title=f"{L('hyp.' + h.name)} ({h.name}) — {mark}",
                title_align="left",
                box=box.SQUARE,
                border_style="bold" if h.name == v.hypothesis else "dim",
            )
        )

    b = report.blast_radius
    bt = Table(title=L("blast_radius"), title_justify="left", box=box.SIMPLE_HEAD)
    bt.add_column(L("number"))
    bt.add_column(L("plan"))
    bt.add_column(L("region"))
    bt.add_column(L("event"))
    bt.add_column(L("via"))
    for c in b.contacts:
        bt.add_row(
            safe(c["msisdn"]),
            safe(value(c.get("plan"), lang) or ""),
            safe(c.get("home_region") or ""),
            safe(", ".join(c["event_ids"])),
            safe(", ".join(L(v) for v in c["via"])),
        )
    if not b.contacts:
        bt.add_row(L("none"), "", "", "", "")
    console.print(bt)

    ft = Table(title=L("findings"), title_justify="left", box=box.SIMPLE_HEAD)
    for col in ("alert", "rule", "severity", "summary"):
        ft.add_column(L(col), overflow="fold")
    for f in report.findings:
        ft.add_row(
            safe(f["alert_id"]),
            safe(f["rule"]),
            safe(value(f["severity"], lang)),
            safe(one_zone(alert_explanation(f, lang), tz)),
        )
    if not report.findings:
        ft.add_row(L("none"), "", "", "")
    console.print(ft)

    ct = Table(title=L("chronology"), title_justify="left", box=box.SIMPLE_HEAD)
    # the record id goes after the summary, as in the other sections: some are long (a
    # location's is msisdn@instant) and a column of them would squeeze an 80-column terminal
    ct.add_column(L("at"), no_wrap=True)
    ct.add_column(L("kind"))
    ct.add_column(L("summary"), overflow="fold", ratio=1)
    for entry in report.chronology:
        ct.add_row(
            when(entry.at),
            L("kind." + entry.kind),
            safe(
                f"{one_zone(chronology_summary(entry.kind, lang, **entry.params), tz)} [{entry.record_id}]"
            ),
        )
    console.print(ct)


def render_customer(report: Report, console: Console, lang: str = "en") -> None:
    """The customer's report on ``console``: the summary, the verdict said plainly, the remedy,
    the disputed actions as the case policy lets a customer see them, the hypotheses with the
    evidence a customer may read, and the subscriber's own chronology."""
    L = lambda key: label(key, lang)  # noqa: E731
    tz = report.timezone
    when = lambda at: one_zone(local(at, tz), tz)  # noqa: E731
    own = own_ids(report)
    cited = lambda ids: [i for i in ids if i in own]  # noqa: E731
    v = report.verdict
    head = f"{L('title')} — {report.msisdn}"
    if report.complaint_id:
        head += f" — {L('complaint')} {report.complaint_id}"
    head += f" ({L('audience.customer')})"
    body = Text()
    body.append(f"{L('in_short')}\n", style="bold")
    for i, paragraph in enumerate(plain_summary(report, lang)):
        body.append(("\n\n" if i else "") + clean(one_zone(paragraph, tz)))
    body.append(
        f"\n\n{L('as_of')} {when(report.as_of)} · {L('times_in')} {zone_name(tz, report.as_of)} ({tz})",
        style="dim",
    )
    console.print(Panel(body, title=safe(head), title_align="left", box=box.ROUNDED))

    style = "bold red" if v.operator_liable else "bold green"
    verdict = Text()
    verdict.append(f"{L('verdict')}: ", style="bold")
    verdict.append(L("hyp." + v.hypothesis), style=style)
    verdict.append(
        f" ({v.hypothesis}) — {L('liable') if v.operator_liable else L('not_liable')}\n",
        style=style,
    )
    verdict.append(clean(plain_verdict(report, lang)))
    verdict.append("\n" + clean(_ids(cited(v.record_ids))), style="dim")
    console.print(verdict)

    r = report.remedy
    rem = Table(box=box.SIMPLE, show_header=False, title=L("remedy"), title_justify="left")
    rem.add_column(style="bold")
    rem.add_column()
    rem.add_row(
        L("refund"), safe(f"{idr(r.refund, lang)} {_ids(r.charge_ids) if r.charge_ids else ''}")
    )
    rem.add_row(L("unbar"), safe(_yn(r.unbar, lang) + (f" ({r.bar_id})" if r.bar_id else "")))
    rem.add_row(L("compensation"), safe(idr(r.compensation, lang)))
    console.print(rem)
    console.print(Text(clean(one_zone(r.reason(lang), tz))))

    names = report.audience.show_staff_names
    for a in report.actions:
        e = a.event
        t = Table(box=box.SIMPLE, show_header=False, padding=(0, 1))
        t.add_column(style="bold", no_wrap=True)
        t.add_column(overflow="fold")
        person = f" — {a.person}" if names and a.person else ""
        rows = [
            ("at", when(e["at"])),
            (
                "package",
                f"{value(e.get('action'), lang)} {e.get('package_id') or ''} ({value(e.get('channel'), lang)})",
            ),
            ("user_id", f"{e.get('agent_id') or ''}{person}"),
            ("outlet", f"{(a.outlet or {}).get('name') or e.get('outlet_id') or ''}"),
            ("outlet_open", _yn(a.outlet_open, lang)),
            ("inside_network", _yn(a.inside_outlet_network, lang)),
            ("owner_on_shift", _yn(a.owner_on_shift, lang)),
            ("consent_on_record", _yn(a.consent is not None, lang)),
        ]
        for key, cell in rows:
            t.add_row(L(key), safe(cell))
        console.print(
            Panel(
                t, title=f"{L('actions')}: {safe(a.event_id)}", title_align="left", box=box.SQUARE
            )
        )

    for h in report.hypotheses:
        mark = L("supported") if h.supported else L("not_supported")
        lines = [Text(f"{L('for')}:", style="green")]
        lines += [
            _evidence_line(e, lang, tz, cited(e.record_ids))
            for e in customer_evidence(h.evidence_for)
        ] or [Text("  —")]
        lines += [Text(f"{L('against')}:", style="red")]
        lines += [
            _evidence_line(e, lang, tz, cited(e.record_ids))
            for e in customer_evidence(h.evidence_against)
        ] or [Text("  —")]
        console.print(
            Panel(
                Group(*lines),
                title=f"{L('hyp.' + h.name)} ({h.name}) — {mark}",
                title_align="left",
                box=box.SQUARE,
                border_style="bold" if h.name == v.hypothesis else "dim",
            )
        )

    ct = Table(title=L("chronology"), title_justify="left", box=box.SIMPLE_HEAD)
    ct.add_column(L("at"), no_wrap=True)
    ct.add_column(L("kind"))
    ct.add_column(L("summary"), overflow="fold", ratio=1)
    for entry in report.chronology:
        said = chronology_summary(entry.kind, lang, customer=True, **entry.params)
        ct.add_row(
            when(entry.at),
            L("kind." + entry.kind),
            safe(f"{one_zone(said, tz)} [{entry.record_id}]"),
        )
    console.print(ct)


def render_text(report: Report, *, lang: str = "en", width: int = 110) -> str:
    """The report as plain text (no colour), ``width`` columns wide, for the report's audience."""
    console = Console(file=io.StringIO(), width=width, record=True, color_system=None)
    render(report, console, lang)
    return console.export_text()
