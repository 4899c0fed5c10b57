"""The tools that keep the code base as issue #11 left it: CI fails when any of them regresses.

- ruff (pyflakes, bugbear, imports, pyupgrade, complexity <= 15, numpy docstrings on the public API),
- mypy on the package (configured in ``pyproject.toml``; ``circles/py.typed`` ships the types),
- import-linter contracts for the layers (``[tool.importlinter]`` in ``pyproject.toml``),
- no module over 700 lines and no function over 100 lines of code.

The tools run as subprocesses of this interpreter's environment (they are in the ``test`` extra), from the
repository root, so they read the same configuration as a developer running them by hand.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "circles"
MAX_MODULE_LINES = 700
MAX_FUNCTION_CODE_LINES = 100


def _run(*command: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def _script(name: str) -> str:
    """A console script installed beside this interpreter (the venv's ``bin``), else on ``PATH``."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} is not installed: install the test extra (pip install -e '.[test]')"
    return found


def _our_modules() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if "_vendor" not in p.relative_to(PACKAGE).parts]


def test_ruff_clean() -> None:
    done = _run(sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", ".")
    assert done.returncode == 0, f"ruff check . found problems:\n{done.stdout}{done.stderr}"


def test_mypy_clean() -> None:
    done = _run(sys.executable, "-m", "mypy", "--no-incremental")
    assert done.returncode == 0, f"mypy (files and options from pyproject.toml) found problems:\n{done.stdout}{done.stderr}"


def test_import_contracts_kept() -> None:
    done = _run(_script("lint-imports"), "--no-cache")
    assert done.returncode == 0, f"import-linter contracts broken:\n{done.stdout}{done.stderr}"


@pytest.mark.parametrize("path", _our_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_size(path: Path) -> None:
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_MODULE_LINES, (f"{path.relative_to(ROOT)} has {n} lines (limit {MAX_MODULE_LINES}): "
                                   "split it by what its parts do")


def code_lines(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of code in a function: not blank, not a comment, not its docstring (nested functions count)."""
    body = node.body
    doc: set[int] = set()
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        doc = set(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    end = node.end_lineno or node.lineno
    return sum(1 for i in range(node.lineno, end + 1)
               if i not in doc and lines[i - 1].strip() and not lines[i - 1].strip().startswith("#"))


def test_code_lines_counts_code_only() -> None:
    source = 'def f(x):\n    """Doc.\n\n    More doc.\n    """\n\n    # a comment\n    y = x + 1\n    return y\n'
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.FunctionDef)
    assert code_lines(source.splitlines(), node) == 3  # def, y = ..., return


@pytest.mark.parametrize("path", _our_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_function_size(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    long = [f"{node.name} (line {node.lineno}): {n} lines of code"
            for node in ast.walk(ast.parse(source))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and (n := code_lines(lines, node)) > MAX_FUNCTION_CODE_LINES]
    assert not long, (f"{path.relative_to(ROOT)}: functions over {MAX_FUNCTION_CODE_LINES} lines of code "
                      f"(split them by what they do): {'; '.join(long)}")
