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
figures are inline PNGs).  ``report.pdf`` (:mod:`circles.outputs.report_pdf`) shows the same content; what
both show is built in :mod:`circles.outputs.report_tables`.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from circles.outputs.atomic import write_csv_atomic, write_text_atomic
from circles.outputs.maptext import check_lang
from circles.outputs.report_tables import (
    GAP_COLUMNS,
    GAP_SUMMARY_COLUMNS,
    MAX_SITE_ROWS,
    NO_DATA_CELL_CSS,
    REPORT_TEXT,
    STATUS_COLOURS_REPORT,
    TARGET_COLUMNS,
    VERDICTS,
    assumption_lines,
    circle_figures,
    circle_words,
    data_quality_table,
    format_value,
    gap_sites_table,
    gap_summary,
    gap_summary_shown,
    is_missing,
    sites_frame,
    sources_list,
    status_text,
    target_notes,
    targets_table,
    traffic_light,
)

__all__ = ["REPORT_TEXT", "TARGET_COLUMNS", "GAP_COLUMNS", "GAP_SUMMARY_COLUMNS", "STATUS_COLOURS_REPORT",
           "VERDICTS", "MAX_SITE_ROWS", "targets_table", "gap_sites_table", "gap_summary", "gap_summary_shown",
           "traffic_light", "data_quality_table", "sources_list", "assumption_lines", "status_text", "format_value",
           "circle_figures", "report_html", "write_report_files"]


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
        cells = "".join(f'<td{" class=num" if col in numeric else ""}>{html.escape("" if is_missing(v) else str(v))}'
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
    notes = target_notes(targets, lang)
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
        parts.append(_frame_html(sites_frame(sites.head(MAX_SITE_ROWS), lang),
                                 numeric=(words["rank"], words["lon"], words["lat"], words["newly"], words["after"])))
        if len(sites) > MAX_SITE_ROWS:
            parts.append(f"<p class=note>{html.escape(words['more_rows'].format(n=len(sites) - MAX_SITE_ROWS))}</p>")
    return "".join(parts)


def _figures_html(result: Any, figures: dict[str, bytes | str], lang: str) -> str:
    words = REPORT_TEXT[lang]
    parts = []
    for circle in result.policy.circles:
        png = figures.get(circle.id)
        label = html.escape(circle_words(result, circle.id, lang))
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
