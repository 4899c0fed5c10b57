"""Show maps and figures inside Jupyter, fully offline.

folium's own notebook display (``Map._repr_html_``) embeds the page in an
iframe that still loads Leaflet, jQuery, Bootstrap and Font Awesome from CDNs:
with no internet the map cell stays blank, and an untrusted notebook shows
"Make this Notebook Trusted to load map".  :func:`show_map` embeds instead the
same self-contained page that ``map.html`` is written as
(:func:`circles.outputs.webmap.to_offline_html`: every script and style inlined), in an
``<iframe srcdoc=...>`` — so the map works in a notebook opened on a machine
with no network, and the executed notebook holds no CDN address at all.

:func:`show_figure` draws a circle's static figure
(:func:`circles.outputs.figures.coverage_figure`) and returns it as a PNG image for
inline display.

Example
-------
>>> from circles.outputs.notebook import show_map, show_figure    # doctest: +SKIP
>>> show_map(result, lang="en", height=520)               # doctest: +SKIP
>>> show_figure(result, "public_activity_10")             # doctest: +SKIP

IPython is imported only inside the functions that return display objects, so
importing this module needs nothing beyond circles itself.
"""

from __future__ import annotations

import html as _html
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from circles.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from IPython.display import HTML, Image

__all__ = ["map_html", "map_iframe", "show_map", "show_figure"]

#: The provenance comment ``to_offline_html`` writes above each inlined asset
#: ends in ``, replaces https://cdn...``; inside a notebook we keep the package,
#: version, licence and vendored file but drop the CDN address, so the notebook
#: file contains no CDN URL anywhere (not even in a comment).
_REPLACES = re.compile(r",\s*replaces\s+(?:https?:)?//[^\s*]+")


def map_html(m_or_result: Any, *, lang: str = "zh", **options: Any) -> str:
    """Self-contained offline HTML of a map, or of a result's coverage map.

    Parameters
    ----------
    m_or_result : folium.Map or CoverageResult
        A folium map (e.g. from :func:`circles.outputs.coverage_map.coverage_map` or
        :func:`circles.scoring.score_map`), or an analysis result, for which
        :func:`circles.outputs.coverage_map.coverage_map` is drawn.
    lang : {"zh", "en"}
        Language of the coverage map (only used for a result).
    **options
        Passed to :func:`circles.outputs.coverage_map.coverage_map` (only for a result).

    Returns
    -------
    str
        The page, with every script and style inlined (no network needed).
    """
    from circles.outputs.webmap import to_offline_html

    if hasattr(m_or_result, "get_root"):  # a folium map (or any folium element)
        if options:
            raise InputError("map_html: options such as "
                             f"{sorted(options)} apply only when a result is given, not a map")
        m = m_or_result
    elif hasattr(m_or_result, "summary") and hasattr(m_or_result, "units"):
        from circles.outputs.coverage_map import coverage_map

        m = coverage_map(m_or_result, lang=lang, **options)
    else:
        raise InputError(f"map_html: expected a folium map or a CoverageResult, "
                         f"got {type(m_or_result).__name__}")
    return _REPLACES.sub("", to_offline_html(m))


def map_iframe(page: str, *, height: int = 560, title: str = "circles map") -> str:
    """HTML that shows ``page`` in an iframe through ``srcdoc`` (escaped).

    The iframe is wrapped in a ``<div>`` carrying ``data-circles-offline-map``
    so tests and readers can find it.
    """
    if not (isinstance(height, int) and height > 0):
        raise InputError(f"height must be a positive number of pixels, got {height!r}")
    return (f'<div data-circles-offline-map="1">'
            f'<iframe srcdoc="{_html.escape(page, quote=True)}" title="{_html.escape(title)}" '
            f'style="width:100%;height:{height}px;border:1px solid #ccc"></iframe></div>')


def show_map(m_or_result: Any, *, height: int = 560, lang: str = "zh", **options: Any) -> HTML:
    """Display a map in Jupyter with no internet (all assets inlined).

    Parameters
    ----------
    m_or_result : folium.Map or CoverageResult
        See :func:`map_html`.
    height : int
        Height of the map in pixels.
    lang : {"zh", "en"}
        Language of the coverage map (only used for a result).
    **options
        Passed to :func:`circles.outputs.coverage_map.coverage_map` (only for a result), e.g.
        ``show_circle="public_activity_10"``.

    Returns
    -------
    IPython.display.HTML
        Shown when it is the last expression of a cell (or pass it to ``display``).
    """
    from IPython.display import HTML

    return HTML(map_iframe(map_html(m_or_result, lang=lang, **options), height=height))


def show_figure(result: Any, circle_id: str, *, lang: str = "en",
                path: str | os.PathLike | None = None, **options: Any) -> Image:
    """Draw a circle's static coverage figure and return it as an inline PNG.

    Parameters
    ----------
    result : CoverageResult
    circle_id : str
        E.g. ``"public_activity_10"``.
    lang : {"en", "zh"}
        ``"zh"`` needs a CJK font (see :func:`circles.outputs.figures.find_cjk_font`).
    path : path-like, optional
        Keep the PNG here (for a report); default a temporary file, removed
        once read.
    **options
        Passed to :func:`circles.outputs.figures.coverage_figure` (``figsize``, ``dpi`` …).

    Returns
    -------
    IPython.display.Image
    """
    from IPython.display import Image

    from circles.outputs.figures import coverage_figure

    if path is not None:
        if Path(path).suffix.lower() != ".png":
            raise InputError(f"show_figure: path must end in .png (it is shown inline), got {path}")
        dest = coverage_figure(result, circle_id, path, lang=lang, **options)
        return Image(data=Path(dest).read_bytes(), format="png")
    with tempfile.TemporaryDirectory(prefix="circles-fig-") as tmp:
        dest = coverage_figure(result, circle_id, Path(tmp) / f"{circle_id}.png", lang=lang, **options)
        return Image(data=dest.read_bytes(), format="png")
