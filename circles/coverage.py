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
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from . import settings
from .engine import Snap, minutes_to_nearest
from .errors import InputError
from .network import Network

log = logging.getLogger(__name__)

STATUSES = ("covered", "partial", "uncovered", "empty", "off_network")


# --------------------------------------------------------------- demand

@dataclass(eq=False)
class Demand:
    """Where people are, as arrays (one entry per demand point).

    ``weight_all`` and ``weight_65plus`` are persons (or 1 per unit point when
    no population is known); ``unit`` indexes the unit row (``-1`` outside every
    unit); ``zone`` and ``district`` come from the districts layer.
    """

    lon: np.ndarray
    lat: np.ndarray
    weight_all: np.ndarray
    weight_65plus: np.ndarray
    unit: np.ndarray
    district: np.ndarray  # object: district name or None
    zone: np.ndarray  # object: zone or None
    has_population: bool
    snaps: dict = field(default_factory=dict)  # network mode -> Snap

    def __len__(self) -> int:
        return int(self.lon.size)

    def weights(self, group: str) -> np.ndarray:
        return self.weight_65plus if group == "65plus" else self.weight_all


# --------------------------------------------------------------- per-point maths (arrays only)

def group_minutes(category_minutes: Sequence[np.ndarray]) -> np.ndarray:
    """Any-of group: the nearest of its categories (NaN only if all are NaN)."""
    stacked = np.vstack([np.where(np.isnan(m), np.inf, m) for m in category_minutes])
    best = stacked.min(axis=0)
    return np.where(np.isinf(best), np.nan, best)


def circle_point_result(groups_minutes: Sequence[np.ndarray], groups_limit: Sequence[np.ndarray]):
    """Per point: the circle's minutes (slowest group, NaN if any group is
    unreachable) and whether every group is within its limit.

    ``groups_limit`` are per-point limits (zone-dependent thresholds)."""
    met = np.ones(groups_minutes[0].shape, dtype=bool)
    slowest = np.zeros(groups_minutes[0].shape)
    for minutes, limit in zip(groups_minutes, groups_limit):
        met &= np.nan_to_num(minutes, nan=np.inf) <= limit
        slowest = np.maximum(slowest, np.nan_to_num(minutes, nan=np.inf))
    return np.where(np.isinf(slowest), np.nan, slowest), met


def weighted_share(mask: np.ndarray, weight: np.ndarray, unit: np.ndarray, n_units: int) -> tuple[np.ndarray, np.ndarray]:
    """(covered weight, total weight) per unit; points with ``unit < 0`` are ignored."""
    inside = unit >= 0
    total = np.bincount(unit[inside], weights=weight[inside], minlength=n_units)
    covered = np.bincount(unit[inside], weights=(weight * mask)[inside], minlength=n_units)
    return covered, total


def weighted_median(values: np.ndarray, weight: np.ndarray, unit: np.ndarray, n_units: int) -> np.ndarray:
    """Population-weighted median of ``values`` per unit (NaN counts as +inf;
    a median that falls on +inf is reported as NaN)."""
    out = np.full(n_units, np.nan)
    ok = (unit >= 0) & (weight > 0)
    if not ok.any():
        return out
    v = np.nan_to_num(values[ok], nan=np.inf)
    w = weight[ok]
    u = unit[ok]
    order = np.lexsort((v, u))
    v, w, u = v[order], w[order], u[order]
    cum = np.cumsum(w)
    starts = np.searchsorted(u, np.arange(n_units), side="left")
    ends = np.searchsorted(u, np.arange(n_units), side="right")
    for k in np.flatnonzero(ends > starts):  # loop over units, not nodes or edges
        s, e = starts[k], ends[k]
        base = cum[s - 1] if s > 0 else 0.0
        half = (cum[e - 1] - base) / 2.0
        pos = s + int(np.searchsorted(cum[s:e] - base, half, side="left"))
        val = v[min(pos, e - 1)]
        out[k] = val if np.isfinite(val) else np.nan
    return out


