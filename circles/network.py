"""Road networks: one :class:`Network` type for walking and driving.

``load_network`` reads files (.osm XML, .osm.pbf, osmnx .graphml, or a road
line layer as .shp/.gpkg/.geojson in any CRS) and works offline;
``fetch_network`` (:mod:`circles.online`) downloads from OpenStreetMap
through osmnx.  Both end in :func:`build_network`, which filters ways by mode
(the tag rules of :mod:`circles.road_tags`), projects nodes to a local
UTM zone, numbers them in a spatial (Morton) order and builds CSR arrays
straight from edge arrays.  ``load_networks`` reads a file once for both
modes and its features (what :func:`circles.analyze` does).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike
from pyproj import CRS, Transformer

from circles import _osm, settings
from circles._graph_arrays import all_two_way, component_report, components, densify, renumber, spatial_order
from circles.coords import check_lonlat
from circles.engine import NodeIndex, Snap, build_csr, main_pieces
from circles.errors import InputError, NoDataError
from circles.online import fetch_network
from circles.road_tags import class_speed_kph, drive_mask, oneway_direction, parse_maxspeed, walk_mask

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger(__name__)

Mode = Literal["walk", "drive"]
MODES: tuple[Mode, ...] = ("walk", "drive")

__all__ = [
    "MODES", "Mode", "Network", "build_network", "densify", "drive_mask", "fetch_network", "load_features",
    "load_network", "load_networks", "oneway_direction", "parse_maxspeed", "snapping_assumption", "spatial_order",
    "utm_crs", "walk_mask",
]

# ------------------------------------------------------------------ network

def utm_crs(lon: float, lat: float) -> CRS:
    """The WGS84 UTM zone containing a point.

    Parameters
    ----------
    lon, lat : float
        The point, WGS84 degrees.

    Returns
    -------
    pyproj.CRS

    Examples
    --------
    >>> utm_crs(114.3, 30.6).to_epsg()  # Wuhan
    32650
    """
    zone = int(np.floor((lon + 180.0) / 6.0)) % 60 + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


@dataclass(frozen=True, eq=False)
class Network:
    """A street network for one mode, as compact arrays.

    Attributes
    ----------
    mode : {"walk", "drive"}
    crs : pyproj.CRS
        The local metric CRS of ``x``/``y`` (a UTM zone picked automatically).
    node_id : int64 array
        OSM node ids (negative for nodes added on long segments).  Nodes are
        numbered in a spatial order, not by id: look a node up by ``node_id``.
    lon, lat, x, y : float arrays
        Node coordinates in WGS84 and in ``crs`` (metres).
    edge_u, edge_v : int arrays
        Directed edges as node indices.  A two-way street appears twice;
        parallel edges are kept here (the CSR keeps their minimum).
    edge_length_m : float array
    edge_speed_kph : float array
        Driving speed per edge (NaN on walk networks).
    edge_highway : object array
        OSM ``highway`` class per edge.
    source : str
        Where the network came from (file path or query).
    report : dict
        Counts worth showing users: ways kept per class, dropped segments,
        components.
    """

    mode: str
    crs: CRS
    node_id: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    x: np.ndarray
    y: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length_m: np.ndarray
    edge_speed_kph: np.ndarray
    edge_highway: np.ndarray
    source: str = ""
    report: dict = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_id.size)

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return int(self.edge_u.size)

    def __repr__(self) -> str:
        return (f"Network(mode={self.mode!r}, nodes={self.n_nodes:,}, edges={self.n_edges:,}, "
                f"crs={self.crs.to_string()}, components={self.report.get('components')}, source={self.source!r})")

    def edge_seconds(self, speed_m_per_min: float | None = None) -> np.ndarray:
        """Travel seconds per edge.

        Parameters
        ----------
        speed_m_per_min : float, optional
            Walk networks: the walking speed (default
            :data:`circles.settings.WALK_SPEED_M_PER_MIN`).  Drive networks use
            each edge's speed and the argument must be ``None``.

        Returns
        -------
        ndarray
            Seconds per directed edge.
        """
        if self.mode == "drive":
            if speed_m_per_min is not None:
                raise InputError("a drive network uses per-edge speeds; do not pass speed_m_per_min")
            return self.edge_length_m / (self.edge_speed_kph / 3.6)
        speed = settings.WALK_SPEED_M_PER_MIN if speed_m_per_min is None else float(speed_m_per_min)
        if not speed > 0:
            raise InputError(f"speed_m_per_min must be > 0, got {speed_m_per_min!r}")
        return self.edge_length_m / (speed / 60.0)

    def access_speed_m_per_min(self, walk_speed_m_per_min: float | None = None) -> float:
        """Speed of the straight legs between a point and its snapped node.

        Parameters
        ----------
        walk_speed_m_per_min : float, optional
            Walking speed on walk networks (default 60 m/min); ignored on drive networks.

        Returns
        -------
        float
            m/min: the walking speed on walk networks,
            :data:`circles.settings.DRIVE_ACCESS_SPEED_M_PER_MIN` on drive networks.
        """
        if self.mode == "drive":
            return settings.DRIVE_ACCESS_SPEED_M_PER_MIN
        return settings.WALK_SPEED_M_PER_MIN if walk_speed_m_per_min is None else float(walk_speed_m_per_min)

    @cached_property
    def graph_m(self) -> sp.csr_matrix:
        """CSR of edge lengths in metres (minimum over parallel edges)."""
        return build_csr(self.edge_u, self.edge_v, self.edge_length_m, self.n_nodes)

    def graph_s(self, speed_m_per_min: float | None = None) -> sp.csr_matrix:
        """CSR of travel seconds; walk graphs at another speed are the length graph rescaled (cheap).

        Parameters
        ----------
        speed_m_per_min : float, optional
            As for :meth:`edge_seconds`.

        Returns
        -------
        scipy.sparse.csr_matrix
            ``n_nodes x n_nodes``, seconds per edge (minimum over parallel edges).
        """
        if self.mode == "walk":
            speed = settings.WALK_SPEED_M_PER_MIN if speed_m_per_min is None else float(speed_m_per_min)
            if not speed > 0:
                raise InputError(f"speed_m_per_min must be > 0, got {speed_m_per_min!r}")
            g = self.graph_m.copy()
            g.data = g.data / (speed / 60.0)
            return g
        return self._drive_graph_s

    @cached_property
    def _drive_graph_s(self) -> sp.csr_matrix:
        return build_csr(self.edge_u, self.edge_v, self.edge_seconds(), self.n_nodes)

    @cached_property
    def node_index(self) -> NodeIndex:
        """KD-tree for snapping, over the nodes of the main piece(s) only (:attr:`main_nodes`)."""
        return NodeIndex(self.x, self.y, keep=self.main_nodes)

    @cached_property
    def main_nodes(self) -> np.ndarray:
        """Nodes of the main piece(s), the only ones points snap to: the largest
        component plus any with at least ``settings.MAIN_PIECE_MIN_NODES`` nodes and
        ``settings.MAIN_PIECE_MIN_SHARE`` of all nodes (see :func:`circles.engine.main_pieces`).

        Components are those of :attr:`component`: weak on foot, strong by car (a
        one-way stub cut off at the edge of the download cannot be driven into or out
        of).  A drive network whose largest strong piece is itself smaller than
        ``MAIN_PIECE_MIN_NODES`` (a few one-way roads) uses weak pieces instead.
        """
        labels = self.component
        if self.mode == "drive" and np.count_nonzero(labels == 0) < settings.MAIN_PIECE_MIN_NODES:
            labels = components(self.graph_m, "weak")
        return main_pieces(labels)

    @cached_property
    def component(self) -> np.ndarray:
        """Component label per node (weak for walk, strong for drive); 0 = largest."""
        return components(self.graph_m, "weak" if self.mode == "walk" else "strong")

    def project(self, lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """WGS84 lon/lat → this network's metric CRS.

        Parameters
        ----------
        lon, lat : array_like
            WGS84 degrees.

        Returns
        -------
        x, y : ndarray
            Metres in :attr:`crs`.
        """
        tr = Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)
        x, y = tr.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def snap_lonlat(self, lon: ArrayLike, lat: ArrayLike, *, max_snap_m: float = settings.MAX_SNAP_M,
                    source: str = "points") -> Snap:
        """Snap WGS84 points to the nearest node of the main piece(s) (see :meth:`circles.engine.NodeIndex.snap`).

        Parameters
        ----------
        lon, lat : array_like
            WGS84 degrees.
        max_snap_m : float
            Points farther than this from every node are off the network.
        source : str
            What the points are, for error messages.

        Returns
        -------
        Snap
            Node, distance and off-network flag per point.

        Raises
        ------
        InputError
            Naming rows with missing coordinates or a latitude outside ±90
            (usually swapped lon/lat columns).
        """
        lon = np.asarray(lon, dtype=float).ravel()
        lat = np.asarray(lat, dtype=float).ravel()
        check_lonlat(lon, lat, source)
        x, y = self.project(lon, lat)
        return self.node_index.snap(x, y, max_snap_m=max_snap_m)

    def bounds(self) -> tuple[float, float, float, float]:
        """The nodes' extent.

        Returns
        -------
        tuple of float
            (west, south, east, north), WGS84 degrees.
        """
        return float(self.lon.min()), float(self.lat.min()), float(self.lon.max()), float(self.lat.max())

    def largest_component(self) -> Network:
        """A copy keeping only the largest component (weak for walk, strong for drive).

        Returns
        -------
        Network
        """
        keep = self.component == 0
        return _subset(self, keep)

    def to_networkx(self, speed_m_per_min: float | None = None) -> Any:
        """A NetworkX MultiDiGraph with ``length`` (m) and ``time_s`` per edge.

        For interchange and cross-checks only; never used for routing here.

        Parameters
        ----------
        speed_m_per_min : float, optional
            As for :meth:`edge_seconds`.

        Returns
        -------
        networkx.MultiDiGraph
            Nodes numbered as in this network.
        """
        import networkx as nx

        g = nx.MultiDiGraph(crs=self.crs.to_string(), mode=self.mode)
        g.add_nodes_from(range(self.n_nodes))
        seconds = self.edge_seconds(speed_m_per_min)
        g.add_edges_from(
            (int(u), int(v), {"length": float(length), "time_s": float(s)})
            for u, v, length, s in zip(self.edge_u, self.edge_v, self.edge_length_m, seconds)
        )
        return g

    def street_edges(self) -> np.ndarray:
        """The edges to draw: one per node pair (the reverse edge of a two-way street dropped), in edge order.

        Returns
        -------
        ndarray of int
            Positions into ``edge_u``/``edge_v``.
        """
        a = np.minimum(self.edge_u, self.edge_v)
        b = np.maximum(self.edge_u, self.edge_v)
        _, first = np.unique(np.column_stack([a, b]), axis=0, return_index=True)
        first.sort()
        return first

    def edges_gdf(self) -> gpd.GeoDataFrame:
        """Edges as straight segments, one per direction pair (reverse duplicates of two-way streets dropped).

        Returns
        -------
        GeoDataFrame
            ``u``, ``v``, ``highway``, ``length_m``, geometry (EPSG:4326).
        """
        import geopandas as gpd
        import shapely

        first = self.street_edges()
        u, v = self.edge_u[first], self.edge_v[first]
        coords = np.stack([np.column_stack([self.lon[u], self.lat[u]]),
                           np.column_stack([self.lon[v], self.lat[v]])], axis=1)
        return gpd.GeoDataFrame(
            {"u": u, "v": v, "highway": self.edge_highway[first], "length_m": self.edge_length_m[first]},
            geometry=shapely.linestrings(coords), crs="EPSG:4326",
        )


def snapping_assumption(snaps: dict[str, tuple[Snap, Snap]]) -> str:
    """The assumption line on snapping only to each network's main piece(s), with counts.

    Parameters
    ----------
    snaps : dict
        Mode -> its (demand points, facilities) :class:`~circles.engine.Snap`.

    Returns
    -------
    str
    """
    counts = "; ".join(f"{mode}: {points.n_past_small_piece:,} demand point(s), {fac.n_past_small_piece:,} "
                       f"facilit(ies)" for mode, (points, fac) in snaps.items())
    return (f"points snap only to a network's main piece(s) (largest component plus any of >= "
            f"{settings.MAIN_PIECE_MIN_NODES} nodes and >= {settings.MAIN_PIECE_MIN_SHARE:.0%} of nodes; weak on "
            f"foot, strong by car); points nearest a smaller detached piece, which reaches nothing, are joined to "
            f"the main network instead (off-network beyond the max snap) — snapped past a small piece: {counts}")


def _subset(net: Network, keep: np.ndarray) -> Network:
    new_index = np.full(net.n_nodes, -1, dtype=np.int64)
    new_index[keep] = np.arange(int(keep.sum()))
    ekeep = keep[net.edge_u] & keep[net.edge_v]
    u, v = new_index[net.edge_u[ekeep]], new_index[net.edge_v[ekeep]]
    report = dict(net.report)
    report["kept_largest_component_only"] = True
    report["nodes_dropped_outside_largest"] = int((~keep).sum())
    out = Network(
        mode=net.mode, crs=net.crs, node_id=net.node_id[keep], lon=net.lon[keep], lat=net.lat[keep],
        x=net.x[keep], y=net.y[keep], edge_u=u, edge_v=v, edge_length_m=net.edge_length_m[ekeep],
        edge_speed_kph=net.edge_speed_kph[ekeep], edge_highway=net.edge_highway[ekeep],
        source=net.source, report=report,
    )
    out.report.update(component_report(out.graph_m, out.mode))
    return out


def _usable_segments(tables: _osm.OsmTables, mode: str, source: str) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The segments ``mode`` may use whose two ends are in the file.

    Returns the segments, the nodes indexed by OSM id, and how many segments
    were dropped for a missing node (cut at the extract edge).
    """
    seg = tables.segments
    mask = walk_mask(seg) if mode == "walk" else drive_mask(seg)
    seg = seg.loc[mask].reset_index(drop=True)
    if seg.empty:
        raise NoDataError(
            f"{source}: no ways usable for mode={mode!r} "
            f"({len(tables.segments):,} highway segments in the file, none passes the {mode} filter); "
            f"check that the file covers streets and that the mode is right"
        )
    nodes = tables.nodes.drop_duplicates("id").set_index("id")
    known = seg["u"].isin(nodes.index) & seg["v"].isin(nodes.index)
    dropped_missing = int((~known).sum())
    if dropped_missing:
        log.warning("%s: %d segment(s) reference nodes missing from the file (cut at the extract edge); "
                    "they are left out", source, dropped_missing)
    seg = seg.loc[known].reset_index(drop=True)
    seg = seg.loc[seg["u"] != seg["v"]].reset_index(drop=True)
    if seg.empty:
        raise NoDataError(f"{source}: the {mode} ways reference no nodes present in the file")
    return seg, nodes, dropped_missing


