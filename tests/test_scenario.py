"""Scenarios (circles.scenario): every edit's coverage equals a full re-analysis with the scenario's
facilities, and a single added site's gain equals its `circles score` value (issue #13)."""

from __future__ import annotations

import threading

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from circles.analysis import analyze
from circles.coords import gcj02_to_wgs84, wgs84_to_gcj02
from circles.errors import InputError
from circles.scenario import SCENARIO_COLUMNS, FacilityNotFound, Scenario
from circles.scoring import score


def _same(a, b) -> bool:
    """A scenario number (None = no data) against a result's (NaN = no data)."""
    if a is None or b is None or (isinstance(b, float) and np.isnan(b)):
        return (a is None) and (b is None or np.isnan(b))
    return bool(np.isclose(a, b, rtol=1e-9, atol=1e-9))


def _reanalysis(s: Scenario, wuhan_dir):
    """`circles analyze` from the files, with the scenario's facilities in place of the inputs'."""
    return analyze(wuhan_dir / "guanggu.osm", policy="wuhan-2022", facilities=s.facilities_frame(),
                   osm_facilities=False, population=wuhan_dir / "population_20plus.tif",
                   population_65plus=wuhan_dir / "population_65plus.tif", districts=wuhan_dir / "districts.geojson")


def _assert_equal(s: Scenario, full) -> None:
    summary = s.summary()
    by_circle = full.summary.set_index("circle")
    for row in summary["circles"]:
        ref = by_circle.loc[row["circle"]]
        assert _same(row["covered_population"], float(ref["covered_population"])), (row, ref)
        assert _same(row["covered_share"], float(ref["covered_share"])), (row, ref)
        assert row["population"] == pytest.approx(float(ref["population"]), rel=1e-9)
        status = s.unit_status(row["circle"])
        assert status["status"] == full.units[f"{row['circle']}_status"].astype(str).tolist()
        share = np.array([np.nan if v is None else v for v in status["share"]], dtype=float)
        np.testing.assert_allclose(share, full.units[f"{row['circle']}_covered_share"].to_numpy(float), atol=1e-4)
    districts = full.district_summary.groupby(["circle", "district"])[["population", "covered_population"]].sum(
        min_count=1)
    for row in summary["districts"]:
        ref = districts.loc[(row["circle"], row["district"])]
        assert row["population"] == pytest.approx(float(ref["population"]), rel=1e-9)
        assert _same(row["covered_population"], float(ref["covered_population"])), (row, ref)


def _street_points(result, n: int, seed: int = 7) -> list[tuple[float, float]]:
    """Positions a few metres off walk-network nodes inside the study area (as a planner would click)."""
    net = result.networks["walk"]
    rng = np.random.default_rng(seed)
    inside = gpd.GeoSeries(gpd.points_from_xy(net.lon, net.lat), crs="EPSG:4326").within(result.area).to_numpy()
    nodes = rng.choice(np.flatnonzero(inside), size=n, replace=False)
    return [(float(net.lon[i]) + 0.00005, float(net.lat[i]) + 0.00003) for i in nodes]


def test_a_fresh_scenario_shows_the_analysis(readme_analysis):
    s = Scenario(readme_analysis)
    summary = s.summary()
    assert [c["circle"] for c in summary["circles"]] == readme_analysis.summary["circle"].tolist()
    for row in summary["circles"]:
        assert row["covered_population"] == row["covered_population_before"] or (
            row["covered_population"] is None and row["covered_population_before"] is None)
    _assert_equal(s, readme_analysis)
    # no data stays no data (null), never 0
    nd = [c for c in summary["circles"] if c["no_data"]]
    assert nd and all(c["covered_share"] is None for c in nd)


def test_edits_equal_a_full_reanalysis(readme_analysis, wuhan_dir):
    s = Scenario(readme_analysis, facilities_crs="gcj02")
    p = _street_points(readme_analysis, 6)
    added = [s.add("public_space", *p[0], name="新广场"), s.add("elderly_care", *p[1], name="养老驿站"),
             s.add("ambulance_station", *p[2])]
    existing = readme_analysis.facilities
    parks = existing.loc[existing["category"] == "public_space", "facility_id"].astype(str).tolist()
    s.close(parks[0])
    s.move(parks[1], *p[3])
    s.move(added[0], *p[4])
    _assert_equal(s, _reanalysis(s, wuhan_dir))
    before_public = s.summary()["circles"][2]["covered_population"]
    s.close(added[1])  # an added site taken back: the elderly circle has no data again
    assert s.summary()["circles"][4]["covered_population"] is None
    assert s.undo() and s.summary()["circles"][4]["covered_population"] is not None
    assert s.summary()["circles"][2]["covered_population"] == pytest.approx(before_public, rel=1e-12)
    _assert_equal(s, s.after_result())
    assert s.version == 8 and s.n_edits == 6  # six edits kept; a seventh taken back by undo (both count)
    while s.undo():
        pass
    _assert_equal(s, readme_analysis)
    assert s.scenario_table().empty


