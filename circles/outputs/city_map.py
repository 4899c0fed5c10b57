"""City-scale coverage maps: units drawn as images, their details looked up on click.

A coverage map of a few thousand units draws each unit as a GeoJSON polygon
(:mod:`circles.outputs.coverage_map`).  A whole city — 140k cells of 250 m for
Wuhan, times five circles — would be hundreds of megabytes of GeoJSON that no
browser opens.  Above :data:`CITY_UNITS` polygon units (a district or more) the map switches to:

* **one status image per circle**: a palette PNG on a Web Mercator pixel grid
  (so Leaflet places it exactly: it stretches image overlays linearly in
  Mercator), each pixel coloured by the status of the unit under its centre,
  ``no data`` striped like the hatching of the small maps.  Only the circle
  shown is decoded by the browser (Leaflet adds an overlay's ``<img>`` when the
  layer is switched on);
* **one index image** shared by every circle: the same pixel grid with the
  unit number (plus one; 0 = no unit) in the red, green and blue bytes.  A
  click reads that pixel from a canvas (drawn once, on the first click) and
  the page builds the popup from a **compact per-unit table**: statuses as one
  character per unit, minutes in tenths, shares in per mille, distinct
  districts and "missing" texts stored once and referenced by number.

The pixel size follows the units: about :data:`PX_PER_CELL` pixels across a
unit of median size, at most :data:`MAX_SIDE_PX` pixels on the long side.
Street backdrops and isochrones are not drawn at city scale (millions of
segments); the legend says so and ``coverage.gpkg`` holds the isochrones.
"""

from __future__ import annotations

import base64
import io
import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from circles.outputs import mapui, webmap
from circles.outputs.maptext import (
    TEXT,
    category_label,
    circle_label,
    district_words,
    rule_text,
    translate_missing,
    unit_labels,
)
from circles.outputs.palette import STATUS_COLOURS, STATUS_LABELS, STATUSES

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

__all__ = ["CITY_UNITS", "MAX_SIDE_PX", "PX_PER_CELL", "PixelGrid", "CityUnits", "use_images", "city_units"]

#: Above this many polygon units a coverage map draws images instead of GeoJSON polygons: a district
#: of 250 m cells (Hongshan: ~9,000) took ~25 s to write as polygons, a whole city would not finish.
CITY_UNITS: int = 5_000
#: Longest side of the images, pixels (a 3,000 px canvas decodes in ~0.1 s).
MAX_SIDE_PX: int = 3_000
#: Pixels across a unit of median size, when :data:`MAX_SIDE_PX` allows.
PX_PER_CELL: float = 4.0
#: Opacity of the status colours (the polygons of the small maps use 0.55).
FILL_ALPHA: int = 150
#: Width of the ``no data`` stripes, pixels (every other band).
STRIPE_PX: int = 3

_STATUS_CODE = {s: str(i) for i, s in enumerate(STATUSES)}


def use_images(units: gpd.GeoDataFrame) -> bool:
    """True when a coverage map of ``units`` should draw images (many polygon units).

    >>> import geopandas as gpd, shapely
    >>> use_images(gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)] * 3, crs=4326))
    False
    """
    if len(units) <= CITY_UNITS:
        return False
    kinds = set(units.geom_type.dropna().unique())
    return bool(kinds) and kinds <= {"Polygon", "MultiPolygon"}


@dataclass(frozen=True)
class PixelGrid:
    """A north-up raster in Web Mercator (EPSG:3857): top-left corner and pixel size in metres."""

    left: float
    top: float
    px: float
    width: int
    height: int

    @classmethod
    def covering(cls, bounds: tuple[float, float, float, float], cell_m: float, *,
                 max_side: int = MAX_SIDE_PX, px_per_cell: float = PX_PER_CELL) -> PixelGrid:
        """The grid over Mercator ``bounds`` with about ``px_per_cell`` pixels per ``cell_m``.

        >>> g = PixelGrid.covering((0.0, 0.0, 1000.0, 500.0), 100.0)
        >>> (g.width, g.height, g.px)
        (40, 20, 25.0)
        >>> PixelGrid.covering((0.0, 0.0, 1e6, 1e5), 100.0, max_side=1000).width
        1000
        """
        x0, y0, x1, y1 = (float(v) for v in bounds)
        span = max(x1 - x0, y1 - y0, 1e-9)
        px = max(cell_m / px_per_cell, span / max_side)
        return cls(x0, y1, px, max(1, math.ceil((x1 - x0) / px)), max(1, math.ceil((y1 - y0) / px)))

    def transform(self) -> Any:
        """The affine transform of the grid (rasterio convention)."""
        from rasterio.transform import from_origin

        return from_origin(self.left, self.top, self.px, self.px)

    def latlon_bounds(self) -> list[list[float]]:
        """``[[south, west], [north, east]]`` of the grid, for Leaflet."""
        from pyproj import Transformer

        to_ll = Transformer.from_crs(3857, 4326, always_xy=True)
        west, north = to_ll.transform(self.left, self.top)
        east, south = to_ll.transform(self.left + self.width * self.px, self.top - self.height * self.px)
        return [[float(south), float(west)], [float(north), float(east)]]


