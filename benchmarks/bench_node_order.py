"""Benchmark: node numbering (OSM-id order vs spatial Morton order) at city size.

OSM node ids are scattered over a city, so in id order the CSR rows one search
reads one after another lie far apart in memory.  ``build_network`` numbers
nodes along a Morton curve instead (``node_order="spatial"``, the default).
This script builds the same synthetic street network both ways, in one
process, and times what the order affects:

* 10,000 bounded single-source searches (``bounded_dijkstra_batch``, the
  scoring kernel), 1 thread and all threads;
* one multi-source scipy Dijkstra (``min_only=True``, the nearest-facility
  field) from 500 sources.

The network: a ``rows x rows`` street grid of 80 m blocks near Wuhan (UTM 50N),
nodes jittered by up to 8 m (edge lengths 64-97 m), every segment a two-node
``highway=residential`` way, node ids a random permutation of 1e9 + [0, n)
(scattered, as OSM ids are).  It goes through the real path: OSM tables ->
``build_network`` (walk, 60 m/min).  Both orders are checked to reach the same
nodes at the same times.  The two orders are timed alternately (best of
``--repeat`` each) to even out load from other processes.

    python benchmarks/bench_node_order.py              # 1000 x 1000 grid (1M nodes)
    python benchmarks/bench_node_order.py --rows 300   # quicker
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numba
import numpy as np
import pandas as pd
import scipy
from pyproj import Transformer
from scipy.sparse.csgraph import dijkstra

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import machine

from circles._graph_arrays import spatial_order
from circles._kernels import bounded_dijkstra_batch
from circles._osm import SEGMENT_TAGS, OsmTables, _features_frame
from circles.network import Network, build_network

ORIGIN_X, ORIGIN_Y = 200_000.0, 3_340_000.0  # UTM 50N, south-west of Wuhan


def grid_tables(rows: int, block_m: float = 80.0, *, seed: int = 0) -> OsmTables:
    """OSM tables of a ``rows x rows`` street grid with scattered node ids.

    Parameters
    ----------
    rows : int
        Nodes per side.
    block_m : float
        Block size; nodes are jittered by up to a tenth of it.
    seed : int
        Seed of the jitter and of the id permutation.

    Returns
    -------
    OsmTables
        Nodes (``id, lon, lat``) and one segment per grid edge, no features.
    """
    rng = np.random.default_rng(seed)
    n = rows * rows
    gx, gy = np.meshgrid(np.arange(rows) * block_m, np.arange(rows) * block_m)
    x = ORIGIN_X + gx.ravel() + rng.uniform(-0.1, 0.1, n) * block_m
    y = ORIGIN_Y + gy.ravel() + rng.uniform(-0.1, 0.1, n) * block_m
    lon, lat = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True).transform(x, y)
    osm_id = 1_000_000_000 + rng.permutation(n).astype(np.int64)
    idx = np.arange(n).reshape(rows, rows)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    segments = pd.DataFrame({"u": osm_id[u], "v": osm_id[v], "way_id": np.arange(u.size, dtype=np.int64)})
    for k in SEGMENT_TAGS:
        segments[k] = None
    segments["highway"] = "residential"
    nodes = pd.DataFrame({"id": osm_id, "lon": np.asarray(lon), "lat": np.asarray(lat)})
    return OsmTables(nodes=nodes, segments=segments, features=_features_frame([]))


def _best(fn, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _check_same(a: Network, b: Network, src_a, src_b, limit_s: float) -> None:
    """Both numberings reach the same OSM nodes at the same times (first 50 sources)."""
    pa, na, ta = bounded_dijkstra_batch(*_csr(a), src_a[:50], None, limit_s)
    pb, nb, tb = bounded_dijkstra_batch(*_csr(b), src_b[:50], None, limit_s)
    assert np.array_equal(pa, pb)
    for k in range(50):
        sa, sb = slice(pa[k], pa[k + 1]), slice(pb[k], pb[k + 1])
        oa, ob = np.argsort(a.node_id[na[sa]]), np.argsort(b.node_id[nb[sb]])
        assert np.array_equal(a.node_id[na[sa]][oa], b.node_id[nb[sb]][ob])
        assert np.allclose(ta[sa][oa], tb[sb][ob])


def _csr(net: Network):
    g = net.graph_s()
    return g.indptr, g.indices, g.data


def _locality(net: Network) -> float:
    """Median |index(u) - index(v)| over the edges: how far apart neighbours sit."""
    return float(np.median(np.abs(net.edge_u - net.edge_v)))


def _time_once(net: Network, sources: np.ndarray, limit_s: float, n_multi: int, threads: int) -> dict[str, float]:
    """One timing of each task on ``net``: bounded searches on 1 and ``threads``
    threads, and the multi-source scipy run from the first ``n_multi`` sources."""
    ip, ix, d = _csr(net)
    out = {}
    for label, n_threads in (("1 thread", 1), (f"{threads} threads", threads)):
        t0 = time.perf_counter()
        bounded_dijkstra_batch(ip, ix, d, sources, None, limit_s, n_threads=n_threads, validate=False)
        out[label] = time.perf_counter() - t0
    g = net.graph_s()
    t0 = time.perf_counter()
    dijkstra(g, indices=sources[:n_multi], min_only=True, limit=limit_s)
    out["multi"] = time.perf_counter() - t0
    return out


def run(rows: int, n_sources: int, n_multi: int, limit_min: float, repeat: int) -> list[tuple[str, ...]]:
    for order in ("id", "spatial"):  # warm-up: the first build pays one-off costs (imports, pyproj)
        build_network(grid_tables(20), mode="walk", source="warm-up", node_order=order)
    t0 = time.perf_counter()
    tables = grid_tables(rows)
    t_tables = time.perf_counter() - t0
    nets, build_s = {}, {}
    for order in ("id", "spatial"):
        t0 = time.perf_counter()
        nets[order] = build_network(tables, mode="walk", source="synthetic grid", node_order=order)
        build_s[order] = time.perf_counter() - t0
    del tables
    rng = np.random.default_rng(1)
    osm_sources = rng.choice(nets["id"].node_id, n_sources)
    src = {o: _position(nets[o].node_id, osm_sources) for o in nets}
    limit_s = limit_min * 60.0
    _check_same(nets["id"], nets["spatial"], src["id"], src["spatial"], limit_s)  # also warms up numba
    threads = numba.get_num_threads()
    times: dict[tuple[str, str], float] = {}
    for _ in range(repeat):  # alternate the orders: load from other users hits both alike
        for order, net in nets.items():
            for key, t in _time_once(net, src[order], limit_s, n_multi, threads).items():
                times[(key, order)] = min(times.get((key, order), np.inf), t)
    net = nets["spatial"]
    t_order = _best(lambda: spatial_order(net.x, net.y), repeat)
    out = [("synthetic OSM tables", f"{t_tables:.1f} s", f"{net.n_nodes:,} nodes, {net.n_edges:,} directed edges")]
    for order, built in nets.items():
        out.append((f"build_network, node_order={order!r}", f"{build_s[order]:.1f} s",
                    f"median |u - v| index gap {_locality(built):,.0f}"))
    out.append(("spatial_order alone (Morton codes + sort)", f"{t_order:.3f} s", "the ordering's cost in the build"))
    for label in ("1 thread", f"{threads} threads"):
        a, b = times[(label, "id")], times[(label, "spatial")]
        out.append((f"{n_sources:,} bounded searches, {label}: id order", f"{a:.3f} s", ""))
        out.append((f"{n_sources:,} bounded searches, {label}: spatial", f"{b:.3f} s", f"x{a / b:.2f} faster"))
    a, b = times[("multi", "id")], times[("multi", "spatial")]
    out.append((f"scipy multi-source min_only, {n_multi} sources: id order", f"{a:.3f} s", ""))
    out.append((f"scipy multi-source min_only, {n_multi} sources: spatial", f"{b:.3f} s", f"x{a / b:.2f} faster"))
    return out


def _position(node_id: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Node index of each OSM id in ``wanted``."""
    order = np.argsort(node_id)
    return order[np.searchsorted(node_id, wanted, sorter=order)]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1000, help="grid side (default 1000 -> 1M nodes)")
    ap.add_argument("--sources", type=int, default=10_000)
    ap.add_argument("--multi", type=int, default=500, help="sources of the multi-source run")
    ap.add_argument("--limit-min", type=float, default=15.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    print(f"machine: {machine()}; numba {numba.__version__} ({numba.get_num_threads()} threads); "
          f"numpy {np.__version__}; scipy {scipy.__version__}; load average at start "
          f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    print(f"network: {args.rows}x{args.rows} grid of 80 m blocks, scattered OSM ids; walk 60 m/min; limit "
          f"{args.limit_min:g} min; best of {args.repeat}, the two orders alternating, compile excluded\n")
    table = run(args.rows, args.sources, args.multi, args.limit_min, args.repeat)
    w0, w1 = max(len(r[0]) for r in table), max(len(r[1]) for r in table)
    for a, b, c in table:
        print(f"{a:<{w0}}  {b:>{w1}}  {c}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS {peak_mb:,.0f} MB; load average at end {', '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
