"""Many analyses from one config: areas × scenarios, run serially or on ``dask.distributed``.

``circles batch CONFIG.toml`` (and :func:`run_batch`) reads a TOML file of three parts::

    [defaults]                      # any `circles analyze` input, for every task
    network = "wuhan.osm.pbf"
    facilities = "pois_gcj02.csv"
    facilities_crs = "gcj02"
    population = "population_20plus.tif"
    districts = "districts.geojson"
    policy = "wuhan-2022"
    map = false                     # write map.html per task (default true)

    [[areas]]                       # one per area; name + overrides
    name = "hongshan"
    district = "洪山区"              # one polygon of the districts file (by its `name` column)

    [[areas]]
    name = "box"
    area = [114.50, 30.47, 114.54, 30.49]   # or a polygon file; `district` then picks rows of it

    [[scenarios]]                   # one per scenario; name + overrides
    name = "walk60"

    [[scenarios]]
    name = "walk50"
    walk_speed_m_per_min = 50       # every walk circle of the policy at 50 m/min

The tasks are every area × every scenario; a task's inputs are the defaults, overridden
by its area's keys, overridden by its scenario's keys.  ``""`` removes a default
(``facilities = ""``: no facilities file in this scenario).  Without ``[[areas]]`` there is one
area named ``all``; without ``[[scenarios]]``, one scenario named ``default``.  Relative paths are read
relative to the folder of the config file.  Each task runs :func:`circles.analyze` and
:meth:`~circles.coverage.CoverageResult.to_files` into ``OUT/<area>/<scenario>/``; the out
folder also gets ``summary.csv`` (one row per task × circle) and ``tasks.csv`` (one row
per task: status, seconds, error, folder).

The whole config is validated before any task runs: every problem (unknown keys, wrong
types, missing files, duplicate names, an unknown district or policy) is listed at once
as a :class:`~circles.errors.ValidationError` naming the table and key
(``areas[1].district``).  A task that fails while running is reported with its one-line
error, the others finish, and :func:`run_batch` says so in its report.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from circles.errors import CirclesError, InputError, InputFileNotFoundError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["BatchConfig", "BatchReport", "BatchTask", "TaskFailed", "TaskOutcome", "analyze_keywords",
           "load_batch_config", "run_batch", "run_task"]

#: Keys naming an input file, read relative to the config's folder.
_PATH_KEYS = ("network", "facilities", "units", "population", "population_65plus", "districts")
#: Keys holding a piece of text.
_TEXT_KEYS = ("network_layer", "network_crs", "oneway_column", "speed_column", "class_column", "facilities_crs",
              "lon_column", "lat_column", "category_column", "name_column", "facilities_sheet", "units_crs",
              "units_level", "units_id_column", "units_name_column", "district", "district_column", "basemap")
#: Keys holding a positive number.
_NUMBER_KEYS = ("grid_m", "units_max_distance_m", "walk_speed_m_per_min")
#: Keys holding true / false.
_BOOL_KEYS = ("drop_missing", "osm_facilities", "map")
#: Keys with a fixed set of values.
_CHOICE_KEYS = {"grid_shape": ("square", "hexagon"), "lang": ("zh", "en")}
#: Every key a [defaults], [[areas]] or [[scenarios]] table may hold (besides `name`).
INPUT_KEYS = (*_PATH_KEYS, *_TEXT_KEYS, *_NUMBER_KEYS, *_BOOL_KEYS, *_CHOICE_KEYS, "area", "policy", "walk_speeds")
#: Input keys that are options of the outputs, not of :func:`circles.analyze`.
_OUTPUT_KEYS = ("lang", "map", "basemap")
#: Batch keys that are not :class:`~circles._cli_inputs.AnalyzeInputs` fields.
_BATCH_KEYS = ("district", "district_column", "walk_speed_m_per_min", "osm_facilities", *_OUTPUT_KEYS)
#: Task names become folder names.
_NAME = re.compile(r"^[^/\\:*?\"<>|\s.][^/\\:*?\"<>|]*$")

CONFIG_HINT = ("a batch config has [defaults] (any `circles analyze` input), [[areas]] and [[scenarios]] tables, "
               "each with a unique `name`; see `circles batch --help` and circles.batch")


@dataclass(frozen=True)
class BatchTask:
    """One area × one scenario.

    Attributes
    ----------
    area, scenario : str
        The names from the config; the task writes into ``<out>/<area>/<scenario>/``.
    inputs : dict
        The merged inputs (defaults < area < scenario), paths resolved, ``""`` dropped.
    """

    area: str
    scenario: str
    inputs: dict[str, Any]

    @property
    def name(self) -> str:
        """``area/scenario``."""
        return f"{self.area}/{self.scenario}"

    @property
    def folder(self) -> Path:
        """The task's output folder relative to the batch's out folder."""
        return Path(self.area) / self.scenario


@dataclass(frozen=True)
class BatchConfig:
    """A validated batch config.

    Attributes
    ----------
    source : Path
        The config file.
    tasks : tuple of BatchTask
        Every area × every scenario, areas first.
    """

    source: Path
    tasks: tuple[BatchTask, ...]


@dataclass(frozen=True)
class TaskOutcome:
    """What a finished task hands back: its summary and how long it took."""

    task: BatchTask
    summary: pd.DataFrame
    seconds: float


class TaskFailed(CirclesError):
    """A task raised; ``args`` are (one-line message, seconds until it failed), so it pickles."""

    def __init__(self, message: str, seconds: float):
        super().__init__(message, seconds)
        self.message = message
        self.seconds = seconds

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class BatchReport:
    """What :func:`run_batch` did.

    Attributes
    ----------
    summary : DataFrame
        One row per finished task × circle: ``area``, ``scenario``, then the task's summary columns.
    tasks : DataFrame
        One row per task: ``task``, ``area``, ``scenario``, ``status`` (ok / failed), ``seconds``,
        ``error``, ``output``.
    files : dict of str to Path
        ``summary`` and ``tasks``: the combined CSV files.
    seconds : float
        Wall time of the whole batch.
    """

    summary: pd.DataFrame
    tasks: pd.DataFrame
    files: dict[str, Path]
    seconds: float

    @property
    def failed(self) -> list[str]:
        """Names of the tasks that failed."""
        return [str(t) for t in self.tasks.loc[self.tasks["status"] != "ok", "task"]]


# ---------------------------------------------------------------------------
# reading and validating the config
# ---------------------------------------------------------------------------


def load_batch_config(path: str | Path) -> BatchConfig:
    """Read and validate a batch config; every problem is listed at once.

    Parameters
    ----------
    path : str or Path
        The TOML file.

    Returns
    -------
    BatchConfig
        The tasks (areas × scenarios) with their merged inputs.

    Raises
    ------
    InputFileNotFoundError
        The config file does not exist.
    ValidationError
        Not TOML, or problems in its tables (each named as ``areas[1].district: ...``).
    """
    source = Path(path).expanduser()
    if not source.is_file():
        raise InputFileNotFoundError(f"batch config {str(source)!r} does not exist (or is not a file); {CONFIG_HINT}")
    try:
        with open(source, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(str(source), [f"not valid TOML: {exc} — fix the syntax at that line"]) from None
    except UnicodeDecodeError as exc:
        raise ValidationError(str(source), [f"not UTF-8 text (byte {exc.start}: {exc.reason}); save it as UTF-8"]) \
            from None
    problems: list[str] = []
    base = source.resolve().parent
    for key in data:
        if key not in ("defaults", "areas", "scenarios"):
            problems.append(f"{key}: unknown table or key; expected [defaults], [[areas]] and [[scenarios]]")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        problems.append("defaults: expected a [defaults] table")
        defaults = {}
    defaults = _check_table(defaults, "defaults", base, problems, named=False)
    areas = _named_tables(data, "areas", base, problems)
    scenarios = _named_tables(data, "scenarios", base, problems)
    if problems:  # the tasks' own checks need valid tables
        raise ValidationError(str(source), problems, hint=CONFIG_HINT)
    tasks = [BatchTask(a["name"], s["name"], _merge(defaults, a, s)) for a in areas for s in scenarios]
    for task in tasks:
        _check_task(task, problems)
    if problems:
        raise ValidationError(str(source), problems, hint=CONFIG_HINT)
    return BatchConfig(source=source, tasks=tuple(tasks))


def _named_tables(data: dict, key: str, base: Path, problems: list[str]) -> list[dict]:
    """The [[areas]] or [[scenarios]] tables, checked; without any, one area ``all`` or one scenario ``default``."""
    raw = data.get(key)
    if raw is None:
        if key == "areas":
            return [{"name": "all"}]
        return [{"name": "default"}]
    if not isinstance(raw, list) or not raw or not all(isinstance(t, dict) for t in raw):
        problems.append(f"{key}: expected one or more [[{key}]] tables, got {raw!r}")
        return []
    tables = [_check_table(t, f"{key}[{i}]", base, problems, named=True) for i, t in enumerate(raw)]
    seen: dict[str, int] = {}
    for i, table in enumerate(tables):
        name = table.get("name")
        if isinstance(name, str) and name in seen:
            problems.append(f"{key}[{i}].name: duplicate name {name!r} (also {key}[{seen[name]}]); names must be "
                            "unique (each names an output folder)")
        elif isinstance(name, str):
            seen[name] = i
    return tables


def _check_table(table: dict, where: str, base: Path, problems: list[str], *, named: bool) -> dict:
    """One table's keys checked and its paths resolved; returns the usable part."""
    out: dict[str, Any] = {}
    if named:
        name = table.get("name")
        if not isinstance(name, str) or not _NAME.match(name) or name in (".", ".."):
            problems.append(f"{where}.name: expected a name usable as a folder name (no / \\ : * ? \" < > |, not "
                            f"starting with . or a space), got {name!r}")
        else:
            out["name"] = name
    for key, value in table.items():
        if key == "name" and named:
            continue
        if key not in INPUT_KEYS:
            problems.append(f"{where}.{key}: unknown key; allowed keys are name, {', '.join(INPUT_KEYS)}"
                            if named else f"{where}.{key}: unknown key; allowed keys are {', '.join(INPUT_KEYS)}")
            continue
        checked = _check_value(key, value, f"{where}.{key}", base, problems)
        if checked is not _BAD:
            out[key] = checked
    return out


