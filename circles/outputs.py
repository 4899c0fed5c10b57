"""Writing a :class:`~circles.coverage.CoverageResult` to files (atomically).

``coverage.gpkg`` (layers units, facilities, isochrones, summary, district_summary),
``coverage.csv`` (units without geometry), ``summary.csv``,
``coverage.xlsx`` (one sheet each for units, summary, districts,
sensitivity and data quality; headers in Chinese and English) and
``map.html`` (self-contained, offline).
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from .io import write_csv_atomic, write_excel_atomic, write_gpkg_atomic

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
}


def _category_zh(category: str) -> str | None:
    try:
        from .maps import CATEGORY_LABELS
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


def bilingual_header(circles: dict[str, str] | None = None):
    """``header=`` for :func:`circles.io.write_excel_atomic`: :func:`bilingual` with ``circles``."""
    return lambda column: bilingual(column, circles)


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(df.drop(columns="geometry", errors="ignore"))


def isochrone_assumption(iso: pd.DataFrame) -> str | None:
    """One sentence on how the isochrones layer was drawn (route and grid cell), or ``None``."""
    from .isochrones import DEFAULT_WIDTH_M

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


@contextmanager
def _timed(timings: dict, key: str):
    """Record the wall time of one output in ``timings[f"output_{key}_s"]`` and log it."""
    started = time.perf_counter()
    yield
    timings[f"output_{key}_s"] = time.perf_counter() - started
    log.info("outputs: %s in %.1f s", key, timings[f"output_{key}_s"])


def write_outputs(result, out_dir: Path, *, lang: str = "zh", map_html: bool = True,
                  basemap: str | None = None) -> dict[str, Path]:
    """Write every output file of an analysis into ``out_dir``; returns their paths.

    The wall time of each output is logged and kept in ``result.timings``
    (``output_isochrones_s``, ``output_gpkg_s``, ... ``output_map_s``).
    """
    from .errors import InputError

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
    timings = result.timings
    layers = {"units": units, "facilities": facilities}
    with _timed(timings, "isochrones"):
        iso = result.isochrones()
    if len(iso):
        layers["isochrones"] = iso
    with _timed(timings, "gpkg"):
        written["gpkg"] = write_gpkg_atomic(
            layers, out_dir / "coverage.gpkg",
            tables={"summary": result.summary, "district_summary": result.district_summary},
        )
    with _timed(timings, "csv"):
        written["coverage_csv"] = write_csv_atomic(_plain(units), out_dir / "coverage.csv")
        written["summary_csv"] = write_csv_atomic(result.summary, out_dir / "summary.csv")
        written["district_csv"] = write_csv_atomic(result.district_summary, out_dir / "district_summary.csv")
    iso_note = isochrone_assumption(iso)
    assumptions = list(result.assumptions) + ([iso_note] if iso_note else [])
    sheets = {
        "units": units, "summary": result.summary, "districts": result.district_summary,
        "sensitivity": result.sensitivity,
        **{f"dq_{k}": v for k, v in result.data_quality.items()},
        "assumptions": pd.DataFrame({"assumption": assumptions or ["(none)"]}),
    }
    with _timed(timings, "xlsx"):
        written["xlsx"] = write_excel_atomic(sheets, out_dir / "coverage.xlsx", header=bilingual_header(circles))
    if map_html:
        from .maps import save_coverage_map

        with _timed(timings, "map"):
            written["map"] = save_coverage_map(result, out_dir / "map.html", lang=lang, basemap=basemap)
    return written
