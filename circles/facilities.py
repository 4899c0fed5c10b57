"""Facilities: read them from user files or OSM features, classify, convert to WGS84.

Both entry points return a :class:`FacilitySet`:

``facilities``
    EPSG:4326 GeoDataFrame, **one row per (feature, category)**, columns
    ``facility_id`` (``"<feature_id>:<category>"``, unique), ``feature_id``,
    ``category``, ``name``, ``source`` (file name or ``"osm"``), ``label``
    (the original category text, or the OSM tags that matched), ``basis``
    (why the category was assigned, see :class:`circles.classify.Match`) and
    a WGS84 ``Point`` geometry.  Capacity columns of a file (``beds``,
    ``nursing_beds``, ``childcare_places``, ``level``, ``medical_care_integrated``,
    ``aed_count``, ``family_elderly_beds``; Chinese headers too, see
    :mod:`circles.facility_capacity`) come before the geometry when it has them;
    a facility whose ``aed_count`` is above 0 is also an ``aed`` location.
``unclassified``
    DataFrame of the input rows that fell in no category — never dropped
    silently: ``row`` (1-based data row / feature number), ``feature_id``,
    ``name``, ``label``.
``notes``
    Human-readable remarks worth reporting (coordinate conversion applied,
    hospitals counted as ambulance stations, name hints used …).

Coordinates: every input must say which system it is in (``crs="wgs84"``,
``"gcj02"`` or ``"bd09"``; STANDARDS §5) and is converted with the exact
inverse in :mod:`circles.coords`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from circles import _tables
from circles.classify import ASSUMED_PRIMARY_BASIS, CATEGORIES, Match, match_label, match_name, match_tags
from circles.coords import check_lonlat, to_wgs84
from circles.errors import InputError, InputFileNotFoundError
from circles.facility_capacity import read_capacities

# The reading itself lives in circles._tables (shared with candidates and units);
# these names stay importable from here.
CSV_ENCODINGS = _tables.CSV_ENCODINGS
CSV_EXTENSIONS: tuple[str, ...] = _tables.TABLE_EXTENSIONS
GEOMETRY_EXTENSIONS: tuple[str, ...] = _tables.GEOMETRY_EXTENSIONS
LON_COLUMNS: tuple[str, ...] = _tables.LON_COLUMNS
LAT_COLUMNS: tuple[str, ...] = _tables.LAT_COLUMNS
CATEGORY_COLUMNS: tuple[str, ...] = _tables.CATEGORY_COLUMNS
NAME_COLUMNS: tuple[str, ...] = _tables.NAME_COLUMNS
ID_COLUMNS: tuple[str, ...] = _tables.id_columns("facilities")

#: Columns of a facility frame; a GCJ-02/BD-09 input adds ``lon_gcj02``/``lat_gcj02``
#: (or ``lon_bd09``/``lat_bd09``: the user's own numbers) before ``geometry``.
FACILITY_COLUMNS: tuple[str, ...] = ("facility_id", "feature_id", "category", "name", "source", "label", "basis",
                                     "lon", "lat", "geometry")
_TEXT_COLUMNS: tuple[str, ...] = FACILITY_COLUMNS[:7]
UNCLASSIFIED_COLUMNS: tuple[str, ...] = ("row", "feature_id", "name", "label")


@dataclass(frozen=True)
class FacilitySet:
    """Classified facilities plus what could not be classified.

    Attributes
    ----------
    facilities : geopandas.GeoDataFrame
        EPSG:4326, one row per (feature, category); columns
        :data:`FACILITY_COLUMNS`.
    unclassified : pandas.DataFrame
        Input rows in no category; columns :data:`UNCLASSIFIED_COLUMNS`.
    source : str, default ""
        File name (or ``"osm"``) the set came from.
    n_input : int, optional
        Number of input rows/features read; when not given it is counted as
        distinct ``feature_id`` values plus unclassified rows.
    notes : tuple of str
        Remarks to report with the results.
    """

    facilities: gpd.GeoDataFrame
    unclassified: pd.DataFrame
    source: str = ""
    n_input: int | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.n_input is None:
            f = self.facilities
            key = "feature_id" if "feature_id" in f.columns else ("facility_id" if "facility_id" in f.columns else None)
            n = int(f[key].nunique()) if key else len(f)
            object.__setattr__(self, "n_input", n + len(self.unclassified))

    def counts(self) -> pd.Series:
        """Facilities per category, every category listed (0 where none), canonical order.

        Returns
        -------
        pandas.Series
            Category -> number of facilities.
        """
        return self.facilities["category"].value_counts().reindex(list(CATEGORIES), fill_value=0).astype(int)

    def missing_categories(self, categories: tuple[str, ...] | list[str] | None = None) -> list[str]:
        """Categories with no facility: report these as "no data".

        Parameters
        ----------
        categories : sequence of str, optional
            The categories to look at; default all.

        Returns
        -------
        list of str
        """
        wanted = list(categories) if categories is not None else list(CATEGORIES)
        counts = self.counts()
        return [c for c in wanted if counts.get(c, 0) == 0]


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _clean_text(values: Any, n: int) -> list[str]:
    return _tables.text_values(values, n)


def _coordinate_columns(lon: np.ndarray, lat: np.ndarray, kind: str | None = None,
                        lon_in: np.ndarray | None = None, lat_in: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """``lon``/``lat`` (WGS84) plus, for GCJ-02/BD-09 input, ``lon_<kind>``/``lat_<kind>`` as given."""
    out = {"lon": np.asarray(lon, dtype=float), "lat": np.asarray(lat, dtype=float)}
    if kind in ("gcj02", "bd09") and lon_in is not None and lat_in is not None:
        out[f"lon_{kind}"] = np.asarray(lon_in, dtype=float)
        out[f"lat_{kind}"] = np.asarray(lat_in, dtype=float)
    return out


def _build(
    *,
    feature_ids: list[str],
    names: list[str],
    labels: list[str],
    matches: list[list[Match]],
    lon: np.ndarray,
    lat: np.ndarray,
    source: str,
    notes: list[str],
    kind: str | None = None,
    lon_in: np.ndarray | None = None,
    lat_in: np.ndarray | None = None,
    keep_ids: bool = False,
) -> FacilitySet:
    """The facility set; with ``keep_ids`` a feature of one category keeps the user's id as ``facility_id``."""
    coords = _coordinate_columns(lon, lat, kind, lon_in, lat_in)
    rows, positions, unclassified = [], [], []
    for i, (fid, name, label, ms) in enumerate(zip(feature_ids, names, labels, matches)):
        if not ms:
            unclassified.append((i + 1, fid, name, label))
            continue
        for m in ms:
            facility_id = fid if keep_ids and len(ms) == 1 else f"{fid}:{m.category}"
            rows.append((facility_id, fid, m.category, name, source, label, m.basis))
            positions.append(i)
    frame = pd.DataFrame(rows, columns=list(_TEXT_COLUMNS))
    pos = np.asarray(positions, dtype=np.int64)
    for col, values in coords.items():
        frame[col] = values[pos] if len(pos) else np.zeros(0)
    geometry = gpd.points_from_xy(frame["lon"].to_numpy(float), frame["lat"].to_numpy(float), crs="EPSG:4326")
    gdf = gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")
    for col in _TEXT_COLUMNS:
        gdf[col] = gdf[col].astype(object)
    dup = gdf["facility_id"][gdf["facility_id"].duplicated(keep=False)]
    if len(dup):
        raise InputError(f"{source}: ids {sorted(dup.unique())[:10]} occur more than once once the categories "
                         "are added (an id equal to another row's '<id>:<category>'); rename them")
    unc = pd.DataFrame(unclassified, columns=list(UNCLASSIFIED_COLUMNS))
    unc["row"] = unc["row"].astype(int)
    if len(unc):
        notes.append(f"{len(unc)} of {len(feature_ids)} rows matched no facility category (see .unclassified)")
    gdf.attrs["input_rows"] = pos
    return FacilitySet(facilities=gdf, unclassified=unc, source=source, n_input=len(feature_ids), notes=tuple(notes))


