"""Tables fit to publish (issue #9, item 7 / seen 13): Excel number formats, frozen
header, filters, widths and bilingual headers in every workbook; CSVs without
``17303.4394826889``.  Workbooks are opened with openpyxl, as a reader would."""

from __future__ import annotations

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import get_column_letter

from circles.outputs.atomic import column_kind, round_for_csv, text_width, write_csv_atomic, write_excel_atomic
from circles.outputs.files import bilingual, bilingual_header


def _headers(ws) -> dict[str, int]:
    """English column name -> column number (1-based), from bilingual or plain headers."""
    return {str(c.value).rsplit(" / ", 1)[-1]: c.column for c in ws[1]}


def _format(ws, col: int) -> str:
    """Number format of the first non-empty data cell of a column."""
    for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
        if cell.value is not None:
            return cell.number_format
    raise AssertionError(f"column {col} of {ws.title} is empty")


def _width(ws, col: int) -> float:
    return ws.column_dimensions[get_column_letter(col)].width


@pytest.fixture()
def frame():
    return pd.DataFrame({
        "unit_id": ["g000001", "g000002", "g000003"],
        "name": ["关山街道光谷社区第一网格", "b", None],
        "population": [17303.4394826889, 12.5, np.nan],
        "covered_population": [4267.176667, 0.0, 3.0],
        "life_15_covered_share": [0.2466085815760794, 1.0, np.nan],
        "life_15_minutes": [12.345678, np.nan, 3.0],
        "units_covered": [3, 4, 5],
        "note": ["x", "y", "z"],
    })


def test_column_kinds_by_name():
    assert column_kind("population") == column_kind("covered_population") == "people"
    assert column_kind("newly_covered_population") == column_kind("cumulative_newly_covered") == "people"
    assert column_kind("population_65plus") == column_kind("newly_reachable_population") == "people"
    assert column_kind("covered_share") == column_kind("life_15_covered_share_60mpm") == "share"
    assert column_kind("covered_share_after") == "share"
    assert column_kind("life_15_grocery_minutes") == column_kind("mean_minutes_saved") == "minutes"
    assert column_kind("threshold_min") == "minutes"
    assert column_kind("覆盖人口 / covered_population") == "people"  # bilingual header
    assert column_kind("snap_m") == "metres"
    assert column_kind("lon") == column_kind("lat") == "degrees"  # WGS84: 6 decimals in CSVs
    for other in ("unit_id", "lon_gcj02", "lat_bd09", "units_covered", "improved_points", "name"):
        assert column_kind(other) is None, other


