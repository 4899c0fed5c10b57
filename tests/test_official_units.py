"""Official unit lists as units, end to end (issue #9, seen item 5).

Wuhan's official list (communities_gcj02.csv: 3,412 communities/villages, 197
sub-districts/towns and 13 districts in one table, told apart by ``level``;
centre points in GCJ-02 for only some rows) must work from the CLI: rows
without coordinates dropped with a count, units outside the study area dropped
with a count (an error with the likely cause when all are), one administrative
level, point units given the rasters' people, the user's ids, names and
GCJ-02 coordinates back in the tables, and every output written.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from circles.analysis import analyze
from circles.cli import MAX_POINT_UNIT_DISTANCE_M as CLI_DEFAULT
from circles.cli import main
from circles.coords import gcj02_to_wgs84, wgs84_to_gcj02
from circles.errors import InputError, ValidationError
from circles.outputs.atomic import write_gpkg_atomic
from circles.population import raster_total_in_area
from circles.unit_area import select_units
from circles.units import MAX_POINT_UNIT_DISTANCE_M, load_units

UTM50N = "EPSG:32650"
#: The Optics Valley extract's declared bounds: the default study area.
GUANGGU = shapely.box(114.49986, 30.47688, 114.53790, 30.49247)
#: In the walk network of guanggu.osm: ~1 m and ~199 m from the nearest node.
ON_NETWORK = (114.528692, 30.490526)
OFF_100M = (114.504692, 30.485368)


@pytest.fixture(scope="module")
def paths(wuhan_dir):
    return {
        "network": wuhan_dir / "guanggu.osm", "communities": wuhan_dir / "communities_gcj02.csv",
        "pop": wuhan_dir / "population_20plus.tif", "pop65": wuhan_dir / "population_65plus.tif",
        "districts": wuhan_dir / "districts.geojson",
    }


def _dq(result) -> dict:
    sheet = result.data_quality["units"]
    return dict(zip(sheet["item"], sheet["value"]))


def _units_row(result) -> pd.Series:
    inputs = result.data_quality["inputs"]
    rows = inputs[inputs["input"] == "units"]
    assert len(rows) == 1
    return rows.iloc[0]


# ------------------------------------------------------------------ the official list from Python


@pytest.mark.wuhan
def test_official_list_in_optics_valley(paths):
    raw = pd.read_csv(paths["communities"], dtype=str)
    located = raw["longitude"].notna() & raw["latitude"].notna()
    result = analyze(paths["network"], units=paths["communities"], units_crs="gcj02", drop_missing=True,
                     population=paths["pop"], population_65plus=paths["pop65"])
    dq = _dq(result)
    assert dq["rows_read"] == len(raw) and dq["dropped_missing"] == int((~located).sum())
    assert dq["total"] == int(located.sum())
    # where every located row lies, measured independently of the code under test
    lon = raw.loc[located, "longitude"].astype(float).to_numpy()
    lat = raw.loc[located, "latitude"].astype(float).to_numpy()
    wx, wy = gcj02_to_wgs84(lon, lat)
    inside = shapely.covers(GUANGGU, shapely.points(wx, wy))
    assert dq["inside"] == int(inside.sum()) >= 1
    assert dq["outside"] == int((~inside).sum())
    levels_inside = raw.loc[located, "level"].to_numpy()[inside]
    # no community (village level) has a centre point inside Optics Valley: the finest level present stands in
    assert "village" not in set(levels_inside)
    assert dq["level_kept"] == "town"
    assert len(result.units) == int((levels_inside == "town").sum())
    assert dq["nearest_outside_m"] > 1000
    row = _units_row(result)
    assert (row["total"], row["inside"], row["outside"]) == (dq["total"], dq["inside"], dq["outside"])
    assert row["likely_cause"].startswith("the list covers a larger area than the study area")
    # the user's ids and names came back
    kept = raw.loc[located].iloc[np.flatnonzero(inside & (levels_inside == "town"))]
    assert result.units["unit_id"].tolist() == kept["code"].tolist()
    assert result.units["name"].tolist() == kept["name"].tolist()
    # the counts are stated
    text = " ".join(result.assumptions)
    assert f"{dq['dropped_missing']:,} of {len(raw):,} rows" in text
    assert f"{dq['outside']:,} of {dq['total']:,} units lie outside the study area" in text
    assert "none of the 801 village rows lies inside" in text


@pytest.mark.wuhan
def test_point_units_population_is_conserved(paths):
    result = analyze(paths["network"], units=paths["communities"], units_crs="gcj02", drop_missing=True,
                     population=paths["pop"], population_65plus=paths["pop65"])
    dq = _dq(result)
    total = raster_total_in_area(paths["pop"], result.area)
    total65 = raster_total_in_area(paths["pop65"], result.area)
    assert result.units["population"].sum() > 0  # the unit inside got people from the raster
    assert dq["population_unassigned"] > 0 and dq["cells_unassigned"] > 0  # cells beyond 1 km: in no unit
    assert result.units["population"].sum() + dq["population_unassigned"] == pytest.approx(total, rel=1e-9)
    assert result.units["population_65plus"].sum() + dq["population_65plus_unassigned"] == pytest.approx(
        total65, rel=1e-9)
    assert dq["population_allocated"] == pytest.approx(result.units["population"].sum())
    assert dq["max_distance_m"] == MAX_POINT_UNIT_DISTANCE_M == CLI_DEFAULT
    assert any("within 1,000 m" in a and "in no unit" in a for a in result.assumptions)


def _points_frame(points, **extra) -> gpd.GeoDataFrame:
    lon, lat = np.array(points, float).T
    return gpd.GeoDataFrame({"社区编码": [f"C{i:02d}" for i in range(len(lon))],
                             "名称": [f"社区{i}" for i in range(len(lon))], **extra},
                            geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


@pytest.mark.wuhan
def test_cells_go_to_the_nearest_unit_point_within_the_distance(paths):
    pts = [(114.505, 30.480), (114.520, 30.486), (114.535, 30.490)]
    result = analyze(paths["network"], units=_points_frame(pts), population=paths["pop"],
                     units_max_distance_m=600)
    units = result.units
    assert units["unit_id"].tolist() == ["C00", "C01", "C02"] and units["name"].tolist() == ["社区0", "社区1", "社区2"]
    # brute force, all pairs: each settled cell goes to its nearest unit if within 600 m
    d = result.demand
    to_m = Transformer.from_crs("EPSG:4326", UTM50N, always_xy=True)
    cx, cy = to_m.transform(d.lon, d.lat)
    ux, uy = to_m.transform(*np.array(pts).T)
    dist = np.hypot(cx[:, None] - ux[None, :], cy[:, None] - uy[None, :])
    expect = np.where(dist.min(axis=1) <= 600, dist.argmin(axis=1), -1)
    assert np.array_equal(d.unit, expect)
    expected_pop = np.bincount(expect[expect >= 0], weights=d.weight_all[expect >= 0], minlength=3)
    assert units["population"].to_numpy() == pytest.approx(expected_pop)
    assert (expected_pop > 0).all()
    assert _dq(result)["population_unassigned"] == pytest.approx(d.weight_all[expect < 0].sum())
    # point units carry lon/lat
    assert units["lon"].tolist() == pytest.approx([p[0] for p in pts])


# ------------------------------------------------------------------ outside the area, levels


@pytest.mark.wuhan
def test_units_outside_the_area_are_dropped_and_counted(paths, tmp_path):
    inside = [(114.510, 30.481), (114.525, 30.488)]
    outside = [(114.30, 30.60), (114.60, 30.40), (114.56, 30.47)]
    wgs = np.array(inside + outside)
    glon, glat = wgs84_to_gcj02(wgs[:, 0], wgs[:, 1])
    csv = tmp_path / "units.csv"
    pd.DataFrame({"编号": ["A", "B", "C", "D", "E"], "名称": list("甲乙丙丁戊"), "经度": glon, "纬度": glat}).to_csv(
        csv, index=False, encoding="utf-8-sig")
    result = analyze(paths["network"], units=csv, units_crs="gcj02")
    assert result.units["unit_id"].tolist() == ["A", "B"]
    assert result.units["name"].tolist() == ["甲", "乙"]
    row = _units_row(result)
    assert (row["total"], row["inside"], row["outside"]) == (5, 2, 3)
    to_m = Transformer.from_crs("EPSG:4326", UTM50N, always_xy=True)
    area_m = shapely.transform(GUANGGU, lambda xy: np.column_stack(to_m.transform(xy[:, 0], xy[:, 1])))
    nearest = min(shapely.distance(area_m, shapely.Point(*to_m.transform(*p))) for p in outside)
    assert row["nearest_outside_m"] == pytest.approx(nearest, rel=1e-6)
    # the user's own GCJ-02 numbers come back unchanged, WGS84 beside them
    assert result.units["lon_gcj02"].tolist() == glon[:2].tolist()
    assert result.units["lon"].to_numpy() == pytest.approx(wgs[:2, 0], abs=1e-7)
    assert not {"经度", "纬度"} & set(result.units.columns)  # replaced by the labelled columns
    assert any("3 of 5 units lie outside the study area" in a for a in result.assumptions)


@pytest.mark.wuhan
def test_all_outside_names_the_likely_cause(paths, tmp_path):
    # Points in the east strip of the area, written in GCJ-02 but declared WGS84: ~550 m off, all outside.
    wlon = np.array([114.5340, 114.5350, 114.5360])
    wlat = np.array([30.4800, 30.4850, 30.4900])
    glon, glat = wgs84_to_gcj02(wlon, wlat)
    assert not shapely.covers(GUANGGU, shapely.points(glon, glat)).any()
    csv = tmp_path / "amap.csv"
    pd.DataFrame({"id": ["a", "b", "c"], "lng": glon, "lat": glat}).to_csv(csv, index=False)
    with pytest.raises(InputError, match=r"none of the 3 units lies inside the study area.*GCJ-02.*--units-crs gcj02"):
        analyze(paths["network"], units=csv, units_crs="wgs84")
    # the same numbers declared GCJ-02 are fine
    ok = analyze(paths["network"], units=csv, units_crs="gcj02")
    assert ok.units["unit_id"].tolist() == ["a", "b", "c"]
    # another city
    far = tmp_path / "beijing.csv"
    pd.DataFrame({"id": ["x"], "lng": [116.40], "lat": [39.90]}).to_csv(far, index=False)
    with pytest.raises(InputError, match="another place"):
        analyze(paths["network"], units=far, units_crs="wgs84")


def test_level_auto_keeps_the_finest_level_inside():
    pts = [(114.51, 30.48), (114.52, 30.485), (114.53, 30.49), (114.515, 30.482), (114.60, 30.60)]
    units = _points_frame(pts, level=["village", "village", "town", "county", "village"])
    kept, report = select_units(units, GUANGGU, metric_crs=UTM50N)
    assert kept["社区编码"].tolist() == ["C00", "C01"]
    assert report["outside"] == 1 and report["set_aside"] == 2
    assert report["set_aside_by_level"] == {"town": 1, "county": 1}
    kept, report = select_units(units, GUANGGU, metric_crs=UTM50N, level="village,town")
    assert kept["社区编码"].tolist() == ["C00", "C01", "C02"] and report["set_aside_by_level"] == {"county": 1}
    kept, report = select_units(units, GUANGGU, metric_crs=UTM50N, level="all")
    assert len(kept) == 4 and report["set_aside"] == 0
    with pytest.raises(InputError, match=r"\['district'\] not found in column 'level'"):
        select_units(units, GUANGGU, metric_crs=UTM50N, level="district")
    # asked for a level that has rows, but none inside: the all-outside error
    only_far = _points_frame(pts, level=["town", "town", "town", "town", "village"])
    with pytest.raises(InputError, match="none of the 1 village rows lies inside"):
        select_units(only_far, GUANGGU, metric_crs=UTM50N, level="village")
    with pytest.raises(InputError, match="needs a level column"):
        select_units(_points_frame(pts), GUANGGU, metric_crs=UTM50N, level="village")


# ------------------------------------------------------------------ off network, gpkg


@pytest.mark.wuhan
def test_off_network_point_units_are_counted(paths):
    units = _points_frame([ON_NETWORK, OFF_100M])
    result = analyze(paths["network"], units=units, max_snap_m=100)
    assert _units_row(result)["off_network"] == 1
    assert _dq(result)["off_network"] == 1
    # without population each unit is one demand point at its own location (circles with data only:
    # a circle missing a category's facilities is "no data" for every unit, contract 1)
    status = result.summary["status"] if "status" in result.summary else pd.Series("ok", index=result.summary.index)
    with_data = result.summary[status != "no_data"]
    assert "public_activity_10" in set(with_data["circle"]) and (with_data["units_off_network"] == 1).all()
    assert result.units.set_index("unit_id").loc["C01", "public_activity_10_status"] == "off_network"
    assert any("1 of the 2 units kept lie farther than 100 m" in a for a in result.assumptions)
    # with population the unit's people are the raster cells near it, most of them on the network
    with_pop = analyze(paths["network"], units=units, max_snap_m=100, population=paths["pop"])
    assert _units_row(with_pop)["off_network"] == 1
    assert with_pop.units["population"].gt(0).all()


def test_gpkg_skips_a_table_without_columns(tmp_path):
    layer = gpd.GeoDataFrame({"unit_id": ["a"]}, geometry=[shapely.Point(114.5, 30.5)], crs="EPSG:4326")
    path = write_gpkg_atomic({"units": layer}, tmp_path / "x.gpkg",
                             tables={"district_summary": pd.DataFrame(), "summary": pd.DataFrame({"a": [1]})})
    import pyogrio

    assert {name for name, _ in pyogrio.list_layers(path)} == {"units", "summary"}


@pytest.mark.wuhan
def test_nobody_in_any_unit_still_writes_every_output(paths, tmp_path):
    # a point unit farther than --units-max-distance-m from every settled cell: no row in the district summary
    result = analyze(paths["network"], units=_points_frame([ON_NETWORK]), population=paths["pop"],
                     districts=paths["districts"], units_max_distance_m=1.0)
    assert result.units["population"].sum() == 0
    written = result.to_files(tmp_path / "out", map_html=False)
    assert written["gpkg"].is_file()
    units = gpd.read_file(written["gpkg"], layer="units")
    assert units["unit_id"].tolist() == ["C00"] and units.geom_type.tolist() == ["Point"]


# ------------------------------------------------------------------ the CLI, end to end


def _cli_args(paths, out, *extra):
    return ["analyze", "--network", str(paths["network"]), "--units", str(paths["communities"]),
            "--units-crs", "gcj02", *extra, "--population", str(paths["pop"]),
            "--population-65plus", str(paths["pop65"]), "--out", str(out), "--quiet"]


@pytest.mark.wuhan
def test_cli_missing_coordinates_name_rows_and_the_flag(paths, tmp_path, capsys):
    code = main(_cli_args(paths, tmp_path / "out"))
    err = capsys.readouterr().err
    assert code == 2
    assert "2710 of 3622 rows have no coordinates" in err
    assert "3 (大智街办事处)" in err  # the file row and its name
    assert "--drop-missing" in err
    assert not (tmp_path / "out" / "coverage.csv").exists()


@pytest.mark.wuhan
def test_cli_official_list_end_to_end(paths, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(_cli_args(paths, out, "--drop-missing", "--districts", str(paths["districts"])))
    printed = " ".join(capsys.readouterr().out.split())  # the console wraps long lines
    assert code == 0, printed
    for name in ("coverage.gpkg", "coverage.csv", "summary.csv", "district_summary.csv", "coverage.xlsx", "map.html"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert "2,710 of 3,622 rows" in printed and "--drop-missing" in printed
    assert "911 of 912 units lie outside the study area" in printed
    table = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig", dtype={"unit_id": str})
    assert table["unit_id"].tolist() == ["420115087000"]
    assert table["name"].tolist() == ["豹澥街道办事处"]
    assert table["population"].iloc[0] > 1000
    raw = pd.read_csv(paths["communities"], dtype=str).set_index("code")
    assert table["lon_gcj02"].iloc[0] == float(raw.loc["420115087000", "longitude"])
    assert table["lat_gcj02"].iloc[0] == float(raw.loc["420115087000", "latitude"])
    assert math.hypot(table["lon"].iloc[0] - table["lon_gcj02"].iloc[0],
                      table["lat"].iloc[0] - table["lat_gcj02"].iloc[0]) > 0.003  # the GCJ-02 shift, ~550 m
    sheets = pd.read_excel(out / "coverage.xlsx", sheet_name=None)
    assert "dq_units" in sheets
    gpkg = gpd.read_file(out / "coverage.gpkg", layer="units")
    assert gpkg.geom_type.tolist() == ["Point"] and gpkg["name"].tolist() == ["豹澥街道办事处"]
    _map_opens(out / "map.html", tmp_path / "map.png")


def _map_opens(path, screenshot) -> None:
    """The map of one point unit opens (bounds of a single point have no extent)."""
    from browser import open_in_chromium, require_chromium

    require_chromium()
    report = open_in_chromium(path, screenshot=screenshot)
    assert report.ok, report.summary()  # was "Invalid LatLng object: (NaN, NaN)" from zero-size bounds


@pytest.mark.wuhan
def test_cli_units_flags_reach_analyze(paths, tmp_path, capsys):
    code = main(_cli_args(paths, tmp_path / "o", "--drop-missing", "--units-level", "village"))
    err = capsys.readouterr().err
    assert code == 2
    assert "none of the 801 village rows lies inside the study area" in err
    code = main(_cli_args(paths, tmp_path / "o", "--drop-missing", "--units-max-distance-m", "0"))
    assert code == 2 and "--units-max-distance-m" in capsys.readouterr().err


# ------------------------------------------------------------------ other shapes of the same input


def test_units_near_a_network_without_declared_bounds_are_kept(tmp_path):
    # A street without <bounds>: the study area is a hull hugging it; a unit 150 m off the street
    # (within the 300 m snap) is inside the study area, one 2 km off is outside and dropped.
    from osm_builder import lonlat, write_osm

    from circles.network import load_network

    nodes = {i + 1: (100.0 * i, 0.0) for i in range(11)}
    street = load_network(write_osm(tmp_path / "street.osm", nodes, [(1, list(nodes), {"highway": "residential"})]),
                          mode="walk")
    assert not street.report.get("file_bounds")
    units = gpd.GeoDataFrame({"unit_id": ["near", "far"], "population": [10.0, 5.0]},
                             geometry=[shapely.Point(*lonlat(500, 150)), shapely.Point(*lonlat(500, 2000))],
                             crs="EPSG:4326")
    result = analyze(street, policy="gb50180-2018", units=units, osm_facilities=False)
    assert result.units["unit_id"].tolist() == ["near"]
    row = _units_row(result)
    assert (row["inside"], row["outside"], row["off_network"]) == (1, 1, 0)


def test_excel_list_with_chinese_headers(tmp_path):
    path = tmp_path / "社区名录.xlsx"
    pd.DataFrame({"社区编码": ["0420001", "0420002", "0420003"], "名称": ["关山社区", "光谷社区", "无坐标社区"],
                  "经度": [114.5101, 114.5202, None], "纬度": [30.4801, 30.4852, None],
                  "级别": ["village", "village", "village"]}).to_excel(path, index=False)
    with pytest.raises(ValidationError, match=r"rows 4 \(无坐标社区\).*--drop-missing"):
        load_units(path, units_crs="gcj02")
    units = load_units(path, units_crs="gcj02", drop_missing=True)
    assert units["unit_id"].tolist() == ["0420001", "0420002"]  # leading zeros kept
    assert units["name"].tolist() == ["关山社区", "光谷社区"]
    assert units["lon_gcj02"].tolist() == [114.5101, 114.5202]
    assert units.attrs["dropped_rows"] == 1 and "无坐标社区" in units.attrs["dropped_labels"]
    kept, report = select_units(units, GUANGGU, metric_crs=UTM50N)
    assert report["level_column"] == "级别" and len(kept) == 2


def test_geodataframe_units_without_geometry(tmp_path):
    from circles.analysis import _normalise_units

    frame = gpd.GeoDataFrame({"code": ["a", "b"], "名称": ["甲", "乙"]},
                             geometry=[shapely.Point(114.51, 30.48), None], crs="EPSG:4326")
    with pytest.raises(InputError, match="--drop-missing"):
        _normalise_units(frame)
    out = _normalise_units(frame, drop_missing=True)
    assert out["unit_id"].tolist() == ["a"] and out["name"].tolist() == ["甲"]
    assert out.attrs["dropped_rows"] == 1


def test_every_command_taking_units_has_the_units_flags():
    import inspect

    from circles import cli

    for command in (cli.analyze, cli.map_command, cli.score):
        params = inspect.signature(command).parameters
        for name in ("drop_missing", "units_level", "units_max_distance_m", "units_id_column", "units_name_column"):
            assert name in params, (command.__name__, name)


@pytest.mark.wuhan
def test_cli_score_prints_what_happened_to_the_units(paths, tmp_path, capsys):
    code = main(["score", "--network", str(paths["network"]), "--units", str(paths["communities"]),
                 "--units-crs", "gcj02", "--drop-missing", "--population", str(paths["pop"]),
                 "--circle", "public_activity_10", "--out", str(tmp_path / "s"), "--quiet"])
    printed = " ".join(capsys.readouterr().out.split())
    assert code == 0, printed
    assert "2,710 of 3,622 rows" in printed and "911 of 912 units lie outside the study area" in printed
    assert "persons allocated to units" in printed and "65+" not in printed.split("persons allocated")[1][:80]


def test_most_outside_because_of_the_coordinate_system():
    # 4 points in the area's east strip given as GCJ-02 numbers but declared WGS84: 3 fall outside, and
    # read as GCJ-02 they would all be inside: that is the likely cause, even though one is inside.
    wlon = np.array([114.5340, 114.5350, 114.5360, 114.5100])
    wlat = np.array([30.4800, 30.4850, 30.4900, 30.4850])
    glon, glat = wgs84_to_gcj02(wlon, wlat)
    units = _points_frame(list(zip(glon, glat)))
    units.attrs["coordinate_system"] = "wgs84"
    kept, report = select_units(units, GUANGGU, metric_crs=UTM50N)
    assert (report["inside"], report["outside"]) == (1, 3)
    assert report["likely_cause"].startswith("wrong coordinate system: 3 units would fall inside")
    assert "--units-crs gcj02" in report["likely_cause"]
    # mostly inside: nothing to explain
    fine = _points_frame(list(zip(wlon, wlat)) + [(114.60, 30.60)])
    assert select_units(fine, GUANGGU, metric_crs=UTM50N)[1]["likely_cause"] == ""


@pytest.mark.wuhan
def test_map_of_the_official_list_opens(paths, tmp_path):
    out = tmp_path / "out"
    assert main(_cli_args(paths, out, "--drop-missing")) == 0
    _map_opens(out / "map.html", tmp_path / "map.png")


@pytest.mark.wuhan
def test_polygon_units_off_network_by_their_outline(paths):
    # a 1.2 km square whose centre lies ~200 m from the nearest node, with streets inside it: on the network;
    # a 60 m square around the point 199 m from any node: off the network (max_snap_m 100)
    to_m = Transformer.from_crs("EPSG:4326", UTM50N, always_xy=True)
    to_wgs = Transformer.from_crs(UTM50N, "EPSG:4326", always_xy=True)
    x, y = to_m.transform(*OFF_100M)

    def square(half):
        ring = shapely.box(x - half, y - half, x + half, y + half)
        return shapely.transform(ring, lambda xy: np.column_stack(to_wgs.transform(xy[:, 0], xy[:, 1])))

    units = gpd.GeoDataFrame({"unit_id": ["big", "small"]}, geometry=[square(600), square(30)], crs="EPSG:4326")
    result = analyze(paths["network"], units=units, max_snap_m=100, area=GUANGGU.bounds)
    row = _units_row(result)
    assert (row["total"], row["inside"], row["off_network"]) == (2, 2, 1)


def test_units_in_degrees_minutes_seconds(tmp_path):
    csv = tmp_path / "dms.csv"
    csv.write_text("编号,名称,经度,纬度\nA,关山社区,114°30′36″,30°29′\nB,光谷社区,114.52,30.485\n", encoding="utf-8")
    units = load_units(csv, units_crs="wgs84")
    assert units["lon"].tolist() == pytest.approx([114 + 30 / 60 + 36 / 3600, 114.52])
    assert units["lat"].tolist() == pytest.approx([30 + 29 / 60, 30.485])


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_point_geometry_file_keeps_the_users_own_coordinates(tmp_path, system):
    path = tmp_path / "pts.geojson"
    own = [(114.5201, 30.4852), (114.5302, 30.4881)]
    gpd.GeoDataFrame({"unit_id": ["p", "q"], "name": ["甲", "乙"]}, geometry=[shapely.Point(p) for p in own],
                     crs="EPSG:4326").to_file(path)
    units = load_units(path, units_crs=system)
    assert units[f"lon_{system}"].tolist() == [p[0] for p in own]
    assert units[f"lat_{system}"].tolist() == [p[1] for p in own]
    from circles.coords import to_wgs84

    lon, lat = to_wgs84(np.array([p[0] for p in own]), np.array([p[1] for p in own]), system)
    assert units["lon"].to_numpy() == pytest.approx(lon) and units["lat"].to_numpy() == pytest.approx(lat)