def _feature_ids(values: list[str] | None, n: int, source: str, column: str | None) -> list[str]:
    if values is None:
        return [str(i + 1) for i in range(n)]
    ids = [v if v else str(i + 1) for i, v in enumerate(values)]
    dup = pd.Series(ids)[pd.Series(ids).duplicated(keep=False)]
    if len(dup):
        shown = ", ".join(f"row {i + 1} ({v!r})" for i, v in list(dup.items())[:10])
        raise InputError(
            f"{source}: id column {column!r} has duplicate values: {shown}; ids must be unique — "
            "fix them or omit id_column to number rows instead"
        )
    return ids


@dataclass
class PointTable:
    """Rows of a point file: attributes (text) and coordinates, as read by :func:`read_points`.

    ``lon``/``lat`` are WGS84; ``lon_in``/``lat_in`` the numbers as given
    (in ``kind``); ``table`` the attribute columns (no geometry).
    """

    table: pd.DataFrame
    lon: np.ndarray
    lat: np.ndarray
    lon_in: np.ndarray
    lat_in: np.ndarray
    kind: str
    source: str
    notes: list[str]

    @property
    def columns(self) -> list[str]:
        """The attribute columns' names.

        Returns
        -------
        list of str
        """
        return [str(c) for c in self.table.columns]


