"""Which of a user's units belong to the study: inside the area, at one administrative level.

An official list of communities (e.g. Wuhan's 3,412 社区/村 with 197 街道/镇
and 13 区 in one table, told apart by a ``level`` column) mixes levels and
covers a whole city, while a study area is usually smaller.  Used as units
without care, the higher levels would compete with the communities for the
same people and the thousands of units outside the area would all show as
"off network".  :func:`select_units` therefore

1. drops the units that lie **outside the study area** (a point not covered by
   the area, a polygon not intersecting it), counting them and measuring how
   far the nearest one is; when *all* are outside it raises one
   :class:`~circles.errors.InputError` with the likely cause (wrong coordinate
   system — GCJ-02 vs WGS84 is ≈ 550 m in Wuhan — or another city);
2. keeps **one administrative level** when the file has a level column
   (``level``, ``级别``, ``层级``): by default (``level="auto"``) the finest
   level that has a unit inside the area (village/社区/村 before town/街道/镇
   before county/区/县), setting the others aside with a count per level;
   ``level="village"`` (or ``"village,town"``) keeps the named values;
   ``level="all"`` keeps every row.

Every count comes back in a report dict, which :func:`circles.analyze`
prints, states as assumptions and writes to the data-quality sheets.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from circles.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from shapely.geometry.base import BaseGeometry

log = logging.getLogger(__name__)

__all__ = ["LEVEL_COLUMNS", "LEVEL_RANKS", "select_units"]

#: Usual names of an administrative-level column (case-insensitive).
LEVEL_COLUMNS: tuple[str, ...] = ("level", "级别", "层级", "行政级别", "admin_level")

#: Rank of usual level values, finest first (0 = community/village).
LEVEL_RANKS: dict[str, int] = {
    "village": 0, "community": 0, "neighbourhood": 0, "neighborhood": 0, "社区": 0, "村": 0, "社区/村": 0,
    "村级": 0, "社区级": 0, "居委会": 0, "村委会": 0,
    "town": 1, "township": 1, "subdistrict": 1, "street": 1, "街道": 1, "镇": 1, "乡": 1, "乡镇": 1,
    "街道/镇": 1, "乡级": 1,
    "county": 2, "district": 2, "区": 2, "县": 2, "区县": 2, "县级": 2,
    "city": 3, "prefecture": 3, "市": 3, "地级": 3,
    "province": 4, "省": 4, "省级": 4,
}

#: Shift of GCJ-02 against WGS84 (metres) below which a "wrong system" diagnosis is plausible.
_GCJ_SHIFT_MAX_M = 1000.0


def _level_column(units) -> str | None:
    lower = {str(c).strip().lower(): c for c in units.columns}
    return next((lower[n] for n in LEVEL_COLUMNS if n in lower), None)


def _distances_m(units, area, metric) -> np.ndarray:
    """Distance of every unit (its geometry) to the area, metres in ``metric``."""
    geoms = gpd.GeoSeries(units.geometry.to_numpy(), crs="EPSG:4326").to_crs(metric).to_numpy()
    area_m = gpd.GeoSeries([area], crs="EPSG:4326").to_crs(metric).iloc[0]
    return shapely.distance(area_m, geoms)


def _inside(units, area) -> np.ndarray:
    geoms = units.geometry.to_numpy()
    shapely.prepare(area)
    if (shapely.get_type_id(geoms) == 0).all():
        return shapely.covers(area, geoms)
    return shapely.intersects(area, geoms)


def _likely_cause(units, area, nearest_m: float, *, inside_now: int = 0, system: str | None = None) -> str:
    """Why no (or few) units lie inside the area: a wrong coordinate system, another place, or a
    list covering more ground than the study area.  Read the numbers in the other system: if more
    units fall inside, that is the cause.
    """
    from circles.coords import gcj02_to_wgs84, wgs84_to_gcj02

    system = system or units.attrs.get("coordinate_system", "wgs84")
    pts = units.geometry.representative_point()
    x, y = pts.x.to_numpy(), pts.y.to_numpy()
    if system == "wgs84":
        ax, ay = gcj02_to_wgs84(x, y)  # as if the numbers were GCJ-02
        alt, fix = "GCJ-02 (Amap/Tencent) numbers declared as WGS84", "pass --units-crs gcj02 (crs='gcj02')"
    elif system == "gcj02":
        ax, ay = wgs84_to_gcj02(x, y)  # undo the conversion: the numbers as WGS84
        alt, fix = "WGS84 numbers declared as GCJ-02", "pass --units-crs wgs84 (crs='wgs84')"
    else:
        ax = ay = None
    if ax is not None:
        shifted = int(shapely.covers(area, shapely.points(np.asarray(ax, float), np.asarray(ay, float))).sum())
        if shifted > max(inside_now, 0) and shifted > len(units) // 2 or (shifted and not inside_now):
            return (f"wrong coordinate system: {shifted} units would fall inside if the file were "
                    f"{alt} (GCJ-02 vs WGS84 is ≈550 m in Wuhan); {fix}")
    if nearest_m > 20_000:
        return (f"the units are in another place: the nearest is {nearest_m / 1000:,.1f} km from the study area "
                "(another city or district?); use units of the area, or a network/area covering them")
    if inside_now:
        return ("the list covers a larger area than the study area: fine for a city-wide list, else check "
                "the coordinate system (--units-crs)")
    if nearest_m <= _GCJ_SHIFT_MAX_M and system in ("wgs84", "gcj02"):
        return (f"the nearest unit is only {nearest_m:,.0f} m away: check the coordinate system "
                "(GCJ-02 vs WGS84 is ≈550 m in Wuhan; --units-crs) or widen the study area (--area)")
    return (f"no unit lies inside the study area (nearest {nearest_m:,.0f} m): give a network/--area that "
            "covers the units, or units of this area")


def _bounds_text(geom_bounds) -> str:
    return f"lon {geom_bounds[0]:.4f}..{geom_bounds[2]:.4f}, lat {geom_bounds[1]:.4f}..{geom_bounds[3]:.4f}"


def _all_outside_error(units, area, dist, *, source: str, what: str, system: str) -> InputError:
    nearest = float(np.min(dist)) if len(dist) else float("nan")
    cause = _likely_cause(units, area, nearest, system=system)
    return InputError(
        f"{source}: none of the {len(units):,} {what} lies inside the study area ({_bounds_text(area.bounds)}; "
        f"units span {_bounds_text(units.total_bounds)}, nearest {nearest:,.0f} m away). Likely cause: {cause}"
    )


def _level_keep(units, inside, level: str, column: str, *, source: str) -> tuple[np.ndarray, str, str]:
    """Rows to keep by level (among the inside ones), the level kept and a note."""
    values = units[column].fillna("").astype(str).str.strip()
    lower = values.str.lower()
    if level == "auto":
        ranks = lower.map(lambda v: LEVEL_RANKS.get(v, -1)).to_numpy()
        unknown = sorted(set(values[(ranks < 0) & (values != "")]))
        if unknown:
            return np.ones(len(units), bool), "all", (
                f"level column {column!r} has values {unknown[:5]} that are not known levels: every row kept; "
                "choose with --units-level (units_level=)")
        finest = int(ranks[inside & (ranks >= 0)].min()) if (inside & (ranks >= 0)).any() else int(ranks.min())
        chosen = sorted(set(values[ranks == finest]))
        keep = ranks == finest
        note = f"kept level {'/'.join(chosen)} (the finest level with a unit inside the study area)"
        finest_overall = int(ranks[ranks >= 0].min()) if (ranks >= 0).any() else finest
        if finest > finest_overall:
            below = sorted(set(values[ranks == finest_overall]))
            note += (f"; none of the {int((ranks == finest_overall).sum()):,} {'/'.join(below)} rows lies inside "
                     f"the area, so the {'/'.join(chosen)} rows stand in for them (--units-level to choose)")
        return keep, "/".join(chosen), note
    wanted = [v.strip() for v in level.split(",") if v.strip()]
    absent = [v for v in wanted if v.lower() not in set(lower)]
    if absent:
        raise InputError(f"{source}: units_level (CLI --units-level) {absent} not found in column {column!r}; "
                         f"its values are {sorted(set(values) - {''})[:10]}; or use 'auto' or 'all'")
    keep = lower.isin([v.lower() for v in wanted]).to_numpy()
    return keep, "/".join(wanted), f"kept level {'/'.join(wanted)} (--units-level)"


def select_units(units: gpd.GeoDataFrame, area_wgs84: BaseGeometry, *, metric_crs: CRS | str, level: str = "auto",
                 source: str = "units") -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """The units inside the study area, at one administrative level.

    Parameters
    ----------
    units : geopandas.GeoDataFrame
        Units in EPSG:4326 (all points or all polygons), e.g. from
        :func:`circles.load_units`.
    area_wgs84 : shapely geometry
        Study area in EPSG:4326.
    metric_crs : CRS-like
        Projected CRS in metres, for distances.
    level : str, default "auto"
        ``"auto"``: the finest level (village < town < county …) with a unit
        inside the area; ``"all"``: no level filter; otherwise a value (or
        comma-separated values) of the level column, e.g. ``"village"``.
    source : str
        Name of the input for messages.

    Returns
    -------
    units : geopandas.GeoDataFrame
        The kept units (original index).
    report : dict
        ``total`` (units given), ``inside``, ``outside`` (dropped),
        ``nearest_outside_m`` (NaN if none), ``level_column``, ``level_kept``,
        ``set_aside`` (inside the area but of another level) and
        ``set_aside_by_level`` (dict), ``kept``, ``notes`` (list of str),
        ``likely_cause`` (why most lie outside; ``""`` when most are inside).

    Raises
    ------
    InputError
        No unit lies inside the area (with the likely cause), none of the
        requested level does, or the requested level is not in the column.
    """
    if units.crs is None or not CRS.from_user_input(units.crs).equals(CRS.from_epsg(4326)):
        units = units.to_crs("EPSG:4326")
    level = (level or "auto").strip()
    system = units.attrs.get("coordinate_system", "wgs84")
    inside = _inside(units, area_wgs84)
    dist = _distances_m(units, area_wgs84, metric_crs)
    outside = ~inside
    report: dict[str, Any] = {"total": len(units), "inside": int(inside.sum()), "outside": int(outside.sum()),
              "nearest_outside_m": float(dist[outside].min()) if outside.any() else float("nan"),
              "level_column": None, "level_kept": "", "set_aside": 0, "set_aside_by_level": {}, "notes": []}
    column = _level_column(units) if level.lower() != "all" else None
    if not inside.any():
        raise _all_outside_error(units, area_wgs84, dist, source=source, what="units", system=system)
    keep_level = np.ones(len(units), bool)
    if column is not None:
        keep_level, chosen, note = _level_keep(units, inside, level, column, source=source)
        report.update(level_column=column, level_kept=chosen)
        report["notes"].append(note)
        if not (inside & keep_level).any():
            sub = units[keep_level]
            raise _all_outside_error(sub, area_wgs84, dist[keep_level], source=source, what=f"{chosen} rows",
                                     system=system)
        aside = inside & ~keep_level
        report["set_aside"] = int(aside.sum())
        report["set_aside_by_level"] = {str(k): int(v) for k, v in
                                        units.loc[aside, column].fillna("").astype(str).value_counts().items()}
    elif level.lower() not in ("auto", "all"):
        raise InputError(f"{source}: units_level={level!r} (CLI --units-level) needs a level column "
                         f"({', '.join(LEVEL_COLUMNS)}); the file has none — use 'auto' or 'all'")
    kept = units[inside & keep_level]
    report["kept"] = len(kept)
    report["likely_cause"] = (_likely_cause(units[outside], area_wgs84, report["nearest_outside_m"],
                                            inside_now=report["inside"], system=system)
                              if report["outside"] > report["inside"] else "")
    if report["outside"]:
        log.warning("%s: %d of %d units lie outside the study area and were dropped (nearest %.0f m)",
                    source, report["outside"], report["total"], report["nearest_outside_m"])
    if report["set_aside"]:
        log.warning("%s: %d units inside the area set aside as another level (%s)", source,
                    report["set_aside"], report["set_aside_by_level"])
    return kept, report


# ---------------------------------------------------------------- reporting


def report_sentences(report: dict) -> list[str]:
    """The report as sentences for the console and ``result.assumptions``.

    ``report`` is the dict of :func:`select_units`, completed by
    :func:`circles.analyze` with ``source``, ``rows_read``, ``dropped_missing``,
    ``off_network``, ``max_snap_m`` and, with a population raster,
    ``population_allocated`` / ``population_unassigned`` (and 65+),
    ``cells_unassigned``, ``kind`` and ``max_distance_m``.
    """
    name = report.get("source") or "units"
    out = []
    if report.get("dropped_missing"):
        out.append(f"units: {report['dropped_missing']:,} of {report.get('rows_read', 0):,} rows of {name} have no "
                   f"coordinates and were dropped (drop_missing, CLI --drop-missing)")
    if report.get("outside"):
        out.append(f"units: {report['outside']:,} of {report['total']:,} units lie outside the study area and were "
                   f"dropped (nearest {report['nearest_outside_m']:,.0f} m away); {report['inside']:,} inside"
                   + (f" — {report['likely_cause']}" if report.get("likely_cause") else ""))
    for note in report.get("notes", []):
        out.append(f"units: {note}")
    if report.get("set_aside"):
        by = ", ".join(f"{k or '(empty)'} {v:,}" for k, v in report["set_aside_by_level"].items())
        out.append(f"units: {report['set_aside']:,} units inside the area are of another level and were set aside "
                   f"({by})")
    if report.get("off_network"):
        out.append(f"units: {report['off_network']:,} of the {report['kept']:,} units kept lie farther than "
                   f"{report.get('max_snap_m', 0):g} m from the walk network (off network)")
    if "population_allocated" in report:
        rule = (f"each settled raster cell's people go to the nearest unit point within "
                f"{report['max_distance_m']:,.0f} m (units_max_distance_m, CLI --units-max-distance-m)"
                if report.get("kind") == "point" else "each settled raster cell's people go to the unit containing "
                "the cell centre")
        older = (f" (65+: {report['population_65plus_allocated']:,.0f} allocated, "
                 f"{report['population_65plus_unassigned']:,.0f} in no unit)" if report.get("has_65plus", True) else "")
        out.append(f"units: {rule}: {report['population_allocated']:,.0f} persons allocated to units, "
                   f"{report['population_unassigned']:,.0f} in {report['cells_unassigned']:,} cells in no unit"
                   f"{older}; the tables and shares count only people in units")
    return out


#: Chinese descriptions of the rows of ``data_quality["units"]``.
_ZH_ITEMS: dict[str, str] = {
    "source": "来源文件", "rows_read": "读入行数", "dropped_missing": "无坐标而删除的行数", "total": "有位置的单元数",
    "inside": "研究区内单元数", "outside": "研究区外单元数(已删除)", "nearest_outside_m": "最近的区外单元距离(米)",
    "level_column": "行政级别列", "level_kept": "保留的级别", "set_aside": "区内其他级别单元数(未用)",
    "kept": "参与分析的单元数", "off_network": "距步行路网过远的单元数", "max_distance_m": "人口格网分配最大距离(米)",
    "population_allocated": "分配到单元的人口", "population_unassigned": "未分配到单元的人口",
    "population_65plus_allocated": "分配到单元的65岁以上人口", "population_65plus_unassigned": "未分配到单元的65岁以上人口",
    "cells_unassigned": "未分配的人口格网数",
}


def quality_frames(report: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(units_sheet, inputs_row)``: the item/value table for ``data_quality["units"]`` and the
    ``input="units"`` row of ``data_quality["inputs"]`` (shared contract 3).
    """
    import pandas as pd

    items = [
        ("source", "file or object", report.get("source", "")),
        ("rows_read", "rows in the input", report.get("rows_read", report.get("total"))),
        ("dropped_missing", "rows without coordinates dropped (--drop-missing)", report.get("dropped_missing", 0)),
        ("total", "units with a location", report.get("total")),
        ("inside", "inside the study area", report.get("inside")),
        ("outside", "outside the study area (dropped)", report.get("outside")),
        ("nearest_outside_m", "distance of the nearest outside unit (m)", report.get("nearest_outside_m")),
        ("level_column", "administrative level column", report.get("level_column") or ""),
        ("level_kept", "level kept (--units-level)", report.get("level_kept", "")),
        ("set_aside", "inside but of another level (set aside)", report.get("set_aside", 0)),
        ("kept", "units analysed", report.get("kept")),
        ("off_network", f"kept units farther than {report.get('max_snap_m', 0):g} m from the walk network",
         report.get("off_network", 0)),
    ]
    for key, what in (("max_distance_m", "largest cell-to-unit-point distance (m, --units-max-distance-m)"),
                      ("population_allocated", "persons allocated to units"),
                      ("population_unassigned", "persons in no unit"),
                      ("population_65plus_allocated", "persons 65+ allocated to units"),
                      ("population_65plus_unassigned", "persons 65+ in no unit"),
                      ("cells_unassigned", "settled cells in no unit")):
        if key in report and not ("65plus" in key and not report.get("has_65plus", True)):
            items.append((key, what, report[key]))
    sheet = pd.DataFrame(items, columns=["item", "description", "value"])
    sheet.insert(1, "说明", sheet["item"].map(_ZH_ITEMS).fillna(""))
    sheet["value"] = sheet["value"].astype(object)
    likely = report.get("likely_cause", "")
    row = pd.DataFrame([{"input": "units", "category": "all", "total": report.get("total"),
                         "inside": report.get("inside"), "outside": report.get("outside"),
                         "off_network": report.get("off_network", 0),
                         "nearest_outside_m": report.get("nearest_outside_m", float("nan")),
                         "nearest_network_m": report.get("nearest_network_m", float("nan")),
                         "likely_cause": likely}])
    return sheet, row


