"""The JSON API of ``circles serve`` (issue #13): every endpoint, the error answers, safety, and several
clients editing at once — on the README's Wuhan analysis, one server for the module."""

from __future__ import annotations

import http.client
import io
import math
import threading
import time

import numpy as np
import pandas as pd
import pytest
from servetools import call, running_server, street_points

from circles.outputs.offline_html import find_online_resources
from circles.scenario import SCENARIO_COLUMNS, Scenario


@pytest.fixture(scope="module")
def server(readme_analysis, tmp_path_factory):
    scenario = Scenario(readme_analysis, facilities_crs="gcj02")
    with running_server(scenario, tmp_path_factory.mktemp("serve-out"), lang="zh") as srv:
        yield srv


@pytest.fixture(scope="module")
def points(readme_analysis):
    return street_points(readme_analysis, 16)


@pytest.fixture
def port(server):
    """The server's port, with the scenario back at the analysis' facilities."""
    port = server.server_address[1]
    assert call(port, "POST", "/api/reset", {}).status == 200
    return port


def _covered(summary: dict, circle: str) -> float | None:
    return next(c for c in summary["circles"] if c["circle"] == circle)["covered_population"]


def _same(a: float | None, b: float | None) -> bool:
    a = None if a is None or (isinstance(a, float) and math.isnan(a)) else a
    b = None if b is None or (isinstance(b, float) and math.isnan(b)) else b
    return a is None and b is None or (a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9))


# ------------------------------------------------------------------------------------------------ reading


def test_page_is_self_contained(port):
    a = call(port, "GET", "/")
    assert a.status == 200 and a.headers["content-type"].startswith("text/html")
    html = a.body.decode("utf-8")
    assert "L.map" in html or "leaflet" in html.lower()
    assert find_online_resources(html) == [] and html.count("<link") == html.count('<link rel="icon" href="data:,">')
    assert a.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in a.headers["content-security-policy"]
    assert "connect-src 'self'" in a.headers["content-security-policy"]
    assert not any(k.startswith("access-control-") for k in a.headers)


def test_meta(port, server, readme_analysis):
    meta = call(port, "GET", "/api/meta").json
    policy = readme_analysis.policy
    assert meta["lang"] == "zh" and meta["policy"]["id"] == policy.id
    assert [c["id"] for c in meta["circles"]] == [c.id for c in policy.circles]
    assert {"name_zh", "name_en", "mode", "threshold", "population", "categories"} <= set(meta["circles"][0])
    cats = {c["id"]: c for c in meta["categories"]}
    assert cats["elderly_care"]["zh"] == "养老设施" and cats["elderly_care"]["addable"]
    assert cats["elderly_care"]["circles"] == ["elderly_care_15"] and cats["elderly_care"]["colour"].startswith("#")
    assert not cats["middle_school"]["addable"]  # on the map, but no circle counts it
    (s, w), (n, e) = meta["bounds"]
    assert 114 < w < e < 115 and 30 < s < n < 31
    assert meta["facilities_crs"] == "gcj02" and meta["n_units"] == len(readme_analysis.units) == 119
    assert [st["id"] for st in meta["statuses"]][:3] == ["covered", "partial", "uncovered"]


def test_units_geojson(port, readme_analysis):
    a = call(port, "GET", "/api/units.geojson")
    assert a.status == 200 and "json" in a.headers["content-type"]
    fc = a.json
    feats = fc["features"]
    assert len(feats) == len(readme_analysis.units)
    assert [f["properties"]["i"] for f in feats] == list(range(len(feats)))
    assert [f["properties"]["unit_id"] for f in feats] == readme_analysis.units["unit_id"].astype(str).tolist()
    assert {f["geometry"]["type"] for f in feats} <= {"Polygon", "MultiPolygon"}
    assert {"name", "district", "population", "population_65plus"} <= set(feats[0]["properties"])


