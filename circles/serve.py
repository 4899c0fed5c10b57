"""``circles serve``: a local web page to add, move or close facilities and see every circle's coverage change.

The server is the standard library's :class:`http.server.ThreadingHTTPServer` around one
:class:`circles.scenario.Scenario`; every browser tab talks to the same scenario through a small JSON API:

==========  ===============================  ===========================================================
method      path                             answer
==========  ===============================  ===========================================================
GET         ``/``                            the page (one self-contained HTML file, Leaflet inlined)
GET         ``/api/meta``                    policy, circles, categories, statuses, map bounds
GET         ``/api/units.geojson``           the units (polygons, or centre points above 5,000 units)
GET         ``/api/streets.geojson``         the walk network as a backdrop (none at city scale)
GET         ``/api/facilities``              every facility with its state (existing/added/moved/closed)
GET         ``/api/summary``                 :meth:`Scenario.summary <circles.scenario.Scenario.summary>`
GET         ``/api/units/{circle}``          per-unit share and status of one circle
POST        ``/api/facilities``              ``{"category","lon","lat","crs","name"}`` -> 201 ``{"id","summary"}``
DELETE      ``/api/facilities/{id}``         close an existing facility / remove an added one
POST        ``/api/facilities/{id}/move``    ``{"lon","lat","crs"}``
POST        ``/api/undo``, ``/api/reset``    take back the last edit / all edits
GET         ``/api/scenario.csv``            the edits (UTF-8 with BOM, for Excel)
POST        ``/api/export``                  scenario.csv and the after-coverage files in a new folder
==========  ===============================  ===========================================================

Safety: nothing is read from a path given in a request (the page is built in memory at start, exports go to a
new folder named by the clock); bodies are capped at 1 MB before they are read; POST and DELETE bodies must be
JSON (``Content-Type: application/json``), which also rules out cross-site form posts; bound to loopback, the
server answers only requests whose ``Host`` is localhost (no DNS rebinding); no CORS headers.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import re
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from circles._serve_page import build_page
from circles.errors import InputError
from circles.outputs.atomic import write_csv_atomic
from circles.outputs.palette import (
    STATUS_COLOURS,
    STATUS_LABELS,
    STATUSES,
    category_colour,
    category_label,
)
from circles.scenario import FacilityNotFound, Scenario

__all__ = ["MAX_BODY_BYTES", "POINT_UNITS_ABOVE", "CirclesServer", "build_streets_geojson", "is_loopback",
           "make_server", "run_server"]

log = logging.getLogger(__name__)

#: The largest request body read (bytes); larger ones are refused (413) before reading.
MAX_BODY_BYTES = 1_000_000
#: Above this many units the map shows each unit as its centre point instead of its outline.
POINT_UNITS_ABOVE = 5000

_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
_CSP = ("default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'")
_STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": _CSP,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def is_loopback(host: str) -> bool:
    """Whether ``host`` only serves this computer (127.0.0.0/8, ::1, ``localhost``).

    Parameters
    ----------
    host : str
        The --host value.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _HttpError(Exception):
    """An answer other than 200 with a message for the client."""

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


# ---------------------------------------------------------------------------------------------- what the API serves


def build_meta(scenario: Scenario, lang: str) -> dict[str, Any]:
    """What the page needs once: policy, circles, categories, status colours, map bounds.

    Parameters
    ----------
    scenario : Scenario
        The scenario served.
    lang : {"zh", "en"}
        The page's first language.

    Returns
    -------
    dict
        JSON-ready (``GET /api/meta``).
    """
    result = scenario.result
    policy = result.policy
    addable = scenario.categories()
    present = sorted({f["category"] for f in scenario.facilities()} | set(addable))
    categories = [{"id": c, "zh": category_label(c, "zh"), "en": category_label(c, "en"),
                   "colour": category_colour(c), "circles": addable.get(c, []), "addable": c in addable}
                  for c in present]
    circles = [{"id": c.id, "name_zh": c.name_zh, "name_en": c.name_en, "mode": c.mode,
                "threshold": c.describe_threshold(), "population": c.population, "categories": list(c.categories)}
               for c in policy.circles]
    units = result.units.to_crs("EPSG:4326") if result.units.crs is not None else result.units
    w, s, e, n = (float(v) for v in units.total_bounds)
    if not all(math.isfinite(v) for v in (w, s, e, n)):
        w, s, e, n = next(iter(result.networks.values())).bounds()
    statuses = [{"id": st, "colour": STATUS_COLOURS[st], "zh": STATUS_LABELS["zh"][st],
                 "en": STATUS_LABELS["en"][st]} for st in STATUSES]
    return {"version": scenario.version, "lang": lang,
            "policy": {"id": policy.id, "name": policy.name},
            "circles": circles, "categories": categories, "statuses": statuses,
            "bounds": [[s, w], [n, e]], "facilities_crs": scenario.facilities_crs, "n_units": len(result.units),
            "point_units": len(result.units) > POINT_UNITS_ABOVE}


