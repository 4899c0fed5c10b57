"""How an isochrone polygon is drawn from the network reached (private to :mod:`circles.isochrones`).

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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from circles._kernels import distance_field

if TYPE_CHECKING:
    from circles.network import Network

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
#: :data:`MAX_RASTER_CELLS` even at ``width_m / 2`` (float64 field: ~0.16 GB at 20M).  For all
#: of Wuhan that is a ~32 m grid: still finer than 1.4 x the 25 m corridor, so no street's corridor
#: falls between grid points; a finer grid cost ~3 s and ~0.4 GB more per polygon.
CITY_MAX_CELLS: int = 20_000_000
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
#: Access legs as ``(x0, y0, x1, y1)`` arrays (metric CRS).
Legs = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


# --------------------------------------------------------------------------- arrays

class EdgeIndex:
    """Directed edges grouped by their entry node (CSR-like), so the pieces of
    one reach are gathered from the reached nodes only.
    """

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
    edges: EdgeIndex,
    reached_nodes: np.ndarray,
    reached_s: np.ndarray,
    node_seconds: np.ndarray,
    limit_s: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The edge pieces covered within ``limit_s`` (arrays only).

    Parameters
    ----------
    edges : EdgeIndex
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


def pieces_polygon(x: np.ndarray, y: np.ndarray, entry: np.ndarray, other: np.ndarray, fraction: np.ndarray,
                   lone: np.ndarray, legs: Legs | None, *, width_m: float, quad_segs: int, method: Method = "auto",
                   info: dict | None = None) -> Any:
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
        segs = np.asarray(shapely.linestrings(coords))
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
    filled: Any = gen.filled(-1.0, float(width_m))  # ChunkCombinedOffsetOffset: points, rings, outers
    points, ring_offsets, outer_offsets = filled
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


def access_legs(fx: np.ndarray | None, fy: np.ndarray, nx: np.ndarray, ny: np.ndarray, offsets_s: np.ndarray,
                limit_s: float) -> Legs | None:
    """Straight access legs facility -> snapped node, cut where the limit runs out
    (the traveller walks the leg first when leaving, last when arriving; the
    piece drawn starts at the facility either way).  ``(x0, y0, x1, y1)``
    arrays, or ``None`` when there is no leg of positive length.
    """
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


def polygon_of_reach(network: Network, edges: EdgeIndex, node_seconds: np.ndarray, limit_s: float, *,
                     width_m: float, quad_segs: int = DEFAULT_QUAD_SEGS, method: Method = "auto",
                     info: dict | None = None) -> Any:
    """:func:`circles.isochrones.reach_polygon` with a prebuilt edge index (one per network and
    direction, reused over categories and limits: sorting a city's edges takes
    about a second); ``info`` receives the route and grid cell used.
    """
    t = np.where(np.isnan(node_seconds), np.inf, node_seconds)
    reached = np.flatnonzero(t <= limit_s)
    pieces = reached_pieces(edges, reached, t[reached], t, limit_s)
    return pieces_polygon(network.x, network.y, *pieces, None, width_m=width_m, quad_segs=quad_segs,
                    method=method, info=info)


@dataclass(frozen=True)
class BandDrawer:
    """Draws the nested band polygons of one reach after another (thread-safe: read-only).

    Attributes
    ----------
    x, y : ndarray
        Node coordinates in the network's metric CRS.
    edges : EdgeIndex
        The network's edges grouped by entry node, for the travel direction.
    bands : list of float
        Limits in minutes, ascending.
    width_m, quad_segs, method
        Corridor half-width, vector buffer resolution and route (see
        :func:`pieces_polygon`).
    fx, fy : ndarray
        Facility coordinates (metric CRS).
    facility_node : ndarray of int
        Each facility's snapped node.
    offsets_s : ndarray
        Each facility's access-leg seconds.
    """

    x: np.ndarray
    y: np.ndarray
    edges: EdgeIndex
    bands: list[float]
    width_m: float
    quad_segs: int
    method: Method
    fx: np.ndarray
    fy: np.ndarray
    facility_node: np.ndarray
    offsets_s: np.ndarray

    def polygons(self, reached: np.ndarray, reached_s: np.ndarray, t: np.ndarray,
                 legs_idx: np.ndarray | None) -> list[Any]:
        """Polygons of every band for one reach (run in a worker thread).

        One route for all bands of a reach (decided on the largest band), and
        raster bands are unioned outwards so simplification never pokes a
        smaller band out of a larger one.  ``legs_idx`` are the facilities
        whose access legs belong to the reach.
        """
        import shapely

        work = []
        for band in self.bands:
            lim = band * 60.0
            pieces = reached_pieces(self.edges, reached, reached_s, t, lim)
            legs = None
            if legs_idx is not None and legs_idx.size:
                node = self.facility_node[legs_idx]
                legs = access_legs(self.fx[legs_idx], self.fy[legs_idx], self.x[node], self.y[node],
                                   self.offsets_s[legs_idx], lim)
            work.append((pieces, legs))
        route = self.method
        if route == "auto":
            (entry, _, _, lone), legs = work[-1]
            n = entry.size + lone.size + (legs[0].size if legs is not None else 0)
            route = "raster" if n >= AUTO_RASTER_MIN_PIECES else "vector"
        out: list[Any] = []
        for pieces, legs in work:
            poly = pieces_polygon(self.x, self.y, *pieces, legs, width_m=self.width_m, quad_segs=self.quad_segs,
                                  method=route)
            if route == "raster" and out and not out[-1].is_empty:
                poly = shapely.union(poly, out[-1])
            out.append(poly)
        return out
