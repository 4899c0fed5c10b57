"""Neighbourhood units from a user's file: a table of points or a geometry file.

The file is opened by :func:`circles._tables.read_table` (CSV/TSV/TXT in
UTF-8, UTF-8 with BOM or GBK/GB18030, ``.xlsx``, GeoJSON, GeoPackage,
Shapefile, FlatGeobuf); this module turns it into units that follow the data
contract (:mod:`circles.units`): ``unit_id`` from the user's id column,
``name``, ``population``, ``population_65plus``, geometry in EPSG:4326, and for
point units ``lon``/``lat`` (WGS84) plus, when the file was GCJ-02 or BD-09,
``lon_gcj02``/``lat_gcj02`` (``lon_bd09``/``lat_bd09``) holding the user's own
values.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from circles._deprecation import renamed_keywords
from circles._tables import (
    LAT_COLUMNS,
    LON_COLUMNS,
    NAME_COLUMNS,
    crs_name,
    degrees,
    file_rows,
    find_column,
    id_columns,
    numbers,
    read_table,
    restore_numbers,
)
from circles.errors import InputError, InputFileNotFoundError, NoDataError, ValidationError
from circles.units import UNIT_COLUMNS, _polygonal, _rows, _unit_kind

log = logging.getLogger(__name__)

__all__ = ["POPULATION_COLUMNS", "POPULATION_65PLUS_COLUMNS", "load_units"]

#: Usual names of a units file's population columns (case-insensitive, in priority order).
POPULATION_COLUMNS: tuple[str, ...] = ("population", "人口", "常住人口", "人口数")
POPULATION_65PLUS_COLUMNS: tuple[str, ...] = ("population_65plus", "65岁以上人口", "老年人口", "65岁及以上人口")
#: Usual coordinate column names of a units table; bare x/y are left out (they may be metres: name them).
_LON_NAMES = tuple(c for c in LON_COLUMNS if c != "x")
_LAT_NAMES = tuple(c for c in LAT_COLUMNS if c != "y")


def _coordinate_system(crs, *, source: str):
    """'wgs84', 'gcj02', 'bd09' or a pyproj CRS (None when not given)."""
    if crs is None:
        return None
    if isinstance(crs, str):
        try:
            return crs_name(crs)
        except InputError:
            pass  # perhaps an EPSG code or WKT: try pyproj below
    try:
        out = CRS.from_user_input(crs)
    except Exception as exc:
        raise InputError(
            f"{source}: units_crs={crs!r} is not understood; expected 'wgs84', 'gcj02', 'bd09' or an "
            f"EPSG code such as 'EPSG:4326' ({exc})."
        ) from exc
    return "wgs84" if out.equals(CRS.from_epsg(4326)) else out


def _to_wgs84_xy(lon: np.ndarray, lat: np.ndarray, system) -> tuple[np.ndarray, np.ndarray]:
    if system == "wgs84":
        return lon, lat
    if system in ("gcj02", "bd09"):
        from circles.coords import to_wgs84

        x, y = to_wgs84(lon, lat, system)
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    from pyproj import Transformer

    t = Transformer.from_crs(system, "EPSG:4326", always_xy=True)
    x, y = t.transform(lon, lat)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def _column(frame, given, usual, *, what: str, option: str, source: str, problems: list[str],
            loose: bool = False, required: bool = False) -> str | None:
    """find_column, with a wrong ``given`` (or a required column not found) collected as a problem."""
    try:
        return find_column(frame, given, usual, what=what, option=option, source=source, loose=loose,
                           required=required)
    except InputError as exc:
        problems.append(str(exc).removeprefix(f"{source}: "))
        return None


def _row_labels(frame: pd.DataFrame, positions: np.ndarray, name_col: str | None, *, table: bool) -> str:
    """``"3 (大智街办事处), 11 (…), …"``: file rows (tables) or features (1-based), with names."""
    positions = np.asarray(positions, dtype=np.int64)
    numbers_ = file_rows(frame, positions)
    if name_col is None:
        return _rows(numbers_)
    names = frame[name_col].to_numpy(dtype=object)[positions]
    return _rows([f"{n} ({v})" if isinstance(v, str) and v else str(n) for n, v in zip(numbers_, names)])


def _table_locations(frame, system, lon_column, lat_column, *, source: str, problems: list[str]):
    """(lon, lat) of a table's rows as given (NaN where missing), or (None, None) on problems."""
    if system is None:
        raise InputError(
            f"{source}: units_crs is required for a table of points: say which system the lon/lat are in, "
            "units_crs='wgs84', 'gcj02' (Amap, Tencent) or 'bd09' (Baidu) (CLI --units-crs)."
        )
    cols = []
    for given, usual, what, option in ((lon_column, _LON_NAMES, "longitude", "lon_column"),
                                       (lat_column, _LAT_NAMES, "latitude", "lat_column")):
        col = _column(frame, given, usual, what=what, option=option, source=source, problems=problems,
                      loose=True, required=True)  # loose: e.g. "经度(GCJ-02)"
        cols.append(col)
    if None in cols:
        return None, None, cols
    (lon, n_lon), (lat, n_lat) = degrees(frame[cols[0]]), degrees(frame[cols[1]])
    if n_lon or n_lat:
        log.info("%s: %d coordinates read from degrees-minutes-seconds text", source, n_lon + n_lat)
    return lon, lat, cols


