"""Coverage on hand-checkable networks (answers worked out in comments) and on
the real Optics Valley data."""

import textwrap

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from osm_builder import lonlat, write_osm
from shapely.geometry import Point, box

import circles
from circles.analysis import analyze
from circles.coverage import compute_circle, snap_facilities, weighted_median
from circles.errors import InputError, ValidationError
from circles.network import load_network
from circles.policies import load_policy

ONE_CIRCLE = """
id = "test"
name = "test pack"
[[circles]]
id = "shop"
name_en = "shop circle"
mode = "walk"
speed_m_per_min = 60
threshold_min = {threshold}
clause = "test rule: a grocery within {threshold} minutes"
  [[circles.requirements]]
  categories = ["grocery"]
"""

AMBULANCE = """
id = "amb"
name = "ambulance pack"
[[circles]]
id = "ems"
name_en = "emergency"
mode = "drive"
threshold_min = 10
zone_thresholds_min = {{ central = 10, new_urban = 12 }}
default_zone = "central"
direction = "{direction}"
clause = "test rule: ambulance within 10 (central) / 12 (new urban) minutes"
  [[circles.requirements]]
  categories = ["ambulance_station"]
"""


def _pack(tmp_path, text, **fmt):
    p = tmp_path / "pack.toml"
    p.write_text(textwrap.dedent(text.format(**fmt)), encoding="utf-8")
    return load_policy(p)


def _points(xy_m, **columns):
    pts = [Point(*lonlat(x, y)) for x, y in xy_m]
    return gpd.GeoDataFrame(columns, geometry=pts, crs="EPSG:4326")


@pytest.fixture
def street(tmp_path):
    # One straight residential street, nodes every 100 m from x=0 to x=1000.
    nodes = {i + 1: (100.0 * i, 0.0) for i in range(11)}
    return load_network(write_osm(tmp_path / "street.osm", nodes, [(1, list(nodes), {"highway": "residential"})]),
                        mode="walk")


def _facility(x, y, category="grocery", name="shop"):
    f = _points([(x, y)], facility_id=["f1"], category=[category], name=[name])
    f["feature_id"] = f["facility_id"]
    return f


@pytest.mark.parametrize("threshold,status", [(15, "covered"), (7, "uncovered")])
def test_unit_400_m_from_a_grocery(tmp_path, street, threshold, status):
    # The grocery stands 20 m off the street at x=0; the unit's centre is 30 m off
    # the street at x=400.  Walking 20 + 400 + 30 m at 60 m/min = 7.5 min
    # (6.67 min on the street plus 0.33 + 0.5 min of access legs).
    units = _points([(400, 30)], unit_id=["u1"], name=["楼"], population=[100.0], population_65plus=[10.0])
    r = analyze(street, policy=_pack(tmp_path, ONE_CIRCLE, threshold=threshold), facilities=_facility(0, 20),
                units=units, osm_facilities=False)
    row = r.units.iloc[0]
    assert row["shop_minutes"] == pytest.approx(7.5, abs=0.01)
    assert row["shop_status"] == status
    assert row["shop_covered_share"] == (1.0 if status == "covered" else 0.0)
    assert row["shop_missing"] == ("" if status == "covered" else "grocery")
    assert row["shop_rule"].startswith("test rule")
    # the per-node arrays are kept for scoring: the node at x=400 is 6.67 + 0.33 min away
    node = int(np.argmin(np.hypot(street.x - street.x.min() - 400, street.y - street.y.min())))
    assert r.node_minutes["shop"]["grocery"][node] == pytest.approx(420 / 60, abs=0.01)


def test_category_with_no_facilities_is_no_data_not_a_crash(tmp_path, street, caplog):
    caplog.set_level("INFO", logger="circles.coverage")
    units = _points([(400, 30)], unit_id=["u1"], population=[100.0])
    r = analyze(street, policy=_pack(tmp_path, ONE_CIRCLE, threshold=15),
                facilities=_facility(0, 20, category="pharmacy"), units=units, osm_facilities=False)
    assert r.units.iloc[0]["shop_missing"] == "grocery (no data)"
    # contract 1: no data is not "uncovered" and not 0 %
    assert r.units.iloc[0]["shop_status"] == "no_data"
    assert np.isnan(r.units.iloc[0]["shop_covered_share"]) and np.isnan(r.units.iloc[0]["shop_minutes"])
    s = r.summary.iloc[0]
    assert s["no_data"] == "grocery" and s["status"] == "no_data" and s["units_no_data"] == 1
    assert np.isnan(s["covered_share"]) and np.isnan(s["covered_population"]) and s["population"] == 100
    dq = r.data_quality["facilities"].set_index("category")
    assert dq.loc["grocery", "status"] == "no data" and dq.loc["pharmacy", "status"] == "ok"
    assert "grocery: no facilities in the input" in caplog.text


