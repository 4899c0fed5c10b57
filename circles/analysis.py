"""``circles.analyze``: from files (or objects) to a :class:`CoverageResult`.

This module resolves what the user gave — paths, GeoDataFrames, ids — into
networks, facilities, units, demand points and districts, then hands arrays
to :mod:`circles.coverage`.  The CLI and the notebooks call this same function.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from circles import settings
from circles._demand import build_demand
from circles._deprecation import renamed_keywords
from circles.areas import buffered, check_near_network, load_districts, study_area
from circles.classify import classification_counts
from circles.coverage import CoverageResult, compute_coverage
from circles.errors import InputError
from circles.network import Network, load_networks
from circles.policies import Policy
from circles.progress import step
from circles.units import MAX_POINT_UNIT_DISTANCE_M

if TYPE_CHECKING:
    import geopandas as gpd

    from circles.facilities import FacilitySet

log = logging.getLogger(__name__)

#: smallest and largest grid cell (metres) that make sense for walking circles
GRID_M_RANGE: tuple[float, float] = (10.0, 10_000.0)


# ------------------------------------------------------------------ inputs

def _resolve_networks(network, drive_network, *, needs_drive: bool,
                      options: dict | None = None) -> tuple[dict[str, Network], object]:
    """The networks of the run and the features of the network file (None for a
    Network object).  A file is read once for all of them (:func:`load_networks`).
    """
    if network is None:
        raise InputError("analyze needs a network: a path (.osm, .osm.pbf, .graphml, or a road line layer .shp/"
                         ".gpkg/.geojson) or a circles.Network; online, circles.fetch_network(place=...) gives one")
    options = {k: v for k, v in (options or {}).items() if v is not None}
    if options and isinstance(network, Network):
        raise InputError(f"network_options {sorted(options)} apply when the network is a file; this network "
                         f"is already loaded (pass them to circles.load_network instead)")
    features = None
    if isinstance(network, Network):
        walk = network if network.mode == "walk" else None
        drive = drive_network or (network if network.mode == "drive" else None)
        if walk is None:
            raise InputError("network must be a walk network (mode='walk'); pass the drive one as drive_network=")
    else:
        modes = ("walk", "drive") if needs_drive and drive_network is None else ("walk",)
        loaded, features = load_networks(network, modes=modes, **options)
        walk = loaded["walk"]
        drive = drive_network if drive_network is not None else loaded.get("drive")
    out = {"walk": walk}
    if needs_drive:
        if drive is None:
            raise InputError("the policy has a driving circle (emergency medical): pass drive_network=, "
                             "or give a network file so both modes can be loaded from it")
        out["drive"] = drive
    return out, features


def _osm_features(network, categories, file_features=None):
    """OSM features for the facilities: from the network file (``file_features``,
    read with the networks), or — for a network downloaded with
    :func:`circles.fetch_network` — from OpenStreetMap for the same area (cached
    beside the network; offline this fails fast).
    """
    if isinstance(network, Network):
        query = network.report.get("online_query")
        if not query:
            return None
        from circles.online import fetch_features

        return fetch_features(place=query.get("place"), bbox=query.get("bbox"), polygon=query.get("polygon"),
                              categories=categories, cache_dir=query.get("cache_dir"))
    if network is None or file_features is None:
        return None
    if len(file_features) == 0:
        log.warning("%s: the network file holds no facilities (a road line layer has none); give them with "
                    "facilities= (CLI --facilities)", network)
    return file_features


def _resolve_facilities(facilities, network, *, facilities_crs, columns: dict, osm_facilities: bool,
                        hospital_as_ambulance: bool, categories=None, file_features=None):
    """GeoDataFrame of facilities plus the unclassified rows (with their ``source``), from
    OSM (the network file, or OpenStreetMap for a downloaded network) and/or a user file.
    """
    import geopandas as gpd

    from circles.facilities import FacilitySet, facilities_from_features, read_facility_file

    sets: list = []
    features = _osm_features(network, categories, file_features) if osm_facilities else None
    if features is not None:
        sets.append(facilities_from_features(features, source="osm", hospital_as_ambulance=hospital_as_ambulance))
    if facilities is not None:
        if isinstance(facilities, FacilitySet):
            sets.append(facilities)
        elif isinstance(facilities, gpd.GeoDataFrame):
            missing = {"category", "geometry"} - set(facilities.columns)
            if missing:
                raise InputError(f"facilities GeoDataFrame lacks column(s) {sorted(missing)}; expected "
                                 f"facility_id, category, name, geometry (EPSG:4326)")
            gdf = facilities.to_crs("EPSG:4326").copy()
            if "facility_id" not in gdf:
                gdf["facility_id"] = [f"f{i}" for i in range(len(gdf))]
            if "feature_id" not in gdf:
                gdf["feature_id"] = gdf["facility_id"]
            if "name" not in gdf:
                gdf["name"] = ""
            sets.append(FacilitySet(facilities=gdf, unclassified=pd.DataFrame(columns=["name", "label"])))
        else:
            if facilities_crs is None:
                raise InputError(f"{facilities}: say which coordinate system the facilities file uses "
                                 f"(facilities_crs='wgs84' | 'gcj02' | 'bd09'; CLI --facilities-crs). Chinese web maps (Amap, "
                                 f"Tencent) publish GCJ-02 and Baidu BD-09; the difference in Wuhan is ~550 m")
            sets.append(read_facility_file(facilities, crs=facilities_crs, **columns))
    if not sets:
        empty = gpd.GeoDataFrame({"facility_id": [], "feature_id": [], "category": [], "name": [], "source": []},
                                 geometry=[], crs="EPSG:4326")
        return empty, pd.DataFrame(columns=["name", "label"])
    gdf = pd.concat([s.facilities for s in sets], ignore_index=True)
    gdf["lon"], gdf["lat"] = gdf.geometry.x.to_numpy(float), gdf.geometry.y.to_numpy(float)  # WGS84 (contract 4)
    gdf = gpd.GeoDataFrame(gdf, geometry="geometry", crs="EPSG:4326")
    unclassified = pd.concat([s.unclassified.assign(source=s.source) for s in sets], ignore_index=True)
    return gdf, unclassified


def coordinate_system_warning(network: Network, lon: np.ndarray, lat: np.ndarray, *, declared: str,
                              max_snap_m: float = settings.MAX_SNAP_M, what: str = "facilities",
                              flag: str = "--facilities-crs", parameter: str = "facilities_crs") -> str | None:
    """A warning when points declared WGS84 fit the network much better as GCJ-02.

    Chinese web-map coordinates are shifted ~500–600 m in Wuhan; read as WGS84
    they land in the wrong block.  Compares snap distances as given and after
    the GCJ-02→WGS84 correction.

    Parameters
    ----------
    network : Network
        The walk network the points are snapped to.
    lon, lat : numpy.ndarray
        The points as given.
    declared : str
        The coordinate system they were declared in; only ``wgs84`` is checked.
    max_snap_m : float
        Farthest snap onto the network.
    what, flag, parameter : str
        Name the input in the message (e.g. ``"candidate sites"``, ``"--candidates-crs"``,
        ``"load_candidates(crs=...)"``).

    Returns
    -------
    str or None
        The warning, or None when the points fit as declared (or GCJ-02 does not apply).
    """
    from circles.coords import gcj02_to_wgs84

    if declared.lower() not in ("wgs84", "epsg:4326") or len(lon) < 3:
        return None
    as_given = network.snap_lonlat(lon, lat, max_snap_m=max_snap_m, source="facilities")
    clon, clat = gcj02_to_wgs84(np.asarray(lon, float), np.asarray(lat, float))
    if np.allclose(clon, lon) and np.allclose(clat, lat):
        return None  # outside China: GCJ-02 does not apply
    corrected = network.snap_lonlat(clon, clat, max_snap_m=max_snap_m, source="facilities")
    off_given, off_corr = as_given.off_network.mean(), corrected.off_network.mean()
    med_given, med_corr = np.median(as_given.distance_m), np.median(corrected.distance_m)
    # dense streets keep shifted points near *a* street (median ~40 m in Optics Valley): a read that
    # puts them three times nearer is the telling sign
    if (off_given >= 0.5 and off_corr <= off_given / 2) or (med_given >= 50 and med_corr * 1.5 <= med_given) \
            or (med_given >= 20 and med_corr * 3 <= med_given):
        return (f"{off_given:.0%} of the {what} fall off the network as WGS84 (median snap {med_given:.0f} m), "
                f"but only {off_corr:.0%} (median {med_corr:.0f} m) if they are GCJ-02: the file looks like "
                f"GCJ-02 (Amap/Tencent) coordinates declared as WGS84 — pass {flag} gcj02 "
                f"(Python: {parameter}='gcj02')")
    return None


def _normalise_units(units, *, drop_missing: bool = False):
    """A user's GeoDataFrame of units in the data contract (EPSG:4326, unit_id,
    name, population, population_65plus), index kept so results stay aligned.

    ``unit_id`` comes from the user's id column (``unit_id``, ``社区编码``,
    ``id``, ``编号``, ``code`` …) and ``name`` from ``name``/``名称`` … when
    present; point units get ``lon``/``lat``.  Units without geometry are an
    error naming them, or with ``drop_missing`` are dropped and counted
    (``attrs["dropped_rows"]``).
    """
    from circles._tables import NAME_COLUMNS, find_column, id_columns

    if units.crs is None:
        raise InputError("units GeoDataFrame has no CRS; set it with .set_crs('EPSG:4326') (or the CRS it is in)")
    out = units.to_crs("EPSG:4326").copy()
    out.attrs = dict(units.attrs)
    bad = (out.geometry.isna() | out.geometry.is_empty).to_numpy()
    if bad.any() and not drop_missing:
        raise InputError(f"units: {int(bad.sum())} unit(s) have no geometry (rows {np.flatnonzero(bad)[:10].tolist()}); "
                         "fix them, or drop them with drop_missing=True (CLI --drop-missing)")
    if bad.any():
        out = out[~bad]
        out.attrs["dropped_rows"] = int(out.attrs.get("dropped_rows", 0)) + int(bad.sum())
    if "unit_id" not in out:
        id_col = find_column(out, None, id_columns("units"), what="id", option="id", source="units")
        out["unit_id"] = (out[id_col].astype(str) if id_col is not None
                          else [f"u{i:06d}" for i in range(1, len(out) + 1)])
    dup = out["unit_id"][out["unit_id"].duplicated()]
    if len(dup):
        raise InputError(f"units: duplicate unit_id values {sorted(map(str, dup.unique()))[:10]}; ids must be unique")
    if "name" not in out:
        name_col = find_column(out, None, NAME_COLUMNS, what="name", option="name", source="units")
        out["name"] = out[name_col].fillna("").astype(str) if name_col is not None else ""
    for column, default in (("population", np.nan), ("population_65plus", np.nan)):
        if column not in out:
            out[column] = default
    if len(out) and (out.geometry.geom_type == "Point").all() and "lon" not in out:
        out["lon"], out["lat"] = out.geometry.x.to_numpy(), out.geometry.y.to_numpy()
    return out


def _select_user_units(units, area, walk: Network, *, level: str, max_snap_m: float):
    """The user's units inside the study area at one level, and the report of what was dropped."""
    from circles.unit_area import select_units

    attrs = dict(units.attrs)
    kept, report = select_units(units, area, metric_crs=walk.crs, level=level,
                                source=attrs.get("source", "units"))
    kept = kept.copy()
    kept.attrs = attrs
    report.update(source=Path(attrs["source"]).name if attrs.get("source") else "units",
                  rows_read=int(attrs.get("rows_read", report["total"] + attrs.get("dropped_rows", 0))),
                  dropped_missing=int(attrs.get("dropped_rows", 0)), max_snap_m=float(max_snap_m))
    report["off_network"], report["nearest_network_m"] = _units_off_network(kept, walk, max_snap_m)
    return kept, report


