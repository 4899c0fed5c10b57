"""Choosing sites: the best set of candidates for one circle, and coverage with them built.

:func:`select_sites` solves the maximal covering problem of
:mod:`circles.scoring.mclp` (greedy, or exact with HiGHS) for one circle, with
existing facilities as the baseline: each candidate's reach (the demand points
it brings within their limit) comes from the same bounded searches as
:func:`~circles.scoring.score.score`.  The answer is a :class:`SiteSelection`;
:func:`no_selection` makes an empty one with the reason, so a circle where
nothing can be chosen still appears in ``selected.csv``.
:func:`coverage_with_sites` recomputes the units' coverage with chosen sites
added, through the coverage functions themselves (not a re-derivation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from circles._kernels import reach_lists
from circles.coverage import compute_circle, snap_facilities
from circles.errors import InputError
from circles.scoring.candidates import carry_coords, check_candidates
from circles.scoring.prepared import (
    FLAG_AT_EXISTING,
    CircleArrays,
    PreparedScoring,
    circle_arrays,
    no_data_before,
    prepare_circles,
    unscored,
)
from circles.scoring.score import assemble_scores, score_task

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

    from circles.scoring.mclp import Selection

__all__ = ["SiteSelection", "select_sites", "no_selection", "coverage_with_sites", "as_selections"]


@dataclass(eq=False)
class SiteSelection:
    """The sites chosen for one circle by :func:`select_sites`.

    Attributes
    ----------
    table : DataFrame
        One row per chosen site in pick order: ``rank, candidate_id, name,
        category, lon, lat, circle, newly_covered_population`` (marginal, given
        the sites ranked before it), ``cumulative_newly_covered``,
        ``covered_population_after``, ``covered_share_after`` (NaN while the
        circle still has no data after the sites so far), ``status_after``
        (``no_data`` or ``ok``), ``district``.
    selection : circles.scoring.mclp.Selection
        The solver's answer (indices refer to :attr:`candidates`).
    circle : str
    method : {"greedy", "exact"}
    candidates : DataFrame
        The candidates of this circle the solver saw (row ``j`` = index ``j``),
        with ``fixed`` (already built: an existing facility of the category at
        the same node) and ``flag``.
    baseline_population, total_population : float
        Covered population with existing facilities only (NaN when the circle
        has no data: a required category has no usable facility), and all
        population (the circle's group: all ages or 65+).
    exact : Selection or None
        For greedy: the exact optimum when it was affordable (see ``compare_exact``).
    gap_to_exact : float or None
        ``exact.covered - greedy.covered`` (people; 0 when greedy is optimal).
    requested : int
        The number of sites asked for (``k``).
    no_data, no_data_after : tuple of str
        The categories without a usable facility before, and still without one
        after the chosen sites (empty when the circle is measurable).
    reason : str
        Why fewer than ``requested`` sites were chosen ("" when all were): no
        candidate of the circle's categories, too few usable ones, or too few
        that add coverage.
    """

    table: pd.DataFrame
    selection: Selection
    circle: str
    method: str
    candidates: pd.DataFrame
    baseline_population: float
    total_population: float
    exact: Selection | None = None
    gap_to_exact: float | None = None
    notes: list = field(default_factory=list)
    requested: int = 0
    reason: str = ""
    no_data: tuple = ()
    no_data_after: tuple = ()

    @property
    def covered_population(self) -> float:
        """Covered population with the chosen sites (NaN while the circle still has no data)."""
        return np.nan if self.no_data_after else float(self.selection.covered_weight)

    def rows(self) -> pd.DataFrame:
        """The rows of ``selected.csv`` for this circle.

        Returns
        -------
        DataFrame
            The chosen sites with ``sites_requested`` and ``note`` (why fewer than
            requested were chosen), or — when none could be chosen — one row with the
            circle, the coverage as it stands and the reason.
        """
        table = self.table.copy()
        if table.empty:
            share = self.baseline_population / self.total_population if self.total_population > 0 else np.nan
            table = pd.DataFrame({
                "rank": [pd.NA], "candidate_id": [""], "name": [""], "category": [""], "lon": [np.nan],
                "lat": [np.nan], "circle": [self.circle], "newly_covered_population": [0.0],
                "cumulative_newly_covered": [0.0], "covered_population_after": [self.baseline_population],
                "covered_share_after": [share], "status_after": ["no_data" if self.no_data else "ok"],
                "district": [None], "method": [self.method],
            })
        table["rank"] = table["rank"].astype("Int64")
        table["sites_requested"] = int(self.requested)
        table["note"] = self.reason
        return table

    def __repr__(self) -> str:
        gap = "" if self.gap_to_exact is None else f", gap_to_exact={self.gap_to_exact:.1f}"

        def people(v: float) -> str:
            return "no data" if np.isnan(v) else f"{v:.0f}"
        return (f"SiteSelection(circle={self.circle!r}, method={self.method!r}, sites={len(self.table)}, "
                f"covered {people(self.baseline_population)} -> {people(self.covered_population)} "
                f"of {self.total_population:.0f}{gap})")


def _reach_matrix(prep: PreparedScoring, arr: CircleArrays, rows: np.ndarray, group_index: int,
                  n_points: int) -> Any:
    """Sparse (len(rows), n_points): the demand points each row's candidate brings within its
    limit for requirement group ``group_index`` (empty rows for unscored candidates).
    """
    import scipy.sparse as sp

    nodes = prep.rows["node"].to_numpy()[rows].astype(np.int64)
    offsets = prep.rows["offset_s"].to_numpy()[rows].astype(np.float64)
    flags = prep.rows["flag"].to_numpy(object)[rows]
    ok = ~unscored(flags)
    indptr = np.zeros(rows.size + 1, dtype=np.int64)
    idx_parts = []
    good = np.flatnonzero(ok)
    counts = np.zeros(rows.size, dtype=np.int64)
    limit = arr.limits[group_index]
    for a in range(0, good.size, prep.chunk_size):
        part = good[a:a + prep.chunk_size]
        ptr, rn, rt = arr.search(nodes[part], offsets[part])
        rptr, pts = reach_lists(ptr, rn, rt, arr.pt_ptr, arr.pt_idx, arr.leg_min, limit, arr.horizon_min)
        counts[part] = np.diff(rptr)
        idx_parts.append(pts)
    np.cumsum(counts, out=indptr[1:])
    # pieces are in ``good`` order, which is increasing, so concatenation matches indptr
    idx = np.concatenate(idx_parts) if idx_parts else np.zeros(0, dtype=np.int64)
    return sp.csr_array((np.ones(idx.size), idx, indptr), shape=(rows.size, n_points))


def select_sites(
    result: Any,
    candidates: Any,
    *,
    circle: str,
    k: int,
    method: str = "greedy",
    capacity_column: str | None = None,
    compare_exact: bool | None = None,
    time_limit_s: float = 60.0,
    max_snap_m: float | None = None,
    rule: str = "gain",
) -> SiteSelection:
    """Choose up to ``k`` candidate sites maximising the population newly covered for ``circle``.

    Parameters
    ----------
    result : CoverageResult
    candidates : GeoDataFrame
        As for :func:`score`; only candidates whose category the circle needs
        are considered.
    circle : str
        Circle id (e.g. ``"emergency_medical"``).
    k : int
        Number of new sites, at most the number of usable candidates (not
        off the network, not outside the area, not already built).
    method : {"greedy", "exact"}
        Greedy marginal gains (:func:`circles.scoring.mclp.greedy_select`) or the
        MILP optimum (:func:`circles.scoring.mclp.exact_select`, HiGHS).
    capacity_column : str, optional
        Candidate column with the population each site can serve (exact
        only, single-group circles; empty = unlimited).
    compare_exact : bool, optional
        For greedy, also solve exactly and report the gap.  Default: when
        affordable (at most 5,000 candidates and 5 million reach pairs).
    time_limit_s : float
        Time limit of the exact solver.
    rule : {"gain", "progress"}
        Greedy tie-breaking (see :func:`circles.scoring.mclp.greedy_select`).

    Returns
    -------
    SiteSelection

    Raises
    ------
    InputError
        Unknown circle or method, a capacity column that is missing or used
        with greedy.

    Notes
    -----
    Asking for more sites than can help is not an error: when there is no
    candidate of a category the circle needs, fewer usable candidates than
    ``k`` (off the network, outside the area, already built), or fewer that
    add coverage, the selection holds what could be chosen (possibly nothing)
    and :attr:`SiteSelection.reason` says why, so that every circle asked for
    appears in ``selected.csv``.
    """
    if method not in ("greedy", "exact"):
        raise InputError(f"method must be 'greedy' or 'exact', got {method!r}")
    circ = result.circle(circle)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"k must be a whole number of sites >= 1, got {k!r}")
    cands = check_candidates(candidates)
    mine = cands[cands["category"].isin(circ.categories)].reset_index(drop=True)
    if mine.empty:
        found = ", ".join(sorted(cands["category"].unique())) or "none"
        return no_selection(result, circle, k=int(k), method=method,
                            reason=f"no candidate site of a category this circle needs "
                                   f"({', '.join(circ.categories)}); the candidates' categories: {found}")
    multi = [c for c in circ.categories if sum(c in r.categories for r in circ.requirements) > 1]
    if multi:
        raise InputError(f"circle {circle!r}: categories {multi} appear in several requirement groups; "
                         "site selection needs each candidate to fill one group")
    mine = _in_own_score_order(result, mine, circle, max_snap_m)
    prep = prepare_circles(result, mine, circles=[circle], max_snap_m=max_snap_m)
    arr = prep.arrays[circle]
    rows = prep.rows
    flags = rows["flag"].to_numpy(object)
    unusable = unscored(flags)
    fixed = np.array([FLAG_AT_EXISTING in f.split(";") for f in flags], dtype=bool)
    usable = int((~unusable & ~fixed).sum())
    reasons = []
    if k > usable:
        reasons.append(
            f"asked for {k} site(s) but only {usable} of the {len(rows)} candidate(s) of its categories can be "
            f"used ({int(unusable.sum())} off the network or outside the area, "
            f"{int((fixed & ~unusable).sum())} already built at an existing facility's node)")
    k_run = min(int(k), usable)
    group = np.array([arr.group_of[c][0] for c in rows["category"]], dtype=np.int64)
    reach = _reach_by_group(prep, arr, group)
    notes: list[str] = []
    capacity = _capacities(mine, rows, capacity_column, method, notes)
    problem = {"weights": arr.weight, "existing": arr.met_groups, "reach": reach, "group": group, "k": k_run,
               "fixed": fixed}
    sel, exact, gap = _solve(problem, method=method, capacity=capacity, compare_exact=compare_exact,
                             time_limit_s=time_limit_s, rule=rule, notes=notes)
    total = float(arr.weight.sum())
    missing = no_data_before(result, circ)
    table = carry_coords(_selection_table(rows, sel, circle=circ, method=method, total=total, missing=missing),
                         rows, sel.chosen)
    reasons.extend(_shortfall(sel, k_run))
    notes.extend(reasons)
    cand_view = pd.DataFrame(rows[["candidate_id", "name", "category", "lon", "lat", "district", "node",
                                   "snap_m", "flag"]]).reset_index(drop=True)
    carry_coords(cand_view, rows.reset_index(drop=True))
    cand_view["fixed"] = fixed
    return SiteSelection(table=table, selection=sel, circle=circle, method=method, candidates=cand_view,
                         baseline_population=np.nan if missing else float(sel.baseline_weight),
                         total_population=total, exact=exact, gap_to_exact=gap, notes=notes, requested=int(k),
                         reason="; ".join(reasons), no_data=tuple(missing),
                         no_data_after=tuple(_still_missing(circ, missing, table["category"])))


def _in_own_score_order(result: Any, mine: pd.DataFrame, circle: str, max_snap_m: float | None) -> pd.DataFrame:
    """``mine`` ordered by each candidate's own score, so that ties in marginal gain (the solvers
    pick the lowest index) go to the site that saves the most person-minutes, then by id.
    """
    prep = prepare_circles(result, mine, circles=[circle], max_snap_m=max_snap_m)
    own = assemble_scores(prep, [score_task(prep.arrays[t.circle_id], t.categories, t.sources, t.offsets_s)
                                 for t in prep.tasks], timings={})
    saved = (own["faster_population"] * own["mean_minutes_saved"].fillna(0.0)).to_numpy()
    order = np.lexsort((own["candidate_id"].to_numpy(str), -saved, -own["newly_covered_population"].to_numpy()))
    return mine.iloc[order].reset_index(drop=True)


def _reach_by_group(prep: PreparedScoring, arr: CircleArrays, group: np.ndarray) -> Any:
    """The reach matrix of all score rows (row order kept), each row searched with its group's limits."""
    import scipy.sparse as sp

    n_points = arr.weight.size
    all_rows = np.arange(len(prep.rows))
    parts = [(all_rows[group == g], _reach_matrix(prep, arr, all_rows[group == g], int(g), n_points))
             for g in np.unique(group)]
    perm = np.concatenate([r for r, _ in parts])
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(perm.size)
    return sp.csr_array(sp.vstack([m for _, m in parts]).tocsr()[inverse])


