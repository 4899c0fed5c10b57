"""Online access to OpenStreetMap through osmnx: the only module that talks to the internet.

:func:`fetch_network` downloads the streets of an area (cached as GraphML and
read back by :func:`circles.network.load_network`; also importable as
``circles.network.fetch_network`` and ``circles.fetch_network``).
:func:`fetch_features` downloads the facilities of an area — the OSM tags of
the classification table (:func:`circles.classify.osm_query_tags`) for the
categories a policy needs — and caches them beside the network cache, so a
run with ``--place`` gets facilities as well as streets.  Offline every call
fails fast with :class:`~circles.errors.NetworkUnavailableError` and the same
advice as the network: load files instead.
"""

from __future__ import annotations

import hashlib
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from circles import settings
from circles.errors import InputError, NetworkUnavailableError, NoDataError

if TYPE_CHECKING:
    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry

    from circles.network import Mode, Network

log = logging.getLogger(__name__)


@contextmanager
def osmnx_settings() -> Iterator[Any]:
    """Osmnx configured for circles, for the duration of a ``with`` block.

    A short timeout, no rate-limit probe and no osmnx cache in the working
    folder; osmnx's global settings are restored afterwards, also when the
    block raises, so a session that uses osmnx itself is not changed.

    Yields
    ------
    module
        :mod:`osmnx`, configured.
    """
    import osmnx as ox

    saved = {k: getattr(ox.settings, k) for k in ("requests_timeout", "overpass_rate_limit", "log_console",
                                                   "use_cache")}
    ox.settings.requests_timeout = settings.REQUESTS_TIMEOUT_S
    ox.settings.overpass_rate_limit = False  # the rate-limit probe alone waits ~60 s offline
    ox.settings.log_console = False
    ox.settings.use_cache = False  # circles caches results itself (osmnx would write ./cache)
    try:
        yield ox
    finally:
        for key, value in saved.items():
            setattr(ox.settings, key, value)


def _offline_message(what: str, detail: str) -> str:
    return (
        f"No internet connection: could not reach {what} ({detail}). circles needs the internet only "
        f"to download OpenStreetMap data. Offline, load a file instead: "
        f"circles.load_network('area.osm.pbf', mode='walk') or `circles analyze --network area.osm.pbf` "
        f"(.osm, .osm.pbf and .graphml files and road line layers work), with facilities from a file "
        f"(`--facilities`)."
    )


def _check_reachable(url: str, timeout_s: float) -> None:
    """Fail fast if ``url``'s host does not answer within ``timeout_s`` (DNS included)."""
    parsed = urlparse(url)
    host, port = parsed.hostname, parsed.port or (443 if parsed.scheme == "https" else 80)
    outcome: dict = {}

    def probe():
        try:
            socket.create_connection((host, port), timeout=timeout_s).close()
            outcome["ok"] = True
        except OSError as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=probe, daemon=True)
    worker.start()
    worker.join(timeout_s)
    if not outcome.get("ok"):
        detail = outcome.get("error") or f"no answer within {timeout_s:.0f} s"
        raise NetworkUnavailableError(_offline_message(host or url, str(detail)))