def _units_off_network(units, walk: Network, max_snap_m: float) -> tuple[int, float]:
    """(units farther than ``max_snap_m`` from every walk-network node, distance of the nearest unit).

    Points: their snap distance.  Polygons: the distance from the polygon (not its centre) to the
    nearest node, so a large neighbourhood with streets inside is never "off network".
    """
    import shapely

    if not len(units):
        return 0, float("nan")
    if (units.geom_type == "Point").all():
        snap = walk.snap_lonlat(units.geometry.x.to_numpy(), units.geometry.y.to_numpy(), max_snap_m=max_snap_m,
                                source="units")
        return int(np.asarray(snap.off_network).sum()), float(np.min(snap.distance_m))
    polys = units.to_crs(walk.crs).geometry.to_numpy()
    tree = shapely.STRtree(shapely.points(walk.x[walk.main_nodes], walk.y[walk.main_nodes]))  # as snapping does
    nearest_node = tree.nearest(polys)
    dist = shapely.distance(polys, tree.geometries[nearest_node])
    return int((dist > max_snap_m).sum()), float(dist.min())


def _add_units_quality(result, report: dict) -> None:
    """``data_quality["units"]`` (what happened to the units) and the units row of
    ``data_quality["inputs"]`` (shared contract 3), replacing any units row there.
    """
    from circles.unit_area import quality_frames

    sheet, row = quality_frames(report)
    result.data_quality["units"] = sheet
    inputs = result.data_quality.get("inputs")
    if isinstance(inputs, pd.DataFrame) and len(inputs.columns):
        inputs = inputs[inputs["input"] != "units"] if "input" in inputs else inputs
        row = pd.concat([inputs, row], ignore_index=True)
    result.data_quality["inputs"] = row


