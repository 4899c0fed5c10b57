"""Coverage maps and figures on the real Optics Valley (光谷) data.

The analysis runs once per module; the map is opened in headless Chromium
with every non-file request blocked (tests/browser.py).  Counts are checked
against the data: features in each layer (read from Leaflet's own layer
objects) and paths actually rendered after toggling each circle on.
"""

from __future__ import annotations

import dataclasses
import struct
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import box

from circles.errors import InputError
from circles.outputs.coverage_map import STATUS_LABELS, category_label, coverage_map, save_coverage_map

ARTIFACTS = Path(__file__).parent / "artifacts"
XSS = "<img src=x onerror=alert(1)>"
TRAP = "window.__xss = 0; window.alert = function () { window.__xss += 1; };"

pytestmark = pytest.mark.wuhan


@pytest.fixture(scope="module")
def result(readme_analysis):
    return readme_analysis  # the README's analysis, computed once per session (conftest.py)


def _mapped_facilities(res, margin_m: float = 300.0):
    """Facilities inside the units' extent plus the margin (what the map draws)."""
    crs = res.networks["walk"].crs
    minx, miny, maxx, maxy = res.units.to_crs(crs).total_bounds
    area = gpd.GeoSeries([box(minx - margin_m, miny - margin_m, maxx + margin_m, maxy + margin_m)],
                         crs=crs).to_crs(4326).iloc[0]
    fac = res.facilities.to_crs(4326)
    return fac[fac.within(area)]


@pytest.fixture(scope="module")
def hostile(result):
    """The result with a mapped facility and a unit renamed to an XSS payload."""
    fac = result.facilities.copy()
    inside = _mapped_facilities(result).index
    fac.loc[inside[0], "name"] = XSS
    units = result.units.copy()
    # the unit furthest from any facility, so no marker sits on top of it
    crs = result.networks["walk"].crs
    centres = units.to_crs(crs).geometry.centroid
    pts = fac.loc[inside].to_crs(crs).geometry
    far = int(np.argmax([pts.distance(c).min() for c in centres]))
    units.loc[units.index[far], "name"] = XSS
    return dataclasses.replace(result, facilities=fac, units=units), far


def test_map_arguments_are_checked(result):
    with pytest.raises(InputError, match="lang"):
        coverage_map(result, lang="fr")
    with pytest.raises(InputError, match="unknown circle"):
        coverage_map(result, circles=["life_99"])
    with pytest.raises(InputError, match="show_circle"):
        coverage_map(result, circles=["life_15"], show_circle="culture_sports_12")


def test_map_html_escapes_and_is_offline(hostile, tmp_path):
    res, _ = hostile
    path = save_coverage_map(res, tmp_path / "map.html", lang="en")
    html = path.read_text(encoding="utf-8")
    assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    from circles.outputs.webmap import find_online_resources

    assert find_online_resources(html) == []
    assert "L.tileLayer" not in html
    present = set()
    for cid in res.summary["circle"]:
        present |= set(res.units[f"{cid}_status"].dropna())
    for status in present:
        assert STATUS_LABELS["en"][status] in html


