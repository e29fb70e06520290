"""Fixtures of the access tests: cheap password hashing, files beside a study path."""

from __future__ import annotations

import os

import pytest
from argon2 import PasswordHasher

from analysis.access.accounts import AccountStore
from analysis.access.audit import AuditLog

#: Hashing as the library does it, with parameters cheap enough for a fast suite (the
#: product uses argon2-cffi's defaults).
CHEAP = dict(time_cost=1, memory_cost=8 * 1024, parallelism=1)
PASSWORD = "correct horse battery staple"


def cheap_hasher() -> PasswordHasher:
    return PasswordHasher(**CHEAP)


@pytest.fixture
def db(tmp_path):
    """A study path (the database itself need not exist for the access files)."""
    return tmp_path / "study.duckdb"


@pytest.fixture
def store(db):
    return AccountStore.for_database(db, hasher=cheap_hasher())


@pytest.fixture
def audit(db):
    return AuditLog.for_database(db, durable=False)


@pytest.fixture
def permissive_umask():
    """umask 000: files the product creates must still be owner-only."""
    old = os.umask(0)
    yield
    os.umask(old)