def test_off_network_unit_is_counted_not_dropped(tmp_path, street):
    # u2 stands 2 km from the street: beyond the 300 m snap limit, inside the study area.
    units = _points([(400, 30), (400, 2000)], unit_id=["u1", "u2"], population=[100.0, 50.0])
    area = (*lonlat(-100, -100), *lonlat(1100, 2100))  # units outside the study area would be dropped
    r = analyze(street, policy=_pack(tmp_path, ONE_CIRCLE, threshold=15), facilities=_facility(0, 20),
                units=units, osm_facilities=False, area=area)
    assert r.units["shop_status"].tolist() == ["covered", "off_network"]
    assert r.units["offnet_population"].tolist() == [0.0, 50.0]
    s = r.summary.iloc[0]
    assert s["population"] == 150 and s["covered_population"] == 100 and s["offnet_population"] == 50


def test_zero_population_unit_is_empty(tmp_path, street):
    units = _points([(400, 30), (500, 30)], unit_id=["u1", "u2"], population=[100.0, 0.0])
    r = analyze(street, policy=_pack(tmp_path, ONE_CIRCLE, threshold=15), facilities=_facility(0, 20),
                units=units, osm_facilities=False)
    assert r.units["shop_status"].tolist() == ["covered", "empty"]
    assert np.isnan(r.units["shop_covered_share"].iloc[1])


@pytest.fixture
def one_way(tmp_path):
    # Station S at x=0.  A one-way primary S -> A (x=0 -> x=1000) at 40 km/h:
    # 1000 m / (40000/60 m/min) = 1.5 min.  Back from A to S only by a residential
    # loop 1000 m north, 1000 m west, 1000 m south: 3000 m at 20 km/h = 9 min.
    nodes = {1: (0, 0), 2: (1000, 0), 3: (1000, 1000), 4: (0, 1000)}
    ways = [(1, [1, 2], {"highway": "primary", "oneway": "yes"}),
            (2, [2, 3, 4, 1], {"highway": "residential"})]
    drive = load_network(write_osm(tmp_path / "oneway.osm", nodes, ways), mode="drive")
    walk = load_network(tmp_path / "oneway.osm", mode="walk")
    return walk, drive


@pytest.mark.parametrize("direction,expected", [("from", 1.5), ("to", 9.0)])
def test_ambulance_on_a_one_way_street(tmp_path, one_way, direction, expected):
    walk, drive = one_way
    units = _points([(1000, 0)], unit_id=["A"], population=[10.0])
    r = analyze(walk, drive_network=drive, policy=_pack(tmp_path, AMBULANCE, direction=direction),
                facilities=_facility(0, 0, category="ambulance_station", name="急救站"), units=units,
                osm_facilities=False)
    # from the station: 1.5 min down the one-way; *to* it would be the 9 min loop
    assert r.units.iloc[0]["ems_minutes"] == pytest.approx(expected, abs=0.01)
    assert r.units.iloc[0]["ems_status"] == "covered"


def test_central_and_new_urban_thresholds(tmp_path):
    # A two-way residential road from x=-3700 to x=+3700, station at x=0.
    # Units sit on the road at x=-3667 (central district) and x=+3667 (new urban):
    # 3667 m at 20 km/h (333.3 m/min) = 11.0 min for both.  Central allows 10 min
    # (uncovered), new urban 12 min (covered).
    xs = [-3700, -3667, -2000, 0, 2000, 3667, 3700]
    nodes = {i + 1: (float(x), 0.0) for i, x in enumerate(xs)}
    path = write_osm(tmp_path / "road.osm", nodes, [(1, list(nodes), {"highway": "residential"})])
    units = _points([(-3667, 0), (3667, 0)], unit_id=["west", "east"], population=[100.0, 100.0])
    w0, s0 = lonlat(-5000, -500)
    e0, n0 = lonlat(5000, 500)
    mid, _ = lonlat(0, 0)
    districts = gpd.GeoDataFrame({"name": ["中心区", "新城区"], "zone": ["central", "new_urban"]},
                                 geometry=[box(w0, s0, mid, n0), box(mid, s0, e0, n0)], crs="EPSG:4326")
    r = analyze(path, policy=_pack(tmp_path, AMBULANCE, direction="from"), units=units, districts=districts,
                facilities=_facility(0, 0, category="ambulance_station"), osm_facilities=False)
    u = r.units.set_index("unit_id")
    assert u.loc["west", "ems_minutes"] == pytest.approx(11.0, abs=0.02)
    assert u.loc["east", "ems_minutes"] == pytest.approx(11.0, abs=0.02)
    assert (u.loc["west", "zone"], u.loc["east", "zone"]) == ("central", "new_urban")
    assert (u.loc["west", "ems_threshold_min"], u.loc["east", "ems_threshold_min"]) == (10, 12)
    assert (u.loc["west", "ems_status"], u.loc["east", "ems_status"]) == ("uncovered", "covered")
    d = r.district_summary.set_index("district")
    assert d.loc["中心区", "covered_share"] == 0 and d.loc["新城区", "covered_share"] == 1


