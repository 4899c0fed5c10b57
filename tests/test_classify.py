"""Category rules (STANDARDS §4): OSM tags, Chinese/English labels and names, Amap type strings."""

from __future__ import annotations

import pytest

from circles.classify import (
    CATEGORIES,
    categories_from_label,
    categories_from_name,
    categories_from_tags,
    match_tags,
)


def test_twelve_categories():
    assert CATEGORIES == (
        "grocery", "primary_care", "pharmacy", "kindergarten", "primary_school", "middle_school",
        "culture", "sports", "public_space", "ambulance_station", "elderly_care", "aed",
    )


@pytest.mark.parametrize("label", ["AED", "aed", "自动体外除颤器", "公共场所AED;除颤仪"])
def test_aed_labels(label):
    """Public defibrillators (the 4,000 AEDs of 武政〔2022〕2号) are their own category."""
    assert categories_from_label(label) == ["aed"]


def test_aed_tag_and_names():
    assert categories_from_tags({"emergency": "defibrillator"}) == ["aed"]
    assert categories_from_name("地铁街道口站AED") == ["aed"]
    assert categories_from_name("MAEDA Bakery") == []


@pytest.mark.parametrize(
    "tags, expected",
    [
        ({"shop": "supermarket"}, ["grocery"]),
        ({"shop": "convenience"}, ["grocery"]),
        ({"amenity": "marketplace"}, ["grocery"]),
        ({"amenity": "hospital"}, ["primary_care"]),
        ({"healthcare": "centre"}, ["primary_care"]),
        ({"amenity": "pharmacy", "healthcare": "pharmacy"}, ["pharmacy"]),
        ({"amenity": "childcare"}, ["kindergarten"]),
        ({"amenity": "library"}, ["culture"]),
        ({"tourism": "museum"}, ["culture"]),
        ({"leisure": "pitch", "sport": "basketball"}, ["sports"]),
        ({"leisure": "fitness_station"}, ["sports"]),
        ({"leisure": "common"}, ["public_space"]),
        ({"place": "square"}, ["public_space"]),
        ({"highway": "pedestrian", "area": "yes"}, ["public_space"]),
        ({"emergency": "ambulance_station"}, ["ambulance_station"]),
        ({"amenity": "nursing_home"}, ["elderly_care"]),
        ({"amenity": "social_facility", "social_facility": "nursing_home"}, ["elderly_care"]),
        ({"amenity": "social_facility", "social_facility": "day_care", "social_facility:for": "senior"}, ["elderly_care"]),
        # day care for children is not elderly care
        ({"amenity": "social_facility", "social_facility": "day_care", "social_facility:for": "child"}, []),
        # a compound's private garden is not a public space
        ({"leisure": "garden", "access": "private"}, []),
        ({"amenity": "restaurant"}, []),
        ({}, []),
    ],
)
def test_tag_rules(tags, expected):
    assert categories_from_tags(tags) == expected


def test_schools_need_a_level():
    assert categories_from_tags({"amenity": "school", "isced:level": "1"}) == ["primary_school"]
    assert categories_from_tags({"amenity": "school", "isced:level": "1;2"}) == ["primary_school", "middle_school"]
    # the three schools of guanggu.osm
    assert categories_from_tags({"amenity": "school", "name": "武汉市光谷第十七小学"}) == ["primary_school"]
    assert categories_from_tags({"amenity": "school", "name": "武汉光谷外国语学校小学部"}) == ["primary_school"]
    assert categories_from_tags({"amenity": "school", "name": "武汉光谷外国语学校中学部"}) == ["middle_school"]
    assert categories_from_tags({"amenity": "school", "name:en": "No. 3 Middle School"}) == ["middle_school"]
    # a school that says nothing about its level counts as primary, and says it was assumed
    assert categories_from_tags({"amenity": "school", "name": "武汉光谷外国语学校"}) == ["primary_school"]
    assert [m.basis for m in match_tags({"amenity": "school"})] == ["tag amenity=school (no level: assumed primary)"]