def _capacities(mine: pd.DataFrame, rows: pd.DataFrame, capacity_column: str | None, method: str,
                notes: list[str]) -> np.ndarray | None:
    """Capacity per score row from ``capacity_column`` (inf where empty), or None without one."""
    if capacity_column is None:
        return None
    if method != "exact":
        raise InputError("capacity_column needs method='exact' (greedy ignores capacities); "
                         "pass method='exact' (CLI --method exact)")
    if capacity_column not in mine.columns and capacity_column != "capacity":
        raise InputError(f"capacity_column={capacity_column!r} is not a candidate column; columns: "
                         f"{', '.join(map(str, mine.columns))}")
    capacity = pd.to_numeric(mine[capacity_column], errors="coerce").to_numpy(float)
    capacity = np.where(np.isnan(capacity), np.inf, capacity)
    notes.append(f"capacities from column {capacity_column!r} (empty = unlimited)")
    return capacity[rows["cand"].to_numpy()]


def _solve(problem: dict, *, method: str, capacity: np.ndarray | None, compare_exact: bool | None,
           time_limit_s: float, rule: str, notes: list[str]) -> tuple[Any, Any, float | None]:
    """The solver's selection, and for greedy the exact optimum and the gap when asked or affordable."""
    from circles.scoring.mclp import exact_select, greedy_select

    if method != "greedy":
        return exact_select(**problem, capacity=capacity, time_limit_s=time_limit_s), None, None
    sel = greedy_select(**problem, rule=rule)
    affordable = problem["reach"].shape[0] <= 5000 and problem["reach"].nnz <= 5_000_000
    if not (compare_exact or (compare_exact is None and affordable)):
        return sel, None, None
    exact = exact_select(**problem, time_limit_s=time_limit_s)
    gap = float(exact.covered_weight - sel.covered_weight)
    notes.append(f"exact optimum {exact.covered_weight:.1f} ({exact.status}); greedy "
                 f"{sel.covered_weight:.1f}; gap {gap:.1f}")
    return sel, exact, gap