def test_weighted_median_per_unit():
    # unit 0: values 1 (weight 1), 5 (weight 3) -> median 5; unit 1: NaN only -> NaN
    got = weighted_median(np.array([1.0, 5.0, np.nan]), np.array([1.0, 3.0, 2.0]), np.array([0, 0, 1]), 2)
    assert got[0] == 5.0 and np.isnan(got[1])


def test_bad_inputs_are_named(tmp_path, street):
    with pytest.raises(InputError, match="no-such-pack"):
        analyze(street, policy="no-such-pack")
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "x"\nname = "x"\n[[circles]]\nid = "c"\nmode = "fly"\nthreshold_min = -1\n', encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        analyze(street, policy=bad)
    assert len(info.value.problems) >= 3  # mode, threshold, requirements/clause all listed at once
    with pytest.raises(InputError, match="status thresholds"):
        analyze(street, policy=_pack(tmp_path, ONE_CIRCLE, threshold=15), facilities=_facility(0, 20),
                osm_facilities=False, covered_min=0.1, uncovered_max=0.5)
    with pytest.raises(InputError, match="crs"):
        analyze(street, policy=_pack(tmp_path, ONE_CIRCLE, threshold=15), facilities=tmp_path / "f.csv")


def test_gcj02_points_declared_wgs84_warn(tmp_path, caplog, wuhan_dir):
    # Real Optics Valley network; facilities at walk-network nodes, shifted into
    # GCJ-02 (as Amap would publish them) but declared WGS84.
    from circles.coords import wgs84_to_gcj02

    net = load_network(wuhan_dir / "guanggu.osm", mode="walk")
    main = np.flatnonzero(net.main_nodes)  # nodes points snap to (not those of tiny detached pieces)
    pick = main[np.linspace(0, main.size - 1, 40).astype(int)]
    glon, glat = wgs84_to_gcj02(net.lon[pick], net.lat[pick])
    csv = tmp_path / "shops.csv"
    pd.DataFrame({"name": [f"店{i}" for i in range(40)], "lon": glon, "lat": glat, "category": "超市"}).to_csv(csv, index=False)
    analyze(wuhan_dir / "guanggu.osm", facilities=csv, facilities_crs="wgs84", grid_m=500)
    assert "looks like GCJ-02" in caplog.text
    caplog.clear()
    r = analyze(wuhan_dir / "guanggu.osm", facilities=csv, facilities_crs="gcj02", grid_m=500)
    assert "looks like GCJ-02" not in caplog.text
    on_net = r.facilities.loc[r.facilities["source"] != "osm", "walk_snap_m"]
    assert on_net.max() < 1.0  # exact inverse: back on their nodes