def status_from_share(share: np.ndarray, total: np.ndarray, offnet: np.ndarray, *,
                      covered_min: float, uncovered_max: float) -> np.ndarray:
    status = np.where(share >= covered_min, "covered", np.where(share < uncovered_max, "uncovered", "partial"))
    status = np.where(total <= 0, "empty", status)
    status = np.where((total > 0) & (offnet >= total), "off_network", status)
    return status.astype(object)


# --------------------------------------------------------------- result

@dataclass(eq=False)
class CoverageResult:
    """Everything :func:`circles.analyze` computed.

    Attributes
    ----------
    units : GeoDataFrame
        Index-aligned with the input units (EPSG:4326), with per circle
        ``<circle>_minutes``, ``<circle>_covered_share``, ``<circle>_status``,
        ``<circle>_missing``, ``<circle>_threshold_min``, ``<circle>_rule``.
    facilities : GeoDataFrame
        Facilities used, with snap distance and off-network flag per network.
    summary : DataFrame
        One row per circle: population, covered population and share, units
        by status, facilities found per required category, the rule.
    district_summary : DataFrame
        The same per circle and district.
    sensitivity : DataFrame
        Covered share per walking speed for the walking circles.
    data_quality : dict of DataFrame
        ``facilities`` per category (found, off-network, "no data"),
        ``unclassified`` POIs, ``off_network`` units and people, ``network`` parts.
    node_minutes : dict
        ``node_minutes[circle][category]``: minutes from every node of the
        circle's network to the nearest facility of that category (NaN beyond
        the cap or unreachable), facility access legs included.
    point_minutes : dict
        The same per demand point (resident access legs included).
    """

    policy: object
    units: object
    facilities: object
    summary: pd.DataFrame
    district_summary: pd.DataFrame
    sensitivity: pd.DataFrame
    data_quality: dict
    networks: dict
    demand: Demand
    node_minutes: dict
    point_minutes: dict
    point_limits: dict
    districts: object = None
    area: object = None
    assumptions: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)

    def circle(self, circle_id: str):
        for c in self.policy.circles:
            if c.id == circle_id:
                return c
        raise InputError(f"no circle {circle_id!r} in policy {self.policy.id!r}; "
                         f"circles: {[c.id for c in self.policy.circles]}")

    def uncovered(self, circle_id: str) -> pd.DataFrame:
        """Units that are not covered for a circle, worst first, with what they lack."""
        self.circle(circle_id)
        cols = ["unit_id", "name", "district", "population", f"{circle_id}_covered_share",
                f"{circle_id}_status", f"{circle_id}_minutes", f"{circle_id}_missing", f"{circle_id}_rule"]
        u = self.units
        mask = u[f"{circle_id}_status"].isin(["uncovered", "partial", "off_network"])
        out = pd.DataFrame(u.loc[mask, [c for c in cols if c in u.columns]])
        return out.sort_values([f"{circle_id}_covered_share", "population"], ascending=[True, False])

    def isochrones(self, circle_ids=None):
        """Reached-network polygons per circle and required category at the
        circle's limit(s), from this analysis' own per-node minutes (EPSG:4326)."""
        import geopandas as gpd

        from .isochrones import circle_isochrones

        ids = circle_ids or [c.id for c in self.policy.circles]
        frames = [circle_isochrones(self, cid) for cid in ids]
        frames = [f for f in frames if len(f)]
        if not frames:
            return gpd.GeoDataFrame({"circle": [], "category": [], "minutes": []}, geometry=[], crs="EPSG:4326")
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs="EPSG:4326")

    def to_files(self, out_dir: str | Path, *, lang: str = "zh", map_html: bool = True) -> dict[str, Path]:
        """Write coverage.gpkg, coverage.csv, summary.csv, coverage.xlsx and map.html."""
        from .outputs import write_outputs

        return write_outputs(self, Path(out_dir), lang=lang, map_html=map_html)


