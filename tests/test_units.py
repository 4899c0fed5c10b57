"""Neighbourhood units: generated grids, files, OSM residential areas, and the
assignment of demand points to units (nobody lost, nobody counted twice)."""

from __future__ import annotations

import json
import re
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import Point, Polygon, box

from circles.errors import InputError, InputFileNotFoundError, NoDataError, ValidationError
from circles.population import DemandPoints, demand_from_rasters, raster_total_in_area
from circles.units import UNIT_COLUMNS, assign_population, grid_units, load_units, units_from_osm_residential

UTM50N = "EPSG:32650"
GUANGGU = box(114.49986, 30.47688, 114.53790, 30.49247)


def _demand(lon, lat, pop, pop65=None):
    lon, lat, pop = (np.asarray(v, dtype=float) for v in (lon, lat, pop))
    return DemandPoints(lon=lon, lat=lat, population=pop,
                        population_65plus=np.zeros_like(pop) if pop65 is None else np.asarray(pop65, float))


def _check_contract(units):
    assert list(units.columns[: len(UNIT_COLUMNS)]) == list(UNIT_COLUMNS)
    assert units.crs.to_epsg() == 4326
    assert units["unit_id"].is_unique


# ------------------------------------------------------------------ grids on real data


@pytest.fixture(scope="module")
def rasters(wuhan_dir):
    return wuhan_dir / "population_20plus.tif", wuhan_dir / "population_65plus.tif"


@pytest.fixture(scope="module")
def hongshan(wuhan_dir):
    districts = gpd.read_file(wuhan_dir / "districts.geojson")
    return districts.loc[districts["name"] == "洪山区", "geometry"].iloc[0]


def _conserves(units, demand, area, rasters, index):
    pop20, pop65 = rasters
    total20, total65 = raster_total_in_area(pop20, area), raster_total_in_area(pop65, area)
    assert total20 > 0 and total65 > 0
    assert units["population"].sum() == pytest.approx(total20, rel=1e-3)
    assert units["population_65plus"].sum() == pytest.approx(total65, rel=1e-3)
    assert (index >= 0).all()  # every settled cell of the area is in a cell
    assert units.attrs["population_outside_units"] == 0
    assert units["population"].notna().all() and (units["population"] >= 0).all()


@pytest.mark.wuhan
@pytest.mark.parametrize("shape", ["square", "hexagon"])
def test_grid_over_guanggu_conserves_population(rasters, shape):
    demand = demand_from_rasters(rasters[0], GUANGGU, rasters[1])
    grid = grid_units(GUANGGU, metric_crs=UTM50N, shape=shape)
    _check_contract(grid)
    assert grid["population"].isna().all()  # unknown until assigned
    assert all(re.fullmatch(r"g\d{6}", u) for u in grid["unit_id"])
    units, index = assign_population(grid, demand)
    _conserves(units, demand, GUANGGU, rasters, index)
    assert (units["population"] == 0).any()  # unsettled cells are kept, with 0 people
    assert len(units) == len(grid)


@pytest.mark.wuhan
@pytest.mark.parametrize("shape", ["square", "hexagon"])
def test_grid_over_hongshan_conserves_population(rasters, hongshan, shape):
    demand = demand_from_rasters(rasters[0], hongshan, rasters[1])
    grid = grid_units(hongshan, metric_crs=UTM50N, shape=shape)
    _check_contract(grid)
    units, index = assign_population(grid, demand)
    _conserves(units, demand, hongshan, rasters, index)
    # cells tile the district: their areas add up to the district's (515.01 km² in the README)
    assert grid["area_m2"].sum() / 1e6 == pytest.approx(515.01, rel=1e-3)


def test_square_cells_tile_the_area_exactly_once():
    area = Polygon([(114.50, 30.47), (114.53, 30.475), (114.52, 30.50), (114.505, 30.49)])
    grid = grid_units(area, metric_crs=UTM50N, grid_m=250)
    projected = grid.to_crs(UTM50N)
    area_m2 = gpd.GeoSeries([area], crs=4326).to_crs(UTM50N).area.iloc[0]
    # no overlaps (sum of parts == area of union) and no gaps (== the area)
    assert projected.area.sum() == pytest.approx(area_m2, rel=1e-6)
    assert projected.union_all().area == pytest.approx(area_m2, rel=1e-6)
    assert projected.area.max() == pytest.approx(250 * 250, rel=1e-6)
    # whole cells cover the area too, and are all full squares
    whole = grid_units(area, metric_crs=UTM50N, grid_m=250, clip=False).to_crs(UTM50N)
    assert len(whole) == len(grid)
    assert np.allclose(whole.area, 250 * 250)
    assert whole.union_all().buffer(1e-6).contains(gpd.GeoSeries([area], crs=4326).to_crs(UTM50N).iloc[0])


