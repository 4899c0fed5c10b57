"""The page of ``circles serve``: one HTML file with Leaflet, the page's CSS and JavaScript inlined.

``page.html`` is the template, ``page.css`` and ``page.js`` the page's own code; Leaflet comes from the vendored
copy in :mod:`circles._vendor`.  :func:`build_page` puts them together once when the server starts, so the page
needs no other request than the JSON API (no CDN, no tiles: it works with the network cut off).
"""

from __future__ import annotations

import html
import json
from functools import cache
from pathlib import Path

from circles._vendor import read_asset

__all__ = ["PAGE_DIR", "build_page"]

#: The folder of the template and its CSS/JS (package data).
PAGE_DIR = Path(__file__).resolve().parent


@cache
def _read(name: str) -> str:
    return (PAGE_DIR / name).read_text(encoding="utf-8")


def _inline_script(code: str) -> str:
    """JavaScript safe inside ``<script>``: a literal ``</script`` cannot end the element early."""
    return code.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")


def build_page(*, lang: str = "zh", title: str = "") -> bytes:
    """The whole page as UTF-8 bytes.

    Parameters
    ----------
    lang : {"zh", "en"}, default "zh"
        The language the page opens in (it has a toggle).
    title : str, optional
        Shown after the page's name (the policy's name); escaped.

    Returns
    -------
    bytes
    """
    config = json.dumps({"lang": lang}, ensure_ascii=True).replace("<", "\\u003c")
    parts = {
        "{{LANG}}": "zh-CN" if lang == "zh" else "en",
        "{{TITLE}}": html.escape(title),
        "{{LEAFLET_CSS}}": read_asset("leaflet/leaflet.css").replace("</style", "<\\/style"),
        "{{PAGE_CSS}}": _read("page.css"),
        "{{LEAFLET_JS}}": _inline_script(read_asset("leaflet/leaflet.js")),
        "{{CONFIG}}": config,
        "{{PAGE_JS}}": _inline_script(_read("page.js")),
    }
    page = _read("page.html")
    for key, value in parts.items():
        page = page.replace(key, value)
    return page.encode("utf-8")
