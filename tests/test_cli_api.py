"""One vocabulary: every CLI option is a keyword of the Python API with the same name.

Two rules, stated in :mod:`circles._cli_inputs`:

* an option is named as the keyword it becomes (``--facilities-crs`` is
  ``analyze(facilities_crs=...)``, ``--k`` is ``select_sites(k=...)``);
* an option that passes a reader's keyword on for one input is
  ``<input>_<keyword>`` (``--network-layer`` is ``load_network(layer=...)``,
  ``--candidates-sheet`` is ``load_candidates(sheet=...)``).

Options with no keyword are listed in :data:`CLI_ONLY`, each with its reason.
"""

import inspect
import warnings

import pytest
import typer.main

import circles
from circles.batch import run_batch
from circles.cli import app
from circles.coverage import CoverageResult
from circles.errors import InputError
from circles.facilities import read_facility_file
from circles.network import fetch_network, load_network
from circles.outputs.coverage_map import coverage_map
from circles.policies import load_policy
from circles.report import policy_report, write_report
from circles.scenario import Scenario
from circles.scoring import generate_candidates, load_candidates, score, select_sites, write_score_outputs
from circles.serve import make_server
from circles.units import load_units

#: CLI options with no keyword of the same name, and why.
CLI_ONLY = {
    "out": "where the command writes; the Python functions take a folder or file path (to_files(out_dir), "
           "save_coverage_map(result, path)) or return objects",
    "quiet": "console output only; Python callers pass progress=",
    "figures": "`circles map` also writes coverage_figure() for each circle; in Python call it per circle",
    "debug": "shows the traceback of a CLI error; Python raises it anyway",
    "demo": "`circles serve --demo` serves circles.demo.demo_analysis(); in Python pass any result to Scenario",
}

#: The functions each command calls (their keywords are the vocabulary the command's options must use);
#: load_network and read_facility_file through analyze(network_options=..., facility_columns=...).
ANALYSIS = (circles.analyze, load_network, read_facility_file, fetch_network, CoverageResult.to_files)
API = {
    "analyze": ANALYSIS,
    "map": (*ANALYSIS, coverage_map),
    "score": (*ANALYSIS, score, select_sites, generate_candidates, write_score_outputs),
    "demo": (CoverageResult.to_files,),
    "policies": (load_policy,),
    "report": (*ANALYSIS, policy_report, write_report),
    "batch": (run_batch,),
    "serve": (*ANALYSIS, Scenario, Scenario.replay, make_server),
}
#: The reader of each input: ``<input>_<keyword>`` passes ``keyword`` on to it.
READERS = {"network": load_network, "facilities": read_facility_file, "candidates": load_candidates,
           "units": load_units}


