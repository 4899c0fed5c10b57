"""Compiled travel-time kernels (numba).

The numeric core works on plain arrays: a street network is a CSR adjacency
(``indptr``, ``indices``, ``data``) whose ``data`` are travel seconds ``>= 0``.
Explicit zeros are real zero-cost edges (never call ``eliminate_zeros`` on a
network matrix).  Parallel edges must already be reduced to their minimum.

The one public kernel, :func:`bounded_dijkstra_batch`, runs one bounded
single-source Dijkstra per source.  Each search touches only the nodes it
reaches and resets only those, so its cost is proportional to the reached
subgraph, not to the size of the network: scoring thousands of candidate sites
on a 1M-node network takes well under a second.

Caching
-------
Kernels are compiled with ``cache=True``.  numba writes its cache next to this
file when the package folder is writable and otherwise in the user cache folder
(or ``NUMBA_CACHE_DIR`` when set).  If no cache location can be used at all the
kernels are compiled without a cache (slower first call, same results).
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import njit

from circles.errors import InputError

__all__ = ["SCORE_STATS", "bounded_dijkstra_batch", "distance_field", "reach_lists", "score_reduce"]


def _jit(**options) -> Callable:
    """``njit(cache=True, **options)`` falling back to no cache if caching is impossible."""

    def decorate(func: Callable) -> Callable:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", numba.NumbaWarning)
                return njit(cache=True, **options)(func)
        except (RuntimeError, OSError):  # no usable cache locator (read-only everywhere)
            return njit(cache=False, **options)(func)

    return decorate


# --------------------------------------------------------------------------- #
# Indexed binary min-heap on (key, node) with decrease-key.
# ``pos[v]`` is the slot of v in the heap, -1 when v was never touched in this
# search and -2 once v is settled.
# --------------------------------------------------------------------------- #


@_jit(nogil=True, inline="always")
def _sift_up(heap_key, heap_node, pos, i):
    key = heap_key[i]
    node = heap_node[i]
    while i > 0:
        parent = (i - 1) >> 1
        if heap_key[parent] <= key:
            break
        heap_key[i] = heap_key[parent]
        heap_node[i] = heap_node[parent]
        pos[heap_node[i]] = i
        i = parent
    heap_key[i] = key
    heap_node[i] = node
    pos[node] = i


@_jit(nogil=True, inline="always")
def _sift_down(heap_key, heap_node, pos, i, size):
    key = heap_key[i]
    node = heap_node[i]
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        right = child + 1
        if right < size and heap_key[right] < heap_key[child]:
            child = right
        if heap_key[child] >= key:
            break
        heap_key[i] = heap_key[child]
        heap_node[i] = heap_node[child]
        pos[heap_node[i]] = i
        i = child
    heap_key[i] = key
    heap_node[i] = node
    pos[node] = i


@_jit(nogil=True)
def _batch_kernel(indptr, indices, data, sources, offsets_s, limit_s, n_nodes):
    """Serial batch of bounded Dijkstras; see :func:`bounded_dijkstra_batch`.

    ``indptr`` int64, ``indices`` int32, ``data`` float64, ``sources`` int64,
    ``offsets_s`` float64.  Scratch buffers (size ``n_nodes``) are allocated
    once per call and reset through the touched list after every source.
    """
    n_sources = sources.shape[0]
    dist = np.full(n_nodes, np.inf)
    pos = np.full(n_nodes, -1, dtype=np.int64)
    heap_key = np.empty(n_nodes, dtype=np.float64)
    heap_node = np.empty(n_nodes, dtype=np.int32)
    touched = np.empty(n_nodes, dtype=np.int32)

    ptr = np.zeros(n_sources + 1, dtype=np.int64)
    capacity = max(1024, 64 * n_sources)
    out_nodes = np.empty(capacity, dtype=np.int32)
    out_times = np.empty(capacity, dtype=np.float64)
    n_out = 0

    for k in range(n_sources):
        src = sources[k]
        start = offsets_s[k]
        n_touched = 0
        if start <= limit_s:
            dist[src] = start
            heap_key[0] = start
            heap_node[0] = src
            pos[src] = 0
            touched[0] = src
            n_touched = 1
            size = 1
            while size > 0:
                # pop the minimum
                u = heap_node[0]
                du = heap_key[0]
                size -= 1
                if size > 0:
                    heap_key[0] = heap_key[size]
                    heap_node[0] = heap_node[size]
                    _sift_down(heap_key, heap_node, pos, 0, size)
                pos[u] = -2
                # emit (grow the output if needed)
                if n_out == capacity:
                    capacity *= 2
                    grown_nodes = np.empty(capacity, dtype=np.int32)
                    grown_times = np.empty(capacity, dtype=np.float64)
                    grown_nodes[:n_out] = out_nodes[:n_out]
                    grown_times[:n_out] = out_times[:n_out]
                    out_nodes = grown_nodes
                    out_times = grown_times
                out_nodes[n_out] = u
                out_times[n_out] = du
                n_out += 1
                # relax
                for e in range(indptr[u], indptr[u + 1]):
                    v = indices[e]
                    pv = pos[v]
                    if pv == -2:
                        continue
                    nd = du + data[e]
                    if nd > limit_s:
                        continue
                    if pv == -1:
                        touched[n_touched] = v
                        n_touched += 1
                        dist[v] = nd
                        heap_key[size] = nd
                        heap_node[size] = v
                        pos[v] = size
                        size += 1
                        _sift_up(heap_key, heap_node, pos, size - 1)
                    elif nd < dist[v]:
                        dist[v] = nd
                        heap_key[pv] = nd
                        _sift_up(heap_key, heap_node, pos, pv)
        # reset only what this search touched
        for t in range(n_touched):
            v = touched[t]
            dist[v] = np.inf
            pos[v] = -1
        ptr[k + 1] = n_out

    return ptr, out_nodes[:n_out].copy(), out_times[:n_out].copy()


# --------------------------------------------------------------------------- #
# Public wrapper
# --------------------------------------------------------------------------- #


def _as_graph_arrays(indptr, indices, data) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    problems = []
    indptr = np.asarray(indptr)
    indices = np.asarray(indices)
    data = np.asarray(data)
    if indptr.ndim != 1 or indptr.size < 1 or not np.issubdtype(indptr.dtype, np.integer):
        problems.append(
            f"indptr: expected a 1-D integer array of length n_nodes + 1, got dtype {indptr.dtype} "
            f"shape {indptr.shape}; pass csr.indptr of a scipy CSR matrix"
        )
    if indices.ndim != 1 or not np.issubdtype(indices.dtype, np.integer):
        problems.append(
            f"indices: expected a 1-D integer array, got dtype {indices.dtype} shape {indices.shape}; "
            "pass csr.indices"
        )
    if data.ndim != 1 or not np.issubdtype(data.dtype, np.number):
        problems.append(
            f"data: expected a 1-D numeric array of travel seconds, got dtype {data.dtype} "
            f"shape {data.shape}; pass csr.data"
        )
    if problems:
        raise InputError("bounded_dijkstra_batch: " + "; ".join(problems))
    n_nodes = indptr.size - 1
    if indices.size != data.size or indptr[-1] != indices.size or indptr[0] != 0:
        raise InputError(
            "bounded_dijkstra_batch: indptr, indices and data do not form a CSR matrix "
            f"(indptr[0]={indptr[0]}, indptr[-1]={indptr[-1]}, len(indices)={indices.size}, "
            f"len(data)={data.size}); pass the three arrays of one scipy CSR matrix"
        )
    if n_nodes > np.iinfo(np.int32).max:
        raise InputError(
            f"bounded_dijkstra_batch: the graph has {n_nodes} nodes; at most 2**31 - 1 are supported"
        )
    if indices.size and (indices.min() < 0 or indices.max() >= n_nodes):
        raise InputError(
            "bounded_dijkstra_batch: indices holds node ids outside [0, n_nodes) "
            f"(n_nodes = {n_nodes}); the CSR matrix must be square"
        )
    data = np.ascontiguousarray(data, dtype=np.float64)
    if data.size and not (np.isfinite(data).all() and data.min() >= 0.0):
        raise InputError(
            "bounded_dijkstra_batch: data (edge travel seconds) must be finite and >= 0; "
            f"found min {np.nanmin(data) if np.isfinite(data).any() else 'nan'} or NaN/inf values. "
            "Drop or repair such edges before building the network matrix"
        )
    return (
        np.ascontiguousarray(indptr, dtype=np.int64),
        np.ascontiguousarray(indices, dtype=np.int32),
        data,
        n_nodes,
    )


def bounded_dijkstra_batch(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    sources: np.ndarray,
    offsets_s: np.ndarray | None,
    limit_s: float,
    *,
    n_threads: int | None = 1,
    validate: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bounded single-source Dijkstra from each of many sources.

    For each source ``k`` a separate search starts at node ``sources[k]`` at
    time ``offsets_s[k]`` (e.g. the walk from a site to its snapped node) and
    settles every node reachable within ``limit_s`` seconds (inclusive).

    Parameters
    ----------
    indptr, indices, data : numpy.ndarray
        The CSR arrays of a square ``n_nodes x n_nodes`` network matrix; row
        ``u`` lists the edges leaving ``u``; ``data`` are travel seconds
        ``>= 0`` (explicit zeros are zero-cost edges).  For searches *towards*
        the sources (e.g. driving from homes to a station) pass the transposed
        matrix.
    sources : numpy.ndarray
        Integer node ids, one search each (repeats allowed).
    offsets_s : numpy.ndarray or None
        Start time of each search in seconds (same length as ``sources``);
        ``None`` means all zeros.  A source whose offset exceeds ``limit_s``
        reaches nothing.
    limit_s : float
        Nodes with travel time ``<= limit_s`` are settled and returned.
    n_threads : int or None, default 1
        Worker threads.  ``None`` uses ``numba.get_num_threads()``.  Sources are
        split into contiguous chunks, each run by the compiled kernel with the
        GIL released and its own scratch buffers; results are identical to
        ``n_threads=1``.
    validate : bool, default True
        Check the graph arrays (an O(edges) pass).  Turn off only for repeated
        calls on a graph that was already checked.

    Returns
    -------
    ptr : numpy.ndarray of int64, shape (n_sources + 1,)
        Results of source ``k`` are ``nodes[ptr[k]:ptr[k + 1]]``.
    nodes : numpy.ndarray of int32
        Reached nodes, per source in the order they were settled (times are
        non-decreasing within a source); each reached node appears once.
    times_s : numpy.ndarray of float64
        Travel time (seconds, offset included) to each node in ``nodes``.

    Notes
    -----
    The kernel allocates its scratch arrays (``O(n_nodes)``) once per call and
    thread, and resets after each source only the nodes that source touched,
    so per-source cost is proportional to the reached subgraph.  To bound
    memory when only a reduction is needed, call it on slices of
    ``sources``/``offsets_s`` and reduce each chunk.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> g = sp.csr_array(([60.0, 60.0], ([0, 1], [1, 2])), shape=(3, 3))
    >>> ptr, nodes, t = bounded_dijkstra_batch(g.indptr, g.indices, g.data,
    ...                                         np.array([0]), None, 90.0)
    >>> nodes.tolist(), t.tolist()
    ([0, 1], [0.0, 60.0])
    """
    if validate:
        indptr, indices, data, n_nodes = _as_graph_arrays(indptr, indices, data)
    else:
        n_nodes = int(np.asarray(indptr).size - 1)
        indptr = np.ascontiguousarray(indptr, dtype=np.int64)
        indices = np.ascontiguousarray(indices, dtype=np.int32)
        data = np.ascontiguousarray(data, dtype=np.float64)

    sources = np.asarray(sources)
    if sources.ndim != 1 or not (sources.size == 0 or np.issubdtype(sources.dtype, np.integer)):
        raise InputError(
            f"bounded_dijkstra_batch: sources must be a 1-D integer array of node ids, got dtype "
            f"{sources.dtype} shape {sources.shape}"
        )
    sources = np.ascontiguousarray(sources, dtype=np.int64)
    if sources.size and (sources.min() < 0 or sources.max() >= n_nodes):
        raise InputError(
            f"bounded_dijkstra_batch: sources must be node ids in [0, {n_nodes}); got values from "
            f"{sources.min()} to {sources.max()}"
        )
    if offsets_s is None:
        offsets_s = np.zeros(sources.size, dtype=np.float64)
    else:
        offsets_s = np.ascontiguousarray(offsets_s, dtype=np.float64)
        if offsets_s.shape != sources.shape:
            raise InputError(
                f"bounded_dijkstra_batch: offsets_s must have one value per source "
                f"({sources.size}), got shape {offsets_s.shape}; pass None for zero offsets"
            )
        if offsets_s.size and not (np.isfinite(offsets_s).all() and offsets_s.min() >= 0.0):
            raise InputError(
                "bounded_dijkstra_batch: offsets_s must be finite seconds >= 0; "
                "replace NaN/inf/negative offsets (e.g. drop off-network sources) first"
            )
    limit_s = float(limit_s)
    if math.isnan(limit_s) or limit_s < 0:
        raise InputError(f"bounded_dijkstra_batch: limit_s must be a number of seconds >= 0, got {limit_s}")

    if n_threads is None:
        n_threads = numba.get_num_threads()
    if not isinstance(n_threads, (int, np.integer)) or n_threads < 1:
        raise InputError(f"bounded_dijkstra_batch: n_threads must be an integer >= 1 or None, got {n_threads!r}")
    n_threads = int(min(n_threads, max(1, sources.size), os.cpu_count() or 1))

    if n_threads == 1:
        return _batch_kernel(indptr, indices, data, sources, offsets_s, limit_s, n_nodes)

    # Contiguous chunks, a few per thread for load balance.
    n_chunks = min(sources.size, 4 * n_threads)
    bounds = np.linspace(0, sources.size, n_chunks + 1).astype(np.int64)

    def run(c: int):
        a, b = bounds[c], bounds[c + 1]
        return _batch_kernel(indptr, indices, data, sources[a:b], offsets_s[a:b], limit_s, n_nodes)

    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        parts = list(pool.map(run, range(n_chunks)))
    return _stitch(parts)


