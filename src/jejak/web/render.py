"""Pages and their JSON twins: one Jinja2 environment, autoescaping every value.

A view builds one dict of plain data and hands it to :func:`respond`, which renders the page's
template — or, for ``/<page>.json`` or ``Accept: application/json``, returns the same dict as
JSON — so that what a person sees and what a script reads cannot drift apart.

Autoescaping is on for every template and nothing from an export is ever marked ``|safe``; the
only ``Markup`` a page holds is the investigate report's SVG charts, which escape every text
they draw (:mod:`jejak.investigate.render_html`). Text from an export also has its control
characters (ANSI escapes) and bidirectional overrides made visible by :func:`inert`, so that
a right-to-left override cannot make ``gpj.exe`` read ``exe.jpg``.

Example::

    >>> inert("a\\u202eb\\x1b[31mc")
    'a⟨U+202E⟩b⟨ESC⟩[31mc'
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import ChainableUndefined, Environment, FileSystemLoader, select_autoescape

from jejak.web import i18n

TEMPLATES = Path(__file__).parent / "templates"
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def inert(value: Any) -> str:
    """Text with control characters and bidi overrides shown as visible marks, never acted on."""
    if value is None:
        return ""
    text = str(value)
    text = _BIDI.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", text)
    return _CONTROL.sub(
        lambda m: "⟨ESC⟩" if m.group() == "\x1b" else f"⟨U+{ord(m.group()):04X}⟩", text
    )


def safe_href(url: Any) -> str:
    """A link target from data: only http(s) and relative paths survive; anything else is '#'."""
    text = unicodedata.normalize("NFKC", str(url or "")).strip()
    lowered = re.sub(r"[\s\x00-\x1f]", "", text).lower()
    if lowered.startswith(("http://", "https://", "/")) and not lowered.startswith("//"):
        return text
    return "#"


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["inert"] = inert
    env.filters["href"] = safe_href
    env.globals["when"] = i18n.when
    env.globals["idr"] = i18n.idr
    return env


ENV = _env()


def compile_templates() -> None:
    """Compile every template now (a worker does it before its first request, not during)."""
    for name in ENV.list_templates(filter_func=lambda n: n.endswith(".html")):
        ENV.get_template(name)


def wants_json(request: Request) -> bool:
    if request.url.path.endswith(".json") or request.query_params.get("format") == "json":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def to_json(data: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(_plain(data), status_code=status)


def html(request: Request, template: str, data: dict[str, Any], status: int = 200) -> HTMLResponse:
    """Render ``template`` with ``data`` and the page's frame (language, user, CSRF token, nav)."""
    g = request.state
    lang = getattr(g, "lang", i18n.DEFAULT_LANG)
    current = getattr(g, "current", None)
    ctx = {
        "data": data,
        "lang": lang,
        "_": i18n.gettext_for(lang),
        "ngettext": i18n.ngettext_for(lang),
        "day": lambda d: i18n.day(d, lang),
        "user": getattr(g, "user", None),
        "csrf": current.csrf if current is not None else "",
        "path": request.url.path,
        "query": str(request.url.query),
        "can": getattr(g, "can", lambda view: False),
        "json_url": _json_url(request),
    }
    body = ENV.get_template(template).render(**ctx)
    return HTMLResponse(body, status_code=status)


def _json_url(request: Request) -> str:
    q = request.url.query
    return request.url.path.rstrip("/") + ".json" + (f"?{q}" if q else "")


def respond(request: Request, template: str, data: dict[str, Any], status: int = 200) -> Response:
    """The page, or its JSON twin."""
    if wants_json(request):
        return to_json(data, status)
    return html(request, template, data, status)


def dumps(data: Any) -> str:
    return json.dumps(_plain(data), ensure_ascii=False, sort_keys=True)


def pages(request: Request, page: int, pages: int) -> dict[str, str]:
    """The query strings of the previous and next page of a paged list."""
    from urllib.parse import urlencode

    q = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "lang")]
    return {
        "prev_query": urlencode([*q, ("page", str(max(1, page - 1)))]),
        "next_query": urlencode([*q, ("page", str(min(pages, page + 1)))]),
    }
