"""Arrays prepared once per circle for scoring candidates (plain numpy; picklable for dask).

:func:`prepare_circles` turns an analysis result and a candidate frame into
what the compiled kernels of :mod:`circles._kernels` need:

* per circle, a :class:`CircleArrays`: the oriented CSR graph (forward for
  circles that run *from* a facility, transposed for those that run *to* one),
  a node → demand-points CSR, the resident access legs, the current minutes per
  category and, per demand point, the *gate* — the time within which a new
  facility of the category would make the point covered (``-inf`` where it
  cannot: the point is already covered or still lacks another requirement group);
* one score row per (candidate, circle its category counts towards), snapped to
  the circle's network, with flags saying why a row scores zero (:data:`UNSCORED_FLAGS`);
* the rows to search, sorted by node and cut into :class:`ChunkTask` chunks of
  ``chunk_size`` (one kernel call each; serial, threaded or on dask).

These names have no leading underscore because :mod:`circles.scoring.score`,
:mod:`circles.scoring.select` and :mod:`circles.scoring.distributed` share them;
they are internal all the same (not re-exported by :mod:`circles.scoring`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from circles import settings
from circles._kernels import bounded_dijkstra_batch
from circles.coverage import group_minutes
from circles.errors import InputError
from circles.scoring.candidates import ORIGINAL_COORDS, check_candidates

__all__ = [
    "CHUNK_SIZE",
    "FLAG_OFF_NETWORK",
    "FLAG_OUTSIDE",
    "FLAG_NOT_REQUIRED",
    "FLAG_AT_EXISTING",
    "UNSCORED_FLAGS",
    "CircleArrays",
    "ChunkTask",
    "PreparedScoring",
    "circle_arrays",
    "longest_limit",
    "search_graph",
    "no_data_before",
    "prepare_circles",
    "unscored",
]

#: Default number of candidates per chunk (per kernel call).
CHUNK_SIZE: int = 512

# flags of a score row (several are joined with ";")
FLAG_OFF_NETWORK = "off_network"
FLAG_OUTSIDE = "outside_area"
FLAG_NOT_REQUIRED = "category_not_in_policy"
FLAG_AT_EXISTING = "at_existing_facility"
#: Flags that make a candidate score zero.
UNSCORED_FLAGS = frozenset({FLAG_OFF_NETWORK, FLAG_OUTSIDE, FLAG_NOT_REQUIRED})


def unscored(flags: Sequence[str]) -> np.ndarray:
    """Which rows score zero.

    Parameters
    ----------
    flags : sequence of str
        The rows' ``flag`` values (several flags joined with ``;``).

    Returns
    -------
    numpy.ndarray of bool
        True where a flag of :data:`UNSCORED_FLAGS` is set.
    """
    return np.array([bool(set(f.split(";")) & UNSCORED_FLAGS) for f in flags], dtype=bool)


@dataclass(eq=False)
class CircleArrays:
    """Everything a worker needs to score candidates for one circle."""

    circle_id: str
    mode: str
    indptr: np.ndarray  # oriented graph: forward for "from", transposed for "to"
    indices: np.ndarray
    data: np.ndarray
    pt_ptr: np.ndarray  # node -> demand points (on the network, in a unit, weight > 0)
    pt_idx: np.ndarray
    leg_min: np.ndarray  # resident access leg per demand point
    weight: np.ndarray  # per demand point (0 outside units)
    district_code: np.ndarray  # int64 per demand point
    n_districts: int
    horizon_min: float
    cap_min: float
    old_min: dict  # category -> current minutes per point (inf for NaN)
    gate: dict  # category -> minutes within which a new facility newly covers the point (-inf: cannot)
    group_of: dict  # category -> tuple of requirement-group indices containing it
    limits: list  # per group: per-point limit
    met_groups: np.ndarray  # (n_points, n_groups) bool: group already met
    access_speed_m_per_min: float

    def search(self, sources: np.ndarray, offsets_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Bounded searches from ``sources`` (start times ``offsets_s``) up to the horizon.

        Parameters
        ----------
        sources : numpy.ndarray of int64
            Start nodes.
        offsets_s : numpy.ndarray of float64
            Seconds already spent at each start (the candidate's access leg).

        Returns
        -------
        tuple of numpy.ndarray
            ``(ptr, nodes, times_s)``: the nodes reached from source ``i`` are
            ``nodes[ptr[i]:ptr[i + 1]]`` (see :func:`circles._kernels.bounded_dijkstra_batch`).
        """
        return bounded_dijkstra_batch(self.indptr, self.indices, self.data, sources, offsets_s,
                                      self.horizon_min * 60.0, n_threads=1, validate=False)


