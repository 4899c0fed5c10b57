"""City scale, end to end: all five wuhan-2022 circles for the whole of Wuhan.

There is no city-wide Wuhan road network in ../shared (only Optics Valley), so the
streets are a synthetic grid of Wuhan's extent (100 m blocks, ~1M nodes, two-way,
drive speed 30 km/h) laid over the real inputs: the WorldPop rasters (ages 20+ and
65+, ~494k settled cells), the 13 districts with their zones, and a 250 m grid of
units over the city outline (~139k units).  Facilities are random network nodes
(a fixed seed; made up, for timing only).  Reports wall time per step and peak memory.

    python benchmarks/bench_analysis.py [--block 100] [--facilities 500]
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
from pyproj import CRS, Transformer

from _machine import machine
from circles.analysis import analyze
from circles.network import Network

WUHAN = Path(__file__).resolve().parents[2] / "shared" / "data" / "wuhan"
CATEGORIES = ("grocery", "primary_care", "kindergarten", "primary_school", "culture", "sports", "public_space",
              "ambulance_station", "elderly_care")


def grid_network(bounds_lonlat, block_m: float, mode: str) -> Network:
    crs = CRS.from_epsg(32650)
    to_m = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    to_ll = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    x0, y0 = to_m.transform(bounds_lonlat[0], bounds_lonlat[1])
    x1, y1 = to_m.transform(bounds_lonlat[2], bounds_lonlat[3])
    xs = np.arange(x0, x1 + block_m, block_m)
    ys = np.arange(y0, y1 + block_m, block_m)
    gx, gy = np.meshgrid(xs, ys)
    x, y = gx.ravel(), gy.ravel()
    idx = np.arange(x.size).reshape(ys.size, xs.size)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    eu, ev = np.concatenate([u, v]), np.concatenate([v, u])
    lon, lat = to_ll.transform(x, y)
    length = np.hypot(x[eu] - x[ev], y[eu] - y[ev])
    speed = np.full(eu.size, 30.0 if mode == "drive" else np.nan)
    return Network(mode=mode, crs=crs, node_id=np.arange(x.size, dtype=np.int64), lon=np.asarray(lon),
                   lat=np.asarray(lat), x=x, y=y, edge_u=eu, edge_v=ev, edge_length_m=length,
                   edge_speed_kph=speed, edge_highway=np.full(eu.size, "residential", dtype=object),
                   source=f"synthetic {block_m:g} m grid", report={"components": 1})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--block", type=float, default=100.0)
    ap.add_argument("--facilities", type=int, default=500, help="per category")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    boundary = gpd.read_file(WUHAN / "boundary.geojson").to_crs(4326)
    t = time.perf_counter()
    walk = grid_network(boundary.total_bounds, args.block, "walk")
    drive = grid_network(boundary.total_bounds, args.block, "drive")
    print(f"synthetic networks: {walk.n_nodes:,} nodes, {walk.n_edges:,} directed edges each "
          f"({time.perf_counter() - t:.1f} s)")
    rng = np.random.default_rng(7)
    pts = rng.choice(walk.n_nodes, size=(len(CATEGORIES), args.facilities), replace=True)
    fac = gpd.GeoDataFrame(
        {"facility_id": [f"f{i}" for i in range(pts.size)], "category": np.repeat(CATEGORIES, args.facilities),
         "name": "synthetic"},
        geometry=gpd.points_from_xy(walk.lon[pts.ravel()], walk.lat[pts.ravel()]), crs="EPSG:4326")
    t = time.perf_counter()
    result = analyze(walk, drive_network=drive, policy="wuhan-2022", facilities=fac, osm_facilities=False,
                     area=boundary.geometry.iloc[0], population=WUHAN / "population_20plus.tif",
                     population_65plus=WUHAN / "population_65plus.tif", districts=WUHAN / "districts.geojson")
    total = time.perf_counter() - t
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"analyze(): {total:.1f} s for {len(result.units):,} units, {len(result.demand):,} demand points, "
          f"{len(fac):,} facilities; peak RSS {peak_gb:.1f} GB")
    for k, v in result.timings.items():
        print(f"  {k:<24} {v:8.2f} s")
    print(result.summary[["circle", "population", "covered_population", "covered_share"]].to_string(index=False))


if __name__ == "__main__":
    main()
