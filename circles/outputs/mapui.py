"""Page furniture shared by the coverage map and the score map.

* a title box (top centre) and a legend (bottom right) that follow the layer
  shown: each "panel" is a base layer (radio button in the layer control) with
  its own title and legend; overlays (facilities, districts …) add their legend
  rows while they are switched on — a few lines of JavaScript hooked to
  Leaflet's ``baselayerchange`` / ``overlayadd`` / ``overlayremove`` events;
* an SVG hatch pattern for ``no_data`` units (``fillColor: url(#circles-no-data)``);
* CSS: wrapped tooltips, selectable popups, legible controls;
* an info box with the inputs-against-the-area counts (contract 3).

All text is escaped here; callers pass plain text (or HTML built with
:func:`circles.outputs.webmap.escape_html`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

from circles.outputs import webmap
from circles.outputs.palette import NO_DATA_CSS, NO_DATA_STRIPE, STATUS_COLOURS, STATUS_LABELS, STATUSES

__all__ = ["NO_DATA_FILL", "add_page_style", "swatch", "legend_block", "title_block", "add_panels",
           "info_box_html", "add_info_box"]

#: Leaflet ``fillColor`` of a hatched no-data unit (the pattern is defined by :func:`add_page_style`).
NO_DATA_FILL = "url(#circles-no-data)"

_FONT = 'system-ui,"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif'

_CSS = f"""
.leaflet-tooltip {{ width: max-content; max-width: min(320px, 70vw); white-space: normal;
  overflow-wrap: break-word; font: 12px/1.35 {_FONT}; }}
.leaflet-tooltip table {{ border-collapse: collapse; }}
.leaflet-tooltip th {{ white-space: nowrap; vertical-align: top; padding: 1px 4px; }}
.leaflet-tooltip td {{ white-space: normal; vertical-align: top; padding: 1px 4px; }}
.leaflet-popup-content {{ font: 12px/1.45 {_FONT}; user-select: text; -webkit-user-select: text;
  cursor: text; max-height: 60vh; overflow-y: auto; min-width: 240px; }}
.leaflet-popup-content * {{ font-size: 12px; user-select: text; -webkit-user-select: text; }}
.leaflet-popup-content table {{ border-collapse: collapse; }}
.leaflet-popup-content th, .leaflet-popup-content td {{ text-align: left; vertical-align: top;
  padding: 1px 6px 1px 0; white-space: normal; }}
.circles-title {{ position: absolute; top: 10px; left: 50%; transform: translateX(-50%); z-index: 800;
  max-width: calc(100% - 150px); background: rgba(255,255,255,0.93); border: 1px solid #999;
  border-radius: 4px; padding: 5px 12px; box-shadow: 0 1px 4px rgba(0,0,0,.3); text-align: center;
  font: 13px/1.35 {_FONT}; pointer-events: auto; }}
