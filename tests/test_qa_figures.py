"""PNG figures (QA item 17): no blank bands around the map, the scale-bar label on its own
white box below the units (not on them), district borders dashed like their legend entry
(a shared border drawn once, or two out-of-phase copies look solid), and a circle's figure
shows only that circle's facility categories.  Figures in tests/artifacts/."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pytest
import shapely

from circles.policies import load_policy

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="module")
def result(readme_analysis):
    return readme_analysis  # the README's analysis, computed once per session (conftest.py)


def _blank_rows(img: np.ndarray) -> tuple[int, int]:
    """Rows of pure white at the top and at the bottom of an RGB(A) image."""
    white = (img[..., :3] > 0.99).all(axis=(1, 2))
    top = int(np.argmin(white)) if not white.all() else len(white)
    bottom = int(np.argmin(white[::-1])) if not white.all() else len(white)
    return top, bottom


@pytest.mark.wuhan
def test_figure_has_no_blank_margins(result):
    import matplotlib.image as mpimg

    from circles.outputs.figures import coverage_figure

    ARTIFACTS.mkdir(exist_ok=True)
    path = coverage_figure(result, "public_activity_10", ARTIFACTS / "qa_figure_public_activity_10.png",
                           lang="en")
    img = mpimg.imread(path)
    top, bottom = _blank_rows(img)
    assert top <= 0.03 * img.shape[0] and bottom <= 0.03 * img.shape[0], (top, bottom, img.shape)


@pytest.mark.wuhan
def test_scale_bar_label_sits_below_the_units(result, monkeypatch):
    import matplotlib.pyplot as plt

    from circles.outputs.figures import coverage_figure

    kept = []
    monkeypatch.setattr(plt, "close", lambda fig=None: kept.append(fig))
    coverage_figure(result, "life_15", ARTIFACTS / "qa_figure_life_15.png", lang="zh")
    fig = kept[-1]
    ax = fig.axes[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    units_top_of_bottom = ax.transData.transform((0, result.units.to_crs(
        result.networks["walk"].crs).total_bounds[1]))[1]
    labels = [t for t in ax.texts if t.get_text().endswith(("米", " m", "km", "千米"))]
    assert labels, [t.get_text() for t in ax.texts]
    for text in labels:
        box = text.get_window_extent(renderer)
        assert box.y1 <= units_top_of_bottom + 1, (box, units_top_of_bottom)  # below the lowest unit
    plt.close(fig)


def _mixed_facilities():
    cats = ["grocery", "public_space", "sports", "middle_school", "kindergarten"]
    pts = [shapely.Point(100 * i, 100) for i in range(len(cats))]
    return gpd.GeoDataFrame({"category": cats}, geometry=pts, crs="EPSG:32650")


def test_a_circles_figure_shows_only_its_own_categories():
    import matplotlib.pyplot as plt

    from circles.outputs.figures import _WORDS, _draw_facilities
    from circles.outputs.palette import category_label

    life = load_policy("wuhan-2022").circle("life_15")
    fake = SimpleNamespace(facilities=_mixed_facilities())
    fig, ax = plt.subplots()
    try:
        handles = _draw_facilities(ax, fake, life, (-50, 0, 500, 200), "EPSG:32650", "en", _WORDS["en"])
    finally:
        plt.close(fig)
    labels = {h.get_label() for h in handles}
    assert labels == {category_label("grocery", "en"), category_label("kindergarten", "en")}, labels


def test_district_borders_are_dashed_and_drawn_once():
    import matplotlib.pyplot as plt

    from circles.outputs.figures import BORDER_DASH, _draw_borders

    two = gpd.GeoDataFrame({"district": ["a", "b"]},
                           geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs="EPSG:32650")
    fig, ax = plt.subplots()
    try:
        _draw_borders(ax, two)
        (coll,) = ax.collections
        length = sum(float(np.sum(np.hypot(*np.diff(seg, axis=0).T))) for seg in coll.get_segments())
        offset, dashes = coll.get_linestyle()[0]
    finally:
        plt.close(fig)
    assert length == pytest.approx(7.0)  # the shared edge once: 8 - 1
    assert dashes is not None and len(dashes) == len(BORDER_DASH[1])  # dashed, like the legend
