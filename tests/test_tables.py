"""circles._tables, the one reader of tabular inputs; bad tables; users' ids and coordinates through the CLI."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from circles import _tables
from circles.coords import gcj02_to_wgs84, wgs84_to_gcj02
from circles.errors import InputError, InputFileNotFoundError, NoDataError
from circles.facilities import read_facility_file
from circles.scoring import load_candidates
from circles.units import load_units

HEADER = "id,name,lon,lat,category\n"
ROWS = "0012,协和医院,114.275742,30.58349,医院\n0013,中山公园,114.2705,30.5905,公园\n"


def _write(tmp_path, text, name="t.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# --------------------------------------------------------------------------- the reader


def test_tsv_is_tab_separated(tmp_path):
    # a .tsv was read as comma-separated: one column "id\tname\t…"
    path = _write(tmp_path, (HEADER + ROWS).replace(",", "\t"), name="t.tsv")
    frame = _tables.read_table(path)
    assert list(frame.columns) == ["id", "name", "lon", "lat", "category"]
    assert frame["id"].tolist() == ["0012", "0013"] and frame.attrs["delimiter"] == "\t"


def test_encoding_is_detected_and_logged(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="circles._tables"):
        gbk = _tables.read_table(_write(tmp_path, HEADER + ROWS, name="g.csv", encoding="gbk"))
        bom = _tables.read_table(_write(tmp_path, HEADER + ROWS, name="b.csv", encoding="utf-8-sig"))
    assert gbk["name"].tolist() == bom["name"].tolist() == ["协和医院", "中山公园"]
    assert gbk.attrs["encoding"] == "GB18030/GBK" and bom.attrs["encoding"] == "UTF-8 with BOM"
    assert "g.csv: read as GB18030/GBK" in caplog.text and "b.csv: read as UTF-8 with BOM" in caplog.text
    assert list(bom.columns)[0] == "id"  # no BOM left in the first header


def test_trailing_empty_rows_and_blank_columns_are_dropped_and_counted(tmp_path):
    frame = _tables.read_table(_write(tmp_path, "id,lon,lat,,\n1,114.3,30.6,,\n,,,,\n\n,,,,\n"))
    assert frame.shape == (1, 3)
    assert frame.attrs["dropped_empty_rows"] == 3 and frame.attrs["dropped_empty_columns"] == 2


def test_excel_sheets_by_name_and_position_and_text_kept(tmp_path):
    path = tmp_path / "t.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as w:
        pd.DataFrame({"x": [1]}).to_excel(w, sheet_name="封面", index=False)
        pd.DataFrame({"编码": ["0012", "420102002000"], "经度": [114.3, 114.25], "n": [3, 4.5]}).to_excel(
            w, sheet_name="清单", index=False)
    assert _tables.sheet_names(path) == ["封面", "清单"]
    assert list(_tables.read_table(path).columns) == ["x"]
    for sheet in ("清单", 1, "1"):
        frame = _tables.read_table(path, sheet=sheet)
        assert frame["编码"].tolist() == ["0012", "420102002000"]  # no "420102002000.0", zeros kept
        assert frame["经度"].tolist() == ["114.3", "114.25"] and frame["n"].tolist() == ["3", "4.5"]
        assert frame.attrs["sheet"] == "清单"


def test_find_column_usual_names_and_errors():
    cols = ["编号", " 经度 ", "纬度", "类别", "社区名称"]
    assert _tables.find_column(cols, None, _tables.LON_COLUMNS, what="longitude", option="lon_column",
                               source="f.csv") == " 经度 "
    assert _tables.find_column(cols, None, _tables.id_columns("units"), what="id", option="id_column",
                               source="f.csv") == "编号"
    assert _tables.find_column(["candidate_id", "id"], None, _tables.id_columns("candidates"), what="id",
                               option="id_column", source="f.csv") == "candidate_id"
    assert _tables.find_column(cols, "纬度", (), what="latitude", option="lat_column", source="f.csv") == "纬度"
    with pytest.raises(InputError, match=r"f\.csv: 'LAT', given as lat_column \(CLI --lat-column\), is not a column; the columns are: 编号"):
        _tables.find_column(cols, "LAT", (), what="latitude", option="lat_column", source="f.csv")
    with pytest.raises(InputError, match=r"f\.csv: no capacity column found; .*name it with capacity_column"):
        _tables.find_column(cols, None, ("capacity",), what="capacity", option="capacity_column",
                            source="f.csv", required=True)
    assert _tables.find_column(cols, None, ("capacity",), what="capacity", option="c", source="f") is None


@pytest.mark.parametrize("name,expected", [("WGS84", "wgs84"), ("wgs 84", "wgs84"), ("EPSG:4326", "wgs84"),
                                           ("GCJ-02", "gcj02"), ("gcj_02", "gcj02"), ("amap", "gcj02"),
                                           ("BD-09", "bd09"), ("bd09ll", "bd09"), (None, None)])
def test_crs_names(name, expected):
    assert _tables.crs_name(name) == expected


def test_crs_name_unknown():
    with pytest.raises(InputError, match=r"--candidates-crs=.*'utm'.*'gcj02'"):
        _tables.crs_name("utm", parameter="--candidates-crs")


def test_numbers_and_restore_numbers():
    assert np.allclose(_tables.numbers(["1,234", " 114.3 ", "１１４.５", "x", None]), [1234, 114.3, 114.5, np.nan, np.nan],
                       equal_nan=True)
    frame = pd.DataFrame({"code": ["0012", "0013"], "pop": ["10", "20.5"], "name": ["a", "b"]}, dtype=object)
    out = _tables.restore_numbers(frame)
    assert out["code"].tolist() == ["0012", "0013"] and out["pop"].tolist() == [10.0, 20.5]
    assert out["name"].tolist() == ["a", "b"]


# --------------------------------------------------------------------------- bad tables: one clear error each


def _xls_bytes():
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


BAD = [
    # (file name, content bytes, reader, kwargs, error class, message pattern)
    ("empty.csv", b"", "facilities", {}, NoDataError, r"empty\.csv: the file is empty"),
    ("blank.csv", b"\n\n  \n", "units", {}, NoDataError, r"blank\.csv: the file is empty"),
    ("header.csv", HEADER.encode(), "facilities", {}, NoDataError, r"header\.csv: has a header but no rows"),
    ("header.xlsx", "XLSX_HEADER_ONLY", "candidates", {}, NoDataError, r"header\.xlsx: has a header but no rows"),
    ("nolon.csv", b"id,lat,category\n1,30.6,\xe5\x8c\xbb\xe9\x99\xa2\n", "facilities", {}, InputError,
     r"nolon\.csv: no longitude column found; the columns are: id, lat, category"),
    ("nolon_units.csv", b"code,lat\n1,30.6\n", "units", {}, InputError, r"no longitude column found; the columns are: code, lat"),
    ("text.csv", (HEADER + "1,A,114.3,30.6,医院\n2,B,东经114,30.6,医院\n3,C,114.3,,医院\n").encode(), "facilities", {},
     InputError, r"text\.csv \(columns 'lon', 'lat'\): 2 rows \(rows 2, 3\) have a missing or non-numeric"),
    ("text_cands.xlsx", "XLSX_TEXT_COORDS", "candidates", {}, InputError,
     r"text_cands\.xlsx \(columns 'lon', 'lat'\): 1 row \(row 2\) has a missing or non-numeric"),
    ("sheets.xlsx", "XLSX_OK", "facilities", {"sheet": "Sheet9"}, InputError,
     r"sheets\.xlsx: no sheet named 'Sheet9'; the sheets are: '封面', '设施'"),
    ("sheets2.xlsx", "XLSX_OK", "candidates", {"sheet": 5}, InputError,
     r"sheets2\.xlsx: sheet 5 is out of range \(0-based\); the workbook has 2 sheet\(s\): '封面', '设施'"),
    ("junk.csv", bytes(range(256)) * 4, "facilities", {}, InputError, r"junk\.csv: is not a text table \(binary"),
    ("renamed.csv", "XLSX_OK", "candidates", {}, InputError, r"renamed\.csv: is a zip/Excel \.xlsx workbook.*rename it"),
    ("old.xls", _xls_bytes(), "facilities", {}, InputError, r"old\.xls: the old Excel format \.xls is not supported.*save it as \.xlsx"),
    ("old_units.xls", _xls_bytes(), "units", {}, InputError, r"old Excel format \.xls.*save it as \.xlsx"),
    ("oldxls.csv", _xls_bytes(), "facilities", {}, InputError, r"oldxls\.csv: is an old Excel \.xls workbook"),
    ("utf16.csv", (HEADER + ROWS).encode("utf-16"), "facilities", {}, InputError, r"utf16\.csv: .*UTF-16.*CSV UTF-8"),
    ("semi.csv", (HEADER + ROWS).replace(",", ";").encode(), "facilities", {}, InputError,
     r"semi\.csv: looks semicolon-separated"),
    ("dupcol.csv", b"lon,lat,lon,category\n1,2,3,x\n", "facilities", {}, InputError,
     r"dupcol\.csv: the header names column\(s\) 'lon' more than once"),
    ("ragged.csv", (HEADER + "1,A,114.3,30.6,医院,extra,more\n").encode(), "facilities", {}, InputError,
     r"ragged\.csv: 1 row\(s\) have more fields than the header.s 5 \(lines 2\)"),
    ("sheet.csv", (HEADER + ROWS).encode(), "facilities", {"sheet": "x"}, InputError,
     r"sheet\.csv: sheet='x' applies only to Excel \.xlsx files"),
    ("dupid.csv", (HEADER + "7,A,114.3,30.6,医院\n7,B,114.3,30.6,公园\n").encode(), "facilities", {}, InputError,
     r"dupid\.csv: id column 'id' has duplicate values: row 1 \('7'\), row 2 \('7'\)"),
    ("dupcand.xlsx", "XLSX_DUP_CAND", "candidates", {}, InputError,
     r"dupcand\.xlsx: id column 'candidate_id' has duplicate values: row 1 \('S-001'\), row 3 \('S-001'\)"),
    ("pois.dbf", b"x", "facilities", {}, InputError, r"pois\.dbf: unsupported file type '\.dbf'"),
    ("broken_utf8.csv", (HEADER + ROWS * 10).encode()[:-40] + b"\xe5" + b"\n" + (ROWS * 5).encode(), "facilities", {},
     InputError, r"broken_utf8\.csv: UTF-8 text with 1 invalid byte\(s\) \(first at byte \d+, line 21\)"),
    ("location.csv", "name,location,category\nA,\"114.3,30.6\",医院\nB,114.3,医院\n".encode(), "candidates", {},
     InputError, r"location\.csv: column 'location' should hold 'lon,lat' pairs.*1 row\(s\) do not \(rows 2\)"),
    ("two_lons.csv", b"lon_a,lon_b,lat,category\n1,2,30,x\n", "facilities", {}, InputError,
     r"two_lons\.csv: no longitude column found; the columns are: lon_a, lon_b, lat"),
    ("missing.xlsx", None, "candidates", {}, InputFileNotFoundError, r"missing\.xlsx.*does not exist"),
]


def _make(path, content):
    if content is None:
        return path
    if isinstance(content, bytes):
        path.write_bytes(content)
        return path
    sheets = {
        "XLSX_HEADER_ONLY": {"s": pd.DataFrame(columns=["lon", "lat", "category"])},
        "XLSX_TEXT_COORDS": {"s": pd.DataFrame({"lon": ["114.3", "n/a"], "lat": ["30.6", "30.6"], "category": ["park"] * 2})},
        "XLSX_OK": {"封面": pd.DataFrame({"x": [1]}),
                    "设施": pd.DataFrame({"lon": [114.3], "lat": [30.6], "category": ["park"]})},
        "XLSX_DUP_CAND": {"s": pd.DataFrame({"candidate_id": ["S-001", "S-002", "S-001"], "lon": [114.3] * 3,
                                             "lat": [30.6] * 3, "category": ["park"] * 3})},
    }[content]
    target = path if path.suffix == ".xlsx" else path.with_suffix(".xlsx")
    with pd.ExcelWriter(target, engine="openpyxl") as w:
        for name, frame in sheets.items():
            frame.to_excel(w, sheet_name=name, index=False)
    if target != path:
        target.rename(path)
    return path


def _read(reader, path, **kwargs):
    if reader == "facilities":
        return read_facility_file(path, crs="gcj02", **kwargs)
    if reader == "candidates":
        return load_candidates(path, candidates_crs="gcj02", **kwargs)
    return load_units(path, units_crs="gcj02", **kwargs)


@pytest.mark.parametrize("name,content,reader,kwargs,error,pattern", BAD, ids=[b[0] for b in BAD])
def test_bad_tables_give_one_clear_error(tmp_path, name, content, reader, kwargs, error, pattern):
    path = _make(tmp_path / name, content)
    with pytest.raises(error, match=pattern):
        _read(reader, path, **kwargs)


# --------------------------------------------------------------------------- through the CLI


def _sites_near_the_network(wuhan_dir, n=4):
    """``n`` well-spread walk-network nodes in the middle of Optics Valley, WGS84."""
    from circles.network import load_network

    net = load_network(wuhan_dir / "guanggu.osm", mode="walk")
    main = np.flatnonzero(net.component == 0)
    d = (net.lon[main] - 114.518) ** 2 + (net.lat[main] - 30.485) ** 2
    near = main[np.argsort(d)[:200]]
    return net.lon[near[::50][:n]], net.lat[near[::50][:n]]


@pytest.mark.wuhan
def test_cli_score_keeps_candidate_ids_and_gcj02_from_an_excel_sheet(tmp_path, wuhan_dir, capsys):
    from circles.cli import main

    lon, lat = _sites_near_the_network(wuhan_dir)
    glon, glat = wgs84_to_gcj02(lon, lat)
    ids = [f"S-{i + 1:03d}" for i in range(len(lon))]
    user_lon = [f"{v:.6f}" for v in glon]  # as the user typed them from Amap
    user_lat = [f"{v:.6f}" for v in glat]
    sites = pd.DataFrame({"candidate_id": ids, "名称": [f"候选点{i + 1}" for i in range(len(ids))],
                          "经度": user_lon, "纬度": user_lat, "类别": "养老院"})
    path = tmp_path / "sites.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as w:
        pd.DataFrame({"说明": ["候选点见第二页"]}).to_excel(w, sheet_name="说明", index=False)
        sites.to_excel(w, sheet_name="候选点", index=False)
    out = tmp_path / "out"
    code = main(["score", "--network", str(wuhan_dir / "guanggu.osm"),
                 "--population", str(wuhan_dir / "population_20plus.tif"),
                 "--population-65plus", str(wuhan_dir / "population_65plus.tif"),
                 "--candidates", str(path), "--candidates-crs", "gcj02", "--candidates-sheet", "候选点",
                 "--circle", "elderly_care_15", "--k", "2", "--out", str(out), "--quiet"])
    captured = capsys.readouterr()
    assert code == 0, captured.out + captured.err
    scores = pd.read_csv(out / "scores.csv", encoding="utf-8-sig", dtype={"lon_gcj02": str, "lat_gcj02": str})
    assert sorted(scores["candidate_id"]) == ids  # not "sites-0001" …
    by_id = scores.set_index("candidate_id")
    # the user's own GCJ-02 numbers, as typed, and WGS84 labelled lon/lat
    assert [by_id.loc[i, "lon_gcj02"] for i in ids] == user_lon
    assert [by_id.loc[i, "lat_gcj02"] for i in ids] == user_lat
    wlon, wlat = gcj02_to_wgs84(np.array(user_lon, float), np.array(user_lat, float))
    # WGS84 lon/lat are written with 6 decimals (about 0.1 m; QA item 13), the GCJ-02 ones as typed
    assert np.allclose([by_id.loc[i, "lon"] for i in ids], wlon, rtol=0, atol=5e-7)
    assert np.allclose([by_id.loc[i, "lat"] for i in ids], wlat, rtol=0, atol=5e-7)
    selected = pd.read_csv(out / "selected.csv", encoding="utf-8-sig", dtype={"lon_gcj02": str, "lat_gcj02": str})
    assert len(selected) >= 1 and set(selected["candidate_id"]) <= set(ids)
    for row in selected.itertuples():
        k = ids.index(row.candidate_id)
        assert (row.lon_gcj02, row.lat_gcj02) == (user_lon[k], user_lat[k])
        assert row.lon == pytest.approx(wlon[k], abs=5e-7) and row.lat == pytest.approx(wlat[k], abs=5e-7)
    book = pd.read_excel(out / "scores.xlsx", sheet_name=None)
    assert any("lon_gcj02" in str(c) for c in book["scores"].columns)


def test_cli_unknown_candidates_sheet_lists_the_sheets(tmp_path, capsys):
    from circles.cli import main

    path = tmp_path / "sites.xlsx"
    pd.DataFrame({"lon": [114.51], "lat": [30.48], "category": ["park"]}).to_excel(path, sheet_name="候选点", index=False)
    network = tmp_path / "never_analysed.osm"  # exists, so the up-front path checks pass; never read
    network.write_text("<osm/>", encoding="utf-8")
    code = main(["score", "--network", str(network), "--candidates", str(path),
                 "--candidates-crs", "wgs84", "--candidates-sheet", "Sheet1", "--out", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "no sheet named 'Sheet1'; the sheets are: '候选点'" in err and "Traceback" not in err
    assert "never_analysed" not in err  # the candidates file is checked before the network is read


@pytest.mark.wuhan
def test_cli_analyze_reads_facilities_from_an_excel_sheet(tmp_path, wuhan_dir, capsys):
    import geopandas as gpd

    from circles.cli import main

    raw = pd.read_csv(wuhan_dir / "weibo_pois_gcj02.csv", dtype=str)
    raw = raw[raw["Category"].isin(["医院", "公园", "图书馆"])].head(30)
    table = pd.DataFrame({"编号": [f"F{i:03d}" for i in range(len(raw))], "名称": raw["Name_POI"].to_numpy(),
                          "经度": raw["Longitude"].astype(float).to_numpy(), "纬度": raw["Latitude"].astype(float).to_numpy(),
                          "类别": raw["Category"].to_numpy()})
    path = tmp_path / "设施清单.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as w:
        pd.DataFrame({"x": [1]}).to_excel(w, sheet_name="封面", index=False)
        table.to_excel(w, sheet_name="设施", index=False)
    out = tmp_path / "out"
    code = main(["analyze", "--network", str(wuhan_dir / "guanggu.osm"), "--facilities", str(path),
                 "--facilities-crs", "gcj02", "--facilities-sheet", "设施", "--out", str(out), "--quiet"])
    captured = capsys.readouterr()
    assert code == 0, captured.out + captured.err
    fac = gpd.read_file(out / "coverage.gpkg", layer="facilities")
    mine = fac[fac["source"] == path.name].set_index("facility_id")
    assert sorted(mine.index) == sorted(table["编号"])  # the user's ids
    t = table.set_index("编号")
    assert np.array_equal(mine.loc[t.index, "lon_gcj02"].to_numpy(), t["经度"].to_numpy())
    assert np.array_equal(mine.loc[t.index, "lat_gcj02"].to_numpy(), t["纬度"].to_numpy())
    wlon, _ = gcj02_to_wgs84(t["经度"].to_numpy(), t["纬度"].to_numpy())
    assert np.allclose(mine.loc[t.index, "lon"], wlon, rtol=0, atol=1e-9)


@pytest.mark.wuhan
def test_generated_candidates_get_gcj02_columns_when_the_run_is_gcj02(wuhan_dir):
    from circles.analysis import analyze
    from circles.scoring import generate_candidates

    result = analyze(wuhan_dir / "guanggu.osm", facilities=wuhan_dir / "weibo_pois_gcj02.csv", facilities_crs="gcj02")
    cands = generate_candidates(result, categories=["elderly_care"], spacing_m=400)
    assert len(cands) and {"lon", "lat", "lon_gcj02", "lat_gcj02"} <= set(cands.columns)
    glon, glat = wgs84_to_gcj02(cands["lon"].to_numpy(), cands["lat"].to_numpy())
    assert np.allclose(cands["lon_gcj02"], glon, rtol=0, atol=1e-12)
    assert np.allclose(cands["lat_gcj02"], glat, rtol=0, atol=1e-12)
    assert np.allclose(cands["lon"], cands.geometry.x)
    bd = generate_candidates(result, categories=["elderly_care"], spacing_m=400, candidates_crs="bd09")
    assert {"lon_bd09", "lat_bd09"} <= set(bd.columns) and "lon_gcj02" not in bd.columns
    plain = analyze(wuhan_dir / "guanggu.osm")  # OSM facilities only: WGS84, no converted columns
    assert "lon_gcj02" not in generate_candidates(plain, categories=["elderly_care"], spacing_m=400).columns


def test_facilities_from_a_shapefile_keep_ids_and_gcj02_numbers(tmp_path):
    import geopandas as gpd

    glon, glat = np.array([114.275742, 114.2705]), np.array([30.58349, 30.5905])
    gdf = gpd.GeoDataFrame({"编号": ["0012", "0013"], "名称": ["协和医院", "中山公园"], "类别": ["医院", "公园"]},
                           geometry=gpd.points_from_xy(glon, glat), crs="EPSG:4326")
    path = tmp_path / "设施.shp"
    gdf.to_file(path, encoding="utf-8")
    fs = read_facility_file(path, crs="gcj02")  # Amap numbers in a file labelled EPSG:4326
    f = fs.facilities
    assert f["facility_id"].tolist() == ["0012", "0013"] and f["name"].tolist() == ["协和医院", "中山公园"]
    assert f["category"].tolist() == ["primary_care", "public_space"]
    assert np.array_equal(f["lon_gcj02"].to_numpy(), glon) and np.array_equal(f["lat_gcj02"].to_numpy(), glat)
    assert np.allclose(f["lon"], gcj02_to_wgs84(glon, glat)[0], rtol=0, atol=1e-12)
    (tmp_path / "设施.shx").unlink()
    with pytest.raises(InputError, match=r"设施\.shp: could not read it.*needs its \.shx and \.dbf"):
        read_facility_file(path, crs="gcj02")


def test_title_rows_above_the_header_are_skipped_and_counted(tmp_path):
    path = _write(tmp_path, "武汉市养老机构名录,,,,\n,,,,\n" + HEADER + ROWS, encoding="gbk")
    frame = _tables.read_table(path)
    assert list(frame.columns) == ["id", "name", "lon", "lat", "category"] and frame["id"].tolist() == ["0012", "0013"]
    assert frame.attrs["title_rows"] == 1 and frame.attrs["first_data_row"] == 4
    assert _tables.file_rows(frame, [0, 1]) == [4, 5]


def test_loose_coordinate_names():
    cols = ["名称", "经度(GCJ02)", "纬度（高德）", "long_name"]
    find = _tables.find_column
    assert find(cols, None, _tables.LON_COLUMNS, what="lon", option="o", source="s", loose=True) == "经度(GCJ02)"
    assert find(cols, None, _tables.LAT_COLUMNS, what="lat", option="o", source="s", loose=True) == "纬度（高德）"
    assert find(cols, None, _tables.LON_COLUMNS, what="lon", option="o", source="s") is None  # only when asked
    assert find(["long_name", "lon_a", "lon_b"], None, _tables.LON_COLUMNS, what="lon", option="o", source="s",
                loose=True) is None  # "long_name" is no longitude; two lon_* are ambiguous


def test_geojson_candidates_keep_ids_and_bd09_csv_keeps_bd09(tmp_path):
    import geopandas as gpd

    from circles.coords import bd09_to_wgs84

    gdf = gpd.GeoDataFrame({"site_id": ["0007", "A-2"], "类别": ["养老院", "急救站"]},
                           geometry=gpd.points_from_xy([114.52, 114.51], [30.485, 30.48]), crs="EPSG:4326")
    path = tmp_path / "sites.geojson"
    gdf.to_file(path)
    cands = load_candidates(path, candidates_crs="gcj02")
    assert cands["candidate_id"].tolist() == ["0007", "A-2"]
    assert cands["lon_gcj02"].tolist() == [114.52, 114.51] and cands["lat_gcj02"].tolist() == [30.485, 30.48]
    csv = _write(tmp_path, "编码,名称,经度,纬度,类型\n0099,某医院,114.281,30.590,医院\n", name="bd.csv")
    f = read_facility_file(csv, crs="BD-09").facilities
    assert f["facility_id"].tolist() == ["0099"]
    assert (f["lon_bd09"].item(), f["lat_bd09"].item()) == (114.281, 30.590) and "lon_gcj02" not in f
    lon, lat = bd09_to_wgs84(114.281, 30.590)
    assert f["lon"].item() == pytest.approx(lon, abs=1e-12) and f["lat"].item() == pytest.approx(lat, abs=1e-12)


def test_cli_bad_candidates_crs_fails_before_the_analysis(tmp_path, capsys):
    from circles.cli import main

    code = main(["score", "--network", str(tmp_path / "none.osm"), "--candidates-crs", "utm",
                 "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "--candidates-crs='utm' is not a known coordinate system" in err
    assert not (tmp_path / "o").exists()


def test_degrees_minutes_seconds():
    values, n = _tables.degrees(["114.3", "114°16′32.7″", "东经114度16分", "30°35'N", "30°35'12\"S", "西经 73°",
                                 "abc", None])
    assert n == 5
    expected = [114.3, 114 + 16 / 60 + 32.7 / 3600, 114 + 16 / 60, 30 + 35 / 60, -(30 + 35 / 60 + 12 / 3600), -73.0]
    assert np.allclose(values[:6], expected, rtol=0, atol=1e-12) and np.isnan(values[6:]).all()
