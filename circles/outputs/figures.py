"""Static coverage figures (PNG or PDF) for reports.

:func:`coverage_figure` draws one circle of a
:class:`~circles.coverage.CoverageResult` with matplotlib: neighbourhood units
coloured by status, the walk network, facilities by category, district
outlines, a legend, a scale bar and a north arrow.  Everything is plotted in
the network's projected (UTM) CRS so the scale bar is true in metres; UTM grid
north differs from true north by under 2° within a zone, so the arrow points
up.

Chinese titles and labels need a CJK font.  matplotlib's font list is searched
for one (``Noto Sans CJK SC`` — Debian package ``fonts-noto-cjk`` — then other
common ones); if none is installed the figure falls back to English labels
and logs a warning rather than drawing empty boxes.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from circles.errors import InputError
from circles.outputs.atomic import atomic_path
from circles.outputs.coverage_map import _metric_crs, map_attribution
from circles.outputs.maptext import TEXT, check_lang, circle_is_no_data, circle_label
from circles.outputs.palette import (
    CATEGORY_ICONS,
    NO_DATA_HATCH,
    NO_DATA_STRIPE,
    STATUS_COLOURS,
    STATUS_LABELS,
    STATUSES,
    category_colour,
    category_label,
)

__all__ = ["coverage_figure", "find_cjk_font"]

log = logging.getLogger(__name__)

#: CJK fonts tried in order (family names as matplotlib knows them).
CJK_FONTS: tuple[str, ...] = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
    "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC",
    "Heiti SC", "Noto Sans CJK JP", "Noto Sans CJK TC",
)
_FORMATS = {".png": "png", ".pdf": "pdf", ".svg": "svg"}
_MARKERS = {"grocery": "s", "primary_care": "P", "pharmacy": "p", "kindergarten": "v",
            "primary_school": "^", "middle_school": "D", "culture": "h", "sports": "o",
            "public_space": "*", "ambulance_station": "X", "elderly_care": "d"}

_WORDS = {
    "zh": {"covered": "覆盖率", "population": "人口", "facilities": "设施", "districts": "行政区界",
           "roads": "步行路网", "offnet": "路网外设施", "status": "单元状态"},
    "en": {"covered": "covered", "population": "population", "facilities": "facilities",
           "districts": "district border", "roads": "walk network", "offnet": "facility off the network",
           "status": "unit status"},
}


def find_cjk_font() -> str | None:
    """Family name of an installed font that can draw Chinese, or ``None``."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            return name
    for name in sorted(installed):  # any other CJK family
        if "CJK" in name and ("SC" in name or "CN" in name):
            return name
    return None


def _nice_length(span_m: float) -> float:
    """A round scale-bar length near a fifth of ``span_m`` (1, 2 or 5 × 10^k m)."""
    target = max(span_m / 5.0, 1.0)
    exp = 10 ** math.floor(math.log10(target))
    for step in (5, 2, 1):
        if step * exp <= target:
            return float(step * exp)
    return float(exp)


def _scale_bar(ax, length_m: float, *, lang: str) -> None:
    """A black-and-white bar with ``0`` and its length, on a white box in the bottom-left corner
    (the band below the units kept free by :func:`coverage_figure`), so no label sits on a unit.
    """
    from matplotlib.patches import Rectangle

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    height = (y1 - y0) * 0.012
    bx = x0 + (x1 - x0) * 0.04
    by = y0 + (y1 - y0) * 0.025
    half = length_m / 2
    label = f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:g} m"
    if lang == "zh":
        label = f"{length_m / 1000:g} 千米" if length_m >= 1000 else f"{length_m:g} 米"
    pad = (x1 - x0) * 0.012
    ax.add_patch(Rectangle((bx - pad, by - height), length_m + 2.5 * pad + (x1 - x0) * 0.03, height * 5.2,
                           facecolor="white", edgecolor="#999999", linewidth=0.5, alpha=0.9, zorder=9))
    ax.add_patch(_rect((bx, by), half, height, "black"))
    ax.add_patch(_rect((bx + half, by), half, height, "white"))
    for frac, text in ((0, "0"), (1, label)):
        ax.text(bx + frac * length_m, by + height * 1.6, text, ha="center", va="bottom", fontsize=8,
                zorder=11)


#: District borders: colour, width and dash pattern shared by the lines and their legend entry.
BORDER_COLOUR, BORDER_WIDTH, BORDER_DASH = "#333333", 1.4, (0, (6, 3))
#: Share of the units' height added below them, where the scale bar sits.
SCALE_BAND = 0.1


def _draw_borders(ax, districts) -> None:
    """District boundaries as one dashed line collection (the same dashes as the legend)."""
    import shapely
    from matplotlib.collections import LineCollection

    # a border two districts share is drawn once: two overlapping dashed copies out of phase look solid
    borders = [g for g in districts.geometry.boundary if g is not None and not g.is_empty]
    if not borders:
        return
    merged = shapely.line_merge(shapely.union_all(borders))
    lines = [np.asarray(part.coords)[:, :2] for part in shapely.get_parts(merged) if not part.is_empty]
    if lines:
        ax.add_collection(LineCollection(lines, colors=BORDER_COLOUR, linewidths=BORDER_WIDTH,
                                         linestyles=[BORDER_DASH], zorder=3))