@pytest.mark.wuhan
def test_all_five_circles_on_optics_valley(wuhan_dir):
    w = wuhan_dir
    r = circles.analyze(w / "guanggu.osm", policy="wuhan-2022", facilities=w / "weibo_pois_gcj02.csv", facilities_crs="gcj02",
                        population=w / "population_20plus.tif", population_65plus=w / "population_65plus.tif",
                        districts=w / "districts.geojson", walk_speeds=[50, 60, 67, 80])
    ids = ["life_15", "culture_sports_12", "public_activity_10", "emergency_medical", "elderly_care_15"]
    assert r.summary["circle"].tolist() == ids
    for cid in ids:
        for suffix in ("minutes", "covered_share", "status", "missing"):
            assert f"{cid}_{suffix}" in r.units.columns
        assert set(r.units[f"{cid}_status"]) <= {"covered", "partial", "uncovered", "empty", "off_network",
                                                  "no_data"}
    # No one is lost: the units hold every person of the raster inside the area.
    from circles.population import raster_total_in_area

    total = raster_total_in_area(w / "population_20plus.tif", r.area)
    assert r.units["population"].sum() == pytest.approx(total, rel=1e-3)
    s = r.summary.set_index("circle")
    assert s.loc["life_15", "population"] == pytest.approx(total, rel=1e-3)
    assert s.loc["elderly_care_15", "population"] == pytest.approx(
        raster_total_in_area(w / "population_65plus.tif", r.area), rel=1e-3)
    # The data have no ambulance stations or elderly care: "no data", not "too far".
    assert s.loc["emergency_medical", "no_data"] == "ambulance_station"
    assert s.loc["elderly_care_15", "no_data"] == "elderly_care"
    assert (r.units.loc[r.units["population"] > 0, "emergency_medical_missing"] == "ambulance_station (no data)").all()
    assert (s.loc[["emergency_medical", "elderly_care_15"], "status"] == "no_data").all()
    assert s.loc[["emergency_medical", "elderly_care_15"], "covered_share"].isna().all()
    # Parks exist (OSM): the public activity circle is partly met, and walking faster never lowers coverage.
    assert 0 < s.loc["public_activity_10", "covered_share"] < 1
    sens = r.sensitivity[r.sensitivity["circle"] == "public_activity_10"].sort_values("walk_speed_m_per_min")
    assert sens["covered_share"].is_monotonic_increasing
    # The extract straddles 洪山区 (central, 10 min) and 江夏区 (new urban, 12 min).
    d = r.district_summary[r.district_summary["circle"] == "emergency_medical"].set_index("district")
    assert d.loc["洪山区", "threshold_min"] == 10 and d.loc["江夏区", "threshold_min"] == 12
    # units are index-aligned with the input grid and keep their ids
    assert r.units["unit_id"].is_unique
    assert len(r.uncovered("life_15")) > 0


@pytest.mark.wuhan
def test_without_65plus_raster_elderly_circle_uses_everyone_and_says_so(wuhan_dir):
    r = analyze(wuhan_dir / "guanggu.osm", population=wuhan_dir / "population_20plus.tif")
    s = r.summary.set_index("circle")
    assert s.loc["elderly_care_15", "population"] == pytest.approx(s.loc["life_15", "population"])
    assert any("65+" in a for a in r.assumptions)


@pytest.mark.wuhan
def test_osm_residential_units_keep_people_outside_them_visible(wuhan_dir):
    r = analyze(wuhan_dir / "guanggu.osm", units="osm", population=wuhan_dir / "population_20plus.tif")
    assert len(r.units) == 4  # the four landuse=residential polygons (two named 桃花源北区/南区)
    outside = r.data_quality["off_network"].set_index("network").loc["walk", "population_outside_units"]
    inside = r.units["population"].sum()
    from circles.population import raster_total_in_area

    assert inside + outside == pytest.approx(raster_total_in_area(wuhan_dir / "population_20plus.tif", r.area), rel=1e-3)


TWO_GROUPS = """
id = "two"
name = "two groups"
[[circles]]
id = "daily"
name_en = "daily"
mode = "walk"
speed_m_per_min = 60
threshold_min = 10
clause = "a grocery and a pharmacy within 10 minutes"
  [[circles.requirements]]
  categories = ["grocery"]
  [[circles.requirements]]
  categories = ["pharmacy"]
"""


def test_partial_on_the_combination_lists_what_is_short(tmp_path, street):
    # Street x=0..1000 m; grocery at x=0, pharmacy at x=1000; limit 10 min = 600 m.
    # Three people-points in one unit: A at x=100 (8 %) reaches only the grocery,
    # B at x=900 (8 %) only the pharmacy, C at x=500 (84 %) both.  Each group alone
    # reaches 92 % (>= 90 %), but only 84 % have both: partial, and both groups are
    # listed as missing because neither reaches everyone.
    r = _two_group_result(tmp_path, street)
    row = r.units.iloc[0]
    assert row["daily_covered_share"] == pytest.approx(0.84)
    assert row["daily_status"] == "partial"
    assert row["daily_missing"] == "grocery; pharmacy"