# ---------------------------------------------------------------- warnings for the console


#: Warn when more than this share of the study area's people is in no unit.
UNASSIGNED_WARN_SHARE: float = 0.25
#: Warn when less than this share of the units' surface lies where it is measured (area / network).
EXTENT_WARN_SHARE: float = 0.25


def unassigned_warning(weight: np.ndarray, unit: np.ndarray, n_units: int, report: dict | None = None,
                       *, has_population: bool = True) -> str:
    """A warning when a large share of the study area's people is in no unit, else ``""``.

    ``weight`` and ``unit`` are the demand points' persons and unit index
    (``-1``: in no unit).  The shares of every table then describe only the
    people in the units kept, which a headline must not hide.
    """
    weight = np.asarray(weight, float)
    total = float(weight.sum())
    if not has_population or total <= 0:
        return ""
    out = float(weight[np.asarray(unit) < 0].sum())
    share = out / total
    if share <= UNASSIGNED_WARN_SHARE:
        return ""
    level = f" (level {report['level_kept']})" if report and report.get("level_kept") else ""
    fix = ("give units that cover the study area (a finer list, --units-level, or for point units a larger "
           "--units-max-distance-m), or leave --units out for a grid")
    return (f"{100 * share:.0f} % of the people in the study area are in no unit ({out:,.0f} of {total:,.0f}): "
            f"the shares describe only the {n_units:,} unit(s) kept{level} and their {total - out:,.0f} people, "
            f"not the study area; {fix}")