def unit_raster(units: gpd.GeoDataFrame) -> tuple[PixelGrid, np.ndarray]:
    """Burn the units into a Mercator pixel grid: unit position + 1 per pixel (0 = none).

    A pixel takes the unit under its centre, so neighbouring units never overlap.
    """
    from rasterio.features import rasterize

    merc = units.geometry.to_crs(3857)
    areas = merc.area.to_numpy()
    cell_m = float(np.sqrt(np.median(areas[areas > 0]))) if (areas > 0).any() else 250.0
    grid = PixelGrid.covering(tuple(merc.total_bounds), cell_m)
    values = np.arange(1, len(merc) + 1, dtype=np.uint32)
    keep = ~(merc.is_empty | merc.isna()).to_numpy()
    raster = rasterize(zip(_geojson_shapes(merc.to_numpy()[keep]), values[keep].tolist()),
                       out_shape=(grid.height, grid.width), transform=grid.transform(), fill=0, dtype="uint32",
                       all_touched=False)
    return grid, raster


def _geojson_shapes(geoms: np.ndarray) -> list[Any]:
    """GeoJSON-like mappings for rasterio, built in bulk for simple polygons (grid cells).

    ``__geo_interface__`` costs ~0.1 ms per polygon in Python; a city grid has 140k.
    Polygons without holes get their rings from one vectorised call; others use
    ``__geo_interface__``.
    """
    import shapely

    simple = (shapely.get_type_id(geoms) == 3) & (shapely.get_num_interior_rings(geoms) == 0)
    out: list[Any] = list(geoms)
    if simple.any():
        rings = shapely.get_exterior_ring(geoms[simple])
        coords, which = shapely.get_coordinates(rings, return_index=True)
        cuts = np.flatnonzero(np.diff(which)) + 1
        for pos, part in zip(np.flatnonzero(simple), np.split(coords, cuts)):
            out[pos] = {"type": "Polygon", "coordinates": [part.tolist()]}
    return out


def _png(image: Any) -> str:
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False, compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def index_png(raster: np.ndarray) -> str:
    """The unit numbers of ``raster`` as an RGB PNG data URI (24 bits: up to 16.7M units).

    >>> uri = index_png(np.array([[0, 1], [256, 65536]], dtype=np.uint32))
    >>> uri.startswith("data:image/png;base64,")
    True
    """
    from PIL import Image

    rgb = np.empty(raster.shape + (3,), dtype=np.uint8)
    rgb[..., 0] = (raster >> 16) & 0xFF
    rgb[..., 1] = (raster >> 8) & 0xFF
    rgb[..., 2] = raster & 0xFF
    return _png(Image.fromarray(rgb, "RGB"))