@pytest.mark.wuhan
def test_osm_xml_and_pbf_give_the_same_answer(wuhan_dir):
    # Same extract, two formats: same facilities (pedestrian squares included) and the
    # same coverage once the study area is the same (PBF files declare no bounds).
    area = (114.49986, 30.47688, 114.5379, 30.49247)
    results = [analyze(wuhan_dir / name, area=area, population=wuhan_dir / "population_20plus.tif")
               for name in ("guanggu.osm", "guanggu.osm.pbf")]
    a, b = (r.summary.set_index("circle") for r in results)
    assert a["facilities"].equals(b["facilities"])
    assert np.allclose(a["covered_population"], b["covered_population"], equal_nan=True)
    assert a["status"].equals(b["status"])
    assert sorted(results[0].facilities["feature_id"]) == sorted(results[1].facilities["feature_id"])


# --------------------------------------------------------------------------- issue #9 item 15


def _two_group_result(tmp_path, street, **options):
    """The 84 % unit of test_partial_on_the_combination, through compute_coverage with ``options``."""
    from circles.coverage import Demand, compute_coverage

    fac = pd.concat([_facility(0, 0, "grocery"), _facility(1000, 0, "pharmacy")], ignore_index=True)
    fac["facility_id"] = ["g", "p"]
    fac["feature_id"] = fac["facility_id"]
    pts = [lonlat(x, 0) for x in (100, 900, 500)]
    unit = _points([(500, 0)], unit_id=["u"], name=[""], population=[100.0], population_65plus=[0.0])
    demand = Demand(lon=np.array([p[0] for p in pts]), lat=np.array([p[1] for p in pts]),
                    weight_all=np.array([8.0, 8.0, 84.0]), weight_65plus=np.zeros(3), unit=np.zeros(3, int),
                    district=np.array([None] * 3, dtype=object), zone=np.array([None] * 3, dtype=object),
                    has_population=True)
    return compute_coverage(_pack(tmp_path, TWO_GROUPS), {"walk": street}, fac, unit, demand, **options)


def test_compute_coverage_leaves_the_callers_demand_snaps_alone(tmp_path, street):
    # issue #11: compute_coverage snapped into the caller's ``demand.snaps``; the result keeps its own
    from circles.coverage import Demand, compute_coverage

    fac = _facility(0, 0, "grocery")
    fac["facility_id"] = ["g"]
    lon, lat = lonlat(100, 0)
    unit = _points([(100, 0)], unit_id=["u"], name=[""], population=[10.0], population_65plus=[0.0])
    demand = Demand(lon=np.array([lon]), lat=np.array([lat]), weight_all=np.array([10.0]),
                    weight_65plus=np.zeros(1), unit=np.zeros(1, int), district=np.array([None], dtype=object),
                    zone=np.array([None], dtype=object), has_population=True)
    snaps = demand.snaps
    r = compute_coverage(_pack(tmp_path, TWO_GROUPS), {"walk": street}, fac, unit, demand)
    assert demand.snaps is snaps and demand.snaps == {}
    assert set(r.demand.snaps) == {"walk"} and r.demand is not demand


def test_compute_circle_returns_named_fields(tmp_path, street):
    # issue #11: a record with named fields, not a 6-tuple; unpacking still works for one release, with a warning
    from circles.coverage import CircleMinutes

    r = _two_group_result(tmp_path, street)
    circle = r.policy.circles[0]
    net = r.networks["walk"]
    fac_snap = snap_facilities(r.facilities, net, r.options.max_snap_m)
    measured = compute_circle(circle, net, r.demand.snaps["walk"], r.facilities["category"].to_numpy(object),
                              fac_snap, speed_m_per_min=circle.speed_m_per_min, cap_min=r.options.cap_min,
                              zone=r.demand.zone)
    assert isinstance(measured, CircleMinutes)
    assert sorted(measured.point_minutes) == sorted(circle.categories)
    assert len(measured.group_minutes) == len(measured.group_limits) == len(circle.requirements)
    assert np.array_equal(measured.point_minutes["grocery"], r.point_minutes[circle.id]["grocery"], equal_nan=True)
    with pytest.warns(DeprecationWarning, match="CircleMinutes"):
        *_, met = measured
    assert met is measured.met


