"""The policy report card (issue #12 items 5, 6): targets.csv, gap_sites.csv, report.html, report.pdf.

The writers are tested on targets and gap-site frames built here (the shapes of the interfaces in
``circles.targets.evaluate_targets`` and ``circles.scoring.gaps.gap_sites``), so they are checked on their own;
``test_circles_report_on_wuhan`` runs the whole command with the real computations.
"""

from __future__ import annotations

import logging
import re
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from circles.errors import InputError
from circles.outputs.report import (
    GAP_COLUMNS,
    TARGET_COLUMNS,
    format_value,
    gap_sites_table,
    report_html,
    targets_table,
    traffic_light,
    write_report_files,
)
from circles.report import CircleGap, circles_below_target, city_rows, policy_report

NAN = float("nan")


def make_targets() -> pd.DataFrame:
    rows = [
        ("circle_public_activity_10", "city", "", 0.9, 0.249, "share", "not met", "10分钟公共活动圈基本形成",
         "10-minute public activity circle formed", ""),
        ("circle_public_activity_10", "district", "江夏区", 0.9, 0.36, "share", "not met", "10分钟公共活动圈基本形成",
         "10-minute public activity circle formed", ""),
        ("circle_public_activity_10", "district", "洪山区", 0.9, 0.139, "share", "not met", "10分钟公共活动圈基本形成",
         "10-minute public activity circle formed", ""),
        ("circle_life_15", "city", "", 0.9, NAN, "share", "no data", "15分钟生活圈基本形成",
         "15-minute life circle formed", "no grocery in the input"),
        ("circle_life_15", "district", "江夏区", 0.9, NAN, "share", "no data", "15分钟生活圈基本形成",
         "15-minute life circle formed", "no grocery in the input"),
        ("ambulance_stations", "city", "", 140, NAN, "stations", "no data", "急救站点达到140个",
         "140 ambulance stations", "no ambulance station in the input"),
        ("beds_per_1000", "city", "", 8.8, 9.1, "beds per 1,000 people", "met", "每千人口病床数8.8张",
         "8.8 medical beds per 1,000 residents", ""),
    ]
    return pd.DataFrame(rows, columns=list(TARGET_COLUMNS))


@dataclass(frozen=True)
class FakeGapSites:
    """The shape of circles.scoring.gaps.GapSites."""

    sites: pd.DataFrame
    method: str
    reached: bool
    share_before: float
    best_share: float
    note: str = ""


def make_sites(circle: str, district: str, n: int) -> pd.DataFrame:
    return pd.DataFrame({"circle": [circle] * n, "district": [district or None] * n, "rank": range(1, n + 1),
                         "lon": [114.41 + 0.001 * i for i in range(n)], "lat": [30.48] * n,
                         "newly_covered": [1000.0 - 100 * i for i in range(n)],
                         "share_after": [0.5 + 0.15 * i for i in range(n)]})


def make_gaps() -> list[CircleGap]:
    return [
        CircleGap("public_activity_10", "", 0.9, make_sites("public_activity_10", "", 3), "exact", False, 0.249,
                  0.8, "people off the network cannot be reached"),
        CircleGap("public_activity_10", "江夏区", 0.9, make_sites("public_activity_10", "江夏区", 2), "greedy", True,
                  0.36, 0.91),
        CircleGap("public_activity_10", "洪山区", 0.9, pd.DataFrame(), "exact", False, 0.139, 0.139,
                  "no candidate site"),
    ]


# ------------------------------------------------------------------ tables


def test_format_value():
    assert format_value(0.9, "share") == "90%"
    assert format_value(0.249, "share") == "24.9%" and format_value(24.93, "% of residents", short=True) == "24.9%"
    assert format_value(8.8, "beds per 1,000 people") == "8.8 beds per 1,000 people"
    assert format_value(4000, "AEDs") == "4,000 AEDs"
    assert format_value(NAN, "share") == "–" and format_value(None) == "–"


