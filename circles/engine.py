"""The numeric core: arrays in, arrays out.

Nothing here knows about GeoPandas, osmnx or files.  Graphs are
``scipy.sparse.csr_matrix`` objects whose entry ``[u, v]`` is the cost of the
cheapest edge from node ``u`` to node ``v`` (explicit zeros are real zero-cost
edges).  Times are seconds inside the core; the public helpers that return
minutes say so in their names.  Unreachable is ``inf`` in seconds arrays and
``NaN`` in minutes arrays, never an exception.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from circles.errors import InputError
from circles.settings import MAIN_PIECE_MIN_NODES, MAIN_PIECE_MIN_SHARE, MAX_SNAP_M

Direction = Literal["from", "to"]


def build_csr(u: np.ndarray, v: np.ndarray, cost: np.ndarray, n_nodes: int) -> sp.csr_matrix:
    """Build a CSR graph keeping the **minimum** cost over parallel edges.

    scipy's COO→CSR conversion *sums* duplicate entries, which would turn two
    parallel streets of 100 m and 120 m into one of 220 m.  Here duplicates
    are reduced with ``min`` before the matrix is assembled, and zero costs
    stay as explicit entries.

    Parameters
    ----------
    u, v : int arrays
        Edge tails and heads (node indices ``0 … n_nodes-1``).
    cost : float array
        Edge costs, finite and ``>= 0``.
    n_nodes : int
        Number of nodes (matrix is ``n_nodes × n_nodes``).

    Returns
    -------
    scipy.sparse.csr_matrix
        ``graph[u, v]`` is the cost of the cheapest edge from ``u`` to ``v``.

    Examples
    --------
    Two parallel one-way edges 0 → 1 (60 s and 45 s) and one 1 → 2 (90 s):

    >>> import numpy as np
    >>> g = build_csr(np.array([0, 1, 0]), np.array([1, 2, 1]), np.array([60.0, 90.0, 45.0]), 3)
    >>> g.toarray().tolist()
    [[0.0, 45.0, 0.0], [0.0, 0.0, 90.0], [0.0, 0.0, 0.0]]
    """
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    cost = np.asarray(cost, dtype=np.float64)
    if not (u.shape == v.shape == cost.shape):
        raise InputError(f"build_csr: u, v and cost must have the same length, got {u.shape}, {v.shape}, {cost.shape}")
    if cost.size and (not np.all(np.isfinite(cost)) or cost.min() < 0):
        raise InputError("build_csr: edge costs must be finite and >= 0")
    if u.size and (min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= n_nodes):
        raise InputError(f"build_csr: node index out of range 0..{n_nodes - 1}")
    key = u * np.int64(n_nodes) + v  # one sort key: by u, then v (n_nodes**2 fits in int64 below 3e9 nodes)
    order = np.argsort(key, kind="stable")
    key, cost = key[order], cost[order]
    starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]])) if key.size else np.zeros(0, np.int64)
    cost = np.minimum.reduceat(cost, starts) if key.size else cost  # cheapest of each (u, v)
    u, v = np.divmod(key[starts], np.int64(n_nodes)) if key.size else (u, v)
    indptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(u, minlength=n_nodes), out=indptr[1:])
    index_dtype = np.int32 if max(n_nodes, u.size) < 2**31 - 1 else np.int64
    return sp.csr_matrix(
        (cost, v.astype(index_dtype), indptr.astype(index_dtype)), shape=(n_nodes, n_nodes)
    )


def _with_super_source(graph: sp.csr_matrix, sources: np.ndarray, offsets_s: np.ndarray) -> sp.csr_matrix:
    """Append one virtual node whose out-edges reach every source at its offset.

    A single-source run from the virtual node then equals a multi-source run
    in which each source starts at its own offset (its access leg).
    """
    n = graph.shape[0]
    indptr = np.concatenate([graph.indptr.astype(np.int64), [graph.indptr[-1] + sources.size]])
    indices = np.concatenate([graph.indices.astype(np.int64), sources.astype(np.int64)])
    data = np.concatenate([graph.data, offsets_s])
    return sp.csr_matrix((data, indices, indptr), shape=(n + 1, n + 1))


def _direction(direction: Direction | None, function: str, *, old_default: Direction) -> Direction:
    """``direction`` checked; when left out, the function's old default with a DeprecationWarning."""
    if direction is None:
        warnings.warn(f"{function}() without direction= is deprecated: the two engine functions used to default "
                      f"to opposite directions; pass direction={old_default!r} (the old default) or the other one",
                      DeprecationWarning, stacklevel=3)
        return old_default
    if direction not in ("from", "to"):
        raise InputError(f"direction must be 'from' or 'to', got {direction!r}")
    return direction


