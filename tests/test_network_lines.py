"""A bureau's own road network as a line layer (Shapefile, GeoPackage, GeoJSON,
any CRS): the same minutes as the OSM run on the real Optics Valley streets,
one-way and class columns, Chinese road classes, splitting at shared
vertices, and one clear error for every malformed layer."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from osm_builder import lonlat
from scipy.spatial import cKDTree
from shapely.geometry import LineString, MultiLineString, Point

from circles import _osm
from circles.engine import travel_seconds
from circles.errors import InputError, NoDataError
from circles.network import drive_mask, load_network, walk_mask

# ------------------------------------------------------------------ real streets

def _layer_from_osm(path, mask_fn) -> gpd.GeoDataFrame:
    """One LineString (or MultiLineString, where a way leaves the extract) per OSM way
    passing ``mask_fn``, with the way's highway/oneway/maxspeed/name — a road layer as
    a bureau would export it."""
    tables, _ = _osm.read(path)
    nodes = tables.nodes.drop_duplicates("id").set_index("id")
    seg = tables.segments[mask_fn(tables.segments)]
    seg = seg[seg["u"].isin(nodes.index) & seg["v"].isin(nodes.index)]
    rows = []
    for _, g in seg.groupby("way_id", sort=False):
        parts, current = [], [g["u"].iloc[0]]
        for u, v in zip(g["u"], g["v"]):
            if u != current[-1]:
                parts.append(current)
                current = [u]
            current.append(v)
        parts.append(current)
        lines = [LineString(nodes.loc[p, ["lon", "lat"]].to_numpy()) for p in parts]
        first = g.iloc[0]
        implied = first["junction"] in ("roundabout", "circular") or first["highway"] == "motorway"
        oneway = first["oneway"] if isinstance(first["oneway"], str) else ("yes" if implied else "no")
        rows.append({"highway": first["highway"], "oneway": oneway, "maxspeed": first["maxspeed"],
                     "name": first["name"], "geometry": lines[0] if len(lines) == 1 else MultiLineString(lines)})
    return gpd.GeoDataFrame(rows, crs="EPSG:4326")


def _by_street(layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One MultiLineString per named street and class (as many road layers are kept)."""
    named = layer[layer["name"].notna()]
    key = ["name", "highway", "oneway", "maxspeed"]
    merged = (named.fillna({"maxspeed": ""}).groupby(key, sort=False)["geometry"]
              .agg(lambda g: MultiLineString([p for geom in g for p in getattr(geom, "geoms", [geom])]))
              .reset_index())
    merged["maxspeed"] = merged["maxspeed"].replace("", None)
    merged = gpd.GeoDataFrame(merged, geometry="geometry", crs=layer.crs)
    return pd.concat([merged, layer[layer["name"].isna()]], ignore_index=True)


def _match_nodes(ref, net):
    """Index in ``net`` of every OSM node of ``ref`` (densified nodes excluded), checked to coincide."""
    dist, index = cKDTree(np.column_stack([net.x, net.y])).query(np.column_stack([ref.x, ref.y]))
    osm = ref.node_id > 0
    assert dist[osm].max() < 0.01
    return index, osm


def _max_minutes_difference(ref, net, *, direction="from", every=250) -> float:
    index, osm = _match_nodes(ref, net)
    sources = np.flatnonzero(osm)[::every]
    a = travel_seconds(ref.graph_s(), sources, direction=direction)[osm] / 60
    b = travel_seconds(net.graph_s(), index[sources], direction=direction)[index[osm]] / 60
    assert np.array_equal(np.isfinite(a), np.isfinite(b))  # the same places are reachable
    finite = np.isfinite(a)
    assert finite.sum() > 1000
    return float(np.abs(a[finite] - b[finite]).max())


