"""What the Impact page's steps keep in memory: one copy of the propensity design, and
matching without a Python object per comparison person (at 10 million releases each was
gigabytes). Allocations are counted with tracemalloc, which sees numpy's buffers: the
counts are exact, not timings."""

import tracemalloc

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.impact.matching import match_nearest
from analysis.impact.propensity import PropensityScore


def _cohort(n: int, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(6)})
    frame["treated"] = rng.random(n) < 1 / (1 + np.exp(1.5 - frame["x0"]))
    return frame


def test_the_fitted_score_keeps_one_copy_of_its_design():
    frame = _cohort(60_000)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        score = PropensityScore([f"x{i}" for i in range(6)]).fit(frame, "treated")
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    design = score.full_design_.to_numpy().nbytes
    per_row = 4 * 8 * len(frame)  # logit, scores, treated and small change
    # statsmodels' results held the model, and the model the design with its constant:
    # two copies
    assert kept < design + per_row, (kept, design)


def test_fitting_the_score_holds_its_design_once_at_a_time():
    # Each column is written straight into the one block the model reads, constant
    # included: building the columns, stacking them, then adding the constant held the
    # design two to three times at once (2.5 times here; gigabytes at 10M releases).
    frame = _cohort(300_000)
    rng = np.random.default_rng(3)
    frame["region"] = rng.choice([f"r{i}" for i in range(8)], len(frame))
    frame["year"] = rng.integers(2015, 2023, len(frame))
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        score = PropensityScore([*(f"x{i}" for i in range(6)), "region", "year"],
                                ["year"]).fit(frame, "treated")
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    design = score.full_design_.to_numpy().nbytes
    assert score.full_design_.shape[1] == 6 + 7 + 7
    # the block (design and constant), the Hessian's row blocks and a few per-row arrays
    assert peak < 2.1 * design, peak / design


def test_matching_adds_no_python_object_per_comparison_person():
    rng = np.random.default_rng(7)
    n = 400_000
    score, treated = rng.normal(size=n), rng.random(n) < 0.02
    tracemalloc.start()
    try:
        match_nearest(score, treated)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # a few arrays of 8 bytes per person; Python lists of ints and floats took 36 bytes
    # per entry, four of them
    assert peak < 8 * 8 * n, peak


def _list_matching(score, treated, caliper_sd=0.2, seed=20240601):
    """The matching loop on Python lists, as before the memoryviews (the reference)."""
    from analysis.impact.matching import NOISE, _participant_order

    caliper = caliper_sd * float(np.std(score, ddof=1))
    controls = np.flatnonzero(~treated)
    sorted_controls = controls[np.argsort(score[controls], kind="stable")]
    values = score[sorted_controls].tolist()
    ids = sorted_controls.tolist()
    n = len(ids)
    right, left = list(range(n + 1)), list(range(n + 1))

    def find(parent, i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    pairs = []
    for t in _participant_order(score, treated, "random", seed).tolist():
        own = float(score[t])
        position = int(np.searchsorted(score[sorted_controls], own))
        best, best_distance = -1, float("inf")
        r = find(right, position)
        if r < n:
            best, best_distance = r, values[r] - own
        lft = find(left, position) - 1
        if lft >= 0:
            distance = own - values[lft]
            if distance < best_distance - NOISE or (
                    distance <= best_distance + NOISE and ids[lft] < ids[best]):
                best, best_distance = lft, distance
        if best < 0 or best_distance > caliper + NOISE:
            continue
        pairs.append((t, ids[best]))
        right[best] = best + 1
        left[best + 1] = best
    return pairs


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 300), st.floats(0.05, 0.9), st.integers(0, 10_000),
       st.booleans())
def test_matching_pairs_are_those_of_the_list_loop(n, share, seed, rounded):
    rng = np.random.default_rng(seed)
    score = rng.normal(size=n)
    if rounded:  # many exact ties between comparison people
        score = np.round(score, 1)
    treated = rng.random(n) < share
    if treated.all() or not treated.any():
        treated[0] = not treated[0]
    matches = match_nearest(score, treated)
    assert list(zip(matches.treated.tolist(), matches.control.tolist(),
                    strict=True)) == _list_matching(score, treated)
