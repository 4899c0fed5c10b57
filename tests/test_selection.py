"""Tests of site selection (circles.scoring.mclp): greedy, exact MILP, capacities."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from circles.errors import InputError
from circles.scoring.mclp import Selection, exact_select, greedy_select


def _reach(sets, n_demand):
    """CSR (n_candidates, n_demand) from a list of reached-demand sets."""
    rows = [j for j, s in enumerate(sets) for _ in s]
    cols = [i for s in sets for i in s]
    return sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(len(sets), n_demand))


def _brute_force(w, existing, R, group, k, fixed=None):
    """Best covered weight over all k-subsets of the non-fixed candidates."""
    R = sp.csr_array(R).toarray() != 0
    existing = existing.reshape(len(w), -1)
    fixed_mask = np.zeros(R.shape[0], bool)
    if fixed is not None:
        fixed_mask[fixed] = True
    free = np.flatnonzero(~fixed_mask)

    def covered(chosen):
        sat = existing.copy()
        for j in list(chosen) + list(np.flatnonzero(fixed_mask)):
            sat[R[j], group[j]] = True
        return w[sat.all(axis=1)].sum()

    return max(covered(c) for c in itertools.combinations(free, k))


# --------------------------------------------------------------------------- #
# Hand-checkable instances
# --------------------------------------------------------------------------- #


def test_single_group_hand_instance():
    # demand weights 10, 20, 30, 40; nothing exists yet
    # c0 -> {0,1} = 30, c1 -> {2} = 30, c2 -> {3} = 40, c3 -> {1,2} = 50
    # k=1: c3 (50).  k=2: c3 + c2 = 90 (c0+c2 = 70, c1+c2 = 70, c0+c1 = 60)
    w = np.array([10.0, 20.0, 30.0, 40.0])
    R = _reach([{0, 1}, {2}, {3}, {1, 2}], 4)
    ex = np.zeros((4, 1), bool)
    g = np.zeros(4, int)
    s1 = greedy_select(w, ex, R, g, 1)
    assert s1.chosen.tolist() == [3] and s1.gains.tolist() == [50.0] and s1.covered_weight == 50.0
    s2 = greedy_select(w, ex, R, g, 2)
    assert s2.chosen.tolist() == [3, 2] and s2.gains.tolist() == [50.0, 40.0]
    e2 = exact_select(w, ex, R, g, 2)
    assert sorted(e2.chosen.tolist()) == [2, 3] and e2.covered_weight == 90.0
    assert e2.status == "Optimal" and e2.mip_gap == pytest.approx(0.0, abs=1e-6)
    assert e2.objective == pytest.approx(90.0)
    assert e2.gains.tolist() == [50.0, 40.0]  # greedy order within the optimal set
    assert isinstance(e2, Selection) and e2.method == "exact" and s2.method == "greedy"


def test_greedy_can_be_beaten_and_breaks_ties_by_lowest_index():
    # six demand points of weight 1.  c0 -> {1,2,3,4}, c1 -> {0,1,2}, c2 -> {3,4,5}
    # greedy k=2: c0 (4), then c1 and c2 both add 1 -> tie -> c1 (lower index): 5
    # exact  k=2: c1 + c2 = 6
    w = np.ones(6)
    R = _reach([{1, 2, 3, 4}, {0, 1, 2}, {3, 4, 5}], 6)
    ex = np.zeros(6, bool)
    g = np.zeros(3, int)
    gr = greedy_select(w, ex, R, g, 2)
    assert gr.chosen.tolist() == [0, 1] and gr.covered_weight == 5.0
    ex_sel = exact_select(w, ex, R, g, 2)
    assert sorted(ex_sel.chosen.tolist()) == [1, 2] and ex_sel.covered_weight == 6.0


def test_two_groups_hand_instance_not_submodular():
    # groups: 0 = clinic, 1 = school.  weights 5, 5, 5, 100
    # demand 0 already has a school; nothing else exists.
    # c0 (clinic) -> {0}, c1 (clinic) -> {3}, c2 (school) -> {3}
    # k=1: only c0 helps on its own: demand 0 gets its clinic -> 5
    # k=2: c1 + c2 cover demand 3 -> 100 (greedy: c0 first, then 0 gain -> 5)
    # k=3: everything -> 105
    w = np.array([5.0, 5.0, 5.0, 100.0])
    ex = np.zeros((4, 2), bool)
    ex[0, 1] = True
    R = _reach([{0}, {3}, {3}], 4)
    g = np.array([0, 0, 1])
    assert greedy_select(w, ex, R, g, 1).chosen.tolist() == [0]
    assert exact_select(w, ex, R, g, 1).covered_weight == 5.0
    gr2 = greedy_select(w, ex, R, g, 2)
    assert gr2.covered_weight == 5.0
    e2 = exact_select(w, ex, R, g, 2)
    assert sorted(e2.chosen.tolist()) == [1, 2] and e2.covered_weight == 100.0
    # gains in greedy order of the optimal set: first pick adds nothing yet, second completes demand 3
    assert e2.gains.tolist() == [0.0, 100.0]
    gr3 = greedy_select(w, ex, R, g, 3)
    assert gr3.covered_weight == 105.0 and gr3.gains.sum() == 105.0
    # rule="progress": step 1 scores c0 = 5/1, c1 = c2 = 100/2 -> c1; step 2 c2 completes demand 3
    pr2 = greedy_select(w, ex, R, g, 2, rule="progress")
    assert pr2.chosen.tolist() == [1, 2] and pr2.gains.tolist() == [0.0, 100.0]
    with pytest.raises(InputError, match="rule"):
        greedy_select(w, ex, R, g, 2, rule="best")


def test_progress_score_starts_a_multi_group_circle():
    # two groups, nothing exists.  weights 10, 1
    # c0 (g0) -> {1}, c1 (g0) -> {0}, c2 (g1) -> {0}
    # step 1: every exact gain is 0; progress scores c0 = 1/2, c1 = 10/2, c2 = 10/2 -> c1 (lowest of the tie)
    # step 2: c2 completes demand 0 -> gain 10
    w = np.array([10.0, 1.0])
    R = _reach([{1}, {0}, {0}], 2)
    s = greedy_select(w, np.zeros((2, 2), bool), R, np.array([0, 0, 1]), 2)
    assert s.chosen.tolist() == [1, 2] and s.gains.tolist() == [0.0, 10.0] and s.covered_weight == 10.0


def test_greedy_stops_when_nothing_can_help():
    # only c0 reaches uncovered demand; k=3 returns one site
    w = np.array([3.0, 4.0])
    R = _reach([{0}, {1}, set()], 2)
    ex = np.array([False, True])
    s = greedy_select(w, ex, R, np.zeros(3, int), 3)
    assert s.chosen.tolist() == [0] and s.covered_weight == 7.0 and s.baseline_weight == 4.0
    e = exact_select(w, ex, R, np.zeros(3, int), 3)
    assert e.chosen.tolist() == [0] and e.covered_weight == 7.0


def test_fixed_candidates_count_as_built_and_are_never_chosen():
    # weights 10, 20, 30; c0 is fixed (already built) and reaches {0, 1}
    # baseline = 30.  c1 -> {1} adds nothing, c2 -> {2} adds 30, c3 -> {0,2} adds 30 (tie -> c2)
    w = np.array([10.0, 20.0, 30.0])
    R = _reach([{0, 1}, {1}, {2}, {0, 2}], 3)
    ex = np.zeros(3, bool)
    g = np.zeros(4, int)
    for fixed in ([0], np.array([True, False, False, False])):
        s = greedy_select(w, ex, R, g, 1, fixed=fixed)
        assert s.baseline_weight == 30.0 and s.chosen.tolist() == [2] and s.covered_weight == 60.0
        e = exact_select(w, ex, R, g, 3, fixed=fixed)
        assert 0 not in e.chosen and e.covered_weight == 60.0 and e.baseline_weight == 30.0
    # k may be up to the number of non-fixed candidates (3), not more
    with pytest.raises(InputError, match=r"k=4.*only 3 candidates"):
        greedy_select(w, ex, R, g, 4, fixed=[0])


def test_k_zero():
    w = np.array([1.0, 2.0])
    R = _reach([{0}], 2)
    for fn in (greedy_select, exact_select):
        s = fn(w, np.array([False, True]), R, [0], 0)
        assert s.chosen.size == 0 and s.covered_weight == 2.0 == s.baseline_weight


# --------------------------------------------------------------------------- #
# Random instances against brute force
# --------------------------------------------------------------------------- #


def _random_instance(seed, n_cand=12, n_demand=40, n_groups=2):
    rng = np.random.default_rng(seed)
    w = rng.integers(0, 20, n_demand).astype(float)  # includes zero weights
    existing = rng.random((n_demand, n_groups)) < 0.3
    R = sp.csr_array(rng.random((n_cand, n_demand)) < 0.2)
    group = rng.integers(0, n_groups, n_cand)
    return w, existing, R, group


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n_groups", [1, 2])
def test_exact_equals_brute_force_and_bounds_greedy(seed, n_groups):
    w, existing, R, group = _random_instance(seed, n_groups=n_groups)
    fixed = [seed % 12] if seed % 2 else None
    for k in range(1, 5):
        best = _brute_force(w, existing, R, group, k, fixed)
        e = exact_select(w, existing, R, group, k, fixed=fixed)
        gr = greedy_select(w, existing, R, group, k, fixed=fixed)
        pr = greedy_select(w, existing, R, group, k, fixed=fixed, rule="progress")
        assert pr.covered_weight <= e.covered_weight + 1e-9
        assert e.covered_weight == pytest.approx(best)
        assert e.objective == pytest.approx(best)
        assert gr.covered_weight <= e.covered_weight + 1e-9
        assert len(e.chosen) <= k and len(gr.chosen) <= k
        assert e.baseline_weight + e.gains.sum() == pytest.approx(e.covered_weight)
        assert gr.baseline_weight + gr.gains.sum() == pytest.approx(gr.covered_weight)
        if fixed is not None:
            assert fixed[0] not in e.chosen and fixed[0] not in gr.chosen


def test_model_is_reduced_by_aggregation():
    # 1000 demand points but only 3 distinct coverage patterns
    n = 1000
    w = np.ones(n)
    sets = [set(range(0, 500)), set(range(250, 750)), set(range(600, 1000))]
    e = exact_select(w, np.zeros(n, bool), _reach(sets, n), np.zeros(3, int), 2)
    assert e.model_size["demand_rows"] == n
    # patterns: {c0} 0-249, {c0,c1} 250-499, {c1} 500-599, {c1,c2} 600-749, {c2} 750-999
    assert e.model_size["demand_rows_aggregated"] == 5
    assert e.covered_weight == 900.0  # c0 + c2: 500 + 400


# --------------------------------------------------------------------------- #
# Capacities
# --------------------------------------------------------------------------- #


def test_capacity_hand_instance():
    # weights 30, 30, 40 (one group, nothing exists)
    # c0 -> {0,1} (60 reachable) capacity 60; c1 -> {0,1,2} (100 reachable) capacity 45
    # uncapacitated k=1 picks c1 (100); with capacities c0 serves 60 > c1's 45 -> c0
    w = np.array([30.0, 30.0, 40.0])
    R = _reach([{0, 1}, {0, 1, 2}], 3)
    ex = np.zeros(3, bool)
    g = np.zeros(2, int)
    cap = np.array([60.0, 45.0])
    assert exact_select(w, ex, R, g, 1).chosen.tolist() == [1]
    s = exact_select(w, ex, R, g, 1, capacity=cap)
    assert s.chosen.tolist() == [0] and s.covered_weight == pytest.approx(60.0)
    # k=2: c0 serves 60 of {0,1}, c1 serves 40 of demand 2 -> 100
    s2 = exact_select(w, ex, R, g, 2, capacity=cap)
    assert sorted(s2.chosen.tolist()) == [0, 1] and s2.covered_weight == pytest.approx(100.0)
    assert s2.gains.sum() == pytest.approx(100.0)
    # demand 0 already served by an existing facility: c0 can add only demand 1 (30),
    # c1 can add min(30 + 40, 45) = 45 -> c1; covered 30 + 45 = 75
    s3 = exact_select(w, np.array([True, False, False]), R, g, 1, capacity=cap)
    assert s3.chosen.tolist() == [1] and s3.covered_weight == pytest.approx(75.0)
    assert s3.baseline_weight == pytest.approx(30.0)
    # unlimited capacity behaves like the uncapacitated model
    s4 = exact_select(w, ex, R, g, 1, capacity=np.full(2, np.inf))
    assert s4.chosen.tolist() == [1] and s4.covered_weight == pytest.approx(100.0)


def test_capacity_with_fixed_site():
    # as above plus c2 (fixed, already built) -> {2} with capacity 40: baseline 40
    # k=1: c0 adds 60 (total 100); c1 adds at most 45 -> c0
    w = np.array([30.0, 30.0, 40.0])
    R = _reach([{0, 1}, {0, 1, 2}, {2}], 3)
    s = exact_select(w, np.zeros(3, bool), R, np.zeros(3, int), 1, fixed=[2], capacity=[60.0, 45.0, 40.0])
    assert s.baseline_weight == pytest.approx(40.0)
    assert s.chosen.tolist() == [0] and s.covered_weight == pytest.approx(100.0)
    assert s.gains.tolist() == pytest.approx([60.0])


def test_capacity_errors():
    w = np.ones(3)
    R = _reach([{0}, {1}], 3)
    with pytest.raises(InputError, match="capacity.*single-group"):
        exact_select(w, np.zeros((3, 2), bool), R, [0, 1], 1, capacity=[1.0, 1.0])
    with pytest.raises(InputError, match="capacity.*>= 0"):
        exact_select(w, np.zeros(3, bool), R, [0, 0], 1, capacity=[1.0, -1.0])
    with pytest.raises(InputError, match="capacity.*one number per candidate"):
        exact_select(w, np.zeros(3, bool), R, [0, 0], 1, capacity=[1.0])


# --------------------------------------------------------------------------- #
# Input errors
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"k": 3}, r"k=3.*only 2 candidates"),
        ({"k": -1}, r"k: must be >= 0"),
        ({"k": 1.5}, r"k: expected a whole number"),
        ({"weights": np.array([1.0, -1.0, 1.0])}, "weights"),
        ({"weights": np.ones(4)}, "existing: has 3 rows"),
        ({"group": np.array([0, 1])}, "group: values must lie in"),
        ({"group": np.array([0])}, "group: has 1 entries"),
        ({"fixed": [5]}, "fixed"),
    ],
)
def test_input_errors_name_the_parameter(change, match):
    args = {"weights": np.ones(3), "existing": np.zeros(3, bool), "reach": _reach([{0}, {1}], 3),
            "group": np.array([0, 0]), "k": 1, "fixed": None}
    args.update(change)
    for fn in (greedy_select, exact_select):
        with pytest.raises(InputError, match=match):
            fn(args["weights"], args["existing"], args["reach"], args["group"], args["k"], fixed=args["fixed"])


def test_all_problems_reported_at_once():
    with pytest.raises(InputError) as info:
        greedy_select(np.array([-1.0, 1.0]), np.zeros(2, bool), _reach([{0}], 2), np.array([3]), 5)
    msg = str(info.value)
    assert "weights" in msg and "group" in msg and "k=5" in msg
