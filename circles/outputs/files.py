"""Writing a :class:`~circles.coverage.CoverageResult` to files (atomically).

``coverage.gpkg`` (layers units, facilities, isochrones, summary, district_summary),
``coverage.csv`` (units without geometry), ``summary.csv``,
``coverage.xlsx`` (one sheet each for units, summary, districts,
sensitivity and data quality; headers in Chinese and English) and
``map.html`` (self-contained, offline).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from circles import settings
from circles.outputs.atomic import plain_table, write_csv_atomic, write_excel_atomic, write_gpkg_atomic
from circles.progress import step

if TYPE_CHECKING:
    from circles.coverage import CoverageResult

log = logging.getLogger(__name__)

#: Chinese labels of output columns (suffixes for per-circle columns), for every
#: workbook: coverage.xlsx and scores.xlsx.
_ZH = {
    "unit_id": "单元编号", "name": "名称", "district": "区", "zone": "区类型", "population": "人口",
    "population_65plus": "65岁以上人口", "offnet_population": "路网外人口", "circle": "服务圈",
    "name_zh": "中文名", "name_en": "英文名", "threshold_min": "阈值(分钟)", "mode": "出行方式",
    "population_group": "人群", "covered_population": "覆盖人口", "covered_share": "覆盖率",
    "facilities": "设施数", "no_data": "无数据类别", "rule": "依据条款", "category": "类别",
    "required_by": "所需服务圈", "status": "状态", "walk_speed_m_per_min": "步行速度(米/分钟)",
    "units_covered": "覆盖单元数", "units_partial": "部分覆盖单元数", "units_uncovered": "未覆盖单元数",
    "units_empty": "无人口单元数", "units_off_network": "路网外单元数",
    "minutes": "时间(分钟)", "missing": "缺少类别", "area_m2": "面积(平方米)",
    "route": "绘制方法", "cell_m": "栅格间距(米)",
    "lon": "经度(WGS84)", "lat": "纬度(WGS84)", "lon_gcj02": "经度(GCJ-02)", "lat_gcj02": "纬度(GCJ-02)",
    "lon_bd09": "经度(BD-09)", "lat_bd09": "纬度(BD-09)", "facility_id": "设施编号", "feature_id": "要素编号",
    "source": "来源", "assumption": "假设", "note": "说明",
    "units_no_data": "无数据单元数",
    # data quality: inputs against the study area (dq_inputs, dq_inputs_by_source)
    "input": "输入", "total": "总数", "inside": "研究区内", "outside": "研究区外",
    "off_network": "区内但离路网过远", "nearest_outside_m": "区外最近距离(米)",
    "nearest_network_m": "距路网最近(米)", "likely_cause": "可能原因", "count": "数量",
    # scores.xlsx
    "candidate_id": "候选点编号", "capacity": "容量", "newly_covered_population": "新增覆盖人口",
    "improved_population": "时间缩短人口", "improved_points": "时间缩短需求点数",
    "faster_population": "原可达且更快人口", "mean_minutes_saved": "平均节省时间(分钟)",
    "newly_reachable_population": "新增可达人口", "snap_m": "接入距离(米)", "flag": "标记",
    "rank": "排名", "cumulative_newly_covered": "累计新增覆盖人口",
    "covered_population_after": "新增后覆盖人口", "covered_share_after": "新增后覆盖率", "method": "方法",
    "sites_requested": "要求选址数", "sites_chosen": "已选址数", "baseline_covered_population": "现状覆盖人口",
    "horizon_min": "搜索时限(分钟)", "candidates_scored": "评分候选点数", "gap_to_exact": "与最优解差距(人)",
    "baseline_covered_share": "现状覆盖率", "baseline_status": "现状状态",
    "threshold_text": "阈值说明", "item": "项目", "value": "数值", "description": "说明(英文)",
    # data quality sheets (dq_*)
    "off_walk_network": "离步行路网过远数", "off_drive_network": "离车行路网过远数",
    "nodes": "节点数", "edges": "路段数", "components": "连通分量数",
    "nodes_outside_largest": "最大连通分量外节点数", "share_outside_largest": "最大连通分量外节点占比",
    "network": "路网", "demand_points": "需求点数", "off_network_points": "路网外需求点数",
    "off_network_population": "路网外人口", "off_network_population_65plus": "路网外65岁以上人口",
    "population_outside_units": "单元外人口", "units_all_off_network": "全部在路网外的单元数",
    "row": "行号", "label": "原始类别标签", "assumed": "推定数量",
    "outside_area": "研究区外数", "on_walk_network": "接入步行路网数", "on_drive_network": "接入车行路网数",
    "usable_on_circle_network": "可用于服务圈计算数",
    "past_small_piece_points": "越过小路网片段接入的需求点数",
    "past_small_piece_population": "越过小路网片段接入的人口",
}


def _category_zh(category: str) -> str | None:
    try:
        from circles.outputs.coverage_map import CATEGORY_LABELS
    except ImportError:  # pragma: no cover - maps needs folium, a dependency
        return None
    label = CATEGORY_LABELS.get(category)
    return label[0] if label else None


def _zh_of(column: str) -> str | None:
    if column in _ZH:
        return _ZH[column]
    if column.startswith("covered_share_"):
        return f"覆盖率@{column.removeprefix('covered_share_')}"
    if column.endswith("_minutes") and _category_zh(column.removesuffix("_minutes")):
        return f"{_category_zh(column.removesuffix('_minutes'))}时间(分钟)"
    if column.endswith("_after") and column.removesuffix("_after") in _ZH:
        return f"新增后{_ZH[column.removesuffix('_after')]}"
    return None


def bilingual(column: str, circles: dict[str, str] | None = None) -> str:
    """The header of an output column in every workbook: ``"覆盖率 / covered_share"``, or
    with the circle's Chinese name for per-circle columns:
    ``"15分钟生活圈 覆盖率 / life_15_covered_share"``.

    Parameters
    ----------
    column
        The column's (English) name; returned unchanged when no Chinese label is known.
    circles
        Circle id -> Chinese name (``{c.id: c.name_zh for c in policy.circles}``).
    """
    column = str(column)
    zh = _zh_of(column)
    if zh is not None:
        return f"{zh} / {column}"
    for cid, name_zh in sorted((circles or {}).items(), key=lambda kv: -len(kv[0])):
        if column.startswith(cid + "_"):
            rest = column[len(cid) + 1:]
            return f"{name_zh} {_zh_of(rest) or rest} / {column}"
    return column


def bilingual_header(circles: dict[str, str] | None = None) -> Callable[[str], str]:
    """``header=`` for :func:`circles.outputs.atomic.write_excel_atomic`: :func:`bilingual` with ``circles``.

    Parameters
    ----------
    circles : dict of str to str, optional
        Circle id -> Chinese circle name, for per-circle columns.

    Returns
    -------
    callable
        Column name -> bilingual header.

    Examples
    --------
    >>> header = bilingual_header({"life_15": "15分钟生活圈"})
    >>> header("life_15_covered_share")
    '15分钟生活圈 覆盖率 / life_15_covered_share'
    """
    return lambda column: bilingual(column, circles)


def _threshold_number(result: CoverageResult, circle_id: str) -> float:
    """The circle's limit in minutes when it is the same for everyone in the study area
    (NaN when it differs by zone: the districts table has each district's).
    """
    d = result.district_summary
    if d is not None and len(d) and "threshold_min" in d and "circle" in d:
        values = pd.to_numeric(d.loc[d["circle"] == circle_id, "threshold_min"], errors="coerce").dropna().unique()
        if len(values) == 1:
            return float(values[0])
        if len(values) > 1:
            return float("nan")
    try:
        return float(result.circle(circle_id).effective_threshold(None))
    except Exception:  # a zone-dependent circle without a default zone and nobody in a district
        return float("nan")


def summary_tables(result: CoverageResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(summary, districts)`` as written to files: ``threshold_min`` is a number (minutes)
    in both, the words (zones, default zone, dispatch allowance) in ``threshold_text``.
    In the summary ``threshold_min`` is empty when the limit differs by zone (e.g. central
    10 / new urban 12 min): each district's number is in the districts table.
    """
    summary = pd.DataFrame(result.summary).copy()
    districts = pd.DataFrame(result.district_summary).copy()
    if "threshold_min" not in summary or "circle" not in summary or not len(summary):
        return summary, districts
    words = summary["threshold_min"].astype(object)
    if pd.api.types.is_numeric_dtype(summary["threshold_min"].dtype):
        words = pd.Series([f"{v:g} min" for v in summary["threshold_min"]], index=summary.index, dtype=object)
    text_of = dict(zip(summary["circle"], words))
    summary["threshold_min"] = [_threshold_number(result, c) for c in summary["circle"]]
    summary.insert(list(summary.columns).index("threshold_min") + 1, "threshold_text", words.to_numpy())
    if "threshold_min" in districts and "circle" in districts and len(districts):
        districts["threshold_min"] = pd.to_numeric(districts["threshold_min"], errors="coerce")
        districts.insert(list(districts.columns).index("threshold_min") + 1, "threshold_text",
                         districts["circle"].map(text_of).to_numpy(object))
    return summary, districts


def _drive_speed_text(net) -> str:
    report = getattr(net, "report", {}) or {}
    n = len(getattr(net, "edge_speed_kph", ()))
    tagged = report.get("edges_with_maxspeed")
    used = report.get("segments_used")
    column = (report.get("columns_used") or {}).get("speed")
    classes = ", ".join(f"{k} {v:g}" for k, v in list(settings.DRIVE_SPEED_KPH.items())[:12])
    head = (f"speed column {column!r} of the road file where given; " if column else
            f"maxspeed tags on {tagged:,} of {used:,} road segments; " if tagged is not None and used else "")
    return (f"{head}otherwise by road class (km/h, urban China at normal traffic, STANDARDS §3): {classes}; "
            f"other classes {settings.DRIVE_SPEED_FALLBACK_KPH:g} km/h; the stretch between the road and a "
            f"resident or station at {settings.DRIVE_ACCESS_SPEED_M_PER_MIN * 60 / 1000:g} km/h"
            + (f" ({n:,} directed edges)" if n else ""))


def _population_text(result: CoverageResult) -> str:
    demand = getattr(result, "demand", None)
    if demand is None or not getattr(demand, "has_population", True):
        return "no population data: each unit counts once; shares are shares of units"
    inside = demand.unit >= 0
    total, in_units = float(demand.weight_all.sum()), float(demand.weight_all[inside].sum())
    source = getattr(getattr(result, "options", None), "population_source", None)
    own_65 = not np.array_equal(demand.weight_65plus, demand.weight_all)
    text = (f"{'from ' + source + ': ' if source else ''}{total:,.0f} persons at {len(demand):,} demand points in the "
            f"study area, {in_units:,.0f} of them in units (the tables count those); the ages counted are those "
            f"of the population input (a 20+ raster counts adults only)")
    if own_65:
        text += f"; 65+: {float(demand.weight_65plus[inside].sum()):,.0f} persons in units from their own layer"
    elif any(c.population == "65plus" for c in result.policy.circles):
        text += "; no 65+ layer: circles for residents 65+ are weighted by the whole population"
    return text


def assumptions_table(result: CoverageResult) -> pd.DataFrame:
    """The modelling assumptions a run actually used, one row each (``item``, ``assumption``),
    generated from ``result.options``, the policy and the networks — then the run's own
    remarks (``result.assumptions``).  The ``assumptions`` sheet of the workbooks.
    """
    options = result.options
    remarks = list(result.assumptions or [])
    # warnings a planner must read before any share (e.g. most people in no unit) come first
    rows = [("警告 / warning", text.removeprefix("WARNING: ")) for text in remarks if text.startswith("WARNING: ")]
    for c in result.policy.circles:
        who = "residents 65+" if c.population == "65plus" else "all residents"
        if c.mode == "walk":
            speed = c.speed_m_per_min or settings.WALK_SPEED_M_PER_MIN
            pace = "elderly pace" if c.population == "65plus" else "walking"
            how = f"{pace} at {speed:g} m/min ({speed / 60:.2f} m/s), resident to facility"
        else:
            how = ("ambulance driving from the station to the resident (one-way streets respected)"
                   if c.direction == "from" else "driving from the resident to the facility")
        limit = (" / ".join(f"{z} {v:g}" for z, v in c.zone_thresholds_min.items())
                 if c.zone_thresholds_min else f"{c.threshold_min:g}")
        extra = f", minus {c.dispatch_allowance_min:g} min dispatch" if c.dispatch_allowance_min else ""
        default = f" (default zone {c.default_zone})" if c.zone_thresholds_min and c.default_zone else ""
        rows.append((f"服务圈 / circle {c.id}", f"{how}; limit {limit} min{default}{extra}; weighted by {who}; "
                                              f"{c.clause}"))
    if options.walk_speeds:
        rows.append(("步行速度敏感性 / walking-speed sensitivity",
                     ", ".join(f"{v:g}" for v in options.walk_speeds) + " m/min (sensitivity sheet)"))
    drive = (result.networks or {}).get("drive")
    if drive is not None and any(c.mode == "drive" for c in result.policy.circles):
        rows.append(("车速 / driving speeds", _drive_speed_text(drive)))
    rows += [
        ("最大接入距离 / max snap", f"points farther than {options.max_snap_m:g} m from the network are off the "
                                 f"network (the straight stretch to the street is walked or driven)"),
        ("时间上限 / horizon", f"travel times tracked up to {options.cap_min:g} min (beyond: unreachable)"),
        ("状态阈值 / status thresholds", f"covered: at least {options.covered_min:.0%} of a unit's people within "
                                     f"the limit of every required category; uncovered: below "
                                     f"{options.uncovered_max:.0%}; partial in between; no_data: a required "
                                     f"category has no usable facility"),
        ("人口 / population", _population_text(result)),
    ]
    for what, crs in (("设施坐标系 / facilities CRS", options.facilities_crs), ("单元坐标系 / units CRS", options.units_crs)):
        if crs:
            rows.append((what, f"{crs} (declared); tables give WGS84 lon/lat and your own numbers"))
    rows += [("运行说明 / run remark", text) for text in remarks if not text.startswith("WARNING: ")]
    return pd.DataFrame(rows, columns=["item", "assumption"])


def isochrone_assumption(iso: pd.DataFrame) -> str | None:
    """One sentence on how the isochrones layer was drawn (route and grid cell), or ``None``."""
    from circles.isochrones import DEFAULT_WIDTH_M

    if not len(iso) or "route" not in iso:
        return None
    raster = iso[iso["route"] == "raster"]
    text = (f"isochrones: {len(iso)} service areas, each every point within {DEFAULT_WIDTH_M:g} m of the streets "
            f"reached in time; {len(iso) - len(raster)} by GEOS buffer and union, {len(raster)} "
            "contoured from an exact distance field")
    if len(raster):
        cells = raster["cell_m"].astype(float)
        text += (f" on a grid of {cells.min():.1f}–{cells.max():.1f} m" if cells.max() - cells.min() > 0.05
                 else f" on a {cells.iloc[0]:.1f} m grid")
        if cells.max() > DEFAULT_WIDTH_M / 2.0 + 1e-6:
            text += (" (city scale: the cell is chosen from the extent so a grid holds at most "
                     "~50M points; boundaries are within about half a cell of the exact buffer, "
                     "slits narrower than that between corridors are filled)")
    return text


def write_outputs(result: CoverageResult, out_dir: Path, *, lang: str = "zh", map_html: bool = True,
                  basemap: str | None = None) -> dict[str, Path]:
    """Write every output file of an analysis into ``out_dir``; returns their paths.

    The wall time of each output is logged and kept in ``result.timings``
    (``output_isochrones_s``, ``output_gpkg_s``, ... ``output_map_s``).
    """
    from circles.errors import InputError

    if lang not in ("zh", "en"):
        raise InputError(f"lang (CLI --lang) must be 'zh' or 'en', got {lang!r}")
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"output folder {out_dir} (--out) is a file; pass a folder path")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output folder {out_dir} (--out): {exc}") from None
    circles = {c.id: c.name_zh for c in result.policy.circles}
    units = result.units.to_crs("EPSG:4326")
    facilities = result.facilities.to_crs("EPSG:4326")
    written: dict[str, Path] = {}
    summary, districts = summary_tables(result)
    timings = result.timings
    layers = {"units": units, "facilities": facilities}
    with step("isochrones", timings, key="output_isochrones_s") as now:
        iso = result.isochrones()
        now.detail = f"{len(iso):,} polygons"
    if len(iso):
        layers["isochrones"] = iso
    with step("write coverage.gpkg", timings, key="output_gpkg_s"):
        written["gpkg"] = write_gpkg_atomic(
            layers, out_dir / "coverage.gpkg",
            tables={"summary": summary, "district_summary": districts},
        )
    # one table of units for CSV and Excel alike: lon/lat of each unit's centre, own coordinates after them
    table = plain_table(units)
    with step("write CSV tables", timings, key="output_csv_s"):
        written["coverage_csv"] = write_csv_atomic(table, out_dir / "coverage.csv")
        written["summary_csv"] = write_csv_atomic(summary, out_dir / "summary.csv")
        written["district_csv"] = write_csv_atomic(districts, out_dir / "district_summary.csv")
    assumptions = assumptions_table(result)
    iso_note = isochrone_assumption(iso)
    if iso_note:
        assumptions.loc[len(assumptions)] = ("等时圈 / isochrones", iso_note)
    sheets = {
        "units": table, "summary": summary, "districts": districts,
        "sensitivity": result.sensitivity,
        **{f"dq_{k}": v for k, v in result.data_quality.items()},
        "assumptions": assumptions,
    }
    with step("write coverage.xlsx", timings, key="output_xlsx_s"):
        written["xlsx"] = write_excel_atomic(sheets, out_dir / "coverage.xlsx", header=bilingual_header(circles))
    if map_html:
        from circles.outputs.coverage_map import save_coverage_map

        with step("write map.html", timings, key="output_map_s"):
            written["map"] = save_coverage_map(result, out_dir / "map.html", lang=lang, basemap=basemap)
    return written
