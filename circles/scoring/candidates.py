"""Candidate sites: read from a file, or generated on the network where coverage is lacking.

A candidate frame is a GeoDataFrame in EPSG:4326 with the columns of
:data:`CANDIDATE_COLUMNS` (point geometry; ``lon``/``lat`` WGS84).  It comes
from :func:`load_candidates` (a user's CSV, Excel, GeoJSON, GeoPackage or
Shapefile, read by the same reader as facilities) or from
:func:`generate_candidates` (network nodes inside the units a circle leaves
uncovered, thinned to a grid).  Both pass through :func:`check_candidates`,
which scoring and selection call again on whatever frame they are given.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from circles.classify import CATEGORIES, CATEGORY_DESCRIPTIONS
from circles.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

__all__ = [
    "CANDIDATE_COLUMNS",
    "CAPACITY_COLUMNS",
    "ORIGINAL_COORDS",
    "load_candidates",
    "generate_candidates",
]

#: Columns of a candidate frame (GeoDataFrame, EPSG:4326, point geometry; ``lon``/``lat`` WGS84).  Sites
#: given in GCJ-02/BD-09 add ``lon_gcj02``/``lat_gcj02`` (or ``_bd09``) with the user's own numbers.
CANDIDATE_COLUMNS: tuple[str, ...] = ("candidate_id", "category", "name", "capacity", "source", "lon", "lat",
                                      "geometry")

#: Usual names of a capacity column (compared case-insensitively).
CAPACITY_COLUMNS: tuple[str, ...] = ("capacity", "beds", "places", "容量", "床位", "床位数")

#: Columns holding a candidate's (or site's) coordinates as the user gave them, GCJ-02 or BD-09.
ORIGINAL_COORDS: tuple[str, ...] = ("lon_gcj02", "lat_gcj02", "lon_bd09", "lat_bd09")


def _renamed_keyword(func: str, old: str, old_value: Any, new: str, new_value: Any) -> Any:
    """The value of keyword ``new``, taking the deprecated ``old`` one (with a DeprecationWarning)."""
    if old_value is None:
        return new_value
    if new_value is not None:
        raise InputError(f"{func}: pass {new}= only ({old}= is its deprecated old name), not both")
    warnings.warn(f"{func}({old}=...) is deprecated; use {new}=... (the same value)", DeprecationWarning,
                  stacklevel=3)
    return old_value


def _empty_candidates() -> gpd.GeoDataFrame:
    import geopandas as gpd

    return gpd.GeoDataFrame({c: [] for c in CANDIDATE_COLUMNS[:-1]}, geometry=[], crs="EPSG:4326")


def _valid_categories_text() -> str:
    return "; ".join(f"{c} ({d})" for c, d in CATEGORY_DESCRIPTIONS.items())


def load_candidates(
    path: str | Path,
    *,
    candidates_crs: str | None = None,
    lon_column: str | None = None,
    lat_column: str | None = None,
    category_column: str | None = None,
    name_column: str | None = None,
    id_column: str | None = None,
    capacity_column: str | None = None,
    category: str | None = None,
    sheet: str | int | None = None,
    crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Read proposed sites from a CSV/TSV, Excel, GeoJSON, GeoPackage or Shapefile.

    Read once with the shared reader (:mod:`circles._tables`) and classified
    like facilities, so the same columns, encodings and coordinate systems
    work: a location (lon/lat columns or point geometry), a category (our ids
    such as ``elderly_care`` or labels such as ``养老院``/``hospital``), and
    optionally a name, an id and a capacity.

    Parameters
    ----------
    path : str or path-like
    candidates_crs : {"wgs84", "gcj02", "bd09"}, optional
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
    crs : str, optional
        Deprecated old name of ``candidates_crs`` (warns; removed in the next release).

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
        valid categories listed), bad or missing coordinates, missing
        ``candidates_crs``, unknown sheet.
    """
    import geopandas as gpd

    from circles import _tables
    from circles.facilities import _classify_points, read_points

    candidates_crs = _renamed_keyword("load_candidates", "crs", crs, "candidates_crs", candidates_crs)
    path = Path(path).expanduser()
    if category is not None and category not in CATEGORIES:
        raise InputError(f"category={category!r} (CLI --candidates-category) is not a category id; expected "
                         f"one of {', '.join(CATEGORIES)}")
    pts = read_points(path, crs=candidates_crs, lon_column=lon_column, lat_column=lat_column, sheet=sheet,
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
    capacity = _read_capacity(raw, capacity_column, path)
    cand_id = _candidate_ids(fac, path)
    coords = [c for c in fac.columns if c in ("lon", "lat") + ORIGINAL_COORDS]
    out = gpd.GeoDataFrame({
        "candidate_id": cand_id,
        "category": fac["category"].astype(object).to_numpy(),
        "name": fac["name"].astype(object).to_numpy(),
        "capacity": capacity[pos] if len(pos) else np.zeros(0),
        "source": fac["source"].astype(object).to_numpy(),
        **{c: fac[c].to_numpy(float) for c in coords},
    }, geometry=fac.geometry.to_numpy(), crs="EPSG:4326")
    return check_candidates(out, source=str(path))


def _read_capacity(raw: pd.DataFrame, capacity_column: str | None, path: Path) -> np.ndarray:
    """Capacity per input row (NaN = unlimited), from the given or the usual capacity column."""
    from circles import _tables

    cap_col = _tables.find_column(raw, capacity_column, CAPACITY_COLUMNS, what="capacity",
                                  option="capacity_column", source=str(path))
    if cap_col is None:
        return np.full(len(raw), np.nan)
    values = _tables.numbers(raw[cap_col])
    bad = np.flatnonzero((raw[cap_col].notna().to_numpy() & np.isnan(values)) | (values < 0))
    if bad.size:
        raise InputError(
            f"{path}: capacity column {cap_col!r} must hold numbers >= 0 (population a site can serve); "
            f"rows {', '.join(str(i + 1) for i in bad[:10])} do not; fix them or leave them empty (unlimited)")
    return values


def _candidate_ids(fac: pd.DataFrame, path: Path) -> np.ndarray:
    """The user's ids, unchanged (``:<category>`` only for a row in several categories), or
    ``<file stem>-0001`` … by row when the file has no id column.
    """
    if fac.attrs.get("id_column") is not None:
        return fac["facility_id"].astype(str).to_numpy(object)
    per_feature = fac.groupby("feature_id")["category"].transform("size").to_numpy()
    base = [f"{path.stem}-{int(f):04d}" for f in fac["feature_id"]]
    return np.array([f"{b}:{c}" if k > 1 else b for b, c, k in zip(base, fac["category"], per_feature)],
                    dtype=object)


def carry_coords(table: pd.DataFrame, rows: pd.DataFrame, index: np.ndarray | None = None) -> pd.DataFrame:
    """Insert the as-given coordinate columns of ``rows`` (if any) after ``lat`` in ``table``.

    Internal (score and selection tables keep the user's GCJ-02/BD-09 numbers beside WGS84).

    Parameters
    ----------
    table : DataFrame
        Has a ``lat`` column; changed in place.
    rows : DataFrame
        Rows with any of :data:`ORIGINAL_COORDS`.
    index : numpy.ndarray, optional
        Positions of ``rows`` that make ``table``'s rows (default: all, in order).

    Returns
    -------
    DataFrame
        ``table``.
    """
    at = table.columns.get_loc("lat") + 1
    for col in [c for c in ORIGINAL_COORDS if c in rows.columns]:
        values = rows[col].to_numpy(float)
        table.insert(at, col, values if index is None else values[index])
        at += 1
    return table


def check_candidates(candidates: Any, *, source: str = "candidates") -> gpd.GeoDataFrame:
    """Validate a candidate frame; returns it in EPSG:4326 with every column present.

    Internal (scoring, selection and :mod:`circles.scoring.distributed` call it on whatever
    frame they are given).  ``lon``/``lat`` are (re)computed from the geometry (WGS84);
    columns ``lon_gcj02``/``lat_gcj02``/``lon_bd09``/``lat_bd09`` are kept as given.

    Parameters
    ----------
    candidates : geopandas.GeoDataFrame
        Point geometry with a CRS and a ``category`` column at least.
    source : str
        Names the frame in messages.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`CANDIDATE_COLUMNS` (missing ids numbered ``cand-0001`` …), index reset.

    Raises
    ------
    InputError
        Not a GeoDataFrame, no CRS, no ``category``, duplicate ids, unknown categories,
        empty or non-point geometry.
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
    result: Any,
    *,
    categories: Sequence[str] | str | None = None,
    spacing_m: float = 250.0,
    statuses: Sequence[str] = ("uncovered", "partial", "no_data"),
    largest_component: bool = True,
    candidates_crs: str | None = None,
    crs: str | None = None,
) -> gpd.GeoDataFrame:
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
    candidates_crs : {"wgs84", "gcj02", "bd09"}, optional
        Also give the sites' coordinates in this system (``lon_gcj02``/
        ``lat_gcj02`` or ``lon_bd09``/``lat_bd09``, converted from WGS84) for
        pasting into Amap/Baidu.  Default: the system the run's facilities
        were given in, if GCJ-02 or BD-09 (CLI ``--candidates-crs``).
    crs : str, optional
        Deprecated old name of ``candidates_crs`` (warns; removed in the next release).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`CANDIDATE_COLUMNS` (``lon``/``lat`` WGS84), ids ``gen-<category>-0001`` …,
        numbered south to north then west to east; name
        ``"生成候选点 12 / generated site 12"`` (the id's number), followed by
        the street's name in brackets when the network keeps street names
        (an ``edge_name`` array on the :class:`~circles.network.Network`).
    """
    import geopandas as gpd

    from circles import _tables

    candidates_crs = _renamed_keyword("generate_candidates", "crs", crs, "candidates_crs", candidates_crs)
    kind = _tables.crs_name(candidates_crs)
    categories = _categories_to_generate(result.policy, categories)
    if not (isinstance(spacing_m, (int, float)) and spacing_m > 0):
        raise InputError(f"generate_candidates: spacing_m must be metres > 0, got {spacing_m!r}")
    units = result.units.to_crs("EPSG:4326")
    frames = []
    for cat in categories:
        found = _generated_sites(result, units, cat, statuses=statuses, spacing_m=spacing_m,
                                 largest_component=largest_component)
        if found is not None:
            frames.append(found)
    if not frames:
        return _empty_candidates()
    out = check_candidates(gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                                            crs="EPSG:4326"), source="generated candidates")
    if kind is None:  # the system the user's facilities came in
        fac = result.facilities
        kind = next((k for k in ("gcj02", "bd09") if f"lon_{k}" in fac and fac[f"lon_{k}"].notna().any()), None)
    if kind in ("gcj02", "bd09"):
        _add_coords_in(out, kind)
    return out