def check_area(place: str | None, bbox: Sequence[float] | None, polygon: BaseGeometry | None, *,
               caller: str = "fetch_network") -> None:
    """Check that exactly one of ``place`` / ``bbox`` / ``polygon`` is given, well formed.

    Parameters
    ----------
    place : str or None
        A name Nominatim can geocode.
    bbox : sequence of float or None
        (west, south, east, north), WGS84 degrees.
    polygon : shapely geometry or None
        An area in WGS84 degrees.
    caller : str
        The function named in messages.

    Raises
    ------
    InputError
        Saying what is wrong and how to give the area.
    """
    given = [name for name, value in (("place", place), ("bbox", bbox), ("polygon", polygon)) if value is not None]
    if len(given) != 1:
        raise InputError(f"{caller} needs exactly one of place=, bbox=, polygon= (got {given or 'none'})")
    if bbox is not None:
        try:
            west, south, east, north = (float(b) for b in bbox)
        except (TypeError, ValueError):
            raise InputError(f"bbox must be (west, south, east, north) in degrees, got {bbox!r}") from None
        if not (west < east and south < north):
            raise InputError(f"bbox {bbox!r} is empty: expected west < east and south < north "
                             f"(order is west, south, east, north)")
        if max(abs(south), abs(north)) > 90 or max(abs(west), abs(east)) > 180:
            raise InputError(f"bbox {bbox!r} is outside WGS84 degrees (lat ±90, lon ±180); lon/lat swapped?")
    if polygon is not None and (getattr(polygon, "is_empty", True) or polygon.area == 0):
        raise InputError("polygon is empty or has no area; pass a shapely Polygon in WGS84 degrees")
    if place is not None and not str(place).strip():
        raise InputError("place is an empty string; pass a name such as '洪山区, 武汉市' or use bbox=")


def area_polygon(ox: Any, place: str | None, bbox: Sequence[float] | None,
                 polygon: BaseGeometry | None) -> BaseGeometry | None:
    """The query polygon (WGS84): geocoded from ``place`` (online), a ``bbox`` box, or ``polygon``.

    Parameters
    ----------
    ox : module
        :mod:`osmnx` (as :func:`osmnx_settings` yields it).
    place, bbox, polygon
        Exactly one given (see :func:`check_area`).

    Returns
    -------
    shapely geometry
        ``None`` only when none of the three is given (:func:`check_area` rejects that first).
    """
    from shapely.geometry import box

    timeout = settings.REQUESTS_TIMEOUT_S
    if place is not None:
        _check_reachable(ox.settings.nominatim_url, timeout)
        try:
            return ox.geocode_to_gdf(place).geometry.iloc[0]
        except (ValueError, TypeError) as exc:
            raise InputError(f"place {place!r} could not be geocoded by Nominatim ({exc}); check the "
                             f"spelling, add the city ('洪山区, 武汉市'), or pass bbox=/polygon=") from None
    if bbox is not None:
        west, south, east, north = (float(b) for b in bbox)
        return box(west, south, east, north)
    return polygon


FEATURE_COLUMNS = ("feature_id", "name", "tags", "geometry")
#: Element metadata that osmnx may return among the tags (not tags).
META_KEYS = ("visible", "version", "changeset", "timestamp", "user", "uid")


def _features_cache_path(cache_dir: Path, key: str) -> Path:
    digest = hashlib.sha1(key.encode()).hexdigest()[:16]
    return cache_dir / f"features-{digest}.geojson"


def _to_features(gdf):
    """Osmnx's features frame (index element/id, one column per tag) → ``feature_id, name, tags, geometry``."""
    import geopandas as gpd

    from circles._osm import features_frame

    if gdf is None or len(gdf) == 0:
        return features_frame([])
    prefix = {"node": "n", "way": "w", "relation": "r"}
    not_tags = {"geometry", "element", "id", "nodes", "members", "ways", *META_KEYS}
    tag_columns = [c for c in gdf.columns if c not in not_tags]
    records = gdf[tag_columns].to_dict("records")
    rows = []
    for (element, osm_id), values, geom in zip(gdf.index, records, gdf.geometry.to_numpy()):
        tags = {k: str(v) for k, v in values.items() if isinstance(v, (str, int, float)) and v == v}
        rows.append({"feature_id": f"{prefix.get(str(element), 'x')}{int(osm_id)}", "name": tags.get("name"),
                     "tags": tags, "geometry": geom})
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    return out[out.geometry.notna() & ~out.geometry.is_empty].reset_index(drop=True)


def _write_cache(features, path: Path) -> None:
    frame = features.copy()
    frame["tags"] = [json.dumps(t, ensure_ascii=False) for t in frame["tags"]]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.geojson")
    if len(frame):
        frame.to_file(tmp, driver="GeoJSON")
    else:
        tmp.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    tmp.replace(path)


