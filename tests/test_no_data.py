"""No data is not 0 % (issue #9, build item 1; shared contracts 1 and 2).

A circle one of whose requirement groups has no facility in the input, or
none that reaches the network, cannot be measured: its units are ``no_data``,
its shares and minutes NaN in every table, the console says 无数据 and why.
The categories that do exist still show their minutes (``<circle>_<category>_minutes``).
"""

import textwrap

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from osm_builder import lonlat, write_osm
from shapely.geometry import Point, box

import circles
from circles.analysis import analyze
from circles.network import load_network
from circles.policies import load_policy
from circles.scoring import coverage_with_sites, score

# one circle, two requirement groups: a grocery AND a pharmacy within 10 minutes
DAILY = """
id = "daily"
name = "daily pack"
[[circles]]
id = "daily"
name_zh = "日常圈"
name_en = "daily circle"
mode = "walk"
speed_m_per_min = 60
threshold_min = 10
clause = "a grocery and a pharmacy within 10 minutes"
  [[circles.requirements]]
  categories = ["grocery"]
  [[circles.requirements]]
  categories = ["{second}"]
"""


def _pack(tmp_path, second="pharmacy"):
    p = tmp_path / "pack.toml"
    p.write_text(textwrap.dedent(DAILY.format(second=second)), encoding="utf-8")
    return load_policy(p)


def _points(xy_m, **columns):
    return gpd.GeoDataFrame(columns, geometry=[Point(*lonlat(x, y)) for x, y in xy_m], crs="EPSG:4326")


def _facilities(rows):
    """rows: (x_m, y_m, category)."""
    f = _points([(x, y) for x, y, _ in rows], facility_id=[f"f{i}" for i in range(len(rows))],
                category=[c for *_, c in rows], name=[c for *_, c in rows])
    f["feature_id"] = f["facility_id"]
    return f


AREA = (*lonlat(-100, -400), *lonlat(1100, 400))  # (west, south, east, north) around the street


@pytest.fixture
def street(tmp_path):
    # One straight residential street, nodes every 100 m from x=0 to x=1000.
    nodes = {i + 1: (100.0 * i, 0.0) for i in range(11)}
    return load_network(write_osm(tmp_path / "street.osm", nodes, [(1, list(nodes), {"highway": "residential"})]),
                        mode="walk")


@pytest.fixture
def districts():
    west, south, east, north = AREA
    mid = lonlat(500, 0)[0]
    return gpd.GeoDataFrame({"name": ["西区", "东区"], "zone": ["central", "new_urban"]},
                            geometry=[box(west, south, mid, north), box(mid, south, east, north)], crs="EPSG:4326")


def _units():
    # u1 at x=200 (30 m off the street), u2 at x=800; 100 and 50 people
    return _points([(200, 30), (800, 30)], unit_id=["u1", "u2"], name=["甲", "乙"], population=[100.0, 50.0])


def test_missing_category_is_no_data_with_nan_shares_everywhere(tmp_path, street, districts):
    # A grocery 20 m off the street at x=0; no pharmacy anywhere.  u1 walks 20 + 200 + 30 m
    # = 250 m = 4.17 min to the grocery; u2 20 + 800 + 30 = 850 m = 14.17 min.
    r = analyze(street, policy=_pack(tmp_path), facilities=_facilities([(0, 20, "grocery")]), units=_units(),
                osm_facilities=False, area=AREA, districts=districts, walk_speeds=[50, 80])
    u = r.units.set_index("unit_id")
    assert u["daily_status"].tolist() == ["no_data", "no_data"]
    assert u["daily_covered_share"].isna().all() and u["daily_minutes"].isna().all()
    assert u["daily_missing"].tolist() == ["pharmacy (no data)", "grocery; pharmacy (no data)"]
    # contract 2: the grocery still shows, per unit; the pharmacy is NaN
    assert u.loc["u1", "daily_grocery_minutes"] == pytest.approx(250 / 60, abs=0.01)
    assert u.loc["u2", "daily_grocery_minutes"] == pytest.approx(850 / 60, abs=0.01)
    assert u["daily_pharmacy_minutes"].isna().all()
    # summary: NaN, not 0; a status column; people still counted
    s = r.summary.iloc[0]
    assert s["status"] == "no_data" and s["no_data"] == "pharmacy"
    assert np.isnan(s["covered_share"]) and np.isnan(s["covered_population"])
    assert s["population"] == 150 and s["units_no_data"] == 2 and s["units_uncovered"] == 0
    # districts: NaN too
    d = r.district_summary.set_index("district")
    assert set(d.index) == {"西区", "东区"}
    assert d["covered_share"].isna().all() and d["covered_population"].isna().all()
    assert (d["status"] == "no_data").all()
    # sensitivity: the same circle, the same answer
    assert r.sensitivity["covered_share"].isna().all() and (r.sensitivity["status"] == "no_data").all()
    assert u["daily_covered_share_50mpm"].isna().all()
    # the inputs table names the missing category too
    inputs = r.data_quality["inputs"].set_index(["input", "category"])
    assert inputs.loc[("facilities", "pharmacy"), "total"] == 0
    assert inputs.loc[("facilities", "pharmacy"), "likely_cause"] == "none in the input (no data)"
    assert inputs.loc[("facilities", "grocery"), ["total", "inside", "outside"]].tolist() == [1, 1, 0]
    # the unit list of "not covered" still shows them (nothing is known to cover them)
    assert set(r.uncovered("daily")["unit_id"]) == {"u1", "u2"}


