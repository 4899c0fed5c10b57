"""Policy targets measured: is the city on track for each one, city-wide and per district.

:func:`evaluate_targets` measures each ``[[targets]]`` entry of the result's
policy pack (:mod:`circles.policy_targets`) on the analysis' own inputs and says
``met``, ``not met`` or ``no data``:

* a **circle** target is the covered share of the circle's population
  (residents 65+ for the elderly-care circle) against the formed share;
* a **facility** target counts the facilities of its categories inside the study
  area (a facility in several categories counts once), sums or divides their
  capacity columns (:mod:`circles.facility_capacity`), or divides by the
  analysis' population — the population layer it was given;
* a **community** target needs community units (a units file of communities).

A target whose inputs are missing (no facility of its categories in the input,
no capacity column, no population layer, no districts layer, no community
units) is ``no data`` with a note saying what is missing — never ``met`` and
never ``not met``.  Districts are those of the analysis (the districts its
people live in); facilities are placed in them by their location.

Every note is written in English and in Chinese from the same numbers
(:mod:`circles.target_notes`); ``lang`` says which one is the ``note`` column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from circles import target_notes as tn
from circles.errors import InputError
from circles.outputs.maptext import check_lang
from circles.policy_targets import Target
from circles.target_notes import Note

if TYPE_CHECKING:
    from circles.coverage_result import CoverageResult

#: Columns of the frame :func:`evaluate_targets` returns (then the note in the other language, ``note_zh`` or ``note_en``).
TARGET_COLUMNS: tuple[str, ...] = ("target_id", "scope", "district", "target", "value", "unit", "status",
                                   "clause_zh", "clause_en", "note")
#: The three statuses.
STATUSES: tuple[str, ...] = ("met", "not met", "no data")
_TOLERANCE = 1e-9
_EMPTY: Note = ("", "")


@dataclass(frozen=True)
class _Scope:
    """One place a target is measured: the study area, or one district of it."""

    scope: str  # "city" | "district"
    district: str
    facilities: pd.DataFrame  # the facilities inside it (one row per feature and category)
    population: float  # everyone (the analysis' population layer)
    units: pd.DataFrame | None  # community units inside it, or None when the analysis has none


@dataclass(frozen=True)
class _Inputs:
    """What every target reads from a result, worked out once."""

    facilities: pd.DataFrame  # every facility of the input
    city: _Scope
    districts: tuple[_Scope, ...]
    central: tuple[str, ...]
    has_districts: bool
    has_population: bool
    units_note: Note  # why there are no community units (empty when there are)
    area_note: Note


def _inside(geometry: Any, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    if geometry is None:
        return np.ones(lon.size, dtype=bool)
    return np.asarray(shapely.contains_xy(geometry, lon, lat), dtype=bool)


def _facility_districts(facilities: pd.DataFrame, districts: Any) -> np.ndarray:
    """The district each facility lies in ("" outside every district, or without a districts layer)."""
    out = np.full(len(facilities), "", dtype=object)
    if districts is None or not len(facilities):
        return out
    lon, lat = facilities["lon"].to_numpy(float), facilities["lat"].to_numpy(float)
    for name, geom in zip(districts["district"].astype(str), districts.geometry):
        out[(out == "") & _inside(geom, lon, lat)] = name
    return out


def _generated_units(text: str) -> Note:
    """The units the analysis generated, from its ``units:`` assumption: as it says in English, and in Chinese."""
    grid = re.match(r"a ([\d.]+) m (\w+) grid", text)
    if grid:
        kind = tn.generated_units("grid", grid_m=float(grid[1]), grid_shape=grid[2])
    else:
        kind = tn.generated_units("landuse" if text.startswith("OSM landuse=residential") else text)
    return text, kind[1]


def _community_units(result: CoverageResult) -> tuple[pd.DataFrame | None, Note]:
    """The units when they are the user's own polygons (communities); else None and why not."""
    generated = [a for a in result.assumptions if a.startswith("units:")]
    if generated:
        return None, tn.note("units_generated", units=_generated_units(generated[0][7:]))
    units = result.units
    if not len(units) or not bool(units.geom_type.isin(["Polygon", "MultiPolygon"]).all()):
        return None, tn.note("units_points")
    return units, _EMPTY


