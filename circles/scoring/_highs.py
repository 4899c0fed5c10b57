"""The HiGHS MILP solver, quietly: build a row-wise model and solve it (used by :mod:`circles.scoring.mclp`).

``highspy`` is imported only when a model is solved, so ``import circles`` does
not load it.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["new_highs", "solve_lp"]

_BANNER_SHOWN = False


def new_highs() -> Any:
    """A silent ``highspy.Highs`` (HiGHS prints a banner on its first construction).

    Returns
    -------
    highspy.Highs
        With ``output_flag`` off.
    """
    global _BANNER_SHOWN  # noqa: PLW0603 - process-wide fact about the C library, not state of ours
    import highspy

    if _BANNER_SHOWN:
        h = highspy.Highs()
    else:
        # The banner is written by C++ to file descriptor 1; hide it once.
        try:
            sys.stdout.flush()
            saved = os.dup(1)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            try:
                h = highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(devnull)
        except OSError:
            h = highspy.Highs()
        _BANNER_SHOWN = True
    h.setOptionValue("output_flag", False)
    return h


def solve_lp(cost: np.ndarray, lower: np.ndarray, upper: np.ndarray, integer: np.ndarray | None, A: sp.csr_array,
             row_upper: np.ndarray, *, time_limit_s: float, mip_rel_gap: float,
             start: np.ndarray | None = None) -> tuple[np.ndarray | None, str, float, float]:
    """Maximise ``cost @ v`` s.t. ``A v <= row_upper``, bounds, integrality.

    Parameters
    ----------
    cost, lower, upper : numpy.ndarray
        Per column: objective coefficient and bounds.
    integer : numpy.ndarray of bool, optional
        Integer columns (None or all False: a plain LP).
    A : scipy.sparse.csr_array
        Constraint matrix (rows: constraints ``<= row_upper``).
    row_upper : numpy.ndarray
        Upper bound per row (no lower bound).
    time_limit_s, mip_rel_gap : float
        HiGHS options.
    start : numpy.ndarray, optional
        A starting solution (column values).

    Returns
    -------
    values : numpy.ndarray or None
        Column values, None when HiGHS has no feasible solution.
    status : str
        HiGHS's model status.
    objective : float
    gap : float
        Relative MIP gap (0 for an LP).
    """
    import highspy

    h = new_highs()
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    lp = highspy.HighsLp()
    n_col, n_row = len(cost), A.shape[0]
    lp.num_col_ = n_col
    lp.num_row_ = n_row
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_ = np.asarray(lower, dtype=np.float64)
    lp.col_upper_ = np.asarray(upper, dtype=np.float64)
    lp.row_lower_ = np.full(n_row, -highspy.kHighsInf)
    lp.row_upper_ = np.asarray(row_upper, dtype=np.float64)
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = n_col
    lp.a_matrix_.num_row_ = n_row
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(np.float64)
    if integer is not None and np.any(integer):
        lp.integrality_ = [highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous for b in integer]
    h.passModel(lp)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = [float(v) for v in start]
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    values = None
    if info.primal_solution_status == highspy.kSolutionStatusFeasible:
        values = np.asarray(h.getSolution().col_value, dtype=np.float64)
    gap = float(info.mip_gap) if integer is not None and np.any(integer) else 0.0
    return values, h.modelStatusToString(status), float(info.objective_function_value), gap