def status_png(raster: np.ndarray, status_codes: np.ndarray) -> str:
    """One circle's statuses on the pixel grid as a palette PNG data URI.

    ``status_codes[i]`` is the position in :data:`~circles.outputs.palette.STATUSES`
    of unit ``i``.  ``no_data`` is striped (grey and white bands), pixels without a
    unit are transparent.
    """
    from PIL import Image, ImageColor

    n = len(STATUSES)
    codes = np.concatenate([[n], np.asarray(status_codes, dtype=np.uint8)])  # slot 0: no unit
    img = codes[raster]
    no_data = STATUSES.index("no_data")
    rows, cols = np.ogrid[:raster.shape[0], :raster.shape[1]]  # row and column numbers, broadcastable
    stripe = ((rows + cols) // STRIPE_PX) % 2 == 0
    img = np.where((img == no_data) & stripe, n + 1, img).astype(np.uint8)
    palette: list[int] = []
    alpha: list[int] = []
    for s in STATUSES:
        palette += ImageColor.getrgb(STATUS_COLOURS[s])[:3]
        alpha.append(FILL_ALPHA if s != "no_data" else 200)
    palette += [0, 0, 0] + [255, 255, 255]  # transparent slot, white stripe
    alpha += [0, 200]
    image = Image.fromarray(img, "P")
    image.putpalette(palette)
    image.info["transparency"] = bytes(alpha)
    return _png(image)


def _tenths(values: Any) -> list[int]:
    """Minutes as whole tenths (``-1`` for none): compact in JSON, exact to the 0.1 min shown."""
    v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    out = np.where(np.isfinite(v), np.round(v * 10.0), -1.0)
    return out.astype(np.int64).tolist()


def _lookup(values: Any) -> tuple[list[str], list[int]]:
    """Distinct strings once, and each value's position among them."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object).fillna(""), sort=False)
    return [str(u) for u in uniques], codes.tolist()


@dataclass
class CityUnits:
    """What a city map needs of its units: the pixel grid, the index raster and the lookup table."""

    grid: PixelGrid
    raster: np.ndarray
    table: dict

    def status_image(self, circle_id: str) -> str:
        """The status PNG data URI of one circle."""
        codes = np.frombuffer(self.table["circles"][circle_id]["status"].encode("ascii"), dtype=np.uint8) - 48
        return status_png(self.raster, codes)


def _circle_columns(frame: pd.DataFrame, result: Any, circle: Any, lang: str, no_data: bool) -> dict:
    cid = circle.id
    status = frame.get(f"{cid}_status", pd.Series(None, index=frame.index)).astype(object)
    status = status.where(status.notna(), "empty")
    if no_data:
        status = pd.Series("no_data", index=frame.index, dtype=object)
    share = pd.to_numeric(frame.get(f"{cid}_covered_share", pd.Series(np.nan, index=frame.index)), errors="coerce")
    raw_missing, missing = _lookup(frame.get(f"{cid}_missing", pd.Series("", index=frame.index)))
    missing_words = [translate_missing(v, lang) for v in raw_missing]  # each distinct text once
    cats = [c for c in circle.categories if f"{cid}_{c}_minutes" in frame]
    t = TEXT[lang]
    return {
        "name": circle_label(circle, lang),
        "rule": rule_text(circle, lang, getattr(result, "policy", None)),
        "no_data": bool(no_data),
        "pop": "population_65plus" if getattr(circle, "population", "all") == "65plus" else "population",
        "status": "".join(_STATUS_CODE.get(str(s), _STATUS_CODE["empty"]) for s in status),
        "share": np.where(np.isfinite(share), np.round(share * 1000), -1).astype(np.int64).tolist(),
        "minutes": _tenths(frame.get(f"{cid}_minutes", np.nan)),
        "limit": _tenths(frame.get(f"{cid}_threshold_min", np.nan)),
        "missing_words": missing_words,
        "missing": missing,
        "categories": [f"{t['to']}{category_label(c, lang)} ({t['min']})" if lang == "zh"
                       else f"{t['min']} {t['to']} {category_label(c, lang)}" for c in cats],
        "category_minutes": [_tenths(frame[f"{cid}_{c}_minutes"]) for c in cats],
    }


def city_units(result: Any, circles: list, lang: str, no_data: dict[str, bool]) -> CityUnits:
    """Rasterise ``result.units`` and build the click lookup of every circle in ``circles``."""
    units = result.units
    grid, raster = unit_raster(units)
    frame = pd.DataFrame(units.drop(columns=units.geometry.name))
    labels, codes = unit_labels(frame)
    words, district_codes = _lookup(district_words(frame, lang))
    table = {
        "label": labels,
        "code": codes,
        "district_words": words,
        "district": district_codes,
        "population": np.round(pd.to_numeric(frame.get("population", np.nan), errors="coerce")
                               .fillna(-1).to_numpy()).astype(np.int64).tolist(),
        "population_65plus": np.round(pd.to_numeric(frame.get("population_65plus", pd.Series(np.nan, index=frame.index)),
                                                    errors="coerce").fillna(-1).to_numpy()).astype(np.int64).tolist(),
        "circles": {c.id: _circle_columns(frame, result, c, lang, no_data[c.id]) for c in circles},
        "status_words": [STATUS_LABELS[lang][s] for s in STATUSES],
    }
    return CityUnits(grid, raster, table)


def add_status_layer(group: Any, city: CityUnits, circle_id: str) -> None:
    """Add one circle's status image to its (base layer) feature group."""
    import folium

    folium.raster_layers.ImageOverlay(
        image=city.status_image(circle_id), bounds=city.grid.latlon_bounds(), opacity=1.0,
        interactive=False, cross_origin=False, zindex=1, pixelated=True,
        name=f"circles-status-{circle_id}", control=False,
    ).add_to(group)


def city_note(lang: str) -> str:
    """The legend note of a city map: what is drawn as an image and what is left out."""
    if lang == "zh":
        return "全市尺度：单元以图像绘制，点击单元查看详情；街道与等时圈未绘制（见 coverage.gpkg）。"
    return ("City scale: units are drawn as an image, click one for its details; streets and isochrones "
            "are not drawn (see coverage.gpkg).")


def add_click_lookup(m: Any, city: CityUnits, circle_ids: list[str], lang: str) -> None:
    """The index image, the per-unit table and the click handler that opens a unit's popup."""
    t = TEXT[lang]
    labels = {
        "unit_id": t["unit_id"], "district": t["district"], "status": t["status"], "share": t["share"],
        "population": t["population"], "population_65plus": t["population_65plus"], "minutes": t["minutes"],
        "threshold": t["threshold"], "missing": t["missing"], "rule": t["rule"], "no_data": t["no_data"],
    }
    data = {"bounds": city.grid.latlon_bounds(), "width": city.grid.width, "height": city.grid.height,
            "order": circle_ids, "words": labels, **city.table}
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    index_uri = index_png(city.raster)
    webmap.add_script(m, _CLICK_JS.replace("__DATA__", payload).replace("__INDEX__", json.dumps(index_uri)))


# The page side.  Mercator y of a latitude, the pixel under it, the unit in the
# index image, then the popup rows (escaped: names come from users' files).
_CLICK_JS = r"""
var cityData = __DATA__;
var cityIndex = null, cityIndexUri = __INDEX__;
function cityEsc(s) { return String(s).replace(/[&<>"']/g, function (c) {
    return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]; }); }
function cityLoadIndex(done) {
    if (cityIndex) { done(); return; }
    var img = new Image();
    img.onload = function () {
        var c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
        var g = c.getContext('2d', {willReadFrequently: true}); g.drawImage(img, 0, 0);
        cityIndex = g.getImageData(0, 0, img.width, img.height).data; done();
    };
    img.src = cityIndexUri;
}
function cityMercY(lat) { var s = Math.sin(lat * Math.PI / 180); return 0.5 * Math.log((1 + s) / (1 - s)); }
function cityUnitAt(latlng) {
    var b = cityData.bounds, west = b[0][1], east = b[1][1];
    var fx = (latlng.lng - west) / (east - west);
    var top = cityMercY(b[1][0]), bottom = cityMercY(b[0][0]);
    var fy = (top - cityMercY(latlng.lat)) / (top - bottom);
    var x = Math.floor(fx * cityData.width), y = Math.floor(fy * cityData.height);
    if (x < 0 || y < 0 || x >= cityData.width || y >= cityData.height) return -1;
    var k = 4 * (y * cityData.width + x);
    return (cityIndex[k] << 16 | cityIndex[k + 1] << 8 | cityIndex[k + 2]) - 1;
}
function cityFmt(v, scale, digits) { return v < 0 ? '' : (v / scale).toFixed(digits); }
function cityPopup(i, cid) {
    var w = cityData.words, c = cityData.circles[cid], rows = [];
    function row(k, v) { if (String(v).trim() !== '') rows.push(cityEsc(k) + ': ' + cityEsc(v)); }
    row(w.unit_id, cityData.code[i]);
    row(w.district, cityData.district_words[cityData.district[i]]);
    row(w.status, cityData.status_words[+c.status[i]]);
    row(w.share, c.no_data ? w.no_data : (c.share[i] < 0 ? '' : Math.round(c.share[i] / 10) + '%'));
    var pop = cityData[c.pop][i];
    row(c.pop === 'population' ? w.population : w.population_65plus, pop < 0 ? '' : pop.toLocaleString('en-US'));
    row(w.minutes, cityFmt(c.minutes[i], 10, 1));
    row(w.threshold, cityFmt(c.limit[i], 10, 1));
    c.categories.forEach(function (name, j) { var v = c.category_minutes[j][i];
        row(name, v < 0 ? (c.no_data ? w.no_data : '—') : (v / 10).toFixed(1)); });
    row(w.missing, c.missing_words[c.missing[i]]);
    row(w.rule, c.rule);
    return '<div class="circles-unit">' + ['<b>' + cityEsc(cityData.label[i]) + '</b>'].concat(rows).join('<br>') + '</div>';
}
map.on('click', function (e) {
    var active = map.getContainer().getAttribute('data-circles-active');
    if (active === null || active === '') return;
    var cid = cityData.order[+active];
    cityLoadIndex(function () {
        var i = cityUnitAt(e.latlng);
        if (i < 0) return;
        L.popup({maxWidth: 380, className: 'circles-popup'}).setLatLng(e.latlng).setContent(cityPopup(i, cid)).openOn(map);
    });
});
"""


def legend_rows(status_codes: str, lang: str) -> list[str]:
    """Legend swatches of the statuses present in one circle's status string."""
    return mapui.status_swatches((STATUSES[int(ch)] for ch in set(status_codes)), lang)
