"""WGS84 / GCJ-02 / BD-09 conversions (STANDARDS §5)."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from circles import coords
from circles.coords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    check_lonlat,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from circles.errors import InputError

GEOD = Geod(ellps="WGS84")
# Wuhan's extent (population raster bounds): lon 113.69–115.08, lat 29.97–31.36
LON, LAT = np.meshgrid(np.linspace(113.69, 115.08, 40), np.linspace(29.97, 31.36, 40))


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return GEOD.inv(np.ravel(lon1), np.ravel(lat1), np.ravel(lon2), np.ravel(lat2))[2]


def test_gcj02_round_trip_is_below_a_centimetre_across_wuhan():
    back = gcj02_to_wgs84(*wgs84_to_gcj02(LON, LAT))
    assert back[0].shape == LON.shape
    assert _metres(LON, LAT, *back).max() < 0.01
    # and the other way: inverse then forward reproduces the GCJ-02 input
    fwd = wgs84_to_gcj02(*gcj02_to_wgs84(LON, LAT))
    assert _metres(LON, LAT, *fwd).max() < 0.01


def test_wuhan_offset_is_500_to_600_m():
    # STANDARDS §5 says "about 500–600 m".  Measured: 573–608 m over the urban
    # core (lon 114.10–114.50, lat 30.40–30.75) and 548–622 m over the whole
    # municipality — always far more than a 5-minute walk (300 m).
    lon, lat = np.meshgrid(np.linspace(114.10, 114.50, 20), np.linspace(30.40, 30.75, 20))
    shift = _metres(lon, lat, *wgs84_to_gcj02(lon, lat))
    assert 500 < shift.min() and shift.max() < 610
    # whole municipality: 548–622 m (measured), still far more than a 5-minute walk
    shift = _metres(LON, LAT, *wgs84_to_gcj02(LON, LAT))
    assert 540 < shift.min() and shift.max() < 630
    # centre of Wuhan: about 587 m (README of the shared data); GCJ-02 lies east and
    # south of WGS84 (the correction back is ~524 m W, ~264 m N)
    glon, glat = wgs84_to_gcj02(114.30, 30.59)
    assert glon > 114.30 and glat < 30.59
    assert _metres(114.30, 30.59, glon, glat)[0] == pytest.approx(587, abs=10)


def test_union_hospital_example_from_the_data_readme():
    lon, lat = to_wgs84(114.275742, 30.58349, "gcj02")
    assert isinstance(lon, float)
    assert lon == pytest.approx(114.2703, abs=5e-5)
    assert lat == pytest.approx(30.5859, abs=5e-5)


def test_exact_inverse_beats_the_one_step_approximation():
    glon, glat = wgs84_to_gcj02(LON, LAT)
    d_lon, d_lat = coords._gcj_delta(glon.ravel(), glat.ravel())
    one_step = glon.ravel() - d_lon, glat.ravel() - d_lat
    assert _metres(LON, LAT, *one_step).max() > 0.5  # the approximation is off by ~1 m
    assert _metres(LON, LAT, *gcj02_to_wgs84(glon, glat)).max() < 1e-3


def test_bd09_round_trips():
    blon, blat = gcj02_to_bd09(LON, LAT)
    assert _metres(LON, LAT, *bd09_to_gcj02(blon, blat)).max() < 0.01
    wlon, wlat = wgs84_to_bd09(LON, LAT)
    assert _metres(LON, LAT, *bd09_to_wgs84(wlon, wlat)).max() < 0.01
    # BD-09 sits a further ~700–1,000 m from GCJ-02 in Wuhan
    assert 500 < _metres(LON, LAT, blon, blat).mean() < 1200
    assert _metres(LON, LAT, *to_wgs84(wlon, wlat, "BD09")).max() < 0.01


def test_outside_china_passes_through_gcj02():
    lon, lat = np.array([24.94, -0.13]), np.array([60.17, 51.51])  # Helsinki, London
    assert np.array_equal(np.column_stack(wgs84_to_gcj02(lon, lat)), np.column_stack([lon, lat]))
    assert np.array_equal(np.column_stack(gcj02_to_wgs84(lon, lat)), np.column_stack([lon, lat]))


def test_nan_stays_nan_and_wgs84_is_unchanged():
    lon, lat = to_wgs84([114.3, np.nan], [30.6, 30.6], "gcj02")
    assert np.isnan(lon[1]) and np.isfinite(lon[0])
    lon, lat = to_wgs84([114.3], [30.6], "EPSG:4326")
    assert lon[0] == 114.3 and lat[0] == 30.6


@pytest.mark.parametrize("name", ["wgs84", "WGS84", "epsg:4326", "EPSG:4326", "gcj02", "GCJ-02", "bd09", "BD09"])
def test_accepted_crs_names(name):
    to_wgs84(114.3, 30.6, name)


def test_unknown_crs_name_is_an_input_error():
    with pytest.raises(InputError, match=r"crs='mercator'.*'wgs84'.*'gcj02'.*'bd09'"):
        to_wgs84(114.3, 30.6, "mercator")
    with pytest.raises(ValueError):  # catchable as the builtin too
        to_wgs84(114.3, 30.6, "")


def test_check_lonlat_names_rows():
    lon = [114.3, np.nan, 30.5, 200.0, "abc"]
    lat = [30.6, 30.6, 114.3, 30.0, 30.0]
    with pytest.raises(InputError) as err:
        check_lonlat(lon, lat, "pois.csv")
    msg = str(err.value)
    assert msg.startswith("pois.csv:")
    assert "2 rows (rows 2, 5) have a missing or non-numeric" in msg
    assert "1 row (row 3) has a latitude outside -90..90" in msg and "swapped" in msg
    assert "1 row (row 4) has a longitude outside -180..180" in msg


def test_check_lonlat_lists_first_ten_rows_and_custom_labels():
    lat = np.full(25, 130.0)
    with pytest.raises(InputError, match=r"rows 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 and 15 more"):
        check_lonlat(np.full(25, 30.0), lat, "x", rows=range(11, 36))
    check_lonlat([114.3], [30.6], "ok")  # no error
