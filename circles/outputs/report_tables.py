"""What the report card shows, in both of its formats: its words, the targets and gap-site tables, the
traffic-light table, data quality, assumptions, sources and the figure of each circle.

:mod:`circles.outputs.report` draws them as one HTML page and writes the files; :mod:`circles.outputs.report_pdf`
draws them on PDF pages.  See :mod:`circles.outputs.report` for what ``targets`` and ``gaps`` are.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from circles.outputs.maptext import TEXT as MAP_TEXT
from circles.outputs.maptext import cause_zh, check_lang, circle_label, fmt_people, fmt_share
from circles.outputs.palette import STATUS_COLOURS, category_label

__all__ = ["REPORT_TEXT", "TARGET_COLUMNS", "GAP_COLUMNS", "GAP_SUMMARY_COLUMNS", "STATUS_COLOURS_REPORT",
           "VERDICTS", "MAX_SITE_ROWS", "targets_table", "target_notes", "gap_sites_table", "gap_summary", "gap_summary_shown",
           "traffic_light", "data_quality_table", "sources_list", "assumption_lines", "status_text", "format_value",
           "circle_figures", "sites_frame", "circle_words", "is_missing"]

log = logging.getLogger(__name__)

#: Columns of ``targets.csv`` (in this order; any other column of the targets frame follows).
TARGET_COLUMNS: tuple[str, ...] = ("target_id", "scope", "district", "target", "value", "unit", "status",
                                   "clause_zh", "clause_en", "note")
#: Columns of ``gap_sites.csv`` that always exist (input-CRS coordinates and the gap's method follow).
GAP_COLUMNS: tuple[str, ...] = ("circle", "district", "rank", "lon", "lat", "newly_covered", "share_after")
#: The three verdicts of a target.
VERDICTS: tuple[str, ...] = ("met", "not met", "no data")
#: Background and text colour of each verdict (the palette's covered / uncovered / no-data colours).
STATUS_COLOURS_REPORT: dict[str, tuple[str, str]] = {
    "met": (STATUS_COLOURS["covered"], "#ffffff"),
    "not met": (STATUS_COLOURS["uncovered"], "#ffffff"),
    "no data": (STATUS_COLOURS["no_data"], "#111111"),
}
#: CSS background of a "no data" cell: light grey stripes (dark text stays readable), never a verdict colour.
NO_DATA_CELL_CSS = "repeating-linear-gradient(45deg,#d4d4d4 0 6px,#f0f0f0 6px 10px)"

#: Words of the report per language (the style of :data:`circles.outputs.maptext.TEXT`).
REPORT_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "政策达标报告", "met": "达标", "not met": "未达标", "no data": "无数据", "city": "全市",
        "targets": "目标达成情况", "target": "目标", "target_id": "编号", "value": "现状", "figure": "目标值",
        "clause": "条款", "maps": "各服务圈覆盖图", "gaps": "补齐缺口的最少新增站点",
        "data_quality": "数据质量", "assumptions": "假设", "sources": "来源", "notes": "说明",
        "rank": "排序", "lon": "经度", "lat": "纬度", "newly": "新增覆盖人口", "after": "累计覆盖率",
        "before": "现状覆盖率", "best": "可达到的最高覆盖率", "method_exact": "精确解（HiGHS 集合覆盖）",
        "method_greedy": "贪心近似", "reached": "可达到目标", "unreachable": "无法达到目标",
        "n_sites": "新增站点数", "no_gaps": "没有低于目标的服务圈（或均无数据），无需新增站点。",
        "no_sites": "没有候选站点能提高覆盖率。", "more_rows": "其余 {n} 个站点见 gap_sites.csv。",
        "formed": "“形成”服务圈指其人口的至少 {share} 在时限内可达——这是建模选择，可用 --target-share 修改。",
        "generated": "生成日期", "policy": "政策", "legend": "图例", "input": "输入", "category": "类别",
        "total": "总数", "inside": "区内", "outside": "区外", "off_network": "路网外",
        "nearest_outside_m": "区外最近(米)", "likely_cause": "可能原因", "item": "项目",
        "assumption": "假设", "no_cjk": "", "scope": "范围", "district": "区",
        "data_notes": "状态为“无数据”的目标：输入中缺少计算所需的数据，既不算达标也不算未达标。",
        "figure_missing": "无法绘制此图：{why}", "circle": "服务圈", "method": "方法", "verdict": "结论",
        "sites": "新增站点（按顺序）", "with_sites": "新增后覆盖率", "candidate": "候选编号", "name": "名称",
        "site_district": "站点所在区",
    },
    "en": {
        "title": "Policy report card", "met": "met", "not met": "not met", "no data": "no data", "city": "city",
        "targets": "Targets", "target": "target", "target_id": "id", "value": "value", "figure": "figure",
        "clause": "clause", "maps": "Coverage of each circle", "gaps": "The fewest new sites to close each gap",
        "data_quality": "Data quality", "assumptions": "Assumptions", "sources": "Sources", "notes": "notes",
        "rank": "rank", "lon": "lon", "lat": "lat", "newly": "newly covered people", "after": "share after it",
        "before": "share now", "best": "best share reachable", "method_exact": "exact (HiGHS set covering)",
        "method_greedy": "greedy (approximate)", "reached": "target reached", "unreachable": "target not reachable",
        "n_sites": "new sites", "no_gaps": "No circle is below its target (or none can be measured): no new sites "
                                          "are needed.",
        "no_sites": "No candidate site raises the share.", "more_rows": "{n} more sites in gap_sites.csv.",
        "formed": "A circle counts as formed when at least {share} of its people reach it within the limit — a "
                  "modelling choice, changed with --target-share.",
        "generated": "generated", "policy": "policy", "legend": "legend", "input": "input", "category": "category",
        "total": "total", "inside": "inside", "outside": "outside", "off_network": "off network",
        "nearest_outside_m": "nearest outside (m)", "likely_cause": "likely cause", "item": "item",
        "assumption": "assumption", "no_cjk": "", "scope": "scope", "district": "district",
        "data_notes": "A target with no data lacks an input it needs: it is neither met nor not met.",
        "figure_missing": "figure not drawn: {why}", "circle": "circle", "method": "method", "verdict": "verdict",
        "sites": "New sites, in order", "with_sites": "share with the sites", "candidate": "candidate",
        "name": "name", "site_district": "site in district",
    },
}

#: Most site rows shown per gap in the HTML and PDF (every row is in gap_sites.csv).
MAX_SITE_ROWS = 30


def is_missing(v: Any) -> bool:
    """True for ``None``, NaN and other missing scalars.

    Parameters
    ----------
    v : object
        A cell value.

    Returns
    -------
    bool
    """
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def status_text(status: Any, lang: str) -> str:
    """A target's verdict in words of ``lang`` (unknown verdicts as they are).

    Parameters
    ----------
    status : str
        ``"met"``, ``"not met"`` or ``"no data"``.
    lang : {"zh", "en"}
        Language.

    Returns
    -------
    str

    Examples
    --------
    >>> status_text("not met", "zh"), status_text("no data", "en")
    ('未达标', 'no data')
    """
    return REPORT_TEXT[check_lang(lang)].get(str(status), str(status))


def format_value(value: Any, unit: Any = "", *, short: bool = False) -> str:
    """A target's figure or measured value with its unit; ``"–"`` when missing.

    Shares (unit ``share``) are shown as percentages; a unit starting with ``%`` (``"% of residents covered"``)
    follows a value already in percent.

    Parameters
    ----------
    value : number or None
        The figure.
    unit : str
        Its unit (``"share"``, ``"%"``, ``"% of residents covered"``, ``"beds per 1,000 residents"`` …).
    short : bool
        The number (with ``%`` for percentages) without the words of the unit, for a table cell.

    Returns
    -------
    str

    Examples
    --------
    >>> format_value(0.9, "share"), format_value(8.8, "beds per 1,000"), format_value(float("nan"), "%")
    ('90%', '8.8 beds per 1,000', '–')
    >>> format_value(24.925, "% of residents covered"), format_value(24.925, "% of residents covered", short=True)
    ('24.9% of residents covered', '24.9%')
    >>> format_value(4000, "AEDs"), format_value(4000, "AEDs", short=True)
    ('4,000 AEDs', '4,000')
    """
    if is_missing(value):
        return "–"
    unit = "" if is_missing(unit) else str(unit).strip()
    if isinstance(value, str):
        return value if short else f"{value} {unit}".strip()
    v = float(value)
    if unit in ("share", "fraction"):
        v, unit = 100.0 * v, "%"
    if unit.startswith("%"):
        number = f"{v:.1f}".removesuffix(".0") + "%"
        return number if short else f"{number} {unit[1:].strip()}".strip()
    number = f"{v:,.0f}" if v.is_integer() else f"{v:,.2f}".rstrip("0").rstrip(".")
    return number if short else f"{number} {unit}".strip()


def targets_table(targets: pd.DataFrame) -> pd.DataFrame:
    """The targets frame in the column order of ``targets.csv`` (missing columns added empty).

    Parameters
    ----------
    targets : DataFrame
        From :func:`circles.targets.evaluate_targets`.

    Returns
    -------
    DataFrame
        ``target_id, scope, district, target, value, unit, status, clause_zh, clause_en, note`` then any other
        column; ``district`` is ``""`` for city-wide rows; figures and values rounded to 4 decimals.
    """
    out = pd.DataFrame(targets).copy()
    for col in TARGET_COLUMNS:
        if col not in out:
            out[col] = "" if col not in ("target", "value") else float("nan")
    out["district"] = out["district"].astype(object).where(out["district"].notna(), "")
    for col in ("target", "value"):  # 24.925191577513885 % is 24.9252 %: more digits than any input has
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(4)
    rest = [c for c in out.columns if c not in TARGET_COLUMNS]
    return out[list(TARGET_COLUMNS) + rest].reset_index(drop=True)


def target_notes(targets: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The non-empty note of every target row, in ``lang``.

    Parameters
    ----------
    targets : DataFrame
        From :func:`circles.targets.evaluate_targets` (``note`` in its language, the other language in
        ``note_zh`` or ``note_en``).
    lang : {"zh", "en"}
        Language of the notes: ``note_<lang>`` when the frame has it, else ``note``.

    Returns
    -------
    DataFrame
        Columns ``target_id, district, note`` (``district`` ``""`` for city-wide rows).
    """
    t = targets_table(targets)
    own = f"note_{check_lang(lang)}"
    note = t["note"] if own not in t.columns else t[own].where(t[own].notna() & t[own].astype(str).ne(""), t["note"])
    out = pd.DataFrame({"target_id": t["target_id"], "district": t["district"], "note": note})
    keep = out["note"].notna() & out["note"].astype(str).str.strip().ne("")
    return out[keep].reset_index(drop=True)


