"""Atomic file writers for every output circles produces.

Each writer writes to a temporary file in the destination's own folder, flushes and
fsyncs it, then moves it over the destination with :func:`os.replace` (atomic on
POSIX and Windows when both are on the same file system).  If anything fails the
temporary file is removed and an existing destination file is left untouched —
a crash or a bad DataFrame never leaves a half-written CSV, Excel or GeoPackage.
Parent folders are created when missing.  How columns are rounded, ordered and typed
(:func:`column_kind`, :func:`round_for_csv`, :func:`plain_table` …) lives in
:mod:`circles.outputs.columns` and is re-exported here.

Examples
--------
>>> import tempfile, pathlib
>>> from circles.outputs.atomic import write_text_atomic
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> write_text_atomic(folder / "out" / "note.txt", "十五分钟生活圈").read_text(encoding="utf-8")
'十五分钟生活圈'
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from circles.errors import InputError
from circles.outputs.columns import (
    NUMBER_KINDS,
    column_kind,
    ids_as_text,
    is_id_column,
    order_columns,
    plain_table,
    round_for_csv,
)

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import pandas as pd

log = logging.getLogger(__name__)

__all__ = [
    "atomic_path",
    "write_text_atomic",
    "write_bytes_atomic",
    "write_csv_atomic",
    "write_excel_atomic",
    "write_gpkg_atomic",
    "column_kind",
    "round_for_csv",
    "text_width",
    "NUMBER_KINDS",
    "plain_table",
    "order_columns",
    "is_id_column",
]

#: Excel limits sheet names to 31 characters and forbids these.
_BAD_SHEET_CHARS = set("[]:*?/\\")


def _fsync_dir(folder: Path) -> None:
    """Persist the rename itself (POSIX only; a no-op where unsupported)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it over ``path``.

    Write the whole file to the yielded path inside the ``with`` block (with any
    library: pandas, pyogrio, openpyxl ...).  On normal exit the file is fsynced and
    atomically renamed to ``path``; if the block raises, the temporary file is deleted,
    ``path`` keeps its previous content (or stays absent) and the error propagates.

    Parameters
    ----------
    path
        Final destination.  Its parent folder is created if missing.
    suffix
        Suffix of the temporary file (default: that of ``path``), for libraries that
        choose a format from the extension (GeoPackage, Excel).

    Raises
    ------
    InputError
        ``path`` is an existing folder, or its parent cannot be created.
    """
    dest = Path(path)
    if dest.is_dir():
        raise InputError(f"{dest}: is a folder; expected a file path to write")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{dest}: cannot create the parent folder {dest.parent}: {exc}") from exc
    # A private temporary folder beside the destination: same file system (so
    # os.replace is atomic), and sidecar files a writer may create (GDAL's -wal/-shm,
    # -journal) are cleaned up with it.
    try:
        tmp_dir = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    except OSError as exc:
        raise OSError(exc.errno, f"{dest}: cannot create a temporary file in {dest.parent}: "
                                 f"{exc.strerror}") from exc
    tmp = tmp_dir / (dest.stem + (suffix if suffix is not None else dest.suffix))
    try:
        try:
            yield tmp
        except OSError as exc:
            if str(dest) in str(exc):
                raise
            try:
                wrapped = (type(exc)(exc.errno, f"{dest}: writing failed: {exc.strerror or exc}")
                           if exc.errno is not None else type(exc)(f"{dest}: writing failed: {exc}"))
            except Exception:  # an OSError subclass with another signature
                wrapped = None
            if wrapped is None:
                if hasattr(exc, "add_note"):  # Python >= 3.11
                    exc.add_note(f"circles.outputs.atomic: writing {dest} failed; "
                                 "any existing file there was left unchanged")
                raise
            raise wrapped from exc
        except BaseException as exc:
            if hasattr(exc, "add_note"):  # Python >= 3.11
                exc.add_note(f"circles.outputs.atomic: writing {dest} failed; "
                             "any existing file there was left unchanged")
            raise
        try:
            if not tmp.is_file():
                raise FileNotFoundError(errno.ENOENT, f"{dest}: nothing was written "
                                                      f"(temporary file {tmp} missing)")
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, dest)
        except OSError as exc:
            if str(dest) in str(exc):
                raise
            raise type(exc)(exc.errno, f"{dest}: could not be replaced: {exc.strerror or exc}") from exc
        _fsync_dir(dest.parent)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; return the path.

    Parameters
    ----------
    path : str or path-like
        Destination; its folder is created when missing.
    data : bytes
        The content.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    dest = Path(path)
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)
    return dest


def write_text_atomic(path: str | os.PathLike, text: str, *, encoding: str = "utf-8") -> Path:
    r"""Write ``text`` to ``path`` atomically (UTF-8 by default, ``\n`` line ends kept).

    Parameters
    ----------
    path : str or path-like
        Destination; its folder is created when missing.
    text : str
        The content, written as it is (no newline translation).
    encoding : str, default "utf-8"
        Text encoding.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    dest = Path(path)
    with atomic_path(dest) as tmp:
        with open(tmp, "w", encoding=encoding, newline="") as fh:
            fh.write(text)
    return dest


