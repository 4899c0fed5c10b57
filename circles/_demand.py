"""The people of an analysis: demand points (raster cells, or one per unit) with their
weights, unit, district and zone, as :class:`circles.coverage.Demand`.

Used by :func:`circles.analyze` once the units are known.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from circles.coverage import Demand
from circles.errors import InputError
from circles.network import Network
from circles.units import MAX_POINT_UNIT_DISTANCE_M

if TYPE_CHECKING:
    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry

log = logging.getLogger("circles.analysis")  # the messages keep the logger they always had


def _join_points(lon, lat, polygons, columns: Sequence[str]) -> dict[str, np.ndarray]:
    """For each point, the columns of the first polygon containing it (None if none)."""
    import geopandas as gpd

    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    joined = gpd.sjoin(pts, polygons[list(columns) + ["geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")].sort_index()
    return {c: joined[c].astype(object).where(joined[c].notna(), None).to_numpy(object) for c in columns}


def build_demand(units: gpd.GeoDataFrame, area: BaseGeometry, network: Network, *,
                 population: str | Path | None, population_65plus: str | Path | None,
                 districts: gpd.GeoDataFrame | None, assumptions: list[str],
                 max_distance_m: float = MAX_POINT_UNIT_DISTANCE_M,
                 report: dict | None = None) -> tuple[gpd.GeoDataFrame, Demand]:
    """Demand points and units with population, district and zone.

    With a raster, its settled cells are allocated to units (point units: the
    nearest unit point within ``max_distance_m``); the persons allocated and
    those in no unit go into ``report`` (when given).

    Parameters
    ----------
    units : geopandas.GeoDataFrame
        The units of the run (data contract).
    area : shapely geometry
        The study area (EPSG:4326); the raster's cells inside it are read.
    network : Network
        The walk network (its CRS measures distances).
    population, population_65plus : path, optional
        The rasters; without them one demand point per unit, weighted by its
        ``population`` column (or 1 each).
    districts : geopandas.GeoDataFrame, optional
        From :func:`circles.areas.load_districts`.
    assumptions : list of str
        Appended to: what was assumed about the people.
    max_distance_m : float
        Point units: farthest cell that joins a unit point.
    report : dict, optional
        Updated with the persons allocated and unassigned.

    Returns
    -------
    units : geopandas.GeoDataFrame
        With population, ``district`` and ``zone``.
    demand : Demand
        The people at points, with their unit, district and zone.
    """
    from circles.units import _unit_kind, assign_population

    n_units = len(units)
    if population is not None:
        from circles.population import demand_from_rasters

        points = demand_from_rasters(population, area, population_65plus=population_65plus)
        given = pd.to_numeric(units["population"], errors="coerce")
        if given.notna().any():
            # coverage is computed from the raster's people, so the table must show the same people
            assumptions.append("the units' own population column was replaced by the raster's people "
                               "(coverage is computed from the raster); omit the raster to use your column")
        units, unit_index = assign_population(units, points, metric_crs=network.crs, overwrite=True,
                                              max_distance_m=max_distance_m)
        if report is not None:
            report.update(
                kind=_unit_kind(units), max_distance_m=float(max_distance_m), has_65plus=population_65plus is not None,
                population_allocated=float(units["population"].sum()),
                population_unassigned=float(units.attrs.get("population_outside_units", 0.0)),
                population_65plus_allocated=float(units["population_65plus"].sum()),
                population_65plus_unassigned=float(units.attrs.get("population_65plus_outside_units", 0.0)),
                cells_unassigned=int(units.attrs.get("demand_points_outside_units", 0)))
        lon, lat = points.lon, points.lat
        w_all = points.population
        # without a 65+ layer the elderly circle is weighted by everyone (said in the assumptions)
        w_65 = points.population_65plus if population_65plus is not None else points.population.copy()
        has_population = True
    else:
        # no raster: one demand point per unit (its representative point)
        metric = units.to_crs(network.crs)
        rep = metric.geometry.representative_point().to_crs("EPSG:4326")
        lon, lat = rep.x.to_numpy(), rep.y.to_numpy()
        unit_index = np.arange(n_units)
        pop = pd.to_numeric(units["population"], errors="coerce").to_numpy(float)
        has_population = not np.isnan(pop).all()
        if has_population and np.isnan(pop).any():
            missing = units["unit_id"].to_numpy()[np.isnan(pop)]
            raise InputError(f"units: {missing.size} unit(s) have no population (unit_id {missing[:10].tolist()}"
                             f"{'…' if missing.size > 10 else ''}) while the others do; fill them in (0 is allowed) "
                             f"or give a population raster (--population)")
        if not has_population:
            log.warning("no population given: each unit counts as one person-equivalent (shares are of units)")
            pop = np.ones(n_units)
        w_all = pop
        pop65 = pd.to_numeric(units["population_65plus"], errors="coerce").to_numpy(float)
        if np.isnan(pop65).all():
            w_65 = w_all.copy()
            if has_population:
                assumptions.append("no 65+ population: circles for residents 65+ are weighted by the whole "
                                   "population (add a population_65plus column or --population-65plus)")
        else:
            w_65 = np.nan_to_num(pop65, nan=0.0)
    if districts is not None:
        joined = _join_points(lon, lat, districts, ["district", "zone"])
        district, zone = joined["district"], joined["zone"]
        rep = units.to_crs(network.crs).geometry.representative_point().to_crs("EPSG:4326")
        ujoin = _join_points(rep.x.to_numpy(), rep.y.to_numpy(), districts, ["district", "zone"])
        units = units.copy()
        units["district"], units["zone"] = ujoin["district"], ujoin["zone"]
    else:
        district = np.full(len(lon), None, dtype=object)
        zone = np.full(len(lon), None, dtype=object)
        units = units.copy()
        units["district"], units["zone"] = None, None
    demand = Demand(lon=np.asarray(lon, float), lat=np.asarray(lat, float), weight_all=np.asarray(w_all, float),
                    weight_65plus=np.asarray(w_65, float), unit=np.asarray(unit_index, np.int64),
                    district=district, zone=zone, has_population=has_population)
    return units, demand