def _gap_key(gap: Any) -> tuple[str, str]:
    """``(circle, district)`` of a gap: its own attributes, else its sites' first row (``""`` = city-wide)."""
    sites = getattr(gap, "sites", None)
    first = sites.iloc[0] if sites is not None and len(sites) else {}
    circle = getattr(gap, "circle", None) or (first.get("circle", "") if len(first) else "")
    district = getattr(gap, "district", None)
    if district is None:
        district = first.get("district", "") if len(first) else ""
    return str(circle or ""), "" if is_missing(district) else str(district)


def gap_sites_table(gaps: Sequence[Any]) -> pd.DataFrame:
    """Every gap's sites in one frame: the rows of ``gap_sites.csv``.

    Parameters
    ----------
    gaps : sequence
        Gap-site results (``sites``, ``method``, ``reached`` …; see the module docstring).

    Returns
    -------
    DataFrame
        ``circle, district, rank, lon, lat, newly_covered, share_after``, the input-CRS coordinates when the
        candidates had them, then ``method``, ``target_share`` and ``reached`` of the gap; ``district`` is ``""``
        for city-wide gaps.  Empty (with those columns) when no gap has a site.
    """
    frames = []
    for gap in gaps:
        sites = pd.DataFrame(getattr(gap, "sites", None))
        if not len(sites):
            continue
        circle, district = _gap_key(gap)
        sites = sites.copy()
        sites["circle"] = sites["circle"] if "circle" in sites else circle
        sites["district"] = district
        sites["method"] = getattr(gap, "method", "")
        sites["target_share"] = getattr(gap, "target_share", float("nan"))
        sites["reached"] = bool(getattr(gap, "reached", False))
        frames.append(sites)
    tail = ["method", "target_share", "reached"]
    if not frames:
        return pd.DataFrame(columns=list(GAP_COLUMNS) + tail)
    out = pd.concat(frames, ignore_index=True)
    for col in GAP_COLUMNS:
        if col not in out:
            out[col] = float("nan")
    rest = [c for c in out.columns if c not in GAP_COLUMNS and c not in tail]
    return out[list(GAP_COLUMNS) + rest + tail]


