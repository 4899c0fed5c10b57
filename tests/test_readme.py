"""The README's examples run as written (documentation that cannot rot).

* the Python example is executed;
* every ``circles ...`` command in the README's bash blocks (except the two install
  one-liners between the demo/test markers, which CI runs itself) is split with
  shlex and run **verbatim** through :func:`circles.cli.main`, from a mirror of the
  repository root: every top-level entry of the repository is symlinked into a
  temporary folder, and ``../shared`` beside it points to the real shared data, so
  ``../shared/data/wuhan/...`` and ``data/...`` resolve exactly as from the
  repository root, while ``out/`` and ``maps/`` are written to the temporary folder
  (a user's own outputs in the clone are never overwritten);
* the README points to nothing outside the repository.
"""

import re
import shlex
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
#: folders the commands write into: real folders in the mirror, not symlinks to the clone
OUTPUT_DIRS = {"out", "maps"}


def _readme() -> str:
    return README.read_text(encoding="utf-8")


def readme_commands(text: str) -> list[str]:
    """Every ``circles ...`` command of the bash blocks outside the install markers,
    with backslash continuations joined and trailing comments kept (shlex drops them)."""
    text = re.sub(r"<!-- (demo|test)-command:start -->.*?<!-- \1-command:end -->", "", text, flags=re.S)
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip().startswith("circles"):
                commands.append(" ".join(line.split()))
    return commands


def _argv(command: str) -> list[str]:
    words = shlex.split(command, comments=True)
    assert words[0] == "circles", command
    return words[1:]


def _option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


COMMANDS = readme_commands(_readme())


