"""Coverage of every neighbourhood unit, per circle of a policy pack.

The flow (one direction):

1. demand points — where people are (raster cells, or unit points) with
   their weights (all ages, 65+), the unit, district and zone they belong to;
2. for every circle and each category it requires: minutes from every network
   node to the nearest facility (one multi-source run per category, facility
   access legs as source offsets), then per demand point (+ its access leg);
3. per point: a requirement group is met when its best category is within the
   group's limit; the circle is met when every group is; the circle's minutes
   are the slowest group's;
4. per unit and district: population-weighted covered share, status, missing
   groups, the rule cited.

Steps 2–3 work on arrays; GeoPandas only appears when joining points to units
and districts and when building the output frames.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from circles import settings
from circles.coverage_arrays import (
    circle_point_result,
    group_minutes,
    unit_coverage,
    weighted_median,
    weighted_share,
)
from circles.coverage_result import STATUSES, AnalysisOptions, CoverageResult, Demand
from circles.data_quality import data_quality_tables
from circles.engine import Snap, minutes_to_nearest
from circles.engine import point_minutes as minutes_at_points
from circles.errors import InputError
from circles.network import Network, snapping_assumption
from circles.progress import step

if TYPE_CHECKING:
    import geopandas as gpd

    from circles.policies import Circle, Policy

log = logging.getLogger(__name__)

__all__ = [
    "STATUSES", "AnalysisOptions", "CircleMinutes", "CoverageResult", "Demand", "circle_point_result",
    "compute_circle", "compute_coverage", "group_minutes", "no_data_categories", "snap_facilities",
    "threshold_text", "thresholds_by_zone", "unit_coverage", "usable_counts", "weighted_median", "weighted_share",
]

# --------------------------------------------------------------- the run

def thresholds_by_zone(circle: Circle, zone: np.ndarray) -> np.ndarray:
    """The circle's effective threshold (minus dispatch allowance) for each zone value.

    One policy lookup per distinct zone, not per point (there are hundreds of
    thousands of points city-wide).

    Parameters
    ----------
    circle : Circle
        The circle.
    zone : ndarray of object
        Zone per point or unit; ``None``/NaN takes the circle's default zone.

    Returns
    -------
    ndarray of float
        Minutes per entry of ``zone``.
    """
    codes, uniques = pd.factorize(pd.Series(zone, dtype=object))
    out = np.full(codes.size, circle.effective_threshold(None), dtype=float)
    if uniques.size:
        per_zone = np.array([circle.effective_threshold(z) for z in uniques], dtype=float)
        known = codes >= 0
        out[known] = per_zone[codes[known]]
    return out


def snap_facilities(facilities: gpd.GeoDataFrame, net: Network, max_snap_m: float) -> Snap:
    """Snap facility points to ``net`` (once per network).

    Parameters
    ----------
    facilities : GeoDataFrame
        Facility points, EPSG:4326.
    net : Network
        The network to snap to.
    max_snap_m : float
        Facilities farther than this from the network are off it.

    Returns
    -------
    Snap
        One entry per facility row.
    """
    if len(facilities) == 0:
        return Snap(np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool))
    return net.snap_lonlat(facilities.geometry.x.to_numpy(), facilities.geometry.y.to_numpy(),
                           max_snap_m=max_snap_m, source="facilities")


def _facility_sources(categories: np.ndarray, snap: Snap,
                      speed_m_per_min: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Category -> (node indices, access-leg minutes) of the on-network facilities."""
    out = {}
    for category in np.unique(categories):
        keep = (categories == category) & ~snap.off_network
        out[category] = (snap.node[keep], snap.distance_m[keep] / speed_m_per_min)
    return out


