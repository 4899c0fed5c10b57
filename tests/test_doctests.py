"""The examples in circles' docstrings run, and there are enough of them to learn from (issue #11).

Each module's doctests run in a test of their own, so a failing example names its module.  Modules are
found from the files (nothing is imported at collection time) and imported only by their test; the
vendored web assets are not ours and are left out, and so is ``__main__`` (importing it runs the CLI).
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "circles"
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
#: Issue #11: at least this many documented objects of the public API with runnable (not skipped) examples.
MIN_DOCSTRINGS_WITH_EXAMPLES = 20


def _module_names() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if "_vendor" in parts or parts[-1] == "__main__":  # __main__ runs the CLI when imported
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


MODULES = _module_names()


def _runnable(test: doctest.DocTest) -> int:
    return sum(1 for ex in test.examples if not ex.options.get(doctest.SKIP))


def _doctests(name: str) -> list[doctest.DocTest]:
    module = importlib.import_module(name)
    return [t for t in doctest.DocTestFinder().find(module, name) if t.examples]


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name: str) -> None:
    tests = _doctests(name)
    if not any(_runnable(t) for t in tests):
        return
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in tests:
        runner.run(test, out=report.append)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, "".join(report)


def test_enough_examples() -> None:
    documented = [t.name for name in MODULES for t in _doctests(name) if _runnable(t)]
    assert len(documented) >= MIN_DOCSTRINGS_WITH_EXAMPLES, (
        f"only {len(documented)} docstrings with runnable examples: {documented}")
