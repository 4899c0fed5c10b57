"""Tests of the two-step floating catchment (circles.capacity), against PySAL ``access``.

The oracle is ``access.Access(...).two_stage_fca(...)`` on the same travel-time
matrix: a hand example, and the point x park minutes of the README Wuhan
analysis' 10-minute public activity circle with an illustrative capacity column.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from circles.capacity import capacity_access, travel_minutes, two_step_fsca
from circles.errors import InputError


def _pysal_2sfca(supply: np.ndarray, demand: np.ndarray, minutes: sp.csr_array, limit: float) -> np.ndarray:
    """PySAL access's two-stage FCA on the stored pairs of ``minutes`` (0 where a point reaches nothing)."""
    access = pytest.importorskip("access")
    coo = sp.coo_array(minutes)
    cost = pd.DataFrame({"pid": coo.row, "fid": coo.col, "minutes": coo.data})
    dem = pd.DataFrame({"pid": np.arange(demand.size), "pop": demand})
    sup = pd.DataFrame({"fid": np.arange(supply.size), "cap": supply})
    acc = access.Access(demand_df=dem, demand_index="pid", demand_value="pop", supply_df=sup, supply_index="fid",
                        supply_value="cap", cost_df=cost, cost_origin="pid", cost_dest="fid", cost_name="minutes")
    out = acc.two_stage_fca(name="fca", max_cost=limit)
    return out["fca_cap"].reindex(np.arange(demand.size)).fillna(0.0).to_numpy(float)


def test_hand_example():
    # point 0 reaches facility 0 (5 min); point 1 reaches 0 (8) and 1 (12, beyond 10); point 2 reaches 1 (3)
    # R_0 = 10 / (100 + 100) = 0.05; R_1 = 4 / 300; A = [0.05, 0.05, 4 / 300]
    t = np.array([[5.0, np.inf], [8.0, 12.0], [np.inf, 3.0]])
    a = two_step_fsca([10.0, 4.0], [100.0, 100.0, 300.0], t, limit_min=10)
    assert a == pytest.approx([0.05, 0.05, 4 / 300])
    m = sp.csr_array(np.where(np.isfinite(t), t, 0.0))
    assert _pysal_2sfca(np.array([10.0, 4.0]), np.array([100.0, 100.0, 300.0]), m, 10) == pytest.approx(a)
    # a sparse matrix: stored entries count (an explicit 0 minutes too), the limit applies on top
    coo = sp.coo_array((np.array([0.0, 8.0, 12.0, 3.0]), (np.array([0, 1, 1, 2]), np.array([0, 0, 1, 1]))),
                       shape=(3, 2))
    assert two_step_fsca([10.0, 4.0], [100.0, 100.0, 300.0], coo, limit_min=10) == pytest.approx(a)
    # a facility nobody reaches adds nothing; a point reaching nothing has 0
    assert two_step_fsca([5.0], [1.0, 2.0], np.array([[np.inf], [np.inf]])).tolist() == [0.0, 0.0]


def test_bad_inputs():
    with pytest.raises(InputError, match="supply"):
        two_step_fsca([-1.0], [1.0], np.zeros((1, 1)))
    with pytest.raises(InputError, match="demand"):
        two_step_fsca([1.0], [np.nan], np.zeros((1, 1)))
    with pytest.raises(InputError, match="shape"):
        two_step_fsca([1.0, 2.0], [1.0], np.zeros((1, 1)))


@pytest.fixture(scope="module")
def wuhan_with_capacity(readme_analysis):
    """The README analysis with an illustrative capacity on every public space (100 to 400 visitors)."""
    fac = readme_analysis.facilities.copy()
    fac["visitors"] = np.where(fac["category"] == "public_space", 100.0 + (np.arange(len(fac)) % 7) * 50.0, np.nan)
    return dataclasses.replace(readme_analysis, facilities=fac)


