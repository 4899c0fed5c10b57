"""Road networks from files: filters, one-way streets, speeds, parts, bad input,
and agreement with NetworkX on the real Helsinki and Optics Valley extracts."""

import time

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from osm_builder import write_osm

import circles
from circles.engine import travel_seconds
from circles.errors import InputError, InputFileNotFoundError, NetworkUnavailableError, NoDataError
from circles.network import fetch_network, load_network, parse_maxspeed


@pytest.fixture
def tiny_osm(tmp_path):
    # Nodes on a line, 100 m apart:  1 --- 2 --- 3 --- 4
    # way 10: 1-2-3 residential, two-way
    # way 11: 3-4 one-way primary 3 -> 4 with maxspeed 36 (10 m/s)
    # way 12: 1-2 a second, footway-only path (parallel to way 10, same length)
    # way 13: motorway 2-4 (no walking), way 14: a building outline (never a street)
    # way 15: an island footway 5-6, 50 m long, far away.
    nodes = {1: (0, 0), 2: (100, 0), 3: (200, 0), 4: (300, 0), 5: (0, 2000), 6: (50, 2000),
             7: (0, 50), 8: (50, 50), 9: (50, 100)}
    ways = [
        (10, [1, 2, 3], {"highway": "residential"}),
        (11, [3, 4], {"highway": "primary", "oneway": "yes", "maxspeed": "36"}),
        (12, [1, 2], {"highway": "footway"}),
        (13, [2, 4], {"highway": "motorway"}),
        (14, [7, 8, 9, 7], {"building": "yes"}),
        (15, [5, 6], {"highway": "footway"}),
    ]
    return write_osm(tmp_path / "tiny.osm", nodes, ways)


def idx(net, osm_id):
    return int(np.flatnonzero(net.node_id == osm_id)[0])


def test_walk_network_filters_and_is_undirected(tiny_osm):
    net = load_network(tiny_osm, mode="walk")
    assert set(net.node_id.tolist()) == {1, 2, 3, 4, 5, 6}  # no building nodes; no segment > 100 m
    assert "motorway" not in set(net.edge_highway)
    assert net.crs.to_epsg() == 32650
    # walking 1 -> 4 is 300 m at 60 m/min = 300 s, and the same back against the one-way.
    g = net.graph_s()
    there = travel_seconds(g, [idx(net, 1)], direction="from")[idx(net, 4)]
    back = travel_seconds(g, [idx(net, 4)], direction="from")[idx(net, 1)]
    assert there == pytest.approx(300.0, rel=1e-3) and back == pytest.approx(there)
    # the island is reported, not dropped
    assert net.report["components"] == 2 and net.report["nodes_outside_largest"] == 2
    assert net.largest_component().n_nodes == 4


def test_drive_network_honours_oneway_and_maxspeed(tiny_osm):
    net = load_network(tiny_osm, mode="drive")
    # footways are not drivable; the 200 m motorway 2 -> 4 gets one intermediate node (id < 0)
    assert set(net.node_id.tolist()) == {1, 2, 3, 4, -1}
    g = net.graph_s()
    # 3 -> 4 is the one-way primary: 100 m at maxspeed 36 km/h (10 m/s) = 10 s.
    from_3 = travel_seconds(g, [idx(net, 3)], direction="from")
    assert from_3[idx(net, 4)] == pytest.approx(10.0, rel=1e-3)
    # Leaving 4, every street is one-way *into* 4 (the primary 3 -> 4, and the
    # motorway 2 -> 4, one-way by OSM convention), so an ambulance at 4 reaches nothing.
    from_4 = travel_seconds(g, [idx(net, 4)], direction="from")
    assert np.isinf(from_4[idx(net, 3)]) and np.isinf(from_4[idx(net, 1)])
    # 'to' direction is the reverse: reaching 4 from 3 takes 10 s.
    to_4 = travel_seconds(g, [idx(net, 4)], direction="to")
    assert to_4[idx(net, 3)] == pytest.approx(10.0, rel=1e-3)