def _rect(xy, w, h, face):
    from matplotlib.patches import Rectangle

    return Rectangle(xy, w, h, facecolor=face, edgecolor="black", linewidth=0.8, zorder=10)


def _north_arrow(ax) -> None:
    ax.annotate("N", xy=(0.95, 0.95), xytext=(0.95, 0.84), xycoords="axes fraction",
                textcoords="axes fraction", ha="center", va="center", fontsize=12, fontweight="bold",
                arrowprops=dict(facecolor="black", edgecolor="black", width=4, headwidth=12,
                                headlength=10), zorder=11)


def figure_title(result, circle_id: str, lang: str) -> str:
    """``"10分钟公共活动圈 — 覆盖率 25%"``; ``"医疗急救圈 — 无数据"`` for a no-data circle (never "0%")."""
    circle = result.circle(circle_id)
    name = circle_label(circle, lang)
    if circle_is_no_data(result, circle_id):
        return f"{name} — {TEXT[lang]['no_data']}"
    summary = getattr(result, "summary", None)
    if summary is not None and len(summary) and "circle" in summary:
        row = summary[summary["circle"] == circle_id]
        if len(row):
            share = row["covered_share"].iloc[0]
            if share is None or not np.isfinite(float(share)):
                return f"{name} — {TEXT[lang]['no_data']}"
            return f"{name} — {_WORDS[lang]['covered']} {100 * float(share):.0f}%"
    return name


def _credits(ax, result) -> None:
    """The data attribution (OSM ODbL, WorldPop CC BY 4.0) in the bottom-right corner."""
    credits = map_attribution(result)
    if credits:
        ax.text(0.995, 0.005, " · ".join(credits), transform=ax.transAxes, ha="right", va="bottom",
                fontsize=6, color="#444444", zorder=12,
                bbox=dict(facecolor="white", edgecolor="none", alpha=0.7, pad=1))


def _draw_units(ax, units, status) -> None:
    """Units filled by status; ``no_data`` grey with white hatching."""
    no_data = (status == "no_data").to_numpy()
    rest = units[~no_data]
    if len(rest):
        rest.plot(ax=ax, color=[STATUS_COLOURS.get(s, STATUS_COLOURS["empty"]) for s in status[~no_data]],
                  edgecolor="#555555", linewidth=0.3, alpha=0.7, zorder=2)
    if no_data.any():
        units[no_data].plot(ax=ax, facecolor=STATUS_COLOURS["no_data"], edgecolor=NO_DATA_STRIPE,
                            hatch=NO_DATA_HATCH, linewidth=0.0, alpha=0.85, zorder=2)
        outlines = units[no_data].boundary
        outlines = outlines[~outlines.is_empty]  # point units have no outline to draw
        if len(outlines):
            outlines.plot(ax=ax, color="#555555", linewidth=0.3, zorder=2)


def _status_patch(status: str, label: str):
    from matplotlib.patches import Patch

    if status == "no_data":
        return Patch(facecolor=STATUS_COLOURS["no_data"], edgecolor=NO_DATA_STRIPE, hatch=NO_DATA_HATCH,
                     label=label)
    return Patch(facecolor=STATUS_COLOURS[status], edgecolor="#555555", alpha=0.7, label=label)


def _draw_facilities(ax, result, circle, bounds, crs, lang: str, words: dict) -> list:
    """The facilities of the categories the circle needs; returns legend handles."""
    from matplotlib.lines import Line2D

    minx, miny, maxx, maxy = bounds
    handles = []
    fac = getattr(result, "facilities", None)
    if fac is not None and len(fac):
        needed = set(circle.categories)
        f = fac.to_crs(crs).cx[minx:maxx, miny:maxy]
        f = f[f["category"].astype(str).isin(needed)]  # a circle's figure shows its own categories only
        for cat in [c for c in CATEGORY_ICONS if c in set(f["category"])] + \
                sorted(set(f["category"]) - set(CATEGORY_ICONS)):
            sub = f[f["category"] == cat]
            colour = category_colour(cat)
            off = sub["walk_off_network"].astype(bool).to_numpy() if "walk_off_network" in sub \
                else np.zeros(len(sub), bool)
            size = 70 if cat in needed else 35
            ax.scatter(sub.geometry.x[~off], sub.geometry.y[~off], s=size, marker=_MARKERS.get(cat, "o"),
                       color=colour, edgecolor="black", linewidth=0.6, zorder=5)
            if off.any():
                ax.scatter(sub.geometry.x[off], sub.geometry.y[off], s=size, marker=_MARKERS.get(cat, "o"),
                           color="#cccccc", edgecolor="#555555", linewidth=0.6, zorder=5)
            handles.append(Line2D([], [], linestyle="", marker=_MARKERS.get(cat, "o"), color=colour,
                                  markeredgecolor="black", markersize=8 if cat in needed else 6,
                                  label=category_label(cat, lang)))
        if "walk_off_network" in f and f["walk_off_network"].astype(bool).any():
            handles.append(Line2D([], [], linestyle="", marker="o", color="#cccccc",
                                  markeredgecolor="#555555", label=words["offnet"]))
    return handles


