"""Isochrones built from the network actually reached (circles.isochrones).

Every network here is small enough to work out by hand; the arithmetic is in
the comments.  Coordinates are metres east/north of the osm_builder origin
(UTM 50N, which load_network picks for these nodes).
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
import shapely
from osm_builder import ORIGIN_X, ORIGIN_Y, lonlat, write_osm
from shapely.geometry import Point

import circles._isopolygons as polygons_module
import circles.isochrones as iso_module
from circles.engine import travel_seconds
from circles.errors import InputError
from circles.isochrones import isochrone_polygons, reach_polygon
from circles.network import load_network

ROAD = {"highway": "residential"}
#: Every hand-computed geometry test runs through both polygon routes ("auto"
#: picks the vector route for these small reaches).
METHODS = pytest.mark.parametrize("method", ["auto", "raster"])


def metric(gdf):
    """Polygons of an isochrone frame in metres relative to the test origin."""
    geoms = gdf.to_crs("EPSG:32650").geometry.to_numpy()
    return shapely.transform(geoms, lambda xy: xy - [ORIGIN_X, ORIGIN_Y])


def lonlat_arrays(*points):
    pts = [lonlat(x, y) for x, y in points]
    return np.array([p[0] for p in pts]), np.array([p[1] for p in pts])


# --------------------------------------------------------------------------- river + bridge
@pytest.fixture(scope="module")
def river(tmp_path_factory):
    """Two banks of a 100 m grid (x 0..1000), river between y=300 and y=400,
    one bridge at x=600.

        y=700  +----+----+----+----+----+----+----+----+----+----+
               |    (far bank, rows 400..700)                    |
        y=400  +----+----+----+----+----+----B----+----+----+----+
                                             |  bridge (100 m)
        y=300  S----+----+----+----+----+----+----+----+----+----+
               |    (near bank, rows 0..300)                     |
        y=0    +----+----+----+----+----+----+----+----+----+----+
    """
    nodes, ways = {}, []
    nid = 1

    def node(x, y):
        nonlocal nid
        key = (x, y)
        for k, v in nodes.items():
            if v == key:
                return k
        nodes[nid] = key
        nid += 1
        return nid - 1

    wid = 1
    for rows in ((0, 100, 200, 300), (400, 500, 600, 700)):
        for y in rows:  # east-west streets
            ways.append((wid, [node(x, y) for x in range(0, 1001, 100)], ROAD))
            wid += 1
        for x in range(0, 1001, 100):  # north-south streets within the bank
            ways.append((wid, [node(x, y) for y in rows], ROAD))
            wid += 1
    ways.append((wid, [node(600, 300), node(600, 400)], ROAD))  # the bridge
    path = write_osm(tmp_path_factory.mktemp("river") / "river.osm", nodes, ways)
    return load_network(path, mode="walk")


@METHODS
def test_far_bank_only_via_the_bridge(river, method):
    # 15 min at 60 m/min = 900 m.  S=(0,300) -> bridge foot (600,300) 600 m ->
    # (600,400) 700 m -> (600,500) 800 m; (0,400) across the river is 100 m
    # away as the crow flies but 600+100+600 = 1300 m by street: not reached.
    iso = isochrone_polygons(river, lonlat_arrays((0, 300)), minutes=15, width_m=25, method=method)
    assert list(iso["minutes"]) == [15.0] and not iso["off_network"].any()
    poly = metric(iso)[0]
    assert not poly.contains(Point(0, 400))        # straight across: outside
    assert not poly.contains(Point(100, 450))      # far bank near the start: outside
    assert poly.contains(Point(600, 450))          # over the bridge, 750 m: inside
    assert poly.contains(Point(650, 400))          # 750 m along the far bank: inside
    assert not poly.contains(Point(600, 650))      # 950 m > 900 m: outside
    assert poly.contains(Point(600, 350))          # on the bridge
    assert not poly.contains(Point(300, 350))      # the river itself, away from the bridge


@METHODS
def test_area_grows_and_bands_are_nested(river, method):
    iso = isochrone_polygons(river, lonlat_arrays((0, 300)), minutes=[10, 5, 15], method=method)
    assert list(iso["minutes"]) == [5.0, 10.0, 15.0]
    polys = metric(iso)
    areas = [p.area for p in polys]
    assert areas[0] < areas[1] < areas[2]
    assert np.allclose(iso["area_m2"], areas, rtol=1e-3)
    for small, big in zip(polys[:-1], polys[1:]):
        assert small.difference(big).area < 1.0  # nested (up to float noise)


@METHODS
def test_every_reached_node_is_inside(river, method):
    limit_s = 12 * 60
    start = lonlat_arrays((300, 0))
    iso = isochrone_polygons(river, start, minutes=12, method=method)
    poly = metric(iso)[0]
    snap = river.snap_lonlat(*start)
    t = travel_seconds(river.graph_s(60), snap.node, limit_s=limit_s, direction="from")
    reached = np.flatnonzero(t <= limit_s)
    assert reached.size > 10
    pts = shapely.points(river.x[reached] - ORIGIN_X, river.y[reached] - ORIGIN_Y)
    assert shapely.contains(poly, pts).all()
    # and no node beyond the limit by more than the corridor width is inside
    far = np.flatnonzero(~np.isfinite(t) | (t > limit_s + 60))
    pts_far = shapely.points(river.x[far] - ORIGIN_X, river.y[far] - ORIGIN_Y)
    assert not shapely.contains(poly, pts_far).any()


@METHODS
def test_reach_polygon_from_node_times_matches_isochrones(river, method):
    start = lonlat_arrays((0, 0))
    snap = river.snap_lonlat(*start)
    t = travel_seconds(river.graph_s(60), snap.node, limit_s=600, direction="from")
    direct = reach_polygon(river, t, 600.0, method=method)
    via_api = isochrone_polygons(river, start, minutes=10, method=method).to_crs(river.crs).geometry.iloc[0]
    assert abs(direct.area - via_api.area) < 1.0


@METHODS
def test_per_category_and_all(river, method):
    import geopandas as gpd

    lon, lat = lonlat_arrays((0, 0), (1000, 0), (0, 700), (5000, 5000))
    fac = gpd.GeoDataFrame({"facility_id": ["a", "b", "c", "far"],
                            "category": ["park", "park", "school", "school"]},
                           geometry=gpd.points_from_xy(lon, lat), crs=4326)
    by_cat = isochrone_polygons(river, fac, minutes=5, per="category", method=method)
    assert list(by_cat["category"]) == ["park", "school"]
    assert list(by_cat["n_facilities"]) == [2, 1] and list(by_cat["n_off_network"]) == [0, 1]
    parks = metric(by_cat)[0]
    assert parks.contains(Point(250, 0)) and parks.contains(Point(750, 0))
    assert not parks.contains(Point(500, 0))  # 500 m from both parks > 300 m
    everything = isochrone_polygons(river, fac, minutes=5, per="all", method=method)
    assert len(everything) == 1 and everything["n_facilities"].iloc[0] == 3
    assert metric(everything)[0].contains(Point(0, 650))


# --------------------------------------------------------------------------- partial edges
@pytest.fixture(scope="module")
def lone_street(tmp_path_factory):
    # one straight 1000 m street with no node in between
    nodes = {1: (0.0, 0.0), 2: (1000.0, 0.0)}
    path = write_osm(tmp_path_factory.mktemp("lone") / "lone.osm", nodes, [(1, [1, 2], ROAD)])
    return load_network(path, mode="walk")


@METHODS
def test_partial_edge_ends_where_time_runs_out(lone_street, method):
    # 5 min at 60 m/min = 300 m of the 1000 m edge, plus the 25 m corridor
    iso = isochrone_polygons(lone_street, lonlat_arrays((0, 0)), minutes=5, width_m=25, method=method)
    minx, miny, maxx, maxy = metric(iso)[0].bounds
    assert maxx == pytest.approx(325, abs=1.0)
    assert minx == pytest.approx(-25, abs=1.0)
    assert maxy == pytest.approx(25, abs=1.0)
    # from both ends at once: 300 m from each end, the middle 400 m stays out
    both = isochrone_polygons(lone_street, lonlat_arrays((0, 0), (1000, 0)), minutes=5, per="all",
                      method=method)
    poly = metric(both)[0]
    assert poly.contains(Point(290, 0)) and poly.contains(Point(710, 0))
    assert not poly.contains(Point(500, 0))
    # the access leg counts: 60 m off the street's end, 240 m of street remain
    leg = isochrone_polygons(lone_street, lonlat_arrays((-60, 0)), minutes=5, width_m=10, method=method)
    minx, _, maxx, _ = metric(leg)[0].bounds
    assert maxx == pytest.approx(250, abs=1.0) and minx == pytest.approx(-70, abs=1.0)


@METHODS
def test_slower_speed_reaches_less(lone_street, method):
    iso = isochrone_polygons(lone_street, lonlat_arrays((0, 0)), minutes=5, speed_m_per_min=50, width_m=25,
                     method=method)
    assert metric(iso)[0].bounds[2] == pytest.approx(275, abs=1.0)  # 250 m + 25 m


# --------------------------------------------------------------------------- off-network
def test_off_network_facility_is_reported_not_dropped(lone_street, caplog):
    caplog.set_level(logging.WARNING, logger="circles.isochrones")
    iso = isochrone_polygons(lone_street, lonlat_arrays((0, 0), (500, 2000)), minutes=[5, 10])
    assert len(iso) == 4
    off = iso[iso["facility_id"] == 1]
    assert off["off_network"].all() and off.geometry.is_empty.all()
    # to the nearest node: the 1000 m street has a node every 100 m, so (500, 0) is one
    assert off["snap_m"].iloc[0] == pytest.approx(2000, abs=1)
    assert not iso.loc[iso["facility_id"] == 0, "off_network"].any()
    assert "1 of 2 facilities" in caplog.text and "off_network" in caplog.text


def test_bad_options_raise(lone_street):
    pts = lonlat_arrays((0, 0))
    with pytest.raises(InputError, match="width_m"):
        isochrone_polygons(lone_street, pts, width_m=0)
    with pytest.raises(InputError, match="minutes"):
        isochrone_polygons(lone_street, pts, minutes=[5, -1])
    with pytest.raises(InputError, match="per="):
        isochrone_polygons(lone_street, pts, per="district")
    with pytest.raises(InputError, match="category"):
        isochrone_polygons(lone_street, pts, per="category")
    with pytest.raises(InputError, match="direction"):
        isochrone_polygons(lone_street, pts, direction="both")
    with pytest.raises(InputError, match="method"):
        isochrone_polygons(lone_street, pts, method="hull")


# --------------------------------------------------------------------------- directed drive
@pytest.fixture(scope="module")
def one_way(tmp_path_factory):
    # A=(0,0) -> B=(1000,0), one-way, maxspeed 36 km/h = 10 m/s = 600 m/min
    nodes = {1: (0.0, 0.0), 2: (1000.0, 0.0)}
    tags = {"highway": "residential", "oneway": "yes", "maxspeed": "36"}
    path = write_osm(tmp_path_factory.mktemp("oneway") / "oneway.osm", nodes, [(1, [1, 2], tags)])
    net = load_network(path, mode="drive")
    assert net.n_edges == 10  # ten 100 m pieces, each in the one-way direction only
    return net


@METHODS
def test_drive_uses_edges_in_their_direction_only(one_way, method):
    a, b = lonlat_arrays((0, 0)), lonlat_arrays((1000, 0))
    # leaving A: 0.5 min at 600 m/min = 300 m towards B
    from_a = metric(isochrone_polygons(one_way, a, minutes=0.5, direction="from", width_m=10, method=method))[0]
    assert from_a.bounds[2] == pytest.approx(310, abs=1.0)
    # leaving B: the street only leads into B, so only B itself (a lone node)
    from_b = metric(isochrone_polygons(one_way, b, minutes=0.5, direction="from", width_m=10, method=method))[0]
    assert from_b.bounds[0] == pytest.approx(990, abs=1.0)
    assert from_b.contains(Point(1000, 0))
    # arriving at B within 0.5 min: the last 300 m before B
    to_b = metric(isochrone_polygons(one_way, b, minutes=0.5, direction="to", width_m=10, method=method))[0]
    assert to_b.bounds[0] == pytest.approx(690, abs=1.0)
    assert to_b.contains(Point(800, 0)) and not to_b.contains(Point(600, 0))
    # arriving at A: nobody can drive to A along this street
    to_a = metric(isochrone_polygons(one_way, a, minutes=0.5, direction="to", width_m=10, method=method))[0]
    assert to_a.bounds[2] == pytest.approx(10, abs=1.0)
    with pytest.raises(InputError, match="speed"):
        isochrone_polygons(one_way, a, minutes=1, speed_m_per_min=60)


# --------------------------------------------------------------------------- real network
def test_helsinki_walk_isochrones(helsinki_pbf):
    net = load_network(helsinki_pbf, mode="walk")
    rng = np.random.default_rng(1)
    idx = rng.choice(net.n_nodes, 5, replace=False)
    iso = isochrone_polygons(net, (net.lon[idx], net.lat[idx]), minutes=[5, 10], n_threads=2)
    assert len(iso) == 10 and iso.crs.to_epsg() == 4326
    assert (iso.geometry.is_valid).all()
    assert not iso.geometry.geom_type.isin(["GeometryCollection"]).any()
    a5 = iso[iso["minutes"] == 5]["area_m2"].to_numpy()
    a10 = iso[iso["minutes"] == 10]["area_m2"].to_numpy()
    assert (a10 >= a5).all() and (a5 > 0).all()
    # 10 min at 60 m/min is at most 600 m of street: the polygon fits in a 625 m radius
    pts = net.project(net.lon[idx], net.lat[idx])
    polys = iso[iso["minutes"] == 10].to_crs(net.crs).geometry.to_numpy()
    for (x, y), poly in zip(zip(*pts), polys):
        assert shapely.Point(x, y).buffer(626).contains(poly)


# --------------------------------------------------------------------------- raster route
@pytest.fixture(scope="module")
def helsinki_walk(helsinki_pbf):
    return load_network(helsinki_pbf, mode="walk")


def _reach(net, node, limit_s):
    t = travel_seconds(net.graph_s(60), np.array([node]), limit_s=limit_s, direction="from")
    return t, np.flatnonzero(t <= limit_s)


def test_raster_route_matches_the_exact_buffer(helsinki_walk):
    net = helsinki_walk
    rng = np.random.default_rng(7)
    for node in rng.choice(net.n_nodes, 3, replace=False):
        t, reached = _reach(net, node, 600.0)
        raster = reach_polygon(net, t, 600.0, method="raster")
        vector = reach_polygon(net, t, 600.0, method="vector")
        exact = reach_polygon(net, t, 600.0, method="vector", quad_segs=16)  # ~0.1 m from circles
        assert raster.is_valid and raster.area > 0
        # every reached node is inside, with room to spare (the corridor is 25 m)
        pts = shapely.points(net.x[reached], net.y[reached])
        assert shapely.contains(raster.buffer(-20), pts).all()
        # the boundary follows the exact buffer to within a fraction of the 5 m cell:
        # never more than ~half a cell outside it (marching squares rounds the
        # sharp inner corners where corridors meet and fills slits narrower than
        # that between them), and never noticeably inside it
        out_m = shapely.distance(shapely.points(shapely.get_coordinates(raster)), exact).max()
        in_m = shapely.distance(shapely.points(shapely.get_coordinates(exact)), raster).max()
        assert out_m < 3.0 and in_m < 1.0
        assert raster.difference(exact).area < 0.005 * exact.area
        assert exact.buffer(-0.5).difference(raster).area < 1.0
        assert abs(raster.area - vector.area) / vector.area < 0.02
        # and "auto" takes the raster route for a reach this large
        auto = reach_polygon(net, t, 600.0)
        assert shapely.equals_exact(auto, raster, tolerance=1e-9)


def test_raster_bands_are_nested_and_hold_their_nodes(helsinki_walk):
    net = helsinki_walk
    rng = np.random.default_rng(3)
    idx = rng.choice(net.n_nodes, 4, replace=False)
    iso = isochrone_polygons(net, (net.lon[idx], net.lat[idx]), minutes=[5, 10, 15], method="raster",
                     n_threads=2).to_crs(net.crs)
    assert iso.geometry.is_valid.all()
    polys = iso.geometry.to_numpy().reshape(len(idx), 3)
    snap = net.snap_lonlat(net.lon[idx], net.lat[idx])
    for k, node in enumerate(snap.node):
        for small, big in zip(polys[k, :-1], polys[k, 1:]):
            assert small.difference(big).area < 1.0
        for b, minutes in enumerate([5, 10, 15]):
            limit_s = minutes * 60.0
            t = travel_seconds(net.graph_s(60), np.array([node]), limit_s=limit_s,
                               source_offsets_s=snap.distance_m[k:k + 1], direction="from")
            reached = np.flatnonzero(t <= limit_s)
            assert shapely.contains(polys[k, b], shapely.points(net.x[reached], net.y[reached])).all()


def test_raster_route_coarsens_then_falls_back_on_huge_extents(helsinki_walk, monkeypatch):
    net = helsinki_walk
    t, reached = _reach(net, 100, 600.0)
    fine = reach_polygon(net, t, 600.0, method="raster")
    vector = reach_polygon(net, t, 600.0, method="vector")
    pts = shapely.points(net.x[reached], net.y[reached])
    # few grid points allowed: a coarser cell (still < width/2), same region within a metre or so
    monkeypatch.setattr(polygons_module, "MAX_RASTER_CELLS", 20_000)
    coarse = reach_polygon(net, t, 600.0, method="raster")
    assert coarse.is_valid and shapely.contains(coarse, pts).all()
    assert abs(coarse.area - fine.area) / fine.area < 0.02
    # far too few: the vector route draws it
    monkeypatch.setattr(polygons_module, "MAX_RASTER_CELLS", 100)
    fallback = reach_polygon(net, t, 600.0, method="raster")
    assert shapely.equals_exact(fallback, vector, tolerance=1e-9)


# --------------------------------------------------------------------------- city scale
def test_grid_cell_switches_by_size():
    """The raster grid by extent and reach size (width 25 m, default limits):
    5 m up to MAX_RASTER_CELLS points; widened up to 12.5 m; beyond that the
    city grid for city-wide reaches (CITY_MIN_PIECES pieces or more), sized so
    it holds at most CITY_MAX_CELLS points; the vector route for small reaches."""
    grid_cell = polygons_module._grid_cell
    assert grid_cell(5_000, 5_000, width_m=25, n_pieces=100) == 5.0  # 1M points at 5 m
    widened = grid_cell(30_000, 30_000, width_m=25, n_pieces=100)  # 36M points at 5 m
    assert 5.0 < widened <= 12.5
    assert polygons_module._grid_points(30_000, 30_000, widened, 25) <= polygons_module.MAX_RASTER_CELLS
    # the whole of Wuhan (~134 x 155 km): a city-wide reach gets a ~32 m grid (< 1.4 x the 25 m corridor) ...
    city = grid_cell(134_000, 155_000, width_m=25, n_pieces=polygons_module.CITY_MIN_PIECES)
    assert 31.0 < city < 34.0 < 1.4 * 25
    assert polygons_module._grid_points(134_000, 155_000, city, 25) <= polygons_module.CITY_MAX_CELLS
    # ... and a few facilities far apart take the vector route (a small GEOS union)
    assert grid_cell(134_000, 155_000, width_m=25, n_pieces=polygons_module.CITY_MIN_PIECES - 1) is None


@pytest.fixture(scope="module")
def guanggu_reach(wuhan_dir):
    """Optics Valley walk network (~2.1k nodes, 9.7 x 4.0 km) reached within
    15 minutes from 40 random nodes: ~1.75k nodes, a district-wide service area."""
    net = load_network(wuhan_dir / "guanggu.osm", mode="walk")
    src = np.random.default_rng(1).choice(net.n_nodes, 40, replace=False)
    t = travel_seconds(net.graph_s(60), src, limit_s=900.0, direction="from")
    return net, t, np.flatnonzero(t <= 900.0)


@pytest.mark.wuhan
def test_city_grid_holds_every_node_and_the_fine_area(guanggu_reach, monkeypatch):
    """Forced onto a Wuhan-sized ~20 m city grid, the Optics Valley service area
    holds every reached node (within one cell; measured: all strictly inside)
    and is within 2 % of the 5 m grid's area (measured: +0.9 %; symmetric
    difference 1.8 %)."""
    net, t, reached = guanggu_reach
    fine_info: dict = {}
    edges = polygons_module.EdgeIndex(net, net.edge_seconds(), "to")
    fine = polygons_module.polygon_of_reach(net, edges, t, 900.0, width_m=25, info=fine_info)
    assert fine_info == {"route": "raster", "cell_m": 5.0}
    span_x = np.ptp(net.x[reached]) + 60.0  # the pieces run a little past the reached nodes
    span_y = np.ptp(net.y[reached]) + 60.0
    monkeypatch.setattr(polygons_module, "MAX_RASTER_CELLS", 1_000)  # no fine grid fits
    monkeypatch.setattr(polygons_module, "CITY_MIN_PIECES", 0)
    monkeypatch.setattr(polygons_module, "CITY_MAX_CELLS", int(polygons_module._grid_points(span_x, span_y, 20.0, 25)))
    info: dict = {}
    coarse = polygons_module.polygon_of_reach(net, edges, t, 900.0, width_m=25, info=info)
    assert info["route"] == "city" and 17.0 < info["cell_m"] < 21.0
    assert coarse.is_valid
    gap = shapely.distance(coarse, shapely.points(net.x[reached], net.y[reached]))
    assert gap.max() <= info["cell_m"]
    assert abs(coarse.area - fine.area) / fine.area < 0.02
    assert coarse.symmetric_difference(fine).area / fine.area < 0.03


@pytest.mark.wuhan
def test_circle_isochrones_state_their_route_and_cell(wuhan_dir):
    """Every row of the isochrones layer says how it was drawn; the outputs'
    assumptions sheet says it in a sentence."""
    from circles.analysis import analyze
    from circles.outputs.files import isochrone_assumption

    result = analyze(wuhan_dir / "guanggu.osm", policy="wuhan-2022",
                     facilities=wuhan_dir / "weibo_pois_gcj02.csv", facilities_crs="gcj02",
                     population=wuhan_dir / "population_20plus.tif",
                     population_65plus=wuhan_dir / "population_65plus.tif")
    iso = result.isochrones()
    assert len(iso) and set(iso["route"]) <= {"vector", "raster"}
    raster = iso["route"] == "raster"
    assert (iso.loc[raster, "cell_m"] == 5.0).all() and iso.loc[~raster, "cell_m"].isna().all()
    note = isochrone_assumption(iso)
    assert note.startswith(f"isochrones: {len(iso)} service areas")
    assert ("5.0 m grid" in note) == bool(raster.any())


def test_city_grid_fills_small_enclosed_blocks_only(monkeypatch):
    """Two square blocks ringed by streets, 25 m corridors:

    - 100 m block: the gap inside is 50 x 50 m (~2,500 m² less the rounded
      corners) < CITY_FILL_HOLE_M2 (5,000 m²): filled on the city grid, kept on
      the fine 5 m grid;
    - 200 m block (4 km away): a 150 x 150 m gap (~22,500 m²): kept on both.
    """
    def square(x0, side):
        xs = np.array([x0, x0 + side, x0 + side, x0])
        ys = np.array([0.0, 0.0, side, side])
        return xs, ys, np.roll(xs, -1), np.roll(ys, -1)

    parts = [square(0.0, 100.0), square(4_000.0, 200.0)]
    ax, ay, bx, by = (np.concatenate([p[k] for p in parts]) for k in range(4))
    fine = polygons_module._raster_polygon(ax, ay, bx, by, width_m=25.0)
    assert len(shapely.get_parts(fine)) == 2
    assert sum(shapely.get_num_interior_rings(g) for g in shapely.get_parts(fine)) == 2
    monkeypatch.setattr(polygons_module, "MAX_RASTER_CELLS", 100)
    monkeypatch.setattr(polygons_module, "CITY_MIN_PIECES", 0)
    monkeypatch.setattr(polygons_module, "CITY_MAX_CELLS", 5_000)  # ~4.3 x 0.35 km at ~17 m
    info: dict = {}
    city = polygons_module._raster_polygon(ax, ay, bx, by, width_m=25.0, info=info)
    assert info["route"] == "city" and info["cell_m"] > 12.5
    small, large = sorted(shapely.get_parts(city), key=lambda g: g.centroid.x)
    assert shapely.get_num_interior_rings(small) == 0
    assert shapely.get_num_interior_rings(large) == 1
    assert small.area == pytest.approx(150.0 * 150.0, rel=0.05)  # the whole block, corners rounded


def test_deprecated_isochrones_aliases_warn_and_agree(lone_street):
    # issue #11: the function no longer shares the module's name; the old names work for one release
    pts = lonlat_arrays((0, 0))
    with pytest.warns(DeprecationWarning, match="isochrone_polygons"):
        old = iso_module.isochrones(lone_street, pts, minutes=5)
    new = isochrone_polygons(lone_street, pts, minutes=5)
    assert old.geometry.iloc[0].equals(new.geometry.iloc[0])
    with pytest.warns(DeprecationWarning, match="edge_seconds"):
        assert np.array_equal(iso_module.edge_seconds(lone_street), lone_street.edge_seconds())