def _gather(result: CoverageResult) -> _Inputs:
    """Facilities inside the study area with their districts, populations and units per scope."""
    fac = pd.DataFrame(result.facilities.drop(columns=result.facilities.geometry.name))
    inside = _inside(result.area, fac["lon"].to_numpy(float), fac["lat"].to_numpy(float)) if len(fac) else \
        np.zeros(0, dtype=bool)
    here = fac[inside].copy()
    here["_district"] = _facility_districts(here, result.districts)
    demand = result.demand
    weights = np.asarray(demand.weight_all, dtype=float)
    units, units_note = _community_units(result)
    city = _Scope("city", "", here, float(weights.sum()), units)
    names: list[str] = []
    zones: dict[str, str] = {}
    summary = result.district_summary
    if result.districts is not None and len(summary) and "district" in summary.columns:
        zone_values = summary["zone"] if "zone" in summary.columns else pd.Series("", index=summary.index)
        for name, zone in zip(summary["district"], zone_values):
            if isinstance(name, str) and name not in zones:
                names.append(name)
                zones[name] = zone if isinstance(zone, str) else ""
    point_district = np.asarray(demand.district, dtype=object)
    scopes = []
    for name in names:
        unit_rows = None if units is None else units[units["district"].astype(str) == name] \
            if "district" in units.columns else None
        scopes.append(_Scope("district", name, here[here["_district"] == name],
                             float(weights[point_district == name].sum()), unit_rows))
    area_note = tn.note("area_inside" if result.area is not None else "area_all")
    return _Inputs(facilities=fac, city=city, districts=tuple(scopes),
                   central=tuple(n for n in names if zones[n] == "central"), has_districts=bool(names),
                   has_population=bool(demand.has_population), units_note=units_note, area_note=area_note)


# ------------------------------------------------------------------ rows


def _row(t: Target, scope: _Scope | None, figure: float, value: float, note: Note, *, district: str = "",
         scope_name: str = "") -> dict:
    if np.isnan(value):
        status = "no data"
    else:
        status = "met" if value >= figure - _TOLERANCE else "not met"
    scope_name = scope_name or (scope.scope if scope is not None else "city")
    district = district or (scope.district if scope is not None else "")
    notes = tn.join(note, tn.text(t.note, t.note_zh))
    return {"target_id": t.id, "scope": scope_name, "district": district, "target": float(figure),
            "value": float(value), "unit": t.unit, "status": status, "clause_zh": t.clause_zh,
            "clause_en": t.clause_en, "note_en": notes[0], "note_zh": notes[1]}


def _circle_rows(t: Target, result: CoverageResult, inputs: _Inputs, share: float) -> list[dict]:
    circle = result.circle(t.circle)
    figure = 100.0 * share
    group = tn.note("group_65plus" if circle.population == "65plus" else "group_all")
    limit = (circle.describe_threshold(), tn.threshold_zh(circle))
    city_row = result.summary[result.summary["circle"] == t.circle]
    city_missing = city_row["no_data"].iloc[0] if len(city_row) and "no_data" in city_row.columns else ""
    city_missing = city_missing if isinstance(city_missing, str) else ""
    rows = []
    for scope in t.scopes:
        if scope == "city":
            frame = city_row
        else:
            frame = result.district_summary[result.district_summary["circle"] == t.circle]
            wanted = inputs.central if scope == "central_district" else tuple(s.district for s in inputs.districts)
            frame = frame[frame["district"].isin(wanted)] if len(frame) else frame
            if not len(frame):
                rows.append(_row(t, None, figure, np.nan, _no_districts(inputs, scope), scope_name="district"))
                continue
        for _, r in frame.iterrows():
            label = "" if scope == "city" else str(r["district"])
            if r.get("status") == "no_data" or pd.isna(r.get("covered_share")):
                own = r.get("no_data")
                missing_ids = own if isinstance(own, str) and own else city_missing
                missing = tn.categories(missing_ids.split(", "), sep=(", ", "、")) if missing_ids \
                    else tn.note("required_category")
                note = tn.note("no_usable_facility", missing=missing)
                value = np.nan
            else:
                value = 100.0 * float(r["covered_share"])
                note = tn.note("circle_share", value=value, people=float(r["population"]), group=group, limit=limit,
                               figure=figure)
            rows.append(_row(t, None, figure, value, note, district=label,
                             scope_name="city" if scope == "city" else "district"))
    return rows