def test_streets_backdrop(port, readme_analysis):
    """The walk network as one backdrop layer: every street segment once (two-way streets not twice), on the nodes."""
    a = call(port, "GET", "/api/streets.geojson")
    assert a.status == 200 and "json" in a.headers["content-type"]
    (feature,) = a.json["features"]
    lines = feature["geometry"]["coordinates"]
    net = readme_analysis.networks["walk"]
    pairs = {(min(u, v), max(u, v)) for u, v in zip(net.edge_u.tolist(), net.edge_v.tolist())}
    assert len(lines) == len(pairs)
    ends = np.array([end for line in lines for end in line])
    from scipy.spatial import cKDTree

    gap, _ = cKDTree(np.column_stack([net.lon, net.lat])).query(ends)
    assert gap.max() < 1e-6  # every end is a node (6 decimals ≈ 0.1 m)


def test_summary_facilities_and_unit_status(port, server, readme_analysis):
    summary = call(port, "GET", "/api/summary").json
    assert summary == server.scenario.summary()
    for c in summary["circles"]:
        assert {"circle", "population", "covered_population", "covered_share"} <= set(c)
    assert _covered(summary, "elderly_care_15") is None  # no data before any elderly-care site: null, not 0
    assert _covered(summary, "public_activity_10") > 0
    fac = call(port, "GET", "/api/facilities").json
    assert len(fac["facilities"]) == len(readme_analysis.facilities)
    assert {f["state"] for f in fac["facilities"]} == {"existing"}
    st = call(port, "GET", "/api/units/public_activity_10").json
    assert st["circle"] == "public_activity_10" and len(st["status"]) == len(st["share"]) == 119
    assert st["status"] == st["status_before"] == readme_analysis.units["public_activity_10_status"].tolist()


# ------------------------------------------------------------------------------------------------ editing


def test_add_move_close_undo_reset(port, server, points):
    v0 = server.scenario.version
    a = call(port, "POST", "/api/facilities",
             {"category": "elderly_care", "lon": points[0][0], "lat": points[0][1], "crs": "wgs84", "name": "站"})
    assert a.status == 201, a.body
    fid, summary = a.json["id"], a.json["summary"]
    assert fid.startswith("new-") and summary["version"] == v0 + 1
    gain = _covered(summary, "elderly_care_15")
    assert gain is not None and gain > 0
    moved = call(port, "POST", f"/api/facilities/{fid}/move", {"lon": points[5][0], "lat": points[5][1]})
    assert moved.status == 200 and _covered(moved.json["summary"], "elderly_care_15") != gain
    # close an existing public space whose closing changes the numbers
    before = _covered(summary, "public_activity_10")
    spaces = [f for f in call(port, "GET", "/api/facilities").json["facilities"] if f["category"] == "public_space"]
    closed = None
    for f in spaces:
        r = call(port, "DELETE", f"/api/facilities/{f['id']}")
        assert r.status == 200, r.body
        if _covered(r.json["summary"], "public_activity_10") < before:
            closed = f["id"]
            break
        call(port, "POST", "/api/undo", {})
    assert closed is not None
    states = {f["id"]: f["state"] for f in call(port, "GET", "/api/facilities").json["facilities"]}
    assert states[closed] == "closed" and states[fid] == "added"
    assert call(port, "DELETE", f"/api/facilities/{closed}").status == 422  # already closed
    u = call(port, "POST", "/api/undo", {})
    assert u.status == 200 and u.json["undone"] is True
    assert math.isclose(_covered(u.json["summary"], "public_activity_10"), before, rel_tol=1e-12)
    r = call(port, "POST", "/api/reset", {})
    assert r.status == 200 and _covered(r.json["summary"], "elderly_care_15") is None
    assert call(port, "POST", "/api/undo", {}).json["undone"] is False
    # an empty JSON body (Content-Length: 0) is fine where no fields are needed
    assert call(port, "POST", "/api/undo", raw=b"", headers={"Content-Type": "application/json"}).status == 200


