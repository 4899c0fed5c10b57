"""The README's Python example runs as written (documentation that cannot rot)."""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.wuhan
def test_readme_python_example_runs(wuhan_dir, tmp_path, monkeypatch):
    text = (REPO / "README.md").read_text(encoding="utf-8")
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


def test_public_api_names():
    import circles

    for name in ("analyze", "load_network", "fetch_network", "score", "select_sites",
                 "generate_candidates", "load_candidates", "load_policy", "minutes_to_nearest"):
        assert callable(getattr(circles, name)), name
    import circles.isochrones as module  # a module, not shadowed by a function of the same name

    assert callable(module.isochrones)
