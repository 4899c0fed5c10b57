"""What the console says beside the summary: warnings in front, legends explained, progress bars
finished before the next line (QA items 4, 12, 15, 19)."""

from __future__ import annotations

import numpy as np
import pytest

from circles.cli import main
from circles.unit_area import unassigned_warning


def _run(argv, capsys) -> tuple[int, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_unassigned_warning_counts_people_in_no_unit():
    weight = np.array([10.0, 20.0, 30.0, 40.0])
    text = unassigned_warning(weight, np.array([0, -1, -1, -1]), 1, {"level_kept": "town"})
    assert text.startswith("90 % of the people in the study area are in no unit (90 of 100)")
    assert "1 unit(s) kept (level town)" in text
    assert unassigned_warning(weight, np.array([0, 0, 0, -1]), 1).startswith("40 %")
    assert unassigned_warning(weight, np.array([-1, 0, 0, 0]), 1) == ""  # 10 %: no warning
    assert unassigned_warning(weight, np.array([0, 0, 0, 0]), 1) == ""
    assert unassigned_warning(weight, np.array([0, -1, -1, -1]), 1, has_population=False) == ""


@pytest.mark.wuhan
def test_official_list_leaving_most_people_out_warns_first(wuhan_dir, tmp_path, capsys):
    """The official community list keeps one town-level point for the area: most adults are in no unit;
    the console says so in yellow beside the summary and the warning is the first assumption."""
    w = wuhan_dir
    code, text = _run(["analyze", "--network", str(w / "guanggu.osm.pbf"), "--units", str(w / "communities_gcj02.csv"),
                       "--units-crs", "gcj02", "--drop-missing", "--population", str(w / "population_20plus.tif"),
                       "--out", str(tmp_path / "out"), "--quiet"], capsys)
    assert code == 0, text
    lines = text.splitlines()
    warn = next(i for i, line in enumerate(lines) if "of the people in the study area are in no unit" in line)
    assert lines[warn].startswith("warning: ")
    assert "the shares describe only the 1 unit(s) kept" in " ".join(lines[warn:warn + 3])
    first_assumption = next(i for i, line in enumerate(lines) if line.startswith("assumption:"))
    assert warn < first_assumption
    import pandas as pd

    sheet = pd.read_excel(tmp_path / "out" / "coverage.xlsx", sheet_name="assumptions")
    first = str(sheet.iloc[0, -1]) if len(sheet) else ""
    assert "in no unit" in first, sheet


@pytest.mark.wuhan
def test_districts_without_zone_warn_about_ten_minutes(wuhan_dir, tmp_path, capsys):
    import geopandas as gpd

    d = gpd.read_file(wuhan_dir / "districts.geojson").drop(columns=["zone"])
    path = tmp_path / "districts_nozone.geojson"
    d.to_file(path, driver="GeoJSON")
    code, text = _run(["analyze", "--network", str(wuhan_dir / "guanggu.osm.pbf"), "--districts", str(path),
                       "--out", str(tmp_path / "out"), "--quiet"], capsys)
    assert code == 0, text
    flat = " ".join(text.split())
    assert "warning: emergency_medical: the districts file (--districts) has no `zone` column" in flat
    assert "10 min everywhere" in flat and "new_urban 12 min" in flat


@pytest.mark.wuhan
def test_console_names_excel_sheets_as_sheets(wuhan_dir, tmp_path, capsys):
    code, text = _run(["analyze", "--network", str(wuhan_dir / "guanggu.osm.pbf"),
                       "--out", str(tmp_path / "out"), "--quiet"], capsys)
    assert code == 0, text
    flat = " ".join(text.split())
    assert "dq_unclassified" in flat
    assert "Excel sheet dq_unclassified" in flat


@pytest.mark.wuhan
def test_district_polygons_as_units_warn_about_their_extent(wuhan_dir, tmp_path, capsys):
    """Wuhan's 13 districts given as units of the Optics Valley network: they only intersect it."""
    code, text = _run(["analyze", "--network", str(wuhan_dir / "guanggu.osm.pbf"),
                       "--units", str(wuhan_dir / "districts.geojson"), "--out", str(tmp_path / "out"), "--quiet"],
                      capsys)
    assert code == 0, text
    flat = " ".join(text.split())
    assert "warning: the 13 units cover 8," in flat
    assert "lies within the network's extent (--network): the units only intersect it" in flat


@pytest.mark.wuhan
def test_candidates_in_gcj02_declared_wgs84_get_the_crs_hint(wuhan_dir, tmp_path, capsys):
    """Sites taken from Amap (GCJ-02) on real streets of Optics Valley, declared --candidates-crs wgs84."""
    import pandas as pd

    from circles.coords import wgs84_to_gcj02
    from circles.network import load_network

    walk = load_network(wuhan_dir / "guanggu.osm.pbf", mode="walk")
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(walk.crs, "EPSG:4326", always_xy=True).transform(walk.x, walk.y)
    lon, lat = np.asarray(lon), np.asarray(lat)
    pick = (lon > 114.505) & (lon < 114.53) & (lat > 30.48) & (lat < 30.49)
    idx = np.flatnonzero(pick)[:: max(1, pick.sum() // 8)][:8]
    glon, glat = wgs84_to_gcj02(lon[idx], lat[idx])
    sites = pd.DataFrame({"site_id": [f"S-{i:03d}" for i in range(len(idx))], "lon": glon, "lat": glat,
                          "category": "public_space"})
    path = tmp_path / "sites_gcj02.csv"
    sites.to_csv(path, index=False)
    code, text = _run(["score", "--network", str(wuhan_dir / "guanggu.osm.pbf"), "--candidates", str(path),
                       "--candidates-crs", "wgs84", "--circle", "public_activity_10",
                       "--out", str(tmp_path / "out"), "--quiet"], capsys)
    assert code == 0, text
    flat = " ".join(text.split())
    assert "warning:" in flat and "of the candidate sites fall off the network as WGS84" in flat, text
    assert "pass --candidates-crs gcj02" in flat


@pytest.mark.wuhan
def test_no_progress_bar_runs_into_piped_output(wuhan_dir, tmp_path, capsys):
    """Piped (not a terminal), a tqdm bar's carriage returns put "scoring chunks …" on the line of
    "wrote scores_csv": no bar unless stderr is a terminal."""
    code, text = _run(["score", "--network", str(wuhan_dir / "guanggu.osm.pbf"), "--circle", "public_activity_10",
                       "--categories", "public_space", "--spacing-m", "500", "--out", str(tmp_path / "out")], capsys)
    assert code == 0, text
    assert "scoring chunks" not in text and "\r" not in text
    assert any(line.startswith("wrote   scores_csv") for line in text.splitlines()), text


@pytest.mark.wuhan
def test_summary_explains_unit_symbols_and_prints_walk_speed_sensitivity(wuhan_dir, tmp_path, capsys):
    code, text = _run(["analyze", "--network", str(wuhan_dir / "guanggu.osm.pbf"), "--walk-speeds", "50,80",
                       "--out", str(tmp_path / "out"), "--quiet"], capsys)
    assert code == 0, text
    flat = " ".join(text.split())
    assert "units ✓/~/✗/∅/off/? = covered" in flat
    for word in ("partial", "uncovered", "empty", "off network", "no data"):
        assert word in flat.split("units ✓/~/✗/∅/off/? = ", 1)[1][:400]
    assert "walk-speed sensitivity" in flat
    line = next(ln for ln in text.splitlines() if "public_activity_10" in ln and "m/min" not in ln and "at 60" in ln)
    shares = [float(x) for x in __import__("re").findall(r"(\d+\.\d)%", line)]
    assert len(shares) == 3 and shares[1] <= shares[0] <= shares[2], line  # 50 ≤ 60 ≤ 80 m/min


def test_cli_messages_lead_with_the_flag():
    from circles._cli_checks import cli_first

    assert cli_first("population_tif (CLI --population): x.tif cannot be read") == \
        "--population (Python: population_tif): x.tif cannot be read"
    assert cli_first("drop them with drop_missing=True (CLI --drop-missing)") == \
        "drop them with --drop-missing (Python: drop_missing=True)"
    assert cli_first("rows were dropped (drop_missing, CLI --drop-missing)") == \
        "rows were dropped (--drop-missing; Python: drop_missing)"
    # plain words before the flag are not Python names: left alone
    assert cli_first("walk speeds (CLI --walk-speeds) must be > 0") == "walk speeds (CLI --walk-speeds) must be > 0"
