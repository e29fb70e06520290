"""Fixtures shared across the suite."""

from __future__ import annotations

import pytest

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
