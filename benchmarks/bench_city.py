"""The whole city, end to end, as a planner runs it: ``circles analyze`` on a Wuhan-sized ``.osm.pbf``.

There is no city-wide Wuhan street network in ../shared (only Optics Valley), so this writes one:
a street grid of ``--block`` metres (80 m gives ~1.34M walk nodes, Wuhan's size) clipped to the
real city outline, with **scattered OSM ids** (a random permutation, as in a real extract), ways of
eight blocks, every tenth street ``primary`` and the others ``residential``, and ~3,600 facility
nodes tagged the OSM way (supermarkets, clinics, kindergartens, schools, libraries, sports
centres, parks, ambulance stations, nursing homes; made up, at a fixed seed, for timing only).
It is written as a real ``.osm.pbf`` with the ``osmium`` writer (package ``osmium``).

Then it runs the command line exactly as the README shows, with the real WorldPop rasters,
districts and city outline, and **every output** (GeoPackage with isochrones, CSV, Excel,
``map.html``), sampling the peak resident memory of the process every 50 ms and reading the
per-step times from the command's own progress lines.  Last, unless ``--no-browser``, it opens
``map.html`` offline in Debian's Chromium: time to the page's load event and to the first coverage
image drawn, time to switch to each circle, time from a click on a unit to its popup.

It prints the machine, the command, per-step seconds, peak memory, file sizes and browser
times as one JSON object (last line), next to the goal of issue #10.  The baseline in the same
process is the goal itself: there is no other tool here that runs this city end to end.

    python benchmarks/bench_city.py [--block 80] [--out DIR] [--no-browser] [--keep]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from _machine import machine

WUHAN = Path(__file__).resolve().parents[2] / "shared" / "data" / "wuhan"
GOAL = {"wall_s": 120.0, "peak_rss_gb": 4.0, "map_mb": 50.0, "map_open_s": 5.0, "switch_s": 1.0}
#: (OSM key, value, count): about the 3,600 facilities of the issue's Wuhan.
FACILITIES = (("shop", "supermarket", 900), ("amenity", "clinic", 600), ("amenity", "kindergarten", 500),
              ("amenity", "school", 450), ("amenity", "library", 250), ("leisure", "sports_centre", 250),
              ("leisure", "park", 400), ("emergency", "ambulance_station", 60),
              ("social_facility", "nursing_home", 190))
WAY_BLOCKS = 8


def _runs(ids: np.ndarray):
    """Id runs of consecutive inside nodes along each row of ``ids`` (-1 = outside), cut into ways."""
    for r in range(ids.shape[0]):
        row = ids[r]
        inside = np.concatenate([[0], (row >= 0).astype(np.int8), [0]])
        edges = np.flatnonzero(np.diff(inside))
        for start, stop in zip(edges[::2], edges[1::2]):
            seg = row[start:stop]
            for k in range(0, len(seg) - 1, WAY_BLOCKS):
                part = seg[k:k + WAY_BLOCKS + 1]
                if len(part) >= 2:
                    yield r, part


def write_city_pbf(path: Path, block_m: float, seed: int = 0) -> dict:
    """Write the synthetic city as an ``.osm.pbf``; return its node, way and facility counts."""
    import geopandas as gpd
    import osmium
    import shapely
    from osmium.osm.mutable import Node, Way
    from pyproj import Transformer

    rng = np.random.default_rng(seed)
    outline = gpd.read_file(WUHAN / "boundary.geojson").to_crs(32650).union_all()
    x0, y0, x1, y1 = outline.bounds
    gx, gy = np.meshgrid(np.arange(x0, x1, block_m), np.arange(y0, y1, block_m))
    inside = shapely.contains_xy(outline, gx, gy)
    n = int(inside.sum())
    ids = np.full(gx.shape, -1, dtype=np.int64)
    ids[inside] = rng.permutation(np.arange(1, n + 1) * 7 + 1_000_000_000)  # scattered, like a real extract
    lon, lat = Transformer.from_crs(32650, 4326, always_xy=True).transform(gx[inside], gy[inside])
    node_id = ids[inside]
    n_ways, n_fac = 0, 0
    on_ways: list[np.ndarray] = []
    path.unlink(missing_ok=True)
    with osmium.SimpleWriter(str(path)) as writer:
        for i in np.argsort(node_id):  # PBF readers expect nodes sorted by id
            writer.add_node(Node(id=int(node_id[i]), location=(float(lon[i]), float(lat[i]))))
        fid = 10_000_000_000
        for key, value, count in FACILITIES:
            for i in rng.choice(n, min(count, n), replace=False):
                tags = {key: value, "name": f"synthetic {value} {fid}"}
                if key == "social_facility":
                    tags = {"amenity": "social_facility", "social_facility": value, "social_facility:for": "senior",
                            "name": f"synthetic nursing home {fid}"}
                writer.add_node(Node(id=fid, location=(float(lon[i]) + 1e-4, float(lat[i]) + 1e-4), tags=tags))
                fid += 1
                n_fac += 1
        for grid, word in ((ids, "东西路"), (ids.T, "南北路")):
            for r, part in _runs(grid):
                n_ways += 1
                on_ways.append(part)
                writer.add_way(Way(id=n_ways, nodes=[int(v) for v in part],
                                   tags={"highway": "primary" if r % 10 == 0 else "residential", "name": f"{word}{r}"}))
    street_nodes = int(np.unique(np.concatenate(on_ways)).size) if on_ways else 0
    return {"walk_nodes": street_nodes, "grid_nodes": n, "ways": n_ways, "facilities": n_fac, "pbf_mb": round(path.stat().st_size / 1e6, 1)}


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            return int(fh.read().split("VmRSS:")[1].split()[0])
    except (OSError, IndexError):
        return 0


#: A step line of the command's progress (stderr): "  12.3 s  ✓ read the network file  10.1 s  (…)".
STEP = re.compile(r"✓ (?P<name>.+?)\s{2,}(?P<seconds>[0-9.]+) s")


def run_cli(command: list[str]) -> dict:
    """Run the command; return wall time, peak RSS, per-step seconds and the exit code."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, bufsize=1)
    peak = [0]

    def watch() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _rss_kb(proc.pid))
            time.sleep(0.05)

    threading.Thread(target=watch, daemon=True).start()
    steps: dict[str, float] = {}
    tail: list[str] = []
    assert proc.stderr is not None
    for line in proc.stderr:
        tail = (tail + [line.rstrip()])[-20:]
        m = STEP.search(line)
        if m:
            steps[m["name"].strip()] = float(m["seconds"])
    code = proc.wait()
    return {"exit_code": code, "wall_s": round(time.perf_counter() - started, 1),
            "peak_rss_gb": round(peak[0] / 2**20, 2), "steps_s": steps, "stderr_tail": tail if code else []}