_BAD = object()


def _check_value(key: str, value: Any, where: str, base: Path, problems: list[str]) -> Any:
    """One value checked against its key; a path resolved and checked to exist; ``""`` kept (it removes)."""
    if value == "" and key not in _BOOL_KEYS:
        return ""
    if key in _BOOL_KEYS:
        if isinstance(value, bool):
            return value
        problems.append(f"{where}: expected true or false, got {value!r}")
    elif key in _NUMBER_KEYS:
        if _is_number(value) and value > 0:
            return float(value)
        problems.append(f"{where}: expected a positive number, got {value!r}")
    elif key in _CHOICE_KEYS:
        if value in _CHOICE_KEYS[key]:
            return value
        problems.append(f"{where}: expected one of {', '.join(map(repr, _CHOICE_KEYS[key]))}, got {value!r}")
    elif key == "walk_speeds":
        if isinstance(value, list) and value and all(_is_number(v) and v > 0 for v in value):
            return [float(v) for v in value]
        problems.append(f"{where}: expected a list of positive walking speeds in m/min, e.g. [50, 60], got {value!r}")
    elif key == "area":
        return _check_area(value, where, base, problems)
    elif not isinstance(value, str):
        problems.append(f"{where}: expected a string, got {value!r}")
    elif key in _PATH_KEYS and not (key == "units" and value == "osm"):
        return _existing(value, where, base, problems)
    elif key == "policy" and (value.lower().endswith(".toml") or "/" in value or "\\" in value):
        return _existing(value, where, base, problems)
    else:
        return value
    return _BAD


