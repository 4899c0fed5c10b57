"""Interactive coverage maps: one offline HTML page per analysis.

:func:`coverage_map` turns a :class:`~circles.coverage.CoverageResult` into a
folium map that opens with no network (see :mod:`circles.webmap`):

* per circle, a toggleable layer of neighbourhood units coloured by status
  (covered green, partial amber, uncovered red, no population grey,
  off-network purple) with tooltips — name, population, minutes, covered
  share, missing categories and the rule cited; only the first circle's units
  are shown when the page opens, the others are one click away;
* per circle, a layer of isochrones: the network reached within the circle's
  limit of the nearest facility of each required category (drawn from the
  analysis' own per-node minutes, :func:`circles.isochrones.reach_polygon`);
* facilities by category with distinct Font Awesome icons, each category a
  layer of its own (facilities off the walk network in grey);
* district outlines, a light vector street backdrop instead of map tiles, a
  legend, and every label in Chinese (``lang="zh"``) or English (``"en"``).

All user text (names, rules, categories) is HTML-escaped by the
:mod:`circles.webmap` helpers.  Geometry is simplified in the network's metric
CRS and rounded to 6 decimals (~0.1 m), so the Optics Valley map stays around
1–2 MB.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import webmap
from .errors import InputError
from .isochrones import circle_isochrones

if TYPE_CHECKING:  # pragma: no cover
    import folium

__all__ = [
    "STATUS_COLOURS",
    "STATUS_LABELS",
    "CATEGORY_LABELS",
    "CATEGORY_ICONS",
    "coverage_map",
    "save_coverage_map",
]

log = logging.getLogger(__name__)

LANGS = ("zh", "en")

#: Fill colour per coverage status.
STATUS_COLOURS: dict[str, str] = {
    "covered": "#1a9850",
    "partial": "#f6a623",
    "uncovered": "#d73027",
    "empty": "#bdbdbd",
    "off_network": "#7b3294",
}
#: Status words per language.
STATUS_LABELS: dict[str, dict[str, str]] = {
    "zh": {"covered": "已覆盖", "partial": "部分覆盖", "uncovered": "未覆盖",
           "empty": "无人口", "off_network": "路网外"},
    "en": {"covered": "covered", "partial": "partly covered", "uncovered": "not covered",
           "empty": "no population", "off_network": "off the network"},
}
#: Category names (zh, en).
CATEGORY_LABELS: dict[str, tuple[str, str]] = {
    "grocery": ("菜市场/超市", "grocery"),
    "primary_care": ("社区卫生/诊所", "primary care"),
    "pharmacy": ("药店", "pharmacy"),
    "kindergarten": ("幼儿园", "kindergarten"),
    "primary_school": ("小学", "primary school"),
    "middle_school": ("初中", "middle school"),
    "culture": ("文化设施", "culture"),
    "sports": ("体育设施", "sports"),
    "public_space": ("公园广场", "parks and squares"),
    "ambulance_station": ("急救站", "ambulance station"),
    "elderly_care": ("养老设施", "elderly care"),
}
#: Font Awesome icon and awesome-markers colour per category, and the hex of that colour.
CATEGORY_ICONS: dict[str, tuple[str, str, str]] = {
    "grocery": ("basket-shopping", "orange", "#f69730"),
    "primary_care": ("house-medical", "red", "#d63e2a"),
    "pharmacy": ("pills", "lightred", "#ff8e7f"),
    "kindergarten": ("child", "pink", "#ff91ea"),
    "primary_school": ("school", "blue", "#38aadd"),
    "middle_school": ("graduation-cap", "darkblue", "#0067a3"),
    "culture": ("book", "purple", "#d252b9"),
    "sports": ("futbol", "cadetblue", "#436978"),
    "public_space": ("tree", "green", "#72b026"),
    "ambulance_station": ("truck-medical", "darkred", "#a23336"),
    "elderly_care": ("person-cane", "darkpurple", "#5b396b"),
}
_OTHER_ICON = ("location-dot", "black", "#303030")
_OFFNET_COLOUR = ("lightgray", "#a3a3a3")
#: Outline colour per category for isochrones (same hue as the markers).
_ISO_DASH = "6 4"

_TEXT = {
    "zh": {
        "units": "单元", "isochrones": "等时圈", "facilities": "设施", "districts": "行政区",
        "roads": "步行路网", "name": "名称", "population": "人口", "population_65plus": "65岁以上人口",
        "minutes": "时间(分钟)", "share": "覆盖率", "status": "状态", "missing": "缺少",
        "rule": "依据", "category": "类别", "source": "来源", "offnet": "路网外(未计入)",
        "district": "区", "zone": "区类型", "legend": "图例", "min": "分钟", "reach": "可达范围",
        "none": "无", "snap": "距路网(米)", "central": "中心城区", "new_urban": "新城区",
        "threshold": "阈值(分钟)", "no_data": "无数据",
    },
    "en": {
        "units": "units", "isochrones": "isochrones", "facilities": "facilities",
        "districts": "districts", "roads": "walk network", "name": "name", "population": "population",
        "population_65plus": "population 65+", "minutes": "minutes", "share": "covered share",
        "status": "status", "missing": "missing", "rule": "rule", "category": "category",
        "source": "source", "offnet": "off the network (not counted)", "district": "district",
        "zone": "zone", "legend": "Legend", "min": "min", "reach": "reach", "none": "none",
        "snap": "to network (m)", "central": "central", "new_urban": "new urban",
        "threshold": "limit (min)", "no_data": "no data",
    },
}


# --------------------------------------------------------------------------- helpers

def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise InputError(f"lang={lang!r}: expected 'zh' (Chinese) or 'en' (English)")
    return lang


def category_label(category: str, lang: str) -> str:
    """A category id in words (``"public_space"`` → ``"公园广场"`` / ``"parks and squares"``)."""
    zh, en = CATEGORY_LABELS.get(category, (category, category))
    return zh if lang == "zh" else en


def circle_label(circle, lang: str) -> str:
    return (circle.name_zh or circle.name_en) if lang == "zh" else circle.name_en


def _select_circles(result, circles: Sequence[str] | None) -> list:
    all_ids = [c.id for c in result.policy.circles]
    if circles is None:
        return list(result.policy.circles)
    if isinstance(circles, str):
        circles = [circles]
    unknown = [c for c in circles if c not in all_ids]
    if unknown:
        raise InputError(f"circles={list(circles)!r}: unknown circle(s) {unknown}; this result has "
                         f"{all_ids}")
    return [result.circle(c) for c in circles]


def _metric_crs(result):
    nets = getattr(result, "networks", None) or {}
    net = nets.get("walk") or next(iter(nets.values()), None)
    if net is not None:
        return net.crs
    return result.units.to_crs(4326).estimate_utm_crs()


def _light(gdf, metric_crs, tolerance_m: float, decimals: int = 6):
    """Simplify in metres, back to EPSG:4326, round coordinates; drops empty rows."""
    import shapely

    out = gdf.to_crs(metric_crs)
    geoms = out.geometry.to_numpy()
    if tolerance_m > 0:
        geoms = shapely.simplify(geoms, tolerance_m, preserve_topology=True)
    out = out.set_geometry(list(geoms), crs=metric_crs).to_crs(4326)
    rounded = shapely.set_precision(out.geometry.to_numpy(), 10.0 ** -decimals, mode="valid_output")
    out = out.set_geometry(list(rounded), crs=4326)
    return out[~(out.geometry.isna() | out.geometry.is_empty)]


def _extent(result, metric_crs, pad_m: float):
    """(polygon in EPSG:4326, bounds) of the units plus ``pad_m`` metres."""
    import geopandas as gpd
    from shapely.geometry import box

    minx, miny, maxx, maxy = result.units.to_crs(metric_crs).total_bounds
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise InputError("coverage_map: the result has no unit geometry to map")
    frame = gpd.GeoSeries([box(minx - pad_m, miny - pad_m, maxx + pad_m, maxy + pad_m)], crs=metric_crs)
    return frame.to_crs(4326).iloc[0]


def _fmt_minutes(v) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{float(v):.1f}"


def _fmt_share(v) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * float(v):.0f}%"


def _fmt_people(v) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{float(v):,.0f}"


def _translate_missing(text: Any, lang: str) -> str:
    """``"kindergarten (no data); grocery"`` → ``"幼儿园(无数据); 菜市场/超市"``."""
    if not isinstance(text, str) or not text.strip():
        return _TEXT[lang]["none"]
    out = []
    for group in text.split(";"):
        group = group.strip()
        cats = []
        for part in group.split("/"):
            part = part.strip()
            no_data = part.endswith("(no data)")
            cid = part.removesuffix("(no data)").strip()
            word = category_label(cid, lang)
            cats.append(f"{word} ({_TEXT[lang]['no_data']})" if no_data else word)
        out.append(" / ".join(cats))
    return "; ".join(out)


# --------------------------------------------------------------------------- the map

def coverage_map(
    result,
    *,
    lang: str = "zh",
    circles: Sequence[str] | None = None,
    show_circle: str | None = None,
    isochrone_minutes: bool | float | Sequence[float] = True,
    tiles: str | None = None,
    facility_extent_m: float = 300.0,
    simplify_m: float = 3.0,
    collapsed: bool = False,
) -> "folium.Map":
    """An offline, bilingual coverage map of an analysis.

    Parameters
    ----------
    result : CoverageResult
        From :func:`circles.analyze`.
    lang : {"zh", "en"}
        Language of layer names, legend, tooltip labels and status words.
    circles : sequence of str, optional
        Circle ids to draw (default: every circle of the policy).
    show_circle : str, optional
        The circle whose units (and isochrones) are visible when the page
        opens; default: of the circles whose categories all have data (none
        "no data"), the one with the highest covered share.  The others are in the layer
        control, switched off, to keep the map readable.
    isochrone_minutes : bool, float or sequence of float
        ``True``: per circle, the reached network at the circle's limit for
        each required category; ``False``: no isochrone layers; numbers: draw
        those limits instead.
    tiles : str, optional
        An online basemap (``"OpenStreetMap"``, ``"CartoDB positron"``); default
        none — the walk network is drawn as a vector backdrop and the page
        needs no internet at all.
    facility_extent_m : float
        Facilities, streets and district outlines are drawn within the units'
        extent plus this margin (metres).
    simplify_m : float
        Tolerance (metres) for simplifying polygons before they go into the page.
    collapsed : bool
        Collapse the layer control into a button.

    Returns
    -------
    folium.Map
        Save it with :func:`circles.webmap.save_map` (or use
        :func:`save_coverage_map`), which inlines every script.
    """
    import folium
    import geopandas as gpd

    lang = _check_lang(lang)
    text = _TEXT[lang]
    words = STATUS_LABELS[lang]
    chosen = _select_circles(result, circles)
    if not chosen:
        raise InputError("coverage_map: no circle to draw (circles=[])")
    ids = [c.id for c in chosen]
    if show_circle is None:
        # open on the circle the data say most about: among circles with no "no data"
        # category, the one with the highest covered share (ties: policy order)
        summary = result.summary.set_index("circle")
        scored = [(float(np.nan_to_num(summary.loc[cid, "covered_share"], nan=-1.0)), -k, cid)
                  for k, cid in enumerate(ids) if cid in summary.index and not summary.loc[cid, "no_data"]]
        show_circle = max(scored)[2] if scored else ids[0]
    elif show_circle not in ids:
        raise InputError(f"show_circle={show_circle!r} is not among the circles drawn: {ids}")
    metric = _metric_crs(result)
    extent = _extent(result, metric, facility_extent_m)
    units = result.units.to_crs(4326)
    m = webmap.offline_map(units.total_bounds, tiles=tiles, prefer_canvas=False, control_scale=True)

    # -- backdrop: the walk network within the extent
    nets = getattr(result, "networks", None) or {}
    if "walk" in nets:
        edges = nets["walk"].edges_gdf()
        edges = edges[edges.intersects(extent)]
        if len(edges):
            webmap.add_backdrop(m, edges, name=text["roads"], metric_crs=metric, tolerance_m=2.0)

    # -- district outlines (clipped to the extent)
    districts = getattr(result, "districts", None)
    if districts is not None and len(districts):
        d = districts.to_crs(4326)
        d = d[d.intersects(extent)].copy()
        if len(d):
            d["geometry"] = d.geometry.boundary.intersection(extent)  # real borders only
            d = d[~(d.geometry.isna() | d.geometry.is_empty)]  # a district holding the whole extent has none
        if len(d):
            d = _light(d, metric, 10.0)
            d["zone_label"] = [text.get(z, z) if isinstance(z, str) else "" for z in d.get("zone", [None] * len(d))]
            webmap.add_polygons(m, d, name=text["districts"], label="district", fields=["zone_label"],
                                aliases=[text["zone"]],
                                style={"color": "#444444", "weight": 2.5, "dashArray": "8 4",
                                       "fill": False, "className": "circles-districts"})

    # -- per circle: units by status, isochrones
    for circle in chosen:
        cid = circle.id
        cname = circle_label(circle, lang)
        visible = cid == show_circle
        frame = _light(units, metric, simplify_m)
        status = frame[f"{cid}_status"].astype(object).fillna("empty")
        pop_col = "population_65plus" if getattr(circle, "population", "all") == "65plus" else "population"
        disp = gpd.GeoDataFrame({
            "label": frame["name"].astype(object) if "name" in frame else frame["unit_id"].astype(object),
            "status_word": [words.get(s, s) for s in status],
            "people": [_fmt_people(v) for v in frame.get(pop_col, pd.Series([np.nan] * len(frame)))],
            "minutes": [_fmt_minutes(v) for v in frame[f"{cid}_minutes"]],
            "limit": [_fmt_minutes(v) for v in frame.get(f"{cid}_threshold_min", pd.Series([np.nan] * len(frame)))],
            "share": [_fmt_share(v) for v in frame[f"{cid}_covered_share"]],
            "missing": [_translate_missing(v, lang) for v in frame[f"{cid}_missing"]],
            "rule": frame[f"{cid}_rule"].astype(object) if f"{cid}_rule" in frame else circle.clause,
        }, geometry=frame.geometry.to_numpy(), crs=4326)

        fill_by_word = {words[s]: c for s, c in STATUS_COLOURS.items()}

        def style(feature, _cid=cid, _fill=fill_by_word):
            word = feature["properties"].get("status_word")
            return {"color": "#555555", "weight": 0.6, "fillColor": _fill.get(word, "#bdbdbd"),
                    "fillOpacity": 0.55, "className": f"circles-units circles-units-{_cid}"}

        webmap.add_polygons(
            m, disp, name=f"{cname} · {text['units']}", label="label",
            fields=["status_word", "people", "minutes", "limit", "share", "missing", "rule"],
            aliases=[text["status"], text["population_65plus"] if pop_col != "population" else text["population"],
                     text["minutes"], text["threshold"], text["share"], text["missing"], text["rule"]],
            style=style, show=visible)

        if isochrone_minutes is not False and getattr(result, "node_minutes", None):
            mins = None if isochrone_minutes is True else isochrone_minutes
            iso = circle_isochrones(result, cid, minutes=mins)
            if len(iso):
                iso = _light(iso, metric, simplify_m)
                iso["category_word"] = [category_label(c, lang) for c in iso["category"]]
                iso["minutes_word"] = [f"{v:g} {text['min']}" for v in iso["minutes"]]

                colour_by_word = {category_label(c, lang): CATEGORY_ICONS.get(c, _OTHER_ICON)[2]
                                  for c in iso["category"]}

                def iso_style(feature, _colour=colour_by_word):
                    colour = _colour.get(feature["properties"].get("category_word"), _OTHER_ICON[2])
                    return {"color": colour, "weight": 2, "dashArray": _ISO_DASH, "fillColor": colour,
                            "fillOpacity": 0.08, "className": "circles-isochrones"}

                webmap.add_polygons(m, iso, name=f"{cname} · {text['isochrones']}", label="category_word",
                                    fields=["minutes_word"], aliases=[text["reach"]],
                                    style=iso_style, show=visible)

    # -- facilities by category, within the extent
    fac = getattr(result, "facilities", None)
    drawn_categories: set[str] = set()
    drawn_offnet = False
    if fac is not None and len(fac):
        f = fac.to_crs(4326)
        f = f[f.within(extent)]
        offnet_col = "walk_off_network" if "walk_off_network" in f else None
        for category in sorted(pd.unique(f["category"].astype(str)),
                               key=lambda c: list(CATEGORY_ICONS).index(c) if c in CATEGORY_ICONS else 99):
            sub = f[f["category"].astype(str) == category].copy()
            drawn_categories.add(category)
            sub["category_word"] = category_label(category, lang)
            sub["offnet_word"] = (np.where(sub[offnet_col].astype(bool), text["offnet"], "")
                                  if offnet_col else "")
            snap_col = "walk_snap_m" if "walk_snap_m" in sub else None
            sub["snap_word"] = [f"{v:.0f}" for v in sub[snap_col]] if snap_col else ""
            sub["source_word"] = sub["source"].astype(str) if "source" in sub else ""
            icon_name, colour, _ = CATEGORY_ICONS.get(category, _OTHER_ICON)

            def icon(row, _icon=icon_name, _colour=colour):
                off = bool(row.get(offnet_col, False)) if offnet_col else False
                return folium.Icon(color=_OFFNET_COLOUR[0] if off else _colour, icon=_icon, prefix="fa")

            names = sub["name"] if "name" in sub else sub["category_word"]
            sub["title"] = [n if isinstance(n, str) and n.strip() else c
                            for n, c in zip(names, sub["category_word"])]
            fields = ["category_word", "source_word", "snap_word"]
            aliases = [text["category"], text["source"], text["snap"]]
            if offnet_col and sub[offnet_col].astype(bool).any():
                drawn_offnet = True
                fields.append("offnet_word")
                aliases.append(text["status"])
            webmap.add_points(m, sub, name=f"{text['facilities']}: {category_label(category, lang)} ({len(sub)})",
                              label="title", fields=fields, aliases=aliases, icon=icon)

    # -- legend and layer control
    items = [(STATUS_COLOURS[s], words[s]) for s in STATUS_COLOURS]
    present = []
    if fac is not None and len(fac):
        present = [c for c in CATEGORY_ICONS if c in drawn_categories]
    items += [(CATEGORY_ICONS[c][2], category_label(c, lang)) for c in present]
    if drawn_offnet:
        items.append((_OFFNET_COLOUR[1], f"{text['facilities']}: {text['offnet']}"))
    title = text["legend"]
    webmap.add_legend(m, items, title=title, position="topleft")
    folium.LayerControl(collapsed=collapsed).add_to(m)
    return m


def save_coverage_map(result, path: str | os.PathLike, *, lang: str = "zh", **options: Any) -> Path:
    """Write :func:`coverage_map` as one self-contained offline HTML file.

    Parameters
    ----------
    result : CoverageResult
    path : path-like
        Destination ending in ``.html`` (written atomically; folders created).
    lang : {"zh", "en"}
    **options
        Passed to :func:`coverage_map` (``circles``, ``show_circle``,
        ``isochrone_minutes``, ``tiles`` ...).

    Returns
    -------
    Path
        The written file.
    """
    m = coverage_map(result, lang=lang, **options)
    out = webmap.save_map(m, path)
    log.info("coverage map written to %s (%.1f MB)", out, out.stat().st_size / 1e6)
    return out
