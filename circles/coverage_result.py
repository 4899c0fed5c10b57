"""What a coverage run produces and records: :class:`CoverageResult`, and its inputs' records.

:class:`AnalysisOptions` keeps the options a run used (later steps read them
instead of re-defaulting); :class:`Demand` is where people are, as arrays;
:class:`CoverageResult` is everything :func:`circles.analyze` computed.  The
run itself is :func:`circles.coverage.compute_coverage`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from circles import settings
from circles.errors import InputError

if TYPE_CHECKING:
    import geopandas as gpd

    from circles.network import Network
    from circles.policies import Circle, Policy

STATUSES = ("covered", "partial", "uncovered", "empty", "off_network", "no_data")


@dataclass(frozen=True)
class AnalysisOptions:
    """The options an analysis ran with; later steps (scoring, coverage after
    new sites) read them instead of re-defaulting.

    Attributes
    ----------
    covered_min, uncovered_max : float
        Unit status thresholds on the covered share (``covered`` at or above
        ``covered_min``, ``uncovered`` below ``uncovered_max``).
    max_snap_m : float
        Points farther than this from the network are off the network.
    cap_min : float
        Horizon: travel times are tracked up to this many minutes.
    walk_speeds : tuple of float
        Extra walking speeds (m/min) of the sensitivity table.
    facilities_crs, units_crs : str or None
        The coordinate systems the facilities and units files were declared in.
    """

    covered_min: float = settings.COVERED_SHARE_MIN
    uncovered_max: float = settings.UNCOVERED_SHARE_MAX
    max_snap_m: float = settings.MAX_SNAP_M
    cap_min: float = settings.MINUTES_CAP
    walk_speeds: tuple[float, ...] = ()
    facilities_crs: str | None = None
    units_crs: str | None = None


# --------------------------------------------------------------- demand

@dataclass(eq=False)
class Demand:
    """Where people are, as arrays (one entry per demand point).

    ``weight_all`` and ``weight_65plus`` are persons (or 1 per unit point when
    no population is known); ``unit`` indexes the unit row (``-1`` outside every
    unit); ``zone`` and ``district`` come from the districts layer.
    """

    lon: np.ndarray
    lat: np.ndarray
    weight_all: np.ndarray
    weight_65plus: np.ndarray
    unit: np.ndarray
    district: np.ndarray  # object: district name or None
    zone: np.ndarray  # object: zone or None
    has_population: bool
    snaps: dict = field(default_factory=dict)  # network mode -> Snap

    def __len__(self) -> int:
        return int(self.lon.size)

    def weights(self, group: str) -> np.ndarray:
        """Per-point weights of a population group.

        Parameters
        ----------
        group : str
            ``"65plus"`` for residents 65+, anything else for everyone.

        Returns
        -------
        ndarray
        """
        return self.weight_65plus if group == "65plus" else self.weight_all


# --------------------------------------------------------------- result

@dataclass(eq=False)
class CoverageResult:
    """Everything :func:`circles.analyze` computed.

    Attributes
    ----------
    units : GeoDataFrame
        Index-aligned with the input units (EPSG:4326), with per circle
        ``<circle>_minutes``, ``<circle>_covered_share``, ``<circle>_status``
        (covered | partial | uncovered | empty | off_network | no_data),
        ``<circle>_missing``, ``<circle>_threshold_min``, ``<circle>_rule`` and
        per required category ``<circle>_<category>_minutes`` (population-
        weighted median minutes to the nearest facility of the category).
    facilities : GeoDataFrame
        Facilities used, with snap distance and off-network flag per network.
    summary : DataFrame
        One row per circle: population, covered population and share, units
        by status, facilities found per required category, the rule.
    district_summary : DataFrame
        The same per circle and district.
    sensitivity : DataFrame
        Covered share per walking speed for the walking circles.
    summary : DataFrame (see above)
        ``status`` is ``no_data`` for a circle one of whose requirement groups
        has no usable facility (none in the input or none on the network): its
        ``covered_population`` and ``covered_share`` are NaN, never 0.
    data_quality : dict of DataFrame
        ``facilities`` per category (found, off-network, status "no data" /
        "all outside area" / "none on network" / "ok"), ``inputs`` (facilities
        per category and units against the study area: inside, outside,
        off-network, nearest outside, likely cause; :mod:`circles.inputs`),
        ``inputs_by_source`` (the same per facility source), ``unclassified``
        POIs, ``off_network`` units and people, ``network`` parts.
    options : AnalysisOptions
        The thresholds, snap limit, horizon and speeds the analysis ran with.
    node_minutes : dict
        ``node_minutes[circle][category]``: minutes from every node of the
        circle's network to the nearest facility of that category (NaN beyond
        the cap or unreachable), facility access legs included.
    point_minutes : dict
        The same per demand point (resident access legs included).
    """

    policy: Policy
    units: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    summary: pd.DataFrame
    district_summary: pd.DataFrame
    sensitivity: pd.DataFrame
    data_quality: dict[str, pd.DataFrame]
    networks: dict[str, Network]
    demand: Demand
    node_minutes: dict[str, dict[str, np.ndarray]]
    point_minutes: dict[str, dict[str, np.ndarray]]
    point_limits: dict[str, list[np.ndarray]]
    districts: gpd.GeoDataFrame | None = None
    area: Any = None  # shapely geometry (EPSG:4326) or None
    assumptions: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    options: AnalysisOptions = field(default_factory=AnalysisOptions)

    def circle(self, circle_id: str) -> Circle:
        """The circle ``circle_id`` of this result's policy.

        Parameters
        ----------
        circle_id : str
            A circle id of :attr:`policy`.

        Returns
        -------
        Circle

        Raises
        ------
        InputError
            If the policy has no such circle (the message lists its circles).
        """
        for c in self.policy.circles:
            if c.id == circle_id:
                return c
        raise InputError(f"no circle {circle_id!r} in policy {self.policy.id!r}; "
                         f"circles: {[c.id for c in self.policy.circles]}")

    def uncovered(self, circle_id: str) -> pd.DataFrame:
        """Units that are not covered for a circle, worst first, with what they lack.

        The people column is the circle's own group: ``population_65plus`` for
        a circle weighted by residents 65+ (elderly care), else ``population``.

        Parameters
        ----------
        circle_id : str
            A circle id of :attr:`policy`.

        Returns
        -------
        DataFrame
            Uncovered, partial, off-network and no-data units, lowest covered
            share first (ties: most people first).
        """
        circle = self.circle(circle_id)
        people = "population_65plus" if circle.population == "65plus" else "population"
        cols = ["unit_id", "name", "district", people, f"{circle_id}_covered_share",
                f"{circle_id}_status", f"{circle_id}_minutes", f"{circle_id}_missing", f"{circle_id}_rule"]
        u = self.units
        # no_data units are listed too: nothing is known to cover them (the status says why)
        mask = u[f"{circle_id}_status"].isin(["uncovered", "partial", "off_network", "no_data"])
        out = pd.DataFrame(u.loc[mask, [c for c in cols if c in u.columns]])
        order = [c for c in (f"{circle_id}_covered_share", people) if c in out.columns]
        return out.sort_values(order, ascending=[True, False][:len(order)], na_position="last")

    def isochrones(self, circle_ids: Sequence[str] | None = None) -> gpd.GeoDataFrame:
        """Reached-network polygons per circle and required category at the
        circle's limit(s), from this analysis' own per-node minutes (EPSG:4326).

        Parameters
        ----------
        circle_ids : sequence of str, optional
            The circles to draw (default: every circle of the policy).

        Returns
        -------
        GeoDataFrame
            Columns ``circle``, ``category``, ``minutes`` and the polygon.
        """
        import geopandas as gpd

        from circles.isochrones import circle_isochrones

        ids = circle_ids or [c.id for c in self.policy.circles]
        frames = [circle_isochrones(self, cid) for cid in ids]
        frames = [f for f in frames if len(f)]
        if not frames:
            return gpd.GeoDataFrame({"circle": [], "category": [], "minutes": []}, geometry=[], crs="EPSG:4326")
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs="EPSG:4326")

    def to_files(self, out_dir: str | Path, *, lang: str = "zh", map_html: bool = True,
                 basemap: str | None = None) -> dict[str, Path]:
        """Write coverage.gpkg, coverage.csv, summary.csv, coverage.xlsx and map.html.

        Parameters
        ----------
        out_dir : str or Path
            Folder to write into (created if missing).
        lang : str, default "zh"
            Language of labels in the spreadsheet and map.
        map_html : bool, default True
            Also write the interactive map.
        basemap : str, optional
            An online basemap under the map (off by default).

        Returns
        -------
        dict of str to Path
            The files written, by kind.
        """
        from circles.outputs.files import write_outputs

        return write_outputs(self, Path(out_dir), lang=lang, map_html=map_html, basemap=basemap)
