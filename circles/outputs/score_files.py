"""The files of a scoring run: ``scores.csv``, ``scores_by_district.csv``, ``scores.xlsx``,
``selected.csv`` and the offline map ``scores.html``.

:func:`write_score_outputs` writes them all, atomically (:mod:`circles.outputs.atomic`);
:func:`score_map` draws the map (:mod:`circles.outputs.score_map`, loaded only when
called, so importing this module stays light).  Both are re-exported by
:mod:`circles.scoring`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from circles.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import folium

    from circles.scoring.select import SiteSelection

__all__ = ["NO_BASELINE_NOTE", "score_map", "write_score_outputs"]

#: What newly covered and newly reachable mean for a circle with no data before (scores.xlsx notes, README).
NO_BASELINE_NOTE = (
    "{circles}: no data before (no usable facility of {categories}), so there is no baseline — nobody reached "
    "such a facility before, every resident a site brings within reach is newly reachable "
    "(newly_reachable_population, within the search horizon) and those within their limit who now meet the "
    "circle are newly covered (newly_covered_population): for a circle of one category the two columns count "
    "the same people (they differ only where the horizon is longer than a resident's limit, or where another "
    "required category is still missing) / 这些服务圈现状无数据，没有基线：新增覆盖人口与新增可达人口基本是同一批居民"
    "（仅当搜索时限长于该居民的阈值，或仍缺少其他类别时不同）")


def score_map(result: Any, scores: pd.DataFrame, selected: SiteSelection | Sequence[SiteSelection] | None = None,
              *, circles: Sequence[str] | None = None, roads: bool = True, max_candidates: int | None = None,
              lang: str = "zh", **options: Any) -> folium.Map:
    """An offline map of the scored candidates in one language.

    Coverage now and with the chosen sites, candidates in blues, chosen sites
    numbered by rank.  Drawn by :func:`circles.outputs.score_map.score_map`
    (loaded only now); save it with :func:`circles.outputs.webmap.save_map` or
    show it inline with ``IPython.display.HTML`` of
    :func:`circles.outputs.webmap.to_offline_html`.

    Parameters
    ----------
    result : CoverageResult
    scores : ScoreTable
        From :func:`circles.scoring.score`.
    selected : SiteSelection or list of them, optional
        From :func:`circles.scoring.select_sites`.
    circles : sequence of str, optional
        Only these circles (default: every scored circle).
    roads : bool, default True
        Draw the road backdrop.
    max_candidates : int, optional
        At most this many candidates per circle (default
        :data:`circles.outputs.score_map.MAP_MAX_CANDIDATES`).
    lang : {"zh", "en"}
        Language of every word on the map.
    **options
        Passed on (``basemap``).

    Returns
    -------
    folium.Map
    """
    from circles.outputs.score_map import MAP_MAX_CANDIDATES
    from circles.outputs.score_map import score_map as _score_map

    return _score_map(result, scores, selected, circles=circles, roads=roads,
                      max_candidates=MAP_MAX_CANDIDATES if max_candidates is None else max_candidates,
                      lang=lang, **options)


def _no_baseline_notes(scores: pd.DataFrame, info: dict) -> list[str]:
    """:data:`NO_BASELINE_NOTE` for the scored circles that had no data before (none when all had)."""
    circles = {cid: d.get("no_data", "") for cid, d in (info.get("circles") or {}).items()
               if d.get("status") == "no_data" and cid in set(pd.DataFrame(scores).get("circle", []))}
    if not circles:
        return []
    categories = sorted({c.strip() for v in circles.values() for c in v.split(",") if c.strip()})
    return [NO_BASELINE_NOTE.format(circles=", ".join(circles), categories=", ".join(categories))]


def _summary(info: dict, selections: list[SiteSelection]) -> pd.DataFrame:
    """The ``summary`` sheet: coverage before and (with the chosen sites) after, per scored circle."""
    summary = []
    for cid, d in (info.get("circles") or {}).items():
        population, base = d["population"], d["baseline_covered_population"]
        row = {"circle": cid, "population": population, "baseline_status": d.get("status", "ok"),
               "baseline_covered_population": base,
               "baseline_covered_share": base / population if population > 0 else np.nan,
               "horizon_min": d["horizon_min"], "candidates_scored": d["candidates_scored"]}
        for s in selections:
            if s.circle == cid:
                after = s.covered_population
                row.update({"method": s.method, "sites_requested": s.requested, "sites_chosen": len(s.table),
                            "covered_population_after": after,
                            "covered_share_after": after / population if population > 0 else np.nan,
                            "status_after": "no_data" if s.no_data_after else "ok",
                            "gap_to_exact": s.gap_to_exact, "note": s.reason})
        summary.append(row)
    return pd.DataFrame(summary)


def write_score_outputs(result: Any, scores: pd.DataFrame,
                        selected: SiteSelection | Sequence[SiteSelection] | None = None,
                        out_dir: str | Path = ".", *, map_html: bool = True, lang: str = "zh",
                        basemap: str | None = None) -> dict[str, Path]:
    """Write the files of a scoring run into ``out_dir``, atomically.

    ``scores.csv``, ``scores_by_district.csv``, ``scores.xlsx``, ``selected.csv``
    (when sites were selected) and ``scores.html`` (offline map).
    ``selected.csv`` has every circle of ``selected``: its chosen
    sites, or one row without a site when none could be chosen; ``sites_requested``
    and ``note`` say why fewer than requested were chosen
    (:meth:`~circles.scoring.select.SiteSelection.rows`).  No data is never 0: a circle
    without a usable facility of a required category has an empty baseline, and empty
    coverage after the sites while they leave it so (``status_after`` ``no_data``).  CSV
    numbers are rounded by kind and ``scores.xlsx`` has Chinese and English headers
    (:mod:`circles.outputs.atomic`), a ``summary`` sheet (coverage before and after per
    circle), ``notes`` (what the columns mean; :data:`NO_BASELINE_NOTE` for circles
    without a baseline) and the run's ``assumptions``.

    Parameters
    ----------
    result : CoverageResult
    scores : ScoreTable
        From :func:`circles.scoring.score`.
    selected : SiteSelection or list of them, optional
        One per circle, from :func:`circles.scoring.select_sites`.
    out_dir : str or path-like
        Folder (created when missing).
    map_html : bool, default True
        Also write ``scores.html``.
    lang : {"zh", "en"}
        Language of the map.
    basemap : str, optional
        An online basemap under ``scores.html`` (off by default; see
        :func:`circles.outputs.webmap.resolve_basemap`).

    Returns
    -------
    dict of str to Path
        The files written, by kind (``scores_csv``, ``by_district_csv``,
        ``selected_csv``, ``xlsx``, ``map``).
    """
    from circles.outputs.atomic import write_csv_atomic, write_excel_atomic
    from circles.outputs.files import assumptions_table, bilingual_header
    from circles.outputs.webmap import save_map
    from circles.scoring.select import as_selections

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder; pass a folder for the outputs (--out)")
    out.mkdir(parents=True, exist_ok=True)
    selections = as_selections(selected)
    plain = pd.DataFrame(scores)
    written: dict[str, Path] = {}
    written["scores_csv"] = write_csv_atomic(plain, out / "scores.csv")
    by_d = getattr(scores, "by_district", None)
    if by_d is not None:
        written["by_district_csv"] = write_csv_atomic(by_d, out / "scores_by_district.csv")
    sel_table = pd.concat([s.rows() for s in selections], ignore_index=True) if selections else None
    if sel_table is not None:
        written["selected_csv"] = write_csv_atomic(sel_table, out / "selected.csv")
    elif (out / "selected.csv").exists():
        (out / "selected.csv").unlink()  # from an earlier run: it would name candidates not in these scores
    info = getattr(scores, "info", None) or {}
    sheets = {"scores": plain, "summary": _summary(info, selections)}
    if by_d is not None:
        sheets["by_district"] = by_d
    if sel_table is not None:
        sheets["selected"] = sel_table
    sheets["notes"] = pd.DataFrame({"note": [info.get("minutes_saved_note", "")] + _no_baseline_notes(scores, info) +
                                    [n for s in selections for n in s.notes] + list(result.assumptions or [])})
    sheets["assumptions"] = assumptions_table(result)
    names = {c.id: c.name_zh for c in result.policy.circles}
    written["xlsx"] = write_excel_atomic(sheets, out / "scores.xlsx", header=bilingual_header(names))
    if map_html:
        written["map"] = save_map(score_map(result, scores, selections, lang=lang, basemap=basemap),
                                  out / "scores.html")
    return written
