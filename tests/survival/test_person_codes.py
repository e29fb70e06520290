"""People's integer codes are pandas.factorize's, whether or not the fast way applies."""

import hashlib

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.survival import person_codes as module
from analysis.survival.person_codes import person_codes


def _pseudonym(i: int) -> str:
    return hashlib.sha256(str(i).encode()).hexdigest()


def _chunked(values: list[str], cuts: list[int]) -> pd.Series:
    """The ids as pandas Arrow strings in several chunks, as DuckDB hands them over."""
    edges = sorted({0, len(values), *(c % (len(values) + 1) for c in cuts)})
    chunks = [pa.array(values[a:b], type=pa.large_string())
              for a, b in zip(edges[:-1], edges[1:], strict=True)]
    return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(chunks, pa.large_string())))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=80),
       st.lists(st.integers(0, 100), max_size=4),
       st.sampled_from(["pseudonyms", "shared_prefix", "upper_case", "short", "mixed"]))
def test_codes_are_those_of_factorize(people, cuts, kind):
    """Pseudonyms (fast way), pseudonyms sharing their first 16 or 32 characters, upper
    and lower case of one pseudonym, and other ids all get factorize's codes."""
    def name(i: int) -> str:
        full = _pseudonym(i)
        if kind == "shared_prefix":  # two people in three share the first 32 characters
            return full[:32] + _pseudonym(i % 3)[32:] if i % 3 else "a" * 32 + full[32:]
        if kind == "upper_case" and i % 2:
            return _pseudonym(i - 1).upper()
        if kind == "short":
            return f"P-{i}"
        if kind == "mixed" and i % 5 == 0:
            return f"P-{i}"
        return full

    values = [name(i) for i in people]
    ids = _chunked(values, cuts)
    np.testing.assert_array_equal(person_codes(ids), pd.factorize(pd.Series(values))[0])


def test_pseudonyms_take_the_fast_way():
    """Sixty-four-character ids in several chunks are read as words, not as text."""
    ids = _chunked([_pseudonym(i % 7) for i in range(50)], [10, 30])
    words = module._pseudonym_words(ids)
    assert words is not None and sum(len(w) for w in words) == 50
    codes = module._word_codes(words)
    np.testing.assert_array_equal(codes, np.arange(50) % 7)


def test_ids_that_share_their_folded_words_are_told_apart():
    """Two different pseudonyms with the same first 16 characters share the folded
    number: the check sees it and the text decides."""
    first, second = "0" * 16 + _pseudonym(1)[16:], "0" * 16 + _pseudonym(2)[16:]
    ids = _chunked([first, second, first], [])
    assert module._word_codes(module._pseudonym_words(ids)) is None
    assert person_codes(ids).tolist() == [0, 1, 0]


def test_missing_ids_are_factorized_as_text():
    ids = pd.Series([_pseudonym(1), None, _pseudonym(1)], dtype="str")
    assert module._pseudonym_words(ids) is None
    np.testing.assert_array_equal(person_codes(ids), pd.factorize(ids)[0])


def test_no_ids_no_codes():
    assert person_codes(pd.Series([], dtype="str")).tolist() == []
