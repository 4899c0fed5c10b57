"""`circles serve` from the command line: it analyses, prints the URL, answers the API and stops cleanly on
Ctrl-C; impossible options get one clear message (issue #13)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from circles.cli import main

REPO = Path(__file__).resolve().parents[1]


def _start(args: list[str], tmp_path: Path) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "circles", "serve", *args, "--out", str(tmp_path / "exports")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    deadline = time.time() + 240
    assert proc.stdout is not None
    lines = []
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        m = re.search(r"open (http://\S+/) in a browser", line)
        if m:
            return proc, m.group(1)
    proc.kill()
    raise AssertionError("no URL printed:\n" + "".join(lines) + (proc.stderr.read() if proc.stderr else ""))


def _stop(proc: subprocess.Popen) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return proc.returncode, err


def test_serve_the_readme_wuhan_inputs_and_stop_with_ctrl_c(wuhan_dir, tmp_path):
    proc, url = _start(["--network", str(wuhan_dir / "guanggu.osm"),
                        "--facilities", str(wuhan_dir / "weibo_pois_gcj02.csv"), "--facilities-crs", "gcj02",
                        "--population", str(wuhan_dir / "population_20plus.tif"),
                        "--population-65plus", str(wuhan_dir / "population_65plus.tif"),
                        "--districts", str(wuhan_dir / "districts.geojson"), "--port", "0", "--quiet"], tmp_path)
    try:
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "api/summary", timeout=30) as r:
            summary = json.load(r)
        ids = [c["circle"] for c in summary["circles"]]
        assert ids == ["life_15", "culture_sports_12", "public_activity_10", "emergency_medical", "elderly_care_15"]
        assert summary["circles"][2]["covered_share"] == pytest.approx(0.2493, abs=1e-3)
        assert summary["circles"][0]["covered_share"] is None  # no data, not 0
        with urllib.request.urlopen(url, timeout=30) as r:
            page = r.read().decode("utf-8")
        assert "<html" in page.lower() and "leaflet" in page.lower()
    finally:
        code, err = _stop(proc)
    assert code == 0, err
    assert "Traceback" not in err


def test_serve_the_demo_extract_from_a_saved_scenario(tmp_path):
    from circles.demo import demo_network_path
    from circles.network import load_network

    net = load_network(demo_network_path(), mode="walk")
    saved = tmp_path / "scenario.csv"
    saved.write_text("action,id,category,name,lon,lat\n"
                     f"add,new-1,elderly_care,养老驿站,{net.lon[100]},{net.lat[100]}\n", encoding="utf-8-sig")
    proc, url = _start(["--demo", "--port", "0", "--lang", "en", "--quiet", "--scenario-csv", str(saved)], tmp_path)
    try:
        with urllib.request.urlopen(url + "api/summary", timeout=30) as r:
            summary = json.load(r)
        assert len(summary["circles"]) == 5
        elderly = summary["circles"][4]
        assert elderly["covered_share_before"] is None and elderly["covered_share"] > 0  # the saved site is in
        with urllib.request.urlopen(url + "api/facilities", timeout=30) as r:
            added = [f for f in json.load(r)["facilities"] if f["state"] == "added"]
        assert [f["name"] for f in added] == ["养老驿站"]
    finally:
        code, err = _stop(proc)
    assert code == 0, err


def test_serve_refuses_impossible_options(capsys, tmp_path):
    assert main(["serve", "--demo", "--network", "x.osm", "--out", str(tmp_path)]) == 2
    assert "--demo serves the bundled Helsinki extract" in capsys.readouterr().err
    assert main(["serve", "--demo", "--port", "70000", "--out", str(tmp_path)]) == 2
    assert "--port must be between 0 and 65535" in capsys.readouterr().err
    assert main(["serve", "--demo", "--lang", "fr", "--out", str(tmp_path)]) == 2
    assert "--lang must be 'zh' or 'en'" in capsys.readouterr().err


def test_a_port_in_use_and_an_exposed_host_are_said_plainly(capsys, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert main(["serve", "--demo", "--port", str(port), "--host", "0.0.0.0", "--quiet",
                     "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "makes the editor reachable from other computers" in err
    assert f"cannot listen on 0.0.0.0:{port}" in err and "--port" in err