def _check_zones(policy, districts, assumptions: list) -> None:
    """Zones in the districts layer must be ones the policy knows; missing ones are stated."""
    zoned = [c for c in policy.circles if c.zone_thresholds_min]
    if not zoned:
        return
    if districts is not None and districts["zone"].isna().all():
        for c in zoned:
            zones = ", ".join(f"{z} {m:g} min" for z, m in sorted(c.zone_thresholds_min.items()))
            assumptions.append(f"WARNING: {c.id}: the districts file (--districts) has no `zone` column (or it is "
                               f"empty), so every unit uses the default zone {c.default_zone!r}: "
                               f"{c.effective_threshold(None):g} min everywhere; add a column `zone` giving "
                               f"each district one of: {zones}")
        return
    if districts is None:
        for c in zoned:
            assumptions.append(f"{c.id}: no districts layer with a zone column; every unit uses the "
                               f"default zone {c.default_zone!r} ({c.effective_threshold(None):g} min)")
        return
    known = set().union(*(c.zone_thresholds_min for c in zoned))
    zones = districts["zone"]
    unknown = sorted({z for z in zones.dropna() if str(z).strip() and z not in known})
    if unknown:
        raise InputError(f"districts (--districts): zone value(s) {unknown} are not in the policy's zone thresholds "
                         f"{sorted(known)}; rename them in the zone column (e.g. 中心城区 → central)")
    empty = districts.loc[zones.isna() | (zones.astype(str).str.strip() == ""), "district"].tolist()
    if empty:
        for c in zoned:
            assumptions.append(f"{c.id}: districts {empty} have no zone; they use the default zone "
                               f"{c.default_zone!r} ({c.effective_threshold(None):g} min)")


