"""The importer stores the slow pages' default views; readers use them only while current."""

from __future__ import annotations

import dataclasses
import functools
import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest

from analysis.ingest.importer import import_dataset
from analysis.store import connect_readonly
from analysis.store.codec import decode
from analysis.views import impact, programs, stored
from analysis.views.filters import ViewFilters


def _same(a, b, where="result"):
    """Deep equality of view results (tables compared with their dtypes)."""
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, obj=where)
    elif dataclasses.is_dataclass(a):
        assert type(a) is type(b), where
        for f in dataclasses.fields(a):
            _same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            _same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b, where


def test_the_import_stores_every_default_request(demo_con):
    rows = demo_con.execute("SELECT view, request FROM stored_views").fetchall()
    expected = {(stored.view_key(view), stored.request_key(ViewFilters(), options))
                for view, options in stored.default_requests(demo_con)}
    assert set(rows) == expected
    assert len(rows) == len(expected) == 5  # one per request, not one per language


def test_a_stored_result_is_what_the_view_computes_now(demo_con):
    for view, options in stored.default_requests(demo_con):
        kept = stored.lookup(demo_con, view, ViewFilters(), options)
        assert kept is not None, view
        _same(kept, view(demo_con, ViewFilters(), **options), stored.view_key(view))


def test_the_stored_impact_page_holds_no_words_and_serves_every_language(demo_con):
    [options] = [options for view, options in stored.default_requests(demo_con)
                 if view is impact.impact_page]
    assert "language" not in options
    page = stored.lookup(demo_con, impact.impact_page, ViewFilters(), options)
    assert isinstance(page.primary.headline, impact.Headline)
    headlines = {language: impact.headline_text(page.primary.headline, language)
                 for language in ("en", "fr", "ar", "ru", "sr")}
    assert len(set(headlines.values())) == 5  # one stored result, five sentences


def test_other_requests_are_computed(demo_con, monkeypatch):
    calls = []
    real = programs.program_effects

    @functools.wraps(real)  # the same qualified name, so the same stored results
    def counted(con, filters):
        calls.append(filters)
        return real(con, filters)

    women = ViewFilters.from_query({"sex": "F"})
    stored.compute(demo_con, counted, ViewFilters())
    assert calls == []  # stored
    stored.compute(demo_con, counted, women)
    assert calls == [women]  # another selection: computed
    assert stored.lookup(demo_con, programs.program_effects, ViewFilters(min_cell=20), {}) is None


def test_results_of_other_code_are_not_used(demo_con, monkeypatch):
    monkeypatch.setattr(stored, "code_version", lambda: "another version")
    assert stored.lookup(demo_con, programs.program_effects, ViewFilters(), {}) is None


@pytest.fixture()
def copied_demo(demo_db, tmp_path):
    db = tmp_path / "copy.duckdb"
    shutil.copyfile(demo_db, db)
    shutil.copy(f"{demo_db}.key", f"{db}.key")  # keeps the key owner-only (else refused)
    return db


def _small_dataset(folder):
    folder.mkdir()
    (folder / "releases.csv").write_text(
        "release_id,person_id,release_date,facility,follow_up_end\n"
        "NEW-1,NEW-P1,2021-03-04,North,2023-12-31\n")
    return folder


def test_results_stored_before_a_later_import_are_not_used(copied_demo, tmp_path):
    import_dataset(_small_dataset(tmp_path / "more"), copied_demo)
    con = connect_readonly(copied_demo)
    try:
        assert con.execute("SELECT count(*) FROM stored_views").fetchone()[0] > 0
        assert stored.lookup(con, programs.program_effects, ViewFilters(), {}) is None
    finally:
        con.close()


def test_a_failing_view_is_left_out_and_the_import_stands(copied_demo, tmp_path, monkeypatch):
    @functools.wraps(programs.program_effects)
    def broken(con, filters):
        raise RuntimeError("no luck")

    monkeypatch.setattr(programs, "program_effects", broken)
    with pytest.warns(UserWarning, match="program_effects was not computed: no luck"):
        report = import_dataset(_small_dataset(tmp_path / "more"), copied_demo,
                                after_commit=stored.store_default_views)
    assert report.tables["releases"].inserted == 1
    con = connect_readonly(copied_demo)
    try:
        views = {v for (v,) in con.execute("SELECT view FROM stored_views").fetchall()}
        assert views == {"programs:completion_outcomes", "impact:impact_page",
                         "planning:planning_forecast", "services:services_comparison"}
        assert stored.lookup(con, programs.completion_outcomes, ViewFilters(),
                             {"horizon_days": 365}) is not None
    finally:
        con.close()


