"""Benchmark: `circles serve` — how long the editor takes to answer an edit, over HTTP, as the page asks.

Run from the repository root::

    python benchmarks/bench_serve.py                       # the Optics Valley extract (README inputs)
    python benchmarks/bench_serve.py --city --keep --out city_bench   # also the 1.34M-node synthetic Wuhan

For each network the benchmark analyses the inputs in this process, starts the server of ``circles serve``
(``circles.serve.make_server``) on a free loopback port in a thread, and then, as the page does:

* **add**: ``POST /api/facilities`` for sites on random street nodes inside the study area, every category of
  the policy in turn; the time is the full round trip (request, recompute, the JSON summary of every circle and
  district), then ``GET /api/units/<circle>`` (the unit colours the page fetches next);
* **close** (``DELETE /api/facilities/<id>``) and **move** (``POST /api/facilities/<id>/move``) of existing
  facilities: these recompute the category from every open facility;
* **baseline**, in the same process: the full coverage re-run with the scenario's facilities
  (``Scenario.after_result``, i.e. ``compute_coverage``: what a planner paid per "what if" before, without
  reading the files again or writing any output).

It prints one JSON object: the machine, the network sizes, and per action the median, 90th percentile and
maximum in milliseconds.  The issue's goal: adding a site answers in ≤ 200 ms on the extract, ≤ 1 s on a
1M-node network.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import machine  # noqa: E402

WUHAN = Path(__file__).resolve().parents[2] / "shared" / "data" / "wuhan"
GOAL_ADD_MS = {"extract": 200.0, "city": 1000.0}


def _request(port: int, method: str, path: str, body: dict | None = None) -> tuple[float, int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    data = None if body is None else json.dumps(body).encode("utf-8")
    headers = {"Content-Type": "application/json"} if data is not None else {}
    t = time.perf_counter()
    conn.request(method, path, body=data, headers=headers)
    resp = conn.getresponse()
    payload = resp.read()
    ms = (time.perf_counter() - t) * 1000.0
    conn.close()
    return ms, resp.status, payload


def _stats(ms: list[float]) -> dict:
    a = np.asarray(ms)
    return {"n": int(a.size), "median_ms": round(float(np.median(a)), 1),
            "p90_ms": round(float(np.percentile(a, 90)), 1), "max_ms": round(float(a.max()), 1)}


def _sites(result, n: int, seed: int = 0) -> list[tuple[float, float]]:
    import geopandas as gpd

    net = result.networks["walk"]
    rng = np.random.default_rng(seed)
    pick = rng.choice(net.n_nodes, size=min(net.n_nodes, n * 20), replace=False)
    pts = gpd.GeoSeries(gpd.points_from_xy(net.lon[pick], net.lat[pick]), crs="EPSG:4326")
    inside = pick[pts.within(result.area).to_numpy()] if result.area is not None else pick
    return [(float(net.lon[i]), float(net.lat[i])) for i in inside[:n]]


def measure(result, label: str, n_sites: int, n_edits: int) -> dict:
    """Time the editor's answers on one analysis (see the module doc)."""
    from circles.scenario import Scenario
    from circles.serve import make_server

    t = time.perf_counter()
    scenario = Scenario(result)
    start_s = time.perf_counter() - t
    server = make_server(scenario, host="127.0.0.1", port=0, out_dir=Path(tempfile.mkdtemp(prefix="circles-serve-")))
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        categories = list(scenario.categories())
        add_ms, units_ms = [], []
        for k, (lon, lat) in enumerate(_sites(result, n_sites)):
            cat = categories[k % len(categories)]
            ms, status, payload = _request(port, "POST", "/api/facilities",
                                           {"category": cat, "lon": lon, "lat": lat, "crs": "wgs84", "name": f"b{k}"})
            if status != 201:
                raise RuntimeError(f"add answered {status}: {payload[:300]!r}")
            add_ms.append(ms)
            circle = scenario.categories()[cat][0]
            ms, status, _ = _request(port, "GET", f"/api/units/{circle}")
            units_ms.append(ms)
        existing = [f["id"] for f in scenario.facilities() if f["state"] == "existing"]
        rng = np.random.default_rng(1)
        close_ms, move_ms = [], []
        for fid in rng.choice(existing, size=min(n_edits, len(existing)), replace=False):
            ms, status, payload = _request(port, "DELETE", f"/api/facilities/{fid}")
            if status != 200:
                raise RuntimeError(f"close answered {status}: {payload[:300]!r}")
            close_ms.append(ms)
        movable = [f["id"] for f in scenario.facilities() if f["state"] == "existing"]
        for fid, (lon, lat) in zip(rng.choice(movable, size=min(n_edits, len(movable)), replace=False),
                                   _sites(result, n_edits, seed=2)):
            ms, status, payload = _request(port, "POST", f"/api/facilities/{fid}/move",
                                           {"lon": lon, "lat": lat, "crs": "wgs84"})
            if status != 200:
                raise RuntimeError(f"move answered {status}: {payload[:300]!r}")
            move_ms.append(ms)
        summary_ms = [_request(port, "GET", "/api/summary")[0] for _ in range(5)]
    finally:
        server.shutdown()
        server.server_close()
    t = time.perf_counter()
    scenario.after_result()
    baseline_s = time.perf_counter() - t
    add = _stats(add_ms)
    return {
        "network": label, "walk_nodes": result.networks["walk"].n_nodes, "demand_points": len(result.demand),
        "units": len(result.units), "facilities": len(result.facilities), "scenario_start_s": round(start_s, 2),
        "add": add, "units_colours": _stats(units_ms), "close": _stats(close_ms), "move": _stats(move_ms),
        "summary": _stats(summary_ms), "baseline_full_coverage_s": round(baseline_s, 2),
        "add_goal_ms": GOAL_ADD_MS[label], "meets_goal": add["max_ms"] <= GOAL_ADD_MS[label],
    }