@dataclass(frozen=True)
class UnitsRequest:
    """What :func:`analyze` was asked for its neighbourhood units: the ``units*`` and ``grid*``
    keywords in one record, read by each step that builds the units (internal).
    """

    units: Any = None
    units_crs: str | None = None
    drop_missing: bool = False
    units_level: str = "auto"
    units_max_distance_m: float = MAX_POINT_UNIT_DISTANCE_M
    units_id_column: str | None = None
    units_name_column: str | None = None
    grid_m: float | None = None
    grid_shape: str = "square"

    @property
    def from_osm(self) -> bool:
        """``units="osm"``: the network file's residential polygons.

        Returns
        -------
        bool
        """
        return isinstance(self.units, str) and self.units == "osm"

    @property
    def from_user(self) -> bool:
        """Units the user gave (a file or a GeoDataFrame), not a grid or OSM polygons.

        Returns
        -------
        bool
        """
        return self.units is not None and not self.from_osm

    @property
    def from_file(self) -> bool:
        """Units read from a file (their coordinate system is ``units_crs``).

        Returns
        -------
        bool
        """
        return self.from_user and not isinstance(self.units, _geodataframe_type())


def _geodataframe_type() -> type:
    import geopandas as gpd

    return gpd.GeoDataFrame


def _check_arguments(req: UnitsRequest, *, population, population_65plus, walk_speeds: Sequence[float]) -> list[float]:
    """Fail fast on keyword values no step could use; the walking speeds as floats."""
    grid_m, grid_shape = req.grid_m, req.grid_shape
    if population_65plus is not None and population is None:
        raise InputError("population_65plus (--population-65plus) needs population (--population) too: the 65+ "
                         "raster weights the elderly circle, the main raster everyone else")
    if grid_m is not None and not (np.isfinite(grid_m) and grid_m > 0):
        raise InputError(f"grid cell size (grid_m, CLI --grid-m) must be a positive number of metres, got "
                         f"{grid_m!r}; use 100–500 m (default {settings.GRID_CELL_M:g})")
    if grid_m is not None and not (GRID_M_RANGE[0] <= grid_m <= GRID_M_RANGE[1]):
        raise InputError(f"grid cell size (grid_m, CLI --grid-m) {grid_m:g} m is outside {GRID_M_RANGE[0]:g}–"
                         f"{GRID_M_RANGE[1]:g} m: coarser cells hide who is within a 10–15 minute walk (~1 km), "
                         f"finer ones only multiply the work; use 100–500 m (default {settings.GRID_CELL_M:g})")
    if grid_shape not in ("square", "hexagon"):
        raise InputError(f"grid_shape (CLI --grid-shape) must be 'square' or 'hexagon', got {grid_shape!r}")
    speeds = [float(v) for v in walk_speeds]
    if any(not (np.isfinite(v) and v > 0) for v in speeds):
        raise InputError(f"walk speeds (CLI --walk-speeds) must be finite and > 0 m/min, got {list(walk_speeds)}")
    return speeds