def test_parallel_edges_cheapest_used(tmp_path):
    # Two ways between the same nodes: a straight 100 m street and a 300 m detour
    # through node 3.  osm builder puts 1 at (0,0), 2 at (100,0), 3 at (50,141.4).
    nodes = {1: (0, 0), 2: (100, 0), 3: (50, 141.42)}
    ways = [(1, [1, 2], {"highway": "residential"}), (2, [1, 2], {"highway": "residential"}),
            (3, [1, 3, 2], {"highway": "residential"})]
    net = load_network(write_osm(tmp_path / "p.osm", nodes, ways), mode="walk")
    # 2 parallel segments + 2 detour segments of 150 m, each split into two 75 m pieces
    # (segments > 100 m get intermediate nodes), all in both directions: (2 + 4) * 2
    assert net.n_edges == 12
    t = travel_seconds(net.graph_s(), [idx(net, 1)], direction="from")[idx(net, 2)]
    assert t == pytest.approx(100.0, rel=1e-3)  # never the 200 s sum of the parallel pair


def test_maxspeed_parsing():
    got = parse_maxspeed(pd.Series(["50", "30 mph", "60;40", "CN:urban", None, "walk"]))
    assert got[0] == 50 and got[1] == pytest.approx(48.28, abs=0.01) and got[2] == 40
    assert np.isnan(got[3:]).all()


@pytest.mark.parametrize("content,match", [
    (b"", "empty"),
    (b"<?xml version='1.0'?><osm version='0.6'><node id='1' lat='30' lon='114'/><way id='2'", "truncated or corrupt"),
    (b"<html><body>not osm</body></html>", "no <osm> root"),
])
def test_corrupt_xml_named(tmp_path, content, match):
    p = tmp_path / "bad.osm"
    p.write_bytes(content)
    with pytest.raises((InputError, NoDataError), match=match) as info:
        load_network(p)
    assert "bad.osm" in str(info.value)


def test_corrupt_pbf_named(tmp_path, helsinki_pbf):
    p = tmp_path / "cut.osm.pbf"
    p.write_bytes(helsinki_pbf.read_bytes()[:20_000])
    with pytest.raises(InputError, match="cut.osm.pbf"):
        load_network(p)


def test_missing_file_and_unknown_extension(tmp_path):
    with pytest.raises(InputFileNotFoundError, match="nowhere.osm"):
        load_network(tmp_path / "nowhere.osm")
    p = tmp_path / "roads.csv"
    p.write_text("x")
    with pytest.raises(InputError, match=r"unknown network file type '\.csv'.*Shapefile, GeoPackage or GeoJSON"):
        load_network(p)
    with pytest.raises(InputError, match="mode must be one of"):
        load_network(p, mode="bike")
    broken = tmp_path / "roads.shp"
    broken.write_text("x")
    with pytest.raises(InputError, match="roads.shp: could not open the road layer"):
        load_network(broken)


def test_file_without_usable_ways(tmp_path):
    p = write_osm(tmp_path / "paths.osm", {1: (0, 0), 2: (100, 0)}, [(1, [1, 2], {"highway": "footway"})])
    with pytest.raises(NoDataError, match="no ways usable for mode='drive'"):
        load_network(p, mode="drive")


def test_online_calls_fail_fast_offline():
    # Sockets are blocked in the test session, as on a machine with no internet.
    started = time.monotonic()
    with pytest.raises(NetworkUnavailableError, match="load_network") as info:
        fetch_network(bbox=(114.50, 30.47, 114.54, 30.49), mode="walk")
    assert time.monotonic() - started < 10
    assert "No internet connection" in str(info.value)
    with pytest.raises(NetworkUnavailableError):
        fetch_network(place="洪山区, 武汉市")


@pytest.mark.parametrize("bbox,match", [
    ((114.5, 30.5, 114.5, 30.6), "is empty"),
    ((114.6, 30.5, 114.5, 30.6), "is empty"),
    ((30.5, 114.5, 30.6, 114.6), "swapped"),
])
def test_bad_bbox(bbox, match):
    with pytest.raises(InputError, match=match):
        fetch_network(bbox=bbox)


def test_fetch_needs_exactly_one_area():
    with pytest.raises(InputError, match="exactly one"):
        fetch_network()
    with pytest.raises(InputError, match="empty string"):
        fetch_network(place="  ")


def test_points_outside_network_and_swapped_coordinates(tiny_osm):
    net = load_network(tiny_osm, mode="walk")
    lon0, lat0 = net.lon[0], net.lat[0]
    snap = net.snap_lonlat([lon0, lon0 + 0.05], [lat0, lat0])  # the second is ~5 km east
    assert snap.off_network.tolist() == [False, True]
    with pytest.raises(InputError, match="swapped"):
        net.snap_lonlat([lat0], [lon0])
    with pytest.raises(InputError, match="missing"):
        net.snap_lonlat([np.nan], [lat0])