def _shortfall(sel: Any, k_run: int) -> list[str]:
    """Why fewer sites than could be used were chosen, or chosen sites cover nobody on their own."""
    reasons = []
    if sel.chosen.size < k_run:
        reasons.append(f"only {sel.chosen.size} of the {k_run} usable site(s) add coverage; "
                       f"the others would bring nobody into the circle")
    zero = int((np.asarray(sel.gains) <= 0).sum())
    if zero:
        reasons.append(f"{zero} chosen site(s) newly cover nobody on their own: they bring a category within "
                       f"reach of people who still lack another one the circle requires")
    return reasons


def _still_missing(circle: Any, missing: Sequence[str], added: Sequence[str]) -> list[str]:
    """``missing`` categories whose requirement group still has no facility once sites of the
    ``added`` categories are built.
    """
    if not len(missing):
        return []
    from circles.coverage import no_data_categories

    usable = {c: 1 for c in circle.categories if c not in missing}
    usable.update({c: 1 for c in added})
    return no_data_categories(circle, usable)


def _selection_table(rows: pd.DataFrame, sel: Selection, *, circle: Any, method: str, total: float,
                     missing: Sequence[str] = ()) -> pd.DataFrame:
    """:attr:`SiteSelection.table` of the solver's picks (``rows`` = the prepared score rows).

    While the circle still has no data after the sites ranked so far (``missing`` categories
    not yet added), the coverage after them is unknown: NaN, ``status_after`` ``no_data``.
    """
    chosen = sel.chosen
    cum = np.cumsum(sel.gains)
    categories = rows["category"].to_numpy(object)[chosen]
    unknown = np.array([bool(_still_missing(circle, missing, categories[:r + 1])) for r in range(chosen.size)],
                       dtype=bool)
    after = np.where(unknown, np.nan, sel.baseline_weight + cum)
    return pd.DataFrame({
        "rank": np.arange(1, chosen.size + 1),
        "candidate_id": rows["candidate_id"].to_numpy(object)[chosen],
        "name": rows["name"].to_numpy(object)[chosen],
        "category": categories,
        "lon": rows["lon"].to_numpy(float)[chosen],
        "lat": rows["lat"].to_numpy(float)[chosen],
        "circle": circle.id,
        "newly_covered_population": sel.gains,
        "cumulative_newly_covered": cum,
        "covered_population_after": after,
        "covered_share_after": after / total if total > 0 else np.full(chosen.size, np.nan),
        "status_after": np.where(unknown, "no_data", "ok").astype(object),
        "district": rows["district"].to_numpy(object)[chosen],
        "method": method,
    })