def travel_seconds(
    graph_s: sp.csr_matrix,
    sources: np.ndarray,
    *,
    limit_s: float = np.inf,
    direction: Direction | None = None,
    source_offsets_s: np.ndarray | None = None,
) -> np.ndarray:
    """Seconds between every node and the nearest source, bounded by ``limit_s``.

    One multi-source Dijkstra run, not one run per source.

    Parameters
    ----------
    graph_s : csr_matrix
        Travel seconds per directed edge (see :func:`build_csr`).
    sources : int array
        Source node indices (duplicates allowed).
    limit_s : float
        Nodes further than this are left unreached (``inf``).
    direction : {"from", "to"}
        ``"from"``: time travelling *from* the nearest source to each node
        (an ambulance driving from its station to the resident).
        ``"to"``: time travelling from each node *to* its nearest source
        (a resident walking to a shop).  On an undirected (walk) graph both
        give the same answer.  Say it: leaving it out still means ``"from"``
        for one release, with a DeprecationWarning (``travel_seconds`` and
        ``minutes_to_nearest`` used to default to opposite directions).
    source_offsets_s : float array, optional
        Seconds already spent when leaving each source (e.g. the facility's
        access leg from its snapped node).  Default zero.

    Returns
    -------
    ndarray of float64, shape (n_nodes,)
        Seconds, ``inf`` where unreachable within the limit.

    Examples
    --------
    A one-way street 0 → 1 → 2 (45 s, then 90 s), the source at node 0.  Driving *from* the
    source reaches every node; nobody can travel *to* it against the one-way street:

    >>> import numpy as np
    >>> g = build_csr(np.array([0, 1]), np.array([1, 2]), np.array([45.0, 90.0]), 3)
    >>> travel_seconds(g, [0], direction="from").tolist()
    [0.0, 45.0, 135.0]
    >>> travel_seconds(g, [0], direction="to").tolist()
    [0.0, inf, inf]
    >>> travel_seconds(g, [0], direction="from", limit_s=60).tolist()
    [0.0, 45.0, inf]
    """
    direction = _direction(direction, "travel_seconds", old_default="from")
    n = graph_s.shape[0]
    sources = np.asarray(sources, dtype=np.int64).ravel()
    if sources.size == 0:
        return np.full(n, np.inf)
    if sources.min() < 0 or sources.max() >= n:
        raise InputError(f"source node index out of range 0..{n - 1}")
    graph = graph_s if direction == "from" else graph_s.T.tocsr()
    if source_offsets_s is None or not np.any(source_offsets_s):
        dist = dijkstra(graph, directed=True, indices=sources, min_only=True, limit=limit_s)
        return np.asarray(dist, dtype=np.float64)
    offsets = np.asarray(source_offsets_s, dtype=np.float64).ravel()
    if offsets.shape != sources.shape or not np.all(np.isfinite(offsets)) or offsets.min() < 0:
        raise InputError("source_offsets_s must be finite, >= 0 and one per source")
    augmented = _with_super_source(graph, sources, offsets)
    dist = dijkstra(augmented, directed=True, indices=n, limit=limit_s)
    return np.asarray(dist[:n], dtype=np.float64)


def minutes_to_nearest(
    graph_s: sp.csr_matrix,
    sources: np.ndarray,
    *,
    limit_min: float = np.inf,
    direction: Direction | None = None,
    source_offsets_min: np.ndarray | None = None,
) -> np.ndarray:
    """Minutes between every node and its nearest source; ``NaN`` if unreachable.

    Thin wrapper around :func:`travel_seconds` in minutes.

    Parameters
    ----------
    graph_s : csr_matrix
        Travel seconds per directed edge (see :func:`build_csr`).
    sources : int array
        Source node indices (duplicates allowed).
    limit_min : float
        Nodes further than this are left unreached (``NaN``).
    direction : {"from", "to"}
        As in :func:`travel_seconds`; ``"to"`` for residents travelling to
        facilities.  Say it: leaving it out still means ``"to"`` for one
        release, with a DeprecationWarning.
    source_offsets_min : float array, optional
        Minutes already spent when leaving each source.  Default zero.

    Returns
    -------
    ndarray of float64, shape (n_nodes,)
        Minutes, ``NaN`` where unreachable within the limit.

    Examples
    --------
    >>> import numpy as np
    >>> g = build_csr(np.array([0, 1]), np.array([1, 2]), np.array([45.0, 90.0]), 3)
    >>> minutes_to_nearest(g, [2], direction="to").tolist()  # residents at 0 and 1 walking to a shop at node 2
    [2.25, 1.5, 0.0]
    >>> minutes_to_nearest(g, [2], direction="to", limit_min=2).tolist()
    [nan, 1.5, 0.0]
    """
    direction = _direction(direction, "minutes_to_nearest", old_default="to")
    offsets_s = None if source_offsets_min is None else np.asarray(source_offsets_min, dtype=float) * 60.0
    seconds = travel_seconds(
        graph_s, sources, limit_s=limit_min * 60.0, direction=direction, source_offsets_s=offsets_s
    )
    minutes = seconds / 60.0
    minutes[~np.isfinite(minutes)] = np.nan
    return minutes