@pytest.fixture(scope="module")
def optics_valley_layers(wuhan_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("roads")
    walk = _by_street(_layer_from_osm(wuhan_dir / "guanggu.osm", walk_mask))
    assert (walk.geom_type == "MultiLineString").sum() > 10
    paths = {"shp": folder / "roads_4547.shp", "gpkg": folder / "roads_4490.gpkg",
             "geojson": folder / "roads_wgs84.geojson"}
    walk.to_crs("EPSG:4547").to_file(paths["shp"], encoding="utf-8")  # CGCS2000 / 3-degree GK CM 114E
    walk.to_crs("EPSG:4490").to_file(paths["gpkg"], layer="roads")  # CGCS2000 lon/lat
    # a second, non-line layer in the same GeoPackage: the road layer is still found
    gpd.GeoDataFrame({"name": ["x"]}, geometry=[Point(114.52, 30.48)], crs="EPSG:4490").to_file(
        paths["gpkg"], layer="poi")
    walk.to_file(paths["geojson"])
    drive = _layer_from_osm(wuhan_dir / "guanggu.osm", drive_mask)
    paths["drive"] = folder / "drive_32650.gpkg"
    drive.to_crs("EPSG:32650").to_file(paths["drive"])
    return paths


@pytest.mark.wuhan
@pytest.mark.parametrize("kind", ["shp", "gpkg", "geojson"])
def test_walk_minutes_equal_the_osm_run(optics_valley_layers, wuhan_dir, kind):
    ref = load_network(wuhan_dir / "guanggu.osm", mode="walk")
    net = load_network(optics_valley_layers[kind], mode="walk")
    assert (net.n_nodes, net.n_edges, net.report["components"]) == (ref.n_nodes, ref.n_edges, ref.report["components"])
    assert _max_minutes_difference(ref, net) < 1e-6
    assert net.report["multilinestring_features_exploded"] > 0
    assert net.report["columns_used"]["class"] == "highway"


@pytest.mark.wuhan
def test_drive_minutes_with_oneway_and_speeds_equal_the_osm_run(optics_valley_layers, wuhan_dir):
    ref = load_network(wuhan_dir / "guanggu.osm", mode="drive")
    net = load_network(optics_valley_layers["drive"], mode="drive")
    assert net.n_edges == ref.n_edges and net.report["one_way_lines"] > 0 and net.report["speeds_from_column"] > 0
    for direction in ("from", "to"):
        assert _max_minutes_difference(ref, net, direction=direction, every=150) < 1e-6


@pytest.mark.wuhan
def test_cli_analyze_on_a_line_layer(optics_valley_layers, wuhan_dir, tmp_path):
    from circles.cli import main

    out = tmp_path / "out"
    code = main(["analyze", "--network", str(optics_valley_layers["gpkg"]), "--network-layer", "roads",
                 "--class-column", "highway", "--facilities", str(wuhan_dir / "weibo_pois_gcj02.csv"),
                 "--crs", "gcj02", "--grid", "500", "--out", str(out), "--quiet"])
    assert code == 0 and (out / "coverage.csv").exists()
    assert main(["analyze", "--network", str(optics_valley_layers["gpkg"]), "--network-layer", "lanes",
                 "--out", str(out), "--quiet"]) == 2


# ------------------------------------------------------------------ hand-made layers

def _line(*xy_m) -> LineString:
    return LineString([lonlat(x, y) for x, y in xy_m])


def _write(tmp_path, rows, name="roads.geojson", crs="EPSG:4326", **kw):
    path = tmp_path / name
    gdf = gpd.GeoDataFrame(rows, crs=crs) if rows else gpd.GeoDataFrame(rows, geometry=[], crs=crs)
    gdf.to_file(path, **kw)
    return path


def _node(net, x_m, y_m) -> int:
    """The node at (x_m, y_m), on whatever piece it is (snapping would pass small detached pieces)."""
    x, y = net.project(*lonlat(x_m, y_m))
    d = np.hypot(net.x - x, net.y - y)
    assert d.min() < 0.01
    return int(np.argmin(d))


def test_oneway_column_with_chinese_names_and_classes(tmp_path):
    # A --100 m--> B one-way main road (主干路, 40 km/h), B --100 m-- C a two-way branch road (支路, 30 km/h),
    # and a 快速路 A--C (expressway: no pedestrians).
    path = _write(tmp_path, [
        {"道路等级": "主干路", "单行": "是", "geometry": _line((0, 0), (100, 0))},
        {"道路等级": "支路", "单行": "否", "geometry": _line((100, 0), (200, 0))},
        {"道路等级": "快速路", "单行": "否", "geometry": _line((0, 0), (100, 80), (200, 0))},
    ])
    drive = load_network(path, mode="drive")
    a, b, _c = _node(drive, 0, 0), _node(drive, 100, 0), _node(drive, 200, 0)
    assert drive.report["columns_used"] == {"oneway": "单行", "speed": None, "class": "道路等级", "name": None}
    from_a = travel_seconds(drive.graph_s(), [a], direction="from")
    assert from_a[b] == pytest.approx(100 / (40 / 3.6), rel=1e-3)
    from_b = travel_seconds(drive.graph_s(), [b], direction="from")
    # against the one-way: B -> A only round by C and the expressway (60 km/h)
    assert from_b[a] == pytest.approx(100 / (30 / 3.6) + 2 * np.hypot(100, 80) / (60 / 3.6), rel=1e-3)
    walk = load_network(path, mode="walk")
    assert "motorway" not in set(walk.edge_highway)  # 快速路 is not walkable
    g = walk.graph_s()
    wa, wb = _node(walk, 0, 0), _node(walk, 100, 0)
    assert travel_seconds(g, [wb], direction="from")[wa] == pytest.approx(100.0, rel=1e-3)  # walking ignores one-way


def test_named_columns_reverse_oneway_and_speed(tmp_path):
    path = _write(tmp_path, [
        {"dir_flag": "-1", "v_kmh": 36, "kind": "residential", "geometry": _line((0, 0), (100, 0))},
        {"dir_flag": "0", "v_kmh": None, "kind": "residential", "geometry": _line((100, 0), (200, 0))},
    ])
    with pytest.raises(InputError, match="oneway_column.*'dir' is not a column.*its columns are: dir_flag, v_kmh, kind"):
        load_network(path, mode="drive", oneway_column="dir")
    net = load_network(path, mode="drive", oneway_column="dir_flag", speed_column="v_kmh", class_column="kind")
    a, b, c = _node(net, 0, 0), _node(net, 100, 0), _node(net, 200, 0)
    g = net.graph_s()
    assert np.isinf(travel_seconds(g, [a], direction="from")[b])  # -1: only against the drawing direction
    assert travel_seconds(g, [b], direction="from")[a] == pytest.approx(10.0, rel=1e-3)  # 36 km/h
    assert travel_seconds(g, [b], direction="from")[c] == pytest.approx(100 / (20 / 3.6), rel=1e-3)


def test_unknown_oneway_values_are_refused(tmp_path):
    path = _write(tmp_path, [{"oneway": "sometimes", "geometry": _line((0, 0), (100, 0))}])
    with pytest.raises(InputError, match=r"roads.geojson.*'oneway' has value\(s\) \['sometimes'\].*--oneway-column"):
        load_network(path, mode="drive")


def test_lines_are_split_at_shared_vertices_only(tmp_path):
    # line 1 runs (0,0)-(100,0)-(200,0); line 2 ends on its middle vertex (a T junction);
    # line 3 crosses line 1 at (150, 0) without a vertex there (a bridge): not joined.
    # line 4 starts 4 mm from line 1's end (digitising noise): joined; line 5 starts 5 cm away: not.
    path = _write(tmp_path, [
        {"geometry": _line((0, 0), (100, 0), (200, 0))},
        {"geometry": _line((100, 0), (100, 100))},
        {"geometry": _line((150, -50), (150, 50))},
        {"geometry": MultiLineString([_line((200.004, 0), (300, 0)), _line((0, -300), (0, -400))])},
        {"geometry": _line((300.05, 0), (400, 0))},
    ])
    net = load_network(path, mode="walk")
    g = net.graph_s()
    start = _node(net, 0, 0)
    t = travel_seconds(g, [start], direction="from")
    assert t[_node(net, 100, 100)] == pytest.approx(200.0, rel=1e-3)  # via the shared vertex
    assert np.isinf(t[_node(net, 150, 50)])  # the bridge is not a junction
    assert t[_node(net, 300, 0)] == pytest.approx(300.0, rel=1e-3)  # snapped within 1 cm
    assert np.isinf(t[_node(net, 400, 0)])  # 5 cm apart: two nodes
    assert net.report["multilinestring_features_exploded"] == 1
    assert net.report["nodes_after_snapping"] == net.report["vertices"] - 2  # (100,0) twice, (200,0)~(200.004,0)


def test_projected_layer_without_crs_needs_one(tmp_path):
    rows = [{"highway": "residential", "geometry": _line((0, 0), (100, 0))}]
    gdf = gpd.GeoDataFrame(rows, crs="EPSG:4326").to_crs("EPSG:4547")
    path = tmp_path / "noprj.shp"
    gdf.to_file(path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(InputError, match=r"noprj.shp: the layer has no coordinate reference system.*--network-crs.*ogr2ogr"):
        load_network(path)
    net = load_network(path, crs="EPSG:4547")
    assert net.edge_length_m.sum() == pytest.approx(2 * 100.0, rel=2e-3)
    # the wrong CRS: GK metres read as degrees
    with pytest.raises(InputError, match="not valid coordinates.*EPSG:4326.*--network-crs"):
        load_network(path, crs="EPSG:4326")


def test_layers_without_lines_empty_or_ambiguous(tmp_path):
    points = _write(tmp_path, [{"geometry": Point(lonlat(0, 0))}, {"geometry": Point(lonlat(5, 5))}],
                    name="pois.geojson")
    with pytest.raises(InputError, match=r"pois.geojson: has no line features \(found 2 Point\)"):
        load_network(points)
    polygons = _write(tmp_path, [{"geometry": Point(lonlat(0, 0)).buffer(1e-4)}], name="blocks.geojson")
    with pytest.raises(InputError, match="blocks.geojson: has no line features .*Polygon"):
        load_network(polygons)
    empty = tmp_path / "empty.gpkg"
    gpd.GeoDataFrame({"highway": []}, geometry=gpd.GeoSeries([], crs="EPSG:4326")).to_file(empty, layer="roads")
    with pytest.raises(NoDataError, match="empty.gpkg.*the layer is empty"):
        load_network(empty)
    two = tmp_path / "two.gpkg"
    for layer in ("roads_2020", "roads_2024"):
        gpd.GeoDataFrame({"highway": ["residential"]}, geometry=[_line((0, 0), (100, 0))],
                         crs="EPSG:4326").to_file(two, layer=layer)
    with pytest.raises(InputError, match=r"two.gpkg: has 2 layers \(roads_2020 .*roads_2024.*--network-layer"):
        load_network(two)
    with pytest.raises(InputError, match=r"two.gpkg: has no layer 'roads'; its layers are: roads_2020"):
        load_network(two, layer="roads")
    assert load_network(two, layer="roads_2024").n_edges == 2


def test_line_options_on_an_osm_file_are_refused(tmp_path):
    from osm_builder import write_osm

    path = write_osm(tmp_path / "a.osm", {1: (0, 0), 2: (100, 0)}, [(1, [1, 2], {"highway": "residential"})])
    with pytest.raises(InputError, match="--oneway-column.*line layers"):
        load_network(path, oneway_column="oneway")


def test_unknown_classes_are_ordinary_roads_and_reported(tmp_path):
    path = _write(tmp_path, [{"class": "X9", "geometry": _line((0, 0), (100, 0))},
                             {"class": "motorway", "geometry": _line((100, 0), (200, 0))}])
    walk = load_network(path, mode="walk")
    assert walk.report["classes_unrecognised"] == {"X9": 1}
    assert set(walk.edge_highway) == {"road"}  # the motorway is not walkable
    drive = load_network(path, mode="drive")
    assert set(drive.edge_highway) == {"road", "motorway"}


def test_gbk_shapefile_without_cpg(tmp_path):
    # Chinese GIS software often writes GBK text and no .cpg: the class column must still read as 主干路.
    path = tmp_path / "gbk.shp"
    gpd.GeoDataFrame({"道路等级": ["主干路", "支路"]}, geometry=[_line((0, 0), (100, 0)), _line((100, 0), (200, 0))],
                     crs="EPSG:4326").to_file(path, encoding="gbk")
    path.with_suffix(".cpg").unlink()
    net = load_network(path, mode="drive")
    assert net.report["columns_used"]["class"] == "道路等级"
    assert set(net.edge_highway) == {"primary", "tertiary"} and "classes_unrecognised" not in net.report