def test_after_result_equals_analyze_and_carries_every_table(readme_analysis, wuhan_dir):
    s = Scenario(readme_analysis)
    for lon, lat in _street_points(readme_analysis, 3, seed=11):
        s.add("public_space", lon, lat)
    after = s.after_result()
    full = _reanalysis(s, wuhan_dir)
    pd.testing.assert_series_equal(after.summary["covered_population"], full.summary["covered_population"],
                                   rtol=1e-12)
    assert len(after.units) == len(readme_analysis.units)
    assert any("scenario" in a for a in after.assumptions)
    assert len(after.facilities) == len(readme_analysis.facilities) + 3


@pytest.mark.parametrize("category", ["public_space", "ambulance_station", "elderly_care", "sports"])
def test_one_added_site_gains_what_circles_score_says(readme_analysis, category):
    sites = _street_points(readme_analysis, 4, seed=3)
    cands = gpd.GeoDataFrame({"candidate_id": [f"c{i}" for i in range(len(sites))], "category": category,
                              "name": ""}, geometry=gpd.points_from_xy(*zip(*sites)), crs="EPSG:4326")
    table = score(readme_analysis, cands)
    for i, (lon, lat) in enumerate(sites):
        s = Scenario(readme_analysis)
        before = {c["circle"]: c["covered_population"] or 0.0 for c in s.summary()["circles"]}
        s.add(category, lon, lat)
        after = {c["circle"]: c["covered_population"] for c in s.summary()["circles"]}
        rows = table[table["candidate_id"] == f"c{i}"]
        assert len(rows)
        for _, row in rows.iterrows():
            if after[row["circle"]] is None:  # still no data (another requirement group has no facility)
                continue
            gain = after[row["circle"]] - before[row["circle"]]
            assert gain == pytest.approx(row["newly_covered_population"], rel=1e-9, abs=1e-6), (category, i, row)


def test_bad_edits_are_refused_with_a_message(readme_analysis):
    s = Scenario(readme_analysis)
    lon, lat = _street_points(readme_analysis, 1)[0]
    with pytest.raises(InputError, match="no circle of policy 'wuhan-2022' uses it"):
        s.add("aed", lon, lat)
    with pytest.raises(InputError, match="unknown"):
        s.add("spaceport", lon, lat)
    with pytest.raises(InputError, match=r"m from the nearest street .* place the public_space site"):
        s.add("public_space", 114.9, 30.2)
    with pytest.raises(InputError, match="latitude outside"):
        s.add("public_space", 114.4, 130.5)
    with pytest.raises(InputError, match="must be numbers"):
        s.add("public_space", "east", lat)
    with pytest.raises(InputError, match="at most 200"):
        s.add("public_space", lon, lat, name="x" * 201)
    with pytest.raises(InputError, match="unknown coordinate system|crs"):
        s.add("public_space", lon, lat, crs="mars")
    with pytest.raises(FacilityNotFound, match="no facility with id 'nope'"):
        s.close("nope")
    fid = str(readme_analysis.facilities["facility_id"].iloc[0])
    s.close(fid)
    with pytest.raises(InputError, match="already closed"):
        s.close(fid)
    with pytest.raises(InputError, match="undo the closing"):
        s.move(fid, lon, lat)
    assert s.version == 1  # refused edits change nothing


