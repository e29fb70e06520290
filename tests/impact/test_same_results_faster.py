"""The fast building blocks of the impact evaluation give exactly what the plain code gives.

Each ``_plain_*`` function below is the straightforward implementation the fast one
replaced (one SVD over every row per trial column, string comparisons per level, a
numpy loop for matching...). The fast code must reproduce it exactly: the same design
columns and values, the same decision on which columns are independent, the same pairs.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.impact import propensity
from analysis.impact.balance import balance_table
from analysis.impact.cohort import (
    CATEGORICAL_COVARIATES,
    _as_levels,
    build_cohort,
    resolve_programmes,
)
from analysis.impact.matching import NOISE, match_nearest
from analysis.impact.propensity import MISSING_LEVEL, design_matrix, independent_columns


def _plain_design_matrix(frame, covariates, categorical=()):
    parts = []
    for name in covariates:
        column = frame[name]
        is_text = not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)
        if name in categorical or is_text:
            levels = column.astype("object").where(column.notna(), MISSING_LEVEL).astype(str)
            seen = list(levels.unique())  # in order of appearance
            counts = [int((levels == level).sum()) for level in seen]
            reference = seen[counts.index(max(counts))]  # the first of the most frequent
            others = sorted(level for level in seen if level != reference)
            parts.append(pd.DataFrame(
                {f"{name}[{level}]": (levels == level).astype(float) for level in others},
                index=frame.index))
        else:
            values = column.astype(float)
            missing = values.isna()
            part = {name: values.fillna(values.mean() if missing.sum() < len(values) else 0.0)}
            if missing.any():
                part[f"{name}[missing]"] = missing.astype(float)
            parts.append(pd.DataFrame(part, index=frame.index))
    matrix = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=frame.index)
    return matrix.drop(columns=matrix.columns[matrix.nunique() <= 1])


def _plain_independent_columns(matrix):
    kept, basis, rank = [], np.ones((len(matrix), 1)), 1
    for name in matrix.columns:
        trial = np.column_stack([basis, matrix[name].to_numpy(dtype=float)])
        new_rank = np.linalg.matrix_rank(trial)
        if new_rank > rank:
            kept.append(name)
            basis, rank = trial, new_rank
    return kept


def _plain_match(score, treated, caliper_sd, seed):
    """Greedy matching with numpy scalars and a union-find per direction."""

    def find(parent, i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    caliper = caliper_sd * float(np.std(score, ddof=1))
    controls = np.flatnonzero(~treated)
    sorted_controls = controls[np.argsort(score[controls], kind="stable")]
    sorted_scores = score[sorted_controls]
    n = len(sorted_controls)
    right, left = np.arange(n + 1), np.arange(n + 1)
    pairs = []
    for t in np.random.default_rng(seed).permutation(np.flatnonzero(treated)):
        position = int(np.searchsorted(sorted_scores, score[t]))
        best, best_distance = -1, np.inf
        r = find(right, min(position, n))
        if r < n:
            best, best_distance = r, sorted_scores[r] - score[t]
        lft = find(left, min(position, n)) - 1
        if lft >= 0:
            distance = score[t] - sorted_scores[lft]
            if distance < best_distance - NOISE or (
                    distance <= best_distance + NOISE
                    and sorted_controls[lft] < sorted_controls[best]):
                best, best_distance = lft, distance
        if best < 0 or best_distance > caliper + NOISE:
            continue
        pairs.append((int(t), int(sorted_controls[best])))
        right[best] = best + 1
        left[best + 1] = best
    return pairs


#: Levels with ties in their counts, and more than 16 of them (numpy's sorts change
#: algorithm there), so that the choice of the reference level is exercised.
_LEVELS = [f"L{i:02d}" for i in range(20)]


@st.composite
def _frames(draw):
    n = draw(st.integers(2, 60))
    rows = st.lists
    frame = pd.DataFrame({
        "age": draw(rows(st.one_of(st.none(), st.floats(18, 70)), min_size=n, max_size=n)),
        "priors": draw(rows(st.integers(0, 3), min_size=n, max_size=n)),
        "text": pd.array(draw(rows(st.one_of(st.none(), st.sampled_from(_LEVELS)),
                                   min_size=n, max_size=n)), dtype=str),
        "objects": pd.Series(draw(rows(st.sampled_from(["a", "b", None]), min_size=n,
                                       max_size=n)), dtype=object),
        "year": draw(rows(st.integers(2018, 2021), min_size=n, max_size=n)),
        "flag": draw(rows(st.booleans(), min_size=n, max_size=n)),
        "constant": 1.0,
    })
    return frame.set_index(pd.Index(np.arange(n) * 3 + 7))


@settings(max_examples=150, derandomize=True, deadline=None)
@given(_frames())
def test_design_matrix_is_the_plain_one(frame):
    for covariates in (list(frame.columns), ["constant"], []):
        for categorical in ((), ("year",), ("year", "priors")):
            fast = design_matrix(frame, covariates, list(categorical))
            plain = _plain_design_matrix(frame, covariates, categorical)
            pd.testing.assert_frame_equal(fast, plain, check_exact=True)


def test_the_reference_level_is_the_most_frequent_then_the_first_seen():
    frame = pd.DataFrame({"f": pd.array(["b", "c", "a", "c", "b"], dtype=str)})
    # b and c tie: b came first, so b is the reference.
    assert design_matrix(frame, ["f"]).columns.tolist() == ["f[a]", "f[c]"]
    pd.testing.assert_frame_equal(design_matrix(frame, ["f"]),
                                  _plain_design_matrix(frame, ["f"]), check_exact=True)


def _dependent_designs():
    """Designs with exact and near linear dependencies of the kinds seen in practice."""
    rng = np.random.default_rng(5)
    n = 500
    women = (rng.random(n) < 0.2).astype(float)
    facility = rng.integers(0, 4, n)
    yield pd.DataFrame({  # a women's prison equals sex[F]; indicators summing to one
        "age": rng.uniform(18, 70, n), "sex[F]": women, "facility[W]": women,
        **{f"facility[{k}]": (facility == k).astype(float) for k in (1, 2, 3)},
        "facility[0]": (facility == 0).astype(float),
    })
    big, small = rng.normal(size=n) * 1e6, rng.normal(size=n) * 1e-3
    yield pd.DataFrame({"big": big, "small": small, "sum": big + small, "scaled": small * 7})
    for exponent in range(-16, -5):  # nearly dependent, from hopeless to clear
        x1, x2 = rng.normal(size=n), rng.normal(size=n) * 30
        near = 2 * x1 - x2 + 10.0**exponent * np.linalg.norm(x2) * rng.normal(size=n)
        yield pd.DataFrame({"x1": x1, "x2": x2, "near": near, "intercept_like": near * 0 + 3})
    yield pd.DataFrame(rng.normal(size=(8, 12)), columns=[f"c{i}" for i in range(12)])  # wide


@pytest.mark.parametrize("design", list(_dependent_designs()))
def test_independent_columns_decide_as_one_svd_per_trial(design):
    assert independent_columns(design) == _plain_independent_columns(design)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.integers(0, 10_000))
def test_independent_columns_decide_as_one_svd_per_trial_near_the_threshold(seed):
    """Near-dependencies from 1e-17 to 1e-8 of a column's size, around the rank cut-off."""
    design = _nearly_dependent_design(np.random.default_rng(seed))
    assert independent_columns(design) == _plain_independent_columns(design)


