"""Plot data and statistics on small synthetic ensembles with known answers."""

from __future__ import annotations

import numpy as np
import pytest
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


# ------------------------------------------------------------------ Newcombe's score intervals for differences
def _bits(k: int, n: int) -> np.ndarray:
    return np.array([1.0] * k + [0.0] * (n - k))


def _paired(both: int, first_only: int, second_only: int, neither: int) -> tuple[np.ndarray, np.ndarray]:
    """Arrays (reference, scenario) for a paired 2x2 table whose first condition is the scenario."""
    scen = np.array([1] * both + [1] * first_only + [0] * second_only + [0] * neither, float)
    ref = np.array([1] * both + [0] * first_only + [1] * second_only + [0] * neither, float)
    return ref, scen


def test_newcombe_unpaired_matches_newcombe_1998_table_ii():
    # Newcombe (1998), "Interval estimation for the difference between independent proportions:
    # comparison of eleven methods", Stat Med 17:873-890, Table II, method 10 (hybrid score)
    published = [
        ((56, 70, 48, 80), (0.0524, 0.3339)),
        ((9, 10, 3, 10), (0.1705, 0.8090)),
        ((6, 7, 2, 7), (0.0582, 0.8062)),
        ((5, 56, 0, 29), (-0.0381, 0.1926)),
        ((0, 10, 0, 20), (-0.1611, 0.2775)),
        ((10, 10, 0, 20), (0.6791, 1.0)),
    ]
    for (k1, n1, k2, n2), (lo, hi) in published:
        d, low, high = stats.newcombe_unpaired(_bits(k2, n2), _bits(k1, n1))
        assert d == pytest.approx(k1 / n1 - k2 / n2)
        assert (round(low, 4), round(high, 4)) == (lo, hi), (k1, n1, k2, n2)


def test_newcombe_paired_matches_published_examples():
    # Fagerland, Lydersen and Laake (2014), "Recommended tests and confidence intervals for paired
    # binomial proportions", Stat Med 33:2850: complete response before and after consolidation
    # therapy (Cavo et al.), 59, 6, 16, 80: Newcombe square-and-add -0.0621 (-0.1186 to -0.0046)
    d, low, high = stats.newcombe_paired(*_paired(59, 6, 16, 80))
    assert (round(d, 4), round(low, 4), round(high, 4)) == (-0.0621, -0.1186, -0.0046)
    # Newcombe (1998), "Improved confidence intervals for the difference between binomial proportions
    # based on paired data", Stat Med 17:2635, example 36, 12, 2, 0 (method 10): 0.0569 to 0.3404
    d, low, high = stats.newcombe_paired(*_paired(36, 12, 2, 0))
    assert (round(d, 4), round(low, 4), round(high, 4)) == (0.2, 0.0569, 0.3404)


def test_newcombe_paired_by_hand_with_its_correlation_term():
    # 40 pairs: 10 both, 12 scenario only, 3 reference only, 15 neither; z = 1.96
    z = stats.Z95
    p1, l1, u1 = stats.wilson(22, 40, z)  # the scenario: 22 of 40
    p2, l2, u2 = stats.wilson(13, 40, z)  # the reference: 13 of 40
    ad_bc = 10 * 15 - 12 * 3  # 114 > n/2 = 20: phi = (114 - 20) / sqrt(22 * 18 * 13 * 27)
    phi = (ad_bc - 20) / np.sqrt(22 * 18 * 13 * 27)
    low = (p1 - p2) - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2))
    high = (p1 - p2) + np.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1))
    d, lo, hi = stats.newcombe_paired(*_paired(10, 12, 3, 15))
    assert (d, lo, hi) == pytest.approx((0.225, low, high))
    # the correlation narrows it: the same margins treated as independent give a wider interval
    _, ulo, uhi = stats.newcombe_unpaired(*_paired(10, 12, 3, 15))
    assert uhi - ulo > hi - lo


def test_a_bonferroni_z_widens_the_interval_and_keeps_it_inside_100_points():
    ref, scen = _paired(0, 300, 0, 0)  # 0% -> 100%: the normal interval of the mean difference reaches +100.0
    d, lo, hi = stats.newcombe_paired(ref, scen, stats.bonferroni_z(60))
    z = stats.bonferroni_z(60)
    assert (d, hi) == (1.0, 1.0) and lo == pytest.approx(1 - np.sqrt(2) * z * z / (300 + z * z))
    assert stats.newcombe_paired(ref, scen)[1] > lo


@given(
    cells=st.tuples(st.integers(0, 60), st.integers(0, 60), st.integers(0, 60), st.integers(0, 60)).filter(
        lambda c: sum(c) > 0
    ),
    tests=st.integers(1, 100),
)
def test_newcombe_paired_stays_in_range_contains_its_estimate_and_flips_with_the_order(cells, tests):
    z = stats.bonferroni_z(tests)
    ref, scen = _paired(*cells)
    d, lo, hi = stats.newcombe_paired(ref, scen, z)
    assert -1.0 <= lo <= d + 1e-12 and d - 1e-12 <= hi <= 1.0
    nd, nlo, nhi = stats.newcombe_paired(scen, ref, z)  # swapping the two conditions mirrors the interval
    assert (nd, nlo, nhi) == pytest.approx((-d, -hi, -lo), abs=1e-12)
    ud, ulo, uhi = stats.newcombe_unpaired(ref, scen, z)
    assert -1.0 <= ulo <= ud + 1e-12 and ud - 1e-12 <= uhi <= 1.0