def test_coverage_with_sites_keeps_the_analysis_thresholds(tmp_path, street):
    # 84 % covered: "covered" when covered_min=0.8.  Adding no site must change nothing
    # (the old code re-defaulted to 0.9 and flipped it to "partial").
    from circles.scoring import coverage_with_sites

    r = _two_group_result(tmp_path, street, covered_min=0.8, uncovered_max=0.05)
    assert r.units.iloc[0]["daily_status"] == "covered"
    no_sites = pd.DataFrame({"category": [], "lon": [], "lat": []})
    after = coverage_with_sites(r, no_sites, circle="daily")
    assert after.iloc[0]["daily_status_after"] == "covered"
    assert after.attrs["covered_population_after"] == pytest.approx(84.0)
    assert r.options.covered_min == 0.8 and r.options.uncovered_max == 0.05


def test_coverage_with_sites_keeps_the_analysis_snap_limit(tmp_path, street):
    # A grocery 400 m from the street is on the network with max_snap_m=500 (walk 400 m + the
    # street) and off it with the default 300: coverage after adding no site must not lose it.
    from circles.scoring import coverage_with_sites

    units = _points([(0, 30)], unit_id=["u1"], population=[100.0])
    r = analyze(street, policy=_pack(tmp_path, ONE_CIRCLE, threshold=15), facilities=_facility(0, 400),
                units=units, osm_facilities=False, max_snap_m=500)
    assert r.units.iloc[0]["shop_status"] == "covered"  # 400 + 30 m = 7.2 min
    after = coverage_with_sites(r, pd.DataFrame({"category": [], "lon": [], "lat": []}), circle="shop")
    assert after.iloc[0]["shop_status_after"] == "covered"
    assert r.options.max_snap_m == 500


def test_off_network_units_are_counted_without_population(tmp_path, street):
    # no population column: u2, 2 km from the street (inside the study area), is still counted as off the network
    units = _points([(400, 30), (400, 2000)], unit_id=["u1", "u2"])
    r = analyze(street, policy=_pack(tmp_path, ONE_CIRCLE, threshold=15), facilities=_facility(0, 20),
                units=units, osm_facilities=False, area=(*lonlat(-100, -100), *lonlat(1100, 2100)))
    assert r.units["shop_status"].tolist() == ["covered", "off_network"]
    off = r.data_quality["off_network"].set_index("network")
    assert off.loc["walk", "units_all_off_network"] == 1
    assert off.loc["walk", "off_network_points"] == 1


def test_default_zone_is_mentioned_only_without_zones(tmp_path):
    from circles.coverage import threshold_text

    ems = load_policy("wuhan-2022").circle("emergency_medical")
    assert threshold_text(ems, np.array([None, None], dtype=object)).endswith("(default central: no zones given)")
    assert "default" not in threshold_text(ems, np.array(["central", "new_urban"], dtype=object))
    assert "outside the districts" in threshold_text(ems, np.array(["central", None], dtype=object))
    assert threshold_text(load_policy("wuhan-2022").circle("life_15"), np.array([None])) == "15 min"


def test_unit_beside_a_detached_stub_is_joined_to_the_main_street(tmp_path):
    # The street of 11 nodes (x = 0 … 1000 m) and a detached 20 m footway stub (2 nodes)
    # at y = 60.  The unit at (500, 80) is 20 m from the stub, 80 m from the street; the
    # grocery stands 20 m off the street at x = 0.  Snapped to the stub it reaches nothing
    # ("uncovered"); joined to the street it walks 80 + 500 + 20 m = 10 min.
    nodes = {i + 1: (100.0 * i, 0.0) for i in range(11)} | {21: (490.0, 60.0), 22: (510.0, 60.0)}
    ways = [(1, list(range(1, 12)), {"highway": "residential"}), (2, [21, 22], {"highway": "footway"})]
    net = load_network(write_osm(tmp_path / "stub.osm", nodes, ways), mode="walk")
    assert net.report["components"] == 2
    units = _points([(500, 80)], unit_id=["u1"], population=[100.0])
    r = analyze(net, policy=_pack(tmp_path, ONE_CIRCLE, threshold=15), facilities=_facility(0, 20),
                units=units, osm_facilities=False)
    row = r.units.iloc[0]
    assert row["shop_status"] == "covered"
    assert row["shop_minutes"] == pytest.approx(10.0, abs=0.01)
    off = r.data_quality["off_network"].set_index("network")
    assert off.loc["walk", "past_small_piece_points"] == 1
    assert off.loc["walk", "past_small_piece_population"] == 100.0
    assert any("snapped past a small piece: walk: 1 demand point(s), 0 facilit(ies)" in a for a in r.assumptions)
