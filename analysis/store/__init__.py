"""Data-access layer: where the study database lives, its schema, and how to open it.

Readers (dashboard, notebooks, analysis commands) always open the database
read-only with :func:`connect_readonly`. Only the importer writes, and it never
writes the live file: it builds a new file beside it and swaps it in atomically
(see :mod:`analysis.ingest.importer`), with the lock, flushes and rename of
:mod:`analysis.store.atomic`.

This layer imports nothing above it (``analysis.survival``, ``impact``, ``views``,
``ingest``, ``cli``, ``demo``): an import-linter contract in ``pyproject.toml`` checks it.
"""

from analysis.store.location import (
    DEFAULT_DB,
    NEW_DATABASE_MODE,
    database_file_mode,
    owner_only_new_files,
    resolve_db_path,
)
from analysis.store.schema import SCHEMA_VERSION, connect_readonly, migrate, schema_version

__all__ = [
    "DEFAULT_DB",
    "NEW_DATABASE_MODE",
    "SCHEMA_VERSION",
    "connect_readonly",
    "database_file_mode",
    "migrate",
    "owner_only_new_files",
    "resolve_db_path",
    "schema_version",
]
