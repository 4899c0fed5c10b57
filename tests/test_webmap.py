"""Offline HTML maps (circles.outputs.webmap), vendored assets (circles._vendor) and atomic
writers (circles.outputs.atomic).  The browser test opens the map in headless Chromium with every
non-local request blocked (see tests/browser.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from circles import _vendor
from circles.errors import InputError, ValidationError
from circles.outputs import webmap
from circles.outputs.atomic import (
    atomic_path,
    write_csv_atomic,
    write_excel_atomic,
    write_gpkg_atomic,
    write_text_atomic,
)

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
XSS = "<img src=x onerror=alert(1)>"
TEMPLATE_INJECTION = "`${window.__xss = (window.__xss || 0) + 100}`\\"


# --------------------------------------------------------------------------- vendored assets
def test_vendored_assets_match_manifest_and_cover_folium():
    assert _vendor.verify() == []


def test_every_vendored_file_has_a_licence_and_total_size_is_modest():
    manifest = _vendor.load_manifest()
    total = 0
    for asset in manifest["assets"]:
        assert (_vendor.VENDOR_DIR / asset["licence_file"]).stat().st_size > 100
        assert asset["replaces"] is None or asset["replaces"].startswith("https://")
        total += asset["bytes"]
    assert total < 1_100_000, f"vendored assets grew to {total:,d} bytes"


def test_vendored_css_is_self_contained():
    from circles._vendor.refresh import check_self_contained_css

    for asset in _vendor.load_manifest()["assets"]:
        if asset["type"] == "css":
            check_self_contained_css(_vendor.read_asset(asset["file"]), asset["file"])


# --------------------------------------------------------------------------- HTML rendering
def test_default_folium_map_becomes_self_contained():
    html = webmap.to_offline_html(folium.Map(tiles=None))
    head = html.split("</head>")[0]
    assert not re.search(r"<script[^>]+src=", head)
    assert not re.search(r"<link[^>]+href=", head)
    assert webmap.find_online_resources(html.replace("<script>", "").split("<body>")[1]) == []
    for asset in _vendor.load_manifest()["assets"]:
        assert f"circles/_vendor/{asset['file']}" in html
    assert re.search(r'charset=["]?utf-8', html[:1024], re.I)


def test_cdn_asset_not_vendored_raises(monkeypatch):
    # a folium upgrade that bumps Leaflet must not silently bring the CDN back
    js = [(n, u.replace("1.9.3", "1.9.9")) for n, u in folium.Map.default_js]
    monkeypatch.setattr(folium.Map, "default_js", js)
    with pytest.raises(webmap.UnvendoredAssetError, match=r"leaflet@1\.9\.9"):
        webmap.to_offline_html(folium.Map(tiles=None))


def test_plugin_js_link_raises():
    m = webmap.offline_map(center=(30.55, 114.34))
    m.get_root().header.add_child(folium.JavascriptLink("https://example.org/plugin.min.js"))
    with pytest.raises(webmap.UnvendoredAssetError, match="example.org/plugin"):
        webmap.to_offline_html(m)


def test_remote_image_in_popup_raises():
    m = webmap.offline_map(center=(30.55, 114.34))
    folium.Marker([30.55, 114.34], popup=folium.Popup('<img src="https://example.org/a.png">')
                  ).add_to(m)
    with pytest.raises(webmap.UnvendoredAssetError, match="example.org/a.png"):
        webmap.to_offline_html(m)


def test_offline_map_has_no_tiles_unless_asked():
    bounds = (114.30, 30.50, 114.40, 30.60)
    assert "L.tileLayer" not in webmap.to_offline_html(webmap.offline_map(bounds))
    online = webmap.to_offline_html(webmap.offline_map(bounds, tiles="OpenStreetMap"))
    assert "tile.openstreetmap.org" in online


@pytest.mark.parametrize("bounds", [(30.5, 114.3, 30.6, 114.4),   # lat/lon swapped
                                    (114.4, 30.5, 114.3, 30.6),   # min > max
                                    (500000, 3300000, 510000, 3310000)])  # metres
def test_offline_map_rejects_bad_bounds(bounds):
    with pytest.raises(InputError, match="min_lon, min_lat"):
        webmap.offline_map(bounds)


def test_escape_html_covers_html_and_template_literals():
    assert webmap.escape_html(XSS) == "&lt;img src=x onerror=alert(1)&gt;"
    out = webmap.escape_html(TEMPLATE_INJECTION)
    assert "`" not in out and "$" not in out and "\\" not in out
    assert webmap.escape_html(None) == "" and webmap.escape_html(float("nan")) == ""
    assert webmap.tooltip_html("医院", {"a<b": "c&d"}) == "<b>医院</b><br>a&lt;b: c&amp;d"


def test_escape_properties_only_touches_text_columns():
    gdf = gpd.GeoDataFrame({"name": [XSS], "n": [3]}, geometry=[Point(114.3, 30.5)], crs=4326)
    out = webmap.escape_properties(gdf)
    assert out.loc[0, "name"].startswith("&lt;img") and out.loc[0, "n"] == 3
    assert gdf.loc[0, "name"] == XSS  # input untouched


def test_legend_html_escapes_and_validates_colours():
    html = webmap.legend_html([("#1a9850", "已覆盖 <b>"), ("red", "未覆盖")], title="图例")
    assert "已覆盖 &lt;b&gt;" in html and "position:fixed" in html
    with pytest.raises(InputError, match="not a CSS colour"):
        webmap.legend_html([("red;background:url(x)", "bad")])


def test_backdrop_is_simplified_rounded_and_small():
    # a straight 1 km street sampled every metre -> 2 points after simplification
    coords = [(114.30 + i * 1e-5, 30.55) for i in range(1001)]
    lines = gpd.GeoDataFrame(geometry=[LineString(coords)], crs=4326)
    m = webmap.offline_map(lines.total_bounds)
    webmap.add_backdrop(m, lines, tolerance_m=3)
    html = m.get_root().render()
    match = re.search(r"L\.polyline\(\s*(\[.*?\]\]\]),", html, re.S)
    parts = json.loads(match.group(1))
    assert len(parts) == 1 and len(parts[0]) == 2
    for lat, lon in parts[0]:
        assert round(lat, 6) == lat and round(lon, 6) == lon
    with pytest.raises(InputError, match="no CRS"):
        webmap.add_backdrop(m, gpd.GeoDataFrame(geometry=[LineString(coords)]))
    with pytest.raises(InputError, match="LineString"):
        webmap.add_backdrop(m, gpd.GeoDataFrame(geometry=[Point(114.3, 30.5)], crs=4326))


# --------------------------------------------------------------------------- in the browser
def _test_map() -> tuple[folium.Map, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    # three neighbourhoods side by side in Wuchang, one with a hostile name
    units = gpd.GeoDataFrame(
        {"name": ["水果湖街道", "中南路街道", XSS], "population": [52000, 61000, 100],
         "status": ["达标", "未达标", TEMPLATE_INJECTION]},
        geometry=[box(114.330, 30.540, 114.345, 30.555), box(114.345, 30.540, 114.360, 30.555),
                  box(114.360, 30.540, 114.375, 30.555)],
        crs=4326,
    )
    # facilities on the northern edge, away from the polygons' centres
    facilities = gpd.GeoDataFrame(
        {"name": ["武汉大学中南医院", XSS, TEMPLATE_INJECTION, "水果湖第一小学"],
         "category": ["医院", "诊所", "药店", "小学"]},
        geometry=[Point(114.334, 30.5585), Point(114.3525, 30.5585), Point(114.371, 30.5585),
                  Point(114.3525, 30.5365)],
        crs=4326,
    )
    roads = gpd.GeoDataFrame(
        geometry=[LineString([(114.33, 30.5475), (114.375, 30.5476)]),
                  LineString([(114.345, 30.535), (114.3451, 30.56)])],
        crs=4326,
    )
    minx, miny, maxx, maxy = pd.concat([units.geometry, facilities.geometry]).total_bounds
    m = webmap.offline_map((minx - 0.004, miny - 0.002, maxx + 0.004, maxy + 0.003))
    webmap.add_backdrop(m, roads, control=False)
    webmap.add_polygons(m, units, name="15分钟生活圈", label="name",
                        fields=["population", "status"], aliases=["人口", "状态 <i>"],
                        style={"color": "#1a9850", "weight": 1, "fillOpacity": 0.3})

    def icon(row):  # awesome-markers with Font Awesome for two rows, Leaflet default otherwise
        if row["category"] in ("医院", "诊所"):
            return folium.Icon(color="red", icon="house-medical", prefix="fa")
        return None

    webmap.add_points(m, facilities, name="设施 facilities", label="name", fields=["category"],
                      aliases=["类别"], icon=icon)
    webmap.add_legend(m, [("#1a9850", "已覆盖"), ("#d73027", "未覆盖")], title="图例")
    folium.LayerControl(collapsed=False).add_to(m)
    return m, units, facilities


TRAP = "window.__xss = 0; window.alert = function () { window.__xss += 1; };"


def test_map_renders_offline_in_chromium(tmp_path):
    from browser import chromium_page, require_chromium

    require_chromium()
    m, units, facilities = _test_map()
    path = webmap.save_map(m, tmp_path / "nested" / "map.html")
    size = path.stat().st_size
    assert size < 1_200_000, f"test map is {size:,d} bytes"

    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_page(path, init_script=TRAP) as s:
        r = s.report
        n_paths = s.eval("document.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive').length")
        n_markers = s.eval("document.querySelectorAll('.leaflet-marker-pane > *').length")
        overlays = s.eval("Array.from(document.querySelectorAll("
                          "'.leaflet-control-layers-overlays label span span'))"
                          ".map(e => e.textContent.trim())")
        legend = s.eval("document.querySelector('.circles-legend').innerText")
        charset = s.eval("document.characterSet")
        default_icon = s.eval("Array.from(document.querySelectorAll('img.leaflet-marker-icon'))"
                              ".map(e => e.src.slice(0, 15))")
        fa_font = s.eval("getComputedStyle(document.querySelector('.awesome-marker i'), "
                         "'::before').fontFamily")
        s.page.screenshot(path=str(ARTIFACTS / "webmap.png"))

        # tooltips and popups of the hostile marker show the name as text
        marker = s.page.locator(".leaflet-marker-pane > *").nth(1)
        marker.hover()
        s.page.wait_for_selector(".leaflet-tooltip")
        tooltip_text = s.eval("document.querySelector('.leaflet-tooltip').textContent")
        marker.click()
        s.page.wait_for_selector(".leaflet-popup-content")
        popup_text = s.eval("document.querySelector('.leaflet-popup-content').textContent")
        s.page.mouse.click(5, 700)  # close the popup
        # the template-literal marker
        s.page.locator(".leaflet-marker-pane > *").nth(2).hover()
        s.page.wait_for_timeout(100)
        tpl_text = s.eval("Array.from(document.querySelectorAll('.leaflet-tooltip'))"
                          ".map(e => e.textContent).join('|')")
        # the hostile polygon's GeoJsonTooltip
        s.page.locator(".leaflet-overlay-pane path.leaflet-interactive").nth(2).hover()
        s.page.wait_for_timeout(150)
        poly_text = s.eval("Array.from(document.querySelectorAll('.leaflet-tooltip'))"
                           ".map(e => e.textContent).join('|')")
        injected_imgs = s.eval("document.querySelectorAll('img[src=\"x\"], img[onerror]').length")
        xss_flag = s.eval("window.__xss")
        s.page.screenshot(path=str(ARTIFACTS / "webmap_tooltip.png"))

    assert r.leaflet_loaded, r.summary()
    assert r.console_errors == [] and r.page_errors == [], r.summary()
    assert r.blocked_requests == [] and r.failed_requests == [], r.summary()
    assert [u for u in r.requests if not u.startswith(("data:", path.as_uri()))] == []
    assert r.dialogs == [] and xss_flag == 0 and injected_imgs == 0

    assert n_paths == len(units)           # backdrop lines are not interactive
    assert n_markers == len(facilities)
    assert overlays == ["15分钟生活圈", "设施 facilities"]
    assert "图例" in legend and "已覆盖" in legend and "未覆盖" in legend
    assert charset == "UTF-8"
    assert default_icon and all(src.startswith("data:image/png") for src in default_icon)
    assert "Font Awesome 6 Free" in fa_font

    assert XSS in tooltip_text and "诊所" in tooltip_text
    assert XSS in popup_text
    assert TEMPLATE_INJECTION in tpl_text
    assert XSS in poly_text and "状态 <i>" in poly_text and TEMPLATE_INJECTION in poly_text


def test_open_in_chromium_reports_blocked_requests(tmp_path):
    from browser import open_in_chromium, require_chromium

    require_chromium()
    page = tmp_path / "online.html"
    page.write_text('<!doctype html><meta charset="utf-8"><title>t</title>'
                    '<img src="https://example.org/pixel.png"><p>汉字</p>', encoding="utf-8")
    report = open_in_chromium(page, evaluate={"text": "document.querySelector('p').textContent"},
                              screenshot=tmp_path / "shot.png")
    assert report.blocked_requests == ["https://example.org/pixel.png"]
    assert not report.leaflet_loaded and not report.ok
    assert report.values["text"] == "汉字"
    assert report.screenshot.stat().st_size > 0


# --------------------------------------------------------------------------- atomic writers
def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_write_text_creates_parent_and_replaces(tmp_path):
    dest = tmp_path / "a" / "b" / "note.txt"
    write_text_atomic(dest, "旧")
    write_text_atomic(dest, "新")
    assert dest.read_text(encoding="utf-8") == "新"
    assert _leftovers(dest.parent) == []


def test_failing_write_leaves_existing_file_untouched(tmp_path):
    dest = tmp_path / "coverage.csv"
    dest.write_text("old content", encoding="utf-8")
    with pytest.raises(RuntimeError, match="boom") as info:
        with atomic_path(dest) as tmp:
            tmp.write_text("half a fi", encoding="utf-8")
            raise RuntimeError("boom")
    assert any(str(dest) in note for note in getattr(info.value, "__notes__", []))
    assert dest.read_text(encoding="utf-8") == "old content"
    assert _leftovers(tmp_path) == []


def test_failing_csv_writer_names_the_path(tmp_path):
    dest = tmp_path / "out.csv"
    dest.write_text("old", encoding="utf-8")

    class DiskFull:
        _geometry_column_name = None

        def to_csv(self, path, **kwargs):
            Path(path).write_text("partial", encoding="utf-8")
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match=re.escape(str(dest))):
        write_csv_atomic(DiskFull(), dest)
    assert dest.read_text(encoding="utf-8") == "old"
    assert _leftovers(tmp_path) == []


def test_csv_has_bom_for_excel(tmp_path):
    df = pd.DataFrame({"社区": ["水果湖街道"], "人口": [52000]})
    dest = write_csv_atomic(df, tmp_path / "units.csv")
    assert dest.read_bytes().startswith(b"\xef\xbb\xbf")
    assert pd.read_csv(dest, encoding="utf-8-sig").equals(df)


def test_excel_writes_all_sheets_and_validates_names(tmp_path):
    df = pd.DataFrame({"社区": ["水果湖街道", "中南路街道"], "覆盖率": [0.9, 0.4]})
    dest = write_excel_atomic({"覆盖": df, "summary": df.head(1)}, tmp_path / "x" / "r.xlsx")
    sheets = pd.read_excel(dest, sheet_name=None)
    assert list(sheets) == ["覆盖", "summary"] and sheets["覆盖"].equals(df)
    with pytest.raises(ValidationError, match=r"r2\.xlsx(.|\n)*31 characters(.|\n)*forbids"):
        write_excel_atomic({"x" * 40: df, "a/b": df}, tmp_path / "r2.xlsx")
    assert not (tmp_path / "r2.xlsx").exists()


def test_gpkg_all_layers_or_nothing(tmp_path, monkeypatch):
    import pyogrio

    pts = gpd.GeoDataFrame({"name": ["医院"]}, geometry=[Point(114.3, 30.5)], crs=4326)
    dest = write_gpkg_atomic({"facilities": pts, "units": gpd.GeoDataFrame(geometry=[box(114.3, 30.5, 114.31, 30.51)], crs=4326)},
                             tmp_path / "out.gpkg")
    assert sorted(pyogrio.list_layers(dest)[:, 0]) == ["facilities", "units"]
    before = dest.read_bytes()

    real_to_file = gpd.GeoDataFrame.to_file

    def flaky_to_file(self, filename, *args, layer=None, **kwargs):
        if layer == "second":
            raise OSError("disk full")
        return real_to_file(self, filename, *args, layer=layer, **kwargs)

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", flaky_to_file)
    with pytest.raises(OSError, match=re.escape(str(dest))):
        write_gpkg_atomic({"first": pts, "second": pts}, dest)
    assert dest.read_bytes() == before
    assert _leftovers(tmp_path) == []

    with pytest.raises(ValidationError, match="no CRS"):
        write_gpkg_atomic({"x": gpd.GeoDataFrame(geometry=[Point(0, 0)])}, tmp_path / "n.gpkg")


def test_atomic_path_refuses_a_folder(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        write_text_atomic(tmp_path, "x")


def test_unwritable_parent_names_the_path(tmp_path):
    # A parent that is a file cannot hold the output (fails for root too, unlike
    # permission bits): the error names the path the user asked for.
    blocker = tmp_path / "locked"
    blocker.write_text("not a folder")
    with pytest.raises(InputError, match="cannot create the parent folder .*locked"):
        write_text_atomic(blocker / "f.txt", "x")


# --------------------------------------------------------------------------- publishable maps (issue #9)
def test_scale_bar_is_metric_only():
    html = webmap.to_offline_html(webmap.offline_map((114.30, 30.50, 114.40, 30.60), control_scale=True))
    assert "imperial: false" in html and "L.control.scale()" not in html


def test_empty_layer_does_not_crash_folium():
    """An empty frame (e.g. no district border crosses the mapped area) used to end in
    folium's 'AssertionError: The field district is not available in the data'."""
    m = webmap.offline_map((114.30, 30.50, 114.40, 30.60))
    empty = gpd.GeoDataFrame({"district": pd.Series([], dtype=object)}, geometry=[], crs=4326)
    webmap.add_polygons(m, empty, name="districts", label="district", popup=True)
    assert "L.geoJson" in webmap.to_offline_html(m)


