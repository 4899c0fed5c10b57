"""circles: measure whether a city delivers its service circles.

Measure, over the real street network from OpenStreetMap, whether residents
reach daily services, culture and sports, parks and squares, an ambulance and
elderly care within the minutes a policy sets (Wuhan 武政〔2022〕2号 and
GB 50180-2018 ship as policy packs).

>>> import circles
>>> result = circles.analyze("guanggu.osm", policy="wuhan-2022",
...                          population="population_20plus.tif")      # doctest: +SKIP
>>> result.summary                                                     # doctest: +SKIP

Isochrone polygons: ``circles.isochrones.isochrone_polygons(network, facilities, minutes=[5, 10, 15])``
(the module keeps its name; it is not re-exported as a function here).
"""

from circles.analysis import analyze, load_districts
from circles.coverage import CoverageResult
from circles.engine import minutes_to_nearest, travel_seconds
from circles.errors import (
    CirclesError,
    InputError,
    InputFileNotFoundError,
    NetworkUnavailableError,
    NoDataError,
    ValidationError,
)
from circles.facilities import FacilitySet, facilities_from_features, read_facility_file
from circles.network import Network, fetch_network, load_features, load_network
from circles.policies import list_policies, load_policy
from circles.population import demand_from_rasters
from circles.scenario import Scenario
from circles.scoring import generate_candidates, load_candidates, score, select_sites
from circles.units import grid_units, load_units

__version__ = "0.1.0"

__all__ = [
    "CirclesError", "CoverageResult", "FacilitySet", "InputError", "InputFileNotFoundError", "Network",
    "NetworkUnavailableError", "NoDataError", "Scenario", "ValidationError", "analyze", "demand_from_rasters",
    "facilities_from_features", "fetch_network", "generate_candidates", "grid_units",
    "list_policies", "load_candidates", "load_districts", "load_features", "load_network", "load_policy",
    "load_units", "minutes_to_nearest", "read_facility_file", "score", "select_sites", "travel_seconds",
]
