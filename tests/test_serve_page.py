"""The page of ``circles serve`` in Debian's Chromium (playwright, every request off the server blocked):
add a site by clicking the map, drag it, close an existing facility from its popup, undo, reset, download
scenario.csv, export, escaped names, both languages.  One server and one browser page for the module."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest
from browser import chromium_page, require_chromium
from servetools import call, running_server

from circles.scenario import Scenario

CIRCLE = "public_activity_10"  # the circle measurable before any edit (public spaces)


@pytest.fixture(scope="module")
def server(readme_analysis, tmp_path_factory):
    scenario = Scenario(readme_analysis, facilities_crs="gcj02")
    with running_server(scenario, tmp_path_factory.mktemp("serve-page-out"), lang="zh") as srv:
        yield srv


@pytest.fixture(scope="module")
def session(server):
    require_chromium()
    with chromium_page(server.url, viewport=(1400, 860), settle_ms=0,
                       init_script="window.alert = function (m) { window.__alerted = String(m); };") as s:
        s.page.wait_for_selector("body[data-ready=true]", state="attached", timeout=20_000)
        yield s
    report = s.report
    # a reload cancels a poll in flight (net::ERR_ABORTED): expected, not a failure of the page
    report.failed_requests[:] = [r for r in report.failed_requests if "net::ERR_ABORTED" not in r]
    assert report.blocked_requests == [], report.summary()
    assert report.failed_requests == [] and report.page_errors == [] and report.dialogs == [], report.summary()
    assert report.console_errors == [], report.summary()


@pytest.fixture
def page(session, server):
    """The page on a scenario back at the analysis' facilities (reset through the API, then reloaded)."""
    call(server.server_address[1], "POST", "/api/reset", {})
    session.page.reload()
    session.page.wait_for_selector("body[data-ready=true]", state="attached", timeout=20_000)
    yield session.page
    assert session.report.console_errors == [] and session.report.page_errors == [], session.report.summary()


def _wait_version(page, version: int, timeout: float = 20_000) -> None:
    """Wait until the page has drawn ``version``; on a timeout say what the page shows."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_selector(f"body[data-version='{version}'][data-busy=false]", state="attached",
                               timeout=timeout)
    except PlaywrightTimeout:
        shown = page.evaluate("[document.body.dataset.version, document.body.dataset.busy, document.body.dataset.mode,"
                              " document.getElementById('message').textContent]")
        pytest.fail(f"the page did not reach version {version}: (version, busy, mode, message) = {shown}")


def _panel_after(page, circle: str = CIRCLE) -> float | None:
    v = page.get_attribute(f"#summary-table tr[data-circle='{circle}'] td.after", "data-value")
    return None if v == "null" else float(v)


def _api_covered(server, circle: str = CIRCLE) -> float | None:
    s = call(server.server_address[1], "GET", "/api/summary").json
    return next(c for c in s["circles"] if c["circle"] == circle)["covered_population"]


def _screen(page, lon: float, lat: float) -> tuple[float, float]:
    p = page.evaluate(f"circlesApp.screenPoint({lat!r}, {lon!r})")
    return p["x"], p["y"]


def _free_points(server, page, k: int) -> list[tuple[float, float]]:
    """Street nodes near the centres of populated units not yet covered, on screen, away from every marker."""
    result = server.scenario.result
    status = np.array(server.scenario.unit_status(CIRCLE)["status"])
    units = result.units.to_crs("EPSG:4326")
    pick = np.flatnonzero((status == "uncovered") & (units["population"].to_numpy(float) > 50))
    centres = units.geometry.iloc[pick].representative_point()
    net = result.networks["walk"]
    snap = net.snap_lonlat(centres.x.to_numpy(), centres.y.to_numpy(), max_snap_m=1e6, source="test")
    taken = [_screen(page, f["lon"], f["lat"]) for f in server.scenario.facilities()]
    box = page.evaluate("(() => { const r = document.getElementById('map').getBoundingClientRect(); "
                        "return [r.left, r.top, r.right, r.bottom]; })()")
    out: list[tuple[float, float]] = []
    for node in snap.node:
        lon, lat = float(net.lon[node]), float(net.lat[node])
        x, y = _screen(page, lon, lat)
        inside = box[0] + 60 < x < box[2] - 30 and box[1] + 80 < y < box[3] - 260  # clear of zoom and legend
        if inside and all(math.hypot(x - a, y - b) > 18 for a, b in taken):
            out.append((lon, lat))
            taken.append((x, y))
        if len(out) == k:
            return out
    pytest.fail(f"only {len(out)} free street points on screen")


def _closable(server, page) -> str:
    """An existing public space, alone on screen, whose closing lowers the circle's covered people."""
    probe = Scenario(server.scenario.result)
    base = probe.summary()
    before = next(c for c in base["circles"] if c["circle"] == CIRCLE)["covered_population"]
    facilities = server.scenario.facilities()
    spots = [(f["id"], _screen(page, f["lon"], f["lat"])) for f in facilities]
    box = page.evaluate("(() => { const r = document.getElementById('map').getBoundingClientRect(); "
                        "return [r.left, r.top, r.right, r.bottom]; })()")
    for f in facilities:
        if f["category"] != "public_space":
            continue
        x, y = next(p for i, p in spots if i == f["id"])
        if not (box[0] + 60 < x < box[2] - 30 and box[1] + 60 < y < box[3] - 260):
            continue
        if any(math.hypot(x - a, y - b) < 16 for i, (a, b) in spots if i != f["id"]):
            continue
        probe.close(f["id"])
        after = next(c for c in probe.summary()["circles"] if c["circle"] == CIRCLE)["covered_population"]
        probe.undo()
        if after < before - 1:
            return f["id"]
    pytest.fail("no public space to close on screen")


