"""The Cox fit holds one copy of its design: the design filled block by block and the
risk sets compacting it in place give exactly what the whole-array steps gave."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.survival import cox, cox_riskset
from analysis.survival.cox import CoxModel


def _plain_encode(design: cox.Design, df: pd.DataFrame) -> np.ndarray:
    """The design as one column per level, stacked (the code before the blocks)."""
    parts = []
    for name in design.covariates:
        if name in design.levels:
            labels = df[name].astype(str)
            parts += [(labels == level).to_numpy(dtype=float)
                      for level in design.levels[name][1]]
        else:
            parts.append(df[name].to_numpy(dtype=float))
    return np.column_stack(parts)


@st.composite
def frames(draw):
    n = draw(st.integers(3, 120))
    rng = np.random.default_rng(draw(st.integers(0, 10_000)))
    return pd.DataFrame({
        "age": rng.integers(18, 70, n).astype(float),
        "facility": rng.choice(["North", "South", "East"], n),
        "year": rng.choice([2019, 2020, 2021], n),
        "score": rng.normal(size=n),
    }), draw(st.integers(1, 9))


@settings(max_examples=100, deadline=None)
@given(frames())
def test_the_design_filled_in_blocks_is_the_stacked_columns(case):
    df, block_rows = case
    levels = {"facility": ("North", ("East", "South")), "year": ("2019", ("2020", "2021"))}
    design = cox.Design(("age", "facility", "year", "score"), levels, (), {}, np.zeros(0))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cox, "ENCODE_BLOCK_ROWS", block_rows)
        encoded = design.encode(df)
    np.testing.assert_array_equal(encoded, _plain_encode(design, df))
    assert encoded.flags.c_contiguous


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 7))
def test_risk_sets_that_take_the_design_over_are_those_of_a_copy(seed, block_rows):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 200))
    x = rng.normal(size=(n, 3))
    entry = rng.integers(0, 50, n).astype(float)
    stop = entry + rng.integers(1, 50, n)
    event = rng.random(n) < 0.3
    event[0] = True
    late = rng.random(n) < 0.3  # entering after the last event: at risk at no event time
    late[0] = False
    late[-1] = n > 1
    entry[late], stop[late], event[late] = 1_000.0, 1_001.0, False
    copied = cox_riskset.build(x, stop, event, entry)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cox_riskset, "GRAM_BLOCK_ROWS", block_rows)
        reused = cox_riskset.build(x.copy(), stop, event, entry, overwrite_x=True)
    assert not copied.kept[late].any()
    np.testing.assert_array_equal(reused.x, copied.x)
    np.testing.assert_array_equal(reused.kept, copied.kept)
    beta = rng.normal(size=3) * 0.1
    assert cox_riskset.risk_sums(reused, beta).loglik == cox_riskset.risk_sums(copied, beta).loglik


def test_a_fit_leaves_the_callers_frame_alone():
    rng = np.random.default_rng(5)
    n = 500
    df = pd.DataFrame({"time": rng.integers(1, 400, n), "event": rng.random(n) < 0.4,
                       "entry": 0, "age": rng.normal(40, 10, n),
                       "facility": rng.choice(["A", "B"], n)})
    df.loc[df.index[:40], "entry"] = 390  # at risk at no event time: dropped rows
    df["time"] = np.maximum(df["time"], df["entry"] + 1)
    before = df.copy()
    CoxModel(solver="newton", robust=False).fit(df, "time", "event", ["age", "facility"],
                                                entry_col="entry")
    pd.testing.assert_frame_equal(df, before)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 9), st.booleans(), st.booleans(),
       st.booleans())
def test_the_clustered_meat_is_the_gram_of_summed_residuals(seed, block_rows, weighted,
                                                            singletons, in_blocks):
    """Residuals summed cluster by cluster in blocks (clusters bigger than a block
    included), or per cluster column by column, give the matrix of the per-row residuals
    summed by a product."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 150))
    x = rng.normal(size=(n, 3))
    stop = rng.integers(1, 40, n).astype(float)
    event = rng.random(n) < 0.5
    event[0] = True
    weights = rng.uniform(0.2, 3, n) if weighted else None
    rs = cox_riskset.build(x, stop, event, weights=weights)
    sums = cox_riskset.risk_sums(rs, rng.normal(size=3) * 0.2)
    kept = int(rs.kept.sum())
    groups = np.arange(kept) if singletons else rng.integers(0, max(1, kept // 3), kept)
    residuals = cox_riskset.score_residuals(rs, sums)
    if weighted:
        residuals = residuals * rs.weights[:, None]
    summed = np.zeros((groups.max() + 1, 3))
    np.add.at(summed, groups, residuals)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cox_riskset, "GRAM_BLOCK_ROWS", block_rows)
        patch.setattr(cox_riskset, "CLUSTER_SUMS_BYTES", 0 if in_blocks else 2**30)
        meat = cox_riskset.clustered_residual_gram(rs, sums, None if singletons else groups)
    np.testing.assert_allclose(meat, summed.T @ summed, rtol=1e-10, atol=1e-12)


def test_risk_sets_hold_narrow_positions_and_signs():
    """Positions are 32-bit and signs bytes (at ten million rows 64-bit positions and
    float signs held about a gigabyte more), and sums are those of float signs."""
    rng = np.random.default_rng(5)
    n = 400
    x = rng.normal(size=(n, 2))
    stop = rng.integers(1, 60, n).astype(float)
    event = rng.random(n) < 0.4
    rs = cox_riskset.build(x, stop, event)
    assert rs.lo.dtype == rs.hi.dtype == rs.row_time.dtype == np.int32
    assert rs.changes.indices.dtype == rs.changes.indptr.dtype == np.int32
    assert rs.change_row.dtype == np.int32 and rs.change_sign.dtype == np.int8
    r = rng.uniform(0.5, 2, len(rs.lo))
    s0, s1, dr, d1r = rs.per_time(r)
    # the same sums the plain way: at risk when lo <= t < hi, dying at row_time
    at_risk = (np.arange(rs.n_times)[:, None] >= rs.lo) & (np.arange(rs.n_times)[:, None] < rs.hi)
    np.testing.assert_allclose(s0, at_risk @ r)
    np.testing.assert_allclose(s1, at_risk @ (r[:, None] * rs.x))
    dying = np.zeros((rs.n_times, len(rs.lo)))
    dead = np.flatnonzero(rs.event)
    dying[rs.row_time[dead], dead] = 1.0
    np.testing.assert_allclose(dr, dying @ r)
    np.testing.assert_allclose(d1r, dying @ (r[:, None] * rs.x))


def test_one_stratum_named_or_not_gives_the_same_risk_sets():
    """The one-stratum path (every row as a view) gives what a stratum code per row gave."""
    rng = np.random.default_rng(6)
    n = 300
    x = rng.normal(size=(n, 2))
    stop = rng.integers(1, 40, n).astype(float)
    entry = np.maximum(stop - rng.integers(1, 30, n), 0)
    event = rng.random(n) < 0.5
    plain = cox_riskset.build(x, stop, event, entry)
    named = cox_riskset.build(x, stop, event, entry, strata=np.full(n, 0))
    for field in ("lo", "hi", "row_time", "times", "deaths", "kept"):
        np.testing.assert_array_equal(getattr(plain, field), getattr(named, field))
    two = cox_riskset.build(x, stop, event, entry, strata=np.arange(n) % 2)
    assert two.n_times >= plain.n_times  # each stratum its own times
