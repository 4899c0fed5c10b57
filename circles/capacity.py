"""Capacity-aware access: supply within a circle per 1,000 people, by a two-step floating catchment.

Coverage counts a 10-bed station the same as a 300-bed home.  The two-step
floating catchment (2SFCA, Luo & Wang 2003) weighs each facility by its
capacity and by the people who share it:

1. for every facility ``j``, ``R_j = S_j / sum(D_i for the points i within its catchment)``
   (supply per person of the people who can reach it);
2. for every demand point ``i``, ``A_i = sum(R_j for the facilities j within its reach)``.

The catchment is the circle's own limit on circles' own travel times (the same
bounded searches, access legs and travel direction as the coverage and the
scoring of sites).  :func:`two_step_fsca` works on plain arrays;
:func:`travel_minutes` builds the point x facility minutes of one circle;
:func:`capacity_access` gives, per unit, the supply within the circle per
1,000 of its people (population-weighted over the unit's demand points; the
65+ population for a circle weighted by it, e.g. nursing beds within 15
minutes per 1,000 people aged 65+).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from circles.errors import InputError

__all__ = ["two_step_fsca", "travel_minutes", "capacity_access"]


def _entries(minutes: Any, n_points: int, n_fac: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(point, facility, minutes) of the reachable pairs of ``minutes`` (sparse: stored entries; dense: finite)."""
    if sp.issparse(minutes):
        coo = sp.coo_array(minutes)
        rows, cols, vals = coo.row, coo.col, np.asarray(coo.data, dtype=np.float64)
    else:
        dense = np.asarray(minutes, dtype=np.float64)
        rows, cols = np.nonzero(np.isfinite(dense))
        vals = dense[rows, cols]
    if minutes.shape != (n_points, n_fac):
        raise InputError(f"two_step_fsca: minutes must have shape (points, facilities) = ({n_points}, {n_fac}), "
                         f"got {minutes.shape}")
    return rows.astype(np.int64), cols.astype(np.int64), vals


def two_step_fsca(supply: Any, demand: Any, minutes: Any, *, limit_min: float | None = None) -> np.ndarray:
    """Accessibility per demand point by the classic two-step floating catchment.

    Parameters
    ----------
    supply : array-like, shape (n_facilities,)
        Capacity of each facility (beds, places ...), finite and ``>= 0``.
    demand : array-like, shape (n_points,)
        People at each demand point, finite and ``>= 0``.
    minutes : scipy sparse matrix or array, shape (n_points, n_facilities)
        Travel minutes from point ``i`` to facility ``j``.  Sparse: the stored
        entries are the pairs within reach (an explicitly stored 0 is a pair
        0 minutes apart); dense: NaN or inf where out of reach.
    limit_min : float, optional
        Keep only pairs at most this many minutes apart (default: every pair given).

    Returns
    -------
    numpy.ndarray of float64, shape (n_points,)
        ``A_i = sum_j R_j`` over the facilities within reach of ``i``, where
        ``R_j = S_j / sum_i D_i`` over the points within reach of ``j``;
        supply per person (multiply by 1,000 for per 1,000 people).  A
        facility that nobody reaches adds nothing; a point that reaches
        nothing has 0.

    Raises
    ------
    InputError
        Negative or non-finite supply or demand, or a matrix of the wrong shape.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array([[5.0, np.inf], [8.0, 12.0], [np.inf, 3.0]])
    >>> two_step_fsca([10.0, 4.0], [100.0, 100.0, 300.0], t, limit_min=10)
    array([0.05      , 0.05      , 0.01333333])
    """
    s = np.asarray(supply, dtype=np.float64)
    d = np.asarray(demand, dtype=np.float64)
    problems = [f"{name}: expected a 1-D array of finite numbers >= 0"
                for name, a in (("supply", s), ("demand", d))
                if a.ndim != 1 or not np.isfinite(a).all() or (a.size and a.min() < 0)]
    if problems:
        raise InputError("two_step_fsca: " + "; ".join(problems))
    rows, cols, vals = _entries(minutes, d.size, s.size)
    keep = np.isfinite(vals) if limit_min is None else vals <= float(limit_min)
    rows, cols = rows[keep], cols[keep]
    reached = np.bincount(cols, weights=d[rows], minlength=s.size)
    ratio = np.divide(s, reached, out=np.zeros_like(s), where=reached > 0)
    return np.bincount(rows, weights=ratio[cols], minlength=d.size)


def _circle_setup(result: Any, circle: Any) -> Any:
    """The circle's prepared arrays (graph oriented by its direction, demand points, legs, limits)."""
    from circles.scoring.prepared import circle_arrays

    districts = sorted({d if d is not None else "(none)" for d in result.demand.district}) or ["(none)"]
    return circle_arrays(result, circle, horizon_min=None, cap_min=result.options.cap_min, districts=districts)