def _geometry_system(frame: gpd.GeoDataFrame, system, missing: np.ndarray, *, source: str, crs):
    """The coordinate system of a geometry file's numbers (units_crs= overrides the file's own)."""
    if frame.crs is None and system is None:
        raise InputError(
            f"{source}: the file has no CRS, so its coordinates cannot be placed. Pass units_crs=, e.g. "
            "units_crs='wgs84' for lon/lat, 'gcj02' for Amap coordinates or 'EPSG:32650' for UTM 50N (CLI --units-crs)."
        )
    declared = None
    if frame.crs is not None:
        declared = "wgs84" if CRS.from_user_input(frame.crs).equals(CRS.from_epsg(4326)) else frame.crs
    if system is not None and declared is not None and declared != system:
        log.warning("%s: declares CRS %s; units_crs=%r overrides it", source, frame.crs, crs)
    system = system if system is not None else declared
    if system == "wgs84" and (~missing).any():
        # GeoJSON without a "crs" member is read as EPSG:4326 (RFC 7946), even when its numbers are metres
        minx, miny, maxx, maxy = frame.geometry[~missing].total_bounds
        if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
            raise InputError(
                f"{source}: coordinates span x {minx:.6g}..{maxx:.6g}, y {miny:.6g}..{maxy:.6g}, which "
                "is not lon/lat, yet the file declares no projected CRS (a GeoJSON without a 'crs' "
                "member counts as WGS84). Pass the CRS the numbers are in, e.g. units_crs='EPSG:32650'."
            )
    return system


def _unit_ids(frame, id_column, keep, *, source: str, problems: list[str]) -> tuple[pd.Series, str | None]:
    """Ids from the user's id column (unit_id, 社区编码, code, 编号 …), else generated ``u000001`` …."""
    id_col = _column(frame, id_column, id_columns("units"), what="id", option="id_column (CLI --units-id-column)",
                     source=source, problems=problems)
    if id_col is None:
        width = max(6, len(str(len(frame))))
        return pd.Series([f"u{k:0{width}d}" for k in range(1, len(frame) + 1)], index=frame.index), None
    raw = frame[id_col]
    no_id = raw.isna().to_numpy() & keep
    if no_id.any():
        problems.append(f"column {id_col!r}: {int(no_id.sum())} rows have no id (rows {_rows(file_rows(frame, np.flatnonzero(no_id)))})")
    ids = raw.astype(str)
    if pd.api.types.is_float_dtype(raw) and (raw.dropna() % 1 == 0).all():
        ids = raw.map(lambda v: str(int(v)) if pd.notna(v) else "")  # 420102 not "420102.0"
    kept_ids = ids[keep & ~raw.isna().to_numpy()]
    dup = kept_ids[kept_ids.duplicated(keep=False)]
    if len(dup):
        problems.append(
            f"column {id_col!r}: {len(dict.fromkeys(dup))} duplicate unit ids ({_rows(list(dict.fromkeys(dup)))}); "
            "unit ids must be unique — fix the file or choose another id_column (CLI --units-id-column)"
        )
    return ids, id_col


