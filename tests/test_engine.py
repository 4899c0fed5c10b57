"""The numeric core on hand-checkable graphs (answers worked out in comments)."""

import numpy as np
import pytest
import scipy.sparse as sp

from circles.engine import NodeIndex, build_csr, main_pieces, minutes_to_nearest, point_minutes, travel_seconds
from circles.errors import InputError


def test_parallel_edges_keep_the_minimum_not_the_sum():
    # 0 -> 1 twice (100 s and 70 s), 1 -> 2 once (30 s).
    # Cheapest 0 -> 2 is 70 + 30 = 100 s.  scipy's COO conversion would sum the
    # parallel pair into 170 s and report 200 s.
    g = build_csr([0, 0, 1], [1, 1, 2], [100.0, 70.0, 30.0], 3)
    assert g[0, 1] == 70.0
    assert travel_seconds(g, [0], direction="from").tolist() == [0.0, 70.0, 100.0]
    summed = sp.coo_matrix(([100.0, 70.0, 30.0], ([0, 0, 1], [1, 1, 2])), shape=(3, 3)).tocsr()
    assert summed[0, 1] == 170.0  # the pitfall this guards against


def test_zero_cost_edges_are_edges():
    # 0 -> 1 costs 0 s (two OSM nodes at one spot), 1 -> 2 costs 5 s.
    g = build_csr([0, 1], [1, 2], [0.0, 5.0], 3)
    assert travel_seconds(g, [0], direction="from").tolist() == [0.0, 0.0, 5.0]


def test_one_way_street_from_and_to_differ():
    # A one-way street 0 -> 1 (60 s) and a long way back 1 -> 2 -> 0 (120 + 120 s).
    g = build_csr([0, 1, 2], [1, 2, 0], [60.0, 120.0, 120.0], 3)
    # An ambulance at 0 driving *from* the station: node 1 in 60 s, node 2 in 180 s.
    assert travel_seconds(g, [0], direction="from").tolist() == [0.0, 60.0, 180.0]
    # A resident *going to* 0: from 1 it is 1 -> 2 -> 0 = 240 s, from 2 it is 120 s.
    assert travel_seconds(g, [0], direction="to").tolist() == [0.0, 240.0, 120.0]


def test_disconnected_island_is_unreachable_nan_in_minutes():
    # 0 - 1 connected (60 s both ways); 2 - 3 an island.
    g = build_csr([0, 1, 2, 3], [1, 0, 3, 2], [60.0, 60.0, 60.0, 60.0], 4)
    s = travel_seconds(g, [0], direction="from")
    assert s[1] == 60.0 and np.isinf(s[2]) and np.isinf(s[3])
    m = minutes_to_nearest(g, [0], direction="to")
    assert m[1] == 1.0 and np.isnan(m[2]) and np.isnan(m[3])


def test_limit_cuts_off_and_nearest_of_several_sources_wins():
    # A path 0 - 1 - 2 - 3 - 4, 60 s per step, facilities at 0 and 4.
    u = [0, 1, 2, 3]
    v = [1, 2, 3, 4]
    g = build_csr(u + v, v + u, [60.0] * 8, 5)
    m = minutes_to_nearest(g, [0, 4], direction="to")
    assert m.tolist() == [0.0, 1.0, 2.0, 1.0, 0.0]
    # With a 1.5-minute limit node 2 (2 min from either) is out of reach.
    m = minutes_to_nearest(g, [0, 4], limit_min=1.5, direction="to")
    assert np.isnan(m[2]) and m[1] == 1.0


def test_source_offsets_are_access_legs():
    # Path 0 - 1 - 2, 60 s per step.  Source 0 starts 100 s late (its facility
    # stands 100 m off the street at 1 m/s), source 2 starts on time.
    g = build_csr([0, 1, 1, 2], [1, 0, 2, 1], [60.0] * 4, 3)
    s = travel_seconds(g, [0, 2], source_offsets_s=np.array([100.0, 0.0]), direction="from")
    # node 0: min(100, 120) = 100; node 1: min(160, 60) = 60; node 2: 0.
    assert s.tolist() == [100.0, 60.0, 0.0]


