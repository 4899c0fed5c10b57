"""Progress of long work, step by step: timed, logged, and shown by the command line.

Every long step of an analysis (reading the network, the facilities, the units, each circle,
each output file) runs inside :func:`step`.  It records the step's wall time in a timings
dict (``result.timings``) and logs two records on the ``circles.progress`` logger: one when
the step starts and one when it ends, with the seconds and a short detail (e.g. "1,340,923
walk nodes").  Nothing is printed by the library itself; the ``circles`` command line shows
the records on stderr as they happen (see :func:`circles.cli.main`), and a notebook user can
do the same with ``logging.getLogger("circles.progress").setLevel("INFO")``.

>>> timings = {}
>>> with step("count to three", timings, key="count_s") as s:
...     s.detail = "3 numbers"
>>> sorted(timings)
['count_s']
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["LOGGER", "Step", "step"]

#: The logger every step reports to.
LOGGER = logging.getLogger("circles.progress")


@dataclass
class Step:
    """One running step: its name, a detail to report when it ends, and its seconds once done."""

    name: str
    detail: str = ""
    seconds: float = float("nan")


@contextmanager
def step(name: str, timings: dict[str, float] | None = None, *, key: str | None = None) -> Iterator[Step]:
    """Time one step of the work and report its start and end on :data:`LOGGER`.

    Parameters
    ----------
    name : str
        What the step does, for people ("read the network file", "life_15").
    timings : dict, optional
        Receives the step's wall time, in seconds, under ``key``.
    key : str, optional
        Key in ``timings`` (default: ``name`` with spaces as underscores, plus ``"_s"``).

    Yields
    ------
    Step
        Set its ``detail`` to say what the step found; it is logged with the end record.
    """
    current = Step(name)
    started = time.perf_counter()
    LOGGER.info("%s …", name, extra={"circles_step": current, "circles_phase": "start"})
    try:
        yield current
    finally:
        current.seconds = time.perf_counter() - started
        if timings is not None:
            timings[key or name.replace(" ", "_") + "_s"] = current.seconds
        LOGGER.info("%s: %.1f s%s", name, current.seconds, f" ({current.detail})" if current.detail else "",
                    extra={"circles_step": current, "circles_phase": "end"})