def _no_districts(inputs: _Inputs, scope: str) -> Note:
    if not inputs.has_districts:
        return tn.note("needs_districts")
    return tn.note("no_central_district" if scope == "central_district" else "no_district")


def _filtered(frame: pd.DataFrame, t: Target) -> pd.DataFrame:
    """The facilities of the target's categories that pass its filter, one row per feature."""
    sub = frame[frame["category"].isin(t.categories)]
    for col, wanted in t.where.items():
        values = sub[col]
        if isinstance(wanted, bool):
            keep = values.astype(float) == (1.0 if wanted else 0.0)
        elif isinstance(wanted, (int, float)):
            keep = values.astype(float) >= float(wanted)
        else:
            keep = values.astype(object).map(lambda v, w=wanted: isinstance(v, str) and w in v).astype(bool)
        sub = sub[keep.to_numpy()]
    keys = [c for c in ("source", "feature_id") if c in sub.columns]
    return sub.drop_duplicates(keys) if keys else sub


def _condition(column: str, wanted: Any) -> Note:
    if isinstance(wanted, bool):
        return tn.note("flag_yes" if wanted else "flag_no", column=column)
    return tn.note("at_least" if isinstance(wanted, (int, float)) else "contains", column=column, value=wanted)


def _missing_inputs(t: Target, inputs: _Inputs) -> Note:
    """Why a facility target cannot be measured at all (empty when it can)."""
    fac = inputs.facilities
    mine = fac[fac["category"].isin(t.categories)]
    cats = tn.categories(t.categories)
    if not len(mine):
        return tn.note("no_facilities", cats=cats)
    for col in t.columns:
        if col == t.column and t.missing_as is not None:
            continue
        if col not in mine.columns or not mine[col].notna().any():
            return tn.note("no_column", cats=cats, column=col)
    if t.measure == "per_1000" and not inputs.has_population:
        return tn.note("needs_population")
    if t.measure == "every_community" and inputs.city.units is None:
        return inputs.units_note
    return _EMPTY


def _measure(t: Target, scope: _Scope, inputs: _Inputs) -> tuple[float, Note]:
    """(value, note) of a facility or community target in one scope."""
    sel = _filtered(scope.facilities, t)
    n_all = len(_filtered(inputs.facilities, t))
    conditions = tn.join(*(_condition(k, v) for k, v in t.where.items()), sep=(", ", "，"))
    where = tn.note("where", conditions=conditions) if t.where else _EMPTY
    found = tn.note("found", n=len(sel), n_all=n_all, cats=tn.categories(t.categories), where=where,
                    area=inputs.area_note)
    if t.measure == "count":
        return float(len(sel)), found
    values = sel[t.column].astype(float) if t.column in sel.columns else pd.Series(np.nan, index=sel.index)
    unknown = int(values.isna().sum())
    if t.measure == "sum":
        filled = values.fillna(t.missing_as if t.missing_as is not None else 0.0)
        extra = _EMPTY if not unknown else tn.note("sum_unknown_nothing", unknown=unknown, column=t.column) \
            if t.missing_as is None else tn.note("sum_unknown_as", unknown=unknown, column=t.column, value=t.missing_as)
        return float(filled.sum()), tn.concat(found, extra)
    if t.measure == "per_1000":
        if scope.population <= 0:
            return np.nan, tn.note("no_population_scope")
        extra = tn.note("per_1000_unknown", unknown=unknown, column=t.column) if unknown else _EMPTY
        people = tn.note("per_1000_people", people=scope.population)
        return 1000.0 * float(values.sum()) / scope.population, tn.concat(found, extra, people)
    if t.measure == "column_share":
        both = values.notna() & sel[t.of_column].astype(float).notna()
        denominator = float(sel[t.of_column].astype(float)[both].sum())
        if denominator <= 0:
            return np.nan, tn.concat(found, tn.note("share_none_both", column=t.column, of_column=t.of_column))
        return (100.0 * float(values[both].sum()) / denominator,
                tn.concat(found, tn.note("share_both", n=int(both.sum()), column=t.column, of_column=t.of_column)))
    if t.measure == "flag_share":
        if not values.notna().any():
            return np.nan, tn.concat(found, tn.note("flag_none", column=t.column))
        return 100.0 * float(values.dropna().mean()), tn.concat(found, tn.note("flag_neither", unknown=unknown))
    return _every_community(t, scope)


