"""Self-contained, offline HTML maps built with folium.

A default folium map links about ten JavaScript and CSS files from CDNs (Leaflet,
jQuery, Bootstrap, Font Awesome, awesome-markers) and an OpenStreetMap tile layer;
opened without a network it is a blank page ("L is not defined").  This module

* builds maps with **no tile layer by default** (:func:`offline_map`); an online
  tile layer is added only when asked for (``tiles="OpenStreetMap"``);
* draws a light vector street backdrop instead (:func:`add_backdrop`);
* writes HTML in which every CDN ``<script src>`` / ``<link href>`` is replaced by the
  inline contents of the copies vendored in ``circles/_vendor`` (:func:`to_offline_html`,
  :func:`save_map`).  A resource URL that is not vendored raises
  :class:`UnvendoredAssetError`, so a folium upgrade cannot silently bring a CDN back.

The map and its layers are built here; the offline page is rendered and saved by
:mod:`circles.outputs.offline_html` and user text is escaped by :mod:`circles.outputs.escaping`.
Both are re-exported, so ``webmap.save_map`` and ``webmap.escape_html`` keep working.

Escaping user text
------------------
folium inserts tooltip and popup text into the page **as HTML** (and inside
JavaScript template literals), and ``GeoJsonTooltip`` / ``GeoJsonPopup`` put feature
property values into ``innerHTML``.  A facility called ``<img src=x onerror=...>``
would run script.  Always build tooltips and popups with :func:`make_tooltip`,
:func:`make_popup` (or :func:`tooltip_html` / :func:`escape_html` yourself), and pass
GeoDataFrames through :func:`escape_properties` before ``folium.GeoJson`` with a
``GeoJsonTooltip``/``GeoJsonPopup`` — :func:`add_polygons` and :func:`add_points` do
this for you.  Field aliases and legend labels are escaped by the helpers too.

Example
-------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> from circles.outputs import webmap
>>> units = gpd.GeoDataFrame({"name": ["水果湖街道"]},
...                          geometry=[box(114.33, 30.54, 114.36, 30.56)], crs=4326)
>>> m = webmap.offline_map(units.total_bounds)
>>> _ = webmap.add_polygons(m, units, name="社区", label="name")
>>> html = webmap.to_offline_html(m)   # or webmap.save_map(m, "map.html")
>>> webmap.find_online_resources(html)
[]
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from circles.errors import InputError
from circles.outputs.basemaps import BASEMAPS, BasemapError, resolve_basemap
from circles.outputs.escaping import escape_html, escape_properties, make_popup, make_tooltip, tooltip_html
from circles.outputs.offline_html import (
    UnvendoredAssetError,
    find_online_resources,
    save_map,
    set_page_meta,
    tile_urls,
    to_offline_html,
)

if TYPE_CHECKING:  # pragma: no cover
    import folium
    import geopandas as gpd
    from branca.element import Figure

__all__ = [
    "UnvendoredAssetError",
    "escape_html",
    "tooltip_html",
    "make_tooltip",
    "make_popup",
    "escape_properties",
    "BASEMAPS",
    "BasemapError",
    "resolve_basemap",
    "offline_map",
    "add_script",
    "add_css",
    "add_attribution",
    "add_backdrop",
    "add_polygons",
    "add_points",
    "legend_html",
    "add_legend",
    "find_online_resources",
    "to_offline_html",
    "set_page_meta",
    "tile_urls",
    "save_map",
]

log = logging.getLogger(__name__)

#: Metric CRS used to simplify backdrop lines when none is given (Wuhan: UTM 50N).
DEFAULT_METRIC_CRS = "EPSG:32650"


# --------------------------------------------------------------------------- the map
def _check_bounds(bounds: Sequence[float]) -> tuple[float, float, float, float]:
    try:
        minx, miny, maxx, maxy = (float(v) for v in bounds)
    except (TypeError, ValueError) as exc:
        raise InputError(f"bounds={bounds!r}: expected (min_lon, min_lat, max_lon, max_lat) "
                         "in degrees, e.g. gdf.to_crs(4326).total_bounds") from exc
    problems = []
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        problems.append("values must be finite numbers (is the layer empty?)")
    else:
        if not (-180 <= minx <= 180 and -180 <= maxx <= 180):
            problems.append("longitudes must lie in [-180, 180]")
        if not (-90 <= miny <= 90 and -90 <= maxy <= 90):
            problems.append("latitudes must lie in [-90, 90] (lon/lat swapped, or "
                            "projected metres instead of degrees?)")
        if minx > maxx or miny > maxy:
            problems.append("min must not exceed max")
    if problems:
        raise InputError(f"bounds={tuple(bounds)!r}: expected (min_lon, min_lat, max_lon, "
                         f"max_lat) in EPSG:4326 degrees; " + "; ".join(problems))
    return minx, miny, maxx, maxy


def offline_map(bounds: Sequence[float] | None = None, *,
                center: Sequence[float] | None = None, zoom: int | None = None,
                tiles: str | None = None, attribution: str | None = None,
                background: str = "#f5f3ef", width: str | int = "100%",
                height: str | int = "100%", map_title_space: int = 0, **map_kwargs: Any) -> folium.Map:
    """A folium map that needs no network: no tile layer unless asked for.

    Parameters
    ----------
    bounds
        ``(min_lon, min_lat, max_lon, max_lat)`` in EPSG:4326 — the order of
        ``GeoDataFrame.total_bounds``.  The map opens fitted to it.
    center, zoom
        ``(lat, lon)`` and zoom level, instead of ``bounds`` (default zoom 13).
    tiles
        ``None`` (default): no basemap, only the vector layers you add (use
        :func:`add_backdrop` for streets).  A basemap name or URL template (see
        :func:`resolve_basemap`; GCJ-02/BD-09 tiles are refused) adds an **online**
        tile layer; the page still opens offline, just without the basemap, and
        :func:`save_map` allows exactly that tile URL.
    attribution
        Attribution of a custom tile URL template (default: its host name).
    background
        CSS colour behind the layers when there is no basemap.
    map_title_space
        Pixels kept free at the top when fitting ``bounds`` (for a title box).
    **map_kwargs
        Passed to :class:`folium.Map` (``min_zoom``, ``max_zoom``, ``prefer_canvas`` ...).
        ``control_scale=True`` adds a metric-only scale bar (never feet/miles).
    """
    import folium

    if center is not None:
        try:
            lat, lon = (float(v) for v in center)
        except (TypeError, ValueError) as exc:
            raise InputError(f"center={center!r}: expected (lat, lon) in degrees") from exc
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InputError(f"center={center!r}: expected (lat, lon) in degrees; "
                             "latitude outside [-90, 90] (lon/lat swapped?)")
        location = [lat, lon]
    elif bounds is not None:
        minx, miny, maxx, maxy = _check_bounds(bounds)
        location = [(miny + maxy) / 2, (minx + maxx) / 2]
    else:
        raise InputError("offline_map: give bounds=(min_lon, min_lat, max_lon, max_lat) "
                         "or center=(lat, lon)")
    metric_scale = bool(map_kwargs.pop("control_scale", False))
    m = folium.Map(location=location, zoom_start=zoom if zoom is not None else 13,
                   tiles=None, width=width, height=height, **map_kwargs)
    online_tiles: list[str] = []  # the online tile URLs this map was built with (see save_map)
    m._circles_tiles = online_tiles  # type: ignore[attr-defined]  # circles' own note on folium's Map
    if tiles is not None:
        if not isinstance(tiles, str):
            raise InputError(f"tiles={tiles!r}: expected None, a basemap name or an URL "
                             "template string")
        url, attr = resolve_basemap(tiles)
        folium.TileLayer(url, attr=attribution or attr, name=url.split("/")[2], control=False,
                         max_zoom=19).add_to(m)
        online_tiles.append(url)
    if bounds is not None and center is None:
        top = int(map_title_space) if map_title_space else 0
        m.fit_bounds([[miny, minx], [maxy, maxx]], padding_top_left=(10, top + 10) if top else None,
                     padding_bottom_right=(10, 10) if top else None)
    if not re.fullmatch(r"#[0-9a-fA-F]{3,8}|[a-zA-Z]+", background):
        raise InputError(f"background={background!r}: expected a CSS colour like '#f5f3ef'")
    _page(m).header.add_child(folium.Element(
        f"<style>.folium-map.leaflet-container{{background:{background};}}</style>"),
        name="circles_background")
    if metric_scale:
        add_script(m, "L.control.scale({metric: true, imperial: false, maxWidth: 150}).addTo(map);")
    return m


def _page(m: folium.Map) -> Figure:
    """The HTML page (branca ``Figure``) a map is drawn in: its head, body and scripts."""
    return cast("Figure", m.get_root())


def add_script(m: folium.Map, body: str) -> folium.MacroElement:
    """Run JavaScript ``body`` after the map's layers are created; ``map`` names the map in it.

    Add it after the layers (and the layer control) it refers to.

    Parameters
    ----------
    m : folium.Map
        The map.
    body : str
        JavaScript statements.

    Returns
    -------
    branca.element.MacroElement
        The element added to ``m``.
    """
    from branca.element import MacroElement
    from jinja2 import Template

    el = MacroElement()
    el._name = "CirclesScript"
    el.body = body  # type: ignore[attr-defined]  # read by the template below
    el._template = Template("{% macro script(this, kwargs) %}(function () {\n"
                            "var map = {{ this._parent.get_name() }};\n{{ this.body }}\n"
                            "})();\n{% endmacro %}")
    el.add_to(m)
    return el


def add_css(m: folium.Map, css: str, *, name: str | None = None) -> None:
    """Add a ``<style>`` block to the page head.

    Parameters
    ----------
    m : folium.Map
        The map.
    css : str
        Style rules (must not contain ``</``).
    name : str, optional
        Element name; adding the same name again replaces the block.
    """
    import folium

    if "</" in css:
        raise InputError("add_css: the CSS must not contain '</'")
    _page(m).header.add_child(folium.Element(f"<style>{css}</style>"), name=name)


def add_attribution(m: folium.Map, texts: Iterable[str]) -> None:
    """Put ``texts`` in Leaflet's attribution control.

    Parameters
    ----------
    m : folium.Map
        The map.
    texts : iterable of str
        Plain text (escaped here); empty ones are skipped.
    """
    items = [escape_html(t) for t in texts if t]
    if items:
        import json

        add_script(m, "map.attributionControl.setPrefix(false);\n"
                      f"{json.dumps(items)}.forEach(function (t) {{ map.attributionControl.addAttribution(t); }});")


def add_backdrop(m: folium.Map, lines: gpd.GeoDataFrame | gpd.GeoSeries, *,
                 name: str = "道路 roads", color: str = "#8c8c8c", weight: float = 0.8,
                 opacity: float = 0.7, tolerance_m: float = 3.0, decimals: int = 6,
                 metric_crs: str | int | None = None, show: bool = True,
                 control: bool = True) -> folium.FeatureGroup:
    """Draw street lines as a thin grey, non-interactive backdrop (instead of tiles).

    The lines are simplified in a metric CRS (Douglas-Peucker, ``tolerance_m`` metres,
    2–5 m keeps street shapes), coordinates are rounded to ``decimals`` places
    (6 ≈ 0.1 m) and everything goes into one multi-polyline with no attributes, so
    the HTML stays small.  Returns the ``FeatureGroup`` (a layer of its own in a
    ``LayerControl`` when ``control`` is true).

    Parameters
    ----------
    lines
        LineStrings / MultiLineStrings with a CRS (any; EPSG:4326 expected).
    metric_crs
        CRS in metres for the simplification; ``None`` = the layer's UTM zone.
    """
    import folium
    import numpy as np
    import shapely

    geoms = lines.geometry if hasattr(lines, "geometry") else lines
    if geoms.crs is None:
        raise InputError("add_backdrop: the lines have no CRS; set it first, "
                         "e.g. lines.set_crs(4326)")
    geoms = geoms[~(geoms.is_empty | geoms.isna())]
    kinds = set(geoms.geom_type.unique())
    if not kinds <= {"LineString", "MultiLineString"}:
        raise InputError(f"add_backdrop: expected LineString geometries, got {sorted(kinds)}")
    if tolerance_m < 0:
        raise InputError(f"add_backdrop: tolerance_m={tolerance_m} must be >= 0 metres")
    if len(geoms):
        crs = metric_crs if metric_crs is not None else geoms.to_crs(4326).estimate_utm_crs()
        simplified = geoms.to_crs(crs).simplify(tolerance_m, preserve_topology=False)
        ll = simplified.to_crs(4326).values
        parts = shapely.get_parts(ll[~shapely.is_empty(ll)])
    else:
        parts = np.empty(0, dtype=object)
    locations = []
    for part in parts:
        xy = np.round(shapely.get_coordinates(part), decimals)
        if len(xy) < 2:
            continue
        keep = np.ones(len(xy), dtype=bool)  # drop repeated points created by rounding
        keep[1:] = np.any(xy[1:] != xy[:-1], axis=1)
        xy = xy[keep]
        if len(xy) >= 2:
            locations.append(xy[:, ::-1].tolist())  # Leaflet wants [lat, lon]
    group = folium.FeatureGroup(name=escape_html(name), show=show, control=control)
    if locations:
        line = folium.PolyLine(locations, color=color, weight=weight, opacity=opacity,
                               smooth_factor=1.0)
        line.options["interactive"] = False  # folium's path_options drops this key
        line.add_to(group)
    group.add_to(m)
    return group


def _style_function(style: Mapping[str, Any] | Callable[[dict], dict]) -> Callable:
    if callable(style):
        return style
    fixed = dict(style)
    return lambda feature: fixed


def add_polygons(m: folium.Map | Any, gdf: gpd.GeoDataFrame, *, name: str,
                 label: str | None = None, fields: Sequence[str] | None = None,
                 aliases: Sequence[str] | None = None,
                 style: Mapping[str, Any] | Callable[[dict], dict] | None = None,
                 popup: bool | Sequence[str] = False, popup_aliases: Sequence[str] | None = None,
                 popup_html: str | None = None, tooltip_html: str | None = None,
                 tooltip: bool = True, show: bool = True,
                 control: bool = True, point_radius: float | None = None) -> folium.GeoJson:
    """Add polygons (or lines) as one GeoJson layer with escaped tooltips.

    ``label`` is shown in bold at the top of the tooltip, then ``fields`` with
    ``aliases`` (all HTML-escaped).  ``style`` is a Leaflet path style dict
    (``{"color": ..., "fillColor": ..., "weight": ..., "fillOpacity": ...}``) or a
    function feature -> dict.  Only the needed columns are written into the HTML.
    ``popup``: ``True`` for a click popup with the tooltip's fields, or a list of
    columns (with ``popup_aliases``) for a longer popup whose text can be selected and copied;
    ``popup_html`` names a column of ready, **already escaped** HTML (built with
    :func:`tooltip_html`) shown as the popup instead; ``tooltip_html`` the same for the tooltip.
    ``m`` may be a map or a layer group.  An empty frame gives an empty layer (no
    tooltip: folium cannot build one without features).  ``point_radius`` (pixels): point
    features are drawn as circle markers of this radius, styled by ``style`` like the polygons
    (without it Leaflet draws its blue pin, which ignores the style).
    """
    import folium

    if gdf.crs is None:
        raise InputError(f"add_polygons({name!r}): the layer has no CRS; set it first")
    cols = ([label] if label else []) + [f for f in (fields or []) if f != label]
    pop_cols = (cols if popup is True else
                ([label] if label else []) + [f for f in popup if f != label] if popup else [])
    missing = [c for c in dict.fromkeys(cols + pop_cols) if c not in gdf.columns]
    if missing:
        raise InputError(f"add_polygons({name!r}): columns {missing} not found; "
                         f"available: {list(gdf.columns)}")
    if aliases is not None and len(aliases) != len(fields or []):
        raise InputError(f"add_polygons({name!r}): {len(aliases)} aliases for "
                         f"{len(fields or [])} fields")
    if popup_aliases is not None and not isinstance(popup, bool) and len(popup_aliases) != len(popup):
        raise InputError(f"add_polygons({name!r}): {len(popup_aliases)} popup aliases for "
                         f"{len(popup)} popup fields")
    keep = list(dict.fromkeys(cols + pop_cols))
    data = escape_properties(gdf[keep + [gdf.geometry.name]].to_crs(4326), keep)
    for html_col in (popup_html, tooltip_html):
        if html_col is not None:
            if html_col not in gdf.columns:
                raise InputError(f"add_polygons({name!r}): HTML column {html_col!r} not found")
            data[html_col] = gdf[html_col].astype(str).to_numpy()
    has_features = len(data) > 0
    tip_aliases = ([""] if label else []) + [escape_html(a) for a in (aliases or fields or [])]
    tip = (folium.GeoJsonTooltip(fields=cols, aliases=tip_aliases, sticky=True, labels=True)
           if cols and tooltip and has_features else None)
    if tooltip_html is not None and tooltip and has_features:
        tip = folium.GeoJsonTooltip(fields=[tooltip_html], labels=False, sticky=True)
    pop = None
    if popup_html is not None and has_features:
        pop = folium.GeoJsonPopup(fields=[popup_html], labels=False, localize=False, max_width=380,
                                  class_name="circles-popup")
    elif pop_cols and has_features:
        if popup is True:
            pop_alias = tip_aliases
        else:
            pop_alias = ([""] if label else []) + [escape_html(a) for a in (popup_aliases or popup or [])]
        pop = folium.GeoJsonPopup(fields=pop_cols, aliases=pop_alias, labels=True, localize=False,
                                  max_width=360, class_name="circles-popup")
    layer = folium.GeoJson(
        data, name=escape_html(name), show=show, control=control,
        style_function=_style_function(style or {"color": "#3366cc", "weight": 1,
                                                  "fillOpacity": 0.35}),
        tooltip=tip, popup=pop,
        marker=folium.CircleMarker(radius=float(point_radius)) if point_radius else None,
    )
    layer.add_to(m)
    return layer


def add_points(m: folium.Map, gdf: gpd.GeoDataFrame, *, name: str, label: str | None = None,
               fields: Sequence[str] | None = None, aliases: Sequence[str] | None = None,
               icon: Callable[[Any], folium.Icon] | None = None, popup: bool = True,
               show: bool = True) -> folium.FeatureGroup:
    """Add point features as markers in one ``FeatureGroup``, with escaped tooltips/popups.

    ``icon`` is an optional function row -> ``folium.Icon`` (awesome-markers; Font
    Awesome "fa" and Bootstrap "glyphicon" icons work offline); default: Leaflet's
    standard marker.
    """
    import folium

    if gdf.crs is None:
        raise InputError(f"add_points({name!r}): the layer has no CRS; set it first")
    cols = list(fields or [])
    missing = [c for c in cols + ([label] if label else []) if c not in gdf.columns]
    if missing:
        raise InputError(f"add_points({name!r}): columns {missing} not found; "
                         f"available: {list(gdf.columns)}")
    if aliases is not None and len(aliases) != len(cols):
        raise InputError(f"add_points({name!r}): {len(aliases)} aliases for {len(cols)} fields")
    pts = gdf.to_crs(4326)
    kinds = set(pts.geom_type.dropna().unique())
    if not kinds <= {"Point"}:
        raise InputError(f"add_points({name!r}): expected Point geometries, got {sorted(kinds)}")
    group = folium.FeatureGroup(name=escape_html(name), show=show)
    names = list(aliases) if aliases is not None else cols
    for _, row in pts.iterrows():
        geom = row[pts.geometry.name]
        if geom is None or geom.is_empty:
            continue
        title = row[label] if label else None
        info = {n: row[c] for n, c in zip(names, cols)}
        folium.Marker(
            [geom.y, geom.x],
            tooltip=make_tooltip(title, info),
            popup=make_popup(title, info) if popup else None,
            icon=icon(row) if icon else None,
        ).add_to(group)
    group.add_to(m)
    return group


_COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20}|rgba?\([0-9.,%\s]+\)|hsla?\([0-9.,%\sdeg]+\)")


def legend_html(items: Iterable[tuple[str, Any]], title: Any = None, *,
                position: str = "bottomright") -> str:
    """A fixed-position legend box: one colour swatch and label per item.

    Parameters
    ----------
    items
        ``(css_colour, label)`` pairs, e.g. ``[("#1a9850", "已覆盖"), ("#d73027", "未覆盖")]``.
        Labels are escaped; colours must be CSS colours (hex, name, rgb(), hsl()).
    position
        ``"bottomright"``, ``"bottomleft"``, ``"topright"`` or ``"topleft"``.
    """
    corners = {"bottomright": "bottom:24px;right:10px", "bottomleft": "bottom:24px;left:10px",
               "topright": "top:10px;right:10px", "topleft": "top:80px;left:10px"}
    if position not in corners:
        raise InputError(f"legend position {position!r}: expected one of {sorted(corners)}")
    rows = []
    for i, item in enumerate(items):
        try:
            colour, label = item
        except (TypeError, ValueError) as exc:
            raise InputError(f"legend item {i} = {item!r}: expected (colour, label)") from exc
        colour = str(colour).strip()
        if not _COLOUR.fullmatch(colour):
            raise InputError(f"legend item {i}: colour {colour!r} is not a CSS colour "
                             "(use '#rrggbb', a colour name, rgb() or hsl())")
        rows.append(
            '<div style="display:flex;align-items:center;margin:2px 0">'
            f'<span style="display:inline-block;width:14px;height:14px;background:{colour};'
            'border:1px solid #555;margin-right:6px;flex:none"></span>'
            f'<span class="circles-legend-label">{escape_html(label)}</span></div>')
    head = (f'<div class="circles-legend-title" style="font-weight:bold;margin-bottom:4px">'
            f'{escape_html(title)}</div>' if title is not None else "")
    return (f'<div class="circles-legend" style="position:fixed;{corners[position]};'
            'z-index:1000;background:rgba(255,255,255,0.92);padding:6px 10px;'
            'border:1px solid #999;border-radius:4px;font:13px/1.35 system-ui,'
            '"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;'
            f'box-shadow:0 1px 4px rgba(0,0,0,.3)">{head}{"".join(rows)}</div>')


def add_legend(m: folium.Map, items: Iterable[tuple[str, Any]], title: Any = None, *,
               position: str = "bottomright") -> folium.Element:
    """Add :func:`legend_html` to the map page.

    Parameters
    ----------
    m : folium.Map
        The map.
    items, title, position
        As for :func:`legend_html`.

    Returns
    -------
    folium.Element
        The element added to the page.
    """
    import folium

    el = folium.Element(legend_html(items, title, position=position))
    _page(m).html.add_child(el)
    return el
