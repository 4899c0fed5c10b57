"""Reading OpenStreetMap files into plain tables (private).

Every reader returns the same :class:`OsmTables`:

* ``nodes``: DataFrame ``id, lon, lat`` of every node a way segment uses;
* ``segments``: DataFrame, one row per consecutive node pair of a way, with
  ``u, v`` (OSM node ids), ``way_id`` and the tags the mode filters need;
* ``features``: GeoDataFrame of tagged objects that may be facilities or
  neighbourhoods (``feature_id, name, tags (dict), geometry`` in EPSG:4326).

The network module filters segments by mode and builds arrays from them;
the facilities module classifies features.  Neither sees a file format.
"""

from __future__ import annotations

import json
import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from circles.errors import InputError, InputFileNotFoundError, NoDataError

log = logging.getLogger(__name__)

#: Way tags kept on segments (what the walk/drive filters and speeds read).
SEGMENT_TAGS = (
    "highway", "area", "access", "foot", "service", "motor_vehicle", "motorcar",
    "oneway", "junction", "maxspeed", "name",
)
#: Keys that make an object a candidate facility or neighbourhood feature.
FEATURE_KEYS = (
    "amenity", "shop", "leisure", "tourism", "healthcare", "social_facility",
    "emergency", "place", "landuse", "sport", "office",
)

SUFFIXES = (".osm", ".xml", ".osm.pbf", ".pbf", ".graphml", ".shp", ".gpkg", ".geojson")


def file_kind(path: Path) -> str:
    """``"xml"``, ``"pbf"``, ``"graphml"`` or ``"lines"`` (a road line layer) from a file name;
    InputError otherwise.
    """
    from circles._lines import LINE_SUFFIXES

    name = path.name.lower()
    if name.endswith(LINE_SUFFIXES):
        return "lines"
    if name.endswith((".osm.pbf", ".pbf")):
        return "pbf"
    if name.endswith((".osm", ".xml", ".osm.xml")):
        return "xml"
    if name.endswith(".graphml"):
        return "graphml"
    raise InputError(
        f"{path}: unknown network file type {path.suffix!r}; expected one of "
        f"{', '.join(SUFFIXES)} (OSM XML, OSM PBF, osmnx GraphML, or a road line layer as "
        f"Shapefile, GeoPackage or GeoJSON)"
    )


def check_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputFileNotFoundError(
            f"{path}: file not found (resolved to {path.resolve()}); check the path, "
            f"or download an extract (e.g. from OpenStreetMap) first"
        )
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected an OSM file ({', '.join(SUFFIXES)})")
    if path.stat().st_size == 0:
        raise NoDataError(f"{path}: file is empty; expected OSM data")
    return path


@dataclass
class OsmTables:
    nodes: pd.DataFrame
    segments: pd.DataFrame
    features: object  # GeoDataFrame (imported lazily)
    #: (west, south, east, north) the extract declares (XML <bounds>), if any
    bounds: tuple[float, float, float, float] | None = None
    #: reader's counts worth reporting (copied into ``Network.report``)
    report: dict = field(default_factory=dict)