def test_hospital_as_ambulance_only_when_asked_and_reported():
    tags = {"amenity": "hospital", "emergency": "yes", "name": "武汉协和医院"}
    assert categories_from_tags(tags) == ["primary_care"]
    assert categories_from_tags(tags, hospital_as_ambulance=True) == ["primary_care", "ambulance_station"]
    bases = {m.category: m.basis for m in match_tags(tags, hospital_as_ambulance=True)}
    assert bases == {"primary_care": "tag amenity=hospital", "ambulance_station": "hospital_as_ambulance"}
    assert categories_from_tags({"amenity": "hospital"}, hospital_as_ambulance=True) == ["primary_care"]


def test_name_hints_only_when_tags_say_nothing():
    # a building named like a facility: name hints apply
    assert categories_from_tags({"building": "yes", "name": "关山街社区卫生服务中心"}) == ["primary_care"]
    assert categories_from_tags({"building": "yes", "name:en": "Guanggu Library"}) == ["culture"]
    assert [m.basis for m in match_tags({"name": "XX养老院"})] == ["name"]
    # tags win over the name
    assert categories_from_tags({"leisure": "park", "name": "光谷体育公园"}) == ["public_space"]
    # a shop, restaurant, bus stop or road named after a park is not a park
    assert categories_from_tags({"shop": "bakery", "name": "公园面包"}) == []
    assert categories_from_tags({"amenity": "restaurant", "name": "公园小厨"}) == []
    assert categories_from_tags({"highway": "bus_stop", "name": "光谷广场"}) == []
    assert categories_from_tags({"public_transport": "stop_position", "name": "光谷同济医院"}) == []
    assert categories_from_tags({"amenity": "university", "name": "武汉体育学院"}) == []


@pytest.mark.parametrize(
    "label, expected",
    [
        ("医院", ["primary_care"]),
        ("图书馆", ["culture"]),
        ("公园", ["public_space"]),
        ("公园户外", ["public_space"]),
        ("城市广场", ["public_space"]),
        ("中学", ["middle_school"]),
        ("小学", ["primary_school"]),
        ("超市", ["grocery"]),
        ("超级市场", ["grocery"]),
        ("便民商店/便利店", ["grocery"]),
        ("体育场馆", ["sports"]),
        ("综合体育馆", ["sports"]),
        ("幼儿园", ["kindergarten"]),
        ("养老院", ["elderly_care"]),
        ("药店", ["pharmacy"]),
        ("电影院", ["culture"]),
        ("社区卫生服务中心", ["primary_care"]),
        ("急救中心", ["ambulance_station"]),
        # not our facilities
        ("高等院校", []),
        ("书店", []),
        ("体育用品店", []),
        ("文化体育类公司", []),
        ("度假疗养场所", []),
        ("住宅区", []),
        ("商场", []),
        ("快餐厅", []),
        ("", []),
        (None, []),
    ],
)
def test_chinese_labels(label, expected):
    assert categories_from_label(label) == expected


@pytest.mark.parametrize(
    "label, expected",
    [
        ("医疗保健服务;综合医院;综合医院", ["primary_care"]),
        ("医疗保健服务;专科医院;口腔医院", ["primary_care"]),
        ("医疗保健服务;诊所;诊所", ["primary_care"]),
        ("医疗保健服务;急救中心;急救中心", ["ambulance_station"]),
        ("医疗保健服务;医药保健销售店;药房", ["pharmacy"]),
        ("医疗保健服务;动物医疗场所;宠物诊所", []),
        ("科教文化服务;图书馆;图书馆", ["culture"]),
        ("科教文化服务;博物馆;博物馆", ["culture"]),
        ("科教文化服务;学校;中学", ["middle_school"]),
        ("科教文化服务;学校;小学", ["primary_school"]),
        ("科教文化服务;学校;幼儿园", ["kindergarten"]),
        ("科教文化服务;学校;高等院校", []),
        ("体育休闲服务;运动场馆;综合体育馆", ["sports"]),
        ("体育休闲服务;运动场馆;游泳馆", ["sports"]),
        ("风景名胜;公园广场;公园", ["public_space"]),
        ("风景名胜;公园广场;城市广场", ["public_space"]),
        ("风景名胜;公园广场;动物园", []),
        ("购物服务;超级市场;超市", ["grocery"]),
        ("购物服务;综合市场;农副产品市场", ["grocery"]),
        ("购物服务;专卖店;体育用品店", []),
        ("购物服务;家电电子卖场;家电电子卖场", []),
        ("体育休闲服务", []),  # a top level alone is too broad
        # several types joined by |
        ("体育休闲服务;运动场馆;综合体育馆|风景名胜;公园广场;公园", ["sports", "public_space"]),
    ],
)
def test_amap_type_strings(label, expected):
    assert categories_from_label(label) == expected


