"""A catalogue of bad inputs to ``circles analyze``, ``score`` and ``map``.

Each case builds one bad file or option in ``tmp_path`` (most of them from the
real Wuhan data: a truncated PBF, the Weibo POI table with a column stripped,
the districts without their CRS …), runs the command line in-process through
``main([...])`` and checks what a planner would see: exit code 2, no traceback,
a message that names the offending file or flag, and a hint how to fix it.

Each case returns the command line and the strings its message must contain:
the file or flag it must name, what was expected and the words of the fix.
Most cases fail before any network is read; the few that can only be judged
against the network (units, area or candidates far from it) run on the small
Optics Valley extract.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from circles.cli import main

pytestmark = pytest.mark.wuhan


class Ctx:
    """Paths a case needs: the Wuhan folder ``w`` and a scratch folder ``tmp``."""

    def __init__(self, w: Path, tmp: Path):
        self.w, self.tmp = w, tmp
        self.osm = str(w / "guanggu.osm.pbf")
        self.out = str(tmp / "out")

    def write(self, name: str, data: bytes | str) -> str:
        path = self.tmp / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        return str(path)

    def pois(self) -> pd.DataFrame:
        return pd.read_csv(self.w / "weibo_pois_gcj02.csv", index_col=0)

    def pois_csv(self, name: str, frame: pd.DataFrame) -> str:
        path = self.tmp / name
        frame.to_csv(path, index=False, encoding="utf-8-sig")
        return str(path)

    def districts(self):
        import geopandas as gpd

        return gpd.read_file(self.w / "districts.geojson")

    def geojson(self, name: str, gdf) -> str:
        path = self.tmp / name
        gdf.to_file(path, driver="GeoJSON")
        return str(path)

    def shapefile_without_crs(self, stem: str, gdf) -> str:
        """A Shapefile without .prj: a file that truly has no CRS (GeoJSON is WGS84 by definition)."""
        import warnings

        path = self.tmp / f"{stem}.shp"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "'crs' was not provided": that is the point
            gdf.set_crs(None, allow_override=True).to_file(path)
        path.with_suffix(".prj").unlink(missing_ok=True)
        return str(path)

    def analyze(self, *extra: str) -> list[str]:
        return ["analyze", "--network", self.osm, "--out", self.out, "--quiet", *extra]

    def score(self, *extra: str) -> list[str]:
        return ["score", "--network", self.osm, "--out", self.out, "--quiet", *extra]

    def map(self, *extra: str) -> list[str]:
        return ["map", "--network", self.osm, "--out", str(self.tmp / "map.html"), "--quiet", *extra]


Case = Callable[[Ctx], tuple[list[str], list[str]]]
CASES: dict[str, Case] = {}


def case(name: str):
    def register(fn: Case) -> Case:
        assert name not in CASES, name
        CASES[name] = fn
        return fn
    return register


# ------------------------------------------------------------------ network

@case("network-missing-file")
def _(c):
    return ["analyze", "--network", str(c.tmp / "nowhere.osm.pbf"), "--out", c.out, "--quiet"], \
        ["nowhere.osm.pbf", "not found", "check the path"]


@case("network-wrong-extension")
def _(c):
    path = c.write("guanggu.csv", (c.w / "guanggu.osm").read_bytes()[:2000])
    return ["analyze", "--network", path, "--out", c.out, "--quiet"], ["guanggu.csv", ".osm.pbf"]


@case("network-empty-file")
def _(c):
    path = c.write("empty.osm", b"")
    return ["analyze", "--network", path, "--out", c.out, "--quiet"], ["empty.osm", "empty"]


@case("network-corrupt-xml")
def _(c):
    data = (c.w / "guanggu.osm").read_bytes()
    path = c.write("broken.osm", data[: len(data) // 2])
    return ["analyze", "--network", path, "--out", c.out, "--quiet"], ["broken.osm", "XML"]


@case("network-truncated-pbf")
def _(c):
    data = (c.w / "guanggu.osm.pbf").read_bytes()
    path = c.write("truncated.osm.pbf", data[: len(data) // 3])
    return ["analyze", "--network", path, "--out", c.out, "--quiet"], ["truncated.osm.pbf", "PBF"]


@case("network-graphml-that-is-not")
def _(c):
    path = c.write("roads.graphml", "id,lon,lat\n1,114.5,30.5\n")
    return ["analyze", "--network", path, "--out", c.out, "--quiet"], ["roads.graphml", "GraphML"]


@case("network-a-directory")
def _(c):
    (c.tmp / "extract.osm").mkdir()
    return ["analyze", "--network", str(c.tmp / "extract.osm"), "--out", c.out, "--quiet"], \
        ["extract.osm", "folder"]


@case("network-without-streets")
def _(c):
    path = c.write("one_node.osm", '<?xml version="1.0"?>\n<osm version="0.6">'
                   '<node id="1" lat="30.48" lon="114.51"/></osm>\n')
    return ["analyze", "--network", path, "--out", c.out, "--quiet"], ["one_node.osm", "walk"]


@case("network-xml-named-pbf")
def _(c):
    path = c.write("guanggu_xml.osm.pbf", (c.w / "guanggu.osm").read_bytes())
    return ["analyze", "--network", path, "--out", c.out, "--quiet"], ["guanggu_xml.osm.pbf", "PBF"]


@case("network-and-place-both")
def _(c):
    return ["analyze", "--network", c.osm, "--place", "武汉", "--out", c.out, "--quiet"], \
        ["--network", "--place", "exactly one"]


@case("network-none")
def _(c):
    return ["analyze", "--out", c.out, "--quiet"], ["--network", "--place"]


# ------------------------------------------------------------------ policy

@case("policy-file-missing")
def _(c):
    return c.analyze("--policy", str(c.tmp / "mine.toml")), ["mine.toml", "does not exist", "check the path"]


@case("policy-id-typo")
def _(c):
    return c.analyze("--policy", "wuhan-2002"), ["wuhan-2002", "did you mean wuhan-2022?"]


@case("policy-id-typo-underscore")
def _(c):
    return c.analyze("--policy", "Wuhan_2022"), ["Wuhan_2022", "did you mean wuhan-2022?"]


@case("policy-malformed-toml")
def _(c):
    path = c.write("pack.toml", 'id = "x"\nname = "broken\n[[circles]\n')
    return c.analyze("--policy", path), ["pack.toml", "TOML", "fix the syntax"]


PACK = """id = "mine"
name = "my pack"
[[circles]]
id = "daily"
name_zh = "日常圈"
name_en = "daily"
mode = "{mode}"
threshold_min = {threshold}
population = "all"
clause = "a test pack"
[[circles.requirements]]
categories = ["{category}"]
"""


@case("policy-negative-threshold")
def _(c):
    path = c.write("neg.toml", PACK.format(mode="walk", threshold=-5, category="grocery"))
    return c.analyze("--policy", path), ["neg.toml", "threshold_min", "positive"]


@case("policy-unknown-mode")
def _(c):
    path = c.write("bike.toml", PACK.format(mode="bicycle", threshold=15, category="grocery"))
    return c.analyze("--policy", path), ["bike.toml", "mode", "'walk'"]


@case("policy-unknown-category")
def _(c):
    path = c.write("cat.toml", PACK.format(mode="walk", threshold=15, category="bakery"))
    return c.analyze("--policy", path), ["cat.toml", "bakery", "grocery"]


@case("policy-toml-in-gbk")
def _(c):
    text = PACK.format(mode="walk", threshold=15, category="grocery").replace('"my pack"', '"我的政策"')
    path = c.write("gbk.toml", text.encode("gbk"))
    return c.analyze("--policy", path), ["gbk.toml", "UTF-8"]


@case("policy-no-circles")
def _(c):
    path = c.write("empty_pack.toml", 'id = "mine"\nname = "my pack"\n')
    return c.analyze("--policy", path), ["empty_pack.toml", "circles", "missing required key", "how to fix"]


@case("policy-a-folder")
def _(c):
    (c.tmp / "packs.toml").mkdir()
    return c.analyze("--policy", str(c.tmp / "packs.toml")), ["packs.toml", "folder", "wuhan-2022"]


# ------------------------------------------------------------------ facilities

@case("facilities-missing-file")
def _(c):
    return c.analyze("--facilities", str(c.tmp / "pois.csv"), "--facilities-crs", "gcj02"), \
        ["pois.csv", "not found", "check the path"]


@case("facilities-no-crs")
def _(c):
    return c.analyze("--facilities", str(c.w / "weibo_pois_gcj02.csv")), \
        ["weibo_pois_gcj02.csv", "--facilities-crs", "gcj02"]


@case("facilities-no-lon-column")
def _(c):
    path = c.pois_csv("no_lon.csv", c.pois().drop(columns=["Longitude"]))
    return c.analyze("--facilities", path, "--facilities-crs", "gcj02"), ["no_lon.csv", "longitude", "--lon-column"]


@case("facilities-non-numeric-coords")
def _(c):
    df = c.pois()
    df["Longitude"] = df["Longitude"].astype(object)
    df.iloc[3, df.columns.get_loc("Longitude")] = "待定"  # "to be decided": no number at all
    path = c.pois_csv("text_lon.csv", df)
    return c.analyze("--facilities", path, "--facilities-crs", "gcj02"), ["text_lon.csv", "Longitude", "row"]


@case("facilities-lat-lon-swapped")
def _(c):
    df = c.pois().rename(columns={"Longitude": "Latitude", "Latitude": "Longitude"})
    path = c.pois_csv("swapped.csv", df)
    return c.analyze("--facilities", path, "--facilities-crs", "gcj02"), ["swapped.csv", "swap"]


@case("facilities-all-nan-coords")
def _(c):
    df = c.pois()
    df["Longitude"] = np.nan
    df["Latitude"] = np.nan
    path = c.pois_csv("nan.csv", df)
    return c.analyze("--facilities", path, "--facilities-crs", "gcj02"), ["nan.csv", "Longitude", "missing"]


@case("facilities-unknown-crs")
def _(c):
    return c.analyze("--facilities", str(c.w / "weibo_pois_gcj02.csv"), "--facilities-crs", "utm50"), \
        ["--facilities-crs", "utm50", "gcj02"]


@case("facilities-empty-file")
def _(c):
    path = c.write("empty.csv", b"")
    return c.analyze("--facilities", path, "--facilities-crs", "gcj02"), ["empty.csv", "--facilities", "empty"]


@case("facilities-header-only")
def _(c):
    path = c.write("header.csv", ",Name_POI,Name_POI.1,Longitude,Latitude,Category\n")
    return c.analyze("--facilities", path, "--facilities-crs", "gcj02"), ["header.csv", "no rows", "one row per facility"]


@case("facilities-unknown-category-column")
def _(c):
    return c.analyze("--facilities", str(c.w / "weibo_pois_gcj02.csv"), "--facilities-crs", "gcj02",
                     "--category-column", "Kind"), ["Kind", "--category-column", "Category"]


@case("facilities-unknown-lon-column")
def _(c):
    return c.analyze("--facilities", str(c.w / "weibo_pois_gcj02.csv"), "--facilities-crs", "gcj02",
                     "--lon-column", "lng"), ["lng", "--lon-column", "Longitude"]


@case("facilities-coordinates-out-of-range")
def _(c):
    df = c.pois()
    df.iloc[7, df.columns.get_loc("Latitude")] = 300.0
    path = c.pois_csv("lat300.csv", df)
    return c.analyze("--facilities", path, "--facilities-crs", "gcj02"), ["lat300.csv", "300"]


@case("facilities-wrong-extension")
def _(c):
    path = c.write("pois.docx", b"PK\x03\x04 not a table")
    return c.analyze("--facilities", path, "--facilities-crs", "gcj02"), ["pois.docx", ".csv"]


# ------------------------------------------------------------------ population

@case("population-missing-file")
def _(c):
    return c.analyze("--population", str(c.tmp / "pop.tif")), ["pop.tif", "--population", "not found"]


@case("population-not-a-raster")
def _(c):
    path = c.write("pop.tif", (c.w / "weibo_pois_gcj02.csv").read_bytes())
    return c.analyze("--population", path), ["pop.tif", "population (CLI --population)", "GeoTIFF"]


@case("population-raster-without-crs")
def _(c):
    import rasterio

    path = c.tmp / "nocrs.tif"
    with rasterio.open(c.w / "population_20plus.tif") as src:
        profile = src.profile
        data = src.read(1, window=((600, 700), (900, 1000)))
        transform = src.window_transform(((600, 700), (900, 1000)))
    profile.update(crs=None, width=100, height=100, transform=transform)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return c.analyze("--population", str(path)), ["nocrs.tif", "--population", "CRS"]


@case("population-raster-not-covering-area")
def _(c):
    import rasterio

    path = c.tmp / "west.tif"
    with rasterio.open(c.w / "population_20plus.tif") as src:
        profile = src.profile
        win = ((0, 100), (0, 100))  # the far north-west corner of Wuhan, ~50 km from Optics Valley
        data = src.read(1, window=win)
        transform = src.window_transform(win)
    profile.update(width=100, height=100, transform=transform)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return c.analyze("--population", str(path)), ["west.tif", "--population", "covers the study area"]


@case("population-65plus-alone")
def _(c):
    return c.analyze("--population-65plus", str(c.w / "population_65plus.tif")), \
        ["--population-65plus", "--population"]


@case("population-65plus-other-grid")
def _(c):
    import rasterio

    path = c.tmp / "p65_crop.tif"
    with rasterio.open(c.w / "population_65plus.tif") as src:
        profile = src.profile
        win = ((500, 1200), (500, 1300))
        data = src.read(1, window=win)
        transform = src.window_transform(win)
    profile.update(width=800, height=700, transform=transform)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return c.analyze("--population", str(c.w / "population_20plus.tif"), "--population-65plus", str(path)), \
        ["p65_crop.tif", "--population-65plus", "same grid", "gdalwarp"]


# ------------------------------------------------------------------ districts

@case("districts-missing-file")
def _(c):
    return c.analyze("--districts", str(c.tmp / "d.geojson")), ["d.geojson", "not found", "check the path"]


@case("districts-points-file")
def _(c):
    d = c.districts()
    d["geometry"] = d.geometry.representative_point()
    path = c.geojson("district_points.geojson", d)
    return c.analyze("--districts", path), ["district_points.geojson", "--districts", "polygon"]


@case("districts-no-crs")
def _(c):
    path = c.shapefile_without_crs("districts_nocrs", c.districts())
    return c.analyze("--districts", path), ["districts_nocrs.shp", "CRS", "EPSG:4326"]


@case("districts-no-name-column")
def _(c):
    path = c.geojson("unnamed.geojson", c.districts().drop(columns=["name", "name_en"]))
    return c.analyze("--districts", path), ["unnamed.geojson", "--districts", "district names", "Rename"]


@case("districts-not-geodata")
def _(c):
    path = c.write("districts.geojson", "name,zone\n洪山区,central\n")
    return c.analyze("--districts", path), ["districts.geojson", "--districts", "GeoJSON"]


@case("districts-unknown-zone")
def _(c):
    d = c.districts()
    d["zone"] = d["zone"].map({"central": "中心城区", "new_urban": "新城区"})
    path = c.geojson("zones_zh.geojson", d)
    return c.analyze("--districts", path), ["--districts", "中心城区", "central"]


# ------------------------------------------------------------------ units

@case("units-missing-file")
def _(c):
    return c.analyze("--units", str(c.tmp / "communities.gpkg")), ["communities.gpkg", "--units"]


@case("units-no-overlap")
def _(c):
    d = c.districts()
    far = d[d["name"] == "新洲区"]  # ~50 km north-east of Optics Valley
    path = c.geojson("xinzhou.geojson", far)
    return c.analyze("--units", path), ["xinzhou.geojson", "--units", "same place as the network"]


@case("units-lines")
def _(c):
    d = c.districts()
    d["geometry"] = d.geometry.boundary
    path = c.geojson("district_lines.geojson", d)
    return c.analyze("--units", path), ["district_lines.geojson", "polygon"]


@case("units-no-crs")
def _(c):
    path = c.shapefile_without_crs("units_nocrs", c.districts())
    return c.analyze("--units", path), ["units_nocrs.shp", "--units-crs"]


@case("units-csv-without-coordinates")
def _(c):
    path = c.write("communities.csv", "code,name\n420111001001,关山社区\n")
    return c.analyze("--units", path, "--units-crs", "gcj02"), ["communities.csv", "longitude"]


@case("districts-given-a-csv")
def _(c):  # the official community list (a CSV) where district polygons are expected
    return c.analyze("--districts", str(c.w / "communities_gcj02.csv")), \
        ["communities_gcj02.csv", "--districts", "without geometry", "polygons"]


@case("area-given-a-csv")
def _(c):
    return c.analyze("--area", str(c.w / "communities_gcj02.csv")), \
        ["communities_gcj02.csv", "--area", "without geometry", "polygons"]


@case("area-given-a-raster")
def _(c):
    return c.analyze("--area", str(c.w / "population_20plus.tif")), ["population_20plus.tif", "--area"]


@case("districts-given-the-network")
def _(c):
    return c.analyze("--districts", str(c.w / "guanggu.osm.pbf")), ["guanggu.osm.pbf", "--districts"]


@case("units-given-a-raster")
def _(c):
    return c.analyze("--units", str(c.w / "population_20plus.tif")), ["population_20plus.tif", "--units"]


@case("area-missing-file")
def _(c):
    return c.analyze("--area", str(c.tmp / "area.geojson")), ["area.geojson", "--area", "check the path"]


@case("area-no-overlap")
def _(c):
    d = c.districts()
    path = c.geojson("hannan.geojson", d[d["name"] == "汉南区"])  # ~45 km south-west of Optics Valley
    return c.analyze("--area", path), ["hannan.geojson", "--area", "same place as the network"]


@case("area-points-file")
def _(c):
    d = c.districts()
    d["geometry"] = d.geometry.representative_point()
    path = c.geojson("area_points.geojson", d)
    return c.analyze("--area", path), ["area_points.geojson", "--area", "polygon"]


@case("units-duplicate-ids")
def _(c):
    d = c.districts()
    d["unit_id"] = "U1"
    path = c.geojson("dup_units.geojson", d)
    return c.analyze("--units", path), ["dup_units.geojson", "U1", "unique"]


@case("units-csv-without-crs")
def _(c):
    path = c.write("points.csv", "unit_id,name,lon,lat\nc1,关山社区,114.51,30.48\n")
    return c.analyze("--units", path), ["points.csv", "--units-crs"]


@case("units-empty-geojson")
def _(c):
    path = c.write("no_units.geojson", '{"type": "FeatureCollection", "features": []}')
    return c.analyze("--units", path), ["no_units.geojson", "no features", "one feature per unit"]


@case("area-empty-geojson")
def _(c):
    path = c.write("no_area.geojson", '{"type": "FeatureCollection", "features": []}')
    return c.analyze("--area", path), ["no_area.geojson", "--area", "give a boundary polygon"]


@case("districts-empty-geojson")
def _(c):
    path = c.write("no_districts.geojson", '{"type": "FeatureCollection", "features": []}')
    return c.analyze("--districts", path), ["no_districts.geojson", "--districts", "one polygon per district"]


@case("facilities-json-not-geojson")
def _(c):
    path = c.write("pois.json", '{"pois": [{"name": "协和医院", "lon": 114.27, "lat": 30.58}]}')
    return c.analyze("--facilities", path, "--facilities-crs", "gcj02"), ["pois.json", "FeatureCollection", "CSV"]


# ------------------------------------------------------------------ output folder

@case("out-is-a-file")
def _(c):
    path = c.write("taken", "x")
    return ["analyze", "--network", c.osm, "--out", path, "--quiet"], ["taken", "--out", "is a file"]


@case("out-not-writable")
def _(c):
    path = c.write("afile", "x")
    return ["analyze", "--network", c.osm, "--out", str(Path(path) / "sub"), "--quiet"], ["afile", "--out"]


# ------------------------------------------------------------------ score

CANDS = "id,name,category,lon,lat\n"


@case("score-candidates-missing-file")
def _(c):
    return c.score("--candidates", str(c.tmp / "sites.csv"), "--facilities-crs", "wgs84"), \
        ["sites.csv", "not found", "check the path"]


@case("score-candidates-duplicate-ids")
def _(c):
    path = c.write("dups.csv", CANDS + "S-001,a,elderly_care,114.51,30.48\nS-001,b,elderly_care,114.52,30.48\n")
    return c.score("--candidates", path, "--facilities-crs", "wgs84"), ["dups.csv", "S-001", "unique"]


@case("score-candidates-unknown-category")
def _(c):
    path = c.write("cats.csv", CANDS + "S-001,a,bakery,114.51,30.48\n")
    return c.score("--candidates", path, "--facilities-crs", "wgs84"), ["cats.csv", "bakery", "elderly_care"]


@case("score-candidates-outside-area")
def _(c):
    path = c.write("far.csv", CANDS + "S-001,a,elderly_care,114.30,30.60\nS-002,b,elderly_care,114.31,30.60\n")
    return c.score("--candidates", path, "--facilities-crs", "wgs84", "--circle", "elderly_care_15"), \
        ["far.csv", "lies in the study area", "--candidates-crs"]


@case("score-candidates-category-unknown")
def _(c):
    path = c.write("one.csv", "lon,lat\n114.51,30.48\n")
    return c.score("--candidates", path, "--facilities-crs", "wgs84", "--candidates-category", "nursing"), \
        ["nursing", "--candidates-category", "elderly_care"]


@case("score-candidates-no-crs")
def _(c):
    path = c.write("nocrs.csv", CANDS + "S-001,a,elderly_care,114.51,30.48\n")
    return c.score("--candidates", path), ["nocrs.csv", "--candidates-crs"]


@case("score-candidates-none-for-the-circle")
def _(c):
    path = c.write("groceries.csv", CANDS + "S-001,a,grocery,114.51,30.48\nS-002,b,grocery,114.52,30.48\n")
    return c.score("--candidates", path, "--facilities-crs", "wgs84", "--circle", "elderly_care_15"), \
        ["groceries.csv", "elderly_care", "--candidates-category"]


@case("score-select-not-a-whole-number")
def _(c):
    # asking for more sites than there are candidates is not an error (the selection says why
    # fewer were chosen, see test_scoring); half a site is
    path = c.write("two.csv", CANDS + "S-001,a,elderly_care,114.51,30.48\nS-002,b,elderly_care,114.52,30.48\n")
    return c.score("--candidates", path, "--facilities-crs", "wgs84", "--circle", "elderly_care_15", "--k", "2.5"), \
        ["--k", "integer"]


# ------------------------------------------------------------------ map

@case("map-out-not-html")
def _(c):
    return ["map", "--network", c.osm, "--out", str(c.tmp / "map.png"), "--quiet"], ["--out", ".html", "maps/coverage.html"]


@case("map-network-missing")
def _(c):
    return ["map", "--network", str(c.tmp / "x.osm"), "--out", str(c.tmp / "m.html")], ["x.osm", "not found"]


@case("map-out-in-a-file")
def _(c):
    path = c.write("afile", "x")
    return ["map", "--network", c.osm, "--out", str(Path(path) / "m.html"), "--quiet"], ["afile", "--out"]


# ------------------------------------------------------------------ usage errors (click)

@case("usage-option-without-value")
def _(c):
    return ["analyze", "--out", c.out, "--network"], ["--network", "requires an argument"]


@case("usage-unknown-command")
def _(c):
    return ["analyse", "--network", c.osm], ["analyse", "No such command"]


# ------------------------------------------------------------------ options alone
# (name, command, its extra arguments, strings the message must contain)
OPTION_CASES = [
    ("policy-unknown-id", "analyze", ("--policy", "wuhan-2099"), ["wuhan-2099", "wuhan-2022"]),
    ("grid-zero", "analyze", ("--grid-m", "0"), ["--grid-m", "positive", "100–500 m"]),
    ("grid-negative", "analyze", ("--grid-m", "-250"), ["--grid-m", "positive", "100–500 m"]),
    ("grid-huge", "analyze", ("--grid-m", "1e9"), ["--grid-m", "1e+09", "100–500 m"]),
    ("grid-tiny", "analyze", ("--grid-m", "0.5"), ["--grid-m", "100–500 m"]),
    ("grid-shape-unknown", "analyze", ("--grid-shape", "triangle"), ["--grid-shape", "triangle", "hexagon"]),
    ("walk-speeds-zero", "analyze", ("--walk-speeds", "0"), ["--walk-speeds", "> 0", "50,60"]),
    ("walk-speeds-negative", "analyze", ("--walk-speeds", "60,-50"), ["--walk-speeds", "> 0"]),
    ("walk-speeds-text", "analyze", ("--walk-speeds", "slow,fast"),
     ["--walk-speeds", "comma-separated numbers", "50,60,67,80"]),
    ("lang-unknown", "analyze", ("--lang", "xx"), ["--lang", "'zh' or 'en'"]),
    ("score-select-zero", "score", ("--k", "0"), ["--k", "positive"]),
    ("score-select-negative", "score", ("--k", "-1"), ["--k", "positive"]),
    ("score-unknown-circle", "score", ("--circle", "life_10"), ["life_10", "--circle", "life_15"]),
    ("score-unknown-method", "score", ("--method", "best"), ["--method", "greedy"]),
    ("score-bad-spacing", "score", ("--spacing-m", "0"), ["--spacing-m", "positive"]),
    ("score-bad-threads", "score", ("--n-threads", "0"), ["--n-threads", "at least 1"]),
    ("score-unknown-generate-category", "score", ("--categories", "bakery"), ["--categories", "bakery", "grocery"]),
    ("map-lang-unknown", "map", ("--lang", "fr"), ["--lang", "'zh' or 'en'"]),
    ("usage-unknown-option", "analyze", ("--bogus",), ["--bogus", "No such option"]),
    ("usage-grid-not-a-number", "analyze", ("--grid-m", "fine"), ["--grid-m", "Invalid value", "--help"]),
    ("usage-select-not-a-number", "score", ("--k", "three"), ["--k", "Invalid value", "--help"]),
]
for _name, _command, _extra, _expected in OPTION_CASES:
    case(_name)(lambda c, command=_command, extra=_extra, expected=_expected:
                (getattr(c, command)(*extra), list(expected)))


# ------------------------------------------------------------------ the test


def test_catalogue_is_large_enough():
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_gives_one_clear_message(name, wuhan_dir, tmp_path, capsys):
    argv, expected = CASES[name](Ctx(wuhan_dir, tmp_path))
    code = main(argv)
    captured = capsys.readouterr()
    text = captured.err + captured.out
    assert "Traceback" not in text, text
    assert code == 2, f"exit code {code}: {text}"
    assert "internal error" not in text, text
    for needle in expected:
        assert needle in text, f"{needle!r} not in message:\n{text}"
    # one message, not a log of many: the error line comes once
    assert sum(line.strip().lower().startswith("error:") for line in text.splitlines()) == 1, text