def no_selection(result: Any, circle: str, *, k: int, method: str, reason: str) -> SiteSelection:
    """A :class:`SiteSelection` with no site chosen for ``circle`` and the ``reason``.

    So that the circle still appears (with its coverage as it stands) in ``selected.csv``.

    Parameters
    ----------
    result : CoverageResult
    circle : str
        Circle id.
    k : int
        The number of sites that was asked for.
    method : {"greedy", "exact"}
    reason : str
        Why nothing was chosen (kept as :attr:`SiteSelection.reason` and in its notes).

    Returns
    -------
    SiteSelection
        No site; the baseline coverage (NaN when the circle has no data).
    """
    from circles.scoring.mclp import Selection

    districts = sorted({d if d is not None else "(none)" for d in result.demand.district}) or ["(none)"]
    circ = result.circle(circle)
    arr = circle_arrays(result, circ, horizon_min=None, cap_min=result.options.cap_min, districts=districts)
    missing = no_data_before(result, circ)
    base, total = float(arr.weight[arr.met_groups.all(axis=1)].sum()), float(arr.weight.sum())
    sel = Selection(chosen=np.zeros(0, dtype=np.int64), gains=np.zeros(0), covered_weight=base,
                    baseline_weight=base, total_weight=total, method=method, status="nothing to choose")
    table = pd.DataFrame({c: pd.Series(dtype=t) for c, t in (
        ("rank", "int64"), ("candidate_id", object), ("name", object), ("category", object), ("lon", float),
        ("lat", float), ("circle", object), ("newly_covered_population", float),
        ("cumulative_newly_covered", float), ("covered_population_after", float), ("covered_share_after", float),
        ("status_after", object), ("district", object), ("method", object))})
    cand_view = pd.DataFrame(columns=["candidate_id", "name", "category", "lon", "lat", "district", "node",
                                      "snap_m", "flag", "fixed"])
    return SiteSelection(table=table, selection=sel, circle=circle, method=method, candidates=cand_view,
                         baseline_population=np.nan if missing else base, total_population=total, notes=[reason],
                         requested=int(k), reason=reason, no_data=tuple(missing), no_data_after=tuple(missing))


