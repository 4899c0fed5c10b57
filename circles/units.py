"""Neighbourhood units: the areas (or points) whose coverage is reported.

Every function returns a GeoDataFrame that follows the data contract
(DESIGN.md): columns ``unit_id`` (unique str), ``name``, ``population``,
``population_65plus`` and ``geometry`` (all polygons or all points), CRS
EPSG:4326.  Population columns are NaN ("not known yet") until the user
supplies them or :func:`assign_population` fills them from demand points.

Sources of units
----------------
* :func:`grid_units` -- a square or hexagonal grid generated over an area;
* :func:`load_units` (:mod:`circles.unit_files`) -- polygons from GeoJSON /
  GeoPackage / Shapefile, or points from a CSV/TSV/Excel table with lon/lat
  columns (WGS84, GCJ-02 or BD-09);
* :func:`units_from_osm_residential` -- ``landuse=residential`` polygons of
  an OSM extract.
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from circles._deprecation import renamed_keywords
from circles.errors import InputError, NoDataError
from circles.population import DemandPoints, _as_area
from circles.settings import GRID_CELL_M

log = logging.getLogger(__name__)

__all__ = [
    "UNIT_COLUMNS",
    "assign_population",
    "grid_units",
    "load_units",
    "units_from_osm_residential",
]

#: Columns every units frame carries (besides ``geometry``), in this order.
UNIT_COLUMNS: tuple[str, ...] = ("unit_id", "name", "population", "population_65plus")

#: Most cells :func:`grid_units` will generate before asking for a larger cell.
MAX_GRID_CELLS: int = 2_000_000

#: Default distance within which a demand point joins the nearest point unit.
MAX_POINT_UNIT_DISTANCE_M: float = 1000.0



# ---------------------------------------------------------------- helpers


def _metric_crs(crs, *, parameter: str = "crs") -> CRS:
    """A projected CRS in metres, or InputError saying how to pick one."""
    if crs is None:
        raise InputError(
            f"{parameter} is required: a projected CRS in metres for distance work, "
            "e.g. 'EPSG:32650' (UTM 50N) for Wuhan."
        )
    try:
        out = CRS.from_user_input(crs)
    except Exception as exc:
        raise InputError(f"{parameter}={crs!r} is not a CRS pyproj understands ({exc}).") from exc
    unit = out.axis_info[0].unit_name if out.axis_info else ""
    if not out.is_projected or unit not in ("metre", "meter"):
        raise InputError(
            f"{parameter}={crs!r} is not a projected CRS in metres (it is "
            f"{'geographic' if out.is_geographic else unit or 'unknown'}); pass the local UTM zone, "
            "e.g. 'EPSG:32650' for Wuhan."
        )
    return out


def _polygonal(geom):
    """Keep the polygonal part of a geometry (make_valid may return a collection)."""
    if geom is None or geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return shapely.Polygon()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(
        [p for g in parts for p in shapely.get_parts(g)]
    )


def _rows(index, limit: int = 10) -> str:
    items = list(index)
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f" … ({len(items)} in all)" if len(items) > limit else "")


def _unit_kind(units: gpd.GeoDataFrame, *, source: str = "units") -> str:
    """'polygon' or 'point', or InputError for mixed / other geometry."""
    types = set(units.geometry.geom_type.dropna().unique())
    if types <= {"Polygon", "MultiPolygon"} and types:
        return "polygon"
    if types <= {"Point"} and types:
        return "point"
    raise InputError(
        f"{source}: geometry types {sorted(types) or ['none']}; expected all polygons "
        "(Polygon/MultiPolygon) or all points. Split the file, or buffer lines into polygons."
    )


# ---------------------------------------------------------------- grid


def _square_cells(bounds, grid_m: float):
    minx, miny, maxx, maxy = bounds
    i0, i1 = int(np.floor(minx / grid_m)), int(np.ceil(maxx / grid_m))
    j0, j1 = int(np.floor(miny / grid_m)), int(np.ceil(maxy / grid_m))
    return i0, i1, j0, j1


def _hexagon_cells(bounds, grid_m: float):
    """Pointy-top hexagons, flat-to-flat width ``grid_m``, on a lattice anchored at (0, 0)."""
    minx, miny, maxx, maxy = bounds
    r = grid_m / np.sqrt(3.0)  # circumradius
    dy = 1.5 * r
    j0, j1 = int(np.floor((miny - r) / dy)), int(np.ceil((maxy + r) / dy))
    i0, i1 = int(np.floor((minx - grid_m) / grid_m)), int(np.ceil((maxx + grid_m) / grid_m))
    return i0, i1, j0, j1, r, dy


@renamed_keywords(crs="metric_crs", cell_m="grid_m")
def grid_units(
    area_wgs84: Any,
    *,
    metric_crs: Any,
    grid_m: float = GRID_CELL_M,
    shape: str = "square",
    clip: bool = True,
) -> gpd.GeoDataFrame:
    """Cover an area with a regular grid of units.

    The lattice is anchored at the origin of ``metric_crs`` (cell edges at multiples
    of ``grid_m``), so the same cell has the same geometry whatever area it is
    generated for.  With ``clip=True`` (default) border cells are cut to the
    area, so the cells tile the area exactly: every point of the area lies in
    exactly one cell (boundaries aside) and no cell reaches across a district
    line or the city edge.  With ``clip=False`` whole cells are kept; they
    still cover every point of the area once.

    Parameters
    ----------
    area_wgs84 : shapely Polygon or MultiPolygon
        Area in EPSG:4326.
    metric_crs : CRS-like
        Projected metric CRS the grid is laid out in, e.g. ``"EPSG:32650"``
        (formerly ``crs``, still accepted with a DeprecationWarning).
    grid_m : float, default settings.GRID_CELL_M (250)
        Distance in metres between the centres of neighbouring cells: the side
        of a square, the flat-to-flat width of a hexagon (hexagon area
        ``sqrt(3)/2 * grid_m**2``; formerly ``cell_m``, still accepted with a
        DeprecationWarning; CLI ``--grid-m``).
    shape : {"square", "hexagon"}
        Cell shape; hexagons are pointy-top.
    clip : bool, default True
        Cut border cells to the area.

    Returns
    -------
    geopandas.GeoDataFrame
        ``unit_id`` (``g000001``, …, ordered south to north, west to east),
        ``name`` (= ``unit_id``), ``population`` and ``population_65plus``
        (NaN until :func:`assign_population`), ``area_m2`` (in ``metric_crs``),
        geometry; CRS EPSG:4326.
    """
    area = _as_area(area_wgs84)
    metric = _metric_crs(metric_crs, parameter="metric_crs")
    if not np.isfinite(grid_m) or grid_m <= 0:
        raise InputError(f"grid_m={grid_m!r}; expected a positive number of metres, e.g. 250.")
    if shape not in ("square", "hexagon"):
        raise InputError(f"shape={shape!r}; expected 'square' or 'hexagon'.")
    area_p = gpd.GeoSeries([area], crs="EPSG:4326").to_crs(metric).iloc[0]
    bounds = area_p.bounds

    if shape == "square":
        i0, i1, j0, j1 = _square_cells(bounds, grid_m)
        n = (i1 - i0) * (j1 - j0)
    else:
        i0, i1, j0, j1, r, dy = _hexagon_cells(bounds, grid_m)
        n = (i1 - i0 + 1) * (j1 - j0 + 1)
    if n > MAX_GRID_CELLS:
        raise InputError(
            f"grid_units: the area's bounding box needs {n:,} cells of {grid_m} m (limit "
            f"{MAX_GRID_CELLS:,}); use a larger grid_m or split the area."
        )

    if shape == "square":
        rows, cols = np.meshgrid(np.arange(j0, j1), np.arange(i0, i1), indexing="ij")
        ii, jj = cols.ravel(), rows.ravel()
        cells = shapely.box(ii * grid_m, jj * grid_m, (ii + 1) * grid_m, (jj + 1) * grid_m)
    else:
        rows, cols = np.meshgrid(np.arange(j0, j1 + 1), np.arange(i0, i1 + 1), indexing="ij")
        ii, jj = cols.ravel(), rows.ravel()
        cx = ii * grid_m + (jj % 2) * (grid_m / 2.0)
        cy = jj * dy
        angles = np.deg2rad(30.0 + 60.0 * np.arange(7))  # 7th vertex closes the ring
        xs = cx[:, None] + r * np.cos(angles)[None, :]
        ys = cy[:, None] + r * np.sin(angles)[None, :]
        cells = np.asarray(shapely.polygons(np.stack([xs, ys], axis=-1)))

    shapely.prepare(area_p)
    hit = shapely.intersects(area_p, cells)
    cells = cells[hit]
    inside = shapely.contains(area_p, cells)
    border = ~inside
    clipped = cells.copy()
    clipped[border] = shapely.intersection(cells[border], area_p)
    clipped[border] = [_polygonal(g) for g in clipped[border]]
    overlap = shapely.area(clipped) > 0  # drop cells that only touch the area along an edge
    geoms = (clipped if clip else cells)[overlap]

    n_cells = len(geoms)
    if n_cells == 0:
        raise NoDataError(f"grid_units: no cell of {grid_m} m overlaps the area {area.bounds}.")
    width = max(6, len(str(n_cells)))
    ids = [f"g{k:0{width}d}" for k in range(1, n_cells + 1)]
    units = gpd.GeoDataFrame(
        {
            "unit_id": ids,
            "name": ids,
            "population": np.full(n_cells, np.nan),
            "population_65plus": np.full(n_cells, np.nan),
            "area_m2": shapely.area(geoms),
        },
        geometry=gpd.GeoSeries(geoms, crs=metric),
        crs=metric,
    ).to_crs("EPSG:4326")
    log.info(
        "grid_units: %d %s cells of %g m (%d clipped at the border)",
        n_cells, shape, grid_m, int((border & overlap).sum()) if clip else 0,
    )
    return units


# ---------------------------------------------------------------- OSM


def units_from_osm_residential(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Neighbourhood units from the ``landuse=residential`` polygons of OSM features.

    Parameters
    ----------
    features : geopandas.GeoDataFrame
        Columns ``feature_id``, ``tags`` (dict), ``name`` and geometry in
        EPSG:4326, as the OSM readers return them.

    Returns
    -------
    geopandas.GeoDataFrame
        One unit per residential polygon: ``unit_id`` = ``feature_id``,
        ``name`` (empty when untagged), NaN populations; CRS EPSG:4326.

    Raises
    ------
    NoDataError
        No residential polygon in the features (use :func:`grid_units`).
    """
    need = [c for c in ("feature_id", "tags", "geometry") if c not in features.columns]
    if need:
        raise InputError(
            f"features: missing columns {need}; expected feature_id, tags (dict), name, geometry "
            "as returned by circles.load_features."
        )
    if features.crs is not None and not CRS.from_user_input(features.crs).equals(CRS.from_epsg(4326)):
        features = features.to_crs("EPSG:4326")
    is_res = features["tags"].map(lambda t: isinstance(t, dict) and t.get("landuse") == "residential")
    is_poly = features.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    res = features[is_res.to_numpy() & is_poly.to_numpy()]
    if len(res) == 0:
        raise NoDataError(
            f"features: none of {len(features)} OSM features is a landuse=residential polygon; "
            "use circles.units.grid_units(area, metric_crs=...) for grid units instead."
        )
    names = res["name"] if "name" in res.columns else pd.Series("", index=res.index)
    units = gpd.GeoDataFrame(
        {
            "unit_id": res["feature_id"].astype(str).to_numpy(dtype=object),
            "name": names.fillna("").astype(str).to_numpy(dtype=object),
            "population": np.full(len(res), np.nan),
            "population_65plus": np.full(len(res), np.nan),
        },
        geometry=gpd.GeoSeries(res.geometry.to_numpy(), crs="EPSG:4326"),
        crs="EPSG:4326",
    )
    dup = units["unit_id"][units["unit_id"].duplicated()]
    if len(dup):
        raise InputError(f"features: duplicate feature_id {_rows(dup)}; feature ids must be unique.")
    log.info("units_from_osm_residential: %d residential polygons of %d features", len(units), len(features))
    return units