def gap_summary(gaps: Sequence[Any], result: Any, lang: str) -> pd.DataFrame:
    """One row per gap: circle (in words), scope, share now, target, the sites needed or the best share.

    Parameters
    ----------
    gaps : sequence
        Gap-site results.
    result : CoverageResult
        For the circles' names.
    lang : {"zh", "en"}
        Language of the words.

    Returns
    -------
    DataFrame
        Columns ``circle, scope, before, target, n_sites, after`` (the share with the sites), ``best`` (the best
        share reachable with every candidate), ``method, verdict, note`` (text, ready to show).
    """
    words = REPORT_TEXT[check_lang(lang)]
    rows = []
    for gap in gaps:
        circle, district = _gap_key(gap)
        sites = pd.DataFrame(getattr(gap, "sites", None))
        method = str(getattr(gap, "method", ""))
        reached = bool(getattr(gap, "reached", False))
        after = sites["share_after"].iloc[-1] if len(sites) and "share_after" in sites else None
        rows.append({
            "circle": circle_words(result, circle, lang), "scope": district or words["city"],
            "before": fmt_share(getattr(gap, "share_before", None)),
            "target": fmt_share(getattr(gap, "target_share", None)),
            "n_sites": str(len(sites)), "after": fmt_share(after),
            "best": fmt_share(getattr(gap, "best_share", None)),
            "method": words.get(f"method_{method}", method),
            "verdict": words["reached"] if reached else words["unreachable"],
            "note": str(getattr(gap, "note", "") or ""),
        })
    return pd.DataFrame(rows, columns=GAP_SUMMARY_COLUMNS)


