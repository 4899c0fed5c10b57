"""Spatial node order: nodes are numbered along a Morton curve at network build.

Only the numbering may change: every node keeps its OSM id and coordinates,
every edge its ends, and travel times, components and snapping are the same
as in OSM-id order.
"""

from __future__ import annotations

import numpy as np
import pytest
from osm_builder import write_osm
from scipy.sparse.csgraph import dijkstra

from circles import _osm
from circles._graph_arrays import spatial_order
from circles.errors import InputError
from circles.network import Network, build_network


def test_morton_order_of_a_4x4_block():
    # Z-order on a 4 x 4 grid (index = row * 4 + col): each 2 x 2 quadrant is
    # finished before the next, bottom-left, bottom-right, top-left, top-right.
    x, y = np.meshgrid(np.arange(4.0), np.arange(4.0))
    assert spatial_order(x.ravel(), y.ravel()).tolist() == [0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15]


def test_spatial_order_edge_cases():
    assert spatial_order(np.zeros(0), np.zeros(0)).size == 0
    assert spatial_order(np.array([5.0]), np.array([7.0])).tolist() == [0]
    # identical points keep their input order (deterministic)
    assert spatial_order(np.ones(3), np.ones(3)).tolist() == [0, 1, 2]


@pytest.fixture
def scattered_osm(tmp_path):
    """A 12 x 12 street grid, 60 m blocks, ids scattered (as in OSM), two far islands,
    one one-way street and one segment long enough to get intermediate nodes."""
    rng = np.random.default_rng(4)
    ids = rng.permutation(144) * 7919 + 1_000_003
    grid = ids.reshape(12, 12)
    nodes = {int(grid[r, c]): (c * 60.0, r * 60.0) for r in range(12) for c in range(12)}
    ways = [(10_000 + r, [int(i) for i in grid[r]], {"highway": "residential"}) for r in range(12)]
    ways += [(20_000 + c, [int(i) for i in grid[:, c]], {"highway": "tertiary"}) for c in range(12)]
    ways[3] = (10_003, [int(i) for i in grid[3]], {"highway": "residential", "oneway": "yes"})
    nodes.update({5: (3000.0, 0.0), 6: (3000.0, 350.0), 7: (-900.0, 900.0), 8: (-900.0, 960.0)})
    ways += [(30_000, [5, 6], {"highway": "residential"}), (30_001, [7, 8], {"highway": "footway"})]
    return write_osm(tmp_path / "scattered.osm", nodes, ways)


def _both(path, mode: str) -> tuple[Network, Network]:
    tables, _ = _osm.read(path)
    return (build_network(tables, mode=mode, source=str(path), node_order="id"),
            build_network(tables, mode=mode, source=str(path)))


def _edges_by_id(net: Network) -> list[tuple[int, int, float]]:
    return sorted(zip(net.node_id[net.edge_u].tolist(), net.node_id[net.edge_v].tolist(),
                      np.round(net.edge_seconds(), 9).tolist()))


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_only_the_numbering_changes(scattered_osm, mode):
    by_id, spatial = _both(scattered_osm, mode)
    assert not np.array_equal(by_id.node_id, spatial.node_id)  # the order did change
    pos = {int(n): i for i, n in enumerate(spatial.node_id)}
    perm = np.array([pos[int(n)] for n in by_id.node_id])  # id-order index -> spatial index
    for name in ("lon", "lat", "x", "y"):
        assert np.array_equal(getattr(by_id, name), getattr(spatial, name)[perm])
    assert _edges_by_id(by_id) == _edges_by_id(spatial)
    assert (spatial.node_id < 0).sum() == (by_id.node_id < 0).sum() > 0  # densified nodes kept
    assert by_id.report == spatial.report
    # travel times from every node to every node agree
    a = dijkstra(by_id.graph_s(), limit=900.0)
    b = dijkstra(spatial.graph_s(), limit=900.0)
    assert np.array_equal(a, b[np.ix_(perm, perm)])
    # the same nodes are in the largest component
    assert np.array_equal(by_id.component, spatial.component[perm])
    la, lb = by_id.largest_component(), spatial.largest_component()
    assert sorted(la.node_id.tolist()) == sorted(lb.node_id.tolist())
    assert _edges_by_id(la) == _edges_by_id(lb)


def test_snapping_finds_the_same_osm_nodes(scattered_osm):
    by_id, spatial = _both(scattered_osm, "walk")
    rng = np.random.default_rng(0)
    lon = rng.uniform(by_id.lon.min(), by_id.lon.max(), 200)
    lat = rng.uniform(by_id.lat.min(), by_id.lat.max(), 200)
    sa, sb = by_id.snap_lonlat(lon, lat), spatial.snap_lonlat(lon, lat)
    assert np.array_equal(by_id.node_id[sa.node], spatial.node_id[sb.node])
    assert np.array_equal(sa.distance_m, sb.distance_m)
    assert np.array_equal(sa.off_network, sb.off_network)


def test_spatial_order_puts_street_neighbours_close(scattered_osm):
    by_id, spatial = _both(scattered_osm, "walk")
    def gap(net: Network) -> float:
        return float(np.median(np.abs(net.edge_u - net.edge_v)))

    assert gap(spatial) < gap(by_id) / 4


def test_unknown_node_order(scattered_osm):
    tables, _ = _osm.read(scattered_osm)
    with pytest.raises(InputError, match="node_order"):
        build_network(tables, mode="walk", source="x", node_order="hilbert")


@pytest.mark.wuhan
def test_analysis_results_do_not_depend_on_the_order(wuhan_dir):
    import circles
    from circles.facilities import facilities_from_features

    path = wuhan_dir / "guanggu.osm"
    tables, _ = _osm.read(path)
    fac = facilities_from_features(tables.features, source="osm")
    results = []
    for order in ("id", "spatial"):
        walk = build_network(tables, mode="walk", source=str(path), node_order=order)
        drive = build_network(tables, mode="drive", source=str(path), node_order=order)
        results.append((walk, circles.analyze(walk, drive_network=drive, facilities=fac, grid_m=500)))
    (wa, ra), (wb, rb) = results
    cols = [c for c in ra.units.columns if c != "geometry"]
    assert ra.units[cols].equals(rb.units[cols])
    assert ra.summary.equals(rb.summary)
    pos = {int(n): i for i, n in enumerate(wb.node_id)}
    perm = np.array([pos[int(n)] for n in wa.node_id])
    compared = 0
    for circle, per_category in ra.node_minutes.items():  # walking circles: minutes per walk node
        for category, minutes in per_category.items():
            if minutes.size == wa.n_nodes:
                np.testing.assert_array_equal(minutes, rb.node_minutes[circle][category][perm])
                compared += 1
    assert compared > 0