def _stitch(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]):
    """Concatenate per-chunk (ptr, nodes, times) results in order."""
    ptrs = [parts[0][0]]
    shift = parts[0][0][-1]
    for p, _, _ in parts[1:]:
        ptrs.append(p[1:] + shift)
        shift += p[-1]
    return (
        np.concatenate(ptrs),
        np.concatenate([n for _, n, _ in parts]),
        np.concatenate([t for _, _, t in parts]),
    )


# --------------------------------------------------------------------------- #
# Site scoring (circles.scoring): per search, what a new facility changes.
# --------------------------------------------------------------------------- #

SCORE_STATS: int = 7
"""Columns of :func:`score_reduce`'s first output."""


@_jit(nogil=True)
def score_reduce(ptr, nodes, times_s, which, pt_ptr, pt_idx, leg_min, old_min, gate, weight, dcode, n_d,
                   horizon_min):
    """For each ``k``, over the nodes reached by search ``which[k]``: [newly
    covered weight, improved weight, improved points, sum of weight x minutes
    saved (faster points only), newly covered points, faster weight, newly
    reachable weight] and per district [newly covered, improved] weight.

    A point reached at ``t`` minutes (within the horizon) is *improved* when
    ``t < old``; of those, *faster* when ``old <= horizon`` (it had a facility
    in reach: minutes saved ``old - t`` are real) and *newly reachable*
    otherwise (``old`` beyond the horizon or none: no minutes saved counted).
    """
    n = which.shape[0]
    out = np.zeros((n, SCORE_STATS))
    by_d = np.zeros((n, n_d, 2))
    for k in range(n):
        s = which[k]
        for e in range(ptr[s], ptr[s + 1]):
            v = nodes[e]
            tm = times_s[e] / 60.0
            for q in range(pt_ptr[v], pt_ptr[v + 1]):
                i = pt_idx[q]
                t = tm + leg_min[i]
                if t > horizon_min:
                    continue
                w = weight[i]
                if t <= gate[i]:
                    out[k, 0] += w
                    out[k, 4] += 1.0
                    by_d[k, dcode[i], 0] += w
                old = old_min[i]
                if t < old:
                    out[k, 1] += w
                    out[k, 2] += 1.0
                    by_d[k, dcode[i], 1] += w
                    if old <= horizon_min:
                        out[k, 3] += w * (old - t)
                        out[k, 5] += w
                    else:
                        out[k, 6] += w
    return out, by_d