.circles-title .circles-title-main {{ font-size: 16px; font-weight: bold; }}
.circles-title .circles-title-rule {{ font-size: 12px; color: #333; }}
.circles-title .circles-title-share {{ font-size: 13px; margin-top: 2px; }}
.circles-legend {{ background: rgba(255,255,255,0.93); padding: 6px 10px; border: 1px solid #999;
  border-radius: 4px; font: 12px/1.35 {_FONT}; box-shadow: 0 1px 4px rgba(0,0,0,.3);
  max-width: 260px; max-height: 45vh; overflow-y: auto; }}
.circles-legend-title {{ font-weight: bold; margin: 2px 0 3px; }}
.circles-legend-row {{ display: flex; align-items: center; margin: 2px 0; }}
.circles-swatch {{ display: inline-block; width: 14px; height: 14px; border: 1px solid #555;
  margin-right: 6px; flex: none; box-sizing: border-box; }}
.circles-legend-note {{ color: #444; font-size: 11px; margin: 2px 0 4px; }}
.circles-info {{ background: rgba(255,255,255,0.95); border: 1px solid #999; border-radius: 4px;
  font: 12px/1.35 {_FONT}; box-shadow: 0 1px 4px rgba(0,0,0,.3); padding: 4px 8px;
  max-width: min(460px, 60vw); max-height: 50vh; overflow: auto; user-select: text; }}
.circles-info summary {{ cursor: pointer; font-weight: bold; }}
.circles-info table {{ border-collapse: collapse; margin-top: 4px; }}
.circles-info th, .circles-info td {{ border-bottom: 1px solid #ddd; padding: 1px 5px; text-align: right; }}
.circles-info th:first-child, .circles-info td:first-child,
.circles-info th:nth-child(2), .circles-info td:nth-child(2) {{ text-align: left; }}
.circles-info .circles-cause {{ color: #a50f15; }}
.circles-hide-iso .circles-isochrones {{ display: none; }}
.leaflet-control-layers-expanded {{ max-height: 70vh; overflow-y: auto; font: 12px/1.4 {_FONT}; }}
.circles-rank {{ background: none; border: none; }}
.circles-rank div {{ width: 22px; height: 22px; border-radius: 50%; border: 2px solid #fff;
  box-shadow: 0 0 0 1px #111, 0 1px 3px rgba(0,0,0,.5); font: bold 12px/22px {_FONT};
  text-align: center; }}
"""


def add_page_style(m: Any) -> None:
    """CSS for tooltips, popups, title, legend and info box, and the no-data hatch pattern."""
    import folium

    webmap.add_css(m, _CSS, name="circles_ui_css")
    grey = STATUS_COLOURS["no_data"]
    m.get_root().html.add_child(folium.Element(
        '<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
        '<pattern id="circles-no-data" patternUnits="userSpaceOnUse" width="8" height="8" '
        'patternTransform="rotate(45)">'
        f'<rect width="8" height="8" fill="{grey}"/>'
        f'<rect width="3" height="8" fill="{NO_DATA_STRIPE}"/></pattern></defs></svg>'),
        name="circles_hatch")


def swatch(colour: str, label: str, *, kind: str = "fill", hatched: bool = False) -> str:
    """One legend row: a fill square, a dashed outline (``kind="outline"``), a line or a dot."""
    bg = NO_DATA_CSS if hatched else webmap.escape_html(colour)
    c = webmap.escape_html(colour)
    style = {"fill": f"background:{bg}",
             "outline": f"background:transparent;border:2px dashed {c}",
             "line": f"background:transparent;border:none;border-top:2px dashed {c};height:0;margin-top:6px",
             "road": f"background:transparent;border:none;border-top:1px solid {c};height:0;margin-top:6px",
             "dot": f"background:{c};border-radius:50%",
             "badge": f"background:{c};border-radius:50%;border:2px solid #fff;box-shadow:0 0 0 1px #111",
             }[kind]
    return (f'<div class="circles-legend-row"><span class="circles-swatch" style="{style}"></span>'
            f'<span class="circles-legend-label">{webmap.escape_html(label)}</span></div>')


def status_swatches(present: Iterable[str], lang: str) -> list[str]:
    """Legend rows of the unit statuses in ``present``, in the palette's order (no data hatched).

    Parameters
    ----------
    present : iterable of str
        The statuses drawn (``"covered"``, ``"no_data"`` …).
    lang : {"zh", "en"}
        Language of the labels.

    Returns
    -------
    list of str
        HTML rows for :func:`legend_block`.
    """
    shown = set(present)
    return [swatch(STATUS_COLOURS[s], STATUS_LABELS[lang][s], hatched=s == "no_data") for s in STATUSES if s in shown]


def legend_block(title: str | None, rows: Iterable[str], note: str | None = None) -> str:
    """A titled group of legend rows (from :func:`swatch`), with an optional note."""
    head = f'<div class="circles-legend-title">{webmap.escape_html(title)}</div>' if title else ""
    tail = f'<div class="circles-legend-note">{webmap.escape_html(note)}</div>' if note else ""
    return head + "".join(rows) + tail


def title_block(main: str, rule: str = "", share: str = "") -> str:
    """Title HTML: the circle's name, its rule, and the headline number."""
    out = f'<div class="circles-title-main">{webmap.escape_html(main)}</div>'
    if rule:
        out += f'<div class="circles-title-rule">{webmap.escape_html(rule)}</div>'
    if share:
        out += f'<div class="circles-title-share">{webmap.escape_html(share)}</div>'
    return out


def add_panels(m: Any, panels: Sequence[tuple[Any, str, str]], overlays: Sequence[tuple[Any, str]] = (),
               *, legend_title: str = "", iso_toggle: Any = None,
               follows: Sequence[tuple[Any, Sequence[int]]] = (), on_top: Sequence[Any] = ()) -> None:
    """Title and legend that follow the active base layer and the overlays switched on.

    Parameters
    ----------
    panels
        ``(layer, title_html, legend_html)`` per base layer (radio button).
    overlays
        ``(layer, legend_html)``: rows shown while the overlay is on the map.
    iso_toggle
        An (empty) overlay whose check box shows or hides every ``.circles-isochrones`` path.
    follows
        ``(overlay, panel indices)``: the overlay is switched on when one of those panels
        is chosen and off for the others (e.g. a circle's own facility categories).
    on_top
        Vector overlays kept above the units whatever is switched on (e.g. district borders).

    Add it after the layer control.
    """
    def js(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)

    entries = ",".join(f"{{layer: {layer.get_name()}, title: {js(title)}, legend: {js(legend)}}}"
                       for layer, title, legend in panels)
    extras = ",".join(f"{{layer: {layer.get_name()}, legend: {js(legend)}}}" for layer, legend in overlays)
    iso = iso_toggle.get_name() if iso_toggle is not None else "null"
    follow = ",".join(f"{{layer: {layer.get_name()}, panels: {json.dumps([int(i) for i in idx])}}}"
                      for layer, idx in follows)
    head = json.dumps(f'<div class="circles-legend-title">{webmap.escape_html(legend_title)}</div>'
                      if legend_title else "")
    webmap.add_script(m, f"""
var panels = [{entries}], extras = [{extras}], iso = {iso}, follows = [{follow}];
var onTop = [{",".join(layer.get_name() for layer in on_top)}];
var titleBox = L.DomUtil.create('div', 'circles-title', map.getContainer());
L.DomEvent.disableClickPropagation(titleBox);
L.DomEvent.disableScrollPropagation(titleBox);
var Legend = L.Control.extend({{onAdd: function () {{
    var d = L.DomUtil.create('div', 'circles-legend');
    L.DomEvent.disableClickPropagation(d); L.DomEvent.disableScrollPropagation(d); return d; }}}});
var legend = new Legend({{position: 'bottomright'}}).addTo(map);
function refresh() {{
    var active = panels.filter(function (p) {{ return map.hasLayer(p.layer); }})[0];
    titleBox.innerHTML = active ? active.title : '';
    titleBox.style.display = active ? '' : 'none';
    var html = {head} + (active ? active.legend : '');
    extras.forEach(function (e) {{ if (map.hasLayer(e.layer) && html.indexOf(e.legend) < 0) html += e.legend; }});
    legend.getContainer().innerHTML = html;
    onTop.forEach(function (l) {{ if (map.hasLayer(l) && l.bringToFront) l.bringToFront(); }});
    if (iso) L.DomUtil[map.hasLayer(iso) ? 'removeClass' : 'addClass'](map.getContainer(), 'circles-hide-iso');
    map.getContainer().setAttribute('data-circles-active', active ? active.layer._circlesId || '' : '');
}}
panels.forEach(function (p, i) {{ p.layer._circlesId = String(i); }});
map.on('baselayerchange', function (e) {{
    var i = panels.map(function (p) {{ return p.layer; }}).indexOf(e.layer);
    if (i < 0) return;
    follows.forEach(function (f) {{
        var on = f.panels.indexOf(i) >= 0;
        if (on && !map.hasLayer(f.layer)) map.addLayer(f.layer);
        if (!on && map.hasLayer(f.layer)) map.removeLayer(f.layer);
    }});
}});
map.on('baselayerchange overlayadd overlayremove', refresh);
refresh();
""")


def _fmt_count(v: Any) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return webmap.escape_html(v)
    return "" if math.isnan(f) else f"{f:,.0f}"


def info_box_html(inputs: Any, lang: str, *, notes: Sequence[str] = (), open_: bool = False) -> str:
    """The "inputs against the study area" table (``result.data_quality["inputs"]``) as HTML.

    A collapsed box (it would cover the map); when an input has a likely cause to report
    (e.g. every facility outside the area) its title says so in red with a ⚠ and the count.
    """
    from circles.outputs.maptext import TEXT, cause_zh
    from circles.outputs.palette import category_label

    t = TEXT[lang]
    rows = []
    causes = 0
    if inputs is not None and len(inputs):
        cols = ["total", "inside", "outside", "off_network", "nearest_outside_m"]
        head = "".join(f"<th>{webmap.escape_html(t[c])}</th>" for c in ["input", "category"] + cols)
        rows.append(f"<tr>{head}</tr>")
        for r in inputs.to_dict("records"):
            kind = t["inputs"].get(str(r.get("input", "")), str(r.get("input", "")))
            cat = str(r.get("category", ""))
            cat_word = t["all_row"] if cat in ("all", "") else category_label(cat, lang)
            cells = "".join(f"<td>{_fmt_count(r.get(c))}</td>" for c in cols)
            rows.append(f"<tr><td>{webmap.escape_html(kind)}</td><td>{webmap.escape_html(cat_word)}</td>{cells}</tr>")
            cause = str(r.get("likely_cause") or "").strip()
            if cause.lower() == "nan":
                cause = ""
            if cause and lang == "zh":
                cause = cause_zh(cause)
            if cause:
                causes += 1
                rows.append(f'<tr><td colspan="7" class="circles-cause">{webmap.escape_html(t["likely_cause"])}: '
                            f"{webmap.escape_html(cause)}</td></tr>")
    table = f"<table>{''.join(rows)}</table>" if rows else ""
    extra = "".join(f"<div>{webmap.escape_html(n)}</div>" for n in notes if n)
    if not table and not extra:
        return ""
    flag = (f' <span class="circles-cause">⚠ {causes}</span>' if causes else "")
    return (f'<details class="circles-info-details"{" open" if open_ else ""}><summary>ⓘ '
            f'{webmap.escape_html(t["info"])}{flag}</summary>{table}{extra}</details>')


def add_info_box(m: Any, html: str, *, position: str = "topleft") -> None:
    """Put ``html`` (from :func:`info_box_html`) in a Leaflet control box."""
    if not html:
        return
    webmap.add_script(m, f"""
var Info = L.Control.extend({{onAdd: function () {{
    var d = L.DomUtil.create('div', 'circles-info'); d.innerHTML = {json.dumps(html, ensure_ascii=False)};
    L.DomEvent.disableClickPropagation(d); L.DomEvent.disableScrollPropagation(d); return d; }}}});
new Info({{position: {json.dumps(position)}}}).addTo(map);
""")
