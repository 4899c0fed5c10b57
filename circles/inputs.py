"""Inputs against the study area (shared contract 3).

For facilities, candidates and units: how many points lie inside the study
area, outside it, and inside it but off the network (farther than the maximum
snap distance), per category — and, when all or most lie outside, the likely
cause.  The causes are tested, not guessed: the points are re-read in the
other coordinate systems (WGS84, GCJ-02, BD-09) and the one that brings most
of them inside is named; else a point far away (> 20 km) means another city or
area; else the input simply covers more ground than the network.

Arrays in, a DataFrame out; :func:`inputs_against_area` is called by the
coverage run (``result.data_quality["inputs"]``) and by candidate scoring.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

if TYPE_CHECKING:  # pragma: no cover
    from shapely.geometry.base import BaseGeometry

    from circles.policies import Policy

#: Columns of an inputs table (``nearest_network_m`` is the nearest point's
#: distance to the street network, when snap distances are known).
INPUT_COLUMNS: tuple[str, ...] = ("input", "category", "total", "inside", "outside", "off_network",
                                  "nearest_outside_m", "nearest_network_m", "likely_cause")
#: "Most" outside: more than this share of the points.
MOST_SHARE: float = 0.5
#: An input whose nearest outside point is farther than this from the area is from elsewhere.
ELSEWHERE_M: float = 20_000.0

_CRS_NAMES = {"wgs84": "WGS84", "gcj02": "GCJ-02", "bd09": "BD-09"}
CAUSE_ELSEWHERE = "another city or area"
CAUSE_LARGER = "the input covers a larger area than the network"
NONE_IN_INPUT = "none in the input (no data)"


def metric_crs_for(area: BaseGeometry) -> str:
    """A UTM CRS (``EPSG:326xx``/``327xx``) around the area's centroid."""
    c = area.centroid
    zone = int(np.clip(np.floor((c.x + 180.0) / 6.0) + 1, 1, 60))
    return f"EPSG:{(32600 if c.y >= 0 else 32700) + zone}"


