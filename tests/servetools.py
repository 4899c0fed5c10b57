"""Helpers for the ``circles serve`` tests: a server on an ephemeral port in a thread, a small HTTP client,
and positions on the streets of an analysis (where a new site is accepted)."""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@contextlib.contextmanager
def running_server(scenario, out_dir: Path, *, lang: str = "zh") -> Iterator[Any]:
    """``circles.serve.make_server(scenario, port=0)`` serving in a daemon thread until the block ends."""
    from circles.serve import make_server, run_server

    server = make_server(scenario, port=0, lang=lang, out_dir=out_dir)
    thread = threading.Thread(target=run_server, args=(server,), kwargs={"open_message": None}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        thread.join(10)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


def call(port: int, method: str, path: str, body: Any = None, *, headers: dict[str, str] | None = None,
         raw: bytes | None = None, timeout: float = 60) -> Answer:
    """One request; ``body`` is sent as JSON (with its Content-Type), ``raw`` as it is."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        hdrs = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            hdrs.setdefault("Content-Type", "application/json")
        if data is None and method in ("POST",):
            data = b""
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def street_points(result, k: int, *, mode: str = "walk", min_gap_m: float = 300.0) -> list[tuple[float, float]]:
    """``k`` WGS84 positions of street nodes near the centres of the most populated units, ``min_gap_m`` apart."""
    net = result.networks[mode]
    units = result.units.to_crs("EPSG:4326")
    order = np.argsort(-units["population"].fillna(0).to_numpy(float))
    centres = units.geometry.representative_point()
    cx = np.array([p.x for p in centres])[order]
    cy = np.array([p.y for p in centres])[order]
    snap = net.snap_lonlat(cx, cy, max_snap_m=1e6, source="test")
    out: list[tuple[float, float]] = []
    for node in snap.node:
        lon, lat = float(net.lon[node]), float(net.lat[node])
        far = all(abs(lon - a) * 96_000 + abs(lat - b) * 111_000 > min_gap_m for a, b in out)
        if far:
            out.append((lon, lat))
        if len(out) == k:
            break
    assert len(out) == k, f"only {len(out)} street points found"
    return out
