"""The command line through ``main([...])``: real runs and clear errors."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from circles.cli import main


@pytest.mark.wuhan
def test_analyze_on_wuhan_writes_every_output(tmp_path, wuhan_dir, capsys):
    w = wuhan_dir
    out = tmp_path / "out"
    code = main(["analyze", "--network", str(w / "guanggu.osm"), "--policy", "wuhan-2022",
                 "--facilities", str(w / "weibo_pois_gcj02.csv"), "--facilities-crs", "gcj02",
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
                 "--circle", "elderly_care_15", "--k", "3", "--method", "greedy", "--out", str(out), "--quiet"])
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


@pytest.mark.parametrize("args,message", [
    (["analyze", "--bogus"], "No such option"),
    (["analyze", "--grid-m", "abc", "--out", "x"], "Invalid value for '--grid-m'"),
    (["nosuchcmd"], "No such command"),
])
def test_usage_errors_are_messages_not_tracebacks(args, message, capsys):
    code = main(args)
    captured = capsys.readouterr()
    assert code == 2
    assert message in captured.err and "Traceback" not in captured.err


@pytest.mark.wuhan
@pytest.mark.parametrize("extra,message", [
    (["--grid-m", "0"], "--grid-m"),
    (["--walk-speeds", "inf"], "--walk-speeds"),
    (["--lang", "fr"], "--lang"),
    (["--population-65plus", "P65"], "--population"),
])
def test_bad_options_fail_before_any_output(extra, message, tmp_path, wuhan_dir, capsys):
    extra = [str(wuhan_dir / "population_65plus.tif") if e == "P65" else e for e in extra]
    out = tmp_path / "out"
    assert main(["analyze", "--network", str(wuhan_dir / "guanggu.osm"), "--out", str(out), "--quiet", *extra]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.wuhan
def test_output_folder_that_is_a_file(tmp_path, wuhan_dir, capsys):
    f = tmp_path / "taken"
    f.write_text("x")
    assert main(["analyze", "--network", str(wuhan_dir / "guanggu.osm"), "--out", str(f), "--quiet"]) == 2
    assert "is a file" in capsys.readouterr().err


@pytest.mark.wuhan
def test_units_keep_their_crs_when_facilities_are_gcj02(tmp_path, wuhan_dir):
    # --facilities-crs describes the facilities file only: WGS84 units must not be shifted by it.
    import shapely

    from circles.cli import main as cli_main

    cells = gpd.GeoDataFrame({"unit_id": ["a", "b"], "population": [10.0, 20.0]},
                             geometry=[shapely.box(114.51, 30.48, 114.515, 30.485),
                                       shapely.box(114.52, 30.48, 114.525, 30.485)], crs="EPSG:4326")
    units = tmp_path / "units.geojson"
    cells.to_file(units)
    out = tmp_path / "out"
    assert cli_main(["analyze", "--network", str(wuhan_dir / "guanggu.osm"), "--facilities",
                     str(wuhan_dir / "weibo_pois_gcj02.csv"), "--facilities-crs", "gcj02", "--units", str(units),
                     "--out", str(out), "--quiet"]) == 0
    got = gpd.read_file(out / "coverage.gpkg", layer="units")
    assert np.allclose(got.geometry.bounds.to_numpy(), cells.geometry.bounds.to_numpy())


# ------------------------------------------------------------------ unexpected errors and --debug

def _boom(*args, **kwargs):
    raise RuntimeError("boom in the engine")


def _fake_network(tmp_path):
    net = tmp_path / "net.osm"
    net.write_text("<osm/>")
    return str(net)


def test_internal_error_is_one_line_with_the_log_in_the_out_folder(tmp_path, capsys, monkeypatch):
    import circles.analysis

    monkeypatch.setattr(circles.analysis, "analyze", _boom)
    out = tmp_path / "out"
    out.mkdir()
    code = main(["analyze", "--network", _fake_network(tmp_path), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert "internal error: RuntimeError: boom in the engine" in err
    assert "Traceback" not in err and "--debug" in err
    assert len(err.strip().splitlines()) == 1, err  # one line (the console does not wrap it)
    logs = list(out.glob("circles-error-*.log"))
    assert len(logs) == 1 and str(logs[0]) in err.replace("\n", "")
    text = logs[0].read_text(encoding="utf-8")
    assert "Traceback" in text and "boom in the engine" in text and "command: circles analyze" in text


def test_internal_error_log_goes_to_the_temp_folder_without_an_out_folder(tmp_path, capsys, monkeypatch):
    import tempfile

    import circles.policies

    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setattr(circles.policies, "list_policies", _boom)
    assert main(["policies"]) == 1
    err = capsys.readouterr().err
    logs = list(temp.glob("circles-error-*.log"))
    assert len(logs) == 1 and "boom in the engine" in logs[0].read_text(encoding="utf-8")
    assert "internal error: RuntimeError" in err and "Traceback" not in err


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_reraises_internal_errors(where, tmp_path, monkeypatch):
    import circles.policies

    monkeypatch.setattr(circles.policies, "list_policies", _boom)
    argv = ["--debug", "policies"] if where == "before" else ["policies", "--debug"]
    with pytest.raises(RuntimeError, match="boom in the engine"):
        main(argv)


def test_debug_shows_the_traceback_of_an_input_error(capsys):
    assert main(["--debug", "policies", "wuhan-2099"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "wuhan-2099" in err
    assert main(["policies", "wuhan-2099"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_permission_error_on_output_is_an_input_error(tmp_path, capsys, monkeypatch):
    import circles.analysis

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / "out" / "coverage.gpkg"))

    monkeypatch.setattr(circles.analysis, "analyze", denied)
    code = main(["analyze", "--network", _fake_network(tmp_path), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert "coverage.gpkg" in err and "Permission denied" in err and "--out" in err and "Traceback" not in err


@pytest.mark.wuhan
def test_osm_units_with_districts_write_the_map(tmp_path, wuhan_dir, capsys):
    # issue #9 item 6: the residential areas lie inside one district, whose clipped border is
    # empty; that empty feature crashed folium ("The field district is not available")
    out = tmp_path / "out"
    code = main(["analyze", "--network", str(wuhan_dir / "guanggu.osm.pbf"), "--units", "osm",
                 "--districts", str(wuhan_dir / "districts.geojson"), "--out", str(out), "--quiet"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert (out / "map.html").stat().st_size > 0