def _read_cache(path: Path):
    import geopandas as gpd

    from circles._osm import features_frame

    frame = gpd.read_file(path)
    if len(frame) == 0:
        return features_frame([])
    # GDAL may hand the JSON column back already parsed
    frame["tags"] = [dict(t) if isinstance(t, dict) else json.loads(t) if isinstance(t, str) else {}
                     for t in frame["tags"]]
    frame["name"] = frame["name"].astype(object).where(frame["name"].notna(), None)
    return frame[list(FEATURE_COLUMNS)].set_crs("EPSG:4326", allow_override=True)


def fetch_features(
    *,
    place: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    polygon: BaseGeometry | None = None,
    categories: Sequence[str] | None = None,
    cache_dir: str | Path | None = None,
) -> gpd.GeoDataFrame:
    """Download the facilities of an area from OpenStreetMap (osmnx), cached.

    Parameters
    ----------
    place, bbox, polygon
        Exactly one, as for :func:`circles.fetch_network` (a geocodable name;
        west, south, east, north in WGS84 degrees; a shapely polygon in WGS84).
    categories : sequence of str, optional
        The facility categories wanted (default: all); only the OSM tags that
        can classify into them are requested (:func:`circles.classify.osm_query_tags`).
    cache_dir : path, optional
        Where results are kept (default ``~/.cache/circles``, beside the
        network cache); a second call for the same area and categories reads
        the cache and makes no request.

    Returns
    -------
    geopandas.GeoDataFrame
        ``feature_id`` (``n``/``w``/``r`` + OSM id), ``name``, ``tags`` (dict),
        geometry (EPSG:4326) — the format of :func:`circles.load_features`, ready
        for :func:`circles.facilities_from_features`.  Empty when OSM has none.

    Raises
    ------
    NetworkUnavailableError
        Offline (within about ``settings.REQUESTS_TIMEOUT_S`` seconds), saying how to use files instead.
    """
    from circles.classify import osm_query_tags

    check_area(place, bbox, polygon, caller="fetch_features")
    tags = osm_query_tags(categories)
    key = f"features|{place}|{bbox}|{getattr(polygon, 'wkt', None)}|{json.dumps(tags, sort_keys=True)}"
    cache_dir = Path(cache_dir) if cache_dir is not None else Path.home() / ".cache" / "circles"
    cached = _features_cache_path(cache_dir, key)
    if cached.exists():
        log.info("using cached facilities %s", cached)
        return _read_cache(cached)
    started = time.monotonic()
    with osmnx_settings() as ox:
        try:
            area = area_polygon(ox, place, bbox, polygon)
            _check_reachable(ox.settings.overpass_url, settings.REQUESTS_TIMEOUT_S)
            try:
                raw = ox.features_from_polygon(area, tags=tags)
            except Exception as exc:
                if "Insufficient" not in type(exc).__name__:
                    raise
                raw = None  # OSM has none of these features here: a valid, empty answer
        except (NetworkUnavailableError, InputError):
            raise
        except Exception as exc:  # requests/osmnx errors: connection, timeout, bad response
            raise NetworkUnavailableError(_offline_message("OpenStreetMap servers",
                                                           f"{type(exc).__name__}: {exc}")) from None
    features = _to_features(raw)
    log.info("downloaded %d OSM features in %.1f s", len(features), time.monotonic() - started)
    _write_cache(features, cached)
    return features


# ------------------------------------------------------------------ streets

def _network_cache_path(cache_dir: Path, key: str) -> Path:
    digest = hashlib.sha1(key.encode()).hexdigest()[:16]
    return cache_dir / f"network-{digest}.graphml"


