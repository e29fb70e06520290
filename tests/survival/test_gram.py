"""The symmetric Gram products that replaced general BLAS products in the Cox fit
give the same matrices as the products they replaced."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from analysis.survival import cox, cox_riskset

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


def old_cross(a, b, weights=None):
    """The block-by-block general product used before :func:`cox_riskset.gram`."""
    out = np.zeros((a.shape[1], b.shape[1]))
    for i in range(0, a.shape[0], 4096):
        block = a[i:i + 4096]
        if weights is not None:
            block = block * weights[i:i + 4096, None]
        out += block.T @ b[i:i + 4096]
    return out


@st.composite
def tall_matrices(draw):
    n = draw(st.integers(0, 40))
    p = draw(st.integers(0, 6))
    x = draw(arrays(np.float64, (n, p), elements=finite))
    weights = draw(st.none() | arrays(np.float64, (n,), elements=finite))
    block = draw(st.integers(1, 8))
    return x, weights, block


@settings(max_examples=200, deadline=None)
@given(tall_matrices())
def test_gram_equals_the_general_product(case):
    x, weights, block = case
    # small blocks, so that several rank-k updates are summed
    original = cox_riskset.GRAM_BLOCK_ROWS
    cox_riskset.GRAM_BLOCK_ROWS = block
    try:
        new = cox_riskset.cross(x, x, weights)
    finally:
        cox_riskset.GRAM_BLOCK_ROWS = original
    old = old_cross(x, x, weights)
    scale = 1.0 + (np.abs(x).max() ** 2 * len(x) * (1 if weights is None else
                                                      1 + np.abs(weights).max())
                   if x.size else 0.0)
    assert new.shape == old.shape
    np.testing.assert_allclose(new, old, rtol=0, atol=1e-12 * scale)
    np.testing.assert_array_equal(new, new.T)


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(0, 30), st.integers(1, 5)), elements=finite),
       st.integers(0, 2**32 - 1))
def test_rows_dot_of_a_vector_equals_the_matrix_product(x, seed):
    beta = np.random.default_rng(seed).normal(size=x.shape[1])
    scale = 1.0 + (np.abs(x).sum(axis=1).max() * np.abs(beta).max() if x.size else 0.0)
    np.testing.assert_allclose(cox_riskset.rows_dot(x, beta), x @ beta, rtol=0,
                               atol=1e-13 * scale)


@pytest.mark.parametrize("clustered", [False, True])
def test_robust_covariance_equals_the_dfbeta_cross_product(clustered):
    rng = np.random.default_rng(7)
    n = 400
    df = pd.DataFrame({"time": rng.exponential(100, n).round() + 1,
                       "event": (rng.random(n) < 0.6).astype(int),
                       "age": rng.normal(35, 9, n), "group": rng.integers(0, 3, n),
                       "person": rng.integers(0, 150, n)})
    fit = cox.CoxModel(robust=True).fit(
        df, "time", "event", ["age", "group"], categorical=["group"],
        cluster_col="person" if clustered else None).result_
    residuals = cox_riskset.score_residuals(fit._rs, fit._sums)
    if clustered:
        groups = pd.factorize(df["person"].to_numpy()[fit._rs.kept])[0]
        residuals = np.vstack([residuals[groups == g].sum(axis=0)
                               for g in range(groups.max() + 1)])
    dfbeta = residuals @ fit.naive_cov
    np.testing.assert_allclose(fit.robust_cov, dfbeta.T @ dfbeta, rtol=1e-10, atol=1e-16)

