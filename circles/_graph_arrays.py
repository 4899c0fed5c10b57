"""Array helpers for building a :class:`~circles.network.Network` (private).

Plain arrays in, plain arrays out: connected components and their report, splitting long
edges (``densify``), the spatial (Morton) node order and renumbering nodes to it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

__all__ = ["component_report", "components", "all_two_way", "densify", "spatial_order", "renumber"]


def components(graph: sp.csr_matrix, connection: str) -> np.ndarray:
    """Component labels renumbered by size: 0 is the largest."""
    _, labels = connected_components(graph, directed=True, connection=connection)
    sizes = np.bincount(labels)
    order = np.argsort(-sizes, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[labels].astype(np.int32)


def component_report(graph: sp.csr_matrix, mode: str) -> dict:
    connection = "weak" if mode == "walk" else "strong"
    labels = components(graph, connection)
    sizes = np.bincount(labels)
    n = labels.size
    return {
        "components": int(sizes.size),
        "component_connection": connection,
        "largest_component_nodes": int(sizes[0]) if n else 0,
        "nodes_outside_largest": int(n - sizes[0]) if n else 0,
        "share_outside_largest": float((n - sizes[0]) / n) if n else 0.0,
        "component_sizes_top": sizes[:5].tolist(),
    }


def all_two_way(u: np.ndarray, v: np.ndarray) -> bool:
    """True when every directed edge u→v has its reverse v→u."""
    forward = np.unique(np.column_stack([u, v]), axis=0)
    backward = np.unique(np.column_stack([v, u]), axis=0)
    return forward.shape == backward.shape and bool(np.array_equal(forward, backward))


def densify(u: np.ndarray, v: np.ndarray, length: np.ndarray, x: np.ndarray, y: np.ndarray,
            max_len_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split segments longer than ``max_len_m`` into equal pieces (vectorised).

    Parameters
    ----------
    u, v : ndarray of int
        Segment end nodes (indices into ``x``/``y``).
    length : ndarray
        Segment lengths, metres.
    x, y : ndarray
        Node coordinates, metres.
    max_len_m : float
        Longest piece allowed.

    Returns
    -------
    tuple of ndarray
        ``(piece_u, piece_v, piece_length, piece_segment, new_x, new_y)``: the
        pieces as node indices (new nodes numbered from ``x.size`` on), the
        segment each piece comes from, and the new nodes' coordinates, evenly
        spaced on the straight line between the segment's ends.
    """
    n_pieces = np.maximum(1, np.ceil(length / max_len_m - 1e-3)).astype(np.int64)  # 0.1 % slack
    extra = n_pieces - 1
    n_segments = u.size
    seg_of_new = np.repeat(np.arange(n_segments), extra)
    first_new = np.concatenate([[0], np.cumsum(extra)[:-1]]) if n_segments else np.zeros(0, np.int64)
    j = np.arange(seg_of_new.size) - first_new[seg_of_new] + 1  # 1 … extra within a segment
    frac = j / n_pieces[seg_of_new]
    su, sv = u[seg_of_new], v[seg_of_new]
    new_x = x[su] + frac * (x[sv] - x[su])
    new_y = y[su] + frac * (y[sv] - y[su])
    piece_seg = np.repeat(np.arange(n_segments), n_pieces)
    first_piece = np.concatenate([[0], np.cumsum(n_pieces)[:-1]]) if n_segments else np.zeros(0, np.int64)
    k = np.arange(piece_seg.size) - first_piece[piece_seg]  # 0 … n_pieces-1 within a segment
    base = x.size + first_new[piece_seg]  # index of the segment's first new node
    last = n_pieces[piece_seg] - 1
    piece_u = np.where(k == 0, u[piece_seg], base + k - 1)
    piece_v = np.where(k == last, v[piece_seg], base + k)
    return piece_u, piece_v, length[piece_seg] / n_pieces[piece_seg], piece_seg, new_x, new_y


#: Bits per axis of the Morton code (2**20 cells across the network's extent).
_MORTON_BITS = 20


def _spread_bits(v: np.ndarray) -> np.ndarray:
    """Put bit ``i`` of each (uint64, < 2**32) value at bit ``2 i`` (zeros between)."""
    v = v & np.uint64(0xFFFFFFFF)
    for shift, mask in ((16, 0x0000FFFF0000FFFF), (8, 0x00FF00FF00FF00FF), (4, 0x0F0F0F0F0F0F0F0F),
                        (2, 0x3333333333333333), (1, 0x5555555555555555)):
        v = (v | (v << np.uint64(shift))) & np.uint64(mask)
    return v


def spatial_order(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A permutation of the nodes along a Morton (Z-order) curve over ``x``/``y``.

    Nodes close in space get close positions, so the CSR rows a search reads
    one after another sit close in memory (OSM ids are scattered over a city).
    Coordinates are quantised to ``2**20`` cells per axis over their extent;
    ties keep their input order, so the result is deterministic.

    Parameters
    ----------
    x, y : float arrays
        Projected node coordinates (metres).

    Returns
    -------
    numpy.ndarray
        int64 ``order`` such that ``x[order]`` is the nodes in Z-order.

    Examples
    --------
    A 2 x 2 block is visited bottom-left, bottom-right, top-left, top-right:

    >>> spatial_order(np.array([1.0, 0.0, 1.0, 0.0]), np.array([1.0, 1.0, 0.0, 0.0])).tolist()
    [3, 2, 1, 0]
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.size == 0:
        return np.zeros(0, dtype=np.int64)
    cells = float(2**_MORTON_BITS - 1)
    span = max(float(np.ptp(x)), float(np.ptp(y)), 1e-9)  # one scale: cells stay square
    qx = np.floor((x - x.min()) / span * cells).astype(np.uint64)
    qy = np.floor((y - y.min()) / span * cells).astype(np.uint64)
    code = _spread_bits(qx) | (_spread_bits(qy) << np.uint64(1))
    return np.argsort(code, kind="stable").astype(np.int64)


def renumber(order: np.ndarray, nodes: tuple[np.ndarray, ...], u: np.ndarray, v: np.ndarray):
    """Nodes taken in ``order``; edge ends ``u``/``v`` renumbered to match.

    Returns the reordered node arrays followed by the new ``u`` and ``v``.
    """
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size, dtype=order.dtype)
    return (*(a[order] for a in nodes), rank[u], rank[v])
