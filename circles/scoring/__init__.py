"""Scoring proposed facility sites and choosing the best set.

* :mod:`circles.scoring._all` — candidates, prepared arrays, ``score`` and
  :class:`ScoreTable`, ``select_sites`` (being split by concern);
* :mod:`circles.scoring.mclp` — choosing k sites on plain arrays (greedy, HiGHS MCLP);
* :mod:`circles.scoring.distributed` — the same scoring on a dask cluster.
"""

from circles.scoring._all import (
    ScoreTable,
    SiteSelection,
    coverage_with_sites,
    generate_candidates,
    load_candidates,
    no_selection,
    score,
    score_map,
    select_sites,
    write_score_outputs,
)

__all__ = [
    "ScoreTable", "SiteSelection", "coverage_with_sites", "generate_candidates", "load_candidates",
    "no_selection", "score", "score_map", "select_sites", "write_score_outputs",
]