def _unit_populations(frame, given: dict, keep, *, source: str, problems: list[str]) -> dict[str, pd.Series]:
    pops: dict[str, pd.Series] = {}
    for target, usual in (("population", POPULATION_COLUMNS), ("population_65plus", POPULATION_65PLUS_COLUMNS)):
        col = _column(frame, given[target], usual, what=target, option=f"{target}_column", source=source,
                      problems=problems)
        if col is None:
            pops[target] = pd.Series(np.nan, index=frame.index)
            continue
        values = pd.Series(numbers(frame[col]), index=frame.index)
        bad = (values.isna() & frame[col].notna()).to_numpy() & keep
        if bad.any():
            problems.append(f"column {col!r}: {int(bad.sum())} non-numeric values (rows {_rows(file_rows(frame, np.flatnonzero(bad)))})")
        neg = (values < 0).to_numpy() & keep
        if neg.any():
            problems.append(f"column {col!r}: {int(neg.sum())} negative populations (rows {_rows(file_rows(frame, np.flatnonzero(neg)))})")
        pops[target] = values.astype(np.float64)
    return pops


def _point_coordinates(wgs_x, wgs_y, own_x, own_y, system) -> dict[str, np.ndarray]:
    """``lon``/``lat`` (WGS84) and, for GCJ-02/BD-09 input, the user's own values (contract 4)."""
    out = {"lon": np.asarray(wgs_x, np.float64), "lat": np.asarray(wgs_y, np.float64)}
    if system in ("gcj02", "bd09"):
        out[f"lon_{system}"] = np.asarray(own_x, np.float64)
        out[f"lat_{system}"] = np.asarray(own_y, np.float64)
    return out


def _table_geometry(lon, lat, keep, frame, system, *, source: str):
    x, y = _to_wgs84_xy(lon[keep], lat[keep], system)
    out_of_range = ~((np.abs(x) <= 180) & (np.abs(y) <= 90))
    if out_of_range.any():
        rows = file_rows(frame, np.flatnonzero(keep)[out_of_range])
        raise ValidationError(source, [
            f"{int(out_of_range.sum())} rows have coordinates outside lon -180..180 / lat -90..90 "
            f"(rows {_rows(rows)}); check lon/lat are not swapped or projected"
        ])
    return shapely.points(x, y), _point_coordinates(x, y, lon[keep], lat[keep], system)


def _file_geometry(geometry, keep, system, *, source: str):
    geoms = geometry.to_numpy()[keep]
    invalid = ~shapely.is_valid(geoms)
    repaired = int(invalid.sum())
    if repaired:
        geoms = geoms.copy()
        geoms[invalid] = [_polygonal(g) if g.geom_type.endswith("Polygon") or g.geom_type == "GeometryCollection"
                          else g for g in shapely.make_valid(geoms[invalid])]
        log.warning("%s: repaired %d invalid geometries with shapely.make_valid", source, repaired)
    own = geoms
    if system in ("gcj02", "bd09"):
        geoms = shapely.transform(geoms, lambda xy: np.column_stack(_to_wgs84_xy(xy[:, 0], xy[:, 1], system)))
    elif system != "wgs84":
        geoms = gpd.GeoSeries(geoms, crs=system).to_crs("EPSG:4326").to_numpy()
    coords = {}
    if len(geoms) and (shapely.get_type_id(geoms) == 0).all():  # all points
        coords = _point_coordinates(shapely.get_x(geoms), shapely.get_y(geoms), shapely.get_x(own),
                                    shapely.get_y(own), system)
    return geoms, coords, repaired