def test_add_drag_close_undo_reset(page, server):
    version = int(page.get_attribute("body", "data-version"))
    before = _panel_after(page)
    assert before == pytest.approx(_api_covered(server), rel=1e-9)
    first, second = _free_points(server, page, 2)

    # add a public space by clicking the map
    page.select_option("#category-select", "public_space")
    page.click("#add-mode")
    assert page.get_attribute("body", "data-mode") == "add"
    page.mouse.click(*_screen(page, *first))
    version += 1
    _wait_version(page, version)
    added = [f for f in server.scenario.facilities() if f["state"] == "added"]
    assert len(added) == 1 and added[0]["category"] == "public_space"
    fid = added[0]["id"]
    assert abs(added[0]["lon"] - first[0]) < 2e-5 and abs(added[0]["lat"] - first[1]) < 2e-5
    after_add = _panel_after(page)
    assert after_add > before and after_add == pytest.approx(_api_covered(server), rel=1e-9)
    page.click("#add-mode")  # disarm
    assert page.get_attribute("body", "data-mode") == "browse"
    assert "+" in page.inner_text(f"#summary-table tr[data-circle='{CIRCLE}'] td.change")

    # drag it to another place
    marker = page.locator(f".leaflet-marker-icon[data-fid='{fid}']")
    b = marker.bounding_box()
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2)
    page.mouse.down()
    tx, ty = _screen(page, *second)
    page.mouse.move(tx, ty, steps=12)
    page.mouse.up()
    version += 1
    _wait_version(page, version)
    moved = next(f for f in server.scenario.facilities() if f["id"] == fid)
    assert abs(moved["lon"] - second[0]) < 5e-5 and abs(moved["lat"] - second[1]) < 5e-5
    after_move = _panel_after(page)
    assert after_move != pytest.approx(after_add) and after_move == pytest.approx(_api_covered(server), rel=1e-9)

    # close an existing public space from its popup
    target = _closable(server, page)
    page.mouse.click(*page.evaluate("id => { const p = circlesApp.facilityPoint(id); return [p.x, p.y]; }", target))
    popup = page.locator(f".leaflet-popup .popup[data-fid='{target}']")
    popup.wait_for(timeout=10_000)
    popup.locator("[data-action=close]").click()
    version += 1
    _wait_version(page, version)
    assert next(f for f in server.scenario.facilities() if f["id"] == target)["state"] == "closed"
    after_close = _panel_after(page)
    assert after_close < after_move and after_close == pytest.approx(_api_covered(server), rel=1e-9)

    # undo the closing
    page.click("#undo")
    version += 1
    _wait_version(page, version)
    assert next(f for f in server.scenario.facilities() if f["id"] == target)["state"] == "existing"
    assert _panel_after(page) == pytest.approx(after_move, rel=1e-12)

    # reset asks for a second click
    page.click("#reset")
    assert int(page.get_attribute("body", "data-version")) == version
    page.click("#reset")
    version += 1
    _wait_version(page, version)
    assert _panel_after(page) == pytest.approx(before, rel=1e-12)
    assert page.locator(".leaflet-marker-icon[data-fid]").count() == 0
    assert "撤销" in page.inner_text("#undo")


