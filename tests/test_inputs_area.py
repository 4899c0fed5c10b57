"""Inputs against the study area (issue #9, build item 2; shared contract 3).

How many facilities, candidates and units lie inside the study area, outside
it and off the network — per category — and the likely cause when all or most
lie outside: the coordinate-system hypotheses are tested, not guessed.
"""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from osm_builder import lonlat, write_osm
from shapely.geometry import Point, box

from circles.analysis import analyze
from circles.coords import gcj02_to_wgs84, wgs84_to_gcj02
from circles.inputs import INPUT_COLUMNS, inputs_against_area
from circles.network import load_network

# a 400 m x 400 m area around the test origin (Optics Valley, where GCJ-02 shifts ~550 m)
AREA = box(*lonlat(-200, -200), *lonlat(200, 200))


def _grid_inside(n=5):
    xs = np.linspace(-150, 150, n)
    pts = [lonlat(x, y) for x in xs for y in xs]
    return np.array([p[0] for p in pts]), np.array([p[1] for p in pts])


def test_all_inside_is_fine_and_counts_are_exact():
    lon, lat = _grid_inside()
    off = np.zeros(lon.size, bool)
    off[:3] = True
    t = inputs_against_area(lon, lat, AREA, input="facilities", categories=["grocery"] * 20 + ["park"] * 5,
                            off_network=off, all_row=True)
    assert list(t.columns) == list(INPUT_COLUMNS)
    t = t.set_index("category")
    assert t.loc["grocery", ["total", "inside", "outside", "off_network"]].tolist() == [20, 20, 0, 3]
    assert t.loc["park", "total"] == 5 and t.loc["all", "total"] == 25
    assert np.isnan(t.loc["all", "nearest_outside_m"])
    assert (t["likely_cause"] == "").all()


def test_gcj02_numbers_declared_as_wgs84_are_recognised():
    # true positions inside; the file holds their GCJ-02 numbers but says WGS84
    lon, lat = _grid_inside()
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    t = inputs_against_area(g_lon, g_lat, AREA, input="facilities", declared_crs="wgs84")
    row = t.iloc[0]
    assert row["outside"] == row["total"] == 25
    assert "GCJ-02 declared as WGS84" in row["likely_cause"]
    # the shift it reports is the real one (~550 m in Wuhan)
    shift = float(row["likely_cause"].split("≈")[1].split(" m")[0])
    assert 450 < shift < 700


def test_wgs84_numbers_declared_as_gcj02_are_recognised():
    # the file holds true WGS84 numbers but says GCJ-02: the reader "corrects" them away
    lon, lat = _grid_inside()
    moved_lon, moved_lat = gcj02_to_wgs84(lon, lat)
    t = inputs_against_area(moved_lon, moved_lat, AREA, input="candidates", declared_crs="gcj02")
    assert t.iloc[0]["inside"] == 0
    assert "WGS84 declared as GCJ-02" in t.iloc[0]["likely_cause"]


def test_another_city_and_a_larger_input():
    # Beijing points against an Optics Valley area: another city
    far = inputs_against_area(np.array([116.40, 116.41]), np.array([39.90, 39.91]), AREA, input="facilities",
                              declared_crs="wgs84")
    assert far.iloc[0]["likely_cause"].startswith("another city or area")
    assert far.iloc[0]["nearest_outside_m"] > 1_000_000
    # points spread 3 km around the area, a few inside: the input covers more ground
    pts = [lonlat(x, y) for x in range(-3000, 3001, 1000) for y in range(-3000, 3001, 1000)]
    lon, lat = np.array(pts).T
    wide = inputs_against_area(lon, lat, AREA, input="facilities", declared_crs="wgs84").iloc[0]
    assert wide["inside"] == 1 and wide["outside"] == 48
    assert wide["likely_cause"] == "the input covers a larger area than the network"
    assert wide["nearest_outside_m"] == pytest.approx(800, abs=5)  # the point at (1000, 0), 800 m from x=200


def test_osm_points_are_not_tested_for_a_crs_mix_up():
    lon, lat = _grid_inside()
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    t = inputs_against_area(g_lon, g_lat, AREA, input="facilities", declared_crs=[None] * lon.size)
    assert t.iloc[0]["likely_cause"] == "the input covers a larger area than the network"


