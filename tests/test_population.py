"""Demand points from population rasters: conservation against an independent
raster sum, nodata never counted as people, windows, CRS handling, bad input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from pyproj import Transformer
from shapely.geometry import box

from circles.errors import InputError, InputFileNotFoundError
from circles.population import DemandPoints, demand_from_rasters, raster_total_in_area

#: <bounds> of guanggu.osm (Optics Valley), lon/lat
GUANGGU = box(114.49986, 30.47688, 114.53790, 30.49247)
#: central Beijing, far outside the Wuhan rasters
BEIJING = box(116.30, 39.85, 116.45, 39.95)


def from_origin(west, north, xsize, ysize):
    return Affine.translation(west, north) @ Affine.scale(xsize, -ysize)


def _write_tif(path, data, transform, crs, nodata=-99999.0):
    with rasterio.open(
        path, "w", driver="GTiff", height=data.shape[0], width=data.shape[1], count=1,
        dtype="float32", crs=crs, transform=transform, nodata=nodata,
    ) as dst:
        dst.write(data.astype("float32"), 1)
    return path


# ------------------------------------------------------------------ real data


@pytest.mark.wuhan
def test_guanggu_demand_matches_raster_totals(wuhan_dir):
    pop20, pop65 = wuhan_dir / "population_20plus.tif", wuhan_dir / "population_65plus.tif"
    demand = demand_from_rasters(pop20, GUANGGU, pop65)
    total20 = raster_total_in_area(pop20, GUANGGU)
    total65 = raster_total_in_area(pop65, GUANGGU)
    assert total20 > 1000 and total65 > 100  # a settled part of Optics Valley
    assert demand.total == pytest.approx(total20, rel=1e-9)
    assert demand.total_65plus == pytest.approx(total65, rel=1e-9)
    # every point is a cell centre inside the box, with people in it
    assert shapely.contains_xy(GUANGGU, demand.lon, demand.lat).all()
    assert ((demand.population > 0) | (demand.population_65plus > 0)).all()
    assert (demand.population_65plus <= demand.population + 1e-6).all()
    assert demand.source == "population_20plus.tif + population_65plus.tif"


@pytest.mark.wuhan
def test_nodata_is_never_people(wuhan_dir):
    # A box across the western edge of the raster: part off the raster, part
    # nodata (-99999, outside Wuhan), part inside the city.
    pop20 = wuhan_dir / "population_20plus.tif"
    edge = box(113.60, 30.45, 113.80, 30.60)
    demand = demand_from_rasters(pop20, edge)
    with rasterio.open(pop20) as src:
        assert src.bounds.left > 113.60  # the box really sticks out of the raster
    assert len(demand) > 0
    assert demand.population.min() > 0
    assert np.isfinite(demand.population).all()
    assert demand.total == pytest.approx(raster_total_in_area(pop20, edge), rel=1e-9)
    assert (demand.population_65plus == 0).all()  # no 65+ raster given


@pytest.mark.wuhan
def test_district_demand_is_conserved(wuhan_dir):
    import geopandas as gpd

    districts = gpd.read_file(wuhan_dir / "districts.geojson")
    area = districts.loc[districts["name"] == "江汉区", "geometry"].iloc[0]
    pop20 = wuhan_dir / "population_20plus.tif"
    demand = demand_from_rasters(pop20, area)
    assert demand.total == pytest.approx(raster_total_in_area(pop20, area), rel=1e-3)


@pytest.mark.wuhan
def test_raster_not_overlapping_area_names_file_and_bounds(wuhan_dir):
    pop20 = wuhan_dir / "population_20plus.tif"
    with pytest.raises(InputError, match="does not overlap") as info:
        demand_from_rasters(pop20, BEIJING)
    message = str(info.value)
    assert "population_20plus.tif" in message
    assert "116.30000" in message and "113.69208" in message  # area and raster bounds


# ------------------------------------------------------------------ synthetic


def test_projected_raster_hand_checked(tmp_path):
    # A 3 x 4 raster of 100 m cells in UTM 50N near Wuhan.  Values (row 0 is north):
    #     1   2   nodata  4
    #     5  -3   7       8
    #     0   0   0       9
    # The area is the UTM box x0+10 .. x0+290, y0-190 .. y0-10: it holds the
    # centres of columns 0-2 of rows 0-1 -> 1 + 2 + 0 (nodata) + 5 + 0 (negative) + 7 = 15,
    # in 4 cells with people.
    x0, y0 = 300_000.0, 3_380_000.0
    data = np.array([[1, 2, -99999, 4], [5, -3, 7, 8], [0, 0, 0, 9]], dtype=float)
    tif = _write_tif(tmp_path / "utm.tif", data, from_origin(x0, y0, 100, 100), "EPSG:32650")
    to_wgs = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)
    utm_box = box(x0 + 10, y0 - 190, x0 + 290, y0 - 10)
    area = shapely.transform(utm_box, lambda xy: np.column_stack(to_wgs.transform(xy[:, 0], xy[:, 1])))

    demand = demand_from_rasters(tif, area)
    assert len(demand) == 4
    assert demand.total == pytest.approx(15.0)
    assert raster_total_in_area(tif, area) == pytest.approx(15.0)
    # coordinates come back in WGS84 at the cell centres
    cx, cy = to_wgs.transform(x0 + 50, y0 - 50)
    k = int(np.argmax(demand.population == 1))
    assert (demand.lon[k], demand.lat[k]) == pytest.approx((cx, cy), abs=1e-9)


def test_raster_without_crs(tmp_path):
    tif = tmp_path / "nocrs.tif"
    with rasterio.open(tif, "w", driver="GTiff", height=2, width=2, count=1, dtype="float32",
                       transform=from_origin(114.5, 30.5, 0.01, 0.01)) as dst:
        dst.write(np.ones((2, 2), dtype="float32"), 1)
    with pytest.raises(InputError, match="has no CRS"):
        demand_from_rasters(tif, box(114.5, 30.48, 114.52, 30.5))


def test_65plus_on_another_grid_is_refused(tmp_path):
    main = _write_tif(tmp_path / "a.tif", np.ones((4, 4)), from_origin(114.5, 30.5, 0.01, 0.01), "EPSG:4326")
    other = _write_tif(tmp_path / "b.tif", np.ones((2, 2)), from_origin(114.5, 30.5, 0.02, 0.02), "EPSG:4326")
    with pytest.raises(InputError, match="same grid") as info:
        demand_from_rasters(main, box(114.5, 30.46, 114.54, 30.5), other)
    assert "b.tif" in str(info.value) and "gdalwarp" in str(info.value)


def test_missing_raster_file(tmp_path):
    with pytest.raises(InputFileNotFoundError, match="does not exist"):
        demand_from_rasters(tmp_path / "nope.tif", GUANGGU)


def test_area_must_be_lonlat_polygon(tmp_path):
    tif = _write_tif(tmp_path / "a.tif", np.ones((4, 4)), from_origin(114.5, 30.5, 0.01, 0.01), "EPSG:4326")
    with pytest.raises(InputError, match="looks projected"):
        demand_from_rasters(tif, box(600_000, 3_380_000, 601_000, 3_381_000))
    with pytest.raises(InputError, match="Polygon"):
        demand_from_rasters(tif, shapely.Point(114.51, 30.49))


def test_demand_points_check_lengths_and_are_frozen():
    d = DemandPoints(lon=np.array([1.0, 2.0]), lat=np.array([3.0, 4.0]),
                     population=np.array([5.0, 6.0]), population_65plus=np.zeros(2))
    assert len(d) == 2 and d.total == 11.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.source = "x"  # frozen dataclass
    with pytest.raises(ValueError):
        d.population[0] = 1.0  # arrays are read-only
    with pytest.raises(InputError, match="population"):
        DemandPoints(lon=np.zeros(2), lat=np.zeros(2), population=np.zeros(3), population_65plus=np.zeros(2))
