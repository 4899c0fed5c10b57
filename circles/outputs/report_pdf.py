"""``report.pdf``: the report card of :mod:`circles.outputs.report` on A4 pages, drawn with matplotlib.

No system library is needed (no browser, no Cairo/Pango): the tables are matplotlib tables, the maps the same
PNG figures the HTML page shows.  Chinese needs a CJK font (``fonts-noto-cjk``,
:func:`circles.outputs.figures.find_cjk_font`); without one the words of the report are English, the first
page says so and a warning is logged (names from the data, such as district names, may then show as boxes).
"""

from __future__ import annotations

import io
import logging
import os
import warnings
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from circles.outputs.atomic import atomic_path, text_width
from circles.outputs.figures import find_cjk_font
from circles.outputs.maptext import check_lang
from circles.outputs.report_tables import (
    MAX_SITE_ROWS,
    REPORT_TEXT,
    STATUS_COLOURS_REPORT,
    VERDICTS,
    assumption_lines,
    circle_figures,
    data_quality_table,
    gap_summary,
    gap_summary_shown,
    sites_frame,
    sources_list,
    target_notes,
    traffic_light,
)

__all__ = ["report_pdf", "NO_CJK_FONT_NOTE", "wrap", "auto_widths"]

log = logging.getLogger(__name__)

#: A4 landscape, inches.
PAGE_SIZE = (11.69, 8.27)
#: Text lines a table page holds, columns of text across a page (font size 8.5).
LINES_PER_PAGE = 34
PAGE_COLUMNS = 150
FONT_SIZE = 8.5
#: Space below the text of a table row, in lines.
ROW_PAD = 0.6
#: Said on the first page (and logged) when Chinese was asked for and no CJK font is installed.
NO_CJK_FONT_NOTE = ("No CJK font was found (install fonts-noto-cjk): this PDF is in English; Chinese names from "
                    "the data may show as boxes. report.html shows them in any browser.")


def wrap(text: Any, width: int) -> str:
    r"""``text`` broken into lines of at most ``width`` columns (a Chinese character is two columns).

    Parameters
    ----------
    text : object
        The text (``str()`` of it).
    width : int
        Columns per line.

    Returns
    -------
    str
        The lines joined by ``\n``; words are kept whole where a space allows.

    Examples
    --------
    >>> wrap("a bb ccc dddd", 6)
    'a bb\nccc\ndddd'
    >>> wrap("医疗急救圈达标", 6)
    '医疗急\n救圈达\n标'
    """
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        line = ""
        for token in _tokens(paragraph):
            if line and text_width(line + token) > width:
                lines.append(line.rstrip())
                line = token.lstrip()
            else:
                line += token
            while text_width(line) > width:  # one token longer than a line
                cut = _cut(line, width)
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line.rstrip())
    return "\n".join(lines)


def _tokens(text: str) -> list[str]:
    """Words with their leading space; each wide (CJK) character is a token of its own."""
    tokens: list[str] = []
    for ch in text:
        if text_width(ch) == 2 or not tokens or ch == " " or text_width(tokens[-1][-1]) == 2:
            tokens.append(ch)
        else:
            tokens[-1] += ch
    return tokens


def _cut(line: str, width: int) -> int:
    used = 0
    for i, ch in enumerate(line):
        used += text_width(ch)
        if used > width:
            return max(i, 1)
    return len(line)


def _new_page(pdf, title: str, subtitle: str = ""):
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=PAGE_SIZE)
    fig.text(0.04, 0.955, title, fontsize=15, weight="bold", va="top")
    if subtitle:
        fig.text(0.04, 0.915, subtitle, fontsize=8.5, va="top", color="#444444")
    return fig


def _save(pdf, fig) -> None:
    import matplotlib.pyplot as plt

    pdf.savefig(fig)
    plt.close(fig)