def _facilities_with_notes(facilities, network, walk: Network, *, facilities_crs, facility_columns,
                           osm_facilities: bool, hospital_as_ambulance: bool, categories, file_features,
                           max_snap_m: float, assumptions: list[str]):
    """The facilities of the run (:func:`_resolve_facilities`) and what to say about them: OSM
    schools assumed primary, and a user file whose numbers look like GCJ-02 declared as WGS84.
    """
    fac, unclassified = _resolve_facilities(
        facilities, network, facilities_crs=facilities_crs, columns=facility_columns or {},
        osm_facilities=osm_facilities, hospital_as_ambulance=hospital_as_ambulance, categories=categories,
        file_features=file_features)
    if "basis" in fac:
        from circles.classify import ASSUMED_PRIMARY_BASIS

        n_assumed = int((fac["basis"] == ASSUMED_PRIMARY_BASIS).sum())
        if n_assumed:
            assumptions.append(f"{n_assumed} OSM school(s) with no level in their tags or names counted as primary "
                               f"schools (see the classification sheet)")
    if facilities is not None and not isinstance(facilities, _geodataframe_type()) and facilities_crs is not None:
        user = fac[fac["source"] != "osm"] if "source" in fac else fac
        warning = coordinate_system_warning(walk, user.geometry.x.to_numpy(), user.geometry.y.to_numpy(),
                                            declared=facilities_crs, max_snap_m=max_snap_m)
        if warning:
            log.warning(warning)
            assumptions.append("WARNING: " + warning)
    return fac, unclassified


def _unit_frame(req: UnitsRequest, area_geom, walk: Network, *, network_path, file_features,
                assumptions: list[str]):
    """The units as asked: a grid over the area, the user's frame or file, or OSM residential polygons."""
    from circles.units import grid_units, load_units

    if req.units is None:
        grid_m = settings.GRID_CELL_M if req.grid_m is None else float(req.grid_m)
        assumptions.append(f"units: a {grid_m:g} m {req.grid_shape} grid over the study area")
        return grid_units(area_geom, metric_crs=walk.crs, grid_m=grid_m, shape=req.grid_shape)
    if isinstance(req.units, _geodataframe_type()):
        return _normalise_units(req.units, drop_missing=req.drop_missing)
    if req.from_osm:
        if network_path is None:
            raise InputError("units='osm' reads landuse=residential polygons from the network file; "
                             "pass the network as a path, or pass units as a GeoDataFrame")
        from circles.units import units_from_osm_residential

        assumptions.append("units: OSM landuse=residential polygons (people outside them are reported)")
        return units_from_osm_residential(file_features)
    return load_units(req.units, units_crs=req.units_crs, drop_missing=req.drop_missing,
                      id_column=req.units_id_column, name_column=req.units_name_column)