@pytest.fixture
def repo_mirror(tmp_path, monkeypatch) -> Path:
    """A folder that behaves like the repository root (see the module docstring)."""
    root = tmp_path / "circles"
    root.mkdir()
    for entry in REPO.iterdir():
        if entry.name in OUTPUT_DIRS or entry.name == ".git":
            continue
        (root / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    for name in OUTPUT_DIRS:
        (root / name).mkdir()
    (tmp_path / "shared").symlink_to(REPO.parent / "shared", target_is_directory=True)
    monkeypatch.chdir(root)
    return root


def test_readme_commands_found():
    """The parser sees the documented commands (a test that finds none would prove nothing)."""
    verbs = {_argv(c)[0] for c in COMMANDS}
    assert {"analyze", "map", "score", "policies", "demo"} <= verbs, verbs
    for command in COMMANDS:
        assert "..." not in command and "…" not in command, f"placeholder in a README command: {command}"
        assert "apt-get" not in command and "pip install" not in command, command


def _expected_outputs(argv: list[str]) -> list[str]:
    """Files a command names (through --out) that must exist after it ran."""
    verb, out = argv[0], _option(argv, "--out")
    if verb == "analyze":
        folder = Path(out or "out")
        return [str(folder / f) for f in ("coverage.gpkg", "coverage.csv", "summary.csv", "coverage.xlsx",
                                          "map.html")]
    if verb == "map":
        page = Path(out or "maps/coverage.html")
        files = [str(page)]
        if "--figures" in argv:
            from circles.policies import load_policy

            files += [str(page.with_name(f"{page.stem}_{c.id}.png"))
                      for c in load_policy(_option(argv, "--policy") or "wuhan-2022").circles]
        return files
    if verb == "score":
        folder = Path(out or "out")
        files = [str(folder / f) for f in ("scores.csv", "scores_by_district.csv", "scores.xlsx", "scores.html")]
        if "--k" in argv:
            files.append(str(folder / "selected.csv"))
        return files
    if verb == "report":
        folder = Path(out or "report")
        return [str(folder / f) for f in ("targets.csv", "gap_sites.csv", "report.html", "report.pdf")]
    if verb == "demo":
        return [str(Path(out or "maps/demo") / "map.html")]
    if verb == "serve":
        folder = Path(out or "out/scenario")
        return [str(next(folder.glob("scenario-*"), folder / "scenario-?") / f) for f in ("scenario.csv", "summary.csv")]
    if verb == "batch":
        folder = Path(out or "out")
        return [str(folder / f) for f in ("summary.csv", "tasks.csv", "guanggu/policy_speed/coverage.gpkg")]
    return []


def _use_the_editor_once(server, **_) -> None:
    """Stands in for `circles serve`'s run-until-Ctrl-C: serve in a thread, ask what the page asks first and
    export the scenario, then stop (as Ctrl-C would)."""
    import json
    import threading
    import urllib.request

    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        with urllib.request.urlopen(base + "/api/summary", timeout=60) as r:
            assert len(json.load(r)["circles"]) == 5
        req = urllib.request.Request(base + "/api/export", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=300) as r:
            assert json.load(r)["files"]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.wuhan
@pytest.mark.parametrize("command", COMMANDS, ids=[f"{i}-{_argv(c)[0]}" for i, c in enumerate(COMMANDS)])
def test_readme_command_runs_verbatim(command, wuhan_dir, repo_mirror, capsys, monkeypatch):
    from circles.cli import main

    argv = _argv(command)
    if argv[0] == "serve":
        monkeypatch.setattr("circles.serve.run_server", _use_the_editor_once)
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 0, f"`{command}` exited with {code}:\n{captured.err[-3000:]}"
    missing = [f for f in _expected_outputs(argv) if not (repo_mirror / f).is_file()]
    assert not missing, f"`{command}` did not write {missing}"
    if argv[0] == "policies":
        assert "circle" in captured.out


def test_readme_points_nowhere_outside_the_repository():
    text = _readme()
    assert "STANDARDS.md" not in text and "DESIGN.md" not in text and "FIELD_NOTES.md" not in text
    # shared data are read from ../shared/data/wuhan only; nothing else of ../shared is referenced
    assert not re.findall(r"\.\./shared/(?!data/wuhan)", text)
    links = re.findall(r"\]\(([^)#\s]+)\)", text)
    local = [link for link in links if not re.match(r"[a-z]+://", link)]
    assert "docs/methodology.md" in local
    for link in local:
        assert (REPO / link).exists(), f"README links {link}, which is not in the repository"


def test_methodology_page_covers_the_method():
    text = (REPO / "docs" / "methodology.md").read_text(encoding="utf-8")
    for needle in ("武政〔2022〕2号", "GB 50180-2018", "TD/T 1062-2021", "GB/T 51346-2019", "GB 50437-2007",
                   "国卫医发〔2020〕19号", "300 m", "no_data", "65+", "GCJ-02", "BD-09"):
        assert needle in text, needle
    from circles.policies import load_policy

    for circle in load_policy("wuhan-2022").circles:  # every circle of the pack is described
        assert circle.id in text and circle.name_zh in text, circle.id


def test_units_help_names_the_units_crs_flag():
    import typer.main

    from circles.cli import app

    command = typer.main.get_command(app)
    for verb in ("analyze", "map", "score"):
        units = next(p for p in command.commands[verb].params if p.name == "units")
        assert "--units-crs" in units.help, units.help
        assert "(with --crs)" not in units.help


@pytest.mark.wuhan
def test_readme_python_example_runs(wuhan_dir, tmp_path, monkeypatch):
    text = _readme()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "README has no python example"
    code = blocks[0].replace('result.to_files("out/")', f'result.to_files(r"{tmp_path / "out"}")')
    monkeypatch.chdir(REPO)  # the example reads ../shared/data/wuhan/ from the repository root
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    result = namespace["result"]
    assert len(result.summary) == 5
    assert (tmp_path / "out" / "coverage.gpkg").exists()
    assert namespace["minutes"].shape == (namespace["walk"].n_nodes,)
    after = {c["circle"]: c for c in namespace["scenario"].summary()["circles"]}
    assert after["elderly_care_15"]["covered_share_before"] is None  # no elderly care in the data: no data
    assert after["elderly_care_15"]["covered_share"] > 0


def test_public_api_names():
    import circles

    for name in ("analyze", "load_network", "fetch_network", "score", "select_sites",
                 "generate_candidates", "load_candidates", "load_policy", "minutes_to_nearest"):
        assert callable(getattr(circles, name)), name
    import circles.isochrones as module  # a module, not shadowed by a function of the same name

    assert callable(module.isochrones)