@pytest.mark.browser
def test_coverage_map_in_chromium(hostile):
    from browser import chromium_page, require_chromium
    from maptools import CONTROL, LEGEND, MAP, TITLE, click_base_layer

    require_chromium()
    res, xss_unit = hostile
    ARTIFACTS.mkdir(exist_ok=True)
    started = time.perf_counter()
    path = save_coverage_map(res, ARTIFACTS / "coverage_map.html", lang="zh")
    build_s = time.perf_counter() - started
    size = path.stat().st_size
    circles = list(res.policy.circles)
    # the map opens on the best-covered circle with no "no data" category: life_15 lacks
    # kindergartens in the Wuhan inputs; parks give the public activity circle its 24 %
    shown = "public_activity_10"
    summary = res.summary.set_index("circle")
    assert "kindergarten" in summary.loc["life_15", "no_data"]  # (grocery, primary_care: none on the network)
    assert summary["covered_share"].idxmax() == shown
    facilities = _mapped_facilities(res)
    n_units = int((~(res.units.geometry.isna() | res.units.geometry.is_empty)).sum())

    with chromium_page(path, init_script=TRAP, viewport=(1400, 900)) as s:
        r = s.report
        load_ms = s.eval("performance.getEntriesByType('navigation')[0].loadEventEnd")
        control = s.eval("""(() => {
            const key = Object.keys(window).find(k => /^layer_control_.*_layers$/.test(k));
            const c = window[key];
            const leaves = (l) => l.getLayers ? l.getLayers().reduce((n, x) => n + leaves(x), 0) : 1;
            const out = {base: Object.keys(c.base_layers), overlays: {}};
            for (const [name, layer] of Object.entries(c.overlays)) out.overlays[name] = leaves(layer);
            return out;
        })()""")
        collapsed = s.eval("!document.querySelector('.leaflet-control-layers-expanded')")
        first_title = s.eval(TITLE)
        # one circle at a time: clicking a radio button shows its units only, and the title
        # and legend follow
        count_markers = "document.querySelectorAll('.leaflet-marker-pane .awesome-marker').length"
        markers_at_open = s.eval(count_markers)
        rendered, titles, legends, markers = {}, {}, {}, {}
        for circle in circles:
            label = next(b for b in control["base"] if b.startswith(circle.name_zh))
            click_base_layer(s, label)
            rendered[circle.id] = {c.id: s.eval(f"document.querySelectorAll('path.circles-units-{c.id}').length")
                                   for c in circles}
            titles[circle.id], legends[circle.id] = s.eval(TITLE), s.eval(LEGEND)
            markers[circle.id] = s.eval(count_markers)
        # every facility overlay switched on
        s.eval(f"Object.values({CONTROL}.overlays).forEach(l => {MAP}.addLayer(l))")
        markers_all = s.eval(count_markers)
        s.page.reload(wait_until="load")
        s.page.wait_for_timeout(300)
        s.page.screenshot(path=str(ARTIFACTS / "coverage_map.png"))

        # hostile names: open every marker's tooltip and popup (Leaflet puts them in the DOM)
        s.eval(f"Object.values({CONTROL}.overlays).forEach(l => {MAP}.addLayer(l))")
        texts = s.eval("""(() => {
            const ov = window[Object.keys(window).find(k => /^layer_control_.*_layers$/.test(k))].overlays;
            const out = [];
            for (const layer of Object.values(ov)) {
                if (!(layer instanceof L.FeatureGroup) || layer instanceof L.GeoJSON) continue;
                layer.eachLayer(x => {
                    if (!(x instanceof L.Marker)) return;
                    x.openTooltip(); out.push(x.getTooltip().getElement().textContent); x.closeTooltip();
                    x.openPopup(); out.push(x.getPopup().getElement().textContent); x.closePopup();
                });
            }
            return out;
        })()""")
        # and hover the renamed unit with the real mouse (controls hidden so nothing covers it)
        s.eval("document.querySelectorAll('.leaflet-control-container, .circles-title')"
               ".forEach(e => e.style.display = 'none')")
        s.page.locator(f"path.circles-units-{shown}").nth(xss_unit).hover(force=True)
        s.page.wait_for_timeout(150)
        unit_tip = s.eval("Array.from(document.querySelectorAll('.leaflet-tooltip'))"
                          ".map(e => e.textContent).join('|')")
        injected = s.eval("document.querySelectorAll('img[src=\"x\"], img[onerror]').length")
        xss_flag = s.eval("window.__xss")

    summary_line = (f"coverage map: {size / 1e6:.2f} MB, built in {build_s:.2f} s, load event at {load_ms:.0f} ms "
                    f"in Chromium; {n_units} units x {len(circles)} circles, {len(facilities)} facilities drawn")
    print("\n" + summary_line)
    (ARTIFACTS / "coverage_map.txt").write_text(summary_line + "\n", encoding="utf-8")

    assert r.leaflet_loaded, r.summary()
    assert r.console_errors == [] and r.page_errors == [], r.summary()
    assert r.blocked_requests == [] and r.failed_requests == [], r.summary()
    assert r.dialogs == [] and xss_flag == 0 and injected == 0
    assert size < 5_000_000, f"map is {size:,d} bytes"
    assert collapsed, "the layer control must open collapsed"

    # every circle is a radio button; exactly its own units are drawn when chosen
    assert len(control["base"]) == len(circles)
    for circle in circles:
        assert rendered[circle.id] == {c.id: (n_units if c.id == circle.id else 0) for c in circles}
        assert circle.name_zh in titles[circle.id] and circle.name_zh in legends[circle.id]
    assert res.circle(shown).name_zh in first_title and "覆盖率" in first_title
    assert "等时圈" in control["overlays"]
    # facility markers equal the data, per category and in total
    per_cat = facilities["category"].value_counts()
    for cat, n in per_cat.items():
        name = f"设施: {category_label(cat, 'zh')} ({n})"
        assert control["overlays"].get(name) == n, (name, control["overlays"])
    assert markers_all == len(facilities)
    # markers follow the circle shown: its own categories on, the others one click away
    in_circle = {c.id: int(facilities["category"].isin(c.categories).sum()) for c in circles}
    assert markers_at_open == in_circle[shown] > 0 and markers == in_circle
    assert markers_at_open < len(facilities)
    # escaped text is shown literally
    assert len(texts) == 2 * len(facilities)
    assert sum(XSS in t for t in texts) == 2, texts  # its tooltip and its popup
    assert XSS in unit_tip


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_coverage_figure_png(result, tmp_path, lang):
    from circles.outputs.figures import coverage_figure

    out = coverage_figure(result, "public_activity_10", tmp_path / f"fig_{lang}.png", lang=lang,
                          figsize=(8, 6), dpi=100)
    assert out.stat().st_size > 20_000
    w, h = _png_size(out)  # trimmed to the drawing (tight bbox): at most figsize * dpi, no blank bands
    assert 600 <= w <= 800 and 300 <= h <= 600, (w, h)
    if lang == "zh":
        ARTIFACTS.mkdir(exist_ok=True)
        coverage_figure(result, "public_activity_10", ARTIFACTS / "coverage_figure.png", lang="zh")


