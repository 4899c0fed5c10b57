"""The fewest new sites that bring a circle up to a target share (issue #12, item 4).

:func:`gap_sites` answers "what would it take": for one circle below a target
share of its people covered — city-wide, or within one district (only that
district's people count) — the smallest number of new sites, from given or
generated candidates, whose coverage reaches the target.

* **exact**: a minimum-count covering model solved by HiGHS — binary ``x_j``
  per usable candidate, ``y_r`` in [0, 1] per demand row (rows with the same
  candidates merged, weights summed), ``y_r <= sum of x_j of group g reaching
  r`` for every requirement group ``g`` missing at ``r``, and
  ``sum_r w_r y_r >= target - covered now``; minimise ``sum x_j``.  Warm-started
  from greedy; within ``time_limit_s``.
* **greedy**: the picks of :func:`circles.scoring.mclp.greedy_select` in
  order, cut where the target is reached.  Used when HiGHS finds nothing
  better within the time limit or the model is too large; :attr:`GapSites.method`
  says which, and :attr:`GapSites.note` why.

When the target cannot be reached (people off the network, people no
candidate reaches, no candidate of a category the circle needs), the answer
is the fewest sites that reach the best share possible with every usable
candidate (``reached=False``) and the note says why.  The reach of each
candidate comes from the same bounded searches as :func:`select_sites`; the
sites, added as facilities and re-analysed
(:func:`~circles.scoring.coverage_with_sites`), give ``share_after``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from circles.errors import InputError
from circles.scoring._highs import solve_lp
from circles.scoring._mclp_inputs import Problem, check_problem
from circles.scoring.candidates import carry_coords, check_candidates, generate_candidates, load_candidates
from circles.scoring.mclp import _greedy, _uncapacitated_model
from circles.scoring.prepared import FLAG_AT_EXISTING, no_data_before, prepare_circles, unscored
from circles.scoring.select import _reach_by_group

__all__ = ["GapSites", "gap_sites", "MAX_EXACT_NNZ"]

#: Largest reduced covering model (non-zeros) given to HiGHS; larger ones go greedy.
MAX_EXACT_NNZ: int = 5_000_000

SITE_COLUMNS = ["circle", "district", "rank", "candidate_id", "name", "category", "lon", "lat", "site_district",
                "newly_covered", "share_after"]


@dataclass(frozen=True)
class GapSites:
    """The fewest new sites that bring one circle (city-wide or in one district) to a target share.

    Attributes
    ----------
    sites : DataFrame
        One row per new site in pick order: ``circle, district`` (the scope: ""
        city-wide), ``rank, candidate_id, name, category, lon, lat`` (WGS84; the
        candidates' own GCJ-02/BD-09 columns follow when they had them),
        ``site_district`` (where the site lies), ``newly_covered`` (people the
        site brings into the circle given those ranked before it) and
        ``share_after`` (the scope's covered share once it and those before it
        are built).  Empty when the target is already met or nothing helps.
    method : {"exact", "greedy"}
        Which answer: the HiGHS minimum, or greedy picks cut at the target.
    reached : bool
        Whether the sites reach the target share.
    share_before : float
        Covered share now (NaN when the circle has no data: a required
        category has no usable facility).
    best_share : float
        The best share reachable with every usable candidate built.
    note : str
        Why the method, and why the target is not reached when it is not.
    """

    sites: pd.DataFrame
    method: str
    reached: bool
    share_before: float
    best_share: float
    note: str

    @property
    def share_after(self) -> float:
        """Covered share with every site built (the share before when there is none)."""
        if len(self.sites):
            return float(self.sites["share_after"].iloc[-1])
        return self.share_before


def _check_args(result: Any, circle: str, target_share: float, district: str | None, time_limit_s: float) -> Any:
    """The circle, after checking every argument (all problems raised together)."""
    problems = []
    if isinstance(target_share, bool) or not isinstance(target_share, (int, float)) or not 0 < target_share <= 1:
        problems.append(f"target_share must be a share in (0, 1], got {target_share!r}")
    if isinstance(time_limit_s, bool) or not isinstance(time_limit_s, (int, float)) or not time_limit_s > 0:
        problems.append(f"time_limit_s must be seconds > 0, got {time_limit_s!r}")
    known = sorted({d for d in result.demand.district if isinstance(d, str)})
    if district is not None and district not in known:
        problems.append(f"district {district!r} is not a district of the analysis; its districts: "
                        f"{', '.join(known) or 'none (no districts layer)'}")
    if problems:
        raise InputError("gap_sites: " + "; ".join(problems))
    return result.circle(circle)


def _candidates(result: Any, circ: Any, candidates: Any) -> pd.DataFrame:
    """The candidates of the circle's categories: given (a frame or a file) or generated."""
    if candidates is None:
        cands = generate_candidates(result, categories=list(circ.categories))
    elif isinstance(candidates, (str, Path)):
        cands = load_candidates(candidates)
    else:
        cands = check_candidates(candidates)
    return cands[cands["category"].isin(circ.categories)].reset_index(drop=True)


def _min_count(p: Problem, goal_add: float, greedy_set: np.ndarray, *,
               time_limit_s: float) -> tuple[np.ndarray | None, str]:
    """The fewest sites adding at least ``goal_add`` covered weight (HiGHS), and its status.

    ``None`` when the model is too large or HiGHS finds no solution in time.
    """
    cand_ids, M, W, _ = _uncapacitated_model(p, p.k)
    n_x, n_y = cand_ids.size, M.shape[0]
    if M.nnz > MAX_EXACT_NNZ:
        return None, f"model too large for the exact solver ({M.nnz:,} non-zeros > {MAX_EXACT_NNZ:,})"
    # rows: y_r - sum_{j in g reaching r} x_j <= 0 per (r, g missing at r); -W.y <= -goal_add; sum x <= greedy
    Mc = M.tocoo()
    key = Mc.row.astype(np.int64) * p.n_groups + p.group[cand_ids][Mc.col]
    uniq, con = np.unique(key, return_inverse=True)
    n_con = uniq.size
    rows = np.concatenate([np.arange(n_con), con, np.full(n_y, n_con), np.full(n_x, n_con + 1)])
    cols = np.concatenate([n_x + uniq // p.n_groups, Mc.col, n_x + np.arange(n_y), np.arange(n_x)])
    vals = np.concatenate([np.ones(n_con), -np.ones(Mc.nnz), -W, np.ones(n_x)])
    A = sp.csr_array((vals, (rows, cols)), shape=(n_con + 2, n_x + n_y))
    A.sum_duplicates()
    A.sort_indices()
    row_upper = np.concatenate([np.zeros(n_con), [-goal_add, float(greedy_set.size)]])
    cost = np.concatenate([-np.ones(n_x), np.zeros(n_y)])  # maximise -(number of sites)
    integer = np.concatenate([np.ones(n_x, bool), np.zeros(n_y, bool)])
    x0 = np.isin(cand_ids, greedy_set).astype(np.float64)
    filled = np.zeros(n_con)
    np.add.at(filled, con, x0[Mc.col])
    y0 = np.ones(n_y, bool)
    np.logical_and.at(y0, uniq // p.n_groups, filled > 0)
    values, status, _, _ = solve_lp(cost, np.zeros(n_x + n_y), np.ones(n_x + n_y), integer, A, row_upper,
                                    time_limit_s=time_limit_s, mip_rel_gap=0.0,
                                    start=np.concatenate([x0, y0.astype(np.float64)]))
    if values is None:
        return None, status
    return cand_ids[values[:n_x] > 0.5], status


def _greedy_until(p: Problem, goal: float) -> np.ndarray:
    """Greedy picks up to the first that reaches covered weight ``goal`` (all picks when none does).

    Greedy runs with k = 8, 32, 128 ... (a shorter run is a prefix of a longer one), so the cost
    follows the number of sites needed, not the number of candidates.
    """
    n_free = int((~p.fixed).sum())
    k = 8
    while True:
        order, gains = _greedy(p, ~p.fixed, min(k, n_free))
        cum = p.baseline_weight + np.cumsum(gains)
        hit = np.flatnonzero(cum >= goal)
        if hit.size:
            return order[:hit[0] + 1]
        if k >= n_free or order.size < min(k, n_free):  # every candidate tried, or nothing more helps
            return order
        k *= 4


def _choose(p: Problem, goal: float, *, time_limit_s: float, tol: float) -> tuple[np.ndarray, str, str]:
    """The fewest sites reaching covered weight ``goal`` (exact, else greedy), their method and a note."""
    greedy_set = _greedy_until(p, goal - tol)
    if greedy_set.size <= 1:
        return greedy_set, "exact", "one site is the fewest possible (the share now is below the goal)"
    t0 = time.perf_counter()
    exact, status = _min_count(p, goal - p.baseline_weight - tol, greedy_set, time_limit_s=time_limit_s)
    took = time.perf_counter() - t0
    if exact is None:
        return greedy_set, "greedy", f"greedy: HiGHS gave no answer ({status})"
    if p.covered_weight(exact) < goal - 2 * tol or exact.size >= greedy_set.size and status != "Optimal":
        return greedy_set, "greedy", (f"greedy: HiGHS found no fewer sites and did not prove the minimum "
                                      f"within {time_limit_s:g} s ({status})")
    if status != "Optimal":
        return exact, "exact", (f"HiGHS answer within the time limit, not proven the fewest ({status}, "
                                f"{took:.1f} s); greedy needed {greedy_set.size}")
    return exact, "exact", f"HiGHS minimum (proven, {took:.1f} s); greedy needed {greedy_set.size}"


def _why_short(p: Problem, w: np.ndarray, offnet: np.ndarray, best: float, total: float, n_usable: int) -> str:
    """Why the best reachable share stays below the target."""
    off = float(w[offnet].sum())
    reachable = np.asarray(p.reach[~p.fixed].sum(axis=0)).ravel() > 0 if n_usable else np.zeros(w.size, bool)
    unreached = float(w[~offnet & ~reachable & ~p.sat.all(axis=1)].sum())
    parts = [f"the best reachable share is {best / total:.1%} with all {n_usable} usable candidate(s)"]
    if off > 0:
        parts.append(f"{off / total:.1%} of the people are off the network")
    if unreached > 0:
        parts.append(f"{unreached / total:.1%} are reached by no candidate (too few candidates)")
    return "; ".join(parts)


def _sites_table(rows: pd.DataFrame, p: Problem, chosen: np.ndarray, *, circle: str, district: str | None,
                 total: float) -> pd.DataFrame:
    """:attr:`GapSites.sites` of the ``chosen`` score rows, in greedy order within the set."""
    eligible = np.zeros(p.n_cand, dtype=bool)
    eligible[chosen] = True
    order, _ = _greedy(p, eligible, chosen.size)
    order = np.concatenate([order, np.setdiff1d(chosen, order)]).astype(np.int64)
    after = np.array([p.covered_weight(order[:r + 1]) for r in range(order.size)])
    gains = np.diff(np.concatenate([[p.baseline_weight], after]))
    table = pd.DataFrame({
        "circle": circle, "district": district or "", "rank": np.arange(1, order.size + 1),
        "candidate_id": rows["candidate_id"].to_numpy(object)[order], "name": rows["name"].to_numpy(object)[order],
        "category": rows["category"].to_numpy(object)[order], "lon": rows["lon"].to_numpy(float)[order],
        "lat": rows["lat"].to_numpy(float)[order], "site_district": rows["district"].to_numpy(object)[order],
        "newly_covered": gains, "share_after": after / total if total > 0 else np.nan,
    }, columns=SITE_COLUMNS)
    return carry_coords(table, rows, order)


def _empty(circle: str, district: str | None, share_before: float, note: str) -> GapSites:
    sites = pd.DataFrame({c: pd.Series(dtype=object) for c in SITE_COLUMNS})
    return GapSites(sites=sites, method="exact", reached=False, share_before=share_before, best_share=share_before,
                    note=note)


def gap_sites(result: Any, circle: str, *, target_share: float, district: str | None = None,
              candidates: Any = None, time_limit_s: float = 30.0) -> GapSites:
    """The fewest new sites that bring ``circle`` to ``target_share`` of its people covered.

    Parameters
    ----------
    result : CoverageResult
    circle : str
        Circle id, e.g. ``"public_activity_10"``.
    target_share : float
        Share of the people to cover, in (0, 1] (e.g. 0.9 for a "formed" circle).
    district : str, optional
        Only this district's people count (default: the whole city).  Sites may
        lie anywhere.
    candidates : GeoDataFrame, str or Path, optional
        Candidate sites (a checked frame, or a file read with
        :func:`~circles.scoring.load_candidates`); default: generated with
        :func:`~circles.scoring.generate_candidates` for the circle's categories.
        Only candidates of the circle's categories count.
    time_limit_s : float, default 30
        Time limit of the exact solver; greedy is used when it finds nothing better.

    Returns
    -------
    GapSites

    Raises
    ------
    InputError
        Unknown circle or district, a target outside (0, 1], a bad time limit,
        or a circle with a category in several requirement groups.
    """
    circ = _check_args(result, circle, target_share, district, time_limit_s)
    multi = [c for c in circ.categories if sum(c in r.categories for r in circ.requirements) > 1]
    if multi:
        raise InputError(f"gap_sites: circle {circle!r}: categories {multi} appear in several requirement "
                         "groups; a new site must fill one group")
    mine = _candidates(result, circ, candidates)
    missing = no_data_before(result, circ)
    prep = prepare_circles(result, mine, circles=[circle])
    arr = prep.arrays[circle]
    scope = np.ones(arr.weight.size, bool) if district is None else np.asarray(result.demand.district) == district
    w = arr.weight * scope
    total = float(w.sum())
    share_before = np.nan if missing else float(w[arr.met_groups.all(axis=1)].sum()) / total if total else np.nan
    if total <= 0:
        return _empty(circle, district, share_before, "no people of the circle's group in scope")
    if mine.empty:
        return _empty(circle, district, share_before,
                      f"no candidate site of a category this circle needs ({', '.join(circ.categories)})")
    rows = prep.rows
    flags = rows["flag"].to_numpy(object)
    usable = ~unscored(flags)
    fixed = np.array([FLAG_AT_EXISTING in f.split(";") for f in flags], dtype=bool) | ~usable
    group = np.array([arr.group_of[c][0] for c in rows["category"]], dtype=np.int64)
    reach = _reach_by_group(prep, arr, group)
    p = check_problem(w, arr.met_groups, reach, group, int((~fixed).sum()), fixed, "gap_sites")
    tol = 1e-9 * total
    best = p.covered_weight(np.flatnonzero(~fixed))
    goal = float(target_share) * total
    reached = best >= goal - tol
    notes = [] if not missing else [f"no data before: no usable facility of {', '.join(missing)}"]
    if not reached:
        notes.append(f"target {target_share:.0%} not reachable: " + _why_short(
            p, w, result.demand.snaps[arr.mode].off_network, best, total, int((~fixed).sum())))
        goal = best
    if p.baseline_weight >= goal - tol:
        table = _sites_table(rows, p, np.zeros(0, np.int64), circle=circle, district=district, total=total)
        notes.append("already at the target" if reached else "no candidate adds coverage")
        return GapSites(sites=table, method="exact", reached=reached, share_before=share_before,
                        best_share=best / total, note="; ".join(notes))
    chosen, method, why = _choose(p, goal, time_limit_s=float(time_limit_s), tol=tol)
    table = _sites_table(rows, p, chosen, circle=circle, district=district, total=total)
    return GapSites(sites=table, method=method, reached=reached, share_before=share_before,
                    best_share=best / total, note="; ".join([*notes, why]))
