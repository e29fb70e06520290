"""Pseudonymization: raw person ids never reach the database; the key links imports."""

from __future__ import annotations

import hmac
import stat

import duckdb
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.ingest import import_dataset
from analysis.ingest.pseudonymize import (
    Pseudonymizer,
    PseudonymKeyError,
    _HmacSha256,
    default_key_path,
    load_or_create_key,
)
from tests.ingest.conftest import PERSONS, TODAY, file_digest, folder_state


def _persons(db) -> set[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT person_id FROM releases UNION SELECT person_id FROM events "
            "UNION SELECT person_id FROM participation"
        ).fetchall()
    finally:
        con.close()
    return {r[0] for r in rows}


def test_raw_person_ids_never_reach_the_database_file(dataset, db):
    import_dataset(dataset, db, today=TODAY)
    # The importer checkpoints before the atomic swap: no write-ahead log is left behind.
    assert not db.with_name(db.name + ".wal").exists()
    con = duckdb.connect(str(db))
    con.execute("CHECKPOINT")
    con.close()
    assert not db.with_name(db.name + ".wal").exists()
    raw = db.read_bytes()
    for person in PERSONS:
        for encoding in ("utf-8", "utf-16-le", "latin-1"):
            assert person.encode(encoding) not in raw, (person, encoding)
        # Nor a recognisable part of it.
        assert person.split("-")[-1].encode() not in raw
    stored = _persons(db)
    assert len(stored) == 3
    assert all(len(p) == 64 and int(p, 16) >= 0 for p in stored)
    assert not set(PERSONS) & stored


def test_no_raw_id_in_any_file_beside_the_database(dataset, db):
    import_dataset(dataset, db, today=TODAY)
    for path in db.parent.iterdir():
        content = path.read_bytes()
        for person in PERSONS:
            assert person.encode("utf-8") not in content, path.name


def test_same_raw_id_and_key_give_the_same_pseudonym_across_imports(tmp_path, dataset):
    key = tmp_path / "secret.key"
    first, second = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    import_dataset(dataset, first, key_file=key, today=TODAY)
    import_dataset(dataset, second, key_file=key, today=TODAY)
    assert _persons(first) == _persons(second)
    pseudonymizer = Pseudonymizer(load_or_create_key(key, create=False))
    assert _persons(first) == {pseudonymizer.one(p) for p in PERSONS}


def test_a_different_key_gives_unlinkable_pseudonyms(tmp_path, dataset):
    first, second = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    import_dataset(dataset, first, today=TODAY)
    import_dataset(dataset, second, today=TODAY)
    assert not _persons(first) & _persons(second)


def test_key_file_is_created_beside_the_database_with_mode_0600(dataset, db):
    import_dataset(dataset, db, today=TODAY)
    key = default_key_path(db)
    assert key == db.parent / "study.duckdb.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(bytes.fromhex(key.read_text().strip())) == 32


def test_key_file_option_is_honoured(tmp_path, dataset, db):
    key = tmp_path / "keys" / "project.key"
    import_dataset(dataset, db, key_file=key, today=TODAY)
    assert key.exists() and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert not default_key_path(db).exists()


def test_desist_key_file_environment_variable_is_honoured(tmp_path, dataset, db, monkeypatch):
    key = tmp_path / "env.key"
    monkeypatch.setenv("DESIST_KEY_FILE", str(key))
    import_dataset(dataset, db, today=TODAY)
    assert key.exists() and not default_key_path(db).exists()
    pseudonymizer = Pseudonymizer(load_or_create_key(key, create=False))
    assert pseudonymizer.one(PERSONS[0]) in _persons(db)


def test_explicit_key_file_wins_over_the_environment(tmp_path, dataset, db, monkeypatch):
    monkeypatch.setenv("DESIST_KEY_FILE", str(tmp_path / "env.key"))
    import_dataset(dataset, db, key_file=tmp_path / "cli.key", today=TODAY)
    assert (tmp_path / "cli.key").exists() and not (tmp_path / "env.key").exists()


