"""Import memory that does not grow with the country (issue 12, item 10).

The figures themselves are measured by ``benchmarks/bench_import.py``; these tests pin
the mechanisms: no Python object per person kept by the pseudonymizer, a bounded default
for DuckDB's memory, and all or nothing although each table is committed on its own.
"""

from __future__ import annotations

import gc
import hmac
import tracemalloc

import duckdb
import pandas as pd
import pytest

from analysis.errors import DesistError
from analysis.ingest import import_dataset
from analysis.ingest.importer import DEFAULT_IMPORT_MEMORY_MB, import_memory_mb
from analysis.ingest.pseudonymize import Pseudonymizer
from tests.ingest.conftest import TODAY, write_dataset

KEY = bytes(range(32))


def _expected(raw: str) -> str:
    return hmac.digest(KEY, raw.strip().encode("utf-8"), "sha256").hex()


def test_pseudonymizer_keeps_no_python_string_per_person_between_tables():
    ids = pd.Series([f"PERSON-{i:07d}" for i in range(100_000)], dtype="str")
    pseudonymizer = Pseudonymizer(KEY)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = pseudonymizer.series(ids)
        del result
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # A dict of 100,000 raw ids and their 64-digit pseudonyms held about 20 MB of Python
    # objects; the Arrow arrays that replace it are not Python objects at all.
    assert kept < 2_000_000, f"{kept:,} bytes of Python objects kept"


def test_pseudonymizer_gives_the_keyed_hash_across_calls_and_keeps_missing_values():
    pseudonymizer = Pseudonymizer(KEY)
    first = pseudonymizer.series(pd.Series(["A-1", " A-1 ", None, "Ä-2"], index=[7, 8, 9, 10]))
    assert first.index.tolist() == [7, 8, 9, 10]
    assert first[7] == first[8] == _expected("A-1")
    assert pd.isna(first[9])
    assert first[10] == _expected("Ä-2")
    # ids seen before (from the cache) and new ones in the same call
    second = pseudonymizer.series(pd.Series(["Ä-2", "B-3", "A-1", "B-3"]))
    assert second.tolist() == [_expected("Ä-2"), _expected("B-3"), _expected("A-1"),
                               _expected("B-3")]
    assert pseudonymizer.series(pd.Series([], dtype="str")).tolist() == []
    assert pseudonymizer.one("B-3") == _expected("B-3")


def test_duckdb_memory_for_an_import_is_bounded_by_default(monkeypatch):
    # Half of the machine's memory let DuckDB take about 10 GB at 10M releases.
    monkeypatch.delenv("DESIST_IMPORT_MEMORY_MB", raising=False)
    assert import_memory_mb() <= DEFAULT_IMPORT_MEMORY_MB == 4000


def _tables(db) -> dict[str, list]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            name: con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall()
            for name in ("releases", "participation", "events", "release_follow_up")
        }


@pytest.mark.parametrize("failing_step", ["refresh_follow_up", "verify_follow_up"])
def test_a_failure_after_the_tables_are_committed_changes_nothing(tmp_path, db, monkeypatch,
                                                                  failing_step):
    import analysis.ingest.importer as importer

    import_dataset(write_dataset(tmp_path / "first"), db, today=TODAY)
    before = _tables(db)
    second = write_dataset(tmp_path / "second", events=(
        ("person_id", "event_date", "event_type"),
        (("PERSON-ÄÖ-000123", "2023-01-05", "rearrest"),),
    ))

    def broken(*args, **kwargs):
        raise RuntimeError("the step after the commits failed")

    monkeypatch.setattr(importer, failing_step, broken)
    with pytest.raises(RuntimeError, match="after the commits"):
        import_dataset(second, db, today=TODAY)
    assert _tables(db) == before
    assert not list(db.parent.glob("*.tmp*"))


def test_rows_inserted_in_slices_are_all_there_in_file_order(tmp_path, monkeypatch):
    import analysis.ingest.importer as importer

    whole = import_dataset(write_dataset(tmp_path / "a"), tmp_path / "whole.duckdb", today=TODAY)
    monkeypatch.setattr(importer, "_INSERT_SLICE_ROWS", 1)
    sliced = import_dataset(write_dataset(tmp_path / "b"), tmp_path / "sliced.duckdb",
                            today=TODAY, key_file=tmp_path / "whole.duckdb.key")
    assert {n: c.inserted for n, c in sliced.tables.items()} == {
        n: c.inserted for n, c in whole.tables.items()} == {
        "releases": 4, "programs": 2, "participation": 2, "events": 3}

    def rows(db):
        with duckdb.connect(str(db), read_only=True) as con:
            return {name: con.execute(f"SELECT * EXCLUDE (batch_id) FROM {name} ORDER BY rowid"
                                      ).fetchall()
                    for name in ("releases", "programs", "participation", "events")}

    assert rows(tmp_path / "sliced.duckdb") == rows(tmp_path / "whole.duckdb")


def test_a_commit_that_runs_out_of_memory_is_a_user_error_naming_the_setting(
        dataset, db, monkeypatch):
    import analysis.ingest.importer as importer

    def commit_out_of_memory(con, batch_id):
        # What DuckDB raises when a COMMIT cannot allocate (seen at 10M with 2 GB).
        raise duckdb.TransactionException(
            "TransactionContext Error: Failed to commit: failed to allocate data of size "
            "128.0 KiB (1.8 GiB/1.8 GiB used)")

    monkeypatch.setattr(importer, "refresh_follow_up", commit_out_of_memory)
    monkeypatch.setenv("DESIST_IMPORT_MEMORY_MB", "700")
    with pytest.raises(DesistError, match="700 MB.*DESIST_IMPORT_MEMORY_MB"):
        import_dataset(dataset, db, today=TODAY)
    assert not db.exists() and not list(db.parent.glob("*.tmp*"))
