"""Escaping user text for the HTML maps: names, tooltips, popups and feature properties.

folium inserts tooltip and popup text into the page **as HTML** (and inside JavaScript template literals), and
``GeoJsonTooltip`` / ``GeoJsonPopup`` put feature property values into ``innerHTML``.  A facility called
``<img src=x onerror=...>`` would run script.  Build tooltips and popups with :func:`make_tooltip`,
:func:`make_popup` (or :func:`tooltip_html` / :func:`escape_html` yourself), and pass GeoDataFrames through
:func:`escape_properties` before ``folium.GeoJson``; :mod:`circles.outputs.webmap` re-exports all of them.
"""

from __future__ import annotations

import html as _html
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from circles.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import folium
    import geopandas as gpd

__all__ = ["escape_html", "tooltip_html", "make_tooltip", "make_popup", "escape_properties"]


def escape_html(value: Any) -> str:
    r"""Text -> HTML that displays it literally, safe in every place folium puts text.

    Besides ``& < > " '`` (:func:`html.escape`), the backtick, ``$`` and backslash are
    replaced by character references, because folium embeds tooltip and popup HTML in
    JavaScript template literals (where ``${...}`` would run and ``\`` would escape).
    ``None`` and NaN become an empty string.

    Parameters
    ----------
    value : object
        Any value; shown as ``str(value)``.

    Returns
    -------
    str
        HTML text.

    Examples
    --------
    >>> escape_html('<img src=x onerror="alert(1)">')
    '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
    >>> escape_html("${cost}"), escape_html(None)
    ('&#36;{cost}', '')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = _html.escape(str(value), quote=True)
    return text.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def tooltip_html(title: Any = None, fields: Mapping[Any, Any] | None = None) -> str:
    """Small HTML block: a bold title and ``label: value`` lines, all escaped.

    Parameters
    ----------
    title : object, optional
        Shown in bold on the first line.
    fields : mapping, optional
        Label -> value, one line each.

    Returns
    -------
    str
        HTML, ready to insert as it is.

    Examples
    --------
    >>> tooltip_html("<b>医院</b>", {"床位": 120})
    '<b>&lt;b&gt;医院&lt;/b&gt;</b><br>床位: 120'
    """
    parts = []
    if title is not None:
        parts.append(f"<b>{escape_html(title)}</b>")
    for label, value in (fields or {}).items():
        parts.append(f"{escape_html(label)}: {escape_html(value)}")
    return "<br>".join(parts)


def make_tooltip(title: Any = None, fields: Mapping[Any, Any] | None = None,
                 **kwargs: Any) -> folium.Tooltip:
    """A ``folium.Tooltip`` whose text is escaped (see :func:`tooltip_html`).

    Parameters
    ----------
    title, fields
        As for :func:`tooltip_html`.
    **kwargs
        Passed to ``folium.Tooltip`` (``sticky=``, ``style=`` …).

    Returns
    -------
    folium.Tooltip
    """
    import folium

    return folium.Tooltip(tooltip_html(title, fields), **kwargs)


def make_popup(title: Any = None, fields: Mapping[Any, Any] | None = None, *,
               max_width: int | str = 300, **kwargs: Any) -> folium.Popup:
    """A ``folium.Popup`` whose content is escaped (see :func:`tooltip_html`).

    Parameters
    ----------
    title, fields
        As for :func:`tooltip_html`.
    max_width : int or str, default 300
        Popup width limit (pixels, or a CSS length).
    **kwargs
        Passed to ``folium.Popup``.

    Returns
    -------
    folium.Popup
    """
    import folium

    # parse_html=False means "insert as HTML": our HTML is already escaped.
    return folium.Popup(tooltip_html(title, fields), parse_html=False,
                        max_width=max_width, **kwargs)


def escape_properties(gdf: gpd.GeoDataFrame, columns: Iterable[str] | None = None
                      ) -> gpd.GeoDataFrame:
    """Copy of ``gdf`` whose text columns are HTML-escaped with :func:`escape_html`.

    Use it before ``folium.GeoJson(..., tooltip=GeoJsonTooltip(...))`` or
    ``GeoJsonPopup``: folium puts property values into the page with ``innerHTML``.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The features.
    columns : iterable of str, optional
        Columns to escape; default every non-geometry column holding text (object/string dtype).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy; ``gdf`` is not changed.

    Raises
    ------
    InputError
        A named column is not in ``gdf``.
    """
    out = gdf.copy()
    geom = gdf.geometry.name
    if columns is None:
        from pandas.api.types import is_object_dtype, is_string_dtype

        columns = [c for c in gdf.columns if c != geom
                   and (is_object_dtype(gdf[c].dtype) or is_string_dtype(gdf[c].dtype))]
    for col in columns:
        if col not in gdf.columns:
            raise InputError(f"escape_properties: column {col!r} not found; "
                             f"available: {list(gdf.columns)}")
        out[col] = gdf[col].map(escape_html).astype(object)
    return out