def _number(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _text(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def build_units_geojson(scenario: Scenario) -> bytes:
    """The units as GeoJSON (WGS84, 6 decimals): outlines, or centre points above :data:`POINT_UNITS_ABOVE`.

    Parameters
    ----------
    scenario : Scenario
        The scenario served.

    Returns
    -------
    bytes
        UTF-8 GeoJSON; feature ``i`` is row ``i`` of ``result.units`` (the order of ``/api/units/{circle}``).
    """
    import shapely

    units = scenario.result.units
    if units.crs is not None:
        units = units.to_crs("EPSG:4326")
    geoms = units.geometry.to_numpy()
    if len(units) > POINT_UNITS_ABOVE:
        geoms = shapely.point_on_surface(geoms)
    geoms = shapely.set_precision(geoms, 1e-6)
    texts = shapely.to_geojson(geoms)
    pop65 = units["population_65plus"] if "population_65plus" in units else [None] * len(units)
    names = units["name"] if "name" in units else [None] * len(units)
    districts = units["district"] if "district" in units else [None] * len(units)
    parts = []
    for i, (geom, uid, name, district, pop, old) in enumerate(zip(
            texts, units["unit_id"], names, districts, units["population"], pop65)):
        props = {"i": i, "unit_id": _text(uid), "name": _text(name), "district": _text(district),
                 "population": _number(pop), "population_65plus": _number(old)}
        geometry = geom if geom is not None else "null"
        parts.append(f'{{"type":"Feature","properties":{json.dumps(props, ensure_ascii=False)},'
                     f'"geometry":{geometry}}}')
    return ('{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}").encode("utf-8")


def build_streets_geojson(scenario: Scenario) -> bytes:
    """The walk network as one thin backdrop line layer (WGS84, 6 decimals), so a planner sees where the streets
    are; empty at city scale (more than :data:`POINT_UNITS_ABOVE` units), as in the coverage map.

    Parameters
    ----------
    scenario : Scenario
        The scenario served.

    Returns
    -------
    bytes
        UTF-8 GeoJSON: one MultiLineString feature of straight street segments (reverse duplicates dropped), or no
        feature.
    """
    import numpy as np

    net = scenario.result.networks.get("walk")
    if net is None or len(scenario.result.units) > POINT_UNITS_ABOVE or net.edge_u.size == 0:
        return b'{"type":"FeatureCollection","features":[]}'
    first = net.street_edges()
    u, v = net.edge_u[first], net.edge_v[first]
    xy = np.round(np.column_stack([net.lon[u], net.lat[u], net.lon[v], net.lat[v]]), 6)
    lines = ",".join(f"[[{x0!r},{y0!r}],[{x1!r},{y1!r}]]" for x0, y0, x1, y1 in xy.tolist())
    return ('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
            '"geometry":{"type":"MultiLineString","coordinates":[' + lines + ']}}]}').encode("utf-8")


# ---------------------------------------------------------------------------------------------- the server


class CirclesServer(ThreadingHTTPServer):
    """A threading HTTP server holding one scenario, the prepared page and the units (see :func:`make_server`)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], scenario: Scenario, *, lang: str, out_dir: Path) -> None:
        super().__init__(address, _Handler)
        self.scenario = scenario
        self.lang = lang
        self.out_dir = Path(out_dir)
        self.loopback = is_loopback(address[0])
        self.meta = build_meta(scenario, lang)
        self.page = build_page(lang=lang, title=str(scenario.result.policy.name))
        self.units_geojson = build_units_geojson(scenario)
        self.streets_geojson = build_streets_geojson(scenario)
        self.export_lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away is normal (a closed tab); anything else goes to the log, not to stderr."""
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            log.debug("circles serve: %s: %s", client_address, exc)
        else:
            log.exception("circles serve: error while handling a request from %s", client_address)

    @property
    def url(self) -> str:
        """The page's address, e.g. ``http://127.0.0.1:8765/``."""
        host, port = self.server_address[:2]
        host = str(host)
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else (f"[{host}]" if ":" in host else host)
        return f"http://{shown}:{port}/"


class _CirclesServer6(CirclesServer):
    address_family = socket.AF_INET6


def make_server(scenario: Scenario, *, host: str = "127.0.0.1", port: int = 8765, lang: str = "zh",
                out_dir: Path = Path("out/scenario")) -> CirclesServer:
    """A server for ``scenario``, bound but not yet serving (call :func:`run_server`).

    Parameters
    ----------
    scenario : Scenario
        The scenario the page edits.
    host : str, default "127.0.0.1"
        The address to bind; on loopback only requests for ``localhost``/``127.0.0.1``/``[::1]`` are answered.
    port : int, default 8765
        The port; 0 picks a free one (``server.server_address[1]``).
    lang : {"zh", "en"}, default "zh"
        The page's first language (the page can switch).
    out_dir : Path, default ``out/scenario``
        Exports go to a new sub-folder ``scenario-YYYYmmdd-HHMMSS`` of it.

    Returns
    -------
    CirclesServer
    """
    if lang not in ("zh", "en"):
        raise InputError(f"lang must be 'zh' or 'en', got {lang!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        return _CirclesServer6((host, int(port)), scenario, lang=lang, out_dir=out_dir)
    return CirclesServer((host, int(port)), scenario, lang=lang, out_dir=out_dir)


def run_server(server: CirclesServer, *, open_message: Callable[[str], Any] | None = print) -> None:
    """Serve until Ctrl-C (or :meth:`~socketserver.BaseServer.shutdown` from another thread), then close.

    Parameters
    ----------
    server : CirclesServer
        From :func:`make_server`.
    open_message : callable, optional
        Called once with a line giving the URL (default ``print``); None for silence.
    """
    if open_message is not None:
        open_message(f"circles serve: open {server.url} in a browser (Ctrl-C to stop)")
    try:
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        log.info("circles serve: stopped (Ctrl-C)")
    finally:
        server.server_close()


# ---------------------------------------------------------------------------------------------- requests

_Route = tuple[str, "re.Pattern[str]", str]
_ROUTES: list[_Route] = [
    ("GET", re.compile(r"/"), "page"),
    ("GET", re.compile(r"/api/meta"), "meta"),
    ("GET", re.compile(r"/api/units\.geojson"), "units_geojson"),
    ("GET", re.compile(r"/api/streets\.geojson"), "streets_geojson"),
    ("GET", re.compile(r"/api/units/([^/]+)"), "unit_status"),
    ("GET", re.compile(r"/api/summary"), "summary"),
    ("GET", re.compile(r"/api/facilities"), "facilities"),
    ("POST", re.compile(r"/api/facilities"), "add"),
    ("DELETE", re.compile(r"/api/facilities/([^/]+)"), "close"),
    ("POST", re.compile(r"/api/facilities/([^/]+)/move"), "move"),
    ("POST", re.compile(r"/api/undo"), "undo"),
    ("POST", re.compile(r"/api/reset"), "reset"),
    ("GET", re.compile(r"/api/scenario\.csv"), "scenario_csv"),
    ("POST", re.compile(r"/api/export"), "export"),
]


def _route(method: str, path: str) -> tuple[str, list[str]]:
    """The handler name and its (URL-decoded) path arguments; 404 or 405 when nothing matches."""
    allowed = []
    for m, pattern, name in _ROUTES:
        match = pattern.fullmatch(path)
        if match:
            if m == method:
                return name, [unquote(g) for g in match.groups()]
            allowed.append(m)
    if allowed:
        raise _HttpError(405, f"{method} is not allowed on {path}", headers={"Allow": ", ".join(sorted(set(allowed)))})
    raise _HttpError(404, f"no such page: {path}")


def _field(body: dict, key: str, kind: str, *, required: bool = True) -> Any:
    """A field of a JSON body, checked: ``kind`` is "number" (int or float, not bool) or "text"."""
    if key not in body or body[key] is None:
        if required:
            raise _HttpError(400, f"the request body needs {key!r}")
        return None
    value = body[key]
    if kind == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise _HttpError(400, f"{key!r} must be a number, got {value!r}")
    if kind == "text" and not isinstance(value, str):
        raise _HttpError(400, f"{key!r} must be text, got {value!r}")
    return value


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


class _Handler(BaseHTTPRequestHandler):
    """One request: check it, route it, answer JSON (or the page, or CSV)."""

    server: CirclesServer
    protocol_version = "HTTP/1.1"
    server_version = "circles-serve"
    sys_version = ""

    # -- plumbing

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        log.debug("%s - " + format, self.address_string(), *args)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in {**_STATIC_HEADERS, **(headers or {})}.items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(data, ensure_ascii=False, allow_nan=False).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8", headers)

    def _check_host(self) -> None:
        if not self.server.loopback:
            return
        host = (self.headers.get("Host") or "").strip().lower()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") and host.count(":") == 1 else host
        if host.startswith("[") and "]:" in host:
            name = host.split("]:", 1)[0] + "]"
        if name not in _LOOPBACK_HOSTS:
            raise _HttpError(403, "this server answers only requests for localhost / 127.0.0.1 "
                                  f"(Host header {host!r})")

    def _check_origin(self) -> None:
        """An edit sent by a page must come from this server's own page (its Origin is the Host asked for)."""
        origin = self.headers.get("Origin")
        if origin is None:
            return  # not sent by a browser page (curl, scripts) or a same-origin GET
        host = (self.headers.get("Host") or "").strip().lower()
        if origin.strip().lower() in ("null", "") or urlsplit(origin.strip().lower()).netloc != host:
            raise _HttpError(403, f"requests from another site ({origin!r}) are not accepted")

    def _read_json(self) -> dict:
        """The JSON object in the body ({} when it is empty); limits checked before anything is read.

        Every POST and every DELETE with a body must say ``Content-Type: application/json``, even an empty
        one: a cross-site HTML form or a no-cors fetch cannot send that type, so it cannot edit the scenario.
        """
        self._check_origin()
        if "Transfer-Encoding" in self.headers:
            self.close_connection = True
            raise _HttpError(411, "send the body with a Content-Length (chunked bodies are not accepted)")
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            if self.command == "POST":
                self.close_connection = True
                raise _HttpError(411, "a POST needs a Content-Length header")
            return {}
        try:
            length = int(length_text)
            if length < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            raise _HttpError(400, f"bad Content-Length {length_text!r}") from None
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise _HttpError(413, f"the request body ({length:,} bytes) is over the limit of {MAX_BODY_BYTES:,}")
        if length == 0 and self.command == "DELETE":
            return {}
        ctype = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if ctype != "application/json":
            self.close_connection = True
            raise _HttpError(400, "the request body must be JSON sent as Content-Type: application/json")
        if length == 0:
            return {}
        raw = self.rfile.read(length)
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
        except (UnicodeDecodeError, ValueError) as exc:
            raise _HttpError(400, f"the request body is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise _HttpError(400, "the request body must be a JSON object {...}")
        return data

    def _handle(self) -> None:
        try:
            self._check_host()
            path = urlsplit(self.path).path
            name, args = _route(self.command, path)
            body = self._read_json() if self.command in ("POST", "DELETE") else {}
            getattr(self, f"_api_{name}")(body, *args)
        except _HttpError as exc:
            self._json(exc.status, {"error": exc.message}, exc.headers)
        except FacilityNotFound as exc:
            self._json(404, {"error": str(exc)})
        except InputError as exc:
            self._json(422, {"error": str(exc)})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:
            log.exception("circles serve: %s %s failed", self.command, self.path)
            self.close_connection = True
            self._json(500, {"error": "internal error: the server log has the details"})

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle()

    def do_POST(self) -> None:  # noqa: N802
        self._handle()

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle()

    def do_PUT(self) -> None:  # noqa: N802
        self._handle()

    def do_PATCH(self) -> None:  # noqa: N802
        self._handle()

    def do_HEAD(self) -> None:  # noqa: N802
        self.close_connection = True
        self._json(405, {"error": "HEAD is not supported"}, {"Allow": "GET, POST, DELETE"})

    def do_OPTIONS(self) -> None:  # noqa: N802 - no CORS: a pre-flight gets nothing that allows it
        self.close_connection = True
        self._json(405, {"error": "OPTIONS is not supported (no cross-origin requests)"},
                   {"Allow": "GET, POST, DELETE"})

    # -- reading

    def _api_page(self, _body: dict) -> None:
        self._send(200, self.server.page, "text/html; charset=utf-8")

    def _api_meta(self, _body: dict) -> None:
        self._json(200, {**self.server.meta, "version": self.server.scenario.version})

    def _api_units_geojson(self, _body: dict) -> None:
        self._send(200, self.server.units_geojson, "application/geo+json; charset=utf-8")

    def _api_streets_geojson(self, _body: dict) -> None:
        self._send(200, self.server.streets_geojson, "application/geo+json; charset=utf-8")

    def _api_unit_status(self, _body: dict, circle: str) -> None:
        if circle not in {c.id for c in self.server.scenario.result.policy.circles}:
            raise _HttpError(404, f"no circle {circle!r} in this policy")
        self._json(200, self.server.scenario.unit_status(circle))

    def _api_summary(self, _body: dict) -> None:
        self._json(200, self.server.scenario.summary())

    def _api_facilities(self, _body: dict) -> None:
        s = self.server.scenario
        version, n_edits = s.version, s.n_edits  # read first: a later edit makes the page reload again
        self._json(200, {"version": version, "n_edits": n_edits, "facilities": s.facilities()})

    def _api_scenario_csv(self, _body: dict) -> None:
        text = self.server.scenario.scenario_table().to_csv(index=False, lineterminator="\r\n")
        self._send(200, text.encode("utf-8-sig"), "text/csv; charset=utf-8",
                   {"Content-Disposition": 'attachment; filename="scenario.csv"'})

    # -- edits

    def _api_add(self, body: dict) -> None:
        s = self.server.scenario
        category = _field(body, "category", "text")
        lon, lat = _field(body, "lon", "number"), _field(body, "lat", "number")
        crs = _field(body, "crs", "text", required=False) or "wgs84"
        name = _field(body, "name", "text", required=False) or ""
        fid = s.add(category, lon, lat, crs=crs, name=name)
        self._json(201, {"id": fid, "summary": s.summary()})

    def _api_close(self, _body: dict, fid: str) -> None:
        s = self.server.scenario
        s.close(fid)
        self._json(200, {"summary": s.summary()})

    def _api_move(self, body: dict, fid: str) -> None:
        s = self.server.scenario
        lon, lat = _field(body, "lon", "number"), _field(body, "lat", "number")
        crs = _field(body, "crs", "text", required=False) or "wgs84"
        s.move(fid, lon, lat, crs=crs)
        self._json(200, {"summary": s.summary()})

    def _api_undo(self, _body: dict) -> None:
        s = self.server.scenario
        undone = s.undo()
        self._json(200, {"undone": undone, "summary": s.summary()})

    def _api_reset(self, _body: dict) -> None:
        s = self.server.scenario
        s.reset()
        self._json(200, {"summary": s.summary()})

    def _api_export(self, _body: dict) -> None:
        srv = self.server
        with srv.export_lock:
            folder = _new_export_folder(srv.out_dir)
            started = time.perf_counter()
            version = srv.scenario.version
            files = {"scenario_csv": write_csv_atomic(srv.scenario.scenario_table(), folder / "scenario.csv")}
            written = srv.scenario.after_result().to_files(folder, lang=srv.lang)
            files.update(written or {})
            log.info("circles serve: exported version %d to %s in %.1f s", version, folder,
                     time.perf_counter() - started)
        self._json(200, {"folder": str(folder.resolve()), "version": version,
                         "files": {kind: Path(p).name for kind, p in files.items()}})


def _new_export_folder(out_dir: Path) -> Path:
    """A new folder ``out_dir/scenario-YYYYmmdd-HHMMSS`` (``-2``, ``-3`` … when that second is taken)."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the export folder {out_dir}: {exc}") from None
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for k in range(1, 100):
        folder = out_dir / (f"scenario-{stamp}" if k == 1 else f"scenario-{stamp}-{k}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise InputError(f"cannot find a free export folder name in {out_dir}")

