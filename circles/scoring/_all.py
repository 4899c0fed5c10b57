"""Scoring proposed facility sites and choosing the best set (issue #6).

The flow (one direction):

1. **candidates** — from a user file (:func:`load_candidates`: CSV, GeoJSON,
   GeoPackage; the same reader as facilities) or generated on the network
   inside the units a circle leaves uncovered (:func:`generate_candidates`);
2. **score** (:func:`score`) — for every candidate and every circle its
   category counts towards: one bounded single-source search from the
   candidate (the compiled kernel of :mod:`circles._kernels`; its access leg as
   the start time), then, per demand point it reaches, the category's new
   minutes ``min(old, node time + resident leg)``.  The circle's per-point
   result is recomputed with only that requirement group improved (a new
   clinic covers nobody who still lacks a grocery), with the zone-dependent
   limits of the coverage run.  Reported per candidate: population newly
   covered, population whose time to the category falls, and the minutes
   they save;
3. **select** (:func:`select_sites`) — the maximal covering problem of
   :mod:`circles.scoring.mclp` (greedy, or exact with HiGHS) for one circle,
   with existing facilities as the baseline;
4. **write** (:func:`write_score_outputs`) — ``scores.csv``, ``scores.xlsx``,
   ``selected.csv`` and an offline ``scores.html`` map with coverage before
   and after the chosen sites (recomputed with the coverage functions).

Everything numeric runs on arrays prepared once per circle
(:class:`_CircleArrays`): the oriented CSR graph, a node → demand-points CSR,
the resident access legs, the current minutes per category and, per point,
the *gate* — the time within which a new facility of the category would make
the point covered (``-inf`` where it cannot: the point is already covered or
still lacks another group).  Candidates are scored in chunks by two compiled
kernels (search, then reduction), optionally on several threads or, with
:mod:`circles.scoring.distributed`, on a dask cluster — all three give identical
numbers.

Minutes saved and newly reachable
---------------------------------
A resident with no facility of the category within the search horizon (the
circle's longest limit) has no "before" time to save minutes against — the run
tracks times only up to a 60-minute cap, and measuring against that cap would
report an invented number.  So the two are reported apart:

* ``faster_population`` — people who already reached a facility of the
  category within the horizon and reach the candidate sooner;
  ``mean_minutes_saved`` is their population-weighted mean of
  ``old - new`` minutes (NaN when there are none);
* ``newly_reachable_population`` — people with no facility of the category
  within the horizon before, and the candidate within it after.

``improved_population`` is their sum (everyone whose time to the category falls,
within the horizon).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from circles import settings
from circles._kernels import SCORE_STATS, bounded_dijkstra_batch, reach_lists, score_reduce
from circles.classify import CATEGORIES, CATEGORY_DESCRIPTIONS
from circles.coverage import (
    compute_circle,
    group_minutes,
    snap_facilities,
)
from circles.errors import InputError

log = logging.getLogger(__name__)

__all__ = [
    "CANDIDATE_COLUMNS",
    "SCORE_COLUMNS",
    "ScoreTable",
    "SiteSelection",
    "load_candidates",
    "generate_candidates",
    "score",
    "select_sites",
    "no_selection",
    "coverage_with_sites",
    "score_map",
    "write_score_outputs",
]

#: Columns of a candidate frame (GeoDataFrame, EPSG:4326, point geometry; ``lon``/``lat`` WGS84).  Sites
#: given in GCJ-02/BD-09 add ``lon_gcj02``/``lat_gcj02`` (or ``_bd09``) with the user's own numbers.
CANDIDATE_COLUMNS: tuple[str, ...] = ("candidate_id", "category", "name", "capacity", "source", "lon", "lat",
                                      "geometry")
#: Columns of a score table (one row per candidate and circle).
SCORE_COLUMNS: tuple[str, ...] = (
    "candidate_id", "name", "category", "lon", "lat", "circle", "population_group",
    "newly_covered_population", "improved_population", "improved_points", "faster_population",
    "mean_minutes_saved", "newly_reachable_population", "district", "snap_m", "flag",
)
#: Usual names of a capacity column (compared case-insensitively).
CAPACITY_COLUMNS: tuple[str, ...] = ("capacity", "beds", "places", "容量", "床位", "床位数")
#: Default number of candidates per chunk (per kernel call).
CHUNK_SIZE: int = 512
#: Columns of the reduction kernel's per-candidate statistics.
N_STATS: int = SCORE_STATS
#: What "minutes saved" means (written to scores.xlsx and the console).
MINUTES_SAVED_NOTE = (
    "mean_minutes_saved: population-weighted mean minutes saved by the residents who already had a "
    "facility of the category within the circle's limit and reach the candidate sooner (faster_population); "
    "residents with none within the limit before are counted apart as newly_reachable_population, "
    "with no minutes saved invented for them / 平均节省时间仅计原已可达且更快的居民；原不可达者计为新增可达人口")
#: What newly covered and newly reachable mean for a circle with no data before (scores.xlsx notes, README).
NO_BASELINE_NOTE = (
    "{circles}: no data before (no usable facility of {categories}), so there is no baseline — nobody reached "
    "such a facility before, every resident a site brings within reach is newly reachable "
    "(newly_reachable_population, within the search horizon) and those within their limit who now meet the "
    "circle are newly covered (newly_covered_population): for a circle of one category the two columns count "
    "the same people (they differ only where the horizon is longer than a resident's limit, or where another "
    "required category is still missing) / 这些服务圈现状无数据，没有基线：新增覆盖人口与新增可达人口基本是同一批居民"
    "（仅当搜索时限长于该居民的阈值，或仍缺少其他类别时不同）")

# flags (several are joined with ";")
FLAG_OFF_NETWORK = "off_network"
FLAG_OUTSIDE = "outside_area"
FLAG_NOT_REQUIRED = "category_not_in_policy"
FLAG_AT_EXISTING = "at_existing_facility"
#: Flags that make a candidate score zero.
UNSCORED_FLAGS = frozenset({FLAG_OFF_NETWORK, FLAG_OUTSIDE, FLAG_NOT_REQUIRED})


# =========================================================================== #
# Result types
# =========================================================================== #


class ScoreTable(pd.DataFrame):
    """A :class:`pandas.DataFrame` of scores, one row per candidate and circle.

    Columns (:data:`SCORE_COLUMNS`): ``candidate_id, name, category, lon, lat``
    (WGS84), ``circle`` (empty when no circle of the policy needs the
    category), ``population_group`` (``all`` or ``65plus``: whose weights
    count), ``newly_covered_population`` (people whose unit would newly meet
    the circle), ``improved_population`` and ``improved_points`` (people and
    demand points whose time to the category falls, within the circle's
    longest limit, the horizon), ``faster_population`` (of those, people who
    already had a facility of the category within the horizon),
    ``mean_minutes_saved`` (population-weighted over ``faster_population``
    only; NaN when none), ``newly_reachable_population`` (people with no
    facility of the category within the horizon before, the candidate within
    it after), ``district`` (of the candidate), ``snap_m`` (access leg),
    ``flag`` (why a row scores zero, or a remark).

    Attributes
    ----------
    by_district : DataFrame
        Long table ``candidate_id, circle, district, newly_covered_population,
        improved_population``: where the newly covered people live.
    info : dict
        Per circle: search horizon (min), baseline covered population, number
        of candidates scored; timings.
    """

    _metadata = ["by_district", "info"]
    by_district = None
    info = None

    @property
    def _constructor(self):
        return ScoreTable

    def best(self, circle: str, n: int = 10) -> pd.DataFrame:
        """The ``n`` best candidates for ``circle`` by newly covered population (each on its own,
        not marginal: use :func:`select_sites` for a set), ties by person-minutes saved."""
        sub = self[self["circle"] == circle]
        if sub.empty:
            raise InputError(f"no scored candidates for circle {circle!r}; circles in the table: "
                             f"{sorted(c for c in self['circle'].unique() if c)}")
        saved = sub["faster_population"] * sub["mean_minutes_saved"].fillna(0.0)
        # ties go to the site saving the most person-minutes (as in select_sites), then by id
        order = np.lexsort((sub["candidate_id"].to_numpy(str), -saved.to_numpy(),
                            -sub["newly_covered_population"].to_numpy()))
        return pd.DataFrame(sub.iloc[order].head(n))


@dataclass(eq=False)
class SiteSelection:
    """The sites chosen for one circle by :func:`select_sites`.

    Attributes
    ----------
    table : DataFrame
        One row per chosen site in pick order: ``rank, candidate_id, name,
        category, lon, lat, circle, newly_covered_population`` (marginal, given
        the sites ranked before it), ``cumulative_newly_covered``,
        ``covered_population_after``, ``covered_share_after`` (NaN while the
        circle still has no data after the sites so far), ``status_after``
        (``no_data`` or ``ok``), ``district``.
    selection : circles.scoring.mclp.Selection
        The solver's answer (indices refer to :attr:`candidates`).
    circle : str
    method : {"greedy", "exact"}
    candidates : DataFrame
        The candidates of this circle the solver saw (row ``j`` = index ``j``),
        with ``fixed`` (already built: an existing facility of the category at
        the same node) and ``flag``.
    baseline_population, total_population : float
        Covered population with existing facilities only (NaN when the circle
        has no data: a required category has no usable facility), and all
        population (the circle's group: all ages or 65+).
    exact : Selection or None
        For greedy: the exact optimum when it was affordable (see ``compare_exact``).
    gap_to_exact : float or None
        ``exact.covered - greedy.covered`` (people; 0 when greedy is optimal).
    requested : int
        The number of sites asked for (``k``).
    no_data, no_data_after : tuple of str
        The categories without a usable facility before, and still without one
        after the chosen sites (empty when the circle is measurable).
    reason : str
        Why fewer than ``requested`` sites were chosen ("" when all were): no
        candidate of the circle's categories, too few usable ones, or too few
        that add coverage.
    """

    table: pd.DataFrame
    selection: object
    circle: str
    method: str
    candidates: pd.DataFrame
    baseline_population: float
    total_population: float
    exact: object = None
    gap_to_exact: float | None = None
    notes: list = field(default_factory=list)
    requested: int = 0
    reason: str = ""
    no_data: tuple = ()
    no_data_after: tuple = ()

    @property
    def covered_population(self) -> float:
        """Covered population with the chosen sites (NaN while the circle still has no data)."""
        return np.nan if self.no_data_after else float(self.selection.covered_weight)

    def rows(self) -> pd.DataFrame:
        """This circle's rows of ``selected.csv``: the chosen sites with ``sites_requested`` and
        ``note`` (why fewer than requested were chosen), or — when none could be chosen —
        one row with the circle, the coverage as it stands and the reason."""
        table = self.table.copy()
        if table.empty:
            share = self.baseline_population / self.total_population if self.total_population > 0 else np.nan
            table = pd.DataFrame({
                "rank": [pd.NA], "candidate_id": [""], "name": [""], "category": [""], "lon": [np.nan],
                "lat": [np.nan], "circle": [self.circle], "newly_covered_population": [0.0],
                "cumulative_newly_covered": [0.0], "covered_population_after": [self.baseline_population],
                "covered_share_after": [share], "status_after": ["no_data" if self.no_data else "ok"],
                "district": [None], "method": [self.method],
            })
        table["rank"] = table["rank"].astype("Int64")
        table["sites_requested"] = int(self.requested)
        table["note"] = self.reason
        return table

    def __repr__(self) -> str:
        gap = "" if self.gap_to_exact is None else f", gap_to_exact={self.gap_to_exact:.1f}"

        def people(v: float) -> str:
            return "no data" if np.isnan(v) else f"{v:.0f}"
        return (f"SiteSelection(circle={self.circle!r}, method={self.method!r}, sites={len(self.table)}, "
                f"covered {people(self.baseline_population)} -> {people(self.covered_population)} "
                f"of {self.total_population:.0f}{gap})")


# =========================================================================== #
# Candidates
# =========================================================================== #


def _empty_candidates():
    import geopandas as gpd

    return gpd.GeoDataFrame({c: [] for c in CANDIDATE_COLUMNS[:-1]}, geometry=[], crs="EPSG:4326")


def _valid_categories_text() -> str:
    return "; ".join(f"{c} ({d})" for c, d in CATEGORY_DESCRIPTIONS.items())


def load_candidates(
    path: str | Path,
    *,
    crs: str | None = None,
    lon_column: str | None = None,
    lat_column: str | None = None,
    category_column: str | None = None,
    name_column: str | None = None,
    id_column: str | None = None,
    capacity_column: str | None = None,
    category: str | None = None,
    sheet: str | int | None = None,
):
    """Read proposed sites from a CSV/TSV, Excel, GeoJSON, GeoPackage or Shapefile.

    Read once with the shared reader (:mod:`circles._tables`) and classified
    like facilities, so the same columns, encodings and coordinate systems
    work: a location (lon/lat columns or point geometry), a category (our ids
    such as ``elderly_care`` or labels such as ``养老院``/``hospital``), and
    optionally a name, an id and a capacity.

    Parameters
    ----------
    path : str or path-like
    crs : {"wgs84", "gcj02", "bd09"}, optional
        Coordinate system of the numbers (required for tables; CLI ``--candidates-crs``).
    lon_column, lat_column, category_column, name_column, id_column : str, optional
        Column names when not one of the usual ones.  Usual id columns:
        ``candidate_id``, ``site_id``, then ``id``/``编号``/``编码``/``code`` …
    capacity_column : str, optional
        Population a site can serve (e.g. beds × people per bed); default the
        first of ``capacity``/``beds``/``places``/``容量``/``床位`` present.
        Used only by ``select_sites(..., method="exact", capacity_column=...)``.
    category : str, optional
        Put every row in this category (a file of one kind of site).
    sheet : str or int, optional
        Excel sheet name or 0-based position (CLI ``--candidates-sheet``).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, columns :data:`CANDIDATE_COLUMNS`; ``candidate_id`` is the
        id column's value, unchanged (or ``<file stem>-0001`` … by row); a
        label that matches several categories gives one row per category with
        ids ``<id>:<category>``.  ``lon``/``lat`` are WGS84; candidates given
        in GCJ-02/BD-09 also keep their own numbers in ``lon_gcj02``/
        ``lat_gcj02`` (or ``lon_bd09``/``lat_bd09``).

    Raises
    ------
    InputError
        Duplicate ids (listed), rows whose category is unknown (rows named,
        valid categories listed), bad or missing coordinates, missing ``crs``,
        unknown sheet.
    """
    import geopandas as gpd

    from circles import _tables
    from circles.facilities import _classify_points, read_points

    path = Path(path).expanduser()
    if category is not None and category not in CATEGORIES:
        raise InputError(f"category={category!r} (CLI --candidates-category) is not a category id; expected "
                         f"one of {', '.join(CATEGORIES)}")
    pts = read_points(path, crs=crs, lon_column=lon_column, lat_column=lat_column, sheet=sheet,
                      what="candidate site", parameter="candidates (CLI --candidates)")
    fs = _classify_points(pts, path, category_column=category_column, name_column=name_column,
                          id_column=id_column, category=category, name_hints=False,
                          id_usual=_tables.id_columns("candidates"))
    if len(fs.unclassified):
        unc = fs.unclassified
        shown = ", ".join(f"row {r} ({lab!r})" for r, lab in zip(unc["row"].head(10), unc["label"].head(10)))
        more = f" and {len(unc) - 10} more" if len(unc) > 10 else ""
        raise InputError(
            f"{path}: {len(unc)} candidate row(s) have a category circles does not know: {shown}{more}. "
            f"Use one of the category ids — {_valid_categories_text()} — or a label that maps to one "
            f"(e.g. 养老院, 急救站, 公园, hospital); or pass category= (CLI --candidates-category) to put every row "
            f"in one category")
    fac = fs.facilities
    pos = np.asarray(fac.attrs["input_rows"], dtype=np.int64)
    raw = pts.table
    cap_col = _tables.find_column(raw, capacity_column, CAPACITY_COLUMNS, what="capacity",
                                  option="capacity_column", source=str(path))
    capacity = np.full(len(raw), np.nan)
    if cap_col is not None:
        values = _tables.numbers(raw[cap_col])
        bad = np.flatnonzero((raw[cap_col].notna().to_numpy() & np.isnan(values)) | (values < 0))
        if bad.size:
            raise InputError(
                f"{path}: capacity column {cap_col!r} must hold numbers >= 0 (population a site can serve); "
                f"rows {', '.join(str(i + 1) for i in bad[:10])} do not; fix them or leave them empty (unlimited)")
        capacity = values
    if fac.attrs.get("id_column") is None:  # rows numbered by file stem
        per_feature = fac.groupby("feature_id")["category"].transform("size").to_numpy()
        base = [f"{path.stem}-{int(f):04d}" for f in fac["feature_id"]]
        cand_id = np.array([f"{b}:{c}" if k > 1 else b for b, c, k in zip(base, fac["category"], per_feature)],
                           dtype=object)
    else:  # the user's ids, unchanged (":<category>" only for a row in several categories)
        cand_id = fac["facility_id"].astype(str).to_numpy(object)
    coords = [c for c in fac.columns if c in ("lon", "lat") + _ORIGINAL_COORDS]
    out = gpd.GeoDataFrame({
        "candidate_id": cand_id,
        "category": fac["category"].astype(object).to_numpy(),
        "name": fac["name"].astype(object).to_numpy(),
        "capacity": capacity[pos] if len(pos) else np.zeros(0),
        "source": fac["source"].astype(object).to_numpy(),
        **{c: fac[c].to_numpy(float) for c in coords},
    }, geometry=fac.geometry.to_numpy(), crs="EPSG:4326")
    return _check_candidates(out, source=str(path))


#: Columns holding a candidate's (or site's) coordinates as the user gave them, GCJ-02 or BD-09.
_ORIGINAL_COORDS: tuple[str, ...] = ("lon_gcj02", "lat_gcj02", "lon_bd09", "lat_bd09")


def _carry_coords(table: pd.DataFrame, rows: pd.DataFrame, index=None) -> pd.DataFrame:
    """Insert the as-given coordinate columns of ``rows`` (if any) after ``lat`` in ``table``."""
    at = table.columns.get_loc("lat") + 1
    for col in [c for c in _ORIGINAL_COORDS if c in rows.columns]:
        values = rows[col].to_numpy(float)
        table.insert(at, col, values if index is None else values[index])
        at += 1
    return table


def _check_candidates(candidates, *, source: str = "candidates"):
    """Validate a candidate frame; returns it in EPSG:4326 with every column present.

    ``lon``/``lat`` are (re)computed from the geometry (WGS84); columns
    ``lon_gcj02``/``lat_gcj02``/``lon_bd09``/``lat_bd09`` are kept as given.
    """
    import geopandas as gpd
    import shapely

    if not isinstance(candidates, gpd.GeoDataFrame):
        raise InputError(f"{source}: expected a GeoDataFrame of candidate sites (from load_candidates or "
                         f"generate_candidates), got {type(candidates).__name__}")
    if candidates.crs is None:
        raise InputError(f"{source}: the candidate frame has no CRS; set it with .set_crs('EPSG:4326')")
    missing = [c for c in ("category",) if c not in candidates.columns]
    if missing:
        raise InputError(f"{source}: candidate frame lacks column(s) {missing}; expected "
                         f"{', '.join(CANDIDATE_COLUMNS)}")
    gdf = candidates.to_crs("EPSG:4326").copy()
    if "candidate_id" not in gdf:
        gdf["candidate_id"] = [f"cand-{i + 1:04d}" for i in range(len(gdf))]
    gdf["candidate_id"] = gdf["candidate_id"].astype(str)
    for col, default in (("name", ""), ("capacity", np.nan), ("source", "")):
        if col not in gdf:
            gdf[col] = default
    gdf["name"] = gdf["name"].fillna("").astype(str)
    ids = gdf["candidate_id"]
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        rows = ", ".join(f"row {i + 1} ({v!r})" for i, v in list(zip(np.flatnonzero(ids.duplicated(keep=False)),
                                                                        dup))[:10])
        raise InputError(f"{source}: candidate ids must be unique; duplicated: {sorted(dup.unique())[:10]} "
                         f"at {rows}; rename them or drop the id column to number rows instead")
    bad = ~gdf["category"].isin(CATEGORIES)
    if bad.any():
        rows = ", ".join(f"row {i + 1} ({v!r})" for i, v in zip(np.flatnonzero(bad), gdf.loc[bad, "category"]))
        raise InputError(f"{source}: unknown category in {int(bad.sum())} row(s): {rows[:400]}; "
                         f"expected one of {', '.join(CATEGORIES)}")
    geom = gdf.geometry
    wrong = geom.isna().to_numpy() | geom.is_empty.to_numpy()
    if not wrong.any():
        wrong = (geom.geom_type != "Point").to_numpy()
    if wrong.any():
        raise InputError(f"{source}: candidates must be points; rows "
                         f"{', '.join(str(i + 1) for i in np.flatnonzero(wrong)[:10])} are empty or not points")
    gdf["lon"] = shapely.get_x(geom.values) if len(gdf) else np.zeros(0)
    gdf["lat"] = shapely.get_y(geom.values) if len(gdf) else np.zeros(0)
    return gdf.reset_index(drop=True)


def generate_candidates(
    result,
    *,
    categories: Sequence[str] | None = None,
    spacing_m: float = 250.0,
    statuses: Sequence[str] = ("uncovered", "partial", "no_data"),
    largest_component: bool = True,
    crs: str | None = None,
):
    """Candidate sites on network nodes where coverage is lacking.

    For each category, the nodes (of the network the category's circles run
    on: drive for ambulance stations, walk otherwise) that lie inside units
    whose status is uncovered, partial or no_data in any circle needing the category,
    thinned to one node per ``spacing_m`` grid square (the node nearest the
    square's centre; deterministic).  Nodes already hosting an existing
    facility of the category are skipped.

    Parameters
    ----------
    result : CoverageResult
    categories : sequence of str, optional
        Default: every category the policy's circles require.
    spacing_m : float, default 250
        Grid square size for thinning, metres.
    statuses : sequence of str
        Unit statuses that ask for a new facility (``no_data``: the circle has
        no usable facility of some category yet).
    largest_component : bool, default True
        Only nodes of the network's largest component (weak for walking,
        strong for driving: a station must be able to drive out and back).
    crs : {"wgs84", "gcj02", "bd09"}, optional
        Also give the sites' coordinates in this system (``lon_gcj02``/
        ``lat_gcj02`` or ``lon_bd09``/``lat_bd09``, converted from WGS84) for
        pasting into Amap/Baidu.  Default: the system the run's facilities
        were given in, if GCJ-02 or BD-09 (CLI ``--candidates-crs``).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`CANDIDATE_COLUMNS` (``lon``/``lat`` WGS84), ids ``gen-<category>-0001`` …,
        numbered south to north then west to east; name
        ``"生成候选点 12 / generated site 12"`` (the id's number), followed by
        the street's name in brackets when the network keeps street names
        (an ``edge_name`` array on the :class:`~circles.network.Network`).
    """
    from circles import _tables

    kind = _tables.crs_name(crs)
    import geopandas as gpd
    import shapely

    policy = result.policy
    required = [c for c in CATEGORIES if any(c in r.categories for circ in policy.circles for r in circ.requirements)]
    if categories is None:
        categories = required
    else:
        categories = [categories] if isinstance(categories, str) else list(categories)
        unknown = [c for c in categories if c not in CATEGORIES]
        if unknown:
            raise InputError(f"generate_candidates: unknown categories {unknown}; expected some of {', '.join(CATEGORIES)}")
        unused = [c for c in categories if c not in required]
        if unused:
            raise InputError(f"generate_candidates: no circle of policy {policy.id!r} needs {unused}; "
                             f"categories it needs: {', '.join(required)}")
    if not (isinstance(spacing_m, (int, float)) and spacing_m > 0):
        raise InputError(f"generate_candidates: spacing_m must be metres > 0, got {spacing_m!r}")
    units = result.units.to_crs("EPSG:4326")
    frames = []
    for cat in categories:
        circles = [c for c in policy.circles if any(cat in r.categories for r in c.requirements)]
        net = result.networks["drive" if any(c.mode == "drive" for c in circles) else "walk"]
        needy = np.zeros(len(units), dtype=bool)
        for c in circles:
            col = f"{c.id}_status"
            if col in units:
                needy |= units[col].isin(list(statuses)).to_numpy()
        if not needy.any():
            continue
        geoms = units.geometry[needy]
        if (geoms.geom_type.isin(["Point", "MultiPoint"])).any():
            metric = geoms.to_crs(net.crs)
            geoms = metric.where(~metric.geom_type.isin(["Point", "MultiPoint"]),
                                 metric.buffer(spacing_m)).to_crs("EPSG:4326")
        area = shapely.union_all(geoms.values)
        inside = shapely.intersects_xy(area, net.lon, net.lat)
        if largest_component:
            inside &= net.component == 0
        # skip nodes that already host a facility of this category
        fac = result.facilities
        fac = fac[fac["category"] == cat]
        if len(fac):  # snapped once by the analysis
            inside[fac.loc[~fac[f"{net.mode}_off_network"], f"{net.mode}_node"].to_numpy(np.int64)] = False
        nodes = np.flatnonzero(inside)
        if nodes.size == 0:
            continue
        chosen = _thin_to_grid(nodes, net.x[nodes], net.y[nodes], spacing_m)
        streets = _street_names(net, chosen)
        frames.append(gpd.GeoDataFrame({
            "candidate_id": [f"gen-{cat}-{i + 1:04d}" for i in range(chosen.size)],
            "category": cat,
            "name": [f"生成候选点 {i + 1} / generated site {i + 1}" + (f" ({street})" if street else "")
                     for i, street in enumerate(streets)],
            "capacity": np.nan,
            "source": "generated",
        }, geometry=gpd.points_from_xy(net.lon[chosen], net.lat[chosen]), crs="EPSG:4326"))
    if not frames:
        return _empty_candidates()
    out = _check_candidates(gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                                             crs="EPSG:4326"), source="generated candidates")
    if kind is None:  # the system the user's facilities came in
        fac = result.facilities
        kind = next((k for k in ("gcj02", "bd09") if f"lon_{k}" in fac and fac[f"lon_{k}"].notna().any()), None)
    if kind in ("gcj02", "bd09"):
        from circles.coords import wgs84_to_bd09, wgs84_to_gcj02

        lon, lat = (wgs84_to_gcj02 if kind == "gcj02" else wgs84_to_bd09)(out["lon"].to_numpy(float),
                                                                          out["lat"].to_numpy(float))
        at = out.columns.get_loc("lat") + 1
        out.insert(at, f"lon_{kind}", np.asarray(lon, float))
        out.insert(at + 1, f"lat_{kind}", np.asarray(lat, float))
    return out


def _thin_to_grid(nodes: np.ndarray, x: np.ndarray, y: np.ndarray, spacing_m: float) -> np.ndarray:
    """One node per ``spacing_m`` grid square (nearest the square's centre, ties by node),
    ordered south to north then west to east."""
    ix, iy = np.floor(x / spacing_m).astype(np.int64), np.floor(y / spacing_m).astype(np.int64)
    d2 = (x - (ix + 0.5) * spacing_m) ** 2 + (y - (iy + 0.5) * spacing_m) ** 2
    order = np.lexsort((nodes, d2, ix, iy))
    first = np.ones(order.size, dtype=bool)
    first[1:] = (ix[order][1:] != ix[order][:-1]) | (iy[order][1:] != iy[order][:-1])
    return nodes[order[first]]


def _street_names(net, nodes: np.ndarray) -> list[str]:
    """Name of a street at each node (the first named edge leaving it), "" when none —
    only when the network keeps OSM street names (``net.edge_name``); never guessed."""
    names = getattr(net, "edge_name", None)
    if names is None or nodes.size == 0:
        return [""] * int(nodes.size)
    names = np.asarray(names, dtype=object)
    named = np.flatnonzero([isinstance(v, str) and v.strip() != "" for v in names])
    if named.size == 0:
        return [""] * int(nodes.size)
    u = np.asarray(net.edge_u)[named]
    order = np.argsort(u, kind="stable")
    first_u, first = np.unique(u[order], return_index=True)
    pos = np.clip(np.searchsorted(first_u, nodes), 0, first_u.size - 1)
    hit = first_u[pos] == nodes
    street = names[named[order[first[pos]]]]
    return [str(v).strip() if h else "" for v, h in zip(street, hit)]


# =========================================================================== #
# Prepared arrays (plain numpy; picklable for dask)
# =========================================================================== #


@dataclass(eq=False)
class _CircleArrays:
    """Everything a worker needs to score candidates for one circle."""

    circle_id: str
    mode: str
    indptr: np.ndarray  # oriented graph: forward for "from", transposed for "to"
    indices: np.ndarray
    data: np.ndarray
    pt_ptr: np.ndarray  # node -> demand points (on the network, in a unit, weight > 0)
    pt_idx: np.ndarray
    leg_min: np.ndarray  # resident access leg per demand point
    weight: np.ndarray  # per demand point (0 outside units)
    district_code: np.ndarray  # int64 per demand point
    n_districts: int
    horizon_min: float
    cap_min: float
    old_min: dict  # category -> current minutes per point (inf for NaN)
    gate: dict  # category -> minutes within which a new facility newly covers the point (-inf: cannot)
    group_of: dict  # category -> tuple of requirement-group indices containing it
    limits: list  # per group: per-point limit
    met_groups: np.ndarray  # (n_points, n_groups) bool: group already met
    access_speed_m_per_min: float


@dataclass(eq=False)
class _Task:
    """One chunk of score rows of one circle (any of its categories)."""

    circle_id: str
    categories: np.ndarray  # object, category per row
    rows: np.ndarray  # row indices into the score rows
    sources: np.ndarray
    offsets_s: np.ndarray


@dataclass(eq=False)
class _Prepared:
    rows: pd.DataFrame
    arrays: dict
    tasks: list
    districts: list
    baseline: dict
    chunk_size: int
    no_data: dict = field(default_factory=dict)  # circle id -> categories without a usable facility


def _circle_arrays(result, circle, *, horizon_min: float | None, cap_min: float, districts: list) -> _CircleArrays:
    demand = result.demand
    net = result.networks["walk" if circle.mode == "walk" else "drive"]
    snap = demand.snaps[net.mode]
    speed = circle.speed_m_per_min if circle.mode == "walk" else None
    access_speed = net.access_speed_m_per_min(speed)
    graph = net.graph_s(speed) if net.mode == "walk" else net.graph_s()
    if circle.direction == "to":
        graph = graph.T.tocsr()
    graph.sort_indices()

    weight = demand.weights(circle.population).astype(np.float64) * (demand.unit >= 0)
    eligible = (~snap.off_network) & (weight > 0)
    idx = np.flatnonzero(eligible)
    order = np.argsort(snap.node[idx], kind="stable")
    pt_idx = idx[order].astype(np.int64)
    pt_ptr = np.zeros(net.n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(snap.node[idx], minlength=net.n_nodes), out=pt_ptr[1:])
    leg_min = snap.distance_m / access_speed

    pm = result.point_minutes[circle.id]
    limits = [np.asarray(lim, dtype=np.float64) for lim in result.point_limits[circle.id]]
    gms = [group_minutes([pm[c] for c in req.categories]) for req in circle.requirements]
    met_groups = np.column_stack([np.nan_to_num(g, nan=np.inf) <= lim for g, lim in zip(gms, limits)])
    met_all = met_groups.all(axis=1)
    old_min, gate, group_of = {}, {}, {}
    for cat in circle.categories:
        groups = tuple(g for g, req in enumerate(circle.requirements) if cat in req.categories)
        others = [g for g in range(len(limits)) if g not in groups]
        needs_only = ~met_all & (met_groups[:, others].all(axis=1) if others else True)
        need_limit = np.full(len(demand), np.inf)
        for g in groups:
            need_limit = np.where(~met_groups[:, g], np.minimum(need_limit, limits[g]), need_limit)
        gate[cat] = np.where(needs_only, need_limit, -np.inf)
        old_min[cat] = np.nan_to_num(pm[cat], nan=np.inf).astype(np.float64)
        group_of[cat] = groups
    longest = max((float(np.max(lim)) for lim in limits if lim.size), default=circle.effective_threshold(None))
    horizon = longest if horizon_min is None else float(horizon_min)
    horizon = min(horizon, cap_min)
    dmap = {d: i for i, d in enumerate(districts)}
    dcode = np.array([dmap[d if d is not None else "(none)"] for d in demand.district], dtype=np.int64)
    return _CircleArrays(
        circle_id=circle.id, mode=net.mode,
        indptr=np.ascontiguousarray(graph.indptr, dtype=np.int64),
        indices=np.ascontiguousarray(graph.indices, dtype=np.int32),
        data=np.ascontiguousarray(graph.data, dtype=np.float64),
        pt_ptr=pt_ptr, pt_idx=pt_idx, leg_min=np.ascontiguousarray(leg_min, dtype=np.float64),
        weight=weight, district_code=dcode, n_districts=len(districts), horizon_min=horizon, cap_min=cap_min,
        old_min=old_min, gate=gate, group_of=group_of, limits=limits, met_groups=met_groups,
        access_speed_m_per_min=float(access_speed),
    )


def _candidate_districts(result, lon, lat) -> np.ndarray:
    import geopandas as gpd

    out = np.full(len(lon), None, dtype=object)
    d = result.districts
    if d is None or len(lon) == 0 or "district" not in d:
        return out
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    joined = gpd.sjoin(pts, d[["district", "geometry"]].to_crs("EPSG:4326"), how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")].sort_index()
    vals = joined["district"].to_numpy(object)
    return np.array([v if isinstance(v, str) else None for v in vals], dtype=object)


def _prepare(result, candidates, *, circles=None, horizon_min=None, max_snap_m=None,
             cap_min=None, chunk_size=CHUNK_SIZE) -> _Prepared:
    cands = _check_candidates(candidates)
    policy = result.policy
    wanted = list(policy.circles)
    if circles is not None:
        circles = [circles] if isinstance(circles, str) else list(circles)
        ids = [c.id for c in policy.circles]
        unknown = [c for c in circles if c not in ids]
        if unknown:
            raise InputError(f"circles={unknown}: policy {policy.id!r} has no such circle; its circles are: "
                             f"{', '.join(ids)}")
        wanted = [c for c in policy.circles if c.id in circles]
    if horizon_min is not None and not (isinstance(horizon_min, (int, float)) and horizon_min > 0):
        raise InputError(f"horizon_min must be minutes > 0 (or None for the circle's longest limit), "
                         f"got {horizon_min!r}")
    if not (isinstance(chunk_size, (int, np.integer)) and chunk_size >= 1):
        raise InputError(f"chunk_size must be a whole number >= 1, got {chunk_size!r}")

    lon = cands.geometry.x.to_numpy(float)
    lat = cands.geometry.y.to_numpy(float)
    # the same test as the analysis' inputs table (circles.inputs), with the analysis' own snap limit
    from circles.inputs import inside_area

    options = getattr(result, "options", None)
    if max_snap_m is None:
        max_snap_m = options.max_snap_m if options is not None else settings.MAX_SNAP_M
    if cap_min is None:
        cap_min = options.cap_min if options is not None else settings.MINUTES_CAP
    outside = ~inside_area(result.area, lon, lat) if len(cands) else np.zeros(0, dtype=bool)
    cand_district = _candidate_districts(result, lon, lat)
    districts = sorted({d if d is not None else "(none)" for d in result.demand.district}) or ["(none)"]

    rows = []  # dicts: cand index, circle id
    cats = cands["category"].to_numpy(object)
    for j, cat in enumerate(cats):
        serving = [c for c in wanted if cat in c.categories]
        if not serving:
            rows.append((j, "", ""))
        for c in serving:
            rows.append((j, c.id, c.population))
    rows = pd.DataFrame(rows, columns=["cand", "circle", "population_group"])
    rows["node"] = -1
    rows["snap_m"] = np.nan
    rows["offset_s"] = np.nan
    rows["flag"] = ""

    def add_flag(mask, text):
        rows.loc[mask, "flag"] = [f"{f};{text}" if f else text for f in rows.loc[mask, "flag"]]

    add_flag((rows["circle"] == "").to_numpy(), FLAG_NOT_REQUIRED)
    add_flag(outside[rows["cand"].to_numpy()], FLAG_OUTSIDE)

    arrays, tasks, baseline, no_data = {}, [], {}, {}
    fac = result.facilities
    for circle in wanted:
        sel = np.flatnonzero((rows["circle"] == circle.id).to_numpy())
        arrays[circle.id] = arr = _circle_arrays(result, circle, horizon_min=horizon_min, cap_min=cap_min,
                                                 districts=districts)
        w = arr.weight
        no_data[circle.id] = _no_data_before(result, circle)
        # no data is not 0: a circle that cannot be measured has no baseline
        baseline[circle.id] = np.nan if no_data[circle.id] else float(w[arr.met_groups.all(axis=1)].sum())
        if sel.size == 0:
            continue
        net = result.networks[arr.mode]
        j = rows["cand"].to_numpy()[sel]
        snap = net.snap_lonlat(lon[j], lat[j], max_snap_m=max_snap_m, source="candidates")
        rows.loc[sel, "node"] = snap.node
        rows.loc[sel, "snap_m"] = snap.distance_m
        rows.loc[sel, "offset_s"] = (snap.distance_m / arr.access_speed_m_per_min) * 60.0
        add_flag(sel[snap.off_network], FLAG_OFF_NETWORK)
        # coincides with an existing on-network facility of the same category (same node)
        for cat in circle.categories:
            f = fac[(fac["category"] == cat)]
            if not len(f):
                continue
            existing_nodes = np.unique(f.loc[~f[f"{net.mode}_off_network"], f"{net.mode}_node"].to_numpy(np.int64))
            hit = (cats[j] == cat) & np.isin(snap.node, existing_nodes) & ~snap.off_network
            add_flag(sel[hit], FLAG_AT_EXISTING)
        flags = rows["flag"].to_numpy(object)[sel]
        scorable = np.array([not (set(f.split(";")) & UNSCORED_FLAGS) for f in flags], dtype=bool)
        # one task per chunk; rows sorted by node so candidates of several categories at
        # the same node (and offset) share one search
        pick = sel[scorable]
        pick = pick[np.lexsort((rows["offset_s"].to_numpy()[pick], rows["node"].to_numpy()[pick]))]
        for a in range(0, pick.size, int(chunk_size)):
            part = pick[a:a + int(chunk_size)]
            tasks.append(_Task(circle.id, cats[rows["cand"].to_numpy()[part]], part,
                               rows["node"].to_numpy()[part].astype(np.int64),
                               rows["offset_s"].to_numpy()[part].astype(np.float64)))
    rows["candidate_id"] = cands["candidate_id"].to_numpy(object)[rows["cand"]]
    rows["name"] = cands["name"].to_numpy(object)[rows["cand"]]
    rows["category"] = cats[rows["cand"]]
    rows["lon"] = lon[rows["cand"]]
    rows["lat"] = lat[rows["cand"]]
    for col in [c for c in _ORIGINAL_COORDS if c in cands.columns]:  # the user's own coordinates
        rows[col] = pd.to_numeric(cands[col], errors="coerce").to_numpy(float)[rows["cand"]]
    rows["district"] = cand_district[rows["cand"]]
    rows["capacity"] = pd.to_numeric(cands["capacity"], errors="coerce").to_numpy(float)[rows["cand"]]
    return _Prepared(rows=rows, arrays=arrays, tasks=tasks, districts=districts, baseline=baseline,
                     chunk_size=int(chunk_size), no_data=no_data)


def _search(arr: _CircleArrays, sources: np.ndarray, offsets_s: np.ndarray):
    return bounded_dijkstra_batch(arr.indptr, arr.indices, arr.data, sources, offsets_s,
                                  arr.horizon_min * 60.0, n_threads=1, validate=False)


def _score_task(arr: _CircleArrays, categories: np.ndarray, sources: np.ndarray, offsets_s: np.ndarray):
    """Score one chunk of rows of one circle: (stats (n, N_STATS), by_district (n, d, 2)).

    Each distinct (node, offset) is searched once; the reduction runs per category."""
    key = np.column_stack([sources.astype(np.float64), offsets_s])
    uniq, inverse = np.unique(key, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    ptr, nodes, times = _search(arr, uniq[:, 0].astype(np.int64), uniq[:, 1].copy())
    n = sources.size
    stats = np.zeros((n, N_STATS))
    by_d = np.zeros((n, arr.n_districts, 2))
    for cat in np.unique(categories):
        mine = np.flatnonzero(categories == cat)
        s, b = score_reduce(ptr, nodes, times, inverse[mine].astype(np.int64), arr.pt_ptr, arr.pt_idx,
                              arr.leg_min, arr.old_min[cat], arr.gate[cat], arr.weight, arr.district_code,
                              arr.n_districts, arr.horizon_min)
        stats[mine] = s
        by_d[mine] = b
    return stats, by_d


def _assemble(prep: _Prepared, outputs: list, *, timings: dict) -> ScoreTable:
    rows = prep.rows
    n = len(rows)
    stats = np.zeros((n, N_STATS))
    by_d = np.zeros((n, len(prep.districts), 2))
    for task, (s, b) in zip(prep.tasks, outputs):
        stats[task.rows] = s
        by_d[task.rows] = b
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_saved = np.where(stats[:, 5] > 0, stats[:, 3] / stats[:, 5], np.nan)
    table = ScoreTable({
        "candidate_id": rows["candidate_id"].to_numpy(object),
        "name": rows["name"].to_numpy(object),
        "category": rows["category"].to_numpy(object),
        "lon": rows["lon"].to_numpy(float),
        "lat": rows["lat"].to_numpy(float),
        "circle": rows["circle"].to_numpy(object),
        "population_group": rows["population_group"].to_numpy(object),
        "newly_covered_population": stats[:, 0],
        "improved_population": stats[:, 1],
        "improved_points": stats[:, 2].astype(np.int64),
        "faster_population": stats[:, 5],
        "mean_minutes_saved": mean_saved,
        "newly_reachable_population": stats[:, 6],
        "district": rows["district"].to_numpy(object),
        "snap_m": rows["snap_m"].to_numpy(float),
        "flag": rows["flag"].to_numpy(object),
    })
    _carry_coords(table, rows)
    nz = np.argwhere((by_d[:, :, 0] > 0) | (by_d[:, :, 1] > 0))
    table.by_district = pd.DataFrame({
        "candidate_id": rows["candidate_id"].to_numpy(object)[nz[:, 0]],
        "circle": rows["circle"].to_numpy(object)[nz[:, 0]],
        "district": np.asarray(prep.districts, dtype=object)[nz[:, 1]],
        "newly_covered_population": by_d[nz[:, 0], nz[:, 1], 0],
        "improved_population": by_d[nz[:, 0], nz[:, 1], 1],
    })
    table.info = {
        "circles": {cid: {"horizon_min": a.horizon_min, "baseline_covered_population": prep.baseline[cid],
                          "population": float(a.weight.sum()),
                          "status": "no_data" if prep.no_data.get(cid) else "ok",
                          "no_data": ", ".join(prep.no_data.get(cid, [])),
                          "candidates_scored": int(sum(t.rows.size for t in prep.tasks if t.circle_id == cid))}
                    for cid, a in prep.arrays.items()},
        "timings": timings,
        "minutes_saved_note": MINUTES_SAVED_NOTE,
    }
    return table


def score(
    result,
    candidates,
    *,
    circles: Sequence[str] | str | None = None,
    horizon_min: float | None = None,
    max_snap_m: float | None = None,
    n_threads: int = 1,
    chunk_size: int = CHUNK_SIZE,
    progress: bool = False,
) -> ScoreTable:
    """Score every candidate site for every circle its category counts towards.

    Parameters
    ----------
    result : CoverageResult
        From :func:`circles.analyze` (the current situation: existing
        facilities, demand points, limits per zone).
    candidates : GeoDataFrame
        From :func:`load_candidates` or :func:`generate_candidates` (columns
        ``candidate_id, category, name, geometry`` at least).
    circles : str or list of str, optional
        Only these circles (default: all of the policy).
    horizon_min : float, optional
        How far (minutes, resident leg included) a candidate's reach is
        searched; default the circle's longest limit over zones (e.g. 12 for
        the emergency circle), at most the 60-minute cap.  Newly covered
        population never depends on it (as long as it is at least the
        limits); ``improved_population`` counts improvements within it.
    max_snap_m : float, optional
        Candidates further than this from the circle's network are flagged
        ``off_network`` and score zero (default: the analysis' own,
        ``result.options.max_snap_m``).
    n_threads : int, default 1
        Threads scoring chunks in parallel (the kernels release the GIL).
    chunk_size : int, default 512
        Candidates per kernel call.
    progress : bool, default False
        Show a progress bar over chunks.

    Returns
    -------
    ScoreTable
        One row per (candidate, circle) in candidate order; see
        :class:`ScoreTable`.  Flags: ``off_network``, ``outside_area`` (not in
        the study area), ``category_not_in_policy`` (these score zero and are
        kept) and ``at_existing_facility`` (same node as an existing facility
        of the category; scored normally, treated as already built by
        :func:`select_sites`).

    Notes
    -----
    Per candidate: one bounded Dijkstra from its snapped node (start time =
    its access leg; on the forward drive graph for ambulance stations, on the
    reversed graph for walking-to circles), then for each reached demand
    point ``new = node minutes + resident leg``.  The point is *newly covered*
    when it was not covered, every requirement group other than the
    candidate's was already met, and ``new`` is within the point's limit for
    the candidate's group (zone-dependent for the emergency circle).  It is
    *improved* when ``new`` is below its current minutes to the category:
    *faster* when it already had a facility of the category within the
    horizon (its minutes saved, ``old - new``, enter ``mean_minutes_saved``),
    *newly reachable* otherwise (counted apart; no minutes saved are assumed).
    """
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    prep = _prepare(result, candidates, circles=circles, horizon_min=horizon_min, max_snap_m=max_snap_m,
                    chunk_size=chunk_size)
    t_prep = time.perf_counter() - t0
    if not (isinstance(n_threads, (int, np.integer)) and n_threads >= 1):
        raise InputError(f"n_threads must be a whole number >= 1, got {n_threads!r}")
    t1 = time.perf_counter()
    outputs: list = [None] * len(prep.tasks)
    bar = tqdm(total=len(prep.tasks), desc="scoring chunks", disable=not progress, leave=False)
    if n_threads == 1 or len(prep.tasks) <= 1:
        for i, task in enumerate(prep.tasks):
            outputs[i] = _score_task(prep.arrays[task.circle_id], task.categories, task.sources, task.offsets_s)
            bar.update(1)
    else:
        with ThreadPoolExecutor(max_workers=int(n_threads)) as pool:
            futures = {pool.submit(_score_task, prep.arrays[t.circle_id], t.categories, t.sources, t.offsets_s): i
                       for i, t in enumerate(prep.tasks)}
            from concurrent.futures import as_completed

            for fut in as_completed(futures):
                outputs[futures[fut]] = fut.result()
                bar.update(1)
    bar.close()
    timings = {"prepare_s": t_prep, "score_s": time.perf_counter() - t1}
    table = _assemble(prep, outputs, timings=timings)
    timings["total_s"] = time.perf_counter() - t0
    return table


# =========================================================================== #
# Selection
# =========================================================================== #


def _reach_matrix(prep: _Prepared, arr: _CircleArrays, rows: np.ndarray, group_index: int, n_points: int):
    import scipy.sparse as sp

    nodes = prep.rows["node"].to_numpy()[rows].astype(np.int64)
    offsets = prep.rows["offset_s"].to_numpy()[rows].astype(np.float64)
    flags = prep.rows["flag"].to_numpy(object)[rows]
    ok = np.array([not (set(f.split(";")) & UNSCORED_FLAGS) for f in flags], dtype=bool)
    indptr = np.zeros(rows.size + 1, dtype=np.int64)
    idx_parts = []
    good = np.flatnonzero(ok)
    counts = np.zeros(rows.size, dtype=np.int64)
    limit = arr.limits[group_index]
    for a in range(0, good.size, prep.chunk_size):
        part = good[a:a + prep.chunk_size]
        ptr, rn, rt = _search(arr, nodes[part], offsets[part])
        rptr, pts = reach_lists(ptr, rn, rt, arr.pt_ptr, arr.pt_idx, arr.leg_min, limit, arr.horizon_min)
        counts[part] = np.diff(rptr)
        idx_parts.append(pts)
    np.cumsum(counts, out=indptr[1:])
    # pieces are in ``good`` order, which is increasing, so concatenation matches indptr
    idx = np.concatenate(idx_parts) if idx_parts else np.zeros(0, dtype=np.int64)
    return sp.csr_array((np.ones(idx.size), idx, indptr), shape=(rows.size, n_points))


def select_sites(
    result,
    candidates,
    *,
    circle: str,
    k: int,
    method: str = "greedy",
    capacity_column: str | None = None,
    compare_exact: bool | None = None,
    time_limit_s: float = 60.0,
    max_snap_m: float | None = None,
    rule: str = "gain",
) -> SiteSelection:
    """Choose up to ``k`` candidate sites maximising the population newly covered for ``circle``.

    Parameters
    ----------
    result : CoverageResult
    candidates : GeoDataFrame
        As for :func:`score`; only candidates whose category the circle needs
        are considered.
    circle : str
        Circle id (e.g. ``"emergency_medical"``).
    k : int
        Number of new sites, at most the number of usable candidates (not
        off the network, not outside the area, not already built).
    method : {"greedy", "exact"}
        Greedy marginal gains (:func:`circles.scoring.mclp.greedy_select`) or the
        MILP optimum (:func:`circles.scoring.mclp.exact_select`, HiGHS).
    capacity_column : str, optional
        Candidate column with the population each site can serve (exact
        only, single-group circles; empty = unlimited).
    compare_exact : bool, optional
        For greedy, also solve exactly and report the gap.  Default: when
        affordable (at most 5,000 candidates and 5 million reach pairs).
    time_limit_s : float
        Time limit of the exact solver.
    rule : {"gain", "progress"}
        Greedy tie-breaking (see :func:`circles.scoring.mclp.greedy_select`).

    Returns
    -------
    SiteSelection

    Raises
    ------
    InputError
        Unknown circle or method, a capacity column that is missing or used
        with greedy.

    Notes
    -----
    Asking for more sites than can help is not an error: when there is no
    candidate of a category the circle needs, fewer usable candidates than
    ``k`` (off the network, outside the area, already built), or fewer that
    add coverage, the selection holds what could be chosen (possibly nothing)
    and :attr:`SiteSelection.reason` says why, so that every circle asked for
    appears in ``selected.csv``.
    """
    from circles.scoring.mclp import exact_select, greedy_select

    if method not in ("greedy", "exact"):
        raise InputError(f"method must be 'greedy' or 'exact', got {method!r}")
    circ = result.circle(circle)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"k must be a whole number of sites >= 1, got {k!r}")
    cands = _check_candidates(candidates)
    mine = cands[cands["category"].isin(circ.categories)].reset_index(drop=True)
    if mine.empty:
        found = ", ".join(sorted(cands["category"].unique())) or "none"
        return no_selection(result, circle, k=int(k), method=method,
                            reason=f"no candidate site of a category this circle needs "
                                   f"({', '.join(circ.categories)}); the candidates' categories: {found}")
    multi = [c for c in circ.categories if sum(c in r.categories for r in circ.requirements) > 1]
    if multi:
        raise InputError(f"circle {circle!r}: categories {multi} appear in several requirement groups; "
                         "site selection needs each candidate to fill one group")
    # order candidates by their own score, so ties in marginal gain (the solvers pick the
    # lowest index) go to the site that saves the most person-minutes, then by id
    prep = _prepare(result, mine, circles=[circle], max_snap_m=max_snap_m)
    own = _assemble(prep, [_score_task(prep.arrays[t.circle_id], t.categories, t.sources, t.offsets_s)
                           for t in prep.tasks], timings={})
    saved = (own["faster_population"] * own["mean_minutes_saved"].fillna(0.0)).to_numpy()
    order = np.lexsort((own["candidate_id"].to_numpy(str), -saved, -own["newly_covered_population"].to_numpy()))
    mine = mine.iloc[order].reset_index(drop=True)
    prep = _prepare(result, mine, circles=[circle], max_snap_m=max_snap_m)
    arr = prep.arrays[circle]
    rows = prep.rows
    n_points = arr.weight.size
    flags = rows["flag"].to_numpy(object)
    unusable = np.array([bool(set(f.split(";")) & UNSCORED_FLAGS) for f in flags], dtype=bool)
    fixed = np.array([FLAG_AT_EXISTING in f.split(";") for f in flags], dtype=bool)
    usable = int((~unusable & ~fixed).sum())
    reasons = []
    if k > usable:
        reasons.append(
            f"asked for {k} site(s) but only {usable} of the {len(rows)} candidate(s) of its categories can be "
            f"used ({int(unusable.sum())} off the network or outside the area, "
            f"{int((fixed & ~unusable).sum())} already built at an existing facility's node)")
    k_run = min(int(k), usable)
    group = np.array([arr.group_of[c][0] for c in rows["category"]], dtype=np.int64)
    import scipy.sparse as sp

    all_rows = np.arange(len(rows))
    parts = [(all_rows[group == g], _reach_matrix(prep, arr, all_rows[group == g], int(g), n_points))
             for g in np.unique(group)]
    perm = np.concatenate([r for r, _ in parts])
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(perm.size)
    reach = sp.csr_array(sp.vstack([m for _, m in parts]).tocsr()[inverse])
    existing = arr.met_groups
    w = arr.weight

    notes: list[str] = []
    capacity = None
    if capacity_column is not None:
        if method != "exact":
            raise InputError("capacity_column needs method='exact' (greedy ignores capacities); "
                             "pass method='exact' (CLI --method exact)")
        if capacity_column not in mine.columns and capacity_column != "capacity":
            raise InputError(f"capacity_column={capacity_column!r} is not a candidate column; columns: "
                             f"{', '.join(map(str, mine.columns))}")
        capacity = pd.to_numeric(mine[capacity_column], errors="coerce").to_numpy(float)
        capacity = np.where(np.isnan(capacity), np.inf, capacity)
        capacity = capacity[rows["cand"].to_numpy()]
        notes.append(f"capacities from column {capacity_column!r} (empty = unlimited)")

    if method == "greedy":
        sel = greedy_select(w, existing, reach, group, k_run, fixed=fixed, rule=rule)
    else:
        sel = exact_select(w, existing, reach, group, k_run, fixed=fixed, capacity=capacity,
                           time_limit_s=time_limit_s)
    exact = gap = None
    if method == "greedy":
        affordable = len(rows) <= 5000 and reach.nnz <= 5_000_000
        if compare_exact or (compare_exact is None and affordable):
            exact = exact_select(w, existing, reach, group, k_run, fixed=fixed, time_limit_s=time_limit_s)
            gap = float(exact.covered_weight - sel.covered_weight)
            notes.append(f"exact optimum {exact.covered_weight:.1f} ({exact.status}); greedy "
                         f"{sel.covered_weight:.1f}; gap {gap:.1f}")

    chosen = sel.chosen
    total = float(w.sum())
    missing = _no_data_before(result, circ)
    table = _carry_coords(_selection_table(rows, sel, circle=circ, method=method, total=total, missing=missing),
                          rows, chosen)
    if chosen.size < k_run:
        reasons.append(f"only {chosen.size} of the {k_run} usable site(s) add coverage; "
                       f"the others would bring nobody into the circle")
    zero = int((np.asarray(sel.gains) <= 0).sum())
    if zero:
        reasons.append(f"{zero} chosen site(s) newly cover nobody on their own: they bring a category within "
                       f"reach of people who still lack another one the circle requires")
    notes.extend(reasons)
    cand_view = pd.DataFrame(rows[["candidate_id", "name", "category", "lon", "lat", "district", "node",
                                   "snap_m", "flag"]]).reset_index(drop=True)
    _carry_coords(cand_view, rows.reset_index(drop=True))
    cand_view["fixed"] = fixed
    return SiteSelection(table=table, selection=sel, circle=circle, method=method, candidates=cand_view,
                         baseline_population=np.nan if missing else float(sel.baseline_weight),
                         total_population=total, exact=exact, gap_to_exact=gap, notes=notes, requested=int(k),
                         reason="; ".join(reasons), no_data=tuple(missing),
                         no_data_after=tuple(_still_missing(circ, missing, table["category"])))


def _no_data_before(result, circle) -> list[str]:
    """The circle's categories without a usable facility in the analysis (contract 1: ``no_data``)."""
    from circles.coverage import no_data_categories, usable_counts

    mode = "walk" if circle.mode == "walk" else "drive"
    return no_data_categories(circle, usable_counts(result.facilities, mode))


def _still_missing(circle, missing: Sequence[str], added: Sequence[str]) -> list[str]:
    """``missing`` categories whose requirement group still has no facility once sites of the
    ``added`` categories are built."""
    if not len(missing):
        return []
    from circles.coverage import no_data_categories

    usable = {c: 1 for c in circle.categories if c not in missing}
    usable.update({c: 1 for c in added})
    return no_data_categories(circle, usable)


def _selection_table(rows: pd.DataFrame, sel, *, circle, method: str, total: float,
                     missing: Sequence[str] = ()) -> pd.DataFrame:
    """:attr:`SiteSelection.table` of the solver's picks (``rows`` = the prepared score rows).

    While the circle still has no data after the sites ranked so far (``missing`` categories
    not yet added), the coverage after them is unknown: NaN, ``status_after`` ``no_data``."""
    chosen = sel.chosen
    cum = np.cumsum(sel.gains)
    categories = rows["category"].to_numpy(object)[chosen]
    unknown = np.array([bool(_still_missing(circle, missing, categories[:r + 1])) for r in range(chosen.size)],
                       dtype=bool)
    after = np.where(unknown, np.nan, sel.baseline_weight + cum)
    return pd.DataFrame({
        "rank": np.arange(1, chosen.size + 1),
        "candidate_id": rows["candidate_id"].to_numpy(object)[chosen],
        "name": rows["name"].to_numpy(object)[chosen],
        "category": categories,
        "lon": rows["lon"].to_numpy(float)[chosen],
        "lat": rows["lat"].to_numpy(float)[chosen],
        "circle": circle.id,
        "newly_covered_population": sel.gains,
        "cumulative_newly_covered": cum,
        "covered_population_after": after,
        "covered_share_after": after / total if total > 0 else np.full(chosen.size, np.nan),
        "status_after": np.where(unknown, "no_data", "ok").astype(object),
        "district": rows["district"].to_numpy(object)[chosen],
        "method": method,
    })


def no_selection(result, circle: str, *, k: int, method: str, reason: str) -> SiteSelection:
    """A :class:`SiteSelection` with no site chosen for ``circle`` and the ``reason``,
    so that the circle still appears (with its coverage as it stands) in ``selected.csv``."""
    from circles.scoring.mclp import Selection

    districts = sorted({d if d is not None else "(none)" for d in result.demand.district}) or ["(none)"]
    circ = result.circle(circle)
    arr = _circle_arrays(result, circ, horizon_min=None, cap_min=result.options.cap_min, districts=districts)
    missing = _no_data_before(result, circ)
    base, total = float(arr.weight[arr.met_groups.all(axis=1)].sum()), float(arr.weight.sum())
    sel = Selection(chosen=np.zeros(0, dtype=np.int64), gains=np.zeros(0), covered_weight=base,
                    baseline_weight=base, total_weight=total, method=method, status="nothing to choose")
    table = pd.DataFrame({c: pd.Series(dtype=t) for c, t in (
        ("rank", "int64"), ("candidate_id", object), ("name", object), ("category", object), ("lon", float),
        ("lat", float), ("circle", object), ("newly_covered_population", float),
        ("cumulative_newly_covered", float), ("covered_population_after", float), ("covered_share_after", float),
        ("status_after", object), ("district", object), ("method", object))})
    cand_view = pd.DataFrame(columns=["candidate_id", "name", "category", "lon", "lat", "district", "node",
                                      "snap_m", "flag", "fixed"])
    return SiteSelection(table=table, selection=sel, circle=circle, method=method, candidates=cand_view,
                         baseline_population=np.nan if missing else base, total_population=total, notes=[reason],
                         requested=int(k), reason=reason, no_data=tuple(missing), no_data_after=tuple(missing))


# =========================================================================== #
# Coverage after adding sites (the coverage functions, not a re-derivation)
# =========================================================================== #


def coverage_with_sites(result, sites, *, circle: str, max_snap_m: float | None = None,
                        cap_min: float | None = None):
    """Units' coverage of ``circle`` with ``sites`` added to the existing facilities.

    The analysis' own options (``result.options``: status thresholds, maximum
    snap distance, horizon) apply, so adding no site changes nothing; a
    circle that had no data becomes measurable once a site of its missing
    category is added (and stays ``no_data`` otherwise).

    Parameters
    ----------
    sites : DataFrame
        ``category, lon, lat`` per site (a :attr:`SiteSelection.table`, or
        rows of a score table), or a GeoDataFrame with ``category``.
    max_snap_m, cap_min : float, optional
        Override the analysis' values (default: ``result.options``).

    Returns
    -------
    geopandas.GeoDataFrame
        ``result.units`` (EPSG:4326) with ``<circle>_covered_share_after`` and
        ``<circle>_status_after``, and ``.attrs["covered_population_after"]``
        (NaN while the circle has no data).
    """
    import geopandas as gpd

    from circles.coverage import AnalysisOptions, no_data_categories, unit_coverage, usable_counts

    options = getattr(result, "options", None) or AnalysisOptions()
    max_snap_m = options.max_snap_m if max_snap_m is None else float(max_snap_m)
    cap_min = options.cap_min if cap_min is None else float(cap_min)
    circ = result.circle(circle)
    if isinstance(sites, gpd.GeoDataFrame):
        geom = sites.to_crs("EPSG:4326").geometry
        lon, lat = geom.x.to_numpy(float), geom.y.to_numpy(float)
    else:
        lon, lat = sites["lon"].to_numpy(float), sites["lat"].to_numpy(float)
    added = gpd.GeoDataFrame({"facility_id": [f"site-{i}" for i in range(len(lon))],
                              "category": np.asarray(sites["category"], dtype=object)},
                             geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    fac = pd.concat([result.facilities[["facility_id", "category", "geometry"]], added], ignore_index=True)
    fac = gpd.GeoDataFrame(fac, geometry="geometry", crs="EPSG:4326")
    demand = result.demand
    net = result.networks["walk" if circ.mode == "walk" else "drive"]
    speed = circ.speed_m_per_min if circ.mode == "walk" else None
    fac_snap = snap_facilities(fac, net, max_snap_m)
    met = compute_circle(circ, net, demand.snaps[net.mode], fac["category"].to_numpy(object),
                         fac_snap, speed_m_per_min=speed, cap_min=cap_min, zone=demand.zone).met
    fac[f"{net.mode}_off_network"] = fac_snap.off_network
    no_data = bool(no_data_categories(circ, usable_counts(fac, net.mode)))
    weight = demand.weights(circ.population)
    n_units = len(result.units)
    cov, _, _, share, status = unit_coverage(
        met, weight, demand.unit, demand.snaps[net.mode].off_network, n_units, no_data=no_data,
        covered_min=options.covered_min, uncovered_max=options.uncovered_max)
    units = result.units.to_crs("EPSG:4326").copy()
    units[f"{circle}_covered_share_after"] = np.round(share, 4)
    units[f"{circle}_status_after"] = status
    units.attrs["covered_population_after"] = np.nan if no_data else float(cov.sum())
    return units


# =========================================================================== #
# Outputs
# =========================================================================== #

MAP_MAX_CANDIDATES = 3000


def _as_selections(selected) -> list:
    if selected is None:
        return []
    if isinstance(selected, SiteSelection):
        return [selected]
    out = list(selected)
    for s in out:
        if not isinstance(s, SiteSelection):
            raise InputError(f"selected: expected SiteSelection objects (from select_sites), got {type(s).__name__}")
    return out


def score_map(result, scores: pd.DataFrame, selected=None, *, circles: Sequence[str] | None = None,
              roads: bool = True, max_candidates: int = MAP_MAX_CANDIDATES, lang: str = "zh", **options):
    """An offline map of the scored candidates in one language (``lang`` "zh" or "en"):
    coverage now and with the chosen sites, candidates in blues, chosen sites numbered
    by rank.  See :func:`circles.outputs.score_map.score_map` (where it lives); save it with
    :func:`circles.outputs.webmap.save_map` or show it inline with ``IPython.display.HTML`` of
    :func:`circles.outputs.webmap.to_offline_html`.
    """
    from circles.outputs.score_map import score_map as _score_map

    return _score_map(result, scores, selected, circles=circles, roads=roads, max_candidates=max_candidates,
                      lang=lang, **options)


def _no_baseline_notes(scores: pd.DataFrame, info: dict) -> list[str]:
    """:data:`NO_BASELINE_NOTE` for the scored circles that had no data before (none when all had)."""
    circles = {cid: d.get("no_data", "") for cid, d in (info.get("circles") or {}).items()
               if d.get("status") == "no_data" and cid in set(pd.DataFrame(scores).get("circle", []))}
    if not circles:
        return []
    categories = sorted({c.strip() for v in circles.values() for c in v.split(",") if c.strip()})
    return [NO_BASELINE_NOTE.format(circles=", ".join(circles), categories=", ".join(categories))]


def write_score_outputs(result, scores: pd.DataFrame, selected=None, out_dir: str | Path = ".", *,
                        map_html: bool = True, lang: str = "zh", basemap: str | None = None) -> dict[str, Path]:
    """Write ``scores.csv``, ``scores_by_district.csv``, ``scores.xlsx``,
    ``selected.csv`` (when sites were selected) and ``scores.html`` (offline map)
    into ``out_dir``, atomically; returns their paths.

    ``selected`` is a :class:`SiteSelection`, a list of them (one per circle),
    or None.  ``selected.csv`` has every circle of ``selected``: its chosen
    sites, or one row without a site when none could be chosen; ``sites_requested``
    and ``note`` say why fewer than requested were chosen
    (:meth:`SiteSelection.rows`).  No data is never 0: a circle without a usable
    facility of a required category has an empty baseline, and empty coverage after
    the sites while they leave it so (``status_after`` ``no_data``).  CSV numbers are
    rounded by kind and ``scores.xlsx`` has Chinese and English headers
    (:mod:`circles.outputs.atomic`), a ``summary`` sheet (coverage before and after per circle),
    ``notes`` (what the columns mean; :data:`NO_BASELINE_NOTE` for circles without a
    baseline) and the run's ``assumptions``.
    ``basemap`` puts an online basemap under ``scores.html`` (off by default;
    see :func:`circles.outputs.webmap.resolve_basemap`).
    """
    from circles.outputs.atomic import write_csv_atomic, write_excel_atomic
    from circles.outputs.files import assumptions_table, bilingual_header
    from circles.outputs.webmap import save_map

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder; pass a folder for the outputs (--out)")
    out.mkdir(parents=True, exist_ok=True)
    selections = _as_selections(selected)
    plain = pd.DataFrame(scores)
    written: dict[str, Path] = {}
    written["scores_csv"] = write_csv_atomic(plain, out / "scores.csv")
    by_d = getattr(scores, "by_district", None)
    if by_d is not None:
        written["by_district_csv"] = write_csv_atomic(by_d, out / "scores_by_district.csv")
    sel_table = pd.concat([s.rows() for s in selections], ignore_index=True) if selections else None
    if sel_table is not None:
        written["selected_csv"] = write_csv_atomic(sel_table, out / "selected.csv")
    elif (out / "selected.csv").exists():
        (out / "selected.csv").unlink()  # from an earlier run: it would name candidates not in these scores
    summary = []
    info = getattr(scores, "info", None) or {}
    for cid, d in (info.get("circles") or {}).items():
        population, base = d["population"], d["baseline_covered_population"]
        row = {"circle": cid, "population": population, "baseline_status": d.get("status", "ok"),
               "baseline_covered_population": base,
               "baseline_covered_share": base / population if population > 0 else np.nan,
               "horizon_min": d["horizon_min"], "candidates_scored": d["candidates_scored"]}
        for s in selections:
            if s.circle == cid:
                after = s.covered_population
                row.update({"method": s.method, "sites_requested": s.requested, "sites_chosen": len(s.table),
                            "covered_population_after": after,
                            "covered_share_after": after / population if population > 0 else np.nan,
                            "status_after": "no_data" if s.no_data_after else "ok",
                            "gap_to_exact": s.gap_to_exact, "note": s.reason})
        summary.append(row)
    sheets = {"scores": plain, "summary": pd.DataFrame(summary)}
    if by_d is not None:
        sheets["by_district"] = by_d
    if sel_table is not None:
        sheets["selected"] = sel_table
    sheets["notes"] = pd.DataFrame({"note": [info.get("minutes_saved_note", "")] + _no_baseline_notes(scores, info) +
                                    [n for s in selections for n in s.notes] + list(result.assumptions or [])})
    sheets["assumptions"] = assumptions_table(result)
    names = {c.id: c.name_zh for c in result.policy.circles}
    written["xlsx"] = write_excel_atomic(sheets, out / "scores.xlsx", header=bilingual_header(names))
    if map_html:
        written["map"] = save_map(score_map(result, scores, selections, lang=lang, basemap=basemap),
                                  out / "scores.html")
    return written
