"""Scenarios: add, move or close facilities and see every circle's coverage change at once.

A :class:`Scenario` starts from a finished analysis (:class:`~circles.coverage.CoverageResult`) and keeps, per
circle and per category the circle requires, the minutes from every demand point to the nearest open facility.
An edit recomputes only what it touches:

* **adding** a site runs one bounded search from it (the compiled kernel scoring uses, its access leg as the
  start time) on the network of each circle its category counts towards, and takes the point-wise minimum with
  the minutes so far — the same numbers a full re-analysis gives, since a new facility can only make times
  shorter;
* **closing** or **moving** a facility runs one multi-source search for its category (the same function the
  analysis uses) from the facilities still open;
* then, per touched circle, the requirement groups holding the category and the circle's per-point result are
  recomputed, and covered people are summed per district.

Searches stop at the circle's longest limit: minutes beyond it never change whether a resident is covered.
Everything here works on the result's arrays; :mod:`circles.serve` puts it on a web page, and
:meth:`Scenario.after_result` re-runs the full coverage (every table and file of ``circles analyze``) with the
scenario's facilities.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from circles._scenario_circle import CircleState
from circles.classify import CATEGORIES
from circles.coords import check_lonlat, normalize_crs, to_wgs84, wgs84_to_bd09, wgs84_to_gcj02
from circles.coverage import no_data_categories
from circles.coverage_arrays import unit_coverage
from circles.errors import InputError

if TYPE_CHECKING:
    import geopandas as gpd

    from circles.coverage_result import CoverageResult

__all__ = ["SCENARIO_COLUMNS", "FacilityNotFound", "Scenario"]

#: Columns of :meth:`Scenario.scenario_table` (``scenario.csv``).
SCENARIO_COLUMNS: tuple[str, ...] = (
    "action", "id", "category", "name", "lon", "lat", "from_lon", "from_lat", "crs_in", "x_in", "y_in",
    "from_x_in", "from_y_in", "walk_snap_m", "drive_snap_m",
)

#: The longest name a scenario site may carry.
MAX_NAME_CHARS = 200


class FacilityNotFound(InputError, KeyError):
    """No facility with the given id in the scenario (the web API answers 404)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


@dataclass
class _Edit:
    """One step of the history (for undo): what was done and what it replaced."""

    action: str  # add | move | close
    fid: str
    before: dict | None  # the facility row before the edit (None for add)


def _lonlat_in(lon: Any, lat: Any, crs: str | None, what: str) -> tuple[float, float]:
    """WGS84 lon/lat of one point given in ``crs`` (wgs84 | gcj02 | bd09), checked."""
    try:
        lon_f, lat_f = float(lon), float(lat)
    except (TypeError, ValueError):
        raise InputError(f"{what}: lon and lat must be numbers in degrees, got lon={lon!r}, lat={lat!r}") from None
    check_lonlat([lon_f], [lat_f], what)
    kind = normalize_crs(crs or "wgs84")
    x, y = to_wgs84(lon_f, lat_f, kind)
    return float(x), float(y)


def _from_wgs84(lon: float, lat: float, kind: str) -> tuple[float, float]:
    if kind == "gcj02":
        x, y = wgs84_to_gcj02(lon, lat)
    elif kind == "bd09":
        x, y = wgs84_to_bd09(lon, lat)
    else:
        x, y = lon, lat
    return float(x), float(y)


