"""Coordinate conversions between WGS84, GCJ-02 and BD-09 (STANDARDS §5).

Chinese web maps publish shifted coordinates: Amap/Gaode and Tencent use
**GCJ-02**, Baidu uses **BD-09**; OpenStreetMap and WorldPop use **WGS84**.
In Wuhan the GCJ-02 shift is about 500–600 m, more than a 5-minute walk, so
every input must say which system it is in.

All functions are vectorised: they take scalars or array-likes of longitudes
and latitudes (degrees) and return ``numpy`` arrays of the broadcast shape
(plain ``float`` values when both inputs are scalars).

Conventions
-----------
* GCJ-02 forward transform: the published polynomial/sine formula on the
  Krasovsky 1940 ellipsoid (``a = 6378245 m``, ``e² = 0.00669342162296594323``).
* GCJ-02 inverse: exact fixed-point iteration ``w ← w − (gcj(w) − g)`` until
  the step is below ``1e-10°`` (≈ 0.01 mm), at most 30 iterations; in Wuhan it
  converges in about 5.  The common one-step approximation leaves ≈ 1 m of
  error and is not used.
* Points outside the rough China bounding box pass through the GCJ-02
  transform unchanged (the usual convention of every published implementation).
* BD-09 is applied on top of GCJ-02 everywhere (no China test), and its
  inverse is also solved exactly by fixed-point iteration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from circles.errors import InputError

#: Semi-major axis of the Krasovsky 1940 ellipsoid used by GCJ-02 (m).
KRASOVSKY_A: float = 6378245.0
#: First eccentricity squared of the Krasovsky 1940 ellipsoid.
KRASOVSKY_EE: float = 0.00669342162296594323
#: Rough China bounding box (lon_min, lon_max, lat_min, lat_max) inside which
#: GCJ-02 shifts points; outside it points pass through unchanged.
CHINA_BBOX: tuple[float, float, float, float] = (72.004, 137.8347, 0.8293, 55.8271)
#: Iterative inverses stop when the step is below this (degrees).
INVERSE_TOLERANCE_DEG: float = 1e-10
#: Iterative inverses give up after this many steps.
INVERSE_MAX_ITER: int = 30

_X_PI = np.pi * 3000.0 / 180.0

#: A pair of longitudes and latitudes as the converters return them: two floats for scalar input,
#: else two arrays of the broadcast shape.
LonLat = tuple[Any, Any]

#: Accepted names for each coordinate system (lower-case).
CRS_ALIASES: dict[str, str] = {
    "wgs84": "wgs84",
    "wgs-84": "wgs84",
    "wgs 84": "wgs84",
    "epsg:4326": "wgs84",
    "4326": "wgs84",
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "gcj": "gcj02",
    "bd09": "bd09",
    "bd-09": "bd09",
    "bd09ll": "bd09",
}


def normalize_crs(crs: str) -> str:
    """Return the canonical name (``"wgs84"``, ``"gcj02"`` or ``"bd09"``) of ``crs``.

    Parameters
    ----------
    crs : str
        A coordinate system name, case-insensitive: ``wgs84`` (also
        ``epsg:4326``), ``gcj02`` or ``bd09``.

    Returns
    -------
    str
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"``.

    Raises
    ------
    InputError
        If the name is not one of the accepted ones.

    Examples
    --------
    >>> normalize_crs("EPSG:4326"), normalize_crs("GCJ-02"), normalize_crs("bd09ll")
    ('wgs84', 'gcj02', 'bd09')
    """
    key = str(crs).strip().lower() if crs is not None else ""
    if key not in CRS_ALIASES:
        raise InputError(
            f"crs={crs!r} is not a known coordinate system; expected one of "
            "'wgs84' (also 'epsg:4326'; OSM, GPS), 'gcj02' (Amap/Gaode, Tencent) or "
            "'bd09' (Baidu). Pass the system the coordinates were published in."
        )
    return CRS_ALIASES[key]


def _as_arrays(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray, tuple[int, ...] | None]:
    """Broadcast to 1-d float copies; the third item is the output shape (None = scalars)."""
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    lon_a, lat_a = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    shape = None if scalar else lon_a.shape
    return lon_a.astype(np.float64).ravel(), lat_a.astype(np.float64).ravel(), shape


def _out(lon: np.ndarray, lat: np.ndarray, shape: tuple[int, ...] | None) -> LonLat:
    if shape is None:
        return float(lon[0]), float(lat[0])
    return lon.reshape(shape), lat.reshape(shape)


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lo0, lo1, la0, la1 = CHINA_BBOX
    return (lon >= lo0) & (lon <= lo1) & (lat >= la0) & (lat <= la1)


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 shift (degrees) at WGS84 points; zero outside China."""
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    d_lat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
        + common
        + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    )
    d_lon = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
        + common
        + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    )
    rad_lat = lat / 180.0 * pi
    magic = 1.0 - KRASOVSKY_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * pi)
    d_lon = (d_lon * 180.0) / (KRASOVSKY_A / sqrt_magic * np.cos(rad_lat) * pi)
    inside = _in_china(lon, lat)
    return np.where(inside, d_lon, 0.0), np.where(inside, d_lat, 0.0)


