"""Data-access layer: where the study database lives, its schema, and how to open it.

Readers (dashboard, notebooks, analysis commands) always open the database
read-only with :func:`connect_readonly`. Only the importer writes, and it never
writes the live file: it builds a new file beside it and swaps it in atomically
(see :mod:`analysis.ingest.importer`).
"""

from analysis.store.location import DEFAULT_DB, resolve_db_path
from analysis.store.schema import SCHEMA_VERSION, connect_readonly, migrate, schema_version

__all__ = [
    "DEFAULT_DB",
    "SCHEMA_VERSION",
    "connect_readonly",
    "migrate",
    "resolve_db_path",
    "schema_version",
]
