"""Interactive coverage maps: one offline HTML page per analysis.

:func:`coverage_map` turns a :class:`~circles.coverage.CoverageResult` into a
folium map that opens with no network (see :mod:`circles.outputs.webmap`):

* one base layer per circle (a radio button: one circle at a time) holding its
  units coloured by status (palette of :mod:`circles.outputs.palette`: covered green,
  partial amber, uncovered red, no population light grey, off-network purple,
  **no data hatched grey** — never drawn as a failure) and its isochrones;
* a title saying which circle is shown, its rule (threshold, mode, who, the
  document) and the headline share — or "无数据 / no data"; a legend that
  follows the circle shown and the overlays switched on (:mod:`circles.outputs.mapui`);
* hover tooltips (wrapped, one language) and click popups whose text can be
  selected and copied: name, district, population, minutes per category,
  missing categories, the rule;
* facilities by category (Font Awesome icons, one overlay each; off-network ones
  grey), district borders, a light vector street backdrop instead of tiles;
* a collapsed layer control, a metric scale bar, the data attribution
  (© OpenStreetMap contributors (ODbL), WorldPop (CC BY 4.0) when population came
  from rasters) and an info box with the inputs-against-the-area counts.

All user text (names, rules, categories) is HTML-escaped by the
:mod:`circles.outputs.webmap` helpers.  Geometry is simplified in the analysis' own
metric CRS and rounded to 6 decimals (~0.1 m), so the Optics Valley map stays
around 1–2 MB.  The score map of :mod:`circles.scoring` lives in
:mod:`circles.outputs.score_map` and shares this module's palette and furniture.
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

from circles.errors import InputError
from circles.isochrones import circle_isochrones
from circles.outputs import city_map, mapui, webmap
from circles.outputs.maptext import (
    TEXT,
    check_lang,
    circle_is_no_data,
    circle_label,
    district_words,
    fmt_minutes,
    fmt_people,
    fmt_share,
    rule_text,
    translate_missing,
    unit_labels,
)
from circles.outputs.palette import (
    CATEGORY_ICONS,
    CATEGORY_LABELS,
    OFFNET_ICON,
    OTHER_ICON,
    STATUS_COLOURS,
    STATUS_LABELS,
    STATUSES,
    category_colour,
    category_label,
)

if TYPE_CHECKING:  # pragma: no cover
    import folium

__all__ = [
    "STATUS_COLOURS",
    "STATUS_LABELS",
    "CATEGORY_LABELS",
    "CATEGORY_ICONS",
    "coverage_map",
    "save_coverage_map",
    "map_attribution",
]

log = logging.getLogger(__name__)

_TEXT = TEXT
_ISO_DASH = "6 4"
#: Above this many facilities in the map's extent they are drawn as dots (one GeoJSON layer per
#: category) instead of icon markers: each marker is a DOM element and a compiled template.
MANY_FACILITIES: int = 500
OSM_ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"
WORLDPOP_ATTRIBUTION = "WorldPop (CC BY 4.0)"


def _check_lang(lang: str) -> str:  # kept for circles.outputs.figures and older callers
    return check_lang(lang)


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
    if _point_units(result.units):
        # point units (an official list) mark places, not the area: map the whole study area
        minx, miny, maxx, maxy = _study_bounds(result, metric_crs, (minx, miny, maxx, maxy))
    frame = gpd.GeoSeries([box(minx - pad_m, miny - pad_m, maxx + pad_m, maxy + pad_m)], crs=metric_crs)
    return frame.to_crs(4326).iloc[0]


def _point_units(units) -> bool:
    """True when every unit is a point (e.g. community centre points), not an area."""
    return bool(len(units)) and bool(units.geometry.geom_type.isin(["Point", "MultiPoint"]).all())


def _study_bounds(result, metric_crs, bounds) -> tuple[float, float, float, float]:
    """``bounds`` grown to the study area (``result.area``, else the walk network's nodes), metric CRS."""
    import geopandas as gpd

    area = getattr(result, "area", None)
    if area is not None and not getattr(area, "is_empty", True):
        ext = gpd.GeoSeries([area], crs=4326).to_crs(metric_crs).total_bounds
    else:
        net = (getattr(result, "networks", None) or {}).get("walk")
        if net is None or not len(getattr(net, "x", [])):
            return tuple(bounds)
        ext = (float(np.min(net.x)), float(np.min(net.y)), float(np.max(net.x)), float(np.max(net.y)))
    return (min(bounds[0], ext[0]), min(bounds[1], ext[1]), max(bounds[2], ext[2]), max(bounds[3], ext[3]))


def _is_osm_source(source: Any) -> bool:
    text = str(source or "").lower()
    if not text or text == "nan":
        return False
    if text.endswith((".shp", ".gpkg", ".geojson", ".json", ".gdb", ".zip")):
        return False  # a bureau's own road network
    return True  # .osm/.pbf/.graphml files, places downloaded from OSM


def population_from_rasters(result) -> bool:
    """True when the analysis' people came from a raster (many demand points per unit)."""
    demand = getattr(result, "demand", None)
    if demand is None or not getattr(demand, "has_population", False):
        return False
    units = getattr(result, "units", None)
    n = len(units) if units is not None else -1
    unit = np.asarray(getattr(demand, "unit", []))
    return not (unit.size == n and np.array_equal(unit, np.arange(n)))


def map_attribution(result) -> list[str]:
    """Attribution lines the data of ``result`` require (OSM ODbL, WorldPop CC BY 4.0)."""
    out = []
    net = (getattr(result, "data_quality", None) or {}).get("network")
    sources = list(net["source"]) if net is not None and "source" in getattr(net, "columns", []) else []
    fac = getattr(result, "facilities", None)
    osm_fac = fac is not None and "source" in getattr(fac, "columns", []) and \
        bool((fac["source"].astype(str).str.lower() == "osm").any())
    if not sources or any(_is_osm_source(s) for s in sources) or osm_fac:
        out.append(OSM_ATTRIBUTION)
    if population_from_rasters(result):
        out.append(WORLDPOP_ATTRIBUTION)
    return out


def _summary_row(result, cid: str) -> dict:
    summary = getattr(result, "summary", None)
    if summary is None or "circle" not in summary:
        return {}
    rows = summary[summary["circle"] == cid]
    return rows.iloc[0].to_dict() if len(rows) else {}


def _share_line(result, cid: str, lang: str, no_data: bool) -> str:
    t = TEXT[lang]
    if no_data:
        return f"{t['share']}: {t['no_data']}"
    row = _summary_row(result, cid)
    share, pop, cov = row.get("covered_share"), row.get("population"), row.get("covered_population")
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return f"{t['share']}: {t['no_data']}"
    has_pop = bool(getattr(getattr(result, "demand", None), "has_population", True))
    if not has_pop:
        return f"{t['share']}: {fmt_share(share)}" + (" (按单元计)" if lang == "zh" else " (of units)")
    if lang == "zh":
        return f"{t['share']}: {fmt_share(share)}（{fmt_people(pop)} 人中 {fmt_people(cov)} 人）"
    return f"{t['share']}: {fmt_share(share)} ({fmt_people(cov)} of {fmt_people(pop)} people)"


def _input_counts(result, category: str) -> dict | None:
    """The ``dq_inputs`` row of a facility category (contract 3), or ``None``."""
    inputs = (getattr(result, "data_quality", None) or {}).get("inputs")
    if inputs is None or not len(inputs) or "category" not in inputs:
        return None
    rows = inputs[(inputs["input"].astype(str) == "facilities") & (inputs["category"].astype(str) == category)]
    return rows.iloc[0].to_dict() if len(rows) else None


def _why_no_data(result, category: str) -> str:
    """``"absent"`` (none in the input), ``"outside"`` (all outside the study area) or
    ``"off_network"`` (inside, but none reaches the network).
    """
    row = _input_counts(result, category)
    if row is None:
        return "absent"
    total, inside = float(row.get("total") or 0), float(row.get("inside") or 0)
    if total <= 0:
        return "absent"
    return "outside" if inside <= 0 else "off_network"


_WHY_WORDS = {
    "zh": {"absent": "输入中没有{}", "outside": "{}均在研究区外", "off_network": "{}均未接入路网"},
    "en": {"absent": "no {} in the input", "outside": "all {} lie outside the study area",
           "off_network": "no {} reaches the network"},
}


def _no_data_note(result, circle, lang: str) -> str:
    """Why a circle has no data, per category, from ``data_quality["inputs"]``: none in the input
    (``"输入中没有急救站"``) is told apart from all outside the study area (``"…均在研究区外"``) and
    none reaching the network (``"…均未接入路网"``); then ``"：无法判断是否覆盖"``.
    """
    row = _summary_row(result, circle.id)
    listed = [c.strip().removesuffix("(no data)").strip() for c in str(row.get("no_data") or "").split(",")]
    cats = [c for c in listed if c and c != "nan"] or list(circle.categories)
    groups: dict[str, list[str]] = {}
    for c in cats:
        groups.setdefault(_why_no_data(result, c), []).append(category_label(c, lang))
    sep = "、" if lang == "zh" else ", "
    parts = [_WHY_WORDS[lang][why].format(sep.join(words)) for why, words in groups.items()]
    if lang == "zh":
        return "；".join(parts) + "：无法判断是否覆盖"
    return "; ".join(parts) + ": coverage cannot be judged"


def _pick_default(result, ids: list[str]) -> str:
    """Open on the circle the data say most about: no "no data" category, highest share."""
    scored = []
    for k, cid in enumerate(ids):
        row = _summary_row(result, cid)
        if not row or circle_is_no_data(result, cid) or str(row.get("no_data") or "").strip() not in ("", "nan"):
            continue
        scored.append((float(np.nan_to_num(row.get("covered_share", np.nan), nan=-1.0)), -k, cid))
    if scored:
        return max(scored)[2]
    usable = [cid for cid in ids if not circle_is_no_data(result, cid)]
    return (usable or ids)[0]


def _unit_table(frame, result, circle, lang: str, no_data: bool):
    """Display columns of one circle's units: tooltip and popup text, in ``lang``."""
    import geopandas as gpd

    t = TEXT[lang]
    cid = circle.id
    words = STATUS_LABELS[lang]
    status = frame[f"{cid}_status"].astype(object).where(frame[f"{cid}_status"].notna(), "empty")
    if no_data:
        status = pd.Series("no_data", index=frame.index, dtype=object)
    nan = pd.Series(np.nan, index=frame.index)
    pop_col = "population_65plus" if getattr(circle, "population", "all") == "65plus" else "population"
    label, codes = unit_labels(frame)
    disp = pd.DataFrame({
        "label": label,
        "unit_code": codes,
        "district_word": district_words(frame, lang),
        "status_word": [words.get(s, s) for s in status],
        "people": [fmt_people(v) for v in frame.get(pop_col, nan)],
        "minutes": [fmt_minutes(v) for v in frame.get(f"{cid}_minutes", nan)],
        "limit": [fmt_minutes(v) for v in frame.get(f"{cid}_threshold_min", nan)],
        "share": [t["no_data"] if no_data else fmt_share(v) for v in frame.get(f"{cid}_covered_share", nan)],
        "missing": [translate_missing(v, lang) for v in frame.get(f"{cid}_missing", pd.Series("", index=frame.index))],
        "rule": rule_text(circle, lang, getattr(result, "policy", None)),
    }, index=frame.index)
    cat_cols, cat_aliases = [], []
    for cat in circle.categories:
        col = f"{cid}_{cat}_minutes"
        if col in frame:
            disp[f"cat_{cat}"] = [fmt_minutes(v) or ("—" if not no_data else t["no_data"]) for v in frame[col]]
            cat_cols.append(f"cat_{cat}")
            cat_aliases.append(f"{t['to']}{category_label(cat, lang)} ({t['min']})" if lang == "zh"
                               else f"{t['min']} {t['to']} {category_label(cat, lang)}")
    pop_alias = t["population_65plus"] if pop_col != "population" else t["population"]
    tip = (["status_word", "share", "minutes", "people"], [t["status"], t["share"], t["minutes"], pop_alias])
    pop = (["unit_code", "district_word", "status_word", "share", "people", "minutes", "limit"] + cat_cols
           + ["missing", "rule"],
           [t["unit_id"], t["district"], t["status"], t["share"], pop_alias, t["minutes"], t["threshold"]]
           + cat_aliases + [t["missing"], t["rule"]])
    disp["tooltip_html"] = [
        webmap.tooltip_html(row["label"], {a: row[c] for c, a in zip(*tip) if str(row[c]).strip()})
        for row in disp.to_dict("records")]
    disp["popup_html"] = [
        webmap.tooltip_html(row["label"], {a: row[c] for c, a in zip(*pop) if str(row[c]).strip()})
        for row in disp.to_dict("records")]
    gdf = gpd.GeoDataFrame(disp, geometry=frame.geometry.to_numpy(), crs=4326)
    return gdf, status, tip, pop


def _circle_panel(m, result, circle, frame, metric, *, lang: str, visible: bool,
                  isochrone_minutes, simplify_m: float, city: city_map.CityUnits | None = None):
    """One circle's base layer (units + isochrones) with its title and legend HTML.

    With ``city`` (many units) the units are one status image and the isochrones are left out.
    """
    import folium

    t = TEXT[lang]
    cid = circle.id
    cname = circle_label(circle, lang)
    no_data = circle_is_no_data(result, cid)
    group = folium.FeatureGroup(name=webmap.escape_html(cname + (f" ({t['no_data']})" if no_data else "")),
                                overlay=False, show=visible)
    if city is not None:
        city_map.add_status_layer(group, city, cid)
        rows = city_map.legend_rows(city.table["circles"][cid]["status"], lang)
        city_note: str = _no_data_note(result, circle, lang) if no_data else city_map.city_note(lang)
        group.add_to(m)
        title = mapui.title_block(cname, rule_text(circle, lang, getattr(result, "policy", None)),
                                  _share_line(result, cid, lang, no_data))
        return group, title, mapui.legend_block(f"{cname} · {t['units']}", rows, city_note)
    disp, status, tip, pop = _unit_table(frame, result, circle, lang, no_data)
    fill_by_word = {STATUS_LABELS[lang][s]: (mapui.NO_DATA_FILL if s == "no_data" else STATUS_COLOURS[s])
                    for s in STATUSES}

    def style(feature, _cid=cid, _fill=fill_by_word):
        fill = _fill.get(feature["properties"].get("status_word"), STATUS_COLOURS["empty"])
        return {"color": "#555555", "weight": 0.6, "fillColor": fill,
                "fillOpacity": 0.85 if fill == mapui.NO_DATA_FILL else 0.55,
                "className": f"circles-units circles-units-{_cid}"}

    points = _point_units(disp)

    def point_style(feature, _style=style):  # a point unit: a ring in its status colour
        return {**_style(feature), "color": "#222222", "weight": 2, "fill": True, "fillOpacity": 0.9}

    webmap.add_polygons(group, disp, name=f"{cname} · {t['units']}", fields=["status_word"],
                        aliases=[t["status"]], popup_html="popup_html", tooltip_html="tooltip_html",
                        style=point_style if points else style, control=False,
                        point_radius=11 if points else None)
    rows = mapui.status_swatches(pd.unique(status), lang)
    note = _no_data_note(result, circle, lang) if no_data else None
    legend = mapui.legend_block(f"{cname} · {t['units']}", rows, note)

    if not no_data and isochrone_minutes is not False and getattr(result, "node_minutes", None):
        mins = None if isochrone_minutes is True else isochrone_minutes
        iso = circle_isochrones(result, cid, minutes=mins)
        if len(iso):
            iso = _light(iso, metric, simplify_m)
        if len(iso):
            colours = {c: category_colour(c) for c in iso["category"]}
            iso["category"] = iso["category"].astype(str)

            def iso_style(feature, _colour=colours):
                colour = _colour.get(feature["properties"].get("category"), OTHER_ICON[2])
                return {"color": colour, "weight": 2, "dashArray": _ISO_DASH, "fillColor": colour,
                        "fillOpacity": 0.06, "interactive": False, "className": "circles-isochrones"}

            webmap.add_polygons(group, iso[["category", "geometry"]], name=f"{cname} · {t['isochrones']}",
                                fields=["category"], style=iso_style, tooltip=False, control=False)
            iso_rows = [mapui.swatch(colours[c], f"{category_label(c, lang)} {v:g} {t['min']}", kind="outline")
                        for c, v in zip(iso["category"], iso["minutes"])]
            legend += mapui.legend_block(t["isochrones"], iso_rows)
    group.add_to(m)
    rule = rule_text(circle, lang, getattr(result, "policy", None))
    title = mapui.title_block(cname, rule, _share_line(result, cid, lang, no_data))
    return group, title, legend


def _facility_layers(m, result, extent, lang: str, shown: set[str] | None = None) -> list:
    """Facilities within the extent, one overlay per category; returns ``(layer, legend, category)``.

    Only the categories in ``shown`` are switched on when the page opens (default: all).
    """
    import folium

    t = TEXT[lang]
    fac = getattr(result, "facilities", None)
    out: list[tuple[Any, str, str]] = []
    if fac is None or not len(fac):
        return out
    f = fac.to_crs(4326)
    f = f[f.within(extent)]
    offnet_col = "walk_off_network" if "walk_off_network" in f else None
    order = list(CATEGORY_ICONS)
    for category in sorted(pd.unique(f["category"].astype(str)), key=lambda c: order.index(c) if c in order else 99):
        sub = f[f["category"].astype(str) == category].copy()
        word = category_label(category, lang)
        off = sub[offnet_col].astype(bool) if offnet_col else pd.Series(False, index=sub.index)
        sub["category_word"] = word
        sub["offnet_word"] = np.where(off, t["offnet"], "")
        sub["snap_word"] = [f"{v:.0f}" for v in sub["walk_snap_m"]] if "walk_snap_m" in sub else ""
        sub["source_word"] = sub["source"].astype(str) if "source" in sub else ""
        icon_name, colour, hex_colour = CATEGORY_ICONS.get(category, OTHER_ICON)

        def icon(row, _icon=icon_name, _colour=colour):
            is_off = bool(row.get(offnet_col, False)) if offnet_col else False
            return folium.Icon(color=OFFNET_ICON[0] if is_off else _colour, icon=_icon, prefix="fa")

        names = sub["name"] if "name" in sub else sub["category_word"]
        sub["title"] = [n if isinstance(n, str) and n.strip() else word for n in names]
        fields, aliases = ["category_word", "source_word", "snap_word"], [t["category"], t["source"], t["snap"]]
        if off.any():
            fields.append("offnet_word")
            aliases.append(t["status"])
        name = f"{t['facilities']}: {word} ({len(sub)})"
        if len(f) > MANY_FACILITIES:  # one light layer of dots, not thousands of icon markers
            def dot(feature, _fill=hex_colour):
                is_off = bool(feature["properties"].get("offnet_word"))
                colour = OFFNET_ICON[1] if is_off else _fill
                return {"color": colour, "weight": 1, "fillColor": colour, "fillOpacity": 0.9}

            layer: folium.GeoJson | folium.FeatureGroup = webmap.add_polygons(
                m, sub, name=name, label="title", fields=fields, aliases=aliases, popup=True, point_radius=4,
                show=shown is None or category in shown, style=dot)
        else:
            layer = webmap.add_points(m, sub, name=name, label="title", fields=fields, aliases=aliases, icon=icon,
                                      show=shown is None or category in shown)
        rows = [mapui.swatch(hex_colour, f"{word} ({len(sub)})", kind="dot")]
        if off.any():
            rows.append(mapui.swatch(OFFNET_ICON[1], f"{word}: {t['offnet']} ({int(off.sum())})", kind="dot"))
        out.append((layer, mapui.legend_block(None, rows), category))
    return out


def _district_layer(m, result, extent, metric, lang: str):
    """District borders crossing the extent (``None`` when none does)."""
    t = TEXT[lang]
    districts = getattr(result, "districts", None)
    if districts is None or not len(districts):
        return None
    d = districts.to_crs(4326)
    d = d[d.intersects(extent)].copy()
    if not len(d):
        return None
    d["geometry"] = d.geometry.boundary.intersection(extent)  # real borders only
    d = _light(d, metric, 10.0)
    if not len(d):  # the area lies inside one district: no border to draw
        return None
    zones = d["zone"] if "zone" in d else pd.Series(None, index=d.index)
    d["district"] = d["district"].astype(str) if "district" in d else ""
    d["zone_label"] = [t.get(z, z) if isinstance(z, str) else "" for z in zones]
    layer = webmap.add_polygons(m, d, name=t["districts"], label="district", fields=["zone_label"],
                                aliases=[t["zone"]],
                                style={"color": "#444444", "weight": 2.5, "dashArray": "8 4", "fill": False,
                                       "className": "circles-districts"})
    return layer, mapui.legend_block(None, [mapui.swatch("#444444", t["districts"], kind="line")])


def coverage_map(
    result,
    *,
    lang: str = "zh",
    circles: Sequence[str] | None = None,
    show_circle: str | None = None,
    isochrone_minutes: bool | float | Sequence[float] = True,
    tiles: str | None = None,
    basemap: str | None = None,
    facility_extent_m: float = 300.0,
    simplify_m: float = 3.0,
    collapsed: bool = True,
) -> folium.Map:
    """An offline coverage map of an analysis, in one language.

    Parameters
    ----------
    result : CoverageResult
        From :func:`circles.analyze`.
    lang : {"zh", "en"}
        Language of every word on the map (titles, rules, legend, tooltips, popups).
    circles : sequence of str, optional
        Circle ids to draw (default: every circle of the policy).
    show_circle : str, optional
        The circle shown when the page opens; default: of the circles whose
        categories all have data, the one with the highest covered share.  The
        others are radio buttons in the layer control.
    isochrone_minutes : bool, float or sequence of float
        ``True``: per circle, the reached network at the circle's limit for
        each required category; ``False``: none; numbers: those limits instead.
    basemap : str, optional
        An online basemap (``"osm"``, ``"carto-light"`` or an https tile template;
        GCJ-02/BD-09 tiles are refused, see :func:`circles.outputs.webmap.resolve_basemap`).
        Default none: the walk network is drawn as a vector backdrop and the
        page needs no internet at all.  ``tiles`` is the older name.
    facility_extent_m : float
        Facilities, streets and district outlines are drawn within the units'
        extent plus this margin (metres).
    simplify_m : float
        Tolerance (metres) for simplifying polygons before they go into the page.
    collapsed : bool
        Collapse the layer control into a button (default).

    Returns
    -------
    folium.Map
        Save it with :func:`circles.outputs.webmap.save_map` (or :func:`save_coverage_map`).
    """
    import folium

    lang = check_lang(lang)
    t = TEXT[lang]
    chosen = _select_circles(result, circles)
    if not chosen:
        raise InputError("coverage_map: no circle to draw (circles=[])")
    ids = [c.id for c in chosen]
    if show_circle is None:
        show_circle = _pick_default(result, ids)
    elif show_circle not in ids:
        raise InputError(f"show_circle={show_circle!r} is not among the circles drawn: {ids}")
    metric = _metric_crs(result)
    extent = _extent(result, metric, facility_extent_m)
    units = result.units.to_crs(4326)
    bounds = units.total_bounds
    if _point_units(units) or bounds[0] >= bounds[2] or bounds[1] >= bounds[3]:
        bounds = extent.bounds  # point units: open on the study area, not on the points
    m = webmap.offline_map(bounds, tiles=basemap or tiles, prefer_canvas=False, control_scale=True,
                          map_title_space=80)
    mapui.add_page_style(m)

    nets = getattr(result, "networks", None) or {}
    overlays = []
    city = None
    if city_map.use_images(result.units):  # a whole city: images and a click lookup, no streets or isochrones
        no_data = {c.id: circle_is_no_data(result, c.id) for c in chosen}
        city = city_map.city_units(result, chosen, lang, no_data)
        isochrone_minutes = False
    elif "walk" in nets:
        edges = nets["walk"].edges_gdf()
        edges = edges[edges.intersects(extent)]
        if len(edges):
            roads = webmap.add_backdrop(m, edges, name=t["roads"], metric_crs=metric, tolerance_m=2.0)
            overlays.append((roads, mapui.legend_block(None, [mapui.swatch("#8c8c8c", t["roads"], kind="road")])))
    district = _district_layer(m, result, extent, metric, lang)
    if district is not None:
        overlays.append(district)

    frame = _light(units, metric, simplify_m) if city is None else None
    panels = [_circle_panel(m, result, c, frame, metric, lang=lang, visible=c.id == show_circle,
                            isochrone_minutes=isochrone_minutes, simplify_m=simplify_m, city=city) for c in chosen]
    if city is not None:
        city_map.add_click_lookup(m, city, ids, lang)
    iso_toggle = None
    if isochrone_minutes is not False and getattr(result, "node_minutes", None):
        iso_toggle = folium.FeatureGroup(name=webmap.escape_html(t["isochrones"]), show=True)
        iso_toggle.add_to(m)
    # facilities follow the circle shown: its own categories on, the others one click away
    facilities = _facility_layers(m, result, extent, lang, shown=set(result.circle(show_circle).categories))
    overlays += [(layer, legend) for layer, legend, _ in facilities]
    follows = [(layer, [k for k, c in enumerate(chosen) if category in c.categories])
               for layer, _, category in facilities]

    folium.LayerControl(collapsed=collapsed, position="topright").add_to(m)
    mapui.add_panels(m, panels, overlays, legend_title=t["legend"], iso_toggle=iso_toggle, follows=follows,
                     on_top=[district[0]] if district is not None else [])
    dq = getattr(result, "data_quality", None) or {}
    mapui.add_info_box(m, mapui.info_box_html(dq.get("inputs"), lang, notes=list(getattr(result, "assumptions", []) or [])
                                              if lang == "en" else []))
    webmap.add_attribution(m, map_attribution(result))
    head = "服务圈覆盖" if lang == "zh" else "Service-circle coverage"
    webmap.set_page_meta(m, title=f"{head} · {circle_label(result.circle(show_circle), lang)}", lang=lang)
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
        ``isochrone_minutes``, ``basemap`` ...).

    Returns
    -------
    Path
        The written file.
    """
    m = coverage_map(result, lang=lang, **options)
    out = webmap.save_map(m, path)
    log.info("coverage map written to %s (%.1f MB)", out, out.stat().st_size / 1e6)
    return out