def _keywords(func) -> set[str]:
    return {name for name, p in inspect.signature(func).parameters.items()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def _options(command) -> list:
    return [p for p in command.params if p.param_type_name == "option" and not p.hidden]


def _maps_to_api(name: str, verb: str) -> bool:
    if any(name in _keywords(f) for f in API[verb]):
        return True
    reader_input, _, keyword = name.partition("_")
    return reader_input in READERS and keyword in _keywords(READERS[reader_input])


def test_every_cli_option_is_an_api_keyword_of_the_same_name():
    group = typer.main.get_command(app)
    unmatched = []
    for verb, command in group.commands.items():
        for option in _options(command):
            if option.name not in CLI_ONLY and not _maps_to_api(option.name, verb):
                unmatched.append(f"circles {verb} {option.opts[0]} ({option.name})")
    assert not unmatched, f"CLI options without an API keyword of the same name: {unmatched}"


def test_the_flag_spells_the_keyword():
    """--facilities-crs is facilities_crs: the flag is the keyword with - for _."""
    group = typer.main.get_command(app)
    for command in group.commands.values():
        for option in _options(command):
            assert option.opts == ["--" + option.name.replace("_", "-")], option.opts


def test_cli_only_options_exist():
    """The allow-list names options that exist (a stale entry would hide nothing but mislead)."""
    group = typer.main.get_command(app)
    names = {p.name for c in group.commands.values() for p in _options(c)} | {p.name for p in group.params}
    assert set(CLI_ONLY) <= names, set(CLI_ONLY) - names


@pytest.mark.parametrize("old,new", [("--crs", "--facilities-crs"), ("--grid", "--grid-m"), ("--select", "--k"),
                                     ("--spacing", "--spacing-m"), ("--threads", "--n-threads")])
def test_old_flags_still_work_with_a_note(old, new):
    from circles._cli_inputs import replace_deprecated_flags

    notes: list[str] = []
    assert replace_deprecated_flags(["score", old, "1", "--out", "x"], notes.append) == ["score", new, "1", "--out", "x"]
    assert replace_deprecated_flags([f"{old}=1"], notes.append) == [f"{new}=1"]
    assert replace_deprecated_flags(["--", old], notes.append) == ["--", old]  # after --, words are values
    assert len(notes) == 2 and all(old in n and new in n and "deprecated" in n for n in notes)


def test_old_flags_are_hidden_from_help(capsys):
    from circles.cli import main

    assert main(["score", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--facilities-crs" in out and "--k" in out and "--spacing-m" in out and "--n-threads" in out
    for old in ("--crs ", "--grid ", "--select", "--spacing ", "--threads"):
        assert old not in out, old


def test_old_flag_on_the_command_line_prints_a_note(capsys):
    from circles.cli import main

    assert main(["analyze", "--grid", "abc", "--out", "x"]) == 2  # a usage error, after the note
    err = capsys.readouterr().err
    assert "--grid is deprecated" in err and "--grid-m" in err


@pytest.mark.parametrize("func,old,new", [
    ("grid_units", "cell_m", "grid_m"), ("grid_units", "crs", "metric_crs"),
    ("load_units", "crs", "units_crs"), ("assign_population", "crs", "metric_crs"),
    ("demand_from_rasters", "population_tif", "population"),
    ("demand_from_rasters", "population_65plus_tif", "population_65plus"),
    ("analyze", "crs", "facilities_crs"),
])
def test_old_keywords_are_deprecated_aliases(func, old, new):
    import circles.analysis
    import circles.population
    import circles.units

    function = next(getattr(m, func) for m in (circles.analysis, circles.population, circles.units)
                    if hasattr(m, func))
    names = _keywords(function)
    assert new in names and old not in names  # the signature shows the new name only
    with pytest.warns(DeprecationWarning, match=f"{old}=.*deprecated.*{new}="), pytest.raises((TypeError, InputError)):
        function(**{old: None})  # the warning, then the function's own complaint about the missing inputs
    with pytest.raises(TypeError, match="both"):
        function(**{old: None, new: None})


def test_old_keyword_reaches_the_function():
    from shapely.geometry import box

    from circles.units import grid_units

    area = box(114.40, 30.47, 114.41, 30.48)
    new = grid_units(area, metric_crs="EPSG:32650", grid_m=500)
    with pytest.warns(DeprecationWarning):
        old = grid_units(area, crs="EPSG:32650", cell_m=500)
    assert old.equals(new)


def test_engine_direction_is_said():
    """travel_seconds and minutes_to_nearest defaulted to opposite directions: omitting it now warns
    and keeps each old default (no result changes)."""
    import numpy as np
    import scipy.sparse as sp

    from circles.engine import minutes_to_nearest, travel_seconds

    g = sp.csr_matrix((np.array([60.0, 240.0]), (np.array([0, 1]), np.array([1, 0]))), shape=(2, 2))
    with pytest.warns(DeprecationWarning, match="direction"):
        assert travel_seconds(g, [0]).tolist() == travel_seconds(g, [0], direction="from").tolist()
    with pytest.warns(DeprecationWarning, match="direction"):
        np.testing.assert_array_equal(minutes_to_nearest(g, [0]), minutes_to_nearest(g, [0], direction="to"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        travel_seconds(g, [0], direction="to")