def test_with_every_category_the_same_run_is_measured(tmp_path, street, districts):
    # the control: a pharmacy at x=1000 makes the circle measurable (u1 has the grocery at
    # 4.17 min but the pharmacy 800 + 20 + 30 = 850 m = 14.2 min away: uncovered)
    fac = _facilities([(0, 20, "grocery"), (1000, 20, "pharmacy")])
    r = analyze(street, policy=_pack(tmp_path), facilities=fac, units=_units(), osm_facilities=False, area=AREA,
                districts=districts)
    s = r.summary.iloc[0]
    assert s["status"] == "ok" and s["covered_share"] == 0.0
    assert r.units["daily_status"].tolist() == ["uncovered", "uncovered"]
    assert (r.district_summary["status"] == "ok").all()


def test_facility_that_does_not_reach_the_network_is_no_data(tmp_path, street):
    # The pharmacy exists in the input but stands 2 km from the street (inside the area
    # passed here): it helps nobody, so the circle has no data — and the data-quality
    # sheet says "none on network", not "ok".
    fac = _facilities([(0, 20, "grocery"), (500, 2000, "pharmacy")])
    area = (*lonlat(-100, -400), *lonlat(1100, 2400))
    r = analyze(street, policy=_pack(tmp_path), facilities=fac, units=_units(), osm_facilities=False, area=area)
    s = r.summary.iloc[0]
    assert s["status"] == "no_data" and s["no_data"] == "pharmacy" and np.isnan(s["covered_share"])
    assert s["facilities"] == "grocery: 1/1; pharmacy: 0/1"
    dq = r.data_quality["facilities"].set_index("category")
    assert dq.loc["pharmacy", "status"] == "none on network" and dq.loc["grocery", "status"] == "ok"


def test_any_of_group_needs_only_one_category(tmp_path, street):
    # one group "grocery or pharmacy": a pharmacy alone makes the circle measurable
    p = tmp_path / "anyof.toml"
    p.write_text(textwrap.dedent("""
        id = "anyof"
        name = "any-of pack"
        [[circles]]
        id = "shop"
        name_en = "shop"
        mode = "walk"
        speed_m_per_min = 60
        threshold_min = 10
        clause = "a grocery or a pharmacy within 10 minutes"
          [[circles.requirements]]
          categories = ["grocery", "pharmacy"]
        """), encoding="utf-8")
    r = analyze(street, policy=load_policy(p), facilities=_facilities([(0, 20, "pharmacy")]), units=_units(),
                osm_facilities=False, area=AREA)
    assert r.summary.iloc[0]["status"] == "ok"
    assert r.units["shop_status"].tolist() == ["covered", "uncovered"]
    assert r.units["shop_grocery_minutes"].isna().all()
    assert r.units["shop_pharmacy_minutes"].iloc[0] == pytest.approx(250 / 60, abs=0.01)


def test_no_data_circle_is_still_scorable(tmp_path, street):
    # Adding the missing category's site creates coverage: a pharmacy at x=200 serves u1
    # (grocery 4.17 min, pharmacy 30 m + 0 = 0.5 min), not u2 (grocery 14.2 min).
    r = analyze(street, policy=_pack(tmp_path), facilities=_facilities([(0, 20, "grocery")]), units=_units(),
                osm_facilities=False, area=AREA)
    cands = gpd.GeoDataFrame({"candidate_id": ["P1"], "category": ["pharmacy"]},
                             geometry=[Point(*lonlat(200, 0))], crs="EPSG:4326")
    s = score(r, cands)
    assert s["newly_covered_population"].tolist() == [100.0]
    after = coverage_with_sites(r, cands, circle="daily")
    assert after["daily_status_after"].tolist() == ["covered", "uncovered"]
    assert after.attrs["covered_population_after"] == 100.0
    # adding nothing (or a site of a category that is not missing) keeps it no data
    none = coverage_with_sites(r, cands.iloc[0:0], circle="daily")
    assert none["daily_status_after"].tolist() == ["no_data", "no_data"]
    assert np.isnan(none.attrs["covered_population_after"])