def test_html_popup_column_is_not_escaped_twice_but_others_are():
    m = webmap.offline_map((114.30, 30.50, 114.40, 30.60))
    gdf = gpd.GeoDataFrame({"name": [XSS], "pop": [webmap.tooltip_html(XSS, {"人口": 5})]},
                           geometry=[box(114.31, 30.51, 114.32, 30.52)], crs=4326)
    webmap.add_polygons(m, gdf, name="u", fields=["name"], popup_html="pop", tooltip_html="pop")
    html = webmap.to_offline_html(m)
    # folium writes the GeoJSON with &, <, > as \u0026, \u003c, \u003e
    plain = html.replace("\\u0026", "&").replace("\\u003c", "<").replace("\\u003e", ">")
    assert XSS not in plain and "&lt;img src=x" in plain and "&amp;lt;img" not in plain
    assert "<b>&lt;img src=x" in plain  # the HTML column keeps its own (escaped) markup


@pytest.mark.parametrize("name,host", [("osm", "tile.openstreetmap.org"), ("OpenStreetMap", "tile.openstreetmap.org"),
                                       ("carto-light", "basemaps.cartocdn.com")])
def test_known_basemaps(name, host):
    url, attribution = webmap.resolve_basemap(name)
    assert host in url and "OpenStreetMap contributors" in attribution


@pytest.mark.parametrize("name", ["gaode", "Amap", "tencent", "baidu",
                                  "https://wprd02.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}",
                                  "https://maponline0.bdimg.com/tile/?x={x}&y={y}&z={z}"])
def test_shifted_chinese_tiles_are_refused(name):
    with pytest.raises(webmap.BasemapError, match="GCJ-02"):
        webmap.resolve_basemap(name)
    with pytest.raises(webmap.BasemapError):
        webmap.offline_map((114.30, 30.50, 114.40, 30.60), tiles=name)
