"""The option types the ``circles`` commands share, declared once (typer reads each command's own signature, so
the commands name these types instead of repeating every flag and its help).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

#: Default of --units-max-distance-m (circles.units.MAX_POINT_UNIT_DISTANCE_M; kept here so --help needs no geopandas).
MAX_POINT_UNIT_DISTANCE_M = 1000.0

NetworkOpt = Annotated[Path | None, typer.Option(
    "--network", help="OSM file: .osm, .osm.pbf or .graphml (walk and drive networks and OSM facilities are read "
                      "from it), or your own road line layer: .shp, .gpkg, .geojson in any CRS (roads only).")]
PlaceOpt = Annotated[str | None, typer.Option(
    "--place", help="Place name to download from OpenStreetMap: streets and facilities (needs the internet; cached).")]
NetworkLayerOpt = Annotated[str | None, typer.Option(
    "--network-layer", help="Layer of a multi-layer GeoPackage given as --network.")]
NetworkCrsOpt = Annotated[str | None, typer.Option(
    "--network-crs", help="CRS of a --network line layer that declares none, e.g. EPSG:4490 or EPSG:4547.")]
OnewayColOpt = Annotated[str | None, typer.Option(
    "--oneway-column", help="One-way column of a --network line layer (yes/1/-1/no/是/否; default: oneway/单行/单向).")]
SpeedColOpt = Annotated[str | None, typer.Option(
    "--speed-column", help="Speed column (km/h) of a --network line layer (default: maxspeed/speed/限速/速度).")]
ClassColOpt = Annotated[str | None, typer.Option(
    "--class-column", help="Road class column of a --network line layer: OSM highway values or 快速路/主干路/次干路/支路 "
                           "(default: highway/class/fclass/道路等级).")]
PolicyOpt = Annotated[str, typer.Option("--policy", help="Policy pack id (see `circles policies`) or a .toml file.")]
FacilitiesOpt = Annotated[Path | None, typer.Option(
    "--facilities", help="Facilities file (CSV/TSV in UTF-8 or GBK, XLSX, GeoJSON, GeoPackage, Shapefile) added to the OSM ones.")]
FacilitiesCrsOpt = Annotated[str | None, typer.Option(
    "--facilities-crs", help="Coordinate system of --facilities: wgs84 | gcj02 (Amap, Tencent) | bd09 (Baidu).")]
LonColOpt = Annotated[str | None, typer.Option("--lon-column", help="Longitude column of --facilities (default: found by name).")]
LatColOpt = Annotated[str | None, typer.Option("--lat-column", help="Latitude column of --facilities (default: found by name).")]
CategoryColOpt = Annotated[str | None, typer.Option(
    "--category-column", help="Category column of --facilities (our ids or labels such as 医院, 公园).")]
NameColOpt = Annotated[str | None, typer.Option("--name-column", help="Name column of --facilities.")]
FacilitiesSheetOpt = Annotated[str | None, typer.Option(
    "--facilities-sheet", help="Sheet of an Excel --facilities file: name or 0-based position (default: the first).")]
UnitsCrsOpt = Annotated[str | None, typer.Option(
    "--units-crs", help="Coordinate system of a CSV of unit points or a units file without CRS: wgs84 | gcj02 | bd09.")]
UnitsOpt = Annotated[str | None, typer.Option(
    "--units", help="Neighbourhood units: a polygon file, a CSV of points (with --units-crs), or 'osm' for the "
                    "network file's landuse=residential polygons.")]
DropMissingOpt = Annotated[bool, typer.Option(
    "--drop-missing", help="Drop units without coordinates (counted and reported) instead of stopping with an error "
                           "that names them; e.g. an official community list where only some rows have a centre point.")]
UnitsLevelOpt = Annotated[str, typer.Option(
    "--units-level", help="Units file with a `level` column (county/town/village mixed): auto = the finest level with "
                          "a unit inside the area, all = every row, or the value(s) to keep, e.g. village.")]
UnitsMaxDistanceOpt = Annotated[float, typer.Option(
    "--units-max-distance-m", help="Point units: a population cell goes to the nearest unit point within this many "
                                   "metres; farther cells are in no unit (counted).")]
UnitsIdColOpt = Annotated[str | None, typer.Option(
    "--units-id-column", help="Id column of --units (default found by name: unit_id, 社区编码, code, 编号 …).")]
UnitsNameColOpt = Annotated[str | None, typer.Option(
    "--units-name-column", help="Name column of --units (default found by name: name, 名称 …).")]
GridMOpt = Annotated[float | None, typer.Option(
    "--grid-m", help="Generate a grid of this cell size in metres when no --units (default 250).")]
GridShapeOpt = Annotated[str, typer.Option("--grid-shape", help="square | hexagon.")]
AreaOpt = Annotated[Path | None, typer.Option("--area", help="Study area polygon file (default: the OSM file's bounds).")]
PopulationOpt = Annotated[Path | None, typer.Option("--population", help="Population raster (persons per cell).")]
Population65Opt = Annotated[Path | None, typer.Option(
    "--population-65plus", help="65+ population raster (weights the elderly-care circle).")]
DistrictsOpt = Annotated[Path | None, typer.Option(
    "--districts", help="District polygons with a `zone` column (central / new_urban).")]
OutOpt = Annotated[Path, typer.Option("--out", help="Output folder.")]
LangOpt = Annotated[str, typer.Option("--lang", help="Map language: zh | en.")]
BasemapOpt = Annotated[str | None, typer.Option(
    "--basemap", help="Online basemap under the map: osm | carto-light | an https tile URL template "
                      "(default none: the map works offline; GCJ-02 tiles such as Amap/Gaode are refused).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", help="No progress output.")]