def _compare_with_networkx(net, n_sources=25, seed=0):
    """Our multi-source run vs networkx.multi_source_dijkstra on every node."""
    rng = np.random.default_rng(seed)
    sources = rng.choice(net.n_nodes, size=min(n_sources, net.n_nodes), replace=False)
    graph = net.to_networkx()
    for direction in ("from", "to"):
        g = graph if direction == "from" else graph.reverse(copy=False)
        ref = nx.multi_source_dijkstra_path_length(g, set(sources.tolist()), weight="time_s")
        expected = np.full(net.n_nodes, np.inf)
        expected[list(ref)] = list(ref.values())
        ours = travel_seconds(net.graph_s(), sources, direction=direction)
        assert np.array_equal(np.isfinite(ours), np.isfinite(expected))
        finite = np.isfinite(expected)
        assert np.abs(ours[finite] - expected[finite]).max() < 1e-6


def test_engine_matches_networkx_on_helsinki(helsinki_pbf):
    for mode in ("walk", "drive"):
        _compare_with_networkx(load_network(helsinki_pbf, mode=mode))


@pytest.mark.wuhan
@pytest.mark.parametrize("name", ["guanggu.osm", "guanggu.osm.pbf"])
def test_engine_matches_networkx_on_optics_valley(wuhan_dir, name):
    for mode in ("walk", "drive"):
        net = load_network(wuhan_dir / name, mode=mode)
        _compare_with_networkx(net)
        # walk graphs must not depend on direction at all
        if mode == "walk":
            s = net.graph_s()
            assert (s != s.T).nnz == 0


@pytest.mark.wuhan
def test_optics_valley_xml_and_pbf_agree_and_filter_non_streets(wuhan_dir):
    xml = load_network(wuhan_dir / "guanggu.osm", mode="walk")
    pbf = load_network(wuhan_dir / "guanggu.osm.pbf", mode="walk")
    assert xml.n_nodes == pbf.n_nodes and xml.n_edges == pbf.n_edges
    # buildings and landuse are not streets: every edge has a highway class
    assert all(h for h in xml.edge_highway)
    assert xml.report["components"] == 4  # matches the data README's 4 parts
    drive = load_network(wuhan_dir / "guanggu.osm", mode="drive")
    assert drive.report["component_connection"] == "strong"
    assert 0 < drive.report["edges_with_maxspeed"] < drive.n_edges


def test_graphml_roundtrip(tmp_path, tiny_osm):
    # A network saved by osmnx (here built from our arrays) loads back the same.
    import osmnx as ox

    net = load_network(tiny_osm, mode="drive")
    g = nx.MultiDiGraph(crs="EPSG:4326")
    for i in range(net.n_nodes):
        g.add_node(int(net.node_id[i]), x=float(net.lon[i]), y=float(net.lat[i]))
    for u, v, length, h in zip(net.edge_u, net.edge_v, net.edge_length_m, net.edge_highway):
        g.add_edge(int(net.node_id[u]), int(net.node_id[v]), length=float(length), highway=h, osmid=1,
                   maxspeed="36" if h == "primary" else None)
    for _, _, d in g.edges(data=True):
        if d["maxspeed"] is None:
            del d["maxspeed"]
    path = tmp_path / "tiny.graphml"
    ox.save_graphml(g, path)
    again = circles.load_network(path, mode="drive")
    assert again.n_nodes == net.n_nodes and again.n_edges == net.n_edges
    a = travel_seconds(net.graph_s(), [0], direction="from")
    b = travel_seconds(again.graph_s(), [int(np.flatnonzero(again.node_id == net.node_id[0])[0])], direction="from")
    order = np.argsort(again.node_id)
    assert np.allclose(np.sort(a[np.isfinite(a)]), np.sort(b[order][np.isfinite(b[order])]))