def test_wuhan_matrix_is_the_engines_minutes(wuhan_with_capacity):
    r = wuhan_with_capacity
    m = travel_minutes(r, "public_activity_10")
    n_parks = int((r.facilities["category"] == "public_space").sum())
    assert m.shape == (len(r.demand), n_parks) and m.nnz > 0
    assert m.data.max() <= 10.0 + 1e-9
    # the nearest park of every point equals the analysis' own minutes where they are within 10
    nearest = np.full(m.shape[0], np.inf)
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    np.minimum.at(nearest, rows, m.data)
    own = np.nan_to_num(r.point_minutes["public_activity_10"]["public_space"], nan=np.inf)
    own = np.where(own <= 10.0, own, np.inf)
    weight = r.demand.weights("all") * (r.demand.unit >= 0)
    np.testing.assert_allclose(nearest[weight > 0], own[weight > 0])
    covered = float(weight[np.isfinite(nearest)].sum())
    summary = r.summary.set_index("circle").loc["public_activity_10"]
    assert covered == pytest.approx(summary["covered_population"])


def test_wuhan_equals_pysal_access(wuhan_with_capacity):
    r = wuhan_with_capacity
    parks = r.facilities.index[(r.facilities["category"] == "public_space").to_numpy()]
    m = travel_minutes(r, "public_activity_10", parks)
    supply = r.facilities.loc[parks, "visitors"].to_numpy(float)
    demand = r.demand.weights("all").astype(float) * (r.demand.unit >= 0)
    ours = two_step_fsca(supply, demand, m, limit_min=10.0)
    assert ours.max() > 0
    np.testing.assert_allclose(ours, _pysal_2sfca(supply, demand, m, 10.0), rtol=1e-9, atol=1e-12)


def test_capacity_access_per_unit(wuhan_with_capacity):
    r = wuhan_with_capacity
    per_unit = capacity_access(r, "public_activity_10", "visitors")
    assert per_unit.name == "public_activity_10_visitors_per_1000"
    assert per_unit.index.equals(r.units.index)
    assert per_unit.attrs["facilities_used"] == int((r.facilities["category"] == "public_space").sum())
    # the population-weighted mean of the units equals the people-weighted 2SFCA of the points; and the
    # supply reached by people is all the supply of parks someone reaches (2SFCA conserves supply)
    d = r.demand
    w = d.weights("all").astype(float) * (d.unit >= 0)
    pop = np.bincount(d.unit[d.unit >= 0], weights=w[d.unit >= 0], minlength=len(r.units))
    ok = pop > 0
    assert per_unit[ok].notna().all() and per_unit[~ok].isna().all()
    m = travel_minutes(r, "public_activity_10", r.facilities.index[(r.facilities["category"] == "public_space")])
    reached = np.bincount(sp.coo_array(m).col, weights=w[sp.coo_array(m).row], minlength=m.shape[1]) > 0
    supply = r.facilities.loc[r.facilities["category"] == "public_space", "visitors"].to_numpy(float)
    assert float((per_unit[ok] * pop[ok]).sum() / 1000.0) == pytest.approx(supply[reached].sum())
    # a circle whose categories carry no value: no data, never 0
    elderly = capacity_access(r, "elderly_care_15", "visitors")
    assert elderly.isna().all()
    with pytest.raises(InputError, match="no column"):
        capacity_access(r, "public_activity_10", "beds")


def test_elderly_circle_counts_people_aged_65_plus(wuhan_with_capacity):
    # the parks relabelled as elderly-care homes with the same illustrative beds: the elderly circle walks at
    # 50 m/min for 15 minutes and shares the beds among people aged 65+
    r = wuhan_with_capacity
    fac = r.facilities.copy()
    fac.loc[fac["category"] == "public_space", "category"] = "elderly_care"
    r = dataclasses.replace(r, facilities=fac)
    homes = r.facilities.index[(r.facilities["category"] == "elderly_care").to_numpy()]
    m = travel_minutes(r, "elderly_care_15", homes)
    assert m.data.max() <= 15.0 + 1e-9
    old = r.demand.weights("65plus").astype(float) * (r.demand.unit >= 0)
    supply = r.facilities.loc[homes, "visitors"].to_numpy(float)
    per_point = _pysal_2sfca(supply, old, m, 15.0) * 1000.0
    d = r.demand
    inside = d.unit >= 0
    people = np.bincount(d.unit[inside], weights=old[inside], minlength=len(r.units))
    expect = np.bincount(d.unit[inside], weights=(old * per_point)[inside], minlength=len(r.units))
    expect = np.divide(expect, people, out=np.full(len(r.units), np.nan), where=people > 0)
    np.testing.assert_allclose(capacity_access(r, "elderly_care_15", "visitors").to_numpy(), expect, rtol=1e-9)