def inside_area(area: BaseGeometry | None, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Boolean per point: inside (or on the edge of) ``area`` (EPSG:4326); all True without an area."""
    import shapely

    lon = np.asarray(lon, dtype=float)
    if area is None:
        return np.ones(lon.size, dtype=bool)
    return np.asarray(shapely.intersects_xy(area, lon, np.asarray(lat, dtype=float)), dtype=bool)


def distance_to_area_m(area: BaseGeometry, lon: np.ndarray, lat: np.ndarray, metric_crs: str | None = None) -> np.ndarray:
    """Metres from each point to ``area`` (0 inside), in a local metric CRS."""
    import shapely
    from pyproj import Transformer

    lon = np.asarray(lon, dtype=float)
    if area is None or lon.size == 0:
        return np.zeros(lon.size)
    tr = Transformer.from_crs("EPSG:4326", metric_crs or metric_crs_for(area), always_xy=True)
    area_m = shapely.transform(area, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    x, y = tr.transform(lon, np.asarray(lat, dtype=float))
    return np.asarray(shapely.distance(area_m, shapely.points(x, y)), dtype=float)


def _original(lon, lat, declared: str):
    """The numbers the user wrote, from WGS84 back into the declared system."""
    from circles.coords import wgs84_to_bd09, wgs84_to_gcj02

    if declared == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if declared == "bd09":
        return wgs84_to_bd09(lon, lat)
    return np.asarray(lon, float), np.asarray(lat, float)


def _shift_m(lon0, lat0, lon1, lat1) -> float:
    """Median distance between two sets of lon/lat points (equirectangular, metres)."""
    k = np.pi / 180.0 * 6_371_000.0
    dx = (np.asarray(lon1) - np.asarray(lon0)) * k * np.cos(np.radians(np.asarray(lat0)))
    dy = (np.asarray(lat1) - np.asarray(lat0)) * k
    return float(np.median(np.hypot(dx, dy))) if np.size(dx) else 0.0


def crs_hypothesis(lon: ArrayLike, lat: ArrayLike, declared: Any, area: BaseGeometry | None, *,
                   crs_flag: str = "--crs") -> str:
    """Text naming the coordinate system that would put most points inside ``area``, or ``""``.

    ``declared`` is, per point (or for all), the system the user said the
    numbers are in (``None``: not testable, e.g. OSM features).  The user's own
    numbers are recovered and re-read in each other system.  ``crs_flag`` is the
    CLI flag named in the advice (``--candidates-crs`` for candidate sites).
    """
    from circles.coords import normalize_crs, to_wgs84

    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    decl = np.asarray([declared] * lon.size if declared is None or isinstance(declared, str) else declared,
                      dtype=object)
    kinds = {normalize_crs(d) for d in decl if d is not None}
    if len(kinds) != 1 or lon.size == 0:
        return ""
    kind = kinds.pop()
    testable = np.array([d is not None for d in decl], dtype=bool)
    inside_now = int(inside_area(area, lon, lat).sum())
    ox, oy = _original(lon[testable], lat[testable], kind)
    best = ("", inside_now)
    for alt in ("wgs84", "gcj02", "bd09"):
        if alt == kind:
            continue
        ax, ay = to_wgs84(ox, oy, alt)
        alon, alat = lon.copy(), lat.copy()
        alon[testable], alat[testable] = ax, ay
        n_in = int(inside_area(area, alon, alat).sum())
        if n_in > lon.size * MOST_SHARE and n_in > best[1]:
            shift = _shift_m(lon[testable], lat[testable], ax, ay)
            best = (f"coordinates look like {_CRS_NAMES[alt]} declared as {_CRS_NAMES[kind]} "
                    f"(≈{shift:.0f} m shift here; {n_in} of {lon.size} would lie inside): declare them as "
                    f"{alt} ({crs_flag} {alt})", n_in)
    return best[0]


def likely_cause(lon: ArrayLike, lat: ArrayLike, inside: np.ndarray, off_network: np.ndarray,
                 area: BaseGeometry | None, *, declared: Any = None,
                 nearest_outside_m: float = np.nan, max_snap_m: float | None = None, crs_flag: str = "--crs") -> str:
    """Why all or most points of an input do not help, or ``""`` when they do.

    Most outside the area: a coordinate-system mix-up (tested), else another
    city or area (nearest > :data:`ELSEWHERE_M`), else an input wider than the
    network.  Most inside but off the network: the network lacks streets there
    or the coordinates are shifted.
    """
    total = int(np.size(inside))
    n_in = int(np.sum(inside))
    if total == 0:
        return ""
    if total - n_in > total * MOST_SHARE:
        cause = crs_hypothesis(lon, lat, declared, area, crs_flag=crs_flag)
        if cause:
            return cause
        if np.isfinite(nearest_outside_m) and nearest_outside_m > ELSEWHERE_M:
            return f"{CAUSE_ELSEWHERE} (the nearest point is {nearest_outside_m / 1000:.0f} km from the study area)"
        return CAUSE_LARGER
    n_off = int(np.sum(np.asarray(off_network, bool) & np.asarray(inside, bool)))
    if n_in and n_off > n_in * MOST_SHARE:
        # (a coordinate-system shift that keeps points inside the area is detected from snap
        # distances by circles.analysis.coordinate_system_warning, reported in the assumptions)
        limit = f"{max_snap_m:g} m" if max_snap_m is not None else "the snap limit"
        return (f"most points inside the area lie more than {limit} from the streets: the network may "
                f"lack streets there, or the coordinates are shifted")
    return ""


def inputs_against_area(
    lon: ArrayLike,
    lat: ArrayLike,
    area,
    *,
    input: str,
    categories: Sequence[str] | None = None,
    off_network: ArrayLike | None = None,
    snap_m: ArrayLike | None = None,
    declared_crs=None,
    metric_crs: str | None = None,
    max_snap_m: float | None = None,
    all_row: bool = False,
    ids: Sequence | None = None,
    crs_flag: str = "--crs",
) -> pd.DataFrame:
    """Count points inside / outside the study area and off the network, per category.

    Parameters
    ----------
    lon, lat : array-like
        WGS84 coordinates, one per point.
    area : shapely geometry or None
        The study area (EPSG:4326); ``None`` counts every point inside.
    input : str
        ``"facilities"``, ``"units"`` or ``"candidates"`` (the ``input`` column).
    categories : array-like of str, optional
        Category per point: one row per category (sorted).  Without it one
        row with category ``"all"``.
    off_network : array-like of bool, optional
        Per point: farther than the maximum snap distance from the network.
    snap_m : array-like of float, optional
        Per point: distance to the network (gives ``nearest_network_m``).
    declared_crs : str or array-like, optional
        The coordinate system the user declared (``None`` per point: not
        testable); used to test coordinate-system mix-ups.
    metric_crs : str, optional
        Metric CRS for distances (default: UTM around the area).
    max_snap_m : float, optional
        For the wording of the off-network cause.
    all_row : bool
        Also a row ``"all"`` over every point (counted once per ``ids`` value
        when given, e.g. a facility listed under two categories).
    ids : array-like, optional
        Identity of each point for the ``"all"`` row.
    crs_flag : str
        The CLI flag a coordinate-system advice names (``--crs``, ``--candidates-crs``).

    Returns
    -------
    DataFrame
        Columns :data:`INPUT_COLUMNS`.
    """
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    n = x.size
    off = np.zeros(n, bool) if off_network is None else np.asarray(off_network, dtype=bool)
    snap = np.full(n, np.nan) if snap_m is None else np.asarray(snap_m, dtype=float)
    decl = (np.asarray([declared_crs] * n, dtype=object) if declared_crs is None or isinstance(declared_crs, str)
            else np.asarray(declared_crs, dtype=object))
    inside = inside_area(area, x, y)
    dist = np.zeros(n)
    if area is not None and (~inside).any():
        dist[~inside] = distance_to_area_m(area, x[~inside], y[~inside], metric_crs)
    groups: list[tuple[str, np.ndarray]] = []
    if categories is None:
        groups.append(("all", np.ones(n, dtype=bool)))
    else:
        cats = np.asarray(categories, dtype=object)
        groups += [(str(c), cats == c) for c in sorted({str(c) for c in cats})]
        if all_row:
            first = np.ones(n, dtype=bool)
            if ids is not None:
                first = ~pd.Series(np.asarray(ids, dtype=object)).duplicated().to_numpy()
            groups.append(("all", first))
    rows = []
    for category, m in groups:
        out_m = m & ~inside
        nearest = float(dist[out_m].min()) if out_m.any() else np.nan
        near_net = float(np.nanmin(snap[m])) if m.any() and np.isfinite(snap[m]).any() else np.nan
        rows.append({
            "input": input, "category": category, "total": int(m.sum()), "inside": int((m & inside).sum()),
            "outside": int(out_m.sum()), "off_network": int((m & inside & off).sum()),
            "nearest_outside_m": round(nearest, 1) if np.isfinite(nearest) else np.nan,
            "nearest_network_m": round(near_net, 1) if np.isfinite(near_net) else np.nan,
            "likely_cause": likely_cause(x[m], y[m], inside[m], off[m], area, declared=decl[m],
                                         nearest_outside_m=nearest, max_snap_m=max_snap_m, crs_flag=crs_flag),
        })
    return pd.DataFrame(rows, columns=list(INPUT_COLUMNS))


def category_modes(policy: Policy) -> dict[str, str]:
    """Category -> the network mode its circles run on (drive wins: ambulances)."""
    modes: dict[str, str] = {}
    for circle in policy.circles:
        for req in circle.requirements:
            for c in req.categories:
                if circle.mode == "drive" or c not in modes:
                    modes[c] = "drive" if circle.mode == "drive" else "walk"
    return modes


def candidates_against_area(result, candidates, *, declared_crs: str | None = None) -> pd.DataFrame:
    """The inputs table of candidate sites (``input="candidates"``), per category and ``"all"``.

    ``declared_crs`` is the system the candidates file was declared in (``None``
    for generated candidates: no coordinate-system test).  Candidates are snapped to the network their category's circles run on,
    with the analysis' own ``max_snap_m`` (``result.options``).
    """
    lon = candidates.geometry.x.to_numpy(float)
    lat = candidates.geometry.y.to_numpy(float)
    cats = candidates["category"].astype(str).to_numpy(object)
    modes = category_modes(result.policy)
    max_snap = result.options.max_snap_m
    off = np.zeros(lon.size, bool)
    snap_m = np.full(lon.size, np.nan)
    for mode, net in result.networks.items():
        pick = np.array([modes.get(c, "walk") == mode for c in cats], dtype=bool)
        if pick.any():
            s = net.snap_lonlat(lon[pick], lat[pick], max_snap_m=max_snap, source="candidates")
            off[pick], snap_m[pick] = s.off_network, s.distance_m
    net0 = result.networks.get("walk")
    return inputs_against_area(lon, lat, result.area, input="candidates", categories=cats, off_network=off,
                               snap_m=snap_m, declared_crs=declared_crs, max_snap_m=max_snap,
                               metric_crs=getattr(net0, "crs", None), all_row=True,
                               ids=candidates["candidate_id"].to_numpy(object)
                               if "candidate_id" in candidates else None, crs_flag="--candidates-crs")


def describe_row(row: Any) -> str:
    """One console line for an inputs-table row."""
    text = f"{row.inside:,} of {row.total:,} inside the study area"
    if row.inside:
        text += f" ({row.off_network:,} of these off the network)"
    if row.outside:
        text += f", {row.outside:,} outside"
        if np.isfinite(row.nearest_outside_m):
            text += f" (nearest {_km(row.nearest_outside_m)} from the area"
            if np.isfinite(row.nearest_network_m) and row.inside == 0:
                text += f", {_km(row.nearest_network_m)} from the nearest street"
            text += ")"
    if row.likely_cause:
        text += f" — likely cause: {row.likely_cause}"
    return text


def _km(metres: float) -> str:
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{metres:.0f} m"


def facility_and_unit_inputs(policy, facilities, units, demand, networks, area, options) -> pd.DataFrame:
    """The inputs table of an analysis: facilities per category (and ``"all"``), units (``"all"``).

    Facilities are checked against the network their category's circles run
    on (``<mode>_off_network`` from the analysis); OSM features are not
    tested for coordinate-system mix-ups (they are WGS84 by definition).
    A unit is off the network when all its people (its point, without
    population data) are.
    """
    modes = category_modes(policy)
    walk = networks.get("walk")
    metric = getattr(walk, "crs", None)
    cats = facilities["category"].astype(str).to_numpy(object)
    mode = np.array([modes.get(c, "walk") if modes.get(c, "walk") in networks else "walk" for c in cats],
                    dtype=object)
    off = np.zeros(len(facilities), bool)
    snap_m = np.full(len(facilities), np.nan)
    for m in networks:
        pick = mode == m
        if pick.any() and f"{m}_off_network" in facilities:
            off[pick] = facilities[f"{m}_off_network"].to_numpy(bool)[pick]
            snap_m[pick] = facilities[f"{m}_snap_m"].to_numpy(float)[pick]
    source = facilities["source"].astype(str).to_numpy(object) if "source" in facilities else \
        np.full(len(facilities), "", dtype=object)
    declared = np.array([None if s == "osm" else (options.facilities_crs or "wgs84") for s in source], dtype=object)
    key = facilities["feature_id"] if "feature_id" in facilities else facilities["facility_id"]
    fac_rows = inputs_against_area(
        facilities.geometry.x.to_numpy(float), facilities.geometry.y.to_numpy(float), area, input="facilities",
        categories=cats, off_network=off, snap_m=snap_m, declared_crs=declared, metric_crs=metric,
        max_snap_m=options.max_snap_m, all_row=True, ids=key.to_numpy(object), crs_flag="--facilities-crs")

    # categories the policy needs that the input lacks: a row each, so no category goes unmentioned
    absent = sorted(set(modes) - set(fac_rows["category"]))
    if absent:
        fac_rows = pd.concat([fac_rows.iloc[:-1], pd.DataFrame(
            [{"input": "facilities", "category": c, "total": 0, "inside": 0, "outside": 0, "off_network": 0,
              "nearest_outside_m": np.nan, "nearest_network_m": np.nan, "likely_cause": NONE_IN_INPUT}
             for c in absent], columns=list(INPUT_COLUMNS)), fac_rows.iloc[-1:]], ignore_index=True)
    n_units = len(units)
    if n_units and metric is not None:
        rep = units.to_crs(metric).geometry.representative_point().to_crs("EPSG:4326")
    else:
        rep = units.geometry.representative_point() if n_units else units.geometry
    inside = demand.unit >= 0
    snap = demand.snaps.get("walk")
    offw = np.zeros(len(demand)) if snap is None else demand.weight_all * snap.off_network
    off_w = np.bincount(demand.unit[inside], weights=offw[inside], minlength=n_units)
    tot_w = np.bincount(demand.unit[inside], weights=demand.weight_all[inside], minlength=n_units)
    unit_rows = inputs_against_area(
        rep.x.to_numpy(float), rep.y.to_numpy(float), area, input="units", off_network=(off_w >= tot_w) & (tot_w > 0),
        declared_crs=options.units_crs, metric_crs=metric, max_snap_m=options.max_snap_m, crs_flag="--units-crs")
    return pd.concat([fac_rows, unit_rows], ignore_index=True)


def facilities_by_source(facilities, area, options, metric_crs: str | None = None) -> pd.DataFrame:
    """Facilities inside / outside the area per source (``"osm"`` or the file's name), each
    feature once: says whether the user's own file lies in the study area at all.
    """
    if not len(facilities) or "source" not in facilities:
        return pd.DataFrame(columns=["input", "source", *INPUT_COLUMNS[2:]])
    first = ~(facilities["feature_id"] if "feature_id" in facilities else facilities["facility_id"]).duplicated()
    f = facilities.loc[first.to_numpy()]
    source = f["source"].astype(str).to_numpy(object)
    declared = np.array([None if s == "osm" else (options.facilities_crs or "wgs84") for s in source], dtype=object)
    out = inputs_against_area(f.geometry.x.to_numpy(float), f.geometry.y.to_numpy(float), area,
                              input="facilities", categories=source, declared_crs=declared, metric_crs=metric_crs,
                              max_snap_m=options.max_snap_m,
                              off_network=f["walk_off_network"].to_numpy(bool) if "walk_off_network" in f else None,
                              snap_m=f["walk_snap_m"].to_numpy(float) if "walk_snap_m" in f else None)
    return out.rename(columns={"category": "source"})
