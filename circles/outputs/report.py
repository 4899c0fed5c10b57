"""The policy report card: ``targets.csv``, ``gap_sites.csv``, ``report.html`` (and ``report.pdf``).

The writers take what was computed and write it; they compute nothing:

- ``targets`` — the frame of :func:`circles.targets.evaluate_targets` (one row per target and scope,
  ``status`` met / not met / no data);
- ``gaps`` — a list of gap-site results (:func:`circles.scoring.gaps.gap_sites`), each with ``sites``,
  ``method``, ``reached``, ``share_before``, ``best_share`` and ``note``, and, when the caller knows them,
  ``circle``, ``district`` and ``target_share`` (:class:`circles.report.CircleGap` carries all of them);
- the :class:`~circles.coverage.CoverageResult` they came from (its policy, data quality, assumptions and the
  static figure of each circle).

``report.html`` is one self-contained page: no script, no font and no image is fetched from anywhere (the
figures are inline PNGs).  ``report.pdf`` (:mod:`circles.outputs.report_pdf`) shows the same content.
"""

from __future__ import annotations

import base64
import html
import logging
import os
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from circles.outputs.atomic import write_csv_atomic, write_text_atomic
from circles.outputs.maptext import TEXT as MAP_TEXT
from circles.outputs.maptext import cause_zh, check_lang, circle_label, fmt_people, fmt_share
from circles.outputs.palette import STATUS_COLOURS, category_label

__all__ = ["REPORT_TEXT", "TARGET_COLUMNS", "GAP_COLUMNS", "STATUS_COLOURS_REPORT", "targets_table",
           "gap_sites_table", "gap_summary", "traffic_light", "data_quality_table", "status_text",
           "format_value", "circle_figures", "gap_summary_shown", "GAP_SUMMARY_COLUMNS", "report_html", "write_report_files"]

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


def _missing(v: Any) -> bool:
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
    if _missing(value):
        return "–"
    unit = "" if _missing(unit) else str(unit).strip()
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


def _gap_key(gap: Any) -> tuple[str, str]:
    """``(circle, district)`` of a gap: its own attributes, else its sites' first row (``""`` = city-wide)."""
    sites = getattr(gap, "sites", None)
    first = sites.iloc[0] if sites is not None and len(sites) else {}
    circle = getattr(gap, "circle", None) or (first.get("circle", "") if len(first) else "")
    district = getattr(gap, "district", None)
    if district is None:
        district = first.get("district", "") if len(first) else ""
    return str(circle or ""), "" if _missing(district) else str(district)


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
            "circle": _circle_words(result, circle, lang), "scope": district or words["city"],
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


