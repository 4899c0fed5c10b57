"""Helpers for the map tests: a no-data variant of a result, and JavaScript probes
run inside the page (Leaflet's own layer objects and the rendered DOM)."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd

CJK = re.compile(r"[\u3400-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")

# the layer control's Leaflet object, from folium's global variables
CONTROL = "window[Object.keys(window).find(k => /^layer_control_.*_layers$/.test(k))]"
MAP = "window[Object.keys(window).find(k => /^map_/.test(k) && window[k] instanceof L.Map)]"

TITLE = "(document.querySelector('.circles-title') || {}).innerText || ''"
LEGEND = "(document.querySelector('.circles-legend') || {}).innerText || ''"


def with_no_data(result, circle_ids, *, inputs: pd.DataFrame | None = None):
    """``result`` with ``circle_ids`` turned into contract-1 ``no_data`` circles (status
    ``no_data``, shares and minutes NaN, summary status ``no_data``), optionally with a
    contract-3 ``data_quality["inputs"]`` table."""
    units = result.units.copy()
    summary = result.summary.copy()
    if "status" not in summary:
        summary["status"] = "ok"
    for cid in circle_ids:
        units[f"{cid}_status"] = "no_data"
        units[f"{cid}_covered_share"] = np.nan
        units[f"{cid}_minutes"] = np.nan
        summary.loc[summary["circle"] == cid, ["covered_share", "covered_population"]] = np.nan
        summary.loc[summary["circle"] == cid, "status"] = "no_data"
    dq = dict(result.data_quality)
    if inputs is not None:
        dq["inputs"] = inputs
    return dataclasses.replace(result, units=units, summary=summary, data_quality=dq)


def click_base_layer(session, label: str) -> None:
    """Open the (collapsed) layer control and click the radio button named ``label``."""
    page = session.page
    page.locator(".leaflet-control-layers").hover()
    page.locator(".leaflet-control-layers-base label", has_text=label).first.click()
    page.mouse.move(5, 400)
    page.wait_for_timeout(100)


def toggle_overlay(session, label: str) -> None:
    page = session.page
    page.locator(".leaflet-control-layers").hover()
    page.locator(".leaflet-control-layers-overlays label", has_text=label).first.click()
    page.mouse.move(5, 400)
    page.wait_for_timeout(100)


def fills(session, css_class: str) -> list[str]:
    """``fill`` attribute of every rendered SVG path with ``css_class``."""
    return session.eval(f"Array.from(document.querySelectorAll('path.{css_class}'))"
                        ".map(p => p.getAttribute('fill'))")


def ui_text(session) -> str:
    """Every word the page's furniture shows: title, legend, layer control, info box, scale."""
    return session.eval("""(() => {
        const parts = [];
        document.querySelectorAll('.circles-title, .circles-legend, .leaflet-control-layers-list, '
            + '.circles-info, .leaflet-control-scale').forEach(e => parts.push(e.textContent));
        return parts.join('\\n');
    })()""")
