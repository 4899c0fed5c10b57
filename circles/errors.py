"""Exceptions raised by circles.

Every error says what is wrong, where (file, row, parameter), what was expected
and how to fix it.  Each class also subclasses the matching builtin so callers
can catch either ``circles.errors.InputError`` or plain ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Iterable


class CirclesError(Exception):
    """Base class of every error raised on purpose by circles."""


class InputError(CirclesError, ValueError):
    """A parameter or an input file is not what circles expects."""


class InputFileNotFoundError(CirclesError, FileNotFoundError):
    """An input file does not exist."""


class NetworkUnavailableError(CirclesError, ConnectionError):
    """An online call (Overpass, Nominatim, tiles) could not reach its server."""


class NoDataError(CirclesError, ValueError):
    """An input holds nothing usable (no ways for the mode, no facilities, empty area)."""


class ValidationError(InputError):
    """Several problems found while validating one input; all are listed at once."""

    def __init__(self, source: str, problems: Iterable[str], *, hint: str = ""):
        self.source = source
        self.problems = list(problems)
        self.hint = hint
        lines = "\n".join(f"  - {p}" for p in self.problems)
        tail = f"\n  how to fix: {hint}" if hint else ""
        super().__init__(f"{source}: {len(self.problems)} problem(s) found:\n{lines}{tail}")