def _circle_words(result: Any, circle_id: str, lang: str) -> str:
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
        clause = row.clause_zh if lang == "zh" and not _missing(row.clause_zh) and row.clause_zh else row.clause_en
        if not cells.at[tid, "clause"]:
            cells.at[tid, "clause"] = "" if _missing(clause) else str(clause)
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
        out["nearest_outside_m"] = ["" if _missing(v) else f"{float(v):,.0f}" for v in out["nearest_outside_m"]]
    if "likely_cause" in out:
        out["likely_cause"] = ["" if _missing(v) else (cause_zh(v) if lang == "zh" else str(v))
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
    if target_share is not None and not _missing(target_share):
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


_CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",sans-serif;margin:24px;
color:#222;max-width:1200px}
h1{margin:0 0 4px}h2{margin-top:28px;border-bottom:2px solid #ddd;padding-bottom:4px}
.meta{color:#555;font-size:13px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left}
th{background:#f2f2f2}
td.v{text-align:center;font-weight:600;white-space:nowrap}
td.num{text-align:right;white-space:nowrap}
td.clause{max-width:420px}
.tid{color:#666;font-size:11px;font-family:monospace}
.legend span{display:inline-block;padding:2px 8px;margin-right:6px;border-radius:3px;font-size:12px}
figure{margin:12px 0}figure img{max-width:100%;border:1px solid #ddd}
.note{color:#555;font-size:12px}.na{color:#bbb;font-weight:400}
"""


def _cell_style(status: str) -> str:
    if status not in STATUS_COLOURS_REPORT:
        return ""
    back, fore = STATUS_COLOURS_REPORT[status]
    background = NO_DATA_CELL_CSS if status == "no data" else back
    return f' style="background:{background};color:{fore}"'


def _frame_html(frame: pd.DataFrame, *, numeric: Sequence[str] = ()) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = "".join(f'<td{" class=num" if col in numeric else ""}>{html.escape("" if _missing(v) else str(v))}'
                        f"</td>" for col, v in zip(frame.columns, row))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _targets_html(targets: pd.DataFrame, lang: str) -> str:
    words = REPORT_TEXT[lang]
    cells, statuses = traffic_light(targets, lang)
    scope_cols = list(statuses.columns)
    head = (f"<th>{words['target']}</th><th>{words['figure']}</th>"
            + "".join(f"<th>{html.escape(c)}</th>" for c in scope_cols))
    rows = []
    for tid in cells.index:
        label = (f'<td class="clause">{html.escape(cells.at[tid, "clause"])}<br>'
                 f'<span class="tid">{html.escape(tid)}</span></td>')
        target = f'<td class="num">{html.escape(cells.at[tid, "target"])}</td>'
        scope_cells = "".join(
            f'<td class="v" data-status="{html.escape(statuses.at[tid, c])}"{_cell_style(statuses.at[tid, c])}>'
            f"{html.escape(cells.at[tid, c]) or '<span class=na>–</span>'}</td>" for c in scope_cols)
        rows.append(f"<tr>{label}{target}{scope_cells}</tr>")
    legend = "".join(f"<span{_cell_style(v)}>{html.escape(words[v])}</span>" for v in VERDICTS)
    notes = targets_table(targets)
    notes = notes[notes["note"].astype(str).str.strip().ne("") & notes["note"].notna()]
    note_items = "".join(
        f"<li><span class=tid>{html.escape(str(r.target_id))}</span> "
        f"{html.escape(r.district or words['city'])}: {html.escape(str(r.note))}</li>"
        for r in notes.itertuples(index=False))
    return (f'<p class="legend">{words["legend"]}: {legend}</p>'
            f'<table id="targets"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
            f'<p class="note">{html.escape(words["data_notes"])}</p>'
            + (f"<h3>{words['notes']}</h3><ul class=note>{note_items}</ul>" if note_items else ""))


def _gaps_html(gaps: Sequence[Any], result: Any, lang: str) -> str:
    words = REPORT_TEXT[lang]
    if not gaps:
        return f"<p>{html.escape(words['no_gaps'])}</p>"
    summary = gap_summary(gaps, result, lang)
    shown = gap_summary_shown(summary, lang)
    parts = [_frame_html(shown, numeric=(words["before"], words["target"], words["n_sites"], words["with_sites"],
                                         words["best"]))]
    for gap, row in zip(gaps, summary.itertuples(index=False)):
        sites = pd.DataFrame(getattr(gap, "sites", None))
        parts.append(f"<h3>{html.escape(row.circle)} — {html.escape(row.scope)}</h3>")
        if not len(sites):
            parts.append(f"<p class=note>{html.escape(words['no_sites'])}</p>")
            continue
        parts.append(_frame_html(_sites_frame(sites.head(MAX_SITE_ROWS), lang),
                                 numeric=(words["rank"], words["lon"], words["lat"], words["newly"], words["after"])))
        if len(sites) > MAX_SITE_ROWS:
            parts.append(f"<p class=note>{html.escape(words['more_rows'].format(n=len(sites) - MAX_SITE_ROWS))}</p>")
    return "".join(parts)


def _sites_frame(sites: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The sites of one gap as text columns in ``lang``, in the frame's order (coordinates to 6 decimals)."""
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
            text = ["" if _missing(v) else category_label(str(v), lang) for v in values]
        elif col.startswith(("lon", "lat", "x_", "y_")) or col in ("x", "y"):
            text = ["" if _missing(v) else f"{float(v):.6f}" for v in values]
        else:
            text = ["" if _missing(v) else (f"{v:,.2f}" if isinstance(v, float) else str(v)) for v in values]
        out[words.get(_SITE_WORDS.get(col, ""), col)] = text
    return out


#: Site columns shown under a word of REPORT_TEXT.
_SITE_WORDS = {"rank": "rank", "lon": "lon", "lat": "lat", "newly_covered": "newly", "share_after": "after",
               "candidate_id": "candidate", "name": "name", "category": "category", "site_district": "site_district"}


def _figures_html(result: Any, figures: dict[str, bytes | str], lang: str) -> str:
    words = REPORT_TEXT[lang]
    parts = []
    for circle in result.policy.circles:
        png = figures.get(circle.id)
        label = html.escape(_circle_words(result, circle.id, lang))
        if isinstance(png, bytes):
            data = base64.b64encode(png).decode("ascii")
            parts.append(f'<figure><img alt="{label}" src="data:image/png;base64,{data}"></figure>')
        elif png is not None:
            parts.append(f"<p class=note>{label}: {html.escape(words['figure_missing'].format(why=png))}</p>")
    return "".join(parts)


def report_html(result: Any, targets: pd.DataFrame, gaps: Sequence[Any], *, lang: str = "zh",
                target_share: float | None = None, figures: dict[str, bytes | str] | None = None) -> str:
    """The report card as one self-contained, offline HTML page.

    Parameters
    ----------
    result : CoverageResult
        The analysis the targets were evaluated on.
    targets : DataFrame
        From :func:`circles.targets.evaluate_targets`.
    gaps : sequence
        Gap-site results, one per circle and scope below its target.
    lang : {"zh", "en"}
        Language of the page.
    target_share : float, optional
        The formed-circle share the targets used (stated in the assumptions).
    figures : dict, optional
        PNG bytes per circle id (default: drawn with :func:`circle_figures`).

    Returns
    -------
    str
        The page: inline CSS, figures as ``data:`` PNGs, no script and nothing fetched.
    """
    lang = check_lang(lang)
    words = REPORT_TEXT[lang]
    figures = circle_figures(result, lang) if figures is None else figures
    policy = result.policy
    assumptions = pd.DataFrame(assumption_lines(result, target_share, lang), columns=[words["item"],
                                                                                      words["assumption"]])
    dq = data_quality_table(result, lang)
    sources = "".join(f"<li>{html.escape(s)}</li>" for s in sources_list(result))
    title = f"{words['title']} — {policy.name}"
    return (
        f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(words['title'])}</h1>"
        f'<p class="meta">{words["policy"]}: {html.escape(policy.name)} · {words["generated"]}: '
        f"{date.today().isoformat()}</p>"
        f'<h2 id="h-targets">{words["targets"]}</h2>{_targets_html(targets, lang)}'
        f'<h2 id="h-gaps">{words["gaps"]}</h2>{_gaps_html(gaps, result, lang)}'
        f'<h2 id="h-maps">{words["maps"]}</h2>{_figures_html(result, figures, lang)}'
        f'<h2 id="h-dq">{words["data_quality"]}</h2>'
        f'{_frame_html(dq) if len(dq) else "<p>–</p>"}'
        f'<h2 id="h-assumptions">{words["assumptions"]}</h2>{_frame_html(assumptions)}'
        f'<h2 id="h-sources">{words["sources"]}</h2><ul>{sources}</ul>'
        "</body></html>")


def write_report_files(result: Any, targets: pd.DataFrame, gaps: Sequence[Any], out_dir: str | os.PathLike, *,
                       lang: str = "zh", target_share: float | None = None, pdf: bool = True) -> dict[str, Path]:
    """Write ``targets.csv``, ``gap_sites.csv``, ``report.html`` and ``report.pdf`` into ``out_dir``.

    Every file is written atomically (a crash never leaves half a file).

    Parameters
    ----------
    result : CoverageResult
        The analysis.
    targets : DataFrame
        From :func:`circles.targets.evaluate_targets`.
    gaps : sequence
        Gap-site results.
    out_dir : path-like
        Folder (created when missing).
    lang : {"zh", "en"}
        Language of the HTML and PDF (the CSV files carry both clauses).
    target_share : float, optional
        The formed-circle share used (stated in the assumptions).
    pdf : bool, default True
        Also write ``report.pdf``.

    Returns
    -------
    dict of str to Path
        The files written, by kind (``targets``, ``gap_sites``, ``html``, ``pdf``).
    """
    lang = check_lang(lang)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = {"targets": write_csv_atomic(targets_table(targets), out / "targets.csv", round_numbers=False),
               "gap_sites": write_csv_atomic(gap_sites_table(gaps), out / "gap_sites.csv")}
    figures = circle_figures(result, lang)
    page = report_html(result, targets, gaps, lang=lang, target_share=target_share, figures=figures)
    written["html"] = write_text_atomic(out / "report.html", page)
    if pdf:
        from circles.outputs.report_pdf import report_pdf

        written["pdf"] = report_pdf(result, targets, gaps, out / "report.pdf", lang=lang,
                                    target_share=target_share, figures=figures)
    return written