#: Columns of :func:`gap_summary`.
GAP_SUMMARY_COLUMNS = ["circle", "scope", "before", "target", "n_sites", "after", "best", "method", "verdict", "note"]


def gap_summary_shown(summary: pd.DataFrame, lang: str) -> pd.DataFrame:
    """:func:`gap_summary` with headers in ``lang``.

    Parameters
    ----------
    summary : DataFrame
        From :func:`gap_summary`.
    lang : {"zh", "en"}
        Language.

    Returns
    -------
    DataFrame
    """
    words = REPORT_TEXT[check_lang(lang)]
    return summary.rename(columns={"circle": words["circle"], "scope": words["scope"], "before": words["before"],
                                   "target": words["target"], "n_sites": words["n_sites"],
                                   "after": words["with_sites"], "best": words["best"], "method": words["method"],
                                   "verdict": words["verdict"], "note": words["notes"]})


def circle_words(result: Any, circle_id: str, lang: str) -> str:
    """A circle's name in ``lang``, or its id when the result's policy does not know it.

    Parameters
    ----------
    result : CoverageResult
        The analysis.
    circle_id : str
        Circle id.
    lang : {"zh", "en"}
        Language.

    Returns
    -------
    str
    """
    try:
        return circle_label(result.circle(circle_id), lang)
    except Exception:  # a circle the result does not know: its id
        return circle_id