def _categories_to_generate(policy: Any, categories: Sequence[str] | str | None) -> list[str]:
    """The categories asked for (default: every one the policy's circles require), checked."""
    required = [c for c in CATEGORIES if any(c in r.categories for circ in policy.circles for r in circ.requirements)]
    if categories is None:
        return required
    categories = [categories] if isinstance(categories, str) else list(categories)
    unknown = [c for c in categories if c not in CATEGORIES]
    if unknown:
        raise InputError(f"generate_candidates: unknown categories {unknown}; expected some of {', '.join(CATEGORIES)}")
    unused = [c for c in categories if c not in required]
    if unused:
        raise InputError(f"generate_candidates: no circle of policy {policy.id!r} needs {unused}; "
                         f"categories it needs: {', '.join(required)}")
    return categories


def _generated_sites(result: Any, units: gpd.GeoDataFrame, cat: str, *, statuses: Sequence[str],
                     spacing_m: float, largest_component: bool) -> gpd.GeoDataFrame | None:
    """The generated sites of one category (None when no unit asks for one or no node is left)."""
    import geopandas as gpd
    import shapely

    circles = [c for c in result.policy.circles if any(cat in r.categories for r in c.requirements)]
    net = result.networks["drive" if any(c.mode == "drive" for c in circles) else "walk"]
    needy = np.zeros(len(units), dtype=bool)
    for c in circles:
        col = f"{c.id}_status"
        if col in units:
            needy |= units[col].isin(list(statuses)).to_numpy()
    if not needy.any():
        return None
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
        return None
    chosen = _thin_to_grid(nodes, net.x[nodes], net.y[nodes], spacing_m)
    streets = _street_names(net, chosen)
    return gpd.GeoDataFrame({
        "candidate_id": [f"gen-{cat}-{i + 1:04d}" for i in range(chosen.size)],
        "category": cat,
        "name": [f"生成候选点 {i + 1} / generated site {i + 1}" + (f" ({street})" if street else "")
                 for i, street in enumerate(streets)],
        "capacity": np.nan,
        "source": "generated",
    }, geometry=gpd.points_from_xy(net.lon[chosen], net.lat[chosen]), crs="EPSG:4326")