@dataclass(eq=False)
class ChunkTask:
    """One chunk of score rows of one circle (any of its categories)."""

    circle_id: str
    categories: np.ndarray  # object, category per row
    rows: np.ndarray  # row indices into the score rows
    sources: np.ndarray
    offsets_s: np.ndarray


@dataclass(eq=False)
class PreparedScoring:
    """What :func:`prepare_circles` gives: score rows, per-circle arrays and the chunks to score."""

    rows: pd.DataFrame
    arrays: dict
    tasks: list
    districts: list
    baseline: dict
    chunk_size: int
    no_data: dict = field(default_factory=dict)  # circle id -> categories without a usable facility


def search_graph(result: Any, circle: Any) -> tuple[Any, Any, Any, float]:
    """The circle's network and graphs for searches from one new facility.

    Parameters
    ----------
    result : CoverageResult
    circle : Circle
        One of ``result.policy.circles``.

    Returns
    -------
    tuple
        ``(network, graph, oriented, access_speed)``: the walk or drive :class:`~circles.network.Network`, its
        travel-seconds CSR at the circle's speed (as the analysis uses it), the same oriented for single-source
        searches from a facility (transposed when residents travel *to* it; indices sorted), and the speed of the
        access legs in m/min.
    """
    net = result.networks["walk" if circle.mode == "walk" else "drive"]
    speed = circle.speed_m_per_min if circle.mode == "walk" else None
    graph = net.graph_s(speed) if net.mode == "walk" else net.graph_s()
    oriented = graph.T.tocsr() if circle.direction == "to" else graph.tocsr()
    oriented.sort_indices()
    return net, graph, oriented, float(net.access_speed_m_per_min(speed))


def longest_limit(circle: Any, limits: Sequence[np.ndarray]) -> float:
    """The longest per-point limit of a circle (over zones and requirement groups): how far a search must go.

    Parameters
    ----------
    circle : Circle
    limits : sequence of ndarray
        Per requirement group, the per-point limits (``result.point_limits[circle.id]``).

    Returns
    -------
    float
        Minutes; the circle's default threshold when there are no points.
    """
    return max((float(np.max(lim)) for lim in limits if lim.size), default=circle.effective_threshold(None))


