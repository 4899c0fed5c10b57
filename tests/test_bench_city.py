"""The synthetic city of ``benchmarks/bench_city.py``: a real ``.osm.pbf`` that circles reads.

Written at 3 km spacing (a few hundred nodes) so it runs in seconds; the benchmark itself runs
the 80 m city (1.34M nodes) end to end.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

pytestmark = pytest.mark.wuhan


def test_synthetic_city_pbf_is_read_with_scattered_ids_and_tagged_facilities(tmp_path):
    bench_city = pytest.importorskip("bench_city")
    from circles.network import load_networks

    pbf = tmp_path / "city.osm.pbf"
    counts = bench_city.write_city_pbf(pbf, block_m=3000.0)
    nets, features = load_networks(pbf)  # one read: streets and tagged features
    walk = nets["walk"]
    osm = walk.node_id[walk.node_id >= 1_000_000_000]  # the file's nodes (long edges get extra nodes)
    assert osm.size == counts["walk_nodes"]  # every street node of the file, once
    assert "drive" in nets and nets["drive"].n_nodes > 0
    assert not np.all(np.diff(np.sort(osm)) == np.diff(np.sort(osm))[0])  # scattered OSM ids, not a sequence
    assert len(features) == counts["facilities"] == sum(c for _, _, c in bench_city.FACILITIES)
    lon, lat = features.geometry.x, features.geometry.y
    assert lon.between(113.6, 115.1).all() and lat.between(29.9, 31.4).all()  # inside Wuhan


def test_step_lines_are_parsed():
    bench_city = pytest.importorskip("bench_city")
    m = bench_city.STEP.search("   12.3 s  ✓ write coverage.xlsx  6.9 s  (x)")
    assert m and m["name"] == "write coverage.xlsx" and float(m["seconds"]) == 6.9
