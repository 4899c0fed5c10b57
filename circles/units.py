"""Neighbourhood units: the areas (or points) whose coverage is reported.

Every function returns a GeoDataFrame that follows the data contract
(DESIGN.md): columns ``unit_id`` (unique str), ``name``, ``population``,
``population_65plus`` and ``geometry`` (all polygons or all points), CRS
EPSG:4326.  Population columns are NaN ("not known yet") until the user
supplies them or :func:`assign_population` fills them from demand points.

Sources of units
----------------
* :func:`grid_units` -- a square or hexagonal grid generated over an area;
* :func:`load_units` -- polygons from GeoJSON / GeoPackage / Shapefile, or
  points from a CSV with lon/lat columns (WGS84, GCJ-02 or BD-09);
* :func:`units_from_osm_residential` -- ``landuse=residential`` polygons of
  an OSM extract.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from . import _tables
from .errors import InputError, InputFileNotFoundError, NoDataError, ValidationError
from .population import DemandPoints, _as_area
from .settings import GRID_CELL_M

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

_LON_NAMES = tuple(c for c in _tables.LON_COLUMNS if c != "x")  # x/y may be metres: name them
_LAT_NAMES = tuple(c for c in _tables.LAT_COLUMNS if c != "y")
_CHINESE_SYSTEMS = {"gcj02": "gcj02", "gcj-02": "gcj02", "bd09": "bd09", "bd-09": "bd09"}
_WGS84_NAMES = {"wgs84", "wgs-84", "epsg:4326", "4326"}
_GEOMETRY_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".fgb", ".zip")


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


def _empty_units(crs="EPSG:4326") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"unit_id": pd.Series([], dtype=object), "name": pd.Series([], dtype=object),
         "population": pd.Series([], dtype=float), "population_65plus": pd.Series([], dtype=float)},
        geometry=gpd.GeoSeries([], crs=crs), crs=crs,
    )


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


def _square_cells(bounds, cell_m: float):
    minx, miny, maxx, maxy = bounds
    i0, i1 = int(np.floor(minx / cell_m)), int(np.ceil(maxx / cell_m))
    j0, j1 = int(np.floor(miny / cell_m)), int(np.ceil(maxy / cell_m))
    return i0, i1, j0, j1


def _hexagon_cells(bounds, cell_m: float):
    """Pointy-top hexagons, flat-to-flat width ``cell_m``, on a lattice anchored at (0, 0)."""
    minx, miny, maxx, maxy = bounds
    r = cell_m / np.sqrt(3.0)  # circumradius
    dy = 1.5 * r
    j0, j1 = int(np.floor((miny - r) / dy)), int(np.ceil((maxy + r) / dy))
    i0, i1 = int(np.floor((minx - cell_m) / cell_m)), int(np.ceil((maxx + cell_m) / cell_m))
    return i0, i1, j0, j1, r, dy


def grid_units(
    area_wgs84,
    *,
    crs,
    cell_m: float = GRID_CELL_M,
    shape: str = "square",
    clip: bool = True,
) -> gpd.GeoDataFrame:
    """Cover an area with a regular grid of units.

    The lattice is anchored at the origin of ``crs`` (cell edges at multiples
    of ``cell_m``), so the same cell has the same geometry whatever area it is
    generated for.  With ``clip=True`` (default) border cells are cut to the
    area, so the cells tile the area exactly: every point of the area lies in
    exactly one cell (boundaries aside) and no cell reaches across a district
    line or the city edge.  With ``clip=False`` whole cells are kept; they
    still cover every point of the area once.

    Parameters
    ----------
    area_wgs84 : shapely Polygon or MultiPolygon
        Area in EPSG:4326.
    crs : CRS-like
        Projected metric CRS the grid is laid out in, e.g. ``"EPSG:32650"``.
    cell_m : float, default settings.GRID_CELL_M (250)
        Distance in metres between the centres of neighbouring cells: the side
        of a square, the flat-to-flat width of a hexagon (hexagon area
        ``sqrt(3)/2 * cell_m**2``).
    shape : {"square", "hexagon"}
        Cell shape; hexagons are pointy-top.
    clip : bool, default True
        Cut border cells to the area.

    Returns
    -------
    geopandas.GeoDataFrame
        ``unit_id`` (``g000001``, …, ordered south to north, west to east),
        ``name`` (= ``unit_id``), ``population`` and ``population_65plus``
        (NaN until :func:`assign_population`), ``area_m2`` (in ``crs``),
        geometry; CRS EPSG:4326.
    """
    area = _as_area(area_wgs84)
    metric = _metric_crs(crs)
    if not np.isfinite(cell_m) or cell_m <= 0:
        raise InputError(f"cell_m={cell_m!r}; expected a positive number of metres, e.g. 250.")
    if shape not in ("square", "hexagon"):
        raise InputError(f"shape={shape!r}; expected 'square' or 'hexagon'.")
    area_p = gpd.GeoSeries([area], crs="EPSG:4326").to_crs(metric).iloc[0]
    bounds = area_p.bounds

    if shape == "square":
        i0, i1, j0, j1 = _square_cells(bounds, cell_m)
        n = (i1 - i0) * (j1 - j0)
    else:
        i0, i1, j0, j1, r, dy = _hexagon_cells(bounds, cell_m)
        n = (i1 - i0 + 1) * (j1 - j0 + 1)
    if n > MAX_GRID_CELLS:
        raise InputError(
            f"grid_units: the area's bounding box needs {n:,} cells of {cell_m} m (limit "
            f"{MAX_GRID_CELLS:,}); use a larger cell_m or split the area."
        )

    if shape == "square":
        jj, ii = np.meshgrid(np.arange(j0, j1), np.arange(i0, i1), indexing="ij")
        ii, jj = ii.ravel(), jj.ravel()
        cells = shapely.box(ii * cell_m, jj * cell_m, (ii + 1) * cell_m, (jj + 1) * cell_m)
    else:
        jj, ii = np.meshgrid(np.arange(j0, j1 + 1), np.arange(i0, i1 + 1), indexing="ij")
        ii, jj = ii.ravel(), jj.ravel()
        cx = ii * cell_m + (jj % 2) * (cell_m / 2.0)
        cy = jj * dy
        angles = np.deg2rad(30.0 + 60.0 * np.arange(7))  # 7th vertex closes the ring
        xs = cx[:, None] + r * np.cos(angles)[None, :]
        ys = cy[:, None] + r * np.sin(angles)[None, :]
        cells = shapely.polygons(np.stack([xs, ys], axis=-1))

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
        raise NoDataError(f"grid_units: no cell of {cell_m} m overlaps the area {area.bounds}.")
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
        n_cells, shape, cell_m, int((border & overlap).sum()) if clip else 0,
    )
    return units


# ---------------------------------------------------------------- load


def _coordinate_system(crs, *, source: str):
    """'wgs84', 'gcj02', 'bd09' or a pyproj CRS."""
    if crs is None:
        return None
    if isinstance(crs, str):
        try:
            return _tables.crs_name(crs)  # wgs84 / gcj02 / bd09 under any usual spelling
        except InputError:
            pass  # an EPSG code or another pyproj CRS
    try:
        out = CRS.from_user_input(crs)
    except Exception as exc:
        raise InputError(
            f"{source}: crs={crs!r} is not understood; expected 'wgs84', 'gcj02', 'bd09' or an "
            f"EPSG code such as 'EPSG:4326' ({exc})."
        ) from exc
    return "wgs84" if out.equals(CRS.from_epsg(4326)) else out


def _to_wgs84_xy(lon: np.ndarray, lat: np.ndarray, system) -> tuple[np.ndarray, np.ndarray]:
    if system == "wgs84":
        return lon, lat
    if system in ("gcj02", "bd09"):
        from .coords import to_wgs84  # lazy: only needed for Chinese coordinate systems

        x, y = to_wgs84(lon, lat, system)
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    from pyproj import Transformer

    t = Transformer.from_crs(system, "EPSG:4326", always_xy=True)
    x, y = t.transform(lon, lat)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def _find_column(frame: pd.DataFrame, given: str | None, candidates, *, what: str, parameter: str,
                 source: str, problems: list[str]) -> str | None:
    try:
        return _tables.find_column(frame, given, candidates, what=what, option=parameter, source=source,
                                   required=True, loose=True)
    except InputError as exc:
        problems.append(str(exc).removeprefix(f"{source}: "))
        return None


def _read_csv(path: Path) -> pd.DataFrame:
    """A table of units (CSV/TSV/TXT/XLSX) through :mod:`circles._tables`; numeric columns as numbers."""
    return _tables.restore_numbers(_tables.read_table(path, what="unit", parameter="units"))


def load_units(
    path: str | Path,
    *,
    id_column: str | None = None,
    name_column: str | None = None,
    population_column: str | None = None,
    population_65plus_column: str | None = None,
    crs=None,
    lon_column: str | None = None,
    lat_column: str | None = None,
    drop_missing: bool = False,
) -> gpd.GeoDataFrame:
    """Load neighbourhood units from a geometry file or a CSV of points.

    Parameters
    ----------
    path : str or Path
        GeoJSON, GeoPackage, Shapefile or FlatGeobuf of polygons (or points),
        or a CSV with one row per unit and lon/lat columns.
    id_column : str, optional
        Column of unique unit ids; default ``unit_id`` when present, else ids
        ``u000001``, … are generated in file order.
    name_column : str, optional
        Column of names; default ``name`` when present, else empty names.
    population_column, population_65plus_column : str, optional
        Columns of persons per unit, kept as given (see
        :func:`assign_population`); default ``population`` /
        ``population_65plus`` when present, else NaN (unknown).
    crs : str or CRS-like, optional
        Coordinate system of the coordinates: ``"wgs84"``, ``"gcj02"``,
        ``"bd09"`` or any pyproj CRS.  Required for CSV and for geometry files
        without a CRS.  For a geometry file that declares a CRS it overrides
        the declaration (Chinese data labelled EPSG:4326 is often GCJ-02).
    lon_column, lat_column : str, optional
        CSV coordinate columns; default the first of ``longitude/lon/lng/long/经度``
        and ``latitude/lat/纬度`` (case-insensitive).
    drop_missing : bool, default False
        Rows without coordinates/geometry raise :class:`InputError` listing
        them; with ``True`` they are dropped, the count is logged as a warning
        and stored in ``units.attrs["dropped_rows"]``.

    Returns
    -------
    geopandas.GeoDataFrame
        Contract columns first, then the file's other columns; CRS EPSG:4326.
        ``attrs`` holds ``source``, ``dropped_rows`` and ``repaired_geometries``.

    Raises
    ------
    InputFileNotFoundError
        ``path`` does not exist.
    NoDataError
        The file has no rows.
    ValidationError
        All problems found at once: missing columns, duplicate or missing ids,
        rows without coordinates, non-numeric or negative populations, …
    """
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise InputFileNotFoundError(f"{path} does not exist; check the path to the units file.")
    system = _coordinate_system(crs, source=source)
    problems: list[str] = []
    is_csv = path.suffix.lower() in _tables.TABLE_EXTENSIONS + (".xls",)  # .xls: advice to convert

    if is_csv:
        frame = _read_csv(path)
        if system is None:
            raise InputError(
                f"{source}: crs is required for a CSV of points: say which system the lon/lat are in, "
                "crs='wgs84', 'gcj02' (Amap, Tencent) or 'bd09' (Baidu)."
            )
        lon_col = _find_column(frame, lon_column, _LON_NAMES, what="longitude", parameter="lon_column",
                               source=source, problems=problems)
        lat_col = _find_column(frame, lat_column, _LAT_NAMES, what="latitude", parameter="lat_column",
                               source=source, problems=problems)
        if problems:
            raise ValidationError(source, problems)
        lon = pd.to_numeric(frame[lon_col], errors="coerce").to_numpy(dtype=np.float64)
        lat = pd.to_numeric(frame[lat_col], errors="coerce").to_numpy(dtype=np.float64)
        missing = ~(np.isfinite(lon) & np.isfinite(lat))
        geometry = None  # built after dropping
    else:
        if path.suffix.lower() not in _GEOMETRY_SUFFIXES and not path.is_dir():
            raise InputError(
                f"{source}: unsupported file type {path.suffix!r}; expected a CSV of points or a "
                f"geometry file ({', '.join(_GEOMETRY_SUFFIXES)})."
            )
        try:
            frame = gpd.read_file(path)
        except Exception as exc:
            raise InputError(f"{source}: cannot be read as a geometry file ({exc}).") from exc
        missing = (frame.geometry.isna() | frame.geometry.is_empty).to_numpy()
        if frame.crs is None and system is None:
            raise InputError(
                f"{source}: the file has no CRS, so its coordinates cannot be placed. Pass crs= (CLI --units-crs), e.g. "
                "crs='wgs84' for lon/lat, 'gcj02' for Amap coordinates or 'EPSG:32650' for UTM 50N."
            )
        if system is not None and frame.crs is not None:
            declared = "wgs84" if CRS.from_user_input(frame.crs).equals(CRS.from_epsg(4326)) else frame.crs
            if declared != system:
                log.warning("%s: declares CRS %s; crs=%r overrides it", source, frame.crs, crs)
        if system is None:
            system = "wgs84" if CRS.from_user_input(frame.crs).equals(CRS.from_epsg(4326)) else frame.crs
        if system == "wgs84" and (~missing).any():
            # GeoJSON without a "crs" member is read as EPSG:4326 (RFC 7946), even when
            # its numbers are metres: catch that here rather than place units off the globe
            minx, miny, maxx, maxy = frame.geometry[~missing].total_bounds
            if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
                raise InputError(
                    f"{source}: coordinates span x {minx:.6g}..{maxx:.6g}, y {miny:.6g}..{maxy:.6g}, which "
                    "is not lon/lat, yet the file declares no projected CRS (a GeoJSON without a 'crs' "
                    "member counts as WGS84). Pass the CRS the numbers are in, e.g. crs='EPSG:32650'."
                )
        geometry = frame.geometry

    if len(frame) == 0:
        raise NoDataError(f"{source}: the file has no rows; expected one row per neighbourhood unit.")

    # rows without a location
    dropped = int(missing.sum())
    if dropped:
        rows = frame.index[missing] + (2 if is_csv else 0)
        where = "CSV lines" if is_csv else "features (0-based)"
        if not drop_missing:
            problems.append(
                f"{dropped} of {len(frame)} rows have no {'coordinates' if is_csv else 'geometry'} "
                f"({where} {_rows(rows)}); fill them in, or pass drop_missing=True to drop them"
            )
        else:
            log.warning("%s: dropped %d of %d rows without a location (%s %s)",
                        source, dropped, len(frame), where, _rows(rows))
    keep = ~missing if drop_missing else np.ones(len(frame), dtype=bool)
    if drop_missing and not keep.any():
        raise NoDataError(f"{source}: none of its {len(frame)} rows has a location; nothing to load.")

    # ids
    id_col = id_column if id_column is not None else _tables.find_column(
        frame, None, _tables.id_columns("units"), what="id", option="id_column", source=source)
    if id_col is not None and id_col not in frame.columns:
        problems.append(f"id_column={id_col!r} is not a column; columns are {list(frame.columns)}")
        id_col = None
    if id_col is not None:
        raw = frame[id_col]
        no_id = raw.isna().to_numpy() & keep
        if no_id.any():
            problems.append(f"column {id_col!r}: {int(no_id.sum())} rows have no id (rows {_rows(frame.index[no_id])})")
        ids = raw.astype(str)
        if pd.api.types.is_float_dtype(raw) and (raw.dropna() % 1 == 0).all():
            ids = raw.map(lambda v: str(int(v)) if pd.notna(v) else "")  # 420102 not "420102.0"
        kept_ids = ids[keep & ~raw.isna().to_numpy()]
        dup = kept_ids[kept_ids.duplicated(keep=False)]
        if len(dup):
            uniq = list(dict.fromkeys(dup))
            problems.append(
                f"column {id_col!r}: {len(uniq)} duplicate unit ids ({_rows(uniq)}); unit ids must be "
                "unique — fix the file or choose another id_column"
            )
    else:
        width = max(6, len(str(len(frame))))
        ids = pd.Series([f"u{k:0{width}d}" for k in range(1, len(frame) + 1)], index=frame.index)

    # names
    if name_column is not None and name_column not in frame.columns:
        problems.append(f"name_column={name_column!r} is not a column; columns are {list(frame.columns)}")
        name_col = None
    else:
        name_col = name_column if name_column is not None else _tables.find_column(
            frame, None, _tables.NAME_COLUMNS, what="name", option="name_column", source=source)

    # populations
    pops: dict[str, pd.Series] = {}
    for target, given, param in (
        ("population", population_column, "population_column"),
        ("population_65plus", population_65plus_column, "population_65plus_column"),
    ):
        col = given if given is not None else (target if target in frame.columns else None)
        if col is None:
            pops[target] = pd.Series(np.nan, index=frame.index)
            continue
        if col not in frame.columns:
            problems.append(f"{param}={col!r} is not a column; columns are {list(frame.columns)}")
            continue
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = (values.isna() & frame[col].notna()).to_numpy() & keep
        if bad.any():
            problems.append(f"column {col!r}: {int(bad.sum())} non-numeric values (rows {_rows(frame.index[bad])})")
        neg = (values < 0).to_numpy() & keep
        if neg.any():
            problems.append(f"column {col!r}: {int(neg.sum())} negative populations (rows {_rows(frame.index[neg])})")
        pops[target] = values.astype(np.float64)

    if problems:
        raise ValidationError(source, problems)

    # geometry in WGS84
    if is_csv:
        x, y = _to_wgs84_xy(lon[keep], lat[keep], system)
        geoms = shapely.points(x, y)
        out_of_range = ~((np.abs(x) <= 180) & (np.abs(y) <= 90))
        if out_of_range.any():
            rows = frame.index[keep][out_of_range] + 2
            raise ValidationError(source, [
                f"{int(out_of_range.sum())} rows have coordinates outside lon -180..180 / lat -90..90 "
                f"(CSV lines {_rows(rows)}); check lon/lat are not swapped or projected"
            ])
        repaired = 0
    else:
        geoms = geometry.to_numpy()[keep]
        invalid = ~shapely.is_valid(geoms)
        repaired = int(invalid.sum())
        if repaired:
            geoms = geoms.copy()
            geoms[invalid] = [_polygonal(g) if g.geom_type.endswith("Polygon") or
                              g.geom_type == "GeometryCollection" else g
                              for g in shapely.make_valid(geoms[invalid])]
            log.warning("%s: repaired %d invalid geometries with shapely.make_valid", source, repaired)
        if system in ("gcj02", "bd09"):
            geoms = shapely.transform(geoms, lambda xy: np.column_stack(_to_wgs84_xy(xy[:, 0], xy[:, 1], system)))
        elif system != "wgs84":
            geoms = gpd.GeoSeries(geoms, crs=system).to_crs("EPSG:4326").to_numpy()

    rest = frame.loc[keep, [c for c in frame.columns if c not in UNIT_COLUMNS and c != "geometry"]]
    units = gpd.GeoDataFrame(
        {
            "unit_id": ids[keep].to_numpy(dtype=object),
            "name": (frame.loc[keep, name_col].fillna("").astype(str).to_numpy(dtype=object)
                     if name_col is not None else np.full(int(keep.sum()), "", dtype=object)),
            "population": pops["population"][keep].to_numpy(),
            "population_65plus": pops["population_65plus"][keep].to_numpy(),
            **{c: rest[c].to_numpy() for c in rest.columns},
        },
        geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"),
        crs="EPSG:4326",
    )
    _unit_kind(units, source=source)
    units.attrs.update({"source": source, "dropped_rows": dropped if drop_missing else 0,
                        "repaired_geometries": repaired,
                        "empty_rows_ignored": int(frame.attrs.get("dropped_empty_rows", 0))})
    log.info("%s: %d units loaded", source, len(units))
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
            "use circles.units.grid_units(area, crs=...) for grid units instead."
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


def assign_population(
    units: gpd.GeoDataFrame,
    demand: DemandPoints,
    *,
    crs=None,
    max_distance_m: float = MAX_POINT_UNIT_DISTANCE_M,
    overwrite: bool = False,
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Sum demand points into units.

    Each demand point goes to exactly one unit, so nobody is counted twice:

    * polygon units: the unit containing the point (boundary included); where
      polygons overlap, the first such unit in frame order;
    * point units: the nearest unit point within ``max_distance_m``
      (Voronoi-like), measured in ``crs``.

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
    crs : CRS-like, optional
        Projected metric CRS; required for point units.
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

        metric = _metric_crs(crs)
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
