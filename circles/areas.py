"""The polygons that frame an analysis: the study area, the district layer, and the
check that a user's area or units lie on the network at all.

:func:`study_area` and :func:`load_districts` are used by :func:`circles.analyze`;
both take what a user gives (a path, a bbox, a shapely polygon, a GeoDataFrame) and
return EPSG:4326 geometry.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from circles.errors import InputError
from circles.network import Network

if TYPE_CHECKING:
    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry

#: columns taken as district names, in this order
DISTRICT_NAME_COLUMNS: tuple[str, ...] = ("name", "district", "名称", "NAME", "区名", "区县", "district_name", "name_zh",
                                          "行政区")

def _read_geo(path, *, what: str, parameter: str):
    import geopandas as gpd

    from circles._osm import check_file

    path = check_file(path)
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:
        detail = str(exc).split(";")[0].strip()  # GDAL's first sentence; the rest is advice for GDAL users
        raise InputError(f"{path} ({parameter}): could not read {what} ({detail}); expected a GeoJSON, GeoPackage "
                         f"or Shapefile with polygons — export it again in one of those formats") from None
    if not isinstance(gdf, gpd.GeoDataFrame) or "geometry" not in gdf:
        columns = ", ".join(map(str, list(gdf.columns)[:8])) or "none"
        raise InputError(f"{path} ({parameter}): a table without geometry (columns: {columns}); {parameter} expects "
                         f"{what} as polygons in a GeoJSON, GeoPackage or Shapefile — a CSV of points or names "
                         f"cannot be used here")
    if gdf.crs is None:
        raise InputError(f"{path}: {what} file has no CRS; set one (e.g. EPSG:4326) with "
                         f"gdf.set_crs(...) or ogr2ogr -a_srs EPSG:4326 ({parameter})")
    return gdf.to_crs("EPSG:4326")


def load_districts(districts: str | Path | gpd.GeoDataFrame, *, name_column: str | None = None,
                   zone_column: str = "zone") -> gpd.GeoDataFrame:
    """Districts as a GeoDataFrame ``district, zone, geometry`` (EPSG:4326).

    ``zone`` picks the zone-dependent thresholds (e.g. ``central`` 10 min and
    ``new_urban`` 12 min for the emergency circle); without a zone column the
    circle's default zone applies (and is reported as an assumption).

    Parameters
    ----------
    districts : path or GeoDataFrame
        District polygons (GeoJSON, GeoPackage, Shapefile) with a CRS.
    name_column : str, optional
        Column of district names; default the first of :data:`DISTRICT_NAME_COLUMNS`
        present, and without one an :class:`InputError`.
    zone_column : str, default "zone"
        Column of zones (``central`` / ``new_urban``); may be absent.

    Returns
    -------
    geopandas.GeoDataFrame
        ``district`` (str), ``zone`` (str or None) and ``geometry``, EPSG:4326.
    """
    import geopandas as gpd

    gdf = districts if isinstance(districts, gpd.GeoDataFrame) else _read_geo(
        districts, what="districts", parameter="--districts")
    if gdf.crs is None:
        raise InputError("districts GeoDataFrame has no CRS; set it with .set_crs('EPSG:4326')")
    gdf = gdf.to_crs("EPSG:4326")
    source = districts if isinstance(districts, (str, Path)) else "districts GeoDataFrame"
    if gdf.empty:
        raise InputError(f"{source} (--districts): has no features; expected one polygon per district with a "
                         f"zone column (central / new_urban), or leave --districts out")
    kinds = gdf.geom_type.fillna("no geometry")
    wrong = kinds[~kinds.isin(["Polygon", "MultiPolygon"])]
    if len(wrong):
        found = ", ".join(f"{n} {k}" for k, n in wrong.value_counts().items())
        raise InputError(f"{source} (--districts): expected district polygons, but {len(wrong)} of {len(gdf)} "
                         f"features are not polygons ({found}); give the district boundaries (Polygon or "
                         f"MultiPolygon), not their centre points")
    if name_column is not None and name_column not in gdf.columns:
        raise InputError(f"{source}: name_column={name_column!r} is not a column; the columns are: "
                         f"{', '.join(map(str, gdf.columns.drop('geometry')))}")
    name_column = name_column or next((c for c in DISTRICT_NAME_COLUMNS if c in gdf.columns), None)
    if name_column is None:
        others = [str(c) for c in gdf.columns if c != gdf.geometry.name]
        raise InputError(f"{source} (--districts): no column of district names (looked for "
                         f"{', '.join(DISTRICT_NAME_COLUMNS)}); the columns are: {', '.join(others) or 'none'}. "
                         f"Rename the column holding the names to `name` (every table and map reports by district)")
    out = gpd.GeoDataFrame({
        "district": gdf[name_column].astype(str),
        "zone": (gdf[zone_column].astype(object).where(gdf[zone_column].notna(), None).map(
            lambda z: z.strip() if isinstance(z, str) and z.strip() else (None if isinstance(z, str) else z))
            if zone_column in gdf.columns else None),
    }, geometry=gdf.geometry.to_numpy(), crs="EPSG:4326")
    return out


def study_area(network: Network, area: Any = None) -> BaseGeometry:
    """The study area polygon (EPSG:4326).

    Parameters
    ----------
    network : Network
        The walk network (its declared file bounds, or its nodes for a hull).
    area : bbox tuple, shapely geometry or path, optional
        A (west, south, east, north) tuple, a shapely geometry (EPSG:4326) or a
        path to a polygon file.  Default: the bounds the OSM file declares, or
        else a concave hull around the walk network's nodes.

    Returns
    -------
    shapely geometry
        The area in EPSG:4326.
    """
    import shapely
    from shapely.geometry import box

    if area is None:
        bounds = network.report.get("file_bounds")
        if bounds:
            return box(*bounds)
        pts = shapely.multipoints(np.column_stack([network.x, network.y]))
        hull = shapely.buffer(shapely.concave_hull(pts, ratio=0.3), 50.0)
        from pyproj import Transformer

        tr = Transformer.from_crs(network.crs, "EPSG:4326", always_xy=True)
        return cast("BaseGeometry", shapely.transform(hull, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))))
    if isinstance(area, (tuple, list)) and len(area) == 4:
        west, south, east, north = map(float, area)
        if not (west < east and south < north):
            raise InputError(f"area {area!r} is empty: expected (west, south, east, north) with west < east, south < north")
        return box(west, south, east, north)
    if isinstance(area, (str, Path)):
        gdf = _read_geo(area, what="study area", parameter="--area")
        kinds = set(gdf.geom_type.dropna())
        if not kinds or not kinds <= {"Polygon", "MultiPolygon"}:
            raise InputError(f"{area} (--area): expected the study area as polygons, found "
                             f"{', '.join(sorted(kinds)) or 'no geometry'}; give a boundary polygon (buffer points "
                             f"or lines first if you mean the area around them)")
        return gdf.geometry.union_all()
    if hasattr(area, "geom_type"):
        return area
    raise InputError(f"area must be a bbox tuple, a shapely polygon or a polygon file, got {type(area).__name__}")


def check_near_network(network: Network, geoms: gpd.GeoSeries, *, what: str, source: Any, flag: str,
                       max_snap_m: float, crs_hint: str) -> None:
    """Fail when not one of ``geoms`` comes within ``max_snap_m`` of the network's extent:
    nothing could be computed (wrong CRS, or a file of another city).

    Parameters
    ----------
    network : Network
        The walk network.
    geoms : geopandas.GeoSeries
        The area or the units, in any CRS.
    what, source, flag, crs_hint
        Name the input in the message: what it is, its file, its CLI flag and where its CRS comes from.
    max_snap_m : float
        Distance from the network's extent that still counts as on it.

    Returns
    -------
    None
        Raises :class:`InputError` when every geometry is farther.
    """
    import shapely

    if not len(geoms) or network.x.size == 0:
        return
    extent = shapely.box(float(network.x.min()), float(network.y.min()), float(network.x.max()),
                         float(network.y.max()))
    metric = geoms.to_crs(network.crs)
    distance = metric.distance(extent)
    if distance.notna().any() and (distance > max_snap_m).all():
        raise InputError(
            f"{source} ({flag}): none of the {what} lies on the network's area (the nearest is "
            f"{distance.min() / 1000:.1f} km from it), so nothing can be measured; check that the file is of the "
            f"same place as the network and in the right coordinate system ({crs_hint}; GCJ-02 vs WGS84 is "
            f"~550 m in Wuhan)")


def buffered(area: BaseGeometry, walk: Network, metres: float) -> BaseGeometry:
    """``area`` grown by ``metres``: the hull drawn around a network without declared
    bounds hugs the streets, and a unit within snapping distance of a street is not outside it.

    Parameters
    ----------
    area : shapely geometry
        In EPSG:4326.
    walk : Network
        Its CRS is the metric CRS the buffer is drawn in.
    metres : float
        How far to grow the area.

    Returns
    -------
    shapely geometry
        The grown area, EPSG:4326.
    """
    import geopandas as gpd

    return gpd.GeoSeries([area], crs="EPSG:4326").to_crs(walk.crs).buffer(metres).to_crs("EPSG:4326").iloc[0]
