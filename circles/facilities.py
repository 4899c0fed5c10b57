"""Facilities: read them from user files or OSM features, classify, convert to WGS84.

Both entry points return a :class:`FacilitySet`:

``facilities``
    EPSG:4326 GeoDataFrame, **one row per (feature, category)**, columns
    ``facility_id`` (``"<feature_id>:<category>"``, unique), ``feature_id``,
    ``category``, ``name``, ``source`` (file name or ``"osm"``), ``label``
    (the original category text, or the OSM tags that matched), ``basis``
    (why the category was assigned, see :class:`circles.classify.Match`) and
    a WGS84 ``Point`` geometry.
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

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .classify import CATEGORIES, Match, match_label, match_name, match_tags
from .coords import check_lonlat, normalize_crs, to_wgs84
from .errors import InputError, InputFileNotFoundError, NoDataError

#: Encodings tried in order for CSV files (utf-8-sig also reads plain UTF-8;
#: gb18030 is a superset of GBK/GB2312).
CSV_ENCODINGS: tuple[str, ...] = ("utf-8-sig", "gb18030")
#: File extensions read as CSV / as geometry files.
CSV_EXTENSIONS: tuple[str, ...] = (".csv", ".txt")
GEOMETRY_EXTENSIONS: tuple[str, ...] = (".geojson", ".json", ".gpkg")

#: Usual column names (compared case-insensitively, in priority order).
LON_COLUMNS: tuple[str, ...] = ("lon", "lng", "longitude", "long", "x", "经度", "wgs84_lon", "gcj02_lon", "bd09_lon")
LAT_COLUMNS: tuple[str, ...] = ("lat", "latitude", "y", "纬度", "wgs84_lat", "gcj02_lat", "bd09_lat")
CATEGORY_COLUMNS: tuple[str, ...] = ("category", "type", "类别", "类型", "分类", "poi_type", "typecode_name", "kind")
NAME_COLUMNS: tuple[str, ...] = ("name", "名称", "name_poi", "poi_name", "title", "名字", "name_zh")
ID_COLUMNS: tuple[str, ...] = ("facility_id", "feature_id", "id", "poi_id", "uid", "fid", "编号")

FACILITY_COLUMNS: tuple[str, ...] = ("facility_id", "feature_id", "category", "name", "source", "label", "basis", "geometry")
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
        """Facilities per category, every category listed (0 where none), canonical order."""
        return self.facilities["category"].value_counts().reindex(list(CATEGORIES), fill_value=0).astype(int)

    def missing_categories(self, categories: tuple[str, ...] | list[str] | None = None) -> list[str]:
        """Categories (of ``categories``, default all) with no facility: report these as "no data"."""
        wanted = list(categories) if categories is not None else list(CATEGORIES)
        counts = self.counts()
        return [c for c in wanted if counts.get(c, 0) == 0]


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _find_column(columns: list[str], wanted: str | None, usual: tuple[str, ...], what: str, option: str, source: str) -> str | None:
    """Return the column to use: ``wanted`` if given (must exist), else the first usual name present."""
    if wanted is not None:
        if wanted in columns:
            return wanted
        lower = {c.lower(): c for c in columns}
        if wanted.lower() in lower:
            return lower[wanted.lower()]
        raise InputError(
            f"{source}: {option}={wanted!r} is not a column; the columns are: {', '.join(map(str, columns))}; "
            f"give one of them (CLI --{option.replace('_', '-')})"
        )
    lower = {}
    for c in columns:
        lower.setdefault(str(c).strip().lower(), c)
    for name in usual:
        if name in lower:
            return lower[name]
    return None


def _read_csv(path: Path) -> pd.DataFrame:
    errors = []
    for enc in CSV_ENCODINGS:
        try:
            return pd.read_csv(path, encoding=enc, dtype=str, keep_default_na=False, na_values=[""])
        except UnicodeDecodeError as exc:
            errors.append(f"{enc}: {exc.reason} at byte {exc.start}")
        except pd.errors.EmptyDataError:
            raise NoDataError(f"{path}: the file is empty; expected a header row and one row per facility") from None
        except pd.errors.ParserError as exc:
            raise InputError(f"{path}: not a readable CSV file ({exc}); check the delimiter (comma) and quoting") from None
    raise InputError(
        f"{path}: could not decode the text with any of {', '.join(CSV_ENCODINGS)} ({'; '.join(errors)}); "
        "save the file as UTF-8"
    )


def _clean_text(values: Any, n: int) -> list[str]:
    if values is None:
        return [""] * n
    return ["" if (v is None or (isinstance(v, float) and np.isnan(v))) else str(v).strip() for v in values]


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
) -> FacilitySet:
    rows = []
    unclassified = []
    for i, (fid, name, label, ms) in enumerate(zip(feature_ids, names, labels, matches)):
        if not ms:
            unclassified.append((i + 1, fid, name, label))
            continue
        for m in ms:
            rows.append((f"{fid}:{m.category}", fid, m.category, name, source, label, m.basis, lon[i], lat[i]))
    frame = pd.DataFrame(rows, columns=[*FACILITY_COLUMNS[:-1], "_lon", "_lat"])
    geometry = gpd.points_from_xy(frame["_lon"].to_numpy(float), frame["_lat"].to_numpy(float), crs="EPSG:4326")
    gdf = gpd.GeoDataFrame(frame.drop(columns=["_lon", "_lat"]), geometry=geometry, crs="EPSG:4326")
    for col in FACILITY_COLUMNS[:-1]:
        gdf[col] = gdf[col].astype(object)
    unc = pd.DataFrame(unclassified, columns=list(UNCLASSIFIED_COLUMNS))
    unc["row"] = unc["row"].astype(int)
    if len(unc):
        notes.append(f"{len(unc)} of {len(feature_ids)} rows matched no facility category (see .unclassified)")
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
) -> FacilitySet:
    """Read facilities from a CSV, GeoJSON or GeoPackage file.

    Parameters
    ----------
    path : str or path-like
        ``.csv``/``.txt`` (encodings tried: UTF-8 with or without BOM, then
        GBK/GB18030), ``.geojson``/``.json`` or ``.gpkg``.
    crs : {"wgs84", "gcj02", "bd09"}, optional
        Coordinate system the numbers are in.  Required for CSV files and for
        geometry files without a CRS.  For a geometry file that declares
        EPSG:4326, ``crs="gcj02"`` means its lon/lat are GCJ-02 numerically
        (common for Amap exports); a projected file is first reprojected to
        EPSG:4326 and then shifted if ``crs`` is gcj02/bd09.
    lon_column, lat_column : str, optional
        CSV coordinate columns; default: the first of the usual names
        (``lon``/``lng``/``longitude``/``x``/``经度``,
        ``lat``/``latitude``/``y``/``纬度``), case-insensitive.
    category_column : str, optional
        Column with category ids or free labels (``医院``, an Amap type
        string, ``hospital`` …); default: ``category``/``type``/``类别``/
        ``类型``/``分类`` …
    name_column, id_column : str, optional
        Name and id columns; defaults: ``name``/``名称``/``Name_POI`` … and
        ``id``/``poi_id`` …; without an id column rows are numbered from 1.
    category : str, optional
        Put every row in this category id (a file of one kind, e.g. ambulance
        stations) instead of reading a category column.
    name_hints : bool, default False
        Classify rows whose label matches nothing from their name
        (``"XX医院"`` …).  Off by default: names such as ``万达广场`` (a mall)
        make noisy matches; the notes say how many rows used it.

    Returns
    -------
    FacilitySet

    Raises
    ------
    InputFileNotFoundError
        ``path`` does not exist.
    InputError
        Unknown extension, unknown or missing ``crs``, no coordinate or
        category column, bad coordinates (missing, out of range, swapped),
        duplicate ids.
    NoDataError
        The file has no rows.

    Examples
    --------
    >>> fs = read_facility_file("weibo_pois_gcj02.csv", crs="gcj02")  # doctest: +SKIP
    >>> fs.counts()["primary_care"]  # doctest: +SKIP
    47
    """
    path = Path(path).expanduser()
    source = path.name
    if not path.exists():
        raise InputFileNotFoundError(f"facility file {str(path)!r} does not exist; check the path")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; expected a facility file ({', '.join(CSV_EXTENSIONS + GEOMETRY_EXTENSIONS)})")
    ext = path.suffix.lower()
    kind = normalize_crs(crs) if crs is not None else None
    if category is not None and category not in CATEGORIES:
        raise InputError(f"category={category!r} is not a category id; expected one of {', '.join(CATEGORIES)}")
    notes: list[str] = []

    if ext in CSV_EXTENSIONS:
        if kind is None:
            raise InputError(
                f"{path}: say which coordinate system the lon/lat columns are in with crs= "
                "('wgs84' for GPS/OSM, 'gcj02' for Amap/Gaode/Tencent, 'bd09' for Baidu); "
                "in Wuhan the wrong choice moves points about 550 m"
            )
        table = _read_csv(path)
        if table.empty:
            raise NoDataError(f"{path}: has a header but no rows; expected one row per facility")
        columns = [str(c) for c in table.columns]
        lon_col = _find_column(columns, lon_column, LON_COLUMNS, "longitude", "lon_column", str(path))
        lat_col = _find_column(columns, lat_column, LAT_COLUMNS, "latitude", "lat_column", str(path))
        if lon_col is None or lat_col is None:
            missing = [w for w, c in (("longitude", lon_col), ("latitude", lat_col)) if c is None]
            raise InputError(
                f"{path}: no {' or '.join(missing)} column found; the columns are: {', '.join(columns)}. "
                f"Expected one named like {'/'.join(LON_COLUMNS[:5])} and {'/'.join(LAT_COLUMNS[:4])}, "
                "or name them with lon_column=/lat_column= (CLI: --lon-column/--lat-column)"
            )
        lon_raw, lat_raw = table[lon_col].to_numpy(object), table[lat_col].to_numpy(object)
        check_lonlat(lon_raw, lat_raw, f"{path} (columns {lon_col!r}, {lat_col!r})", row_word="row")
        lon = pd.to_numeric(pd.Series(lon_raw)).to_numpy(float)
        lat = pd.to_numeric(pd.Series(lat_raw)).to_numpy(float)
    elif ext in GEOMETRY_EXTENSIONS:
        try:
            table = gpd.read_file(path)
        except Exception as exc:  # pyogrio raises its own DataSourceError
            raise InputError(f"{path}: could not read it as a {ext} geometry file ({str(exc).split(';')[0]}); "
                             "expected GeoJSON (a FeatureCollection of points) or GeoPackage — or save the "
                             "table as CSV with lon/lat columns") from None
        if table.empty:
            raise NoDataError(f"{path}: has no features; expected one feature per facility")
        columns = [str(c) for c in table.columns if c != table.geometry.name]
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
        if kind is None:
            kind = "wgs84"
        points = geom.where(geom.geom_type == "Point", geom.representative_point())
        n_poly = int((geom.geom_type != "Point").sum())
        if n_poly:
            notes.append(f"{n_poly} non-point features placed at a representative point inside them")
        lon, lat = shapely.get_x(points.values), shapely.get_y(points.values)
        check_lonlat(lon, lat, str(path), row_word="feature")
        lon_col = lat_col = None
    else:
        raise InputError(
            f"{path}: unsupported file type {ext or '(no extension)'!r}; expected "
            f"{', '.join(CSV_EXTENSIONS + GEOMETRY_EXTENSIONS)}"
        )

    n = len(table)
    cat_col = None
    if category is None:
        cat_col = _find_column(columns, category_column, CATEGORY_COLUMNS, "category", "category_column", str(path))
        if cat_col is None:
            raise InputError(
                f"{path}: no category column found; the columns are: {', '.join(columns)}. Name it with "
                f"category_column= (CLI: --category-column; usual names {'/'.join(CATEGORY_COLUMNS[:5])}), "
                "or put every row in one category with category= (e.g. category='ambulance_station')"
            )
    name_col = _find_column(columns, name_column, NAME_COLUMNS, "name", "name_column", str(path))
    id_col = _find_column(columns, id_column, ID_COLUMNS, "id", "id_column", str(path))
    names = _clean_text(table[name_col] if name_col else None, n)
    labels = _clean_text(table[cat_col], n) if cat_col else [category] * n
    ids = _feature_ids(_clean_text(table[id_col], n) if id_col else None, n, str(path), id_col)

    if category is not None:
        matches = [[Match(category, "category=")] for _ in range(n)]
    else:
        matches = [match_label(label) for label in labels]
        if name_hints:
            used = 0
            for i, ms in enumerate(matches):
                if not ms:
                    hinted = match_name(names[i])
                    if hinted:
                        matches[i] = hinted
                        used += 1
            notes.append(f"{used} rows with no category from their label were classified from their name (name_hints=True)")

    if kind != "wgs84":
        lon, lat = to_wgs84(lon, lat, kind)
        notes.append(f"coordinates converted from {kind} to WGS84 (exact inverse)")
    return _build(feature_ids=ids, names=names, labels=labels, matches=matches, lon=np.asarray(lon), lat=np.asarray(lat), source=source, notes=notes)


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