def test_targets_csv_columns_and_city_district_blank():
    t = make_targets()
    t["district"] = t["district"].replace("", None)
    out = targets_table(t[list(reversed(TARGET_COLUMNS))].assign(extra=1))
    assert list(out.columns[:len(TARGET_COLUMNS)]) == list(TARGET_COLUMNS) and out.columns[-1] == "extra"
    assert (out.loc[out["scope"] == "city", "district"] == "").all()


def test_traffic_light_table_has_every_scope_and_verdict():
    cells, statuses = traffic_light(make_targets(), "zh")
    assert list(statuses.columns) == ["全市", "江夏区", "洪山区"]  # city first, then the districts in order
    assert statuses.at["circle_public_activity_10", "洪山区"] == "not met"
    assert cells.at["circle_public_activity_10", "全市"] == "未达标 · 24.9%"
    assert cells.at["circle_life_15", "全市"] == "无数据"  # no value is shown where there is none
    assert cells.at["ambulance_stations", "江夏区"] == "" and statuses.at["ambulance_stations", "江夏区"] == ""
    assert cells.at["beds_per_1000", "clause"] == "每千人口病床数8.8张"
    cells_en, _ = traffic_light(make_targets(), "en")
    assert cells_en.at["beds_per_1000", "city"] == "met · 9.1"
    assert cells_en.at["beds_per_1000", "clause"] == "8.8 medical beds per 1,000 residents"


def test_gap_sites_csv_rows():
    table = gap_sites_table(make_gaps())
    assert list(table.columns[:len(GAP_COLUMNS)]) == list(GAP_COLUMNS)
    assert {"method", "target_share", "reached"} <= set(table.columns)
    assert len(table) == 5  # the third gap has no site
    assert table["district"].tolist() == ["", "", "", "江夏区", "江夏区"]
    assert table.loc[table["district"] == "江夏区", "method"].eq("greedy").all()
    # input-CRS coordinates of a candidates file travel with the sites
    sites = make_sites("public_activity_10", "", 2).assign(x_input=[1.0, 2.0], y_input=[3.0, 4.0])
    gap = FakeGapSites(sites, "exact", True, 0.2, 0.95)  # duck-typed: no circle/district attribute
    table = gap_sites_table([gap])
    assert {"x_input", "y_input"} <= set(table.columns) and table["circle"].eq("public_activity_10").all()
    assert list(gap_sites_table([]).columns[:len(GAP_COLUMNS)]) == list(GAP_COLUMNS)


# ------------------------------------------------------------------ orchestration (computations stubbed)


def test_circles_below_target():
    found = circles_below_target(make_targets())
    assert found == [("public_activity_10", "", 0.9), ("public_activity_10", "江夏区", 0.9),
                     ("public_activity_10", "洪山区", 0.9)]  # "no data" circles are left out
    pct = make_targets().assign(target=90.0, unit="%")
    assert circles_below_target(pct)[0][2] == pytest.approx(0.9)


@pytest.fixture()
def stubbed(monkeypatch):
    """circles.targets and circles.scoring.gaps replaced by stubs that record their calls."""
    calls: dict[str, list] = {"targets": [], "gaps": []}

    def evaluate_targets(result, *, formed_share=None, lang="en"):
        calls["targets"].append(formed_share)
        calls.setdefault("lang", []).append(lang)
        return make_targets()

    def gap_sites(result, circle, *, target_share, district=None, candidates=None, time_limit_s=30.0):
        calls["gaps"].append((circle, district, target_share))
        if district == "洪山区":
            raise InputError("no candidate sites in 洪山区")
        return FakeGapSites(make_sites(circle, district or "", 2), "exact", True, 0.3, 0.92)

    monkeypatch.setitem(sys.modules, "circles.targets", types.SimpleNamespace(evaluate_targets=evaluate_targets))
    monkeypatch.setitem(sys.modules, "circles.scoring.gaps", types.SimpleNamespace(gap_sites=gap_sites))
    return calls


