"""The array-only maths of coverage: from per-point minutes to per-unit shares.

Every function takes NumPy arrays (one entry per demand point, or per unit)
and returns arrays; nothing here knows GeoPandas, networks or policies, so
each step can be tested on a handful of numbers.  :mod:`circles.coverage`
runs them per circle; scoring reuses them for new sites.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def group_minutes(category_minutes: Sequence[np.ndarray]) -> np.ndarray:
    """Any-of group: the nearest of its categories (NaN only if all are NaN).

    Parameters
    ----------
    category_minutes : sequence of ndarray
        Minutes per point, one array per category of the group.

    Returns
    -------
    ndarray
        Per point, the smallest of the categories' minutes.

    Examples
    --------
    >>> group_minutes([np.array([5.0, np.nan]), np.array([3.0, np.nan])]).tolist()
    [3.0, nan]
    """
    stacked = np.vstack([np.where(np.isnan(m), np.inf, m) for m in category_minutes])
    best = stacked.min(axis=0)
    return np.where(np.isinf(best), np.nan, best)


def circle_point_result(groups_minutes: Sequence[np.ndarray],
                        groups_limit: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per point: the circle's minutes and whether every group is within its limit.

    Parameters
    ----------
    groups_minutes : sequence of ndarray
        Minutes per point, one array per requirement group.
    groups_limit : sequence of ndarray
        Per-point limits (zone-dependent thresholds), one array per group.

    Returns
    -------
    minutes : ndarray
        The slowest group's minutes (NaN if any group is unreachable).
    met : ndarray of bool
        Every group within its limit.
    """
    met = np.ones(groups_minutes[0].shape, dtype=bool)
    slowest = np.zeros(groups_minutes[0].shape)
    for minutes, limit in zip(groups_minutes, groups_limit):
        met &= np.nan_to_num(minutes, nan=np.inf) <= limit
        slowest = np.maximum(slowest, np.nan_to_num(minutes, nan=np.inf))
    return np.where(np.isinf(slowest), np.nan, slowest), met


def weighted_share(mask: np.ndarray, weight: np.ndarray, unit: np.ndarray, n_units: int) -> tuple[np.ndarray, np.ndarray]:
    """Covered and total weight per unit; points with ``unit < 0`` are ignored.

    Parameters
    ----------
    mask : ndarray of bool
        Per point: covered.
    weight : ndarray
        Per point: people.
    unit : ndarray of int
        Per point: the unit row (``-1`` outside every unit).
    n_units : int
        Number of units.

    Returns
    -------
    covered, total : ndarray
        Per unit, the weight of covered points and of all points.

    Examples
    --------
    >>> covered, total = weighted_share(np.array([True, False, True]), np.array([1.0, 2.0, 3.0]),
    ...                                 np.array([0, 0, 1]), 2)
    >>> covered.tolist(), total.tolist()
    ([1.0, 3.0], [3.0, 3.0])
    """
    inside = unit >= 0
    total = np.bincount(unit[inside], weights=weight[inside], minlength=n_units)
    covered = np.bincount(unit[inside], weights=(weight * mask)[inside], minlength=n_units)
    return covered, total


def weighted_median(values: np.ndarray, weight: np.ndarray, unit: np.ndarray, n_units: int) -> np.ndarray:
    """Population-weighted median of ``values`` per unit.

    NaN counts as +inf; a median that falls on +inf is reported as NaN.
    Vectorised: the first point, in increasing order within its unit, at
    which the unit's cumulative weight reaches half its total.

    Parameters
    ----------
    values, weight : ndarray
        Per point: the value and its weight.
    unit : ndarray of int
        Per point: the unit row (``-1`` outside every unit).
    n_units : int
        Number of units.

    Returns
    -------
    ndarray
        Per unit, the weighted median (NaN for a unit without weight).

    Examples
    --------
    >>> weighted_median(np.array([1.0, 5.0, 9.0]), np.array([1.0, 1.0, 3.0]), np.array([0, 0, 0]), 1).tolist()
    [9.0]
    """
    out = np.full(n_units, np.nan)
    ok = (unit >= 0) & (weight > 0)
    if not ok.any():
        return out
    v = np.nan_to_num(values[ok], nan=np.inf)
    w = weight[ok]
    u = unit[ok]
    order = np.lexsort((v, u))
    v, w, u = v[order], w[order], u[order]
    cum = np.cumsum(w)
    starts = np.searchsorted(u, np.arange(n_units), side="left")
    ends = np.searchsorted(u, np.arange(n_units), side="right")
    has = ends > starts
    base = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
    half = np.where(has, (cum[np.maximum(ends - 1, 0)] - base) / 2.0, np.inf)
    reached = (cum - base[u]) >= half[u]
    first = np.full(n_units, -1, dtype=np.int64)
    hit = np.flatnonzero(reached)
    uu, pos = np.unique(u[hit], return_index=True)
    first[uu] = hit[pos]
    missing = has & (first < 0)  # rounding: fall back to the unit's last point
    first[missing] = ends[missing] - 1
    val = np.where(has, v[np.maximum(first, 0)], np.nan)
    out[has] = np.where(np.isfinite(val[has]), val[has], np.nan)
    return out


def status_from_share(share: np.ndarray, total: np.ndarray, offnet: np.ndarray, *,
                      covered_min: float, uncovered_max: float) -> np.ndarray:
    """Unit status from its covered share.

    Parameters
    ----------
    share, total, offnet : ndarray
        Per unit: covered share, total weight and off-network weight.
    covered_min, uncovered_max : float
        ``covered`` at or above ``covered_min``, ``uncovered`` below ``uncovered_max``.

    Returns
    -------
    ndarray of object
        ``covered``, ``partial``, ``uncovered``, ``empty`` (no people) or
        ``off_network`` (all people off the network).
    """
    status = np.where(share >= covered_min, "covered", np.where(share < uncovered_max, "uncovered", "partial"))
    status = np.where(total <= 0, "empty", status)
    status = np.where((total > 0) & (offnet >= total), "off_network", status)
    return status.astype(object)


def unit_coverage(met: np.ndarray, weight: np.ndarray, unit: np.ndarray, offnet: np.ndarray, n_units: int, *,
                  no_data: bool, covered_min: float,
                  uncovered_max: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per unit: covered, total and off-network weight, covered share and status.

    Parameters
    ----------
    met, offnet : ndarray of bool
        Per point: circle met; point off the network.
    weight : ndarray
        Per point: people.
    unit : ndarray of int
        Per point: the unit row (``-1`` outside every unit).
    n_units : int
        Number of units.
    no_data : bool
        The circle cannot be measured: every share is NaN and every status ``no_data``.
    covered_min, uncovered_max : float
        Status thresholds (see :func:`status_from_share`).

    Returns
    -------
    tuple of ndarray
        ``(covered weight, total weight, off-network weight, covered share, status)``.
    """
    covered_w, total_w = weighted_share(met, weight, unit, n_units)
    offnet_w, _ = weighted_share(offnet, weight, unit, n_units)
    if no_data:
        return covered_w, total_w, offnet_w, np.full(n_units, np.nan), np.full(n_units, "no_data", dtype=object)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total_w > 0, covered_w / total_w, np.nan)
    status = status_from_share(np.nan_to_num(share, nan=0.0), total_w, offnet_w,
                               covered_min=covered_min, uncovered_max=uncovered_max)
    return covered_w, total_w, offnet_w, share, status
