"""The engine's fast paths give the same floats as the plain forms they replaced (engine-core issue, section 2).

Each speed-up of the decision core and its effects claims bit-identity with a simpler, slower form;
these tests hold it to that claim on adversarial inputs (ties, -inf, repeated bins, -0.0), so a
faster path that drifts by one ulp or picks another option on a tie fails here and not in a
forecast.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from model.engine import core
from model.engine.model import EntenteModel, _distinct, _scatter_add
from model.scenario import load_scenario, scenarios_dir


def _padded_argmax(scores: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The old form: every unit's block padded with -inf to the largest unit, one argmax."""
    n, U, K = len(scores), len(sizes), int(sizes.max())
    offset = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    P = np.full((n, U * K), -np.inf)
    pad = np.concatenate([u * K + np.arange(k) for u, k in enumerate(sizes)])
    P[:, pad] = scores
    assert pad[offset[-1]] == (U - 1) * K
    return np.argmax(P.reshape(n, U, K), axis=2)


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 6), min_size=1, max_size=9),
    n=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_best_option_by_blocks_of_equal_size_is_the_padded_argmax(sizes, n, seed):
    sizes = np.array(sizes, dtype=np.int64)
    offset = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    rng = np.random.default_rng(seed)
    # few distinct values: ties are common; -inf marks infeasible options, sometimes a whole unit
    scores = rng.choice([-np.inf, 0.0, 1.0, 2.0], size=(n, int(sizes.sum())))

    class _T:
        U = len(sizes)
        blocks = core._blocks(offset, sizes)

    got = core.Decider._argmax(type("D", (), {"t": _T})(), scores, n)
    np.testing.assert_array_equal(got, _padded_argmax(scores, sizes))


@settings(max_examples=60, deadline=None)
@given(
    bins=st.lists(st.integers(0, 40), min_size=0, max_size=60),
    seed=st.integers(0, 2**32 - 1),
)
def test_a_sparse_scatter_add_is_bit_for_bit_a_dense_bincount_add(bins, seed):
    rng = np.random.default_rng(seed)
    bins = np.array(bins, dtype=np.int64)
    weights = rng.normal(size=len(bins)) * 10.0 ** rng.integers(-8, 8, size=len(bins))
    weights[::7] = -0.0  # -0.0 weights: bincount and the sparse sum both start a bin at +0.0
    start = rng.normal(size=41)
    start[::5] = 0.0  # +0.0 only: the arrays the engine adds into are bincount sums or zeros, never -0.0
    dense = start + np.bincount(bins, weights=weights, minlength=41)
    sparse = start.copy()
    _scatter_add(sparse, bins, weights)
    assert dense.tobytes() == sparse.tobytes()


def test_distinct_is_the_sorted_set():
    keys = np.array([5, 3, 5, 0, 9, 3, 3], dtype=np.int64)
    np.testing.assert_array_equal(_distinct(keys), [0, 3, 5, 9])
    assert len(_distinct(np.zeros(0, dtype=np.int64))) == 0


def test_only_options_with_effects_are_flagged_for_the_gathers():
    """The flags that let the effects skip options must cover every option that has such an effect."""
    m = EntenteModel(load_scenario(scenarios_dir() / "baseline.yaml").config, 2)
    t = m.opt
    np.testing.assert_array_equal(t.reacts, np.abs(t.reactions).sum(axis=1) > 0)
    np.testing.assert_array_equal(t.moves_own_stance, np.abs(t.stance_self).sum(axis=1) > 0)
    np.testing.assert_array_equal(t.moves_target_stance, np.abs(t.stance_target).sum(axis=1) > 0)
    assert t.reacts.any() and t.moves_own_stance.any() and t.moves_target_stance.any()
    charged = m.decider.charged_cols()
    for ct in t.constraints:
        if ct.kind == "cost":
            assert np.isin(ct.cols, charged).all()