def _nearly_dependent_design(rng: np.random.Generator) -> pd.DataFrame:
    """Columns with a combination of them plus noise of 1e-17 to 1e-8 of its size, and a
    column twice the first."""
    n, k = int(rng.integers(20, 300)), int(rng.integers(1, 5))
    x = rng.normal(size=(n, k)) * 10.0 ** rng.integers(-4, 5, size=k)
    combined = x @ rng.normal(size=k) + rng.normal()
    noise = 10.0 ** rng.uniform(-17, -8) * np.linalg.norm(combined) / np.sqrt(n)
    return pd.DataFrame({**{f"x{j}": x[:, j] for j in range(k)},
                         "near": combined + noise * rng.normal(size=n), "twice": 2 * x[:, 0]})


@settings(max_examples=100, derandomize=True, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 40))
def test_independent_columns_decide_the_same_in_row_blocks(seed, block_rows):
    """The factor built block by block (a national cohort's rows are many blocks) decides
    as the plain rank of every trial, near-dependencies included."""
    rng = np.random.default_rng(seed)
    design = _nearly_dependent_design(rng)
    design["level"] = (rng.random(len(design)) < 0.3).astype(float)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(propensity, "QR_BLOCK_ROWS", block_rows)
        assert independent_columns(design) == _plain_independent_columns(design)


def test_the_blocked_factor_has_the_singular_values_of_the_matrix():
    rng = np.random.default_rng(3)
    values = rng.normal(size=(1_000, 6)) * [1, 10, 1e-3, 1, 1e4, 5]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(propensity, "QR_BLOCK_ROWS", 64)
        triangle = propensity._triangular_factor(values)
    whole = np.column_stack([np.ones(len(values)), values])
    assert triangle.shape == (7, 7)
    np.testing.assert_allclose(np.linalg.svd(triangle, compute_uv=False),
                               np.linalg.svd(whole, compute_uv=False), rtol=1e-12)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.integers(0, 10_000), st.floats(-9, 1))
