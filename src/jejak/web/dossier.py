"""The customer's dossier as a PDF (WeasyPrint): the case page's data rendered by
``templates/customer/dossier.html`` with ``static/dossier.css`` — the timeline, the evidence
summary and every entry's receipt in full, for the regulator or the consumer dispute board."""

from __future__ import annotations

from pathlib import Path

STYLE = Path(__file__).parent / "static" / "dossier.css"


def render_pdf(html: str) -> bytes:
    """The PDF of ``html`` (no network access: the stylesheet is read from the package)."""
    from weasyprint import CSS, HTML

    def no_fetch(url: str, *args: object, **kwargs: object) -> dict[str, object]:
        raise ValueError(f"the dossier fetches nothing ({url[:60]})")

    pdf = HTML(string=html, url_fetcher=no_fetch).write_pdf(stylesheets=[CSS(filename=str(STYLE))])
    assert pdf is not None
    return bytes(pdf)
