from __future__ import annotations

import pytest

from analysis.demo import DEFAULT_RELEASES, DemoGenerator

from .episodes import episodes, read_dataset

#: Seeds and sizes are fixed so every test is deterministic.
SMALL_SEED, SMALL_RELEASES = 5, 12_000
#: The large sample has the size of the shipped demo. Its seed was picked from a
#: calibration run (docs/demo-data.md: 96.4% of 840 intervals over 40 seeds covered the
#: truth, no coefficient biased) as one where no interval lies within a hair of the
#: truth (all |z| < 1.4), so that tiny numerical changes in the Cox engine cannot flip
#: the coverage tests. The default seed's own results are tabled in the docs.
LARGE_SEED, LARGE_RELEASES = 27, DEFAULT_RELEASES


@pytest.fixture(scope="session")
def small_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_small")
    DemoGenerator(seed=SMALL_SEED).generate(out, releases=SMALL_RELEASES)
    return out


@pytest.fixture(scope="session")
def small(small_dir):
    return read_dataset(small_dir)


@pytest.fixture(scope="session")
def small_episodes(small):
    return episodes(small)


@pytest.fixture(scope="session")
def large_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_large")
    DemoGenerator(seed=LARGE_SEED).generate(out, releases=LARGE_RELEASES)
    return out


@pytest.fixture(scope="session")
def large(large_dir):
    return read_dataset(large_dir)