def _directed_edges(u: np.ndarray, v: np.ndarray, direction: np.ndarray, *, mode: str, already_directed: bool,
                    source: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed edges ``(eu, ev)`` of the pieces ``u``-``v`` and the piece of each edge.

    Walking uses both directions; driving follows ``direction`` (+1 forward,
    -1 backward, 0 both), or the graph as given when ``already_directed``.
    """
    n_pieces = u.size
    if already_directed and mode == "drive":
        eu, ev, keep_idx = u, v, np.arange(n_pieces)
        if n_pieces >= 20 and all_two_way(u, v):
            log.warning("%s: every street is two-way in this graph, so one-way rules are probably lost (was it "
                        "saved from a walk graph?); ambulance times may be too short — use a drive graph, or "
                        "the .osm / .osm.pbf file", source)
    elif mode == "drive":
        fwd = np.flatnonzero(direction >= 0)
        bwd = np.flatnonzero(direction <= 0)
        eu = np.concatenate([u[fwd], v[bwd]])
        ev = np.concatenate([v[fwd], u[bwd]])
        keep_idx = np.concatenate([fwd, bwd])
    else:  # walking: both directions whatever the oneway tag says
        idx = np.arange(n_pieces)
        eu, ev, keep_idx = np.concatenate([u, v]), np.concatenate([v, u]), np.concatenate([idx, idx])
    return eu, ev, keep_idx


def build_network(
    tables: _osm.OsmTables,
    *,
    mode: Mode,
    source: str,
    already_directed: bool = False,
    largest_only: bool = False,
    node_order: Literal["spatial", "id"] = "spatial",
) -> Network:
    """Filter OSM segments for ``mode`` and build a :class:`Network`.

    ``already_directed`` is True for osmnx graphs, whose edges already follow
    one-way rules (and both directions of two-way streets).

    ``node_order``: ``"spatial"`` (default) numbers the nodes along a Morton
    curve (:func:`spatial_order`), so that neighbours in the street network are
    neighbours in memory: on a 1M-node network with scattered ids bounded
    searches run markedly faster (``benchmarks/bench_node_order.py``).
    ``"id"`` keeps them in OSM-id order (then the intermediate nodes of long
    segments).  Only the numbering differs; ``node_id`` always maps a node
    back to OSM.

    Parameters
    ----------
    tables : OsmTables
        What a reader of :mod:`circles._osm` returned.
    mode : {"walk", "drive"}
        The ways to keep and how to direct them.
    source : str
        The file (for the report and messages).
    already_directed : bool
        The edges already follow one-way rules (osmnx graphs).
    largest_only : bool
        Keep only the largest component.
    node_order : {"spatial", "id"}
        Node numbering (see above).

    Returns
    -------
    Network
    """
    if node_order not in ("spatial", "id"):
        raise InputError(f"node_order must be 'spatial' or 'id', got {node_order!r}")
    if mode not in MODES:
        raise InputError(f"mode must be one of {MODES}, got {mode!r}")
    seg, nodes, dropped_missing = _usable_segments(tables, mode, source)

    ids, inverse = np.unique(np.concatenate([seg["u"].to_numpy(), seg["v"].to_numpy()]), return_inverse=True)
    u = inverse[: len(seg)]
    v = inverse[len(seg):]
    lon = nodes.loc[ids, "lon"].to_numpy(float)
    lat = nodes.loc[ids, "lat"].to_numpy(float)
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    if bad.any():
        raise InputError(f"{source}: {int(bad.sum())} node(s) have no coordinates (e.g. OSM id {ids[bad][0]})")
    impossible = (np.abs(lat) > 90) | (np.abs(lon) > 180)
    if impossible.any():
        raise InputError(f"{source}: {int(impossible.sum())} node(s) have impossible coordinates (e.g. OSM node "
                         f"{ids[impossible][0]} at lon={lon[impossible][0]}, lat={lat[impossible][0]}); "
                         f"the file is corrupt or has lat/lon swapped — export it again")
    crs = utm_crs(float(np.median(lon)), float(np.median(lat)))
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    x, y = np.asarray(x, float), np.asarray(y, float)
    length = np.hypot(x[u] - x[v], y[u] - y[v])
    if "length_m" in seg and seg["length_m"].notna().all():
        length = seg["length_m"].to_numpy(float)  # osmnx lengths follow curved geometry
    highway = seg["highway"].fillna("").astype(str).to_numpy(object)
    if mode == "drive":
        speed = parse_maxspeed(seg["maxspeed"])
        speed = np.where(np.isfinite(speed), speed, class_speed_kph(seg["highway"]))
        direction = np.zeros(len(seg), np.int8) if already_directed else oneway_direction(seg)
    else:
        speed = np.full(len(seg), np.nan)
        direction = np.zeros(len(seg), np.int8)

    # long segments get intermediate nodes (negative ids); pieces inherit their segment's tags
    n_osm_nodes = ids.size
    u, v, length, piece_seg, new_x, new_y = densify(u, v, length, x, y, settings.MAX_SEGMENT_M)
    if new_x.size:
        new_lon, new_lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(new_x, new_y)
        x, y = np.concatenate([x, new_x]), np.concatenate([y, new_y])
        lon, lat = np.concatenate([lon, new_lon]), np.concatenate([lat, new_lat])
        ids = np.concatenate([ids, -np.arange(1, new_x.size + 1, dtype=np.int64)])
    highway, speed, direction = highway[piece_seg], speed[piece_seg], direction[piece_seg]
    eu, ev, keep_idx = _directed_edges(u, v, direction, mode=mode, already_directed=already_directed,
                                       source=source)
    if node_order == "spatial":
        ids, lon, lat, x, y, eu, ev = renumber(spatial_order(x, y), (ids, lon, lat, x, y), eu, ev)

    report = {
        "mode": mode,
        "segments_in_file": int(len(tables.segments)),
        "segments_used": int(len(seg)),
        "segments_missing_nodes": dropped_missing,
        "ways_used": int(seg["way_id"].nunique()),
        "ways_per_class": seg.drop_duplicates("way_id")["highway"].value_counts().to_dict(),
        "file_bounds": tables.bounds,
        "nodes_added_on_long_segments": int(ids.size - n_osm_nodes),
        **tables.report,
    }
    if mode == "drive":
        report["edges_with_maxspeed"] = int(np.isfinite(parse_maxspeed(seg["maxspeed"])).sum())
    net = Network(
        mode=mode, crs=crs, node_id=ids.astype(np.int64), lon=lon, lat=lat, x=x, y=y,
        edge_u=eu.astype(np.int64), edge_v=ev.astype(np.int64), edge_length_m=length[keep_idx],
        edge_speed_kph=speed[keep_idx], edge_highway=highway[keep_idx], source=source, report=report,
    )
    net.report.update(component_report(net.graph_m, mode))
    if net.report["components"] > 1:
        log.info("%s (%s): %d components; %d node(s) (%.1f%%) outside the largest", source, mode,
                 net.report["components"], net.report["nodes_outside_largest"],
                 100 * net.report["share_outside_largest"])
    return net.largest_component() if largest_only else net


def load_network(path: str | Path, *, mode: Mode = "walk", largest_only: bool = False, layer: str | None = None,
                 crs: str | CRS | None = None, oneway_column: str | None = None, speed_column: str | None = None,
                 class_column: str | None = None) -> Network:
    """Load a street network from a file, offline.

    Parameters
    ----------
    path : str or Path
        ``.osm`` / ``.osm.xml`` (OSM XML), ``.osm.pbf`` (read with pyrosm),
        ``.graphml`` (osmnx), or a road line layer: ``.shp``, ``.gpkg``,
        ``.geojson`` in any CRS (CGCS2000 EPSG:4490, EPSG:4547, UTM, WGS84 …).
        A line layer is split into segments at every vertex; lines sharing a
        vertex (within 1 cm) are joined there.
    mode : {"walk", "drive"}
        Walk: ways a pedestrian may use, both directions.  Drive: directed,
        honouring ``oneway``, speeds from ``maxspeed`` or the class table.
    largest_only : bool
        Keep only the largest connected part (weakly connected for walk,
        strongly for drive).  Otherwise every part is kept and reported in
        ``network.report``.
    layer : str, optional
        Line layers only: the layer of a multi-layer GeoPackage (CLI ``--network-layer``).
    crs : str or pyproj.CRS, optional
        Line layers only: the layer's CRS when the file declares none (CLI ``--network-crs``).
    oneway_column, speed_column, class_column : str, optional
        Line layers only: the columns holding one-way (``yes``/``1``/``-1``/``no``/是/否),
        speed (km/h) and road class (OSM ``highway`` values or 快速路/主干路/次干路/支路 …);
        by default found by their usual names (``oneway``/``单行``/``单向``,
        ``maxspeed``/``speed``/``限速``, ``highway``/``class``/``fclass``/``道路等级``).
        Without a class every line is walkable and drivable; without one-way
        every line is two-way.

    Returns
    -------
    Network
    """
    if mode not in MODES:
        raise InputError(f"mode must be one of {MODES}, got {mode!r}")
    tables, directed = _osm.read(path, layer=layer, crs=crs, oneway_column=oneway_column,
                                 speed_column=speed_column, class_column=class_column)
    return build_network(tables, mode=mode, source=str(path), already_directed=directed,
                         largest_only=largest_only)


def load_networks(path: str | Path, *, modes: tuple[str, ...] = MODES, largest_only: bool = False,
                  **line_options: Any) -> tuple[dict[str, Network], gpd.GeoDataFrame]:
    """Read a network file once: a :class:`Network` per mode and the file's features.

    :func:`circles.analyze` needs the walk and drive networks, the OSM
    facilities and (with ``units="osm"``) the residential areas of one file;
    parsing a city-size extract once instead of up to four times saves the
    largest part of its reading time.

    Parameters
    ----------
    path : str or Path
        Any file :func:`load_network` reads.
    modes : tuple of {"walk", "drive"}
        The networks to build from it.
    largest_only : bool
        As in :func:`load_network`.
    **line_options
        ``layer``, ``crs``, ``oneway_column``, ``speed_column``, ``class_column``
        for road line layers (see :func:`load_network`).

    Returns
    -------
    networks : dict
        ``{mode: Network}`` for each of ``modes``.
    features : GeoDataFrame
        As :func:`load_features` returns (empty for a road line layer or GraphML).
    """
    bad = [m for m in modes if m not in MODES]
    if bad:
        raise InputError(f"modes must be among {MODES}, got {bad}")
    tables, directed = _osm.read(path, **line_options)
    networks = {m: build_network(tables, mode=cast(Mode, m), source=str(path), already_directed=directed,
                                 largest_only=largest_only) for m in modes}
    return networks, tables.features


def load_features(path: str | Path) -> gpd.GeoDataFrame:
    """Tagged OSM objects (candidate facilities, residential areas) from an OSM file.

    Parameters
    ----------
    path : str or Path
        Any file :func:`load_network` reads.

    Returns
    -------
    GeoDataFrame
        ``feature_id, name, tags, geometry`` (EPSG:4326); empty for a road
        line layer (it holds roads only).
    """
    if _osm.file_kind(_osm.check_file(path)) == "lines":
        return _osm.features_frame([])
    tables, _ = _osm.read(path)
    return tables.features