def test_gcj02_input_lands_where_wgs84_does(port, server, points):
    from circles.coords import wgs84_to_gcj02

    lon, lat = points[1]
    gx, gy = wgs84_to_gcj02(lon, lat)
    a = call(port, "POST", "/api/facilities", {"category": "grocery", "lon": float(gx), "lat": float(gy),
                                               "crs": "gcj02"})
    assert a.status == 201
    f = next(f for f in call(port, "GET", "/api/facilities").json["facilities"] if f["id"] == a.json["id"])
    assert abs(f["lon"] - lon) < 1e-5 and abs(f["lat"] - lat) < 1e-5


def test_scenario_csv(port, server, points):
    call(port, "POST", "/api/facilities", {"category": "elderly_care", "lon": points[2][0], "lat": points[2][1],
                                           "name": "养老驿站 A"})
    fid = call(port, "POST", "/api/facilities", {"category": "grocery", "lon": points[3][0],
                                                 "lat": points[3][1]}).json["id"]
    call(port, "POST", f"/api/facilities/{fid}/move", {"lon": points[4][0], "lat": points[4][1]})
    existing = next(f for f in server.scenario.facilities() if f["state"] == "existing")
    call(port, "DELETE", f"/api/facilities/{existing['id']}")
    a = call(port, "GET", "/api/scenario.csv")
    assert a.status == 200 and a.headers["content-type"].startswith("text/csv")
    assert "attachment" in a.headers["content-disposition"] and "scenario.csv" in a.headers["content-disposition"]
    assert a.body.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese names
    table = pd.read_csv(io.BytesIO(a.body), encoding="utf-8-sig")
    assert list(table.columns) == list(SCENARIO_COLUMNS)
    assert sorted(table["action"]) == ["add", "add", "close"]
    assert "养老驿站 A" in set(table["name"])
    assert (table["crs_in"] == "gcj02").all()
    # the input-CRS columns are the GCJ-02 shift of the WGS84 ones (a few hundred metres in Wuhan)
    shift = np.hypot(table["x_in"] - table["lon"], table["y_in"] - table["lat"])
    assert ((shift > 1e-3) & (shift < 1e-2)).all()


def test_export_writes_a_new_folder(port, server, points):
    call(port, "POST", "/api/facilities", {"category": "elderly_care", "lon": points[6][0], "lat": points[6][1]})
    a = call(port, "POST", "/api/export", {}, timeout=180)
    assert a.status == 200, a.body
    from pathlib import Path

    folder = Path(a.json["folder"])
    assert folder.parent == server.out_dir.resolve() and folder.name.startswith("scenario-")
    files = a.json["files"]
    assert files["scenario_csv"] == "scenario.csv"
    for name in files.values():
        assert (folder / name).is_file(), name
    assert {"coverage.csv", "summary.csv"} <= set(files.values())
    summary = pd.read_csv(folder / "summary.csv", encoding="utf-8-sig")
    elderly = summary[summary["circle"] == "elderly_care_15"]
    assert elderly["covered_population"].notna().all()  # the added site gave the circle data