def fetch_network(
    *,
    place: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    polygon: BaseGeometry | None = None,
    mode: Mode = "walk",
    cache_dir: str | Path | None = None,
    largest_only: bool = False,
) -> Network:
    """Download a street network from OpenStreetMap (osmnx), cached as GraphML.

    Give exactly one of ``place`` (a name Nominatim can geocode), ``bbox``
    (west, south, east, north in WGS84 degrees) or ``polygon`` (shapely, WGS84).
    Offline this fails within ~``settings.REQUESTS_TIMEOUT_S`` seconds with
    :class:`~circles.errors.NetworkUnavailableError` saying how to load a file.
    The query is kept in ``network.report["online_query"]``, so
    :func:`circles.analyze` fetches the facilities of the same area
    (:func:`circles.online.fetch_features`, cached beside the network).

    Parameters
    ----------
    place : str, optional
        A name Nominatim can geocode (e.g. ``"洪山区, 武汉市"``).
    bbox : tuple of float, optional
        (west, south, east, north), WGS84 degrees.
    polygon : shapely geometry, optional
        An area in WGS84 degrees.
    mode : {"walk", "drive"}
        The network to build.
    cache_dir : str or Path, optional
        Where downloads are kept (default ``~/.cache/circles``); a second call
        for the same area reads the cache and makes no request.
    largest_only : bool
        As in :func:`circles.network.load_network`.

    Returns
    -------
    Network
    """
    from circles.network import MODES, load_network

    if mode not in MODES:
        raise InputError(f"mode must be one of {MODES}, got {mode!r}")
    check_area(place, bbox, polygon)
    key = f"{mode}|{place}|{bbox}|{getattr(polygon, 'wkt', None)}"
    cache_dir = Path(cache_dir) if cache_dir is not None else Path.home() / ".cache" / "circles"
    cached = _network_cache_path(cache_dir, key)
    query = {"place": place, "bbox": None if bbox is None else tuple(map(float, bbox)), "polygon": polygon,
             "cache_dir": str(cache_dir)}
    if cached.exists():
        log.info("using cached network %s", cached)
        net = load_network(cached, mode=mode, largest_only=largest_only)
        net.report["online_query"] = query
        return net
    with osmnx_settings() as ox:
        _download_graph(ox, cached, place=place, bbox=bbox, polygon=polygon, mode=mode)
    net = load_network(cached, mode=mode, largest_only=largest_only)
    net.report["online_query"] = query
    return net


def _download_graph(ox, cached: Path, *, place, bbox, polygon, mode: str) -> None:
    from circles._osm import SEGMENT_TAGS

    started = time.monotonic()
    network_type = "walk" if mode == "walk" else "drive_service"
    try:
        if place is not None:
            polygon = area_polygon(ox, place, bbox, polygon)
        _check_reachable(ox.settings.overpass_url, settings.REQUESTS_TIMEOUT_S)
        if bbox is not None:
            graph = ox.graph_from_bbox(bbox, network_type=network_type, simplify=False, retain_all=True)
        else:
            graph = ox.graph_from_polygon(polygon, network_type=network_type, simplify=False, retain_all=True)
    except (NetworkUnavailableError, InputError):
        raise
    except Exception as exc:  # requests/osmnx errors: connection, timeout, empty response
        name = type(exc).__name__
        if "Insufficient" in name or "EmptyOverpass" in name:
            raise NoDataError(f"OpenStreetMap has no {mode} streets in the requested area ({exc}); "
                              f"enlarge the area or check its coordinates") from None
        raise NetworkUnavailableError(_offline_message("OpenStreetMap servers", f"{name}: {exc}")) from None
    log.info("downloaded network in %.1f s", time.monotonic() - started)
    cached.parent.mkdir(parents=True, exist_ok=True)
    for _, _, data in graph.edges(data=True):  # keep only what circles reads: small, fast GraphML
        for k in list(data):
            if k not in SEGMENT_TAGS and k not in ("osmid", "length"):
                del data[k]
    tmp = cached.with_suffix(".tmp.graphml")
    ox.save_graphml(graph, tmp)
    tmp.replace(cached)