def _units_in_area(req: UnitsRequest, unit_frame, area, area_geom, walk: Network, *, max_snap_m: float):
    """(study area, units, units report): the user's polygons become the study area when none is
    given; the user's units are checked against the network and cut to the area at one level.
    """
    polygons = bool(unit_frame.geom_type.isin(["Polygon", "MultiPolygon"]).all())
    if req.from_user and area is None and polygons:
        # the user's neighbourhoods are the study area (OSM residential polygons are not:
        # people outside them must stay visible as "outside units")
        area_geom = unit_frame.to_crs("EPSG:4326").geometry.union_all()
    if area is not None:
        import geopandas as gpd

        check_near_network(walk, gpd.GeoSeries([area_geom], crs="EPSG:4326"), what="study area",
                           source=area if isinstance(area, (str, Path)) else "area", flag="--area",
                           max_snap_m=max_snap_m, crs_hint="the CRS declared in the file")
    if not req.from_user:
        return area_geom, unit_frame, None
    if polygons:  # points: _select_user_units says why
        check_near_network(walk, unit_frame.geometry, what="units",
                           source=req.units if isinstance(req.units, (str, Path)) else "units", flag="--units",
                           max_snap_m=max_snap_m, crs_hint="--units-crs, or the CRS declared in the file")
    hull = area is None and not walk.report.get("file_bounds") and not polygons
    unit_frame, report = _select_user_units(unit_frame, buffered(area_geom, walk, max_snap_m) if hull else area_geom,
                                            walk, level=req.units_level, max_snap_m=max_snap_m)
    return area_geom, unit_frame, report


def _demand_with_notes(req: UnitsRequest, pol, unit_frame, area, area_geom, walk: Network, *, population,
                       population_65plus, dist_frame, units_report, assumptions: list[str]):
    """(units, demand) with the population, and the sentences about the units and the people."""
    if not (np.isfinite(req.units_max_distance_m) and req.units_max_distance_m > 0):
        raise InputError(f"units_max_distance_m (CLI --units-max-distance-m) must be a positive number of metres, "
                         f"got {req.units_max_distance_m!r}")
    unit_frame, demand = build_demand(unit_frame, area_geom, walk, population=population,
                                       population_65plus=population_65plus, districts=dist_frame,
                                       assumptions=assumptions, max_distance_m=req.units_max_distance_m,
                                       report=units_report)
    if units_report is not None:
        from circles.unit_area import report_sentences

        assumptions.extend(report_sentences(units_report))
    if req.units is not None:  # warnings first in the assumptions (the CLI prints them in yellow)
        from circles.unit_area import units_warnings

        reference = area_geom if area is not None else study_area(walk)
        for text in reversed(units_warnings(unit_frame, demand, units_report, reference=reference,
                                            metric_crs=walk.crs, polygons=req.from_user,
                                            where="the study area (--area)" if area is not None
                                            else "the network's extent (--network)")):
            assumptions.insert(0, "WARNING: " + text)
    if population is not None and population_65plus is None and any(c.population == "65plus" for c in pol.circles):
        assumptions.append("no 65+ population raster: circles for residents 65+ are weighted by the whole "
                           "population (give --population-65plus)")
    if population is None and not demand.has_population:
        assumptions.append("no population data: each unit counts once; shares are shares of units")
    return unit_frame, demand