@pytest.mark.parametrize(
    "label, expected",
    [
        ("hospital", ["primary_care"]),
        ("Hospital", ["primary_care"]),
        ("library", ["culture"]),
        ("park", ["public_space"]),
        ("Park Outdoor", ["public_space"]),
        ("supermarket", ["grocery"]),
        ("Middle school", ["middle_school"]),
        ("primary school", ["primary_school"]),
        ("Comprehensive Stadium", ["sports"]),
        ("nursing home", ["elderly_care"]),
        ("pharmacy", ["pharmacy"]),
        ("parking", []),
        ("Industrial Park", []),
        ("Sporting shop", []),
        ("College", []),
        ("pet hospital", []),
    ],
)
def test_english_labels(label, expected):
    assert categories_from_label(label) == expected


def test_category_ids_as_labels():
    assert categories_from_label("pharmacy") == ["pharmacy"]
    assert categories_from_label("ambulance_station") == ["ambulance_station"]
    assert categories_from_label("sports;culture") == ["culture", "sports"]
    assert categories_from_label(" Elderly_Care ") == ["elderly_care"]


@pytest.mark.parametrize(
    "name, expected",
    [
        ("华中科技大学同济医学院附属协和医院", ["primary_care"]),
        ("武汉市第一中学", ["middle_school"]),
        ("华中师范大学第一附属中学", ["middle_school"]),
        ("武汉市第一高级中学", []),  # senior high only
        ("武汉市育才小学", ["primary_school"]),
        ("光谷实验中小学", ["primary_school", "middle_school"]),
        ("九年一贯制学校", ["primary_school", "middle_school"]),
        ("武汉体育学院", []),  # a university, not a sports venue
        ("湖北省奥林匹克体育中心", ["sports"]),
        ("华侨城公园里", []),  # a residential compound
        ("万达广场", []),  # a mall
        ("中山公园", ["public_space"]),
        ("武汉市急救中心", ["ambulance_station"]),
        ("120急救站光谷分站", ["ambulance_station"]),
        ("解放大道1200号", []),
        ("武汉120", ["ambulance_station"]),
        ("武汉市社会福利院", ["elderly_care"]),
        ("武汉市儿童福利院", []),
        ("老年大学", []),
        ("瑞康宠物医院", []),
        ("老百姓大药房", ["pharmacy"]),
        ("社区卫生服务站药房", ["primary_care", "pharmacy"]),  # several categories
    ],
)
def test_names(name, expected):
    assert categories_from_name(name) == expected


# --------------------------------------------------------------- beyond China