def test_excel_formats_freeze_filter_widths(tmp_path, frame):
    dest = write_excel_atomic({"units": frame, "small": frame.head(1)}, tmp_path / "t.xlsx",
                              header=bilingual_header({"life_15": "15分钟生活圈"}))
    wb = openpyxl.load_workbook(dest)
    assert wb.sheetnames == ["units", "small"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:{get_column_letter(frame.shape[1])}{ws.max_row}"
    ws = wb["units"]
    h = _headers(ws)
    assert ws.cell(1, h["population"]).value == "人口 / population"
    assert ws.cell(1, h["life_15_covered_share"]).value == "15分钟生活圈 覆盖率 / life_15_covered_share"
    assert ws.cell(2, h["population"]).number_format == "#,##0"
    assert ws.cell(2, h["covered_population"]).number_format == "#,##0"
    assert ws.cell(2, h["life_15_covered_share"]).number_format == "0.0%"
    assert ws.cell(2, h["life_15_minutes"]).number_format == "0.0"
    assert ws.cell(2, h["units_covered"]).number_format == "General"
    # the cells keep full precision: only the display is rounded
    assert ws.cell(2, h["population"]).value == pytest.approx(17303.4394826889, abs=1e-9)
    # NaN is an empty cell, not an error or "nan"
    assert ws.cell(4, h["population"]).value is None
    assert ws.cell(3, h["life_15_minutes"]).value is None
    assert ws.cell(4, h["name"]).value is None
    # widths fit the content; the 12 CJK characters count double (24 + padding)
    assert _width(ws, h["name"]) >= text_width("关山街道光谷社区第一网格") == 24
    assert _width(ws, h["note"]) < 12  # short text, short header
    # each part of a header (Chinese / English) fits on its own line
    assert _width(ws, h["life_15_covered_share"]) >= len("life_15_covered_share")
    assert all(_width(ws, c) <= 62 for c in range(1, frame.shape[1] + 1))


def test_excel_geometry_becomes_centre_lon_lat(tmp_path):
    import geopandas as gpd
    from shapely.geometry import box

    gdf = gpd.GeoDataFrame({"unit_id": ["a", "b"], "population": [1.0, 2.0]},
                           geometry=[box(114.50, 30.40, 114.52, 30.42), box(114.6, 30.5, 114.7, 30.6)],
                           crs="EPSG:4326").to_crs(32650)  # written in WGS84 whatever the CRS
    dest = write_excel_atomic({"units": gdf}, tmp_path / "g.xlsx")
    back = pd.read_excel(dest)
    assert list(back.columns) == ["unit_id", "population", "lon", "lat"]
    assert back["lon"].tolist() == pytest.approx([114.51, 114.65], abs=1e-4)
    assert back["lat"].tolist() == pytest.approx([30.41, 30.55], abs=1e-4)


def test_bilingual_headers_for_every_workbook():
    circles = {"life_15": "15分钟生活圈", "elderly_care_15": "15分钟养老服务圈"}
    assert bilingual("newly_covered_population") == "新增覆盖人口 / newly_covered_population"
    assert bilingual("mean_minutes_saved") == "平均节省时间(分钟) / mean_minutes_saved"
    assert bilingual("candidate_id") == "候选点编号 / candidate_id"
    assert bilingual("life_15_grocery_minutes", circles) == "15分钟生活圈 菜市场/超市时间(分钟) / life_15_grocery_minutes"
    assert bilingual("elderly_care_15_covered_share_after", circles).startswith("15分钟养老服务圈 新增后覆盖率 / ")
    assert bilingual("something_else") == "something_else"


def test_csv_precision_keeps_numbers_numeric(tmp_path, frame):
    dest = write_csv_atomic(frame, tmp_path / "c.csv")
    text = dest.read_text(encoding="utf-8-sig")
    assert "17303.4394826889" not in text and "0.2466085815760794" not in text
    back = pd.read_csv(dest, encoding="utf-8-sig")
    assert back["population"].tolist()[:2] == [17303.4, 12.5] and np.isnan(back["population"].iloc[2])
    assert back["life_15_covered_share"].iloc[0] == 0.2466
    assert back["life_15_minutes"].iloc[0] == 12.35
    assert back["covered_population"].iloc[0] == 4267.2
    assert back["units_covered"].dtype.kind == "i"
    assert text.splitlines()[3].split(",")[2] == ""  # NaN stays an empty cell
    assert round_for_csv(frame)["population"].dtype == float  # rounded, not turned into text


@pytest.mark.wuhan
def test_analyze_outputs_are_fit_to_publish(tmp_path, wuhan_dir):
    from circles.analysis import analyze

    w = wuhan_dir
    r = analyze(w / "guanggu.osm", facilities=w / "weibo_pois_gcj02.csv", facilities_crs="gcj02", grid_m=500,
                population=w / "population_20plus.tif", population_65plus=w / "population_65plus.tif",
                districts=w / "districts.geojson")
    written = r.to_files(tmp_path / "out")
    for key in ("coverage_csv", "summary_csv", "district_csv"):
        raw = pd.read_csv(written[key], encoding="utf-8-sig", dtype=str, keep_default_na=False)
        for col in raw.columns:
            if col.startswith(("lon", "lat")):
                continue  # coordinates keep their precision
            decimals = raw[col].str.extract(r"^-?\d+\.(\d+)$")[0].dropna().str.len()
            assert decimals.empty or decimals.max() <= 4, (key, col, raw[col].iloc[0])
        numbers = pd.read_csv(written[key], encoding="utf-8-sig")
        for col in ("population", "covered_share", "covered_population"):
            if col in numbers:
                assert numbers[col].dtype.kind == "f", (key, col)
    wb = openpyxl.load_workbook(written["xlsx"], read_only=False)
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert ws.auto_filter.ref, ws.title
    units = wb["units"]
    h = _headers(units)
    assert units.cell(1, h["population"]).value == "人口 / population"
    assert _format(units, h["population"]) == "#,##0"
    assert _format(units, h["public_activity_10_covered_share"]) == "0.0%"
    assert _format(units, h["public_activity_10_minutes"]) == "0.0"
    assert "lon" in h and "lat" in h and "geometry" not in h
    summary = wb["summary"]
    hs = _headers(summary)
    assert summary.cell(1, hs["covered_share"]).value == "覆盖率 / covered_share"
    assert _format(summary, hs["covered_share"]) == "0.0%"


def test_large_sheets_streamed_rows_equal_xlsxwriter_cells(tmp_path, monkeypatch):
    # big sheets get their rows from circles.outputs._sheetxml; every cell (value, type, number format),
    # the filter, the frozen header and the dimension must be what xlsxwriter itself writes
    import circles.outputs.atomic as cio

    df = pd.DataFrame({
        "unit_id": ["g1", "g2", "g3", "g4"],
        "name": ["关山 & <街道>", "", None, "=1+1"],
        "population": [17303.4394826889, np.nan, -3.0, 1e-7],
        "life_15_covered_share": [0.25, 1.0, np.nan, np.inf],
        "units_covered": [3, 4, 5, 6],
        "flag": [True, False, True, False],
        "count": pd.array([1, None, 3, 4], dtype="Int64"),
        "checked": pd.array([True, None, False, True], dtype="boolean"),
        "when": pd.to_datetime(["2024-01-01", None, "2024-02-01", "2024-03-01"]),
        "note": ["  lead", "trail  ", "ok", "x" * 40],
    })
    sheets = {"units": df, "small": df.head(2)}
    monkeypatch.setattr(cio, "FAST_CELLS", 10**9)
    slow = openpyxl.load_workbook(write_excel_atomic(sheets, tmp_path / "slow.xlsx", header=bilingual_header()))
    monkeypatch.setattr(cio, "FAST_CELLS", 1)
    fast = openpyxl.load_workbook(write_excel_atomic(sheets, tmp_path / "fast.xlsx", header=bilingual_header()))
    assert not list(tmp_path.glob(".*"))  # no temporary files left
    for a in slow.worksheets:
        b = fast[a.title]
        assert (a.dimensions, a.freeze_panes, a.auto_filter.ref) == (b.dimensions, b.freeze_panes, b.auto_filter.ref)
        cells_a = [(c.value, c.data_type, c.number_format) for row in a.iter_rows() for c in row]
        cells_b = [(c.value, c.data_type, c.number_format) for row in b.iter_rows() for c in row]
        assert cells_a == cells_b, a.title
        for j in range(1, df.shape[1] + 1):
            assert _width(a, j) == _width(b, j)
    assert fast["units"].cell(2, 3).value == pytest.approx(17303.4394826889)
    assert fast["units"].cell(2, 3).number_format == "#,##0"