@dataclass(frozen=True)
class CircleMinutes:
    """What :func:`compute_circle` measured for one circle.

    Attributes
    ----------
    node_minutes : dict of str to ndarray
        Per required category: minutes from every network node to the nearest
        facility (facility access legs included; NaN beyond the cap).
    point_minutes : dict of str to ndarray
        The same per demand point (resident access leg included; NaN off the
        network or beyond the cap).
    group_minutes : list of ndarray
        Per requirement group (in the circle's order): minutes to the group's
        nearest category, per point.
    group_limits : list of ndarray
        Per requirement group: the point's time limit (zone-dependent, minus
        any dispatch allowance).
    minutes : ndarray
        Per point: the circle's minutes (slowest group; NaN if any group is
        unreachable).
    met : ndarray of bool
        Per point: every group within its limit.
    """

    node_minutes: dict[str, np.ndarray]
    point_minutes: dict[str, np.ndarray]
    group_minutes: list[np.ndarray]
    group_limits: list[np.ndarray]
    minutes: np.ndarray
    met: np.ndarray

    def __iter__(self) -> Iterator[Any]:
        """Deprecated: unpack as the former 6-tuple (use the named fields)."""
        warnings.warn("compute_circle returns a CircleMinutes record; unpacking it as a tuple is deprecated "
                      "and will stop working in the next release: use its fields (e.g. .met)",
                      DeprecationWarning, stacklevel=2)
        return iter((self.node_minutes, self.point_minutes, self.group_minutes, self.group_limits, self.minutes,
                     self.met))


def compute_circle(circle: Circle, net: Network, snap: Snap, facility_categories: np.ndarray, facility_snap: Snap, *,
                   speed_m_per_min: float | None, cap_min: float, zone: np.ndarray) -> CircleMinutes:
    """Per-category node and point minutes and per-point circle result for one circle.

    Access legs on both sides are walked (or, on drive networks, driven) at
    the same speed.

    Parameters
    ----------
    circle : Circle
        The circle to measure.
    net : Network
        The circle's network (walk or drive).
    snap : Snap
        The demand points placed on ``net``.
    facility_categories : ndarray of str
        Category per facility row.
    facility_snap : Snap
        The facilities placed on ``net`` (from :func:`snap_facilities`).
    speed_m_per_min : float or None
        Walking speed (walk networks); ``None`` for the network's default.
    cap_min : float
        Horizon: minutes beyond this are NaN.
    zone : ndarray
        Zone per demand point (for zone-dependent thresholds).

    Returns
    -------
    CircleMinutes
    """
    graph = net.graph_s(speed_m_per_min) if net.mode == "walk" else net.graph_s()
    access_speed = net.access_speed_m_per_min(speed_m_per_min)
    facilities_xy = _facility_sources(np.asarray(facility_categories, dtype=object), facility_snap, access_speed)
    node_minutes: dict[str, np.ndarray] = {}
    by_category: dict[str, np.ndarray] = {}
    for category in sorted(circle.categories):
        nodes, legs_min = facilities_xy.get(category, (np.zeros(0, np.int64), np.zeros(0)))
        nm = minutes_to_nearest(graph, nodes, limit_min=cap_min, direction=circle.direction,
                                source_offsets_min=legs_min)
        node_minutes[category] = nm
        pm = minutes_at_points(nm, snap, access_speed)
        pm[pm > cap_min] = np.nan
        by_category[category] = pm
    base_limit = thresholds_by_zone(circle, zone)
    groups, limits = [], []
    for req in circle.requirements:
        groups.append(group_minutes([by_category[c] for c in req.categories]))
        if req.max_minutes is not None:
            limits.append(np.full(zone.size, circle.requirement_limit(req)))
        else:
            limits.append(base_limit)
    minutes, met = circle_point_result(groups, limits)
    return CircleMinutes(node_minutes=node_minutes, point_minutes=by_category, group_minutes=groups,
                         group_limits=limits, minutes=minutes, met=met)


def usable_counts(facilities: gpd.GeoDataFrame, mode: str) -> dict[str, int]:
    """Distinct facilities per category that snap onto the ``mode`` network.

    Parameters
    ----------
    facilities : GeoDataFrame
        Facilities with a ``<mode>_off_network`` column (see :func:`compute_coverage`).
    mode : str
        ``"walk"`` or ``"drive"``.

    Returns
    -------
    dict of str to int
        Category -> distinct features on the network (categories without any are absent).
    """
    col = f"{mode}_off_network"
    if not len(facilities) or col not in facilities:
        return {}
    on = facilities.loc[~facilities[col].astype(bool)]
    if not len(on):
        return {}
    key = on["facility_id"] if "feature_id" not in on else on["feature_id"].where(on["feature_id"].notna(),
                                                                                    on["facility_id"])
    return key.groupby(on["category"].to_numpy()).nunique().to_dict()