def browser_times(map_html: Path) -> dict:
    """Open the map offline in Chromium: load, first image, switch each circle, click a unit."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from browser import chromium_page

    started = time.perf_counter()
    image_ready = ("() => { const i = document.querySelector('img.leaflet-image-layer'); "
                   "return !!(i && i.complete && i.naturalWidth); }")
    with chromium_page(map_html, viewport=(1200, 850), settle_ms=0, timeout_ms=120_000) as session:
        page = session.page
        load_s = time.perf_counter() - started
        page.wait_for_function(image_ready)
        first_image_s = time.perf_counter() - started
        name = page.evaluate("Object.keys(window).find(k => k.startsWith('map_'))")
        page.evaluate("document.querySelector('.leaflet-control-layers').classList.add('leaflet-control-layers-expanded')")
        switches = []
        for radio in page.query_selector_all(".leaflet-control-layers-base input"):
            t = time.perf_counter()
            radio.click()
            page.wait_for_function(image_ready)
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            switches.append(round(time.perf_counter() - t, 2))
        centre = page.evaluate(f"{name}.getCenter()")
        t = time.perf_counter()
        page.evaluate(f"void {name}.fire('click', {{latlng: L.latLng({centre['lat']}, {centre['lng']})}})")
        page.wait_for_selector(".leaflet-popup-content")
        click_s = time.perf_counter() - t
        report = session.report
    return {"load_event_s": round(load_s, 2), "first_image_s": round(first_image_s, 2),
            "switch_circle_s": switches, "click_popup_s": round(click_s, 2),
            "console_errors": report.console_errors + report.page_errors,
            "blocked_requests": len(report.blocked_requests)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--block", type=float, default=80.0, help="street spacing, metres (80: ~1.34M walk nodes)")
    ap.add_argument("--out", type=Path, default=None, help="folder for the .osm.pbf and the outputs")
    ap.add_argument("--no-browser", action="store_true", help="do not open map.html in Chromium")
    ap.add_argument("--keep", action="store_true", help="keep an existing .osm.pbf of the same block size")
    args = ap.parse_args(argv)
    folder = args.out or Path(tempfile.mkdtemp(prefix="circles-city-"))
    folder.mkdir(parents=True, exist_ok=True)
    pbf = folder / f"wuhan_synthetic_{args.block:g}m.osm.pbf"
    report: dict = {"benchmark": "bench_city", "machine": machine(), "goal": GOAL}
    t = time.perf_counter()
    if not (args.keep and pbf.exists()):
        report["city"] = write_city_pbf(pbf, args.block)
    report["write_pbf_s"] = round(time.perf_counter() - t, 1)
    out = folder / "out"
    command = [sys.executable, "-m", "circles", "analyze", "--network", str(pbf),
               "--area", str(WUHAN / "boundary.geojson"), "--population", str(WUHAN / "population_20plus.tif"),
               "--population-65plus", str(WUHAN / "population_65plus.tif"),
               "--districts", str(WUHAN / "districts.geojson"), "--out", str(out)]
    report["command"] = " ".join(command[2:]).replace(str(folder), "DIR").replace(str(WUHAN), "../shared/data/wuhan")
    report["run"] = run_cli(command)
    report["files_mb"] = {p.name: round(p.stat().st_size / 1e6, 1) for p in sorted(out.glob("*")) if p.is_file()}
    if not args.no_browser and (out / "map.html").exists():
        report["browser"] = browser_times(out / "map.html")
    run = report["run"]
    browser = report.get("browser", {})
    report["meets_goal"] = {
        "wall_s": run["wall_s"] <= GOAL["wall_s"], "peak_rss_gb": run["peak_rss_gb"] <= GOAL["peak_rss_gb"],
        "map_mb": report["files_mb"].get("map.html", float("inf")) <= GOAL["map_mb"],
        **({"map_open_s": browser["first_image_s"] <= GOAL["map_open_s"],
            "switch_s": max(browser["switch_circle_s"], default=0) <= GOAL["switch_s"]} if browser else {}),
    }
    print(json.dumps(report, ensure_ascii=False))
    if run["exit_code"] != 0:
        sys.exit(run["exit_code"])


if __name__ == "__main__":
    main()
