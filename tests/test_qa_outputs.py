"""QA walkthrough items 2, 12, 13 and 14 (issue #9): honest scoring tables and publishable workbooks.

* 2 — no data is never 0 in the scoring outputs: a circle that cannot be measured
  (a required category has no usable facility) has an empty baseline, and empty "after"
  values while the chosen sites leave it unmeasurable; real numbers once they make it
  measurable;
* 12 — with no baseline "newly covered" and "newly reachable" count the same people: the
  notes say so;
* 13 — unit centres in coverage.csv, ids as text in Excel, lon/lat with 6 decimals, the
  user's own GCJ-02 numbers exact and right after lon/lat, threshold_min a number;
* 14 — Chinese in every header; the assumptions sheet says what the run assumed.
"""

from __future__ import annotations

import re
import shlex

import numpy as np
import openpyxl
import pandas as pd
import pytest
from osm_builder import lonlat
from shapely.geometry import Point

from circles.analysis import analyze
from circles.outputs.atomic import column_kind, write_csv_atomic, write_excel_atomic
from circles.scoring import select_sites

CJK = re.compile(r"[\u4e00-\u9fff]")
NO_DATA_CIRCLES = ("life_15", "culture_sports_12", "emergency_medical", "elderly_care_15")


def _headers_without_chinese(path) -> list[tuple[str, str]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    bad = []
    for ws in wb.worksheets:
        first = next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())
        bad += [(ws.title, str(v)) for v in first if v is not None and not CJK.search(str(v))]
    return bad


def _decimals(series: pd.Series) -> int:
    found = series.astype(str).str.extract(r"^-?\d+\.(\d+)$")[0].dropna().str.len()
    return int(found.max()) if len(found) else 0


# --------------------------------------------------------------------------- the README's own-sites run


def _readme_score_command() -> list[str]:
    from test_readme import COMMANDS

    command = next(c for c in COMMANDS if "illustrative_sites_gcj02.csv" in c)
    return shlex.split(command, comments=True)[1:]


@pytest.fixture(scope="module")
def my_sites(wuhan_dir, tmp_path_factory):
    """Outputs of the README's own-sites command (run from the repository root, out elsewhere)."""
    import os

    from test_readme import REPO

    from circles.cli import main

    argv = _readme_score_command()
    out = tmp_path_factory.mktemp("my_sites")
    argv[argv.index("--out") + 1] = str(out)
    here = os.getcwd()
    os.chdir(REPO)
    try:
        assert main(argv + ["--quiet"]) == 0
    finally:
        os.chdir(here)
    return out


@pytest.mark.wuhan
def test_no_data_is_never_zero_in_selected_and_summary(my_sites):
    selected = pd.read_csv(my_sites / "selected.csv", encoding="utf-8-sig").set_index("circle", drop=False)
    for cid in ("life_15", "culture_sports_12"):  # no site of theirs: still no data
        row = selected.loc[cid]
        assert np.isnan(row["covered_population_after"]) and np.isnan(row["covered_share_after"]), cid
        assert row["status_after"] == "no_data"
    measured = selected.loc["public_activity_10"]  # measured before, no site: as it stands
    assert measured["covered_population_after"] > 0 and measured["status_after"] == "ok"
    elderly = selected[selected["circle"] == "elderly_care_15"]  # elderly-care sites make it measurable
    assert (elderly["covered_population_after"] > 0).all() and (elderly["status_after"] == "ok").all()
    assert elderly["covered_population_after"].tolist() == pytest.approx(elderly["cumulative_newly_covered"].tolist())

    sheets = pd.read_excel(my_sites / "scores.xlsx", sheet_name=None)
    summary = sheets["summary"]
    summary.columns = [str(c).rsplit(" / ", 1)[-1] for c in summary.columns]
    summary = summary.set_index("circle")
    for cid in NO_DATA_CIRCLES:
        assert np.isnan(summary.loc[cid, "baseline_covered_population"]), cid
        assert np.isnan(summary.loc[cid, "baseline_covered_share"]), cid
        assert summary.loc[cid, "baseline_status"] == "no_data"
    assert summary.loc["public_activity_10", "baseline_covered_population"] > 0
    assert np.isnan(summary.loc["life_15", "covered_population_after"])
    assert summary.loc["elderly_care_15", "covered_population_after"] > 0
    assert summary.loc["elderly_care_15", "status_after"] == "ok"
    sel_sheet = sheets["selected"]
    sel_sheet.columns = [str(c).rsplit(" / ", 1)[-1] for c in sel_sheet.columns]
    life = sel_sheet[sel_sheet["circle"] == "life_15"]
    assert life["covered_population_after"].isna().all() and life["covered_share_after"].isna().all()