def test_console_says_no_data_and_why_not_zero_percent(tmp_path, street, capsys):
    from circles.cli import print_summary

    r = analyze(street, policy=_pack(tmp_path), facilities=_facilities([(0, 20, "grocery")]), units=_units(),
                osm_facilities=False, area=AREA)
    print_summary(r)
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if "│ daily" in ln)
    assert "无数据" in line and "%" not in line
    assert "daily: 无数据 no data" in out and "pharmacy: none in the input" in out


def test_outputs_maps_and_figures_take_no_data(tmp_path, street):
    from circles.outputs.coverage_map import save_coverage_map
    from circles.outputs.figures import coverage_figure

    r = analyze(street, policy=_pack(tmp_path), facilities=_facilities([(0, 20, "grocery")]), units=_units(),
                osm_facilities=False, area=AREA)
    written = r.to_files(tmp_path / "out", lang="zh")
    summary = pd.read_csv(written["summary_csv"], encoding="utf-8-sig")
    assert summary["status"].tolist() == ["no_data"] and summary["covered_share"].isna().all()
    sheets = pd.read_excel(written["xlsx"], sheet_name=None)
    assert "dq_inputs" in sheets
    assert save_coverage_map(r, tmp_path / "m.html", lang="en").stat().st_size > 0
    assert coverage_figure(r, "daily", tmp_path / "f.png", lang="en").stat().st_size > 0


# --------------------------------------------------------------------------- the README's Wuhan run


@pytest.fixture(scope="module")
def readme_result(wuhan_dir):
    w = wuhan_dir
    return circles.analyze(w / "guanggu.osm", policy="wuhan-2022", facilities=w / "weibo_pois_gcj02.csv",
                           facilities_crs="gcj02", population=w / "population_20plus.tif",
                           population_65plus=w / "population_65plus.tif", districts=w / "districts.geojson")


@pytest.mark.wuhan
def test_readme_run_reports_no_data_not_zero(readme_result):
    r = readme_result
    s = r.summary.set_index("circle")
    # no ambulance stations or elderly care in the inputs; no grocery / clinic / culture venue
    # of the Weibo file reaches the Optics Valley network; kindergartens are nowhere
    assert s["status"].to_dict() == {"life_15": "no_data", "culture_sports_12": "no_data",
                                     "public_activity_10": "ok", "emergency_medical": "no_data",
                                     "elderly_care_15": "no_data"}
    assert s.loc[s["status"] == "no_data", "covered_share"].isna().all()
    # 24.9 % (24.7 % before points stopped snapping to tiny detached pieces of the walk network)
    assert s.loc["public_activity_10", "covered_share"] == pytest.approx(0.2493, abs=1e-3)
    assert s.loc["culture_sports_12", "no_data"] == "culture"
    for cid in ("emergency_medical", "elderly_care_15"):
        assert (r.units[f"{cid}_status"] == "no_data").all()
        assert r.units[f"{cid}_covered_share"].isna().all()
    # the categories that do exist still show: OSM schools, sports pitch, parks
    assert r.units["life_15_primary_school_minutes"].notna().sum() > 50
    assert r.units["culture_sports_12_sports_minutes"].notna().sum() > 0
    assert r.units["life_15_grocery_minutes"].isna().all()
    # per-category minutes of a single-category circle are its minutes
    pa = r.units[r.units["public_activity_10_minutes"].notna()]
    assert np.allclose(pa["public_activity_10_minutes"], pa["public_activity_10_public_space_minutes"])
    # districts are given: the threshold text does not claim a default zone
    assert "default" not in s.loc["emergency_medical", "threshold_min"]


@pytest.mark.wuhan
def test_readme_cli_prints_no_data(tmp_path, wuhan_dir, capsys):
    from circles.cli import main

    w = wuhan_dir
    code = main(["analyze", "--network", str(w / "guanggu.osm"), "--facilities", str(w / "weibo_pois_gcj02.csv"),
                 "--facilities-crs", "gcj02", "--population", str(w / "population_20plus.tif"),
                 "--population-65plus", str(w / "population_65plus.tif"), "--districts", str(w / "districts.geojson"),
                 "--out", str(tmp_path / "out"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    rows = {ln.split("│")[1].strip(): ln for ln in out.splitlines() if ln.startswith("│")}
    for cid in ("life_15", "culture_sports_12", "emergency_medical", "elderly_care_15"):
        assert "无数据" in rows[cid] and "0.0%" not in rows[cid], rows[cid]
    assert "24.9%" in rows["public_activity_10"]
    assert "culture: 65 in the input, all outside the study area" in out
    assert "default central" not in out
