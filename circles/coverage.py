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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from circles import settings
from circles.engine import Snap, minutes_to_nearest
from circles.errors import InputError
from circles.network import Network, snapping_assumption

log = logging.getLogger(__name__)

STATUSES = ("covered", "partial", "uncovered", "empty", "off_network", "no_data")


@dataclass(frozen=True)
class AnalysisOptions:
    """The options an analysis ran with; later steps (scoring, coverage after
    new sites) read them instead of re-defaulting.

    Attributes
    ----------
    covered_min, uncovered_max : float
        Unit status thresholds on the covered share (``covered`` at or above
        ``covered_min``, ``uncovered`` below ``uncovered_max``).
    max_snap_m : float
        Points farther than this from the network are off the network.
    cap_min : float
        Horizon: travel times are tracked up to this many minutes.
    walk_speeds : tuple of float
        Extra walking speeds (m/min) of the sensitivity table.
    facilities_crs, units_crs : str or None
        The coordinate systems the facilities and units files were declared in.
    """

    covered_min: float = settings.COVERED_SHARE_MIN
    uncovered_max: float = settings.UNCOVERED_SHARE_MAX
    max_snap_m: float = settings.MAX_SNAP_M
    cap_min: float = settings.MINUTES_CAP
    walk_speeds: tuple = ()
    facilities_crs: str | None = None
    units_crs: str | None = None


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
    a median that falls on +inf is reported as NaN).  Vectorised: the first
    point, in increasing order within its unit, at which the unit's cumulative
    weight reaches half its total."""
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
    has = ends > starts
    base = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
    half = np.where(has, (cum[np.maximum(ends - 1, 0)] - base) / 2.0, np.inf)
    reached = (cum - base[u]) >= half[u]
    first = np.full(n_units, -1, dtype=np.int64)
    hit = np.flatnonzero(reached)
    uu, pos = np.unique(u[hit], return_index=True)
    first[uu] = hit[pos]
    missing = has & (first < 0)  # rounding: fall back to the unit's last point
    first[missing] = ends[missing] - 1
    val = np.where(has, v[np.maximum(first, 0)], np.nan)
    out[has] = np.where(np.isfinite(val[has]), val[has], np.nan)
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
        ``<circle>_minutes``, ``<circle>_covered_share``, ``<circle>_status``
        (covered | partial | uncovered | empty | off_network | no_data),
        ``<circle>_missing``, ``<circle>_threshold_min``, ``<circle>_rule`` and
        per required category ``<circle>_<category>_minutes`` (population-
        weighted median minutes to the nearest facility of the category).
    facilities : GeoDataFrame
        Facilities used, with snap distance and off-network flag per network.
    summary : DataFrame
        One row per circle: population, covered population and share, units
        by status, facilities found per required category, the rule.
    district_summary : DataFrame
        The same per circle and district.
    sensitivity : DataFrame
        Covered share per walking speed for the walking circles.
    summary : DataFrame (see above)
        ``status`` is ``no_data`` for a circle one of whose requirement groups
        has no usable facility (none in the input or none on the network): its
        ``covered_population`` and ``covered_share`` are NaN, never 0.
    data_quality : dict of DataFrame
        ``facilities`` per category (found, off-network, status "no data" /
        "all outside area" / "none on network" / "ok"), ``inputs`` (facilities
        per category and units against the study area: inside, outside,
        off-network, nearest outside, likely cause; :mod:`circles.inputs`),
        ``inputs_by_source`` (the same per facility source), ``unclassified``
        POIs, ``off_network`` units and people, ``network`` parts.
    options : AnalysisOptions
        The thresholds, snap limit, horizon and speeds the analysis ran with.
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
    options: AnalysisOptions = field(default_factory=AnalysisOptions)

    def circle(self, circle_id: str):
        for c in self.policy.circles:
            if c.id == circle_id:
                return c
        raise InputError(f"no circle {circle_id!r} in policy {self.policy.id!r}; "
                         f"circles: {[c.id for c in self.policy.circles]}")

    def uncovered(self, circle_id: str) -> pd.DataFrame:
        """Units that are not covered for a circle, worst first, with what they lack.

        The people column is the circle's own group: ``population_65plus`` for
        a circle weighted by residents 65+ (elderly care), else ``population``.
        """
        circle = self.circle(circle_id)
        people = "population_65plus" if circle.population == "65plus" else "population"
        cols = ["unit_id", "name", "district", people, f"{circle_id}_covered_share",
                f"{circle_id}_status", f"{circle_id}_minutes", f"{circle_id}_missing", f"{circle_id}_rule"]
        u = self.units
        # no_data units are listed too: nothing is known to cover them (the status says why)
        mask = u[f"{circle_id}_status"].isin(["uncovered", "partial", "off_network", "no_data"])
        out = pd.DataFrame(u.loc[mask, [c for c in cols if c in u.columns]])
        order = [c for c in (f"{circle_id}_covered_share", people) if c in out.columns]
        return out.sort_values(order, ascending=[True, False][:len(order)], na_position="last")

    def isochrones(self, circle_ids=None):
        """Reached-network polygons per circle and required category at the
        circle's limit(s), from this analysis' own per-node minutes (EPSG:4326)."""
        import geopandas as gpd

        from circles.isochrones import circle_isochrones

        ids = circle_ids or [c.id for c in self.policy.circles]
        frames = [circle_isochrones(self, cid) for cid in ids]
        frames = [f for f in frames if len(f)]
        if not frames:
            return gpd.GeoDataFrame({"circle": [], "category": [], "minutes": []}, geometry=[], crs="EPSG:4326")
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs="EPSG:4326")

    def to_files(self, out_dir: str | Path, *, lang: str = "zh", map_html: bool = True,
                 basemap: str | None = None) -> dict[str, Path]:
        """Write coverage.gpkg, coverage.csv, summary.csv, coverage.xlsx and map.html
        (``basemap``: an optional online basemap under the map, off by default)."""
        from circles.outputs.files import write_outputs

        return write_outputs(self, Path(out_dir), lang=lang, map_html=map_html, basemap=basemap)


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


def usable_counts(facilities, mode: str) -> dict[str, int]:
    """Distinct facilities per category that snap onto the ``mode`` network."""
    col = f"{mode}_off_network"
    if not len(facilities) or col not in facilities:
        return {}
    on = facilities.loc[~facilities[col].astype(bool)]
    if not len(on):
        return {}
    key = on["facility_id"] if "feature_id" not in on else on["feature_id"].where(on["feature_id"].notna(),
                                                                                    on["facility_id"])
    return key.groupby(on["category"].to_numpy()).nunique().to_dict()


def no_data_categories(circle, usable: dict[str, int]) -> list[str]:
    """The categories of the circle's requirement groups in which no category has a usable
    facility (none in the input, or none on the circle's network): the circle cannot be
    measured (contract 1: ``no_data``)."""
    out: list[str] = []
    for req in circle.requirements:
        if all(usable.get(c, 0) == 0 for c in req.categories):
            out += [c for c in req.categories if c not in out]
    return out


def unit_coverage(met: np.ndarray, weight: np.ndarray, unit: np.ndarray, offnet: np.ndarray, n_units: int, *,
                  no_data: bool, covered_min: float, uncovered_max: float):
    """Per unit: (covered weight, total weight, off-network weight, covered share, status).

    With ``no_data`` every unit's share is NaN and its status ``no_data``."""
    covered_w, total_w = weighted_share(met, weight, unit, n_units)
    offnet_w, _ = weighted_share(offnet, weight, unit, n_units)
    if no_data:
        return covered_w, total_w, offnet_w, np.full(n_units, np.nan), np.full(n_units, "no_data", dtype=object)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total_w > 0, covered_w / total_w, np.nan)
    status = status_from_share(np.nan_to_num(share, nan=0.0), total_w, offnet_w,
                               covered_min=covered_min, uncovered_max=uncovered_max)
    return covered_w, total_w, offnet_w, share, status