def test_coverage_figure_pdf_and_bad_suffix(result, tmp_path):
    from circles.outputs.figures import coverage_figure

    pdf = coverage_figure(result, "life_15", tmp_path / "life.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    with pytest.raises(InputError, match=r"\.png"):
        coverage_figure(result, "life_15", tmp_path / "life.jpg")
    assert not (tmp_path / "life.jpg").exists()


def test_figure_falls_back_to_english_without_cjk_font(result, tmp_path, monkeypatch, caplog):
    import circles.outputs.figures as figures

    monkeypatch.setattr(figures, "find_cjk_font", lambda: None)
    out = figures.coverage_figure(result, "life_15", tmp_path / "f.png", lang="zh", dpi=50)
    assert out.stat().st_size > 0
    assert "no CJK font" in caplog.text


def test_circle_isochrones_match_node_minutes(result):
    from circles.isochrones import circle_isochrones

    iso = circle_isochrones(result, "public_activity_10")
    assert list(iso["category"]) == ["public_space"] and list(iso["minutes"]) == [10.0]
    net = result.networks["walk"]
    poly = iso.to_crs(net.crs).geometry.iloc[0]
    minutes = result.node_minutes["public_activity_10"]["public_space"]
    reached = np.flatnonzero(minutes <= 10)
    assert reached.size
    assert shapely.contains(poly, shapely.points(net.x[reached], net.y[reached])).all()
