"""Offline HTML for folium maps: every CDN script and stylesheet inlined from ``circles/_vendor``.

A default folium page links about ten JavaScript and CSS files from CDNs; opened without a network it is a blank
page.  :func:`to_offline_html` renders a map with those links replaced by the vendored copies, :func:`save_map`
writes it atomically and refuses map tiles nobody asked for.  Any resource that is not vendored raises
:class:`UnvendoredAssetError`, so a folium upgrade cannot silently bring a CDN back.
:mod:`circles.outputs.webmap` re-exports all of these.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from circles.errors import InputError
from circles.outputs.basemaps import _SHIFTED_TILE_HOSTS, resolve_basemap
from circles.outputs.escaping import escape_html

if TYPE_CHECKING:  # pragma: no cover
    import folium

__all__ = ["UnvendoredAssetError", "find_online_resources", "to_offline_html", "set_page_meta", "tile_urls",
           "save_map"]

log = logging.getLogger(__name__)


class UnvendoredAssetError(InputError):
    """The map links a JS/CSS/image resource on the internet that circles cannot inline."""



_SCRIPT_SRC = re.compile(
    r"""<script\b[^>]*?\bsrc\s*=\s*(["'])(?P<url>[^"']+)\1[^>]*>\s*</script\s*>""", re.I)
_LINK_HREF = re.compile(r"""<link\b[^>]*?\bhref\s*=\s*(["'])(?P<url>[^"']+)\1[^>]*?/?>""", re.I)
# Resources a browser would fetch by itself (links <a href> are not fetched).
_FETCHED = re.compile(
    r"""<(?:script|link|img|iframe|source|embed|object|video|audio|track|input)\b[^>]*?"""
    r"""\b(?:src|href|data|poster|srcset)\s*=\s*\\?["']?\s*(?P<url>(?:https?:)?//[^"'\s>\\]+)""",
    re.I)
_CSS_URL = re.compile(r"""url\(\s*\\?["']?\s*(?P<url>(?:https?:)?//[^"')\\]+)""", re.I)
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*["']?(?P<url>[^"')\s;]+)""", re.I)
_CHARSET = re.compile(r"""<meta[^>]+charset\s*=\s*["']?utf-8""", re.I)


def _is_online(url: str) -> bool:
    return bool(re.match(r"(?:https?:)?//", url.strip(), re.I))


def find_online_resources(html: str) -> list[str]:
    """URLs on the internet a browser would fetch when opening ``html``.

    Looks at ``src``/``href``/``data`` attributes of fetching tags (script, link,
    img, iframe ...) — also inside JavaScript strings, where folium keeps popup
    HTML — and at CSS ``url()``/``@import``.  Tile URL templates given to
    ``L.tileLayer`` are not reported (tiles are opt-in, see :func:`circles.outputs.webmap.offline_map`).

    Parameters
    ----------
    html : str
        A rendered page.

    Returns
    -------
    list of str
        The URLs, each once, in page order.

    Examples
    --------
    >>> find_online_resources('<script src="https://cdn.example.org/leaflet.js"></script><a href="https://osm.org">')
    ['https://cdn.example.org/leaflet.js']
    """
    found = [m.group("url") for m in _FETCHED.finditer(html)]
    found += [m.group("url") for m in _CSS_URL.finditer(html)]
    found += [m.group("url") for m in _CSS_IMPORT.finditer(html) if _is_online(m.group("url"))]
    return list(dict.fromkeys(found))


def _rotate_css(html: str) -> str:
    angles = sorted({int(a) for a in re.findall(r"fa-rotate-(\d{1,3})\b", html)})
    return "".join(f".fa-rotate-{a}{{transform:rotate({a}deg)}}" for a in angles)


def _inline(kind: str, text: str, label: str) -> str:
    tag = "script" if kind == "js" else "style"
    # "</script" inside inlined code would end the element early; "<\/" is equivalent in JS
    # strings/regexes and never occurs in the vendored CSS (checked by the refresh script).
    body = re.sub(rf"</({tag})", r"<\\/\1", text, flags=re.I)
    return f"<{tag}>/* {label} */\n{body}\n</{tag}>"


def to_offline_html(m: folium.Map | Any) -> str:
    """Render ``m`` to one self-contained HTML string that works with no network.

    Every CDN ``<script src>`` / ``<link href>`` folium emits is replaced by the inline
    contents of the vendored copy (``circles/_vendor``, ~1 MB in total).  A
    ``<meta charset="utf-8">`` is ensured so Chinese text displays correctly.

    Parameters
    ----------
    m : folium.Map
        The map (title and language from :func:`set_page_meta` are applied).

    Returns
    -------
    str
        The page.

    Raises
    ------
    UnvendoredAssetError
        The page would still fetch something from the internet: a CDN asset circles
        has not vendored (e.g. a folium plugin, or a folium upgrade that changed a
        version), or a remote image/iframe/stylesheet in user HTML.  The message
        lists the URLs.
    """
    from circles import _vendor

    page = m.get_root().render()
    vendored = _vendor.assets_by_url()
    generated = _vendor.generated_by_url()
    remaining = [u for u in find_online_resources(page) if u not in vendored and u not in generated]
    if remaining:
        raise UnvendoredAssetError(
            "the map would fetch these resources from the internet, so it would not work "
            "offline:\n  " + "\n  ".join(remaining) +
            "\nIf they are JS/CSS a folium plugin (or a folium upgrade) links, avoid the "
            "plugin or vendor them: add a recipe to circles/_vendor/refresh.py and run "
            "`python -m circles._vendor.refresh`.  If they are images, iframes or "
            "stylesheets in your popups, tooltips or legend, remove them.")

    def replace(match: re.Match) -> str:
        url = match.group("url")
        if url in vendored:
            a = vendored[url]
            out = _inline(a["type"], _vendor.read_asset(a["file"]),
                          f"{a['package']} {a['version']} ({a['licence']}), "
                          f"circles/_vendor/{a['file']}, replaces {url}")
            for extra in _vendor.assets_inserted_after(a["name"]):
                out += "\n" + _inline(extra["type"], _vendor.read_asset(extra["file"]),
                                      f"circles/_vendor/{extra['file']}")
            return out
        if url in generated:
            return _inline("css", _rotate_css(page), f"circles: generated, replaces {url}")
        return match.group(0)

    page = _SCRIPT_SRC.sub(replace, page)
    page = _LINK_HREF.sub(replace, page)
    if not _CHARSET.search(page[:1024]):
        page = re.sub(r"<head>", '<head>\n<meta charset="utf-8">', page, count=1, flags=re.I)
    return _page_meta(page, getattr(m, "_circles_title", None), getattr(m, "_circles_lang", None))


def set_page_meta(m: folium.Map | Any, *, title: str | None = None, lang: str | None = None) -> None:
    """Give the saved page a ``<title>`` and ``<html lang>`` (``"zh"`` → ``zh-CN``).

    Parameters
    ----------
    m : folium.Map
    title : str, optional
        The browser tab / bookmark title (plain text; escaped here).
    lang : {"zh", "en"}, optional
        Language of the page's words, for screen readers, spell checkers and fonts.
    """
    if title is not None:
        m._circles_title = str(title)  # type: ignore[union-attr]  # read back by _page_meta
    if lang is not None:
        m._circles_lang = {"zh": "zh-CN", "en": "en"}.get(lang, lang)  # type: ignore[union-attr]


def _page_meta(page: str, title: str | None, lang: str | None) -> str:
    if lang:
        page = re.sub(r"<html(?![^>]*\blang=)([^>]*)>", lambda mo: f'<html lang="{escape_html(lang)}"{mo.group(1)}>',
                      page, count=1, flags=re.I)
    if title and not re.search(r"<title>", page[:4096], flags=re.I):
        page = re.sub(r"<head>", lambda mo: f"<head>\n<title>{escape_html(title)}</title>", page, count=1,
                      flags=re.I)
    return page


_TILE_URL = re.compile(r"""L\.tileLayer\(\s*(["'])(?P<url>[^"']+)\1""")


def tile_urls(html: str) -> list[str]:
    """Tile URL templates of the ``L.tileLayer`` calls in a rendered page.

    Parameters
    ----------
    html : str
        A rendered page.

    Returns
    -------
    list of str
        The URL templates, each once.
    """
    return list(dict.fromkeys(m.group("url") for m in _TILE_URL.finditer(html)))


def save_map(m: folium.Map | Any, path: str | os.PathLike, *,
             allow_tiles: Sequence[str] = ()) -> Path:
    """Write ``m`` as offline HTML (UTF-8) to ``path`` atomically; returns the path.

    See :func:`to_offline_html`.  The parent folder is created if missing.  The page may
    load map tiles only from the URL templates it was built with by
    :func:`circles.outputs.webmap.offline_map` (``tiles=``) or listed in ``allow_tiles``; any other tile
    layer, and any GCJ-02/BD-09 tile host, raises :class:`UnvendoredAssetError` /
    :class:`~circles.outputs.basemaps.BasemapError`.

    Parameters
    ----------
    m : folium.Map
        The map.
    path : str or path-like
        Destination, ending in ``.html`` or ``.htm``.
    allow_tiles : sequence of str
        Further tile URL templates the page may load.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    from circles.outputs.atomic import write_text_atomic

    dest = Path(path)
    if dest.suffix.lower() not in {".html", ".htm"}:
        raise InputError(f"{dest}: a map must be saved with a .html extension")
    html = to_offline_html(m)
    allowed = set(getattr(m, "_circles_tiles", []) or []) | set(allow_tiles)
    tiles = tile_urls(html)
    for url in tiles:
        if _SHIFTED_TILE_HOSTS.search(url):
            resolve_basemap(url)  # raises BasemapError with the explanation
    extra = [u for u in tiles if u not in allowed]
    if extra:
        raise UnvendoredAssetError(
            "the map would load map tiles from the internet that were not asked for:\n  "
            + "\n  ".join(extra) + "\nBuild the map with webmap.offline_map(tiles=...) (CLI: --basemap) "
            "or pass allow_tiles=[...] to save_map; by default circles maps use no tiles.")
    write_text_atomic(dest, html, encoding="utf-8")
    log.debug("wrote %s (%.0f kB)", dest, len(html.encode("utf-8")) / 1024)
    return dest