def test_other_tab_edits_show_up_and_names_are_text(page, server, tmp_path):
    """An edit from elsewhere (another tab: here the API) appears by polling; a hostile name stays text."""
    version = int(page.get_attribute("body", "data-version"))
    (lon, lat), = _free_points(server, page, 1)
    name = "<img src=x onerror=alert(1)>"
    a = call(server.server_address[1], "POST", "/api/facilities",
             {"category": "elderly_care", "lon": lon, "lat": lat, "name": name})
    assert a.status == 201
    _wait_version(page, version + 1, timeout=8000)  # no reload: the page polls
    after = _panel_after(page, "elderly_care_15")
    assert after is not None and after == pytest.approx(_api_covered(server, "elderly_care_15"), rel=1e-9)
    assert page.get_attribute("#summary-table tr[data-circle='elderly_care_15'] td.before", "data-value") == "null"
    assert page.locator("#summary-table tr[data-circle='elderly_care_15'] td.before .nodata").count() == 1
    page.locator(f".leaflet-marker-icon[data-fid='{a.json['id']}']").click()
    popup = page.locator(".leaflet-popup .popup")
    popup.wait_for(timeout=10_000)
    assert popup.locator("h4").inner_text() == name
    assert page.locator(".leaflet-popup img").count() == 0
    assert page.evaluate("window.__alerted === undefined")
    shot = tmp_path / "serve-page.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000


def test_download_and_export(page, server):
    (lon, lat), = _free_points(server, page, 1)
    port = server.server_address[1]
    call(port, "POST", "/api/facilities", {"category": "elderly_care", "lon": lon, "lat": lat, "name": "养老驿站"})
    page.reload()
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=20_000)
    with page.expect_download() as dl:
        page.click("#download-csv")
    download = dl.value
    assert download.suggested_filename == "scenario.csv"
    table = pd.read_csv(io.BytesIO(open(download.path(), "rb").read()), encoding="utf-8-sig")
    assert table["name"].tolist() == ["养老驿站"] and table["action"].tolist() == ["add"]
    page.click("#export")
    page.wait_for_selector("#export-folder", timeout=120_000)
    from pathlib import Path

    folder = Path(page.inner_text("#export-folder"))
    assert folder.is_dir() and folder.parent == server.out_dir.resolve()
    assert (folder / "scenario.csv").is_file() and (folder / "summary.csv").is_file()
    assert "scenario.csv" in page.inner_text("#export-files")


def test_chinese_and_english(page):
    assert page.inner_text("#page-title") == "设施情景编辑"
    assert "编辑前" in page.inner_text("#summary-table thead")
    assert "已覆盖" in page.inner_text("#legend")
    assert "无数据" in page.inner_text("#summary-table tbody")  # circles without a site: "no data", never 0 %
    assert "0.0%" not in page.inner_text("#summary-table tr[data-circle='elderly_care_15']")
    page.click("#lang-toggle")
    assert page.inner_text("#page-title") == "Scenario editor"
    assert "Before" in page.inner_text("#summary-table thead")
    assert "covered" in page.inner_text("#legend") and "no data" in page.inner_text("#summary-table tbody")
    assert "10-minute public activity circle" in page.inner_text("#summary-table")
    assert page.evaluate("document.documentElement.lang") == "en"
    page.click("#lang-toggle")
    assert page.inner_text("#lang-toggle") == "English"


def test_api_error_shown_in_the_message_line(page, session, server):
    """A click far from every street: the server's 422 message is shown, nothing changes."""
    version = server.scenario.version
    page.evaluate("circlesApp.map.setView([30.36, 114.30], 15, {animate: false}) && null")  # ~25 km from the extract
    page.select_option("#category-select", "public_space")
    page.click("#add-mode")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#message.error", timeout=10_000)
    text = page.inner_text("#message")
    assert text.startswith("出错") and "street" in text
    assert server.scenario.version == version
    page.keyboard.press("Escape")
    assert page.get_attribute("body", "data-mode") == "browse"
    # Chromium logs every non-2xx answer as a console error; this one was expected
    session.report.console_errors[:] = [e for e in session.report.console_errors if "status of 422" not in e]
