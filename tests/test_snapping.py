"""Points snap to the network's main piece(s), never to a tiny detached piece that reaches nothing."""

import numpy as np
import pytest
from osm_builder import lonlat, write_osm

from circles.analysis import analyze
from circles.engine import travel_seconds
from circles.network import load_network


def _drive(tmp_path, nodes, ways):
    return load_network(write_osm(tmp_path / "roads.osm", nodes, ways), mode="drive")


def test_drive_point_beside_a_one_way_entry_stub_joins_the_main_roads(tmp_path):
    # A two-way street x = 0 … 6000 m (61 nodes, one strong piece) and an 80 m one-way stub that
    # only leads INTO it from (3000, 80).  No ambulance can drive onto the stub, so a resident at
    # (3000, 100) — 20 m from the stub's end — is joined to the street node (3000, 0), 100 m away.
    nodes = {1: (0.0, 0.0), 2: (3000.0, 0.0), 3: (6000.0, 0.0), 4: (3000.0, 80.0)}
    ways = [(1, [1, 2, 3], {"highway": "residential"}),
            (2, [4, 2], {"highway": "residential", "oneway": "yes"})]
    net = _drive(tmp_path, nodes, ways)
    assert net.main_nodes.sum() == net.n_nodes - 1
    snap = net.snap_lonlat(*lonlat(3000, 100))
    assert snap.distance_m[0] == pytest.approx(100.0, abs=0.5) and snap.past_small_piece.tolist() == [True]
    start = int(np.argmin(np.hypot(net.x - net.x.min(), net.y - net.y.min())))
    assert np.isfinite(travel_seconds(net.graph_s(), [start], direction="from")[snap.node[0]])


def test_drive_network_of_one_way_roads_only_is_kept_whole(tmp_path):
    # 1 km of one-way road: eleven strong pieces of one node each.  The largest strong piece is
    # below the 50-node floor, so the weak piece (the whole road) counts and points snap anywhere.
    net = _drive(tmp_path, {1: (0.0, 0.0), 2: (1000.0, 0.0)},
                 [(1, [1, 2], {"highway": "residential", "oneway": "yes"})])
    assert net.report["components"] == 11 and net.main_nodes.all()
    assert net.snap_lonlat(*lonlat(1000, 10)).distance_m[0] == pytest.approx(10.0, abs=0.5)


def test_demo_squares_are_not_uncovered_for_a_detached_piece(helsinki_pbf):
    # QA: in `circles demo`, Senate Square (g000020) and Railway Square (g000023) hold 8 and 6
    # public spaces but were "uncovered" with empty minutes: their points snapped to 2-3-node
    # pieces of the walk network.  Now they join the main network and reach the squares.
    r = analyze(helsinki_pbf, policy="wuhan-2022", grid_m=250)
    units = r.units.set_index("unit_id")
    for unit in ("g000020", "g000023"):
        assert units.loc[unit, "public_activity_10_status"] == "covered"
        assert units.loc[unit, "public_activity_10_minutes"] < 10
    walk = r.networks["walk"]
    assert walk.main_nodes[r.demand.snaps["walk"].node].all()
    assert r.data_quality["off_network"].set_index("network").loc["walk", "past_small_piece_points"] >= 2


@pytest.mark.wuhan
@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_optics_valley_nodes_of_small_pieces_snap_to_the_main_network(wuhan_dir, mode):
    # Snap every node's own position: main-piece nodes land on themselves; a node of a small
    # piece (a one-way stub cut off at the edge of the download, by car) lands on a main node
    # within the snap limit, or off the network, and is counted as snapped past a small piece.
    net = load_network(wuhan_dir / "guanggu.osm", mode=mode)
    main = net.main_nodes
    assert main[net.component == 0].all() and not main.all()
    snap = net.snap_lonlat(net.lon, net.lat)
    assert (snap.node[main] == np.flatnonzero(main)).all() and (snap.distance_m[main] < 0.01).all()
    assert main[snap.node].all()
    assert snap.past_small_piece.tolist() == (~main).tolist()
    assert (snap.distance_m[~main] > 0).all()
    assert (snap.off_network == (snap.distance_m > 300)).all()