def write_csv_atomic(df: pd.DataFrame, path: str | os.PathLike, *, index: bool = False,
                     encoding: str = "utf-8-sig", round_numbers: bool = True, **to_csv_kwargs: Any) -> Path:
    r"""Write a DataFrame to CSV atomically.

    The default ``utf-8-sig`` encoding writes a byte-order mark so that Excel opens
    Chinese text correctly; pandas and Python's ``csv`` read it back with
    ``encoding="utf-8-sig"`` (plain ``utf-8`` keeps a ``\ufeff`` on the first header).
    A GeoDataFrame's geometry column is written as WKT.  With ``round_numbers``
    (default) people, shares, minutes and metres are rounded as :func:`round_for_csv`
    says (``17303.4`` people, not ``17303.4394826889``); NaN is written as an empty cell.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        The table.
    path : str or path-like
        Destination; its folder is created when missing.
    index : bool, default False
        Write the index as a first column.
    encoding : str, default "utf-8-sig"
        Text encoding (with a byte-order mark by default, for Excel).
    round_numbers : bool, default True
        Round numbers by their kind (:func:`column_kind`).
    **to_csv_kwargs
        Passed to :meth:`pandas.DataFrame.to_csv`.

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandas as pd
    >>> table = pd.DataFrame({"unit_id": ["420111001"], "population": [17303.4394826889],
    ...                       "life_15_covered_share": [0.834567], "life_15_minutes": [float("nan")]})
    >>> path = write_csv_atomic(table, pathlib.Path(tempfile.mkdtemp()) / "coverage.csv")
    >>> print(path.read_text(encoding="utf-8-sig"), end="")
    unit_id,population,life_15_covered_share,life_15_minutes
    420111001,17303.4,0.8346,
    """
    dest = Path(path)
    frame = df
    geom = getattr(df, "_geometry_column_name", None)
    if geom is not None and geom in df.columns:
        frame = df.to_wkt() if hasattr(df, "to_wkt") else df
    frame = order_columns(frame)
    if round_numbers:
        frame = round_for_csv(frame)
    with atomic_path(dest) as tmp:
        frame.to_csv(tmp, index=index, encoding=encoding, **to_csv_kwargs)
    return dest


def _check_sheet_names(names: list[str], dest: Path) -> None:
    problems = []
    seen: set[str] = set()
    for name in names:
        if not isinstance(name, str) or not name:
            problems.append(f"sheet name {name!r} is empty or not text")
            continue
        if len(name) > 31:
            problems.append(f"sheet name {name!r} is longer than Excel's 31 characters")
        bad = sorted(set(name) & _BAD_SHEET_CHARS)
        if bad:
            problems.append(f"sheet name {name!r} contains {''.join(bad)!r}, which Excel forbids")
        if name.lower() in seen:
            problems.append(f"sheet name {name!r} is repeated (Excel ignores case)")
        seen.add(name.lower())
    if problems:
        from circles.errors import ValidationError

        raise ValidationError(str(dest), problems)