def test_no_sources_means_nothing_reachable():
    g = build_csr([0], [1], [1.0], 2)
    assert np.isinf(travel_seconds(g, np.array([], dtype=int), direction="from")).all()


def test_bad_arguments_are_named():
    g = build_csr([0], [1], [1.0], 2)
    with pytest.raises(InputError, match="direction"):
        travel_seconds(g, [0], direction="sideways")
    with pytest.raises(InputError, match="out of range"):
        travel_seconds(g, [5], direction="from")
    with pytest.raises(InputError, match=">= 0"):
        build_csr([0], [1], [-1.0], 2)


def test_snap_flags_far_points_and_adds_access_leg():
    # Nodes at (0,0) and (100,0).  A point 30 m north of node 1 snaps to it
    # with a 30 m leg; a point 500 m away is off-network.
    idx = NodeIndex(np.array([0.0, 100.0]), np.array([0.0, 0.0]))
    snap = idx.snap(np.array([100.0, 1000.0]), np.array([30.0, 300.0]), max_snap_m=300)
    assert snap.node.tolist() == [1, 1]
    assert snap.distance_m[0] == pytest.approx(30.0)
    assert snap.off_network.tolist() == [False, True]
    # Node 1 is 2 minutes from a facility; walking 30 m at 60 m/min adds 0.5 min.
    minutes = point_minutes(np.array([1.0, 2.0]), snap, 60.0)
    assert minutes[0] == pytest.approx(2.5) and np.isnan(minutes[1])
    with pytest.raises(InputError, match="rows \\[0\\]"):
        idx.snap(np.array([np.nan]), np.array([0.0]))


def test_main_pieces_keep_the_largest_and_big_ones_only():
    # 200 nodes in piece 7 (largest), 60 in piece 3 (>= 50 nodes and >= 1 %), 40 in piece 1
    # (< 50 nodes) and 2 in piece 9: the first two are main pieces, whatever their labels.
    labels = np.repeat([3, 7, 1, 9], [60, 200, 40, 2])
    keep = main_pieces(labels, min_share=0.01, min_nodes=50)
    assert keep.tolist() == [True] * 260 + [False] * 42
    # with a 25 % share the 60-node piece (20 %) is small too; the largest always stays
    assert main_pieces(labels, min_share=0.25, min_nodes=50).sum() == 200
    assert main_pieces(np.array([5, 5]), min_share=0.5, min_nodes=50).all()  # tiny network: kept whole
    assert main_pieces(np.zeros(0, int)).size == 0


def test_snap_passes_a_small_piece_for_the_main_one():
    # Main street nodes 0, 1 at (0,0), (100,0); a detached two-node stub (nodes 2, 3) at y=60.
    # A point at (100, 80) is 20 m from the stub but snaps to node 1, 80 m away; a point
    # 250 m above the stub (310 m from node 1) goes off-network rather than onto the stub.
    x, y = np.array([0.0, 100.0, 90.0, 110.0]), np.array([0.0, 0.0, 60.0, 60.0])
    keep = np.array([True, True, False, False])
    px, py = np.array([100.0, 100.0, 0.0]), np.array([80.0, 310.0, 10.0])
    old = NodeIndex(x, y).snap(px, py, max_snap_m=300)
    assert old.node.tolist()[:2] == [2, 2] and not old.past_small_piece.any()
    snap = NodeIndex(x, y, keep=keep).snap(px, py, max_snap_m=300)
    assert snap.node.tolist() == [1, 1, 0]
    assert snap.distance_m[:2] == pytest.approx([80.0, 310.0])
    assert snap.off_network.tolist() == [False, True, False]
    assert snap.past_small_piece.tolist() == [True, True, False] and snap.n_past_small_piece == 2
    with pytest.raises(InputError, match="one flag per node"):
        NodeIndex(x, y, keep=keep[:3])
