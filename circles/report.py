"""The policy report card (``circles report``): analysis → targets → gap sites → files.

:func:`policy_report` evaluates every target of the policy pack on an analysis
(:func:`circles.targets.evaluate_targets`) and, for every circle below its target — city-wide and in each
district — finds the fewest new sites that would close the gap (:func:`circles.scoring.gaps.gap_sites`).
:func:`write_report` writes ``targets.csv``, ``gap_sites.csv``, ``report.html`` and ``report.pdf``
(:mod:`circles.outputs.report`).

The two computations are reached through the thin adapters :func:`evaluate` and :func:`find_gap_sites` (lazy
imports), so this module only decides *what* to compute and in which order.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from circles.errors import CirclesError, InputError

if TYPE_CHECKING:
    from circles.coverage_result import CoverageResult

__all__ = ["CircleGap", "PolicyReport", "policy_report", "write_report", "evaluate", "find_gap_sites",
           "CIRCLE_TARGET_PREFIX"]

log = logging.getLogger(__name__)

#: Target ids of circle coverage targets are ``circle_<circle id>`` (issue #12).
CIRCLE_TARGET_PREFIX = "circle_"


@dataclass(frozen=True)
class CircleGap:
    """The gap sites of one circle in one scope, with the scope attached.

    Attributes
    ----------
    circle : str
        Circle id.
    district : str
        District name, ``""`` for the whole city.
    target_share : float
        The share of the circle's people to reach (0-1).
    sites, method, reached, share_before, best_share, note
        As :class:`circles.scoring.gaps.GapSites`: the sites in order (``circle, district, rank, lon, lat,
        newly_covered, share_after`` …), ``"exact"`` or ``"greedy"``, whether the target is reached, the share
        now, the best share the sites reach, and what the reader must know.
    """

    circle: str
    district: str
    target_share: float
    sites: pd.DataFrame
    method: str
    reached: bool
    share_before: float
    best_share: float
    note: str = ""

    @property
    def share_after(self) -> float:
        """Covered share with every site built (the share now when there is none)."""
        if len(self.sites) and "share_after" in self.sites:
            return float(self.sites["share_after"].iloc[-1])
        return self.share_before


@dataclass(frozen=True)
class PolicyReport:
    """What ``circles report`` computes: the targets, the gap sites, and the analysis they came from.

    Attributes
    ----------
    result : CoverageResult
        The analysis.
    targets : DataFrame
        :func:`circles.targets.evaluate_targets` (one row per target and scope).
    gaps : tuple of CircleGap
        One per circle and scope below its target, city-wide first.
    target_share : float or None
        The formed-circle share asked for (``None``: the pack's).
    """

    result: Any
    targets: pd.DataFrame
    gaps: tuple[CircleGap, ...] = field(default_factory=tuple)
    target_share: float | None = None

    def to_files(self, out_dir: str | os.PathLike, *, lang: str = "zh", pdf: bool = True) -> dict[str, Path]:
        """Write ``targets.csv``, ``gap_sites.csv``, ``report.html`` and ``report.pdf``.

        Parameters
        ----------
        out_dir : path-like
            Folder (created when missing).
        lang : {"zh", "en"}
            Language of the HTML and PDF.
        pdf : bool, default True
            Also write ``report.pdf``.

        Returns
        -------
        dict of str to Path
            The files written, by kind.
        """
        from circles.outputs.report import write_report_files

        shares = [g.target_share for g in self.gaps]
        stated = self.target_share if self.target_share is not None else (shares[0] if shares else None)
        return write_report_files(self.result, self.targets, self.gaps, out_dir, lang=lang, target_share=stated,
                                  pdf=pdf)


# ------------------------------------------------------------------ adapters (the computations, imported lazily)

def evaluate(result: CoverageResult, *, target_share: float | None = None, lang: str = "en") -> pd.DataFrame:
    """Adapter: :func:`circles.targets.evaluate_targets` (``formed_share=target_share``).

    Parameters
    ----------
    result : CoverageResult
        The analysis.
    target_share : float, optional
        Share of a circle's people that makes it formed (default: the pack's).
    lang : {"en", "zh"}, default "en"
        Language of the ``note`` column (the other language follows as ``note_zh`` / ``note_en``).

    Returns
    -------
    DataFrame
        One row per target and scope.
    """
    from circles.targets import evaluate_targets

    return evaluate_targets(result, formed_share=target_share, lang=lang)


def find_gap_sites(result: CoverageResult, circle: str, *, target_share: float, district: str | None = None,
                   candidates: Any = None, time_limit_s: float = 30.0) -> Any:
    """Adapter: :func:`circles.scoring.gaps.gap_sites`.

    Parameters
    ----------
    result : CoverageResult
        The analysis.
    circle : str
        Circle id.
    target_share : float
        Share to reach (0-1).
    district : str, optional
        Only this district's people (default: the whole city).
    candidates : GeoDataFrame, optional
        Candidate sites (default: generated on the network).
    time_limit_s : float
        Time for the exact solver before the greedy answer is used.

    Returns
    -------
    GapSites
    """
    from circles.scoring.gaps import gap_sites

    return gap_sites(result, circle, target_share=target_share, district=district, candidates=candidates,
                     time_limit_s=time_limit_s)


# ------------------------------------------------------------------ orchestration

def _share(value: Any, unit: Any) -> float:
    """A circle target's figure as a share 0-1 (``90`` with unit ``%`` is 0.9)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return v / 100.0 if v > 1.0 else v  # a percentage (unit "%"), else already a share


