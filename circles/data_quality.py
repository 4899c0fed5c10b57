"""The data-quality tables of a coverage run: what the inputs held and what reached the networks.

:func:`data_quality_tables` builds ``CoverageResult.data_quality``: facilities
per category (found, outside the study area, off each network, usable),
network size and pieces, people and units off the network, unclassified POIs,
and the inputs checked against the study area (:mod:`circles.inputs`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from circles.inputs import category_modes, facilities_by_source, facility_and_unit_inputs, inside_area

if TYPE_CHECKING:
    import geopandas as gpd

    from circles.coverage_result import AnalysisOptions, Demand
    from circles.network import Network
    from circles.policies import Policy


def facility_status(total: int, inside: int, on_network: int) -> str:
    """A category's facility status in words.

    Parameters
    ----------
    total : int
        Facilities of the category in the input.
    inside : int
        Of those, inside the study area.
    on_network : int
        Usable: within the maximum snap of the category's network.

    Returns
    -------
    str
        ``"no data"``, ``"all outside area"``, ``"none on network"`` or ``"ok"``.

    Examples
    --------
    >>> facility_status(0, 0, 0), facility_status(3, 0, 0), facility_status(3, 2, 0), facility_status(3, 2, 1)
    ('no data', 'all outside area', 'none on network', 'ok')
    """
    if total == 0:
        return "no data"
    if on_network == 0:
        return "all outside area" if inside == 0 else "none on network"
    return "ok"


def _facility_rows(policy: Policy, facilities: gpd.GeoDataFrame, counts: dict[str, int],
                   networks: dict[str, Network], area: Any) -> list[dict]:
    """One row per category required or found: counts inside/outside the area, on/off each network."""
    required = sorted(policy.categories)
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
        row["status"] = facility_status(int(counts.get(c, 0)), int(inside.sum()), on_net)
        rows.append(row)
    return rows


def _network_rows(networks: dict[str, Network]) -> list[dict]:
    """One row per network: size and how much lies outside its largest piece."""
    return [{"mode": mode, "nodes": n.n_nodes, "edges": n.n_edges,
             "components": n.report.get("components"),
             "nodes_outside_largest": n.report.get("nodes_outside_largest"),
             "share_outside_largest": round(n.report.get("share_outside_largest", 0.0), 4),
             "source": n.source} for mode, n in networks.items()]


def _off_network_rows(demand: Demand, n_units: int) -> list[dict]:
    """One row per network: demand points, people and units off it."""
    off = []
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
    return off


def data_quality_tables(policy: Policy, facilities: gpd.GeoDataFrame, counts: dict[str, int],
                        units: gpd.GeoDataFrame, demand: Demand, networks: dict[str, Network],
                        unclassified: pd.DataFrame | None, area: Any, options: AnalysisOptions) -> dict[str, pd.DataFrame]:
    """The data-quality tables of one coverage run.

    Parameters
    ----------
    policy : Policy
        The policy pack analysed.
    facilities : GeoDataFrame
        Facilities with ``feature_id`` and, per network, ``<mode>_off_network``.
    counts : dict of str to int
        Distinct facilities per category in the input.
    units : GeoDataFrame
        The units (only their number and area checks are used).
    demand : Demand
        Demand points, snapped to every network.
    networks : dict of str to Network
        The networks by mode.
    unclassified : DataFrame or None
        POIs in no category.
    area : shapely geometry or None
        The study area (EPSG:4326).
    options : AnalysisOptions
        The options the run used.

    Returns
    -------
    dict of str to DataFrame
        ``facilities``, ``network``, ``off_network``, ``unclassified``, ``inputs``
        and ``inputs_by_source`` (see :class:`circles.coverage.CoverageResult`).
    """
    unclassified_df = unclassified if unclassified is not None else pd.DataFrame(columns=["name", "label"])
    return {"facilities": pd.DataFrame(_facility_rows(policy, facilities, counts, networks, area)),
            "network": pd.DataFrame(_network_rows(networks)),
            "off_network": pd.DataFrame(_off_network_rows(demand, len(units))),
            "unclassified": pd.DataFrame(unclassified_df),
            "inputs": facility_and_unit_inputs(policy, facilities, units, demand, networks, area, options),
            "inputs_by_source": facilities_by_source(facilities, area, options,
                                                     getattr(networks.get("walk"), "crs", None))}
