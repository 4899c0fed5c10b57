"""Scoring proposed facility sites and choosing the best set (issue #6).

The flow runs one way, one module per step:

* :mod:`circles.scoring.candidates` — candidate sites: read from a file
  (:func:`load_candidates`) or generated on the network where coverage is
  lacking (:func:`generate_candidates`), and checked;
* :mod:`circles.scoring.prepared` — the arrays prepared once per circle (graph,
  demand points, current minutes, gates) and the chunks of candidates to score;
* :mod:`circles.scoring.score` — :func:`score` and :class:`ScoreTable`: the
  kernel calls per chunk (serial or threaded) and the table they make;
* :mod:`circles.scoring.select` — :func:`select_sites` and :class:`SiteSelection`
  for one circle, :func:`no_selection`, and :func:`coverage_with_sites`;
* :mod:`circles.scoring.mclp` — choosing k sites on plain arrays (greedy, HiGHS MCLP);
* :mod:`circles.scoring.gaps` — :func:`gap_sites`: the fewest new sites that bring a circle to a target share;
* :mod:`circles.scoring.distributed` — :func:`score_dask`: the same scoring on a dask cluster.

The files and the map of a scoring run are written by
:mod:`circles.outputs.score_files` (:func:`write_score_outputs`, :func:`score_map`),
re-exported here.
"""

from circles.outputs.score_files import score_map, write_score_outputs
from circles.scoring.candidates import generate_candidates, load_candidates
from circles.scoring.distributed import score_dask
from circles.scoring.gaps import GapSites, gap_sites
from circles.scoring.score import ScoreTable, score
from circles.scoring.select import SiteSelection, coverage_with_sites, no_selection, select_sites

__all__ = [
    "GapSites", "ScoreTable", "SiteSelection", "coverage_with_sites", "gap_sites", "generate_candidates",
    "load_candidates",
    "no_selection", "score", "score_dask", "score_map", "select_sites", "write_score_outputs",
]