def _rows_without_location(frame, missing, name_col, drop_missing: bool, *, table: bool, source: str,
                           problems: list[str]) -> tuple[np.ndarray, int, str]:
    """(rows to keep, rows dropped, their labels): a problem naming the rows, or with
    ``drop_missing`` the rows dropped and counted.
    """
    dropped = int(missing.sum())
    labels = _row_labels(frame, np.flatnonzero(missing), name_col, table=table) if dropped else ""
    where = "rows" if table else "features"
    if dropped and not drop_missing:
        problems.append(
            f"{dropped} of {len(frame)} rows have no {'coordinates' if table else 'geometry'} ({where} {labels}); "
            "fill them in, or drop them with drop_missing=True (CLI --drop-missing)"
        )
    elif dropped:
        log.warning("%s: dropped %d of %d rows without a location (%s %s)", source, dropped, len(frame), where, labels)
    keep = ~missing if drop_missing else np.ones(len(frame), dtype=bool)
    if drop_missing and not keep.any():
        raise NoDataError(f"{source}: none of its {len(frame)} rows has a location; nothing to load.")
    return keep, dropped, labels


def _assemble(frame, keep, ids, name_col, pops, coords, geoms, *, skip: set, table: bool, text: list):
    """The units frame: contract columns, then lon/lat columns, then the file's other columns."""
    rest = frame.loc[keep, [c for c in frame.columns if c not in skip]]
    if table:  # the file's other columns: numbers as numbers, codes with leading zeros and ids as text
        rest = restore_numbers(rest, keep_text=text)
    names = (frame.loc[keep, name_col].fillna("").astype(str).to_numpy(dtype=object) if name_col is not None
             else np.full(int(keep.sum()), "", dtype=object))
    return gpd.GeoDataFrame(
        {
            "unit_id": ids[keep].to_numpy(dtype=object),
            "name": names,
            "population": pops["population"][keep].to_numpy(),
            "population_65plus": pops["population_65plus"][keep].to_numpy(),
            **coords,
            **{c: rest[c].to_numpy() for c in rest.columns},
        },
        geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"),
        crs="EPSG:4326",
    )


