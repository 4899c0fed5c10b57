"""Reading facility files and OSM features into the facilities data contract."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import Point, Polygon

from circles.classify import CATEGORIES
from circles.coords import wgs84_to_gcj02
from circles.errors import InputError, InputFileNotFoundError, NoDataError
from circles.facilities import (
    FACILITY_COLUMNS,
    UNCLASSIFIED_COLUMNS,
    FacilitySet,
    facilities_from_features,
    read_facility_file,
)

GEOD = Geod(ellps="WGS84")


def _csv(tmp_path, text, name="pois.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# --------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def weibo(wuhan_dir) -> FacilitySet:
    return read_facility_file(wuhan_dir / "weibo_pois_gcj02.csv", crs="gcj02")


@pytest.mark.wuhan
def test_weibo_file_loads_every_row(weibo):
    fs = weibo
    assert fs.n_input == 1676
    assert fs.source == "weibo_pois_gcj02.csv"
    # every row is either classified or listed as unclassified — none dropped
    assert fs.facilities["feature_id"].nunique() + len(fs.unclassified) == 1676
    assert list(fs.facilities.columns) == [*FACILITY_COLUMNS[:-1], "lon_gcj02", "lat_gcj02", "geometry"]
    assert list(fs.unclassified.columns) == list(UNCLASSIFIED_COLUMNS)
    assert fs.facilities.crs.to_epsg() == 4326
    assert fs.facilities["facility_id"].is_unique
    assert set(fs.facilities.geometry.geom_type) == {"Point"}


@pytest.mark.wuhan
def test_weibo_counts_per_category(weibo):
    # Observed counts, checked by hand against the Category column:
    # 医院 47; 中学 30; 小学 1; 超级市场 10 + 便民商店/便利店 6; 公园 33 + 公园户外 27 + 城市广场 3;
    # 图书馆 29 + 电影院 23 + 剧场 6 + 博物馆 3 + 美术馆 3 + 纪念馆 1; 综合体育馆 4 + 运动场所 4 + 健身中心 1.
    # The sample has no kindergartens, pharmacies, ambulance stations or nursing homes (data README).
    assert weibo.counts().to_dict() == {
        "grocery": 16,
        "primary_care": 47,
        "pharmacy": 0,
        "kindergarten": 0,
        "primary_school": 1,
        "middle_school": 30,
        "culture": 65,
        "sports": 9,
        "public_space": 63,
        "ambulance_station": 0,
        "elderly_care": 0,
        "aed": 0,
    }
    assert len(weibo.unclassified) == 1445  # restaurants, bus stops, universities, homes …
    assert weibo.missing_categories() == ["pharmacy", "kindergarten", "ambulance_station", "elderly_care", "aed"]
    assert weibo.missing_categories(["primary_care", "elderly_care"]) == ["elderly_care"]
    unc = set(weibo.unclassified["label"])
    assert {"快餐厅", "高等院校", "住宅区", "公交车站", "商场"} <= unc
    assert any("1445 of 1676" in n for n in weibo.notes)
    assert any("gcj02 to WGS84" in n for n in weibo.notes)


@pytest.mark.wuhan
def test_weibo_points_are_converted_to_wgs84(weibo):
    union = weibo.facilities[weibo.facilities["name"] == "华中科技大学同济医学院附属协和医院"]
    assert len(union) == 1 and union["category"].item() == "primary_care" and union["label"].item() == "医院"
    # README: 114.275742, 30.58349 (GCJ-02) → 114.2703, 30.5859 (WGS84)
    assert union.geometry.x.item() == pytest.approx(114.2703, abs=5e-5)
    assert union.geometry.y.item() == pytest.approx(30.5859, abs=5e-5)


@pytest.mark.wuhan
def test_weibo_name_hints_are_optional_and_reported(wuhan_dir, weibo):
    fs = read_facility_file(wuhan_dir / "weibo_pois_gcj02.csv", crs="gcj02", name_hints=True)
    assert (fs.counts() >= weibo.counts()).all()
    assert len(fs.unclassified) < len(weibo.unclassified)
    assert any("name_hints=True" in n for n in fs.notes)


# --------------------------------------------------------------------------- small files


def test_csv_with_chinese_columns_gbk_encoding(tmp_path):
    path = _csv(tmp_path, "名称,经度,纬度,类型\n协和医院,114.275742,30.58349,医院\n某某社区,114.3,30.6,住宅区\n", encoding="gbk")
    fs = read_facility_file(path, crs="gcj02")
    assert fs.facilities[["facility_id", "feature_id", "category", "name", "label"]].values.tolist() == [
        ["1:primary_care", "1", "primary_care", "协和医院", "医院"]
    ]
    assert fs.unclassified.values.tolist() == [[2, "2", "某某社区", "住宅区"]]


def test_csv_utf8_bom_ids_and_several_categories(tmp_path):
    text = "ID,Name,LNG,LAT,Category\na1,Shequ,114.3,30.6,culture;sports\na2,Park,114.31,30.61,风景名胜;公园广场;公园\n"
    path = _csv(tmp_path, text, encoding="utf-8-sig")
    fs = read_facility_file(path, crs="wgs84")
    # the user's id is kept; a row in several categories gets one id per category
    assert fs.facilities["facility_id"].tolist() == ["a1:culture", "a1:sports", "a2"]
    assert fs.facilities["basis"].tolist() == ["id", "id", "label"]
    assert fs.facilities.geometry.x.tolist() == [114.3, 114.3, 114.31]  # wgs84 is not shifted
    assert len(fs.unclassified) == 0


def test_explicit_columns_and_one_category_for_all(tmp_path):
    path = _csv(tmp_path, "station,E,N\n光谷急救站,114.40,30.50\n")
    fs = read_facility_file(path, crs="bd09", lon_column="E", lat_column="N", name_column="station", category="ambulance_station")
    assert fs.facilities["category"].tolist() == ["ambulance_station"]
    assert fs.facilities["name"].tolist() == ["光谷急救站"]
    x, y = fs.facilities.geometry.x.item(), fs.facilities.geometry.y.item()
    assert GEOD.inv(114.40, 30.50, x, y)[2] > 500  # BD-09 → WGS84 moved it


def test_duplicate_ids_are_an_error(tmp_path):
    path = _csv(tmp_path, "id,lon,lat,type\n7,114.3,30.6,医院\n7,114.3,30.6,公园\n")
    with pytest.raises(InputError, match=r"duplicate values: row 1 \('7'\), row 2 \('7'\)"):
        read_facility_file(path, crs="wgs84")


def test_geojson_declared_4326_with_gcj02_numbers(tmp_path):
    gcj = wgs84_to_gcj02(np.array([114.30, 114.35]), np.array([30.60, 30.55]))
    gdf = gpd.GeoDataFrame(
        {"name": ["A", "B"], "type": ["图书馆", "hospital"]},
        geometry=[Point(gcj[0][0], gcj[1][0]), Polygon([(gcj[0][1], gcj[1][1]), (gcj[0][1] + 0.001, gcj[1][1]), (gcj[0][1], gcj[1][1] + 0.001)])],
        crs="EPSG:4326",
    )
    path = tmp_path / "f.geojson"
    gdf.to_file(path, driver="GeoJSON")
    fs = read_facility_file(path, crs="gcj02")
    a = fs.facilities.iloc[0]
    assert a["category"] == "culture"
    assert GEOD.inv(114.30, 30.60, a.geometry.x, a.geometry.y)[2] < 0.01
    assert any("representative point" in n for n in fs.notes)
    # without crs= the numbers are taken as WGS84 because the file says EPSG:4326
    fs2 = read_facility_file(path)
    assert fs2.facilities.geometry.x.iloc[0] == pytest.approx(gcj[0][0])


def test_projected_geopackage_is_reprojected(tmp_path):
    gdf = gpd.GeoDataFrame({"category": ["park"]}, geometry=[Point(114.3, 30.6)], crs="EPSG:4326").to_crs("EPSG:32650")
    path = tmp_path / "f.gpkg"
    gdf.to_file(path, driver="GPKG")
    fs = read_facility_file(path)
    assert fs.facilities.geometry.x.item() == pytest.approx(114.3)
    assert any("EPSG:32650" in n for n in fs.notes)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_crs_less_geometry_file_needs_crs(tmp_path):
    gdf = gpd.GeoDataFrame({"category": ["park"]}, geometry=[Point(114.3, 30.6)], crs=None)
    path = tmp_path / "nocrs.gpkg"
    gdf.to_file(path, driver="GPKG")
    with pytest.raises(InputError, match=r"nocrs\.gpkg: the file declares no CRS; pass crs="):
        read_facility_file(path)
    assert read_facility_file(path, crs="wgs84").facilities.geometry.x.item() == pytest.approx(114.3)


# --------------------------------------------------------------------------- bad inputs


def test_missing_file():
    with pytest.raises(InputFileNotFoundError, match=r"no_such\.csv.*does not exist"):
        read_facility_file("no_such.csv", crs="wgs84")


def test_unknown_extension(tmp_path):
    path = tmp_path / "pois.dbf"
    path.write_bytes(b"x")
    with pytest.raises(InputError, match=r"unsupported file type '\.dbf'; expected a table \(\.csv"):
        read_facility_file(path, crs="wgs84")
    junk = tmp_path / "pois.xlsx"
    junk.write_bytes(b"x")
    with pytest.raises(InputError, match=r"pois\.xlsx: not a readable Excel \.xlsx workbook"):
        read_facility_file(junk, crs="wgs84")


def test_csv_needs_crs_and_a_known_one(tmp_path):
    path = _csv(tmp_path, "lon,lat,type\n114.3,30.6,医院\n")
    with pytest.raises(InputError, match=r"pois\.csv: say which coordinate system.*'gcj02'"):
        read_facility_file(path)
    with pytest.raises(InputError, match=r"crs='utm' is not a known coordinate system"):
        read_facility_file(path, crs="utm")


def test_no_coordinate_columns(tmp_path):
    path = _csv(tmp_path, "名称,东,北,类型\nA,114.3,30.6,医院\n")
    with pytest.raises(InputError) as err:
        read_facility_file(path, crs="wgs84")
    msg = str(err.value)
    assert "no longitude or latitude column" in msg
    assert "the columns are: 名称, 东, 北, 类型" in msg and "--lon-column" in msg
    with pytest.raises(InputError, match=r"'E', given as lon_column \(CLI --lon-column\), is not a column; the columns are: 名称, 东"):
        read_facility_file(path, crs="wgs84", lon_column="E")


def test_no_category_column(tmp_path):
    path = _csv(tmp_path, "name,lon,lat\nA,114.3,30.6\n")
    with pytest.raises(InputError, match=r"no category column found; the columns are: name, lon, lat.*--category-column.*category="):
        read_facility_file(path, crs="wgs84")
    with pytest.raises(InputError, match=r"category='hospital' is not a category id"):
        read_facility_file(path, crs="wgs84", category="hospital")


def test_bad_coordinates_name_rows(tmp_path):
    path = _csv(tmp_path, "name,lon,lat,type\nA,114.3,30.6,医院\nB,,30.6,医院\nC,30.6,114.3,医院\nD,abc,30.6,公园\n")
    with pytest.raises(InputError) as err:
        read_facility_file(path, crs="gcj02")
    msg = str(err.value)
    assert "pois.csv" in msg and "'lon', 'lat'" in msg
    assert "2 rows (rows 2, 4) have a missing or non-numeric" in msg
    assert "1 row (row 3) has a latitude outside -90..90" in msg and "swapped" in msg


def test_empty_files(tmp_path):
    with pytest.raises(NoDataError, match=r"empty\.csv: the file is empty"):
        read_facility_file(_csv(tmp_path, "", name="empty.csv"), crs="wgs84")
    with pytest.raises(NoDataError, match=r"header\.csv: has a header but no rows"):
        read_facility_file(_csv(tmp_path, "name,lon,lat,type\n", name="header.csv"), crs="wgs84")


# --------------------------------------------------------------------------- OSM features


def _features():
    return gpd.GeoDataFrame(
        {
            "feature_id": ["node/1", "way/2", "way/3", "node/4", "node/5"],
            "tags": [
                {"amenity": "hospital", "emergency": "yes", "name": "光谷同济医院"},
                {"leisure": "park"},
                {"amenity": "school"},
                {"amenity": "restaurant"},
                {"building": "yes"},
            ],
            "name": ["", "光谷公园", "武汉市光谷第十七小学", "", "关山社区卫生服务站"],
        },
        geometry=[
            Point(114.40, 30.50),
            Polygon([(114.41, 30.50), (114.42, 30.50), (114.42, 30.51), (114.41, 30.51)]),
            Point(114.43, 30.50),
            Point(114.44, 30.50),
            Point(114.45, 30.50),
        ],
        crs="EPSG:4326",
    )


def test_facilities_from_features():
    fs = facilities_from_features(_features())
    f = fs.facilities
    assert f["facility_id"].tolist() == ["node/1:primary_care", "way/2:public_space", "way/3:primary_school", "node/5:primary_care"]
    assert f["source"].unique().tolist() == ["osm"]
    assert f.loc[f["feature_id"] == "node/1", "label"].item() == "amenity=hospital;emergency=yes"
    assert f.loc[f["feature_id"] == "node/5", "basis"].item() == "name"
    park = f.loc[f["feature_id"] == "way/2"].geometry.item()
    assert park.geom_type == "Point" and 114.41 < park.x < 114.42
    assert fs.unclassified["feature_id"].tolist() == ["node/4"]
    assert any("from their name only" in n for n in fs.notes)
    assert fs.counts()["ambulance_station"] == 0


def test_hospital_as_ambulance_is_reported():
    fs = facilities_from_features(_features(), hospital_as_ambulance=True)
    amb = fs.facilities[fs.facilities["category"] == "ambulance_station"]
    assert amb["feature_id"].tolist() == ["node/1"] and amb["basis"].item() == "hospital_as_ambulance"
    assert any("1 hospital(s) tagged emergency=yes counted as ambulance stations" in n for n in fs.notes)


def test_features_bad_input():
    with pytest.raises(InputError, match=r"missing column\(s\) tags"):
        facilities_from_features(gpd.GeoDataFrame({"feature_id": ["a"]}, geometry=[Point(0, 0)]))
    bad = _features()
    bad.loc[0, "feature_id"] = "way/2"
    with pytest.raises(InputError, match=r"feature_id must be unique; duplicated: way/2"):
        facilities_from_features(bad)
    with pytest.raises(InputError, match="expected a GeoDataFrame"):
        facilities_from_features(pd.DataFrame())


def test_empty_facility_set_has_the_contract_columns(tmp_path):
    path = _csv(tmp_path, "name,lon,lat,type\nA,114.3,30.6,快餐厅\n")
    fs = read_facility_file(path, crs="wgs84")
    assert len(fs.facilities) == 0 and list(fs.facilities.columns) == list(FACILITY_COLUMNS)
    assert fs.facilities.crs.to_epsg() == 4326
    assert fs.counts().tolist() == [0] * len(CATEGORIES)


def test_facility_set_built_by_hand_counts_its_inputs():
    gdf = gpd.GeoDataFrame({"facility_id": ["a:park"], "feature_id": ["a"], "category": ["public_space"]},
                           geometry=[Point(114.3, 30.6)], crs="EPSG:4326")
    fs = FacilitySet(facilities=gdf, unclassified=pd.DataFrame(columns=["name", "label"]))
    assert fs.n_input == 1 and fs.source == "" and fs.counts()["public_space"] == 1