# --------------------------------------------------------------- the run

def thresholds_by_zone(circle, zone: np.ndarray) -> np.ndarray:
    """The circle's effective threshold (minus dispatch allowance) for each zone
    value; ``None``/NaN takes the default zone.  One policy lookup per distinct
    zone, not per point (there are hundreds of thousands of points city-wide)."""
    codes, uniques = pd.factorize(pd.Series(zone, dtype=object))
    out = np.full(codes.size, circle.effective_threshold(None), dtype=float)
    if uniques.size:
        per_zone = np.array([circle.effective_threshold(z) for z in uniques], dtype=float)
        known = codes >= 0
        out[known] = per_zone[codes[known]]
    return out


def snap_facilities(facilities, net: Network, max_snap_m: float) -> Snap:
    """Snap facility points (EPSG:4326 GeoDataFrame) to ``net``: once per network."""
    if len(facilities) == 0:
        return Snap(np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool))
    return net.snap_lonlat(facilities.geometry.x.to_numpy(), facilities.geometry.y.to_numpy(),
                           max_snap_m=max_snap_m, source="facilities")


def _facility_sources(categories: np.ndarray, snap: Snap, speed_m_per_min: float) -> dict:
    """category -> (node indices, access-leg minutes) of the on-network facilities."""
    out = {}
    for category in np.unique(categories):
        keep = (categories == category) & ~snap.off_network
        out[category] = (snap.node[keep], snap.distance_m[keep] / speed_m_per_min)
    return out


def compute_circle(circle, net: Network, snap: Snap, facility_categories: np.ndarray, facility_snap: Snap, *,
                   speed_m_per_min: float | None, cap_min: float, zone: np.ndarray):
    """Per-category node and point minutes and per-point circle result for one circle.

    ``snap`` places the demand points on ``net``; ``facility_categories`` and
    ``facility_snap`` (from :func:`snap_facilities`) the facilities.  Access legs
    on both sides are walked (or, on drive networks, driven) at the same speed.
    """
    graph = net.graph_s(speed_m_per_min) if net.mode == "walk" else net.graph_s()
    access_speed = net.access_speed_m_per_min(speed_m_per_min)
    facilities_xy = _facility_sources(np.asarray(facility_categories, dtype=object), facility_snap, access_speed)
    direction = circle.direction
    node_minutes: dict[str, np.ndarray] = {}
    point_minutes: dict[str, np.ndarray] = {}
    resident_leg = snap.distance_m / access_speed
    for category in sorted({c for r in circle.requirements for c in r.categories}):
        nodes, legs_min = facilities_xy.get(category, (np.zeros(0, np.int64), np.zeros(0)))
        nm = minutes_to_nearest(graph, nodes, limit_min=cap_min, direction=direction, source_offsets_min=legs_min)
        node_minutes[category] = nm
        pm = nm[snap.node] + resident_leg
        pm[snap.off_network] = np.nan
        pm[pm > cap_min] = np.nan
        point_minutes[category] = pm
    base_limit = thresholds_by_zone(circle, zone)
    groups, limits = [], []
    for req in circle.requirements:
        groups.append(group_minutes([point_minutes[c] for c in req.categories]))
        if req.max_minutes is not None:
            limits.append(np.full(zone.size, float(req.max_minutes) - circle.dispatch_allowance_min))
        else:
            limits.append(base_limit)
    minutes, met = circle_point_result(groups, limits)
    return node_minutes, point_minutes, groups, limits, minutes, met


def _category_label(category: str, counts: dict[str, int]) -> str:
    return category if counts.get(category, 0) > 0 else f"{category} (no data)"


def _group_label(req, counts: dict[str, int]) -> str:
    return "/".join(_category_label(c, counts) for c in req.categories)