def test_import_with_a_different_key_is_refused_and_changes_nothing(tmp_path, dataset, db):
    import_dataset(dataset, db, today=TODAY)
    before = folder_state(db.parent)
    other = tmp_path / "other.key"
    other.write_text("ab" * 32 + "\n")
    with pytest.raises(PseudonymKeyError, match="not the key"):
        import_dataset(dataset, db, key_file=other, today=TODAY)
    assert folder_state(db.parent) == before


def test_import_without_the_key_is_refused_and_changes_nothing(tmp_path, dataset, db):
    import_dataset(dataset, db, today=TODAY)
    default_key_path(db).rename(tmp_path / "moved.key")
    before = file_digest(db)
    with pytest.raises(PseudonymKeyError, match="--key-file"):
        import_dataset(dataset, db, today=TODAY)
    assert file_digest(db) == before
    assert not default_key_path(db).exists()  # never silently replaced by a new key
    import_dataset(dataset, db, key_file=tmp_path / "moved.key", today=TODAY)


@pytest.mark.parametrize("content", ["not hex at all", "abcd"])
def test_damaged_key_file_is_refused(tmp_path, dataset, db, content):
    key = tmp_path / "bad.key"
    key.write_text(content)
    with pytest.raises(PseudonymKeyError):
        import_dataset(dataset, db, key_file=key, today=TODAY)
    assert not db.exists()


def test_pseudonyms_ignore_surrounding_spaces_and_keep_missing_values():
    import pandas as pd

    p = Pseudonymizer(bytes(range(32)))
    out = p.series(pd.Series(["A-1", " A-1 ", None, "B-2"]))
    assert out[0] == out[1] != out[3]
    assert out[2] is None or pd.isna(out[2])
    assert out[0] == p.one("A-1")


def test_database_stores_a_fingerprint_not_the_key(dataset, db):
    import_dataset(dataset, db, today=TODAY)
    key_hex = default_key_path(db).read_text().strip()
    assert key_hex.encode() not in db.read_bytes()
    assert bytes.fromhex(key_hex) not in db.read_bytes()


def test_refused_first_import_leaves_no_key_and_no_database(tmp_path, db):
    from tests.ingest.conftest import replace_cell, write_dataset

    folder = write_dataset(tmp_path / "bad", releases=replace_cell("releases", 0, "sex", "Q"))
    from analysis.errors import InvalidDatasetError

    with pytest.raises(InvalidDatasetError):
        import_dataset(folder, db, today=TODAY)
    left = sorted(p.name for p in db.parent.iterdir())
    assert left == ["study.duckdb.lock"]  # the lock file only; no key, no database


def test_key_file_that_appears_meanwhile_is_never_overwritten(tmp_path):
    from analysis.ingest.pseudonymize import new_key, save_new_key

    path = tmp_path / "k.key"
    save_new_key(path, new_key())
    before = path.read_bytes()
    with pytest.raises(PseudonymKeyError, match="appeared"):
        save_new_key(path, new_key())
    assert path.read_bytes() == before


@settings(max_examples=300, deadline=None)
@given(key=st.binary(min_size=0, max_size=200), message=st.binary(max_size=300))
def test_the_keyed_hash_is_hmac_sha256_for_any_key_and_message(key, message):
    # Keys longer than SHA-256's block (64 bytes) are hashed first: both sides of it.
    assert _HmacSha256(key).digest(message) == hmac.digest(key, message, "sha256")


def test_pseudonyms_are_the_hex_hmac_of_the_trimmed_utf8_id():
    key = bytes(range(32))
    pseudonymizer = Pseudonymizer(key)
    for raw in ("P-0001", " Ђорђе-7 ", "ملف٣"):
        expected = hmac.digest(key, raw.strip().encode("utf-8"), "sha256").hex()
        assert pseudonymizer.one(raw) == expected
        assert pseudonymizer.series(pd.Series([raw])).iloc[0] == expected
