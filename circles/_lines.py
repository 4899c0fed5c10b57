"""Reading a road line layer (Shapefile, GeoPackage, GeoJSON) into plain tables (private).

A planning bureau's own road centre lines become the same :class:`~circles._osm.OsmTables`
the OSM readers produce, so :func:`circles.network.build_network` builds the
network (mode filters, one-way streets, speeds, long-segment nodes, CSR) with
no second graph builder:

* every vertex becomes a node; vertices closer than ``SNAP_TOLERANCE_M`` (1 cm,
  measured in the local UTM zone) are one node, so lines that share a vertex
  are joined there and lines that only cross (a bridge) are not;
* every pair of consecutive vertices becomes a segment carrying its line's
  attributes, mapped to OSM-style tags: ``highway`` from a class column
  (OSM values, Chinese classes such as 快速路/主干路/次干路/支路, or a few
  English terms), ``oneway`` (``yes`` / ``-1`` / ``no``) and ``maxspeed`` (km/h).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from circles.errors import InputError, NoDataError

log = logging.getLogger(__name__)

#: File name endings read as line layers.
LINE_SUFFIXES: tuple[str, ...] = (".shp", ".gpkg", ".geojson", ".json")
#: Vertices closer than this (metres, local UTM zone) are the same node.
SNAP_TOLERANCE_M: float = 0.01

#: Usual column names (compared case-insensitively after trimming), in priority order.
ONEWAY_COLUMNS: tuple[str, ...] = ("oneway", "one_way", "单行", "单向", "单行道", "是否单行", "单向通行")
SPEED_COLUMNS: tuple[str, ...] = ("maxspeed", "max_speed", "speed", "speed_kph", "speed_kmh", "速度", "限速",
                                  "设计速度", "设计时速", "车速")
CLASS_COLUMNS: tuple[str, ...] = ("highway", "fclass", "class", "road_class", "roadclass", "等级", "道路等级",
                                  "道路类别", "道路类型", "道路分类")
NAME_COLUMNS: tuple[str, ...] = ("name", "名称", "道路名称", "路名", "道路名")

#: One-way values: forward (along the line's drawing direction), backward, both ways.
ONEWAY_FORWARD: frozenset[str] = frozenset({"yes", "y", "true", "t", "1", "1.0", "ft", "forward", "是", "单行",
                                            "单向", "正向", "顺向"})
ONEWAY_BACKWARD: frozenset[str] = frozenset({"-1", "-1.0", "tf", "reverse", "backward", "反向", "逆向"})
ONEWAY_BOTH: frozenset[str] = frozenset({"", "no", "n", "false", "f", "0", "0.0", "b", "both", "none", "nan",
                                         "否", "双向", "双行", "无"})

#: OSM ``highway`` values accepted as they are in a class column.
OSM_CLASSES: frozenset[str] = frozenset({
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link", "secondary",
    "secondary_link", "tertiary", "tertiary_link", "unclassified", "residential", "living_street",
    "service", "road", "track", "pedestrian", "footway", "path", "steps", "cycleway", "bridleway",
})
#: Other class names → an OSM ``highway`` value (whose walk filter and speed
#: then apply; STANDARDS §3).  China's urban road classes (CJJ 37):
#: 快速路 main carriageways admit no pedestrians, so they count as motorway
#: (60 km/h, not walkable); 主干路 primary (40), 次干路 secondary (35),
#: 支路 tertiary (30).
CLASS_ALIASES: dict[str, str] = {
    "高速公路": "motorway", "高速": "motorway", "快速路": "motorway", "城市快速路": "motorway",
    "快速干道": "motorway", "匝道": "motorway_link", "国道": "trunk", "主干路": "primary",
    "主干道": "primary", "城市主干路": "primary", "主要干道": "primary", "省道": "primary",
    "次干路": "secondary", "次干道": "secondary", "城市次干路": "secondary", "县道": "secondary",
    "辅路": "secondary", "支路": "tertiary", "城市支路": "tertiary", "乡道": "tertiary",
    "村道": "unclassified", "街巷": "residential", "巷道": "residential", "小区路": "residential",
    "小区道路": "residential", "街坊路": "residential", "内部道路": "service", "步行街": "pedestrian",
    "步行道": "footway", "人行道": "footway", "绿道": "footway", "健身步道": "footway",
    "自行车道": "cycleway", "非机动车道": "cycleway",
    "expressway": "motorway", "freeway": "motorway", "highway": "motorway", "arterial": "primary",
    "major arterial": "primary", "minor arterial": "secondary", "collector": "secondary",
    "local": "residential", "local road": "residential", "street": "residential",
}
#: Class given to lines whose class is missing or not recognised (walk and
#: drive both allowed, the fallback speed).
UNKNOWN_CLASS = "road"


def _find_column(columns: list[str], wanted: str | None, usual: tuple[str, ...], option: str, source: str):
    if wanted is not None:
        for c in columns:
            if c == wanted or str(c).strip().lower() == wanted.strip().lower():
                return c
        raise InputError(f"{source}: {option} {wanted!r} is not a column of the layer; its columns are: "
                         f"{', '.join(map(str, columns)) or '(none)'}")
    lower: dict[str, str] = {}
    for c in columns:
        lower.setdefault(str(c).strip().lower(), c)
    return next((lower[n] for n in usual if n in lower), None)


def _pick_layer(path: Path, layer: str | None) -> str | None:
    """The layer to read: ``layer`` if given (must exist), the only one, or the only line layer."""
    import pyogrio

    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:
        raise InputError(f"{path}: could not open the road layer ({type(exc).__name__}: {exc}); expected a "
                         f"Shapefile, GeoPackage or GeoJSON file of road centre lines") from None
    names = [str(n) for n, _ in layers]
    listing = ", ".join(f"{n} ({t or 'no geometry'})" for n, t in layers)
    if layer is not None:
        if layer not in names:
            raise InputError(f"{path}: has no layer {layer!r}; its layers are: {listing}. "
                             f"Name one with layer= (CLI --network-layer)")
        return layer
    if len(names) <= 1:
        return names[0] if names else None
    lines = [str(n) for n, t in layers if t and "LINESTRING" in str(t).upper()]
    if len(lines) == 1:
        log.info("%s: reading its only line layer %r", path, lines[0])
        return lines[0]
    raise InputError(f"{path}: has {len(names)} layers ({listing}); say which holds the roads with "
                     f"layer= (CLI --network-layer NAME)")


def _shapefile_encoding(path: Path, gdf) -> str | None:
    """The encoding of a Shapefile's text when it has no ``.cpg`` and GDAL fell back to
    Latin-1 (Chinese GBK or UTF-8 text then reads as ``µÀÂ·``); None when it reads fine.
    """
    if path.suffix.lower() != ".shp" or any(path.with_suffix(s).exists() for s in (".cpg", ".CPG")):
        return None
    texts = [str(c) for c in gdf.columns] + [v for c in gdf.columns if gdf[c].dtype == object or
                                             str(gdf[c].dtype) in ("str", "string")
                                             for v in gdf[c].dropna().astype(str).head(200)]
    suspect = [t for t in texts if any("\x80" <= ch <= "\xff" for ch in t) and all(ch <= "\xff" for ch in t)]
    if not suspect:
        return None
    for encoding in ("utf-8", "gb18030"):
        try:
            for t in suspect:
                t.encode("latin-1").decode(encoding)
            return encoding
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return None


def _read_layer(path: Path, layer: str | None, crs):
    import geopandas as gpd

    layer = _pick_layer(path, layer)
    options = {"layer": layer} if layer is not None else {}
    try:
        gdf = gpd.read_file(path, **options)
        encoding = _shapefile_encoding(path, gdf)
        if encoding:
            log.info("%s: no .cpg file; its text is read as %s", path, encoding)
            gdf = gpd.read_file(path, encoding=encoding, **options)
    except Exception as exc:
        raise InputError(f"{path}: could not read the road layer ({type(exc).__name__}: {exc})") from None
    what = f"{path}" + (f" (layer {layer!r})" if layer is not None and path.suffix.lower() == ".gpkg" else "")
    if len(gdf) == 0:
        raise NoDataError(f"{what}: the layer is empty; expected road centre lines (LineString features)")
    if crs is not None:
        try:
            gdf = gdf.set_crs(crs, allow_override=True)
        except Exception as exc:
            raise InputError(f"{what}: crs {crs!r} (CLI --network-crs) is not a coordinate reference system "
                             f"pyproj knows ({exc}); use an EPSG code such as EPSG:4490 or EPSG:4547") from None
    elif gdf.crs is None:
        raise InputError(
            f"{what}: the layer has no coordinate reference system (a Shapefile without its .prj file?). Say "
            f"which it is with crs= (CLI --network-crs), e.g. EPSG:4490 for CGCS2000 longitude/latitude or "
            f"EPSG:4547 for CGCS2000 / 3-degree Gauss-Kruger CM 114E, or set it once with "
            f"`ogr2ogr -a_srs EPSG:4490 fixed.gpkg {path.name}` (QGIS: Layer ▸ Set CRS)")
    return gdf, what


def _line_parts(gdf, what: str, report: dict):
    """Single LineStrings (MultiLineStrings exploded) and the row each came from."""
    import shapely

    geom = gdf.geometry.to_numpy()
    missing = shapely.is_missing(geom) | shapely.is_empty(geom)
    types = pd.Series(shapely.get_type_id(geom))
    is_line = types.isin([1, 2, 5]).to_numpy() & ~missing  # LineString, LinearRing, MultiLineString
    if not is_line.any():
        found = pd.Series(gdf.geometry.geom_type).fillna("no geometry").value_counts().to_dict()
        raise InputError(f"{what}: has no line features (found {', '.join(f'{n} {t}' for t, n in found.items())}); "
                         f"a road network must be a layer of road centre lines (LineString/MultiLineString)")
    skipped = int((~is_line).sum())
    if skipped:
        log.warning("%s: %d feature(s) are not lines (points, polygons or empty) and are left out", what, skipped)
    report["features_not_lines"] = skipped
    rows = np.flatnonzero(is_line)
    parts, part_row = shapely.get_parts(geom[rows], return_index=True)
    report["multilinestring_features_exploded"] = int((types.to_numpy()[rows] == 5).sum())
    return parts, rows[part_row]


def _nodes_from_vertices(x: np.ndarray, y: np.ndarray, tolerance_m: float) -> np.ndarray:
    """A node label per vertex: vertices within ``tolerance_m`` of each other (transitively) share one."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    grid = np.round(np.column_stack([x, y]) / (tolerance_m / 10.0)).astype(np.int64)
    _, first, inverse = np.unique(grid, axis=0, return_index=True, return_inverse=True)
    ux, uy = x[first], y[first]
    pairs = cKDTree(np.column_stack([ux, uy])).query_pairs(r=tolerance_m, output_type="ndarray")
    n = ux.size
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    return label[inverse.ravel()]