def test_many_clients_at_once(port, server, points):
    """Several threads (tabs) adding sites at once: every edit counted once, the result equals a re-analysis."""
    v0 = server.scenario.version
    cats = ["elderly_care", "public_space", "grocery", "primary_care"]
    errors: list[str] = []

    def tab(k: int) -> None:
        for j in range(3):
            lon, lat = points[(k * 3 + j) % len(points)]
            a = call(port, "POST", "/api/facilities", {"category": cats[k], "lon": lon, "lat": lat})
            if a.status != 201:
                errors.append(a.body.decode())
            call(port, "GET", "/api/summary")

    threads = [threading.Thread(target=tab, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    summary = call(port, "GET", "/api/summary").json
    assert summary["version"] == v0 + 12 and server.scenario.n_edits == 12
    ids = [f["id"] for f in server.scenario.facilities() if f["state"] == "added"]
    assert len(ids) == len(set(ids)) == 12
    after = server.scenario.after_result().summary.set_index("circle")
    for c in summary["circles"]:
        assert _same(c["covered_population"], float(after.at[c["circle"], "covered_population"])), c["circle"]


# ------------------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(("raw", "ctype", "status"), [
    (b"{not json", "application/json", 400),
    (b"[1, 2]", "application/json", 400),
    (b"\xff\xfe", "application/json", 400),
    (b'{"category": "grocery", "lon": NaN, "lat": 30.48}', "application/json", 400),
    (b'{"category": "grocery", "lon": 114.5, "lat": 30.48}', "text/plain", 400),
    (b'{"category": "grocery", "lon": 114.5, "lat": 30.48}', "application/x-www-form-urlencoded", 400),
    (b'{"category": "grocery", "lon": "east", "lat": 30.48}', "application/json", 400),
    (b'{"category": "grocery", "lon": true, "lat": 30.48}', "application/json", 400),
    (b'{"category": 5, "lon": 114.5, "lat": 30.48}', "application/json", 400),
    (b'{"lon": 114.5, "lat": 30.48}', "application/json", 400),
    (b'{"category": "casino", "lon": 114.5, "lat": 30.48}', "application/json", 422),
    (b'{"category": "grocery", "lon": 114.5, "lat": 95}', "application/json", 422),
    (b'{"category": "grocery", "lon": 114.5, "lat": 30.48, "crs": "mars"}', "application/json", 422),
    (b'{"category": "grocery", "lon": 113.9, "lat": 30.0}', "application/json", 422),  # far off the streets
])
def test_bad_bodies(port, server, raw, ctype, status):
    v0 = server.scenario.version
    a = call(port, "POST", "/api/facilities", raw=raw, headers={"Content-Type": ctype})
    assert a.status == status, a.body
    assert isinstance(a.json["error"], str) and a.json["error"]
    assert server.scenario.version == v0


def test_off_network_message_says_why(port):
    a = call(port, "POST", "/api/facilities", {"category": "grocery", "lon": 113.9, "lat": 30.0})
    assert a.status == 422 and "street" in a.json["error"]