def circle_arrays(result: Any, circle: Any, *, horizon_min: float | None, cap_min: float,
                  districts: list) -> CircleArrays:
    """The arrays of one circle, from the analysis' per-point minutes and limits.

    Parameters
    ----------
    result : CoverageResult
    circle : Circle
        One of ``result.policy.circles``.
    horizon_min : float or None
        Search horizon (minutes); None for the circle's longest limit.  At most ``cap_min``.
    cap_min : float
        The analysis' cap on tracked minutes.
    districts : list of str
        District names; a demand point's ``district_code`` is its position here.

    Returns
    -------
    CircleArrays
    """
    demand = result.demand
    net, _, graph, access_speed = search_graph(result, circle)
    snap = demand.snaps[net.mode]

    weight = demand.weights(circle.population).astype(np.float64) * (demand.unit >= 0)
    eligible = (~snap.off_network) & (weight > 0)
    idx = np.flatnonzero(eligible)
    order = np.argsort(snap.node[idx], kind="stable")
    pt_idx = idx[order].astype(np.int64)
    pt_ptr = np.zeros(net.n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(snap.node[idx], minlength=net.n_nodes), out=pt_ptr[1:])
    leg_min = snap.distance_m / access_speed

    pm = result.point_minutes[circle.id]
    limits = [np.asarray(lim, dtype=np.float64) for lim in result.point_limits[circle.id]]
    gms = [group_minutes([pm[c] for c in req.categories]) for req in circle.requirements]
    met_groups = np.column_stack([np.nan_to_num(g, nan=np.inf) <= lim for g, lim in zip(gms, limits)])
    met_all = met_groups.all(axis=1)
    old_min, gate, group_of = {}, {}, {}
    for cat in circle.categories:
        groups = tuple(g for g, req in enumerate(circle.requirements) if cat in req.categories)
        others = [g for g in range(len(limits)) if g not in groups]
        needs_only = ~met_all & (met_groups[:, others].all(axis=1) if others else True)
        need_limit = np.full(len(demand), np.inf)
        for g in groups:
            need_limit = np.where(~met_groups[:, g], np.minimum(need_limit, limits[g]), need_limit)
        gate[cat] = np.where(needs_only, need_limit, -np.inf)
        old_min[cat] = np.nan_to_num(pm[cat], nan=np.inf).astype(np.float64)
        group_of[cat] = groups
    horizon = min(longest_limit(circle, limits) if horizon_min is None else float(horizon_min), cap_min)
    dmap = {d: i for i, d in enumerate(districts)}
    dcode = np.array([dmap[d if d is not None else "(none)"] for d in demand.district], dtype=np.int64)
    return CircleArrays(
        circle_id=circle.id, mode=net.mode,
        indptr=np.ascontiguousarray(graph.indptr, dtype=np.int64),
        indices=np.ascontiguousarray(graph.indices, dtype=np.int32),
        data=np.ascontiguousarray(graph.data, dtype=np.float64),
        pt_ptr=pt_ptr, pt_idx=pt_idx, leg_min=np.ascontiguousarray(leg_min, dtype=np.float64),
        weight=weight, district_code=dcode, n_districts=len(districts), horizon_min=horizon, cap_min=cap_min,
        old_min=old_min, gate=gate, group_of=group_of, limits=limits, met_groups=met_groups,
        access_speed_m_per_min=float(access_speed),
    )