def _text(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), "").astype(str).str.strip()


def _oneway(values: pd.Series, what: str, column: str) -> np.ndarray:
    """OSM-style oneway strings (``yes`` / ``-1`` / ``no``) from a user's column."""
    text = _text(values).str.lower()
    fwd, bwd, both = text.isin(ONEWAY_FORWARD), text.isin(ONEWAY_BACKWARD), text.isin(ONEWAY_BOTH)
    unknown = sorted(set(text[~(fwd | bwd | both)]))
    if unknown:
        raise InputError(
            f"{what}: one-way column {column!r} has value(s) {unknown[:8]} that are not understood; expected "
            f"yes/1/true/是/单行 (one way along the line's direction), -1/reverse/反向 (against it) or "
            f"no/0/false/否/双向/empty (both ways). Recode them, or name another column with oneway_column= "
            f"(CLI --oneway-column)")
    return np.where(fwd, "yes", np.where(bwd, "-1", "no")).astype(object)


def _classes(values: pd.Series, report: dict) -> np.ndarray:
    """OSM ``highway`` values from a class column (unknown → ``road``, counted)."""
    text = _text(values)
    lower = text.str.lower()
    mapped = lower.where(lower.isin(OSM_CLASSES), None)
    alias = text.map(CLASS_ALIASES).fillna(lower.map(CLASS_ALIASES))
    mapped = mapped.fillna(alias)
    unknown = mapped.isna()
    if unknown.any():
        counts = text[unknown].replace("", "(empty)").value_counts()
        report["classes_unrecognised"] = {str(k): int(v) for k, v in counts.head(20).items()}
        log.warning("%d line(s) have a class circles does not know (%s); they count as ordinary roads "
                    "(walkable and drivable at %s)", int(unknown.sum()), ", ".join(map(str, counts.index[:5])),
                    "the fallback speed")
    return mapped.fillna(UNKNOWN_CLASS).to_numpy(object)