def _check_area(value: Any, where: str, base: Path, problems: list[str]) -> Any:
    if isinstance(value, list):
        if len(value) == 4 and all(_is_number(v) for v in value) and value[0] < value[2] and value[1] < value[3]:
            return tuple(float(v) for v in value)
        problems.append(f"{where}: expected a polygon file or [west, south, east, north] in degrees with "
                        f"west < east and south < north, got {value!r}")
        return _BAD
    if isinstance(value, str):
        return _existing(value, where, base, problems)
    problems.append(f"{where}: expected a polygon file or [west, south, east, north], got {value!r}")
    return _BAD


def _existing(value: str, where: str, base: Path, problems: list[str]) -> Any:
    path = Path(value).expanduser()
    path = path if path.is_absolute() else base / path
    if not path.exists():
        problems.append(f"{where}: file not found: {value} (resolved to {path}); paths are relative to the folder "
                        "of the config file")
        return _BAD
    return path.resolve()


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _merge(*tables: dict) -> dict[str, Any]:
    """Later tables override earlier ones; ``""`` removes a key; names are not inputs."""
    merged: dict[str, Any] = {}
    for table in tables:
        merged.update({k: v for k, v in table.items() if k != "name"})
    return {k: v for k, v in merged.items() if v != ""}


def _check_task(task: BatchTask, problems: list[str]) -> None:
    """What needs the merged inputs: a network, known coordinate systems, the policy, the district."""
    from circles.coords import normalize_crs
    from circles.policies import load_policy

    inputs, where = task.inputs, f"task {task.name}"
    if "network" not in inputs:
        problems.append(f"{where}: no network; set `network` in [defaults], the area or the scenario")
    for key in ("facilities_crs", "units_crs"):
        if key in inputs:
            try:
                normalize_crs(inputs[key])
            except InputError:
                problems.append(f"{where}: {key} {inputs[key]!r} is not wgs84, gcj02 or bd09")
    try:
        load_policy(inputs.get("policy", "wuhan-2022"))
    except CirclesError as exc:
        problems.append(f"{where}: policy: {str(exc).splitlines()[0]}")
    if "district" in inputs:
        problem = _district_problem(inputs)
        if problem:
            problems.append(f"{where}: {problem}")


