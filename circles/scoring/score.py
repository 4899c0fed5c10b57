"""Scoring candidate sites: for each candidate and circle, the people it would newly cover.

For every candidate and every circle its category counts towards: one bounded
single-source search from the candidate (the compiled kernel of
:mod:`circles._kernels`; its access leg as the start time), then, per demand
point it reaches, the category's new minutes ``min(old, node time + resident
leg)``.  The circle's per-point result is recomputed with only that
requirement group improved (a new clinic covers nobody who still lacks a
grocery), with the zone-dependent limits of the coverage run.  Reported per
candidate: population newly covered, population whose time to the category
falls, and the minutes they save (:class:`ScoreTable`).

The arrays come from :func:`circles.scoring.prepared.prepare_circles`; chunks
are scored by :func:`score_task` (search, then reduction) serially, on several
threads, or with :mod:`circles.scoring.distributed` on a dask cluster — all
three give identical numbers, put together by :func:`assemble_scores`.

Minutes saved and newly reachable
---------------------------------
A resident with no facility of the category within the search horizon (the
circle's longest limit) has no "before" time to save minutes against — the run
tracks times only up to a 60-minute cap, and measuring against that cap would
report an invented number.  So the two are reported apart:

* ``faster_population`` — people who already reached a facility of the
  category within the horizon and reach the candidate sooner;
  ``mean_minutes_saved`` is their population-weighted mean of
  ``old - new`` minutes (NaN when there are none);
* ``newly_reachable_population`` — people with no facility of the category
  within the horizon before, and the candidate within it after.

``improved_population`` is their sum (everyone whose time to the category falls,
within the horizon).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

import numpy as np
import pandas as pd

from circles._kernels import SCORE_STATS, score_reduce
from circles.errors import InputError
from circles.scoring.candidates import carry_coords
from circles.scoring.prepared import CHUNK_SIZE, CircleArrays, PreparedScoring, prepare_circles

__all__ = ["SCORE_COLUMNS", "MINUTES_SAVED_NOTE", "ScoreTable", "score", "score_task", "assemble_scores"]

#: Columns of a score table (one row per candidate and circle).
SCORE_COLUMNS: tuple[str, ...] = (
    "candidate_id", "name", "category", "lon", "lat", "circle", "population_group",
    "newly_covered_population", "improved_population", "improved_points", "faster_population",
    "mean_minutes_saved", "newly_reachable_population", "district", "snap_m", "flag",
)

#: Columns of the reduction kernel's per-candidate statistics.
N_STATS: int = SCORE_STATS
#: What "minutes saved" means (written to scores.xlsx and the console).
MINUTES_SAVED_NOTE = (
    "mean_minutes_saved: population-weighted mean minutes saved by the residents who already had a "
    "facility of the category within the circle's limit and reach the candidate sooner (faster_population); "
    "residents with none within the limit before are counted apart as newly_reachable_population, "
    "with no minutes saved invented for them / 平均节省时间仅计原已可达且更快的居民；原不可达者计为新增可达人口")


class ScoreTable(pd.DataFrame):
    """A :class:`pandas.DataFrame` of scores, one row per candidate and circle.

    Columns (:data:`SCORE_COLUMNS`): ``candidate_id, name, category, lon, lat``
    (WGS84), ``circle`` (empty when no circle of the policy needs the
    category), ``population_group`` (``all`` or ``65plus``: whose weights
    count), ``newly_covered_population`` (people whose unit would newly meet
    the circle), ``improved_population`` and ``improved_points`` (people and
    demand points whose time to the category falls, within the circle's
    longest limit, the horizon), ``faster_population`` (of those, people who
    already had a facility of the category within the horizon),
    ``mean_minutes_saved`` (population-weighted over ``faster_population``
    only; NaN when none), ``newly_reachable_population`` (people with no
    facility of the category within the horizon before, the candidate within
    it after), ``district`` (of the candidate), ``snap_m`` (access leg),
    ``flag`` (why a row scores zero, or a remark).

    Attributes
    ----------
    by_district : DataFrame
        Long table ``candidate_id, circle, district, newly_covered_population,
        improved_population``: where the newly covered people live.
    info : dict
        Per circle: search horizon (min), baseline covered population, number
        of candidates scored; timings.
    """

    _metadata = ["by_district", "info"]
    by_district: pd.DataFrame | None = None
    info: dict | None = None

    @property
    def _constructor(self):
        return ScoreTable

    def best(self, circle: str, n: int = 10) -> pd.DataFrame:
        """The ``n`` best candidates for ``circle`` by newly covered population.

        Each on its own, not marginal (use :func:`~circles.scoring.select.select_sites`
        for a set); ties by person-minutes saved, then by id.

        Parameters
        ----------
        circle : str
            Circle id.
        n : int, default 10
            How many rows.

        Returns
        -------
        DataFrame
            Rows of this table, best first.

        Raises
        ------
        InputError
            No scored candidate for ``circle``.
        """
        sub = self[self["circle"] == circle]
        if sub.empty:
            raise InputError(f"no scored candidates for circle {circle!r}; circles in the table: "
                             f"{sorted(c for c in self['circle'].unique() if c)}")
        saved = sub["faster_population"] * sub["mean_minutes_saved"].fillna(0.0)
        # ties go to the site saving the most person-minutes (as in select_sites), then by id
        order = np.lexsort((sub["candidate_id"].to_numpy(str), -saved.to_numpy(),
                            -sub["newly_covered_population"].to_numpy()))
        return pd.DataFrame(sub.iloc[order].head(n))


def score_task(arr: CircleArrays, categories: np.ndarray, sources: np.ndarray,
               offsets_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Score one chunk of rows of one circle.

    Each distinct (node, offset) is searched once; the reduction runs per category.

    Parameters
    ----------
    arr : CircleArrays
        The circle's arrays.
    categories, sources, offsets_s : numpy.ndarray
        Per row: category, start node, access leg in seconds (a :class:`~circles.scoring.prepared.ChunkTask`).

    Returns
    -------
    stats : numpy.ndarray, shape (n, N_STATS)
        Per row, the reduction kernel's statistics.
    by_district : numpy.ndarray, shape (n, n_districts, 2)
        Per row and district: newly covered and improved population.
    """
    key = np.column_stack([sources.astype(np.float64), offsets_s])
    uniq, inverse = np.unique(key, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    ptr, nodes, times = arr.search(uniq[:, 0].astype(np.int64), uniq[:, 1].copy())
    n = sources.size
    stats = np.zeros((n, N_STATS))
    by_d = np.zeros((n, arr.n_districts, 2))
    for cat in np.unique(categories):
        mine = np.flatnonzero(categories == cat)
        s, b = score_reduce(ptr, nodes, times, inverse[mine].astype(np.int64), arr.pt_ptr, arr.pt_idx,
                              arr.leg_min, arr.old_min[cat], arr.gate[cat], arr.weight, arr.district_code,
                              arr.n_districts, arr.horizon_min)
        stats[mine] = s
        by_d[mine] = b
    return stats, by_d


def assemble_scores(prep: PreparedScoring, outputs: list, *, timings: dict) -> ScoreTable:
    """The score table of all chunks (in the order of ``prep.tasks``), as the serial path makes it.

    Parameters
    ----------
    prep : PreparedScoring
    outputs : list of tuple
        :func:`score_task`'s answer per task of ``prep.tasks``.
    timings : dict
        Kept as ``info["timings"]``.

    Returns
    -------
    ScoreTable
    """
    rows = prep.rows
    n = len(rows)
    stats = np.zeros((n, N_STATS))
    by_d = np.zeros((n, len(prep.districts), 2))
    for task, (s, b) in zip(prep.tasks, outputs):
        stats[task.rows] = s
        by_d[task.rows] = b
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_saved = np.where(stats[:, 5] > 0, stats[:, 3] / stats[:, 5], np.nan)
    table = ScoreTable({
        "candidate_id": rows["candidate_id"].to_numpy(object),
        "name": rows["name"].to_numpy(object),
        "category": rows["category"].to_numpy(object),
        "lon": rows["lon"].to_numpy(float),
        "lat": rows["lat"].to_numpy(float),
        "circle": rows["circle"].to_numpy(object),
        "population_group": rows["population_group"].to_numpy(object),
        "newly_covered_population": stats[:, 0],
        "improved_population": stats[:, 1],
        "improved_points": stats[:, 2].astype(np.int64),
        "faster_population": stats[:, 5],
        "mean_minutes_saved": mean_saved,
        "newly_reachable_population": stats[:, 6],
        "district": rows["district"].to_numpy(object),
        "snap_m": rows["snap_m"].to_numpy(float),
        "flag": rows["flag"].to_numpy(object),
    })
    carry_coords(table, rows)
    nz = np.argwhere((by_d[:, :, 0] > 0) | (by_d[:, :, 1] > 0))
    table.by_district = pd.DataFrame({
        "candidate_id": rows["candidate_id"].to_numpy(object)[nz[:, 0]],
        "circle": rows["circle"].to_numpy(object)[nz[:, 0]],
        "district": np.asarray(prep.districts, dtype=object)[nz[:, 1]],
        "newly_covered_population": by_d[nz[:, 0], nz[:, 1], 0],
        "improved_population": by_d[nz[:, 0], nz[:, 1], 1],
    })
    table.info = {
        "circles": {cid: {"horizon_min": a.horizon_min, "baseline_covered_population": prep.baseline[cid],
                          "population": float(a.weight.sum()),
                          "status": "no_data" if prep.no_data.get(cid) else "ok",
                          "no_data": ", ".join(prep.no_data.get(cid, [])),
                          "candidates_scored": int(sum(t.rows.size for t in prep.tasks if t.circle_id == cid))}
                    for cid, a in prep.arrays.items()},
        "timings": timings,
        "minutes_saved_note": MINUTES_SAVED_NOTE,
    }
    return table


def score(
    result: Any,
    candidates: Any,
    *,
    circles: Sequence[str] | str | None = None,
    horizon_min: float | None = None,
    max_snap_m: float | None = None,
    n_threads: int = 1,
    chunk_size: int = CHUNK_SIZE,
    progress: bool = False,
) -> ScoreTable:
    """Score every candidate site for every circle its category counts towards.

    Parameters
    ----------
    result : CoverageResult
        From :func:`circles.analyze` (the current situation: existing
        facilities, demand points, limits per zone).
    candidates : GeoDataFrame
        From :func:`load_candidates` or :func:`generate_candidates` (columns
        ``candidate_id, category, name, geometry`` at least).
    circles : str or list of str, optional
        Only these circles (default: all of the policy).
    horizon_min : float, optional
        How far (minutes, resident leg included) a candidate's reach is
        searched; default the circle's longest limit over zones (e.g. 12 for
        the emergency circle), at most the 60-minute cap.  Newly covered
        population never depends on it (as long as it is at least the
        limits); ``improved_population`` counts improvements within it.
    max_snap_m : float, optional
        Candidates further than this from the circle's network are flagged
        ``off_network`` and score zero (default: the analysis' own,
        ``result.options.max_snap_m``).
    n_threads : int, default 1
        Threads scoring chunks in parallel (the kernels release the GIL).
    chunk_size : int, default 512
        Candidates per kernel call.
    progress : bool, default False
        Show a progress bar over chunks.

    Returns
    -------
    ScoreTable
        One row per (candidate, circle) in candidate order; see
        :class:`ScoreTable`.  Flags: ``off_network``, ``outside_area`` (not in
        the study area), ``category_not_in_policy`` (these score zero and are
        kept) and ``at_existing_facility`` (same node as an existing facility
        of the category; scored normally, treated as already built by
        :func:`select_sites`).

    Notes
    -----
    Per candidate: one bounded Dijkstra from its snapped node (start time =
    its access leg; on the forward drive graph for ambulance stations, on the
    reversed graph for walking-to circles), then for each reached demand
    point ``new = node minutes + resident leg``.  The point is *newly covered*
    when it was not covered, every requirement group other than the
    candidate's was already met, and ``new`` is within the point's limit for
    the candidate's group (zone-dependent for the emergency circle).  It is
    *improved* when ``new`` is below its current minutes to the category:
    *faster* when it already had a facility of the category within the
    horizon (its minutes saved, ``old - new``, enter ``mean_minutes_saved``),
    *newly reachable* otherwise (counted apart; no minutes saved are assumed).
    """
    t0 = time.perf_counter()
    prep = prepare_circles(result, candidates, circles=circles, horizon_min=horizon_min, max_snap_m=max_snap_m,
                           chunk_size=chunk_size)
    t_prep = time.perf_counter() - t0
    if not (isinstance(n_threads, (int, np.integer)) and n_threads >= 1):
        raise InputError(f"n_threads must be a whole number >= 1, got {n_threads!r}")
    t1 = time.perf_counter()
    outputs = _score_tasks(prep, n_threads=int(n_threads), progress=progress)
    timings = {"prepare_s": t_prep, "score_s": time.perf_counter() - t1}
    table = assemble_scores(prep, outputs, timings=timings)
    timings["total_s"] = time.perf_counter() - t0
    return table


def _score_tasks(prep: PreparedScoring, *, n_threads: int, progress: bool) -> list:
    """:func:`score_task` of every task, in task order, on ``n_threads`` threads."""
    from tqdm.auto import tqdm

    outputs: list = [None] * len(prep.tasks)
    bar = tqdm(total=len(prep.tasks), desc="scoring chunks", disable=not progress, leave=False)
    if n_threads == 1 or len(prep.tasks) <= 1:
        for i, task in enumerate(prep.tasks):
            outputs[i] = score_task(prep.arrays[task.circle_id], task.categories, task.sources, task.offsets_s)
            bar.update(1)
    else:
        with ThreadPoolExecutor(max_workers=n_threads) as pool:
            futures = {pool.submit(score_task, prep.arrays[t.circle_id], t.categories, t.sources, t.offsets_s): i
                       for i, t in enumerate(prep.tasks)}
            for fut in as_completed(futures):
                outputs[futures[fut]] = fut.result()
                bar.update(1)
    bar.close()
    return outputs