@renamed_keywords(crs="facilities_crs")
def analyze(
    network: str | Path | Network | None = None,
    *,
    policy: str | Path | Policy = "wuhan-2022",
    drive_network: Network | None = None,
    network_options: dict | None = None,
    facilities: str | Path | gpd.GeoDataFrame | FacilitySet | None = None,
    facilities_crs: str | None = None,
    facility_columns: dict | None = None,
    osm_facilities: bool = True,
    hospital_as_ambulance: bool = False,
    units: str | Path | gpd.GeoDataFrame | None = None,
    units_crs: str | None = None,
    drop_missing: bool = False,
    units_level: str = "auto",
    units_max_distance_m: float = MAX_POINT_UNIT_DISTANCE_M,
    units_id_column: str | None = None,
    units_name_column: str | None = None,
    grid_m: float | None = None,
    grid_shape: str = "square",
    area: Any = None,
    population: str | Path | None = None,
    population_65plus: str | Path | None = None,
    districts: str | Path | gpd.GeoDataFrame | None = None,
    walk_speeds: Sequence[float] = (),
    max_snap_m: float = settings.MAX_SNAP_M,
    covered_min: float = settings.COVERED_SHARE_MIN,
    uncovered_max: float = settings.UNCOVERED_SHARE_MAX,
    progress: bool = False,
) -> CoverageResult:
    """Score every neighbourhood unit against every circle of a policy pack.

    The keywords come in groups, each named as its CLI flag (``facilities_crs`` is
    ``--facilities-crs``): the network, the policy, the facilities, the units
    (``units*`` and ``grid*``), the people and districts, and the thresholds.

    Parameters
    ----------
    network : path or Network
        An OSM file (.osm, .osm.pbf, .graphml) — walk and drive networks and
        the OSM facilities are all read from it —, a road line layer (.shp,
        .gpkg, .geojson in any CRS; no facilities), or a walk :class:`Network`
        (one from :func:`circles.fetch_network` also gets the OSM facilities
        of its area, downloaded and cached).
    policy : str, path or Policy
        A packaged id (``"wuhan-2022"``, ``"gb50180-2018"``) or a pack file.
    drive_network : Network, optional
        The driving network for the emergency circle when ``network`` is an object.
    network_options : dict, optional
        For a road line layer, keywords of :func:`circles.load_network`:
        ``layer``, ``crs``, ``oneway_column``, ``speed_column``,
        ``class_column`` (CLI ``--network-layer``, ``--network-crs``,
        ``--oneway-column``, ``--speed-column``, ``--class-column``).
    facilities : path, GeoDataFrame or FacilitySet, optional
        Facilities from a user file (CSV/TSV/XLSX/GeoJSON/GeoPackage/Shapefile) in
        ``facilities_crs``.  Added to the facilities found in the OSM file unless
        ``osm_facilities=False``.
    facilities_crs : {"wgs84", "gcj02", "bd09"}, optional
        Coordinate system of a facilities file (CLI ``--facilities-crs``;
        formerly ``crs``, still accepted with a DeprecationWarning).
    facility_columns : dict, optional
        Keywords of :func:`circles.facilities.read_facility_file` when
        ``facilities`` is a path: ``lon_column``, ``lat_column``,
        ``category_column``, ``name_column``, ``id_column``, ``sheet`` (Excel
        sheet name or 0-based position; CLI ``--facilities-sheet``).
    osm_facilities : bool, default True
        Also use the facilities of the OSM file.
    hospital_as_ambulance : bool, default False
        Count OSM hospitals as ambulance stations.
    units : path, GeoDataFrame or "osm", optional
        Neighbourhood polygons (or points); ``"osm"``: the ``landuse=residential``
        polygons of the network file.  Default: a ``grid_m`` grid over the study area.
    units_crs : str, optional
        Coordinate system of a units file (CLI ``--units-crs``).
    drop_missing : bool, default False
        Drop units without coordinates/geometry (counted and reported) instead
        of raising an error that names them (CLI ``--drop-missing``).
    units_level : str, default "auto"
        For a units file with a ``level`` column (an official list mixing
        communities, sub-districts and districts): ``"auto"`` keeps the finest
        level with a unit inside the study area, ``"all"`` keeps every row,
        or name the value(s) to keep, e.g. ``"village"`` (CLI ``--units-level``).
        User units outside the study area are always dropped and counted.
    units_max_distance_m : float, default 1000
        Point units: a raster cell's people go to the nearest unit point
        within this distance; farther cells are in no unit (counted)
        (CLI ``--units-max-distance-m``).
    units_id_column, units_name_column : str, optional
        Id and name columns of a units file (default found by name: unit_id,
        社区编码, code, 编号 …; name, 名称 …).
    grid_m : float, optional
        Cell size of the generated grid in metres (default 250; CLI ``--grid-m``).
    grid_shape : {"square", "hexagon"}
        Shape of the generated grid's cells.
    area : bbox tuple, shapely polygon or path, optional
        Study area; default the OSM file's bounds or a hull of the network.
    population, population_65plus : path, optional
        Persons-per-cell rasters (e.g. WorldPop).  Without them the units'
        ``population`` columns are used, or each unit counts once.
    districts : path or GeoDataFrame, optional
        District polygons with a ``zone`` column (``central`` / ``new_urban``).
    walk_speeds : sequence of float
        Extra walking speeds (m/min) for the sensitivity table.
    max_snap_m, covered_min, uncovered_max : float
        Farthest snap to the network, and the covered / uncovered shares of a unit.
    progress : bool, default False
        Show progress bars.

    Returns
    -------
    CoverageResult
        Per unit and circle: minutes, covered share and status; the summary,
        data-quality tables, assumptions and timings.
    """
    from circles.policies import load_policy

    req = UnitsRequest(units=units, units_crs=units_crs, drop_missing=drop_missing, units_level=units_level,
                       units_max_distance_m=units_max_distance_m, units_id_column=units_id_column,
                       units_name_column=units_name_column, grid_m=grid_m, grid_shape=grid_shape)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    speeds = _check_arguments(req, population=population, population_65plus=population_65plus,
                              walk_speeds=walk_speeds)
    pol = policy if isinstance(policy, Policy) else load_policy(policy)
    network_path = None if isinstance(network, Network) else network
    with step("networks", timings, key="networks_s") as now:
        networks, file_features = _resolve_networks(network, drive_network, options=network_options,
                                                    needs_drive=any(c.mode == "drive" for c in pol.circles))
        walk = networks["walk"]
        now.detail = ", ".join(f"{mode} {len(net.node_id):,} nodes" for mode, net in networks.items())
    assumptions: list[str] = []

    with step("facilities", timings, key="facilities_s") as now:
        fac, unclassified = _facilities_with_notes(
            facilities, network, walk, facilities_crs=facilities_crs, facility_columns=facility_columns,
            osm_facilities=osm_facilities, hospital_as_ambulance=hospital_as_ambulance,
            categories=sorted({c for circle in pol.circles for r in circle.requirements for c in r.categories}),
            file_features=file_features, max_snap_m=max_snap_m, assumptions=assumptions)
        now.detail = f"{len(fac):,} classified"
    with step("units and population", timings, key="units_s") as now:
        unit_frame, demand, dist_frame, area_geom, units_report = _units_and_demand(
            req, pol, walk, area, units, network_path=network_path, file_features=file_features, districts=districts,
            population=population, population_65plus=population_65plus, max_snap_m=max_snap_m,
            assumptions=assumptions)
        now.detail = f"{len(unit_frame):,} units, {len(demand):,} demand points"

    with step("coverage", timings, key="coverage_s"):
        user_file = facilities is not None and not isinstance(facilities, _geodataframe_type())
        result = compute_coverage(
            pol, networks, fac, unit_frame, demand, walk_speeds=speeds, max_snap_m=max_snap_m,
            covered_min=covered_min, uncovered_max=uncovered_max, progress=progress, assumptions=assumptions,
            unclassified=unclassified, districts=dist_frame, area=area_geom,
            facilities_crs=facilities_crs if user_file else None, units_crs=units_crs if req.from_file else None)
        result.data_quality["classification"] = classification_counts(fac, unclassified)
    timings["total_s"] = time.perf_counter() - t0
    result.timings.update(timings)
    if units_report is not None:
        _add_units_quality(result, units_report)
    return result


