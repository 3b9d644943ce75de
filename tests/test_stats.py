"""Plot data and statistics on small synthetic ensembles with known answers."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from model.analysis import plotdata, stats


def test_wilson_matches_hand_computation():
    # 8 of 20: p = 0.4; Wilson 95% interval computed by hand = [0.2188, 0.6134]
    p, lo, hi = stats.wilson(8, 20)
    assert p == 0.4
    assert abs(lo - 0.21878) < 1e-4 and abs(hi - 0.61336) < 1e-4


@given(k=st.integers(0, 500), extra=st.integers(1, 500))
def test_wilson_interval_contains_estimate_and_stays_in_unit_interval(k, extra):
    n = k + extra
    p, lo, hi = stats.wilson(k, n)
    assert 0 <= lo <= p + 1e-12 and p - 1e-12 <= hi <= 1


def test_kaplan_meier_by_hand():
    # events at weeks 1, 1, 3; two never happen (NaN); horizon 5
    xs, ys = stats.kaplan_meier(np.array([1.0, np.nan, 3.0, 1.0, np.nan]), 5.0)
    assert list(xs) == [0.0, 1.0, 3.0, 5.0]
    assert np.allclose(ys, [1.0, 0.6, 0.4, 0.4])


def test_paired_difference_of_identical_scenarios_is_exactly_zero():
    a = np.random.default_rng(1).normal(size=200)
    d = stats.paired_difference(a, a.copy())
    assert d.mean == 0 and d.low == 0 and d.high == 0 and not d.distinguishable


def test_pairing_narrows_the_interval_when_replicates_are_correlated():
    rng = np.random.default_rng(2)
    common = rng.normal(size=1000)
    a = common + 0.1 * rng.normal(size=1000)
    b = common + 0.3 + 0.1 * rng.normal(size=1000)
    d = stats.paired_difference(a, b)
    assert d.distinguishable and abs(d.mean - 0.3) < 0.03
    assert d.narrowing > 5


def test_fan_bands_are_ordered_and_known():
    m = np.tile(np.arange(101, dtype=float), (3, 1))  # 3 steps, replicates 0..100
    f = plotdata.fan(m, 7)
    assert np.allclose(f["median"], 50) and np.allclose(f["p5"], 5) and np.allclose(f["p95"], 95)
    assert list(f["x"]) == [0, 1, 2]


def test_category_shares_sum_to_one():
    tiers = np.array([[0, 1, 1, 3], [2, 2, 2, 2]])
    s = plotdata.category_shares(tiers, 8)
    assert np.allclose(s.sum(axis=1), 1)
    assert s[0, 1] == 0.5 and s[1, 2] == 1.0


def test_ladder_occupancy_groups_rungs_like_kahn():
    rungs = np.array([[0, 2, 9, 12, 16, 30]])
    occ = plotdata.ladder_occupancy(rungs)
    assert np.allclose(occ[0], [1 / 6, 1 / 6, 1 / 6, 2 / 6, 1 / 6])


def test_constraint_audit_counts_bits():
    bound = {"russia": np.array([[0b01, 0b00, 0b10], [0b01, 0b01, 0b00]], dtype=np.int64)}
    cons = [
        {"id": "A", "actor": "russia", "kind": "gate", "claims": ["C01"], "text": "a"},
        {"id": "B", "actor": "russia", "kind": "cost", "claims": ["C02"], "text": "b"},
    ]
    rows = {r["constraint"]: r for r in plotdata.constraint_audit(bound, cons, 7)}
    assert rows["A"]["share_of_replicates"] == 2 / 3 and rows["A"]["mean_steps_bound"] == 1.0
    assert rows["B"]["share_of_replicates"] == 1 / 3 and rows["B"]["median_first_week"] == 1.0


def test_config_diff_lists_changes_first():
    ref = {"name": "a", "seed": 1, "events": [], "constraints": {}}
    other = {
        "name": "b",
        "seed": 1,
        "events": [{"at": 1, "actor": "usa", "action": "sanction", "target": "iran"}],
        "constraints": {"RU_S400_GATE": {"lifted": True}},
    }
    rows = plotdata.config_diff({"a": ref, "b": other}, "a")
    keys = {r["key"] for r in rows}
    assert "constraints.RU_S400_GATE.lifted" in keys and "events[at 1: usa sanction iran]" in keys
    assert not any(r["key"] == "name" for r in rows)
