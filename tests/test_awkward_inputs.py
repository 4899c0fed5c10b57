"""Valid but awkward inputs, as bureaus keep them: every case must be READ, with the right content.

Each file is built in ``tmp_path`` from real rows of the shared Wuhan data (places from
``weibo_pois_gcj02.csv``, communities from ``communities_gcj02.csv``), re-encoded or re-shaped
the way such tables arrive: UTF-8 with BOM, GBK, GB18030, Excel (first or a named sheet, numbers
stored as text, a table not starting at A1), TSV, Chinese headers, trailing empty rows, extra
blank columns, ids with leading zeros, CRLF line ends and padded cells.  The content read back is
compared with the source rows: ids unchanged, names, categories, and the user's own GCJ-02
numbers (plus their exact WGS84 inverse).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from circles.coords import gcj02_to_wgs84
from circles.facilities import read_facility_file
from circles.scoring import load_candidates
from circles.units import load_units

pytestmark = pytest.mark.wuhan

#: Labels that classify (医院 → primary_care, 公园 → public_space, 图书馆 → culture, 中学 → middle_school).
LABELS = {"医院": "primary_care", "公园": "public_space", "图书馆": "culture", "中学": "middle_school"}


@pytest.fixture(scope="module")
def places(wuhan_dir) -> pd.DataFrame:
    """12 real places (3 per label) as text, with ids that look like numbers with leading zeros."""
    raw = pd.read_csv(wuhan_dir / "weibo_pois_gcj02.csv", dtype=str, encoding="utf-8")
    rows = pd.concat([raw[raw["Category"] == lab].head(3) for lab in LABELS], ignore_index=True)
    return pd.DataFrame({
        "id": [f"{i + 1:04d}" for i in range(len(rows))],  # "0001" … must stay text
        "name": rows["Name_POI"].str.strip(),
        "lon": rows["Longitude"], "lat": rows["Latitude"], "category": rows["Category"],
    })


@pytest.fixture(scope="module")
def communities(wuhan_dir) -> pd.DataFrame:
    raw = pd.read_csv(wuhan_dir / "communities_gcj02.csv", dtype=str, encoding="utf-8")
    rows = raw.dropna(subset=["longitude", "latitude"]).head(10)
    return pd.DataFrame({"code": "0" + rows["code"].str[1:], "name": rows["name"].to_numpy(),
                         "longitude": rows["longitude"].to_numpy(), "latitude": rows["latitude"].to_numpy()})


# --------------------------------------------------------------------------- writers


def _csv(frame: pd.DataFrame, path: Path, *, encoding="utf-8", sep=",", tail="", line_end="\n") -> Path:
    text = frame.to_csv(index=False, sep=sep, lineterminator=line_end) + tail
    path.write_bytes(text.encode(encoding))
    return path


def _numbers(frame: pd.DataFrame, *text_columns: str) -> pd.DataFrame:
    """Numeric columns as numbers (how Excel usually holds them), except ``text_columns``."""
    out = frame.copy()
    for c in ("lon", "lat", "longitude", "latitude"):
        if c in out and c not in text_columns:
            out[c] = out[c].astype(float)
    return out


def _xlsx(sheets: dict[str, pd.DataFrame], path: Path, *, startrow=0, startcol=0) -> Path:
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False, startrow=startrow, startcol=startcol)
    return path


def _chinese(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns={"id": "编号", "name": "名称", "lon": "经度", "lat": "纬度", "category": "类别",
                                 "code": "社区编码", "longitude": "经度", "latitude": "纬度"})


def _gb18030_only(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.loc[0, "name"] = out.loc[0, "name"] + "𠀀"  # CJK Ext. B: in GB18030, not in GBK
    return out


def _padded(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.columns = [f" {c} " for c in out.columns]
    return out.map(lambda v: f" {v} ")


def _bracketed(frame: pd.DataFrame) -> pd.DataFrame:
    return _chinese(frame).rename(columns={"经度": "经度(GCJ02)", "纬度": "纬度（高德）"})


def _location(frame: pd.DataFrame) -> pd.DataFrame:
    """Amap's one-column "lon,lat" location instead of two columns."""
    out = frame.drop(columns=["lon", "lat"])
    out.insert(2, "location", frame["lon"] + "," + frame["lat"])
    return out


def _with_title(frame: pd.DataFrame, path: Path, *, encoding="utf-8") -> Path:
    """A title line (one filled cell) and an empty line above the header, as bureaus print lists."""
    body = frame.to_csv(index=False)
    path.write_bytes(("武汉市设施名录（2024年）" + "," * (frame.shape[1] - 1) + "\n\n" + body).encode(encoding))
    return path


