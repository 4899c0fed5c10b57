"""Facilities downloaded from OpenStreetMap for an online run (``--place`` /
``fetch_network``), tested on a RECORDED response: the Optics Valley extract
turned into the Overpass JSON format by osmnx itself, served by a stand-in for
osmnx's HTTP call.  The live service is never contacted (sockets are blocked)."""

from __future__ import annotations

import time

import pandas as pd
import pytest

import circles
from circles import online
from circles._osm import read_xml
from circles.classify import osm_query_tags
from circles.errors import NetworkUnavailableError
from circles.facilities import facilities_from_features
from circles.network import fetch_network, load_features
from circles.online import _network_cache_path

pytestmark = pytest.mark.wuhan


@pytest.fixture(scope="module")
def recorded(wuhan_dir):
    """The Overpass JSON of guanggu.osm (what Overpass answers for that area) and its bbox."""
    from osmnx import _osm_xml

    path = wuhan_dir / "guanggu.osm"
    return _osm_xml._overpass_json_from_xml(path, "utf-8"), read_xml(path).bounds


@pytest.fixture
def overpass(monkeypatch, recorded):
    """Serve the recorded response in place of osmnx's HTTP request; count the requests."""
    import copy

    from osmnx import _overpass

    calls: list = []

    def answer(data):
        calls.append(data["data"])
        return copy.deepcopy(recorded[0])  # osmnx mutates the elements it parses

    monkeypatch.setattr(_overpass, "_overpass_request", answer)
    monkeypatch.setattr(online, "_check_reachable", lambda url, timeout: None)  # "the servers answer"
    return calls


def test_fetch_features_classifies_like_the_file_and_caches(overpass, recorded, wuhan_dir, tmp_path):
    import osmnx as ox

    before = {k: getattr(ox.settings, k) for k in ("requests_timeout", "overpass_rate_limit", "use_cache")}
    features = online.fetch_features(bbox=recorded[1], cache_dir=tmp_path)
    assert len(overpass) == 1
    # the query asks for the classification table's tags, e.g. amenity=school and social facilities
    assert "'amenity'='school'" in overpass[0] and "'social_facility'='nursing_home'" in overpass[0]
    # osmnx's global settings are as they were
    assert {k: getattr(ox.settings, k) for k in before} == before

    got = facilities_from_features(features)
    # the same area read from the file: every facility found by a tag is found online too
    # (features known only by their name cannot be asked for by tag)
    ref = facilities_from_features(load_features(wuhan_dir / "guanggu.osm"))
    by_tag = ref.facilities[ref.facilities["basis"] != "name"]
    expected = by_tag["category"].value_counts().reindex(got.counts().index, fill_value=0)
    assert got.counts().sum() > 0
    pd.testing.assert_series_equal(got.counts(), expected, check_names=False)
    assert set(got.facilities["facility_id"]) == set(by_tag["facility_id"])

    # second call: read from the cache, no request, same facilities
    again = online.fetch_features(bbox=recorded[1], cache_dir=tmp_path)
    assert len(overpass) == 1
    assert list(tmp_path.glob("features-*.geojson"))
    pd.testing.assert_series_equal(facilities_from_features(again).counts(), got.counts())
    assert again["tags"].map(lambda t: isinstance(t, dict) and "version" not in t).all()


def test_query_tags_follow_the_categories():
    assert osm_query_tags(["pharmacy"]) == {"amenity": ["pharmacy"], "healthcare": ["pharmacy"]}
    elderly = osm_query_tags(["elderly_care"])
    assert "social_facility" in elderly["amenity"] and "nursing_home" in elderly["social_facility"]
    assert "school" in osm_query_tags(["primary_school"])["amenity"]
    assert osm_query_tags(["ambulance_station"])["emergency"] == ["ambulance_station"]
    with pytest.raises(ValueError, match="unknown categories"):
        osm_query_tags(["schools"])


def test_offline_fails_fast_with_the_network_advice(tmp_path):
    started = time.monotonic()
    with pytest.raises(NetworkUnavailableError) as info:
        online.fetch_features(bbox=(114.50, 30.47, 114.54, 30.49), cache_dir=tmp_path)
    assert time.monotonic() - started < 12
    assert "No internet connection" in str(info.value) and "--facilities" in str(info.value)
    assert "load_network" in str(info.value)
    assert not list(tmp_path.glob("features-*"))  # nothing cached from a failure


def _seed_network_cache(cache_dir, wuhan_dir, *, place=None, bbox=None):
    """Put osmnx graphs of guanggu.osm where fetch_network caches its downloads."""
    import osmnx as ox

    graph = ox.graph_from_xml(wuhan_dir / "guanggu.osm", simplify=False, retain_all=True)
    for mode in ("walk", "drive"):
        ox.save_graphml(graph, _network_cache_path(cache_dir, f"{mode}|{place}|{bbox}|None"))


def test_analyze_on_a_downloaded_network_gets_online_facilities(overpass, recorded, wuhan_dir, tmp_path):
    bbox = recorded[1]
    _seed_network_cache(tmp_path, wuhan_dir, bbox=bbox)
    walk = fetch_network(bbox=bbox, mode="walk", cache_dir=tmp_path)
    drive = fetch_network(bbox=bbox, mode="drive", cache_dir=tmp_path)
    assert walk.report["online_query"]["bbox"] == bbox
    result = circles.analyze(walk, drive_network=drive, grid_m=500)
    assert len(overpass) == 1
    cls = result.data_quality["classification"]
    osm = cls[cls["source"] == "osm"]
    assert osm.loc[osm["category"] == "public_space", "count"].sum() == 12
    # before: an online run had no facilities at all; now the public-activity circle has data
    fac = result.data_quality["facilities"].set_index("category")
    assert fac.loc["public_space", "status"] != "no data"
    # without OSM facilities asked for, nothing is downloaded
    circles.analyze(walk, drive_network=drive, grid_m=500, osm_facilities=False)
    assert len(overpass) == 1


def test_cli_place_downloads_facilities_too(overpass, recorded, wuhan_dir, tmp_path, monkeypatch):
    import geopandas as gpd
    import osmnx as ox
    from shapely.geometry import box

    from circles.cli import main

    place = "光谷, 武汉市"
    monkeypatch.setenv("HOME", str(tmp_path))  # the default cache ~/.cache/circles
    cache = tmp_path / ".cache" / "circles"
    _seed_network_cache(cache, wuhan_dir, place=place)
    monkeypatch.setattr(ox, "geocode_to_gdf", lambda q, *a, **k: gpd.GeoDataFrame(
        geometry=[box(*recorded[1])], crs="EPSG:4326"))
    out = tmp_path / "out"
    assert main(["analyze", "--place", place, "--grid", "500", "--out", str(out), "--quiet"]) == 0
    assert len(overpass) == 1 and list(cache.glob("features-*.geojson"))
    summary = pd.read_csv(out / "summary.csv")
    activity = summary.set_index("circle").loc["public_activity_10"]
    assert activity["covered_share"] == activity["covered_share"]  # a number, not "no data"
    assert activity["covered_share"] > 0