@_jit(nogil=True)
def reach_lists(ptr, nodes, times_s, pt_ptr, pt_idx, leg_min, limit, horizon_min):
    """Per source, the demand points whose new time is within their limit: (rptr, points)."""
    n = ptr.shape[0] - 1
    rptr = np.zeros(n + 1, dtype=np.int64)
    count = 0
    for k in range(n):
        for e in range(ptr[k], ptr[k + 1]):
            v = nodes[e]
            tm = times_s[e] / 60.0
            for q in range(pt_ptr[v], pt_ptr[v + 1]):
                i = pt_idx[q]
                t = tm + leg_min[i]
                if t <= horizon_min and t <= limit[i]:
                    count += 1
        rptr[k + 1] = count
    out = np.empty(count, dtype=np.int64)
    c = 0
    for k in range(n):
        for e in range(ptr[k], ptr[k + 1]):
            v = nodes[e]
            tm = times_s[e] / 60.0
            for q in range(pt_ptr[v], pt_ptr[v + 1]):
                i = pt_idx[q]
                t = tm + leg_min[i]
                if t <= horizon_min and t <= limit[i]:
                    out[c] = i
                    c += 1
    return rptr, out


# --------------------------------------------------------------------------- #
# Isochrone polygons (circles.isochrones): the distance field to street pieces.
# --------------------------------------------------------------------------- #