def _xlsx_with_title(frame: pd.DataFrame, path: Path) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "名录"
    ws.append(["武汉市设施名录（2024年）"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=frame.shape[1])
    ws.append([])
    ws.append(list(frame.columns))
    for row in _numbers(frame).itertuples(index=False):
        ws.append(list(row))
    wb.save(path)
    return path


def _dms_text(value: str, pre: str) -> str:
    v = float(value)
    d = int(v)
    m = int((v - d) * 60)
    sec = (v - d - m / 60) * 3600
    return f"{pre}{d}°{m}′{sec:.6f}″"


def _dms(frame: pd.DataFrame) -> pd.DataFrame:
    """Coordinates as printed in some bureau lists: 东经114°12′39.769200″, 北纬30°46′19.401600″."""
    out = frame.copy()
    out["lon"] = [_dms_text(v, "东经") for v in frame["lon"]]
    out["lat"] = [_dms_text(v, "北纬") for v in frame["lat"]]
    return out


# Each case: (name, builder(frame, tmp_path) -> (path, extra kwargs)).  The frame has the input's
# columns as text (places or communities), the builder reshapes and writes it.
CASES = {
    "utf8_bom_csv": lambda f, d: (_csv(f, d / "t.csv", encoding="utf-8-sig"), {}),
    "utf8_no_bom_crlf": lambda f, d: (_csv(f, d / "t.csv", line_end="\r\n"), {}),
    "gbk_csv": lambda f, d: (_csv(f, d / "t.csv", encoding="gbk"), {}),
    "gb18030_csv": lambda f, d: (_csv(_gb18030_only(f), d / "t.csv", encoding="gb18030"), {}),
    "tsv": lambda f, d: (_csv(f, d / "t.tsv", sep="\t"), {}),
    "txt_tab_separated_gbk": lambda f, d: (_csv(f, d / "t.txt", sep="\t", encoding="gbk"), {}),
    "chinese_headers_gbk": lambda f, d: (_csv(_chinese(f), d / "t.csv", encoding="gbk"), {}),
    "trailing_empty_rows": lambda f, d: (_csv(f, d / "t.csv", tail="," * (f.shape[1] - 1) + "\n\n\n"), {}),
    "extra_blank_columns": lambda f, d: (_csv(f.assign(**{"": "", " ": ""}), d / "t.csv"), {}),
    "padded_cells_and_headers": lambda f, d: (_csv(_padded(f), d / "t.csv"), {}),
    "xlsx_first_sheet": lambda f, d: (_xlsx({"data": _numbers(f), "notes": pd.DataFrame({"x": [1]})}, d / "t.xlsx"), {}),
    "xlsx_named_sheet": lambda f, d: (_xlsx({"说明": pd.DataFrame({"备注": ["见下一页"]}), "清单": _numbers(f)},
                                            d / "t.xlsx"), {"sheet": "清单"}),
    "xlsx_sheet_by_position": lambda f, d: (_xlsx({"a": pd.DataFrame({"x": [1]}), "b": _numbers(f)}, d / "t.xlsx"),
                                            {"sheet": 1}),
    "xlsx_numbers_stored_as_text": lambda f, d: (_xlsx({"s": f}, d / "t.xlsx"), {}),
    "csv_title_row_above_header_gbk": lambda f, d: (_with_title(f, d / "t.csv", encoding="gbk"), {}),
    "xlsx_merged_title_row_above_header": lambda f, d: (_xlsx_with_title(f, d / "t.xlsx"), {}),
    "bracketed_coordinate_headers": lambda f, d: (_csv(_bracketed(f), d / "t.csv"), {}),
    "xlsx_table_not_at_a1_chinese_headers": lambda f, d: (_xlsx({"s": _numbers(_chinese(f))}, d / "t.xlsx",
                                                                startrow=2, startcol=1), {}),
}


#: Cases for points with lon/lat in two columns only (facilities and candidates, not units).
FACILITY_ONLY = {
    "amap_location_column": lambda f, d: (_csv(_location(f), d / "t.csv"), {}),
    "degrees_minutes_seconds": lambda f, d: (_csv(_dms(f), d / "t.csv", encoding="gbk"), {}),
    "csv_named_file_with_tabs": lambda f, d: (_csv(f, d / "t.csv", sep="\t", encoding="utf-8-sig"), {}),
}


def _expected_lonlat(lon_text, lat_text):
    lon_in = np.array([float(v) for v in lon_text])
    lat_in = np.array([float(v) for v in lat_text])
    return lon_in, lat_in, *gcj02_to_wgs84(lon_in, lat_in)


@pytest.mark.parametrize("case", [*CASES, *FACILITY_ONLY])
def test_awkward_facility_files(case, places, tmp_path):
    path, extra = {**CASES, **FACILITY_ONLY}[case](places, tmp_path)
    fs = read_facility_file(path, crs="gcj02", **extra)
    f = fs.facilities
    assert len(fs.unclassified) == 0 and fs.n_input == len(places)
    # the user's ids, unchanged (leading zeros kept), one category per place
    assert f["facility_id"].tolist() == places["id"].tolist()
    assert f["category"].tolist() == [LABELS[c] for c in places["category"]]
    names = places["name"].tolist()
    if case == "gb18030_csv":
        names[0] += "𠀀"
    assert f["name"].tolist() == names
    lon_in, lat_in, lon, lat = _expected_lonlat(places["lon"], places["lat"])
    if case == "degrees_minutes_seconds":  # converted from text: equal to ~1e-9 degrees
        assert np.allclose(f["lon_gcj02"], lon_in, rtol=0, atol=1e-9)
        assert any("degrees-minutes-seconds" in n for n in fs.notes)
        lon_in, lat_in = f["lon_gcj02"].to_numpy(), f["lat_gcj02"].to_numpy()
        lon, lat = gcj02_to_wgs84(lon_in, lat_in)
    assert np.array_equal(f["lon_gcj02"].to_numpy(), lon_in) and np.array_equal(f["lat_gcj02"].to_numpy(), lat_in)
    assert np.allclose(f["lon"], lon, rtol=0, atol=1e-12) and np.allclose(f.geometry.y, lat, rtol=0, atol=1e-12)


@pytest.mark.parametrize("case", ["gbk_csv", "tsv", "xlsx_named_sheet", "xlsx_numbers_stored_as_text",
                                  "trailing_empty_rows", "chinese_headers_gbk", "xlsx_merged_title_row_above_header",
                                  "amap_location_column"])
def test_awkward_candidate_files(case, places, tmp_path):
    frame = places.rename(columns={"id": "candidate_id"})
    frame.insert(1, "capacity", [f"{1000 + 10 * i:,}" for i in range(len(frame))])  # "1,000" … (thousands)
    if case == "chinese_headers_gbk":
        frame = frame.rename(columns={"candidate_id": "候选编号", "capacity": "容量"})
    path, extra = {**CASES, **FACILITY_ONLY}[case](frame, tmp_path)
    cands = load_candidates(path, candidates_crs="gcj02", **extra)
    assert cands["candidate_id"].tolist() == places["id"].tolist()
    assert cands["category"].tolist() == [LABELS[c] for c in places["category"]]
    assert cands["capacity"].tolist() == [1000.0 + 10 * i for i in range(len(places))]
    lon_in, lat_in, lon, lat = _expected_lonlat(places["lon"], places["lat"])
    assert np.array_equal(cands["lon_gcj02"].to_numpy(), lon_in)
    assert np.array_equal(cands["lat_gcj02"].to_numpy(), lat_in)
    assert np.allclose(cands["lat"], lat, rtol=0, atol=1e-12)


@pytest.mark.parametrize("case", ["utf8_bom_csv", "gbk_csv", "tsv", "xlsx_first_sheet", "xlsx_named_sheet",
                                  "xlsx_numbers_stored_as_text", "extra_blank_columns", "trailing_empty_rows",
                                  "chinese_headers_gbk", "csv_title_row_above_header_gbk",
                                  "xlsx_merged_title_row_above_header", "bracketed_coordinate_headers"])
def test_awkward_unit_files(case, communities, tmp_path):
    path, extra = CASES[case](communities, tmp_path)
    if "sheet" in extra:  # load_units reads the first sheet; put the data there
        path, extra = CASES["xlsx_first_sheet"](communities, tmp_path)
    units = load_units(path, units_crs="gcj02", **extra)
    assert units["unit_id"].tolist() == communities["code"].tolist()  # 12-digit codes, leading zero kept
    assert all(u.startswith("0") for u in units["unit_id"])
    assert units["name"].tolist() == communities["name"].tolist()
    assert units.attrs["empty_rows_ignored"] == (3 if case == "trailing_empty_rows" else 0)
    _, _, lon, lat = _expected_lonlat(communities["longitude"], communities["latitude"])
    assert np.allclose(units.geometry.x, lon, rtol=0, atol=1e-12)
    assert np.allclose(units.geometry.y, lat, rtol=0, atol=1e-12)


def test_the_catalogue_is_large_enough():
    assert len(CASES) + len(FACILITY_ONLY) >= 12