@pytest.mark.parametrize("ctype", ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data", None])
def test_cross_site_form_cannot_edit(port, server, points, ctype):
    """What an HTML form or a no-cors fetch on another site can send: refused, even with an empty body."""
    call(port, "POST", "/api/facilities", {"category": "grocery", "lon": points[0][0], "lat": points[0][1]})
    v0 = server.scenario.version
    headers = {"Content-Type": ctype} if ctype else {}
    for path in ("/api/reset", "/api/undo", "/api/export"):
        assert call(port, "POST", path, raw=b"", headers=headers).status == 400
    assert server.scenario.version == v0 and server.scenario.n_edits == 1


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:1"])
def test_foreign_origin_403(port, server, origin):
    v0 = server.scenario.version
    a = call(port, "POST", "/api/reset", {}, headers={"Origin": origin})
    assert a.status == 403 and server.scenario.version == v0


def test_own_origin_allowed(port):
    a = call(port, "POST", "/api/undo", {}, headers={"Origin": f"http://127.0.0.1:{port}"})
    assert a.status == 200


def test_huge_body_is_refused_unread(port, server):
    """A 20 MB Content-Length is refused at once: nothing of the body is awaited or read."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.putrequest("POST", "/api/facilities")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(20_000_000))
        conn.endheaders()
        conn.send(b"{" + b" " * 1000)  # a little of it; the server must not wait for the rest
        t0 = time.perf_counter()
        resp = conn.getresponse()
        assert resp.status == 413 and "limit" in resp.read().decode()
        assert time.perf_counter() - t0 < 3
    finally:
        conn.close()


def test_post_without_length_is_411(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.putrequest("POST", "/api/undo")
        conn.endheaders()
        resp = conn.getresponse()
        assert resp.status == 411
    finally:
        conn.close()


@pytest.mark.parametrize("path", [
    "/api/units/../../etc/passwd", "/api/units/..%2F..%2Fetc%2Fpasswd", "/../../etc/passwd", "/etc/passwd",
    "/api/units/nonesuch", "/static/leaflet.js", "/circles/serve.py", "/api/units.geojson/../serve.py",
    "/%2e%2e/%2e%2e/etc/passwd", "/api",
])
def test_unknown_paths_404(port, path):
    a = call(port, "GET", path)
    assert a.status == 404 and "root:" not in a.body.decode("utf-8", "replace")


def test_unknown_facility_404(port, points):
    assert call(port, "DELETE", "/api/facilities/nope").status == 404
    a = call(port, "POST", "/api/facilities/nope/move", {"lon": points[0][0], "lat": points[0][1]})
    assert a.status == 404 and "nope" in a.json["error"]


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/api/summary"), ("GET", "/api/undo"), ("DELETE", "/api/summary"), ("POST", "/api/summary"),
    ("GET", "/api/export"), ("PATCH", "/api/facilities"), ("POST", "/"),
])
def test_wrong_method_405(port, method, path):
    a = call(port, method, path, {} if method in ("POST", "PUT", "PATCH") else None)
    assert a.status == 405 and a.headers.get("allow")


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "127.0.0.1.evil.example", "", "localhost.:1"])
def test_foreign_host_403(port, host):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.putrequest("GET", "/api/summary", skip_host=True)
        if host:
            conn.putheader("Host", host)
        conn.endheaders()
        assert conn.getresponse().status == 403
    finally:
        conn.close()


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "localhost:{port}", "127.0.0.1:{port}", "[::1]:{port}"])
def test_loopback_hosts_allowed(port, host):
    a = call(port, "GET", "/api/meta", headers={"Host": host.format(port=port)})
    assert a.status == 200


def test_unexpected_error_is_500_without_traceback(port, server, monkeypatch, caplog):
    def broken() -> dict:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(server.scenario, "summary", broken)
    with caplog.at_level("ERROR", logger="circles.serve"):
        a = call(port, "GET", "/api/summary")
    assert a.status == 500
    assert "secret" not in a.body.decode() and "Traceback" not in a.body.decode()
    assert "secret internal detail" in caplog.text


def test_many_units_become_points(server, monkeypatch):
    """Above POINT_UNITS_ABOVE units (a whole city) the map gets one centre point per unit, in the same order."""
    import json

    import circles.serve as serve

    monkeypatch.setattr(serve, "POINT_UNITS_ABOVE", 50)
    fc = json.loads(serve.build_units_geojson(server.scenario))
    assert {f["geometry"]["type"] for f in fc["features"]} == {"Point"}
    assert [f["properties"]["i"] for f in fc["features"]] == list(range(119))
    assert serve.build_meta(server.scenario, "en")["point_units"] is True
    assert json.loads(serve.build_streets_geojson(server.scenario))["features"] == []  # no streets at city scale


def test_single_site_gain_equals_its_score(port, server, points, readme_analysis):
    """Issue #13: one added site's gain through the API equals its ``circles score`` value (newly covered people)."""
    import geopandas as gpd

    from circles.scoring.score import score

    cats = ["public_space", "elderly_care", "public_space", "grocery", "public_space"]
    sites = points[:len(cats)]
    cand = gpd.GeoDataFrame({"candidate_id": [f"c{i}" for i in range(len(cats))], "category": cats, "name": ""},
                            geometry=gpd.points_from_xy([p[0] for p in sites], [p[1] for p in sites]),
                            crs="EPSG:4326")
    table = score(readme_analysis, cand).set_index("candidate_id")
    base = {c["circle"]: c["covered_population"] for c in call(port, "GET", "/api/summary").json["circles"]}
    for i, (cat, (lon, lat)) in enumerate(zip(cats, sites)):
        a = call(port, "POST", "/api/facilities", {"category": cat, "lon": lon, "lat": lat})
        assert a.status == 201
        row = table.loc[f"c{i}"]
        now = _covered(a.json["summary"], row["circle"])
        gain = (now or 0.0) - (base[row["circle"]] or 0.0)
        assert math.isclose(gain, float(row["newly_covered_population"]), rel_tol=1e-9, abs_tol=1e-6), (cat, i)
        assert call(port, "POST", "/api/undo", {}).json["undone"]
