"""City-scale coverage maps (units as images, details on click) on the real Optics Valley data.

The README's analysis has 119 units, so the city route is switched on by lowering
``city_map.CITY_UNITS``; everything else is the real pipeline.  Checked: every unit
is burnt into the index raster under its own centroid, the status image has the
unit's status colour there, the page opens offline in Chromium without errors and
a click on a unit's centroid opens a popup naming that unit and its status, for
the circle shown.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pyproj import Transformer

from circles.outputs import city_map
from circles.outputs.coverage_map import save_coverage_map
from circles.outputs.palette import STATUS_COLOURS, STATUS_LABELS, STATUSES

pytestmark = pytest.mark.wuhan

XSS = "<img src=x onerror=alert(1)>"
TRAP = "window.__xss = 0; window.alert = function () { window.__xss += 1; };"


@pytest.fixture
def city_mode(monkeypatch):
    monkeypatch.setattr(city_map, "CITY_UNITS", 10)


def _pixel(grid: city_map.PixelGrid, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = Transformer.from_crs(4326, 3857, always_xy=True).transform(lon, lat)
    return ((np.asarray(y) - grid.top) / -grid.px).astype(int), ((np.asarray(x) - grid.left) / grid.px).astype(int)


def _decode(uri: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))


def test_every_unit_is_under_its_own_centroid(readme_analysis):
    units = readme_analysis.units
    grid, raster = city_map.unit_raster(units)
    assert max(grid.width, grid.height) <= city_map.MAX_SIDE_PX
    # a unit of median size is about PX_PER_CELL pixels across
    side = np.sqrt(np.median(units.geometry.to_crs(3857).area))
    assert side / grid.px == pytest.approx(city_map.PX_PER_CELL, rel=0.01)
    # every unit of at least 3 x 3 pixels (not the slivers clipped at the study area's edge)
    big = (units.geometry.to_crs(3857).area >= 9 * grid.px ** 2).to_numpy()
    assert big.sum() > 0.8 * len(units)
    centre = units.geometry.representative_point()
    rows, cols = _pixel(grid, centre.x.to_numpy(), centre.y.to_numpy())
    number = np.arange(1, len(units) + 1)
    assert (raster[rows[big], cols[big]] == number[big]).all()
    assert set(np.unique(raster)) <= set(range(len(units) + 1))  # nothing invented
    assert set(number[big]) <= set(np.unique(raster))  # nothing of size lost


def test_index_and_status_images_decode_to_the_units(readme_analysis):
    units = readme_analysis.units
    grid, raster = city_map.unit_raster(units)
    rgb = np.asarray(_decode(city_map.index_png(raster)).convert("RGB")).astype(np.uint32)
    assert ((rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2]) == raster).all()

    cid = "public_activity_10"
    status = units[f"{cid}_status"].fillna("empty").astype(str).to_numpy()
    codes = np.array([STATUSES.index(s) for s in status])
    img = np.asarray(_decode(city_map.status_png(raster, codes)).convert("RGBA"))
    centre = units.geometry.representative_point()
    rows, cols = _pixel(grid, centre.x.to_numpy(), centre.y.to_numpy())
    under = raster[rows, cols] == np.arange(1, len(units) + 1)  # the pixel there is the unit's own
    assert under.sum() > 0.8 * len(units)
    for s, r, c in zip(status[under], rows[under], cols[under]):
        want = tuple(int(STATUS_COLOURS[s][k:k + 2], 16) for k in (1, 3, 5))
        assert tuple(img[r, c, :3]) == want, s
    assert (img[raster == 0, 3] == 0).all()  # outside every unit: transparent


def test_no_data_is_striped_not_a_colour_of_failure():
    raster = np.ones((12, 12), dtype=np.uint32)
    img = np.asarray(_decode(city_map.status_png(raster, np.array([STATUSES.index("no_data")]))).convert("RGBA"))
    colours = {tuple(p) for p in img[..., :3].reshape(-1, 3)}
    grey = tuple(int(STATUS_COLOURS["no_data"][k:k + 2], 16) for k in (1, 3, 5))
    assert colours == {grey, (255, 255, 255)}


def test_city_map_page_has_images_not_unit_polygons(readme_analysis, city_mode, tmp_path):
    path = save_coverage_map(readme_analysis, tmp_path / "city.html")
    html = path.read_text(encoding="utf-8")
    n_circles = len(readme_analysis.policy.circles)
    assert html.count("L.imageOverlay(") == n_circles
    data = json.loads(re.search(r"var cityData = (\{.*?\});\n", html).group(1))
    assert data["label"] == [str(v) for v in readme_analysis.units["unit_id"]]
    assert len(data["circles"]) == n_circles
    assert city_map.city_note("zh") in html


@pytest.mark.browser
def test_click_on_a_unit_shows_its_details(readme_analysis, city_mode, tmp_path):
    from browser import chromium_page, require_chromium

    require_chromium()
    units = readme_analysis.units.copy()
    cid = "public_activity_10"
    big = units.geometry.to_crs(3857).area > 0.9 * units.geometry.to_crs(3857).area.max()
    populated = units[(units["population"] > 0) & big].index  # a whole cell, not a sliver at the edge
    target = populated[len(populated) // 2]
    units.loc[target, "name"] = XSS
    res = dataclasses.replace(readme_analysis, units=units)
    path = save_coverage_map(res, tmp_path / "city.html", show_circle=cid)
    centre = units.geometry.representative_point().loc[target]
    with chromium_page(path, init_script=TRAP) as session:
        page = session.page
        name = page.evaluate("Object.keys(window).find(k => k.startsWith('map_'))")
        page.evaluate(f"void {name}.fire('click', {{latlng: L.latLng({centre.y}, {centre.x})}})")
        page.wait_for_selector(".leaflet-popup-content", timeout=10_000)
        text = page.inner_text(".leaflet-popup-content")
        page.wait_for_timeout(200)
        assert page.evaluate("window.__xss") == 0
        report = session.report
    assert XSS in text  # shown as text, not run
    want = STATUS_LABELS["zh"][str(units.loc[target, f"{cid}_status"])]
    assert want in text
    assert f"{units.loc[target, 'population']:,.0f}" in text
    assert not report.console_errors and not report.page_errors and not report.blocked_requests


def test_small_analyses_keep_vector_units(readme_analysis, tmp_path):
    assert not city_map.use_images(readme_analysis.units)
    html = Path(save_coverage_map(readme_analysis, tmp_path / "m.html")).read_text(encoding="utf-8")
    assert "cityData" not in html and "L.imageOverlay(" not in html
