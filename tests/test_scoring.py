"""Tests of candidate scoring and site selection (circles.scoring).

The central check is brute force: add one candidate to the facilities, rerun
the full coverage computation, and compare the change in covered population
with the candidate's score.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from osm_builder import lonlat, write_osm

from circles.analysis import analyze
from circles.coverage import compute_coverage
from circles.errors import InputError
from circles.scoring import (
    ScoreTable,
    coverage_with_sites,
    generate_candidates,
    load_candidates,
    score,
    select_sites,
    write_score_outputs,
)

# --------------------------------------------------------------------------- #
# A hand-checkable one-way street (ambulance direction)
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def oneway_result(tmp_path_factory):
    # 1 ----3000 m----> 2 ----4000 m----> 3   one-way primary, maxspeed 36 km/h = 600 m/min
    # Driving 1->2 takes 5 min, 2->3 6.67 min, 1->3 11.67 min; nothing drives back.
    # Residents: 10 at node 1, 100 at node 2, 1000 at node 3 (unit points on the nodes).
    path = tmp_path_factory.mktemp("oneway") / "oneway.osm"
    nodes = {1: (0, 0), 2: (3000, 0), 3: (7000, 0)}
    write_osm(path, nodes, [(10, [1, 2, 3], {"highway": "primary", "oneway": "yes", "maxspeed": "36"})])
    pts = [lonlat(*nodes[i]) for i in (1, 2, 3)]
    units = gpd.GeoDataFrame({"unit_id": ["u1", "u2", "u3"], "name": ["u1", "u2", "u3"],
                              "population": [10.0, 100.0, 1000.0], "population_65plus": [1.0, 1.0, 1.0]},
                             geometry=gpd.points_from_xy(*zip(*pts)), crs="EPSG:4326")
    lon, lat = zip(*pts)
    area = (min(lon) - 0.01, min(lat) - 0.01, max(lon) + 0.01, max(lat) + 0.01)
    result = analyze(path, units=units, area=area)
    cands = gpd.GeoDataFrame({"candidate_id": ["at1", "at2", "at3"], "category": ["ambulance_station"] * 3},
                             geometry=gpd.points_from_xy(*zip(*pts)), crs="EPSG:4326")
    return result, cands


def test_ambulance_drives_from_station_along_one_way(oneway_result):
    result, cands = oneway_result
    s = score(result, cands, circles="emergency_medical").set_index("candidate_id")
    # at1 reaches node 1 (0 min) and node 2 (5 min); node 3 is 11.67 min away (> 10)
    # at2 reaches node 2 and node 3 (6.67 min) but not node 1 (against the one-way)
    # at3 reaches only node 3
    assert s.loc["at1", "newly_covered_population"] == pytest.approx(110.0)
    assert s.loc["at2", "newly_covered_population"] == pytest.approx(1100.0)
    assert s.loc["at3", "newly_covered_population"] == pytest.approx(1000.0)
    # nobody had an ambulance: the 1,100 people at2 reaches are newly reachable, nobody is
    # "faster", and no minutes saved are invented against the 60-minute cap
    assert s.loc["at2", "newly_reachable_population"] == pytest.approx(1100.0)
    assert s.loc["at2", "faster_population"] == 0.0
    assert np.isnan(s.loc["at2", "mean_minutes_saved"])
    sel = select_sites(result, cands, circle="emergency_medical", k=2, method="exact")
    assert sel.table["candidate_id"].tolist() == ["at2", "at1"]
    assert sel.table["newly_covered_population"].tolist() == pytest.approx([1100.0, 10.0])


def test_minutes_saved_only_for_residents_who_already_had_a_park(tmp_path):
    # A street along x (walking 60 m/min; the park circle's limit, the horizon, is 10 min):
    #
    #   A(0 m) ---- B(300) ---- C(540) ---- X(900) ---- D(1200)
    #   park         20 people  40 people   candidate   80 people
    #   10 people
    #
    # before (park at A):  A 0 min, B 5 min, C 9 min, D 20 min (beyond the 10-minute horizon)
    # after (park at X):   A 15 (out of reach), B 10 (not faster), C 6, D 5
    # -> C is faster by 9 - 6 = 3 minutes (it already had the park within 10 min): faster 40, mean 3.0
    # -> D had no park within 10 min: newly reachable 80 (and newly covered 80), no minutes invented
    # -> improved = 40 + 80 = 120 people at 2 points; the old rule (60-minute cap or D's 20 minutes)
    #    would have said (40*3 + 80*15) / 120 = 11 minutes saved
    xs = {1: 0.0, 2: 300.0, 3: 540.0, 4: 900.0, 5: 1200.0}
    path = write_osm(tmp_path / "line.osm", {i: (x, 0.0) for i, x in xs.items()},
                     [(10, [1, 2, 3, 4, 5], {"highway": "residential"})])
    pts = {i: lonlat(x, 0.0) for i, x in xs.items()}
    units = gpd.GeoDataFrame({"unit_id": ["A", "B", "C", "D"], "population": [10.0, 20.0, 40.0, 80.0]},
                             geometry=gpd.points_from_xy(*zip(*[pts[i] for i in (1, 2, 3, 5)])), crs="EPSG:4326")
    park = gpd.GeoDataFrame({"facility_id": ["park"], "category": ["public_space"], "name": ["park"]},
                            geometry=gpd.points_from_xy([pts[1][0]], [pts[1][1]]), crs="EPSG:4326")
    lon, lat = zip(*pts.values())
    result = analyze(path, units=units, facilities=park,
                     area=(min(lon) - 0.01, min(lat) - 0.01, max(lon) + 0.01, max(lat) + 0.01))
    cand = gpd.GeoDataFrame({"candidate_id": ["X"], "category": ["public_space"]},
                            geometry=gpd.points_from_xy([pts[4][0]], [pts[4][1]]), crs="EPSG:4326")
    row = score(result, cand, circles="public_activity_10").iloc[0]
    assert row["faster_population"] == pytest.approx(40.0)
    assert row["mean_minutes_saved"] == pytest.approx(3.0, abs=1e-6)
    assert row["newly_reachable_population"] == pytest.approx(80.0)
    assert row["improved_population"] == pytest.approx(120.0)
    assert row["improved_points"] == 2
    assert row["newly_covered_population"] == pytest.approx(80.0)


def test_generated_candidates_have_human_names(tmp_path):
    # a 1.2 km street, nobody has a park: candidates are generated along it; intermediate
    # (densified) nodes have negative ids, which used to show as "node -3"
    xs = {1: 0.0, 2: 1200.0}
    path = write_osm(tmp_path / "street.osm", {i: (x, 0.0) for i, x in xs.items()},
                     [(10, [1, 2], {"highway": "residential", "name": "光谷大道"})])
    pts = [lonlat(x, 0.0) for x in (0.0, 600.0, 1200.0)]
    units = gpd.GeoDataFrame({"unit_id": ["a", "b", "c"], "population": [10.0, 10.0, 10.0]},
                             geometry=gpd.points_from_xy(*zip(*pts)), crs="EPSG:4326").to_crs(32650)
    units["geometry"] = units.buffer(200.0)
    result = analyze(path, units=units.to_crs(4326))
    cands = generate_candidates(result, categories=["public_space"], spacing_m=250)
    assert len(cands) >= 3
    assert cands["name"].tolist() == [f"生成候选点 {i} / generated site {i}" for i in range(1, len(cands) + 1)]
    assert not cands["name"].str.contains("node").any()
    # when the network keeps street names, the label carries the street's name
    net = result.networks["walk"]
    object.__setattr__(net, "edge_name", np.full(net.n_edges, "光谷大道", dtype=object))  # a frozen dataclass
    try:
        named = generate_candidates(result, categories=["public_space"], spacing_m=250)
    finally:
        object.__delattr__(net, "edge_name")
    assert named["name"].str.endswith(" (光谷大道)").all()
    assert named["name"].iloc[0] == "生成候选点 1 / generated site 1 (光谷大道)"


# --------------------------------------------------------------------------- #
# Optics Valley
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def wuhan_result(wuhan_dir):
    """Weibo POIs plus a grocery, a kindergarten and a primary school placed on
    the network, so that some residents lack only primary care (life_15)."""
    from circles.facilities import read_facility_file

    weibo = read_facility_file(wuhan_dir / "weibo_pois_gcj02.csv", crs="gcj02").facilities
    base = analyze(wuhan_dir / "guanggu.osm", facilities=weibo, facilities_crs="gcj02")
    net = base.networks["walk"]
    # three nodes near the middle of the extract
    mid = np.argsort((net.lon - 114.515) ** 2 + (net.lat - 30.485) ** 2)[:3]
    extra = gpd.GeoDataFrame({"facility_id": ["g", "k", "p"], "category": ["grocery", "kindergarten", "primary_school"],
                              "name": ["g", "k", "p"]},
                             geometry=gpd.points_from_xy(net.lon[mid], net.lat[mid]), crs="EPSG:4326")
    fac = gpd.GeoDataFrame(pd.concat([weibo, extra], ignore_index=True), geometry="geometry", crs="EPSG:4326")
    return analyze(wuhan_dir / "guanggu.osm", facilities=fac, facilities_crs="gcj02",
                   population=wuhan_dir / "population_20plus.tif",
                   population_65plus=wuhan_dir / "population_65plus.tif",
                   districts=wuhan_dir / "districts.geojson")


@pytest.fixture(scope="module")
def wuhan_candidates(wuhan_result):
    return generate_candidates(wuhan_result, spacing_m=250)


@pytest.fixture(scope="module")
def wuhan_scores(wuhan_result, wuhan_candidates):
    return score(wuhan_result, wuhan_candidates)


def _rerun_with(result, row):
    """Full coverage rerun with one more facility; returns the new CoverageResult."""
    add = gpd.GeoDataFrame({"facility_id": ["candidate"], "feature_id": ["candidate"], "category": [row.category],
                            "name": ["candidate"]},
                           geometry=gpd.points_from_xy([row.lon], [row.lat]), crs="EPSG:4326")
    fac = result.facilities[["facility_id", "feature_id", "category", "name", "geometry"]]
    fac = gpd.GeoDataFrame(pd.concat([fac, add], ignore_index=True), geometry="geometry", crs="EPSG:4326")
    return compute_coverage(result.policy, result.networks, fac, result.units, result.demand,
                            districts=result.districts)


@pytest.mark.wuhan
def test_scores_equal_brute_force(wuhan_result, wuhan_scores):
    r = wuhan_result
    # a circle without data covers nobody that is known (NaN in the summary): 0 for the difference
    before = r.summary.set_index("circle")["covered_population"].fillna(0.0)
    rng = np.random.default_rng(6)
    sample = []
    for cat, n in (("public_space", 10), ("primary_care", 10), ("ambulance_station", 3), ("elderly_care", 3),
                   ("culture", 4)):
        sub = wuhan_scores[(wuhan_scores["category"] == cat) & (wuhan_scores["flag"] == "")]
        sample += [sub.iloc[i] for i in rng.choice(len(sub), size=min(n, len(sub)), replace=False)]
    multi_group_hits = faster_hits = 0
    for row in sample:
        r2 = _rerun_with(r, row)
        after = r2.summary.set_index("circle")["covered_population"].fillna(0.0)
        expected = after[row.circle] - before[row.circle]
        assert row.newly_covered_population == pytest.approx(expected, rel=1e-6, abs=1e-6), row.candidate_id
        multi_group_hits += row.circle in ("life_15", "culture_sports_12") and expected > 0
        # improved: category minutes fall, within the circle's horizon
        circle = r.circle(row.circle)
        old = np.nan_to_num(r.point_minutes[row.circle][row.category], nan=np.inf)
        new = np.nan_to_num(r2.point_minutes[row.circle][row.category], nan=np.inf)
        horizon = wuhan_scores.info["circles"][row.circle]["horizon_min"]
        w = r.demand.weights(circle.population) * (r.demand.unit >= 0)
        better = (new < old) & (new <= horizon)
        assert row.improved_population == pytest.approx(float(w[better].sum()), rel=1e-6, abs=1e-6)
        # faster: had the category within the horizon and get there sooner; newly reachable: the rest
        faster = better & (old <= horizon)
        assert row.faster_population == pytest.approx(float(w[faster].sum()), rel=1e-6, abs=1e-6)
        assert row.newly_reachable_population == pytest.approx(float(w[better & ~faster].sum()), rel=1e-6,
                                                               abs=1e-6)
        if w[faster].sum() > 0:
            saved = old[faster] - new[faster]
            assert row.mean_minutes_saved == pytest.approx(float((w[faster] * saved).sum() / w[faster].sum()),
                                                           rel=1e-6)
            faster_hits += 1
        else:
            assert np.isnan(row.mean_minutes_saved)
    # the multi-group gate was exercised: some clinics / culture venues newly cover people
    assert multi_group_hits > 0
    assert faster_hits > 0  # and some candidates save minutes for people who had a facility


@pytest.mark.wuhan
def test_multi_group_gate_counts_only_completed_circles(wuhan_result, wuhan_scores):
    # a new clinic covers nobody who still lacks a grocery, kindergarten or school
    r = wuhan_result
    pm = r.point_minutes["life_15"]
    lim = r.point_limits["life_15"]
    others_met = np.ones(len(r.demand), bool)
    for req, limit in zip(r.circle("life_15").requirements, lim):
        if "primary_care" not in req.categories:
            others_met &= np.nan_to_num(pm[req.categories[0]], nan=np.inf) <= limit
    w = r.demand.weight_all * (r.demand.unit >= 0)
    clinics = wuhan_scores[wuhan_scores["category"] == "primary_care"]
    assert clinics["newly_covered_population"].max() <= w[others_met].sum() + 1e-6
    assert clinics["newly_covered_population"].max() > 0
    assert (clinics["improved_population"] >= clinics["newly_covered_population"] - 1e-9).all()


@pytest.mark.wuhan
def test_score_table_shape_and_district_split(wuhan_scores, wuhan_candidates):
    assert isinstance(wuhan_scores, ScoreTable)
    for col in ("candidate_id", "name", "category", "lon", "lat", "circle", "newly_covered_population",
                "improved_population", "mean_minutes_saved", "district", "flag"):
        assert col in wuhan_scores.columns
    # every candidate kept, one row per circle its category counts towards (wuhan: exactly one)
    assert len(wuhan_scores) == len(wuhan_candidates)
    assert wuhan_scores["candidate_id"].tolist() == wuhan_candidates["candidate_id"].tolist()
    by_d = wuhan_scores.by_district.groupby(["candidate_id", "circle"])["newly_covered_population"].sum()
    total = wuhan_scores.set_index(["candidate_id", "circle"])["newly_covered_population"]
    np.testing.assert_allclose(by_d.reindex(total.index, fill_value=0.0).to_numpy(), total.to_numpy(), rtol=1e-9,
                               atol=1e-9)
    assert set(wuhan_scores.by_district["district"]) <= {"洪山区", "江夏区", "(none)"}


@pytest.mark.wuhan
def test_generated_candidates_are_thinned_and_deterministic(wuhan_result):
    a = generate_candidates(wuhan_result, categories=["public_space"], spacing_m=250)
    b = generate_candidates(wuhan_result, categories=["public_space"], spacing_m=250)
    pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b))
    assert a["candidate_id"].iloc[0] == "gen-public_space-0001"
    net = wuhan_result.networks["walk"]
    x, y = net.project(a.geometry.x.to_numpy(), a.geometry.y.to_numpy())
    cells = set(zip(np.floor(x / 250).astype(int), np.floor(y / 250).astype(int)))
    assert len(cells) == len(a)  # one per grid square
    sparse = generate_candidates(wuhan_result, categories=["public_space"], spacing_m=1000)
    assert 0 < len(sparse) < len(a)
    with pytest.raises(InputError, match="spaceport"):
        generate_candidates(wuhan_result, categories=["spaceport"])
    # crs= was renamed candidates_crs= (the CLI's --candidates-crs); the old name warns for one release
    with pytest.warns(DeprecationWarning, match="candidates_crs"):
        old = generate_candidates(wuhan_result, categories=["public_space"], spacing_m=1000, crs="gcj02")
    new = generate_candidates(wuhan_result, categories=["public_space"], spacing_m=1000, candidates_crs="gcj02")
    pd.testing.assert_frame_equal(pd.DataFrame(old), pd.DataFrame(new))
    assert "lon_gcj02" in new


@pytest.mark.wuhan
@pytest.mark.filterwarnings("ignore:Couldn't detect a suitable IP address:RuntimeWarning")  # sockets blocked
def test_threads_and_dask_equal_serial(wuhan_result, wuhan_candidates, wuhan_scores):
    pytest.importorskip("dask.distributed")
    from circles.scoring.distributed import score_dask

    threaded = score(wuhan_result, wuhan_candidates, n_threads=2, chunk_size=37)
    pd.testing.assert_frame_equal(pd.DataFrame(threaded), pd.DataFrame(wuhan_scores))
    dask_scores = score_dask(wuhan_result, wuhan_candidates, n_chunks=6, processes=False)
    pd.testing.assert_frame_equal(pd.DataFrame(dask_scores), pd.DataFrame(wuhan_scores))
    pd.testing.assert_frame_equal(dask_scores.by_district, wuhan_scores.by_district)
    assert dask_scores.info["timings"]["cluster_start_s"] < 30


@pytest.mark.wuhan
@pytest.mark.parametrize("circle,k", [("public_activity_10", 3), ("elderly_care_15", 3), ("culture_sports_12", 2)])
def test_greedy_not_better_than_exact_and_after_coverage_agrees(wuhan_result, wuhan_candidates, circle, k):
    greedy = select_sites(wuhan_result, wuhan_candidates, circle=circle, k=k, method="greedy")
    exact = select_sites(wuhan_result, wuhan_candidates, circle=circle, k=k, method="exact")
    assert greedy.covered_population <= exact.covered_population + 1e-6
    assert greedy.gap_to_exact is not None and greedy.gap_to_exact >= -1e-6
    t = greedy.table
    assert t["rank"].tolist() == list(range(1, len(t) + 1))
    np.testing.assert_allclose(t["cumulative_newly_covered"], np.cumsum(t["newly_covered_population"]))
    # baseline = the coverage run; after = the coverage functions rerun with the chosen sites
    base = wuhan_result.summary.set_index("circle").loc[circle, "covered_population"]
    if np.isnan(base):  # no data: no baseline, never 0 (QA item 2)
        assert np.isnan(greedy.baseline_population)
    else:
        assert greedy.baseline_population == pytest.approx(base, rel=1e-9)
    after = coverage_with_sites(wuhan_result, t, circle=circle)
    assert after.attrs["covered_population_after"] == pytest.approx(greedy.covered_population, rel=1e-6)


@pytest.mark.wuhan
def test_existing_facilities_are_never_chosen(wuhan_result, wuhan_candidates):
    fac = wuhan_result.facilities
    existing = fac[(fac["category"] == "public_space") & ~fac["walk_off_network"].astype(bool)]
    at_existing = gpd.GeoDataFrame({"candidate_id": [f"dup-{i}" for i in range(len(existing))],
                                    "category": "public_space"},
                                   geometry=existing.geometry.to_numpy(), crs="EPSG:4326")
    generated = wuhan_candidates[wuhan_candidates["category"] == "public_space"]
    cands = gpd.GeoDataFrame(pd.concat([at_existing, generated], ignore_index=True), geometry="geometry",
                             crs="EPSG:4326")
    s = score(wuhan_result, cands, circles="public_activity_10")
    assert s.loc[s["candidate_id"].str.startswith("dup-"), "flag"].str.contains("at_existing_facility").all()
    # generated candidates avoid nodes that already have a park
    assert not s.loc[~s["candidate_id"].str.startswith("dup-"), "flag"].str.contains("at_existing").any()
    for method in ("greedy", "exact"):
        sel = select_sites(wuhan_result, cands, circle="public_activity_10", k=5, method=method)
        assert not sel.table["candidate_id"].str.startswith("dup-").any()
        assert sel.candidates["fixed"].sum() == len(at_existing)


@pytest.mark.wuhan
def test_off_network_and_outside_candidates_flagged_kept_zero(wuhan_result):
    net = wuhan_result.networks["walk"]
    node = int(np.argsort((net.lon - 114.515) ** 2 + (net.lat - 30.485) ** 2)[0])
    # 80 m east of a node: on the network with the default 300 m, off it with max_snap_m=20
    x, y = net.x[node] + 80.0, net.y[node]
    from pyproj import Transformer

    lon80, lat80 = Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True).transform(x, y)
    cands = gpd.GeoDataFrame({"candidate_id": ["near", "far", "at-node"],
                              "category": ["public_space", "elderly_care", "public_space"]},
                             geometry=gpd.points_from_xy([lon80, 114.30, net.lon[node]],
                                                         [lat80, 30.60, net.lat[node]]), crs="EPSG:4326")
    s = score(wuhan_result, cands, max_snap_m=20.0).set_index("candidate_id")
    assert len(s) == 3
    assert "off_network" in s.loc["near", "flag"] and s.loc["near", "newly_covered_population"] == 0
    assert "outside_area" in s.loc["far", "flag"] and "off_network" in s.loc["far", "flag"]
    assert s.loc["far", ["newly_covered_population", "improved_population"]].tolist() == [0.0, 0.0]
    assert s.loc["at-node", "flag"] == ""
    assert 20.0 < s.loc["near", "snap_m"] <= 80.0 + 1e-6


@pytest.mark.wuhan
def test_k_larger_than_usable_candidates_selects_what_it_can_and_says_why(wuhan_result, wuhan_candidates):
    elderly = wuhan_candidates[wuhan_candidates["category"] == "elderly_care"]
    few = elderly.head(2)
    sel = select_sites(wuhan_result, few, circle="elderly_care_15", k=5)
    assert len(sel.table) <= 2 and sel.requested == 5
    assert "asked for 5 site(s) but only 2 of the 2 candidate(s)" in sel.reason
    rows = sel.rows()
    assert (rows["sites_requested"] == 5).all() and (rows["note"] == sel.reason).all()
    # no candidate of the circle's categories: an empty selection with the reason, not an error
    none = select_sites(wuhan_result, few, circle="emergency_medical", k=2)
    assert none.table.empty and "no candidate site of a category this circle needs (ambulance_station)" in none.reason
    row = none.rows()
    assert len(row) == 1 and row["circle"].iloc[0] == "emergency_medical" and pd.isna(row["rank"].iloc[0])
    # no ambulance station in the input: no data, so no baseline and nothing after (never 0)
    assert np.isnan(none.baseline_population) and row["status_after"].iloc[0] == "no_data"
    assert np.isnan(row["covered_population_after"].iloc[0])
    with pytest.raises(InputError, match="method must be"):
        select_sites(wuhan_result, wuhan_candidates, circle="elderly_care_15", k=1, method="best")
    with pytest.raises(InputError, match="no circle"):
        select_sites(wuhan_result, wuhan_candidates, circle="life_99", k=1)


@pytest.mark.wuhan
def test_cli_select_keeps_every_circle_with_a_mixed_sites_file(tmp_path, wuhan_dir, capsys):
    # seen 8: with a mixed-category sites file and --select 2 circles vanished from selected.csv and
    # scores.html, the reason only in the progress-bar line
    from circles.cli import main

    sites = tmp_path / "sites.csv"
    sites.write_text("id,name,category,lon,lat\n"
                     "S-001,养老院A,养老院,114.52,30.485\n"
                     "S-002,急救站B,急救站,114.51,30.48\n"
                     "S-003,公园C,公园,114.515,30.487\n"
                     "S-004,养老院E,elderly_care,114.525,30.49\n", encoding="utf-8")
    w = wuhan_dir
    out = tmp_path / "out"
    code = main(["score", "--network", str(w / "guanggu.osm"), "--population", str(w / "population_20plus.tif"),
                 "--population-65plus", str(w / "population_65plus.tif"), "--districts", str(w / "districts.geojson"),
                 "--candidates", str(sites), "--candidates-crs", "gcj02", "--select", "2", "--out", str(out),
                 "--quiet"])
    assert code == 0
    stdout = capsys.readouterr().out
    selected = pd.read_csv(out / "selected.csv", encoding="utf-8-sig")
    policy = ["life_15", "culture_sports_12", "public_activity_10", "emergency_medical", "elderly_care_15"]
    assert list(dict.fromkeys(selected["circle"])) == policy
    culture = selected[selected["circle"] == "culture_sports_12"]
    assert len(culture) == 1 and pd.isna(culture["candidate_id"].iloc[0])
    assert "no candidate site of a category this circle needs" in culture["note"].iloc[0]
    ambulance = selected[selected["circle"] == "emergency_medical"]
    assert ambulance["candidate_id"].tolist() == ["S-002"]  # the user's id
    assert "asked for 2 site(s) but only 1" in ambulance["note"].iloc[0]
    # the reasons are ordinary output lines, one per circle
    for cid in policy:
        assert f"selected for {cid} (greedy):" in stdout
    assert "culture_sports_12 (greedy): none — no candidate site" in stdout.replace("\n", " ")
    html = (out / "scores.html").read_text(encoding="utf-8")
    for cid in policy:
        assert cid in html
    # tables fit to publish: people 1 decimal, shares 4, minutes 2 (coordinates keep theirs)
    for name in ("scores.csv", "scores_by_district.csv", "selected.csv"):
        raw = pd.read_csv(out / name, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        for col in raw.columns:
            decimals = raw[col].str.extract(r"^-?\d+\.(\d+)$")[0].dropna().str.len()
            limit = 99 if col.startswith(("lon", "lat")) else 4 if "share" in col else 2 if "minutes" in col else 1
            assert decimals.empty or decimals.max() <= limit, (name, col)
    assert selected["newly_covered_population"].dtype.kind == "f"
    scores = pd.read_csv(out / "scores.csv", encoding="utf-8-sig")
    assert {"faster_population", "newly_reachable_population", "mean_minutes_saved"} <= set(scores.columns)
    import openpyxl

    wb = openpyxl.load_workbook(out / "scores.xlsx")
    assert wb["scores"].cell(1, 1).value == "候选点编号 / candidate_id"
    assert wb["selected"].freeze_panes == "A2" and wb["selected"].auto_filter.ref


# --------------------------------------------------------------------------- #
# Candidate files
# --------------------------------------------------------------------------- #


def _write(tmp_path, text, name="candidates.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_load_candidates_gcj02_ids_labels_capacity(tmp_path):
    from circles.coords import gcj02_to_wgs84

    p = _write(tmp_path, "id,name,category,lon,lat,beds\n"
                         "a,光谷养老院,养老院,114.52,30.485,120\n"
                         "b,急救站一,ambulance_station,114.51,30.48,\n")
    c = load_candidates(p, candidates_crs="gcj02")
    assert c["candidate_id"].tolist() == ["a", "b"]
    assert c["category"].tolist() == ["elderly_care", "ambulance_station"]
    assert c["capacity"].iloc[0] == 120 and np.isnan(c["capacity"].iloc[1])
    lon, lat = gcj02_to_wgs84(np.array([114.52]), np.array([30.485]))
    assert c.geometry.x.iloc[0] == pytest.approx(lon[0], abs=1e-9)
    assert c.geometry.y.iloc[0] == pytest.approx(lat[0], abs=1e-9)
    # no id column: rows numbered by file stem
    q = _write(tmp_path, "category,lon,lat\npark,114.52,30.485\n", name="sites.csv")
    assert load_candidates(q, candidates_crs="wgs84")["candidate_id"].tolist() == ["sites-0001"]


def test_duplicate_candidate_ids(tmp_path):
    p = _write(tmp_path, "id,category,lon,lat\nx1,park,114.52,30.485\nx1,park,114.53,30.485\nx2,park,114.5,30.48\n")
    with pytest.raises(InputError, match=r"duplicate.*'x1'"):
        load_candidates(p, candidates_crs="wgs84")
    gdf = gpd.GeoDataFrame({"candidate_id": ["a", "a"], "category": ["public_space"] * 2},
                           geometry=gpd.points_from_xy([114.52, 114.53], [30.48, 30.48]), crs="EPSG:4326")
    with pytest.raises(InputError, match=r"unique.*'a'"):
        score(None, gdf)


def test_unknown_candidate_category(tmp_path):
    p = _write(tmp_path, "id,category,lon,lat\nx1,park,114.52,30.485\nx2,spaceport,114.53,30.485\n")
    with pytest.raises(InputError) as err:
        load_candidates(p, candidates_crs="wgs84")
    msg = str(err.value)
    assert "row 2" in msg and "spaceport" in msg and "elderly_care" in msg and "ambulance_station" in msg
    with pytest.raises(InputError, match="crs"):
        load_candidates(p)


def test_candidates_crs_old_keyword_still_works_and_warns(tmp_path):
    """``crs=`` was renamed ``candidates_crs=`` (the CLI's --candidates-crs); the old name warns for one release."""
    p = _write(tmp_path, "id,category,lon,lat\nx1,park,114.52,30.485\n")
    new = load_candidates(p, candidates_crs="gcj02")
    with pytest.warns(DeprecationWarning, match="candidates_crs"):
        old = load_candidates(p, crs="gcj02")
    assert old.geometry.x.iloc[0] == new.geometry.x.iloc[0]
    with pytest.raises(InputError, match="not both"):
        load_candidates(p, crs="gcj02", candidates_crs="gcj02")


# --------------------------------------------------------------------------- #
# Outputs
# --------------------------------------------------------------------------- #


@pytest.mark.wuhan
def test_write_score_outputs_offline_and_escaped(tmp_path, wuhan_result, wuhan_candidates):
    from circles.outputs.webmap import find_online_resources

    cands = wuhan_candidates[wuhan_candidates["category"].isin(["elderly_care", "ambulance_station"])].copy()
    cands.loc[cands.index[0], "name"] = "<script>alert(1)</script>"
    scores = score(wuhan_result, cands)
    sels = [select_sites(wuhan_result, cands, circle=c, k=2) for c in ("emergency_medical", "elderly_care_15")]
    written = write_score_outputs(wuhan_result, scores, sels, tmp_path / "out")
    for key in ("scores_csv", "xlsx", "selected_csv", "map"):
        assert written[key].exists(), key
    back = pd.read_csv(written["scores_csv"], encoding="utf-8-sig")
    assert len(back) == len(scores)
    selected = pd.read_csv(written["selected_csv"], encoding="utf-8-sig")
    assert set(selected["circle"]) <= {"emergency_medical", "elderly_care_15"} and len(selected) >= 2
    html = written["map"].read_text(encoding="utf-8")
    assert find_online_resources(html) == []
    assert "<script>alert(1)</script>" not in html
    after = "15分钟养老服务圈 · 新增后"  # the "with the new sites" layer (scores.html is zh by default)
    assert after in html or json.dumps(after)[1:-1] in html