def _every_community(t: Target, scope: _Scope) -> tuple[float, Note]:
    units = scope.units
    if units is None or not len(units):
        return np.nan, tn.note("no_community_scope")
    sel = _filtered(scope.facilities, t)
    lon, lat = sel["lon"].to_numpy(float), sel["lat"].to_numpy(float)
    has = np.array([bool(_inside(g, lon, lat).any()) if len(sel) else False for g in units.geometry])
    return (100.0 * float(has.mean()),
            tn.note("communities_holding", n=int(has.sum()), total=len(units), cats=tn.categories(t.categories)))


def _facility_rows(t: Target, inputs: _Inputs) -> list[dict]:
    figure = float(t.target if t.target is not None else np.nan)
    missing = _missing_inputs(t, inputs)
    rows = []
    for scope in t.scopes:
        if scope == "city":
            scopes: tuple[_Scope, ...] = (inputs.city,)
        else:
            scopes = tuple(s for s in inputs.districts if scope == "district" or s.district in inputs.central)
            if not scopes:
                rows.append(_row(t, None, figure, np.nan, _no_districts(inputs, scope), scope_name="district"))
                continue
        for s in scopes:
            value, note = (np.nan, missing) if missing[0] else _measure(t, s, inputs)
            rows.append(_row(t, s, figure, value, note))
    return rows


def evaluate_targets(result: CoverageResult, *, formed_share: float | None = None, lang: str = "en") -> pd.DataFrame:
    """Every target of the result's policy pack, city-wide and per district: met, not met or no data.

    Parameters
    ----------
    result : CoverageResult
        An analysis (:func:`circles.analyze`); its policy's ``[[targets]]`` are measured.
    formed_share : float, optional
        Share of a circle's population that must be covered for the circle to be
        formed, in (0, 1]; default the pack's ``formed_share`` (0.90 for
        ``wuhan-2022``).  CLI ``--target-share``.
    lang : {"en", "zh"}, default "en"
        Language of ``note``.  The note in the other language follows as one more
        column, ``note_zh`` or ``note_en``, so a report in either language can use it.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TARGET_COLUMNS`: one row per target and scope (``scope``
        ``"city"`` with ``district`` ``""``, or ``"district"`` with the district's
        name); ``value`` and ``target`` in ``unit`` (shares in %; ``value`` NaN
        when ``status`` is ``"no data"``); ``note`` says how it was measured or what
        is missing, in ``lang``; then ``note_zh`` (``lang="en"``) or ``note_en``
        (``lang="zh"``): the same note in the other language.  Empty (with the
        columns) for a pack without targets.

    Raises
    ------
    InputError
        ``formed_share`` outside (0, 1], or ``lang`` not ``"en"`` or ``"zh"``.

    Examples
    --------
    >>> table = evaluate_targets(result)  # doctest: +SKIP
    >>> table.loc[table.scope == "city", ["target_id", "value", "status"]]  # doctest: +SKIP
    """
    share = result.policy.formed_share if formed_share is None else formed_share
    if not isinstance(share, (int, float)) or isinstance(share, bool) or not 0 < float(share) <= 1:
        raise InputError(f"formed_share={formed_share!r} (CLI --target-share): expected a share in (0, 1], e.g. 0.9")
    lang = check_lang(lang)
    inputs = _gather(result)
    rows: list[dict] = []
    for t in result.policy.targets:
        if t.measure == "circle_share":
            rows.extend(_circle_rows(t, result, inputs, float(share)))
        else:
            rows.extend(_facility_rows(t, inputs))
    other = "zh" if lang == "en" else "en"
    frame = pd.DataFrame(rows, columns=[*TARGET_COLUMNS[:-1], "note_en", "note_zh"])
    frame = frame.rename(columns={f"note_{lang}": "note"})
    return frame[[*TARGET_COLUMNS, f"note_{other}"]]