@pytest.mark.wuhan
def test_no_baseline_note_says_newly_covered_is_newly_reachable(my_sites):
    notes = pd.read_excel(my_sites / "scores.xlsx", sheet_name="notes").iloc[:, 0].astype(str).tolist()
    note = next(n for n in notes if "no baseline" in n)
    assert "emergency_medical" in note and "elderly_care_15" in note and "public_activity_10" not in note
    assert "newly_covered_population" in note and "newly_reachable_population" in note and "没有基线" in note


@pytest.mark.wuhan
def test_score_tables_coordinates_and_headers(my_sites):
    from test_readme import REPO

    own = pd.read_csv(REPO / "data" / "illustrative_sites_gcj02.csv", dtype=str, encoding="utf-8-sig")
    given = own.set_index("candidate_id")
    for name in ("scores.csv", "selected.csv"):
        raw = pd.read_csv(my_sites / name, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        columns = list(raw.columns)
        at = columns.index("lon")
        assert columns[at:at + 4] == ["lon", "lat", "lon_gcj02", "lat_gcj02"], (name, columns)
        assert 1 <= _decimals(raw["lon"]) <= 6 and _decimals(raw["lat"]) <= 6, name
        for _, r in raw[raw["candidate_id"] != ""].iterrows():  # the user's own numbers, exactly
            assert float(r["lon_gcj02"]) == float(given.loc[r["candidate_id"], "lon"])
            assert float(r["lat_gcj02"]) == float(given.loc[r["candidate_id"], "lat"])
    assert _headers_without_chinese(my_sites / "scores.xlsx") == []


# --------------------------------------------------------------------------- selection, step by step


def test_after_values_empty_until_the_sites_make_the_circle_measurable(tmp_path):
    import geopandas as gpd
    from osm_builder import write_osm
    from test_no_data import AREA, _facilities, _pack, _units  # the two-category "daily" circle

    from circles.network import load_network

    nodes = {i + 1: (100.0 * i, 0.0) for i in range(11)}
    street = load_network(write_osm(tmp_path / "street.osm", nodes, [(1, list(nodes), {"highway": "residential"})]),
                          mode="walk")
    # neither a grocery nor a pharmacy in the input: the circle has no data
    r = analyze(street, policy=_pack(tmp_path), facilities=_facilities([(0, 20, "kindergarten")]), units=_units(),
                osm_facilities=False, area=AREA)
    cands = gpd.GeoDataFrame({"candidate_id": ["P1", "G1"], "category": ["pharmacy", "grocery"]},
                             geometry=[Point(*lonlat(200, 0)), Point(*lonlat(0, 20))], crs="EPSG:4326")
    only_pharmacy = select_sites(r, cands.iloc[:1], circle="daily", k=1, method="exact")
    rows = only_pharmacy.rows()
    assert np.isnan(only_pharmacy.baseline_population) and np.isnan(only_pharmacy.covered_population)
    assert rows["covered_population_after"].isna().all() and (rows["status_after"] == "no_data").all()
    both = select_sites(r, cands, circle="daily", k=2, method="exact")
    t = both.rows().sort_values("rank")
    assert t["status_after"].tolist() == ["no_data", "ok"]  # the second site completes the data
    assert np.isnan(t["covered_population_after"].iloc[0]) and np.isnan(t["covered_share_after"].iloc[0])
    assert t["covered_population_after"].iloc[1] == pytest.approx(100.0)  # u1 (100 people) covered
    assert both.covered_population == pytest.approx(100.0) and both.no_data_after == ()
    assert "no data" in repr(both)


# --------------------------------------------------------------------------- writers (item 13)


def test_degrees_ids_and_coordinate_order(tmp_path):
    assert column_kind("lon") == column_kind("lat") == "degrees"
    assert column_kind("lon_gcj02") is None  # the user's own numbers are kept exactly
    frame = pd.DataFrame({"unit_id": [420115087000, 420115088000], "code": [420115087000.0, np.nan],
                          "lon_gcj02": [114.5420861234567, 114.5], "lat_gcj02": [30.479437, 30.5],
                          "lon": [114.53693301855962, 114.1], "lat": [30.482037539634067, 30.2],
                          "population": [12.0, 3.0]})
    from circles.outputs.atomic import order_columns

    assert list(order_columns(frame).columns)[:5] == ["unit_id", "code", "lon", "lat", "lon_gcj02"]
    csv = write_csv_atomic(frame, tmp_path / "t.csv")
    raw = pd.read_csv(csv, dtype=str, encoding="utf-8-sig")
    assert list(raw.columns)[2:6] == ["lon", "lat", "lon_gcj02", "lat_gcj02"]
    assert raw["lon"].iloc[0] == "114.536933" and raw["lon_gcj02"].iloc[0] == "114.5420861234567"
    assert raw["unit_id"].iloc[0] == "420115087000"  # CSV values exact
    xlsx = write_excel_atomic({"units": frame}, tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(xlsx)["units"]
    head = {c.value: c.column for c in ws[1]}
    assert ws.cell(2, head["unit_id"]).value == "420115087000" and ws.cell(2, head["unit_id"]).data_type == "s"
    assert ws.cell(2, head["code"]).value == "420115087000" and ws.cell(3, head["code"]).value is None
    assert ws.cell(2, head["lon"]).number_format == "0.000000"
    assert ws.cell(2, head["lon"]).value == pytest.approx(114.53693301855962, abs=1e-12)  # display rounded only
    assert ws.cell(2, head["population"]).data_type == "n"


# --------------------------------------------------------------------------- analysis outputs (13, 14)


@pytest.fixture(scope="module")
def analysis_out(wuhan_dir, tmp_path_factory):
    w = wuhan_dir
    r = analyze(w / "guanggu.osm", facilities=w / "weibo_pois_gcj02.csv", facilities_crs="gcj02", grid_m=500,
                population=w / "population_20plus.tif", population_65plus=w / "population_65plus.tif",
                districts=w / "districts.geojson", walk_speeds=[50, 80], max_snap_m=250)
    return r, r.to_files(tmp_path_factory.mktemp("analysis"), map_html=False)


@pytest.mark.wuhan
def test_coverage_csv_has_unit_centres_and_numeric_thresholds(analysis_out):
    r, written = analysis_out
    csv = pd.read_csv(written["coverage_csv"], encoding="utf-8-sig")
    sheet = pd.read_excel(written["xlsx"], sheet_name="units")
    sheet.columns = [str(c).rsplit(" / ", 1)[-1] for c in sheet.columns]
    assert csv["lon"].notna().all() and csv["lat"].notna().all()
    assert np.allclose(csv["lon"], sheet["lon"], atol=1e-6) and np.allclose(csv["lat"], sheet["lat"], atol=1e-6)
    west, south, east, north = r.units.to_crs(4326).total_bounds
    assert csv["lon"].between(west, east).all() and csv["lat"].between(south, north).all()
    summary = pd.read_csv(written["summary_csv"], encoding="utf-8-sig").set_index("circle")
    districts = pd.read_csv(written["district_csv"], encoding="utf-8-sig")
    assert summary["threshold_min"].dtype.kind == "f" and districts["threshold_min"].dtype.kind == "f"
    assert summary.loc["life_15", "threshold_min"] == 15 and summary.loc["elderly_care_15", "threshold_min"] == 15
    assert "central 10" in summary.loc["emergency_medical", "threshold_text"]
    # the emergency limit differs by zone here: each district has its number, the summary none
    assert sorted(districts.loc[districts["circle"] == "emergency_medical", "threshold_min"].unique()) == [10, 12]
    assert np.isnan(summary.loc["emergency_medical", "threshold_min"])


@pytest.mark.wuhan
def test_every_workbook_header_has_chinese_and_assumptions_come_from_the_run(analysis_out):
    r, written = analysis_out
    assert _headers_without_chinese(written["xlsx"]) == []
    sheets = pd.read_excel(written["xlsx"], sheet_name=None)
    assert {"dq_network", "dq_off_network", "dq_facilities", "dq_unclassified", "dq_classification"} <= set(sheets)
    table = sheets["assumptions"].astype(str)
    text = "\n".join(table.iloc[:, 0] + " " + table.iloc[:, 1])
    assert "250 m" in text  # max_snap_m of this run, not a default
    assert f"{r.options.cap_min:g} min" in text
    assert "50 m/min" in text and "elderly pace" in text  # elderly_care_15's pace from the policy
    assert "60 m/min" in text
    assert "50, 80 m/min" in text  # the sensitivity speeds asked for
    assert "maxspeed" in text and "km/h" in text  # where driving speeds come from
    assert "90%" in text and "10%" in text  # status thresholds
    assert "persons" in text and "65+" in text  # population actually used
    assert "gcj02" in text
