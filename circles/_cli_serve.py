"""What ``circles serve`` does between its options and the web server: the analysis (or the demo's), the
scenario on top of it, the listening socket, and what the console shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.markup import escape

from circles._cli_inputs import AnalyzeInputs
from circles._cli_report import console, err_console, print_summary, progress_lines
from circles.errors import InputError

__all__ = ["check_serve_options", "demo_result", "serve_scenario"]


def check_serve_options(inputs: AnalyzeInputs, *, demo: bool, host: str, port: int, out: Path) -> None:
    """Refuse impossible options before any work; warn when the editor is exposed beyond this computer.

    Parameters
    ----------
    inputs : AnalyzeInputs
        The analysis options of the command.
    demo : bool
        --demo was given.
    host, port, out
        --host, --port and --out.
    """
    if not 0 <= port <= 65535:
        raise InputError(f"--port must be between 0 and 65535 (0: any free port), got {port}")
    if demo and (inputs.network is not None or inputs.place is not None):
        raise InputError("--demo serves the bundled Helsinki extract: leave out --network/--place, or drop --demo")
    from circles.serve import is_loopback

    if not is_loopback(host):
        err_console.print(f"[bold yellow]warning:[/] --host {escape(host)} makes the editor reachable from other "
                          f"computers; it has no login, so anyone who can reach port {port} can change the scenario "
                          f"and write exports into {escape(str(out))}. Use it only on a network you trust.",
                          highlight=False, soft_wrap=True)


def demo_result(quiet: bool) -> Any:
    """The demo's analysis (Helsinki extract), with the CLI's progress lines.

    Parameters
    ----------
    quiet : bool
        No progress output.

    Returns
    -------
    CoverageResult
    """
    from circles.demo import demo_analysis

    with progress_lines("analysing the demo extract…", quiet):
        return demo_analysis()


def serve_scenario(result: Any, *, facilities_crs: str | None, out: Path, lang: str, host: str, port: int,
                   scenario_csv: Path | None = None) -> None:
    """Serve the scenario editor on ``result`` until Ctrl-C.

    Parameters
    ----------
    result : CoverageResult
        The analysis the scenario starts from.
    facilities_crs : str or None
        The facility file's coordinate system (scenario.csv gives positions in it too).
    out : Path
        The folder exports go to.
    lang : {"zh", "en"}
        The page's first language.
    host : str
        Address to listen on.
    port : int
        Port (0: any free one).
    scenario_csv : Path, optional
        A saved scenario.csv whose edits are applied before serving.
    """
    from circles.scenario import Scenario
    from circles.serve import make_server, run_server

    scenario = Scenario(result, facilities_crs=facilities_crs)
    if scenario_csv is not None:
        n = scenario.replay(scenario_csv)
        console.print(f"applied {n} edit(s) from {escape(str(scenario_csv))}", highlight=False)
    try:
        server = make_server(scenario, host=host, port=port, lang=lang, out_dir=out)
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); is another `circles serve` "
                         f"running? Choose another port with --port, e.g. --port {port + 1 if port else 8766}") from None
    print_summary(result)
    run_server(server, open_message=lambda text: console.print(text, highlight=False))
