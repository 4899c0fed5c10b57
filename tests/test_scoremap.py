"""The score map (scores.html) on the README's Wuhan run: one language per map
(``circles score --lang``), the shared status palette, candidates and chosen sites
in colours no status uses, chosen sites numbered by rank, geometry simplified in the
analysis' own metric CRS.  Screenshots in tests/artifacts/."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from maptools import CJK, CONTROL, LATIN_WORD, LEGEND, TITLE, click_base_layer, ui_text

from circles.outputs import webmap
from circles.outputs.mapui import NO_DATA_FILL
from circles.outputs.palette import CANDIDATE_COLOURS, CANDIDATE_FLAGGED, CHOSEN_COLOUR, STATUS_COLOURS

ARTIFACTS = Path(__file__).parent / "artifacts"
pytestmark = pytest.mark.wuhan
K = 3


@pytest.fixture(scope="module")
def scored(wuhan_dir):
    from circles.analysis import analyze
    from circles.scoring import generate_candidates, score, select_sites

    result = analyze(
        wuhan_dir / "guanggu.osm", policy="wuhan-2022",
        facilities=wuhan_dir / "weibo_pois_gcj02.csv", facilities_crs="gcj02",
        population=wuhan_dir / "population_20plus.tif",
        population_65plus=wuhan_dir / "population_65plus.tif",
        districts=wuhan_dir / "districts.geojson",
    )
    cands = generate_candidates(result, categories=["public_space"], spacing_m=300)
    scores = score(result, cands, circles=["public_activity_10"], progress=False)
    selected = select_sites(result, cands, circle="public_activity_10", k=K)
    return result, scores, selected


@pytest.fixture(scope="module")
def score_maps(scored):
    from circles.scoring import score_map

    result, scores, selected = scored
    ARTIFACTS.mkdir(exist_ok=True)
    return {lang: webmap.save_map(score_map(result, scores, selected, lang=lang), ARTIFACTS / f"scores_{lang}.html")
            for lang in ("zh", "en")}


_CANDIDATE_FILLS = f"""(() => {{
    const out = [];
    for (const layer of Object.values({CONTROL}.overlays)) {{
        if (!(layer instanceof L.FeatureGroup) || layer instanceof L.GeoJSON) continue;
        layer.eachLayer(x => {{ if (x instanceof L.CircleMarker) out.push(x.options.fillColor); }});
    }}
    return out;
}})()"""


@pytest.mark.browser
def test_score_map_palette_ranks_and_offline(score_maps, scored):
    from browser import chromium_page, require_chromium

    require_chromium()
    result, scores, selected = scored
    path = score_maps["zh"]
    with chromium_page(path, viewport=(1400, 900)) as s:
        load_ms = s.eval("performance.getEntriesByType('navigation')[0].loadEventEnd")
        ranks = s.eval("Array.from(document.querySelectorAll('.circles-rank div')).map(e => e.textContent.trim())")
        badge = s.eval("getComputedStyle(document.querySelector('.circles-rank div')).backgroundColor")
        candidates = s.eval(_CANDIDATE_FILLS)
        after_fills = s.eval("Array.from(document.querySelectorAll('path.circles-units'))"
                             ".map(p => p.getAttribute('fill'))")
        title_after = s.eval(TITLE)
        s.page.screenshot(path=str(ARTIFACTS / "scores_zh.png"))
        click_base_layer(s, "10分钟公共活动圈 · 现状")
        before_fills = s.eval("Array.from(document.querySelectorAll('path.circles-units'))"
                              ".map(p => p.getAttribute('fill'))")
        title_before = s.eval(TITLE)
        scale = s.eval("Array.from(document.querySelectorAll('.leaflet-control-scale-line')).map(e => e.textContent)")
        report = s.report
    size = path.stat().st_size
    (ARTIFACTS / "scores_map.txt").write_text(f"score map: {size / 1e6:.2f} MB, load event at {load_ms:.0f} ms\n")
    assert report.ok, report.summary()
    assert ranks == [str(i) for i in range(1, K + 1)]
    assert badge == "rgb(17, 17, 17)" and CHOSEN_COLOUR == "#111111"
    # candidates: blues (or white when not scored), never a status colour
    assert len(candidates) == len(scores)
    assert set(candidates) <= set(CANDIDATE_COLOURS) | {CANDIDATE_FLAGGED}
    assert not set(candidates) & set(STATUS_COLOURS.values())
    # units: the coverage map's palette (the old score map used its own amber and greys)
    palette = set(STATUS_COLOURS.values()) | {NO_DATA_FILL}
    assert after_fills and set(after_fills) <= palette and set(before_fills) <= palette
    assert set(after_fills) != set(before_fills) or after_fills != before_fills
    assert "新增后" in title_after and "→" in title_after and "现状" in title_before
    assert len(scale) == 1 and re.fullmatch(r"\d+ k?m", scale[0])
    assert size < 5_000_000


@pytest.mark.browser
def test_score_map_is_in_one_language(score_maps, scored):
    from browser import chromium_page, require_chromium

    require_chromium()
    result, _, _ = scored
    texts = {}
    for lang, path in score_maps.items():
        with chromium_page(path, viewport=(1400, 900)) as s:
            s.page.locator(".circles-rank").first.hover()
            s.page.wait_for_timeout(150)
            tip = s.eval("document.querySelector('.leaflet-tooltip').innerText")
            s.page.locator(".leaflet-control-layers").hover()
            texts[lang] = (ui_text(s), s.eval(LEGEND), tip)
            if lang == "en":
                s.page.screenshot(path=str(ARTIFACTS / "scores_en.png"))
            assert s.report.ok, s.report.summary()
    data_words = set(result.units["district"].dropna()) | {"武政〔2022〕2号"}
    for text in texts["en"]:
        for w in data_words:
            text = text.replace(w, "")
        assert not CJK.search(text), CJK.findall(text)
    zh_ui = re.sub(r"\bk?m\b|WorldPop|OpenStreetMap|ODbL|CC BY|GCJ-02|WGS84|dq_inputs", "",
                   texts["zh"][0] + texts["zh"][1])
    assert not LATIN_WORD.search(zh_ui), LATIN_WORD.findall(zh_ui)
    assert "排序" in texts["zh"][2] and "rank" in texts["en"][2]
    # generated candidates are named by category, not "node -372"
    assert "node" not in texts["zh"][2] and "公园广场" in texts["zh"][2]


def test_score_map_simplifies_in_the_results_own_crs(scored, monkeypatch):
    """No Wuhan UTM zone hard-coded: the backdrop and units are simplified in the CRS of
    the analysis' own network, whatever the city."""
    import circles.outputs.score_map as scoremap
    from circles.scoring import score_map

    result, scores, selected = scored
    assert inspect.signature(webmap.add_backdrop).parameters["metric_crs"].default is None
    seen = []
    real_backdrop, real_light = webmap.add_backdrop, scoremap._light
    monkeypatch.setattr(webmap, "add_backdrop",
                        lambda *a, **k: seen.append(("backdrop", k.get("metric_crs"))) or real_backdrop(*a, **k))
    monkeypatch.setattr(scoremap, "_light", lambda gdf, crs, tol: seen.append(("units", crs)) or real_light(gdf, crs, tol))
    score_map(result, scores, selected, lang="en")
    own = result.networks["walk"].crs
    assert ("backdrop", own) in seen and ("units", own) in seen
    assert all(crs == own for _, crs in seen)


def test_score_map_checks_lang(scored):
    from circles.errors import InputError
    from circles.scoring import score_map

    result, scores, selected = scored
    with pytest.raises(InputError, match="lang"):
        score_map(result, scores, selected, lang="fr")


@pytest.mark.parametrize("name,zh,en", [
    ("生成候选点 41 / generated site 41", "S-1 生成候选点 41", "S-1 generated site 41"),
    ("node -372", "S-1 (公园广场)", "S-1 (parks and squares)"),
    ("光谷广场", "S-1 光谷广场", "S-1 光谷广场"),  # a user's own name is kept as given
    (None, "S-1 (公园广场)", "S-1 (parks and squares)"),
])
def test_candidate_labels_in_the_map_language(name, zh, en):
    from circles.outputs.score_map import _candidate_label

    row = {"name": name, "candidate_id": "S-1", "category": "public_space"}
    assert _candidate_label(row, "zh") == zh and _candidate_label(row, "en") == en
