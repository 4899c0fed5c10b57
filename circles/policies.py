"""Policy packs: which circles a policy asks for, as data (STANDARDS §1–§3).

A policy pack is a TOML file.  Two ship with circles (``circles/packs/``):

* ``wuhan-2022`` — the five circles of 武政〔2022〕2号;
* ``gb50180-2018`` — the nested 5/10/15-minute levels of GB 50180-2018.

Users can write their own and pass its path to :func:`load_policy`.  The format::

    id = "my-city"                 # required
    name = "My city's circles"     # required
    source = "Document, date"      # optional

    [[circles]]
    id = "life_15"                 # required; lower-case letters, digits, _
    name_en = "15-minute life circle"   # required
    name_zh = "15分钟生活圈"        # optional
    mode = "walk"                  # required: walk | drive
    speed_m_per_min = 60           # walk only; default 60 (50 when population = "65plus")
    threshold_min = 15             # required, > 0
    zone_thresholds_min = { central = 10, new_urban = 12 }   # optional
    default_zone = "central"       # optional, a key of zone_thresholds_min
    dispatch_allowance_min = 0     # optional, >= 0, subtracted from the threshold
    direction = "to"               # to (resident → facility) | from (facility → resident)
    population = "all"             # all | 65plus
    clause = "what the rule says"  # required
    note = "assumptions"           # optional

      [[circles.requirements]]     # at least one; ALL must be met
      categories = ["grocery"]     # any-of; ids from STANDARDS §4
      max_minutes = 10             # optional, overrides the circle's threshold
      clause = "..."               # optional

Every problem in a pack (unknown keys, missing keys, unknown categories, bad
values, duplicate ids) is collected and raised at once as a
:class:`~circles.errors.ValidationError` naming the file and the key path
(``circles[2].threshold_min``).
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from circles.classify import CATEGORIES
from circles.errors import InputError, InputFileNotFoundError, ValidationError
from circles.settings import ELDERLY_WALK_SPEED_M_PER_MIN, WALK_SPEED_M_PER_MIN

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

#: Folder of the policy packs shipped with circles.
PACKS_DIR: Path = Path(__file__).resolve().parent / "packs"

MODES: tuple[str, ...] = ("walk", "drive")
DIRECTIONS: tuple[str, ...] = ("to", "from")
POPULATIONS: tuple[str, ...] = ("all", "65plus")
#: How a circle travels, which way, and whom it counts (the values of MODES, DIRECTIONS, POPULATIONS).
Mode = Literal["walk", "drive"]
Direction = Literal["to", "from"]
PopulationGroup = Literal["all", "65plus"]

_POLICY_KEYS = {"id": True, "name": True, "source": False, "circles": True}
_CIRCLE_KEYS = {
    "id": True,
    "name_zh": False,
    "name_en": True,
    "mode": True,
    "speed_m_per_min": False,
    "threshold_min": True,
    "zone_thresholds_min": False,
    "default_zone": False,
    "dispatch_allowance_min": False,
    "direction": False,
    "population": False,
    "requirements": True,
    "clause": True,
    "note": False,
}
_REQUIREMENT_KEYS = {"categories": True, "max_minutes": False, "clause": False}
_CIRCLE_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Requirement:
    """One group of facilities a circle requires.

    Attributes
    ----------
    categories : tuple of str
        Any one of these categories satisfies the group.
    max_minutes : float or None
        Time limit for this group; ``None`` means the circle's threshold.
    clause : str
        What the rule says and where it comes from.
    """

    categories: tuple[str, ...]
    max_minutes: float | None = None
    clause: str = ""


@dataclass(frozen=True)
class Circle:
    """One service circle of a policy.

    Every requirement group must be met (within its limit); a group is met
    by any one of its categories.

    Attributes
    ----------
    id : str
        Column-safe id (``life_15``), used as prefix of result columns.
    name_zh, name_en : str
        Names in Chinese and English.
    mode : {"walk", "drive"}
        Travel mode.
    speed_m_per_min : float or None
        Walking speed (walk only; drive speeds come from the road network).
    threshold_min : float
        Time limit in minutes when no zone applies.
    zone_thresholds_min : dict of str to float
        Limits per zone (e.g. ``{"central": 10, "new_urban": 12}``).
    default_zone : str or None
        Zone assumed when a unit's zone is unknown (no districts layer).
    dispatch_allowance_min : float
        Minutes subtracted from the threshold by :meth:`effective_threshold`.
    direction : {"to", "from"}
        ``"to"``: resident travels to the facility; ``"from"``: the facility
        (an ambulance station) travels to the resident.
    population : {"all", "65plus"}
        Which population the coverage is weighted by.
    requirements : tuple of Requirement
        All must be met.
    clause, note : str
        The rule cited, and the modelling assumptions.
    """

    id: str
    name_zh: str
    name_en: str
    mode: Mode
    speed_m_per_min: float | None
    threshold_min: float
    zone_thresholds_min: dict[str, float] = field(default_factory=dict)
    default_zone: str | None = None
    dispatch_allowance_min: float = 0.0
    direction: Direction = "to"
    population: PopulationGroup = "all"
    requirements: tuple[Requirement, ...] = ()
    clause: str = ""
    note: str = ""

    @property
    def categories(self) -> tuple[str, ...]:
        """Every category named by the requirements, in canonical order."""
        used = {c for r in self.requirements for c in r.categories}
        return tuple(c for c in CATEGORIES if c in used)

    def threshold_for_zone(self, zone: str | None = None) -> float:
        """Policy time limit (minutes) for a unit in ``zone``, *before* the dispatch allowance.

        Parameters
        ----------
        zone : str or None
            The unit's zone (e.g. ``"central"``).  ``None`` (unknown) uses
            :attr:`default_zone` when the circle has zone thresholds.

        Returns
        -------
        float
            The zone's threshold; :attr:`threshold_min` when the circle has
            no zone thresholds, or when ``zone`` is None and there is no default zone.

        Raises
        ------
        InputError
            If the circle has zone thresholds and ``zone`` is not one of them.

        Examples
        --------
        The emergency medical circle allows 10 minutes in central districts and 12 in new urban ones:

        >>> ambulance = load_policy("wuhan-2022").circle("emergency_medical")
        >>> ambulance.threshold_for_zone("new_urban"), ambulance.threshold_for_zone(None)
        (12.0, 10.0)
        """
        if not self.zone_thresholds_min:
            return float(self.threshold_min)
        if zone is None or (isinstance(zone, float) and math.isnan(zone)):
            if self.default_zone is None:
                return float(self.threshold_min)
            zone = self.default_zone
        if zone not in self.zone_thresholds_min:
            raise InputError(
                f"circle {self.id!r}: zone {zone!r} has no threshold; expected one of "
                f"{sorted(self.zone_thresholds_min)} (check the 'zone' column of the districts layer)"
            )
        return float(self.zone_thresholds_min[zone])

    def effective_threshold(self, zone: str | None = None) -> float:
        """Travel-time budget in minutes: :meth:`threshold_for_zone` minus the dispatch allowance.

        This is the number routing should use; callers need not subtract anything.

        Parameters
        ----------
        zone : str or None
            The unit's zone, as for :meth:`threshold_for_zone`.

        Returns
        -------
        float
            Minutes.
        """
        return self.threshold_for_zone(zone) - float(self.dispatch_allowance_min)

    def describe_threshold(self) -> str:
        """The threshold in words; mentions any dispatch allowance.

        Returns
        -------
        str
            E.g. ``"15 min"`` or ``"central 10 / new_urban 12 min (default central)"``.

        Examples
        --------
        >>> load_policy("wuhan-2022").circle("emergency_medical").describe_threshold()
        'central 10 / new_urban 12 min (default central)'
        """
        if self.zone_thresholds_min:
            text = " / ".join(f"{z} {v:g}" for z, v in self.zone_thresholds_min.items()) + " min"
            if self.default_zone:
                text += f" (default {self.default_zone})"
        else:
            text = f"{self.threshold_min:g} min"
        if self.dispatch_allowance_min:
            text += f", minus {self.dispatch_allowance_min:g} min dispatch"
        return text

    def requirement_limit(self, requirement: Requirement, zone: str | None = None) -> float:
        """Travel-time budget for one requirement group, minus the dispatch allowance.

        Parameters
        ----------
        requirement : Requirement
            One of this circle's requirement groups.
        zone : str or None
            The unit's zone, as for :meth:`threshold_for_zone`.

        Returns
        -------
        float
            The group's ``max_minutes`` if set, else :meth:`threshold_for_zone`, minus the allowance.
        """
        base = requirement.max_minutes if requirement.max_minutes is not None else self.threshold_for_zone(zone)
        return float(base) - float(self.dispatch_allowance_min)


@dataclass(frozen=True)
class Policy:
    """A policy pack: an id, a name, its source document and its circles."""

    id: str
    name: str
    source: str
    circles: tuple[Circle, ...]
    path: str = ""

    @property
    def categories(self) -> tuple[str, ...]:
        """Every category any circle needs, in canonical order."""
        used = {c for circle in self.circles for c in circle.categories}
        return tuple(c for c in CATEGORIES if c in used)

    def circle(self, circle_id: str) -> Circle:
        """Return the circle ``circle_id``.

        Parameters
        ----------
        circle_id : str
            A circle id of this pack (``"life_15"``).

        Returns
        -------
        Circle

        Raises
        ------
        InputError
            If the pack has no such circle (the message lists its circles).

        Examples
        --------
        >>> elderly = load_policy("wuhan-2022").circle("elderly_care_15")
        >>> elderly.mode, elderly.speed_m_per_min, elderly.population, elderly.categories
        ('walk', 50.0, '65plus', ('elderly_care',))
        """
        for c in self.circles:
            if c.id == circle_id:
                return c
        raise InputError(
            f"policy {self.id!r} has no circle {circle_id!r} (CLI --circle); choose one of its circles: "
            + ", ".join(c.id for c in self.circles)
        )


#: how to fix a pack, said once under the list of problems
PACK_FORMAT_HINT = ("every key is described in the docstring of circles.policies (`python -c \"import "
                    "circles.policies as p; help(p)\"`); compare with a packaged pack: `circles policies wuhan-2022`")


def available_policy_ids() -> list[str]:
    """Ids of the packs shipped with circles (file names in ``circles/packs``).

    Returns
    -------
    list of str
        Sorted ids.

    Examples
    --------
    >>> available_policy_ids()
    ['gb50180-2018', 'wuhan-2022']
    """
    return sorted(p.stem for p in PACKS_DIR.glob("*.toml"))


def list_policies() -> list[Policy]:
    """Load every packaged policy pack, sorted by id.

    Returns
    -------
    list of Policy
    """
    return [load_policy(pid) for pid in available_policy_ids()]


def load_policy(id_or_path: str | Path) -> Policy:
    """Load a policy pack by packaged id or from a user's TOML file.

    Parameters
    ----------
    id_or_path : str or path-like
        A packaged id (``"wuhan-2022"``, ``"gb50180-2018"``) or the path of a
        ``.toml`` file in the pack format (see the module docstring).

    Returns
    -------
    Policy

    Raises
    ------
    InputError
        Unknown id (the message lists the packaged ids).
    InputFileNotFoundError
        A path that does not exist.
    ValidationError
        The file is not valid TOML or breaks the pack format; every problem
        is listed with its key path.

    Examples
    --------
    >>> policy = load_policy("wuhan-2022")
    >>> [(c.id, c.threshold_min) for c in policy.circles]  # doctest: +NORMALIZE_WHITESPACE
    [('life_15', 15.0), ('culture_sports_12', 12.0), ('public_activity_10', 10.0),
     ('emergency_medical', 10.0), ('elderly_care_15', 15.0)]
    >>> policy.circle("life_15").categories
    ('grocery', 'primary_care', 'kindergarten', 'primary_school')
    """
    text = str(id_or_path)
    if text in available_policy_ids() and not isinstance(id_or_path, Path):
        path = PACKS_DIR / f"{text}.toml"
    else:
        path = Path(id_or_path).expanduser()
        looks_like_path = isinstance(id_or_path, Path) or path.suffix.lower() == ".toml" or "/" in text or "\\" in text
        if path.is_dir():
            raise InputError(f"policy {str(path)!r} is a folder; expected a .toml pack file or a packaged id: "
                             + ", ".join(available_policy_ids()))
        if not path.is_file():
            if looks_like_path:
                raise InputFileNotFoundError(
                    f"policy file {str(path)!r} does not exist; check the path, or use a packaged id: "
                    + ", ".join(available_policy_ids())
                )
            import difflib

            close = difflib.get_close_matches(text.lower(), available_policy_ids(), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}? " if close else ""
            raise InputError(
                f"unknown policy {text!r}; {hint}packaged policies are: {', '.join(available_policy_ids())}. "
                "A path to your own .toml pack works too (see circles.policies for the format)."
            )
    source = str(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(source, [f"not valid TOML: {exc} — fix the syntax at that line"]) from None
    except UnicodeDecodeError as exc:
        raise ValidationError(source, [f"not UTF-8 text (byte {exc.start}: {exc.reason}); TOML must be UTF-8 — "
                                       "save the file as UTF-8 (e.g. in your editor, or `iconv -f GBK -t UTF-8`)"]) from None
    return _parse_policy(data, source)


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_keys(obj: dict, spec: dict[str, bool], where: str, problems: list[str]) -> None:
    for key in obj:
        if key not in spec:
            problems.append(f"{where}{key}: unknown key; allowed keys are {', '.join(spec)}")
    for key, required in spec.items():
        if required and key not in obj:
            problems.append(f"{where}{key}: missing required key")


def _text(obj: dict, key: str, where: str, problems: list[str], default: str = "") -> str:
    value = obj.get(key, default)
    if not isinstance(value, str):
        problems.append(f"{where}{key}: expected a string, got {value!r}")
        return default
    return value


def _choice(obj: dict, key: str, choices: tuple[str, ...], where: str, problems: list[str], default: str) -> str:
    value = obj.get(key, default)
    if value not in choices:
        problems.append(f"{where}{key}: expected one of {', '.join(map(repr, choices))}, got {value!r}")
        return default
    return value


def _positive(value: Any, where: str, problems: list[str], *, allow_zero: bool = False) -> float | None:
    if not _is_number(value) or value < 0 or (value == 0 and not allow_zero):
        expected = "a number >= 0" if allow_zero else "a positive number of minutes"
        problems.append(f"{where}: expected {expected}, got {value!r}")
        return None
    return float(value)


def _parse_requirement(obj: Any, where: str, problems: list[str]) -> Requirement | None:
    if not isinstance(obj, dict):
        problems.append(f"{where}: expected a table with 'categories', got {obj!r}")
        return None
    _check_keys(obj, _REQUIREMENT_KEYS, f"{where}.", problems)
    cats = obj.get("categories", [])
    if isinstance(cats, str):
        cats = [cats]
    if not isinstance(cats, list) or not cats:
        problems.append(f"{where}.categories: expected a non-empty list of category ids, got {cats!r}")
        cats = []
    good = []
    for j, c in enumerate(cats):
        if c not in CATEGORIES:
            problems.append(
                f"{where}.categories[{j}]: unknown category {c!r}; expected one of {', '.join(CATEGORIES)}"
            )
        else:
            good.append(c)
    max_minutes = None
    if "max_minutes" in obj:
        max_minutes = _positive(obj["max_minutes"], f"{where}.max_minutes", problems)
    clause = _text(obj, "clause", f"{where}.", problems)
    return Requirement(categories=tuple(good), max_minutes=max_minutes, clause=clause)


def _parse_circle(obj: Any, where: str, problems: list[str]) -> Circle | None:
    if not isinstance(obj, dict):
        problems.append(f"{where}: expected a [[circles]] table, got {obj!r}")
        return None
    _check_keys(obj, _CIRCLE_KEYS, f"{where}.", problems)
    w = f"{where}."
    cid = _text(obj, "id", w, problems)
    if "id" in obj and isinstance(obj["id"], str) and not _CIRCLE_ID.match(cid):
        problems.append(f"{w}id: {cid!r} must start with a lower-case letter and use only a-z, 0-9 and _ (it names result columns)")
    mode = _choice(obj, "mode", MODES, w, problems, "walk") if "mode" in obj else "walk"
    population = _choice(obj, "population", POPULATIONS, w, problems, "all")
    direction = _choice(obj, "direction", DIRECTIONS, w, problems, "to")
    speed = None
    if mode == "walk":
        default_speed = ELDERLY_WALK_SPEED_M_PER_MIN if population == "65plus" else WALK_SPEED_M_PER_MIN
        speed = _positive(obj.get("speed_m_per_min", default_speed), f"{w}speed_m_per_min", problems)
    elif "speed_m_per_min" in obj:
        problems.append(
            f"{w}speed_m_per_min: applies to mode 'walk' only; drive speeds come from the road network "
            "(maxspeed tags or circles.settings.DRIVE_SPEED_KPH) — remove the key"
        )
    threshold = None
    if "threshold_min" in obj:
        threshold = _positive(obj["threshold_min"], f"{w}threshold_min", problems)
    zones: dict[str, float] = {}
    raw_zones = obj.get("zone_thresholds_min", {})
    if not isinstance(raw_zones, dict):
        problems.append(f"{w}zone_thresholds_min: expected a table like {{ central = 10, new_urban = 12 }}, got {raw_zones!r}")
    else:
        for zname, zval in raw_zones.items():
            val = _positive(zval, f"{w}zone_thresholds_min.{zname}", problems)
            if val is not None:
                zones[zname] = val
    default_zone = obj.get("default_zone")
    if default_zone is not None and (not isinstance(default_zone, str) or default_zone not in raw_zones):
        problems.append(
            f"{w}default_zone: {default_zone!r} is not a key of zone_thresholds_min "
            f"(keys: {', '.join(raw_zones) if isinstance(raw_zones, dict) and raw_zones else 'none'})"
        )
        default_zone = None
    allowance = _positive(obj.get("dispatch_allowance_min", 0), f"{w}dispatch_allowance_min", problems, allow_zero=True)
    limits = [v for v in [threshold, *zones.values()] if v is not None]
    if allowance is not None and limits and allowance >= min(limits):
        problems.append(
            f"{w}dispatch_allowance_min: {allowance:g} leaves no travel time (smallest threshold is {min(limits):g} min); "
            "it must be smaller than every threshold"
        )
    reqs_raw = obj.get("requirements", [])
    requirements = []
    if not isinstance(reqs_raw, list) or ("requirements" in obj and not reqs_raw):
        problems.append(f"{w}requirements: expected at least one [[circles.requirements]] table")
    else:
        for k, r in enumerate(reqs_raw):
            req = _parse_requirement(r, f"{w}requirements[{k}]", problems)
            if req is not None:
                requirements.append(req)
    return Circle(
        id=cid,
        name_zh=_text(obj, "name_zh", w, problems),
        name_en=_text(obj, "name_en", w, problems),
        mode=cast(Mode, mode),  # _choice checked it is one of MODES
        speed_m_per_min=speed,
        threshold_min=threshold if threshold is not None else float("nan"),
        zone_thresholds_min=zones,
        default_zone=default_zone,
        dispatch_allowance_min=allowance if allowance is not None else 0.0,
        direction=cast(Direction, direction),
        population=cast(PopulationGroup, population),
        requirements=tuple(requirements),
        clause=_text(obj, "clause", w, problems),
        note=_text(obj, "note", w, problems),
    )


def _parse_policy(data: dict, source: str) -> Policy:
    problems: list[str] = []
    _check_keys(data, _POLICY_KEYS, "", problems)
    pid = _text(data, "id", "", problems)
    name = _text(data, "name", "", problems)
    src = _text(data, "source", "", problems)
    raw = data.get("circles", [])
    circles: list[Circle] = []
    positions: list[int] = []
    if not isinstance(raw, list) or ("circles" in data and not raw):
        problems.append("circles: expected at least one [[circles]] table")
    else:
        for i, c in enumerate(raw):
            circle = _parse_circle(c, f"circles[{i}]", problems)
            if circle is not None:
                circles.append(circle)
                positions.append(i)
    seen: dict[str, int] = {}
    for i, c in zip(positions, circles):
        if c.id and c.id in seen:
            problems.append(f"circles[{i}].id: duplicate circle id {c.id!r} (also circles[{seen[c.id]}]); ids must be unique")
        seen.setdefault(c.id, i)
    if problems:
        raise ValidationError(source, problems, hint=PACK_FORMAT_HINT)
    return Policy(id=pid, name=name, source=src, circles=tuple(circles), path=source)
