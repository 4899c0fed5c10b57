"""Typed defaults used across circles.

Every value is a :data:`typing.Final` constant: override it per call (every
function that uses one takes it as a keyword, e.g. ``max_snap_m=``) or, for
policy-related values, in a policy pack -- never by assigning to this module.
Functions copy these values into their keyword defaults when circles is
imported, so a module-level assignment would only half work; type checkers
reject it.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

#: Adult walking speed (STANDARDS §3): 60 m/min = 1.0 m/s.
WALK_SPEED_M_PER_MIN: Final[float] = 60.0
#: Walking speed used for the elderly-care circle.
ELDERLY_WALK_SPEED_M_PER_MIN: Final[float] = 50.0
#: Walking speeds reported in the sensitivity table.
SENSITIVITY_WALK_SPEEDS_M_PER_MIN: Final[tuple[float, ...]] = (50.0, 60.0, 67.0, 80.0)

#: Snaps further than this from the network are flagged off-network.
MAX_SNAP_M: Final[float] = 300.0

#: Points snap only to the network's main piece(s): its largest component plus
#: any other component with at least this many nodes and this share of all
#: nodes.  Smaller detached pieces (a footpath stub whose link was not mapped)
#: reach nothing, so a point beside one is joined to the main network instead.
MAIN_PIECE_MIN_NODES: Final[int] = 50
MAIN_PIECE_MIN_SHARE: Final[float] = 0.01

#: Urban China driving speeds at normal traffic by OSM highway class (km/h),
#: used where ``maxspeed`` is missing (STANDARDS §3).
DRIVE_SPEED_KPH: Final[MappingProxyType[str, float]] = MappingProxyType(
    {
        "motorway": 60.0,
        "motorway_link": 40.0,
        "trunk": 50.0,
        "trunk_link": 35.0,
        "primary": 40.0,
        "primary_link": 30.0,
        "secondary": 35.0,
        "secondary_link": 30.0,
        "tertiary": 30.0,
        "tertiary_link": 25.0,
        "residential": 20.0,
        "unclassified": 20.0,
        "service": 20.0,
        "living_street": 10.0,
        "road": 20.0,
    }
)
#: Speed for a drivable class missing from the table above.
DRIVE_SPEED_FALLBACK_KPH: Final[float] = 20.0

#: Online calls give up after this many seconds (osmnx waits 180 s by default).
REQUESTS_TIMEOUT_S: Final[float] = 10.0

#: Coverage status thresholds on the covered population share.
COVERED_SHARE_MIN: Final[float] = 0.9
UNCOVERED_SHARE_MAX: Final[float] = 0.1

#: Default grid cell size for generated neighbourhood units.
GRID_CELL_M: Final[float] = 250.0

#: Default folder for HTML maps.
MAPS_DIR: Final[str] = "maps"

#: Speed of the last stretch between a drivable road and a resident or an
#: ambulance station (the access leg on drive networks): 20 km/h in m/min.
DRIVE_ACCESS_SPEED_M_PER_MIN: Final[float] = 20_000.0 / 60.0

#: Minutes beyond which travel times are not tracked (reported as NaN, "beyond
#: the cap or unreachable").  Keeps runs bounded at city scale.
MINUTES_CAP: Final[float] = 60.0

#: Street segments longer than this get evenly spaced intermediate nodes, so a
#: resident beside a long road is never more than half of it from a node (and
#: is not flagged off-network just because the road has few OSM nodes).
MAX_SEGMENT_M: Final[float] = 100.0