def _add_coords_in(out: pd.DataFrame, kind: str) -> None:
    """Insert ``lon_<kind>``/``lat_<kind>`` (GCJ-02 or BD-09, converted from WGS84) after ``lat``."""
    from circles.coords import wgs84_to_bd09, wgs84_to_gcj02

    lon, lat = (wgs84_to_gcj02 if kind == "gcj02" else wgs84_to_bd09)(out["lon"].to_numpy(float),
                                                                      out["lat"].to_numpy(float))
    at = out.columns.get_loc("lat") + 1
    out.insert(at, f"lon_{kind}", np.asarray(lon, float))
    out.insert(at + 1, f"lat_{kind}", np.asarray(lat, float))


def _thin_to_grid(nodes: np.ndarray, x: np.ndarray, y: np.ndarray, spacing_m: float) -> np.ndarray:
    """One node per ``spacing_m`` grid square (nearest the square's centre, ties by node),
    ordered south to north then west to east.
    """
    ix, iy = np.floor(x / spacing_m).astype(np.int64), np.floor(y / spacing_m).astype(np.int64)
    d2 = (x - (ix + 0.5) * spacing_m) ** 2 + (y - (iy + 0.5) * spacing_m) ** 2
    order = np.lexsort((nodes, d2, ix, iy))
    first = np.ones(order.size, dtype=bool)
    first[1:] = (ix[order][1:] != ix[order][:-1]) | (iy[order][1:] != iy[order][:-1])
    return nodes[order[first]]


def _street_names(net, nodes: np.ndarray) -> list[str]:
    """Name of a street at each node (the first named edge leaving it), "" when none —
    only when the network keeps OSM street names (``net.edge_name``); never guessed.
    """
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

