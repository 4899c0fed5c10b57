"""Writing a :class:`~circles.coverage.CoverageResult` to files (atomically).

``coverage.gpkg`` (layers units, facilities, isochrones, summary, district_summary),
``coverage.csv`` (units without geometry), ``summary.csv``,
``coverage.xlsx`` (one sheet each for units, summary, districts,
sensitivity and data quality; headers in Chinese and English) and
``map.html`` (self-contained, offline).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .io import write_csv_atomic, write_excel_atomic, write_gpkg_atomic

#: Chinese labels of output columns (suffixes for per-circle columns).
_ZH = {
    "unit_id": "单元编号", "name": "名称", "district": "区", "zone": "区类型", "population": "人口",
    "population_65plus": "65岁以上人口", "offnet_population": "路网外人口", "circle": "服务圈",
    "name_zh": "中文名", "name_en": "英文名", "threshold_min": "阈值(分钟)", "mode": "出行方式",
    "population_group": "人群", "covered_population": "覆盖人口", "covered_share": "覆盖率",
    "facilities": "设施数", "no_data": "无数据类别", "rule": "依据条款", "category": "类别",
    "required_by": "所需服务圈", "status": "状态", "walk_speed_m_per_min": "步行速度(米/分钟)",
    "units_covered": "覆盖单元数", "units_partial": "部分覆盖单元数", "units_uncovered": "未覆盖单元数",
    "units_empty": "无人口单元数", "units_off_network": "路网外单元数",
    "minutes": "时间(分钟)", "missing": "缺少类别",
    "units_no_data": "无数据单元数",
    # data quality: inputs against the study area (dq_inputs, dq_inputs_by_source)
    "input": "输入", "source": "来源", "total": "总数", "inside": "研究区内", "outside": "研究区外",
    "off_network": "区内但离路网过远", "nearest_outside_m": "区外最近距离(米)",
    "nearest_network_m": "距路网最近(米)", "likely_cause": "可能原因",
}


def bilingual(column: str, circles: dict[str, str]) -> str:
    """``"15分钟生活圈 覆盖率 / life_15_covered_share"`` style header."""
    if column in _ZH:
        return f"{_ZH[column]} / {column}"
    for cid, zh in circles.items():
        if column.startswith(cid + "_"):
            rest = column[len(cid) + 1:]
            zh_rest = _ZH.get(rest, rest)
            if rest.startswith("covered_share_"):
                zh_rest = f"覆盖率@{rest.removeprefix('covered_share_')}"
            return f"{zh} {zh_rest} / {column}"
    return column


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(df.drop(columns="geometry", errors="ignore"))


def write_outputs(result, out_dir: Path, *, lang: str = "zh", map_html: bool = True) -> dict[str, Path]:
    """Write every output file of an analysis into ``out_dir``; returns their paths."""
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
    layers = {"units": units, "facilities": facilities}
    iso = result.isochrones()
    if len(iso):
        layers["isochrones"] = iso
    written["gpkg"] = write_gpkg_atomic(
        layers, out_dir / "coverage.gpkg",
        tables={"summary": result.summary, "district_summary": result.district_summary},
    )
    written["coverage_csv"] = write_csv_atomic(_plain(units), out_dir / "coverage.csv")
    written["summary_csv"] = write_csv_atomic(result.summary, out_dir / "summary.csv")
    written["district_csv"] = write_csv_atomic(result.district_summary, out_dir / "district_summary.csv")
    sheets = {
        "units": _plain(units), "summary": result.summary, "districts": result.district_summary,
        "sensitivity": result.sensitivity,
        **{f"dq_{k}": v for k, v in result.data_quality.items()},
        "assumptions": pd.DataFrame({"assumption": result.assumptions or ["(none)"]}),
    }
    sheets = {name: df.rename(columns=lambda c: bilingual(str(c), circles)) for name, df in sheets.items()}
    written["xlsx"] = write_excel_atomic(sheets, out_dir / "coverage.xlsx")
    if map_html:
        from .maps import save_coverage_map

        written["map"] = save_coverage_map(result, out_dir / "map.html", lang=lang)
    return written