def _table_pages(pdf, title: str, frame: pd.DataFrame, *, widths: Sequence[int], colours: pd.DataFrame | None = None,
                 subtitle: str = "", first_top: float = 0.87, decorate: Callable[[Any], None] | None = None) -> None:
    """``frame`` (text) as table pages; ``widths`` are columns of text per column; ``colours`` per cell status."""
    header = [wrap(c, w) for c, w in zip(frame.columns, widths)]
    rows = [[wrap(v, w) for v, w in zip(row, widths)] for row in frame.itertuples(index=False)]
    statuses = colours.to_numpy().tolist() if colours is not None else [[""] * len(widths) for _ in rows]
    chunks: list[list[int]] = [[]]
    head = max(c.count("\n") + 1 for c in header) + ROW_PAD
    used = head
    for i, row in enumerate(rows):  # a page holds LINES_PER_PAGE + 3 lines, a row its lines and a pad
        n = max(r.count("\n") + 1 for r in row) + ROW_PAD
        if chunks[-1] and used + n > LINES_PER_PAGE + 3:
            chunks.append([])
            used = head
        chunks[-1].append(i)
        used += n
    total_w = float(sum(widths))
    for page, chunk in enumerate(chunks):
        fig = _new_page(pdf, title if page == 0 else f"{title} ({page + 1})", subtitle if page == 0 else "")
        if page == 0 and decorate is not None:
            decorate(fig)
        top = first_top if page == 0 else 0.89
        line_h = (top - 0.04) / (LINES_PER_PAGE + 3)
        ax = fig.add_axes((0.04, 0.04, 0.92 * min(1.0, total_w / PAGE_COLUMNS), top - 0.04))
        ax.axis("off")
        y = 1.0
        for cells, status in [(header, None)] + [(rows[i], statuses[i]) for i in chunk]:
            n = max(c.count("\n") + 1 for c in cells)
            h = (n + ROW_PAD) * line_h / (top - 0.04)
            x = 0.0
            for j, (text, w) in enumerate(zip(cells, widths)):
                face, fore = ("#f2f2f2", "#111111") if status is None else STATUS_COLOURS_REPORT.get(
                    status[j] if j < len(status) else "", ("#ffffff", "#111111"))
                ax.add_patch(_rect(x, y - h, w / total_w, h, face))
                ax.text(x + 0.004, y - 0.3 * line_h / (top - 0.04), text, fontsize=FONT_SIZE, va="top", ha="left",
                        color=fore, weight="bold" if status is None else "normal")
                x += w / total_w
            y -= h
        _save(pdf, fig)


def auto_widths(frame: pd.DataFrame, *, total: int = PAGE_COLUMNS, most: int = 60) -> list[int]:
    """Columns of text per column of ``frame``: its widest cell (at most ``most``), scaled to fit ``total``.

    Parameters
    ----------
    frame : DataFrame
        Text to show.
    total : int
        Columns of text a page holds.
    most : int
        Widest column before wrapping.

    Returns
    -------
    list of int
    """
    natural = [min(most, max([text_width(str(c)) for c in [col, *frame[col].tolist()]] + [4]) + 1)
               for col in frame.columns]
    scale = min(1.0, total / max(sum(natural), 1))
    return [max(4, int(w * scale)) for w in natural]


def _rect(x: float, y: float, w: float, h: float, face: str):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor=face, edgecolor="#bbbbbb", linewidth=0.5)


