"""The Cox Newton iterations end at the maximum when the sums over the rows are noisy.

On a million rows the log-likelihood and the score carry rounding of about 1e-11 of
themselves: near the maximum a Newton step of a few 1e-6 can "lower" the likelihood by
rounding alone. The iterations must then stop at the best point, not halve the step
through the noise (each halving is a pass over every row).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from analysis.survival import cox_riskset


def _risk_sets(seed: int = 3, n: int = 4000) -> cox_riskset.RiskSetData:
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.random(n) < 0.3, rng.normal(size=n)]).astype(float)
    x -= x.mean(axis=0)
    hazard = np.exp(x @ np.array([-0.4, 0.25]))
    stop = np.ceil(rng.exponential(400 / hazard)).clip(1, 1000)
    event = stop < 1000
    return cox_riskset.build(x, stop, event, None, None, "efron", None)


def _noisy(monkeypatch, relative: float) -> list[int]:
    """Make every risk_sums carry rounding-like noise; return the list counting calls."""
    exact = cox_riskset.risk_sums
    rng = np.random.default_rng(11)
    calls = [0]

    def noisy(rs, beta):
        calls[0] += 1
        sums = exact(rs, beta)
        scale = relative * abs(sums.loglik)
        # the score's noise moves the Newton step by about 1e-6, this way and that
        drift = sums.info @ rng.normal(scale=1e-6, size=len(beta))
        return dataclasses.replace(sums, loglik=sums.loglik + rng.normal(scale=scale),
                                   score=sums.score + drift)

    monkeypatch.setattr(cox_riskset, "risk_sums", noisy)
    return calls


def test_noise_at_the_maximum_ends_the_fit_at_the_best_point(monkeypatch):
    rs = _risk_sets()
    exact_beta = cox_riskset.newton(rs)[0]
    calls = _noisy(monkeypatch, relative=1e-11)
    beta = cox_riskset.newton(rs)[0]
    assert np.max(np.abs(beta - exact_beta)) < 1e-4
    # a few Newton steps, not halvings through the noise (each a pass over every row):
    # without the stop at the best point, 10 passes
    assert calls[0] <= 6


def test_a_long_step_that_lowers_the_likelihood_is_still_halved():
    rs = _risk_sets()
    exact_beta = cox_riskset.newton(rs)[0]
    # a start far from the maximum on the wrong side: the first full steps are long
    beta, _, _ = cox_riskset.newton(rs, start=exact_beta + np.array([3.0, -3.0]))
    assert np.max(np.abs(beta - exact_beta)) < 1e-7


def test_a_noisy_score_with_a_flat_likelihood_ends_the_fit_too(monkeypatch):
    # the likelihood's noise is below the halving threshold: the steps are accepted, but
    # the score's noise keeps them at about 1e-6, never under the 1e-7 of a clean fit
    rs = _risk_sets(seed=5)
    exact_beta = cox_riskset.newton(rs)[0]
    calls = _noisy(monkeypatch, relative=1e-13)
    beta = cox_riskset.newton(rs)[0]
    assert np.max(np.abs(beta - exact_beta)) < 1e-4
    assert calls[0] <= 6


def test_without_noise_the_fit_reaches_the_usual_precision():
    rs = _risk_sets(seed=5)
    beta, sums, _ = cox_riskset.newton(rs)
    # at the maximum the score vanishes to rounding
    assert np.max(np.abs(np.linalg.solve(sums.info, sums.score))) < 1e-7