# ---------------------------------------------------------------- population


@renamed_keywords(crs="metric_crs")
def assign_population(
    units: gpd.GeoDataFrame,
    demand: DemandPoints,
    *,
    metric_crs: Any = None,
    max_distance_m: float = MAX_POINT_UNIT_DISTANCE_M,
    overwrite: bool = False,
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Sum demand points into units.

    Each demand point goes to exactly one unit, so nobody is counted twice:

    * polygon units: the unit containing the point (boundary included); where
      polygons overlap, the first such unit in frame order;
    * point units: the nearest unit point within ``max_distance_m``
      (Voronoi-like), measured in ``metric_crs``.

    Points in no unit get index -1; their persons are logged as a warning and
    stored in ``units.attrs`` (``population_outside_units``,
    ``population_65plus_outside_units``, ``demand_points_outside_units``),
    so people are never lost silently.  Units with nobody get 0.

    A population column the user supplied (any non-NaN value) is kept, not
    overwritten, unless ``overwrite=True``; all-NaN columns (units generated
    by :func:`grid_units` or loaded without populations) are filled.

    Parameters
    ----------
    units : geopandas.GeoDataFrame
        Units following the data contract (all polygons or all points).
    demand : DemandPoints
        People at points, WGS84.
    metric_crs : CRS-like, optional
        Projected metric CRS; required for point units (formerly ``crs``,
        still accepted with a DeprecationWarning).
    max_distance_m : float, default 1000
        Largest distance from a demand point to its point unit.
    overwrite : bool, default False
        Replace user-supplied population columns.

    Returns
    -------
    units : geopandas.GeoDataFrame
        A copy with ``population`` and ``population_65plus`` filled, same
        index as the input.
    demand_unit_index : numpy.ndarray of int64
        For each demand point, the **position** (0-based row) of its unit in
        ``units``, or -1 when it lies in no unit.
    """
    if not isinstance(demand, DemandPoints):
        raise InputError(f"demand must be DemandPoints (see demand_from_rasters); got {type(demand).__name__}.")
    missing_cols = [c for c in ("unit_id", "geometry") if c not in units.columns]
    if missing_cols:
        raise InputError(f"units: missing columns {missing_cols}; build units with grid_units or load_units.")
    if units.crs is None:
        raise InputError("units: the frame has no CRS; set it, e.g. units.set_crs('EPSG:4326').")
    if len(units) == 0:
        raise NoDataError("units: the frame is empty; there is nothing to assign population to.")
    if units.geometry.isna().any() or units.geometry.is_empty.any():
        bad = units["unit_id"][units.geometry.isna() | units.geometry.is_empty]
        raise InputError(f"units: {len(bad)} units without geometry ({_rows(bad)}); drop or fix them.")
    kind = _unit_kind(units)
    units_wgs = units if CRS.from_user_input(units.crs).equals(CRS.from_epsg(4326)) else units.to_crs(4326)
    n_units, n_points = len(units), len(demand)
    index = np.full(n_points, -1, dtype=np.int64)

    if n_points and kind == "polygon":
        tree = shapely.STRtree(units_wgs.geometry.to_numpy())
        pts = shapely.points(demand.lon, demand.lat)
        point_i, unit_i = tree.query(pts, predicate="intersects")
        if len(point_i):
            order = np.lexsort((unit_i, point_i))  # by point, then unit order
            point_i, unit_i = point_i[order], unit_i[order]
            first = np.unique(point_i, return_index=True)[1]
            index[point_i[first]] = unit_i[first]
            n_multi = len(point_i) - len(first)
            if n_multi:
                log.info("assign_population: %d demand points lie in more than one unit; "
                         "each counted once, in the first unit", n_multi)
    elif n_points:
        from scipy.spatial import cKDTree

        metric = _metric_crs(metric_crs, parameter="metric_crs")
        if not np.isfinite(max_distance_m) or max_distance_m <= 0:
            raise InputError(f"max_distance_m={max_distance_m!r}; expected a positive distance in metres.")
        up = units_wgs.geometry.to_crs(metric)
        tree = cKDTree(np.column_stack([up.x.to_numpy(), up.y.to_numpy()]))
        dp = gpd.GeoSeries(shapely.points(demand.lon, demand.lat), crs="EPSG:4326").to_crs(metric)
        dist, nearest = tree.query(np.column_stack([dp.x.to_numpy(), dp.y.to_numpy()]),
                                   distance_upper_bound=max_distance_m)
        ok = np.isfinite(dist)
        index[ok] = nearest[ok]

    inside = index >= 0
    sums = {
        "population": np.bincount(index[inside], weights=demand.population[inside], minlength=n_units),
        "population_65plus": np.bincount(index[inside], weights=demand.population_65plus[inside],
                                         minlength=n_units),
    }
    out = units.copy()
    for col, values in sums.items():
        user = col in out.columns and out[col].notna().any()
        if user and not overwrite:
            if out[col].isna().any():
                bad = out["unit_id"][out[col].isna()]
                raise InputError(
                    f"units: column {col!r} is given for some units but missing for {len(bad)} "
                    f"({_rows(bad)}); fill it for every unit, or pass overwrite=True to use the demand points."
                )
            log.info("assign_population: keeping the user's %r column (sum %.0f; demand points give %.0f)",
                     col, float(out[col].sum()), float(values.sum()))
            continue
        out[col] = values

    outside = {
        "population_outside_units": float(demand.population[~inside].sum()),
        "population_65plus_outside_units": float(demand.population_65plus[~inside].sum()),
        "demand_points_outside_units": int((~inside).sum()),
    }
    out.attrs.update(outside)
    if outside["demand_points_outside_units"]:
        log.warning(
            "assign_population: %d demand points (%.0f persons, 65+: %.0f) lie outside every unit",
            outside["demand_points_outside_units"], outside["population_outside_units"],
            outside["population_65plus_outside_units"],
        )
    return out, index


from circles.unit_files import load_units  # noqa: E402  (re-exported; it uses the helpers above)
