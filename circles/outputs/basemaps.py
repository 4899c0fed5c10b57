"""Online basemaps for circles maps: off by default, WGS84 tiles only.

Every circles map draws WGS84 data (OpenStreetMap, WorldPop, users' inputs converted
from GCJ-02/BD-09).  Chinese commercial tiles are drawn in shifted systems — Amap/Gaode
and Tencent in GCJ-02, Baidu in BD-09 — about 500 m off in Wuhan, so they are refused
here by name and by host.
"""

from __future__ import annotations

import re

from circles.errors import InputError

__all__ = ["BASEMAPS", "BasemapError", "resolve_basemap"]


def _escape(text: str) -> str:
    import html

    return html.escape(text, quote=True)


#: Online basemaps circles knows (all Web Mercator tiles of WGS84 data): name -> (URL, attribution).
BASEMAPS: dict[str, tuple[str, str]] = {
    "osm": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            "&copy; OpenStreetMap contributors (ODbL)"),
    "carto-light": ("https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}.png",
                    "&copy; OpenStreetMap contributors (ODbL) &copy; CARTO"),
}
_BASEMAP_ALIASES = {"openstreetmap": "osm", "cartodb positron": "carto-light", "cartodbpositron": "carto-light"}
#: Tile hosts serving GCJ-02 (Amap/Gaode, Tencent) or BD-09 (Baidu) tiles: never under WGS84 data.
_SHIFTED_TILE_HOSTS = re.compile(
    r"autonavi\.com|amap\.com|gaode|map\.qq\.com|gtimg\.com|tencent|bdimg\.com|baidu\.com|"
    r"bdstatic\.com|^(?:gaode|amap|tencent|baidu|qq)$", re.I)


class BasemapError(InputError):
    """An online basemap that circles refuses (shifted Chinese tiles) or does not know."""


def resolve_basemap(name: str) -> tuple[str, str]:
    """``(tile URL template, attribution HTML)`` of an online basemap.

    Parameters
    ----------
    name
        ``"osm"`` (OpenStreetMap standard tiles), ``"carto-light"``, folium's names
        ``"OpenStreetMap"`` / ``"CartoDB positron"``, or an ``https://…{z}/{x}/{y}…`` template.

    Raises
    ------
    BasemapError
        For Amap/Gaode, Tencent and Baidu tiles: they are drawn in GCJ-02 / BD-09,
        about 500 m off the WGS84 data of every circles map; and for names circles
        does not know.
    """
    text = str(name).strip()
    if _SHIFTED_TILE_HOSTS.search(text):
        raise BasemapError(
            f"basemap {text!r}: Amap/Gaode and Tencent tiles are in GCJ-02 and Baidu tiles in BD-09, "
            "shifted about 500 m from the WGS84 coordinates every circles map is drawn in, so every "
            "unit and facility would sit on the wrong street. Use --basemap osm (or carto-light), or "
            "no basemap (the default, fully offline).")
    key = _BASEMAP_ALIASES.get(text.lower(), text.lower())
    if key in BASEMAPS:
        return BASEMAPS[key]
    if re.match(r"https://", text) and all(t in text for t in ("{z}", "{x}", "{y}")):
        host = text.split("/")[2]
        return text, f"basemap &copy; {_escape(host)}"
    raise BasemapError(f"basemap {text!r}: expected one of {sorted(BASEMAPS)} or an https:// tile URL "
                       "template with {z}/{x}/{y} (the default is no basemap: the map works offline)")