def _lonlat_from_table(table: pd.DataFrame, path: Path, lon_column, lat_column,
                       notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    columns = [str(c) for c in table.columns]
    lon_col = _tables.find_column(columns, lon_column, LON_COLUMNS, what="longitude", option="lon_column",
                                  source=str(path), loose=True)
    lat_col = _tables.find_column(columns, lat_column, LAT_COLUMNS, what="latitude", option="lat_column",
                                  source=str(path), loose=True)
    if lon_col is None and lat_col is None and lon_column is None and lat_column is None:
        pair = _lonlat_pair(table, path)
        if pair is not None:
            return pair
    if lon_col is None or lat_col is None:
        missing = [w for w, c in (("longitude", lon_col), ("latitude", lat_col)) if c is None]
        raise InputError(
            f"{path}: no {' or '.join(missing)} column found; the columns are: {', '.join(columns)}. "
            f"Expected one named like {'/'.join(LON_COLUMNS[:6])} and {'/'.join(LAT_COLUMNS[:4])}, "
            "or name them with lon_column=/lat_column= (CLI: --lon-column/--lat-column)"
        )
    (lon, n_lon), (lat, n_lat) = _tables.degrees(table[lon_col]), _tables.degrees(table[lat_col])
    if n_lon or n_lat:
        notes.append(f"{max(n_lon, n_lat)} row(s) with coordinates in degrees-minutes-seconds converted to decimal degrees")
    # non-numeric text is reported as such (check_lonlat names the rows)
    check_lonlat(np.where(np.isnan(lon), table[lon_col].to_numpy(object), lon).astype(object),
                 np.where(np.isnan(lat), table[lat_col].to_numpy(object), lat).astype(object),
                 f"{path} (columns {lon_col!r}, {lat_col!r})", row_word="row")
    return lon, lat


def _lonlat_pair(table: pd.DataFrame, path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """lon/lat from one "lon,lat" column (Amap's ``location``), or None when there is none."""
    col = _tables.find_column(table, None, _tables.LOCATION_COLUMNS, what="location", option="lon_column",
                              source=str(path), loose=True)
    if col is None:
        return None
    parts = table[col].astype(object).map(lambda v: re.split(r"\s*[,，;\s]\s*", v.strip()) if isinstance(v, str) else [])
    ok = parts.map(len) == 2
    lon = _tables.numbers(parts.map(lambda p: p[0] if len(p) == 2 else None))
    lat = _tables.numbers(parts.map(lambda p: p[1] if len(p) == 2 else None))
    bad = np.flatnonzero(~ok.to_numpy() | np.isnan(lon) | np.isnan(lat))
    if bad.size:
        raise InputError(f"{path}: column {col!r} should hold 'lon,lat' pairs (e.g. 114.275742,30.583490); "
                         f"{bad.size} row(s) do not (rows {', '.join(str(i + 1) for i in bad[:10])}); fix them, "
                         "or give separate longitude/latitude columns")
    check_lonlat(lon, lat, f"{path} (column {col!r} as lon,lat)", row_word="row")
    return lon, lat


def _lonlat_from_geometry(table: gpd.GeoDataFrame, path: Path, kind: str | None,
                          notes: list[str]) -> tuple[np.ndarray, np.ndarray, str]:
    geom = table.geometry
    if geom.isna().any() or geom.is_empty.any():
        bad = np.flatnonzero(geom.isna().to_numpy() | geom.is_empty.to_numpy()) + 1
        raise InputError(
            f"{path}: {len(bad)} feature(s) have no geometry (features {', '.join(map(str, bad[:10]))}); "
            "remove them or give them a location"
        )
    if table.crs is None:
        if kind is None:
            raise InputError(
                f"{path}: the file declares no CRS; pass crs= ('wgs84', 'gcj02' or 'bd09') to say "
                "which lon/lat system its coordinates are in"
            )
    elif not table.crs.equals("EPSG:4326"):
        if table.crs.is_geographic and kind is None:
            kind = "wgs84"
        notes.append(f"reprojected from {table.crs.to_string()} to EPSG:4326")
        table = table.to_crs("EPSG:4326")
        geom = table.geometry
    points = geom.where(geom.geom_type == "Point", geom.representative_point())
    n_poly = int((geom.geom_type != "Point").sum())
    if n_poly:
        notes.append(f"{n_poly} non-point features placed at a representative point inside them")
    lon, lat = shapely.get_x(points.values), shapely.get_y(points.values)
    check_lonlat(lon, lat, str(path), row_word="feature")
    return np.asarray(lon, float), np.asarray(lat, float), kind or "wgs84"


def read_points(
    path: str | Path,
    *,
    crs: str | None = None,
    lon_column: str | None = None,
    lat_column: str | None = None,
    sheet: str | int | None = None,
    what: str = "facility",
    parameter: str = "facilities",
) -> PointTable:
    """Read a table or geometry file of points: attributes plus WGS84 and as-given coordinates.

    Parameters are those of :func:`read_facility_file`; ``what`` names one row
    in messages and ``parameter`` the argument that named the file.

    Returns
    -------
    PointTable
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise InputFileNotFoundError(f"{what} file {str(path)!r} does not exist; check the path")
    if path.is_dir() and path.suffix.lower() not in GEOMETRY_EXTENSIONS:
        raise InputError(f"{path}: is a folder; expected a {what} file ({', '.join(CSV_EXTENSIONS + GEOMETRY_EXTENSIONS)})")
    kind = _tables.crs_name(crs)
    notes: list[str] = []
    geometry_file = _tables.is_geometry_file(path)
    if not geometry_file and kind is None and path.suffix.lower() in CSV_EXTENSIONS:
        raise InputError(
            f"{path}: say which coordinate system the lon/lat columns are in with crs= "
            "('wgs84' for GPS/OSM, 'gcj02' for Amap/Gaode/Tencent, 'bd09' for Baidu); "
            "in Wuhan the wrong choice moves points about 550 m"
        )
    table = _tables.read_table(path, sheet=sheet, what=what, parameter=parameter)
    if table.attrs.get("dropped_empty_rows"):
        notes.append(f"{table.attrs['dropped_empty_rows']} empty row(s) at the end of the file ignored")
    if table.attrs.get("encoding", "").startswith("GB"):
        notes.append("read as GB18030/GBK text")
    if geometry_file:
        lon_in, lat_in, kind = _lonlat_from_geometry(table, path, kind, notes)
        attributes = pd.DataFrame(table.drop(columns=table.geometry.name))
    else:
        lon_in, lat_in = _lonlat_from_table(table, path, lon_column, lat_column, notes)
        attributes = table
        assert kind is not None  # a table without crs= was refused above
    if kind != "wgs84":
        lon, lat = to_wgs84(lon_in, lat_in, kind)
        notes.append(f"coordinates converted from {kind} to WGS84 (exact inverse)")
    else:
        lon, lat = lon_in, lat_in
    return PointTable(table=attributes, lon=np.asarray(lon, float), lat=np.asarray(lat, float), lon_in=lon_in,
                      lat_in=lat_in, kind=kind, source=path.name, notes=notes)


def _classify_points(
    pts: PointTable,
    path: Path,
    *,
    category_column: str | None,
    name_column: str | None,
    id_column: str | None,
    category: str | None,
    name_hints: bool,
    id_usual: tuple[str, ...] = ID_COLUMNS,
) -> FacilitySet:
    """Classify the rows of a :class:`PointTable` into a :class:`FacilitySet`."""
    table, columns, notes = pts.table, pts.columns, list(pts.notes)
    n = len(table)
    cat_col = None
    if category is None:
        cat_col = _tables.find_column(columns, category_column, CATEGORY_COLUMNS, what="category",
                                      option="category_column", source=str(path))
        if cat_col is None:
            raise InputError(
                f"{path}: no category column found; the columns are: {', '.join(columns)}. Name it with "
                f"category_column= (CLI: --category-column; usual names {'/'.join(CATEGORY_COLUMNS[:5])}), "
                "or put every row in one category with category= (e.g. category='ambulance_station')"
            )
    name_col = _tables.find_column(columns, name_column, NAME_COLUMNS, what="name", option="name_column",
                                   source=str(path))
    id_col = _tables.find_column(columns, id_column, id_usual, what="id", option="id_column", source=str(path))
    names = _clean_text(table[name_col] if name_col else None, n)
    labels = _clean_text(table[cat_col], n) if cat_col else [str(category)] * n  # no column: category= given
    ids = _feature_ids(_clean_text(table[id_col], n) if id_col else None, n, str(path), id_col)

    if category is not None:
        matches = [[Match(category, "category=")] for _ in range(n)]
    else:
        known: dict[str, list[Match]] = {}  # labels repeat: classify each once
        matches = [list(known[label]) if label in known else list(known.setdefault(label, match_label(label)))
                   for label in labels]
        if name_hints:
            used = 0
            for i, ms in enumerate(matches):
                if not ms:
                    hinted = match_name(names[i])
                    if hinted:
                        matches[i] = hinted
                        used += 1
            notes.append(f"{used} rows with no category from their label were classified from their name (name_hints=True)")
    capacities, capacity_notes = read_capacities(table, pts.source)
    notes.extend(capacity_notes)
    _add_aed_locations(matches, capacities, notes)
    fs = _build(feature_ids=ids, names=names, labels=labels, matches=matches, lon=pts.lon, lat=pts.lat,
                source=pts.source, notes=notes, kind=pts.kind, lon_in=pts.lon_in, lat_in=pts.lat_in,
                keep_ids=id_col is not None)
    _add_capacities(fs.facilities, capacities)
    fs.facilities.attrs["id_column"] = id_col
    return fs


def _add_aed_locations(matches: list[list[Match]], capacities: pd.DataFrame, notes: list[str]) -> None:
    """A row of another category whose AED column says it has AEDs is also an AED location (in place)."""
    if "aed_count" not in capacities.columns:
        return
    counts = capacities["aed_count"].to_numpy(float)
    added = 0
    for i, ms in enumerate(matches):
        if counts[i] > 0 and ms and not any(m.category == "aed" for m in ms):
            ms.append(Match("aed", "column aed_count"))
            added += 1
    if added:
        notes.append(f"{added} facilities with AEDs (column aed_count) also counted as AED locations")


def _add_capacities(facilities: gpd.GeoDataFrame, capacities: pd.DataFrame) -> None:
    """Put the capacity columns of the input rows on their facilities, before ``geometry`` (in place)."""
    rows = np.asarray(facilities.attrs.get("input_rows", np.zeros(0, dtype=np.int64)), dtype=np.int64)
    at = list(facilities.columns).index(facilities.geometry.name)
    for name in capacities.columns:
        facilities.insert(at, name, capacities[name].to_numpy()[rows] if len(rows) else capacities[name].iloc[:0])
        at += 1


# ---------------------------------------------------------------------------
# public
# ---------------------------------------------------------------------------


def read_facility_file(
    path: str | Path,
    *,
    crs: str | None = None,
    lon_column: str | None = None,
    lat_column: str | None = None,
    category_column: str | None = None,
    name_column: str | None = None,
    id_column: str | None = None,
    category: str | None = None,
    name_hints: bool = False,
    sheet: str | int | None = None,
) -> FacilitySet:
    """Read facilities from a CSV/TSV, Excel, GeoJSON, GeoPackage or Shapefile.

    Parameters
    ----------
    path : str or path-like
        ``.csv``/``.txt``/``.tsv`` (encodings tried: UTF-8 with or without
        BOM, then GBK/GB18030), ``.xlsx`` (first sheet or ``sheet=``),
        ``.geojson``/``.json``, ``.gpkg`` or ``.shp`` (see :mod:`circles._tables`).
    crs : {"wgs84", "gcj02", "bd09"}, optional
        Coordinate system the numbers are in.  Required for tables and for
        geometry files without a CRS.  For a geometry file that declares
        EPSG:4326, ``crs="gcj02"`` means its lon/lat are GCJ-02 numerically
        (common for Amap exports); a projected file is first reprojected to
        EPSG:4326 and then shifted if ``crs`` is gcj02/bd09.
    lon_column, lat_column : str, optional
        Coordinate columns; default: the first of the usual names
        (``lon``/``lng``/``longitude``/``x``/``经度``,
        ``lat``/``latitude``/``y``/``纬度``), case-insensitive.
    category_column : str, optional
        Column with category ids or free labels (``医院``, an Amap type
        string, ``hospital`` …); default: ``category``/``type``/``类别``/
        ``类型``/``分类`` …
    name_column, id_column : str, optional
        Name and id columns; defaults: ``name``/``名称``/``Name_POI`` … and
        ``facility_id``/``id``/``编号``/``编码``/``code`` …; without an id
        column rows are numbered from 1.
    category : str, optional
        Put every row in this category id (a file of one kind, e.g. ambulance
        stations) instead of reading a category column.
    name_hints : bool, default False
        Classify rows whose label matches nothing from their name
        (``"XX医院"`` …).  Off by default: names such as ``万达广场`` (a mall)
        make noisy matches; the notes say how many rows used it.
    sheet : str or int, optional
        Excel sheet name or 0-based position (default the first sheet;
        CLI ``--facilities-sheet``).

    Returns
    -------
    FacilitySet
        ``facility_id`` is the user's id when the file has an id column and
        the row falls in one category (``<id>:<category>`` for a row in
        several, ``<row>:<category>`` without ids).  ``lon``/``lat`` are
        WGS84; a GCJ-02/BD-09 input also keeps its own numbers in
        ``lon_gcj02``/``lat_gcj02`` (or ``lon_bd09``/``lat_bd09``).

    Raises
    ------
    InputFileNotFoundError
        ``path`` does not exist.
    InputError
        Unknown extension, unknown or missing ``crs``, no coordinate or
        category column, bad coordinates (missing, out of range, swapped),
        duplicate ids, unknown sheet.
    NoDataError
        The file has no rows.

    Examples
    --------
    >>> fs = read_facility_file("weibo_pois_gcj02.csv", crs="gcj02")  # doctest: +SKIP
    >>> fs.counts()["primary_care"]  # doctest: +SKIP
    47
    """
    path = Path(path).expanduser()
    if category is not None and category not in CATEGORIES:
        raise InputError(f"category={category!r} is not a category id; expected one of {', '.join(CATEGORIES)}")
    pts = read_points(path, crs=crs, lon_column=lon_column, lat_column=lat_column, sheet=sheet,
                      what="facility", parameter="facilities")
    return _classify_points(pts, path, category_column=category_column, name_column=name_column,
                            id_column=id_column, category=category, name_hints=name_hints)


def facilities_from_features(
    features: gpd.GeoDataFrame,
    *,
    source: str = "osm",
    hospital_as_ambulance: bool = False,
) -> FacilitySet:
    """Classify OSM features (points or polygons) into facilities.

    Parameters
    ----------
    features : geopandas.GeoDataFrame
        Columns ``feature_id``, ``tags`` (a dict of OSM tags per row),
        ``name`` (optional; used when the tags have no ``name``) and a
        geometry in EPSG:4326 (a frame without a CRS is taken as EPSG:4326;
        another CRS is reprojected).  Polygons and lines are placed at their
        representative point.
    source : str, default "osm"
        Value of the ``source`` column.
    hospital_as_ambulance : bool, default False
        Count hospitals tagged ``emergency=yes`` as ambulance stations too;
        the notes say how many.

    Returns
    -------
    FacilitySet
        ``label`` holds the matching tags (``"amenity=hospital"``).
    """
    if not isinstance(features, gpd.GeoDataFrame):
        raise InputError(f"features: expected a GeoDataFrame, got {type(features).__name__}")
    missing = [c for c in ("feature_id", "tags") if c not in features.columns]
    if missing:
        raise InputError(
            f"features: missing column(s) {', '.join(missing)}; expected feature_id, tags (dict of OSM tags), "
            f"name and geometry; the columns are: {', '.join(map(str, features.columns))}"
        )
    notes: list[str] = []
    frame = features
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs("EPSG:4326")
        notes.append(f"reprojected from {features.crs.to_string()} to EPSG:4326")
    n = len(frame)
    geom = frame.geometry
    empty = geom.isna().to_numpy() | geom.is_empty.to_numpy()
    if empty.any():
        raise InputError(
            f"features: {int(empty.sum())} feature(s) have no geometry (feature_id "
            f"{', '.join(map(str, frame['feature_id'].to_numpy()[empty][:10]))}); drop them first"
        )
    points = geom.where(geom.geom_type == "Point", geom.representative_point())
    lon, lat = shapely.get_x(points.values), shapely.get_y(points.values)
    check_lonlat(lon, lat, "features", row_word="feature")
    tags_list = [t if isinstance(t, dict) else {} for t in frame["tags"]]
    name_values = _clean_text(frame["name"] if "name" in frame.columns else None, n)
    names, labels, matches = [], [], []
    n_hosp = 0
    for tags, fallback_name in zip(tags_list, name_values):
        tags = dict(tags)
        if fallback_name and not tags.get("name"):
            tags["name"] = fallback_name
        ms = match_tags(tags, hospital_as_ambulance=hospital_as_ambulance)
        n_hosp += any(m.basis == "hospital_as_ambulance" for m in ms)
        matches.append(ms)
        names.append(str(tags.get("name") or tags.get("name:zh") or tags.get("name:en") or ""))
        labels.append(
            ";".join(
                f"{k}={tags[k]}"
                for k in ("amenity", "shop", "leisure", "healthcare", "emergency", "social_facility", "tourism", "place", "highway")
                if isinstance(tags.get(k), str)
            )
        )
    if hospital_as_ambulance:
        notes.append(
            f"{n_hosp} hospital(s) tagged emergency=yes counted as ambulance stations (hospital_as_ambulance=True); "
            "this is a fallback, not a list of 120 stations"
        )
    n_assumed = sum(1 for ms in matches if any(m.basis == ASSUMED_PRIMARY_BASIS for m in ms))
    if n_assumed:
        notes.append(f"{n_assumed} school(s) tagged amenity=school with no level in their tags or names counted "
                     f"as primary schools (assumed)")
    n_name = sum(1 for ms in matches if ms and all(m.basis == "name" for m in ms))
    if n_name:
        notes.append(f"{n_name} feature(s) classified from their name only (no telling tag)")
    ids = [str(v) for v in frame["feature_id"]]
    dup = pd.Series(ids).duplicated()
    if dup.any():
        raise InputError(
            f"features: feature_id must be unique; duplicated: {', '.join(pd.Series(ids)[dup].unique()[:10])}"
        )
    return _build(feature_ids=ids, names=names, labels=labels, matches=matches, lon=lon, lat=lat, source=source, notes=notes)
