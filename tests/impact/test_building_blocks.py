"""Propensity score, matching, balance and the planning aid."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from analysis.errors import AnalysisError
from analysis.impact.balance import att_weights, balance_table
from analysis.impact.matching import match_nearest
from analysis.impact.power import minimum_detectable_effect, required_participants
from analysis.impact.propensity import PropensityScore, design_matrix


def _confounded(n=4000, seed=3):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "age": rng.uniform(18, 65, n),
            "priors": rng.poisson(2, n).astype(float),
            "offense": rng.choice(["drug", "property", "violent"], n, p=[0.3, 0.5, 0.2]),
        }
    )
    linear = (
        -0.5 - 0.05 * (df["age"] - 35) - 0.3 * (df["priors"] - 2) + 0.8 * (df["offense"] == "drug")
    )
    df["treated"] = rng.random(n) < 1 / (1 + np.exp(-linear))
    return df, linear


def test_propensity_recovers_the_true_logistic_model():
    df, _ = _confounded(n=20000)
    ps = PropensityScore(["age", "priors", "offense"]).fit(df, "treated")
    coefs = dict(zip(ps.coefficients_["term"], ps.coefficients_["coef"], strict=True))
    assert coefs["age"] == pytest.approx(-0.05, abs=0.01)
    assert coefs["priors"] == pytest.approx(-0.3, abs=0.05)
    assert coefs["offense[drug]"] == pytest.approx(0.8, abs=0.12)
    assert (ps.scores_ > 0).all() and (ps.scores_ < 1).all()
    assert ps.overlap()["participants"].sum() == df["treated"].sum()


def test_propensity_drops_redundant_columns_and_refuses_one_group():
    df, _ = _confounded(n=300)
    df["age_again"] = df["age"] * 2
    ps = PropensityScore(["age", "age_again", "priors"]).fit(df, "treated")
    assert ps.dropped_columns_ == ["age_again"]
    plain = PropensityScore(["age", "priors"]).fit(df, "treated")
    assert np.allclose(ps.scores_, plain.scores_)
    df["treated"] = True
    with pytest.raises(AnalysisError, match="both participants"):
        PropensityScore(["age"]).fit(df, "treated")
    with pytest.raises(AnalysisError, match="unknown covariate"):
        design_matrix(df, ["height"])


def _naive_greedy(score, treated, caliper, order):
    used, pairs = set(), []
    controls = np.flatnonzero(~treated)
    for t in order:
        free = [c for c in controls if c not in used]
        if not free:
            continue
        distances = np.abs(score[free] - score[t])
        best = int(np.argmin(distances))
        if distances[best] <= caliper:
            used.add(free[best])
            pairs.append((int(t), int(free[best])))
    return pairs


@settings(max_examples=60, derandomize=True, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-300, 300), st.booleans()),
        min_size=2,
        max_size=40,
        unique_by=lambda x: x[0],
    )
)
def test_fast_matching_equals_brute_force_greedy(points):
    score = np.array([p[0] / 100 for p in points])
    treated = np.array([p[1] for p in points])
    matches = match_nearest(score, treated, caliper_sd=0.2, seed=7)
    order = np.random.default_rng(7).permutation(np.flatnonzero(treated))
    expected = _naive_greedy(score, treated, matches.caliper, order)
    got = list(zip(matches.treated.tolist(), matches.control.tolist(), strict=True))
    # Distances tie-break may differ; the matched distances must be identical.
    assert [abs(score[t] - score[c]) for t, c in got] == pytest.approx(
        [abs(score[t] - score[c]) for t, c in expected]
    )
    assert len(set(matches.control.tolist())) == len(matches)
    assert matches.unmatched_treated == treated.sum() - len(matches)


def test_matching_balances_confounded_groups():
    df, _ = _confounded()
    ps = PropensityScore(["age", "priors", "offense"]).fit(df, "treated")
    matches = match_nearest(ps.logit_, ps.treated_)
    weights = np.zeros(len(df))
    weights[matches.treated] = 1
    weights[matches.control] = 1
    design = design_matrix(df, ["age", "priors", "offense"])
    table = balance_table(design, ps.treated_, weights)
    assert table["smd_before"].abs().max() > 0.3
    assert table["smd_after"].abs().max() < 0.1
    assert not table["imbalanced_after"].any()
    iptw = balance_table(design, ps.treated_, att_weights(ps.scores_, ps.treated_))
    assert iptw["smd_after"].abs().max() < 0.1


def test_minimum_detectable_effect_matches_the_normal_formula():
    n, p0 = 400, 0.45
    mde = minimum_detectable_effect(n, p0, alpha=0.05, power=0.8)
    h = (norm.ppf(0.975) + norm.ppf(0.8)) * np.sqrt(2 / n)
    p1 = np.sin(np.arcsin(np.sqrt(p0)) - h / 2) ** 2
    assert mde.detectable_rate == pytest.approx(p1, rel=1e-6)
    assert "400 participants" in mde.sentence()
    # More participants detect smaller effects.
    assert minimum_detectable_effect(4 * n, p0).per_100 < mde.per_100


def test_required_participants_inverts_the_detectable_effect():
    n = required_participants(0.40, 0.32)
    assert minimum_detectable_effect(n, 0.40).detectable_rate >= 0.32 - 1e-9
    assert minimum_detectable_effect(n - 5, 0.40).detectable_rate < 0.32
    with pytest.raises(AnalysisError):
        required_participants(0.40, 0.40)
    with pytest.raises(AnalysisError):
        minimum_detectable_effect(100, 1.2)


@pytest.mark.parametrize("left_noise, right_noise", [(0, 0), (0, -1e-15), (1e-15, 0),
                                                     (-1e-15, 1e-15)])
def test_equally_close_comparisons_go_to_the_first_in_data_order(left_noise, right_noise):
    """Two comparison people as close on either side: the first in data order is taken,
    whatever the scores' last bits (which differ between processors)."""
    treated = np.array([False, True, False, False])
    for first, second in ((0, 2), (2, 0)):
        score = np.array([np.nan, 0.5, np.nan, 40.0])
        score[first] = 0.5 - (0.25 + left_noise)   # below the participant
        score[second] = 0.5 + (0.25 + right_noise)  # above it
        matches = match_nearest(score, treated, caliper_sd=100.0)
        assert matches.control.tolist() == [0]

