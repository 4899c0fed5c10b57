"""Atomic file writers for every output circles produces.

Each writer writes to a temporary file in the destination's own folder, flushes and
fsyncs it, then moves it over the destination with :func:`os.replace` (atomic on
POSIX and Windows when both are on the same file system).  If anything fails the
temporary file is removed and an existing destination file is left untouched —
a crash or a bad DataFrame never leaves a half-written CSV, Excel or GeoPackage.
Parent folders are created when missing.

Examples
--------
>>> import tempfile, pathlib
>>> from circles.io import write_text_atomic
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> write_text_atomic(folder / "out" / "note.txt", "十五分钟生活圈").read_text(encoding="utf-8")
'十五分钟生活圈'
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from circles.errors import InputError

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
                    exc.add_note(f"circles.io: writing {dest} failed; "
                                 "any existing file there was left unchanged")
                raise
            raise wrapped from exc
        except BaseException as exc:
            if hasattr(exc, "add_note"):  # Python >= 3.11
                exc.add_note(f"circles.io: writing {dest} failed; "
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
    """Write ``data`` to ``path`` atomically; return the path."""
    dest = Path(path)
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)
    return dest


def write_text_atomic(path: str | os.PathLike, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8 by default, ``\\n`` line ends kept)."""
    dest = Path(path)
    with atomic_path(dest) as tmp:
        with open(tmp, "w", encoding=encoding, newline="") as fh:
            fh.write(text)
    return dest


def write_csv_atomic(df: pd.DataFrame, path: str | os.PathLike, *, index: bool = False,
                     encoding: str = "utf-8-sig", **to_csv_kwargs) -> Path:
    """Write a DataFrame to CSV atomically.

    The default ``utf-8-sig`` encoding writes a byte-order mark so that Excel opens
    Chinese text correctly; pandas and Python's ``csv`` read it back with
    ``encoding="utf-8-sig"`` (plain ``utf-8`` keeps a ``\\ufeff`` on the first header).
    A GeoDataFrame's geometry column is written as WKT.
    """
    dest = Path(path)
    frame = df
    geom = getattr(df, "_geometry_column_name", None)
    if geom is not None and geom in df.columns:
        frame = df.to_wkt() if hasattr(df, "to_wkt") else df
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
                       index: bool = False) -> Path:
    """Write several DataFrames as sheets of one ``.xlsx`` workbook, atomically.

    Uses openpyxl.  Geometry columns are written as WKT text (Excel has no geometry).
    Sheet names are validated first (≤ 31 characters, none of ``[]:*?/\\``, unique).
    """
    dest = Path(path)
    if not sheets:
        raise InputError(f"{dest}: no sheets to write; pass a dict of sheet name -> DataFrame")
    _check_sheet_names(list(sheets), dest)
    try:
        import openpyxl  # noqa: F401
    except ImportError as exc:  # pragma: no cover - openpyxl is a dependency
        raise ImportError(f"{dest}: writing Excel files needs openpyxl (pip install openpyxl)") from exc
    import pandas as pd

    with atomic_path(dest, suffix=".xlsx") as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            for name, df in sheets.items():
                frame = df
                geom = getattr(df, "_geometry_column_name", None)
                if geom is not None and geom in df.columns:
                    frame = df.to_wkt()
                frame.to_excel(writer, sheet_name=name, index=index)
    return dest


def write_gpkg_atomic(layers: Mapping[str, gpd.GeoDataFrame], path: str | os.PathLike, *,
                      tables: Mapping[str, pd.DataFrame] | None = None) -> Path:
    """Write several GeoDataFrames as layers of one GeoPackage, atomically.

    All layers go to a temporary ``.gpkg`` that then replaces ``path`` in one step,
    so the destination never holds only some of the layers.  Every layer must have a
    CRS (GeoPackage readers need it).  ``tables`` are written as attribute tables
    (GeoPackage layers without geometry), e.g. summaries; a table without any
    column (an empty summary) cannot be stored in a GeoPackage and is skipped
    with a warning.
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