def line_attributes(gdf, what: str, *, oneway_column=None, speed_column=None, class_column=None,
                    report: dict) -> pd.DataFrame:
    """Per feature: OSM-style ``highway``, ``oneway``, ``maxspeed``, ``name`` from the layer's columns."""
    from circles.road_tags import parse_maxspeed

    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    one = _find_column(columns, oneway_column, ONEWAY_COLUMNS, "oneway_column (CLI --oneway-column)", what)
    spd = _find_column(columns, speed_column, SPEED_COLUMNS, "speed_column (CLI --speed-column)", what)
    cls = _find_column(columns, class_column, CLASS_COLUMNS, "class_column (CLI --class-column)", what)
    name = _find_column(columns, None, NAME_COLUMNS, "", what)
    report["columns_used"] = {"oneway": one, "speed": spd, "class": cls, "name": name}
    n = len(gdf)
    out = pd.DataFrame(index=range(n))
    out["highway"] = _classes(gdf[cls], report) if cls is not None else UNKNOWN_CLASS
    out["oneway"] = _oneway(gdf[one], what, one) if one is not None else "no"
    if spd is not None:
        kph = parse_maxspeed(_text(gdf[spd]).str.replace(r"\.0+$", "", regex=True))
        out["maxspeed"] = np.where(np.isfinite(kph), pd.Series(kph).map(lambda v: f"{v:g}"), None)
    else:
        out["maxspeed"] = None
    out["name"] = _text(gdf[name]).to_numpy(object) if name is not None else None
    if cls is None:
        log.warning("%s: no road class column (%s); every line is walkable and drivable at %s", what,
                    "/".join(CLASS_COLUMNS[:5]), "its speed column or the fallback speed")
    return out