def threshold_text(circle, zone: np.ndarray) -> str:
    """The circle's threshold in words; "(default <zone>)" only when some people have no zone
    (no districts or zones given, or people outside every district)."""
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
    are labelled "(no data)"."""
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
        *_, met_s = compute_circle(circle, net, snap, fac_categories, fac_snap, speed_m_per_min=float(s),
                                   cap_min=options.cap_min, zone=demand.zone)
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
    concatenated from two sources) are features of their own."""
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
    when none is reachable or there is no data), so the categories that exist still show."""
    for category in sorted(point_minutes):
        units_out[f"{circle_id}_{category}_minutes"] = np.round(
            weighted_median(point_minutes[category], weight, unit, len(units_out)), 2)


def _snap_inputs(networks: dict, demand: Demand, facilities, max_snap_m: float, timings: dict) -> dict:
    """Snap demand points and facilities once per network (facility columns
    ``<mode>_node``, ``<mode>_snap_m``, ``<mode>_off_network`` are added in place)."""
    fac_snaps: dict[str, Snap] = {}
    for mode, net in networks.items():
        started = time.perf_counter()
        demand.snaps[mode] = net.snap_lonlat(demand.lon, demand.lat, max_snap_m=max_snap_m, source="demand points")
        fac_snaps[mode] = snap_facilities(facilities, net, max_snap_m)
        facilities[f"{mode}_node"] = fac_snaps[mode].node
        facilities[f"{mode}_snap_m"] = fac_snaps[mode].distance_m
        facilities[f"{mode}_off_network"] = fac_snaps[mode].off_network
        timings[f"snap_{mode}_s"] = time.perf_counter() - started
    return fac_snaps


def _summary_row(base: dict, circle, covered_w, total_w, offnet_w, status, no_data: list, on_counts: dict,
                 counts: dict) -> dict:
    """One summary row; a no-data circle's covered population and share are NaN (contract 1)."""
    required = sorted({c for r in circle.requirements for c in r.categories})
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
    area=None,
    facilities_crs: str | None = None,
    units_crs: str | None = None,
) -> CoverageResult:
    """Coverage of every unit for every circle of ``policy`` (see module doc).

    ``networks`` maps ``"walk"``/``"drive"`` to networks; ``facilities`` is a
    GeoDataFrame (EPSG:4326) with ``facility_id, category, name``; ``units`` a
    GeoDataFrame with ``unit_id, name, population, population_65plus``;
    ``demand`` the demand points already joined to units and districts;
    ``area`` the study area (EPSG:4326) the inputs are checked against;
    ``facilities_crs`` the system the facilities file was declared in.

    A circle one of whose requirement groups has no usable facility (none in
    the input, or none on the circle's network) is ``no_data``: its shares and
    minutes are NaN, not 0 % (shared contract 1).
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
        started = time.perf_counter()
        net = networks["walk" if circle.mode == "walk" else "drive"]
        speed = circle.speed_m_per_min if circle.mode == "walk" else None
        snap = demand.snaps[net.mode]
        nm, pm, groups, limits, minutes, met = compute_circle(
            circle, net, snap, fac_categories, fac_snaps[net.mode], speed_m_per_min=speed, cap_min=cap_min,
            zone=demand.zone)
        node_minutes[circle.id] = nm
        point_minutes[circle.id] = pm
        point_limits[circle.id] = limits
        weight = demand.weights(circle.population)
        no_data = no_data_categories(circle, usable[net.mode])
        covered_w, total_w, offnet_w, share, status = unit_coverage(
            met, weight, demand.unit, snap.off_network, n_units, no_data=bool(no_data), covered_min=covered_min,
            uncovered_max=uncovered_max)
        cid = circle.id
        units_out[f"{cid}_minutes"] = np.nan if no_data else np.round(
            weighted_median(minutes, weight, demand.unit, n_units), 2)
        units_out[f"{cid}_covered_share"] = np.round(share, 4)
        units_out[f"{cid}_status"] = status
        units_out[f"{cid}_missing"] = _missing_labels(circle, groups, limits, weight, demand, n_units, status,
                                                      total_w, usable[net.mode], covered_min)
        units_out[f"{cid}_threshold_min"] = thresholds_by_zone(circle, unit_zone)
        units_out[f"{cid}_rule"] = circle.clause
        _category_minutes(units_out, cid, pm, weight, demand.unit)
        timings[f"{cid}_s"] = time.perf_counter() - started
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

    data_quality = _data_quality(policy, facilities, counts, units_out, demand, networks, unclassified, area,
                                 options)
    return CoverageResult(
        policy=policy, units=units_out, facilities=facilities, summary=pd.DataFrame(summary_rows),
        district_summary=pd.DataFrame(district_rows), sensitivity=pd.DataFrame(sens_rows), data_quality=data_quality,
        networks=networks, demand=demand, node_minutes=node_minutes, point_minutes=point_minutes,
        point_limits=point_limits, districts=districts, area=area, assumptions=assumptions, timings=timings,
        options=options,
    )


def _facility_status(total: int, inside: int, on_network: int) -> str:
    if total == 0:
        return "no data"
    if on_network == 0:
        return "all outside area" if inside == 0 else "none on network"
    return "ok"


def _data_quality(policy, facilities, counts, units, demand: Demand, networks, unclassified, area=None,
                  options: AnalysisOptions | None = None) -> dict:
    from circles.inputs import category_modes, facilities_by_source, facility_and_unit_inputs, inside_area

    options = options or AnalysisOptions()

    required = sorted({c for circle in policy.circles for r in circle.requirements for c in r.categories})
    modes = category_modes(policy)
    rows = []
    for c in sorted(set(required) | set(counts)):
        sub = facilities[facilities["category"] == c]
        sub = sub.loc[~sub["feature_id"].duplicated().to_numpy()]  # each feature once, as in `facilities`
        row = {"category": c, "facilities": int(counts.get(c, 0)), "required_by": ", ".join(
            circle.id for circle in policy.circles if any(c in r.categories for r in circle.requirements))}
        inside = inside_area(area, sub.geometry.x.to_numpy(), sub.geometry.y.to_numpy()) if len(sub) \
            else np.zeros(0, bool)
        # the same definitions as data_quality["inputs"]: facilities = outside_area + off_<mode>_network
        # + on_<mode>_network, the last two counting only facilities inside the study area
        row["outside_area"] = int((~inside).sum())
        for mode in networks:
            off = sub[f"{mode}_off_network"].to_numpy(bool) if len(sub) else np.zeros(0, bool)
            row[f"off_{mode}_network"] = int((inside & off).sum())
            row[f"on_{mode}_network"] = int((inside & ~off).sum())
        mode = modes.get(c, "walk") if modes.get(c, "walk") in networks else "walk"
        # usable: within max snap of the circle's network, inside the area or not (people near the
        # edge reach facilities just outside it); decides "no data" as the summary does
        on_net = int((~sub[f"{mode}_off_network"].astype(bool)).sum()) if len(sub) and mode in networks else 0
        row["usable_on_circle_network"] = on_net
        row["status"] = _facility_status(int(counts.get(c, 0)), int(inside.sum()), on_net)
        rows.append(row)
    net_rows = [{"mode": mode, "nodes": n.n_nodes, "edges": n.n_edges,
                 "components": n.report.get("components"),
                 "nodes_outside_largest": n.report.get("nodes_outside_largest"),
                 "share_outside_largest": round(n.report.get("share_outside_largest", 0.0), 4),
                 "source": n.source} for mode, n in networks.items()]
    off = []
    n_units = len(units)
    inside_units = demand.unit >= 0
    for mode, snap in demand.snaps.items():
        # units all of whose people (or, without population data, whose one point) are off the network:
        # counted from the demand weights, which are 1 per unit without population data
        off_w = np.bincount(demand.unit[inside_units], weights=(demand.weight_all * snap.off_network)[inside_units],
                            minlength=n_units)
        tot_w = np.bincount(demand.unit[inside_units], weights=demand.weight_all[inside_units], minlength=n_units)
        off.append({"network": mode, "demand_points": len(demand), "off_network_points": int(snap.off_network.sum()),
                    "off_network_population": float((demand.weight_all * snap.off_network).sum())
                    if demand.has_population else np.nan,
                    "off_network_population_65plus": float((demand.weight_65plus * snap.off_network).sum())
                    if demand.has_population else np.nan,
                    "past_small_piece_points": snap.n_past_small_piece,
                    "past_small_piece_population": float((demand.weight_all * snap.past_small_piece).sum())
                    if demand.has_population else np.nan,
                    "population_outside_units": float(demand.weight_all[demand.unit < 0].sum()),
                    "units_all_off_network": int(((off_w >= tot_w) & (tot_w > 0)).sum())})
    unclassified_df = unclassified if unclassified is not None else pd.DataFrame(columns=["name", "label"])
    return {"facilities": pd.DataFrame(rows), "network": pd.DataFrame(net_rows),
            "off_network": pd.DataFrame(off), "unclassified": pd.DataFrame(unclassified_df),
            "inputs": facility_and_unit_inputs(policy, facilities, units, demand, networks, area, options),
            "inputs_by_source": facilities_by_source(facilities, area, options,
                                                     getattr(networks.get("walk"), "crs", None))}