def test_a_database_from_before_stored_views_is_read_as_before():
    con = duckdb.connect()
    con.execute("CREATE TABLE import_log (batch_id VARCHAR, finished_at TIMESTAMP)")
    assert stored.lookup(con, programs.program_effects, ViewFilters(), {}) is None


def test_the_code_version_is_a_digest_of_the_package():
    version = stored.code_version()
    assert len(version) == 16 and int(version, 16) >= 0


def test_a_view_the_data_cannot_give_yet_is_left_out_quietly(tmp_path, monkeypatch):
    import warnings

    from analysis.errors import AnalysisError

    def not_yet(con, filters):
        raise AnalysisError("no releases match the selection")

    db = tmp_path / "study.duckdb"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # One release: no warning.
        import_dataset(_small_dataset(tmp_path / "first"), db,
                       after_commit=stored.store_default_views)
        monkeypatch.setattr(programs, "program_effects", not_yet)
        import_dataset(_small_dataset(tmp_path / "again"), db,
                       after_commit=stored.store_default_views)
    con = connect_readonly(db)
    try:
        views = {v for (v,) in con.execute("SELECT view FROM stored_views").fetchall()}
        # no programme: no Impact page
        assert views == {"programs:completion_outcomes", "planning:planning_forecast"}
    finally:
        con.close()


def test_a_view_is_keyed_by_its_qualified_name_as_stored_before():
    """Databases stored while views were named "module:function" keep matching."""
    assert stored.view_key(programs.program_effects) == "programs:program_effects"
    assert stored.view_key(impact.impact_page) == "impact:impact_page"
    assert stored.view_key(_same) == "tests.views.test_stored:_same"


def _stored_results(db, workers):
    con = duckdb.connect(str(db))
    try:
        result = stored.store_default_views(con, workers=workers)
        rows = con.execute("SELECT view, request, result FROM stored_views").fetchall()
    finally:
        con.close()
    return result, {(view, request): text for view, request, text in rows}


def test_views_computed_two_at_a_time_are_stored_as_one_at_a_time(copied_demo):
    one, one_at_a_time = _stored_results(copied_demo, workers=1)
    two, two_at_a_time = _stored_results(copied_demo, workers=2)
    assert len(one_at_a_time) == 5 and not one.failed and not two.failed
    assert [row[:2] for row in one.stored] == [row[:2] for row in two.stored]
    assert one_at_a_time.keys() == two_at_a_time.keys()
    for request, text in one_at_a_time.items():
        _same(decode(text), decode(two_at_a_time[request]), str(request))


def test_a_failing_view_among_concurrent_ones_is_left_out_with_a_warning(copied_demo,
                                                                         monkeypatch):
    @functools.wraps(impact.impact_page)
    def broken(con, filters, **options):
        raise RuntimeError("no luck")

    monkeypatch.setattr(impact, "impact_page", broken)
    with pytest.warns(UserWarning, match="impact_page was not computed: no luck"):
        result, kept = _stored_results(copied_demo, workers=2)
    assert [name for name, _ in result.failed] == ["impact:impact_page"]
    assert len(kept) == 4


def test_two_views_at_a_time_only_with_two_cores_and_the_memory_for_both(demo_con,
                                                                        monkeypatch):
    releases = demo_con.execute("SELECT count(*) FROM releases").fetchone()[0]
    both = 2 * releases * stored.VIEW_BYTES_PER_RELEASE
    page = 4096
    monkeypatch.setattr(stored.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(stored.os, "sysconf", lambda name: page if name == "SC_PAGE_SIZE"
                        else (2 * both) // page + 1)
    assert stored.concurrent_views(demo_con) == 2
    monkeypatch.setattr(stored.os, "sysconf", lambda name: page if name == "SC_PAGE_SIZE"
                        else (2 * both) // page - 1)
    assert stored.concurrent_views(demo_con) == 1  # a national database on a small machine
    monkeypatch.setattr(stored.os, "sysconf", lambda name: page if name == "SC_PAGE_SIZE"
                        else 10 * both)
    monkeypatch.setattr(stored.os, "sched_getaffinity", lambda pid: {0})
    assert stored.concurrent_views(demo_con) == 1