def _invert(forward: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]], lon_t: np.ndarray,
            lat_t: np.ndarray, start: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``forward(x) = target`` by fixed-point iteration from ``start``."""
    lon, lat = start[0].copy(), start[1].copy()
    active = np.isfinite(lon) & np.isfinite(lat)
    for _ in range(INVERSE_MAX_ITER):
        if not active.any():
            break
        f_lon, f_lat = forward(lon[active], lat[active])
        step_lon = f_lon - lon_t[active]
        step_lat = f_lat - lat_t[active]
        lon[active] -= step_lon
        lat[active] -= step_lat
        done = np.maximum(np.abs(step_lon), np.abs(step_lat)) < INVERSE_TOLERANCE_DEG
        idx = np.flatnonzero(active)
        active[idx[done]] = False
    return lon, lat


def _wgs_to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d_lon, d_lat = _gcj_delta(lon, lat)
    return lon + d_lon, lat + d_lat


def _gcj_to_bd(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_to_gcj_approx(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = lon - 0.0065
    y = lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Shift WGS84 lon/lat to GCJ-02 (unchanged outside China).

    Parameters
    ----------
    lon, lat : float or array-like
        Longitudes and latitudes in degrees (broadcast together).

    Returns
    -------
    tuple of numpy.ndarray (or of float for scalar input)
        GCJ-02 longitudes and latitudes.

    Examples
    --------
    In Wuhan the shift is about 500 m; outside China points are unchanged:

    >>> lon, lat = wgs84_to_gcj02(114.2703, 30.5859)
    >>> round(lon, 4), round(lat, 4)
    (114.2757, 30.5834)
    >>> wgs84_to_gcj02(24.94, 60.17)  # Helsinki
    (24.94, 60.17)
    """
    lon_a, lat_a, shape = _as_arrays(lon, lat)
    return _out(*_wgs_to_gcj(lon_a, lat_a), shape)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Exact inverse of :func:`wgs84_to_gcj02` (iterative, error < 1e-10°).

    Parameters
    ----------
    lon, lat : float or array-like
        GCJ-02 longitudes and latitudes in degrees.

    Returns
    -------
    tuple of numpy.ndarray (or of float for scalar input)
        WGS84 longitudes and latitudes.  NaN stays NaN.

    Examples
    --------
    A round trip comes back to well under a millimetre (1e-8° is about 1 mm):

    >>> import numpy as np
    >>> lon = np.array([114.30, 114.40]); lat = np.array([30.55, 30.50])
    >>> back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    >>> bool(np.allclose(back_lon, lon, atol=1e-8) and np.allclose(back_lat, lat, atol=1e-8))
    True
    """
    lon_a, lat_a, shape = _as_arrays(lon, lat)
    return _out(*_invert(_wgs_to_gcj, lon_a, lat_a, (lon_a, lat_a)), shape)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert GCJ-02 lon/lat to Baidu BD-09.

    Parameters
    ----------
    lon, lat : float or array-like
        GCJ-02 longitudes and latitudes in degrees.

    Returns
    -------
    tuple of numpy.ndarray (or of float for scalar input)
        BD-09 longitudes and latitudes.
    """
    lon_a, lat_a, shape = _as_arrays(lon, lat)
    return _out(*_gcj_to_bd(lon_a, lat_a), shape)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Exact inverse of :func:`gcj02_to_bd09` (iterative from the usual approximation).

    Parameters
    ----------
    lon, lat : float or array-like
        BD-09 longitudes and latitudes in degrees.

    Returns
    -------
    tuple of numpy.ndarray (or of float for scalar input)
        GCJ-02 longitudes and latitudes.

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(*gcj02_to_bd09(114.2757, 30.5834))
    >>> round(lon, 9), round(lat, 9)
    (114.2757, 30.5834)
    """
    lon_a, lat_a, shape = _as_arrays(lon, lat)
    start = _bd_to_gcj_approx(lon_a, lat_a)
    return _out(*_invert(_gcj_to_bd, lon_a, lat_a, start), shape)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert WGS84 lon/lat to BD-09 (through GCJ-02).

    Parameters
    ----------
    lon, lat : float or array-like
        WGS84 longitudes and latitudes in degrees.

    Returns
    -------
    tuple of numpy.ndarray (or of float for scalar input)
        BD-09 longitudes and latitudes.
    """
    lon_a, lat_a, shape = _as_arrays(lon, lat)
    return _out(*_gcj_to_bd(*_wgs_to_gcj(lon_a, lat_a)), shape)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert BD-09 lon/lat to WGS84 (exact inverses of both steps).

    Parameters
    ----------
    lon, lat : float or array-like
        BD-09 longitudes and latitudes in degrees.

    Returns
    -------
    tuple of numpy.ndarray (or of float for scalar input)
        WGS84 longitudes and latitudes.
    """
    g_lon, g_lat = bd09_to_gcj02(lon, lat)
    return gcj02_to_wgs84(g_lon, g_lat)


def to_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str) -> LonLat:
    """Convert lon/lat published in ``crs`` to WGS84.

    Parameters
    ----------
    lon, lat : float or array-like
        Longitudes and latitudes in degrees.
    crs : str
        ``"wgs84"`` (or ``"epsg:4326"``; returned unchanged), ``"gcj02"`` or
        ``"bd09"``; case-insensitive.

    Returns
    -------
    tuple of numpy.ndarray (or of float for scalar input)
        WGS84 longitudes and latitudes.

    Raises
    ------
    InputError
        For an unknown ``crs`` name.

    Examples
    --------
    >>> lon, lat = to_wgs84(114.275742, 30.58349, "gcj02")  # Union Hospital, Wuhan
    >>> round(lon, 4), round(lat, 4)
    (114.2703, 30.5859)
    """
    kind = normalize_crs(crs)
    if kind == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if kind == "bd09":
        return bd09_to_wgs84(lon, lat)
    lon_a, lat_a, shape = _as_arrays(lon, lat)
    return _out(lon_a, lat_a, shape)


def check_lonlat(
    lon: ArrayLike,
    lat: ArrayLike,
    source: str,
    *,
    rows: Sequence[Any] | None = None,
    row_word: str = "row",
    max_listed: int = 10,
) -> None:
    """Raise :class:`InputError` if any coordinate is missing or out of range.

    Checks, in this order: missing/non-numeric values, latitudes outside
    ±90° (usually longitude and latitude swapped), longitudes outside ±180°.
    All failing checks are reported together, each with the first
    ``max_listed`` offending rows.

    Parameters
    ----------
    lon, lat : array-like
        Longitudes and latitudes in degrees (non-numeric entries count as missing).
    source : str
        What the coordinates come from (file name, column names), used in the message.
    rows : sequence, optional
        Labels of the rows used in the message (e.g. 1-based data row
        numbers); defaults to 1-based positions.
    row_word : str, default "row"
        Word printed before the row labels.
    max_listed : int, default 10
        How many offending rows to list per problem.

    Raises
    ------
    InputError
        Naming the source, the problem and the first offending rows.

    Examples
    --------
    >>> check_lonlat([114.3, 114.4], [30.5, 30.6], "sites.csv")  # fine: returns None
    >>> check_lonlat([30.5], [114.3], "sites.csv")
    Traceback (most recent call last):
    ...
    circles.errors.InputError: sites.csv: 1 row (row 1) has a latitude outside -90..90 — longitude and latitude look swapped; exchange the two columns (or the --lon-column/--lat-column options).
    """
    import pandas as pd

    lon_a = pd.to_numeric(pd.Series(np.ravel(np.asarray(lon, dtype=object))), errors="coerce").to_numpy(float)
    lat_a = pd.to_numeric(pd.Series(np.ravel(np.asarray(lat, dtype=object))), errors="coerce").to_numpy(float)
    labels = list(rows) if rows is not None else list(range(1, len(lon_a) + 1))

    def listed(mask: np.ndarray) -> str:
        idx = np.flatnonzero(mask)
        shown = ", ".join(str(labels[i]) for i in idx[:max_listed])
        more = f" and {len(idx) - max_listed} more" if len(idx) > max_listed else ""
        plural = "s" if len(idx) > 1 else ""
        verb = "have" if len(idx) > 1 else "has"
        return f"{len(idx)} {row_word}{plural} ({row_word}{plural} {shown}{more}) {verb}"

    problems = []
    missing = ~np.isfinite(lon_a) | ~np.isfinite(lat_a)
    if missing.any():
        problems.append(
            f"{listed(missing)} a missing or non-numeric longitude/latitude; "
            "fill them in or remove those rows"
        )
    bad_lat = ~missing & (np.abs(lat_a) > 90)
    if bad_lat.any():
        hint = f" (e.g. {lat_a[bad_lat][0]:g}); correct those rows or remove them"
        if np.all(np.abs(lon_a[bad_lat]) <= 90):
            hint = " — longitude and latitude look swapped; exchange the two columns (or the --lon-column/--lat-column options)"
        problems.append(f"{listed(bad_lat)} a latitude outside -90..90{hint}")
    bad_lon = ~missing & ~bad_lat & (np.abs(lon_a) > 180)
    if bad_lon.any():
        problems.append(
            f"{listed(bad_lon)} a longitude outside -180..180; "
            "coordinates must be decimal degrees (projected metres are not accepted here)"
        )
    if problems:
        raise InputError(f"{source}: " + "; ".join(problems) + ".")