def extent_warning(units: gpd.GeoDataFrame, reference_wgs84: BaseGeometry | None, *, metric_crs: CRS | str,
                   reference: str) -> str:
    """A warning when polygon units reach far beyond ``reference`` (the study area, or the network's
    extent), else ``""``: e.g. whole districts given as units of a small network.
    """
    if reference_wgs84 is None or not len(units) or not units.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        return ""
    geoms = units.to_crs(metric_crs).geometry
    ref = gpd.GeoSeries([reference_wgs84], crs="EPSG:4326").to_crs(metric_crs).iloc[0]
    total = float(geoms.area.sum())
    within = float(geoms.intersection(ref).area.sum())
    if total <= 0 or within >= total * EXTENT_WARN_SHARE:
        return ""
    return (f"the {len(units):,} units cover {total / 1e6:,.1f} km², but only {within / 1e6:,.1f} km² "
            f"({100 * within / total:.1f} %) of that lies within {reference}: the units only intersect it, so most "
            f"of their people are far from the network (off network) or outside the study area; give units of the "
            f"study area (neighbourhoods, not districts) or an --area and a network that cover them")


def units_warnings(units: gpd.GeoDataFrame, demand: Any, report: dict[str, Any] | None, *,
                   reference: BaseGeometry | None, metric_crs: CRS | str, polygons: bool, where: str) -> list[str]:
    """The units' warnings, most important first: most people in no unit (:func:`unassigned_warning`),
    then polygon units reaching far beyond ``reference`` (:func:`extent_warning`).
    """
    out = [unassigned_warning(demand.weight_all, demand.unit, len(units), report,
                              has_population=demand.has_population)]
    if polygons:
        out.append(extent_warning(units, reference, metric_crs=metric_crs, reference=where))
    for text in out:
        if text:
            log.info(text)
    return [t for t in out if t]