def no_data_categories(circle: Circle, usable: dict[str, int]) -> list[str]:
    """The categories of the requirement groups in which no category has a usable facility.

    A group without a usable facility (none in the input, or none on the
    circle's network) means the circle cannot be measured (contract 1: ``no_data``).

    Parameters
    ----------
    circle : Circle
        The circle.
    usable : dict of str to int
        Usable facilities per category (:func:`usable_counts`).

    Returns
    -------
    list of str
        The categories of every such group, in requirement order (empty: the circle can be measured).
    """
    out: list[str] = []
    for req in circle.requirements:
        if all(usable.get(c, 0) == 0 for c in req.categories):
            out += [c for c in req.categories if c not in out]
    return out


def threshold_text(circle: Circle, zone: np.ndarray) -> str:
    """The circle's threshold in words, for the summary table.

    Parameters
    ----------
    circle : Circle
        The circle.
    zone : ndarray of object
        Zone per demand point.

    Returns
    -------
    str
        E.g. ``"15 min"``; "(default <zone>)" only when some people have no
        zone (no districts or zones given, or people outside every district).
    """
    if not circle.zone_thresholds_min:
        return circle.describe_threshold()
    text = " / ".join(f"{z} {v:g}" for z, v in circle.zone_thresholds_min.items()) + " min"
    values = pd.unique(pd.Series(zone, dtype=object).fillna(""))  # one check per distinct zone, not per point
    named = [isinstance(z, str) and z.strip() != "" or not isinstance(z, str) for z in values]
    if circle.default_zone and not any(named):
        text += f" (default {circle.default_zone}: no zones given)"
    elif circle.default_zone and not all(named):
        text += f" (default {circle.default_zone} outside the districts)"
    if circle.dispatch_allowance_min:
        text += f", minus {circle.dispatch_allowance_min:g} min dispatch"
    return text


def _missing_labels(circle, groups, limits, weight, demand: Demand, n_units, status, total_w, usable,
                    covered_min: float) -> list[str]:
    """Per unit, the requirement groups that fail (share below the covered threshold); a unit
    can also fail on the combination (each group reaches 90 %, not the same 90 %): then every
    group that is short anywhere in the unit is listed.  Categories without a usable facility
    are labelled "(no data)".
    """
    group_shares, labels = [], []
    for req, gm, lim in zip(circle.requirements, groups, limits):
        g_met = np.nan_to_num(gm, nan=np.inf) <= lim
        g_cov, g_tot = weighted_share(g_met, weight, demand.unit, n_units)
        with np.errstate(invalid="ignore", divide="ignore"):
            group_shares.append(np.where(g_tot > 0, g_cov / g_tot, 1.0))
        labels.append("/".join(c if usable.get(c, 0) > 0 else f"{c} (no data)" for c in req.categories))
    g_shares = np.column_stack(group_shares) if group_shares else np.ones((n_units, 0))
    failing = g_shares < covered_min
    combination = ~failing.any(axis=1) & np.isin(status, ("partial", "uncovered"))
    failing[combination] = g_shares[combination] < 1.0
    failing[total_w <= 0] = False
    return ["; ".join(labels[g] for g in np.flatnonzero(row)) for row in failing]


def _district_rows(base: dict, circle, demand: Demand, weight, met, status, units_out, no_data: bool) -> list[dict]:
    n_units = len(units_out)
    inside = demand.unit >= 0
    dist = pd.DataFrame({"district": pd.Series(demand.district[inside], dtype=object).fillna("(none)"),
                         "zone": pd.Series(demand.zone[inside], dtype=object).fillna("(none)"),
                         "population": weight[inside], "covered": weight[inside] * met[inside]})
    unit_district = units_out["district"].fillna("(none)") if "district" in units_out else pd.Series(["(none)"] * n_units)
    unc_by_d = pd.Series(status == "uncovered").groupby(unit_district.to_numpy()).sum()
    rows = []
    for (dname, dzone), g in dist.groupby(["district", "zone"], sort=True):
        pop = float(g["population"].sum())
        covered = np.nan if no_data else float(g["covered"].sum())
        rows.append({**base, "district": dname, "zone": dzone, "population": pop, "covered_population": covered,
                     "covered_share": covered / pop if pop > 0 and not no_data else np.nan,
                     "units_uncovered": int(unc_by_d.get(dname, 0)),
                     "threshold_min": circle.effective_threshold(None if dzone == "(none)" else dzone),
                     "status": "no_data" if no_data else "ok"})
    return rows