def coverage_figure(
    result,
    circle_id: str,
    path: str | os.PathLike,
    *,
    lang: str = "en",
    figsize: tuple[float, float] = (9.0, 6.5),
    dpi: int = 150,
    roads: bool = True,
    pad_m: float = 150.0,
) -> Path:
    """Draw one circle's coverage to a PNG, PDF or SVG file (chosen by suffix).

    Parameters
    ----------
    result : CoverageResult
        From :func:`circles.analyze`.
    circle_id : str
        Circle to draw (e.g. ``"life_15"``).
    path : path-like
        Destination ``.png``, ``.pdf`` or ``.svg``; written atomically.
    lang : {"en", "zh"}
        Language of title, legend and scale bar.  ``"zh"`` needs a CJK font
        (:func:`find_cjk_font`); without one the figure is drawn in English and
        a warning is logged.
    figsize, dpi
        Figure size in inches and raster resolution (PNG: at most ``figsize * dpi`` pixels; the
        file is trimmed to the drawing, without blank margins).
    roads : bool
        Draw the walk network underneath.
    pad_m : float
        Margin around the units, metres.

    Returns
    -------
    Path
        The written file.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    lang = check_lang(lang)
    circle = result.circle(circle_id)
    dest = Path(path)
    fmt = _FORMATS.get(dest.suffix.lower())
    if fmt is None:
        raise InputError(f"{dest}: a figure must end in .png, .pdf or .svg")
    font = None
    if lang == "zh":
        font = find_cjk_font()
        if font is None:
            log.warning("coverage_figure: no CJK font found (install fonts-noto-cjk); "
                        "drawing English labels instead of Chinese")
            lang = "en"
    words = _WORDS[lang]
    status_words = STATUS_LABELS[lang]
    crs = _metric_crs(result)
    units = result.units.to_crs(crs)
    no_data = circle_is_no_data(result, circle_id)
    status = units[f"{circle_id}_status"].astype(object).fillna("empty")
    if no_data:
        status = status.where(status == "no_data", "no_data")
    minx, miny, maxx, maxy = units.total_bounds
    if not all(np.isfinite([minx, miny, maxx, maxy])):
        raise InputError("coverage_figure: the result has no unit geometry to draw")
    minx, miny, maxx, maxy = minx - pad_m, miny - pad_m, maxx + pad_m, maxy + pad_m

    rc: dict[Any, Any] = {"font.family": [font, "DejaVu Sans"]} if font else {}
    with plt.rc_context(rc):
        fig, ax = plt.subplots(figsize=figsize, dpi=dpi)
        try:
            handles = []
            nets = getattr(result, "networks", None) or {}
            if roads and "walk" in nets:
                edges = nets["walk"].edges_gdf().to_crs(crs).cx[minx:maxx, miny:maxy]
                if len(edges):
                    edges.plot(ax=ax, color="#9a9a9a", linewidth=0.5, zorder=1)
                    handles.append(Line2D([], [], color="#9a9a9a", linewidth=1, label=words["roads"]))
            _draw_units(ax, units, status)
            present = [s for s in STATUSES if (status == s).any()]
            handles += [_status_patch(s, status_words[s]) for s in present]
            districts = getattr(result, "districts", None)
            if districts is not None and len(districts):
                d = districts.to_crs(crs).cx[minx:maxx, miny:maxy]
                if len(d):
                    _draw_borders(ax, d)
                    handles.append(Line2D([], [], color=BORDER_COLOUR, linewidth=BORDER_WIDTH,
                                          linestyle=BORDER_DASH, label=words["districts"]))
            handles += _draw_facilities(ax, result, circle, (minx, miny, maxx, maxy), crs, lang, words)
            ax.set_xlim(minx, maxx)
            ax.set_ylim(miny - SCALE_BAND * (maxy - miny), maxy)  # a band below the units for the scale bar
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel("")
            ax.set_ylabel("")
            ax.set_title(figure_title(result, circle_id, lang), fontsize=13)
            _credits(ax, result)
            ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
                      frameon=False, title=words["status"], title_fontsize=9)
            _scale_bar(ax, _nice_length(maxx - minx), lang=lang)
            _north_arrow(ax)
            with atomic_path(dest) as tmp:  # tight: no blank margins around the map and legend
                fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight", pad_inches=0.08)
        finally:
            plt.close(fig)
    return dest