def read_lines(path: Path, *, layer: str | None = None, crs=None, oneway_column: str | None = None,
               speed_column: str | None = None, class_column: str | None = None):
    """Read a road line layer into :class:`~circles._osm.OsmTables` (see the module docstring)."""
    import shapely
    from pyproj import Transformer

    from circles._osm import SEGMENT_TAGS, OsmTables, features_frame
    from circles.network import utm_crs

    gdf, what = _read_layer(path, layer, crs)
    report: dict = {"source_crs": gdf.crs.to_string(), "line_features": len(gdf)}
    attrs = line_attributes(gdf, what, oneway_column=oneway_column, speed_column=speed_column,
                            class_column=class_column, report=report)
    parts, part_row = _line_parts(gdf, what, report)
    xy, vertex_part = shapely.get_coordinates(parts, return_index=True)
    to_wgs84 = Transformer.from_crs(gdf.crs, "EPSG:4326", always_xy=True)
    lon, lat = (np.asarray(a, float) for a in to_wgs84.transform(xy[:, 0], xy[:, 1]))
    bad = ~(np.isfinite(lon) & np.isfinite(lat)) | (np.abs(lat) > 90) | (np.abs(lon) > 180)
    if bad.any():
        raise InputError(f"{what}: {int(bad.sum())} vertex/vertices are not valid coordinates in the layer's CRS "
                         f"{gdf.crs.to_string()} (e.g. x={xy[bad][0, 0]}, y={xy[bad][0, 1]}); the declared CRS is "
                         f"probably wrong — set the right one with crs= (CLI --network-crs)")
    metric = utm_crs(float(np.median(lon)), float(np.median(lat)))
    mx, my = Transformer.from_crs("EPSG:4326", metric, always_xy=True).transform(lon, lat)
    node = _nodes_from_vertices(np.asarray(mx, float), np.asarray(my, float), SNAP_TOLERANCE_M)
    same_part = vertex_part[1:] == vertex_part[:-1]
    u, v = node[:-1][same_part], node[1:][same_part]
    seg_row = part_row[vertex_part[:-1][same_part]]
    first = np.unique(node, return_index=True)[1]
    nodes = pd.DataFrame({"id": np.arange(1, first.size + 1, dtype=np.int64), "lon": lon[first], "lat": lat[first]})
    segments = pd.DataFrame({"u": u.astype(np.int64) + 1, "v": v.astype(np.int64) + 1,
                             "way_id": seg_row.astype(np.int64) + 1})
    for key in SEGMENT_TAGS:
        segments[key] = attrs[key].to_numpy(object)[seg_row] if key in attrs else None
    report.update({"vertices": int(node.size), "nodes_after_snapping": int(first.size),
                   "snap_tolerance_m": SNAP_TOLERANCE_M,
                   "speeds_from_column": int(pd.Series(attrs["maxspeed"]).notna().sum()),
                   "one_way_lines": int((attrs["oneway"] != "no").sum())})
    return OsmTables(nodes=nodes, segments=segments, features=features_frame([]), report=report)