def _scopes(targets: pd.DataFrame) -> list[tuple[str, str]]:
    """The columns of the traffic-light table: ``("city", "")`` first, then each district in order."""
    keys = list(dict.fromkeys(zip(targets["scope"].astype(str), targets["district"].astype(str))))
    city = [k for k in keys if k[0] == "city"]
    return (city or [("city", "")]) + [k for k in keys if k[0] != "city"]


def traffic_light(targets: pd.DataFrame, lang: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The targets × (city, districts) table: ``(cells, statuses)``, both indexed by target id.

    Parameters
    ----------
    targets : DataFrame
        From :func:`circles.targets.evaluate_targets`.
    lang : {"zh", "en"}
        Language of the words.

    Returns
    -------
    (DataFrame, DataFrame)
        ``cells``: columns ``clause``, ``target`` then one per scope (city first), each cell the verdict in
        words and the value (``"未达标 · 25%"``), ``""`` where the target has no row for that scope;
        ``statuses``: the verdict per scope cell (``"met"`` / ``"not met"`` / ``"no data"`` / ``""``).
    """
    words = REPORT_TEXT[check_lang(lang)]
    t = targets_table(targets)
    scopes = _scopes(t)
    names = [words["city"] if s == "city" else (d or s) for s, d in scopes]
    ids = list(dict.fromkeys(t["target_id"].astype(str)))
    cells = pd.DataFrame("", index=ids, columns=["clause", "target", *names], dtype=object)
    statuses = pd.DataFrame("", index=ids, columns=names, dtype=object)
    for row in t.itertuples(index=False):
        tid = str(row.target_id)
        clause = row.clause_zh if lang == "zh" and not is_missing(row.clause_zh) and row.clause_zh else row.clause_en
        if not cells.at[tid, "clause"]:
            cells.at[tid, "clause"] = "" if is_missing(clause) else str(clause)
            cells.at[tid, "target"] = format_value(row.target, row.unit)
        key = (str(row.scope), str(row.district))
        if key not in scopes:
            continue
        name = names[scopes.index(key)]
        status = str(row.status)
        shown = format_value(row.value, row.unit, short=True)
        cells.at[tid, name] = status_text(status, lang) + ("" if shown == "–" else f" · {shown}")
        statuses.at[tid, name] = status
    return cells, statuses


def data_quality_table(result: Any, lang: str) -> pd.DataFrame:
    """``result.data_quality["inputs"]`` with headers, categories and likely causes in ``lang``.

    Parameters
    ----------
    result : CoverageResult
        The analysis.
    lang : {"zh", "en"}
        Language.

    Returns
    -------
    DataFrame
        Empty when the result has no inputs table.
    """
    words = REPORT_TEXT[check_lang(lang)]
    dq = (getattr(result, "data_quality", None) or {}).get("inputs")
    if dq is None or not len(dq):
        return pd.DataFrame()
    cols = [c for c in ("input", "category", "total", "inside", "outside", "off_network", "nearest_outside_m",
                        "likely_cause") if c in dq.columns]
    out = pd.DataFrame(dq[cols]).copy().astype(object)
    if "input" in out:
        out["input"] = [MAP_TEXT[lang]["inputs"].get(str(v), str(v)) for v in out["input"]]
    if "category" in out:
        out["category"] = [MAP_TEXT[lang]["all_row"] if c == "all" else category_label(str(c), lang)
                           for c in out["category"]]
    if "nearest_outside_m" in out:
        out["nearest_outside_m"] = ["" if is_missing(v) else f"{float(v):,.0f}" for v in out["nearest_outside_m"]]
    if "likely_cause" in out:
        out["likely_cause"] = ["" if is_missing(v) else (cause_zh(v) if lang == "zh" else str(v))
                               for v in out["likely_cause"]]
    out = out.where(out.notna(), "")
    return out.rename(columns={c: words.get(c, c) for c in out.columns})


def sources_list(result: Any) -> list[str]:
    """The policy document and the data attributions the result needs.

    Parameters
    ----------
    result : CoverageResult
        The analysis.

    Returns
    -------
    list of str
    """
    from circles.outputs.coverage_map import map_attribution

    policy = getattr(result, "policy", None)
    out = [str(getattr(policy, "source", "") or getattr(policy, "name", "") or "")]
    source = getattr(getattr(result, "options", None), "population_source", None)
    if source:
        out.append(f"population: {source}")
    out += map_attribution(result)
    return [s for s in out if s]


def assumption_lines(result: Any, target_share: float | None, lang: str) -> list[tuple[str, str]]:
    """``(item, assumption)`` pairs: the formed-circle share, then the run's assumptions table.

    Parameters
    ----------
    result : CoverageResult
        The analysis.
    target_share : float, optional
        The share of a circle's people that makes it formed (stated first when given).
    lang : {"zh", "en"}
        Language of the first line (the run's assumptions are bilingual already).

    Returns
    -------
    list of (str, str)
    """
    from circles.outputs.files import assumptions_table

    words = REPORT_TEXT[check_lang(lang)]
    lines = []
    if target_share is not None and not is_missing(target_share):
        lines.append(("形成服务圈 / formed circle", words["formed"].format(share=fmt_share(target_share))))
    try:
        table = assumptions_table(result)
    except Exception as exc:  # a partial result (tests, a hand-built result): say so, do not fail the report
        log.warning("report: assumptions table not available (%s)", exc)
        return lines
    return lines + [(str(r.item), str(r.assumption)) for r in table.itertuples(index=False)]


def circle_figures(result: Any, lang: str, *, dpi: int = 110) -> dict[str, bytes | str]:
    """The static PNG of each circle (:func:`circles.outputs.figures.coverage_figure`), as bytes.

    Parameters
    ----------
    result : CoverageResult
        The analysis.
    lang : {"zh", "en"}
        Language of the figures.
    dpi : int
        Resolution.

    Returns
    -------
    dict of str to bytes or str
        Per circle id, the PNG bytes, or the reason it could not be drawn (a ``str``).
    """
    from circles.outputs.figures import coverage_figure

    out: dict[str, bytes | str] = {}
    with tempfile.TemporaryDirectory(prefix="circles-report-") as tmp:
        for circle in result.policy.circles:
            try:
                path = coverage_figure(result, circle.id, Path(tmp) / f"{circle.id}.png", lang=lang, dpi=dpi)
                out[circle.id] = path.read_bytes()
            except Exception as exc:  # one figure failing must not lose the report; the page says why
                log.warning("report: figure of %s not drawn: %s", circle.id, exc)
                out[circle.id] = str(exc)
    return out


def sites_frame(sites: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The sites of one gap as text columns in ``lang``, in the frame's order (coordinates to 6 decimals).

    Parameters
    ----------
    sites : DataFrame
        A gap's ``sites``.
    lang : {"zh", "en"}
        Language of the headers and categories.

    Returns
    -------
    DataFrame
        Text, ready to show.
    """
    words = REPORT_TEXT[lang]
    out = pd.DataFrame(index=sites.index)
    if "rank" not in sites:
        out[words["rank"]] = [str(i) for i in range(1, len(sites) + 1)]
    for col in sites.columns:
        if col in ("circle", "district", "method", "target_share", "reached"):
            continue
        values = sites[col]
        if col == "newly_covered":
            text = [fmt_people(v) for v in values]
        elif col == "share_after":
            text = [fmt_share(v) for v in values]
        elif col == "category":
            text = ["" if is_missing(v) else category_label(str(v), lang) for v in values]
        elif col.startswith(("lon", "lat", "x_", "y_")) or col in ("x", "y"):
            text = ["" if is_missing(v) else f"{float(v):.6f}" for v in values]
        else:
            text = ["" if is_missing(v) else (f"{v:,.2f}" if isinstance(v, float) else str(v)) for v in values]
        out[words.get(_SITE_WORDS.get(col, ""), col)] = text
    return out


#: Site columns shown under a word of REPORT_TEXT.
_SITE_WORDS = {"rank": "rank", "lon": "lon", "lat": "lat", "newly_covered": "newly", "share_after": "after",
               "candidate_id": "candidate", "name": "name", "category": "category", "site_district": "site_district"}