def _candidate_districts(result: Any, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The district of each candidate (None outside every district, or without districts)."""
    import geopandas as gpd

    out = np.full(len(lon), None, dtype=object)
    d = result.districts
    if d is None or len(lon) == 0 or "district" not in d:
        return out
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    joined = gpd.sjoin(pts, d[["district", "geometry"]].to_crs("EPSG:4326"), how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")].sort_index()
    vals = joined["district"].to_numpy(object)
    return np.array([v if isinstance(v, str) else None for v in vals], dtype=object)


def no_data_before(result: Any, circle: Any) -> list[str]:
    """The circle's categories without a usable facility in the analysis (contract 1: ``no_data``).

    Parameters
    ----------
    result : CoverageResult
    circle : Circle

    Returns
    -------
    list of str
        Empty when the circle can be measured.
    """
    from circles.coverage import no_data_categories, usable_counts

    mode = "walk" if circle.mode == "walk" else "drive"
    return no_data_categories(circle, usable_counts(result.facilities, mode))



def _wanted_circles(policy: Any, circles: Sequence[str] | str | None) -> list:
    """The policy's circles to score (all by default), checked."""
    if circles is None:
        return list(policy.circles)
    circles = [circles] if isinstance(circles, str) else list(circles)
    ids = [c.id for c in policy.circles]
    unknown = [c for c in circles if c not in ids]
    if unknown:
        raise InputError(f"circles={unknown}: policy {policy.id!r} has no such circle; its circles are: "
                         f"{', '.join(ids)}")
    return [c for c in policy.circles if c.id in circles]


def _check_options(horizon_min: float | None, chunk_size: int) -> None:
    if horizon_min is not None and not (isinstance(horizon_min, (int, float)) and horizon_min > 0):
        raise InputError(f"horizon_min must be minutes > 0 (or None for the circle's longest limit), "
                         f"got {horizon_min!r}")
    if not (isinstance(chunk_size, (int, np.integer)) and chunk_size >= 1):
        raise InputError(f"chunk_size must be a whole number >= 1, got {chunk_size!r}")


def _add_flag(rows: pd.DataFrame, mask: np.ndarray, text: str) -> None:
    """Append ``text`` to the ``flag`` of the rows at ``mask`` (a boolean mask or positions)."""
    rows.loc[mask, "flag"] = [f"{f};{text}" if f else text for f in rows.loc[mask, "flag"]]


def _score_rows(cats: np.ndarray, wanted: list, outside: np.ndarray) -> pd.DataFrame:
    """One row per (candidate, wanted circle its category counts towards), or one row with
    an empty circle for a candidate no wanted circle needs; not yet snapped.
    """
    pairs = []
    for j, cat in enumerate(cats):
        serving = [c for c in wanted if cat in c.categories]
        if not serving:
            pairs.append((j, "", ""))
        for c in serving:
            pairs.append((j, c.id, c.population))
    rows = pd.DataFrame(pairs, columns=["cand", "circle", "population_group"])
    rows["node"] = -1
    rows["snap_m"] = np.nan
    rows["offset_s"] = np.nan
    rows["flag"] = ""
    _add_flag(rows, (rows["circle"] == "").to_numpy(), FLAG_NOT_REQUIRED)
    _add_flag(rows, outside[rows["cand"].to_numpy()], FLAG_OUTSIDE)
    return rows


def _snap_rows(result: Any, rows: pd.DataFrame, sel: np.ndarray, arr: CircleArrays, circle: Any, *,
               lon: np.ndarray, lat: np.ndarray, cats: np.ndarray, max_snap_m: float) -> None:
    """Snap the rows ``sel`` of one circle to its network: node, access leg, and the flags
    ``off_network`` and ``at_existing_facility`` (same node as an existing facility of the category).
    """
    net = result.networks[arr.mode]
    j = rows["cand"].to_numpy()[sel]
    snap = net.snap_lonlat(lon[j], lat[j], max_snap_m=max_snap_m, source="candidates")
    rows.loc[sel, "node"] = snap.node
    rows.loc[sel, "snap_m"] = snap.distance_m
    rows.loc[sel, "offset_s"] = (snap.distance_m / arr.access_speed_m_per_min) * 60.0
    _add_flag(rows, sel[snap.off_network], FLAG_OFF_NETWORK)
    fac = result.facilities
    for cat in circle.categories:
        f = fac[(fac["category"] == cat)]
        if not len(f):
            continue
        existing_nodes = np.unique(f.loc[~f[f"{net.mode}_off_network"], f"{net.mode}_node"].to_numpy(np.int64))
        hit = (cats[j] == cat) & np.isin(snap.node, existing_nodes) & ~snap.off_network
        _add_flag(rows, sel[hit], FLAG_AT_EXISTING)


def _chunk_tasks(rows: pd.DataFrame, sel: np.ndarray, circle_id: str, cats: np.ndarray,
                 chunk_size: int) -> list[ChunkTask]:
    """The scorable rows of ``sel`` in chunks; rows sorted by node so candidates of several
    categories at the same node (and offset) share one search.
    """
    pick = sel[~unscored(rows["flag"].to_numpy(object)[sel])]
    pick = pick[np.lexsort((rows["offset_s"].to_numpy()[pick], rows["node"].to_numpy()[pick]))]
    tasks = []
    for a in range(0, pick.size, int(chunk_size)):
        part = pick[a:a + int(chunk_size)]
        tasks.append(ChunkTask(circle_id, cats[rows["cand"].to_numpy()[part]], part,
                               rows["node"].to_numpy()[part].astype(np.int64),
                               rows["offset_s"].to_numpy()[part].astype(np.float64)))
    return tasks


def _add_candidate_columns(rows: pd.DataFrame, cands: pd.DataFrame, *, lon: np.ndarray, lat: np.ndarray,
                           cand_district: np.ndarray) -> None:
    """Id, name, category, coordinates (WGS84 and as given), district and capacity per row."""
    cand = rows["cand"]
    rows["candidate_id"] = cands["candidate_id"].to_numpy(object)[cand]
    rows["name"] = cands["name"].to_numpy(object)[cand]
    rows["category"] = cands["category"].to_numpy(object)[cand]
    rows["lon"] = lon[cand]
    rows["lat"] = lat[cand]
    for col in [c for c in ORIGINAL_COORDS if c in cands.columns]:  # the user's own coordinates
        rows[col] = pd.to_numeric(cands[col], errors="coerce").to_numpy(float)[cand]
    rows["district"] = cand_district[cand]
    rows["capacity"] = pd.to_numeric(cands["capacity"], errors="coerce").to_numpy(float)[cand]


def prepare_circles(result: Any, candidates: Any, *, circles: Sequence[str] | str | None = None,
                    horizon_min: float | None = None, max_snap_m: float | None = None,
                    cap_min: float | None = None, chunk_size: int = CHUNK_SIZE) -> PreparedScoring:
    """Score rows, per-circle arrays and chunk tasks for scoring ``candidates``.

    Parameters
    ----------
    result : CoverageResult
    candidates : geopandas.GeoDataFrame
        Checked with :func:`~circles.scoring.candidates.check_candidates`.
    circles : str or sequence of str, optional
        Only these circles (default: all of the policy).
    horizon_min : float, optional
        Search horizon; default each circle's longest limit.
    max_snap_m, cap_min : float, optional
        Default: the analysis' own (``result.options``), else the settings.
    chunk_size : int
        Score rows per task.

    Returns
    -------
    PreparedScoring
        ``rows`` has one row per (candidate, circle), in candidate order.
    """
    from circles.inputs import inside_area

    cands = check_candidates(candidates)
    wanted = _wanted_circles(result.policy, circles)
    _check_options(horizon_min, chunk_size)
    lon = cands.geometry.x.to_numpy(float)
    lat = cands.geometry.y.to_numpy(float)
    options = getattr(result, "options", None)
    if max_snap_m is None:
        max_snap_m = options.max_snap_m if options is not None else settings.MAX_SNAP_M
    if cap_min is None:
        cap_min = options.cap_min if options is not None else settings.MINUTES_CAP
    # the same test as the analysis' inputs table (circles.inputs), with the analysis' own snap limit
    outside = ~inside_area(result.area, lon, lat) if len(cands) else np.zeros(0, dtype=bool)
    districts = sorted({d if d is not None else "(none)" for d in result.demand.district}) or ["(none)"]
    cats = cands["category"].to_numpy(object)
    rows = _score_rows(cats, wanted, outside)
    arrays, tasks, baseline, no_data = {}, [], {}, {}
    for circle in wanted:
        sel = np.flatnonzero((rows["circle"] == circle.id).to_numpy())
        arrays[circle.id] = arr = circle_arrays(result, circle, horizon_min=horizon_min, cap_min=cap_min,
                                                districts=districts)
        no_data[circle.id] = no_data_before(result, circle)
        # no data is not 0: a circle that cannot be measured has no baseline
        baseline[circle.id] = np.nan if no_data[circle.id] else float(arr.weight[arr.met_groups.all(axis=1)].sum())
        if sel.size == 0:
            continue
        _snap_rows(result, rows, sel, arr, circle, lon=lon, lat=lat, cats=cats, max_snap_m=max_snap_m)
        tasks.extend(_chunk_tasks(rows, sel, circle.id, cats, chunk_size))
    _add_candidate_columns(rows, cands, lon=lon, lat=lat, cand_district=_candidate_districts(result, lon, lat))
    return PreparedScoring(rows=rows, arrays=arrays, tasks=tasks, districts=districts, baseline=baseline,
                           chunk_size=int(chunk_size), no_data=no_data)