def compute_coverage(
    policy,
    networks: dict[str, Network],
    facilities,
    units,
    demand: Demand,
    *,
    walk_speeds: Sequence[float] = (),
    max_snap_m: float = settings.MAX_SNAP_M,
    covered_min: float = settings.COVERED_SHARE_MIN,
    uncovered_max: float = settings.UNCOVERED_SHARE_MAX,
    cap_min: float = settings.MINUTES_CAP,
    progress: bool = False,
    assumptions: list | None = None,
    unclassified=None,
    districts=None,
) -> CoverageResult:
    """Coverage of every unit for every circle of ``policy`` (see module doc).

    ``networks`` maps ``"walk"``/``"drive"`` to networks; ``facilities`` is a
    GeoDataFrame (EPSG:4326) with ``facility_id, category, name``; ``units`` a
    GeoDataFrame with ``unit_id, name, population, population_65plus``;
    ``demand`` the demand points already joined to units and districts.
    """
    from tqdm.auto import tqdm

    if not 0 <= uncovered_max < covered_min <= 1:
        raise InputError(f"status thresholds must satisfy 0 <= uncovered_max < covered_min <= 1, "
                         f"got uncovered_max={uncovered_max}, covered_min={covered_min}")
    assumptions = list(assumptions or [])
    timings: dict[str, float] = {}
    n_units = len(units)
    units_out = units.copy()
    facilities = facilities.copy()
    if "feature_id" not in facilities:
        facilities["feature_id"] = facilities["facility_id"]
    counts = facilities.groupby("category")["feature_id"].nunique().to_dict()

    # snap demand and facilities once per network
    fac_snaps: dict[str, Snap] = {}
    fac_categories = facilities["category"].to_numpy(object)
    for mode, net in networks.items():
        started = time.perf_counter()
        demand.snaps[mode] = net.snap_lonlat(demand.lon, demand.lat, max_snap_m=max_snap_m, source="demand points")
        fac_snaps[mode] = snap_facilities(facilities, net, max_snap_m)
        facilities[f"{mode}_node"] = fac_snaps[mode].node
        facilities[f"{mode}_snap_m"] = fac_snaps[mode].distance_m
        facilities[f"{mode}_off_network"] = fac_snaps[mode].off_network
        timings[f"snap_{mode}_s"] = time.perf_counter() - started

    walk_off = demand.snaps["walk"].off_network if "walk" in demand.snaps else np.zeros(len(demand), bool)
    units_out["offnet_population"] = np.bincount(
        demand.unit[demand.unit >= 0], weights=(demand.weight_all * walk_off)[demand.unit >= 0], minlength=n_units)

    node_minutes: dict = {}
    point_minutes: dict = {}
    point_limits: dict = {}
    summary_rows, district_rows, sens_rows = [], [], []
    zone = demand.zone
    unit_zone = units_out["zone"].to_numpy(object) if "zone" in units_out else np.array([None] * n_units, dtype=object)
    circles_iter = tqdm(policy.circles, desc="circles", disable=not progress, leave=False)
    for circle in circles_iter:
        started = time.perf_counter()
        net = networks["walk" if circle.mode == "walk" else "drive"]
        speed = circle.speed_m_per_min if circle.mode == "walk" else None
        snap = demand.snaps[net.mode]
        nm, pm, groups, limits, minutes, met = compute_circle(
            circle, net, snap, fac_categories, fac_snaps[net.mode], speed_m_per_min=speed, cap_min=cap_min,
            zone=zone)
        node_minutes[circle.id] = nm
        point_minutes[circle.id] = pm
        point_limits[circle.id] = limits
        weight = demand.weights(circle.population)
        covered_w, total_w = weighted_share(met, weight, demand.unit, n_units)
        offnet_w, _ = weighted_share(snap.off_network, weight, demand.unit, n_units)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total_w > 0, covered_w / total_w, np.nan)
        status = status_from_share(np.nan_to_num(share, nan=0.0), total_w, offnet_w,
                                   covered_min=covered_min, uncovered_max=uncovered_max)
        # missing: the groups that fail for the unit (share below the covered threshold); a unit
        # can also fail on the combination (each group reaches 90 %, not the same 90 %): then
        # every group that is short anywhere in the unit is listed
        group_shares, labels = [], []
        for req, gm, lim in zip(circle.requirements, groups, limits):
            g_met = np.nan_to_num(gm, nan=np.inf) <= lim
            g_cov, g_tot = weighted_share(g_met, weight, demand.unit, n_units)
            with np.errstate(invalid="ignore", divide="ignore"):
                group_shares.append(np.where(g_tot > 0, g_cov / g_tot, 1.0))
            labels.append(_group_label(req, counts))
        g_shares = np.column_stack(group_shares) if group_shares else np.ones((n_units, 0))
        failing = g_shares < covered_min
        combination = ~failing.any(axis=1) & np.isin(status, ("partial", "uncovered"))
        failing[combination] = g_shares[combination] < 1.0
        failing[total_w <= 0] = False
        missing = ["; ".join(labels[g] for g in np.flatnonzero(row)) for row in failing]
        cid = circle.id
        units_out[f"{cid}_minutes"] = np.round(weighted_median(minutes, weight, demand.unit, n_units), 2)
        units_out[f"{cid}_covered_share"] = np.round(share, 4)
        units_out[f"{cid}_status"] = status
        units_out[f"{cid}_missing"] = missing
        units_out[f"{cid}_threshold_min"] = thresholds_by_zone(circle, unit_zone)
        units_out[f"{cid}_rule"] = circle.clause
        timings[f"{cid}_s"] = time.perf_counter() - started

        # sensitivity to walking speed
        for s in (walk_speeds if circle.mode == "walk" else ()):
            *_, met_s = compute_circle(circle, net, snap, fac_categories, fac_snaps[net.mode],
                                       speed_m_per_min=float(s), cap_min=cap_min, zone=zone)
            cov_s, tot_s = weighted_share(met_s, weight, demand.unit, n_units)
            with np.errstate(invalid="ignore", divide="ignore"):
                units_out[f"{cid}_covered_share_{s:g}mpm"] = np.round(np.where(tot_s > 0, cov_s / tot_s, np.nan), 4)
            sens_rows.append({"circle": cid, "walk_speed_m_per_min": float(s), "population": tot_s.sum(),
                              "covered_population": cov_s.sum(),
                              "covered_share": cov_s.sum() / tot_s.sum() if tot_s.sum() > 0 else np.nan})

        required = sorted({c for r in circle.requirements for c in r.categories})
        base = {
            "circle": cid, "name_zh": circle.name_zh, "name_en": circle.name_en,
            "threshold_min": circle.describe_threshold() if hasattr(circle, "describe_threshold") else circle.threshold_min,
            "mode": circle.mode, "population_group": circle.population,
        }
        on_net = facilities.loc[~facilities[f"{net.mode}_off_network"].astype(bool)]
        on_counts = on_net.groupby("category")["feature_id"].nunique().to_dict() if len(on_net) else {}
        # "on the circle's network / in the input": facilities far outside the area do not help
        facilities_text = "; ".join(f"{c}: {on_counts.get(c, 0)}/{counts.get(c, 0)}" for c in required)
        no_data = [c for c in required if counts.get(c, 0) == 0]
        summary_rows.append({
            **base,
            "population": float(total_w.sum()), "covered_population": float(covered_w.sum()),
            "covered_share": float(covered_w.sum() / total_w.sum()) if total_w.sum() > 0 else np.nan,
            "offnet_population": float(offnet_w.sum()),
            **{f"units_{s}": int((status == s).sum()) for s in STATUSES},
            "facilities": facilities_text, "no_data": ", ".join(no_data), "rule": circle.clause,
        })
        inside = demand.unit >= 0
        dist = pd.DataFrame({"district": pd.Series(demand.district[inside], dtype=object).fillna("(none)"),
                             "zone": pd.Series(demand.zone[inside], dtype=object).fillna("(none)"),
                             "population": weight[inside], "covered": weight[inside] * met[inside]})
        unit_district = units_out["district"].fillna("(none)") if "district" in units_out else pd.Series(["(none)"] * n_units)
        unc_by_d = pd.Series(status == "uncovered").groupby(unit_district.to_numpy()).sum()
        for (dname, dzone), g in dist.groupby(["district", "zone"], sort=True):
            pop = float(g["population"].sum())
            district_rows.append({**base, "district": dname, "zone": dzone, "population": pop,
                                  "covered_population": float(g["covered"].sum()),
                                  "covered_share": float(g["covered"].sum() / pop) if pop > 0 else np.nan,
                                  "units_uncovered": int(unc_by_d.get(dname, 0)),
                                  "threshold_min": circle.effective_threshold(None if dzone == "(none)" else dzone)})
        for c in no_data:
            log.warning("circle %s: no %s facilities in the input; every unit reports it missing (no data)", cid, c)

    summary = pd.DataFrame(summary_rows)
    district_summary = pd.DataFrame(district_rows)
    sensitivity = pd.DataFrame(sens_rows)
    data_quality = _data_quality(policy, facilities, counts, units_out, demand, networks, unclassified)
    return CoverageResult(
        policy=policy, units=units_out, facilities=facilities, summary=summary,
        district_summary=district_summary, sensitivity=sensitivity, data_quality=data_quality,
        networks=networks, demand=demand, node_minutes=node_minutes, point_minutes=point_minutes,
        point_limits=point_limits, districts=districts, assumptions=assumptions, timings=timings,
    )


