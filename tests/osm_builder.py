"""Write tiny OSM XML files for tests: nodes on a metric grid near Wuhan."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

from pyproj import Transformer

ORIGIN_X, ORIGIN_Y = 260_000.0, 3_375_000.0  # UTM 50N, Optics Valley
_to_wgs84 = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)


def lonlat(x_m: float, y_m: float) -> tuple[float, float]:
    """WGS84 of a point ``x_m``/``y_m`` metres east/north of the test origin."""
    return _to_wgs84.transform(ORIGIN_X + x_m, ORIGIN_Y + y_m)


def write_osm(path: Path, nodes: dict[int, tuple[float, float]], ways: list[tuple[int, list[int], dict]],
              tagged_nodes: dict[int, dict] | None = None) -> Path:
    """``nodes``: id -> (x_m, y_m) offsets; ``ways``: (id, node refs, tags)."""
    tagged_nodes = tagged_nodes or {}
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="circles-tests">']
    for nid, (x, y) in nodes.items():
        lon, lat = lonlat(x, y)
        tags = tagged_nodes.get(nid)
        if tags:
            lines.append(f'  <node id="{nid}" lat="{lat:.9f}" lon="{lon:.9f}">')
            lines += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
            lines.append("  </node>")
        else:
            lines.append(f'  <node id="{nid}" lat="{lat:.9f}" lon="{lon:.9f}"/>')
    for wid, refs, tags in ways:
        lines.append(f'  <way id="{wid}">')
        lines += [f'    <nd ref="{r}"/>' for r in refs]
        lines += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
