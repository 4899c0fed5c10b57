"""Reading tabular inputs (facilities, candidates, units) the way bureaus keep them.

The one place that opens a user's table.  Supported:

* ``.csv`` / ``.txt`` — comma-separated (a ``.txt`` or ``.csv`` whose header
  has tabs and no commas is read as tab-separated), UTF-8 with or without
  BOM, else GBK/GB18030 (tried in that order; a log line says which);
* ``.tsv`` — tab-separated, same encodings;
* ``.xlsx`` / ``.xlsm`` — the first sheet, or ``sheet=`` (name, or 0-based
  position);
* ``.geojson`` / ``.json`` / ``.gpkg`` / ``.shp`` / ``.fgb`` / ``.zip`` —
  through geopandas (a :class:`geopandas.GeoDataFrame` comes back).

Tables come back as text (``dtype=str``, empty cells NaN, surrounding spaces
stripped) so ids such as ``"0012"`` keep their leading zeros; callers convert
the columns they need with :func:`numbers`.  Trailing fully-empty rows and
unnamed fully-empty columns are dropped and counted in ``frame.attrs``
(``dropped_empty_rows``, ``dropped_empty_columns``), with ``source``,
``encoding``, ``sheet``, ``delimiter`` and ``kind`` (``"table"`` or
``"geometry"``), and ``first_data_row``: position ``i`` of a table is row
``i + first_data_row`` of the file or sheet (the header is usually row 1;
an Excel table may start lower) — :func:`file_rows` converts.  The readers
of facilities and candidates number *data* rows from 1 in their messages.

Every failure is one :class:`~circles.errors.InputError` naming the file and
what to do.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from circles.errors import InputError, InputFileNotFoundError, NoDataError

log = logging.getLogger(__name__)

__all__ = [
    "CATEGORY_COLUMNS", "CSV_ENCODINGS", "LOCATION_COLUMNS", "EXCEL_EXTENSIONS", "GEOMETRY_EXTENSIONS", "ID_COLUMNS",
    "LAT_COLUMNS", "LON_COLUMNS", "NAME_COLUMNS", "TABLE_EXTENSIONS", "TEXT_EXTENSIONS",
    "crs_name", "degrees", "file_rows", "find_column", "id_columns", "is_geometry_file", "numbers", "read_table",
    "restore_numbers",
    "sheet_names", "text_values",
]

#: Encodings tried in order for text tables (utf-8-sig also reads plain UTF-8;
#: GB18030 is a superset of GBK/GB2312).
CSV_ENCODINGS: tuple[str, ...] = ("utf-8-sig", "gb18030")
#: Extensions read as delimited text.
TEXT_EXTENSIONS: tuple[str, ...] = (".csv", ".txt", ".tsv")
#: Extensions read as Excel workbooks (openpyxl).
EXCEL_EXTENSIONS: tuple[str, ...] = (".xlsx", ".xlsm")
#: Every tabular (non-geometry) extension.
TABLE_EXTENSIONS: tuple[str, ...] = TEXT_EXTENSIONS + EXCEL_EXTENSIONS
#: Extensions read with geopandas.
GEOMETRY_EXTENSIONS: tuple[str, ...] = (".geojson", ".json", ".gpkg", ".shp", ".fgb", ".zip")

#: Usual column names, compared case-insensitively after stripping, in priority order.
LON_COLUMNS: tuple[str, ...] = ("lon", "lng", "longitude", "long", "x", "经度", "wgs84_lon", "gcj02_lon",
                                "bd09_lon", "lon_wgs84", "lon_gcj02", "lon_bd09", "东经", "x坐标")
LAT_COLUMNS: tuple[str, ...] = ("lat", "latitude", "y", "纬度", "wgs84_lat", "gcj02_lat", "bd09_lat",
                                "lat_wgs84", "lat_gcj02", "lat_bd09", "北纬", "y坐标")
CATEGORY_COLUMNS: tuple[str, ...] = ("category", "type", "类别", "类型", "分类", "设施类型", "设施类别",
                                     "poi_type", "typecode_name", "kind")
NAME_COLUMNS: tuple[str, ...] = ("name", "名称", "name_poi", "poi_name", "title", "名字", "name_zh",
                                 "设施名称", "社区名称", "站点名称", "单位名称")
#: One column holding "lon,lat" (Amap's ``location``), used when there are no lon/lat columns.
LOCATION_COLUMNS: tuple[str, ...] = ("location", "lnglat", "lonlat", "lng_lat", "lon_lat", "经纬度", "坐标",
                                     "经纬度坐标", "位置坐标")
#: Usual names that also match with a suffix ("经度(GCJ02)", "lon_wgs84", "纬度（高德）").
_LOOSE_NAMES = frozenset({"lon", "lng", "longitude", "lat", "latitude", "经度", "纬度", "location", "经纬度", "坐标"})
#: Id columns of any input (the per-input lists put their own name first, see :func:`id_columns`).
ID_COLUMNS: tuple[str, ...] = ("id", "编号", "编码", "社区编码", "code", "site_id", "poi_id", "uid", "fid",
                               "序号")
_OWN_ID: dict[str, tuple[str, ...]] = {
    "facilities": ("facility_id", "feature_id", "设施编号"),
    "candidates": ("candidate_id", "site_id", "候选编号", "站点编号"),
    "units": ("unit_id", "社区编码", "社区编号"),
}

_CRS_KEYS: dict[str, str] = {
    "wgs84": "wgs84", "epsg4326": "wgs84", "4326": "wgs84", "gps": "wgs84",
    "gcj02": "gcj02", "gcj": "gcj02", "amap": "gcj02", "gaode": "gcj02", "火星坐标": "gcj02",
    "bd09": "bd09", "bd09ll": "bd09", "baidu": "bd09", "百度坐标": "bd09",
}


# --------------------------------------------------------------------------- names


def id_columns(what: str) -> tuple[str, ...]:
    """Usual id column names for ``what`` (``"facilities"``, ``"candidates"`` or ``"units"``).

    The input's own id name comes first (``candidate_id`` for candidates …),
    then the generic ones (:data:`ID_COLUMNS`).
    """
    own = _OWN_ID.get(what, ())
    return tuple(dict.fromkeys(own + ID_COLUMNS))


def crs_name(crs: str | None, *, parameter: str = "crs") -> str | None:
    """Canonical name ``"wgs84"``, ``"gcj02"`` or ``"bd09"`` of a lon/lat system name.

    Case, spaces, ``-``, ``_`` and ``:`` are ignored (``"GCJ-02"``,
    ``"WGS 84"``, ``"EPSG:4326"``, ``"bd09ll"``, ``"amap"`` …).  ``None``
    stays ``None``.

    Parameters
    ----------
    crs : str or None
        The name as the user wrote it.
    parameter : str
        The parameter (and CLI flag) that took it, for the message.

    Returns
    -------
    str or None
        ``"wgs84"``, ``"gcj02"``, ``"bd09"``, or ``None``.

    Raises
    ------
    InputError
        The name is none of those, naming ``parameter``.

    Examples
    --------
    >>> crs_name("GCJ-02"), crs_name("WGS 84"), crs_name("amap"), crs_name(None)
    ('gcj02', 'wgs84', 'gcj02', None)
    """
    if crs is None:
        return None
    key = re.sub(r"[\s_:\-]", "", str(crs)).lower()
    if key in _CRS_KEYS:
        return _CRS_KEYS[key]
    raise InputError(
        f"{parameter}={crs!r} is not a known coordinate system; expected 'wgs84' (GPS, OpenStreetMap; also "
        "'EPSG:4326'), 'gcj02' (Amap/Gaode, Tencent) or 'bd09' (Baidu)"
    )


def find_column(
    frame: pd.DataFrame | Sequence[str],
    given: str | None,
    usual: Iterable[str],
    *,
    what: str,
    option: str,
    source: str,
    required: bool = False,
    loose: bool = False,
) -> str | None:
    """The column to use: ``given`` if named (must exist), else the first usual name present.

    Parameters
    ----------
    frame : DataFrame or sequence of str
        The table (or its column names).
    given : str, optional
        Column named by the user; matched exactly, then case-insensitively
        after stripping spaces.
    usual : iterable of str
        Usual names in priority order (lower-case).
    what : str
        What the column holds, for messages (``"longitude"``).
    option : str
        Parameter that names it (``"lon_column"``; add the CLI flag in brackets
        if there is one, e.g. ``"lon_column (CLI --lon-column)"``).
    source : str
        File name for messages.
    required : bool, default False
        Raise when no usual name is present (else return ``None``).
    loose : bool, default False
        When no usual name matches exactly, accept the one column that starts
        with a coordinate name followed by a bracket, space, ``_`` or ``-``
        (``"经度(GCJ02)"``, ``"lon_wgs84"``; for Chinese names any suffix:
        ``"经度坐标"``).

    Returns
    -------
    str or None
        The column's name as the table spells it; ``None`` when none was found and not ``required``.

    Raises
    ------
    InputError
        ``given`` is not a column, or ``required`` and none was found; the
        message lists the columns.

    Examples
    --------
    >>> find_column(["名称", "经度(GCJ02)", "纬度(GCJ02)"], None, ["lon", "longitude", "经度"],
    ...             what="longitude", option="lon_column", source="pois.csv", loose=True)
    '经度(GCJ02)'
    """
    columns = [str(c) for c in (frame.columns if isinstance(frame, pd.DataFrame) else frame)]
    lower: dict[str, str] = {}
    for c in columns:
        lower.setdefault(c.strip().lower(), c)
    shown = ", ".join(c for c in columns if c != "geometry")
    if given is not None:
        if given in columns:
            return given
        if str(given).strip().lower() in lower:
            return lower[str(given).strip().lower()]
        raise InputError(f"{source}: {given!r}, given as {_with_flag(option)}, is not a column; the columns are: {shown}; "
                         "give one of them")
    usual = tuple(usual)
    for name in usual:
        if name.lower() in lower:
            return lower[name.lower()]
    if loose:
        for name in (u for u in usual if u in _LOOSE_NAMES):
            hits = [c for key, c in lower.items() if _loosely(key, name)]
            if len(hits) == 1:
                return hits[0]
    if required:
        raise InputError(
            f"{source}: no {what} column found; the columns are: {shown}. Expected one named like "
            f"{'/'.join(usual[:6])}, or name it with {_with_flag(option)}"
        )
    return None


def _with_flag(option: str) -> str:
    """``lon_column`` -> ``lon_column (CLI --lon-column)``; texts that already name a flag stay."""
    if "--" in option or not option.isidentifier():
        return option
    return f"{option} (CLI --{option.replace('_', '-')})"


def _loosely(key: str, name: str) -> bool:
    if not key.startswith(name) or key == name:
        return False
    nxt = key[len(name)]
    return not name.isascii() or nxt in " _-(（[【:：/"


# --------------------------------------------------------------------------- values


def text_values(values: Any, n: int | None = None) -> list[str]:
    """Cells as stripped text, ``""`` for empty/NaN (``n`` empty strings when ``values`` is None)."""
    if values is None:
        return [""] * int(n or 0)
    series = pd.Series(list(values), dtype=object)
    return series.where(series.notna(), "").astype(str).str.strip().tolist()


def numbers(values: Any) -> np.ndarray:
    """Cells as floats (NaN when empty or not a number); accepts ``"1,234"`` and full-width digits.

    Examples
    --------
    >>> numbers(["1,234", "１２.５", "", "abc"]).tolist()
    [1234.0, 12.5, nan, nan]
    """
    series = values.astype(object) if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    return pd.to_numeric(series.map(_number_text), errors="coerce").to_numpy(dtype=np.float64)


_FULLWIDTH = str.maketrans("０１２３４５６７８９．－＋", "0123456789.-+")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


def _number_text(v: Any) -> Any:
    if not isinstance(v, str):
        return v
    text = v.strip().translate(_FULLWIDTH)
    return text.replace(",", "") if _THOUSANDS.match(text) else text


_DMS = re.compile(
    r"^(?P<pre>东经|西经|北纬|南纬|[NSEWnsew])?\s*(?P<d>\d+(?:\.\d+)?)\s*[°度]\s*"
    r"(?:(?P<m>\d+(?:\.\d+)?)\s*[′'’分]\s*)?(?:(?P<s>\d+(?:\.\d+)?)\s*(?:[″\"”秒]|'')\s*)?"
    r"(?P<post>[NSEWnsew])?$")


def degrees(values: Any) -> tuple[np.ndarray, int]:
    """Coordinates as decimal degrees: numbers, or degrees-minutes-seconds text
    (``114°16′32.7″``, ``东经114度16分``, ``30°35'N``; south/west negative).

    Returns
    -------
    (numpy.ndarray, int)
        The degrees (NaN when neither form parses) and how many were DMS text.

    Examples
    --------
    >>> values, n_dms = degrees(["114°16′32.7″", "东经114度16分", "30°35'S", 114.3, "?"])
    >>> values.round(4).tolist(), n_dms
    ([114.2758, 114.2667, -30.5833, 114.3, nan], 3)
    """
    series = values.astype(object) if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    out = numbers(series).copy()
    n_dms = 0
    for i in np.flatnonzero(np.isnan(out)):
        v = series.iloc[i]
        m = _DMS.match(v.strip().translate(_FULLWIDTH)) if isinstance(v, str) else None
        if m is None:
            continue
        value = float(m["d"]) + float(m["m"] or 0) / 60 + float(m["s"] or 0) / 3600
        hemi = (m["pre"] or "") + (m["post"] or "")
        out[i] = -value if any(h in hemi for h in ("西", "南", "S", "W", "s", "w")) else value
        n_dms += 1
    return out, n_dms


_LEADING_ZERO = re.compile(r"^[+-]?0\d")


def restore_numbers(frame: pd.DataFrame, *, keep_text: Iterable[str] = ()) -> pd.DataFrame:
    """Columns whose every non-empty cell is a number, as numbers (the others stay text).

    A column with a value such as ``"0012"`` (leading zero: an id or a code)
    stays text, as do the columns named in ``keep_text``.  ``attrs`` are kept.
    """
    out = frame.copy()
    keep = set(keep_text)
    for col in out.columns:
        if col in keep or col == "geometry" or out[col].dtype != object:
            continue
        values = out[col].dropna()
        if values.empty or not all(isinstance(v, str) for v in values):
            continue
        if any(_LEADING_ZERO.match(v) for v in values):
            continue
        parsed = pd.to_numeric(values, errors="coerce")
        if parsed.notna().all():
            out[col] = pd.to_numeric(out[col], errors="coerce")
    out.attrs.update(frame.attrs)
    return out


def file_rows(frame: pd.DataFrame, positions: Iterable[int]) -> list[int]:
    """File row numbers (header = row 1) of 0-based data ``positions`` of a table from :func:`read_table`."""
    first = int(frame.attrs.get("first_data_row", 2))
    return [int(p) + first for p in positions]


# --------------------------------------------------------------------------- reading


def is_geometry_file(path: str | Path) -> bool:
    """True for files read with geopandas (by extension; a folder counts, e.g. a shapefile folder)."""
    path = Path(path)
    return path.suffix.lower() in GEOMETRY_EXTENSIONS or path.is_dir()


def sheet_names(path: str | Path) -> list[str]:
    """Names of the sheets of an ``.xlsx`` workbook, in order."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException …
        raise InputError(f"{path}: not a readable Excel .xlsx workbook ({type(exc).__name__}: {exc}); "
                         "open it in Excel/WPS and save it again as .xlsx, or as CSV UTF-8") from None
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def read_table(
    path: str | Path,
    *,
    sheet: str | int | None = None,
    what: str = "rows",
    parameter: str = "path",
):
    """Read a user's table: CSV/TSV/TXT, Excel, or a geometry file.

    Parameters
    ----------
    path : str or path-like
        See the module docstring for the formats.
    sheet : str or int, optional
        Excel only: sheet name, or 0-based position (a digit string that is
        not a sheet name counts as a position); default the first sheet.
    what : str, default "rows"
        What one row is, for messages (``"facility"``, ``"candidate site"``,
        ``"unit"``).
    parameter : str, default "path"
        The argument/flag that named the file (``"facilities (CLI --facilities)"``).

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        A table of text cells, or the geometry file as geopandas reads it.

    Raises
    ------
    InputFileNotFoundError
        The file does not exist.
    NoDataError
        The file is empty or has a header but no rows.
    InputError
        Unsupported or mislabelled format, undecodable text, unknown sheet.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise InputFileNotFoundError(f"{parameter}: {str(path)!r} does not exist; check the path")
    ext = path.suffix.lower()
    if sheet is not None and ext not in EXCEL_EXTENSIONS:
        raise InputError(f"{path}: sheet={sheet!r} applies only to Excel .xlsx files; this is a {ext or 'folder'}")
    if is_geometry_file(path):
        return _read_geometry(path, what=what)
    if path.is_dir():
        raise InputError(f"{parameter}: {path} is a folder; expected a file")
    if ext == ".xls":
        raise InputError(
            f"{path}: the old Excel format .xls is not supported; open it in Excel, WPS or LibreOffice and "
            "save it as .xlsx (文件 → 另存为 → Excel 工作簿 .xlsx) or as CSV UTF-8, then pass that file")
    if ext in EXCEL_EXTENSIONS:
        frame = _read_excel(path, sheet)
    elif ext in TEXT_EXTENSIONS:
        frame = _read_text(path)
    else:
        raise InputError(
            f"{path}: unsupported file type {ext or '(no extension)'!r}; expected a table "
            f"({', '.join(TABLE_EXTENSIONS)}) or a geometry file ({', '.join(GEOMETRY_EXTENSIONS)}) for {parameter}")
    return _tidy(frame, path, what=what)


def _sniff_binary(path: Path, head: bytes) -> None:
    if head.startswith(b"PK\x03\x04"):
        raise InputError(f"{path}: is a zip/Excel .xlsx workbook, not text; rename it to .xlsx "
                         "(or save it from Excel as CSV UTF-8)")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(f"{path}: is an old Excel .xls workbook, not text; open it in Excel, WPS or "
                         "LibreOffice and save it as .xlsx or as CSV UTF-8")
    if b"\x00" in head:
        hint = " (it looks like UTF-16: save it as CSV UTF-8)" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise InputError(f"{path}: is not a text table (binary bytes found){hint}; expected comma-separated "
                         "text with a header row")


def _decode(path: Path) -> tuple[str, str]:
    data = path.read_bytes()
    _sniff_binary(path, data[:4096])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        _refuse_broken_utf8(path, data, exc)
    else:
        label = "UTF-8 with BOM" if data.startswith(b"\xef\xbb\xbf") else "UTF-8"
        log.info("%s: read as %s", path, label)
        return text, label
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: could not decode the text as UTF-8 or GB18030/GBK ({exc.reason} at byte "
                         f"{exc.start}); save the file as CSV UTF-8") from None
    log.info("%s: read as GB18030/GBK", path)
    return text, "GB18030/GBK"


def _refuse_broken_utf8(path: Path, data: bytes, exc: UnicodeDecodeError) -> None:
    """UTF-8 text with a few broken bytes must not be read as GBK (it would turn into nonsense)."""
    loose = data.decode("utf-8", errors="replace")
    broken = loose.count("\ufffd")
    wide = sum(1 for ch in loose if ord(ch) > 127) - broken
    if broken and wide >= 20 * broken:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{path}: UTF-8 text with {broken} invalid byte(s) (first at byte {exc.start}, line "
                         f"{line}); the file is damaged or was cut — fix that line or export it again as CSV UTF-8")


def _header_index(rows: list[list[Any]]) -> int:
    """Index of the header row: the first non-empty row, skipping title rows (one filled cell)
    above a wider row (a sheet titled "武汉市养老机构名录" above its table).
    """
    filled = [sum(1 for v in r if not _blank(v)) for r in rows[:30]]
    first = next((i for i, n in enumerate(filled) if n), None)
    if first is None:
        return len(rows)
    widest = max(filled)
    if widest >= 2:
        while filled[first] <= 1 and first + 1 < len(filled):
            first += 1
            while first < len(filled) and filled[first] == 0:
                first += 1
    return first


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip())


def _frame_from_rows(path: Path, rows: list[list[Any]], *, word: str = "line") -> pd.DataFrame:
    """A text frame from parsed rows (header found by :func:`_header_index`); extra fields refused."""
    h = _header_index(rows)
    if h >= len(rows):
        raise NoDataError(f"{path}: the file is empty; expected a header row and one row per line")
    names = [("" if _blank(v) else str(_cell_text(v)).strip().lstrip("\ufeff")) for v in rows[h]]
    width = len(names)
    body = rows[h + 1:]
    bad = [h + 2 + i for i, r in enumerate(body) if len(r) > width and any(not _blank(v) for v in r[width:])]
    if bad:
        raise InputError(f"{path}: {len(bad)} row(s) have more fields than the header's {width} ({word}s "
                         f"{', '.join(map(str, bad[:10]))}); add the missing header names, or put text "
                         "containing the delimiter in double quotes")
    given = pd.Index([n for n in names if n])
    dup = given[given.duplicated()]
    if len(dup):
        raise InputError(f"{path}: the header names column(s) {', '.join(map(repr, dup.unique()))} more than "
                         "once; give every column its own name")
    columns = [n or f"Unnamed: {i}" for i, n in enumerate(names)]
    if word == "line":  # text: cells are strings already (blanks become NaN in _tidy)
        cells = [r[:width] if len(r) >= width else r + [""] * (width - len(r)) for r in body]
    else:
        cells = [[_cell_text(v) for v in (list(r[:width]) + [None] * (width - len(r)))] for r in body]
    frame = pd.DataFrame(cells, columns=columns, dtype=object) if cells else pd.DataFrame(columns=columns, dtype=object)
    frame.attrs.update(first_data_row=h + 2, title_rows=sum(1 for r in rows[:h] if any(not _blank(v) for v in r)))
    if frame.attrs["title_rows"]:
        log.info("%s: %d title row(s) above the header skipped", path, frame.attrs["title_rows"])
    return frame


def _read_text(path: Path) -> pd.DataFrame:
    import csv
    import io

    text, encoding = _decode(path)
    if not text.strip():
        raise NoDataError(f"{path}: the file is empty; expected a header row and one row per line")
    header = text.lstrip("\r\n").splitlines()[0]
    ext = path.suffix.lower()
    delimiter = "\t" if ext == ".tsv" or ("\t" in header and "," not in header) else ","
    if delimiter == "\t" and ext != ".tsv":
        log.info("%s: header has tabs and no commas; read as tab-separated", path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise InputError(f"{path}: not a readable table near line {reader.line_num} ({exc}); check the "
                         "quoting (a text cell with a comma or a line break must be in double quotes)") from None
    frame = _frame_from_rows(path, rows)
    if frame.shape[1] == 1 and ";" in str(frame.columns[0]):
        raise InputError(f"{path}: looks semicolon-separated (header {str(frame.columns[0])!r}); save it "
                         "comma-separated (Excel: CSV UTF-8) or tab-separated as .tsv")
    frame.attrs.update(encoding=encoding, delimiter=delimiter)
    return frame


def _cell_text(v: Any) -> Any:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return np.nan
    if isinstance(v, bool):
        return str(v).upper()
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if hasattr(v, "isoformat"):
        return v.isoformat()
    text = str(v).strip()
    return text if text else np.nan


def _read_excel(path: Path, sheet: str | int | None) -> pd.DataFrame:
    names = sheet_names(path)
    if not names:
        raise NoDataError(f"{path}: the workbook has no sheets")
    if sheet is None:
        chosen = names[0]
    elif isinstance(sheet, str) and sheet in names:
        chosen = sheet
    elif isinstance(sheet, (int, np.integer)) or (isinstance(sheet, str) and sheet.strip().isdigit()):
        k = int(sheet)
        if not 0 <= k < len(names):
            raise InputError(f"{path}: sheet {k} is out of range (0-based); the workbook has {len(names)} "
                             f"sheet(s): {', '.join(repr(n) for n in names)}")
        chosen = names[k]
    else:
        raise InputError(f"{path}: no sheet named {sheet!r}; the sheets are: {', '.join(repr(n) for n in names)}")
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
        try:
            rows = [list(r) for r in wb[chosen].iter_rows(values_only=True)]
        finally:
            wb.close()
    except Exception as exc:
        raise InputError(f"{path}: could not read sheet {chosen!r} ({type(exc).__name__}: {exc}); "
                         "save the workbook again as .xlsx") from None
    if not any(not _blank(v) for r in rows for v in r):
        raise NoDataError(f"{path}: sheet {chosen!r} is empty; expected a header row and one row per line")
    # a table that starts right of column A: drop the empty columns on its left
    left = min(next(i for i, v in enumerate(r) if not _blank(v)) for r in rows if any(not _blank(v) for v in r))
    frame = _frame_from_rows(path, [r[left:] for r in rows], word="row")
    frame.attrs.update(sheet=chosen)
    log.info("%s: read sheet %r", path, chosen)
    return frame


def _tidy(frame: pd.DataFrame, path: Path, *, what: str) -> pd.DataFrame:
    attrs = dict(frame.attrs)
    frame = frame.copy()
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    for c in frame.columns:
        col = frame[c].astype(object)
        text = col.map(type).eq(str)
        if text.any():
            col = col.where(~text, col.where(text).astype(object).str.strip())
            col = col.where(~(text & col.eq("")), np.nan)
        frame[c] = col.astype(object)
    blank_cols = [c for c in frame.columns if c.startswith("Unnamed:") and frame[c].isna().all()]
    frame = frame.drop(columns=blank_cols)
    empty = frame.isna().all(axis=1).to_numpy()
    n_trailing = 0
    while n_trailing < len(empty) and empty[len(empty) - 1 - n_trailing]:
        n_trailing += 1
    if n_trailing:
        frame = frame.iloc[: len(frame) - n_trailing]
    if frame.shape[1] == 0 or frame.empty:
        raise NoDataError(f"{path}: has a header but no rows; expected one row per {what}")
    if n_trailing or blank_cols:
        log.info("%s: dropped %d empty trailing row(s) and %d empty unnamed column(s)",
                 path, n_trailing, len(blank_cols))
    attrs.setdefault("first_data_row", 2)
    attrs.update(source=str(path), kind="table", dropped_empty_rows=n_trailing,
                 dropped_empty_columns=len(blank_cols))
    frame = frame.reset_index(drop=True)
    frame.attrs.update(attrs)
    return frame


def _read_geometry(path: Path, *, what: str):
    import geopandas as gpd

    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises its own DataSourceError
        text = str(exc).strip().splitlines()[0].split(";")[0] if str(exc).strip() else type(exc).__name__
        if path.suffix.lower() == ".shp":
            hint = "; a shapefile needs its .shx and .dbf beside the .shp"
        else:
            hint = ("; expected GeoJSON (a FeatureCollection of points), GeoPackage or Shapefile — "
                    "or save the table as CSV/Excel with lon/lat columns")
        raise InputError(f"{path}: could not read it as a {path.suffix or 'geometry'} file ({text}){hint}") from None
    if len(frame) == 0:
        raise NoDataError(f"{path}: has no features; expected one feature per {what}")
    frame.attrs.update(source=str(path), kind="geometry", first_data_row=1, dropped_empty_rows=0,
                       dropped_empty_columns=0)
    return frame
