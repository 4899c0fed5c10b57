"""scores.html from the README's own-sites example (QA items 3, 9, 16): the page opens on the
first circle with chosen sites, each circle's layers show only its own candidates and chosen
sites, "无数据 → 51%" when there was no data before, candidate tooltips carry the scores.csv
columns, unit popups say people, minutes, missing categories and district; a <title> and
<html lang>.  Screenshots in tests/artifacts/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from maptools import CONTROL, TITLE, click_base_layer

from circles.outputs import webmap
from circles.outputs.maptext import TEXT, circle_label, fmt_people

ARTIFACTS = Path(__file__).parent / "artifacts"
REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.wuhan


@pytest.fixture(scope="module")
def own_sites(wuhan_dir):
    """As `circles score ... --candidates data/illustrative_sites_gcj02.csv --select 2` does it:
    every circle gets a selection, empty where none of the sites serves it."""
    from circles.analysis import analyze
    from circles.errors import InputError
    from circles.scoring import load_candidates, no_selection, score, select_sites

    result = analyze(
        wuhan_dir / "guanggu.osm", policy="wuhan-2022",
        facilities=wuhan_dir / "weibo_pois_gcj02.csv", facilities_crs="gcj02",
        population=wuhan_dir / "population_20plus.tif",
        population_65plus=wuhan_dir / "population_65plus.tif",
        districts=wuhan_dir / "districts.geojson",
    )
    cands = load_candidates(REPO / "data" / "illustrative_sites_gcj02.csv", candidates_crs="gcj02")
    scores = score(result, cands, progress=False)
    selected = []
    for c in result.policy.circles:
        try:
            selected.append(select_sites(result, cands, circle=c.id, k=2))
        except InputError as exc:
            selected.append(no_selection(result, c.id, k=2, method="greedy", reason=str(exc)))
    return result, scores, selected


@pytest.fixture(scope="module")
def pages(own_sites):
    from circles.scoring import score_map

    result, scores, selected = own_sites
    ARTIFACTS.mkdir(exist_ok=True)
    return {lang: webmap.save_map(score_map(result, scores, selected, lang=lang),
                                  ARTIFACTS / f"qa_own_sites_{lang}.html") for lang in ("zh", "en")}


def _chosen(own_sites):
    return [s for s in own_sites[2] if len(s.table)]


def test_pages_have_title_and_lang(pages):
    for lang, path in pages.items():
        html = path.read_text(encoding="utf-8")
        assert re.search(r'<html lang="%s"' % ("zh-CN" if lang == "zh" else "en"), html)
        title = re.search(r"<title>(.*?)</title>", html).group(1)
        assert TEXT[lang]["score_title"] in title


# JS: the rank badges and candidate dots currently on the map, with their tooltips
_ON_MAP = f"""(() => {{
    const out = {{badges: [], dots: []}};
    for (const layer of Object.values({CONTROL}.overlays)) {{
        if (!(layer instanceof L.FeatureGroup) || layer instanceof L.GeoJSON || !layer._map) continue;
        layer.eachLayer(x => {{
            const tip = x.getTooltip() ? x.getTooltip().getContent() : '';
            const text = typeof tip === 'string' ? tip : tip.textContent;
            if (x instanceof L.CircleMarker) out.dots.push(text);
            else if (x instanceof L.Marker) out.badges.push(text);
        }});
    }}
    return out;
}})()"""


def _ids(texts):
    return sorted(re.findall(r"S-00\d", " ".join(texts)))


@pytest.mark.browser
def test_opens_on_first_circle_with_chosen_sites_and_layers_keep_to_their_circle(pages, own_sites):
    from browser import chromium_page, require_chromium

    require_chromium()
    result, scores, _ = own_sites
    chosen = _chosen(own_sites)
    assert len(chosen) >= 2, "the example chooses sites for two circles"
    first, second = chosen[0], chosen[1]
    with chromium_page(pages["zh"]) as session:
        session.page.screenshot(path=str(ARTIFACTS / "qa_own_sites_zh_open.png"))
        title = session.eval(TITLE)
        assert circle_label(result.circle(first.circle), "zh") in title, title  # not blank
        on = session.eval(_ON_MAP)
        assert _ids(on["badges"]) == sorted(first.table["candidate_id"]), on["badges"]
        own = set(scores[scores["circle"] == first.circle]["candidate_id"])
        assert set(_ids(on["dots"])) <= own and _ids(on["dots"]), on["dots"]
        # the emergency circle had no data before the new sites: the title says so
        if first.circle == "emergency_medical":
            assert re.search(r"无数据 → \d+%", title), title
        click_base_layer(session, f"{circle_label(result.circle(second.circle), 'zh')} · {TEXT['zh']['after']}")
        session.page.screenshot(path=str(ARTIFACTS / "qa_own_sites_zh_second.png"))
        on = session.eval(_ON_MAP)
        assert _ids(on["badges"]) == sorted(second.table["candidate_id"]), on["badges"]
        own = set(scores[scores["circle"] == second.circle]["candidate_id"])
        assert set(_ids(on["dots"])) <= own and _ids(on["dots"]), on["dots"]
        assert session.report.ok, session.report.summary()


@pytest.mark.browser
def test_candidate_tooltips_carry_the_scores_columns(pages, own_sites):
    from browser import chromium_page, require_chromium

    require_chromium()
    _, scores, _ = own_sites
    t = TEXT["en"]
    with chromium_page(pages["en"]) as session:
        dots = session.eval(f"""(() => {{
            const out = [];
            for (const layer of Object.values({CONTROL}.overlays)) {{
                if (!(layer instanceof L.FeatureGroup) || layer instanceof L.GeoJSON) continue;
                layer.eachLayer(x => {{ if (x instanceof L.CircleMarker) {{
                    const tip = x.getTooltip().getContent();
                    out.push(typeof tip === 'string' ? tip : tip.textContent); }} }});
            }}
            return out;
        }})()""")
    assert len(dots) == len(scores)
    assert scores["candidate_id"].is_unique  # each illustrative site serves one circle
    for row in scores.itertuples():
        text = next(d for d in dots if f"{row.candidate_id} " in d)
        cells = {k.strip(): v.strip() for k, v in re.findall(r"<br>([^<>:]+): ([^<]*)", text)}
        assert cells.get(t["newly"]) == fmt_people(row.newly_covered_population), text
        assert cells.get(t["improved"]) == fmt_people(row.faster_population), text
        assert cells.get(t["reachable"]) == fmt_people(row.newly_reachable_population), text


def test_unit_popups_say_people_minutes_missing_and_district(pages):
    import json

    html = pages["zh"].read_text(encoding="utf-8")
    t = TEXT["zh"]
    lists = [json.loads(m) for m in re.findall(r"aliases = (\[[^\]]*\]);", html)]
    wanted = {t["status"], t["share"], t["population"], t["missing"] + f" ({t['before']})", t["district"]}
    assert any(wanted <= set(aliases) for aliases in lists), lists
