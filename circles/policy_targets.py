"""The targets of a policy pack (``[[targets]]``): what the policy asks for, as data, and its validation.

A circle says how far residents may travel; a target says how much the city
must have: a circle formed for ≥ 90 % of its people, 140 ambulance stations,
8.8 medical beds per 1,000 residents, a large elderly-care centre in each
central district …  :func:`circles.targets.evaluate_targets` measures them.
The format::

    formed_share = 0.90            # top level, optional: a circle is "formed" when this
                                   # share of its population is covered (a modelling choice)

    [[targets]]
    id = "beds_per_1000"           # required; lower-case letters, digits, _
    clause_zh = "每千人口床位数8.8张"  # required: what the document says
    clause_en = "8.8 beds per 1,000 residents"   # required
    measure = "per_1000"           # required, one of MEASURES (below)
    target = 8.8                   # required except for circle_share (the formed share, in %)
    unit = "beds per 1,000 residents"   # optional; a default per measure
    scopes = ["city"]              # optional: city | district | central_district (default ["city"])
    circle = "life_15"             # circle_share only: a circle id of the pack
    categories = ["primary_care"]  # every measure but circle_share: the facilities counted
    column = "beds"                # sum, per_1000, column_share, flag_share: a capacity column
    of_column = "beds"             # column_share: the denominator column
    where = { level = "三级" }     # optional filter: a number = at least; text = contains; true/false = a flag
    missing_as = 1                 # sum only: the value of a facility with no value in `column`
    note = "assumptions"           # optional
    note_zh = "假设"                # optional: the note in Chinese (a Chinese report shows it; else `note`)

Measures (:data:`MEASURES`): ``circle_share`` (share of the circle's population
covered, %), ``count`` (facilities of the categories), ``sum`` (of a capacity
column), ``per_1000`` (a capacity column per 1,000 of the analysis' population),
``column_share`` (one capacity column as a % of another), ``flag_share`` (% of
the facilities whose yes/no column is yes) and ``every_community`` (% of the
community units holding a facility of the categories).  Capacity columns are
those of :mod:`circles.facility_capacity`.  Scope ``central_district`` means each
district of zone ``central`` (the districts layer's ``zone`` column).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from circles.classify import CATEGORIES
from circles.facility_capacity import CAPACITY_COLUMNS, FLAG_COLUMNS, NUMBER_COLUMNS

#: How a target is measured.
MEASURES: tuple[str, ...] = ("circle_share", "count", "sum", "per_1000", "column_share", "flag_share",
                             "every_community")
#: Where a target applies: the whole analysis, each district, each central district.
SCOPES: tuple[str, ...] = ("city", "district", "central_district")
#: The formed share used when a pack does not set one.
DEFAULT_FORMED_SHARE: float = 0.90
#: The unit of a measure when the target does not name one.
DEFAULT_UNITS: dict[str, str] = {
    "circle_share": "% of residents covered", "count": "facilities", "sum": "", "per_1000": "per 1,000 residents",
    "column_share": "%", "flag_share": "% of facilities", "every_community": "% of community units",
}

_TARGET_KEYS = {"id": True, "clause_zh": True, "clause_en": True, "measure": True, "target": False, "unit": False,
                "scopes": False, "circle": False, "categories": False, "column": False, "of_column": False,
                "where": False, "missing_as": False, "note": False, "note_zh": False}
_NEEDS_COLUMN = ("sum", "per_1000", "column_share", "flag_share")
_TARGET_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Target:
    """One target of a policy pack.

    Attributes
    ----------
    id : str
        ``circle_life_15``, ``beds_per_1000`` …
    clause_zh, clause_en : str
        What the document says, in Chinese and English.
    measure : str
        One of :data:`MEASURES`.
    target : float or None
        The figure to reach (at least); ``None`` for ``circle_share``: the formed share (in %).
    unit : str
        Unit of the value and the figure.
    scopes : tuple of str
        Where it is measured, from :data:`SCOPES`.
    circle : str
        The circle of a ``circle_share`` target.
    categories : tuple of str
        The facilities a facility measure counts (a facility in several of them counts once).
    column, of_column : str
        Capacity columns (``of_column``: the denominator of ``column_share``).
    where : dict
        Filter on capacity columns: a number means at least, a text means contains, a bool a flag.
    missing_as : float or None
        ``sum``: the value of a facility with no value in ``column`` (``None``: it adds nothing).
    note : str
        Assumptions.
    note_zh : str
        The same in Chinese (``""``: none; a Chinese report then shows ``note``).
    """

    id: str
    clause_zh: str
    clause_en: str
    measure: str
    target: float | None
    unit: str
    scopes: tuple[str, ...] = ("city",)
    circle: str = ""
    categories: tuple[str, ...] = ()
    column: str = ""
    of_column: str = ""
    where: dict[str, Any] = field(default_factory=dict)
    missing_as: float | None = None
    note: str = ""
    note_zh: str = ""

    @property
    def columns(self) -> tuple[str, ...]:
        """Every capacity column the target reads (measure and filter), without repeats.

        Returns
        -------
        tuple of str
        """
        return tuple(dict.fromkeys(c for c in (self.column, self.of_column, *self.where) if c))


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _text(obj: dict, key: str, where: str, problems: list[str]) -> str:
    value = obj.get(key, "")
    if not isinstance(value, str):
        problems.append(f"{where}{key}: expected a string, got {value!r}")
        return ""
    return value


def _strings(obj: dict, key: str, allowed: tuple[str, ...], where: str, problems: list[str]) -> tuple[str, ...]:
    raw = obj.get(key, [])
    raw = [raw] if isinstance(raw, str) else raw
    if not isinstance(raw, list):
        problems.append(f"{where}{key}: expected a list, got {raw!r}")
        return ()
    good = []
    for j, v in enumerate(raw):
        if v not in allowed:
            problems.append(f"{where}{key}[{j}]: unknown value {v!r}; expected one of {', '.join(allowed)}")
        else:
            good.append(v)
    return tuple(good)


def _column(obj: dict, key: str, allowed: tuple[str, ...], where: str, problems: list[str]) -> str:
    value = obj.get(key, "")
    if value not in allowed:
        problems.append(f"{where}{key}: expected a capacity column ({', '.join(allowed)}), got {value!r}")
        return ""
    return str(value)


def _where(obj: dict, where: str, problems: list[str]) -> dict[str, Any]:
    raw = obj.get("where", {})
    if not isinstance(raw, dict):
        problems.append(f"{where}where: expected a table like {{ level = \"三级\" }}, got {raw!r}")
        return {}
    out: dict[str, Any] = {}
    for col, value in raw.items():
        ok = ((col in NUMBER_COLUMNS and _number(value)) or (col in FLAG_COLUMNS and isinstance(value, bool))
              or (col in CAPACITY_COLUMNS and col not in NUMBER_COLUMNS + FLAG_COLUMNS and isinstance(value, str)))
        if not ok:
            problems.append(f"{where}where.{col}: expected a capacity column with a number (at least), a text "
                            f"(contains) or true/false (a yes/no column); capacity columns are "
                            f"{', '.join(CAPACITY_COLUMNS)}; got {value!r}")
        else:
            out[col] = value
    return out


def _note_zh(obj: dict, where: str, problems: list[str]) -> str:
    """The Chinese note: a string, and only next to an English ``note``."""
    value = _text(obj, "note_zh", where, problems)
    if value and not obj.get("note"):
        problems.append(f"{where}note_zh: given without note (the English note is required when there is one in "
                        f"Chinese)")
    return value


def _measure_keys(obj: dict, measure: str, circle_ids: tuple[str, ...], w: str, problems: list[str]) -> dict:
    """The keys that depend on the measure, checked."""
    out: dict[str, Any] = {}
    if measure == "circle_share":
        out["circle"] = obj.get("circle", "")
        if out["circle"] not in circle_ids:
            problems.append(f"{w}circle: expected a circle id of this pack ({', '.join(circle_ids)}), "
                            f"got {out['circle']!r}")
        for key in ("categories", "column", "of_column", "where", "missing_as"):
            if key in obj:
                problems.append(f"{w}{key}: not used by measure 'circle_share' (the circle says what it needs)")
        return out
    if "circle" in obj:
        problems.append(f"{w}circle: only measure 'circle_share' names a circle")
    out["categories"] = _strings(obj, "categories", CATEGORIES, w, problems)
    if not obj.get("categories"):
        problems.append(f"{w}categories: expected at least one facility category for measure {measure!r}")
    if measure in _NEEDS_COLUMN:
        allowed = FLAG_COLUMNS if measure == "flag_share" else NUMBER_COLUMNS
        out["column"] = _column(obj, "column", allowed, w, problems)
    elif "column" in obj:
        problems.append(f"{w}column: not used by measure {measure!r}")
    if measure == "column_share":
        out["of_column"] = _column(obj, "of_column", NUMBER_COLUMNS, w, problems)
    elif "of_column" in obj:
        problems.append(f"{w}of_column: used by measure 'column_share' only")
    if "missing_as" in obj:
        if measure != "sum" or not _number(obj["missing_as"]) or obj["missing_as"] < 0:
            problems.append(f"{w}missing_as: a number >= 0, for measure 'sum' only; got {obj['missing_as']!r}")
        else:
            out["missing_as"] = float(obj["missing_as"])
    out["where"] = _where(obj, w, problems)
    return out


def parse_target(obj: Any, where: str, circle_ids: tuple[str, ...], problems: list[str]) -> Target | None:
    """One ``[[targets]]`` table as a :class:`Target`; problems are appended, not raised.

    Parameters
    ----------
    obj : Any
        The table as read from TOML.
    where : str
        Its key path (``"targets[3]"``) for the messages.
    circle_ids : tuple of str
        The pack's circle ids (a ``circle_share`` target must name one).
    problems : list of str
        Where problems are collected.

    Returns
    -------
    Target or None
        ``None`` when ``obj`` is not a table.
    """
    if not isinstance(obj, dict):
        problems.append(f"{where}: expected a [[targets]] table, got {obj!r}")
        return None
    w = f"{where}."
    for key in obj:
        if key not in _TARGET_KEYS:
            problems.append(f"{w}{key}: unknown key; allowed keys are {', '.join(_TARGET_KEYS)}")
    for key, required in _TARGET_KEYS.items():
        if required and key not in obj:
            problems.append(f"{w}{key}: missing required key")
    tid = _text(obj, "id", w, problems)
    if tid and not _TARGET_ID.match(tid):
        problems.append(f"{w}id: {tid!r} must start with a lower-case letter and use only a-z, 0-9 and _")
    measure = obj.get("measure", "count")
    if measure not in MEASURES:
        problems.append(f"{w}measure: expected one of {', '.join(MEASURES)}, got {measure!r}")
        measure = "count"
    figure = obj.get("target")
    if figure is None and measure != "circle_share":
        problems.append(f"{w}target: missing required key (the figure to reach) for measure {measure!r}")
    elif figure is not None and (not _number(figure) or figure < 0):
        problems.append(f"{w}target: expected a number >= 0, got {figure!r}")
        figure = None
    scopes = _strings(obj, "scopes", SCOPES, w, problems) if "scopes" in obj else ("city",)
    if obj.get("scopes") == []:
        problems.append(f"{w}scopes: expected at least one of {', '.join(SCOPES)}")
    keys = _measure_keys(obj, measure, circle_ids, w, problems)
    unit = _text(obj, "unit", w, problems) if "unit" in obj else DEFAULT_UNITS[measure]
    return Target(id=tid, clause_zh=_text(obj, "clause_zh", w, problems), clause_en=_text(obj, "clause_en", w, problems),
                  measure=measure, target=None if figure is None else float(figure), unit=unit, scopes=scopes,
                  note=_text(obj, "note", w, problems), note_zh=_note_zh(obj, w, problems), **keys)


def parse_targets(data: dict, circle_ids: tuple[str, ...], problems: list[str]) -> tuple[tuple[Target, ...], float]:
    """The ``[[targets]]`` of a pack and its ``formed_share``; problems are appended, not raised.

    Parameters
    ----------
    data : dict
        The whole pack as read from TOML.
    circle_ids : tuple of str
        The pack's circle ids.
    problems : list of str
        Where problems are collected (key paths ``targets[i].key``).

    Returns
    -------
    (tuple of Target, float)
        The targets (none when the pack has no ``[[targets]]``) and the formed share.
    """
    formed = data.get("formed_share", DEFAULT_FORMED_SHARE)
    if not _number(formed) or not 0 < formed <= 1:
        problems.append(f"formed_share: expected a share in (0, 1], e.g. 0.90; got {formed!r}")
        formed = DEFAULT_FORMED_SHARE
    raw = data.get("targets", [])
    if not isinstance(raw, list):
        problems.append(f"targets: expected [[targets]] tables, got {raw!r}")
        return (), float(formed)
    targets: list[Target] = []
    seen: dict[str, int] = {}
    for i, obj in enumerate(raw):
        target = parse_target(obj, f"targets[{i}]", circle_ids, problems)
        if target is None:
            continue
        if target.id and target.id in seen:
            problems.append(f"targets[{i}].id: duplicate target id {target.id!r} (also targets[{seen[target.id]}])")
        seen.setdefault(target.id, i)
        targets.append(target)
    return tuple(targets), float(formed)