def _extract():
    from circles.analysis import analyze

    return analyze(WUHAN / "guanggu.osm", facilities=WUHAN / "weibo_pois_gcj02.csv", facilities_crs="gcj02",
                   population=WUHAN / "population_20plus.tif", population_65plus=WUHAN / "population_65plus.tif",
                   districts=WUHAN / "districts.geojson")


def _city(folder: Path, block: float, keep: bool) -> tuple[object, float]:
    from bench_city import write_city_pbf

    from circles.analysis import analyze

    pbf = folder / f"wuhan_synthetic_{block:g}m.osm.pbf"
    if not (keep and pbf.exists()):
        write_city_pbf(pbf, block)
    t = time.perf_counter()
    result = analyze(pbf, area=WUHAN / "boundary.geojson", population=WUHAN / "population_20plus.tif",
                     population_65plus=WUHAN / "population_65plus.tif", districts=WUHAN / "districts.geojson")
    return result, time.perf_counter() - t


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--city", action="store_true", help="also the Wuhan-sized synthetic city (~1.34M walk nodes)")
    ap.add_argument("--block", type=float, default=80.0, help="the city's street spacing, metres")
    ap.add_argument("--out", type=Path, default=None, help="folder for the city's .osm.pbf")
    ap.add_argument("--keep", action="store_true", help="keep an existing .osm.pbf of the same block size")
    ap.add_argument("--sites", type=int, default=30, help="sites added per network")
    ap.add_argument("--edits", type=int, default=5, help="facilities closed and moved per network")
    args = ap.parse_args(argv)
    report: dict = {"benchmark": "bench_serve", "machine": machine(), "runs": []}
    report["runs"].append(measure(_extract(), "extract", args.sites, args.edits))
    if args.city:
        folder = args.out or Path(tempfile.mkdtemp(prefix="circles-city-"))
        folder.mkdir(parents=True, exist_ok=True)
        result, analyze_s = _city(folder, args.block, args.keep)
        run = measure(result, "city", args.sites, args.edits)
        run["analyze_s"] = round(analyze_s, 1)
        report["runs"].append(run)
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
