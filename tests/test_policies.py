"""Policy packs: the packaged ones load and say what STANDARDS §1–§3 say; user
packs are validated with every problem listed at once."""

from __future__ import annotations

import pytest

from circles.classify import CATEGORIES
from circles.errors import InputError, InputFileNotFoundError, ValidationError
from circles.policies import Circle, Policy, list_policies, load_policy


def test_packaged_policies_are_listed_and_load():
    ids = [p.id for p in list_policies()]
    assert ids == ["gb50180-2018", "wuhan-2022"]
    for p in list_policies():
        assert isinstance(p, Policy) and p.name and p.source
        for c in p.circles:
            assert isinstance(c, Circle)
            assert c.clause and c.name_en and c.name_zh
            assert c.requirements and all(r.categories for r in c.requirements)
            assert set(c.categories) <= set(CATEGORIES)


def test_wuhan_2022_has_the_five_circles():
    p = load_policy("wuhan-2022")
    assert "武政〔2022〕2号" in p.source
    table = {c.id: (c.mode, c.threshold_for_zone(), c.population, c.direction) for c in p.circles}
    assert table == {
        "life_15": ("walk", 15.0, "all", "to"),
        "culture_sports_12": ("walk", 12.0, "all", "to"),
        "public_activity_10": ("walk", 10.0, "all", "to"),
        "emergency_medical": ("drive", 10.0, "all", "from"),
        "elderly_care_15": ("walk", 15.0, "65plus", "to"),
    }
    life = p.circle("life_15")
    assert life.speed_m_per_min == 60
    assert [r.categories for r in life.requirements] == [
        ("grocery",), ("primary_care",), ("kindergarten",), ("primary_school",)
    ]
    # culture AND sports: two groups
    assert [r.categories for r in p.circle("culture_sports_12").requirements] == [("culture",), ("sports",)]
    assert p.circle("public_activity_10").categories == ("public_space",)
    elderly = p.circle("elderly_care_15")
    assert elderly.speed_m_per_min == 50 and elderly.categories == ("elderly_care",)
    for c in p.circles:
        assert "武政〔2022〕2号" in c.clause


def test_emergency_circle_zones():
    c = load_policy("wuhan-2022").circle("emergency_medical")
    assert c.speed_m_per_min is None
    assert c.zone_thresholds_min == {"central": 10.0, "new_urban": 12.0}
    assert c.default_zone == "central" and "assumption" in c.note
    assert c.threshold_for_zone("central") == 10
    assert c.threshold_for_zone("new_urban") == 12
    assert c.threshold_for_zone(None) == 10  # default zone
    assert c.dispatch_allowance_min == 0
    assert c.effective_threshold("new_urban") == 12
    assert c.categories == ("ambulance_station",)
    with pytest.raises(InputError, match=r"zone 'suburb'.*'central', 'new_urban'"):
        c.threshold_for_zone("suburb")


def test_gb50180_nested_levels():
    p = load_policy("gb50180-2018")
    assert [(c.id, c.threshold_min, c.speed_m_per_min) for c in p.circles] == [
        ("gb_5min", 5, 60), ("gb_10min", 10, 60), ("gb_15min", 15, 60)
    ]
    five, ten, fifteen = p.circles
    assert {"kindergarten", "grocery", "elderly_care", "primary_care", "culture", "sports"} <= set(five.categories)
    assert set(ten.categories) == {"primary_school", "grocery", "sports"}
    assert set(fifteen.categories) == {"middle_school", "primary_care", "culture", "sports", "elderly_care"}
    for c in p.circles:
        assert "GB 50180-2018" in c.clause
        assert all("Table B.0." in r.clause for r in c.requirements)