def test_the_gram_shortcut_decides_as_the_plain_rank(seed, log_gap):
    """Designs from nearly dependent (a gap of 1e-9) to clearly independent, across the
    shortcut's threshold: kept columns are those of one SVD per trial either way."""
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(20, 2_000)), int(rng.integers(1, 6))
    x = rng.normal(size=(n, k)) * 10.0 ** rng.integers(-3, 4, size=k) + rng.normal(size=k)
    near = x @ rng.normal(size=k) + 10.0**log_gap * np.linalg.norm(x) / np.sqrt(n) \
        * rng.normal(size=n)
    design = pd.DataFrame({**{f"x{j}": x[:, j] for j in range(k)}, "near": near,
                           "level": (rng.random(n) < 0.2).astype(float)})
    assert independent_columns(design) == _plain_independent_columns(design)


def test_a_clearly_independent_design_needs_no_qr(demo_con):
    cohort = build_cohort(demo_con, resolve_programmes(demo_con, program="VOC-METAL"))
    categorical = [c for c in cohort.covariates if c in CATEGORICAL_COVARIATES]
    design = design_matrix(cohort.frame, list(cohort.covariates), categorical)
    assert _plain_independent_columns(design) == list(design.columns)  # full rank
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(propensity, "_triangular_factor", _no_qr)
        assert independent_columns(design) == list(design.columns)
        redundant = design.assign(again=design.iloc[:, 0] * 2 + design.iloc[:, 1])
        with pytest.raises(AssertionError, match="QR"):
            independent_columns(redundant)  # a dependency always goes to the QR


def _no_qr(values):
    raise AssertionError("QR factor computed")


def test_independent_columns_of_a_real_cohort_design(demo_con):
    cohort = build_cohort(demo_con, resolve_programmes(demo_con, program="VOC-METAL"))
    categorical = [c for c in cohort.covariates if c in CATEGORICAL_COVARIATES]
    design = design_matrix(cohort.frame, list(cohort.covariates), categorical)
    assert design.shape[1] > 5
    assert independent_columns(design) == _plain_independent_columns(design)
    redundant = design.assign(again=design.iloc[:, 0] * 2 + design.iloc[:, 1])
    assert independent_columns(redundant) == _plain_independent_columns(redundant)
    assert "again" not in independent_columns(redundant)


@settings(max_examples=100, derandomize=True, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([0.0, 0.05, 0.2, 5.0]))
def test_matching_pairs_are_the_plain_loops(seed, caliper_sd):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 300))
    score = np.round(rng.normal(size=n), int(rng.integers(0, 4)))  # ties included
    treated = rng.random(n) < rng.uniform(0.05, 0.95)
    if treated.all() or not treated.any():
        treated[0], treated[-1] = True, False
    matches = match_nearest(score, treated, caliper_sd=caliper_sd, seed=seed)
    got = list(zip(matches.treated.tolist(), matches.control.tolist(), strict=True))
    assert got == _plain_match(score, treated, caliper_sd, seed)
    assert matches.control.dtype == matches.treated.dtype == np.int64


def test_balance_table_is_the_plain_formula():
    rng = np.random.default_rng(2)
    design = pd.DataFrame(rng.normal(size=(1001, 3)) * [1, 1e6, 1e-6], columns=["a", "b", "c"])
    treated = rng.random(1001) < 0.3
    weights = rng.random(1001)
    table = balance_table(design, treated, weights).set_index("covariate")
    for name in design.columns:
        x = design[name].to_numpy()
        pooled = np.sqrt((x[treated].var(ddof=1) + x[~treated].var(ddof=1)) / 2)
        after = (weights[treated] * x[treated]).sum() / weights[treated].sum() - (
            weights[~treated] * x[~treated]).sum() / weights[~treated].sum()
        assert table.loc[name, "smd_before"] == (x[treated].mean() - x[~treated].mean()) / pooled
        assert table.loc[name, "smd_after"] == after / pooled