@dataclass(frozen=True)
class Snap:
    """Result of snapping points to network nodes.

    Attributes
    ----------
    node : int array
        Index of the nearest node of each point.
    distance_m : float array
        Straight-line distance from the point to that node, metres.
    off_network : bool array
        ``True`` where the distance exceeds the maximum snap distance: such
        points are not joined to the network (their times are ``NaN``).
    past_small_piece : bool array, optional (default all ``False``)
        ``True`` where the nearest node of all lay on a small detached piece
        (within the maximum snap) and the point was snapped past it.
    """

    node: np.ndarray
    distance_m: np.ndarray
    off_network: np.ndarray
    past_small_piece: np.ndarray | None = None

    def __post_init__(self):
        if self.past_small_piece is None:  # snapped without a keep mask: nobody passed a piece
            object.__setattr__(self, "past_small_piece", np.zeros(np.shape(self.node), dtype=bool))

    @property
    def n_past_small_piece(self) -> int:
        """How many points had a node of a small detached piece nearest (within the
        maximum snap) and were snapped past it (to the main network, or off it).
        """
        return 0 if self.past_small_piece is None else int(np.count_nonzero(self.past_small_piece))


def main_pieces(labels: np.ndarray, *, min_share: float = MAIN_PIECE_MIN_SHARE,
                min_nodes: int = MAIN_PIECE_MIN_NODES) -> np.ndarray:
    """Nodes of the network's main piece(s): the largest component plus every
    component with at least ``min_nodes`` nodes **and** ``min_share`` of all nodes.

    Parameters
    ----------
    labels : int array
        Component label per node (any integers; the largest is found by count).
    min_share, min_nodes : float, int
        Size a further component needs to count as a main piece.

    Returns
    -------
    ndarray of bool, shape (n_nodes,)
    """
    labels = np.asarray(labels).ravel()
    if labels.size == 0:
        return np.zeros(0, dtype=bool)
    _, inverse, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    big = (sizes >= min_nodes) & (sizes >= min_share * labels.size)
    big[np.argmax(sizes)] = True
    return big[inverse.ravel()]


class NodeIndex:
    """A KD-tree over node coordinates (projected, metres) for fast snapping.

    With ``keep`` (a boolean mask, e.g. :func:`main_pieces`), points snap only to
    kept nodes: a point beside a tiny detached piece of street is joined to the
    main network instead of to a piece that reaches nothing.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, keep: np.ndarray | None = None):
        xy = np.column_stack([np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)])
        self._tree = cKDTree(xy)
        self._kept: np.ndarray | None = None
        if keep is not None:
            keep = np.asarray(keep, dtype=bool).ravel()
            if keep.shape != (xy.shape[0],):
                raise InputError(f"keep must be one flag per node ({xy.shape[0]}), got shape {keep.shape}")
            if keep.any() and not keep.all():
                self._keep = keep
                self._kept = np.flatnonzero(keep)
                self._kept_tree = cKDTree(xy[keep])

    def snap(self, px: np.ndarray, py: np.ndarray, *, max_snap_m: float = MAX_SNAP_M) -> Snap:
        """Snap points (same projected CRS as the nodes) to their nearest (kept) node.

        Points further than ``max_snap_m`` are flagged off-network.  Points with
        NaN coordinates raise :class:`~circles.errors.InputError` naming the rows.
        """
        px = np.asarray(px, dtype=np.float64).ravel()
        py = np.asarray(py, dtype=np.float64).ravel()
        bad = np.flatnonzero(~(np.isfinite(px) & np.isfinite(py)))
        if bad.size:
            raise InputError(
                f"{bad.size} point(s) have missing or non-finite coordinates (rows {bad[:10].tolist()}"
                f"{'…' if bad.size > 10 else ''}); fix or remove them before snapping"
            )
        if not max_snap_m > 0:
            raise InputError(f"max_snap_m must be > 0 metres, got {max_snap_m!r}")
        points = np.column_stack([px, py])
        distance, node = self._tree.query(points)
        node = np.asarray(node, dtype=np.int64)
        past = np.zeros(px.size, dtype=bool)
        if self._kept is not None and px.size:
            kept_distance, kept_node = self._kept_tree.query(points)
            kept_node = self._kept[np.asarray(kept_node, dtype=np.int64)]
            past = ~self._keep[node] & (distance <= max_snap_m)
            node, distance = kept_node, kept_distance
        return Snap(node=node, distance_m=distance, off_network=distance > max_snap_m, past_small_piece=past)


def point_minutes(node_minutes: np.ndarray, snap: Snap, speed_m_per_min: float) -> np.ndarray:
    """Minutes for snapped points: the node's minutes plus the walk from the point.

    ``node_minutes`` is a per-node array (NaN = unreachable).  Off-network
    points get ``NaN``.
    """
    result = node_minutes[snap.node] + snap.distance_m / speed_m_per_min
    result[snap.off_network] = np.nan
    return result
