"""Output columns by name: what kind of numbers they hold, their order, rounding and ids as text.

Every table circles writes (CSV, Excel, GeoPackage attributes) is shaped by these rules, so the same column
looks the same everywhere: :func:`column_kind` reads a column's kind from its name, :func:`round_for_csv`
rounds by that kind, :func:`plain_table` turns geometry into ``lon``/``lat``, :func:`order_columns` keeps the
user's own coordinates beside them and :func:`ids_as_text` keeps long codes exact in Excel.  The writers
in :mod:`circles.outputs.atomic` apply them (and re-export them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["NUMBER_KINDS", "ORIGINAL_COORDINATES", "english_name", "column_kind", "is_id_column", "order_columns",
           "plain_table", "ids_as_text", "round_for_csv"]


#: How numbers are shown, per kind of column (see :func:`column_kind`): the Excel
#: number format and the decimals kept in CSV files.  People are fractional (WorldPop
#: rasters spread people over cells), so CSVs keep one decimal — a unit of 0.4 people
#: does not become 0 while its status says "uncovered", and sums of the rounded column
#: stay within a few people of the total; Excel keeps the full value and *shows* whole
#: people (``#,##0``), so its sums are exact.
NUMBER_KINDS: dict[str, tuple[str, int]] = {
    "people": ("#,##0", 1),
    "share": ("0.0%", 4),
    "minutes": ("0.0", 2),
    "metres": ("#,##0", 1),
    # WGS84 lon/lat: 6 decimals are about 0.1 m; the user's own GCJ-02/BD-09 numbers
    # (``lon_gcj02`` …) are not of this kind and stay exactly as given
    "degrees": ("0.000000", 6),
}

#: The user's own coordinates (GCJ-02, BD-09): every table puts them right after ``lon``/``lat``.
ORIGINAL_COORDINATES: tuple[str, ...] = ("lon_gcj02", "lat_gcj02", "lon_bd09", "lat_bd09")
#: Column names (compared case-insensitively, English part of a bilingual header) that hold ids.
_ID_NAMES = {"id", "code", "编号", "编码", "代码", "社区编码", "adcode", "area_code", "post_code", "parent",
             "ur_code"}


def english_name(column: str) -> str:
    """``"覆盖人口 / covered_population"`` -> ``"covered_population"`` (bilingual headers)."""
    return str(column).rsplit(" / ", 1)[-1].strip()


def column_kind(column: str) -> str | None:
    """The kind of numbers a column holds, from its name alone (one place for every output).

    ``"share"`` for shares (``covered_share``, ``life_15_covered_share_after``,
    ``..._covered_share_60mpm``), ``"minutes"`` for travel times and thresholds
    (``*_minutes``, ``mean_minutes_saved``, ``threshold_min``), ``"people"`` for
    population counts (``population``, ``covered_population``, ``newly_covered_population``,
    ``cumulative_newly_covered`` …), ``"metres"`` for distances and areas (``snap_m``,
    ``area_m2``), ``"degrees"`` for WGS84 ``lon``/``lat`` and None
    for anything else (ids, the user's own GCJ-02/BD-09 coordinates, counts of units).  A bilingual header
    ``"中文 / english_name"`` is judged by its English part.

    Parameters
    ----------
    column : str
        A column name (English, or bilingual ``"中文 / english"``).

    Returns
    -------
    str or None
        ``"share"``, ``"minutes"``, ``"people"``, ``"metres"``, ``"degrees"`` or ``None``.

    Examples
    --------
    >>> [column_kind(c) for c in ("population", "life_15_covered_share", "覆盖率 / covered_share", "snap_m", "name")]
    ['people', 'share', 'share', 'metres', None]
    """
    name = english_name(column).lower()
    tokens = name.split("_")
    if name in ("lon", "lat"):
        return "degrees"
    if "share" in tokens:
        return "share"
    if "minutes" in tokens or name.endswith("_min") or name == "min":
        return "minutes"
    if ("population" in tokens or "people" in tokens or name.startswith("newly_covered")
            or name.startswith("cumulative_newly") or name == "gap_to_exact"):
        return "people"
    if name.endswith(("_m", "_m2")):
        return "metres"
    return None


def is_id_column(column: str) -> bool:
    """True for columns holding identifiers (``unit_id``, ``facility_id``, ``candidate_id``,
    ``feature_id``, ``id``, ``code``, ``社区编码`` …): Excel gets them as text, so a 12-digit
    社区编码 is not shown as ``4.20115E+11``.
    """
    name = english_name(column).lower()
    return name in _ID_NAMES or name.endswith("_id") or name.endswith("编码") or name.endswith("编号")


def order_columns(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with the user's own coordinates (``lon_gcj02, lat_gcj02`` / ``lon_bd09, lat_bd09``)
    right after ``lon, lat`` — the same order in every table; unchanged without ``lon``/``lat``.
    """
    if not hasattr(df, "columns"):  # not a table (a writer-like object): left to its own to_csv
        return df
    columns = [str(c) for c in df.columns]
    own = [c for c in ORIGINAL_COORDINATES if c in columns]
    if not own or "lat" not in columns or "lon" not in columns:
        return df
    rest = [c for c in df.columns if str(c) not in own]
    at = max(rest.index("lon"), rest.index("lat")) + 1
    order = rest[:at] + own + rest[at:]
    return df if order == list(df.columns) else df[order]


def plain_table(df: pd.DataFrame) -> pd.DataFrame:
    """A plain DataFrame of ``df`` for tables (CSV and Excel alike): a geometry column is
    replaced by ``lon``/``lat`` (WGS84) of each feature's centre, unless the frame already
    has ``lon``/``lat``; the user's own coordinates follow them (:func:`order_columns`).
    Planar centroids in degrees are within centimetres of the true centre for
    neighbourhood-sized units; points stay where they are; an empty geometry gives NaN.
    """
    import pandas as pd

    geom = getattr(df, "_geometry_column_name", None)
    if geom is None or geom not in df.columns:
        return order_columns(pd.DataFrame(df))
    import shapely

    gdf = df
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    values = gdf.geometry.values
    plain = pd.DataFrame(gdf.drop(columns=geom))
    if "lon" in plain.columns and "lat" in plain.columns:
        return order_columns(plain)
    centre = shapely.centroid(np.asarray(values, dtype=object))
    empty = shapely.is_empty(centre) | shapely.is_missing(centre)
    lon = np.where(empty, np.nan, shapely.get_x(centre))
    lat = np.where(empty, np.nan, shapely.get_y(centre))
    at = list(df.columns).index(geom)
    plain.insert(min(at, len(plain.columns)), "lat", lat)
    plain.insert(min(at, len(plain.columns)), "lon", lon)
    return order_columns(plain)


def ids_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Id columns, and whole numbers of 12+ digits (codes: Excel would show ``4.20115E+11``),
    as text for Excel; everything else unchanged.
    """
    import pandas as pd

    out = None
    for j, col in enumerate(frame.columns):
        values = frame.iloc[:, j]
        if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            continue
        arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        finite = np.isfinite(arr)
        whole = finite.any() and bool(np.all(arr[finite] == np.round(arr[finite])))
        if not (is_id_column(str(col)) or (whole and np.max(np.abs(arr[finite])) >= 1e11)):
            continue
        text = [None if not ok else (str(int(v)) if whole else repr(float(v))) for v, ok in zip(arr, finite)]
        if out is None:
            out = frame.copy()
        out.isetitem(j, pd.Series(text, index=frame.index, dtype=object))
    return frame if out is None else out


def round_for_csv(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with float columns rounded by their kind (:data:`NUMBER_KINDS`):
    people 1 decimal, shares 4, minutes 2, metres 1.  Columns stay numeric; NaN stays NaN
    (an empty CSV cell); WGS84 ``lon``/``lat`` keep 6 decimals (about 0.1 m); other columns
    (the user's own GCJ-02/BD-09 coordinates, ids, text) are untouched.
    """
    import numpy as np
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        return df
    out = None
    for j, col in enumerate(df.columns):
        kind = column_kind(str(col))
        if kind is None:
            continue
        values = df.iloc[:, j]
        if not pd.api.types.is_float_dtype(values.dtype):
            continue
        if out is None:
            out = df.copy()
        out.isetitem(j, np.round(values, NUMBER_KINDS[kind][1]))
    return df if out is None else out