def test_hexagons_have_centre_spacing_grid_m():
    grid = grid_units(GUANGGU, metric_crs=UTM50N, grid_m=200, shape="hexagon", clip=False).to_crs(UTM50N)
    assert np.allclose(grid.area, np.sqrt(3) / 2 * 200**2)  # flat-to-flat width 200 m
    centres = np.column_stack([grid.centroid.x, grid.centroid.y])
    from scipy.spatial import cKDTree

    d, _ = cKDTree(centres).query(centres, k=2)
    assert np.allclose(d[:, 1], 200.0)


def test_grid_parameters_are_checked():
    with pytest.raises(InputError, match="projected CRS in metres"):
        grid_units(GUANGGU, metric_crs="EPSG:4326")
    with pytest.raises(InputError, match="crs is required"):
        grid_units(GUANGGU, metric_crs=None)
    with pytest.raises(InputError, match="shape="):
        grid_units(GUANGGU, metric_crs=UTM50N, shape="triangle")
    with pytest.raises(InputError, match="grid_m"):
        grid_units(GUANGGU, metric_crs=UTM50N, grid_m=-5)
    with pytest.raises(InputError, match="larger grid_m"):
        grid_units(box(110, 25, 120, 35), metric_crs=UTM50N, grid_m=10)


# ------------------------------------------------------------------ loading files


def _write_geojson(path, features, crs_member=None):
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": None if geom is None else geom.__geo_interface__}
        for props, geom in features
    ]}
    if crs_member:
        doc["crs"] = {"type": "name", "properties": {"name": crs_member}}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_load_polygons_with_user_population(tmp_path):
    path = _write_geojson(tmp_path / "u.geojson", [
        ({"code": "A", "label": "甲", "pop": 10}, box(114.50, 30.48, 114.51, 30.49)),
        ({"code": "B", "label": "乙", "pop": 20}, box(114.51, 30.48, 114.52, 30.49)),
    ])
    units = load_units(path, id_column="code", name_column="label", population_column="pop")
    _check_contract(units)
    assert units["unit_id"].tolist() == ["A", "B"]
    assert units["name"].tolist() == ["甲", "乙"]
    assert units["population"].tolist() == [10.0, 20.0]
    assert units["population_65plus"].isna().all()
    # The user's population is kept; the 65+ column (unknown) is filled from demand.
    demand = _demand([114.505, 114.515, 114.515], [30.485, 30.485, 30.485], [1, 2, 3], [1, 1, 1])
    out, index = assign_population(units, demand)
    assert out["population"].tolist() == [10.0, 20.0]
    assert out["population_65plus"].tolist() == [1.0, 2.0]
    assert index.tolist() == [0, 1, 1]
    replaced, _ = assign_population(units, demand, overwrite=True)
    assert replaced["population"].tolist() == [1.0, 5.0]


def test_duplicate_unit_ids_are_listed(tmp_path):
    path = _write_geojson(tmp_path / "dup.geojson", [
        ({"unit_id": "A"}, box(0, 0, 1, 1)), ({"unit_id": "B"}, box(1, 0, 2, 1)),
        ({"unit_id": "A"}, box(2, 0, 3, 1)), ({"unit_id": "C"}, box(3, 0, 4, 1)),
        ({"unit_id": "C"}, box(4, 0, 5, 1)),
    ])
    with pytest.raises(InputError, match="2 duplicate unit ids") as info:
        load_units(path)
    assert isinstance(info.value, ValidationError)
    assert "A, C" in str(info.value) and "dup.geojson" in str(info.value)


def test_geometry_without_crs_needs_crs(tmp_path):
    # A Shapefile without .prj has no CRS at all.
    shp = tmp_path / "nocrs.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pyogrio: "'crs' was not provided" -- the point
        gpd.GeoDataFrame({"unit_id": ["a"]}, geometry=[box(114.50, 30.48, 114.51, 30.49)]).to_file(shp)
    assert gpd.read_file(shp).crs is None
    with pytest.raises(InputError, match="has no CRS") as info:
        load_units(shp)
    assert "crs=" in str(info.value)
    assert load_units(shp, units_crs="wgs84").crs.to_epsg() == 4326
    # A GeoJSON without a "crs" member counts as WGS84 (RFC 7946); metres in it are refused.
    utm = _write_geojson(tmp_path / "utm.geojson", [({"unit_id": "a"}, box(300_000, 3_380_000, 300_250, 3_380_250))])
    with pytest.raises(InputError, match="not lon/lat"):
        load_units(utm)
    fixed = load_units(utm, units_crs=UTM50N)
    expected = gpd.GeoSeries([box(300_000, 3_380_000, 300_250, 3_380_250)], crs=UTM50N).to_crs(4326)
    assert np.allclose(fixed.total_bounds, expected.total_bounds)
    assert 114 < fixed.total_bounds[0] < 115  # east of Wuhan, inside UTM zone 50


