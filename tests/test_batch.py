"""`circles batch`: areas × scenarios from one TOML config, on dask.distributed or serially.

The config is validated up front (every problem named by table and key); each task's summary
is the summary of :func:`circles.analyze` run directly with the same inputs, on a 2-process
LocalCluster as in-process; a task that fails while running is reported and the others finish.
"""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from circles.batch import BatchConfig, TaskFailed, analyze_keywords, load_batch_config, run_batch
from circles.errors import InputFileNotFoundError, ValidationError

#: a study area far from the Optics Valley network: the analysis of that area fails at run time
NOWHERE = [100.0, 20.0, 100.01, 20.01]


def _write(folder: Path, text: str) -> Path:
    path = folder / "batch.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _districts_in_extract(wuhan_dir: Path, folder: Path) -> Path:
    """The district polygons cut to the extract's bounds (the part of Hongshan on the network)."""
    import geopandas as gpd
    from shapely.geometry import box

    frame = gpd.read_file(wuhan_dir / "districts.geojson")
    frame["geometry"] = frame.geometry.intersection(box(114.49986, 30.47688, 114.5379, 30.49247))
    path = folder / "parts.geojson"
    frame[~frame.geometry.is_empty].to_file(path)
    return path


@pytest.fixture
def wuhan_config(wuhan_dir, tmp_path) -> Path:
    """2 areas (the whole extract; the part in 洪山区) + one that fails at run time × 2 walking speeds."""
    _districts_in_extract(wuhan_dir, tmp_path)
    w = wuhan_dir.as_posix()
    return _write(tmp_path, f"""
        [defaults]
        network = "{w}/guanggu.osm"
        facilities = "{w}/weibo_pois_gcj02.csv"
        facilities_crs = "gcj02"
        population = "{w}/population_20plus.tif"
        districts = "{w}/districts.geojson"
        walk_speeds = [50, 67]
        map = false

        [[areas]]
        name = "guanggu"

        [[areas]]
        name = "hongshan"
        area = "parts.geojson"
        district = "洪山区"

        [[areas]]
        name = "nowhere"
        area = {NOWHERE}

        [[scenarios]]
        name = "walk60"

        [[scenarios]]
        name = "walk50"
        walk_speed_m_per_min = 50
        """)


def _direct_summaries(wuhan_dir: Path, parts: Path) -> dict[tuple[str, str], pd.DataFrame]:
    """circles.analyze run directly, without circles.batch, for the two areas that work."""
    import geopandas as gpd

    from circles.analysis import analyze
    from circles.policies import load_policy

    pack = load_policy("wuhan-2022")
    walk50 = dataclasses.replace(pack, circles=tuple(
        dataclasses.replace(c, speed_m_per_min=50.0) if c.mode == "walk" else c for c in pack.circles))
    frame = gpd.read_file(parts)
    hongshan = frame[frame["name"] == "洪山区"].to_crs("EPSG:4326").geometry.union_all()
    out = {}
    for area_name, area in (("guanggu", None), ("hongshan", hongshan)):
        for scenario, policy in (("walk60", pack), ("walk50", walk50)):
            result = analyze(wuhan_dir / "guanggu.osm", policy=policy, facilities=wuhan_dir / "weibo_pois_gcj02.csv",
                             facilities_crs="gcj02", population=wuhan_dir / "population_20plus.tif",
                             districts=wuhan_dir / "districts.geojson", walk_speeds=[50, 67], area=area)
            out[area_name, scenario] = result.summary
    return out