def write_excel_atomic(sheets: Mapping[str, pd.DataFrame], path: str | os.PathLike, *,
                       index: bool = False, header: Callable[[str], str] | None = None) -> Path:
    r"""Write several DataFrames as sheets of one ``.xlsx`` workbook, atomically, fit to publish.

    Uses xlsxwriter (in constant-memory mode, rows streamed to disk).  Every sheet gets a
    frozen, bold header row, an autofilter over all its columns, column widths fitted to
    the header and the content (CJK characters count double, capped at
    :data:`MAX_COLUMN_WIDTH`), and number formats chosen by :func:`column_kind`: whole
    people with thousands separators, percentages, minutes with one decimal, WGS84
    lon/lat with six (the cells keep the full values); ids (and whole numbers of 12 or more
    digits, such as a 社区编码) are written as text.  A geometry column is replaced by ``lon``/``lat`` (WGS84) of
    each feature's centre — Excel has no geometry and WKT of 140,000 polygons is useless
    there; the GeoPackage keeps the full record.  NaN cells are left empty.

    Parameters
    ----------
    sheets
        Sheet name -> DataFrame (or GeoDataFrame).  Names are validated first (≤ 31
        characters, none of ``[]:*?/\``, unique ignoring case).
    path
        The ``.xlsx`` file to write.
    index
        Also write each frame's index as leading column(s).
    header
        Maps a column name to the header shown (e.g. :func:`circles.outputs.files.bilingual`
        for ``"覆盖人口 / covered_population"``); number formats are still chosen from the
        column name.
    """
    dest = Path(path)
    if not sheets:
        raise InputError(f"{dest}: no sheets to write; pass a dict of sheet name -> DataFrame")
    _check_sheet_names(list(sheets), dest)
    try:
        import xlsxwriter
    except ImportError as exc:  # pragma: no cover - xlsxwriter is a dependency
        raise ImportError(f"{dest}: writing Excel files needs xlsxwriter (pip install xlsxwriter)") from exc

    frames = {name: _excel_frame(df, index=index) for name, df in sheets.items()}
    with atomic_path(dest, suffix=".xlsx") as tmp:
        book = xlsxwriter.Workbook(str(tmp), {
            "constant_memory": True, "tmpdir": str(tmp.parent), "nan_inf_to_errors": True,
            "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False,
        })
        try:
            styles = {kind: book.add_format({"num_format": fmt}) for kind, (fmt, _) in NUMBER_KINDS.items()}
            head = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#EDEDED",
                                    "bottom": 1})
            large = [number for number, (name, frame) in enumerate(frames.items(), start=1)
                     if _write_sheet(book, name, frame, header=header, styles=styles, head=head)]
        except BaseException:
            book.fileclosed = True  # nothing to finish: the temporary folder is removed
            raise
        book.close()
        if large:
            from circles.outputs._sheetxml import fill_sheet_rows

            for number, frame in zip(large, [f for i, f in enumerate(frames.values(), start=1) if i in large]):
                fill_sheet_rows(tmp, number, frame)
    return dest


#: Widest column (Excel character units) set by :func:`write_excel_atomic`.
MAX_COLUMN_WIDTH: float = 60.0
_WIDE = re.compile(r"[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf"
                   r"\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]")


def text_width(text: str) -> int:
    """Display width of ``text`` in Excel character units: CJK (wide) characters count double."""
    return len(text) + len(_WIDE.findall(text))


def _excel_frame(df: pd.DataFrame, *, index: bool) -> pd.DataFrame:
    """A plain DataFrame for Excel: index reset on request; geometry -> lon/lat of centres
    (:func:`plain_table`); ids as text (:func:`ids_as_text`).
    """
    frame = df.reset_index() if index else df
    return ids_as_text(plain_table(frame))


def _cells(values: pd.Series, kind: str | None, *, cells: bool = True) -> tuple[list, float]:
    """Python values for xlsxwriter (None = empty cell; ``[]`` unless ``cells``) and the
    widest shown value.
    """
    import pandas as pd

    n = len(values)
    dtype = values.dtype
    if n == 0:
        return [], 0.0
    if pd.api.types.is_bool_dtype(dtype):
        return ([None if pd.isna(v) else bool(v) for v in values] if cells else []), 5.0
    if pd.api.types.is_integer_dtype(dtype) and not hasattr(dtype, "na_value"):
        arr = values.to_numpy()
        widest = int(np.max(np.abs(arr)))
        return ((arr.tolist() if cells else []),
                float(len(f"{widest:,}" if kind in ("people", "metres") else str(widest)) + 1))
    if pd.api.types.is_numeric_dtype(dtype):
        arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        finite = np.isfinite(arr)
        if cells:
            out = arr.astype(object)
            out[~finite] = None
            out = out.tolist()
        else:
            out = []
        if not finite.any():
            return out, 0.0
        big = float(np.max(np.abs(arr[finite])))
        neg = 1 if (arr[finite] < 0).any() else 0
        if kind in ("people", "metres"):
            shown = len(f"{big:,.0f}")
        elif kind == "share":
            shown = len(f"{big * 100:.1f}%")
        elif kind == "minutes":
            shown = len(f"{big:.1f}")
        else:  # General format: Excel shows up to 11 characters
            shown = min(len(repr(big)), 11)
        return out, float(shown + neg)
    # text and anything else
    arr = values.to_numpy(dtype=object)
    if not cells:  # width only: from the distinct values
        try:
            distinct = pd.unique(arr)
        except TypeError:  # unhashable values (lists, dicts)
            distinct = arr
        texts = [v if isinstance(v, str) else str(v) for v in distinct if not _is_missing(v)]
        if len(texts) > 20000:
            texts = sorted(texts, key=len)[-2000:]
        return [], float(max((text_width(v) for v in texts), default=0))
    missing = pd.isna(values).to_numpy()
    out = np.empty(n, dtype=object)
    out[:] = [None if m else (v if isinstance(v, str) else str(v)) for v, m in zip(arr, missing)]
    present = pd.Series(out[~missing], dtype=object)
    if present.empty:
        return (out.tolist() if cells else []), 0.0
    uniq = present.drop_duplicates()
    if len(uniq) > 20000:
        longest = uniq.str.len().nlargest(2000).index
        uniq = uniq.loc[longest]
    width = float(max(text_width(v) for v in uniq))
    return (out.tolist() if cells else []), width


