"""What the ``circles`` commands print: the summary table, the walk-speed sensitivity, the
warnings, what happened to the user's units, and every input against the study area.

:mod:`circles.cli` re-exports these; they read a :class:`~circles.coverage.CoverageResult`
and print with rich on :data:`console` (stdout) — :data:`err_console` is stderr.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from circles._cli_checks import cli_first

if TYPE_CHECKING:
    import pandas as pd

# Piped output (logs, CI, tests) gets a wide table instead of the 80-column default.
_WIDTH = None if sys.stdout.isatty() else 150
console = Console(width=_WIDTH)
err_console = Console(stderr=True, width=_WIDTH)
#: When the command started (this module loads with the command line): progress lines count from here.
STARTED = time.perf_counter()


def _pct(x) -> str:
    return "–" if x != x else f"{100 * x:.1f}%"


def _no_data_reason(category: str, inputs) -> str:
    """Why a category gives a circle no data: none in the input, all outside, none on the network."""
    if inputs is None:
        return f"{category}: none in the input"
    rows = inputs[(inputs["input"] == "facilities") & (inputs["category"] == category)]
    if not len(rows) or int(rows["total"].iloc[0]) == 0:
        return f"{category}: none in the input"
    r = rows.iloc[0]
    if int(r["inside"]) == 0:
        return f"{category}: {int(r['total']):,} in the input, all outside the study area"
    return f"{category}: {int(r['total']):,} in the input, none within reach of the network"


def print_inputs(inputs: pd.DataFrame | None, *, by_source: pd.DataFrame | None = None,
                 title: str = "inputs against the study area") -> None:
    """Per input and category: inside / outside the study area, off the network, and the likely cause.

    Parameters
    ----------
    inputs : pandas.DataFrame or None
        ``data_quality["inputs"]`` (or the candidates' table); nothing printed when empty.
    by_source : pandas.DataFrame, optional
        ``data_quality["inputs_by_source"]``: facilities per source.
    title : str
        The heading.

    Returns
    -------
    None
    """
    from circles.inputs import describe_row

    if inputs is None or not len(inputs):
        return
    console.print(f"[bold]{title}[/] (inside / outside, off the network = inside but > max snap from the streets):",
                  highlight=False)
    if by_source is not None:
        for row in by_source.itertuples():
            console.print(f"  facilities from {row.source} (classified; the rest: Excel "
                          f"sheet dq_unclassified): {describe_row(row)}", highlight=False)
    for row in inputs.itertuples():
        label = row.input if row.category == "all" else f"{row.input} · {row.category}"
        colour = "yellow" if row.likely_cause else "dim"
        console.print(f"  [{colour}]{label}:[/] {describe_row(row)}", highlight=False)


#: The caption under the summary table: what the unit counts "✓/~/✗/∅/off/?" are.
UNITS_LEGEND = ("units ✓/~/✗/∅/off/? = covered (≥ 90 % of its people within the time) / partial / uncovered "
                "(< 10 %) / empty (no people) / off network (all its people > max snap from the streets) / "
                "no data (a required category has no usable facility)")


def print_sensitivity(result: Any) -> None:
    """The walk-speed sensitivity (``walk_speeds``, CLI --walk-speeds) as a small table: covered share of
    each walking circle at each speed; nothing when no extra speeds were asked for.

    Parameters
    ----------
    result : CoverageResult
        An analysis.

    Returns
    -------
    None
    """
    sens = getattr(result, "sensitivity", None)
    if sens is None or not len(sens):
        return
    speeds = sorted(sens["walk_speed_m_per_min"].unique())
    table = Table(title="walk-speed sensitivity: covered share")
    table.add_column("circle")
    table.add_column("policy speed", justify="right")
    for v in speeds:
        table.add_column(f"{v:g} m/min", justify="right")
    shares = dict(zip(result.summary["circle"], result.summary["covered_share"]))
    for cid, rows in sens.groupby("circle", sort=False):
        by_speed = dict(zip(rows["walk_speed_m_per_min"], rows["covered_share"]))
        no_data = (rows["status"] == "no_data").all() if "status" in rows else False
        own = result.policy.circle(cid).speed_m_per_min
        base = f"{_pct(shares.get(cid, float('nan')))} at {own:g}" if not no_data else "–"
        table.add_row(cid, base, *("无数据 no data" if no_data else _pct(by_speed.get(v, float("nan")))
                                   for v in speeds))
    console.print(table)


def print_summary(result: Any) -> None:
    """A rich table of the per-circle summary, plus what the data could not say.

    A circle without data (contract 1: a required category has no facility in
    the input or none that reaches the network) shows "无数据 no data", never 0 %,
    and the lines below say why and where the inputs lie against the study area.

    Parameters
    ----------
    result : CoverageResult
        An analysis.

    Returns
    -------
    None
    """
    table = Table(title=f"{result.policy.name}", show_lines=False, caption=UNITS_LEGEND, caption_justify="left")
    who = "people" if result.demand.has_population else "units (no population data)"
    columns: tuple[tuple[str, Literal["left", "right"]], ...] = (
        ("circle", "left"), ("名称", "left"), ("threshold", "left"), (who, "right"), ("covered", "right"),
        ("share", "right"), ("units ✓/~/✗/∅/off/?", "right"))
    for col, justify in columns:
        table.add_column(col, justify=justify, overflow="fold")
    summary = result.summary
    for row in summary.itertuples():
        no_data = getattr(row, "status", "ok") == "no_data"
        units = (f"{row.units_covered}/{row.units_partial}/{row.units_uncovered}/{row.units_empty}/"
                 f"{row.units_off_network}/{getattr(row, 'units_no_data', 0)}")
        table.add_row(row.circle, row.name_zh, str(row.threshold_min), f"{row.population:,.0f}",
                      "–" if no_data else f"{row.covered_population:,.0f}",
                      "[yellow]无数据 no data[/]" if no_data else _pct(row.covered_share), units)
    console.print(table)
    print_warnings(result)
    print_sensitivity(result)
    inputs = result.data_quality.get("inputs")
    for row in summary.itertuples():
        if getattr(row, "status", "ok") == "no_data":
            reasons = "; ".join(_no_data_reason(c.strip(), inputs) for c in str(row.no_data).split(",") if c.strip())
            console.print(f"[yellow]{row.circle}: 无数据 no data[/] (not 'uncovered': nothing to measure) — {reasons}",
                          highlight=False)
    print_inputs(inputs, by_source=result.data_quality.get("inputs_by_source"))
    for note in result.assumptions:
        if not note.startswith(WARNING_PREFIX):
            console.print(f"[dim]assumption:[/] {escape(cli_first(note))}", highlight=False)


#: Assumptions starting with this are warnings: printed in yellow beside the summary, not as dim lines.
WARNING_PREFIX = "WARNING: "


def print_warnings(result: Any) -> None:
    """The analysis' warnings (assumptions starting with :data:`WARNING_PREFIX`), in yellow.

    Parameters
    ----------
    result : CoverageResult
        An analysis.

    Returns
    -------
    None
    """
    for note in result.assumptions:
        if note.startswith(WARNING_PREFIX):
            console.print(f"[bold yellow]warning:[/] [yellow]{escape(cli_first(note[len(WARNING_PREFIX):]))}[/]",
                          highlight=False)


def print_units_report(result: Any) -> None:
    """What happened to the user's units (rows dropped, outside the area, levels set aside, people in no
    unit) and the analysis' warnings, for commands that do not print the whole summary.

    Parameters
    ----------
    result : CoverageResult
        An analysis.

    Returns
    -------
    None
    """
    print_warnings(result)
    for note in result.assumptions:
        if note.startswith("units: "):
            console.print(f"[dim]{escape(cli_first(note))}[/]", highlight=False)


class _StepLines(logging.Handler):
    """Prints each finished step of :mod:`circles.progress` on stderr, the running one on the spinner."""

    def __init__(self, message: str, status: Any) -> None:
        super().__init__(level=logging.INFO)
        self.message, self.status = message, status

    def emit(self, record: logging.LogRecord) -> None:
        current = getattr(record, "circles_step", None)
        if current is None:
            return
        if getattr(record, "circles_phase", "") == "start":
            if self.status is not None:
                self.status.update(f"{self.message}: {escape(current.name)} …")
            return
        detail = f"  ({escape(current.detail)})" if current.detail else ""
        err_console.print(f"{time.perf_counter() - STARTED:7.1f} s  ✓ {escape(current.name)}  "
                          f"{current.seconds:.1f} s{detail}", highlight=False, soft_wrap=True)


@contextlib.contextmanager
def progress_lines(message: str, quiet: bool) -> Iterator[None]:
    """While the block runs: a spinner saying ``message`` and the step now running, and one line
    per finished step (elapsed, name, seconds, what it found) on stderr; nothing with ``--quiet``.
    """
    if quiet:
        yield
        return
    from circles.progress import LOGGER

    with err_console.status(message, spinner="dots") as status:
        handler = _StepLines(message, status)
        level, propagate = LOGGER.level, LOGGER.propagate
        LOGGER.addHandler(handler)
        LOGGER.setLevel(logging.INFO)
        LOGGER.propagate = False
        try:
            yield
        finally:
            LOGGER.removeHandler(handler)
            LOGGER.setLevel(level)
            LOGGER.propagate = propagate
