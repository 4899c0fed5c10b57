"""Map outputs through the command line (issue #9 seen item 6, build item 6):
districts without a ``zone`` column and ``--units osm --districts`` write a map instead
of crashing inside folium; ``--lang`` for ``circles score``; ``--basemap`` (off by
default, exactly one tile URL allowed, GCJ-02/BD-09 tiles refused)."""

from __future__ import annotations

import re

import folium
import geopandas as gpd
import pytest
from maptools import CJK

from circles.cli import main
from circles.outputs import webmap

pytestmark = pytest.mark.wuhan


def _run(args, capsys):
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.fixture(scope="module")
def zoneless(wuhan_dir, tmp_path_factory):
    d = gpd.read_file(wuhan_dir / "districts.geojson").drop(columns=["zone"])
    path = tmp_path_factory.mktemp("districts") / "districts_no_zone.geojson"
    d.to_file(path, driver="GeoJSON")
    return path


@pytest.mark.parametrize("units", [None, "osm"])
def test_analyze_with_districts_without_zone_writes_the_map(wuhan_dir, zoneless, tmp_path, capsys, units):
    out = tmp_path / "out"
    args = ["analyze", "--network", str(wuhan_dir / "guanggu.osm"), "--districts", str(zoneless),
            "--out", str(out), "--quiet"]
    if units:
        args += ["--units", units]
    code, printed = _run(args, capsys)
    assert code == 0, printed
    assert "Traceback" not in printed and "AssertionError" not in printed
    html = (out / "map.html").read_text(encoding="utf-8")
    assert webmap.find_online_resources(html) == [] and webmap.tile_urls(html) == []


def test_analyze_osm_units_with_districts_writes_the_map(wuhan_dir, tmp_path, capsys):
    out = tmp_path / "out"
    code, printed = _run(["analyze", "--network", str(wuhan_dir / "guanggu.osm"), "--units", "osm",
                          "--districts", str(wuhan_dir / "districts.geojson"), "--out", str(out), "--quiet"],
                         capsys)
    assert code == 0, printed
    assert (out / "map.html").stat().st_size > 100_000


@pytest.mark.browser
def test_zoneless_osm_units_map_opens_cleanly(wuhan_dir, zoneless, tmp_path, capsys):
    from browser import open_in_chromium, require_chromium

    require_chromium()
    out = tmp_path / "m.html"
    code, printed = _run(["map", "--network", str(wuhan_dir / "guanggu.osm"), "--units", "osm",
                          "--districts", str(zoneless), "--out", str(out), "--lang", "en", "--quiet"], capsys)
    assert code == 0, printed
    report = open_in_chromium(out, evaluate={"units": "document.querySelectorAll('path.circles-units').length"})
    assert report.ok, report.summary()
    assert report.values["units"] > 0


@pytest.mark.parametrize("basemap", ["gaode", "amap", "tencent", "baidu",
                                     "https://webrd01.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}&style=8",
                                     "https://rt0.map.gtimg.com/tile?z={z}&x={x}&y={y}"])
def test_gcj02_basemaps_are_refused_before_any_work(wuhan_dir, tmp_path, capsys, basemap):
    code, printed = _run(["map", "--network", str(wuhan_dir / "guanggu.osm"), "--basemap", basemap,
                          "--out", str(tmp_path / "m.html"), "--quiet"], capsys)
    assert code == 2 and "--basemap" in printed and "GCJ-02" in printed and "WGS84" in printed
    assert "Traceback" not in printed
    assert not (tmp_path / "m.html").exists()


def test_unknown_basemap_is_refused(wuhan_dir, tmp_path, capsys):
    code, printed = _run(["analyze", "--network", str(wuhan_dir / "guanggu.osm"), "--basemap", "satellite",
                          "--out", str(tmp_path / "o"), "--quiet"], capsys)
    assert code == 2 and "osm" in printed and "carto-light" in printed


def test_basemap_osm_allows_exactly_its_tile_url(wuhan_dir, tmp_path, capsys):
    out = tmp_path / "o"
    code, printed = _run(["analyze", "--network", str(wuhan_dir / "guanggu.osm"), "--basemap", "osm",
                          "--out", str(out), "--quiet"], capsys)
    assert code == 0, printed
    html = (out / "map.html").read_text(encoding="utf-8")
    assert webmap.tile_urls(html) == [webmap.BASEMAPS["osm"][0]]
    assert webmap.find_online_resources(html) == []  # still every script inlined


def test_save_map_refuses_tiles_not_asked_for(tmp_path):
    bounds = (114.50, 30.47, 114.54, 30.50)
    m = webmap.offline_map(bounds, tiles="osm")
    webmap.save_map(m, tmp_path / "ok.html")
    folium.TileLayer("https://tiles.example.org/{z}/{x}/{y}.png", attr="x").add_to(m)
    with pytest.raises(webmap.UnvendoredAssetError, match="tiles.example.org"):
        webmap.save_map(m, tmp_path / "extra.html")
    assert not (tmp_path / "extra.html").exists()
    plain = folium.Map(location=[30.48, 114.52], tiles="OpenStreetMap")
    with pytest.raises(webmap.UnvendoredAssetError, match="tile.openstreetmap.org"):
        webmap.save_map(plain, tmp_path / "plain.html")
    webmap.save_map(plain, tmp_path / "allowed.html", allow_tiles=[webmap.BASEMAPS["osm"][0]])
    gcj = folium.Map(location=[30.48, 114.52], tiles="https://webrd01.is.autonavi.com/{z}/{x}/{y}", attr="a")
    with pytest.raises(webmap.BasemapError, match="GCJ-02"):
        webmap.save_map(gcj, tmp_path / "gcj.html", allow_tiles=["https://webrd01.is.autonavi.com/{z}/{x}/{y}"])


@pytest.mark.browser
def test_basemap_map_requests_only_its_tiles(wuhan_dir, tmp_path, capsys):
    from browser import open_in_chromium, require_chromium

    require_chromium()
    out = tmp_path / "m.html"
    code, printed = _run(["map", "--network", str(wuhan_dir / "guanggu.osm"), "--basemap", "osm",
                          "--out", str(out), "--quiet"], capsys)
    assert code == 0, printed
    report = open_in_chromium(out, settle_ms=800)
    assert report.leaflet_loaded and report.page_errors == [] and report.failed_requests == []
    # offline, the only errors are the tiles the browser could not fetch
    assert all("ERR_INTERNET_DISCONNECTED" in e for e in report.console_errors), report.console_errors
    assert report.blocked_requests, "the basemap should ask for tiles"
    assert all(u.startswith("https://tile.openstreetmap.org/") for u in report.blocked_requests)


def test_score_lang_flag(wuhan_dir, tmp_path, capsys):
    out = tmp_path / "s"
    code, printed = _run(["score", "--network", str(wuhan_dir / "guanggu.osm"), "--circle", "public_activity_10",
                          "--spacing-m", "400", "--k", "2", "--lang", "en", "--out", str(out), "--quiet"],
                         capsys)
    assert code == 0, printed
    html = (out / "scores.html").read_text(encoding="utf-8")
    titles = re.findall(r'circles-title-main\\">([^<]*)<', html)
    assert titles and all(not CJK.search(t) for t in titles), titles
    assert "10-minute public activity circle" in html and "现状" not in html
    code, printed = _run(["score", "--network", str(wuhan_dir / "guanggu.osm"), "--lang", "fr",
                          "--out", str(out), "--quiet"], capsys)
    assert code == 2 and "--lang" in printed
