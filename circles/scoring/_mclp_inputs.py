"""The inputs of the covering problem of :mod:`circles.scoring.mclp`, checked and normalised.

:func:`check_problem` collects *every* problem with the arrays a solver is
given (shapes, dtypes, ranges, ``k`` against the available candidates) and
raises them together, so a caller fixes them in one go; what passes becomes a
:class:`Problem` the solvers share.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from circles.errors import ValidationError

__all__ = ["Problem", "check_problem"]


@dataclass
class Problem:
    """A covering problem, checked: what :func:`check_problem` gives the solvers."""

    w: np.ndarray  # (n,) float64
    existing: np.ndarray  # (n, G) bool, as given
    sat: np.ndarray  # (n, G) bool, existing | fixed coverage
    reach: sp.csr_array  # (n_cand, n) float64 0/1, sorted indices
    group: np.ndarray  # (n_cand,) int64
    fixed: np.ndarray  # (n_cand,) bool
    k: int

    @property
    def n_groups(self) -> int:
        """Number of requirement groups."""
        return self.sat.shape[1]

    @property
    def n_cand(self) -> int:
        """Number of candidates (fixed included)."""
        return self.reach.shape[0]

    @property
    def baseline_weight(self) -> float:
        """Covered weight with existing and fixed facilities only."""
        return float(self.w[self.sat.all(axis=1)].sum())

    def covered_weight(self, chosen: np.ndarray) -> float:
        """Covered weight with existing, fixed and ``chosen`` sites together.

        Parameters
        ----------
        chosen : numpy.ndarray of int
            Candidate indices.

        Returns
        -------
        float
        """
        sat = self.sat.copy()
        for j in np.asarray(chosen, dtype=np.int64):
            sat[self.reach[[j]].indices, self.group[j]] = True
        return float(self.w[sat.all(axis=1)].sum())


def _check_weights(weights: np.ndarray, problems: list[str]) -> np.ndarray | None:
    w = np.asarray(weights)
    if w.ndim != 1 or not np.issubdtype(w.dtype, np.number) or np.issubdtype(w.dtype, np.complexfloating):
        problems.append(f"weights: expected a 1-D array of non-negative numbers, got dtype {w.dtype} shape {w.shape}")
        return None
    w = w.astype(np.float64)
    if not np.isfinite(w).all() or (w.size and w.min() < 0):
        problems.append("weights: every weight must be finite and >= 0; replace NaN/inf/negative values (e.g. by 0)")
    return w


def _check_existing(existing: np.ndarray, n: int | None, problems: list[str]) -> np.ndarray | None:
    ex = np.asarray(existing)
    if ex.ndim == 1:
        ex = ex[:, None]
    if ex.ndim != 2 or not (ex.dtype == bool or np.issubdtype(ex.dtype, np.integer)):
        problems.append(
            f"existing: expected a boolean array of shape (n_demand, n_groups), got dtype {ex.dtype} shape "
            f"{np.asarray(existing).shape}; pass existing[i, g] = True where group g is already served at i"
        )
        return None
    if ex.dtype != bool:
        if ex.size and not np.isin(ex, (0, 1)).all():
            problems.append("existing: integer values must be 0 or 1")
        ex = ex.astype(bool)
    if n is not None and ex.shape[0] != n:
        problems.append(f"existing: has {ex.shape[0]} rows but weights has {n} demand points; they must match")
    if ex.shape[1] < 1:
        problems.append("existing: needs at least one column (one requirement group)")
    return ex


def _check_reach(reach: Any, n: int | None, problems: list[str]) -> sp.csr_array | None:
    try:
        R = sp.csr_array(reach)
    except Exception as exc:  # noqa: BLE001 - reported below with context
        problems.append(f"reach: could not be read as a sparse (n_candidates, n_demand) matrix ({exc})")
        return None
    if n is not None and R.shape[1] != n:
        problems.append(
            f"reach: has {R.shape[1]} columns but there are {n} demand points; reach[j, i] must say "
            "whether candidate j reaches demand i"
        )
    R = sp.csr_array((R.data != 0, R.indices, R.indptr), shape=R.shape)  # any non-zero means reached
    R.sum_duplicates()
    R.eliminate_zeros()
    R = sp.csr_array((np.ones(R.nnz), R.indices, R.indptr), shape=R.shape)
    R.sort_indices()
    return R


def _check_group(group: np.ndarray, n_cand: int | None, n_groups: int | None,
                 problems: list[str]) -> np.ndarray | None:
    gr = np.asarray(group)
    if gr.ndim != 1 or not (gr.size == 0 or np.issubdtype(gr.dtype, np.integer)):
        problems.append(f"group: expected a 1-D integer array (group of each candidate), got dtype {gr.dtype} shape {gr.shape}")
        return None
    gr = gr.astype(np.int64)
    if n_cand is not None and gr.size != n_cand:
        problems.append(f"group: has {gr.size} entries but reach has {n_cand} candidate rows; they must match")
    if n_groups is not None and gr.size and (gr.min() < 0 or gr.max() >= n_groups):
        problems.append(
            f"group: values must lie in [0, {n_groups}) (existing has {n_groups} group columns); "
            f"got values from {gr.min()} to {gr.max()}"
        )
    return gr


def _check_fixed(fixed: np.ndarray | None, n_cand: int | None, problems: list[str]) -> np.ndarray | None:
    if n_cand is None:
        return None
    fx = np.zeros(n_cand, dtype=bool)
    if fixed is None:
        return fx
    f = np.asarray(fixed)
    if f.dtype == bool:
        if f.shape != (n_cand,):
            problems.append(f"fixed: a boolean mask must have one entry per candidate ({n_cand}), got shape {f.shape}")
        else:
            fx = f.copy()
    elif f.size == 0 or np.issubdtype(f.dtype, np.integer):
        f = f.ravel().astype(np.int64)
        if f.size and (f.min() < 0 or f.max() >= n_cand):
            problems.append(f"fixed: candidate indices must lie in [0, {n_cand}); got {f.min()}..{f.max()}")
        else:
            fx[f] = True
    else:
        problems.append(f"fixed: expected a boolean mask or integer candidate indices, got dtype {f.dtype}")
    return fx


def _check_k(k: Any, fx: np.ndarray | None, problems: list[str]) -> None:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        problems.append(f"k: expected a whole number of sites to choose, got {k!r}")
    elif int(k) < 0:
        problems.append(f"k: must be >= 0, got {k}")
    elif fx is not None:
        n_avail = int((~fx).sum())
        if int(k) > n_avail:
            problems.append(
                f"k: asked for k={k} sites but only {n_avail} candidates are available "
                f"({fx.size} candidates, {fx.size - n_avail} fixed); lower k or add candidates"
            )


def check_problem(weights: np.ndarray, existing: np.ndarray, reach: Any, group: np.ndarray, k: Any,
                  fixed: np.ndarray | None, who: str) -> Problem:
    """The inputs of a solver as a :class:`Problem`.

    Parameters
    ----------
    weights, existing, reach, group, k, fixed
        As in :func:`circles.scoring.mclp.greedy_select`.
    who : str
        The solver, named in the error.

    Returns
    -------
    Problem
        Weights as float64, ``existing`` as a 2-D bool array, ``reach`` as 0/1
        CSR with sorted indices, ``fixed`` as a mask; ``sat`` adds what the
        fixed candidates already serve.

    Raises
    ------
    ValidationError
        Every problem with the inputs, collected, then raised together.
    """
    problems: list[str] = []
    w = _check_weights(weights, problems)
    n = None if w is None else w.size
    ex = _check_existing(existing, n, problems)
    R = _check_reach(reach, n, problems)
    n_cand = None if R is None else R.shape[0]
    gr = _check_group(group, n_cand, None if ex is None else ex.shape[1], problems)
    fx = _check_fixed(fixed, n_cand, problems)
    _check_k(k, fx, problems)
    if problems:
        raise ValidationError(who, problems)
    assert w is not None and ex is not None and R is not None and gr is not None and fx is not None
    sat = ex.copy()
    if fx.any():
        for g in range(ex.shape[1]):
            rows = np.flatnonzero(fx & (gr == g))
            if rows.size:
                sat[np.unique(R[rows].indices), g] = True
    return Problem(w=w, existing=ex, sat=sat, reach=R, group=gr, fixed=fx, k=int(k))
