"""City scale, end to end: all five wuhan-2022 circles for the whole of Wuhan.

There is no city-wide Wuhan road network in ../shared (only Optics Valley), so the
streets are a synthetic grid of Wuhan's extent (100 m blocks, ~1M nodes, two-way,
drive speed 30 km/h) laid over the real inputs: the WorldPop rasters (ages 20+ and
65+, ~494k settled cells), the 13 districts with their zones, and a 250 m grid of
units over the city outline (~139k units).  Facilities are random network nodes
(a fixed seed; made up, for timing only).  Reports wall time per step and peak memory.

Then, in the same process, it times ``result.isochrones()`` alone and
``result.to_files(...)`` (every output, map.html included; per output from
``result.timings``) with the peak resident memory of each (sampled every 20 ms),
the routes and grid cells of the isochrones and the size of every file, and
prints it all as one JSON object (last line).  A watchdog stops the run with
the figures so far when a step passes ``--max-rss-gb`` or ``--max-step-s``
(the machine is shared; the old city-wide GEOS union ran > 13 min and 11.6 GB).

    python benchmarks/bench_analysis.py [--block 100] [--facilities 500] [--out DIR] [--no-map]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
from _machine import machine
from pyproj import CRS, Transformer

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


def _rss_gb() -> float:
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**30


class Step:
    """Wall time and peak RSS (sampled every 20 ms) of one step; a watchdog
    prints ``report`` as JSON and exits when the step passes either limit."""

    def __init__(self, name: str, report: dict, max_rss_gb: float, max_s: float, timings: dict | None = None):
        self.name, self.report, self.max_rss_gb, self.max_s = name, report, max_rss_gb, max_s
        self.timings = timings if timings is not None else {}

    def __enter__(self) -> Step:
        self.peak = _rss_gb()
        self.start = time.perf_counter()
        self.cpu_start = time.process_time()
        self.done = threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()
        return self

    def _watch(self) -> None:
        while not self.done.wait(0.02):
            self.peak = max(self.peak, _rss_gb())
            elapsed = time.perf_counter() - self.start
            if self.peak > self.max_rss_gb or elapsed > self.max_s:
                self.report[self.name] = {"aborted": True, "after_s": round(elapsed, 1),
                                          "cpu_s": round(time.process_time() - self.cpu_start, 1),
                                          "peak_rss_gb": round(self.peak, 2),
                                          "outputs_done_s": {k: round(v, 2) for k, v in self.timings.items()
                                                             if k.startswith("output_")}}
                print(json.dumps(self.report), flush=True)
                os._exit(3)

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.seconds = time.perf_counter() - self.start
        self.cpu_seconds = time.process_time() - self.cpu_start  # all threads; the machine may be shared
        self.peak = max(self.peak, _rss_gb())


def _iso_summary(iso) -> dict:
    """Routes, grid cells and size of an isochrones frame."""
    import shapely

    out = {"polygons": len(iso), "vertices": int(shapely.get_num_coordinates(iso.geometry.to_numpy()).sum())}
    if "route" in iso:
        out["routes"] = iso["route"].value_counts().to_dict()
        cells = iso["cell_m"].dropna()
        out["cell_m"] = sorted({round(float(c), 2) for c in cells})
    return out


def bench_outputs(result, out_dir: Path, *, map_html: bool, max_rss_gb: float, max_s: float) -> dict:
    """Time ``result.isochrones()`` alone, then ``result.to_files`` per output."""
    report: dict = {"machine": machine(), "units": len(result.units)}
    for mode, net in result.networks.items():
        report[f"{mode}_nodes"] = int(net.n_nodes)
    with Step("isochrones", report, max_rss_gb, max_s) as step:
        iso = result.isochrones()
    report["isochrones"] = {"seconds": round(step.seconds, 2), "cpu_s": round(step.cpu_seconds, 2),
                            "peak_rss_gb": round(step.peak, 2),
                            **_iso_summary(iso)}
    del iso
    with Step("to_files", report, max_rss_gb, max_s, result.timings) as step:
        paths = result.to_files(out_dir, map_html=map_html)
    report["to_files"] = {
        "seconds": round(step.seconds, 2), "cpu_s": round(step.cpu_seconds, 2),
        "peak_rss_gb": round(step.peak, 2),
        "per_output_s": {k.removeprefix("output_").removesuffix("_s"): round(v, 2)
                         for k, v in result.timings.items() if k.startswith("output_")},
        "file_mb": {k: round(Path(p).stat().st_size / 2**20, 1) for k, p in paths.items()},
    }
    report["peak_rss_gb_process"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
    return report


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--block", type=float, default=100.0)
    ap.add_argument("--facilities", type=int, default=500, help="per category")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: a temporary one)")
    ap.add_argument("--no-outputs", action="store_true", help="time analyze() only")
    ap.add_argument("--no-map", action="store_true", help="leave map.html out of to_files")
    ap.add_argument("--max-rss-gb", type=float, default=8.0, help="stop a step past this peak RSS")
    ap.add_argument("--max-step-s", type=float, default=600.0, help="stop a step past this wall time")
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
    if args.no_outputs:
        return
    sys.stdout.flush()
    with tempfile.TemporaryDirectory(prefix="bench_outputs_") as tmp:
        report = bench_outputs(result, args.out or Path(tmp), map_html=not args.no_map,
                               max_rss_gb=args.max_rss_gb, max_s=args.max_step_s)
    report["analyze_s"] = round(total, 1)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