def _sensitivity(circle, net, snap, fac_categories, fac_snap, demand, weight, units_out, options: AnalysisOptions,
                 no_data: bool) -> list[dict]:
    """Covered share per extra walking speed (NaN for a no-data circle)."""
    rows = []
    n_units = len(units_out)
    for s in (options.walk_speeds if circle.mode == "walk" else ()):
        met_s = compute_circle(circle, net, snap, fac_categories, fac_snap, speed_m_per_min=float(s),
                               cap_min=options.cap_min, zone=demand.zone).met
        cov_s, tot_s = weighted_share(met_s, weight, demand.unit, n_units)
        with np.errstate(invalid="ignore", divide="ignore"):
            unit_share = np.where(tot_s > 0, cov_s / tot_s, np.nan)
        units_out[f"{circle.id}_covered_share_{s:g}mpm"] = np.nan if no_data else np.round(unit_share, 4)
        covered = np.nan if no_data else cov_s.sum()
        rows.append({"circle": circle.id, "walk_speed_m_per_min": float(s), "population": tot_s.sum(),
                     "covered_population": covered,
                     "covered_share": covered / tot_s.sum() if tot_s.sum() > 0 and not no_data else np.nan,
                     "status": "no_data" if no_data else "ok"})
    return rows


def _with_feature_ids(facilities):
    """A copy with a ``feature_id`` on every row: rows without one (e.g. a GeoDataFrame
    concatenated from two sources) are features of their own.
    """
    facilities = facilities.copy()
    if "feature_id" not in facilities:
        facilities["feature_id"] = facilities["facility_id"]
    facilities["feature_id"] = facilities["feature_id"].where(facilities["feature_id"].notna(),
                                                              facilities["facility_id"])
    return facilities


def _warn_no_data(circle_id: str, no_data: list, counts: dict, mode: str) -> None:
    for c in no_data:
        why = "no facilities in the input" if counts.get(c, 0) == 0 else \
            f"none of the {counts[c]} in the input reaches the {mode} network"
        # info, not a warning: the summary's status and no_data columns carry it (and the CLI prints why)
        log.info("circle %s: %s: %s; the circle is reported as no data, not as uncovered", circle_id, c, why)


def _category_minutes(units_out, circle_id: str, point_minutes: dict, weight, unit) -> None:
    """Contract 2: ``<circle>_<category>_minutes`` per unit (population-weighted median; NaN
    when none is reachable or there is no data), so the categories that exist still show.
    """
    for category in sorted(point_minutes):
        units_out[f"{circle_id}_{category}_minutes"] = np.round(
            weighted_median(point_minutes[category], weight, unit, len(units_out)), 2)


def _snap_inputs(networks: dict, demand: Demand, facilities, max_snap_m: float, timings: dict) -> dict:
    """Snap demand points and facilities once per network (facility columns
    ``<mode>_node``, ``<mode>_snap_m``, ``<mode>_off_network`` are added in place).
    """
    fac_snaps: dict[str, Snap] = {}
    for mode, net in networks.items():
        with step(f"snap to the {mode} network", timings, key=f"snap_{mode}_s") as now:
            demand.snaps[mode] = net.snap_lonlat(demand.lon, demand.lat, max_snap_m=max_snap_m,
                                                 source="demand points")
            fac_snaps[mode] = snap_facilities(facilities, net, max_snap_m)
            facilities[f"{mode}_node"] = fac_snaps[mode].node
            facilities[f"{mode}_snap_m"] = fac_snaps[mode].distance_m
            facilities[f"{mode}_off_network"] = fac_snaps[mode].off_network
            now.detail = f"{len(demand):,} demand points, {len(facilities):,} facilities"
    return fac_snaps