def _district_problem(inputs: dict[str, Any]) -> str | None:
    source = inputs.get("area", inputs.get("districts"))
    if not isinstance(source, Path):
        return "district: needs `area` (a polygon file) or `districts` to pick the polygon from"
    column = inputs.get("district_column", "name")
    frame = _read_polygons(source)
    if column not in frame.columns:
        columns = ", ".join(map(str, frame.columns))
        return f"district_column: {source.name} has no column {column!r} (columns: {columns})"
    values = [str(v) for v in frame[column].dropna().unique()]
    if inputs["district"] not in values:
        return f"district: {inputs['district']!r} is not a {column!r} of {source.name} (values: {', '.join(values)})"
    return None


def _read_polygons(path: Any) -> Any:
    import geopandas as gpd

    return gpd.read_file(path)


# ---------------------------------------------------------------------------
# running one task (in a worker or in-process)
# ---------------------------------------------------------------------------


def _study_area(inputs: dict[str, Any]) -> Any:
    """The ``area`` for analyze: a bbox, a file, or the union of the selected district rows (EPSG:4326)."""
    if "district" not in inputs:
        return inputs.get("area")
    frame = _read_polygons(inputs.get("area", inputs.get("districts")))
    rows = frame[frame[inputs.get("district_column", "name")].astype(str) == inputs["district"]]
    if rows.crs is not None:
        rows = rows.to_crs("EPSG:4326")
    return rows.geometry.union_all()


def _policy(inputs: dict[str, Any]) -> Any:
    """The policy, with every walk circle at ``walk_speed_m_per_min`` when the task sets it."""
    from circles.policies import load_policy

    policy = load_policy(inputs.get("policy", "wuhan-2022"))
    speed = inputs.get("walk_speed_m_per_min")
    if speed is None:
        return policy
    circles = tuple(dataclasses.replace(c, speed_m_per_min=speed) if c.mode == "walk" else c for c in policy.circles)
    return dataclasses.replace(policy, circles=circles)


def analyze_keywords(inputs: dict[str, Any]) -> dict[str, Any]:
    """The keywords of :func:`circles.analyze` for a task's merged inputs.

    Parameters
    ----------
    inputs : dict
        :attr:`BatchTask.inputs`.

    Returns
    -------
    dict
        ``network`` and the other keywords of :func:`circles.analyze`.
    """
    from circles._cli_inputs import AnalyzeInputs

    fields = {k: v for k, v in inputs.items() if k not in (*_BATCH_KEYS, "area", "policy", "walk_speeds")}
    speeds = inputs.get("walk_speeds")
    record = AnalyzeInputs(**fields, walk_speeds=",".join(map(str, speeds)) if speeds else None)
    keywords = record.analyze_keywords()
    keywords.update(area=_study_area(inputs), policy=_policy(inputs),
                    osm_facilities=inputs.get("osm_facilities", True))
    return {"network": inputs["network"], **keywords}