def _write(tmp_path, text, name="my.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """
id = "my-city"
name = "My city"
[[circles]]
id = "ambulance_8"
name_en = "8-minute ambulance"
mode = "drive"
threshold_min = 8
dispatch_allowance_min = 2
direction = "from"
clause = "local rule"
  [[circles.requirements]]
  categories = ["ambulance_station"]
[[circles]]
id = "kids"
name_en = "Kids"
mode = "walk"
threshold_min = 15
population = "65plus"
clause = "x"
  [[circles.requirements]]
  categories = ["kindergarten", "primary_school"]
  max_minutes = 10
"""


def test_user_pack_loads_with_defaults(tmp_path):
    p = load_policy(_write(tmp_path, GOOD))
    amb, kids = p.circles
    assert amb.effective_threshold() == 6  # 8 minus 2 minutes of dispatch
    assert amb.speed_m_per_min is None and amb.direction == "from"
    assert kids.speed_m_per_min == 50  # elderly default speed for 65plus
    assert kids.requirements[0].categories == ("kindergarten", "primary_school")
    assert kids.requirement_limit(kids.requirements[0]) == 10
    assert load_policy(str(tmp_path / "my.toml")).id == "my-city"


BAD = """
id = "bad"
name = "Bad pack"
colour = "red"
[[circles]]
id = "a"
name_en = "A"
mode = "cycle"
threshold_min = 0
clause = "x"
  [[circles.requirements]]
  categories = ["hospital", "grocery"]
[[circles]]
id = "a"
name_en = "A again"
mode = "walk"
threshold_min = -5
speed_m_per_min = "fast"
default_zone = "central"
  [[circles.requirements]]
  categories = []
  max_minutes = 0
[[circles]]
name_en = "no id"
mode = "drive"
threshold_min = 10
speed_m_per_min = 500
clause = "y"
requirements = []
"""


def test_user_pack_with_many_errors_lists_all_of_them(tmp_path):
    path = _write(tmp_path, BAD)
    with pytest.raises(ValidationError) as err:
        load_policy(path)
    e = err.value
    assert e.source == str(path)
    text = "\n".join(e.problems)
    expected = [
        "colour: unknown key",
        "circles[0].mode: expected one of 'walk', 'drive', got 'cycle'",
        "circles[0].threshold_min: expected a positive number of minutes, got 0",
        "circles[0].requirements[0].categories[0]: unknown category 'hospital'",
        "circles[1].threshold_min: expected a positive number of minutes, got -5",
        "circles[1].speed_m_per_min: expected a positive number of minutes, got 'fast'",
        "circles[1].clause: missing required key",
        "circles[1].default_zone: 'central' is not a key of zone_thresholds_min",
        "circles[1].requirements[0].categories: expected a non-empty list",
        "circles[1].requirements[0].max_minutes: expected a positive number",
        "circles[1].id: duplicate circle id 'a' (also circles[0])",
        "circles[2].id: missing required key",
        "circles[2].speed_m_per_min: applies to mode 'walk' only",
        "circles[2].requirements: expected at least one",
    ]
    for piece in expected:
        assert piece in text, piece
    assert len(e.problems) == len(expected)
    assert str(path) in str(e) and f"{len(expected)} problem(s)" in str(e)
    # the valid categories are spelled out for the unknown one
    assert "grocery, primary_care, pharmacy" in text


def test_toml_syntax_error_names_file_and_line(tmp_path):
    path = _write(tmp_path, 'id = "x"\nname = "y"\n[[circles]]\nid = \n')
    with pytest.raises(ValidationError, match=r"(?s)my\.toml.*not valid TOML.*line 4"):
        load_policy(path)


def test_missing_top_level_keys(tmp_path):
    with pytest.raises(ValidationError) as err:
        load_policy(_write(tmp_path, 'source = "s"\n'))
    assert err.value.problems == ["id: missing required key", "name: missing required key", "circles: missing required key"]


def test_unknown_policy_id_lists_available_ones():
    with pytest.raises(InputError, match=r"unknown policy 'wuhan-2030'.*gb50180-2018, wuhan-2022.*\.toml"):
        load_policy("wuhan-2030")


def test_missing_policy_file():
    with pytest.raises(InputFileNotFoundError, match=r"nowhere/pack\.toml.*does not exist"):
        load_policy("nowhere/pack.toml")


def test_unknown_circle_id():
    with pytest.raises(InputError, match=r"no circle 'life_20'.*life_15"):
        load_policy("wuhan-2022").circle("life_20")


def test_describe_threshold():
    p = load_policy("wuhan-2022")
    assert p.circle("life_15").describe_threshold() == "15 min"
    assert p.circle("emergency_medical").describe_threshold() == "central 10 / new_urban 12 min (default central)"


# ---------------------------------------------------------------- targets (#12)


def test_wuhan_2022_targets():
    p = load_policy("wuhan-2022")
    assert p.formed_share == 0.90
    assert [t.id for t in p.targets] == [
        "circle_life_15", "circle_culture_sports_12", "circle_public_activity_10", "circle_emergency_medical",
        "circle_elderly_care_15", "ambulance_stations", "aed_public", "beds_per_1000", "tertiary_hospitals",
        "childcare_places_per_1000", "nursing_bed_share", "medical_care_integration",
        "large_elderly_centre_each_central_district", "culture_fitness_station_each_community", "family_elderly_beds",
    ]
    for t in p.targets:
        assert t.clause_zh and t.clause_en and t.unit, t.id
        if t.measure == "circle_share":
            assert t.target is None and t.scopes == ("city", "district")
            assert t.id == f"circle_{p.circle(t.circle).id}"
        else:
            assert t.target is not None and t.categories, t.id
    figures = {t.id: t.target for t in p.targets}
    assert figures["ambulance_stations"] == 140 and figures["aed_public"] == 4000
    assert figures["beds_per_1000"] == 8.8 and figures["tertiary_hospitals"] == 70
    assert figures["childcare_places_per_1000"] == 4.5 and figures["nursing_bed_share"] == 65
    assert figures["medical_care_integration"] == 100 and figures["family_elderly_beds"] == 3000
    beds = p.target("beds_per_1000")
    assert beds.categories == ("primary_care",) and beds.column == "beds"  # medical beds, not elderly care
    assert p.target("tertiary_hospitals").where == {"level": "三级"}
    large = p.target("large_elderly_centre_each_central_district")
    assert large.where == {"beds": 300} and large.scopes == ("central_district",)
    assert "300 beds" in large.note  # "large" is stated
    assert load_policy("gb50180-2018").targets == ()
    with pytest.raises(InputError, match="no target 'beds'.*beds_per_1000"):
        p.target("beds")


BAD_TARGETS = GOOD.replace('name = "My city"', 'name = "My city"\nformed_share = 1.5') + """
[[targets]]
id = "circle_x"
clause_zh = "x"
clause_en = "x"
measure = "circle_share"
circle = "nope"
categories = ["grocery"]
[[targets]]
id = "Beds"
clause_zh = "x"
measure = "per_1000"
categories = ["hospital"]
column = "doctors"
scopes = ["city", "province"]
[[targets]]
id = "share"
clause_zh = "x"
clause_en = "x"
measure = "column_share"
categories = ["elderly_care"]
column = "nursing_beds"
target = 65
where = { level = 3, beds = "big" }
missing_as = 1
[[targets]]
id = "share"
clause_zh = "x"
clause_en = "x"
measure = "ratio"
target = 1
colour = "red"
"""


def test_targets_with_many_errors_list_all_of_them(tmp_path):
    with pytest.raises(ValidationError) as err:
        load_policy(_write(tmp_path, BAD_TARGETS))
    text = "\n".join(err.value.problems)
    expected = [
        "formed_share: expected a share in (0, 1]",
        "targets[0].circle: expected a circle id of this pack (ambulance_8, kids), got 'nope'",
        "targets[0].categories: not used by measure 'circle_share'",
        "targets[1].clause_en: missing required key",
        "targets[1].id: 'Beds' must start with a lower-case letter",
        "targets[1].target: missing required key",
        "targets[1].scopes[1]: unknown value 'province'; expected one of city, district, central_district",
        "targets[1].categories[0]: unknown value 'hospital'",
        "targets[1].column: expected a capacity column",
        "targets[2].of_column: expected a capacity column",
        "targets[2].missing_as: a number >= 0, for measure 'sum' only",
        "targets[2].where.level: expected a capacity column with a number",
        "targets[2].where.beds: expected a capacity column with a number",
        "targets[3].colour: unknown key",
        "targets[3].measure: expected one of circle_share, count, sum",
        "targets[3].categories: expected at least one facility category",
        "targets[3].id: duplicate target id 'share' (also targets[2])",
    ]
    for piece in expected:
        assert piece in text, piece
    assert len(err.value.problems) == len(expected), text


def test_user_pack_with_targets_loads(tmp_path):
    text = GOOD.replace('name = "My city"', 'name = "My city"\nformed_share = 0.8') + """
[[targets]]
id = "stations"
clause_zh = "急救站10个"
clause_en = "10 stations"
measure = "count"
categories = ["ambulance_station"]
target = 10
[[targets]]
id = "circle_kids"
clause_zh = "x"
clause_en = "x"
measure = "circle_share"
circle = "kids"
"""
    p = load_policy(_write(tmp_path, text))
    assert p.formed_share == 0.8
    stations, kids = p.targets
    assert (stations.scopes, stations.unit, stations.target) == (("city",), "facilities", 10.0)
    assert (kids.circle, kids.target, kids.unit) == ("kids", None, "% of residents covered")
