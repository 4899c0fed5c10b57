"""One circle of a scenario as arrays: its oriented graph, its people, and the current minutes from every demand
point to the nearest open facility of each category it requires (private to :mod:`circles.scenario`).

An added site lowers a category's minutes with one bounded search from it (the compiled kernel scoring uses); a
closed or moved one has its category recomputed from the facilities still open with one multi-source search (the
function the analysis uses).  Minutes beyond the circle's longest limit are dropped: they never decide coverage.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from circles._kernels import bounded_dijkstra_batch
from circles.coverage_arrays import circle_point_result, group_minutes
from circles.engine import Snap, minutes_to_nearest, point_minutes
from circles.scoring.prepared import longest_limit, search_graph

if TYPE_CHECKING:
    from circles.coverage_result import CoverageResult
    from circles.policies import Circle

__all__ = ["CircleState"]


@dataclass(eq=False)
class CircleState:
    """One circle's arrays and its current per-point result (see the module doc)."""

    circle: Circle
    mode: str
    graph: Any  # scipy csr of travel seconds, as the analysis uses it
    indptr: np.ndarray  # oriented for single-source searches: transposed when residents travel *to* facilities
    indices: np.ndarray
    data: np.ndarray
    n_nodes: int
    snap: Snap  # the demand points on the circle's network
    access_speed: float
    horizon_min: float
    weight: np.ndarray  # per point: people of the circle's group, 0 outside every unit
    limits: list[np.ndarray]
    minutes: dict[str, np.ndarray]  # category -> per point (inf: not within the horizon)
    groups: list[np.ndarray] = field(default_factory=list)
    met: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    @classmethod
    def from_result(cls, result: CoverageResult, circle: Circle) -> CircleState:
        """The circle as the analysis left it.

        Parameters
        ----------
        result : CoverageResult
            The analysis.
        circle : Circle
            One of its policy's circles.

        Returns
        -------
        CircleState
        """
        net, graph, oriented, access_speed = search_graph(result, circle)
        limits = [np.asarray(lim, dtype=np.float64) for lim in result.point_limits[circle.id]]
        horizon = min(longest_limit(circle, limits), result.options.cap_min)
        minutes = {}
        for cat, pm in result.point_minutes[circle.id].items():
            m = np.nan_to_num(np.asarray(pm, dtype=np.float64), nan=np.inf)
            m[m > horizon] = np.inf
            minutes[cat] = m
        state = cls(
            circle=circle, mode=net.mode, graph=graph,
            indptr=np.ascontiguousarray(oriented.indptr, dtype=np.int64),
            indices=np.ascontiguousarray(oriented.indices, dtype=np.int32),
            data=np.ascontiguousarray(oriented.data, dtype=np.float64), n_nodes=net.n_nodes,
            snap=result.demand.snaps[net.mode], access_speed=access_speed,
            horizon_min=horizon,
            weight=result.demand.weights(circle.population).astype(np.float64) * (result.demand.unit >= 0),
            limits=limits, minutes=minutes)
        state.refresh(circle.categories)
        return state

    def refresh(self, categories: Iterable[str]) -> None:
        """Recompute the requirement groups holding ``categories`` and the circle's per-point result.

        Parameters
        ----------
        categories : iterable of str
            The categories whose minutes changed.
        """
        touched = set(categories)
        reqs = self.circle.requirements
        if not self.groups:
            self.groups = [np.zeros(0)] * len(reqs)
            touched = set(self.circle.categories)
        for g, req in enumerate(reqs):
            if touched & set(req.categories):
                self.groups[g] = group_minutes([self.minutes[c] for c in req.categories])
        _, self.met = circle_point_result(self.groups, self.limits)

    def add_site(self, category: str, node: int, snap_m: float) -> None:
        """Lower the category's minutes with one new open site (one bounded search from it).

        Parameters
        ----------
        category : str
            The site's category.
        node : int
            Its node on the circle's network.
        snap_m : float
            Its access leg in metres.
        """
        _, nodes, times_s = bounded_dijkstra_batch(
            self.indptr, self.indices, self.data, np.array([node], np.int64),
            np.array([snap_m / self.access_speed * 60.0]), self.horizon_min * 60.0, n_threads=1, validate=False)
        node_min = np.full(self.n_nodes, np.nan)
        node_min[nodes] = times_s / 60.0
        self._lower(category, node_min)

    def recompute(self, category: str, nodes: np.ndarray, snap_m: np.ndarray) -> None:
        """The category's minutes from the facilities open now (one multi-source search).

        Parameters
        ----------
        category : str
            The category.
        nodes, snap_m : ndarray
            The open facilities of the category on the circle's network: nodes and access legs in metres.
        """
        self.minutes[category] = np.full(self.snap.node.size, np.inf)
        if len(nodes):
            node_min = minutes_to_nearest(self.graph, nodes, limit_min=self.horizon_min,
                                          direction=self.circle.direction,
                                          source_offsets_min=np.asarray(snap_m, float) / self.access_speed)
            self._lower(category, node_min)

    def _lower(self, category: str, node_min: np.ndarray) -> None:
        """Per point, the smaller of the category's minutes and those through ``node_min`` (NaN: not reached)."""
        pm = np.nan_to_num(point_minutes(node_min, self.snap, self.access_speed), nan=np.inf)
        pm[pm > self.horizon_min] = np.inf
        self.minutes[category] = np.minimum(self.minutes[category], pm)

    def warm_up(self) -> None:
        """Load the compiled search kernel (a search that reaches nothing), not on the first click."""
        if self.indptr.size > 1:
            bounded_dijkstra_batch(self.indptr, self.indices, self.data, np.zeros(1, np.int64), np.zeros(1), 0.0,
                                   n_threads=1, validate=False)