def run_task(task: BatchTask, out: str | Path) -> TaskOutcome:
    """Run one task: :func:`circles.analyze`, then ``to_files`` into ``out/<area>/<scenario>/``.

    Parameters
    ----------
    task : BatchTask
        The task.
    out : str or Path
        The batch's out folder.

    Returns
    -------
    TaskOutcome
        The task, its summary table and its seconds.

    Raises
    ------
    TaskFailed
        Whatever went wrong, as one line (``ErrorType: message``) and the seconds until then.
    """
    from circles.analysis import analyze

    started = time.perf_counter()
    try:
        result = analyze(**analyze_keywords(task.inputs))
        result.to_files(Path(out) / task.folder, lang=task.inputs.get("lang", "zh"),
                        map_html=task.inputs.get("map", True), basemap=task.inputs.get("basemap"))
    except Exception as exc:
        raise TaskFailed(_one_line(exc), time.perf_counter() - started) from None
    return TaskOutcome(task=task, summary=result.summary.copy(), seconds=time.perf_counter() - started)


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = " ".join(lines[:3]) if lines and lines[0].endswith(":") else (lines[0] if lines else "")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# ---------------------------------------------------------------------------
# running the batch
# ---------------------------------------------------------------------------


def run_batch(config: str | Path | BatchConfig, *, out: str | Path = "out", workers: int = 2,
              scheduler: str | None = None, retries: int = 0, serial: bool = False,
              quiet: bool = False) -> BatchReport:
    """Run every task of a batch config and write the combined ``summary.csv`` and ``tasks.csv``.

    Parameters
    ----------
    config : str, Path or BatchConfig
        The TOML file (validated first, see :func:`load_batch_config`) or a loaded config.
    out : str or Path, default "out"
        Out folder: ``<area>/<scenario>/`` per task, ``summary.csv`` and ``tasks.csv`` at its top.
    workers : int, default 2
        Worker processes (one thread each) of the local ``dask.distributed`` cluster.
    scheduler : str, optional
        Address of an existing ``dask.distributed`` scheduler (``tcp://host:8786``) instead of a
        local cluster; its workers must have circles installed and see the input files at the
        same paths and the out folder.
    retries : int, default 0
        Run a failed task up to this many more times.
    serial : bool, default False
        Run the tasks one after the other in this process, without dask (for debugging).
    quiet : bool, default False
        No line per finished task on stderr.

    Returns
    -------
    BatchReport
        The combined summary and task tables, the files written and the wall time; a task that
        failed is in :attr:`BatchReport.failed` with its error, the others ran to the end.
    """
    cfg = config if isinstance(config, BatchConfig) else load_batch_config(config)
    if workers < 1:
        raise InputError(f"workers (CLI --workers) must be at least 1, got {workers}")
    if retries < 0:
        raise InputError(f"retries (CLI --retries) must be 0 or more, got {retries}")
    out_dir = Path(out)
    started = time.perf_counter()
    say = (lambda _text: None) if quiet else (lambda text: print(text, file=sys.stderr, flush=True))
    if serial:
        outcomes = _run_serial(cfg.tasks, out_dir, retries=retries, report=_reporter(len(cfg.tasks), say))
    else:
        outcomes = _run_dask(cfg.tasks, out_dir, workers=workers, scheduler=scheduler, retries=retries,
                             report=_reporter(len(cfg.tasks), say))
    report = _write_report(cfg.tasks, outcomes, out_dir, seconds=time.perf_counter() - started)
    say(f"{len(cfg.tasks) - len(report.failed)} of {len(cfg.tasks)} tasks ok in {report.seconds:.1f} s; "
        f"wrote {report.files['summary']} and {report.files['tasks']}")
    return report


Outcome = TaskOutcome | TaskFailed