def coverage_with_sites(result: Any, sites: pd.DataFrame, *, circle: str, max_snap_m: float | None = None,
                        cap_min: float | None = None) -> gpd.GeoDataFrame:
    """Units' coverage of ``circle`` with ``sites`` added to the existing facilities.

    The analysis' own options (``result.options``: status thresholds, maximum
    snap distance, horizon) apply, so adding no site changes nothing; a
    circle that had no data becomes measurable once a site of its missing
    category is added (and stays ``no_data`` otherwise).

    Parameters
    ----------
    result : CoverageResult
    sites : DataFrame
        ``category, lon, lat`` per site (a :attr:`SiteSelection.table`, or
        rows of a score table), or a GeoDataFrame with ``category``.
    circle : str
        Circle id.
    max_snap_m, cap_min : float, optional
        Override the analysis' values (default: ``result.options``).

    Returns
    -------
    geopandas.GeoDataFrame
        ``result.units`` (EPSG:4326) with ``<circle>_covered_share_after`` and
        ``<circle>_status_after``, and ``.attrs["covered_population_after"]``
        (NaN while the circle has no data).
    """
    import geopandas as gpd

    from circles.coverage import AnalysisOptions, no_data_categories, unit_coverage, usable_counts

    options = getattr(result, "options", None) or AnalysisOptions()
    max_snap_m = options.max_snap_m if max_snap_m is None else float(max_snap_m)
    cap_min = options.cap_min if cap_min is None else float(cap_min)
    circ = result.circle(circle)
    if isinstance(sites, gpd.GeoDataFrame):
        geom = sites.to_crs("EPSG:4326").geometry
        lon, lat = geom.x.to_numpy(float), geom.y.to_numpy(float)
    else:
        lon, lat = sites["lon"].to_numpy(float), sites["lat"].to_numpy(float)
    added = gpd.GeoDataFrame({"facility_id": [f"site-{i}" for i in range(len(lon))],
                              "category": np.asarray(sites["category"], dtype=object)},
                             geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    fac = pd.concat([result.facilities[["facility_id", "category", "geometry"]], added], ignore_index=True)
    fac = gpd.GeoDataFrame(fac, geometry="geometry", crs="EPSG:4326")
    demand = result.demand
    net = result.networks["walk" if circ.mode == "walk" else "drive"]
    speed = circ.speed_m_per_min if circ.mode == "walk" else None
    fac_snap = snap_facilities(fac, net, max_snap_m)
    met = compute_circle(circ, net, demand.snaps[net.mode], fac["category"].to_numpy(object),
                         fac_snap, speed_m_per_min=speed, cap_min=cap_min, zone=demand.zone).met
    fac[f"{net.mode}_off_network"] = fac_snap.off_network
    no_data = bool(no_data_categories(circ, usable_counts(fac, net.mode)))
    weight = demand.weights(circ.population)
    n_units = len(result.units)
    cov, _, _, share, status = unit_coverage(
        met, weight, demand.unit, demand.snaps[net.mode].off_network, n_units, no_data=no_data,
        covered_min=options.covered_min, uncovered_max=options.uncovered_max)
    units = result.units.to_crs("EPSG:4326").copy()
    units[f"{circle}_covered_share_after"] = np.round(share, 4)
    units[f"{circle}_status_after"] = status
    units.attrs["covered_population_after"] = np.nan if no_data else float(cov.sum())
    return units


def as_selections(selected: SiteSelection | Sequence[SiteSelection] | None) -> list[SiteSelection]:
    """``selected`` as a list of :class:`SiteSelection` (the writers accept one, a list, or None).

    Internal (used by :mod:`circles.outputs.score_files` and :mod:`circles.outputs.score_map`).

    Parameters
    ----------
    selected : SiteSelection, sequence of SiteSelection, or None

    Returns
    -------
    list of SiteSelection

    Raises
    ------
    InputError
        An item is not a :class:`SiteSelection`.
    """
    if selected is None:
        return []
    if isinstance(selected, SiteSelection):
        return [selected]
    out = list(selected)
    for s in out:
        if not isinstance(s, SiteSelection):
            raise InputError(f"selected: expected SiteSelection objects (from select_sites), got {type(s).__name__}")
    return out