def test_inside_but_off_the_network_has_a_cause():
    lon, lat = _grid_inside()
    t = inputs_against_area(lon, lat, AREA, input="units", off_network=np.ones(lon.size, bool), max_snap_m=300)
    assert t.iloc[0]["off_network"] == 25
    assert "more than 300 m from the streets" in t.iloc[0]["likely_cause"]


# --------------------------------------------------------------------------- small analyses


@pytest.fixture
def street(tmp_path):
    nodes = {i + 1: (100.0 * i, 0.0) for i in range(11)}
    return load_network(write_osm(tmp_path / "street.osm", nodes, [(1, list(nodes), {"highway": "residential"})]),
                        mode="walk")


def _points(xy_m, **columns):
    return gpd.GeoDataFrame(columns, geometry=[Point(*lonlat(x, y)) for x, y in xy_m], crs="EPSG:4326")


SHOP = """
id = "shop"
name = "shop pack"
[[circles]]
id = "shop"
name_en = "shop circle"
mode = "walk"
speed_m_per_min = 60
threshold_min = 15
clause = "a grocery within 15 minutes"
  [[circles.requirements]]
  categories = ["grocery"]
"""


def test_analysis_inputs_rows_and_units_off_network_without_population(street, tmp_path):
    from circles.policies import load_policy

    (tmp_path / "shop.toml").write_text(SHOP, encoding="utf-8")
    # units without population: u2 stands 1 km off the street (inside the area), u3 outside it
    area = (*lonlat(-100, -400), *lonlat(1100, 1400))
    units = _points([(400, 30), (400, 1000), (5000, 0)], unit_id=["u1", "u2", "u3"])
    fac = _points([(0, 20), (300, 1200), (9000, 0)], facility_id=["a", "b", "c"], category=["grocery"] * 3,
                  name=["a", "b", "c"])
    r = analyze(street, policy=load_policy(tmp_path / "shop.toml"), facilities=fac, units=units,
                osm_facilities=False, area=area)
    t = r.data_quality["inputs"].set_index(["input", "category"])
    g = t.loc[("facilities", "grocery")]
    assert (g["total"], g["inside"], g["outside"], g["off_network"]) == (3, 2, 1, 1)
    assert g["nearest_outside_m"] == pytest.approx(9000 - 1100, rel=0.01)  # the area edge is a meridian, not a UTM line
    u = t.loc[("units", "all")]
    assert (u["total"], u["inside"], u["outside"], u["off_network"]) == (3, 2, 1, 1)
    # the off-network count no longer needs population data (it was 0)
    off = r.data_quality["off_network"].set_index("network")
    assert off.loc["walk", "units_all_off_network"] == 1  # u2, more than 300 m away; u3 (outside) was dropped
    assert r.units.set_index("unit_id")["shop_status"].tolist() == ["covered", "off_network"]


# --------------------------------------------------------------------------- the README's Wuhan data


@pytest.mark.wuhan
def test_none_of_the_weibo_places_lies_in_optics_valley(wuhan_dir):
    # The issue: none of the 1,676 rows of the README's facility file lies inside the Optics
    # Valley network area, the nearest 1.1 km from a street (1.6 km from the file's bounds).
    df = pd.read_csv(wuhan_dir / "weibo_pois_gcj02.csv")
    lon, lat = gcj02_to_wgs84(df["Longitude"].to_numpy(float), df["Latitude"].to_numpy(float))
    walk = load_network(wuhan_dir / "guanggu.osm", mode="walk")
    area = box(*walk.report["file_bounds"])
    snap = walk.snap_lonlat(lon, lat, max_snap_m=300, source="facilities")
    row = inputs_against_area(lon, lat, area, input="facilities", off_network=snap.off_network,
                              snap_m=snap.distance_m, declared_crs="gcj02", metric_crs=walk.crs).iloc[0]
    assert (row["total"], row["inside"], row["outside"]) == (1676, 0, 1676)
    assert row["nearest_network_m"] == pytest.approx(1143, abs=5)
    assert row["nearest_outside_m"] == pytest.approx(1628, abs=5)
    # not a GCJ-02 / WGS84 mix-up (a 550 m shift brings none of them in), not another city
    assert row["likely_cause"] == "the input covers a larger area than the network"


