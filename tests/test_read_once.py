"""The network file is parsed once per run: walk and drive networks, the OSM
facilities and the OSM residential units all come from one read."""

from __future__ import annotations

import pytest

from circles import _osm
from circles.cli import main


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """Every parse of an OSM file (XML or PBF), by file name."""
    seen: list[str] = []
    for name in ("read_xml", "read_pbf"):
        real = getattr(_osm, name)

        def counting(path, _real=real):
            seen.append(path.name)
            return _real(path)

        monkeypatch.setattr(_osm, name, counting)
    return seen


@pytest.mark.wuhan
@pytest.mark.parametrize("name", ["guanggu.osm", "guanggu.osm.pbf"])
def test_analyze_reads_the_network_file_once(tmp_path, wuhan_dir, capsys, reads, name):
    # facilities from OSM (the default) and units from OSM: before, four parses
    # (walk network, drive network, facilities, residential units)
    out = tmp_path / "out"
    code = main(["analyze", "--network", str(wuhan_dir / name), "--units", "osm", "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert reads == [name]
    assert (out / "coverage.csv").stat().st_size > 0


@pytest.mark.wuhan
def test_one_read_gives_what_separate_reads_gave(wuhan_dir):
    from circles.network import load_features, load_network, load_networks

    path = wuhan_dir / "guanggu.osm"
    networks, features = load_networks(path)
    for mode in ("walk", "drive"):
        alone = load_network(path, mode=mode)
        assert (networks[mode].node_id == alone.node_id).all()
        assert (networks[mode].edge_u == alone.edge_u).all() and (networks[mode].edge_v == alone.edge_v).all()
        assert networks[mode].report == alone.report
    assert features.drop(columns="tags").equals(load_features(path).drop(columns="tags"))