def _targets_pages(pdf, targets: pd.DataFrame, lang: str, title: str, subtitle: str) -> None:
    words = REPORT_TEXT[lang]
    cells, statuses = traffic_light(targets, lang)
    frame = cells.copy()
    frame.insert(0, words["target_id"], frame.index)
    frame = frame.rename(columns={"clause": words["clause"], "target": words["target"]})
    colours = pd.DataFrame("", index=statuses.index, columns=frame.columns)
    for col in statuses.columns:
        colours[col] = statuses[col]
    n_scopes = len(statuses.columns)
    scope_w = max(10, min(16, 100 // max(n_scopes, 1)))
    widths = [18, max(30, PAGE_COLUMNS - 18 - 22 - scope_w * n_scopes), 22] + [scope_w] * n_scopes

    def legend(fig) -> None:  # the three verdicts in their colours, and what "no data" means
        fig.text(0.04, 0.872, f"{words['legend']}:", fontsize=FONT_SIZE, va="center")
        x = 0.085
        for verdict in VERDICTS:
            face, fore = STATUS_COLOURS_REPORT[verdict]
            fig.text(x, 0.872, f" {words[verdict]} ", fontsize=FONT_SIZE, va="center", color=fore,
                     bbox={"facecolor": face, "edgecolor": "none", "boxstyle": "round,pad=0.25"})
            x += 0.012 + 0.0075 * text_width(words[verdict])
        fig.text(x + 0.01, 0.872, words["data_notes"], fontsize=FONT_SIZE - 0.5, va="center", color="#444444")

    _table_pages(pdf, title, frame, widths=widths, colours=colours, subtitle=subtitle, first_top=0.84,
                 decorate=legend)


def _note_pages(pdf, targets: pd.DataFrame, lang: str) -> None:
    """How each target was measured, or what it lacks: the notes in the report's language."""
    words = REPORT_TEXT[lang]
    notes = target_notes(targets, lang)
    if not len(notes):
        return
    frame = pd.DataFrame({words["target_id"]: notes["target_id"].astype(str),
                          words["scope"]: [d or words["city"] for d in notes["district"].astype(str)],
                          words["notes"]: notes["note"].astype(str)})
    _table_pages(pdf, words["notes"], frame, widths=[24, 14, PAGE_COLUMNS - 38])


def _gap_pages(pdf, gaps: Sequence[Any], result: Any, lang: str) -> None:
    words = REPORT_TEXT[lang]
    summary = gap_summary(gaps, result, lang)
    if not len(summary):
        fig = _new_page(pdf, words["gaps"])
        fig.text(0.04, 0.85, wrap(words["no_gaps"], 150), fontsize=10, va="top")
        _save(pdf, fig)
        return
    shown = gap_summary_shown(summary, lang)
    _table_pages(pdf, words["gaps"], shown, widths=[20, 10, 9, 7, 7, 9, 11, 18, 14, 45])
    frames, more = [], []
    for gap, row in zip(gaps, summary.itertuples(index=False)):
        sites = pd.DataFrame(getattr(gap, "sites", None))
        if not len(sites):
            continue
        frame = sites_frame(sites.head(MAX_SITE_ROWS), lang)
        frame.insert(0, words["scope"], f"{row.circle} — {row.scope}")
        frames.append(frame)
        if len(sites) > MAX_SITE_ROWS:
            more.append(f"{row.circle} — {row.scope}: {words['more_rows'].format(n=len(sites) - MAX_SITE_ROWS)}")
    if frames:
        table = pd.concat(frames, ignore_index=True).fillna("")
        _table_pages(pdf, words["sites"], table, widths=auto_widths(table), subtitle="\n".join(more))


def _figure_pages(pdf, result: Any, figures: dict[str, bytes | str], lang: str) -> None:
    import matplotlib.image as mpimg

    words = REPORT_TEXT[lang]
    for circle_id, png in figures.items():
        fig = _new_page(pdf, words["maps"])
        if isinstance(png, bytes):
            ax = fig.add_axes((0.04, 0.04, 0.92, 0.84))
            ax.imshow(mpimg.imread(io.BytesIO(png), format="png"))
            ax.axis("off")
        else:
            fig.text(0.04, 0.85, wrap(f"{circle_id}: {words['figure_missing'].format(why=png)}", 150), fontsize=10,
                     va="top")
        _save(pdf, fig)


def report_pdf(result: Any, targets: pd.DataFrame, gaps: Sequence[Any], path: str | os.PathLike, *,
               lang: str = "zh", target_share: float | None = None,
               figures: dict[str, bytes | str] | None = None) -> Path:
    """Write the report card to a PDF file (atomically): targets, gap sites, maps, data quality, assumptions, sources.

    Parameters
    ----------
    result : CoverageResult
        The analysis the targets were evaluated on.
    targets : DataFrame
        From :func:`circles.targets.evaluate_targets`.
    gaps : sequence
        Gap-site results, one per circle and scope below its target.
    path : path-like
        The ``.pdf`` to write.
    lang : {"zh", "en"}
        Language; ``"zh"`` without a CJK font falls back to English (:data:`NO_CJK_FONT_NOTE`).
    target_share : float, optional
        The formed-circle share the targets used (stated in the assumptions).
    figures : dict, optional
        PNG bytes per circle id (default: drawn with :func:`circles.outputs.report.circle_figures`).

    Returns
    -------
    Path
        The written file.
    """
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    lang = check_lang(lang)
    font = find_cjk_font()
    notice = ""
    if font is None:
        log.warning("report_pdf: %s", NO_CJK_FONT_NOTE)
        notice, lang = NO_CJK_FONT_NOTE, "en"
    figures = circle_figures(result, lang) if figures is None else figures
    words = REPORT_TEXT[lang]
    dest = Path(path)
    subtitle = f"{words['policy']}: {result.policy.name} · {words['generated']}: {date.today().isoformat()}"
    rc: dict[Any, Any] = {"font.family": [font, "DejaVu Sans"]} if font else {}
    with plt.rc_context(rc), atomic_path(dest) as tmp, warnings.catch_warnings():
        if notice:  # said once above; not once per missing glyph of a Chinese name in the data
            warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        with PdfPages(tmp, metadata={"Title": f"{words['title']} — {result.policy.name}"}) as pdf:
            _targets_pages(pdf, targets, lang, words["title"], subtitle + (f"\n{notice}" if notice else ""))
            _note_pages(pdf, targets, lang)
            _gap_pages(pdf, gaps, result, lang)
            _figure_pages(pdf, result, figures, lang)
            dq = data_quality_table(result, lang)
            if len(dq):
                _table_pages(pdf, words["data_quality"], dq, widths=auto_widths(dq, most=70))
            lines = pd.DataFrame(assumption_lines(result, target_share, lang),
                                 columns=[words["item"], words["assumption"]])
            _table_pages(pdf, words["assumptions"], lines, widths=[28, PAGE_COLUMNS - 28])
            _table_pages(pdf, words["sources"], pd.DataFrame({words["sources"]: sources_list(result)}),
                         widths=[PAGE_COLUMNS])
    return dest
