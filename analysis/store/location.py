"""Finding the study database: ``--db``, else ``DESIST_DB``, else ``data/demo.duckdb``."""

from __future__ import annotations

import os
from pathlib import Path

#: The demo database, relative to the working directory (the repository root).
DEFAULT_DB = Path("data") / "demo.duckdb"
DB_ENV_VAR = "DESIST_DB"


def resolve_db_path(db: str | os.PathLike[str] | None = None) -> Path:
    """Return the database path every entry point uses.

    Parameters
    ----------
    db
        An explicit path (the CLI's ``--db``). When ``None`` the ``DESIST_DB``
        environment variable is used, and when that is unset or empty the demo
        database ``data/demo.duckdb``.

    Examples
    --------
    >>> str(resolve_db_path("study.duckdb"))
    'study.duckdb'
    """
    if db is not None and str(db) != "":
        return Path(db)
    from_env = os.environ.get(DB_ENV_VAR, "").strip()
    if from_env:
        return Path(from_env)
    return DEFAULT_DB
