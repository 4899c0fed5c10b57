"""OSM road tags read as travel rules: which ways each mode may use, in which direction, how fast.

Modelled on OSM's access conventions and osmnx's walk/drive filters (rules
re-stated here, not copied).  Every function takes the segments table of
:class:`circles._osm.OsmTables` (one row per way segment, tag columns as
text) and returns one value per segment; :func:`circles.network.build_network`
applies them.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from circles import settings

# Which ways each mode may use.  Modelled on OSM's access conventions and
# osmnx's walk/drive filters (rules re-stated here, not copied).
_NOT_WALKABLE = frozenset({
    "abandoned", "bus_guideway", "construction", "corridor", "elevator", "escalator",
    "motorway", "motorway_link", "no", "planned", "platform", "proposed", "raceway",
    "razed", "disused", "busway", "services", "rest_area",
})
_DRIVABLE = frozenset({
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
    "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified",
    "residential", "living_street", "service", "road",
})
_NO_DRIVE_SERVICE = frozenset({"parking_aisle", "parking", "private", "driveway"})
_NO = frozenset({"no", "private"})
_YES = frozenset({"yes", "designated", "permissive", "destination"})


def _col(segments: pd.DataFrame, key: str) -> pd.Series:
    return segments[key].fillna("").astype(str).str.strip().str.lower()


def walk_mask(segments: pd.DataFrame) -> np.ndarray:
    """Segments a pedestrian may use (not motorways, not foot=no, not private).

    Parameters
    ----------
    segments : DataFrame
        One row per way segment with the OSM tag columns (:data:`circles._osm.SEGMENT_TAGS`).

    Returns
    -------
    ndarray
        bool per segment.
    """
    hw = _col(segments, "highway")
    foot = _col(segments, "foot")
    access = _col(segments, "access")
    ok = (hw != "") & ~hw.isin(_NOT_WALKABLE) & (_col(segments, "area") != "yes")
    ok &= ~foot.isin(_NO)
    ok &= ~(access.isin(_NO) & ~foot.isin(_YES))
    ok &= _col(segments, "service") != "private"
    return ok.to_numpy()


def drive_mask(segments: pd.DataFrame) -> np.ndarray:
    """Segments a car (an ambulance) may use.

    Parameters
    ----------
    segments : DataFrame
        One row per way segment with the OSM tag columns (:data:`circles._osm.SEGMENT_TAGS`).

    Returns
    -------
    ndarray
        bool per segment.
    """
    hw = _col(segments, "highway")
    motor = _col(segments, "motor_vehicle")
    car = _col(segments, "motorcar")
    access = _col(segments, "access")
    ok = hw.isin(_DRIVABLE) & (_col(segments, "area") != "yes")
    ok &= ~motor.isin({"no"}) & ~car.isin({"no"})
    ok &= ~(access.isin(_NO) & ~(motor.isin(_YES) | car.isin(_YES)))
    ok &= ~_col(segments, "service").isin(_NO_DRIVE_SERVICE)
    return ok.to_numpy()


def oneway_direction(segments: pd.DataFrame) -> np.ndarray:
    """Travel direction per segment under OSM ``oneway`` rules (roundabouts and motorways imply one-way).

    Parameters
    ----------
    segments : DataFrame
        One row per way segment with the OSM tag columns (:data:`circles._osm.SEGMENT_TAGS`).

    Returns
    -------
    ndarray
        int8 per segment: +1 forward only, -1 backward only, 0 both ways.
    """
    ow = _col(segments, "oneway")
    hw = _col(segments, "highway")
    junction = _col(segments, "junction")
    forward = ow.isin({"yes", "true", "1"})
    implied = (junction.isin({"roundabout", "circular"}) | hw.isin({"motorway"})) & (ow == "")
    backward = ow.isin({"-1", "reverse"})
    return np.where(forward | implied, 1, np.where(backward, -1, 0)).astype(np.int8)


_SPEED_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$")


def parse_maxspeed(values: pd.Series) -> np.ndarray:
    """km/h from OSM ``maxspeed`` values; NaN where absent or not numeric.

    ``"50"``, ``"50 km/h"``, ``"30 mph"``; several values (``"60;40"``) give the
    lowest.  Zone codes such as ``"CN:urban"`` give NaN (the class table applies).

    Parameters
    ----------
    values : Series
        Raw ``maxspeed`` tag values.

    Returns
    -------
    ndarray of float
        km/h per value.

    Examples
    --------
    >>> parse_maxspeed(pd.Series(["50", "30 mph", "60;40", "CN:urban", None])).round(1).tolist()
    [50.0, 48.3, 40.0, nan, nan]
    """
    out = np.full(len(values), np.nan)
    for i, raw in enumerate(values.to_numpy(object)):
        if not isinstance(raw, str) or not raw:
            continue
        speeds = []
        for part in raw.split(";"):
            m = _SPEED_RE.match(part)
            if m:
                kph = float(m.group(1)) * (1.609344 if m.group(2) == "mph" else 1.0)
                if 3.0 <= kph <= 150.0:
                    speeds.append(kph)
        if speeds:
            out[i] = min(speeds)
    return out


def class_speed_kph(highway: pd.Series) -> np.ndarray:
    """km/h by OSM ``highway`` class (:data:`circles.settings.DRIVE_SPEED_KPH`, else the fallback).

    Parameters
    ----------
    highway : Series
        OSM ``highway`` values.

    Returns
    -------
    ndarray of float
    """
    hw = highway.fillna("").astype(str).str.lower()
    return hw.map(dict(settings.DRIVE_SPEED_KPH)).fillna(settings.DRIVE_SPEED_FALLBACK_KPH).to_numpy(float)