def _units_and_demand(req: UnitsRequest, pol: Any, walk: Network, area: Any, units: Any, *, network_path: Any,
                      file_features: Any, districts: Any, population: Any, population_65plus: Any,
                      max_snap_m: float, assumptions: list[str]) -> tuple:
    """The units inside the study area, their districts and the demand points (population) in them."""
    area_geom = study_area(walk, area)
    if area is None and not walk.report.get("file_bounds") and not isinstance(units, (_geodataframe_type(), Path)) \
            and not (isinstance(units, str) and units != "osm"):
        assumptions.append("study area: a hull around the walk network (the network file declares no bounds); "
                           "pass area= (CLI --area) to set it")
    unit_frame = _unit_frame(req, area_geom, walk, network_path=network_path, file_features=file_features,
                             assumptions=assumptions)
    area_geom, unit_frame, units_report = _units_in_area(req, unit_frame, area, area_geom, walk,
                                                         max_snap_m=max_snap_m)
    dist_frame = load_districts(districts) if districts is not None else None
    _check_zones(pol, dist_frame, assumptions)
    unit_frame, demand = _demand_with_notes(req, pol, unit_frame, area, area_geom, walk, population=population,
                                            population_65plus=population_65plus, dist_frame=dist_frame,
                                            units_report=units_report, assumptions=assumptions)
    return unit_frame, demand, dist_frame, area_geom, units_report