def _check_report(report, out: Path, direct: dict) -> None:
    tasks = report.tasks.set_index("task")
    assert list(tasks.index) == ["guanggu/walk60", "guanggu/walk50", "hongshan/walk60", "hongshan/walk50",
                                 "nowhere/walk60", "nowhere/walk50"]
    assert report.failed == ["nowhere/walk60", "nowhere/walk50"]
    assert tasks.loc["nowhere/walk50", "error"].startswith("InputError: area (--area): none of the study area")
    for (area, scenario), expected in direct.items():
        assert tasks.loc[f"{area}/{scenario}", "status"] == "ok"
        rows = report.summary[(report.summary["area"] == area) & (report.summary["scenario"] == scenario)]
        got = rows.drop(columns=["area", "scenario"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(got, expected.reset_index(drop=True), check_exact=True)
        for name in ("coverage.gpkg", "coverage.csv", "summary.csv", "coverage.xlsx"):
            assert (out / area / scenario / name).is_file(), (area, scenario, name)
    # the walking speed reached the analysis: slower walking covers fewer people
    covered = report.summary.set_index(["area", "scenario", "circle"])["covered_population"]
    assert covered["guanggu", "walk50", "public_activity_10"] < covered["guanggu", "walk60", "public_activity_10"]
    written = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    assert list(written.columns[:3]) == ["area", "scenario", "circle"] and len(written) == len(report.summary) == 20
    listed = pd.read_csv(out / "tasks.csv", encoding="utf-8-sig", keep_default_na=False)
    assert list(listed["status"]) == ["ok"] * 4 + ["failed"] * 2
    assert list(listed["output"])[:4] == ["guanggu/walk60", "guanggu/walk50", "hongshan/walk60", "hongshan/walk50"]


@pytest.mark.wuhan
def test_local_cluster_equals_direct_analyze_and_reports_the_failed_task(wuhan_config, wuhan_dir, tmp_path, capsys):
    """A 2-process LocalCluster gives every summary number of circles.analyze run directly, and
    the same as --serial; the area that misses the network fails alone, with its message."""
    direct = _direct_summaries(wuhan_dir, tmp_path / "parts.geojson")
    report = run_batch(wuhan_config, out=tmp_path / "dask", workers=2, retries=1)
    _check_report(report, tmp_path / "dask", direct)
    err = capsys.readouterr().err
    assert "FAILED nowhere/walk60" in err and "[6/6]" in err and "4 of 6 tasks ok" in err
    serial = run_batch(wuhan_config, out=tmp_path / "serial", serial=True, quiet=True)
    _check_report(serial, tmp_path / "serial", direct)
    assert capsys.readouterr().err == ""
    pd.testing.assert_frame_equal(serial.summary, report.summary, check_exact=True)


@pytest.mark.wuhan
def test_cli_exit_codes(wuhan_config, tmp_path, capsys):
    from circles.cli import main

    assert main(["batch", str(wuhan_config), "--out", str(tmp_path / "o"), "--serial", "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "2 task(s) failed" in captured.err and "nowhere/walk60" in captured.err
    assert (tmp_path / "o" / "tasks.csv").is_file()
    text = wuhan_config.read_text(encoding="utf-8")
    ok_only = _write(tmp_path, text[:text.index("[[areas]]\nname = \"nowhere\"")] + text[text.index("[[scenarios]]"):])
    assert len(load_batch_config(ok_only).tasks) == 4
    assert main(["batch", str(ok_only), "--out", str(tmp_path / "p"), "--serial", "--quiet"]) == 0
    bad = _write(tmp_path, text.replace("walk_speed_m_per_min = 50", "walk_speed = 50"))
    assert main(["batch", str(bad), "--out", str(tmp_path / "q"), "--serial"]) == 2
    err = capsys.readouterr().err
    assert "scenarios[1].walk_speed: unknown key" in err
    assert not (tmp_path / "q").exists()  # nothing ran


def test_every_problem_is_named_by_table_and_key(tmp_path):
    (tmp_path / "net.osm").write_text("<osm/>", encoding="utf-8")
    path = _write(tmp_path, """
        colour = "blue"
        [defaults]
        network = "net.osm"
        facilities = "missing.csv"
        grid_m = -5
        map = "yes"
        lang = "fr"
        policy = "wuhan-2023"

        [[areas]]
        name = "a"
        area = [114.6, 30.4, 114.5, 30.5]

        [[areas]]
        name = "a"
        district = 3

        [[scenarios]]
        name = "../up"
        walk_speeds = [50, "fast"]
        speed = 50
        """)
    with pytest.raises(ValidationError) as info:
        load_batch_config(path)
    message = str(info.value)
    for needle in ("colour: unknown table or key", "defaults.facilities: file not found: missing.csv",
                   "defaults.grid_m: expected a positive number, got -5", "defaults.map: expected true or false",
                   "defaults.lang: expected one of 'zh', 'en'", "areas[0].area: expected a polygon file or [west",
                   "areas[1].name: duplicate name 'a' (also areas[0])", "areas[1].district: expected a string",
                   "scenarios[0].name: expected a name usable as a folder name",
                   "scenarios[0].walk_speeds: expected a list of positive walking speeds",
                   "scenarios[0].speed: unknown key"):
        assert needle in message, needle
    assert str(path) in message


@pytest.mark.wuhan
def test_policy_district_and_network_are_checked_per_task(tmp_path, wuhan_dir):
    path = _write(tmp_path, f"""
        [defaults]
        policy = "wuhan-2023"
        districts = "{wuhan_dir.as_posix()}/districts.geojson"

        [[areas]]
        name = "x"
        district = "火星区"
        """)
    with pytest.raises(ValidationError) as info:
        load_batch_config(path)
    message = str(info.value)
    assert "task x/default: no network" in message
    assert "task x/default: policy: unknown policy 'wuhan-2023'" in message
    assert "task x/default: district: '火星区' is not a 'name' of districts.geojson (values: 江岸区" in message


def test_merge_order_relative_paths_and_removing_a_default(tmp_path):
    for name in ("a.osm", "b.osm", "pois.csv"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    path = _write(tmp_path, """
        [defaults]
        network = "a.osm"
        facilities = "pois.csv"
        grid_m = 250

        [[areas]]
        name = "one"

        [[areas]]
        name = "two"
        network = "b.osm"
        grid_m = 500

        [[scenarios]]
        name = "with"

        [[scenarios]]
        name = "without"
        facilities = ""
        grid_m = 100
        """)
    config = load_batch_config(path)
    assert isinstance(config, BatchConfig)
    tasks = {t.name: t.inputs for t in config.tasks}
    assert list(tasks) == ["one/with", "one/without", "two/with", "two/without"]
    assert tasks["one/with"]["network"] == tmp_path.resolve() / "a.osm"  # relative to the config's folder
    assert tasks["two/with"]["network"] == tmp_path.resolve() / "b.osm" and tasks["two/with"]["grid_m"] == 500
    assert tasks["two/without"]["grid_m"] == 100 and "facilities" not in tasks["two/without"]
    keywords = analyze_keywords(tasks["two/without"])
    assert keywords["facilities"] is None and keywords["grid_m"] == 100 and keywords["network"].name == "b.osm"


def test_missing_config_and_bad_toml(tmp_path):
    with pytest.raises(InputFileNotFoundError, match="does not exist"):
        load_batch_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[defaults\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="not valid TOML"):
        load_batch_config(bad)


def test_task_failed_pickles_with_its_message():
    import pickle

    exc = pickle.loads(pickle.dumps(TaskFailed("InputError: no", 1.5)))
    assert str(exc) == "InputError: no" and exc.seconds == 1.5


@pytest.mark.wuhan
def test_example_config_is_valid(wuhan_dir):
    config = load_batch_config(Path(__file__).resolve().parents[1] / "data" / "batch_example.toml")
    assert [t.name for t in config.tasks] == ["guanggu/policy_speed", "guanggu/walk50", "hongshan/policy_speed",
                                              "hongshan/walk50"]
    assert config.tasks[0].inputs["network"] == (wuhan_dir / "guanggu.osm").resolve()


@pytest.mark.wuhan
def test_existing_scheduler(wuhan_dir, tmp_path):
    """--scheduler ADDRESS: the tasks run on the workers of a cluster started elsewhere (here one in-process)."""
    import distributed

    config = _write(tmp_path, f"""
        [defaults]
        network = "{wuhan_dir.as_posix()}/guanggu.osm"
        population = "{wuhan_dir.as_posix()}/population_20plus.tif"
        map = false
        """)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  protocol="tcp://", host="127.0.0.1", dashboard_address=None) as cluster:
        report = run_batch(config, out=tmp_path / "out", scheduler=cluster.scheduler_address, quiet=True)
    assert list(report.tasks["task"]) == ["all/default"] and not report.failed
    assert (tmp_path / "out" / "all" / "default" / "coverage.gpkg").is_file()
    serial = run_batch(config, out=tmp_path / "serial", serial=True, quiet=True)
    pd.testing.assert_frame_equal(serial.summary, report.summary, check_exact=True)