@pytest.mark.wuhan
def test_readme_run_reports_inputs_per_category(wuhan_dir, tmp_path, capsys):
    from circles.cli import main

    w = wuhan_dir
    out = tmp_path / "out"
    code = main(["analyze", "--network", str(w / "guanggu.osm"), "--facilities", str(w / "weibo_pois_gcj02.csv"),
                 "--facilities-crs", "gcj02", "--population", str(w / "population_20plus.tif"),
                 "--districts", str(w / "districts.geojson"), "--out", str(out), "--quiet"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    sheets = pd.read_excel(out / "coverage.xlsx", sheet_name=None)
    dq = sheets["dq_facilities"]
    status = dq[[c for c in dq.columns if str(c).endswith("status")][0]]
    category = dq[[c for c in dq.columns if str(c).endswith("category")][0]]
    by_cat = dict(zip(category, status))
    # the 65 culture venues are all outside the area (and so off the network): not "ok"
    assert by_cat["culture"] == "all outside area"
    assert by_cat["ambulance_station"] == "no data" and by_cat["public_space"] == "ok"
    inputs = sheets["dq_inputs"]
    inputs.columns = [str(c).split(" / ")[-1] for c in inputs.columns]
    culture = inputs[(inputs["input"] == "facilities") & (inputs["category"] == "culture")].iloc[0]
    assert (culture["total"], culture["inside"], culture["outside"]) == (65, 0, 65)
    assert culture["likely_cause"] == "the input covers a larger area than the network"
    # the console: per category, inside / outside, and the cause; the user's file on its own line
    assert "facilities · culture: 0 of 65 inside the study area, 65 outside" in printed
    own = next(ln for ln in printed.splitlines() if "facilities from weibo_pois_gcj02.csv" in ln)
    assert "0 of 231 inside the study area, 231 outside" in own
    assert "likely cause: the input covers a larger area than the network" in printed
    # QA 8: dq_facilities said 65 culture venues "off the walk network" while dq_inputs said 0 off network;
    # now both count off the network only inside the area, and the parts add up to the total
    dq.columns = [str(c).split(" / ")[-1] for c in dq.columns]
    dq = dq.set_index("category")
    assert (dq["facilities"] == dq["outside_area"] + dq["off_walk_network"] + dq["on_walk_network"]).all()
    assert (dq["facilities"] == dq["outside_area"] + dq["off_drive_network"] + dq["on_drive_network"]).all()
    assert (dq.loc["culture", "outside_area"], dq.loc["culture", "off_walk_network"]) == (65, 0)
    fac_inputs = inputs[(inputs["input"] == "facilities") & (inputs["category"] != "all")].set_index("category")
    modes = {c: "drive" if c == "ambulance_station" else "walk" for c in fac_inputs.index}
    for c, row in fac_inputs.iterrows():
        assert row["outside"] == dq.loc[c, "outside_area"], c
        assert row["off_network"] == dq.loc[c, f"off_{modes[c]}_network"], c


@pytest.mark.wuhan
def test_score_reports_candidates_against_the_area(wuhan_dir, tmp_path, capsys):
    from circles.cli import main

    w = wuhan_dir
    walk = load_network(w / "guanggu.osm", mode="walk")
    # two candidate sites on the network and one in Hankou, ~20 km away, in GCJ-02 like Amap
    west, south, east, north = walk.report["file_bounds"]
    inside = np.flatnonzero((walk.lon > west) & (walk.lon < east) & (walk.lat > south) & (walk.lat < north))
    lon = np.array([walk.lon[inside[0]], walk.lon[inside[-1]], 114.27])
    lat = np.array([walk.lat[inside[0]], walk.lat[inside[-1]], 30.60])
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    path = tmp_path / "sites.csv"
    pd.DataFrame({"candidate_id": ["S-001", "S-002", "S-003"], "category": ["elderly_care"] * 3,
                  "lon": g_lon, "lat": g_lat}).to_csv(path, index=False)
    code = main(["score", "--network", str(w / "guanggu.osm"), "--population", str(w / "population_20plus.tif"),
                 "--candidates", str(path), "--candidates-crs", "gcj02", "--circle", "elderly_care_15",
                 "--out", str(tmp_path / "score"), "--quiet"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "candidate sites against the study area" in printed
    assert "candidates · elderly_care: 2 of 3 inside the study area (0 of these off the network), 1 outside" in printed
    scores = pd.read_csv(tmp_path / "score" / "scores.csv", encoding="utf-8-sig")
    assert (scores["flag"].fillna("").str.contains("outside_area")).sum() == 1