def features_frame(rows: list[dict]):
    import geopandas as gpd

    if not rows:
        return gpd.GeoDataFrame(
            {"feature_id": [], "name": [], "tags": []}, geometry=[], crs="EPSG:4326"
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


#: Keys of things that are never facilities even when named (stops, roads, places).
NOT_FEATURE_KEYS = ("highway", "public_transport", "railway", "place", "route", "traffic_sign", "barrier")


def _is_named_candidate(tags: dict) -> bool:
    """A named node with no tags that rule it out: may be a facility by its name
    (common in China, where 幼儿园 or 卫生服务站 nodes often carry only a name).
    """
    return "name" in tags and not any(k in tags for k in NOT_FEATURE_KEYS)


def _is_feature(tags: dict) -> bool:
    return any(k in tags for k in FEATURE_KEYS) or (
        tags.get("highway") == "pedestrian" and tags.get("area") == "yes"
    )


# --------------------------------------------------------------------- XML

@dataclass
class _XmlElements:
    """What the streaming pass over an OSM XML file collects (ids, coordinates, tags, member refs)."""

    node_ids: list[int] = field(default_factory=list)
    node_lon: list[float] = field(default_factory=list)
    node_lat: list[float] = field(default_factory=list)
    tagged_nodes: list[tuple[int, dict]] = field(default_factory=list)
    ways: list[tuple[int, list[int], dict]] = field(default_factory=list)
    relations: list[tuple[int, list[int], dict]] = field(default_factory=list)
    saw_root: bool = False
    bounds: tuple[float, float, float, float] | None = None
    tags: dict = field(default_factory=dict)  # of the node/way/relation being read
    refs: list[int] = field(default_factory=list)  # its node refs (ways) or way members (relations)

    def start(self, tag: str) -> None:
        if tag == "osm":
            self.saw_root = True
        elif tag in ("node", "way", "relation"):
            self.tags, self.refs = {}, []

    def end(self, tag: str, elem: ET.Element) -> None:
        if tag in ("node", "way", "relation"):
            self._end_element(tag, elem)
            elem.clear()
        elif tag == "bounds":
            w, s, e, n = (float(elem.get(k)) for k in ("minlon", "minlat", "maxlon", "maxlat"))  # type: ignore[arg-type]
            self.bounds = (w, s, e, n)
        elif tag == "tag":
            self.tags[elem.get("k")] = elem.get("v")
        elif tag == "nd" or (tag == "member" and elem.get("type") == "way"):
            self.refs.append(int(elem.get("ref")))  # type: ignore[arg-type]

    def _end_element(self, tag: str, elem: ET.Element) -> None:
        if tag == "node":
            if elem.get("action") != "delete" and elem.get("lat") is not None:
                nid = int(elem.get("id"))  # type: ignore[arg-type]
                self.node_ids.append(nid)
                self.node_lon.append(float(elem.get("lon")))  # type: ignore[arg-type]
                self.node_lat.append(float(elem.get("lat")))  # type: ignore[arg-type]
                if self.tags:
                    self.tagged_nodes.append((nid, self.tags))
        elif tag == "way":
            if elem.get("action") != "delete":
                self.ways.append((int(elem.get("id")), self.refs, self.tags))  # type: ignore[arg-type]
        elif self.tags:  # relation
            self.relations.append((int(elem.get("id")), self.refs, self.tags))  # type: ignore[arg-type]


def _parse_xml(path: Path) -> _XmlElements:
    """One streaming pass over the file (:class:`InputError` for invalid XML or a bad id/coordinate)."""
    elements = _XmlElements()
    try:
        for event, elem in ET.iterparse(path, events=("start", "end")):
            if event == "start":
                elements.start(elem.tag)
            else:
                elements.end(elem.tag, elem)
    except ET.ParseError as exc:
        line = getattr(exc, "position", (None,))[0]
        raise InputError(
            f"{path}: not valid OSM XML (line {line}: {exc.msg if hasattr(exc, 'msg') else exc}); "
            f"the file may be truncated or corrupt — download it again or export it with osmium"
        ) from None
    except (TypeError, ValueError) as exc:
        raise InputError(f"{path}: OSM XML has an element with a missing or bad id/ref/coordinate ({exc})") from None
    if not elements.saw_root:
        raise InputError(f"{path}: not an OSM XML file (no <osm> root element)")
    return elements


def _xml_segments(ways: list[tuple[int, list[int], dict]]) -> pd.DataFrame:
    """One row per segment of every highway way: ``u``, ``v``, ``way_id`` and :data:`SEGMENT_TAGS`."""
    seg_cols: dict[str, list] = {"u": [], "v": [], "way_id": []}
    tag_cols: dict[str, list] = {k: [] for k in SEGMENT_TAGS}
    for wid, refs, tags in ways:
        if "highway" not in tags or len(refs) < 2:
            continue
        n = len(refs) - 1
        seg_cols["u"].extend(refs[:-1])
        seg_cols["v"].extend(refs[1:])
        seg_cols["way_id"].extend([wid] * n)
        for k in SEGMENT_TAGS:
            tag_cols[k].extend([tags.get(k)] * n)
    segments = pd.DataFrame({**seg_cols, **tag_cols})
    return segments.astype({"u": np.int64, "v": np.int64, "way_id": np.int64})


def _xml_features(elements: _XmlElements, coord: dict) -> list[dict]:
    """Feature rows: tagged nodes, closed ways (polygons; other ways their centroid) and
    multipolygon relations (the convex hull of their member ways).
    """
    from shapely.geometry import MultiPoint, Point, Polygon
    from shapely.geometry.base import BaseGeometry

    feature_rows: list[dict] = []
    for nid, tags in elements.tagged_nodes:
        if _is_feature(tags) or _is_named_candidate(tags):
            lon, lat = coord[nid]
            feature_rows.append({"feature_id": f"n{nid}", "name": tags.get("name"), "tags": tags,
                                 "geometry": Point(lon, lat)})
    way_coords: dict[int, list[tuple[float, float]]] = {}
    geom: BaseGeometry
    for wid, refs, tags in elements.ways:
        pts = [coord[r] for r in refs if r in coord]
        way_coords[wid] = pts
        if not _is_feature(tags) or len(pts) < 1:
            continue
        if len(pts) >= 4 and refs[0] == refs[-1]:
            geom = Polygon(pts)
            if not geom.is_valid:
                geom = geom.buffer(0)
        else:
            geom = MultiPoint(pts).centroid if len(pts) > 1 else Point(pts[0])
        feature_rows.append({"feature_id": f"w{wid}", "name": tags.get("name"), "tags": tags, "geometry": geom})
    for rid, member_ways, tags in elements.relations:
        if not _is_feature(tags):
            continue
        pts = [p for w in member_ways for p in way_coords.get(w, [])]
        if len(pts) >= 3:
            geom = MultiPoint(pts).convex_hull
        elif pts:
            geom = Point(pts[0])
        else:
            continue  # members outside the extract: nothing to place
        feature_rows.append({"feature_id": f"r{rid}", "name": tags.get("name"), "tags": tags, "geometry": geom})
    return feature_rows


def read_xml(path: Path) -> OsmTables:
    """Parse OSM XML (0.6) with a streaming parser.

    Parameters
    ----------
    path : Path
        An ``.osm`` / ``.osm.xml`` file.

    Returns
    -------
    OsmTables
        Nodes, highway segments with their tags, features and the declared bounds.
    """
    elements = _parse_xml(path)
    nodes = pd.DataFrame({"id": np.array(elements.node_ids, dtype=np.int64), "lon": elements.node_lon,
                          "lat": elements.node_lat})
    nodes = nodes.drop_duplicates("id", keep="last")
    coord = dict(zip(nodes["id"].to_numpy(), zip(nodes["lon"].to_numpy(), nodes["lat"].to_numpy())))
    return OsmTables(nodes=nodes, segments=_xml_segments(elements.ways),
                     features=features_frame(_xml_features(elements, coord)), bounds=elements.bounds)


# --------------------------------------------------------------------- PBF

def _row_tags(row: pd.Series, columns: list[str]) -> dict:
    tags: dict = {}
    extra = row.get("tags")
    if isinstance(extra, str) and extra:
        try:
            tags.update(json.loads(extra))
        except ValueError:
            pass
    elif isinstance(extra, dict):
        tags.update(extra)
    for c in columns:
        value = row.get(c)
        if isinstance(value, str) and value:
            tags[c] = value
    return tags


def read_pbf(path: Path) -> OsmTables:
    """Read an OSM PBF with pyrosm (network segments and tagged features)."""
    try:
        import pyrosm
    except ImportError as exc:  # pragma: no cover - dependency is declared
        raise InputError("reading .osm.pbf files needs the 'pyrosm' package: pip install pyrosm") from exc
    try:
        osm = pyrosm.OSM(str(path))
        result = osm.get_network(network_type="all", nodes=True)
    except Exception as exc:  # pyrosm raises a variety of low-level errors on bad files
        raise InputError(
            f"{path}: could not read OSM PBF ({type(exc).__name__}: {exc}); the file may be "
            f"truncated or corrupt — download it again, or check it with `osmium fileinfo`"
        ) from None
    if result is None or result[1] is None or len(result[1]) == 0:
        nodes = pd.DataFrame({"id": np.array([], dtype=np.int64), "lon": [], "lat": []})
        segments = pd.DataFrame({"u": [], "v": [], "way_id": [], **{k: [] for k in SEGMENT_TAGS}})
    else:
        node_gdf, edge_gdf = result
        nodes = pd.DataFrame({"id": node_gdf["id"].astype(np.int64).to_numpy(),
                              "lon": node_gdf["lon"].to_numpy(float), "lat": node_gdf["lat"].to_numpy(float)})
        extra = edge_gdf["tags"] if "tags" in edge_gdf else pd.Series([None] * len(edge_gdf))
        cols = {"u": edge_gdf["u"].astype(np.int64).to_numpy(), "v": edge_gdf["v"].astype(np.int64).to_numpy(),
                "way_id": edge_gdf["id"].astype(np.int64).to_numpy()}
        json_tags = None
        for k in SEGMENT_TAGS:
            if k in edge_gdf:
                cols[k] = edge_gdf[k].where(edge_gdf[k].notna(), None).to_numpy(object)
            else:  # tag not promoted to a column by pyrosm: look in the JSON tags
                json_tags = json_tags if json_tags is not None else _parsed_tags(extra)
                codes, parsed = json_tags
                cols[k] = np.array([p.get(k) for p in parsed] + [None], dtype=object)[codes]
        segments = pd.DataFrame(cols)
    features = _pbf_features(osm, path)
    return OsmTables(nodes=nodes, segments=segments, features=features)


def _parsed_tags(texts: pd.Series) -> tuple[np.ndarray, list[dict]]:
    """Pyrosm's JSON ``tags`` of each segment, parsed once per distinct text (a way's segments share it).

    Returns the code of each segment (-1: no tags) and the parsed tags per code.
    """
    codes, uniques = pd.factorize(texts, use_na_sentinel=True)
    parsed = []
    for text in uniques:
        try:
            tags = json.loads(text) if isinstance(text, str) else {}
        except ValueError:
            tags = {}
        parsed.append(tags if isinstance(tags, dict) else {})
    return codes, parsed


def _pbf_features(osm, path: Path):
    custom: dict[str, bool | list[str]] = {k: True for k in FEATURE_KEYS}
    custom["highway"] = ["pedestrian"]  # pedestrian squares (area=yes) are public spaces
    try:
        gdf = osm.get_pois(custom_filter=custom)
    except Exception as exc:
        raise InputError(f"{path}: could not read points of interest ({type(exc).__name__}: {exc})") from None
    if gdf is None or len(gdf) == 0:
        return features_frame([])
    columns = [c for c in gdf.columns if c not in ("geometry", "tags", "id", "osm_type", "timestamp",
                                                    "version", "changeset", "visible", "lon", "lat")]
    prefix = {"node": "n", "way": "w", "relation": "r"}
    rows = []
    for rec in gdf.to_dict("records"):
        tags = _row_tags(pd.Series(rec), columns)
        rows.append({"feature_id": f"{prefix.get(rec.get('osm_type'), 'x')}{int(rec['id'])}",
                     "name": tags.get("name"), "tags": tags, "geometry": rec["geometry"]})
    out = features_frame(rows)
    keep = out.geometry.notna() & ~out.geometry.is_empty & out["tags"].map(_is_feature).astype(bool)
    return out[keep].reset_index(drop=True)


# ----------------------------------------------------------------- GraphML

def read_graphml(path: Path) -> tuple[OsmTables, bool]:
    """Read an osmnx GraphML file; returns tables and whether edges are already directed per mode."""
    import networkx as nx

    try:
        import osmnx as ox

        graph = ox.load_graphml(path)
    except (ET.ParseError, nx.NetworkXError, KeyError, ValueError, TypeError) as exc:
        raise InputError(
            f"{path}: could not read GraphML ({type(exc).__name__}: {exc}); expected a file "
            f"written by osmnx.save_graphml or circles.fetch_network"
        ) from None
    ids = np.fromiter(graph.nodes, dtype=np.int64, count=graph.number_of_nodes())
    lon = np.array([graph.nodes[n].get("x", np.nan) for n in graph.nodes], dtype=float)
    lat = np.array([graph.nodes[n].get("y", np.nan) for n in graph.nodes], dtype=float)
    nodes = pd.DataFrame({"id": ids, "lon": lon, "lat": lat})
    rows: dict[str, list] = {"u": [], "v": [], "way_id": [], "length_m": [], **{k: [] for k in SEGMENT_TAGS}}
    for u, v, data in graph.edges(data=True):
        rows["u"].append(u)
        rows["v"].append(v)
        osmid = data.get("osmid", -1)
        rows["way_id"].append(int(osmid[0] if isinstance(osmid, list) else osmid))
        rows["length_m"].append(float(data.get("length", np.nan)))
        for k in SEGMENT_TAGS:
            value = data.get(k)
            if isinstance(value, list):  # osmnx merges tags of simplified edges into lists
                value = value[0]
            if isinstance(value, bool):
                value = "yes" if value else "no"
            rows[k].append(None if value is None else str(value))
    segments = pd.DataFrame(rows).astype({"u": np.int64, "v": np.int64, "way_id": np.int64})
    return OsmTables(nodes=nodes, segments=segments, features=features_frame([])), graph.is_directed()


def read(path: str | Path, **line_options) -> tuple[OsmTables, bool]:
    """Read any supported file; the bool says if edges are already directed (GraphML).

    ``line_options`` (``layer``, ``crs``, ``oneway_column``, ``speed_column``,
    ``class_column``) apply to road line layers only; None values are ignored.
    """
    path = check_file(path)
    kind = file_kind(path)
    given = {k: v for k, v in line_options.items() if v is not None}
    if kind == "lines":
        from circles._lines import read_lines

        return read_lines(path, **given), False
    if given:
        flags = ", ".join(f"{k}= (CLI --{'network-' + k if k in ('layer', 'crs') else k.replace('_', '-')})"
                          for k in given)
        raise InputError(f"{path}: {flags} apply to road line layers (.shp, .gpkg, .geojson) only; "
                         f"an OSM file has its own tags — leave them out")
    if kind == "graphml":
        return read_graphml(path)
    if kind == "pbf":
        return read_pbf(path), False
    return read_xml(path), False