def test_place_that_cannot_be_geocoded(monkeypatch, tmp_path):
    # Pretend the servers answer (no real request is made) and Nominatim finds nothing.
    import osmnx as ox

    import circles.online as online

    monkeypatch.setattr(online, "_check_reachable", lambda url, timeout: None)

    def not_found(query, *args, **kwargs):
        raise ValueError(f"Nominatim could not geocode query {query!r}")

    monkeypatch.setattr(ox, "geocode_to_gdf", not_found)
    with pytest.raises(InputError, match="could not be geocoded") as info:
        fetch_network(place="Atlantis, 武汉市", cache_dir=tmp_path)
    assert "bbox=" in str(info.value)


def test_osmnx_settings_are_restored_after_use_and_after_errors(monkeypatch, tmp_path):
    # issue #11: circles changes osmnx's global settings only while it talks to the servers
    import osmnx as ox

    import circles.online as online
    from circles import settings

    keys = ("requests_timeout", "overpass_rate_limit", "log_console", "use_cache")
    before = {k: getattr(ox.settings, k) for k in keys}
    with online.osmnx_settings() as configured:
        assert configured.settings.requests_timeout == settings.REQUESTS_TIMEOUT_S
        assert configured.settings.use_cache is False and configured.settings.overpass_rate_limit is False
    assert {k: getattr(ox.settings, k) for k in keys} == before
    with pytest.raises(RuntimeError), online.osmnx_settings():
        raise RuntimeError("a failed request")
    assert {k: getattr(ox.settings, k) for k in keys} == before

    # a download that fails half-way (the place cannot be geocoded) leaves them as they were too
    monkeypatch.setattr(online, "_check_reachable", lambda url, timeout: None)
    monkeypatch.setattr(ox, "geocode_to_gdf", lambda query, *a, **k: (_ for _ in ()).throw(ValueError("no")))
    with pytest.raises(InputError):
        fetch_network(place="Atlantis", cache_dir=tmp_path)
    assert {k: getattr(ox.settings, k) for k in keys} == before


def test_long_segments_get_intermediate_nodes(tmp_path):
    # A 1,200 m road with only two OSM nodes.  A resident at its middle, 20 m off
    # the road, is 600 m from either OSM node (off-network at 300 m) but 20 m from
    # the road: the road gets 11 intermediate nodes every 100 m, so the resident
    # snaps 20 m away, and walking end to end still takes 1,200 m / 60 = 20 min.
    net = load_network(write_osm(tmp_path / "long.osm", {1: (0, 0), 2: (1200, 0)},
                                 [(1, [1, 2], {"highway": "residential"})]), mode="walk")
    assert net.n_nodes == 13 and (net.node_id < 0).sum() == 11
    assert net.edge_length_m.max() == pytest.approx(100.0, rel=1e-3)
    assert net.report["nodes_added_on_long_segments"] == 11
    from osm_builder import lonlat

    lon, lat = lonlat(600, 20)
    snap = net.snap_lonlat([lon], [lat])
    assert not snap.off_network[0] and snap.distance_m[0] == pytest.approx(20.0, abs=0.5)
    a, b = idx(net, 1), idx(net, 2)
    assert travel_seconds(net.graph_s(), [a], direction="from")[b] == pytest.approx(1200.0, rel=1e-3)


def test_impossible_node_coordinates_name_the_file(tmp_path):
    p = tmp_path / "bad.osm"
    p.write_text('<?xml version="1.0"?><osm version="0.6"><node id="1" lat="95.0" lon="114.5"/>'
                 '<node id="2" lat="30.5" lon="114.5"/><way id="3"><nd ref="1"/><nd ref="2"/>'
                 '<tag k="highway" v="residential"/></way></osm>', encoding="utf-8")
    with pytest.raises(InputError, match="bad.osm.*impossible coordinates.*OSM node 1"):
        load_network(p)


def test_graphml_drive_graph_without_one_ways_warns(tmp_path, caplog):
    # A graph saved from a walk network has every edge both ways: for ambulances that
    # silently opens every one-way street, so loading it as drive must say so.
    import osmnx as ox

    g = nx.MultiDiGraph(crs="EPSG:4326")
    from osm_builder import lonlat

    for i in range(12):
        lon, lat = lonlat(50.0 * i, 0.0)
        g.add_node(i + 1, x=lon, y=lat)
    for i in range(1, 12):
        for a, b in ((i, i + 1), (i + 1, i)):
            g.add_edge(a, b, length=50.0, highway="primary", osmid=i)
    path = tmp_path / "walk.graphml"
    ox.save_graphml(g, path)
    load_network(path, mode="drive")
    assert "one-way rules are probably lost" in caplog.text
