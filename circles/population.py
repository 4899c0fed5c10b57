"""Population demand points from rasters.

A population raster (e.g. WorldPop, persons per cell) becomes a set of
:class:`DemandPoints`: one point per settled cell whose centre lies inside the
study area, carrying the cell's persons.  The coverage step asks, for each of
these points, whether the facilities are within reach; units
(:mod:`circles.units`) sum them.

Rules
-----
* Only the raster window covering the area is read (``rasterio`` windows), so a
  district of a city-wide raster costs milliseconds.
* A cell belongs to the area when its **centre** lies inside the area (the
  same rule GDAL uses to rasterise a polygon); a boundary cell is never split.
* ``nodata``, NaN and negative values count as 0 persons, never as people.
* Cells with no people in either raster are dropped.
* The 65+ raster must be on the **same grid** as the main raster (same CRS,
  transform and shape).  Sampling a different grid at the main raster's cell
  centres would double count or miss people wherever the grids differ in
  resolution, so a differing grid raises :class:`~circles.errors.InputError`
  telling the user to resample first (``gdalwarp -tr ... -r sum``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from circles._deprecation import renamed_keywords
from circles.errors import InputError, InputFileNotFoundError, NoDataError

log = logging.getLogger(__name__)

__all__ = ["DemandPoints", "demand_from_rasters", "raster_total_in_area"]


@dataclass(frozen=True)
class DemandPoints:
    """People located at points (WGS84), one entry per point.

    Attributes
    ----------
    lon, lat : numpy.ndarray
        Point coordinates in EPSG:4326 (float64).
    population : numpy.ndarray
        Persons at each point (float64, >= 0).
    population_65plus : numpy.ndarray
        Persons aged 65+ at each point (float64, >= 0; zeros when unknown).
    source : str
        Where the numbers come from (file names), for reports.
    """

    lon: np.ndarray
    lat: np.ndarray
    population: np.ndarray
    population_65plus: np.ndarray
    source: str = ""

    def __post_init__(self) -> None:
        n = len(self.lon)
        for name in ("lon", "lat", "population", "population_65plus"):
            value = np.asarray(getattr(self, name), dtype=np.float64)
            if value.ndim != 1 or len(value) != n:
                raise InputError(
                    f"DemandPoints.{name} has shape {value.shape}; expected a 1-D array of "
                    f"length {n} (the length of lon). Pass arrays of equal length."
                )
            value = value.copy()
            value.flags.writeable = False
            object.__setattr__(self, name, value)

    def __len__(self) -> int:
        return len(self.lon)

    @property
    def total(self) -> float:
        """Total persons.

        Returns
        -------
        float
        """
        return float(self.population.sum())

    @property
    def total_65plus(self) -> float:
        """Total persons aged 65+.

        Returns
        -------
        float
        """
        return float(self.population_65plus.sum())


# ---------------------------------------------------------------- helpers


def _as_area(area, *, parameter: str = "area_wgs84") -> BaseGeometry:
    """Check that ``area`` is a non-empty (Multi)Polygon in EPSG:4326.

    A GeoSeries / GeoDataFrame is accepted too: it is reprojected to EPSG:4326
    and its geometries are unioned.
    """
    if hasattr(area, "geometry") and hasattr(area, "crs"):  # GeoSeries / GeoDataFrame
        if area.crs is None:
            raise InputError(
                f"{parameter}: the GeoDataFrame/GeoSeries has no CRS; set it first, "
                "e.g. frame.set_crs('EPSG:4326')."
            )
        area = area.to_crs("EPSG:4326")
        area = area.geometry.union_all() if hasattr(area, "union_all") else area.union_all()
    if not isinstance(area, BaseGeometry):
        raise InputError(
            f"{parameter} must be a shapely Polygon or MultiPolygon in EPSG:4326 "
            f"(lon/lat); got {type(area).__name__}."
        )
    if area.is_empty:
        raise NoDataError(f"{parameter} is an empty geometry; pass the study area polygon.")
    if area.geom_type not in ("Polygon", "MultiPolygon"):
        # a GeometryCollection from make_valid: keep its polygonal parts
        polys = [g for g in getattr(area, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
        if not polys:
            raise InputError(
                f"{parameter} is a {area.geom_type}; expected a Polygon or MultiPolygon "
                "(buffer a point or line first if you mean the area around it)."
            )
        area = shapely.union_all(polys)
    minx, miny, maxx, maxy = area.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise InputError(
            f"{parameter} has bounds {_fmt_bounds(area.bounds)}, outside lon -180..180 / "
            "lat -90..90: it looks projected. Pass it in EPSG:4326, e.g. gdf.to_crs(4326)."
        )
    if not area.is_valid:
        area = shapely.make_valid(area)
    return area


def _fmt_bounds(bounds) -> str:
    return "({:.5f}, {:.5f}, {:.5f}, {:.5f})".format(*bounds)


def _open(path: str | Path, *, parameter: str):
    import rasterio

    path = Path(path)
    if not path.is_file():
        raise InputFileNotFoundError(
            f"{parameter}: raster {path} does not exist; check the path (a GeoTIFF of persons per cell)."
        )
    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(f"{parameter}: {path} cannot be read as a raster ({exc}); expected a GeoTIFF.") from exc
    if src.crs is None:
        src.close()
        raise InputError(
            f"{parameter}: raster {path} has no CRS, so its cells cannot be placed on the map. "
            "Assign one, e.g. `gdal_edit.py -a_srs EPSG:4326 file.tif`."
        )
    return src


def _area_in_crs(area: BaseGeometry, crs) -> BaseGeometry:
    raster_crs = CRS.from_user_input(crs)
    if raster_crs.equals(CRS.from_epsg(4326)):
        return area
    to_raster = Transformer.from_crs("EPSG:4326", raster_crs, always_xy=True)
    return shapely.transform(area, lambda xy: np.column_stack(to_raster.transform(xy[:, 0], xy[:, 1])))


def _window(src, area_r: BaseGeometry, *, path: Path, area: BaseGeometry, parameter: str = "raster"):
    """Window of ``src`` covering ``area_r`` (area in raster CRS), cut to the raster."""
    from rasterio.windows import Window, from_bounds

    win = from_bounds(*area_r.bounds, transform=src.transform)
    win = win.round_offsets(op="floor").round_lengths(op="ceil")
    # grow by one cell on each side so floating-point rounding never loses an edge cell
    win = Window(win.col_off - 1, win.row_off - 1, win.width + 2, win.height + 2)
    full = Window(0, 0, src.width, src.height)
    try:
        win = win.intersection(full)
    except Exception:  # rasterio raises WindowError when they do not intersect
        win = None
    if win is None or win.width <= 0 or win.height <= 0:
        raise InputError(
            f"{parameter}: raster {path} does not overlap the study area: raster bounds {_fmt_bounds(src.bounds)} "
            f"({src.crs}), area bounds {_fmt_bounds(area.bounds)} (EPSG:4326). "
            "Use a raster that covers the study area (e.g. the WorldPop country file), or check that the area is lon/lat."
        )
    return win


def _read(src, win) -> np.ndarray:
    """Persons per cell as float64; nodata, NaN and negatives become 0."""
    data = src.read(1, window=win, masked=True).astype(np.float64)
    values = np.ma.filled(data, 0.0)
    values[~np.isfinite(values) | (values < 0)] = 0.0
    return values


def _window_transform(src, win):
    """Affine transform of a window (rasterio's own helper warns on newer affine)."""
    from affine import Affine

    return src.transform @ Affine.translation(win.col_off, win.row_off)


def _centres(src, win) -> tuple[np.ndarray, np.ndarray]:
    """Cell centre coordinates (raster CRS) of every cell in ``win``, as 2-D arrays."""
    t = _window_transform(src, win)
    cols = np.arange(int(win.width)) + 0.5
    rows = np.arange(int(win.height)) + 0.5
    cc, rr = np.meshgrid(cols, rows)
    x = t.c + cc * t.a + rr * t.b
    y = t.f + cc * t.d + rr * t.e
    return x, y


# ---------------------------------------------------------------- public API


@renamed_keywords(population_tif="population", population_65plus_tif="population_65plus")
def demand_from_rasters(
    population: str | Path,
    area_wgs84: Any,
    population_65plus: str | Path | None = None,
) -> DemandPoints:
    """Demand points (one per settled cell) of a population raster inside an area.

    Parameters
    ----------
    population : str or Path
        Raster of persons per cell (e.g. WorldPop ``population_20plus.tif``).
        Any CRS; the area is transformed into it (CLI ``--population``;
        formerly ``population_tif``, still accepted with a DeprecationWarning).
    area_wgs84 : shapely Polygon or MultiPolygon
        Study area in EPSG:4326 (a GeoSeries/GeoDataFrame is also accepted and
        unioned).
    population_65plus : str or Path, optional
        Raster of persons aged 65+ on the **same grid** as ``population``.
        When omitted, the points' ``population_65plus`` is all zeros (CLI
        ``--population-65plus``; formerly ``population_65plus_tif``).

    Returns
    -------
    DemandPoints
        One point per cell whose centre lies inside the area and that holds
        people in either raster; coordinates are the cell centres in WGS84.

    Raises
    ------
    InputFileNotFoundError
        A raster file does not exist.
    InputError
        A raster has no CRS, does not overlap the area, or the two rasters are
        on different grids.
    """
    area = _as_area(area_wgs84)
    path = Path(population)
    src = _open(path, parameter="population (CLI --population)")
    with src:
        area_r = _area_in_crs(area, src.crs)
        win = _window(src, area_r, path=path, area=area, parameter="population (CLI --population)")
        pop = _read(src, win)
        x, y = _centres(src, win)
        inside = shapely.intersects_xy(area_r, x, y)  # centre inside or on the edge
        if population_65plus is not None:
            path65 = Path(population_65plus)
            src65 = _open(path65, parameter="population_65plus (CLI --population-65plus)")
            with src65:
                problems = []
                if not CRS.from_user_input(src65.crs).equals(CRS.from_user_input(src.crs)):
                    problems.append(f"CRS {src65.crs} vs {src.crs}")
                if (src65.width, src65.height) != (src.width, src.height):
                    problems.append(f"shape {src65.height}x{src65.width} vs {src.height}x{src.width}")
                if not src65.transform.almost_equals(src.transform):
                    problems.append(f"transform {tuple(src65.transform)[:6]} vs {tuple(src.transform)[:6]}")
                if problems:
                    raise InputError(
                        f"population_65plus (CLI --population-65plus) {path65} is not on the same grid as population "
                        f"{path} ({'; '.join(problems)}). Resample it onto that grid first, keeping "
                        "totals, e.g. `gdalwarp -te <bounds> -ts <cols> <rows> -r sum`."
                    )
                pop65 = _read(src65, win)
        else:
            pop65 = np.zeros_like(pop)
        keep = inside & ((pop > 0) | (pop65 > 0))
        xs, ys = x[keep], y[keep]
        if not CRS.from_user_input(src.crs).equals(CRS.from_epsg(4326)):
            back = Transformer.from_crs(src.crs, "EPSG:4326", always_xy=True)
            xs, ys = back.transform(xs, ys)
    source = path.name if population_65plus is None else f"{path.name} + {Path(population_65plus).name}"
    demand = DemandPoints(
        lon=np.asarray(xs, dtype=np.float64),
        lat=np.asarray(ys, dtype=np.float64),
        population=pop[keep],
        population_65plus=pop65[keep],
        source=source,
    )
    log.info(
        "demand from %s: %d settled cells of %d inside the area, %.0f persons (65+: %.0f)",
        source, len(demand), int(inside.sum()), demand.total, demand.total_65plus,
    )
    if len(demand) == 0:
        log.warning("no settled cell of %s lies inside the area %s", path, _fmt_bounds(area.bounds))
    return demand


def raster_total_in_area(tif: str | Path, area_wgs84: Any) -> float:
    """Total persons of a raster in cells whose centre lies inside an area.

    Computed independently of :func:`demand_from_rasters` (GDAL rasterisation
    of the area, ``rasterio.features.geometry_mask``), so the two can check
    each other: units built from the demand points must add up to this total.

    Parameters
    ----------
    tif : str or Path
        Raster of persons per cell.
    area_wgs84 : shapely Polygon or MultiPolygon
        Area in EPSG:4326.

    Returns
    -------
    float
        Sum of positive, finite, non-nodata cell values with centre in the area.
    """
    from rasterio.features import geometry_mask

    area = _as_area(area_wgs84)
    path = Path(tif)
    src = _open(path, parameter="tif")
    with src:
        area_r = _area_in_crs(area, src.crs)
        win = _window(src, area_r, path=path, area=area)
        values = _read(src, win)
        outside = geometry_mask(
            [area_r], out_shape=values.shape, transform=_window_transform(src, win), all_touched=False
        )
    return float(values[~outside].sum())
