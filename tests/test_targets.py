"""Policy targets (#12): capacities read from an inventory, every target met / not met / no data.

Two analyses: the README's Wuhan analysis (real data: no capacities, no ambulance
stations, no communities, so most targets are "no data"), and a small
ILLUSTRATIVE inventory written here (made-up hospitals, homes, AEDs …, inside
the Optics Valley box) on three made-up community units, each value checked by hand.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from circles.errors import InputError
from circles.facilities import read_facility_file
from circles.facility_capacity import find_capacity_columns, flags
from circles.targets import TARGET_COLUMNS, evaluate_targets

WUHAN_TARGET_IDS = [
    "circle_life_15", "circle_culture_sports_12", "circle_public_activity_10", "circle_emergency_medical",
    "circle_elderly_care_15", "ambulance_stations", "aed_public", "beds_per_1000", "tertiary_hospitals",
    "childcare_places_per_1000", "nursing_bed_share", "medical_care_integration",
    "large_elderly_centre_each_central_district", "culture_fitness_station_each_community", "family_elderly_beds",
]

# Illustrative only (not real facilities): three communities U1 (洪山区, central), U2 and U3 (江夏区).
ILLUSTRATIVE_INVENTORY = """名称,类型,经度,纬度,床位数,护理型床位,等级,医养结合,托位数,AED数量,家庭养老床位
甲医院,医院,114.502,30.480,1000,,三级甲等,,,2,
丙养老院,养老院,114.504,30.485,400,300,,是,,,100
一社区文化站,文化站,114.506,30.488,,,,,,,
乙医院,医院,114.525,30.480,300,,二级甲等,,,,
社区卫生服务中心,社区卫生服务中心,114.527,30.482,50,,,,,,
丁养老院,养老院,114.529,30.484,100,40,,否,,,
托育中心,托育,114.525,30.486,,,,,60,,
地铁站AED,AED,114.527,30.488,,,,,,3,
健身广场,健身中心,114.529,30.488,,,,,,,
日间照料中心,日间照料中心,114.533,30.480,,,,,,,
商场AED,AED,114.534,30.484,,,,,,,
120急救站,急救中心,114.535,30.488,,,,,,,
区外医院,医院,114.515,30.485,999,,三级甲等,,,,
"""


def _city(table):
    return table[table["scope"] == "city"].set_index("target_id")


def _at(table, target_id, district=""):
    scope = "district" if district else "city"
    rows = table[(table["target_id"] == target_id) & (table["district"] == district) & (table["scope"] == scope)]
    assert len(rows) == 1, (target_id, district, rows)
    return rows.iloc[0]


# ------------------------------------------------------------------ capacities


def test_capacity_columns_found_by_chinese_and_english_names():
    assert find_capacity_columns(["name", "Beds", "nursing_beds", "托位数", "等级", "是否医养结合", "AED"], "x.csv") == {
        "beds": "Beds", "nursing_beds": "nursing_beds", "childcare_places": "托位数", "level": "等级",
        "medical_care_integrated": "是否医养结合", "aed_count": "AED"}
    assert find_capacity_columns(["名称", "类型", "经度", "纬度"], "x.csv") == {}


def test_flags_read_yes_and_no_in_both_languages():
    values = flags(pd.Series(["是", "否", "有", "无", "YES", "no", "", None, "unknown"]))
    assert values[:6].tolist() == [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]
    assert np.isnan(values[6:]).all()


def test_inventory_capacities_on_facilities(tmp_path):
    path = tmp_path / "illustrative_inventory.csv"
    path.write_text("名称,类型,经度,纬度,床位数,等级,医养结合,AED数量\n"
                    "甲医院,医院,114.5,30.48,\"1,200\",三级甲等,,2\n"
                    "乙养老院,养老院,114.5,30.49,abc,,是,\n"
                    "丙AED,AED,114.51,30.49,-5,,否,是\n", encoding="utf-8")
    fs = read_facility_file(path, crs="wgs84")
    f = fs.facilities.drop_duplicates("feature_id").set_index("name")
    assert list(fs.facilities.columns)[-5:] == ["beds", "level", "medical_care_integrated", "aed_count", "geometry"]
    assert f.loc["甲医院", "beds"] == 1200 and f.loc["甲医院", "level"] == "三级甲等"
    assert np.isnan(f.loc["乙养老院", "beds"]) and np.isnan(f.loc["丙AED", "beds"])  # text, negative: missing
    assert f.loc["乙养老院", "medical_care_integrated"] == 1.0 and f.loc["丙AED", "medical_care_integrated"] == 0.0
    assert f.loc["丙AED", "category"] == "aed" and f.loc["丙AED", "aed_count"] == 1.0  # 是 = one device
    # a hospital with AEDs is also an AED location (two rows: primary_care and aed, one feature)
    assert fs.facilities.loc[fs.facilities["name"] == "甲医院", "category"].tolist() == ["primary_care", "aed"]
    assert any("1 facilities with AEDs" in n for n in fs.notes)
    assert any("'床位数' read as beds (2 cell(s) not usable" in n for n in fs.notes)


# ------------------------------------------------------------------ the README's Wuhan analysis


@pytest.mark.wuhan
def test_wuhan_every_target_is_computed_or_no_data(readme_analysis):
    table = evaluate_targets(readme_analysis)
    assert list(table.columns) == [*TARGET_COLUMNS, "note_zh"]  # the note in Chinese too (#12 item 5)
    assert list(dict.fromkeys(table["target_id"])) == WUHAN_TARGET_IDS
    assert set(table["status"]) <= {"met", "not met", "no data"}
    assert set(table["scope"]) == {"city", "district"}
    assert (table.loc[table["status"] == "no data", "value"].isna()).all()
    assert (table.loc[table["status"] == "no data", "note"].str.len() > 0).all()
    city = _city(table)
    # the only circle with facilities on the network: parks and squares, 24.9 % of 17,303 adults
    summary = readme_analysis.summary.set_index("circle")
    share = summary.loc["public_activity_10", "covered_share"]
    assert city.loc["circle_public_activity_10", "value"] == pytest.approx(100 * share)
    assert city.loc["circle_public_activity_10", "status"] == "not met"
    assert city.loc["circle_public_activity_10", "target"] == 90.0
    # the Weibo places have no capacities, no ambulance stations, no elderly care, no AEDs: no data, and why
    for tid, why in [("beds_per_1000", "no beds column"), ("tertiary_hospitals", "no level column"),
                     ("ambulance_stations", "no ambulance_station facilities"), ("aed_public", "no aed facilities"),
                     ("nursing_bed_share", "no elderly_care facilities"), ("circle_life_15", "grocery"),
                     ("culture_fitness_station_each_community", "needs community units")]:
        assert city.loc[tid, "status"] == "no data", tid
        assert why in city.loc[tid, "note"], (tid, city.loc[tid, "note"])
    # districts of the analysis: Optics Valley spans 洪山区 (central) and 江夏区
    districts = table[table["scope"] == "district"]
    assert set(districts["district"]) == {"洪山区", "江夏区"}
    large = table[table["target_id"] == "large_elderly_centre_each_central_district"]
    assert large["district"].tolist() == ["洪山区"]
    for district in ("洪山区", "江夏区"):
        row = _at(table, "circle_public_activity_10", district)
        frame = readme_analysis.district_summary
        expected = frame[(frame["circle"] == "public_activity_10") & (frame["district"] == district)]["covered_share"]
        assert row["value"] == pytest.approx(100 * float(expected.iloc[0]))


# English phrases of the notes, and what the Chinese notes say instead (from the same numbers)
ENGLISH_PHRASES = ("none in the input or none on the network", "residents within", "formed = at least",
                   "facilities have no", "needs community units", "Sum of aed_count", "modelling choice",
                   "Ambulance stations of the facility input", "needs a districts layer")


@pytest.mark.wuhan
def test_wuhan_notes_in_chinese(readme_analysis):
    en = evaluate_targets(readme_analysis)
    zh = evaluate_targets(readme_analysis, lang="zh")
    assert list(zh.columns) == [*TARGET_COLUMNS, "note_en"]
    assert zh["note"].tolist() == en["note_zh"].tolist() and zh["note_en"].tolist() == en["note"].tolist()
    pd.testing.assert_frame_equal(zh.drop(columns=["note", "note_en"]), en.drop(columns=["note", "note_zh"]))
    text = "\n".join(zh["note"])
    for phrase in ENGLISH_PHRASES:
        assert phrase not in text, phrase
    city, city_en = _city(zh), _city(en)
    # the same numbers: 24.9 % of 17,303 adults within 10 min
    share = city.loc["circle_public_activity_10", "note"]
    value = city_en.loc["circle_public_activity_10", "value"]
    assert f"{value:.1f}%" in share and "10分钟内" in share and "成圈标准为至少90%" in share, share
    assert city_en.loc["circle_public_activity_10", "note"].split(" % of ")[1].split(" ")[0] in share
    for tid, why in [("beds_per_1000", "设施没有beds列"), ("ambulance_stations", "输入中没有急救站设施"),
                     ("circle_life_15", "没有可用的菜市场/超市"), ("culture_fitness_station_each_community", "需要社区单元"),
                     ("aed_public", "输入中没有公共场所AED设施")]:
        assert why in city.loc[tid, "note"], (tid, city.loc[tid, "note"])
    assert "成圈比例是建模选择" in city.loc["circle_public_activity_10", "note"]  # the pack's note_zh
    with pytest.raises(InputError, match="lang"):
        evaluate_targets(readme_analysis, lang="fr")


def test_every_wuhan_target_note_has_chinese():
    from circles.policies import load_policy

    for t in load_policy("wuhan-2022").targets:
        assert t.note and t.note_zh, t.id
        cjk = sum("\u4e00" <= c <= "\u9fff" for c in t.note_zh)
        assert cjk >= len(t.note_zh) // 3, (t.id, t.note_zh)  # Chinese words, column names aside


def test_note_zh_is_checked():
    from circles.policy_targets import parse_target

    base = {"id": "x", "clause_zh": "甲", "clause_en": "a", "measure": "count", "categories": ["aed"], "target": 1}
    problems: list[str] = []
    target = parse_target({**base, "note": "n", "note_zh": "说明"}, "targets[0]", (), problems)
    assert not problems and target is not None and target.note_zh == "说明"
    parse_target({**base, "note_zh": 3}, "targets[0]", (), problems)
    parse_target({**base, "note_zh": "说明"}, "targets[1]", (), problems)
    assert any("targets[0].note_zh: expected a string" in p for p in problems), problems
    assert any("targets[1].note_zh: given without note" in p for p in problems), problems


@pytest.mark.wuhan
def test_wuhan_formed_share_is_overridable(readme_analysis):
    table = evaluate_targets(readme_analysis, formed_share=0.2)
    assert _at(table, "circle_public_activity_10")["status"] == "met"  # 24.9 % >= 20 %
    assert _at(table, "circle_public_activity_10", "江夏区")["status"] == "met"  # 36.0 %
    assert _at(table, "circle_public_activity_10", "洪山区")["status"] == "not met"  # 13.9 %
    assert _at(table, "circle_public_activity_10")["target"] == 20.0
    for bad in (0, 1.5, -0.1, True):
        with pytest.raises(InputError, match="target-share"):
            evaluate_targets(readme_analysis, formed_share=bad)


# ------------------------------------------------------------------ an illustrative inventory, by hand


@pytest.fixture(scope="module")
def illustrative(wuhan_dir, tmp_path_factory):
    """Optics Valley streets, three made-up community units (1,000 / 2,000 / 3,000 people) and the
    made-up inventory above: every number below can be checked on paper."""
    from circles.analysis import analyze

    path = tmp_path_factory.mktemp("targets") / "illustrative_inventory.csv"
    path.write_text(ILLUSTRATIVE_INVENTORY, encoding="utf-8")
    units = gpd.GeoDataFrame(
        {"unit_id": ["U1", "U2", "U3"], "name": ["社区一", "社区二", "社区三"],
         "population": [1000.0, 2000.0, 3000.0], "population_65plus": [100.0, 200.0, 300.0]},
        geometry=[shapely.box(114.500, 30.478, 114.508, 30.490), shapely.box(114.523, 30.478, 114.531, 30.490),
                  shapely.box(114.531, 30.478, 114.537, 30.490)], crs="EPSG:4326")
    result = analyze(wuhan_dir / "guanggu.osm", policy="wuhan-2022", facilities=path, facilities_crs="wgs84",
                     units=units, districts=wuhan_dir / "districts.geojson")
    assert result.units["district"].tolist() == ["洪山区", "江夏区", "江夏区"]
    return evaluate_targets(result)


@pytest.mark.wuhan
def test_illustrative_capacity_targets_by_hand(illustrative):
    city = _city(illustrative)
    people = 6000.0  # 1,000 + 2,000 + 3,000
    # medical beds: 甲医院 1,000 + 乙医院 300 + 社区卫生服务中心 50 (the 999 beds of 区外医院 lie outside every
    # community, so outside the study area; the 500 beds of the homes are elderly care, not medical)
    assert city.loc["beds_per_1000", "value"] == pytest.approx(1350 / people * 1000)  # 225
    assert city.loc["beds_per_1000", "status"] == "met"
    assert "3 of the 4 primary_care facilities" in city.loc["beds_per_1000", "note"]
    assert city.loc["tertiary_hospitals", "value"] == 1  # 甲医院 三级甲等 (乙医院 is 二级; 区外医院 outside)
    assert city.loc["tertiary_hospitals", "status"] == "not met"
    assert city.loc["childcare_places_per_1000", "value"] == pytest.approx(60 / people * 1000)  # 10 >= 4.5
    assert city.loc["childcare_places_per_1000", "status"] == "met"
    # nursing beds of the homes that give both: (300 + 40) / (400 + 100) = 68 % >= 65 %
    assert city.loc["nursing_bed_share", "value"] == pytest.approx(68.0)
    assert city.loc["nursing_bed_share", "status"] == "met"
    # 医养结合: 丙 yes, 丁 no, 日间照料中心 unknown (left out) -> 50 %
    assert city.loc["medical_care_integration", "value"] == pytest.approx(50.0)
    assert city.loc["medical_care_integration", "status"] == "not met"
    # AEDs: 3 at the metro + 1 at the mall (no count: one device) + 2 in 甲医院 (its AED column)
    assert city.loc["aed_public", "value"] == 6 and city.loc["aed_public", "status"] == "not met"
    assert city.loc["ambulance_stations", "value"] == 1
    assert city.loc["family_elderly_beds", "value"] == 100 and city.loc["family_elderly_beds", "status"] == "not met"


@pytest.mark.wuhan
def test_illustrative_district_and_community_targets_by_hand(illustrative):
    # the one central district (洪山区) holds 丙养老院, 400 beds >= 300: a large centre
    large = _at(illustrative, "large_elderly_centre_each_central_district", "洪山区")
    assert (large["scope"], large["value"], large["status"]) == ("district", 1, "met")
    assert "江夏区" not in set(illustrative.loc[illustrative["target_id"] == large["target_id"], "district"])
    # U1 holds a culture station, U2 a fitness ground, U3 neither
    assert _at(illustrative, "culture_fitness_station_each_community")["value"] == pytest.approx(200 / 3)
    assert _at(illustrative, "culture_fitness_station_each_community", "洪山区")["status"] == "met"
    assert _at(illustrative, "culture_fitness_station_each_community", "江夏区")["value"] == pytest.approx(50.0)
    # circles: ambulance station 120急救站 covers everyone by car; the homes reach some of the 65+
    elderly = _at(illustrative, "circle_elderly_care_15")
    assert 0 < elderly["value"] < 100 and elderly["status"] == "not met"
    assert "residents 65+" in elderly["note"]
    assert "65岁及以上居民" in elderly["note_zh"] and "residents" not in elderly["note_zh"]
    beds = _city(illustrative).loc["beds_per_1000", "note_zh"]
    assert "输入中4个社区卫生/诊所设施中的3个" in beds and "per 1,000" not in beds, beds
    assert _at(illustrative, "circle_life_15")["status"] == "no data"  # no grocery in the inventory
    assert all(not math.isnan(v) for v in illustrative.loc[illustrative["status"] != "no data", "value"])


@pytest.mark.wuhan
def test_without_districts_the_district_rows_say_no_data(wuhan_dir):
    from circles.analysis import analyze

    result = analyze(wuhan_dir / "guanggu.osm", policy="wuhan-2022", facilities=wuhan_dir / "weibo_pois_gcj02.csv",
                     facilities_crs="gcj02", population=wuhan_dir / "population_20plus.tif")
    table = evaluate_targets(result)
    districts = table[table["scope"] == "district"]
    assert len(districts) and (districts["district"] == "").all() and (districts["status"] == "no data").all()
    assert districts["note"].str.contains("needs a districts layer").all()
    assert districts["note_zh"].str.contains("需要行政区图层").all()
    assert _at(table, "circle_public_activity_10")["status"] == "not met"  # the city row is still measured