def _reporter(total: int, say: Callable[[str], None]) -> Callable[[BatchTask, Outcome], None]:
    done = [0]

    def report(task: BatchTask, outcome: Outcome) -> None:
        done[0] += 1
        if isinstance(outcome, TaskFailed):
            say(f"[{done[0]}/{total}] FAILED {task.name} after {outcome.seconds:.1f} s: {outcome.message}")
        else:
            say(f"[{done[0]}/{total}] ok {task.name} in {outcome.seconds:.1f} s")

    return report


def _run_serial(tasks: Iterable[BatchTask], out: Path, *, retries: int,
                report: Callable[[BatchTask, Outcome], None]) -> dict[str, Outcome]:
    outcomes: dict[str, Outcome] = {}
    for task in tasks:
        for attempt in range(retries + 1):
            try:
                outcomes[task.name] = run_task(task, out)
                break
            except TaskFailed as exc:
                outcomes[task.name] = exc
                if attempt == retries:
                    break
        report(task, outcomes[task.name])
    return outcomes


def _run_dask(tasks: tuple[BatchTask, ...], out: Path, *, workers: int, scheduler: str | None, retries: int,
              report: Callable[[BatchTask, Outcome], None]) -> dict[str, Outcome]:
    try:
        import distributed
    except ImportError:
        raise InputError("circles batch runs on dask.distributed: pip install 'circles[dask]' (or use --serial)") \
            from None
    outcomes: dict[str, Outcome] = {}
    with _client(distributed, workers=workers, scheduler=scheduler) as client:
        batch_id = uuid.uuid4().hex[:8]  # keys unique on a scheduler shared with other batches
        futures = {client.submit(run_task, task, out.resolve(), retries=retries, pure=False,
                                 key=f"circles-batch-{batch_id}-{i}-{task.name}"): task
                   for i, task in enumerate(tasks)}
        for future in distributed.as_completed(futures):
            task = futures[future]
            try:
                outcomes[task.name] = future.result()
            except TaskFailed as exc:
                outcomes[task.name] = exc
            except Exception as exc:  # the worker died (KilledWorker), a pickling error, ...
                outcomes[task.name] = TaskFailed(_one_line(exc), math.nan)
            report(task, outcomes[task.name])
    return outcomes


@contextlib.contextmanager
def _client(distributed: Any, *, workers: int, scheduler: str | None) -> Iterator[Any]:
    """A client of the scheduler at ``scheduler``, or of a new local cluster closed with it."""
    if scheduler:
        with distributed.Client(scheduler) as client:
            yield client
        return
    # on loopback only; the workers' logs off (run_batch reports a failed task, once), the scheduler's at WARNING
    cluster_options = dict(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None, silence_logs=logging.CRITICAL)
    log = logging.getLogger("distributed")
    level = log.level
    log.setLevel(logging.WARNING)
    try:
        with distributed.LocalCluster(**cluster_options) as cluster, distributed.Client(cluster) as client:
            yield client
    finally:
        log.setLevel(level)


def _write_report(tasks: tuple[BatchTask, ...], outcomes: dict[str, Outcome], out: Path, *,
                  seconds: float) -> BatchReport:
    """The combined summary and task tables, in task order, written atomically at the top of ``out``."""
    import pandas as pd

    from circles.outputs.atomic import write_csv_atomic

    rows, frames = [], []
    for task in tasks:
        outcome = outcomes[task.name]
        ok = isinstance(outcome, TaskOutcome)
        rows.append({"task": task.name, "area": task.area, "scenario": task.scenario,
                     "status": "ok" if ok else "failed", "seconds": round(outcome.seconds, 2),
                     "error": outcome.message if isinstance(outcome, TaskFailed) else "",
                     "output": task.folder.as_posix() if ok else ""})
        if isinstance(outcome, TaskOutcome):
            frames.append(outcome.summary.assign(area=task.area, scenario=task.scenario))
    table = pd.DataFrame(rows, columns=["task", "area", "scenario", "status", "seconds", "error", "output"])
    summary = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["area", "scenario", "circle"])
    summary = summary[["area", "scenario", *[c for c in summary.columns if c not in ("area", "scenario")]]]
    files = {"summary": write_csv_atomic(summary, out / "summary.csv"),
             "tasks": write_csv_atomic(table, out / "tasks.csv")}
    return BatchReport(summary=summary, tasks=table, files=files, seconds=seconds)