@pytest.mark.parametrize("column", [
    pd.Series(np.array([2021, 2019, 2021, 2020])),
    pd.Series(np.array([3, -1, 0], dtype=np.int32), index=[5, 7, 9], name="x"),
    pd.Series([2019, 2020], dtype="Int64"),
    pd.Series([2019, None], dtype="Int64"),
    pd.Series([2019.0, np.nan]),
    pd.Series(["a", None, "b"], dtype=str),
    pd.Series(["a", "b"], dtype=str),
    pd.Series(["a", None], dtype=object),
    pd.Series(np.array([], dtype=np.int64)),
    pd.Series(pd.Categorical(["b", None, "a", "b"], categories=["a", "b", "c"])),
    pd.Series(pd.Categorical(["unknown", None])),
])
def test_categorical_covariates_have_the_levels_of_their_text_as_before(column):
    """The levels are the text the covariates became before (missing: "unknown"), now
    held as a pandas Categorical."""
    plain = column.astype("object").where(column.notna(), "unknown").astype(str)
    levels = _as_levels(column)
    assert isinstance(levels.dtype, pd.CategoricalDtype)
    pd.testing.assert_series_equal(levels.astype(str), plain, check_exact=True)


def _treatment_frame(seed: int, rare: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 4_000
    frame = pd.DataFrame({
        "age": rng.uniform(18, 70, n),
        "priors": rng.poisson(2, n),
        "facility": rng.choice(["A", "B", "C", "rare"], n, p=[0.5, 0.3, 0.2 - rare, rare]),
    })
    linear = -1 + 0.03 * (frame["age"] - 40) + 0.2 * frame["priors"] - 0.5 * (
        frame["facility"] == "B")
    frame["treated"] = rng.random(n) < 1 / (1 + np.exp(-linear))
    return frame


# the subsample's fit may warn that it did not converge: that is the case tested
@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.ConvergenceWarning")
@pytest.mark.parametrize(("seed", "rare", "warm_started"),
                         [(3, 0.05, True), (11, 0.05, True), (3, 0.005, False)])
def test_a_warm_started_propensity_fit_reaches_the_same_maximum(monkeypatch, seed, rare,
                                                                warm_started):
    # 4,000 rows > 4 x 500: the fit starts from a 500-row subsample's estimate, unless
    # the subsample separates a rare facility (then from zero, as before)
    from analysis.impact import propensity

    frame = _treatment_frame(seed, rare)
    covariates = ["age", "priors", "facility"]
    cold = propensity.PropensityScore(covariates).fit(frame, "treated")
    monkeypatch.setattr(propensity, "WARM_START_ROWS", 500)
    exog = np.column_stack([np.ones(len(frame)), cold.design_.to_numpy(float)])
    start = propensity._warm_start(frame["treated"].to_numpy(float), exog)
    assert (start is not None) == warm_started
    warm = propensity.PropensityScore(covariates).fit(frame, "treated")
    np.testing.assert_allclose(warm.scores_, cold.scores_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(warm.coefficients_["se"], cold.coefficients_["se"], rtol=1e-6)


def test_a_subsample_missing_a_level_starts_from_zero(monkeypatch):
    from analysis.impact import propensity

    monkeypatch.setattr(propensity, "WARM_START_ROWS", 10)
    outcome = np.r_[np.zeros(60), np.ones(60)]
    exog = np.column_stack([np.ones(120), np.r_[np.zeros(119), 1.0]])  # one row has the level
    assert propensity._warm_start(outcome, exog) is None


@settings(max_examples=60, derandomize=True, deadline=None)
@given(st.integers(0, 10_000))
def test_the_symmetric_logit_fits_as_statsmodels_logit(seed):
    """Same Hessian at any coefficients, so the same Newton path, estimates and SEs."""
    import statsmodels.api as sm

    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(50, 3_000)), int(rng.integers(1, 6))
    x = rng.normal(size=(n, k)) * 10.0 ** rng.integers(-1, 2, size=k)
    exog = np.column_stack([np.ones(n), x, rng.random(n) < 0.3])
    beta = rng.normal(size=exog.shape[1]) / np.maximum(1, np.abs(exog).max(axis=0))
    outcome = (rng.random(n) < 1 / (1 + np.exp(-exog @ beta))).astype(float)
    if outcome.min() == outcome.max():
        outcome[0] = 1 - outcome[0]
    ours = propensity.SymmetricLogit(outcome, exog, check_rank=False)
    plain = sm.Logit(outcome, exog, check_rank=False)
    at = rng.normal(size=exog.shape[1]) * 0.1
    np.testing.assert_allclose(ours.hessian(at), plain.hessian(at), rtol=1e-10, atol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted, reference = ours.fit(disp=0, maxiter=50), plain.fit(disp=0, maxiter=50)
    np.testing.assert_allclose(fitted.params, reference.params, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(fitted.bse, reference.bse, rtol=1e-8)
