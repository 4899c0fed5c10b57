"""Benchmark: bounded Dijkstra kernels and site selection.

Run from the repository root::

    /work/venv/bin/python benchmarks/bench_kernels.py            # 1000 x 1000 grid (1M nodes)
    /work/venv/bin/python benchmarks/bench_kernels.py --rows 300  # quicker

Everything is timed in one process on one synthetic street network: a
``rows x rows`` 4-neighbour grid, undirected, edge lengths uniform in 50-150 m,
walked at 60 m/min (so seconds = metres).  Compile time is excluded (each
kernel is warmed up on a few sources first).  The per-source scipy baseline
runs on a sample of sources and is extrapolated linearly to the full count;
the table says so.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numba
import numpy as np
import scipy
import scipy.sparse as sp
from numba import njit, prange
from numba.typed import List
from scipy.sparse.csgraph import dijkstra

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from circles._kernels import _batch_kernel, bounded_dijkstra_batch  # noqa: E402
from circles.scoring.mclp import exact_select, greedy_select  # noqa: E402


def grid_network(rows: int, cols: int, *, seed: int = 0) -> sp.csr_array:
    """Undirected 4-neighbour grid; edge seconds = metres (50-150 m at 60 m/min)."""
    rng = np.random.default_rng(seed)
    idx = np.arange(rows * cols, dtype=np.int64).reshape(rows, cols)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    seconds = rng.uniform(50.0, 150.0, u.size) / 60.0 * 60.0  # metres / (m/min) * s/min
    g = sp.csr_array(
        (np.concatenate([seconds, seconds]), (np.concatenate([u, v]), np.concatenate([v, u]))),
        shape=(idx.size, idx.size),
    )
    g.indices = g.indices.astype(np.int32)
    g.indptr = g.indptr.astype(np.int64)
    return g


@njit(parallel=True)
def _prange_batch(indptr, indices, data, sources, offsets_s, limit_s, n_nodes, bounds):
    """Experimental: numba prange over source blocks, each with its own buffers."""
    n_blocks = bounds.size - 1
    ptrs = List([np.zeros(1, np.int64) for _ in range(n_blocks)])
    nodes = List([np.zeros(0, np.int32) for _ in range(n_blocks)])
    times = List([np.zeros(0, np.float64) for _ in range(n_blocks)])
    for b in prange(n_blocks):
        a, e = bounds[b], bounds[b + 1]
        p, n, t = _batch_kernel(indptr, indices, data, sources[a:e], offsets_s[a:e], limit_s, n_nodes)
        ptrs[b] = p
        nodes[b] = n
        times[b] = t
    return ptrs, nodes, times


def _timed(fn, repeat: int = 3) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def bench_kernels(rows: int, n_sources: int, limit_min: float, scipy_sample: int) -> list[tuple[str, str, str]]:
    t0 = time.perf_counter()
    g = grid_network(rows, rows)
    build_s = time.perf_counter() - t0
    n = g.shape[0]
    limit_s = limit_min * 60.0
    rng = np.random.default_rng(1)
    sources = rng.integers(0, n, n_sources)
    offsets = np.zeros(n_sources)
    ip, ix, d = g.indptr, g.indices, g.data
    threads = numba.get_num_threads()

    # warm-up (compilation / cache load)
    bounded_dijkstra_batch(ip, ix, d, sources[:4], None, limit_s)
    bounds = np.linspace(0, n_sources, threads + 1).astype(np.int64)
    _prange_batch(ip, ix, d, sources[:4], offsets[:4], limit_s, n, np.array([0, 2, 4]))

    rows_out = []
    t_serial, (ptr, nodes, times) = _timed(lambda: bounded_dijkstra_batch(ip, ix, d, sources, None, limit_s))
    t_threads, res_t = _timed(
        lambda: bounded_dijkstra_batch(ip, ix, d, sources, None, limit_s, n_threads=threads, validate=False)
    )
    t_prange, res_p = _timed(lambda: _prange_batch(ip, ix, d, sources, offsets, limit_s, n, bounds))
    assert np.array_equal(res_t[1], nodes) and np.array_equal(np.concatenate(list(res_p[1])), nodes)

    sample = sources[:scipy_sample]
    # scipy's preferred input (int32 indptr and indices: no conversion per call); results are
    # reduced on the fly, as a scorer would, instead of keeping 200 dense 8 MB rows alive
    g32 = sp.csr_array((d, ix.astype(np.int32), ip.astype(np.int32)), shape=g.shape)

    def scipy_per_source():
        return sum(int(np.isfinite(dijkstra(g32, indices=int(s), limit=limit_s)).sum()) for s in sample)

    t_scipy, _ = _timed(scipy_per_source, repeat=1)
    # correctness spot check against scipy on the sample
    for k, s in enumerate(sample[:20]):
        ref = dijkstra(g, indices=int(s), limit=limit_s)
        got = nodes[ptr[k] : ptr[k + 1]]
        assert np.array_equal(np.sort(got), np.flatnonzero(np.isfinite(ref)))
        assert np.allclose(times[ptr[k] : ptr[k + 1]], ref[got])
    t_multi, _ = _timed(lambda: dijkstra(g, indices=sources[:500], min_only=True, limit=limit_s))

    per = n_sources / 1000.0
    reached = ptr[-1] / n_sources
    rows_out.append(("grid build (CSR from edge arrays)", f"{build_s:.2f} s", f"{n:,} nodes, {g.nnz:,} arcs"))
    rows_out.append((f"numba batch, serial, {n_sources:,} sources", f"{t_serial:.3f} s",
                     f"{t_serial / per * 1e3:.1f} ms per 1k; {reached:.0f} nodes reached/source"))
    rows_out.append((f"numba batch, {threads} threads (nogil chunks)", f"{t_threads:.3f} s",
                     f"speed-up x{t_serial / t_threads:.2f} (n_threads=None uses all)"))
    rows_out.append((f"numba prange over {threads} blocks (bench only)", f"{t_prange:.3f} s",
                     f"speed-up x{t_serial / t_prange:.2f}"))
    rows_out.append((f"scipy dijkstra per source, {scipy_sample} sampled", f"{t_scipy:.2f} s",
                     f"extrapolated to {n_sources:,}: {t_scipy * n_sources / scipy_sample:.1f} s "
                     f"(x{t_scipy * n_sources / scipy_sample / t_serial:.0f} numba serial)"))
    rows_out.append(("scipy multi-source min_only, 500 sources", f"{t_multi:.3f} s",
                     "nearest-facility field (not per-candidate)"))
    return rows_out


def bench_selection(rows: int, n_cand: int, k: int, limit_min: float) -> list[tuple[str, str, str]]:
    """Greedy vs exact on a realistic instance: demand on every node of a small grid."""
    g = grid_network(rows, rows, seed=2)
    n = g.shape[0]
    rng = np.random.default_rng(3)
    pop = rng.gamma(0.6, 40.0, n)  # skewed population per node
    cands = rng.choice(n, n_cand, replace=False)
    ptr, nodes, _ = bounded_dijkstra_batch(g.indptr, g.indices, g.data, cands, None, limit_min * 60.0)
    reach = sp.csr_array((np.ones(nodes.size), nodes, ptr), shape=(n_cand, n))
    out = []
    for n_groups in (1, 2):
        existing = rng.random((n, n_groups)) < 0.25
        group = rng.integers(0, n_groups, n_cand)
        t_g, gr = _timed(lambda existing=existing, group=group: greedy_select(pop, existing, reach, group, k), repeat=1)
        t_e, ex = _timed(lambda existing=existing, group=group: exact_select(pop, existing, reach, group, k, time_limit_s=60),
                         repeat=1)
        share = (gr.covered_weight - gr.baseline_weight) / max(ex.covered_weight - ex.baseline_weight, 1e-12)
        ms = ex.model_size
        out.append((f"greedy, {n_cand} candidates, k={k}, G={n_groups}", f"{t_g:.3f} s",
                    f"added {gr.added_weight:,.0f}; {100 * share:.2f}% of optimal added weight, "
                    f"{100 * gr.covered_weight / ex.covered_weight:.2f}% of optimal total"))
        if n_groups > 1:
            t_p, pr = _timed(lambda existing=existing, group=group: greedy_select(pop, existing, reach, group, k, rule="progress"),
                             repeat=1)
            share_p = pr.added_weight / max(ex.added_weight, 1e-12)
            out.append(("greedy rule='progress', same instance", f"{t_p:.3f} s",
                        f"{100 * share_p:.2f}% of optimal added weight, "
                        f"{100 * pr.covered_weight / ex.covered_weight:.2f}% of optimal total"))
        out.append(("exact (HiGHS), same instance", f"{t_e:.3f} s",
                    f"{ex.status}, gap {ex.mip_gap:.1e}; model {ms['rows']}x{ms['cols']}, demand rows "
                    f"{ms['demand_rows']:,} -> {ms['demand_rows_aggregated']:,} aggregated"))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1000, help="grid side (default 1000 -> 1M nodes)")
    ap.add_argument("--sources", type=int, default=10_000)
    ap.add_argument("--limit-min", type=float, default=15.0)
    ap.add_argument("--scipy-sample", type=int, default=200)
    ap.add_argument("--candidates", type=int, default=500)
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--selection-rows", type=int, default=200, help="grid side for the selection instance")
    args = ap.parse_args(argv)

    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count()
    print(f"machine: {_cpu_model()}; nproc {cpus}; python {platform.python_version()}; "
          f"numba {numba.__version__} ({numba.get_num_threads()} threads, layer {numba.config.THREADING_LAYER}); "
          f"numpy {np.__version__}; scipy {scipy.__version__}")
    print(f"network: {args.rows}x{args.rows} grid, 4-neighbour, 50-150 m edges at 60 m/min; "
          f"limit {args.limit_min:g} min; timings are best of 3 unless noted, compile excluded\n")
    table = bench_kernels(args.rows, args.sources, args.limit_min, args.scipy_sample)
    table += bench_selection(args.selection_rows, args.candidates, args.k, args.limit_min)
    w0 = max(len(r[0]) for r in table)
    w1 = max(len(r[1]) for r in table)
    print(f"{'task':<{w0}}  {'time':>{w1}}  notes")
    print(f"{'-' * w0}  {'-' * w1}  {'-' * 5}")
    for a, b, c in table:
        print(f"{a:<{w0}}  {b:>{w1}}  {c}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS {peak_mb:,.0f} MB; scipy per-source figure measured on the sample and extrapolated linearly")


if __name__ == "__main__":
    main()