#: Sheets with at least this many cells get their data rows streamed by
#: :mod:`circles.outputs._sheetxml` instead of xlsxwriter's per-cell Python (same cells, ~10x faster).
FAST_CELLS: int = 200_000


def _header_width(label: str) -> float:
    """Width a (wrapping) header needs: ``"中文 / english_name"`` wraps at " / "; the
    English name has no spaces and must fit on its line, the Chinese part may wrap
    (Excel breaks CJK text anywhere) onto a second line.
    """
    zh, sep, en = label.rpartition(" / ")
    if not sep:
        words = label.split()
        return float(max((text_width(w) for w in words), default=0))
    return float(max(text_width(en), min(text_width(zh), max(text_width(en), 12))))


def _is_missing(value) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists, arrays
        return False


def _write_sheet(book, name: str, frame: pd.DataFrame, *, header, styles: dict, head) -> bool:
    """Write one sheet; returns True when its data rows are left for :mod:`circles.outputs._sheetxml`."""
    import pandas as pd

    sheet = book.add_worksheet(name)
    columns = [str(c) for c in frame.columns]
    labels = [header(c) if header is not None else c for c in columns]
    fast = len(frame) * len(columns) >= FAST_CELLS
    data = []
    for j, col in enumerate(columns):
        values = frame.iloc[:, j]
        numeric = pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype)
        kind = column_kind(col) if numeric else None
        cells, shown = _cells(values, kind, cells=not fast)
        data.append(cells)
        width = min(max(shown, _header_width(labels[j]), 4.0) + 2.0, MAX_COLUMN_WIDTH)
        sheet.set_column(j, j, width, styles.get(kind))
    sheet.write_row(0, 0, labels, head)
    if not fast:
        for r, row in enumerate(zip(*data), start=1):
            sheet.write_row(r, 0, row)
    if not columns:  # an empty table still says so, with the same header row
        sheet.write(0, 0, "(空 / empty)", head)
        sheet.set_column(0, 0, 14)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(frame), 1), max(len(columns), 1) - 1)
    return fast


def write_gpkg_atomic(layers: Mapping[str, gpd.GeoDataFrame], path: str | os.PathLike, *,
                      tables: Mapping[str, pd.DataFrame] | None = None) -> Path:
    """Write several GeoDataFrames as layers of one GeoPackage, atomically.

    All layers go to a temporary ``.gpkg`` that then replaces ``path`` in one step,
    so the destination never holds only some of the layers.  Every layer must have a
    CRS (GeoPackage readers need it).  ``tables`` are written as attribute tables
    (GeoPackage layers without geometry), e.g. summaries; a table without any
    column (an empty summary) cannot be stored in a GeoPackage and is skipped
    with a warning.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Layer name -> features (each with a CRS).
    path : str or path-like
        Destination ``.gpkg``; its folder is created when missing.
    tables : mapping of str to DataFrame, optional
        Attribute tables without geometry.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    InputError
        No layers at all.
    ValidationError
        Layers without a name, a geometry column or a CRS (all listed).
    """
    dest = Path(path)
    if not layers:
        raise InputError(f"{dest}: no layers to write; pass a dict of layer name -> GeoDataFrame")
    problems = []
    for name, gdf in layers.items():
        if not isinstance(name, str) or not name:
            problems.append(f"layer name {name!r} is empty or not text")
        if not hasattr(gdf, "geometry"):
            problems.append(f"layer {name!r} is not a GeoDataFrame (has no geometry column)")
        elif gdf.crs is None:
            problems.append(f"layer {name!r} has no CRS; set one with gdf.set_crs(...) first")
    if problems:
        from circles.errors import ValidationError

        raise ValidationError(str(dest), problems)
    with atomic_path(dest, suffix=".gpkg") as tmp:
        for name, gdf in layers.items():
            gdf.to_file(tmp, layer=name, driver="GPKG")
        if tables:
            import pandas as pd
            import pyogrio

            for name, frame in tables.items():
                frame = pd.DataFrame(frame)
                if len(frame.columns) == 0:
                    # e.g. a district summary with no row (no person in any unit): GeoPackage
                    # cannot store a table without fields, and there is nothing to store
                    log.warning("%s: table %r has no columns (no rows); not written", dest, name)
                    continue
                pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG")
    return dest