def _summary_row(base: dict, circle, covered_w, total_w, offnet_w, status, no_data: list, on_counts: dict,
                 counts: dict) -> dict:
    """One summary row; a no-data circle's covered population and share are NaN (contract 1)."""
    required = sorted(circle.categories)
    # "on the circle's network / in the input": facilities far outside the area do not help
    facilities_text = "; ".join(f"{c}: {on_counts.get(c, 0)}/{counts.get(c, 0)}" for c in required)
    population = float(total_w.sum())
    covered = np.nan if no_data else float(covered_w.sum())
    return {
        **base, "status": "no_data" if no_data else "ok",
        "population": population, "covered_population": covered,
        "covered_share": covered / population if population > 0 and not no_data else np.nan,
        "offnet_population": float(offnet_w.sum()),
        **{f"units_{s}": int((status == s).sum()) for s in STATUSES},
        "facilities": facilities_text, "no_data": ", ".join(no_data), "rule": circle.clause,
    }


def compute_coverage(
    policy: Policy,
    networks: dict[str, Network],
    facilities: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    demand: Demand,
    *,
    walk_speeds: Sequence[float] = (),
    max_snap_m: float = settings.MAX_SNAP_M,
    covered_min: float = settings.COVERED_SHARE_MIN,
    uncovered_max: float = settings.UNCOVERED_SHARE_MAX,
    cap_min: float = settings.MINUTES_CAP,
    progress: bool = False,
    assumptions: list[str] | None = None,
    unclassified: pd.DataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    area: Any = None,
    facilities_crs: str | None = None,
    units_crs: str | None = None,
) -> CoverageResult:
    """Coverage of every unit for every circle of ``policy`` (see module doc).

    A circle one of whose requirement groups has no usable facility (none in
    the input, or none on the circle's network) is ``no_data``: its shares and
    minutes are NaN, not 0 % (shared contract 1).  The caller's ``demand``
    is not changed: the result carries its own, snapped to every network.

    Parameters
    ----------
    policy : Policy
        The circles to measure.
    networks : dict of str to Network
        ``"walk"`` and/or ``"drive"`` networks.
    facilities : GeoDataFrame
        EPSG:4326, with ``facility_id``, ``category``, ``name``.
    units : GeoDataFrame
        With ``unit_id``, ``name``, ``population``, ``population_65plus``.
    demand : Demand
        The demand points, already joined to units and districts.
    walk_speeds : sequence of float
        Extra walking speeds (m/min) for the sensitivity table.
    max_snap_m, covered_min, uncovered_max, cap_min : float
        Snap limit, status thresholds and horizon (see :class:`AnalysisOptions`).
    progress : bool
        Show a progress bar over circles.
    assumptions : list of str, optional
        Assumptions made so far (the snapping one is added).
    unclassified : DataFrame, optional
        POIs in no category (for the data-quality tables).
    districts : GeoDataFrame, optional
        Districts layer, kept on the result for maps.
    area : shapely geometry, optional
        The study area (EPSG:4326) the inputs are checked against.
    facilities_crs, units_crs : str, optional
        The systems the facilities and units files were declared in.

    Returns
    -------
    CoverageResult
    """
    from tqdm.auto import tqdm

    if not 0 <= uncovered_max < covered_min <= 1:
        raise InputError(f"status thresholds must satisfy 0 <= uncovered_max < covered_min <= 1, "
                         f"got uncovered_max={uncovered_max}, covered_min={covered_min}")
    options = AnalysisOptions(covered_min=float(covered_min), uncovered_max=float(uncovered_max),
                              max_snap_m=float(max_snap_m), cap_min=float(cap_min),
                              walk_speeds=tuple(float(v) for v in walk_speeds), facilities_crs=facilities_crs,
                              units_crs=units_crs)
    assumptions = list(assumptions or [])
    timings: dict[str, float] = {}
    n_units = len(units)
    units_out = units.copy()
    facilities = _with_feature_ids(facilities)
    counts = facilities.groupby("category")["feature_id"].nunique().to_dict()

    # the result's own demand record: the caller's ``demand.snaps`` is left as it was
    demand = replace(demand, snaps=dict(demand.snaps))
    fac_snaps = _snap_inputs(networks, demand, facilities, max_snap_m, timings)
    assumptions.append(snapping_assumption({m: (demand.snaps[m], fac_snaps[m]) for m in networks}))
    fac_categories = facilities["category"].to_numpy(object)
    usable = {mode: usable_counts(facilities, mode) for mode in networks}

    walk_off = demand.snaps["walk"].off_network if "walk" in demand.snaps else np.zeros(len(demand), bool)
    units_out["offnet_population"] = np.bincount(
        demand.unit[demand.unit >= 0], weights=(demand.weight_all * walk_off)[demand.unit >= 0], minlength=n_units)

    node_minutes: dict = {}
    point_minutes: dict = {}
    point_limits: dict = {}
    summary_rows, district_rows, sens_rows = [], [], []
    unit_zone = units_out["zone"].to_numpy(object) if "zone" in units_out else np.array([None] * n_units, dtype=object)
    for circle in tqdm(policy.circles, desc="circles", disable=not progress, leave=False):
        with step(circle.id, timings, key=f"{circle.id}_s") as now:
            net = networks["walk" if circle.mode == "walk" else "drive"]
            speed = circle.speed_m_per_min if circle.mode == "walk" else None
            snap = demand.snaps[net.mode]
            measured = compute_circle(circle, net, snap, fac_categories, fac_snaps[net.mode], speed_m_per_min=speed,
                                      cap_min=cap_min, zone=demand.zone)
            met, limits = measured.met, measured.group_limits
            node_minutes[circle.id] = measured.node_minutes
            point_minutes[circle.id] = measured.point_minutes
            point_limits[circle.id] = limits
            weight = demand.weights(circle.population)
            no_data = no_data_categories(circle, usable[net.mode])
            covered_w, total_w, offnet_w, share, status = unit_coverage(
                met, weight, demand.unit, snap.off_network, n_units, no_data=bool(no_data), covered_min=covered_min,
                uncovered_max=uncovered_max)
            cid = circle.id
            units_out[f"{cid}_minutes"] = np.nan if no_data else np.round(
                weighted_median(measured.minutes, weight, demand.unit, n_units), 2)
            units_out[f"{cid}_covered_share"] = np.round(share, 4)
            units_out[f"{cid}_status"] = status
            units_out[f"{cid}_missing"] = _missing_labels(circle, measured.group_minutes, limits, weight, demand, n_units, status,
                                                          total_w, usable[net.mode], covered_min)
            units_out[f"{cid}_threshold_min"] = thresholds_by_zone(circle, unit_zone)
            units_out[f"{cid}_rule"] = circle.clause
            _category_minutes(units_out, cid, measured.point_minutes, weight, demand.unit)
            now.detail = ("no data" if no_data else
                          f"{covered_w.sum() / total_w.sum():.1%} of {total_w.sum():,.0f} people covered"
                          if total_w.sum() > 0 else "no people")
        sens_rows += _sensitivity(circle, net, snap, fac_categories, fac_snaps[net.mode], demand, weight,
                                  units_out, options, bool(no_data))

        base = {
            "circle": cid, "name_zh": circle.name_zh, "name_en": circle.name_en,
            "threshold_min": threshold_text(circle, demand.zone),
            "mode": circle.mode, "population_group": circle.population,
        }
        summary_rows.append(_summary_row(base, circle, covered_w, total_w, offnet_w, status, no_data,
                                         usable[net.mode], counts))
        district_rows += _district_rows(base, circle, demand, weight, met, status, units_out, bool(no_data))
        _warn_no_data(cid, no_data, counts, net.mode)

    data_quality = data_quality_tables(policy, facilities, counts, units_out, demand, networks, unclassified,
                                       area, options)
    return CoverageResult(
        policy=policy, units=units_out, facilities=facilities, summary=pd.DataFrame(summary_rows),
        district_summary=pd.DataFrame(district_rows), sensitivity=pd.DataFrame(sens_rows), data_quality=data_quality,
        networks=networks, demand=demand, node_minutes=node_minutes, point_minutes=point_minutes,
        point_limits=point_limits, districts=districts, area=area, assumptions=assumptions, timings=timings,
        options=options,
    )
