"""The command line through ``main([...])``: real runs and clear errors."""

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from circles.cli import main


@pytest.mark.wuhan
def test_analyze_on_wuhan_writes_every_output(tmp_path, wuhan_dir, capsys):
    w = wuhan_dir
    out = tmp_path / "out"
    code = main(["analyze", "--network", str(w / "guanggu.osm"), "--policy", "wuhan-2022",
                 "--facilities", str(w / "weibo_pois_gcj02.csv"), "--crs", "gcj02",
                 "--population", str(w / "population_20plus.tif"),
                 "--population-65plus", str(w / "population_65plus.tif"),
                 "--districts", str(w / "districts.geojson"), "--walk-speeds", "50,60,67,80",
                 "--out", str(out), "--quiet"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    for name in ("coverage.gpkg", "coverage.csv", "summary.csv", "coverage.xlsx", "map.html"):
        assert (out / name).stat().st_size > 0, name
    layers = {name for name, _ in pyogrio.list_layers(out / "coverage.gpkg")}
    assert {"units", "facilities", "summary"} <= layers
    units = gpd.read_file(out / "coverage.gpkg", layer="units")
    table = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
    assert len(units) == len(table)
    for cid in ("life_15", "culture_sports_12", "public_activity_10", "emergency_medical", "elderly_care_15"):
        for suffix in ("minutes", "covered_share", "status", "missing"):
            assert f"{cid}_{suffix}" in table.columns
    assert "public_activity_10_covered_share_50mpm" in table.columns
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    assert len(summary) == 5
    sheets = pd.read_excel(out / "coverage.xlsx", sheet_name=None)
    assert {"units", "summary", "districts", "sensitivity", "dq_facilities"} <= set(sheets)
    assert any(str(c).startswith("覆盖率 / covered_share") for c in sheets["summary"].columns)
    assert "15分钟生活圈" in printed and "no data" in printed
    assert "<script src=\"http" not in (out / "map.html").read_text(encoding="utf-8")


def test_policies_lists_both_packs(capsys):
    assert main(["policies"]) == 0
    out = capsys.readouterr().out
    assert "wuhan-2022" in out and "gb50180-2018" in out and "elderly_care_15" in out


@pytest.mark.parametrize("args,message", [
    (["analyze", "--network", "nowhere.osm", "--out", "x"], "nowhere.osm"),
    (["analyze", "--out", "x"], "exactly one of --network"),
    (["policies", "wuhan-2099"], "wuhan-2099"),
    (["analyze", "--network", "x.osm", "--place", "武汉", "--out", "x"], "exactly one of"),
])
def test_bad_input_is_one_clear_message(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.wuhan
def test_bad_walk_speeds_and_policy(tmp_path, wuhan_dir, capsys):
    assert main(["analyze", "--network", str(wuhan_dir / "guanggu.osm"), "--walk-speeds", "fast",
                 "--out", str(tmp_path), "--quiet"]) == 2
    assert "--walk-speeds" in capsys.readouterr().err
    assert main(["analyze", "--network", str(wuhan_dir / "guanggu.osm"), "--policy", "nope",
                 "--out", str(tmp_path), "--quiet"]) == 2
    assert "nope" in capsys.readouterr().err


def test_online_without_internet_fails_fast_with_offline_advice(capsys):
    assert main(["analyze", "--place", "洪山区, 武汉市", "--out", "x", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "No internet connection" in err and "--network" in err


def test_example_pack_in_data_folder_loads(capsys):
    from pathlib import Path

    pack = Path(__file__).resolve().parents[1] / "data" / "example_pack.toml"
    assert main(["policies", str(pack)]) == 0
    assert "daily_10" in capsys.readouterr().out


@pytest.mark.wuhan
def test_score_selects_sites_on_wuhan(tmp_path, wuhan_dir, capsys):
    w = wuhan_dir
    out = tmp_path / "score"
    code = main(["score", "--network", str(w / "guanggu.osm"), "--population", str(w / "population_20plus.tif"),
                 "--population-65plus", str(w / "population_65plus.tif"), "--districts", str(w / "districts.geojson"),
                 "--circle", "elderly_care_15", "--select", "3", "--method", "greedy", "--out", str(out), "--quiet"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    scores = pd.read_csv(out / "scores.csv", encoding="utf-8-sig")
    expected = {"candidate_id", "name", "category", "lon", "lat", "circle", "newly_covered_population",
                "improved_population", "mean_minutes_saved", "district"}
    assert expected <= set(scores.columns)
    assert set(scores["circle"]) == {"elderly_care_15"}
    selected = pd.read_csv(out / "selected.csv", encoding="utf-8-sig")
    assert selected["rank"].tolist() == [1, 2, 3]
    assert selected["cumulative_newly_covered"].is_monotonic_increasing
    # the first pick is the best single site
    best = scores.sort_values("newly_covered_population", ascending=False).iloc[0]
    assert selected["newly_covered_population"].iloc[0] == pytest.approx(best["newly_covered_population"])
    assert (out / "scores.html").stat().st_size > 0 and (out / "scores.xlsx").stat().st_size > 0


def test_score_rejects_bad_method(capsys):
    assert main(["score", "--network", "x.osm", "--method", "best", "--out", "x"]) == 2
    assert "--method" in capsys.readouterr().err