def travel_minutes(result: Any, circle_id: str, facility_index: Any = None) -> sp.csr_array:
    """Point x facility travel minutes of one circle, within the circle's limit.

    The same travel times as the coverage: bounded searches from every
    facility on the circle's network (walk at the circle's speed, or drive),
    in its direction, with the facility's and the resident's access legs; a
    pair is kept when the time is within the limit of the point (its zone's)
    for the requirement group of the facility's category.

    Parameters
    ----------
    result : CoverageResult
    circle_id : str
        One of the policy's circles.
    facility_index : array-like, optional
        Labels of ``result.facilities`` to use (default: every facility of the
        circle's categories).  Facilities off the network reach nobody.

    Returns
    -------
    scipy.sparse.csr_array, shape (n_demand_points, n_facilities)
        Minutes; stored entries are the pairs within the limit (rows: the
        points of ``result.demand``; columns: the facilities in the order given).
    """
    circ = result.circle(circle_id)
    arr = _circle_setup(result, circ)
    fac = result.facilities
    if facility_index is None:
        facility_index = fac.index[fac["category"].isin(circ.categories).to_numpy()]
    fac = fac.loc[list(facility_index)]
    cats = fac["category"].to_numpy(object)
    bad = sorted({str(c) for c in cats if c not in circ.categories})
    if bad:
        raise InputError(f"travel_minutes: circle {circle_id!r} does not need categories {bad}")
    on = ~fac[f"{arr.mode}_off_network"].to_numpy(bool)
    src = np.flatnonzero(on)
    n_points = arr.weight.size
    if src.size == 0:
        return sp.csr_array((n_points, len(fac)), dtype=np.float64)
    nodes = fac[f"{arr.mode}_node"].to_numpy(np.int64)[src]
    offsets_s = fac[f"{arr.mode}_snap_m"].to_numpy(np.float64)[src] / arr.access_speed_m_per_min * 60.0
    ptr, reached, times_s = arr.search(nodes, offsets_s)
    # every (facility, reached node) pair, expanded to the demand points at that node
    entry_src = np.repeat(src, np.diff(ptr))
    per_node = arr.pt_ptr[reached + 1] - arr.pt_ptr[reached]
    e = np.repeat(np.arange(reached.size), per_node)
    within = np.arange(e.size) - np.repeat(np.cumsum(per_node) - per_node, per_node)
    pts = arr.pt_idx[arr.pt_ptr[reached[e]] + within]
    t = times_s[e] / 60.0 + arr.leg_min[pts]
    group = np.array([arr.group_of[c][0] for c in cats], dtype=np.int64)
    limits = np.vstack(arr.limits)
    keep = (t <= limits[group[entry_src[e]], pts]) & (t <= arr.horizon_min)
    coo = sp.coo_array((t[keep], (pts[keep], entry_src[e][keep])), shape=(n_points, len(fac)))
    return sp.csr_array(coo)


def capacity_access(result: Any, circle_id: str, capacity_column: str) -> pd.Series:
    """Per unit, the capacity within the circle per 1,000 of its people (two-step floating catchment).

    Parameters
    ----------
    result : CoverageResult
    circle_id : str
        The circle whose limits, travel mode, direction and population (all
        ages or 65+) apply, e.g. ``"elderly_care_15"``.
    capacity_column : str
        Column of ``result.facilities`` with each facility's capacity (e.g.
        ``nursing_beds``).  Facilities of the circle's categories with an
        empty value are left out (their capacity is unknown).

    Returns
    -------
    pandas.Series
        Indexed like ``result.units``, named ``<circle>_<column>_per_1000``:
        the population-weighted mean over the unit's demand points of
        ``1000 * A_i`` (:func:`two_step_fsca`).  People off the network count
        with 0; NaN for units without people of the circle's group, and for
        every unit when no facility of the circle's categories has a value
        (no data — not 0).  ``attrs`` holds the facilities used and left out.

    Raises
    ------
    InputError
        Unknown circle, or a column the facilities do not have.
    """
    circ = result.circle(circle_id)
    fac = result.facilities
    if capacity_column not in fac.columns:
        raise InputError(f"capacity_access: the facilities have no column {capacity_column!r}; columns: "
                         f"{', '.join(map(str, fac.columns))}")
    mine = fac["category"].isin(circ.categories).to_numpy()
    cap = pd.to_numeric(fac[capacity_column], errors="coerce").to_numpy(np.float64)
    use = mine & np.isfinite(cap) & (cap >= 0)
    name = f"{circle_id}_{capacity_column}_per_1000"
    n_units = len(result.units)
    out = pd.Series(np.full(n_units, np.nan), index=result.units.index, name=name)
    out.attrs.update(facilities_used=int(use.sum()), facilities_without_value=int((mine & ~use).sum()))
    if not use.any():
        return out
    minutes = travel_minutes(result, circle_id, fac.index[use])
    demand = result.demand
    weight = demand.weights(circ.population).astype(np.float64) * (demand.unit >= 0)
    per_point = two_step_fsca(cap[use], weight, minutes) * 1000.0
    unit = np.asarray(demand.unit, dtype=np.int64)
    inside = unit >= 0
    people = np.bincount(unit[inside], weights=weight[inside], minlength=n_units)
    supply = np.bincount(unit[inside], weights=(weight * per_point)[inside], minlength=n_units)
    out[:] = np.divide(supply, people, out=np.full(n_units, np.nan), where=people > 0)
    return out