@pytest.mark.parametrize(
    "tags, expected",
    [
        # names that tell the level, in the languages of real extracts
        ({"amenity": "school", "name": "Primarschule Hirschengraben"}, ["primary_school"]),
        ({"amenity": "school", "name": "Grundschule am Park"}, ["primary_school"]),
        ({"amenity": "school", "name": "École élémentaire Jean Jaurès"}, ["primary_school"]),
        ({"amenity": "school", "name": "Kaisaniemen ala-aste"}, ["primary_school"]),
        ({"amenity": "school", "name": "Kruununhaan yläasteen koulu"}, ["middle_school"]),
        ({"amenity": "school", "name": "Sekundarschule Letzi"}, ["middle_school"]),
        ({"amenity": "school", "name": "Riverside Secondary School"}, ["middle_school"]),
        # names that say "not a primary school" (and not a junior middle school either)
        ({"amenity": "school", "name": "Gymnasium Rämibühl"}, []),
        ({"amenity": "school", "name": "Ressun lukio"}, []),
        ({"amenity": "school", "name": "Lycée Henri-IV"}, []),
        ({"amenity": "school", "name": "Springfield High School"}, []),
        ({"amenity": "school", "name": "Kantonsschule Enge"}, []),
        ({"amenity": "school", "name": "City Music School"}, []),
        ({"amenity": "school", "name": "武汉市第一高级中学"}, []),
        ({"amenity": "school", "name": "华中科技大学附属学校高中部"}, []),
        ({"amenity": "school", "name:sv": "Gymnasiet Ressu", "name": "Ressu"}, []),
        # tags that tell the level
        ({"amenity": "school", "isced:level": "3"}, []),
        ({"amenity": "school", "isced:level": "1-2"}, ["primary_school", "middle_school"]),
        ({"amenity": "school", "school": "primary"}, ["primary_school"]),
        ({"amenity": "school", "school:level": "upper_secondary"}, []),
        ({"amenity": "school", "school": "gymnasium"}, []),
        ({"amenity": "school", "grades": "1-6"}, ["primary_school"]),
        ({"amenity": "school", "grades": "10-12"}, []),
        # nothing said: assumed primary
        ({"amenity": "school", "name": "Schulhaus Kern"}, ["primary_school"]),
        ({"amenity": "school"}, ["primary_school"]),
        # social facilities, health care, ambulances
        ({"amenity": "social_facility", "social_facility": "assisted_living"}, ["elderly_care"]),
        ({"amenity": "social_facility", "social_facility": "nursing_home", "social_facility:for": "senior"},
         ["elderly_care"]),
        ({"amenity": "social_facility", "social_facility": "outreach", "social_facility:for": "senior"},
         ["elderly_care"]),
        ({"amenity": "social_facility", "social_facility:for": "senior"}, ["elderly_care"]),
        ({"amenity": "social_facility", "social_facility": "outreach", "social_facility:for": "diseased"}, []),
        ({"amenity": "social_facility", "social_facility": "nursing_home", "social_facility:for": "disabled"}, []),
        ({"healthcare": "doctor"}, ["primary_care"]),
        ({"healthcare": "hospital"}, ["primary_care"]),
        ({"healthcare": "clinic"}, ["primary_care"]),
        ({"healthcare": "pharmacy"}, ["pharmacy"]),
        ({"healthcare": "blood_donation", "emergency": "no"}, []),
        ({"emergency": "ambulance_station", "name": "Helsingin ambulanssiasema"}, ["ambulance_station"]),
    ],
)
def test_osm_beyond_china(tags, expected):
    assert categories_from_tags(tags) == expected


def test_assumed_schools_are_marked():
    assert [m.basis for m in match_tags({"amenity": "school", "name": "Schulhaus Kern"})] == [
        "tag amenity=school (no level: assumed primary)"]
    assert [m.basis for m in match_tags({"amenity": "school", "name": "Primarschule Kern"})] == [
        "tag amenity=school+name"]


def test_classification_counts_per_rule():
    import pandas as pd

    from circles.classify import classification_counts

    fac = pd.DataFrame({
        "source": ["osm"] * 4 + ["pois.csv"],
        "category": ["primary_school", "primary_school", "primary_school", "ambulance_station", "grocery"],
        "basis": ["tag amenity=school (no level: assumed primary)"] * 2 + ["tag amenity=school+name",
                                                                          "hospital_as_ambulance", "label"],
    })
    unclassified = pd.DataFrame({"source": ["osm", "osm"], "name": ["a", "b"]})
    table = classification_counts(fac, unclassified)
    assert list(table.columns) == ["source", "rule", "category", "count", "assumed"]
    rows = {(r.source, r.rule): (r.category, r.count, r.assumed) for r in table.itertuples()}
    assert rows[("osm", "tag amenity=school (no level: assumed primary)")] == ("primary_school", 2, "yes")
    assert rows[("osm", "tag amenity=school+name")] == ("primary_school", 1, "no")
    assert rows[("osm", "hospital_as_ambulance")] == ("ambulance_station", 1, "yes")
    assert rows[("pois.csv", "label")] == ("grocery", 1, "no")
    assert rows[("osm", "(no rule matched)")] == ("", 2, "no")


