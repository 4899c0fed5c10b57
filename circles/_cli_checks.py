"""Checks and error reports of the ``circles`` command line (used by :mod:`circles.cli`).

* :func:`preflight` — cheap checks of a command's options before minutes of work:
  every input path exists, coordinate systems are known names, ``--out`` can be written,
  the score options name real categories.  Each failure is an
  :class:`~circles.errors.InputError` naming the flag, what was expected and the fix.
* :func:`os_error_message` — permissions, full disks and the like as one message.
* :func:`report_internal_error` — an unexpected error (a bug): one line on the
  console, the traceback in a log file (the ``--out`` folder, else the temp folder).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from circles.errors import InputError, InputFileNotFoundError

# Path options checked before any work starts: (option name in the command, CLI flag).
_PATH_FLAGS = (("network", "--network"), ("facilities", "--facilities"), ("units", "--units"),
               ("area", "--area"), ("population", "--population"), ("population_65plus", "--population-65plus"),
               ("districts", "--districts"), ("candidates", "--candidates"))
# Tables (no geometry, lon/lat columns) whose coordinate system must be said.
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xls")
# Coordinate-system flags that take only the three names circles converts between.
_CRS_FLAGS = (("facilities_crs", "--facilities-crs"), ("candidates_crs", "--candidates-crs"))


def _check_out(out: Path, *, kind: str) -> None:
    """Fail before the analysis when ``--out`` cannot be written: the path (``kind="folder"``)
    or its folder (``kind="file"``) is a file, or a parent of it is a file.
    """
    out = Path(out)
    if kind == "folder" and out.is_file():
        raise InputError(f"--out {out} is a file; expected a folder for the outputs: pass a folder path "
                         f"(it is created if missing)")
    if kind == "file" and out.is_dir():
        raise InputError(f"--out {out} is a folder; expected the path of the file to write, e.g. {out / 'map.html'}")
    for parent in (out.parent, *out.parent.parents):
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f"--out {out}: {parent} is a file, not a folder, so nothing can be written "
                                 f"under it; choose another --out path")
            break


def preflight(options: Mapping[str, Any], *, out_kind: str = "folder") -> None:
    """Cheap checks of a command's options before minutes of work: every input path exists,
    coordinate systems are known names, --out can be written.

    Parameters
    ----------
    options : mapping
        The command's options by name (``AnalyzeInputs.as_dict()`` plus ``out`` and the
        score options); absent keys are skipped.
    out_kind : {"folder", "file"}
        What ``--out`` names.

    Returns
    -------
    None
        Raises :class:`~circles.errors.InputError` (or ``InputFileNotFoundError``) on the first problem.
    """
    from circles.classify import CATEGORIES
    from circles.coords import normalize_crs

    for key, flag in _PATH_FLAGS:
        value = options.get(key)
        if value is None or (key == "units" and value == "osm"):
            continue
        path = Path(value).expanduser()
        if not path.exists():
            also = ", or pass --units osm for the network file's residential areas" if key == "units" else ""
            raise InputFileNotFoundError(f"{flag} {value}: file not found (resolved to {path.resolve()}); "
                                         f"check the path{also}")
        if path.is_dir():
            if key in ("units", "area", "districts"):  # a Shapefile folder or a FileGDB is a dataset
                continue
            raise InputError(f"{flag} {value}: is a folder; expected a file")
        if path.stat().st_size == 0:
            raise InputError(f"{flag} {value}: the file is empty (0 bytes); export it again")
    for key, flag in _CRS_FLAGS:
        if options.get(key) is not None:
            try:
                normalize_crs(options[key])
            except InputError:
                raise InputError(f"{flag} {options[key]!r} is not a coordinate system circles knows; expected "
                                 f"wgs84 (GPS, OpenStreetMap), gcj02 (Amap/Gaode, Tencent) or bd09 (Baidu)") from None
    if "out" in options:
        _check_out(options["out"], kind=out_kind)
    _check_score_options(options, CATEGORIES)


def _check_score_options(options: Mapping[str, Any], categories: tuple[str, ...]) -> None:
    """Options whose meaning depends on another option (absent keys are skipped)."""
    one = options.get("candidates_category")
    if one is not None and one not in categories:
        raise InputError(f"--candidates-category {one!r} is not a category id; expected one of {', '.join(categories)}")
    listed = [c.strip() for c in (options.get("categories") or "").split(",") if c.strip()]
    unknown = [c for c in listed if c not in categories]
    if unknown:
        raise InputError(f"--categories: unknown categories {unknown}; expected comma-separated ids from "
                         f"{', '.join(categories)}")
    units = options.get("units")
    if units is not None and units != "osm" and options.get("units_crs") is None \
            and Path(units).suffix.lower() in TABLE_SUFFIXES:
        raise InputError(f"--units {units}: a table of unit points needs --units-crs: wgs84 (GPS, OpenStreetMap), "
                         f"gcj02 (Amap/Gaode, Tencent) or bd09 (Baidu); in Wuhan the wrong choice moves points "
                         f"about 550 m")
    cands = options.get("candidates")
    if cands is not None and options.get("candidates_crs") is None and options.get("facilities_crs") is None \
            and Path(cands).suffix.lower() in TABLE_SUFFIXES:
        raise InputError(f"--candidates {cands}: say which coordinate system its lon/lat columns are in with "
                         f"--candidates-crs (or --facilities-crs): wgs84 (GPS, OpenStreetMap), gcj02 (Amap/Gaode, Tencent) "
                         f"or bd09 (Baidu); in Wuhan the wrong choice moves points about 550 m")


def check_candidates_in_area(cands: Any, area: Any, source: Any) -> None:
    """Fail when not one candidate lies within 1 km of the study area (wrong CRS, another city).

    Parameters
    ----------
    cands : geopandas.GeoDataFrame
        The candidate sites.
    area : shapely geometry or None
        The study area (EPSG:4326); None: nothing to check.
    source : path
        The --candidates file, named in the message.

    Returns
    -------
    None
        Raises :class:`InputError` when every site is farther.
    """
    import geopandas as gpd

    if area is None or not len(cands):
        return
    metric = gpd.GeoSeries([area], crs="EPSG:4326").estimate_utm_crs()
    zone = gpd.GeoSeries([area], crs="EPSG:4326").to_crs(metric).iloc[0]
    pts = cands.to_crs(metric).geometry
    distance = pts.distance(zone)
    if (distance > 1000).all():
        raise InputError(f"--candidates {source}: none of its {len(cands)} sites lies in the study area (the nearest "
                         f"is {distance.min() / 1000:.1f} km away); check --candidates-crs (GCJ-02 vs WGS84 moves "
                         f"points ~550 m in Wuhan) and that the sites are in the network's city")


def log_path(argv: list[str]) -> Path:
    """Where the traceback of an internal error is written: the --out folder when it
    exists (or the folder of an --out file), else the system's temporary folder.

    Parameters
    ----------
    argv : list of str
        The command line (its --out is looked for).

    Returns
    -------
    pathlib.Path
        A new log file's path.
    """
    import tempfile

    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = f"circles-error-{stamp}-{os.getpid()}.log"
    out = next((argv[i + 1] for i in range(len(argv) - 1) if argv[i] == "--out"), None)
    out = out or next((a.split("=", 1)[1] for a in argv if a.startswith("--out=")), None)
    if out:
        folder = Path(out)
        folder = folder if folder.is_dir() else folder.parent
        if folder.is_dir() and os.access(folder, os.W_OK):
            return folder / name
    return Path(tempfile.gettempdir()) / name


def report_internal_error(exc: BaseException, argv: list[str], err_console: Any) -> None:
    """One line on ``err_console``: the error, where the log is and ``--debug``; the
    traceback, the command and the versions go to the log file (see :func:`log_path`).

    Parameters
    ----------
    exc : BaseException
        The unexpected error.
    argv : list of str
        The command line.
    err_console : rich.console.Console
        Where the line is printed.

    Returns
    -------
    None
    """
    import platform
    import traceback

    from circles import __version__

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    log = (f"circles {__version__}, Python {platform.python_version()} on {platform.platform()}\n"
           f"command: circles {' '.join(argv)}\n\n{text}")
    path = log_path(argv)
    try:
        path.write_text(log, encoding="utf-8")
        where = f"the full traceback is in {path}"
    except OSError:
        where = "the traceback could not be saved"
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    err_console.print(f"[bold red]internal error:[/] {type(exc).__name__}: {first} — a bug in circles, not in your "
                      f"input; {where}; run the same command with --debug to see it here, and please report it "
                      f"with that file", highlight=False, soft_wrap=True)


def os_error_message(exc: OSError) -> str | None:
    """A one-line message for file-system errors caused by the user's paths (permissions,
    a full or read-only disk, a file where a folder should be).

    Parameters
    ----------
    exc : OSError
        The error.

    Returns
    -------
    str or None
        The message; None for anything else.
    """
    import errno

    user_errnos = {errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EROFS, errno.ENOTDIR, errno.EISDIR,
                   errno.EEXIST, errno.ENAMETOOLONG, errno.EDQUOT}
    if exc.errno not in user_errnos or not exc.filename:
        return None
    return (f"{exc.filename}: {exc.strerror}; check that the path is right and that you may write there "
            f"(choose another --out folder if it is an output)")


def check_candidates_categories(cands: Any, policy: Any, circle: str | None, source: Any) -> None:
    """Fail when no candidate site has a category the chosen circle (or any circle of
    the policy) needs: every score would be zero and say nothing.

    Parameters
    ----------
    cands : geopandas.GeoDataFrame
        The candidate sites (``category`` column).
    policy : Policy
        The policy pack.
    circle : str or None
        The --circle asked for; None: every circle of the policy.
    source : path
        The --candidates file, named in the message.

    Returns
    -------
    None
    """
    needed = ({c for r in policy.circle(circle).requirements for c in r.categories} if circle
              else set(policy.categories))
    found = set(cands["category"].dropna().astype(str)) if "category" in cands else set()
    if found and not found & needed:
        what = f"circle {circle!r}" if circle else f"policy {policy.id!r}"
        raise InputError(f"--candidates {source}: no site has a category the {what} needs ({', '.join(sorted(needed))}); "
                         f"the file's categories are {', '.join(sorted(found))}. Give sites in a category it needs, "
                         f"choose another --circle, or put every site in one with --candidates-category")


_PYTHON_THEN_FLAG = None


def cli_first(text: str) -> str:
    """Messages are written for both audiences as ``facilities_crs (CLI --facilities-crs)``; on the
    command line the flag leads: ``--facilities-crs (Python: facilities_crs)``.  Only Python-looking
    names (with ``_`` or ``=``) directly before ``(CLI --flag)`` are turned round; the rest stays.

    Parameters
    ----------
    text : str
        A message.

    Returns
    -------
    str
        The message with the flags first.
    """
    import re

    global _PYTHON_THEN_FLAG
    if _PYTHON_THEN_FLAG is None:
        _PYTHON_THEN_FLAG = re.compile(
            r"(?<![\w-])([A-Za-z]\w*_\w*(?:=[^\s,;()]*)?|[A-Za-z]\w*=[^\s,;()]*) \(CLI (--[a-z][\w-]*)\)")
    text = _PYTHON_THEN_FLAG.sub(lambda m: f"{m.group(2)} (Python: {m.group(1)})", text)
    return re.sub(r"\(([a-z_]+), CLI (--[a-z][\w-]*)\)", r"(\2; Python: \1)", text)