def test_invalid_geometry_is_repaired_and_counted(tmp_path):
    bowtie = Polygon([(114.50, 30.48), (114.51, 30.49), (114.51, 30.48), (114.50, 30.49)])
    assert not bowtie.is_valid
    path = _write_geojson(tmp_path / "bad.geojson", [({"unit_id": "x"}, bowtie), ({"unit_id": "y"}, box(0, 0, 1, 1))])
    units = load_units(path)
    assert units.attrs["repaired_geometries"] == 1
    assert units.geometry.is_valid.all()
    # make_valid keeps both triangles of the bow-tie (buffer(0) would drop one): 2 x 0.01²/4
    assert units.geometry.iloc[0].area == pytest.approx(0.5 * 0.01 * 0.01)


def test_missing_geometry_rows(tmp_path):
    path = _write_geojson(tmp_path / "gaps.geojson", [({"unit_id": "x"}, None), ({"unit_id": "y"}, box(0, 0, 1, 1))])
    with pytest.raises(ValidationError, match="drop_missing=True"):
        load_units(path)
    units = load_units(path, drop_missing=True)
    assert units["unit_id"].tolist() == ["y"] and units.attrs["dropped_rows"] == 1


def test_load_errors(tmp_path):
    with pytest.raises(InputFileNotFoundError):
        load_units(tmp_path / "missing.geojson")
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(NoDataError, match="empty"):
        load_units(empty, units_crs="wgs84")
    csv = tmp_path / "pts.csv"
    pd.DataFrame({"id": ["a", "b"], "east": [114.5, 114.6], "north": [30.5, 30.6], "pop": [1, -2]}).to_csv(
        csv, index=False)
    with pytest.raises(ValidationError) as info:
        load_units(csv, units_crs="wgs84", id_column="id", population_column="pop")
    text = str(info.value)  # all problems at once: no lon, no lat, negative population
    assert "longitude" in text and "latitude" in text
    with pytest.raises(ValidationError, match=r"1 negative populations \(rows 3\)"):  # file row: header is row 1
        load_units(csv, units_crs="wgs84", id_column="id", population_column="pop", lon_column="east",
                   lat_column="north")
    with pytest.raises(InputError, match="not understood"):
        load_units(csv, units_crs="mars", lon_column="east", lat_column="north")


# ------------------------------------------------------------------ communities CSV (GCJ-02 points)


@pytest.mark.wuhan
def test_communities_csv_as_point_units(wuhan_dir):
    pytest.importorskip("circles.coords")
    path = wuhan_dir / "communities_gcj02.csv"
    raw = pd.read_csv(path)
    has_point = raw["longitude"].notna() & raw["latitude"].notna()
    # Most rows have no centre point: that is an error unless the user opts in to dropping them.
    with pytest.raises(ValidationError, match=f"{int((~has_point).sum())} of {len(raw)} rows have no coordinates"):
        load_units(path, units_crs="gcj02", id_column="code")
    with pytest.raises(InputError, match="crs is required"):
        load_units(path, id_column="code", drop_missing=True)

    units = load_units(path, units_crs="gcj02", id_column="code", drop_missing=True)
    _check_contract(units)
    assert len(units) == int(has_point.sum())
    assert units.attrs["dropped_rows"] == int((~has_point).sum())
    assert set(units.geometry.geom_type) == {"Point"}
    # GCJ-02 was converted: community points fall in their own district.
    villages = units[units["level"] == "village"]
    districts = gpd.read_file(wuhan_dir / "districts.geojson")[["name", "geometry"]]
    joined = gpd.sjoin(villages, districts, predicate="within", how="left")
    share = (joined["name_right"] == joined["county"]).mean()
    assert share > 0.99


