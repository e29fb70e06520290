"""A matched sample can make an adjustment column redundant; it is left out, not refused."""

import numpy as np

from analysis.impact.evaluation import _independent_of_earlier


def test_a_column_equal_to_an_earlier_one_in_the_sample_is_left_out():
    rng = np.random.default_rng(4)
    programme = np.repeat([1.0, 0.0], 50)
    women = (rng.random(100) < 0.3).astype(float)
    age = rng.normal(35, 8, 100)
    womens_prison = women.copy()  # every woman matched came from the women's prison
    kept = _independent_of_earlier(
        programme, [("sex[F]", women), ("age", age), ("facility[W]", womens_prison)])
    assert [name for name, _ in kept] == ["sex[F]", "age"]


def test_a_column_that_is_a_combination_of_taking_part_is_left_out():
    programme = np.repeat([1.0, 0.0], 20)
    not_programme = 1.0 - programme
    age = np.linspace(20, 60, 40)
    kept = _independent_of_earlier(programme, [("other", not_programme), ("age", age)])
    assert [name for name, _ in kept] == ["age"]


def test_independent_columns_are_all_kept_in_order():
    rng = np.random.default_rng(5)
    programme = np.repeat([1.0, 0.0], 30)
    columns = [(f"x{i}", rng.normal(size=60)) for i in range(5)]
    kept = _independent_of_earlier(programme, columns)
    assert [name for name, _ in kept] == [f"x{i}" for i in range(5)]
    assert all(a is b for (_, a), (_, b) in zip(kept, columns, strict=True))