def test_helsinki_schools_and_the_data_quality_sheet(helsinki_pbf, tmp_path):
    """The Helsinki demo's 3 schools gave 0 primary schools; now its ala-aste is primary,
    its yläaste a (junior) middle school and its lukio (upper secondary) neither; and the
    analysis reports how many facilities each rule classified."""
    import circles
    from circles.facilities import facilities_from_features
    from circles.network import load_features

    fs = facilities_from_features(load_features(helsinki_pbf))
    schools = fs.facilities[fs.facilities["basis"].str.startswith("tag amenity=school")]
    assert dict(zip(schools["name"], schools["category"])) == {
        "Kaisaniemen ala-aste": "primary_school", "Kruununhaan yläasteen koulu": "middle_school"}
    assert "Ressun lukio" in set(fs.unclassified["name"])

    result = circles.analyze(helsinki_pbf, grid_m=500)
    table = result.data_quality["classification"]
    school_rows = table[table["rule"].str.startswith("tag amenity=school")]
    assert school_rows.groupby("category")["count"].sum().to_dict() == {"middle_school": 1, "primary_school": 1}
    assert set(table["assumed"]) <= {"yes", "no"}
    osm = table[table["source"] == "osm"]
    assert osm.loc[osm["rule"] != "(no rule matched)", "count"].sum() == len(fs.facilities)
    assert osm.loc[osm["rule"] == "(no rule matched)", "count"].sum() == len(fs.unclassified)
    import pandas as pd

    written = result.to_files(tmp_path)
    xlsx = next(p for p in written.values() if str(p).endswith(".xlsx"))
    sheet = pd.read_excel(xlsx, sheet_name=None)
    assert any("classification" in name for name in sheet)


def test_assumed_primary_schools_are_counted_in_the_run(tmp_path):
    from osm_builder import write_osm

    import circles
    from circles.facilities import facilities_from_features
    from circles.network import load_features

    nodes = {1: (0, 0), 2: (100, 0), 3: (200, 0), 4: (50, 10), 5: (150, 10), 6: (120, 10)}
    path = write_osm(tmp_path / "town.osm", nodes, [(1, [1, 2, 3], {"highway": "residential"})], tagged_nodes={
        4: {"amenity": "school", "name": "Schulhaus Kern"},
        5: {"amenity": "school", "name": "Kantonsschule Enge"},
        6: {"amenity": "school", "isced:level": "1", "name": "Primary"},
    })
    fs = facilities_from_features(load_features(path))
    assert fs.counts()["primary_school"] == 2
    assert any("1 school(s) tagged amenity=school with no level" in n for n in fs.notes)
    result = circles.analyze(path, policy="gb50180-2018", grid_m=100)
    assert any(a.startswith("1 OSM school(s) with no level") for a in result.assumptions)
    table = result.data_quality["classification"].set_index("rule")
    assert table.loc["tag amenity=school (no level: assumed primary)", "assumed"] == "yes"
    assert table.loc["tag amenity=school+isced:level=1", "assumed"] == "no"


def test_helsinki_bike_stations_are_not_squares_by_their_names(helsinki_pbf):
    """amenity=bicycle_rental "Senaatintori kaupunkipyöräasema" (Senate Square city-bike station) was
    counted as public_space by the name rule: a tag that says what a feature is wins over its name."""
    from circles.facilities import facilities_from_features
    from circles.network import load_features

    features = load_features(helsinki_pbf)
    bikes = features[features["tags"].map(lambda t: isinstance(t, dict) and t.get("amenity") == "bicycle_rental")]
    assert "Senaatintori kaupunkipyöräasema" in set(bikes["name"])
    fs = facilities_from_features(features)
    counted = fs.facilities[fs.facilities["name"].astype(str).str.contains("kaupunkipyöräasema")]
    assert counted.empty, counted[["name", "category", "basis"]]
    # the squares themselves are still found by their tags
    assert (fs.facilities["category"] == "public_space").sum() > 0


@pytest.mark.parametrize("tags, expected", [
    ({"amenity": "bicycle_rental", "name": "Senaatintori kaupunkipyöräasema"}, []),
    ({"amenity": "parking", "name": "人民广场停车场"}, []),
    ({"tourism": "hotel", "name": "公园酒店"}, []),
    ({"leisure": "garden", "access": "private", "name": "桃花源花园"}, []),
    ({"amenity": "social_facility", "name": "光谷养老院"}, ["elderly_care"]),
    ({"building": "yes", "name": "关山社区卫生服务中心"}, ["primary_care"]),
])
def test_name_hints_only_when_tags_do_not_say_otherwise(tags, expected):
    from circles.classify import categories_from_tags

    assert categories_from_tags(tags) == expected