def test_policy_report_asks_for_every_gap(stubbed):
    result = types.SimpleNamespace()
    card = policy_report(result, target_share=0.85)
    assert stubbed["targets"] == [0.85] and stubbed["lang"] == ["en"]
    assert stubbed["gaps"] == [("public_activity_10", None, 0.9), ("public_activity_10", "江夏区", 0.9),
                               ("public_activity_10", "洪山区", 0.9)]
    assert [(g.circle, g.district) for g in card.gaps] == [("public_activity_10", ""),
                                                           ("public_activity_10", "江夏区"),
                                                           ("public_activity_10", "洪山区")]
    failed = card.gaps[2]  # an input problem in one district is said, not raised
    assert not failed.reached and not len(failed.sites) and "no candidate sites" in failed.note
    assert city_rows(card.targets)["target_id"].tolist() == ["circle_public_activity_10", "circle_life_15",
                                                            "ambulance_stations", "beds_per_1000"]
    with pytest.raises(InputError, match="target_share"):
        policy_report(result, target_share=90)
    policy_report(result, lang="zh")
    assert stubbed["lang"] == ["en", "zh"]  # the notes of targets.csv follow --lang


# ------------------------------------------------------------------ files on the Wuhan analysis


@pytest.fixture(scope="module")
def written(readme_analysis, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    files = {lang: write_report_files(readme_analysis, make_targets(), make_gaps(), out / lang, lang=lang,
                                      target_share=0.9) for lang in ("zh", "en")}
    return files


@pytest.mark.wuhan
def test_report_files_written(written, readme_analysis):
    files = written["zh"]
    assert set(files) == {"targets", "gap_sites", "html", "pdf"}
    targets = pd.read_csv(files["targets"], encoding="utf-8-sig", keep_default_na=False)
    assert list(targets.columns[:len(TARGET_COLUMNS)]) == list(TARGET_COLUMNS)
    assert set(targets["status"]) <= {"met", "not met", "no data"}
    sites = pd.read_csv(files["gap_sites"], encoding="utf-8-sig")
    assert len(sites) == 5 and list(sites.columns[:len(GAP_COLUMNS)]) == list(GAP_COLUMNS)
    assert files["pdf"].read_bytes()[:5] == b"%PDF-"


@pytest.mark.wuhan
def test_report_html_is_offline_and_complete(written, readme_analysis):
    from circles.outputs.webmap import find_online_resources

    page = written["zh"]["html"].read_text(encoding="utf-8")
    assert find_online_resources(page) == []
    assert "<script" not in page and "http://" not in page and "<link" not in page
    n_circles = len(readme_analysis.policy.circles)
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', page)) == n_circles
    assert page.count('data-status="not met"') == 3 and page.count('data-status="met"') == 1
    assert page.count('data-status="no data"') == 3
    for words in ("未达标", "无数据", "达标", "数据质量", "假设", "来源", "全市", "江夏区", "精确解", "贪心近似",
                  "武政〔2022〕2号", "OpenStreetMap"):
        assert words in page, words
    english = written["en"]["html"].read_text(encoding="utf-8")
    for words in ("not met", "no data", "Data quality", "Assumptions", "Sources", "greedy", "formed"):
        assert words in english, words
    assert "未达标" not in english


@pytest.mark.wuhan
def test_report_pdf_has_cjk_font_or_says_so(readme_analysis, tmp_path, monkeypatch, caplog):
    from circles.outputs import report_pdf
    from circles.outputs.figures import find_cjk_font

    path = report_pdf.report_pdf(readme_analysis, make_targets(), make_gaps(), tmp_path / "r.pdf", lang="zh",
                                 figures={})
    data = path.read_bytes()
    assert data[:5] == b"%PDF-" and len(re.findall(rb"/Type\s*/Page\b", data)) >= 4
    if find_cjk_font() is not None:
        assert b"CJK" in data or b"SC" in data  # the CJK font is embedded
    monkeypatch.setattr(report_pdf, "find_cjk_font", lambda: None)
    with caplog.at_level(logging.WARNING, logger="circles.outputs.report_pdf"):
        path = report_pdf.report_pdf(readme_analysis, make_targets(), make_gaps(), tmp_path / "plain.pdf",
                                     lang="zh", figures={})
    assert path.read_bytes()[:5] == b"%PDF-"
    assert any("No CJK font" in r.getMessage() for r in caplog.records)


ENGLISH_NOTES = ("none in the input or none on the network", "% of 17,303 residents within 10 min", "formed = at least 90 %",
                 "facilities have no beds column", "needs community units", "Sum of aed_count over",
                 "Ambulance stations of the facility input")
CHINESE_NOTES = ("输入中没有，或不在路网上", "17,303名居民中24.9%在10分钟内", "成圈标准为至少90%", "设施没有beds列",
                 "需要社区单元", "aed_count之和", "设施输入中位于研究范围内的急救站")


@pytest.mark.wuhan
def test_report_notes_in_the_reports_language(readme_analysis, tmp_path, monkeypatch):
    """A zh report card has the per-target notes in Chinese (issue #12 item 5); the en one is unchanged."""
    from circles.outputs import report_pdf
    from circles.targets import evaluate_targets

    for evaluated in ("en", "zh"):  # whatever language the frame was evaluated in
        targets = evaluate_targets(readme_analysis, lang=evaluated)
        pages = {lang: report_html(readme_analysis, targets, [], lang=lang, figures={}) for lang in ("zh", "en")}
        for phrase in ENGLISH_NOTES:
            assert phrase not in pages["zh"], phrase
            assert phrase in pages["en"], phrase
        for phrase in CHINESE_NOTES:
            assert phrase in pages["zh"], phrase
            assert phrase not in pages["en"], phrase
    files = write_report_files(readme_analysis, evaluate_targets(readme_analysis, lang="zh"), [], tmp_path, lang="zh",
                               pdf=False)
    csv = pd.read_csv(files["targets"], encoding="utf-8-sig", keep_default_na=False)
    assert list(csv.columns) == [*TARGET_COLUMNS, "note_en"]
    assert csv["note"].str.contains("成圈比例是建模选择").any() and csv["note_en"].str.contains("modelling").any()
    # the PDF lists the notes too, in its language
    tables: list[pd.DataFrame] = []
    monkeypatch.setattr(report_pdf, "_table_pages", lambda pdf, title, frame, **kw: tables.append(frame))
    report_pdf.report_pdf(readme_analysis, evaluate_targets(readme_analysis), [], tmp_path / "r.pdf", lang="zh",
                          figures={})
    notes = next(t for t in tables if "说明" in t.columns)
    text = "\n".join(notes["说明"])
    if report_pdf.find_cjk_font() is not None:  # without a CJK font the PDF falls back to English
        assert all(p in text for p in CHINESE_NOTES) and not any(p in text for p in ENGLISH_NOTES)


@pytest.mark.wuhan
def test_report_html_without_gaps_says_so(readme_analysis):
    page = report_html(readme_analysis, make_targets(), [], lang="en", figures={})
    assert "no new sites are needed" in page


def test_wrap_counts_wide_characters():
    from circles.outputs.atomic import text_width
    from circles.outputs.report_pdf import wrap

    text = "武政〔2022〕2号: by 2025 a public open space for everyone within a 10-minute walk (10分钟公共活动圈)."
    lines = wrap(text, 20).split("\n")
    assert all(text_width(line) <= 20 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


@pytest.mark.browser
@pytest.mark.wuhan
def test_report_html_in_chromium(written, tmp_path):
    sys.path.insert(0, str(Path(__file__).parent))
    from browser import chromium_page, require_chromium

    require_chromium()
    shot = tmp_path / "report_html.png"
    with chromium_page(written["zh"]["html"], viewport=(1200, 900), settle_ms=500) as session:
        images = session.eval("Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
        cells = session.eval("document.querySelectorAll('#targets td[data-status]').length")
        red = session.eval("getComputedStyle(document.querySelector('td[data-status=\"not met\"]'))"
                           ".backgroundColor")
        session.page.screenshot(path=str(shot), full_page=True)
    report = session.report
    assert report.blocked_requests == [] and report.failed_requests == [], report.summary()
    assert report.page_errors == [] and report.console_errors == [], report.summary()
    assert images and all(images)
    assert cells == 4 * 3  # four targets x (city, 江夏区, 洪山区)
    assert red == "rgb(215, 48, 39)"
    assert shot.stat().st_size > 10_000


# ------------------------------------------------------------------ the command, end to end


@pytest.mark.wuhan
def test_circles_report_on_wuhan(wuhan_dir, tmp_path, capsys):
    """`circles report` on the Wuhan data writes the four files; every target row is computed or says no data.

    The city's gap sites from gap_sites.csv, added as facilities and analysed again, reach the share the report
    promises.  Needs circles.targets and circles.scoring.gaps.
    """
    from circles.cli import main

    out = tmp_path / "card"
    code = main(["report", "--network", str(wuhan_dir / "guanggu.osm"), "--facilities",
                 str(wuhan_dir / "weibo_pois_gcj02.csv"), "--facilities-crs", "gcj02",
                 "--population", str(wuhan_dir / "population_20plus.tif"),
                 "--population-65plus", str(wuhan_dir / "population_65plus.tif"),
                 "--districts", str(wuhan_dir / "districts.geojson"), "--out", str(out), "--lang", "en",
                 "--quiet"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    for name in ("targets.csv", "gap_sites.csv", "report.html", "report.pdf"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    targets = pd.read_csv(out / "targets.csv", encoding="utf-8-sig", keep_default_na=False)
    assert set(targets["status"]) <= {"met", "not met", "no data"}
    computed = targets["status"].ne("no data")
    assert (targets.loc[computed, "value"].astype(str) != "").all()  # a verdict always has its value
    city = targets[targets["scope"] == "city"]
    assert "circle_public_activity_10" in set(city["target_id"])
    assert city.set_index("target_id").at["circle_public_activity_10", "status"] == "not met"  # 25 % < 90 %
    sites = pd.read_csv(out / "gap_sites.csv", encoding="utf-8-sig", keep_default_na=False)
    assert set(sites["circle"]) == {"public_activity_10"}
    assert "targets, city-wide" in printed.out
    assert re.search(r"\b24\.9\b", printed.out) and "24.925" not in printed.out  # 1 decimal, like the report
    assert "none in the input or none on the network" in targets["note"].str.cat()  # --lang en: English notes
    # the city's sites, read back from gap_sites.csv, added as facilities and analysed again: the share promised
    city_sites = sites[sites["district"].astype(str) == ""]
    assert len(city_sites) and bool(city_sites["reached"].astype(str).eq("True").all())
    promised = float(city_sites["share_after"].iloc[-1])
    assert promised >= 0.9
    import geopandas as gpd

    from circles.analysis import analyze

    first = analyze(wuhan_dir / "guanggu.osm", policy="wuhan-2022", facilities=wuhan_dir / "weibo_pois_gcj02.csv",
                    facilities_crs="gcj02")
    added = gpd.GeoDataFrame({"name": city_sites["name"], "category": city_sites["category"]},
                             geometry=gpd.points_from_xy(city_sites["lon"], city_sites["lat"]), crs="EPSG:4326")
    facilities = gpd.GeoDataFrame(pd.concat([first.facilities[["name", "category", "geometry"]], added],
                                            ignore_index=True), geometry="geometry", crs="EPSG:4326")
    again = analyze(wuhan_dir / "guanggu.osm", policy="wuhan-2022", facilities=facilities, osm_facilities=False,
                    population=wuhan_dir / "population_20plus.tif",
                    population_65plus=wuhan_dir / "population_65plus.tif", districts=wuhan_dir / "districts.geojson")
    share = float(again.summary.set_index("circle").at["public_activity_10", "covered_share"])
    assert share == pytest.approx(promised, abs=1e-3)  # gap_sites.csv keeps lon/lat to 6 decimals (0.1 m)
