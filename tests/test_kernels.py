"""Tests of the compiled bounded Dijkstra kernel (circles._kernels)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from circles import _kernels
from circles._kernels import bounded_dijkstra_batch
from circles.errors import InputError


def _csr(edges, n, *, undirected=False):
    """CSR from (u, v, seconds) triples, keeping explicit zeros."""
    u, v, w = (np.array(c) for c in zip(*edges))
    if undirected:
        u, v, w = np.concatenate([u, v]), np.concatenate([v, u]), np.concatenate([w, w])
    g = sp.csr_array((w.astype(float), (u, v)), shape=(n, n))
    g.sort_indices()
    return g


def _run(g, sources, limit, offsets=None, **kw):
    return bounded_dijkstra_batch(g.indptr, g.indices, g.data, np.asarray(sources), offsets, limit, **kw)


def _per_source(ptr, nodes, times):
    return [dict(zip(nodes[a:b].tolist(), times[a:b].tolist())) for a, b in zip(ptr[:-1], ptr[1:])]


def _random_graph(rng, n, m, *, directed, zero_share=0.1, integer=False):
    u = rng.integers(0, n, m)
    v = rng.integers(0, n, m)
    keep = u != v
    u, v = u[keep], v[keep]
    w = rng.integers(0, 60, u.size).astype(float) if integer else rng.uniform(1.0, 60.0, u.size)
    w[rng.random(u.size) < zero_share] = 0.0
    if not directed:
        u, v, w = np.concatenate([u, v]), np.concatenate([v, u]), np.concatenate([w, w])
    # minimum over parallel edges (scipy would sum them)
    order = np.lexsort((w, v, u))
    u, v, w = u[order], v[order], w[order]
    first = np.ones(u.size, bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    g = sp.csr_array((w[first], (u[first], v[first])), shape=(n, n))
    g.sort_indices()
    return g


def _grid(rng, rows, cols):
    idx = np.arange(rows * cols).reshape(rows, cols)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    w = rng.uniform(50.0, 150.0, u.size)  # metres at 60 m/min = seconds
    return sp.csr_array(
        (np.concatenate([w, w]), (np.concatenate([u, v]), np.concatenate([v, u]))), shape=(idx.size, idx.size)
    )


def _assert_matches_scipy(g, sources, limit):
    ptr, nodes, times = _run(g, sources, limit)
    assert ptr.dtype == np.int64 and nodes.dtype == np.int32 and times.dtype == np.float64
    assert ptr.size == len(sources) + 1
    for k, s in enumerate(sources):
        ref = dijkstra(g, indices=int(s), limit=limit)
        want = np.flatnonzero(np.isfinite(ref))
        got_nodes = nodes[ptr[k] : ptr[k + 1]]
        got_times = times[ptr[k] : ptr[k + 1]]
        assert np.unique(got_nodes).size == got_nodes.size  # each reached node once
        order = np.argsort(got_nodes)
        np.testing.assert_array_equal(got_nodes[order], want)
        np.testing.assert_allclose(got_times[order], ref[want], rtol=0, atol=1e-9)
        assert (np.diff(got_times) >= 0).all()  # settle order
        assert (got_times <= limit).all()


# --------------------------------------------------------------------------- #
# Hand-checkable graphs
# --------------------------------------------------------------------------- #


def test_path_with_zero_cost_edge_and_inclusive_limit():
    # 0 --60--> 1 --0--> 2 --30--> 3 --100--> 4   (one-way chain)
    # from 0 with limit 90: 0 @ 0, 1 @ 60, 2 @ 60 (zero-cost edge), 3 @ 90 (== limit, kept); 4 @ 190 no
    g = _csr([(0, 1, 60), (1, 2, 0), (2, 3, 30), (3, 4, 100)], 5)
    ptr, nodes, times = _run(g, [0], 90.0)
    assert ptr.tolist() == [0, 4]
    assert dict(zip(nodes.tolist(), times.tolist())) == {0: 0.0, 1: 60.0, 2: 60.0, 3: 90.0}


def test_one_way_street_direction():
    # one-way 0 -> 1 (10 s); a detour back 1 -> 2 -> 0 (50 s + 50 s)
    # forward from 0: 1 @ 10, 2 @ 60.  From 1: 2 @ 50, 0 @ 100.
    g = _csr([(0, 1, 10), (1, 2, 50), (2, 0, 50)], 3)
    res = _per_source(*_run(g, [0, 1], 1000.0))
    assert res[0] == {0: 0.0, 1: 10.0, 2: 60.0}
    assert res[1] == {1: 0.0, 2: 50.0, 0: 100.0}
    # towards the source (e.g. residents driving to a station at node 0): transposed graph
    gt = g.T.tocsr()
    towards = _per_source(*_run(gt, [0], 1000.0))[0]
    assert towards == {0: 0.0, 2: 50.0, 1: 100.0}  # 1 -> 2 -> 0 = 100, 2 -> 0 = 50


def test_offsets_shift_times_and_can_exclude_everything():
    # chain 0 -10- 1 -10- 2 -10- 3 (undirected), limit 25
    # source 0, offset 0:  0@0, 1@10, 2@20
    # source 0, offset 7:  0@7, 1@17 (2 would be 27 > 25)
    # source 3, offset 30: nothing (offset beyond limit)
    # source 3, offset 25: only 3 itself (== limit)
    g = _csr([(0, 1, 10), (1, 2, 10), (2, 3, 10)], 4, undirected=True)
    res = _per_source(*_run(g, [0, 0, 3, 3], 25.0, np.array([0.0, 7.0, 30.0, 25.0])))
    assert res == [{0: 0.0, 1: 10.0, 2: 20.0}, {0: 7.0, 1: 17.0}, {}, {3: 25.0}]


def test_decrease_key_picks_shorter_path():
    # 0->1 100, 0->2 10, 2->1 20: node 1 first seen at 100, improved to 30
    g = _csr([(0, 1, 100), (0, 2, 10), (2, 1, 20)], 3)
    assert _per_source(*_run(g, [0], 1e9))[0] == {0: 0.0, 2: 10.0, 1: 30.0}


def test_isolated_source_and_empty_batch():
    g = _csr([(0, 1, 5)], 3)
    assert _per_source(*_run(g, [2], 100.0)) == [{2: 0.0}]
    ptr, nodes, times = _run(g, np.zeros(0, dtype=np.int64), 100.0)
    assert ptr.tolist() == [0] and nodes.size == 0 and times.size == 0


# --------------------------------------------------------------------------- #
# Against scipy
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("directed", [False, True])
def test_matches_scipy_on_random_graphs(seed, directed):
    rng = np.random.default_rng(seed)
    g = _random_graph(rng, 300, 900, directed=directed)
    assert (g.data == 0).any()  # explicit zero-cost edges present
    sources = rng.integers(0, 300, 25)
    _assert_matches_scipy(g, sources, limit=float(rng.uniform(30, 150)))


def test_matches_scipy_on_grid():
    rng = np.random.default_rng(7)
    g = _grid(rng, 40, 40)
    _assert_matches_scipy(g, rng.integers(0, 1600, 20), limit=900.0)


def test_only_reached_nodes_are_returned():
    rng = np.random.default_rng(3)
    g = _grid(rng, 60, 60)
    ptr, nodes, _ = _run(g, [0, 1830], 300.0)
    # 300 s at 50-150 s per edge: at most a few rings, far fewer than 3600 nodes
    assert 0 < ptr[-1] < 100


@pytest.mark.parametrize("seed", [4, 5])
def test_offsets_match_scipy_plus_offset(seed):
    # integer weights so (offset + path) is exact whatever the summation order
    rng = np.random.default_rng(seed)
    g = _random_graph(rng, 200, 700, directed=True, integer=True)
    sources = rng.integers(0, 200, 15)
    offsets = rng.integers(0, 40, 15).astype(float)
    limit = 80.0
    res = _per_source(*_run(g, sources, limit, offsets))
    full = dijkstra(g, indices=sources)
    for k in range(sources.size):
        t = full[k] + offsets[k]
        want = {int(i): float(t[i]) for i in np.flatnonzero(t <= limit)}
        assert res[k] == want


def test_threads_give_identical_results():
    rng = np.random.default_rng(9)
    g = _grid(rng, 50, 50)
    sources = rng.integers(0, 2500, 101)
    offsets = rng.uniform(0, 100, 101)
    one = _run(g, sources, 600.0, offsets, n_threads=1)
    two = _run(g, sources, 600.0, offsets, n_threads=2)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def test_chunks_concatenate_to_the_whole():
    rng = np.random.default_rng(11)
    g = _grid(rng, 30, 30)
    sources = rng.integers(0, 900, 40)
    whole = _per_source(*_run(g, sources, 500.0))
    parts = _per_source(*_run(g, sources[:13], 500.0)) + _per_source(*_run(g, sources[13:], 500.0))
    assert whole == parts


def test_int32_and_int64_index_arrays_agree():
    rng = np.random.default_rng(12)
    g = _grid(rng, 20, 20)
    a = bounded_dijkstra_batch(g.indptr.astype(np.int32), g.indices.astype(np.int32), g.data, np.arange(5), None, 400.0)
    b = bounded_dijkstra_batch(g.indptr.astype(np.int64), g.indices.astype(np.int64), g.data, np.arange(5), None, 400.0)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


# --------------------------------------------------------------------------- #
# Errors and caching fallback
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sources": [0, 5]}, "sources"),
        ({"sources": [0.5]}, "sources"),
        ({"offsets": np.array([1.0, 2.0])}, "offsets_s"),
        ({"offsets": np.array([-1.0])}, "offsets_s"),
        ({"limit": -1.0}, "limit_s"),
        ({"limit": float("nan")}, "limit_s"),
        ({"data": np.array([1.0, -2.0])}, "data"),
        ({"n_threads": 0}, "n_threads"),
    ],
)
def test_input_errors_name_the_parameter(kwargs, match):
    g = _csr([(0, 1, 1.0), (1, 2, 2.0)], 3)
    data = kwargs.get("data", g.data)
    with pytest.raises(InputError, match=match):
        bounded_dijkstra_batch(
            g.indptr, g.indices, data, np.asarray(kwargs.get("sources", [0])), kwargs.get("offsets"),
            kwargs.get("limit", 10.0), n_threads=kwargs.get("n_threads", 1),
        )


def test_jit_falls_back_without_cache(monkeypatch):
    real_njit = _kernels.njit

    def njit_without_cache_locator(*args, cache=False, **kw):
        if cache:
            raise RuntimeError("cannot cache function: no locator available")
        return real_njit(*args, **kw)

    monkeypatch.setattr(_kernels, "njit", njit_without_cache_locator)

    @_kernels._jit()
    def add_one(x):
        return x + 1

    assert add_one(41) == 42