@renamed_keywords(crs="units_crs")
def load_units(
    path: str | Path,
    *,
    id_column: str | None = None,
    name_column: str | None = None,
    population_column: str | None = None,
    population_65plus_column: str | None = None,
    units_crs: Any = None,
    lon_column: str | None = None,
    lat_column: str | None = None,
    drop_missing: bool = False,
    sheet: str | int | None = None,
) -> gpd.GeoDataFrame:
    """Load neighbourhood units from a geometry file or a table of points.

    Parameters
    ----------
    path : str or Path
        GeoJSON, GeoPackage, Shapefile or FlatGeobuf of polygons (or points),
        or a table (CSV/TSV/TXT in UTF-8, BOM or GBK; ``.xlsx``) with one row
        per unit and lon/lat columns.
    id_column : str, optional
        Column of unique unit ids; default the first of ``unit_id``,
        ``社区编码``, ``id``, ``编号``, ``编码``, ``code`` … present, else ids
        ``u000001``, … are generated in file order.
    name_column : str, optional
        Column of names; default ``name``/``名称``/``社区名称`` … when present.
    population_column, population_65plus_column : str, optional
        Columns of persons per unit (default ``population``/``人口`` and
        ``population_65plus``/``65岁以上人口`` when present, else NaN).
    units_crs : str or CRS-like, optional
        System of the coordinates: ``"wgs84"``, ``"gcj02"``, ``"bd09"`` or
        any pyproj CRS.  Required for tables and for geometry files without a
        CRS; for a geometry file that declares one it overrides the declaration
        (CLI ``--units-crs``; formerly ``crs``, still accepted with a DeprecationWarning).
    lon_column, lat_column : str, optional
        Coordinate columns of a table; default found by name (lon/lng/longitude/经度 …).
    drop_missing : bool, default False
        Rows without coordinates/geometry raise :class:`ValidationError`
        naming them; with ``True`` (CLI ``--drop-missing``) they are dropped
        and counted in ``units.attrs["dropped_rows"]``.
    sheet : str or int, optional
        Excel sheet (name or 0-based position); default the first.

    Returns
    -------
    geopandas.GeoDataFrame
        Contract columns first; for point units then ``lon``, ``lat`` (WGS84)
        and ``lon_gcj02``/``lat_gcj02`` (or ``_bd09``) with the user's own
        values — a table's original lon/lat columns are replaced by these;
        then the file's other columns.  CRS EPSG:4326.  ``attrs``: ``source``,
        ``rows_read``, ``dropped_rows``, ``dropped_labels``,
        ``repaired_geometries``, ``coordinate_system``, ``id_column``,
        ``empty_rows_ignored`` (trailing empty rows of a table).

    Raises
    ------
    InputFileNotFoundError, NoDataError, InputError
        Missing or empty file, unreadable format, unknown CRS.
    ValidationError
        All problems found at once: missing columns, duplicate or missing ids,
        rows without coordinates, non-numeric or negative populations, …
    """
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise InputFileNotFoundError(f"{path} does not exist; check the path to the units file (CLI --units).")
    system = _coordinate_system(units_crs, source=source)
    problems: list[str] = []
    frame = read_table(path, sheet=sheet, what="unit", parameter="units (CLI --units)")
    table = frame.attrs.get("kind") == "table"
    if table:
        lon, lat, lonlat_cols = _table_locations(frame, system, lon_column, lat_column, source=source,
                                                 problems=problems)
        if lon is None:
            raise ValidationError(source, problems)
        missing = ~(np.isfinite(lon) & np.isfinite(lat))
    else:
        lonlat_cols = []
        missing = (frame.geometry.isna() | frame.geometry.is_empty).to_numpy()
        system = _geometry_system(frame, system, missing, source=source, crs=units_crs)
    frame = frame.reset_index(drop=True)
    name_col = _column(frame, name_column, NAME_COLUMNS, what="name", option="name_column (CLI --units-name-column)",
                       source=source, problems=problems)

    keep, dropped, labels = _rows_without_location(frame, missing, name_col, drop_missing, table=table,
                                                   source=source, problems=problems)
    ids, id_col = _unit_ids(frame, id_column, keep, source=source, problems=problems)
    pops = _unit_populations(frame, {"population": population_column, "population_65plus": population_65plus_column},
                             keep, source=source, problems=problems)
    if problems:
        raise ValidationError(source, problems)

    if table:
        geoms, coords = _table_geometry(lon, lat, keep, frame, system, source=source)
        repaired = 0
    else:
        geoms, coords, repaired = _file_geometry(frame.geometry, keep, system, source=source)
    skip = set(UNIT_COLUMNS) | set(coords) | {"geometry", frame.geometry.name if not table else "geometry"}
    if system in ("wgs84", "gcj02", "bd09"):
        skip |= set(lonlat_cols)  # now under labelled names (lon/lat, lon_gcj02/lat_gcj02)
    units = _assemble(frame, keep, ids, name_col, pops, coords, geoms, skip=skip, table=table,
                      text=[c for c in (id_col, name_col) if c is not None])
    _unit_kind(units, source=source)
    units.attrs.update({
        "source": source, "rows_read": len(frame), "dropped_rows": dropped if drop_missing else 0,
        "dropped_labels": labels if drop_missing else "", "repaired_geometries": repaired,
        "coordinate_system": system if isinstance(system, str) else str(system), "id_column": id_col,
        "empty_rows_ignored": int(frame.attrs.get("dropped_empty_rows", 0)),
    })
    log.info("%s: %d units loaded", source, len(units))
    return units
