"""What the ``analyze``, ``map`` and ``score`` commands share: their input options as one
frozen record (:class:`AnalyzeInputs`), turned into the keywords of :func:`circles.analyze`;
and the flags renamed for one vocabulary, still accepted for one release.

Every option is named as the Python keyword it becomes (``--facilities-crs`` is
``analyze(facilities_crs=...)``); an option that passes a reader's keyword on for one
input is ``<input>_<keyword>`` (``--network-layer`` is ``load_network(layer=...)``,
``--candidates-sheet`` is ``load_candidates(sheet=...)``).  ``tests/test_cli_api.py``
checks both rules.

The vocabulary (one name for one thing):

* ``facilities_crs`` / ``--facilities-crs``, ``units_crs`` / ``--units-crs``,
  ``candidates_crs`` / ``--candidates-crs``: the coordinate system an input file is in;
  ``metric_crs``: the projected CRS distances are measured in (``grid_units``,
  ``assign_population``); a reader's own ``crs=`` is the CRS of the one file it reads;
* ``grid_m`` / ``--grid-m``: the grid cell size; ``spacing_m`` / ``--spacing-m``: the
  spacing of generated candidates; lengths end in ``_m``;
* ``population`` / ``--population`` and ``population_65plus``: the rasters;
* ``circle``: one circle id (``--circle``, ``select_sites(circle=)``); ``circles``: a list
  (``score(circles=)``, ``coverage_map(circles=)``);
* ``k`` / ``--k``: how many sites to choose (``select_sites(k=)``, the MCLP's usual name);
  ``n_threads`` / ``--n-threads``;
* ``direction`` of :func:`circles.travel_seconds` and :func:`circles.minutes_to_nearest`
  is given explicitly (they used to default to opposite directions).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from circles.errors import InputError

#: Old flag -> new flag.  The old names work for one release, hidden from --help, with a note on stderr.
DEPRECATED_FLAGS: dict[str, str] = {
    "--crs": "--facilities-crs",
    "--grid": "--grid-m",
    "--select": "--k",
    "--spacing": "--spacing-m",
    "--threads": "--n-threads",
}

#: The load_network keywords the --network-* and road-column options pass on (None: not given).
_NETWORK_KEYWORDS = {"network_layer": "layer", "network_crs": "crs", "oneway_column": "oneway_column",
                     "speed_column": "speed_column", "class_column": "class_column"}
#: The read_facility_file keywords the facility column options pass on.
_FACILITY_KEYWORDS = {"lon_column": "lon_column", "lat_column": "lat_column", "category_column": "category_column",
                      "name_column": "name_column", "facilities_sheet": "sheet"}


def replace_deprecated_flags(argv: list[str], note: Callable[[str], None]) -> list[str]:
    """``argv`` with every old flag of :data:`DEPRECATED_FLAGS` replaced by its new name.

    Parameters
    ----------
    argv : list of str
        The command-line words after ``circles``.
    note : callable
        Called once per old flag found with the deprecation note to show.

    Returns
    -------
    list of str
        The words with ``--crs x`` / ``--crs=x`` spelled ``--facilities-crs x`` and so on;
        nothing after a ``--`` separator is touched.
    """
    out: list[str] = []
    for i, word in enumerate(argv):
        if word == "--":
            return out + argv[i:]
        flag, sep, value = word.partition("=")
        new = DEPRECATED_FLAGS.get(flag)
        if new is None:
            out.append(word)
            continue
        note(f"{flag} is deprecated and will be removed in the next release; use {new}")
        out.append(new + sep + value)
    return out


def walk_speeds_from_text(text: str | None) -> list[float]:
    """The --walk-speeds value (``"50,60,67,80"``) as numbers.

    Parameters
    ----------
    text : str or None
        Comma-separated walking speeds in m/min.

    Returns
    -------
    list of float
        The speeds; empty when ``text`` is empty or None.
    """
    if not text:
        return []
    try:
        speeds = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(f"--walk-speeds must be comma-separated numbers in m/min, e.g. 50,60,67,80; got {text!r}") from None
    if any(not (math.isfinite(v) and v > 0) for v in speeds):
        raise InputError(f"--walk-speeds must be finite and > 0 m/min, e.g. 50,60,67,80; got {text!r}")
    return speeds


@dataclass(frozen=True)
class AnalyzeInputs:
    """The input options of ``analyze``, ``map`` and ``score``, each named as its flag.

    Built by each command from its own parameters; :meth:`analyze_keywords` gives the
    keywords of :func:`circles.analyze`.  ``walk_speeds`` is the flag's text.
    """

    network: Path | None = None
    place: str | None = None
    network_layer: str | None = None
    network_crs: str | None = None
    oneway_column: str | None = None
    speed_column: str | None = None
    class_column: str | None = None
    policy: Any = "wuhan-2022"
    facilities: Path | None = None
    facilities_crs: str | None = None
    lon_column: str | None = None
    lat_column: str | None = None
    category_column: str | None = None
    name_column: str | None = None
    facilities_sheet: str | None = None
    units: str | None = None
    units_crs: str | None = None
    drop_missing: bool = False
    units_level: str = "auto"
    units_max_distance_m: float = 1000.0
    units_id_column: str | None = None
    units_name_column: str | None = None
    grid_m: float | None = None
    grid_shape: str = "square"
    area: Path | None = None
    population: Path | None = None
    population_65plus: Path | None = None
    districts: Path | None = None
    walk_speeds: str | None = None
    quiet: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The options by name (what :func:`circles._cli_checks.preflight` checks).

        Returns
        -------
        dict
            Field name -> value.
        """
        return {f.name: getattr(self, f.name) for f in fields(self)}  # shallow: a Policy stays a Policy

    def network_options(self) -> dict[str, Any]:
        """The :func:`circles.load_network` keywords given (``--network-layer`` is ``layer``).

        Returns
        -------
        dict
            Only the options given.
        """
        return {key: getattr(self, name) for name, key in _NETWORK_KEYWORDS.items() if getattr(self, name) is not None}

    def facility_columns(self) -> dict[str, Any]:
        """The :func:`circles.facilities.read_facility_file` keywords given (``--facilities-sheet`` is ``sheet``).

        Returns
        -------
        dict
            Only the options given (empty strings count as not given).
        """
        return {key: getattr(self, name) for name, key in _FACILITY_KEYWORDS.items() if getattr(self, name)}

    def analyze_keywords(self) -> dict[str, Any]:
        """The keywords of :func:`circles.analyze` (without the network and the drive network).

        Returns
        -------
        dict
            Keyword -> value, the same names as the flags.
        """
        return dict(
            policy=self.policy, facilities=self.facilities, facilities_crs=self.facilities_crs,
            facility_columns=self.facility_columns(), network_options=self.network_options() or None,
            units=self.units, units_crs=self.units_crs, grid_m=self.grid_m, drop_missing=self.drop_missing,
            units_level=self.units_level, units_max_distance_m=self.units_max_distance_m,
            units_id_column=self.units_id_column, units_name_column=self.units_name_column,
            grid_shape=self.grid_shape, area=self.area, population=self.population,
            population_65plus=self.population_65plus, districts=self.districts,
            walk_speeds=walk_speeds_from_text(self.walk_speeds), progress=False,
        )
