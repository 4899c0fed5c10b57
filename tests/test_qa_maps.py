"""Coverage-map QA items: the Chinese info box says the same likely cause as the console
and the English map (5), its totals row reads 合计 / total (5), the no-data note tells "none
in the input" from "all outside the study area" and "none reaches the network" (7), every
page has a <title> and <html lang> (16), and a map of point units (the official community
list) opens on the study area with streets, facilities, districts and the point in its status
colour (4).  Screenshots in tests/artifacts/."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from circles import inputs as inputs_mod
from circles.outputs.maptext import cause_zh
from circles.outputs.mapui import info_box_html

ARTIFACTS = Path(__file__).parent / "artifacts"
LATIN = re.compile(r"[A-Za-z]{3,}")


def _crs_cause() -> str:
    """A real crs_hypothesis text: GCJ-02 points declared as WGS84 around a small box."""
    import shapely

    from circles.coords import wgs84_to_gcj02

    lon = np.array([114.510, 114.515, 114.520])
    lat = np.array([30.480, 30.482, 30.485])
    area = shapely.box(114.505, 30.475, 114.525, 30.490)
    glon, glat = wgs84_to_gcj02(lon, lat)  # GCJ-02 numbers, read as WGS84 (declared wrong)
    return inputs_mod.crs_hypothesis(np.asarray(glon), np.asarray(glat), "wgs84", area)


def test_every_cause_circles_writes_has_a_faithful_translation():
    causes = {
        inputs_mod.CAUSE_LARGER: "输入覆盖的范围大于路网范围",
        inputs_mod.NONE_IN_INPUT: "输入中没有",
        f"{inputs_mod.CAUSE_ELSEWHERE} (the nearest point is 25 km from the study area)": "25 公里",
        _crs_cause(): "请声明为 gcj02",
    }
    for english, expected in causes.items():
        assert english, "the cause text exists"
        zh = cause_zh(english)
        assert expected in zh, (english, zh)
        assert not LATIN.search(re.sub(r"GCJ-02|WGS84|BD-09|gcj02|wgs84|bd09|--crs", "", zh)), zh
    # the larger-area cause is not turned into a coordinate-system or another-city diagnosis
    assert "坐标" not in cause_zh(inputs_mod.CAUSE_LARGER)
    assert "城市" not in cause_zh(inputs_mod.CAUSE_LARGER)
    assert "别的" not in cause_zh(inputs_mod.NONE_IN_INPUT) and "核对" not in cause_zh(inputs_mod.NONE_IN_INPUT)


def _inputs_table() -> pd.DataFrame:
    rows = [("facilities", "culture", 65, 0, 65, 0, 6000.0, inputs_mod.CAUSE_LARGER),
            ("facilities", "grocery", 16, 0, 16, 0, 9600.0, inputs_mod.CAUSE_LARGER),
            ("facilities", "kindergarten", 0, 0, 0, 0, np.nan, inputs_mod.NONE_IN_INPUT),
            ("facilities", "primary_care", 47, 5, 42, 5, 500.0, ""),
            ("facilities", "all", 128, 5, 123, 5, 500.0, "")]
    return pd.DataFrame(rows, columns=["input", "category", "total", "inside", "outside", "off_network",
                                       "nearest_outside_m", "likely_cause"])


def test_info_box_says_the_same_cause_in_both_languages_and_a_totals_row():
    table = _inputs_table()
    zh, en = info_box_html(table, "zh"), info_box_html(table, "en")
    assert zh.count("输入覆盖的范围大于路网范围") == 2 and en.count(inputs_mod.CAUSE_LARGER) == 2
    assert "坐标系" not in zh and "其他城市" not in zh
    assert "输入中没有（无数据）" in zh and "请核对" not in zh
    assert "<td>合计</td>" in zh and "<td>total</td>" in en


def test_no_data_note_tells_absent_from_outside_and_off_network():
    from types import SimpleNamespace

    from circles.outputs.coverage_map import _no_data_note
    from circles.policies import load_policy

    life = load_policy("wuhan-2022").circle("life_15")
    table = _inputs_table()
    summary = pd.DataFrame({"circle": ["life_15"], "status": ["no_data"],
                            "no_data": ["grocery, primary_care, kindergarten"]})
    result = SimpleNamespace(summary=summary, data_quality={"inputs": table})
    zh, en = _no_data_note(result, life, "zh"), _no_data_note(result, life, "en")
    assert "菜市场/超市均在研究区外" in zh, zh
    assert "社区卫生/诊所均未接入路网" in zh, zh
    assert "输入中没有幼儿园" in zh and "输入中没有菜市场" not in zh, zh
    assert "outside the study area" in en and "no kindergarten in the input" in en.lower(), en
    # without an inputs table nothing is known: "none in the input" is the old, plain wording
    bare = SimpleNamespace(summary=summary, data_quality={})
    assert _no_data_note(bare, life, "zh").startswith("输入中没有")


# ------------------------------------------------------------------ point units (the official list)


@pytest.fixture(scope="module")
def communities(wuhan_dir):
    from circles.analysis import analyze

    return analyze(
        wuhan_dir / "guanggu.osm", policy="wuhan-2022",
        facilities=wuhan_dir / "weibo_pois_gcj02.csv", facilities_crs="gcj02",
        units=wuhan_dir / "communities_gcj02.csv", units_crs="gcj02", drop_missing=True,
        population=wuhan_dir / "population_20plus.tif",
        population_65plus=wuhan_dir / "population_65plus.tif",
        districts=wuhan_dir / "districts.geojson",
    )


@pytest.fixture(scope="module")
def community_maps(communities):
    from circles.outputs import webmap
    from circles.outputs.coverage_map import coverage_map

    ARTIFACTS.mkdir(exist_ok=True)
    return {lang: webmap.save_map(coverage_map(communities, lang=lang), ARTIFACTS / f"qa_communities_{lang}.html")
            for lang in ("zh", "en")}


@pytest.mark.wuhan
def test_coverage_map_has_title_and_lang(community_maps):
    for lang, path in community_maps.items():
        html = path.read_text(encoding="utf-8")
        assert f'<html lang="{"zh-CN" if lang == "zh" else "en"}"' in html
        title = re.search(r"<title>(.*?)</title>", html).group(1)
        assert ("服务圈覆盖" if lang == "zh" else "Service-circle coverage") in title


_UNIT = """(() => {
    const m = window[Object.keys(window).find(k => /^map_/.test(k) && window[k] instanceof L.Map)];
    const b = m.getBounds();
    const units = [], pins = document.querySelectorAll('img.leaflet-marker-icon[src*="marker-icon"]').length;
    m.eachLayer(l => { if (l instanceof L.CircleMarker && l.feature && l.options.className
                           && l.options.className.indexOf('circles-units') >= 0) units.push(l.options.fillColor); });
    return {span_m: m.distance(b.getSouthWest(), b.getNorthEast()), units: units, pins: pins,
            roads: document.querySelectorAll('path.circles-backdrop, .circles-backdrop path').length};
})()"""


@pytest.mark.wuhan
@pytest.mark.browser
def test_point_unit_map_opens_on_the_study_area_in_status_colour(communities, community_maps):
    from browser import open_in_chromium, require_chromium
    from maptools import CONTROL

    from circles.outputs.palette import STATUS_COLOURS

    require_chromium()
    units = communities.units
    assert len(units) == 1 and units.geometry.geom_type.iloc[0] == "Point"
    report = open_in_chromium(community_maps["zh"], screenshot=ARTIFACTS / "qa_communities_zh.png",
                              evaluate={"probe": _UNIT,
                                        "overlays": f"Object.keys({CONTROL}.overlays)"})
    assert report.ok, report.summary()
    probe = report.values["probe"]
    assert probe["span_m"] > 2000, probe  # the study area (~3.6 km), not 100 m around the point
    status = communities.units[f"{_shown(communities)}_status"].iloc[0]
    assert probe["units"] == [STATUS_COLOURS[status]], probe  # a disc in its status colour, no blue pin
    assert probe["pins"] == 0, probe
    names = " ".join(report.values["overlays"])
    assert "设施" in names, names            # facility layers
    assert "行政区界" in names, names        # the district borders given with --districts


def _shown(result) -> str:
    from circles.outputs.coverage_map import _pick_default

    return _pick_default(result, [c.id for c in result.policy.circles])


@pytest.mark.wuhan
def test_point_unit_map_draws_the_whole_walk_network(communities, community_maps):
    html = community_maps["zh"].read_text(encoding="utf-8")
    # the backdrop is drawn for the study area (was: a small patch around the one point)
    lons = [float(v) for v in re.findall(r"\[(114\.\d{4,}),\s*30\.\d+\]", html)]
    assert lons, "the walk network is in the page"
    west, _, east, _ = communities.area.bounds
    assert min(lons) < west + 0.003 and max(lons) > east - 0.003, (min(lons), max(lons), west, east)
