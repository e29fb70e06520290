"""Fixtures shared across the suite."""

from __future__ import annotations

import pytest
from hypothesis import settings

# Property-based tests explore the same examples on every run: a red CI run can always be
# reproduced, and a green one does not depend on luck. (Run with
# --hypothesis-profile=explore to search new examples locally.) No deadline: an example
# is not a timing test, and the first one of a language loads its Babel locale data,
# which on a busy 2-core machine takes longer than hypothesis' default 200 ms.
settings.register_profile("default", derandomize=True, deadline=None)
settings.register_profile("explore", derandomize=False, max_examples=1000, deadline=None)
settings.load_profile("default")

#: A small demo database: big enough for every analysis, quick to build (~2 s).
DEMO_RELEASES, DEMO_SEED = 8_000, 11


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory):
    """Path of a demo study database built through the normal import path."""
    from analysis.demo.build import build_demo

    db = tmp_path_factory.mktemp("demo_db") / "demo.duckdb"
    build_demo(db, releases=DEMO_RELEASES, seed=DEMO_SEED)
    return db


@pytest.fixture()
def demo_con(demo_db):
    from analysis.store import connect_readonly

    con = connect_readonly(demo_db)
    yield con
    con.close()
