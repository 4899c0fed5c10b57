"""circles: does a city deliver its service circles?

Measure, over the real street network from OpenStreetMap, whether residents
reach daily services, culture and sports, parks and squares, an ambulance and
elderly care within the minutes a policy sets (Wuhan 武政〔2022〕2号 and
GB 50180-2018 ship as policy packs).
"""

from .engine import minutes_to_nearest, travel_seconds
from .errors import (
    CirclesError,
    InputError,
    InputFileNotFoundError,
    NetworkUnavailableError,
    NoDataError,
    ValidationError,
)
from .network import Network, fetch_network, load_features, load_network

__version__ = "0.1.0"

__all__ = [
    "CirclesError", "InputError", "InputFileNotFoundError", "NetworkUnavailableError", "NoDataError",
    "ValidationError", "Network", "fetch_network", "load_features", "load_network", "minutes_to_nearest",
    "travel_seconds",
]