def test_scenario_table_gives_wgs84_and_the_input_system(readme_analysis):
    s = Scenario(readme_analysis, facilities_crs="gcj02")
    lon, lat = _street_points(readme_analysis, 2, seed=5)[0]
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    fid = s.add("public_space", g_lon, g_lat, crs="gcj02", name="站点")
    moved = str(readme_analysis.facilities["facility_id"].iloc[3])
    s.move(moved, lon, lat)
    closed = str(readme_analysis.facilities["facility_id"].iloc[4])
    s.close(closed)
    table = s.scenario_table()
    assert list(table.columns) == list(SCENARIO_COLUMNS) and len(table) == 3
    t = table.set_index("id")
    assert t.loc[fid, "action"] == "add" and t.loc[fid, "name"] == "站点" and t.loc[fid, "crs_in"] == "gcj02"
    assert t.loc[fid, "x_in"] == pytest.approx(g_lon, abs=1e-6) and t.loc[fid, "y_in"] == pytest.approx(g_lat, abs=1e-6)
    w_lon, w_lat = gcj02_to_wgs84(g_lon, g_lat)
    assert t.loc[fid, "lon"] == pytest.approx(w_lon, abs=1e-6) and t.loc[fid, "lat"] == pytest.approx(w_lat, abs=1e-6)
    src = readme_analysis.facilities.set_index(readme_analysis.facilities["facility_id"].astype(str))
    assert t.loc[moved, "action"] == "move"
    assert t.loc[moved, "from_lon"] == pytest.approx(src.loc[moved, "lon"], abs=1e-6)
    assert t.loc[moved, "from_x_in"] == pytest.approx(wgs84_to_gcj02(src.loc[moved, "lon"], src.loc[moved, "lat"])[0],
                                                      abs=1e-7)
    assert t.loc[closed, "action"] == "close" and np.isnan(t.loc[closed, "from_lon"])
    s.close(moved)  # moved, then closed: it closes where it stood
    t = s.scenario_table().set_index("id")
    assert t.loc[moved, "action"] == "close" and t.loc[moved, "lon"] == pytest.approx(src.loc[moved, "lon"], abs=1e-7)


def test_reset_and_threads_leave_one_consistent_scenario(readme_analysis):
    s = Scenario(readme_analysis)
    points = _street_points(readme_analysis, 8, seed=21)
    errors: list[BaseException] = []

    def worker(chunk):
        try:
            for lon, lat in chunk:
                s.add("public_space", lon, lat)
                s.summary()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(points[k::4],)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert s.version == 8 and sorted(f["id"] for f in s.facilities() if f["state"] == "added") == sorted(
        f"new-{i}" for i in range(1, 9))
    _assert_equal(s, s.after_result())
    s.reset()
    _assert_equal(s, readme_analysis)
    assert s.n_edits == 0 and s.version == 9


def test_a_saved_scenario_replays_to_the_same_coverage(readme_analysis, tmp_path):
    s = Scenario(readme_analysis, facilities_crs="gcj02")
    p = _street_points(readme_analysis, 4, seed=9)
    s.add("public_space", *p[0], name="新广场")
    added = s.add("elderly_care", *p[1])
    s.move(added, *p[2])
    parks = readme_analysis.facilities.loc[readme_analysis.facilities["category"] == "public_space", "facility_id"]
    s.close(str(parks.iloc[0]))
    s.move(str(parks.iloc[1]), *p[3])
    path = tmp_path / "scenario.csv"
    s.scenario_table().to_csv(path, index=False, encoding="utf-8-sig")  # as GET /api/scenario.csv saves it

    again = Scenario(readme_analysis, facilities_crs="gcj02")
    assert again.replay(path) == 4
    for a, b in zip(again.summary()["circles"], s.summary()["circles"]):
        assert _same(a["covered_population"], b["covered_population"] if b["covered_population"] is not None
                     else float("nan")), (a, b)
    assert sorted(again.scenario_table()["action"]) == sorted(s.scenario_table()["action"])
    assert "新广场" in set(again.scenario_table()["name"])


def test_a_scenario_that_does_not_fit_is_refused_whole(readme_analysis, tmp_path):
    s = Scenario(readme_analysis)
    lon, lat = _street_points(readme_analysis, 1, seed=4)[0]
    rows = [{"action": "add", "id": "new-1", "category": "public_space", "lon": lon, "lat": lat},
            {"action": "close", "id": "osm-node-nonesuch", "category": "public_space", "lon": lon, "lat": lat}]
    path = tmp_path / "other.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"other\.csv, row 3: no facility with id 'osm-node-nonesuch' in this "
                                         r"analysis: was the file saved from other inputs\?"):
        s.replay(path)
    assert s.n_edits == 0 and s.scenario_table().empty  # the first row was taken back
    with pytest.raises(InputError, match=r"row 2: action 'build' is not one of add, move, close"):
        s.replay(pd.DataFrame([{**rows[0], "action": "build"}]))
    with pytest.raises(InputError, match=r"no column\(s\) \['action'\]"):
        s.replay(pd.DataFrame([{k: v for k, v in rows[0].items() if k != "action"}]))