class Scenario:
    """Facilities added, moved and closed on top of an analysis, with coverage kept current.

    Parameters
    ----------
    result : CoverageResult
        The analysis to start from (``circles.analyze``).
    facilities_crs : str, optional
        The coordinate system of the user's facility file (wgs84 | gcj02 | bd09): ``scenario.csv`` gives every
        position in WGS84 and in this system.  Default WGS84.

    Notes
    -----
    Every public method takes the scenario's lock, so several threads (browser tabs of ``circles serve``) see
    one consistent sequence of edits; :attr:`version` counts them.

    Examples
    --------
    >>> import circles
    >>> result = circles.analyze(circles.demo.demo_network_path(), grid_m=500)  # doctest: +SKIP
    >>> s = Scenario(result)  # doctest: +SKIP
    >>> fid = s.add("elderly_care", 24.94, 60.17, name="new station")  # doctest: +SKIP
    >>> s.summary()["circles"][-1]["covered_population"]  # doctest: +SKIP
    """

    def __init__(self, result: CoverageResult, *, facilities_crs: str | None = None) -> None:
        self.result = result
        self.facilities_crs = normalize_crs(facilities_crs or "wgs84")
        self.version = 0
        self._lock = threading.RLock()
        self._history: list[_Edit] = []
        self._next_id = 1
        self._base = self._facility_table(result)
        self._rows = self._base.copy()
        self._circles = {c.id: CircleState.from_result(result, c) for c in result.policy.circles}
        self._before = self._totals()
        self._before_units: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._districts = sorted({d if isinstance(d, str) else "(none)" for d in result.demand.district})
        dmap = {d: i for i, d in enumerate(self._districts)}
        self._dcode = np.array([dmap[d if isinstance(d, str) else "(none)"] for d in result.demand.district],
                               dtype=np.int64)
        self._before_districts = {cid: self._district_covered(s) for cid, s in self._circles.items()}
        for state in list(self._circles.values())[:1]:
            state.warm_up()

    # ------------------------------------------------------------------ set-up

    @staticmethod
    def _facility_table(result: CoverageResult) -> pd.DataFrame:
        """The analysis' facilities as plain rows: id, category, name, position, snap per network, state."""
        f = result.facilities
        out = pd.DataFrame({
            "id": f["facility_id"].astype(str).to_numpy(object),
            "category": f["category"].astype(str).to_numpy(object),
            "name": f["name"].fillna("").astype(str).to_numpy(object) if "name" in f else "",
            "lon": f.geometry.x.to_numpy(float), "lat": f.geometry.y.to_numpy(float),
            "state": "existing",
        })
        for mode in result.networks:
            out[f"{mode}_node"] = f[f"{mode}_node"].to_numpy(np.int64)
            out[f"{mode}_snap_m"] = f[f"{mode}_snap_m"].to_numpy(float)
            out[f"{mode}_off_network"] = f[f"{mode}_off_network"].to_numpy(bool)
        if not out["id"].is_unique:  # ids are how the page names a facility: make them unique, keep them readable
            dup = out["id"].duplicated(keep=False).to_numpy()
            out.loc[dup, "id"] = [f"{i}#{k}" for k, i in enumerate(out.loc[dup, "id"])]
        return out.set_index("id", drop=False)

    # ------------------------------------------------------------------ the arithmetic

    def _snap(self, lon: float, lat: float, category: str) -> dict[str, tuple[int, float, bool]]:
        """Node, snap distance and off-network flag of a point on every network (as the analysis snaps)."""
        out = {}
        for mode, net in self.result.networks.items():
            s = net.snap_lonlat(np.array([lon]), np.array([lat]), max_snap_m=self.result.options.max_snap_m,
                                source=f"the new {category} site")
            out[mode] = (int(s.node[0]), float(s.distance_m[0]), bool(s.off_network[0]))
        return out

    def _states_of(self, category: str) -> list[CircleState]:
        return [s for s in self._circles.values() if category in s.minutes]

    def _recompute_category(self, state: CircleState, category: str) -> None:
        """The category's minutes from the facilities open now."""
        rows = self._open_rows(category, state.mode)
        state.recompute(category, rows[f"{state.mode}_node"].to_numpy(np.int64),
                        rows[f"{state.mode}_snap_m"].to_numpy(float))

    def _open_rows(self, category: str, mode: str) -> pd.DataFrame:
        r = self._rows
        return r[(r["category"].to_numpy() == category) & (r["state"].to_numpy() != "closed")
                 & ~r[f"{mode}_off_network"].to_numpy(bool)]

    def _usable(self, state: CircleState) -> list[str]:
        """The circle's categories in requirement groups with no open facility on its network (no data), by the
        analysis' own rule.
        """
        r = self._rows
        open_on = r[(r["state"].to_numpy() != "closed") & ~r[f"{state.mode}_off_network"].to_numpy(bool)]
        return no_data_categories(state.circle, open_on["category"].value_counts().to_dict())

    def _totals(self) -> dict[str, dict]:
        unit = self.result.demand.unit
        out = {}
        for cid, s in self._circles.items():
            inside = unit >= 0
            population = float(s.weight[inside].sum())
            no_data = self._usable(s)
            covered = None if no_data else float((s.weight * s.met)[inside].sum())
            out[cid] = {"population": population, "covered_population": covered,
                        "covered_share": (covered / population if covered is not None and population > 0 else None),
                        "no_data": no_data}
        return out

    def _district_covered(self, s: CircleState) -> tuple[np.ndarray, np.ndarray]:
        n = len(self._districts)
        inside = self.result.demand.unit >= 0
        total = np.bincount(self._dcode[inside], weights=s.weight[inside], minlength=n)
        covered = np.bincount(self._dcode[inside], weights=(s.weight * s.met)[inside], minlength=n)
        return total, covered

    # ------------------------------------------------------------------ reading

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock:
            yield

    def summary(self) -> dict:
        """Every circle's covered people and share, now and before any edit, city-wide and per district.

        Returns
        -------
        dict
            ``{"version": int, "circles": [...], "districts": [...]}``.  Each circle entry has ``circle``,
            ``name_zh``, ``name_en``, ``population``, ``covered_population``, ``covered_share`` (None when the
            circle has no data: a requirement group without any open facility on its network), the same with
            ``_before``, and ``no_data`` (the categories missing).  Each district entry has ``circle``,
            ``district`` and the same numbers.
        """
        with self._locked():
            now = self._totals()
            circles = []
            for c in self.result.policy.circles:
                before = self._before[c.id]
                circles.append({
                    "circle": c.id, "name_zh": c.name_zh, "name_en": c.name_en, **now[c.id],
                    "covered_population_before": before["covered_population"],
                    "covered_share_before": before["covered_share"], "no_data_before": before["no_data"]})
            districts = []
            for c in self.result.policy.circles:
                total, covered = self._district_covered(self._circles[c.id])
                total0, covered0 = self._before_districts[c.id]
                for i, name in enumerate(self._districts):
                    if total[i] <= 0:
                        continue
                    cov = None if now[c.id]["no_data"] else float(covered[i])
                    cov0 = None if self._before[c.id]["no_data"] else float(covered0[i])
                    districts.append({
                        "circle": c.id, "district": name, "population": float(total[i]),
                        "covered_population": cov, "covered_share": None if cov is None else cov / float(total[i]),
                        "covered_population_before": cov0,
                        "covered_share_before": None if cov0 is None else cov0 / float(total0[i])})
            return {"version": self.version, "circles": circles, "districts": districts}

    def unit_status(self, circle_id: str) -> dict:
        """Per unit (in the order of ``result.units``): covered share and status now and before.

        Parameters
        ----------
        circle_id : str
            A circle of the policy.

        Returns
        -------
        dict
            ``{"version", "circle", "share": [float or None], "status": [str], "status_before": [str]}``;
            statuses as in the analysis (covered, partial, uncovered, empty, off_network, no_data).
        """
        with self._locked():
            self.result.circle(circle_id)  # raises InputError naming the circles
            s = self._circles[circle_id]
            share, status = self._unit_coverage(s, bool(self._usable(s)))
            before = self.result.units[f"{circle_id}_status"].astype(str).tolist()
            return {"version": self.version, "circle": circle_id,
                    "share": [None if not np.isfinite(v) else round(float(v), 4) for v in share],
                    "status": [str(v) for v in status], "status_before": before}

    def _unit_coverage(self, s: CircleState, no_data: bool) -> tuple[np.ndarray, np.ndarray]:
        opts = self.result.options
        d = self.result.demand
        _, _, _, share, status = unit_coverage(s.met, s.weight, d.unit, d.snaps[s.mode].off_network,
                                               len(self.result.units), no_data=no_data,
                                               covered_min=opts.covered_min, uncovered_max=opts.uncovered_max)
        return share, status

    def facilities(self) -> list[dict]:
        """Every facility: existing, added, moved and closed ones, with WGS84 positions.

        Returns
        -------
        list of dict
            ``id``, ``category``, ``name``, ``lon``, ``lat``, ``state`` (existing | added | moved | closed).
        """
        with self._locked():
            r = self._rows
            return [{"id": i, "category": c, "name": n, "lon": round(float(x), 7), "lat": round(float(y), 7),
                     "state": st}
                    for i, c, n, x, y, st in zip(r["id"], r["category"], r["name"], r["lon"], r["lat"], r["state"])]

    def categories(self) -> dict[str, list[str]]:
        """The categories a new site may have, each with the circles it counts towards (policy order).

        Returns
        -------
        dict of str to list of str
        """
        out: dict[str, list[str]] = {}
        for c in self.result.policy.circles:
            for cat in sorted(c.categories):
                out.setdefault(cat, []).append(c.id)
        return out

    # ------------------------------------------------------------------ edits

    def _check_category(self, category: Any) -> str:
        cats = self.categories()
        if not isinstance(category, str) or category not in cats:
            known = "known to circles" if isinstance(category, str) and category in CATEGORIES else "unknown"
            raise InputError(f"category {category!r} is {known} but no circle of policy "
                             f"{self.result.policy.id!r} uses it; choose one of {sorted(cats)}")
        return category

    def _placed(self, category: str, lon: float, lat: float) -> dict[str, Any]:
        """Snap a position for ``category``; refuse it when it is off every network the category is measured on."""
        snaps = self._snap(lon, lat, category)
        modes = {s.mode for s in self._states_of(category)}
        if modes and all(snaps[m][2] for m in modes):
            nearest = min(snaps[m][1] for m in modes)
            raise InputError(
                f"the point ({lon:.6f}, {lat:.6f}) is {nearest:,.0f} m from the nearest street of the "
                f"{'/'.join(sorted(modes))} network (the limit is {self.result.options.max_snap_m:g} m): "
                f"place the {category} site on a street inside the study area")
        row: dict[str, Any] = {"lon": lon, "lat": lat}
        for mode, (node, dist, off) in snaps.items():
            row.update({f"{mode}_node": node, f"{mode}_snap_m": dist, f"{mode}_off_network": off})
        return row

    def _apply_open(self, fid: str) -> None:
        """A facility became open (added, reopened or moved in): lower its category's minutes."""
        row = self._rows.loc[fid]
        for state in self._states_of(row["category"]):
            if not bool(row[f"{state.mode}_off_network"]):
                state.add_site(row["category"], int(row[f"{state.mode}_node"]), float(row[f"{state.mode}_snap_m"]))
            state.refresh([row["category"]])

    def _apply_gone(self, category: str) -> None:
        """A facility of ``category`` closed or left its place: recompute the category from the open ones."""
        for state in self._states_of(category):
            self._recompute_category(state, category)
            state.refresh([category])

    def _get(self, fid: Any) -> pd.Series:
        if not isinstance(fid, str) or fid not in self._rows.index:
            raise FacilityNotFound(f"no facility with id {fid!r} in this scenario")
        return self._rows.loc[fid]

    def add(self, category: str, lon: float, lat: float, *, crs: str | None = "wgs84", name: str = "") -> str:
        """Open a new facility.

        Parameters
        ----------
        category : str
            A category one of the policy's circles requires (see :meth:`categories`).
        lon, lat : float
            Its position in ``crs``.
        crs : str, default "wgs84"
            wgs84 | gcj02 | bd09.
        name : str, optional
            A name for tables and the map (at most 200 characters).

        Returns
        -------
        str
            The new facility's id (``new-1``, ``new-2`` …).

        Raises
        ------
        InputError
            For an unknown category, bad coordinates or a point off the networks.
        """
        with self._locked():
            category = self._check_category(category)
            if not isinstance(name, str) or len(name) > MAX_NAME_CHARS:
                raise InputError(f"name must be text of at most {MAX_NAME_CHARS} characters")
            lon, lat = _lonlat_in(lon, lat, crs, f"the new {category} site")
            row = self._placed(category, lon, lat)
            fid = f"new-{self._next_id}"
            self._next_id += 1
            new = pd.DataFrame([{**row, "id": fid, "category": category, "name": name.strip(), "state": "added"}])
            self._rows = pd.concat([self._rows, new.set_index("id", drop=False)])[self._rows.columns]
            self._apply_open(fid)
            self._history.append(_Edit("add", fid, None))
            self.version += 1
            return fid

    def move(self, fid: str, lon: float, lat: float, *, crs: str | None = "wgs84") -> None:
        """Move a facility (an existing one becomes "moved"; a closed one cannot move).

        Parameters
        ----------
        fid : str
            The facility's id.
        lon, lat : float
            The new position in ``crs``.
        crs : str, default "wgs84"
            wgs84 | gcj02 | bd09.

        Raises
        ------
        FacilityNotFound
            For an unknown id.
        InputError
            For a closed facility, bad coordinates or a point off the networks.
        """
        with self._locked():
            row = self._get(fid)
            if row["state"] == "closed":
                raise InputError(f"facility {fid!r} is closed: undo the closing before moving it")
            lon, lat = _lonlat_in(lon, lat, crs, f"the new position of {fid}")
            placed = self._placed(row["category"], lon, lat)
            before = row.to_dict()
            for key, value in placed.items():
                self._rows.at[fid, key] = value
            if row["state"] == "existing":
                self._rows.at[fid, "state"] = "moved"
            self._apply_gone(row["category"])
            self._history.append(_Edit("move", fid, before))
            self.version += 1

    def close(self, fid: str) -> None:
        """Close an existing facility, or take back an added one.

        Parameters
        ----------
        fid : str
            The facility's id.

        Raises
        ------
        FacilityNotFound
            For an unknown id.
        InputError
            When it is already closed.
        """
        with self._locked():
            row = self._get(fid)
            if row["state"] == "closed":
                raise InputError(f"facility {fid!r} is already closed")
            before = row.to_dict()
            if row["state"] == "added":
                self._rows = self._rows.drop(index=fid)
            else:
                self._rows.at[fid, "state"] = "closed"
            self._apply_gone(row["category"])
            self._history.append(_Edit("close", fid, before))
            self.version += 1

    def undo(self) -> bool:
        """Take back the last edit.

        Returns
        -------
        bool
            False when there was nothing to undo.
        """
        with self._locked():
            if not self._history:
                return False
            edit = self._history.pop()
            if edit.action == "add":
                category = self._rows.at[edit.fid, "category"]
                self._rows = self._rows.drop(index=edit.fid)
                self._apply_gone(category)
            else:
                before = edit.before or {}
                row = pd.DataFrame([before]).set_index("id", drop=False)[self._rows.columns]
                if edit.fid in self._rows.index:
                    self._rows.loc[edit.fid] = row.iloc[0]
                else:
                    self._rows = pd.concat([self._rows, row])
                if edit.action == "move":
                    self._apply_gone(before["category"])
                else:
                    self._apply_open(edit.fid)
            self.version += 1
            return True

    def reset(self) -> None:
        """Back to the analysis' facilities (no edits)."""
        with self._locked():
            self._rows = self._base.copy()
            self._history.clear()
            self._circles = {c.id: CircleState.from_result(self.result, c) for c in self.result.policy.circles}
            self.version += 1

    def replay(self, scenario_csv: str | Path | pd.DataFrame) -> int:
        """Apply the edits of a saved ``scenario.csv`` (:meth:`scenario_table`), row by row, to this scenario.

        ``add`` rows add a site of their ``category`` at ``lon``/``lat`` (WGS84) with their ``name`` (new ids are
        given); ``move`` rows move the facility ``id`` to ``lon``/``lat``; ``close`` rows close the facility ``id``.
        All or nothing: when a row cannot be applied, the rows applied so far are taken back.

        Parameters
        ----------
        scenario_csv : path or DataFrame
            The file (CSV in UTF-8 or GBK, or Excel, as saved or edited by hand) or its table.

        Returns
        -------
        int
            The number of edits applied.

        Raises
        ------
        InputError
            Naming the file and row: a missing column, an unknown action, or an edit this scenario refuses
            (e.g. a facility id not in this analysis: the file was saved from other inputs).
        """
        from circles._tables import read_table

        name = "the scenario table"
        table = scenario_csv
        if not isinstance(table, pd.DataFrame):
            name = str(scenario_csv)
            table = read_table(scenario_csv, what="edit", parameter="scenario_csv (CLI --scenario-csv)")
        missing = [c for c in ("action", "id", "category", "lon", "lat") if c not in table.columns]
        if missing:
            raise InputError(f"{name}: no column(s) {missing}; expected the columns of a scenario.csv saved by "
                             f"circles serve ({', '.join(SCENARIO_COLUMNS[:6])}, …)")
        with self._locked():
            start = self.n_edits
            try:
                for k, row in enumerate(table.to_dict("records"), start=2):
                    try:
                        self._replay_row(row)
                    except InputError as exc:
                        raise InputError(f"{name}, row {k}: {exc}") from None
            except InputError:
                while self.n_edits > start:
                    self.undo()
                raise
            return self.n_edits - start

    def _replay_row(self, row: dict) -> None:
        action = str(row.get("action") or "").strip().lower()
        fid = str(row.get("id") or "").strip()
        if action == "add":
            self.add(str(row.get("category") or "").strip(), row["lon"], row["lat"],
                     name=str(row.get("name") or "").strip())
        elif action == "move":
            if fid not in self._rows.index:
                raise FacilityNotFound(f"no facility with id {fid!r} in this analysis: was the file saved from "
                                       f"other inputs?")
            self.move(fid, row["lon"], row["lat"])
        elif action == "close":
            if fid not in self._rows.index:
                raise FacilityNotFound(f"no facility with id {fid!r} in this analysis: was the file saved from "
                                       f"other inputs?")
            self.close(fid)
        else:
            raise InputError(f"action {action!r} is not one of add, move, close")

    @property
    def n_edits(self) -> int:
        """Edits that undo can take back."""
        return len(self._history)

    # ------------------------------------------------------------------ export

    def scenario_table(self) -> pd.DataFrame:
        """The edits as a table: one row per added, moved or closed facility (``scenario.csv``).

        Positions are in WGS84 (``lon``, ``lat``; ``from_*`` for a moved facility's old place) and in the
        facility file's system (``x_in``, ``y_in`` with ``crs_in``).  A closed facility is given where it stood in
        the analysis, also when it was moved before it was closed.

        Returns
        -------
        DataFrame
            Columns :data:`SCENARIO_COLUMNS`.
        """
        with self._locked():
            r = self._rows[self._rows["state"] != "existing"]
            base = self._base
            rows = []
            for fid, row in r.iterrows():
                action = {"added": "add", "moved": "move", "closed": "close"}[row["state"]]
                if action == "close":  # the facility closes where it stood (even if it was moved first)
                    row = base.loc[fid]
                x_in, y_in = _from_wgs84(row["lon"], row["lat"], self.facilities_crs)
                rec = {"action": action, "id": fid, "category": row["category"], "name": row["name"],
                       "lon": round(row["lon"], 7), "lat": round(row["lat"], 7), "crs_in": self.facilities_crs,
                       "x_in": round(x_in, 7), "y_in": round(y_in, 7)}
                if action == "move":
                    flon, flat = float(base.at[fid, "lon"]), float(base.at[fid, "lat"])
                    fx, fy = _from_wgs84(flon, flat, self.facilities_crs)
                    rec.update(from_lon=round(flon, 7), from_lat=round(flat, 7), from_x_in=round(fx, 7),
                               from_y_in=round(fy, 7))
                for mode in self.result.networks:
                    rec[f"{mode}_snap_m"] = round(float(row[f"{mode}_snap_m"]), 1)
                rows.append(rec)
            return pd.DataFrame(rows, columns=list(SCENARIO_COLUMNS))

    def facilities_frame(self) -> gpd.GeoDataFrame:
        """The facilities open in the scenario, as ``circles.analyze(facilities=..., osm_facilities=False)`` takes them.

        Returns
        -------
        GeoDataFrame
            EPSG:4326; the analysis' facility rows (closed ones left out, moved ones at their new place) plus the
            added sites.
        """
        import geopandas as gpd

        with self._locked():
            r = self._rows[self._rows["state"] != "closed"]
            f = self.result.facilities.set_index(self._base.index)
            keep = [c for c in ("feature_id", "source", "label", "basis") if c in f]
            extra = f.reindex(r.index)[keep]
            out = pd.DataFrame({"facility_id": r["id"].to_numpy(object), "category": r["category"].to_numpy(object),
                                "name": r["name"].to_numpy(object)})
            for c in keep:
                out[c] = extra[c].to_numpy(object)
            if "feature_id" in out:
                out["feature_id"] = out["feature_id"].where(out["feature_id"].notna(), out["facility_id"])
            if "source" in out:
                out["source"] = out["source"].where(out["source"].notna(), "scenario")
            return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(r["lon"], r["lat"]), crs="EPSG:4326")

    def _edits_text(self) -> str:
        states = self._rows["state"].value_counts()
        return (f"scenario: the analysis' facilities with {states.get('added', 0)} added, {states.get('moved', 0)} "
                f"moved and {states.get('closed', 0)} closed (scenario.csv lists them)")

    def after_result(self) -> CoverageResult:
        """The full coverage with the scenario's facilities (every table of ``circles analyze``).

        Returns
        -------
        CoverageResult
            As :func:`circles.analyze` would give with :meth:`facilities_frame` as the facilities; the units,
            people, districts, networks and options are the analysis' own.
        """
        from circles.coverage import compute_coverage

        res = self.result
        facilities = self.facilities_frame()
        prefixes = tuple(f"{c.id}_" for c in res.policy.circles)
        units = res.units[[c for c in res.units.columns
                           if not c.startswith(prefixes) and c != "offnet_population"]].copy()
        demand = replace(res.demand, snaps={})
        after = compute_coverage(
            res.policy, res.networks, facilities, units, demand, walk_speeds=res.options.walk_speeds,
            max_snap_m=res.options.max_snap_m, covered_min=res.options.covered_min,
            uncovered_max=res.options.uncovered_max, cap_min=res.options.cap_min,
            assumptions=list(res.assumptions) + [self._edits_text()],
            unclassified=res.data_quality.get("unclassified"), districts=res.districts, area=res.area,
            facilities_crs=res.options.facilities_crs, units_crs=res.options.units_crs)
        after.assumptions = list(dict.fromkeys(after.assumptions))  # the snapping rule is stated once
        return after