@pytest.mark.wuhan
def test_point_units_take_nearby_demand(wuhan_dir, rasters, hongshan):
    pytest.importorskip("circles.coords")
    units = load_units(wuhan_dir / "communities_gcj02.csv", units_crs="gcj02", id_column="code", drop_missing=True)
    units = units[units["county"] == "洪山区"]
    demand = demand_from_rasters(rasters[0], hongshan, rasters[1])
    out, index = assign_population(units, demand, metric_crs=UTM50N, max_distance_m=1000)
    assert out.index.equals(units.index)
    # nobody lost: assigned + outside == all
    assert out["population"].sum() + out.attrs["population_outside_units"] == pytest.approx(demand.total)
    assert out["population_65plus"].sum() + out.attrs["population_65plus_outside_units"] == pytest.approx(
        demand.total_65plus)
    assert out.attrs["demand_points_outside_units"] == int((index < 0).sum()) > 0
    # every assigned point is within 1000 m of its unit
    upts = units.to_crs(UTM50N).geometry
    dpts = gpd.GeoSeries(shapely.points(demand.lon, demand.lat), crs=4326).to_crs(UTM50N)
    ok = index >= 0
    d = shapely.distance(dpts.to_numpy()[ok], upts.to_numpy()[index[ok]])
    assert d.max() <= 1000.0
    with pytest.raises(InputError, match="crs is required"):
        assign_population(units, demand)


# ------------------------------------------------------------------ assignment, hand-checked


def test_point_assignment_by_hand():
    # Units at x=0 and x=1000 m (UTM 50N, y=3,380,000).  Demand at x=100 (-> unit 0),
    # 900 (-> unit 1), 2500 (1500 m from unit 1: beyond 1000 m -> nobody's, index -1).
    to_wgs = Transformer.from_crs(UTM50N, "EPSG:4326", always_xy=True)
    ux, uy = to_wgs.transform([600_000, 601_000], [3_380_000] * 2)
    dx, dy = to_wgs.transform([600_100, 600_900, 602_500], [3_380_000] * 3)
    units = gpd.GeoDataFrame({"unit_id": ["a", "b"], "name": ["", ""], "population": np.nan,
                              "population_65plus": np.nan}, geometry=gpd.points_from_xy(ux, uy), crs=4326)
    out, index = assign_population(units, _demand(dx, dy, [1, 2, 4]), metric_crs=UTM50N)
    assert index.tolist() == [0, 1, -1]
    assert out["population"].tolist() == [1.0, 2.0]
    assert out.attrs["population_outside_units"] == 4.0


def test_overlapping_polygons_count_each_point_once():
    # Unit a = [0,2]x[0,2], unit b = [1,3]x[0,2] overlap on [1,2]; unit c far away.
    # Points: (0.5,1) in a; (1.5,1) in both -> a (first); (2.5,1) in b; (2,1) on a's edge
    # and inside b -> a (first, boundary included); (9,9) in none.
    units = gpd.GeoDataFrame({"unit_id": ["a", "b", "c"], "name": "", "population": np.nan,
                              "population_65plus": np.nan},
                             geometry=[box(0, 0, 2, 2), box(1, 0, 3, 2), box(5, 5, 6, 6)], crs=4326)
    demand = _demand([0.5, 1.5, 2.5, 2.0, 9.0], [1, 1, 1, 1, 9], [1, 10, 100, 1000, 5])
    out, index = assign_population(units, demand)
    assert index.tolist() == [0, 0, 1, 0, -1]
    assert out["population"].tolist() == [1011.0, 100.0, 0.0]  # c kept with 0 people
    assert out.attrs["demand_points_outside_units"] == 1
    assert out.attrs["population_outside_units"] == 5.0


def test_partial_user_population_is_refused():
    units = gpd.GeoDataFrame({"unit_id": ["a", "b"], "name": "", "population": [5.0, np.nan],
                              "population_65plus": np.nan}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=4326)
    with pytest.raises(InputError, match="missing for 1"):
        assign_population(units, _demand([0.5], [0.5], [1]))
    out, _ = assign_population(units, _demand([0.5], [0.5], [1]), overwrite=True)
    assert out["population"].tolist() == [1.0, 0.0]


def test_mixed_geometry_units_are_refused():
    units = gpd.GeoDataFrame({"unit_id": ["a", "b"]}, geometry=[box(0, 0, 1, 1), Point(3, 3)], crs=4326)
    with pytest.raises(InputError, match="all polygons"):
        assign_population(units, _demand([0.5], [0.5], [1]))


# ------------------------------------------------------------------ OSM residential polygons


@pytest.mark.wuhan
def test_units_from_osm_residential(wuhan_dir):
    from circles.network import load_features

    features = load_features(wuhan_dir / "guanggu.osm")
    units = units_from_osm_residential(features)
    _check_contract(units)
    assert len(units) == 4  # README: 4 landuse=residential polygons, 2 named
    assert {"桃花源北区", "桃花源南区"} <= set(units["name"])
    assert set(units.geometry.geom_type) <= {"Polygon", "MultiPolygon"}
    with pytest.raises(NoDataError, match="grid_units"):
        units_from_osm_residential(features[features["feature_id"] == "nothing"])