def circles_below_target(targets: pd.DataFrame) -> list[tuple[str, str, float]]:
    """``(circle, district, share)`` of every circle target that is not met; ``district`` ``""`` = city-wide.

    Parameters
    ----------
    targets : DataFrame
        From :func:`circles.targets.evaluate_targets`.

    Returns
    -------
    list of (str, str, float)
        City-wide rows first, then districts, in the order of the frame.  Targets with no data are left out
        (nothing can be placed against a gap that cannot be measured).
    """
    t = pd.DataFrame(targets)
    if not len(t):
        return []
    ids = t["target_id"].astype(str)
    rows = t[ids.str.startswith(CIRCLE_TARGET_PREFIX) & t["status"].astype(str).eq("not met")]
    out = []
    for row in rows.itertuples(index=False):
        district = "" if str(row.scope) == "city" or pd.isna(row.district) else str(row.district)
        out.append((str(row.target_id)[len(CIRCLE_TARGET_PREFIX):], district,
                    _share(row.target, getattr(row, "unit", ""))))
    return sorted(out, key=lambda k: k[1] != "")  # stable: city-wide first


def _gap(result: CoverageResult, circle: str, district: str, share: float, *, candidates: Any,
         time_limit_s: float) -> CircleGap:
    """One gap, or an empty one saying why none could be computed (an input problem, not a crash)."""
    try:
        found = find_gap_sites(result, circle, target_share=share, district=district or None,
                               candidates=candidates, time_limit_s=time_limit_s)
    except CirclesError as exc:
        log.warning("report: no gap sites for %s %s: %s", circle, district or "city", exc)
        return CircleGap(circle, district, share, pd.DataFrame(), "", False, float("nan"), float("nan"), str(exc))
    return CircleGap(circle=circle, district=district, target_share=share, sites=found.sites,
                     method=str(found.method), reached=bool(found.reached),
                     share_before=float(found.share_before), best_share=float(found.best_share),
                     note=str(found.note or ""))


def policy_report(result: CoverageResult, *, target_share: float | None = None, candidates: Any = None,
                  time_limit_s: float = 30.0, districts: bool = True, lang: str = "en") -> PolicyReport:
    """Every target of the policy on ``result``, and the fewest new sites for every circle below target.

    Parameters
    ----------
    result : CoverageResult
        From :func:`circles.analyze`.
    target_share : float, optional
        Share of a circle's people within the limit that makes it formed (0-1; default: the pack's, 0.90).
    candidates : GeoDataFrame, optional
        Candidate sites for the gaps (default: generated on the street network).
    time_limit_s : float
        Time for each exact (HiGHS) search before the greedy answer is used.
    districts : bool, default True
        Also close the gap of each district below target (not only the city's).
    lang : {"en", "zh"}, default "en"
        Language of the targets' ``note`` column (``targets.csv``); the other language follows as
        ``note_zh`` / ``note_en``, so the report files can be written in either.

    Returns
    -------
    PolicyReport
    """
    if target_share is not None and not (math.isfinite(target_share) and 0.0 < target_share <= 1.0):
        raise InputError(f"target_share must be a share above 0 and at most 1 (e.g. 0.9), got {target_share}")
    targets = evaluate(result, target_share=target_share, lang=lang)
    gaps = tuple(_gap(result, circle, district, share, candidates=candidates, time_limit_s=time_limit_s)
                 for circle, district, share in circles_below_target(targets)
                 if districts or not district)
    return PolicyReport(result=result, targets=targets, gaps=gaps, target_share=target_share)


def write_report(result: CoverageResult, out_dir: str | os.PathLike, *, target_share: float | None = None,
                 lang: str = "zh", candidates: Any = None, time_limit_s: float = 30.0,
                 pdf: bool = True) -> dict[str, Path]:
    """:func:`policy_report`, then its files: ``targets.csv``, ``gap_sites.csv``, ``report.html``, ``report.pdf``.

    Parameters
    ----------
    result : CoverageResult
        From :func:`circles.analyze`.
    out_dir : path-like
        Folder to write into (created when missing).
    target_share : float, optional
        Formed-circle share (CLI ``--target-share``; default: the pack's).
    lang : {"zh", "en"}
        Language of the HTML and PDF and of the notes in ``targets.csv`` (CLI ``--lang``).
    candidates : GeoDataFrame, optional
        Candidate sites for the gaps.
    time_limit_s : float
        Time for each exact search.
    pdf : bool, default True
        Also write ``report.pdf``.

    Returns
    -------
    dict of str to Path
        The files written, by kind (``targets``, ``gap_sites``, ``html``, ``pdf``).
    """
    from circles.outputs.maptext import check_lang

    check_lang(lang)
    report = policy_report(result, target_share=target_share, candidates=candidates, time_limit_s=time_limit_s,
                           lang=lang)
    return report.to_files(out_dir, lang=lang, pdf=pdf)


def city_rows(targets: pd.DataFrame, columns: Sequence[str] = ("target_id", "target", "value", "unit", "status")
              ) -> pd.DataFrame:
    """The city-wide rows of a targets frame (what the closing note of a run shows).

    Parameters
    ----------
    targets : DataFrame
        From :func:`circles.targets.evaluate_targets`.
    columns : sequence of str
        Columns to keep.

    Returns
    -------
    DataFrame
    """
    t = pd.DataFrame(targets)
    rows = t[t["scope"].astype(str).eq("city")] if "scope" in t else t
    return rows[[c for c in columns if c in rows.columns]].reset_index(drop=True)