@_jit(nogil=True)
def distance_field(ax, ay, bx, by, x0, y0, cell, nx, ny, width):
    """Distance from every grid point to the nearest segment .

    Grid point ``(j, i)`` sits at ``(x0 + i * cell, y0 + j * cell)``.  Values
    are exact for every point within ``width + cell`` of a segment (each
    segment visits, row by row, only the points that close to it); every other
    point holds ``width + 2 * cell``, which is all marching squares needs to
    place the ``width`` contour (a grid edge with one end at ``<= width`` has
    its other end within ``width + cell``, so both ends are exact).
    """
    reach = width + cell
    far = width + 2.0 * cell
    f = np.full((ny, nx), far * far)
    for k in range(ax.size):
        x1 = ax[k]
        y1 = ay[k]
        dx = bx[k] - x1
        dy = by[k] - y1
        l2 = dx * dx + dy * dy
        j0 = max(0, int(math.floor((min(y1, by[k]) - reach - y0) / cell)))
        j1 = min(ny - 1, int(math.ceil((max(y1, by[k]) + reach - y0) / cell)))
        for j in range(j0, j1 + 1):
            gy = y0 + j * cell
            # the part of the segment within `reach` of this row bounds its x range
            if dy != 0.0:
                ta = (gy - reach - y1) / dy
                tb = (gy + reach - y1) / dy
                lo = min(max(min(ta, tb), 0.0), 1.0)
                hi = min(max(max(ta, tb), 0.0), 1.0)
            else:
                lo = 0.0
                hi = 1.0
            xa = x1 + lo * dx
            xb = x1 + hi * dx
            i0 = max(0, int(math.floor((min(xa, xb) - reach - x0) / cell)))
            i1 = min(nx - 1, int(math.ceil((max(xa, xb) + reach - x0) / cell)))
            qy = gy - y1
            for i in range(i0, i1 + 1):
                qx = x0 + i * cell - x1
                t = 0.0
                if l2 > 0.0:
                    t = min(max((qx * dx + qy * dy) / l2, 0.0), 1.0)
                ex = qx - t * dx
                ey = qy - t * dy
                d = ex * ex + ey * ey
                if d < f[j, i]:
                    f[j, i] = d
    np.sqrt(f, f)  # in place: at city scale the field is hundreds of MB
    return f