def _data_quality(policy, facilities, counts, units, demand: Demand, networks, unclassified) -> dict:
    required = sorted({c for circle in policy.circles for r in circle.requirements for c in r.categories})
    rows = []
    for c in sorted(set(required) | set(counts)):
        sub = facilities[facilities["category"] == c]
        row = {"category": c, "facilities": int(counts.get(c, 0)), "required_by": ", ".join(
            circle.id for circle in policy.circles if any(c in r.categories for r in circle.requirements))}
        for mode in networks:
            row[f"off_{mode}_network"] = int(sub[f"{mode}_off_network"].sum()) if len(sub) else 0
        row["status"] = "no data" if counts.get(c, 0) == 0 else "ok"
        rows.append(row)
    net_rows = [{"mode": mode, "nodes": n.n_nodes, "edges": n.n_edges,
                 "components": n.report.get("components"),
                 "nodes_outside_largest": n.report.get("nodes_outside_largest"),
                 "share_outside_largest": round(n.report.get("share_outside_largest", 0.0), 4),
                 "source": n.source} for mode, n in networks.items()]
    off = []
    for mode, snap in demand.snaps.items():
        off.append({"network": mode, "demand_points": len(demand), "off_network_points": int(snap.off_network.sum()),
                    "off_network_population": float((demand.weight_all * snap.off_network).sum()),
                    "off_network_population_65plus": float((demand.weight_65plus * snap.off_network).sum()),
                    "population_outside_units": float(demand.weight_all[demand.unit < 0].sum()),
                    "units_all_off_network": int(((units["offnet_population"] >= units["population"]) &
                                                  (units["population"] > 0)).sum()) if mode == "walk" else None})
    unclassified_df = unclassified if unclassified is not None else pd.DataFrame(columns=["name", "label"])
    return {"facilities": pd.DataFrame(rows), "network": pd.DataFrame(net_rows),
            "off_network": pd.DataFrame(off), "unclassified": pd.DataFrame(unclassified_df)}
